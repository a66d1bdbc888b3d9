package pngdecode

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// inflate decodes the zlib stream src (RFC 1950, deflate inside, RFC
// 1951) into dst, which it must fill exactly: the whole of a PNG's image
// data is one flat buffer, so a back-reference is a copy within it, with
// no sliding window to keep and no copy out of one (what a stream
// decoder behind io.Reader costs). The stream must end with its Adler-32
// at the end of src: inflate returns it, for the caller to check against
// dst (unfilterRows sums the rows as it reads them).
//
// It accepts what compress/zlib accepts and nothing more: the same header
// checks, complete Huffman codes only (but a single code of one bit), at
// most 286 literal/length and 30 distance codes, no distance before the
// start of the data. A stream it refuses is refused by image/png too, or
// decoded by it on the fallback path.
func inflate(dst, src []byte) (adler uint32, err error) {
	if len(src) < 2 {
		return 0, errors.New("decode png: zlib header: not enough data")
	}
	cmf, flg := src[0], src[1]
	if cmf&0x0f != 8 || cmf>>4 > 7 || (uint(cmf)<<8|uint(flg))%31 != 0 {
		return 0, errors.New("decode png: zlib header: invalid")
	}
	if flg&0x20 != 0 {
		return 0, errors.New("decode png: zlib header: preset dictionary")
	}
	in := inflateState{src: src, pos: 2, dst: dst}
	if err := in.run(); err != nil {
		return 0, err
	}
	// The Adler-32, at the next byte boundary, ends src.
	if in.pad > in.nb {
		return 0, errNotEnoughData
	}
	in.nb -= in.nb % 8
	p := in.pos - int(in.nb-in.pad)/8
	switch {
	case p+4 > len(src):
		return 0, errors.New("decode png: end of image data: no checksum")
	case p+4 < len(src):
		return 0, errors.New("decode png: bytes after the zlib stream")
	}
	return binary.BigEndian.Uint32(src[p:]), nil
}

var (
	errNotEnoughData = errors.New("decode png: not enough pixel data")
	errTooMuchData   = errors.New("decode png: end of image data: too much pixel data")
	errCorrupt       = errors.New("decode png: inflate image data: corrupt deflate stream")
)

// inflateState is the state of inflate: the input and its bit buffer, the
// output written so far.
type inflateState struct {
	src []byte
	pos int // the next byte of src to enter the bit buffer
	// bits holds nb bits of the stream, the next one lowest. Past the
	// end of src it is filled with zeros, pad bits of them: reading one
	// of those is reading past the end (checked where a block ends).
	bits    uint64
	nb, pad uint
	dst     []byte
	out     int // bytes of dst written

	lit, dist, clen huffman
	lens            [288 + 32]uint8 // a fixed block's are the most
}

const (
	maxLit  = 286
	maxDist = 30
	// tableBits is the width of the first-level look-up of a Huffman
	// code; longer codes (rare: rare symbols) are decoded bit by bit.
	tableBits = 10
)

// refill makes nb ≥ 56.
func (f *inflateState) refill() {
	if f.nb >= 56 {
		return
	}
	if f.pos+8 <= len(f.src) {
		// The bits above nb are either zeros or the very bytes loaded
		// again here: a whole word at a time, advancing by the bytes that
		// fit.
		f.bits |= binary.LittleEndian.Uint64(f.src[f.pos:]) << f.nb
		f.pos += int(63-f.nb) >> 3
		f.nb |= 56
		return
	}
	for f.nb < 56 {
		if f.pos < len(f.src) {
			f.bits |= uint64(f.src[f.pos]) << f.nb
			f.pos++
		} else {
			f.pad += 8
		}
		f.nb += 8
	}
}

// take consumes n ≤ nb bits and returns them.
func (f *inflateState) take(n uint) uint {
	v := uint(f.bits) & (1<<n - 1)
	f.bits >>= n
	f.nb -= n
	return v
}

func (f *inflateState) run() error {
	for {
		f.refill()
		final := f.take(1)
		var err error
		switch f.take(2) {
		case 0:
			err = f.stored()
		case 1:
			f.fixed()
			err = f.block()
		case 2:
			if err = f.dynamic(); err == nil {
				err = f.block()
			}
		default:
			err = errCorrupt
		}
		if f.pad > f.nb {
			err = errNotEnoughData // it read past the end of src
		}
		if err != nil {
			return err
		}
		if final == 1 {
			if f.out != len(f.dst) {
				return errNotEnoughData
			}
			return nil
		}
	}
}

// stored copies a stored block: back to whole bytes of src.
func (f *inflateState) stored() error {
	if f.pad > f.nb {
		return errNotEnoughData
	}
	f.nb -= f.nb % 8
	f.pos -= int(f.nb-f.pad) / 8
	f.bits, f.nb, f.pad = 0, 0, 0
	if f.pos+4 > len(f.src) {
		return errNotEnoughData
	}
	n := int(binary.LittleEndian.Uint16(f.src[f.pos:]))
	if uint16(n) != ^binary.LittleEndian.Uint16(f.src[f.pos+2:]) {
		return errCorrupt
	}
	f.pos += 4
	if f.pos+n > len(f.src) {
		return errNotEnoughData
	}
	if f.out+n > len(f.dst) {
		return errTooMuchData
	}
	f.out += copy(f.dst[f.out:], f.src[f.pos:f.pos+n])
	f.pos += n
	return nil
}

// fixed sets the codes of a fixed-Huffman block.
func (f *inflateState) fixed() {
	l := f.lens[:288+32]
	for i := range 144 {
		l[i] = 8
	}
	for i := 144; i < 256; i++ {
		l[i] = 9
	}
	for i := 256; i < 280; i++ {
		l[i] = 7
	}
	for i := 280; i < 288; i++ {
		l[i] = 8
	}
	for i := 288; i < 320; i++ {
		l[i] = 5
	}
	// Fixed codes are complete: init cannot fail.
	f.lit.init(l[:288], litEntry)
	f.dist.init(l[288:320], distEntry)
}

// clenOrder is the order of the code length code's lengths.
var clenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamic reads the codes of a dynamic-Huffman block.
func (f *inflateState) dynamic() error {
	f.refill()
	nlit := int(f.take(5)) + 257
	ndist := int(f.take(5)) + 1
	nclen := int(f.take(4)) + 4
	if nlit > maxLit || ndist > maxDist {
		return errCorrupt
	}
	var cl [19]uint8
	for i := range nclen {
		f.refill()
		cl[clenOrder[i]] = uint8(f.take(3))
	}
	if !f.clen.init(cl[:], plainEntry) {
		return errCorrupt
	}
	n := nlit + ndist
	l := f.lens[:n]
	for i := 0; i < n; {
		f.refill()
		sym, err := f.clen.decode(f)
		if err != nil {
			return err
		}
		if sym < 16 {
			l[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return errCorrupt
			}
			rep, v = 3+int(f.take(2)), l[i-1]
		case 17:
			rep = 3 + int(f.take(3))
		default:
			rep = 11 + int(f.take(7))
		}
		if i+rep > n {
			return errCorrupt
		}
		for range rep {
			l[i] = v
			i++
		}
	}
	if !f.lit.init(l[:nlit], litEntry) || !f.dist.init(l[nlit:n], distEntry) {
		return errCorrupt
	}
	return nil
}

// Entry flags of a literal/length table: a literal, the end of the
// block, a length (its extra bits below the flags), an invalid symbol.
const (
	flagLiteral = 0x80
	flagEnd     = 0x40
	flagInvalid = 0x20
)

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// An entry describes a decoded symbol: value<<16 | flags/extra<<8 |
// code length. A code length of 0 in the table means a code longer than
// tableBits.
type entry uint32

func plainEntry(sym int) entry { return entry(sym) << 16 }

func litEntry(sym int) entry {
	switch {
	case sym < 256:
		return entry(sym)<<16 | flagLiteral<<8
	case sym == 256:
		return flagEnd << 8
	case sym < 286:
		return entry(lengthBase[sym-257])<<16 | entry(lengthExtra[sym-257])<<8
	}
	return flagInvalid << 8
}

func distEntry(sym int) entry {
	if sym < 30 {
		return entry(distBase[sym])<<16 | entry(distExtra[sym])<<8
	}
	return flagInvalid << 8
}

// huffman is a canonical Huffman code: a table of its codes of up to
// tableBits bits, and for the longer ones the counts and sorted symbols
// of a bit-by-bit decode.
type huffman struct {
	table   [1 << tableBits]entry
	count   [16]uint16
	syms    [288]entry // entries in canonical order
	nsyms   int
	hasLong bool
}

// init builds the code of the given code lengths (0: unused), with
// entries made by mk. It returns false for a code compress/flate refuses:
// over-subscribed, or incomplete but for a single code of one bit.
func (h *huffman) init(lens []uint8, mk func(int) entry) bool {
	h.count = [16]uint16{}
	maxLen := 0
	for _, l := range lens {
		h.count[l]++
		maxLen = max(maxLen, int(l))
	}
	h.count[0] = 0
	h.table = [1 << tableBits]entry{}
	h.nsyms, h.hasLong = 0, maxLen > tableBits
	if maxLen == 0 {
		return true // no codes: any symbol decoded is an error
	}
	var next [16]int
	code := 0
	for l := 1; l <= maxLen; l++ {
		code <<= 1
		next[l] = code
		code += int(h.count[l])
	}
	if code != 1<<maxLen && !(code == 1 && maxLen == 1) {
		return false
	}
	// Canonical order: by length, then symbol.
	var offs [16]int // count[0] is 0: length 1 starts at 0
	for l := 1; l < 16; l++ {
		offs[l] = offs[l-1] + int(h.count[l-1])
	}
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		e := mk(sym)
		h.syms[offs[l]] = e
		offs[l]++
		h.nsyms++
		if int(l) > tableBits {
			continue
		}
		c := next[l]
		next[l]++
		r := int(bits.Reverse16(uint16(c)) >> (16 - l))
		e |= entry(l)
		for i := r; i < len(h.table); i += 1 << l {
			h.table[i] = e
		}
	}
	return true
}

// decode decodes one symbol and returns its entry's value (for the code
// length code, whose entries are plain).
func (h *huffman) decode(f *inflateState) (int, error) {
	e, err := h.entry(f)
	return int(e >> 16), err
}

// entry decodes one symbol (nb ≥ 15) and consumes its code.
func (h *huffman) entry(f *inflateState) (entry, error) {
	e := h.table[f.bits&(1<<tableBits-1)]
	n := uint(e & 0xff)
	if n == 0 {
		var ok bool
		if e, n, ok = h.long(f.bits); !ok {
			return 0, errCorrupt
		}
	}
	f.bits >>= n
	f.nb -= n
	return e &^ 0xff, nil
}

// long decodes a code longer than tableBits (or none: ok false) from the
// low bits of b, bit by bit, and returns its entry and length.
func (h *huffman) long(b uint64) (e entry, n uint, ok bool) {
	code, first, index := 0, 0, 0
	for l := 1; l <= 15; l++ {
		code |= int(b>>(l-1)) & 1
		count := int(h.count[l])
		if code-count < first {
			return h.syms[index+code-first], uint(l), true
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, 0, false
}

// block decodes the symbols of a compressed block to its end. The bit
// buffer lives in locals here (stored back on every return); refill is
// written out for the common case, 8 bytes of src left.
func (f *inflateState) block() (err error) {
	dst, out := f.dst, f.out
	src, pos := f.src, f.pos
	bits, nb := f.bits, f.nb
	lit, dist := &f.lit.table, &f.dist.table
	for {
		if nb < 56 {
			if pos+8 <= len(src) {
				bits |= binary.LittleEndian.Uint64(src[pos:]) << nb
				pos += int(63-nb) >> 3
				nb |= 56
			} else {
				f.pos, f.bits, f.nb = pos, bits, nb
				f.refill()
				pos, bits, nb = f.pos, f.bits, f.nb
			}
		}
		e := lit[bits&(1<<tableBits-1)]
		n := uint(e & 0xff)
		if n == 0 {
			var ok bool
			if e, n, ok = f.lit.long(bits); !ok {
				err = errCorrupt
				break
			}
		}
		bits >>= n
		nb -= n
		flags := uint(e>>8) & 0xff
		if flags&flagLiteral != 0 {
			if out >= len(dst) {
				err = errTooMuchData
				break
			}
			dst[out] = byte(e >> 16)
			out++
			continue
		}
		if flags&(flagEnd|flagInvalid) != 0 {
			if flags&flagInvalid != 0 {
				err = errCorrupt
			}
			break
		}
		length := int(e>>16) + int(uint(bits)&(1<<flags-1))
		bits >>= flags
		nb -= flags
		// 20 bits at most so far: 36 left for the distance's 15 + 13.
		d := dist[bits&(1<<tableBits-1)]
		n = uint(d & 0xff)
		if n == 0 {
			var ok bool
			if d, n, ok = f.dist.long(bits); !ok {
				err = errCorrupt
				break
			}
		}
		bits >>= n
		nb -= n
		dflags := uint(d>>8) & 0xff
		if dflags&flagInvalid != 0 {
			err = errCorrupt
			break
		}
		dd := int(d>>16) + int(uint(bits)&(1<<dflags-1))
		bits >>= dflags
		nb -= dflags
		if dd > out {
			err = errCorrupt
			break
		}
		if out+length > len(dst) {
			err = errTooMuchData
			break
		}
		from := out - dd
		switch {
		case dd >= 8 && out+length+8 <= len(dst):
			// 8 bytes at a time, each read written already (dd ≥ 8); up
			// to 7 bytes past the match, overwritten by what follows.
			for k := 0; k < length; k += 8 {
				binary.LittleEndian.PutUint64(dst[out+k:], binary.LittleEndian.Uint64(dst[from+k:]))
			}
		case length <= 32:
			for k := range length {
				dst[out+k] = dst[from+k]
			}
		default:
			// Overlapping when dd < length: the copy repeats the last
			// dd bytes, a whole number of periods per copy.
			for k := 0; k < length; {
				k += copy(dst[out+k:out+length], dst[from:out+k])
			}
		}
		out += length
	}
	f.out, f.pos, f.bits, f.nb = out, pos, bits, nb
	return err
}

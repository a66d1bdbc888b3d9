package pngdecode

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"hash/adler32"
	"io"
	"math/rand/v2"
	"testing"
)

// stdInflate is what compress/zlib makes of src when exactly n bytes are
// wanted: the bytes, or an error when the stream does not hold exactly n
// bytes, its checksum is wrong, or bytes follow it.
func stdInflate(src []byte, n int) ([]byte, error) {
	r := bytes.NewReader(src)
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, err
	}
	var one [1]byte
	if k, err := io.ReadFull(zr, one[:]); k != 0 || err != io.EOF {
		return nil, errors.New("more data or a bad checksum")
	}
	if r.Len() != 0 {
		return nil, errors.New("bytes after the stream")
	}
	return out, nil
}

// inflateChecked is inflate with its Adler-32 checked, as Decode does.
func inflateChecked(dst, src []byte) error {
	want, err := inflate(dst, src)
	if err != nil {
		return err
	}
	if adler32.Checksum(dst) != want {
		return errors.New("invalid checksum")
	}
	return nil
}

// sameAsStd fails unless inflate gives compress/zlib's bytes, or refuses
// what it refuses.
func sameAsStd(t *testing.T, src []byte, n int) {
	t.Helper()
	want, wantErr := stdInflate(src, n)
	got := make([]byte, n)
	err := inflateChecked(got, src)
	switch {
	case err != nil && wantErr == nil:
		t.Fatalf("inflate: %v; compress/zlib decodes it", err)
	case err == nil && wantErr != nil:
		t.Fatalf("inflate accepted a stream compress/zlib refuses (%v)", wantErr)
	case err == nil && !bytes.Equal(got, want):
		t.Fatal("inflate's bytes differ from compress/zlib's")
	}
}

// compressible is n bytes that deflate finds matches in: short runs
// (overlapping copies), repeats from afar, and noise.
func compressible(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, 0, n)
	for len(b) < n {
		switch r.IntN(4) {
		case 0: // a run of one byte
			v := byte(r.IntN(256))
			for range r.IntN(300) {
				b = append(b, v)
			}
		case 1: // a repeat of earlier bytes
			if len(b) > 0 {
				from := r.IntN(len(b))
				b = append(b, b[from:min(len(b), from+r.IntN(400))]...)
			}
		default:
			for range r.IntN(50) {
				b = append(b, byte(r.IntN(16)))
			}
		}
	}
	return b[:n]
}

func zlibLevel(tb testing.TB, data []byte, level int) []byte {
	tb.Helper()
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, level)
	if err != nil {
		tb.Fatal(err)
	}
	zw.Write(data)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return z.Bytes()
}

// zlibFlushed is data compressed at level 5 with a Flush (an empty
// stored block, its length at the next byte boundary) after every chunk
// of the given size: Huffman blocks and stored ones interleaved.
func zlibFlushed(tb testing.TB, data []byte, chunk int) []byte {
	tb.Helper()
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, 5)
	if err != nil {
		tb.Fatal(err)
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		zw.Write(data[:n])
		if err := zw.Flush(); err != nil {
			tb.Fatal(err)
		}
		data = data[n:]
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return z.Bytes()
}

// TestInflateMatchesStd: streams of every kind of block (stored, fixed,
// dynamic; compress/flate's levels and Huffman-only; flushed: stored
// blocks between Huffman ones), of sizes from 0 to
// past the 32 KiB window, decode to compress/zlib's bytes; and each cut
// short, with a byte more, with a flipped bit, or asked for one byte more
// or less, is refused exactly when compress/zlib refuses it.
func TestInflateMatchesStd(t *testing.T) {
	t.Parallel()
	levels := []int{flate.NoCompression, flate.BestSpeed, 5, flate.BestCompression, flate.HuffmanOnly}
	for _, n := range []int{0, 1, 2, 17, 300, 4096, 70000, 200000} {
		data := compressible(uint64(n), n)
		for _, level := range append(levels, -10, -11) {
			var z []byte
			switch level {
			case -10: // flushed every 1000 bytes
				z = zlibFlushed(t, data, 1000)
			case -11: // flushed every 7 bytes
				if n > 4096 {
					continue
				}
				z = zlibFlushed(t, data, 7)
			default:
				z = zlibLevel(t, data, level)
			}
			got := make([]byte, n)
			if err := inflateChecked(got, z); err != nil {
				t.Fatalf("n %d level %d: %v", n, level, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("n %d level %d: wrong bytes", n, level)
			}
			sameAsStd(t, z[:len(z)-1], n)
			sameAsStd(t, z[:len(z)/2], n)
			sameAsStd(t, append(bytes.Clone(z), 0), n)
			sameAsStd(t, z, n+1)
			if n > 0 {
				sameAsStd(t, z, n-1)
			}
			r := rand.New(rand.NewPCG(uint64(n), uint64(level+2)))
			for range 20 {
				bad := bytes.Clone(z)
				bad[r.IntN(len(bad))] ^= 1 << r.IntN(8)
				sameAsStd(t, bad, n)
			}
		}
	}
}

// FuzzInflate: on any stream and length inflate agrees with compress/zlib.
func FuzzInflate(f *testing.F) {
	for i, level := range []int{flate.NoCompression, flate.BestSpeed, flate.BestCompression, flate.HuffmanOnly} {
		data := compressible(uint64(i), 1000+i*500)
		f.Add(zlibLevel(f, data, level), uint16(len(data)))
	}
	f.Fuzz(func(t *testing.T, src []byte, n uint16) {
		sameAsStd(t, src, int(n))
	})
}

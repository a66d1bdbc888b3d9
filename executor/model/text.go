package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/regen-dev/regen/executor/node"
)

// Token is one word of a parsed prompt with its emphasis weight.
type Token struct {
	Word   string
	Weight float64
}

// Emphasis factors of the prompt syntax.
const (
	emphasisUp   = 1.1 // (word)
	emphasisDown = 1.1 // [word] divides
)

// escapes hide \( \) \[ \] from the bracket parser.
var (
	escaper   = strings.NewReplacer(`\(`, "\x00\x01", `\)`, "\x00\x02", `\[`, "\x00\x03", `\]`, "\x00\x04")
	unescaper = strings.NewReplacer("\x00\x01", "(", "\x00\x02", ")", "\x00\x03", "[", "\x00\x04", "]")
)

// ParsePrompt splits a prompt into lower-case words with ComfyUI's emphasis
// weights: (word) ×1.1, ((word)) ×1.21, (word:1.3) sets 1.3 (replacing the
// enclosing weight, as ComfyUI's token_weights does), [word] ÷1.1 (the A1111
// convention; ComfyUI itself keeps square brackets literal), \( and \) are
// literal characters. Words are runs of letters and digits; everything else
// separates them.
func ParsePrompt(text string) []Token {
	var out []Token
	for _, s := range weightSegments(escaper.Replace(text), 1) {
		for _, w := range strings.FieldsFunc(unescaper.Replace(s.text), notWordRune) {
			out = append(out, Token{Word: strings.ToLower(w), Weight: s.weight})
		}
	}
	return out
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

type segment struct {
	text   string
	weight float64
}

// splitGroups is ComfyUI's parse_parentheses, with '[' and ']' counted as
// brackets too: top-level bracketed groups become their own items.
func splitGroups(s string) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '[':
			if depth == 0 {
				if cur.Len() > 0 {
					out = append(out, cur.String())
				}
				cur.Reset()
			}
			cur.WriteRune(r)
			depth++
		case ')', ']':
			depth--
			cur.WriteRune(r)
			if depth == 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// weightSegments is ComfyUI's token_weights.
func weightSegments(s string, weight float64) []segment {
	var out []segment
	for _, x := range splitGroups(s) {
		n := len(x)
		switch {
		case n >= 2 && x[0] == '(' && x[n-1] == ')':
			inner := x[1 : n-1]
			w := weight * emphasisUp
			if i := strings.LastIndexByte(inner, ':'); i > 0 {
				if v, err := strconv.ParseFloat(strings.TrimSpace(inner[i+1:]), 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
					w = v
					inner = inner[:i]
				}
			}
			out = append(out, weightSegments(inner, w)...)
		case n >= 2 && x[0] == '[' && x[n-1] == ']':
			out = append(out, weightSegments(x[1:n-1], weight/emphasisDown)...)
		default:
			out = append(out, segment{x, weight})
		}
	}
	return out
}

// TextEncoder is the CLIP of a checkpoint: a bag of weighted word
// embeddings, L2-normalised.
type TextEncoder struct {
	dim   int
	words []string        // vocabulary, row order of emb
	index map[string]int  // word → row
	emb   []float32       // [V, dim]
	stop  map[string]bool // words dropped before embedding
	hash  string          // identifies the table (with LoRA deltas)
	// unknown is the weight of a word outside the vocabulary (see
	// Config.UnknownWeight); 0 ignores such words.
	unknown float64
}

// WithUnknownWeight returns a copy that embeds words outside the
// vocabulary as hashed directions of the given weight (0: ignored).
func (e *TextEncoder) WithUnknownWeight(weight float64) *TextEncoder {
	c := *e
	c.unknown = weight
	return &c
}

// HashedEmbedding returns the deterministic unit vector of dim values that
// stands for a word outside the vocabulary: FNV-1a of the word seeds a
// splitmix64 stream whose uniforms in [−1, 1) are normalised. Every word
// gets a direction of its own, the same on every machine.
func HashedEmbedding(word string, dim int) []float64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(word); i++ {
		h ^= uint64(word[i])
		h *= 1099511628211
	}
	v := make([]float64, dim)
	var n2 float64
	for i := range v {
		h += 0x9e3779b97f4a7c15
		z := h
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		v[i] = float64(float64(z>>11)/(1<<52)) - 1
		n2 += float64(v[i] * v[i])
	}
	inv := 1 / math.Sqrt(n2)
	for i := range v {
		v[i] = float64(v[i] * inv)
	}
	return v
}

var _ node.CLIP = (*TextEncoder)(nil)

// NewTextEncoder builds an encoder from a vocabulary, its embedding table
// [len(vocab), dim] and stop words.
func NewTextEncoder(vocab []string, emb []float32, dim int, stop []string, hash string) (*TextEncoder, error) {
	if dim <= 0 || len(emb) != len(vocab)*dim {
		return nil, fmt.Errorf("build text encoder: %d embedding values for %d words of dim %d", len(emb), len(vocab), dim)
	}
	e := &TextEncoder{dim: dim, words: append([]string(nil), vocab...), index: map[string]int{},
		emb: append([]float32(nil), emb...), stop: map[string]bool{}, hash: hash}
	for i, w := range vocab {
		if _, dup := e.index[w]; dup {
			return nil, fmt.Errorf("build text encoder: duplicate word %q", w)
		}
		e.index[w] = i
	}
	for _, w := range stop {
		e.stop[w] = true
	}
	return e, nil
}

// Dim returns the embedding dimension.
func (e *TextEncoder) Dim() int { return e.dim }

// Hash identifies the embedding table.
func (e *TextEncoder) Hash() string { return e.hash }

// Encoding is the detailed result of encoding a prompt.
type Encoding struct {
	Vec     []float32 // L2-normalised weighted sum; zeros when nothing is known
	Tokens  []Token   // the parsed tokens, stop words included
	Unknown []string  // words outside the vocabulary, in prompt order (hashed, or ignored when the weight is 0)
}

// EncodeDetail encodes text and reports which words were ignored.
func (e *TextEncoder) EncodeDetail(text string) Encoding {
	enc := Encoding{Tokens: ParsePrompt(text), Vec: make([]float32, e.dim)}
	acc := make([]float64, e.dim)
	for _, t := range enc.Tokens {
		if e.stop[t.Word] {
			continue
		}
		i, ok := e.index[t.Word]
		if !ok {
			enc.Unknown = append(enc.Unknown, t.Word)
			if e.unknown != 0 {
				wt := float64(t.Weight * e.unknown)
				for d, v := range HashedEmbedding(t.Word, e.dim) {
					acc[d] += float64(wt * v)
				}
			}
			continue
		}
		row := e.emb[i*e.dim : (i+1)*e.dim]
		for d, v := range row {
			acc[d] += float64(t.Weight * float64(v))
		}
	}
	var n2 float64
	for _, v := range acc {
		n2 += float64(v * v)
	}
	if n2 < 1e-12 {
		return enc
	}
	inv := 1 / math.Sqrt(n2)
	for d, v := range acc {
		enc.Vec[d] = float32(v * inv)
	}
	return enc
}

// Encode implements node.CLIP.
func (e *TextEncoder) Encode(text string) (node.Cond, error) {
	return node.Cond{Vec: e.EncodeDetail(text).Vec, Text: text}, nil
}

// withDelta returns a copy whose rows for words get scale·delta added; words
// not yet in the vocabulary are appended with a zero base row.
func (e *TextEncoder) withDelta(words []string, delta []float32, scale float64, hash string) (*TextEncoder, error) {
	if len(delta) != len(words)*e.dim {
		return nil, fmt.Errorf("apply text delta: %d values for %d words of dim %d", len(delta), len(words), e.dim)
	}
	vocab := append([]string(nil), e.words...)
	emb := append([]float32(nil), e.emb...)
	index := map[string]int{}
	for i, w := range vocab {
		index[w] = i
	}
	for j, w := range words {
		i, ok := index[w]
		if !ok {
			i = len(vocab)
			index[w] = i
			vocab = append(vocab, w)
			emb = append(emb, make([]float32, e.dim)...)
		}
		for d := 0; d < e.dim; d++ {
			emb[i*e.dim+d] = float32(float64(emb[i*e.dim+d]) + float64(scale*float64(delta[j*e.dim+d])))
		}
	}
	ne, err := NewTextEncoder(vocab, emb, e.dim, nil, hash)
	if err != nil {
		return nil, err
	}
	ne.stop = e.stop
	ne.unknown = e.unknown
	return ne, nil
}

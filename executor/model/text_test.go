package model

import (
	"math"
	"testing"
)

func TestParsePrompt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Token
	}{
		{"plain", "a Red circle", []Token{{"a", 1}, {"red", 1}, {"circle", 1}}},
		{"emphasis", "(red) circle", []Token{{"red", 1.1}, {"circle", 1}}},
		{"double", "((red)) circle", []Token{{"red", 1.1 * 1.1}, {"circle", 1}}},
		{"triple", "(((red)))", []Token{{"red", 1.1 * 1.1 * 1.1}}},
		{"explicit", "(red:1.3) circle", []Token{{"red", 1.3}, {"circle", 1}}},
		{"explicit spaces", "(red circle: 0.5 )", []Token{{"red", 0.5}, {"circle", 0.5}}},
		{"explicit replaces outer", "((red:1.5))", []Token{{"red", 1.5}}},
		{"explicit inside emphasis", "(big (red:1.5) ball)", []Token{{"big", 1.1}, {"red", 1.5}, {"ball", 1.1}}},
		{"de-emphasis", "[red] circle", []Token{{"red", 1 / 1.1}, {"circle", 1}}},
		{"double de-emphasis", "[[red]]", []Token{{"red", 1 / 1.1 / 1.1}}},
		{"mixed nesting", "([red] sky)", []Token{{"red", 1.1 / 1.1}, {"sky", 1.1}}},
		{"escaped parens", `\(red\) circle`, []Token{{"red", 1}, {"circle", 1}}},
		{"escaped inside group", `(red \(x\):1.2)`, []Token{{"red", 1.2}, {"x", 1.2}}},
		{"bad weight kept as text", "(red:abc)", []Token{{"red", 1.1}, {"abc", 1.1}}},
		{"colon at start is text", "(:1.5)", []Token{{"1", 1.1}, {"5", 1.1}}},
		{"unbalanced open", "(red circle", []Token{{"red", 1}, {"circle", 1}}},
		{"unbalanced close", "red) circle", []Token{{"red", 1}, {"circle", 1}}},
		{"punctuation", "red, blue; circle!", []Token{{"red", 1}, {"blue", 1}, {"circle", 1}}},
		{"embedding style", "embedding:foo (red)", []Token{{"embedding", 1}, {"foo", 1}, {"red", 1.1}}},
		{"empty", "", nil},
		{"comfy example", "beautiful scenery nature glass bottle landscape, , purple galaxy bottle,",
			[]Token{{"beautiful", 1}, {"scenery", 1}, {"nature", 1}, {"glass", 1}, {"bottle", 1}, {"landscape", 1}, {"purple", 1}, {"galaxy", 1}, {"bottle", 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ParsePrompt(tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("ParsePrompt(%q) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range got {
				if got[i].Word != tc.want[i].Word || math.Abs(got[i].Weight-tc.want[i].Weight) > 1e-12 {
					t.Fatalf("ParsePrompt(%q) = %v, want %v", tc.in, got, tc.want)
				}
			}
		})
	}
}

func TestTextEncoder(t *testing.T) {
	t.Parallel()
	vocab := []string{"red", "blue", "circle"}
	emb := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}
	enc, err := NewTextEncoder(vocab, emb, 3, []string{"a", "on"}, "h")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		want    []float64
		unknown []string
	}{
		{"empty is zero", "", []float64{0, 0, 0}, nil},
		{"stop words only", "a on", []float64{0, 0, 0}, nil},
		{"unknown only", "dragon", []float64{0, 0, 0}, []string{"dragon"}},
		{"one word", "a red dragon", []float64{1, 0, 0}, []string{"dragon"}},
		{"normalised", "red circle", []float64{1 / math.Sqrt2, 0, 1 / math.Sqrt2}, nil},
		{"weighted", "(red:3) circle", []float64{3 / math.Sqrt(10), 0, 1 / math.Sqrt(10)}, nil},
		{"repeated", "red red circle", []float64{2 / math.Sqrt(5), 0, 1 / math.Sqrt(5)}, nil},
		{"cancel", "(red:1) (red:-1)", []float64{0, 0, 0}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := enc.EncodeDetail(tc.in)
			for i, w := range tc.want {
				if math.Abs(float64(e.Vec[i])-w) > 1e-6 {
					t.Fatalf("Encode(%q) = %v, want %v", tc.in, e.Vec, tc.want)
				}
			}
			if len(e.Unknown) != len(tc.unknown) {
				t.Fatalf("unknown = %v, want %v", e.Unknown, tc.unknown)
			}
		})
	}
	if _, err := NewTextEncoder([]string{"a", "a"}, make([]float32, 6), 3, nil, ""); err == nil {
		t.Error("duplicate vocabulary accepted")
	}
}

// TestUnknownWords: with an unknown-word weight, words outside the
// vocabulary embed as hashed directions of their own (so every prompt
// steers); with weight 0 they are ignored as before.
func TestUnknownWords(t *testing.T) {
	t.Parallel()
	vocab := []string{"red", "blue", "circle"}
	emb := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}
	base, err := NewTextEncoder(vocab, emb, 3, []string{"a"}, "h")
	if err != nil {
		t.Fatal(err)
	}
	enc := base.WithUnknownWeight(0.5)
	if v := base.EncodeDetail("dragon").Vec; v[0] != 0 || v[1] != 0 || v[2] != 0 {
		t.Errorf("weight 0: unknown word embedded as %v", v)
	}
	dragon, fox := enc.EncodeDetail("a dragon"), enc.EncodeDetail("fox")
	if len(dragon.Unknown) != 1 || dragon.Unknown[0] != "dragon" {
		t.Errorf("unknown = %v, want [dragon]", dragon.Unknown)
	}
	h := HashedEmbedding("dragon", 3)
	for i := range h {
		if math.Abs(float64(dragon.Vec[i])-h[i]) > 1e-6 {
			t.Fatalf("\"dragon\" = %v, want its hashed direction %v", dragon.Vec, h)
		}
	}
	var dot float64
	for i := range h {
		dot += float64(dragon.Vec[i]) * float64(fox.Vec[i])
	}
	if dot > 0.999 {
		t.Errorf("dragon and fox share a direction (cos %.4f)", dot)
	}
	// known words keep their weight 1 against 0.5 for unknown ones
	mixed := enc.EncodeDetail("red dragon").Vec
	want := []float64{1 + 0.5*h[0], 0.5 * h[1], 0.5 * h[2]}
	n := math.Sqrt(want[0]*want[0] + want[1]*want[1] + want[2]*want[2])
	for i := range want {
		if math.Abs(float64(mixed[i])-want[i]/n) > 1e-6 {
			t.Fatalf("\"red dragon\" = %v, want %v", mixed, want)
		}
	}
	// pinned: the direction is part of every checkpoint's behaviour, so it
	// must not depend on the machine or change by accident
	got := HashedEmbedding("fox", 4)
	pinned := []float64{0.20275662927249205, -0.7404915570730944, 0.31413653790086443, -0.5584623879413724}
	for i := range got {
		if got[i] != pinned[i] {
			t.Fatalf("HashedEmbedding(\"fox\", 4) = %v, want %v", got, pinned)
		}
	}
}

func TestSigmas(t *testing.T) {
	t.Parallel()
	s := SD1.Sigmas()
	if len(s) != 1000 {
		t.Fatalf("len = %d", len(s))
	}
	if math.Abs(s[0]-0.029167) > 1e-5 || math.Abs(s[999]-14.614641) > 1e-5 {
		t.Errorf("σ_min %v σ_max %v, want ≈ 0.029167 and 14.614641", s[0], s[999])
	}
	for i := 1; i < len(s); i++ {
		if s[i] <= s[i-1] {
			t.Fatalf("not ascending at %d", i)
		}
	}
}

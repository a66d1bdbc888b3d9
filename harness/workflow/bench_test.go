package workflow

import (
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkConvertSD15(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "ui-sd15-default.json"))
	if err != nil {
		b.Fatal(err)
	}
	info := mustObjectInfo(b, "object-info-sd15.json")
	b.ReportAllocs()
	for b.Loop() {
		w, err := Parse("sd15", data)
		if err != nil {
			b.Fatal(err)
		}
		p, err := w.Prompt(info)
		if err != nil {
			b.Fatal(err)
		}
		if p, _, err = Pin(p, 42, info); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Hash(); err != nil {
			b.Fatal(err)
		}
	}
}

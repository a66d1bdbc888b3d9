//go:build !cuda

package cuda

import (
	"errors"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/backend"
)

func TestStubNew(t *testing.T) {
	b, err := New(Options{Device: 0})
	if b != nil {
		t.Errorf("New returned a backend %v without CUDA support", b)
	}
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("New error = %v, want one wrapping backend.ErrUnavailable", err)
	}
	for _, want := range []string{"not compiled in", "-tags cuda", "make cuda"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q does not say %q", err, want)
		}
	}
}

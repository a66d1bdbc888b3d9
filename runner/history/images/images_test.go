package images

import (
	"os"
	"reflect"
	"testing"
)

func TestPutDeduplicatesAndPruneKeepsWhatIsReferenced(t *testing.T) {
	t.Parallel()
	s := Store{Dir: t.TempDir()}
	a1, err := s.Put([]byte("png a"))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := s.Put([]byte("png a"))
	if err != nil || a2 != a1 {
		t.Fatalf("same bytes, hashes %s %s (%v)", a1, a2, err)
	}
	b, err := s.Put([]byte("png b"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(s.Path(a1)); err != nil || string(got) != "png a" {
		t.Fatalf("kept image: %q %v", got, err)
	}
	removed, err := s.Prune(map[string]bool{b: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(removed, []string{a1}) {
		t.Errorf("removed %v, want [%s]", removed, a1)
	}
	if _, err := os.Stat(s.Path(a1)); !os.IsNotExist(err) {
		t.Errorf("pruned image still there: %v", err)
	}
	if _, err := os.Stat(s.Path(b)); err != nil {
		t.Errorf("kept image gone: %v", err)
	}
	if removed, err := (Store{Dir: s.Dir + "/absent"}).Prune(nil); err != nil || len(removed) != 0 {
		t.Errorf("prune of no folder: %v %v", removed, err)
	}
}

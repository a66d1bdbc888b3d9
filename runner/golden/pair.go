package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/atomicfile"
)

// A golden is two files, <file>.png and <file>.json, and no file system
// renames two names at once. The store makes the pair change together
// anyway, by making every intermediate state recoverable:
//
//  1. the new PNG and the new record are written in full under temporary
//     names (.regen-tmp-<file>.png-*, .regen-tmp-<file>.json-*) beside the
//     golden, synced, and the directory synced: the old pair is untouched;
//  2. the temporary PNG is renamed over <file>.png;
//  3. the temporary record is renamed over <file>.json, and the directory
//     synced.
//
// A process killed after step 2 and before step 3 leaves a new PNG beside
// its old record: a torn pair. The record carries the pixel hash of its
// PNG (compare.Record.SHA256), so the tear is detected, and the complete
// new record is still there under its temporary name, so it is repaired by
// rolling forward: the temporary record whose hash matches the PNG is
// renamed over the old one. Recover does that for a whole class (approve
// and every run call it first); Load does it for the one pair it reads.
// Every other leftover (.regen-tmp-*) is removed by Recover; .gitignore
// keeps them out of commits in between.
//
// Removing a golden writes a tombstone (.regen-tmp-<file>.remove) first,
// then removes the PNG and the record, then the tombstone; Recover finishes
// a removal whose tombstone it finds.
//
// One writer at a time: approve and recovery hold an exclusive lock on
// <class>/.regen-lock (flock, released when the process dies).

// TempPrefix starts every temporary name in the golden store.
const TempPrefix = atomicfile.TempPrefix

// LockFile is the name of the lock file in a class directory.
const LockFile = ".regen-lock"

// tombstoneSuffix ends the name of a removal's tombstone.
const tombstoneSuffix = ".remove"

// ErrTorn is returned (wrapped) when a golden's PNG does not hold the
// pixels its record describes and no interrupted write explains it.
var ErrTorn = errors.New("golden PNG does not match its record")

// ErrNoRecord is returned (wrapped) when a golden PNG has no record, or a
// record no PNG: a half-present golden is an error, never "new".
var ErrNoRecord = errors.New("golden is half present")

// pngPixelSHA decodes a PNG and returns its pixel hash.
func pngPixelSHA(b []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("decode png: %w", err)
	}
	return compare.PixelSHA256(img), nil
}

// recordPixelSHA returns the pixel hash a golden record carries.
func recordPixelSHA(b []byte) (string, error) {
	r, err := DecodeRecord(b)
	if err != nil {
		return "", err
	}
	var c struct {
		SHA256 string `json:"sha256"`
	}
	if len(r.Compare) == 0 {
		return "", errors.New("golden record has no compare section")
	}
	if err := json.Unmarshal(r.Compare, &c); err != nil {
		return "", fmt.Errorf("decode golden record compare section: %w", err)
	}
	if len(c.SHA256) != 64 {
		return "", fmt.Errorf("golden record: sha256 %q is not 64 hex digits", c.SHA256)
	}
	return c.SHA256, nil
}

// CheckPair returns nil when record describes the pixels of pngBytes, and
// an error saying how they differ otherwise.
func CheckPair(pngBytes, record []byte) error {
	want, err := recordPixelSHA(record)
	if err != nil {
		return err
	}
	got, err := pngPixelSHA(pngBytes)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: the PNG's pixels hash to %.12s…, its record says %.12s…", ErrTorn, got, want)
	}
	return nil
}

// writePair replaces (or creates) the golden file in dir with pngBytes and
// record, in the order described at the top of this file.
func writePair(dir, file string, pngBytes, record []byte) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create golden directory: %w", err)
	}
	tmpPNG, err := writeTemp(dir, TempPrefix+file+".png-*", pngBytes)
	if err != nil {
		return err
	}
	tmpRec, err := writeTemp(dir, TempPrefix+file+".json-*", record)
	if err != nil {
		_ = os.Remove(tmpPNG)
		return err
	}
	if err := syncDir(dir); err != nil {
		_, _ = os.Remove(tmpPNG), os.Remove(tmpRec)
		return err
	}
	if err := os.Rename(tmpPNG, filepath.Join(dir, file+".png")); err != nil {
		_, _ = os.Remove(tmpPNG), os.Remove(tmpRec)
		return fmt.Errorf("rename golden png: %w", err)
	}
	// From here until the next rename the pair is torn; tmpRec repairs it.
	if err := os.Rename(tmpRec, filepath.Join(dir, file+".json")); err != nil {
		return fmt.Errorf("rename golden record (the next approve or run repairs it): %w", err)
	}
	return syncDir(dir)
}

// removePair removes the golden file in dir behind a tombstone.
func removePair(dir, file string) error {
	tomb := filepath.Join(dir, TempPrefix+file+tombstoneSuffix)
	if err := os.WriteFile(tomb, nil, 0o644); err != nil {
		return fmt.Errorf("write removal tombstone: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := finishRemoval(dir, file); err != nil {
		return err
	}
	if err := os.Remove(tomb); err != nil {
		return fmt.Errorf("remove tombstone: %w", err)
	}
	return nil
}

// finishRemoval removes the PNG (a golden without its PNG is gone), then
// the record.
func finishRemoval(dir, file string) error {
	for _, p := range []string{filepath.Join(dir, file+".png"), filepath.Join(dir, file+".json")} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove golden: %w", err)
		}
	}
	return syncDir(dir)
}

func writeTemp(dir, pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("create temp file: %w", err)
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// Recovery is what Recover did.
type Recovery struct {
	// Repaired lists the torn goldens rolled forward (workflow/file).
	Repaired []string
	// Removed lists the interrupted removals finished (workflow/file).
	Removed []string
	// Leftovers counts the temporary files deleted.
	Leftovers int
}

// Recover repairs what an interrupted approve left in the class directory
// (see the top of this file) and deletes every temporary file. A missing
// class directory has nothing to recover.
func (s Store) Recover() (Recovery, error) {
	if _, err := os.Stat(s.Dir()); errors.Is(err, os.ErrNotExist) {
		return Recovery{}, nil
	}
	unlock, err := lockDir(s.Dir())
	if err != nil {
		return Recovery{}, err
	}
	defer unlock()
	return s.recoverLocked()
}

func (s Store) recoverLocked() (Recovery, error) {
	var rec Recovery
	dirs, err := os.ReadDir(s.Dir())
	if err != nil {
		return rec, fmt.Errorf("recover goldens: %w", err)
	}
	// The class directory itself holds no goldens, but may hold leftovers.
	paths := []string{s.Dir()}
	for _, d := range dirs {
		if d.IsDir() {
			paths = append(paths, filepath.Join(s.Dir(), d.Name()))
		}
	}
	for _, dir := range paths {
		if err := recoverDir(dir, filepath.Base(dir), &rec); err != nil {
			return rec, fmt.Errorf("recover goldens in %s: %w", dir, err)
		}
	}
	return rec, nil
}

// recoverDir recovers one workflow directory.
func recoverDir(dir, workflow string, rec *Recovery) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var temps []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), TempPrefix) && !e.IsDir() {
			temps = append(temps, e.Name())
		}
	}
	sort.Strings(temps)
	// Finish interrupted removals first.
	for _, t := range temps {
		if file, ok := strings.CutSuffix(strings.TrimPrefix(t, TempPrefix), tombstoneSuffix); ok {
			if err := finishRemoval(dir, file); err != nil {
				return err
			}
			rec.Removed = append(rec.Removed, workflow+"/"+file)
		}
	}
	// Roll torn pairs forward.
	for _, t := range temps {
		file, ok := tempRecordOf(t)
		if !ok {
			continue
		}
		repaired, err := rollForward(dir, file, filepath.Join(dir, t))
		if err != nil {
			return err
		}
		if repaired {
			rec.Repaired = append(rec.Repaired, workflow+"/"+file)
		}
	}
	for _, t := range temps {
		err := os.Remove(filepath.Join(dir, t))
		switch {
		case err == nil:
			rec.Leftovers++
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("remove leftover: %w", err)
		}
	}
	return syncDir(dir)
}

// tempRecordOf returns the golden file a temporary record belongs to
// (.regen-tmp-<file>.json-<random>).
func tempRecordOf(name string) (string, bool) {
	rest := strings.TrimPrefix(name, TempPrefix)
	i := strings.LastIndex(rest, ".json-")
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

// rollForward renames the temporary record tmp over <file>.json when the
// pair is torn and tmp describes <file>.png's pixels. It reports whether
// it did.
func rollForward(dir, file, tmp string) (bool, error) {
	pngBytes, err := os.ReadFile(filepath.Join(dir, file+".png"))
	if err != nil {
		return false, nil // no PNG: nothing to pair the record with
	}
	if cur, err := os.ReadFile(filepath.Join(dir, file+".json")); err == nil && CheckPair(pngBytes, cur) == nil {
		return false, nil // not torn
	}
	tb, err := os.ReadFile(tmp)
	if err != nil || CheckPair(pngBytes, tb) != nil {
		return false, nil // an unfinished write's record: not the PNG's
	}
	if err := os.Rename(tmp, filepath.Join(dir, file+".json")); err != nil {
		return false, fmt.Errorf("repair torn golden %s: %w", file, err)
	}
	return true, nil
}

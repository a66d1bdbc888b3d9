package history

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/regen-dev/regen/runner/history/images"
)

// Thumbnail defaults: the longer side of a thumbnail in pixels, and the
// bytes of data URIs one page may hold in all.
const (
	DefaultThumbSize   = 48
	DefaultThumbBudget = 1 << 20
)

// Thumbs gives the thumbnails of the outputs that recorded states kept
// (runs recorded with --history-images), as data URIs for a page that
// must stay self-contained. It reads each run once and makes each
// thumbnail once. Not safe for concurrent use.
type Thumbs struct {
	Store  Store
	Images images.Store
	// Size bounds a thumbnail's longer side (default DefaultThumbSize).
	Size int
	// Budget bounds the bytes of all the data URIs Of returns, each use
	// counted (default DefaultThumbBudget); past it Of returns "", and
	// the page shows badges.
	Budget int

	runs   map[string]map[string]string // run id → case id → image hash
	thumbs map[string]string            // image hash → data URI
	used   int
}

// Of returns the thumbnail of the first kept output of st's case in st's
// run, or "" when none was kept, its image was pruned, or the budget is
// spent. An error is a store that cannot be read or an image that cannot
// be decoded; the caller may show a badge and go on.
func (t *Thumbs) Of(ctx context.Context, st State) (string, error) {
	if t.runs == nil {
		t.runs, t.thumbs = map[string]map[string]string{}, map[string]string{}
	}
	kept, ok := t.runs[st.RunID]
	if !ok {
		r, err := t.Store.Run(ctx, st.RunID)
		if err != nil {
			return "", fmt.Errorf("read kept images of run %s: %w", st.RunID, err)
		}
		kept = map[string]string{}
		for _, c := range r.Cases {
			for _, o := range c.Outputs {
				if o.Image != "" {
					kept[c.ID] = o.Image
					break
				}
			}
		}
		t.runs[st.RunID] = kept
	}
	hash := kept[st.Case]
	if hash == "" {
		return "", nil
	}
	uri, ok := t.thumbs[hash]
	if !ok {
		size := t.Size
		if size <= 0 {
			size = DefaultThumbSize
		}
		var err error
		uri, err = t.Images.Thumbnail(hash, size)
		if errors.Is(err, fs.ErrNotExist) {
			uri, err = "", nil // pruned: a badge
		}
		if err != nil {
			return "", err
		}
		t.thumbs[hash] = uri
	}
	budget := t.Budget
	if budget <= 0 {
		budget = DefaultThumbBudget
	}
	if uri == "" || t.used+len(uri) > budget {
		return "", nil
	}
	t.used += len(uri)
	return uri, nil
}

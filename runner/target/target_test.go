package target

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/system_stats" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"system": {"os": "linux"}, "devices": [{"name": "cpu", "type": "cpu"}]}`))
	}))
	t.Cleanup(ok.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL
	gone.Close()

	tests := []struct {
		name       string
		base       string
		wantErr    error
		wantParse  bool
		wantFinger string
	}{
		{name: "up", base: ok.URL + "/", wantFinger: `"os":"linux"`},
		{name: "500", base: broken.URL, wantErr: ErrUnreachable},
		{name: "refused", base: goneURL, wantErr: ErrUnreachable},
		{name: "bad url", base: "localhost:8188", wantParse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg, err := NewURL(tt.base)
			if tt.wantParse {
				if err == nil {
					t.Fatal("NewURL accepted a URL without scheme")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			eps, err := tg.Start(context.Background())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Start err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(eps) != 1 || strings.HasSuffix(eps[0].URL, "/") {
				t.Fatalf("Start = %v, %v", eps, err)
			}
			fp, err := tg.Fingerprint(context.Background())
			if err != nil || !strings.Contains(string(fp), tt.wantFinger) {
				t.Errorf("Fingerprint = %s, %v", fp, err)
			}
		})
	}
}

package deploy

import (
	"context"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
)

// BenchmarkRender measures render alone and render + validate per overlay:
//
//	go test ./runner/deploy -run '^$' -bench . -benchtime 20x
func BenchmarkRender(b *testing.B) {
	ctx := context.Background()
	for _, env := range Environments {
		dir, err := OverlayDir(testutil.Path(b, "kustomize"), env)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(env+"/render", func(b *testing.B) {
			for b.Loop() {
				if _, err := Render(ctx, dir); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(env+"/render+validate", func(b *testing.B) {
			for b.Loop() {
				if _, err := RenderAndValidate(ctx, env, dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

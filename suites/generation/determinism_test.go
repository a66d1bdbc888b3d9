package generation_test

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/harness/workflow"
)

// The determinism specs are Serial: they reason about the server's cache,
// which only holds the latest prompt's results, so no other process may
// slip a prompt in between under ginkgo -p.
var _ = Describe("Determinism", Serial, Label("determinism"), func() {
	var base workflow.Prompt
	BeforeEach(func(ctx SpecContext) {
		base = gmmBase()
		// Start every spec from an empty cache.
		Expect(cl.Free(ctx, false, true)).To(Succeed())
	})

	It("serves an identical rerun from the cache: same file, same bytes", func(ctx SpecContext) {
		first := generate(ctx, base, "det-first")
		Expect(first.result.Executed).To(ContainElement(gmmSampler), "the first run executes the sampler")
		again := generate(ctx, base, "det-again")
		Expect(again.result.Executed).To(BeEmpty(), "every node of an identical rerun comes from the cache")
		Expect(again.result.Cached).To(ConsistOf(base.IDs()), "cached nodes")
		Expect(again.ref).To(Equal(first.ref), "a cached SaveImage returns the same file")
		Expect(again.png).To(Equal(first.png))
		note("cached rerun", "%s reused, %d nodes cached", again.ref.Filename, len(again.result.Cached))
	})

	It("re-executes after POST /free and writes byte-identical PNG content", func(ctx SpecContext) {
		first := generate(ctx, base, "det-first")
		Expect(cl.Free(ctx, false, true)).To(Succeed())
		again := generate(ctx, base, "det-free")
		Expect(again.result.Executed).To(ContainElements(gmmSampler, "6", "7"), "sampler, decode and save re-ran")
		Expect(again.ref.Filename).NotTo(Equal(first.ref.Filename), "a re-executed SaveImage writes a new file")
		Expect(again.png).To(Equal(first.png), "PNG bytes of a forced re-execution")
		Expect(samePixels(again.img, first.img)).To(BeTrue())
		note("forced rerun", "%s and %s: %d identical PNG bytes", first.ref.Filename, again.ref.Filename, len(first.png))
	})

	It("re-executes after an unrelated upstream change and back, byte-identically", func(ctx SpecContext) {
		first := generate(ctx, base, "det-first")
		// The negative prompt's CLIPTextEncode is upstream of the sampler;
		// changing it evicts the base's sampler result from the cache.
		other := generate(ctx, with(base, edit{"3", "text", "blurry"}), "det-other")
		Expect(other.result.Executed).To(ContainElement(gmmSampler))
		again := generate(ctx, base, "det-back")
		Expect(again.result.Executed).To(ContainElement(gmmSampler), "the base's sampler result was evicted")
		Expect(again.ref.Filename).NotTo(Equal(first.ref.Filename))
		Expect(again.png).To(Equal(first.png), "PNG bytes after the round trip")
		Expect(other.png).NotTo(Equal(first.png), "the detour produced another image")
	})

	It("gives every prompt the same bytes when run with 3 other prompts in flight", func(ctx SpecContext) {
		prompts := []workflow.Prompt{
			base,
			with(base, edit{gmmSampler, "seed", 7}),
			with(base, edit{gmmSampler, "sampler_name", "dpmpp_2m"}, edit{gmmSampler, "seed", 3}),
			with(base, edit{gmmSampler, "sampler_name", "euler_ancestral"}, edit{gmmPositive, "text", "a small yellow square on grass"}),
		}
		serial := make([]output, len(prompts))
		for i, p := range prompts {
			serial[i] = generate(ctx, p, fmt.Sprintf("det-serial-%d", i))
		}
		Expect(cl.Free(ctx, false, true)).To(Succeed())

		concurrent := runConcurrently(ctx, prompts)
		numbers := map[string]bool{}
		for i, o := range concurrent {
			Expect(o.err).NotTo(HaveOccurred(), "prompt %d", i)
			Expect(o.out.result.Executed).To(ContainElement(gmmSampler), "prompt %d re-executed its sampler", i)
			Expect(o.out.png).To(Equal(serial[i].png), "prompt %d: PNG bytes alone vs with 3 others in flight", i)
			numbers[o.out.result.Number.String()] = true
		}
		Expect(numbers).To(HaveLen(len(prompts)), "distinct queue numbers")
		for i := 1; i < len(prompts); i++ {
			Expect(serial[i].png).NotTo(Equal(serial[0].png), "prompt %d differs from the base", i)
		}
		note("in flight", "%d prompts submitted concurrently, each byte-identical to its serial run", len(prompts))
	})
})

type concurrentResult struct {
	out output
	err error
}

// runConcurrently submits every prompt at once, each from its own goroutine
// with its own client id, and waits for all of them.
func runConcurrently(ctx context.Context, prompts []workflow.Prompt) []concurrentResult {
	out := make([]concurrentResult, len(prompts))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range prompts {
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			<-start
			out[i].out, out[i].err = tryGenerate(ctx, p, fmt.Sprintf("det-concurrent-%d", i))
		}()
	}
	close(start)
	wg.Wait()
	return out
}

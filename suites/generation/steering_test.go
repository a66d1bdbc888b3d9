package generation_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// steeringSeeds are the seeds the steering spec tries.
const steeringSeeds = 12

// redPrompt and otherPrompts differ only in the circle's colour.
const redPrompt = "a red circle on a blue sky"

var otherPrompts = []string{"a blue circle on a blue sky", "a green circle on a blue sky", "a yellow circle on a blue sky"}

var _ = Describe("Steering", Label("steering"), func() {
	// The measure is the fraction of reddish pixels (R above G and B by
	// more than 40 levels): the sky is blue in every image, so the red
	// circle is what it counts. Mean OKLab a* is reported but not judged:
	// the blue sky and a blue circle have a* of their own (blue is +a in
	// OKLab), so it does not isolate red.
	//
	// Measured (12 seeds): the red prompt beats blue on every seed on both
	// checkpoints; green and yellow sometimes land on the red-circle
	// template too (gmm: the same image, a tie; els: seed 11 green makes a
	// slightly larger red blob), so those are judged by majority.
	DescribeTable("a red prompt yields more red than other colours",
		func(ctx SpecContext, workflowFile string) {
			base := loadPrompt(workflowFile)
			wins := make([]int, len(otherPrompts))
			var redSum float64
			otherSum := make([]float64, len(otherPrompts))
			for seed := 1; seed <= steeringSeeds; seed++ {
				at := func(text string) redness {
					return measureRed(generate(ctx, with(base, edit{gmmSampler, "seed", seed}, edit{gmmPositive, "text", text}), "steer").img)
				}
				r := at(redPrompt)
				redSum += r.fraction
				line := fmt.Sprintf("seed %2d: %q %.4f (a* %+.4f)", seed, redPrompt, r.fraction, r.meanA)
				Expect(r.fraction).To(BeNumerically(">=", 0.01), "seed %d: the red prompt draws a red object", seed)
				for i, text := range otherPrompts {
					o := at(text)
					otherSum[i] += o.fraction
					line += fmt.Sprintf(" | %q %.4f (a* %+.4f)", text, o.fraction, o.meanA)
					if r.fraction > o.fraction {
						wins[i]++
					}
				}
				fmt.Fprintln(GinkgoWriter, line)
			}
			for i, text := range otherPrompts {
				note("steering", "%s: %q has more reddish pixels than %q for %d of %d seeds (mean fraction %.4f vs %.4f)",
					workflowFile, redPrompt, text, wins[i], steeringSeeds, redSum/steeringSeeds, otherSum[i]/steeringSeeds)
			}
			Expect(wins[0]).To(Equal(steeringSeeds), "seeds where red beats blue")
			for i, text := range otherPrompts {
				Expect(wins[i]).To(BeNumerically(">=", steeringSeeds*3/4), "seeds where red beats %q", text)
				Expect(redSum).To(BeNumerically(">", 3*otherSum[i]), "total reddish fraction, red vs %q", text)
			}
		},
		Entry("gmm 128²", "txt2img-gmm.json"),
		Entry("els 64²", "txt2img-els.json"),
	)
})

package generation_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// steeringSeeds is how many seeds the steering spec tries: 12, or under the
// race detector (which makes gmm about 20× and els about 30× slower) 4 on
// gmm and 2 on els, to keep the suite near a minute under -race.
func steeringSeeds(raceSeeds int) int {
	if raceEnabled {
		return raceSeeds
	}
	return 12
}

// redPrompt and otherPrompts differ only in the circle's colour.
const redPrompt = "a red circle on a blue sky"

var otherPrompts = []string{"a blue circle on a blue sky", "a green circle on a blue sky", "a yellow circle on a blue sky"}

var _ = Describe("Steering", Label("steering"), func() {
	// The measure is the fraction of reddish pixels (R above G and B by
	// more than 40 levels): the sky is blue in every image, so the red
	// circle is what it counts. Mean OKLab a* is reported but not judged:
	// the model's blue circle is violet-blue, whose a* is above the sky's,
	// so with a red object of ~3% of the pixels a* does not isolate red
	// (measured: the blue prompt's mean a* beats the red prompt's on 6 of
	// 12 seeds on gmm and 10 of 12 on els).
	//
	// Measured (12 seeds): the red prompt beats blue on every seed on both
	// checkpoints; green and yellow sometimes land on the red-circle
	// template too (gmm: the same image, a tie; els: seed 11 green makes a
	// slightly larger red blob), so those are judged by a 3/4 majority and
	// by the total reddish fraction (at least 3× the other's).
	DescribeTable("a red prompt yields more red than other colours",
		func(ctx SpecContext, workflowFile string, raceSeeds int) {
			seeds := steeringSeeds(raceSeeds)
			base := loadPrompt(workflowFile)
			wins := make([]int, len(otherPrompts))
			var redSum float64
			otherSum := make([]float64, len(otherPrompts))
			for seed := 1; seed <= seeds; seed++ {
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
					workflowFile, redPrompt, text, wins[i], seeds, redSum/float64(seeds), otherSum[i]/float64(seeds))
			}
			Expect(wins[0]).To(Equal(seeds), "seeds where red beats blue")
			for i, text := range otherPrompts {
				Expect(wins[i]).To(BeNumerically(">=", seeds*3/4), "seeds where red beats %q", text)
				Expect(redSum).To(BeNumerically(">", 3*otherSum[i]), "total reddish fraction, red vs %q", text)
			}
		},
		Entry("gmm 128²", "txt2img-gmm.json", 4),
		Entry("els 64²", "txt2img-els.json", 2),
	)
})

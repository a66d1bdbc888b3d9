// Package generation is the end-to-end generation behaviour suite (issue 3's
// "Must show"): it starts the real regen-executor on a loopback port with
// the committed closed-form checkpoints, replays txt2img-gmm / txt2img-els /
// img2img through the real client, nodes, model and SaveImage, and measures
// on the decoded PNGs that
//
//   - the same workflow run twice, and run while other prompts are in
//     flight, gives byte-identical PNGs (and a cached rerun the same file);
//   - prompt, cfg, seed, sampler, scheduler, steps and denoise each visibly
//     change the image (mean absolute difference in 8-bit levels above a
//     stated floor, never bit-identical);
//   - the prompt steers content: a "red" prompt yields more red than a
//     "blue" one for every seed tried.
//
// The suite takes about 8–13 s, and about 1 minute under -race (where the
// steering spec tries 4 gmm and 2 els seeds instead of 12; see race_test.go).
// Measured values go to GinkgoWriter and to report entries:
//
//	go test ./suites/generation -v -ginkgo.v
//	go test ./suites/generation -ginkgo.label-filter=generation -ginkgo.json-report=gen.json
package generation

// Package replay is the Ginkgo replay suite: one spec per case of the
// committed suite (fixtures/suite.yaml), labelled per workflow, sampler,
// scheduler and checkpoint mode, judged with exactly the runner's code
// (runner.Session.Case). SynchronizedBeforeSuite starts the local target
// once (or uses -replay.url) and every parallel process replays against it.
//
//	go test ./suites/replay                                  # every case
//	go test ./suites/replay -ginkgo.label-filter=smoke       # a subset
//	go test ./suites/replay -ginkgo.junit-report=junit.xml   # JUnit for CI
//	go tool ginkgo -p --label-filter='gmm && !public' ./suites/replay
package replay

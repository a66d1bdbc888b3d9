//go:build race

package replay_test

// raceEnabled is true under the race detector, which makes the executor
// several times slower.
const raceEnabled = true

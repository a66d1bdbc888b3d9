//go:build race

package generation_test

// raceEnabled is true under the race detector, which makes the executor
// several times slower; the steering spec then uses fewer seeds.
const raceEnabled = true

//go:build !race

package model

import "testing"

const raceEnabled = false

// heavyTests reports whether the multi-second sampling tests run: not under
// -short, not under the race detector (which slows the kernel ~20×).
func heavyTests() bool { return !testing.Short() && !raceEnabled }

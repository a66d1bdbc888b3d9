//go:build !race

package kernelsim_test

const raceEnabled = false

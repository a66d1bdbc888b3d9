//go:build race

package model

const raceEnabled = true

func heavyTests() bool { return false }

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// fullName is the full build's file name, next to the fast build's.
const fullName = "regen-full"

// fullBuild is the path of the full build beside this executable.
func fullBuild() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find regen's full build: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	full := filepath.Join(filepath.Dir(self), fullName)
	if _, err := os.Stat(full); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("this regen runs only `regen compare`; the other commands need %s next to it (make build), or build regen without -tags regenfast", full)
		}
		return "", fmt.Errorf("find regen's full build: %w", err)
	}
	return full, nil
}

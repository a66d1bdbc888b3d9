//go:build cuda

package cuda

import "log/slog"

// Options configure New. The same type exists in the build without the tag
// (stub.go).
type Options struct {
	// Device is the CUDA device ordinal.
	Device int
	// Precision is "fp32" (the default when empty) or "tf32".
	Precision string
	// Logger receives the device and module load messages; nil discards.
	Logger *slog.Logger
}

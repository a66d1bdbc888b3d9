package kernelsim

import (
	"fmt"
	"strings"
)

// Class is the environment class of goldens computed on a device:
// "cuda-<device-name-slug>", with "-tf32" appended for the tensor-core
// kernel (its results differ from fp32's by more than fp32's last bits, so
// the two must not share goldens).
func Class(device, precision string) string {
	var b strings.Builder
	b.WriteString("cuda-")
	dash := false
	for _, r := range strings.ToLower(device) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			if dash && b.Len() > len("cuda-") {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == len("cuda-") {
		b.WriteString("unknown")
	}
	if precision != "" && precision != "fp32" {
		b.WriteString("-" + precision)
	}
	return b.String()
}

// DriverVersion formats cuDriverGetVersion's integer (1000·major +
// 10·minor) as "CUDA major.minor".
func DriverVersion(v int) string {
	if v <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("CUDA %d.%d", v/1000, v%1000/10)
}

// PTXFor returns which embedded PTX a device of compute capability
// major.minor loads ("sm_90" or "sm_80"), or an error below 8.0: the PTX
// targets sm_80 at the lowest (the tensor-core kernel needs it, and one
// target keeps the kernels' arithmetic the same everywhere).
func PTXFor(major, minor int) (string, error) {
	switch {
	case major >= 9:
		return "sm_90", nil
	case major == 8:
		return "sm_80", nil
	}
	return "", fmt.Errorf("compute capability %d.%d: the kernels need 8.0 or newer", major, minor)
}

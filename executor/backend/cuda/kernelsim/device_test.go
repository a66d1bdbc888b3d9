package kernelsim

import "testing"

func TestClass(t *testing.T) {
	for _, c := range []struct{ device, precision, want string }{
		{"NVIDIA H200", "fp32", "cuda-nvidia-h200"},
		{"NVIDIA H100 80GB HBM3", "", "cuda-nvidia-h100-80gb-hbm3"},
		{"  NVIDIA A100-SXM4-40GB ", "tf32", "cuda-nvidia-a100-sxm4-40gb-tf32"},
		{"", "fp32", "cuda-unknown"},
	} {
		t.Run(c.want, func(t *testing.T) {
			if got := Class(c.device, c.precision); got != c.want {
				t.Errorf("Class(%q, %q) = %q, want %q", c.device, c.precision, got, c.want)
			}
		})
	}
}

func TestDriverVersion(t *testing.T) {
	for _, c := range []struct {
		v    int
		want string
	}{{12040, "CUDA 12.4"}, {11080, "CUDA 11.8"}, {13000, "CUDA 13.0"}, {-1, "unknown"}} {
		if got := DriverVersion(c.v); got != c.want {
			t.Errorf("DriverVersion(%d) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestPTXFor(t *testing.T) {
	for _, c := range []struct {
		major, minor int
		want         string
		err          bool
	}{{9, 0, "sm_90", false}, {10, 0, "sm_90", false}, {8, 9, "sm_80", false}, {8, 0, "sm_80", false}, {7, 5, "", true}} {
		got, err := PTXFor(c.major, c.minor)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("PTXFor(%d.%d) = %q, %v; want %q, error %v", c.major, c.minor, got, err, c.want, c.err)
		}
	}
}

package kernelsim

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// kernelParams lists each kernel's parameters as the Go side passes them
// (cuda/attention.go): u = a 64-bit integer or pointer, f = a float64. cu
// copies every argument as 8 bytes, so the PTX must declare nothing
// narrower, in exactly this order.
var kernelParams = map[string]string{
	// Q K bias V pmax part nq nk d dv inv2v keysPerSplit
	"attn_f32":  "uuuuuuuuuufu",
	"attn_tf32": "uuuuuuuuuufu",
	// pmax part out nq dv nz
	"attn_combine": "uuuuuu",
}

// TestPTXParams: the committed PTX for each target declares the kernels
// with 8-byte parameters matching kernelParams, and was generated for that
// target.
func TestPTXParams(t *testing.T) {
	entry := regexp.MustCompile(`(?s)\.visible \.entry (\w+)\(\s*(.*?)\)`)
	param := regexp.MustCompile(`\.param \.(\w+) \w+`)
	for _, target := range []string{"sm_80", "sm_90"} {
		t.Run(target, func(t *testing.T) {
			src, err := os.ReadFile("../kernels/attention_" + strings.ReplaceAll(target, "_", "") + ".ptx")
			if err != nil {
				t.Fatalf("read PTX: %v", err)
			}
			if !strings.Contains(string(src), "\n.target "+target+"\n") {
				t.Errorf("PTX is not for .target %s", target)
			}
			found := map[string]bool{}
			for _, m := range entry.FindAllStringSubmatch(string(src), -1) {
				name := m[1]
				want, ok := kernelParams[name]
				if !ok {
					t.Errorf("PTX has an entry %s the Go side does not know", name)
					continue
				}
				found[name] = true
				var got strings.Builder
				for _, p := range param.FindAllStringSubmatch(m[2], -1) {
					switch p[1] {
					case "u64", "s64", "b64":
						got.WriteByte('u')
					case "f64":
						got.WriteByte('f')
					default:
						got.WriteString("<" + p[1] + ">")
					}
				}
				if got.String() != want {
					t.Errorf("%s parameters %s, want %s", name, got.String(), want)
				}
			}
			for name := range kernelParams {
				if !found[name] {
					t.Errorf("PTX lacks the entry %s", name)
				}
			}
		})
	}
}

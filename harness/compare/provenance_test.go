package compare

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"reflect"
	"strings"
	"testing"
)

// pngChunk renders one PNG chunk.
func pngChunk(typ string, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(body)))
	b.WriteString(typ)
	b.Write(body)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(body)
	binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// encodePNG encodes img and inserts the given chunks before IEND.
func encodePNG(tb testing.TB, img image.Image, chunks ...[]byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatalf("encode png: %v", err)
	}
	data := b.Bytes()
	iend := len(data) - 12
	out := append([]byte{}, data[:iend]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, data[iend:]...)
}

func textChunk(key, val string) []byte {
	return pngChunk("tEXt", []byte(key+"\x00"+val))
}

func TestPNGText(t *testing.T) {
	t.Parallel()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("compressed value"))
	zw.Close()
	img := synth(1, 8, 8).quantise(nil)
	data := encodePNG(t, img,
		textChunk("prompt", `{"a":1}`),
		textChunk("prompt", `{"second":true}`),
		pngChunk("zTXt", append([]byte("z\x00\x00"), z.Bytes()...)),
		pngChunk("iTXt", []byte("i\x00\x00\x00en\x00\x00héllo")),
		pngChunk("iTXt", append([]byte("iz\x00\x01\x00\x00\x00"), z.Bytes()...)),
		textChunk("latin", "caf\xe9"),
		pngChunk("zTXt", []byte("broken\x00\x00not zlib")), // advisory: skipped
		pngChunk("tEXt", []byte("no separator")),           // advisory: skipped
		textChunk("after", "kept"),
	)
	got, err := pngText(data)
	if err != nil {
		t.Fatalf("pngText: %v", err)
	}
	want := map[string]string{
		"prompt": `{"a":1}`, "z": "compressed value", "i": "héllo", "iz": "compressed value", "latin": "café", "after": "kept",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pngText = %q, want %q", got, want)
	}
	if _, err := pngText([]byte("GIF89a")); err == nil {
		t.Error("pngText accepted a non-PNG")
	}
	if _, err := pngText(data[:40]); err == nil {
		t.Error("pngText accepted a truncated chunk")
	}
	corrupt := bytes.Clone(data)
	corrupt[bytes.Index(corrupt, []byte("latin"))] ^= 0xff
	if _, err := pngText(corrupt); err == nil || !strings.Contains(err.Error(), "crc mismatch") {
		t.Errorf("pngText of a chunk with a bad CRC = %v, want a crc mismatch", err)
	}
}

func TestProvenanceFromPrompt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []SamplerPlan
	}{
		{"api-flux-schnell.json", []SamplerPlan{{
			Node: "13", Class: "SamplerCustomAdvanced", Seed: "112298569477003", Sampler: "euler",
			Scheduler: "simple", Steps: "4", Denoise: "1", Model: "flux1-schnell-fp8.safetensors",
		}}},
		{"api-sdxl-base-refiner.json", []SamplerPlan{
			{Node: "10", Class: "KSamplerAdvanced", Seed: "42", Sampler: "euler", Scheduler: "normal",
				Steps: "20", CFG: "7.5", Range: "0..32", Model: "sd_xl_base_1.0.safetensors"},
			{Node: "14", Class: "KSamplerAdvanced", Seed: "42", Sampler: "euler", Scheduler: "normal",
				Steps: "20", CFG: "7.5", Range: "32..10000", Model: "sd_xl_refiner_1.0.safetensors"},
		}},
		{"api-sd15-lora.json", []SamplerPlan{{
			Node: "3", Class: "KSampler", Seed: "851616030078638", Sampler: "euler", Scheduler: "normal",
			Steps: "20", CFG: "8", Denoise: "1",
			Model: "v1-5-pruned-emaonly.safetensors+epiNoiseoffset_v2.safetensors@1",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatalf("read workflow: %v", err)
			}
			p, err := ProvenanceFromPrompt(data)
			if err != nil {
				t.Fatalf("ProvenanceFromPrompt: %v", err)
			}
			if !reflect.DeepEqual(p.Samplers, tt.want) {
				t.Fatalf("samplers\n got %+v\nwant %+v", p.Samplers, tt.want)
			}
		})
	}
}

func TestProvenanceValues(t *testing.T) {
	t.Parallel()
	// A seed from a primitive node, cfg written as 8.0, a custom sampler
	// with CFGGuider, and node ids that sort numerically (9 before 10).
	prompt := `{
	  "10": {"class_type": "KSampler", "inputs": {"seed": ["2", 0], "steps": 20, "cfg": 8.0,
	         "sampler_name": "euler", "scheduler": "karras", "denoise": 0.75, "model": ["1", 0]}},
	  "9":  {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["3", 0], "guider": ["4", 0],
	         "sampler": ["5", 0], "sigmas": ["6", 0]}},
	  "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a.safetensors"}},
	  "2": {"class_type": "Seed", "inputs": {"seed": 18446744073709551615}},
	  "3": {"class_type": "RandomNoise", "inputs": {"noise_seed": 7}},
	  "4": {"class_type": "CFGGuider", "inputs": {"cfg": 3.5, "model": ["7", 0]}},
	  "5": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "dpmpp_2m"}},
	  "6": {"class_type": "BasicScheduler", "inputs": {"scheduler": "beta", "steps": 8, "denoise": 1.0, "model": ["7", 0]}},
	  "7": {"class_type": "UNETLoader", "inputs": {"unet_name": "u.safetensors", "weight_dtype": "default"}}
	}`
	p, err := ProvenanceFromPrompt([]byte(prompt))
	if err != nil {
		t.Fatalf("ProvenanceFromPrompt: %v", err)
	}
	want := []SamplerPlan{
		{Node: "9", Class: "SamplerCustomAdvanced", Seed: "7", Sampler: "dpmpp_2m", Scheduler: "beta",
			Steps: "8", CFG: "3.5", Denoise: "1", Model: "u.safetensors"},
		{Node: "10", Class: "KSampler", Seed: "18446744073709551615", Sampler: "euler", Scheduler: "karras",
			Steps: "20", CFG: "8", Denoise: "0.75", Model: "a.safetensors"},
	}
	if !reflect.DeepEqual(p.Samplers, want) {
		t.Fatalf("samplers\n got %+v\nwant %+v", p.Samplers, want)
	}
	if _, err := ProvenanceFromPrompt([]byte("{not json")); err == nil {
		t.Error("accepted invalid JSON")
	}
}

func TestProvenanceTier(t *testing.T) {
	t.Parallel()
	base := `{"3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 8, "sampler_name": "euler",
	  "scheduler": "normal", "denoise": 1, "model": ["4", 0]}},
	  "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}}}`
	f := synth(11, 64, 64)
	golden := f.quantise(nil)
	jittered := jitter(f, 11)
	withPrompt := func(img image.Image, prompt string) []byte {
		return encodePNG(t, img, textChunk("prompt", prompt), textChunk("workflow", "{}"))
	}
	plan := func(prompt string) *Provenance {
		p, err := ProvenanceFromPrompt([]byte(prompt))
		if err != nil {
			t.Fatalf("plan: %v", err)
		}
		return p
	}
	goldPNG := withPrompt(golden, base)
	tests := []struct {
		name    string
		golden  Input
		got     Input
		status  string
		verdict Verdict
		field   string // expected in the reason
	}{
		{"same config", Input{PNG: goldPNG}, Input{PNG: withPrompt(jittered, base)}, StatusPass, PassApprox, ""},
		{"seed differs", Input{PNG: goldPNG}, Input{PNG: withPrompt(jittered, strings.Replace(base, "42", "43", 1))},
			StatusFail, Fail, "seed"},
		{"cfg differs", Input{PNG: goldPNG}, Input{PNG: withPrompt(jittered, strings.Replace(base, `"cfg": 8`, `"cfg": 8.5`, 1))},
			StatusFail, Fail, "cfg"},
		{"model differs", Input{PNG: goldPNG}, Input{PNG: withPrompt(jittered, strings.Replace(base, "m.safe", "n.safe", 1))},
			StatusFail, Fail, "model"},
		{"cfg 8.0 equals 8", Input{PNG: goldPNG}, Input{PNG: withPrompt(jittered, strings.Replace(base, `"cfg": 8`, `"cfg": 8.0`, 1))},
			StatusPass, PassApprox, ""},
		{"output without metadata", Input{PNG: goldPNG}, Input{Image: jittered}, StatusSkipped, PassApprox, ""},
		{"output metadata unreadable", Input{PNG: goldPNG}, Input{PNG: withPrompt(jittered, `{"last_node_id": 9}`)},
			StatusFail, Fail, "unreadable"},
		{"golden metadata unreadable", Input{PNG: withPrompt(golden, "not json")}, Input{PNG: withPrompt(jittered, base)},
			StatusSkipped, PassApprox, ""},
		{"golden without metadata", Input{Image: golden}, Input{PNG: withPrompt(jittered, base)}, StatusSkipped, PassApprox, ""},
		{"plan stands in for the golden", Input{Image: golden, Plan: plan(base)},
			Input{PNG: withPrompt(jittered, strings.Replace(base, `"normal"`, `"karras"`, 1))}, StatusFail, Fail, "scheduler"},
		{"output differs from its plan", Input{PNG: goldPNG},
			Input{PNG: withPrompt(jittered, base), Plan: plan(strings.Replace(base, "20", "19", 1))}, StatusFail, Fail, "steps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Compare(tt.golden, tt.got, Options{})
			tr := r.Tier(TierProvenance)
			if tr.Status != tt.status || r.Verdict != tt.verdict {
				t.Fatalf("provenance %s, verdict %s (%s); want %s, %s", tr.Status, r.Verdict, r.Reason, tt.status, tt.verdict)
			}
			if tt.field != "" {
				if r.FailedTier != FailProvenance || !strings.Contains(r.Reason, " "+tt.field+" ") && !strings.Contains(r.Reason, tt.field+":") {
					t.Fatalf("failed %q reason %q, want config naming %q", r.FailedTier, r.Reason, tt.field)
				}
			}
		})
	}
}

//go:build !regenfast

package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/regen-dev/regen/executor/sampling"
)

const inspectUsage = `Usage: regen inspect noise  --seed S --shape B,C,H,W
       regen inspect sigmas --scheduler NAME --steps N [--denoise D] [--sampler NAME]
       regen inspect samplers | schedulers

Show what regen-executor computes, to compare with a ComfyUI install:

  noise       the initial noise of a seed: torch.manual_seed(S);
              torch.randn(B, C, H, W) on the CPU, which is also ComfyUI's
              prepare_noise for an EmptyLatentImage of that shape. Values are
              float32, printed in the shortest form that reads back exactly.
  sigmas      the sigma schedule KSampler steps through for the SD1.x
              discrete table (denoise < 1 and the samplers that drop the
              penultimate sigma included), as the float32 values used.
  samplers    the implemented sampler names, in ComfyUI's order.
  schedulers  the implemented scheduler names, in ComfyUI's order.

Output is JSON on stdout.
`

// maxInspectValues bounds regen inspect noise's output.
const maxInspectValues = 1 << 24

func inspectCommand() command {
	return command{summary: "print the executor's noise and sigma schedules (JSON)", run: runInspect}
}

func runInspect(ctx context.Context, s Streams, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(s.Err, inspectUsage)
		return &usageError{msg: "inspect needs a topic: noise, sigmas, samplers or schedulers", hint: "regen inspect noise --seed 42 --shape 1,4,8,8"}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(s.Out, inspectUsage+examplesSection("inspect")+"\nFlags: regen inspect TOPIC -h\n")
		return nil
	case "noise":
		return inspectNoise(s, args[1:])
	case "sigmas":
		return inspectSigmas(s, args[1:])
	case "samplers":
		return inspectList(s, args[1:], "samplers", sampling.SamplerNames())
	case "schedulers":
		return inspectList(s, args[1:], "schedulers", sampling.SchedulerNames())
	default:
		return &usageError{msg: fmt.Sprintf("unknown inspect topic %q (want noise, sigmas, samplers or schedulers)", args[0]),
			hint: "regen inspect -h"}
	}
}

// inspectFlags parses a topic's flags; positional arguments are an error.
func inspectFlags(fs *flag.FlagSet, topic string, args []string) error {
	fs.Usage = func() { fmt.Fprint(fs.Output(), inspectUsage+"\nFlags of "+topic+":\n"); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error(), hint: "regen inspect " + topic + " -h"}
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("inspect %s: unexpected argument %q", topic, fs.Arg(0)), hint: "regen inspect " + topic + " -h"}
	}
	return nil
}

func inspectNoise(s Streams, args []string) error {
	fs := newFlagSet("inspect noise", s)
	seedStr := fs.String("seed", "0", "noise seed, 0..18446744073709551615 (only the low 32 bits reach mt19937, as in PyTorch)")
	shapeStr := fs.String("shape", "", "tensor shape, comma-separated, e.g. 1,4,64,64 (required)")
	if err := inspectFlags(fs, "noise", args); err != nil {
		return err
	}
	seed, err := strconv.ParseUint(strings.TrimSpace(*seedStr), 10, 64)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("inspect noise: --seed %q is not an integer in 0..18446744073709551615", *seedStr),
			hint: "regen inspect noise --seed 42 --shape 1,4,8,8"}
	}
	shape, err := parseShape(*shapeStr)
	if err != nil {
		return &usageError{msg: "inspect noise: " + err.Error(), hint: "regen inspect noise --seed 42 --shape 1,4,8,8"}
	}
	values := sampling.NewGenerator(seed).Randn(shape...)
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"seed":%d,"shape":[`, seed)
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteString(`],"values":[`)
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
	}
	b.WriteString("]}\n")
	_, err = s.Out.Write(b.Bytes())
	return err
}

// parseShape parses "B,C,H,W" (any rank ≥ 1) into positive sizes.
func parseShape(str string) ([]int, error) {
	if strings.TrimSpace(str) == "" {
		return nil, fmt.Errorf("--shape is required, e.g. --shape 1,4,64,64")
	}
	var shape []int
	total := 1
	for _, part := range strings.Split(str, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || d < 1 {
			return nil, fmt.Errorf("--shape %q: every size must be a positive integer", str)
		}
		total *= d
		if total > maxInspectValues {
			return nil, fmt.Errorf("--shape %q: more than %d values", str, maxInspectValues)
		}
		shape = append(shape, d)
	}
	return shape, nil
}

func inspectSigmas(s Streams, args []string) error {
	fs := newFlagSet("inspect sigmas", s)
	sched := fs.String("scheduler", "", "scheduler: "+strings.Join(sampling.SchedulerNames(), ", ")+" (required)")
	steps := fs.Int("steps", 0, "number of steps, 1..10000 (required)")
	denoise := fs.Float64("denoise", 1, "denoise strength, 0..1 (KSampler's rule: int(steps/denoise) steps, the last steps+1 kept)")
	smp := fs.String("sampler", "", "sampler name; dpm_2, dpm_2_ancestral, uni_pc and uni_pc_bh2 drop the penultimate sigma")
	if err := inspectFlags(fs, "sigmas", args); err != nil {
		return err
	}
	hint := "regen inspect sigmas --scheduler karras --steps 20"
	if *sched == "" {
		return &usageError{msg: "inspect sigmas: --scheduler is required (one of " + strings.Join(sampling.SchedulerNames(), ", ") + ")", hint: hint}
	}
	if !slices.Contains(sampling.SchedulerNames(), *sched) {
		return &usageError{msg: fmt.Sprintf("inspect sigmas: unknown scheduler %q (want one of %s)", *sched, strings.Join(sampling.SchedulerNames(), ", ")), hint: hint}
	}
	if *steps < 1 || *steps > 10000 {
		return &usageError{msg: fmt.Sprintf("inspect sigmas: --steps %d is outside 1..10000", *steps), hint: hint}
	}
	if !(*denoise >= 0 && *denoise <= 1) {
		return &usageError{msg: fmt.Sprintf("inspect sigmas: --denoise %v is outside 0..1", *denoise), hint: hint}
	}
	if *smp != "" && !slices.Contains(sampling.SamplerNames(), *smp) {
		return &usageError{msg: fmt.Sprintf("inspect sigmas: unknown sampler %q (see regen inspect samplers)", *smp), hint: hint}
	}
	sig, err := sampling.KSamplerSigmas(sampling.DefaultTable(), *sched, *smp, *steps, *denoise)
	if err != nil {
		return fmt.Errorf("inspect sigmas: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"scheduler":%q,"steps":%d`, *sched, *steps)
	if *denoise != 1 {
		fmt.Fprintf(&b, `,"denoise":%s`, strconv.FormatFloat(*denoise, 'g', -1, 64))
	}
	if *smp != "" {
		fmt.Fprintf(&b, `,"sampler":%q`, *smp)
	}
	b.WriteString(`,"sigmas":[`)
	for i, v := range sig {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 32))
	}
	b.WriteString("]}\n")
	_, err = s.Out.Write(b.Bytes())
	return err
}

func inspectList(s Streams, args []string, topic string, names []string) error {
	fs := newFlagSet("inspect "+topic, s)
	if err := inspectFlags(fs, topic, args); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{%q:[`, topic)
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q", n)
	}
	b.WriteString("]}\n")
	_, err := s.Out.Write(b.Bytes())
	return err
}

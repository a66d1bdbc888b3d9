// Package suite implements regen's suite configuration: the committed YAML
// file (fixtures/suite.yaml) that names the workflows to replay, the seeds
// to pin, model-name aliases, per-workflow variants, threshold overrides and
// skip reasons, the input images to upload, the environment class whose
// goldens the run is judged against, and named profiles: the aliases,
// inputs, thresholds and skipped labels of other kinds of target (a real
// ComfyUI with real checkpoints), picked by SelectProfile.
//
// The file is decoded strictly (unknown keys are errors): a misspelt key in a
// reviewer-edited file ("tresholds", "seed") must fail the run loudly rather
// than silently drop a tolerance or a seed.
package suite

package engine

import "testing"

// A client's prompt_id must be a canonical UUID (ComfyUI 0.33.0
// validate_job_id); absent or null, the server mints one.
func TestSubmitPromptID(t *testing.T) {
	t.Parallel()
	const prompt = `"prompt": {"1": {"class_type": "TestOut", "inputs": {"value": 1}}}`
	tests := []struct {
		name, field string
		wantErr     bool
		wantID      string // "" → any minted id
	}{
		{name: "absent"},
		{name: "null", field: `, "prompt_id": null`},
		{name: "canonical", field: `, "prompt_id": "0f8fad5b-d9cb-469f-a165-70867728950e"`, wantID: "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{name: "not a uuid", field: `, "prompt_id": "p1"`, wantErr: true},
		{name: "empty", field: `, "prompt_id": ""`, wantErr: true},
		{name: "upper case", field: `, "prompt_id": "0F8FAD5B-D9CB-469F-A165-70867728950E"`, wantErr: true},
		{name: "no hyphens", field: `, "prompt_id": "0f8fad5bd9cb469fa16570867728950e"`, wantErr: true},
		{name: "braces", field: `, "prompt_id": "{0f8fad5b-d9cb-469f-a165-70867728950e}"`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			en, _ := newTestEngine(t, nil)
			sub := en.Submit([]byte(`{` + prompt + tc.field + `}`))
			if tc.wantErr {
				if sub.Error == nil || sub.Error.Type != "invalid_prompt_id" {
					t.Fatalf("error = %+v, want invalid_prompt_id", sub.Error)
				}
				return
			}
			if !sub.Queued() {
				t.Fatalf("not queued: %+v", sub.Error)
			}
			if tc.wantID != "" && sub.PromptID != tc.wantID {
				t.Errorf("prompt_id = %q, want %q", sub.PromptID, tc.wantID)
			}
			if !canonicalUUID(sub.PromptID) {
				t.Errorf("minted prompt_id %q is not a canonical UUID", sub.PromptID)
			}
		})
	}
}

package client

import "testing"

func TestHTTPErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{name: "none", want: "POST /prompt: 500 Internal Server Error"},
		{name: "one line", body: "busy\n", want: "POST /prompt: 500 Internal Server Error: busy"},
		{name: "lines indented under the status", body: "Traceback:\n  File x\r\nRuntimeError: boom\n",
			want: "POST /prompt: 500 Internal Server Error:\n  Traceback:\n    File x\n  RuntimeError: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &HTTPError{Method: "POST", Path: "/prompt", StatusCode: 500, Body: tt.body}
			if got := e.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

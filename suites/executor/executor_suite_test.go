// Package executor_test is regen-executor's conformance suite, in the spirit
// of ComfyUI's tests/execution: it starts the real server on a loopback
// listener with a pack of test nodes and checks ComfyUI's semantics through
// HTTP and websocket messages.
package executor_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestExecutorConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "regen-executor conformance")
}

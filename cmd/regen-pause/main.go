// Command regen-pause is the pod sandbox (pause) process of regen's local
// cluster images: PID 1 of the sandbox. It blocks until SIGINT or SIGTERM and
// then exits 0, and reaps the zombies it inherits on SIGCHLD (it can be PID 1
// of a pod's shared PID namespace). Standard library only; build it static
// (CGO_ENABLED=0, hack/build.sh) for the FROM-scratch pause image.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, nil))
}

// Package cputime reads the CPU time (user + system) this process has used,
// for benchmarks: on a shared machine it measures the work, where the wall
// clock measures the queue for a core.
package cputime

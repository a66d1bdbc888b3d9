//go:build cuda

package app

const cudaCompiledIn = true

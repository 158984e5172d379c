//go:build !unix

package labels_test

func cpuSeconds() float64 { return 0 }

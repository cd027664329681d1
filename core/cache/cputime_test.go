package cache

import (
	"runtime"
	"syscall"
	"testing"
)

// threadCPU returns the CPU time the calling OS thread has used (Linux
// RUSAGE_THREAD). The machine these benchmarks run on is shared, so
// wall-clock ns/op overstates the cost; cpu-ns/op is what a check costs.
func threadCPU() int64 { return cpu(1 /* RUSAGE_THREAD */) }

// processCPU is the CPU time of the whole process (all threads), for work
// that fans out to goroutines.
func processCPU() int64 { return cpu(syscall.RUSAGE_SELF) }

func cpu(who int) int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(who, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// cpuLoop runs body b.N times on a locked thread and reports cpu-ns/op.
func cpuLoop(b *testing.B, body func(i int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	i := 0
	for b.Loop() {
		body(i)
		i++
	}
	if i > 0 {
		b.ReportMetric(float64(threadCPU()-start)/float64(i), "cpu-ns/op")
	}
}

// processCPULoop runs body b.N times and reports the process's cpu-ns/op.
func processCPULoop(b *testing.B, body func(i int)) {
	start := processCPU()
	i := 0
	for b.Loop() {
		body(i)
		i++
	}
	if i > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(i), "cpu-ns/op")
	}
}

package bench

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// sizes are how big each scenario is.
type sizes struct {
	// warm, cold and docker are the samples of the step start rows.
	warm, cold, docker int
	// tenants are the tenant counts of the throughput rows, in the order
	// of their keys (tenantKeys); the memory row is read at the last.
	tenants []int
	// minSteps is the least number of steps a throughput row measures.
	minSteps int
	// phase bounds each phase of a throughput row (the first steps, the
	// measured ones): a row that cannot finish says so.
	phase time.Duration
	// tickWorkers are the live workers of the tick rows (tickSizes).
	tickWorkers []int
	// ticks is how many ticks of each kind are timed.
	ticks int
	// logBytes is what the log streaming step prints.
	logBytes int64
}

// tenantKeys and tickSizes are the sizes in the row keys, which stay the
// same in a quick run.
var (
	tenantKeys = []int{1, 100, 10000}
	tickSizes  = []int{1000, 100000}
)

var fullSizes = sizes{
	warm: 50, cold: 10, docker: 5,
	tenants: tenantKeys, minSteps: 2000, phase: 30 * time.Second,
	tickWorkers: tickSizes, ticks: 20,
	logBytes: 100 << 20,
}

var quickSizes = sizes{
	warm: 5, cold: 2, docker: 2,
	tenants: []int{1, 5, 20}, minSteps: 100, phase: 30 * time.Second,
	tickWorkers: []int{100, 1000}, ticks: 3,
	logBytes: 2 << 20,
}

func throughputKeys(st string) []string {
	var keys []string
	for _, n := range tenantKeys {
		keys = append(keys, fmt.Sprintf("throughput/%s/%d", st, n))
	}
	if st == "sqlite" {
		keys = append(keys, keyMemory)
	}
	return keys
}

func tickKeys() []string {
	var keys []string
	for _, kind := range []string{"reap", "reconcile"} {
		for _, n := range tickSizes {
			keys = append(keys, fmt.Sprintf("tick/%s/%d", kind, n))
		}
	}
	return keys
}

// cpuModel returns the CPU model from /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"

	"github.com/dynpool/dynpool/internal/fleet"
)

// memory is what this process holds: the Go heap and stacks in use after
// a collection, and the resident set.
type memory struct {
	heap, rss uint64
}

// readMemory collects garbage and reads the process's memory.
func readMemory() memory {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{heap: ms.HeapInuse + ms.StackInuse, rss: rss()}
}

// rss returns the process's resident set (VmRSS) in bytes, or 0.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// fillMemory fills row with the memory taken per 10,000 live workers of
// s, from before (read before s started).
func (b *bencher) fillMemory(ctx context.Context, s *testServer, before memory, row *Row) {
	ws, err := s.admin.AdminListWorkers(ctx)
	if err != nil {
		row.Note = "failed: " + err.Error()
		return
	}
	live := 0
	for _, w := range ws {
		if slices.Contains(fleet.LiveStates, w.State) {
			live++
		}
	}
	after := readMemory()
	if live == 0 {
		row.Note = "failed: no live workers"
		return
	}
	// per scales the growth from before to after to 10,000 workers; a
	// figure that fell meanwhile (memory given back) has no meaning: "n/a".
	per := func(a, b uint64) string {
		if a < b {
			return "n/a"
		}
		return mib((a - b) * 10000 / uint64(live))
	}
	row.Value = per(after.heap, before.heap)
	row.Note = fmt.Sprintf("Go heap+stacks after GC, %d live idle workers scaled to 10,000 (RSS: %s); the sim agents (goroutines, client connections) run in the same process and are counted: an upper bound",
		live, per(after.rss, before.rss))
	if live < 1000 {
		row.Note += fmt.Sprintf("; only %d workers: too few for the figure to mean much", live)
	}
}

// heapObjects returns the bytes of heap objects, live or not yet swept,
// without stopping the world.
func heapObjects() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

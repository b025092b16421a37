package catalog

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// maxFuzzCatalog bounds the inputs FuzzParse tries (bytes): operator
// catalogs are a few KiB (the built-in one is under 8 KiB), and bigger
// inputs only slow the fuzzer down.
const maxFuzzCatalog = 64 << 10

// FuzzParse feeds arbitrary bytes to the catalog parser. It holds Parse
// to: no panic, no hang; an error or a catalog, never both or neither;
// and a catalog it accepts can be served (API) and resolved by every id
// at its dates without a panic. Seeds: builtin.yaml, every testdata/*.yaml
// and testdata/invalid/*.yaml, and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"builtin.yaml", "testdata/*.yaml", "testdata/invalid/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatalf("glob %s: %v", pattern, err)
		}
		seeds = append(seeds, files...)
	}
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzCatalog {
			t.Skip("larger than any catalog an operator writes")
		}
		c, err := Parse(data)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v; want a catalog or an error", c, err)
		}
		if err != nil {
			return
		}
		for _, now := range []time.Time{{}, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)} {
			c.API(now)
			for _, ref := range c.knownIDs() {
				_, _ = c.Resolve(ref, now) // an error is fine: a decommissioned image
			}
		}
	})
}

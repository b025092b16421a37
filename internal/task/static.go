package task

import (
	"fmt"

	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/store"
)

// staticDescription is what a step's log says of a static pool, in place
// of an image and build.
const staticDescription = "static pool: a machine the tenant registered"

// warnings returns the image warnings of res, none for a static pool
// (res nil).
func warnings(res *catalog.Resolution) []string {
	if res == nil {
		return nil
	}
	return res.Warnings()
}

// leased names the worker w a step leased: its image and build, or its
// name on a static pool (res nil).
func leased(res *catalog.Resolution, w *store.Worker) string {
	if res == nil {
		return fmt.Sprintf("static machine %q", w.Name)
	}
	return fmt.Sprintf("%s, build %s", res.Image.Name, w.Build)
}

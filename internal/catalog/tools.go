package catalog

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
)

// ErrRequirementUnmet is wrapped by the error of [RequirementsError]: the
// pool's image lacks tools a step requires.
var ErrRequirementUnmet = errors.New("requirement unmet")

// Missing returns the requirements, in the order given, that the image's
// tool manifest does not meet, nil when it meets them all. A requirement is
// met when some version of some tool whose name matches (see
// [ParseRequirement]) meets it.
func (img *Image) Missing(reqs []Requirement) []Requirement {
	var out []Requirement
	for _, q := range reqs {
		if !img.meets(q) {
			out = append(out, q)
		}
	}
	return out
}

func (img *Image) meets(q Requirement) bool {
	key := toolKey(q.Tool)
	for _, t := range img.Tools {
		if toolKey(t.Name) != key {
			continue
		}
		for _, v := range t.Versions {
			if q.met(v) {
				return true
			}
		}
	}
	return false
}

// Satisfying returns the images, in catalog order, that are offered at now,
// not decommissioned at now, and meet every requirement; nil when none.
func (c *Catalog) Satisfying(reqs []Requirement, now time.Time) []*Image {
	var out []*Image
	for _, img := range c.Images {
		if img.Offered(now) && img.Status(now) != api.ImageStatusDecommissioned && len(img.Missing(reqs)) == 0 {
			out = append(out, img)
		}
	}
	return out
}

// ToolPathEnv returns, for every version of every tool with a path
// template, DYNPOOL_TOOL_<NAME>_<VERSION>_PATH set to the path with
// {{version}} replaced. NAME and VERSION are upper case with every run of
// characters other than A-Z and 0-9 replaced by "_" and leading and
// trailing "_" trimmed: kubectl 1.22.6 under
// c:\tools\kubectl\{{version}}\kubectl.exe gives
// DYNPOOL_TOOL_KUBECTL_1_22_6_PATH=c:\tools\kubectl\1.22.6\kubectl.exe.
// When two entries give the same variable, the first in the manifest wins;
// an entry whose name or version has no letter or digit is left out. The
// map is never nil.
func (img *Image) ToolPathEnv() map[string]string {
	out := map[string]string{}
	for _, t := range img.Tools {
		if t.Path == "" {
			continue
		}
		name := envPart(t.Name)
		for _, v := range t.Versions {
			ver := envPart(v)
			if name == "" || ver == "" {
				continue
			}
			key := "DYNPOOL_TOOL_" + name + "_" + ver + "_PATH"
			if _, dup := out[key]; !dup {
				out[key] = strings.ReplaceAll(t.Path, "{{version}}", v)
			}
		}
	}
	return out
}

// envPart upper-cases s and replaces every run of characters other than
// A-Z and 0-9 by "_", trimming "_" at both ends.
func envPart(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			gap = false
			b.WriteRune(r)
			continue
		}
		gap = true
	}
	return b.String()
}

// requirementsError is the error of [RequirementsError].
type requirementsError struct{ msg string }

func (e *requirementsError) Error() string { return e.msg }
func (e *requirementsError) Unwrap() error { return ErrRequirementUnmet }

// RequirementsError returns nil when missing is empty; else an error
// wrapping [ErrRequirementUnmet] that names the pool, its image img (not
// nil), the missing requirements (as [Image.Missing] gives them) and the
// images that meet them all (as [Catalog.Satisfying] gives them), e.g.
//
//	pool "Deploy" (Ubuntu Server 18.04) lacks kubectl=1.22.6, helm>=3; images that have them: Windows Server Core 2019
//	pool "Deploy" (Ubuntu Server 18.04) lacks terraform; no image available here has them
func RequirementsError(pool string, img *Image, missing []Requirement, satisfying []*Image) error {
	if len(missing) == 0 {
		return nil
	}
	lacks := make([]string, len(missing))
	for i, q := range missing {
		lacks[i] = q.String()
	}
	msg := fmt.Sprintf("pool %q (%s) lacks %s", pool, img.Name, strings.Join(lacks, ", "))
	if len(satisfying) == 0 {
		msg += "; no image available here has them"
	} else {
		names := make([]string, len(satisfying))
		for i, s := range satisfying {
			names[i] = s.Name
		}
		msg += "; images that have them: " + strings.Join(names, ", ")
	}
	return &requirementsError{msg: msg}
}

package web

import (
	"fmt"
	"html/template"
	"time"
)

// funcs are the helpers templates format times and durations with.
var funcs = template.FuncMap{
	"since": func(now, t time.Time) string { return span(now.Sub(t)) },
	"until": until,
	"stamp": stamp,
	"stampp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return stamp(*t)
	},
	"span": span,
}

// stamp formats t as the console shows times: UTC to the second.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// until says how far t lies from now: "in 59m" or "3m ago".
func until(now, t time.Time) string {
	if t.Before(now) {
		return span(now.Sub(t)) + " ago"
	}
	return "in " + span(t.Sub(now))
}

// span writes a duration the way people read one: "42s", "17m", "5h 3m",
// "3d 2h". Negative durations count as positive.
func span(d time.Duration) string {
	d = d.Abs()
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

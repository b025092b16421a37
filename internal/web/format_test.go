package web

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
)

func TestSpan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{42 * time.Second, "42s"},
		{17*time.Minute + 5*time.Second, "17m"},
		{5*time.Hour + 3*time.Minute, "5h 3m"},
		{74 * time.Hour, "3d 2h"},
		{-90 * time.Second, "1m"},
	} {
		if got := span(tc.d); got != tc.want {
			t.Errorf("span(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestWorkerRowSaysWhenAndWhy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	to := timeouts{idle: time.Hour, maxLife: 72 * time.Hour}
	created := now.Add(-2 * time.Hour)
	used := now.Add(-10 * time.Minute)
	idleAt := used.Add(time.Hour)
	endAt := created.Add(72 * time.Hour)
	old := now.Add(-71*time.Hour - 30*time.Minute)
	oldEnd := old.Add(72 * time.Hour)
	for _, tc := range []struct {
		name     string
		w        workerRowInput
		at       time.Time
		why      string
		idleText string
	}{
		{"idle, idle timeout first", workerRowInput{"idle", created, &used, &idleAt, ""}, idleAt, "idle timeout (1h 0m without a step)", "10m"},
		{"idle, max lifetime first", workerRowInput{"idle", old, &used, &oldEnd, ""}, oldEnd, "max lifetime (3d 0h)", "10m"},
		{"busy", workerRowInput{"busy", created, nil, &idleAt, ""}, endAt, "max lifetime (3d 0h), once its current step ends", ""},
		{"destroying", workerRowInput{"destroying", created, &used, &now, "image-rebuilt"}, now, "destroyed: image rebuilt", ""},
	} {
		row := workerRowOf(tc.w.worker(), to, now)
		if row.DestroyAt == nil || !row.DestroyAt.Equal(tc.at) || row.Why != tc.why || row.Idle != tc.idleText {
			t.Errorf("%s: destroy at %v because %q, idle %q; want %v because %q, idle %q",
				tc.name, row.DestroyAt, row.Why, row.Idle, tc.at, tc.why, tc.idleText)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"/console/tasks/k1": "/console/tasks/k1",
		"":                  "",
		"/api/v1/pools":     "",
		"https://evil.test": "",
		"/console/\\evil":   "",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// workerRowInput is the part of a worker workerRowOf reads.
type workerRowInput struct {
	state              string
	created            time.Time
	lastUsed, destroys *time.Time
	reason             string
}

func (in workerRowInput) worker() api.Worker {
	return api.Worker{ID: "w1", State: in.state, CreatedAt: in.created, LastUsedAt: in.lastUsed, DestroyAt: in.destroys, DestroyReason: in.reason}
}

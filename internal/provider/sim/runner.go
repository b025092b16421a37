package sim

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/agent"
)

// Runner is the [agent.Runner] of simulated workers: it does not run the
// script. It prints Output on stdout, waits Duration on Clock and reports
// exit code 0; when ctx ends first it reports -1 and ctx's cause.
type Runner struct {
	Output   string
	Duration time.Duration
	Clock    clockwork.Clock
}

var _ agent.Runner = (*Runner)(nil)

// Run implements [agent.Runner].
func (r *Runner) Run(ctx context.Context, _ *api.Job, _ string, out func(stream, line string)) (int, error) {
	out(api.StreamStdout, r.Output)
	if r.Duration <= 0 {
		return 0, nil
	}
	t := r.Clock.NewTimer(r.Duration)
	defer t.Stop()
	select {
	case <-t.Chan():
		return 0, nil
	case <-ctx.Done():
		return -1, context.Cause(ctx)
	}
}

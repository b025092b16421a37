package sim

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/provider"
)

// runAgent is the default Config.RunAgent: the real agent loop
// (agent.Run) with a [Runner] instead of a shell, the provider's shared
// HTTP client and logger. It returns when ctx ends or the server says the
// worker is gone; other ends are logged.
func (p *Provider) runAgent(ctx context.Context, params *provider.CreateParams) {
	err := agent.Run(ctx, agent.Config{
		ServerURL:  params.ServerURL,
		Token:      params.RegistrationToken,
		WorkDir:    p.cfg.WorkDir,
		HTTPClient: p.cfg.HTTPClient,
		Logger:     p.cfg.Logger,
		Runner:     &Runner{Output: p.cfg.Output, Duration: p.cfg.StepDuration, Clock: p.cfg.Clock},
	})
	if err != nil {
		p.cfg.Logger.WarnContext(ctx, "sim agent ended", "worker_id", params.WorkerID, "error", err)
	}
}

// newAgentClient returns the client the agents of one provider share: HTTP/2
// without TLS, with prior knowledge (h2c), so that the agents' long-polls
// and heartbeats are streams multiplexed on a few connections. The
// server allows up to 250 streams per connection; the transport opens
// another connection when they are taken.
func newAgentClient() *http.Client {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:   &protocols,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		// The agents' own calls carry their deadlines; these bound a
		// connection that stops answering.
		IdleConnTimeout: 90 * time.Second,
		HTTP2:           &http.HTTP2Config{PingTimeout: 15 * time.Second, SendPingTimeout: 30 * time.Second},
	}}
}

package server

import (
	"context"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/internal/store/postgres"
)

// notifyChannel is the PostgreSQL NOTIFY channel the replicas of an
// installation wake each other on (channels are per database, and several
// installations may share one in separate schemas); the payload is a
// notify.Hub key.
func notifyChannel(installation string) string { return "dynpool_" + installation }

// defaultLeaderPeriod is how often a replica tries to become leader.
const defaultLeaderPeriod = 2 * time.Second

// publish sends a hub key to the other replicas. A failure costs them a
// poll, not a step: waiters re-read the store on their own timers.
func (s *Server) publish(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.pg.Publish(ctx, s.channel, key); err != nil {
		s.cfg.Logger.WarnContext(ctx, "notify other replicas", "key", key, "error", err)
	}
}

// startFleet runs the fleet's reaper and reconciler: at once on SQLite;
// on a shared PostgreSQL database only while this replica is the leader,
// with notifications from the other replicas delivered to the hub. The
// returned func stops it all.
func (s *Server) startFleet(ctx context.Context) (stop func(), err error) {
	if s.pg == nil {
		if err := s.fleet.Start(ctx); err != nil {
			return nil, err
		}
		return s.fleet.Stop, nil
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan struct{})
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		_ = postgres.Listen(bg, s.cfg.DatabaseURL, s.channel, ready, s.hub.Deliver)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		cancel()
		<-listening
		return nil, fmt.Errorf("listen for the other replicas on %s: no LISTEN in place after 30s", s.channel)
	}
	period := s.cfg.LeaderPeriod
	if period == 0 {
		period = defaultLeaderPeriod
	}
	electing := make(chan struct{})
	go func() {
		defer close(electing)
		_ = postgres.Elect(bg, s.cfg.DatabaseURL, "fleet", period, func(lead context.Context) {
			if err := s.fleet.Start(lead); err != nil {
				s.cfg.Logger.ErrorContext(lead, "start the fleet as leader", "error", err)
				return
			}
			s.cfg.Logger.InfoContext(lead, "leading: this replica runs the reaper and the reconciler")
			<-lead.Done()
			s.fleet.Stop()
			s.cfg.Logger.InfoContext(ctx, "no longer leading")
		})
	}()
	return func() {
		cancel()
		<-electing
		<-listening
	}, nil
}

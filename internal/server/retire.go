package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

// retire is the fleet's Config.Retire: it says why worker w must take no
// new step, from what its pool resolves to today, or "" when w is still
// what a new step on its pool would get.
func (s *Server) retire(ctx context.Context, w *store.Worker) (string, error) {
	pool, err := s.store.PoolGet(ctx, w.TenantID, w.PoolID)
	if errors.Is(err, store.ErrNotFound) {
		return api.DestroyPoolDeleted, nil
	}
	if err != nil {
		return "", fmt.Errorf("get pool of worker %s: %w", w.ID, err)
	}
	res, _ := s.catalog.Load().Resolve(pool.Image, s.cfg.Clock.Now())
	switch {
	case res == nil || res.Image.ID != w.Image:
		return api.DestroyImageChanged, nil
	case res.Status == api.ImageStatusDecommissioned:
		return api.DestroyImageDecommissioned, nil
	case res.Build == nil || res.Build.Version != w.Build:
		return api.DestroyImageRebuilt, nil
	}
	return "", nil
}

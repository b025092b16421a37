package server_test

import (
	"testing"

	"github.com/dynpool/dynpool/api"
)

// TestHealthCheckEditKeepsTheRest: a PATCH of a static pool's health
// check changes only the fields it gives; a new script keeps the check's
// syntax, interval and timeout, and {"script": ""} removes the check.
func TestHealthCheckEditKeepsTheRest(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	acme := s.tenant(t, "acme")
	ctx := t.Context()
	if _, err := acme.CreatePool(ctx, api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic,
		HealthCheck: &api.HealthCheck{Syntax: "python", Script: "print('ok')", Interval: "15m", Timeout: "2m"}}); err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit api.HealthCheck
		want api.HealthCheck
	}{
		{"script only", api.HealthCheck{Script: "print('still ok')"},
			api.HealthCheck{Syntax: "python", Script: "print('still ok')", Interval: "15m0s", Timeout: "2m0s"}},
		{"interval only", api.HealthCheck{Interval: "20m"},
			api.HealthCheck{Syntax: "python", Script: "print('still ok')", Interval: "20m0s", Timeout: "2m0s"}},
		{"syntax and script", api.HealthCheck{Syntax: "sh", Script: "true"},
			api.HealthCheck{Syntax: "sh", Script: "true", Interval: "20m0s", Timeout: "2m0s"}},
		{"timeout only", api.HealthCheck{Timeout: "30s"},
			api.HealthCheck{Syntax: "sh", Script: "true", Interval: "20m0s", Timeout: "30s"}},
	} {
		edit := tc.edit
		p, err := acme.UpdatePool(ctx, "machines", api.UpdatePoolRequest{HealthCheck: &edit})
		if err != nil {
			t.Fatalf("edit %s: %v", tc.name, err)
		}
		if got := p.MachinePolicy.HealthCheck; got == nil || *got != tc.want {
			t.Errorf("after editing the %s: check = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	p, err := acme.UpdatePool(ctx, "machines", api.UpdatePoolRequest{HealthCheck: &api.HealthCheck{}})
	if err != nil || p.MachinePolicy.HealthCheck != nil {
		t.Errorf("remove the check: %+v, %v; want none", p, err)
	}
}

// TestMachinePolicyHealthCheckSentBack: a client that GETs a pool and
// PATCHes back its machine_policy (which shows the health check) is not
// refused; a machine_policy.health_check that differs from the pool's
// is, naming the field to use.
func TestMachinePolicyHealthCheckSentBack(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	acme := s.tenant(t, "acme")
	ctx := t.Context()
	p, err := acme.CreatePool(ctx, api.CreatePoolRequest{Name: "machines", Type: api.PoolTypeStatic,
		HealthCheck: &api.HealthCheck{Script: "df /"}})
	if err != nil {
		t.Fatalf("create static pool: %v", err)
	}
	mp := *p.MachinePolicy
	mp.UnavailableAfter = "1m"
	got, err := acme.UpdatePool(ctx, "machines", api.UpdatePoolRequest{MachinePolicy: &mp})
	if err != nil || got.MachinePolicy.UnavailableAfter != "1m0s" || *got.MachinePolicy.HealthCheck != *p.MachinePolicy.HealthCheck {
		t.Fatalf("PATCH back the machine policy: %+v, %v; want it applied, the check unchanged", got, err)
	}
	changed := *p.MachinePolicy.HealthCheck
	changed.Script = "true"
	mp.HealthCheck = &changed
	_, err = acme.UpdatePool(ctx, "machines", api.UpdatePoolRequest{MachinePolicy: &mp})
	wantField(t, "a different check in machine_policy", err, "machine_policy.health_check", "health_check field")
}

package agent

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	full := map[string]string{EnvServer: "http://s", EnvToken: "tok", EnvWorkDir: "/w"}
	tests := []struct {
		name    string
		unset   string
		wantErr string
	}{
		{"all set", "", ""},
		{"no server", EnvServer, "DYNPOOL_SERVER is not set"},
		{"no token", EnvToken, "DYNPOOL_AGENT_TOKEN is not set"},
		{"no work dir", EnvWorkDir, "DYNPOOL_AGENT_WORKDIR is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := configFromEnv(func(k string) string {
				if k == tt.unset {
					return ""
				}
				return full[k]
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("configFromEnv error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("configFromEnv: %v", err)
			}
			if cfg.ServerURL != "http://s" || cfg.Token != "tok" || cfg.WorkDir != "/w" {
				t.Errorf("config = %+v, want the environment's values", cfg)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{ServerURL: "http://s", Token: "tok", WorkDir: "/w"}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no server", func(c *Config) { c.ServerURL = "" }, "server url is empty"},
		{"no token", func(c *Config) { c.Token = "" }, "registration token is empty"},
		{"no work dir", func(c *Config) { c.WorkDir = "" }, "work dir is empty"},
		{"negative wait", func(c *Config) { c.PollWait = -1 }, "poll wait -1ns is negative"},
		{"negative unreachable timeout", func(c *Config) { c.ServerUnreachableTimeout = -time.Second }, "server unreachable timeout -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tt.edit(&cfg)
			err := cfg.withDefaults().validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	err := Run(t.Context(), Config{})
	if err == nil || !strings.Contains(err.Error(), "run agent: server url is empty") {
		t.Errorf("Run = %v, want the validation error", err)
	}
}

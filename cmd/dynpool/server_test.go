package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/server"
)

const hangupCatalog = `images:
  - id: ubuntu-22.04
    name: Ubuntu Server 22.04
    os: linux
    family: ubuntu
    builds:
      - {version: "%s", released: 2026-01-01, artifacts: {process: {}}}
`

func TestHangupReloadsTheCatalogFile(t *testing.T) {
	// Not parallel: it signals the whole test process. Our own Notify
	// keeps SIGHUP's default action (exit) away even before the server's
	// handler is registered.
	keep := make(chan os.Signal, 1)
	signal.Notify(keep, syscall.SIGHUP)
	defer signal.Stop(keep)

	path := filepath.Join(t.TempDir(), "catalog.yaml")
	write := func(build string) {
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(hangupCatalog, "%s", build)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("1")
	cat, err := catalog.Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	srv, err := server.New(t.Context(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Catalog: cat, CatalogPath: path})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { stop(); <-done }()
	go reloadOnHangup(ctx, srv)

	admin := client.New(srv.URL(), srv.AdminToken())
	tn, err := admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := client.New(srv.URL(), tn.APIKey)
	write("2")
	eventually.Holds(t, "SIGHUP to reload the catalog", 10*time.Second, func() bool {
		_ = syscall.Kill(os.Getpid(), syscall.SIGHUP) // again, in case the handler was not listening yet
		img, err := c.GetImage(t.Context(), "ubuntu-22.04")
		return err == nil && len(img.Builds) == 1 && img.Builds[0].Version == "2"
	})
}

package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dynpool/dynpool/api"
)

// TestConsoleInBrowser drives the console in headless Chromium as a
// tenant and then as the operator, on the lifecycle catalog (clock at
// 2026-11-29: ubuntu-18.04 deprecated, ubuntu-24.04 in preview), and
// saves a screenshot of every page.
func TestConsoleInBrowser(t *testing.T) {
	b := newBrowser(t) // skips without a browser, before a server starts
	s, _, _ := lifecycleServer(t)
	acme, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	ac := clientFor(s, acme.APIKey)
	pinned := s.pool(t, ac, "Pinned", "ubuntu-18.04") // the first pool: the default
	preview := s.pool(t, ac, "Preview", "ubuntu-24.04")
	globex, err := s.admin.CreateTenant(t.Context(), "globex")
	if err != nil {
		t.Fatal(err)
	}
	secret := s.pool(t, clientFor(s, globex.APIKey), "Secret", "ubuntu-18.04")
	base := s.URL()

	// Sign in and see the labels.
	b.do("open the console", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
	b.shot("01-signin")
	b.signIn(base, acme.APIKey, "#pools")
	b.wantText("#pool-"+pinned.ID, "Pinned", "Default pool", "Ubuntu Server 18.04")
	b.wantText("#pool-"+pinned.ID+" .labels", "Deprecated")
	b.wantText("#pool-"+pinned.ID+"-warnings", "2027-01-15")
	b.wantText("#pool-"+preview.ID+" .labels", "Preview")
	b.shot("02-pools")

	// Start a task on the deprecated pool from the console and watch its
	// log arrive: the script holds until the test opens the gate.
	gate := filepath.Join(t.TempDir(), "gate")
	b.do("run a task",
		chromedp.Navigate(base+"/console/tasks"),
		chromedp.Click(chromedp.CSS("details.run summary")),
		chromedp.WaitVisible(chromedp.CSS("#task-name")),
		chromedp.SendKeys(chromedp.CSS("#task-name"), "Deploy web"),
		chromedp.SetValue(chromedp.CSS("#task-pool"), pinned.ID),
		chromedp.SetValue(chromedp.CSS("#task-script"),
			fmt.Sprintf("echo first line; while [ ! -e %s ]; do sleep 0.05; done; echo second line", gate)),
	)
	b.shot("03-run-form")
	b.do("submit the task",
		chromedp.Click(chromedp.CSS("#run")),
		chromedp.WaitVisible(`//ol[@id="log"]/li[contains(., "first line")]`),
		chromedp.WaitVisible(chromedp.CSS("#log li.level-warning")),
	)
	b.wantText("#log li.level-warning", "deprecated and will be decommissioned on 2027-01-15")
	b.wantText("#task-state", api.StateRunning)
	eval[bool](b, "window.sameDocument = true") // a reload would lose it
	b.shot("04-task-running")
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("watch the rest of the log arrive",
		chromedp.WaitVisible(`//ol[@id="log"]/li[contains(., "second line")]`),
		chromedp.WaitVisible(chromedp.CSS("#task-state.state-success")),
	)
	b.wantText("#task-finished", "2026-11-29 09:00:00 UTC")
	if !eval[bool](b, "window.sameDocument === true") {
		t.Error("the task page reloaded: the log did not arrive live")
	}
	b.shot("05-task-done")

	b.do("task list", chromedp.Navigate(base+"/console/tasks"), chromedp.WaitVisible(chromedp.CSS("#tasks")))
	b.wantText("#tasks", "Deploy web", api.StateSuccess)
	b.shot("06-tasks")
	b.do("workers", chromedp.Navigate(base+"/console/workers"), chromedp.WaitVisible(chromedp.CSS("#workers")))
	b.wantText("#workers", "Pinned", api.WorkerIdle, "ubuntu-18.04", "2026.10.05", "idle timeout")
	b.shot("07-workers")
	b.do("images", chromedp.Navigate(base+"/console/images"), chromedp.WaitVisible(chromedp.CSS("#image-ubuntu-22\\.04")))
	b.wantText("#image-ubuntu-18\\.04", "deprecated", "2027-01-15")
	b.wantText("#image-ubuntu-22\\.04", "kubectl", "1.22.6", "/opt/kubectl/{{version}}/kubectl")
	b.shot("08-images")

	// Move the pool to a specific current image: the label goes.
	b.do("open the pool", chromedp.Navigate(base+"/console/pools/"+pinned.ID), chromedp.WaitVisible(chromedp.CSS("#image")))
	b.wantText("h1", "Deprecated")
	b.wantText("#tradeoff", "tools and their versions may change under you", "you must edit the pool")
	b.shot("09-pool-edit")
	b.do("change the image",
		chromedp.SetValue(chromedp.CSS("#image"), "ubuntu-22.04"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#saved")),
	)
	if h1 := b.text("h1"); contains(h1, "Deprecated") {
		t.Errorf("pool page after the edit says %q, want no Deprecated label", h1)
	}
	b.shot("10-pool-saved")
	b.do("pool list again", chromedp.Navigate(base+"/console/pools"), chromedp.WaitVisible(chromedp.CSS("#pools")))
	if labels := b.text("#pool-" + pinned.ID + " .labels"); contains(labels, "Deprecated") || !contains(labels, "Active") {
		t.Errorf("pool labels after the edit = %q, want Active and no Deprecated", labels)
	}
	b.shot("11-pools-after-edit")

	// Another tenant's pool is not found, as in the API.
	b.do("another tenant's pool", chromedp.Navigate(base+"/console/pools/"+secret.ID), chromedp.WaitVisible(chromedp.CSS("#error-status")))
	b.wantText("#error-status", "404")
	b.shot("12-other-tenant-pool")

	// The operator's pages.
	b.do("sign out", chromedp.Navigate(base+"/console/pools"), chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#token")))
	b.signIn(base, s.AdminToken(), "#tenants")
	b.wantText("#tenant-"+acme.ID, "acme", "1h0m0s", "72h0m0s", "no limit")
	b.shot("13-admin-tenants")
	b.do("all workers", chromedp.Navigate(base+"/console/admin/workers"), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.shot("14-admin-workers")
	b.do("deprecations", chromedp.Navigate(base+"/console/admin/deprecations"), chromedp.WaitVisible(chromedp.CSS("#deprecations")))
	b.wantText("#deprecation-"+secret.ID, "globex", "Secret", "deprecated", "2027-01-15")
	if got := b.text("#deprecations"); contains(got, "Pinned") {
		t.Errorf("deprecations report lists the pool moved off its deprecated image: %q", got)
	}
	b.shot("15-admin-deprecations")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

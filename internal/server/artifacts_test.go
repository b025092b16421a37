package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/server"
	"github.com/dynpool/dynpool/internal/task"
)

// archiveTask builds an archive in step 1, sets its checksum as an output
// variable and stores it as an artifact; step 2, on another pool and so
// on another worker, fetches the archive and verifies the checksum.
func archiveTask() api.CreateTaskRequest {
	return api.CreateTaskRequest{Name: "build and verify", Steps: []api.StepRequest{
		{Name: "build", Syntax: api.SyntaxBash, Script: `set -euo pipefail
mkdir release
for i in 1 2 3; do echo "part $i" > "release/part-$i.txt"; done
tar -czf release.tar.gz release
sum=$(sha256sum release.tar.gz | cut -d' ' -f1)
set_dynpool_variable ARCHIVE_SHA256 "$sum"
"$DYNPOOL_CLI" agent artifact push release.tar.gz
echo "built on $DYNPOOL_WORKER_ID"`},
		{Name: "verify", Pool: "Other", Syntax: api.SyntaxSh, Script: `set -eu
"$DYNPOOL_CLI" agent artifact pull release.tar.gz --to ./fetched.tgz
echo "$ARCHIVE_SHA256  fetched.tgz" | sha256sum -c -
tar -xzf fetched.tgz
cat release/part-2.txt
echo "verified on $DYNPOOL_WORKER_ID"`},
	}}
}

// TestArchiveAndChecksumPassBetweenStepsOnDifferentWorkers is the issue's
// "done when": the task succeeds, its two steps ran on two workers, and
// the API lists and serves the artifact.
func TestArchiveAndChecksumPassBetweenStepsOnDifferentWorkers(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c, _ := tenantWithTwoPools(t, s)
	created, err := c.CreateTask(t.Context(), archiveTask())
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	tk, lines := followTask(t, c, created.ID)
	if tk.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", tk.State, tk.Error, dump(lines))
	}
	if a, b := tk.Steps[0].WorkerID, tk.Steps[1].WorkerID; a == "" || a == b {
		t.Fatalf("steps ran on workers %q and %q, want two different ones", a, b)
	}
	for _, want := range []string{"Output variable ARCHIVE_SHA256 set", "Artifact release.tar.gz stored", "fetched.tgz: OK", "part 2"} {
		if !logHas(lines, "", want) {
			t.Errorf("task log lacks %q; log:\n%s", want, dump(lines))
		}
	}
	list, err := c.ListArtifacts(t.Context(), tk.ID)
	if err != nil || len(list) != 1 || list[0].Name != "release.tar.gz" || list[0].Step != "build" || list[0].Size == 0 {
		t.Fatalf("artifacts = %+v, %v; want release.tar.gz from build", list, err)
	}
	var buf bytes.Buffer
	sum, err := c.DownloadArtifact(t.Context(), tk.ID, "release.tar.gz", &buf)
	got := sha256.Sum256(buf.Bytes())
	if err != nil || sum != list[0].SHA256 || hex.EncodeToString(got[:]) != sum || int64(buf.Len()) != list[0].Size {
		t.Fatalf("download = %d bytes, sha %s, %v; want %d bytes with sha %s", buf.Len(), sum, err, list[0].Size, list[0].SHA256)
	}
	full, err := c.GetTask(t.Context(), tk.ID)
	if err != nil || len(full.OutputVariables) != 1 || full.OutputVariables[0].Value != list[0].SHA256 {
		t.Fatalf("output variables = %+v, %v; want ARCHIVE_SHA256 = the artifact's checksum", full.OutputVariables, err)
	}
	var ce *client.Error
	if _, err := c.DownloadArtifact(t.Context(), tk.ID, "nope", &buf); !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
		t.Errorf("download of an unknown artifact = %v, want 404", err)
	}
	other := s.tenant(t, "other")
	if _, err := other.ListArtifacts(t.Context(), tk.ID); !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
		t.Errorf("another tenant listing the artifacts = %v, want 404", err)
	}
}

// TestArtifactLimitsAnswer413AndKeepWhatIsStored pushes artifacts over
// the per-file and per-task limits: each refusal is a 413 that says
// which limit, and the artifact stored before stays whole.
func TestArtifactLimitsAnswer413AndKeepWhatIsStored(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *server.Config) {
		c.Artifacts = task.ArtifactLimits{MaxFileBytes: 1000, MaxTaskBytes: 1500}
	})
	c := s.tenant(t, "acme")
	tk, lines := runTask(t, c, api.StepRequest{Name: "push", Syntax: api.SyntaxBash, Script: `set -u
head -c 800 /dev/zero | tr '\0' a > a.bin
"$DYNPOOL_CLI" agent artifact push a.bin || exit 1
head -c 1200 /dev/zero > big.bin
"$DYNPOOL_CLI" agent artifact push big.bin; echo "big exit $?"
head -c 1200 /dev/zero | "$DYNPOOL_CLI" agent artifact push /dev/stdin --name piped.bin; echo "piped exit $?"
head -c 800 /dev/zero > b.bin
"$DYNPOOL_CLI" agent artifact push b.bin; echo "b exit $?"
head -c 600 /dev/zero | tr '\0' c > a.bin
"$DYNPOOL_CLI" agent artifact push a.bin; echo "replace exit $?"`})
	if tk.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", tk.State, tk.Error, dump(lines))
	}
	for _, want := range []string{
		"big exit 1", "piped exit 1", "b exit 1", "replace exit 0",
		"server answered 413: too large: artifact big.bin is 1200 bytes or more, over the limit of 1000 bytes per artifact; nothing of it was stored",
		"over the limit of 1500 bytes per task; nothing of it was stored, and the task's other artifacts are unchanged",
	} {
		if !logHas(lines, "", want) {
			t.Errorf("task log lacks %q; log:\n%s", want, dump(lines))
		}
	}
	if !logHas(lines, "", "artifact piped.bin is") {
		t.Errorf("the streamed upload (no length) was not refused by name; log:\n%s", dump(lines))
	}
	list, err := c.ListArtifacts(t.Context(), tk.ID)
	if err != nil || len(list) != 1 || list[0].Name != "a.bin" || list[0].Size != 600 {
		t.Fatalf("artifacts = %+v, %v; want only a.bin, replaced (600 bytes)", list, err)
	}
	var buf bytes.Buffer
	if _, err := c.DownloadArtifact(t.Context(), tk.ID, "a.bin", &buf); err != nil || buf.String() != strings.Repeat("c", 600) {
		t.Fatalf("a.bin = %d bytes, %v; want the 600 c's", buf.Len(), err)
	}
}

// TestJobCredentialOpensOnlyItsJobWhileItRuns keeps a step's credential
// and tries it after the job ended, and on another job while it ran.
func TestJobCredentialOpensOnlyItsJobWhileItRuns(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	dir := t.TempDir()
	// Step 1 leaves its credential behind; step 2 tries it on step 1's
	// job (ended) and its own job id with step 1's credential.
	tk, lines := runTask(t, c,
		api.StepRequest{Name: "leak", Script: `echo "$DYNPOOL_JOB_ID $DYNPOOL_JOB_TOKEN" > ` + filepath.Join(dir, "cred") + `
echo "my token is $DYNPOOL_JOB_TOKEN"`},
		api.StepRequest{Name: "reuse", Script: `read id tok < ` + filepath.Join(dir, "cred") + `
DYNPOOL_JOB_TOKEN=$tok "$DYNPOOL_CLI" agent artifact list; echo "mine exit $?"
DYNPOOL_JOB_ID=$id DYNPOOL_JOB_TOKEN=$tok "$DYNPOOL_CLI" agent artifact list; echo "ended exit $?"`},
	)
	if tk.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", tk.State, tk.Error, dump(lines))
	}
	for _, want := range []string{"mine exit 1", "ended exit 1", "the credential is not job", "has ended (success)", "my token is ********"} {
		if !logHas(lines, "", want) {
			t.Errorf("task log lacks %q; log:\n%s", want, dump(lines))
		}
	}
	cred, err := os.ReadFile(filepath.Join(dir, "cred"))
	if err != nil {
		t.Fatal(err)
	}
	id, tok, _ := strings.Cut(strings.TrimSpace(string(cred)), " ")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+"/agent/v1/jobs/"+id+"/artifacts", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a finished job's credential = %d, want 401", resp.StatusCode)
	}
}

// TestPostgresRowsHoldNoSensitiveValue runs the variables task on
// PostgreSQL and reads every row of every table as text.
func TestPostgresRowsHoldNoSensitiveValue(t *testing.T) {
	t.Parallel()
	dbURL := postgresURL(t)
	s := startServer(t, func(c *server.Config) { c.DatabaseURL = dbURL })
	c, key := tenantWithTwoPools(t, s)
	created, err := c.CreateTask(t.Context(), variablesTask())
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	tk, lines := followTask(t, c, created.ID)
	if tk.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", tk.State, tk.Error, dump(lines))
	}
	assertNoSecretsInAPI(t, s, key, tk.ID)
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables = %v, %v", tables, err)
	}
	for _, table := range tables {
		var text string
		if err := conn.QueryRow(t.Context(), `SELECT COALESCE(string_agg(t::text, E'\n'), '') FROM `+pgx.Identifier{table}.Sanitize()+` t`).Scan(&text); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, s := range []string{inputSecret, stepSecret, outputSecret} {
			if strings.Contains(text, s) {
				t.Errorf("table %s holds the sensitive value %q in plain text", table, s)
			}
		}
	}
}

package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/server"
)

// Sensitive values of the tests; none may appear in a log line, an API
// answer or a database row.
const (
	inputSecret  = "in-S3cr3t-7f2c9a"
	stepSecret   = "step-S3cr3t-41be"
	outputSecret = "out-S3cr3t-d00d5"
)

// variablesTask sets task and step variables, and output variables in
// step 1 that step 3 (on another pool, so another worker) reads.
func variablesTask() api.CreateTaskRequest {
	return api.CreateTaskRequest{
		Name: "variables",
		Variables: []api.Variable{
			{Name: "REGION", Value: "eu-west"},
			{Name: "PASSWORD", Value: inputSecret, Sensitive: true},
		},
		Steps: []api.StepRequest{
			{Name: "produce", Syntax: api.SyntaxBash, Script: `echo "region=$REGION password=$PASSWORD"
printf 'long:%s' "$(head -c 65530 /dev/zero | tr '\0' a)"; echo "$PASSWORD"
set_dynpool_variable BUILD_ID "build-$REGION-42"
TOKEN="out-S3cr3t-$(printf d00d)5" # made by the step: the script does not hold it
set_dynpool_variable TOKEN "$TOKEN" true
echo "token=$TOKEN"
echo '##dynpool[setVariable name=broken'`},
			{Name: "middle", Syntax: api.SyntaxPython, Script: `import os
print("middle sees", os.environ["BUILD_ID"], os.environ["STEP_ONLY"])`,
				Variables: []api.Variable{{Name: "STEP_ONLY", Value: stepSecret, Sensitive: true}}},
			{Name: "consume", Pool: "Other", Syntax: api.SyntaxSh, Script: `set -eu
test "$BUILD_ID" = build-eu-west-42
test "$TOKEN" = "out-S3cr3t-$(printf d00d)5"
test "$REGION" = us-east
test -z "${STEP_ONLY:-}"
echo "consume sees $BUILD_ID $TOKEN $PASSWORD on $DYNPOOL_WORKER_ID"`,
				Variables: []api.Variable{{Name: "REGION", Value: "us-east"}}},
		},
	}
}

// TestVariablesReachStepsAndSensitiveValuesStayHidden is the variables
// flow end to end: inputs and a step override reach the scripts, an
// output variable of step 1 reaches step 3 on another worker, and no
// sensitive value shows in the log (not even cut at the 64 KiB line
// limit), the API or the SQLite file.
func TestVariablesReachStepsAndSensitiveValuesStayHidden(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c, key := tenantWithTwoPools(t, s)
	created, err := c.CreateTask(t.Context(), variablesTask())
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	task, lines := followTask(t, c, created.ID)
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	for _, want := range []string{
		"region=eu-west password=********",
		"Output variable BUILD_ID set",
		"Output variable TOKEN set (sensitive)",
		"token=********",
		"Ignored a service message",
		"middle sees build-eu-west-42 ********",
		"consume sees build-eu-west-42 ******** ********",
	} {
		if !logHas(lines, "", want) {
			t.Errorf("task log lacks %q; log:\n%s", want, dump(lines))
		}
	}
	if task.Steps[0].WorkerID == task.Steps[2].WorkerID {
		t.Errorf("steps 1 and 3 ran on one worker %s; the test wants two", task.Steps[0].WorkerID)
	}
	joined := dump(lines)
	if !strings.Contains(joined, "********") || strings.Contains(joined, "##dynpool[setVariable name='TOKEN'") {
		t.Errorf("the log shows a service message as is")
	}

	got, err := c.GetTask(t.Context(), task.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantVars := []api.Variable{{Name: "PASSWORD", Sensitive: true}, {Name: "REGION", Value: "eu-west"}}
	if !equalJSON(got.Variables, wantVars) {
		t.Errorf("task variables = %+v, want %+v", got.Variables, wantVars)
	}
	if !equalJSON(got.Steps[1].Variables, []api.Variable{{Name: "STEP_ONLY", Sensitive: true}}) {
		t.Errorf("step variables = %+v, want STEP_ONLY without value", got.Steps[1].Variables)
	}
	outs := map[string]api.OutputVariable{}
	for _, o := range got.OutputVariables {
		outs[o.Name] = o
	}
	if o := outs["BUILD_ID"]; o.Value != "build-eu-west-42" || o.Step != "produce" || o.Sensitive {
		t.Errorf("output BUILD_ID = %+v, want its value, set by produce", o)
	}
	if o := outs["TOKEN"]; o.Value != "" || !o.Sensitive || o.Step != "produce" {
		t.Errorf("output TOKEN = %+v, want sensitive without value", o)
	}
	assertNoSecretsInAPI(t, s, key, task.ID)
	assertNoSecretsInFiles(t, s.dir)
}

// followTask follows task id's log to its end.
func followTask(t *testing.T, c *client.Client, id string) (*api.Task, []api.LogLine) {
	t.Helper()
	var lines []api.LogLine
	task, err := c.FollowLog(t.Context(), id, func(l api.LogLine) { lines = append(lines, l) })
	if err != nil {
		t.Fatalf("follow log: %v", err)
	}
	return task, lines
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// secretPieces are the test's sensitive values and their halves: a value
// cut at a line limit shows as two pieces.
func secretPieces() []string {
	var out []string
	for _, s := range []string{inputSecret, stepSecret, outputSecret} {
		out = append(out, s, s[:len(s)/2+1], s[len(s)/2:])
	}
	return out
}

// assertNoSecretsInAPI reads the task, its log and the task list raw and
// looks for the sensitive values.
func assertNoSecretsInAPI(t *testing.T, s *testServer, key, id string) {
	t.Helper()
	for _, path := range []string{"/api/v1/tasks/" + id, "/api/v1/tasks/" + id + "/log", "/api/v1/tasks"} {
		body := rawGet(t, s.URL()+path, key)
		for _, p := range secretPieces() {
			if strings.Contains(body, p) {
				t.Errorf("GET %s carries the sensitive value piece %q", path, p)
			}
		}
	}
}

// assertNoSecretsInFiles scans every file of the data directory (the
// SQLite database and its WAL among them) for the sensitive values.
func assertNoSecretsInFiles(t *testing.T, dir string) {
	t.Helper()
	scanned := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(d.Name(), "dynpool.db") {
			return err
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil // a WAL checkpointed away meanwhile
		}
		if err != nil {
			return err
		}
		scanned++
		for _, s := range []string{inputSecret, stepSecret, outputSecret} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the sensitive value %q in plain text", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan the data directory: %v", err)
	}
	if scanned == 0 {
		t.Fatal("no database file found to scan")
	}
}

// rawGet returns the body of GET url with API key key, as sent on the
// wire rather than decoded.
func rawGet(t *testing.T, url, key string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b.String())
	}
	return b.String()
}

func TestVariablesWithBadNamesAnswer400NamingTheField(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := s.tenant(t, "acme")
	for _, tc := range []struct {
		req   api.CreateTaskRequest
		field string
	}{
		{api.CreateTaskRequest{Variables: []api.Variable{{Name: "BAD-NAME", Value: "x"}}, Steps: []api.StepRequest{{Script: "true"}}}, "variables[0].name"},
		{api.CreateTaskRequest{Variables: []api.Variable{{Name: "A"}, {Name: "A"}}, Steps: []api.StepRequest{{Script: "true"}}}, "variables[1].name"},
		{api.CreateTaskRequest{Steps: []api.StepRequest{{Script: "true"}, {Script: "true", Variables: []api.Variable{{Name: "DYNPOOL_JOB_TOKEN"}}}}}, "steps[1].variables[0].name"},
		{api.CreateTaskRequest{Steps: []api.StepRequest{{Script: "true", Variables: []api.Variable{{Name: "OK", Value: "nul\x00"}}}}}, "steps[0].variables[0].value"},
		{api.CreateTaskRequest{Steps: []api.StepRequest{{Script: "true", Variables: []api.Variable{{Name: "OK", Value: strings.Repeat("v", 40<<10)}}}}}, "steps[0].variables[0].value"},
	} {
		_, err := c.CreateTask(t.Context(), tc.req)
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || ce.Field != tc.field {
			t.Errorf("create task with %+v = %v, want 400 naming %s", tc.req.Variables, err, tc.field)
		}
	}
}

func TestPostgresServerNeedsASecretKey(t *testing.T) {
	t.Parallel()
	_, err := server.New(t.Context(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		DatabaseURL: "postgres://nobody@127.0.0.1:1/none"})
	if err == nil || !strings.Contains(err.Error(), "DYNPOOL_SECRET_KEY is required") {
		t.Fatalf("server.New on PostgreSQL without a key = %v, want an error saying DYNPOOL_SECRET_KEY is required", err)
	}
	_, err = server.New(t.Context(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), SecretKey: "too-short"})
	if err == nil || !strings.Contains(err.Error(), "base64 encoding of 32 bytes") {
		t.Fatalf("server.New with a bad key = %v, want an error describing the key format", err)
	}
}

// tenantWithTwoPools creates a tenant with pools "Linux" (default) and
// "Other" on the same image: steps on different pools get different
// workers. It returns the tenant's client and API key.
func tenantWithTwoPools(t *testing.T, s *testServer) (*client.Client, string) {
	t.Helper()
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := clientFor(s, tn.APIKey)
	for _, name := range []string{"Linux", "Other"} {
		if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: name, Image: "ubuntu-default"}); err != nil {
			t.Fatalf("create pool %s: %v", name, err)
		}
	}
	return c, tn.APIKey
}

// Service messages that quote a secret, in a malformed message or copied
// into a variable not marked sensitive, do not leak it: the log line that
// replaces a malformed one is masked, and a copy is kept sensitive.
func TestServiceMessagesDoNotLeakSecrets(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c, key := tenantWithTwoPools(t, s)
	created, err := c.CreateTask(t.Context(), api.CreateTaskRequest{
		Name:      "leak",
		Variables: []api.Variable{{Name: "PASSWORD", Value: inputSecret, Sensitive: true}},
		Steps: []api.StepRequest{{Name: "s", Syntax: api.SyntaxBash, Script: `echo "##dynpool[$PASSWORD]"
echo "##dynpool[setVariable $PASSWORD='x']"
echo "##dynpool[setVariable name='COPY' value='$PASSWORD']"
echo "##dynpool[setVariable name='C2' value='x' sensitive='$PASSWORD']"`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	task, lines := followTask(t, c, created.ID)
	if !logHas(lines, api.LevelWarning, "Ignored a service message") || !logHas(lines, "", "Output variable COPY set (sensitive)") {
		t.Errorf("log lacks the ignored messages or the sensitive copy:\n%s", dump(lines))
	}
	for _, l := range lines {
		if strings.Contains(l.Message, inputSecret) {
			t.Errorf("log line shows the secret: %q", l.Message)
		}
	}
	assertNoSecretsInAPI(t, s, key, task.ID)
	assertNoSecretsInFiles(t, s.dir)
}

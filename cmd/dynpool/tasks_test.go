package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

func TestTasksCommands(t *testing.T) {
	t.Parallel()
	task := `{"id":"k1","name":"deploy","state":"failed","error":"step 1 failed",
	 "steps":[{"name":"build","pool_id":"p1","syntax":"bash","state":"failed","worker_id":"w-1","exit_code":2,"error":"exit 2"}]}`
	tests := []struct {
		name    string
		args    []string
		route   string
		wantOut string
	}{
		{"show", []string{"tasks", "show", "k1"}, "GET /api/v1/tasks/k1",
			"task k1 \"deploy\": failed\nerror: step 1 failed\nSTEP   POOL  SYNTAX  STATE   WORKER  EXIT  ERROR\nbuild  p1    bash    failed  w-1     2     exit 2\n"},
		{"show json", []string{"-o", "json", "tasks", "show", "k1"}, "GET /api/v1/tasks/k1", `"exit_code": 2`},
		{"cancel", []string{"tasks", "cancel", "k1"}, "POST /api/v1/tasks/k1/cancel", "task k1 \"deploy\": failed"},
		{"log", []string{"tasks", "log", "k1"}, "GET /api/v1/tasks/k1/log", "WARNING [build] careful\n"},
		{"log json", []string{"-o", "json", "tasks", "log", "k1"}, "GET /api/v1/tasks/k1/log", `"message": "careful"`},
		{"log follow", []string{"tasks", "log", "k1", "--follow"}, "GET /api/v1/tasks/k1/log?follow=true", "ERROR   followed\n"},
		{"log follow json", []string{"-o", "json", "tasks", "log", "-f", "k1"}, "GET /api/v1/tasks/k1/log?follow=true",
			"{\"seq\":1,\"time\":\"0001-01-01T00:00:00Z\",\"level\":\"error\",\"message\":\"followed\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, map[string]http.HandlerFunc{
				"GET /api/v1/tasks/k1":         jsonAnswer(200, task),
				"POST /api/v1/tasks/k1/cancel": jsonAnswer(200, task),
				"GET /api/v1/tasks/k1/log": func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Query().Get("follow") == "true" {
						sseAnswer([]api.LogLine{{Seq: 1, Level: api.LevelError, Message: "followed"}},
							api.Task{ID: "k1", State: api.StateSuccess})(w, r)
						return
					}
					jsonAnswer(200, `{"lines":[{"seq":1,"level":"warning","step":"build","message":"careful"}]}`)(w, r)
				},
			})
			checkCommand(t, f, tt.args, tt.route, "", tt.wantOut)
		})
	}
}

func TestTasksList(t *testing.T) {
	t.Parallel()
	list := `{"tasks":[{"id":"k2","name":"deploy","state":"running","created_at":"2026-11-30T01:02:03Z","steps":[{},{}]},` +
		`{"id":"k1","name":"runbook","state":"success","created_at":"2026-11-29T09:00:00Z","steps":[{}]}]}`
	f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/tasks": jsonAnswer(200, list)})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "tasks", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"k2  deploy   running  2      2026-11-30 01:02:03", "k1  runbook  success  1      2026-11-29 09:00:00"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

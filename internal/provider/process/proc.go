package process

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/dynpool/dynpool/internal/provider"
)

// procRoot is where the process table is read from.
const procRoot = "/proc"

// proc is one live process carrying a worker's environment.
type proc struct {
	pid  int
	pgid int
	env  map[string]string
}

// scan returns the live processes whose environment carries
// DYNPOOL_INSTALLATION=installation and, when workerID is not empty,
// DYNPOOL_WORKER_ID=workerID. Zombies do not count, and processes that
// vanish or cannot be read (another user's) are skipped.
func scan(installation, workerID string) ([]proc, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("read process table: %w", err)
	}
	var procs []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(procRoot + "/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		env := parseEnviron(data)
		if env[provider.EnvInstallation] != installation || (workerID != "" && env[provider.EnvWorkerID] != workerID) {
			continue
		}
		pgid, live := readStat(pid)
		if !live {
			continue
		}
		procs = append(procs, proc{pid: pid, pgid: pgid, env: env})
	}
	return procs, nil
}

// parseEnviron parses the NUL-separated KEY=value pairs of
// /proc/<pid>/environ.
func parseEnviron(data []byte) map[string]string {
	env := make(map[string]string)
	for kv := range bytes.SplitSeq(data, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	return env
}

// readStat returns the process group of pid and whether pid is live: it
// exists and is neither a zombie (Z) nor dead (X).
func readStat(pid int) (pgid int, live bool) {
	data, err := os.ReadFile(procRoot + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// "pid (comm) state ppid pgrp ..."; comm may hold spaces and parens.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
		return 0, false
	}
	pgid, err = strconv.Atoi(fields[2])
	if err != nil {
		return 0, false
	}
	return pgid, true
}

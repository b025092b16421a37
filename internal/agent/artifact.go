package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// Environment of a step's script that the artifact helpers read: the
// server, and the job's id and credential. The credential opens the
// artifacts of its own task only, and only while its job runs on its
// worker; the server refuses it once the job has ended.
const (
	EnvJobID    = "DYNPOOL_JOB_ID"
	EnvJobToken = "DYNPOOL_JOB_TOKEN"
)

// HeaderSHA256 carries an artifact's hex SHA-256 on a download.
const HeaderSHA256 = "Dynpool-Artifact-Sha256"

// jobClient calls the artifact endpoints of one job.
type jobClient struct {
	base, jobID, token string
	http               *http.Client
}

// newJobClient reads the script's environment through getenv; the error
// names the first missing variable.
func newJobClient(getenv func(string) string) (*jobClient, error) {
	c := &jobClient{base: strings.TrimRight(getenv(EnvServer), "/"), jobID: getenv(EnvJobID), token: getenv(EnvJobToken),
		http: tlspin.Client(getenv(tlspin.EnvFingerprint))}
	for _, v := range []struct{ name, value string }{{EnvServer, c.base}, {EnvJobID, c.jobID}, {EnvJobToken, c.token}} {
		if v.value == "" {
			return nil, fmt.Errorf("%s is not set: run this inside a step's script", v.name)
		}
	}
	return c, nil
}

func (c *jobClient) url(name string) string {
	u := c.base + "/agent/v1/jobs/" + url.PathEscape(c.jobID) + "/artifacts"
	if name != "" {
		u += "/" + url.PathEscape(name)
	}
	return u
}

// do sends req with the job's credential; a non-2xx answer is an error
// carrying the server's message.
func (c *jobClient) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		se := &StatusError{Status: resp.StatusCode}
		var er api.ErrorResponse
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&er) == nil {
			se.Err = er.Error
		}
		return nil, se
	}
	return resp, nil
}

// ArtifactPush uploads file as artifact name (default: the file's base
// name) of the running step's task, replacing one of that name.
func ArtifactPush(ctx context.Context, getenv func(string) string, file, name string) (*api.Artifact, error) {
	c, err := newJobClient(getenv)
	if err != nil {
		return nil, fmt.Errorf("push artifact: %w", err)
	}
	if name == "" {
		name = filepath.Base(file)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("push artifact: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("push artifact: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("push artifact: %s is a directory: archive it first (tar, zip)", file)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.url(name), io.NopCloser(f))
	if err != nil {
		return nil, fmt.Errorf("push artifact %s: %w", name, err)
	}
	req.ContentLength = -1 // a pipe (/dev/stdin) streams; the server counts
	if fi.Mode().IsRegular() {
		// The server refuses an artifact over its limits before reading it.
		req.ContentLength = fi.Size()
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("push artifact %s: %w", name, err)
	}
	defer resp.Body.Close()
	var a api.Artifact
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return nil, fmt.Errorf("push artifact %s: decode answer: %w", name, err)
	}
	return &a, nil
}

// ArtifactPull downloads artifact name of the running step's task to to
// (default: name in the working directory; a directory gets name inside
// it), checking its SHA-256, and returns the path written. The file
// appears whole or not at all.
func ArtifactPull(ctx context.Context, getenv func(string) string, name, to string) (string, error) {
	c, err := newJobClient(getenv)
	if err != nil {
		return "", fmt.Errorf("pull artifact: %w", err)
	}
	if to == "" {
		to = name
	}
	if fi, err := os.Stat(to); err == nil && fi.IsDir() {
		to = filepath.Join(to, name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(name), nil)
	if err != nil {
		return "", fmt.Errorf("pull artifact %s: %w", name, err)
	}
	resp, err := c.do(req)
	if err != nil {
		return "", fmt.Errorf("pull artifact %s: %w", name, err)
	}
	defer resp.Body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(to), ".dynpool-artifact-*")
	if err != nil {
		return "", fmt.Errorf("pull artifact %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, removes nothing
	sum := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, sum), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("pull artifact %s: %w", name, err)
	}
	if want, got := resp.Header.Get(HeaderSHA256), hex.EncodeToString(sum.Sum(nil)); want != "" && want != got {
		return "", fmt.Errorf("pull artifact %s: %w: sha256 %s, want %s", name, errCorrupt, got, want)
	}
	if err := os.Rename(tmp.Name(), to); err != nil {
		return "", fmt.Errorf("pull artifact %s: %w", name, err)
	}
	return to, nil
}

// errCorrupt: a download's content does not match its checksum.
var errCorrupt = errors.New("the download is damaged")

// ArtifactList lists the artifacts of the running step's task.
func ArtifactList(ctx context.Context, getenv func(string) string) ([]api.Artifact, error) {
	c, err := newJobClient(getenv)
	if err != nil {
		return nil, fmt.Errorf("list artifacts: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(""), nil)
	if err != nil {
		return nil, fmt.Errorf("list artifacts: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("list artifacts: %w", err)
	}
	defer resp.Body.Close()
	var l api.ArtifactList
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return nil, fmt.Errorf("list artifacts: decode answer: %w", err)
	}
	return l.Artifacts, nil
}

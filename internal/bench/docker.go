package bench

import (
	"bufio"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/server"
)

// dockerScript is the docker rows' script, for sh (the test image has no
// bash): it prints firstLine and keeps running, as startStep does.
const dockerScript = "echo " + firstLine + "; sleep 0.25"

// coldDocker measures a cold step start with the docker provider (a new
// tenant, so a new network and container, each time) against a bare
// container run of the same image through the Engine API.
func (b *bencher) coldDocker(ctx context.Context) []Row {
	row := Row{Key: keyColdDocker, Name: "cold step start (docker): submit → first output line"}
	eng, err := b.engine(ctx)
	if err != nil {
		row.Note = "skipped: " + err.Error()
		return []Row{row}
	}
	defer eng.Close()
	bin, err := b.staticAgent()
	if err != nil {
		row.Note = "skipped: " + err.Error()
		return []Row{row}
	}
	var got samples
	err = func() error {
		cat, err := catalog.Parse([]byte(fmt.Sprintf(dockerCatalog, b.opt.DockerImage)))
		if err != nil {
			return fmt.Errorf("docker catalog: %w", err)
		}
		// Agents in containers reach the server through the bridge's
		// gateway, so it listens beyond loopback.
		s, err := b.startServer(ctx, func(c *server.Config) {
			c.Listen, c.Provider, c.Catalog = "0.0.0.0:0", "docker", cat
			c.Docker.Host, c.Docker.AgentBinary = b.opt.DockerHost, bin
		})
		if err != nil {
			return err
		}
		defer s.close(ctx, b.logger)
		step := api.StepRequest{Name: "start", Syntax: api.SyntaxSh, Script: dockerScript}
		for i := range b.size.docker {
			c, err := s.tenant(ctx, fmt.Sprintf("bench-docker-%d", i), "busybox")
			if err != nil {
				return err
			}
			d, err := runStep(ctx, c, step, firstLine)
			if err != nil {
				return err
			}
			got = append(got, d)
		}
		return nil
	}()
	if err != nil {
		row.Note = "failed: " + err.Error()
		return []Row{row}
	}
	var bare samples
	for range b.size.docker {
		d, err := bareRun(ctx, eng, b.opt.DockerImage)
		if err != nil {
			row.Value, row.Note = got.p50p99(), "baseline failed: "+err.Error()
			return []Row{row}
		}
		bare = append(bare, d)
	}
	row.Value, row.Baseline = got.p50p99(), bare.p50p99()
	row.Ratio = ratio(got.quantile(0.5), bare.quantile(0.5))
	row.Note = fmt.Sprintf("%d samples, image %s; baseline: container create+start through the Engine API, its first line read", len(got), b.opt.DockerImage)
	if nets, err := networkCreates(ctx, eng, b.size.docker); err == nil {
		row.Note += fmt.Sprintf("; a new tenant's network alone takes %s (p50)", round(nets.quantile(0.5)))
	}
	return []Row{row}
}

// networkCreates times n creations of a bridge network, the part of a
// new tenant's first docker worker that a bare run does not pay.
func networkCreates(ctx context.Context, eng *client.Client, n int) (samples, error) {
	var out samples
	for i := range n {
		start := time.Now()
		created, err := eng.NetworkCreate(ctx, fmt.Sprintf("dynpool-bench-%d-%d", os.Getpid(), i), network.CreateOptions{
			Driver: "bridge", Labels: map[string]string{"dynpool.bench": "network"},
		})
		if err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
		if err := eng.NetworkRemove(context.WithoutCancel(ctx), created.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dockerCatalog offers the docker rows' image as "busybox".
const dockerCatalog = `images:
  - id: busybox
    name: BusyBox
    os: linux
    family: busybox
    builds:
      - {version: "1", released: 2026-01-01, artifacts: {docker: %q}}
`

// engine returns a client of an engine that answers and has the image.
func (b *bencher) engine(ctx context.Context) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if b.opt.DockerHost != "" {
		opts = append(opts, client.WithHost(b.opt.DockerHost))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Ping(pctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("no docker engine answers (%w)", err)
	}
	if _, err := c.ImageInspect(pctx, b.opt.DockerImage); err != nil {
		c.Close()
		return nil, fmt.Errorf("the engine lacks image %s (build it with `bash .ci/docker-images.sh`): %w", b.opt.DockerImage, err)
	}
	return c, nil
}

// staticAgent returns Options.DockerAgentBinary, or this executable when it
// is a static binary (containers have no dynamic loader for it).
func (b *bencher) staticAgent() (string, error) {
	if b.opt.DockerAgentBinary != "" {
		return filepath.Abs(b.opt.DockerAgentBinary)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this executable: %w", err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", exe, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", errors.New("this dynpool is dynamically linked; build it with CGO_ENABLED=0 (make bench does) or pass --docker-agent-binary")
		}
	}
	return exe, nil
}

// bareRun is the floor of a cold docker start: create and start a
// container of image running dockerScript, and read its first line.
func bareRun(ctx context.Context, eng *client.Client, image string) (time.Duration, error) {
	start := time.Now()
	created, err := eng.ContainerCreate(ctx, &container.Config{
		Image: image, Cmd: []string{"sh", "-c", dockerScript},
		AttachStdout: true, AttachStderr: true,
		Labels: map[string]string{"dynpool.bench": "bare-run"},
	}, &container.HostConfig{AutoRemove: false}, nil, nil, "")
	if err != nil {
		return 0, fmt.Errorf("create container: %w", err)
	}
	defer func() {
		_ = eng.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	}()
	att, err := eng.ContainerAttach(ctx, created.ID, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return 0, fmt.Errorf("attach: %w", err)
	}
	defer att.Close()
	if err := eng.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return 0, fmt.Errorf("start container: %w", err)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, io.Discard, att.Reader)
		pw.CloseWithError(err)
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	took := time.Since(start)
	pr.Close()
	if err != nil || line != firstLine+"\n" {
		return 0, fmt.Errorf("container printed %q: %v", line, err)
	}
	return took, nil
}

package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// putArtifact uploads and commits an artifact of chunks under name.
func putArtifact(t *testing.T, s store.Store, task, id, name string, max int64, chunks ...[]byte) (*store.Artifact, error) {
	t.Helper()
	must(t, "begin "+id, s.ArtifactBegin(t.Context(), &store.Artifact{ID: id, TaskID: task, StepID: task + "-s0", Name: name, CreatedAt: t0}))
	var size int64
	for i, c := range chunks {
		must(t, "chunk", s.ArtifactChunkPut(t.Context(), id, i, c))
		size += int64(len(c))
	}
	return s.ArtifactCommit(t.Context(), &store.ArtifactCommitParams{ID: id, Size: size, SHA256: "sha-" + id, MaxTaskBytes: max})
}

// readArtifact returns the chunks of artifact id joined.
func readArtifact(t *testing.T, s store.Store, id string) []byte {
	t.Helper()
	var out []byte
	for i := 0; ; i++ {
		c, err := s.ArtifactChunk(t.Context(), id, i)
		if errors.Is(err, store.ErrNotFound) {
			return out
		}
		must(t, "read chunk", err)
		out = append(out, c...)
	}
}

func testArtifact(t *testing.T, open opener) {
	t.Run("UploadListReadReplace", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTask(t, s, "t1", "k1", "running", 0)
		a, err := putArtifact(t, s, "k1", "a1", "app.tgz", 0, []byte("hello "), []byte("world"), nil)
		must(t, "put", err)
		check(t, "committed artifact", a, &store.Artifact{ID: "a1", TaskID: "k1", StepID: "k1-s0", Name: "app.tgz",
			Size: 11, SHA256: "sha-a1", CreatedAt: t0})
		check(t, "content", string(readArtifact(t, s, "a1")), "hello world")
		got, err := s.ArtifactGet(t.Context(), "k1", "app.tgz")
		must(t, "get", err)
		check(t, "got", got, a)

		// A pending upload of the same name is not listed, and leaves the
		// committed one readable until it commits.
		must(t, "begin replacement", s.ArtifactBegin(t.Context(), &store.Artifact{ID: "a2", TaskID: "k1", Name: "app.tgz", CreatedAt: at(time.Minute)}))
		must(t, "chunk of replacement", s.ArtifactChunkPut(t.Context(), "a2", 0, []byte("v2")))
		wantErr(t, "the same chunk twice", s.ArtifactChunkPut(t.Context(), "a2", 0, []byte("v2")), store.ErrConflict)
		list, err := s.ArtifactList(t.Context(), "k1")
		must(t, "list", err)
		check(t, "list during an upload", list, []*store.Artifact{a})
		_, err = s.ArtifactCommit(t.Context(), &store.ArtifactCommitParams{ID: "a2", Size: 2, SHA256: "sha-a2"})
		must(t, "commit replacement", err)
		got, err = s.ArtifactGet(t.Context(), "k1", "app.tgz")
		must(t, "get replaced", err)
		check(t, "replaced artifact id", got.ID, "a2")
		check(t, "replaced content", string(readArtifact(t, s, "a2")), "v2")
		_, err = s.ArtifactChunk(t.Context(), "a1", 0)
		wantErr(t, "chunk of the replaced artifact", err, store.ErrNotFound)

		_, err = s.ArtifactGet(t.Context(), "k1", "nope")
		wantErr(t, "get unknown", err, store.ErrNotFound)
		wantErr(t, "begin on an unknown task", s.ArtifactBegin(t.Context(), &store.Artifact{ID: "x", TaskID: "nope", Name: "a", CreatedAt: t0}), store.ErrNotFound)
		wantErr(t, "chunk of an unknown upload", s.ArtifactChunkPut(t.Context(), "nope", 0, []byte("x")), store.ErrNotFound)
		wantErr(t, "chunk of a committed artifact", s.ArtifactChunkPut(t.Context(), "a2", 1, []byte("x")), store.ErrNotFound)
		_, err = s.ArtifactCommit(t.Context(), &store.ArtifactCommitParams{ID: "a2", Size: 1})
		wantErr(t, "commit twice", err, store.ErrNotFound)
		must(t, "abort a committed artifact leaves it", s.ArtifactAbort(t.Context(), "a2"))
		if _, err := s.ArtifactGet(t.Context(), "k1", "app.tgz"); err != nil {
			t.Errorf("abort removed a committed artifact: %v", err)
		}
	})
	t.Run("TaskLimitKeepsWhatIsStored", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTask(t, s, "t1", "k1", "running", 0)
		newTask(t, s, "t1", "k2", "running", 0)
		_, err := putArtifact(t, s, "k1", "a1", "one", 10, bytes.Repeat([]byte("x"), 6))
		must(t, "first", err)
		_, err = putArtifact(t, s, "k2", "b1", "other-task", 10, bytes.Repeat([]byte("x"), 9))
		must(t, "another task's artifact counts for that task only", err)
		_, err = putArtifact(t, s, "k1", "a2", "two", 10, bytes.Repeat([]byte("y"), 5))
		wantErr(t, "over the task limit", err, store.ErrTooLarge)
		list, err := s.ArtifactList(t.Context(), "k1")
		must(t, "list", err)
		check(t, "artifacts after the refusal", len(list), 1)
		check(t, "the stored one is whole", string(readArtifact(t, s, "a1")), "xxxxxx")
		// Replacing "one" counts the new size in place of the old one.
		_, err = putArtifact(t, s, "k1", "a3", "one", 10, bytes.Repeat([]byte("z"), 10))
		must(t, "replace within the limit", err)
		must(t, "abort the refused upload", s.ArtifactAbort(t.Context(), "a2"))
		_, err = s.ArtifactChunk(t.Context(), "a2", 0)
		wantErr(t, "chunk of an aborted upload", err, store.ErrNotFound)
	})
	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		old := newTask(t, s, "t1", "k1", "success", 0)
		old.FinishedAt = ptr(at(time.Hour))
		must(t, "finish old task", s.TaskUpdate(t.Context(), old))
		recent := newTask(t, s, "t1", "k2", "success", 0)
		recent.FinishedAt = ptr(at(48 * time.Hour))
		must(t, "finish recent task", s.TaskUpdate(t.Context(), recent))
		newTask(t, s, "t1", "k3", "running", 0)
		for _, a := range []struct{ task, id string }{{"k1", "a1"}, {"k2", "a2"}, {"k3", "a3"}} {
			_, err := putArtifact(t, s, a.task, a.id, "file", 0, []byte("data"))
			must(t, "put "+a.id, err)
		}
		must(t, "begin stale upload", s.ArtifactBegin(t.Context(), &store.Artifact{ID: "p1", TaskID: "k3", Name: "stale", CreatedAt: t0}))
		must(t, "begin fresh upload", s.ArtifactBegin(t.Context(), &store.Artifact{ID: "p2", TaskID: "k3", Name: "fresh", CreatedAt: at(72 * time.Hour)}))
		n, err := s.ArtifactDeleteExpired(t.Context(), &store.ArtifactDeleteParams{
			FinishedBefore: at(24 * time.Hour), PendingBefore: at(71 * time.Hour)})
		must(t, "delete expired", err)
		check(t, "deleted", n, 2)
		for task, want := range map[string]int{"k1": 0, "k2": 1, "k3": 1} {
			list, err := s.ArtifactList(t.Context(), task)
			must(t, "list", err)
			check(t, "artifacts left of "+task, len(list), want)
		}
		_, err = s.ArtifactCommit(t.Context(), &store.ArtifactCommitParams{ID: "p1", Size: 0})
		wantErr(t, "commit a deleted stale upload", err, store.ErrNotFound)
		_, err = s.ArtifactCommit(t.Context(), &store.ArtifactCommitParams{ID: "p2", Size: 0})
		must(t, "commit the fresh upload", err)
	})
}

package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
)

// Follow tuning. A stream that breaks is reopened at most maxReconnects
// times in a row (the count restarts whenever an event arrives), waiting
// reconnectDelay times the attempt number before each try.
const (
	maxReconnects  = 5
	reconnectDelay = 250 * time.Millisecond
)

// errStreamBroken says the event stream ended before its "end" event.
var errStreamBroken = errors.New("log stream ended before the task did")

// FollowLog streams the task log of task id (GET
// /api/v1/tasks/{id}/log?follow=true, server-sent events), calls fn for each
// line in Seq order, and returns the task as it ended. If the stream breaks
// before the "end" event, FollowLog reconnects with &after=<last seq>, so fn
// sees no line twice and misses none; after maxReconnects failed tries in a
// row it gives up with the last error. A 4xx answer is returned at once as
// an *Error.
func (c *Client) FollowLog(ctx context.Context, id string, fn func(api.LogLine)) (*api.Task, error) {
	f := &follower{fn: fn}
	for attempt := 0; ; attempt++ {
		before := f.lastSeq
		task, err := c.followOnce(ctx, id, f)
		if err == nil {
			return task, nil
		}
		if ctx.Err() != nil || !retryable(err) {
			return nil, fmt.Errorf("follow log of task %s: %w", id, err)
		}
		if f.lastSeq != before {
			attempt = 0
		}
		if attempt >= maxReconnects {
			return nil, fmt.Errorf("follow log of task %s: gave up after %d reconnects: %w", id, maxReconnects, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("follow log of task %s: %w", id, ctx.Err())
		case <-time.After(c.reconnectDelay * time.Duration(attempt+1)):
		}
	}
}

// errDecode marks an event the server sent but the client cannot read;
// reconnecting would get the same bytes again, so it is not retried.
var errDecode = errors.New("decode event")

// retryable reports whether reopening the stream may help: yes for broken
// connections and 5xx answers, no for 4xx answers and unreadable events.
func retryable(err error) bool {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500
	}
	return !errors.Is(err, errDecode) && !errors.Is(err, bufio.ErrTooLong)
}

// follower remembers how far a FollowLog got across reconnects.
type follower struct {
	fn      func(api.LogLine)
	lastSeq int64
	seen    bool
}

// line hands l to fn unless an earlier connection already did.
func (f *follower) line(l api.LogLine) {
	if f.seen && l.Seq <= f.lastSeq {
		return
	}
	f.seen, f.lastSeq = true, l.Seq
	f.fn(l)
}

// followOnce opens one event stream and reads it until "end" (returning the
// task) or a break (returning an error).
func (c *Client) followOnce(ctx context.Context, id string, f *follower) (*api.Task, error) {
	path := taskPath(id) + "/log?follow=true"
	if f.seen {
		path += "&after=" + strconv.FormatInt(f.lastSeq, 10)
	}
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, readError(resp)
	}
	var task *api.Task
	err = readEvents(resp.Body, func(event, data string) (bool, error) {
		switch event {
		case "line":
			var l api.LogLine
			if err := json.Unmarshal([]byte(data), &l); err != nil {
				return false, fmt.Errorf("%w: log line: %w", errDecode, err)
			}
			f.line(l)
		case "end":
			task = new(api.Task)
			if err := json.Unmarshal([]byte(data), task); err != nil {
				return false, fmt.Errorf("%w: end of task: %w", errDecode, err)
			}
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return task, nil
}

// readEvents parses a text/event-stream from r and calls handle for each
// event with its name and data (several data lines joined by "\n"), until
// handle reports done or fails. A stream that ends first yields
// errStreamBroken, or the read error.
func readEvents(r io.Reader, handle func(event, data string) (done bool, err error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var event string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(data) > 0 {
				done, err := handle(event, strings.Join(data, "\n"))
				if err != nil || done {
					return err
				}
			}
			event, data = "", nil
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			event = value
		case "data":
			data = append(data, value)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errStreamBroken
}

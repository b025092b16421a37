package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dynpool/dynpool/api"
)

// maxErrorBody is how many bytes of a non-JSON error body an Error keeps.
const maxErrorBody = 200

// Error is a non-2xx answer from the server: its HTTP status and the
// fields of the decoded {"error":{...}} body (api.Error cannot be embedded:
// its field name would clash with the Error method). Use errors.As:
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Code == api.CodeNotFound { ... }
//
// When the body is not the JSON error shape (a proxy's HTML page, say),
// Code is empty and Message holds the body's first 200 bytes; Error() then
// reads like `bad gateway: <html>... (HTTP 502)`.
type Error struct {
	// Status is the HTTP status code, e.g. 404.
	Status int
	// Code is one of the api.Code* words, e.g. api.CodeNotFound.
	Code string
	// Message is the server's sentence saying what is wrong.
	Message string
	// Field names the offending request field, if any.
	Field string
}

// Error reads like `not_found: task "x" not found (HTTP 404)`.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Code != "":
		b.WriteString(e.Code + ": " + e.Message)
	case e.Message != "":
		b.WriteString(strings.ToLower(http.StatusText(e.Status)) + ": " + e.Message)
	default:
		b.WriteString(strings.ToLower(http.StatusText(e.Status)))
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %s)", e.Field)
	}
	fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	return b.String()
}

// readError turns a non-2xx response into an *Error, reading at most a
// small bounded part of its body.
func readError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var er api.ErrorResponse
	if err := json.Unmarshal(body, &er); err == nil && er.Error.Code != "" {
		e.Code, e.Message, e.Field = er.Error.Code, er.Error.Message, er.Error.Field
		return e
	}
	text := body
	if len(text) > maxErrorBody {
		text = text[:maxErrorBody]
	}
	e.Message = strings.TrimSpace(string(text))
	return e
}

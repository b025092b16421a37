package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/task"
	"github.com/dynpool/dynpool/internal/validation"
)

// errMalformed marks a request body that is not the JSON expected.
var errMalformed = errors.New("malformed JSON")

// publicError carries a message written for the API caller, in place of
// the internal error it wraps (which goes to the server log only).
type publicError struct {
	status  int
	code    string
	message string
	err     error
}

func (e *publicError) Error() string { return e.message + ": " + e.err.Error() }
func (e *publicError) Unwrap() error { return e.err }

// notFound answers 404 with a message naming what was not found.
func notFound(err error, format string, args ...any) error {
	return &publicError{http.StatusNotFound, api.CodeNotFound, fmt.Sprintf(format, args...), err}
}

// conflict answers 409 with a message saying what is in the way.
func conflict(err error, format string, args ...any) error {
	return &publicError{http.StatusConflict, api.CodeConflict, fmt.Sprintf(format, args...), err}
}

// notFoundOr turns a store.ErrNotFound in err into a 404 saying "no <what>
// with id <id>"; other errors pass through.
func notFoundOr(err error, what, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(err, "no %s with id %q", what, id)
	}
	return err
}

// apiError maps an error to its HTTP status and wire error. This is the
// one place where errors become status codes.
func apiError(err error) (int, api.Error) {
	var pe *publicError
	if errors.As(err, &pe) {
		return pe.status, api.Error{Code: pe.code, Message: pe.message}
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, api.Error{Code: api.CodeTooLarge,
			Message: fmt.Sprintf("the request body is larger than the limit of %d bytes", tooLarge.Limit)}
	}
	if v, ok := validation.As(err); ok {
		return http.StatusBadRequest, api.Error{Code: api.CodeInvalidArgument, Message: v.Message, Field: v.Field}
	}
	switch {
	case errors.Is(err, errMalformed):
		return http.StatusBadRequest, api.Error{Code: api.CodeMalformedJSON, Message: err.Error()}
	case errors.Is(err, errUnauthenticated):
		// The code says "unauthenticated" already.
		return http.StatusUnauthorized, api.Error{Code: api.CodeUnauthenticated,
			Message: strings.TrimPrefix(err.Error(), errUnauthenticated.Error()+": ")}
	case errors.Is(err, fleet.ErrUnknownAgent):
		return http.StatusUnauthorized, api.Error{Code: api.CodeUnauthenticated,
			Message: "unknown agent: the registration token was used already or the worker is gone"}
	case errors.Is(err, task.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, api.Error{Code: api.CodeTooLarge, Message: err.Error()}
	case errors.Is(err, task.ErrJobCredential):
		return http.StatusUnauthorized, api.Error{Code: api.CodeUnauthenticated, Message: err.Error()}
	case errors.Is(err, task.ErrJobNotFound):
		return http.StatusNotFound, api.Error{Code: api.CodeNotFound, Message: "no such job running on this worker"}
	}
	return http.StatusInternalServerError, api.Error{Code: api.CodeInternal, Message: "internal error; the server log has the details"}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := apiError(err)
	if status >= 500 {
		s.cfg.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeJSON(w, status, api.ErrorResponse{Error: e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Default().Debug("write response", "error", err)
	}
}

// maxBody bounds a request body (bytes); it admits a task whose scripts
// reach task.MaxTaskScripts. A larger body answers 413.
const maxBody = task.MaxTaskScripts + 1<<20

// decode reads r's JSON body into v, refusing unknown fields and trailing
// data, so a misspelt field is an error rather than silently ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		var pe *publicError // a limit the body hit (see deadlineBody)
		if errors.As(err, &pe) {
			return err
		}
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON object", errMalformed)
	}
	return nil
}

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/task"
	"github.com/dynpool/dynpool/internal/validation"
)

// errMalformed marks a request body that is not the JSON expected.
var errMalformed = errors.New("malformed JSON")

// apiError maps an error to its HTTP status and wire error. This is the
// one place where errors become status codes.
func apiError(err error) (int, api.Error) {
	if v, ok := validation.As(err); ok {
		return http.StatusBadRequest, api.Error{Code: api.CodeInvalidArgument, Message: v.Message, Field: v.Field}
	}
	switch {
	case errors.Is(err, errMalformed):
		return http.StatusBadRequest, api.Error{Code: api.CodeMalformedJSON, Message: err.Error()}
	case errors.Is(err, errUnauthenticated), errors.Is(err, fleet.ErrUnknownAgent):
		return http.StatusUnauthorized, api.Error{Code: api.CodeUnauthenticated, Message: err.Error()}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, task.ErrJobNotFound):
		return http.StatusNotFound, api.Error{Code: api.CodeNotFound, Message: err.Error()}
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, api.Error{Code: api.CodeConflict, Message: err.Error()}
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

// maxBody bounds a request body; a script is at most task.MaxScriptSize.
const maxBody = 2 * task.MaxScriptSize

// decode reads r's JSON body into v, refusing unknown fields and trailing
// data, so a misspelt field is an error rather than silently ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON object", errMalformed)
	}
	return nil
}

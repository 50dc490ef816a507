package api

import (
	"encoding/json"
	"net/http"
)

// apiError is an error answer: status, message and the field it concerns.
type apiError struct {
	status int
	msg    string
	field  string
	// header holds response headers to set, e.g. Retry-After on a 429.
	header map[string]string
}

func (e *apiError) Error() string { return e.msg }

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func badRequest(field, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: msg, field: field}
}

func forbidden(field, msg string) *apiError {
	return &apiError{status: http.StatusForbidden, msg: msg, field: field}
}

func notFound(field, msg string) *apiError {
	return &apiError{status: http.StatusNotFound, msg: msg, field: field}
}

func writeError(w http.ResponseWriter, e *apiError) {
	for k, v := range e.header {
		w.Header().Set(k, v)
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tongban"`)
	}
	writeJSON(w, e.status, errorBody{Error: e.msg, Field: e.field})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// MaxLimit is the largest page a list endpoint returns.
const MaxLimit = 1000

// decodeBody reads the JSON body (capped by authed at MaxBodyBytes) into
// dst: one object, no unknown keys. Errors name the offending key.
func decodeBody(r *http.Request, dst any) *apiError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &apiError{status: http.StatusUnsupportedMediaType, msg: fmt.Sprintf("Content-Type %q: send application/json", ct), field: "Content-Type"}
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyError(err)
		}
		return badRequest("body", "unexpected data after the JSON object")
	}
	return nil
}

var unknownField = regexp.MustCompile(`^json: unknown field "(.*)"$`)

func bodyError(err error) *apiError {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body is larger than %d bytes", mbe.Limit), field: "body"}
	case errors.Is(err, io.EOF):
		return badRequest("body", "empty body: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body", "body ends in the middle of the JSON")
	case errors.As(err, &se):
		return badRequest("body", fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return badRequest(field, fmt.Sprintf("%s: want %s, got JSON %s", field, jsonKind(te.Type.Kind().String()), te.Value))
	}
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		field := m[1]
		if field == "" {
			field = "body" // the empty key
		}
		return badRequest(field, fmt.Sprintf("unknown key %q", m[1]))
	}
	return badRequest("body", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64", "float32":
		return "a number"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return goKind
}

// query checks the query string: only the allowed parameters, each at most
// once.
type query struct {
	v url.Values
}

func parseQuery(r *http.Request, allowed ...string) (query, *apiError) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return query{}, badRequest("query", "malformed query string: "+err.Error())
	}
	for name, vals := range v {
		if name == "" {
			return query{}, badRequest("query", "query parameter without a name")
		}
		ok := false
		for _, a := range allowed {
			if a == name {
				ok = true
				break
			}
		}
		if !ok {
			return query{}, badRequest(name, fmt.Sprintf("unknown query parameter %q (allowed: %s)", name, strings.Join(allowed, ", ")))
		}
		if len(vals) > 1 {
			return query{}, badRequest(name, fmt.Sprintf("query parameter %q given %d times", name, len(vals)))
		}
	}
	return query{v: v}, nil
}

func (q query) str(name string) (string, bool) {
	vals, ok := q.v[name]
	if !ok {
		return "", false
	}
	return vals[0], true
}

// limit reads a page size in 1..MaxLimit, def when absent.
func (q query) limit(name string, def int) (int, *apiError) {
	s, ok := q.str(name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest(name, fmt.Sprintf("%s %q is not a whole number", name, s))
	}
	if n < 1 || n > MaxLimit {
		return 0, badRequest(name, fmt.Sprintf("%s %d is out of range 1..%d", name, n, MaxLimit))
	}
	return n, nil
}

// boolean reads true/false (also 1/0), false when absent.
func (q query) boolean(name string) (bool, *apiError) {
	s, ok := q.str(name)
	if !ok {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badRequest(name, fmt.Sprintf("%s %q is not true or false", name, s))
	}
	return b, nil
}

// after reads a paging id (a whole number >= 0), 0 when absent.
func (q query) after(name string) (int64, *apiError) {
	s, ok := q.str(name)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest(name, fmt.Sprintf("%s %q is not a whole number >= 0 (give the next_after of the previous page)", name, s))
	}
	return n, nil
}

// listPage renders one page of a list: every item through view, and next,
// the after= of the next page: the last item's id when the page is full, 0
// (absent in JSON) on the last page.
func listPage[T, J any](list []T, limit int, view func(T) J, id func(T) int64) (items []J, next int64) {
	items = make([]J, 0, len(list))
	for _, x := range list {
		items = append(items, view(x))
	}
	if len(list) > 0 && len(list) == limit {
		next = id(list[len(list)-1])
	}
	return items, next
}

package api

import (
	"net/http"

	"github.com/tongban/tongban/hub/auth"
)

// handlerFunc serves an authenticated request: the JSON body of a 200
// answer, or an error answer.
type handlerFunc func(r *http.Request, p auth.Principal) (any, *apiError)

// Who may call a route.
type role int

const (
	roleAny   role = iota // any valid token
	roleAdmin             // admin tokens
	roleDept              // department tokens
)

// authed authenticates the bearer token, checks the role and runs h.
func (s *server) authed(need role, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hdr := r.Header.Get("Authorization")
		var p auth.Principal
		switch {
		case hdr == "" && r.TLS != nil && s.certPrincipal != nil:
			cp, ok := s.certPrincipal(*r.TLS)
			if !ok {
				writeError(w, &apiError{status: http.StatusUnauthorized, msg: "missing bearer token or department client certificate", field: "Authorization"})
				return
			}
			p = cp
		case hdr == "":
			writeError(w, &apiError{status: http.StatusUnauthorized, msg: "missing bearer token (Authorization: Bearer tb_…)", field: "Authorization"})
			return
		default:
			var err error
			p, err = auth.Authenticate(r.Context(), s.st, hdr)
			if err != nil {
				if auth.IsAuthError(err) {
					writeError(w, &apiError{status: http.StatusUnauthorized, msg: err.Error(), field: "Authorization"})
					return
				}
				writeError(w, s.internal(r, err))
				return
			}
		}
		switch {
		case need == roleAdmin && !p.IsAdmin():
			writeError(w, forbidden("Authorization", "this endpoint needs an admin token"))
			return
		case need == roleDept && p.Role != auth.RoleDept:
			writeError(w, forbidden("Authorization", "this endpoint needs a department token"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		body, apiErr := h(r, p)
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		writeJSON(w, http.StatusOK, body)
	}
}

// internal logs err and returns a 500 answer that does not leak it.
func (s *server) internal(r *http.Request, err error) *apiError {
	s.log.ErrorContext(r.Context(), "api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return &apiError{status: http.StatusInternalServerError, msg: "internal error; the hub log has the details"}
}

// canRead reports whether p may read the records of a resource provided by
// provider: admins, and the providing department.
func canRead(p auth.Principal, provider string) bool {
	return p.IsAdmin() || (p.Role == auth.RoleDept && p.Dept == provider)
}

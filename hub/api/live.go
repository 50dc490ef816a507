package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/live"
	"github.com/tongban/tongban/wire"
)

// LiveRouter routes live lookups to the departments' agents (*live.Router).
type LiveRouter interface {
	// Lookup asks dept's agent for one row; timeout 0 means the router's
	// default.
	Lookup(ctx context.Context, dept, resource string, key []string, timeout time.Duration) (live.Result, error)
	// Poll is an agent's long poll for the lookups queued for its
	// department, of the resources it serves (nil: any).
	Poll(ctx context.Context, dept, agentID string, resources []string, limit int, wait time.Duration) ([]live.Request, error)
	// Complete hands an agent's answers to the waiting lookups.
	Complete(dept string, answers []live.Answer) error
}

// Limits of the live routes.
const (
	defaultLivePollWait = 20 * time.Second
	defaultLivePollMax  = 10
	maxLiveAnswers      = live.MaxPollRequests
	maxLiveErrorRunes   = 1000
	maxLiveIDLen        = 64
)

// liveRoutes: the agents' control connection (poll for lookups, post the
// answers; department tokens) and an admin lookup that drives the router
// directly (operations and the end-to-end tests).
func (s *server) liveRoutes(rt featureRoutes) {
	rt.handle("GET "+Prefix+"/live/poll", rt.dept(s.livePoll))
	rt.handle("POST "+Prefix+"/live/answers", rt.dept(s.liveAnswers))
	rt.handle("GET "+Prefix+"/live/lookup/{code}", rt.admin(s.liveLookup))
}

type livePollResponse struct {
	Requests []live.Request `json:"requests"`
}

// livePoll: GET /live/poll?agent_id=&resources=&max=&wait= (resources: the
// comma-separated codes the agent serves, each provided by its department;
// absent: any; wait: a Go duration such as 20s, or whole seconds; at most
// 30 s; default 20 s).
func (s *server) livePoll(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "agent_id", "resources", "max", "wait")
	if e != nil {
		return nil, e
	}
	agentID, _ := q.str("agent_id")
	switch {
	case agentID == "":
		return nil, badRequest("agent_id", "agent_id is required")
	case !utf8.ValidString(agentID) || utf8.RuneCountInString(agentID) > maxAgentIDRunes:
		return nil, badRequest("agent_id", fmt.Sprintf("agent_id must be valid UTF-8 of at most %d characters", maxAgentIDRunes))
	}
	limit := defaultLivePollMax
	if v, ok := q.str("max"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > live.MaxPollRequests {
			return nil, badRequest("max", fmt.Sprintf("max %q must be a whole number in 1..%d", v, live.MaxPollRequests))
		}
		limit = n
	}
	wait := defaultLivePollWait
	if v, ok := q.str("wait"); ok {
		d, err := parseWait(v)
		if err != nil {
			return nil, badRequest("wait", fmt.Sprintf("wait %q: %v", v, err))
		}
		wait = d
	}
	var resources []string
	if v, ok := q.str("resources"); ok {
		resources = []string{}
		for _, code := range strings.Split(v, ",") {
			if e := s.checkProvided("resources", code, p.Dept); e != nil {
				return nil, e
			}
			resources = append(resources, code)
		}
	}
	reqs, err := s.live.Poll(r.Context(), p.Dept, agentID, resources, limit, wait)
	if err != nil {
		// The agent hung up (or the hub is stopping): nobody reads this.
		return nil, &apiError{status: http.StatusServiceUnavailable, msg: "poll ended before it could answer: " + err.Error()}
	}
	return livePollResponse{Requests: reqs}, nil
}

// parseWait reads a wait in 0..live.MaxPollWait: a Go duration or whole
// seconds.
func parseWait(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, errors.New("want a duration such as 20s, or whole seconds")
		}
		if n < 0 || n > int(live.MaxPollWait/time.Second) {
			return 0, fmt.Errorf("must be between 0 and %s", live.MaxPollWait)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 || d > live.MaxPollWait {
		return 0, fmt.Errorf("must be between 0 and %s", live.MaxPollWait)
	}
	return d, nil
}

type liveAnswersRequest struct {
	Answers []live.Answer `json:"answers"`
}

type liveAnswersResponse struct {
	Received int `json:"received"`
	// Rejected lists answers that were malformed; their lookups failed
	// with an agent error.
	Rejected []string `json:"rejected,omitempty"`
}

// liveAnswers: POST /live/answers {answers:[{id, found, data, version, error}]}.
func (s *server) liveAnswers(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	var req liveAnswersRequest
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if len(req.Answers) > maxLiveAnswers {
		return nil, badRequest("answers", fmt.Sprintf("at most %d answers per request, got %d", maxLiveAnswers, len(req.Answers)))
	}
	for i, a := range req.Answers {
		field := fmt.Sprintf("answers[%d]", i)
		switch {
		case a.ID == "" || len(a.ID) > maxLiveIDLen:
			return nil, badRequest(field+".id", fmt.Sprintf("id is required (at most %d bytes)", maxLiveIDLen))
		case !utf8.ValidString(a.Error) || utf8.RuneCountInString(a.Error) > maxLiveErrorRunes:
			return nil, badRequest(field+".error", fmt.Sprintf("error must be valid UTF-8 of at most %d characters", maxLiveErrorRunes))
		case a.Error != "" && a.Found:
			return nil, badRequest(field+".found", "an answer with an error cannot be found")
		case a.Version < 0:
			return nil, badRequest(field+".version", "version must not be negative")
		}
	}
	out := liveAnswersResponse{Received: len(req.Answers)}
	if err := s.live.Complete(p.Dept, req.Answers); err != nil {
		s.log.WarnContext(r.Context(), "api: malformed live answers", "dept", p.Dept, "err", err)
		out.Rejected = []string{err.Error()}
	}
	return out, nil
}

// liveLookupResponse is a live lookup's answer.
type liveLookupResponse struct {
	Resource string          `json:"resource"`
	Dept     string          `json:"dept"`
	Key      string          `json:"key"`
	Found    bool            `json:"found"`
	Data     json.RawMessage `json:"data,omitempty"`
	Version  int64           `json:"version"`
}

// liveLookup: GET /live/lookup/{code}?key= (admin): one row of a live
// resource, read by its department's agent now. key is the record key
// (primary-key values joined with U+001F).
func (s *server) liveLookup(r *http.Request, _ auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "key")
	if e != nil {
		return nil, e
	}
	code := r.PathValue("code")
	res, ok := s.cat.Resource(code)
	if !ok {
		return nil, notFound("code", fmt.Sprintf("resource %q is not in the catalog", code))
	}
	key, _ := q.str("key")
	if key == "" {
		return nil, badRequest("key", "key is required (primary-key values joined with U+001F)")
	}
	result, err := s.live.Lookup(r.Context(), res.Provider, code, wire.SplitKey(key), 0)
	if err != nil {
		return nil, s.liveError(r, err)
	}
	return liveLookupResponse{Resource: code, Dept: res.Provider, Key: key, Found: result.Found, Data: result.Data, Version: result.Version}, nil
}

// liveError maps a live lookup failure to its answer: 503 for an offline
// agent (Retry-After 5) or a full queue (Retry-After 1), 504 for a timeout,
// 502 for an agent that failed to look the row up, 400/404 for a bad
// request. The messages name the department, Chinese first.
func (s *server) liveError(r *http.Request, err error) *apiError {
	var (
		off  *live.OfflineError
		tout *live.TimeoutError
		busy *live.BusyError
		ae   *live.AgentError
		re   *live.RequestError
	)
	switch {
	case errors.As(err, &off):
		return &apiError{status: http.StatusServiceUnavailable, msg: err.Error(), field: "dept", header: map[string]string{"Retry-After": "5"}}
	case errors.As(err, &busy):
		return &apiError{status: http.StatusServiceUnavailable, msg: err.Error(), field: "dept", header: map[string]string{"Retry-After": "1"}}
	case errors.As(err, &tout):
		return &apiError{status: http.StatusGatewayTimeout, msg: err.Error(), field: "dept"}
	case errors.As(err, &ae):
		return &apiError{status: http.StatusBadGateway, msg: err.Error(), field: "dept"}
	case errors.As(err, &re):
		return badRequest(re.Field, err.Error())
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: http.StatusServiceUnavailable, msg: "request ended before the lookup finished: " + err.Error()}
	}
	return s.internal(r, err)
}

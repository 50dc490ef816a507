package hubclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPollAndAnswer(t *testing.T) {
	var posted struct {
		Answers []LiveAnswer `json:"answers"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v1/live/poll":
			q := r.URL.Query()
			if q.Get("agent_id") != "ag" || q.Get("resources") != "A-1,B-2" || q.Get("max") != "5" || q.Get("wait") != "20s" {
				http.Error(w, `{"error":"bad query `+r.URL.RawQuery+`"}`, http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(`{"requests":[{"id":"x1","resource":"A-1","key":["k1"]}]}`))
		case "POST /api/v1/live/answers":
			if err := json.NewDecoder(r.Body).Decode(&posted); err != nil {
				http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(`{"received":1}`))
		default:
			http.Error(w, `{"error":"no such endpoint","field":"path"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := c.Poll(context.Background(), "ag", []string{"A-1", "B-2"}, 5, 20*time.Second)
	if err != nil || len(reqs) != 1 || reqs[0].ID != "x1" || reqs[0].Resource != "A-1" || len(reqs[0].Key) != 1 || reqs[0].Key[0] != "k1" {
		t.Fatalf("Poll = %+v, %v", reqs, err)
	}
	a := LiveAnswer{ID: "x1", Found: true, Data: json.RawMessage(`{"a":1}`), Version: 9}
	if err := c.Answer(context.Background(), []LiveAnswer{a}); err != nil {
		t.Fatal(err)
	}
	if len(posted.Answers) != 1 || posted.Answers[0].ID != "x1" || string(posted.Answers[0].Data) != `{"a":1}` || posted.Answers[0].Version != 9 {
		t.Fatalf("posted %+v", posted)
	}
	// A hub without live routes: a permanent error, so the agent backs off.
	bad, _ := New(srv.URL+"/nohub", "tok", nil)
	if _, err := bad.Poll(context.Background(), "ag", nil, 1, time.Second); !IsPermanent(err) {
		t.Fatalf("Poll at a hub without the route = %v, want a permanent error", err)
	}
}

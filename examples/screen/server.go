package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// serverConfig bounds the service's work.
type serverConfig struct {
	// MaxInFlight is how many screening requests run at once; more are answered 503 at
	// once (with Retry-After) instead of queueing without bound.
	MaxInFlight int
	// Timeout bounds reading a request and writing its answer (http.Server's ReadTimeout and
	// WriteTimeout): a client slower than that is disconnected.
	Timeout time.Duration
}

// newServer returns the HTTP server with its timeouts.
//
// Why server timeouts and not http.TimeoutHandler: every check answers from memory without
// I/O or locks (microseconds), so a handler cannot hang; what can is a slow or stalled
// client, which ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound.
// TimeoutHandler runs each request in a second goroutine with a buffered response; on the
// loopback load test it cost about a fifth of the throughput for no protection gained.
func newServer(h http.Handler, cfg serverConfig) *http.Server {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(cfg.Timeout, 5*time.Second),
		ReadTimeout:       cfg.Timeout,
		WriteTimeout:      cfg.Timeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// screeners maps a chain to the screener serving it.
type screeners map[graph.Chain]*trace.Screener

// newHandler returns the service's routes:
//
//	GET /v1/address/{chain}/{address}[?as_of=YYYY-MM-DD]
//	GET /v1/deposit/{chain}/{ref}[?as_of=YYYY-MM-DD]
//	GET /healthz
func newHandler(sc screeners, cfg serverConfig) http.Handler {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	sem := make(chan struct{}, cfg.MaxInFlight)
	bounded := func(h http.HandlerFunc) http.Handler { return boundedHandler(sem, h) }
	mux := http.NewServeMux()
	mux.Handle("GET /v1/address/{chain}/{address}", bounded(func(w http.ResponseWriter, r *http.Request) {
		serveCheck(w, r, sc, r.PathValue("address"), (*trace.Screener).CheckAddressAt)
	}))
	mux.Handle("GET /v1/deposit/{chain}/{ref}", bounded(func(w http.ResponseWriter, r *http.Request) {
		serveCheck(w, r, sc, r.PathValue("ref"), (*trace.Screener).CheckDepositAt)
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		type chainHealth struct {
			Ready     bool   `json:"ready"`
			Height    uint64 `json:"height"`
			BlockHash string `json:"block_hash,omitempty"`
		}
		out := map[string]chainHealth{}
		ready := true
		for c, s := range sc {
			h, hash, ok := s.Head()
			out[string(c)] = chainHealth{ok, h, hash}
			ready = ready && ok
		}
		code := http.StatusOK
		if !ready {
			code = http.StatusServiceUnavailable
		}
		b, _ := json.Marshal(map[string]any{"ok": ready, "chains": out})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(b)
	})
	return mux
}

// boundedHandler runs h when a slot of sem is free and answers 503 at once otherwise: a
// saturated server sheds load instead of queueing it without bound.
func boundedHandler(sem chan struct{}, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		default:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "server saturated: too many requests in flight")
			return
		}
		h.ServeHTTP(w, r)
	})
}

type checkFunc func(s *trace.Screener, ctx context.Context, chain graph.Chain, subject string, asOf time.Time) (*trace.Verdict, error)

func serveCheck(w http.ResponseWriter, r *http.Request, sc screeners, subject string, check checkFunc) {
	var chain graph.Chain
	var err error
	switch c := r.PathValue("chain"); c { // the canonical names without parsing
	case string(graph.Bitcoin), string(graph.Ethereum):
		chain = graph.Chain(c)
	default:
		if chain, err = graph.ParseChain(c); err != nil {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
	}
	s := sc[chain]
	if s == nil {
		writeError(w, http.StatusNotFound, "this service does not screen "+string(chain))
		return
	}
	var asOf time.Time
	if r.URL.RawQuery == "" {
		// no date: the cached verdict
	} else if q := r.URL.Query().Get("as_of"); q != "" {
		if asOf, err = time.Parse(time.DateOnly, q); err != nil {
			writeError(w, http.StatusBadRequest, "as_of: want a date YYYY-MM-DD: "+strconv.Quote(q))
			return
		}
	}
	v, err := check(s, r.Context(), chain, subject, asOf)
	switch {
	case errors.Is(err, trace.ErrBadQuery):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, trace.ErrNotReady):
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	b, err := v.JSON()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	_, _ = w.Write(b)
}

var jsonContentType = []string{"application/json"}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

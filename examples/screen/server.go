package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace/screen"
)

// serverConfig bounds the service's work.
type serverConfig struct {
	// MaxInFlight is how many screening requests run at once; more are answered 503 at
	// once (with Retry-After) instead of queueing without bound.
	MaxInFlight int
	// Timeout bounds reading a request and writing its answer (http.Server's ReadTimeout and
	// WriteTimeout): a client slower than that is disconnected.
	Timeout time.Duration
	// Status, if set, says how a chain's feed is doing (node mode): /healthz reports a chain
	// "syncing", with what it waits for and its last error, until its feed is ready. Without
	// it a chain is ready once its screener has a trace.
	Status func(graph.Chain) feedStatus
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
type screeners map[graph.Chain]*screen.Screener

// newHandler returns the service's routes:
//
//	GET /v1/address/{chain}/{address}[?as_of=YYYY-MM-DD]
//	GET /v1/deposit/{chain}/{ref}[?as_of=YYYY-MM-DD]
//	GET /healthz
//	GET /openapi.yaml  (the API as an OpenAPI 3 document: openapi.yaml)
func newHandler(sc screeners, cfg serverConfig) http.Handler {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	sem := make(chan struct{}, cfg.MaxInFlight)
	bounded := func(h http.HandlerFunc) http.Handler { return boundedHandler(sem, h) }
	mux := http.NewServeMux()
	mux.Handle("GET /v1/address/{chain}/{address}", bounded(func(w http.ResponseWriter, r *http.Request) {
		serveCheck(w, r, sc, r.PathValue("address"), (*screen.Screener).CheckAddressAt)
	}))
	mux.Handle("GET /v1/deposit/{chain}/{ref}", bounded(func(w http.ResponseWriter, r *http.Request) {
		serveCheck(w, r, sc, r.PathValue("ref"), (*screen.Screener).CheckDepositAt)
	}))
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPI)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		type chainHealth struct {
			Ready      bool   `json:"ready"`
			Status     string `json:"status"` // "ready" or "syncing"
			Height     uint64 `json:"height"`
			BlockHash  string `json:"block_hash,omitempty"`
			WaitingFor string `json:"waiting_for,omitempty"`
			LastError  string `json:"last_error,omitempty"`
		}
		out := map[string]chainHealth{}
		ready := true
		for c, s := range sc {
			h, hash, ok := s.Head()
			ch := chainHealth{Ready: ok, Height: h, BlockHash: hash}
			if !ok {
				ch.WaitingFor = "a trace"
			}
			if cfg.Status != nil {
				fs := cfg.Status(c)
				ch.Ready = ok && fs.Ready
				ch.WaitingFor, ch.LastError = fs.WaitingFor, fs.LastError
			}
			ch.Status = "syncing"
			if ch.Ready {
				ch.Status = "ready"
			}
			out[string(c)] = ch
			ready = ready && ch.Ready
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
	return jsonErrors(mux)
}

// jsonErrors answers the requests no route takes (404, and 405 with its Allow header) in
// JSON like every other reply, instead of the mux's plain-text pages.
func jsonErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's own answer says which error it is (and sets Allow for a 405).
		rec := &statusRecorder{header: http.Header{}, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		if rec.code < 400 { // a redirect (a path to clean up): the mux's answer as it is
			mux.ServeHTTP(w, r)
			return
		}
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		msg := "no such endpoint: " + quoteExcerpt(r.URL.Path) + " (see GET /v1/address/{chain}/{address}, /v1/deposit/{chain}/{ref}, /healthz, /openapi.yaml)"
		if rec.code == http.StatusMethodNotAllowed {
			msg = "method " + quoteExcerpt(r.Method) + " not allowed here; allowed: " + rec.header.Get("Allow")
		}
		writeError(w, rec.code, msg)
	})
}

// statusRecorder keeps the status and headers of a reply and drops its body.
type statusRecorder struct {
	header http.Header
	code   int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.code = code }

// maxQuoted is the most of a request an error reply quotes: the reply goes back to whoever
// sent the input, and a 13 KB path must not come back whole.
const maxQuoted = 64

// quoteExcerpt quotes s (%q-escaped) whole when it is short, else its first maxQuoted bytes
// (cut on a character boundary) followed by "…" and its length.
func quoteExcerpt(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// shortMessage is an error's text for a reply about input: wherever the message repeats
// the input (quoted, or as it is), a short escaped excerpt takes its place, and what is
// left is cut at a bound — whatever a lower layer chose to quote.
func shortMessage(err error, input string) string {
	msg := err.Error()
	if len(input) > maxQuoted {
		msg = strings.ReplaceAll(msg, strconv.Quote(input), quoteExcerpt(input))
		msg = strings.ReplaceAll(msg, input, quoteExcerpt(input))
	}
	const maxMessage = 400
	if len(msg) > maxMessage {
		msg = quoteExcerpt(msg[:maxMessage])
	}
	return strings.ToValidUTF8(msg, "\ufffd")
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

type checkFunc func(s *screen.Screener, ctx context.Context, chain graph.Chain, subject string, asOf time.Time) (*screen.Verdict, error)

func serveCheck(w http.ResponseWriter, r *http.Request, sc screeners, subject string, check checkFunc) {
	var chain graph.Chain
	var err error
	switch c := r.PathValue("chain"); c { // the canonical names without parsing
	case string(graph.Bitcoin), string(graph.Ethereum):
		chain = graph.Chain(c)
	default:
		if chain, err = graph.ParseChain(c); err != nil {
			writeError(w, http.StatusNotFound, shortMessage(err, c))
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
			writeError(w, http.StatusBadRequest, "as_of: want a date YYYY-MM-DD: "+quoteExcerpt(q))
			return
		}
	}
	v, err := check(s, r.Context(), chain, subject, asOf)
	switch {
	case errors.Is(err, screen.ErrBadQuery):
		writeError(w, http.StatusBadRequest, shortMessage(err, subject))
		return
	case errors.Is(err, screen.ErrNotReady):
		writeError(w, http.StatusServiceUnavailable, shortMessage(err, subject))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, shortMessage(err, subject))
		return
	}
	b, err := v.JSON()
	if err != nil {
		writeError(w, http.StatusInternalServerError, shortMessage(err, subject))
		return
	}
	if !v.Known {
		b = withUnknown(b, v.Kind)
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	_, _ = w.Write(b)
}

var jsonContentType = []string{"application/json"}

// What an unknown subject's verdict says besides "known": false, so that no client reads
// risk "none" alone as "checked and clean".
var unknownNotes = map[string]string{
	screen.KindDeposit: "unknown deposit: the trace holds no deposit or tainted arrival with this reference; " +
		"a clean deposit, one not yet confirmed and one that does not exist all look the same, so this is not a clearance",
	screen.KindAddress: "unknown address: the trace has never seen this address move value; its labels, if any, are listed",
}

// withUnknown adds "unknown": <note> to a verdict's JSON object (a copy: the screener
// shares the bytes of the verdicts it caches).
func withUnknown(b []byte, kind string) []byte {
	note, ok := unknownNotes[kind]
	if !ok || len(b) < 2 || b[len(b)-1] != '}' {
		return b
	}
	q, _ := json.Marshal(note)
	out := make([]byte, 0, len(b)+len(q)+16)
	out = append(out, b[:len(b)-1]...)
	out = append(out, `,"unknown":`...)
	out = append(out, q...)
	return append(out, '}')
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

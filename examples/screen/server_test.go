package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
)

type reply struct {
	code  int
	allow string
	body  map[string]any
	raw   string
}

func get(t *testing.T, h http.Handler, method, path string) reply {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	r := reply{code: rec.Code, allow: rec.Header().Get("Allow"), raw: rec.Body.String()}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json: %.200s", method, path, ct, r.raw)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
		t.Errorf("%s %s: not a JSON object: %v: %.200s", method, path, err, r.raw)
	}
	return r
}

// A malformed deposit reference is refused (400, a JSON error saying what is wrong), never
// answered with a clean verdict; a well-formed reference the trace does not hold gets the
// verdict with known:false and a note saying it is no clearance.
func TestMalformedDepositReference(t *testing.T) {
	h := caseHandler(t, serverConfig{})
	for _, ref := range []string{"zzzz:0", "deadbeef:0", "p9:0", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:x"} {
		r := get(t, h, "GET", "/v1/deposit/bitcoin/"+ref)
		msg, _ := r.body["error"].(string)
		if r.code != http.StatusBadRequest || !strings.Contains(msg, "deposit reference") {
			t.Errorf("%s: %d %s, want 400 with an error about the reference", ref, r.code, r.raw)
		}
	}
	r := get(t, h, "GET", "/v1/deposit/bitcoin/F4184FC596403B9D638783CF57ADFE4C75C605F6356FBC91338530E9831E9E16:0")
	if r.code != http.StatusOK || r.body["known"] != false || r.body["risk"] != "none" {
		t.Fatalf("well-formed unknown reference: %d %s", r.code, r.raw)
	}
	if note, _ := r.body["unknown"].(string); !strings.Contains(note, "not a clearance") {
		t.Errorf("unknown deposit: no explicit note: %s", r.raw)
	}
	if r.body["subject"] != "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:0" {
		t.Errorf("subject %v, want the canonical reference", r.body["subject"])
	}
	// A known deposit has no such note.
	if r := get(t, h, "GET", "/v1/deposit/bitcoin/p2:0"); r.body["unknown"] != nil || r.body["known"] != true {
		t.Errorf("known deposit: %s", r.raw)
	}
}

// Unknown paths and methods are answered in JSON like every other reply (405 with Allow).
func TestNotFoundAndMethodNotAllowedAreJSON(t *testing.T) {
	h := caseHandler(t, serverConfig{})
	r := get(t, h, "GET", "/v2/nothing")
	if r.code != http.StatusNotFound || r.body["error"] == nil {
		t.Errorf("404: %d %s", r.code, r.raw)
	}
	r = get(t, h, "POST", "/v1/deposit/bitcoin/p2:0")
	if r.code != http.StatusMethodNotAllowed || r.body["error"] == nil || !strings.Contains(r.allow, "GET") {
		t.Errorf("405: %d Allow %q %s", r.code, r.allow, r.raw)
	}
	r = get(t, h, "DELETE", "/healthz")
	if r.code != http.StatusMethodNotAllowed || r.body["error"] == nil {
		t.Errorf("405 healthz: %d %s", r.code, r.raw)
	}
}

// Errors never echo large input: every error reply quotes at most a short escaped excerpt
// of what was sent, whatever the part of the request that is wrong.
func TestErrorRepliesQuoteShortExcerpts(t *testing.T) {
	h := caseHandler(t, serverConfig{})
	var addrs []string
	for i := 0; i < 300; i++ {
		addrs = append(addrs, "bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0")
	}
	long := strings.Join(addrs, ",")                  // 300 addresses: 13 KB
	ctrl := "%1B%5B31m" + strings.Repeat("%07z", 100) // ESC [31m and BELs
	paths := []string{
		"/v1/address/bitcoin/" + long,
		"/v1/address/bitcoin/" + ctrl,
		"/v1/deposit/bitcoin/" + long + ":0",
		"/v1/deposit/bitcoin/" + ctrl + ":0",
		"/v1/deposit/ethereum/" + long,
		"/v1/address/" + strings.Repeat("dogecoin", 100) + "/x",
		"/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0?as_of=" + strings.Repeat("9", 5000),
		"/" + strings.Repeat("nothing/", 1000),
	}
	for _, p := range paths {
		r := get(t, h, "GET", p)
		msg, _ := r.body["error"].(string)
		if r.code < 400 || msg == "" {
			t.Errorf("%.60s…: %d %.200s", p, r.code, r.raw)
			continue
		}
		if len(r.raw) > 600 {
			t.Errorf("%.60s…: a %d-byte error reply: %.300s", p, len(r.raw), r.raw)
		}
		if strings.ContainsFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) {
			t.Errorf("%.60s…: the error holds control characters: %q", p, msg)
		}
		if strings.Contains(msg, strings.Repeat("bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0,", 2)) {
			t.Errorf("%.60s…: the error repeats more than an excerpt of the input: %.300s", p, msg)
		}
	}
}

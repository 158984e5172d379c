package main

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type openAPIDoc struct {
	Paths map[string]map[string]struct {
		Responses map[string]struct {
			Ref string `yaml:"$ref"`
		} `yaml:"responses"`
	} `yaml:"paths"`
	Components struct {
		Responses map[string]struct {
			Content map[string]struct {
				Schema struct {
					Ref string `yaml:"$ref"`
				} `yaml:"schema"`
			} `yaml:"content"`
		} `yaml:"responses"`
		Schemas map[string]struct {
			Required []string `yaml:"required"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

// The OpenAPI document the service serves describes the service as it is: every route it
// has and no other, and for each request here the reply's status is documented for that
// path and the reply carries every field its documented schema requires.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	h := caseHandler(t, serverConfig{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.yaml", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /openapi.yaml: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc openAPIDoc
	if err := yaml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	want := []string{"/healthz", "/openapi.yaml", "/v1/address/{chain}/{address}", "/v1/deposit/{chain}/{ref}"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Fatalf("documented paths %v, the service has %v", paths, want)
	}
	for _, c := range []struct {
		method, path, route string
	}{
		{"GET", "/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0", "/v1/address/{chain}/{address}"},
		{"GET", "/v1/address/bitcoin/not-an-address", "/v1/address/{chain}/{address}"},
		{"GET", "/v1/address/dogecoin/x", "/v1/address/{chain}/{address}"},
		{"GET", "/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0?as_of=yesterday", "/v1/address/{chain}/{address}"},
		{"GET", "/v1/deposit/bitcoin/p2:0", "/v1/deposit/{chain}/{ref}"},
		{"GET", "/v1/deposit/bitcoin/zzzz:0", "/v1/deposit/{chain}/{ref}"},
		{"POST", "/v1/deposit/bitcoin/p2:0", "/v1/deposit/{chain}/{ref}"},
		{"GET", "/healthz", "/healthz"},
	} {
		r := get(t, h, c.method, c.path)
		resp, ok := doc.Paths[c.route]["get"].Responses[strconv.Itoa(r.code)]
		if !ok {
			t.Errorf("%s %s: status %d is not documented for %s", c.method, c.path, r.code, c.route)
			continue
		}
		name := strings.TrimPrefix(resp.Ref, "#/components/responses/")
		schema := strings.TrimPrefix(doc.Components.Responses[name].Content["application/json"].Schema.Ref, "#/components/schemas/")
		req := doc.Components.Schemas[schema].Required
		if len(req) == 0 {
			t.Errorf("%s %s: documented response %q has no schema with required fields", c.method, c.path, name)
		}
		for _, f := range req {
			if _, ok := r.body[f]; !ok {
				t.Errorf("%s %s (%d): reply lacks %q, which %s requires: %.200s", c.method, c.path, r.code, f, schema, r.raw)
			}
		}
	}
	if r := get(t, h, "GET", "/nope"); r.code != http.StatusNotFound || !strings.Contains(r.raw, "/openapi.yaml") {
		t.Errorf("404 does not point to the document: %s", r.raw)
	}
}

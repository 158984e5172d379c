package main

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
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
			Required   []string `yaml:"required"`
			Properties map[string]struct {
				AdditionalProperties struct {
					Required []string `yaml:"required"`
				} `yaml:"additionalProperties"`
			} `yaml:"properties"`
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
	// A node-mode service whose bitcoin feed has not reached its node yet.
	syncing := caseHandler(t, serverConfig{Status: func(graph.Chain) feedStatus {
		return feedStatus{WaitingFor: "the Bitcoin node at 127.0.0.1:1", LastError: "connection refused"}
	}})
	for _, c := range []struct {
		method, path, route string
		h                   http.Handler
	}{
		{"GET", "/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0", "/v1/address/{chain}/{address}", nil},
		{"GET", "/v1/address/bitcoin/not-an-address", "/v1/address/{chain}/{address}", nil},
		{"GET", "/v1/address/dogecoin/x", "/v1/address/{chain}/{address}", nil},
		{"GET", "/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0?as_of=yesterday", "/v1/address/{chain}/{address}", nil},
		{"GET", "/v1/deposit/bitcoin/p2:0", "/v1/deposit/{chain}/{ref}", nil},
		{"GET", "/v1/deposit/bitcoin/zzzz:0", "/v1/deposit/{chain}/{ref}", nil},
		{"POST", "/v1/deposit/bitcoin/p2:0", "/v1/deposit/{chain}/{ref}", nil},
		{"GET", "/healthz", "/healthz", nil},
		{"GET", "/healthz", "/healthz", syncing},
	} {
		if c.h == nil {
			c.h = h
		}
		r := get(t, c.h, c.method, c.path)
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
		// Maps of objects (healthz's chains): every entry has the entry schema's fields.
		for name, prop := range doc.Components.Schemas[schema].Properties {
			entries, _ := r.body[name].(map[string]any)
			for key, e := range entries {
				obj, _ := e.(map[string]any)
				for _, f := range prop.AdditionalProperties.Required {
					if _, ok := obj[f]; !ok {
						t.Errorf("%s %s (%d): %s[%s] lacks %q, which %s requires: %.200s", c.method, c.path, r.code, name, key, f, schema, r.raw)
					}
				}
			}
		}
	}
	if r := get(t, h, "GET", "/nope"); r.code != http.StatusNotFound || !strings.Contains(r.raw, "/openapi.yaml") {
		t.Errorf("404 does not point to the document: %s", r.raw)
	}
}

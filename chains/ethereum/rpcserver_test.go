package ethereum_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// recordedNode is a JSON-RPC server over httptest that answers only what a real node was
// recorded answering (ethereum-etl's web3_response.<method>_<params>.json files): a request
// whose response was not recorded gets the error a geth node gives for a missing method, so
// the client's fallbacks run exactly as against such a node.
type recordedNode struct {
	t        testing.TB
	dir      string
	requests atomic.Int64
	calls    atomic.Int64
}

func newRecordedNode(t testing.TB, dir string) (*recordedNode, *httptest.Server) {
	rn := &recordedNode{t: t, dir: dir}
	srv := httptest.NewServer(rn)
	t.Cleanup(srv.Close)
	return rn, srv
}

type rpcRequest struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcErr         `json:"error,omitempty"`
}

type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (rn *recordedNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rn.requests.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if trimmed := strings.TrimSpace(string(body)); strings.HasPrefix(trimmed, "[") {
		var reqs []rpcRequest
		if err := json.Unmarshal(body, &reqs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out := make([]rpcResponse, len(reqs))
		for i := range reqs {
			out[i] = rn.answer(&reqs[i])
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	var req rpcRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	json.NewEncoder(w).Encode(rn.answer(&req))
}

// answer maps a call to its recorded file, named as ethereum-etl's tests name them.
func (rn *recordedNode) answer(req *rpcRequest) rpcResponse {
	rn.calls.Add(1)
	resp := rpcResponse{JSONRPC: "2.0", ID: req.ID}
	var parts []string
	for _, p := range req.Params {
		var s string
		var b bool
		switch {
		case json.Unmarshal(p, &s) == nil:
			parts = append(parts, s)
		case json.Unmarshal(p, &b) == nil:
			parts = append(parts, fmt.Sprint(b))
		default: // tracer config objects
			var cfg map[string]any
			if json.Unmarshal(p, &cfg) == nil {
				if tr, ok := cfg["tracer"].(string); ok {
					parts = append(parts, "tracer", strings.ToLower(tr))
				}
			}
		}
	}
	name := "web3_response." + req.Method + "_" + strings.Join(parts, "_") + ".json"
	if req.Method == "eth_blockNumber" {
		name = "web3_response.eth_getBlockByNumber_latest_false.json"
	}
	raw, err := os.ReadFile(filepath.Join(rn.dir, name))
	if err != nil {
		resp.Error = &rpcErr{Code: -32601, Message: fmt.Sprintf("the method %s does not exist/is not available", req.Method)}
		return resp
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		rn.t.Errorf("recorded file %s: %v", name, err)
	}
	if req.Method == "eth_blockNumber" {
		var hdr struct {
			Number json.RawMessage `json:"number"`
		}
		json.Unmarshal(env.Result, &hdr)
		env.Result = hdr.Number
	}
	resp.Result = env.Result
	return resp
}

package regnode_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/regnode"
	"github.com/stretchr/testify/require"
)

// wantReply is one expected JSON-RPC reply: a result, or an error code and a part of its
// message; ID, when set, is the id echoed.
type wantReply struct {
	Result  json.RawMessage `json:"result"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	ID      any             `json:"id"`
}

// rpcCase is one request of testdata/rpc_requests.json.
type rpcCase struct {
	Name   string      `json:"name"`
	HTTP   string      `json:"http"` // method; default POST
	Auth   string      `json:"auth"` // "", "wrong" or "none"
	Body   string      `json:"body"`
	Status int         `json:"status"`
	Reply  *wantReply  `json:"reply"`
	Batch  []wantReply `json:"batch"`
}

// The node answers good and bad requests as btcd does: results, JSON-RPC error objects
// with btcd's codes, HTTP 401 for wrong credentials, batches in order.
func TestRPCRequests(t *testing.T) {
	raw, err := os.ReadFile("testdata/rpc_requests.json")
	require.NoError(t, err)
	var cases []rpcCase
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)
	n := startNode(t)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			method := tc.HTTP
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, "http://"+n.Host(), strings.NewReader(tc.Body))
			require.NoError(t, err)
			switch tc.Auth {
			case "":
				req.SetBasicAuth(n.User(), n.Pass())
			case "wrong":
				req.SetBasicAuth(n.User(), n.Pass()+"x")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tc.Status, resp.StatusCode, "%s", body)
			if tc.Status != http.StatusOK {
				return
			}
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			if tc.Batch != nil {
				var got []json.RawMessage
				require.NoError(t, json.Unmarshal(body, &got), "%s", body)
				require.Len(t, got, len(tc.Batch))
				for i := range got {
					checkReply(t, tc.Batch[i], got[i])
				}
				return
			}
			require.NotNil(t, tc.Reply, "case has neither reply nor batch")
			checkReply(t, *tc.Reply, body)
		})
	}
}

func checkReply(t *testing.T, want wantReply, raw []byte) {
	t.Helper()
	var got struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		ID any `json:"id"`
	}
	require.NoError(t, json.Unmarshal(raw, &got), "%s", raw)
	if want.ID != nil {
		require.Equal(t, want.ID, got.ID, "%s", raw)
	}
	if want.Code != 0 {
		require.NotNil(t, got.Error, "%s", raw)
		require.Equal(t, want.Code, got.Error.Code, "%s", raw)
		require.Contains(t, got.Error.Message, want.Message, "%s", raw)
		require.JSONEq(t, "null", string(got.Result), "%s", raw)
		return
	}
	require.Nil(t, got.Error, "%s", raw)
	require.JSONEq(t, string(want.Result), string(got.Result), "%s", raw)
}

// A transaction sent but not mined is answered by getrawtransaction without block fields,
// as btcd answers from its mempool; once mined, with them.
func TestRawTransactionPendingThenMined(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	miner, bob := regnode.NewKey("miner"), regnode.NewKey("bob")
	_, err := n.Mine(ctx, 101, miner.P2PKH())
	require.NoError(t, err)
	txid, err := n.Send(ctx, miner, []regnode.Payment{{To: bob.P2PKH(), Value: regnode.BTC}}, 500)
	require.NoError(t, err)
	ours := rpcEndpoint{host: n.Host(), user: n.User(), pass: n.Pass()}
	var v struct {
		Txid          string `json:"txid"`
		BlockHash     string `json:"blockhash"`
		Confirmations uint64 `json:"confirmations"`
	}
	require.NoError(t, json.Unmarshal(ours.result(t, "getrawtransaction", txid, 1), &v))
	require.Equal(t, txid, v.Txid)
	require.Empty(t, v.BlockHash)
	hash, err := n.MineTxs(ctx, n.NextTime())
	require.NoError(t, err)
	_, err = n.Mine(ctx, 2, miner.P2PKH())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(ours.result(t, "getrawtransaction", txid, 1), &v))
	require.Equal(t, hash, v.BlockHash)
	require.EqualValues(t, 3, v.Confirmations)
}

// The URL carries the credentials in the form examples/trace's -btc-rpc takes.
func TestURL(t *testing.T) {
	n := startNode(t)
	u := n.URL()
	require.Equal(t, "http://"+n.User()+":"+n.Pass()+"@"+n.Host(), u)
	require.True(t, strings.HasPrefix(n.Host(), "127.0.0.1:"))
	var info struct {
		Chain  string `json:"chain"`
		Blocks int32  `json:"blocks"`
	}
	e := rpcEndpoint{host: n.Host(), user: n.User(), pass: n.Pass()}
	require.NoError(t, json.Unmarshal(e.result(t, "getblockchaininfo"), &info))
	require.Equal(t, "regtest", info.Chain)
	cfg := n.RPCConfig()
	cfg.Pass = "wrong"
	_, err := bitcoin.DialRPC(context.Background(), cfg)
	require.Error(t, err)
	require.ErrorContains(t, err, "401")
}

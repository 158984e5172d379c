package regnode_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/chaintrace/chaintrace/chains/bitcoin/internal/btcdtest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	code := m.Run()
	btcdtest.Cleanup()
	os.Exit(code)
}

// btcdBinary is btcd built from the module's pinned dependency (chains/bitcoin/internal/btcdtest).
func btcdBinary(t *testing.T) string { return btcdtest.Binary(t) }

// rpcEndpoint is a JSON-RPC server this test calls with plain HTTP, so that both nodes'
// answers are compared as they come, not as a client library decodes them.
type rpcEndpoint struct {
	host, user, pass string
}

// call sends one request and returns its result or its error object.
func (e rpcEndpoint) call(t *testing.T, method string, params ...any) (json.RawMessage, *btcjson.RPCError) {
	t.Helper()
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "http://"+e.host, bytes.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth(e.user, e.pass)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s %v", method, params)
	var r struct {
		Result json.RawMessage   `json:"result"`
		Error  *btcjson.RPCError `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r), "%s %v", method, params)
	return r.Result, r.Error
}

// result calls and requires a result.
func (e rpcEndpoint) result(t *testing.T, method string, params ...any) json.RawMessage {
	t.Helper()
	res, rpcErr := e.call(t, method, params...)
	require.Nil(t, rpcErr, "%s %v on %s", method, params, e.host)
	return res
}

// startBtcd starts btcd --regtest --txindex on a free loopback port.
func startBtcd(t *testing.T) rpcEndpoint {
	t.Helper()
	bin := btcdBinary(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	host := "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "--regtest", "--txindex", "--datadir="+filepath.Join(dir, "data"), "--logdir="+filepath.Join(dir, "log"),
		"--rpcuser=chaintrace", "--rpcpass=chaintrace", "--rpclisten="+host, "--notls", "--nolisten", "--debuglevel=warn")
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	e := rpcEndpoint{host: host, user: "chaintrace", pass: "chaintrace"}
	deadline := time.Now().Add(2 * time.Minute) // a hang guard
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("btcd did not listen on %s: %v\n%s", host, err, logBuf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e
}

// The in-process chain is a real Bitcoin chain: a real btcd --regtest --txindex accepts
// every block of the case (submitblock), and then both nodes answer getblockhash,
// getblock (verbosity 0, 1 and 2), getblockheader and getrawtransaction identically for
// every height and transaction, and getblockcount, getbestblockhash and getblockchaininfo
// (BIP 9 states included) identically for the tip.
func TestRealBtcdAcceptsTheChain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs btcd")
	}
	n := startNode(t)
	c := buildCase(t, n)
	btcd := startBtcd(t)
	ours := rpcEndpoint{host: n.Host(), user: n.User(), pass: n.Pass()}

	for h := int32(1); h <= c.tip; h++ {
		raw, err := n.RawBlock(h)
		require.NoError(t, err)
		res := btcd.result(t, "submitblock", hex.EncodeToString(raw))
		require.JSONEq(t, "null", string(res), "btcd rejected block %d: %s", h, res)
	}

	same := func(method string, params ...any) json.RawMessage {
		t.Helper()
		want := btcd.result(t, method, params...)
		got := ours.result(t, method, params...)
		require.JSONEq(t, string(want), string(got), "%s %v", method, params)
		return got
	}
	same("getblockcount")
	same("getbestblockhash")
	same("getblockchaininfo")
	txs := 0
	for h := int32(0); h <= c.tip; h++ {
		var hash string
		require.NoError(t, json.Unmarshal(same("getblockhash", h), &hash))
		same("getblock", hash, 0)
		same("getblock", hash, 2)
		same("getblockheader", hash, true)
		same("getblockheader", hash, false)
		var blk struct{ Tx []string }
		require.NoError(t, json.Unmarshal(same("getblock", hash, 1), &blk))
		if h == 0 {
			continue // neither node indexes the genesis coinbase
		}
		for _, id := range blk.Tx {
			same("getrawtransaction", id, 1)
			same("getrawtransaction", id, 0)
			txs++
		}
	}
	require.Equal(t, int(c.tip)+len(c.txs), txs)

	// The errors agree too: out of range, unknown block and transaction.
	for _, call := range []struct {
		method string
		params []any
	}{
		{"getblockhash", []any{c.tip + 1}},
		{"getblock", []any{"00000000000000000000000000000000000000000000000000000000000000ff"}},
		{"getblock", []any{"xyz"}},
		{"getblockheader", []any{"00000000000000000000000000000000000000000000000000000000000000ff"}},
		{"getrawtransaction", []any{"00000000000000000000000000000000000000000000000000000000000000ff", 1}},
	} {
		_, want := btcd.call(t, call.method, call.params...)
		_, got := ours.call(t, call.method, call.params...)
		require.NotNil(t, want, "%s %v", call.method, call.params)
		require.NotNil(t, got, "%s %v", call.method, call.params)
		require.Equal(t, want.Code, got.Code, "%s %v: btcd says %q, regnode %q", call.method, call.params, want.Message, got.Message)
	}
}

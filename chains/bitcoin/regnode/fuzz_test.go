package regnode

import (
	"context"
	"encoding/json"
	"testing"
)

// Any request body gets one JSON reply (an object, or an array for a batch), never a
// panic.
func FuzzServeBody(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}`,
		`{"jsonrpc":"2.0","id":"x","method":"getblock","params":["0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",2]}`,
		`{"id":1,"method":"getrawtransaction","params":["4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",1]}`,
		`[{"jsonrpc":"2.0","id":1,"method":"getblockhash","params":[0]},{"id":2,"method":"x"}]`,
		`{"id":1,"method":"getblockheader","params":["00",false]}`,
		`{"id":{},"method":"getblockchaininfo","params":[]}`,
		`[]`, `[1,`, `{`, ``, `null`, `[null]`,
	} {
		f.Add([]byte(s))
	}
	n, err := Start(context.Background(), Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Mine(context.Background(), 3, MinerKey().P2PKH()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out := n.serveBody(body)
		if !json.Valid(out) {
			t.Fatalf("reply to %q is not JSON: %q", body, out)
		}
	})
}

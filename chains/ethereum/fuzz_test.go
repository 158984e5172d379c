package ethereum_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
)

// FuzzDecodeBlock feeds arbitrary block, receipts and traces JSON to DecodeBlock. It must
// never panic; an error must wrap one of the package's sentinels; a decoded block must be
// well formed: canonical addresses, unique transfer IDs, no zero amounts, sequential indexes,
// link legs that are transfers of the block.
func FuzzDecodeBlock(f *testing.F) {
	for _, r := range loadRecorded(f) {
		// Blocks with contract deployments carry tens of KB of bytecode: the mutator
		// gets nowhere in those, and minimizing them stalls the fuzzer.
		if len(r.Block)+len(r.Receipts)+len(r.Traces) < 16<<10 {
			f.Add([]byte(r.Block), []byte(r.Receipts), []byte(r.Traces))
		}
	}
	dir := filepath.Join("..", "..", "testdata", "ethereum", "rpc-stream-1755634-1755635")
	blk := resultOf(f, filepath.Join(dir, "web3_response.eth_getBlockByNumber_0x1ac9f3_true.json"))
	r0 := resultOf(f, filepath.Join(dir, "web3_response.eth_getTransactionReceipt_0x2e3dcd051a91d3a694f6b8de2ac4b5fe7acdba55f58bcf8471ff00d4a430074d.json"))
	r1 := resultOf(f, filepath.Join(dir, "web3_response.eth_getTransactionReceipt_0x9a5437ec71b74ecf5930b406908ac6999966d38a86d1534b7190ece7599095eb.json"))
	f.Add(blk, []byte("["+string(r0)+","+string(r1)+"]"), []byte(nil))
	f.Add([]byte(`{"number":"0x1","hash":"0x`+zeros(64)+`","parentHash":"0x`+zeros(64)+`","transactions":[],"withdrawals":[{"index":"0x0","validatorIndex":"0x1","address":"0x`+zeros(40)+`","amount":"0xffffffffffffffff"}]}`), []byte(`[]`), []byte(`[]`))

	sb, sr, st := swapBlock(2, true) // link events: the detectors run inside decoding
	f.Add(sb, sr, st)

	f.Fuzz(func(t *testing.T, block, receipts, traces []byte) {
		if len(traces) == 0 {
			traces = nil
		}
		d, err := ethereum.DecodeBlock(block, receipts, traces)
		if err != nil {
			if !errors.Is(err, ethereum.ErrMalformed) && !errors.Is(err, ethereum.ErrInconsistent) && !errors.Is(err, ethereum.ErrOverflow) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		ids := map[string]bool{}
		for i, tx := range d.Block.AccountTxs {
			if tx.Index != uint32(i) {
				t.Fatalf("tx %d has index %d", i, tx.Index)
			}
			canonical(t, tx.From)
			if tx.To != "" {
				canonical(t, tx.To)
			}
			for _, x := range tx.Transfers {
				if ids[x.ID] {
					t.Fatalf("duplicate transfer id %s", x.ID)
				}
				ids[x.ID] = true
				if x.Amount.IsZero() {
					t.Fatalf("zero transfer %s", x.ID)
				}
				canonical(t, x.From)
				canonical(t, x.To)
			}
		}
		for _, p := range d.Block.Links {
			for _, l := range append(append([]graph.Leg(nil), p.In...), p.Out...) {
				if !ids[l.Ref] {
					t.Fatalf("link %s: leg %s is no transfer of the block", p.Key, l)
				}
			}
		}
	})
}

func canonical(t *testing.T, a graph.Address) {
	t.Helper()
	c, err := graph.ParseAddress(graph.Ethereum, string(a))
	if err != nil || c != a {
		t.Fatalf("address %q is not canonical (%v)", a, err)
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func resultOf(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	return env.Result
}

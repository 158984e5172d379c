package ethereum

import (
	"encoding/csv"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// Real geth callTracer responses of debug_traceBlockByNumber (mainnet blocks 1, 1000000,
// 1000690, 1000895, 1011973) decode to the value transfers that ethereum-etl's flattened
// traces imply: every frame below the top with value > 0 that moves value between accounts
// (CALL, CREATE, SELFDESTRUCT — not CALLCODE/DELEGATECALL/STATICCALL), in trace-address
// order, Reverted when it or an ancestor has an error; and the top frame's value and error.
func TestGoldenGethTraces(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "ethereum", "geth-traces", "*"))
	if err != nil || len(dirs) != 5 {
		t.Fatalf("trace fixtures: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			resp, _ := filepath.Glob(filepath.Join(dir, "web3_response.debug_traceBlockByNumber_*.json"))
			raw, err := os.ReadFile(resp[0])
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Result []wireTraceResult `json:"result"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Fatal(err)
			}
			// Expected, from ethereum-etl's CSV.
			f, err := os.Open(filepath.Join(dir, "expected_traces.csv"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil && !strings.Contains(err.Error(), "EOF") {
				t.Fatal(err)
			}
			type row = map[string]string
			byTx := map[string][]row{}
			if len(rows) > 0 {
				for _, r := range rows[1:] {
					m := row{}
					for i, h := range rows[0] {
						m[h] = r[i]
					}
					byTx[m["transaction_index"]] = append(byTx[m["transaction_index"]], m)
				}
			}
			if len(byTx) != len(env.Result) {
				t.Fatalf("%d traced txs, expected %d", len(env.Result), len(byTx))
			}
			for i, tr := range env.Result {
				exp := byTx[itoa(i)]
				txHash := "tx" + itoa(i) // these old responses carry no txHash
				var want []graph.Transfer
				failed := map[string]bool{} // trace addresses with an error
				for _, r := range exp {
					ta := strings.ReplaceAll(r["trace_address"], ",", "_")
					if r["error"] != "" {
						failed[ta] = true
					}
					if ta == "" {
						if v := tr.Result.Value.amount(); tr.Result.Error != r["error"] || v != dec(t, r["value"]) {
							t.Errorf("tx %d top frame: error %q value %s, expected %q %s", i, tr.Result.Error, v.Dec(), r["error"], r["value"])
						}
						continue
					}
					v := dec(t, r["value"])
					if v.IsZero() || (r["trace_type"] == "call" && r["call_type"] != "call") {
						continue
					}
					kind := map[string]graph.TransferKind{"call": graph.KindInternal, "create": graph.KindCreate, "suicide": graph.KindSelfDestruct}[r["trace_type"]]
					reverted := false
					for p := ta; ; {
						if failed[p] {
							reverted = true
						}
						j := strings.LastIndexByte(p, '_')
						if j < 0 {
							break
						}
						p = p[:j]
					}
					want = append(want, graph.Transfer{ID: txHash + ".t" + ta, Asset: graph.ETH, From: graph.Address(r["from_address"]),
						To: graph.Address(r["to_address"]), Amount: v, Kind: kind, Reverted: reverted})
				}
				var got []graph.Transfer
				for ci := range tr.Result.Calls {
					if got, err = frameTransfers(got, txHash, "test", &tr.Result.Calls[ci], []int{ci}, false); err != nil {
						t.Fatal(err)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("tx %d: %+v, expected %+v", i, got, want)
				}
				for k := range want {
					if got[k] != want[k] {
						t.Errorf("tx %d transfer %d: %+v, expected %+v", i, k, got[k], want[k])
					}
				}
			}
		})
	}
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

func dec(t *testing.T, s string) graph.Amount {
	t.Helper()
	if s == "" {
		return graph.Amount{}
	}
	a, err := uint256.FromDecimal(s)
	if err != nil {
		t.Fatalf("value %q: %v", s, err)
	}
	return *a
}

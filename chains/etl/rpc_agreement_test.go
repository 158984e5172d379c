package etl_test

import (
	"encoding/json"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

// rpcResult returns the "result" of a recorded JSON-RPC response.
func rpcResult(t *testing.T, path string) json.RawMessage {
	t.Helper()
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(readFixture(t, path)), &env); err != nil {
		t.Fatal(err)
	}
	return env.Result
}

// decodeRPC normalizes a block with the RPC adapter from the recorded responses that
// ethereum-etl exported it from.
func decodeRPC(t *testing.T, dir, blockFile string) graph.Block {
	t.Helper()
	block := rpcResult(t, dir+"/"+blockFile)
	var b struct {
		Transactions []struct {
			Hash string `json:"hash"`
		} `json:"transactions"`
	}
	if err := json.Unmarshal(block, &b); err != nil {
		t.Fatal(err)
	}
	receipts := []json.RawMessage{}
	for _, tx := range b.Transactions {
		receipts = append(receipts, rpcResult(t, dir+"/web3_response.eth_getTransactionReceipt_"+tx.Hash+".json"))
	}
	rs, _ := json.Marshal(receipts)
	d, err := ethereum.DecodeBlock(block, rs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return *d.Block
}

// The RPC adapter (chains/ethereum) and this reader give the same Blocks for the same
// mainnet blocks: the RPC responses on one side, the ethereum-etl export made from them on
// the other (no traces on either side).
func TestAgreesWithRPCAdapter(t *testing.T) {
	d := "ethereum/block_483920/"
	fromETL := mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
		Receipts: open(t, d+"receipts.csv"), Logs: open(t, d+"logs.csv"), NoTraces: true})
	fromRPC := decodeRPC(t, d+"rpc", "web3_response.eth_getBlockByNumber_0x76250_true.json")
	if got, want := dump(fromETL), dump([]graph.Block{fromRPC}); got != want {
		t.Errorf("block 483920: etl\n%s\nrpc\n%s", got, want)
	}

	d = "ethereum/blocks_1755634_1755635/"
	fromETL = mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.json"), Transactions: open(t, d+"transactions.json"),
		Logs: open(t, d+"logs.json"), NoTraces: true})
	rpc := []graph.Block{
		decodeRPC(t, d+"rpc", "web3_response.eth_getBlockByNumber_0x1ac9f2_true.json"),
		decodeRPC(t, d+"rpc", "web3_response.eth_getBlockByNumber_0x1ac9f3_true.json"),
	}
	if got, want := dump(fromETL), dump(rpc); got != want {
		t.Errorf("blocks 1755634-5: etl\n%s\nrpc\n%s", got, want)
	}
}

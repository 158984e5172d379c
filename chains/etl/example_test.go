package etl_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

// An ethereum-etl export of one block, cut down to the columns the reader needs: mainnet
// block 1000000's transactions and Parity traces (a 100 ETH payment to a contract whose
// CALLCODE subcall moves nothing, a plain payment, the block reward). The receipts' gas
// figures are illustrative. Blocks, transactions and receipts are CSV; traces are JSON.
func ExampleReadEthereum() {
	blocks := "number,hash,parent_hash,timestamp,transaction_count\n" +
		"1000000,0x8e38b4dbf6b11fcc3b9dee84fb7986e29ca0a02cecd8977c161ff7333329681e,,1455404053,2\n"
	txs := "hash,block_number,transaction_index,from_address,to_address,value,gas_price\n" +
		"0xea1093d492a1dcb1bef708f771a99a96ff05dcab81ca76c31940300177fcf49f,1000000,0,0x39fa8c5f2793459d6622857e7d9fbb4bd91766d3,0xc083e9947cf02b8ffc7d3090ae9aea72df98fd47,100000000000000000000,50000000000\n" +
		"0xe9e91f1ee4b56c0df2e9f06c2b8c27c6076195a88a7b8537ba8313d80e6f124e,1000000,1,0x32be343b94f860124dc4fee278fdcbd38c102d88,0xdf190dc7190dfba737d7777a163445b7fff16133,437194980000000000,50000000000\n"
	receipts := "transaction_hash,transaction_index,block_number,gas_used,status\n" +
		"0xea1093d492a1dcb1bef708f771a99a96ff05dcab81ca76c31940300177fcf49f,0,1000000,29244,\n" +
		"0xe9e91f1ee4b56c0df2e9f06c2b8c27c6076195a88a7b8537ba8313d80e6f124e,1,1000000,21000,\n"
	traces := `{"block_number": 1000000, "transaction_index": 0, "from_address": "0x39fa8c5f2793459d6622857e7d9fbb4bd91766d3", "to_address": "0xc083e9947cf02b8ffc7d3090ae9aea72df98fd47", "value": 100000000000000000000, "trace_type": "call", "call_type": "call", "trace_address": [], "error": null}
{"block_number": 1000000, "transaction_index": 0, "from_address": "0xc083e9947cf02b8ffc7d3090ae9aea72df98fd47", "to_address": "0xc083e9947cf02b8ffc7d3090ae9aea72df98fd47", "value": 100000000000000000000, "trace_type": "call", "call_type": "callcode", "trace_address": [0], "error": null}
{"block_number": 1000000, "transaction_index": 1, "from_address": "0x32be343b94f860124dc4fee278fdcbd38c102d88", "to_address": "0xdf190dc7190dfba737d7777a163445b7fff16133", "value": 437194980000000000, "trace_type": "call", "call_type": "call", "trace_address": [], "error": null}
{"block_number": 1000000, "transaction_index": null, "from_address": null, "to_address": "0x2a65aca4d5fc5b5c859090a6c34d164135398226", "value": 5000000000000000000, "trace_type": "reward", "call_type": null, "reward_type": "block", "trace_address": [], "error": null, "trace_id": "reward_1000000_0"}
`
	err := etl.ReadEthereum(context.Background(), etl.EthereumExport{
		Blocks:           etl.StringSource("blocks.csv", etl.FormatCSV, blocks),
		Transactions:     etl.StringSource("transactions.csv", etl.FormatCSV, txs),
		Receipts:         etl.StringSource("receipts.csv", etl.FormatCSV, receipts),
		Traces:           etl.StringSource("traces.json", etl.FormatJSON, traces),
		NoTokenTransfers: true,
	}, func(b *graph.Block) error {
		for _, tx := range b.AccountTxs {
			fmt.Printf("tx %d fee %s wei\n", tx.Index, tx.Fee.Dec())
			for _, t := range tx.Transfers {
				fmt.Printf("  %-8s %s → %s %s wei\n", t.Kind, t.From[:10], t.To[:10], t.Amount.Dec())
			}
		}
		return nil
	})
	fmt.Println("error:", err)
	// Output:
	// tx 0 fee 1462200000000000 wei
	//   call     0x39fa8c5f → 0xc083e994 100000000000000000000 wei
	// tx 1 fee 1050000000000000 wei
	//   call     0x32be343b → 0xdf190dc7 437194980000000000 wei
	// tx 2 fee 0 wei
	//   reward   0x00000000 → 0x2a65aca4 5000000000000000000 wei
	// error: <nil>
}

// A raw bitcoin-etl export (block 50001's second transaction, inputs not enriched): the
// inputs are left unresolved for the store to fill in.
func ExampleReadBitcoin() {
	txs := `{"hash": "e1882d41800d96d0fddc196cd8d3f0b45d65b030c652d97eaba79a1174e64d58", "block_number": 50001, "block_hash": "000000001c920d495e1eeef2452b6d1c6c229a919b28196c103ecffebabee141", "block_timestamp": 1270917100, "is_coinbase": true, "index": 0, "inputs": [], "outputs": [{"index": 0, "script_hex": "4104c1b5", "type": "pubkey", "addresses": ["1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ"], "value": 5000000000}]}
{"hash": "f84761459a00c6df3176ae5d94c99e69f25100d09548e5686bd0c354bb8cc60a", "block_number": 50001, "block_hash": "000000001c920d495e1eeef2452b6d1c6c229a919b28196c103ecffebabee141", "block_timestamp": 1270917100, "is_coinbase": false, "index": 1, "inputs": [{"index": 0, "spent_transaction_hash": "0d37522b89f991f8433b80f709ad31862a54435cd003f25732fe405e9db93216", "spent_output_index": 0, "addresses": [], "value": null}], "outputs": [{"index": 0, "script_hex": "76a914b5cd", "type": "pubkeyhash", "addresses": ["1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ"], "value": 5000000000}]}
`
	bs, err := etl.ReadBitcoinBlocks(context.Background(), etl.BitcoinExport{
		Transactions: etl.StringSource("transactions.json", etl.FormatJSON, txs),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, tx := range bs[0].UTXOTxs {
		fmt.Printf("tx %d coinbase=%v\n", tx.Index, tx.Coinbase)
		for _, in := range tx.Inputs {
			fmt.Printf("  in  %s resolved=%v\n", in.Prev, in.Resolved)
		}
		for _, o := range tx.Outputs {
			fmt.Printf("  out %s %s sat\n", o.Address, o.Value.Dec())
		}
	}
	// Output:
	// tx 0 coinbase=true
	//   out 1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ 5000000000 sat
	// tx 1 coinbase=false
	//   in  0d37522b89f991f8433b80f709ad31862a54435cd003f25732fe405e9db93216:0 resolved=false
	//   out 1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ 5000000000 sat
}

// Errors say where: file, line, column, and what is wrong.
func ExampleError() {
	txs := "hash,block_number,transaction_index,from_address,to_address,value\n" +
		"0x99f1097abd8f33a68f0ed63d60de5f3e7e2a3e0579b90d5f46a4f201c658b46d,47218,0,0x1406854d149e081ac09cb4ca560da463f3123059,0xa0e74ae010d51894734c308d612131056bb721ad,110 ETH\n"
	_, err := etl.ReadEthereumBlocks(context.Background(), etl.EthereumExport{
		Blocks:       etl.StringSource("blocks.csv", etl.FormatCSV, "number,hash,timestamp\n47218,0x889c421abc62a48641eee140519e6da8c9dc01d85d8f5c4fbc3c13e3c6e4cb3e,1438936285\n"),
		Transactions: etl.StringSource("transactions.csv", etl.FormatCSV, txs),
		NoTraces:     true, NoTokenTransfers: true,
	})
	var e *etl.Error
	if errors.As(err, &e) {
		fmt.Println(e.File, e.Line, e.Column, errors.Is(err, etl.ErrBadValue))
	}
	fmt.Println(err)
	// Output:
	// transactions.csv 2 value true
	// transactions.csv:2: block 47218: tx 0x99f1097abd8f33a68f0ed63d60de5f3e7e2a3e0579b90d5f46a4f201c658b46d: column value: bad value: malformed amount: "110 ETH" is not a decimal integer of base units
}

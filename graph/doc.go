// Package graph is chaintrace's normalized, chain-independent model of value movements,
// and (in store*.go) the embedded badger store that persists it.
//
// Every chain adapter (package chains/...) turns its chain's native data into a stream of
// Blocks; everything past chains/ — the store, labels, the taint engine in package trace —
// sees only these types and never a chain's native ones (no wire.MsgTx, no types.Receipt).
//
// The model has two shapes of transaction, one per accounting model:
//
//   - UTXOTx (Bitcoin): inputs spend Outpoints whose value and address are resolved, outputs
//     create new ones; the fee is inputs minus outputs.
//   - AccountTx (Ethereum): a sender, a gas fee charged first, a status, and the transaction's
//     value Transfers in execution order (call value, internal transfers from the call trace,
//     ERC-20 Transfer logs; mints for rewards and withdrawals).
//
// Amounts are exact integers in base units (satoshi, wei, token units) held in a 256-bit
// unsigned integer (Amount); the model never uses floating point. Addresses are canonical
// text (see ParseAddress): lower-case 0x-hex on Ethereum, the encoded address on Bitcoin
// (bech32 in lower case). A movement's place in its chain's history is a Position, which
// orders all movements of one chain totally.
//
// # Store performance
//
// Measured on the 2-core development machine with the store benchmarks
// (store_bench_test.go, store_replay_bench_test.go; medians of three runs, per CPU-second of
// the whole process, badger's goroutines included; UTXO at 600k transactions, account at
// 1M transfers), store format 2:
//
//	WriteBlock, UTXO                   29.7k tx/cpu-s     673 B/tx on disk
//	WriteBlock, UTXO, no address index 41.3k tx/cpu-s     504 B/tx
//	WriteBlock, account                71.0k transfer/cpu-s 271 B/transfer
//	BulkLoader, UTXO                   71.7k tx/cpu-s     632 B/tx (up to 96k tx/s wall on two free cores)
//	BulkLoader, account                134k transfer/cpu-s  262 B/transfer
//	replay from the store              93-95% of the speed of replay from memory
//
// Ingest cost is mostly badger's per-entry cost (memtable insert, write-ahead log, flush,
// compactions): a UTXO transaction with two inputs and two outputs writes six index
// entries; see Store's Format paragraph.
package graph

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
// # Crash safety
//
// Every writer of the store leaves it whole when the process is killed at any point
// (SIGKILL included), and the next OpenStore opens it without help:
//
//   - WriteBlock (the incremental ingest of every chain adapter, and the follower) writes a
//     block, its index entries and its chain's cursor in one badger transaction.
//   - Rewind (a reorg) drops one block per transaction, the cursor moving with it.
//   - SetWindowStart, DeleteRecord and PutRecords (labels, engine checkpoints, results) are
//     one transaction each; a large record's chunks are written first and published by one
//     header write, so a crash leaves the old value (and unreferenced chunks, which the next
//     write of the key deletes).
//   - A bulk load cannot be one transaction: it records its intent before it drops
//     anything (store_intent.go), and the next OpenStore rolls an interrupted load back to
//     the store before it, says so (Store.Recovered), and the caller loads again.
//   - A full file system: badger writes through memory mappings, where a full disk is a
//     SIGBUS rather than an error, so the store refuses to begin a write while less than
//     StoreOptions.MinFreeSpace is free (ErrDiskFull), leaving a whole store.
//
// A directory that holds another program's badger data is ErrForeignStore, one written by
// a newer build ErrNewerStoreFormat, by an older one ErrOlderStoreFormat (all three are
// also ErrIncompatibleStore), each with what to do; none of them is ever what a crash
// leaves. The store holds its own lock file while open (ErrStoreInUse for a second
// process). TestStoreCrashMidIngest, TestStoreBulkLoadCrash and examples/trace's
// TestCrashRerun kill real processes to check all of this.
//
// # Store performance
//
// Measured on the 2-core development machine with the store benchmarks
// (store_bench_test.go, store_replay_bench_test.go) at 1M transactions (UTXO) and 1M
// transfers (account), store format 2. Medians of 3 runs (WriteBlock) or 5 runs (bulk);
// wall time on the otherwise idle machine, and per CPU-second of the whole process
// (badger's goroutines included):
//
//	                                   wall            per CPU-second     on disk
//	WriteBlock, UTXO                   31.6k tx/s      21.4k tx           668 B/tx
//	WriteBlock, account                95.9k transfer/s 64.7k transfer    271 B/transfer
//	BulkLoader, UTXO                   133k tx/s       79.9k tx           636 B/tx
//	BulkLoader, account                184k transfer/s 123k transfer      262 B/transfer
//	replay from the store (haircut)    UTXO 310k tx/s, 93% of replay from memory; account
//	                                   356k transfers/s, 85% (median of 3 alternated runs)
//
// WriteBlock is the incremental path (one atomic commit per block, with its cursor): its
// cost is mostly badger's per-entry cost (memtable insert, write-ahead log, flush,
// compactions), and a UTXO transaction with two inputs and two outputs writes six index
// entries (see Store's Format paragraph). A first-time load of a history goes through
// BulkLoader, which sorts the entries itself and streams them into badger's tables; its
// UTXO load peaked at 1.8 GB of live heap at 1M transactions (the unspent outputs and the
// in-memory sort runs).
package graph

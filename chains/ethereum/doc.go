// Package ethereum reads Ethereum chain data from a JSON-RPC node and normalizes it into
// graph.Blocks (account model), the form the store persists and the taint engine replays.
//
// # Fetching
//
// A Client talks to any Ethereum JSON-RPC endpoint through go-ethereum's rpc package:
//
//	c, err := ethereum.Dial(ctx, "http://127.0.0.1:8545", ethereum.Options{})
//	d, err := c.Block(ctx, 19_000_000)        // *Decoded: the graph.Block and its warnings
//	res, err := ethereum.Ingest(ctx, c, store, ethereum.IngestOptions{From: 19_000_000})
//
// Per block it calls eth_getBlockByNumber (full transactions), eth_getBlockReceipts — or,
// on nodes without it, eth_getTransactionReceipt per transaction — and
// debug_traceBlockByNumber with geth's callTracer. Blocks go BlocksPerBatch at a time into
// one JSON-RPC batch request (halved automatically when the node refuses a batch as too
// large); Ingest runs Workers batches in parallel and writes them in chain order. Transient
// failures (network errors, HTTP 429/5xx, timeouts) are retried with exponential backoff.
//
// Ingest is resumable and reorg-aware: it starts after the store's tip, first checking that
// the node still has the stored tip's hash; if not, it walks back with Store.BlockHash to the
// fork point, Rewinds the store there and ingests the node's branch. A reorg detected while
// fetching (a block whose parent is not the block just written) is resolved the same way.
// A Progress callback reports the height, blocks per second and an ETA.
//
// # Normalization (taint spec §3.2)
//
// Each transaction becomes a graph.AccountTx: From, To (empty for a contract creation),
// Fee = gasUsed × effectiveGasPrice + blobGasUsed × blobGasPrice (the receipt's; the tx's
// gasPrice when an old node omits effectiveGasPrice), Success = receipt status. A failed
// transaction has its fee and no transfers. A successful one has, in execution order:
//
//	ID                  Kind                 what
//	<tx>.0              call (create)        the top-level value (to the created contract)
//	<tx>.t<path>        internal, create,    value of a callTracer frame below the top, in
//	                    selfdestruct         pre-order; <path> is the trace address joined
//	                                         by "_" (t0, t0_1, …)
//	<tx>.log<logIndex>  erc20                an ERC-20 Transfer log: topic0 ddf252ad…, exactly
//	                                         3 topics and 32 bytes of data (ERC-721 has 4
//	                                         topics and is skipped); Asset = token contract
//
// Frames with an error, and every frame below one, are kept with Reverted set (the engine
// skips them; the record stays complete). DELEGATECALL, STATICCALL and CALLCODE frames move
// no value between accounts and give no transfer. Zero amounts are omitted. Beacon-chain
// withdrawals come after the block's transactions as mints: a pseudo-transaction
// "<block>.withdrawals" (index = number of transactions, From = graph.ZeroAddress, no fee)
// with transfers "<block>.w<i>" (Kind withdrawal, From ZeroAddress), Gwei converted to wei.
// Hashes and addresses are lower-case hex.
//
// # Incomplete data is never silent
//
// What the node cannot tell is reported as a Warning on the block (errors.Is with
// ErrNoTraces, ErrTraceFailed, ErrStatusUnknown, ErrRewardsOmitted), counted in
// IngestResult.WarningCounts, summarized by IngestResult.Degraded, and — for a node without
// the debug API — logged once as a WARN line. Without traces only top-level values and
// ERC-20 logs are visible, so contract balances are under-reported; Options.RequireTraces
// turns that into an error (ErrNoTraceAPI). Proof-of-work block rewards are not emitted
// (JSON-RPC does not report them).
//
// DecodeBlock normalizes recorded JSON-RPC results without a node (used by tests, fuzzing and
// by chains/etl's cross-check). Sub-packages: devnode runs a real in-process geth dev chain
// with the tracer API for tests and examples; contracts holds the Solidity contracts the tests
// play, compiled with solc-js.
package ethereum

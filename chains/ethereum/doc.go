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
// Link detection (DetectLinks, below) adds two kinds of transfer that no log records:
//
//	<tx>.log<i>.mint    wrap                 WETH9 Deposit at log i: the wrapper mints wad of its
//	<tx>.log<i>         wrap                 token to itself, then pays it to dst (the out-leg)
//	<tx>.log<i>         unwrap               WETH9 Withdrawal at log i: src pays wad of the token
//	<tx>.log<i>.burn    unwrap               back (the in-leg), the wrapper burns it (to 0x0)
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
// # Links (taint spec §15.10)
//
// Detectors read the logs of each successful transaction and put what they find on the block
// as graph.LinkParts (Block.Links, kept by the store), each with its evidence (transaction,
// log index, memo). A link is made only of movements of the transaction with the amounts
// the event states; an event without them — any contract can emit any event — gives a
// Warning wrapping ErrLinkUnmatched and no link, a malformed one ErrLinkEvent (and
// thorchain.ErrMemo for a memo THORChain would not read).
//
//	event (emitter)                      key                        in-legs                    out-legs                  venues
//	Deposit(dst, wad) (WETH9)            wrap:<tx>:<log>            the ETH dst paid the       <tx>.log<i>: wad of the   the wrapper
//	                                                                wrapper (call or frame)    token to dst (added)
//	Withdrawal(src, wad) (WETH9)         wrap:<tx>:<log>            <tx>.log<i>: wad of the    the wrapper's ETH         the wrapper
//	                                                                token from src (added)     payment to src
//	Swap(…, amount0In, amount1In,        swap:<tx>:<log>            the Transfer log of the    the Transfer logs of the  the pool
//	amount0Out, amount1Out, to) (V2)                                input into the pool        outputs from the pool to
//	Swap(…, recipient, amount0,          swap:<tx>:<log>            (positive V3 amount)       to/recipient (negative
//	amount1, …) (Uniswap V3)                                                                   V3 amounts)
//	Deposit(vault, asset, amount, memo)  thorchain:<tx hash>        what was paid into the     —                         router, vault
//	(THORChain router), inbound memo                                router: ETH or the ERC-20
//	                                                                Transfer log
//	TransferOut(vault, to, asset,        thorchain:<hash in memo>   —                          the router's payment to   router, vault
//	amount, memo), TransferOutAndCall                                                          to (ETH frame or ERC-20
//	(…), memo OUT:<hash> / REFUND:<hash>                                                       log; the aggregator)
//
// Swap legs are the nearest matching Transfer logs before the Swap log, so a route through
// several pools is a chain of links (one pair paying the next is the out-leg of one and the
// in-leg of the next; graph.JoinLinks allows it). A swap paying both tokens in, or whose
// output is not a Transfer of the stated amount (fee-on-transfer tokens), gives a warning.
// One THORChain inbound per transaction (its hash is the key); vault migrations (MIGRATE,
// …) are no links. The engine must see a link's in-legs before its out-legs: where the
// contract pays out first (a V3 pool pays, then calls back to be paid; WETH9 sends the ETH
// before its Withdrawal log), the in-leg is moved to just before the out-leg in
// AccountTx.Transfers — the transaction is atomic — and a link that moves cannot fix is
// dropped with a warning.
//
// The wrap detector trusts the Deposit/Withdrawal signature and WETH9's behaviour (dst
// paid the ETH itself, src is paid): a contract that emits those events with matching ETH
// movements is taken for a wrapper. Without traces, wraps through routers (internal ETH)
// give warnings. chains/etl runs the same detectors over exports with a logs table.
//
// DecodeBlock normalizes recorded JSON-RPC results without a node (used by tests, fuzzing and
// by chains/etl's cross-check). Sub-packages: devnode runs a real in-process geth dev chain
// with the tracer API for tests and examples; contracts holds the Solidity contracts the tests
// play, compiled with solc-js.
package ethereum

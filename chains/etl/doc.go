// Package etl reads blockchain-etl exports — ethereum-etl CSV or JSON lines, bitcoin-etl
// JSON lines, and the same tables exported from the public BigQuery datasets
// crypto_ethereum and crypto_bitcoin — into graph.Blocks in chain order. It is how users
// bring data they did not fetch from a node.
//
// # Use
//
// Name the tables of an export and stream its blocks:
//
//	blocks, _ := etl.OpenFile("blocks.csv") // .csv, .json, .jsonl; gzip is detected
//	defer blocks.Close()
//	… transactions, receipts, traces, token_transfers (or logs) likewise …
//	err := etl.ReadEthereum(ctx, etl.EthereumExport{
//		Blocks: blocks, Transactions: txs, Receipts: receipts, Traces: traces, Logs: logs,
//	}, func(b *graph.Block) error { return store.WriteBlock(ctx, b) })
//
// ReadEthereum and ReadBitcoin hold one block's rows at a time (exports can be large);
// ReadEthereumBlocks and ReadBitcoinBlocks return a slice for small ones. Every table must
// be sorted by block number (BigQuery exports are not: ORDER BY block_number); inside a
// block rows may come in any order. Each table is a Source with its own format, so a CSV
// blocks table may go with JSON receipts. Columns are matched by name; the column sets of
// ethereum-etl/bitcoin-etl (export and stream) and of the BigQuery tables are known, and
// anything else is ErrUnknownColumn (Options.IgnoreUnknownColumns accepts it).
//
// # Errors
//
// Bad input is an *Error naming the file, line, block, transaction and column, wrapping a
// sentinel (ErrBadValue, ErrMissingColumn, ErrUnknownColumn, ErrOutOfOrder, ErrUnknownBlock,
// ErrIncomplete, ErrInconsistent, …). Nothing is guessed silently: a table the record needs
// and that is absent is ErrMissingTable unless declared absent (NoTraces,
// NoTokenTransfers); the few assumptions the reader must make go to Options.Warn.
// Cross-checks: transaction_count against the transactions present, transaction indexes
// 0…n-1, block_hash of transactions and receipts, parent_hash against the block below,
// receipt status against the top-level trace, the top-level trace value against the
// transaction value, bitcoin-etl input_value/output_value against the inputs and outputs.
//
// # Ethereum normalization (taint spec §3.2, the same as chains/ethereum)
//
// AccountTx{Hash (0x, lower case), Index, From, To, Fee, Success}:
//
//   - Fee = receipt gas_used × effective_gas_price, + blob_gas_used × blob_gas_price when
//     given, + l1_fee when given (rollups). Without effective_gas_price (older exports) the
//     transaction's gas_price is used: for a mined transaction a node reports the effective
//     price there. Receipts come from the receipts table or, failing that, from the
//     receipt_* columns of transactions (ethereumetl stream, BigQuery); none is
//     ErrMissingReceipt.
//   - Success = receipt status. Before Byzantium receipts have no status: the top-level
//     trace's error decides; without traces the transaction is assumed successful and
//     Options.Warn is told.
//   - A failed transaction has no transfers: it moves nothing but its fee.
//
// Transfers of a successful transaction, in execution order; zero amounts are omitted:
//
//  1. "<tx>.0": the call value, From → To (KindCall), or to the created contract
//     (receipt contract_address) for a contract creation (KindCreate).
//  2. "<tx>.t<trace_address joined by _>": internal value transfers in lexicographic
//     trace_address order (pre-order of the call tree): call_type "call" (KindInternal),
//     create (KindCreate), suicide (KindSelfDestruct). The top-level trace (empty
//     trace_address) is the call value of step 1 and is not counted twice. delegatecall
//     and staticcall move no value; callcode pays the caller itself (geth names the code
//     address as to_address, which would be wrong) — all three are skipped. A trace with
//     error set or status 0, and every trace below it, is kept with Reverted set. geth
//     SELFDESTRUCT traces exported by ethereum-etl have no value: ErrIncompleteTrace, or
//     skipped with a warning under Options.AllowIncompleteTraces.
//  3. "<tx>.log<log_index>": ERC-20 transfers by log index, Asset = token contract.
//     From the logs table the rule is exact and the RPC adapter's: a Transfer log with
//     three topics and one 32-byte data word; four topics (ERC-721, token id indexed) and
//     other layouts are skipped. From token_transfers alone ERC-20 and ERC-721 cannot be
//     told apart (ethereum-etl puts both there): every row is kept as a fungible amount
//     except those of Options.NonFungibleTokens, which ReadNonFungibleTokens fills from a
//     contracts table (is_erc721). Give logs when you can.
//
// With a logs table the link detectors of chains/ethereum run too (ethereum.DetectLinks,
// spec §15.10): WETH9 wraps and unwraps, Uniswap V2/V3 swaps and THORChain router inbounds
// and outbounds become graph.LinkParts on Block.Links, with the wrapper movements and leg
// order they need, exactly as from JSON-RPC; events they cannot use are reported through
// Options.Warn with their log row. Without traces a wrap through a router (internal ETH)
// is such a warning. token_transfers carry no events: no links from them.
//
// Block-level mints come after the block's transactions, each group in a pseudo-
// transaction with From = graph.ZeroAddress, no fee and Success: "<block>.rewards"
// (Parity/Erigon reward traces — block and uncle — and genesis allocations as KindReward
// "<block>.r<k>", the DAO fork's irregular transfers as KindInternal "<block>.daofork<k>";
// k orders them by trace_index or trace_id), then "<block>.withdrawals" (beacon
// withdrawals by withdrawal index, KindWithdrawal "<block>.w<i>" for the i-th of the
// block, Gwei × 10^9 wei). geth traces have no rewards.
//
// # Bitcoin normalization
//
// UTXOTx{TxID (display hex, no 0x), Index, Coinbase, Inputs, Outputs}; values in satoshi,
// exact. bitcoin-etl removes the coinbase input, so a coinbase has no Inputs.
//
//   - Inputs: Prev = (spent_transaction_hash, spent_output_index). Raw exports
//     (export_blocks_and_transactions) have no value or address: Resolved is false and the
//     store resolves them from its outpoint index. Enriched exports (enrich_transactions,
//     BigQuery) carry them: Resolved is true when the value is there and one address.
//   - Outputs: one address → that address, canonical; bitcoin-etl's "nonstandard<hex>"
//     pseudo-addresses are kept as written. No address or several (bare multisig as old
//     bitcoind listed it) → the pseudo-address bitcoin-etl gives scripts without one
//     address, "nonstandard" + first 40 hex digits of sha256(script_hex): the script is one
//     holding. Unspendable is set for OP_RETURN scripts.
//   - Blocks are optional: without them, a block is formed from its transactions'
//     block_number/block_hash/block_timestamp. bitcoin-etl blocks carry no parent hash;
//     Parent is set when the block below is in the same export.
//   - Without an index column (BigQuery) the in-block order is rebuilt: coinbase first,
//     each transaction after those of the block it spends (what UTXO tracing needs).
package etl

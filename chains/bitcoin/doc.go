// Package bitcoin turns real Bitcoin data into chaintrace's normalized model (graph.Block):
// Bitcoin Core block files and btcd or bitcoind over JSON-RPC, for mainnet, testnet(3/4),
// signet and regtest. Nothing past this package sees a btcd type.
//
// # Sources
//
//   - BlockFiles reads a Bitcoin Core blocks/ directory: blk*.dat frames (network magic,
//     little-endian size, block), zero-padded file tails, XOR obfuscation with the key in
//     blocks/xor.dat (Bitcoin Core ≥ 28). Files hold blocks in arrival order, stale blocks
//     included: OpenBlockFiles indexes every header, links blocks by parent hash and keeps the
//     chain with the most work, in height order. A chain starts at the genesis block, at its
//     child (as btcd's test files do), or at BlockFilesOptions.StartHeight.
//   - RPC talks to btcd or bitcoind through btcd's rpcclient (HTTP POST mode): getblockhash
//     then getblock <hash> 0. Raw blocks are decoded here, because the verbose forms differ
//     (btcd puts transactions under rawtx, bitcoind under tx). Range fetches a height range
//     with parallel requests and commits in height order, retries transient errors with
//     exponential backoff, and reports progress (height, blocks/s, ETA).
//
// Both implement Source (blocks in chain order, for Stream) and Node (for Ingest).
//
// # Normalization
//
// DecodeBlock (or a Decoder per goroutine) reads the consensus serialization in place: txids
// are hashed from the raw bytes (without the witness), the merkle root is checked against
// them, inputs carry their spent outpoints with Resolved=false (the store resolves value and
// address on write), and the coinbase is a UTXOTx with Coinbase set and no inputs. Hashes
// are display hex without 0x. Every txid and address string of a block is cut from one
// buffer per block: a trace that keeps a few of them keeps that block's text alive.
//
// Output addresses (graph.Address canonical text) follow these rules:
//
//   - P2PKH, P2SH: base58check with the network's version bytes.
//   - P2WPKH, P2WSH (bech32), P2TR and other witness versions 1–16 (bech32m), lower case.
//   - P2PK (a 33- or 65-byte key push, prefix byte matching its length, then OP_CHECKSIG, as
//     Bitcoin Core's Solver matches it): the P2PKH address of the key, as block explorers
//     and bitcoin-etl show it. Coins of one key held as P2PK and P2PKH are thus one address.
//   - Bare multisig and every other script: the pseudo-address "nonstandard" followed by
//     the first 20 bytes of SHA-256 of the script in hex (NonStandardAddress), the rule of
//     bitcoin-etl (btc_script_service.script_hex_to_non_standard_address), so addresses agree
//     with the public BigQuery tables. graph.ParseAddress accepts these pseudo-addresses.
//   - OP_RETURN outputs, and scripts over 10,000 bytes (unspendable by consensus): the
//     empty address with TxOut.Unspendable set. bitcoin-etl gives them a nonstandard
//     pseudo-address instead; the value (almost always 0) can never move again either way.
//
// # Store and streaming
//
// Ingest brings a Store (graph.Store implements it) up to date with a Node: it resumes after
// the store's tip, finds the fork point when the node's chain no longer contains the stored
// tip, rewinds the store to it and follows the new branch, also when the node reorganizes
// during the fetch. BulkLoad is the first-time load of a history into an empty store
// through the store's bulk path (graph.BulkLoader): all or nothing, several times faster
// than Ingest's one commit per block, which then continues from its tip. Stream passes a Source's blocks straight to a function — typically
// trace.Engine.ApplyBlock — for one-pass analyses without a store, checking that heights
// and parent hashes link up. Stream and Source hold no Bitcoin type.
//
// # Windows: tracing from any height
//
// A trace may start above the genesis block (BlockFilesOptions.WindowStart,
// RPCConfig.WindowStart). Every input of the window that spends an output created before it
// is then resolved (graph.TxIn.Resolved with the output's value and address), so that the
// engine and the store take it as a holding from before the window — seeded when it pays a
// seed address or is a seeded outpoint — instead of failing on an unknown outpoint. The
// figures inside the window are those of the full replay, as long as no taint moved
// before the window (a window cannot know of it).
//
//   - Block files: Bitcoin Core's undo files (rev*.dat, obfuscated with the same xor.dat
//     key) hold every connected block's spent outputs. Their records are matched to the
//     best chain's blocks (the record's transaction count and its checksum, SHA-256d of
//     the parent's hash and the data) and each window block is resolved from its own
//     record (DecodeBlockUndo: CompressAmount, the compressed script forms, Bitcoin Core's
//     VARINT). Without undo data for the whole window, one pass over the window collects
//     the outpoints it spends and did not create, then one pass over the earlier blocks
//     keeps exactly those outputs: memory bounded by what the window spends, not by the
//     UTXO set. PrevoutMethod says which was used.
//   - RPC: bitcoind ≥ 23 answers getblock <hash> 3 with every input's prevout; btcd (or an
//     older bitcoind) with a transaction index answers getrawtransaction and getblockheader,
//     sent as JSON-RPC batches (single requests, several in flight, to a node that refuses
//     batches) and cached. A node offering neither is ErrNoPrevouts, naming --txindex.
//
// The sub-package blockgen writes undo files too (Options.Undo), so windows are tested and
// measured on synthetic chains as on real ones.
//
// # THORChain links
//
// Blocks carry the graph.LinkParts of THORChain swaps (Block.Links, docs/taint-spec.md
// §15.10), read as THORChain's own Bitcoin observer reads them (thorchain/thornode,
// bifrost/pkg/chainclients/bitcoin/bitcoin.go): the memo is the data of the OP_RETURN
// outputs with one push, concatenated; an inbound memo (SWAP, =, ADD, …) makes a part
// keyed by thorchain.LinkKey(txid) whose in-leg is the vault output (the first output with
// value not paying the sender, the sender being the address input 0 spends); OUT:<hash> and
// REFUND:<hash> from a vault (every input spending from one address) make a part keyed by
// the inbound hash whose out-legs are the outputs paying anyone but the vault. The vault is
// the part's venue. Vault-internal memos (MIGRATE, …) and OP_RETURN data of other
// protocols give nothing. A memo that is malformed, an outbound from several addresses,
// an inbound THORChain does not observe, or inputs whose addresses cannot be named give a
// Warning (tx, output) instead of a link — never a failed block — kept by the source
// (RPC.Warnings, BlockFiles.Warnings, Decoder.Warnings) and passed to OnWarning.
//
// The addresses the inputs spend come from the block (resolved window inputs, outputs of
// earlier transactions of the block), then from the node's transaction index
// (getrawtransaction, for memo transactions only), then from the store Ingest fills
// (StorePrevouts, in height order; RPCConfig.Prevouts and BlockFilesOptions.Prevouts set
// a lookup for other consumers). Stream has no store: such memos are warnings there.
// DetectThorchain, ThorchainMemo and OPReturnData are the same rules for other readers
// (chains/etl uses them on bitcoin-etl exports).
//
// # Errors
//
// Errors wrap the sentinels in errors.go (ErrBadMagic, ErrTruncated, ErrBadBlock, …) and
// name the file and offset, block or transaction at fault. Garbage input is an error, never
// a panic: the readers are fuzzed, and the in-place decoder is fuzzed against btcd's.
//
// The sub-package blockgen writes deterministic synthetic chains in blk-file format for
// benchmarks.
package bitcoin

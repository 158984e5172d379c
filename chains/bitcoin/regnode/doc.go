// Package regnode runs a Bitcoin regtest chain inside the process: btcd's own consensus
// code (blockchain.ProcessBlock with chaincfg.RegressionNetParams, full validation, blocks
// stored by btcd's ffldb in a temporary directory) behind a JSON-RPC server on loopback
// HTTP that answers like btcd with --txindex. It is the Bitcoin counterpart of
// chains/ethereum/devnode: the main job and the tests get a real Bitcoin chain and ingest
// it over JSON-RPC, with no node binary to build or start.
//
//	n, err := regnode.Start(ctx, regnode.Options{})
//	defer n.Close()
//	alice, bob := regnode.NewKey("alice"), regnode.NewKey("bob")
//	_, err = n.Mine(ctx, 100, alice.P2PKH())   // block 1's coinbase is spendable in block 101
//	txid, err := n.Send(ctx, alice, []regnode.Payment{
//		{To: bob.P2PKH(), Value: 10 * regnode.BTC}, // output 0
//		{Memo: []byte("OUT:0123…")},                // output 1: OP_RETURN
//	}, 1_000)                                       // fee; the change is the last output
//	hash, err := n.MineTxs(ctx, at)              // the pending transactions in one block at time at
//	rpc, err := bitcoin.DialRPC(ctx, n.RPCConfig())  // or examples/trace -btc-rpc n.URL() -btc-net regtest
//
// Mine(n, addr) and MineTo(height, addr) mine blocks at the default times with their
// coinbases to addr; MineTxs and MineTxsTo mine one block at a given time; Send and
// SendWithChange queue a payment for the next block; Balance says what a key can spend.
//
// # The chain
//
// Blocks are built here as a miner builds them (coinbase with the height and the subsidy
// plus the fees, a witness commitment when a transaction has a witness, the merkle root,
// the version btcd computes from BIP 9 signalling, a nonce under regtest's proof-of-work
// limit) and then go through btcd's ProcessBlock, so a block btcd would reject is an error
// here too; a real btcd --regtest accepts every block of this chain (a test submits them
// and compares both nodes' answers). Hashes are deterministic: the same calls with the
// same times give the same chain.
//
// Block times are the caller's (MineTxs) or, by default, the previous block's plus
// Options.BlockInterval (block 1 at Options.FirstBlockTime, by default 2024-01-01). They
// must be later than the median of the previous 11 blocks and not more than two hours
// after the wall clock, as on any Bitcoin node; and a block spending a segwit output must
// be dated after 1 April 2012, when BIP 16 (P2SH) took effect (the regtest genesis block
// is from 2011).
//
// Regtest activates segwit through BIP 9 only: every block signals, and spends of P2WPKH
// outputs are valid from height SegwitHeight (432) on; before that, Send does not spend a
// key's P2WPKH outputs (receiving on them is fine). A case that spends segwit outputs
// starts with MineTo(ctx, SegwitHeight-1, addr) (about 40 ms); with the blocks near the
// present, give FirstBlockTime and a BlockInterval that end them before now + 2 hours. Coinbase outputs are spendable 100
// blocks after their block (coinbase maturity), as on every network.
//
// # The wallet
//
// Keys are derived from a string (NewKey), so addresses are stable across runs. The node
// keeps every unspent output of its chain in memory; Send spends a key's outputs (both
// its P2PKH and P2WPKH ones) oldest first, signs them, checks every input with btcd's
// script engine and queues the transaction for the next block. A pending transaction's
// outputs can be spent by the next Send, so a chain of payments fits in one block.
//
// # JSON-RPC
//
// The server takes HTTP POST with basic authentication (a generated user and password, in
// URL and RPCConfig), single requests and batches, parsed by btcjson as btcd parses them,
// and answers getblockcount, getbestblockhash, getblockhash, getblock (verbosity 0, 1, 2),
// getblockheader, getblockchaininfo and getrawtransaction (0 or 1, for any transaction of
// the chain or pending) with btcd's reply shapes. Errors are JSON-RPC error objects with
// btcd's codes: -32601 for any other method, -32602 for parameters of the wrong number or
// type, -22 for a hash that is not hex, -5 for an unknown block or transaction, -1 for a
// height out of range; a wrong password is HTTP 401.
//
// A Node is safe for concurrent use; it is meant for one test or one run of the main job.
package regnode

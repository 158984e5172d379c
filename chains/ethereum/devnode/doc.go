// Package devnode runs a real go-ethereum dev chain inside the test process: a node stack with
// the eth service, a simulated beacon chain that seals a block when asked (Commit), the debug
// tracer API (debug_traceBlockByNumber with callTracer, which ethclient/simulated lacks), and
// JSON-RPC both in-process (RPC) and on a loopback HTTP port (HTTPURL).
//
// It is shared by the Ethereum adapter's tests, the investigator example and the screener:
//
//	n, err := devnode.Start(ctx, devnode.Config{})
//	defer n.Close()
//	alice, bob := n.Account(0), n.Account(1)
//	tx, err := n.Send(ctx, alice, devnode.Tx{To: &bob.Address, Value: devnode.Ether(1)})
//	block, err := n.Commit(ctx)             // seals every pending transaction into one block
//	rcpt, err := n.Receipt(ctx, tx.Hash())  // status, gas used, effective gas price
//
// Accounts are pre-funded keys; Send estimates gas (the dev chain runs future-fork gas rules,
// so hard-coded limits break) unless Tx.Gas is set, prices the transaction at the current base
// fee, and tracks each account's nonce itself, so several transactions of one account can go
// into one block. Estimation runs on the latest sealed block, so a transaction that depends on
// another pending one (a transfer of freshly minted tokens) must wait for a Commit; and it
// finds the least gas with which the transaction succeeds, so a call whose inner failure is
// swallowed (try/catch, unchecked low-level call) gets a limit under which that inner call
// runs out of gas — set Tx.Gas for those. Deploy wraps contract creation (package contracts
// has compiled contracts and encodes calls). AddWithdrawal queues a beacon withdrawal for the next block. Fork makes
// the chain's head an earlier block, so the next Commit starts a competing branch (a reorg);
// geth puts the transactions of the abandoned blocks back into the pool, so they are sealed
// again on the new branch.
//
// The chain is in memory; a Node is meant for one test (or one benchmark). Its methods are
// safe for concurrent use (Send serializes nonce assignment), and its RPC endpoints serve any
// number of concurrent clients.
package devnode

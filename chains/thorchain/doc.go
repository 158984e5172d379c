// Package thorchain reads THORChain transaction memos, the text that tells THORChain what to
// do with value paid into one of its vaults and that marks what its vaults pay out.
//
// A swap through THORChain is two transactions on two chains: the inbound, paid to a vault
// (on Ethereum through the router contract's Deposit, on Bitcoin as an output to the vault
// with an OP_RETURN memo such as "SWAP:BTC.BTC:bc1q…" or "=:ETH.ETH:0x…"), and the outbound,
// paid by a vault on the target chain with the memo "OUT:<inbound hash>" (or
// "REFUND:<inbound hash>" when the swap failed). The inbound hash in the outbound memo makes
// the link between the two exact from the two chains' own data (docs/taint-spec.md §15.10).
// The chain adapters (chains/ethereum, chains/bitcoin) read the memos with ParseMemo and
// name both sides of a swap with LinkKey, so graph.JoinLinks puts them together.
//
//	m, err := thorchain.ParseMemo("OUT:9F2C…")   // m.Kind == thorchain.Outbound
//	key := thorchain.LinkKey(m.InboundHash)
//
// The memo grammar follows THORChain's documentation (docs.thorchain.org, "Transaction
// Memos"): an action, then fields separated by ':'. Actions are case-insensitive and have
// short forms (SWAP, s, =; ADD, a, +; WITHDRAW, wd, -; …).
package thorchain

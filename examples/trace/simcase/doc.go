// Package simcase plays chaintrace's bundled investigation case — a SIMULATION, not real
// events — on two in-process chains: a go-ethereum dev chain (chains/ethereum/devnode) and a
// Bitcoin regtest chain run by btcd's own consensus code (chains/bitcoin/regnode), both
// answering JSON-RPC, so that the investigator's program (examples/trace) runs end to end on
// a machine with no network and no node to start.
//
// The story follows the pattern of the 2025 Bybit theft as the FBI and researchers
// described it (stolen ETH and staked-ETH tokens, swapped, and bridged through THORChain to
// Bitcoin), scaled down:
//
//   - a victim's cold wallet is drained of 400 ETH and 200 sETH (an ERC-20 standing for the
//     staked-ETH tokens of the real case) into the exploiter's address, which carries a
//     simulated DPRK attribution;
//   - the exploiter fans the ETH out into 30 fresh wallets of 10 ETH (the "dozens of
//     wallets" step), pays 2 ETH straight into an exchange deposit address (direct
//     exposure), and hands the tokens plus 1 ETH of gas to a swapper wallet;
//   - mixer route: four wallets deposit 20 one-ETH notes into a fixed-denomination pool
//     (chains/ethereum/contracts Pool) that already holds 10 clean notes; a relayer withdraws
//     15 notes straight into deposit addresses of exchange "SimEx A" for a 0.01 ETH fee each;
//   - peel chains: ten wallets each start a chain of three hops that peels 1 ETH per hop
//     into deposit addresses of "SimEx B"; a money mule that holds 6 clean ETH receives 4
//     tainted ETH and deposits 5 ETH at SimEx B (the case where methods disagree);
//   - swap and bridge route: the swapper sells the 200 sETH for WETH on a Uniswap-V2-style
//     pair through its router, unwraps the WETH (a WETH9-style wrapper), and sends 150 ETH
//     through a THORChain-router-style contract to THORChain's Ethereum vault with the memo
//     "=:BTC.BTC:<address>" (chains/ethereum/contracts: PairV2, RouterV2, WETH9,
//     THORChainRouter; the events are the real contracts');
//   - on Bitcoin, THORChain's vault pays the swap out — 4.8 BTC with the OP_RETURN memo
//     "OUT:<the Ethereum transaction's hash>" — and the launderers peel it through three
//     wallets into deposit addresses of "SimEx D" and "SimEx B" (which takes both chains);
//     the second wallet also spends a clean coin it held, so the methods disagree;
//   - the exchanges sweep their Ethereum deposit addresses to hot wallets, and clean
//     customers deposit at every exchange, so exposure shares are fractions.
//
// The chain adapters find the swap, the unwrap and the THORChain swap in the blocks (link
// detection, docs/taint-spec.md §15.10); the trace carries the taint through them, so a
// Bitcoin deposit's evidence path leads back through the THORChain link to the Ethereum
// theft.
//
// Every key is derived from a fixed string, so addresses, contract addresses and
// transaction hashes are the same on every run; only the Ethereum block times (and so block
// hashes, and the Bitcoin blocks' times after the swap) vary, which is why reports built
// from this case leave them out.
//
// Play starts the nodes, plays the case and returns a Case: the nodes (their JSON-RPC
// endpoints to ingest from), the roles' addresses, the labels the case's own attributions
// make (to load beside the curated sets), the genesis balances (the Ethereum replay's
// initial balances) and Expect, the exposure figures computed by hand from the story and the
// fees the receipts report.
package simcase

// Package simcase plays chaintrace's bundled investigation case — a SIMULATION, not real
// events — on an in-process go-ethereum dev chain (chains/ethereum/devnode), so that the
// investigator's program (examples/trace) runs end to end on a machine with no network and
// no node to start.
//
// The story follows the pattern of the 2025 Bybit theft as the FBI and researchers
// described it, scaled down:
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
//   - swap route: the swapper sells the 200 sETH to a constant-product ETH/token pool
//     (contracts/Swap.sol in this package) and deposits 150 ETH at "SimEx C";
//   - the exchanges sweep their deposit addresses to hot wallets, and clean customers
//     deposit at all three exchanges, so exposure shares are fractions.
//
// Every key is derived from a fixed string, so addresses, contract addresses and
// transaction hashes are the same on every run; only block times (and so block hashes)
// vary, which is why reports built from this case leave them out.
//
// Play starts the node, plays the case and returns a Case: the node (its JSON-RPC client to
// ingest from), the roles' addresses, the labels the case's own attributions make (to load
// beside the curated sets), the genesis balances (the replay's initial balances) and Expect,
// the exposure figures computed by hand from the story and the fees the receipts report.
package simcase

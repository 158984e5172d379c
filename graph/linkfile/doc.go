// Package linkfile reads an investigator's declared links (docs/taint-spec.md §15.10,
// "Declared"): conversions the chain data does not show by itself — a bridge whose
// explorer pairs a deposit with a release, a swap desk, a route the detectors missed —
// written by hand or exported, with legs on either chain. The result is a list of
// graph.LinkParts, one per link and chain, keyed by the link's id (the first part of a
// link carries its evidence, once), so that the consumer joins them with the parts the
// adapters detected (graph.JoinLinks). A declared link whose
// id is a detected link's key ("thorchain:<inbound hash>") adds its legs to that link: an
// investigator can so supply the outbound of a THORChain swap that was not read.
//
// # JSON
//
// An array of links in the scenario form (§15.8), with optional venues per link:
//
//	[{"id": "L1", "kind": "bridge",
//	  "in":  [{"chain": "ethereum", "transfer": "0x5c50…e1.0"}],
//	  "out": [{"chain": "bitcoin", "output": "9f2c…07:1"}],
//	  "venues": [{"chain": "ethereum", "address": "0xd37b…"}, {"chain": "bitcoin", "address": "bc1q…"}],
//	  "evidence": "bridge explorer, deposit 7781"}]
//
// A leg names its chain and exactly one reference: "transfer" on Ethereum (a transfer id
// of the Ethereum adapter: "<tx hash>.0", "<tx hash>.t0_1", "<tx hash>.log5"), "output" on
// Bitcoin ("<txid>:<vout>"). Unknown fields are errors.
//
// # CSV
//
// One row per leg, with a header naming the columns (any order; kind, venue and evidence
// may be left out):
//
//	link_id,kind,side,chain,ref,venue,evidence
//	L1,bridge,in,ethereum,0x5c50…e1.0,0xd37b…,bridge explorer deposit 7781
//	L1,bridge,out,bitcoin,9f2c…07:1,bc1q…,
//
// The rows of one link_id make one link, in file order. side is "in" or "out"; chain
// "ethereum"/"eth" or "bitcoin"/"btc"; ref the leg as in JSON; venue, optional, the address
// on the row's chain that the leg pays (in) or is paid by (out). A row's empty kind is the
// link's (the one kind its rows name; "declared" when none does); two kinds on one link
// are an error. The distinct evidence texts of a link's rows are joined with "; ". Lines
// starting with '#' are comments. testdata/links.csv and testdata/links.json are examples.
//
// # Errors
//
// A bad link or row is a *ParseError naming the file, the line and the field (JSON: the
// line where the link starts and the path of the field, "in[1].output") and wrapping one of
// ErrSyntax, ErrKind, ErrSide, ErrChain (and graph.ErrUnknownChain), ErrRef, ErrVenue,
// ErrDuplicateLeg: an unknown kind or side or chain, a malformed outpoint or transfer id,
// an empty reference, a bad venue address, a leg named twice on one side (of one link or
// of two: a leg is an in-leg of at most one link and an out-leg of at most one, §15.1), two
// JSON links with one id. Nothing is returned with an error.
package linkfile

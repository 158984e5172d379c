// Package specjson is the layout of the taint specification's result object (§10, §11,
// v2 A.1):
// its keys, their order of nesting and which may be left out. Package trace writes its
// integer results in it and package trace/exact its rational ones, so the two encodings
// cannot drift apart; each formats its own amounts as strings first.
package specjson

// Comp is one (source, hop) component of a taint list.
type Comp struct {
	Source string `json:"source"`
	Hop    uint32 `json:"hop"`
	Amount string `json:"amount"`
}

// Output is a UTXO output (outputs, unspent). Tainted is left out of unspent entries.
type Output struct {
	Address string `json:"address"`
	Value   string `json:"value"`
	Taint   []Comp `json:"taint"`
	Tainted string `json:"tainted,omitempty"`
}

// Transfer is an account-model transfer, fee pseudo-transfers included.
type Transfer struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Asset   string `json:"asset"`
	Amount  string `json:"amount"`
	Taint   []Comp `json:"taint"`
	Tainted string `json:"tainted"`
}

// Holding is an account-model holding ("address|asset").
type Holding struct {
	Balance string `json:"balance"`
	Taint   []Comp `json:"taint"`
}

// Deposit is one deposit at an exchange.
type Deposit struct {
	Ref     string `json:"ref"`
	Address string `json:"address"`
	Value   string `json:"value"`
	Taint   []Comp `json:"taint"`
}

// Exposure is one exchange's exposure.
type Exposure struct {
	Received    string            `json:"received_total"`
	Tainted     string            `json:"tainted_total"`
	Direct      string            `json:"direct"`
	Indirect    string            `json:"indirect"`
	Share       string            `json:"share"`
	BySource    map[string]string `json:"by_source"`
	BySourceHop []Comp            `json:"by_source_hop"`
	Deposits    []Deposit         `json:"deposits"`
}

// Address is one address's received statistics.
type Address struct {
	Received string `json:"received"`
	Tainted  string `json:"tainted_received"`
	Share    string `json:"share"`
}

// Result is a whole result object (spec v2 A.1: every aggregate keyed by asset first).
// UTXO results have Outputs and Unspent, account results Transfers and Holdings; the
// other two are not written.
type Result struct {
	UTXO      bool
	Outputs   map[string]Output
	Unspent   map[string]Output
	Transfers map[string]Transfer
	Holdings  map[string]Holding
	Sinks     map[string]map[string]map[string]string // asset → sink → source → amount
	Exposure  map[string]map[string]Exposure          // exchange → asset → row; every exchange
	Addresses map[string]map[string]Address           // address → asset → figures
	LinkedIn  map[string]map[string]string            // asset → source → amount; omitted when empty
	Links     map[string]Link                         // one-chain results that declare links
}

// Link is a link's result (spec §15.7).
type Link struct {
	Kind    string    `json:"kind"`
	ChainIn string    `json:"chain_in,omitempty"`
	AssetIn string    `json:"asset_in"`
	InValue string    `json:"in_value"`
	InTaint []Comp    `json:"in_taint"`
	Out     []LinkOut `json:"out"`
	Status  string    `json:"status"`
}

// LinkOut is one out-leg of a link.
type LinkOut struct {
	Chain string `json:"chain,omitempty"`
	Ref   string `json:"ref"`
	Asset string `json:"asset"`
	Value string `json:"value"`
	Taint []Comp `json:"taint"`
}

// Object returns r as the spec's object, ready for json.Marshal (which sorts map keys,
// so the encoding is deterministic). Empty maps are written as {}.
func (r *Result) Object() map[string]any {
	obj := map[string]any{
		"sinks":     orEmpty(r.Sinks),
		"exposure":  orEmpty(r.Exposure),
		"addresses": orEmpty(r.Addresses),
	}
	if len(r.LinkedIn) > 0 {
		obj["linked_in"] = r.LinkedIn
	}
	if r.Links != nil {
		obj["links"] = r.Links
	}
	if r.UTXO {
		obj["outputs"], obj["unspent"] = orEmpty(r.Outputs), orEmpty(r.Unspent)
	} else {
		obj["transfers"], obj["holdings"] = orEmpty(r.Transfers), orEmpty(r.Holdings)
	}
	return obj
}

func orEmpty[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

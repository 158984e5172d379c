package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/holiman/uint256"
)

// Errors wrapped by Load and Parse.
var (
	// ErrSyntax: the file is not valid JSON or an entry has the wrong shape.
	ErrSyntax = errors.New("scenario syntax error")
	// ErrInvalid: the file is well-formed but describes an impossible or ambiguous chain.
	ErrInvalid = errors.New("invalid scenario")
	// ErrSeedIsExchange: an address is both a seed and an exchange (spec §5).
	ErrSeedIsExchange = errors.New("address is both a seed and an exchange")
)

// Funding is a UTXO output that exists before the scenario's transactions.
type Funding struct {
	Outpoint graph.Outpoint
	Address  graph.Address
	Value    graph.Amount
}

// Balance is an account balance that exists before the scenario's transactions.
type Balance struct {
	Address graph.Address
	Asset   graph.Asset
	Amount  graph.Amount
}

// Scenario is a validated scenario file.
type Scenario struct {
	Name        string // the file it came from
	ID          string
	Title       string
	Description string
	Model       graph.Model
	// Methods are the methods the file asks for (all methods of its model when absent).
	Methods []string

	Funding         []Funding
	InitialBalances []Balance
	Seeds           []trace.Seed
	Exchanges       map[string][]graph.Address
	Params          trace.Params
	// Venues and Links (spec §15): the venues of a one-chain scenario, and the links of
	// any scenario (a multi-chain one's legs name their chains).
	Venues []graph.Address
	Links  []graph.Link
	// Chains holds the chains of a multi-chain scenario (Model graph.Model("multi")), each
	// a one-chain scenario of its own with its Chain name, venues and exchanges; nil for a
	// one-chain scenario.
	Chains []*Scenario
	// Chain is a chain's name in its multi-chain scenario ("" otherwise).
	Chain graph.Chain
	multi bool // transactions carry times, one block each

	blocks []graph.Block
	// Expected and ExpectedExact hold the file's expected results per method, verbatim.
	Expected      map[string]json.RawMessage
	ExpectedExact map[string]json.RawMessage
	// ExpectedError, for an invalid scenario's vector, is what the error that rejects it
	// must contain (spec §11: the link, leg, chain or address at fault).
	ExpectedError string
	// Warnings are problems that do not stop the scenario (unknown label kinds, …).
	Warnings []string
}

// Blocks returns the scenario's transactions as graph.Blocks in chain order. The blocks
// are shared: do not modify them.
func (s *Scenario) Blocks() []graph.Block { return s.blocks }

// Config returns the trace configuration for method.
func (s *Scenario) Config(method string) trace.Config {
	return trace.Config{Model: s.Model, Method: method, Seeds: s.Seeds, Exchanges: s.Exchanges, Params: s.Params,
		Venues: s.Venues, Links: s.Links, Chain: s.Chain}
}

// NewEngine returns an engine for method with the scenario's initial holdings declared,
// ready for its blocks.
func (s *Scenario) NewEngine(method string) (*trace.Engine, error) {
	eng, err := trace.NewEngine(s.Config(method))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if err := s.declare(eng); err != nil {
		return nil, err
	}
	return eng, nil
}

// replayer is what a scenario drives: trace.Engine, or exact-mode's engine.
type replayer interface {
	Fund(op graph.Outpoint, addr graph.Address, value graph.Amount) error
	SetBalance(addr graph.Address, asset graph.Asset, amount graph.Amount) error
	ApplyBlock(b *graph.Block) error
}

// declare declares the scenario's initial holdings to r.
func (s *Scenario) declare(r replayer) error {
	for _, f := range s.Funding {
		if err := r.Fund(f.Outpoint, f.Address, f.Value); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	for _, b := range s.InitialBalances {
		if err := r.SetBalance(b.Address, b.Asset, b.Amount); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return nil
}

// apply replays the scenario's blocks on r.
func (s *Scenario) apply(r replayer) error {
	for i := range s.blocks {
		if err := r.ApplyBlock(&s.blocks[i]); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return nil
}

// Run replays a one-chain scenario under method (RunMulti replays a multi-chain one).
func (s *Scenario) Run(method string) (*trace.Result, error) {
	if s.Chains != nil {
		return nil, fmt.Errorf("%s: %w: a multi-chain scenario: use RunMulti", s.Name, ErrInvalid)
	}
	eng, err := s.NewEngine(method)
	if err != nil {
		return nil, err
	}
	if err := s.apply(eng); err != nil {
		return nil, err
	}
	if err := eng.CheckLinks(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return eng.Result(), nil
}

// Load reads and validates a scenario or vector file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return Parse(path, data)
}

// ---- wire format ----

// amountText accepts a decimal string or a JSON integer.
type amountText struct {
	s   string
	set bool
}

func (a *amountText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	a.set = true
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &a.s)
	}
	a.s = string(b) // a number: ParseAmount rejects fractions, signs and exponents
	return nil
}

type fileJSON struct {
	ID            string                     `json:"id"`
	FormatVersion *int                       `json:"format_version"`
	Model         string                     `json:"model"`
	Title         string                     `json:"title"`
	Description   string                     `json:"description"`
	Scenario      *scenarioJSON              `json:"scenario"`
	Methods       []string                   `json:"methods"`
	Expected      map[string]json.RawMessage `json:"expected"`
	ExpectedExact map[string]json.RawMessage `json:"expected_exact"`
	ExpectedError *struct {
		Contains string `json:"contains"`
	} `json:"expected_error"`
}

type scenarioJSON struct {
	Funding []struct {
		Outpoint string     `json:"outpoint"`
		Address  string     `json:"address"`
		Value    amountText `json:"value"`
	} `json:"funding"`
	InitialBalances []struct {
		Address string     `json:"address"`
		Asset   string     `json:"asset"`
		Amount  amountText `json:"amount"`
	} `json:"initial_balances"`
	Transactions []json.RawMessage          `json:"transactions"`
	Seeds        []seedJSON                 `json:"seeds"`
	Labels       map[string]json.RawMessage `json:"labels"`
	// Spec v2 part B (venues, links, several chains).
	Chains []json.RawMessage `json:"chains"`
	Venues []json.RawMessage `json:"venues"`
	Links  []json.RawMessage `json:"links"`
	Params *struct {
		MinTaint        amountText      `json:"min_taint"`
		MinFraction     json.RawMessage `json:"min_fraction"`
		MaxHops         json.RawMessage `json:"max_hops"`
		StopAtExchanges *bool           `json:"stop_at_exchanges"`
		TaintFee        *bool           `json:"taint_fee"`
	} `json:"params"`
}

type seedJSON struct {
	Chain    string     `json:"chain,omitempty"`
	Address  string     `json:"address,omitempty"`
	Outpoint string     `json:"outpoint,omitempty"`
	Transfer string     `json:"transfer,omitempty"`
	Source   string     `json:"source"`
	Amount   amountText `json:"amount"`
}

type utxoTxJSON struct {
	TxID     string   `json:"txid"`
	Block    *uint64  `json:"block"`
	Index    *uint32  `json:"index"`
	Coinbase bool     `json:"coinbase"`
	Time     *int64   `json:"time"`
	Inputs   []string `json:"inputs"`
	Outputs  []struct {
		Address     string     `json:"address"`
		Value       amountText `json:"value"`
		Unspendable bool       `json:"unspendable"`
	} `json:"outputs"`
}

type accountTxJSON struct {
	Tx        string          `json:"tx"`
	Block     *uint64         `json:"block"`
	Index     *uint32         `json:"index"`
	From      string          `json:"from"`
	To        string          `json:"to"`
	Fee       amountText      `json:"fee"`
	Time      *int64          `json:"time"`
	Status    json.RawMessage `json:"status"`
	Transfers []struct {
		ID       string     `json:"id"`
		Asset    string     `json:"asset"`
		From     string     `json:"from"`
		To       string     `json:"to"`
		Amount   amountText `json:"amount"`
		Kind     string     `json:"kind"`
		Reverted bool       `json:"reverted"`
	} `json:"transfers"`
}

// ---- parsing and validation ----

type parser struct {
	name string
	data []byte
}

func (p *parser) errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", p.name, sentinel, fmt.Sprintf(format, args...))
}

func (p *parser) wrap(where string, err error) error {
	return fmt.Errorf("%s: %s: %w", p.name, where, err)
}

// jsonErr turns a decoding error into one that names the line and column.
func (p *parser) jsonErr(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || data == nil {
		return fmt.Errorf("%s: %w: %v", p.name, ErrSyntax, err)
	}
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("%s:%d:%d: %w: %v", p.name, line, col, ErrSyntax, err)
}

// address validates a scenario address: free-form names ("H", "EX_A1") are allowed, so
// that scenarios can be written by hand; what looks like an Ethereum address must be a
// valid one and is canonicalized to lower case.
func address(s string) (graph.Address, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty", graph.ErrBadAddress)
	}
	if len(s) > 256 {
		return "", fmt.Errorf("%w: longer than 256 bytes", graph.ErrBadAddress)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '|' || r == '<' || r == '>' {
			return "", fmt.Errorf("%w: %q contains %q", graph.ErrBadAddress, s, r)
		}
	}
	if len(s) == 42 && (strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")) {
		if a, err := graph.ParseAddress(graph.Ethereum, s); err == nil || errors.Is(err, graph.ErrBadChecksum) {
			return a, err
		}
	}
	return graph.Address(s), nil
}

func amount(a amountText, what string) (graph.Amount, error) {
	if !a.set {
		return graph.Amount{}, fmt.Errorf("%w: %s is missing", graph.ErrBadAmount, what)
	}
	v, err := graph.ParseAmount(a.s)
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// Parse validates a scenario or vector file's bytes; name is used in errors.
func Parse(name string, data []byte) (*Scenario, error) {
	p := &parser{name: filepath.Base(name), data: data}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, p.jsonErr(data, err)
	}
	if f.FormatVersion != nil && *f.FormatVersion != 1 && *f.FormatVersion != 2 {
		return nil, p.errf(ErrInvalid, "format_version %d is not supported (want 1 or 2)", *f.FormatVersion)
	}
	if f.Scenario == nil {
		return nil, p.errf(ErrSyntax, "no \"scenario\" object")
	}
	s := &Scenario{Name: name, ID: f.ID, Title: f.Title, Description: f.Description, Expected: f.Expected, ExpectedExact: f.ExpectedExact}
	if f.ExpectedError != nil {
		s.ExpectedError = f.ExpectedError.Contains
	}
	if f.Model == "multi" || len(f.Scenario.Chains) > 0 {
		return p.multi(s, &f)
	}
	switch f.Model {
	case "utxo":
		s.Model = graph.UTXO
	case "account":
		s.Model = graph.Account
	default:
		return nil, p.errf(ErrInvalid, "model %q (want \"utxo\" or \"account\")", f.Model)
	}
	s.Methods = f.Methods
	if len(s.Methods) == 0 {
		s.Methods = trace.Methods(s.Model)
	}
	for i, m := range s.Methods {
		mm, err := trace.MethodByName(m)
		if err != nil {
			return nil, p.wrap(fmt.Sprintf("methods[%d]", i), err)
		}
		if !mm.Supports(s.Model) {
			return nil, p.errf(ErrInvalid, "methods[%d]: %s is not defined for the %s model", i, m, s.Model)
		}
	}
	sc := f.Scenario
	if err := p.params(s, sc); err != nil {
		return nil, err
	}
	if err := p.labels(s, sc); err != nil {
		return nil, err
	}
	var err error
	if s.Model == graph.UTXO {
		err = p.utxo(s, sc)
	} else {
		err = p.account(s, sc)
	}
	if err != nil {
		return nil, err
	}
	if err := p.seeds(s, sc); err != nil {
		return nil, err
	}
	if err := p.venuesAndLinks(s, sc); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) params(s *Scenario, sc *scenarioJSON) error {
	s.Params = trace.DefaultParams()
	if sc.Params == nil {
		return nil
	}
	pp := sc.Params
	if pp.MinTaint.set {
		v, err := amount(pp.MinTaint, "params.min_taint")
		if err != nil {
			return p.wrap("params", err)
		}
		s.Params.MinTaint = v
	}
	if len(pp.MinFraction) > 0 && string(pp.MinFraction) != "null" {
		var txt string
		if err := json.Unmarshal(pp.MinFraction, &txt); err != nil {
			txt = string(pp.MinFraction)
		}
		fr, err := trace.ParseFraction(txt)
		if err != nil {
			return p.wrap("params.min_fraction", err)
		}
		s.Params.MinFraction = &fr
	}
	if len(pp.MaxHops) > 0 && string(pp.MaxHops) != "null" {
		n, err := strconv.ParseUint(strings.Trim(string(pp.MaxHops), `"`), 10, 32)
		if err != nil {
			return p.errf(ErrSyntax, "params.max_hops %s is not null or a non-negative integer", pp.MaxHops)
		}
		h := uint32(n)
		s.Params.MaxHops = &h
	}
	if pp.StopAtExchanges != nil {
		s.Params.StopAtExchanges = *pp.StopAtExchanges
	}
	if pp.TaintFee != nil && *pp.TaintFee {
		if s.Model != graph.UTXO {
			return p.errf(ErrInvalid, "params.taint_fee applies to the utxo model only")
		}
		s.Params.TaintFee = true
	}
	return nil
}

func (p *parser) labels(s *Scenario, sc *scenarioJSON) error {
	s.Exchanges = map[string][]graph.Address{}
	owner := map[graph.Address]string{}
	for kind, raw := range sc.Labels {
		if kind != "exchanges" {
			s.Warnings = append(s.Warnings, fmt.Sprintf("labels.%s: label kind not used by spec v1, ignored", kind))
			continue
		}
		var ex map[string][]string
		if err := json.Unmarshal(raw, &ex); err != nil {
			return p.errf(ErrSyntax, "labels.exchanges: want {label: [addresses]}: %v", err)
		}
		for label, addrs := range ex {
			if label == "" {
				return p.errf(ErrInvalid, "labels.exchanges: empty label name")
			}
			list := []graph.Address{}
			for i, a := range addrs {
				addr, err := address(a)
				if err != nil {
					return p.wrap(fmt.Sprintf("labels.exchanges.%s[%d]", label, i), err)
				}
				if o, dup := owner[addr]; dup && o != label {
					return p.errf(ErrInvalid, "labels.exchanges: address %s is in both %s and %s", addr, o, label)
				}
				owner[addr] = label
				list = append(list, addr)
			}
			s.Exchanges[label] = list
		}
	}
	return nil
}

func (p *parser) seeds(s *Scenario, sc *scenarioJSON) error {
	isExchange := map[graph.Address]string{}
	for l, as := range s.Exchanges {
		for _, a := range as {
			isExchange[a] = l
		}
	}
	outpoints := map[graph.Outpoint]graph.Address{}
	for _, f := range s.Funding {
		outpoints[f.Outpoint] = f.Address
	}
	transfers := map[string]bool{}
	for _, b := range s.blocks {
		for _, tx := range b.UTXOTxs {
			for i, o := range tx.Outputs {
				outpoints[graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}] = o.Address
			}
		}
		for _, tx := range b.AccountTxs {
			for _, x := range tx.Transfers {
				transfers[x.ID] = true
			}
		}
	}
	for i, js := range sc.Seeds {
		where := fmt.Sprintf("seeds[%d]", i)
		if js.Chain != "" {
			return p.errf(ErrInvalid, "%s: names chain %q in a one-chain scenario", where, js.Chain)
		}
		if js.Source == "" {
			return p.errf(ErrInvalid, "%s: no source", where)
		}
		sd := trace.Seed{Source: js.Source, Origin: fmt.Sprintf("%s %s", p.name, where)}
		n := 0
		if js.Address != "" {
			n++
			a, err := address(js.Address)
			if err != nil {
				return p.wrap(where, err)
			}
			if l, ok := isExchange[a]; ok {
				return p.errf(ErrSeedIsExchange, "%s: %s is a seed and an address of exchange %s", where, a, l)
			}
			sd.Address = a
		}
		if js.Outpoint != "" {
			n++
			if s.Model != graph.UTXO {
				return p.errf(ErrInvalid, "%s: outpoint seeds belong to the utxo model", where)
			}
			op, err := graph.ParseOutpoint(js.Outpoint)
			if err != nil {
				return p.wrap(where, err)
			}
			a, ok := outpoints[op]
			if !ok {
				return p.errf(trace.ErrUnknownOutpoint, "%s: outpoint %s is neither funded nor created by a transaction", where, op)
			}
			if l, ok := isExchange[a]; ok {
				return p.errf(ErrSeedIsExchange, "%s: outpoint %s pays %s of exchange %s", where, op, a, l)
			}
			sd.Outpoint = &op
		}
		if js.Transfer != "" {
			n++
			if s.Model != graph.Account {
				return p.errf(ErrInvalid, "%s: transfer seeds belong to the account model", where)
			}
			if !transfers[js.Transfer] {
				return p.errf(ErrInvalid, "%s: transfer %q does not exist", where, js.Transfer)
			}
			sd.Transfer = js.Transfer
		}
		if n != 1 {
			return p.errf(ErrInvalid, "%s: a seed names exactly one of address, outpoint, transfer", where)
		}
		if js.Amount.set {
			if sd.Address != "" {
				return p.errf(ErrInvalid, "%s: an address seed has no amount", where)
			}
			v, err := amount(js.Amount, "amount")
			if err != nil {
				return p.wrap(where, err)
			}
			sd.Amount = &v
		}
		s.Seeds = append(s.Seeds, sd)
	}
	return nil
}

type txPos struct {
	block uint64
	index uint32
	i     int
}

// order checks that every transaction has a valid, unique id (named field in messages)
// and a unique (block, index), and returns the positions in chain order.
func (p *parser) order(field string, n int, get func(int) (id string, block *uint64, index *uint32), badID func(string) string) ([]txPos, error) {
	pos := make([]txPos, n)
	seen := map[string]int{}
	at := map[[2]uint64]int{}
	for i := 0; i < n; i++ {
		id, block, index := get(i)
		where := fmt.Sprintf("transactions[%d] (%s %q)", i, field, id)
		if msg := badID(id); msg != "" {
			return nil, p.errf(ErrInvalid, "%s: %s %s", where, field, msg)
		}
		if j, dup := seen[id]; dup {
			return nil, p.errf(ErrInvalid, "%s: %s already used by transactions[%d]", where, field, j)
		}
		seen[id] = i
		if block == nil || index == nil {
			return nil, p.errf(ErrSyntax, "%s: block and index are required", where)
		}
		k := [2]uint64{*block, uint64(*index)}
		if j, dup := at[k]; dup {
			return nil, p.errf(ErrInvalid, "%s: block %d index %d is also transactions[%d]", where, *block, *index, j)
		}
		at[k] = i
		pos[i] = txPos{*block, *index, i}
	}
	sort.SliceStable(pos, func(a, b int) bool {
		if pos[a].block != pos[b].block {
			return pos[a].block < pos[b].block
		}
		return pos[a].index < pos[b].index
	})
	return pos, nil
}

func (p *parser) decodeTx(i int, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: transactions[%d]: %w: %v", p.name, i, ErrSyntax, err)
	}
	return nil
}

func (p *parser) utxo(s *Scenario, sc *scenarioJSON) error {
	if len(sc.InitialBalances) > 0 {
		return p.errf(ErrInvalid, "initial_balances belong to the account model; a utxo scenario uses funding")
	}
	type out struct {
		addr  graph.Address
		value graph.Amount
		spent string
	}
	live := map[graph.Outpoint]*out{}
	for i, f := range sc.Funding {
		where := fmt.Sprintf("funding[%d]", i)
		op, err := graph.ParseOutpoint(f.Outpoint)
		if err != nil {
			return p.wrap(where, err)
		}
		a, err := address(f.Address)
		if err != nil {
			return p.wrap(where, err)
		}
		v, err := amount(f.Value, "value")
		if err != nil {
			return p.wrap(where, err)
		}
		if _, dup := live[op]; dup {
			return p.errf(ErrInvalid, "%s: outpoint %s is funded twice", where, op)
		}
		live[op] = &out{addr: a, value: v}
		s.Funding = append(s.Funding, Funding{Outpoint: op, Address: a, Value: v})
	}
	txs := make([]utxoTxJSON, len(sc.Transactions))
	for i, raw := range sc.Transactions {
		if err := p.decodeTx(i, raw, &txs[i]); err != nil {
			return err
		}
	}
	pos, err := p.order("txid", len(txs), func(i int) (string, *uint64, *uint32) { return txs[i].TxID, txs[i].Block, txs[i].Index },
		func(id string) string {
			if id == "" || strings.ContainsAny(id, ": \t\n") {
				return "must be non-empty and contain no ':' or spaces"
			}
			return ""
		})
	if err != nil {
		return err
	}
	for _, ps := range pos {
		t := &txs[ps.i]
		where := fmt.Sprintf("transactions[%d] (txid %s)", ps.i, t.TxID)
		tx := graph.UTXOTx{TxID: t.TxID, Index: *t.Index, Coinbase: t.Coinbase}
		if t.Coinbase && len(t.Inputs) > 0 {
			return p.errf(ErrInvalid, "%s: a coinbase has no inputs", where)
		}
		if !t.Coinbase && len(t.Inputs) == 0 {
			return p.errf(ErrInvalid, "%s: no inputs (mark coinbase transactions with \"coinbase\": true)", where)
		}
		var in, outSum uint256.Int
		for j, ref := range t.Inputs {
			op, err := graph.ParseOutpoint(ref)
			if err != nil {
				return p.wrap(fmt.Sprintf("%s input %d", where, j), err)
			}
			o, ok := live[op]
			if !ok {
				return p.errf(trace.ErrUnknownOutpoint, "%s input %d: %s is neither funded nor created by an earlier transaction", where, j, op)
			}
			if o.spent != "" {
				return p.errf(trace.ErrDoubleSpend, "%s input %d: %s was already spent by %s", where, j, op, o.spent)
			}
			o.spent = t.TxID
			in.Add(&in, &o.value)
			tx.Inputs = append(tx.Inputs, graph.TxIn{Prev: op, Address: o.addr, Value: o.value, Resolved: true})
		}
		for j, jo := range t.Outputs {
			a, err := address(jo.Address)
			if err != nil {
				return p.wrap(fmt.Sprintf("%s output %d", where, j), err)
			}
			v, err := amount(jo.Value, "value")
			if err != nil {
				return p.wrap(fmt.Sprintf("%s output %d", where, j), err)
			}
			if _, o := outSum.AddOverflow(&outSum, &v); o {
				return p.errf(ErrInvalid, "%s: output sum overflows", where)
			}
			live[graph.Outpoint{TxID: t.TxID, Index: uint32(j)}] = &out{addr: a, value: v}
			tx.Outputs = append(tx.Outputs, graph.TxOut{Address: a, Value: v, Unspendable: jo.Unspendable})
		}
		if !t.Coinbase && outSum.Gt(&in) {
			return p.errf(trace.ErrOverspend, "%s: outputs %s exceed inputs %s", where, outSum.Dec(), in.Dec())
		}
		if err := s.appendTx(p, where, *t.Block, t.Time, func(b *graph.Block) { b.UTXOTxs = append(b.UTXOTxs, tx) }); err != nil {
			return err
		}
	}
	return nil
}

// appendTx adds a transaction to the block at height h, creating it when needed
// (transactions arrive sorted). In a multi-chain scenario every transaction has a time
// and is a block of its own, since the chains are merged transaction by transaction
// (spec §15.2).
func (s *Scenario) appendTx(p *parser, where string, h uint64, t *int64, add func(*graph.Block)) error {
	if s.multi && t == nil {
		return p.errf(ErrInvalid, "chain %s: %s: a multi-chain transaction has no time", s.Chain, where)
	}
	if n := len(s.blocks); n == 0 || s.blocks[n-1].Height != h || s.multi {
		chain := graph.Bitcoin
		if s.Model == graph.Account {
			chain = graph.Ethereum
		}
		b := graph.Block{Chain: chain, Height: h, Hash: fmt.Sprintf("scenario-block-%d", h)}
		if n > 0 {
			b.Parent = s.blocks[n-1].Hash
		}
		if t != nil {
			b.Time = *t
		}
		s.blocks = append(s.blocks, b)
	}
	add(&s.blocks[len(s.blocks)-1])
	return nil
}

func (p *parser) account(s *Scenario, sc *scenarioJSON) error {
	if len(sc.Funding) > 0 {
		return p.errf(ErrInvalid, "funding belongs to the utxo model; an account scenario uses initial_balances")
	}
	type key struct {
		a     graph.Address
		asset graph.Asset
	}
	bal := map[key]*uint256.Int{}
	for i, b := range sc.InitialBalances {
		where := fmt.Sprintf("initial_balances[%d]", i)
		a, err := address(b.Address)
		if err != nil {
			return p.wrap(where, err)
		}
		as, err := asset(b.Asset)
		if err != nil {
			return p.wrap(where, err)
		}
		v, err := amount(b.Amount, "amount")
		if err != nil {
			return p.wrap(where, err)
		}
		k := key{a, as}
		if _, dup := bal[k]; dup {
			return p.errf(ErrInvalid, "%s: %s already has an initial %s balance", where, a, as)
		}
		vv := v
		bal[k] = &vv
		s.InitialBalances = append(s.InitialBalances, Balance{Address: a, Asset: as, Amount: v})
	}
	get := func(k key) *uint256.Int {
		if bal[k] == nil {
			bal[k] = new(uint256.Int)
		}
		return bal[k]
	}
	txs := make([]accountTxJSON, len(sc.Transactions))
	for i, raw := range sc.Transactions {
		if err := p.decodeTx(i, raw, &txs[i]); err != nil {
			return err
		}
	}
	pos, err := p.order("tx", len(txs), func(i int) (string, *uint64, *uint32) { return txs[i].Tx, txs[i].Block, txs[i].Index },
		func(id string) string {
			if id == "" {
				return "must be non-empty"
			}
			return ""
		})
	if err != nil {
		return err
	}
	seenID := map[string]string{}
	for _, ps := range pos {
		t := &txs[ps.i]
		where := fmt.Sprintf("transactions[%d] (tx %s)", ps.i, t.Tx)
		from, err := address(t.From)
		if err != nil {
			return p.wrap(where+" from", err)
		}
		tx := graph.AccountTx{Hash: t.Tx, Index: *t.Index, From: from}
		if t.To != "" {
			if tx.To, err = address(t.To); err != nil {
				return p.wrap(where+" to", err)
			}
		}
		if t.Fee.set {
			if tx.Fee, err = amount(t.Fee, "fee"); err != nil {
				return p.wrap(where, err)
			}
		}
		switch strings.Trim(string(t.Status), `"`) {
		case "", "1", "true":
			tx.Success = true
		case "0", "false":
			tx.Success = false
		default:
			return p.errf(ErrSyntax, "%s: status %s is not 1 or 0", where, t.Status)
		}
		// The fee is charged first (spec §3.2), also for failed transactions.
		if !tx.Fee.IsZero() {
			b := get(key{from, graph.ETH})
			if b.Lt(&tx.Fee) {
				return p.errf(trace.ErrOverdraft, "%s: fee %s exceeds %s's ETH balance %s", where, tx.Fee.Dec(), from, b.Dec())
			}
			b.Sub(b, &tx.Fee)
		}
		for j, jx := range t.Transfers {
			xw := fmt.Sprintf("%s transfer %d (id %q)", where, j, jx.ID)
			if jx.ID == "" || strings.HasSuffix(jx.ID, "#fee") {
				return p.errf(ErrInvalid, "%s: transfer id must be non-empty and not end in #fee", xw)
			}
			if other, dup := seenID[jx.ID]; dup {
				return p.errf(ErrInvalid, "%s: transfer id already used in tx %s", xw, other)
			}
			seenID[jx.ID] = t.Tx
			x := graph.Transfer{ID: jx.ID, Kind: graph.TransferKind(jx.Kind), Reverted: jx.Reverted}
			if x.Kind == "" {
				x.Kind = graph.KindCall
			}
			if x.From, err = address(jx.From); err != nil {
				return p.wrap(xw+" from", err)
			}
			if x.To, err = address(jx.To); err != nil {
				return p.wrap(xw+" to", err)
			}
			if x.Asset, err = asset(jx.Asset); err != nil {
				return p.wrap(xw, err)
			}
			if x.Amount, err = amount(jx.Amount, "amount"); err != nil {
				return p.wrap(xw, err)
			}
			tx.Transfers = append(tx.Transfers, x)
			if !tx.Success || x.Reverted || x.Amount.IsZero() || x.From == x.To {
				continue
			}
			if !x.Kind.IsMint() && x.From != graph.ZeroAddress {
				b := get(key{x.From, x.Asset})
				if b.Lt(&x.Amount) {
					return p.errf(trace.ErrOverdraft, "%s: %s sends %s %s but holds %s", xw, x.From, x.Amount.Dec(), x.Asset, b.Dec())
				}
				b.Sub(b, &x.Amount)
			}
			if x.To != graph.ZeroAddress {
				b := get(key{x.To, x.Asset})
				if _, o := b.AddOverflow(b, &x.Amount); o {
					return p.errf(ErrInvalid, "%s: %s's %s balance overflows", xw, x.To, x.Asset)
				}
			}
		}
		if err := s.appendTx(p, where, *t.Block, t.Time, func(b *graph.Block) { b.AccountTxs = append(b.AccountTxs, tx) }); err != nil {
			return err
		}
	}
	return nil
}

func asset(s string) (graph.Asset, error) {
	if s == "" {
		return "", fmt.Errorf("%w: asset is missing", ErrInvalid)
	}
	if strings.EqualFold(s, "ETH") {
		return graph.ETH, nil
	}
	a, err := address(s)
	if err != nil {
		return "", fmt.Errorf("asset %q: %w", s, err)
	}
	return graph.Asset(a), nil
}

// MarshalJSON lets a seed go back through json (multi-chain parsing regroups seeds per
// chain): the amount as it was written.
func (a amountText) MarshalJSON() ([]byte, error) {
	if !a.set {
		return []byte("null"), nil
	}
	return json.Marshal(a.s)
}

package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/chaintrace/chaintrace/chains/thorchain"
	"github.com/chaintrace/chaintrace/graph"
)

// THORChain on Bitcoin (docs/taint-spec.md §15.10): a user pays a vault with a memo in an
// OP_RETURN output (the inbound); the vault pays the proceeds, or a refund, from a
// transaction whose memo names the inbound ("OUT:<hash>", "REFUND:<hash>"). The detector
// below turns both into graph.LinkParts keyed by thorchain.LinkKey, so that an inbound on
// one chain and its outbound on another join (graph.JoinLinks).
//
// What is read, and how, follows THORChain's own Bitcoin observer (thorchain/thornode,
// bifrost/pkg/chainclients/bitcoin/bitcoin.go: getMemo, getSender, getOutput, ignoreTx):
//
//   - the memo is the data of every OP_RETURN output whose script is OP_RETURN and exactly
//     one data push, concatenated in output order (getMemo: scriptPubKey type "nulldata",
//     disassembly of two fields, the second hex-decoded);
//   - the sender is the address of the output that input 0 spends (getSender);
//   - the vault output of an inbound is the first output that is not OP_RETURN, has a value
//     and does not pay the sender (getOutput, consolidate=false); an output before it
//     without one address stops the observer (getOutput's "no vout address available");
//   - a transaction with no output, more than 4 outputs, or no or more than 2 outputs with
//     value is not THORChain's format and is not observed (ignoreTx).

// Warning says that a transaction carries something a detector could not turn into a link:
// a THORChain memo that is malformed, an outbound whose inputs are not one vault's, an
// inbound THORChain does not observe, or inputs whose addresses are unknown. The block is
// still normalized in full; only the link is missing. errors.Is(w, ErrVaultInputs) etc.
// tells which condition it is (a malformed memo wraps thorchain.ErrMemo).
type Warning struct {
	Height uint64
	Tx     string
	Output int // the output at fault (the memo's first OP_RETURN output); -1 for the whole transaction
	Err    error
}

func (w Warning) Error() string {
	if w.Output >= 0 {
		return fmt.Sprintf("block %d tx %s output %d: %v", w.Height, w.Tx, w.Output, w.Err)
	}
	return fmt.Sprintf("block %d tx %s: %v", w.Height, w.Tx, w.Err)
}

func (w Warning) Unwrap() error { return w.Err }

// Conditions of a Warning (a malformed memo wraps thorchain.ErrMemo instead).
var (
	// ErrVaultInputs: an outbound or refund whose inputs are not all held by one address,
	// so no vault can be named as its payer.
	ErrVaultInputs = errors.New("THORChain outbound: the inputs are not all one vault address")
	// ErrNoPayee: an outbound or refund that pays nobody but its own vault.
	ErrNoPayee = errors.New("THORChain outbound: no output pays anyone but the vault")
	// ErrNotObserved: an inbound memo on a transaction that THORChain's observer ignores
	// (more than 4 outputs, no or more than 2 outputs with value, no output paying someone
	// other than the sender): nothing reached a vault as a THORChain inbound.
	ErrNotObserved = errors.New("THORChain inbound memo on a transaction THORChain does not observe")
	// ErrInputsUnknown: the addresses of the outputs the transaction spends are not known
	// to the adapter (block files without a window, a node without a transaction index),
	// so the sender or the vault cannot be named.
	ErrInputsUnknown = errors.New("THORChain memo: the addresses the transaction's inputs spend are unknown")
)

// OPReturnData returns the data THORChain reads from an output script: the push of a
// script that is OP_RETURN followed by exactly one data push (OP_DATA_1…75, OP_PUSHDATA1/2/4)
// filling the rest of the script. Any other script — not OP_RETURN, OP_RETURN alone or with
// several pushes or opcodes (runes: OP_RETURN OP_13 …), a push running past the end — has
// none.
func OPReturnData(script []byte) ([]byte, bool) {
	if len(script) < 2 || script[0] != opReturn {
		return nil, false
	}
	op, rest := script[1], script[2:]
	var n int
	switch {
	case op >= 0x01 && op <= 0x4b: // OP_DATA_n
		n = int(op)
	case op == 0x4c: // OP_PUSHDATA1
		if len(rest) < 1 {
			return nil, false
		}
		n, rest = int(rest[0]), rest[1:]
	case op == 0x4d: // OP_PUSHDATA2
		if len(rest) < 2 {
			return nil, false
		}
		n, rest = int(rest[0])|int(rest[1])<<8, rest[2:]
	case op == 0x4e: // OP_PUSHDATA4
		if len(rest) < 4 {
			return nil, false
		}
		l := uint32(rest[0]) | uint32(rest[1])<<8 | uint32(rest[2])<<16 | uint32(rest[3])<<24
		if uint64(l) > uint64(len(rest)-4) {
			return nil, false
		}
		n, rest = int(l), rest[4:]
	default:
		return nil, false
	}
	if n != len(rest) {
		return nil, false
	}
	return rest, true
}

// memoReader collects a transaction's OP_RETURN data as THORChain concatenates it.
type memoReader struct {
	buf   []byte
	first int // the first output with data; -1 before
}

func (m *memoReader) reset() { m.buf, m.first = m.buf[:0], -1 }

// add reads output i's script.
func (m *memoReader) add(i int, script []byte) {
	if len(script) == 0 || script[0] != opReturn {
		return
	}
	if d, ok := OPReturnData(script); ok {
		if m.first < 0 {
			m.first = i
		}
		// THORChain's memos are short (an OP_RETURN carries 80 bytes by relay policy); a
		// transaction with more data than ParseMemo reads is not a memo, keep no more.
		if len(m.buf) <= thorchain.MaxMemoLen {
			m.buf = append(m.buf, d...)
		}
	}
}

// memo returns the collected text when it starts like a THORChain memo (its action is
// one THORChain knows); OP_RETURN data of other protocols (Omni, plain text, …) is not.
func (m *memoReader) memo(tx int) (TxMemo, bool) {
	if m.first < 0 || !looksLikeThorchain(m.buf) {
		return TxMemo{}, false
	}
	return TxMemo{Tx: tx, Output: m.first, Text: string(m.buf)}, true
}

// TxMemo is the THORChain memo of one transaction of a block, read from its OP_RETURN
// outputs (ThorchainMemo).
type TxMemo struct {
	Tx     int    // index of the transaction in the block
	Output int    // its first OP_RETURN output with data
	Text   string // the concatenated data
}

// ThorchainMemo reads a transaction's memo from its output scripts as THORChain does (the
// data of every OP_RETURN output with one push, concatenated in output order). ok is
// false when there is none or the text does not start with a THORChain action, as
// OP_RETURN data of other protocols does not; the text is then not a THORChain memo.
func ThorchainMemo(scripts [][]byte) (text string, output int, ok bool) {
	var r memoReader
	r.reset()
	for i, s := range scripts {
		r.add(i, s)
	}
	m, ok := r.memo(0)
	return m.Text, m.Output, ok
}

// thorchainActions are the action spellings thorchain.ParseMemo knows (a test checks
// that it knows each): a text starting with one of them followed by ':' or its end is
// meant for THORChain, so a malformed one is worth a warning; anything else is not a
// THORChain memo.
var thorchainActions = map[string]bool{
	"SWAP": true, "S": true, "=": true, "ADD": true, "A": true, "+": true,
	"WITHDRAW": true, "WD": true, "-": true, "DONATE": true, "D": true,
	"BOND": true, "UNBOND": true, "LEAVE": true, "RESERVE": true, "NOOP": true,
	"LOAN+": true, "$+": true, "LOAN-": true, "$-": true, "TRADE+": true, "TRADE-": true,
	"SECURE+": true, "SECURE-": true, "OUT": true, "REFUND": true,
	"MIGRATE": true, "RAGNAROK": true, "CONSOLIDATE": true, "YGGDRASIL+": true, "YGGDRASIL-": true,
}

func looksLikeThorchain(text []byte) bool {
	action, fields := text, false
	for i, c := range text {
		if c == ':' {
			action, fields = text[:i], true
			break
		}
	}
	if len(action) == 0 || len(action) > len("CONSOLIDATE") {
		return false
	}
	// A short form alone ("a", "d", "=", "-") is more likely someone else's byte than a
	// memo: THORChain's short forms come with their fields.
	if !fields && len(action) <= 2 {
		return false
	}
	var up [len("CONSOLIDATE")]byte
	for i, c := range action {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	return thorchainActions[string(up[:len(action)])]
}

// PrevoutAddress returns the address of the output op, when known.
type PrevoutAddress func(op graph.Outpoint) (graph.Address, bool)

// DetectThorchain appends to b.Links the THORChain link parts of the block's memos
// (ThorchainMemo of each transaction) and returns what could not be linked as warnings:
//
//   - an inbound memo (SWAP, ADD, …): part{Key: thorchain.LinkKey(txid), In: the vault
//     output, Venues: [vault]};
//   - OUT:<hash> or REFUND:<hash>: part{Key: thorchain.LinkKey(hash), Out: every output
//     with value that pays someone other than the vault, Venues: [vault]}, the vault being
//     the one address every input spends from (else a Warning wrapping ErrVaultInputs);
//   - vault-internal memos (MIGRATE, …): nothing;
//   - a malformed memo: a Warning wrapping thorchain.ErrMemo.
//
// The addresses of the spent outputs come from the inputs themselves when resolved, from
// earlier transactions of the block, then from prev (nil: none); when they stay unknown
// the memo gives a Warning wrapping ErrInputsUnknown.
func DetectThorchain(b *graph.Block, memos []TxMemo, prev PrevoutAddress) []Warning {
	if len(memos) == 0 {
		return nil
	}
	var warns []Warning
	var own map[string]int // txid → index, for spends inside the block; built on first use
	addrOf := func(txIndex int, in *graph.TxIn) (graph.Address, bool) {
		if in.Resolved {
			return in.Address, true
		}
		if own == nil {
			own = make(map[string]int, len(b.UTXOTxs))
			for i := range b.UTXOTxs {
				own[b.UTXOTxs[i].TxID] = i
			}
		}
		if i, ok := own[in.Prev.TxID]; ok && i < txIndex && int(in.Prev.Index) < len(b.UTXOTxs[i].Outputs) {
			return b.UTXOTxs[i].Outputs[in.Prev.Index].Address, true
		}
		if prev != nil {
			return prev(in.Prev)
		}
		return "", false
	}
	for _, m := range memos {
		if m.Tx < 0 || m.Tx >= len(b.UTXOTxs) {
			continue
		}
		tx := &b.UTXOTxs[m.Tx]
		if tx.Coinbase || len(tx.Inputs) == 0 {
			continue // a coinbase pays no vault on anyone's behalf
		}
		warn := func(out int, err error) {
			warns = append(warns, Warning{Height: b.Height, Tx: tx.TxID, Output: out, Err: err})
		}
		memo, err := thorchain.ParseMemo(m.Text)
		if err != nil {
			warn(m.Output, err)
			continue
		}
		switch memo.Kind {
		case thorchain.Inbound:
			// Every inbound action but NOOP and RESERVE names its pool, target or node:
			// THORChain rejects "ADD" alone, so no vault took the value as an inbound.
			if f := strings.SplitN(memo.Raw, ":", 3); (len(f) < 2 || f[1] == "") && memo.Action != "NOOP" && memo.Action != "RESERVE" {
				warn(m.Output, fmt.Errorf("%w: %.90q: %s names its pool, target or node", thorchain.ErrMemo, memo.Raw, memo.Action))
				continue
			}
			sender, ok := addrOf(m.Tx, &tx.Inputs[0])
			if !ok {
				warn(-1, fmt.Errorf("%w: input 0 spends %s (the sender)", ErrInputsUnknown, tx.Inputs[0].Prev))
				continue
			}
			vout, err := vaultOutput(tx, sender)
			if err != nil {
				warn(-1, err)
				continue
			}
			vault := tx.Outputs[vout].Address
			b.Links = append(b.Links, graph.LinkPart{
				Key: thorchain.LinkKey(tx.TxID), Kind: graph.LinkThorchain, Chain: graph.Bitcoin,
				In:       []graph.Leg{{Chain: graph.Bitcoin, Ref: graph.Outpoint{TxID: tx.TxID, Index: uint32(vout)}.String()}},
				Venues:   []graph.Address{vault},
				Evidence: fmt.Sprintf("bitcoin tx %s: THORChain inbound memo %q (output %d), paid to vault %s (output %d)", tx.TxID, memo.Raw, m.Output, vault, vout),
			})
		case thorchain.Outbound, thorchain.Refund:
			var vault graph.Address
			bad := false
			for j := range tx.Inputs {
				a, ok := addrOf(m.Tx, &tx.Inputs[j])
				if !ok {
					warn(-1, fmt.Errorf("%w: input %d spends %s", ErrInputsUnknown, j, tx.Inputs[j].Prev))
					bad = true
					break
				}
				if j == 0 {
					vault = a
				} else if a != vault {
					warn(-1, fmt.Errorf("%w: input 0 spends from %s, input %d from %s", ErrVaultInputs, vault, j, a))
					bad = true
					break
				}
			}
			if bad {
				continue
			}
			var legs []graph.Leg
			for j := range tx.Outputs {
				o := &tx.Outputs[j]
				if o.Unspendable || o.Address == vault || o.Value.IsZero() {
					continue
				}
				legs = append(legs, graph.Leg{Chain: graph.Bitcoin, Ref: graph.Outpoint{TxID: tx.TxID, Index: uint32(j)}.String()})
			}
			if len(legs) == 0 {
				warn(-1, fmt.Errorf("%w %s", ErrNoPayee, vault))
				continue
			}
			b.Links = append(b.Links, graph.LinkPart{
				Key: thorchain.LinkKey(memo.InboundHash), Kind: graph.LinkThorchain, Chain: graph.Bitcoin,
				Out:      legs,
				Venues:   []graph.Address{vault},
				Evidence: fmt.Sprintf("bitcoin tx %s: THORChain %s memo %q (output %d), paid by vault %s", tx.TxID, memo.Kind, memo.Raw, m.Output, vault),
			})
		}
	}
	return warns
}

// vaultOutput picks an inbound's vault output as THORChain's observer does (ignoreTx,
// getOutput in bifrost/pkg/chainclients/bitcoin/bitcoin.go).
func vaultOutput(tx *graph.UTXOTx, sender graph.Address) (int, error) {
	if len(tx.Outputs) == 0 || len(tx.Outputs) > 4 {
		return 0, fmt.Errorf("%w: %d outputs (THORChain reads 1 to 4)", ErrNotObserved, len(tx.Outputs))
	}
	valued := 0
	for j := range tx.Outputs {
		o := &tx.Outputs[j]
		if !o.Value.IsZero() {
			valued++
		}
		// The observer wants one address on each of the first two outputs that are not
		// OP_RETURN; a pseudo-address stands for a script with none (or several: bare multisig).
		if j < 2 && !o.Unspendable && !hasOneAddress(o.Address) {
			return 0, fmt.Errorf("%w: output %d has no single address", ErrNotObserved, j)
		}
	}
	if valued == 0 || valued > 2 {
		return 0, fmt.Errorf("%w: %d outputs with value (THORChain reads 1 or 2)", ErrNotObserved, valued)
	}
	for j := range tx.Outputs {
		o := &tx.Outputs[j]
		if o.Unspendable {
			continue
		}
		if !hasOneAddress(o.Address) {
			return 0, fmt.Errorf("%w: output %d has no single address", ErrNotObserved, j)
		}
		if !o.Value.IsZero() && o.Address != sender {
			return j, nil
		}
	}
	return 0, fmt.Errorf("%w: no output with value pays anyone but the sender %s", ErrNotObserved, sender)
}

func hasOneAddress(a graph.Address) bool {
	return a != "" && !strings.HasPrefix(string(a), "nonstandard")
}

// warnLog keeps the warnings of a source: the first maxWarnings of them, and their count.
type warnLog struct {
	mu    sync.Mutex
	list  []Warning
	count int
	on    func(Warning)
}

// maxWarnings bounds what a source keeps; the count stays exact.
const maxWarnings = 1000

func (l *warnLog) add(ws []Warning) {
	if len(ws) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range ws {
		l.count++
		if len(l.list) < maxWarnings {
			l.list = append(l.list, w)
		}
		if l.on != nil {
			l.on(w)
		}
	}
}

func (l *warnLog) warnings() ([]Warning, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Warning(nil), l.list...), l.count
}

// PrevoutLookup gives the address of an output that a transaction with a THORChain memo
// spends, when the source itself cannot: block files without a window, a node without a
// transaction index. StorePrevouts makes one of a block store being filled in chain order.
type PrevoutLookup func(ctx context.Context, op graph.Outpoint) (addr graph.Address, ok bool, err error)

// OutpointStore is what StorePrevouts needs of a store; *graph.Store implements it.
type OutpointStore interface {
	Outpoint(ctx context.Context, c graph.Chain, op graph.Outpoint) (graph.OutpointInfo, error)
}

// StorePrevouts looks outputs up in st (a graph.Store that Ingest fills from the same
// source: every block below the one being read is stored by then).
func StorePrevouts(st OutpointStore) PrevoutLookup {
	return func(ctx context.Context, op graph.Outpoint) (graph.Address, bool, error) {
		info, err := st.Outpoint(ctx, graph.Bitcoin, op)
		if errors.Is(err, graph.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("bitcoin: THORChain memo input %s: %w", op, err)
		}
		return info.Address, info.ValueKnown && info.Address != "", nil
	}
}

// detectWith runs DetectThorchain with a PrevoutLookup; the lookup's first error is returned.
func detectWith(ctx context.Context, b *graph.Block, memos []TxMemo, look PrevoutLookup) ([]Warning, error) {
	var lookErr error
	warns := DetectThorchain(b, memos, func(op graph.Outpoint) (graph.Address, bool) {
		if lookErr != nil {
			return "", false
		}
		a, ok, err := look(ctx, op)
		if err != nil {
			lookErr = err
		}
		return a, ok
	})
	if lookErr != nil {
		b.Links = nil // a failed lookup leaves no partial detection behind
		return nil, lookErr
	}
	return warns, nil
}

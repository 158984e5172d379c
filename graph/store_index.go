package graph

import (
	"container/heap"
	"context"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// Movement is one value movement of one address: a UTXO input (debit) or output (credit),
// or one side of an account transfer or fee.
//
// Position orders an address's movements. Its Seq is the spec's sequence for account
// transactions (-1 for the fee, then the transfer's index) and, for UTXO transactions, the
// input index for debits and len(Inputs)+output index for credits, so inputs sort first.
type Movement struct {
	Address  Address
	Position Position
	Credit   bool // Address receives (output, transfer's To); false: it pays
	TxID     string
	Asset    Asset
	Amount   Amount
	// UTXO: the outpoint created (credit) or spent (debit).
	Outpoint Outpoint
	// Account: the transfer's ID ("<hash>#fee" for the fee) and the other side (empty for the fee).
	TransferID   string
	Counterparty Address
}

// The address index of a UTXO chain stores every credit (output) but only those debits
// (inputs) that spend an outpoint no stored block created: the debit of an output the store
// created is the output's spend, which its outpoint record holds already (spender, position,
// address, value), so Movements derives it from there instead of the index holding it
// twice. That halves the index entries of a UTXO transaction, the bulk of ingest cost.
// Account chains store every movement.

// forEachMovement lists the movements of b: what Movements returns for b's addresses. It is
// the single definition of a block's movements, used to write, undo and verify the index.
// Skipped: inputs whose address is unknown (outside the window), outputs without an
// address, the transfers of failed transactions and reverted transfers (they move nothing),
// zero fees.
func forEachMovement(b *Block, fn func(m *Movement) bool) {
	var m Movement
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		nIn := 0
		if !tx.Coinbase {
			nIn = len(tx.Inputs)
			for j := range tx.Inputs {
				if tx.Inputs[j].Address == "" {
					continue
				}
				utxoDebit(&m, b, tx, j)
				if !fn(&m) {
					return
				}
			}
		}
		for j := range tx.Outputs {
			if tx.Outputs[j].Address == "" {
				continue
			}
			utxoCredit(&m, b, tx, nIn, j)
			if !fn(&m) {
				return
			}
		}
	}
	native := b.Chain.NativeAsset()
	for i := range b.AccountTxs {
		tx := &b.AccountTxs[i]
		if !tx.Fee.IsZero() && tx.From != "" {
			m = Movement{Address: tx.From, Position: Position{Height: b.Height, TxIndex: tx.Index, Seq: -1},
				TxID: tx.Hash, Asset: native, Amount: tx.Fee, TransferID: tx.FeeTransferID()}
			if !fn(&m) {
				return
			}
		}
		if !tx.Success {
			continue
		}
		for j := range tx.Transfers {
			t := &tx.Transfers[j]
			if t.Reverted {
				continue
			}
			p := Position{Height: b.Height, TxIndex: tx.Index, Seq: int32(j)}
			if t.From != "" {
				m = Movement{Address: t.From, Position: p, TxID: tx.Hash, Asset: t.Asset, Amount: t.Amount, TransferID: t.ID, Counterparty: t.To}
				if !fn(&m) {
					return
				}
			}
			if t.To != "" {
				m = Movement{Address: t.To, Position: p, Credit: true, TxID: tx.Hash, Asset: t.Asset, Amount: t.Amount, TransferID: t.ID, Counterparty: t.From}
				if !fn(&m) {
					return
				}
			}
		}
	}
}

// utxoDebit sets m to the movement of tx's input j (in b), which spends from in.Address.
func utxoDebit(m *Movement, b *Block, tx *UTXOTx, j int) {
	in := &tx.Inputs[j]
	*m = Movement{Address: in.Address, Position: Position{Height: b.Height, TxIndex: tx.Index, Seq: int32(j)},
		TxID: tx.TxID, Asset: b.Chain.NativeAsset(), Amount: in.Value, Outpoint: in.Prev}
}

// utxoCredit sets m to the movement of tx's output j (in b); nIn is the number of inputs
// (none for a coinbase), which credits follow.
func utxoCredit(m *Movement, b *Block, tx *UTXOTx, nIn, j int) {
	out := &tx.Outputs[j]
	*m = Movement{Address: out.Address, Position: Position{Height: b.Height, TxIndex: tx.Index, Seq: int32(nIn + j)},
		Credit: true, TxID: tx.TxID, Asset: b.Chain.NativeAsset(), Amount: out.Value, Outpoint: Outpoint{TxID: tx.TxID, Index: uint32(j)}}
}

// spentDebit returns the debit that the outpoint record r of credit m's output implies:
// its spend, if the record is about this output (a duplicate transaction id overwrites an
// outpoint's record; the old output's spend is then not known) and it is spent.
func spentDebit(m *Movement, r *outpointRecord) (Movement, bool) {
	if !r.Created || !r.Spent || !r.ValueKnown || r.Address != m.Address ||
		r.CreatedAt.Height != m.Position.Height || r.CreatedAt.TxIndex != m.Position.TxIndex {
		return Movement{}, false
	}
	return Movement{Address: m.Address, Position: r.SpentAt, TxID: r.SpentBy, Asset: m.Asset, Amount: r.Value, Outpoint: m.Outpoint}, true
}

// debitHeap orders derived debits by position, until the scan of stored entries reaches them.
type debitHeap []Movement

func (h debitHeap) Len() int           { return len(h) }
func (h debitHeap) Less(i, j int) bool { return h[i].Position.Less(h[j].Position) }
func (h debitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *debitHeap) Push(x any)        { *h = append(*h, x.(Movement)) }
func (h *debitHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	*h = old[:len(old)-1]
	return m
}

// Movements calls fn with addr's movements on chain c in chain order (by Position; a
// self-transfer's debit before its credit), from one consistent snapshot.
func (s *Store) Movements(ctx context.Context, c Chain, addr Address, fn func(Movement) error) error {
	if s.opts.NoAddressIndex {
		return fmt.Errorf("graph: store: movements of %s: %w", addr, ErrNoAddressIndex)
	}
	return s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		if !known {
			return nil
		}
		prefix := addressPrefix(nil, id, addr)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		// UTXO debits of outputs the store created come from those outputs' records (see
		// forEachMovement): each is held here until the scan passes its position. A debit
		// never shares a position with a stored entry (inputs and outputs have distinct Seq).
		utxo := c.Model() == UTXO
		var debits debitHeap
		var opKey []byte
		flush := func(before *Position) error {
			for len(debits) > 0 && (before == nil || debits[0].Position.Less(*before)) {
				if err := fn(heap.Pop(&debits).(Movement)); err != nil {
					return err
				}
			}
			return nil
		}
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			item := it.Item()
			k := item.Key()
			if len(k) != len(prefix)+17 {
				// A longer address with this one's bytes as a prefix cannot occur: the
				// string form is length-prefixed. Anything else is damage.
				return fmt.Errorf("graph: store: %w: movement key %x of %s", ErrCorruptStore, k, addr)
			}
			m := Movement{Address: addr}
			var err error
			if m.Position, m.Credit, err = movementKeyPosition(k); err != nil {
				return err
			}
			if err := item.Value(func(v []byte) error { return decodeMovement(v, &m) }); err != nil {
				return fmt.Errorf("graph: store: %w: movement %s of %s: %w", ErrCorruptStore, m.Position, addr, err)
			}
			if err := flush(&m.Position); err != nil {
				return err
			}
			if utxo && m.Credit {
				opKey = outpointKey(opKey[:0], id, m.Outpoint)
				r, found, err := getOutpoint(txn, opKey, m.Outpoint)
				if err != nil {
					return fmt.Errorf("graph: store: movement %s of %s: %w", m.Position, addr, err)
				}
				if !found {
					return fmt.Errorf("graph: store: %w: movement %s of %s: its output %s is not in the outpoint index", ErrCorruptStore, m.Position, addr, m.Outpoint)
				}
				if d, ok := spentDebit(&m, &r); ok {
					heap.Push(&debits, d)
				}
			}
			if err := fn(m); err != nil {
				return err
			}
		}
		if err := flush(nil); err != nil {
			return err
		}
		return ctx.Err()
	})
}

// OutpointInfo is what the store knows about one outpoint.
type OutpointInfo struct {
	Outpoint Outpoint
	// Created: a stored block created it, at CreatedAt (Seq is the output index; the creating
	// transaction is Outpoint.TxID). False for an outpoint that predates the window and is
	// known only because a stored block spent it.
	Created     bool
	CreatedAt   Position
	Coinbase    bool
	Unspendable bool
	// ValueKnown: Address and Value are known (false for an unresolved input outside the window).
	ValueKnown bool
	Address    Address
	Value      Amount
	// Spent: the stored chain spends it, in transaction SpentBy at SpentAt (Seq is the input index).
	Spent   bool
	SpentBy string
	SpentAt Position
}

// Outpoint returns what the store knows about op on chain c, or an error wrapping ErrNotFound.
func (s *Store) Outpoint(ctx context.Context, c Chain, op Outpoint) (OutpointInfo, error) {
	var info OutpointInfo
	err := s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		found := false
		var r outpointRecord
		if known {
			var err error
			if r, found, err = getOutpoint(txn, outpointKey(nil, id, op), op); err != nil {
				return fmt.Errorf("graph: store: %s: %w", c, err)
			}
		}
		if !found {
			return fmt.Errorf("graph: store: outpoint %s of %s: %w", op, c, ErrNotFound)
		}
		info = OutpointInfo{Outpoint: op, Created: r.Created, CreatedAt: r.CreatedAt, Coinbase: r.Coinbase,
			Unspendable: r.Unspendable, ValueKnown: r.ValueKnown, Address: r.Address, Value: r.Value,
			Spent: r.Spent, SpentBy: r.SpentBy, SpentAt: r.SpentAt}
		return nil
	})
	return info, err
}

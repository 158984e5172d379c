package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// VerifyReport summarises a successful Verify.
type VerifyReport struct {
	Blocks    int
	Txs       int
	Outpoints int // outpoint records
	Movements int // address index entries
	HasTip    bool
	TipHeight uint64
	TipHash   string
}

// Verify checks, from one snapshot, that c's stored data is consistent: every block record
// decodes, heights increase, the cursor names the last block, every output and spend of
// every block is in the outpoint index exactly as the block says, every movement is in the
// address index (or, for the debit of a stored output, implied by that output's record), and
// neither index holds an entry no block accounts for. It reads
// everything: use it after a crash, in tests, or as an fsck. A failure wraps
// ErrCorruptStore.
func (s *Store) Verify(ctx context.Context, c Chain) (VerifyReport, error) {
	var rep VerifyReport
	err := s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		if !known {
			return nil
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("graph: store: verify %s: %w: %s", c, ErrCorruptStore, fmt.Sprintf(format, args...))
		}
		cur, err := getCursor(txn, id, c)
		if err != nil {
			return err
		}
		var (
			last          *Block
			wantOutpoints int // outputs + spends of outpoints no block created
			wantSpent     int // spends
			wantMoves     int
			overwritten   int // outputs whose record a later coinbase overwrote
		)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: blockPrefix(id), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if rep.Blocks%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			h, err := blockKeyHeight(it.Item().Key())
			if err != nil {
				return err
			}
			b := &Block{Chain: c, Height: h}
			if err := it.Item().Value(func(v []byte) error { return decodeBlock(v, b) }); err != nil {
				return blockDecodeError(c, h, err)
			}
			if last != nil && h <= last.Height {
				return fail("block %d after block %d", h, last.Height)
			}
			rep.Blocks++
			rep.Txs += b.TxCount()
			for i := range b.UTXOTxs {
				tx := &b.UTXOTxs[i]
				if !tx.Coinbase {
					for j := range tx.Inputs {
						in := &tx.Inputs[j]
						r, found, err := getOutpoint(txn, outpointKey(nil, id, in.Prev), in.Prev)
						if err != nil {
							return err
						}
						if found && createdAfter(&r, h, tx.Index) {
							continue // it spent an earlier creation of a duplicate txid
						}
						if !found || !r.Spent || r.SpentBy != tx.TxID || r.SpentAt != (Position{Height: h, TxIndex: tx.Index, Seq: int32(j)}) {
							return fail("block %d tx %s input %d: outpoint %s is not recorded as spent by it (found %v, %+v)", h, tx.TxID, j, in.Prev, found, r)
						}
						if in.Resolved && (!r.ValueKnown || r.Address != in.Address || r.Value != in.Value) {
							return fail("block %d tx %s input %d: outpoint %s holds %s to %q, the input says %s to %q", h, tx.TxID, j, in.Prev, r.Value.Dec(), r.Address, in.Value.Dec(), in.Address)
						}
						if !r.Created {
							wantOutpoints++
						} else if r.CreatedAt.Height >= h && !(r.CreatedAt.Height == h && r.CreatedAt.TxIndex < tx.Index) {
							return fail("block %d tx %s input %d spends %s, created later at %s", h, tx.TxID, j, in.Prev, r.CreatedAt)
						}
						wantSpent++
					}
				}
				for j := range tx.Outputs {
					out := &tx.Outputs[j]
					op := Outpoint{TxID: tx.TxID, Index: uint32(j)}
					r, found, err := getOutpoint(txn, outpointKey(nil, id, op), op)
					if err != nil {
						return err
					}
					if found && createdAfter(&r, h, tx.Index) {
						// A later coinbase with the same id overwrote it (and kept its
						// record under an overwritten key, counted below).
						if r.Coinbase {
							overwritten++
						}
						continue
					}
					if !found || !r.Created || r.CreatedAt != (Position{Height: h, TxIndex: tx.Index, Seq: int32(j)}) ||
						r.Address != out.Address || r.Value != out.Value || r.Coinbase != tx.Coinbase || r.Unspendable != out.Unspendable {
						return fail("block %d tx %s output %d is not in the outpoint index as written (found %v, %+v)", h, tx.TxID, j, found, r)
					}
					wantOutpoints++
				}
			}
			if !s.opts.NoAddressIndex {
				var ferr error
				forEachMovement(b, func(m *Movement) bool {
					if !m.Credit && len(b.UTXOTxs) > 0 {
						// A debit of an output the store created is derived from the
						// output's record (see forEachMovement): check that record instead.
						r, found, err := getOutpoint(txn, outpointKey(nil, id, m.Outpoint), m.Outpoint)
						if err != nil {
							ferr = err
							return false
						}
						if found && createdAfter(&r, m.Position.Height, m.Position.TxIndex) {
							// It spent an earlier creation of a duplicate txid: that debit is
							// not derivable any more, and was never an index entry.
							return true
						}
						if found && r.Created {
							if !r.Spent || !r.ValueKnown || r.Address != m.Address || r.Value != m.Amount || r.SpentAt != m.Position || r.SpentBy != m.TxID {
								ferr = fail("block %d: movement %s of %s: the record of the output it spends (%s) implies another debit (%+v)", h, m.Position, m.Address, m.Outpoint, r)
								return false
							}
							return true
						}
					}
					wantMoves++
					item, err := txn.Get(movementKey(nil, id, m.Address, m.Position, m.Credit))
					if err != nil {
						ferr = fail("block %d: movement %s of %s (credit %v) missing from the address index: %v", h, m.Position, m.Address, m.Credit, err)
						return false
					}
					v, err := item.ValueCopy(nil)
					if err != nil {
						ferr = err
						return false
					}
					if !bytes.Equal(v, encodeMovement(nil, m)) {
						ferr = fail("block %d: movement %s of %s differs from the block", h, m.Position, m.Address)
						return false
					}
					return true
				})
				if ferr != nil {
					return ferr
				}
			}
			last = b
		}
		switch {
		case last == nil && cur.HasTip:
			return fail("the cursor names tip %d (%s) but no block is stored", cur.TipHeight, cur.TipHash)
		case last != nil && (!cur.HasTip || cur.TipHeight != last.Height || cur.TipHash != last.Hash):
			return fail("the cursor (tip %v %d %s) disagrees with the last stored block %d (%s)", cur.HasTip, cur.TipHeight, cur.TipHash, last.Height, last.Hash)
		}
		rep.HasTip, rep.TipHeight, rep.TipHash = cur.HasTip, cur.TipHeight, cur.TipHash

		// Nothing else in the indexes: count what is there.
		gotSpent := 0
		oit := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagOutpoint, id}, PrefetchValues: true})
		defer oit.Close()
		for oit.Rewind(); oit.Valid(); oit.Next() {
			rep.Outpoints++
			err := oit.Item().Value(func(v []byte) error {
				if len(v) == 0 {
					return fail("empty outpoint record %x", oit.Item().Key())
				}
				if v[0]&opSpent != 0 {
					gotSpent++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if rep.Outpoints != wantOutpoints || gotSpent != wantSpent {
			return fail("the outpoint index holds %d records (%d spent), the blocks account for %d (%d spent)", rep.Outpoints, gotSpent, wantOutpoints, wantSpent)
		}
		nOver := 0
		uit := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagOverwritten, id}, PrefetchValues: true})
		defer uit.Close()
		for uit.Rewind(); uit.Valid(); uit.Next() {
			k := uit.Item().Key()
			if len(k) != 18 {
				return fail("overwritten-record key %x", k)
			}
			err := uit.Item().Value(func(v []byte) error {
				_, err := decodeOutpoint(v, binary.BigEndian.Uint32(k[14:]))
				return err
			})
			if err != nil {
				return fail("overwritten record %x: %v", k, err)
			}
			nOver++
		}
		if nOver != overwritten {
			return fail("%d overwritten outpoint records kept, the blocks account for %d", nOver, overwritten)
		}
		ait := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagAddress, id}})
		defer ait.Close()
		for ait.Rewind(); ait.Valid(); ait.Next() {
			rep.Movements++
		}
		if rep.Movements != wantMoves {
			return fail("the address index holds %d movements, the blocks account for %d", rep.Movements, wantMoves)
		}
		return nil
	})
	return rep, err
}

// createdAfter reports whether outpoint record r is of a creation after the transaction at
// (height, txIndex): Bitcoin's duplicate transaction ids (before BIP 30, e.g. the coinbases
// of mainnet blocks 91842 and 91880) overwrite an outpoint's record with the later output,
// so that the record no longer describes the earlier output or its spend.
func createdAfter(r *outpointRecord, height uint64, txIndex uint32) bool {
	return r.Created && (r.CreatedAt.Height > height || r.CreatedAt.Height == height && r.CreatedAt.TxIndex > txIndex)
}

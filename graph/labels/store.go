package labels

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
)

// RecordStore is the part of graph.Store that persists labels: namespaced key/value records
// read back in key order.
type RecordStore interface {
	PutRecord(ctx context.Context, ns string, key, value []byte) error
	Records(ctx context.Context, ns string, fn func(key, value []byte) error) error
}

// batchRecordStore is implemented by graph.Store: several records in one transaction. Save
// uses it when available (one transaction per saveBatch labels instead of one per label).
type batchRecordStore interface {
	PutRecords(ctx context.Context, ns string, recs []graph.Record) error
}

const saveBatch = 1024

// Namespace is the record namespace labels are kept in by default.
const Namespace = "labels"

// recordVersion is the format of a stored label; a reader refuses any other.
const recordVersion = 1

type record struct {
	V     int   `json:"v"`
	Label Label `json:"label"`
}

// recordKey orders labels by chain and address (so one address's labels are adjacent) and
// ends in a hash of the record, so saving the same label twice writes one record.
func recordKey(l *Label, value []byte) []byte {
	sum := sha256.Sum256(value)
	k := make([]byte, 0, len(l.Chain)+len(l.Address)+2+16)
	k = append(k, l.Chain...)
	k = append(k, 0)
	k = append(k, l.Address...)
	k = append(k, 0)
	return append(k, sum[:16]...)
}

// Save writes every label of the set to st under namespace ns (Namespace if empty). Saving
// is idempotent: a label already stored is overwritten by itself.
func (s *Set) Save(ctx context.Context, st RecordStore, ns string) error {
	if ns == "" {
		ns = Namespace
	}
	bs, batched := st.(batchRecordStore)
	var pending []graph.Record
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := bs.PutRecords(ctx, ns, pending)
		pending = pending[:0]
		if err != nil {
			return fmt.Errorf("labels: save: %w", err)
		}
		return nil
	}
	for i := range s.t.recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		lv := s.t.label(i)
		l := &lv
		v, err := json.Marshal(record{V: recordVersion, Label: *l})
		if err != nil {
			return fmt.Errorf("labels: encode %s %s: %w", l.Chain, l.Address, err)
		}
		k := recordKey(l, v)
		if batched {
			pending = append(pending, graph.Record{Key: k, Value: v})
			if len(pending) == saveBatch {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		}
		if err := st.PutRecord(ctx, ns, k, v); err != nil {
			return fmt.Errorf("labels: save %s %s: %w", l.Chain, l.Address, err)
		}
	}
	if batched {
		return flush()
	}
	return nil
}

// LoadStore reads the labels saved under namespace ns (Namespace if empty) into a new set, in
// the store's key order (by chain, then address). A record of another format version, or
// one that is not a valid label, is an error wrapping ErrStoreFormat.
func LoadStore(ctx context.Context, st RecordStore, ns string) (*Set, error) {
	if ns == "" {
		ns = Namespace
	}
	s := NewSet()
	err := st.Records(ctx, ns, func(key, value []byte) error {
		var r record
		if err := json.Unmarshal(value, &r); err != nil {
			return fmt.Errorf("labels: record %q: %w: %w", key, ErrStoreFormat, err)
		}
		if r.V != recordVersion {
			return fmt.Errorf("labels: record %q: %w: version %d, this build reads %d", key, ErrStoreFormat, r.V, recordVersion)
		}
		if err := s.Add(r.Label); err != nil {
			return fmt.Errorf("labels: record %q: %w: %w", key, ErrStoreFormat, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

package labels

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// RecordStore is the part of graph.Store that persists labels: namespaced key/value records
// read back in key order.
type RecordStore interface {
	PutRecord(ctx context.Context, ns string, key, value []byte) error
	Records(ctx context.Context, ns string, fn func(key, value []byte) error) error
}

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
	for i := range s.labels {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := &s.labels[i]
		v, err := json.Marshal(record{V: recordVersion, Label: *l})
		if err != nil {
			return fmt.Errorf("labels: encode %s %s: %w", l.Chain, l.Address, err)
		}
		if err := st.PutRecord(ctx, ns, recordKey(l, v), v); err != nil {
			return fmt.Errorf("labels: save %s %s: %w", l.Chain, l.Address, err)
		}
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

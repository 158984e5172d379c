package graph

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// Records: generic namespaced key/values for labels, engine checkpoints and trace results.
//
// A record's value is stored inline under its key when it is small. A large value (an
// engine checkpoint can be hundreds of MB) is split into chunks of recordChunkSize, written
// first under a fresh generation number, and then published by rewriting the record's
// header in one transaction, which also deletes the previous generation's chunks. Readers
// read the header and its chunks from one snapshot, so they see the old value or the new
// one, never a mix; a crash before the header commit leaves only unreferenced chunks, which
// the next write of that key deletes. This keeps every value within badger's limits in
// memory and on disk, and a checkpoint within no single transaction's size limit.

const recordChunkSize = 512 << 10

const (
	recInline  = 0
	recChunked = 1
)

// Record is one key/value of a record namespace.
type Record struct {
	Key, Value []byte
}

// chunkPrefix is the key prefix of all chunks of ns/key: 'r' ns key, both length-prefixed.
func chunkPrefix(ns string, key []byte) []byte {
	dst := []byte{tagRecordChunk}
	dst = binary.AppendUvarint(dst, uint64(len(ns)))
	dst = append(dst, ns...)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	return append(dst, key...)
}

func chunkKey(ns string, key []byte, gen uint64, i uint32) []byte {
	dst := chunkPrefix(ns, key)
	dst = binary.BigEndian.AppendUint64(dst, gen)
	return binary.BigEndian.AppendUint32(dst, i)
}

// PutRecord stores value under key in namespace ns, atomically.
func (s *Store) PutRecord(ctx context.Context, ns string, key, value []byte) error {
	return s.PutRecords(ctx, ns, []Record{{Key: key, Value: value}})
}

// PutRecords stores several records of ns atomically: a reader sees all of them or none
// (an engine checkpoint split over keys stays consistent). Values of any size are accepted.
func (s *Store) PutRecords(ctx context.Context, ns string, recs []Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := s.checkSpace(); err != nil {
		return fmt.Errorf("put records of %q: %w", ns, err)
	}
	headers := make([][]byte, len(recs))
	for i, r := range recs {
		if len(r.Value) <= recordChunkSize {
			headers[i] = append([]byte{recInline}, r.Value...)
			continue
		}
		gen := s.recordGen.Add(1)
		n := uint32((len(r.Value) + recordChunkSize - 1) / recordChunkSize)
		wb := s.db.NewWriteBatch()
		for c := uint32(0); c < n; c++ {
			if err := ctx.Err(); err != nil {
				wb.Cancel()
				return err
			}
			end := min(len(r.Value), int(c+1)*recordChunkSize)
			chunk := append([]byte(nil), r.Value[int(c)*recordChunkSize:end]...)
			if err := wb.Set(chunkKey(ns, r.Key, gen, c), chunk); err != nil {
				wb.Cancel()
				return fmt.Errorf("graph: store: put record %q/%q: %w", ns, r.Key, err)
			}
		}
		if err := wb.Flush(); err != nil {
			return fmt.Errorf("graph: store: put record %q/%q: %w", ns, r.Key, err)
		}
		h := []byte{recChunked}
		h = binary.AppendUvarint(h, gen)
		h = binary.AppendUvarint(h, uint64(n))
		headers[i] = binary.AppendUvarint(h, uint64(len(r.Value)))
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		for i, r := range recs {
			if err := deleteChunks(txn, ns, r.Key, headers[i]); err != nil {
				return err
			}
			if err := txn.Set(recordKey(ns, r.Key), headers[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("graph: store: put records of %q: %w", ns, err)
	}
	return nil
}

// deleteChunks deletes ns/key's chunks except those of the generation header refers to.
func deleteChunks(txn *badger.Txn, ns string, key []byte, header []byte) error {
	keep := uint64(0)
	if len(header) > 0 && header[0] == recChunked {
		keep, _ = binary.Uvarint(header[1:])
	}
	prefix := chunkPrefix(ns, key)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	var stale [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != len(prefix)+12 {
			continue // another key's chunks cannot match: key is length-prefixed
		}
		if binary.BigEndian.Uint64(k[len(prefix):]) != keep {
			stale = append(stale, it.Item().KeyCopy(nil))
		}
	}
	it.Close()
	for _, k := range stale {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// DeleteRecord removes key from ns; removing an absent key is not an error.
func (s *Store) DeleteRecord(ctx context.Context, ns string, key []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	err := s.db.Update(func(txn *badger.Txn) error {
		if err := deleteChunks(txn, ns, key, nil); err != nil {
			return err
		}
		return txn.Delete(recordKey(ns, key))
	})
	if err != nil {
		return fmt.Errorf("graph: store: delete record %q/%q: %w", ns, key, err)
	}
	return nil
}

// recordValue assembles a record's value from its header (and chunks) in txn.
func recordValue(txn *badger.Txn, ns string, key, header []byte) ([]byte, error) {
	if len(header) == 0 {
		return nil, fmt.Errorf("%w: record %q/%q has an empty header", ErrCorruptStore, ns, key)
	}
	switch header[0] {
	case recInline:
		return append([]byte(nil), header[1:]...), nil
	case recChunked:
		d := decoder{buf: header, off: 1}
		gen, n, total := d.uvarint(), d.uvarint(), d.uvarint()
		if err := d.done(); err != nil || n > total || total > n*recordChunkSize {
			return nil, fmt.Errorf("%w: record %q/%q: bad chunk header (%v)", ErrCorruptStore, ns, key, err)
		}
		out := make([]byte, 0, total)
		for i := uint64(0); i < n; i++ {
			item, err := txn.Get(chunkKey(ns, key, gen, uint32(i)))
			if err != nil {
				return nil, fmt.Errorf("%w: record %q/%q: chunk %d of %d: %w", ErrCorruptStore, ns, key, i, n, err)
			}
			if err := item.Value(func(v []byte) error { out = append(out, v...); return nil }); err != nil {
				return nil, err
			}
		}
		if uint64(len(out)) != total {
			return nil, fmt.Errorf("%w: record %q/%q: %d bytes in its chunks, %d expected", ErrCorruptStore, ns, key, len(out), total)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: record %q/%q: unknown header form %d", ErrCorruptStore, ns, key, header[0])
}

// GetRecord returns the value under key in ns, or an error wrapping ErrNotFound.
func (s *Store) GetRecord(ctx context.Context, ns string, key []byte) ([]byte, error) {
	var v []byte
	err := s.read(ctx, "", func(txn *badger.Txn, _ byte, _ bool) error {
		item, err := txn.Get(recordKey(ns, key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("graph: store: record %q/%q: %w", ns, key, ErrNotFound)
		}
		if err != nil {
			return err
		}
		h, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		v, err = recordValue(txn, ns, key, h)
		return err
	})
	return v, err
}

// Records calls fn with ns's records in key order, from one consistent snapshot. fn must
// not keep key after it returns (copy it); value is fn's to keep.
func (s *Store) Records(ctx context.Context, ns string, fn func(key, value []byte) error) error {
	return s.read(ctx, "", func(txn *badger.Txn, _ byte, _ bool) error {
		prefix := recordPrefix(ns)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()[len(prefix):]
			h, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			v, err := recordValue(txn, ns, key, h)
			if err != nil {
				return err
			}
			if err := fn(key, v); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

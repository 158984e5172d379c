package etl

import (
	"fmt"
)

// tableIter streams the parsed rows of one table, which must be in ascending block order,
// and hands out the rows of one block at a time (a merge join driven by the blocks).
type tableIter[T any] struct {
	rr    *rowReader
	parse func(*rowReader) (T, uint64, error)

	has   bool
	item  T
	block uint64
	p     pos

	started bool
	last    uint64
	eof     bool
}

func newTableIter[T any](rr *rowReader, parse func(*rowReader) (T, uint64, error)) *tableIter[T] {
	return &tableIter[T]{rr: rr, parse: parse}
}

func (t *tableIter[T]) peek() error {
	if t == nil || t.has || t.eof {
		return nil
	}
	ok, err := t.rr.next()
	if err != nil {
		return err
	}
	if !ok {
		t.eof = true
		return nil
	}
	item, n, err := t.parse(t.rr)
	if err != nil {
		return err
	}
	p := t.rr.pos()
	if t.started && n < t.last {
		return &Error{File: p.file, Line: p.line, Block: n, HasBlock: true,
			Err: fmt.Errorf("%w: block %d comes after block %d in %s (sort the export by block number)", ErrOutOfOrder, n, t.last, t.rr.sch.table)}
	}
	t.started, t.last = true, n
	t.has, t.item, t.block, t.p = true, item, n, p
	return nil
}

// take appends to dst every row of block n. Rows of an earlier block that were not taken
// belong to a block the export does not hold.
func (t *tableIter[T]) take(n uint64, dst []T) ([]T, error) {
	if t == nil {
		return dst, nil
	}
	for {
		if err := t.peek(); err != nil {
			return dst, err
		}
		if !t.has || t.block > n {
			return dst, nil
		}
		if t.block < n {
			return dst, t.unknownBlock()
		}
		dst = append(dst, t.item)
		t.has = false
	}
}

func (t *tableIter[T]) unknownBlock() error {
	return &Error{File: t.p.file, Line: t.p.line, Block: t.block, HasBlock: true,
		Err: fmt.Errorf("%w: %s row for block %d, which is not in the blocks table", ErrUnknownBlock, t.rr.sch.table, t.block)}
}

// finish reports rows left after the last block.
func (t *tableIter[T]) finish() error {
	if t == nil {
		return nil
	}
	if err := t.peek(); err != nil {
		return err
	}
	if t.has {
		return t.unknownBlock()
	}
	return nil
}

package bitcoin

import (
	"context"
	"sync"
)

// orderedMap runs work(worker, 0..n-1) on `workers` goroutines (worker is 0..workers-1, for
// per-goroutine scratch space) and calls apply with the results in
// index order on the calling goroutine: parallel decoding, in-order commit. At most
// 4×workers results are in flight, which bounds memory. The first error (from work, apply or
// ctx) stops everything and is returned.
func orderedMap[T any](ctx context.Context, n, workers int, work func(worker, i int) (T, error), apply func(i int, v T) error) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	type job struct {
		i   int
		out chan result
	}
	window := 4 * workers
	jobs := make(chan job, window)
	pending := make(chan chan result, window)
	go func() { // feeder: the pending queue keeps the order
		defer close(jobs)
		defer close(pending)
		for i := 0; i < n; i++ {
			out := make(chan result, 1)
			select {
			case pending <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{i, out}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					j.out <- result{err: ctx.Err()}
					continue
				}
				v, err := work(w, j.i)
				j.out <- result{v, err}
			}
		}(w)
	}
	// Cancel before waiting: the feeder and the workers stop on ctx, never on an unread channel.
	defer func() { cancel(); wg.Wait() }()
	i := 0
	for out := range pending {
		var r result
		select {
		case r = <-out:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if err := apply(i, r.v); err != nil {
			return err
		}
		i++
	}
	if i < n {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

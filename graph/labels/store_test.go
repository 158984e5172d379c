package labels

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
)

// sortLabels orders labels as the store returns them (by chain and address), then by
// everything that tells two labels of one address apart.
func sortLabels(ls []Label) {
	sort.SliceStable(ls, func(i, j int) bool {
		a, b := &ls[i], &ls[j]
		if a.Chain != b.Chain {
			return a.Chain < b.Chain
		}
		if a.Address != b.Address {
			return a.Address < b.Address
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		if a.Source.Document != b.Source.Document {
			return a.Source.Document < b.Source.Document
		}
		return a.Source.Line < b.Source.Line
	})
}

// Labels round-trip through the real graph.Store on disk, across a close and reopen.
func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	set := NewSet()
	for _, f := range []string{dprkSeedsFile, exchangesFile} {
		if err := set.AddBatch(must(t)(LoadFile(ctx, f, Options{}))); err != nil {
			t.Fatal(err)
		}
	}
	// Plus labels carrying every field (file/line, imprecise date text, withdrawal).
	if err := set.AddBatch(loadSDN(t)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Save(ctx, st, ""); err != nil {
		t.Fatal(err)
	}
	if err := set.Save(ctx, st, ""); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = graph.OpenStore(ctx, graph.StoreOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	back, err := LoadStore(ctx, st, "")
	if err != nil {
		t.Fatal(err)
	}
	want, got := set.Labels(), back.Labels()
	// The SDN batch and the curated set share labels that differ only in file/line, which
	// the store keeps apart: every label comes back once.
	if len(got) != len(want) {
		t.Fatalf("%d labels back, saved %d", len(got), len(want))
	}
	sortLabels(want)
	sortLabels(got)
	for i := range want {
		if !labelsEqual(want[i], got[i]) || want[i].Source != got[i].Source {
			t.Fatalf("label %d:\n saved %+v\n back  %+v", i, want[i], got[i])
		}
	}
	// Queries on the reloaded set answer as on the original.
	s1, _ := set.Seeds(SeedQuery{Nexus: NexusDPRK}, day("2025-01-01"))
	s2, _ := back.Seeds(SeedQuery{Nexus: NexusDPRK}, day("2025-01-01"))
	if len(s1) != len(s2) || len(s1) == 0 {
		t.Errorf("seeds: %d before, %d after", len(s1), len(s2))
	}
	// Another namespace is empty; a record of a future format is refused.
	if other, err := LoadStore(ctx, st, "labels-other"); err != nil || other.Len() != 0 {
		t.Errorf("other namespace: %v, %d labels", err, other.Len())
	}
	if err := st.PutRecord(ctx, "labels-v9", []byte("k"), []byte(`{"v":9,"label":{}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadStore(ctx, st, "labels-v9"); !errors.Is(err, ErrStoreFormat) {
		t.Errorf("future record: %v, want ErrStoreFormat", err)
	}
}

// The RecordStore interface is all Save and LoadStore need: an in-memory store works too
// (one record per PutRecord call, no batching).
type mapStore map[string]map[string][]byte

func (m mapStore) PutRecord(_ context.Context, ns string, key, value []byte) error {
	if m[ns] == nil {
		m[ns] = map[string][]byte{}
	}
	m[ns][string(key)] = append([]byte(nil), value...)
	return nil
}

func (m mapStore) Records(_ context.Context, ns string, fn func(key, value []byte) error) error {
	keys := make([]string, 0, len(m[ns]))
	for k := range m[ns] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k), m[ns][k]); err != nil {
			return err
		}
	}
	return nil
}

func TestStoreInterfaceWithoutBatching(t *testing.T) {
	ctx := context.Background()
	set := loadCurated(t, dprkSeedsFile)
	m := mapStore{}
	if err := set.Save(ctx, m, "x"); err != nil {
		t.Fatal(err)
	}
	back, err := LoadStore(ctx, m, "x")
	if err != nil || back.Len() != set.Len() {
		t.Fatalf("%v: %d labels back, want %d", err, back.Len(), set.Len())
	}
}

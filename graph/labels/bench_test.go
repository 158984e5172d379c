package labels

import (
	"context"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

// benchSet is the Etherscan label cloud plus both curated sets (~24,800 labels).
func benchSet(b *testing.B) *Set {
	ctx := context.Background()
	s := NewSet()
	for _, f := range []string{td + "etherscan/combinedAccountLabels.json.gz", dprkSeedsFile, exchangesFile} {
		if err := s.AddBatch(must(b)(LoadFile(ctx, f, Options{}))); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// Screening asks LabelsOf for one address, as of a day.
func BenchmarkLabelsOf(b *testing.B) {
	s := benchSet(b)
	addrs := []graph.Address{
		"0xa160cdab225685da1d56aa342ad8841c3b53f291", // labelled
		"0x0000000000000000000000000000000000000001", // not labelled
	}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = s.LabelsOf(graph.Ethereum, addrs[i%2], at)
	}
}

func BenchmarkSeeds(b *testing.B) {
	s := benchSet(b)
	for b.Loop() {
		_, _ = s.Seeds(SeedQuery{Nexus: NexusDPRK}, time.Time{})
	}
}

func BenchmarkParseSDN(b *testing.B) {
	for b.Loop() {
		_ = loadSDN(b)
	}
}

// The Etherscan label cloud (2.5 MB, 23,288 addresses, one line): line tracking must stay
// linear.
func BenchmarkParseEtherscanJSON(b *testing.B) {
	for b.Loop() {
		_ = must(b)(LoadFile(context.Background(), td+"etherscan/combinedAccountLabels.json.gz", Options{}))
	}
}

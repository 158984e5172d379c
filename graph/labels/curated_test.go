package labels

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

// go test ./graph/labels -run TestCurated -update rewrites the curated sets from the copied
// real files; without -update the test fails if the committed sets differ from what the
// builder makes of those files (the sets are reproducible from their sources).
var update = flag.Bool("update", false, "rewrite the bundled sets (graph/labels/bundled) from the copied real files")

const td = "../../testdata/labels/"

var (
	dprkSeedsFile = "bundled/dprk-seeds-v1.csv"
	exchangesFile = "bundled/exchanges-v1.csv"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The OFAC list versions in testdata, with their dates (SOURCES.md).
var (
	sdnVersion          = day("2024-05-03") // jackdwyer git-scrape commit a5ec3c5e
	ultrasoundOld       = day("2024-08-20") // ultrasoundmoney commit 4ddafea3
	ultrasoundCurrent   = day("2026-06-25") // ultrasoundmoney commit ac234519 (commit date)
	tornadoCashDelisted = day("2025-03-21") // Treasury's delisting; the list dropped it 2025-03-22 (commit eab2566e)
)

// must(t)(Load…(…)) fails the test on a loader error.
func must(t testing.TB) func(*Batch, error) *Batch {
	return func(b *Batch, err error) *Batch {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func loadSDN(t testing.TB) *Batch {
	return must(t)(LoadSDN(context.Background(), td+"ofac/sdn_2024-05-03_slice_dca_and_dprk.csv",
		td+"ofac/sdn_comments_2025-02_watchman-testdata.csv", Options{
			Listed:   sdnVersion,
			Document: "OFAC SDN list sdn.csv of 2024-05-03 (git-scrape jackdwyer/specially-designated-nationals-list a5ec3c5e) + sdn_comments.csv (moov-io/watchman testdata a8dfe527)",
		}))
}

func loadUltrasound(t testing.TB, file string, version time.Time) *Batch {
	return must(t)(LoadFile(context.Background(), td+"ofac/"+file, Options{
		Chain: graph.Ethereum, Category: CategorySanctioned, Confidence: ConfidenceAuthorityData, Listed: version,
		Document: "OFAC SDN Ethereum addresses, ultrasoundmoney/ofac-ethereum-addresses data.csv of " + version.Format(time.DateOnly),
		URL:      "https://github.com/ultrasoundmoney/ofac-ethereum-addresses",
	}))
}

// fbiIncident names the incident of an FBI row from its actor text.
func fbiIncident(actor string) string {
	switch {
	case strings.Contains(actor, "Stake.com"):
		return "stake-2023"
	case strings.Contains(actor, "Harmony"):
		return "harmony-2022"
	case strings.Contains(actor, "consol"):
		return "tradertraitor-2023"
	}
	return "bybit-2025"
}

// buildDPRKSeeds makes the curated DPRK set. Policy (written into the file's header):
//   - OFAC SDN 2024-05-03: every digital currency address of a DPRK-linked entry (a DPRK
//     program, or remarks naming North Korea or Lazarus), on bitcoin and ethereum; the
//     mixers among them (TORNADO CASH, SINBAD) are category mixer, not seeds: their pools
//     hold everyone's funds. Listing date: the ultrasoundmoney date_added where it has one.
//     Tornado Cash: withdrawn 2025-03-21 (delisting).
//   - OFAC Ethereum addresses added after the slice (ultrasoundmoney current list), as
//     compiled in dprk-attribution/ofac_sdn_dprk_linked_digital_currency_addresses.csv.
//   - FBI: every address on bitcoin and ethereum, one incident per release.
//   - Researcher (tayvano): every address except the victim (Bybit's cold wallet) and the
//     exchanges' deposit addresses (those go to the exchange set).
func buildDPRKSeeds(t testing.TB) []Label {
	ctx := context.Background()
	var out []Label
	dated := map[graph.Address]time.Time{}
	for _, l := range loadUltrasound(t, "ultrasoundmoney_ofac_eth_addresses_2024-08-20_incl_tornado.csv", ultrasoundOld).Labels {
		dated[l.Address] = l.Listed
	}
	inSlice := map[addrKey]bool{}
	for _, l := range loadSDN(t).Labels {
		if l.Nexus != NexusDPRK {
			continue
		}
		inSlice[addrKey{l.Chain, l.Address}] = true
		if d, ok := dated[l.Address]; ok && d.Before(l.Listed) {
			l.Listed = d
		}
		switch l.Entity {
		case "TORNADO CASH":
			l.Category = CategoryMixer
			l.Withdrawn = tornadoCashDelisted
		case "SINBAD":
			l.Category = CategoryMixer
		}
		out = append(out, l)
	}
	later := must(t)(LoadFile(ctx, td+"dprk-attribution/ofac_sdn_dprk_linked_digital_currency_addresses.csv",
		Options{Category: CategorySanctioned, Confidence: ConfidenceAuthorityData, Nexus: NexusDPRK}))
	for _, l := range later.Labels {
		if inSlice[addrKey{l.Chain, l.Address}] || !strings.Contains(l.Source.Document, "ultrasoundmoney") {
			continue
		}
		if i := strings.Index(l.Entity, " ("); i > 0 {
			l.Role = strings.TrimSuffix(l.Entity[i+2:], ")")
			l.Entity = l.Entity[:i]
		}
		out = append(out, l)
	}
	fbi := must(t)(LoadFile(ctx, td+"dprk-attribution/fbi_attributed_dprk_addresses.csv",
		Options{Category: CategoryActor, Confidence: ConfidenceAuthorityData, Nexus: NexusDPRK}))
	for _, l := range fbi.Labels {
		l.Incident = fbiIncident(l.Entity)
		out = append(out, l)
	}
	res := must(t)(LoadFile(ctx, td+"dprk-attribution/researcher_attributed_dprk_addresses.csv",
		Options{Category: CategoryActor, Confidence: ConfidenceForensic, Nexus: NexusDPRK}))
	for _, l := range res.Labels {
		if strings.HasPrefix(l.Role, "VICTIM") || strings.Contains(l.Role, "deposit address (exchange-side") {
			continue
		}
		l.Incident = "ronin-2022"
		if strings.Contains(l.Entity, "Bybit") {
			l.Incident = "bybit-2025"
		}
		out = append(out, l)
	}
	return normalizeCurated(out)
}

// buildExchanges makes the curated exchange set: GraphSense's exchange-published reserve
// wallets and WalletExplorer exchange tags (BTC, ETH), the Etherscan exchange label pages
// and label-cloud pack (ETH; token contracts left out), and the exchange deposit addresses
// the Ronin research names; entities by the GraphSense ActorPack where it has the actor.
func buildExchanges(t testing.TB) []Label {
	ctx := context.Background()
	actors, err := LoadActorPack(ctx, td+"tagpacks/actors/graphsense.actorpack.yaml.gz")
	if err != nil {
		t.Fatal(err)
	}
	var out []Label
	packs, _ := filepath.Glob(td + "tagpacks/packs/*.yaml")
	sort.Strings(packs)
	for _, p := range packs {
		base := filepath.Base(p)
		if !strings.HasPrefix(base, "exchange-wallets-") && base != "walletexplorer.yaml" && base != "etherscan-wordcloud-exchange.yaml" {
			continue
		}
		b := must(t)(LoadFile(ctx, p, Options{Actors: actors}))
		for _, l := range b.Labels {
			if l.Category == CategoryExchange {
				out = append(out, l)
			}
		}
	}
	pages, _ := filepath.Glob(td + "etherscan/accounts/*.csv")
	sort.Strings(pages)
	for _, p := range pages {
		id := strings.TrimSuffix(filepath.Base(p), ".csv")
		if _, ok := etherscanExchanges[id]; !ok {
			continue
		}
		out = append(out, must(t)(LoadFile(ctx, p, Options{})).Labels...)
	}
	res := must(t)(LoadFile(ctx, td+"dprk-attribution/researcher_attributed_dprk_addresses.csv",
		Options{Category: CategoryActor, Confidence: ConfidenceForensic}))
	for _, l := range res.Labels {
		if !strings.Contains(l.Role, "deposit address (exchange-side") {
			continue
		}
		l.Category, l.Entity, l.Nexus = CategoryExchange, firstWord(l.Role), ""
		l.Incident = ""
		out = append(out, l)
	}
	return normalizeCurated(out)
}

// normalizeCurated drops what a curated file does not keep (the file/line the label was read
// from: the source document names it) and sorts by chain, address, category, document.
func normalizeCurated(ls []Label) []Label {
	for i := range ls {
		ls[i].Source.File, ls[i].Source.Line = "", 0
	}
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
		return a.Source.Document < b.Source.Document
	})
	return ls
}

const dprkHeader = `chaintrace curated DPRK seed set, version 1 (built from the real files in testdata/labels by
graph/labels/curated_test.go; regenerate with: go test ./graph/labels -run TestCurated -update)
Sources: OFAC SDN sdn.csv 2024-05-03 + sdn_comments.csv; ultrasoundmoney OFAC Ethereum lists
2024-08-20 and current; FBI releases (Bybit PSA250226, Stake.com 2023-09-06, Harmony 2023-01-23,
2023-08-22); tayvano/lazarus-bluenoroff-research (Ronin, Bybit). See testdata/labels/SOURCES.md.
Policy: mixers (TORNADO CASH, SINBAD) are category mixer, not seeds; Tornado Cash withdrawn
2025-03-21 (Treasury delisting); the Bybit victim wallet and exchange deposit addresses are left out.`

const exchangesHeader = `chaintrace curated exchange label set, version 1 (built from the real files in testdata/labels
by graph/labels/curated_test.go; regenerate with: go test ./graph/labels -run TestCurated -update)
Sources: GraphSense TagPacks exchange-wallets-*.yaml, walletexplorer.yaml and
etherscan-wordcloud-exchange.yaml (token contracts left out), GraphSense ActorPack (names),
brianleect/etherscan-labels exchange pages, Ronin research exchange deposit addresses.`

func TestCuratedSetsAreReproducible(t *testing.T) {
	for _, c := range []struct {
		file   string
		header string
		build  func(testing.TB) []Label
	}{
		{dprkSeedsFile, dprkHeader, buildDPRKSeeds},
		{exchangesFile, exchangesHeader, buildExchanges},
	} {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, []string{c.header}, c.build(t)); err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.MkdirAll(filepath.Dir(c.file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c.file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, buf.Bytes()) {
			t.Errorf("%s differs from what its sources build; rerun with -update and review the diff", c.file)
		}
	}
}

package labels

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

func count(ls []Label, pred func(*Label) bool) int {
	n := 0
	for i := range ls {
		if pred(&ls[i]) {
			n++
		}
	}
	return n
}

func byEntity(ls []Label, nexus string) map[string]int {
	m := map[string]int{}
	for _, l := range ls {
		if nexus == "" || l.Nexus == nexus {
			m[l.Entity+"/"+string(l.Chain)]++
		}
	}
	return m
}

func equalCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %d, want %d", what, k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s = %d", what, k, v)
		}
	}
}

// The OFAC SDN slice joined with the comments file: every DPRK-linked digital currency
// address, cross-checked against the list compiled independently in dprk-attribution/.
func TestSDNRealFiles(t *testing.T) {
	b := loadSDN(t)
	equalCounts(t, "DPRK-linked SDN labels", byEntity(b.Labels, NexusDPRK), map[string]int{
		"LAZARUS GROUP/ethereum": 8, "TORNADO CASH/ethereum": 90, "SEMENOV, Roman/ethereum": 8,
		"TIAN, Yinyin/bitcoin": 8, "LI, Jiadong/bitcoin": 12, "WU, Huihui/bitcoin": 17,
		"SINBAD/bitcoin": 2, "KIM, Sang Man/bitcoin": 2, "KIM, Sang Man/ethereum": 2,
		"SIM, Hyon Sop/ethereum": 1,
	})
	if n := len(b.Labels); n != 541 {
		t.Errorf("%d SDN labels on bitcoin/ethereum, want 541", n)
	}
	// Rows on other chains are counted, not lost: TRX, LTC, XMR, ARB, BSC, …
	if n := b.Count(WarnSkipped); n != 53 {
		t.Errorf("%d skipped currency rows, want 53", n)
	}
	skippedDPRK := 0
	for _, w := range b.Warnings {
		if w.Kind == WarnSkipped && strings.Contains(w.Reason, "SIM, Hyon Sop") {
			skippedDPRK++ // its ARB and BSC addresses
		}
	}
	if skippedDPRK != 2 {
		t.Errorf("SIM Hyon Sop: %d skipped, want 2 (ARB, BSC)", skippedDPRK)
	}
	// OFAC's own data error: a TRON address filed as XBT (WANG Mingming, not DPRK-linked).
	if n := b.Count(WarnInvalid); n != 1 {
		t.Errorf("%d invalid addresses, want 1", n)
	}
	if n := b.Count(WarnShared); n != 1 {
		t.Errorf("%d shared addresses, want 1 (KHATIBI AGHADA / NIKAEEN RAVARI)", n)
	}
	if n := b.Count(WarnTruncated); n != 0 {
		t.Errorf("%d truncated remarks without continuation, want 0", n)
	}
	// Lazarus' addresses past the 1,000-character cut come only from the comments file.
	lz := 0
	for _, l := range b.Labels {
		if l.EntityID == "SDN-27307" {
			lz++
			if !equalStrings(l.Programs, []string{"DPRK3"}) || l.Category != CategorySanctioned ||
				l.Confidence != ConfidenceAuthorityData || !l.Listed.Equal(sdnVersion) {
				t.Errorf("Lazarus label %+v", l)
			}
		}
	}
	if lz != 8 {
		t.Errorf("LAZARUS GROUP: %d labels, want 8", lz)
	}

	// Seeds for an actor, by name or by SDN id; for a program.
	set := NewSet()
	if err := set.AddBatch(b); err != nil {
		t.Fatal(err)
	}
	for _, q := range []SeedQuery{{Entity: "lazarus group"}, {Entity: "SDN-27307"}, {Entity: "LAZARUS", Chain: graph.Ethereum, MinConfidence: 60}} {
		if seeds, _ := set.Seeds(q, time.Time{}); len(seeds) != 8 || seeds[0].Source != "lazarus-group" {
			t.Errorf("seeds for %+v: %d (%+v)", q, len(seeds), seeds)
		}
	}
	if seeds, _ := set.Seeds(SeedQuery{Program: "dprk"}, time.Time{}); len(seeds) != 149 { // 150 minus SIM Hyon Sop's (NPWMD)
		t.Errorf("seeds under a DPRK program: %d, want 149", len(seeds))
	}
	if seeds, _ := set.Seeds(SeedQuery{Entity: "LAZARUS", MinConfidence: 61}, time.Time{}); len(seeds) != 0 {
		t.Errorf("authority_data is level 60: %d seeds above it", len(seeds))
	}

	// Cross-check: the compiled list of DPRK-linked SDN addresses (rows from the slice).
	compiled := must(t)(LoadFile(context.Background(), td+"dprk-attribution/ofac_sdn_dprk_linked_digital_currency_addresses.csv",
		Options{Category: CategorySanctioned, Confidence: ConfidenceAuthorityData, Nexus: NexusDPRK}))
	want := map[addrKey]bool{}
	for _, l := range compiled.Labels {
		if strings.Contains(l.Source.Document, "sdn.csv") {
			want[addrKey{l.Chain, l.Address}] = true
		}
	}
	got := map[addrKey]bool{}
	for _, l := range b.Labels {
		if l.Nexus == NexusDPRK {
			got[addrKey{l.Chain, l.Address}] = true
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("compiled DPRK address %s %s not extracted from the SDN files", k.chain, k.addr)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("extracted DPRK address %s %s not in the compiled list", k.chain, k.addr)
		}
	}
	if len(got) != 150 {
		t.Errorf("%d distinct DPRK-linked SDN addresses, want 150", len(got))
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAttributionCSVRealFiles(t *testing.T) {
	ctx := context.Background()
	fbi := must(t)(LoadFile(ctx, td+"dprk-attribution/fbi_attributed_dprk_addresses.csv",
		Options{Category: CategoryActor, Confidence: ConfidenceAuthorityData}))
	bybit := count(fbi.Labels, func(l *Label) bool { return strings.Contains(l.Source.URL, "PSA250226") })
	if bybit != 51 {
		t.Errorf("FBI Bybit addresses: %d, want 51", bybit)
	}
	// All 51 are written in EIP-55 form in the file, and ParseAddress checked the checksum:
	// re-deriving the checksum form gives back the file's spelling.
	raw := readCSVColumn(t, td+"dprk-attribution/fbi_attributed_dprk_addresses.csv", "address", "source_url", "PSA250226")
	if len(raw) != 51 {
		t.Fatalf("%d raw Bybit rows", len(raw))
	}
	for _, a := range raw {
		canon, err := graph.ParseAddress(graph.Ethereum, a)
		if err != nil || graph.ChecksumAddress(canon) != a {
			t.Errorf("%s is not EIP-55 valid (%v)", a, err)
		}
	}
	equalCounts(t, "FBI labels by chain", chains(fbi.Labels), map[string]int{"bitcoin": 30, "ethereum": 55})
	if n := fbi.Count(WarnSkipped); n != 7 { // 5 BSC + 2 Polygon (Stake.com)
		t.Errorf("FBI skipped rows: %d, want 7", n)
	}
	if n := count(fbi.Labels, func(l *Label) bool { return l.Nexus == NexusDPRK }); n != 85 {
		t.Errorf("FBI labels with DPRK nexus (from the actor text): %d, want 85", n)
	}

	res := must(t)(LoadFile(ctx, td+"dprk-attribution/researcher_attributed_dprk_addresses.csv",
		Options{Category: CategoryActor, Confidence: ConfidenceForensic}))
	if len(res.Labels) != 146 || res.Count(WarnImpreciseDate) != 146 {
		t.Errorf("researcher: %d labels, %d imprecise dates; want 146, 146", len(res.Labels), res.Count(WarnImpreciseDate))
	}
	if l := res.Labels[0]; !l.Listed.Equal(day("2022-01-01")) || l.Source.DateText != "2022 (file history)" || l.Role == "" {
		t.Errorf("researcher row 1: listed %v, date text %q, role %q", l.Listed, l.Source.DateText, l.Role)
	}
}

func chains(ls []Label) map[string]int {
	m := map[string]int{}
	for _, l := range ls {
		m[string(l.Chain)]++
	}
	return m
}

// The two ultrasoundmoney versions of OFAC's Ethereum list: Tornado Cash is on the 2024 one
// and not on the current one, so as-of queries differ.
func TestAsOfQueriesOnTwoOFACVersions(t *testing.T) {
	old := loadUltrasound(t, "ultrasoundmoney_ofac_eth_addresses_2024-08-20_incl_tornado.csv", ultrasoundOld)
	cur := loadUltrasound(t, "ultrasoundmoney_ofac_eth_addresses_current.csv", ultrasoundCurrent)
	if len(old.Labels) != 157 || len(cur.Labels) != 97 {
		t.Fatalf("versions have %d and %d labels, want 157 and 97", len(old.Labels), len(cur.Labels))
	}
	merged, err := Versioned(ListVersion{ultrasoundCurrent, cur.Labels}, ListVersion{ultrasoundOld, old.Labels})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet()
	if err := s.Add(merged...); err != nil {
		t.Fatal(err)
	}
	pool := graph.Address("0xA160cdAB225685dA1d56aa342Ad8841c3b53f291") // Tornado Cash 100 ETH, EIP-55 spelling
	lazarus := graph.Address("0x098b716b8aaf21512996dc57eb0615e2383e2f96")
	for _, c := range []struct {
		asOf        string
		tc, lazarus bool
	}{
		{"2022-08-07", false, true}, // the day before the designation
		{"2022-08-08", true, true},  // date_added in the 2024 version
		{"2024-08-20", true, true},
		{"2026-06-24", true, true},   // the list is only known to have dropped it by the next version
		{"2026-06-25", false, true},  // current version: delisted
		{"2022-04-13", false, false}, // before Lazarus' Ronin address was added (2022-04-14)
	} {
		at := day(c.asOf)
		if got := len(s.LabelsOf(graph.Ethereum, pool, at)) > 0; got != c.tc {
			t.Errorf("Tornado Cash pool sanctioned on %s: %v, want %v", c.asOf, got, c.tc)
		}
		if got := len(s.LabelsOf(graph.Ethereum, lazarus, at)) > 0; got != c.lazarus {
			t.Errorf("Lazarus address sanctioned on %s: %v, want %v", c.asOf, got, c.lazarus)
		}
	}
	tc := count(merged, func(l *Label) bool { return l.Entity == "TORNADO CASH" })
	withdrawn := count(merged, func(l *Label) bool { return !l.Withdrawn.IsZero() })
	// The 2024 version lists 91 Tornado Cash addresses (one more than the May-2024 SDN slice);
	// all are gone from the current one, as is one CHATEX address.
	if tc != 91 || withdrawn != 92 {
		t.Errorf("Tornado Cash labels %d (want 91), withdrawn labels %d (want 92)", tc, withdrawn)
	}
	// The same question on the curated set, which records the delisting day itself.
	cs := loadCurated(t, dprkSeedsFile)
	for _, c := range []struct {
		asOf string
		want bool
	}{{"2022-08-07", false}, {"2022-08-08", true}, {"2025-03-20", true}, {"2025-03-21", false}} {
		if got := len(cs.LabelsOf(graph.Ethereum, pool, day(c.asOf))) > 0; got != c.want {
			t.Errorf("curated: Tornado Cash pool labelled on %s: %v, want %v", c.asOf, got, c.want)
		}
	}
}

func loadCurated(t testing.TB, file string) *Set {
	t.Helper()
	s := NewSet()
	if err := s.AddBatch(must(t)(LoadFile(context.Background(), file, Options{}))); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTagPacksRealFiles(t *testing.T) {
	ctx := context.Background()
	actors, err := LoadActorPack(ctx, td+"tagpacks/actors/graphsense.actorpack.yaml.gz")
	if err != nil {
		t.Fatal(err)
	}
	if a := actors["lazarusgroup"]; a.Label != "Lazarus Group" || actors["binance"].Label != "Binance" || actors["tornadocash"].ID != "tornado" {
		t.Errorf("actors: lazarusgroup %+v, binance %q, alias tornadocash → %q", a, actors["binance"].Label, actors["tornadocash"].ID)
	}
	opt := Options{Actors: actors}
	for _, c := range []struct {
		file              string
		labels            int
		cat               Category
		entity            string
		skipped, invalid  int
		nexusDPRK, dupWrn int
	}{
		{"lazarus.yaml", 21, CategorySanctioned, "Lazarus Group", 0, 0, 21, 0},
		{"lazarus2.yaml", 6, CategorySanctioned, "Lazarus Group", 0, 0, 6, 0},
		{"ronin_bridge.yaml", 6, CategoryActor, "", 0, 0, 0, 0},
		{"tornado_cash.yaml", 38, CategoryMixer, "Tornado Cash", 0, 0, 0, 1},
		{"sinbad_io.yaml", 2, CategoryMixer, "sinbad.io", 0, 0, 0, 0},
		// 36 BTC/ETH tags on 15 addresses (the same wallet per token); TRX, BEP2, BEP20 skipped.
		{"exchange-wallets-binance.yaml", 15, CategoryExchange, "Binance", 50, 0, 0, 21},
		{"exchange-wallets-bybit.yaml", 8, CategoryExchange, "Bybit", 0, 0, 0, 0},
		// USDT/USDC tags with 0x addresses are Ethereum; TRX, KCS and TRON-form USDT/USDC skipped.
		{"exchange-wallets-kucoin.yaml", 19, CategoryExchange, "KuCoin & KuCoin Futures", 24, 0, 0, 16},
		{"etherscan-wordcloud-exchange.yaml", 387, CategoryExchange, "", 259, 0, 0, 0},
	} {
		t.Run(c.file, func(t *testing.T) {
			b := must(t)(LoadFile(ctx, td+"tagpacks/packs/"+c.file, opt))
			if len(b.Labels) != c.labels {
				t.Errorf("%d labels, want %d", len(b.Labels), c.labels)
			}
			for _, l := range b.Labels {
				if l.Category != c.cat || (c.entity != "" && l.Entity != c.entity) {
					t.Errorf("line %d: %s %q, want %s %q", l.Source.Line, l.Category, l.Entity, c.cat, c.entity)
					break
				}
			}
			if n := b.Count(WarnSkipped); n != c.skipped {
				t.Errorf("%d skipped, want %d", n, c.skipped)
			}
			if n := count(b.Labels, func(l *Label) bool { return l.Nexus == NexusDPRK }); n != c.nexusDPRK {
				t.Errorf("%d DPRK nexus, want %d", n, c.nexusDPRK)
			}
			if n := b.Count(WarnDuplicate); n != c.dupWrn {
				t.Errorf("%d duplicate warnings, want %d", n, c.dupWrn)
			}
		})
	}
	// The INTERPOL-scraped OFAC pack carries OFAC's TRON-as-XBT error: strict by default.
	_, err = LoadFile(ctx, td+"tagpacks/packs/ofac.yaml", Options{})
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrBadAddress) || pe.Line != 1069 {
		t.Errorf("ofac.yaml strict: %v, want a bad address at line 1069", err)
	}
	b := must(t)(LoadFile(ctx, td+"tagpacks/packs/ofac.yaml", Options{SkipInvalid: true, Category: CategorySanctioned}))
	if b.Count(WarnInvalid) != 1 || len(b.Labels) != 534 {
		t.Errorf("ofac.yaml: %d labels, %d invalid; want 534, 1", len(b.Labels), b.Count(WarnInvalid))
	}
	// The whole directory: every pack, one batch.
	all := must(t)(LoadTagPackDir(ctx, td+"tagpacks/packs", Options{Actors: actors, SkipInvalid: true}))
	if len(all.Labels) != 1566 {
		t.Errorf("directory: %d labels, want 1566", len(all.Labels))
	}
}

// header.yaml inheritance, with the pack's own fields winning over the header's and the
// tag's over both; an !include header; malformed YAML names the line.
func TestTagPackHeaderInheritance(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "header.yaml", "creator: Test Team\nconfidence: forensic\ncategory: exchange\ncurrency: BTC\nsource: https://example.org/h\n")
	write(t, dir, "sub/a.yaml", "title: A\nactor: binance\ntags:\n- address: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2\n- address: '0x52908400098527886E0F7030069857D2E4169EE7'\n  currency: ETH\n  category: mixing_service\n  confidence: web_crawl\n")
	write(t, dir, "sub/b.yaml", "header: !include header.yaml\ntitle: B\ncategory: market\ntags:\n- address: 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy\n")
	write(t, dir, "other.actorpack.yaml", "not: a tagpack\n")
	b := must(t)(LoadTagPackDir(context.Background(), dir, Options{Actors: map[string]Actor{"binance": {ID: "binance", Label: "Binance"}}}))
	if len(b.Labels) != 3 {
		t.Fatalf("%d labels: %+v", len(b.Labels), b.Labels)
	}
	a0, a1, b0 := b.Labels[0], b.Labels[1], b.Labels[2]
	if a0.Category != CategoryExchange || a0.Confidence != ConfidenceForensic || a0.Entity != "Binance" || a0.Source.URL != "https://example.org/h" || a0.Source.Line != 4 {
		t.Errorf("inherited from header: %+v", a0)
	}
	if a1.Chain != graph.Ethereum || a1.Category != CategoryMixer || a1.Confidence != ConfidenceWebCrawl {
		t.Errorf("tag fields win: %+v", a1)
	}
	if b0.Category != CategoryMarket || b0.Source.Document != "B (Test Team)" {
		t.Errorf("pack field wins over header: %+v", b0)
	}
	_, err := ParseTagPack(strings.NewReader("title: x\ncreator: y\ntags:\n- address: [1, 2\n"), "bad.yaml", nil, Options{})
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) || pe.Line == 0 || pe.File != "bad.yaml" {
		t.Errorf("malformed YAML: %v (%#v)", err, pe)
	}
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := mkdirFor(p); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(p, text); err != nil {
		t.Fatal(err)
	}
}

func TestEtherscanRealFiles(t *testing.T) {
	ctx := context.Background()
	j := must(t)(LoadFile(ctx, td+"etherscan/combinedAccountLabels.json.gz", Options{}))
	cats := map[string]int{}
	for _, l := range j.Labels {
		cats[string(l.Category)]++
	}
	equalCounts(t, "Etherscan label cloud", cats, map[string]int{
		"exchange": 426, "mixer": 63, "bridge": 166, "sanctioned": 72, "blocked": 483, "defi": 215, "other": 21922,
	})
	bin := must(t)(LoadFile(ctx, td+"etherscan/accounts/binance.csv", Options{}))
	if len(bin.Labels) != 57 || bin.Labels[0].Entity != "Binance" || bin.Labels[0].Name != "Binance" || bin.Labels[0].Source.Line != 2 {
		t.Errorf("binance.csv: %d labels, first %+v", len(bin.Labels), bin.Labels[0])
	}
	tc := must(t)(LoadFile(ctx, td+"etherscan/accounts/tornado-cash.csv", Options{}))
	if n := count(tc.Labels, func(l *Label) bool { return l.Category == CategoryMixer && l.Entity == "Tornado Cash" }); n != len(tc.Labels) || n == 0 {
		t.Errorf("tornado-cash.csv: %d of %d are Tornado Cash mixers", n, len(tc.Labels))
	}
	xbt := must(t)(LoadFile(ctx, td+"ofac/0xb10c_sanctioned_addresses_XBT_2024-09-27.txt", Options{Entity: "OFAC SDN", Category: CategorySanctioned, Chain: graph.Bitcoin, SkipInvalid: true}))
	eth := must(t)(LoadFile(ctx, td+"ofac/0xb10c_sanctioned_addresses_ETH_2024-09-27.txt", Options{Entity: "OFAC SDN", Category: CategorySanctioned}))
	// The XBT list carries OFAC's TRON-as-XBT entry too.
	if len(xbt.Labels) != 434 || xbt.Count(WarnInvalid) != 1 || len(eth.Labels) != 152 || chains(eth.Labels)["ethereum"] != 152 {
		t.Errorf("0xB10C lists: %d XBT (%d invalid), %d ETH", len(xbt.Labels), xbt.Count(WarnInvalid), len(eth.Labels))
	}
	// Every DPRK-linked XBT address extracted from the SDN files is on 0xB10C's XBT list.
	onList := map[graph.Address]bool{}
	for _, l := range xbt.Labels {
		onList[l.Address] = true
	}
	for _, l := range loadSDN(t).Labels {
		if l.Nexus == NexusDPRK && l.Chain == graph.Bitcoin && !onList[l.Address] {
			t.Errorf("SDN %s %s not on the 0xB10C XBT list", l.Entity, l.Address)
		}
	}
}

// The curated sets load with one call each; seeds and sinks come out in the shapes package
// trace takes.
func TestCuratedSets(t *testing.T) {
	s := loadCurated(t, dprkSeedsFile)
	if s.Len() != 382 {
		t.Errorf("DPRK set: %d labels, want 382 (150 SDN + 10 later OFAC + 85 FBI + 137 researcher)", s.Len())
	}
	seeds, conflicts := s.Seeds(SeedQuery{Nexus: NexusDPRK}, time.Time{})
	if len(conflicts) != 0 {
		t.Errorf("conflicts in the DPRK set: %+v", conflicts)
	}
	bySource := map[string]int{}
	for _, sd := range seeds {
		bySource[sd.Source]++
	}
	equalCounts(t, "DPRK seeds by source", bySource, map[string]int{
		// Lazarus' 8 SDN addresses are all Ronin hops in the research: the incident names them.
		"bybit-2025": 59, "ronin-2022": 124, "stake-2023": 17, "harmony-2022": 11, "tradertraitor-2023": 6,
		"tian-yinyin": 8, "li-jiadong": 12, "wu-huihui": 17, "semenov-roman": 8,
		"kim-sang-man": 4, "sim-hyon-sop": 6, "amnokgang-technology-development-company": 3, "yun-song-guk": 2,
	})
	// Mixers are labelled but are not seeds; asking for them by category finds them.
	mixers, _ := s.Seeds(SeedQuery{Nexus: NexusDPRK, Categories: []Category{CategoryMixer}}, day("2024-01-01"))
	// Tornado Cash's 90 (listed 2022); SINBAD's 2 are known only from the 2024-05-03 list.
	if len(mixers) != 90 {
		t.Errorf("%d DPRK-linked mixer addresses on 2024-01-01, want 90", len(mixers))
	}
	prog, _ := s.Seeds(SeedQuery{Program: "DPRK"}, time.Time{})
	// LAZARUS 8, TIAN 8, LI 12, WU 17, SEMENOV 8 (DPRK3), KIM Sang Man 4 (DPRK4); SIM Hyon
	// Sop is NPWMD, the later designations carry no program in their source.
	if len(prog) != 57 {
		t.Errorf("%d seeds under a DPRK sanctions program, want 57", len(prog))
	}

	ex := loadCurated(t, exchangesFile)
	sinks, conflicts := ex.Sinks(graph.Ethereum, CategoryExchange, time.Time{})
	if len(conflicts) != 0 {
		t.Errorf("conflicts in the exchange set alone: %d", len(conflicts))
	}
	for _, name := range []string{"Binance", "Huobi", "Kraken", "Bybit", "OKX", "KuCoin"} {
		if len(sinks[name]) == 0 {
			t.Errorf("no Ethereum sinks for %s", name)
		}
	}
	names := make([]string, 0, len(sinks))
	total := 0
	for n, as := range sinks {
		names = append(names, n)
		total += len(as)
		if !sort.SliceIsSorted(as, func(i, j int) bool { return as[i] < as[j] }) {
			t.Errorf("%s sinks unsorted", n)
		}
	}
	if total != ex.addressesOn(graph.Ethereum) {
		t.Errorf("%d Ethereum sink addresses, %d labelled addresses", total, ex.addressesOn(graph.Ethereum))
	}
}

func (s *Set) addressesOn(c graph.Chain) int {
	n := 0
	ix := s.index()
	for g := 0; g < len(ix.groups)-1; g++ {
		if s.key(ix, g).chain == c {
			n++
		}
	}
	return n
}

// An address that is both an exchange and attributed to a threat actor is reported, not
// guessed: the researcher file lists Bybit's cold wallet (the victim) under the Bybit theft,
// and GraphSense lists it as a Bybit reserve wallet.
func TestExchangeActorConflict(t *testing.T) {
	ctx := context.Background()
	s := NewSet()
	for _, b := range []*Batch{
		must(t)(LoadFile(ctx, td+"dprk-attribution/researcher_attributed_dprk_addresses.csv", Options{Category: CategoryActor, Confidence: ConfidenceForensic})),
		must(t)(LoadFile(ctx, td+"tagpacks/packs/exchange-wallets-bybit.yaml", Options{})),
	} {
		if err := s.AddBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	cold := graph.Address("0x1db92e2eebc8e0c075a02bea49a2935bcd2dfcf4")
	cs := s.Conflicts(time.Time{})
	if len(cs) != 1 || cs[0].Address != cold || !strings.Contains(cs[0].Reason, "exchange (bybit)") || len(cs[0].Labels) != 2 {
		t.Fatalf("conflicts: %+v", cs)
	}
	seeds, sc := s.Seeds(SeedQuery{Nexus: NexusDPRK}, time.Time{})
	sinks, kc := s.Sinks("", CategoryExchange, time.Time{})
	for _, sd := range seeds {
		if sd.Address == cold {
			t.Error("the conflicting address is a seed")
		}
	}
	for _, a := range sinks["bybit"] {
		if a == cold {
			t.Error("the conflicting address is a sink")
		}
	}
	if len(sc) != 1 || len(kc) != 1 || len(seeds) != 145 || len(sinks["bybit"]) != 7 {
		t.Errorf("seeds %d (conflicts %d), bybit sinks %d (conflicts %d)", len(seeds), len(sc), len(sinks["bybit"]), len(kc))
	}
}

// readCSVColumn returns column col of the rows of a CSV file whose column where contains
// substr, as written (to check the file's own spelling).
func readCSVColumn(t *testing.T, file, col, where, substr string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ci, wi := -1, -1
	for i, h := range recs[0] {
		switch h {
		case col:
			ci = i
		case where:
			wi = i
		}
	}
	var out []string
	for _, r := range recs[1:] {
		if strings.Contains(r[wi], substr) {
			out = append(out, r[ci])
		}
	}
	return out
}

func mkdirFor(p string) error { return os.MkdirAll(filepath.Dir(p), 0o755) }

func writeFile(p, text string) error { return os.WriteFile(p, []byte(text), 0o644) }

// Queries may run concurrently on a set nobody adds to (run with -race).
func TestConcurrentQueries(t *testing.T) {
	want, _ := loadCurated(t, dprkSeedsFile).Seeds(SeedQuery{Nexus: NexusDPRK}, time.Time{})
	s := loadCurated(t, dprkSeedsFile) // fresh: the first queries race to order its keys
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 20; i++ {
				seeds, _ := s.Seeds(SeedQuery{Nexus: NexusDPRK}, time.Time{})
				if len(seeds) != len(want) {
					done <- errors.New("seed count differs")
					return
				}
				_, _ = s.Sinks("", CategoryMixer, day("2023-01-01"))
				_ = s.Conflicts(time.Time{})
				_ = s.LabelsOf(graph.Ethereum, "0xA160cdAB225685dA1d56aa342Ad8841c3b53f291", day("2023-01-01"))
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestVersioned(t *testing.T) {
	a := Label{Chain: graph.Bitcoin, Address: "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Entity: "X", Category: CategorySanctioned, Confidence: ConfidenceAuthorityData}
	b := a
	b.Address = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
	got, err := Versioned(
		ListVersion{day("2021-01-01"), []Label{a}},
		ListVersion{day("2022-01-01"), []Label{b}},
		ListVersion{day("2023-01-01"), []Label{a, b}}, // a re-listed: a second interval
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].Withdrawn.Equal(day("2022-01-01")) || !got[1].Listed.Equal(day("2022-01-01")) ||
		!got[1].Withdrawn.IsZero() || !got[2].Listed.Equal(day("2023-01-01")) || got[2].Address != a.Address {
		t.Errorf("%+v", got)
	}
	if _, err := Versioned(ListVersion{Labels: []Label{a}}); !errors.Is(err, ErrBadDate) {
		t.Errorf("undated version: %v", err)
	}
	if _, err := Versioned(ListVersion{day("2021-01-01"), nil}, ListVersion{day("2021-01-01"), nil}); !errors.Is(err, ErrBadDate) {
		t.Errorf("two versions of one day: %v", err)
	}
	if err := NewSet().Add(Label{Chain: graph.Ethereum, Address: "0xA160cdAB225685dA1d56aa342Ad8841c3b53f291", Entity: "X", Category: CategoryMixer, Confidence: ConfidenceUnknown}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("non-canonical address accepted: %v", err)
	}
}

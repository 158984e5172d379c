package labels

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

// etherscanExchanges maps Etherscan's exchange label ids to the exchange's name.
var etherscanExchanges = map[string]string{
	"binance": "Binance", "binance-deposit": "Binance", "bitfinex": "Bitfinex", "bithumb": "Bithumb",
	"bitstamp": "Bitstamp", "bittrex": "Bittrex", "coinbase": "Coinbase", "crypto-com": "Crypto.com",
	"ftx": "FTX", "gate-io": "Gate.io", "gemini": "Gemini", "hitbtc": "HitBTC", "huobi": "Huobi",
	"kraken": "Kraken", "kucoin": "KuCoin", "okx": "OKX", "okex": "OKX", "poloniex": "Poloniex",
	"upbit": "Upbit", "bybit": "Bybit", "bitmex": "BitMEX", "bitget": "Bitget", "mexc": "MEXC",
	"gate": "Gate.io", "bitflyer": "bitFlyer", "coinone": "Coinone", "korbit": "Korbit",
}

// etherscanCategories maps the other Etherscan label ids this package gives a category.
var etherscanCategories = map[string]Category{
	"tornado-cash": CategoryMixer, "ethereum-mixer": CategoryMixer, "mixer": CategoryMixer,
	"bridge": CategoryBridge, "ofac-sanctions-lists": CategorySanctioned, "blocked": CategoryBlocked,
	"exchange": CategoryExchange, "dex": CategoryDeFi, "defi": CategoryDeFi,
	"hot-wallet": CategoryExchange, "cold-wallet": CategoryExchange, "fiat-gateway": CategoryExchange,
	"heist": CategoryActor, "exploiter": CategoryActor, "phish-hack": CategoryActor,
}

// etherscanLabel gives the category and entity an Etherscan label id implies, or ok=false
// when this package does not classify it.
func etherscanLabel(id, nameTag string) (cat Category, entity string, ok bool) {
	if e, ok := etherscanExchanges[id]; ok {
		return CategoryExchange, e, true
	}
	cat, ok = etherscanCategories[id]
	if !ok {
		return "", "", false
	}
	switch id {
	case "tornado-cash":
		entity = "Tornado Cash"
	case "hot-wallet", "cold-wallet", "fiat-gateway":
		// Generic labels: the owner is the name tag's first word ("Kraken 4" → Kraken).
		entity = firstWord(nameTag)
	default:
		entity = nameTag
	}
	if entity == "" {
		entity = "Etherscan " + id
	}
	return cat, entity, true
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " :"); i > 0 {
		return s[:i]
	}
	return s
}

// ParseEtherscanCSV reads one Etherscan label page as scraped by brianleect/etherscan-labels
// (header ",Address,Name Tag,Balance,Txn Count"): every row is an address carrying labelID
// (the file's name, e.g. "binance"). Exchanges get their exchange's name as entity; other
// classified ids (tornado-cash, bridge, ofac-sanctions-lists, …) the name tag; an unclassified
// id is CategoryOther. Confidence is opt.Confidence, default web_crawl (a label cloud scrape).
func ParseEtherscanCSV(r io.Reader, name, labelID string, opt Options) (*Batch, error) {
	return labelsOut(parseEtherscanCSV(r, name, labelID, opt, newBatch(nil)))
}

func parseEtherscanCSV(r io.Reader, name, labelID string, opt Options, b *Batch) (*Batch, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errAt(name, 0, fmt.Errorf("%w: empty file, no header row", ErrMalformed))
	}
	if err != nil {
		return nil, csvErr(name, err)
	}
	if len(header) < 3 || header[1] != "Address" || header[2] != "Name Tag" {
		return nil, errAt(name, 1, fmt.Errorf("%w: header %q is not Etherscan's \",Address,Name Tag,…\"", ErrMalformed, strings.Join(header, ",")))
	}
	conf := opt.Confidence
	if conf == "" {
		conf = ConfidenceWebCrawl
	}
	dd := newDedup(b.t, name)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		c := opt.Chain
		if c == "" {
			c = graph.Ethereum
		}
		addr, err := parseAddress(c, rec[1])
		if err != nil {
			if opt.SkipInvalid {
				b.warn(WarnInvalid, name, line, rec[1], "address left out: %v", err)
				continue
			}
			return nil, errAt(name, line, err)
		}
		tag := strings.TrimSpace(rec[2])
		cat, entity, ok := etherscanLabel(labelID, tag)
		if !ok {
			cat, entity = CategoryOther, opt.or(tag, "Etherscan "+labelID)
		}
		if opt.Category != "" {
			cat = opt.Category
		}
		l := Label{
			Chain: c, Address: addr, Entity: opt.or(opt.Entity, entity), Name: tag, Category: cat,
			Nexus: opt.Nexus, Incident: opt.Incident, Tags: []string{labelID}, Confidence: conf,
			Listed: opt.Listed,
			Source: Source{Document: opt.or(opt.Document, "Etherscan label "+labelID),
				URL: opt.or(opt.URL, "https://etherscan.io/accounts/label/"+labelID), File: name, Line: line},
		}
		if err := b.keep(dd, &l, line); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ParseEtherscanJSON reads brianleect/etherscan-labels' combined account labels: a JSON
// object address → {"name": …, "labels": […]}. An address gets one label per category its
// label ids imply (exchange ids → CategoryExchange with the exchange's name; see
// ParseEtherscanCSV); an address none of whose ids is classified gets one CategoryOther
// label named by its name tag. Labels come out in file order, each with the line of its key.
func ParseEtherscanJSON(r io.Reader, name string, opt Options) (*Batch, error) {
	return labelsOut(parseEtherscanJSON(r, name, opt, newBatch(nil)))
}

func parseEtherscanJSON(r io.Reader, name string, opt Options, b *Batch) (*Batch, error) {
	type entry struct {
		Name   string   `json:"name"`
		Labels []string `json:"labels"`
	}
	// The decoder reads ahead of the offsets it reports: lines tracks the newlines of what it
	// has read, so an offset's line is known without holding the file.
	lines := &lineCounter{r: r}
	dec := json.NewDecoder(lines)
	jsonErr := func(err error) error {
		var se *json.SyntaxError
		off := dec.InputOffset()
		if errors.As(err, &se) {
			off = se.Offset
		}
		if lines.err != nil && !errors.Is(err, lines.err) {
			err = fmt.Errorf("%w (read: %w)", err, lines.err)
		}
		return errAt(name, lines.lineAt(off), fmt.Errorf("%w: JSON: %w", ErrMalformed, err))
	}
	if tok, err := dec.Token(); err != nil {
		return nil, jsonErr(err)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errAt(name, lines.lineAt(dec.InputOffset()), fmt.Errorf("%w: JSON: top level is not an object", ErrMalformed))
	}
	conf := opt.Confidence
	if conf == "" {
		conf = ConfidenceWebCrawl
	}
	c := opt.Chain
	if c == "" {
		c = graph.Ethereum
	}
	doc := opt.or(opt.Document, "Etherscan label cloud ("+filepath.Base(name)+")")
	type first struct {
		key  string
		line int
		e    entry
	}
	seen := map[graph.Address]first{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		k, _ := tok.(string) // object keys are always strings
		// Offsets only grow: count the newlines since the previous key, not from the start.
		line := lines.lineAt(dec.InputOffset())
		var v entry
		if err := dec.Decode(&v); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) { // its offset is not absolute in a stream: use the key's line
				return nil, errAt(name, line, fmt.Errorf("%w: JSON: %w", ErrMalformed, err))
			}
			return nil, jsonErr(err)
		}
		addr, err := parseAddress(c, k)
		if err != nil {
			if opt.SkipInvalid {
				b.warn(WarnInvalid, name, line, k, "address left out: %v", err)
				continue
			}
			return nil, errAt(name, line, err)
		}
		if prev, dup := seen[addr]; dup {
			if prev.e.Name == v.Name && equalStringSlices(prev.e.Labels, v.Labels) {
				b.warn(WarnDuplicate, name, line, k, "%s again (first on line %d); kept the first", addr, prev.line)
				continue
			}
			return nil, errAt(name, line, fmt.Errorf("%w: %s is %q %v here but %q %v on line %d", ErrConflictingEntity, addr, v.Name, v.Labels, prev.e.Name, prev.e.Labels, prev.line))
		}
		seen[addr] = first{k, line, v}
		ids := append([]string(nil), v.Labels...)
		emitted := map[Category]bool{}
		for _, id := range ids {
			cat, entity, ok := etherscanLabel(id, v.Name)
			if !ok || emitted[cat] {
				continue
			}
			emitted[cat] = true
			b.put(&Label{
				Chain: c, Address: addr, Entity: entity, Name: v.Name, Category: cat, Nexus: opt.Nexus,
				Incident: opt.Incident, Tags: ids, Confidence: conf, Listed: opt.Listed,
				Source: Source{Document: doc, URL: opt.or(opt.URL, "https://etherscan.io/accounts/label/"+id), File: name, Line: line},
			})
		}
		if len(emitted) == 0 {
			entity := v.Name
			if entity == "" {
				entity = "Etherscan " + strings.Join(ids, "/")
			}
			if strings.TrimSpace(entity) == "Etherscan" {
				entity = "Etherscan (unlabelled)"
			}
			b.put(&Label{
				Chain: c, Address: addr, Entity: entity, Name: v.Name, Category: CategoryOther, Nexus: opt.Nexus,
				Incident: opt.Incident, Tags: ids, Confidence: conf, Listed: opt.Listed,
				Source: Source{Document: doc, URL: opt.URL, File: name, Line: line},
			})
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errAt(name, lines.lineAt(dec.InputOffset()), fmt.Errorf("%w: JSON: data after the object", ErrMalformed))
	}
	return b, nil
}

func equalStringSlices(a, b []string) bool {
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

// lineCounter reads through r and gives the 1-based line of a byte offset the reader has
// reached, in linear total time: it keeps the offsets of the newlines read but not yet
// passed by a query, not the data. Offsets asked must not decrease (a smaller one gets the
// line of the largest asked so far).
type lineCounter struct {
	r      io.Reader
	read   int64   // bytes read from r
	nl     []int64 // offsets of newlines at or after the last offset asked
	passed int     // newlines before it
	err    error   // r's error other than io.EOF
}

func (lc *lineCounter) Read(p []byte) (int, error) {
	n, err := lc.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		lc.nl = append(lc.nl, lc.read+int64(i+j))
		i += j + 1
	}
	lc.read += int64(n)
	if err != nil && err != io.EOF {
		lc.err = err
	}
	return n, err
}

func (lc *lineCounter) lineAt(off int64) int {
	k := 0
	for k < len(lc.nl) && lc.nl[k] < off {
		k++
	}
	lc.passed += k
	lc.nl = lc.nl[k:]
	return lc.passed + 1
}

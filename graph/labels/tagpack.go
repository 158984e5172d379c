package labels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Actor is one entry of a GraphSense ActorPack: an id the TagPacks' "actor" field refers to.
type Actor struct {
	ID            string   `json:"id"`
	Label         string   `json:"label"` // display name: "Lazarus Group", "Binance"
	Categories    []string `json:"categories,omitempty"`
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	URI           string   `json:"uri,omitempty"`
	Aliases       []string `json:"aliases,omitempty"`
	File          string   `json:"file,omitempty"`
	Line          int      `json:"line,omitempty"`
}

// actorNexus records the state nexus of GraphSense actors where the ActorPack itself has none:
// lazarusgroup's entry cites Treasury's 2019 designation of North Korean state-sponsored
// groups (press release sm774) but lists no jurisdiction.
var actorNexus = map[string]string{"lazarusgroup": NexusDPRK}

// TagPack fields this package reads or knows to be harmless; others give a warning.
var tagPackHeaderFields = map[string]bool{
	"title": true, "creator": true, "description": true, "owner": true, "is_public": true, "tags": true, "header": true,
}

var tagFields = map[string]bool{
	"label": true, "source": true, "currency": true, "network": true, "context": true, "confidence": true,
	"is_cluster_definer": true, "lastmod": true, "category": true, "abuse": true, "address": true,
	"tx_hash": true, "actor": true, "concepts": true, "tag_type": true,
}

// tokenLabelRE matches Etherscan's token contract names, "Name (TICKER)": GraphSense's
// exchange label-cloud pack lists exchanges' tokens beside their wallets.
var tokenLabelRE = regexp.MustCompile(`\([^()]+\)\s*$`)

type yamlField struct {
	node *yaml.Node
	file string
}

// TagPackHeader is a header.yaml: fields every TagPack in its directory (and below) inherits.
type TagPackHeader struct {
	File   string
	fields map[string]yamlField
}

func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return errAt(name, yamlErrLine(te.Errors[0]), fmt.Errorf("%w: YAML: %s", ErrMalformed, strings.Join(te.Errors, "; ")))
	}
	return errAt(name, yamlErrLine(err.Error()), fmt.Errorf("%w: YAML: %w", ErrMalformed, err))
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(msg string) int {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
		if n > 1<<30 {
			return 0
		}
	}
	return n
}

// parseYAMLMapping decodes one YAML document whose top level must be a mapping.
func parseYAMLMapping(r io.Reader, name string) (*yaml.Node, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, errAt(name, 0, fmt.Errorf("%w: read: %w", ErrMalformed, err))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		line := 1
		if len(doc.Content) == 1 {
			line = doc.Content[0].Line
		}
		return nil, errAt(name, line, fmt.Errorf("%w: top level is not a mapping", ErrMalformed))
	}
	return doc.Content[0], nil
}

// mappingFields lists a mapping node's keys and values; a repeated key is an error.
func mappingFields(n *yaml.Node, name string) ([]string, map[string]yamlField, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil, errAt(name, n.Line, fmt.Errorf("%w: expected a mapping", ErrMalformed))
	}
	var keys []string
	m := map[string]yamlField{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, nil, errAt(name, k.Line, fmt.Errorf("%w: non-scalar key", ErrMalformed))
		}
		if _, dup := m[k.Value]; dup {
			return nil, nil, errAt(name, k.Line, fmt.Errorf("%w: key %q repeated", ErrMalformed, k.Value))
		}
		keys = append(keys, k.Value)
		m[k.Value] = yamlField{v, name}
	}
	return keys, m, nil
}

// scalar returns a field's text, or an error naming its line when it is not a scalar.
func scalar(f yamlField, key string) (string, error) {
	if f.node == nil {
		return "", nil
	}
	if f.node.Kind == yaml.AliasNode && f.node.Alias != nil {
		f.node = f.node.Alias
	}
	if f.node.Kind != yaml.ScalarNode {
		return "", errAt(f.file, f.node.Line, fmt.Errorf("%w: %s must be a single value", ErrMalformed, key))
	}
	if f.node.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(f.node.Value), nil
}

// ParseTagPackHeader reads a header.yaml.
func ParseTagPackHeader(r io.Reader, name string) (*TagPackHeader, error) {
	top, err := parseYAMLMapping(r, name)
	if err != nil {
		return nil, err
	}
	_, m, err := mappingFields(top, name)
	if err != nil {
		return nil, err
	}
	if t, ok := m["tags"]; ok {
		return nil, errAt(name, t.node.Line, fmt.Errorf("%w: a header file has no tags", ErrMalformed))
	}
	return &TagPackHeader{File: name, fields: m}, nil
}

// ParseTagPack reads a GraphSense TagPack: header fields (title, creator, …) and tag fields
// given at the top level are inherited by every tag; hdr (a header.yaml, may be nil) is
// inherited below both. A "header:" key holding a mapping is merged into the top level, and
// "header: !include header.yaml" stands for hdr, as in graphsense-tagpack-tool.
//
// Each tag with an address becomes a label: chain from network or currency (BTC → bitcoin,
// ETH → ethereum; other currencies skipped with a warning), Entity from the actor (its
// ActorPack label when opt.Actors has it), Name the tag's label, Category from abuse
// (sanction → sanctioned, any other → actor) or category (exchange, mixing_service → mixer,
// …), Confidence from the taxonomy, Listed from lastmod. Tags with only a tx_hash, and
// exchange-category tags whose label names a token contract ("Name (TKR)"), are skipped with
// a warning. A malformed address, unknown confidence or malformed YAML is an error naming
// the file and line.
func ParseTagPack(r io.Reader, name string, hdr *TagPackHeader, opt Options) (*Batch, error) {
	return labelsOut(parseTagPack(r, name, hdr, opt, newBatch(nil)))
}

func parseTagPack(r io.Reader, name string, hdr *TagPackHeader, opt Options, b *Batch) (*Batch, error) {
	top, err := parseYAMLMapping(r, name)
	if err != nil {
		return nil, err
	}
	keys, pack, err := mappingFields(top, name)
	if err != nil {
		return nil, err
	}
	if h, ok := pack["header"]; ok {
		delete(pack, "header")
		switch {
		case h.node.Kind == yaml.MappingNode:
			hk, hm, err := mappingFields(h.node, name)
			if err != nil {
				return nil, err
			}
			for _, k := range hk {
				if _, dup := pack[k]; dup {
					return nil, errAt(name, hm[k].node.Line, fmt.Errorf("%w: %q both in header and at top level", ErrMalformed, k))
				}
				pack[k] = hm[k]
				keys = append(keys, k)
			}
		case h.node.Tag == "!include":
			if hdr == nil {
				return nil, errAt(name, h.node.Line, fmt.Errorf("%w: header !include %s: a TagPack read as one file does not read the header file it includes: write the header's fields into this file (or, in Go, load the pack's directory with LoadTagPackDir)", ErrMalformed, h.node.Value))
			}
		default:
			return nil, errAt(name, h.node.Line, fmt.Errorf("%w: header must be a mapping or !include", ErrMalformed))
		}
	}
	// inherited returns a field from the pack, else from the header file.
	inherited := func(k string) yamlField {
		if f, ok := pack[k]; ok {
			return f
		}
		if hdr != nil {
			if f, ok := hdr.fields[k]; ok {
				return f
			}
		}
		return yamlField{}
	}
	var unknown []string
	for _, k := range keys {
		if !tagPackHeaderFields[k] && !tagFields[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		b.warn(WarnIgnoredField, name, top.Line, "", "fields %s are not TagPack fields; ignored", strings.Join(unknown, ", "))
	}
	for _, req := range []string{"title", "creator"} {
		if s, err := scalar(inherited(req), req); err != nil {
			return nil, err
		} else if s == "" {
			return nil, errAt(name, top.Line, fmt.Errorf("%w: mandatory header field %s missing", ErrMalformed, req))
		}
	}
	title, _ := scalar(inherited("title"), "title")
	creator, _ := scalar(inherited("creator"), "creator")
	tagsF, ok := pack["tags"]
	if !ok {
		return nil, errAt(name, top.Line, fmt.Errorf("%w: no tags", ErrMalformed))
	}
	if tagsF.node.Kind != yaml.SequenceNode {
		return nil, errAt(name, tagsF.node.Line, fmt.Errorf("%w: tags must be a list", ErrMalformed))
	}
	dd := newDedup(b.t, name)
	defaultedConf := false
	for _, tn := range tagsF.node.Content {
		line := tn.Line
		tkeys, tag, err := mappingFields(tn, name)
		if err != nil {
			return nil, err
		}
		for _, k := range tkeys {
			if !tagFields[k] {
				b.warn(WarnIgnoredField, name, tag[k].node.Line, "", "field %s is not a tag field; ignored", k)
			}
		}
		get := func(k string) (string, error) {
			if f, ok := tag[k]; ok {
				return scalar(f, k)
			}
			return scalar(inherited(k), k)
		}
		var v = map[string]string{}
		for _, k := range []string{"address", "tx_hash", "currency", "network", "label", "source", "confidence", "category", "abuse", "actor", "lastmod"} {
			if v[k], err = get(k); err != nil {
				return nil, err
			}
		}
		raw := v["address"]
		if raw == "" {
			if v["tx_hash"] != "" {
				b.warn(WarnSkipped, name, line, "", "tag on transaction %s: only address tags are labels", v["tx_hash"])
				continue
			}
			return nil, errAt(name, line, fmt.Errorf("%w: tag has neither address nor tx_hash", ErrMalformed))
		}
		code := v["network"]
		if code == "" {
			code = v["currency"]
		}
		if code == "" {
			return nil, errAt(name, line, fmt.Errorf("%w: tag %s has no currency or network", ErrMalformed, raw))
		}
		c, skip, err := resolveChain(code, raw, false)
		if err != nil {
			return nil, errAt(name, line, err)
		}
		if skip != "" {
			b.warn(WarnSkipped, name, line, raw, "%s", skip)
			continue
		}
		addr, err := parseAddress(c, raw)
		if err != nil {
			if opt.SkipInvalid {
				b.warn(WarnInvalid, name, line, raw, "address left out: %v", err)
				continue
			}
			return nil, errAt(name, line, err)
		}
		cat := tagPackCategory(v["category"], v["abuse"])
		if cat == "" {
			cat = opt.Category
		}
		if cat == "" {
			cat = CategoryOther
		}
		if cat == CategoryExchange && tokenLabelRE.MatchString(v["label"]) {
			b.warn(WarnSkipped, name, line, raw, "label %q names a token contract, not an exchange wallet", v["label"])
			continue
		}
		conf := opt.Confidence
		if v["confidence"] != "" {
			if conf, err = ParseConfidence(v["confidence"]); err != nil {
				return nil, errAt(name, line, err)
			}
		} else if conf == "" {
			conf = ConfidenceUnknown // tagpack-tool's default: the lowest level
			if !defaultedConf {
				b.warn(WarnDefaulted, name, line, raw, "no confidence: tags without one are %q", conf)
				defaultedConf = true
			}
		}
		actor := v["actor"]
		entity := opt.Entity
		if a, ok := opt.Actors[actor]; ok && actor != "" && a.Label != "" {
			entity = a.Label
		} else if actor != "" && entity == "" {
			entity = actor
		}
		if entity == "" {
			entity = v["label"]
		}
		if entity == "" {
			entity = title
		}
		nexus := opt.Nexus
		if nexus == "" {
			nexus = actorNexus[actor]
		}
		var tags []string
		for _, t := range []string{v["category"], v["abuse"]} {
			if t != "" {
				tags = append(tags, t)
			}
		}
		doc := title + " (" + creator + ")"
		url := v["source"]
		if url != "" && !strings.Contains(url, "://") {
			doc, url = doc+": "+url, ""
		}
		l := Label{
			Chain: c, Address: addr, Entity: entity, EntityID: actor, Name: v["label"], Category: cat,
			Nexus: nexus, Incident: opt.Incident, Tags: tags, Confidence: conf, Listed: opt.Listed,
			Source: Source{Document: opt.or(opt.Document, doc), URL: opt.or(url, opt.URL), File: name, Line: line},
		}
		if t, err := readDate(b, &l, name, line, "lastmod", v["lastmod"]); err != nil {
			return nil, err
		} else if !t.IsZero() {
			l.Listed = t
		}
		if err := b.keep(dd, &l, line); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// tagPackCategory maps GraphSense's category and abuse concepts to a Category ("" when
// neither says: "user" and "organization" describe nobody in particular).
func tagPackCategory(category, abuse string) Category {
	switch abuse = strings.ToLower(abuse); {
	case abuse == "sanction":
		return CategorySanctioned
	case abuse != "":
		return CategoryActor // service_hack, ransomware, phishing, scam, …
	}
	switch c := strings.ToLower(category); {
	case c == "exchange":
		return CategoryExchange
	case c == "mixing_service" || c == "coinjoin":
		return CategoryMixer
	case c == "bridge" || c == "defi_bridge":
		return CategoryBridge
	case strings.HasPrefix(c, "defi"):
		return CategoryDeFi
	case c == "wallet_service" || c == "service" || c == "payment_processor" || c == "faucet" || c == "hosted_wallet":
		return CategoryService
	case c == "gambling":
		return CategoryGambling
	case c == "miner" || c == "mining_service" || c == "mining_pool":
		return CategoryMiner
	case c == "market" || c == "shop":
		return CategoryMarket
	case c == "black_list":
		return CategoryBlocked
	}
	return ""
}

// ParseActorPack reads a GraphSense ActorPack and returns its actors by id and by alias.
// A repeated id is an error naming both lines.
func ParseActorPack(r io.Reader, name string) (map[string]Actor, error) {
	top, err := parseYAMLMapping(r, name)
	if err != nil {
		return nil, err
	}
	_, m, err := mappingFields(top, name)
	if err != nil {
		return nil, err
	}
	af, ok := m["actors"]
	if !ok || af.node.Kind != yaml.SequenceNode {
		return nil, errAt(name, top.Line, fmt.Errorf("%w: no actors list", ErrMalformed))
	}
	out := map[string]Actor{}
	byID := map[string]int{}
	for _, an := range af.node.Content {
		_, f, err := mappingFields(an, name)
		if err != nil {
			return nil, err
		}
		a := Actor{File: name, Line: an.Line}
		if a.ID, err = scalar(f["id"], "id"); err != nil {
			return nil, err
		}
		if a.ID == "" {
			return nil, errAt(name, an.Line, fmt.Errorf("%w: actor without id", ErrMalformed))
		}
		if prev, dup := byID[a.ID]; dup {
			return nil, errAt(name, an.Line, fmt.Errorf("%w: actor id %q again (first on line %d)", ErrMalformed, a.ID, prev))
		}
		byID[a.ID] = an.Line
		if a.Label, err = scalar(f["label"], "label"); err != nil {
			return nil, err
		}
		if a.URI, err = scalar(f["uri"], "uri"); err != nil {
			return nil, err
		}
		if a.Categories, err = scalarList(f["categories"], "categories"); err != nil {
			return nil, err
		}
		if a.Jurisdictions, err = scalarList(f["jurisdictions"], "jurisdictions"); err != nil {
			return nil, err
		}
		if a.Aliases, err = scalarList(f["aliases"], "aliases"); err != nil {
			return nil, err
		}
		out[a.ID] = a
	}
	// Aliases resolve too, but never shadow a real id.
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, al := range out[id].Aliases {
			if _, taken := out[al]; !taken {
				out[al] = out[id]
			}
		}
	}
	return out, nil
}

func scalarList(f yamlField, key string) ([]string, error) {
	if f.node == nil || f.node.Tag == "!!null" {
		return nil, nil
	}
	if f.node.Kind != yaml.SequenceNode {
		return nil, errAt(f.file, f.node.Line, fmt.Errorf("%w: %s must be a list", ErrMalformed, key))
	}
	var out []string
	for _, n := range f.node.Content {
		s, err := scalar(yamlField{n, f.file}, key)
		if err != nil {
			return nil, err
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// LoadActorPack is ParseActorPack on a file (gzip-compressed if it ends in .gz).
func LoadActorPack(ctx context.Context, path string) (map[string]Actor, error) {
	var out map[string]Actor
	err := withFile(ctx, path, func(r io.Reader, _ string) error {
		var err error
		out, err = ParseActorPack(r, path)
		return err
	})
	return out, err
}

// LoadTagPackDir reads every TagPack (*.yaml, *.yml) under dir, as graphsense-tagpack-tool
// does: each inherits the header.yaml of the closest directory above it (within dir);
// ActorPacks (*actorpack.yaml) and config.yaml are not TagPacks and are left out. Files are
// read in path order; the labels of all of them come back in one batch.
func LoadTagPackDir(ctx context.Context, dir string, opt Options) (*Batch, error) {
	return labelsOut(loadTagPackDir(ctx, dir, opt, newBatch(nil)))
}

func loadTagPackDir(ctx context.Context, dir string, opt Options, out *Batch) (*Batch, error) {
	var files []string
	headers := map[string]string{} // directory → its header.yaml
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		base := d.Name()
		switch {
		case base == "header.yaml":
			headers[filepath.Dir(p)] = p
		case strings.HasSuffix(base, "actorpack.yaml") || base == "config.yaml":
		case strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml"):
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	parsed := map[string]*TagPackHeader{}
	root := filepath.Clean(dir)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var hdr *TagPackHeader
		for d := filepath.Dir(f); ; d = filepath.Dir(d) {
			if hp, ok := headers[d]; ok {
				if hdr = parsed[hp]; hdr == nil {
					data, err := os.ReadFile(hp)
					if err != nil {
						return nil, err
					}
					if hdr, err = ParseTagPackHeader(bytes.NewReader(data), hp); err != nil {
						return nil, err
					}
					parsed[hp] = hdr
				}
				break
			}
			if d == root || d == filepath.Dir(d) {
				break
			}
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, err := parseTagPack(bytes.NewReader(data), f, hdr, opt, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

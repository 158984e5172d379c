// Package labels says who owns an address, and why we think so: attribution with provenance.
//
// A Label ties one canonical address (graph.ParseAddress) to an entity ("LAZARUS GROUP",
// "Binance"), a Category (actor, sanctioned, exchange, mixer, bridge, …), the Source that
// says so (document, URL, file and line it was read from), a GraphSense Confidence
// (authority_data, service_data, forensic, …), the date it became known (Listed) and, where
// the source says so, the date it was withdrawn (a delisting). Labels also carry the state
// Nexus (NexusDPRK), sanctions Programs (DPRK3, CYBER2, …) and the Incident whose name a
// seed's taint carries (bybit-2025, ronin-2022, …).
//
// # Loaders
//
// Each loader reads one input and returns a Batch: its labels in file order and a list of
// Warnings for recoverable problems (a row on a chain chaintrace does not model, a
// duplicate, an imprecise date, OFAC remarks cut with no continuation). Bad input — a
// malformed address, a failed EIP-55 or Base58Check/bech32 checksum, an unknown chain,
// category or confidence, a bad date, malformed YAML or CSV, the same address with another
// entity in one source — is a *ParseError naming file and line and wrapping a sentinel
// (ErrBadAddress, ErrUnknownChain, …; errors.Is also finds graph.ErrBadChecksum).
//
//   - ParseSDN / LoadSDN: OFAC's sdn.csv joined on ent_num with sdn_comments.csv (remarks are
//     cut at 1,000 characters and continue there), "Digital Currency Address - XBT/ETH/USDT/…"
//     extracted; other currencies skipped with a warning.
//   - ParseCSV: attribution lists with a header — the FBI and researcher files
//     (chain,address,actor,source,source_date,source_url,role), OFAC Ethereum lists
//     ([date_added,]address,name), and this package's own format (WriteCSV), which the
//     curated sets use. Columns are found by name: chain|network, address, entity|actor|name,
//     entity_id|ent_num, name|tag|label (the source's tag text, when an entity column exists),
//     category, nexus, programs, incident, role, tags, confidence, source|document,
//     source_url|url, listed|source_date|date_added|date, withdrawn|delisted.
//   - ParseTagPack / LoadTagPackDir: GraphSense TagPacks (header fields inherited by tags, a
//     header.yaml inherited by the packs below it, "header: !include"), address tags only;
//     ParseActorPack / LoadActorPack: GraphSense ActorPacks (actor id → name).
//   - ParseEtherscanCSV, ParseEtherscanJSON: Etherscan label pages and the combined label cloud
//     as scraped by brianleect/etherscan-labels. ParsePlainList: one address per line.
//   - LoadFile picks the parser by file name (and decompresses ".gz"); a .csv in OFAC's
//     headerless sdn.csv layout is read with ParseSDN, alone (without its comments file,
//     entries whose remarks OFAC cut are warned of).
//
// Set.ReadFile and Set.Read read any of these (sdn.csv alone; Set.ReadSDN the pair) straight into a Set as they
// parse, in its compact form (a 32-byte record a label, the strings it shares with other
// labels interned): a million-row list loads in a few seconds and well under 100 MB, and
// a file that fails is refused at its first bad line and leaves the set as it was.
// PERFORMANCE.md has the figures. Error messages quote at most a short escaped excerpt of
// the bad input.
//
// # Queries
//
// A Set holds labels from many sources. LabelsOf answers "who is behind this address on this
// day" (Label.ActiveAt: listed on or before the day, not yet withdrawn). Seeds returns one
// Seed{Chain, Address, Source} per address matching a SeedQuery (a nexus, a sanctions
// program, an entity or an incident), the source being the label's incident or else its
// entity (one source per incident or per actor) — SeedQuery.Only limits it to the
// addresses a block window touches (Set.Has tests one); Sinks returns map[entity][]graph.Address
// for a category, the shape of trace.Config's Exchanges. An address that is both an
// exchange and sanctioned or a threat actor's is never guessed: it is left out of both and
// reported as a Conflict (Set.Conflicts lists them all).
//
// Versioned merges dated snapshots of one list (OFAC's Ethereum addresses on 2024-08-20, and
// now) into labels with listing and withdrawal dates, so as-of queries follow the list's
// history (Tornado Cash: designated 2022-08-08, gone from the current list).
//
// # Curated sets and persistence
//
// Package bundled (graph/labels/bundled) embeds two versioned sets built from the real files in
// testdata/labels by curated_test.go (go test -run TestCurated -update regenerates them;
// the test fails if they drift from their sources): dprk-seeds-v1.csv (OFAC, FBI and
// researcher attributions) and exchanges-v1.csv, each loaded with one call: LoadSet. Set.Save and LoadStore
// persist a set in any RecordStore — graph.Store in practice — as versioned JSON records.
//
// Package labels depends on graph only; package trace may use it, never the reverse.
package labels

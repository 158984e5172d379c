// Command trace is chaintrace's main program: the investigator's run from chain data and
// attributions to exposure per exchange, evidence and pictures.
//
// With no flags it needs no network and no server: it plays the bundled case — a
// SIMULATION of a Bybit-style theft (package simcase): ETH and tokens stolen on Ethereum,
// swapped, unwrapped and sent through THORChain to Bitcoin, then peeled into exchange
// deposits — on an in-process Ethereum dev chain and Bitcoin regtest chain, ingests both
// over JSON-RPC into a badger store, loads the curated DPRK seed set, the curated exchange
// set and the case's own labels, finds the swaps, wraps and THORChain swaps in the blocks,
// traces both chains as one history with every method (taint crosses from Ethereum to
// Bitcoin through the THORChain link), prints the exposure per exchange, asset and method
// with one evidence path per exchange, and writes to -out
// (default ./chaintrace-out) report.json, deposits.csv, flow-<chain>.dot, flow-<chain>.svg
// and report.html.
//
//	go run ./examples/trace
//	go run ./examples/trace -method fifo -max-hops 4 -out /tmp/case
//
// With a data source it traces real data the same way:
//
//	go run ./examples/trace -eth-rpc http://127.0.0.1:8545 -from 21895000 -to 21896000 -store ./eth.db
//	go run ./examples/trace -btc-rpc http://user:pass@127.0.0.1:8332 -from 840000 -to 840010
//	go run ./examples/trace -btc-blocks ~/.bitcoin/blocks -to 200000
//	go run ./examples/trace -etl ./export -labels my-labels.csv -actor lazarus -as-of 2025-03-01
//
// -btc-blocks without -store streams the blk files straight into the trace (no store); every
// method's engine takes each block in one pass. The engines keep their evidence records in a
// temporary directory (trace.Engine.RecordTo), so that memory follows the live tainted
// state, not the length of the history.
//
// -verify-store DIR checks a store kept with -store (graph.Store.Verify) and exits: 0 when
// it is consistent; 1, with what to do, when it is not (remove it and ingest again).
//
//	go run ./examples/trace -verify-store ./eth.db
//
// Progress (height, blocks/s, ETA) is shown on a terminal; -q silences it. Bad flags, an
// unreachable node or an unreadable file end the run with one line on stderr and a non-zero
// exit status (2 for bad flags, 1 otherwise).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/examples/trace/simcase"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/graph/labels/bundled"
	"github.com/chaintrace/chaintrace/graph/linkfile"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/report"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func main() {
	// SIGTERM too ends the run through its deferred clean-up (the temporary store).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := cpuProfile()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// cpuProfile writes a CPU profile of the run to $CHAINTRACE_CPUPROFILE when it is set (for
// measuring: trace/PERFORMANCE.md); it returns the function that ends it.
func cpuProfile() func() {
	path := os.Getenv("CHAINTRACE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "trace: CHAINTRACE_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// heapProfile writes a heap profile to $CHAINTRACE_MEMPROFILE when it is set: called once
// the results are built, when the most is live.
func heapProfile() {
	path := os.Getenv("CHAINTRACE_MEMPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "trace: CHAINTRACE_MEMPROFILE: %v\n", err)
	}
}

// Bundled label sets, relative to the repository root.

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

type heightFlag struct {
	v   uint64
	set bool
}

func (h *heightFlag) String() string { return strconv.FormatUint(h.v, 10) }
func (h *heightFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not a block height: %q", s)
	}
	h.v, h.set = v, true
	return nil
}

type options struct {
	ethRPC, btcRPC, btcBlocks, etlDir, btcNet string
	from, to                                  heightFlag
	btcFrom, btcTo                            heightFlag // Bitcoin's, when it differs (-btc-from/-btc-to); default -from/-to
	labelFiles                                listFlag
	linkFiles                                 listFlag
	actor, method, minTaint, asOf             string
	entity                                    string // owner of plain address lists' addresses
	maxHops                                   int
	store, out                                string
	quiet                                     bool
	verifyStore                               string

	methods   []string
	minTaintV graph.Amount
	asOfV     time.Time
	sim       bool
}

// usageError is a bad flag: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.ethRPC, "eth-rpc", "", "trace Ethereum from this JSON-RPC endpoint (http://, ws://, IPC path)")
	fs.StringVar(&o.btcRPC, "btc-rpc", "", "trace Bitcoin from this btcd/bitcoind JSON-RPC endpoint: http://user:pass@host:port")
	fs.StringVar(&o.btcBlocks, "btc-blocks", "", "trace Bitcoin from a Bitcoin Core blocks directory (blk*.dat)")
	fs.StringVar(&o.btcNet, "btc-net", "mainnet", "Bitcoin network of -btc-rpc/-btc-blocks: mainnet, testnet, testnet4, signet, regtest")
	fs.StringVar(&o.etlDir, "etl", "", "trace a blockchain-etl export directory (blocks, transactions, receipts, traces, logs or token_transfers; .csv/.json/.jsonl, optionally .gz)")
	fs.Var(&o.from, "from", "first block height to ingest and trace")
	fs.Var(&o.to, "to", "last block height to ingest and trace (default: the source's tip)")
	fs.Var(&o.btcFrom, "btc-from", "Bitcoin's first block height when it is traced beside another chain, whose heights -from/-to give (default: -from)")
	fs.Var(&o.btcTo, "btc-to", "Bitcoin's last block height when it is traced beside another chain (default: -to)")
	fs.Var(&o.labelFiles, "labels", "label files (repeat or comma-separate); default: the bundled curated DPRK seed and exchange sets")
	fs.Var(&o.linkFiles, "links", "declared links (CSV or JSON, graph/linkfile): swaps, bridges and THORChain swaps the blocks do not show, legs on any traced chain (repeat or comma-separate)")
	fs.StringVar(&o.entity, "entity", "", "whose addresses the plain address lists (.txt, one address a line) among -labels hold: they become that actor's, seeded with -actor NAME")
	fs.StringVar(&o.actor, "actor", "", "seed only this attributed actor, incident or sanctions program (e.g. lazarus, bybit-2025, DPRK3); default: every DPRK-attributed label")
	fs.StringVar(&o.method, "method", "all", "taint method: poison, haircut, fifo, lifo, tiho (UTXO), seniority (account), or all")
	fs.IntVar(&o.maxHops, "max-hops", -1, "prune taint beyond this many hops (default: unlimited)")
	fs.StringVar(&o.minTaint, "min-taint", "0", "prune taint below this many base units per movement and source (0 = off)")
	fs.StringVar(&o.asOf, "as-of", "", "read the labels as of this date (YYYY-MM-DD); default: ignoring dates")
	fs.StringVar(&o.store, "store", "", "keep the badger store in this directory (default: -btc-blocks streams the blk files into the trace without a store; the other sources use a temporary one, removed at the end, or by the next run if this one is killed)")
	fs.StringVar(&o.out, "out", "chaintrace-out", "directory for report.json, deposits.csv, flow-*.dot/.svg and report.html")
	fs.BoolVar(&o.quiet, "q", false, "no progress display")
	fs.StringVar(&o.verifyStore, "verify-store", "", "check the badger store in this directory (every block, outpoint and address index entry) and exit: 0 when consistent, 1 when not")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: go run ./examples/trace [flags]   (no flags: the bundled simulated case)")
			fs.PrintDefaults()
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected argument %q (all inputs are flags)", fs.Arg(0))}
	}
	if o.verifyStore != "" {
		others := false
		fs.Visit(func(f *flag.Flag) { others = others || (f.Name != "verify-store" && f.Name != "q") })
		if others {
			return nil, usageError{"-verify-store checks a store and exits: give it alone (or with -q)"}
		}
		return o, nil
	}
	sources := 0
	for _, s := range []string{o.ethRPC, o.btcRPC, o.btcBlocks, o.etlDir} {
		if s != "" {
			sources++
		}
	}
	if o.btcRPC != "" && o.btcBlocks != "" {
		return nil, usageError{"-btc-rpc and -btc-blocks both give Bitcoin blocks: use one"}
	}
	if o.etlDir != "" && sources > 1 {
		// An export holds one chain; with another source of blocks for it the two would
		// fill one store with two histories.
		return nil, usageError{"-etl reads its chain from the export: give it without -eth-rpc, -btc-rpc or -btc-blocks (one source per run)"}
	}
	o.sim = sources == 0
	if o.from.set && o.to.set && o.from.v > o.to.v {
		return nil, usageError{fmt.Sprintf("-from %d is above -to %d", o.from.v, o.to.v)}
	}
	if (o.btcFrom.set || o.btcTo.set) && o.btcRPC == "" && o.btcBlocks == "" {
		return nil, usageError{"-btc-from/-btc-to apply to a Bitcoin source (-btc-rpc, -btc-blocks)"}
	}
	if !o.btcFrom.set {
		o.btcFrom.v = o.from.v
	}
	if !o.btcTo.set {
		o.btcTo = o.to
	}
	if o.btcTo.set && o.btcFrom.v > o.btcTo.v {
		return nil, usageError{fmt.Sprintf("Bitcoin's first height %d is above its last %d (-btc-from/-btc-to, or -from/-to)", o.btcFrom.v, o.btcTo.v)}
	}
	if o.sim && (o.from.set || o.to.set) {
		return nil, usageError{"-from/-to apply to a data source (-eth-rpc, -btc-rpc, -btc-blocks, -etl); the simulated case is always played whole"}
	}
	if o.method != "all" {
		if _, err := trace.MethodByName(o.method); err != nil {
			return nil, usageError{fmt.Sprintf("-method %q: want poison, haircut, fifo, lifo, tiho, seniority or all", o.method)}
		}
	}
	v, err := graph.ParseAmount(o.minTaint)
	if err != nil {
		return nil, usageError{fmt.Sprintf("-min-taint %q: not a non-negative integer number of base units", o.minTaint)}
	}
	o.minTaintV = v
	if o.maxHops < -1 {
		return nil, usageError{fmt.Sprintf("-max-hops %d: must be 0 or more", o.maxHops)}
	}
	if o.asOf != "" {
		t, err := time.Parse("2006-01-02", o.asOf)
		if err != nil {
			return nil, usageError{fmt.Sprintf("-as-of %q: want a date YYYY-MM-DD", o.asOf)}
		}
		o.asOfV = t
	}
	if o.out == "" {
		return nil, usageError{"-out must name a directory"}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "trace: %s (see -help)\n", ue.msg)
		return 2
	}
	if o.verifyStore != "" {
		if err := verifyStore(ctx, o.verifyStore, stdout); err != nil {
			fmt.Fprintf(stderr, "trace: %s\n", oneLine(err))
			return 1
		}
		return 0
	}
	if err := investigate(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "trace: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// verifyStore runs graph.Store.Verify on every chain of the store in dir and says what to
// do when it fails: the store's blocks are a copy of chain data, so a damaged store is
// rebuilt, not repaired.
func verifyStore(ctx context.Context, dir string, stdout io.Writer) error {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return fmt.Errorf("-verify-store %s: not a directory", dir)
	}
	// Opening a directory makes a store in it: refuse one that holds none (a mistyped path).
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		return fmt.Errorf("-verify-store %s: no badger store there (no MANIFEST file)", dir)
	}
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: dir})
	if err != nil {
		return fmt.Errorf("-verify-store %s: cannot open the store: %w; %s", dir, err, rebuildAdvice(dir))
	}
	defer st.Close()
	checked := 0
	for _, c := range []graph.Chain{graph.Bitcoin, graph.Ethereum} {
		rep, err := st.Verify(ctx, c)
		if err != nil {
			return fmt.Errorf("-verify-store %s: %w; %s", dir, err, rebuildAdvice(dir))
		}
		if rep.Blocks == 0 && !rep.HasTip {
			continue
		}
		checked++
		fmt.Fprintf(stdout, "%s: consistent: %d blocks (tip %d %s), %d transactions, %d outpoint records, %d address index entries\n",
			c, rep.Blocks, rep.TipHeight, rep.TipHash, rep.Txs, rep.Outpoints, rep.Movements)
	}
	if checked == 0 {
		fmt.Fprintf(stdout, "%s: a consistent store that holds no blocks\n", dir)
	}
	return nil
}

func rebuildAdvice(dir string) string {
	return fmt.Sprintf("the store is damaged and cannot be trusted: remove it (rm -r %s) and ingest again (run trace with -store %s and the same data source)", dir, dir)
}

// oneLine keeps an error on one line (joined errors and wrapped node messages may hold
// newlines).
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// ui shows progress on a terminal and status lines elsewhere, unless quiet.
type ui struct {
	w        io.Writer
	terminal bool
	quiet    bool
}

func newUI(w io.Writer, quiet bool) *ui {
	u := &ui{w: w, quiet: quiet}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		u.terminal = true
	}
	return u
}

func (u *ui) status(format string, args ...any) {
	if !u.quiet {
		fmt.Fprintf(u.w, format+"\n", args...)
	}
}

// warn writes a warning, also under -q: it says a figure is less than it seems.
func (u *ui) warn(format string, args ...any) {
	fmt.Fprintf(u.w, "warning: "+format+"\n", args...)
}

// bar returns a progress bar of max steps on a terminal, nil otherwise.
func (u *ui) bar(max int64, what string) *progressbar.ProgressBar {
	if u.quiet || !u.terminal || max <= 0 {
		return nil
	}
	return progressbar.NewOptions64(max, progressbar.OptionSetWriter(u.w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
}

func finish(b *progressbar.ProgressBar) {
	if b != nil {
		_ = b.Finish()
	}
}

// chainRun is one chain to trace after ingestion.
type chainRun struct {
	chain    graph.Chain
	from, to uint64
	genesis  map[graph.Address]graph.Amount // initial balances (the simulated case)
	tokens   report.Assets                  // token symbols and decimals the run knows of
	implicit bool                           // window starts mid-history (account model)
	// opening gives balances at the block before the window (an Ethereum node's, cached
	// in the store); done releases what it holds.
	opening graph.OpeningBalances
	done    func()
	// blocks, when set, gives the blocks from..to straight from the source (blk files
	// without a store); otherwise they are read from the store.
	blocks func(ctx context.Context, from, to uint64, fn func(*graph.Block) error) error
}

// replay calls fn with r's blocks from..to, from its source or the store.
func (r chainRun) replay(ctx context.Context, st *graph.Store, fn func(*graph.Block) error) error {
	if r.blocks != nil {
		return r.blocks(ctx, r.from, r.to, fn)
	}
	return st.Blocks(ctx, r.chain, r.from, r.to, fn)
}

func investigate(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	u := newUI(stderr, o.quiet)
	set, sources, err := loadLabels(ctx, o)
	if err != nil {
		return err
	}
	// Label problems are shown, not only counted: a reader must see which rows were
	// skipped or defaulted, and why.
	if ws := set.Warnings(); len(ws) > 0 {
		const show = 10
		for i, w := range ws {
			if i == show {
				u.warn("labels: … and %d more warning(s)", len(ws)-show)
				break
			}
			u.warn("labels: %s", w)
		}
	}
	// Declared links are read before any block, so that a bad file ends the run at once.
	var declared []graph.LinkPart
	for _, f := range o.linkFiles {
		parts, err := linkfile.LoadFile(ctx, f)
		if err != nil {
			return fmt.Errorf("-links: %w", err)
		}
		declared = append(declared, parts...)
	}
	// Blk files without -store stream straight into the engines: a store is only built
	// when the run keeps it (-store) or another source needs one (a node's or an export's
	// blocks are written to the store first, so that a failed ingest can be resumed and
	// the trace replays validated, contiguous blocks).
	streamBTC := o.btcBlocks != "" && o.store == ""
	var st *graph.Store
	if o.store != "" || o.sim || o.ethRPC != "" || o.btcRPC != "" || o.etlDir != "" {
		storeDir := o.store
		if storeDir == "" {
			tmp, err := newTempStore("", u)
			if err != nil {
				return fmt.Errorf("temporary store: %w", err)
			}
			defer os.RemoveAll(tmp)
			storeDir = tmp
		}
		st, err = graph.OpenStore(ctx, graph.StoreOptions{Dir: storeDir})
		if err != nil {
			// The store's errors name the directory and say what to do.
			return fmt.Errorf("store: %w", err)
		}
		defer st.Close()
		if r, ok := st.Recovered(); ok {
			// Shown even with -q: the run redoes work a crash interrupted.
			fmt.Fprintf(stderr, "trace: store %s: %s\n", storeDir, r)
		}
	}
	// The engines keep their evidence records on disk in this run's temporary directory
	// (trace.Engine.RecordTo), so that memory follows the live tainted state, not the
	// history; a killed run's directory is removed by the next run, like a temporary store.
	recDir, err := newTempStore("", u)
	if err != nil {
		return fmt.Errorf("temporary directory for the trace records: %w", err)
	}
	defer os.RemoveAll(recDir)
	// What holds records in recDir (engines, then their results) is closed at the end.
	var engines []io.Closer
	defer func() {
		for _, e := range engines {
			e.Close()
		}
	}()

	var runs []chainRun
	params := map[string]string{}
	title := "chaintrace investigation"
	notice := ""
	if o.sim {
		notice = simcase.Notice
		title = "chaintrace investigation — bundled simulated case"
		rs, caseLabels, err := playCase(ctx, st, o.store, u)
		if err != nil {
			return err
		}
		if err := set.Add(caseLabels...); err != nil {
			return fmt.Errorf("case labels: %w", err)
		}
		sources = append(sources, report.LabelSource{Name: "examples/trace/simcase (labels of the simulated case)", Labels: len(caseLabels),
			Note: "invented attributions of the simulation: exploiter, exchanges, mixer, swap, wrapper, THORChain"})
		runs = append(runs, rs...)
		params["source"] = "simulated case on an in-process Ethereum dev chain and Bitcoin regtest chain (examples/trace/simcase)"
	}
	if o.ethRPC != "" {
		r, err := ingestEthereum(ctx, o, st, u)
		if err != nil {
			return err
		}
		runs = append(runs, r)
		params["eth-rpc"] = o.ethRPC
	}
	if o.btcRPC != "" || o.btcBlocks != "" {
		ingest := ingestBitcoin
		if streamBTC {
			ingest = streamBitcoin
		}
		r, err := ingest(ctx, o, st, u)
		if err != nil {
			return err
		}
		runs = append(runs, r)
		if o.btcRPC != "" {
			params["btc-rpc"] = redactURL(o.btcRPC)
		} else {
			params["btc-blocks"] = o.btcBlocks
		}
		params["btc-net"] = o.btcNet
	}
	if o.etlDir != "" {
		r, err := ingestETL(ctx, o, st, u)
		if err != nil {
			return err
		}
		runs = append(runs, r)
		params["etl"] = o.etlDir
	}

	defer func() {
		for _, r := range runs {
			if r.done != nil {
				r.done()
			}
		}
	}()
	// Several chains are traced as one history with the links found in their blocks (and
	// declared in -links files); one chain with links too. One chain without links keeps
	// the single-chain engine.
	ls, err := collectLinks(ctx, st, set, runs, declared, o.asOfV, u)
	if err != nil {
		return err
	}
	var repRuns []report.Run
	if len(runs) > 1 || len(ls.links) > 0 {
		repRuns, err = traceLinked(ctx, o, st, set, runs, ls, u, params)
		if err != nil {
			return err
		}
	} else {
		for _, r := range runs {
			rr, err := traceChain(ctx, o, st, set, r, u, params, recDir, &engines)
			if err != nil {
				return err
			}
			repRuns = append(repRuns, rr)
		}
	}
	params["method"] = o.method
	params["actor"] = o.actor
	if o.actor == "" {
		params["actor"] = "(every DPRK-attributed label)"
	}
	params["max-hops"] = "unlimited"
	if o.maxHops >= 0 {
		params["max-hops"] = strconv.Itoa(o.maxHops)
	}
	params["min-taint"] = o.minTaintV.Dec()
	params["as-of"] = o.asOf
	if o.asOf == "" {
		params["as-of"] = "(labels read ignoring dates)"
	}
	params["stop-at-exchanges"] = "true"
	if o.from.set {
		params["from"] = o.from.String()
	}
	if o.to.set {
		params["to"] = o.to.String()
	}
	if o.btcFrom.set || (o.btcTo.set && o.btcTo != o.to) {
		params["btc-from"], params["btc-to"] = o.btcFrom.String(), o.btcTo.String()
	}
	heapProfile()
	rep, err := report.Build(report.Meta{Title: title, Notice: notice, Command: command(o), Parameters: params, LabelSources: sources}, repRuns...)
	if err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	files, err := rep.WriteFiles(o.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "written to %s:", o.out)
	for _, f := range files {
		fmt.Fprintf(stdout, " %s", filepath.Base(f))
	}
	fmt.Fprintln(stdout)
	if o.sim {
		fmt.Fprintln(stdout, "(the case above is a simulation)")
	}
	return nil
}

// command is the command line that reproduces the run; -out, -store and -q are left out
// (they do not change any figure, and temporary paths would make reports differ).
func command(o *options) []string {
	c := []string{"go", "run", "./examples/trace"}
	add := func(name, v string) {
		if v != "" {
			c = append(c, "-"+name, v)
		}
	}
	add("eth-rpc", o.ethRPC)
	add("btc-rpc", redactURL(o.btcRPC))
	add("btc-blocks", o.btcBlocks)
	if o.btcRPC != "" || o.btcBlocks != "" {
		add("btc-net", o.btcNet)
	}
	add("etl", o.etlDir)
	if o.from.set {
		add("from", o.from.String())
	}
	if o.to.set {
		add("to", o.to.String())
	}
	if o.btcFrom.set {
		add("btc-from", o.btcFrom.String())
	}
	if o.btcTo.set && (!o.to.set || o.btcTo.v != o.to.v) {
		add("btc-to", o.btcTo.String())
	}
	for _, l := range o.labelFiles {
		add("labels", l)
	}
	for _, l := range o.linkFiles {
		add("links", l)
	}
	add("entity", o.entity)
	add("actor", o.actor)
	if o.method != "all" {
		add("method", o.method)
	}
	if o.maxHops >= 0 {
		add("max-hops", strconv.Itoa(o.maxHops))
	}
	if !o.minTaintV.IsZero() {
		add("min-taint", o.minTaintV.Dec())
	}
	add("as-of", o.asOf)
	return c
}

// redactURL hides a password in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func loadLabels(ctx context.Context, o *options) (*labels.Set, []report.LabelSource, error) {
	files := []string(o.labelFiles)
	names := files
	set := labels.NewSet()
	var sources []report.LabelSource
	if len(files) == 0 {
		// The bundled sets are embedded in the program: it runs from any directory.
		got, err := bundled.Load(ctx, set)
		if err != nil {
			return nil, nil, err
		}
		for i, f := range bundled.Files() {
			note := ""
			if len(got[i].Warnings) > 0 {
				note = fmt.Sprintf("%d warning(s) while reading", len(got[i].Warnings))
			}
			sources = append(sources, report.LabelSource{Name: f.Name, Labels: got[i].Labels, Note: note})
		}
		return set, sources, nil
	}
	// OFAC's sdn_comments.csv continues remarks of sdn.csv: given with it, the two are read
	// together.
	comments := map[string]string{} // sdn.csv → its comments file
	var sdns, cmts []string
	for _, f := range files {
		switch labels.OFACFile(f) {
		case "sdn":
			sdns = append(sdns, f)
		case "sdn_comments":
			cmts = append(cmts, f)
		}
	}
	if len(cmts) > 0 {
		if len(cmts) > 1 || len(sdns) != 1 {
			return nil, nil, fmt.Errorf("labels: %s is OFAC's sdn_comments.csv, which continues the remarks of one sdn.csv: give it with exactly one sdn.csv in -labels (or leave it out: sdn.csv loads alone)", cmts[0])
		}
		comments[sdns[0]] = cmts[0]
	}
	for i, f := range files {
		if len(cmts) > 0 && f == cmts[0] {
			continue // read with its sdn.csv
		}
		if c, ok := comments[f]; ok {
			got, err := set.ReadSDN(ctx, f, c, labels.Options{Cite: filepath.ToSlash(names[i])})
			if err != nil {
				return nil, nil, fmt.Errorf("labels: %w", err)
			}
			note := "with " + filepath.ToSlash(c)
			if len(got.Warnings) > 0 {
				note += fmt.Sprintf("; %d warning(s) while reading", len(got.Warnings))
			}
			sources = append(sources, report.LabelSource{Name: filepath.ToSlash(names[i]), Labels: got.Labels, Note: note})
			continue
		}
		// Cite the bundled sets by their place in the repository, not by this machine's
		// absolute path: reports must not depend on where the clone is. The labels are read
		// straight into the set (no []Label in between: a million-row list stays small).
		opt := labels.Options{Cite: filepath.ToSlash(names[i])}
		if plainList(f) {
			// A plain list says nothing but addresses: whose they are comes from -entity,
			// and an address invalid for its chain is listed as a warning, not fatal.
			if o.entity == "" {
				return nil, nil, fmt.Errorf("labels: %s is a plain address list, which does not say whose the addresses are: give their owner with -entity NAME (and -actor NAME to seed from them)", f)
			}
			opt.Entity, opt.Incident, opt.Category, opt.SkipInvalid = o.entity, o.entity, labels.CategoryActor, true
		}
		got, err := set.ReadFile(ctx, f, opt)
		if err != nil {
			return nil, nil, fmt.Errorf("labels: %w", err)
		}
		note := ""
		if len(got.Warnings) > 0 {
			note = fmt.Sprintf("%d warning(s) while reading", len(got.Warnings))
		}
		sources = append(sources, report.LabelSource{Name: filepath.ToSlash(names[i]), Labels: got.Labels, Note: note})
	}
	return set, sources, nil
}

// plainList reports whether the label file at path is a plain address list (.txt).
func plainList(path string) bool {
	return strings.EqualFold(filepath.Ext(strings.TrimSuffix(path, ".gz")), ".txt")
}

func playCase(ctx context.Context, st *graph.Store, storeDir string, u *ui) ([]chainRun, []labels.Label, error) {
	ethSrc := storeSource{Source: "the simulated case", Network: "simulated dev chain"}
	btcSrc := storeSource{Source: "the simulated case", Network: "simulated regtest chain"}
	if err := checkStoreSource(ctx, st, storeDir, graph.Ethereum, ethSrc, 1); err != nil {
		return nil, nil, err
	}
	if err := checkStoreSource(ctx, st, storeDir, graph.Bitcoin, btcSrc, 1); err != nil {
		return nil, nil, err
	}
	u.status("playing the bundled case — a SIMULATION, not real events — on an in-process Ethereum dev chain and Bitcoin regtest chain …")
	bar := u.bar(simcase.Blocks, "simulating blocks")
	c, err := simcase.Play(ctx, simcase.Options{Step: func(done, total int) {
		if bar != nil {
			_ = bar.Set(done)
		}
	}})
	finish(bar)
	if err != nil {
		return nil, nil, fmt.Errorf("simulated case: %w", err)
	}
	defer c.Close()
	cl := ethereum.NewClient(c.Node.RPC(), ethereum.Options{RequireTraces: true})
	res, err := ingestEth(ctx, cl, st, ethereum.IngestOptions{From: 1, To: c.Head}, u)
	if err != nil {
		return nil, nil, err
	}
	if err := recordStoreSource(ctx, st, graph.Ethereum, ethSrc, 1); err != nil {
		return nil, nil, err
	}
	u.status("ingested %d Ethereum blocks, %d transactions, %d transfers over JSON-RPC into the store", res.Blocks, res.Txs, res.Transfers)
	// The Bitcoin node answers JSON-RPC on a loopback port, as bitcoind or btcd would.
	node, err := bitcoin.DialRPC(ctx, c.BTC.RPCConfig())
	if err != nil {
		return nil, nil, fmt.Errorf("simulated case: bitcoin node: %w", err)
	}
	defer node.Close()
	stats, err := bitcoin.Ingest(ctx, st, node, bitcoin.IngestOptions{From: 1, To: c.BTCHead})
	if err != nil {
		return nil, nil, fmt.Errorf("simulated case: ingest Bitcoin: %w", err)
	}
	if err := recordStoreSource(ctx, st, graph.Bitcoin, btcSrc, 1); err != nil {
		return nil, nil, err
	}
	u.status("ingested %d Bitcoin blocks over JSON-RPC into the store", stats.Written)
	runs := []chainRun{
		{chain: graph.Ethereum, from: 1, to: c.Head, genesis: c.Genesis, tokens: c.Tokens},
		{chain: graph.Bitcoin, from: 1, to: c.BTCHead},
	}
	return runs, c.Labels, nil
}

func ingestEth(ctx context.Context, cl *ethereum.Client, st *graph.Store, opts ethereum.IngestOptions, u *ui) (*ethereum.IngestResult, error) {
	var bar *progressbar.ProgressBar
	opts.Progress = func(p ethereum.Progress) {
		if bar == nil && p.Target >= opts.From {
			bar = u.bar(int64(p.Target-opts.From+1), "ingesting Ethereum")
		}
		if bar != nil {
			bar.Describe(fmt.Sprintf("ethereum height %d, %.0f blocks/s, ETA %s", p.Height, p.Rate, p.ETA.Round(time.Second)))
			_ = bar.Set64(int64(p.Height - opts.From + 1))
		}
	}
	res, err := ethereum.Ingest(ctx, cl, st, opts)
	finish(bar)
	if err != nil {
		return res, fmt.Errorf("ingest Ethereum: %w", err)
	}
	if d := res.Degraded(); d != nil {
		u.status("warning: incomplete Ethereum data: %s", oneLine(d))
	}
	return res, nil
}

func ingestEthereum(ctx context.Context, o *options, st *graph.Store, u *ui) (chainRun, error) {
	cl, err := ethereum.Dial(ctx, o.ethRPC, ethereum.Options{Retries: 2, RetryBackoff: 200 * time.Millisecond})
	if err != nil {
		return chainRun{}, fmt.Errorf("cannot reach the Ethereum node at %s: %w", o.ethRPC, err)
	}
	keep := false // the client stays open while the trace asks it for opening balances
	defer func() {
		if !keep {
			cl.Close()
		}
	}()
	head, err := cl.Head(ctx)
	if err != nil {
		return chainRun{}, fmt.Errorf("cannot reach the Ethereum node at %s: %w", o.ethRPC, err)
	}
	to := head
	if o.to.set {
		to = min(o.to.v, head)
	}
	src := storeSource{Source: "-eth-rpc " + o.ethRPC}
	if g, err := cl.BlockHash(ctx, 0); err == nil {
		src.Network = ethNetwork(g)
	}
	if err := checkStoreSource(ctx, st, o.store, graph.Ethereum, src, o.from.v); err != nil {
		return chainRun{}, err
	}
	u.status("ingesting Ethereum blocks %d..%d from %s", o.from.v, to, o.ethRPC)
	res, err := ingestEth(ctx, cl, st, ethereum.IngestOptions{From: o.from.v, To: to}, u)
	if err != nil {
		return chainRun{}, err
	}
	if err := recordStoreSource(ctx, st, graph.Ethereum, src, o.from.v); err != nil {
		return chainRun{}, err
	}
	u.status("ingested %d blocks, %d transactions, %d transfers", res.Blocks, res.Txs, res.Transfers)
	r := chainRun{chain: graph.Ethereum, from: o.from.v, to: to, implicit: true}
	if o.from.v > 1 {
		// A window: what tainted addresses held before it is asked of the node (at block
		// from-1, cached in the store), so that haircut shares are right (trace.Config.OpeningBalances).
		keep = true
		r.opening, r.done = st.OpeningBalances(graph.Ethereum, o.from.v-1, cl), func() { cl.Close() }
	}
	return r, nil
}

// streamBitcoin opens the blk files of -btc-blocks for a trace without a store: the
// blocks are decoded (on every core) and applied to the engines as they are read, with
// the window's earlier prevouts from the undo files or a scan of the earlier blk files.
func streamBitcoin(ctx context.Context, o *options, _ *graph.Store, u *ui) (chainRun, error) {
	var window uint64
	if o.btcFrom.v > 1 {
		window = o.btcFrom.v
	}
	bf, err := openBlockFiles(ctx, o, window)
	if err != nil {
		return chainRun{}, err
	}
	from, to := max(o.btcFrom.v, bf.FirstHeight()), bf.TipHeight()
	if o.btcTo.set {
		to = min(o.btcTo.v, to)
	}
	if from > to {
		bf.Close()
		return chainRun{}, fmt.Errorf("-btc-blocks %s: no block in %d..%d (the files hold %d..%d)", o.btcBlocks, from, to, bf.FirstHeight(), bf.TipHeight())
	}
	u.status("reading Bitcoin blocks %d..%d from %s (no store: the blocks go straight to the trace)", from, to, o.btcBlocks)
	return chainRun{chain: graph.Bitcoin, from: from, to: to, done: func() { bf.Close() },
		blocks: func(ctx context.Context, from, to uint64, fn func(*graph.Block) error) error {
			return bitcoin.Stream(ctx, rangeSource{bf, from, to}, fn)
		}}, nil
}

// openBlockFiles opens -btc-blocks, its errors in the words of the flags.
func openBlockFiles(ctx context.Context, o *options, window uint64) (*bitcoin.BlockFiles, error) {
	network, err := bitcoin.ParseNetwork(o.btcNet)
	if err != nil {
		return nil, fmt.Errorf("-btc-net: %w", err)
	}
	bf, err := bitcoin.OpenBlockFiles(ctx, o.btcBlocks, bitcoin.BlockFilesOptions{Net: network, WindowStart: window})
	if errors.Is(err, bitcoin.ErrNoChain) && !strings.Contains(err.Error(), "no blk*.dat") {
		// The reader's option that places such files is not one this program has.
		return nil, fmt.Errorf("-btc-blocks %s: no chain of %s blocks starting at the genesis block: give the blocks directory from its first file (blk00000.dat), with the -btc-net of the node that wrote it", o.btcBlocks, network.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("-btc-blocks %s: %w", o.btcBlocks, err)
	}
	return bf, nil
}

// rangeSource is the blocks from..to of blk files as a bitcoin.Source.
type rangeSource struct {
	bf       *bitcoin.BlockFiles
	from, to uint64
}

func (s rangeSource) Blocks(ctx context.Context, fn func(*graph.Block) error) error {
	return s.bf.Range(ctx, s.from, s.to, fn)
}

type btcNode interface {
	bitcoin.Node
}

func ingestBitcoin(ctx context.Context, o *options, st *graph.Store, u *ui) (chainRun, error) {
	network, err := bitcoin.ParseNetwork(o.btcNet)
	if err != nil {
		return chainRun{}, fmt.Errorf("-btc-net: %w", err)
	}
	var node btcNode
	var bar *progressbar.ProgressBar
	// A window (-from above block 1) resolves the inputs spending older outputs: from the
	// undo files (rev*.dat) or a scan of the earlier blk files, or from the node
	// (getblock 3, or getrawtransaction with btcd --txindex).
	var window uint64
	if o.btcFrom.v > 1 {
		window = o.btcFrom.v
	}
	start := time.Now()
	var first uint64
	if o.btcRPC != "" {
		pu, err := url.Parse(o.btcRPC)
		if err != nil || pu.Host == "" {
			return chainRun{}, fmt.Errorf("-btc-rpc %q: want http://user:pass@host:port", redactURL(o.btcRPC))
		}
		cfg := bitcoin.RPCConfig{Host: pu.Host, Net: network, TLS: pu.Scheme == "https", Retries: 2, Backoff: 200 * time.Millisecond, WindowStart: window}
		if pu.User != nil {
			cfg.User = pu.User.Username()
			cfg.Pass, _ = pu.User.Password()
		}
		// btcd's client retries a refused connection for about 20 s before it gives up: a
		// plain TCP dial first answers an unreachable node at once.
		conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", pu.Host)
		if err != nil {
			return chainRun{}, fmt.Errorf("cannot reach the Bitcoin node at %s: %w", redactURL(o.btcRPC), err)
		}
		conn.Close()
		rpc, err := bitcoin.DialRPC(ctx, cfg)
		if err != nil {
			return chainRun{}, fmt.Errorf("cannot reach the Bitcoin node at %s: %w", redactURL(o.btcRPC), err)
		}
		defer rpc.Close()
		node = rpc
	} else {
		bf, err := openBlockFiles(ctx, o, window)
		if err != nil {
			return chainRun{}, err
		}
		defer bf.Close()
		node = bf
		first = bf.FirstHeight()
	}
	best, err := node.BestHeight(ctx)
	if err != nil {
		return chainRun{}, fmt.Errorf("bitcoin tip: %w", err)
	}
	from := max(o.btcFrom.v, first)
	to := best
	if o.btcTo.set {
		to = min(o.btcTo.v, best)
	}
	src := storeSource{Source: "-btc-blocks " + o.btcBlocks, Network: network.Name}
	if o.btcRPC != "" {
		src.Source = "-btc-rpc " + redactURL(o.btcRPC)
	}
	if err := checkStoreSource(ctx, st, o.store, graph.Bitcoin, src, from); err != nil {
		return chainRun{}, err
	}
	if from > 0 {
		if err := st.SetWindowStart(ctx, graph.Bitcoin, from); err != nil {
			return chainRun{}, err
		}
	}
	u.status("ingesting Bitcoin blocks %d..%d", from, to)
	bar = u.bar(int64(to-from+1), "ingesting Bitcoin")
	n := 0
	progress := func(b *graph.Block) error {
		n++
		if bar != nil {
			rate := float64(n) / time.Since(start).Seconds()
			eta := time.Duration(float64(to-b.Height) / rate * float64(time.Second))
			bar.Describe(fmt.Sprintf("bitcoin height %d, %.0f blocks/s, ETA %s", b.Height, rate, eta.Round(time.Second)))
			_ = bar.Set64(int64(b.Height - from + 1))
		}
		return nil
	}
	// A store without Bitcoin blocks gets the first-time bulk load, several times faster
	// than block-by-block commits; a store holding anything else (another chain, records)
	// cannot take one and goes block by block. Ingest then continues from the store's tip.
	bulk := 0
	if _, _, ok, err := st.Tip(ctx, graph.Bitcoin); err != nil {
		return chainRun{}, err
	} else if !ok {
		loaded, err := bitcoin.BulkLoad(ctx, st, node, bitcoin.BulkLoadOptions{From: from, To: to, OnBlock: progress})
		switch {
		case err == nil:
			bulk = loaded.Blocks
		case errors.Is(err, graph.ErrParentMismatch):
			// The node reorganized during the load, which left the store as it was:
			// Ingest follows reorgs.
			u.status("the node's chain changed during the bulk load; ingesting block by block")
			n = 0
		case !errors.Is(err, graph.ErrStoreNotEmpty):
			finish(bar)
			return chainRun{}, fmt.Errorf("bulk-load Bitcoin: %w", err)
		}
	}
	stats, err := bitcoin.Ingest(ctx, st, node, bitcoin.IngestOptions{From: from, To: to, OnBlock: progress})
	finish(bar)
	if err != nil {
		return chainRun{}, fmt.Errorf("ingest Bitcoin: %w", err)
	}
	if err := recordStoreSource(ctx, st, graph.Bitcoin, src, from); err != nil {
		return chainRun{}, err
	}
	u.status("ingested %d Bitcoin blocks (%d in one bulk load; store tip %d)", bulk+stats.Written, bulk, stats.Tip)
	return chainRun{chain: graph.Bitcoin, from: from, to: to}, nil
}

// etlTable finds <dir>/<base>.{csv,json,jsonl}[.gz].
func etlTable(dir, base string) (string, bool) {
	for _, ext := range []string{".csv", ".json", ".jsonl", ".csv.gz", ".json.gz", ".jsonl.gz"} {
		p := filepath.Join(dir, base+ext)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

func ingestETL(ctx context.Context, o *options, st *graph.Store, u *ui) (chainRun, error) {
	if fi, err := os.Stat(o.etlDir); err != nil || !fi.IsDir() {
		return chainRun{}, fmt.Errorf("-etl %s: not a readable directory", o.etlDir)
	}
	txPath, ok := etlTable(o.etlDir, "transactions")
	if !ok {
		return chainRun{}, fmt.Errorf("-etl %s: no transactions table (transactions.csv, .json or .jsonl)", o.etlDir)
	}
	var opened []etl.Source
	defer func() {
		for _, s := range opened {
			s.Close()
		}
	}()
	open := func(base string) (etl.Source, error) {
		p, ok := etlTable(o.etlDir, base)
		if !ok {
			return etl.Source{}, nil
		}
		s, err := etl.OpenFile(p)
		if err != nil {
			return etl.Source{}, fmt.Errorf("-etl: %w", err)
		}
		opened = append(opened, s)
		return s, nil
	}
	_, hasReceipts := etlTable(o.etlDir, "receipts")
	_, hasTraces := etlTable(o.etlDir, "traces")
	_, hasLogs := etlTable(o.etlDir, "logs")
	_, hasTokens := etlTable(o.etlDir, "token_transfers")
	chain := graph.Ethereum
	if !hasReceipts && !hasTraces && !hasLogs && !hasTokens {
		// bitcoin-etl exports have transactions with nested inputs and outputs.
		head, err := os.ReadFile(txPath)
		if err == nil && strings.Contains(string(head[:min(len(head), 4096)]), `"inputs"`) {
			chain = graph.Bitcoin
		}
	}
	var first, last uint64
	started := false
	n := 0
	write := func(b *graph.Block) error {
		if (o.from.set && b.Height < o.from.v) || (o.to.set && b.Height > o.to.v) {
			return nil
		}
		if !started {
			if err := checkStoreSource(ctx, st, o.store, chain, storeSource{Source: "-etl " + o.etlDir}, b.Height); err != nil {
				return err
			}
			started, first = true, b.Height
			if chain == graph.Bitcoin && b.Height > 0 {
				if err := st.SetWindowStart(ctx, graph.Bitcoin, b.Height); err != nil {
					return err
				}
			}
		}
		last = b.Height
		n++
		return st.WriteBlock(ctx, b)
	}
	u.status("reading the %s export in %s", chain, o.etlDir)
	blocks, err := open("blocks")
	if err != nil {
		return chainRun{}, err
	}
	txs, err := etl.OpenFile(txPath)
	if err != nil {
		return chainRun{}, fmt.Errorf("-etl: %w", err)
	}
	opened = append(opened, txs)
	if chain == graph.Bitcoin {
		err = etl.ReadBitcoin(ctx, etl.BitcoinExport{Blocks: blocks, Transactions: txs}, write)
	} else {
		exp := etl.EthereumExport{Blocks: blocks, Transactions: txs, NoTraces: !hasTraces, NoTokenTransfers: !hasLogs && !hasTokens}
		if exp.Receipts, err = open("receipts"); err == nil {
			if exp.Traces, err = open("traces"); err == nil {
				if exp.Logs, err = open("logs"); err == nil {
					exp.TokenTransfers, err = open("token_transfers")
				}
			}
		}
		if err != nil {
			return chainRun{}, err
		}
		if !hasTraces {
			u.status("warning: the export has no traces table: internal transfers (contract payouts, mixer withdrawals) are missing")
		}
		err = etl.ReadEthereum(ctx, exp, write)
	}
	if err != nil {
		return chainRun{}, fmt.Errorf("-etl %s: %w", o.etlDir, err)
	}
	if !started {
		return chainRun{}, fmt.Errorf("-etl %s: no block in the requested heights", o.etlDir)
	}
	if err := recordStoreSource(ctx, st, chain, storeSource{Source: "-etl " + o.etlDir}, first); err != nil {
		return chainRun{}, err
	}
	u.status("stored %d %s blocks (%d..%d)", n, chain, first, last)
	return chainRun{chain: chain, from: first, to: last, implicit: chain == graph.Ethereum}, nil
}

// seeds selects the seeds of a chain: -actor as incident, entity or program, or every
// DPRK-attributed label.
func seeds(set *labels.Set, o *options, chain graph.Chain, only func(graph.Chain, graph.Address) bool) ([]trace.Seed, []labels.Conflict) {
	var queries []labels.SeedQuery
	if o.actor == "" {
		queries = []labels.SeedQuery{{Nexus: labels.NexusDPRK, Chain: chain, Only: only}}
	} else {
		queries = []labels.SeedQuery{{Incident: o.actor, Chain: chain, Only: only}, {Entity: o.actor, Chain: chain, Only: only}, {Program: o.actor, Chain: chain, Only: only}}
	}
	seen := map[graph.Address]bool{}
	var out []trace.Seed
	var conflicts []labels.Conflict
	for _, q := range queries {
		ss, cs := set.Seeds(q, o.asOfV)
		conflicts = append(conflicts, cs...)
		for _, s := range ss {
			if !seen[s.Address] {
				seen[s.Address] = true
				out = append(out, trace.Seed{Address: s.Address, Source: s.Source, Origin: s.Origin})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, conflicts
}

// manyLabels is the number of labels above which traceChain seeds only the addresses the
// data touches: every seed costs each engine (one per method) an address entry, an evidence
// node and a line in its result, and a million-address attribution list over a few hundred
// blocks would spend seconds and gigabytes on seeds that match nothing. Below it, every
// matching label is a seed, as the engines' unused-seed lists expect.
const manyLabels = 10000

// labelledInWindow returns the labelled addresses that appear in the blocks to trace (paid,
// spent from, sending or receiving) or hold an initial balance: a seed address that appears
// nowhere taints nothing. One pass over the blocks, testing each address against the label
// set (a binary search), finds them.
func labelledInWindow(ctx context.Context, st *graph.Store, set *labels.Set, r chainRun) (map[graph.Address]bool, error) {
	present := map[graph.Address]bool{}
	see := func(a graph.Address) {
		if a != "" && !present[a] && set.Has(r.chain, a) {
			present[a] = true
		}
	}
	for a := range r.genesis {
		see(a)
	}
	err := r.replay(ctx, st, func(b *graph.Block) error {
		for i := range b.UTXOTxs {
			for _, in := range b.UTXOTxs[i].Inputs {
				see(in.Address)
			}
			for _, out := range b.UTXOTxs[i].Outputs {
				see(out.Address)
			}
		}
		for i := range b.AccountTxs {
			tx := &b.AccountTxs[i]
			see(tx.From)
			see(tx.To)
			for _, t := range tx.Transfers {
				see(t.From)
				see(t.To)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find the labelled addresses of %s blocks %d..%d: %w", r.chain, r.from, r.to, err)
	}
	return present, nil
}

func traceChain(ctx context.Context, o *options, st *graph.Store, set *labels.Set, r chainRun, u *ui, params map[string]string, recDir string, opened *[]io.Closer) (report.Run, error) {
	model := r.chain.Model()
	var only func(graph.Chain, graph.Address) bool
	if set.Len() > manyLabels {
		present, err := labelledInWindow(ctx, st, set, r)
		if err != nil {
			return report.Run{}, err
		}
		only = func(_ graph.Chain, a graph.Address) bool { return present[a] }
		u.status("%d of the %d labelled address(es) appear in %s blocks %d..%d: only they can be seeds", len(present), set.Addresses(), r.chain, r.from, r.to)
		params["seeds-"+string(r.chain)] = fmt.Sprintf("from the %d labelled address(es) that appear in %s blocks %d..%d (of %d labelled; the others match nothing)", len(present), r.chain, r.from, r.to, set.Addresses())
	}
	ss, conflicts := seeds(set, o, r.chain, only)
	exchanges, exConflicts := set.Sinks(r.chain, labels.CategoryExchange, o.asOfV)
	// Addresses left out because their labels disagree are named, not only counted: with
	// every seed among them the run would otherwise end in a bare "no seeds".
	all := append(append([]labels.Conflict(nil), conflicts...), exConflicts...)
	left := ""
	for i, c := range all {
		if i == 5 {
			left += fmt.Sprintf(", … %d more", len(all)-5)
			break
		}
		if i > 0 {
			left += ", "
		}
		left += fmt.Sprintf("%s (%s)", c.Address, c.Reason)
	}
	if len(all) > 0 {
		u.warn("%s: %d labelled address(es) left out of seeds and exchanges: %s", r.chain, len(all), left)
	}
	if len(ss) == 0 {
		why := ""
		if len(conflicts) > 0 {
			why = fmt.Sprintf(" (%d actor address(es) are also labelled exchange and were left out: %s)", len(conflicts), left)
		}
		if o.actor != "" {
			return report.Run{}, fmt.Errorf("no seeds: -actor %q matches no %s label (as incident, entity or program)%s", o.actor, r.chain, why)
		}
		return report.Run{}, fmt.Errorf("no seeds: the labels attribute no %s address to DPRK actors%s", r.chain, why)
	}
	tp := trace.DefaultParams()
	tp.MinTaint = o.minTaintV
	if o.maxHops >= 0 {
		h := uint32(o.maxHops)
		tp.MaxHops = &h
	}
	tp.ImplicitBalances = r.implicit
	methods := trace.Methods(model)
	if o.method != "all" {
		m, _ := trace.MethodByName(o.method)
		if !m.Supports(model) {
			return report.Run{}, fmt.Errorf("-method %s does not apply to %s (%s model)", o.method, r.chain, model)
		}
		methods = []string{o.method}
	}
	tip := r.to
	if r.blocks == nil {
		var err error
		if tip, _, _, err = st.Tip(ctx, r.chain); err != nil {
			return report.Run{}, err
		}
	}
	// Every method's engine takes each block in one pass over the blocks: they are read
	// (and, from blk files, decoded) once.
	engines := make([]*trace.Engine, len(methods))
	first := len(*opened)
	for i, m := range methods {
		eng, err := trace.NewEngine(trace.Config{Model: model, Method: m, Seeds: ss, Exchanges: exchanges, Params: tp, OpeningBalances: r.opening})
		if err != nil {
			return report.Run{}, err
		}
		*opened = append(*opened, eng)
		if err := eng.RecordTo(recDir); err != nil {
			return report.Run{}, err
		}
		addrs := make([]graph.Address, 0, len(r.genesis))
		for a := range r.genesis {
			addrs = append(addrs, a)
		}
		sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
		for _, a := range addrs {
			if err := eng.SetBalance(a, r.chain.NativeAsset(), r.genesis[a]); err != nil {
				return report.Run{}, err
			}
		}
		engines[i] = eng
	}
	bar := u.bar(int64(r.to-r.from+1), "tracing "+strings.Join(methods, ", "))
	failed := -1
	err := r.replay(ctx, st, func(b *graph.Block) error {
		if bar != nil {
			_ = bar.Set64(int64(b.Height - r.from + 1))
		}
		for i, eng := range engines {
			if err := eng.ApplyBlockContext(ctx, b); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	finish(bar)
	if err != nil {
		if failed >= 0 {
			return report.Run{}, fmt.Errorf("trace %s (%s): %w", r.chain, methods[failed], err)
		}
		return report.Run{}, fmt.Errorf("trace %s: %w", r.chain, err)
	}
	var results []*trace.Result
	for i, eng := range engines {
		m := methods[i]
		res := eng.Result()
		if err := res.CheckConservation(); err != nil {
			return report.Run{}, fmt.Errorf("trace %s (%s): %w", r.chain, m, err)
		}
		if n := len(res.UnknownOpeningBalances); n > 0 {
			u.warn("%s %s: %d tainted holding(s) rest on an unknown opening balance (the node has no state at block %d; an archive node has): their figures overstate taint; report.json lists them", r.chain, m, n, r.from-1)
		}
		results = append(results, res)
	}
	// The results now own the records: the engines' live state (the UTXO set, the
	// address table) is garbage once nothing holds them, before the report reads records.
	for i, res := range results {
		(*opened)[first+i] = res
		engines[i] = nil
	}
	u.status("traced %s blocks %d..%d with %s: %d seed(s) matched", r.chain, r.from, r.to, strings.Join(methods, ", "),
		len(ss)-len(results[0].Stats.UnusedSeeds))
	assets := report.KnownTokens()
	for a, i := range r.tokens {
		assets[a] = i
	}
	return report.Run{Chain: r.chain, StoreHeight: tip, From: r.from, To: r.to, Results: results, Labels: set, AsOf: o.asOfV, Assets: assets}, nil
}

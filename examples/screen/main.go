// Command screen is an HTTP screening service for exchanges over chaintrace's screen.Screener:
// before paying out or crediting, ask whether an address or a deposit is exposed to a
// listed source (how much, how far, why).
//
//	GET /v1/address/{chain}/{address}[?as_of=YYYY-MM-DD]   a withdrawal destination
//	GET /v1/deposit/{chain}/{ref}[?as_of=YYYY-MM-DD]       a deposit: "txid:vout" or an Ethereum transfer id
//	GET /healthz                                           per chain: ready or syncing, height, block hash
//
// Answers are the verdict's JSON (screen.Verdict: risk, score, rule, exposures, labels,
// evidence path; amounts as decimal strings, shares as reduced fractions). A bad address is
// 400, an unknown chain 404, a saturated server 503 with Retry-After (at most -max-inflight
// requests run at once); a client that takes longer than -timeout to send its request or
// read the answer is disconnected (see newServer).
//
// By default it serves the bundled case, embedded in the program (it runs from any
// directory): the peel-chain scenario bundled/peel-case.json traced with -method under the
// built-in policy (screen.DefaultPolicy; -policy FILE for another), labelled by
// bundled/case-labels.csv:
//
//	go run ./examples/screen
//	curl localhost:8080/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0
//	curl localhost:8080/v1/deposit/bitcoin/p2:0
//
// With a node it follows the chain instead (screen.Follower: confirmed blocks into the store
// at -store, the trace advanced from its checkpoint, verdicts current), seeded from the
// DPRK attributions in -seeds and with the exchanges of -exchanges as sinks:
//
//	go run ./examples/screen -store /var/lib/chaintrace -eth-rpc http://127.0.0.1:8545 -start 21000000
//	go run ./examples/screen -store /var/lib/chaintrace -btc-rpc 127.0.0.1:8332 -btc-user u -btc-pass p -start 840000
//
// It listens at once; each node is dialled in the background (again every -poll while it
// does not answer). Until a chain's follower has reached its node, /healthz answers 503
// with that chain "syncing", the node it waits for and the last error, and stderr says
// the same.
//
// SIGINT or SIGTERM shuts the server down gracefully: requests in flight finish (up to 10 s).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/graph/labels/bundled"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/chaintrace/chaintrace/trace/screen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}

type options struct {
	addr        string
	policy      string
	method      string
	caseFile    string
	caseLabels  string
	maxInFlight int
	timeout     time.Duration

	store         string
	seeds         string
	exchanges     string
	start         uint64
	confirmations uint64
	ckptEvery     uint64
	poll          time.Duration
	ethRPC        string
	ethAssets     string
	btcRPC        string
	btcUser       string
	btcPass       string
	btcNet        string
	btcTLS        bool
}

// run serves until ctx ends. ready, if set, receives the listening address.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("screen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&o.policy, "policy", "", "screening policy file (YAML or JSON); default: the built-in policy (screen.DefaultPolicy)")
	fs.StringVar(&o.method, "method", trace.Haircut, "taint method")
	fs.StringVar(&o.caseFile, "case", "", "a scenario file to serve when no node is given; default: the bundled peel-chain case (embedded)")
	fs.StringVar(&o.caseLabels, "case-labels", "", "labels of the -case scenario (comma-separated files); default: the bundled case's (embedded)")
	fs.IntVar(&o.maxInFlight, "max-inflight", 1024, "screening requests handled at once; more get 503")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Second, "time to read a request and to write its answer")
	fs.StringVar(&o.store, "store", "", "graph store directory (node mode)")
	fs.StringVar(&o.seeds, "seeds", "", "seed label files (node mode; DPRK-nexus labels become seeds); default: the bundled DPRK set (embedded)")
	fs.StringVar(&o.exchanges, "exchanges", "", "exchange label files (node mode); default: the bundled exchange set (embedded)")
	fs.Uint64Var(&o.start, "start", 1, "first block to follow when the store is empty (node mode)")
	fs.Uint64Var(&o.confirmations, "confirmations", 6, "blocks built on a block before it is taken")
	fs.Uint64Var(&o.ckptEvery, "checkpoint-every", 0, "blocks between two checkpoints of the trace; 0: adapt to their cost (at most about a tenth of the follower's time)")
	fs.DurationVar(&o.poll, "poll", 5*time.Second, "how often the node is polled")
	fs.StringVar(&o.ethRPC, "eth-rpc", "", "Ethereum JSON-RPC URL (node mode)")
	fs.StringVar(&o.ethAssets, "eth-assets", "", "assets to trace on Ethereum, comma-separated: ETH and token contract addresses (empty = every asset; "+
		"any contract can log fake transfers from a sanctioned address, so list the assets you pay out and accept)")
	fs.StringVar(&o.btcRPC, "btc-rpc", "", "Bitcoin JSON-RPC host:port (node mode)")
	fs.StringVar(&o.btcUser, "btc-user", "", "Bitcoin RPC user")
	fs.StringVar(&o.btcPass, "btc-pass", "", "Bitcoin RPC password")
	fs.StringVar(&o.btcNet, "btc-net", "mainnet", "Bitcoin network: mainnet, testnet, signet, regtest")
	fs.BoolVar(&o.btcTLS, "btc-tls", false, "Bitcoin RPC over TLS")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if err := serve(ctx, o, log, ready); err != nil {
		log.Error("screen", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, o options, log *slog.Logger, ready chan<- string) error {
	pol := screen.DefaultPolicy()
	var err error
	if o.policy != "" {
		pol, err = screen.LoadPolicy(o.policy)
	}
	if err != nil {
		return err
	}
	var sc screeners
	var feeds []*feed
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	if o.ethRPC == "" && o.btcRPC == "" {
		if sc, err = bundledCase(ctx, o, pol); err != nil {
			return err
		}
		log.Info("serving the bundled case", "case", o.caseFile, "method", o.method, "policy", pol.Name)
	} else {
		sc, feeds, closers, err = nodeMode(ctx, o, pol, log)
		if err != nil {
			return err
		}
	}
	cfg := serverConfig{MaxInFlight: o.maxInFlight, Timeout: o.timeout}
	if feeds != nil {
		byChain := map[graph.Chain]*feed{}
		for _, f := range feeds {
			byChain[f.chain] = f
		}
		cfg.Status = func(c graph.Chain) feedStatus { return byChain[c].status() }
	}
	srv := newServer(newHandler(sc, cfg), cfg)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	// The feeds dial their nodes and open their followers after the service listens: a node
	// that does not answer shows in /healthz and on stderr instead of a silent start.
	fctx, stopFeeds := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // followers finish their Advance before the store closes
	defer stopFeeds()
	feedErr := make(chan error, len(feeds))
	for _, f := range feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.run(fctx, o.poll, log); err != nil {
				feedErr <- err
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var failed error
	select {
	case err := <-errc:
		return err
	case failed = <-feedErr: // returned, and so logged, after the shutdown
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopFeeds()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return failed
}

// bundledCase traces the case's scenario and gives its chain's screener the result.
func bundledCase(ctx context.Context, o options, pol *screen.Policy) (screeners, error) {
	var scn *scenario.Scenario
	var err error
	if o.caseFile == "" {
		scn, err = scenario.Parse("bundled/peel-case.json", bundledCaseFile)
	} else {
		scn, err = scenario.Load(o.caseFile)
	}
	if err != nil {
		return nil, err
	}
	res, err := scn.Run(o.method)
	if err != nil {
		return nil, err
	}
	set := labels.NewSet()
	if o.caseLabels == "" && o.caseFile == "" {
		_, err = set.Read(bytes.NewReader(bundledCaseLabels), "bundled/case-labels.csv", labels.Options{Cite: "examples/screen/bundled/case-labels.csv"})
	} else {
		set, err = labels.LoadSet(ctx, splitList(o.caseLabels)...)
	}
	if err != nil {
		return nil, err
	}
	chain := graph.Bitcoin
	if scn.Model == graph.Account {
		chain = graph.Ethereum
	}
	s, err := screen.New(screen.Options{Chain: chain, Policy: pol, Labels: set})
	if err != nil {
		return nil, err
	}
	var height uint64
	for _, b := range scn.Blocks() {
		height = max(height, b.Height)
	}
	s.Update(res, height, "")
	return screeners{chain: s}, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type ethSource struct{ c *ethereum.Client }

func (s ethSource) Tip(ctx context.Context) (uint64, error) { return s.c.Head(ctx) }
func (s ethSource) Block(ctx context.Context, h uint64) (*graph.Block, error) {
	d, err := s.c.Block(ctx, h)
	if err != nil {
		return nil, err
	}
	return d.Block, nil
}
func (s ethSource) BlockHash(ctx context.Context, h uint64) (string, error) {
	return s.c.BlockHash(ctx, h)
}

type btcSource struct{ r *bitcoin.RPC }

func (s btcSource) Tip(ctx context.Context) (uint64, error) { return s.r.BestHeight(ctx) }
func (s btcSource) Block(ctx context.Context, h uint64) (*graph.Block, error) {
	return s.r.Block(ctx, h)
}
func (s btcSource) BlockHash(ctx context.Context, h uint64) (string, error) {
	return s.r.BlockHash(ctx, h)
}

// nodeMode opens the store and makes one screener and one feed per node given; the feeds
// dial their nodes once the service listens (feed.run).
func nodeMode(ctx context.Context, o options, pol *screen.Policy, log *slog.Logger) (screeners, []*feed, []func(), error) {
	if o.store == "" {
		return nil, nil, nil, errors.New("node mode needs -store")
	}
	var btcNet *chaincfg.Params
	if o.btcRPC != "" {
		nets := map[string]*chaincfg.Params{"mainnet": &chaincfg.MainNetParams, "testnet": &chaincfg.TestNet3Params, "signet": &chaincfg.SigNetParams, "regtest": &chaincfg.RegressionNetParams}
		if btcNet = nets[o.btcNet]; btcNet == nil {
			return nil, nil, nil, fmt.Errorf("-btc-net %q: want mainnet, testnet, signet or regtest", o.btcNet)
		}
		if o.btcUser == "" {
			return nil, nil, nil, fmt.Errorf("-btc-rpc %s: no RPC user: give the node's rpcuser and rpcpassword with -btc-user and -btc-pass (cookie authentication is not supported)", o.btcRPC)
		}
	}
	var ethAssets []graph.Asset
	if o.ethRPC != "" {
		var err error
		if ethAssets, err = parseAssets(o.ethAssets); err != nil {
			return nil, nil, nil, err
		}
	}
	set := labels.NewSet()
	var err error
	if o.seeds == "" && o.exchanges == "" {
		_, err = bundled.Load(ctx, set)
	} else {
		set, err = labels.LoadSet(ctx, append(splitList(o.seeds), splitList(o.exchanges)...)...)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: o.store})
	if err != nil {
		return nil, nil, nil, err
	}
	closers := []func(){func() { _ = st.Close() }}
	sc := screeners{}
	var feeds []*feed
	add := func(chain graph.Chain, waitingFor string, dial func(context.Context) (screen.BlockSource, func(), error)) error {
		cfg, conflicts := screen.TraceConfig(set, chain, o.method)
		for _, c := range conflicts {
			log.Warn("label conflict left out", "chain", c.Chain, "address", c.Address, "reason", c.Reason)
		}
		if chain == graph.Ethereum {
			cfg.Params.Assets = ethAssets
		}
		if chain == graph.Bitcoin && o.start > 1 {
			if _, ok, err := st.WindowStart(ctx, chain); err != nil {
				return err
			} else if !ok {
				if err := st.SetWindowStart(ctx, chain, o.start); err != nil {
					return err
				}
			}
		}
		s, err := screen.New(screen.Options{Chain: chain, Policy: pol, Labels: set})
		if err != nil {
			return err
		}
		log.Info("screening", "chain", chain, "seeds", len(cfg.Seeds), "exchanges", len(cfg.Exchanges), "node", waitingFor)
		sc[chain] = s
		feeds = append(feeds, &feed{chain: chain, screener: s, waitingFor: waitingFor, dial: dial,
			follow: func(ctx context.Context, src screen.BlockSource) (*screen.Follower, error) {
				return screen.Follow(ctx, screen.FollowOptions{
					Name: "screen-" + string(chain), Chain: chain, Start: o.start, Confirmations: o.confirmations,
					Config: cfg, CheckpointEvery: o.ckptEvery, Store: st, Source: src, Screener: s,
				})
			}})
		return nil
	}
	if o.ethRPC != "" {
		err := add(graph.Ethereum, "the Ethereum node at "+o.ethRPC, func(ctx context.Context) (screen.BlockSource, func(), error) {
			c, err := ethereum.Dial(ctx, o.ethRPC, ethereum.Options{Logger: log})
			if err != nil {
				return nil, nil, err
			}
			if _, err := c.Head(ctx); err != nil {
				c.Close()
				return nil, nil, err
			}
			return ethSource{c}, c.Close, nil
		})
		if err != nil {
			st.Close()
			return nil, nil, nil, err
		}
	}
	if o.btcRPC != "" {
		err := add(graph.Bitcoin, "the Bitcoin node at "+o.btcRPC, func(ctx context.Context) (screen.BlockSource, func(), error) {
			r, err := bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: o.btcRPC, User: o.btcUser, Pass: o.btcPass, Net: btcNet, TLS: o.btcTLS})
			if err != nil {
				return nil, nil, err
			}
			return btcSource{r}, r.Close, nil
		})
		if err != nil {
			st.Close()
			return nil, nil, nil, err
		}
	}
	return sc, feeds, closers, nil
}

// parseAssets parses -eth-assets: "ETH" (any case) and token contract addresses,
// comma-separated, into asset names as the Ethereum adapter writes them.
func parseAssets(list string) ([]graph.Asset, error) {
	var out []graph.Asset
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case strings.EqualFold(f, string(graph.ETH)):
			out = append(out, graph.ETH)
		default:
			a, err := graph.ParseAddress(graph.Ethereum, f)
			if err != nil {
				return nil, fmt.Errorf("-eth-assets: %q is neither ETH nor a token contract address: %w", f, err)
			}
			out = append(out, graph.Asset(a))
		}
	}
	return out, nil
}

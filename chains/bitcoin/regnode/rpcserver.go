package regnode

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// maxRequestBody bounds one HTTP request (a batch of a few thousand calls fits).
const maxRequestBody = 8 << 20

// rpcHandler answers one method's parsed command (a btcjson *XxxCmd).
type rpcHandler func(n *Node, cmd any) (any, *btcjson.RPCError)

// rpcHandlers are the methods served, the ones chaintrace's Bitcoin RPC source and a
// user poking at the chain use; replies have btcd's shapes (rpcserver.go of btcd v0.25.0).
var rpcHandlers = map[string]rpcHandler{
	"getbestblockhash":  handleGetBestBlockHash,
	"getblock":          handleGetBlock,
	"getblockchaininfo": handleGetBlockChainInfo,
	"getblockcount":     handleGetBlockCount,
	"getblockhash":      handleGetBlockHash,
	"getblockheader":    handleGetBlockHeader,
	"getrawtransaction": handleGetRawTransaction,
}

// servedMethods lists rpcHandlers' methods for the method-not-found message.
var servedMethods = func() string {
	var m []string
	for k := range rpcHandlers {
		m = append(m, k)
	}
	sort.Strings(m)
	return strings.Join(m, ", ")
}()

// ServeHTTP serves JSON-RPC: basic authentication, then one request or a batch.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !n.authorized(r) {
		w.Header().Add("WWW-Authenticate", `Basic realm="regnode RPC"`)
		http.Error(w, "401 Unauthorized.", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 JSON-RPC takes POST requests.", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		http.Error(w, fmt.Sprintf("400 error reading JSON message: %v", err), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(n.serveBody(body), '\n'))
}

// authorized checks the Authorization header in constant time, as btcd does.
func (n *Node) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		return false
	}
	sum := sha256.Sum256([]byte(h))
	return subtle.ConstantTimeCompare(sum[:], n.authSHA[:]) == 1
}

// serveBody answers a request body: a JSON array is a batch, answered with an array of
// replies in request order; anything else is a single request.
func (n *Node) serveBody(body []byte) []byte {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return n.serveOne(body)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(body, &entries); err != nil {
		return reply("2.0", nil, nil, &btcjson.RPCError{Code: btcjson.ErrRPCParse.Code, Message: "Failed to parse request: " + err.Error()})
	}
	if len(entries) == 0 {
		return reply("2.0", nil, nil, &btcjson.RPCError{Code: btcjson.ErrRPCInvalidRequest.Code, Message: "Invalid request: empty batch"})
	}
	var out bytes.Buffer
	out.WriteByte('[')
	for i, e := range entries {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(n.serveOne(e))
	}
	out.WriteByte(']')
	return out.Bytes()
}

// serveOne answers one request object.
func (n *Node) serveOne(raw []byte) []byte {
	// btcjson's Request.UnmarshalJSON dereferences a nil pointer on a JSON null (btcd
	// v0.25.0): only an object goes to it.
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return reply(btcjson.RpcVersion1, nil, nil, &btcjson.RPCError{Code: btcjson.ErrRPCParse.Code,
			Message: "Failed to parse request: a request is a JSON object"})
	}
	var req btcjson.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		return reply(btcjson.RpcVersion1, nil, nil, &btcjson.RPCError{Code: btcjson.ErrRPCParse.Code, Message: "Failed to parse request: " + err.Error()})
	}
	if req.Method == "" || req.Params == nil {
		return reply(req.Jsonrpc, req.ID, nil, &btcjson.RPCError{Code: btcjson.ErrRPCInvalidRequest.Code, Message: "Invalid request: malformed"})
	}
	handler, ok := rpcHandlers[req.Method]
	if !ok {
		return reply(req.Jsonrpc, req.ID, nil, &btcjson.RPCError{Code: btcjson.ErrRPCMethodNotFound.Code,
			Message: fmt.Sprintf("Method not found: %.64q (this regtest node serves %s)", req.Method, servedMethods)})
	}
	cmd, err := btcjson.UnmarshalCmd(&req)
	if err != nil {
		return reply(req.Jsonrpc, req.ID, nil, btcjson.NewRPCError(btcjson.ErrRPCInvalidParams.Code, err.Error()))
	}
	result, rpcErr := handler(n, cmd)
	return reply(req.Jsonrpc, req.ID, result, rpcErr)
}

// reply marshals a JSON-RPC response in the request's version: btcjson reads a missing
// or unknown "jsonrpc" as "", answered as 1.0 (a reply to anything is better than
// btcd's silence). An id btcjson refuses (an object, an array) gets an error reply with
// a null id.
func reply(version btcjson.RPCVersion, id, result any, rpcErr *btcjson.RPCError) []byte {
	if !version.IsValid() {
		version = btcjson.RpcVersion1
	}
	if rpcErr != nil {
		result = nil
	}
	b, err := btcjson.MarshalResponse(version, id, result, rpcErr)
	if err != nil {
		b, _ = btcjson.MarshalResponse(version, nil, nil, &btcjson.RPCError{
			Code: btcjson.ErrRPCInvalidRequest.Code, Message: "Invalid request: " + err.Error()})
	}
	return b
}

func internalError(msg string) *btcjson.RPCError {
	return btcjson.NewRPCError(btcjson.ErrRPCInternal.Code, msg)
}

func decodeHexError(s string) *btcjson.RPCError {
	return btcjson.NewRPCError(btcjson.ErrRPCDecodeHexString, fmt.Sprintf("Argument must be hexadecimal string (not %q)", s))
}

func handleGetBestBlockHash(n *Node, _ any) (any, *btcjson.RPCError) {
	return n.chain.BestSnapshot().Hash.String(), nil
}

func handleGetBlockCount(n *Node, _ any) (any, *btcjson.RPCError) {
	return int64(n.chain.BestSnapshot().Height), nil
}

func handleGetBlockHash(n *Node, cmd any) (any, *btcjson.RPCError) {
	c := cmd.(*btcjson.GetBlockHashCmd)
	outOfRange := &btcjson.RPCError{Code: btcjson.ErrRPCOutOfRange, Message: "Block number out of range"}
	if c.Index < 0 || c.Index > math.MaxInt32 {
		return nil, outOfRange
	}
	hash, err := n.chain.BlockHashByHeight(int32(c.Index))
	if err != nil {
		return nil, outOfRange
	}
	return hash.String(), nil
}

func handleGetBlock(n *Node, cmd any) (any, *btcjson.RPCError) {
	c := cmd.(*btcjson.GetBlockCmd)
	hash, err := chainhash.NewHashFromStr(c.Hash)
	if err != nil {
		return nil, decodeHexError(c.Hash)
	}
	raw, err := n.rawBlock(hash)
	if err != nil {
		return nil, &btcjson.RPCError{Code: btcjson.ErrRPCBlockNotFound, Message: "Block not found"}
	}
	if c.Verbosity != nil && *c.Verbosity == 0 {
		return hex.EncodeToString(raw), nil
	}
	blk, err := btcutil.NewBlockFromBytes(raw)
	if err != nil {
		return nil, internalError(err.Error())
	}
	height, err := n.chain.BlockHeightByHash(hash)
	if err != nil {
		return nil, internalError(err.Error())
	}
	blk.SetHeight(height)
	best := n.chain.BestSnapshot()
	next, rpcErr := n.nextHash(height, best.Height)
	if rpcErr != nil {
		return nil, rpcErr
	}
	hdr := &blk.MsgBlock().Header
	res := btcjson.GetBlockVerboseResult{
		Hash:          c.Hash,
		Version:       hdr.Version,
		VersionHex:    fmt.Sprintf("%08x", hdr.Version),
		MerkleRoot:    hdr.MerkleRoot.String(),
		PreviousHash:  hdr.PrevBlock.String(),
		Nonce:         hdr.Nonce,
		Time:          hdr.Timestamp.Unix(),
		Confirmations: int64(1 + best.Height - height),
		Height:        int64(height),
		Size:          int32(len(raw)),
		StrippedSize:  int32(blk.MsgBlock().SerializeSizeStripped()),
		Weight:        int32(blockchain.GetBlockWeight(blk)),
		Bits:          strconv.FormatInt(int64(hdr.Bits), 16),
		Difficulty:    difficultyRatio(hdr.Bits, n.params),
		NextHash:      next,
	}
	// btcd answers verbosity 1 with txids and any other verbosity (2, 3) with the
	// transactions decoded under "rawtx".
	if c.Verbosity == nil || *c.Verbosity == 1 {
		for _, tx := range blk.Transactions() {
			res.Tx = append(res.Tx, tx.Hash().String())
		}
		return res, nil
	}
	for _, tx := range blk.Transactions() {
		r, rpcErr := txRawResult(n.params, tx.MsgTx(), tx.Hash().String(), hdr, c.Hash, height, best.Height)
		if rpcErr != nil {
			return nil, rpcErr
		}
		res.RawTx = append(res.RawTx, *r)
	}
	return res, nil
}

// nextHash is the hash of the block after height on the main chain, "" at the tip.
func (n *Node) nextHash(height, best int32) (string, *btcjson.RPCError) {
	if height >= best {
		return "", nil
	}
	h, err := n.chain.BlockHashByHeight(height + 1)
	if err != nil {
		return "", internalError(err.Error())
	}
	return h.String(), nil
}

func handleGetBlockHeader(n *Node, cmd any) (any, *btcjson.RPCError) {
	c := cmd.(*btcjson.GetBlockHeaderCmd)
	hash, err := chainhash.NewHashFromStr(c.Hash)
	if err != nil {
		return nil, decodeHexError(c.Hash)
	}
	hdr, err := n.chain.HeaderByHash(hash)
	if err != nil {
		return nil, &btcjson.RPCError{Code: btcjson.ErrRPCBlockNotFound, Message: "Block not found"}
	}
	if c.Verbose != nil && !*c.Verbose {
		var buf bytes.Buffer
		if err := hdr.Serialize(&buf); err != nil {
			return nil, internalError(err.Error())
		}
		return hex.EncodeToString(buf.Bytes()), nil
	}
	height, err := n.chain.BlockHeightByHash(hash)
	if err != nil {
		return nil, internalError(err.Error())
	}
	best := n.chain.BestSnapshot()
	next, rpcErr := n.nextHash(height, best.Height)
	if rpcErr != nil {
		return nil, rpcErr
	}
	return btcjson.GetBlockHeaderVerboseResult{
		Hash:          c.Hash,
		Confirmations: int64(1 + best.Height - height),
		Height:        height,
		Version:       hdr.Version,
		VersionHex:    fmt.Sprintf("%08x", hdr.Version),
		MerkleRoot:    hdr.MerkleRoot.String(),
		NextHash:      next,
		PreviousHash:  hdr.PrevBlock.String(),
		Nonce:         uint64(hdr.Nonce),
		Time:          hdr.Timestamp.Unix(),
		Bits:          strconv.FormatInt(int64(hdr.Bits), 16),
		Difficulty:    difficultyRatio(hdr.Bits, n.params),
	}, nil
}

// deploymentNames are btcd's names of the BIP 9 deployments in getblockchaininfo.
var deploymentNames = map[int]string{
	chaincfg.DeploymentTestDummy:              "dummy",
	chaincfg.DeploymentTestDummyMinActivation: "dummy-min-activation",
	chaincfg.DeploymentTestDummyAlwaysActive:  "dummy-always-active",
	chaincfg.DeploymentCSV:                    "csv",
	chaincfg.DeploymentSegwit:                 "segwit",
	chaincfg.DeploymentTaproot:                "taproot",
}

func handleGetBlockChainInfo(n *Node, _ any) (any, *btcjson.RPCError) {
	p := n.params
	best := n.chain.BestSnapshot()
	info := &btcjson.GetBlockChainInfoResult{
		Chain:         p.Name,
		Blocks:        best.Height,
		Headers:       best.Height,
		BestBlockHash: best.Hash.String(),
		Difficulty:    difficultyRatio(best.Bits, p),
		MedianTime:    best.MedianTime.Unix(),
		SoftForks:     &btcjson.SoftForks{Bip9SoftForks: map[string]*btcjson.Bip9SoftForkDescription{}},
	}
	for _, f := range []struct {
		id      string
		version uint32
		height  int32
	}{{"bip34", 2, p.BIP0034Height}, {"bip66", 3, p.BIP0066Height}, {"bip65", 4, p.BIP0065Height}} {
		d := &btcjson.SoftForkDescription{ID: f.id, Version: f.version}
		d.Reject.Status = best.Height >= f.height
		info.SoftForks.SoftForks = append(info.SoftForks.SoftForks, d)
	}
	for id, d := range p.Deployments {
		name, ok := deploymentNames[id]
		if !ok {
			return nil, internalError(fmt.Sprintf("Unknown deployment %v detected", id))
		}
		state, err := n.chain.ThresholdState(uint32(id))
		if err != nil {
			return nil, internalError(err.Error())
		}
		var start, end int64
		if s, ok := d.DeploymentStarter.(*chaincfg.MedianTimeDeploymentStarter); ok {
			start = s.StartTime().Unix()
		}
		if e, ok := d.DeploymentEnder.(*chaincfg.MedianTimeDeploymentEnder); ok {
			end = e.EndTime().Unix()
		}
		info.SoftForks.Bip9SoftForks[name] = &btcjson.Bip9SoftForkDescription{
			Status:              thresholdName(state),
			Bit:                 d.BitNumber,
			StartTime2:          start,
			Timeout:             end,
			MinActivationHeight: int32(d.MinActivationHeight),
		}
	}
	return info, nil
}

func thresholdName(s blockchain.ThresholdState) string {
	switch s {
	case blockchain.ThresholdDefined:
		return "defined"
	case blockchain.ThresholdStarted:
		return "started"
	case blockchain.ThresholdLockedIn:
		return "lockedin"
	case blockchain.ThresholdActive:
		return "active"
	case blockchain.ThresholdFailed:
		return "failed"
	}
	return "unknown"
}

func handleGetRawTransaction(n *Node, cmd any) (any, *btcjson.RPCError) {
	c := cmd.(*btcjson.GetRawTransactionCmd)
	hash, err := chainhash.NewHashFromStr(c.Txid)
	if err != nil {
		return nil, decodeHexError(c.Txid)
	}
	verbose := c.Verbose != nil && *c.Verbose != 0
	n.idxMu.RLock()
	loc, mined := n.txIdx[*hash]
	pending := n.pendingIdx[*hash]
	n.idxMu.RUnlock()
	if !mined {
		if pending == nil {
			return nil, btcjson.NewRPCError(btcjson.ErrRPCNoTxInfo, fmt.Sprintf("No information available about transaction %v", hash))
		}
		if !verbose {
			return txHex(pending.MsgTx())
		}
		r, rpcErr := txRawResult(n.params, pending.MsgTx(), hash.String(), nil, "", 0, 0)
		if rpcErr != nil {
			return nil, rpcErr
		}
		return *r, nil
	}
	blk, err := n.chain.BlockByHeight(loc.height)
	if err != nil || loc.index >= len(blk.Transactions()) {
		return nil, btcjson.NewRPCError(btcjson.ErrRPCNoTxInfo, fmt.Sprintf("No information available about transaction %v", hash))
	}
	tx := blk.Transactions()[loc.index].MsgTx()
	if !verbose {
		return txHex(tx)
	}
	r, rpcErr := txRawResult(n.params, tx, hash.String(), &blk.MsgBlock().Header, blk.Hash().String(), loc.height, n.chain.BestSnapshot().Height)
	if rpcErr != nil {
		return nil, rpcErr
	}
	return *r, nil
}

func txHex(tx *wire.MsgTx) (any, *btcjson.RPCError) {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return nil, internalError(err.Error())
	}
	return hex.EncodeToString(buf.Bytes()), nil
}

// txRawResult is btcd's createTxRawResult: the decoded transaction, and with a block
// header its block's hash, time and confirmations.
func txRawResult(params *chaincfg.Params, tx *wire.MsgTx, txid string, hdr *wire.BlockHeader, blockHash string, height, best int32) (*btcjson.TxRawResult, *btcjson.RPCError) {
	h, rpcErr := txHex(tx)
	if rpcErr != nil {
		return nil, rpcErr
	}
	utx := btcutil.NewTx(tx)
	weight := blockchain.GetTransactionWeight(utx)
	r := &btcjson.TxRawResult{
		Hex:      h.(string),
		Txid:     txid,
		Hash:     tx.WitnessHash().String(),
		Size:     int32(tx.SerializeSize()),
		Vsize:    int32((weight + blockchain.WitnessScaleFactor - 1) / blockchain.WitnessScaleFactor),
		Weight:   int32(weight),
		Vin:      vinList(tx),
		Vout:     voutList(tx, params),
		Version:  uint32(tx.Version),
		LockTime: tx.LockTime,
	}
	if hdr != nil {
		r.Time = hdr.Timestamp.Unix()
		r.Blocktime = hdr.Timestamp.Unix()
		r.BlockHash = blockHash
		r.Confirmations = uint64(1 + best - height)
	}
	return r, nil
}

// vinList is btcd's createVinList.
func vinList(tx *wire.MsgTx) []btcjson.Vin {
	vins := make([]btcjson.Vin, len(tx.TxIn))
	if blockchain.IsCoinBaseTx(tx) {
		in := tx.TxIn[0]
		vins[0].Coinbase = hex.EncodeToString(in.SignatureScript)
		vins[0].Sequence = in.Sequence
		vins[0].Witness = in.Witness.ToHexStrings()
		return vins
	}
	for i, in := range tx.TxIn {
		asm, _ := txscript.DisasmString(in.SignatureScript) // [error] inline on a bad script
		v := &vins[i]
		v.Txid = in.PreviousOutPoint.Hash.String()
		v.Vout = in.PreviousOutPoint.Index
		v.Sequence = in.Sequence
		v.ScriptSig = &btcjson.ScriptSig{Asm: asm, Hex: hex.EncodeToString(in.SignatureScript)}
		if tx.HasWitness() {
			v.Witness = in.Witness.ToHexStrings()
		}
	}
	return vins
}

// voutList is btcd's createVoutList (without its address filter).
func voutList(tx *wire.MsgTx, params *chaincfg.Params) []btcjson.Vout {
	vouts := make([]btcjson.Vout, 0, len(tx.TxOut))
	for i, o := range tx.TxOut {
		asm, _ := txscript.DisasmString(o.PkScript)
		class, addrs, reqSigs, _ := txscript.ExtractPkScriptAddrs(o.PkScript, params)
		enc := make([]string, len(addrs))
		for j, a := range addrs {
			enc[j] = a.EncodeAddress()
		}
		var v btcjson.Vout
		v.N = uint32(i)
		// btcd's reply shape: the value in BTC as a JSON number. chaintrace reads values
		// from the transaction's hex, never from this field.
		v.Value = btcutil.Amount(o.Value).ToBTC()
		v.ScriptPubKey.Addresses = enc
		v.ScriptPubKey.Asm = asm
		v.ScriptPubKey.Hex = hex.EncodeToString(o.PkScript)
		v.ScriptPubKey.Type = class.String()
		v.ScriptPubKey.ReqSigs = int32(reqSigs)
		if len(enc) == 1 && reqSigs <= 1 {
			v.ScriptPubKey.Address = enc[0]
		}
		vouts = append(vouts, v)
	}
	return vouts
}

// difficultyRatio is btcd's getDifficultyRatio: the target of bits as a multiple of the
// network's easiest, as the float the RPC reply carries.
func difficultyRatio(bits uint32, params *chaincfg.Params) float64 {
	max := blockchain.CompactToBig(params.PowLimitBits)
	target := blockchain.CompactToBig(bits)
	if target.Sign() == 0 {
		return 0
	}
	d, err := strconv.ParseFloat(new(big.Rat).SetFrac(max, target).FloatString(8), 64)
	if err != nil {
		return 0
	}
	return d
}

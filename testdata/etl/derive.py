#!/usr/bin/env python3
"""Rebuild testdata/etl from the real blockchain-etl fixtures (see SOURCES.md).

Usage: python3 testdata/etl/derive.py /work/shared/data   (run from the repository root)

Most files are plain copies; files above 60 kB are stored gzip-compressed (name.gz). A few tables that the fixture repositories do not ship are
derived, never invented, and SOURCES.md says which:
  * re-layouts of real rows into another table or format (ethereum-etl column order and CSV
    conventions: None -> empty, lists joined with commas, booleans True/False);
  * for the trace-only fixture blocks, blocks/transactions/receipts rows built from the
    real trace_block responses (hashes, from, to, value, positions). Their fee fields
    (gas_used, effective_gas_price) are 0 because no receipt of those blocks is available.
"""
import csv, gzip, io, json, os, shutil, sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"
ETH = os.path.join(SRC, "ethereum-etl-testdata")
BTC = os.path.join(SRC, "bitcoin-etl-testdata", "bitcoin")
DST = os.path.join("testdata", "etl")

RECEIPT_COLS = ["transaction_hash", "transaction_index", "block_hash", "block_number", "cumulative_gas_used",
                "gas_used", "contract_address", "root", "status", "effective_gas_price", "l1_fee", "l1_gas_used",
                "l1_gas_price", "l1_fee_scalar"]
TT_COLS = ["token_address", "from_address", "to_address", "value", "transaction_hash", "log_index", "block_number"]
LOG_COLS = ["log_index", "transaction_hash", "transaction_index", "block_hash", "block_number", "address", "data", "topics"]
BLOCK_COLS = ["number", "hash", "parent_hash", "nonce", "sha3_uncles", "logs_bloom", "transactions_root", "state_root",
              "receipts_root", "miner", "difficulty", "total_difficulty", "size", "extra_data", "gas_limit", "gas_used",
              "timestamp", "transaction_count", "base_fee_per_gas", "withdrawals_root", "withdrawals"]
TX_COLS = ["hash", "nonce", "block_hash", "block_number", "transaction_index", "from_address", "to_address", "value", "gas",
           "gas_price", "input", "block_timestamp", "max_fee_per_gas", "max_priority_fee_per_gas", "transaction_type"]


def cp(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)


def jl(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, list):
        return ",".join(cell(x) for x in v)
    return str(v)


def write_csv(path, cols, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([cell(r.get(c)) for c in cols])


def write_jl(path, cols, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps({c: r.get(c) for c in cols}) + "\n")


def ethereum():
    d = os.path.join(DST, "ethereum")
    # block 483920: blocks/transactions (export_blocks), receipts/logs (export_receipts),
    # token_transfers (export_token_transfers) of the same block
    b = os.path.join(d, "block_483920")
    cp(f"{ETH}/test_export_blocks_job/block_with_logs/expected_blocks.csv", f"{b}/blocks.csv")
    cp(f"{ETH}/test_export_blocks_job/block_with_logs/expected_transactions.csv", f"{b}/transactions.csv")
    for t in ["receipts", "logs"]:
        for ext in ["csv", "json"]:
            cp(f"{ETH}/test_export_receipts_job/receipts_with_logs/expected_{t}.{ext}", f"{b}/{t}.{ext}")
    cp(f"{ETH}/test_export_token_transfers_job/block_with_transfers/expected_token_transfers.csv", f"{b}/token_transfers.csv")

    # the JSON-RPC responses ethereum-etl exported block 483920 from (copies), for the
    # cross-check against the RPC adapter (chains/ethereum)
    for f in ["test_export_blocks_job/block_with_logs/web3_response.eth_getBlockByNumber_0x76250_true.json"] + [
            f"test_export_receipts_job/receipts_with_logs/web3_response.eth_getTransactionReceipt_{h}.json" for h in [
                "0x04cbcb236043d8fb7839e07bbc7f5eed692fb2ca55d897f1101eac3e3ad4fab8",
                "0xcea6f89720cc1d2f46cc7a935463ae0b99dd5fad9c91bb7357de5421511cee49",
                "0x463d53f0ad57677a3b430a007c1c31d15d62c37fab5eee598551697c297c235c",
                "0x05287a561f218418892ab053adfb3d919860988b19458c570c5c30f51c146f02"]]:
        cp(f"{ETH}/{f}", f"{b}/rpc/{os.path.basename(f)}")

    # blocks 17173049-17173050: export_blocks CSV and JSON, stream JSON (transactions with
    # receipt_* fields, logs, token transfers); receipts and token transfers re-laid as CSV
    b = os.path.join(d, "blocks_17173049_17173050")
    for t in ["blocks", "transactions"]:
        for ext in ["csv", "json"]:
            cp(f"{ETH}/test_export_blocks_job/blocks_with_transactions_and_withdrawals/expected_{t}.{ext}", f"{b}/{t}.{ext}")
    s = f"{ETH}/test_stream/blocks_17173049_17173050"
    for t in ["blocks", "transactions", "logs", "token_transfers"]:
        cp(f"{s}/expected_{t}.json", f"{b}/stream_{t}.json")
    rows = []
    for t in jl(f"{s}/expected_transactions.json"):
        r = {c: t.get("receipt_" + c) for c in RECEIPT_COLS}
        r.update(transaction_hash=t["hash"], transaction_index=t["transaction_index"], block_hash=t["block_hash"],
                 block_number=t["block_number"])
        rows.append(r)
    write_csv(f"{b}/receipts.csv", RECEIPT_COLS, rows)
    write_jl(f"{b}/receipts.json", RECEIPT_COLS, rows)
    write_csv(f"{b}/token_transfers.csv", TT_COLS, jl(f"{s}/expected_token_transfers.json"))
    write_csv(f"{b}/logs.csv", LOG_COLS, jl(f"{s}/expected_logs.json"))

    # blocks 1755634-1755635: stream JSON
    b = os.path.join(d, "blocks_1755634_1755635")
    for t in ["blocks", "transactions", "logs", "token_transfers"]:
        cp(f"{ETH}/test_stream/blocks_1755634_1755635/expected_{t}.json", f"{b}/{t}.json")
    for f in os.listdir(f"{ETH}/test_stream/blocks_1755634_1755635"):
        if f.startswith("web3_response.eth_get") and "latest" not in f:
            cp(f"{ETH}/test_stream/blocks_1755634_1755635/{f}", f"{b}/rpc/{f}")

    # traces: parity (export_traces) and geth (extract_geth_traces) of the same blocks, and
    # the streamed parity traces of 508110 and 2112234
    cases = {"block_with_subtraces": ("0xf4240", 1000000), "block_with_create": ("0xf44f2", 1000690),
             "block_with_error": ("0xf45bf", 1000895), "block_with_suicide": ("0xf7105", 1011973)}
    for case, (hexn, n) in cases.items():
        b = os.path.join(d, f"traces_{n}")
        cp(f"{ETH}/test_export_traces_job/{case}/expected_traces.csv", f"{b}/traces_parity.csv")
        cp(f"{ETH}/test_extract_geth_traces_job/{case}/expected_traces.csv", f"{b}/traces_geth.csv")
        resp = json.load(open(f"{ETH}/test_export_traces_job/{case}/web3_response.trace_block_{hexn}.json"))["result"]
        trace_block_rows(b, n, resp[0]["blockHash"], "", "", resp)
    for n, hexn in [(508110, "0x7c0ce"), (2112234, "0x203aea")]:
        s = f"{ETH}/test_stream/blocks_{n}_{n}"
        b = os.path.join(d, f"traces_{n}")
        cp(f"{s}/expected_traces.json", f"{b}/traces.json")
        cp(f"{s}/expected_contracts.json", f"{b}/contracts.json")
        blk = json.load(open(f"{s}/web3_response.eth_getBlockByNumber_{hexn}_false.json"))["result"]
        resp = json.load(open(f"{s}/web3_response.trace_block_{hexn}.json"))["result"]
        trace_block_rows(b, n, blk["hash"], blk["parentHash"], int(blk["timestamp"], 16), resp)


def trace_block_rows(b, n, block_hash, parent, ts, resp):
    """blocks/transactions/receipts rows of a trace-only fixture block, from its trace_block response."""
    txs = {}
    for t in resp:
        if t["transactionHash"] is None or t["traceAddress"]:
            continue
        a = t["action"]
        created = (t.get("result") or {}).get("address")
        txs[t["transactionPosition"]] = {
            "hash": t["transactionHash"], "block_hash": block_hash, "block_number": n,
            "transaction_index": t["transactionPosition"], "from_address": a["from"],
            "to_address": a.get("to") if t["type"] == "call" else None, "value": int(a["value"], 16),
            "block_timestamp": ts, "transaction_type": 0, "contract_address": created,
        }
    txs = [txs[i] for i in sorted(txs)]
    write_csv(f"{b}/blocks.csv", BLOCK_COLS, [{"number": n, "hash": block_hash, "parent_hash": parent, "timestamp": ts,
                                              "transaction_count": len(txs)}])
    write_csv(f"{b}/transactions.csv", TX_COLS, txs)
    write_csv(f"{b}/receipts.csv", RECEIPT_COLS, [{"transaction_hash": t["hash"], "transaction_index": t["transaction_index"],
                                                  "block_hash": block_hash, "block_number": n, "gas_used": 0,
                                                  "effective_gas_price": 0, "contract_address": t["contract_address"]}
                                                 for t in txs])


def bitcoin():
    d = os.path.join(DST, "bitcoin")
    for case, name in [("block_0", "block_0"), ("block_1", "block_1"), ("block_without_transactions", "block_50000"),
                       ("block_with_transactions", "blocks_50001_50002_raw"),
                       ("stream_50001_50002", "blocks_50001_50002_enriched")]:
        for t in ["blocks", "transactions"]:
            cp(f"{BTC}/{case}/expected_{t}.json", f"{d}/{name}/{t}.json")


def compress_large(limit=60000):
    """gzip (deterministically, mtime 0) every file above limit bytes; the reader detects gzip."""
    for root, _, files in os.walk(DST):
        for f in files:
            p = os.path.join(root, f)
            if f.endswith((".csv", ".json")) and os.path.getsize(p) > limit:
                with open(p, "rb") as src, open(p + ".gz", "wb") as raw:
                    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as z:
                        z.write(src.read())
                os.remove(p)


if __name__ == "__main__":
    ethereum()
    bitcoin()
    compress_large()

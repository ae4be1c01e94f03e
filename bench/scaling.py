#!/usr/bin/env python3
"""scaling.py - thread scaling of convkit-bench runs.

Reads the JSON summaries (convkit-bench --json FILE) of the same cases run
at two thread counts - scripts/bench-scaling.sh makes them with --threads 1
and --threads 2 - and prints, per suite and layer, each implementation's
throughput at both counts and their ratio:

  python3 bench/scaling.py T1.json T2.json [--peers convkit,convkit_blocked,onednn_any]
                           [--target 1.85]

The implementations are convkit (NCHW), convkit_blocked (convkit on its
channel-blocked layout, conv forward suites) and onednn_any (oneDNN on its
preferred layouts) unless --peers says otherwise; one absent from every
case is left out.  Throughput is GFLOP/s (GB/s in the memory-bound
suites): the summary's convkit rate scaled by convkit's time over the
peer's.  "xT" is the rate at the second run's thread count over the rate
at the first's; with 1 and 2 threads, a layer meets --target (default
1.85, "2 threads: at least 1.85x the 1-thread rate") when xT >= target,
and the geomean row summarises every column.  The two runs are separate
processes, so on a shared machine their ratio carries both runs' noise:
use repetitions (--benchmark_repetitions=5) for figures to quote.

Exit status: 0, or 1 for unreadable input or runs with nothing in common,
2 for a usage error (standard library only).
"""

import argparse
import json
import math
import sys

DEFAULT_PEERS = "convkit,convkit_blocked,onednn_any"


def load(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            run = json.load(f)
        if not isinstance(run, dict) or not isinstance(run.get("cases"), list):
            raise ValueError("not a convkit-bench summary (no 'cases' array)")
        return run
    except (OSError, ValueError) as e:
        sys.exit(f"scaling.py: {path}: {e}")


def rates(case):
    """{peer: throughput} of one case, and the unit."""
    sec = case.get("convkit_seconds")
    unit, rate = ("GFLOP/s", case.get("gflops"))
    if rate is None:
        unit, rate = ("GB/s", case.get("gbps"))
    out = {}
    if not (isinstance(sec, (int, float)) and sec > 0 and isinstance(rate, (int, float))):
        return out, unit
    out["convkit"] = rate
    for peer, s in (case.get("peer_seconds") or {}).items():
        if isinstance(s, (int, float)) and s > 0:
            out[peer] = rate * sec / s
    return out, unit


def fmt(v, digits=1):
    return "-" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def geomean(values):
    vals = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    return math.exp(sum(map(math.log, vals)) / len(vals)) if vals else None


def print_table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, r in enumerate(rows):
        print("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                        for i, c in enumerate(r)).rstrip())
        if k == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 1)))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Thread scaling of two convkit-bench JSON "
                                             "summaries (see the module docstring).")
    ap.add_argument("first", help="summary of the run with fewer threads (e.g. --threads 1)")
    ap.add_argument("second", help="summary of the run with more threads (e.g. --threads 2)")
    ap.add_argument("--peers", default=DEFAULT_PEERS,
                    help=f"comma-separated implementations (default: {DEFAULT_PEERS})")
    ap.add_argument("--target", type=float, default=1.85,
                    help="scaling a layer should reach, second / first rate (default: 1.85)")
    args = ap.parse_args(argv)
    peers = [p for p in args.peers.split(",") if p]
    if not peers:
        ap.error("--peers: no implementation named")

    run1, run2 = load(args.first), load(args.second)
    t1, t2 = run1.get("threads"), run2.get("threads")
    print(f"thread scaling: {args.first} ({t1} thread(s)) -> {args.second} ({t2} thread(s)); "
          f"xT = rate at {t2} / rate at {t1}, target {args.target:g}")
    if t1 == t2:
        print(f"warning: both runs used {t1} thread(s)")
    second = {(c.get("suite"), c.get("problem")): c for c in run2["cases"]}

    suites = {}
    for c in run1["cases"]:
        other = second.get((c.get("suite"), c.get("problem")))
        if other is not None:
            suites.setdefault(c["suite"], []).append((c, other))
    if not suites:
        sys.exit("scaling.py: the two runs have no case in common")

    for suite, pairs in suites.items():
        data = []
        for c1, c2 in pairs:
            (r1, unit), (r2, _) = rates(c1), rates(c2)
            data.append((c1["problem"], {p: (r1.get(p), r2.get(p)) for p in peers}))
        shown = [p for p in peers if any(v[p][0] is not None or v[p][1] is not None
                                         for _, v in data)]
        if not shown:
            continue
        head = ["layer"]
        for p in shown:
            head += [f"{p} T{t1}", f"T{t2}", "xT"]
        rows = [head]
        scal = {p: [] for p in shown}
        for problem, v in data:
            row = [problem]
            for p in shown:
                a, b = v[p]
                x = b / a if a and b else None
                scal[p].append(x)
                row += [fmt(a), fmt(b), fmt(x, 2)]
            rows.append(row)
        geo = ["geomean"]
        for p in shown:
            geo += ["", "", fmt(geomean(scal[p]), 2)]
        rows.append(geo)
        print(f"\n{suite} ({unit}; {len(data)} layer(s))")
        print_table(rows)
        for p in shown:
            xs = [x for x in scal[p] if x is not None]
            meet = sum(1 for x in xs if x >= args.target)
            print(f"  {p}: {meet} of {len(xs)} layer(s) at >= {args.target:g}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

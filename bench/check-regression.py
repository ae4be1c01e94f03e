#!/usr/bin/env python3
"""check-regression.py - convkit's performance regression gate.

Reads the JSON summary that convkit-bench writes (--json FILE) and compares
its speed ratios with a committed baseline (bench/baseline.json).  A ratio
"x peer" is peer median seconds / convkit median seconds, measured in the
same process with the repetitions interleaved: above 1 means convkit is
faster.  Ratios, not times, are compared, so a machine that is uniformly
slower or faster than the one that made the baseline does not trip the gate.

Modes (python3 standard library only):

  check-regression.py --baseline bench/baseline.json --current run.json
                      [--current rerun.json ...] [--tolerance T] [--rerun-filter FILE]
      Prints one row per baseline (case, peer): baseline ratio, current
      ratio, change and verdict.  Exits 1 when any current ratio is below
      baseline * (1 - T), or when a baseline case or peer is missing from
      the run; 0 otherwise.  T defaults to the baseline's "tolerance".
      Only the baseline's (case, peer) pairs are checked: cases and peers
      the run has beyond them (a peer added after the baseline was made,
      e.g. the "onednn_any_vs_blocked" ratio of convkit's channel-blocked
      forward) are counted in a note, never a failure.
      With several --current runs a ratio counts with its best value over
      the runs that have it: a regression must show in every run (the gate
      re-runs the cases that fail once, to tell noise from a regression).
      --rerun-filter writes a --benchmark_filter regex selecting the cases
      that came out SLOWER (empty file when none).

  check-regression.py --validate run.json [--expect-suites a,b,...] [--expect-peers p,...]
      Checks the run's JSON against the schema (and, optionally, that every
      listed suite has at least one case and every listed peer at least one
      ratio).  Exits 1 with a message per problem.

  check-regression.py --refresh --current run.json [--current run2.json ...]
                      --out bench/baseline.json [--tolerance T] [--note TEXT]
      Writes a baseline holding the run's ratios (every numeric one; with
      several runs, each ratio's median over them), the tolerance and a
      note on how it was produced.

Exit status: 0 pass, 1 regression / invalid input, 2 usage error.
"""

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys

SCHEMA = 1
BASELINE_SCHEMA = 1
DEFAULT_TOLERANCE = 0.40
# A ratio is peer/convkit of medians; the summary stores both, so a ratio
# that disagrees with them by more than this (relative) is a writer bug.
RATIO_CONSISTENCY = 0.02
# Ratios whose denominator is not convkit's NCHW case but another of its
# configurations (a "peer_seconds" entry): key -> (numerator, denominator).
# They read like the others (above 1 = convkit faster) and are gated alike.
CROSS_RATIOS = {
    # oneDNN on its preferred layouts / convkit on its channel-blocked layout
    "onednn_any_vs_blocked": ("onednn_any", "convkit_blocked"),
}


class Invalid(Exception):
    """The input does not follow the schema; str() says where and why."""


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def load_json(path, what):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise Invalid(f"{what} {path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise Invalid(f"{what} {path}: not valid JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise Invalid(f"{what} {path}: not UTF-8 text: {e}") from None


def validate_run(run, where="run"):
    """Returns a list of schema problems in a convkit-bench summary (empty if valid)."""
    errs = []
    if not isinstance(run, dict):
        return [f"{where}: top level must be an object, got {type(run).__name__}"]

    def need(obj, key, check, desc, ctx):
        if key not in obj:
            errs.append(f"{ctx}: missing key '{key}'")
            return None
        if not check(obj[key]):
            errs.append(f"{ctx}: '{key}' must be {desc}, got {json.dumps(obj[key])[:60]}")
            return None
        return obj[key]

    if run.get("schema") != SCHEMA:
        errs.append(f"{where}: 'schema' must be {SCHEMA}, got {json.dumps(run.get('schema'))}")
    need(run, "convkit_version", lambda v: isinstance(v, str) and v, "a non-empty string", where)
    need(run, "isa", lambda v: isinstance(v, str) and v, "a non-empty string", where)
    need(run, "threads", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
         "an integer >= 1", where)
    need(run, "repetitions", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
         "an integer >= 1", where)
    machine = need(run, "machine", lambda v: isinstance(v, dict), "an object", where)
    if machine is not None:
        ctx = f"{where}.machine"
        peak = need(machine, "peak_gflops", lambda v: isinstance(v, dict) and v,
                    "a non-empty object", ctx)
        if peak is not None:
            for isa, g in peak.items():
                if not (is_number(g) and g >= 0):
                    errs.append(f"{ctx}.peak_gflops.{isa}: must be a number >= 0, got {g!r}")
        need(machine, "copy_gbps", lambda v: is_number(v) and v >= 0, "a number >= 0", ctx)

    cases = need(run, "cases", lambda v: isinstance(v, list) and v, "a non-empty array", where)
    seen = set()
    for i, c in enumerate(cases or []):
        ctx = f"{where}.cases[{i}]"
        if not isinstance(c, dict):
            errs.append(f"{ctx}: must be an object")
            continue
        suite = need(c, "suite", lambda v: isinstance(v, str) and v and "/" not in v,
                     "a non-empty string without '/'", ctx)
        problem = need(c, "problem", lambda v: isinstance(v, str) and v, "a non-empty string", ctx)
        if suite and problem:
            ctx = f"{where}.cases[{i}] ({suite}/{problem})"
            if (suite, problem) in seen:
                errs.append(f"{ctx}: duplicate case")
            seen.add((suite, problem))
        need(c, "shape", lambda v: isinstance(v, str), "a string", ctx)
        conv_s = need(c, "convkit_seconds", lambda v: is_number(v) and v > 0,
                      "a number > 0", ctx)
        for key in ("gflops", "gbps", "peak_fraction"):
            need(c, key, lambda v: v is None or (is_number(v) and v >= 0),
                 "a number >= 0 or null", ctx)
        peer_s = need(c, "peer_seconds", lambda v: isinstance(v, dict), "an object", ctx)
        ratios = need(c, "ratios", lambda v: isinstance(v, dict), "an object", ctx)
        for name, obj in (("peer_seconds", peer_s), ("ratios", ratios)):
            for peer, v in (obj or {}).items():
                if not (v is None or (is_number(v) and v > 0)):
                    errs.append(f"{ctx}: {name}.{peer} must be a number > 0 or null, got {v!r}")
        if conv_s and peer_s and ratios:
            for peer, r in ratios.items():
                num, den = CROSS_RATIOS.get(peer, (peer, None))
                s = peer_s.get(num)
                base_s = conv_s if den is None else peer_s.get(den)
                if all(is_number(v) and v > 0 for v in (r, s, base_s)):
                    expect = s / base_s
                    if abs(r - expect) > RATIO_CONSISTENCY * max(r, expect):
                        of = ("peer_seconds / convkit_seconds" if den is None else
                              f"peer_seconds.{num} / peer_seconds.{den}")
                        errs.append(f"{ctx}: ratios.{peer} = {r:.6g} but {of} = {expect:.6g}")
    return errs


def run_cases(run):
    """{ 'suite/problem': {peer: ratio or None} } of a valid run."""
    return {f"{c['suite']}/{c['problem']}": dict(c["ratios"]) for c in run["cases"]}


def best_of(runs):
    """run_cases of several runs merged: each ratio's best (largest) value."""
    merged = {}
    for run in runs:
        for key, ratios in run_cases(run).items():
            m = merged.setdefault(key, {})
            for peer, r in ratios.items():
                if r is not None and (m.get(peer) is None or r > m[peer]):
                    m[peer] = r
                else:
                    m.setdefault(peer, None)
    return merged


# Characters with a meaning in Google Benchmark's filter (POSIX extended or
# ECMAScript regex); every other character of a case name stands for itself.
REGEX_SPECIAL = set(".^$|?*+()[]{}\\")


def regex_escape(text):
    return "".join("\\" + ch if ch in REGEX_SPECIAL else ch for ch in text)


def validate_baseline(base):
    errs = []
    if not isinstance(base, dict):
        return ["baseline: top level must be an object"]
    if base.get("schema") != BASELINE_SCHEMA:
        errs.append(f"baseline: 'schema' must be {BASELINE_SCHEMA}, got "
                    f"{json.dumps(base.get('schema'))}")
    tol = base.get("tolerance")
    if not (is_number(tol) and 0 <= tol < 1):
        errs.append(f"baseline: 'tolerance' must be a number in [0, 1), got {json.dumps(tol)}")
    cases = base.get("cases")
    if not isinstance(cases, dict) or not cases:
        errs.append("baseline: 'cases' must be a non-empty object")
        return errs
    for key, peers in cases.items():
        if not isinstance(peers, dict) or not peers:
            errs.append(f"baseline: cases['{key}'] must be a non-empty object of peer ratios")
            continue
        for peer, r in peers.items():
            if not (is_number(r) and r > 0):
                errs.append(f"baseline: cases['{key}'].{peer} must be a number > 0, got {r!r}")
    return errs


def fmt_ratio(r):
    if r is None:
        return "-"
    if r >= 100:
        return f"{r:.1f}"
    if r >= 0.1:
        return f"{r:.3f}"
    return f"{r:.3g}"


def compare(base, runs, tol, out):
    """Prints the table; returns (failures, rows)."""
    current = best_of(runs)
    rows = []
    failures = []
    for key in base["cases"]:
        for peer, b in base["cases"][key].items():
            if key not in current:
                c, verdict = None, "MISSING (case not in run)"
            elif peer not in current[key] or current[key][peer] is None:
                c, verdict = None, "MISSING (peer not in run)"
            else:
                c = current[key][peer]
                if c < b * (1.0 - tol):
                    verdict = "SLOWER"
                elif c > b * (1.0 + tol):
                    verdict = "faster"
                else:
                    verdict = "ok"
            change = "-" if c is None else f"{(c / b - 1.0) * 100:+.1f}%"
            rows.append((key, peer, fmt_ratio(b), fmt_ratio(c), change, verdict))
            if verdict.startswith(("SLOWER", "MISSING")):
                failures.append((key, peer, verdict))

    head = ("case", "peer", "baseline", "current", "change", "verdict")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]

    def line(r):
        return "  ".join(
            (r[i].ljust(widths[i]) if i in (0, 1, 5) else r[i].rjust(widths[i]))
            for i in range(len(head))).rstrip()

    print(line(head), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(line(r), file=out)
    extra = sorted(set(current) - set(base["cases"]))
    print(file=out)
    print(f"ratio = peer median time / convkit median time (> 1: convkit faster); "
          f"a row fails when current < baseline x (1 - {tol:g}) or is missing.", file=out)
    if len(runs) > 1:
        print(f"current = the best ratio of {len(runs)} runs (a regression must show in each).",
              file=out)
    if extra:
        print(f"{len(extra)} case(s) of the run are not in the baseline (not checked).", file=out)
    # Peers a baseline case lacks (e.g. one added to convkit-bench after the
    # baseline was made): reported, not checked, until a refresh records them.
    new_peers = sorted({p for key, peers in current.items() if key in base["cases"]
                        for p, r in peers.items()
                        if r is not None and p not in base["cases"][key]})
    if new_peers:
        n = sum(1 for key, peers in current.items() if key in base["cases"]
                for p, r in peers.items() if r is not None and p not in base["cases"][key])
        print(f"{n} ratio(s) against peers the baseline does not hold for their case "
              f"({', '.join(new_peers)}): not checked.", file=out)
    return failures, rows


def cmd_check(args):
    try:
        base = load_json(args.baseline, "baseline")
        runs = [load_json(path, "run") for path in args.current]
    except Invalid as e:
        print(f"check-regression: {e}", file=sys.stderr)
        return 1
    errs = validate_baseline(base)
    for path, run in zip(args.current, runs):
        errs += validate_run(run, path)
    if errs:
        for e in errs:
            print(f"check-regression: invalid input: {e}", file=sys.stderr)
        return 1
    tol = args.tolerance if args.tolerance is not None else base["tolerance"]
    for path, run in zip(args.current, runs):
        if run["repetitions"] < 5:
            print(f"note: {path} has {run['repetitions']} repetition(s); the baseline was made "
                  f"from medians of 5 or more, so expect noise.")
    failures, rows = compare(base, runs, tol, sys.stdout)
    if args.rerun_filter:
        slower = sorted({key for key, _, verdict in failures if verdict == "SLOWER"})
        with open(args.rerun_filter, "w", encoding="utf-8") as f:
            if slower:
                f.write("^(" + "|".join(regex_escape(k) for k in slower) + ")/\n")
    if failures:
        print(f"\nFAIL: {len(failures)} of {len(rows)} ratio(s) regressed or missing:")
        for key, peer, verdict in failures:
            print(f"  {key} x {peer}: {verdict}")
        return 1
    print(f"\nPASS: {len(rows)} ratio(s) within {tol:g} of the baseline "
          f"({args.baseline}).")
    return 0


def cmd_validate(args):
    try:
        run = load_json(args.validate, "run")
    except Invalid as e:
        print(f"check-regression: {e}", file=sys.stderr)
        return 1
    errs = validate_run(run, "run")
    if not errs:
        suites = {c["suite"] for c in run["cases"]}
        for s in filter(None, (args.expect_suites or "").split(",")):
            if s not in suites:
                errs.append(f"run: no case of suite '{s}' (suites present: "
                            f"{', '.join(sorted(suites))})")
        peers = {p for c in run["cases"] for p, r in c["ratios"].items() if r is not None}
        for p in filter(None, (args.expect_peers or "").split(",")):
            if p not in peers:
                errs.append(f"run: no ratio against peer '{p}' (peers present: "
                            f"{', '.join(sorted(peers)) or 'none'})")
    if errs:
        for e in errs:
            print(f"check-regression: invalid: {e}", file=sys.stderr)
        print(f"{args.validate}: INVALID ({len(errs)} problem(s))", file=sys.stderr)
        return 1
    n_ratios = sum(1 for c in run["cases"] for r in c["ratios"].values() if r is not None)
    print(f"{args.validate}: valid (schema {SCHEMA}; {len(run['cases'])} case(s) in "
          f"{len({c['suite'] for c in run['cases']})} suite(s), {n_ratios} ratio(s))")
    return 0


def cmd_refresh(args):
    try:
        runs = [load_json(path, "run") for path in args.current]
    except Invalid as e:
        print(f"check-regression: {e}", file=sys.stderr)
        return 1
    errs = []
    for path, run in zip(args.current, runs):
        errs += validate_run(run, path)
    if errs:
        for e in errs:
            print(f"check-regression: invalid: {e}", file=sys.stderr)
        return 1
    run = runs[0]
    tol = args.tolerance if args.tolerance is not None else DEFAULT_TOLERANCE
    if not 0 <= tol < 1:
        print("check-regression: --tolerance must be in [0, 1)", file=sys.stderr)
        return 2
    values = {}  # key -> peer -> [ratio per run that has it]
    for one in runs:
        for key, ratios in run_cases(one).items():
            for peer, r in ratios.items():
                if r is not None:
                    values.setdefault(key, {}).setdefault(peer, []).append(r)
    cases = {}
    for key, peers in values.items():
        cases[key] = {p: float(f"{statistics.median(v):.6g}") for p, v in sorted(peers.items())}
    if not cases:
        print("check-regression: the run has no ratios to keep", file=sys.stderr)
        return 1
    base = {
        "schema": BASELINE_SCHEMA,
        "tolerance": tol,
        "note": args.note or "",
        "produced": {
            "date": datetime.date.today().isoformat(),
            "convkit_version": run["convkit_version"],
            "isa": run["isa"],
            "threads": run["threads"],
            "repetitions": min(r["repetitions"] for r in runs),
            "runs": len(runs),
            "machine": {
                "cpu": cpu_model(),
                "cores": os.cpu_count(),
                "peak_gflops": run["machine"]["peak_gflops"],
                "copy_gbps": run["machine"]["copy_gbps"],
            },
        },
        "cases": cases,
    }
    if min(r["repetitions"] for r in runs) < 5:
        print("warning: a run has fewer than 5 repetitions; the gate's baseline should be "
              "medians of at least 5", file=sys.stderr)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(base, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)
    n = sum(len(v) for v in cases.values())
    print(f"wrote {args.out}: {len(cases)} case(s), {n} ratio(s) (median of {len(runs)} "
          f"run(s)), tolerance {tol:g}")
    return 0


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="convkit's performance regression gate (see the module docstring).")
    ap.add_argument("--baseline", help="committed baseline (bench/baseline.json)")
    ap.add_argument("--current", action="append",
                    help="JSON summary of a convkit-bench run (--json FILE); repeat it to "
                         "count each ratio's best value over several runs")
    ap.add_argument("--tolerance", type=float,
                    help="allowed relative drop of a ratio (default: the baseline's; "
                         f"{DEFAULT_TOLERANCE} for --refresh)")
    ap.add_argument("--validate", metavar="RUN_JSON", help="check a run's schema only")
    ap.add_argument("--expect-suites", help="with --validate: comma-separated suites that "
                                            "must have a case")
    ap.add_argument("--expect-peers", help="with --validate: comma-separated peers that "
                                           "must have a ratio")
    ap.add_argument("--rerun-filter", metavar="FILE",
                    help="write a --benchmark_filter regex of the SLOWER cases to FILE")
    ap.add_argument("--refresh", action="store_true", help="write a baseline from --current")
    ap.add_argument("--out", help="with --refresh: the baseline file to write")
    ap.add_argument("--note", help="with --refresh: how the baseline was produced")
    args = ap.parse_args(argv)

    if args.validate:
        if args.baseline or args.current or args.refresh:
            ap.error("--validate takes no --baseline/--current/--refresh")
        return cmd_validate(args)
    if args.refresh:
        if not args.current or not args.out:
            ap.error("--refresh needs --current RUN_JSON and --out BASELINE_JSON")
        return cmd_refresh(args)
    if not args.baseline or not args.current:
        ap.error("give --baseline and --current, or --validate, or --refresh")
    if args.tolerance is not None and not 0 <= args.tolerance < 1:
        ap.error("--tolerance must be in [0, 1)")
    return cmd_check(args)


if __name__ == "__main__":
    sys.exit(main())

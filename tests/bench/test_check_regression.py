#!/usr/bin/env python3
"""Tests of bench/check-regression.py on synthetic convkit-bench summaries.

Each test writes JSON files to a temporary folder and runs the checker as a
program (the way the gate and CI run it), then checks its exit status and
what it printed.  Standard library only:

    python3 tests/bench/test_check_regression.py [-v]
"""

import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHECKER = os.path.join(ROOT, "bench", "check-regression.py")
COMMITTED_BASELINE = os.path.join(ROOT, "bench", "baseline.json")


def make_case(suite, problem, convkit_s, ratios, compute=True):
    peer_seconds = {p: (None if r is None else convkit_s * r) for p, r in ratios.items()}
    return {
        "suite": suite,
        "problem": problem,
        "shape": "mb1 ic64ih56 oc64oh56 kh3 ph1",
        "convkit_seconds": convkit_s,
        "gflops": 0.8 if compute else None,
        "gbps": None if compute else 3.5,
        "peak_fraction": 0.02,
        "peer_seconds": peer_seconds,
        "ratios": dict(ratios),
    }


def make_run(cases, repetitions=5):
    return {
        "schema": 1,
        "convkit_version": "0.1.0",
        "isa": "avx2",
        "threads": 1,
        "repetitions": repetitions,
        "machine": {"peak_gflops": {"scalar": 4.9, "avx2": 78.1}, "copy_gbps": 11.0},
        "cases": cases,
    }


def base_run():
    return make_run([
        make_case("conv_fwd", "resnet_50:res2a_branch2b/mb1", 0.120,
                  {"onednn_any": 0.011, "onednn_nchw": 0.016, "scalar": 1.0}),
        make_case("conv_fwd", "resnet_50:res3a_branch2a/mb1", 0.050,
                  {"onednn_any": 0.02, "onednn_nchw": 0.03, "scalar": 0.98}),
        make_case("pool_fwd", "resnet_50:pool1/mb1", 0.004,
                  {"onednn_any": 0.25, "scalar": 1.01}, compute=False),
        make_case("unfold", "resnet_50:res2a_branch2b/mb1", 0.002,
                  {"scalar": 1.0}, compute=False),
    ])


def baseline_from(run, tolerance=0.3):
    return {
        "schema": 1,
        "tolerance": tolerance,
        "note": "synthetic",
        "cases": {f"{c['suite']}/{c['problem']}":
                  {p: r for p, r in c["ratios"].items() if r is not None}
                  for c in run["cases"]},
    }


def scale_ratio(run, suite, problem, peer, factor):
    """A copy of run where one peer ratio is multiplied by factor (the peer time
    stays, so convkit's time grows: convkit got slower relative to the peer)."""
    run = copy.deepcopy(run)
    for c in run["cases"]:
        if c["suite"] == suite and c["problem"] == problem:
            c["ratios"][peer] *= factor
            c["convkit_seconds"] /= factor
            for p in c["ratios"]:  # keep every ratio consistent with the new time
                if p != peer and c["ratios"][p] is not None:
                    c["ratios"][p] = c["peer_seconds"][p] / c["convkit_seconds"]
            return run
    raise KeyError((suite, problem))


class CheckerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ck-check-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, obj):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            if isinstance(obj, str):
                f.write(obj)
            else:
                json.dump(obj, f)
        return path

    def checker(self, *args):
        p = subprocess.run([sys.executable, CHECKER, *args], capture_output=True, text=True,
                           timeout=60)
        return p.returncode, p.stdout + p.stderr

    def check(self, base, run, *extra):
        b = base if isinstance(base, str) and os.path.exists(base) else self.write("base.json", base)
        return self.checker("--baseline", b, "--current", self.write("run.json", run), *extra)

    # -- the comparison ---------------------------------------------------------

    def test_identical_run_passes(self):
        run = base_run()
        rc, out = self.check(baseline_from(run), run)
        self.assertEqual(rc, 0, out)
        self.assertIn("PASS", out)
        self.assertNotIn("SLOWER", out)
        # every (case, peer) of the baseline gets a row
        self.assertEqual(out.count(" ok"), 9, out)

    def test_halved_ratio_fails_and_names_the_case(self):
        run = base_run()
        slowed = scale_ratio(run, "conv_fwd", "resnet_50:res3a_branch2a/mb1", "scalar", 0.5)
        rc, out = self.check(baseline_from(run), slowed)
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL", out)
        bad = [l for l in out.splitlines() if "SLOWER" in l]
        self.assertTrue(bad, out)
        self.assertTrue(all("conv_fwd/resnet_50:res3a_branch2a/mb1" in l for l in bad), out)
        # the other problems are fine
        self.assertFalse(any("res2a_branch2b" in l for l in bad), out)
        self.assertIn("conv_fwd/resnet_50:res3a_branch2a/mb1 x scalar: SLOWER", out)

    def test_slower_kernel_fails_against_every_peer(self):
        # convkit twice as slow on one pooling case: both its ratios halve
        run = base_run()
        slowed = copy.deepcopy(run)
        c = slowed["cases"][2]
        c["convkit_seconds"] *= 2
        c["ratios"] = {p: r / 2 for p, r in c["ratios"].items()}
        rc, out = self.check(baseline_from(run), slowed)
        self.assertEqual(rc, 1, out)
        self.assertIn("pool_fwd/resnet_50:pool1/mb1 x onednn_any: SLOWER", out)
        self.assertIn("pool_fwd/resnet_50:pool1/mb1 x scalar: SLOWER", out)
        self.assertIn("2 of 9", out)

    def test_slightly_slower_within_tolerance_passes(self):
        run = base_run()
        slowed = scale_ratio(run, "conv_fwd", "resnet_50:res2a_branch2b/mb1", "onednn_any", 0.85)
        rc, out = self.check(baseline_from(run, tolerance=0.3), slowed)
        self.assertEqual(rc, 0, out)
        self.assertIn("-15.0%", out)

    def test_just_beyond_tolerance_fails(self):
        run = base_run()
        slowed = scale_ratio(run, "unfold", "resnet_50:res2a_branch2b/mb1", "scalar", 0.69)
        rc, out = self.check(baseline_from(run, tolerance=0.3), slowed)
        self.assertEqual(rc, 1, out)
        self.assertIn("unfold/resnet_50:res2a_branch2b/mb1 x scalar: SLOWER", out)

    def test_tolerance_option_overrides_the_baseline(self):
        run = base_run()
        slowed = scale_ratio(run, "conv_fwd", "resnet_50:res2a_branch2b/mb1", "scalar", 0.85)
        base = baseline_from(run, tolerance=0.3)
        self.assertEqual(self.check(base, slowed)[0], 0)
        rc, out = self.check(base, slowed, "--tolerance", "0.1")
        self.assertEqual(rc, 1, out)

    def test_faster_passes(self):
        run = base_run()
        faster = scale_ratio(run, "conv_fwd", "resnet_50:res2a_branch2b/mb1", "scalar", 3.0)
        rc, out = self.check(baseline_from(run), faster)
        self.assertEqual(rc, 0, out)
        self.assertIn("faster", out)

    def test_missing_case_fails(self):
        run = base_run()
        partial = copy.deepcopy(run)
        del partial["cases"][3]
        rc, out = self.check(baseline_from(run), partial)
        self.assertEqual(rc, 1, out)
        self.assertIn("unfold/resnet_50:res2a_branch2b/mb1 x scalar: MISSING (case not in run)",
                      out)

    def test_missing_peer_fails(self):
        # e.g. convkit-bench built without oneDNN, or a peer that refused the shape
        run = base_run()
        partial = copy.deepcopy(run)
        partial["cases"][2]["ratios"]["onednn_any"] = None
        partial["cases"][2]["peer_seconds"]["onednn_any"] = None
        rc, out = self.check(baseline_from(run), partial)
        self.assertEqual(rc, 1, out)
        self.assertIn("pool_fwd/resnet_50:pool1/mb1 x onednn_any: MISSING (peer not in run)", out)
        del partial["cases"][2]["ratios"]["onednn_any"]
        self.assertEqual(self.check(baseline_from(run), partial)[0], 1)

    def test_extra_cases_are_ignored(self):
        run = base_run()
        base = baseline_from(run)
        del base["cases"]["unfold/resnet_50:res2a_branch2b/mb1"]
        rc, out = self.check(base, run)
        self.assertEqual(rc, 0, out)
        self.assertIn("1 case(s) of the run are not in the baseline", out)

    def test_extra_peers_are_ignored(self):
        # peers added after the baseline was made (PyTorch, convkit on NHWC): not
        # checked, whatever their ratio, and named in a note
        run = base_run()
        base = baseline_from(run)
        more = copy.deepcopy(run)
        for c in more["cases"]:
            for peer, r in (("torch", 0.05), ("torch_nhwc", 0.04), ("convkit_nhwc", 9.0)):
                c["ratios"][peer] = r
                c["peer_seconds"][peer] = c["convkit_seconds"] * r
        rc, out = self.check(base, more)
        self.assertEqual(rc, 0, out)
        self.assertIn("PASS: 9 ratio(s)", out)
        self.assertIn("12 ratio(s) against peers the baseline does not hold for their case "
                      "(convkit_nhwc, torch, torch_nhwc): not checked.", out)
        # once a refresh records them, they are checked like the others
        base2 = baseline_from(more)
        slow = scale_ratio(more, "pool_fwd", "resnet_50:pool1/mb1", "torch", 0.5)
        rc, out = self.check(base2, slow)
        self.assertEqual(rc, 1, out)
        self.assertIn("pool_fwd/resnet_50:pool1/mb1 x torch: SLOWER", out)

    # -- several runs: a regression must reproduce --------------------------------

    def test_best_of_runs_passes_noise_and_fails_a_reproduced_regression(self):
        run = base_run()
        base = self.write("base.json", baseline_from(run))
        slowed = scale_ratio(run, "conv_fwd", "resnet_50:res3a_branch2a/mb1", "scalar", 0.5)
        once = self.write("slowed.json", slowed)
        again = self.write("again.json", slowed)
        fine = self.write("fine.json", run)
        rc, out = self.checker("--baseline", base, "--current", once, "--current", fine)
        self.assertEqual(rc, 0, out)
        self.assertIn("best ratio of 2 runs", out)
        rc, out = self.checker("--baseline", base, "--current", once, "--current", again)
        self.assertEqual(rc, 1, out)
        self.assertIn("conv_fwd/resnet_50:res3a_branch2a/mb1 x scalar: SLOWER", out)

    def test_rerun_filter_selects_the_slower_cases(self):
        run = base_run()
        run["cases"][0]["problem"] = "resnet_50:res2a_branch2b*3/mb1"  # regex characters
        slowed = scale_ratio(run, "conv_fwd", "resnet_50:res2a_branch2b*3/mb1", "onednn_any", 0.4)
        slowed = scale_ratio(slowed, "pool_fwd", "resnet_50:pool1/mb1", "scalar", 0.4)
        flt = os.path.join(self.tmp.name, "filter.txt")
        rc, out = self.check(baseline_from(run), slowed, "--rerun-filter", flt)
        self.assertEqual(rc, 1, out)
        with open(flt, encoding="utf-8") as f:
            self.assertEqual(f.read(), "^(conv_fwd/resnet_50:res2a_branch2b\\*3/mb1|"
                                       "pool_fwd/resnet_50:pool1/mb1)/\n")
        rc, out = self.check(baseline_from(run), run, "--rerun-filter", flt)
        self.assertEqual(rc, 0, out)
        self.assertEqual(os.path.getsize(flt), 0)

    # -- malformed input ------------------------------------------------------

    def test_malformed_json_fails_with_a_message(self):
        run = base_run()
        rc, out = self.check(baseline_from(run), '{"schema": 1, "cases": [')
        self.assertEqual(rc, 1, out)
        self.assertIn("not valid JSON", out)
        rc, out = self.check('{"schema": ', run)
        self.assertEqual(rc, 1, out)
        self.assertIn("not valid JSON", out)

    def test_missing_file_fails_with_a_message(self):
        rc, out = self.checker("--baseline", os.path.join(self.tmp.name, "nope.json"),
                               "--current", self.write("run.json", base_run()))
        self.assertEqual(rc, 1, out)
        self.assertIn("cannot read", out)

    def test_schema_violations_fail_with_a_message(self):
        run = base_run()
        base = baseline_from(run)
        bad_runs = {
            "'schema' must be 1": dict(run, schema=2),
            "missing key 'cases'": {k: v for k, v in run.items() if k != "cases"},
            "'cases' must be a non-empty array": dict(run, cases=[]),
            "top level must be an object": [run],
            "missing key 'machine'": {k: v for k, v in run.items() if k != "machine"},
        }
        c = copy.deepcopy(run)
        c["cases"][0]["ratios"]["scalar"] = "1.0"
        bad_runs["ratios.scalar must be a number > 0 or null"] = c
        c = copy.deepcopy(run)
        c["cases"][1]["convkit_seconds"] = 0
        bad_runs["'convkit_seconds' must be a number > 0"] = c
        c = copy.deepcopy(run)
        del c["cases"][0]["problem"]
        bad_runs["missing key 'problem'"] = c
        c = copy.deepcopy(run)
        c["cases"].append(copy.deepcopy(c["cases"][0]))
        bad_runs["duplicate case"] = c
        c = copy.deepcopy(run)
        c["cases"][0]["ratios"]["onednn_any"] *= 3  # disagrees with peer_seconds
        bad_runs["but peer_seconds / convkit_seconds"] = c
        for message, bad in bad_runs.items():
            with self.subTest(message):
                rc, out = self.check(base, bad)
                self.assertEqual(rc, 1, out)
                self.assertIn(message, out)
                rc, out = self.checker("--validate", self.write("bad.json", bad))
                self.assertEqual(rc, 1, out)
                self.assertIn(message, out)
                self.assertIn("INVALID", out)

    def test_bad_baseline_fails_with_a_message(self):
        run = base_run()
        for message, base in {
            "'tolerance' must be a number in [0, 1)": dict(baseline_from(run), tolerance=1.5),
            "'cases' must be a non-empty object": dict(baseline_from(run), cases={}),
            "'schema' must be 1": dict(baseline_from(run), schema=None),
        }.items():
            with self.subTest(message):
                rc, out = self.check(base, run)
                self.assertEqual(rc, 1, out)
                self.assertIn(message, out)

    # -- --validate and --refresh ----------------------------------------------

    def test_validate_accepts_a_valid_run(self):
        rc, out = self.checker("--validate", self.write("run.json", base_run()))
        self.assertEqual(rc, 0, out)
        self.assertIn("valid", out)

    def test_validate_expected_suites_and_peers(self):
        path = self.write("run.json", base_run())
        rc, out = self.checker("--validate", path, "--expect-suites", "conv_fwd,pool_fwd,unfold",
                               "--expect-peers", "scalar,onednn_any,onednn_nchw")
        self.assertEqual(rc, 0, out)
        rc, out = self.checker("--validate", path, "--expect-suites", "conv_fwd,fold")
        self.assertEqual(rc, 1, out)
        self.assertIn("no case of suite 'fold'", out)
        rc, out = self.checker("--validate", path, "--expect-peers", "scalar,mkl")
        self.assertEqual(rc, 1, out)
        self.assertIn("no ratio against peer 'mkl'", out)

    def test_refresh_writes_a_baseline_the_same_run_passes(self):
        run = base_run()
        run["cases"][2]["ratios"]["onednn_any"] = None  # null ratios are not kept
        run["cases"][2]["peer_seconds"]["onednn_any"] = None
        out_path = os.path.join(self.tmp.name, "new-baseline.json")
        rc, out = self.checker("--refresh", "--current", self.write("run.json", run),
                               "--out", out_path, "--tolerance", "0.25", "--note", "made here")
        self.assertEqual(rc, 0, out)
        with open(out_path, encoding="utf-8") as f:
            base = json.load(f)
        self.assertEqual(base["tolerance"], 0.25)
        self.assertEqual(base["note"], "made here")
        self.assertEqual(base["cases"]["pool_fwd/resnet_50:pool1/mb1"], {"scalar": 1.01})
        self.assertEqual(len(base["cases"]), 4)
        rc, out = self.checker("--baseline", out_path, "--current", self.write("r2.json", run))
        self.assertEqual(rc, 0, out)
        slowed = scale_ratio(run, "conv_fwd", "resnet_50:res2a_branch2b/mb1", "scalar", 0.5)
        rc, out = self.checker("--baseline", out_path, "--current", self.write("r3.json", slowed))
        self.assertEqual(rc, 1, out)

    def test_refresh_from_several_runs_keeps_the_median(self):
        runs = [base_run() for _ in range(3)]
        for run, r in zip(runs, (0.8, 1.3, 1.0)):
            c = run["cases"][3]  # unfold: scalar ratio only
            c["ratios"]["scalar"] = r
            c["peer_seconds"]["scalar"] = c["convkit_seconds"] * r
        del runs[2]["cases"][0]  # a case missing from one run keeps the others' median
        out_path = os.path.join(self.tmp.name, "median.json")
        paths = [self.write(f"run{i}.json", run) for i, run in enumerate(runs)]
        rc, out = self.checker("--refresh", *[a for p in paths for a in ("--current", p)],
                               "--out", out_path)
        self.assertEqual(rc, 0, out)
        with open(out_path, encoding="utf-8") as f:
            base = json.load(f)
        self.assertEqual(base["cases"]["unfold/resnet_50:res2a_branch2b/mb1"], {"scalar": 1.0})
        self.assertEqual(base["cases"]["conv_fwd/resnet_50:res2a_branch2b/mb1"]["scalar"], 1.0)
        self.assertEqual(base["produced"]["runs"], 3)
        self.assertEqual(base["tolerance"], 0.4)

    def test_usage_errors(self):
        rc, _ = self.checker("--baseline", "x.json")
        self.assertEqual(rc, 2)
        rc, _ = self.checker("--refresh", "--current", "x.json")
        self.assertEqual(rc, 2)

    # -- the committed baseline -----------------------------------------------

    def test_committed_baseline_is_well_formed_and_gates(self):
        if not os.path.exists(COMMITTED_BASELINE):
            self.skipTest("bench/baseline.json not committed yet")
        with open(COMMITTED_BASELINE, encoding="utf-8") as f:
            base = json.load(f)
        self.assertGreaterEqual(base["produced"]["repetitions"], 5)
        self.assertTrue(base["note"])
        # a run that reproduces the baseline's ratios passes; halving one fails
        cases = []
        for key, ratios in base["cases"].items():
            suite, problem = key.split("/", 1)
            cases.append(make_case(suite, problem, 0.01, ratios))
        run = make_run(cases)
        rc, out = self.check(COMMITTED_BASELINE, run)
        self.assertEqual(rc, 0, out)
        suite, problem = next(iter(base["cases"])).split("/", 1)
        peer = next(iter(base["cases"][f"{suite}/{problem}"]))
        rc, out = self.check(COMMITTED_BASELINE, scale_ratio(run, suite, problem, peer, 0.5))
        self.assertEqual(rc, 1, out)
        self.assertIn(f"{suite}/{problem} x {peer}: SLOWER", out)


if __name__ == "__main__":
    unittest.main()

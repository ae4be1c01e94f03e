#!/usr/bin/python3
"""parity.py - convkit against PyTorch on random configurations.

Loads libconvkit.so through ctypes (convkit_ctypes.py) and compares every
operation and direction with Debian's torch 1.13 on --count random
configurations each (default 1000):

  conv2d / conv1d      forward, backward_data, backward_weights, backward_bias
  conv_epilogue        conv2d (3 in 4) or conv1d forward with a fused activation
                       (each CONVKIT_ACTIVATION_*: F.relu, torch.clamp, torch.sigmoid,
                       torch.tanh, F.silu, F.gelu(approximate="tanh"), F.gelu) and
                       no residual, a residual buffer, or the residual in dst
  max_pool2d / 1d      forward (values and int64 indices), backward
  unfold, fold
  pad                  constant, reflect, replicate, circular

Shapes are tiny (spatial <= 12, channels <= 8; about 8% of configurations
have up to 40 channels on a tiny plane or rows up to 40 long, to reach the
tails of vectorised kernels) and operand layouts random:
dense NCHW, dense NHWC or strided views (permuted dims with gaps; negative
strides and zero-stride broadcasts for operands that are only ever inputs).
Outputs are pre-filled with a sentinel and the gaps of strided outputs are
checked for stray writes.

Only configurations torch 1.13 accepts are generated (max-pool: pad <=
kernel/2 and no window without a valid element, where torch returns
garbage; reflect pad < size, circular pad <= size).

Comparison:
  conv, fold         |r - ref64| <= 4 * K * 2^-24 * sum|terms| per element,
                     K the number of terms summed into that element
                     (docs/semantics.md); exact on small-integer data
  conv_epilogue      against torch's activation of the float64 conv, plus the
                     residual: the conv bound times the activation's Lipschitz
                     constant, plus the activation's documented accuracy
                     (convkit.h: 2.5 ulp; GELU at x < 0 2^-23 |x|), plus the
                     rounding of the residual add
  max-pool forward   values bit for bit (NaN matches NaN) and indices exactly
  max-pool backward  error bound as above (exact on integer grad_out)
  unfold, pad        bit for bit (NaN matches NaN)

Usage: /usr/bin/python3 parity.py --lib build/libconvkit.so [--count N] [--seed S]
       [--ops conv2d,pad,...] [--verbose]
The last line is "N passed, N failed" (N = configurations checked, one per
op, direction and configuration); the exit code is 1 if any failed.
"""

import argparse
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import numpy as np  # noqa: E402

    import convkit_ctypes as K  # noqa: E402
    import torch_ref as R  # noqa: E402
except ImportError as e:  # no torch: CTest reports the test as skipped
    print("parity.py: %s (run with /usr/bin/python3 and Debian's python3-torch)" % e)
    sys.exit(77)

KINDS = K.LAYOUT_KINDS
WIDE = 0.08  # share of configs with many channels or long rows (SIMD tails)
MAX_REPORTS = 5


class Results:
    def __init__(self, verbose):
        self.order = []
        self.stats = {}
        self.verbose = verbose

    def _get(self, name):
        if name not in self.stats:
            self.order.append(name)
            self.stats[name] = [0, 0]
        return self.stats[name]

    def ok(self, name):
        self._get(name)[0] += 1

    def fail(self, name, cfg, msg):
        st = self._get(name)
        st[1] += 1
        if st[1] <= MAX_REPORTS or self.verbose:
            print("FAIL %s: %s\n     config: %s" % (name, msg, cfg), flush=True)

    def totals(self):
        return (sum(s[0] for s in self.stats.values()), sum(s[1] for s in self.stats.values()))


def describe(cfg):
    return ", ".join("%s=%s" % (k, v) for k, v in cfg.items())


def cmp_tol(got, ref, tol, exact):
    """None if got matches ref (float64) within tol (or exactly), else a message."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != ref.shape:
        return "shape %s, expected %s" % (got.shape, ref.shape)
    if exact:
        bad = ~((got == ref) | (np.isnan(got) & np.isnan(ref)))
    else:
        with np.errstate(invalid="ignore"):
            err = np.abs(got - ref)
            bad = ~((err <= tol) | (np.isnan(got) & np.isnan(ref)))
    if not bad.any():
        return None
    at = tuple(int(i) for i in np.argwhere(bad)[0])
    return ("%d of %d elements off%s; first at %s: got %r, expected %r (tol %.3g)"
            % (int(bad.sum()), bad.size, " (exact data)" if exact else "", at,
               float(got[at]), float(ref[at]), 0.0 if exact else float(tol[at])))


def cmp_bits(got, ref):
    """None if float32 arrays match bit for bit (any NaN matches any NaN)."""
    got = np.asarray(got, dtype=np.float32)
    ref = np.asarray(ref, dtype=np.float32)
    if got.shape != ref.shape:
        return "shape %s, expected %s" % (got.shape, ref.shape)
    same = (got.view(np.uint32) == ref.view(np.uint32)) | (np.isnan(got) & np.isnan(ref))
    if same.all():
        return None
    at = tuple(int(i) for i in np.argwhere(~same)[0])
    return ("%d of %d elements differ; first at %s: got %r, expected %r"
            % (int((~same).sum()), same.size, at, float(got[at]), float(ref[at])))


def cmp_int(got, ref):
    if got.shape != ref.shape:
        return "shape %s, expected %s" % (got.shape, ref.shape)
    bad = got != ref
    if not bad.any():
        return None
    at = tuple(int(i) for i in np.argwhere(bad)[0])
    return ("%d of %d indices differ; first at %s: got %d, expected %d"
            % (int(bad.sum()), bad.size, at, int(got[at]), int(ref[at])))


def run_check(res, name, cfg, fn):
    """Runs fn() -> message or None, recording the outcome under name."""
    try:
        msg = fn()
    except K.ConvkitError as e:
        msg = "convkit error: %s" % e
    except Exception as e:  # a bug in the binding or a stray write
        msg = "%s: %s" % (type(e).__name__, e)
        if res.verbose:
            traceback.print_exc()
    if msg is None:
        res.ok(name)
    else:
        res.fail(name, describe(cfg), msg)


def data(rng, shape, integer):
    if integer:
        return rng.integers(-3, 4, size=shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def pick_kinds(rng, names):
    return {n: pick(rng, KINDS) for n in names}


# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------


def gen_conv(rng, is1d):
    """A random conv config torch accepts: (x_shape, w_shape, cfg)."""
    modes = ["zeros", "zeros", "reflect", "replicate", "circular"]
    while True:
        wide = rng.random() < WIDE
        if wide:  # many channels on a tiny plane: vector-width tails
            groups = pick(rng, [1, 1, 2])
            cin = groups * int(rng.integers(1, 21))
            cout = groups * int(rng.integers(1, 21))
        elif rng.random() < 0.15:  # depthwise with a channel multiplier
            cin = int(rng.integers(1, 9))
            groups = cin
            cout = cin * int(rng.integers(1, 4))
            if cout > 16:
                continue
        else:
            groups = pick(rng, [1, 1, 1, 2, 3, 4])
            cin = groups * int(rng.integers(1, 4))
            cout = groups * int(rng.integers(1, 4))
            if cin > 8 or cout > 12:
                continue
        n = 0 if rng.random() < 0.03 else int(rng.integers(1, 4))
        mode = pick(rng, modes)
        bias = rng.random() < 0.7
        if is1d:
            L = int(rng.integers(1, 7 if wide else 13))
            k = int(rng.integers(1, 6))
            s = int(rng.integers(1, 4))
            d = 1 if rng.random() < 0.5 else int(rng.integers(1, 4))
            pl, pr = (int(rng.integers(0, 4)) for _ in range(2))
            if rng.random() < 0.3:
                pr = pl
            if mode == "reflect" and (pl >= L or pr >= L):
                continue
            if mode == "circular" and (pl > L or pr > L):
                continue
            cfg = dict(pads=(pl, pr), mode=mode, stride=s, dilation=d, groups=groups)
            xs, ws = (n, cin, L), (cout, cin // groups, k)
        else:
            hw = 6 if wide else 11
            H, W = int(rng.integers(1, hw)), int(rng.integers(1, hw))
            kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
            sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            dh = 1 if rng.random() < 0.5 else int(rng.integers(1, 4))
            dw = 1 if rng.random() < 0.5 else int(rng.integers(1, 4))
            pt, pb, pl, pr = (int(rng.integers(0, 4)) for _ in range(4))
            if rng.random() < 0.3:
                pb, pr = pt, pl
            if mode == "reflect" and (max(pt, pb) >= H or max(pl, pr) >= W):
                continue
            if mode == "circular" and (max(pt, pb) > H or max(pl, pr) > W):
                continue
            cfg = dict(pads=(pl, pr, pt, pb), mode=mode, stride=(sh, sw), dilation=(dh, dw),
                       groups=groups)
            xs, ws = (n, cin, H, W), (cout, cin // groups, kh, kw)
        os_ = R.conv_out_shape(xs, ws, cfg)
        if os_ is None:
            continue
        cfg["bias"] = bias
        return xs, ws, os_, cfg


def conv_call(rng, xs, cfg):
    """Random operand layouts and algorithm for a conv config, and the
    keyword arguments of the K.conv_* helpers: (kinds, algorithm, kw)."""
    kinds = pick_kinds(rng, ["src", "weight", "dst"])
    # depthwise with zero padding: either algorithm may be forced (DIRECT
    # needs src and dst both NCHW or both NHWC)
    algorithm = "auto"
    if cfg["groups"] == xs[1] and cfg["mode"] == "zeros":
        algorithm = pick(rng, ["auto", "gemm", "direct"])
        if algorithm == "direct":
            kinds["src"] = kinds["dst"] = pick(rng, ["nchw", "nhwc"])
    pads = cfg["pads"]
    padding = (pads[0], pads[1]) if len(xs) == 3 else (pads[2], pads[3], pads[0], pads[1])
    kw = dict(stride=cfg["stride"], padding=padding, dilation=cfg["dilation"],
              groups=cfg["groups"], padding_mode=cfg["mode"], layouts=kinds, rng=rng,
              algorithm=algorithm)
    return kinds, algorithm, kw


def check_conv(ck, rng, res, is1d):
    op = "conv1d" if is1d else "conv2d"
    xs, ws, ys, cfg = gen_conv(rng, is1d)
    integer = rng.random() < 0.25
    x = data(rng, xs, integer)
    w = data(rng, ws, integer)
    b = data(rng, (ws[0],), integer) if cfg["bias"] else None
    gy = data(rng, ys, integer)
    kinds, algorithm, kw = conv_call(rng, xs, cfg)
    ref = R.conv_reference(x, w, b, gy, cfg)
    # conv layouts describe outputs as well (grad_src, grad_weight), so
    # their strides must be positive: no flips or broadcasts here.
    xi = K.input_view(x, kinds["src"], rng)
    wi = K.input_view(w, kinds["weight"], rng)
    gyi = K.input_view(gy, kinds["dst"], rng)
    desc = dict(x=xs, w=ws, **cfg, integer=integer, layouts=kinds, algorithm=algorithm)

    run_check(res, op + ".forward", desc, lambda: cmp_tol(
        K.conv_forward(ck, xi, wi, b, **kw), *ref["forward"], integer))
    run_check(res, op + ".backward_data", desc, lambda: cmp_tol(
        K.conv_backward_data(ck, gyi, wi, xs, **kw), *ref["backward_data"], integer))
    run_check(res, op + ".backward_weights", desc, lambda: cmp_tol(
        K.conv_backward_weights(ck, xi, gyi, ws, **kw), *ref["backward_weights"], integer))
    run_check(res, op + ".backward_bias", desc, lambda: cmp_tol(
        K.conv_backward_bias(ck, gyi, xs, ws, **kw), *ref["backward_bias"], integer))


# Lipschitz constant of each activation: an error e in the convolution moves
# the activation by at most LIP * e.
ACT_LIP = {"none": 1.0, "relu": 1.0, "clamp": 1.0, "sigmoid": 0.25, "tanh": 1.0,
           "silu": 1.1, "gelu_tanh": 1.13, "gelu_erf": 1.13}


def check_conv_epilogue(ck, rng, res):
    is1d = rng.random() < 0.25
    xs, ws, ys, cfg = gen_conv(rng, is1d)
    x = data(rng, xs, False)
    w = data(rng, ws, False)
    b = data(rng, (ws[0],), False) if cfg["bias"] else None
    act = pick(rng, list(K.ACTIVATIONS))
    alpha = beta = 0.0
    if act == "clamp":  # relu6, or random float32 bounds alpha <= beta
        alpha, beta = ((0.0, 6.0) if rng.random() < 0.5 else
                       sorted(float(v) for v in rng.uniform(-2, 2, 2).astype(np.float32)))
    rmode = pick(rng, ["none", "separate", "in place"])
    r = data(rng, ys, False) if rmode != "none" else None
    kinds, algorithm, kw = conv_call(rng, xs, cfg)
    y64, tconv = R.conv_reference(x, w, b, np.zeros(ys, np.float32), cfg)["forward"]
    fx = R.activation_reference(y64, act, alpha, beta)
    r64 = np.zeros(ys) if r is None else r.astype(np.float64)
    moved = ACT_LIP[act] * tconv
    tol = moved
    if act not in ("none", "relu", "clamp"):
        tol = tol + 2.5 * 2.0 ** -23 * (np.abs(fx) + moved) + 2.0 ** -120
    if act.startswith("gelu"):
        tol = tol + np.where(y64 < 0, 2.0 ** -23 * (np.abs(y64) + tconv), 0.0)
    tol = tol + 2.0 ** -24 * (np.abs(fx) + tol + np.abs(r64))
    kw.update(activation=act, alpha=alpha, beta=beta, residual=r,
              residual_in_place=rmode == "in place")
    xi = K.input_view(x, kinds["src"], rng)
    wi = K.input_view(w, kinds["weight"], rng)
    desc = dict(x=xs, w=ws, **cfg, layouts=kinds, algorithm=algorithm, activation=act,
                alpha=alpha, beta=beta, residual=rmode)
    run_check(res, "conv_epilogue." + act, desc, lambda: cmp_tol(
        K.conv_forward(ck, xi, wi, b, **kw), fx + r64, tol, False))


# ---------------------------------------------------------------------------
# Max-pool
# ---------------------------------------------------------------------------


def gen_pool(rng, is1d):
    nd = 1 if is1d else 2
    while True:
        n = int(rng.integers(1, 3))
        wide = rng.random() < WIDE
        c = int(rng.integers(1, 41 if wide else 5))
        sizes = [int(rng.integers(1, 13 if is1d else 11)) for _ in range(nd)]
        if wide or rng.random() < WIDE:  # a long row (vectorised along W)
            sizes[-1] = int(rng.integers(13, 41))
            if not is1d:
                sizes[0] = int(rng.integers(1, 4))
        ks = [int(rng.integers(1, 5)) for _ in range(nd)]
        ds = [1 if rng.random() < 0.5 else int(rng.integers(1, 4)) for _ in range(nd)]
        ps = [int(rng.integers(0, k // 2 + 1)) for k in ks]  # torch 1.13: pad <= k/2
        default_stride = rng.random() < 0.2
        ss = list(ks) if default_stride else [int(rng.integers(1, 4)) for _ in range(nd)]
        ceil = bool(rng.random() < 0.4)
        outs = [K.pool_out_size(sz, k, s, p, d, ceil)
                for sz, k, s, p, d in zip(sizes, ks, ss, ps, ds)]
        if min(outs) < 1:
            continue
        if R.pool_has_empty_window(sizes, ks, ss, ps, ds, outs):
            continue  # torch returns garbage there; convkit -inf / -1 (documented)
        one = (lambda v: v[0]) if is1d else tuple
        cfg = dict(kernel=one(ks), stride=None if default_stride else one(ss),
                   padding=one(ps), dilation=one(ds), ceil_mode=ceil)
        return (n, c) + tuple(sizes), cfg


def pool_data(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    r = rng.random()
    if r < 0.25:  # ties
        x = np.round(x * 2).astype(np.float32)
    elif r < 0.35:  # signed zeros and ties of zeros
        x = rng.choice(np.array([0.0, -0.0, -1.0], np.float32), size=shape)
    if rng.random() < 0.3:  # NaN
        x[rng.random(shape) < 0.1] = np.nan
    if rng.random() < 0.15:  # -inf, sometimes whole windows of it
        x[rng.random(shape) < (0.9 if rng.random() < 0.3 else 0.2)] = -np.inf
    if rng.random() < 0.05:
        x[rng.random(shape) < 0.1] = np.inf
    return x


def check_pool(ck, rng, res, is1d):
    op = "max_pool1d" if is1d else "max_pool2d"
    xs, cfg = gen_pool(rng, is1d)
    x = pool_data(rng, xs)
    integer = rng.random() < 0.4
    v, idx, gy, gx, tol = R.pool_reference(x, lambda s: data(rng, s, integer), cfg)
    kinds = pick_kinds(rng, ["src", "dst", "indices"])
    kw = dict(kernel=cfg["kernel"], stride=cfg["stride"], padding=cfg["padding"],
              dilation=cfg["dilation"], ceil_mode=cfg["ceil_mode"], layouts=kinds, rng=rng)
    desc = dict(x=xs, **cfg, layouts=kinds)
    xi = K.input_view(x, kinds["src"], rng)

    def fwd():
        got_v, got_i = K.max_pool_forward(ck, xi, **kw)
        return cmp_bits(got_v, v) or cmp_int(got_i, idx)

    run_check(res, op + ".forward", desc, fwd)
    gyi = K.input_view(gy, kinds["dst"], rng)
    ii = K.input_view(idx, kinds["indices"], rng)
    run_check(res, op + ".backward", desc, lambda: cmp_tol(
        K.max_pool_backward(ck, gyi, ii, xs, **kw), gx, tol, integer))


# ---------------------------------------------------------------------------
# Unfold / fold
# ---------------------------------------------------------------------------


def gen_window(rng):
    while True:
        H, W = int(rng.integers(1, 11)), int(rng.integers(1, 11))
        if rng.random() < WIDE:  # a long row
            H, W = int(rng.integers(1, 4)), int(rng.integers(13, 41))
        k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        d = tuple(1 if rng.random() < 0.5 else int(rng.integers(1, 4)) for _ in range(2))
        p = tuple(int(rng.integers(0, 4)) for _ in range(2))
        s = tuple(int(rng.integers(1, 4)) for _ in range(2))
        oh = K.conv_out_size(H, p[0], p[0], k[0], s[0], d[0])
        ow = K.conv_out_size(W, p[1], p[1], k[1], s[1], d[1])
        if oh < 1 or ow < 1:
            continue
        return (H, W), dict(kernel=k, dilation=d, padding=p, stride=s), oh * ow


def input_with_broadcast(rng, a, kind):
    """A strided input view, sometimes with negative strides, sometimes a
    zero-stride broadcast (then the data is made constant along that dim)."""
    if kind == "strided" and rng.random() < 0.25:
        axis = int(rng.integers(a.ndim))
        a = np.ascontiguousarray(K.broadcast_input(a, axis))
        return a, K.broadcast_input(K.input_view(a, "nchw"), axis)
    return a, K.input_view(a, kind, rng, negative=True)


def check_unfold(ck, rng, res):
    (H, W), cfg, L = gen_window(rng)
    xs = (int(rng.integers(1, 3)), int(rng.integers(1, 21 if rng.random() < WIDE else 5)), H, W)
    kinds = pick_kinds(rng, ["image", "column"])
    x, xi = input_with_broadcast(rng, data(rng, xs, False), kinds["image"])
    ref = R.unfold_reference(x, cfg)
    desc = dict(x=xs, **cfg, layouts=kinds, broadcast=xi.strides.count(0) > 0)
    run_check(res, "unfold", desc, lambda: cmp_bits(
        K.unfold(ck, xi, cfg["kernel"], cfg["dilation"], cfg["padding"], cfg["stride"],
                 layouts=kinds, rng=rng), ref))


def check_fold(ck, rng, res):
    (H, W), cfg, L = gen_window(rng)
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 5))
    cs = (n, c * cfg["kernel"][0] * cfg["kernel"][1], L)
    integer = rng.random() < 0.25
    kinds = pick_kinds(rng, ["image", "column"])
    cols, ci = input_with_broadcast(rng, data(rng, cs, integer), kinds["column"])
    cfg = dict(cfg, output_size=(H, W))
    ref, tol = R.fold_reference(cols, cfg)
    desc = dict(cols=cs, **cfg, integer=integer, layouts=kinds,
                broadcast=ci.strides.count(0) > 0)
    run_check(res, "fold", desc, lambda: cmp_tol(
        K.fold(ck, ci, (H, W), cfg["kernel"], cfg["dilation"], cfg["padding"], cfg["stride"],
               layouts=kinds, rng=rng), ref, tol, integer))


# ---------------------------------------------------------------------------
# Pad
# ---------------------------------------------------------------------------


def gen_pad(rng, mode):
    is1d = rng.random() < 0.2
    while True:
        H = 1 if is1d else int(rng.integers(1, 9))
        W = int(rng.integers(1, 41 if rng.random() < WIDE else 11))
        if mode == "constant":
            amt = lambda: int(rng.integers(-3, 4))  # noqa: E731
            pl, pr, pt, pb = amt(), amt(), amt(), amt()
            if is1d:
                pt = pb = 0
            # torch crops (narrows) first, so the cropped input must be non-empty
            if H + min(pt, 0) + min(pb, 0) < 1 or W + min(pl, 0) + min(pr, 0) < 1:
                continue
            if H + pt + pb < 1 or W + pl + pr < 1:
                continue
        else:
            lim_w = {"reflect": W - 1, "replicate": 3, "circular": W}[mode]
            lim_h = {"reflect": H - 1, "replicate": 3, "circular": H}[mode]
            pl, pr = (int(rng.integers(0, lim_w + 1)) for _ in range(2))
            pt, pb = (0, 0) if is1d else (int(rng.integers(0, lim_h + 1)) for _ in range(2))
        n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
        xs = (n, c, W) if is1d else (n, c, H, W)
        pads = (pl, pr) if is1d else (pl, pr, pt, pb)
        return xs, pads


def check_pad(ck, rng, res, mode):
    xs, pads = gen_pad(rng, mode)
    value = 0.0
    if mode == "constant":
        value = float(pick(rng, [0.0, -0.0, 1.5, -2.25, np.nan, np.inf]))
    kinds = pick_kinds(rng, ["src", "dst"])
    x, xi = input_with_broadcast(rng, pool_data(rng, xs), kinds["src"])
    ref = R.pad_reference(x, pads, mode, value)
    desc = dict(x=xs, pads=pads, value=value, layouts=kinds,
                broadcast=xi.strides.count(0) > 0)
    run_check(res, "pad." + mode, desc, lambda: cmp_bits(
        K.pad(ck, xi, pads, mode, value, layouts=kinds, rng=rng), ref))


# ---------------------------------------------------------------------------

OPS = {
    "conv2d": lambda ck, rng, res: check_conv(ck, rng, res, False),
    "conv1d": lambda ck, rng, res: check_conv(ck, rng, res, True),
    "conv_epilogue": check_conv_epilogue,
    "max_pool2d": lambda ck, rng, res: check_pool(ck, rng, res, False),
    "max_pool1d": lambda ck, rng, res: check_pool(ck, rng, res, True),
    "unfold": check_unfold,
    "fold": check_fold,
    "pad": lambda ck, rng, res: [check_pad(ck, rng, res, m) for m in K.PAD_MODES],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", help="path of libconvkit.so (default: $CONVKIT_LIB)")
    ap.add_argument("--count", type=int, default=1000,
                    help="random configurations per op and direction (default 1000)")
    ap.add_argument("--seed", type=int, default=20240611, help="RNG seed (default fixed)")
    ap.add_argument("--ops", default=",".join(OPS), help="comma-separated subset of: "
                    + ", ".join(OPS))
    ap.add_argument("--threads", type=int, default=2,
                    help="convkit_set_num_threads (default 2; torch itself runs on one "
                         "thread, which would otherwise also be OpenMP's default here)")
    ap.add_argument("--verbose", action="store_true", help="report every failure")
    args = ap.parse_args()
    ck = K.Convkit(args.lib if args.lib else K.find_library([]))
    ck.set_num_threads(args.threads)
    print("convkit %s from %s; cpu isa %s, cap %s; %d threads; torch %s; seed %d; "
          "%d configs per op" % (ck.version(), ck.path, ck.isa_name(ck.cpu_isa()),
                                 ck.isa_name(ck.get_max_isa()), ck.get_num_threads(),
                                 R.torch.__version__, args.seed, args.count), flush=True)
    res = Results(args.verbose)
    t_all = time.time()
    for name in args.ops.split(","):
        if name not in OPS:
            raise SystemExit("unknown op %r" % name)
        # Each op has its own stream so --ops subsets reproduce the same configs.
        rng = np.random.default_rng([args.seed, list(OPS).index(name)])
        t0 = time.time()
        for _ in range(args.count):
            OPS[name](ck, rng, res)
        print("  (%s: %.1f s)" % (name, time.time() - t0), flush=True)
    print("summary (per op and direction):")
    for name in res.order:
        p, f = res.stats[name]
        print("  %-28s %5d configs  %5d passed  %5d failed" % (name, p + f, p, f))
    print("implementations exercised: %s" % ", ".join(sorted(ck.impls)))
    passed, failed = res.totals()
    print("total time %.1f s" % (time.time() - t_all))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

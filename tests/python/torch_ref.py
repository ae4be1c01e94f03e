"""torch_ref - PyTorch oracles shared by parity.py and gen_fixtures.py.

Convolution and fold results come from torch in float64 together with the
two ingredients of the error bound in docs/semantics.md: `absum`, the same
computation on absolute values (sum |x*w| per output element, including the
bias), and `count`, the number of terms summed into each output element
(the same computation on ones).  A float32 result r is accepted when

    |r - ref| <= C_BOUND * max(count, 1) * 2^-24 * absum

Max-pool, unfold and pad are copies: their results come from torch in
float32 and must match exactly.
"""

import numpy as np
import torch
import torch.nn.functional as F

C_BOUND = 4.0
EPS32 = 2.0 ** -24

torch.set_num_threads(1)


def t64(a):
    return torch.from_numpy(np.array(a, dtype=np.float64, order="C", copy=True))


def t32(a):
    return torch.from_numpy(np.array(a, dtype=np.float32, order="C", copy=True))


def tol_of(absum, count):
    return C_BOUND * np.maximum(count, 1.0) * EPS32 * absum


# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------


def _conv_run(x, w, b, gy, cfg):
    """Forward and all three gradients of F.pad + conv in float64."""
    is1d = x.ndim == 3
    pads = cfg["pads"]  # F.pad order: (left, right[, top, bottom])
    mode = cfg["mode"]
    xt = t64(x).requires_grad_(True)
    wt = t64(w).requires_grad_(True)
    bt = t64(b).requires_grad_(True) if b is not None else None
    if mode == "zeros":
        xp = F.pad(xt, pads) if any(pads) else xt
    else:
        xp = F.pad(xt, pads, mode=mode)
    if is1d:
        y = F.conv1d(xp, wt, bt, cfg["stride"], 0, cfg["dilation"], cfg["groups"])
    else:
        y = F.conv2d(xp, wt, bt, cfg["stride"], 0, cfg["dilation"], cfg["groups"])
    gyt = t64(gy)
    assert tuple(gyt.shape) == tuple(y.shape), (gyt.shape, y.shape)
    y.backward(gyt)
    gx = xt.grad if xt.grad is not None else torch.zeros_like(xt)
    gw = wt.grad if wt.grad is not None else torch.zeros_like(wt)
    gb = None
    if bt is not None:
        gb = bt.grad if bt.grad is not None else torch.zeros_like(bt)
    return (y.detach().numpy(), gx.numpy(), gw.numpy(),
            None if gb is None else gb.numpy())


def conv_reference(x, w, b, gy, cfg):
    """cfg: pads (F.pad order), mode (zeros|reflect|replicate|circular),
    stride, dilation (int or pair), groups.  b may be None; gy is the grad
    of the output.  Returns a dict direction -> (ref, tol) with directions
    forward, backward_data, backward_weights, backward_bias (float64)."""
    y, gx, gw, gb = _conv_run(x, w, b, gy, cfg)
    ab = None if b is None else np.abs(b)
    ay, agx, agw, agb = _conv_run(np.abs(x), np.abs(w), ab, np.abs(gy), cfg)
    ob = None if b is None else np.ones_like(b)
    cy, cgx, cgw, _ = _conv_run(np.ones_like(x), np.ones_like(w), ob, np.ones_like(gy), cfg)
    # For the bias gradient every output element is one term.
    nb = gy.size // gy.shape[1] if gy.shape[1] else 0
    out = {
        "forward": (y, tol_of(ay, cy)),
        "backward_data": (gx, tol_of(agx, cgx)),
        "backward_weights": (gw, tol_of(agw, cgw)),
        "backward_bias": (gy.astype(np.float64).sum(axis=tuple(i for i in range(gy.ndim) if i != 1)),
                          tol_of(np.abs(gy.astype(np.float64)).sum(
                              axis=tuple(i for i in range(gy.ndim) if i != 1)), nb)),
    }
    if gb is not None:
        assert np.allclose(gb, out["backward_bias"][0])
    return out


# The activations fused into convolution forward (convkit.h
# CONVKIT_ACTIVATION_*), as a PyTorch user writes them after F.conv2d.
ACTIVATIONS = {
    "none": lambda t, a, b: t,
    "relu": lambda t, a, b: F.relu(t),
    "clamp": lambda t, a, b: torch.clamp(t, a, b),
    "sigmoid": lambda t, a, b: torch.sigmoid(t),
    "tanh": lambda t, a, b: torch.tanh(t),
    "silu": lambda t, a, b: F.silu(t),
    "gelu_tanh": lambda t, a, b: F.gelu(t, approximate="tanh"),
    "gelu_erf": lambda t, a, b: F.gelu(t),
}


def activation_reference(y, name, alpha=0.0, beta=0.0):
    """torch's activation `name` on y in float64 (alpha, beta: clamp's bounds)."""
    return ACTIVATIONS[name](t64(y), float(alpha), float(beta)).numpy()


def conv_out_shape(x_shape, w_shape, cfg):
    """Output shape of F.pad + conv, or None if torch would reject it."""
    pads = cfg["pads"]
    st = cfg["stride"]
    dl = cfg["dilation"]
    if len(x_shape) == 3:
        L = x_shape[2] + pads[0] + pads[1]
        o = (L - dl * (w_shape[2] - 1) - 1) // st + 1
        return (x_shape[0], w_shape[0], o) if L - dl * (w_shape[2] - 1) - 1 >= 0 else None
    sh, sw = st
    dh, dw = dl
    H = x_shape[2] + pads[2] + pads[3]
    W = x_shape[3] + pads[0] + pads[1]
    nh = H - dh * (w_shape[2] - 1) - 1
    nw = W - dw * (w_shape[3] - 1) - 1
    if nh < 0 or nw < 0:
        return None
    return (x_shape[0], w_shape[0], nh // sh + 1, nw // sw + 1)


# ---------------------------------------------------------------------------
# Max-pool
# ---------------------------------------------------------------------------


def pool_reference(x, gy_fn, cfg):
    """F.max_pool{1,2}d(return_indices=True) on float32 x, then the backward
    of a float64 run with the same indices.  gy_fn(shape) makes grad_out.
    Returns (values f32, indices i64, grad_out f32, grad_in f64, tol)."""
    is1d = x.ndim == 3
    fn = F.max_pool1d if is1d else F.max_pool2d
    args = (cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["ceil_mode"])
    v, i = fn(t32(x), *args, return_indices=True)
    v = v.numpy()
    i = i.numpy()
    gy = gy_fn(v.shape)
    x64 = t64(x).requires_grad_(True)
    v64, i64 = fn(x64, *args, return_indices=True)
    if not np.array_equal(i64.numpy(), i):
        raise AssertionError("torch float32 and float64 pooling chose different indices")
    v64.backward(t64(gy))
    gx = x64.grad.numpy()
    # Backward sums grad_out terms: bound from |grad_out| and term counts.
    xa = t64(x).requires_grad_(True)
    va, _ = fn(xa, *args, return_indices=True)
    va.backward(t64(np.abs(gy)))
    xc = t64(x).requires_grad_(True)
    vc, _ = fn(xc, *args, return_indices=True)
    vc.backward(torch.ones_like(vc))
    return v, i, gy, gx, tol_of(xa.grad.numpy(), xc.grad.numpy())


def window_positions(n, k, s, p, d, out):
    """For each output position: the input coordinates its window covers."""
    return [[o * s - p + j * d for j in range(k) if 0 <= o * s - p + j * d < n]
            for o in range(out)]


def pool_has_empty_window(in_sizes, ks, ss, ps, ds, outs):
    return any(any(len(w) == 0 for w in window_positions(n, k, s, p, d, o))
               for n, k, s, p, d, o in zip(in_sizes, ks, ss, ps, ds, outs))


# ---------------------------------------------------------------------------
# Unfold / fold / pad
# ---------------------------------------------------------------------------


def unfold_reference(x, cfg):
    return F.unfold(t32(x), cfg["kernel"], cfg["dilation"], cfg["padding"],
                    cfg["stride"]).numpy()


def fold_reference(cols, cfg):
    args = (cfg["output_size"], cfg["kernel"], cfg["dilation"], cfg["padding"],
            cfg["stride"])
    y = F.fold(t64(cols), *args).numpy()
    ay = F.fold(t64(np.abs(cols)), *args).numpy()
    cy = F.fold(torch.ones(cols.shape, dtype=torch.float64), *args).numpy()
    return y, tol_of(ay, cy)


def pad_reference(x, pads, mode, value):
    if mode == "constant":
        return F.pad(t32(x), pads, mode="constant", value=value).numpy()
    return F.pad(t32(x), pads, mode=mode).numpy()

"""convkit_ctypes - a small ctypes binding of convkit's public API.

The structs below mirror include/convkit.h field by field (same order, same
fixed-width types, natural alignment), including convkit_layout_t and every
reserved array, so a struct built here has the exact size and offsets the C
compiler gives it.  Every call's status is checked; a failure raises
ConvkitError with convkit_status_string() and convkit_last_error().

Two levels:
  * Plans: Conv2dPlan, Conv1dPlan, Pool2dPlan, Pool1dPlan, UnfoldPlan,
    FoldPlan, PadPlan wrap create/execute/destroy and take the raw params.
  * Helpers (conv2d, conv2d_backward_data, ..., pad) take numpy arrays in
    logical NCHW order (any view: dense, transposed, gapped, negative or
    zero strides), describe each operand to the library by its real strides,
    allocate outputs in a requested layout ("nchw", "nhwc", "strided") and
    return the outputs as logical NCHW views.

Library path: Convkit(path), else --lib on the command line of the calling
script (see find_library), else the CONVKIT_LIB environment variable.
"""

import ctypes as C
import os
import sys

import numpy as np

# ---------------------------------------------------------------------------
# Constants (include/convkit.h)
# ---------------------------------------------------------------------------

SUCCESS = 0
ERROR_INVALID_ARGUMENT = 1
ERROR_NULL_POINTER = 2
ERROR_SHAPE_MISMATCH = 3
ERROR_UNSUPPORTED_ISA = 4
ERROR_OUT_OF_MEMORY = 5
ERROR_OVERFLOW = 6
ERROR_INDEX_OUT_OF_RANGE = 7
ERROR_WRONG_PLAN = 8
ERROR_STRUCT_SIZE = 9
ERROR_RESERVED_NONZERO = 10

ISA_DEFAULT = 0
ISA_SCALAR = 1
ISA_AVX2 = 2
ISA_AVX512 = 3
ISA_NEON = 4

FORMAT_NCHW = 0
FORMAT_NHWC = 1
FORMAT_STRIDED = 2
FORMAT_NCHW16C = 3  # channel-blocked nChw16c (convolution src/dst/residual only)
FORMAT_NCHW8C = 4   # channel-blocked nChw8c

# convkit_conv*_params_t.activation (CONVKIT_ACTIVATION_*), fused into forward
ACTIVATION_NONE = 0
ACTIVATION_RELU = 1
ACTIVATION_CLAMP = 2
ACTIVATION_SIGMOID = 3
ACTIVATION_TANH = 4
ACTIVATION_SILU = 5
ACTIVATION_GELU_TANH = 6
ACTIVATION_GELU_ERF = 7
ACTIVATIONS = {"none": ACTIVATION_NONE, "relu": ACTIVATION_RELU, "clamp": ACTIVATION_CLAMP,
               "sigmoid": ACTIVATION_SIGMOID, "tanh": ACTIVATION_TANH,
               "silu": ACTIVATION_SILU, "gelu_tanh": ACTIVATION_GELU_TANH,
               "gelu_erf": ACTIVATION_GELU_ERF}

PADDING_ZEROS = 0
PADDING_REFLECT = 1
PADDING_REPLICATE = 2
PADDING_CIRCULAR = 3

PAD_CONSTANT = 0
PAD_REFLECT = 1
PAD_REPLICATE = 2
PAD_CIRCULAR = 3

PADDING_MODES = {"zeros": PADDING_ZEROS, "reflect": PADDING_REFLECT,
                 "replicate": PADDING_REPLICATE, "circular": PADDING_CIRCULAR}
PAD_MODES = {"constant": PAD_CONSTANT, "reflect": PAD_REFLECT,
             "replicate": PAD_REPLICATE, "circular": PAD_CIRCULAR}

# ---------------------------------------------------------------------------
# Structs
# ---------------------------------------------------------------------------

i64 = C.c_int64
u32 = C.c_uint32
u64 = C.c_uint64


class Layout(C.Structure):
    _fields_ = [("format", u32), ("reserved", u32), ("strides", i64 * 4)]


class Conv2dParams(C.Structure):
    _fields_ = [
        ("struct_size", u32), ("isa", u32),
        ("batch", i64), ("in_channels", i64), ("in_height", i64), ("in_width", i64),
        ("out_channels", i64), ("kernel_h", i64), ("kernel_w", i64),
        ("stride_h", i64), ("stride_w", i64),
        ("pad_top", i64), ("pad_bottom", i64), ("pad_left", i64), ("pad_right", i64),
        ("dilation_h", i64), ("dilation_w", i64), ("groups", i64), ("bias_length", i64),
        ("padding_mode", u32), ("flags", u32),
        ("src_layout", Layout), ("weight_layout", Layout), ("dst_layout", Layout),
        ("algorithm", u32), ("reserved32", u32), ("reserved", u64 * 3),
        # added in 0.2 (a shorter struct_size reads them as 0)
        ("activation", u32), ("activation_alpha", C.c_float), ("activation_beta", C.c_float),
        ("reserved_tail", u32),
    ]
    _defaults_ = dict(batch=1, in_channels=1, in_height=1, in_width=1, out_channels=1,
                      kernel_h=1, kernel_w=1, stride_h=1, stride_w=1, dilation_h=1,
                      dilation_w=1, groups=1)


class Conv1dParams(C.Structure):
    _fields_ = [
        ("struct_size", u32), ("isa", u32),
        ("batch", i64), ("in_channels", i64), ("in_length", i64), ("out_channels", i64),
        ("kernel", i64), ("stride", i64), ("pad_left", i64), ("pad_right", i64),
        ("dilation", i64), ("groups", i64), ("bias_length", i64),
        ("padding_mode", u32), ("flags", u32),
        ("src_layout", Layout), ("weight_layout", Layout), ("dst_layout", Layout),
        ("algorithm", u32), ("reserved32", u32), ("reserved", u64 * 3),
        ("activation", u32), ("activation_alpha", C.c_float), ("activation_beta", C.c_float),
        ("reserved_tail", u32),
    ]
    _defaults_ = dict(batch=1, in_channels=1, in_length=1, out_channels=1, kernel=1,
                      stride=1, dilation=1, groups=1)


class Pool2dParams(C.Structure):
    _fields_ = [
        ("struct_size", u32), ("isa", u32),
        ("batch", i64), ("channels", i64), ("in_height", i64), ("in_width", i64),
        ("kernel_h", i64), ("kernel_w", i64), ("stride_h", i64), ("stride_w", i64),
        ("pad_h", i64), ("pad_w", i64), ("dilation_h", i64), ("dilation_w", i64),
        ("ceil_mode", u32), ("flags", u32),
        ("src_layout", Layout), ("dst_layout", Layout), ("indices_layout", Layout),
        ("reserved", u64 * 4),
    ]
    _defaults_ = dict(batch=1, channels=1, in_height=1, in_width=1, kernel_h=1, kernel_w=1,
                      dilation_h=1, dilation_w=1)


class Pool1dParams(C.Structure):
    _fields_ = [
        ("struct_size", u32), ("isa", u32),
        ("batch", i64), ("channels", i64), ("in_length", i64), ("kernel", i64),
        ("stride", i64), ("pad", i64), ("dilation", i64),
        ("ceil_mode", u32), ("flags", u32),
        ("src_layout", Layout), ("dst_layout", Layout), ("indices_layout", Layout),
        ("reserved", u64 * 4),
    ]
    _defaults_ = dict(batch=1, channels=1, in_length=1, kernel=1, dilation=1)


class FoldParams(C.Structure):
    _fields_ = [
        ("struct_size", u32), ("isa", u32),
        ("batch", i64), ("channels", i64), ("height", i64), ("width", i64),
        ("kernel_h", i64), ("kernel_w", i64), ("dilation_h", i64), ("dilation_w", i64),
        ("pad_h", i64), ("pad_w", i64), ("stride_h", i64), ("stride_w", i64),
        ("col_channels", i64), ("col_length", i64),
        ("image_layout", Layout), ("column_layout", Layout),
        ("reserved", u64 * 4),
    ]
    _defaults_ = dict(batch=1, channels=1, height=1, width=1, kernel_h=1, kernel_w=1,
                      dilation_h=1, dilation_w=1, stride_h=1, stride_w=1)


class PadParams(C.Structure):
    _fields_ = [
        ("struct_size", u32), ("isa", u32),
        ("batch", i64), ("channels", i64), ("height", i64), ("width", i64),
        ("pad_left", i64), ("pad_right", i64), ("pad_top", i64), ("pad_bottom", i64),
        ("mode", u32), ("value", C.c_float),
        ("src_layout", Layout), ("dst_layout", Layout),
        ("reserved", u64 * 4),
    ]
    _defaults_ = dict(batch=1, channels=1, height=1, width=1)


# sizeof() of each struct as the C compiler lays it out on LP64 targets
# (checked at load time: a field added to the header but not here shows up).
EXPECTED_SIZES = {Layout: 40, Conv2dParams: 320, Conv1dParams: 272, Pool2dParams: 264,
                  Pool1dParams: 224, FoldParams: 232, PadParams: 192}


def make_params(cls, **kw):
    """A params struct initialised like its CONVKIT_*_INIT macro, then kw."""
    p = cls()
    p.struct_size = C.sizeof(cls)
    for k, v in cls._defaults_.items():
        setattr(p, k, v)
    for k, v in kw.items():
        if not hasattr(p, k):
            raise AttributeError("%s has no field %r" % (cls.__name__, k))
        setattr(p, k, v)
    return p


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


class ConvkitError(RuntimeError):
    def __init__(self, status, func, message):
        self.status = status
        self.func = func
        self.message = message
        super().__init__("%s failed: status %d: %s" % (func, status, message))


def find_library(argv=None):
    """The library path from --lib PATH / --lib=PATH in argv, else $CONVKIT_LIB."""
    argv = sys.argv if argv is None else argv
    for i, a in enumerate(argv):
        if a == "--lib" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--lib="):
            return a[len("--lib="):]
    path = os.environ.get("CONVKIT_LIB")
    if not path:
        raise SystemExit("convkit_ctypes: pass --lib PATH/libconvkit.so or set CONVKIT_LIB")
    return path


_PLAN = C.c_void_p
_F = C.c_void_p  # data pointers are passed as raw addresses


class Convkit:
    """The loaded library: raw functions plus checked wrappers."""

    def __init__(self, path=None):
        self.path = path if path is not None else find_library()
        self.impls = set()  # convkit_plan_impl_name of every plan created
        lib = self.lib = C.CDLL(self.path)
        for cls, size in EXPECTED_SIZES.items():
            if C.sizeof(cls) != size:
                raise AssertionError("%s: sizeof %d, expected %d" % (cls.__name__,
                                                                       C.sizeof(cls), size))
        st = C.c_int

        def fn(name, res, *args):
            f = getattr(lib, name)
            f.restype = res
            f.argtypes = list(args)
            return f

        fn("convkit_status_string", C.c_char_p, st)
        fn("convkit_last_error", C.c_char_p)
        fn("convkit_version", C.c_char_p)
        fn("convkit_cpu_isa", u32)
        fn("convkit_isa_supported", C.c_int, u32)
        fn("convkit_isa_name", C.c_char_p, u32)
        fn("convkit_set_max_isa", st, u32)
        fn("convkit_get_max_isa", u32)
        fn("convkit_set_num_threads", st, C.c_int)
        fn("convkit_get_num_threads", C.c_int)
        fn("convkit_plan_destroy", None, _PLAN)
        fn("convkit_plan_impl_name", C.c_char_p, _PLAN)
        fn("convkit_plan_isa", u32, _PLAN)
        fn("convkit_plan_output_dims", st, _PLAN, C.POINTER(i64))
        fn("convkit_conv2d_create", st, C.POINTER(Conv2dParams), C.POINTER(_PLAN))
        fn("convkit_conv1d_create", st, C.POINTER(Conv1dParams), C.POINTER(_PLAN))
        fn("convkit_conv_forward", st, _PLAN, _F, _F, _F, _F)
        fn("convkit_conv_forward_residual", st, _PLAN, _F, _F, _F, _F, _F)
        fn("convkit_conv_set_weights", st, _PLAN, _F)
        fn("convkit_conv_backward_data", st, _PLAN, _F, _F, _F)
        fn("convkit_conv_backward_weights", st, _PLAN, _F, _F, _F)
        fn("convkit_conv_backward_bias", st, _PLAN, _F, _F)
        fn("convkit_max_pool2d_create", st, C.POINTER(Pool2dParams), C.POINTER(_PLAN))
        fn("convkit_max_pool1d_create", st, C.POINTER(Pool1dParams), C.POINTER(_PLAN))
        fn("convkit_max_pool_forward", st, _PLAN, _F, _F, _F)
        fn("convkit_max_pool_backward", st, _PLAN, _F, _F, _F)
        fn("convkit_unfold_create", st, C.POINTER(FoldParams), C.POINTER(_PLAN))
        fn("convkit_fold_create", st, C.POINTER(FoldParams), C.POINTER(_PLAN))
        fn("convkit_fold_execute", st, _PLAN, _F, _F)
        fn("convkit_pad_create", st, C.POINTER(PadParams), C.POINTER(_PLAN))
        fn("convkit_pad_execute", st, _PLAN, _F, _F)

    # ---- basics -----------------------------------------------------------

    def check(self, status, func):
        if status != SUCCESS:
            msg = (self.lib.convkit_last_error() or b"").decode()
            raise ConvkitError(status, func, msg)

    def call(self, name, *args):
        self.check(getattr(self.lib, name)(*args), name)

    def version(self):
        return self.lib.convkit_version().decode()

    def status_string(self, status):
        s = self.lib.convkit_status_string(status)
        return s.decode() if s else None

    def last_error(self):
        return (self.lib.convkit_last_error() or b"").decode()

    def cpu_isa(self):
        return self.lib.convkit_cpu_isa()

    def isa_supported(self, isa):
        return bool(self.lib.convkit_isa_supported(isa))

    def isa_name(self, isa):
        s = self.lib.convkit_isa_name(isa)
        return s.decode() if s else None

    def set_max_isa(self, isa):
        self.call("convkit_set_max_isa", isa)

    def get_max_isa(self):
        return self.lib.convkit_get_max_isa()

    def set_num_threads(self, n):
        self.call("convkit_set_num_threads", n)

    def get_num_threads(self):
        return self.lib.convkit_get_num_threads()

    # ---- plans --------------------------------------------------------------

    def _create(self, func, params, plan_cls):
        h = _PLAN()
        self.call(func, C.byref(params), C.byref(h))
        if not h.value:
            raise AssertionError("%s succeeded but returned a NULL plan" % func)
        plan = plan_cls(self, h, params)
        self.impls.add(plan.impl_name())
        return plan

    def conv2d_plan(self, **kw):
        return self._create("convkit_conv2d_create", make_params(Conv2dParams, **kw), ConvPlan)

    def conv1d_plan(self, **kw):
        return self._create("convkit_conv1d_create", make_params(Conv1dParams, **kw), ConvPlan)

    def max_pool2d_plan(self, **kw):
        return self._create("convkit_max_pool2d_create", make_params(Pool2dParams, **kw),
                            PoolPlan)

    def max_pool1d_plan(self, **kw):
        return self._create("convkit_max_pool1d_create", make_params(Pool1dParams, **kw),
                            PoolPlan)

    def unfold_plan(self, **kw):
        return self._create("convkit_unfold_create", make_params(FoldParams, **kw), FoldPlan)

    def fold_plan(self, **kw):
        return self._create("convkit_fold_create", make_params(FoldParams, **kw), FoldPlan)

    def pad_plan(self, **kw):
        return self._create("convkit_pad_create", make_params(PadParams, **kw), PadPlan)

    # ---- numpy-level helpers (defined below as module functions) ---------------


def _ptr(a):
    """Address of a numpy view's first element (None for None)."""
    return None if a is None else a.ctypes.data


class Plan:
    def __init__(self, ck, handle, params):
        self.ck = ck
        self.handle = handle
        self.params = params

    def close(self):
        if self.handle is not None and self.handle.value:
            self.ck.lib.convkit_plan_destroy(self.handle)
        self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def impl_name(self):
        return self.ck.lib.convkit_plan_impl_name(self.handle).decode()

    def isa(self):
        return self.ck.lib.convkit_plan_isa(self.handle)

    def output_dims(self):
        d = (i64 * 4)()
        self.ck.call("convkit_plan_output_dims", self.handle, d)
        return tuple(d)


class ConvPlan(Plan):
    def forward(self, src, weight, bias, dst):
        self.ck.call("convkit_conv_forward", self.handle, _ptr(src), _ptr(weight), _ptr(bias),
                     _ptr(dst))

    def forward_residual(self, src, weight, bias, residual, dst):
        """dst = act(conv + bias) + residual; residual has dst's layout (strides) and
        may be dst itself; None means no add."""
        self.ck.call("convkit_conv_forward_residual", self.handle, _ptr(src), _ptr(weight),
                     _ptr(bias), _ptr(residual), _ptr(dst))

    def set_weights(self, weight):
        """Packs weight (the plan's weight_layout) into the plan; forward then
        accepts weight None."""
        self.ck.call("convkit_conv_set_weights", self.handle, _ptr(weight))

    def backward_data(self, grad_dst, weight, grad_src):
        self.ck.call("convkit_conv_backward_data", self.handle, _ptr(grad_dst), _ptr(weight),
                     _ptr(grad_src))

    def backward_weights(self, src, grad_dst, grad_weight):
        self.ck.call("convkit_conv_backward_weights", self.handle, _ptr(src), _ptr(grad_dst),
                     _ptr(grad_weight))

    def backward_bias(self, grad_dst, grad_bias):
        self.ck.call("convkit_conv_backward_bias", self.handle, _ptr(grad_dst),
                     _ptr(grad_bias))


class PoolPlan(Plan):
    def forward(self, src, dst, indices):
        self.ck.call("convkit_max_pool_forward", self.handle, _ptr(src), _ptr(dst),
                     _ptr(indices))

    def backward(self, grad_dst, indices, grad_src):
        self.ck.call("convkit_max_pool_backward", self.handle, _ptr(grad_dst), _ptr(indices),
                     _ptr(grad_src))


class FoldPlan(Plan):
    def execute(self, src, dst):
        self.ck.call("convkit_fold_execute", self.handle, _ptr(src), _ptr(dst))


class PadPlan(Plan):
    def execute(self, src, dst):
        self.ck.call("convkit_pad_execute", self.handle, _ptr(src), _ptr(dst))


# ---------------------------------------------------------------------------
# Layouts of numpy views
# ---------------------------------------------------------------------------

LAYOUT_KINDS = ("nchw", "nhwc", "strided")

# convkit_conv*_params_t.algorithm (CONVKIT_CONV_ALGORITHM_*)
CONV_ALGORITHMS = {"auto": 0, "gemm": 1, "direct": 2}


def layout_of(a4, kind=None):
    """The convkit_layout_t describing 4-D view a4 (logical N, C, H, W).

    kind "strided" always passes explicit strides; otherwise the view is
    reported as NCHW or NHWC when it is dense in that order, else strided."""
    item = a4.itemsize
    strides = []
    for s in a4.strides:
        if s % item:
            raise ValueError("stride %d is not a multiple of the element size" % s)
        strides.append(s // item)
    lay = Layout()
    if kind != "strided":
        if a4.flags.c_contiguous:
            lay.format = FORMAT_NCHW
            return lay
        if a4.transpose(0, 2, 3, 1).flags.c_contiguous:
            lay.format = FORMAT_NHWC
            return lay
        if kind in ("nchw", "nhwc"):
            raise ValueError("view is not dense %s" % kind)
    lay.format = FORMAT_STRIDED
    for d in range(4):
        lay.strides[d] = strides[d]
    return lay


def as4d(a):
    """A 3-D (N, C, L) view as the 4-D (N, C, 1, L) view convkit expects."""
    return a[:, :, None, :] if a.ndim == 3 else a


def make_view(shape, kind, dtype=np.float32, rng=None, fill=None, negative=False):
    """A fresh array of logical shape `shape` (4-D N,C,H,W or 3-D N,C,L)
    laid out as `kind`:
      nchw     dense, last dim fastest
      nhwc     dense, channels fastest (for 3-D: (N, L, C))
      strided  a random dim order with random gaps, and with negative=True
               random negative strides (legal for pure inputs only).
    Returns (view, base) where base is the whole underlying buffer (for
    checking stray writes into gaps).  fill initialises the buffer."""
    shape = tuple(int(s) for s in shape)
    nd = len(shape)
    rng = rng if rng is not None else np.random.default_rng(0)
    if kind == "nchw":
        order = list(range(nd))
        gaps = [1] * nd
    elif kind == "nhwc":
        order = [0] + list(range(2, nd)) + [1]
        gaps = [1] * nd
    elif kind == "strided":
        order = list(rng.permutation(nd))
        gaps = [int(rng.integers(1, 3)) for _ in range(nd)]
    else:
        raise ValueError(kind)
    bshape = [shape[d] * gaps[d] for d in order]
    base = np.empty(bshape, dtype=dtype)
    if fill is not None:
        base.fill(fill)
    v = base[tuple(slice(None, None, gaps[d]) for d in order)]
    inv = [order.index(d) for d in range(nd)]
    v = v.transpose(inv)
    if kind == "strided" and negative:
        flips = tuple(slice(None, None, -1) if rng.random() < 0.3 else slice(None)
                      for _ in range(nd))
        v = v[flips]
    assert v.shape == shape, (v.shape, shape)
    return v, base


def input_view(a, kind, rng=None, negative=False):
    """A copy of array a laid out as kind (see make_view)."""
    v, _ = make_view(a.shape, kind, a.dtype, rng, negative=negative)
    v[...] = a
    return v


def broadcast_input(a, axis):
    """A zero-stride view repeating a[..., 0:1, ...] along axis (caller makes
    sure the data is constant along it)."""
    sl = [slice(None)] * a.ndim
    sl[axis] = slice(0, 1)
    return np.broadcast_to(a[tuple(sl)], a.shape)


def check_gaps(view, base, fill):
    """True if every element of base outside view still holds fill."""
    if base.size == view.size:
        return True
    mask = np.ones(base.size, dtype=bool)
    start = (view.ctypes.data - base.ctypes.data) // base.itemsize
    idx = np.full(view.shape, start, dtype=np.int64)
    for d, (n, s) in enumerate(zip(view.shape, view.strides)):
        sh = [1] * view.ndim
        sh[d] = n
        idx = idx + (np.arange(n) * (s // base.itemsize)).reshape(sh)
    mask[idx.ravel()] = False
    rest = base.ravel()[mask]
    if np.isnan(fill):
        return bool(np.all(np.isnan(rest)))
    return bool(np.all(rest == fill))


SENTINEL = np.float32(-7.77e30)
ISENTINEL = -0x5A5A5A5A


def _out(shape, kind, rng, dtype=np.float32):
    fill = SENTINEL if dtype == np.float32 else ISENTINEL
    v, base = make_view(shape, kind or "nchw", dtype, rng, fill=fill)
    return v, base, fill


class StrayWrite(AssertionError):
    pass


def _gaps(out):
    v, base, fill = out
    if not check_gaps(v, base, fill):
        raise StrayWrite("the library wrote outside the output view")
    return v


def _pair(v):
    return (v, v) if np.isscalar(v) or isinstance(v, (int, np.integer)) else tuple(v)


# ---------------------------------------------------------------------------
# Convolution helpers
# ---------------------------------------------------------------------------


def _conv_params(ck, x_shape, w_shape, stride, padding, dilation, groups, padding_mode,
                 bias, is1d, isa):
    if is1d:
        n, cin, L = x_shape
        cout, _, k = w_shape
        pl, pr = (padding, padding) if np.isscalar(padding) else padding
        return dict(isa=isa, batch=n, in_channels=cin, in_length=L, out_channels=cout,
                    kernel=k, stride=stride, pad_left=pl, pad_right=pr, dilation=dilation,
                    groups=groups, bias_length=cout if bias else 0,
                    padding_mode=PADDING_MODES[padding_mode])
    n, cin, h, w = x_shape
    cout, _, kh, kw = w_shape
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    if np.isscalar(padding):
        pt = pb = pl = pr = padding
    elif len(padding) == 2:
        pt = pb = padding[0]
        pl = pr = padding[1]
    else:
        pt, pb, pl, pr = padding  # (top, bottom, left, right)
    return dict(isa=isa, batch=n, in_channels=cin, in_height=h, in_width=w, out_channels=cout,
                kernel_h=kh, kernel_w=kw, stride_h=sh, stride_w=sw, pad_top=pt, pad_bottom=pb,
                pad_left=pl, pad_right=pr, dilation_h=dh, dilation_w=dw, groups=groups,
                bias_length=cout if bias else 0, padding_mode=PADDING_MODES[padding_mode])


def _conv_plan(ck, x_shape, w_shape, stride, padding, dilation, groups, padding_mode, bias,
               isa, src4, w4, dst4, kinds, algorithm=0, epilogue=(ACTIVATION_NONE, 0.0, 0.0)):
    is1d = len(x_shape) == 3
    kw = _conv_params(ck, x_shape, w_shape, stride, padding, dilation, groups, padding_mode,
                      bias, is1d, isa)
    kw["algorithm"] = CONV_ALGORITHMS[algorithm] if isinstance(algorithm, str) else algorithm
    kw["activation"], kw["activation_alpha"], kw["activation_beta"] = epilogue
    kw["src_layout"] = layout_of(src4, kinds.get("src"))
    kw["weight_layout"] = layout_of(w4, kinds.get("weight"))
    kw["dst_layout"] = layout_of(dst4, kinds.get("dst"))
    return ck.conv1d_plan(**kw) if is1d else ck.conv2d_plan(**kw)


def conv_out_size(n, lo, hi, k, s, d):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def conv_output_shape(x_shape, w_shape, stride=1, padding=0, dilation=1):
    if len(x_shape) == 3:
        pl, pr = (padding, padding) if np.isscalar(padding) else padding
        return (x_shape[0], w_shape[0],
                conv_out_size(x_shape[2], pl, pr, w_shape[2], stride, dilation))
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    if np.isscalar(padding):
        pt = pb = pl = pr = padding
    elif len(padding) == 2:
        pt = pb = padding[0]
        pl = pr = padding[1]
    else:
        pt, pb, pl, pr = padding
    return (x_shape[0], w_shape[0], conv_out_size(x_shape[2], pt, pb, w_shape[2], sh, dh),
            conv_out_size(x_shape[3], pl, pr, w_shape[3], sw, dw))


def same_layout(view, base, values):
    """A view of a fresh buffer shaped like base with view's offset and
    strides (the residual operand must have dst's layout), holding values."""
    rbase = np.full_like(base, np.nan)
    off = view.ctypes.data - base.ctypes.data
    r = np.ndarray(view.shape, dtype=view.dtype, buffer=rbase, offset=off,
                   strides=view.strides)
    r[...] = values
    return r


def conv_forward(ck, x, w, bias=None, stride=1, padding=0, dilation=1, groups=1,
                 padding_mode="zeros", layouts=None, isa=0, rng=None,
                 algorithm=0, activation="none", alpha=0.0, beta=0.0, residual=None,
                 residual_in_place=False):
    """F.conv2d / F.conv1d (after F.pad in padding_mode).  x (N,C,H,W) or
    (N,C,L); padding an int, (ph, pw) or (top, bottom, left, right); for 1-D
    an int or (left, right).  layouts: {"dst": kind, "src"/"weight": kind}
    (input kinds only decide NCHW/NHWC vs forced STRIDED reporting).
    activation: a name of ACTIVATIONS (or its value) fused into forward,
    with alpha/beta for "clamp"; residual: values (output shape) added
    after the activation, passed in a buffer laid out as dst, or in dst
    itself with residual_in_place (convkit_conv_forward_residual)."""
    layouts = layouts or {}
    oshape = conv_output_shape(x.shape, w.shape, stride, padding, dilation)
    out = _out(oshape, layouts.get("dst"), rng)
    act = ACTIVATIONS[activation] if isinstance(activation, str) else activation
    with _conv_plan(ck, x.shape, w.shape, stride, padding, dilation, groups, padding_mode,
                    bias is not None, isa, as4d(x), as4d(w), as4d(out[0]), layouts,
                    algorithm, epilogue=(act, alpha, beta)) as p:
        b = None if bias is None else np.ascontiguousarray(bias, dtype=np.float32)
        if residual is None:
            p.forward(x, w, b, out[0])
        elif residual_in_place:
            out[0][...] = residual
            p.forward_residual(x, w, b, out[0], out[0])
        else:
            p.forward_residual(x, w, b, same_layout(out[0], out[1], residual), out[0])
    return _gaps(out)


def conv_backward_data(ck, grad_out, w, x_shape, stride=1, padding=0, dilation=1, groups=1,
                       padding_mode="zeros", layouts=None, isa=0, rng=None,
        algorithm=0):
    layouts = layouts or {}
    out = _out(x_shape, layouts.get("src"), rng)
    with _conv_plan(ck, x_shape, w.shape, stride, padding, dilation, groups, padding_mode,
                    False, isa, as4d(out[0]), as4d(w), as4d(grad_out), layouts,
                    algorithm) as p:
        p.backward_data(grad_out, w, out[0])
    return _gaps(out)


def conv_backward_weights(ck, x, grad_out, w_shape, stride=1, padding=0, dilation=1,
                          groups=1, padding_mode="zeros", layouts=None, isa=0, rng=None,
        algorithm=0):
    layouts = layouts or {}
    out = _out(w_shape, layouts.get("weight"), rng)
    with _conv_plan(ck, x.shape, w_shape, stride, padding, dilation, groups, padding_mode,
                    False, isa, as4d(x), as4d(out[0]), as4d(grad_out), layouts,
                    algorithm) as p:
        p.backward_weights(x, grad_out, out[0])
    return _gaps(out)


def conv_backward_bias(ck, grad_out, x_shape, w_shape, stride=1, padding=0, dilation=1,
                       groups=1, padding_mode="zeros", layouts=None, isa=0, rng=None,
        algorithm=0):
    layouts = layouts or {}
    cout = w_shape[0]
    base = np.full(cout + 2, SENTINEL, dtype=np.float32)
    gb = base[1:cout + 1]
    w4 = np.empty(w_shape, np.float32)
    x4 = np.empty(x_shape, np.float32)
    if layouts.get("src") == "nhwc":  # only its layout matters (algorithm DIRECT)
        x4 = np.moveaxis(np.empty(x_shape[:1] + x_shape[2:] + x_shape[1:2], np.float32), -1, 1)
    with _conv_plan(ck, x_shape, w_shape, stride, padding, dilation, groups, padding_mode,
                    True, isa, as4d(x4), as4d(w4), as4d(grad_out), layouts,
                    algorithm) as p:
        p.backward_bias(grad_out, gb)
    if base[0] != SENTINEL or base[-1] != SENTINEL:
        raise StrayWrite("convkit_conv_backward_bias wrote outside grad_bias")
    return gb


# ---------------------------------------------------------------------------
# Max-pool helpers
# ---------------------------------------------------------------------------


def pool_out_size(n, k, s, p, d, ceil_mode):
    num = n + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        o = -((-num) // s) + 1
        if (o - 1) * s >= n + p:
            o -= 1
    else:
        o = num // s + 1
    return o


def _pool_params(x_shape, kernel, stride, padding, dilation, ceil_mode, isa):
    if len(x_shape) == 3:
        n, c, L = x_shape
        return dict(isa=isa, batch=n, channels=c, in_length=L, kernel=kernel,
                    stride=stride or 0, pad=padding, dilation=dilation,
                    ceil_mode=int(bool(ceil_mode)))
    n, c, h, w = x_shape
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride or 0)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    return dict(isa=isa, batch=n, channels=c, in_height=h, in_width=w, kernel_h=kh,
                kernel_w=kw, stride_h=sh, stride_w=sw, pad_h=ph, pad_w=pw, dilation_h=dh,
                dilation_w=dw, ceil_mode=int(bool(ceil_mode)))


def pool_output_shape(x_shape, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    if len(x_shape) == 3:
        s = stride or kernel
        return x_shape[:2] + (pool_out_size(x_shape[2], kernel, s, padding, dilation,
                                            ceil_mode),)
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride or 0)
    sh, sw = sh or kh, sw or kw
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    return x_shape[:2] + (pool_out_size(x_shape[2], kh, sh, ph, dh, ceil_mode),
                          pool_out_size(x_shape[3], kw, sw, pw, dw, ceil_mode))


def _pool_plan(ck, x_shape, kernel, stride, padding, dilation, ceil_mode, isa, src4, dst4,
               idx4, kinds):
    kw = _pool_params(x_shape, kernel, stride, padding, dilation, ceil_mode, isa)
    kw["src_layout"] = layout_of(src4, kinds.get("src"))
    kw["dst_layout"] = layout_of(dst4, kinds.get("dst"))
    kw["indices_layout"] = layout_of(idx4, kinds.get("indices"))
    if len(x_shape) == 3:
        return ck.max_pool1d_plan(**kw)
    return ck.max_pool2d_plan(**kw)


def max_pool_forward(ck, x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False,
                     layouts=None, isa=0, rng=None, with_indices=True):
    """F.max_pool2d / max_pool1d with return_indices=True: (values, indices)."""
    layouts = layouts or {}
    oshape = pool_output_shape(x.shape, kernel, stride, padding, dilation, ceil_mode)
    out = _out(oshape, layouts.get("dst"), rng)
    idx = _out(oshape, layouts.get("indices"), rng, np.int64)
    with _pool_plan(ck, x.shape, kernel, stride, padding, dilation, ceil_mode, isa, as4d(x),
                    as4d(out[0]), as4d(idx[0]), layouts) as p:
        if tuple(p.output_dims()) != tuple(as4d(out[0]).shape):
            raise AssertionError("plan output dims %s, expected %s"
                                 % (p.output_dims(), as4d(out[0]).shape))
        p.forward(x, out[0], idx[0] if with_indices else None)
    v = _gaps(out)
    return (v, _gaps(idx)) if with_indices else (v, None)


def max_pool_backward(ck, grad_out, indices, x_shape, kernel, stride=None, padding=0,
                      dilation=1, ceil_mode=False, layouts=None, isa=0, rng=None):
    layouts = layouts or {}
    out = _out(x_shape, layouts.get("src"), rng)
    with _pool_plan(ck, x_shape, kernel, stride, padding, dilation, ceil_mode, isa,
                    as4d(out[0]), as4d(grad_out), as4d(indices), layouts) as p:
        p.backward(grad_out, indices, out[0])
    return _gaps(out)


# ---------------------------------------------------------------------------
# Unfold / fold / pad helpers
# ---------------------------------------------------------------------------


def _fold_params(image_shape, kernel, dilation, padding, stride, isa):
    n, c, h, w = image_shape
    kh, kw = _pair(kernel)
    dh, dw = _pair(dilation)
    ph, pw = _pair(padding)
    sh, sw = _pair(stride)
    return dict(isa=isa, batch=n, channels=c, height=h, width=w, kernel_h=kh, kernel_w=kw,
                dilation_h=dh, dilation_w=dw, pad_h=ph, pad_w=pw, stride_h=sh, stride_w=sw)


def unfold_output_shape(image_shape, kernel, dilation=1, padding=0, stride=1):
    n, c, h, w = image_shape
    kh, kw = _pair(kernel)
    dh, dw = _pair(dilation)
    ph, pw = _pair(padding)
    sh, sw = _pair(stride)
    L = conv_out_size(h, ph, ph, kh, sh, dh) * conv_out_size(w, pw, pw, kw, sw, dw)
    return (n, c * kh * kw, L)


def unfold(ck, x, kernel, dilation=1, padding=0, stride=1, layouts=None, isa=0, rng=None):
    """F.unfold: (N, C, H, W) -> (N, C*kh*kw, L)."""
    layouts = layouts or {}
    out = _out(unfold_output_shape(x.shape, kernel, dilation, padding, stride),
               layouts.get("column"), rng)
    kw = _fold_params(x.shape, kernel, dilation, padding, stride, isa)
    kw["image_layout"] = layout_of(x, layouts.get("image"))
    kw["column_layout"] = layout_of(as4d(out[0]), layouts.get("column"))
    with ck.unfold_plan(**kw) as p:
        p.execute(x, out[0])
    return _gaps(out)


def fold(ck, cols, output_size, kernel, dilation=1, padding=0, stride=1, layouts=None, isa=0,
         rng=None):
    """F.fold: (N, C*kh*kw, L) -> (N, C, H, W)."""
    layouts = layouts or {}
    kh, kw_ = _pair(kernel)
    n, ck_, L = cols.shape
    c = ck_ // (kh * kw_) if kh * kw_ else 0
    h, w = _pair(output_size)
    out = _out((n, c, h, w), layouts.get("image"), rng)
    kw = _fold_params((n, c, h, w), kernel, dilation, padding, stride, isa)
    kw["col_channels"] = ck_
    kw["col_length"] = L
    kw["image_layout"] = layout_of(out[0], layouts.get("image"))
    kw["column_layout"] = layout_of(as4d(cols), layouts.get("column"))
    with ck.fold_plan(**kw) as p:
        p.execute(cols, out[0])
    return _gaps(out)


def pad(ck, x, pads, mode="constant", value=0.0, layouts=None, isa=0, rng=None):
    """F.pad of the last two dims (or the last one of a 3-D (N, C, L)
    tensor).  pads as F.pad: (left, right[, top, bottom])."""
    layouts = layouts or {}
    is1d = x.ndim == 3
    x4 = as4d(x)
    pl, pr = pads[0], pads[1]
    pt, pb = (pads[2], pads[3]) if len(pads) > 2 else (0, 0)
    n, c, h, w = x4.shape
    oshape = (n, c, h + pt + pb, w + pl + pr)
    out = _out(oshape[:2] + oshape[3:] if is1d else oshape, layouts.get("dst"), rng)
    kw = dict(isa=isa, batch=n, channels=c, height=h, width=w, pad_left=pl, pad_right=pr,
              pad_top=pt, pad_bottom=pb, mode=PAD_MODES[mode], value=value,
              src_layout=layout_of(x4, layouts.get("src")),
              dst_layout=layout_of(as4d(out[0]), layouts.get("dst")))
    with ck.pad_plan(**kw) as p:
        p.execute(x, out[0])
    return _gaps(out)

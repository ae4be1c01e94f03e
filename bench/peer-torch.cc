// peer-torch.cc - PyTorch (libtorch's ATen) as a benchmark peer; the C
// interface and what each op calls: peer-torch.h.  The only C++ file that
// includes ATen (its headers take most of this file's compile time), and
// only <ATen/ATen.h>, not the heavier <torch/torch.h>.
#include "peer-torch.h"

#include <climits>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include <malloc.h> // mallopt (glibc)

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/version.h>

struct ckb_torch {
    ckb_torch_problem_t p;
    int64_t out[4];   // forward output dims (see ckb_torch_out_dims)
    size_t footprint; // bytes, about
    bool ready;
    // set up by setup
    at::Tensor src, weight, grad_out, indices, result;
    at::Tensor result2; // the second output of the ops that return a tuple
};

namespace {

void set_err(char *err, size_t n, const char *what, const char *msg)
{
    if (err == nullptr || n == 0)
        return;
    // ATen's messages carry a C++ backtrace after the first line: keep the first.
    std::string m(msg != nullptr ? msg : "");
    size_t nl = m.find('\n');
    if (nl != std::string::npos)
        m.resize(nl);
    std::snprintf(err, n, "PyTorch %s: %s", what, m.c_str());
}

const char *op_name(ckb_torch_op_t op)
{
    switch (op) {
    case CKB_TORCH_POOL_FWD: return "max_pool2d_with_indices";
    case CKB_TORCH_POOL_BWD: return "max_pool2d_with_indices_backward";
    case CKB_TORCH_PAD: return "pad";
    case CKB_TORCH_UNFOLD: return "im2col";
    case CKB_TORCH_FOLD: return "col2im";
    case CKB_TORCH_CONV_FWD: return "convolution";
    case CKB_TORCH_CONV_BWD_DATA: return "convolution_backward (data)";
    case CKB_TORCH_CONV_BWD_WEIGHTS: return "convolution_backward (weights)";
    }
    return "?";
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// PyTorch's pooling output size (pooling_output_shape).
int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dil, bool ceil_mode)
{
    int64_t out = floor_div(in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? s - 1 : 0), s) + 1;
    if (ceil_mode && (out - 1) * s >= in + pad)
        out--;
    return out;
}

int64_t window_out(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dil)
{
    return floor_div(in + 2 * pad - dil * (k - 1) - 1, s) + 1;
}

const char *pad_mode_name(ckb_torch_pad_mode_t m)
{
    switch (m) {
    case CKB_TORCH_PAD_CONSTANT: return "constant";
    case CKB_TORCH_PAD_REFLECT: return "reflect";
    case CKB_TORCH_PAD_REPLICATE: return "replicate";
    case CKB_TORCH_PAD_CIRCULAR: return "circular";
    }
    return "constant";
}

// Uniform in [-1, 1), from ATen's default generator.
at::Tensor random_tensor(at::IntArrayRef dims)
{
    return at::rand(dims, at::TensorOptions().dtype(at::kFloat)).mul_(2.0).sub_(1.0);
}

// The timed call; results stay in t->result(2) until the next call.
void run_op(ckb_torch *t)
{
    const ckb_torch_problem_t &p = t->p;
    const int64_t k[2] = {p.kh, p.kw}, s[2] = {p.sh, p.sw}, pd[2] = {p.ph, p.pw},
                  d[2] = {p.dh, p.dw};
    switch (p.op) {
    case CKB_TORCH_POOL_FWD:
        std::tie(t->result, t->result2) =
            at::max_pool2d_with_indices(t->src, k, s, pd, d, p.ceil_mode);
        break;
    case CKB_TORCH_POOL_BWD:
        t->result = at::max_pool2d_with_indices_backward(t->grad_out, t->src, k, s, pd, d,
                                                         p.ceil_mode, t->indices);
        break;
    case CKB_TORCH_PAD: {
        const int64_t amounts[4] = {p.pad_l, p.pad_r, p.pad_t, p.pad_b};
        c10::optional<double> value;
        if (p.pad_mode == CKB_TORCH_PAD_CONSTANT)
            value = (double)p.pad_value;
        t->result = at::pad(t->src, amounts, pad_mode_name(p.pad_mode), value);
        break;
    }
    case CKB_TORCH_UNFOLD:
        t->result = at::im2col(t->src, k, d, pd, s);
        break;
    case CKB_TORCH_FOLD: {
        const int64_t size[2] = {p.h, p.w};
        t->result = at::col2im(t->src, size, k, d, pd, s);
        break;
    }
    case CKB_TORCH_CONV_FWD: {
        const int64_t zero[2] = {0, 0};
        t->result = at::convolution(t->src, t->weight, c10::nullopt, s, pd, d, false, zero,
                                    p.groups);
        break;
    }
    case CKB_TORCH_CONV_BWD_DATA:
    case CKB_TORCH_CONV_BWD_WEIGHTS: {
        const int64_t zero[2] = {0, 0};
        const bool data = p.op == CKB_TORCH_CONV_BWD_DATA;
        auto r = at::convolution_backward(t->grad_out, t->src, t->weight, c10::nullopt, s, pd, d,
                                          false, zero, p.groups, {data, !data, false});
        t->result = data ? std::get<0>(r) : std::get<1>(r);
        break;
    }
    }
}

// The dims of t->result.
std::vector<int64_t> expected_dims(const ckb_torch *t)
{
    const ckb_torch_problem_t &p = t->p;
    switch (p.op) {
    case CKB_TORCH_POOL_BWD:
    case CKB_TORCH_CONV_BWD_DATA: return {p.n, p.c, p.h, p.w};
    case CKB_TORCH_CONV_BWD_WEIGHTS: return {p.oc, p.c / p.groups, p.kh, p.kw};
    case CKB_TORCH_UNFOLD: return {t->out[0], t->out[1], t->out[2]};
    default: return {t->out[0], t->out[1], t->out[2], t->out[3]};
    }
}

} // namespace

extern "C" {

ckb_torch_t *ckb_torch_create(const ckb_torch_problem_t *problem, char *err, size_t err_size)
{
    const ckb_torch_problem_t &p = *problem;
    const char *what = op_name(p.op);
    if (p.n < 1 || p.c < 1 || p.h < 1 || p.w < 1) {
        set_err(err, err_size, what, "empty tensor");
        return nullptr;
    }
    int64_t out[4] = {p.n, p.c, p.h, p.w};
    double elems = 0; // of every tensor setup makes, for the footprint
    const double in = (double)p.n * (double)p.c * (double)p.h * (double)p.w;
    switch (p.op) {
    case CKB_TORCH_POOL_FWD:
    case CKB_TORCH_POOL_BWD:
        out[2] = pool_out(p.h, p.kh, p.sh, p.ph, p.dh, p.ceil_mode);
        out[3] = pool_out(p.w, p.kw, p.sw, p.pw, p.dw, p.ceil_mode);
        elems = 2 * in + 4.0 * (double)p.n * (double)p.c * (double)out[2] * (double)out[3];
        break;
    case CKB_TORCH_PAD:
        out[2] = p.h + p.pad_t + p.pad_b;
        out[3] = p.w + p.pad_l + p.pad_r;
        elems = in + (double)p.n * (double)p.c * (double)out[2] * (double)out[3];
        break;
    case CKB_TORCH_UNFOLD:
    case CKB_TORCH_FOLD:
        out[1] = p.c * p.kh * p.kw;
        out[2] = window_out(p.h, p.kh, p.sh, p.ph, p.dh) * window_out(p.w, p.kw, p.sw, p.pw, p.dw);
        out[3] = 1;
        if (p.op == CKB_TORCH_FOLD) {
            if (out[2] < 1) {
                set_err(err, err_size, what, "no sliding window fits");
                return nullptr;
            }
            elems = in + (double)p.n * (double)out[1] * (double)out[2];
            out[1] = p.c;
            out[2] = p.h;
            out[3] = p.w;
        } else {
            elems = in + (double)p.n * (double)out[1] * (double)out[2];
        }
        break;
    case CKB_TORCH_CONV_FWD:
    case CKB_TORCH_CONV_BWD_DATA:
    case CKB_TORCH_CONV_BWD_WEIGHTS:
        if (p.groups < 1 || p.c % p.groups != 0 || p.oc % p.groups != 0) {
            set_err(err, err_size, what, "channels not divisible by groups");
            return nullptr;
        }
        out[1] = p.oc;
        out[2] = window_out(p.h, p.kh, p.sh, p.ph, p.dh);
        out[3] = window_out(p.w, p.kw, p.sw, p.pw, p.dw);
        elems = 2 * in + 2.0 * (double)p.oc * (double)(p.c / p.groups) * (double)p.kh * (double)p.kw +
                2.0 * (double)p.n * (double)p.oc * (double)out[2] * (double)out[3];
        break;
    default:
        set_err(err, err_size, "peer", "unknown op");
        return nullptr;
    }
    if (out[2] < 1 || out[3] < 1) {
        set_err(err, err_size, what, "empty output");
        return nullptr;
    }
    ckb_torch_t *t = new (std::nothrow) ckb_torch_t();
    if (t == nullptr) {
        set_err(err, err_size, what, "out of memory");
        return nullptr;
    }
    t->p = p;
    for (int i = 0; i < 4; i++)
        t->out[i] = out[i];
    t->footprint = (size_t)(4.0 * elems);
    return t;
}

void ckb_torch_out_dims(const ckb_torch_t *t, int64_t dims[4])
{
    for (int i = 0; i < 4; i++)
        dims[i] = t->out[i];
}

size_t ckb_torch_footprint(const ckb_torch_t *t) { return t->footprint; }

int ckb_torch_setup(ckb_torch_t *t, char *err, size_t err_size)
{
    if (t->ready)
        return 0;
    const ckb_torch_problem_t &p = t->p;
    try {
        switch (p.op) {
        case CKB_TORCH_POOL_FWD:
        case CKB_TORCH_POOL_BWD: {
            t->src = random_tensor({p.n, p.c, p.h, p.w});
            if (p.channels_last)
                t->src = t->src.contiguous(at::MemoryFormat::ChannelsLast);
            if (p.op == CKB_TORCH_POOL_BWD) {
                // indices from one forward; its maxima serve as grad_out
                const int64_t k[2] = {p.kh, p.kw}, s[2] = {p.sh, p.sw}, pd[2] = {p.ph, p.pw},
                              d[2] = {p.dh, p.dw};
                std::tie(t->grad_out, t->indices) =
                    at::max_pool2d_with_indices(t->src, k, s, pd, d, p.ceil_mode);
            }
            break;
        }
        case CKB_TORCH_PAD:
            t->src = random_tensor({p.n, p.c, p.h, p.w});
            break;
        case CKB_TORCH_UNFOLD:
            t->src = random_tensor({p.n, p.c, p.h, p.w});
            break;
        case CKB_TORCH_FOLD: {
            const int64_t l = window_out(p.h, p.kh, p.sh, p.ph, p.dh) *
                              window_out(p.w, p.kw, p.sw, p.pw, p.dw);
            t->src = random_tensor({p.n, p.c * p.kh * p.kw, l});
            break;
        }
        case CKB_TORCH_CONV_FWD:
        case CKB_TORCH_CONV_BWD_DATA:
        case CKB_TORCH_CONV_BWD_WEIGHTS:
            t->src = random_tensor({p.n, p.c, p.h, p.w});
            t->weight = random_tensor({p.oc, p.c / p.groups, p.kh, p.kw});
            t->grad_out = random_tensor({t->out[0], t->out[1], t->out[2], t->out[3]});
            break;
        }
        // untimed: first-call costs (and the heap's growth to this case's
        // results, see ckb_torch_init) stay out of the timing.
        for (int i = 0; i < 3; i++)
            run_op(t);
        if (t->result.sizes() != at::IntArrayRef(expected_dims(t))) {
            set_err(err, err_size, op_name(p.op), "result dims differ from what convkit computes");
            ckb_torch_release(t);
            return -1;
        }
    } catch (const std::exception &e) {
        set_err(err, err_size, op_name(p.op), e.what());
        ckb_torch_release(t);
        return -1;
    }
    t->ready = true;
    return 0;
}

int ckb_torch_run(ckb_torch_t *t, char *err, size_t err_size)
{
    try {
        run_op(t);
    } catch (const std::exception &e) {
        set_err(err, err_size, op_name(t->p.op), e.what());
        return -1;
    }
    return 0;
}

void ckb_torch_release(ckb_torch_t *t)
{
    t->src = at::Tensor();
    t->weight = at::Tensor();
    t->grad_out = at::Tensor();
    t->indices = at::Tensor();
    t->result = at::Tensor();
    t->result2 = at::Tensor();
    t->ready = false;
}

void ckb_torch_destroy(ckb_torch_t *t) { delete t; }

void ckb_torch_init(int threads)
{
    if (mallopt(M_MMAP_MAX, 0) != 1 || mallopt(M_TRIM_THRESHOLD, INT_MAX) != 1)
        std::fprintf(stderr, "convkit-bench: mallopt failed: PyTorch results may come from "
                             "fresh pages on every call\n");
    try {
        at::set_num_threads(threads);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "convkit-bench: at::set_num_threads(%d): %s\n", threads, e.what());
    }
}

const char *ckb_torch_version(void) { return TORCH_VERSION; }

} // extern "C"

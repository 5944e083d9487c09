// CPU kernels written as plain loops (everything except the matrix products, see blas.cpp, and
// attention, see attention.cpp). Loops over contiguous rows carry `#pragma omp simd` (compiled
// with -fopenmp-simd: vectorisation hints only, no OpenMP runtime) so reductions vectorise without
// -ffast-math.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu_kernels.h"
#include "kernels/detail/fast_math.h"

namespace ss::kernels {

using detail::fast_exp;
using detail::fast_tanh;

namespace {

inline std::size_t idx(int row, int cols) {
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(cols);
}

[[noreturn]] void bad_target(const char* kernel, int row, std::int32_t target, int V) {
    throw std::out_of_range(std::string(kernel) + ": targets[" + std::to_string(row) + "] = " +
                            std::to_string(target) + " is not below V = " + std::to_string(V));
}

inline float row_max(const float* x, int n) {
    return detail::max_of(x, n);
}

// out[j] = exp(x[j] - m); returns the sum (out may alias x).
inline float exp_shift_sum(float* out, const float* x, int n, float m) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < n; ++j) {
        const float e = fast_exp(x[j] - m);
        out[j] = e;
        sum += e;
    }
    return sum;
}

inline float exp_shift_sum_only(const float* x, int n, float m) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < n; ++j) sum += fast_exp(x[j] - m);
    return sum;
}

constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluCubic = 0.044715f;

}  // namespace

// ---- embedding -------------------------------------------------------------------------------

void embedding_forward(float* out, const std::int32_t* tokens, const float* wte, const float* wpe,
                       int B, int T, int C) {
    for (int b = 0; b < B; ++b) {
        for (int t = 0; t < T; ++t) {
            float* o = out + idx(b * T + t, C);                 // (C)
            const float* we = wte + idx(tokens[b * T + t], C);  // (C)
            if (wpe != nullptr) {
                const float* pe = wpe + idx(t, C);  // (C)
#pragma omp simd
                for (int c = 0; c < C; ++c) o[c] = we[c] + pe[c];
            } else {
                std::memcpy(o, we, sizeof(float) * static_cast<std::size_t>(C));
            }
        }
    }
}

void embedding_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens,
                        int B, int T, int C) {
    for (int b = 0; b < B; ++b) {
        for (int t = 0; t < T; ++t) {
            const float* d = dout + idx(b * T + t, C);  // (C)
            if (dwte != nullptr) {
                float* dwe = dwte + idx(tokens[b * T + t], C);
#pragma omp simd
                for (int c = 0; c < C; ++c) dwe[c] += d[c];
            }
            if (dwpe != nullptr) {
                float* dpe = dwpe + idx(t, C);
#pragma omp simd
                for (int c = 0; c < C; ++c) dpe[c] += d[c];
            }
        }
    }
}

// ---- layernorm -------------------------------------------------------------------------------

SS_KERNEL_CLONES void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                                        const float* weight, const float* bias, int N, int C,
                                        float eps) {
    const float invC = 1.0f / static_cast<float>(C);
    for (int i = 0; i < N; ++i) {
        const float* x = inp + idx(i, C);  // (C)
        float* o = out + idx(i, C);        // (C)
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int c = 0; c < C; ++c) sum += x[c];
        const float m = sum * invC;
        float var = 0.0f;  // two-pass variance: no cancellation for large means
#pragma omp simd reduction(+ : var)
        for (int c = 0; c < C; ++c) {
            const float d = x[c] - m;
            var += d * d;
        }
        const float s = 1.0f / std::sqrt(var * invC + eps);
#pragma omp simd
        for (int c = 0; c < C; ++c) o[c] = (x[c] - m) * s * weight[c] + bias[c];
        mean[i] = m;
        rstd[i] = s;
    }
}

SS_KERNEL_CLONES void layernorm_backward(float* dinp, float* dweight, float* dbias,
                                         const float* dout, const float* inp, const float* weight,
                                         const float* mean, const float* rstd, int N, int C) {
    // y = norm * w + b, norm = (x - mean) * rstd.
    // dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)), dnorm = w * dy.
    const float invC = 1.0f / static_cast<float>(C);
    for (int i = 0; i < N; ++i) {
        const float* dy = dout + idx(i, C);  // (C)
        const float* x = inp + idx(i, C);    // (C)
        const float m = mean[i];
        const float s = rstd[i];
        if (dbias != nullptr) {
#pragma omp simd
            for (int c = 0; c < C; ++c) dbias[c] += dy[c];
        }
        if (dweight != nullptr) {
#pragma omp simd
            for (int c = 0; c < C; ++c) dweight[c] += (x[c] - m) * s * dy[c];
        }
        if (dinp == nullptr) continue;
        float dnorm_mean = 0.0f;
        float dnorm_norm_mean = 0.0f;
#pragma omp simd reduction(+ : dnorm_mean, dnorm_norm_mean)
        for (int c = 0; c < C; ++c) {
            const float dn = weight[c] * dy[c];
            dnorm_mean += dn;
            dnorm_norm_mean += dn * (x[c] - m) * s;
        }
        dnorm_mean *= invC;
        dnorm_norm_mean *= invC;
        float* dx = dinp + idx(i, C);  // (C)
#pragma omp simd
        for (int c = 0; c < C; ++c) {
            const float norm = (x[c] - m) * s;
            dx[c] += (weight[c] * dy[c] - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
}

// ---- activations -----------------------------------------------------------------------------

SS_KERNEL_CLONES void gelu_forward(float* out, const float* inp, std::size_t n) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const float x = inp[i];
        const float u = kGeluScale * (x + kGeluCubic * x * x * x);
        out[i] = 0.5f * x * (1.0f + fast_tanh(u));
    }
}

SS_KERNEL_CLONES void gelu_backward(float* dinp, const float* inp, const float* dout,
                                    std::size_t n) {
    // d/dx [0.5 x (1 + tanh u)] = 0.5 (1 + tanh u) + 0.5 x sech^2(u) du/dx,
    // du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2), sech^2 = 1 - tanh^2.
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const float x = inp[i];
        const float u = kGeluScale * (x + kGeluCubic * x * x * x);
        const float th = fast_tanh(u);
        const float sech2 = 1.0f - th * th;
        const float grad =
            0.5f * (1.0f + th) + 0.5f * x * sech2 * kGeluScale * (1.0f + 3.0f * kGeluCubic * x * x);
        dinp[i] += grad * dout[i];
    }
}

void relu_forward(float* out, const float* inp, std::size_t n) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) {
    // inp may equally be the forward output: out > 0 exactly where inp > 0.
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const float g = dout[i];  // unconditional load: keeps the loop branch-free
        dinp[i] += inp[i] > 0.0f ? g : 0.0f;
    }
}

// ---- softmax ---------------------------------------------------------------------------------

SS_KERNEL_CLONES void softmax_forward(float* out, const float* inp, int N, int C) {
    for (int i = 0; i < N; ++i) {
        const float* x = inp + idx(i, C);  // (C)
        float* o = out + idx(i, C);        // (C)
        const float m = row_max(x, C);
        const float inv = 1.0f / exp_shift_sum(o, x, C, m);
#pragma omp simd
        for (int c = 0; c < C; ++c) o[c] *= inv;
    }
}

void softmax_backward(float* dinp, const float* dout, const float* out, int N, int C) {
    for (int i = 0; i < N; ++i) {
        const float* dy = dout + idx(i, C);  // (C)
        const float* y = out + idx(i, C);    // (C)
        float* dx = dinp + idx(i, C);        // (C)
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int c = 0; c < C; ++c) dot += dy[c] * y[c];
#pragma omp simd
        for (int c = 0; c < C; ++c) dx[c] += y[c] * (dy[c] - dot);
    }
}

// ---- cross-entropy ---------------------------------------------------------------------------

SS_KERNEL_CLONES void crossentropy_forward(float* losses, float* probs, const float* logits,
                                           const std::int32_t* targets, int N, int V) {
    for (int i = 0; i < N; ++i) {
        const float* x = logits + idx(i, V);  // (V)
        const std::int32_t t = targets[i];
        if (t >= V) bad_target("crossentropy_forward", i, t, V);
        const float m = row_max(x, V);
        float sum;
        if (probs != nullptr) {
            float* p = probs + idx(i, V);  // (V)
            sum = exp_shift_sum(p, x, V, m);
            const float inv = 1.0f / sum;
#pragma omp simd
            for (int j = 0; j < V; ++j) p[j] *= inv;
        } else {
            sum = exp_shift_sum_only(x, V, m);
        }
        // -log softmax(x)[t] = log(sum_j exp(x_j - m)) + m - x_t
        losses[i] = t < 0 ? 0.0f : std::log(sum) + m - x[t];
    }
}

void crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets, int N,
                           int V, float dloss_scale) {
    for (int i = 0; i < N; ++i) {
        const float* p = probs + idx(i, V);  // (V)
        float* d = dlogits + idx(i, V);      // (V)
        const std::int32_t t = targets[i];
        if (t >= V) bad_target("crossentropy_backward", i, t, V);
        if (t < 0) {
            std::memset(d, 0, sizeof(float) * static_cast<std::size_t>(V));
            continue;
        }
#pragma omp simd
        for (int j = 0; j < V; ++j) d[j] = p[j] * dloss_scale;
        d[t] -= dloss_scale;
    }
}

SS_KERNEL_CLONES void fused_classifier(float* dlogits, float* losses, const float* logits,
                                       const std::int32_t* targets, int N, int V,
                                       float dloss_scale) {
    for (int i = 0; i < N; ++i) {
        const float* x = logits + idx(i, V);  // (V)
        float* d = dlogits + idx(i, V);       // (V), may alias x
        const std::int32_t t = targets[i];
        if (t >= V) bad_target("fused_classifier", i, t, V);
        if (t < 0) {
            if (losses != nullptr) losses[i] = 0.0f;
            std::memset(d, 0, sizeof(float) * static_cast<std::size_t>(V));
            continue;
        }
        const float xt = x[t];  // read before d (= x when in place) is overwritten
        const float m = row_max(x, V);
        const float sum = exp_shift_sum(d, x, V, m);
        if (losses != nullptr) losses[i] = std::log(sum) + m - xt;
        const float s = dloss_scale / sum;
#pragma omp simd
        for (int j = 0; j < V; ++j) d[j] *= s;
        d[t] -= dloss_scale;
    }
}

// ---- vector ops ------------------------------------------------------------------------------

void residual_forward(float* out, const float* a, const float* b, std::size_t n) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void add_inplace(float* dst, const float* src, std::size_t n) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

void bias_add(float* out, const float* bias, int N, int C) {
    for (int i = 0; i < N; ++i) {
        float* o = out + idx(i, C);
#pragma omp simd
        for (int c = 0; c < C; ++c) o[c] += bias[c];
    }
}

void bias_backward(float* dbias, const float* dout, int N, int C) {
    for (int i = 0; i < N; ++i) {
        const float* d = dout + idx(i, C);
#pragma omp simd
        for (int c = 0; c < C; ++c) dbias[c] += d[c];
    }
}

void fill(float* x, std::size_t n, float value) {
    if (value == 0.0f && !std::signbit(value)) {
        std::memset(x, 0, n * sizeof(float));
        return;
    }
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) x[i] = value;
}

void copy(float* dst, const float* src, std::size_t n) {
    if (n != 0) std::memcpy(dst, src, n * sizeof(float));
}

// ---- optimiser / clipping --------------------------------------------------------------------

SS_KERNEL_CLONES void adamw_update(float* param, const float* grad, float* m, float* v,
                                   std::size_t n, const AdamWConfig& cfg, std::int64_t step,
                                   float grad_scale) {
    if (step < 1) {
        throw std::invalid_argument("adamw_update: step must be >= 1 (bias correction), got " +
                                    std::to_string(step));
    }
    // Bias corrections in double: beta2^t underflows slowly and 1 - beta2^t is tiny early on.
    const double t = static_cast<double>(step);
    const float inv_bc1 = static_cast<float>(1.0 / (1.0 - std::pow(double(cfg.beta1), t)));
    const float inv_bc2 = static_cast<float>(1.0 / (1.0 - std::pow(double(cfg.beta2), t)));
    const float b1 = cfg.beta1, b2 = cfg.beta2, lr = cfg.lr, eps = cfg.eps, wd = cfg.weight_decay;
    const float omb1 = 1.0f - b1, omb2 = 1.0f - b2;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const float g = grad[i] * grad_scale;
        const float mi = b1 * m[i] + omb1 * g;
        const float vi = b2 * v[i] + omb2 * g * g;
        m[i] = mi;
        v[i] = vi;
        const float mhat = mi * inv_bc1;
        const float vhat = vi * inv_bc2;
        param[i] -= lr * (mhat / (std::sqrt(vhat) + eps) + wd * param[i]);
    }
}

double sum_squares(const float* x, std::size_t n) {
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (std::size_t i = 0; i < n; ++i) {
        const double xi = x[i];
        acc += xi * xi;
    }
    return acc;
}

void scale(float* x, std::size_t n, float s) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) x[i] *= s;
}

float clip_coefficient(double global_norm, float max_norm) {
    // torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6), clamped to 1.
    if (!(max_norm > 0.0f)) return 1.0f;
    const double coef = static_cast<double>(max_norm) / (global_norm + 1e-6);
    return coef < 1.0 ? static_cast<float>(coef) : 1.0f;
}

double clip_grad_norm(float* grad, std::size_t n, float max_norm) {
    const double norm = std::sqrt(sum_squares(grad, n));
    const float coef = clip_coefficient(norm, max_norm);
    if (coef < 1.0f) scale(grad, n, coef);
    return norm;
}

}  // namespace ss::kernels

// Straightforward double-precision reference implementations of every kernel, written from the
// mathematical definitions (explicit Jacobians, naive triple loops), independently of the
// optimised kernels in kernels/. Shapes as in kernels/cpu_kernels.h.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/types.h"

namespace ss::kernels::ref {

using Vec = std::vector<double>;

// C(M,N) = alpha op(A) op(B) + beta C with explicit leading dimensions.
inline void sgemm(Trans ta, Trans tb, int M, int N, int K, double alpha, const Vec& A, int lda,
                  const Vec& B, int ldb, double beta, Vec& C, int ldc) {
    for (int i = 0; i < M; ++i) {
        for (int j = 0; j < N; ++j) {
            double s = 0.0;
            for (int k = 0; k < K; ++k) {
                const double a = ta == Trans::No ? A[i * lda + k] : A[k * lda + i];
                const double b = tb == Trans::No ? B[k * ldb + j] : B[j * ldb + k];
                s += a * b;
            }
            C[i * ldc + j] = alpha * s + (beta == 0.0 ? 0.0 : beta * C[i * ldc + j]);
        }
    }
}

// out(N,OC) = inp(N,C) W(OC,C)^T + b(OC)
inline Vec linear_forward(const Vec& inp, const Vec& W, const Vec* b, int N, int C, int OC) {
    Vec out(std::size_t(N) * OC);
    for (int n = 0; n < N; ++n) {
        for (int o = 0; o < OC; ++o) {
            double s = b ? (*b)[o] : 0.0;
            for (int c = 0; c < C; ++c) s += inp[n * C + c] * W[o * C + c];
            out[n * OC + o] = s;
        }
    }
    return out;
}

// Gradients of L = <out, dout> (written, not accumulated).
inline void linear_backward(Vec& dinp, Vec& dW, Vec& db, const Vec& dout, const Vec& inp,
                            const Vec& W, int N, int C, int OC) {
    dinp.assign(std::size_t(N) * C, 0.0);
    dW.assign(std::size_t(OC) * C, 0.0);
    db.assign(OC, 0.0);
    for (int n = 0; n < N; ++n) {
        for (int o = 0; o < OC; ++o) {
            const double g = dout[n * OC + o];
            db[o] += g;
            for (int c = 0; c < C; ++c) {
                dinp[n * C + c] += g * W[o * C + c];
                dW[o * C + c] += g * inp[n * C + c];
            }
        }
    }
}

inline Vec embedding_forward(const std::vector<std::int32_t>& tok, const Vec& wte, const Vec* wpe,
                             int B, int T, int C) {
    Vec out(std::size_t(B) * T * C);
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t)
            for (int c = 0; c < C; ++c)
                out[(b * T + t) * C + c] =
                    wte[tok[b * T + t] * C + c] + (wpe ? (*wpe)[t * C + c] : 0.0);
    return out;
}

struct LayerNormOut {
    Vec out, mean, rstd;
};

inline LayerNormOut layernorm_forward(const Vec& x, const Vec& w, const Vec& b, int N, int C,
                                      double eps = 1e-5) {
    LayerNormOut r{Vec(std::size_t(N) * C), Vec(N), Vec(N)};
    for (int n = 0; n < N; ++n) {
        double m = 0.0;
        for (int c = 0; c < C; ++c) m += x[n * C + c];
        m /= C;
        double v = 0.0;
        for (int c = 0; c < C; ++c) v += (x[n * C + c] - m) * (x[n * C + c] - m);
        v /= C;
        const double s = 1.0 / std::sqrt(v + eps);
        for (int c = 0; c < C; ++c) r.out[n * C + c] = (x[n * C + c] - m) * s * w[c] + b[c];
        r.mean[n] = m;
        r.rstd[n] = s;
    }
    return r;
}

// Explicit Jacobian: d norm_k / d x_j = rstd (delta_kj - 1/C - norm_k norm_j / C).
inline void layernorm_backward(Vec& dx, Vec& dw, Vec& db, const Vec& dy, const Vec& x, const Vec& w,
                               int N, int C, double eps = 1e-5) {
    const LayerNormOut f = layernorm_forward(x, w, Vec(C, 0.0), N, C, eps);
    dx.assign(std::size_t(N) * C, 0.0);
    dw.assign(C, 0.0);
    db.assign(C, 0.0);
    for (int n = 0; n < N; ++n) {
        const double s = f.rstd[n];
        auto norm = [&](int c) { return (x[n * C + c] - f.mean[n]) * s; };
        for (int k = 0; k < C; ++k) {
            db[k] += dy[n * C + k];
            dw[k] += dy[n * C + k] * norm(k);
        }
        for (int j = 0; j < C; ++j) {
            double g = 0.0;
            for (int k = 0; k < C; ++k) {
                const double jac = s * ((k == j ? 1.0 : 0.0) - 1.0 / C - norm(k) * norm(j) / C);
                g += dy[n * C + k] * w[k] * jac;
            }
            dx[n * C + j] = g;
        }
    }
}

inline double gelu(double x) {
    const double k = std::sqrt(2.0 / M_PI);
    return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}
inline double gelu_grad(double x) {
    const double k = std::sqrt(2.0 / M_PI);
    const double u = k * (x + 0.044715 * x * x * x);
    const double th = std::tanh(u);
    return 0.5 * (1.0 + th) +
           0.5 * x * (1.0 / (std::cosh(u) * std::cosh(u))) * k * (1.0 + 3.0 * 0.044715 * x * x);
}

inline Vec softmax_forward(const Vec& x, int N, int C) {
    Vec out(x.size());
    for (int n = 0; n < N; ++n) {
        double m = x[n * C];
        for (int c = 1; c < C; ++c) m = std::max(m, x[n * C + c]);
        double s = 0.0;
        for (int c = 0; c < C; ++c) s += std::exp(x[n * C + c] - m);
        for (int c = 0; c < C; ++c) out[n * C + c] = std::exp(x[n * C + c] - m) / s;
    }
    return out;
}

// Explicit Jacobian: d y_k / d x_j = y_k (delta_kj - y_j).
inline Vec softmax_backward(const Vec& dy, const Vec& y, int N, int C) {
    Vec dx(y.size(), 0.0);
    for (int n = 0; n < N; ++n)
        for (int j = 0; j < C; ++j)
            for (int k = 0; k < C; ++k)
                dx[n * C + j] +=
                    dy[n * C + k] * y[n * C + k] * ((k == j ? 1.0 : 0.0) - y[n * C + j]);
    return dx;
}

struct AttentionOut {
    Vec out, att;  // (B,T,C), (B,NH,T,T)
};

inline AttentionOut attention_forward(const Vec& qkv, int B, int T, int C, int NH) {
    const int hs = C / NH;
    AttentionOut r{Vec(std::size_t(B) * T * C, 0.0), Vec(std::size_t(B) * NH * T * T, 0.0)};
    auto q = [&](int b, int t, int h, int i) { return qkv[(b * T + t) * 3 * C + h * hs + i]; };
    auto k = [&](int b, int t, int h, int i) { return qkv[(b * T + t) * 3 * C + C + h * hs + i]; };
    auto v = [&](int b, int t, int h, int i) {
        return qkv[(b * T + t) * 3 * C + 2 * C + h * hs + i];
    };
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < NH; ++h)
            for (int t = 0; t < T; ++t) {
                double* a = &r.att[((b * NH + h) * T + t) * T];
                double m = -1e300;
                for (int s = 0; s <= t; ++s) {
                    double d = 0.0;
                    for (int i = 0; i < hs; ++i) d += q(b, t, h, i) * k(b, s, h, i);
                    a[s] = d / std::sqrt(double(hs));
                    m = std::max(m, a[s]);
                }
                double sum = 0.0;
                for (int s = 0; s <= t; ++s) sum += (a[s] = std::exp(a[s] - m));
                for (int s = 0; s <= t; ++s) a[s] /= sum;
                for (int i = 0; i < hs; ++i) {
                    double o = 0.0;
                    for (int s = 0; s <= t; ++s) o += a[s] * v(b, s, h, i);
                    r.out[(b * T + t) * C + h * hs + i] = o;
                }
            }
    return r;
}

// Gradient of L = <out, dout> w.r.t. qkv (B,T,3C), naive loops over the definitions.
inline Vec attention_backward(const Vec& dout, const Vec& qkv, int B, int T, int C, int NH) {
    const int hs = C / NH;
    const AttentionOut f = attention_forward(qkv, B, T, C, NH);
    Vec dqkv(qkv.size(), 0.0);
    const double sc = 1.0 / std::sqrt(double(hs));
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < NH; ++h)
            for (int t = 0; t < T; ++t) {
                const double* a = &f.att[((b * NH + h) * T + t) * T];
                const double* dO = &dout[(b * T + t) * C + h * hs];
                // datt[s] = dO . v_s ; dv_s += a[s] dO
                std::vector<double> datt(t + 1);
                for (int s = 0; s <= t; ++s) {
                    const double* vs = &qkv[(b * T + s) * 3 * C + 2 * C + h * hs];
                    double d = 0.0;
                    for (int i = 0; i < hs; ++i) d += dO[i] * vs[i];
                    datt[s] = d;
                    double* dvs = &dqkv[(b * T + s) * 3 * C + 2 * C + h * hs];
                    for (int i = 0; i < hs; ++i) dvs[i] += a[s] * dO[i];
                }
                // softmax Jacobian, then through the scaled dot products
                for (int s = 0; s <= t; ++s) {
                    double dpre = 0.0;
                    for (int u = 0; u <= t; ++u)
                        dpre += datt[u] * a[u] * ((u == s ? 1.0 : 0.0) - a[s]);
                    dpre *= sc;
                    const double* qt = &qkv[(b * T + t) * 3 * C + h * hs];
                    const double* ks = &qkv[(b * T + s) * 3 * C + C + h * hs];
                    double* dqt = &dqkv[(b * T + t) * 3 * C + h * hs];
                    double* dks = &dqkv[(b * T + s) * 3 * C + C + h * hs];
                    for (int i = 0; i < hs; ++i) {
                        dqt[i] += dpre * ks[i];
                        dks[i] += dpre * qt[i];
                    }
                }
            }
    return dqkv;
}

// Per-row loss -log softmax(x)[t] (0 for t < 0), via log-sum-exp.
inline Vec crossentropy(const Vec& logits, const std::vector<std::int32_t>& tg, int N, int V) {
    Vec loss(N, 0.0);
    for (int n = 0; n < N; ++n) {
        if (tg[n] < 0) continue;
        double m = logits[n * V];
        for (int j = 1; j < V; ++j) m = std::max(m, logits[n * V + j]);
        double s = 0.0;
        for (int j = 0; j < V; ++j) s += std::exp(logits[n * V + j] - m);
        loss[n] = std::log(s) + m - logits[n * V + tg[n]];
    }
    return loss;
}

// d(scale * sum losses)/d logits = scale * (softmax - onehot); rows with t < 0 are zero.
inline Vec crossentropy_dlogits(const Vec& logits, const std::vector<std::int32_t>& tg, int N,
                                int V, double scale) {
    const Vec p = softmax_forward(logits, N, V);
    Vec d(p.size(), 0.0);
    for (int n = 0; n < N; ++n) {
        if (tg[n] < 0) continue;
        for (int j = 0; j < V; ++j)
            d[n * V + j] = scale * (p[n * V + j] - (j == tg[n] ? 1.0 : 0.0));
    }
    return d;
}

// One AdamW step in double (decoupled weight decay, bias-corrected moments).
inline void adamw(Vec& p, const Vec& g, Vec& m, Vec& v, const AdamWConfig& cfg, long step,
                  double grad_scale = 1.0) {
    const double b1 = cfg.beta1, b2 = cfg.beta2;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const double gi = g[i] * grad_scale;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        const double mh = m[i] / (1 - std::pow(b1, double(step)));
        const double vh = v[i] / (1 - std::pow(b2, double(step)));
        p[i] -= double(cfg.lr) *
                (mh / (std::sqrt(vh) + double(cfg.eps)) + double(cfg.weight_decay) * p[i]);
    }
}

}  // namespace ss::kernels::ref

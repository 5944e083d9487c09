// Causal multi-head self-attention on the CPU: per (batch, head), Q K^T and P V are sgemm calls on
// row tiles of the causal triangle (a tile of query rows [r0, r1) only needs keys [0, r1)), which
// roughly halves the FLOPs of a full T x T product; the masked softmax runs as plain loops.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu_kernels.h"
#include "kernels/detail/fast_math.h"

namespace ss::kernels {
namespace {

// Query rows per sgemm tile: large enough for efficient sgemm, small enough to skip most of the
// masked upper triangle (kernels/cpu_kernels.h).
constexpr int kRowTile = kAttentionRowTile;

void check_heads(const char* kernel, int C, int NH) {
    if (NH <= 0 || C % NH != 0) {
        throw std::invalid_argument(std::string(kernel) + ": C = " + std::to_string(C) +
                                    " must be a positive multiple of NH = " + std::to_string(NH));
    }
}

}  // namespace

SS_KERNEL_CLONES void attention_forward(float* out, float* att, const float* qkv, int B, int T,
                                        int C, int NH) {
    check_heads("attention_forward", C, NH);
    const int hs = C / NH;
    const int C3 = 3 * C;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    for (int b = 0; b < B; ++b) {
        const float* qkv_b = qkv + static_cast<std::size_t>(b) * T * C3;  // (T, 3C)
        float* out_b = out + static_cast<std::size_t>(b) * T * C;         // (T, C)
        for (int h = 0; h < NH; ++h) {
            const float* Q = qkv_b + h * hs;                                  // (T, hs), ld 3C
            const float* K = qkv_b + C + h * hs;                              // (T, hs), ld 3C
            const float* V = qkv_b + 2 * C + h * hs;                          // (T, hs), ld 3C
            float* A = att + (static_cast<std::size_t>(b) * NH + h) * T * T;  // (T, T)
            float* O = out_b + h * hs;                                        // (T, hs), ld C
            for (int r0 = 0; r0 < T; r0 += kRowTile) {
                const int r1 = std::min(T, r0 + kRowTile);
                const int rows = r1 - r0;
                // preatt[r0:r1, 0:r1] = scale * Q[r0:r1] @ K[0:r1]^T
                sgemm(Trans::No, Trans::Yes, rows, r1, hs, scale, Q + std::size_t(r0) * C3, C3, K,
                      C3, 0.0f, A + std::size_t(r0) * T, T);
                for (int t = r0; t < r1; ++t) {
                    float* a = A + static_cast<std::size_t>(t) * T;  // (T)
                    const int n = t + 1;                             // keys s <= t
                    const float m = detail::max_of(a, n);
                    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                    for (int s = 0; s < n; ++s) {
                        const float e = detail::fast_exp(a[s] - m);
                        a[s] = e;
                        sum += e;
                    }
                    const float inv = 1.0f / sum;
#pragma omp simd
                    for (int s = 0; s < n; ++s) a[s] *= inv;
                    std::memset(a + n, 0, sizeof(float) * static_cast<std::size_t>(T - n));
                }
                // out[r0:r1] = att[r0:r1, 0:r1] @ V[0:r1]
                sgemm(Trans::No, Trans::No, rows, hs, r1, 1.0f, A + std::size_t(r0) * T, T, V, C3,
                      0.0f, O + std::size_t(r0) * C, C);
            }
        }
    }
}

SS_KERNEL_CLONES void attention_backward(float* dqkv, float* scratch, const float* dout,
                                         const float* qkv, const float* att, int B, int T, int C,
                                         int NH) {
    check_heads("attention_backward", C, NH);
    const int hs = C / NH;
    const int C3 = 3 * C;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    float* dA = scratch;  // (T, T), reused for every (b, h)
    for (int b = 0; b < B; ++b) {
        const std::size_t off3 = static_cast<std::size_t>(b) * T * C3;
        const float* dout_b = dout + static_cast<std::size_t>(b) * T * C;  // (T, C)
        for (int h = 0; h < NH; ++h) {
            const float* Q = qkv + off3 + h * hs;          // (T, hs), ld 3C
            const float* K = qkv + off3 + C + h * hs;      // (T, hs), ld 3C
            const float* V = qkv + off3 + 2 * C + h * hs;  // (T, hs), ld 3C
            float* dQ = dqkv + off3 + h * hs;
            float* dK = dqkv + off3 + C + h * hs;
            float* dV = dqkv + off3 + 2 * C + h * hs;
            const float* A = att + (static_cast<std::size_t>(b) * NH + h) * T * T;  // (T, T)
            const float* dO = dout_b + h * hs;                                      // (T, hs), ld C
            for (int r0 = 0; r0 < T; r0 += kRowTile) {
                const int r1 = std::min(T, r0 + kRowTile);
                const int rows = r1 - r0;
                const float* At = A + std::size_t(r0) * T;  // (rows, T) tile of att
                float* dAt = dA + std::size_t(r0) * T;      // (rows, T) tile of scratch
                const float* dOt = dO + std::size_t(r0) * C;
                // dV[0:r1] += att[r0:r1, 0:r1]^T @ dout[r0:r1]
                sgemm(Trans::Yes, Trans::No, r1, hs, rows, 1.0f, At, T, dOt, C, 1.0f, dV, C3);
                // datt[r0:r1, 0:r1] = dout[r0:r1] @ V[0:r1]^T
                sgemm(Trans::No, Trans::Yes, rows, r1, hs, 1.0f, dOt, C, V, C3, 0.0f, dAt, T);
                // softmax backward, with the 1/sqrt(hs) of preatt folded in:
                // dpreatt[t,s] = scale * att[t,s] * (datt[t,s] - sum_u att[t,u] datt[t,u])
                for (int t = r0; t < r1; ++t) {
                    const float* a = A + static_cast<std::size_t>(t) * T;
                    float* d = dA + static_cast<std::size_t>(t) * T;
                    const int n = t + 1;
                    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                    for (int s = 0; s < n; ++s) dot += a[s] * d[s];
#pragma omp simd
                    for (int s = 0; s < n; ++s) d[s] = scale * a[s] * (d[s] - dot);
                    // the tile's products below read columns [0, r1): clear the masked part
                    std::memset(d + n, 0, sizeof(float) * static_cast<std::size_t>(r1 - n));
                }
                // dQ[r0:r1] += dpreatt[r0:r1, 0:r1] @ K[0:r1]
                sgemm(Trans::No, Trans::No, rows, hs, r1, 1.0f, dAt, T, K, C3, 1.0f,
                      dQ + std::size_t(r0) * C3, C3);
                // dK[0:r1] += dpreatt[r0:r1, 0:r1]^T @ Q[r0:r1]
                sgemm(Trans::Yes, Trans::No, r1, hs, rows, 1.0f, dAt, T, Q + std::size_t(r0) * C3,
                      C3, 1.0f, dK, C3);
            }
        }
    }
}

}  // namespace ss::kernels

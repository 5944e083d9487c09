// CUDA kernels of the CUDA backend: elementwise kernels use grid-stride loops; row kernels use
// one warp per row (layernorm, softmax, attention softmax) or one block per row (cross-entropy,
// long vocabulary rows). The formulas are those of the CPU kernels (kernels/cpu_kernels.cpp);
// tests/kernels/tst_kernels_cuda.cpp compares both.
#include "kernels/cuda/cuda_kernels.h"

#include <algorithm>
#include <cfloat>

namespace ss::kernels::cuda::launch {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;

#define SS_CHECK_LAUNCH(name)                \
    ::ss::kernels::cuda::detail::check_cuda( \
        cudaGetLastError(), name "<<<grid, block, 0, stream>>>", __FILE__, __LINE__)

unsigned grid_for(std::size_t n) {
    const std::size_t blocks = (n + kThreads - 1) / kThreads;
    return static_cast<unsigned>(std::min<std::size_t>(std::max<std::size_t>(blocks, 1), 65535));
}
unsigned grid_for_rows(int rows) {  // one warp per row
    return static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Block-wide reductions (blockDim.x == kThreads); every thread gets the result.
__device__ float block_sum(float v, float* shared) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = warp_sum(v);
    __syncthreads();  // shared may still be read from a previous reduction
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = lane < kWarpsPerBlock ? shared[lane] : 0.0f;
    return warp_sum(v);
}
__device__ float block_max(float v, float* shared) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = lane < kWarpsPerBlock ? shared[lane] : -FLT_MAX;
    return warp_max(v);
}

#define GRID_STRIDE(i, n)                                                             \
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < (n); \
         i += std::size_t(blockDim.x) * gridDim.x)

// ---- elementwise ----------------------------------------------------------------------------

constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluCubic = 0.044715f;

__global__ void gelu_forward_kernel(float* out, const float* inp, std::size_t n) {
    GRID_STRIDE(i, n) {
        const float x = inp[i];
        const float u = kGeluScale * (x + kGeluCubic * x * x * x);
        out[i] = 0.5f * x * (1.0f + tanhf(u));
    }
}
__global__ void gelu_backward_kernel(float* dinp, const float* inp, const float* dout,
                                     std::size_t n) {
    GRID_STRIDE(i, n) {
        const float x = inp[i];
        const float u = kGeluScale * (x + kGeluCubic * x * x * x);
        const float th = tanhf(u);
        const float grad = 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * kGeluScale *
                                                    (1.0f + 3.0f * kGeluCubic * x * x);
        dinp[i] += grad * dout[i];
    }
}
__global__ void relu_forward_kernel(float* out, const float* inp, std::size_t n) {
    GRID_STRIDE(i, n) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}
__global__ void relu_backward_kernel(float* dinp, const float* inp, const float* dout,
                                     std::size_t n) {
    GRID_STRIDE(i, n) dinp[i] += inp[i] > 0.0f ? dout[i] : 0.0f;
}
__global__ void residual_kernel(float* out, const float* a, const float* b, std::size_t n) {
    GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}
__global__ void add_inplace_kernel(float* dst, const float* src, std::size_t n) {
    GRID_STRIDE(i, n) dst[i] += src[i];
}
__global__ void fill_kernel(float* x, std::size_t n, float v) {
    GRID_STRIDE(i, n) x[i] = v;
}
__global__ void scale_kernel(float* x, std::size_t n, float v) {
    GRID_STRIDE(i, n) x[i] *= v;
}
__global__ void bias_add_kernel(float* out, const float* bias, std::size_t n, int C) {
    GRID_STRIDE(i, n) out[i] += bias[i % C];
}
__global__ void fill_rows_kernel(float* out, const float* row, std::size_t n, int C) {
    GRID_STRIDE(i, n) out[i] = row[i % C];
}
// Column sums, one thread per column (coalesced across threads, deterministic order).
__global__ void bias_backward_kernel(float* dbias, const float* dout, int N, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float s = 0.0f;
    for (int r = 0; r < N; ++r) s += dout[std::size_t(r) * C + c];
    dbias[c] += s;
}
__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, std::size_t n, float lr,
                             float b1, float b2, float eps, float wd, float inv_bc1, float inv_bc2,
                             float gs) {
    GRID_STRIDE(i, n) {
        const float gi = g[i] * gs;
        const float mi = b1 * m[i] + (1.0f - b1) * gi;
        const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * ((mi * inv_bc1) / (sqrtf(vi * inv_bc2) + eps) + wd * p[i]);
    }
}
__global__ void sum_squares_partial(double* partial, const float* x, std::size_t n) {
    __shared__ double shared[kWarpsPerBlock];
    double acc = 0.0;
    GRID_STRIDE(i, n) {
        const double xi = x[i];
        acc += xi * xi;
    }
    acc = warp_sum_d(acc);
    if (threadIdx.x % 32 == 0) shared[threadIdx.x / 32] = acc;
    __syncthreads();
    if (threadIdx.x < 32) {
        double v = threadIdx.x < kWarpsPerBlock ? shared[threadIdx.x] : 0.0;
        v = warp_sum_d(v);
        if (threadIdx.x == 0) partial[blockIdx.x] = v;
    }
}
__global__ void sum_partials(double* result, const double* partial, int count) {
    __shared__ double shared[kWarpsPerBlock];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
    acc = warp_sum_d(acc);
    if (threadIdx.x % 32 == 0) shared[threadIdx.x / 32] = acc;
    __syncthreads();
    if (threadIdx.x < 32) {
        double v = threadIdx.x < kWarpsPerBlock ? shared[threadIdx.x] : 0.0;
        v = warp_sum_d(v);
        if (threadIdx.x == 0) *result = v;
    }
}

// ---- embedding ------------------------------------------------------------------------------

__global__ void embedding_forward_kernel(float* out, const std::int32_t* tok, const float* wte,
                                         const float* wpe, int T, int C, std::size_t n) {
    GRID_STRIDE(i, n) {
        const std::size_t bt = i / C;
        const int c = static_cast<int>(i % C);
        const int t = static_cast<int>(bt % T);
        float v = wte[std::size_t(tok[bt]) * C + c];
        if (wpe != nullptr) v += wpe[std::size_t(t) * C + c];
        out[i] = v;
    }
}
// dwte: tokens repeat, so atomics; dwpe: one thread per (t, c) summing over b (deterministic).
__global__ void embedding_backward_wte(float* dwte, const float* dout, const std::int32_t* tok,
                                       int C, std::size_t n) {
    GRID_STRIDE(i, n) {
        const std::size_t bt = i / C;
        atomicAdd(&dwte[std::size_t(tok[bt]) * C + i % C], dout[i]);
    }
}
__global__ void embedding_backward_wpe(float* dwpe, const float* dout, int B, int T, int C) {
    GRID_STRIDE(i, std::size_t(T) * C) {
        float s = 0.0f;
        for (int b = 0; b < B; ++b) s += dout[std::size_t(b) * T * C + i];
        dwpe[i] += s;
    }
}

// ---- layernorm (warp per row) ---------------------------------------------------------------

__global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* inp,
                                         const float* w, const float* b, int N, int C, float eps) {
    const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= N) return;
    const float* x = inp + std::size_t(row) * C;
    float s = 0.0f;
    for (int c = lane; c < C; c += 32) s += x[c];
    const float m = warp_sum(s) / C;
    float v = 0.0f;
    for (int c = lane; c < C; c += 32) {
        const float d = x[c] - m;
        v += d * d;
    }
    const float r = rsqrtf(warp_sum(v) / C + eps);
    float* o = out + std::size_t(row) * C;
    for (int c = lane; c < C; c += 32) o[c] = (x[c] - m) * r * w[c] + b[c];
    if (lane == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
}
__global__ void layernorm_backward_dinp(float* dinp, const float* dout, const float* inp,
                                        const float* w, const float* mean, const float* rstd, int N,
                                        int C) {
    const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= N) return;
    const float* dy = dout + std::size_t(row) * C;
    const float* x = inp + std::size_t(row) * C;
    const float m = mean[row], r = rstd[row];
    float a = 0.0f, bsum = 0.0f;
    for (int c = lane; c < C; c += 32) {
        const float dn = w[c] * dy[c];
        a += dn;
        bsum += dn * (x[c] - m) * r;
    }
    const float dnorm_mean = warp_sum(a) / C;
    const float dnorm_norm_mean = warp_sum(bsum) / C;
    float* dx = dinp + std::size_t(row) * C;
    for (int c = lane; c < C; c += 32) {
        const float norm = (x[c] - m) * r;
        dx[c] += (w[c] * dy[c] - dnorm_mean - norm * dnorm_norm_mean) * r;
    }
}
// dweight / dbias: one thread per column over all rows (deterministic).
__global__ void layernorm_backward_params(float* dw, float* db, const float* dout, const float* inp,
                                          const float* mean, const float* rstd, int N, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float sw = 0.0f, sb = 0.0f;
    for (int r = 0; r < N; ++r) {
        const float dy = dout[std::size_t(r) * C + c];
        sb += dy;
        sw += (inp[std::size_t(r) * C + c] - mean[r]) * rstd[r] * dy;
    }
    if (dw != nullptr) dw[c] += sw;
    if (db != nullptr) db[c] += sb;
}

// ---- softmax (warp per row) -----------------------------------------------------------------

__global__ void softmax_forward_kernel(float* out, const float* inp, int N, int C) {
    const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= N) return;
    const float* x = inp + std::size_t(row) * C;
    float* o = out + std::size_t(row) * C;
    float m = -FLT_MAX;
    for (int c = lane; c < C; c += 32) m = fmaxf(m, x[c]);
    m = warp_max(m);
    float s = 0.0f;
    for (int c = lane; c < C; c += 32) s += expf(x[c] - m);
    const float inv = 1.0f / warp_sum(s);
    for (int c = lane; c < C; c += 32) o[c] = expf(x[c] - m) * inv;
}
__global__ void softmax_backward_kernel(float* dinp, const float* dout, const float* out, int N,
                                        int C) {
    const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= N) return;
    const float* dy = dout + std::size_t(row) * C;
    const float* y = out + std::size_t(row) * C;
    float d = 0.0f;
    for (int c = lane; c < C; c += 32) d += dy[c] * y[c];
    d = warp_sum(d);
    float* dx = dinp + std::size_t(row) * C;
    for (int c = lane; c < C; c += 32) dx[c] += y[c] * (dy[c] - d);
}
__global__ void causal_softmax_kernel(float* att, int rows, int T) {
    const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const int t = row % T;
    float* a = att + std::size_t(row) * T;
    float m = -FLT_MAX;
    for (int s = lane; s <= t; s += 32) m = fmaxf(m, a[s]);
    m = warp_max(m);
    float sum = 0.0f;
    for (int s = lane; s <= t; s += 32) sum += expf(a[s] - m);
    const float inv = 1.0f / warp_sum(sum);
    for (int s = lane; s < T; s += 32) a[s] = s <= t ? expf(a[s] - m) * inv : 0.0f;
}
__global__ void causal_softmax_backward_kernel(float* datt, const float* att, int rows, int T,
                                               float scale) {
    const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const int t = row % T;
    const float* a = att + std::size_t(row) * T;
    float* d = datt + std::size_t(row) * T;
    float dot = 0.0f;
    for (int s = lane; s <= t; s += 32) dot += a[s] * d[s];
    dot = warp_sum(dot);
    for (int s = lane; s < T; s += 32) d[s] = s <= t ? scale * a[s] * (d[s] - dot) : 0.0f;
}

// ---- cross-entropy (block per row) ----------------------------------------------------------
// A target >= V cannot throw on the device: its loss and dlogits row become NaN instead.

__global__ void crossentropy_forward_kernel(float* losses, float* probs, const float* logits,
                                            const std::int32_t* targets, int V) {
    __shared__ float shared[kWarpsPerBlock];
    const int row = blockIdx.x;
    const float* x = logits + std::size_t(row) * V;
    const int t = targets[row];
    float m = -FLT_MAX;
    for (int j = threadIdx.x; j < V; j += blockDim.x) m = fmaxf(m, x[j]);
    m = block_max(m, shared);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(x[j] - m);
    s = block_sum(s, shared);
    if (probs != nullptr) {
        const float inv = 1.0f / s;
        float* p = probs + std::size_t(row) * V;
        for (int j = threadIdx.x; j < V; j += blockDim.x) p[j] = expf(x[j] - m) * inv;
    }
    if (threadIdx.x == 0) {
        losses[row] = t < 0 ? 0.0f : (t >= V ? NAN : logf(s) + m - x[t]);
    }
}
__global__ void crossentropy_backward_kernel(float* dlogits, const float* probs,
                                             const std::int32_t* targets, int V, std::size_t n,
                                             float scale) {
    GRID_STRIDE(i, n) {
        const std::size_t row = i / V;
        const int j = static_cast<int>(i % V);
        const int t = targets[row];
        float d;
        if (t < 0)
            d = 0.0f;
        else if (t >= V)
            d = NAN;
        else
            d = (probs[i] - (j == t ? 1.0f : 0.0f)) * scale;
        dlogits[i] = d;
    }
}
__global__ void fused_classifier_kernel(float* dlogits, float* losses, const float* logits,
                                        const std::int32_t* targets, int V, float scale) {
    __shared__ float shared[kWarpsPerBlock];
    const int row = blockIdx.x;
    const float* x = logits + std::size_t(row) * V;
    float* d = dlogits + std::size_t(row) * V;  // may alias x
    const int t = targets[row];
    if (t < 0 || t >= V) {
        const float fillv = t < 0 ? 0.0f : NAN;
        for (int j = threadIdx.x; j < V; j += blockDim.x) d[j] = fillv;
        if (threadIdx.x == 0 && losses != nullptr) losses[row] = fillv;
        return;
    }
    const float xt = x[t];  // read by every thread before block_max's barriers, i.e. before
                            // any thread overwrites the row below
    float m = -FLT_MAX;
    for (int j = threadIdx.x; j < V; j += blockDim.x) m = fmaxf(m, x[j]);
    m = block_max(m, shared);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(x[j] - m);
    s = block_sum(s, shared);
    if (threadIdx.x == 0 && losses != nullptr) losses[row] = logf(s) + m - xt;
    const float inv = 1.0f / s;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        d[j] = (expf(x[j] - m) * inv - (j == t ? 1.0f : 0.0f)) * scale;
    }
}

}  // namespace

// ---- launchers ------------------------------------------------------------------------------

void fill_rows(float* out, const float* row, int N, int C, cudaStream_t stream) {
    const std::size_t n = std::size_t(N) * C;
    const unsigned grid = grid_for(n), block = kThreads;
    fill_rows_kernel<<<grid, block, 0, stream>>>(out, row, n, C);
    SS_CHECK_LAUNCH("fill_rows_kernel");
}
void embedding_forward(float* out, const std::int32_t* tokens, const float* wte, const float* wpe,
                       int B, int T, int C, cudaStream_t stream) {
    const std::size_t n = std::size_t(B) * T * C;
    const unsigned grid = grid_for(n), block = kThreads;
    embedding_forward_kernel<<<grid, block, 0, stream>>>(out, tokens, wte, wpe, T, C, n);
    SS_CHECK_LAUNCH("embedding_forward_kernel");
}
void embedding_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens,
                        int B, int T, int C, cudaStream_t stream) {
    const std::size_t n = std::size_t(B) * T * C;
    const unsigned block = kThreads;
    if (dwte != nullptr) {
        const unsigned grid = grid_for(n);
        embedding_backward_wte<<<grid, block, 0, stream>>>(dwte, dout, tokens, C, n);
        SS_CHECK_LAUNCH("embedding_backward_wte");
    }
    if (dwpe != nullptr) {
        const unsigned grid = grid_for(std::size_t(T) * C);
        embedding_backward_wpe<<<grid, block, 0, stream>>>(dwpe, dout, B, T, C);
        SS_CHECK_LAUNCH("embedding_backward_wpe");
    }
}
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int N, int C, float eps, cudaStream_t stream) {
    if (N <= 0) return;
    const unsigned grid = grid_for_rows(N), block = kThreads;
    layernorm_forward_kernel<<<grid, block, 0, stream>>>(out, mean, rstd, inp, weight, bias, N, C,
                                                         eps);
    SS_CHECK_LAUNCH("layernorm_forward_kernel");
}
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean, const float* rstd,
                        int N, int C, cudaStream_t stream) {
    if (N <= 0) return;
    const unsigned block = kThreads;
    if (dinp != nullptr) {
        const unsigned grid = grid_for_rows(N);
        layernorm_backward_dinp<<<grid, block, 0, stream>>>(dinp, dout, inp, weight, mean, rstd, N,
                                                            C);
        SS_CHECK_LAUNCH("layernorm_backward_dinp");
    }
    if (dweight != nullptr || dbias != nullptr) {
        const unsigned grid = (C + kThreads - 1) / kThreads;
        layernorm_backward_params<<<grid, block, 0, stream>>>(dweight, dbias, dout, inp, mean, rstd,
                                                              N, C);
        SS_CHECK_LAUNCH("layernorm_backward_params");
    }
}
void gelu_forward(float* out, const float* inp, std::size_t n, cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    gelu_forward_kernel<<<grid, block, 0, stream>>>(out, inp, n);
    SS_CHECK_LAUNCH("gelu_forward_kernel");
}
void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n,
                   cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    gelu_backward_kernel<<<grid, block, 0, stream>>>(dinp, inp, dout, n);
    SS_CHECK_LAUNCH("gelu_backward_kernel");
}
void relu_forward(float* out, const float* inp, std::size_t n, cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    relu_forward_kernel<<<grid, block, 0, stream>>>(out, inp, n);
    SS_CHECK_LAUNCH("relu_forward_kernel");
}
void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n,
                   cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    relu_backward_kernel<<<grid, block, 0, stream>>>(dinp, inp, dout, n);
    SS_CHECK_LAUNCH("relu_backward_kernel");
}
void softmax_forward(float* out, const float* inp, int N, int C, cudaStream_t stream) {
    if (N <= 0) return;
    const unsigned grid = grid_for_rows(N), block = kThreads;
    softmax_forward_kernel<<<grid, block, 0, stream>>>(out, inp, N, C);
    SS_CHECK_LAUNCH("softmax_forward_kernel");
}
void softmax_backward(float* dinp, const float* dout, const float* out, int N, int C,
                      cudaStream_t stream) {
    if (N <= 0) return;
    const unsigned grid = grid_for_rows(N), block = kThreads;
    softmax_backward_kernel<<<grid, block, 0, stream>>>(dinp, dout, out, N, C);
    SS_CHECK_LAUNCH("softmax_backward_kernel");
}
void causal_softmax(float* att, int rows, int T, cudaStream_t stream) {
    if (rows <= 0) return;
    const unsigned grid = grid_for_rows(rows), block = kThreads;
    causal_softmax_kernel<<<grid, block, 0, stream>>>(att, rows, T);
    SS_CHECK_LAUNCH("causal_softmax_kernel");
}
void causal_softmax_backward(float* datt, const float* att, int rows, int T, float scale,
                             cudaStream_t stream) {
    if (rows <= 0) return;
    const unsigned grid = grid_for_rows(rows), block = kThreads;
    causal_softmax_backward_kernel<<<grid, block, 0, stream>>>(datt, att, rows, T, scale);
    SS_CHECK_LAUNCH("causal_softmax_backward_kernel");
}
void crossentropy_forward(float* losses, float* probs, const float* logits,
                          const std::int32_t* targets, int N, int V, cudaStream_t stream) {
    if (N <= 0) return;
    const unsigned grid = static_cast<unsigned>(N), block = kThreads;
    crossentropy_forward_kernel<<<grid, block, 0, stream>>>(losses, probs, logits, targets, V);
    SS_CHECK_LAUNCH("crossentropy_forward_kernel");
}
void crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets, int N,
                           int V, float dloss_scale, cudaStream_t stream) {
    const std::size_t n = std::size_t(N) * V;
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    crossentropy_backward_kernel<<<grid, block, 0, stream>>>(dlogits, probs, targets, V, n,
                                                             dloss_scale);
    SS_CHECK_LAUNCH("crossentropy_backward_kernel");
}
void fused_classifier(float* dlogits, float* losses, const float* logits,
                      const std::int32_t* targets, int N, int V, float dloss_scale,
                      cudaStream_t stream) {
    if (N <= 0) return;
    const unsigned grid = static_cast<unsigned>(N), block = kThreads;
    fused_classifier_kernel<<<grid, block, 0, stream>>>(dlogits, losses, logits, targets, V,
                                                        dloss_scale);
    SS_CHECK_LAUNCH("fused_classifier_kernel");
}
void residual_forward(float* out, const float* a, const float* b, std::size_t n,
                      cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    residual_kernel<<<grid, block, 0, stream>>>(out, a, b, n);
    SS_CHECK_LAUNCH("residual_kernel");
}
void add_inplace(float* dst, const float* src, std::size_t n, cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    add_inplace_kernel<<<grid, block, 0, stream>>>(dst, src, n);
    SS_CHECK_LAUNCH("add_inplace_kernel");
}
void bias_add(float* out, const float* bias, int N, int C, cudaStream_t stream) {
    const std::size_t n = std::size_t(N) * C;
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    bias_add_kernel<<<grid, block, 0, stream>>>(out, bias, n, C);
    SS_CHECK_LAUNCH("bias_add_kernel");
}
void bias_backward(float* dbias, const float* dout, int N, int C, cudaStream_t stream) {
    if (C <= 0) return;
    const unsigned grid = (C + kThreads - 1) / kThreads, block = kThreads;
    bias_backward_kernel<<<grid, block, 0, stream>>>(dbias, dout, N, C);
    SS_CHECK_LAUNCH("bias_backward_kernel");
}
void fill(float* x, std::size_t n, float value, cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    fill_kernel<<<grid, block, 0, stream>>>(x, n, value);
    SS_CHECK_LAUNCH("fill_kernel");
}
void scale(float* x, std::size_t n, float v, cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    scale_kernel<<<grid, block, 0, stream>>>(x, n, v);
    SS_CHECK_LAUNCH("scale_kernel");
}
void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n,
                  const AdamWConfig& cfg, float inv_bc1, float inv_bc2, float grad_scale,
                  cudaStream_t stream) {
    if (n == 0) return;
    const unsigned grid = grid_for(n), block = kThreads;
    adamw_kernel<<<grid, block, 0, stream>>>(param, grad, m, v, n, cfg.lr, cfg.beta1, cfg.beta2,
                                             cfg.eps, cfg.weight_decay, inv_bc1, inv_bc2,
                                             grad_scale);
    SS_CHECK_LAUNCH("adamw_kernel");
}
void sum_squares(double* result, double* partial, const float* x, std::size_t n,
                 cudaStream_t stream) {
    const unsigned block = kThreads;
    {
        const unsigned grid = kSumBlocks;  // fixed grid: the summation order never changes
        sum_squares_partial<<<grid, block, 0, stream>>>(partial, x, n);
        SS_CHECK_LAUNCH("sum_squares_partial");
    }
    {
        const unsigned grid = 1;
        sum_partials<<<grid, block, 0, stream>>>(result, partial, kSumBlocks);
        SS_CHECK_LAUNCH("sum_partials");
    }
}

}  // namespace ss::kernels::cuda::launch

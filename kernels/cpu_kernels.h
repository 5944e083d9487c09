// CPU compute kernels: OpenBLAS sgemm for matrix products, own vectorisable loops for the rest.
//
// Conventions (the same for every backend, see kernels/backend.h):
//  - float32, row-major, plain pointers + sizes; the caller owns all memory. The shape of every
//    buffer is given in a comment next to it, e.g. `// (B, T, C)`.
//  - Integer inputs (token ids, class targets) are int32.
//  - Forward kernels WRITE their outputs (=).
//  - Backward kernels ACCUMULATE (+=) into every gradient buffer, inputs and parameters alike
//    (llm.c convention): the caller zeroes gradients once per step and residual branches simply
//    add up. Any gradient pointer documented as "nullable" may be nullptr to skip that gradient.
//    The one exception is the loss: crossentropy_backward / fused_classifier WRITE dlogits, since
//    the loss is where the backward pass starts.
//  - Out-of-place kernels require outputs not to alias inputs unless a comment allows it.
//  - No kernel allocates memory; attention_backward takes caller-owned scratch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/types.h"

namespace ss::kernels {

// ---------------------------------------------------------------------------------------------
// BLAS configuration
// ---------------------------------------------------------------------------------------------

// Number of OpenBLAS threads. Default: 1 per process (so MPI ranks don't fight over cores), or the
// value of the environment variable SCALESCOPE_BLAS_THREADS if set. Applied lazily at the first
// BLAS call if set_blas_threads was never called.
void set_blas_threads(int threads);
int blas_threads();

// ---------------------------------------------------------------------------------------------
// Matrix products (cblas_sgemm)
// ---------------------------------------------------------------------------------------------

// General row-major sgemm:  C(M,N) = alpha * op(A)(M,K) @ op(B)(K,N) + beta * C(M,N)
// A is (M,K) if ta==No else (K,M), leading dimension lda (>= its column count); likewise B with
// ldb, C (M,N) with ldc. beta==0 overwrites C (NaNs in C are ignored).
void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);

// Linear layer (weight stored (OC, C) like torch.nn.Linear):
//   out(N,OC) = inp(N,C) @ weight(OC,C)^T + bias(OC)
// bias is nullable (no bias).
void linear_forward(float* out,           // (N, OC)
                    const float* inp,     // (N, C)
                    const float* weight,  // (OC, C)
                    const float* bias,    // (OC) nullable
                    int N, int C, int OC);

// Linear backward (all accumulate):
//   dinp(N,C)     += dout(N,OC) @ weight(OC,C)
//   dweight(OC,C) += dout^T(OC,N) @ inp(N,C)
//   dbias(OC)     += sum over rows of dout
// dinp, dweight, dbias are each nullable.
void linear_backward(float* dinp,          // (N, C) nullable
                     float* dweight,       // (OC, C) nullable
                     float* dbias,         // (OC) nullable
                     const float* dout,    // (N, OC)
                     const float* inp,     // (N, C)
                     const float* weight,  // (OC, C)
                     int N, int C, int OC);

// ---------------------------------------------------------------------------------------------
// Embedding
// ---------------------------------------------------------------------------------------------

// out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]   (wpe nullable: token embedding only).
// Token ids must lie in [0, V); they are not range-checked here (validate data once at load).
void embedding_forward(float* out,                  // (B, T, C)
                       const std::int32_t* tokens,  // (B, T)
                       const float* wte,            // (V, C)
                       const float* wpe,            // (maxT, C) nullable, maxT >= T
                       int B, int T, int C);

// dwte[tokens[b,t],:] += dout[b,t,:];  dwpe[t,:] += sum_b dout[b,t,:]. Both nullable.
void embedding_backward(float* dwte,                 // (V, C) nullable
                        float* dwpe,                 // (maxT, C) nullable
                        const float* dout,           // (B, T, C)
                        const std::int32_t* tokens,  // (B, T)
                        int B, int T, int C);

// ---------------------------------------------------------------------------------------------
// LayerNorm over the last dimension
// ---------------------------------------------------------------------------------------------

// out = (inp - mean) * rstd * weight + bias, rstd = 1/sqrt(var + eps), var the biased variance.
// mean and rstd are stored for the backward pass.
void layernorm_forward(float* out,           // (N, C)
                       float* mean,          // (N)
                       float* rstd,          // (N)
                       const float* inp,     // (N, C)
                       const float* weight,  // (C)
                       const float* bias,    // (C)
                       int N, int C, float eps = 1e-5f);

// dinp, dweight, dbias accumulate (dinp and dbias nullable; dweight nullable).
void layernorm_backward(float* dinp,          // (N, C) nullable
                        float* dweight,       // (C) nullable
                        float* dbias,         // (C) nullable
                        const float* dout,    // (N, C)
                        const float* inp,     // (N, C)
                        const float* weight,  // (C)
                        const float* mean,    // (N)
                        const float* rstd,    // (N)
                        int N, int C);

// ---------------------------------------------------------------------------------------------
// Activations (elementwise; out may alias inp in the forward kernels)
// ---------------------------------------------------------------------------------------------

// GELU, tanh approximation: 0.5 x (1 + tanh( sqrt(2/pi) (x + 0.044715 x^3) ))
void gelu_forward(float* out, const float* inp, std::size_t n);                       // (n)
void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n);  // (n) +=

// ReLU: max(x, 0); gradient 1 for x > 0, else 0.
void relu_forward(float* out, const float* inp, std::size_t n);                       // (n)
void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n);  // (n) +=

// ---------------------------------------------------------------------------------------------
// Softmax over the last dimension
// ---------------------------------------------------------------------------------------------

void softmax_forward(float* out,        // (N, C)   may alias inp
                     const float* inp,  // (N, C)
                     int N, int C);

// dinp += out * (dout - sum_j dout_j * out_j)   (row-wise)
void softmax_backward(float* dinp,        // (N, C)
                      const float* dout,  // (N, C)
                      const float* out,   // (N, C) forward softmax output
                      int N, int C);

// ---------------------------------------------------------------------------------------------
// Causal multi-head self-attention
// ---------------------------------------------------------------------------------------------

// Query rows per sgemm tile of attention_forward/backward: a tile of rows [r0, r1) multiplies keys
// [0, r1) only. models/plan/flops.h counts the model FLOPs with the same value (a test checks).
inline constexpr int kAttentionRowTile = 64;

// qkv rows hold [q (C) | k (C) | v (C)]; head h uses channels [h*hs, (h+1)*hs), hs = C / NH.
// att[b,h,t,:] = softmax over s<=t of q_t.k_s / sqrt(hs); entries s > t are written as 0.
// out[b,t,h*hs:(h+1)*hs] = sum_s att[b,h,t,s] v_s.  Uses sgemm per (b, h) on causal row tiles.
// For tensor parallelism pass the local channel count C and local head count NH.
void attention_forward(float* out,        // (B, T, C)
                       float* att,        // (B, NH, T, T) probabilities, kept for backward
                       const float* qkv,  // (B, T, 3C)
                       int B, int T, int C, int NH);

// dqkv += gradient w.r.t. qkv. scratch is caller-owned working memory.
void attention_backward(float* dqkv,        // (B, T, 3C)
                        float* scratch,     // (B, NH, T, T) (the CPU backend uses the first T*T)
                        const float* dout,  // (B, T, C)
                        const float* qkv,   // (B, T, 3C)
                        const float* att,   // (B, NH, T, T) from attention_forward
                        int B, int T, int C, int NH);

// ---------------------------------------------------------------------------------------------
// Softmax + cross-entropy (LM head over a vocabulary, or a classifier over classes)
// ---------------------------------------------------------------------------------------------
// targets < 0 are ignored: loss 0 and dlogits row 0 (padding / masked positions).
// targets >= V are invalid: the CPU backend throws std::out_of_range; a device backend cannot
// throw from a kernel and writes NaN into that row's loss and dlogits instead.

// losses[i] = -log softmax(logits[i])[targets[i]];  probs nullable (skip storing them).
void crossentropy_forward(float* losses,                // (N)
                          float* probs,                 // (N, V) nullable
                          const float* logits,          // (N, V)
                          const std::int32_t* targets,  // (N)
                          int N, int V);

// dlogits = (probs - onehot(targets)) * dloss_scale   (WRITES; dlogits may alias probs).
// dloss_scale is d(total loss)/d(losses[i]), e.g. 1/N for the mean loss.
void crossentropy_backward(float* dlogits,               // (N, V)
                           const float* probs,           // (N, V)
                           const std::int32_t* targets,  // (N)
                           int N, int V, float dloss_scale);

// Fused forward + backward in one pass over the logits (no probs buffer):
//   losses[i] as crossentropy_forward;  dlogits = (softmax(logits) - onehot) * dloss_scale.
// dlogits may alias logits (in place, as llm.c does). losses nullable.
void fused_classifier(float* dlogits,               // (N, V)
                      float* losses,                // (N) nullable
                      const float* logits,          // (N, V)
                      const std::int32_t* targets,  // (N)
                      int N, int V, float dloss_scale);

// ---------------------------------------------------------------------------------------------
// Bias / residual / simple vector ops
// ---------------------------------------------------------------------------------------------

void residual_forward(float* out, const float* a, const float* b, std::size_t n);  // out = a + b
// Residual backward is accumulation into both branches: use add_inplace(dx, dout, n) for each.
void add_inplace(float* dst, const float* src, std::size_t n);      // dst += src
void bias_add(float* out, const float* bias, int N, int C);         // out(N,C) += bias(C) per row
void bias_backward(float* dbias, const float* dout, int N, int C);  // dbias(C) += sum_rows dout
void fill(float* x, std::size_t n, float value);                    // x = value
void copy(float* dst, const float* src, std::size_t n);             // dst = src (no overlap)

// ---------------------------------------------------------------------------------------------
// Optimiser and gradient clipping
// ---------------------------------------------------------------------------------------------

// One AdamW step on n parameters (formula in kernels/types.h). step is the 1-based step count t
// used for bias correction. grad_scale multiplies the gradient before use (e.g. the clip
// coefficient, or 1/accumulation steps), so clipping needs no separate pass over the grads.
void adamw_update(float* param,       // (n)
                  const float* grad,  // (n)
                  float* m,           // (n) first moment, zero-initialised
                  float* v,           // (n) second moment, zero-initialised
                  std::size_t n, const AdamWConfig& cfg, std::int64_t step,
                  float grad_scale = 1.0f);

// Sum of squares in double precision. A sharded (ZeRO / TP / PP) caller computes its part, all-
// reduces the partial sums, then takes sqrt: global_norm = sqrt(sum over ranks of sum_squares).
double sum_squares(const float* x, std::size_t n);
void scale(float* x, std::size_t n, float s);  // x *= s

// The factor to multiply gradients by for max-norm clipping (torch.nn.utils.clip_grad_norm_):
// min(1, max_norm / (norm + 1e-6)); returns 1 when max_norm <= 0 (clipping disabled).
float clip_coefficient(double global_norm, float max_norm);

// Single-buffer convenience: computes the norm of grad, scales it in place if above max_norm,
// and returns the norm before clipping.
double clip_grad_norm(float* grad, std::size_t n, float max_norm);

}  // namespace ss::kernels

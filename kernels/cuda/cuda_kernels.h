// Internal to scalescope_kernels_cuda: host-side launchers of the .cu kernels (cuda_kernels.cu)
// and the error-check helpers shared with cuda_backend.cpp. Every launcher enqueues on `stream`
// and checks the launch (cudaGetLastError) with the kernel's name as the call text.
// Shapes and semantics are those of kernels/cpu_kernels.h; all pointers are device pointers.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/types.h"

namespace ss::kernels::cuda::detail {

// Throws CudaError("<call> failed at <file>:<line>: <cudaGetErrorString>") unless cudaSuccess.
void check_cuda(cudaError_t err, const char* call, const char* file, int line);

}  // namespace ss::kernels::cuda::detail

// Every CUDA runtime call goes through this; the call text, file and line land in the error.
#define SS_CUDA_CHECK(call) \
    ::ss::kernels::cuda::detail::check_cuda((call), #call, __FILE__, __LINE__)

namespace ss::kernels::cuda::launch {

void fill_rows(float* out, const float* row, int N, int C, cudaStream_t s);  // out(N,C) = row(C)
void embedding_forward(float* out, const std::int32_t* tokens, const float* wte, const float* wpe,
                       int B, int T, int C, cudaStream_t s);
void embedding_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens,
                        int B, int T, int C, cudaStream_t s);
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int N, int C, float eps, cudaStream_t s);
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean, const float* rstd,
                        int N, int C, cudaStream_t s);
void gelu_forward(float* out, const float* inp, std::size_t n, cudaStream_t s);
void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n, cudaStream_t s);
void relu_forward(float* out, const float* inp, std::size_t n, cudaStream_t s);
void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n, cudaStream_t s);
void softmax_forward(float* out, const float* inp, int N, int C, cudaStream_t s);
void softmax_backward(float* dinp, const float* dout, const float* out, int N, int C,
                      cudaStream_t s);
// In place over att (rows, T): causal softmax of row t (t = row % T) over s <= t, zeros above.
void causal_softmax(float* att, int rows, int T, cudaStream_t s);
// In place over datt: datt = scale * att * (datt - rowdot(att, datt)), zeros above the diagonal.
void causal_softmax_backward(float* datt, const float* att, int rows, int T, float scale,
                             cudaStream_t s);
void crossentropy_forward(float* losses, float* probs, const float* logits,
                          const std::int32_t* targets, int N, int V, cudaStream_t s);
void crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets, int N,
                           int V, float dloss_scale, cudaStream_t s);
void fused_classifier(float* dlogits, float* losses, const float* logits,
                      const std::int32_t* targets, int N, int V, float dloss_scale, cudaStream_t s);
void residual_forward(float* out, const float* a, const float* b, std::size_t n, cudaStream_t s);
void add_inplace(float* dst, const float* src, std::size_t n, cudaStream_t s);
void bias_add(float* out, const float* bias, int N, int C, cudaStream_t s);
void bias_backward(float* dbias, const float* dout, int N, int C, cudaStream_t s);
void fill(float* x, std::size_t n, float value, cudaStream_t s);
void scale(float* x, std::size_t n, float v, cudaStream_t s);
void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n,
                  const AdamWConfig& cfg, float inv_bc1, float inv_bc2, float grad_scale,
                  cudaStream_t s);
// Deterministic two-pass sum of squares in double: partial (kSumBlocks doubles) then *result.
constexpr int kSumBlocks = 256;
void sum_squares(double* result, double* partial, const float* x, std::size_t n, cudaStream_t s);

}  // namespace ss::kernels::cuda::launch

// CpuBackend: forwards every kernel to the free functions of kernels/cpu_kernels.h.
#include "kernels/cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/blas_core.h"
#include "kernels/cpu_kernels.h"

namespace ss::kernels {

namespace {
constexpr std::size_t kAlignment = 64;  // cache line; enough for AVX-512 loads
}

std::unique_ptr<Backend> make_cpu_backend() {
    return std::make_unique<CpuBackend>();
}

std::string CpuBackend::name() const {
    const int t = blas_threads();
    // The kernel OpenBLAS runs (kernels/blas_core.h): the run record's device string names it.
    return "cpu (OpenBLAS " + blas_core_name() + ", " + std::to_string(t) + (t == 1 ? " thread)" : " threads)");
}

void* CpuBackend::allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}

void CpuBackend::deallocate(void* p) {
    std::free(p);
}

void CpuBackend::copy_to_device(void* dst, const void* src_host, std::size_t bytes) {
    if (bytes != 0) std::memcpy(dst, src_host, bytes);
}

void CpuBackend::copy_to_host(void* dst_host, const void* src, std::size_t bytes) {
    if (bytes != 0) std::memcpy(dst_host, src, bytes);
}

void CpuBackend::copy_on_device(void* dst, const void* src, std::size_t bytes) {
    if (bytes != 0) std::memmove(dst, src, bytes);
}

void CpuBackend::zero(void* p, std::size_t bytes) {
    if (bytes != 0) std::memset(p, 0, bytes);
}

void CpuBackend::sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A,
                       int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    kernels::sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void CpuBackend::linear_forward(float* out, const float* inp, const float* weight,
                                const float* bias, int N, int C, int OC) {
    kernels::linear_forward(out, inp, weight, bias, N, C, OC);
}

void CpuBackend::linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                                 const float* inp, const float* weight, int N, int C, int OC) {
    kernels::linear_backward(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
}

void CpuBackend::embedding_forward(float* out, const std::int32_t* tokens, const float* wte,
                                   const float* wpe, int B, int T, int C) {
    kernels::embedding_forward(out, tokens, wte, wpe, B, T, C);
}

void CpuBackend::embedding_backward(float* dwte, float* dwpe, const float* dout,
                                    const std::int32_t* tokens, int B, int T, int C) {
    kernels::embedding_backward(dwte, dwpe, dout, tokens, B, T, C);
}

void CpuBackend::layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                                   const float* weight, const float* bias, int N, int C,
                                   float eps) {
    kernels::layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps);
}

void CpuBackend::layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                                    const float* inp, const float* weight, const float* mean,
                                    const float* rstd, int N, int C) {
    kernels::layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
}

void CpuBackend::gelu_forward(float* out, const float* inp, std::size_t n) {
    kernels::gelu_forward(out, inp, n);
}

void CpuBackend::gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) {
    kernels::gelu_backward(dinp, inp, dout, n);
}

void CpuBackend::relu_forward(float* out, const float* inp, std::size_t n) {
    kernels::relu_forward(out, inp, n);
}

void CpuBackend::relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) {
    kernels::relu_backward(dinp, inp, dout, n);
}

void CpuBackend::softmax_forward(float* out, const float* inp, int N, int C) {
    kernels::softmax_forward(out, inp, N, C);
}

void CpuBackend::softmax_backward(float* dinp, const float* dout, const float* out, int N, int C) {
    kernels::softmax_backward(dinp, dout, out, N, C);
}

void CpuBackend::attention_forward(float* out, float* att, const float* qkv, int B, int T, int C,
                                   int NH) {
    kernels::attention_forward(out, att, qkv, B, T, C, NH);
}

void CpuBackend::attention_backward(float* dqkv, float* scratch, const float* dout,
                                    const float* qkv, const float* att, int B, int T, int C,
                                    int NH) {
    kernels::attention_backward(dqkv, scratch, dout, qkv, att, B, T, C, NH);
}

void CpuBackend::crossentropy_forward(float* losses, float* probs, const float* logits,
                                      const std::int32_t* targets, int N, int V) {
    kernels::crossentropy_forward(losses, probs, logits, targets, N, V);
}

void CpuBackend::crossentropy_backward(float* dlogits, const float* probs,
                                       const std::int32_t* targets, int N, int V,
                                       float dloss_scale) {
    kernels::crossentropy_backward(dlogits, probs, targets, N, V, dloss_scale);
}

void CpuBackend::fused_classifier(float* dlogits, float* losses, const float* logits,
                                  const std::int32_t* targets, int N, int V, float dloss_scale) {
    kernels::fused_classifier(dlogits, losses, logits, targets, N, V, dloss_scale);
}

void CpuBackend::residual_forward(float* out, const float* a, const float* b, std::size_t n) {
    kernels::residual_forward(out, a, b, n);
}

void CpuBackend::add_inplace(float* dst, const float* src, std::size_t n) {
    kernels::add_inplace(dst, src, n);
}

void CpuBackend::bias_add(float* out, const float* bias, int N, int C) {
    kernels::bias_add(out, bias, N, C);
}

void CpuBackend::bias_backward(float* dbias, const float* dout, int N, int C) {
    kernels::bias_backward(dbias, dout, N, C);
}

void CpuBackend::fill(float* x, std::size_t n, float value) {
    kernels::fill(x, n, value);
}

void CpuBackend::copy(float* dst, const float* src, std::size_t n) {
    kernels::copy(dst, src, n);
}

void CpuBackend::adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n,
                              const AdamWConfig& cfg, std::int64_t step, float grad_scale) {
    kernels::adamw_update(param, grad, m, v, n, cfg, step, grad_scale);
}

double CpuBackend::sum_squares(const float* x, std::size_t n) {
    return kernels::sum_squares(x, n);
}

void CpuBackend::scale(float* x, std::size_t n, float s) {
    kernels::scale(x, n, s);
}

}  // namespace ss::kernels

// CpuBackend: the Backend interface over the free functions of kernels/cpu_kernels.h.
// Memory is 64-byte aligned host memory; every call runs synchronously on the calling thread
// (OpenBLAS may use set_blas_threads() threads inside sgemm).
#pragma once

#include "kernels/backend.h"

namespace ss::kernels {

class CpuBackend : public Backend {
public:
    CpuBackend() = default;

    BackendKind kind() const override { return BackendKind::Cpu; }
    std::string name() const override;

    void* allocate(std::size_t bytes) override;
    void deallocate(void* p) override;
    void copy_to_device(void* dst, const void* src_host, std::size_t bytes) override;
    void copy_to_host(void* dst_host, const void* src, std::size_t bytes) override;
    void copy_on_device(void* dst, const void* src, std::size_t bytes) override;
    void zero(void* p, std::size_t bytes) override;
    void synchronize() override {}
    void* allocate_host(std::size_t bytes) override { return allocate(bytes); }
    void deallocate_host(void* p) override { deallocate(p); }
    bool is_device_pointer(const void*) const override { return false; }

    void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
               const float* B, int ldb, float beta, float* C, int ldc) override;
    void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                        int C, int OC) override;
    void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                         const float* inp, const float* weight, int N, int C, int OC) override;
    void embedding_forward(float* out, const std::int32_t* tokens, const float* wte,
                           const float* wpe, int B, int T, int C) override;
    void embedding_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens,
                            int B, int T, int C) override;
    void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                           const float* weight, const float* bias, int N, int C,
                           float eps = 1e-5f) override;
    void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                            const float* inp, const float* weight, const float* mean,
                            const float* rstd, int N, int C) override;
    void gelu_forward(float* out, const float* inp, std::size_t n) override;
    void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) override;
    void relu_forward(float* out, const float* inp, std::size_t n) override;
    void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) override;
    void softmax_forward(float* out, const float* inp, int N, int C) override;
    void softmax_backward(float* dinp, const float* dout, const float* out, int N, int C) override;
    void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C,
                           int NH) override;
    void attention_backward(float* dqkv, float* scratch, const float* dout, const float* qkv,
                            const float* att, int B, int T, int C, int NH) override;
    void crossentropy_forward(float* losses, float* probs, const float* logits,
                              const std::int32_t* targets, int N, int V) override;
    void crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets,
                               int N, int V, float dloss_scale) override;
    void fused_classifier(float* dlogits, float* losses, const float* logits,
                          const std::int32_t* targets, int N, int V, float dloss_scale) override;
    void residual_forward(float* out, const float* a, const float* b, std::size_t n) override;
    void add_inplace(float* dst, const float* src, std::size_t n) override;
    void bias_add(float* out, const float* bias, int N, int C) override;
    void bias_backward(float* dbias, const float* dout, int N, int C) override;
    void fill(float* x, std::size_t n, float value) override;
    void copy(float* dst, const float* src, std::size_t n) override;
    void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n,
                      const AdamWConfig& cfg, std::int64_t step, float grad_scale = 1.0f) override;
    double sum_squares(const float* x, std::size_t n) override;
    void scale(float* x, std::size_t n, float s) override;
};

}  // namespace ss::kernels

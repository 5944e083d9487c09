#include "profiler/traced_backend.h"

#include "profiler/profiler.h"

namespace ss::profiler {

double sgemm_flops(int M, int N, int K) { return 2.0 * M * N * K; }
double linear_forward_flops(int N, int C, int OC) { return 2.0 * N * C * OC; }
double linear_backward_flops(int N, int C, int OC) { return 4.0 * N * C * OC; }
double attention_forward_flops(int B, int T, int C) { return 2.0 * B * C * T * (T + 1.0); }
double attention_backward_flops(int B, int T, int C) { return 4.0 * B * C * T * (T + 1.0); }

namespace {

using kernels::AdamWConfig;
using kernels::BackendKind;
using kernels::Trans;

// One forwarding method per kernel of kernels/backend.h, each inside a
// Span. Span names are string literals (stored by pointer on the hot path).
class TracedBackend final : public kernels::Backend {
public:
    explicit TracedBackend(std::unique_ptr<kernels::Backend> inner) : inner_(std::move(inner)) {}

    BackendKind kind() const override {
        return inner_->kind();
    }

    std::string name() const override {
        return inner_->name();
    }

    void* allocate(std::size_t bytes) override {
        return inner_->allocate(bytes);
    }

    void deallocate(void* p) override {
        inner_->deallocate(p);
    }

    void copy_to_device(void* dst, const void* src_host, std::size_t bytes) override {
        Span span("copy_to_device", EventKind::Memcpy, lanes::kCompute, -1, static_cast<std::int64_t>(bytes));
        inner_->copy_to_device(dst, src_host, bytes);
    }

    void copy_to_host(void* dst_host, const void* src, std::size_t bytes) override {
        Span span("copy_to_host", EventKind::Memcpy, lanes::kCompute, -1, static_cast<std::int64_t>(bytes));
        inner_->copy_to_host(dst_host, src, bytes);
    }

    void copy_on_device(void* dst, const void* src, std::size_t bytes) override {
        Span span("copy_on_device", EventKind::Memcpy, lanes::kCompute, -1, static_cast<std::int64_t>(bytes));
        inner_->copy_on_device(dst, src, bytes);
    }

    void zero(void* p, std::size_t bytes) override {
        Span span("zero", EventKind::Memset, lanes::kCompute, -1, static_cast<std::int64_t>(bytes));
        inner_->zero(p, bytes);
    }

    void* allocate_host(std::size_t bytes) override { return inner_->allocate_host(bytes); }
    void deallocate_host(void* p) override { inner_->deallocate_host(p); }
    bool is_device_pointer(const void* p) const override { return inner_->is_device_pointer(p); }
    void* native_stream() const override { return inner_->native_stream(); }
    int device_ordinal() const override { return inner_->device_ordinal(); }

    void synchronize() override {
        Span span("synchronize", EventKind::Sync, lanes::kCompute);
        inner_->synchronize();
    }

    void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) override {
        Span span("sgemm", EventKind::Kernel, lanes::kCompute, sgemm_flops(M, N, K));
        inner_->sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }

    void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC) override {
        Span span("linear_forward", EventKind::Kernel, lanes::kCompute, linear_forward_flops(N, C, OC));
        inner_->linear_forward(out, inp, weight, bias, N, C, OC);
    }

    void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp, const float* weight, int N, int C, int OC) override {
        Span span("linear_backward", EventKind::Kernel, lanes::kCompute, linear_backward_flops(N, C, OC));
        inner_->linear_backward(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
    }

    void embedding_forward(float* out, const std::int32_t* tokens, const float* wte, const float* wpe, int B, int T, int C) override {
        Span span("embedding_forward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->embedding_forward(out, tokens, wte, wpe, B, T, C);
    }

    void embedding_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens, int B, int T, int C) override {
        Span span("embedding_backward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->embedding_backward(dwte, dwpe, dout, tokens, B, T, C);
    }

    void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight, const float* bias, int N, int C, float eps) override {
        Span span("layernorm_forward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps);
    }

    void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp, const float* weight, const float* mean, const float* rstd, int N, int C) override {
        Span span("layernorm_backward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    }

    void gelu_forward(float* out, const float* inp, std::size_t n) override {
        Span span("gelu_forward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->gelu_forward(out, inp, n);
    }

    void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) override {
        Span span("gelu_backward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->gelu_backward(dinp, inp, dout, n);
    }

    void relu_forward(float* out, const float* inp, std::size_t n) override {
        Span span("relu_forward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->relu_forward(out, inp, n);
    }

    void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) override {
        Span span("relu_backward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->relu_backward(dinp, inp, dout, n);
    }

    void softmax_forward(float* out, const float* inp, int N, int C) override {
        Span span("softmax_forward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->softmax_forward(out, inp, N, C);
    }

    void softmax_backward(float* dinp, const float* dout, const float* out, int N, int C) override {
        Span span("softmax_backward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->softmax_backward(dinp, dout, out, N, C);
    }

    void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int NH) override {
        Span span("attention_forward", EventKind::Kernel, lanes::kCompute, attention_forward_flops(B, T, C));
        inner_->attention_forward(out, att, qkv, B, T, C, NH);
    }

    void attention_backward(float* dqkv, float* scratch, const float* dout, const float* qkv, const float* att, int B, int T, int C, int NH) override {
        Span span("attention_backward", EventKind::Kernel, lanes::kCompute, attention_backward_flops(B, T, C));
        inner_->attention_backward(dqkv, scratch, dout, qkv, att, B, T, C, NH);
    }

    void crossentropy_forward(float* losses, float* probs, const float* logits, const std::int32_t* targets, int N, int V) override {
        Span span("crossentropy_forward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->crossentropy_forward(losses, probs, logits, targets, N, V);
    }

    void crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets, int N, int V, float dloss_scale) override {
        Span span("crossentropy_backward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->crossentropy_backward(dlogits, probs, targets, N, V, dloss_scale);
    }

    void fused_classifier(float* dlogits, float* losses, const float* logits, const std::int32_t* targets, int N, int V, float dloss_scale) override {
        Span span("fused_classifier", EventKind::Kernel, lanes::kCompute, -1);
        inner_->fused_classifier(dlogits, losses, logits, targets, N, V, dloss_scale);
    }

    void residual_forward(float* out, const float* a, const float* b, std::size_t n) override {
        Span span("residual_forward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->residual_forward(out, a, b, n);
    }

    void add_inplace(float* dst, const float* src, std::size_t n) override {
        Span span("add_inplace", EventKind::Kernel, lanes::kCompute, -1);
        inner_->add_inplace(dst, src, n);
    }

    void bias_add(float* out, const float* bias, int N, int C) override {
        Span span("bias_add", EventKind::Kernel, lanes::kCompute, -1);
        inner_->bias_add(out, bias, N, C);
    }

    void bias_backward(float* dbias, const float* dout, int N, int C) override {
        Span span("bias_backward", EventKind::Kernel, lanes::kCompute, -1);
        inner_->bias_backward(dbias, dout, N, C);
    }

    void fill(float* x, std::size_t n, float value) override {
        Span span("fill", EventKind::Kernel, lanes::kCompute, -1);
        inner_->fill(x, n, value);
    }

    void copy(float* dst, const float* src, std::size_t n) override {
        Span span("copy", EventKind::Kernel, lanes::kCompute, -1);
        inner_->copy(dst, src, n);
    }

    void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n, const AdamWConfig& cfg, std::int64_t step, float grad_scale) override {
        Span span("adamw_update", EventKind::Kernel, lanes::kCompute, -1);
        inner_->adamw_update(param, grad, m, v, n, cfg, step, grad_scale);
    }

    double sum_squares(const float* x, std::size_t n) override {
        Span span("sum_squares", EventKind::Kernel, lanes::kCompute, -1);
        return inner_->sum_squares(x, n);
    }

    void scale(float* x, std::size_t n, float s) override {
        Span span("scale", EventKind::Kernel, lanes::kCompute, -1);
        inner_->scale(x, n, s);
    }

private:
    std::unique_ptr<kernels::Backend> inner_;
};

}  // namespace

std::unique_ptr<kernels::Backend> make_traced_backend(std::unique_ptr<kernels::Backend> inner) {
    return std::make_unique<TracedBackend>(std::move(inner));
}

}  // namespace ss::profiler

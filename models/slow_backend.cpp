#include "models/slow_backend.h"

#include <time.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace ss::models {

using kernels::AdamWConfig;
using kernels::Trans;

namespace {

std::int64_t thread_cpu_ns() {
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        throw std::runtime_error(
            std::string("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed at " __FILE__ ":") +
            std::to_string(__LINE__) + ": " + std::strerror(errno));
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

class SlowBackend final : public kernels::Backend {
public:
    SlowBackend(std::unique_ptr<kernels::Backend> inner, double factor)
        : inner_(std::move(inner)),
          extra_(factor - 1.0),
          a_(kDim * kDim, 0.5f),
          b_(kDim * kDim, 0.25f),
          c_(kDim * kDim, 0.0f) {}

    kernels::BackendKind kind() const override { return inner_->kind(); }
    std::string name() const override { return inner_->name(); }
    void* allocate(std::size_t bytes) override { return inner_->allocate(bytes); }
    void deallocate(void* p) override { inner_->deallocate(p); }
    void copy_to_device(void* dst, const void* src, std::size_t bytes) override {
        inner_->copy_to_device(dst, src, bytes);
    }
    void copy_to_host(void* dst, const void* src, std::size_t bytes) override {
        inner_->copy_to_host(dst, src, bytes);
    }
    void copy_on_device(void* dst, const void* src, std::size_t bytes) override {
        inner_->copy_on_device(dst, src, bytes);
    }
    void zero(void* p, std::size_t bytes) override { inner_->zero(p, bytes); }
    void synchronize() override { inner_->synchronize(); }
    void* allocate_host(std::size_t bytes) override { return inner_->allocate_host(bytes); }
    void deallocate_host(void* p) override { inner_->deallocate_host(p); }
    bool is_device_pointer(const void* p) const override { return inner_->is_device_pointer(p); }
    void* native_stream() const override { return inner_->native_stream(); }
    int device_ordinal() const override { return inner_->device_ordinal(); }

    void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
               const float* B, int ldb, float beta, float* C, int ldc) override {
        Timed t(*this);
        inner_->sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
    void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                        int C, int OC) override {
        Timed t(*this);
        inner_->linear_forward(out, inp, weight, bias, N, C, OC);
    }
    void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                         const float* inp, const float* weight, int N, int C, int OC) override {
        Timed t(*this);
        inner_->linear_backward(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
    }
    void embedding_forward(float* out, const std::int32_t* tokens, const float* wte,
                           const float* wpe, int B, int T, int C) override {
        Timed t(*this);
        inner_->embedding_forward(out, tokens, wte, wpe, B, T, C);
    }
    void embedding_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens,
                            int B, int T, int C) override {
        Timed t(*this);
        inner_->embedding_backward(dwte, dwpe, dout, tokens, B, T, C);
    }
    void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                           const float* weight, const float* bias, int N, int C,
                           float eps) override {
        Timed t(*this);
        inner_->layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps);
    }
    void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                            const float* inp, const float* weight, const float* mean,
                            const float* rstd, int N, int C) override {
        Timed t(*this);
        inner_->layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    }
    void gelu_forward(float* out, const float* inp, std::size_t n) override {
        Timed t(*this);
        inner_->gelu_forward(out, inp, n);
    }
    void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) override {
        Timed t(*this);
        inner_->gelu_backward(dinp, inp, dout, n);
    }
    void relu_forward(float* out, const float* inp, std::size_t n) override {
        Timed t(*this);
        inner_->relu_forward(out, inp, n);
    }
    void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) override {
        Timed t(*this);
        inner_->relu_backward(dinp, inp, dout, n);
    }
    void softmax_forward(float* out, const float* inp, int N, int C) override {
        Timed t(*this);
        inner_->softmax_forward(out, inp, N, C);
    }
    void softmax_backward(float* dinp, const float* dout, const float* out, int N, int C) override {
        Timed t(*this);
        inner_->softmax_backward(dinp, dout, out, N, C);
    }
    void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C,
                           int NH) override {
        Timed t(*this);
        inner_->attention_forward(out, att, qkv, B, T, C, NH);
    }
    void attention_backward(float* dqkv, float* scratch, const float* dout, const float* qkv,
                            const float* att, int B, int T, int C, int NH) override {
        Timed t(*this);
        inner_->attention_backward(dqkv, scratch, dout, qkv, att, B, T, C, NH);
    }
    void crossentropy_forward(float* losses, float* probs, const float* logits,
                              const std::int32_t* targets, int N, int V) override {
        Timed t(*this);
        inner_->crossentropy_forward(losses, probs, logits, targets, N, V);
    }
    void crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets,
                               int N, int V, float dloss_scale) override {
        Timed t(*this);
        inner_->crossentropy_backward(dlogits, probs, targets, N, V, dloss_scale);
    }
    void fused_classifier(float* dlogits, float* losses, const float* logits,
                          const std::int32_t* targets, int N, int V, float dloss_scale) override {
        Timed t(*this);
        inner_->fused_classifier(dlogits, losses, logits, targets, N, V, dloss_scale);
    }
    void residual_forward(float* out, const float* a, const float* b, std::size_t n) override {
        Timed t(*this);
        inner_->residual_forward(out, a, b, n);
    }
    void add_inplace(float* dst, const float* src, std::size_t n) override {
        Timed t(*this);
        inner_->add_inplace(dst, src, n);
    }
    void bias_add(float* out, const float* bias, int N, int C) override {
        Timed t(*this);
        inner_->bias_add(out, bias, N, C);
    }
    void bias_backward(float* dbias, const float* dout, int N, int C) override {
        Timed t(*this);
        inner_->bias_backward(dbias, dout, N, C);
    }
    void fill(float* x, std::size_t n, float value) override { inner_->fill(x, n, value); }
    void copy(float* dst, const float* src, std::size_t n) override { inner_->copy(dst, src, n); }
    void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n,
                      const AdamWConfig& cfg, std::int64_t step, float grad_scale) override {
        Timed t(*this);
        inner_->adamw_update(param, grad, m, v, n, cfg, step, grad_scale);
    }
    double sum_squares(const float* x, std::size_t n) override {
        Timed t(*this);
        return inner_->sum_squares(x, n);
    }
    void scale(float* x, std::size_t n, float s) override {
        Timed t(*this);
        inner_->scale(x, n, s);
    }

private:
    static constexpr int kDim = 32;
    // Around one kernel: after it, (factor - 1) x its thread CPU time of extra matrix products.
    struct Timed {
        explicit Timed(SlowBackend& b) : be(b), start(thread_cpu_ns()) {}
        ~Timed() {
            be.burn(static_cast<std::int64_t>(
                std::llround(be.extra_ * static_cast<double>(thread_cpu_ns() - start))));
        }
        Timed(const Timed&) = delete;
        Timed& operator=(const Timed&) = delete;
        SlowBackend& be;
        std::int64_t start;
    };
    void burn(std::int64_t ns) {
        if (ns <= 0) return;
        const std::int64_t until = thread_cpu_ns() + ns;
        do {
            inner_->sgemm(kernels::Trans::No, kernels::Trans::No, kDim, kDim, kDim, 1.0f, a_.data(),
                          kDim, b_.data(), kDim, 0.0f, c_.data(), kDim);
        } while (thread_cpu_ns() < until);
    }

    std::unique_ptr<kernels::Backend> inner_;
    double extra_;
    std::vector<float> a_, b_, c_;  // (kDim, kDim) scratch of the extra work
};

}  // namespace

std::unique_ptr<kernels::Backend> make_slow_backend(std::unique_ptr<kernels::Backend> inner,
                                                    double factor) {
    if (!(factor >= 1.0) || !std::isfinite(factor))
        throw std::invalid_argument("training.slow_rank.factor=" + std::to_string(factor) +
                                    " must be >= 1");
    if (inner->kind() != kernels::BackendKind::Cpu)
        throw std::invalid_argument(
            "training.slow_rank slows a CPU rank's kernels; rank on " + inner->name() +
            " (a GPU kernel returns before it ran): use backend.device=\"cpu\"");
    return std::make_unique<SlowBackend>(std::move(inner), factor);
}

}  // namespace ss::models

// The Backend seam (DESIGN.md, "Backends"): models call kernels through this interface only, so the
// CPU backend (kernels/cpu_backend.h) and the CUDA backend (kernels/cuda/cuda_backend.h) are
// interchangeable. Every kernel has exactly the signature and semantics of the free function of the
// same name in kernels/cpu_kernels.h (read the conventions there: forward writes, backward
// accumulates, shapes in comments). All pointers passed to kernels are *device* pointers of this
// backend, i.e. memory from allocate(); for the CPU backend that is ordinary host memory.
//
// Kernels are asynchronous on devices that can be (CUDA: one stream per backend); the
// functions that return a host value (sum_squares) and the copy_to_host call synchronise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "kernels/types.h"

namespace ss::kernels {

enum class BackendKind : std::uint8_t { Cpu, Cuda };

class Backend {
public:
    virtual ~Backend() = default;
    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;

    virtual BackendKind kind() const = 0;
    virtual std::string name() const = 0;  // e.g. "cpu (OpenBLAS Cooperlake, 1 thread)", "cuda:0 (H100 ...)"

    // ---- memory ----
    // allocate: at least 64-byte aligned, uninitialised; bytes==0 returns nullptr. Throws
    // std::bad_alloc (CPU) or std::runtime_error (CUDA) on failure.
    virtual void* allocate(std::size_t bytes) = 0;
    virtual void deallocate(void* p) = 0;  // nullptr ok
    // copy_to_device returns once the host buffer may be reused; copy_to_host once the data is
    // on the host (both synchronise the backend's queue).
    virtual void copy_to_device(void* dst, const void* src_host, std::size_t bytes) = 0;
    virtual void copy_to_host(void* dst_host, const void* src, std::size_t bytes) = 0;  // syncs
    virtual void copy_on_device(void* dst, const void* src, std::size_t bytes) = 0;
    virtual void zero(void* p, std::size_t bytes) = 0;
    virtual void synchronize() = 0;  // wait for all queued work (CPU: no-op)

    // ---- host staging and device identity (the communication layer's needs) ----
    // Host memory the backend copies to and from at full speed: page-locked (cudaMallocHost) on
    // CUDA, ordinary aligned memory on the CPU. MPI moves device buffers through it when ranks
    // cannot use NCCL (models/staging_transport.h). bytes==0 returns nullptr.
    virtual void* allocate_host(std::size_t bytes) = 0;
    virtual void deallocate_host(void* p) = 0;  // nullptr ok
    // True when p is memory of this backend that the host cannot read directly (a CUDA device
    // pointer). Always false on the CPU backend, whose "device" memory is host memory.
    virtual bool is_device_pointer(const void* p) const = 0;
    // The queue the kernels run on: the cudaStream_t of the CUDA backend (as void*), nullptr on
    // the CPU. NCCL orders its communication stream against it with CUDA events.
    virtual void* native_stream() const { return nullptr; }
    // The CUDA device ordinal of the backend, -1 on the CPU.
    virtual int device_ordinal() const { return -1; }

    // ---- matrix products ----
    virtual void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A,
                       int lda, const float* B, int ldb, float beta, float* C, int ldc) = 0;
    virtual void linear_forward(float* out, const float* inp, const float* weight,
                                const float* bias, int N, int C, int OC) = 0;
    virtual void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                                 const float* inp, const float* weight, int N, int C, int OC) = 0;

    // ---- embedding ----
    virtual void embedding_forward(float* out, const std::int32_t* tokens, const float* wte,
                                   const float* wpe, int B, int T, int C) = 0;
    virtual void embedding_backward(float* dwte, float* dwpe, const float* dout,
                                    const std::int32_t* tokens, int B, int T, int C) = 0;

    // ---- layernorm ----
    virtual void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                                   const float* weight, const float* bias, int N, int C,
                                   float eps = 1e-5f) = 0;
    virtual void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                                    const float* inp, const float* weight, const float* mean,
                                    const float* rstd, int N, int C) = 0;

    // ---- activations ----
    virtual void gelu_forward(float* out, const float* inp, std::size_t n) = 0;
    virtual void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) = 0;
    virtual void relu_forward(float* out, const float* inp, std::size_t n) = 0;
    virtual void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) = 0;

    // ---- softmax ----
    virtual void softmax_forward(float* out, const float* inp, int N, int C) = 0;
    virtual void softmax_backward(float* dinp, const float* dout, const float* out, int N,
                                  int C) = 0;

    // ---- attention ----
    virtual void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C,
                                   int NH) = 0;
    virtual void attention_backward(float* dqkv, float* scratch, const float* dout,
                                    const float* qkv, const float* att, int B, int T, int C,
                                    int NH) = 0;

    // ---- loss ----
    virtual void crossentropy_forward(float* losses, float* probs, const float* logits,
                                      const std::int32_t* targets, int N, int V) = 0;
    virtual void crossentropy_backward(float* dlogits, const float* probs,
                                       const std::int32_t* targets, int N, int V,
                                       float dloss_scale) = 0;
    virtual void fused_classifier(float* dlogits, float* losses, const float* logits,
                                  const std::int32_t* targets, int N, int V, float dloss_scale) = 0;

    // ---- vector ops ----
    virtual void residual_forward(float* out, const float* a, const float* b, std::size_t n) = 0;
    virtual void add_inplace(float* dst, const float* src, std::size_t n) = 0;
    virtual void bias_add(float* out, const float* bias, int N, int C) = 0;
    virtual void bias_backward(float* dbias, const float* dout, int N, int C) = 0;
    virtual void fill(float* x, std::size_t n, float value) = 0;
    virtual void copy(float* dst, const float* src, std::size_t n) = 0;

    // ---- optimiser / clipping ----
    virtual void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n,
                              const AdamWConfig& cfg, std::int64_t step,
                              float grad_scale = 1.0f) = 0;
    virtual double sum_squares(const float* x, std::size_t n) = 0;  // returns to host (syncs)
    virtual void scale(float* x, std::size_t n, float s) = 0;
};

// The CPU backend (always available). Defined in kernels/cpu_backend.h.
std::unique_ptr<Backend> make_cpu_backend();

// Typed, move-only owner of backend memory: DeviceBuffer<float> buf(backend, n).
template <typename T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(Backend& backend, std::size_t count)
        : backend_(&backend),
          data_(static_cast<T*>(backend.allocate(count * sizeof(T)))),
          count_(count) {}
    ~DeviceBuffer() { reset(); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept
        : backend_(std::exchange(o.backend_, nullptr)),
          data_(std::exchange(o.data_, nullptr)),
          count_(std::exchange(o.count_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            reset();
            backend_ = std::exchange(o.backend_, nullptr);
            data_ = std::exchange(o.data_, nullptr);
            count_ = std::exchange(o.count_, 0);
        }
        return *this;
    }
    void reset() {
        if (backend_ && data_) backend_->deallocate(data_);
        data_ = nullptr;
        count_ = 0;
    }
    T* data() { return data_; }
    const T* data() const { return data_; }
    std::size_t size() const { return count_; }
    std::size_t bytes() const { return count_ * sizeof(T); }

private:
    Backend* backend_ = nullptr;
    T* data_ = nullptr;
    std::size_t count_ = 0;
};

}  // namespace ss::kernels

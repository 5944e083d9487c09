// CudaBackend: Backend on one CUDA device. Matrix products through cuBLAS (row-major operands
// mapped onto column-major cuBLAS by computing C^T = op(B)^T op(A)^T), attention as strided-
// batched cuBLAS products per batch row around causal softmax kernels, everything else in
// cuda_kernels.cu. All work is queued on one stream owned by the backend.
#include "kernels/cuda/cuda_backend.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "kernels/cuda/cuda_kernels.h"

namespace ss::kernels::cuda {

namespace {

std::string short_file(const char* file) {
    // Keep the path from the repository's top folder ("kernels/cuda/...") for readable messages.
    const std::string f(file);
    const auto pos = f.rfind("kernels/");
    return pos == std::string::npos ? f : f.substr(pos);
}

void check_cublas(cublasStatus_t st, const char* call, const char* file, int line) {
    if (st == CUBLAS_STATUS_SUCCESS) return;
    throw CudaError(call, file, line,
                    std::string(cublasGetStatusName(st)) + " (" + cublasGetStatusString(st) + ")");
}

}  // namespace

#define SS_CUBLAS_CHECK(call) check_cublas((call), #call, __FILE__, __LINE__)

CudaError::CudaError(const std::string& call, const char* file, int line, const std::string& detail)
    : std::runtime_error(call + " failed at " + short_file(file) + ":" + std::to_string(line) +
                         ": " + detail),
      call_(call),
      file_(short_file(file)),
      line_(line) {}

namespace detail {
void check_cuda(cudaError_t err, const char* call, const char* file, int line) {
    if (err == cudaSuccess) return;
    (void)cudaGetLastError();  // reset the (non-sticky) error state: later calls not blamed
    throw CudaError(call, file, line, cudaGetErrorString(err));
}
}  // namespace detail

int device_count(std::string* why) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        if (why) *why = cudaGetErrorString(err);
        (void)cudaGetLastError();
        return 0;
    }
    if (count == 0 && why) *why = cudaGetErrorString(cudaErrorNoDevice);
    return count;
}

bool device_available(std::string* why) {
    return device_count(why) > 0;
}

namespace {

inline cublasOperation_t op(Trans t) {
    return t == Trans::Yes ? CUBLAS_OP_T : CUBLAS_OP_N;
}

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(int device) : device_(device) {
        SS_CUDA_CHECK(cudaSetDevice(device_));
        cudaDeviceProp prop{};
        SS_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
        device_name_ = prop.name;
        SS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        try {
            SS_CUBLAS_CHECK(cublasCreate(&cublas_));
            SS_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
            // exact fp32 products (no TF32), so results are comparable with the CPU backend
            SS_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
            SS_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&reduce_),
                                     sizeof(double) * (launch::kSumBlocks + 1)));
        } catch (...) {
            release();
            throw;
        }
    }
    ~CudaBackend() override { release(); }

    BackendKind kind() const override { return BackendKind::Cuda; }
    std::string name() const override {
        return "cuda:" + std::to_string(device_) + " (" + device_name_ + ")";
    }

    // ---- memory ----
    void* allocate(std::size_t bytes) override {
        if (bytes == 0) return nullptr;
        void* p = nullptr;
        SS_CUDA_CHECK(cudaMalloc(&p, bytes));  // 256-byte aligned
        return p;
    }
    void deallocate(void* p) override {
        if (p != nullptr) SS_CUDA_CHECK(cudaFree(p));
    }
    void copy_to_device(void* dst, const void* src_host, std::size_t bytes) override {
        if (bytes == 0) return;
        SS_CUDA_CHECK(cudaMemcpyAsync(dst, src_host, bytes, cudaMemcpyHostToDevice, stream_));
        SS_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the host buffer may be reused at once
    }
    void copy_to_host(void* dst_host, const void* src, std::size_t bytes) override {
        if (bytes == 0) return;
        SS_CUDA_CHECK(cudaMemcpyAsync(dst_host, src, bytes, cudaMemcpyDeviceToHost, stream_));
        SS_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    void copy_on_device(void* dst, const void* src, std::size_t bytes) override {
        if (bytes == 0) return;
        SS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
    }
    void zero(void* p, std::size_t bytes) override {
        if (bytes == 0) return;
        SS_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream_));
    }
    void synchronize() override { SS_CUDA_CHECK(cudaStreamSynchronize(stream_)); }
    void* allocate_host(std::size_t bytes) override {
        if (bytes == 0) return nullptr;
        void* p = nullptr;
        SS_CUDA_CHECK(cudaMallocHost(&p, bytes));  // page-locked: full-speed, async copies
        return p;
    }
    void deallocate_host(void* p) override {
        if (p != nullptr) SS_CUDA_CHECK(cudaFreeHost(p));
    }
    bool is_device_pointer(const void* p) const override {
        if (p == nullptr) return false;
        cudaPointerAttributes attr{};
        SS_CUDA_CHECK(cudaPointerGetAttributes(&attr, p));
        return attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged;
    }
    void* native_stream() const override { return stream_; }
    int device_ordinal() const override { return device_; }

    // ---- matrix products ----
    void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
               const float* B, int ldb, float beta, float* C, int ldc) override {
        if (M <= 0 || N <= 0) return;
        // row-major C(M,N) = op(A) op(B)  <=>  column-major C^T(N,M) = op(B)^T op(A)^T
        SS_CUBLAS_CHECK(
            cublasSgemm(cublas_, op(tb), op(ta), N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc));
    }
    // Row-major strided batched product (batch i uses A + i*sA, B + i*sB, C + i*sC).
    void sgemm_batched(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A,
                       int lda, long long sA, const float* B, int ldb, long long sB, float beta,
                       float* C, int ldc, long long sC, int batch) {
        SS_CUBLAS_CHECK(cublasSgemmStridedBatched(cublas_, op(tb), op(ta), N, M, K, &alpha, B, ldb,
                                                  sB, A, lda, sA, &beta, C, ldc, sC, batch));
    }
    void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                        int C, int OC) override {
        float beta = 0.0f;
        if (bias != nullptr) {
            launch::fill_rows(out, bias, N, OC, stream_);
            beta = 1.0f;
        }
        sgemm(Trans::No, Trans::Yes, N, OC, C, 1.0f, inp, C, weight, C, beta, out, OC);
    }
    void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                         const float* inp, const float* weight, int N, int C, int OC) override {
        if (dinp != nullptr)
            sgemm(Trans::No, Trans::No, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C);
        if (dweight != nullptr)
            sgemm(Trans::Yes, Trans::No, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
        if (dbias != nullptr) launch::bias_backward(dbias, dout, N, OC, stream_);
    }

    // ---- embedding / layernorm / activations / softmax ----
    void embedding_forward(float* out, const std::int32_t* tokens, const float* wte,
                           const float* wpe, int B, int T, int C) override {
        launch::embedding_forward(out, tokens, wte, wpe, B, T, C, stream_);
    }
    void embedding_backward(float* dwte, float* dwpe, const float* dout, const std::int32_t* tokens,
                            int B, int T, int C) override {
        launch::embedding_backward(dwte, dwpe, dout, tokens, B, T, C, stream_);
    }
    void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                           const float* weight, const float* bias, int N, int C,
                           float eps = 1e-5f) override {
        launch::layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps, stream_);
    }
    void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                            const float* inp, const float* weight, const float* mean,
                            const float* rstd, int N, int C) override {
        launch::layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C,
                                   stream_);
    }
    void gelu_forward(float* out, const float* inp, std::size_t n) override {
        launch::gelu_forward(out, inp, n, stream_);
    }
    void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) override {
        launch::gelu_backward(dinp, inp, dout, n, stream_);
    }
    void relu_forward(float* out, const float* inp, std::size_t n) override {
        launch::relu_forward(out, inp, n, stream_);
    }
    void relu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) override {
        launch::relu_backward(dinp, inp, dout, n, stream_);
    }
    void softmax_forward(float* out, const float* inp, int N, int C) override {
        launch::softmax_forward(out, inp, N, C, stream_);
    }
    void softmax_backward(float* dinp, const float* dout, const float* out, int N, int C) override {
        launch::softmax_backward(dinp, dout, out, N, C, stream_);
    }

    // ---- attention: per batch row b, one strided-batched product over the NH heads ----
    void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C,
                           int NH) override {
        check_heads("attention_forward", C, NH);
        const int hs = C / NH, C3 = 3 * C;
        const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
        const long long TT = static_cast<long long>(T) * T;
        for (int b = 0; b < B; ++b) {
            const float* Q = qkv + std::size_t(b) * T * C3;  // head h at + h*hs, ld 3C
            const float* K = Q + C;
            const float* V = Q + 2 * C;
            float* A = att + std::size_t(b) * NH * TT;  // (NH, T, T)
            // preatt(T,T) = scale * Q K^T
            sgemm_batched(Trans::No, Trans::Yes, T, T, hs, scale, Q, C3, hs, K, C3, hs, 0.0f, A, T,
                          TT, NH);
            launch::causal_softmax(A, NH * T, T, stream_);
            // out(T,hs) = att V, head h at out + h*hs, ld C
            sgemm_batched(Trans::No, Trans::No, T, hs, T, 1.0f, A, T, TT, V, C3, hs, 0.0f,
                          out + std::size_t(b) * T * C, C, hs, NH);
        }
    }
    void attention_backward(float* dqkv, float* scratch, const float* dout, const float* qkv,
                            const float* att, int B, int T, int C, int NH) override {
        check_heads("attention_backward", C, NH);
        const int hs = C / NH, C3 = 3 * C;
        const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
        const long long TT = static_cast<long long>(T) * T;
        for (int b = 0; b < B; ++b) {
            const std::size_t o3 = std::size_t(b) * T * C3;
            const float *Q = qkv + o3, *K = Q + C, *V = Q + 2 * C;
            float *dQ = dqkv + o3, *dK = dQ + C, *dV = dQ + 2 * C;
            const float* A = att + std::size_t(b) * NH * TT;
            float* dA = scratch + std::size_t(b) * NH * TT;
            const float* dO = dout + std::size_t(b) * T * C;
            // dV += att^T dout ; datt = dout V^T
            sgemm_batched(Trans::Yes, Trans::No, T, hs, T, 1.0f, A, T, TT, dO, C, hs, 1.0f, dV, C3,
                          hs, NH);
            sgemm_batched(Trans::No, Trans::Yes, T, T, hs, 1.0f, dO, C, hs, V, C3, hs, 0.0f, dA, T,
                          TT, NH);
            launch::causal_softmax_backward(dA, A, NH * T, T, scale, stream_);
            // dQ += dpreatt K ; dK += dpreatt^T Q
            sgemm_batched(Trans::No, Trans::No, T, hs, T, 1.0f, dA, T, TT, K, C3, hs, 1.0f, dQ, C3,
                          hs, NH);
            sgemm_batched(Trans::Yes, Trans::No, T, hs, T, 1.0f, dA, T, TT, Q, C3, hs, 1.0f, dK, C3,
                          hs, NH);
        }
    }

    // ---- loss ----
    void crossentropy_forward(float* losses, float* probs, const float* logits,
                              const std::int32_t* targets, int N, int V) override {
        launch::crossentropy_forward(losses, probs, logits, targets, N, V, stream_);
    }
    void crossentropy_backward(float* dlogits, const float* probs, const std::int32_t* targets,
                               int N, int V, float dloss_scale) override {
        launch::crossentropy_backward(dlogits, probs, targets, N, V, dloss_scale, stream_);
    }
    void fused_classifier(float* dlogits, float* losses, const float* logits,
                          const std::int32_t* targets, int N, int V, float dloss_scale) override {
        launch::fused_classifier(dlogits, losses, logits, targets, N, V, dloss_scale, stream_);
    }

    // ---- vector ops ----
    void residual_forward(float* out, const float* a, const float* b, std::size_t n) override {
        launch::residual_forward(out, a, b, n, stream_);
    }
    void add_inplace(float* dst, const float* src, std::size_t n) override {
        launch::add_inplace(dst, src, n, stream_);
    }
    void bias_add(float* out, const float* bias, int N, int C) override {
        launch::bias_add(out, bias, N, C, stream_);
    }
    void bias_backward(float* dbias, const float* dout, int N, int C) override {
        launch::bias_backward(dbias, dout, N, C, stream_);
    }
    void fill(float* x, std::size_t n, float value) override { launch::fill(x, n, value, stream_); }
    void copy(float* dst, const float* src, std::size_t n) override {
        copy_on_device(dst, src, n * sizeof(float));
    }

    // ---- optimiser ----
    void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n,
                      const AdamWConfig& cfg, std::int64_t step, float grad_scale = 1.0f) override {
        if (step < 1) {
            throw std::invalid_argument("adamw_update: step must be >= 1 (bias correction), got " +
                                        std::to_string(step));
        }
        const double t = static_cast<double>(step);
        const float inv_bc1 = static_cast<float>(1.0 / (1.0 - std::pow(double(cfg.beta1), t)));
        const float inv_bc2 = static_cast<float>(1.0 / (1.0 - std::pow(double(cfg.beta2), t)));
        launch::adamw_update(param, grad, m, v, n, cfg, inv_bc1, inv_bc2, grad_scale, stream_);
    }
    double sum_squares(const float* x, std::size_t n) override {
        if (n == 0) return 0.0;
        launch::sum_squares(reduce_ + launch::kSumBlocks, reduce_, x, n, stream_);
        double result = 0.0;
        copy_to_host(&result, reduce_ + launch::kSumBlocks, sizeof(double));
        return result;
    }
    void scale(float* x, std::size_t n, float s) override { launch::scale(x, n, s, stream_); }

private:
    static void check_heads(const char* kernel, int C, int NH) {
        if (NH <= 0 || C % NH != 0) {
            throw std::invalid_argument(
                std::string(kernel) + ": C = " + std::to_string(C) +
                " must be a positive multiple of NH = " + std::to_string(NH));
        }
    }
    void release() noexcept {
        // Destructor path: errors cannot be thrown; the handles are released best-effort.
        if (reduce_ != nullptr) (void)cudaFree(reduce_);
        if (cublas_ != nullptr) (void)cublasDestroy(cublas_);
        if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
        reduce_ = nullptr;
        cublas_ = nullptr;
        stream_ = nullptr;
    }

    int device_;
    std::string device_name_;
    cudaStream_t stream_ = nullptr;
    cublasHandle_t cublas_ = nullptr;
    double* reduce_ = nullptr;  // (kSumBlocks + 1) doubles: partial sums, then the total
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device) {
    std::string why;
    if (!device_available(&why)) {
        throw CudaError("cudaGetDeviceCount(&count)", __FILE__, __LINE__, why);
    }
    return std::make_unique<CudaBackend>(device);
}

}  // namespace ss::kernels::cuda

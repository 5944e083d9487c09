// Matrix products through OpenBLAS (cblas_sgemm) and the BLAS thread configuration.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include <cblas.h>

#include "kernels/cpu_kernels.h"

namespace ss::kernels {
namespace {

std::atomic<bool> g_threads_configured{false};
std::atomic<int> g_threads{1};
std::mutex g_threads_mutex;

int default_threads() {
    if (const char* env = std::getenv("SCALESCOPE_BLAS_THREADS")) {
        char* end = nullptr;
        const long v = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && v >= 1 && v <= 4096) return static_cast<int>(v);
    }
    return 1;  // one thread per rank: MPI ranks must not oversubscribe the cores
}

void apply_threads(int threads) {
    openblas_set_num_threads(threads);
    g_threads.store(threads, std::memory_order_relaxed);
    g_threads_configured.store(true, std::memory_order_release);
}

// Called on every BLAS entry: one relaxed-acquire load on the fast path.
inline void ensure_threads_configured() {
    if (g_threads_configured.load(std::memory_order_acquire)) return;
    std::lock_guard lock(g_threads_mutex);
    if (!g_threads_configured.load(std::memory_order_relaxed)) apply_threads(default_threads());
}

inline CBLAS_TRANSPOSE to_cblas(Trans t) {
    return t == Trans::Yes ? CblasTrans : CblasNoTrans;
}

}  // namespace

void set_blas_threads(int threads) {
    if (threads < 1)
        throw std::invalid_argument("set_blas_threads: threads must be >= 1, got " +
                                    std::to_string(threads));
    std::lock_guard lock(g_threads_mutex);
    apply_threads(threads);
}

int blas_threads() {
    ensure_threads_configured();
    return g_threads.load(std::memory_order_relaxed);
}

void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {  // empty product: C = beta * C (BLAS would reject lda < 1)
        for (int i = 0; i < M; ++i) {
            float* c = C + static_cast<std::size_t>(i) * ldc;
            if (beta == 0.0f) {
                std::memset(c, 0, sizeof(float) * static_cast<std::size_t>(N));
            } else {
                for (int j = 0; j < N; ++j) c[j] *= beta;
            }
        }
        return;
    }
    ensure_threads_configured();
    cblas_sgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), M, N, K, alpha, A, lda, B, ldb, beta, C,
                ldc);
}

void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                    int C, int OC) {
    // out(N,OC) = inp(N,C) @ weight(OC,C)^T (+ bias broadcast over rows, pre-filled so the sgemm
    // accumulates onto it: one pass over out instead of two).
    float beta = 0.0f;
    if (bias != nullptr) {
        for (int i = 0; i < N; ++i) {
            std::memcpy(out + static_cast<std::size_t>(i) * OC, bias,
                        sizeof(float) * static_cast<std::size_t>(OC));
        }
        beta = 1.0f;
    }
    sgemm(Trans::No, Trans::Yes, N, OC, C, 1.0f, inp, C, weight, C, beta, out, OC);
}

void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int N, int C, int OC) {
    if (dinp != nullptr) {  // dinp(N,C) += dout(N,OC) @ weight(OC,C)
        sgemm(Trans::No, Trans::No, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C);
    }
    if (dweight != nullptr) {  // dweight(OC,C) += dout(N,OC)^T @ inp(N,C)
        sgemm(Trans::Yes, Trans::No, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
    }
    if (dbias != nullptr) bias_backward(dbias, dout, N, OC);
}

}  // namespace ss::kernels

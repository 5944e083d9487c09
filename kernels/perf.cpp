// sgemm rates: the sustained rate at given shapes, and the large-square peak of MFU (DESIGN.md, "Formulas").
#include "kernels/perf.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cpu_kernels.h"

namespace ss::kernels {

double measure_sgemm_flops(int m, int n, int k, double seconds) {
    if (m <= 0 || n <= 0 || k <= 0) {
        throw std::invalid_argument("measure_sgemm_flops: sizes must be positive, got " +
                                    std::to_string(m) + "x" + std::to_string(n) + "x" +
                                    std::to_string(k));
    }
    const auto sz = [](int r, int c) { return static_cast<std::size_t>(r) * c; };
    std::vector<float> A(sz(m, k)), B(sz(k, n)), C(sz(m, n));  // (m,k) (k,n) (m,n)
    // Deterministic values in [-1, 1): avoid denormals and overflow across repeats (beta = 0).
    for (std::size_t i = 0; i < A.size(); ++i)
        A[i] = static_cast<float>((i * 37 % 101)) / 50.5f - 1.0f;
    for (std::size_t i = 0; i < B.size(); ++i)
        B[i] = static_cast<float>((i * 53 % 97)) / 48.5f - 1.0f;

    sgemm(Trans::No, Trans::No, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, C.data(), n);
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    long calls = 0;
    double elapsed = 0.0;
    do {
        sgemm(Trans::No, Trans::No, m, n, k, 1.0f, A.data(), k, B.data(), n, 0.0f, C.data(), n);
        ++calls;
        elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (calls < 3 || elapsed < seconds);
    return 2.0 * m * n * static_cast<double>(k) * static_cast<double>(calls) / elapsed;
}

double measure_peak_sgemm_flops(int n, double seconds) {
    if (n <= 0) throw std::invalid_argument("measure_peak_sgemm_flops: n must be positive, got " + std::to_string(n));
    const std::size_t nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    std::vector<float> A(nn), B(nn), C(nn);  // (n, n) each
    for (std::size_t i = 0; i < nn; ++i) {
        A[i] = static_cast<float>((i * 37 % 101)) / 50.5f - 1.0f;
        B[i] = static_cast<float>((i * 53 % 97)) / 48.5f - 1.0f;
    }
    auto product = [&] {
        sgemm(Trans::No, Trans::No, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n);
    };
    product();  // warm-up: pages touched, BLAS buffers allocated
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    double best_s = 0;
    long calls = 0;
    for (;;) {
        const auto t0 = clock::now();
        product();
        const auto t1 = clock::now();
        const double s = std::chrono::duration<double>(t1 - t0).count();
        if (calls == 0 || s < best_s) best_s = s;
        ++calls;
        if (calls >= 3 && std::chrono::duration<double>(t1 - start).count() >= seconds) break;
    }
    return 2.0 * n * static_cast<double>(n) * n / best_s;
}

double measure_backend_sgemm_flops(Backend& be, int n, double seconds, int batch) {
    if (n <= 0 || batch <= 0)
        throw std::invalid_argument("measure_backend_sgemm_flops: n and batch must be positive, got n=" +
                                    std::to_string(n) + ", batch=" + std::to_string(batch));
    const std::size_t nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    DeviceBuffer<float> a(be, nn), b(be, nn), c(be, nn);  // (n, n) each
    be.fill(a.data(), nn, 0.5f);
    be.fill(b.data(), nn, 0.25f);
    auto product = [&] {
        be.sgemm(Trans::No, Trans::No, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    };
    product();  // warm-up: the library picks its kernel, the clocks come up
    be.synchronize();
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    long calls = 0;
    double elapsed = 0.0;
    do {
        for (int i = 0; i < batch; ++i) product();
        be.synchronize();
        calls += batch;
        elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (calls < 3 || elapsed < seconds);
    return 2.0 * n * static_cast<double>(n) * n * static_cast<double>(calls) / elapsed;
}

}  // namespace ss::kernels

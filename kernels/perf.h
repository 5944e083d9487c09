// Peak-rate measurement used as the MFU denominator (DESIGN.md, "Formulas": MFU = achieved model
// FLOP/s / peak FLOP/s, where "peak" is the best rate of a large square sgemm: OpenBLAS with the
// CPU's best kernel on a CPU, cuBLAS fp32 on a GPU).
#pragma once

namespace ss::kernels {

class Backend;

// The square size of the peak sgemm (measure_peak_sgemm_flops, `calibrate`'s compute.peak_flops).
inline constexpr int kPeakSgemmN = 2048;

// The MFU numerator (model FLOPs per token) is models/plan/flops.h.

// Measures the sustained single-precision GEMM rate in FLOP/s (not GFLOP/s) of
// C(m,n) = A(m,k) @ B(k,n) through kernels::sgemm, at the current set_blas_threads() setting.
// One untimed warm-up call, then repeats for at least `seconds` of wall time (and at least 3
// calls) and returns 2*m*n*k*calls / elapsed. Allocates its own operands (filled with
// deterministic values). Throws std::invalid_argument for non-positive sizes.
double measure_sgemm_flops(int m, int n, int k, double seconds = 0.5);

// The machine's matrix peak, the MFU denominator on a CPU: the best single-call rate of a large
// square sgemm C(n,n) = A(n,n)·B(n,n) through kernels::sgemm (the kernel OpenBLAS runs, see
// kernels/blas_core.h) at the current set_blas_threads() setting. One untimed warm-up call, then
// calls until `seconds` have passed (at least 3); the fastest call's 2n³/t, so a call slowed by
// another process on the core does not lower it. n = 2048: 17 GFLOP a call, 0.17 s at 100 GFLOP/s.
// Throws std::invalid_argument for n <= 0.
double measure_peak_sgemm_flops(int n = kPeakSgemmN, double seconds = 1.0);

// The fp32 matrix rate of a backend's device in FLOP/s: square C(n,n) = A(n,n)·B(n,n) through
// Backend::sgemm (cuBLAS without TF32 on a GPU), synchronised: one untimed warm-up product, then
// batches of `batch` products until at least `seconds` (and 3 products) have passed. The GPU
// worker's MFU peak (metric matrix_flop_per_s) and calibrate --device cuda both use it.
double measure_backend_sgemm_flops(Backend& be, int n = 4096, double seconds = 0.3, int batch = 8);

}  // namespace ss::kernels

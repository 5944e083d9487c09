// Peak-rate measurement used as the MFU denominator on CPUs (DESIGN.md, "Formulas": MFU = achieved
// model FLOP/s / peak FLOP/s, where "peak" on a CPU is the measured OpenBLAS sgemm rate).
#pragma once

namespace ss::kernels {

class Backend;

// The MFU numerator (model FLOPs per token) is models/plan/flops.h.

// Measures the sustained single-precision GEMM rate in FLOP/s (not GFLOP/s) of
// C(m,n) = A(m,k) @ B(k,n) through kernels::sgemm, at the current set_blas_threads() setting.
// One untimed warm-up call, then repeats for at least `seconds` of wall time (and at least 3
// calls) and returns 2*m*n*k*calls / elapsed. Allocates its own operands (filled with
// deterministic values). Throws std::invalid_argument for non-positive sizes.
double measure_sgemm_flops(int m, int n, int k, double seconds = 0.5);

// The rate a GPT benchmark should compare against: the best of measure_sgemm_flops over the
// matrix shapes of a transformer layer with batch*seq rows `rows` and width `channels`
// ((rows,C)x(C,3C), (rows,C)x(C,4C), (rows,4C)x(4C,C)), each measured for `seconds_each`.
double measure_peak_sgemm_flops(int rows, int channels, double seconds_each = 0.3);

// The fp32 matrix rate of a backend's device in FLOP/s: square C(n,n) = A(n,n)·B(n,n) through
// Backend::sgemm (cuBLAS without TF32 on a GPU), synchronised: one untimed warm-up product, then
// batches of `batch` products until at least `seconds` (and 3 products) have passed. The GPU
// worker's MFU peak (metric matrix_flop_per_s) and calibrate --device cuda both use it.
double measure_backend_sgemm_flops(Backend& be, int n = 4096, double seconds = 0.3, int batch = 8);

}  // namespace ss::kernels

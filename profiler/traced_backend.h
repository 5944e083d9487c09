// A Backend decorator that records every kernel call as a span on the compute lane (with its
// FLOPs where they are known) and every copy as a memcpy span, then forwards to the real backend.
// Models keep calling the Backend interface; tracing needs no change in them.
//
// For the CUDA backend these spans are the host-side launches; the device-side times come from
// CUPTI (profiler/cupti_collector.h).
#pragma once

#include <memory>

#include "kernels/backend.h"

namespace ss::profiler {

std::unique_ptr<kernels::Backend> make_traced_backend(std::unique_ptr<kernels::Backend> inner);

// FLOPs counted for the matrix-product kernels (multiply-add = 2 FLOPs):
double sgemm_flops(int M, int N, int K);                       // 2·M·N·K
double linear_forward_flops(int N, int C, int OC);             // 2·N·C·OC
double linear_backward_flops(int N, int C, int OC);            // 4·N·C·OC (dinp and dweight)
// Causal attention computes T(T+1)/2 query-key pairs per head: QKᵀ and PV each take
// 2·hs·T(T+1)/2 FLOPs per head, so 2·B·C·T(T+1) in all; backward twice that.
double attention_forward_flops(int B, int T, int C);
double attention_backward_flops(int B, int T, int C);

}  // namespace ss::profiler

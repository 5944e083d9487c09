// The names ScaleScope gives CUDA activity, whichever source recorded it: our CUPTI collector
// (profiler/cupti_convert.cpp) and Nsight Systems exports (traces/import/nsys.cpp) both carry
// CUPTI's enum values; Kineto JSON (traces/import/kineto.cpp) names NCCL kernels the same way.
// No CUDA headers: the values are CUPTI's, checked against cupti_activity.h where it is built.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ss::traces {

// "memcpy HtoD", "memcpy DtoH", ... for CUPTI_ActivityMemcpyKind values 1..10, and
// "memcpy HtoD (UVM)" .. "memcpy DtoD (UVM)" for Nsight's unified-memory kinds 11..13; "memcpy"
// for any other.
const char* memcpy_kind_name(std::int64_t copy_kind);

// "cudaEventSynchronize", "cudaStreamWaitEvent", "cudaStreamSynchronize", "cudaDeviceSynchronize"
// for CUPTI_ActivitySynchronizationType values 1..4; "synchronize" for any other.
const char* sync_type_name(std::int64_t sync_type);

// The operation of an NCCL kernel: "ncclKernel_AllReduce_RING_LL_Sum_float(...)" -> "AllReduce",
// "ncclDevKernel_SendRecv(...)" -> "SendRecv" (the text up to the next '_' or '('); nullopt when
// the name is not an NCCL kernel's.
std::optional<std::string_view> nccl_kernel_op(std::string_view name);

}  // namespace ss::traces

// CUPTI activity records -> profiler spans. Pure functions over the record structs, so every line
// but the CUPTI calls themselves is tested without a device (tests/profiler/tst_profiler_cupti.cpp
// builds synthetic records from the real CUDA headers).
#pragma once

#include <cuda.h>
#include <cupti.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "profiler/profiler.h"

namespace ss::profiler::cupti {

// Record struct versions change across CUDA releases (cupti_activity.h names the struct of each
// kind). These are CUDA 13's.
#if CUDA_VERSION >= 13000
using KernelRecord = CUpti_ActivityKernel10;   // CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL
using MemcpyRecord = CUpti_ActivityMemcpy6;    // CUPTI_ACTIVITY_KIND_MEMCPY
using MemsetRecord = CUpti_ActivityMemset4;    // CUPTI_ACTIVITY_KIND_MEMSET
using SyncRecord = CUpti_ActivitySynchronization2;  // CUPTI_ACTIVITY_KIND_SYNCHRONIZATION
using ApiRecord = CUpti_ActivityAPI;           // CUPTI_ACTIVITY_KIND_RUNTIME
#else
#error "ScaleScope's CUPTI collector maps the activity record versions of CUDA 13; map this CUDA's in profiler/cupti_convert.h"
#endif

// Lane of the CUDA runtime API calls of a rank (device work goes to kCudaStreamBase + stream).
inline constexpr std::int32_t kCudaApiLane = traces::lanes::kCudaApi;

// GPU (CUPTI) timestamps -> host CLOCK_MONOTONIC ns, linear through two pairs sampled at the same
// moment on both clocks (cuptiGetTimestamp, now_ns) at the start and at a later flush.
struct ClockMap {
    std::int64_t gpu_ref = 0, host_ref = 0;
    double rate = 1.0;  // host ns per GPU ns
    static ClockMap from_pairs(std::uint64_t gpu0, std::int64_t host0, std::uint64_t gpu1,
                               std::int64_t host1);
    std::int64_t to_host(std::uint64_t gpu_ns) const;
};

// Turns a run-time name into storage that outlives the span (Profiler::persistent_name).
using NameStore = std::function<const char*(const char*)>;
// Name of a runtime API callback id (cuptiGetCallbackName in the collector).
using ApiName = std::function<const char*(std::uint32_t cbid)>;

struct Converted {
    std::optional<SpanRecord> span;  // empty for a record kind that is not handled
    bool nccl = false;               // a kernel whose name starts with "nccl"
};

// One activity record -> a span on the host clock. Kernels: kind Kernel (Comm for nccl* kernels,
// whose collective and bytes come from the Comm call, see attach_nccl()), lane = stream. Memcpy /
// memset: bytes. Synchronisation: kind Sync. Runtime API: kind HostRange on kCudaApiLane.
// Correlation ids are kept, so runtime calls and their device work stay linked.
Converted convert(const CUpti_Activity* record, const ClockMap& clock, const NameStore& names,
                  const ApiName& api_name);

// Gives each NCCL kernel the collective, bytes, group and sequence of the Comm call that launched
// it: the runtime API call with the kernel's correlation id lies inside that Comm span on the host.
// Kernels whose launch is not inside a Comm span keep kind Comm without a collective.
void attach_nccl(std::vector<SpanRecord>& nccl_kernels, const std::vector<SpanRecord>& api_calls,
                 const std::vector<SpanRecord>& comm_spans);

}  // namespace ss::profiler::cupti

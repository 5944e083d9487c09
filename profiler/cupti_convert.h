// CUPTI activity records -> profiler spans. Pure functions over the record structs, so every line
// but the CUPTI calls themselves is tested without a device (tests/profiler/tst_profiler_cupti.cpp
// builds synthetic records from the real CUDA headers).
#pragma once

#include <cuda.h>
#include <cupti.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_map>
#include <vector>

#include "profiler/profiler.h"

namespace ss::profiler::cupti {

// Record struct versions change across CUDA releases (cupti_activity.h names the struct of each
// kind). These are CUDA 13's.
#if CUDA_VERSION >= 13000
using KernelRecord = CUpti_ActivityKernel10;   // CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL (and KERNEL)
using MemcpyRecord = CUpti_ActivityMemcpy6;    // CUPTI_ACTIVITY_KIND_MEMCPY
using MemsetRecord = CUpti_ActivityMemset4;    // CUPTI_ACTIVITY_KIND_MEMSET
using SyncRecord = CUpti_ActivitySynchronization2;  // CUPTI_ACTIVITY_KIND_SYNCHRONIZATION
using ApiRecord = CUpti_ActivityAPI;           // CUPTI_ACTIVITY_KIND_RUNTIME and _DRIVER
#else
#error "ScaleScope's CUPTI collector maps the activity record versions of CUDA 13; map this CUDA's in profiler/cupti_convert.h"
#endif

// Lane of the CUDA runtime and driver API calls of a rank (device work goes to kCudaStreamBase +
// stream).
inline constexpr std::int32_t kCudaApiLane = traces::lanes::kCudaApi;
// The names a GPU rank gives its CUDA lanes: "cuda api", "stream <s>"; empty for other lanes.
std::string cuda_lane_name(std::int32_t lane);

// CUPTI timestamps -> host CLOCK_MONOTONIC ns (now_ns), linear through two pairs sampled at the
// same moment on both clocks (cuptiGetTimestamp, now_ns) at the start and at a later flush. The
// identity when CUPTI takes its timestamps from now_ns (the collector's timestamp callback).
struct ClockMap {
    std::int64_t gpu_ref = 0, host_ref = 0;
    double rate = 1.0;  // host ns per CUPTI ns
    static ClockMap from_pairs(std::uint64_t gpu0, std::int64_t host0, std::uint64_t gpu1,
                               std::int64_t host1);
    std::int64_t to_host(std::uint64_t gpu_ns) const;
};

// Turns a run-time name into storage that outlives the span (Profiler::persistent_name). CUPTI
// gives kernel names mangled ("_Z39ncclDevKernel_..."); the store keeps them readable (demangle).
using NameStore = std::function<const char*(const char*)>;

// A C++ symbol ("_Z...") demangled; any other name (extern "C" kernels, API names) as it is.
std::string demangle(const char* name);
// The function's own name in a (demangled) kernel name: no namespace, return type, template or
// parameter list ("void ns::oneRankReduce<Op<float> >(void*)" -> "oneRankReduce").
std::string_view kernel_base_name(std::string_view name);
// NCCL's kernels: ncclDevKernel_*, ncclKernel_*, ncclSymk* (any "nccl..." function), and
// oneRankReduce, which a one-rank communicator launches for a scaled (ncclAvg) reduction.
bool is_nccl_kernel(std::string_view name);
// Name of a runtime or driver API callback id (cuptiGetCallbackName in the collector).
using ApiName = std::function<const char*(CUpti_CallbackDomain domain, std::uint32_t cbid)>;

// What a record was, for the per-kind counts (traces/stats_keys.h, cupti_records_*).
enum class RecordKind { Kernel, NcclKernel, Memcpy, Memset, Sync, Runtime, Driver, Unknown };

struct Converted {
    RecordKind kind = RecordKind::Unknown;
    std::optional<SpanRecord> span;  // empty for an unknown kind or a record without usable times
    bool nccl() const { return kind == RecordKind::NcclKernel; }
    bool api() const { return kind == RecordKind::Runtime || kind == RecordKind::Driver; }
    bool untimed() const { return kind != RecordKind::Unknown && !span; }
};

// One activity record -> a span on the host clock. Kernels: kind Kernel (Comm for nccl* kernels,
// whose collective and bytes come from the Comm call, see NcclAttacher), lane = stream. Memcpy /
// memset: bytes. Synchronisation: kind Sync. Runtime and driver API calls: kind HostRange on
// kCudaApiLane, named by api_name. Correlation ids are kept, so API calls and their device work
// stay linked. A record whose timestamps are zero or reversed (CUPTI could not time it) gives no
// span (Converted::untimed()).
Converted convert(const CUpti_Activity* record, const ClockMap& clock, const NameStore& names,
                  const ApiName& api_name);

// Records per kind, cumulative (traces/stats_keys.h: cupti_records_*, cupti_nccl_*).
struct RecordCounts {
    std::int64_t kernel = 0, nccl = 0, memcpy = 0, memset = 0, sync = 0, runtime = 0, driver = 0;
    std::int64_t unknown = 0, untimed = 0, dropped = 0;
    std::int64_t nccl_attached = 0, nccl_unattached = 0;
    void add(const Converted& c);  // one converted record: its kind, or unknown / untimed
};
// The stats keys whose count grew from `before` to `now`, with the growth (Profiler::count).
std::vector<std::pair<std::string_view, std::int64_t>> count_deltas(const RecordCounts& now,
                                                                   const RecordCounts& before);

// Gives each NCCL kernel the collective, bytes, group, peer, sequence, step and micro-batch of the
// Comm call that launched it: the API call (runtime or driver: NCCL launches with
// cuLaunchKernelEx) with the kernel's correlation id started inside that Comm span on the host.
// Kernels whose launch is unknown or inside no Comm span keep kind Comm without a collective.
// Returns how many were attached.
std::size_t attach_nccl(std::vector<SpanRecord>& nccl_kernels, const std::vector<SpanRecord>& api_calls,
                        const std::vector<SpanRecord>& comm_spans);

// attach_nccl across flushes. CUPTI delivers a buffer only when all of its records are complete
// (cuptiActivityFlushAll(0)), so a kernel can arrive one or more flushes after its launch record
// and after the Comm call was handed over. The attacher keeps the launches and Comm spans of the
// last kWindow flushes, and holds a kernel it cannot attach yet for up to kWindow flushes before
// giving it up (unattached).
class NcclAttacher {
public:
    static constexpr int kWindow = 4;

    // One flush: the NCCL kernels, API calls and Comm spans delivered since the previous one.
    // Returns the kernels to record now: attached ones, and those given up (all when `final`).
    std::vector<SpanRecord> add(std::vector<SpanRecord> nccl_kernels, const std::vector<SpanRecord>& api_calls,
                                std::vector<SpanRecord> comm_spans, bool final);
    std::int64_t attached() const { return attached_; }
    std::int64_t unattached() const { return unattached_; }
    std::size_t waiting() const { return waiting_.size(); }

private:
    struct Waiting {
        SpanRecord kernel;
        int flushes = 0;  // flushes it has waited
    };
    std::deque<std::unordered_map<std::int64_t, std::int64_t>> launches_;  // per flush: correlation -> start
    std::deque<std::vector<SpanRecord>> comms_;                             // per flush
    std::vector<Waiting> waiting_;
    std::int64_t attached_ = 0, unattached_ = 0;
};

}  // namespace ss::profiler::cupti

#include "profiler/cupti_collector.h"

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <stdexcept>

#include "traces/stats_keys.h"

namespace ss::profiler::cupti {

namespace {
void check_cupti(CUptiResult rc, const char* call, const char* file, int line) {
    if (rc == CUPTI_SUCCESS) return;
    const char* msg = nullptr;
    cuptiGetResultString(rc, &msg);
    throw std::runtime_error(std::string("CUPTI call `") + call + "` failed at " + file + ":" +
                             std::to_string(line) + ": " + (msg ? msg : "unknown error"));
}
#define SS_CUPTI_CHECK(call) check_cupti((call), #call, __FILE__, __LINE__)

constexpr size_t kBufferBytes = 8 << 20;
constexpr size_t kAlign = 8;
}  // namespace

Collector* Collector::instance_ = nullptr;

Collector::Collector(Profiler& profiler) : profiler_(profiler) {}

Collector::~Collector() {
    if (!active_) return;
    cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    for (CUpti_ActivityKind k : {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,
                                 CUPTI_ACTIVITY_KIND_MEMSET, CUPTI_ACTIVITY_KIND_SYNCHRONIZATION,
                                 CUPTI_ACTIVITY_KIND_RUNTIME})
        cuptiActivityDisable(k);
    instance_ = nullptr;
}

bool Collector::start() {
    int devices = 0;
    cudaError_t err = cudaGetDeviceCount(&devices);
    if (err != cudaSuccess || devices == 0) {
        status_ = std::string("no CUDA device: ") +
                  (err != cudaSuccess ? cudaGetErrorString(err) : "cudaGetDeviceCount returned 0");
        return false;
    }
    if (instance_ != nullptr) throw std::runtime_error("a CUPTI collector is already active in this process");
    instance_ = this;
    SS_CUPTI_CHECK(cuptiActivityRegisterCallbacks(&Collector::buffer_requested, &Collector::buffer_completed));
    // Concurrent kernels, not CUPTI_ACTIVITY_KIND_KERNEL, which serialises kernel execution.
    SS_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL));
    SS_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY));
    SS_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMSET));
    SS_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_SYNCHRONIZATION));
    SS_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME));
    SS_CUPTI_CHECK(cuptiGetTimestamp(&gpu_start_));
    host_start_ = now_ns();
    clock_ = ClockMap::from_pairs(gpu_start_, host_start_, gpu_start_, host_start_);
    active_ = true;
    status_ = "collecting on " + std::to_string(devices) + " device(s)";
    return true;
}

void CUPTIAPI Collector::buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
    *buffer = static_cast<uint8_t*>(std::aligned_alloc(kAlign, kBufferBytes));
    *size = *buffer ? kBufferBytes : 0;
    *max_records = 0;  // as many as fit
}

void CUPTIAPI Collector::buffer_completed(CUcontext ctx, uint32_t stream, uint8_t* buffer,
                                          size_t /*size*/, size_t valid) {
    if (instance_) instance_->consume(ctx, stream, buffer, valid);
    std::free(buffer);
}

void Collector::consume(CUcontext ctx, uint32_t stream, uint8_t* buffer, size_t valid) {
    NameStore names = [this](const char* n) { return profiler_.persistent_name(n); };
    ApiName api = [](std::uint32_t cbid) -> const char* {
        const char* n = nullptr;
        if (cuptiGetCallbackName(CUPTI_CB_DOMAIN_RUNTIME_API, cbid, &n) != CUPTI_SUCCESS || !n)
            return "cuda runtime call";
        return n;  // CUPTI-owned, valid for the process
    };
    std::lock_guard lock(mutex_);
    CUpti_Activity* rec = nullptr;
    while (cuptiActivityGetNextRecord(buffer, valid, &rec) == CUPTI_SUCCESS) {
        Converted c = convert(rec, clock_, names, api);
        if (!c.span) {
            ++unknown_;
            continue;
        }
        ++records_;
        if (c.nccl)
            pending_nccl_.push_back(*c.span);
        else if (c.span->lane == kCudaApiLane && c.span->kind == EventKind::HostRange)
            pending_api_.push_back(*c.span);
        else
            pending_.push_back(*c.span);
    }
    size_t dropped = 0;
    if (cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped) == CUPTI_SUCCESS)
        dropped_ += static_cast<std::int64_t>(dropped);
}

void Collector::flush(const std::vector<SpanRecord>& comm_spans) {
    if (!active_) return;
    // Refresh the GPU->host map with a second pair so drift between the clocks is corrected.
    std::uint64_t gpu_now = 0;
    SS_CUPTI_CHECK(cuptiGetTimestamp(&gpu_now));
    const std::int64_t host_now = now_ns();
    {
        std::lock_guard lock(mutex_);
        clock_ = ClockMap::from_pairs(gpu_start_, host_start_, gpu_now, host_now);
    }
    SS_CUPTI_CHECK(cuptiActivityFlushAll(0));  // delivers buffers through consume()
    std::vector<SpanRecord> spans, api, nccl;
    std::int64_t dropped = 0, unknown = 0;
    {
        std::lock_guard lock(mutex_);
        spans.swap(pending_);
        api.swap(pending_api_);
        nccl.swap(pending_nccl_);
        std::swap(dropped, dropped_);
        std::swap(unknown, unknown_);
    }
    attach_nccl(nccl, api, comm_spans);
    for (const auto& s : spans) profiler_.record(s);
    for (const auto& s : api) profiler_.record(s);
    for (const auto& s : nccl) profiler_.record(s);
    if (dropped) profiler_.count(traces::stats::kCuptiRecordsDropped.key, dropped);
    if (unknown) profiler_.count(traces::stats::kCuptiRecordsUnknown.key, unknown);
}

}  // namespace ss::profiler::cupti

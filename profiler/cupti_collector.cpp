#include "profiler/cupti_collector.h"

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <stdexcept>

#include "traces/stats_keys.h"

namespace ss::profiler::cupti {

namespace {
std::string failure(const char* call, const char* file, int line, const char* msg) {
    return std::string("CUPTI call `") + call + "` failed at " + file + ":" + std::to_string(line) +
           ": " + (msg ? msg : "unknown error");
}
std::string cupti_message(CUptiResult rc) {
    const char* msg = nullptr;
    if (cuptiGetResultString(rc, &msg) != CUPTI_SUCCESS || !msg)
        return "CUPTI error " + std::to_string(rc);
    return msg;
}
void check_cupti(CUptiResult rc, const char* call, const char* file, int line) {
    if (rc == CUPTI_SUCCESS) return;
    throw std::runtime_error(failure(call, file, line, cupti_message(rc).c_str()));
}
#define SS_CUPTI_CHECK(call) check_cupti((call), #call, __FILE__, __LINE__)

constexpr size_t kBufferBytes = 8 << 20;
constexpr size_t kAlign = 8;  // CUPTI requires 8-byte aligned activity buffers

constexpr CUpti_ActivityKind kKinds[] = {
    // Concurrent kernels, not CUPTI_ACTIVITY_KIND_KERNEL, which serialises kernel execution.
    CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,  CUPTI_ACTIVITY_KIND_MEMSET,
    CUPTI_ACTIVITY_KIND_SYNCHRONIZATION,   CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_ACTIVITY_KIND_DRIVER};

// CUPTI hands buffers to whichever collector is active; it may do so on its own thread, while the
// collector is being stopped, so the pointer is guarded.
std::mutex g_instance_mutex;
Collector* g_instance = nullptr;

// CUPTI's own timestamps are CLOCK_REALTIME on Linux, which NTP can step during a run; with this
// callback every record (host calls at once, GPU activity when CUPTI normalises it) is on the
// profiler's clock.
uint64_t CUPTIAPI host_timestamp() {
    return static_cast<uint64_t>(now_ns());
}

// A (CUPTI, host) pair sampled at one moment: the host time is the midpoint around the read.
std::pair<std::uint64_t, std::int64_t> sample_clocks() {
    std::uint64_t gpu = 0;
    const std::int64_t h0 = now_ns();
    SS_CUPTI_CHECK(cuptiGetTimestamp(&gpu));
    const std::int64_t h1 = now_ns();
    return {gpu, h0 + (h1 - h0) / 2};
}
}  // namespace

Collector::Collector(Profiler& profiler) : profiler_(profiler) {}

Collector::~Collector() {
    if (active_) stop();
}

bool Collector::start() {
    int devices = 0;
    const cudaError_t err = cudaGetDeviceCount(&devices);
    if (err != cudaSuccess || devices == 0) {
        status_ = std::string("no CUDA device: ") +
                  (err != cudaSuccess ? cudaGetErrorString(err) : "cudaGetDeviceCount returned 0");
        return false;
    }
    {
        std::lock_guard lock(g_instance_mutex);
        if (g_instance != nullptr)
            throw std::runtime_error("a CUPTI collector is already active in this process");
        g_instance = this;
    }
    active_ = true;  // from here, stop() undoes what was enabled
    try {
        SS_CUPTI_CHECK(cuptiActivityRegisterCallbacks(&Collector::buffer_requested,
                                                      &Collector::buffer_completed));
        // Before any kind is enabled (cupti_activity.h); without it the clock map below still maps
        // CUPTI's clock to the host's, only not across a step of the wall clock.
        callback_clock_ = cuptiActivityRegisterTimestampCallback(&host_timestamp) == CUPTI_SUCCESS;
        for (CUpti_ActivityKind k : kKinds) SS_CUPTI_CHECK(cuptiActivityEnable(k));
        std::tie(gpu_start_, host_start_) = sample_clocks();
    } catch (...) {
        stop();
        throw;
    }
    // With the callback, records are on the host clock by construction: the identity map. Without
    // it, CUPTI's clock is mapped through (CUPTI, host) pairs, refreshed at every flush.
    update_clock(gpu_start_, host_start_);
    const long long offset = static_cast<long long>(gpu_start_) - host_start_;
    status_ = "CUPTI collecting on " + std::to_string(devices) + " device(s), timestamps " +
              (callback_clock_ ? "from the host clock" : "mapped from CUPTI's clock") +
              " (CUPTI - host at start: " + std::to_string(offset) + " ns)";
    return true;
}

void Collector::update_clock(std::uint64_t gpu_now, std::int64_t host_now) {
    const ClockMap m = callback_clock_
                           ? ClockMap{}
                           : ClockMap::from_pairs(gpu_start_, host_start_, gpu_now, host_now);
    std::lock_guard lock(mutex_);
    clock_ = m;
}

void Collector::stop() noexcept {
    // Errors are ignored: this runs on the error path too, and nothing more can be recorded.
    for (CUpti_ActivityKind k : kKinds) cuptiActivityDisable(k);
    std::lock_guard lock(g_instance_mutex);
    if (g_instance == this) g_instance = nullptr;
    active_ = false;
}

void CUPTIAPI Collector::buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
    *buffer = static_cast<uint8_t*>(std::aligned_alloc(kAlign, kBufferBytes));
    *size = *buffer ? kBufferBytes : 0;  // 0: CUPTI drops records and counts them
    *max_records = 0;                    // as many as fit
}

void CUPTIAPI Collector::buffer_completed(CUcontext ctx, uint32_t stream, uint8_t* buffer,
                                          size_t /*size*/, size_t valid) {
    {
        std::lock_guard lock(g_instance_mutex);
        if (g_instance) {
            g_instance->consume(buffer, valid);
            size_t dropped = 0;
            if (cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped) == CUPTI_SUCCESS &&
                dropped) {
                std::lock_guard l(g_instance->mutex_);
                g_instance->counts_.dropped += static_cast<std::int64_t>(dropped);
            }
        }
    }
    std::free(buffer);
}

const char* Collector::stored_name(const char* name) {
    auto it = names_.find(name);
    if (it == names_.end())
        it = names_.emplace(name, profiler_.persistent_name(demangle(name))).first;
    return it->second;
}

void Collector::consume(uint8_t* buffer, size_t valid) {
    std::lock_guard lock(mutex_);
    const NameStore names = [this](const char* n) { return stored_name(n); };
    const ApiName api = [this](CUpti_CallbackDomain domain, std::uint32_t cbid) -> const char* {
        const char* n = nullptr;
        if (cuptiGetCallbackName(domain, cbid, &n) != CUPTI_SUCCESS || !n)
            return domain == CUPTI_CB_DOMAIN_DRIVER_API ? "cuda driver call" : "cuda runtime call";
        return stored_name(n);
    };
    CUpti_Activity* rec = nullptr;
    for (;;) {
        const CUptiResult rc = cuptiActivityGetNextRecord(buffer, valid, &rec);
        if (rc == CUPTI_ERROR_MAX_LIMIT_REACHED) break;  // the end of the buffer
        if (rc == CUPTI_ERROR_INVALID_KIND) {
            // An incomplete record (a forced flush): nothing after it can be read.
            ++counts_.untimed;
            break;
        }
        if (rc != CUPTI_SUCCESS) {
            // Not thrown here (CUPTI's thread): the next flush reports it.
            if (deferred_error_.empty())
                deferred_error_ = failure("cuptiActivityGetNextRecord(buffer, valid, &rec)",
                                          __FILE__, __LINE__, cupti_message(rc).c_str());
            break;
        }
        const Converted c = convert(rec, clock_, names, api);
        counts_.add(c);
        if (!c.span) continue;  // unknown or untimed: counted
        if (c.nccl())
            pending_nccl_.push_back(*c.span);
        else if (c.api())
            pending_api_.push_back(*c.span);
        else
            pending_.push_back(*c.span);
    }
}

void Collector::flush(std::vector<SpanRecord> comm_spans) {
    if (!active_) return;
    // A second pair refreshes the CUPTI -> host map, so drift between the clocks is corrected.
    const auto [gpu_now, host_now] = sample_clocks();
    update_clock(gpu_now, host_now);
    // Buffers whose records are all complete; the others come at a later flush (no device sync).
    SS_CUPTI_CHECK(cuptiActivityFlushAll(0));
    deliver(std::move(comm_spans), false);
}

void Collector::finish(std::vector<SpanRecord> comm_spans) {
    if (!active_) return;
    struct StopAtExit {
        Collector* c;
        ~StopAtExit() { c->stop(); }
    } stop_at_exit{this};
    // Every record complete before the forced flush; a failure is reported after what could be
    // recorded is.
    const cudaError_t sync = cudaDeviceSynchronize();
    const auto [gpu_now, host_now] = sample_clocks();
    update_clock(gpu_now, host_now);
    SS_CUPTI_CHECK(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
    deliver(std::move(comm_spans), true);
    if (sync != cudaSuccess)
        throw std::runtime_error(std::string("CUDA call `cudaDeviceSynchronize()` failed at ") +
                                 __FILE__ + ":" + std::to_string(__LINE__) + ": " +
                                 cudaGetErrorString(sync));
}

void Collector::deliver(std::vector<SpanRecord> comm_spans, bool final) {
    std::vector<SpanRecord> spans, api, nccl;
    std::string error;
    {
        std::lock_guard lock(mutex_);
        spans.swap(pending_);
        api.swap(pending_api_);
        nccl.swap(pending_nccl_);
        error.swap(deferred_error_);
    }
    nccl = attacher_.add(std::move(nccl), api, std::move(comm_spans), final);
    for (const auto* list : {&spans, &api, &nccl}) {
        for (const auto& s : *list)
            if (lanes_.insert(s.lane).second) profiler_.define_lane(s.lane, cuda_lane_name(s.lane));
        profiler_.record_all(*list);
    }
    RecordCounts now;
    {
        std::lock_guard lock(mutex_);
        counts_.nccl_attached = attacher_.attached();
        counts_.nccl_unattached = attacher_.unattached();
        now = counts_;
    }
    for (const auto& [key, delta] : count_deltas(now, recorded_)) profiler_.count(key, delta);
    recorded_ = now;
    if (!error.empty()) throw std::runtime_error(error);
}

RecordCounts Collector::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

}  // namespace ss::profiler::cupti

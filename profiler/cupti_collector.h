// CUPTI Activity collector of one GPU rank: concurrent kernels, memcpy, memset, synchronisation,
// runtime and driver API records (NCCL launches its kernels through the driver API), delivered
// through CUPTI's buffer callbacks, converted to spans on the host clock (cupti_convert.h) and
// handed to the Profiler at each flush. Dropped, untimed and unknown records are counted in the
// trace's stats, and so is every converted record per kind (traces/stats_keys.h, cupti_records_*).
//
//   Collector c(profiler);
//   if (!c.start()) ...c.status()...          // "no CUDA device: ..." on a machine without one
//   c.flush(comm_spans);                      // at every step boundary
//   c.finish(comm_spans);                     // at the end: synchronises, flushes all, disables
//
// Most users want profiler/gpu_trace.h, which wraps this with the Comm spans handed over.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "profiler/cupti_convert.h"
#include "profiler/profiler.h"

namespace ss::profiler::cupti {

class Collector {
public:
    explicit Collector(Profiler& profiler);
    ~Collector();  // disables collection if finish() was not called (records still in CUPTI are
                   // lost)
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;

    // Starts collection. Returns false, with status() saying why, when there is no usable CUDA
    // device ("no CUDA device: <cudaGetErrorString>"): the run continues with host tracing.
    // Throws std::runtime_error naming the CUPTI call, file and line when CUPTI itself fails.
    bool start();
    const std::string& status() const { return status_; }
    bool active() const { return active_; }

    // Asks CUPTI for the buffers whose records are complete (cuptiActivityFlushAll(0): no device
    // synchronisation), converts them, attaches NCCL kernels to the Comm calls (those recorded
    // since the previous flush are passed here; earlier ones are kept for NcclAttacher::kWindow
    // flushes), and records everything in the profiler, with the per-kind counts. Call at step
    // boundaries before Profiler::step_boundary().
    void flush(std::vector<SpanRecord> comm_spans);
    // Last flush: synchronises the device, forces CUPTI to hand over every buffer, records all of
    // it, and disables collection. Call before Profiler::finish(). A no-op when not active.
    void finish(std::vector<SpanRecord> comm_spans);

    RecordCounts counts() const;

private:
    static void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records);
    static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t* buffer,
                                          size_t size, size_t valid);
    void consume(uint8_t* buffer, size_t valid);
    void deliver(std::vector<SpanRecord> comm_spans, bool final);
    void stop() noexcept;  // disables the activity kinds and detaches from the callbacks
    const char* stored_name(const char* name);  // under mutex_
    void update_clock(std::uint64_t gpu_now, std::int64_t host_now);

    Profiler& profiler_;
    std::string status_ = "not started";
    bool active_ = false;
    bool callback_clock_ = false;  // CUPTI takes its timestamps from now_ns()
    std::uint64_t gpu_start_ = 0;
    std::int64_t host_start_ = 0;

    mutable std::mutex mutex_;  // CUPTI may deliver buffers on its own thread
    ClockMap clock_;
    std::vector<SpanRecord> pending_, pending_api_, pending_nccl_;
    std::unordered_map<std::string, const char*> names_;
    RecordCounts counts_, recorded_;  // recorded_: what the stats already hold
    std::string deferred_error_;      // a CUPTI failure on CUPTI's thread, thrown by the next flush

    NcclAttacher attacher_;         // caller's thread only
    std::set<std::int32_t> lanes_;  // CUDA lanes named in the trace so far
};

}  // namespace ss::profiler::cupti

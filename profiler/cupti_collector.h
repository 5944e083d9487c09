// CUPTI Activity collector of one GPU rank: concurrent kernels, memcpy, memset, synchronisation
// and runtime API records, delivered through CUPTI's buffer callbacks, converted to spans on the
// host clock (cupti_convert.h) and handed to the Profiler at each flush. Dropped records are
// counted in the trace's stats (cupti_records_dropped).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "profiler/cupti_convert.h"
#include "profiler/profiler.h"

namespace ss::profiler::cupti {

class Collector {
public:
    explicit Collector(Profiler& profiler);
    ~Collector();  // stops collection (flushes what CUPTI still holds)
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;

    // Starts collection. Returns false, with status() saying why, when there is no usable CUDA
    // device ("no CUDA device: <cudaGetErrorString>"): the run continues with host tracing.
    // Throws std::runtime_error naming the CUPTI call, file and line when CUPTI itself fails.
    bool start();
    const std::string& status() const { return status_; }
    bool active() const { return active_; }

    // Forces CUPTI to deliver its buffers, converts them, attaches NCCL kernels to the Comm calls
    // recorded since the last flush, and records everything in the profiler. Call at step
    // boundaries before Profiler::flush().
    void flush(const std::vector<SpanRecord>& comm_spans);

    std::int64_t records() const { return records_; }
    std::int64_t dropped() const { return dropped_; }

private:
    static void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records);
    static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t* buffer,
                                          size_t size, size_t valid);
    void consume(CUcontext ctx, uint32_t stream, uint8_t* buffer, size_t valid);

    Profiler& profiler_;
    std::string status_ = "not started";
    bool active_ = false;
    ClockMap clock_;
    std::uint64_t gpu_start_ = 0;
    std::int64_t host_start_ = 0;
    std::mutex mutex_;  // CUPTI delivers buffers on its own thread
    std::vector<SpanRecord> pending_, pending_api_, pending_nccl_;
    std::int64_t records_ = 0, dropped_ = 0, unknown_ = 0;
    static Collector* instance_;
};

}  // namespace ss::profiler::cupti

// Host tracing of one rank (DESIGN.md, "Record"): scoped spans into per-thread append-only
// rings (no lock, no allocation, no string formatting on the hot path). A background writer thread
// per Profiler owns the rank's trace file: at a step boundary, at most every flush_interval
// seconds, the training thread only wakes it; the writer drains the rings into SQLite and commits,
// so a crash loses at most the last interval and never the file. Memory is bounded by the rings
// (buffer_records per recording thread): when the writer falls behind and a ring is full, records
// are dropped, never waited for, and counted per kind (stats "records_dropped.<kind>").
//
//   Profiler prof(config, run, rank);      // one per rank; becomes the process's current()
//   { Span s("gemm", EventKind::Kernel, lanes::kCompute, flops); ... }   // scoped
//   prof.step_boundary();                  // at the end of every step: wakes the writer when due
//   prof.finish(RunStatus::Completed, "");  // joins the writer, writes the rest, then the status
//
// An error of the writer thread (SQLite, with its call and file:line) is thrown by the next
// step_boundary(), flush() or finish() of the training thread.
//
// Tracing off (config.enabled = false, or no Profiler) costs one predictable branch per span.
// On a GPU rank, profiler/gpu_trace.h adds the CUPTI records (started after the Profiler, its
// step_boundary() before the Profiler's, its finish() before Profiler::finish()).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "profiler/clock.h"
#include "traces/lanes.h"
#include "traces/types.h"

namespace ss::traces {
class TraceWriter;
}

namespace ss::profiler {

using traces::Collective;
using traces::EventKind;
using traces::GroupKind;

// Lanes of a rank's timeline (traces/lanes.h). CUDA streams use kCudaStreamBase + stream id.
namespace lanes = traces::lanes;

// One recorded span: plain data. `name` must point to storage that outlives the profiler
// (a string literal, or a string from Profiler::persistent_name).
struct SpanRecord {
    const char* name = nullptr;
    std::int64_t start_ns = 0, end_ns = 0;
    std::int64_t step = traces::kNone, micro_batch = traces::kNone, layer = traces::kNone;
    std::int64_t bytes = traces::kNone;
    double flops = -1;
    std::int64_t seq = traces::kNone, group_id = traces::kNone, group_size = traces::kNone,
                 peer = traces::kNone, correlation = traces::kNone;
    std::int32_t lane = lanes::kCompute;
    EventKind kind = EventKind::Kernel;
    Collective collective = Collective::None;
    GroupKind group_kind = GroupKind::None;
};

// Single-producer (the owning thread) / single-consumer (the writer thread) ring of records.
// push() never blocks or allocates: when the ring is full the record is counted as dropped (per
// kind). The producer keeps its own copy of the consumer's position and reads the shared one only
// when the ring looks full, and the two positions live on separate cache lines, so a push touches
// no line the writer thread writes.
class SpanBuffer {
public:
    explicit SpanBuffer(std::size_t capacity);
    bool push(const SpanRecord& r) {
        const std::uint64_t head = head_.load(std::memory_order_relaxed);
        if (head - cached_tail_ >= capacity_) [[unlikely]] {
            cached_tail_ = tail_.load(std::memory_order_acquire);
            if (head - cached_tail_ >= capacity_) {
                count_drop(r.kind);
                return false;
            }
        }
        data_[head & mask_] = r;
        head_.store(head + 1, std::memory_order_release);
        return true;
    }
    // Consumer: hands every published record to fn, then frees their slots.
    template <typename Fn>
    std::size_t drain(Fn&& fn) {
        const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
        const std::uint64_t head = head_.load(std::memory_order_acquire);
        for (std::uint64_t i = tail; i != head; ++i) fn(data_[i & mask_]);
        tail_.store(head, std::memory_order_release);
        return static_cast<std::size_t>(head - tail);
    }
    std::size_t size() const {
        return static_cast<std::size_t>(head_.load(std::memory_order_acquire) -
                                        tail_.load(std::memory_order_acquire));
    }
    std::size_t capacity() const { return capacity_; }
    // Records of kind k dropped since the last call.
    std::uint64_t take_dropped(EventKind k) {
        return dropped_[kind_index(k)].exchange(0, std::memory_order_relaxed);
    }
    static std::size_t kind_index(EventKind k) {
        const auto i = static_cast<std::size_t>(k);
        return i < traces::kEventKindCount ? i : 0;
    }

private:
    void count_drop(EventKind k) { dropped_[kind_index(k)].fetch_add(1, std::memory_order_relaxed); }

    std::size_t capacity_, mask_;
    std::unique_ptr<SpanRecord[]> data_;
    alignas(64) std::atomic<std::uint64_t> head_{0};  // written by the producer
    std::uint64_t cached_tail_ = 0;                    // the producer's copy of tail_
    alignas(64) std::atomic<std::uint64_t> tail_{0};  // written by the consumer
    alignas(64) std::atomic<std::uint64_t> dropped_[traces::kEventKindCount] = {};
};

struct ProfilerConfig {
    bool enabled = true;
    std::string rank_file;           // the rank's trace file (created)
    double flush_interval_s = 2.0;   // the writer commits at a step boundary at most this often
    // The memory budget: records buffered per recording thread (rounded up to a power of two;
    // about 120 bytes each). Records beyond it while the writer is behind are dropped and counted.
    std::size_t buffer_records = 1u << 16;
    // Nice value of the writer thread (Linux: per thread): > 0 lets the training threads go first
    // when the CPUs are busy (no wake-up preemption of the training thread by the writer it
    // wakes), at the price of later commits under load. 0: as the training threads.
    int writer_nice = 10;
    // Test hook: called on the writer thread at the start of every pass (a test blocks it on a
    // latch to make the writer fall behind, or throws from it). Empty in real runs.
    std::function<void()> writer_hook;
};

// Step / micro-batch / layer context that spans of a thread pick up.
struct SpanContext {
    std::int64_t step = traces::kNone, micro_batch = traces::kNone, layer = traces::kNone;
};
namespace detail {
struct ThreadSlot {
    std::uint64_t generation = 0;
    SpanBuffer* buffer = nullptr;
};
extern thread_local SpanContext t_context __attribute__((tls_model("initial-exec")));
extern thread_local ThreadSlot t_slot __attribute__((tls_model("initial-exec")));
}  // namespace detail
inline SpanContext& context() { return detail::t_context; }  // this thread's

class Profiler {
public:
    // Creates the rank file, starts its run and the writer thread. `run.start_ns` is set to now.
    Profiler(ProfilerConfig config, traces::RunInfo run, traces::RankInfo rank);
    // Writes what is buffered and joins the writer (errors swallowed); a run not finished stays
    // "running" (the merge marks it failed).
    ~Profiler();
    Profiler(const Profiler&) = delete;
    Profiler& operator=(const Profiler&) = delete;

    // The process's profiler while one is alive and enabled, else nullptr (the hot-path check).
    static Profiler* current() { return current_.load(std::memory_order_relaxed); }

    bool enabled() const { return config_.enabled; }
    // Appends to this thread's buffer (registered on first use: a lock once per thread).
    void record(const SpanRecord& r) {
        thread_buffer().push(r);
        if (keep_comm_.load(std::memory_order_relaxed) && r.kind == EventKind::Comm && r.lane == lanes::kComm)
            [[unlikely]] keep_comm(r);
    }
    // Records a batch from this thread (the GPU tracer's converted records), waiting for a writer
    // pass whenever the thread's buffer fills, so a large batch is not dropped (unless the writer
    // has failed).
    void record_all(const std::vector<SpanRecord>& spans);
    // A name with the profiler's lifetime, for names built at run time (interned once).
    const char* persistent_name(const std::string& s);
    // Names a lane of this rank in the trace (lanes the profiler does not name itself: CUDA ones).
    void define_lane(std::int32_t lane, const std::string& name);

    // While on, the Comm-lane spans recorded (models/comm_tracer.cpp) are also kept for the GPU
    // tracer, which attaches NCCL kernels to them (profiler/gpu_trace.h); take_comm_spans() hands
    // over those kept since the last call. Off by default: nothing is kept.
    void keep_comm_spans(bool on);
    std::vector<SpanRecord> take_comm_spans();

    // End of a step: wakes the writer (which drains and commits) when flush_interval elapsed
    // since the last wake-up or any buffer is more than half full; never waits for it. Throws a
    // writer error not yet reported.
    void step_boundary();
    // Has the writer write everything buffered and commit, and waits for it. Throws a writer error.
    void flush();
    // Waits until the writer has done every pass asked of it, asking for none (tests, benches).
    void wait_for_writer();
    // Metrics, clock and counters are queued for the writer's next pass (no SQLite call here).
    void metric(std::int64_t step, const char* name, double value);
    void set_clock(std::int64_t offset_ns, std::int64_t ref_ns, double drift_ppb, std::int64_t rtt_ns);
    // Adds to a stats counter of this rank (traces/stats_keys.h).
    void count(std::string_view key, std::int64_t delta);
    // Joins the writer after its last pass, then writes run status and end time, aggregates.
    // Throws the writer's error if it failed (the run then stays "running").
    void finish(traces::RunStatus status, const std::string& reason);

    // Records stored / dropped so far (up to date after flush(), wait_for_writer() or finish()).
    std::int64_t spans_written() const { return spans_written_.load(std::memory_order_relaxed); }
    std::int64_t spans_dropped() const { return spans_dropped_.load(std::memory_order_relaxed); }
    // CPU time the writer thread spent in its passes so far (its own thread CPU clock: what the
    // writer takes from the training threads, whatever the machine's load). Up to date as above.
    double writer_cpu_seconds() const {
        return static_cast<double>(writer_cpu_ns_.load(std::memory_order_relaxed)) * 1e-9;
    }
    std::int64_t writer_passes() const { return writer_passes_.load(std::memory_order_relaxed); }
    const std::string& rank_file() const { return config_.rank_file; }

private:
    SpanBuffer& thread_buffer() {
        if (detail::t_slot.generation == generation_) [[likely]]
            return *detail::t_slot.buffer;
        return register_thread();
    }
    SpanBuffer& register_thread();
    void keep_comm(const SpanRecord& r);
    using Op = std::function<void(traces::TraceWriter&)>;
    void enqueue(Op op);                     // for the writer's next pass
    std::uint64_t request_pass();            // wakes the writer; returns the pass to wait for
    void wait_pass(std::uint64_t pass);      // until that pass is done (or the writer failed)
    void throw_if_failed();                  // rethrows the writer's error
    void stop_writer();                      // last pass, then join
    void writer_loop();
    void writer_pass();                      // on the writer thread: ops, drain, drops, commit

    ProfilerConfig config_;
    traces::RankInfo rank_;  // the training thread's (set_clock updates it)
    std::int32_t rank_id_ = 0;
    std::unique_ptr<traces::TraceWriter> writer_;  // used by the writer thread while it runs
    traces::RunId run_;
    // Shared by the training threads and the writer. The training threads never take a lock the
    // writer holds (a writer descheduled while holding it would stall training): requests,
    // completions, errors and the ring list are atomics; queued ops are a lock-free stack.
    static constexpr std::size_t kMaxThreads = 1024;  // recording threads per profiler
    std::mutex register_mutex_;                       // registration only (never the writer's)
    std::unique_ptr<SpanBuffer> buffers_[kMaxThreads];
    std::atomic<std::size_t> buffer_count_{0};
    struct OpNode {
        Op op;
        OpNode* next = nullptr;
    };
    std::atomic<OpNode*> ops_{nullptr};                // pushed by anyone, taken whole by the writer
    std::atomic<std::uint64_t> requested_{0}, completed_{0};  // writer passes asked for / done
    std::atomic<std::uint32_t> wake_seq_{0};           // the writer sleeps on it (futex)
    std::atomic<bool> stop_{false}, failed_{false}, error_reported_{false};
    std::exception_ptr error_;                         // set once by the writer before failed_
    std::thread thread_;
    // The writer thread's own.
    std::unordered_map<const char*, traces::StringId> names_;
    std::mutex names_mutex_;
    std::unordered_set<std::string> persistent_;  // node-based: c_str() stays put
    std::atomic<bool> keep_comm_{false};
    std::mutex comm_mutex_;
    std::vector<SpanRecord> comm_spans_;
    std::int64_t start_ns_ = 0;
    std::int64_t last_request_ns_ = 0;  // the training thread's
    std::atomic<std::int64_t> spans_written_{0}, spans_dropped_{0};
    std::atomic<std::int64_t> writer_cpu_ns_{0}, writer_passes_{0};
    bool finished_ = false;
    std::uint64_t generation_;
    static std::atomic<Profiler*> current_;
    static std::atomic<std::uint64_t> next_generation_;
};

namespace detail {
// An NVTX range in the "ScaleScope" domain (builds with CUDA: SCALESCOPE_HAVE_NVTX), so steps and
// phases show in Nsight Systems; without a tool attached NVTX does nothing. No-ops otherwise.
void nvtx_push(const char* name);
void nvtx_pop();
inline bool nvtx_kind(EventKind k) { return k == EventKind::Step || k == EventKind::Phase; }
}  // namespace detail

// A scoped span on the current profiler; does nothing when there is none. Step and Phase spans are
// also NVTX ranges, with or without a profiler.
class Span {
public:
    Span(const char* name, EventKind kind, std::int32_t lane, double flops = -1,
         std::int64_t bytes = traces::kNone) {
        if (detail::nvtx_kind(kind)) [[unlikely]] {
            detail::nvtx_push(name);
            nvtx_ = true;
        }
        if (Profiler::current() == nullptr) return;
        rec_.name = name;
        rec_.kind = kind;
        rec_.lane = lane;
        rec_.flops = flops;
        rec_.bytes = bytes;
        active_ = true;
        rec_.start_ns = now_ns();
    }
    ~Span() {
        if (nvtx_) [[unlikely]] detail::nvtx_pop();
        if (!active_) return;
        rec_.end_ns = now_ns();
        const SpanContext& c = context();
        rec_.step = c.step;
        rec_.micro_batch = c.micro_batch;
        if (rec_.layer == traces::kNone) rec_.layer = c.layer;
        if (Profiler* p = Profiler::current()) p->record(rec_);
    }
    Span(const Span&) = delete;
    Span& operator=(const Span&) = delete;
    SpanRecord& record() { return rec_; }  // to add attributes before the scope ends
    bool active() const { return active_; }

private:
    SpanRecord rec_;
    bool active_ = false;
    bool nvtx_ = false;
};

}  // namespace ss::profiler

#include "profiler/profiler.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "traces/stats_keys.h"
#include "traces/writer.h"

#if SCALESCOPE_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace ss::profiler {

namespace detail {
#if SCALESCOPE_HAVE_NVTX
namespace {
nvtxDomainHandle_t nvtx_domain() {
    static const nvtxDomainHandle_t domain = nvtxDomainCreateA("ScaleScope");
    return domain;
}
}  // namespace
void nvtx_push(const char* name) {
    nvtxEventAttributes_t a{};
    a.version = NVTX_VERSION;
    a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    a.messageType = NVTX_MESSAGE_TYPE_ASCII;
    a.message.ascii = name;
    nvtxDomainRangePushEx(nvtx_domain(), &a);
}
void nvtx_pop() { nvtxDomainRangePop(nvtx_domain()); }
#else
void nvtx_push(const char*) {}
void nvtx_pop() {}
#endif
}  // namespace detail

std::atomic<Profiler*> Profiler::current_{nullptr};
std::atomic<std::uint64_t> Profiler::next_generation_{1};

SpanBuffer::SpanBuffer(std::size_t capacity)
    : capacity_(std::bit_ceil(std::max<std::size_t>(capacity, 16))),
      mask_(capacity_ - 1),
      data_(new SpanRecord[capacity_]) {}

// The profiler is linked statically into executables, so its thread-locals can use the
// initial-exec TLS model: a fixed offset from the thread pointer instead of a __tls_get_addr call
// per access (which -fPIC code would otherwise make on every span).
namespace detail {
thread_local SpanContext t_context __attribute__((tls_model("initial-exec")));
thread_local ThreadSlot t_slot __attribute__((tls_model("initial-exec")));
}  // namespace detail

Profiler::Profiler(ProfilerConfig config, traces::RunInfo run, traces::RankInfo rank)
    : config_(std::move(config)), rank_(std::move(rank)), generation_(next_generation_++) {
    if (!config_.enabled) return;
    writer_ = std::make_unique<traces::TraceWriter>(
        config_.rank_file, traces::WriterOptions{.batch_events = 1 << 20,
                                                 .durable = false,
                                                 .created_by = "scalescope-worker",
                                                 .wal = true});
    run.start_ns = now_ns();
    run.end_ns = run.start_ns;
    run.wall_start_unix_ns = unix_now_ns();
    run.status = traces::RunStatus::Running;
    start_ns_ = run.start_ns;
    run_ = writer_->begin_run(run);
    rank_.run = run_;
    rank_id_ = rank_.rank;
    writer_->put_rank(rank_);
    for (std::int32_t l : {lanes::kSteps, lanes::kPhases, lanes::kCompute, lanes::kComm, lanes::kHost})
        writer_->define_lane(run_, rank_.rank, l, lanes::name(l));
    writer_->flush();
    last_request_ns_ = now_ns();
    thread_ = std::thread([this] { writer_loop(); });
    current_.store(this, std::memory_order_release);
}

Profiler::~Profiler() {
    Profiler* self = this;
    current_.compare_exchange_strong(self, nullptr);
    // Nothing to report to from a destructor; finish() is where errors surface.
    if (thread_.joinable()) stop_writer();
}

SpanBuffer& Profiler::register_thread() {
    std::lock_guard lock(register_mutex_);
    const std::size_t n = buffer_count_.load(std::memory_order_relaxed);
    if (n == kMaxThreads)
        throw std::length_error("profiler: more than " + std::to_string(kMaxThreads) +
                                " threads recorded spans (" + __FILE__ + ":" + std::to_string(__LINE__) + ")");
    buffers_[n] = std::make_unique<SpanBuffer>(config_.buffer_records);
    buffer_count_.store(n + 1, std::memory_order_release);  // the writer sees the ring from now on
    detail::t_slot.generation = generation_;
    detail::t_slot.buffer = buffers_[n].get();
    return *detail::t_slot.buffer;
}

void Profiler::record_all(const std::vector<SpanRecord>& spans) {
    SpanBuffer& b = thread_buffer();
    for (const SpanRecord& r : spans) {
        if (writer_ && b.size() >= b.capacity()) wait_pass(request_pass());
        record(r);
    }
}

const char* Profiler::persistent_name(const std::string& s) {
    std::lock_guard lock(names_mutex_);
    return persistent_.insert(s).first->c_str();
}

void Profiler::define_lane(std::int32_t lane, const std::string& name) {
    if (!writer_ || finished_) return;
    enqueue([run = run_, rank = rank_id_, lane, name](traces::TraceWriter& w) {
        w.define_lane(run, rank, lane, name);
    });
}

void Profiler::keep_comm_spans(bool on) {
    keep_comm_.store(on, std::memory_order_relaxed);
    if (!on) {
        std::lock_guard lock(comm_mutex_);
        comm_spans_.clear();
    }
}

void Profiler::keep_comm(const SpanRecord& r) {
    std::lock_guard lock(comm_mutex_);
    comm_spans_.push_back(r);
}

std::vector<SpanRecord> Profiler::take_comm_spans() {
    std::lock_guard lock(comm_mutex_);
    std::vector<SpanRecord> out;
    out.swap(comm_spans_);
    return out;
}

// ---- the training threads' side of the writer ----

void Profiler::enqueue(Op op) {
    auto* node = new OpNode{std::move(op), ops_.load(std::memory_order_relaxed)};
    while (!ops_.compare_exchange_weak(node->next, node, std::memory_order_release, std::memory_order_relaxed)) {
    }
}

std::uint64_t Profiler::request_pass() {
    if (stop_.load(std::memory_order_acquire)) return completed_.load(std::memory_order_acquire);
    const std::uint64_t pass = requested_.fetch_add(1, std::memory_order_acq_rel) + 1;
    wake_seq_.fetch_add(1, std::memory_order_release);
    wake_seq_.notify_one();
    return pass;
}

void Profiler::wait_pass(std::uint64_t pass) {
    for (;;) {
        const std::uint64_t c = completed_.load(std::memory_order_acquire);
        if (c >= pass || failed_.load(std::memory_order_acquire)) return;
        completed_.wait(c, std::memory_order_acquire);
    }
}

void Profiler::throw_if_failed() {
    if (!failed_.load(std::memory_order_acquire)) return;
    if (error_reported_.exchange(true)) return;
    std::rethrow_exception(error_);
}

void Profiler::step_boundary() {
    if (!writer_ || finished_) return;
    throw_if_failed();
    const std::int64_t now = now_ns();
    bool due = static_cast<double>(now - last_request_ns_) >= config_.flush_interval_s * 1e9;
    if (!due) {
        const std::size_t n = buffer_count_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < n && !due; ++i) due = buffers_[i]->size() * 2 > buffers_[i]->capacity();
    }
    if (!due) return;
    last_request_ns_ = now;
    request_pass();
}

void Profiler::flush() {
    if (!writer_ || finished_) return;
    wait_pass(request_pass());
    throw_if_failed();
}

void Profiler::wait_for_writer() {
    if (!writer_ || finished_) return;
    wait_pass(requested_.load(std::memory_order_acquire));
}

void Profiler::metric(std::int64_t step, const char* name, double value) {
    if (!writer_ || finished_) return;
    enqueue([run = run_, rank = rank_id_, step, t = now_ns(), n = std::string(name ? name : "?"),
             value](traces::TraceWriter& w) { w.add_metric(run, rank, step, t, n, value); });
}

void Profiler::set_clock(std::int64_t offset_ns, std::int64_t ref_ns, double drift_ppb,
                         std::int64_t rtt_ns) {
    if (!writer_ || finished_) return;
    traces::RankInfo k = rank_;
    k.clock_offset_ns = offset_ns;
    k.clock_ref_ns = ref_ns;
    k.clock_drift_ppb = drift_ppb;
    k.clock_rtt_ns = rtt_ns;
    rank_ = k;
    enqueue([k](traces::TraceWriter& w) { w.put_rank(k); });
    request_pass();  // committed soon, whatever the flush interval
}

void Profiler::count(std::string_view key, std::int64_t delta) {
    if (!writer_ || finished_) return;
    enqueue([run = run_, rank = rank_id_, k = std::string(key), delta](traces::TraceWriter& w) {
        w.add_stat(run, rank, k, delta);
    });
}

void Profiler::stop_writer() {
    stop_.store(true, std::memory_order_release);
    requested_.fetch_add(1, std::memory_order_acq_rel);  // the last pass: everything recorded before
    wake_seq_.fetch_add(1, std::memory_order_release);
    wake_seq_.notify_one();
    thread_.join();
    // Ops queued after the last pass (none in a correct program) are freed unapplied.
    for (OpNode* n = ops_.exchange(nullptr); n != nullptr;) delete std::exchange(n, n->next);
}

void Profiler::finish(traces::RunStatus status, const std::string& reason) {
    if (!writer_ || finished_) return;
    Profiler* self = this;
    current_.compare_exchange_strong(self, nullptr);
    if (thread_.joinable()) stop_writer();
    finished_ = true;
    if (failed_.load()) {  // the writer's state is unknown: the run stays "running", the merge marks it failed
        error_reported_ = true;
        std::rethrow_exception(error_);
    }
    writer_->finish_run(run_, status, reason, now_ns());
}

// ---- the writer thread ----

namespace {
// This thread's CPU time (user + system).
std::int64_t thread_cpu_ns() {
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;  // cannot fail on Linux
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

void Profiler::writer_loop() {
    auto fail = [this](std::exception_ptr e) {
        error_ = std::move(e);
        failed_.store(true, std::memory_order_release);
    };
    if (config_.writer_nice != 0) {
        // Linux: a thread's nice value is its own (setpriority on the thread id).
        errno = 0;
        if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), config_.writer_nice) != 0)
            fail(std::make_exception_ptr(std::runtime_error(
                std::string("setpriority(PRIO_PROCESS, gettid(), ") + std::to_string(config_.writer_nice) +
                ") failed: " + std::strerror(errno) + " at " + __FILE__ + ":" + std::to_string(__LINE__))));
    }
    std::uint64_t done = 0;
    for (;;) {
        const std::uint32_t seq = wake_seq_.load(std::memory_order_acquire);
        const std::uint64_t target = requested_.load(std::memory_order_acquire);
        if (target == done) {  // nothing asked: sleep until the next request
            wake_seq_.wait(seq, std::memory_order_acquire);
            continue;
        }
        const bool last = stop_.load(std::memory_order_acquire);
        if (!failed_.load(std::memory_order_relaxed)) {  // after a failure passes do nothing:
            const std::int64_t cpu0 = thread_cpu_ns();   // records are dropped (bounded) instead
            try {
                writer_pass();
            } catch (...) {
                fail(std::current_exception());
            }
            writer_cpu_ns_.fetch_add(thread_cpu_ns() - cpu0, std::memory_order_relaxed);
            writer_passes_.fetch_add(1, std::memory_order_relaxed);
        }
        done = target;
        completed_.store(done, std::memory_order_release);
        completed_.notify_all();
        if (last && requested_.load(std::memory_order_acquire) == done) return;
    }
}

void Profiler::writer_pass() {
    if (config_.writer_hook) config_.writer_hook();
    // The queued ops, oldest first (the stack holds them newest first).
    std::vector<Op> ops;
    for (OpNode* n = ops_.exchange(nullptr, std::memory_order_acquire); n != nullptr;) {
        ops.push_back(std::move(n->op));
        delete std::exchange(n, n->next);
    }
    std::reverse(ops.begin(), ops.end());
    const std::size_t nbuffers = buffer_count_.load(std::memory_order_acquire);
    traces::TraceWriter& w = *writer_;
    for (Op& op : ops) op(w);
    traces::Event e;
    e.run = run_;
    e.rank = rank_id_;
    std::int64_t end = 0, written = 0, dropped = 0;
    std::int64_t dropped_by_kind[traces::kEventKindCount] = {};
    for (std::size_t i = 0; i < nbuffers; ++i) {
        SpanBuffer* b = buffers_[i].get();
        b->drain([&](const SpanRecord& r) {
            auto it = names_.find(r.name);
            if (it == names_.end()) it = names_.emplace(r.name, w.intern(r.name ? r.name : "?")).first;
            e.name = it->second;
            e.lane = r.lane;
            e.kind = r.kind;
            e.start_ns = r.start_ns;
            e.end_ns = r.end_ns;
            e.step = r.step;
            e.micro_batch = r.micro_batch;
            e.layer = r.layer;
            e.bytes = r.bytes;
            e.flops = r.flops;
            e.collective = r.collective;
            e.group_kind = r.group_kind;
            e.group_id = r.group_id;
            e.group_size = r.group_size;
            e.peer = r.peer;
            e.seq = r.seq;
            e.correlation = r.correlation;
            if (w.stage_event(e)) ++written;
            end = std::max(end, r.end_ns);
        });
        for (int k = 0; k < traces::kEventKindCount; ++k)
            dropped_by_kind[k] += static_cast<std::int64_t>(b->take_dropped(static_cast<EventKind>(k)));
    }
    for (int k = 0; k < traces::kEventKindCount; ++k) {
        if (dropped_by_kind[k] == 0) continue;
        dropped += dropped_by_kind[k];
        w.add_stat(run_, rank_id_,
                   std::string(traces::stats::kRecordsDropped.key) + "." +
                       std::string(traces::to_string(static_cast<EventKind>(k))),
                   dropped_by_kind[k]);
    }
    if (end > 0) w.set_run_times(run_, start_ns_, end);  // a crash keeps a run extent
    w.flush();
    spans_written_.fetch_add(written, std::memory_order_relaxed);
    spans_dropped_.fetch_add(dropped, std::memory_order_relaxed);
}

}  // namespace ss::profiler

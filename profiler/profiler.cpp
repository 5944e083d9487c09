#include "profiler/profiler.h"

#include <bit>
#include <cmath>

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
        config_.rank_file, traces::WriterOptions{.batch_events = 1 << 20, .durable = false,
                                                 .created_by = "scalescope-worker"});
    run.start_ns = now_ns();
    run.end_ns = run.start_ns;
    run.wall_start_unix_ns = unix_now_ns();
    run.status = traces::RunStatus::Running;
    start_ns_ = run.start_ns;
    run_ = writer_->begin_run(run);
    rank_.run = run_;
    writer_->put_rank(rank_);
    for (std::int32_t l : {lanes::kSteps, lanes::kPhases, lanes::kCompute, lanes::kComm, lanes::kHost})
        writer_->define_lane(run_, rank_.rank, l, lanes::name(l));
    writer_->flush();
    last_flush_ns_ = now_ns();
    current_.store(this, std::memory_order_release);
}

Profiler::~Profiler() {
    Profiler* self = this;
    current_.compare_exchange_strong(self, nullptr);
    if (!writer_) return;
    try {
        flush();
    } catch (...) {
        // Nothing to report to from a destructor; finish() is where errors surface.
    }
}

SpanBuffer& Profiler::register_thread() {
    std::lock_guard lock(buffers_mutex_);
    buffers_.push_back(std::make_unique<SpanBuffer>(config_.buffer_records));
    detail::t_slot.generation = generation_;
    detail::t_slot.buffer = buffers_.back().get();
    return *detail::t_slot.buffer;
}

void Profiler::record_all(const std::vector<SpanRecord>& spans) {
    SpanBuffer& b = thread_buffer();
    for (const SpanRecord& r : spans) {
        if (writer_ && b.size() >= b.capacity()) flush();
        record(r);
    }
}

const char* Profiler::persistent_name(const std::string& s) {
    std::lock_guard lock(buffers_mutex_);
    return persistent_.insert(s).first->c_str();
}

void Profiler::define_lane(std::int32_t lane, const std::string& name) {
    if (!writer_) return;
    std::lock_guard lock(buffers_mutex_);
    writer_->define_lane(run_, rank_.rank, lane, name);
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

void Profiler::step_boundary() {
    if (!writer_) return;
    const std::int64_t now = now_ns();
    bool due = static_cast<double>(now - last_flush_ns_) >= config_.flush_interval_s * 1e9;
    if (!due) {
        std::lock_guard lock(buffers_mutex_);
        for (const auto& b : buffers_)
            if (b->size() * 2 > b->capacity()) due = true;
    }
    if (due) flush();
}

void Profiler::flush() {
    if (!writer_) return;
    std::lock_guard lock(buffers_mutex_);
    traces::Event e;
    e.run = run_;
    e.rank = rank_.rank;
    std::int64_t end = 0;
    for (const auto& b : buffers_) {
        b->drain([&](const SpanRecord& r) {
            auto it = names_.find(r.name);
            if (it == names_.end()) it = names_.emplace(r.name, writer_->intern(r.name ? r.name : "?")).first;
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
            if (writer_->add_event(e)) ++spans_written_;
            end = std::max(end, r.end_ns);
        });
        if (auto dropped = b->take_dropped()) {
            spans_dropped_ += static_cast<std::int64_t>(dropped);
            writer_->add_stat(run_, rank_.rank, traces::stats::kEventsDroppedBufferFull.key,
                              static_cast<std::int64_t>(dropped));
        }
    }
    if (end > 0) writer_->set_run_times(run_, start_ns_, end);  // a crash keeps a run extent
    writer_->flush();
    last_flush_ns_ = now_ns();
}

void Profiler::metric(std::int64_t step, const char* name, double value) {
    if (!writer_) return;
    std::lock_guard lock(buffers_mutex_);
    writer_->add_metric(run_, rank_.rank, step, now_ns(), name, value);
}

void Profiler::set_clock(std::int64_t offset_ns, std::int64_t ref_ns, double drift_ppb,
                         std::int64_t rtt_ns) {
    if (!writer_) return;
    std::lock_guard lock(buffers_mutex_);
    rank_.clock_offset_ns = offset_ns;
    rank_.clock_ref_ns = ref_ns;
    rank_.clock_drift_ppb = drift_ppb;
    rank_.clock_rtt_ns = rtt_ns;
    writer_->put_rank(rank_);
    writer_->flush();
}

void Profiler::count(std::string_view key, std::int64_t delta) {
    if (!writer_) return;
    std::lock_guard lock(buffers_mutex_);
    writer_->add_stat(run_, rank_.rank, key, delta);
}

void Profiler::finish(traces::RunStatus status, const std::string& reason) {
    if (!writer_ || finished_) return;
    Profiler* self = this;
    current_.compare_exchange_strong(self, nullptr);
    flush();
    std::lock_guard lock(buffers_mutex_);
    writer_->finish_run(run_, status, reason, now_ns());
    finished_ = true;
}

}  // namespace ss::profiler

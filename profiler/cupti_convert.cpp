#include "profiler/cupti_convert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cxxabi.h>
#include <memory>
#include <unordered_map>

#include "traces/cuda_names.h"
#include "traces/lanes.h"
#include "traces/stats_keys.h"

namespace ss::profiler::cupti {

// traces/cuda_names.h names activity by CUPTI's enum values (Nsight exports carry the same ones).
static_assert(CUPTI_ACTIVITY_MEMCPY_KIND_HTOD == 1 && CUPTI_ACTIVITY_MEMCPY_KIND_DTOH == 2 &&
              CUPTI_ACTIVITY_MEMCPY_KIND_DTOD == 8 && CUPTI_ACTIVITY_MEMCPY_KIND_HTOH == 9 &&
              CUPTI_ACTIVITY_MEMCPY_KIND_PTOP == 10);
static_assert(CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE == 1 &&
              CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT == 2 &&
              CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE == 3 &&
              CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE == 4);

ClockMap ClockMap::from_pairs(std::uint64_t gpu0, std::int64_t host0, std::uint64_t gpu1,
                              std::int64_t host1) {
    ClockMap m;
    m.gpu_ref = static_cast<std::int64_t>(gpu0);
    m.host_ref = host0;
    if (gpu1 != gpu0)
        m.rate = static_cast<double>(host1 - host0) / static_cast<double>(static_cast<std::int64_t>(gpu1 - gpu0));
    if (!(m.rate > 0.5 && m.rate < 2.0)) m.rate = 1.0;  // a broken pair: keep the offset only
    return m;
}

std::string cuda_lane_name(std::int32_t lane) {
    if (lane == kCudaApiLane) return "cuda api";
    if (lane >= lanes::kCudaStreamBase) return "stream " + std::to_string(lane - lanes::kCudaStreamBase);
    return {};
}

std::string demangle(const char* name) {
    if (!name) return {};
    if (std::strncmp(name, "_Z", 2) != 0) return name;  // "i" would demangle to "int"
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
    return status == 0 && d ? std::string(d.get()) : std::string(name);
}

std::string_view kernel_base_name(std::string_view name) {
    // Cut the parameter list: the first '(' outside template arguments.
    int depth = 0;
    std::size_t end = name.size();
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '<') ++depth;
        if (name[i] == '>' && depth > 0) --depth;
        if (name[i] == '(' && depth == 0) {
            end = i;
            break;
        }
    }
    std::string_view head = name.substr(0, end);
    // Drop trailing template arguments.
    while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
    if (!head.empty() && head.back() == '>') {
        depth = 0;
        for (std::size_t i = head.size(); i-- > 0;) {
            if (head[i] == '>') ++depth;
            if (head[i] == '<' && --depth == 0) {
                head = head.substr(0, i);
                break;
            }
        }
    }
    // The last word (after a return type) and the last scope (after a namespace).
    if (auto sp = head.rfind(' '); sp != std::string_view::npos) head.remove_prefix(sp + 1);
    if (auto sc = head.rfind("::"); sc != std::string_view::npos) head.remove_prefix(sc + 2);
    return head;
}

bool is_nccl_kernel(std::string_view name) {
    const std::string_view base = kernel_base_name(name);
    return base.substr(0, 4) == "nccl" || base == "oneRankReduce";
}

std::int64_t ClockMap::to_host(std::uint64_t gpu_ns) const {
    const double d = static_cast<double>(static_cast<std::int64_t>(gpu_ns) - gpu_ref) * rate;
    return host_ref + static_cast<std::int64_t>(std::llround(d));
}

namespace {
std::int64_t opt_corr(std::uint32_t c) { return c == 0 ? traces::kNone : static_cast<std::int64_t>(c); }
std::int32_t stream_lane(std::uint32_t stream) {
    return lanes::kCudaStreamBase + static_cast<std::int32_t>(stream);
}
// CUPTI reports 0 for a timestamp it could not collect; a forced flush can hand over a record
// whose end is not written yet.
bool timed(std::uint64_t start, std::uint64_t end) { return start != 0 && end >= start; }
}  // namespace

Converted convert(const CUpti_Activity* record, const ClockMap& clock, const NameStore& names,
                  const ApiName& api_name) {
    Converted out;
    SpanRecord s;
    std::uint64_t start = 0, end = 0;
    switch (record->kind) {
        case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        case CUPTI_ACTIVITY_KIND_KERNEL: {
            const auto* k = reinterpret_cast<const KernelRecord*>(record);
            s.name = names(k->name ? k->name : "kernel");  // readable, stored
            const bool nccl = is_nccl_kernel(s.name);
            out.kind = nccl ? RecordKind::NcclKernel : RecordKind::Kernel;
            start = k->start;
            end = k->end;
            s.lane = stream_lane(k->streamId);
            s.correlation = opt_corr(k->correlationId);
            s.kind = nccl ? EventKind::Comm : EventKind::Kernel;
            break;
        }
        case CUPTI_ACTIVITY_KIND_MEMCPY: {
            const auto* m = reinterpret_cast<const MemcpyRecord*>(record);
            out.kind = RecordKind::Memcpy;
            start = m->start;
            end = m->end;
            s.name = traces::memcpy_kind_name(m->copyKind);
            s.kind = EventKind::Memcpy;
            s.bytes = static_cast<std::int64_t>(m->bytes);
            s.lane = stream_lane(m->streamId);
            s.correlation = opt_corr(m->correlationId);
            break;
        }
        case CUPTI_ACTIVITY_KIND_MEMSET: {
            const auto* m = reinterpret_cast<const MemsetRecord*>(record);
            out.kind = RecordKind::Memset;
            start = m->start;
            end = m->end;
            s.name = "memset";
            s.kind = EventKind::Memset;
            s.bytes = static_cast<std::int64_t>(m->bytes);
            s.lane = stream_lane(m->streamId);
            s.correlation = opt_corr(m->correlationId);
            break;
        }
        case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION: {
            const auto* y = reinterpret_cast<const SyncRecord*>(record);
            out.kind = RecordKind::Sync;
            start = y->start;
            end = y->end;
            s.name = traces::sync_type_name(y->type);
            s.kind = EventKind::Sync;
            // Stream id is CUPTI_SYNCHRONIZATION_INVALID_VALUE for context synchronisation.
            s.lane = y->streamId == static_cast<std::uint32_t>(CUPTI_SYNCHRONIZATION_INVALID_VALUE)
                         ? kCudaApiLane
                         : stream_lane(y->streamId);
            s.correlation = opt_corr(y->correlationId);
            break;
        }
        case CUPTI_ACTIVITY_KIND_RUNTIME:
        case CUPTI_ACTIVITY_KIND_DRIVER: {
            const auto* a = reinterpret_cast<const ApiRecord*>(record);
            const bool driver = record->kind == CUPTI_ACTIVITY_KIND_DRIVER;
            out.kind = driver ? RecordKind::Driver : RecordKind::Runtime;
            start = a->start;
            end = a->end;
            s.name = api_name(driver ? CUPTI_CB_DOMAIN_DRIVER_API : CUPTI_CB_DOMAIN_RUNTIME_API,
                              static_cast<std::uint32_t>(a->cbid));
            s.kind = EventKind::HostRange;
            s.lane = kCudaApiLane;
            s.correlation = opt_corr(a->correlationId);
            break;
        }
        default:
            return out;  // counted by the caller as cupti_records_unknown
    }
    if (!timed(start, end)) return out;  // counted by the caller as cupti_records_untimed
    s.start_ns = clock.to_host(start);
    s.end_ns = clock.to_host(end);
    out.span = s;
    return out;
}

void RecordCounts::add(const Converted& c) {
    switch (c.kind) {
        case RecordKind::Kernel: ++kernel; break;
        case RecordKind::NcclKernel: ++nccl; break;
        case RecordKind::Memcpy: ++memcpy; break;
        case RecordKind::Memset: ++memset; break;
        case RecordKind::Sync: ++sync; break;
        case RecordKind::Runtime: ++runtime; break;
        case RecordKind::Driver: ++driver; break;
        case RecordKind::Unknown: ++unknown; return;
    }
    if (c.untimed()) ++untimed;
}

std::vector<std::pair<std::string_view, std::int64_t>> count_deltas(const RecordCounts& now,
                                                                   const RecordCounts& before) {
    namespace st = traces::stats;
    const std::pair<const st::Key*, std::int64_t RecordCounts::*> fields[] = {
        {&st::kCuptiRecordsKernel, &RecordCounts::kernel},   {&st::kCuptiRecordsNccl, &RecordCounts::nccl},
        {&st::kCuptiRecordsMemcpy, &RecordCounts::memcpy},   {&st::kCuptiRecordsMemset, &RecordCounts::memset},
        {&st::kCuptiRecordsSync, &RecordCounts::sync},       {&st::kCuptiRecordsRuntime, &RecordCounts::runtime},
        {&st::kCuptiRecordsDriver, &RecordCounts::driver},   {&st::kCuptiRecordsUnknown, &RecordCounts::unknown},
        {&st::kCuptiRecordsUntimed, &RecordCounts::untimed}, {&st::kCuptiRecordsDropped, &RecordCounts::dropped},
        {&st::kCuptiNcclAttached, &RecordCounts::nccl_attached},
        {&st::kCuptiNcclUnattached, &RecordCounts::nccl_unattached}};
    std::vector<std::pair<std::string_view, std::int64_t>> out;
    for (const auto& [key, field] : fields)
        if (now.*field != before.*field) out.emplace_back(key->key, now.*field - before.*field);
    return out;
}

namespace {
using LaunchLookup = std::function<std::optional<std::int64_t>(std::int64_t correlation)>;

std::vector<const SpanRecord*> by_start(const std::vector<const SpanRecord*>& spans) {
    std::vector<const SpanRecord*> v = spans;
    std::sort(v.begin(), v.end(), [](const SpanRecord* a, const SpanRecord* b) { return a->start_ns < b->start_ns; });
    return v;
}

// The innermost Comm span (latest start) that contains host time t, or nullptr.
const SpanRecord* enclosing(const std::vector<const SpanRecord*>& comms, std::int64_t t) {
    auto pos = std::upper_bound(comms.begin(), comms.end(), t,
                                [](std::int64_t v, const SpanRecord* c) { return v < c->start_ns; });
    while (pos != comms.begin()) {
        --pos;
        const SpanRecord& c = **pos;
        if (c.end_ns >= t) return &c;
        if (t - c.start_ns > 60'000'000'000LL) break;  // no Comm call lasts a minute
    }
    return nullptr;
}

bool attach_one(SpanRecord& k, const LaunchLookup& launch, const std::vector<const SpanRecord*>& comms) {
    if (k.correlation == traces::kNone) return false;
    const std::optional<std::int64_t> t = launch(k.correlation);
    if (!t) return false;
    const SpanRecord* c = enclosing(comms, *t);
    if (!c) return false;
    k.collective = c->collective;
    k.bytes = c->bytes;
    k.group_kind = c->group_kind;
    k.group_id = c->group_id;
    k.group_size = c->group_size;
    k.peer = c->peer;
    k.seq = c->seq;
    k.step = c->step;
    k.micro_batch = c->micro_batch;
    return true;
}

void add_launches(std::unordered_map<std::int64_t, std::int64_t>& map, const std::vector<SpanRecord>& api_calls) {
    // A runtime call and the driver call it makes may share a correlation id: the earlier start
    // is the launch (both lie inside the same Comm call).
    for (const auto& a : api_calls) {
        if (a.correlation == traces::kNone) continue;
        auto [it, inserted] = map.emplace(a.correlation, a.start_ns);
        if (!inserted) it->second = std::min(it->second, a.start_ns);
    }
}
}  // namespace

std::size_t attach_nccl(std::vector<SpanRecord>& kernels, const std::vector<SpanRecord>& api_calls,
                        const std::vector<SpanRecord>& comm_spans) {
    std::unordered_map<std::int64_t, std::int64_t> launches;
    add_launches(launches, api_calls);
    std::vector<const SpanRecord*> comms;
    for (const auto& c : comm_spans) comms.push_back(&c);
    comms = by_start(comms);
    const LaunchLookup lookup = [&](std::int64_t corr) -> std::optional<std::int64_t> {
        auto it = launches.find(corr);
        if (it == launches.end()) return std::nullopt;
        return it->second;
    };
    std::size_t n = 0;
    for (auto& k : kernels) n += attach_one(k, lookup, comms) ? 1 : 0;
    return n;
}

std::vector<SpanRecord> NcclAttacher::add(std::vector<SpanRecord> kernels, const std::vector<SpanRecord>& api_calls,
                                          std::vector<SpanRecord> comm_spans, bool final) {
    launches_.emplace_back();
    add_launches(launches_.back(), api_calls);
    comms_.push_back(std::move(comm_spans));
    while (static_cast<int>(launches_.size()) > kWindow) launches_.pop_front();
    while (static_cast<int>(comms_.size()) > kWindow) comms_.pop_front();

    std::vector<const SpanRecord*> comms;
    for (const auto& flush : comms_)
        for (const auto& c : flush) comms.push_back(&c);
    comms = by_start(comms);
    const LaunchLookup lookup = [&](std::int64_t corr) -> std::optional<std::int64_t> {
        for (auto f = launches_.rbegin(); f != launches_.rend(); ++f)
            if (auto it = f->find(corr); it != f->end()) return it->second;
        return std::nullopt;
    };

    std::vector<Waiting> candidates = std::move(waiting_);
    waiting_.clear();
    for (auto& k : kernels) candidates.push_back({std::move(k), 0});
    std::vector<SpanRecord> out;
    for (auto& w : candidates) {
        if (attach_one(w.kernel, lookup, comms)) {
            ++attached_;
            out.push_back(w.kernel);
        } else if (final || ++w.flushes >= kWindow) {
            ++unattached_;
            out.push_back(w.kernel);
        } else {
            waiting_.push_back(std::move(w));
        }
    }
    return out;
}

}  // namespace ss::profiler::cupti

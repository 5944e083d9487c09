#include "profiler/cupti_convert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

namespace ss::profiler::cupti {

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

std::int64_t ClockMap::to_host(std::uint64_t gpu_ns) const {
    const double d = static_cast<double>(static_cast<std::int64_t>(gpu_ns) - gpu_ref) * rate;
    return host_ref + static_cast<std::int64_t>(std::llround(d));
}

namespace {
std::int64_t opt_corr(std::uint32_t c) { return c == 0 ? traces::kNone : static_cast<std::int64_t>(c); }
}  // namespace

Converted convert(const CUpti_Activity* record, const ClockMap& clock, const NameStore& names,
                  const ApiName& api_name) {
    Converted out;
    SpanRecord s;
    switch (record->kind) {
        case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        case CUPTI_ACTIVITY_KIND_KERNEL: {
            const auto* k = reinterpret_cast<const KernelRecord*>(record);
            const char* n = k->name ? k->name : "kernel";
            s.name = names(n);
            s.start_ns = clock.to_host(k->start);
            s.end_ns = clock.to_host(k->end);
            s.lane = lanes::kCudaStreamBase + static_cast<std::int32_t>(k->streamId);
            s.correlation = opt_corr(k->correlationId);
            out.nccl = std::strncmp(n, "nccl", 4) == 0;
            s.kind = out.nccl ? EventKind::Comm : EventKind::Kernel;
            break;
        }
        case CUPTI_ACTIVITY_KIND_MEMCPY: {
            const auto* m = reinterpret_cast<const MemcpyRecord*>(record);
            switch (m->copyKind) {
                case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD: s.name = "memcpy HtoD"; break;
                case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH: s.name = "memcpy DtoH"; break;
                case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD: s.name = "memcpy DtoD"; break;
                case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH: s.name = "memcpy HtoH"; break;
                case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP: s.name = "memcpy PtoP"; break;
                default: s.name = "memcpy"; break;
            }
            s.kind = EventKind::Memcpy;
            s.bytes = static_cast<std::int64_t>(m->bytes);
            s.start_ns = clock.to_host(m->start);
            s.end_ns = clock.to_host(m->end);
            s.lane = lanes::kCudaStreamBase + static_cast<std::int32_t>(m->streamId);
            s.correlation = opt_corr(m->correlationId);
            break;
        }
        case CUPTI_ACTIVITY_KIND_MEMSET: {
            const auto* m = reinterpret_cast<const MemsetRecord*>(record);
            s.name = "memset";
            s.kind = EventKind::Memset;
            s.bytes = static_cast<std::int64_t>(m->bytes);
            s.start_ns = clock.to_host(m->start);
            s.end_ns = clock.to_host(m->end);
            s.lane = lanes::kCudaStreamBase + static_cast<std::int32_t>(m->streamId);
            s.correlation = opt_corr(m->correlationId);
            break;
        }
        case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION: {
            const auto* y = reinterpret_cast<const SyncRecord*>(record);
            switch (y->type) {
                case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE: s.name = "cudaEventSynchronize"; break;
                case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT: s.name = "cudaStreamWaitEvent"; break;
                case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE: s.name = "cudaStreamSynchronize"; break;
                case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE: s.name = "cudaDeviceSynchronize"; break;
                default: s.name = "synchronize"; break;
            }
            s.kind = EventKind::Sync;
            s.start_ns = clock.to_host(y->start);
            s.end_ns = clock.to_host(y->end);
            // Stream id is CUPTI_SYNCHRONIZATION_INVALID_VALUE for context synchronisation.
            s.lane = y->streamId == static_cast<std::uint32_t>(CUPTI_SYNCHRONIZATION_INVALID_VALUE)
                         ? kCudaApiLane
                         : lanes::kCudaStreamBase + static_cast<std::int32_t>(y->streamId);
            s.correlation = opt_corr(y->correlationId);
            break;
        }
        case CUPTI_ACTIVITY_KIND_RUNTIME: {
            const auto* a = reinterpret_cast<const ApiRecord*>(record);
            s.name = api_name(static_cast<std::uint32_t>(a->cbid));
            s.kind = EventKind::HostRange;
            s.start_ns = clock.to_host(a->start);
            s.end_ns = clock.to_host(a->end);
            s.lane = kCudaApiLane;
            s.correlation = opt_corr(a->correlationId);
            break;
        }
        default:
            return out;  // counted by the caller as cupti_records_unknown
    }
    out.span = s;
    return out;
}

void attach_nccl(std::vector<SpanRecord>& kernels, const std::vector<SpanRecord>& api_calls,
                 const std::vector<SpanRecord>& comm_spans) {
    std::unordered_map<std::int64_t, std::int64_t> launch_time;  // correlation -> API start
    for (const auto& a : api_calls)
        if (a.correlation != traces::kNone) launch_time[a.correlation] = a.start_ns;
    std::vector<const SpanRecord*> comms;
    for (const auto& c : comm_spans) comms.push_back(&c);
    std::sort(comms.begin(), comms.end(),
              [](const SpanRecord* a, const SpanRecord* b) { return a->start_ns < b->start_ns; });
    for (auto& k : kernels) {
        auto it = launch_time.find(k.correlation);
        if (it == launch_time.end()) continue;
        const std::int64_t t = it->second;
        // The last Comm span starting at or before the launch that also ends after it.
        auto pos = std::upper_bound(comms.begin(), comms.end(), t,
                                    [](std::int64_t v, const SpanRecord* c) { return v < c->start_ns; });
        while (pos != comms.begin()) {
            --pos;
            const SpanRecord& c = **pos;
            if (c.end_ns >= t) {
                k.collective = c.collective;
                k.bytes = c.bytes;
                k.group_kind = c.group_kind;
                k.group_id = c.group_id;
                k.group_size = c.group_size;
                k.peer = c.peer;
                k.seq = c.seq;
                k.step = c.step;
                k.micro_batch = c.micro_batch;
                break;
            }
            if (t - c.start_ns > 60'000'000'000LL) break;  // no enclosing span within a minute
        }
    }
}

}  // namespace ss::profiler::cupti

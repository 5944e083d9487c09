// One run's analysis. docs/ANALYSIS.md defines every number; the comments cite it.
#include "core/analysis/analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/spec/spec.h"
#include "models/plan/flops.h"
#include "traces/aggregate.h"
#include "traces/lanes.h"
#include "traces/median.h"
#include "traces/stats_keys.h"

namespace ss::core {

using traces::Aggregate;
using traces::Collective;
using traces::Event;
using traces::EventKind;
using traces::GroupKind;
using traces::RunId;
using traces::TraceReader;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

// ---- Intervals ----

std::vector<Interval> union_of(std::vector<Interval> v) {
    std::erase_if(v, [](const Interval& i) { return i.end <= i.start; });
    std::sort(v.begin(), v.end(),
              [](const Interval& a, const Interval& b) { return a.start < b.start; });
    std::vector<Interval> out;
    out.reserve(v.size());
    for (const auto& i : v) {
        if (!out.empty() && i.start <= out.back().end)
            out.back().end = std::max(out.back().end, i.end);
        else
            out.push_back(i);
    }
    return out;
}

std::int64_t total_length(const std::vector<Interval>& u) {
    std::int64_t t = 0;
    for (const auto& i : u) t += i.end - i.start;
    return t;
}

// ---- Breakdown ----

std::string_view to_string(Part p) {
    switch (p) {
        case Part::Compute: return "compute";
        case Part::ExposedComm: return "exposed_comm";
        case Part::Bubble: return "bubble";
        case Part::Data: return "data";
        case Part::Optimizer: return "optimizer";
        case Part::OtherHost: return "other_host";
        case Part::Idle: return "idle";
    }
    return "?";
}

double Breakdown::sum() const {
    double s = 0;
    for (double v : part_ns) s += v;
    return s;
}

double Breakdown::overlap_ratio() const { return comm_ns > 0 ? overlapped_ns / comm_ns : kNaN; }

namespace {

Breakdown& operator+=(Breakdown& a, const Breakdown& b) {
    for (int i = 0; i < kPartCount; ++i) a.part_ns[i] += b.part_ns[i];
    a.step_ns += b.step_ns;
    a.comm_ns += b.comm_ns;
    a.compute_ns += b.compute_ns;
    a.overlapped_ns += b.overlapped_ns;
    return a;
}
Breakdown scaled(Breakdown b, double k) {
    for (auto& v : b.part_ns) v *= k;
    b.step_ns *= k;
    b.comm_ns *= k;
    b.compute_ns *= k;
    b.overlapped_ns *= k;
    return b;
}

// What a rank did, as unions of intervals per class (docs/ANALYSIS.md "Breakdown").
enum Cls : int {
    kKernel = 0,     // kernel, memcpy, memset (any lane: CPU compute lane or CUDA streams)
    kOptPhase,       // the optimizer phase (Phase or HostRange named "optimizer")
    kData,           // host range "data" (or "data_*")
    kCollective,     // communication other than send/recv
    kP2p,            // send / recv
    kHost,           // any other phase, micro-batch, host range or sync
    kWait,           // ps_wait: a worker blocked by the staleness bound (idle: waiting on others)
    kClsCount
};

struct KernelEv {
    std::int64_t start, end;
    std::int64_t name;
    EventKind kind;
    double flops;
};
struct CommEv {
    std::int64_t start, end;
    Collective collective;
    GroupKind group_kind;
    std::int64_t group_id, group_size, bytes, seq, peer;
};
struct StepSpan {
    std::int64_t step;
    Interval span;
};
// A CUPTI record on a CUDA stream lane (docs/ANALYSIS.md "GPU streams").
enum StreamCls : int { kStreamCompute = 0, kStreamNccl, kStreamCopy, kStreamClsCount };
struct StreamEv {
    std::int32_t stream;
    StreamCls cls;
    Interval span;
    std::int64_t name;  // string id
};
// Any event but a step, for the per-op summary (HTA's TraceDiff).
struct OpEv {
    std::int64_t name;  // string id
    std::int64_t start, end;
    bool gpu;  // on a CUDA stream lane
};
struct ApiCall {
    std::int64_t correlation;
    Interval span;
};
struct RankData {
    std::array<std::vector<Interval>, kClsCount> cls;
    std::vector<StepSpan> steps;  // this rank's step events
    std::vector<KernelEv> kernels;
    std::vector<CommEv> comms;  // host-side communication calls (not device records)
    // Starts and ends of the work of the rank's own thread: its host-side communication calls,
    // the kernels on its "compute" lane (a CPU rank) and the CUDA API calls that launched a
    // compute kernel (a GPU rank). A blocking call holds the thread: none falls inside it.
    std::vector<std::int64_t> thread_marks;
    std::vector<StreamEv> stream_events;            // records on the CUDA stream lanes
    std::set<std::int32_t> streams;                 // stream ids of the rank's lanes
    std::vector<ApiCall> api_calls;                 // host ranges with a correlation id (CUDA API)
    std::unordered_set<std::int64_t> compute_corr;  // correlation ids of compute kernels on streams
    std::int64_t nccl_unattached = 0;               // NCCL kernels without a collective
    // NCCL kernels that carry a collective: the rank's communication calls when it has no host-side
    // Comm call (an imported trace: docs/ANALYSIS.md "Collective summary").
    std::vector<CommEv> device_comms;
    bool comms_on_device = false;  // comms are device_comms: each span is a transfer on the GPU
    bool comm_lane_calls = false;  // some host call is on the "comm" lane (issue to completion)
    std::vector<OpEv> ops;
    std::int64_t first_ns = std::numeric_limits<std::int64_t>::max();  // the rank's events' span
    std::int64_t last_ns = std::numeric_limits<std::int64_t>::min();
};

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

int class_of(const Event& e, const std::string& name) {
    switch (e.kind) {
        case EventKind::Kernel:
        case EventKind::Memcpy:
        case EventKind::Memset: return kKernel;
        case EventKind::Comm:
            // A parameter-server push or pull is the data-parallel synchronisation, not a pipeline
            // neighbour: communication, exposed where no kernel runs (docs/ANALYSIS.md).
            if (e.group_kind == GroupKind::PS) return kCollective;
            return e.collective == Collective::Send || e.collective == Collective::Recv ? kP2p
                                                                                        : kCollective;
        case EventKind::Phase:
        case EventKind::HostRange:
            if (name == "optimizer") return kOptPhase;
            if (e.kind == EventKind::HostRange && (name == "data" || starts_with(name, "data_")))
                return kData;
            return kHost;
        case EventKind::MicroBatch: return kHost;
        case EventKind::Sync: return name == "ps_wait" ? kWait : kHost;
        case EventKind::Step: return -1;
    }
    return -1;
}

// The part of each instant of `span` (precedence in docs/ANALYSIS.md), plus the non-additive
// communication, compute and overlap totals. `u` holds the unions per class.
Breakdown classify(const std::array<std::vector<Interval>, kClsCount>& u, Interval span) {
    Breakdown b;
    b.step_ns = static_cast<double>(span.end - span.start);
    // Clip each union to the span and collect boundaries.
    std::array<std::vector<Interval>, kClsCount> c;
    std::vector<std::int64_t> cuts{span.start, span.end};
    for (int k = 0; k < kClsCount; ++k) {
        const auto& v = u[k];
        auto it = std::upper_bound(v.begin(), v.end(), span.start,
                                   [](std::int64_t t, const Interval& i) { return t < i.end; });
        for (; it != v.end() && it->start < span.end; ++it) {
            Interval i{std::max(it->start, span.start), std::min(it->end, span.end)};
            if (i.end > i.start) {
                c[k].push_back(i);
                cuts.push_back(i.start);
                cuts.push_back(i.end);
            }
        }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::array<size_t, kClsCount> idx{};
    auto on = [&](int k, std::int64_t t) {
        auto& v = c[k];
        size_t& i = idx[k];
        while (i < v.size() && v[i].end <= t) ++i;
        return i < v.size() && v[i].start <= t;
    };
    for (size_t s = 0; s + 1 < cuts.size(); ++s) {
        const std::int64_t t = cuts[s];
        const double len = static_cast<double>(cuts[s + 1] - t);
        const bool kern = on(kKernel, t), opt = on(kOptPhase, t), data = on(kData, t),
                   coll = on(kCollective, t), p2p = on(kP2p, t), host = on(kHost, t),
                   wait = on(kWait, t);
        Part p;
        if (kern) p = opt ? Part::Optimizer : Part::Compute;
        else if (data) p = Part::Data;
        else if (coll) p = Part::ExposedComm;
        else if (p2p) p = Part::Bubble;
        else if (wait) p = Part::Idle;  // blocked by the staleness bound: waiting on other workers
        else if (opt) p = Part::Optimizer;
        else if (host) p = Part::OtherHost;
        else p = Part::Idle;
        b.part_ns[static_cast<int>(p)] += len;
        if (kern) b.compute_ns += len;
        if (coll || p2p) b.comm_ns += len;
        if (kern && (coll || p2p)) b.overlapped_ns += len;
    }
    return b;
}

// Nearest-rank percentile of a sorted vector (q in (0, 1]).
double nearest_rank(const std::vector<std::int64_t>& sorted, double q) {
    if (sorted.empty()) return 0;
    auto k = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    k = std::clamp<size_t>(k, 1, sorted.size());
    return static_cast<double>(sorted[k - 1]);
}

std::string run_name(const traces::RunInfo& r) { return "run " + std::to_string(r.id.value); }

// Length of the part of the sorted disjoint set `u` inside `w`.
std::int64_t length_in(const std::vector<Interval>& u, Interval w) {
    std::int64_t t = 0;
    auto it = std::upper_bound(u.begin(), u.end(), w.start,
                               [](std::int64_t x, const Interval& i) { return x < i.end; });
    for (; it != u.end() && it->start < w.end; ++it)
        t += std::min(it->end, w.end) - std::max(it->start, w.start);
    return t;
}

// Intersection of two sorted disjoint sets.
std::vector<Interval> intersection(const std::vector<Interval>& a, const std::vector<Interval>& b) {
    std::vector<Interval> out;
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const Interval x{std::max(a[i].start, b[j].start), std::min(a[i].end, b[j].end)};
        if (x.end > x.start) out.push_back(x);
        (a[i].end < b[j].end ? i : j)++;
    }
    return out;
}

GpuTime& operator+=(GpuTime& a, const GpuTime& b) {
    a.compute_ns += b.compute_ns;
    a.nccl_ns += b.nccl_ns;
    a.copy_ns += b.copy_ns;
    a.busy_ns += b.busy_ns;
    a.overlap_ns += b.overlap_ns;
    return a;
}
GpuTime scaled(GpuTime g, double k) {
    g.compute_ns *= k;
    g.nccl_ns *= k;
    g.copy_ns *= k;
    g.busy_ns *= k;
    g.overlap_ns *= k;
    return g;
}

// The time of one set of stream records inside the spans `steps`: unions per class, their union
// and the overlap of compute with NCCL.
GpuTime gpu_time(std::array<std::vector<Interval>, kStreamClsCount> u,
                 const std::vector<Interval>& steps) {
    std::vector<Interval> all;
    for (auto& v : u) {
        v = union_of(std::move(v));
        all.insert(all.end(), v.begin(), v.end());
    }
    all = union_of(std::move(all));
    const std::vector<Interval> both = intersection(u[kStreamCompute], u[kStreamNccl]);
    GpuTime g;
    for (const Interval& w : steps) {
        g.compute_ns += static_cast<double>(length_in(u[kStreamCompute], w));
        g.nccl_ns += static_cast<double>(length_in(u[kStreamNccl], w));
        g.copy_ns += static_cast<double>(length_in(u[kStreamCopy], w));
        g.busy_ns += static_cast<double>(length_in(all, w));
        g.overlap_ns += static_cast<double>(length_in(both, w));
    }
    return g;
}

}  // namespace

std::int32_t stream_of_lane(std::int32_t lane, const std::string& name) {
    constexpr std::string_view prefix = "stream ";
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
        std::int64_t v = 0;
        for (size_t i = prefix.size(); i < name.size(); ++i) {
            if (name[i] < '0' || name[i] > '9' || v > 1'000'000'000) return -1;
            v = v * 10 + (name[i] - '0');
        }
        return static_cast<std::int32_t>(v);
    }
    const bool unnamed = name.empty() || name == "lane " + std::to_string(lane);
    return unnamed && lane >= traces::lanes::kCudaStreamBase ? lane - traces::lanes::kCudaStreamBase
                                                             : -1;
}

std::string lane_display_name(std::int32_t lane, const std::string& name) {
    const bool unnamed = name.empty() || name == "lane " + std::to_string(lane);
    if (!unnamed) return name;
    if (lane == traces::lanes::kCudaApi) return "CUDA API";
    if (lane >= traces::lanes::kCudaStreamBase)
        return "stream " + std::to_string(lane - traces::lanes::kCudaStreamBase);
    if (const char* n = traces::lanes::name(lane)) return n;
    return name.empty() ? "lane " + std::to_string(lane) : name;
}

bool is_loss_counter(std::string_view key) {
    constexpr std::string_view prefix = "cupti_records_";
    return key.substr(0, prefix.size()) != prefix ||
           key == traces::stats::kCuptiRecordsDropped.key ||
           key == traces::stats::kCuptiRecordsUnknown.key;
}

double GpuTime::nccl_overlap() const {
    return nccl_ns > 0 ? overlap_ns / nccl_ns : kNaN;
}

std::string_view to_string(KernelType t) {
    switch (t) {
        case KernelType::Computation: return "computation";
        case KernelType::Communication: return "communication";
        case KernelType::Memory: return "memory";
    }
    return "?";
}

std::string kernel_state_name(int state) {
    std::string s;
    for (int k = 0; k < kKernelTypeCount; ++k)
        if (state & (1 << k))
            s += (s.empty() ? "" : " overlapping ") + std::string(to_string(static_cast<KernelType>(k)));
    return s.empty() ? "idle" : s;
}

double HtaRank::comm_comp_overlap() const { return comm_ns > 0 ? comm_comp_ns / comm_ns : kNaN; }

PeakFlops measured_matrix_peak(const std::vector<traces::Metric>& metrics) {
    std::map<std::int32_t, std::vector<double>> per_rank;
    for (const auto& m : metrics)
        if (m.name == kMatrixRateMetric && std::isfinite(m.value) && m.value > 0)
            per_rank[m.rank].push_back(m.value);
    if (per_rank.empty()) return {};
    std::vector<double> ranks;
    for (auto& [rank, v] : per_rank) ranks.push_back(traces::median(v));
    const size_t n = ranks.size();
    return {traces::median(ranks), "cuBLAS fp32 sgemm measured in the run (median of " +
                                       std::to_string(n) + (n == 1 ? " rank)" : " ranks)")};
}

StepTimeStats step_time_stats(std::vector<std::int64_t> t) {
    StepTimeStats s;
    s.count = static_cast<std::int64_t>(t.size());
    if (t.empty()) return s;
    std::sort(t.begin(), t.end());
    const size_t n = t.size();
    s.median_ns = n % 2 ? static_cast<double>(t[n / 2])
                        : 0.5 * (static_cast<double>(t[n / 2 - 1]) + static_cast<double>(t[n / 2]));
    double sum = 0;
    for (auto v : t) sum += static_cast<double>(v);
    s.mean_ns = sum / static_cast<double>(n);
    double ss = 0;
    for (auto v : t) ss += (static_cast<double>(v) - s.mean_ns) * (static_cast<double>(v) - s.mean_ns);
    s.stddev_ns = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0;  // sample std. dev.
    s.min_ns = static_cast<double>(t.front());
    s.max_ns = static_cast<double>(t.back());
    s.p95_ns = nearest_rank(t, 0.95);
    return s;
}

StoredSummaries summaries_from_aggregates(const std::vector<Aggregate>& aggs) {
    StoredSummaries out;
    auto& kernels = out.kernels;
    auto& collectives = out.collectives;
    double kernelTotal = 0;
    for (const Aggregate& a : aggs)
        if (a.kind == EventKind::Kernel || a.kind == EventKind::Memcpy || a.kind == EventKind::Memset)
            kernelTotal += static_cast<double>(a.total_ns);
    for (const Aggregate& a : aggs) {
        if (a.kind == EventKind::Kernel || a.kind == EventKind::Memcpy || a.kind == EventKind::Memset) {
            KernelSummary k;
            k.name = a.name;
            k.kind = a.kind;
            k.count = a.count;
            k.total_ns = a.total_ns;
            k.share = kernelTotal > 0 ? static_cast<double>(a.total_ns) / kernelTotal : 0;
            k.mean_ns = a.mean_ns;
            k.median_ns = a.median_ns;
            k.p95_ns = a.p95_ns;
            kernels.push_back(k);
        } else if (a.kind == EventKind::Comm) {
            CollectiveSummary c;
            c.collective = a.collective;
            c.group_kind = a.group_kind;
            c.count = a.count;
            c.total_ns = a.total_ns;
            c.mean_ns = a.mean_ns;
            c.bytes = a.count > 0 ? a.bytes / a.count : 0;
            // No bandwidth: a stored total sums issue → completion spans, which overlap for
            // non-blocking calls, and which calls overlapped is not stored.
            collectives.push_back(c);
        }
    }
    std::sort(kernels.begin(), kernels.end(), [](auto& a, auto& b) { return a.total_ns > b.total_ns; });
    std::sort(collectives.begin(), collectives.end(), [](auto& a, auto& b) { return a.total_ns > b.total_ns; });
    return out;
}

int detect_warmup(const std::vector<std::int64_t>& times) {
    const size_t n = times.size();
    if (n < 2) return 0;
    // Reference: the median of the second half (steady state).
    std::vector<std::int64_t> tail(times.begin() + static_cast<std::ptrdiff_t>(n / 2), times.end());
    const double ref = step_time_stats(tail).median_ns;
    int k = 0;
    while (static_cast<size_t>(k) < n / 2 && static_cast<double>(times[static_cast<size_t>(k)]) > 1.2 * ref)
        ++k;
    return k;
}

double mfu_of(double model_flop_per_s, double peak, int world_size) {
    const models::Mfu m = models::model_flops_utilisation(model_flop_per_s, peak, std::max(1, world_size));
    return m.known() ? m.value : -1;
}

PeakFlops newest_calibrated_peak(TraceReader& reader) {
    const auto cals = reader.calibrations();
    for (auto it = cals.rbegin(); it != cals.rend(); ++it) {
        const double p = peak_flops_from_hardware_json(it->hardware_json);
        if (p > 0)
            return {p, "calibration " + std::to_string(it->id.value) +
                           (it->host.empty() ? "" : " (" + it->host + ")")};
    }
    return {};
}

std::string mfu_note(const Throughput& t) {
    // From the values (not mfu_status alone), so a Throughput built by hand reads the same.
    if (!(t.mfu > 0)) {
        if (!(t.model_flop_per_s > 0))
            return "MFU unknown: no model FLOP count (the spec gives no global batch or parameter count)";
        if (t.mfu_ratio > 1 || t.mfu_status == MfuStatus::AbovePeak) {
            models::Mfu m;
            m.problem = models::MfuProblem::AbovePeak;
            m.ratio = t.mfu_ratio;
            return "MFU unknown: " + models::mfu_problem_text(m) + ". Peak: " + t.peak_source + " × ranks";
        }
        return "MFU unknown: no peak FLOP/s. Calibrate this machine ('scalescope-cli calibrate --trace FILE' "
               "stores it in the file) or pass --hardware HW.json or --peak-flops F";
    }
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f %%", 100.0 * t.mfu);
    return std::string("MFU ") + pct +
           ": the matrix-product FLOPs the kernels perform (no embedding lookups, causal attention as computed) "
           "against the peak of " + t.peak_source;
}

std::string bandwidth_note(const CollectiveSummary& c) {
    if (c.overlapped <= 0 || c.bytes <= 0) return {};
    const std::string n = std::to_string(c.overlapped);
    if (c.bandwidth_calls() <= 0)
        return "not known: every call overlapped other work of its rank (non-blocking: issue to completion "
               "includes that work), so the transfer time is not recorded";
    return "from " + std::to_string(c.bandwidth_calls()) + " of " + std::to_string(c.count) + " calls; " + n +
           " overlapped other work of their rank (non-blocking) and are left out";
}

std::vector<StragglerRow> stragglers(const std::vector<RankBreakdown>& ranks, double threshold) {
    std::vector<StragglerRow> rows;
    std::vector<double> work;
    for (const RankBreakdown& r : ranks) {
        StragglerRow s;
        s.rank = r.rank;
        s.step_ns = r.mean.step_ns;
        s.work_ns = r.mean.part(Part::Compute) + r.mean.part(Part::Data) + r.mean.part(Part::Optimizer) +
                    r.mean.part(Part::OtherHost);
        s.wait_ns = r.mean.part(Part::ExposedComm) + r.mean.part(Part::Bubble) + r.mean.part(Part::Idle);
        work.push_back(s.work_ns);
        rows.push_back(s);
    }
    if (rows.empty()) return rows;
    const double median = traces::median(work);
    for (auto& r : rows) {
        r.vs_median = median > 0 ? r.work_ns / median - 1 : 0;
        r.straggler = rows.size() > 1 && r.vs_median > threshold;
    }
    return rows;
}

double peak_flops_from_hardware_json(const std::string& text) {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return -1;
    // The hardware file (docs/LAUNCH.md "The hardware file"): compute.peak_flops, the best rate of a
    // large square sgemm of one rank in FLOP/s (DESIGN.md: the "peak" of MFU); files written before
    // it existed give compute.sgemm_flops (a 512³ sgemm), taken as the peak.
    auto c = doc.find("compute");
    if (c == doc.end() || !c->is_object()) return -1;
    for (const char* key : {"peak_flops", "sgemm_flops"}) {
        auto f = c->find(key);
        if (f == c->end() || !f->is_number()) continue;
        const double v = f->get<double>();
        if (std::isfinite(v) && v > 0) return v;
    }
    return -1;
}

namespace {

// Step spans per rank: the step number is the event's `step`, else its order on the rank.
void add_step(RankData& rd, const Event& e) {
    const std::int64_t n = e.step >= 0 ? e.step : static_cast<std::int64_t>(rd.steps.size());
    rd.steps.push_back({n, {e.start_ns, e.end_ns}});
}

struct StepTable {
    std::vector<std::int64_t> numbers;                 // steps every rank has, ascending
    std::vector<std::vector<Interval>> spans;          // [step index][rank index]
    std::vector<std::int32_t> ranks;                   // ranks with steps, ascending
    std::vector<std::string> warnings;
};

StepTable build_steps(const traces::RunInfo& run, std::map<std::int32_t, RankData>& data,
                      const std::vector<traces::RankInfo>& rank_rows) {
    StepTable t;
    std::map<std::int64_t, std::map<std::int32_t, Interval>> by_step;
    for (auto& [rank, rd] : data) {
        if (rd.steps.empty()) continue;
        t.ranks.push_back(rank);
        std::set<std::int64_t> seen;
        for (const auto& s : rd.steps) {
            if (!seen.insert(s.step).second) {
                t.warnings.push_back("rank " + std::to_string(rank) + " has step " +
                                     std::to_string(s.step) + " twice: the later one is used");
            }
            by_step[s.step][rank] = s.span;
        }
    }
    if (t.ranks.empty())
        throw NoStepsError(run_name(run) + " has no step events (kind 'step', one per training "
                            "step on the 'steps' lane): step times cannot be measured");
    for (const auto& k : rank_rows)
        if (!data.count(k.rank) || data[k.rank].steps.empty())
            t.warnings.push_back("rank " + std::to_string(k.rank) +
                                 " has no step events: it is left out of the breakdown");
    std::vector<std::int64_t> incomplete;
    for (auto& [n, m] : by_step) {
        if (m.size() != t.ranks.size()) {
            incomplete.push_back(n);
            continue;
        }
        t.numbers.push_back(n);
        std::vector<Interval> row;
        for (auto r : t.ranks) row.push_back(m[r]);
        t.spans.push_back(std::move(row));
    }
    if (!incomplete.empty()) {
        std::string list;
        for (size_t i = 0; i < incomplete.size() && i < 8; ++i)
            list += (i ? ", " : "") + std::to_string(incomplete[i]);
        if (incomplete.size() > 8) list += ", ...";
        t.warnings.push_back(std::to_string(incomplete.size()) +
                             " step(s) not recorded on every rank were left out: " + list);
    }
    if (t.numbers.empty())
        throw NoStepsError(run_name(run) + " has no step recorded on every rank");
    return t;
}

// Index of the measured step of a rank whose own span contains t, or -1.
struct SpanIndex {
    std::vector<std::pair<Interval, bool>> spans;  // sorted by start; bool = measured
    void sort() {
        std::sort(spans.begin(), spans.end(),
                  [](const auto& a, const auto& b) { return a.first.start < b.first.start; });
    }
    // The measured step span holding t, or nullptr.
    const Interval* measured_span(std::int64_t t) const {
        auto it = std::upper_bound(spans.begin(), spans.end(), t,
                                   [](std::int64_t x, const auto& s) { return x < s.first.start; });
        if (it == spans.begin()) return nullptr;
        --it;
        return t < it->first.end && it->second ? &it->first : nullptr;
    }
    bool measured(std::int64_t t) const { return measured_span(t) != nullptr; }
};

std::vector<KernelSummary> kernel_summaries(TraceReader& reader,
                                            const std::map<std::int32_t, RankData>& data,
                                            const std::map<std::int32_t, SpanIndex>& idx,
                                            double per_step_div) {
    struct G {
        EventKind kind;
        std::vector<std::int64_t> durations;
        double flops = 0, flop_ns = 0;
        bool has_flops = false;
    };
    std::map<std::int64_t, G> groups;
    for (const auto& [rank, rd] : data) {
        auto it = idx.find(rank);
        if (it == idx.end()) continue;
        for (const auto& k : rd.kernels) {
            if (!it->second.measured(k.start)) continue;
            auto& g = groups[k.name];
            g.kind = k.kind;
            g.durations.push_back(k.end - k.start);
            if (k.flops >= 0) {
                g.has_flops = true;
                g.flops += k.flops;
                g.flop_ns += static_cast<double>(k.end - k.start);
            }
        }
    }
    std::vector<KernelSummary> out;
    double all = 0;
    for (auto& [name, g] : groups) {
        KernelSummary s;
        s.name = reader.string(traces::StringId(name));
        s.kind = g.kind;
        auto d = traces::summarize_durations(g.durations);
        s.count = d.count;
        s.total_ns = d.total_ns;
        s.mean_ns = d.mean_ns;
        s.median_ns = d.median_ns;
        s.p95_ns = d.p95_ns;
        if (g.has_flops) {
            s.flops = g.flops;
            s.flop_per_s = g.flop_ns > 0 ? g.flops / (g.flop_ns * 1e-9) : -1;
        }
        s.per_step_ns = static_cast<double>(s.total_ns) / per_step_div;
        all += static_cast<double>(s.total_ns);
        out.push_back(std::move(s));
    }
    for (auto& s : out) s.share = all > 0 ? static_cast<double>(s.total_ns) / all : 0;
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.total_ns != b.total_ns ? a.total_ns > b.total_ns : a.name < b.name;
    });
    return out;
}

std::vector<CollectiveSummary> collective_summaries(const std::map<std::int32_t, RankData>& data,
                                                    const std::map<std::int32_t, SpanIndex>& idx,
                                                    double per_step_div) {
    using Key = std::tuple<int, int, std::int64_t, std::int64_t>;  // collective, group, size, bytes
    struct G {
        std::int64_t count = 0, busy = 0, span_sum = 0;
        std::int64_t overlapped = 0, transfer_sum = 0;
        std::int64_t instances = 0, skew_max = 0;
        double skew_sum = 0;
    };
    std::map<Key, G> groups;
    // One operation across ranks: collectives by (collective, group kind, group id, seq);
    // send/recv by channel (sender, receiver, seq).
    struct Inst {
        std::vector<std::int64_t> starts;
        std::int64_t expected = 0;
        std::set<Key> keys;
    };
    std::map<std::tuple<int, int, std::int64_t, std::int64_t>, Inst> coll_inst;
    std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, Inst> p2p_inst;
    for (const auto& [rank, rd] : data) {
        auto it = idx.find(rank);
        if (it == idx.end()) continue;
        // Busy time of the rank per row: the union of its calls' spans, each clipped to its step.
        std::map<Key, std::vector<Interval>> spans;
        for (const auto& c : rd.comms) {
            const Interval* step = it->second.measured_span(c.start);
            if (!step) continue;
            const bool p2p = c.collective == Collective::Send || c.collective == Collective::Recv;
            const std::int64_t gsize = p2p ? 2 : std::max<std::int64_t>(c.group_size, 1);
            Key key{static_cast<int>(c.collective), static_cast<int>(c.group_kind), gsize,
                    std::max<std::int64_t>(c.bytes, 0)};
            auto& g = groups[key];
            ++g.count;
            g.span_sum += c.end - c.start;
            spans[key].push_back({c.start, std::min(c.end, step->end)});
            // Another call or kernel of the rank's thread began or ended inside this span: the call
            // was non-blocking and its span is not its transfer time (docs/ANALYSIS.md).
            auto m = std::upper_bound(rd.thread_marks.begin(), rd.thread_marks.end(), c.start);
            if (!rd.comms_on_device && m != rd.thread_marks.end() && *m < c.end)
                ++g.overlapped;
            else
                g.transfer_sum += c.end - c.start;
            if (c.seq < 0) continue;
            if (p2p) {
                if (c.peer < 0) continue;
                const std::int64_t sender = c.collective == Collective::Send ? rank : c.peer;
                const std::int64_t receiver = c.collective == Collective::Send ? c.peer : rank;
                auto& in = p2p_inst[{sender, receiver, c.seq}];
                in.starts.push_back(c.start);
                in.expected = 2;
                in.keys.insert(key);
            } else if (c.group_id >= 0) {
                auto& in = coll_inst[{static_cast<int>(c.collective), static_cast<int>(c.group_kind),
                                      c.group_id, c.seq}];
                in.starts.push_back(c.start);
                in.expected = gsize;
                in.keys.insert(key);
            }
        }
        for (auto& [key, v] : spans) groups[key].busy += total_length(union_of(std::move(v)));
    }
    auto add_skew = [&](const Inst& in) {
        if (in.expected < 2 || static_cast<std::int64_t>(in.starts.size()) != in.expected) return;
        auto [lo, hi] = std::minmax_element(in.starts.begin(), in.starts.end());
        const std::int64_t skew = *hi - *lo;
        for (const auto& k : in.keys) {
            auto& g = groups[k];
            ++g.instances;
            g.skew_sum += static_cast<double>(skew);
            g.skew_max = std::max(g.skew_max, skew);
        }
    };
    for (const auto& [k, in] : coll_inst) add_skew(in);
    for (const auto& [k, in] : p2p_inst) add_skew(in);

    std::vector<CollectiveSummary> out;
    for (const auto& [key, g] : groups) {
        CollectiveSummary s;
        s.collective = static_cast<Collective>(std::get<0>(key));
        s.group_kind = static_cast<GroupKind>(std::get<1>(key));
        s.group_size = std::get<2>(key);
        s.bytes = std::get<3>(key);
        s.count = g.count;
        s.total_ns = g.busy;
        s.mean_ns = g.count ? static_cast<double>(g.span_sum) / static_cast<double>(g.count) : 0;
        s.overlapped = g.overlapped;
        const std::int64_t clean = g.count - g.overlapped;
        if (clean > 0) {
            s.transfer_mean_ns = static_cast<double>(g.transfer_sum) / static_cast<double>(clean);
            // nccl-tests: algbw = bytes / time; busbw = algbw × factor (DESIGN.md "Formulas").
            s.algbw = s.transfer_mean_ns > 0 ? static_cast<double>(s.bytes) / (s.transfer_mean_ns * 1e-9) : kNaN;
            s.busbw = s.algbw * busbw_factor(s.collective, s.group_size);
        }
        s.instances = g.instances;
        s.skew_mean_ns = g.instances ? g.skew_sum / static_cast<double>(g.instances) : 0;
        s.skew_max_ns = g.skew_max;
        s.per_step_ns = static_cast<double>(s.total_ns) / per_step_div;
        out.push_back(s);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        if (a.total_ns != b.total_ns) return a.total_ns > b.total_ns;
        return std::tie(a.collective, a.group_kind, a.bytes) < std::tie(b.collective, b.group_kind, b.bytes);
    });
    return out;
}

// Device time per CUDA stream and per rank over the measured steps (docs/ANALYSIS.md "GPU
// streams"). `ranks`: the ranks with steps, in order.
GpuSummary gpu_summary(const std::map<std::int32_t, RankData>& data,
                       const std::map<std::int32_t, SpanIndex>& idx,
                       const std::vector<std::int32_t>& ranks, size_t measured) {
    GpuSummary out;
    bool any = false;
    for (std::int32_t r : ranks)
        if (auto it = data.find(r); it != data.end() && !it->second.streams.empty()) any = true;
    if (!any) return out;
    const double per_step_div = static_cast<double>(measured * ranks.size());
    std::map<std::int32_t, StreamSummary> streams;
    for (std::int32_t r : ranks) {
        GpuRankTime rt;
        rt.rank = r;
        auto dit = data.find(r);
        auto sit = idx.find(r);
        if (dit == data.end() || sit == idx.end()) {
            out.ranks.push_back(rt);
            continue;
        }
        const RankData& rd = dit->second;
        const SpanIndex& six = sit->second;
        std::vector<Interval> steps;  // the rank's measured step spans
        for (const auto& [span, m] : six.spans)
            if (m) steps.push_back(span);
        std::array<std::vector<Interval>, kStreamClsCount> whole;
        std::map<std::int32_t, std::array<std::vector<Interval>, kStreamClsCount>> per_stream;
        for (std::int32_t sid : rd.streams) {
            per_stream[sid];
            auto& row = streams[sid];
            row.stream = sid;
            ++row.ranks;
        }
        for (const StreamEv& e : rd.stream_events) {
            per_stream[e.stream][e.cls].push_back(e.span);
            whole[e.cls].push_back(e.span);
            if (!six.measured(e.span.start)) continue;
            auto& row = streams[e.stream];
            (e.cls == kStreamCompute ? row.compute_kernels
             : e.cls == kStreamNccl  ? row.nccl_kernels
                                     : row.copies)++;
        }
        for (auto& [sid, u] : per_stream) {
            const GpuTime g = gpu_time(std::move(u), steps);
            streams[sid].per_step += g;
            streams[sid].busy_all_ranks_ns += g.busy_ns;
        }
        rt.per_step =
            scaled(gpu_time(std::move(whole), steps), 1.0 / static_cast<double>(measured));
        out.overall += scaled(rt.per_step, 1.0 / static_cast<double>(ranks.size()));
        out.ranks.push_back(rt);
    }
    for (auto& [sid, row] : streams) {
        row.per_step = scaled(row.per_step, 1.0 / per_step_div);
        out.streams.push_back(row);
    }
    return out;
}

// Time in each kernel-type state (a bit per KernelType, docs/ANALYSIS.md "GPU kernel time (HTA)")
// inside the window w; u: the union per StreamCls (whose order is KernelType's).
std::array<double, kKernelStateCount> kernel_states(
    const std::array<std::vector<Interval>, kStreamClsCount>& u, Interval w) {
    std::array<double, kKernelStateCount> out{};
    std::array<std::vector<Interval>, kStreamClsCount> c;
    std::vector<std::int64_t> cuts;
    for (int k = 0; k < kStreamClsCount; ++k) {
        const auto& v = u[static_cast<size_t>(k)];
        auto it = std::upper_bound(v.begin(), v.end(), w.start,
                                   [](std::int64_t t, const Interval& i) { return t < i.end; });
        for (; it != v.end() && it->start < w.end; ++it) {
            const Interval i{std::max(it->start, w.start), std::min(it->end, w.end)};
            c[static_cast<size_t>(k)].push_back(i);
            cuts.push_back(i.start);
            cuts.push_back(i.end);
        }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::array<size_t, kStreamClsCount> idx{};
    for (size_t s = 0; s + 1 < cuts.size(); ++s) {
        const std::int64_t t = cuts[s];
        int mask = 0;
        for (int k = 0; k < kStreamClsCount; ++k) {
            const auto& v = c[static_cast<size_t>(k)];
            size_t& i = idx[static_cast<size_t>(k)];
            while (i < v.size() && v[i].end <= t) ++i;
            if (i < v.size() && v[i].start <= t) mask |= 1 << k;
        }
        out[static_cast<size_t>(mask)] += static_cast<double>(cuts[s + 1] - t);
    }
    out[0] = 0;  // nothing runs: idle, not a state
    return out;
}

// GPU kernel time as HTA defines it, per rank over its measured step spans, and the longest
// kernels of each type (docs/ANALYSIS.md "GPU kernel time (HTA)").
HtaSummary hta_summary(TraceReader& reader, const std::map<std::int32_t, RankData>& data,
                       const std::map<std::int32_t, SpanIndex>& idx,
                       const std::vector<std::int32_t>& ranks, size_t measured) {
    HtaSummary out;
    const double m = static_cast<double>(measured);
    const double per_step_div = static_cast<double>(measured * ranks.size());
    // (type, name) -> durations of the records starting in a measured step.
    std::map<std::pair<int, std::int64_t>, std::vector<std::int64_t>> by_name;
    out.overall.rank = -1;
    for (std::int32_t r : ranks) {
        HtaRank h;
        h.rank = r;
        auto dit = data.find(r);
        auto sit = idx.find(r);
        if (dit != data.end() && sit != idx.end()) {
            const RankData& rd = dit->second;
            std::array<std::vector<Interval>, kStreamClsCount> u;
            for (const StreamEv& e : rd.stream_events) {
                u[e.cls].push_back(e.span);
                if (sit->second.measured(e.span.start))
                    by_name[{static_cast<int>(e.cls), e.name}].push_back(e.span.end - e.span.start);
            }
            for (auto& v : u) v = union_of(std::move(v));
            for (const auto& [span, meas] : sit->second.spans) {
                if (!meas) continue;
                h.window_ns += static_cast<double>(span.end - span.start);
                const auto st = kernel_states(u, span);
                for (int k = 1; k < kKernelStateCount; ++k) h.state_ns[static_cast<size_t>(k)] += st[static_cast<size_t>(k)];
            }
            h.window_ns /= m;
            double busy = 0;
            for (int k = 1; k < kKernelStateCount; ++k) {
                double& v = h.state_ns[static_cast<size_t>(k)];
                v /= m;
                busy += v;
                if (k & 1) h.compute_ns += v;
                if (k & 2) h.comm_ns += v;
                if ((k & 3) == 3) h.comm_comp_ns += v;
            }
            h.idle_ns = h.window_ns - busy;
            h.non_compute_ns = busy - h.compute_ns;
        }
        out.ranks.push_back(h);
    }
    const double n = static_cast<double>(out.ranks.size());
    for (const HtaRank& h : out.ranks) {
        HtaRank& o = out.overall;
        o.window_ns += h.window_ns / n;
        o.idle_ns += h.idle_ns / n;
        o.compute_ns += h.compute_ns / n;
        o.non_compute_ns += h.non_compute_ns / n;
        o.comm_ns += h.comm_ns / n;
        o.comm_comp_ns += h.comm_comp_ns / n;
        for (size_t k = 0; k < h.state_ns.size(); ++k) o.state_ns[k] += h.state_ns[k] / n;
    }
    // Top kernels: per type, the kTopKernels longest names, the rest as one "others" row.
    struct Row {
        TopKernel k;
        std::vector<std::int64_t> d;
    };
    std::array<std::vector<Row>, kKernelTypeCount> rows;
    for (auto& [key, d] : by_name) {
        Row row;
        row.k.type = static_cast<KernelType>(key.first);
        row.k.name = reader.string(traces::StringId(key.second));
        for (auto v : d) row.k.total_ns += v;
        row.d = std::move(d);
        rows[static_cast<size_t>(key.first)].push_back(std::move(row));
    }
    auto finish = [&](TopKernel& k, const std::vector<std::int64_t>& d, double type_total) {
        k.count = static_cast<std::int64_t>(d.size());
        k.total_ns = 0;
        for (auto v : d) k.total_ns += v;
        k.min_ns = d.empty() ? 0 : *std::min_element(d.begin(), d.end());
        k.max_ns = d.empty() ? 0 : *std::max_element(d.begin(), d.end());
        k.mean_ns = d.empty() ? 0 : static_cast<double>(k.total_ns) / static_cast<double>(d.size());
        double ss = 0;
        for (auto v : d) ss += (static_cast<double>(v) - k.mean_ns) * (static_cast<double>(v) - k.mean_ns);
        k.stddev_ns = d.size() > 1 ? std::sqrt(ss / static_cast<double>(d.size() - 1)) : 0.0;
        k.share = type_total > 0 ? static_cast<double>(k.total_ns) / type_total : 0;
        k.per_step_ns = static_cast<double>(k.total_ns) / per_step_div;
    };
    for (auto& v : rows) {
        std::sort(v.begin(), v.end(), [](const Row& a, const Row& b) {
            return a.k.total_ns != b.k.total_ns ? a.k.total_ns > b.k.total_ns : a.k.name < b.k.name;
        });
        double type_total = 0;
        for (const Row& r : v) type_total += static_cast<double>(r.k.total_ns);
        std::vector<std::int64_t> others;
        for (size_t i = 0; i < v.size(); ++i) {
            if (i < static_cast<size_t>(kTopKernels)) {
                finish(v[i].k, v[i].d, type_total);
                out.top_kernels.push_back(v[i].k);
            } else {
                others.insert(others.end(), v[i].d.begin(), v[i].d.end());
            }
        }
        if (!others.empty()) {
            TopKernel k;
            k.type = v.front().k.type;
            k.name = "others";
            finish(k, others, type_total);
            out.top_kernels.push_back(k);
        }
    }
    return out;
}

// Per op name and side over the measured steps (docs/ANALYSIS.md "Ops").
std::vector<OpSummary> op_summaries(TraceReader& reader, const std::map<std::int32_t, RankData>& data,
                                    const std::map<std::int32_t, SpanIndex>& idx, double per_step_div) {
    std::map<std::pair<std::int64_t, bool>, OpSummary> groups;
    for (const auto& [rank, rd] : data) {
        auto it = idx.find(rank);
        if (it == idx.end()) continue;
        for (const OpEv& o : rd.ops) {
            if (!it->second.measured(o.start)) continue;
            OpSummary& g = groups[{o.name, o.gpu}];
            ++g.count;
            g.total_ns += o.end - o.start;
        }
    }
    std::vector<OpSummary> out;
    out.reserve(groups.size());
    for (auto& [key, g] : groups) {
        g.name = reader.string(traces::StringId(key.first));
        g.gpu = key.second;
        g.count_per_step = static_cast<double>(g.count) / per_step_div;
        g.per_step_ns = static_cast<double>(g.total_ns) / per_step_div;
        out.push_back(std::move(g));
    }
    std::sort(out.begin(), out.end(), [](const OpSummary& a, const OpSummary& b) {
        if (a.total_ns != b.total_ns) return a.total_ns > b.total_ns;
        return std::tie(a.name, a.gpu) < std::tie(b.name, b.gpu);
    });
    return out;
}

// Samples and tokens per step and the model's FLOPs from the resolved spec (docs/SPEC.md).
void spec_throughput(const traces::RunInfo& run, Throughput& t, std::vector<std::string>& warnings) {
    if (run.spec_json.empty()) {  // an imported trace carries no spec
        warnings.push_back(run_name(run) + " has no spec (an imported trace has none): throughput and MFU unknown");
        return;
    }
    nlohmann::json doc = nlohmann::json::parse(run.spec_json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        warnings.push_back(run_name(run) + ": spec_json is not JSON: throughput and MFU unknown");
        return;
    }
    auto gb = doc.contains("training") && doc["training"].is_object() ? doc["training"].value("global_batch", nlohmann::json())
                                                                       : nlohmann::json();
    if (!gb.is_number_integer() || gb.get<std::int64_t>() <= 0) {
        warnings.push_back(run_name(run) +
                           ": spec has no training.global_batch: throughput and MFU unknown");
        return;
    }
    t.samples_per_step = static_cast<double>(gb.get<std::int64_t>());
    if (!doc.contains("model") || !doc["model"].is_object() || !doc["model"].contains("kind")) {
        warnings.push_back(run_name(run) + ": spec has no model.kind: tokens and MFU unknown");
        return;
    }
    const ParseResult pr = parse_spec(doc);
    const ModelSpec& m = pr.spec.model;
    double tokens_per_sample = 1;
    double flops_per_token = 0, convention_per_token = 0;
    const std::int64_t n = param_count(m);
    if (m.kind == "gpt" && m.seq_len > 0) {
        tokens_per_sample = m.seq_len;
        // The CUDA backend multiplies the full T×T attention products, the CPU one causal row tiles.
        const auto attention = run.backend == "cuda" || run.backend.rfind("cuda (", 0) == 0
                                    ? models::AttentionKernel::Full
                                                                    : models::AttentionKernel::CausalRowTiles;
        flops_per_token = models::gpt_model_flops_per_token(m.layers, m.d_model, m.seq_len, m.vocab, attention);
        convention_per_token = models::convention_flops_per_token(static_cast<double>(n), m.layers, m.d_model, m.seq_len);
    } else if (m.kind == "mlp") {
        std::vector<int> widths{m.input_dim};
        widths.insert(widths.end(), m.hidden.begin(), m.hidden.end());
        widths.push_back(m.classes);
        flops_per_token = models::mlp_model_flops_per_sample(widths);  // one sample = one "token"
        convention_per_token = models::convention_flops_per_token(static_cast<double>(n));
    }
    if (m.kind == "gpt") t.tokens_per_step = t.samples_per_step * tokens_per_sample;
    if (n > 0 && flops_per_token > 0) {
        t.model_params = n;
        t.model_flops_per_step = flops_per_token * t.samples_per_step * tokens_per_sample;
        t.convention_flops_per_step = convention_per_token * t.samples_per_step * tokens_per_sample;
    } else {
        warnings.push_back(run_name(run) + ": model '" + m.kind +
                           "' of the spec has no parameter count: MFU unknown");
    }
}

}  // namespace

RunAnalysis analyze_run(TraceReader& reader, RunId run_id, const AnalysisOptions& options) {
    RunAnalysis out;
    out.run = reader.run(run_id);
    const traces::RunInfo& run = out.run;

    std::map<std::int32_t, RankData> data;
    std::set<std::pair<std::int32_t, std::int32_t>> compute_lanes;  // (rank, lane) of the rank's thread
    std::set<std::pair<std::int32_t, std::int32_t>> comm_lanes;     // (rank, lane) "comm": issue to completion
    std::map<std::pair<std::int32_t, std::int32_t>, std::int32_t>
        stream_lanes;  // (rank, lane) -> stream
    for (const auto& l : reader.lanes(run_id)) {
        if (l.name == traces::lanes::name(traces::lanes::kCompute)) compute_lanes.insert({l.rank, l.lane});
        if (l.name == traces::lanes::name(traces::lanes::kComm) ||
            (l.lane == traces::lanes::kComm && (l.name.empty() || l.name == "lane " + std::to_string(l.lane))))
            comm_lanes.insert({l.rank, l.lane});
        if (const std::int32_t sid = stream_of_lane(l.lane, l.name); sid >= 0) {
            stream_lanes[{l.rank, l.lane}] = sid;
            data[l.rank].streams.insert(sid);
        }
    }
    // A parameter server's ranks train no steps: their events feed the PS report only, so that the
    // step time, breakdown, summaries and MFU are the workers' (docs/ANALYSIS.md "Parameter server").
    const std::vector<traces::RankInfo> rank_rows = reader.ranks(run_id);
    PsInputs ps;
    ps.layout = ps_layout(run, rank_rows);
    reader.scan_events(run_id, [&](const Event& e) {
        if (ps.layout.present() && e.kind != EventKind::Step) {
            if (const auto op = ps_op(e, reader.string(e.name)))
                ps.events.push_back({e.rank, *op, e.start_ns, e.end_ns, e.bytes, e.peer, e.step});
        }
        if (ps.layout.is_server(e.rank)) return;
        RankData& rd = data[e.rank];
        rd.first_ns = std::min(rd.first_ns, e.start_ns);
        rd.last_ns = std::max(rd.last_ns, e.end_ns);
        if (e.kind == EventKind::Step) {
            add_step(rd, e);
            return;
        }
        const std::string& name = reader.string(e.name);
        const int k = class_of(e, name);
        if (k < 0) return;
        rd.cls[k].push_back({e.start_ns, e.end_ns});
        bool device = e.correlation >= 0;  // a CUPTI record (or a CUDA API call)
        const auto s = stream_lanes.find({e.rank, e.lane});
        rd.ops.push_back({e.name.value, e.start_ns, e.end_ns, s != stream_lanes.end()});
        if (s != stream_lanes.end()) {
            device = true;
            const int c = e.kind == EventKind::Kernel ? kStreamCompute
                          : e.kind == EventKind::Comm ? kStreamNccl
                          : (e.kind == EventKind::Memcpy || e.kind == EventKind::Memset)
                              ? kStreamCopy
                              : -1;  // sync: a wait
            if (c >= 0)
                rd.stream_events.push_back(
                    {s->second, static_cast<StreamCls>(c), {e.start_ns, e.end_ns}, e.name.value});
            if (c == kStreamCompute && e.correlation >= 0) rd.compute_corr.insert(e.correlation);
            if (c == kStreamNccl && e.collective == Collective::None) ++rd.nccl_unattached;
            if (c == kStreamNccl && e.collective != Collective::None)
                rd.device_comms.push_back({e.start_ns, e.end_ns, e.collective, e.group_kind,
                                           e.group_id, e.group_size, e.bytes, e.seq, e.peer});
        }
        if (e.kind == EventKind::HostRange && e.correlation >= 0)
            rd.api_calls.push_back({e.correlation, {e.start_ns, e.end_ns}});
        if (k == kKernel) {
            rd.kernels.push_back({e.start_ns, e.end_ns, e.name.value, e.kind, e.flops});
            if (compute_lanes.count({e.rank, e.lane})) {
                rd.thread_marks.push_back(e.start_ns);
                rd.thread_marks.push_back(e.end_ns);
            }
        }
        // Host-side calls only: device-side NCCL kernels (CUPTI records on a stream) repeat the
        // same operation and would count it twice.
        if ((k == kCollective || k == kP2p) && !device) {
            if (comm_lanes.count({e.rank, e.lane})) rd.comm_lane_calls = true;
            rd.comms.push_back({e.start_ns, e.end_ns, e.collective, e.group_kind, e.group_id,
                                e.group_size, e.bytes, e.seq, e.peer});
            rd.thread_marks.push_back(e.start_ns);
            rd.thread_marks.push_back(e.end_ns);
        }
    });
    bool any_steps = false;
    for (auto& [rank, rd] : data) {
        any_steps |= !rd.steps.empty();
        // No host-side call from issue to completion on the "comm" lane (an imported trace, whose
        // host-side nccl:* ranges, if any, span the enqueue only): the NCCL kernels that carry a
        // collective are the rank's calls, each span a transfer on the GPU.
        if (!rd.comm_lane_calls && !rd.device_comms.empty()) {
            rd.comms = std::move(rd.device_comms);
            rd.comms_on_device = true;
        }
        for (auto& v : rd.cls) v = union_of(std::move(v));
        // A GPU rank's thread launches its compute kernels: the API call that launched one is
        // work of the thread (a blocking call's own launches start NCCL kernels or copies).
        for (const ApiCall& a : rd.api_calls)
            if (rd.compute_corr.count(a.correlation)) {
                rd.thread_marks.push_back(a.span.start);
                rd.thread_marks.push_back(a.span.end);
            }
        std::sort(rd.thread_marks.begin(), rd.thread_marks.end());
    }

    // No step event on any rank: each rank's step window is its whole trace span.
    if (!any_steps) {
        for (auto& [rank, rd] : data)
            if (rd.first_ns < rd.last_ns) rd.steps.push_back({0, {rd.first_ns, rd.last_ns}});
        out.whole_trace = true;
    }
    std::vector<traces::RankInfo> worker_rows;
    for (const auto& k : rank_rows)
        if (!ps.layout.is_server(k.rank)) worker_rows.push_back(k);
    StepTable st = build_steps(run, data, worker_rows);
    out.warnings = st.warnings;
    if (out.whole_trace)
        out.warnings.insert(out.warnings.begin(),
                            run_name(run) + " has no step events: each rank's step window is its "
                                            "whole trace span (first event start to last event end)");
    const size_t nsteps = st.numbers.size(), nranks = st.ranks.size();

    // Step time: from the earliest rank's start to the latest rank's end (docs/ANALYSIS.md).
    std::vector<std::int64_t> times(nsteps);
    out.steps.resize(nsteps);
    for (size_t s = 0; s < nsteps; ++s) {
        auto& rec = out.steps[s];
        rec.step = st.numbers[s];
        rec.start_ns = std::numeric_limits<std::int64_t>::max();
        rec.end_ns = std::numeric_limits<std::int64_t>::min();
        for (const auto& sp : st.spans[s]) {
            rec.start_ns = std::min(rec.start_ns, sp.start);
            rec.end_ns = std::max(rec.end_ns, sp.end);
        }
        times[s] = rec.time_ns();
    }

    // Warm-up.
    if (options.warmup_steps >= 0) {
        if (static_cast<size_t>(options.warmup_steps) >= nsteps)
            throw AnalysisError(run_name(run) + " has " + std::to_string(nsteps) +
                                " step(s): a warm-up of " + std::to_string(options.warmup_steps) +
                                " leaves none to measure");
        out.warmup_steps = options.warmup_steps;
    } else {
        out.warmup_steps = detect_warmup(times);
        out.warmup_detected = true;
    }
    const size_t w = static_cast<size_t>(out.warmup_steps);
    const size_t measured = nsteps - w;

    // Breakdown per rank and step.
    std::vector<Breakdown> rank_sum(nranks);
    std::map<std::int32_t, SpanIndex> span_idx;
    for (size_t s = 0; s < nsteps; ++s) {
        auto& rec = out.steps[s];
        rec.warmup = s < w;
        const Interval window{rec.start_ns, rec.end_ns};
        for (size_t r = 0; r < nranks; ++r) {
            const Interval own = st.spans[s][r];
            Breakdown b = classify(data[st.ranks[r]].cls, own);
            // The rest of the step's window: this rank had finished its step or not started it.
            b.part_ns[static_cast<int>(Part::Idle)] +=
                static_cast<double>((window.end - window.start) - (own.end - own.start));
            b.step_ns = static_cast<double>(window.end - window.start);
            rec.overall += scaled(b, 1.0 / static_cast<double>(nranks));
            if (!rec.warmup) rank_sum[r] += b;
            span_idx[st.ranks[r]].spans.push_back({own, !rec.warmup});
        }
    }
    for (auto& [rank, ix] : span_idx) ix.sort();
    for (size_t r = 0; r < nranks; ++r) {
        RankBreakdown rb;
        rb.rank = st.ranks[r];
        rb.mean = scaled(rank_sum[r], 1.0 / static_cast<double>(measured));
        out.overall += scaled(rb.mean, 1.0 / static_cast<double>(nranks));
        out.ranks.push_back(rb);
    }
    out.step_time = step_time_stats(std::vector<std::int64_t>(times.begin() + static_cast<std::ptrdiff_t>(w), times.end()));

    // The parameter server's report over the measured steps.
    if (ps.layout.present()) {
        ps.measured_steps = static_cast<std::int64_t>(measured);
        ps.period_start = std::numeric_limits<std::int64_t>::max();
        ps.period_end = std::numeric_limits<std::int64_t>::min();
        for (size_t s = w; s < nsteps; ++s) {
            ps.period_start = std::min(ps.period_start, out.steps[s].start_ns);
            ps.period_end = std::max(ps.period_end, out.steps[s].end_ns);
            for (size_t r = 0; r < nranks; ++r)
                ps.worker_steps[st.ranks[r]].push_back(
                    {st.numbers[s], st.spans[s][r].start, st.spans[s][r].end});
        }
    }

    const double per_step_div = static_cast<double>(measured * nranks);
    out.kernels = kernel_summaries(reader, data, span_idx, per_step_div);
    out.collectives = collective_summaries(data, span_idx, per_step_div);
    out.gpu = gpu_summary(data, span_idx, st.ranks, measured);
    if (out.gpu.present()) out.hta = hta_summary(reader, data, span_idx, st.ranks, measured);
    out.ops = op_summaries(reader, data, span_idx, per_step_div);

    // Throughput and MFU.
    Throughput& t = out.throughput;
    spec_throughput(run, t, out.warnings);
    const double step_s = out.step_time.median_ns * 1e-9;
    if (step_s > 0) {
        if (t.samples_per_step > 0) t.samples_per_s = t.samples_per_step / step_s;
        if (t.tokens_per_step > 0) t.tokens_per_s = t.tokens_per_step / step_s;
        if (t.model_flops_per_step > 0) t.model_flop_per_s = t.model_flops_per_step / step_s;
    }
    double kflops = 0;
    bool any_flops = false;
    for (const auto& k : out.kernels)
        if (k.flops >= 0) {
            kflops += k.flops;
            any_flops = true;
        }
    double measured_ns = 0;
    for (size_t s = w; s < nsteps; ++s) measured_ns += static_cast<double>(times[s]);
    if (any_flops && measured_ns > 0) t.kernel_flop_per_s = kflops / (measured_ns * 1e-9);
    const std::vector<traces::Metric> metrics = reader.metrics(run_id);
    if (options.peak_flop_per_s > 0) {
        t.peak_flop_per_s = options.peak_flop_per_s;
        t.peak_source = options.peak_source;
    } else if (const PeakFlops m = measured_matrix_peak(metrics); m.flop_per_s > 0) {
        // The GPU's own matrix rate, measured in the same processes: the peak of this run.
        t.peak_flop_per_s = m.flop_per_s;
        t.peak_source = m.source;
    } else {
        const PeakFlops p = newest_calibrated_peak(reader);
        t.peak_flop_per_s = p.flop_per_s;
        t.peak_source = p.source;
    }
    // The ranks that train: a parameter server's ranks hold parameters and run no model FLOPs.
    const int trainers = ps.layout.present() ? ps.layout.workers() : run.world_size;
    const models::Mfu mfu = models::model_flops_utilisation(t.model_flop_per_s, t.peak_flop_per_s, std::max(1, trainers));
    t.mfu = mfu.known() ? mfu.value : -1;
    t.mfu_ratio = std::isfinite(mfu.ratio) ? mfu.ratio : -1;
    t.mfu_status = mfu.problem == models::MfuProblem::None        ? MfuStatus::Known
                   : mfu.problem == models::MfuProblem::NoPeak    ? MfuStatus::NoPeak
                   : mfu.problem == models::MfuProblem::AbovePeak ? MfuStatus::AbovePeak
                                                                  : MfuStatus::NoModelFlops;
    if (t.mfu_status == MfuStatus::AbovePeak) out.warnings.push_back(mfu_note(t));
    // Recorded throughput (the worker's metric), median over the measured steps.
    {
        std::map<std::string, std::vector<double>> rec;
        const std::int64_t first = st.numbers[w];
        for (const auto& m : metrics)
            if ((m.name == "tokens_per_s" || m.name == "samples_per_s") && (m.step < 0 || m.step >= first))
                rec[m.name].push_back(m.value);
        for (const char* name : {"tokens_per_s", "samples_per_s"})
            if (auto it = rec.find(name); it != rec.end() && !it->second.empty()) {
                t.recorded_per_s = traces::median(it->second);
                t.recorded_metric = name;
                break;
            }
    }

    // Parameter server and the straggler knob.
    const std::map<std::string, std::string> summaries = reader.run_summaries(run_id);
    if (ps.layout.present()) {
        out.ps = ps_summary(ps, metrics, summaries);
        out.warnings.push_back(run_name(run) + " has a parameter server (" +
                               std::to_string(ps.layout.servers) + " server rank(s) from rank " +
                               std::to_string(ps.layout.first_server) + ", " +
                               staleness_name(ps.layout.staleness) +
                               "): step time, breakdown and MFU cover the " +
                               std::to_string(ps.layout.workers()) + " workers");
    }
    out.slow_rank = slow_rank_of(run, summaries);
    if (out.slow_rank.present()) {
        char f[32];
        std::snprintf(f, sizeof f, "%g", out.slow_rank.factor);
        out.warnings.push_back("rank " + std::to_string(out.slow_rank.rank) + " was slowed x" + f +
                               " on purpose (training.slow_rank): the straggler of this run");
    }

    // Warnings a user must see next to the numbers.
    if (run.status != traces::RunStatus::Completed)
        out.warnings.push_back(run_name(run) + " status is '" + std::string(traces::to_string(run.status)) +
                               "'" + (run.failure_reason.empty() ? "" : " (" + run.failure_reason + ")") +
                               ": its numbers cover the steps recorded before it ended");
    if (run.oversubscribed)
        out.warnings.push_back(run_name(run) +
                               " was oversubscribed (more ranks than cores): timings are contended");
    if (out.warmup_steps > 0)
        out.warnings.push_back(std::to_string(out.warmup_steps) + " warm-up step(s) excluded (" +
                               (out.warmup_detected ? "detected; --warmup N overrides" : "given") + ")");
    if (measured < 3 && !out.whole_trace)
        out.warnings.push_back("only " + std::to_string(measured) +
                               " measured step(s): the step-time spread is not meaningful");
    // GPU ranks whose device work was not recorded: their compute shows as 0 (the breakdown takes
    // a GPU rank's compute from its stream records; it has no kernels on the compute lane).
    {
        std::vector<std::int32_t> silent;
        std::int64_t unattached = 0;
        for (const auto& k : worker_rows) {
            auto it = data.find(k.rank);
            const bool gpu = k.device.rfind("cuda", 0) == 0;
            const bool has_steps = it != data.end() && !it->second.steps.empty();
            if (gpu && has_steps && it->second.stream_events.empty() && it->second.kernels.empty())
                silent.push_back(k.rank);
            if (it != data.end()) unattached += it->second.nccl_unattached;
        }
        if (!silent.empty()) {
            std::string list;
            for (size_t i = 0; i < silent.size(); ++i)
                list += (i ? ", " : "") + std::to_string(silent[i]);
            out.warnings.push_back(
                "rank(s) " + list +
                " ran on a GPU but recorded no kernels on CUDA stream lanes (was CUPTI "
                "tracing on?): their compute shows as 0 and their device time is unknown");
        }
        if (unattached > 0)
            out.warnings.push_back(
                std::to_string(unattached) +
                " NCCL kernel(s) carry no collective (their launch lay in no Comm call): "
                "they count as collective communication, in no row of the collective table");
    }
    std::map<std::string, std::int64_t> drops;
    for (const auto& s : reader.stats(run_id))
        if (s.value > 0 && is_loss_counter(s.key)) drops[s.key] += s.value;
    for (const auto& [k, v] : drops)
        out.warnings.push_back(std::to_string(v) + " record(s) counted as " + k +
                               ": the breakdown may undercount");
    return out;
}

RunStepTimes run_step_times(TraceReader& reader, RunId run_id, int warmup_steps) {
    RunStepTimes out;
    out.run = reader.run(run_id);
    std::map<std::int32_t, RankData> data;
    // Read only the lanes that hold steps when the file names them; else every event.
    bool found_lane = false;
    for (const auto& l : reader.lanes(run_id)) {
        if (l.name != "steps" || l.event_count == 0) continue;
        found_lane = true;
        for (const auto& e : reader.events_in_window(run_id, l.rank, l.lane, l.min_start_ns, l.max_end_ns + 1))
            if (e.kind == EventKind::Step) add_step(data[e.rank], e);
    }
    if (!found_lane)
        reader.scan_events(run_id, [&](const Event& e) {
            if (e.kind == EventKind::Step) add_step(data[e.rank], e);
        });
    // A parameter server's ranks train no steps: the step time is the workers'.
    std::vector<traces::RankInfo> rows = reader.ranks(run_id);
    const PsLayout layout = ps_layout(out.run, rows);
    std::erase_if(rows, [&](const traces::RankInfo& k) { return layout.is_server(k.rank); });
    std::erase_if(data, [&](const auto& kv) { return layout.is_server(kv.first); });
    StepTable st = build_steps(out.run, data, rows);
    for (const auto& row : st.spans) {
        std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = std::numeric_limits<std::int64_t>::min();
        for (const auto& sp : row) {
            lo = std::min(lo, sp.start);
            hi = std::max(hi, sp.end);
        }
        out.times_ns.push_back(hi - lo);
    }
    if (warmup_steps >= 0) {
        if (static_cast<size_t>(warmup_steps) >= out.times_ns.size())
            throw AnalysisError(run_name(out.run) + " has " + std::to_string(out.times_ns.size()) +
                                " step(s): a warm-up of " + std::to_string(warmup_steps) +
                                " leaves none to measure");
        out.warmup_steps = warmup_steps;
    } else {
        out.warmup_steps = detect_warmup(out.times_ns);
    }
    out.stats = step_time_stats(std::vector<std::int64_t>(
        out.times_ns.begin() + out.warmup_steps, out.times_ns.end()));
    return out;
}

}  // namespace ss::core

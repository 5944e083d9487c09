#include "core/analysis/analysis_store.h"
#include "core/analysis/precompute.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "traces/schema.h"
#include "traces/sqlite_util.h"
#include "traces/writer.h"

namespace ss::core {

using nlohmann::json;
using traces::RunId;

namespace {

// Numbers: JSON has no NaN or infinity; they are stored as the strings "nan", "inf", "-inf".
json num(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}
double dbl(const json& j) {
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (s == "inf") return std::numeric_limits<double>::infinity();
        if (s == "-inf") return -std::numeric_limits<double>::infinity();
        return std::numeric_limits<double>::quiet_NaN();
    }
    return j.get<double>();
}
std::int64_t i64(const json& j) {
    return j.get<std::int64_t>();
}

// Breakdown as an array: the 7 parts, step, comm, compute, overlapped.
json put(const Breakdown& b) {
    json a = json::array();
    for (double p : b.part_ns) a.push_back(num(p));
    a.push_back(num(b.step_ns));
    a.push_back(num(b.comm_ns));
    a.push_back(num(b.compute_ns));
    a.push_back(num(b.overlapped_ns));
    return a;
}
Breakdown get_breakdown(const json& a) {
    if (!a.is_array() || a.size() != kPartCount + 4)
        throw AnalysisError("stored analysis: bad breakdown");
    Breakdown b;
    for (int i = 0; i < kPartCount; ++i)
        b.part_ns[static_cast<size_t>(i)] = dbl(a[static_cast<size_t>(i)]);
    b.step_ns = dbl(a[kPartCount]);
    b.comm_ns = dbl(a[kPartCount + 1]);
    b.compute_ns = dbl(a[kPartCount + 2]);
    b.overlapped_ns = dbl(a[kPartCount + 3]);
    return b;
}

json put(const GpuTime& g) {
    return json::array(
        {num(g.compute_ns), num(g.nccl_ns), num(g.copy_ns), num(g.busy_ns), num(g.overlap_ns)});
}
GpuTime get_gpu_time(const json& a) {
    if (!a.is_array() || a.size() != 5) throw AnalysisError("stored analysis: bad GPU time");
    return GpuTime{dbl(a[0]), dbl(a[1]), dbl(a[2]), dbl(a[3]), dbl(a[4])};
}

json put(const HtaRank& h) {
    json states = json::array();
    for (double s : h.state_ns) states.push_back(num(s));
    return {{"rank", h.rank},
            {"window_ns", num(h.window_ns)},
            {"idle_ns", num(h.idle_ns)},
            {"compute_ns", num(h.compute_ns)},
            {"non_compute_ns", num(h.non_compute_ns)},
            {"comm_ns", num(h.comm_ns)},
            {"comm_comp_ns", num(h.comm_comp_ns)},
            {"state_ns", states}};
}
HtaRank get_hta_rank(const json& j) {
    HtaRank h;
    h.rank = j.at("rank").get<std::int32_t>();
    h.window_ns = dbl(j.at("window_ns"));
    h.idle_ns = dbl(j.at("idle_ns"));
    h.compute_ns = dbl(j.at("compute_ns"));
    h.non_compute_ns = dbl(j.at("non_compute_ns"));
    h.comm_ns = dbl(j.at("comm_ns"));
    h.comm_comp_ns = dbl(j.at("comm_comp_ns"));
    const json& s = j.at("state_ns");
    if (!s.is_array() || s.size() != kKernelStateCount)
        throw AnalysisError("stored analysis: bad HTA states");
    for (size_t i = 0; i < kKernelStateCount; ++i) h.state_ns[i] = dbl(s[i]);
    return h;
}

// The parameter-server report (parameter_server.h) and the straggler knob.
json put(const PsSummary& p) {
    json servers = json::array(), workers = json::array(), hist = json::array();
    for (const ServerLoad& s : p.servers)
        servers.push_back(json::array(
            {s.rank, s.server, s.pushes, s.sends, s.bytes_in, s.bytes_out, num(s.bytes_in_per_step),
             num(s.bytes_out_per_step), num(s.bytes_in_per_s), num(s.bytes_out_per_s), s.queued,
             num(s.queue_mean_ns), num(s.queue_p95_ns), s.queue_max_ns, s.queue_total_ns,
             num(s.queue_per_step_ns), s.applies, num(s.apply_mean_ns), num(s.apply_per_step_ns),
             num(s.busy_share)}));
    for (const WorkerPs& w : p.workers)
        workers.push_back(json::array(
            {w.rank, num(w.pushes_per_step), num(w.pulls_per_step), num(w.push_bytes_per_step),
             num(w.pull_bytes_per_step), num(w.push_ns_per_step), num(w.pull_ns_per_step),
             num(w.wait_ns_per_step), num(w.pull_wait_ns_per_step), w.pulls_matched, w.pulls,
             num(w.staleness_max), num(w.staleness_mean), w.staleness_samples}));
    for (const auto& [v, n] : p.staleness_histogram) hist.push_back(json::array({v, n}));
    return {{"layout", json::array({p.layout.servers, p.layout.first_server, p.layout.staleness})},
            {"servers", servers},
            {"workers", workers},
            {"period_ns", num(p.period_ns)},
            {"measured_steps", p.measured_steps},
            {"staleness", json::array({num(p.staleness_max), num(p.staleness_mean), p.staleness_samples,
                                       num(p.recorded_staleness_max), num(p.recorded_staleness_mean)})},
            {"histogram", hist}};
}
PsSummary get_ps(const json& j) {
    PsSummary p;
    const json& l = j.at("layout");
    p.layout = PsLayout{l.at(0).get<int>(), l.at(1).get<int>(), l.at(2).get<int>()};
    for (const json& a : j.at("servers")) {
        if (!a.is_array() || a.size() != 20) throw AnalysisError("stored analysis: bad server row");
        ServerLoad s{a[0].get<std::int32_t>(), a[1].get<int>(), i64(a[2]), i64(a[3]), i64(a[4]),
                     i64(a[5]), dbl(a[6]), dbl(a[7]), dbl(a[8]), dbl(a[9]), i64(a[10]), dbl(a[11]),
                     dbl(a[12]), i64(a[13]), i64(a[14]), dbl(a[15]), i64(a[16]), dbl(a[17]),
                     dbl(a[18]), dbl(a[19])};
        p.servers.push_back(s);
    }
    for (const json& a : j.at("workers")) {
        if (!a.is_array() || a.size() != 14) throw AnalysisError("stored analysis: bad worker row");
        WorkerPs w{a[0].get<std::int32_t>(), dbl(a[1]), dbl(a[2]), dbl(a[3]), dbl(a[4]), dbl(a[5]),
                   dbl(a[6]), dbl(a[7]), dbl(a[8]), i64(a[9]), i64(a[10]), dbl(a[11]), dbl(a[12]),
                   i64(a[13])};
        p.workers.push_back(w);
    }
    p.period_ns = dbl(j.at("period_ns"));
    p.measured_steps = i64(j.at("measured_steps"));
    const json& st = j.at("staleness");
    p.staleness_max = dbl(st.at(0));
    p.staleness_mean = dbl(st.at(1));
    p.staleness_samples = i64(st.at(2));
    p.recorded_staleness_max = dbl(st.at(3));
    p.recorded_staleness_mean = dbl(st.at(4));
    for (const json& h : j.at("histogram")) p.staleness_histogram[i64(h.at(0))] = i64(h.at(1));
    return p;
}

template <typename T, typename F>
json put_all(const std::vector<T>& v, F f) {
    json a = json::array();
    for (const auto& x : v) a.push_back(f(x));
    return a;
}
template <typename T, typename F>
std::vector<T> get_all(const json& a, F f) {
    std::vector<T> v;
    v.reserve(a.size());
    for (const auto& x : a) v.push_back(f(x));
    return v;
}

json to_json(const RunAnalysis& a, std::int64_t calibrations) {
    json j;
    j["key"] = kAnalysisSummaryKey;
    j["calibrations"] = calibrations;
    j["warmup_steps"] = a.warmup_steps;
    j["warmup_detected"] = a.warmup_detected;
    j["whole_trace"] = a.whole_trace;
    // Steps: [step, start, end, warmup, breakdown...] (the longest list: kept compact).
    j["steps"] = put_all(a.steps, [](const StepRecord& s) {
        return json::array({s.step, s.start_ns, s.end_ns, s.warmup, put(s.overall)});
    });
    const StepTimeStats& t = a.step_time;
    j["step_time"] = {{"count", t.count},          {"median_ns", num(t.median_ns)},
                      {"mean_ns", num(t.mean_ns)}, {"stddev_ns", num(t.stddev_ns)},
                      {"min_ns", num(t.min_ns)},   {"max_ns", num(t.max_ns)},
                      {"p95_ns", num(t.p95_ns)}};
    j["overall"] = put(a.overall);
    j["ranks"] = put_all(a.ranks, [](const RankBreakdown& r) {
        return json::array({r.rank, put(r.mean)});
    });
    j["kernels"] = put_all(a.kernels, [](const KernelSummary& k) {
        return json{{"name", k.name},
                    {"kind", static_cast<int>(k.kind)},
                    {"count", k.count},
                    {"total_ns", k.total_ns},
                    {"share", num(k.share)},
                    {"mean_ns", num(k.mean_ns)},
                    {"median_ns", num(k.median_ns)},
                    {"p95_ns", k.p95_ns},
                    {"flops", num(k.flops)},
                    {"flop_per_s", num(k.flop_per_s)},
                    {"per_step_ns", num(k.per_step_ns)}};
    });
    j["collectives"] = put_all(a.collectives, [](const CollectiveSummary& c) {
        return json{{"collective", static_cast<int>(c.collective)},
                    {"group_kind", static_cast<int>(c.group_kind)},
                    {"group_size", c.group_size},
                    {"bytes", c.bytes},
                    {"count", c.count},
                    {"total_ns", c.total_ns},
                    {"mean_ns", num(c.mean_ns)},
                    {"overlapped", c.overlapped},
                    {"transfer_mean_ns", num(c.transfer_mean_ns)},
                    {"algbw", num(c.algbw)},
                    {"busbw", num(c.busbw)},
                    {"instances", c.instances},
                    {"skew_mean_ns", num(c.skew_mean_ns)},
                    {"skew_max_ns", c.skew_max_ns},
                    {"per_step_ns", num(c.per_step_ns)}};
    });
    const Throughput& p = a.throughput;
    j["throughput"] = {{"samples_per_step", num(p.samples_per_step)},
                       {"tokens_per_step", num(p.tokens_per_step)},
                       {"samples_per_s", num(p.samples_per_s)},
                       {"tokens_per_s", num(p.tokens_per_s)},
                       {"recorded_per_s", num(p.recorded_per_s)},
                       {"recorded_metric", p.recorded_metric},
                       {"model_params", p.model_params},
                       {"model_flops_per_step", num(p.model_flops_per_step)},
                       {"convention_flops_per_step", num(p.convention_flops_per_step)},
                       {"model_flop_per_s", num(p.model_flop_per_s)},
                       {"kernel_flop_per_s", num(p.kernel_flop_per_s)},
                       {"peak_flop_per_s", num(p.peak_flop_per_s)},
                       {"peak_source", p.peak_source},
                       {"mfu", num(p.mfu)},
                       {"mfu_ratio", num(p.mfu_ratio)},
                       {"mfu_status", static_cast<int>(p.mfu_status)}};
    j["gpu"] = {{"streams", put_all(a.gpu.streams,
                                    [](const StreamSummary& s) {
                                        return json{
                                            {"stream", s.stream},
                                            {"ranks", s.ranks},
                                            {"compute_kernels", s.compute_kernels},
                                            {"nccl_kernels", s.nccl_kernels},
                                            {"copies", s.copies},
                                            {"per_step", put(s.per_step)},
                                            {"busy_all_ranks_ns", num(s.busy_all_ranks_ns)}};
                                    })},
                {"ranks", put_all(a.gpu.ranks,
                                  [](const GpuRankTime& r) {
                                      return json::array({r.rank, put(r.per_step)});
                                  })},
                {"overall", put(a.gpu.overall)}};
    j["hta"] = {{"ranks", put_all(a.hta.ranks, [](const HtaRank& h) { return put(h); })},
                {"overall", put(a.hta.overall)},
                {"top_kernels", put_all(a.hta.top_kernels, [](const TopKernel& k) {
                     return json{{"type", static_cast<int>(k.type)},
                                 {"name", k.name},
                                 {"count", k.count},
                                 {"total_ns", k.total_ns},
                                 {"mean_ns", num(k.mean_ns)},
                                 {"stddev_ns", num(k.stddev_ns)},
                                 {"min_ns", k.min_ns},
                                 {"max_ns", k.max_ns},
                                 {"share", num(k.share)},
                                 {"per_step_ns", num(k.per_step_ns)}};
                 })}};
    j["ops"] = put_all(a.ops, [](const OpSummary& o) {
        return json::array(
            {o.name, o.gpu, o.count, o.total_ns, num(o.count_per_step), num(o.per_step_ns)});
    });
    j["ps"] = put(a.ps);
    j["slow_rank"] = json::array({a.slow_rank.rank, num(a.slow_rank.factor)});
    j["warnings"] = a.warnings;
    return j;
}

RunAnalysis from_json(const json& j, const traces::RunInfo& run) {
    RunAnalysis a;
    a.run = run;
    a.warmup_steps = j.at("warmup_steps").get<int>();
    a.warmup_detected = j.at("warmup_detected").get<bool>();
    a.whole_trace = j.at("whole_trace").get<bool>();
    a.steps = get_all<StepRecord>(j.at("steps"), [](const json& s) {
        return StepRecord{i64(s.at(0)), i64(s.at(1)), i64(s.at(2)), s.at(3).get<bool>(),
                          get_breakdown(s.at(4))};
    });
    const json& t = j.at("step_time");
    a.step_time = StepTimeStats{
        i64(t.at("count")),  dbl(t.at("median_ns")), dbl(t.at("mean_ns")), dbl(t.at("stddev_ns")),
        dbl(t.at("min_ns")), dbl(t.at("max_ns")),    dbl(t.at("p95_ns"))};
    a.overall = get_breakdown(j.at("overall"));
    a.ranks = get_all<RankBreakdown>(j.at("ranks"), [](const json& r) {
        return RankBreakdown{r.at(0).get<std::int32_t>(), get_breakdown(r.at(1))};
    });
    a.kernels = get_all<KernelSummary>(j.at("kernels"), [](const json& k) {
        KernelSummary s;
        s.name = k.at("name").get<std::string>();
        s.kind = static_cast<traces::EventKind>(k.at("kind").get<int>());
        s.count = i64(k.at("count"));
        s.total_ns = i64(k.at("total_ns"));
        s.share = dbl(k.at("share"));
        s.mean_ns = dbl(k.at("mean_ns"));
        s.median_ns = dbl(k.at("median_ns"));
        s.p95_ns = i64(k.at("p95_ns"));
        s.flops = dbl(k.at("flops"));
        s.flop_per_s = dbl(k.at("flop_per_s"));
        s.per_step_ns = dbl(k.at("per_step_ns"));
        return s;
    });
    a.collectives = get_all<CollectiveSummary>(j.at("collectives"), [](const json& c) {
        CollectiveSummary s;
        s.collective = static_cast<traces::Collective>(c.at("collective").get<int>());
        s.group_kind = static_cast<traces::GroupKind>(c.at("group_kind").get<int>());
        s.group_size = i64(c.at("group_size"));
        s.bytes = i64(c.at("bytes"));
        s.count = i64(c.at("count"));
        s.total_ns = i64(c.at("total_ns"));
        s.mean_ns = dbl(c.at("mean_ns"));
        s.overlapped = i64(c.at("overlapped"));
        s.transfer_mean_ns = dbl(c.at("transfer_mean_ns"));
        s.algbw = dbl(c.at("algbw"));
        s.busbw = dbl(c.at("busbw"));
        s.instances = i64(c.at("instances"));
        s.skew_mean_ns = dbl(c.at("skew_mean_ns"));
        s.skew_max_ns = i64(c.at("skew_max_ns"));
        s.per_step_ns = dbl(c.at("per_step_ns"));
        return s;
    });
    const json& p = j.at("throughput");
    Throughput& q = a.throughput;
    q.samples_per_step = dbl(p.at("samples_per_step"));
    q.tokens_per_step = dbl(p.at("tokens_per_step"));
    q.samples_per_s = dbl(p.at("samples_per_s"));
    q.tokens_per_s = dbl(p.at("tokens_per_s"));
    q.recorded_per_s = dbl(p.at("recorded_per_s"));
    q.recorded_metric = p.at("recorded_metric").get<std::string>();
    q.model_params = i64(p.at("model_params"));
    q.model_flops_per_step = dbl(p.at("model_flops_per_step"));
    q.convention_flops_per_step = dbl(p.at("convention_flops_per_step"));
    q.model_flop_per_s = dbl(p.at("model_flop_per_s"));
    q.kernel_flop_per_s = dbl(p.at("kernel_flop_per_s"));
    q.peak_flop_per_s = dbl(p.at("peak_flop_per_s"));
    q.peak_source = p.at("peak_source").get<std::string>();
    q.mfu = dbl(p.at("mfu"));
    q.mfu_ratio = dbl(p.at("mfu_ratio"));
    q.mfu_status = static_cast<MfuStatus>(p.at("mfu_status").get<int>());
    const json& g = j.at("gpu");
    a.gpu.streams = get_all<StreamSummary>(g.at("streams"), [](const json& s) {
        StreamSummary r;
        r.stream = s.at("stream").get<std::int32_t>();
        r.ranks = i64(s.at("ranks"));
        r.compute_kernels = i64(s.at("compute_kernels"));
        r.nccl_kernels = i64(s.at("nccl_kernels"));
        r.copies = i64(s.at("copies"));
        r.per_step = get_gpu_time(s.at("per_step"));
        r.busy_all_ranks_ns = dbl(s.at("busy_all_ranks_ns"));
        return r;
    });
    a.gpu.ranks = get_all<GpuRankTime>(g.at("ranks"), [](const json& r) {
        return GpuRankTime{r.at(0).get<std::int32_t>(), get_gpu_time(r.at(1))};
    });
    a.gpu.overall = get_gpu_time(g.at("overall"));
    const json& h = j.at("hta");
    a.hta.ranks = get_all<HtaRank>(h.at("ranks"), get_hta_rank);
    a.hta.overall = get_hta_rank(h.at("overall"));
    a.hta.top_kernels = get_all<TopKernel>(h.at("top_kernels"), [](const json& k) {
        TopKernel r;
        r.type = static_cast<KernelType>(k.at("type").get<int>());
        r.name = k.at("name").get<std::string>();
        r.count = i64(k.at("count"));
        r.total_ns = i64(k.at("total_ns"));
        r.mean_ns = dbl(k.at("mean_ns"));
        r.stddev_ns = dbl(k.at("stddev_ns"));
        r.min_ns = i64(k.at("min_ns"));
        r.max_ns = i64(k.at("max_ns"));
        r.share = dbl(k.at("share"));
        r.per_step_ns = dbl(k.at("per_step_ns"));
        return r;
    });
    a.ops = get_all<OpSummary>(j.at("ops"), [](const json& o) {
        return OpSummary{o.at(0).get<std::string>(),
                         o.at(1).get<bool>(),
                         i64(o.at(2)),
                         i64(o.at(3)),
                         dbl(o.at(4)),
                         dbl(o.at(5))};
    });
    a.ps = get_ps(j.at("ps"));
    a.slow_rank = SlowRank{j.at("slow_rank").at(0).get<std::int32_t>(), dbl(j.at("slow_rank").at(1))};
    a.warnings = j.at("warnings").get<std::vector<std::string>>();
    return a;
}

std::int64_t calibration_count(traces::TraceReader& rd) {
    return static_cast<std::int64_t>(rd.calibrations().size());
}

// Writes the row into `path`, migrating an older schema in place first (a TraceWriter does).
void write_row(const std::string& path, RunId run, const std::string& value, const std::string& key = kAnalysisSummaryKey) {
    {
        traces::Db probe(path, traces::Db::Mode::ReadOnly);
        if (traces::read_schema_version(probe) < traces::kSchemaVersion) {
            traces::TraceWriter migrate(path, traces::WriterOptions{.durable = true});
        }
    }
    traces::Db db(path, traces::Db::Mode::ReadWrite);
    SS_SQLITE_CHECK(db.handle(), sqlite3_busy_timeout(db.handle(), 2000));
    traces::validate_structure(db, traces::read_schema_version(db));
    traces::Stmt st =
        db.prepare("INSERT OR REPLACE INTO run_summaries(run_id, key, value) VALUES(?1,?2,?3)");
    st.bind(1, run.value).bind(2, key).bind(3, value).run();
}

bool writable(const std::string& path) {
    std::error_code ec;
    const auto dir = std::filesystem::absolute(path, ec).parent_path();
    return ::access(path.c_str(), W_OK) == 0 && !ec && ::access(dir.c_str(), W_OK) == 0;
}

// Computes with the default options; a run without steps gives its NoStepsError.
StoredAnalysis compute(traces::TraceReader& rd, RunId run) {
    StoredAnalysis s;
    try {
        s.analysis = analyze_run(rd, run, AnalysisOptions{});
    } catch (const NoStepsError& e) {
        s.no_steps_error = e.what();
    }
    return s;
}

std::string serialize_stored(const StoredAnalysis& s, std::int64_t calibrations) {
    if (s.analysis) return serialize_analysis(*s.analysis, calibrations);
    return json{{"key", kAnalysisSummaryKey},
                {"calibrations", calibrations},
                {"no_steps_error", s.no_steps_error}}
        .dump();
}

}  // namespace

void write_run_summary(const std::string& path, RunId run, const std::string& key, const std::string& value) {
    if (key == kAnalysisSummaryKey) throw std::invalid_argument("write_run_summary: " + key + " is the stored analysis");
    write_row(path, run, value, key);
}

void store_run_level_metrics(const std::string& path, RunId run) {
    static constexpr const char* kKeys[] = {"ps_servers", "ps_staleness_max", "ps_staleness_mean", "slow_rank",
                                            "slow_factor"};
    std::vector<std::pair<std::string, double>> rows;
    {
        traces::TraceReader rd(path);
        for (const auto& m : rd.metrics(run))
            for (const char* k : kKeys)
                if (m.rank == 0 && m.name == k) rows.emplace_back(k, m.value);
    }
    for (const auto& [key, value] : rows) {
        char text[32];
        std::snprintf(text, sizeof text, "%.15g", value);
        write_run_summary(path, run, key, text);
    }
}

bool is_stored_options(const AnalysisOptions& o) {
    return o.warmup_steps < 0 && o.peak_flop_per_s <= 0;
}

std::string serialize_analysis(const RunAnalysis& a, std::int64_t calibrations) {
    return to_json(a, calibrations).dump();
}

RunAnalysis deserialize_analysis(const std::string& text, const traces::RunInfo& run) {
    try {
        return from_json(json::parse(text), run);
    } catch (const json::exception& e) {
        throw AnalysisError(std::string("stored analysis of run ") + std::to_string(run.id.value) +
                            " is malformed: " + e.what());
    }
}

std::optional<StoredAnalysis> load_stored_analysis(traces::TraceReader& rd, RunId run) {
    // The reader validated the file; a second read-only connection reads the one row (an older file
    // has no table: nothing stored).
    traces::Db db(rd.path(), traces::Db::Mode::ReadOnly);
    if (!db.table_exists("run_summaries")) return std::nullopt;
    traces::Stmt st = db.prepare("SELECT value FROM run_summaries WHERE run_id=?1 AND key=?2");
    st.bind(1, run.value).bind(2, kAnalysisSummaryKey);
    if (!st.step()) return std::nullopt;
    const std::string text = st.col_text(0);
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || j.value("key", std::string()) != kAnalysisSummaryKey)
        return std::nullopt;
    // A calibration added since (calibrate --trace) changes the peak: recompute.
    if (!j.contains("calibrations") || j["calibrations"] != calibration_count(rd))
        return std::nullopt;
    StoredAnalysis s;
    if (j.contains("no_steps_error")) {
        s.no_steps_error = j["no_steps_error"].get<std::string>();
        if (s.no_steps_error.empty()) return std::nullopt;
        return s;
    }
    try {
        s.analysis = from_json(j, rd.run(run));
    } catch (const std::exception&) {
        return std::nullopt;  // unreadable row: computed again (and replaced) by the caller
    }
    return s;
}

StoredAnalysis store_run_analysis(const std::string& path, RunId run) {
    StoredAnalysis s;
    std::int64_t calibrations = 0;
    {
        traces::TraceReader rd(path);
        s = compute(rd, run);
        calibrations = calibration_count(rd);
    }
    write_row(path, run, serialize_stored(s, calibrations));
    return s;
}

RunAnalysis cached_analysis(traces::TraceReader& rd, RunId run, const AnalysisOptions& options) {
    if (!is_stored_options(options)) return analyze_run(rd, run, options);
    std::optional<StoredAnalysis> s = load_stored_analysis(rd, run);
    if (!s) {
        s = compute(rd, run);
        if (writable(rd.path())) {
            try {
                write_row(rd.path(), run, serialize_stored(*s, calibration_count(rd)));
            } catch (const traces::TraceError&) {
                // Not stored (locked by a writer, or the disk is full): computed again next time.
            }
        }
    }
    if (!s->analysis) throw NoStepsError(s->no_steps_error);
    return std::move(*s->analysis);
}

void precompute_run_analysis(const std::string& path, RunId run) {
    store_run_analysis(path, run);
}

std::vector<std::string> store_merged_run(const std::string& path, RunId run) {
    std::vector<std::string> warnings;
    try {
        store_run_level_metrics(path, run);
    } catch (const std::exception& e) {
        warnings.push_back(std::string("the run's parameter-server / straggler summaries were not stored: ") + e.what());
    }
    try {
        precompute_run_analysis(path, run);  // what `stats` and the Summary page read, not the events
    } catch (const std::exception& e) {
        warnings.push_back(std::string("the run's analysis was not stored (computed when shown): ") + e.what());
    }
    return warnings;
}

}  // namespace ss::core

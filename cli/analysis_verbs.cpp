// Verbs over the analysis in core/: stats (one run), scaling (a study), compare (two runs or two
// studies). docs/ANALYSIS.md defines every column.
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/args.h"
#include "cli/format.h"
#include "cli/verbs.h"
#include "core/analysis/analysis.h"
#include "core/analysis/analysis_store.h"
#include "core/analysis/compare.h"
#include "core/analysis/scaling.h"
#include "core/analysis/study_summary.h"
#include "core/launch/launcher.h"
#include "traces/reader.h"

namespace ss::cli {

using namespace ss::traces;
using namespace ss::core;

namespace {

// A number, or an empty cell when it is not known (NaN, or < 0 for "unknown" fields).
Cell num(double v) { return std::isfinite(v) ? Cell{v} : Cell{}; }
Cell known(double v) { return std::isfinite(v) && v >= 0 ? Cell{v} : Cell{}; }
Cell ms(double ns) { return num(ns / 1e6); }
Cell us(double ns) { return num(ns / 1e3); }
Cell str(std::string_view s) { return Cell{std::string(s)}; }
Cell pct(double rel) { return num(100.0 * rel); }
Cell gbps(double bytes_per_s) { return num(bytes_per_s / 1e9); }
Cell giga(double v) { return std::isfinite(v) && v >= 0 ? Cell{v / 1e9} : Cell{}; }

double positive_number(const Args& a, const std::string& key, double fallback) {
    return a.number(key, 0, /*exclusive=*/true, "a positive number").value_or(fallback);
}

int warmup_option(const Args& a) {
    auto w = a.integer("--warmup");
    if (!w) return -1;
    if (*w < 0) throw UsageError("option --warmup needs a step count >= 0 (got " + std::to_string(*w) + ")");
    return static_cast<int>(*w);
}

AnalysisOptions analysis_options(const Args& a) {
    AnalysisOptions o;
    o.warmup_steps = warmup_option(a);
    o.peak_flop_per_s = positive_number(a, "--peak-flops", -1);
    if (auto hw = a.value("--hardware")) {
        if (o.peak_flop_per_s > 0) throw UsageError("give either --peak-flops or --hardware, not both");
        std::ifstream f(*hw, std::ios::binary);
        if (!f) throw std::runtime_error("cannot read hardware file '" + *hw + "': " + std::strerror(errno));
        std::ostringstream text;
        text << f.rdbuf();
        o.peak_flop_per_s = peak_flops_from_hardware_json(text.str());
        if (o.peak_flop_per_s <= 0)
            throw std::runtime_error("hardware file '" + *hw + "' has no compute.peak_flops or compute.sgemm_flops > 0 "
                                     "(the peak FLOP/s of one rank that 'scalescope-cli calibrate' measures)");
        o.peak_source = *hw;
    }
    return o;
}

// ---- stats ----

struct StatsTables {
    Table run{"run",
              {"run", "name", "model", "world", "layout", "status", "oversubscribed", "steps", "warmup_steps",
               "warmup", "measured_steps", "step_median_ms", "step_mean_ms", "step_stddev_ms", "step_min_ms",
               "step_p95_ms", "step_max_ms", "overlap_ratio", "step_window"},
              {}};
    Table breakdown{"breakdown",
                    {"run", "rank", "step_ms", "compute_ms", "exposed_comm_ms", "bubble_ms", "data_ms",
                     "optimizer_ms", "other_host_ms", "idle_ms", "communication_ms", "overlapped_ms",
                     "overlap_ratio"},
                    {}};
    Table kernels{"kernels",
                  {"run", "name", "kind", "count", "total_ms", "share", "mean_us", "median_us", "p95_us",
                   "per_step_us", "gflop_per_s"},
                  {}};
    Table collectives{"collectives",
                      {"run", "collective", "group", "group_size", "bytes", "count", "busy_all_ranks_ms",
                       "busy_per_step_us", "issue_to_completion_mean_us", "overlapped_calls", "transfer_mean_us",
                       "algbw_gbps", "busbw_gbps", "bandwidth_note", "skew_mean_us", "skew_max_us", "skew_ops"},
                      {}};
    Table throughput{"throughput",
                     {"run", "samples_per_s", "tokens_per_s", "recorded_per_s", "recorded_metric", "model_params",
                      "model_gflop_per_step", "convention_6n_gflop_per_step", "model_gflop_per_s", "kernel_gflop_per_s",
                      "peak_gflop_per_s_rank",
                      "peak_source", "mfu", "mfu_note"},
                     {}};
    Table stragglers{"stragglers",
                     {"run", "rank", "step_ms", "work_ms", "wait_ms", "work_vs_median", "straggler",
                      "slowed_by_knob"},
                     {}};
    // Runs with a parameter server only (docs/ANALYSIS.md "Parameter server").
    Table ps_servers{"ps_servers",
                     {"run", "server", "rank", "pushes_per_step", "bytes_in_per_step", "bytes_out_per_step",
                      "in_mb_per_s", "out_mb_per_s", "queued", "queue_mean_us", "queue_p95_us", "queue_max_us",
                      "queue_per_step_us", "apply_mean_us", "apply_per_step_us", "busy_share"},
                     {}};
    Table ps_workers{"ps_workers",
                     {"run", "rank", "pushes_per_step", "push_bytes_per_step", "push_per_step_us",
                      "pulls_per_step", "pull_bytes_per_step", "pull_per_step_us", "ps_wait_per_step_us",
                      "pull_wait_per_step_us", "wait_per_step_us", "pulls_matched", "staleness_max",
                      "staleness_mean", "slowed_by_knob"},
                     {}};
    Table ps_staleness{"ps_staleness",
                       {"run", "bound", "servers", "workers", "observed_max", "observed_mean", "samples",
                        "distribution", "recorded_max", "recorded_mean"},
                       {}};
    Table steps{"steps",
                {"run", "step", "warmup", "step_ms", "compute_ms", "exposed_comm_ms", "bubble_ms", "data_ms",
                 "optimizer_ms", "other_host_ms", "idle_ms", "communication_ms", "overlapped_ms", "overlap_ratio"},
                {}};
    // GPU runs only (CUPTI records on CUDA stream lanes): device time per stream and per rank.
    Table gpu_streams{"gpu_streams",
                      {"run", "stream", "ranks", "compute_kernels", "nccl_kernels", "copies",
                       "compute_per_step_us", "nccl_per_step_us", "copy_per_step_us",
                       "busy_per_step_us", "busy_share", "busy_all_ranks_ms"},
                      {}};
    Table gpu{"gpu",
              {"run", "rank", "compute_per_step_us", "nccl_per_step_us",
               "nccl_overlapped_per_step_us", "nccl_exposed_per_step_us", "nccl_overlap",
               "copy_per_step_us", "busy_per_step_us", "busy_share"},
              {}};
    // GPU kernel time as Holistic Trace Analysis defines it (docs/ANALYSIS.md "GPU kernel time (HTA)").
    Table temporal{"temporal_breakdown",
                   {"run", "rank", "step_window", "window_us", "idle_us", "compute_us", "non_compute_us",
                    "idle_pct", "compute_pct", "non_compute_pct", "comm_us", "comm_comp_overlap_pct"},
                   {}};
    Table kernel_types{"kernel_types", {"run", "kernel_type", "per_step_us", "share_pct"}, {}};
    Table top_kernels{"top_kernels",
                      {"run", "kernel_type", "name", "count", "total_ms", "per_step_us", "mean_us", "stddev_us",
                       "min_us", "max_us", "share_of_type_pct"},
                      {}};
    Table warnings{"warnings", {"run", "warning"}, {}};
};

const char* step_window_text(const RunAnalysis& a) {
    return a.whole_trace ? "whole trace (no step events)" : "measured steps";
}

void temporal_row(Table& t, std::int64_t run, Cell rank, const HtaRank& h, const char* window) {
    auto share = [&](double ns) { return h.window_ns > 0 ? num(100.0 * ns / h.window_ns) : Cell{}; };
    t.rows.push_back({run, std::move(rank), str(window), us(h.window_ns), us(h.idle_ns), us(h.compute_ns),
                      us(h.non_compute_ns), share(h.idle_ns), share(h.compute_ns), share(h.non_compute_ns),
                      us(h.comm_ns), pct(h.comm_comp_overlap())});
}

// A GPU row: device time per measured step (and rank) against the mean step time.
void gpu_row(Table& t, std::int64_t run, Cell rank, const GpuTime& g, double step_ns) {
    t.rows.push_back({run, std::move(rank), us(g.compute_ns), us(g.nccl_ns), us(g.overlap_ns),
                      us(g.nccl_ns - g.overlap_ns), num(g.nccl_overlap()), us(g.copy_ns),
                      us(g.busy_ns), step_ns > 0 ? num(g.busy_ns / step_ns) : Cell{}});
}

void breakdown_row(Table& t, std::int64_t run, Cell rank, const Breakdown& b, Cell warmup = Cell{}) {
    std::vector<Cell> row{run, std::move(rank)};
    if (!std::holds_alternative<std::monostate>(warmup)) row.push_back(std::move(warmup));
    row.push_back(ms(b.sum()));
    for (int i = 0; i < kPartCount; ++i) row.push_back(ms(b.part_ns[static_cast<size_t>(i)]));
    row.push_back(ms(b.comm_ns));
    row.push_back(ms(b.overlapped_ns));
    row.push_back(num(b.overlap_ratio()));
    t.rows.push_back(std::move(row));
}

// A run without a breakdown: its stored kernel and collective totals (no per-step or bandwidth cells).
void add_stored(StatsTables& t, std::int64_t id, const StoredSummaries& s) {
    for (const auto& k : s.kernels)
        t.kernels.rows.push_back({id, k.name, str(to_string(k.kind)), k.count, ms(static_cast<double>(k.total_ns)),
                                  num(k.share), us(k.mean_ns), us(k.median_ns), us(static_cast<double>(k.p95_ns)),
                                  Cell{}, Cell{}});
    for (const auto& c : s.collectives)
        t.collectives.rows.push_back({id, str(to_string(c.collective)), str(to_string(c.group_kind)), Cell{}, c.bytes,
                                      c.count, ms(static_cast<double>(c.total_ns)), Cell{}, us(c.mean_ns), Cell{},
                                      Cell{}, Cell{}, Cell{}, str("not known: stored totals"), Cell{}, Cell{}, Cell{}});
}

// "x2" on the rank the straggler knob slowed, else empty.
Cell slowed(const SlowRank& s, std::int32_t rank) {
    if (s.rank != rank) return Cell{};
    char f[32];
    std::snprintf(f, sizeof f, "x%g", s.factor);
    return str(f);
}

void add_ps(StatsTables& t, const RunAnalysis& a) {
    const std::int64_t id = a.run.id.value;
    const PsSummary& p = a.ps;
    for (const ServerLoad& s : p.servers)
        t.ps_servers.rows.push_back(
            {id, std::int64_t{s.server}, std::int64_t{s.rank},
             num(p.measured_steps > 0 ? static_cast<double>(s.pushes) / static_cast<double>(p.measured_steps) : NAN),
             num(s.bytes_in_per_step), num(s.bytes_out_per_step), num(s.bytes_in_per_s / 1e6),
             num(s.bytes_out_per_s / 1e6), s.queued, s.queued ? us(s.queue_mean_ns) : Cell{},
             s.queued ? us(s.queue_p95_ns) : Cell{}, s.queued ? us(static_cast<double>(s.queue_max_ns)) : Cell{},
             us(s.queue_per_step_ns), s.applies ? us(s.apply_mean_ns) : Cell{}, us(s.apply_per_step_ns),
             num(s.busy_share)});
    for (const WorkerPs& w : p.workers)
        t.ps_workers.rows.push_back(
            {id, std::int64_t{w.rank}, num(w.pushes_per_step), num(w.push_bytes_per_step), us(w.push_ns_per_step),
             num(w.pulls_per_step), num(w.pull_bytes_per_step), us(w.pull_ns_per_step), us(w.wait_ns_per_step),
             us(w.pull_wait_ns_per_step), us(w.total_wait_ns_per_step()),
             str(std::to_string(w.pulls_matched) + " of " + std::to_string(w.pulls)), known(w.staleness_max),
             known(w.staleness_mean), slowed(a.slow_rank, w.rank)});
    std::string dist;
    for (const auto& [v, n] : p.staleness_histogram)
        dist += (dist.empty() ? "" : ", ") + std::to_string(v) + ": " + std::to_string(n);
    t.ps_staleness.rows.push_back({id, staleness_name(p.layout.staleness), std::int64_t{p.layout.servers},
                                   std::int64_t{p.layout.workers()}, known(p.staleness_max), known(p.staleness_mean),
                                   p.staleness_samples, dist.empty() ? Cell{} : str(dist),
                                   known(p.recorded_staleness_max), known(p.recorded_staleness_mean)});
}

// The layout of an analysed run, with its parameter servers ("dp2 tp1 pp1 + 1 server"): the world
// column counts them, so the layout says where they are.
std::string run_layout_text(const RunAnalysis& a) {
    std::string out = layout_text(a.run.dp, a.run.tp, a.run.pp);
    if (a.ps.present())
        out += " + " + std::to_string(a.ps.layout.servers) + (a.ps.layout.servers == 1 ? " server" : " servers");
    return out;
}

void add_analysis(StatsTables& t, const RunAnalysis& a) {
    const std::int64_t id = a.run.id.value;
    const auto& s = a.step_time;
    t.run.rows.push_back({id, a.run.name, a.run.model, std::int64_t{a.run.world_size}, run_layout_text(a),
                          str(to_string(a.run.status)), str(a.run.oversubscribed ? "yes" : "no"),
                          static_cast<std::int64_t>(a.steps.size()), std::int64_t{a.warmup_steps},
                          str(a.warmup_detected ? "detected" : "given"), s.count, ms(s.median_ns), ms(s.mean_ns),
                          ms(s.stddev_ns), ms(s.min_ns), ms(s.p95_ns), ms(s.max_ns),
                          num(a.overall.overlap_ratio()), str(step_window_text(a))});
    breakdown_row(t.breakdown, id, str("all"), a.overall);
    for (const auto& r : a.ranks) breakdown_row(t.breakdown, id, std::int64_t{r.rank}, r.mean);
    for (const auto& st : a.steps)
        breakdown_row(t.steps, id, Cell{st.step}, st.overall, str(st.warmup ? "yes" : "no"));
    for (const auto& k : a.kernels)
        t.kernels.rows.push_back({id, k.name, str(to_string(k.kind)), k.count, ms(static_cast<double>(k.total_ns)),
                                  num(k.share), us(k.mean_ns), us(k.median_ns), us(static_cast<double>(k.p95_ns)),
                                  us(k.per_step_ns), giga(k.flop_per_s)});
    for (const auto& c : a.collectives)
        t.collectives.rows.push_back(
            {id, str(to_string(c.collective)), str(to_string(c.group_kind)), c.group_size, c.bytes, c.count,
             ms(static_cast<double>(c.total_ns)), us(c.per_step_ns), us(c.mean_ns), c.overlapped,
             us(c.transfer_mean_ns), c.bytes > 0 ? gbps(c.algbw) : Cell{}, c.bytes > 0 ? gbps(c.busbw) : Cell{},
             bandwidth_note(c), c.instances ? us(c.skew_mean_ns) : Cell{},
             c.instances ? us(static_cast<double>(c.skew_max_ns)) : Cell{}, c.instances});
    for (const auto& sr : a.gpu.streams)
        t.gpu_streams.rows.push_back(
            {id, std::int64_t{sr.stream}, sr.ranks, sr.compute_kernels, sr.nccl_kernels, sr.copies,
             us(sr.per_step.compute_ns), us(sr.per_step.nccl_ns), us(sr.per_step.copy_ns),
             us(sr.per_step.busy_ns),
             a.overall.step_ns > 0 ? num(sr.per_step.busy_ns / a.overall.step_ns) : Cell{},
             ms(sr.busy_all_ranks_ns)});
    if (a.gpu.present()) {
        gpu_row(t.gpu, id, str("all"), a.gpu.overall, a.overall.step_ns);
        for (size_t i = 0; i < a.gpu.ranks.size(); ++i)
            gpu_row(t.gpu, id, std::int64_t{a.gpu.ranks[i].rank}, a.gpu.ranks[i].per_step,
                    i < a.ranks.size() ? a.ranks[i].mean.step_ns : a.overall.step_ns);
    }
    if (a.hta.present()) {
        temporal_row(t.temporal, id, str("all"), a.hta.overall, step_window_text(a));
        for (const auto& h : a.hta.ranks) temporal_row(t.temporal, id, std::int64_t{h.rank}, h, step_window_text(a));
        double busy = 0;
        for (int k = 1; k < kKernelStateCount; ++k) busy += a.hta.overall.state_ns[static_cast<size_t>(k)];
        for (int k = 1; k < kKernelStateCount; ++k) {
            const double v = a.hta.overall.state_ns[static_cast<size_t>(k)];
            t.kernel_types.rows.push_back({id, kernel_state_name(k), us(v), busy > 0 ? num(100.0 * v / busy) : Cell{}});
        }
        for (const auto& k : a.hta.top_kernels)
            t.top_kernels.rows.push_back({id, str(to_string(k.type)), k.name, k.count,
                                          ms(static_cast<double>(k.total_ns)), us(k.per_step_ns), us(k.mean_ns),
                                          us(k.stddev_ns), us(static_cast<double>(k.min_ns)),
                                          us(static_cast<double>(k.max_ns)), pct(k.share)});
    }
    for (const auto& r : stragglers(a.ranks))
        t.stragglers.rows.push_back({id, std::int64_t{r.rank}, ms(r.step_ns), ms(r.work_ns), ms(r.wait_ns),
                                     num(r.vs_median), str(r.straggler ? "yes" : "no"),
                                     slowed(a.slow_rank, r.rank)});
    if (a.ps.present()) add_ps(t, a);
    const auto& p = a.throughput;
    t.throughput.rows.push_back({id, known(p.samples_per_s), known(p.tokens_per_s), known(p.recorded_per_s),
                                 p.recorded_metric.empty() ? Cell{} : str(p.recorded_metric),
                                 p.model_params >= 0 ? Cell{p.model_params} : Cell{}, giga(p.model_flops_per_step),
                                 giga(p.convention_flops_per_step), giga(p.model_flop_per_s), giga(p.kernel_flop_per_s), giga(p.peak_flop_per_s),
                                 p.peak_source.empty() ? Cell{} : str(p.peak_source), known(p.mfu), mfu_note(p)});
    for (const auto& w : a.warnings) t.warnings.rows.push_back({id, w});
}

int verb_stats(const Argv& argv) {
    Args a(argv, {"--format", "--run", "--warmup", "--peak-flops", "--hardware"}, {"--per-step"});
    const Format fmt = parse_format(a.value_or("--format", "table"));
    const AnalysisOptions opt = analysis_options(a);
    TraceReader rd(a.single_file("stats"));
    std::vector<RunInfo> runs;
    if (auto id = a.integer("--run"))
        runs = {rd.run(RunId(*id))};
    else
        runs = rd.runs();
    if (runs.empty()) throw std::runtime_error(rd.path() + " holds no runs");
    StatsTables t;
    Table drops{"stats", {"run", "rank", "counter", "value"}, {}};
    int analysed = 0;
    std::string first_error;
    for (const auto& r : runs) {
        try {
            add_analysis(t, cached_analysis(rd, r.id, opt));
            ++analysed;
        } catch (const AnalysisError& e) {
            // No step to break down: the totals stored at merge still say where the kernel and
            // communication time went, as on the Summary page.
            const bool no_steps = dynamic_cast<const NoStepsError*>(&e) != nullptr;
            if (const auto aggs = no_steps ? rd.aggregates(r.id) : std::vector<traces::Aggregate>{}; !aggs.empty()) {
                add_stored(t, r.id.value, summaries_from_aggregates(aggs));
                t.warnings.rows.push_back({r.id.value, std::string(e.what()) +
                                                           ": kernel and collective totals from the aggregates stored "
                                                           "at merge (no breakdown, per-step figures or bandwidth)"});
                ++analysed;
                continue;
            }
            if (runs.size() == 1) throw;
            if (first_error.empty()) first_error = e.what();
            t.warnings.rows.push_back({r.id.value, std::string("not analysed: ") + e.what()});
        }
        for (const auto& s : rd.stats(r.id))
            drops.rows.push_back({r.id.value, s.rank < 0 ? Cell{std::string("all")} : Cell{std::int64_t{s.rank}},
                                  s.key, s.value});
    }
    if (analysed == 0) throw AnalysisError("no run of " + rd.path() + " could be analysed: " + first_error);
    std::vector<Table> out{t.run, t.breakdown, t.stragglers, t.kernels, t.collectives, t.throughput, drops,
                           t.warnings};
    // The GPU tables after the collectives, when some run has CUDA stream records.
    if (!t.gpu_streams.rows.empty())
        out.insert(out.begin() + 5, {t.gpu_streams, t.gpu, t.temporal, t.kernel_types, t.top_kernels});
    // The parameter-server tables after the collectives, when some run has servers.
    if (!t.ps_servers.rows.empty() || !t.ps_workers.rows.empty())
        out.insert(out.begin() + 5, {t.ps_servers, t.ps_workers, t.ps_staleness});
    if (a.flag("--per-step")) out.insert(out.begin() + 2, t.steps);  // after the mean breakdown
    print_tables(out, fmt, std::cout);
    return 0;
}

// ---- scaling ----

struct ScalingTables {
    Table study{"study", {"study", "name", "variable", "scaling", "points", "runs", "confidence_interval"}, {}};
    Table points{"points",
                 {"study", "p", "runs", "time_ms", "time_min_ms", "time_max_ms", "speedup", "efficiency",
                  "karp_flatt", "oversubscribed"},
                 {}};
    Table fits{"fits",
               {"study", "law", "formula", "param", "value", "ci_low", "ci_high", "r2", "rmse", "points",
                "matches_scaling"},
               {}};
    Table projections{"projections",
                      {"study", "law", "p", "speedup", "speedup_low", "speedup_high", "efficiency",
                       "efficiency_low", "efficiency_high"},
                      {}};
    Table crossings{"efficiency_below", {"study", "law", "threshold", "p"}, {}};
    Table warnings{"warnings", {"study", "law", "warning"}, {}};
};

void add_scaling(ScalingTables& t, const ScalingResult& r) {
    const std::int64_t id = r.study.id.value;
    t.study.rows.push_back({id, r.study.name, r.study.variable, str(r.weak ? "weak" : "strong"),
                            static_cast<std::int64_t>(r.points.size()), static_cast<std::int64_t>(r.samples.size()),
                            r.ci_method});
    for (const auto& p : r.points)
        t.points.rows.push_back({id, std::int64_t{p.p}, std::int64_t{p.runs}, ms(p.time_ns), ms(p.time_min_ns),
                                 ms(p.time_max_ns), num(p.speedup), num(p.efficiency), num(p.karp_flatt),
                                 str(p.oversubscribed ? "yes" : "no")});
    for (const auto& f : r.fits) {
        for (const auto& prm : f.params)
            t.fits.rows.push_back({id, str(to_string(f.law)), f.formula, prm.name, num(prm.value), num(prm.ci_low),
                                   num(prm.ci_high), num(f.r2), num(f.rmse), std::int64_t{f.points},
                                   str(f.matches_scaling ? "yes" : "no")});
        for (const auto& w : f.warnings) t.warnings.rows.push_back({id, str(to_string(f.law)), w});
    }
    for (const auto& p : r.projections)
        t.projections.rows.push_back({id, str(to_string(p.law)), num(p.p), num(p.speedup), num(p.speedup_low),
                                      num(p.speedup_high), num(p.efficiency), num(p.efficiency_low),
                                      num(p.efficiency_high)});
    for (const auto& c : r.crossings)
        t.crossings.rows.push_back({id, str(to_string(c.law)), num(c.threshold),
                                    std::isfinite(c.p) ? Cell{c.p} : str("never")});
    for (const auto& w : r.warnings) t.warnings.rows.push_back({id, Cell{}, w});
}

ScalingOptions scaling_options(const Args& a) {
    ScalingOptions o;
    const auto ps = a.values("--project");
    if (!ps.empty()) {
        o.project_p.clear();
        for (const auto& v : ps)
            o.project_p.push_back(Args::parse_number("--project", v, 1, false, "a process count >= 1"));
    }
    if (a.value("--threshold")) {
        o.efficiency_threshold = positive_number(a, "--threshold", 0.5);
        if (o.efficiency_threshold > 1)
            throw UsageError("option --threshold needs an efficiency in (0, 1] (got " + *a.value("--threshold") + ")");
    }
    if (auto b = a.integer("--bootstrap")) {
        if (*b < 0 || *b > 1000000) throw UsageError("option --bootstrap needs 0..1000000 resamples");
        o.bootstrap = static_cast<int>(*b);
    }
    if (auto s = a.integer("--seed")) o.seed = static_cast<std::uint64_t>(*s);
    o.warmup_steps = warmup_option(a);
    return o;
}

int verb_scaling(const Argv& argv) {
    Args a(argv, {"--format", "--study", "--project", "--threshold", "--bootstrap", "--seed", "--warmup"});
    const Format fmt = parse_format(a.value_or("--format", "table"));
    const ScalingOptions opt = scaling_options(a);
    TraceReader rd(a.single_file("scaling"));
    std::vector<StudyId> ids;
    if (auto id = a.integer("--study")) {
        ids.push_back(StudyId(*id));
    } else {
        for (const auto& s : rd.studies()) ids.push_back(s.id);
        if (ids.empty())
            throw AnalysisError(rd.path() + " has no scaling study (its studies table is empty): "
                                "record one with 'scalescope-cli study', or compare single runs with 'compare'");
    }
    ScalingTables t;
    std::vector<ScalingResult> results;
    for (auto id : ids) {
        results.push_back(analyze_study(rd, id, opt));
        add_scaling(t, results.back());
    }
    print_tables({t.study, t.points, t.fits, t.projections, t.crossings, t.warnings}, fmt, std::cout);
    if (fmt == Format::Table) {
        // What the study shows, in one sentence (core/analysis/study_summary.h); the machine's cores
        // only when every run used this host.
        const LaunchEnvironment env = LaunchEnvironment::current();
        for (const auto& r : results) {
            StudyContext ctx;
            if (r.hosts.size() == 1 && r.hosts.front() == env.local_hostname) ctx.cores = env.local_cores;
            std::cout << "\n" << (results.size() > 1 ? "study " + std::to_string(r.study.id.value) + ": " : "")
                      << study_sentence(r, ctx) << "\n";
        }
    }
    return 0;
}

// ---- compare ----

struct Operand {
    std::string path;
    std::int64_t run = -1, study = -1;
    std::string text;
};

Operand parse_operand(const std::string& s) {
    Operand o;
    o.text = s;
    o.path = s;
    const auto colon = s.rfind(':');
    if (colon != std::string::npos && colon > 0 && colon + 1 < s.size()) {
        std::string sel = s.substr(colon + 1);
        const bool study = sel[0] == 's';
        if (study) sel = sel.substr(1);
        if (!sel.empty() && sel.find_first_not_of("0123456789") == std::string::npos) {
            o.path = s.substr(0, colon);
            (study ? o.study : o.run) = std::stoll(sel);
        }
    }
    return o;
}

// Resolves an operand without a selector: the file's only run, else its only study.
void resolve(Operand& o, TraceReader& rd) {
    if (o.run >= 0 || o.study >= 0) return;
    const auto runs = rd.runs();
    const auto studies = rd.studies();
    if (runs.size() == 1) {
        o.run = runs[0].id.value;
        return;
    }
    if (studies.size() == 1) {
        o.study = studies[0].id.value;
        return;
    }
    std::string r, s;
    for (size_t i = 0; i < runs.size(); ++i) r += (i ? ", " : "") + std::to_string(runs[i].id.value);
    for (size_t i = 0; i < studies.size(); ++i) s += (i ? ", " : "") + std::to_string(studies[i].id.value);
    throw UsageError(o.path + " holds " + std::to_string(runs.size()) + " runs (" + r + ") and " +
                     std::to_string(studies.size()) + " studies" + (s.empty() ? "" : " (" + s + ")") +
                     ": name one as " + o.path + ":RUN or " + o.path + ":sSTUDY");
}

void delta_cells(std::vector<Cell>& row, const Delta& d, double scale) {
    row.push_back(num(d.a / scale));
    row.push_back(num(d.b / scale));
    row.push_back(num(d.abs / scale));
    row.push_back(pct(d.rel));
}

int verb_compare(const Argv& argv) {
    Args a(argv, {"--format", "--warmup", "--peak-flops", "--hardware", "--bootstrap", "--seed"});
    const Format fmt = parse_format(a.value_or("--format", "table"));
    if (a.positional().size() != 2)
        throw UsageError("compare takes two operands, FILE[:RUN] or FILE:sSTUDY (got " +
                         std::to_string(a.positional().size()) + ")");
    Operand oa = parse_operand(a.positional()[0]), ob = parse_operand(a.positional()[1]);
    TraceReader ra(oa.path), rb(ob.path);
    resolve(oa, ra);
    resolve(ob, rb);
    if ((oa.run >= 0) != (ob.run >= 0))
        throw UsageError("compare needs two runs or two studies (got " + std::string(oa.run >= 0 ? "a run" : "a study") +
                         " and " + (ob.run >= 0 ? "a run" : "a study") + ")");
    const std::string la = oa.path + (oa.run >= 0 ? ":" + std::to_string(oa.run) : ":s" + std::to_string(oa.study));
    const std::string lb = ob.path + (ob.run >= 0 ? ":" + std::to_string(ob.run) : ":s" + std::to_string(ob.study));

    if (oa.run >= 0) {
        const AnalysisOptions opt = analysis_options(a);
        const RunAnalysis xa = analyze_run(ra, RunId(oa.run), opt);
        const RunAnalysis xb = analyze_run(rb, RunId(ob.run), opt);
        const RunComparison c = compare_runs(xa, xb, "A", "B");
        Table runs{"runs", {"side", "operand", "run", "name", "model", "world", "layout", "status"}, {}};
        for (const auto& [side, lbl, x] : {std::tuple{"A", la, &xa}, std::tuple{"B", lb, &xb}}) {
            const traces::RunInfo& r = x->run;
            runs.rows.push_back({str(side), lbl, r.id.value, r.name, r.model, std::int64_t{r.world_size},
                                 run_layout_text(*x), str(to_string(r.status))});
        }
        Table summary{"summary", {"metric", "unit", "a", "b", "delta", "rel_pct"}, {}};
        for (const auto& m : c.summary) {
            const bool t = m.unit == "ns";
            std::vector<Cell> row{m.name + (t ? "_ms" : ""), str(t ? "ms" : m.unit)};
            delta_cells(row, m.d, t ? 1e6 : 1.0);
            summary.rows.push_back(std::move(row));
        }
        Table parts{"breakdown", {"part", "a_ms", "b_ms", "delta_ms", "rel_pct"}, {}};
        for (const auto& m : c.breakdown) {
            std::vector<Cell> row{m.name};
            delta_cells(row, m.d, 1e6);
            parts.rows.push_back(std::move(row));
        }
        Table kernels{"kernels",
                      {"name", "presence", "a_us_per_step", "b_us_per_step", "delta_us", "rel_pct",
                       "a_calls_per_step", "b_calls_per_step"},
                      {}};
        for (const auto& k : c.kernels) {
            std::vector<Cell> row{k.name, str(to_string(k.presence))};
            delta_cells(row, k.per_step_ns, 1e3);
            row.push_back(num(k.count_per_step.a));
            row.push_back(num(k.count_per_step.b));
            kernels.rows.push_back(std::move(row));
        }
        Table colls{"collectives",
                    {"collective", "group", "presence", "a_us_per_step", "b_us_per_step", "delta_us", "rel_pct",
                     "a_bytes_per_step", "b_bytes_per_step", "a_busbw_gbps", "b_busbw_gbps"},
                    {}};
        for (const auto& k : c.collectives) {
            std::vector<Cell> row{str(to_string(k.collective)), str(to_string(k.group_kind)), str(to_string(k.presence))};
            delta_cells(row, k.per_step_ns, 1e3);
            row.push_back(num(k.bytes_per_step.a));
            row.push_back(num(k.bytes_per_step.b));
            row.push_back(gbps(k.busbw.a));
            row.push_back(gbps(k.busbw.b));
            colls.rows.push_back(std::move(row));
        }
        // HTA's TraceDiff: every op by name and side, per step and rank; then how many of each change.
        Table ops{"ops",
                  {"name", "side", "change", "a_calls_per_step", "b_calls_per_step", "delta_calls",
                   "a_us_per_step", "b_us_per_step", "delta_us", "rel_pct"},
                  {}};
        std::array<std::int64_t, 5> changes{};
        for (const auto& o : c.ops) {
            std::vector<Cell> row{o.name, str(o.gpu ? "gpu" : "host"), str(to_string(o.change)),
                                  num(o.count_per_step.a), num(o.count_per_step.b), num(o.count_per_step.abs)};
            delta_cells(row, o.per_step_ns, 1e3);
            ops.rows.push_back(std::move(row));
            ++changes[static_cast<size_t>(o.change)];
        }
        Table op_changes{"op_changes", {"change", "ops"}, {}};
        for (int i = 0; i < 5; ++i)
            op_changes.rows.push_back({str(to_string(static_cast<OpChange>(i))), changes[static_cast<size_t>(i)]});
        Table verdict{"verdict", {"verdict"}, {{c.verdict}}};
        Table warnings{"warnings", {"warning"}, {}};
        for (const auto& w : c.warnings) warnings.rows.push_back({w});
        print_tables({runs, summary, parts, kernels, colls, op_changes, ops, verdict, warnings}, fmt, std::cout);
        return 0;
    }

    ScalingOptions sopt;
    if (auto b = a.integer("--bootstrap")) {
        if (*b < 0 || *b > 1000000) throw UsageError("option --bootstrap needs 0..1000000 resamples");
        sopt.bootstrap = static_cast<int>(*b);
    }
    if (auto s = a.integer("--seed")) sopt.seed = static_cast<std::uint64_t>(*s);
    sopt.warmup_steps = warmup_option(a);
    const ScalingResult sa = analyze_study(ra, StudyId(oa.study), sopt);
    const ScalingResult sb = analyze_study(rb, StudyId(ob.study), sopt);
    const StudyComparison c = compare_studies(sa, sb, "A", "B");
    Table studies{"studies", {"side", "operand", "study", "name", "variable", "scaling"}, {}};
    for (const auto& [side, lbl, s] : {std::tuple{"A", la, sa}, std::tuple{"B", lb, sb}})
        studies.rows.push_back({str(side), lbl, s.study.id.value, s.study.name, s.study.variable,
                                str(s.weak ? "weak" : "strong")});
    Table points{"points",
                 {"p", "presence", "a_time_ms", "b_time_ms", "delta_ms", "rel_pct", "a_speedup", "b_speedup",
                  "a_efficiency", "b_efficiency"},
                 {}};
    for (const auto& p : c.points) {
        std::vector<Cell> row{std::int64_t{p.p}, str(to_string(p.presence))};
        delta_cells(row, p.time_ns, 1e6);
        row.push_back(num(p.speedup.a));
        row.push_back(num(p.speedup.b));
        row.push_back(num(p.efficiency.a));
        row.push_back(num(p.efficiency.b));
        points.rows.push_back(std::move(row));
    }
    Table fits{"fits", {"law", "param", "a", "b", "delta", "rel_pct", "intervals_disjoint"}, {}};
    for (const auto& f : c.fits) {
        std::vector<Cell> row{str(to_string(f.law)), f.param};
        delta_cells(row, f.value, 1.0);
        row.push_back(str(f.significant ? "yes" : "no"));
        fits.rows.push_back(std::move(row));
    }
    Table verdict{"verdict", {"verdict"}, {{c.verdict}}};
    Table warnings{"warnings", {"warning"}, {}};
    for (const auto& w : c.warnings) warnings.rows.push_back({w});
    print_tables({studies, points, fits, verdict, warnings}, fmt, std::cout);
    return 0;
}

const VerbRegistration kStats{
    "stats",
    "stats FILE [--run ID] [--warmup N] [--peak-flops F | --hardware HW.json] [--per-step] [--format table|csv|json]\n"
    "      step time, breakdown (per rank; per step with --per-step), stragglers, kernels, collectives (busy\n"
    "      time, issue-to-completion latency, bandwidth of the calls that overlapped nothing), throughput, MFU,\n"
    "      drop counters; on GPU runs device time per stream and HTA's temporal and kernel-type breakdowns,\n"
    "      communication-computation overlap and top kernels",
    verb_stats};
const VerbRegistration kScaling{
    "scaling",
    "scaling FILE [--study ID] [--project P]... [--threshold E] [--bootstrap N] [--seed S] [--warmup N]\n"
    "      [--format table|csv|json]   speedup, efficiency, Karp-Flatt; Amdahl, Gustafson and USL fits with\n"
    "      intervals, projections to P, the p where efficiency falls below E",
    verb_scaling};
const VerbRegistration kCompare{
    "compare",
    "compare A[:RUN|:sSTUDY] B[:RUN|:sSTUDY] [--warmup N] [--peak-flops F | --hardware HW.json]\n"
    "      [--format table|csv|json]   two runs (step time, breakdown, kernels, collectives, every op added,\n"
    "      removed or changed as HTA's TraceDiff) or two studies, with deltas and a verdict",
    verb_compare};

}  // namespace

}  // namespace ss::cli

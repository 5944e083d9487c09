// Verb `simulate`: the what-if simulator of core/ (docs/SIMULATOR.md).
//   simulate SPEC.json --hardware HW.json [--set k=v]... [what-if flags] [--sweep dp=1,2,4 [--weak]]
//   simulate --trace FILE.sqlite [--run ID] [--step N] [--hardware HW] [what-if flags, --dp, --micro-batches]
//   simulate --validate FILE.sqlite [--hardware HW] [--study ID] [--fit-run ID]
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/args.h"
#include "cli/format.h"
#include "cli/verbs.h"
#include "core/analysis/analysis.h"
#include "core/sim/calibrate.h"
#include "core/sim/hardware.h"
#include "core/sim/sim_replay.h"
#include "core/sim/sim_trace.h"
#include "core/sim/validation_band.h"
#include "core/sim/simulator.h"
#include "traces/reader.h"

namespace ss::cli {

using namespace ss::core;
using namespace ss::traces;

namespace {

Cell num(double v) { return std::isfinite(v) ? Cell{v} : Cell{}; }
Cell ms(double s) { return num(s * 1e3); }
Cell pct(double rel) { return num(100.0 * rel); }
Cell str(const std::string& s) { return Cell{s}; }
Cell mib(double b) { return num(b / 1048576.0); }

double factor(const Args& a, const std::string& key) {
    return a.number(key, 0, /*exclusive=*/true, "a positive factor").value_or(1.0);
}

// --background-load L: other runnable threads sharing each node's cores (>= 0).
double background(const Args& a) {
    return a.number("--background-load", 0, false, "a number of threads >= 0").value_or(0.0);
}

std::optional<bool> overlap_option(const Args& a) {
    auto v = a.value("--overlap");
    if (!v) return std::nullopt;
    if (*v == "on") return true;
    if (*v == "off") return false;
    throw UsageError("--overlap takes on or off (got '" + *v + "')");
}

std::vector<int> int_list(const std::string& text, const std::string& what) {
    std::vector<int> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            size_t pos = 0;
            const int v = std::stoi(item, &pos);
            if (pos != item.size() || v < 1) throw std::invalid_argument("bad");
            out.push_back(v);
        } catch (const std::exception&) {
            throw UsageError(what + ": '" + item + "' is not a positive integer");
        }
    }
    if (out.empty()) throw UsageError(what + " lists no value");
    return out;
}

ExperimentSpec load_spec(const std::string& path, const std::vector<std::string>& sets) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error("cannot read the spec file " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    nlohmann::json doc = nlohmann::json::parse(ss.str(), nullptr, false, /*ignore_comments=*/true);
    if (doc.is_discarded()) {
        const ParseResult pr = parse_spec_file(path);  // names the line and column
        throw std::runtime_error(format_errors(pr.errors));
    }
    for (const auto& s : sets) {
        try {
            apply_override(doc, s);
        } catch (const std::invalid_argument& e) {
            throw UsageError(std::string("--set ") + s + ": " + e.what());
        }
    }
    ParseResult pr = parse_spec(doc);
    if (!pr.ok()) throw std::runtime_error(path + ":\n" + format_errors(pr.errors));
    return pr.spec;
}

std::string layout(const ExperimentSpec& s) {
    return "dp" + std::to_string(s.parallel.dp) + " tp" + std::to_string(s.parallel.tp) + " pp" +
           std::to_string(s.parallel.pp) + " m" + std::to_string(s.parallel.micro_batches) +
           (s.parallel.parameter_server()
                ? " ps" + std::to_string(s.parallel.servers) + " " + ps_mode(s.parallel.staleness)
                : std::string()) +
           (s.training.slow_rank >= 0 && s.training.slow_factor > 1
                ? " slow" + std::to_string(s.training.slow_rank) + "x" + std::to_string(s.training.slow_factor).substr(0, 4)
                : std::string());
}

Table breakdown_table(const std::vector<std::pair<std::string, const Breakdown*>>& cols) {
    Table t{"breakdown", {"part"}, {}};
    for (const auto& c : cols) {
        t.columns.push_back(c.first + "_ms");
        t.columns.push_back(c.first + "_share_pct");
    }
    for (int p = 0; p < kPartCount; ++p) {
        std::vector<Cell> row{str(std::string(to_string(static_cast<Part>(p))))};
        for (const auto& c : cols) {
            row.push_back(num(c.second->part_ns[static_cast<std::size_t>(p)] / 1e6));
            row.push_back(c.second->step_ns > 0 ? pct(c.second->part_ns[static_cast<std::size_t>(p)] / c.second->step_ns) : Cell{});
        }
        t.rows.push_back(row);
    }
    return t;
}

std::vector<Cell> result_row(const std::string& engine, const ExperimentSpec& s, const SimResult& r) {
    return {str(engine),
            Cell{std::int64_t{r.world}},
            str(layout(s)),
            ms(r.step_s),
            num(r.samples_per_s),
            num(r.tokens_per_s),
            r.mfu > 0 ? pct(r.mfu) : Cell{},
            r.hfu > 0 ? pct(r.hfu) : Cell{},
            mib(r.memory.total),
            r.memory.capacity > 0 ? mib(r.memory.capacity) : Cell{},
            str(r.memory.fits ? "yes" : "no"),
            str(r.oversubscribed ? "yes" : "no")};
}
const std::vector<std::string> kResultCols{"engine", "world", "layout", "step_ms", "samples_per_s", "tokens_per_s",
                                           "mfu_pct", "hfu_pct", "memory_per_rank_MiB", "capacity_MiB", "fits", "oversubscribed"};

Table sweep_band_table(const Hardware& hw, ExperimentSpec spec, const std::string& axis, const std::vector<CurvePoint>& curve) {
    Table t{"error_band", {"point", "prediction", "band_pct", "band_scope"}, {}};
    for (const auto& c : curve) {
        int v = 0;
        try {
            const auto eq = c.value.find('=');
            v = std::stoi(eq == std::string::npos ? c.value : c.value.substr(eq + 1));
        } catch (const std::exception&) {
            v = 0;
        }
        if (v > 0 && axis == "dp") spec.parallel.dp = v;
        if (v > 0 && axis == "tp") spec.parallel.tp = v;
        if (v > 0 && axis == "pp") spec.parallel.pp = v;
        const ErrorBand b = error_band(hw, spec, c.result.oversubscribed);
        t.rows.push_back({str(c.value), str(step_with_band(c.result.step_s, b)), b.backed ? pct(b.rel) : Cell{},
                          str(b.backed ? b.scope : "none")});
    }
    return t;
}

// The error band each prediction carries: the validation stored in the hardware file
// (core/sim/validation_band.h), or a plain statement that none backs it.
Table band_table(const Hardware& hw, const ExperimentSpec& spec, const std::vector<std::pair<std::string, const SimResult*>>& preds) {
    Table t{"error_band", {"engine", "prediction", "band_pct", "band_points", "band_scope", "validated_on"}, {}};
    for (const auto& [engine, r] : preds) {
        const ErrorBand b = error_band(hw, spec, r->oversubscribed);
        t.rows.push_back({str(engine), str(step_with_band(r->step_s, b)), b.backed ? pct(b.rel) : Cell{},
                          b.backed ? Cell{std::int64_t{b.points}} : Cell{}, str(b.backed ? b.scope : "none"),
                          str(b.backed ? b.date : "")});
    }
    return t;
}

int simulate_spec(const Args& a, Format fmt) {
    if (a.positional().size() != 1) throw UsageError("simulate takes one spec file (or --trace / --validate FILE)");
    ExperimentSpec spec = load_spec(a.positional()[0], a.values("--set"));
    if (auto v = a.integer("--dp")) spec.parallel.dp = static_cast<int>(*v);
    if (auto v = a.integer("--micro-batches")) spec.parallel.micro_batches = static_cast<int>(*v);
    if (auto v = overlap_option(a)) spec.parallel.overlap = *v;
    spec.launch.np = 0;
    auto hwpath = a.value("--hardware");
    if (!hwpath)
        throw UsageError("simulate SPEC needs --hardware HW.json (examples/hardware/*.json, or the file "
                         "`scalescope-cli calibrate -o HW.json` wrote, or a trace file holding a calibration)");
    const Hardware hw = scaled(load_hardware(*hwpath), {factor(a, "--compute"), factor(a, "--bandwidth"), factor(a, "--latency")});
    SimOptions opt;
    opt.model_oversubscription = !a.flag("--no-oversubscription-model");
    opt.background_threads = background(a);
    const std::string engine = a.value_or("--engine", "both");
    if (engine != "analytic" && engine != "replay" && engine != "both")
        throw UsageError("--engine takes analytic, replay or both (got '" + engine + "')");

    std::vector<Table> out;
    Table hwt{"hardware", {"name", "sgemm_TFLOPs", "memory_GBps", "devices_per_node", "cores_per_node", "algorithm",
                           "intra_alpha_us", "intra_GBps", "inter_alpha_us", "inter_GBps"}, {}};
    hwt.rows.push_back({str(hw.name), num(hw.flop_per_s / 1e12), num(hw.mem_bw_bytes_per_s / 1e9),
                        Cell{std::int64_t{hw.devices_per_node}}, Cell{std::int64_t{hw.cores_per_node}},
                        str(to_string(hw.algorithm)), num(hw.intra.alpha_s * 1e6),
                        num(hw.intra.beta_s_per_byte > 0 ? 1e-9 / hw.intra.beta_s_per_byte : 0),
                        num(hw.inter.alpha_s * 1e6), num(hw.inter.beta_s_per_byte > 0 ? 1e-9 / hw.inter.beta_s_per_byte : 0)});
    out.push_back(hwt);
    // Where the compute rates come from: the calibration's classes or the hardware peaks (core/sim/calibrate.h).
    out.push_back(Table{"compute_rates", {"source"}, {{str(compute_rates_source(hw))}}});
    if (auto sweep = a.value("--sweep")) {
        const auto eq = sweep->find('=');
        if (eq == std::string::npos) throw UsageError("--sweep takes AXIS=V1,V2,... (e.g. dp=1,2,4,8)");
        const std::string axis = sweep->substr(0, eq);
        const auto curve = scaling_curve(spec, hw, axis, int_list(sweep->substr(eq + 1), "--sweep"), a.flag("--weak"), opt);
        Table t{"curve", {"point", "p", "step_ms", "samples_per_s", "speedup", "efficiency", "mfu_pct", "exposed_comm_pct",
                          "bubble_pct", "memory_per_rank_MiB", "fits"}, {}};
        for (const auto& c : curve) {
            const auto& b = c.result.breakdown;
            t.rows.push_back({str(c.value), Cell{std::int64_t{c.p}}, ms(c.result.step_s), num(c.result.samples_per_s),
                              num(c.speedup), num(c.efficiency), c.result.mfu > 0 ? pct(c.result.mfu) : Cell{},
                              pct(b.part(Part::ExposedComm) / b.step_ns), pct(b.part(Part::Bubble) / b.step_ns),
                              mib(c.result.memory.total), str(c.result.memory.fits ? "yes" : "no")});
        }
        out.push_back(t);
        out.push_back(sweep_band_table(hw, spec, axis, curve));
        print_tables(out, fmt, std::cout);
        return 0;
    }
    Table res{"prediction", kResultCols, {}};
    SimResult an, rp;
    std::vector<std::pair<std::string, const Breakdown*>> cols;
    if (engine != "replay") {
        an = simulate_analytic(spec, hw, opt);
        res.rows.push_back(result_row("analytic", spec, an));
        cols.push_back({"analytic", &an.breakdown});
    }
    if (engine != "analytic") {
        rp = simulate_replay(spec, hw, opt);
        res.rows.push_back(result_row("replay", spec, rp));
        cols.push_back({"replay", &rp.breakdown});
    }
    out.push_back(res);
    std::vector<std::pair<std::string, const SimResult*>> preds;
    if (engine != "replay") preds.push_back({"analytic", &an});
    if (engine != "analytic") preds.push_back({"replay", &rp});
    out.push_back(band_table(hw, spec, preds));
    out.push_back(breakdown_table(cols));
    const SimResult& any = engine == "replay" ? rp : an;
    // The large-model features and the two FLOP counts behind MFU (model: no recomputation) and HFU.
    Table work{"workload", {"precision", "recompute", "virtual_stages", "sequence_parallel", "model_TFLOP_per_step",
                            "hardware_TFLOP_per_step"}, {}};
    work.rows.push_back({str(spec.training.precision), str(spec.training.recompute),
                         Cell{std::int64_t{spec.parallel.virtual_stages}}, str(spec.parallel.sequence_parallel ? "yes" : "no"),
                         num(any.model_flops_per_step / 1e12), num(any.hardware_flops_per_step / 1e12)});
    out.push_back(work);
    // The parameter server (docs/SIMULATOR.md "Parameter server and staleness"): per engine the
    // transfers and update, throughput and staleness; per server its load; per replica its step.
    std::vector<std::pair<std::string, const SimResult*>> ps_preds;
    for (const auto& [name, r] : preds)
        if (r->ps.enabled) ps_preds.push_back({name, r});
    if (!ps_preds.empty()) {
        Table pst{"parameter_server", {"engine", "sync", "servers", "push_ms", "pull_ms", "apply_ms", "gradients_per_s",
                                       "step_per_global_batch_ms", "job_step_ms", "staleness_mean", "staleness_max"}, {}};
        Table srv{"ps_servers", {"engine", "server", "world_rank", "in_MiB_per_step", "out_MiB_per_step", "utilisation_pct"}, {}};
        Table rep{"ps_replicas", {"engine", "replica", "step_ms", "wait_ms", "staleness"}, {}};
        for (const auto& [name, r] : ps_preds) {
            const PsPrediction& p = r->ps;
            pst.rows.push_back({str(name), str(p.mode), Cell{std::int64_t{p.servers}}, ms(p.push_s), ms(p.pull_s), ms(p.apply_s),
                                num(p.gradients_per_s), ms(r->step_s), ms(p.job_step_s), num(p.staleness_mean),
                                num(p.staleness_max)});
            for (std::size_t k = 0; k < p.server_in_bytes.size(); ++k)
                srv.rows.push_back({str(name), Cell{static_cast<std::int64_t>(k)},
                                    Cell{static_cast<std::int64_t>(spec.parallel.workers() + static_cast<int>(k))},
                                    mib(p.server_in_bytes[k]), mib(p.server_out_bytes[k]),
                                    k < p.server_utilisation.size() ? pct(p.server_utilisation[k]) : Cell{}});
            for (std::size_t d = 0; d < p.replica_step_s.size(); ++d)
                rep.rows.push_back({str(name), Cell{static_cast<std::int64_t>(d)}, ms(p.replica_step_s[d]), ms(p.replica_wait_s[d]),
                                    num(p.replica_staleness[d])});
        }
        out.push_back(pst);
        out.push_back(srv);
        out.push_back(rep);
    }
    const MemoryEstimate& m = any.memory;
    Table mem{"memory", {"stage", "params_MiB", "grads_MiB", "optimizer_MiB", "activations_MiB", "buffers_MiB", "total_MiB",
                         "capacity_MiB", "fits", "verdict"}, {}};
    mem.rows.push_back({Cell{std::int64_t{m.stage}}, mib(m.params), mib(m.grads), mib(m.optimizer), mib(m.activations),
                        mib(m.buffers), mib(m.total), m.capacity > 0 ? mib(m.capacity) : Cell{}, str(m.fits ? "yes" : "no"),
                        str(memory_verdict(m))});
    out.push_back(mem);
    Table notes{"notes", {"note"}, {}};
    for (const auto& n : any.notes) notes.rows.push_back({str(n)});
    if (!hw.validation.present) notes.rows.push_back({str(no_band_hint())});
    if (!notes.rows.empty()) out.push_back(notes);
    print_tables(out, fmt, std::cout);
    return 0;
}

std::optional<Hardware> trace_hardware(const Args& a, const std::string& file) {
    if (auto h = a.value("--hardware")) return load_hardware(*h);
    TraceReader rd(file);
    if (rd.calibrations().empty()) return std::nullopt;
    return load_hardware(file);
}

int simulate_trace(const Args& a, Format fmt) {
    const std::string file = *a.value("--trace");
    TraceReader rd(file);
    RunId run;
    if (auto r = a.integer("--run")) run = RunId(*r);
    else {
        auto runs = rd.runs();
        if (runs.empty()) throw std::runtime_error(file + " holds no run");
        run = runs.front().id;
    }
    TraceWhatIf w;
    w.compute = factor(a, "--compute");
    w.bandwidth = factor(a, "--bandwidth");
    w.latency = factor(a, "--latency");
    w.overlap = overlap_option(a);
    if (auto s = a.integer("--step")) w.step = *s;
    if (auto v = a.integer("--dp")) w.dp = static_cast<int>(*v);
    if (auto v = a.integer("--micro-batches")) w.micro_batches = static_cast<int>(*v);
    const bool reshape = w.dp || w.micro_batches;
    if (reshape && a.value("--step"))
        throw UsageError("--step replays one recorded step; with --dp or --micro-batches the prediction comes from the "
                         "run's spec and rates fitted on all its measured steps: drop --step");
    if (w.bandwidth != 1 || w.latency != 1 || reshape) {
        auto hw = trace_hardware(a, file);
        if (!hw)
            throw UsageError(std::string(reshape ? "--dp/--micro-batches time the new layout's communication"
                                                 : "--bandwidth/--latency re-time collectives") +
                             " with the network model: pass --hardware HW.json (the calibration of the machine the "
                             "trace was recorded on) or store one in the file (scalescope-cli calibrate -o HW.json "
                             "--trace " + file + ")");
        w.base = *hw;
    }
    const TraceReplayResult r = replay_trace(rd, run, w);
    Table t{"replay", {"run", "name", "step", "world", "measured_ms", "replayed_ms", "difference_pct", "ops", "collectives",
                       "messages", "oversubscribed"}, {}};
    if (r.reshaped) {
        t = Table{"reshaped", {"run", "name", "recorded_layout", "measured_ms", "model_recorded_ms", "model_err_pct",
                               "predicted_layout", "world", "predicted_ms", "change_pct", "ops", "collectives", "messages"}, {}};
        t.rows.push_back({Cell{r.run.id.value}, str(r.run.name), str(r.layout_recorded), ms(r.measured_step_s),
                          ms(r.model_recorded_s), pct((r.model_recorded_s - r.measured_step_s) / r.measured_step_s),
                          str(r.layout_predicted), Cell{std::int64_t{r.world_predicted}}, ms(r.replay.step_s),
                          pct((r.replay.step_s - r.measured_step_s) / r.measured_step_s), Cell{std::int64_t{r.ops}},
                          Cell{std::int64_t{r.collectives}}, Cell{std::int64_t{r.messages}}});
    } else {
        t.rows.push_back({Cell{r.run.id.value}, str(r.run.name), Cell{r.step}, Cell{std::int64_t{r.run.world_size}},
                          ms(r.measured_step_s), ms(r.replay.step_s), pct((r.replay.step_s - r.measured_step_s) / r.measured_step_s),
                          Cell{std::int64_t{r.ops}}, Cell{std::int64_t{r.collectives}}, Cell{std::int64_t{r.messages}},
                          str(r.run.oversubscribed ? "yes" : "no")});
    }
    std::vector<Table> out{t, breakdown_table({{"replay", &r.replay.breakdown}})};
    Table notes{"notes", {"note"}, {}};
    for (const auto& n : r.notes) notes.rows.push_back({str(n)});
    if (!notes.rows.empty()) out.push_back(notes);
    print_tables(out, fmt, std::cout);
    return 0;
}

// The validation by layout class: the band `--store-band` stores (each point's error the larger
// of the two engines').
Table validation_band_table(const HardwareValidation& v) {
    Table t{"band", {"layout_class", "points", "mean_abs_err_pct", "max_abs_err_pct"}, {}};
    for (const auto& c : v.classes)
        t.rows.push_back({str(c.layout_class), Cell{std::int64_t{c.points}}, pct(c.mean_abs_err), pct(c.max_abs_err)});
    t.rows.push_back({str("all (not oversubscribed)"), Cell{std::int64_t{v.points}}, v.points ? pct(v.mean_abs_err) : Cell{},
                      v.points ? pct(v.max_abs_err) : Cell{}});
    t.rows.push_back({str("oversubscribed (apart)"), Cell{std::int64_t{v.points_oversubscribed}},
                      v.points_oversubscribed ? pct(v.mean_abs_err_oversubscribed) : Cell{}, Cell{}});
    return t;
}

// --parts: which part of the step each prediction gets wrong. Per predicted point, the measured
// breakdown (core/analysis analyze_run: mean over ranks and measured steps, averaged over the
// point's repeats) beside the analytic prediction's, part by part.
Table parts_table(TraceReader& rd, const ValidationReport& rep) {
    Table t{"parts", {"name", "layout", "part", "measured_ms", "predicted_ms", "difference_ms", "difference_pct_of_step"}, {}};
    for (const auto& r : rep.rows) {
        if (!(r.analytic_s > 0) || r.fit) continue;
        Breakdown m;
        int n = 0;
        for (auto id : r.runs) {
            const RunAnalysis an = analyze_run(rd, RunId(id));
            for (int p = 0; p < kPartCount; ++p) m.part_ns[static_cast<std::size_t>(p)] += an.overall.part_ns[static_cast<std::size_t>(p)];
            m.step_ns += an.overall.step_ns;
            ++n;
        }
        for (auto& x : m.part_ns) x /= n;
        m.step_ns /= n;
        for (int p = 0; p < kPartCount; ++p) {
            const double meas = m.part_ns[static_cast<std::size_t>(p)], pred = r.analytic_parts.part_ns[static_cast<std::size_t>(p)];
            if (meas == 0 && pred == 0) continue;
            t.rows.push_back({str(r.run.name), str(r.layout), str(std::string(to_string(static_cast<Part>(p)))), num(meas / 1e6),
                              num(pred / 1e6), num((pred - meas) / 1e6), m.step_ns > 0 ? pct((pred - meas) / m.step_ns) : Cell{}});
        }
        t.rows.push_back({str(r.run.name), str(r.layout), str("step (mean)"), num(m.step_ns / 1e6), num(r.analytic_parts.step_ns / 1e6),
                          num((r.analytic_parts.step_ns - m.step_ns) / 1e6), m.step_ns > 0 ? pct((r.analytic_parts.step_ns - m.step_ns) / m.step_ns) : Cell{}});
    }
    return t;
}

// --store-band: the validation's band into the hardware JSON file given with --hardware.
Table store_band(const Args& a, const ValidationReport& rep, const std::string& stat, const std::string& file) {
    const auto path = a.value("--hardware");
    if (!path)
        throw UsageError("--store-band writes into the hardware file: pass it with --hardware HW.json");
    if (!(rep.predicted > 0))
        throw std::runtime_error("--store-band: the validation predicted no point that is not oversubscribed: nothing to store");
    store_validation(*path, summarize_validation(rep, stat, file));
    Table t{"stored", {"file", "block"}, {}};
    t.rows.push_back({str(*path), str("validation")});
    return t;
}

int simulate_validate(const Args& a, Format fmt) {
    const std::string file = *a.value("--validate");
    auto hw = trace_hardware(a, file);
    if (!hw)
        throw UsageError("--validate needs the calibration of the machine: --hardware HW.json, or a calibration stored in " +
                         file + " (scalescope-cli calibrate -o HW.json --trace " + file + ")");
    TraceReader rd(file);
    StudyId study;
    if (auto s = a.integer("--study")) study = StudyId(*s);
    RunId fit;
    if (auto f = a.integer("--fit-run")) fit = RunId(*f);
    // Compute rates: the hardware file's calibrated classes when it holds them, else (or with
    // --fit-run / --fit-on-study) fitted on a recorded single-rank run of each model.
    const bool fit_asked = fit.valid() || a.flag("--fit-on-study");
    const RatesFrom rates_from = fit_asked ? RatesFrom::Fit : RatesFrom::Auto;
    const bool from_calibration = !fit_asked && hw->classes.present();
    const std::string stat = a.value_or("--statistic", "median");
    if (stat != "median" && stat != "best")
        throw UsageError("--statistic takes median or best (got '" + stat + "')");
    const ValidationReport rep = validate_runs(rd, *hw, study, fit, background(a),
                                               stat == "best" ? RepeatStatistic::Best : RepeatStatistic::Median, rates_from);
    Table t{"validation", {"runs", "name", "layout", "p", "oversubscribed", "role", "measured_ms", "spread_pct", "analytic_ms",
                           "analytic_err_pct", "replay_ms", "replay_err_pct", "note"}, {}};
    for (const auto& r : rep.rows) {
        const bool predicted = r.analytic_s > 0;
        std::string ids;
        for (auto id : r.runs) ids += (ids.empty() ? "" : ",") + std::to_string(id);
        t.rows.push_back({str(ids), str(r.run.name), str(r.layout), Cell{std::int64_t{r.run.world_size}},
                          str(r.oversubscribed ? "yes" : "no"), str(r.fit ? "fit" : predicted ? "predicted" : "skipped"),
                          ms(r.measured_s), r.runs.size() > 1 ? pct(r.spread) : Cell{}, predicted ? ms(r.analytic_s) : Cell{},
                          predicted ? pct(r.analytic_err) : Cell{}, predicted ? ms(r.replay_s) : Cell{},
                          predicted ? pct(r.replay_err) : Cell{}, str(r.note)});
    }
    Table s{"summary", {"points", "predicted", "mae_analytic_pct", "mae_replay_pct"}, {}};
    s.rows.push_back({str("not oversubscribed"), Cell{std::int64_t{rep.predicted}}, pct(rep.mae_analytic), pct(rep.mae_replay)});
    s.rows.push_back({str("oversubscribed"), Cell{std::int64_t{rep.predicted_over}}, pct(rep.mae_analytic_over),
                      pct(rep.mae_replay_over)});
    Table f{"calibration", {"what", "source"}, {}};
    f.rows.push_back({str("network and hardware"), str(rep.hardware)});
    f.rows.push_back({str("compute rates from"),
                      str(from_calibration ? "the calibration (the hardware file's compute classes; --fit-run ID or "
                                             "--fit-on-study fit them on a recorded run instead)"
                          : hw->classes.present() ? "fitted on a recorded run (asked by --fit-run / --fit-on-study)"
                                                  : "fitted on a recorded run (the hardware file holds no compute classes: "
                                                    "calibrate again to predict from the calibration alone)")});
    for (const auto& wmsg : hw->warnings) f.rows.push_back({str("calibration warning"), str(wmsg)});
    for (const auto& x : rep.fitted_on) f.rows.push_back({str("compute rates"), str(x)});
    std::vector<Table> out{t, s, validation_band_table(summarize_validation(rep, stat, file)), f};
    if (a.flag("--parts")) out.push_back(parts_table(rd, rep));
    if (a.flag("--store-band")) out.push_back(store_band(a, rep, stat, file));
    print_tables(out, fmt, std::cout);
    return 0;
}

int verb_simulate(const Argv& argv) {
    Args a(argv,
           {"--format", "--hardware", "--set", "--compute", "--bandwidth", "--latency", "--dp", "--micro-batches",
            "--overlap", "--engine", "--sweep", "--trace", "--run", "--step", "--validate", "--study", "--fit-run",
            "--background-load", "--statistic"},
           {"--weak", "--no-oversubscription-model", "--fit-on-study", "--store-band", "--parts"});
    const Format fmt = parse_format(a.value_or("--format", "table"));
    try {
        if (a.value("--validate")) return simulate_validate(a, fmt);
        if (a.value("--trace")) return simulate_trace(a, fmt);
        return simulate_spec(a, fmt);
    } catch (const HardwareError& e) {
        throw std::runtime_error(e.what());
    }
}

const VerbRegistration reg{
    "simulate",
    "simulate SPEC.json --hardware HW.json [--set k=v]... [--engine analytic|replay|both] [--dp N] "
    "[--micro-batches N] [--overlap on|off] [--compute K] [--bandwidth K] [--latency K] [--sweep dp=1,2,4 [--weak]] "
    "[--background-load L] [--format table|csv|json]\n"
    "      | simulate --trace FILE.sqlite [--run ID] [--step N] [--hardware HW] [--compute K] [--bandwidth K] "
    "[--latency K] [--overlap on|off] [--dp N] [--micro-batches N]\n"
    "      | simulate --validate FILE.sqlite [--hardware HW] [--study ID] [--fit-run ID | --fit-on-study] [--background-load L] "
    "[--statistic median|best] [--store-band] [--parts]   what-if simulator "
    "(docs/SIMULATOR.md)",
    verb_simulate};

}  // namespace

}  // namespace ss::cli

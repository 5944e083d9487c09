// Verbs that start jobs through the launcher (core/launch/launcher.h): run, study, calibrate.
// docs/LAUNCH.md is the user guide.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "cli/args.h"
#include "cli/format.h"
#include "cli/verbs.h"
#include "core/launch/launcher.h"
#include "core/launch/slurm.h"
#include "core/launch/study.h"
#include "cli/calibrate_verbs.h"
#include "core/sim/calibrate.h"
#include "core/sim/hardware.h"
#include "core/sim/sim_trace.h"
#include "core/spec/progress_protocol.h"
#include "core/spec/spec.h"
#include "traces/median.h"
#include "traces/reader.h"
#include "traces/schema.h"
#include "traces/writer.h"

namespace ss::cli {

namespace fs = std::filesystem;
using namespace ss::core;
using traces::RunStatus;

namespace {

// ---- Ctrl-C / SIGTERM: cancel the job cleanly (the launcher ends mpirun and its ranks) ----
CancelFlag g_cancel{false};

extern "C" void on_cancel_signal(int) {
    if (!g_cancel.exchange(true)) {
        static const char msg[] = "\nscalescope-cli: cancelling (ending mpirun and its ranks)...\n";
        ssize_t ignored = ::write(2, msg, sizeof msg - 1);
        (void)ignored;
    }
}

class CancelOnSignals {
public:
    CancelOnSignals() {
        g_cancel = false;
        struct sigaction sa {};
        sa.sa_handler = on_cancel_signal;
        sigemptyset(&sa.sa_mask);
        for (int i = 0; i < 2; ++i)
            if (::sigaction(kSignals[i], &sa, &old_[i]) != 0)
                throw std::runtime_error(std::string("sigaction failed at run_verbs.cpp (installing the "
                                                     "cancel handler): ") + std::strerror(errno));
    }
    ~CancelOnSignals() {
        for (int i = 0; i < 2; ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
    }
    CancelOnSignals(const CancelOnSignals&) = delete;
    CancelOnSignals& operator=(const CancelOnSignals&) = delete;

private:
    static constexpr int kSignals[2] = {SIGINT, SIGTERM};
    struct sigaction old_[2] {};
};

// An invalid spec is bad input: exit 2 with one line per problem.
class SpecProblem : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The spec file through the one loader (core::load_spec_file: file, --set, duplicate keys, parse,
// validation, the fields only the simulator models): a bad --set is a usage error, every other
// problem a SpecProblem.
LoadedSpec load_checked_spec(const std::string& path, const std::vector<std::string>& sets) {
    SpecLoadOptions options;
    options.overrides = sets;
    options.for_training = true;  // run and study train: refuse what only the simulator models
    LoadedSpec loaded = load_spec_file(path, options);
    for (const auto& e : loaded.errors)
        if (e.field == kOverrideField) throw UsageError(e.message);
    if (!loaded.ok()) throw SpecProblem(format_errors(loaded.errors));
    return loaded;
}

int report_spec_problem(const char* verb, const std::string& spec_path, const SpecProblem& e) {
    std::istringstream in(e.what());
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) std::cerr << "scalescope-cli " << verb << ": " << spec_path << ": " << line << "\n";
    return 2;
}

std::string fmt(double v, int prec) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    return b;
}

std::string fmt_rate(double r) {
    char b[64];
    if (r >= 1e6) std::snprintf(b, sizeof b, "%.2fM", r / 1e6);
    else if (r >= 1e4) std::snprintf(b, sizeof b, "%.1fk", r / 1e3);
    else std::snprintf(b, sizeof b, "%.0f", r);
    return b;
}

// Rank 0's progress as a bar on stderr: redrawn in place on a terminal, every 10 % otherwise.
class ProgressPrinter {
public:
    ProgressPrinter(int total_steps, std::string prefix, bool quiet)
        : total_(std::max(1, total_steps)), prefix_(std::move(prefix)), quiet_(quiet),
          tty_(::isatty(2) != 0) {}
    void operator()(const Progress& p) {
        if (quiet_) return;
        switch (p.kind) {
            case Progress::Kind::Step: step(p); break;
            case Progress::Kind::Eval:
                end_line();
                std::cerr << prefix_ << "eval at step " << p.step << ": loss " << fmt(p.loss, 4)
                          << (p.accuracy ? "  accuracy " + fmt(*p.accuracy * 100, 2) + " %" : "") << "\n";
                break;
            default: break;
        }
    }
    void end_line() {
        if (drawn_) std::cerr << "\n";
        drawn_ = false;
    }

private:
    void step(const Progress& p) {
        const std::int64_t done = p.step + 1;
        const int every = std::max(1, total_ / 10);
        if (!tty_ && done % every != 0 && done != total_) return;
        constexpr int kWidth = 24;
        const int filled = static_cast<int>(std::min<std::int64_t>(kWidth, done * kWidth / total_));
        std::string bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
        std::ostringstream line;
        line << prefix_ << bar << " step " << done << "/" << total_ << "  loss " << fmt(p.loss, 4);
        if (!p.rate_unit.empty()) line << "  " << fmt_rate(p.rate) << " " << p.rate_unit;
        line << "  " << fmt(p.elapsed_s, 1) << " s";
        if (tty_) {
            std::cerr << "\r" << line.str() << "\033[K" << std::flush;
            drawn_ = true;
        } else {
            std::cerr << line.str() << "\n";
        }
    }
    int total_;
    std::string prefix_;
    bool quiet_, tty_;
    bool drawn_ = false;
};

void print_plan(const MpirunPlan& plan, bool quiet) {
    if (quiet) return;
    std::cerr << "scalescope-cli: " << plan.ranks << " rank(s)";
    if (plan.slot_count > 0) std::cerr << " on " << plan.slot_count << " slot(s) (" << plan.slots_source << ")";
    std::cerr << (plan.oversubscribed ? ", OVERSUBSCRIBED: timings are contended" : "") << "\n";
    for (const auto& n : plan.notes) std::cerr << "  note: " << n << "\n";
}

struct RunSettings {
    std::string output, mpirun = "mpirun", worker;
    bool quiet = false;
    double grace_s = 5;
    std::optional<SlurmSubmit> slurm;  // --launcher slurm
};

// --launcher mpirun|slurm [--partition P] [--time T] [--account A]
std::optional<SlurmSubmit> launcher_settings(const Args& a) {
    const std::string l = a.value_or("--launcher", "mpirun");
    if (l != "mpirun" && l != "slurm") throw UsageError("--launcher must be mpirun or slurm, not '" + l + "'");
    if (l == "mpirun") {
        for (const char* f : {"--partition", "--time", "--account"})
            if (a.value(f)) throw UsageError(std::string(f) + " goes with --launcher slurm");
        return std::nullopt;
    }
    SlurmSubmit s;
    s.partition = a.value_or("--partition", "");
    s.time = a.value_or("--time", "");
    s.account = a.value_or("--account", "");
    return s;
}

RunSettings common_settings(const Args& a, const char* verb) {
    RunSettings s;
    auto o = a.value("-o");
    if (!o) o = a.value("--output");
    if (!o || o->empty()) throw UsageError(std::string(verb) + " needs -o FILE.sqlite (the trace file to write)");
    s.output = *o;
    const LaunchEnvironment env = LaunchEnvironment::current();
    s.mpirun = mpirun_program(env);
    s.quiet = a.flag("--quiet");
    if (auto g = a.number("--grace", 0, false, "seconds >= 0")) s.grace_s = *g;
    s.slurm = launcher_settings(a);
    return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

int verb_run(const Argv& argv) {
    Args a(argv, {"-o", "--output", "--set", "--run-dir", "--grace", "--launcher", "--partition", "--time", "--account"},
           {"--quiet", "--dry-run"});
    if (a.positional().size() != 1)
        throw UsageError("run takes exactly one spec file (got " + std::to_string(a.positional().size()) + ")");
    const std::string spec_path = a.positional()[0];
    const RunSettings s = common_settings(a, "run");
    ExperimentSpec spec;
    try {
        spec = load_checked_spec(spec_path, a.values("--set")).spec;
    } catch (const SpecProblem& e) {
        return report_spec_problem("run", spec_path, e);
    }
    const fs::path run_dir = a.value("--run-dir") ? fs::absolute(*a.value("--run-dir"))
                                                  : next_run_dir(default_runs_root(s.output), spec.name);
    RunRequest rq;
    rq.spec = spec;
    rq.output = s.output;
    rq.run_dir = run_dir.string();
    rq.mpirun = s.mpirun;
    rq.grace_s = s.grace_s;
    rq.env = LaunchEnvironment::current();
    rq.slurm = s.slurm;
    if (a.flag("--dry-run")) {
        const std::string worker = find_program("scalescope-worker");
        if (const auto sub = plan_submitted_run(spec, run_dir.string(), worker, s.mpirun, rq.env, s.slurm)) {
            print_plan(sub->plan, false);
            std::cout << sub->script;
            return 0;
        }
        const MpirunPlan plan = plan_run_command(spec, run_dir.string(), worker, s.mpirun, rq.env);
        print_plan(plan, false);
        std::cout << command_line(plan.argv) << "\n";
        return 0;
    }
    rq.worker = find_program("scalescope-worker");
    ProgressPrinter progress(spec.training.steps, "", s.quiet);
    rq.on_progress = [&](const Progress& p) { progress(p); };
    rq.on_plan = [&](const MpirunPlan& p) { print_plan(p, s.quiet); };
    CancelOnSignals cancel_guard;
    rq.cancel = &g_cancel;
    const RunOutcome o = launch_run(rq);
    progress.end_line();
    std::cout << "run " << o.run.value << " in " << s.output << ": " << traces::to_string(o.status) << " in "
              << fmt(o.job.wall_s, 1) << " s (" << spec.name << ", " << spec.parallel.world() << " ranks"
              << (o.plan.oversubscribed ? ", oversubscribed: timings are contended" : "") << ")\n";
    if (!o.failure_reason.empty()) std::cout << "  reason: " << o.failure_reason << "\n";
    if (o.job.summary) {
        const auto& j = *o.job.summary;
        std::cout << "  final loss " << fmt(j.value(core::progress::kFinalLoss, 0.0), 4);
        if (j.contains(core::progress::kAccuracy))
            std::cout << "  test accuracy " << fmt(j.value(core::progress::kAccuracy, 0.0) * 100, 2) << " %";
        std::cout << "  median step " << fmt(j.value(core::progress::kStepTimeMedian, 0.0) * 1e3, 2) << " ms";
        if (j.contains(core::progress::kSamplesPerS))
            std::cout << "  " << fmt_rate(j.value(core::progress::kSamplesPerS, 0.0)) << " samples/s";
        if (j.contains(core::progress::kTokensPerS))
            std::cout << "  " << fmt_rate(j.value(core::progress::kTokensPerS, 0.0)) << " tokens/s";
        std::cout << "\n";
    }
    if (o.slurm)
        std::cout << "  slurm job " << o.slurm->id << " " << o.slurm->state << " on " << (o.slurm->nodes.empty() ? "-" : o.slurm->nodes)
                  << " (reason " << o.slurm->reason << ", exit " << o.slurm->exit_code << "); job script " << (run_dir / "job.sbatch").string() << "\n";
    std::cout << "  " << o.rank_files << " rank trace file(s) merged; run folder " << run_dir.string() << "\n";
    for (const auto& w : o.warnings) std::cout << "  warning: " << w << "\n";
    return o.status == RunStatus::Completed ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------

namespace {

struct PointResult {
    StudyPoint point;
    RunOutcome outcome;
};

// Throughput of a completed run at its median step time (samples/s or tokens/s), 0 if unknown.
double throughput(const RunOutcome& o) {
    if (o.status != RunStatus::Completed || !o.job.summary) return 0;
    const auto& j = *o.job.summary;
    if (j.contains(core::progress::kSamplesPerS)) return j.value(core::progress::kSamplesPerS, 0.0);
    return j.value(core::progress::kTokensPerS, 0.0);
}

using traces::median;  // the one median (traces/median.h); the rows below are never empty

}  // namespace

int verb_study(const Argv& argv) {
    Args a(argv, {"-o", "--output", "--set", "--vary", "--repeat", "--run-dir", "--grace", "--name", "--format",
                  "--launcher", "--partition", "--time", "--account"},
           {"--weak", "--quiet", "--dry-run", "--stop-on-failure"});
    if (a.positional().size() != 1)
        throw UsageError("study takes exactly one spec file (got " + std::to_string(a.positional().size()) + ")");
    const std::string spec_path = a.positional()[0];
    const RunSettings s = common_settings(a, "study");
    const Format format = parse_format(a.value_or("--format", "table"));
    if (a.values("--vary").empty()) throw UsageError("study needs at least one --vary NAME=V1,V2,...");
    std::vector<VaryAxis> axes;
    for (const auto& v : a.values("--vary")) {
        try {
            axes.push_back(parse_vary(v));
        } catch (const std::invalid_argument& e) {
            throw UsageError(e.what());
        }
    }
    const long long repeats = a.integer("--repeat").value_or(1);
    if (repeats < 1 || repeats > 1000) throw UsageError("--repeat must be in 1..1000");
    StudyPlan plan;
    LoadedSpec base;
    try {
        base = load_checked_spec(spec_path, a.values("--set"));
        plan = plan_study(base.doc, axes, static_cast<int>(repeats), a.flag("--weak"), true);
    } catch (const SpecProblem& e) {
        return report_spec_problem("study", spec_path, e);
    } catch (const std::invalid_argument& e) {
        return report_spec_problem("study", spec_path, SpecProblem(e.what()));
    }
    const ExperimentSpec& base_spec = base.spec;
    const std::string study_name = a.value_or("--name", base_spec.name + " study");
    const fs::path root = a.value("--run-dir") ? fs::absolute(*a.value("--run-dir")) : default_runs_root(s.output);
    const LaunchEnvironment env = LaunchEnvironment::current();

    std::cerr << "study '" << study_name << "': " << plan.variable << " (" << plan.scaling << " scaling), "
              << plan.points.size() << " run(s) into " << s.output << "\n";
    if (a.flag("--dry-run")) {
        std::cout << study_commands(plan, root, find_program("scalescope-worker"), s.mpirun, env);
        return 0;
    }

    StudyRunRequest rq;
    rq.points = plan.points;
    rq.study = traces::StudyInfo{traces::StudyId(), study_name, plan.variable, plan.scaling};
    rq.output = s.output;
    rq.runs_root = root;
    rq.worker = find_program("scalescope-worker");
    rq.mpirun = s.mpirun;
    rq.grace_s = s.grace_s;
    rq.env = env;
    rq.slurm = s.slurm;
    rq.stop_on_failure = a.flag("--stop-on-failure");
    CancelOnSignals cancel_guard;
    rq.cancel = &g_cancel;
    std::optional<ProgressPrinter> progress;
    std::string prefix;
    rq.on_point_started = [&](size_t i, const std::string&) {
        const StudyPoint& p = plan.points[i];
        prefix = "[" + std::to_string(i + 1) + "/" + std::to_string(plan.points.size()) + " " + p.value +
                 (repeats > 1 ? " r" + std::to_string(p.repeat) : "") + "] ";
        progress.emplace(p.spec.training.steps, prefix, s.quiet);
    };
    rq.on_progress = [&](size_t, const Progress& pr) { (*progress)(pr); };
    rq.on_plan = [&](size_t, const MpirunPlan& mp) {
        if (!s.quiet && mp.oversubscribed)
            std::cerr << prefix << mp.ranks << " ranks on " << mp.slot_count << " slots: oversubscribed\n";
    };
    rq.on_point_finished = [&](size_t, const RunOutcome& o) {
        progress->end_line();
        std::cerr << prefix << traces::to_string(o.status) << " in " << fmt(o.job.wall_s, 1) << " s (run "
                  << o.run.value << ")" << (o.failure_reason.empty() ? "" : ": " + o.failure_reason) << "\n";
    };
    const StudyRunResult done = run_study(rq);
    if (done.cancelled)
        std::cerr << "study cancelled after " << done.runs.size() << " of " << plan.points.size() << " run(s)\n";
    const traces::StudyId study = done.study;
    std::vector<PointResult> results;
    for (const auto& r : done.runs) results.push_back({r.point, r.outcome});

    // Summary: per point, the median throughput over its completed repeats; speedup relative to
    // the smallest p, S(p) = p0 * X(p) / X(p0) (X: samples or tokens per second, so strong and
    // weak scaling read the same way), efficiency E = S / p (DESIGN.md, "Formulas").
    struct Row {
        std::string value;
        int p = 0;
        int runs = 0, completed = 0;
        std::vector<double> x, step_s;
        std::string runs_list;
    };
    std::vector<Row> rows;
    for (const auto& r : results) {
        auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& x) { return x.value == r.point.value; });
        if (it == rows.end()) {
            rows.push_back(Row{r.point.value, r.point.p});
            it = rows.end() - 1;
        }
        it->runs++;
        it->runs_list += (it->runs_list.empty() ? "" : ",") + std::to_string(r.outcome.run.value);
        if (const double x = throughput(r.outcome); x > 0) {
            it->completed++;
            it->x.push_back(x);
            it->step_s.push_back(r.outcome.job.summary->value(core::progress::kStepTimeMedian, 0.0));
        }
    }
    const Row* ref = nullptr;
    for (const auto& r : rows)
        if (!r.x.empty() && (!ref || r.p < ref->p)) ref = &r;
    Table t{"study", {"value", "p", "runs", "completed", "median_step_ms", "throughput_per_s", "speedup", "efficiency"}, {}};
    for (const auto& r : rows) {
        std::vector<Cell> row{r.value, std::int64_t{r.p}, r.runs_list, std::int64_t{r.completed}};
        if (r.x.empty()) {
            row.insert(row.end(), {Cell{}, Cell{}, Cell{}, Cell{}});
        } else {
            const double x = median(r.x);
            row.push_back(median(r.step_s) * 1e3);
            row.push_back(x);
            if (ref) {
                const double S = ref->p * x / median(ref->x);
                row.push_back(S);
                row.push_back(S / r.p);
            } else {
                row.insert(row.end(), {Cell{}, Cell{}});
            }
        }
        t.rows.push_back(std::move(row));
    }
    print_tables({t}, format, std::cout);
    if (format == Format::Table) {
        std::cout << "study " << study.value << " in " << s.output << " (" << plan.scaling << " scaling; "
                  << "speedup = p0 * throughput / throughput(p0), efficiency = speedup / p)\n";
        bool over = false;
        for (const auto& r : results) over |= r.outcome.plan.oversubscribed;
        if (over) std::cout << "note: some points ran oversubscribed (more ranks than cores): their timings are contended\n";
    }
    return done.failed > 0 || g_cancel.load() ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------

int verb_calibrate(const Argv& argv) {
    Args a(argv, {"-o", "--output", "--np", "--sizes", "--iters", "--trace", "--hostfile", "--host", "--run-dir",
                  "--format", "--grace", "--timeout", "--device", "--comm", "--spec", "--repeats", "--from-trace", "--run",
                  "--out", "--hardware", "--mpirun-arg"},
           {"--quiet", "--no-classes", "--no-context"});
    if (!a.positional().empty()) throw UsageError("calibrate takes no positional arguments");
    if (a.value("--from-trace")) return calibrate_from_trace(a);  // cli/calibrate_verbs.cpp
    for (const char* only : {"--run", "--out", "--hardware"})
        if (a.value(only)) throw UsageError(std::string(only) + " goes with --from-trace FILE.sqlite");
    auto o = a.value("-o");
    if (!o) o = a.value("--output");
    if (!o || o->empty()) throw UsageError("calibrate needs -o HW.json (the hardware file to write)");
    const std::string out_path = *o;
    const Format format = parse_format(a.value_or("--format", "table"));
    const LaunchEnvironment env = LaunchEnvironment::current();
    std::vector<std::int64_t> sizes;
    try {
        sizes = parse_sizes(a.value_or("--sizes", "4K:4M"));
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    const long long iters = a.integer("--iters").value_or(40);
    if (iters < 1 || iters > 100000) throw UsageError("--iters must be in 1..100000");
    const long long repeats = a.integer("--repeats").value_or(5);
    if (repeats < 1 || repeats > 1000) throw UsageError("--repeats must be in 1..1000");
    // --spec: measure at the shapes and bucket sizes of these models (core/sim/calibrate.h probes_for_specs).
    std::vector<ExperimentSpec> specs;
    for (const auto& path : a.values("--spec")) {
        const ParseResult pr = parse_spec_file(path);
        if (!pr.ok()) throw UsageError("--spec " + path + ":\n" + format_errors(pr.errors));
        specs.push_back(pr.spec);
    }
    SpecProbes probes;
    if (!specs.empty()) {
        probes = probes_for_specs(specs);
        sizes.insert(sizes.end(), probes.sizes.begin(), probes.sizes.end());
        std::sort(sizes.begin(), sizes.end());
        sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
        for (int r : {16, 64, 256, 1024}) probes.rows.push_back(r);  // and a spread of rows around them
        std::sort(probes.rows.begin(), probes.rows.end());
        probes.rows.erase(std::unique(probes.rows.begin(), probes.rows.end()), probes.rows.end());
    }
    // GPU ranks: one rank per GPU of the node-local rank; NCCL (default) or MPI staged through
    // pinned host memory (ranks may then share a GPU).
    const std::string device = a.value_or("--device", "cpu");
    if (device != "cpu" && device != "cuda") throw UsageError("--device must be cpu or cuda, not '" + device + "'");
    const std::string comm = a.value_or("--comm", device == "cuda" ? "nccl" : "mpi");
    if (comm != "mpi" && comm != "nccl") throw UsageError("--comm must be nccl or mpi, not '" + comm + "'");
    if (comm == "nccl" && device != "cuda") throw UsageError("--comm nccl needs --device cuda");
    if (device == "cuda" && !a.integer("--np"))
        throw UsageError("calibrate --device cuda needs --np N: one rank per GPU (N >= 2; with --comm mpi ranks may "
                         "share a GPU)");
    LaunchSpec launch;
    if (auto hf = a.value("--hostfile")) launch.hostfile = *hf;
    for (const auto& h : a.values("--host")) launch.hosts.push_back(h);
    for (const auto& m : a.values("--mpirun-arg")) launch.mpirun_args.push_back(m);  // one mpirun argument each
    if (auto t = a.number("--timeout", 0, false, "seconds >= 0")) launch.timeout_s = *t;
    const std::string mpirun = mpirun_program(env);
    if (!launch.hostfile.empty() && !std::ifstream(launch.hostfile))
        throw UsageError("--hostfile " + launch.hostfile + " cannot be read: " + std::strerror(errno));
    // Default rank count: the slots there are (local cores, the Slurm allocation), at least 2.
    int np = 0;
    if (auto n = a.integer("--np")) {
        if (*n < 2 || *n > 4096) throw UsageError("--np must be in 2..4096 (collectives need 2 ranks)");
        np = static_cast<int>(*n);
    } else {
        np = std::max(2, plan_mpirun(mpirun, 1, launch, {"x"}, env).slot_count);
    }
    const fs::path run_dir = a.value("--run-dir")
                                 ? fs::absolute(*a.value("--run-dir"))
                                 : fs::absolute(out_path).parent_path() / (fs::path(out_path).stem().string() + "-calibration");
    std::string size_list;
    for (auto b : sizes) size_list += (size_list.empty() ? "" : ",") + std::to_string(b);
    const fs::path raw_path = run_dir / "raw.json";
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec) throw std::runtime_error("cannot create " + run_dir.string() + ": " + ec.message());
    fs::remove(raw_path, ec);
    std::vector<std::string> shape_args;
    if (!probes.widths.empty()) {
        std::string w, r;
        for (auto [k, n] : probes.widths) w += (w.empty() ? "" : ",") + std::to_string(k) + ":" + std::to_string(n);
        for (int x : probes.rows) r += (r.empty() ? "" : ",") + std::to_string(x);
        shape_args = {"--widths", w, "--rows", r};
    }
    if (!probes.kinds.empty()) {
        std::string k;
        for (const auto& x : probes.kinds) k += (k.empty() ? "" : ",") + x;
        shape_args.push_back("--kinds");
        shape_args.push_back(k);
    }
    MpirunPlan plan = plan_mpirun(mpirun, np, launch,
                                        {find_program("scalescope-calibrate-rank"), "--sizes", size_list, "--iters",
                                         std::to_string(iters), "--out", raw_path.string(), "--device", device,
                                         "--comm", comm, "--repeats", std::to_string(repeats), "--classes",
                                         a.flag("--no-classes") ? "off" : "on"},
                                        env);
    plan.argv.insert(plan.argv.end(), shape_args.begin(), shape_args.end());  // the rank program's arguments are last
    const bool quiet = a.flag("--quiet");
    print_plan(plan, quiet);

    JobOptions jo;
    jo.run_dir = run_dir.string();
    jo.timeout_s = launch.timeout_s;
    CancelOnSignals cancel_guard;
    jo.cancel = &g_cancel;
    if (auto g = a.number("--grace", 0, false, "seconds >= 0")) jo.grace_s = *g;
    jo.on_progress = [&](const Progress& p) {
        if (quiet || p.kind != Progress::Kind::Other) return;
        const auto& j = p.raw;
        if (j.value("event", "") == "levels")
            std::cerr << "  " << j.value("hosts", 0) << " hosts, " << j.value("ranks_per_host", 0)
                      << " ranks each: intra-host groups, then one rank per host, then the world group\n";
        else if (j.value("event", "") == "measure")
            std::cerr << "  " << (j.contains("level") ? j["level"].get<std::string>() + " " : std::string())
                      << j.value("collective", "?") << " p=" << j.value("p", 0) << " "
                      << format_bytes(j.value("bytes", std::int64_t{0})) << ": "
                      << fmt(j.value("time_s", 0.0) * 1e6, 1) << " us\n";
        else if (j.value("event", "") == "compute")
            std::cerr << "  " << j.value("what", "?") << ": " << j.dump() << "\n";
    };
    const JobResult job = run_mpi_job(plan.argv, jo);
    if (!job.ok()) throw std::runtime_error("calibration failed: " + describe_failure(job) + "\n(logs in " + run_dir.string() + ")");
    std::ifstream rf(raw_path);
    if (!rf) throw std::runtime_error("calibration ended without writing " + raw_path.string());
    nlohmann::json raw = nlohmann::json::parse(rf, nullptr, false);
    if (raw.is_discarded()) throw std::runtime_error(raw_path.string() + " is not JSON");
    nlohmann::json hw = hardware_file(raw, plan.oversubscribed);
    auto write_hw = [&] {
        std::ofstream f(out_path);
        f << hw.dump(2) << "\n";
        if (!f) throw std::runtime_error("cannot write " + out_path + ": " + std::strerror(errno));
    };
    write_hw();
    // --spec: the classes in the trainer's context (core/sim/hardware.h ComputeContext): each model
    // trained on one rank for a few seconds, its measured step against the classes' prediction.
    if (!specs.empty() && device == "cpu" && !a.flag("--no-classes") && !a.flag("--no-context")) {
        const Hardware base = load_hardware(out_path);
        const fs::path ctx_file = run_dir / "context.sqlite";
        fs::remove(ctx_file, ec);
        std::set<std::string> done;
        nlohmann::json entries = nlohmann::json::array();
        for (std::size_t i = 0; i < specs.size(); ++i) {
            ExperimentSpec s = specs[i];
            s.parallel = ParallelSpec{};
            s.launch = LaunchSpec{};
            s.training.steps = std::min(s.training.steps, 200);
            s.training.eval_every = 0;
            s.training.slow_rank = -1;
            s.training.slow_factor = 1.0;
            s.trace.enabled = true;
            s.trace.dir.clear();
            s.name = "calibrate-context-" + (specs[i].name.empty() ? std::to_string(i + 1) : specs[i].name);
            if (!done.insert(validation_point_key(s)).second) continue;
            if (const auto errs = validate(s, -1, true); !errs.empty())
                throw UsageError("--spec " + a.values("--spec")[i] + " cannot be trained for the context run:\n" + format_errors(errs));
            RunRequest rq;
            rq.spec = s;
            rq.output = ctx_file.string();
            rq.run_dir = (run_dir / ("context-" + std::to_string(i + 1))).string();
            fs::remove_all(rq.run_dir, ec);
            rq.mpirun = mpirun;
            rq.env = env;
            rq.worker = find_program("scalescope-worker");
            rq.cancel = &g_cancel;
            if (!quiet) std::cerr << "context run: " << s.name << " on 1 rank, " << s.training.steps << " steps\n";
            const RunOutcome ro = launch_run(rq);
            if (ro.status != RunStatus::Completed)
                throw std::runtime_error("calibration: the context run of --spec " + a.values("--spec")[i] + " " +
                                         std::string(traces::to_string(ro.status)) +
                                         (ro.failure_reason.empty() ? "" : ": " + ro.failure_reason) + " (run folder " + rq.run_dir + ")");
            traces::TraceReader rd(ctx_file.string());
            entries.push_back(context_json(context_from_run(rd, ro.run, base)));
        }
        hw["compute_classes"]["context"] = entries;
        write_hw();
    }
    if (auto trace = a.value("--trace")) {
        traces::TraceWriter w(*trace);
        traces::Calibration c;
        c.created_unix_ns = hw.value("created_unix_ns", std::int64_t{0});
        const auto& hosts = hw["hosts"];
        c.host = hosts.is_array() && !hosts.empty() ? hosts[0].get<std::string>() : env.local_hostname;
        c.hardware_json = hw.dump();
        const auto id = w.add_calibration(c);
        if (!quiet) std::cerr << "stored as calibration " << id.value << " in " << *trace << "\n";
    }

    if (hw.contains("warnings"))
        for (const auto& wmsg : hw["warnings"]) std::cerr << "scalescope-cli calibrate: warning: " << wmsg.get<std::string>() << "\n";
    // Per size: the median of the repeats, their min and max (the spread), and the bandwidths at the median.
    // Across hosts every row names its level (intra, inter, span).
    const bool levels = hw.contains("inter_collectives");
    std::vector<std::string> mcols{"collective", "p", "size", "bytes", "repeats", "median_us", "min_us", "max_us",
                                   "spread_pct", "algbw_GBps", "busbw_GBps"};
    if (levels) mcols.insert(mcols.begin(), "level");
    Table m{"measurements", mcols, {}};
    for (const auto& s : hw["spread"]) {
        const double med = s["median_s"].get<double>();
        const auto bytes = s["bytes"].get<std::int64_t>();
        const std::string c = s["collective"].get<std::string>();
        const int p = s["p"].get<int>();
        std::vector<Cell> row{c, std::int64_t{p}, format_bytes(bytes), bytes, s["repeats"].get<std::int64_t>(), med * 1e6,
                              s["min_s"].get<double>() * 1e6, s["max_s"].get<double>() * 1e6,
                              100.0 * (s["max_s"].get<double>() - s["min_s"].get<double>()) / med,
                              static_cast<double>(bytes) / med / 1e9,
                              static_cast<double>(bytes) / med * busbw_factor(c, p) / 1e9};
        if (levels) row.insert(row.begin(), s.value("level", std::string("intra")));
        m.rows.push_back(std::move(row));
    }
    std::vector<std::string> fcols{"collective", "alpha_us", "beta_ns_per_byte", "bus_bandwidth_GBps", "fit", "fit_rel_rms",
                                   "fit_r2", "samples", "dropped"};
    if (levels) fcols.insert(fcols.begin(), "level");
    Table f{"alpha_beta", fcols, {}};
    for (const char* key : {"collectives", "inter_collectives"}) {
        if (!hw.contains(key)) continue;
        for (const auto& [name, c] : hw[key].items()) {
            std::vector<Cell> row{name, c["alpha_s"].get<double>() * 1e6, c["beta_s_per_byte"].get<double>() * 1e9,
                                  c["bus_bandwidth_bytes_per_s"].get<double>() / 1e9, c.value("fit_method", std::string()),
                                  c["fit_rel_rms"].get<double>(), c.value("fit_r2", 0.0), c["samples"].get<std::int64_t>(),
                                  c.value("dropped", std::int64_t{0})};
            if (levels) row.insert(row.begin(), std::string(key[0] == 'i' ? "inter" : "intra"));
            f.rows.push_back(std::move(row));
        }
    }
    // The world group across hosts against the two-level model (core/sim/calibrate.h spanning_check).
    Table span{"spanning", {"collective", "p", "size", "measured_us", "ring_us", "ring_err_pct", "hierarchical_us",
                            "hierarchical_err_pct"}, {}};
    if (hw.contains("spanning_check"))
        for (const auto& pt : hw["spanning_check"]["points"]) {
            const double meas = pt["measured_s"].get<double>(), ring = pt["ring_s"].get<double>(),
                         hier = pt["hierarchical_s"].get<double>();
            span.rows.push_back({pt["collective"].get<std::string>(), pt["p"].get<std::int64_t>(),
                                 format_bytes(pt["bytes"].get<std::int64_t>()), meas * 1e6, ring * 1e6,
                                 100.0 * (ring - meas) / meas, hier * 1e6, 100.0 * (hier - meas) / meas});
        }
    Table cpu{"compute", {"what", "value", "unit"}, {}};
    cpu.rows.push_back({std::string("sgemm rate (one rank)"), hw["compute"]["sgemm_flops"].get<double>() / 1e9,
                        std::string("GFLOP/s")});
    cpu.rows.push_back({std::string("memory bandwidth (one rank, triad)"),
                        hw["memory"]["bandwidth_bytes_per_s"].get<double>() / 1e9, std::string("GB/s")});
    if (hw["compute"].contains("all_ranks")) {
        const auto& ca = hw["compute"]["all_ranks"];
        const auto& ma = hw["memory"]["all_ranks"];
        const std::string n = std::to_string(ca["ranks"].get<int>());
        cpu.rows.push_back({"sgemm rate per rank, " + n + " ranks at once", ca["sgemm_flops_mean"].get<double>() / 1e9,
                            std::string("GFLOP/s")});
        cpu.rows.push_back({"memory bandwidth per rank, " + n + " ranks at once",
                            ma["bandwidth_bytes_per_s_mean"].get<double>() / 1e9, std::string("GB/s")});
    }
    if (hw.contains("overlap"))
        cpu.rows.push_back({std::string("overlap of a non-blocking all-reduce with compute"),
                            100.0 * hw["overlap"]["fraction"].get<double>(), std::string("%")});
    // The calibrated compute classes (the simulator's rates from this file alone).
    Table cls{"compute_classes", {"class", "shape_or_bytes", "rate", "unit", "median", "min"}, {}};
    if (hw.contains("compute_classes")) {
        const auto& cc = hw["compute_classes"];
        for (const auto& p : cc["matmul"]["points"])
            cls.rows.push_back({std::string("matmul"),
                                std::to_string(p["rows"].get<int>()) + "x" + std::to_string(p["inner"].get<int>()) + "->" +
                                    std::to_string(p["cols"].get<int>()),
                                p["flop_per_s"].get<double>() / 1e9, std::string("GFLOP/s"),
                                p.value("flop_per_s_median", 0.0) / 1e9, p.value("flop_per_s_min", 0.0) / 1e9});
        for (const char* k : {"elementwise", "optimizer"})
            for (const auto& p : cc[k]["points"])
                cls.rows.push_back({std::string(k), format_bytes(static_cast<std::int64_t>(p["bytes"].get<double>())),
                                    p["bytes_per_s"].get<double>() / 1e9, std::string("GB/s"),
                                    p.value("bytes_per_s_median", 0.0) / 1e9, p.value("bytes_per_s_min", 0.0) / 1e9});
        cls.rows.push_back({std::string("kernel overhead"), std::string("per call"),
                            cc["kernel_overhead_s"].get<double>() * 1e6, std::string("us"), Cell{}, Cell{}});
    }
    std::vector<Table> tables{m, f};
    if (!span.rows.empty()) tables.push_back(span);
    tables.push_back(cpu);
    if (!cls.rows.empty()) tables.push_back(cls);
    print_tables(tables, format, std::cout);
    if (format == Format::Table) {
        std::cout << "hardware file " << out_path << " (" << hw["ranks"].get<int>() << " ranks";
        if (levels) {
            const auto& t = hw["topology"];
            std::string names;
            for (const auto& h : hw["hosts"]) names += (names.empty() ? "" : ", ") + h.get<std::string>();
            std::cout << " on " << t["nodes"].get<int>() << " hosts (" << names << "), " << t["devices_per_node"].get<int>()
                      << " per host: intra-host links in collectives, inter-host in inter_collectives; algorithm "
                      << t["algorithm"].get<std::string>();
            if (hw.contains("spanning_check"))
                std::cout << " (the world group's mean error: ring " << fmt(100 * hw["spanning_check"]["ring_mean_abs_err"].get<double>(), 1)
                          << " %, hierarchical " << fmt(100 * hw["spanning_check"]["hierarchical_mean_abs_err"].get<double>(), 1)
                          << " %)";
        }
        std::cout << (plan.oversubscribed ? ", OVERSUBSCRIBED: contended" : "") << ")\n";
    }
    return 0;
}

namespace {
// The follower of a submitted run (core/launch/slurm.h): launch_run starts it in place of mpirun.
std::atomic<bool> g_follow_cancel{false};
extern "C" void on_follow_signal(int) { g_follow_cancel.store(true); }

int verb_slurm_follow(const Argv& argv) {
    Args a(argv, {"--run-dir", "--poll"}, {});
    if (a.positional().size() != 1) throw UsageError("slurm-follow takes exactly one job script");
    const std::string run_dir = a.value_or("--run-dir", fs::path(a.positional()[0]).parent_path().string());
    const double poll = a.number("--poll", 0.05, false, "seconds >= 0.05").value_or(0.5);
    struct sigaction sa {};
    sa.sa_handler = on_follow_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP})
        if (::sigaction(sig, &sa, nullptr) != 0)
            throw std::runtime_error(std::string("sigaction failed at run_verbs.cpp (slurm-follow): ") + std::strerror(errno));
    const SlurmJobState st = follow_slurm_job(a.positional()[0], run_dir, std::cout, std::cerr, g_follow_cancel, poll);
    if (st.state == "COMPLETED") return st.exit_status();
    return st.exit_status() != 0 ? st.exit_status() : 1;
}

const VerbRegistration reg_slurm_follow{
    "slurm-follow",
    "slurm-follow JOB.sbatch [--run-dir DIR] [--poll S]\n"
    "      (used by --launcher slurm) submit the job script, print its state changes, copy its output;\n"
    "      SIGTERM cancels the job (scancel) and waits for its end; exits with the job's exit code",
    verb_slurm_follow};

const VerbRegistration reg_run{
    "run",
    "run SPEC.json -o FILE.sqlite [--set key=value ...] [--run-dir DIR] [--quiet] [--dry-run]\n"
    "      [--launcher mpirun|slurm [--partition P] [--time T] [--account A]]\n"
    "      start one training run under mpirun (--launcher slurm: submitted with sbatch, the job script\n"
    "      saved in the run folder, followed until it ends) and append it to FILE.sqlite",
    verb_run};
const VerbRegistration reg_study{
    "study",
    "study SPEC.json --vary dp=1,2,4 [--vary ...] [--repeat K] [--weak] -o FILE.sqlite [--set k=v ...]\n"
    "      [--name NAME] [--run-dir DIR] [--stop-on-failure] [--dry-run] [--format table|csv|json]\n"
    "      [--launcher mpirun|slurm [--partition P] [--time T] [--account A]]\n"
    "      a scaling study: one run per point and repeat (one Slurm job each with --launcher slurm),\n"
    "      recorded as a study in FILE.sqlite",
    verb_study};
const VerbRegistration reg_calibrate{
    "calibrate",
    "calibrate -o HW.json [--np N] [--sizes 4K:4M|4K,64K,...] [--iters N] [--repeats R] [--spec SPEC.json]...\n"
    "      [--no-classes] [--no-context] [--trace FILE.sqlite] [--device cpu|cuda] [--comm nccl|mpi]\n"
    "      [--hostfile F] [--host h1:n,h2:n] [--mpirun-arg ARG]... [--format table|csv|json]\n"
    "      measure collectives as the trainer issues them (R repeats, spread, robust alpha/beta), the\n"
    "      compute classes (matmul by shape, element-wise and AdamW by bytes, kernel overhead; --spec: at\n"
    "      its shapes and bucket sizes, then each model trained on one rank for the classes' context in\n"
    "      the trainer, unless --no-context), sgemm rate and memory bandwidth\n"
    "      (--device cuda: one rank per GPU, NCCL or MPI staged through pinned memory, cuBLAS rate);\n"
    "      ranks on several hosts (--hostfile): the intra-host links (collectives) apart from the\n"
    "      inter-host ones (inter_collectives: one rank per host), the world group checked against both\n"
    "      | calibrate --from-trace FILE.sqlite [--run ID] [--out HW.json] [--hardware BASE.json]\n"
    "      fit alpha/beta per collective and group size on the collectives a run recorded",
    verb_calibrate};
}  // namespace

}  // namespace ss::cli

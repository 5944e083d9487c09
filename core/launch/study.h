// Scaling studies: a sweep of one or more spec fields (`--vary dp=1,2,4`), repeated, recorded as
// one study of a trace file (traces/SCHEMA.md, `studies` and `study_runs`); and the runner that
// starts the runs of a study (or a single run) one after another, each in a fresh run folder. The
// CLI (`run`, `study`) and the GUI's Experiment page use the same runner, so run folders, names,
// the study record and failure handling are the same in both.
//
// Strong scaling keeps training.global_batch as the spec says. Weak scaling keeps the per-rank
// batch fixed: per-rank batch = global_batch / world of the spec as given, and each point trains
// global_batch = per-rank batch * its world (dp * tp * pp). No Qt here.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/launch/launcher.h"
#include "traces/types.h"

namespace ss::core {

// The axis name of `--vary layout=1x1x1,1x2x1,...`: whole layouts, dp x tp x pp each.
inline constexpr const char* kLayoutAxis = "layout";

struct VaryAxis {
    std::string path;                 // spec field, e.g. "parallel.dp"
    std::string label;                // as the user wrote it, e.g. "dp"
    std::vector<std::string> values;  // as written, e.g. {"1", "2", "4"}
    bool operator==(const VaryAxis&) const = default;
};

// "dp=1,2,4" -> {parallel.dp, dp, [1,2,4]}. "layout=1x1x1,2x1x1,1x2x2" sweeps whole layouts
// (DPxTPxPP; each point sets parallel.dp, tp and pp; its value reads "dp=1,tp=2,pp=2"). Short names: dp, tp, pp, micro_batches, zero,
// schedule, bucket_mb (parallel.*), global_batch, steps, lr (training.*), blas_threads (backend.*);
// any other name must be a full field path of the spec. Values are separated by commas outside
// brackets, so arrays work: "model.hidden=[64,64],[128,128]". Throws std::invalid_argument naming
// the text for a missing '=', an empty value, a duplicate value, or an unknown field.
VaryAxis parse_vary(const std::string& text);

struct StudyPoint {
    nlohmann::json doc;                  // the spec document of this point (overrides applied)
    ExperimentSpec spec;                 // doc parsed (once, by plan_study / single_run_point)
    std::vector<std::string> overrides;  // "parallel.dp=2", ... (what was applied)
    std::string value;                   // the swept value(s): "2" or "dp=2,tp=2"
    int p = 1;                           // its world size dp * tp * pp
    int repeat = 0;                      // 0-based
    std::string name;                    // the run's name (spec name + the point)
};

struct StudyPlan {
    std::string variable;  // "parallel.dp" or "parallel.dp,parallel.tp"
    std::string scaling;   // "strong" | "weak"
    std::vector<StudyPoint> points;  // every combination (first axis slowest) x repeats
};

// Expands the axes (their cartesian product, in the order given) and the repeats. `base` is the
// spec document with --set overrides already applied. Each point's document is parsed and
// validated (validate(spec, -1, check_files)); every problem of every point is reported at once
// in the std::invalid_argument message, naming the point. Weak scaling refuses an axis on
// training.global_batch and a per-rank batch that does not divide evenly.
StudyPlan plan_study(const nlohmann::json& base, const std::vector<VaryAxis>& axes, int repeats,
                     bool weak, bool check_files = true);

// ---------------------------------------------------------------------------------------------
// Run folders.

// The folder that holds the run folders of an output file: "dir/out.sqlite" -> "<abs dir>/out-runs".
std::filesystem::path default_runs_root(const std::string& output);
// A fresh folder "<root>/<NNN>-<name>": NNN (001, 002, ...) is the first number that no entry of
// `root` starts with ("NNN-"). Nothing is created. Throws std::runtime_error when all are taken.
std::filesystem::path next_run_dir(const std::filesystem::path& root, const std::string& name);
// The run folder's name part of a point: its run name, "-r<K>" added when the points repeat.
std::string run_folder_name(const StudyPoint& point, bool repeated);
// One run of `doc` as a point of its own (value "", p = its world, repeat 0, name = spec name).
// Throws std::invalid_argument with the spec's problems when it does not parse.
StudyPoint single_run_point(const nlohmann::json& doc);

// Why a run could not write `output` (a trace file), or nullopt when it can: an existing file must
// be a ScaleScope trace the user may write; a new one needs a folder that exists or can be made.
std::optional<std::string> output_problem(const std::string& output);
// Why run folders could not be made under `root`, or nullopt when they can.
std::optional<std::string> runs_root_problem(const std::filesystem::path& root);

// ---------------------------------------------------------------------------------------------
// Commands.

// An argument list as shell text: arguments with spaces or shell characters in single quotes.
std::string command_line(const std::vector<std::string>& argv);
// What `scalescope-cli study --dry-run` prints: per point "# point V repeat R (p=P,
// training.global_batch=B[, oversubscribed])" and its mpirun command line. The run folders read
// "<root>/NNN-<name>": their numbers are given when the runs start.
std::string study_commands(const StudyPlan& plan, const std::filesystem::path& root, const std::string& worker,
                           const std::string& mpirun, const LaunchEnvironment& env);

// ---------------------------------------------------------------------------------------------
// Running.

struct StudyRunRequest {
    std::vector<StudyPoint> points;  // run in this order (plan_study's points, or single_run_point)
    // The study recorded in `output` before the first run starts; each run is added to it as soon
    // as it ends (failed and cancelled ones too). nullopt: plain runs, no study record.
    std::optional<traces::StudyInfo> study;
    std::string output;               // the trace file
    std::filesystem::path runs_root;  // each run gets next_run_dir(runs_root, run_folder_name(...))
    std::string worker;               // find_program("scalescope-worker")
    std::string mpirun = "mpirun";
    double grace_s = 5;
    LaunchEnvironment env;
    std::optional<SlurmSubmit> slurm;    // each point submitted as a Slurm job (RunRequest::slurm)
    const CancelFlag* cancel = nullptr;  // checked after each run; the launcher ends a running one
    bool stop_on_failure = false;        // else a failed run does not stop the points after it
    // Called on the calling thread, with the point's index in `points`.
    std::function<void(std::size_t, const std::string& run_dir)> on_point_started;
    std::function<void(std::size_t, const MpirunPlan&)> on_plan;
    std::function<void(std::size_t, const Progress&)> on_progress;
    std::function<void(std::size_t, const TaggedLine&)> on_line;
    std::function<void(std::size_t, const RunOutcome&)> on_point_finished;  // after it is recorded
};

struct PointOutcome {
    StudyPoint point;
    std::string run_dir;
    RunOutcome outcome;
};

struct StudyRunResult {
    traces::StudyId study;            // invalid without a study record
    std::vector<PointOutcome> runs;   // the points that ran, in order
    bool cancelled = false;           // the cancel flag ended it (after runs.size() runs)
    bool stopped_on_failure = false;  // stop_on_failure ended it early
    int failed = 0;                   // runs that did not complete (cancelled ones included)
};

// Runs the points one after another (launch_run each), after creating the trace file's folder when
// missing. Throws what launch_run throws (a run folder or the trace file that cannot be written);
// what was recorded before stays recorded.
StudyRunResult run_study(const StudyRunRequest& request);

}  // namespace ss::core

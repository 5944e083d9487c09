// Trace-driven simulation and validation (docs/SIMULATOR.md): the op graph of one recorded step
// (measured kernel durations, collectives matched across ranks by group and seq, send → recv by
// channel seq), replayed with what-if changes; compute rates fitted on a recorded run; and the
// validation of the simulator against every run of a recorded study. No Qt here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/sim/hardware.h"
#include "core/sim/sim_replay.h"
#include "core/sim/simulator.h"
#include "traces/reader.h"

namespace ss::core {

struct TraceWhatIf {
    double compute = 1;    // kernels k× faster (measured kernel durations ÷ k)
    double bandwidth = 1;  // network bandwidth ×k
    double latency = 1;    // network latency ×k
    std::optional<bool> overlap;  // false: the DP bucket reductions start when backward is done
    // The network model that re-times collectives: each measured cost is multiplied by
    // model(target) ÷ model(base) for its collective, group and size. Needed when bandwidth or
    // latency change or `target` is set; base defaults to the target.
    std::optional<Hardware> base;    // the hardware the trace was recorded on (its calibration)
    std::optional<Hardware> target;  // the hardware to predict for (default: base)
    std::int64_t step = -1;          // the step to replay; -1 = the measured step nearest the median
    // A change of the layout's shape. The recorded kernel sequence cannot be re-cut into another
    // number of ranks or micro-batches, so the graph then comes from the run's spec with the
    // change (graph_from_spec), its compute timed by the rates fitted on this very run
    // (fit_compute_rates: the trace's measured kernel times by class), its network by `base`
    // (scaled by bandwidth/latency, or `target`); compute ×k divides the fitted kernel times.
    std::optional<int> dp, micro_batches;
};

struct TraceReplayResult {
    traces::RunInfo run;
    std::int64_t step = 0;          // the step replayed (-1 when reshaped: the median of all steps)
    double measured_step_s = 0;     // that step as recorded (earliest start → latest end)
    ReplayResult replay;            // the prediction
    // Reshaped (dp / micro-batches changed): the layouts, and the same model (fitted rates, base
    // network) run on the recorded layout, whose distance to measured_step_s says how far to
    // trust the reshaped prediction.
    bool reshaped = false;
    std::string layout_recorded, layout_predicted;
    int world_predicted = 0;
    double model_recorded_s = 0;
    int collectives = 0, messages = 0, ops = 0;
    std::vector<std::string> notes;
};

// Builds the graph of one recorded step of `run`. Throws SimError naming the run, step and rank
// when the trace cannot give one (no step events, a collective with missing members, a recv
// without its send).
OpGraph graph_from_trace(traces::TraceReader& rd, traces::RunId run, const TraceWhatIf& what,
                         std::int64_t* step_out = nullptr, double* measured_s = nullptr);
TraceReplayResult replay_trace(traces::TraceReader& rd, traces::RunId run, const TraceWhatIf& what = {});

// Compute rates fitted on a recorded run (its measured steps): matrix-product FLOP/s, element-wise
// and optimizer bandwidth, per-kernel host overhead and data loading per sample, from the model's
// work for the run's spec and the measured kernel times by class.
ComputeRates fit_compute_rates(traces::TraceReader& rd, traces::RunId run);
// The key `simulate --validate` groups runs into points by: the model, global batch and BLAS
// threads, then the layout ("... | dp2 tp1 pp1 m1").
std::string validation_point_key(const ExperimentSpec& spec);

// The spec a run was recorded with (runs.spec_json); throws SimError naming the run.
ExperimentSpec run_spec(const traces::RunInfo& run);

// The measured step of a parameter-server run (issue 18), comparable to SimResult::step_s: each
// replica's median step (start to start of the Step events of its worker ranks, warm-up dropped;
// its slowest rank), and dp ÷ Σ_d 1/step_d, the time per global batch (the common step under
// BSP). Server ranks are not read. Throws SimError when a replica has fewer than 3 steps.
double ps_measured_step_s(traces::TraceReader& rd, traces::RunId run, const ExperimentSpec& spec);

// One point of the validation: the runs of one model, batch and layout (repeats of a study point
// are one point), measured as the median of their median step times.
struct ValidationRow {
    traces::RunInfo run;        // the point's first run
    std::vector<std::int64_t> runs;  // every run of the point (repeats)
    std::string layout;         // "dp2 tp1 pp1 m1"
    bool fit = false;           // the point the compute rates were fitted on (not a prediction)
    bool oversubscribed = false;
    double measured_s = 0;      // median over the runs of their median step time
    double spread = 0;          // (slowest − fastest run median) ÷ measured_s; 0 for one run
    double analytic_s = 0, replay_s = 0;
    double analytic_err = 0, replay_err = 0;  // (predicted − measured) ÷ measured
    Breakdown analytic_parts;   // the analytic prediction's step breakdown (mean over ranks)
    std::string note;
};

struct ValidationReport {
    std::string hardware;       // the hardware description used (name)
    std::vector<std::string> fitted_on;  // "run 1 (mlp-default-dp1-tp1-pp1)" per model
    std::vector<ValidationRow> rows;
    // Mean absolute relative error of the predictions (fit points excluded), NaN when none.
    double mae_analytic = 0, mae_replay = 0;                         // not oversubscribed
    double mae_analytic_over = 0, mae_replay_over = 0;               // oversubscribed
    int predicted = 0, predicted_over = 0;                           // points
    int runs = 0;                                                    // completed runs used
};

// How the repeats of a point (and the candidate single-rank runs for the fit) are summarised:
// Median of their median step times (and the fit on the median run), or Best: the fastest (and the
// fit on the fastest run) — on a machine shared with other work, the slower repeats are the ones
// that met interference, and the calibration itself keeps the best of its passes.
enum class RepeatStatistic { Median, Best };

// Predicts every completed run of the file (or of study `study` when valid) from the hardware
// `hw` (the calibration: α/β of the collectives, not fitted on these runs) and compute rates
// fitted on one single-rank run per model (`fit_run` when valid; else, of the model's single-rank
// runs that are not oversubscribed, the one with the median step time); `background_threads`
// other runnable threads shared the cores while the runs were recorded. Runs of the same model,
// batch and layout are one point (repeats). Prints nothing.
// Where validate_runs takes the compute rates from: Auto = the hardware file's calibrated compute
// classes (core/sim/calibrate.h rates_from_calibration) when it holds them and no fit run is given,
// else fitted; Calibration (refused without classes); Fit = fitted on a run (today's behaviour).
enum class RatesFrom { Auto, Calibration, Fit };
ValidationReport validate_runs(traces::TraceReader& rd, const Hardware& hw,
                               traces::StudyId study = traces::StudyId{},
                               traces::RunId fit_run = traces::RunId{}, double background_threads = 0,
                               RepeatStatistic statistic = RepeatStatistic::Median, RatesFrom rates_from = RatesFrom::Auto);

}  // namespace ss::core

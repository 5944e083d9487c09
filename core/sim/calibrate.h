// Calibration: turns the measurements of `scalescope-cli calibrate` (an nccl-tests-style sweep run
// by scalescope-calibrate-rank under mpirun) into the hardware file the simulator reads.
// docs/LAUNCH.md, "The hardware file", documents the JSON. No Qt here.
//
// Conventions (DESIGN.md, "Formulas"; nccl-tests' PERFORMANCE.md):
//   size n      bytes of the collective's whole buffer: all-reduce and broadcast the buffer, reduce-
//               scatter the input (each rank receives n/p), all-gather the output (each rank
//               contributes n/p), send/recv the message.
//   time        seconds per call, the slowest rank's average over the timed iterations.
//   algbw       n / time (bytes/s)
//   busbw, cost model  core/collective_cost.h: busbw = algbw * factor; T = a(p)*alpha + b(p)*n*beta
//               with the ring terms (a, b), so that beta = 1 / (bus bandwidth) at large n and alpha
//               is the per-step latency.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/analysis/collective_cost.h"
#include "core/sim/hardware.h"
#include "core/sim/simulator.h"
#include "core/spec/spec.h"
#include "traces/reader.h"

namespace ss::core {

// Names used in the hardware file (the trace's collective names; send/recv as one).
// iall_reduce and ireduce_scatter: the non-blocking calls started and waited for at once (the
// DP gradient buckets' path; MPI implements them apart from the blocking ones).
inline constexpr const char* kCalibratedCollectives[] = {"all_reduce", "reduce_scatter", "all_gather",
                                                         "broadcast", "send_recv", "iall_reduce",
                                                         "ireduce_scatter"};

struct CollectiveSample {
    std::string collective;  // one of kCalibratedCollectives
    int p = 2;               // ranks in the group
    std::int64_t bytes = 0;  // n, see above
    double time_s = 0;       // seconds per call
    int iterations = 0;
};

// The cost model (core/collective_cost.h) by the names above: the bus-bandwidth factor and the
// ring terms of the collective. Throw std::invalid_argument for an unknown name or p < 1.
double busbw_factor(const std::string& collective, int p);
CostTerms cost_terms(const std::string& collective, int p);

struct AlphaBeta {
    std::string collective;
    double alpha_s = 0;          // s, latency per step
    double beta_s_per_byte = 0;  // s/byte; 1/beta is the bus bandwidth
    double rel_rms = 0;          // root-mean-square relative error of the fit over the points kept
    double r2 = 0;               // 1 - SS_res / SS_tot of the times over the points kept
    int samples = 0;             // points given (repeats count one each)
    int dropped = 0;             // outliers left out of the final fit (see fit_alpha_beta)
    bool alpha_clamped = false;  // the unconstrained fit gave alpha < 0: refitted with alpha = 0
    std::string method = kFitMethod;
    static constexpr const char* kFitMethod = "huber-irls";
};

// Robust fit of T = a*alpha + b*n*beta over the samples of one collective (any mix of group
// sizes), on the relative residuals r = (model - T) / T (every size counts by its relative error:
// small messages fix alpha, large ones beta):
//   1. weighted least squares (weights 1/T^2);
//   2. Huber IRLS: scale s = 1.4826 * median |r| (at least 1e-3), weight min(1, 1.345 s / |r|),
//      refitted until the weights settle (at most 20 rounds);
//   3. points with |r| > 3 s are dropped and the Huber fit is redone on the rest (`dropped`),
//      unless that would leave fewer than 2 sizes.
// alpha and beta are kept >= 0. Throws std::invalid_argument with fewer than 2 samples or fewer than
// 2 distinct sizes (beta is then unidentifiable), or a non-positive time.
AlphaBeta fit_alpha_beta(const std::string& collective, const std::vector<CollectiveSample>& samples);

// Repeats of one (collective, p, bytes): median, min and max of their times (seconds per call).
struct SampleSpread {
    std::string collective;
    int p = 2;
    std::int64_t bytes = 0;
    int repeats = 0;
    double median_s = 0, min_s = 0, max_s = 0;
};
std::vector<SampleSpread> sample_spread(const std::vector<CollectiveSample>& samples);

// Matrix-product rate by rows (Hockney's r∞ and n½ applied to the row count M of a linear layer:
// samples or tokens per micro-batch): r(M) = r∞ · M / (M + M½). Least squares of 1/r = 1/r∞ +
// (M½/r∞)·(1/M), so M½ = slope ÷ intercept. Throws std::invalid_argument for fewer than 2 distinct
// row counts or a non-positive rate; M½ is kept ≥ 0 (0: no measurable dependence on rows).
struct RowsFit {
    double peak_flops = 0;  // r∞
    double half_rows = 0;   // M½: rows at which the rate is half of r∞
    double rel_rms = 0;     // of the fitted rates against the measured ones
};
RowsFit fit_half_rows(const std::vector<double>& rows, const std::vector<double>& flops);

// "4K,64K,1M" (binary suffixes K, M, G; plain bytes) or "4K:16M" (doubling from 4 KiB to 16 MiB).
// Throws std::invalid_argument naming the bad item.
std::vector<std::int64_t> parse_sizes(const std::string& text);

// Below this ratio of the all-ranks-at-once sgemm rate to the single-rank one, hardware_file warns.
inline constexpr double kCoRunWarnRatio = 0.8;

// The hardware file: `raw` is what scalescope-calibrate-rank wrote (format, ranks, hosts,
// samples, compute, memory; on GPU ranks also "device", the backend's name such as "cuda:0
// (NVIDIA H200)", and "comm", "nccl" or "mpi": the samples are then NCCL collectives in nccl-tests'
// busbw convention and compute.sgemm_flops the cuBLAS fp32 rate); adds the derived algbw/busbw per
// sample, the fits per collective (each with the "transport" it was measured on; "mpi" when raw
// names none), "device" {kind, name}, "comm", and the provenance: "measured": true, "source",
// "measured_on" {host: the first host, date: created_unix_ns in ISO 8601 UTC}.
// Across hosts (raw "levels" {hosts, ranks_per_host, host_of_rank, cores_per_host}, samples with
// "level" intra | inter | span; models/plan/hosts.h): "collectives" fits the intra-host samples,
// "inter_collectives" the inter-host ones (one rank per host), the "span" samples (the world group
// across hosts) stay in "spread" and "measurements" for `calibrate` to hold against the two-level
// model, and "topology" {devices_per_node: ranks per host, nodes, cores_per_node, algorithm "ring",
// intra, inter: each level's all-reduce link} with "calibrated": true and a name listing the hosts.
// Throws std::invalid_argument when `raw` lacks a field it needs or names an unknown device or
// transport.
nlohmann::json hardware_file(const nlohmann::json& raw, bool oversubscribed);

// The world group of a calibration across hosts (spread entries of level "span") against what the
// file's two levels predict for it (collective_time on the group placed over the nodes): a flat
// ring and hierarchical, per point, their mean |relative error|, and the better of the two.
// Throws HardwareError where `doc` is not a valid hardware file.
struct SpanPoint {
    std::string collective;
    int p = 0;
    std::int64_t bytes = 0;
    double measured_s = 0, ring_s = 0, hierarchical_s = 0;
};
struct SpanCheck {
    std::vector<SpanPoint> points;
    double ring_mean_abs_err = 0, hierarchical_mean_abs_err = 0;
    CollAlgo best = CollAlgo::Ring;
};
SpanCheck spanning_check(const nlohmann::json& doc);


// ---- Compute from calibration (docs/SIMULATOR.md, "Calibration of compute") ----

// One matrix-product shape of a model's linear layers on one rank: rows x inner -> cols, and the
// FLOPs per micro-batch it takes (forward, all its instances) that weigh it in the mean rate.
struct MatmulShape {
    int rows = 0, inner = 0, cols = 0;
    double weight = 0;
    bool operator==(const MatmulShape&) const = default;
};
// The linear layers' products of the spec on one rank (tp split applied; rows = samples or tokens
// per micro-batch). Throws SimError for a spec build_workload refuses.
std::vector<MatmulShape> matmul_shapes(const ExperimentSpec& spec);

// The calibrated rate of the linear kernel (forward + backward) at rows x inner -> cols: on the
// measured curve of that (inner, cols) interpolated in log rows (clamped at its ends); for an
// (inner, cols) not measured, between the curves of the nearest smaller and larger inner*cols
// (linear in log inner*cols of log rate). Throws std::invalid_argument when nothing was measured.
double calibrated_matmul_rate(const CalibratedCompute& c, double rows, double inner, double cols);
// A memory-bound class's rate at `bytes` per call: log-log interpolation, clamped at the ends.
double calibrated_bytes_rate(const std::vector<BytesRate>& points, double bytes);

// What `calibrate --spec` measures for the given specs: the (inner, cols) of their linear layers
// and their row counts (as given and with tp 1, 2, 4 and dp 1, 2, 4 where the spec allows them:
// the layouts a study of it would try), and the collective sizes the trainer issues (every DP
// bucket size of every stage, models/plan/buckets.h, and the tp all-reduce of a block), sorted.
// The trainer's non-linear kernels of a spec on one rank, per kind and shape (the worker's
// --kinds items, "attention:B:T:C:NH"), with how many forward + backward calls a micro-batch makes
// of each on the whole model (count; all layers of all stages):
//   GPT block   attention (B, T, C/tp, heads/tp), layernorm (B*T, C) x2, gelu (B*T*4C/tp),
//               residual (B*T*C) x2, bias (B*T, C) x2;  head: layernorm (B*T, C), classifier (B*T, vocab)
//   MLP         relu or gelu (B * out) per hidden layer, classifier (B, classes)
struct KindShape {
    std::string kind;
    std::vector<int> dims;
    double count = 0;
    std::string arg() const;  // "attention:8:32:64:4"
};
std::vector<KindShape> kind_shapes(const ExperimentSpec& spec);

struct SpecProbes {
    std::vector<std::pair<int, int>> widths;
    std::vector<int> rows;
    std::vector<std::int64_t> sizes;
    std::vector<std::string> kinds;  // KindShape::arg of every layout's kind_shapes (micro-batches as given, 1, 3), sorted
};
SpecProbes probes_for_specs(const std::vector<ExperimentSpec>& specs);

// Seconds of one forward + backward of kernel `k` from the calibrated kinds: the point of its
// shape, else log-log in the product of dims between the points of that kind (proportional beyond
// them); -1 when the kind was not measured.
double calibrated_kind_seconds(const CalibratedCompute& c, const KindShape& k);

// Compute rates of `spec` from the hardware file's calibrated classes alone (hw.classes.present()):
// matrix products at the FLOP-weighted harmonic mean of calibrated_matmul_rate over
// matmul_shapes(spec) (matmul_rows = the spec's rows, so Hardware::mm_half_rows changes nothing
// more), the MLP's first layer at 2/3 of its forward + backward time (the trainer computes no
// input gradient there); with calibrated kinds (hw.classes.kinds) the attention kernels'
// seconds join the matrix products' (their FLOPs are in the workload's), and the element-wise
// rate is the workload's element-wise bytes over the kinds' seconds (calibrated_kind_seconds of
// kind_shapes(spec); the embedding's bytes at the element-wise class). Without kinds: element-wise kernels at the rate of their bytes per call (each layer's element-wise bytes
// over its element-wise calls), weighted by bytes; the optimizer at the rate of the largest stage's
// update (8 floats per parameter it updates); kernel_overhead_s as measured. source names the
// calibration (calibration_label). Throws SimError when hw has no calibrated classes.
// With a context entry of the spec's model kind (hw.classes.context, the one nearest in parameters;
// context_for), the classes are carried into the trainer's context: the compute rates ÷ its
// compute_factor (the per-kernel cost ×), the optimizer rate ÷ its optimizer_factor, and its data
// loading per sample and host work per step; source then names the context run.
ComputeRates rates_from_calibration(const ExperimentSpec& spec, const Hardware& hw);
// The context entry rates_from_calibration uses for `spec`: same model kind, nearest in parameters
// (log ratio); nullptr when none.
const ComputeContext* context_for(const CalibratedCompute& c, const ExperimentSpec& spec);
// The context of the calibrated classes from a single-rank run recorded at calibration time
// (`calibrate --spec` runs one per model): its measured step parts (core/analysis analyze_run, mean
// over measured steps) against the analytic prediction of its spec from `hw`'s classes alone
// (hw without context entries). Throws SimError when the run is not a completed single-rank run
// or a part the factors divide by is 0.
ComputeContext context_from_run(traces::TraceReader& rd, traces::RunId run, const Hardware& hw);
// "calibrated on HOST at DATE" (what every output says about calibrated compute rates).
std::string calibration_label(const Hardware& hw);
// `opt` with rates_from_calibration(spec, hw) when it states no rates and hw holds calibrated
// classes; else `opt` unchanged (the simulator then uses rates_from_hardware). The simulator's
// spec entry points (simulate_analytic, simulate_replay) call it.
SimOptions with_calibrated_rates(const ExperimentSpec& spec, const Hardware& hw, const SimOptions& opt);
// Where the compute rates of a prediction on `hw` come from when none are given: the calibration
// label, or rates_from_hardware's "hardware peaks (NAME)".
std::string compute_rates_source(const Hardware& hw);

// ---- α-β from the collectives of a recorded run (`calibrate --from-trace`) ----

// One sample per collective instance of `run`: the instance matched across its group's ranks
// (group, seq), timed from its last member's start to its first member's end (the transfer, less
// the wait for late ranks). A non-blocking call (dp buckets with parallel.overlap) starts when its
// group's previous call on that rank ended (one communication thread runs them in order), so the
// queueing behind earlier buckets is not counted. Names: iall_reduce / ireduce_scatter for the
// non-blocking DP reductions of a run with overlap, else the trace's collective (send and recv as
// send_recv, one-way: the receive's end minus the later of the two starts). Instances with a member
// missing are skipped. Throws SimError naming the run when it has no collective.
std::vector<CollectiveSample> collective_samples_from_trace(traces::TraceReader& rd, traces::RunId run);

// The fits of every (collective, group size) with at least 2 distinct sizes, and of every
// collective recorded on several group sizes over all of them (p = 0; the cost terms carry p);
// `problems` lists the (collective, group size) pairs with one size only ("all_gather p=2: ...
// one size only (4096 bytes): ... beta is unidentifiable", saying whether the pooled fit covers it).
struct TraceFit {
    AlphaBeta fit;
    int p = 2;  // 0: every group size of the collective
    std::vector<SampleSpread> spread;
};
std::vector<TraceFit> fit_trace_collectives(const std::vector<CollectiveSample>& samples,
                                            std::vector<std::string>& problems);

// The hardware file `calibrate --from-trace` writes: `base` (a hardware document, or null for
// none: then compute and memory are zero and the file is only for collectives) with collectives
// replaced by the fits (per collective the one of the largest group), each with its quality, the
// per-group fits and measurements under "from_trace", and "source" naming the run and file.
nlohmann::json hardware_from_trace(const nlohmann::json& base, const std::vector<TraceFit>& fits,
                                   const std::string& trace_path, const traces::RunInfo& run);

}  // namespace ss::core

// Analysis of one run: where the time of a training step goes (docs/ANALYSIS.md defines every
// number below). Plain C++ over a trace file; results are plain copyable value structs that the
// CLI prints and the application shows. No Qt.
//
//   TraceReader rd("study.sqlite");
//   RunAnalysis a = analyze_run(rd, RunId(1), AnalysisOptions{});
//   a.step_time.median_ns, a.overall.part_ns[Part::ExposedComm], a.kernels[0].flop_per_s, ...
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis/collective_cost.h"
#include "core/analysis/parameter_server.h"
#include "traces/reader.h"
#include "traces/types.h"

namespace ss::core {

// A bad input to the analysis (no steps, an unknown run, a warm-up longer than the run, ...).
// The message names what is missing and where.
class AnalysisError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
// The run has no step to break down (no step events, or none recorded on every rank): its stored
// aggregates may still say where the time went (summaries_from_aggregates).
class NoStepsError : public AnalysisError {
public:
    using AnalysisError::AnalysisError;
};

// ---- Interval arithmetic (ns) ----
struct Interval {
    std::int64_t start = 0, end = 0;  // [start, end)
    friend bool operator==(const Interval&, const Interval&) = default;
};
// Sorted, disjoint union of the intervals (empty ones dropped; touching ones merged).
std::vector<Interval> union_of(std::vector<Interval> intervals);
// Total length of a sorted disjoint set.
std::int64_t total_length(const std::vector<Interval>& u);

// Bus bandwidth: busbw_factor in core/collective_cost.h.

// ---- The breakdown of a step ----
// Every instant of a step on a rank belongs to exactly one part; docs/ANALYSIS.md gives the
// precedence. The parts of one rank and step add up to the step time exactly.
enum class Part : int {
    Compute = 0,      // a kernel, copy or memset runs (outside the optimizer phase)
    ExposedComm = 1,  // a collective is in flight and no kernel runs (nor data loading)
    Bubble = 2,       // only point-to-point (pipeline send/recv) in flight: waiting on a peer stage
    Data = 3,         // data loading (host range "data"), no kernel running
    Optimizer = 4,    // the optimizer phase, not communicating (its kernels included)
    OtherHost = 5,    // inside a phase or host range, nothing of the above: host overhead
    Idle = 6,         // nothing recorded, or outside this rank's step span (waiting on peers)
};
inline constexpr int kPartCount = 7;
std::string_view to_string(Part p);  // "compute", "exposed_comm", "bubble", "data", ...

struct Breakdown {
    std::array<double, kPartCount> part_ns{};  // ns; mean per step
    double step_ns = 0;        // the step time the parts add up to (ns)
    double comm_ns = 0;        // union of communication (overlapped or not), ns; not a part
    double compute_ns = 0;     // union of all kernels, optimizer kernels included, ns; not a part
    double overlapped_ns = 0;  // compute while communicating (|kernels ∩ comm|), ns
    double part(Part p) const { return part_ns[static_cast<int>(p)]; }
    double sum() const;
    // Overlap ratio = compute while communicating ÷ communicating time; NaN without communication.
    double overlap_ratio() const;
    friend bool operator==(const Breakdown&, const Breakdown&) = default;
};

struct StepRecord {
    std::int64_t step = 0;          // the step number (events' `step`, else order)
    std::int64_t start_ns = 0;      // earliest rank's step start
    std::int64_t end_ns = 0;        // latest rank's step end
    bool warmup = false;            // excluded from the statistics
    Breakdown overall;              // mean over ranks (adds up to end - start)
    std::int64_t time_ns() const { return end_ns - start_ns; }
    friend bool operator==(const StepRecord&, const StepRecord&) = default;
};

// Spread of the measured step times (ns).
struct StepTimeStats {
    std::int64_t count = 0;
    double median_ns = 0, mean_ns = 0, stddev_ns = 0, min_ns = 0, max_ns = 0, p95_ns = 0;
    double cv() const { return mean_ns > 0 ? stddev_ns / mean_ns : 0; }  // coefficient of variation
    friend bool operator==(const StepTimeStats&, const StepTimeStats&) = default;
};
StepTimeStats step_time_stats(std::vector<std::int64_t> times_ns);

struct RankBreakdown {
    std::int32_t rank = 0;
    Breakdown mean;  // mean over the measured steps
    friend bool operator==(const RankBreakdown&, const RankBreakdown&) = default;
};

// One rank's standing in the step: its own work against the median rank's (docs/ANALYSIS.md
// "Stragglers"). A straggler makes the others wait: their time shows as exposed comm, bubble or idle.
struct StragglerRow {
    std::int32_t rank = 0;
    double step_ns = 0;
    double work_ns = 0;      // compute + data + optimizer + other host, per step
    double wait_ns = 0;      // exposed comm + bubble + idle, per step: waiting on others
    double vs_median = 0;    // work ÷ median work − 1
    bool straggler = false;  // work more than `threshold` above the median rank's (2 ranks or more)
    friend bool operator==(const StragglerRow&, const StragglerRow&) = default;
};
std::vector<StragglerRow> stragglers(const std::vector<RankBreakdown>& ranks, double threshold = 0.05);

// Per kernel name, over the measured steps of every rank.
struct KernelSummary {
    std::string name;
    traces::EventKind kind = traces::EventKind::Kernel;  // kernel, memcpy or memset
    std::int64_t count = 0;
    std::int64_t total_ns = 0;
    double share = 0;        // total ÷ total of every kernel (0..1)
    double mean_ns = 0, median_ns = 0;
    std::int64_t p95_ns = 0;  // nearest rank
    double flops = -1;        // sum of known FLOPs; < 0 when none is known
    double flop_per_s = -1;   // FLOPs ÷ duration of the events that carry FLOPs; < 0 unknown
    double per_step_ns = 0;   // total ÷ (measured steps × ranks): time per step per rank
    friend bool operator==(const KernelSummary&, const KernelSummary&) = default;
};

// Per collective, group kind, group size and message size, over the measured steps
// (docs/ANALYSIS.md "Collective summary"). A call's span runs from issue to completion; a
// non-blocking call (a DP bucket) completes when it is waited on, so its span includes the work
// done meanwhile and overlaps the spans of the rank's other calls. Busy time is therefore a union,
// and bandwidth comes only from calls whose span held nothing else of the rank.
struct CollectiveSummary {
    traces::Collective collective = traces::Collective::None;
    traces::GroupKind group_kind = traces::GroupKind::None;
    std::int64_t group_size = 0;  // ranks in the group (2 for send/recv)
    std::int64_t bytes = 0;       // message size per call and rank (bytes)
    std::int64_t count = 0;       // calls, summed over ranks
    std::int64_t total_ns = 0;    // busy time: per rank the union of these calls' spans (each clipped
                                  // to its step), summed over ranks; never more than the ranks' steps
    double mean_ns = 0;           // issue → completion, mean over calls (not the transfer time of a
                                  // non-blocking call)
    std::int64_t overlapped = 0;  // calls whose span held another of the rank's calls or kernels
                                  // (non-blocking: their issue → completion is not the transfer time)
    double transfer_mean_ns = std::numeric_limits<double>::quiet_NaN();  // mean time of the other
                                  // calls (count − overlapped): the transfer time; NaN when none
    double algbw = std::numeric_limits<double>::quiet_NaN();  // bytes ÷ transfer_mean_ns (B/s); NaN
                                                              // when no call's transfer time is known
    double busbw = std::numeric_limits<double>::quiet_NaN();  // algbw × busbw_factor (B/s)
    std::int64_t instances = 0;   // operations matched on every member (seq) for the skew
    double skew_mean_ns = 0;      // arrival spread: latest − earliest issue of one operation
    std::int64_t skew_max_ns = 0;
    double per_step_ns = 0;       // busy time per step per rank: total ÷ (measured steps × ranks)
    std::int64_t bandwidth_calls() const { return count - overlapped; }
    friend bool operator==(const CollectiveSummary&, const CollectiveSummary&) = default;
};
// Why the bandwidth of a row is partial or unknown, in a sentence; empty when every call counted.
std::string bandwidth_note(const CollectiveSummary& c);

// Whether the MFU is known, and if not, what is missing.
enum class MfuStatus {
    Known,         // mfu holds the value
    NoModelFlops,  // the spec gives no global batch or no parameter count (warnings say which)
    NoPeak,        // no --peak-flops, no hardware file, no calibration in the trace file
    AbovePeak,     // model FLOP/s above peak × ranks: one of them is wrong; no value (mfu_ratio says how far)
};

// Throughput and model FLOP utilisation. NaN (or < 0 where stated) = not known.
struct Throughput {
    double samples_per_step = -1;      // training.global_batch of the spec
    double tokens_per_step = -1;       // samples × model.seq_len (gpt)
    double samples_per_s = -1;         // samples_per_step ÷ median step time
    double tokens_per_s = -1;
    double recorded_per_s = -1;        // median of the recorded samples_per_s / tokens_per_s metric
    std::string recorded_metric;       // its name, empty when none
    std::int64_t model_params = -1;    // N
    double model_flops_per_step = -1;  // the matrix-product FLOPs the kernels perform (models/plan/flops.h:
                                       // no lookups, causal attention as the backend computes it)
    double convention_flops_per_step = -1;  // 6·N·tokens (+ 12·L·d·s per token for gpt): the convention,
                                            // shown beside it, never the MFU numerator
    double model_flop_per_s = -1;
    double kernel_flop_per_s = -1;     // recorded kernel FLOPs ÷ measured time (all ranks)
    double peak_flop_per_s = -1;       // per rank
    std::string peak_source;           // "--peak-flops", "cuBLAS fp32 sgemm measured in the run
                                       // (median of N ranks)", "calibration N (host)", ...
    double mfu = -1;                   // mfu_of(model_flop_per_s, peak, world size), in (0, 1]; < 0 unknown
                                       // (never above 1: see mfu_status AbovePeak)
    double mfu_ratio = -1;             // model FLOP/s ÷ (peak × ranks) as computed, > 1 for AbovePeak
    MfuStatus mfu_status = MfuStatus::NoModelFlops;
    friend bool operator==(const Throughput&, const Throughput&) = default;
};
// The MFU in a sentence: the value, its convention and peak source (with a warning above 100 %),
// or what is missing and how to get it (the CLI's `mfu_note`; the application words its own line
// from mfu_status).
std::string mfu_note(const Throughput& t);

// MFU — the one formula (docs/ANALYSIS.md "Throughput and MFU"; models::model_flops_utilisation):
// model FLOP/s (as the kernels perform them) ÷ (peak FLOP/s of one rank × world size). < 0 when
// either input is unknown (<= 0) and when the ratio is above 1 (one of the inputs is wrong).
double mfu_of(double model_flop_per_s, double peak_flop_per_s_per_rank, int world_size);

// The peak FLOP/s of one rank from the newest calibration stored in the file that has one
// (`scalescope-cli calibrate --trace FILE`); flop_per_s < 0 when none. source: "calibration N (host)".
struct PeakFlops {
    double flop_per_s = -1;
    std::string source;
};
PeakFlops newest_calibrated_peak(traces::TraceReader& reader);

// Whether a `stats` counter (traces/SCHEMA.md) counts records lost or rejected (events_dropped_*,
// cupti_records_dropped, ...), as opposed to the CUPTI collector's record counts
// cupti_records_<kind>, which count what was stored. The analysis warns about, and the
// application's status bar sums, the loss counters only.
bool is_loss_counter(std::string_view key);

// ---- GPU streams (docs/ANALYSIS.md "GPU streams") ----
// The CUDA stream a lane holds, or -1: a lane named "stream N" is stream N; an unnamed lane
// (stored as "lane L") numbered L >= traces::lanes::kCudaStreamBase is stream L − kCudaStreamBase.
std::int32_t stream_of_lane(std::int32_t lane, const std::string& name);
// The name to show for a lane: its stored name, except that a lane the writer left unnamed
// ("lane L", or empty) gets the meaning its number has in traces/lanes.h: "CUDA API" for
// kCudaApi, "stream N" for kCudaStreamBase + N.
std::string lane_display_name(std::int32_t lane, const std::string& name);

// Device time of one rank (or the mean over ranks) per measured step, from the CUPTI records on
// the CUDA stream lanes, each clipped to the rank's own step span. ns.
struct GpuTime {
    double compute_ns = 0;  // union of compute kernels (kind kernel) on the stream(s)
    double nccl_ns = 0;     // union of NCCL kernels (kind comm) on the stream(s)
    double copy_ns = 0;     // union of memcpy and memset on the stream(s)
    double busy_ns = 0;     // union of all three: the stream(s) had device work
    double overlap_ns = 0;  // |compute ∩ NCCL|: an NCCL kernel and a compute kernel ran at once
    // NCCL/compute overlap = overlap ÷ NCCL time (0..1); NaN without NCCL kernels.
    double nccl_overlap() const;
    friend bool operator==(const GpuTime&, const GpuTime&) = default;
};

// One CUDA stream, over the ranks that have it (streams are matched by id across ranks).
struct StreamSummary {
    std::int32_t stream = 0;           // CUDA stream id (lane kCudaStreamBase + stream)
    std::int64_t ranks = 0;            // ranks with a lane for this stream
    std::int64_t compute_kernels = 0;  // records starting in a measured step, all ranks
    std::int64_t nccl_kernels = 0;
    std::int64_t copies = 0;       // memcpy and memset
    GpuTime per_step;              // Σ over ranks and measured steps ÷ (measured steps × ranks)
    double busy_all_ranks_ns = 0;  // Σ over ranks and measured steps of the busy time
    friend bool operator==(const StreamSummary&, const StreamSummary&) = default;
};

struct GpuRankTime {
    std::int32_t rank = 0;
    GpuTime per_step;  // mean over the measured steps, unions over all the rank's streams
    friend bool operator==(const GpuRankTime&, const GpuRankTime&) = default;
};

struct GpuSummary {
    std::vector<StreamSummary> streams;  // by stream id; empty for a run without stream records
    std::vector<GpuRankTime> ranks;      // every rank with steps, in order (zeros without streams)
    GpuTime overall;                     // mean over those ranks: per step and rank; its
                      // nccl_overlap() is Σ overlap ÷ Σ NCCL over ranks and steps
    bool present() const { return !streams.empty(); }
    friend bool operator==(const GpuSummary&, const GpuSummary&) = default;
};

// ---- GPU kernel time as Holistic Trace Analysis defines it (docs/ANALYSIS.md "GPU kernel time
// (HTA)") ----
// A record on a CUDA stream is of one kernel type: computation (kind kernel), communication (kind
// comm: an NCCL kernel) or memory (memcpy, memset). Times are unions over the rank's streams,
// clipped to its measured step spans (the whole trace span per rank when the run has no steps).
enum class KernelType : int { Computation = 0, Communication = 1, Memory = 2 };
inline constexpr int kKernelTypeCount = 3;
std::string_view to_string(KernelType t);  // "computation", "communication", "memory"

// The states of HTA's kernel-type breakdown: which kernel types run at an instant (a bit per type:
// 1 computation, 2 communication, 4 memory). State 0 (nothing runs: idle) is not a state here.
inline constexpr int kKernelStateCount = 8;
// "computation", "communication", "computation overlapping communication", "memory", ...
std::string kernel_state_name(int state);

struct HtaRank {
    std::int32_t rank = 0;
    // Per measured step (mean), ns.
    double window_ns = 0;       // the rank's own step span: the time the breakdown covers
    double idle_ns = 0;         // no kernel of any type runs
    double compute_ns = 0;      // a computation kernel runs
    double non_compute_ns = 0;  // only communication or memory kernels run
    double comm_ns = 0;         // a communication kernel runs
    double comm_comp_ns = 0;    // a communication and a computation kernel run at once
    std::array<double, kKernelStateCount> state_ns{};  // time in each kernel-type state ([0] = 0)
    // HTA's communication-computation overlap: comm ∩ computation ÷ comm; NaN without NCCL kernels.
    double comm_comp_overlap() const;
    friend bool operator==(const HtaRank&, const HtaRank&) = default;
};

// One kernel name among the longest of its type (HTA's kernel breakdown), all ranks, measured steps.
struct TopKernel {
    KernelType type = KernelType::Computation;
    std::string name;         // "others": the kernels of the type after the first kTopKernels
    std::int64_t count = 0;   // records, all ranks
    std::int64_t total_ns = 0;
    double mean_ns = 0, stddev_ns = 0;  // per record (sample standard deviation)
    std::int64_t min_ns = 0, max_ns = 0;
    double share = 0;         // total ÷ the type's total (0..1)
    double per_step_ns = 0;   // total ÷ (measured steps × ranks)
    friend bool operator==(const TopKernel&, const TopKernel&) = default;
};
inline constexpr int kTopKernels = 10;  // per type; the rest are one "others" row

struct HtaSummary {
    std::vector<HtaRank> ranks;  // every rank with steps (zeros for a rank without streams)
    HtaRank overall;             // mean over those ranks (rank = -1); overlap = Σ ÷ Σ
    std::vector<TopKernel> top_kernels;  // by type, then by total time, longest first
    bool present() const { return !ranks.empty(); }
    friend bool operator==(const HtaSummary&, const HtaSummary&) = default;
};

// One op (every event but steps: CPU ops, annotations, CUDA API calls, phases, kernels, copies,
// NCCL kernels, communication calls), by name and side (host or GPU stream), over the measured
// steps of every rank: what HTA's TraceDiff compares.
struct OpSummary {
    std::string name;
    bool gpu = false;          // a record on a CUDA stream lane (else a host-side event)
    std::int64_t count = 0;    // all ranks
    std::int64_t total_ns = 0;
    double count_per_step = 0;  // count ÷ (measured steps × ranks)
    double per_step_ns = 0;     // total ÷ (measured steps × ranks)
    friend bool operator==(const OpSummary&, const OpSummary&) = default;
};

// The peak FLOP/s of one GPU measured in the run: the median over the ranks of the metric
// "matrix_flop_per_s" (the worker's cuBLAS fp32 sgemm rate, one value per rank; a rank with
// several contributes their median). flop_per_s < 0 when no rank recorded it; source:
// "cuBLAS fp32 sgemm measured in the run (median of N ranks)".
PeakFlops measured_matrix_peak(const std::vector<traces::Metric>& metrics);
inline constexpr const char* kMatrixRateMetric = "matrix_flop_per_s";

struct AnalysisOptions {
    // Leading steps excluded from every statistic; < 0 = detect (docs/ANALYSIS.md "Warm-up").
    int warmup_steps = -1;
    // Peak FLOP/s of one rank (e.g. the calibrated OpenBLAS sgemm rate); <= 0 = the GPU's matrix
    // rate measured in the run (metric matrix_flop_per_s), else the newest calibration in the file.
    double peak_flop_per_s = -1;
    std::string peak_source = "--peak-flops";  // where peak_flop_per_s came from (shown)
};

struct RunAnalysis {
    traces::RunInfo run;
    int warmup_steps = 0;
    bool warmup_detected = false;   // chosen by the detector rather than given
    std::vector<StepRecord> steps;  // every step, warm-up ones flagged
    StepTimeStats step_time;        // over the measured steps
    Breakdown overall;              // mean over ranks and measured steps; adds up to mean step time
    std::vector<RankBreakdown> ranks;
    std::vector<KernelSummary> kernels;          // by total time, longest first
    std::vector<CollectiveSummary> collectives;  // by total time, longest first
    Throughput throughput;
    GpuSummary gpu;                     // CUDA streams (CUPTI); empty on a CPU run
    HtaSummary hta;                     // GPU kernel time as HTA defines it; empty without streams
    std::vector<OpSummary> ops;         // per op name and side, by total time, longest first
    // The run has no step events: each rank's "step" is its whole trace span (first event start
    // to last event end), one step per rank (docs/ANALYSIS.md "Runs without steps").
    bool whole_trace = false;
    // A run with a parameter server (docs/ANALYSIS.md "Parameter server"): the servers' load and the
    // workers' push/pull and waiting; empty (present() false) for an all-reduce run. The steps,
    // breakdown, kernels, collectives and MFU above cover the workers only.
    PsSummary ps;
    SlowRank slow_rank;  // the straggler knob (training.slow_rank), rank -1 when none
    std::vector<std::string> warnings;  // oversubscription, drops, missing steps, ...
    friend bool operator==(const RunAnalysis&, const RunAnalysis&) = default;
};

// Analyses one run of an open trace. A run without any step event is analysed over each rank's
// whole trace span (whole_trace, with a warning saying so). Throws NoStepsError when steps exist
// but none is recorded on every rank, or the run has no events at all; AnalysisError when the
// warm-up leaves no step; TraceError for a bad file.
RunAnalysis analyze_run(traces::TraceReader& reader, traces::RunId run,
                        const AnalysisOptions& options = {});

// Kernel and collective summaries of a run from its stored aggregates (computed at merge,
// traces/aggregate.h), for a run that analyze_run cannot break down (no step events): counts,
// totals, mean, median and p95 per kernel; per collective and group kind the count, the summed
// issue -> completion time and bytes per call. No per-step figures and no bandwidth: the stored
// totals sum overlapping non-blocking calls, and which calls overlapped is not stored. Longest
// first. The CLI's `stats` and the Summary page both fall back on it.
struct StoredSummaries {
    std::vector<KernelSummary> kernels;
    std::vector<CollectiveSummary> collectives;
};
StoredSummaries summaries_from_aggregates(const std::vector<traces::Aggregate>& aggregates);

// Warm-up detection on step times in order: the leading steps longer than 1.2 × the median of the
// second half of the steps, at most half of them (docs/ANALYSIS.md "Warm-up").
int detect_warmup(const std::vector<std::int64_t>& step_times_ns);

// Only the step times of a run (reads the step events alone): for scaling studies.
struct RunStepTimes {
    traces::RunInfo run;
    std::vector<std::int64_t> times_ns;  // every step, in order
    int warmup_steps = 0;
    StepTimeStats stats;                 // over the measured steps
};
RunStepTimes run_step_times(traces::TraceReader& reader, traces::RunId run, int warmup_steps = -1);

// Peak FLOP/s per rank from a hardware file's JSON (`scalescope-cli calibrate`, docs/LAUNCH.md):
// compute.sgemm_flops. < 0 when the document has none.
double peak_flops_from_hardware_json(const std::string& json_text);

}  // namespace ss::core

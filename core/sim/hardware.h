// The hardware the simulator predicts for (docs/SIMULATOR.md, "Hardware"): per-device compute
// (roofline: matrix-product FLOP/s and memory bandwidth), memory capacity, how devices sit on
// nodes, and the α-β cost of every collective on intra- and inter-node links. No Qt here.
//
// The file format is the hardware file `scalescope-cli calibrate` writes (docs/LAUNCH.md, "The
// hardware file": format "scalescope-hardware", compute.sgemm_flops, memory.bandwidth_bytes_per_s,
// collectives.<name>.{alpha_s, beta_s_per_byte}) plus an optional "topology" object the simulator
// adds (devices per node, cores per node, links, algorithm). A calibrate file without "topology"
// describes this machine: one node, its ranks' cores, the fitted α/β as the intra-node link.
// Every file may say which device it describes ("device": {"kind": "cpu"|"gpu", "name"}), the
// transport its collectives were measured on ("comm", collectives.<c>.transport), whether its
// figures were measured ("measured", "source", "measured_on") and how communication overlaps
// computation ("overlap": {"mode", "fraction", "contention"}).
//
// The α-β terms of every collective and algorithm: core/collective_cost.h. Here, on a group spanning
// nodes, a flat algorithm waits on the slowest link at every step, and "hierarchical" (k ranks per
// node on N nodes) is intra reduce-scatter (k) + inter all-reduce of n/k over N nodes + intra
// all-gather (k).
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/analysis/collective_cost.h"
#include "traces/types.h"

namespace ss::core {

// A bad hardware file or value; the message names the file and the field.
class HardwareError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

const char* to_string(CollAlgo a);
CollAlgo coll_algo_from_string(const std::string& s);  // throws HardwareError naming the value

struct LinkCost {
    double alpha_s = 0;          // s per message step
    double beta_s_per_byte = 0;  // s per byte (1 / bus bandwidth)
    bool operator==(const LinkCost&) const = default;
};

// Index of a collective in Hardware::intra_fit: all_reduce, reduce_scatter, all_gather,
// broadcast, send_recv, and the non-blocking iall_reduce and ireduce_scatter (started, then
// waited for: what the DP gradient buckets use), the names `calibrate` fits.
enum class FitSlot : int { AllReduce = 0, ReduceScatter, AllGather, Broadcast, SendRecv, IAllReduce, IReduceScatter };
inline constexpr int kFitSlots = 7;

// The kind of device a rank computes on (file: device.kind "cpu" | "gpu"; absent: unknown).
enum class DeviceKind : std::uint8_t { Unknown, Cpu, Gpu };
const char* to_string(DeviceKind k);  // "unknown", "cpu", "gpu"
// From a backend description as the worker names it: "cuda:0 (NVIDIA H200)" is a GPU, "cpu
// (OpenBLAS, 1 thread)" a CPU. Throws HardwareError naming the text for anything else.
DeviceKind device_kind_from_backend(const std::string& backend);

// Whether the figures of a hardware file were measured (file: measured true | false; absent:
// unknown, except a `calibrate` output, which is measured by construction).
enum class Provenance : std::uint8_t { Unknown, Measured, NotMeasured };

// How a non-blocking collective progresses while the rank computes (file: overlap.mode).
//   Progress  a progress engine on the host (MPI): `overlap.fraction` of it moves while the rank
//             computes, the rest at the wait. The default for CPUs and for GPUs on comm "mpi".
//   Streams   a communication stream of its own beside the compute stream (NCCL on a GPU): the
//             collective runs wholly concurrently with the kernels; only `overlap.contention`
//             slows the compute. The default for a GPU whose collectives run on NCCL.
enum class OverlapMode : std::uint8_t { Progress, Streams };
const char* to_string(OverlapMode m);  // "progress", "streams"

// The simulator's measured error on this hardware (file: "validation", written by `simulate
// --validate ... --store-band`; docs/SIMULATOR.md, "Validation"): mean |relative error| of the
// predicted step time over the points of a validation that are not oversubscribed, overall and
// per layout class, with what it was measured on. Each point's error is the larger of the two
// engines' (analytic, replay). Absent: no validation backs the file (present = false).
struct ValidationClassError {
    std::string layout_class;  // "single" (dp1 tp1 pp1), "dp", "tp", "pp", "mixed" (more than one > 1)
    int points = 0;
    double mean_abs_err = 0;   // relative (0.05 = 5 %)
    double max_abs_err = 0;
    bool operator==(const ValidationClassError&) const = default;
};
struct HardwareValidation {
    bool present = false;
    int points = 0;                 // predicted points, not oversubscribed
    double mean_abs_err = 0;        // over those points
    double max_abs_err = 0;
    std::vector<ValidationClassError> classes;  // in the order single, dp, tp, pp, mixed
    int points_oversubscribed = 0;  // reported apart, never in the band
    double mean_abs_err_oversubscribed = 0;
    std::string statistic;          // how repeats were summarised: "median" | "best"
    std::string compute_rates;      // where the compute rates came from ("fitted on run 1 ...")
    std::string date, host;         // when (ISO 8601 UTC) and where the validation ran
    std::string study;              // the recorded study file it was validated on
    bool operator==(const HardwareValidation&) const = default;
};

// ---- Calibrated compute classes (docs/SIMULATOR.md, "Calibration of compute"; file: compute_classes) ----
// What `scalescope-cli calibrate` measured of each class of work on one rank, so that a spec never
// run before is timed from the hardware file alone (core/sim/calibrate.h rates_from_calibration).
struct MatmulPoint {  // the model's linear kernel, forward + backward: 6·rows·inner·cols FLOPs
    double rows = 0, inner = 0, cols = 0;  // M (samples or tokens), K (input width), N (output width)
    double flop_per_s = 0;                 // the best of the repeats (`calibrate` keeps median and min beside it)
    bool operator==(const MatmulPoint&) const = default;
};
struct BytesRate {  // a memory-bound class at one working set
    double bytes = 0;         // bytes one call moves (reads + writes)
    double bytes_per_s = 0;   // the best of the repeats
    bool operator==(const BytesRate&) const = default;
};
// The calibrated classes in the trainer's context (file: compute_classes.context[]): `calibrate --spec`
// runs each spec's model on one rank at calibration time and compares the parts of its measured step
// with what the classes alone predict for it (core/sim/calibrate.h context_from_run). Kernels inside
// a training step run slower than the same kernels timed back to back on warm buffers (their operands
// come from the kernels before them); the factors carry that over to every spec of the same model kind.
struct ComputeContext {
    std::string model;            // model kind the run trained: "gpt" | "mlp"
    std::string key;              // its model, global batch and layout (the validation's point key)
    double params = 0;            // its parameters
    double compute_factor = 1;    // measured ÷ predicted compute (kernels outside the optimizer)
    double optimizer_factor = 1;  // measured ÷ predicted optimizer
    double data_s_per_sample = 0; // measured data loading per sample (s)
    double step_overhead_s = 0;   // measured host work per step outside kernels, data and optimizer (s)
    std::string run;              // "run 1 (name) of FILE": where it was measured
    bool operator==(const ComputeContext&) const = default;
};
nlohmann::json context_json(const ComputeContext& c);  // one entry of compute_classes.context
struct KindPoint {  // one of the trainer's kernel kinds at one shape (core/sim/calibrate.h kind_shapes)
    std::string kind;          // attention, layernorm, gelu, relu, residual, bias, classifier
    std::vector<double> dims;  // its shape (attention: B, T, C, NH; layernorm and bias: N, C; ...)
    double seconds = 0;        // one forward + backward of it, the best repeat
    bool operator==(const KindPoint&) const = default;
};
struct CalibratedCompute {
    std::vector<MatmulPoint> matmul;      // file: compute_classes.matmul.points
    std::vector<BytesRate> elementwise;   // layer norm + residual + GELU by bytes (compute_classes.elementwise.points)
    std::vector<BytesRate> optimizer;     // AdamW + the gradient norm by bytes (compute_classes.optimizer.points)
    double kernel_overhead_s = 0;         // fixed cost of one kernel call (compute_classes.kernel_overhead_s)
    std::vector<KindPoint> kinds;         // optional: the trainer's kernels per kind (compute_classes.kinds.points)
    std::vector<ComputeContext> context;  // optional: the classes in the trainer's context (compute_classes.context)
    bool present() const { return !matmul.empty() && !elementwise.empty() && !optimizer.empty(); }
    bool operator==(const CalibratedCompute&) const = default;
};

// Quality of a collective's α-β fit (file: collectives.<c>.{fit_rel_rms, fit_r2, samples, dropped, fit_method}).
struct FitQuality {
    double rel_rms = 0;   // root-mean-square relative error over the points kept
    double r2 = 0;        // coefficient of determination of the times over the points kept
    int samples = 0;      // points fitted (repeats count one each)
    int dropped = 0;      // outliers left out (core/sim/calibrate.h fit_alpha_beta)
    std::string method;   // "huber-irls", "weighted-least-squares" (older files), ...
};

struct Hardware {
    std::string name;                 // "this machine (calibrated 2 ranks on host)", "DGX H100", ...
    std::vector<std::string> sources;  // where the figures come from (citations, calibration)
    double flop_per_s = 0;            // matrix-product FLOP/s of one device the simulator times products at
                                      // (sgemm / tensor core; file compute.sgemm_flops)
    double peak_flop_per_s = 0;       // the MFU peak of one device: the best rate of a large square sgemm
                                      // (file compute.peak_flops, `calibrate` measures it); 0 = not stated
    double mem_bw_bytes_per_s = 0;    // memory bandwidth of one device (bytes/s)
    double memory_bytes = 0;          // memory capacity of one device (bytes); 0 = unknown
    double kernel_overhead_s = 0;     // fixed cost per kernel launch / call (s)
    int devices_per_node = 1;         // ranks (devices) per node; ranks fill nodes in order
    int cores_per_node = 0;           // CPU cores per node; > 0: ranks beyond it share cores
    CollAlgo algorithm = CollAlgo::Ring;
    LinkCost intra;  // link between devices of one node
    LinkCost inter;  // link between nodes
    // Per-collective intra-node α/β from a calibration (the `calibrate` fit of that collective);
    // a slot with both zero falls back to `intra`.
    std::array<LinkCost, kFitSlots> intra_fit{};
    // Per-collective inter-node α/β from a calibration across hosts (file: inter_collectives, the
    // fit of one rank per host; `calibrate --hostfile`); a slot with both zero falls back to `inter`.
    std::array<LinkCost, kFitSlots> inter_fit{};
    bool calibrated = false;  // figures measured on this machine (a `calibrate` file)
    // Fraction of a non-blocking collective that progresses while the rank computes (file:
    // overlap.fraction, `calibrate` measures it the way OSU's osu_iallreduce does). 1: a progress
    // engine of its own (NCCL's stream, an MPI progress thread; absent = 1); near 0: MPI without a
    // progress thread, where a transfer moves only inside MPI calls.
    double overlap = 1;
    // Matrix products with few rows (samples or tokens per micro-batch) run slower: rate(M) ∝
    // M / (M + mm_half_rows) (file: compute.linear_rows.half_rows, `calibrate` fits it on the
    // model's linear kernel). 0: no dependence on rows. flop_per_s is the rate at 512 rows.
    double mm_half_rows = 0;
    std::vector<std::string> warnings;  // what `calibrate` found suspect (file: warnings)

    // The device and the transport (issue 14: GPU calibrations and presets).
    DeviceKind device = DeviceKind::Unknown;  // file: device.kind
    std::string device_name;                  // file: device.name: "cuda:0 (NVIDIA H200)", "NVIDIA H100 SXM5 80 GB"
    int sms = 0;  // file: device.sms, a GPU's streaming multiprocessors (datasheet); 0 = not stated
    std::string comm;                         // file: comm, the transport of the collectives: "nccl", "mpi", "" = not stated
    std::array<std::string, kFitSlots> fit_transport{};  // file: collectives.<c>.transport ("" = not stated)
    Provenance provenance = Provenance::Unknown;  // file: measured
    std::string source;       // file: source, one line: "vendor datasheet: ...", "scalescope-cli calibrate"
    std::string measured_host, measured_date;  // file: measured_on.host, measured_on.date (ISO 8601 UTC)
    // How communication overlaps computation (above). Streams implies overlap = 1.
    OverlapMode overlap_mode = OverlapMode::Progress;
    // With comm running beside compute, the compute stream loses `overlap_contention` seconds per
    // second of communication that runs while the rank computes (SMs and memory bandwidth taken by
    // the communication kernels; file: overlap.contention, 0..1, absent = 0: the overlap is free).
    // The simulator charges it on the DP gradient buckets (docs/SIMULATOR.md, "GPUs").
    double overlap_contention = 0;
    HardwareValidation validation;  // file: validation (above)

    // ---- Calibration quality and calibrated compute (helper "calib"; core/sim/calibrate.h) ----
    std::array<FitQuality, kFitSlots> fit_quality{};  // per collective slot, as intra_fit
    std::array<FitQuality, kFitSlots> inter_fit_quality{};  // the same for inter_fit
    std::array<std::string, kFitSlots> inter_fit_transport{};  // inter_collectives.<c>.transport
    CalibratedCompute classes;                         // empty unless `calibrate` measured them
    // ---- Per-precision peaks (issue 17: mixed precision) ----
    // Dense 16-bit tensor-core FLOP/s of one device (file: compute.peak_flops_bf16,
    // compute.peak_flops_fp16; datasheet figures without sparsity); 0 = not stated. A bf16/fp16
    // spec needs the one of its precision (matmul_flop_per_s_at).
    double peak_flops_bf16 = 0;
    double peak_flops_fp16 = 0;
};

// ---- Per-precision rates (issue 17) ----
// The stated 16-bit peak of `precision` ("bf16" | "fp16"; 0 when the file does not state it or
// for "fp32") and the name of its file field ("compute.peak_flops_bf16").
double peak_flops_16bit(const Hardware& hw, const std::string& precision);
std::string peak_field_16bit(const std::string& precision);
// The factor 16-bit matrix products run faster than the fp32 ones the simulator times at
// (flop_per_s): peak_flops_<precision> ÷ mfu_peak_flop_per_s(hw), i.e. 16-bit products reach the
// same fraction of their peak as fp32 products of theirs. 1 for "fp32"; 0 when the peak is not stated.
double precision_speedup(const Hardware& hw, const std::string& precision);

// The peak an MFU on this hardware is measured against: peak_flop_per_s where the file states it,
// else the fastest rate the simulator's own matrix model reaches (flop_per_s × (1 + mm_half_rows /
// 512), the rows model's limit; flop_per_s when the rate does not depend on rows).
double mfu_peak_flop_per_s(const Hardware& hw);
// The same for a spec of `precision`: the 16-bit peak for "bf16" / "fp16" (0 when not stated).
double mfu_peak_flop_per_s(const Hardware& hw, const std::string& precision);

// "measured", "datasheet" (not measured, its source names a datasheet), "not measured", or
// "measured: unknown" (the file does not say): what the What-if page shows beside a preset.
std::string provenance_label(const Hardware& hw);

// Whether the file measured the links between nodes apart from those inside one (inter_fit: a
// calibration across hosts), and one line saying both levels: "2 ranks per node; inside a node
// 20.0 µs, 2.25 GB/s; between nodes 21.6 µs, 2.13 GB/s (all-reduce)". "" without inter fits.
bool has_inter_fit(const Hardware& hw);
std::string levels_label(const Hardware& hw);

// A hardware file's dates (measured_on.date, validation.date): "2026-12-01T00:15:52Z" for `t`
// (seconds since the epoch, UTC); "" when the time cannot be converted.
std::string iso8601_utc(std::time_t t);

// Reads a hardware document. `origin` (file name) prefixes every error. Throws HardwareError
// listing every missing or invalid field.
Hardware parse_hardware(const nlohmann::json& doc, const std::string& origin);
// A .json hardware file, or a trace file (.sqlite) whose newest `calibrations` row is taken.
Hardware load_hardware(const std::string& path);
// The document parse_hardware reads back (format "scalescope-hardware", version 1, with topology).
nlohmann::json to_json(const Hardware& hw);
// The "validation" block alone (HardwareValidation).
nlohmann::json to_json(const HardwareValidation& v);

// Knobs that scale a hardware description (what-if): compute ×k, bandwidth ×k, latency ×k.
struct HardwareScale {
    double compute = 1;    // FLOP/s and memory bandwidth ×k (kernels k× faster)
    double bandwidth = 1;  // link bandwidth ×k (β / k)
    double latency = 1;    // link latency ×k (α · k)
};
Hardware scaled(const Hardware& hw, const HardwareScale& k);  // throws for non-positive factors

// Where a group of p ranks with stride `stride` (in world ranks, first member `first`) sits:
// how many nodes it spans and the most members on one node.
struct GroupPlacement {
    int p = 1;
    int nodes = 1;
    int per_node = 1;
};
GroupPlacement place_group(const Hardware& hw, int p, int stride, int first = 0);

// Seconds for one collective of `bytes` (whole buffer, see above) on a group placed as `g`.
// Barrier and None cost 0 bytes of transfer. Send and Recv are the one-way message time.
// `nonblocking`: the call is started and waited for later (MPI_Iallreduce, MPI_Ireduce_scatter):
// on one node the calibrated fit of the non-blocking variant is used when the file has one (MPI
// runs those through another implementation, measured 2-3x slower on shared memory), else the
// blocking one.
// Across nodes the two levels stay apart: a group with one member per node runs on the inter-node
// link (the calibrated inter_fit of that collective, else `inter`); "hierarchical" is the intra
// reduce-scatter (intra_fit) + the inter collective of n/k (inter_fit) + the intra all-gather; a flat
// ring with several members per node waits at every step on the slower of the two links (each
// level's fit of that collective, α and β the larger of the two).
double collective_time(const Hardware& hw, traces::Collective c, const GroupPlacement& g,
                       double bytes, bool nonblocking = false);

}  // namespace ss::core

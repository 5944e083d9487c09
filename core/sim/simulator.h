// The what-if simulator, analytic engine (docs/SIMULATOR.md): from an experiment spec and a
// hardware description, the step time of every rank and its breakdown (the parts of
// core/analysis.h), throughput, MFU, memory per rank and whether it fits, and curves over p.
// Plain C++20, no Qt; results are copyable value structs.
//
//   Hardware hw = load_hardware("examples/hardware/dgx-h100.json");
//   SimResult r = simulate_analytic(spec, hw);          // r.step_s, r.breakdown, r.memory.fits
//
// The event-replay engine (core/sim_replay.h) runs the same workload as a per-rank op graph.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/sim/gpu_gemm.h"
#include "core/sim/hardware.h"
#include "core/spec/spec.h"

namespace ss::core {

// A spec or option the simulator cannot use; the message names the field and value.
class SimError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Effective speed of each class of work on one rank (one device). From the hardware peaks
// (rates_from_hardware) or fitted on a recorded run (core/sim_calibrate.h).
struct ComputeRates {
    double matmul_flop_per_s = 0;      // matrix products and attention (FLOP/s)
    double memory_bytes_per_s = 0;     // element-wise kernels: layer norm, GELU, residual, ... (B/s)
    double optimizer_bytes_per_s = 0;  // AdamW and the gradient-norm sum (B/s)
    double kernel_overhead_s = 0;      // fixed cost per kernel (s)
    double data_s_per_sample = 0;      // data loading per sample on the first/last stage (s)
    double step_overhead_s = 0;        // fixed host work per step (s)
    // Rows (samples or tokens per micro-batch) of the matrix products matmul_flop_per_s was
    // measured at; other row counts scale by Hardware::mm_half_rows. 0: the hardware's 512.
    double matmul_rows = 0;
    std::string source;                // "hardware peaks", "fitted on run 1 of study.sqlite", ...
};
ComputeRates rates_from_hardware(const Hardware& hw);

// One layer of the model on one rank, per micro-batch (tp split applied).
struct LayerWork {
    std::string name;                      // "embedding", "block 3", "linear 1", "head"
    double fwd_flops = 0, bwd_flops = 0;   // matrix products and attention (FLOP)
    double mm_bytes = 0;                   // operand traffic of the matrix products, forward (B)
    double fwd_bytes = 0, bwd_bytes = 0;   // element-wise traffic (B)
    int fwd_kernels = 0, bwd_kernels = 0;  // kernels (calls) per micro-batch
    double params = 0;                     // parameters held by this rank
    double flat_elems = 0;                 // its share of the trainer's flat parameter buffer: every
                                           // tensor padded (models/plan/buckets.h padded_elems)
    int tp_fwd_ar = 0, tp_bwd_ar = 0;      // tensor-parallel all-reduces (Megatron g / f)
    double tp_fwd_bytes = 0, tp_bwd_bytes = 0;  // bytes of each of them
    double act_bytes = 0;                  // activations kept for backward (B)
    double rows = 0;                       // rows of its matrix products: samples or tokens per micro-batch
    // Activation recomputation (training.recompute): work its backward does again, on top of
    // bwd_flops / bwd_bytes / bwd_kernels ("full": the layer's forward; "selective": the attention
    // scores); the tp all-reduces of a recomputed forward are in tp_bwd_ar.
    double rc_flops = 0, rc_mm_bytes = 0, rc_bytes = 0;
    int rc_kernels = 0;
    double act_work_bytes = 0;  // full recompute: the activations rebuilt for its backward (B), one layer at a time
    // Sequence parallelism: each tp all-reduce above is a reduce-scatter + an all-gather of the same bytes.
    bool tp_rs_ag = false;
    // GPU GEMM shapes (gpu_gemm.h; GPT blocks on backend.device "cuda"): with a hardware SM count
    // (device.sms) the products are timed one by one (tile/wave quantization, per-product roofline).
    GemmBlock gemm;
};

struct StageWork {
    int stage = 0;
    std::vector<LayerWork> layers;  // forward order
    double params = 0;              // parameters on one rank of this stage
    double flat_elems = 0;          // the stage's flat parameter buffer (padded), what buckets cut
    double in_bytes = 0;            // activation received per micro-batch (0 on stage 0)
    double out_bytes = 0;           // activation sent per micro-batch (0 on the last stage)
    bool loads_data = false;        // first or last stage
    // Model chunk c (interleaved 1F1B, virtual stage c·pp + stage) holds layers
    // [chunk_begin[c], chunk_begin[c + 1]); one chunk {0, layers.size()} without interleaving.
    std::vector<std::size_t> chunk_begin;
};

// Activation recomputation (training.recompute).
enum class Recompute : std::uint8_t { None, Selective, Full };

// The workload of one step, derived from the spec (model sizes, layout, batch).
struct Workload {
    int dp = 1, tp = 1, pp = 1, micro_batches = 1, micro_batch = 1;  // micro_batch: samples
    bool gpipe = false;
    int zero = 0;
    bool overlap = true;
    std::size_t bucket_elems = 1048576;  // float32 elements per DP bucket (models/plan/buckets.h; 0 = one bucket)
    int blas_threads = 1;
    std::vector<StageWork> stages;
    double model_params = 0;          // N, whole model
    double samples_per_step = 0;      // global batch
    double tokens_per_step = 0;       // samples × seq_len (gpt), else samples
    double model_flops_per_step = 0;  // matrix-product FLOPs of the step, without recomputation (models/plan/flops.h)
    // Large-model features (issue 17; docs/SIMULATOR.md "Large models").
    std::string precision = "fp32";  // training.precision: the matrix-product rate and MFU peak
    // Bytes per value: activations, element-wise traffic and TP/PP messages (value_bytes); per
    // parameter held: weights, gradients (also the DP reduction's bytes per element), optimizer
    // state (Adam m, v, and the fp32 master weights in mixed precision), and the optimizer's
    // traffic per updated parameter. fp32: 4, 4, 4, 8, 32; bf16/fp16 (Megatron / ZeRO mixed
    // precision): 2, 2, 2, 12, 30.
    double value_bytes = 4, weight_bytes = 4, grad_bytes = 4, optimizer_bytes = 8, optimizer_traffic = 32;
    Recompute recompute = Recompute::None;
    int virtual_stages = 1;          // interleaved 1F1B model chunks per stage
    bool sequence_parallel = false;
    double chunk_out_bytes = 0;      // interleaved: activation between consecutive model chunks per micro-batch
    // Pipeline messages on GPUs (backend.device "cuda"): Megatron-LM's 1F1B exchanges each
    // micro-batch's activation and gradient with blocking batched send/recv (p2p_communication.py),
    // so every transfer is on both stages' critical path, not only the first micro-batch's.
    bool p2p_sync = false;
    // Megatron's scatter-gather optimisation (Narayanan et al. 2021 sec. 4.1; parallel.vocab_parallel
    // layout, tp > 1, no sequence parallelism): each tp rank sends 1/tp of the activation between
    // stages, the receiving stage all-gathers it over its tp group (NVLink).
    bool p2p_scatter_gather = false;
    // The FLOPs the kernels perform: model FLOPs + the recomputed forward work (= model without recompute).
    double hardware_flops_per_step = 0;
    // Parameter server (issue 18; docs/SIMULATOR.md "Parameter server and staleness"):
    // parallel.dp_sync = "parameter_server" with `servers` server ranks after the workers (world
    // ranks workers() .. workers() + servers - 1); staleness 0 = BSP, s > 0 = SSP, kAsync = async.
    bool ps = false;
    int servers = 0;
    int staleness = 0;
    // The straggler (training.slow_rank): worker rank slow_rank does slow_factor × its compute
    // (kernels and optimizer; data loading and communication unchanged). -1: none.
    int slow_rank = -1;
    double slow_factor = 1;
    int steps = 1;  // training.steps: the run a staleness figure is averaged over
    int world() const { return dp * tp * pp; }  // the worker ranks (what computes)
    int ranks() const { return world() + (ps ? servers : 0); }  // every rank launched, servers included
};
// Throws SimError naming the field for a spec the simulator cannot model (validate() errors,
// files unchecked).
Workload build_workload(const ExperimentSpec& spec);

// Memory of one rank (bytes), for the stage that needs the most.
struct MemoryEstimate {
    int stage = 0;
    double params = 0, grads = 0, optimizer = 0, activations = 0, buffers = 0;
    double total = 0;
    double capacity = 0;  // the device's memory (0 = unknown)
    bool fits = true;     // total <= capacity (true when unknown)
};

struct SimOptions {
    std::optional<ComputeRates> rates;  // default: rates_from_hardware
    // Ranks sharing cores (docs/SIMULATOR.md "Oversubscription"): when a node holds more
    // rank-threads than cores, compute and communication stretch by (rank threads ÷ cores).
    bool model_oversubscription = true;
    // Other runnable threads on every node (other users' work on a shared machine); they take
    // their share of the cores like ranks do. 0 on a dedicated machine.
    double background_threads = 0;
};

// The parameter server's part of a prediction (docs/SIMULATOR.md "Parameter server and
// staleness"). Times in seconds, bytes in bytes. A "replica" is one dp index (its tp·pp worker
// ranks); with tp = pp = 1 a replica is one worker rank.
struct PsPrediction {
    bool enabled = false;
    int servers = 0;
    int staleness = 0;          // 0 BSP, s SSP, ParallelSpec::kAsync
    std::string mode;           // "bsp", "ssp(2)", "async"
    // One replica's gradient push to one server (its tp·pp ranks' messages, on the server's
    // link), the parameters pulled back, and one server's optimizer update of its shard: the mean
    // over replicas and servers.
    double push_s = 0, pull_s = 0, apply_s = 0;
    // Per server, per global step (one gradient from every replica): bytes received (pushes) and
    // sent (pulls), and the utilisation of its busiest resource (in-link, optimizer, out-link), 0..1.
    std::vector<double> server_in_bytes, server_out_bytes, server_utilisation;
    // Per replica (dp index), steady state: mean time per step of its own, idle per step (waiting
    // for the others, the staleness bound or a busy server), and the expected staleness of its
    // gradients (updates other replicas applied between its pull and the apply of its push).
    std::vector<double> replica_step_s, replica_wait_s, replica_staleness;
    // Staleness as the runtime records it (metric ps_staleness): t − v for the gradient of step
    // t, v the servers' step version it was computed on (the fewest pushes applied from any
    // replica); per replica the mean over the spec's training.steps, and over every replica's
    // steps; the largest.
    double staleness_mean = 0, staleness_max = 0;
    double gradients_per_s = 0;  // gradients applied per second, all replicas (BSP: dp / step)
    // The job's time per step when every replica runs the same number of steps: the slowest
    // replica's step time (SimResult::step_s is the time per global batch: dp / gradients_per_s).
    double job_step_s = 0;
};

struct SimResult {
    int world = 1;
    double step_s = 0;              // predicted step time (s)
    Breakdown breakdown;            // mean over ranks, ns (core/analysis.h parts)
    std::vector<double> stage_busy_s;  // per stage: its own work per step (s)
    double samples_per_s = 0, tokens_per_s = 0;
    double model_flops_per_step = 0;     // useful work: the model's FLOPs without recomputation
    double hardware_flops_per_step = 0;  // what the kernels perform: with recomputation
    double mfu = 0;                 // model FLOP/s ÷ (mfu_peak_flop_per_s(hw, precision) × world), in [0, 1]; 0 unknown
    double hfu = 0;                 // the same with the hardware FLOPs (= mfu without recomputation)
    std::string mfu_note;           // why mfu is 0 (models::mfu_problem_text), empty when known
    MemoryEstimate memory;
    double contention = 1;          // oversubscription stretch factor (1 = none)
    bool oversubscribed = false;
    std::vector<std::string> notes;
    PsPrediction ps;                // parameter server and staleness (ps.enabled with dp_sync = parameter_server)
};

// The analytic engine: closed forms over the workload (≥ 100,000 configurations/s).
SimResult simulate_analytic(const ExperimentSpec& spec, const Hardware& hw, const SimOptions& opt = {});
SimResult simulate_analytic(const Workload& w, const Hardware& hw, const SimOptions& opt = {});

// Compute seconds of one layer per micro-batch (tp all-reduces excluded): matrix products at
// R.matmul_flop_per_s (with hardware peaks also bounded by operand traffic at the memory
// bandwidth: the roofline), element-wise traffic at R.memory_bytes_per_s, plus per-kernel overhead.
// Matrix products of L.rows rows take (1 + h/L.rows) ÷ (1 + h/R.matmul_rows) times as long as at
// the rows the rate was measured at (h = hw.mm_half_rows): matmul_row_factor.
struct LayerTime {
    double fwd_s = 0, bwd_s = 0;
};
LayerTime layer_time(const LayerWork& L, const ComputeRates& R, const Hardware& hw, bool roofline_mm);
// Optimizer seconds of a rank holding `params` parameters of which it updates params/shards,
// over `layers` layers, moving `bytes_per_param` per updated parameter (Workload::optimizer_traffic;
// fp32 AdamW: 7 floats moved per parameter, the norm's sum 1 more).
double optimizer_time(double params, int shards, int layers, const ComputeRates& R, double bytes_per_param = 32);
// The rates of a workload's precision: matrix products ×precision_speedup(hw, w.precision)
// (hardware.h). Throws SimError naming compute.peak_flops_<precision> when the hardware does not state it.
ComputeRates rates_at_precision(ComputeRates R, const Hardware& hw, const Workload& w);
// Seconds of one tensor-parallel all-reduce of `bytes` on `g`, or with sequence parallelism
// (L.tp_rs_ag) a reduce-scatter + all-gather of the same bytes.
double tp_collective_time(const Hardware& hw, const GroupPlacement& g, double bytes, bool rs_ag);
// Seconds of one pipeline message of `bytes` between neighbouring stages (g_pp), with
// w.p2p_scatter_gather a send of bytes/tp plus an all-gather of `bytes` on the tp group (g_tp).
double p2p_time(const Workload& w, const Hardware& hw, const GroupPlacement& g_pp, const GroupPlacement& g_tp,
                double bytes);

// Interleaved 1F1B (Megatron-LM forward_backward_pipelining_with_interleaving, Narayanan et al.
// 2021) on `stage` of `stages` with `chunks` model chunks per stage and `micro_batches` per
// chunk: the order of its (forward | backward, micro-batch, chunk) actions. With chunks = 1 it is
// the plain 1F1B of models::pipeline_schedule. Warm-up: 2·(p − s − 1) + (v − 1)·p forwards (all of
// them when m = p), then one forward one backward, then the cool-down.
struct ChunkAction {
    bool forward = true;
    int micro_batch = 0;
    int chunk = 0;
};
std::vector<ChunkAction> interleaved_schedule(int stages, int stage, int micro_batches, int chunks);
double matmul_row_factor(double rows, const ComputeRates& R, const Hardware& hw);

// Memory per rank (bytes) of the workload; capacity from hw.
MemoryEstimate estimate_memory(const Workload& w, const Hardware& hw);
// The verdict in one line, as the CLI and the What-if page show it: "fits: 41.3 of 80.0 GB per
// rank (52 %)", "does not fit: 93.1 GB per rank > 80.0 GB of the device (stage 0: weights 12.0,
// gradients 12.0, optimizer 48.0, activations 20.1, buffers 1.0 GB)", or "41.3 GB per rank (the
// device's memory is not stated)". GB = 10^9 bytes.
std::string memory_verdict(const MemoryEstimate& m);
// Fills model/hardware FLOPs, MFU, HFU and the MFU note of `res` from its step_s (both engines).
void set_utilisation(SimResult& res, const Workload& w, const Hardware& hw);

// Oversubscription stretch factor: max(1, (rank threads per node + background) ÷ cores per node).
double contention_factor(const Workload& w, const Hardware& hw, double background_threads = 0);

// ---- Formulas, exposed for tests (DESIGN.md "Formulas") ----
// Pipeline bubble fraction (GPipe and 1F1B): (p−1)/(m+p−1); interleaved with v chunks per
// stage (Narayanan et al. 2021): bubble time (p−1)/v of a micro-batch's forward+backward against
// m of them, i.e. ((p−1)/v) / (m + (p−1)/v).
double bubble_fraction(int stages, int micro_batches, int virtual_stages = 1);
// Megatron TP bytes per transformer layer per micro-batch, all four all-reduces together
// (2 forward, 2 backward, each b·s·h float32 values): 4·b·s·h·4 bytes.
double megatron_tp_bytes_per_layer(int b, int s, int h);
// Exposed time of bucketed DP reductions overlapped with a backward of `backward_s`: nb buckets
// of `bucket_s` each, ready evenly through backward, reduced one after the other. (The closed form
// for equal layers; simulate_analytic releases each bucket where the layers end, as the replay.) Only the
// fraction `progress` (Hardware::overlap) of each reduction moves while the rank computes; the
// rest is paid when the rank waits for it: exposed = perfect(progress·c) + nb·(1 − progress)·c.
// `contention` (Hardware::overlap_contention, κ): the backward loses κ × the time the reductions
// overlap it, so with progress 1 exposed = max(e_last − B, κ·Σ_i |[s_i, e_i] ∩ [0, B]|), the
// reductions' tail or the compute they took, whichever is longer (docs/SIMULATOR.md, "GPUs").
double dp_exposed_s(double backward_s, int buckets, double bucket_s, bool overlap, double progress = 1,
                    double contention = 0);

// ---- Parameter server (docs/SIMULATOR.md "Parameter server and staleness") ----
// The straggler of a workload (training.slow_rank): its stage and replica (dp index); -1 when
// none (or factor 1).
struct Straggler {
    int rank = -1, stage = -1, replica = -1;
    double factor = 1;
};
Straggler straggler_of(const Workload& w);
// What the parameter server's transfers and updates cost, per replica d and server s (index
// d·servers + s), in seconds: replica d's pushes to s (its tp·pp ranks' shards, G_r / S bytes each
// at the gradients' precision, one after the other on s's link: send/recv α-β of the intra- or
// inter-node link between the two ranks' nodes) and the pulls back (weights' precision); one
// server's optimizer update of its shard (1/S of a replica's parameters, AdamW traffic); bytes per
// server per global step. Times × `contention` (oversubscription).
struct PsCosts {
    int dp = 1, servers = 1;
    std::vector<double> push, pull;   // (dp × servers)
    double apply_s = 0;
    std::vector<double> in_bytes, out_bytes;  // (servers)
    double push_of(int d, int s) const { return push[static_cast<std::size_t>(d * servers + s)]; }
    double pull_of(int d, int s) const { return pull[static_cast<std::size_t>(d * servers + s)]; }
};
PsCosts ps_costs(const Workload& w, const Hardware& hw, const ComputeRates& R, double contention = 1);
// What both parameter-server engines start from: `p` gets enabled, servers, staleness, mode,
// apply_s and the replicas' mean push_s and pull_s; returned, each replica's own cycle τ_d =
// replica_compute[d] + its slowest push + the update + its slowest pull.
std::vector<double> ps_cycles(const Workload& w, const PsCosts& pc, const std::vector<double>& replica_compute,
                              PsPrediction& p);
// The analytic steady state of the parameter server (the formulas of docs/SIMULATOR.md) for
// replicas computing `replica_compute` seconds per step (pipeline, data, tp included).
PsPrediction ps_steady_state(const Workload& w, const Hardware& hw, const ComputeRates& R,
                             const std::vector<double>& replica_compute, double contention = 1);
std::string ps_mode(int staleness);  // "bsp", "ssp(2)", "async"
// BSP steady state on one server: replicas in push order k = 0..n-1 (their compute C_k ascending:
// the server's FIFO serves the first to push first, and pulls go back in that order), push time
// c_k and pull time q_k of each on the server's link, apply time A:
//   step = max_k [ q_0 + ... + q_k + C_k + c_k + ... + c_(n-1) ] + A
// (replica k starts q_0 + ... + q_k after the update, computes, and its push queues behind the
// pushes of the replicas before it).
double ps_bsp_step(const std::vector<double>& compute, const std::vector<double>& push,
                   const std::vector<double>& pull, double apply);
// Steady-state gradient rates of replicas with own cycles `cycle` (compute + push + apply + pull,
// uncontended) on servers whose busiest resource takes `load[d]` seconds per gradient of replica
// d: x_d = min(1/cycle_d, λ) with λ the fair share making Σ x_d·load_d = 1 when the own rates
// would overload it (water-filling); the own rates otherwise.
std::vector<double> ps_async_rates(const std::vector<double>& cycle, const std::vector<double>& load);

// ---- Curves over p ----
struct CurvePoint {
    int p = 1;
    std::string value;  // the swept value ("dp=4")
    SimResult result;
    double speedup = 1, efficiency = 1;  // against the first point (S = T1·p1/Tp… see below)
};
// Sweeps `axis` ("dp", "tp", "pp", "micro_batches") over `values`; strong scaling keeps the global
// batch, weak keeps the per-rank batch. Speedup S = throughput(p) ÷ throughput(first point)
// (= T(1)/T(p) for strong scaling), efficiency S ÷ (p / p_first). Throws SimError for an invalid point.
std::vector<CurvePoint> scaling_curve(const ExperimentSpec& spec, const Hardware& hw,
                                      const std::string& axis, const std::vector<int>& values,
                                      bool weak, const SimOptions& opt = {});

}  // namespace ss::core

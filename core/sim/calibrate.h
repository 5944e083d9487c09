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
    double rel_rms = 0;          // root-mean-square relative error of the fit over its samples
    int samples = 0;
    bool alpha_clamped = false;  // the unconstrained fit gave alpha < 0: refitted with alpha = 0
};

// Least-squares fit of T = a*alpha + b*n*beta over the samples of one collective (any mix of group
// sizes), weighted by 1/T^2 so that every size counts by its relative error (small messages fix
// alpha, large ones beta). alpha and beta are kept >= 0. Throws std::invalid_argument with fewer
// than 2 samples or fewer than 2 distinct sizes, or a non-positive time.
AlphaBeta fit_alpha_beta(const std::string& collective, const std::vector<CollectiveSample>& samples);

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
// Throws std::invalid_argument when `raw` lacks a field it needs or names an unknown device or
// transport.
nlohmann::json hardware_file(const nlohmann::json& raw, bool oversubscribed);

}  // namespace ss::core

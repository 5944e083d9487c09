// A run with a parameter server (issue 18; docs/ANALYSIS.md "Parameter server"): which ranks are
// servers, and what the servers and the workers did: bytes in and out per server, queueing, the
// optimizer applies, each worker's push/pull traffic and its waiting, the staleness observed.
// Plain C++ values; analyze_run fills RunAnalysis::ps. No Qt.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "traces/types.h"

namespace ss::core {

// Which ranks are servers. The contract: spec parallel.dp_sync = "parameter_server" with
// parallel.servers = S puts the servers on the LAST S world ranks (workers() .. world() − 1);
// a file without that spec but whose ranks rows carry dp = tp = pp coordinate −1 has those ranks
// as its servers.
struct PsLayout {
    int servers = 0;       // 0: no parameter server (an all-reduce run)
    int first_server = 0;  // world rank of server 0 (= the number of workers)
    int staleness = 0;     // 0 BSP, s > 0 SSP bound, kAsyncStaleness = no bound
    static constexpr int kAsyncStaleness = -1;
    bool present() const { return servers > 0; }
    bool is_server(std::int32_t rank) const {
        return present() && rank >= first_server && rank < first_server + servers;
    }
    int server_index(std::int32_t rank) const { return is_server(rank) ? rank - first_server : -1; }
    int workers() const { return first_server; }
    friend bool operator==(const PsLayout&, const PsLayout&) = default;
};
PsLayout ps_layout(const traces::RunInfo& run, const std::vector<traces::RankInfo>& ranks = {});
inline bool is_server_rank(const PsLayout& l, std::int32_t rank) { return l.is_server(rank); }
// "BSP", "SSP (s = 2)", "async".
std::string staleness_name(int staleness);
// "server 0 (rank 4)".
std::string server_label(const PsLayout& l, std::int32_t rank);

// One server over the measured period (the measured steps' windows, earliest start to latest
// end). "Per step" = the period's total ÷ measured steps.
struct ServerLoad {
    std::int32_t rank = 0;
    int server = 0;                 // index 0 .. servers − 1
    std::int64_t pushes = 0;        // ps_recv events (gradient pushes served)
    std::int64_t sends = 0;         // ps_send events (parameter pulls served)
    std::int64_t bytes_in = 0;      // Σ ps_recv bytes
    std::int64_t bytes_out = 0;     // Σ ps_send bytes
    double bytes_in_per_step = 0, bytes_out_per_step = 0;
    double bytes_in_per_s = 0, bytes_out_per_s = 0;  // total ÷ the period
    std::int64_t queued = 0;        // ps_queue events
    double queue_mean_ns = 0;       // per push: received → applied
    double queue_p95_ns = 0;        // nearest rank
    std::int64_t queue_max_ns = 0;
    std::int64_t queue_total_ns = 0;
    double queue_per_step_ns = 0;
    std::int64_t applies = 0;       // ps_apply (optimizer updates)
    double apply_mean_ns = 0;
    double apply_per_step_ns = 0;
    double busy_share = 0;          // union of the server's recv, send, apply ÷ the period (0..1)
    friend bool operator==(const ServerLoad&, const ServerLoad&) = default;
};

// One worker, per measured step (its own measured steps: an event's `step` when set, else the
// step span it starts in).
struct WorkerPs {
    std::int32_t rank = 0;
    double pushes_per_step = 0, pulls_per_step = 0;
    double push_bytes_per_step = 0, pull_bytes_per_step = 0;
    double push_ns_per_step = 0;       // union of its ps_push spans
    double pull_ns_per_step = 0;       // union of its ps_pull spans (waiting for the version included)
    double wait_ns_per_step = 0;       // ps_wait: blocked by the staleness bound
    double pull_wait_ns_per_step = 0;  // inside ps_pull before the server began sending
    std::int64_t pulls_matched = 0;    // pulls whose server ps_send was found (the rest: wait unknown)
    std::int64_t pulls = 0;
    double staleness_max = -1;  // ps_staleness metric; < 0 without it
    double staleness_mean = -1;
    std::int64_t staleness_samples = 0;
    double total_wait_ns_per_step() const { return wait_ns_per_step + pull_wait_ns_per_step; }
    friend bool operator==(const WorkerPs&, const WorkerPs&) = default;
};

struct PsSummary {
    PsLayout layout;
    std::vector<ServerLoad> servers;  // by server index
    std::vector<WorkerPs> workers;    // workers with steps, by rank
    double period_ns = 0;             // the measured period the servers' figures cover
    std::int64_t measured_steps = 0;
    // Observed staleness over every recorded step (warm-up included: the bound holds on every
    // step), all workers; < 0 without the metric.
    double staleness_max = -1;
    double staleness_mean = -1;
    std::int64_t staleness_samples = 0;
    std::map<std::int64_t, std::int64_t> staleness_histogram;  // value -> samples
    // What the worker stored in run_summaries (ps_staleness_max/mean); < 0 when absent.
    double recorded_staleness_max = -1;
    double recorded_staleness_mean = -1;
    bool present() const { return layout.present(); }
    friend bool operator==(const PsSummary&, const PsSummary&) = default;
};

// The straggler knob (training.slow_rank): from run_summaries slow_rank / slow_factor, else the
// spec. rank −1 = none.
struct SlowRank {
    std::int32_t rank = -1;
    double factor = 1;
    bool present() const { return rank >= 0; }
    friend bool operator==(const SlowRank&, const SlowRank&) = default;
};
SlowRank slow_rank_of(const traces::RunInfo& run, const std::map<std::string, std::string>& run_summaries);

// ---- Inputs, collected by analyze_run's scan ----
enum class PsOp : int { Push, Pull, Wait, Recv, Send, Queue, Apply };
// The PS operation an event is (by the contract's names and kinds), or none.
std::optional<PsOp> ps_op(const traces::Event& e, const std::string& name);
struct PsEvent {
    std::int32_t rank = 0;
    PsOp op = PsOp::Push;
    std::int64_t start = 0, end = 0;
    std::int64_t bytes = traces::kNone, peer = traces::kNone, step = traces::kNone;
};
// The measured steps of one worker: (step number, its own span [start, end)).
struct MeasuredSpan {
    std::int64_t step = 0, start = 0, end = 0;
};
struct PsInputs {
    PsLayout layout;
    std::vector<PsEvent> events;
    std::map<std::int32_t, std::vector<MeasuredSpan>> worker_steps;  // workers with steps
    std::int64_t period_start = 0, period_end = 0;  // the measured period
    std::int64_t measured_steps = 0;
};
PsSummary ps_summary(const PsInputs& in, const std::vector<traces::Metric>& metrics,
                     const std::map<std::string, std::string>& run_summaries);

inline constexpr const char* kStalenessMetric = "ps_staleness";

}  // namespace ss::core

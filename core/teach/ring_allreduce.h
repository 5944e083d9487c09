// The numbers of the Learn page's "Ring all-reduce, step by step" explorer (docs/GUI.md "Learn
// page"): the ring algorithm as a state machine over p ranks and a buffer cut in p chunks, the
// bytes it moves, and the α-β time of ring, tree and a parameter server over message size. No Qt.
//
// The ring (Patarasuk & Yuan 2009; NCCL's ring all-reduce), ranks 0..p−1, chunk c = bytes
// [c·n/p, (c+1)·n/p) of every rank's buffer, each rank sends to rank r+1 (mod p) only:
//   reduce-scatter step k = 1..p−1: rank r sends chunk (r − k + 1) mod p to r+1, which adds it to
//     its own copy; after step k the chunk rank r just received, (r − k) mod p, holds the sum of
//     the k+1 contributions of ranks r−k … r; after p−1 steps rank r owns chunk (r+1) mod p fully
//     reduced.
//   all-gather step k = 1..p−1 (step p−1+k overall): rank r sends chunk (r − k + 2) mod p (a fully
//     reduced one) to r+1, which replaces its copy; after p−1 steps every rank holds every chunk
//     fully reduced.
// Every step moves n/p bytes on every link at once; a rank sends (and receives) 2(p−1)·n/p bytes
// in all: b(p)·n of the ring all-reduce terms of core/analysis/collective_cost.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/analysis/collective_cost.h"
#include "core/sim/hardware.h"
#include "traces/reader.h"

namespace ss::core::teach {

inline constexpr int kMaxRingRanks = 32;
// The ranks whose contributions a chunk's copy holds summed: bit r = rank r's.
using Contributions = std::uint32_t;
inline Contributions all_ranks(int p) {
    return p >= 32 ? ~Contributions{0} : (Contributions{1} << p) - 1;
}
inline int contribution_count(Contributions c) {
    return __builtin_popcount(c);
}

enum class RingPhase { Start, ReduceScatter, AllGather };
int ring_steps(int p);                  // 2(p − 1)
RingPhase ring_phase(int p, int step);  // step 0: Start; 1..p−1 ReduceScatter; p..2(p−1) AllGather
int ring_phase_step(int p, int step);  // k within its phase (1..p−1; 0 at the start)
int ring_owned_chunk(
    int p, int rank);  // the chunk rank r holds fully reduced after the reduce-scatter: (r+1) mod p

// One send of a step: `from` sends its copy of `chunk` to `to` = from+1 (mod p); the receiver adds
// it (reduce-scatter) or replaces its copy with it (all-gather).
struct RingTransfer {
    int from = 0, to = 0, chunk = 0;
    bool reduce = true;
    double bytes = 0;  // n/p
    friend bool operator==(const RingTransfer&, const RingTransfer&) = default;
};
// The p sends of step 1..ring_steps(p) of an all-reduce of n bytes. Throws std::invalid_argument
// for p outside 2..kMaxRingRanks or a step outside 1..ring_steps(p).
std::vector<RingTransfer> ring_transfers(int p, int step, double n = 0);

// What every rank holds after `step` steps: held[rank·p + chunk].
struct RingState {
    int p = 2;
    int step = 0;
    std::vector<Contributions> held;
    Contributions at(int rank, int chunk) const {
        return held[static_cast<std::size_t>(rank * p + chunk)];
    }
    friend bool operator==(const RingState&, const RingState&) = default;
};
RingState ring_initial(int p);  // every rank holds only its own contribution in every chunk
// The state after `step` steps from the closed form above (not by simulation).
RingState ring_state(int p, int step);
// The state after the next step, by carrying out its transfers (every rank sends at once, so each
// send carries the sender's copy as it was before the step). Throws after the last step.
RingState apply_step(const RingState& s);

// The explorer's animation: play / step / back / reset over the states.
class RingAllReduce {
public:
    explicit RingAllReduce(int p);  // throws std::invalid_argument for p outside 2..kMaxRingRanks
    int p() const { return state_.p; }
    int step() const { return state_.step; }
    int steps() const { return ring_steps(state_.p); }
    bool done() const { return step() == steps(); }
    const RingState& state() const { return state_; }
    bool forward();  // carries out the next step (apply_step); false at the end
    bool back();     // returns to the state before the last step; false at the start
    void reset();

private:
    RingState state_;
};

// The traffic of a ring all-reduce of n bytes over p ranks, summed over the transfers.
struct RingTraffic {
    double bytes_per_link_per_step = 0;  // n/p
    int steps = 0;                       // 2(p − 1)
    double bytes_per_rank = 0;           // sent by one rank over all steps: 2(p−1)/p·n
    double bytes_all_links = 0;          // p · bytes_per_rank
};
RingTraffic ring_traffic(int p, double n);
// Bytes rank `rank` has sent after `step` steps (the explorer's running count).
double ring_bytes_sent(int p, double n, int rank, int step);

// ---- α-β times (seconds) over one link (α per message step, β per byte) ----
// Ring and tree: the all-reduce terms of core/analysis/collective_cost.h (cost_terms,
// cost_seconds), the ones the simulator's collective_time uses for a group on one node:
//   ring 2(p−1)·α + 2(p−1)/p·n·β;  tree (NCCL double binary tree) 2⌈log2 p⌉·α + 2·n·β.
double ring_allreduce_s(const LinkCost& link, int p, double n);
double tree_allreduce_s(const LinkCost& link, int p, double n);
// A parameter server with S server ranks (the parameters sharded n/S per server) and W workers,
// synchronous (BSP), as the simulator models it (docs/SIMULATOR.md "Parameter server and
// staleness", issue 18): every worker pushes its n-byte gradient, n/S to each server, then pulls
// the n/S updated bytes back from each; the server's link is the bottleneck: it receives the W
// pushes one after the other and sends the W pulls the same way, each a point-to-point message (α +
// n/S·β on `link`, the send/recv fit), while a worker's messages to the S servers travel in
// parallel:
//   T = 2·W·(α + n/S·β).
// With one server the server's link carries W·n each way: W times the ring's 2(p−1)/p·n per rank.
// The optimizer's time on the servers is not counted.
double parameter_server_s(const LinkCost& link, int workers, int servers, double n);

struct AlgorithmCurves {
    std::vector<double> bytes, ring_s, tree_s, ps_s;
};
// The three times at message sizes from n_lo to n_hi, `per_doubling` points per doubling.
// Ring and tree on `collective` (the all-reduce link), the parameter server on `p2p` (send/recv).
AlgorithmCurves sample_algorithms(const LinkCost& collective, const LinkCost& p2p, int p,
                                  int servers, double n_lo, double n_hi, int per_doubling = 2);

// ---- This machine's calibration ----
struct MeasuredAllReduce {
    int p = 2;
    double bytes = 0;
    double seconds = 0;  // median of the repeats (spread[]) or the one time (measurements[])
    double min_s = 0, max_s = 0;
};
struct CalibrationView {
    bool present = false;
    std::string label;  // "calibration 3 of run.sqlite (host vm, 2026-12-01T08:00:00Z)"
    std::string why;    // when !present: why there is none
    Hardware hw;
    LinkCost link;  // the all-reduce α-β the ring and tree curves use (allreduce_link)
    LinkCost p2p;   // the send/recv α-β the parameter-server curve uses (send_recv_link)
    std::vector<MeasuredAllReduce> points;  // the file's measured all-reduce times
};
// The α-β of the all-reduce: the calibrated all_reduce fit when the file has one, else the
// intra-node link.
LinkCost allreduce_link(const Hardware& hw);
// The α-β of one point-to-point message: the calibrated send_recv fit, else the intra-node link.
LinkCost send_recv_link(const Hardware& hw);
// A hardware document (`calibrate`'s JSON): parse_hardware, and its all_reduce points from
// spread[] (median, min, max of the repeats), else from measurements[]. Throws HardwareError.
CalibrationView calibration_from_json(const nlohmann::json& doc, const std::string& origin);
// The newest `calibrations` row of an open trace file; present = false with `why` when it holds
// none.
CalibrationView calibration_from_trace(traces::TraceReader& rd, const std::string& path);

// The sentences under the explorer for the state after `step` and an n-byte buffer.
std::vector<std::string> explain_ring(int p, int step, double n);
// A size for people: "4 KiB", "1.5 MiB", "64 B".
std::string fmt_bytes(double bytes);

}  // namespace ss::core::teach

// The event-replay engine of the simulator (docs/SIMULATOR.md, "Event replay"): a per-rank graph
// of operations with dependencies — program order on a rank, collectives matched across the ranks
// of their group, send → recv — simulated as discrete events. The graph comes from the spec
// (graph_from_spec: synthetic ops with analytic durations) or from a recorded trace
// (core/sim_trace.h: measured kernel durations, collectives re-timed by the network model).
//
// Semantics (every time in seconds, each rank starts at 0):
//   Compute    the rank is busy for dur_s (counted in `part` of the breakdown).
//   Coll       blocking collective: the rank arrives, waits for every member; the operation starts
//              at max(last arrival, when every member's previous collective finished) and lasts
//              cost_s; all members leave at its end.
//   CollStart  non-blocking collective (a DP bucket): arrival as above, the rank goes on.
//   Wait       blocks until that collective has finished, and until the rank has made up the
//              compute the collective's contention took from it: a collective of contention κ
//              that ran over [start, end] took κ·|[start, end] ∩ [−∞, c]| (c: the end of the
//              rank's last Compute op), which delays everything the rank did after it, so the rank
//              leaves at max(end, w + all taken since c), w being when it reached its first Wait
//              after c. (κ = 0 on a CPU and in recorded traces.)
//   Send       non-blocking: posts the message and goes on.
//   Recv       blocks until the message is there: max(send post, recv post) + cost_s (the transfer
//              starts once both sides have posted, as MPI's rendezvous protocol does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/sim/simulator.h"
#include "traces/types.h"

namespace ss::core {

enum class OpKind : std::uint8_t { Compute, Coll, CollStart, Wait, Send, Recv };
// The pipeline action an op belongs to (graph_from_spec sets it; the replay does not read it).
enum class OpPass : std::uint8_t { None, Forward, Backward };

struct SimOp {
    OpKind kind = OpKind::Compute;
    Part part = Part::Compute;  // Compute ops: the breakdown part they count in
    double dur_s = 0;           // Compute ops
    int ref = -1;               // Coll/CollStart/Wait: collective index; Send/Recv: message index
    OpPass pass = OpPass::None;  // forward / backward of micro_batch, or neither (step start, sync, optimizer)
    int micro_batch = -1;
};

struct CollInstance {
    traces::Collective collective = traces::Collective::AllReduce;
    traces::GroupKind group = traces::GroupKind::None;
    std::int64_t group_id = 0;  // lowest world rank of the group
    std::int64_t seq = 0;       // k-th operation of the group
    int size = 1;               // ranks that must arrive
    double bytes = 0;
    double cost_s = 0;          // duration once every member has arrived
    // Seconds of compute a member loses per second this collective runs beside its compute
    // (Hardware::overlap_contention on a DP bucket; 0 for everything else). See Wait above.
    double contention = 0;
};

struct Message {
    int from = 0, to = 0;
    double bytes = 0;
    double cost_s = 0;  // both sides posted → received
};

struct OpGraph {
    std::vector<std::vector<SimOp>> ranks;  // (world) program of each rank
    std::vector<CollInstance> colls;
    std::vector<Message> msgs;
    std::string describe_op(int rank, std::size_t index) const;  // for error messages
};

struct OpTiming {
    double start_s = 0, end_s = 0;  // Coll/Wait/Recv: arrival and release
};

struct ReplayResult {
    double step_s = 0;                  // the last rank's end
    std::vector<double> rank_end_s;     // (world)
    std::vector<Breakdown> ranks;       // (world) parts in ns; Idle = step − rank end
    Breakdown breakdown;                // mean over ranks (ns)
    std::vector<std::vector<OpTiming>> timeline;  // (world × ops) when recorded
};

struct ReplayOptions {
    bool record_timeline = false;
};

// Throws SimError on a malformed graph (a reference out of range, a collective with more
// arrivals than members) and on a deadlock (naming the blocked ranks and what they wait for).
ReplayResult replay(const OpGraph& g, const ReplayOptions& opt = {});

// The graph of one training step from the workload (models/trainer.h order, from the same
// scalescope_plan functions the trainer calls: models/plan/): per micro-batch by the GPipe / 1F1B
// schedule, forward and backward per layer with the Megatron tp all-reduces, pp
// send/recv, DP buckets started during the last micro-batch's backward (overlap) or after it,
// ZeRO-1 reduce-scatter + all-gather, the world all-reduce of 3 doubles, the optimizer.
// Large-model features (docs/SIMULATOR.md "Large models"): interleaved 1F1B runs each stage's
// model chunks in interleaved_schedule's order with a send/recv at every chunk boundary; with
// sequence parallelism every tp all-reduce is a reduce-scatter then an all-gather; recomputation is
// in the layers' backward times (layer_time) and tp_bwd_ar; the precision in the bytes and rates.
// Workload::p2p_sync (GPUs): after each Send the sender is held for the transfer (ExposedComm), as
// Megatron-LM's blocking batched send/recv; messages cost p2p_time (scatter-gather when set).
OpGraph graph_from_spec(const Workload& w, const Hardware& hw, const SimOptions& opt = {});

// The parameter server as discrete events over many steps (docs/SIMULATOR.md "Parameter server
// and staleness"): replica d computes replica_compute[d] seconds, pushes one message to every
// server (the server's in-link serves transfers first come, first served), the server updates
// (its optimizer, first come first served; BSP: once all replicas' pushes of the step are in,
// SSP/async: every push), the replica pulls from every server (out-link, first come first
// served; BSP in the order the pushes arrived) once its push is applied on all of them and, with
// a bound s, once every replica has finished step k − s before it starts step k. Measured over
// the second half of a horizon long enough to leave the start-up (and SSP's run-ahead) behind:
// each replica's mean step, gradients per second, staleness (updates applied on server 0 between
// the version a replica pulled and the apply of its gradient). Waits are each step's time beyond
// the replica's own cycle (compute + push + apply + pull).
struct PsEventOptions {
    double horizon_cycles = 64;        // measured over this many of the slowest replica's cycles (after the start-up)
    std::size_t max_events = 4000000;  // a cap on the simulated events
};
PsPrediction simulate_ps_events(const Workload& w, const PsCosts& costs, const std::vector<double>& replica_compute,
                                const PsEventOptions& opt = {});

// graph_from_spec + replay, reported like simulate_analytic (memory, throughput, MFU).
SimResult simulate_replay(const ExperimentSpec& spec, const Hardware& hw, const SimOptions& opt = {});
// The same on a built workload with its options as given (no calibrated rates looked up); a
// parameter server's workers replayed for one step, then simulate_ps_events.
SimResult simulate_replay(const Workload& w, const Hardware& hw, const SimOptions& opt);

}  // namespace ss::core

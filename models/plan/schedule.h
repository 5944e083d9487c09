// Part of scalescope_plan (models/plan/README.md): pure functions, no MPI, no kernels.
//
// Pipeline schedules as pure functions (DESIGN.md, "Parallel layouts", PP).
//
// GPipe: every stage runs the forward of all m micro-batches, then their backwards (in order
//   0..m-1). Up to m micro-batches of activations are alive at once.
// 1F1B (PipeDream-Flush, Narayanan et al. 2021; Megatron-LM's default): stage s runs
//   w = min(p - s - 1, m) warm-up forwards, then alternates one forward and one backward for the
//   remaining m - w micro-batches, then the w cool-down backwards. At most p - s micro-batches are
//   in flight on stage s.
// Both have the same bubble fraction (p-1)/(m+p-1) of the step; 1F1B needs less memory.
#pragma once

#include <string>
#include <vector>

namespace ss::models {

enum class PipeSchedule { GPipe, OneFOneB };
// "gpipe" | "1f1b"; throws std::invalid_argument otherwise.
PipeSchedule parse_pipe_schedule(const std::string& name);
const char* to_string(PipeSchedule s);

struct PipeAction {
    enum Kind { Forward, Backward };
    Kind kind = Forward;
    int micro_batch = 0;
    bool operator==(const PipeAction&) const = default;
};

// The ordered actions of `stage` (0-based) in a pipeline of `stages` stages over `micro_batches`
// micro-batches. Every micro-batch appears exactly once as Forward and once as Backward, forwards
// and backwards each in increasing micro-batch order. Throws std::invalid_argument for
// non-positive sizes or a stage outside [0, stages).
std::vector<PipeAction> pipeline_schedule(PipeSchedule schedule, int stages, int stage,
                                          int micro_batches);

// The pipeline neighbours of one action of `stage`: the stage its input comes from (a forward
// receives the activation from stage - 1, a backward the gradient from stage + 1) and the stage
// its output goes to (forward: stage + 1, backward: stage - 1); -1 where there is none (the first
// and last stages). The receive comes first (blocking), the send is posted after the compute.
struct PipePeers {
    int recv_from = -1;
    int send_to = -1;
};
PipePeers pipe_peers(PipeAction::Kind kind, int stages, int stage);

// The most micro-batches forwarded but not yet backwarded at any point of the stage's schedule:
// the number of activation slots the stage needs (micro-batch mb uses slot mb % slots).
int max_in_flight(const std::vector<PipeAction>& actions);

// "F0 F1 B0 F2 B1 B2": a compact text form for messages and tests.
std::string to_string(const std::vector<PipeAction>& actions);

// The contiguous share of `units` (transformer blocks, MLP blocks) owned by `stage` of `stages`:
// [begin, end) with begin = units*stage/stages (integer division), so the stage sizes differ by at
// most one and later stages get the extra units.
struct UnitRange {
    int begin = 0;
    int end = 0;
};
UnitRange stage_units(int units, int stages, int stage);

// The pipeline units of an MLP with `linear_layers` linear layers: Megatron pairs (0,1), (2,3), ...
// and an odd last layer on its own, i.e. ceil(linear_layers / 2) (models/LAYOUT.md).
int mlp_pair_blocks(int linear_layers);

}  // namespace ss::models

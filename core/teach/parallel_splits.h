// What each parallelism splits, for the Learn page's splits explorer (issue 19). No Qt.
//
// For a model and a layout (dp, tp, pp, ZeRO-1, micro-batches): what one rank of each pipeline
// stage holds (parameters, gradients, optimizer state, activations, buffers: bytes from the
// simulator's memory model, core::estimate_memory), and what it communicates per step (bytes from
// the simulator's workload, core::build_workload): the DP gradient reduction in buckets
// (all-reduce, or reduce-scatter + all-gather with ZeRO-1), the tensor-parallel all-reduces of
// every layer and micro-batch, the pipeline sends of every micro-batch, the world all-reduce of
// the loss. "Sent per rank" is what the ring algorithm puts on one rank's link: the α-β term b(p)·n
// of core/analysis/collective_cost.h (all-reduce 2(p−1)/p·n, reduce-scatter and all-gather
// (p−1)/p·n, a send n).
#pragma once

#include <string>
#include <vector>

#include "core/sim/simulator.h"
#include "core/spec/spec.h"

namespace ss::core::teach {

struct ParallelChoice {
    int dp = 1, tp = 1, pp = 1;
    int zero = 0;  // 1 = ZeRO-1 (optimizer state sharded over dp)
    // Per replica and step (pipeline micro-batches, or gradient accumulation).
    int micro_batches = 1;
};

// One rank of a pipeline stage (every dp and tp rank of the stage holds the same amounts).
struct StageSplit {
    int stage = 0;
    std::string layers;     // "embedding, blocks 0–1", "linear 0–1"
    double params = 0;      // parameters held by one rank
    MemoryEstimate memory;  // bytes per rank (estimate_memory on this stage alone)
};

// One kind of communication of one rank of a stage, per step.
struct CommSplit {
    int stage = 0;
    std::string group;  // "dp", "tp", "pp", "world"
    std::string op;     // "all-reduce", "reduce-scatter", "all-gather", "send", "recv"
    std::string what;   // "gradients", "activations (forward) and their gradients (backward)", ...
    int group_size = 1;
    double calls = 0;  // per step
    double bytes = 0;  // Σ buffer sizes n per step (all-reduce: the buffer; send: the message)
    double sent_bytes = 0;  // what the rank puts on its link per step (ring terms, above)
};

struct Splits {
    ExperimentSpec spec;  // the spec with the choice applied
    std::string model;    // "gpt-tiny", "mlp-default"
    double model_params = 0;
    int world = 1;
    double capacity = 0;  // device memory (bytes), 0 = unknown
    std::vector<StageSplit> stages;
    std::vector<CommSplit> comm;         // stage by stage: tp, pp, dp, world
    std::vector<std::string> sentences;  // what the numbers say, in plain words
    const StageSplit& fullest() const;   // the stage that needs the most memory per rank
};

// `spec`: the model, batch and precision; the choice replaces its parallel layout. Throws
// TeachError (core/teach/pipeline_gantt.h) with validate()'s messages for a layout the model does
// not allow (tp must divide the heads, the global batch must divide by dp × micro-batches, ...).
Splits parallel_splits(const ExperimentSpec& spec, const ParallelChoice& choice,
                       double capacity_bytes = 0);

// A spec for a named example: model.kind "gpt" (preset "tiny", "mini", "small") or "mlp"
// ("default") with the presets of core::model_preset and a global batch of 16.
ExperimentSpec example_spec(const std::string& kind, const std::string& preset);

// "512 B", "4.0 KiB", "2.6 MiB", "1.25 GiB" (the GUI's formatBytes units).
std::string human_bytes(double bytes);

}  // namespace ss::core::teach

// Pipeline schedules as Gantt charts, for the Learn page's pipeline explorer (issue 19). No Qt.
//
// A drawn schedule is the simulator's: each stage's action order comes from the schedule builders
// the trainer and the simulator share (models::pipeline_schedule for GPipe and 1F1B,
// core::interleaved_schedule for interleaved 1F1B), and the times come from the simulator's event
// replay (core::replay, core/sim/sim_replay.h) of a graph with one program per stage: a forward of
// (micro-batch i, virtual stage vs) receives the activation from vs − 1, computes, sends to vs + 1;
// a backward receives the gradient from vs + 1, computes, sends to vs − 1; messages are free. So
// F(vs, i) starts after F(vs − 1, i) ends, B(vs, i) after B(vs + 1, i), and each stage runs its
// actions one at a time in its order.
//
// The bubble of a chart is measured on its boxes: idle ÷ total over the stages, between the first
// box's start and the last box's end. With equal stages it equals core::bubble_fraction:
// (p − 1)/(m + p − 1) for GPipe and 1F1B (any backward/forward ratio: the formula holds in units
// of f + b), and (p − 1)/(v·m + p − 1) for interleaved 1F1B with v model chunks per stage
// (Narayanan et al. 2021; docs/SIMULATOR.md "The analytic engine").
//
// A recorded run's chart comes from its trace: the "forward" / "backward" Phase events of one rank
// per stage (dp 0, tp 0), each box starting where the phase's pipeline receive ended (the trainer's
// phase span includes the blocking receive, which is bubble, not work). Of the steps after the
// warm-up that hold every box, the one drawn is the median by pipeline span (first box start to
// last box end), so one slow kernel does not make the picture.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "traces/reader.h"
#include "traces/types.h"

namespace ss::core::teach {

// A bad request (sizes out of range, interleaving with m not a multiple of p, a run without a
// pipeline); the message says what and how to fix it.
class TeachError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class PipelineKind { GPipe, OneFOneB, Interleaved };
const char* to_string(PipelineKind k);  // "GPipe", "1F1B", "interleaved 1F1B"

struct GanttBox {
    int stage = 0;        // row
    int micro_batch = 0;  // label
    // Model chunk of the stage (interleaved: virtual stage chunk·p + stage), else 0.
    int chunk = 0;
    bool forward = true;
    double start = 0, end = 0;  // Gantt::unit
    double duration() const { return end - start; }
};

struct Gantt {
    int stages = 0, micro_batches = 0, chunks = 1;
    std::vector<GanttBox> boxes;  // per stage in execution order, stages in order
    double begin = 0, end = 0;    // the first box's start, the last box's end
    std::string unit;             // "f" (one stage's forward of a micro-batch) or "ms"
    double span() const { return end - begin; }
    double busy() const;             // Σ box durations
    double bubble_fraction() const;  // 1 − busy ÷ (stages × span); 0 for an empty chart
    // Each stage's idle intervals inside [begin, end] (what the chart shades as bubble).
    std::vector<std::pair<double, double>> idle(int stage) const;
};

struct PipelineParams {
    PipelineKind kind = PipelineKind::OneFOneB;
    int stages = 4;          // p, 1..64
    int micro_batches = 8;   // m, 1..1024 (interleaved: a multiple of p, as Megatron-LM requires)
    int virtual_stages = 2;  // v, model chunks per stage (interleaved only), 1..16
    double forward = 1;      // a stage's forward of one micro-batch (all its chunks together)
    double backward = 2;     // its backward (default 2 × the forward: two matrix products per one)
};
// Throws TeachError for parameters outside the ranges above.
Gantt schedule_gantt(const PipelineParams& params);
// What the simulator's formula gives for these parameters (core::bubble_fraction).
double formula_bubble(const PipelineParams& params);
// "(p−1)/(m+p−1) = 3/11" or "(p−1)/(v·m+p−1) = 3/19": the formula with its numbers, for the page.
std::string formula_text(const PipelineParams& params);

// ---- A recorded run ----
struct RecordedGantt {
    Gantt gantt;  // unit "ms", times from the first box's start
    traces::RunInfo run;
    std::int64_t step = -1;  // the step drawn
    int warmup_steps = 0;    // detected warm-up (core::run_step_times)
    // Complete steps after the warm-up; the one drawn has their median span.
    int steps_considered = 0;
    std::vector<int> stage_rank;                 // the world rank drawn on each stage row
    PipelineKind kind = PipelineKind::OneFOneB;  // the run's schedule
};
// The first run of the file with pp > 1 (its id), or an invalid id when none has.
traces::RunId first_pipeline_run(traces::TraceReader& reader);
// The chart of one step of `run` (pp > 1) from its trace. Throws TeachError when the run has no
// pipeline or no step holds every forward and backward of every stage; traces::TraceError for a
// bad file.
RecordedGantt gantt_from_trace(traces::TraceReader& reader, traces::RunId run);

}  // namespace ss::core::teach

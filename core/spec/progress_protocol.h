// The progress-line protocol between scalescope-worker (the writer, rank 0) and its readers (the
// launcher's parse_progress_line, `scalescope-cli run`, the GUI's Experiment page): one JSON
// object per line on rank 0's stdout, flushed, with a string "event" naming its kind.
//
//   {"event":"phase","phase":"clock sync"|"loading data"|"building model"}   (before "start")
//   {"event":"start","model","preset","params","layout":{dp,tp,pp},"world","micro_batches",
//    "schedule","zero","buckets","backend","stage"}                           (then step 0 runs)
//   {"event":"step","step":s,"loss","elapsed_s","step_time_s","lr","grad_norm",
//    "samples_per_s" (mlp) | "tokens_per_s" (gpt)}
//   {"event":"eval","step":s,"loss","accuracy" (mlp)}      (every training.eval_every steps)
//   {"event":"summary","final_loss","eval_loss","steps","step_time_median_s","elapsed_s","params",
//    "comm":{..},"samples_per_s" + "accuracy" + "test_samples" (mlp) | "tokens_per_s" (gpt)}
//
// Names only: no JSON library, no core, so the worker includes it without linking the launcher.
#pragma once

namespace ss::core::progress {

// The "event" key and its values.
inline constexpr const char* kEvent = "event";
inline constexpr const char* kPhaseEvent = "phase";
inline constexpr const char* kStartEvent = "start";
inline constexpr const char* kStepEvent = "step";
inline constexpr const char* kEvalEvent = "eval";
inline constexpr const char* kSummaryEvent = "summary";

// "phase" lines.
inline constexpr const char* kPhase = "phase";

// "start" lines.
inline constexpr const char* kModel = "model";
inline constexpr const char* kPreset = "preset";
inline constexpr const char* kParams = "params";  // also in "summary"
inline constexpr const char* kLayout = "layout";
inline constexpr const char* kWorld = "world";
inline constexpr const char* kMicroBatches = "micro_batches";
inline constexpr const char* kSchedule = "schedule";
inline constexpr const char* kZero = "zero";
inline constexpr const char* kBuckets = "buckets";
inline constexpr const char* kBackend = "backend";
inline constexpr const char* kStage = "stage";
inline constexpr const char* kTransport = "transport";         // "mpi", "nccl", "mpi (staged ...)"
inline constexpr const char* kMatrixFlops = "matrix_flop_per_s";  // GPU: cuBLAS fp32 rate of rank 0

// "step" and "eval" lines.
inline constexpr const char* kStep = "step";
inline constexpr const char* kLoss = "loss";
inline constexpr const char* kElapsed = "elapsed_s";  // also in "summary"
inline constexpr const char* kStepTime = "step_time_s";
inline constexpr const char* kLr = "lr";
inline constexpr const char* kGradNorm = "grad_norm";
inline constexpr const char* kSamplesPerS = "samples_per_s";  // mlp; also in "summary"
inline constexpr const char* kTokensPerS = "tokens_per_s";    // gpt; also in "summary"
inline constexpr const char* kAccuracy = "accuracy";          // mlp; "eval" and "summary"

// "summary" lines.
inline constexpr const char* kFinalLoss = "final_loss";
inline constexpr const char* kEvalLoss = "eval_loss";
inline constexpr const char* kSteps = "steps";
inline constexpr const char* kStepTimeMedian = "step_time_median_s";
inline constexpr const char* kComm = "comm";
inline constexpr const char* kTestSamples = "test_samples";

}  // namespace ss::core::progress

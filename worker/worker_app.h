// scalescope-worker: one training rank, started by mpirun (DESIGN.md, "Executables").
//
//   scalescope-worker SPEC.json [--set path=value ...]
//
// Every rank parses and validates the spec (with the MPI world size) before anything else; on a
// problem rank 0 prints one line per problem on stderr and every rank exits with status 2 (all
// ranks see the same problems, so nobody waits for anybody). During training a rank that fails
// prints "rank R: <why>" and aborts the job (MPI_Abort), so the others never hang.
//
// Rank 0 writes JSON lines on stdout (one object per line, flushed):
//   {"event":"phase","phase":"clock sync"|"loading data"|"building model"}   (before "start")
//   {"event":"start", "model", "params", "layout", "world", ...}             (then step 0 runs)
//   {"event":"step","step":s,"loss":..,"samples_per_s"|"tokens_per_s":..,"elapsed_s":..,
//    "step_time_s":..,"lr":..,"grad_norm":..}
//   {"event":"eval","step":s,"loss":..,"accuracy":..}   (every training.eval_every steps)
//   {"event":"summary","final_loss":..,"accuracy":.. (mlp, test set),"step_time_median_s":..,
//    "samples_per_s"|"tokens_per_s":.. (at the median step time),"steps":..,"comm":{..}}
// SCALESCOPE_WORKER_FAULT="R:S" (tests only) makes world rank R fail at step S.
// "comm" counts the communication calls of rank 0 by group and operation (a CommObserver).
#pragma once

namespace ss::models {

// The whole program; returns the process exit status.
int worker_main(int argc, char** argv);

}  // namespace ss::models

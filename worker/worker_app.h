// scalescope-worker: one training rank, started by mpirun (DESIGN.md, "Executables").
//
//   scalescope-worker SPEC.json [--set path=value ...]
//
// Every rank parses and validates the spec (with the MPI world size) before anything else; on a
// problem rank 0 prints one line per problem on stderr and every rank exits with status 2 (all
// ranks see the same problems, so nobody waits for anybody). During training a rank that fails
// prints "rank R: <why>" and aborts the job (MPI_Abort), so the others never hang.
//
// Rank 0 writes the progress lines of core/spec/progress_protocol.h on stdout (one JSON object per
// line, flushed): "phase" lines, then "start", one "step" per step, "eval" every
// training.eval_every steps, and "summary" at the end.
// SCALESCOPE_WORKER_FAULT="R:S" (tests only) makes world rank R fail at step S.
// "comm" counts the communication calls of rank 0 by group and operation (a CommObserver).
#pragma once

namespace ss::models {

// The whole program; returns the process exit status.
int worker_main(int argc, char** argv);

}  // namespace ss::models

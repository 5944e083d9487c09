// Nsight Systems SQLite exports (`nsys export --type sqlite`) read into a ScaleScope run.
//
// The file is opened read-only with the defensive settings of our own files (traces/sqlite_util.h:
// defensive mode, untrusted schema, no extensions, views and triggers off) and only its tables are
// read. Times are nsys's integer nanoseconds, kept exactly (one clock for the whole file).
//
// | nsys table / rows                         | lane                    | kind                      | name                                   | other fields |
// | ---                                       | ---                     | ---                       | ---                                    | --- |
// | CUPTI_ACTIVITY_KIND_RUNTIME (the launch)  | 15 `CUDA API`           | HostRange                 | StringIds[nameId], `_vNNNN` dropped    | correlation = correlationId |
// | CUPTI_ACTIVITY_KIND_KERNEL                | 16 + streamId           | Kernel                    | StringIds[demangledName] (else shortName) | correlation |
// | ... kernel named ncclKernel_* / ncclDevKernel_* | 16 + streamId     | Comm                      | as above                               | collective from the name (AllReduce, ..., SendRecv -> send) |
// | CUPTI_ACTIVITY_KIND_MEMCPY                | 16 + streamId           | Memcpy                    | `memcpy HtoD`, `memcpy DtoH`, ... (copyKind) | bytes, correlation |
// | CUPTI_ACTIVITY_KIND_MEMSET                | 16 + streamId           | Memset                    | `memset`                               | bytes, correlation |
// | CUPTI_ACTIVITY_KIND_SYNCHRONIZATION       | 16 + streamId, else 15  | Sync                      | `cudaStreamSynchronize`, ... (syncType) | correlation |
// | NVTX_EVENTS push/pop (59), start/end (60) | 32 + k: the k-th thread | HostRange                 | `text`, else StringIds[textId]         | |
// | ... named ncclAllReduce, ncclSend, ...    | the thread's lane       | Comm                      | as above                               | collective; bytes, group size, peer from a JSON payload |
// | ... named MPI_Allreduce, MPI_Send, ...    | the thread's lane       | Comm                      | as above                               | collective (nsys's own MPI trace) |
// | ... named like a step (below)             | 0 `steps`               | Step                      | as above                               | step = its number |
//
// - Ranks: one per process (globalPid; a thread's process is globalTid with its low 24 bits
//   cleared) that has CUDA or NVTX rows. The rank is the process's MPI rank when every process
//   has one (table MPI_RANKS, else a thread named "MPI Rank N" in ThreadNames or by an NVTX
//   thread-name event, which nsys's MPI trace writes); otherwise rank_hint + the process's index
//   in pid order. The device is the GPU most of the process's kernels ran on, named from
//   TARGET_INFO_GPU ("cuda:0 (NVIDIA A100-SXM4-40GB)"); the host from TARGET_INFO_SYSTEM_ENV.
// - The launch: CUPTI_ACTIVITY_KIND_RUNTIME may hold several rows with one correlationId in one
//   process (nsys writes a second row, eventClass 67 "CUDA backtrace", for calls whose call stack
//   it sampled). Per (process, correlationId) exactly one row is the launch: a runtime or driver
//   row (eventClass 0 or 1) before any other, then the earliest start, then the longest. Only the
//   launch is imported and only the launch is joined to kernels, copies and memsets, so no row is
//   counted twice; the other rows are counted in `skipped`.
// - Steps: NVTX ranges named `ProfilerStep#N`; when a process has none, ranges named like
//   `step`, `step 3`, `Step#3`, `iteration_12`, `iter 4`, `train_step` (case-insensitive). Nested
//   ones are ranges again. Their number is the one in the name when every step has a distinct
//   number, else their order. A file without such ranges has no steps. Every event in a step gets
//   its number in `step`; GPU work gets the step of its launch (through the correlation id), else
//   the step its own start lies in.
// - Unknown schemas: tables that are missing, empty-handed (no required column) or not understood
//   are listed in ctx.skipped, with counts of rows not imported; a file with none of nsys's tables
//   (or a ScaleScope trace) is refused with ImportError naming the file.
#pragma once

#include "traces/import/import.h"

namespace ss::traces::import {

// Reads the export ctx.file into ctx.writer's run ctx.run (ranks, lanes, events); fills
// ctx.ranks, ctx.skipped, ctx.tool ("Nsight Systems"), ctx.version ("Nsight Systems 2022.2.1.31")
// and ctx.events. Throws ImportError naming the file when it is not an Nsight Systems export, on
// a cancel, and on SQLite errors.
void read_nsys(ReaderContext& ctx);

}  // namespace ss::traces::import

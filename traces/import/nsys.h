// Nsight Systems SQLite exports (`nsys export --type sqlite`) read into a ScaleScope run.
//
// The file is opened read-only with the defensive settings of our own files (traces/sqlite_util.h:
// defensive mode, untrusted schema, no extensions, views and triggers off) and only its tables are
// read. Times are nsys's integer nanoseconds, kept exactly (one clock for the whole file).
//
// What each source row becomes (lane numbers from traces/lanes.h; times are copied unchanged):
//   CUPTI_ACTIVITY_KIND_RUNTIME, the launch row (below)
//       -> lane 15 "CUDA API", HostRange, name StringIds[nameId] without the "_vNNNN" suffix
//          ("cudaLaunchKernel_v7000" -> "cudaLaunchKernel"), correlation = correlationId
//   CUPTI_ACTIVITY_KIND_KERNEL
//       -> lane 16 + streamId ("stream N"), Kernel, name StringIds[demangledName] (else shortName,
//          mangledName), correlation
//   ... an NCCL kernel (name, or short name, starts with ncclKernel_ / ncclDevKernel_)
//       -> the same lane, Comm, collective from the name (AllReduce, ReduceScatter, AllGather,
//          Broadcast, Reduce, AllToAll, Send, Recv; SendRecv -> send; Generic -> none)
//   CUPTI_ACTIVITY_KIND_MEMCPY
//       -> lane 16 + streamId, Memcpy, "memcpy HtoD" / "memcpy DtoH" / "memcpy DtoD" /
//          "memcpy HtoH" / "memcpy PtoP" / ... from copyKind, bytes, correlation
//   CUPTI_ACTIVITY_KIND_MEMSET -> lane 16 + streamId, Memset, "memset", bytes, correlation
//   CUPTI_ACTIVITY_KIND_SYNCHRONIZATION
//       -> lane 16 + streamId (a context synchronisation or no stream: lane 15), Sync,
//          "cudaEventSynchronize" / "cudaStreamWaitEvent" / "cudaStreamSynchronize" /
//          "cudaDeviceSynchronize" from syncType, correlation
//   NVTX_EVENTS push/pop (eventType 59) and start/end (60) ranges with an end
//       -> one lane per thread, in order of appearance, from lanes::kHostThreadBase (2^20) up
//          ("thread <tid>", plus " (<name>)" from ThreadNames), HostRange,
//          name `text`, else StringIds[textId]
//   ... named ncclAllReduce, ncclReduceScatter, ncclAllGather, ncclBroadcast, ncclReduce,
//       ncclAllToAll, ncclSend, ncclRecv (NCCL's own ranges)
//       -> Comm with that collective; bytes, group size and peer from a JSON payload (jsonText)
//          when it has them ("Message size [bytes]", "Communicator size", "peer")
//   ... named MPI_Allreduce, MPI_Send, MPI_Recv, MPI_Bcast, ... (nsys's MPI trace) -> Comm
//   ... named like a step (below) -> lane 0 "steps", Step, step = its number
//   Every other table with a `start` column (CPU samples, OS runtime, cuDNN/cuBLAS, CUDA graphs,
//   nsys's MPI tables, kinds of newer versions) is listed in ctx.skipped with its row count;
//   so are NVTX marks, ranges without an end and rows of an unknown eventType.
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
//   launch is imported and only the launch is joined to kernels, copies, memsets and syncs, so no
//   row is counted twice; the other rows are counted in `skipped`.
// - Steps: NVTX ranges named `ProfilerStep#N`; when a process has none, ranges named like
//   `step`, `step 3`, `Step#3`, `iteration_12`, `iter 4`, `train_step` (case-insensitive). Nested
//   ones are ranges again. Their number is the one in the name when every step has a distinct
//   number, else their order. A file without such ranges has no steps. Every event in a step gets
//   its number in `step`; GPU work gets the step of its launch (through the correlation id), else
//   the step its own start lies in.
// - Unknown schemas: tables that are missing, lack a column this reader needs, or are not
//   understood are listed in ctx.skipped with the rows not imported; a file with none of nsys's
//   tables, one with nothing to import, and a ScaleScope trace are refused with ImportError naming
//   the file.
#pragma once

#include "traces/import/import.h"

namespace ss::traces::import {

// Reads the export ctx.file into ctx.writer's run ctx.run (ranks, lanes, events); fills
// ctx.ranks, ctx.skipped, ctx.tool ("Nsight Systems"), ctx.version ("Nsight Systems 2022.2.1.31")
// and ctx.events. Throws ImportError naming the file when it is not an Nsight Systems export, on
// a cancel, and on SQLite errors.
void read_nsys(ReaderContext& ctx);

}  // namespace ss::traces::import

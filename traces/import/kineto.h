// The PyTorch profiler (Kineto) Chrome-format JSON reader (.json, .json.gz): one source file into
// the run of a ReaderContext (traces/import/import.h).
//
// How the file maps (traces/SCHEMA.md, "Imported runs"):
//
// | source                                   | event kind | lane                          | fields                                  |
// | ---------------------------------------- | ---------- | ----------------------------- | --------------------------------------- |
// | X user_annotation "ProfilerStep#N"       | Step       | kSteps (0)                    | step N                                  |
// | X kernel                                 | Kernel     | "stream s" (kCudaStreamBase+s)| correlation; stream = args.stream (tid) |
// | X kernel ncclKernel_* / ncclDevKernel_*  | Comm       | "stream s"                    | collective (args "Collective name", else|
// |                                          |            |                               | the name), bytes = "In msg nelems" x    |
// |                                          |            |                               | size("dtype"), group_size "Group size", |
// |                                          |            |                               | group_id = lowest "Process Group Ranks" |
// | X gpu_memcpy / gpu_memset                | Memcpy /   | "stream s"                    | bytes = args.bytes, correlation         |
// |                                          | Memset     |                               |                                         |
// | X cuda_sync                              | Sync       | "stream s"; "device sync"     | correlation (no stream: device-wide)    |
// | X cuda_runtime / cuda_driver             | HostRange  | kCudaApi (15) "cuda api"      | correlation = args.correlation          |
// | X cpu_op / user_annotation               | HostRange  | host thread (pid, tid)        |                                         |
// | X cpu_op / user_annotation "nccl:<coll>" | Comm       | host thread (pid, tid)        | collective from the name; bytes from    |
// |                                          |            |                               | "In msg nelems" x dtype, else the first |
// |                                          |            |                               | "Input Dims" x "Input type"             |
// | X gpu_user_annotation                    | HostRange  | "annotations, stream s"       | (never Comm: it repeats the kernels)    |
// | X python_function, X Trace, other cats   | skipped    | counted in ctx.skipped        |                                         |
// | s / f / t flows (ac2g, fwdbwd, ...)      | skipped    | counted: kernels keep the     |                                         |
// |                                          |            | correlation the flow carries  |                                         |
// | M process_name / process_labels /        | -          | thread_name names host lanes  |                                         |
// | thread_name / *_sort_index               |            | "thread <tid> (<name>)"       |                                         |
// | other phases (i, B, E, C, ...)           | skipped    | counted                       |                                         |
// | distributedInfo.rank / world_size        | -          | the rank (else rank_hint); a collective whose group size is the     |
// |                                          |            | world size gets group kind World                                    |
// | deviceProperties[].name                  | -          | rank device "cuda:N (<name>)", N = the device of most GPU records   |
// | schemaVersion, distributedInfo.nccl_version | -       | ctx.version                                                         |
// | baseTimeNanoseconds                      | -          | added to every time (newer Kineto writes ts relative to it)         |
//
// Host threads get lanes 32, 33, ... in order of appearance; stream s gets kCudaStreamBase + s
// unless a host thread holds that lane already, then the next free lane (it is named
// "stream s", which is how readers find streams). Times: ts and dur are microseconds written
// with up to three (or more) decimals; the decimal text is converted to integer nanoseconds
// exactly (never through a double). Event.step: the ProfilerStep window holding the event's start;
// GPU records (kernels, copies, syncs) take the step of the runtime call that launched them
// through the correlation id when that call is in the file, else their own start.
//
// Streaming: the JSON is read in 4 MiB chunks by a scanner made for this format; events go
// through a temporary file (72 bytes each) so that steps and the rank, which may be known only
// at the end of the file, are set before they are written. Memory holds one chunk, one batch, the
// distinct names and one entry per step, whatever the size of the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "traces/import/import.h"

namespace ss::traces::import {
// Reads ctx.file into ctx.writer / ctx.run; fills ctx.ranks, ctx.skipped, ctx.tool, ctx.version,
// ctx.events. Throws ImportError naming the file and the problem.
void read_kineto(ReaderContext& ctx);

// Parts of the mapping, exposed for the tests.
// Microseconds as JSON number text ("1700000000123456.789", "2.5e3") -> integer nanoseconds,
// exact (rounded to the nearest ns past the third decimal); nullopt when not a number or too big.
std::optional<std::int64_t> kineto_us_to_ns(std::string_view us);
// "all_reduce", "allreduce", "AllReduce", "_allgather_base", "reduce_scatter_tensor", ... ->
// the collective; None when it is none of ours (e.g. "SendRecv", "gather").
Collective kineto_collective(std::string_view name);
// Bytes per element of a dtype name as Kineto writes it ("Float" 4, "BFloat16" 2, "Long" 8,
// "c10::Half" 2, "unsigned char" 1, ...); 0 when unknown.
std::int64_t kineto_dtype_size(std::string_view dtype);
}  // namespace ss::traces::import

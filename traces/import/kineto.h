// The PyTorch profiler (Kineto) Chrome-format JSON reader (.json, .json.gz): one source file into
// the run of a ReaderContext (traces/import/import.h).
//
// How the file maps (traces/SCHEMA.md, "Imported runs"). Events ("ph": "X", by "cat"):
//
// | source (cat, name)         | kind      | lane                 | fields                       |
// | -------------------------- | --------- | -------------------- | ---------------------------- |
// | user_annotation or cpu_op  | Step      | kSteps (0) "steps"   | step N                       |
// | "ProfilerStep#N"           |           |                      |                              |
// | kernel                     | Kernel    | "stream s" (1)       | correlation (args)           |
// | kernel ncclKernel_* /      | Comm      | "stream s"           | collective: args "Collective |
// | ncclDevKernel_*            |           |                      | name", else the kernel name; |
// |                            |           |                      | bytes = "In msg nelems" x    |
// |                            |           |                      | size("dtype"); group_size =  |
// |                            |           |                      | "Group size"; group_id = the |
// |                            |           |                      | lowest of "Process Group     |
// |                            |           |                      | Ranks"                       |
// | gpu_memcpy / gpu_memset    | Memcpy /  | "stream s"           | bytes = args "bytes";        |
// |                            | Memset    |                      | correlation                  |
// | cuda_sync                  | Sync      | "stream s", or       | correlation                  |
// |                            |           | "device sync"        |                              |
// | cuda_runtime / cuda_driver | HostRange | kCudaApi (15) "cuda  | correlation (args)           |
// |                            |           | api"                 |                              |
// | cpu_op / user_annotation   | HostRange | host thread (2)      |                              |
// | cpu_op / user_annotation   | Comm      | host thread          | collective from the name;    |
// | "nccl:<collective>"        |           |                      | bytes as for kernels, else   |
// |                            |           |                      | first "Input Dims" x "Input  |
// |                            |           |                      | type"                        |
// | gpu_user_annotation        | HostRange | "annotations, stream | never Comm (the kernels are) |
// |                            |           | s"                   |                              |
// | python_function, Trace,    | skipped   |                      | counted in ctx.skipped       |
// | any other category         |           |                      |                              |
//
// Other records: flows ("ph" s / f / t: ac2g, async_cpu_to_gpu, fwdbwd) are counted, not stored
// (the correlation id they carry is on the records they join); metadata ("ph": "M")
// thread_name names host lanes, process_name / process_labels / *_sort_index are read and not
// needed; any other phase (i, B, E, C, ...) is counted in ctx.skipped. Top level:
// distributedInfo.rank is the rank (else ctx.rank_hint); a collective whose group size equals
// distributedInfo.world_size gets group kind World; deviceProperties[].name names the device
// ("cuda:N (<name>)", N the device of most GPU records; "cpu" without GPU records);
// schemaVersion and distributedInfo.nccl_version make ctx.version; baseTimeNanoseconds (newer
// Kineto writes ts relative to it) is added to every time. Tool: "PyTorch profiler (Kineto)".
//
// (1) stream s = args "stream" (else tid); lane kCudaStreamBase + s, named "stream s" (which is
//     how readers find streams). Several devices keep all their streams.
// (2) one lane per (pid, tid) from lanes::kHostThreadBase upwards in order of appearance, named
//     "thread <tid>", or Kineto's thread name ("thread <tid> (<name>)"); other named lanes
//     ("device sync", "annotations, stream s") are taken from there too.
//
// Times: ts and dur are microseconds written with up to three (or more) decimals; the decimal
// text is converted to integer nanoseconds exactly (never through a double). Event.step: the ProfilerStep window holding the event's
// start; GPU records (kernels, copies, syncs) take the step of the runtime call that launched
// them: CUPTI numbers API calls in call order, so the launches inside one window hold one range of
// correlation ids; a record whose id lies in a window's range gets that step, one whose id lies
// among the file's launches but in no window's range gets none, and one without a correlation id
// (or with one outside all launches in the file) is placed by its own start.
//
// Streaming: the JSON is read in 4 MiB chunks by a scanner made for this format. A plain .json
// read by import_traces (ReaderContext::streaming) is written while it is read: the records pass
// through a delay of 65,536 records, take the step of the steps and launches known then, and go
// to the writer on a thread of its own (SQLite inserting on one core, the parse on the other);
// a second pass over the records (kept in a temporary file, 72 bytes each) then sets again the
// step of the few events that a later part of the file changed. The rank, world size and time
// base are those known when traceEvents begins, the time base from the last 64 KiB of the file
// when only the end says it (newer Kineto writes baseTimeNanoseconds after traceEvents); when
// the end of the file contradicts them, RestartWithoutStreaming reads the file again whole. A
// .json.gz (no end to read first) is read whole, then written. Memory holds one chunk, the delay,
// four batches waiting for the writer, the distinct names and one entry per step, whatever the
// size of the file.
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

// Merges the per-rank trace files of one run into one run of an output trace file, moving every
// rank's timestamps onto rank 0's clock with the offset and drift the rank measured.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "traces/types.h"

namespace ss::traces {

// Rank-clock time -> rank-0 time: t - (offset + drift_ppb * 1e-9 * (t - ref)).
std::int64_t correct_time(const RankInfo& rank, std::int64_t t_ns);

struct MergeOptions {
    // Overrides the merged run's status (e.g. the launcher knows the run was cancelled). When
    // unset: completed if every rank file finished completed, otherwise the worst rank status,
    // and a rank file never finished (its process died) makes the run failed.
    std::optional<RunStatus> status;
    std::string failure_reason;
    // World ranks expected; ranks without a file are counted in merge_rank_files_missing.
    int expected_world_size = -1;
    // Set by the launcher, which knows whether more ranks than cores ran.
    std::optional<bool> oversubscribed;
    // Host names of the run (the launcher's host list); default: the ranks' hosts.
    std::vector<std::string> hosts;
};

struct MergeResult {
    RunId run;
    std::int64_t events = 0;
    int ranks = 0;
    RunStatus status = RunStatus::Completed;
    std::string failure_reason;
    std::vector<std::string> warnings;
};

// A rank killed inside a write leaves a hot journal (`FILE-journal`), which a read-only open cannot
// roll back; a profiler killed at any time leaves its WAL (`FILE-wal`, its committed flushes).
// Opens such a rank file for writing once, which restores it to its last committed flush and
// makes it one file again. Returns whether a rollback of a hot journal happened. Only for rank
// files ScaleScope wrote itself.
bool recover_interrupted_write(const std::string& rank_file);

// A rank whose process ended before its finish leaves its last flushed spans staged
// (traces/span_chunks.h). Opens such a rank file for writing once and converts them into events
// rows (the run stays as it was, "running"). Returns the events converted.
std::int64_t expand_staged_spans(const std::string& rank_file);

// Each input file holds exactly one run with exactly one rank (what the profiler writes). The
// output is created or appended to. Rank files with an interrupted write are recovered first
// (a warning says so), and their staged spans expanded. Throws TraceError naming the file on any
// bad input; the output file is left as it was when that happens before writing begins.
MergeResult merge_rank_files(const std::vector<std::string>& rank_files,
                             const std::string& output, const MergeOptions& options = {});

}  // namespace ss::traces

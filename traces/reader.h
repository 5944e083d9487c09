// Reads a trace file. Trace files are untrusted input: the file is opened read-only with SQLite's
// defensive settings, its structure is validated before any query, and every query is
// parameterised. An older schema is migrated into an in-memory copy; the file is never written.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "traces/schema.h"
#include "traces/sqlite_util.h"
#include "traces/types.h"

namespace ss::traces {

class TraceReader {
public:
    // Throws TraceError naming the problem: missing file, not SQLite, another program's database,
    // corrupt or truncated, newer schema, unexpected schema objects.
    explicit TraceReader(const std::string& path);

    const std::string& path() const { return path_; }
    int schema_version() const { return version_; }

    std::vector<RunInfo> runs();
    RunInfo run(RunId id);  // throws when absent
    std::vector<RankInfo> ranks(RunId run);
    // Lanes with their bounds. For a run whose writer never flushed lane rows (a crashed rank
    // file), they are computed from the events.
    std::vector<Lane> lanes(RunId run);
    // Events of one lane that overlap [t0, t1), ordered by start. Uses the events index over
    // (run, rank, lane, start) and the lane's longest event, so its cost depends on the events in
    // the window, not on the file's size.
    std::vector<Event> events_in_window(RunId run, std::int32_t rank, std::int32_t lane,
                                        std::int64_t t0, std::int64_t t1);
    // Every event of a run in storage order (for merge and export).
    void scan_events(RunId run, const std::function<void(const Event&)>& fn);
    std::vector<Aggregate> aggregates(RunId run);
    std::vector<StatRow> stats(RunId run);
    std::vector<Metric> metrics(RunId run);
    // The run's rows of run_summaries (schema version 4; migrated files have the table), key ->
    // value text: "analysis/v2", and what the worker stores at the end of a run ("ps_servers",
    // "ps_staleness_max", "slow_rank", ...).
    std::map<std::string, std::string> run_summaries(RunId run);
    std::vector<StudyInfo> studies();
    std::vector<StudyRun> study_runs(StudyId study);
    // Stored hardware files, oldest first (none in a file migrated from schema version 1).
    std::vector<Calibration> calibrations();

    // Interned strings of this file.
    const std::string& string(StringId id);

private:
    void load_strings();
    std::string path_;
    Db db_;
    int version_ = 0;
    std::vector<std::string> strings_;  // index = id (ids are small dense integers)
    Stmt window_lane_, window_events_;  // events_in_window, prepared on first use
    std::map<std::int64_t, std::vector<Lane>> derived_lanes_;  // runs without stored lane rows
    std::string unknown_;
};

// Reads one event row (columns in schema order after `id`) from a statement.
Event event_from_row(const Stmt& st, int first_col);

}  // namespace ss::traces

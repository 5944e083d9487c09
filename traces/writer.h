// Writes runs into a trace file: prepared statements, batched transactions, interned strings.
// A writer owns its file exclusively while open (one writer per file; readers may read
// concurrently between its commits).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "traces/aggregate.h"
#include "traces/schema.h"
#include "traces/span_chunks.h"
#include "traces/spilled_summaries.h"
#include "traces/sqlite_util.h"
#include "traces/types.h"

namespace ss::traces {

struct WriterOptions {
    // Events per transaction; the writer commits when a batch fills and on flush().
    std::int64_t batch_events = 200000;
    // true: synchronous=NORMAL (survives an OS crash after commit); false: synchronous=OFF
    // (survives a process crash, which is what per-rank files need, and is faster).
    bool durable = true;
    std::string created_by = "scalescope";
    // false: the aggregates are summed in memory as events arrive (8 bytes per summarised event,
    // for exact medians), SQLite's temporary storage is in memory and the events index is built
    // by finish_run (fast for runs that fit in memory). true: memory bounded by the page cache
    // and a few buffers whatever the run's size (imports of multi-gigabyte traces): the durations
    // spill to a temporary file and finish_run selects the medians and p95s from it
    // (traces/spilled_summaries.h), the events index is kept as the events arrive (no sort of
    // the whole table at the end), and SQLite's temporary storage is on disk. Both give the same
    // rows; true needs the run written by this one writer (not continued from an earlier
    // session).
    bool bounded_memory = false;
    // true: WAL journal while the writer is open (the profiler's rank file: a commit appends the
    // pages it changed to the -wal file instead of creating, writing and deleting a -journal file:
    // 45 instead of 120 us of CPU per flush of 240 spans). The file returns to a rollback journal
    // when the writer closes or finishes a run; a killed writer leaves FILE-wal, which the next
    // writer (traces/merge.h recover_interrupted_write) folds in.
    bool wal = false;
};

class TraceWriter {
public:
    // Creates `path` when missing; otherwise opens an existing ScaleScope trace (migrating an
    // older schema) to append runs. Any other file is refused with TraceError.
    explicit TraceWriter(const std::string& path, WriterOptions options = {});
    ~TraceWriter();  // commits what is pending; unfinished runs stay "running"
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    // Starts a run; `info.id` is ignored and the new id returned.
    RunId begin_run(const RunInfo& info);
    // Adds or replaces a rank's row (call again once the end-of-run clock exchange is known).
    void put_rank(const RankInfo& rank);
    StringId intern(std::string_view s);
    // Names a lane of a rank. Lanes used without a name are called "lane N".
    void define_lane(RunId run, std::int32_t rank, std::int32_t lane, std::string_view name);

    // Appends an event. An event with end < start is not stored; it is counted as
    // events_malformed in the run's stats. Returns whether it was stored.
    bool add_event(const Event& e);
    // Stages an event (traces/span_chunks.h): packed into the chunk that the next flush() stores
    // as one span_chunks row, instead of an events row. The lanes, the run's event count and the
    // malformed count are kept as by add_event; the events rows and aggregates come when the
    // chunks are expanded (finish_run, or expand_staged). Returns whether it was staged.
    bool stage_event(const Event& e);
    // Converts the staged chunks of `run` into events rows and deletes them, in one transaction
    // (committed): a crash inside leaves the chunks as they were. Returns the events added.
    std::int64_t expand_staged(RunId run);
    void add_metric(RunId run, std::int32_t rank, std::int64_t step, std::int64_t time_ns,
                    std::string_view name, double value);
    // Adds `delta` to a stats counter (stats_keys.h) of the run (rank -1 for the whole run).
    void add_stat(RunId run, std::int32_t rank, std::string_view key, std::int64_t delta);

    // Commits everything pending, including lane bounds and the event count, so a crash after
    // flush() loses nothing written before it.
    void flush();
    // Marks the run finished: expands its staged chunks, writes status, end time, lanes and the
    // stored aggregates, builds the events index.
    void finish_run(RunId run, RunStatus status, std::string_view failure_reason,
                    std::int64_t end_ns);
    // Updates a run's start/end times or status without finishing it.
    void set_run_times(RunId run, std::int64_t start_ns, std::int64_t end_ns);

    StudyId add_study(const StudyInfo& study);
    void add_study_run(const StudyRun& row);

    // Stores a measured hardware file (schema version 2); `c.id` is ignored and the new id
    // returned. Committed at once. Throws TraceError when hardware_json is empty.
    CalibrationId add_calibration(const Calibration& c);

    // The id the next stored event gets (events are numbered in the order they are stored, and
    // only this writer adds to the file while it is open).
    std::int64_t next_event_id();
    // Sets the step of stored events: each range is (first id, last id, step; kNone: no step).
    void set_event_steps(const std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>& ranges);

    const std::string& path() const { return db_.path(); }
    std::int64_t events_written() const { return events_total_; }

private:
    void begin_batch();
    void commit_batch();
    void leave_wal();  // commits, then back to a rollback journal if the file is in WAL mode
    void write_lanes(RunId run);
    // The aggregates of a run from its spilled durations (WriterOptions::bounded_memory).
    std::vector<AggregateBuilder::Row> spilled_aggregates(RunId run);
    struct LaneState {
        std::string name;
        std::int64_t count = 0, max_dur = 0, min_start = INT64_MAX, max_end = INT64_MIN;
    };
    struct RunState {
        std::int64_t event_count = 0;
        std::map<std::pair<std::int32_t, std::int32_t>, LaneState> lanes;
        std::map<std::pair<std::int32_t, std::string>, std::int64_t> stats;
        AggregateBuilder aggregates;
        // bounded_memory: the aggregate groups (a dense index each, its key and bytes) and their
        // durations, spilled to a temporary file.
        struct GroupKey {
            int kind, collective, group_kind;
            std::int64_t name;
            bool operator==(const GroupKey&) const = default;
        };
        struct GroupKeyHash {
            std::size_t operator()(const GroupKey& k) const {
                return std::hash<std::int64_t>{}(k.name * 1315423911 + k.kind * 977 + k.collective * 31 +
                                                 k.group_kind);
            }
        };
        std::unordered_map<GroupKey, std::uint32_t, GroupKeyHash> group_index;
        std::vector<AggregateBuilder::Row> group_rows;  // by index; summary filled at finish_run
        std::unique_ptr<SpilledSummaries> durations;
        GroupKey last_group{-1, -1, -1, -1};
        std::uint32_t last_group_index = 0;
        bool dirty = false;
    };
    RunState& state(RunId run);
    // add_event / stage_event: the event's run state, or nullptr for a malformed event (counted).
    RunState* accept_event(const Event& e);
    // add_event / stage_event: the lane bounds and counts of a stored or staged event.
    void count_event(RunState& rs, const Event& e);
    // Queues the events row of e and adds it to the aggregates.
    void store_event(RunState& rs, const Event& e);
    void write_staged();  // stores the staged chunk (a span_chunks row)
    // The last run and lane an event went to: consecutive events mostly share them.
    std::int64_t last_run_ = -1;
    RunState* last_state_ = nullptr;
    std::pair<std::int32_t, std::int32_t> last_lane_key_{-1, -1};
    LaneState* last_lane_ = nullptr;

    WriterOptions opt_;
    Db db_;
    void write_rows();  // inserts rows_ (any count up to kRowsPerInsert)
    // Events are inserted kRowsPerInsert at a time by one multi-row INSERT: the per-statement work
    // of SQLite (step, reset, halt) is paid once per block instead of once per event.
    static constexpr int kRowsPerInsert = 64;
    std::vector<Event> rows_;
    // What each parameter of the two insert statements holds: SQLite keeps bindings across
    // sqlite3_reset, so a value equal to the bound one (the run, the rank, the many NULLs) is not
    // bound again.
    struct Bound {
        enum : std::uint8_t { Unset, Null, Int, Real } type = Unset;
        std::int64_t bits = 0;
    };
    std::vector<Bound> block_bound_, single_bound_;
    Stmt insert_block_;
    // Staging (stage_event): the chunk being packed and the (run, rank) it belongs to.
    SpanChunkEncoder staged_;
    RunId staged_run_;
    std::int32_t staged_rank_ = 0;
    Stmt insert_chunk_, set_times_;
    Stmt insert_event_, insert_string_, insert_metric_, upsert_rank_, upsert_lane_, upsert_stat_,
        update_count_;
    std::unordered_map<std::string, std::int64_t> strings_;
    std::map<std::int64_t, RunState> runs_;
    bool in_tx_ = false;
    std::int64_t pending_ = 0;
    std::int64_t events_total_ = 0;
};

}  // namespace ss::traces

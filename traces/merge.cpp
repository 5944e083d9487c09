#include "traces/merge.h"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "traces/aggregate.h"
#include "traces/lod.h"
#include "traces/reader.h"
#include "traces/schema.h"
#include "traces/sqlite_util.h"
#include "traces/stats_keys.h"
#include "traces/writer.h"

namespace ss::traces {

std::int64_t correct_time(const RankInfo& k, std::int64_t t) {
    const double drift = k.clock_drift_ppb * 1e-9 * static_cast<double>(t - k.clock_ref_ns);
    return t - k.clock_offset_ns - static_cast<std::int64_t>(std::llround(drift));
}

bool recover_interrupted_write(const std::string& rank_file) {
    std::error_code ec;
    // A hot rollback journal (a rank ended inside a write), or the WAL of a profiler that never
    // closed its rank file (WriterOptions::wal: the WAL holds its committed flushes; a write it
    // was inside is not in them). A writer's open rolls the first back, and its close folds the
    // second into the file.
    const bool hot = std::filesystem::exists(rank_file + "-journal", ec);
    if (!hot && !std::filesystem::exists(rank_file + "-wal", ec)) return false;
    TraceWriter recover(rank_file, WriterOptions{.durable = false});
    return hot;
}

std::int64_t expand_staged_spans(const std::string& rank_file) {
    std::vector<std::int64_t> runs;
    {
        Db db(rank_file, Db::Mode::ReadOnly);
        if (!db.table_exists(kSpanChunksTable)) return 0;
        Stmt st = db.prepare("SELECT DISTINCT run_id FROM span_chunks");
        while (st.step()) runs.push_back(st.col_int(0));
    }
    if (runs.empty()) return 0;
    TraceWriter w(rank_file, WriterOptions{.durable = false});
    std::int64_t n = 0;
    for (std::int64_t r : runs) n += w.expand_staged(RunId(r));
    return n;
}

namespace {
int severity(RunStatus s) {
    switch (s) {
        case RunStatus::Completed: return 0;
        case RunStatus::Cancelled: return 1;
        case RunStatus::Running: return 2;  // never finished: the process died
        case RunStatus::Failed: return 3;
    }
    return 3;
}

struct Input {
    std::string path;
    std::unique_ptr<TraceReader> reader;
    RunInfo run;
    RankInfo rank;
};

// What the copy of one rank file's events learns as the rows pass (the tap, below): the output
// name of each row, the lanes' bounds and the aggregates, so no second pass over the events.
struct Tap {
    const RankInfo* rank = nullptr;
    std::int32_t out_rank = 0;
    std::vector<std::int64_t> names;  // rank file string id -> output string id (-1: none)
    std::int64_t run_start = 0, run_end = 0;
    std::int64_t outside = 0, malformed = 0, stored = 0;
    struct LaneBounds {
        std::int64_t count = 0, max_dur = 0, min_start = INT64_MAX, max_end = INT64_MIN;
    };
    std::map<std::int32_t, LaneBounds> lanes;
    std::int32_t last_lane = INT32_MIN;
    LaneBounds* last = nullptr;
    // The aggregates' groups (as AggregateBuilder keys them), shared by the ranks of the run; the
    // previous row's group is remembered (consecutive rows of a lane mostly share it).
    struct Group {
        std::vector<std::int64_t> durations;
        std::int64_t bytes = 0;
    };
    using GroupKey = std::tuple<int, std::int64_t, int, int>;
    std::map<GroupKey, Group>* groups = nullptr;
    GroupKey last_key{-1, -1, -1, -1};
    Group* last_group = nullptr;
};

// ss_merge_tap(lane, kind, name_id, collective, group_kind, start_ns, end_ns, bytes): the output
// name id of the row, or NULL for a row the writer would not store (end before start, unknown
// name), which INSERT OR IGNORE then skips. Times are corrected here as in the SQL that stores them.
void merge_tap(sqlite3_context* ctx, int, sqlite3_value** v) {
    Tap& t = *static_cast<Tap*>(sqlite3_user_data(ctx));
    const std::int64_t src_name = sqlite3_value_int64(v[2]);
    const std::int64_t start = correct_time(*t.rank, sqlite3_value_int64(v[5]));
    const std::int64_t end = correct_time(*t.rank, sqlite3_value_int64(v[6]));
    const std::int64_t name = src_name >= 0 && src_name < static_cast<std::int64_t>(t.names.size())
                                  ? t.names[static_cast<size_t>(src_name)]
                                  : -1;
    if (end < start || name < 0) {
        ++t.malformed;
        sqlite3_result_null(ctx);
        return;
    }
    const auto lane = static_cast<std::int32_t>(sqlite3_value_int64(v[0]));
    if (lane != t.last_lane || !t.last) {
        t.last_lane = lane;
        t.last = &t.lanes[lane];  // std::map: the pointer stays valid
    }
    Tap::LaneBounds& l = *t.last;
    ++l.count;
    l.max_dur = std::max(l.max_dur, end - start);
    l.min_start = std::min(l.min_start, start);
    l.max_end = std::max(l.max_end, end);
    if (start < t.run_start || end > t.run_end) ++t.outside;
    const int kind = sqlite3_value_int(v[1]);
    if (is_summarised(static_cast<EventKind>(kind))) {
        const Tap::GroupKey key{kind, name, sqlite3_value_int(v[3]), sqlite3_value_int(v[4])};
        if (!t.last_group || key != t.last_key) {
            t.last_key = key;
            t.last_group = &(*t.groups)[key];  // std::map: the pointer stays valid
        }
        t.last_group->durations.push_back(end - start);
        const std::int64_t bytes = sqlite3_value_int64(v[7]);  // NULL reads as 0
        if (bytes > 0) t.last_group->bytes += bytes;
    }
    ++t.stored;
    sqlite3_result_int64(ctx, name);
}

// The corrected time of column `col` in SQL: what correct_time computes, with ?3 = offset,
// ?4 = drift (ppb × 1e-9) and ?5 = reference time. round() rounds halves away from zero as llround.
// The terms that are zero for this rank are left out (rank 0: the column itself).
std::string corrected(const char* col, const RankInfo& k) {
    if (k.clock_drift_ppb == 0)
        return k.clock_offset_ns == 0 ? std::string(col) : std::string(col) + " - ?3";
    return std::string(col) + " - ?3 - CAST(round(?4 * (" + col + " - ?5)) AS INTEGER)";
}

// Copies every rank file's events into run `run` of `output`, in the order of
// the events index (rank, lane, start), so the index grows at its end; then writes the lanes, the
// aggregates, the counters and the run's status, end and event count. Returns the events stored.
std::int64_t copy_events(const std::vector<Input>& inputs, const std::string& output, RunId run,
                         const RunInfo& info, RunStatus status, const std::string& reason) {
    Db db(output, Db::Mode::ReadWrite);
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA cache_size=-65536");
    db.exec("PRAGMA temp_store=MEMORY");
    create_indexes(db);
    // Aggregates over every rank: the durations of the groups of all ranks together.
    std::map<Tap::GroupKey, Tap::Group> groups;
    std::int64_t total = 0;
    for (const auto& in : inputs) {
        Tap t;
        t.rank = &in.rank;
        t.out_rank = in.rank.rank;
        t.run_start = info.start_ns;
        t.run_end = info.end_ns;
        t.groups = &groups;
        {
            Stmt at = db.prepare("ATTACH DATABASE ?1 AS src");
            at.bind(1, in.path).run();
        }
        // A transaction per rank file (SQLite detaches a file only outside one); the run stays
        // "running" until the last one, which sets its status, end and event count.
        db.exec("BEGIN");
        // Re-intern the rank file's strings in the output file.
        db.exec("INSERT OR IGNORE INTO main.strings(value) SELECT value FROM src.strings");
        Stmt map = db.prepare(
            "SELECT s.id, m.id FROM src.strings AS s JOIN main.strings AS m ON m.value = s.value");
        while (map.step()) {
            const std::int64_t src = map.col_int(0);
            if (src < 0 || src > (std::int64_t{1} << 31)) continue;
            if (static_cast<std::size_t>(src) >= t.names.size()) t.names.resize(static_cast<size_t>(src) + 1, -1);
            t.names[static_cast<size_t>(src)] = map.col_int(1);
        }
        map = Stmt();
        SS_SQLITE_CHECK(db.handle(), sqlite3_create_function_v2(db.handle(), "ss_merge_tap", 8, SQLITE_UTF8,
                                                                 &t, merge_tap, nullptr, nullptr, nullptr));
        Stmt copy = db.prepare(
            "INSERT OR IGNORE INTO main.events(run_id, rank, lane, kind, name_id, start_ns, "
            "end_ns, step,"
            " micro_batch, layer, bytes, flops, collective, group_kind, group_id, group_size, "
            "peer, seq,"
            " correlation) SELECT ?1, ?2, lane, kind,"
            " ss_merge_tap(lane, kind, name_id, collective, group_kind, start_ns, end_ns, "
            "bytes), " +
            corrected("start_ns", in.rank) + ", " + corrected("end_ns", in.rank) +
            ", step, micro_batch, layer, bytes, flops, collective, group_kind, group_id, "
            "group_size, peer,"
            " seq, correlation FROM src.events WHERE run_id = ?6 ORDER BY run_id, rank, lane, "
            "start_ns");
        copy.bind(1, run.value).bind(2, in.rank.rank).bind(3, in.rank.clock_offset_ns);
        copy.bind(4, in.rank.clock_drift_ppb * 1e-9).bind(5, in.rank.clock_ref_ns).bind(6, in.run.id.value);
        copy.run();
        copy = Stmt();
        SS_SQLITE_CHECK(db.handle(), sqlite3_create_function_v2(db.handle(), "ss_merge_tap", 8, SQLITE_UTF8,
                                                                 nullptr, nullptr, nullptr, nullptr, nullptr));

        // Lanes: every lane the rank file names (bounds from its rows), and any it does not.
        Stmt lane = db.prepare(
            "INSERT OR REPLACE INTO lanes(run_id, rank, lane, name, event_count, max_duration_ns,"
            " min_start_ns, max_end_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
        auto put_lane = [&](std::int32_t l, const std::string& name, const Tap::LaneBounds& b) {
            lane.bind(1, run.value).bind(2, t.out_rank).bind(3, l).bind(4, name);
            lane.bind(5, b.count).bind(6, b.max_dur);
            lane.bind(7, b.count ? b.min_start : 0).bind(8, b.count ? b.max_end : 0).run();
        };
        std::set<std::int32_t> named;
        for (const auto& l : in.reader->lanes(in.run.id)) {
            auto it = t.lanes.find(l.lane);
            put_lane(l.lane, l.name, it == t.lanes.end() ? Tap::LaneBounds{} : it->second);
            named.insert(l.lane);
        }
        for (const auto& [l, b] : t.lanes)
            if (!named.count(l)) put_lane(l, "lane " + std::to_string(l), b);
        Stmt stat = db.prepare(
            "INSERT INTO stats(run_id, rank, key, value) VALUES(?1,?2,?3,?4)"
            " ON CONFLICT(run_id, rank, key) DO UPDATE SET value = value + excluded.value");
        if (t.outside)
            stat.bind(1, run.value).bind(2, t.out_rank).bind(3, stats::kMergeEventsOutsideRun.key)
                .bind(4, t.outside).run();
        if (t.malformed)
            stat.bind(1, run.value).bind(2, -1).bind(3, stats::kEventsMalformed.key).bind(4, t.malformed).run();
        total += t.stored;
        db.exec("COMMIT");
        db.exec("DETACH DATABASE src");
    }
    db.exec("BEGIN");
    Stmt agg = db.prepare(
        "INSERT OR REPLACE INTO aggregates(run_id, kind, name_id, collective, group_kind, count,"
        " total_ns, mean_ns, median_ns, p95_ns, min_ns, max_ns, bytes)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
    for (auto& [key, g] : groups) {
        const auto [kind, name, collective, group_kind] = key;
        const DurationSummary s = summarize_durations(g.durations);
        agg.bind(1, run.value).bind(2, kind).bind(3, name).bind(4, collective).bind(5, group_kind);
        agg.bind(6, s.count).bind(7, s.total_ns).bind(8, s.mean_ns).bind(9, s.median_ns);
        agg.bind(10, s.p95_ns).bind(11, s.min_ns).bind(12, s.max_ns).bind(13, g.bytes);
        agg.run();
    }
    Stmt fin = db.prepare(
        "UPDATE runs SET status=?2, failure_reason=?3, end_ns=?4, event_count=?5 WHERE id=?1");
    fin.bind(1, run.value).bind(2, to_string(status)).bind(3, reason).bind(4, info.end_ns).bind(5, total).run();
    db.exec("COMMIT");
    return total;
}
}  // namespace

MergeResult merge_rank_files(const std::vector<std::string>& files, const std::string& output,
                             const MergeOptions& opt) {
    if (files.empty()) throw TraceError("merge: no rank files given");
    // Read and check every input before touching the output.
    std::vector<Input> inputs;
    std::set<int> seen;
    std::vector<std::string> recovered;
    for (const auto& f : files) {
        if (recover_interrupted_write(f))
            recovered.push_back("'" + f + "' was rolled back to its last flush (its rank ended inside a write)");
        expand_staged_spans(f);
        Input in;
        in.path = f;
        in.reader = std::make_unique<TraceReader>(f);
        auto runs = in.reader->runs();
        if (runs.size() != 1)
            throw TraceError("merge: '" + f + "' holds " + std::to_string(runs.size()) +
                             " runs; a rank file holds exactly one");
        in.run = runs[0];
        auto ranks = in.reader->ranks(in.run.id);
        if (ranks.size() != 1)
            throw TraceError("merge: '" + f + "' holds " + std::to_string(ranks.size()) +
                             " ranks; a rank file holds exactly one");
        in.rank = ranks[0];
        if (!seen.insert(in.rank.rank).second)
            throw TraceError("merge: rank " + std::to_string(in.rank.rank) +
                             " appears twice (again in '" + f + "')");
        if (!inputs.empty()) {
            const RunInfo& a = inputs[0].run;
            if (a.name != in.run.name || a.world_size != in.run.world_size || a.dp != in.run.dp ||
                a.tp != in.run.tp || a.pp != in.run.pp)
                throw TraceError("merge: '" + f + "' belongs to another run ('" + in.run.name +
                                 "', world " + std::to_string(in.run.world_size) + ") than '" +
                                 inputs[0].path + "' ('" + a.name + "', world " +
                                 std::to_string(a.world_size) + ")");
        }
        if (in.rank.rank < 0 || in.rank.rank >= in.run.world_size)
            throw TraceError("merge: '" + f + "' is rank " + std::to_string(in.rank.rank) +
                             " of a world of " + std::to_string(in.run.world_size));
        inputs.push_back(std::move(in));
    }
    std::sort(inputs.begin(), inputs.end(),
              [](const Input& a, const Input& b) { return a.rank.rank < b.rank.rank; });

    MergeResult result;
    result.warnings = recovered;
    const int world = opt.expected_world_size > 0 ? opt.expected_world_size
                                                  : inputs[0].run.world_size;
    std::vector<int> missing;
    for (int r = 0; r < world; ++r)
        if (!seen.count(r)) missing.push_back(r);

    // Run metadata from the lowest rank (rank 0 when present); times on the common clock.
    RunInfo info = inputs[0].run;
    info.start_ns = INT64_MAX;
    info.end_ns = INT64_MIN;
    for (const auto& in : inputs) {
        info.start_ns = std::min(info.start_ns, correct_time(in.rank, in.run.start_ns));
        info.end_ns = std::max(info.end_ns, correct_time(in.rank, in.run.end_ns));
        // A rank file whose process died has no end time: its events bound the run instead.
        for (const auto& l : in.reader->lanes(in.run.id)) {
            if (l.event_count == 0) continue;
            info.start_ns = std::min(info.start_ns, correct_time(in.rank, l.min_start_ns));
            info.end_ns = std::max(info.end_ns, correct_time(in.rank, l.max_end_ns));
        }
    }
    std::set<std::string> hosts;
    for (const auto& in : inputs) hosts.insert(in.rank.host);
    if (!opt.hosts.empty()) info.hosts = opt.hosts;
    if (info.hosts.empty()) info.hosts.assign(hosts.begin(), hosts.end());
    if (opt.oversubscribed) info.oversubscribed = *opt.oversubscribed;
    info.status = RunStatus::Running;
    info.failure_reason.clear();

    // Status: the worst of the ranks, unless the caller knows better.
    RunStatus status = RunStatus::Completed;
    std::string reason;
    for (const auto& in : inputs) {
        if (severity(in.run.status) > severity(status)) {
            status = in.run.status;
            reason = in.run.status == RunStatus::Running
                         ? "rank " + std::to_string(in.rank.rank) +
                               " did not finish its trace (the process ended early)"
                         : "rank " + std::to_string(in.rank.rank) + ": " + in.run.failure_reason;
        }
    }
    if (status == RunStatus::Running) status = RunStatus::Failed;
    if (!missing.empty() && status == RunStatus::Completed) {
        status = RunStatus::Failed;
        reason = "no trace from rank " + std::to_string(missing.front()) +
                 (missing.size() > 1 ? " and " + std::to_string(missing.size() - 1) + " more" : "");
    }
    if (opt.status) {
        status = *opt.status;
        reason = opt.failure_reason.empty() ? reason : opt.failure_reason;
    }

    // Run, ranks, metrics and counters through a writer (few rows); the events after it closes.
    RunId run;
    {
        TraceWriter w(output);
        run = w.begin_run(info);
        for (int r : missing) {
            w.add_stat(run, r, stats::kMergeRankFileMissing.key, 1);
            result.warnings.push_back("no trace file for rank " + std::to_string(r));
        }
        for (auto& in : inputs) {
            RankInfo rank = in.rank;
            rank.run = run;
            rank.clock_corrected = true;
            w.put_rank(rank);
            if (in.rank.clock_rtt_ns <= 0 && in.rank.rank != 0) {
                w.add_stat(run, rank.rank, stats::kClockSyncFailed.key, 1);
                result.warnings.push_back("rank " + std::to_string(rank.rank) +
                                          " has no clock measurement; its times are uncorrected");
            }
            TraceReader& rd = *in.reader;
            for (const auto& m : rd.metrics(in.run.id))
                w.add_metric(run, rank.rank, m.step, correct_time(in.rank, m.time_ns), m.name, m.value);
            for (const auto& s : rd.stats(in.run.id))
                w.add_stat(run, s.rank < 0 ? rank.rank : s.rank, s.key, s.value);
        }
        w.flush();
    }
    result.run = run;
    result.events = copy_events(inputs, output, run, info, status, reason);
    result.ranks = static_cast<int>(inputs.size());
    compute_lane_lod(output, run);  // the timeline's level of detail (traces/lod.h)
    result.status = status;
    result.failure_reason = reason;
    return result;
}

}  // namespace ss::traces

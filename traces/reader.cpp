#include "traces/reader.h"

#include <nlohmann/json.hpp>

#include "traces/schema.h"

namespace ss::traces {

namespace {
constexpr const char* kEventCols =
    "run_id, rank, lane, kind, name_id, start_ns, end_ns, step, micro_batch, layer, bytes, flops,"
    " collective, group_kind, group_id, group_size, peer, seq, correlation";

// Enumerations read from a file are range-checked: an out-of-range value becomes the neutral one.
template <typename E>
E enum_or(std::int64_t v, int count, E fallback) {
    return v >= 0 && v < count ? static_cast<E>(v) : fallback;
}
}  // namespace

Event event_from_row(const Stmt& st, int c) {
    Event e;
    e.run = RunId(st.col_int(c + 0));
    e.rank = static_cast<std::int32_t>(st.col_int(c + 1));
    e.lane = static_cast<std::int32_t>(st.col_int(c + 2));
    e.kind = enum_or(st.col_int(c + 3), kEventKindCount, EventKind::HostRange);
    e.name = StringId(st.col_int(c + 4));
    e.start_ns = st.col_int(c + 5);
    e.end_ns = st.col_int(c + 6);
    e.step = st.col_int_or(c + 7, kNone);
    e.micro_batch = st.col_int_or(c + 8, kNone);
    e.layer = st.col_int_or(c + 9, kNone);
    e.bytes = st.col_int_or(c + 10, kNone);
    e.flops = st.col_null(c + 11) ? -1.0 : st.col_double(c + 11);
    e.collective = enum_or(st.col_int_or(c + 12, 0), kCollectiveCount, Collective::None);
    e.group_kind = enum_or(st.col_int_or(c + 13, 0), kGroupKindCount, GroupKind::None);
    e.group_id = st.col_int_or(c + 14, kNone);
    e.group_size = st.col_int_or(c + 15, kNone);
    e.peer = st.col_int_or(c + 16, kNone);
    e.seq = st.col_int_or(c + 17, kNone);
    e.correlation = st.col_int_or(c + 18, kNone);
    return e;
}

TraceReader::TraceReader(const std::string& path) : path_(path), db_(path, Db::Mode::ReadOnly) {
    try {
        version_ = read_schema_version(db_);
        validate_structure(db_, version_);
        if (version_ < kSchemaVersion) {
            // Migrate a copy in memory: the user's file is never modified by reading it.
            Db mem = Db::memory();
            sqlite3_backup* b = sqlite3_backup_init(mem.handle(), "main", db_.handle(), "main");
            check_sqlite(b ? SQLITE_OK : sqlite3_errcode(mem.handle()), mem.handle(),
                         "sqlite3_backup_init");
            int rc = sqlite3_backup_step(b, -1);
            sqlite3_backup_finish(b);
            check_sqlite(rc == SQLITE_DONE ? SQLITE_OK : rc, mem.handle(), "sqlite3_backup_step");
            migrate(mem, version_);
            db_ = std::move(mem);
        }
        load_strings();
    } catch (const TraceError& e) {
        std::string what = e.what();
        if (what.find(path) == std::string::npos) what = "'" + path + "': " + what;
        throw TraceError(what);
    }
}

void TraceReader::load_strings() {
    std::int64_t max_id = db_.query_int("SELECT max(id) FROM strings", 0);
    std::int64_t count = db_.query_int("SELECT count(*) FROM strings", 0);
    if (max_id < 0 || max_id > 4 * count + 1024)
        throw TraceError("string table is corrupt (ids are not dense: max id " +
                         std::to_string(max_id) + " for " + std::to_string(count) + " strings)");
    strings_.assign(static_cast<size_t>(max_id) + 1, std::string());
    Stmt st = db_.prepare("SELECT id, value FROM strings");
    while (st.step()) {
        std::int64_t id = st.col_int(0);
        if (id >= 0 && id <= max_id) strings_[static_cast<size_t>(id)] = st.col_text(1);
    }
    unknown_ = "?";
}

const std::string& TraceReader::string(StringId id) {
    if (id.value < 0 || static_cast<size_t>(id.value) >= strings_.size()) return unknown_;
    return strings_[static_cast<size_t>(id.value)];
}

namespace {
RunInfo run_from_row(const Stmt& st) {
    RunInfo r;
    r.id = RunId(st.col_int(0));
    r.name = st.col_text(1);
    r.spec_json = st.col_text(2);
    r.model = st.col_text(3);
    r.backend = st.col_text(4);
    r.world_size = static_cast<std::int32_t>(st.col_int(5));
    r.dp = static_cast<std::int32_t>(st.col_int(6));
    r.tp = static_cast<std::int32_t>(st.col_int(7));
    r.pp = static_cast<std::int32_t>(st.col_int(8));
    r.micro_batches = static_cast<std::int32_t>(st.col_int(9));
    r.schedule = st.col_text(10);
    auto hosts = nlohmann::json::parse(st.col_text(11), nullptr, /*allow_exceptions=*/false);
    if (hosts.is_array())
        for (const auto& h : hosts)
            if (h.is_string()) r.hosts.push_back(h.get<std::string>());
    r.oversubscribed = st.col_int(12) != 0;
    r.start_ns = st.col_int(13);
    r.end_ns = st.col_int(14);
    r.wall_start_unix_ns = st.col_int(15);
    r.status = run_status_from_string(st.col_text(16)).value_or(RunStatus::Failed);
    r.failure_reason = st.col_text(17);
    r.event_count = st.col_int(18);
    r.source_tool = st.col_text(19);
    r.source_version = st.col_text(20);
    r.source_file = st.col_text(21);
    return r;
}
constexpr const char* kRunCols =
    "id, name, spec_json, model, backend, world_size, dp, tp, pp, micro_batches, schedule, hosts,"
     " oversubscribed, start_ns, end_ns, wall_start_unix_ns, status, failure_reason, event_count,"
    " source_tool, source_version, source_file";
}  // namespace

std::vector<RunInfo> TraceReader::runs() {
    std::vector<RunInfo> out;
    Stmt st = db_.prepare(std::string("SELECT ") + kRunCols + " FROM runs ORDER BY id");
    while (st.step()) out.push_back(run_from_row(st));
    return out;
}

RunInfo TraceReader::run(RunId id) {
    Stmt st = db_.prepare(std::string("SELECT ") + kRunCols + " FROM runs WHERE id=?1");
    st.bind(1, id.value);
    if (!st.step())
        throw TraceError("'" + path_ + "' has no run " + std::to_string(id.value));
    return run_from_row(st);
}

std::vector<RankInfo> TraceReader::ranks(RunId run) {
    std::vector<RankInfo> out;
    Stmt st = db_.prepare(
        "SELECT rank, host, pid, device, dp_coord, tp_coord, pp_coord, clock_offset_ns,"
        " clock_ref_ns, clock_drift_ppb, clock_rtt_ns, clock_corrected FROM ranks WHERE run_id=?1"
        " ORDER BY rank");
    st.bind(1, run.value);
    while (st.step()) {
        RankInfo k;
        k.run = run;
        k.rank = static_cast<std::int32_t>(st.col_int(0));
        k.host = st.col_text(1);
        k.pid = st.col_int(2);
        k.device = st.col_text(3);
        k.dp_coord = static_cast<std::int32_t>(st.col_int(4));
        k.tp_coord = static_cast<std::int32_t>(st.col_int(5));
        k.pp_coord = static_cast<std::int32_t>(st.col_int(6));
        k.clock_offset_ns = st.col_int(7);
        k.clock_ref_ns = st.col_int(8);
        k.clock_drift_ppb = st.col_double(9);
        k.clock_rtt_ns = st.col_int(10);
        k.clock_corrected = st.col_int(11) != 0;
        out.push_back(std::move(k));
    }
    return out;
}

std::vector<Lane> TraceReader::lanes(RunId run) {
    auto read = [&](Stmt& st) {
        std::vector<Lane> out;
        st.bind(1, run.value);
        while (st.step()) {
            Lane l;
            l.run = run;
            l.rank = static_cast<std::int32_t>(st.col_int(0));
            l.lane = static_cast<std::int32_t>(st.col_int(1));
            l.name = st.col_text(2);
            l.event_count = st.col_int(3);
            l.max_duration_ns = st.col_int(4);
            l.min_start_ns = st.col_int(5);
            l.max_end_ns = st.col_int(6);
            out.push_back(std::move(l));
        }
        return out;
    };
    Stmt stored = db_.prepare(
        "SELECT rank, lane, name, event_count, max_duration_ns, min_start_ns, max_end_ns FROM lanes"
        " WHERE run_id=?1 ORDER BY rank, lane");
    std::vector<Lane> out = read(stored);
    if (!out.empty()) return out;
    // A file whose writer never flushed its lane rows (a crashed rank file): derive them with one
    // full scan, kept for the reader's lifetime.
    if (auto it = derived_lanes_.find(run.value); it != derived_lanes_.end()) return it->second;
    Stmt scan = db_.prepare(
        "SELECT rank, lane, 'lane ' || lane, count(*), max(end_ns - start_ns), min(start_ns),"
        " max(end_ns) FROM events WHERE run_id=?1 GROUP BY rank, lane ORDER BY rank, lane");
    out = read(scan);
    if (!out.empty()) derived_lanes_.emplace(run.value, out);
    return out;
}

std::vector<Event> TraceReader::events_in_window(RunId run, std::int32_t rank, std::int32_t lane,
                                                 std::int64_t t0, std::int64_t t1) {
    // An event overlaps [t0, t1) when start < t1 and end > t0. Since no event on this lane lasts
    // longer than max_duration, start > t0 - max_duration: a bounded range of the index.
    // Both statements are prepared once per reader: the timeline issues thousands of these.
    if (!window_lane_.handle()) {
        window_lane_ = db_.prepare(
            "SELECT max_duration_ns FROM lanes WHERE run_id=?1 AND rank=?2 AND lane=?3");
        window_events_ = db_.prepare(std::string("SELECT ") + kEventCols +
                                     " FROM events WHERE run_id=?1 AND rank=?2 AND lane=?3 AND"
                                     " start_ns>=?4 AND start_ns<?5 AND end_ns>?6 ORDER BY start_ns");
    }
    struct Reset {
        Stmt& st;
        ~Reset() { st.reset(); }
    };
    std::int64_t max_dur = 0;
    bool known = false;
    {
        Reset r{window_lane_};
        window_lane_.bind(1, run.value).bind(2, rank).bind(3, lane);
        if (window_lane_.step()) {
            max_dur = window_lane_.col_int(0);
            known = true;
        }
    }
    if (!known)
        for (const auto& l : lanes(run))
            if (l.rank == rank && l.lane == lane) max_dur = l.max_duration_ns;
    std::vector<Event> out;
    Reset r{window_events_};
    Stmt& st = window_events_;
    st.bind(1, run.value).bind(2, rank).bind(3, lane).bind(4, t0 - max_dur).bind(5, t1).bind(6, t0);
    while (st.step()) out.push_back(event_from_row(st, 0));
    return out;
}

void TraceReader::scan_events(RunId run, const std::function<void(const Event&)>& fn) {
    Stmt st = db_.prepare(std::string("SELECT ") + kEventCols +
                          " FROM events WHERE run_id=?1 ORDER BY id");
    st.bind(1, run.value);
    while (st.step()) fn(event_from_row(st, 0));
}

std::vector<Aggregate> TraceReader::aggregates(RunId run) {
    std::vector<Aggregate> out;
    Stmt st = db_.prepare(
        "SELECT kind, name_id, collective, group_kind, count, total_ns, mean_ns, median_ns, p95_ns,"
        " min_ns, max_ns, bytes FROM aggregates WHERE run_id=?1 ORDER BY total_ns DESC, kind, name_id");
    st.bind(1, run.value);
    while (st.step()) {
        Aggregate a;
        a.run = run;
        a.kind = enum_or(st.col_int(0), kEventKindCount, EventKind::HostRange);
        a.name = string(StringId(st.col_int(1)));
        a.collective = enum_or(st.col_int(2), kCollectiveCount, Collective::None);
        a.group_kind = enum_or(st.col_int(3), kGroupKindCount, GroupKind::None);
        a.count = st.col_int(4);
        a.total_ns = st.col_int(5);
        a.mean_ns = st.col_double(6);
        a.median_ns = st.col_double(7);
        a.p95_ns = st.col_int(8);
        a.min_ns = st.col_int(9);
        a.max_ns = st.col_int(10);
        a.bytes = st.col_int(11);
        out.push_back(std::move(a));
    }
    return out;
}

std::vector<StatRow> TraceReader::stats(RunId run) {
    std::vector<StatRow> out;
    Stmt st = db_.prepare("SELECT rank, key, value FROM stats WHERE run_id=?1 ORDER BY key, rank");
    st.bind(1, run.value);
    while (st.step())
        out.push_back(StatRow{run, static_cast<std::int32_t>(st.col_int(0)), st.col_text(1),
                              st.col_int(2)});
    return out;
}

std::vector<Metric> TraceReader::metrics(RunId run) {
    std::vector<Metric> out;
    Stmt st = db_.prepare(
        "SELECT rank, step, time_ns, name_id, value FROM metrics WHERE run_id=?1"
        " ORDER BY name_id, rank, step, time_ns");
    st.bind(1, run.value);
    while (st.step()) {
        Metric m;
        m.run = run;
        m.rank = static_cast<std::int32_t>(st.col_int(0));
        m.step = st.col_int_or(1, kNone);
        m.time_ns = st.col_int(2);
        m.name = string(StringId(st.col_int(3)));
        m.value = st.col_double(4);
        out.push_back(std::move(m));
    }
    return out;
}

std::map<std::string, std::string> TraceReader::run_summaries(RunId run) {
    std::map<std::string, std::string> out;
    Stmt st = db_.prepare("SELECT key, value FROM run_summaries WHERE run_id=?1");
    st.bind(1, run.value);
    while (st.step()) out[st.col_text(0)] = st.col_text(1);
    return out;
}

std::vector<StudyInfo> TraceReader::studies() {
    std::vector<StudyInfo> out;
    Stmt st = db_.prepare("SELECT id, name, variable, scaling FROM studies ORDER BY id");
    while (st.step())
        out.push_back(StudyInfo{StudyId(st.col_int(0)), st.col_text(1), st.col_text(2),
                                st.col_text(3)});
    return out;
}

std::vector<StudyRun> TraceReader::study_runs(StudyId study) {
    std::vector<StudyRun> out;
    Stmt st = db_.prepare(
        "SELECT run_id, value, p, repeat FROM study_runs WHERE study_id=?1 ORDER BY p, repeat, run_id");
    st.bind(1, study.value);
    while (st.step())
        out.push_back(StudyRun{study, RunId(st.col_int(0)), st.col_text(1),
                               static_cast<std::int32_t>(st.col_int(2)),
                               static_cast<std::int32_t>(st.col_int(3))});
    return out;
}

std::vector<Calibration> TraceReader::calibrations() {
    std::vector<Calibration> out;
    Stmt st = db_.prepare(
        "SELECT id, created_unix_ns, host, hardware_json FROM calibrations ORDER BY id");
    while (st.step())
        out.push_back(Calibration{CalibrationId(st.col_int(0)), st.col_int(1), st.col_text(2),
                                  st.col_text(3)});
    return out;
}

}  // namespace ss::traces

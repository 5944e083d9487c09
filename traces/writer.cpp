#include "traces/writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "traces/schema.h"
#include "traces/stats_keys.h"

namespace ss::traces {

namespace {
std::string hosts_json(const std::vector<std::string>& hosts) {
    std::string s = "[";
    for (size_t i = 0; i < hosts.size(); ++i) {
        if (i) s += ",";
        s += "\"";
        for (char c : hosts[i]) {
            if (c == '"' || c == '\\') s += '\\';
            if (static_cast<unsigned char>(c) >= 0x20) s += c;
        }
        s += "\"";
    }
    return s + "]";
}
}  // namespace

TraceWriter::TraceWriter(const std::string& path, WriterOptions options) : opt_(std::move(options)) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > 0;
    db_ = Db(path, Db::Mode::Create);
    if (exists) {
        int version = read_schema_version(db_);
        validate_structure(db_, version);
        migrate(db_, version);
    } else {
        db_.exec("PRAGMA page_size=8192");
        create_schema(db_, opt_.created_by);
    }
    // Bounded memory: the index grows with the events (cheaper than sorting the whole table at
    // finish_run, and no sort spill).
    if (opt_.bounded_memory) create_indexes(db_);
    db_.exec(opt_.durable ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=OFF");
    // WAL (WriterOptions::wal); a file a killed writer left in WAL mode is WAL until closed here.
    if (opt_.wal) db_.exec("PRAGMA journal_mode=WAL");
    // Page cache: 64 MiB; 16 MiB with bounded memory (as fast on a 1 M-event import: 2.05 s
    // against 2.29 s, and 30 MiB resident instead of 84).
    db_.exec(opt_.bounded_memory ? "PRAGMA cache_size=-16384" : "PRAGMA cache_size=-65536");
    // Temporary storage in memory: what the writer's statements need there is the statement
    // journal of one multi-row insert (the pages it touches), whatever the run's size. In a file,
    // every page an insert touched was written to it again: 227,000 writes on a 1 M-event import
    // (1.35 s; 1.19 s in memory).
    db_.exec("PRAGMA temp_store=MEMORY");

    {
        const std::string head =
            "INSERT INTO events(run_id, rank, lane, kind, name_id, start_ns, end_ns, step, micro_batch,"
            " layer, bytes, flops, collective, group_kind, group_id, group_size, peer, seq, correlation)"
            " VALUES";
        const std::string row = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
        std::string block = head + row;
        for (int i = 1; i < kRowsPerInsert; ++i) block += "," + row;
        insert_event_ = db_.prepare(head + row);
        insert_block_ = db_.prepare(block);
        single_bound_.assign(19, Bound{});
        block_bound_.assign(19 * kRowsPerInsert, Bound{});
        rows_.reserve(kRowsPerInsert);
    }
    insert_string_ = db_.prepare("INSERT INTO strings(value) VALUES(?1)");
    insert_metric_ = db_.prepare(
        "INSERT INTO metrics(run_id, rank, step, time_ns, name_id, value) VALUES(?1,?2,?3,?4,?5,?6)");
    upsert_rank_ = db_.prepare(
        "INSERT OR REPLACE INTO ranks(run_id, rank, host, pid, device, dp_coord, tp_coord, pp_coord,"
        " clock_offset_ns, clock_ref_ns, clock_drift_ppb, clock_rtt_ns, clock_corrected)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
    upsert_lane_ = db_.prepare(
        "INSERT OR REPLACE INTO lanes(run_id, rank, lane, name, event_count, max_duration_ns,"
        " min_start_ns, max_end_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    upsert_stat_ = db_.prepare(
        "INSERT OR REPLACE INTO stats(run_id, rank, key, value) VALUES(?1,?2,?3,?4)");
    update_count_ = db_.prepare("UPDATE runs SET event_count=?2 WHERE id=?1");

    Stmt st = db_.prepare("SELECT id, value FROM strings");
    while (st.step()) strings_.emplace(st.col_text(1), st.col_int(0));
}

TraceWriter::~TraceWriter() {
    try {
        flush();
        leave_wal();
    } catch (...) {
        // A destructor cannot report; flush() is what callers use to see errors.
    }
}

void TraceWriter::begin_batch() {
    if (!in_tx_) {
        db_.exec("BEGIN");
        in_tx_ = true;
    }
}

void TraceWriter::commit_batch() {
    if (in_tx_) {
        db_.exec("COMMIT");
        in_tx_ = false;
    }
    pending_ = 0;
}

void TraceWriter::leave_wal() {
    commit_batch();
    // Checkpoints the WAL into the file and deletes it: a closed trace is one file again, which
    // read-only opens need.
    Stmt mode = db_.prepare("PRAGMA journal_mode");
    const bool wal = mode.step() && mode.col_text(0) == "wal";
    mode = Stmt();
    if (wal) db_.exec("PRAGMA journal_mode=DELETE");
}

TraceWriter::RunState& TraceWriter::state(RunId run) {
    auto it = runs_.find(run.value);
    if (it == runs_.end()) {
        // A run begun by an earlier writer session: continue its counts.
        Stmt st = db_.prepare("SELECT event_count FROM runs WHERE id=?1");
        st.bind(1, run.value);
        if (!st.step())
            throw TraceError("run " + std::to_string(run.value) + " does not exist in '" +
                             db_.path() + "'");
        it = runs_.emplace(run.value, RunState{}).first;
        it->second.event_count = st.col_int(0);
    }
    return it->second;
}

RunId TraceWriter::begin_run(const RunInfo& r) {
    begin_batch();
    Stmt st = db_.prepare(
        "INSERT INTO runs(name, spec_json, model, backend, world_size, dp, tp, pp, micro_batches,"
        " schedule, hosts, oversubscribed, start_ns, end_ns, wall_start_unix_ns, status,"
        " failure_reason, event_count, source_tool, source_version, source_file)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,0,?18,?19,?20)");
    st.bind(1, r.name).bind(2, r.spec_json).bind(3, r.model).bind(4, r.backend);
    st.bind(5, r.world_size).bind(6, r.dp).bind(7, r.tp).bind(8, r.pp).bind(9, r.micro_batches);
    st.bind(10, r.schedule).bind(11, hosts_json(r.hosts)).bind(12, r.oversubscribed ? 1 : 0);
    st.bind(13, r.start_ns).bind(14, r.end_ns).bind(15, r.wall_start_unix_ns);
    st.bind(16, to_string(r.status)).bind(17, r.failure_reason);
    st.bind(18, r.source_tool).bind(19, r.source_version).bind(20, r.source_file);
    st.run();
    RunId id(db_.last_insert_rowid());
    runs_.emplace(id.value, RunState{});
    commit_batch();
    return id;
}

void TraceWriter::put_rank(const RankInfo& k) {
    begin_batch();
    auto& st = upsert_rank_;
    st.bind(1, k.run.value).bind(2, k.rank).bind(3, k.host).bind(4, k.pid).bind(5, k.device);
    st.bind(6, k.dp_coord).bind(7, k.tp_coord).bind(8, k.pp_coord);
    st.bind(9, k.clock_offset_ns).bind(10, k.clock_ref_ns).bind(11, k.clock_drift_ppb);
    st.bind(12, k.clock_rtt_ns).bind(13, k.clock_corrected ? 1 : 0);
    st.run();
}

StringId TraceWriter::intern(std::string_view s) {
    std::string key(s);
    if (auto it = strings_.find(key); it != strings_.end()) return StringId(it->second);
    begin_batch();
    insert_string_.bind(1, s).run();
    std::int64_t id = db_.last_insert_rowid();
    strings_.emplace(std::move(key), id);
    return StringId(id);
}

void TraceWriter::define_lane(RunId run, std::int32_t rank, std::int32_t lane,
                              std::string_view name) {
    auto& rs = state(run);
    rs.lanes[{rank, lane}].name = std::string(name);
    rs.dirty = true;
}

TraceWriter::RunState* TraceWriter::accept_event(const Event& e) {
    if (e.run.value != last_run_) {
        last_state_ = &state(e.run);
        last_run_ = e.run.value;
        last_lane_ = nullptr;
    }
    RunState& rs = *last_state_;
    if (e.end_ns < e.start_ns || !e.name.valid()) {
        rs.stats[{-1, std::string(stats::kEventsMalformed.key)}] += 1;
        rs.dirty = true;
        return nullptr;
    }
    return &rs;
}

bool TraceWriter::add_event(const Event& e) {
    RunState* run = accept_event(e);
    if (!run) return false;
    RunState& rs = *run;
    store_event(rs, e);
    count_event(rs, e);
    if (++pending_ >= opt_.batch_events) flush();
    return true;
}

bool TraceWriter::stage_event(const Event& e) {
    RunState* run = accept_event(e);
    if (!run) return false;
    RunState& rs = *run;
    if (!staged_.empty() && (staged_run_ != e.run || staged_rank_ != e.rank)) write_staged();
    staged_run_ = e.run;
    staged_rank_ = e.rank;
    staged_.add(e);
    count_event(rs, e);
    // A chunk of a few MiB at most, whatever the flush interval.
    if (staged_.data().size() >= (std::size_t{64} << 10)) write_staged();
    return true;
}

void TraceWriter::count_event(RunState& rs, const Event& e) {
    if (!last_lane_ || last_lane_key_ != std::pair{e.rank, e.lane}) {
        last_lane_key_ = {e.rank, e.lane};
        last_lane_ = &rs.lanes[last_lane_key_];  // std::map: the pointer stays valid
    }
    LaneState& ls = *last_lane_;
    ls.count++;
    ls.max_dur = std::max(ls.max_dur, e.end_ns - e.start_ns);
    ls.min_start = std::min(ls.min_start, e.start_ns);
    ls.max_end = std::max(ls.max_end, e.end_ns);
    rs.event_count++;
    rs.dirty = true;
    ++events_total_;
}

void TraceWriter::store_event(RunState& rs, const Event& e) {
    rows_.push_back(e);
    if (rows_.size() == static_cast<size_t>(kRowsPerInsert)) write_rows();
    if (!opt_.bounded_memory) {
        rs.aggregates.add(e);
    } else if (is_summarised(e.kind)) {
        const RunState::GroupKey key{static_cast<int>(e.kind), static_cast<int>(e.collective),
                                     static_cast<int>(e.group_kind), e.name.value};
        if (!(key == rs.last_group)) {
            auto [it, added] = rs.group_index.try_emplace(key, static_cast<std::uint32_t>(rs.group_rows.size()));
            if (added)
                rs.group_rows.push_back(
                    AggregateBuilder::Row{e.kind, e.name, e.collective, e.group_kind, {}, 0});
            rs.last_group = key;
            rs.last_group_index = it->second;
        }
        if (!rs.durations) rs.durations = std::make_unique<SpilledSummaries>("'" + db_.path() + "'");
        rs.durations->add(rs.last_group_index, e.end_ns - e.start_ns);
        if (e.bytes > 0) rs.group_rows[rs.last_group_index].bytes += e.bytes;
    }
}

void TraceWriter::write_staged() {
    if (staged_.empty()) return;
    begin_batch();
    if (!insert_chunk_.handle()) {
        db_.exec(kSpanChunksDdl);
        insert_chunk_ = db_.prepare(
            "INSERT INTO span_chunks(run_id, rank, format, count, data) VALUES(?1,?2,?3,?4,?5)");
    }
    Stmt& st = insert_chunk_;
    st.bind(1, staged_run_.value)
        .bind(2, staged_rank_)
        .bind(3, kSpanChunkFormat)
        .bind(4, staged_.count());
    SS_SQLITE_CHECK(db_.handle(), sqlite3_bind_blob64(st.handle(), 5, staged_.data().data(),
                                                      staged_.data().size(), SQLITE_STATIC));
    st.run();  // clears the bindings: the buffer is reused
    staged_.clear();
}

std::int64_t TraceWriter::expand_staged(RunId run) {
    write_staged();
    write_rows();
    if (db_.query_int(
            "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='span_chunks'") == 0)
        return 0;
    RunState& rs = state(run);
    begin_batch();
    std::int64_t n = 0;
    {
        Stmt chunks = db_.prepare(
            "SELECT rank, format, count, data FROM span_chunks WHERE run_id=?1 ORDER BY id");
        chunks.bind(1, run.value);
        while (chunks.step()) {
            const auto rank = static_cast<std::int32_t>(chunks.col_int(0));
            if (chunks.col_int(1) != kSpanChunkFormat)
                throw TraceError("'" + db_.path() + "': staged span chunk of format " +
                                 std::to_string(chunks.col_int(1)) + "; this build reads format " +
                                 std::to_string(kSpanChunkFormat) + " (" + __FILE__ + ":" +
                                 std::to_string(__LINE__) + ")");
            const void* blob = sqlite3_column_blob(chunks.handle(), 3);
            const int bytes = sqlite3_column_bytes(chunks.handle(), 3);
            const std::string_view data(static_cast<const char*>(blob),
                                        static_cast<std::size_t>(bytes));
            decode_span_chunk(data, chunks.col_int(2), run, rank, "'" + db_.path() + "'",
                              [&](const Event& e) {
                                  store_event(rs, e);
                                  ++n;
                              });
        }
    }
    write_rows();
    Stmt del = db_.prepare("DELETE FROM span_chunks WHERE run_id=?1");
    del.bind(1, run.value).run();
    commit_batch();
    return n;
}

void TraceWriter::write_rows() {
    if (rows_.empty()) return;
    begin_batch();
    const bool block = rows_.size() == static_cast<size_t>(kRowsPerInsert);
    Stmt& st = block ? insert_block_ : insert_event_;
    std::vector<Bound>& bound = block ? block_bound_ : single_bound_;
    // Binds parameter i (1-based) unless it holds that value already.
    auto put = [&](int i, std::int64_t v) {
        Bound& b = bound[static_cast<size_t>(i - 1)];
        if (b.type == Bound::Int && b.bits == v) return;
        st.bind(i, v);
        b = Bound{Bound::Int, v};
    };
    auto null = [&](int i) {
        Bound& b = bound[static_cast<size_t>(i - 1)];
        if (b.type == Bound::Null) return;
        st.bind_null(i);
        b = Bound{Bound::Null, 0};
    };
    auto opt = [&](int i, std::int64_t v) {
        if (v == kNone) null(i);
        else put(i, v);
    };
    size_t next = 0;
    while (next < rows_.size()) {
        const size_t n = block ? rows_.size() : 1;
        for (size_t r = 0; r < n; ++r) {
            const Event& e = rows_[next + r];
            const int b = static_cast<int>(r) * 19;
            put(b + 1, e.run.value);
            put(b + 2, e.rank);
            put(b + 3, e.lane);
            put(b + 4, static_cast<int>(e.kind));
            put(b + 5, e.name.value);
            put(b + 6, e.start_ns);
            put(b + 7, e.end_ns);
            opt(b + 8, e.step);
            opt(b + 9, e.micro_batch);
            opt(b + 10, e.layer);
            opt(b + 11, e.bytes);
            if (e.flops >= 0) {
                std::int64_t bits;
                std::memcpy(&bits, &e.flops, sizeof bits);
                Bound& c = bound[static_cast<size_t>(b + 11)];
                if (c.type != Bound::Real || c.bits != bits) {
                    st.bind(b + 12, e.flops);
                    c = Bound{Bound::Real, bits};
                }
            } else {
                null(b + 12);
            }
            opt(b + 13, e.collective == Collective::None ? kNone : static_cast<int>(e.collective));
            opt(b + 14, e.group_kind == GroupKind::None ? kNone : static_cast<int>(e.group_kind));
            opt(b + 15, e.group_id);
            opt(b + 16, e.group_size);
            opt(b + 17, e.peer);
            opt(b + 18, e.seq);
            opt(b + 19, e.correlation);
        }
        st.step();
        // sqlite3_reset keeps the bindings, which `bound` mirrors.
        sqlite3_reset(st.handle());
        next += n;
    }
    rows_.clear();
}

std::int64_t TraceWriter::next_event_id() {
    write_rows();
    return db_.query_int("SELECT coalesce(max(id), 0) + 1 FROM events");
}

void TraceWriter::set_event_steps(
    const std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>& ranges) {
    if (ranges.empty()) return;
    write_rows();
    begin_batch();
    Stmt st = db_.prepare("UPDATE events SET step=?3 WHERE id BETWEEN ?1 AND ?2");
    for (const auto& [first, last, step] : ranges) {
        st.bind(1, first).bind(2, last).bind_opt(3, step, kNone);
        st.run();
    }
}

void TraceWriter::add_metric(RunId run, std::int32_t rank, std::int64_t step, std::int64_t time_ns,
                             std::string_view name, double value) {
    if (!std::isfinite(value)) {
        add_stat(run, -1, stats::kMetricsMalformed.key, 1);
        return;
    }
    StringId n = intern(name);
    begin_batch();
    insert_metric_.bind(1, run.value).bind(2, rank).bind_opt(3, step, kNone).bind(4, time_ns);
    insert_metric_.bind(5, n.value).bind(6, value).run();
}

void TraceWriter::add_stat(RunId run, std::int32_t rank, std::string_view key, std::int64_t delta) {
    auto& rs = state(run);
    auto& v = rs.stats[{rank, std::string(key)}];
    if (v == 0) {
        // Continue a counter stored by an earlier session or by merge.
        Stmt st = db_.prepare("SELECT value FROM stats WHERE run_id=?1 AND rank=?2 AND key=?3");
        st.bind(1, run.value).bind(2, rank).bind(3, key);
        if (st.step()) v = st.col_int(0);
    }
    v += delta;
    rs.dirty = true;
}

void TraceWriter::write_lanes(RunId run) {
    auto& rs = state(run);
    for (auto& [key, ls] : rs.lanes) {
        auto& st = upsert_lane_;
        st.bind(1, run.value).bind(2, key.first).bind(3, key.second);
        st.bind(4, ls.name.empty() ? "lane " + std::to_string(key.second) : ls.name);
        st.bind(5, ls.count).bind(6, ls.max_dur);
        st.bind(7, ls.count ? ls.min_start : 0).bind(8, ls.count ? ls.max_end : 0);
        st.run();
    }
    for (auto& [key, value] : rs.stats)
        upsert_stat_.bind(1, run.value).bind(2, key.first).bind(3, key.second).bind(4, value).run();
    update_count_.bind(1, run.value).bind(2, rs.event_count).run();
    rs.dirty = false;
}

void TraceWriter::flush() {
    write_staged();
    write_rows();
    for (auto& [id, rs] : runs_) {
        if (!rs.dirty) continue;
        begin_batch();
        write_lanes(RunId(id));
    }
    commit_batch();
}

void TraceWriter::set_run_times(RunId run, std::int64_t start_ns, std::int64_t end_ns) {
    begin_batch();
    if (!set_times_.handle())
        set_times_ = db_.prepare("UPDATE runs SET start_ns=?2, end_ns=?3 WHERE id=?1");
    set_times_.bind(1, run.value).bind(2, start_ns).bind(3, end_ns).run();
}

void TraceWriter::finish_run(RunId run, RunStatus status, std::string_view reason,
                             std::int64_t end_ns) {
    RunState& rs = state(run);
    flush();
    leave_wal();  // what follows is one large transaction: rollback journal, written once
    expand_staged(run);
    std::vector<AggregateBuilder::Row> rows;
    if (opt_.bounded_memory) {
        flush();  // every event stored: the aggregates are computed from the table
        rows = spilled_aggregates(run);
    } else {
        rows = rs.aggregates.finish();
    }
    write_rows();
    begin_batch();
    write_lanes(run);
    Stmt agg = db_.prepare(
        "INSERT OR REPLACE INTO aggregates(run_id, kind, name_id, collective, group_kind, count,"
        " total_ns, mean_ns, median_ns, p95_ns, min_ns, max_ns, bytes)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
    for (const auto& row : rows) {
        const auto& s = row.summary;
        agg.bind(1, run.value).bind(2, static_cast<int>(row.kind)).bind(3, row.name.value);
        agg.bind(4, static_cast<int>(row.collective)).bind(5, static_cast<int>(row.group_kind));
        agg.bind(6, s.count).bind(7, s.total_ns).bind(8, s.mean_ns).bind(9, s.median_ns);
        agg.bind(10, s.p95_ns).bind(11, s.min_ns).bind(12, s.max_ns).bind(13, row.bytes);
        agg.run();
    }
    Stmt st = db_.prepare("UPDATE runs SET status=?2, failure_reason=?3, end_ns=?4 WHERE id=?1");
    st.bind(1, run.value).bind(2, to_string(status)).bind(3, reason).bind(4, end_ns).run();
    commit_batch();
    create_indexes(db_);
}

std::vector<AggregateBuilder::Row> TraceWriter::spilled_aggregates(RunId run) {
    RunState& rs = state(run);
    std::vector<AggregateBuilder::Row> rows = std::move(rs.group_rows);
    if (rs.durations) {
        std::vector<DurationSummary> s = rs.durations->finish();
        for (std::size_t g = 0; g < rows.size() && g < s.size(); ++g) rows[g].summary = s[g];
    }
    rs.durations.reset();
    rs.group_index.clear();
    rs.group_rows.clear();
    rs.last_group = RunState::GroupKey{-1, -1, -1, -1};
    // In key order, as AggregateBuilder gives them.
    auto key = [](const AggregateBuilder::Row& r) {
        return std::tuple(static_cast<int>(r.kind), r.name.value, static_cast<int>(r.collective),
                          static_cast<int>(r.group_kind));
    };
    std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
    return rows;
}

StudyId TraceWriter::add_study(const StudyInfo& s) {
    begin_batch();
    Stmt st = db_.prepare("INSERT INTO studies(name, variable, scaling) VALUES(?1,?2,?3)");
    st.bind(1, s.name).bind(2, s.variable).bind(3, s.scaling).run();
    StudyId id(db_.last_insert_rowid());
    commit_batch();
    return id;
}

void TraceWriter::add_study_run(const StudyRun& r) {
    begin_batch();
    Stmt st = db_.prepare(
        "INSERT OR REPLACE INTO study_runs(study_id, run_id, value, p, repeat) VALUES(?1,?2,?3,?4,?5)");
    st.bind(1, r.study.value).bind(2, r.run.value).bind(3, r.value).bind(4, r.p).bind(5, r.repeat);
    st.run();
    commit_batch();
}

CalibrationId TraceWriter::add_calibration(const Calibration& c) {
    if (c.hardware_json.empty())
        throw TraceError("add_calibration: empty hardware JSON for '" + db_.path() + "'");
    begin_batch();
    Stmt st = db_.prepare(
        "INSERT INTO calibrations(created_unix_ns, host, hardware_json) VALUES(?1,?2,?3)");
    st.bind(1, c.created_unix_ns).bind(2, c.host).bind(3, c.hardware_json).run();
    CalibrationId id(db_.last_insert_rowid());
    commit_batch();
    return id;
}

}  // namespace ss::traces

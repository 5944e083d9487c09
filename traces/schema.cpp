#include "traces/schema.h"

#include "traces/span_chunks.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <vector>

namespace ss::traces {

// Units and meanings of every column: traces/SCHEMA.md.
// The derived tables of schema version 4: in schema_ddl() and in the migration 3 -> 4, one text,
// so a migrated file's DDL equals a new file's.
namespace {
constexpr const char* kV4Tables = R"SQL(
CREATE TABLE lane_lod(
  run_id   INTEGER NOT NULL,
  rank     INTEGER NOT NULL,
  lane     INTEGER NOT NULL,
  width_ns INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  busy_ns  INTEGER NOT NULL,
  events   INTEGER NOT NULL,
  kind     INTEGER NOT NULL,
  PRIMARY KEY(run_id, rank, lane, width_ns, start_ns)
) WITHOUT ROWID;
CREATE TABLE run_summaries(
  run_id INTEGER NOT NULL,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY(run_id, key)
) WITHOUT ROWID;)SQL";
}  // namespace

const char* schema_ddl() {
    static const std::string ddl = std::string(R"SQL(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE strings(
  id    INTEGER PRIMARY KEY,
  value TEXT NOT NULL UNIQUE
);
CREATE TABLE runs(
  id                 INTEGER PRIMARY KEY,
  name               TEXT NOT NULL,
  spec_json          TEXT NOT NULL,
  model              TEXT NOT NULL,
  backend            TEXT NOT NULL,
  world_size         INTEGER NOT NULL,
  dp                 INTEGER NOT NULL,
  tp                 INTEGER NOT NULL,
  pp                 INTEGER NOT NULL,
  micro_batches      INTEGER NOT NULL,
  schedule           TEXT NOT NULL,
  hosts              TEXT NOT NULL,
  oversubscribed     INTEGER NOT NULL,
  start_ns           INTEGER NOT NULL,
  end_ns             INTEGER NOT NULL,
  wall_start_unix_ns INTEGER NOT NULL,
  status             TEXT NOT NULL,
  failure_reason     TEXT NOT NULL,
  event_count        INTEGER NOT NULL,
  source_tool TEXT NOT NULL DEFAULT '',
  source_version TEXT NOT NULL DEFAULT '',
  source_file TEXT NOT NULL DEFAULT ''
);
CREATE TABLE ranks(
  run_id          INTEGER NOT NULL,
  rank            INTEGER NOT NULL,
  host            TEXT NOT NULL,
  pid             INTEGER NOT NULL,
  device          TEXT NOT NULL,
  dp_coord        INTEGER NOT NULL,
  tp_coord        INTEGER NOT NULL,
  pp_coord        INTEGER NOT NULL,
  clock_offset_ns INTEGER NOT NULL,
  clock_ref_ns    INTEGER NOT NULL,
  clock_drift_ppb REAL NOT NULL,
  clock_rtt_ns    INTEGER NOT NULL,
  clock_corrected INTEGER NOT NULL,
  PRIMARY KEY(run_id, rank)
) WITHOUT ROWID;
CREATE TABLE lanes(
  run_id          INTEGER NOT NULL,
  rank            INTEGER NOT NULL,
  lane            INTEGER NOT NULL,
  name            TEXT NOT NULL,
  event_count     INTEGER NOT NULL,
  max_duration_ns INTEGER NOT NULL,
  min_start_ns    INTEGER NOT NULL,
  max_end_ns      INTEGER NOT NULL,
  PRIMARY KEY(run_id, rank, lane)
) WITHOUT ROWID;
CREATE TABLE events(
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL,
  rank        INTEGER NOT NULL,
  lane        INTEGER NOT NULL,
  kind        INTEGER NOT NULL,
  name_id     INTEGER NOT NULL,
  start_ns    INTEGER NOT NULL,
  end_ns      INTEGER NOT NULL,
  step        INTEGER,
  micro_batch INTEGER,
  layer       INTEGER,
  bytes       INTEGER,
  flops       REAL,
  collective  INTEGER,
  group_kind  INTEGER,
  group_id    INTEGER,
  group_size  INTEGER,
  peer        INTEGER,
  seq         INTEGER,
  correlation INTEGER
);
CREATE TABLE metrics(
  run_id  INTEGER NOT NULL,
  rank    INTEGER NOT NULL,
  step    INTEGER,
  time_ns INTEGER NOT NULL,
  name_id INTEGER NOT NULL,
  value   REAL NOT NULL
);
CREATE TABLE stats(
  run_id INTEGER NOT NULL,
  rank   INTEGER NOT NULL,
  key    TEXT NOT NULL,
  value  INTEGER NOT NULL,
  PRIMARY KEY(run_id, rank, key)
) WITHOUT ROWID;
CREATE TABLE aggregates(
  run_id     INTEGER NOT NULL,
  kind       INTEGER NOT NULL,
  name_id    INTEGER NOT NULL,
  collective INTEGER NOT NULL,
  group_kind INTEGER NOT NULL,
  count      INTEGER NOT NULL,
  total_ns   INTEGER NOT NULL,
  mean_ns    REAL NOT NULL,
  median_ns  REAL NOT NULL,
  p95_ns     INTEGER NOT NULL,
  min_ns     INTEGER NOT NULL,
  max_ns     INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  PRIMARY KEY(run_id, kind, name_id, collective, group_kind)
) WITHOUT ROWID;
)SQL") + kV4Tables + R"SQL(
CREATE TABLE studies(
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL,
  variable TEXT NOT NULL,
  scaling  TEXT NOT NULL
);
CREATE TABLE study_runs(
  study_id INTEGER NOT NULL,
  run_id   INTEGER NOT NULL,
  value    TEXT NOT NULL,
  p        INTEGER NOT NULL,
  repeat   INTEGER NOT NULL,
  PRIMARY KEY(study_id, run_id)
) WITHOUT ROWID;
CREATE TABLE calibrations(
  id              INTEGER PRIMARY KEY,
  created_unix_ns INTEGER NOT NULL,
  host            TEXT NOT NULL,
  hardware_json   TEXT NOT NULL
);
CREATE INDEX metrics_by_run ON metrics(run_id, name_id, rank, step);
)SQL";
    return ddl.c_str();
}

const char* index_ddl() {
    return "CREATE INDEX IF NOT EXISTS events_by_lane_time ON events(run_id, rank, lane, start_ns);";
}

namespace {
const std::set<std::string>& known_indexes() {
    static const std::set<std::string> s{"metrics_by_run", "events_by_lane_time"};
    return s;
}

// table -> ordered column names, read from a database's own schema.
std::map<std::string, std::vector<std::string>> table_columns(Db& db) {
    std::map<std::string, std::vector<std::string>> out;
    std::vector<std::string> tables;
    {
        Stmt st = db.prepare(
            "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%'");
        while (st.step()) tables.push_back(st.col_text(0));
    }
    // pragma_table_info is a table-valued function: parameterised, no string splicing.
    Stmt cols = db.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid");
    for (const auto& t : tables) {
        cols.bind(1, t);
        auto& v = out[t];
        while (cols.step()) v.push_back(cols.col_text(0));
        cols.reset();
    }
    return out;
}

// The schema version that introduced a table; tables not listed exist since version 1.
int table_since(const std::string& table) {
    if (table == "calibrations") return 2;
    if (table == "lane_lod" || table == "run_summaries") return 4;
    return 1;
}

// The schema version that added a column to an existing table (ALTER TABLE ... ADD COLUMN, so it
// comes after the table's older columns); columns not listed exist since their table does.
int column_since(const std::string& table, const std::string& column) {
    if (table == "runs" &&
        (column == "source_tool" || column == "source_version" || column == "source_file"))
        return 3;
    return 1;
}

// Tables and columns of schema `version`: the current DDL less the tables and columns added later.
std::map<std::string, std::vector<std::string>> expected_columns(int version) {
    static const auto current = [] {
        Db mem = Db::memory();
        mem.exec(schema_ddl());
        return table_columns(mem);
    }();
    auto cols = current;
    for (auto it = cols.begin(); it != cols.end();) {
        if (table_since(it->first) > version) {
            it = cols.erase(it);
            continue;
        }
        auto& names = it->second;
        std::erase_if(names, [&](const std::string& c) { return column_since(it->first, c) > version; });
        ++it;
    }
    return cols;
}
}  // namespace

void create_schema(Db& db, const std::string& created_by) {
    Transaction tx(db);
    db.exec(schema_ddl());
    db.exec("PRAGMA application_id=" + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
    Stmt put = db.prepare("INSERT INTO meta(key, value) VALUES(?1, ?2)");
    put.bind(1, "schema_version").bind(2, std::to_string(kSchemaVersion)).run();
    put.bind(1, "created_by").bind(2, created_by).run();
    tx.commit();
}

void create_indexes(Db& db) { db.exec(index_ddl()); }

int read_schema_version(Db& db) {
    // The first reads of an untrusted file: a non-database, truncated or damaged header fails here.
    std::int64_t app_id = 0, user_version = 0, tables = 0;
    try {
        app_id = db.query_int("PRAGMA application_id");
        user_version = db.query_int("PRAGMA user_version");
        tables = db.query_int("SELECT count(*) FROM sqlite_schema WHERE type='table'");
    } catch (const TraceError& e) {
        throw TraceError("'" + db.path() + "' is not a ScaleScope trace: not a readable SQLite "
                         "database, or a damaged one (" + e.what() + ")");
    }
    if (app_id != kApplicationId) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%08llx", static_cast<unsigned long long>(app_id));
        if (tables == 0 && app_id == 0)
            throw TraceError("'" + db.path() + "' is not a ScaleScope trace: an empty SQLite database");
        throw TraceError("'" + db.path() + "' is not a ScaleScope trace: a SQLite database of another "
                         "program (application_id " + std::string(hex) + ", " +
                         std::to_string(tables) + " tables)");
    }
    int version = static_cast<int>(user_version);
    if (version > kSchemaVersion)
        throw TraceError("'" + db.path() + "' was written by a newer ScaleScope (schema version " +
                         std::to_string(version) + "); this build reads schema versions " +
                         std::to_string(kMinReadableSchemaVersion) + " to " +
                         std::to_string(kSchemaVersion) + ": update ScaleScope to open it");
    if (version < kMinReadableSchemaVersion)
        throw TraceError("'" + db.path() + "' has schema version " + std::to_string(version) +
                         ", older than the oldest this build can migrate (" +
                         std::to_string(kMinReadableSchemaVersion) + ")");
    return version;
}

void validate_structure(Db& db, int version) {
    const auto expected = expected_columns(version);
    std::set<std::string> seen_tables;
    Stmt objects = db.prepare("SELECT type, name, tbl_name FROM sqlite_schema");
    while (objects.step()) {
        std::string type = objects.col_text(0), name = objects.col_text(1);
        const std::string where = "'" + db.path() + "' is not a valid ScaleScope trace: ";
        if (type == "view" || type == "trigger")
            throw TraceError(where + "it contains a " + type + " '" + name +
                             "', which ScaleScope traces never have (refusing to run it)");
        if (type == "index") {
            if (name.rfind("sqlite_autoindex_", 0) == 0 || known_indexes().count(name)) continue;
            throw TraceError(where + "unexpected index '" + name + "'");
        }
        if (type != "table") throw TraceError(where + "unexpected schema object '" + name + "'");
        if (name.rfind("sqlite_", 0) == 0) continue;  // sqlite_stat1 and friends
        if (name == kSpanChunksTable) {  // a rank file's staged spans (traces/span_chunks.h)
            static const auto staging = [] {
                Db mem = Db::memory();
                mem.exec(kSpanChunksDdl);
                return table_columns(mem).at(kSpanChunksTable);
            }();
            if (table_columns(db)[name] != staging)
                throw TraceError(where +
                                 "table 'span_chunks' does not have the columns of staged spans");
            continue;
        }
        if (!expected.count(name))
            throw TraceError(where + "unexpected table '" + name + "'" +
                             (table_since(name) > version
                                  ? " (it belongs to schema version " +
                                        std::to_string(table_since(name)) +
                                        ", the file says version " + std::to_string(version) + ")"
                                  : std::string()));
        seen_tables.insert(name);
    }
    auto actual = table_columns(db);
    for (const auto& [table, cols] : expected) {
        if (!seen_tables.count(table))
            throw TraceError("'" + db.path() + "' is not a valid ScaleScope trace: table '" + table +
                             "' is missing");
        if (actual[table] != cols)
            throw TraceError("'" + db.path() + "' is not a valid ScaleScope trace: table '" + table +
                             "' does not have the columns of schema version " +
                             std::to_string(version));
    }
}

void migrate(Db& db, int from_version) {
    if (from_version == kSchemaVersion) return;
    if (from_version > kSchemaVersion || from_version < kMinReadableSchemaVersion)
        throw TraceError("cannot migrate '" + db.path() + "' from schema version " +
                         std::to_string(from_version));
    Transaction tx(db);
    // One step per version: `case N:` turns a version-N file into version N+1 and falls through.
    switch (from_version) {
        case 1:
            // 1 -> 2: the calibrations table (DDL as in schema_ddl()).
            db.exec(R"SQL(
CREATE TABLE calibrations(
  id              INTEGER PRIMARY KEY,
  created_unix_ns INTEGER NOT NULL,
  host            TEXT NOT NULL,
  hardware_json   TEXT NOT NULL
);)SQL");
            [[fallthrough]];
        case 2:
            // 2 -> 3: the source of a run (empty for ScaleScope's own runs; column text as in
            // schema_ddl(), so a migrated file's DDL equals a new file's).
            db.exec("ALTER TABLE runs ADD COLUMN source_tool TEXT NOT NULL DEFAULT '';"
                    "ALTER TABLE runs ADD COLUMN source_version TEXT NOT NULL DEFAULT '';"
                    "ALTER TABLE runs ADD COLUMN source_file TEXT NOT NULL DEFAULT '';");
            [[fallthrough]];
        case 3:
            // 3 -> 4: derived tables, filled when a run is finished or merged, or the first time
            // an older run is opened for writing.
            db.exec(kV4Tables);
            [[fallthrough]];
        default: break;
    }
    db.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
    Stmt put = db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?1)");
    put.bind(1, std::to_string(kSchemaVersion)).run();
    tx.commit();
}

}  // namespace ss::traces

// Schema migration: a version-1 file (built here from the version-1 DDL, as ScaleScope 0.1 wrote
// it) is read without being modified, migrated in place by a writer, and keeps everything it held.
// Also: the calibrations table of version 2 round-trips, a version-2 file gains the run source
// columns of version 3 (empty for its runs) and they round-trip, and files whose tables do not
// match their version are refused.
#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <cctype>

#include "traces/reader.h"
#include "traces/schema.h"
#include "traces/writer.h"

using namespace ss::traces;

namespace {

// Schema version 1, verbatim as traces/schema.cpp created it before version 2 existed.
constexpr const char* kV1Ddl = R"SQL(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE strings(id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
CREATE TABLE runs(id INTEGER PRIMARY KEY, name TEXT NOT NULL, spec_json TEXT NOT NULL,
  model TEXT NOT NULL, backend TEXT NOT NULL, world_size INTEGER NOT NULL, dp INTEGER NOT NULL,
  tp INTEGER NOT NULL, pp INTEGER NOT NULL, micro_batches INTEGER NOT NULL, schedule TEXT NOT NULL,
  hosts TEXT NOT NULL, oversubscribed INTEGER NOT NULL, start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL, wall_start_unix_ns INTEGER NOT NULL, status TEXT NOT NULL,
  failure_reason TEXT NOT NULL, event_count INTEGER NOT NULL);
CREATE TABLE ranks(run_id INTEGER NOT NULL, rank INTEGER NOT NULL, host TEXT NOT NULL,
  pid INTEGER NOT NULL, device TEXT NOT NULL, dp_coord INTEGER NOT NULL, tp_coord INTEGER NOT NULL,
  pp_coord INTEGER NOT NULL, clock_offset_ns INTEGER NOT NULL, clock_ref_ns INTEGER NOT NULL,
  clock_drift_ppb REAL NOT NULL, clock_rtt_ns INTEGER NOT NULL, clock_corrected INTEGER NOT NULL,
  PRIMARY KEY(run_id, rank)) WITHOUT ROWID;
CREATE TABLE lanes(run_id INTEGER NOT NULL, rank INTEGER NOT NULL, lane INTEGER NOT NULL,
  name TEXT NOT NULL, event_count INTEGER NOT NULL, max_duration_ns INTEGER NOT NULL,
  min_start_ns INTEGER NOT NULL, max_end_ns INTEGER NOT NULL,
  PRIMARY KEY(run_id, rank, lane)) WITHOUT ROWID;
CREATE TABLE events(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, rank INTEGER NOT NULL,
  lane INTEGER NOT NULL, kind INTEGER NOT NULL, name_id INTEGER NOT NULL, start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL, step INTEGER, micro_batch INTEGER, layer INTEGER, bytes INTEGER,
  flops REAL, collective INTEGER, group_kind INTEGER, group_id INTEGER, group_size INTEGER,
  peer INTEGER, seq INTEGER, correlation INTEGER);
CREATE TABLE metrics(run_id INTEGER NOT NULL, rank INTEGER NOT NULL, step INTEGER,
  time_ns INTEGER NOT NULL, name_id INTEGER NOT NULL, value REAL NOT NULL);
CREATE TABLE stats(run_id INTEGER NOT NULL, rank INTEGER NOT NULL, key TEXT NOT NULL,
  value INTEGER NOT NULL, PRIMARY KEY(run_id, rank, key)) WITHOUT ROWID;
CREATE TABLE aggregates(run_id INTEGER NOT NULL, kind INTEGER NOT NULL, name_id INTEGER NOT NULL,
  collective INTEGER NOT NULL, group_kind INTEGER NOT NULL, count INTEGER NOT NULL,
  total_ns INTEGER NOT NULL, mean_ns REAL NOT NULL, median_ns REAL NOT NULL,
  p95_ns INTEGER NOT NULL, min_ns INTEGER NOT NULL, max_ns INTEGER NOT NULL,
  bytes INTEGER NOT NULL, PRIMARY KEY(run_id, kind, name_id, collective, group_kind)) WITHOUT ROWID;
CREATE TABLE studies(id INTEGER PRIMARY KEY, name TEXT NOT NULL, variable TEXT NOT NULL,
  scaling TEXT NOT NULL);
CREATE TABLE study_runs(study_id INTEGER NOT NULL, run_id INTEGER NOT NULL, value TEXT NOT NULL,
  p INTEGER NOT NULL, repeat INTEGER NOT NULL, PRIMARY KEY(study_id, run_id)) WITHOUT ROWID;
CREATE INDEX metrics_by_run ON metrics(run_id, name_id, rank, step);
PRAGMA application_id=1397970002;
PRAGMA user_version=1;
INSERT INTO meta VALUES('schema_version','1'), ('created_by','scalescope 0.1');
INSERT INTO strings VALUES(1,'sgemm'), (2,'all_reduce'), (3,'loss');
INSERT INTO runs VALUES(1,'mlp-dp2','{"name":"mlp-dp2"}','mlp','cpu',2,2,1,1,1,'1f1b','["n1"]',0,
  1000,9000,1700000000000000000,'completed','',3);
INSERT INTO ranks VALUES(1,0,'n1',11,'cpu',0,0,0,0,0,0.0,0,1), (1,1,'n1',12,'cpu',1,0,0,5,0,0.0,900,1);
INSERT INTO lanes VALUES(1,0,0,'compute',2,3000,1000,5000), (1,1,1,'comm',1,2500,2000,4500);
INSERT INTO events(run_id,rank,lane,kind,name_id,start_ns,end_ns,flops)
  VALUES(1,0,0,0,1,1000,4000,2e6), (1,0,0,0,1,4000,5000,1e6);
INSERT INTO events(run_id,rank,lane,kind,name_id,start_ns,end_ns,bytes,collective,group_kind,
  group_id,group_size,seq) VALUES(1,1,1,1,2,2000,4500,4096,1,2,0,2,0);
INSERT INTO metrics VALUES(1,0,0,4000,3,2.5);
INSERT INTO studies VALUES(1,'dp sweep','parallel.dp','strong');
INSERT INTO study_runs VALUES(1,1,'2',2,0);
)SQL";

// Schema version 2: version 1 plus the calibrations table, as ScaleScope wrote it before version 3.
constexpr const char* kV2Extra = R"SQL(
CREATE TABLE calibrations(id INTEGER PRIMARY KEY, created_unix_ns INTEGER NOT NULL,
  host TEXT NOT NULL, hardware_json TEXT NOT NULL);
INSERT INTO calibrations VALUES(1, 5, 'n1', '{}');
PRAGMA user_version=2;
UPDATE meta SET value='2' WHERE key='schema_version';
)SQL";

void raw(const std::string& file, const std::string& sql) {
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, msg.c_str());
}

// One value of a query on a file, as text ("" when no row).
std::string raw_text(const std::string& file, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "<open failed>";
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

QByteArray sha(const std::string& file) {
    QFile f(QString::fromStdString(file));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

}  // namespace

class TestTraceMigration : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path(const char* name) { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }
    std::string v1_file(const char* name) {
        const std::string p = path(name);
        QFile::remove(QString::fromStdString(p));
        raw(p, kV1Ddl);
        return p;
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void reader_migrates_a_copy_and_leaves_the_file_alone() {
        const std::string p = v1_file("v1-read.sqlite");
        const QByteArray before = sha(p);
        {
            TraceReader rd(p);
            QCOMPARE(rd.schema_version(), 1);  // the file's own version
            auto runs = rd.runs();
            QCOMPARE(runs.size(), size_t(1));
            QCOMPARE(runs[0].name, std::string("mlp-dp2"));
            QCOMPARE(runs[0].status, RunStatus::Completed);
            QCOMPARE(runs[0].event_count, std::int64_t(3));
            QCOMPARE(runs[0].hosts, std::vector<std::string>{"n1"});
            auto ranks = rd.ranks(runs[0].id);
            QCOMPARE(ranks.size(), size_t(2));
            QCOMPARE(ranks[1].clock_rtt_ns, std::int64_t(900));
            auto ev = rd.events_in_window(runs[0].id, 0, 0, 0, 10000);
            QCOMPARE(ev.size(), size_t(2));
            QCOMPARE(rd.string(ev[0].name), std::string("sgemm"));
            auto comm = rd.events_in_window(runs[0].id, 1, 1, 0, 10000);
            QCOMPARE(comm.size(), size_t(1));
            QCOMPARE(comm[0].collective, Collective::AllReduce);
            QCOMPARE(comm[0].bytes, std::int64_t(4096));
            QCOMPARE(rd.metrics(runs[0].id).size(), size_t(1));
            auto studies = rd.studies();
            QCOMPARE(studies.size(), size_t(1));
            QCOMPARE(rd.study_runs(studies[0].id).size(), size_t(1));
            QVERIFY(rd.calibrations().empty());  // the migrated copy has the new, empty table
        }
        QCOMPARE(sha(p), before);  // reading never writes
        QCOMPARE(raw_text(p, "PRAGMA user_version"), std::string("1"));
    }

    void writer_migrates_in_place_and_keeps_everything() {
        const std::string p = v1_file("v1-write.sqlite");
        CalibrationId cid;
        RunId appended;
        {
            TraceWriter w(p);
            Calibration c;
            c.created_unix_ns = 1700000000123456789;
            c.host = "n1";
            c.hardware_json = R"({"format":"scalescope-hardware","version":1})";
            cid = w.add_calibration(c);
            RunInfo r;
            r.name = "after-migration";
            r.spec_json = "{}";
            r.model = "gpt-tiny";
            r.backend = "cpu";
            appended = w.begin_run(r);
            w.finish_run(appended, RunStatus::Completed, "", 10);
        }
        QCOMPARE(raw_text(p, "PRAGMA user_version"), std::to_string(kSchemaVersion));
        QCOMPARE(raw_text(p, "SELECT value FROM meta WHERE key='schema_version'"),
                 std::to_string(kSchemaVersion));
        // The migrated table is the table a new file gets (same DDL, not just the same names).
        const std::string fresh = path("fresh.sqlite");
        { TraceWriter w(fresh); }
        const char* q = "SELECT sql FROM sqlite_schema WHERE name='calibrations'";
        auto squash = [](std::string s) {
            std::string o;
            for (char ch : s)
                if (!std::isspace(static_cast<unsigned char>(ch))) o += ch;
            return o;
        };
        QVERIFY(!raw_text(fresh, q).empty());
        QCOMPARE(squash(raw_text(p, q)), squash(raw_text(fresh, q)));

        TraceReader rd(p);
        QCOMPARE(rd.schema_version(), kSchemaVersion);
        auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(2));
        QCOMPARE(runs[0].name, std::string("mlp-dp2"));
        QCOMPARE(runs[0].event_count, std::int64_t(3));
        QCOMPARE(runs[1].id, appended);
        QCOMPARE(rd.studies().size(), size_t(1));
        auto cal = rd.calibrations();
        QCOMPARE(cal.size(), size_t(1));
        QCOMPARE(cal[0].id, cid);
        QCOMPARE(cal[0].created_unix_ns, std::int64_t(1700000000123456789));
        QCOMPARE(cal[0].host, std::string("n1"));
        QCOMPARE(cal[0].hardware_json, std::string(R"({"format":"scalescope-hardware","version":1})"));
    }

    void calibrations_round_trip_in_order() {
        const std::string p = path("cal.sqlite");
        {
            TraceWriter w(p);
            w.add_calibration(Calibration{CalibrationId(), 5, "a", "{\"x\":1}"});
            w.add_calibration(Calibration{CalibrationId(), 7, "b", "{\"x\":2}"});
            QVERIFY_THROWS_EXCEPTION(TraceError,
                                     w.add_calibration(Calibration{CalibrationId(), 9, "c", ""}));
        }
        { TraceWriter again(p); again.add_calibration(Calibration{CalibrationId(), 8, "c", "{}"}); }
        TraceReader rd(p);
        auto cal = rd.calibrations();
        QCOMPARE(cal.size(), size_t(3));
        QCOMPARE(cal[0].host, std::string("a"));
        QCOMPARE(cal[1].hardware_json, std::string("{\"x\":2}"));
        QCOMPARE(cal[2].created_unix_ns, std::int64_t(8));
        QVERIFY(cal[0].id < cal[1].id && cal[1].id < cal[2].id);
    }

    void v2_file_gains_the_run_source() {
        const std::string p = v1_file("v2.sqlite");
        raw(p, kV2Extra);
        const QByteArray before = sha(p);
        {
            TraceReader rd(p);
            QCOMPARE(rd.schema_version(), 2);
            auto runs = rd.runs();
            QCOMPARE(runs.size(), size_t(1));
            QCOMPARE(runs[0].name, std::string("mlp-dp2"));
            QVERIFY(!runs[0].imported());
            QCOMPARE(runs[0].source_file, std::string());
            QCOMPARE(rd.calibrations().size(), size_t(1));
        }
        QCOMPARE(sha(p), before);  // reading never writes
        RunId imported;
        {
            TraceWriter w(p);
            RunInfo r;
            r.name = "imported";
            r.spec_json = "{}";
            r.source_tool = "PyTorch profiler (Kineto)";
            r.source_version = "1.0.1";
            r.source_file = "/data/rank0.json.gz";
            imported = w.begin_run(r);
            w.finish_run(imported, RunStatus::Completed, "", 10);
        }
        QCOMPARE(raw_text(p, "PRAGMA user_version"), std::to_string(kSchemaVersion));
        QCOMPARE(raw_text(p, "SELECT value FROM meta WHERE key='schema_version'"),
                 std::to_string(kSchemaVersion));
        QCOMPARE(raw_text(p, "SELECT source_tool FROM runs WHERE id=1"), std::string());
        // The migrated runs table is the one a new file gets (same DDL, not just the same names).
        const std::string fresh = path("fresh3.sqlite");
        { TraceWriter w(fresh); }
        auto squash = [](std::string s) {
            std::string o;
            for (char ch : s)
                if (!std::isspace(static_cast<unsigned char>(ch))) o += ch;
            return o;
        };
        const char* q = "SELECT sql FROM sqlite_schema WHERE name='runs'";
        QVERIFY(raw_text(fresh, q).find("source_file") != std::string::npos);
        QCOMPARE(squash(raw_text(p, q)), squash(raw_text(fresh, q)));
        // So are the derived tables of version 4.
        for (const char* t : {"lane_lod", "run_summaries"}) {
            const std::string qt = std::string("SELECT sql FROM sqlite_schema WHERE name='") + t + "'";
            QVERIFY(!raw_text(fresh, qt).empty());
            QCOMPARE(squash(raw_text(p, qt)), squash(raw_text(fresh, qt)));
        }
        TraceReader rd(p);
        QCOMPARE(rd.schema_version(), kSchemaVersion);
        auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(2));
        QVERIFY(!runs[0].imported());
        QCOMPARE(runs[1].id, imported);
        QVERIFY(runs[1].imported());
        QCOMPARE(runs[1].source_tool, std::string("PyTorch profiler (Kineto)"));
        QCOMPARE(runs[1].source_version, std::string("1.0.1"));
        QCOMPARE(runs[1].source_file, std::string("/data/rank0.json.gz"));
        QCOMPARE(rd.run(imported), runs[1]);
    }

    void v2_file_with_v3_columns_is_refused() {
        const std::string p = v1_file("v2-bad.sqlite");
        raw(p, kV2Extra);
        raw(p, "ALTER TABLE runs ADD COLUMN source_tool TEXT NOT NULL DEFAULT ''");
        try {
            TraceReader rd(p);
            QFAIL("accepted a version-2 file with a version-3 column");
        } catch (const TraceError& e) {
            QVERIFY2(std::string(e.what()).find("table 'runs' does not have the columns of schema version 2") !=
                         std::string::npos,
                     e.what());
        }
    }

    void v1_file_with_a_v2_table_is_refused() {
        const std::string p = v1_file("v1-bad.sqlite");
        raw(p, "CREATE TABLE calibrations(id INTEGER PRIMARY KEY, created_unix_ns INTEGER NOT NULL,"
               " host TEXT NOT NULL, hardware_json TEXT NOT NULL)");
        try {
            TraceReader rd(p);
            QFAIL("accepted a version-1 file with a calibrations table");
        } catch (const TraceError& e) {
            QVERIFY2(std::string(e.what()).find("belongs to schema version 2") != std::string::npos,
                     e.what());
        }
        QVERIFY_THROWS_EXCEPTION(TraceError, TraceWriter w(p));
    }

    void v2_file_without_calibrations_is_refused() {
        const std::string p = path("v2-missing.sqlite");
        { TraceWriter w(p); }
        raw(p, "DROP TABLE calibrations");
        try {
            TraceReader rd(p);
            QFAIL("accepted a version-2 file without its calibrations table");
        } catch (const TraceError& e) {
            QVERIFY2(std::string(e.what()).find("table 'calibrations' is missing") != std::string::npos,
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestTraceMigration)
#include "tst_traces_migration.moc"

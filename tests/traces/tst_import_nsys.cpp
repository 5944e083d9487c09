// The Nsight Systems SQLite reader (traces/import/nsys.h): every mapping on small exports the test
// writes with nsys's own table definitions (from the real export's schema), exact nanoseconds, the
// correlation join without double counting, ranks, steps, skipped tables, bad files; and, where
// ../shared/testdata is present, the real export of an MPI + CUDA saxpy.
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "traces/import/nsys.h"
#include "traces/lanes.h"
#include "traces/reader.h"
#include "traces/writer.h"

using namespace ss::traces;
using namespace ss::traces::import;

namespace {

// nsys's own definitions of the tables the reader uses (Nsight Systems 2022.2, export schema
// 2.9.1; TARGET_INFO_GPU shortened to the columns that matter here).
const std::map<std::string, std::string> kDdl = {
    {"CUPTI_ACTIVITY_KIND_KERNEL",
     "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL, "
     "deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, "
     "correlationId INTEGER REFERENCES CUPTI_ACTIVITY_KIND_RUNTIME(correlationId), globalPid "
     "INTEGER, demangledName INTEGER NOT NULL, shortName INTEGER NOT NULL, mangledName INTEGER, "
     "launchType INTEGER, cacheConfig INTEGER, registersPerThread INTEGER NOT NULL, gridX "
     "INTEGER NOT NULL, gridY INTEGER NOT NULL, gridZ INTEGER NOT NULL, blockX INTEGER NOT NULL, "
     "blockY INTEGER NOT NULL, blockZ INTEGER NOT NULL, staticSharedMemory INTEGER NOT NULL, "
     "dynamicSharedMemory INTEGER NOT NULL, localMemoryPerThread INTEGER NOT NULL, "
     "localMemoryTotal INTEGER NOT NULL, gridId INTEGER NOT NULL, sharedMemoryExecuted INTEGER, "
     "graphNodeId INTEGER REFERENCES CUDA_GRAPH_EVENTS(graphNodeId), sharedMemoryLimitConfig "
     "INTEGER)"},
    {"CUPTI_ACTIVITY_KIND_MEMCPY",
     "CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (start INTEGER NOT NULL, end INTEGER NOT NULL, "
     "deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, "
     "correlationId INTEGER REFERENCES CUPTI_ACTIVITY_KIND_RUNTIME(correlationId), globalPid "
     "INTEGER, bytes INTEGER NOT NULL, copyKind INTEGER NOT NULL, deprecatedSrcId INTEGER, "
     "srcKind INTEGER, dstKind INTEGER, srcDeviceId INTEGER, srcContextId INTEGER, dstDeviceId "
     "INTEGER, dstContextId INTEGER, migrationCause INTEGER, graphNodeId INTEGER REFERENCES "
     "CUDA_GRAPH_EVENTS(graphNodeId), virtualAddress INTEGER, name TEXT)"},
    {"CUPTI_ACTIVITY_KIND_MEMSET",
     "CREATE TABLE CUPTI_ACTIVITY_KIND_MEMSET (start INTEGER NOT NULL, end INTEGER NOT NULL, "
     "deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, "
     "correlationId INTEGER REFERENCES CUPTI_ACTIVITY_KIND_RUNTIME(correlationId), globalPid "
     "INTEGER, value INTEGER NOT NULL, bytes INTEGER NOT NULL, graphNodeId INTEGER REFERENCES "
     "CUDA_GRAPH_EVENTS(graphNodeId), memKind INTEGER)"},
    {"CUPTI_ACTIVITY_KIND_RUNTIME",
     "CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER NOT NULL, end INTEGER NOT NULL, "
     "eventClass INTEGER NOT NULL, globalTid INTEGER, correlationId INTEGER, nameId INTEGER NOT "
     "NULL REFERENCES StringIds(id), returnValue INTEGER NOT NULL, callchainId INTEGER "
     "REFERENCES CUDA_CALLCHAINS(id), name TEXT)"},
    {"CUPTI_ACTIVITY_KIND_SYNCHRONIZATION",
     "CREATE TABLE CUPTI_ACTIVITY_KIND_SYNCHRONIZATION (start INTEGER NOT NULL, end INTEGER NOT "
     "NULL, deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, "
     "correlationId INTEGER, globalPid INTEGER, syncType INTEGER NOT NULL, eventId INTEGER NOT "
     "NULL)"},
    {"StringIds", "CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL)"},
    {"NVTX_EVENTS",
     "CREATE TABLE NVTX_EVENTS (start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT NULL, "
     "rangeId INTEGER, category INTEGER, color INTEGER, text TEXT, globalTid INTEGER, "
     "endGlobalTid INTEGER, textId INTEGER REFERENCES StringIds(id), domainId INTEGER, "
     "uint64Value INTEGER, int64Value INTEGER, doubleValue REAL, uint32Value INTEGER, int32Value "
     "INTEGER, floatValue REAL, jsonTextId INTEGER, jsonText TEXT)"},
    {"ThreadNames",
     "CREATE TABLE ThreadNames (nameId INTEGER NOT NULL REFERENCES StringIds(id), priority "
     "INTEGER, globalTid INTEGER)"},
    {"TARGET_INFO_GPU",
     "CREATE TABLE TARGET_INFO_GPU (vmId INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT, "
     "busLocation TEXT, isDiscrete INTEGER, totalMemory INTEGER, smCount INTEGER, uuid TEXT, "
     "chipName TEXT, cuDevice INTEGER)"},
    {"PROCESSES", "CREATE TABLE PROCESSES (globalPid INTEGER, pid INTEGER, name TEXT)"},
    {"EXPORT_META_DATA", "CREATE TABLE EXPORT_META_DATA (name TEXT NOT NULL, value TEXT)"},
    {"TARGET_INFO_SYSTEM_ENV",
     "CREATE TABLE TARGET_INFO_SYSTEM_ENV (globalVid INTEGER NOT NULL, devStateName TEXT NOT "
     "NULL, name TEXT NOT NULL, nameEnum INTEGER NOT NULL, value TEXT NOT NULL)"},
};

// A serialized nsys GlobalId: VM 1, pid, tid.
constexpr std::int64_t process_id(std::int64_t pid) {
    return (1LL << 48) | (pid << 24);
}
constexpr std::int64_t thread_id(std::int64_t pid, std::int64_t tid) {
    return process_id(pid) | tid;
}

// Epoch-based nanoseconds: beyond a double's 53 bits, so any detour through floating point shows.
constexpr std::int64_t T = 1'687'813'257'637'297'504;

std::string n(std::int64_t v) {
    return std::to_string(v);
}

// INSERT for a kernel row (the NOT NULL launch-configuration columns are zero).
std::string kernel(std::int64_t start, std::int64_t end, std::int64_t stream, std::int64_t corr,
                   std::int64_t gpid, std::int64_t demangled, std::int64_t short_name,
                   std::int64_t device = 0) {
    return "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL (start, end, deviceId, contextId, streamId, "
           "correlationId, globalPid, demangledName, shortName, registersPerThread, gridX, gridY, "
           "gridZ, blockX, blockY, blockZ, staticSharedMemory, dynamicSharedMemory, "
           "localMemoryPerThread, localMemoryTotal, gridId) VALUES (" +
           n(start) + "," + n(end) + "," + n(device) + ",1," + n(stream) + "," + n(corr) + "," +
           n(gpid) + "," + n(demangled) + "," + n(short_name) + ",32,1,1,1,128,1,1,0,0,0,0,1);\n";
}
std::string runtime(std::int64_t start, std::int64_t end, int event_class, std::int64_t gtid,
                    std::int64_t corr, std::int64_t name_id) {
    return "INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME (start, end, eventClass, globalTid, "
           "correlationId, nameId, returnValue) VALUES (" +
           n(start) + "," + n(end) + "," + n(event_class) + "," + n(gtid) + "," + n(corr) + "," +
           n(name_id) + ",0);\n";
}
// A push/pop (59) or start/end (60) NVTX range; text is SQL ('forward' or NULL).
std::string nvtx(std::int64_t start, const std::string& end, int type, std::int64_t gtid,
                 const std::string& text, const std::string& text_id = "NULL",
                 const std::string& json = "NULL") {
    return "INSERT INTO NVTX_EVENTS (start, end, eventType, text, globalTid, textId, jsonText) "
           "VALUES (" +
           n(start) + "," + end + "," + n(type) + "," + text + "," + n(gtid) + "," + text_id + "," +
           json + ");\n";
}

struct Ev {
    Event e;
    std::string name;
};

struct Imported {
    ReaderContext ctx;
    std::vector<RankInfo> ranks;
    std::vector<Lane> lanes;
    std::vector<Ev> events;

    // One line per event, times relative to `t0`, sorted by lane then start.
    QStringList lines(std::int64_t t0) const {
        QStringList out;
        for (const Ev& v : events) {
            const Event& e = v.e;
            std::string s = "lane=" + n(e.lane) + " " + std::string(to_string(e.kind)) + " '" +
                            v.name + "' " + n(e.start_ns - t0) + ".." + n(e.end_ns - t0);
            if (e.step != kNone) s += " step=" + n(e.step);
            if (e.bytes != kNone) s += " bytes=" + n(e.bytes);
            if (e.correlation != kNone) s += " corr=" + n(e.correlation);
            if (e.collective != Collective::None)
                s += " coll=" + std::string(to_string(e.collective));
            if (e.group_size != kNone) s += " gsize=" + n(e.group_size);
            out << QString::fromStdString(s);
        }
        return out;
    }
    std::string lane_name(std::int32_t rank, std::int32_t lane) const {
        for (const Lane& l : lanes)
            if (l.rank == rank && l.lane == lane) return l.name;
        return "(no lane " + n(lane) + ")";
    }
    bool skipped(const std::string& needle) const {
        for (const std::string& s : ctx.skipped)
            if (s.find(needle) != std::string::npos) return true;
        return false;
    }
    std::int64_t count(EventKind k) const {
        std::int64_t c = 0;
        for (const Ev& v : events) c += v.e.kind == k;
        return c;
    }
};

}  // namespace

class TestImportNsys : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    int files_ = 0;

    std::string path(const std::string& name) {
        return dir_.filePath(QString::fromStdString(name)).toStdString();
    }

    // Writes an export with the given tables (nsys's definitions) and rows (SQL).
    std::string write_export(const std::vector<std::string>& tables, const std::string& rows) {
        const std::string p = path("export" + n(files_++) + ".sqlite");
        std::string sql = "BEGIN;\n";
        for (const std::string& t : tables) sql += kDdl.at(t) + ";\n";
        sql += rows + "COMMIT;\n";
        raw(p, sql);
        return p;
    }
    static void raw(const std::string& file, const std::string& sql) {
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(file.c_str(), &db), SQLITE_OK);
        char* err = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        const std::string msg = err ? err : "";
        sqlite3_free(err);
        sqlite3_close(db);
        QVERIFY2(rc == SQLITE_OK, msg.c_str());
    }
    static std::int64_t query(const std::string& file, const std::string& sql) {
        sqlite3* db = nullptr;
        sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_stmt* st = nullptr;
        std::int64_t v = -1;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
    }

    // Imports `file` into a fresh trace file as the importer does, and reads the run back.
    Imported import(const std::string& file, int rank_hint = 0,
                    std::function<bool(std::int64_t)> progress = {}) {
        Imported out;
        const std::string trace = path("trace" + n(files_++) + ".sqlite");
        {
            TraceWriter w(trace, WriterOptions{.batch_events = 1000, .durable = false});
            RunInfo info;
            info.name = "imported";
            info.backend = "cuda";
            const RunId run = w.begin_run(info);
            out.ctx.writer = &w;
            out.ctx.run = run;
            out.ctx.rank_hint = rank_hint;
            out.ctx.file = file;
            out.ctx.progress = std::move(progress);
            read_nsys(out.ctx);
            w.finish_run(run, RunStatus::Completed, "", 0);
            out.ctx.writer = nullptr;
        }
        TraceReader rd(trace);
        const RunId run = rd.runs().at(0).id;
        out.ranks = rd.ranks(run);
        out.lanes = rd.lanes(run);
        rd.scan_events(run, [&](const Event& e) { out.events.push_back({e, rd.string(e.name)}); });
        std::stable_sort(out.events.begin(), out.events.end(), [](const Ev& a, const Ev& b) {
            return std::tie(a.e.rank, a.e.lane, a.e.start_ns) <
                   std::tie(b.e.rank, b.e.lane, b.e.start_ns);
        });
        return out;
    }
    // Whether importing `file` with `progress` ends in ImportError "cancelled".
    bool cancelled_by(const std::string& file, std::function<bool(std::int64_t)> progress) {
        try {
            import(file, 0, std::move(progress));
        } catch (const ImportError& e) {
            return std::string(e.what()) == "cancelled";
        }
        return false;
    }
    // read_nsys must throw ImportError naming the file and containing `needle`.
    void expect_refused(const std::string& file, const std::string& needle) {
        try {
            import(file);
            QFAIL(("accepted " + file).c_str());
        } catch (const ImportError& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(file) != std::string::npos, e.what());
            QVERIFY2(what.find(needle) != std::string::npos, e.what());
        }
    }

    // One process (pid 4242, threads 4242 "main" and 4250) with every kind of row.
    std::string full_export() {
        const std::int64_t g = process_id(4242), main = thread_id(4242, 4242),
                           other = thread_id(4242, 4250);
        std::string rows =
            "INSERT INTO StringIds VALUES (1, 'cudaLaunchKernel_v7000'), (2, 'cudaLaunchKernel'), "
            "(3, 'gemm(float*, int)'), (4, 'gemm'), "
            "(5, 'ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevComm*, unsigned long, "
            "ncclWork*)'), "
            "(6, 'ncclDevKernel_AllReduce_Sum_f32_RING_LL'), (7, 'cudaMemcpyAsync_v3020'), "
            "(8, 'cudaMemsetAsync_v3020'), (9, 'main'), (10, 'forward');\n"
            "INSERT INTO ThreadNames VALUES (9, 10, " +
            n(main) +
            ");\n"
            "INSERT INTO TARGET_INFO_GPU (vmId, id, name, chipName, cuDevice) VALUES (" +
            n(1LL << 48) +
            ", 0, 'NVIDIA H100 80GB HBM3', 'GH100', 0);\n"
            "INSERT INTO TARGET_INFO_SYSTEM_ENV VALUES (" +
            n(1LL << 48) +
            ", 'Local (CLI)', 'Hostname', 619, 'node7');\n"
            "INSERT INTO EXPORT_META_DATA VALUES ('EXPORT_PRODUCT_NAME', 'NVIDIA Nsight Systems'), "
            "('EXPORT_PRODUCT_VERSION', '2024.5.1.113'), ('EXPORT_SCHEMA_VERSION', '3.11.1');\n"
            "INSERT INTO PROCESSES VALUES (" +
            n(g) + ", 4242, 'python'), (" + n(process_id(1)) + ", 1, 'systemd');\n";
        // The launch of the gemm (correlation 10) and nsys's backtrace copy of it (eventClass 67).
        rows += runtime(T + 1500, T + 1600, 0, main, 10, 1);
        rows += runtime(T + 1490, T + 1610, 67, main, 10, 2);
        rows += runtime(T + 1700, T + 1750, 0, main, 11, 7);
        rows += runtime(T + 1800, T + 1850, 0, main, 12, 8);
        rows += runtime(T + 1900, T + 1950, 0, main, 13, 1);
        // Launched in step 7, runs in step 8's time.
        rows += kernel(T + 5200, T + 5900, 7, 10, g, 3, 4);
        rows += kernel(T + 2000, T + 2600, 16, 13, g, 5, 6);  // stream 16: lane 32
        rows +=
            "INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY (start, end, deviceId, contextId, streamId, "
            "correlationId, globalPid, bytes, copyKind, srcKind, dstKind) VALUES (" +
            n(T + 1760) + "," + n(T + 1790) + ",0,1,7,11," + n(g) + ",4096,1,0,2);\n";
        rows +=
            "INSERT INTO CUPTI_ACTIVITY_KIND_MEMSET (start, end, deviceId, contextId, streamId, "
            "correlationId, globalPid, value, bytes) VALUES (" +
            n(T + 1860) + "," + n(T + 1870) + ",0,1,7,12," + n(g) + ",0,128);\n";
        rows += "INSERT INTO CUPTI_ACTIVITY_KIND_SYNCHRONIZATION VALUES (" + n(T + 2700) + "," +
                n(T + 2800) + ",0,1,7,NULL," + n(g) + ",3,0), (" + n(T + 2900) + "," + n(T + 2950) +
                ",0,1,4294967295,NULL," + n(g) + ",4,0);\n";
        rows += nvtx(T + 1000, n(T + 5000), 59, main, "'ProfilerStep#7'");
        rows += nvtx(T + 5000, n(T + 9000), 59, main, "'ProfilerStep#8'");
        rows +=
            nvtx(T + 5100, n(T + 5200), 59, main, "'train_step'");  // not a step: ProfilerStep wins
        rows += nvtx(T + 1880, n(T + 1990), 59, main, "'ncclAllReduce'", "NULL",
                     "'{\"Message size [bytes]\": 1048576, \"Communicator size\": 8}'");
        rows += nvtx(T + 1100, n(T + 1400), 60, other, "NULL", "10");  // registered string
        rows += nvtx(T + 1200, "NULL", 34, main, "'a mark'");
        rows += nvtx(T + 1300, "NULL", 59, main, "'never ended'");
        return write_export(
            {"StringIds", "ThreadNames", "TARGET_INFO_GPU", "TARGET_INFO_SYSTEM_ENV",
             "EXPORT_META_DATA", "PROCESSES", "CUPTI_ACTIVITY_KIND_RUNTIME",
             "CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY",
             "CUPTI_ACTIVITY_KIND_MEMSET", "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION", "NVTX_EVENTS"},
            rows);
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void everyMapping() {
        const std::string file = full_export();
        const Imported im = import(file);
        const QStringList expected = {
            "lane=0 step 'ProfilerStep#7' 1000..5000 step=7",
            "lane=0 step 'ProfilerStep#8' 5000..9000 step=8",
            "lane=15 host 'cudaLaunchKernel' 1500..1600 step=7 corr=10",
            "lane=15 host 'cudaMemcpyAsync' 1700..1750 step=7 corr=11",
            "lane=15 host 'cudaMemsetAsync' 1800..1850 step=7 corr=12",
            "lane=15 host 'cudaLaunchKernel' 1900..1950 step=7 corr=13",
            "lane=15 sync 'cudaDeviceSynchronize' 2900..2950 step=7",
            "lane=23 memcpy 'memcpy HtoD' 1760..1790 step=7 bytes=4096 corr=11",
            "lane=23 memset 'memset' 1860..1870 step=7 bytes=128 corr=12",
            "lane=23 sync 'cudaStreamSynchronize' 2700..2800 step=7",
            "lane=23 kernel 'gemm(float*, int)' 5200..5900 step=7 corr=10",
            "lane=32 comm 'ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevComm*, unsigned long, "
            "ncclWork*)' 2000..2600 step=7 corr=13 coll=all_reduce",
            "lane=1048576 host 'forward' 1100..1400 step=7",
            "lane=1048577 comm 'ncclAllReduce' 1880..1990 step=7 bytes=1048576 coll=all_reduce gsize=8",
            "lane=1048577 host 'train_step' 5100..5200 step=8",
        };
        QCOMPARE(im.lines(T), expected);
        QCOMPARE(im.ctx.events, static_cast<std::int64_t>(expected.size()));
        // Exact nanoseconds, not merely the same offsets.
        QCOMPARE(im.events[2].e.start_ns, T + 1500);
        QCOMPARE(im.events[10].e.end_ns, T + 5900);

        QCOMPARE(im.ctx.tool, std::string("Nsight Systems"));
        QCOMPARE(im.ctx.version, std::string("2024.5.1.113"));
        QCOMPARE(im.ctx.ranks, std::vector<std::int32_t>{0});
        QCOMPARE(im.ranks.size(), size_t(1));
        QCOMPARE(im.ranks[0].device, std::string("cuda:0 (NVIDIA H100 80GB HBM3)"));
        QCOMPARE(im.ranks[0].host, std::string("node7"));
        QCOMPARE(im.ranks[0].pid, std::int64_t(4242));
        QCOMPARE(im.lane_name(0, lanes::kSteps), std::string("steps"));
        QCOMPARE(im.lane_name(0, lanes::kCudaApi), std::string("CUDA API"));
        QCOMPARE(im.lane_name(0, lanes::kCudaStreamBase + 7), std::string("stream 7"));
        QCOMPARE(im.lane_name(0, lanes::kCudaStreamBase + 16), std::string("stream 16"));
        // Threads in order of appearance from lanes::kHostThreadBase, never on a stream's lane; the
        // named one says its name.
        QCOMPARE(im.lane_name(0, lanes::kHostThreadBase), std::string("thread 4250"));
        QCOMPARE(im.lane_name(0, lanes::kHostThreadBase + 1), std::string("thread 4242 (main)"));
        QVERIFY(
            im.skipped("1 rows of CUPTI_ACTIVITY_KIND_RUNTIME repeat a launch's correlationId"));
        QVERIFY(im.skipped("1 NVTX marks"));
        QVERIFY(im.skipped("1 NVTX ranges without an end"));
        for (const auto& s : im.ctx.skipped) qInfo("skipped: %s", s.c_str());
    }

    // Two runtime rows with one correlationId and one kernel: one kernel, one launch, linked once.
    void correlationJoinCountsOnce() {
        const std::int64_t g = process_id(77), t = thread_id(77, 77);
        std::string rows =
            "INSERT INTO StringIds VALUES (1, 'cudaLaunchKernel_v7000'), "
            "(2, 'cudaLaunchKernel'), (3, 'k()'), (4, 'k');\n";
        rows += runtime(T + 100, T + 200, 67, t, 5, 2);  // the backtrace copy comes first
        rows += runtime(T + 110, T + 190, 0, t, 5, 1);
        rows += kernel(T + 300, T + 400, 7, 5, g, 3, 4);
        rows += nvtx(T + 0, n(T + 250), 59, t, "'step 1'");
        rows += nvtx(T + 250, n(T + 1000), 59, t, "'step 2'");
        const std::string file = write_export({"StringIds", "CUPTI_ACTIVITY_KIND_RUNTIME",
                                               "CUPTI_ACTIVITY_KIND_KERNEL", "NVTX_EVENTS"},
                                              rows);
        // The trap is real: a plain join sees the kernel twice.
        QCOMPARE(query(file,
                       "SELECT COUNT(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN "
                       "CUPTI_ACTIVITY_KIND_RUNTIME r USING (correlationId)"),
                 std::int64_t(2));
        const Imported im = import(file);
        const QStringList expected = {
            "lane=0 step 'step 1' 0..250 step=1",
            "lane=0 step 'step 2' 250..1000 step=2",
            // The launch is the runtime row (eventClass 0), not the earlier backtrace row.
            "lane=15 host 'cudaLaunchKernel' 110..190 step=1 corr=5",
            // In step 2 by its time, in step 1 by its launch.
            "lane=23 kernel 'k()' 300..400 step=1 corr=5",
        };
        QCOMPARE(im.lines(T), expected);
        QCOMPARE(im.count(EventKind::Kernel), std::int64_t(1));
        QVERIFY(im.skipped("no table CUPTI_ACTIVITY_KIND_MEMCPY"));
        QVERIFY(im.skipped("no EXPORT_META_DATA"));
        QCOMPARE(im.ctx.version, std::string("(version unknown)"));
    }

    // Processes become ranks: in pid order, or by MPI rank when nsys recorded one for each.
    void processesAreRanks_data() {
        QTest::addColumn<bool>("mpi");
        QTest::addColumn<bool>("table");
        QTest::newRow("pid order") << false << false;
        QTest::newRow("MPI Rank thread names") << true << false;
        QTest::newRow("MPI_RANKS table") << true << true;
    }
    void processesAreRanks() {
        QFETCH(bool, mpi);
        QFETCH(bool, table);
        const std::int64_t a = process_id(100), b = process_id(200);
        const std::int64_t ta = thread_id(100, 100), tb = thread_id(200, 200);
        std::string rows =
            "INSERT INTO StringIds VALUES (1, 'cudaLaunchKernel_v7000'), "
            "(2, 'k()'), (3, 'k'), (4, 'MPI Rank 1'), (5, 'MPI Rank 0');\n"
            "INSERT INTO TARGET_INFO_GPU (vmId, id, name) VALUES (" +
            n(1LL << 48) + ", 0, 'GPU zero'), (" + n(1LL << 48) + ", 1, 'GPU one');\n";
        // Both processes use correlation id 1: each kernel joins its own process's launch.
        rows += runtime(T + 10, T + 20, 0, ta, 1, 1);
        rows += runtime(T + 500, T + 510, 0, tb, 1, 1);
        rows += kernel(T + 30, T + 40, 7, 1, a, 2, 3, 0);
        rows += kernel(T + 600, T + 700, 13, 1, b, 2, 3, 1);
        rows += nvtx(T + 0, n(T + 400), 59, ta, "'Iteration 3'");
        rows += nvtx(T + 400, n(T + 800), 59, ta, "'Iteration 4'");
        rows += nvtx(T + 0, n(T + 400), 59, tb, "'Iteration 3'");
        rows += nvtx(T + 400, n(T + 800), 59, tb, "'Iteration 4'");
        if (table) {  // newer exports: a table of MPI ranks by thread
            rows +=
                "CREATE TABLE MPI_RANKS (rank INTEGER NOT NULL, globalTid INTEGER NOT NULL);\n"
                "INSERT INTO MPI_RANKS VALUES (1, " +
                n(ta) + "), (0, " + n(tb) + ");\n";
        } else if (mpi) {  // nsys's MPI trace: a thread-name row and an NVTX thread-name event
            rows += "INSERT INTO ThreadNames VALUES (4, 0, " + n(ta) + ");\n";
            rows += "INSERT INTO NVTX_EVENTS (start, eventType, text, globalTid) VALUES (" + n(T) +
                    ", 39, 'MPI Rank 0', " + n(tb) + ");\n";
        }
        const std::string file = write_export(
            {"StringIds", "ThreadNames", "TARGET_INFO_GPU", "CUPTI_ACTIVITY_KIND_RUNTIME",
             "CUPTI_ACTIVITY_KIND_KERNEL", "NVTX_EVENTS"},
            rows);
        const Imported im = import(file, 0);
        QCOMPARE(im.ctx.ranks, (std::vector<std::int32_t>{0, 1}));
        const int ra = mpi ? 1 : 0, rb = mpi ? 0 : 1;
        QCOMPARE(im.ranks.size(), size_t(2));
        for (const RankInfo& r : im.ranks) {
            QCOMPARE(r.pid, std::int64_t(r.rank == ra ? 100 : 200));
            QCOMPARE(r.device,
                     std::string(r.rank == ra ? "cuda:0 (GPU zero)" : "cuda:1 (GPU one)"));
        }
        std::map<int, QStringList> per_rank;
        for (const Ev& v : im.events) {
            Imported one;
            one.events = {v};
            per_rank[v.e.rank] << one.lines(T);
        }
        QCOMPARE(per_rank[ra], (QStringList{"lane=0 step 'Iteration 3' 0..400 step=3",
                                            "lane=0 step 'Iteration 4' 400..800 step=4",
                                            "lane=15 host 'cudaLaunchKernel' 10..20 step=3 corr=1",
                                            "lane=23 kernel 'k()' 30..40 step=3 corr=1"}));
        QCOMPARE(per_rank[rb],
                 (QStringList{"lane=0 step 'Iteration 3' 0..400 step=3",
                              "lane=0 step 'Iteration 4' 400..800 step=4",
                              "lane=15 host 'cudaLaunchKernel' 500..510 step=4 corr=1",
                              "lane=29 kernel 'k()' 600..700 step=4 corr=1"}));
        // Without MPI ranks, a later file of the command line numbers its processes from its hint.
        if (!mpi) QCOMPARE(import(file, 4).ctx.ranks, (std::vector<std::int32_t>{4, 5}));
    }

    // NCCL kernels of old (ncclKernel_) and new (ncclDevKernel_) NCCL become communication with
    // the collective in their name; other kernels stay kernels.
    void ncclKernelNames() {
        const std::int64_t g = process_id(11);
        const std::vector<std::string> names = {
            "ncclKernel_AllReduce_RING_LL_Sum_float(ncclWorkElem)",
            "void ncclKernel_AllGather_RING_LL_Sum_int8_t(ncclDevComm*, ncclWork*)",
            "ncclKernel_Broadcast_RING_LL_Sum_int8_t(ncclWorkElem)",
            "ncclDevKernel_ReduceScatter_Sum_f32_RING_LL(ncclDevComm*, unsigned long, ncclWork*)",
            "ncclDevKernel_SendRecv(ncclDevComm*, unsigned long, ncclWork*)",
            "ncclDevKernel_Generic(ncclDevComm*, unsigned long, ncclWork*)",
            "my_ncclKernel_AllReduce()",
        };
        std::string rows;
        for (size_t i = 0; i < names.size(); ++i) {
            rows += "INSERT INTO StringIds VALUES (" + n(100 + i) + ", '" + names[i] + "');\n";
            rows += kernel(T + 100 * i, T + 100 * i + 50, 7, i, g, 100 + i, 100 + i);
        }
        const Imported im = import(write_export({"StringIds", "CUPTI_ACTIVITY_KIND_KERNEL"}, rows));
        QStringList expected;
        const std::vector<std::string> kinds = {"comm", "comm", "comm",  "comm",
                                                "comm", "comm", "kernel"};
        const std::vector<std::string> colls = {" coll=all_reduce",
                                                " coll=all_gather",
                                                " coll=broadcast",
                                                " coll=reduce_scatter",
                                                " coll=send",
                                                "",
                                                ""};
        for (size_t i = 0; i < names.size(); ++i)
            expected << QString::fromStdString("lane=23 " + kinds[i] + " '" + names[i] + "' " +
                                               n(100 * i) + ".." + n(100 * i + 50) +
                                               " corr=" + n(i) + colls[i]);
        QCOMPARE(im.lines(T), expected);
    }

    // Ranges that do not look like steps stay ranges; the run then has no steps.
    void noStepsWithoutStepRanges() {
        const std::int64_t t = thread_id(9, 9);
        std::string rows = "INSERT INTO StringIds VALUES (1, 'x');\n";
        rows += nvtx(T + 0, n(T + 10), 59, t, "'stepper'");
        rows += nvtx(T + 20, n(T + 30), 59, t, "'MPI_Send'");
        rows += nvtx(T + 40, n(T + 50), 59, t, "'MPI_Allreduce'");
        const Imported im = import(write_export({"StringIds", "NVTX_EVENTS"}, rows));
        QCOMPARE(im.lines(T), (QStringList{"lane=1048576 host 'stepper' 0..10",
                                           "lane=1048576 comm 'MPI_Send' 20..30 coll=send",
                                           "lane=1048576 comm 'MPI_Allreduce' 40..50 coll=all_reduce"}));
        QCOMPARE(im.ranks.at(0).device, std::string("cpu"));
        QVERIFY(im.skipped("no table CUPTI_ACTIVITY_KIND_KERNEL"));
        QVERIFY(im.skipped("no table CUPTI_ACTIVITY_KIND_RUNTIME"));
    }

    // Missing tables and columns of another schema version: what is understood is imported,
    // the rest is listed.
    void missingTablesAndColumnsAreSkipped() {
        const std::int64_t g = process_id(5);
        std::string rows = "INSERT INTO StringIds VALUES (1, 'k()'), (2, 'k');\n";
        rows += kernel(T + 10, T + 20, 3, 1, g, 1, 2);
        rows += kernel(T + 30, T + 40, 3, 2, g, 1, 2);
        // A memcpy table of a schema without copyKind.
        rows +=
            "CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (start INTEGER NOT NULL, end INTEGER NOT "
            "NULL, streamId INTEGER NOT NULL, correlationId INTEGER, globalPid INTEGER, bytes "
            "INTEGER NOT NULL, kindOfCopy INTEGER);\n"
            "INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY VALUES (1, 2, 3, 4, " +
            n(g) + ", 8, 1);\n";
        // A kind of events this reader does not know (CUDA graph launches of a newer version).
        rows +=
            "CREATE TABLE CUPTI_ACTIVITY_KIND_GRAPH_TRACE (start INTEGER NOT NULL, end INTEGER "
            "NOT NULL, graphId INTEGER);\n"
            "INSERT INTO CUPTI_ACTIVITY_KIND_GRAPH_TRACE VALUES (1, 2, 1), (3, 4, 1);\n";
        const Imported im = import(write_export({"StringIds", "CUPTI_ACTIVITY_KIND_KERNEL"}, rows));
        QCOMPARE(im.lines(T), (QStringList{"lane=19 kernel 'k()' 10..20 corr=1",
                                           "lane=19 kernel 'k()' 30..40 corr=2"}));
        QVERIFY(im.skipped("table CUPTI_ACTIVITY_KIND_MEMCPY has no column 'copyKind'"));
        QVERIFY(im.skipped("1 rows (memcpys) not imported"));
        for (const char* t : {"CUPTI_ACTIVITY_KIND_RUNTIME", "CUPTI_ACTIVITY_KIND_MEMSET",
                              "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION", "NVTX_EVENTS"})
            QVERIFY2(im.skipped(std::string("no table ") + t), t);
        QVERIFY(im.skipped("TARGET_INFO_GPU"));
        QVERIFY(im.skipped("table CUPTI_ACTIVITY_KIND_GRAPH_TRACE: 2 rows not imported"));
        QCOMPARE(im.ranks.at(0).device, std::string("cuda:0"));
    }

    void badFilesAreRefused() {
        // Another program's SQLite database.
        const std::string other = path("other.sqlite");
        raw(other,
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, "
            "'a');");
        expect_refused(other, "not an Nsight Systems export: no table CUPTI_ACTIVITY_KIND_KERNEL");
        // A text file.
        const std::string text = path("notes.sqlite");
        std::ofstream(text)
            << "this is not a database, just some text that is long enough to matter\n";
        expect_refused(text, "not an SQLite database");
        // A ScaleScope trace.
        const std::string ours = path("ours.sqlite");
        {
            TraceWriter w(ours);
            w.finish_run(w.begin_run(RunInfo{}), RunStatus::Completed, "", 0);
        }
        expect_refused(ours, "ScaleScope trace");
        // nsys's string table but nothing to import.
        expect_refused(write_export({"StringIds", "EXPORT_META_DATA"}, ""), "nothing to import");
        // Tables, but no rows of any process.
        expect_refused(write_export({"StringIds", "CUPTI_ACTIVITY_KIND_KERNEL"}, ""),
                       "no CUDA or NVTX rows");
        // nsys's tables, but of a schema whose columns this reader does not know.
        expect_refused(
            write_export(
                {"StringIds"},
                "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (begin INTEGER, finish INTEGER, "
                "globalPid INTEGER);\nINSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (1, 2, " +
                    n(process_id(8)) + ");\n"),
            "unknown schema (version unknown): nothing could be imported: table "
            "CUPTI_ACTIVITY_KIND_KERNEL has no column 'start'");
        // A missing file.
        expect_refused(path("absent.sqlite"), "no such file");
    }

    void cancelStopsTheImport() {
        const std::int64_t g = process_id(3);
        std::string rows = "INSERT INTO StringIds VALUES (1, 'k()'), (2, 'k');\n";
        for (int i = 0; i < 5000; ++i) rows += kernel(T + 10 * i, T + 10 * i + 5, 7, i, g, 1, 2);
        const std::string file = write_export({"StringIds", "CUPTI_ACTIVITY_KIND_KERNEL"}, rows);
        std::int64_t calls = 0, last = 0;
        QCOMPARE(import(file, 0,
                        [&](std::int64_t bytes) {
                            ++calls;
                            last = bytes;
                            return true;
                        })
                     .ctx.events,
                 std::int64_t(5000));
        QVERIFY(calls > 0);
        QVERIFY(last > 0 && last <= static_cast<std::int64_t>(std::filesystem::file_size(file)));
        QVERIFY(cancelled_by(file, [](std::int64_t) { return false; }));
    }

    // A cancel also stops a long statement: the launch table of 300,000 runtime rows is sorted
    // by one statement, which asks about a cancel before any row has been read.
    void cancelInterruptsALongStatement() {
        const std::string file = write_export(
            {"StringIds", "CUPTI_ACTIVITY_KIND_RUNTIME"},
            "INSERT INTO StringIds VALUES (1, 'cudaLaunchKernel_v7000');\n"
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300000) "
            "INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME (start, end, eventClass, globalTid, "
            "correlationId, nameId, returnValue) SELECT 1000 * i, 1000 * i + 10, 0, " +
                n(thread_id(6, 6)) + ", 300000 - i, 1, 0 FROM c;\n");
        std::int64_t first = -1;
        QVERIFY(cancelled_by(file, [&](std::int64_t bytes) {
            if (first < 0) first = bytes;
            return false;
        }));
        QCOMPARE(first, std::int64_t(0));  // asked inside a statement, before any row was read
    }

    // The real export (Nsight Systems 2022.2, MPI + CUDA saxpy on an A100).
    void realExport() {
        const std::string file = SCALESCOPE_SOURCE_DIR
            "/../shared/testdata/nsys/pipit/saxpy-mpi-cuda_nsys_perlmutter0.sqlite";
        if (!std::filesystem::exists(file))
            QSKIP("../shared/testdata is absent: real nsys export not checked");
        const Imported im = import(file);
        const std::int64_t kernels = query(file, "SELECT COUNT(*) FROM CUPTI_ACTIVITY_KIND_KERNEL");
        const std::int64_t memcpys = query(file, "SELECT COUNT(*) FROM CUPTI_ACTIVITY_KIND_MEMCPY");
        const std::int64_t memsets = query(file, "SELECT COUNT(*) FROM CUPTI_ACTIVITY_KIND_MEMSET");
        const std::int64_t launches =
            query(file, "SELECT COUNT(DISTINCT correlationId) FROM CUPTI_ACTIVITY_KIND_RUNTIME");
        const std::int64_t processes = query(
            file,
            "SELECT COUNT(DISTINCT globalPid) FROM (SELECT globalPid FROM "
            "CUPTI_ACTIVITY_KIND_KERNEL "
            "UNION SELECT globalTid & -16777216 FROM CUPTI_ACTIVITY_KIND_RUNTIME "
            "UNION SELECT globalTid & -16777216 FROM NVTX_EVENTS WHERE eventType IN (59, 60))");
        const std::int64_t bytes = query(file, "SELECT SUM(bytes) FROM CUPTI_ACTIVITY_KIND_MEMCPY");
        const std::int64_t first = query(file, "SELECT MIN(start) FROM CUPTI_ACTIVITY_KIND_KERNEL");
        QCOMPARE(kernels, std::int64_t(5));
        const auto on_streams = std::count_if(im.events.begin(), im.events.end(), [](const Ev& v) {
            return v.e.lane >= lanes::kCudaStreamBase && v.e.lane < 32 &&
                   (v.e.kind == EventKind::Kernel || v.e.kind == EventKind::Comm);
        });
        QCOMPARE(static_cast<std::int64_t>(on_streams), kernels);
        QCOMPARE(im.count(EventKind::Memcpy), memcpys);
        QCOMPARE(im.count(EventKind::Memset), memsets);
        std::int64_t api = 0, copied = 0, first_kernel = INT64_MAX;
        for (const Ev& v : im.events) {
            if (v.e.lane == lanes::kCudaApi && v.e.kind == EventKind::HostRange) ++api;
            if (v.e.kind == EventKind::Memcpy) copied += v.e.bytes;
            if (v.e.kind == EventKind::Kernel) {
                first_kernel = std::min(first_kernel, v.e.start_ns);
                QCOMPARE(v.name, std::string("saxpy(double *, double *, double *, double, int)"));
                QVERIFY(v.e.correlation > 0);
                QCOMPARE(v.e.lane, lanes::kCudaStreamBase + 7);
            }
        }
        QCOMPARE(api, launches);  // one per correlationId: the 38 backtrace copies are not repeated
        QCOMPARE(copied, bytes);
        QCOMPARE(first_kernel, first);
        QCOMPARE(static_cast<std::int64_t>(im.ctx.ranks.size()), processes);
        QCOMPARE(im.ctx.ranks, std::vector<std::int32_t>{0});  // "MPI Rank 0"
        QCOMPARE(im.ranks.at(0).device, std::string("cuda:0 (NVIDIA A100-SXM4-40GB)"));
        QCOMPARE(im.ranks.at(0).host, std::string("nid001608"));
        QCOMPARE(im.ctx.version, std::string("2022.2.1.31"));
        // nsys's MPI trace: 10 sends and 5 receives become point-to-point communication.
        std::int64_t sends = 0, recvs = 0;
        for (const Ev& v : im.events) {
            sends += v.e.collective == Collective::Send;
            recvs += v.e.collective == Collective::Recv;
        }
        QCOMPARE(sends, std::int64_t(10));
        QCOMPARE(recvs, std::int64_t(5));
        QCOMPARE(im.count(EventKind::Step), std::int64_t(0));  // no step-like ranges in this file
        QVERIFY(
            im.skipped("38 rows of CUPTI_ACTIVITY_KIND_RUNTIME repeat a launch's correlationId"));
        QVERIFY(im.skipped("table SCHED_EVENTS: 3238 rows not imported"));
        qInfo("real export: %lld events, %lld kernels, %lld memcpys, %lld API calls; skipped:",
              static_cast<long long>(im.ctx.events), static_cast<long long>(kernels),
              static_cast<long long>(memcpys), static_cast<long long>(api));
        for (const auto& s : im.ctx.skipped) qInfo("  %s", s.c_str());
    }
};

QTEST_GUILESS_MAIN(TestImportNsys)
#include "tst_import_nsys.moc"

// scalescope-cli import end to end, on files this test writes: a tiny Kineto JSON (plain and gz,
// one file per rank), a tiny Nsight-like SQLite, and each bad input (truncated gzip, truncated
// JSON, a JSON without traceEvents, another program's SQLite, a ScaleScope trace): a message
// naming the file, exit 1, and OUT unchanged (its bytes). `info` shows the source; `export` of the
// imported run works. Parts that need the real readers (traces/import/kineto.cpp, nsys.cpp) skip
// in a build without them (SCALESCOPE_IMPORT_KINETO / _NSYS).
#include <QCryptographicHash>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "trace_fixture.h"
#include "traces/merge.h"
#include "traces/reader.h"

using namespace ss::traces;
using nlohmann::json;

namespace {

// One rank of a training step: a CPU op, a runtime launch and its kernel (correlation 1), a
// memcpy, and the step annotation. Times in µs with three decimals (ns precision).
std::string kinetoTrace(int rank, bool with_rank = true) {
    const std::string dist = with_rank ? R"J("distributedInfo": {"backend": "nccl", "rank": )J" +
                                             std::to_string(rank) + R"J(, "world_size": 2},)J"
                                       : "";
    return R"J({"schemaVersion": 1, )J" + dist + R"J(
  "traceEvents": [
  {"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#3", "pid": 100, "tid": 101, "ts": 1000.000, "dur": 500.000, "args": {}},
  {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 100, "tid": 101, "ts": 1010.125, "dur": 40.250, "args": {}},
  {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 100, "tid": 101, "ts": 1020.000, "dur": 5.000, "args": {"correlation": 1}},
  {"ph": "X", "cat": "kernel", "name": "gemm_kernel", "pid": 0, "tid": 7, "ts": 1030.001, "dur": 30.250, "args": {"device": 0, "stream": 7, "correlation": 1}},
  {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD (Pageable -> Device)", "pid": 0, "tid": 7, "ts": 1100.000, "dur": 10.000, "args": {"device": 0, "stream": 7, "bytes": 4096}}
  ],
  "traceName": "rank)J" +
           std::to_string(rank) + R"J(.json"
})J";
}

QByteArray sha(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return "<absent>";
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

}  // namespace

class TestCliImport : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    struct Result {
        int code;
        std::string out, err;
    };
    static Result cli(const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI), args);
        if (!p.waitForFinished(120000)) return {-1, "", "timeout"};
        return {p.exitCode(), p.readAllStandardOutput().toStdString(),
                p.readAllStandardError().toStdString()};
    }
    QString file(const QString& n) { return dir_.filePath(n); }
    // The current data row's name as a file name part.
    static QString tag() {
        QString t = QString::fromLatin1(QTest::currentDataTag());
        for (QChar& c : t)
            if (!c.isLetterOrNumber()) c = QLatin1Char('-');
        return t;
    }
    QString write(const QString& n, const std::string& text) {
        std::ofstream(file(n).toStdString(), std::ios::binary | std::ios::trunc) << text;
        return file(n);
    }
    QString gzip(const QString& n, const std::string& text) {
        const QString plain = write(n + QStringLiteral(".tmp"), text);
        QProcess p;
        p.setStandardOutputFile(file(n));
        p.start(QStringLiteral("gzip"), {QStringLiteral("-c"), plain});
        p.waitForFinished();
        QFile::remove(plain);
        return file(n);
    }
    // An existing trace with one run of its own.
    QString existing(const QString& name) {
        fixture::RankFile f;
        f.end_ns = 1000;
        f.events = "kernel own 10 20\n";
        const std::string rank = fixture::write_rank_file(dir_, name.toStdString() + "-own", f);
        merge_rank_files({rank}, file(name).toStdString());
        return file(name);
    }
    void sqlite(const QString& path, const std::string& sql) {
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
        char* err = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        const std::string msg = err ? err : "";
        sqlite3_free(err);
        sqlite3_close(db);
        QVERIFY2(rc == SQLITE_OK, msg.c_str());
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void helpAndUsage() {
        Result h = cli({QStringLiteral("import"), QStringLiteral("--help")});
        QCOMPARE(h.code, 0);
        QVERIFY2(
            h.out.find("usage: scalescope-cli import FILE... -o OUT.sqlite") != std::string::npos,
            h.out.c_str());
        QVERIFY(h.out.find("--format") != std::string::npos);
        Result top = cli({QStringLiteral("--help")});
        QVERIFY2(top.out.find("import FILE...") != std::string::npos, top.out.c_str());
        QCOMPARE(cli({QStringLiteral("import"), file(QStringLiteral("x.json"))}).code, 2);  // no -o
        Result fmt = cli({QStringLiteral("import"), QStringLiteral("a.json"), QStringLiteral("-o"),
                          QStringLiteral("o.sqlite"), QStringLiteral("--format"),
                          QStringLiteral("perfetto")});
        QCOMPARE(fmt.code, 2);
        QVERIFY2(fmt.err.find("'perfetto'") != std::string::npos, fmt.err.c_str());
    }

    // Bad inputs that format detection refuses (no reader needed).
    void refusedBeforeReading_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("words");
        const QString other = file(QStringLiteral("photos.sqlite"));
        sqlite(other, "CREATE TABLE photos(id INTEGER PRIMARY KEY, data BLOB);");
        QTest::newRow("another program's SQLite")
            << other << QStringLiteral("SQLite database of another program");
        QTest::newRow("a ScaleScope trace") << existing(QStringLiteral("ours.sqlite"))
                                            << QStringLiteral("is a ScaleScope trace already");
        QTest::newRow("text") << write(QStringLiteral("notes.txt"), "hello\n")
                              << QStringLiteral("neither a PyTorch profiler");
        QTest::newRow("missing") << file(QStringLiteral("missing.json"))
                                 << QStringLiteral("no such file");
    }
    void refusedBeforeReading() {
        QFETCH(QString, input);
        QFETCH(QString, words);
        const QString out = existing(QStringLiteral("kept-%1.sqlite").arg(tag()));
        const QByteArray before = sha(out);
        Result r = cli({QStringLiteral("import"), input, QStringLiteral("-o"), out});
        QCOMPARE(r.code, 1);
        const std::string expect = "scalescope-cli import: '" + input.toStdString() + "'";
        QVERIFY2(
            r.err.rfind(expect, 0) == 0 && r.err.find(words.toStdString()) != std::string::npos,
            r.err.c_str());
        QCOMPARE(sha(out), before);
        // A new OUT is not created.
        QCOMPARE(cli({QStringLiteral("import"), input, QStringLiteral("-o"),
                      file(QStringLiteral("none.sqlite"))})
                     .code,
                 1);
        QVERIFY(!QFile::exists(file(QStringLiteral("none.sqlite"))));
    }

    void kinetoRanksInfoExport() {
#ifndef SCALESCOPE_IMPORT_KINETO
        QSKIP("this build has no Kineto reader (traces/import/kineto.cpp)");
#else
        // Rank 1 first on the command line: the files say their ranks.
        const QString r1 = gzip(QStringLiteral("rank1.json.gz"), kinetoTrace(1));
        const QString r0 = write(QStringLiteral("rank0.json"), kinetoTrace(0));
        const QString out = existing(QStringLiteral("kineto.sqlite"));
        Result r = cli({QStringLiteral("import"), r1, r0, QStringLiteral("-o"), out,
                        QStringLiteral("--name"), QStringLiteral("pair")});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(r.out.find("imported run 2 into") != std::string::npos, r.out.c_str());
        QVERIFY2(r.out.find("ranks:   2") != std::string::npos, r.out.c_str());
        QVERIFY2(r.out.find("source:  PyTorch profiler") != std::string::npos, r.out.c_str());
        QVERIFY(r.out.find("rank1.json.gz") != std::string::npos);

        TraceReader rd(out.toStdString());
        const RunInfo run = rd.run(RunId(2));
        QCOMPARE(run.name, std::string("pair"));
        QCOMPARE(run.world_size, 2);
        QCOMPARE(run.backend, std::string("cuda"));
        QVERIFY(run.source_file.find("rank1.json.gz") < run.source_file.find("rank0.json\n") ||
                run.source_file.ends_with("rank0.json"));
        // Each rank's kernel, with the exact nanosecond duration of "dur": 30.250.
        std::map<int, std::int64_t> kernel;
        rd.scan_events(run.id, [&](const Event& e) {
            if (rd.string(e.name) == "gemm_kernel") kernel[e.rank] = e.duration_ns();
        });
        QCOMPARE(kernel, (std::map<int, std::int64_t>{{0, 30250}, {1, 30250}}));

        Result info =
            cli({QStringLiteral("info"), out, QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(info.code == 0, info.err.c_str());
        json j = json::parse(info.out);
        QCOMPARE(j["runs"][0]["source"].get<std::string>(), std::string());
        QVERIFY2(j["runs"][1]["source"].get<std::string>().find("PyTorch profiler") == 0,
                 info.out.c_str());
        QVERIFY(j["runs"][1]["source"].get<std::string>().find("rank0.json") != std::string::npos);

        Result ex = cli({QStringLiteral("export"), out, QStringLiteral("--format"),
                         QStringLiteral("chrome"), QStringLiteral("--run"), QStringLiteral("2"),
                         QStringLiteral("-o"), file(QStringLiteral("kineto-export.json"))});
        QVERIFY2(ex.code == 0, ex.err.c_str());
        std::ifstream exported(file(QStringLiteral("kineto-export.json")).toStdString());
        json doc = json::parse(exported);
        int kernels = 0;
        for (const auto& e : doc["traceEvents"])
            if (e.value("name", "") == "gemm_kernel") ++kernels;
        QCOMPARE(kernels, 2);
#endif
    }

    void kinetoBadInputs_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("words");
        const std::string good = kinetoTrace(0);
        const QString gz = gzip(QStringLiteral("full.json.gz"), good);
        QFile full(gz);
        full.open(QIODevice::ReadOnly);
        const QByteArray bytes = full.readAll();
        QFile cut(file(QStringLiteral("cut.json.gz")));
        cut.open(QIODevice::WriteOnly);
        cut.write(bytes.left(bytes.size() / 2));
        cut.close();
        QTest::newRow("truncated gzip") << file(QStringLiteral("cut.json.gz")) << QString();
        QTest::newRow("truncated JSON")
            << write(QStringLiteral("cut.json"), good.substr(0, good.size() / 2)) << QString();
        QTest::newRow("JSON without traceEvents")
            << write(QStringLiteral("spec.json"),
                     R"({"name": "an experiment spec", "model": {"kind": "mlp"}})")
            << QString();
    }
    void kinetoBadInputs() {
#ifndef SCALESCOPE_IMPORT_KINETO
        QSKIP("this build has no Kineto reader (traces/import/kineto.cpp)");
#else
        QFETCH(QString, input);
        const QString out = existing(QStringLiteral("kept-kineto-%1.sqlite").arg(tag()));
        const QByteArray before = sha(out);
        Result r = cli({QStringLiteral("import"), input, QStringLiteral("-o"), out});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.rfind("scalescope-cli import: ", 0) == 0 &&
                     r.err.find(input.toStdString()) != std::string::npos,
                 r.err.c_str());
        QCOMPARE(sha(out), before);
        QCOMPARE(TraceReader(out.toStdString()).runs().size(), size_t(1));
#endif
    }

    void nsys() {
#ifndef SCALESCOPE_IMPORT_NSYS
        QSKIP("this build has no Nsight Systems reader (traces/import/nsys.cpp)");
#else
        // The tables of Nsight Systems' export, from the documented schema beside the checkout.
        const QString schema = QStringLiteral(
            SCALESCOPE_SOURCE_DIR "/../shared/testdata/nsys/pipit/key_tables_schema.sql");
        QFile ddl(schema);
        if (!ddl.open(QIODevice::ReadOnly))
            QSKIP("the nsys schema file is absent (../shared/testdata)");
        const QString report = file(QStringLiteral("report.sqlite"));
        sqlite(report, ddl.readAll().toStdString());
        // Every NOT NULL column without a value gets 0.
        auto insert = [&](const std::string& table,
                          const std::map<std::string, std::string>& values) {
            sqlite3* db = nullptr;
            sqlite3_open(report.toUtf8().constData(), &db);
            sqlite3_stmt* st = nullptr;
            sqlite3_prepare_v2(db, "SELECT name, \"notnull\" FROM pragma_table_info(?1)", -1, &st,
                               nullptr);
            sqlite3_bind_text(st, 1, table.c_str(), -1, SQLITE_TRANSIENT);
            std::string cols, vals;
            while (sqlite3_step(st) == SQLITE_ROW) {
                const std::string c = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
                auto it = values.find(c);
                if (it == values.end() && !sqlite3_column_int(st, 1)) continue;
                cols += (cols.empty() ? "" : ",") + ("\"" + c + "\"");
                vals += (vals.empty() ? "" : ",") +
                        (it == values.end() ? std::string("0") : it->second);
            }
            sqlite3_finalize(st);
            sqlite3_close(db);
            sqlite(report, "INSERT INTO " + table + "(" + cols + ") VALUES(" + vals + ")");
        };
        const std::string gpid = std::to_string((1234LL << 24)),
                          gtid = std::to_string((1234LL << 24) + 1235);
        insert("StringIds", {{"id", "1"}, {"value", "'gemm_kernel'"}});
        insert("StringIds", {{"id", "2"}, {"value", "'cudaLaunchKernel_v7000'"}});
        insert("CUPTI_ACTIVITY_KIND_RUNTIME", {{"start", "900"},
                                               {"end", "950"},
                                               {"globalTid", gtid},
                                               {"correlationId", "1"},
                                               {"nameId", "2"}});
        insert("CUPTI_ACTIVITY_KIND_KERNEL", {{"start", "1000"},
                                              {"end", "2000"},
                                              {"streamId", "7"},
                                              {"correlationId", "1"},
                                              {"globalPid", gpid},
                                              {"demangledName", "1"},
                                              {"shortName", "1"},
                                              {"gridX", "1"}});
        insert("CUPTI_ACTIVITY_KIND_MEMCPY", {{"start", "2100"},
                                              {"end", "2200"},
                                              {"streamId", "7"},
                                              {"correlationId", "2"},
                                              {"globalPid", gpid},
                                              {"bytes", "4096"},
                                              {"copyKind", "1"}});
        const QString out = file(QStringLiteral("nsys-out.sqlite"));
        Result r = cli({QStringLiteral("import"), report, QStringLiteral("-o"), out});
        QVERIFY2(r.code == 0, (r.err + r.out).c_str());
        QVERIFY2(r.out.find("source:  Nsight Systems") != std::string::npos, r.out.c_str());
        TraceReader rd(out.toStdString());
        const RunInfo run = rd.runs().at(0);
        QCOMPARE(run.world_size, 1);
        std::map<std::string, std::int64_t> durations;
        rd.scan_events(run.id,
                       [&](const Event& e) { durations[rd.string(e.name)] = e.duration_ns(); });
        QCOMPARE(durations["gemm_kernel"], std::int64_t(1000));
#endif
    }
};

QTEST_GUILESS_MAIN(TestCliImport)
#include "tst_cli_import.moc"

// scalescope-cli info / stats / merge / export: outputs and exit codes.
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include "trace_fixture.h"

using namespace ss::traces;
using nlohmann::json;

class TestCliTraces : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    QStringList rankFiles_;

    struct Result {
        int code;
        std::string out, err;
    };
    static Result cli(const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI), args);
        if (!p.waitForFinished(60000)) return {-1, "", "timeout"};
        return {p.exitCode(), p.readAllStandardOutput().toStdString(),
                p.readAllStandardError().toStdString()};
    }
    QString file(const char* n) { return dir_.filePath(QString::fromUtf8(n)); }

private slots:
    void initTestCase() {
        for (int r = 0; r < 2; ++r) {
            fixture::RankFile f;
            f.rank = r;
            f.world = 2;
            f.end_ns = 100000;
            f.offset_ns = r * 500;
            f.events = "kernel gemm " + std::to_string(100 + r * 500) + " " + std::to_string(400 + r * 500) +
                       "\ncomm all_reduce " + std::to_string(500 + r * 500) + " " +
                       std::to_string(900 + r * 500) + " lane=1 coll=all_reduce group=dp gid=0 gsize=2 seq=0 bytes=1024\n";
            rankFiles_ << QString::fromStdString(fixture::write_rank_file(dir_, "cli", f));
        }
    }

    void mergeInfoStatsExport() {
        Result m = cli(QStringList{QStringLiteral("merge")} << rankFiles_ << QStringLiteral("-o") << file("t.sqlite"));
        QVERIFY2(m.code == 0, m.err.c_str());
        QVERIFY2(m.out.find("merged 2 rank file(s), 4 events") != std::string::npos, m.out.c_str());

        Result info = cli({QStringLiteral("info"), file("t.sqlite"), QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(info.code == 0, info.err.c_str());
        json j = json::parse(info.out);
        QCOMPARE(j["file"][0]["schema_version"].get<int>(), 4);  // traces/schema.h kSchemaVersion
        QCOMPARE(j["runs"][0]["source"].get<std::string>(), std::string());  // our own run
        QCOMPARE(j["runs"][0]["events"].get<int>(), 4);
        QCOMPARE(j["runs"][0]["status"].get<std::string>(), std::string("completed"));
        QCOMPARE(j["ranks"].size(), size_t(2));
        QCOMPARE(j["ranks"][1]["clock_offset_ns"].get<int>(), 500);

        // stats analyses steps (docs/ANALYSIS.md): a run without step events has no breakdown; its
        // stored totals are shown instead, with a warning naming why.
        Result nosteps = cli({QStringLiteral("stats"), file("t.sqlite"), QStringLiteral("--format=csv")});
        QCOMPARE(nosteps.code, 0);
        QVERIFY2(nosteps.out.find("run 1 has no step events") != std::string::npos, nosteps.out.c_str());

        // Two ranks, two steps of 1000 ns each: gemm 600 ns, an exposed all-reduce 300 ns, 100 ns
        // idle; rank 0 also has one malformed event (end < start), counted by the writer.
        QStringList stepFiles;
        for (int r = 0; r < 2; ++r) {
            fixture::RankFile f;
            f.rank = r;
            f.world = 2;
            f.end_ns = 100000;
            for (int s = 0; s < 2; ++s) {
                const std::int64_t t = 1000 + 1000 * s;
                auto at = [&](std::int64_t v) { return std::to_string(t + v); };
                f.events += "step step " + at(0) + " " + at(1000) + " lane=2 step=" + std::to_string(s) +
                            "\nkernel gemm " + at(0) + " " + at(600) + " flops=1e6\ncomm all_reduce " + at(600) +
                            " " + at(900) + " lane=1 coll=all_reduce group=dp gid=0 gsize=2 bytes=1024 seq=" +
                            std::to_string(s) + "\n";
            }
            if (r == 0) f.events += "kernel bad 50 40\n";
            stepFiles << QString::fromStdString(fixture::write_rank_file(dir_, "steps", f));
        }
        Result sm = cli(QStringList{QStringLiteral("merge")} << stepFiles << QStringLiteral("-o") << file("s.sqlite"));
        QVERIFY2(sm.code == 0, sm.err.c_str());
        Result stats = cli({QStringLiteral("stats"), file("s.sqlite"), QStringLiteral("--format=csv")});
        QVERIFY2(stats.code == 0, stats.err.c_str());
        // The overall breakdown (ms): step, compute, exposed_comm, bubble, data, optimizer,
        // other_host, idle, communication, overlapped, overlap ratio.
        QVERIFY2(stats.out.find("1,all,0.001,0.0006,0.0003,0,0,0,0,0.0001,0.0003,0,0") != std::string::npos,
                 stats.out.c_str());
        // The all-reduce: 4 calls of 1024 B, 300 ns each, busy 300 ns per step and rank, issue to
        // completion 300 ns, none overlapped; busbw = 1024 B / 300 ns × 2(2-1)/2.
        QVERIFY2(stats.out.find("1,all_reduce,dp,2,1024,4,0.0012,0.3,0.3,0,0.3,3.41333,3.41333,,") != std::string::npos,
                 stats.out.c_str());
        // The stored drop counters are still printed, and warned about.
        QVERIFY2(stats.out.find("run,rank,counter,value\n1,0,events_malformed,1") != std::string::npos,
                 stats.out.c_str());
        QVERIFY2(stats.out.find("counted as events_malformed") != std::string::npos, stats.out.c_str());

        Result table = cli({QStringLiteral("stats"), file("s.sqlite")});
        QCOMPARE(table.code, 0);
        QVERIFY(table.out.find("breakdown") != std::string::npos);
        QVERIFY(table.out.find("events_malformed") != std::string::npos);

        Result ex = cli({QStringLiteral("export"), file("t.sqlite"), QStringLiteral("--format"),
                         QStringLiteral("chrome"), QStringLiteral("-o"), file("t.json")});
        QVERIFY2(ex.code == 0, ex.err.c_str());
        QFile jf(file("t.json"));
        QVERIFY(jf.open(QIODevice::ReadOnly));
        json tj = json::parse(jf.readAll().toStdString());
        int x = 0;
        for (const auto& e : tj["traceEvents"]) x += e["ph"] == "X";
        QCOMPARE(x, 4);
    }

    void exitCodes() {
        QCOMPARE(cli({}).code, 2);
        QCOMPARE(cli({QStringLiteral("frobnicate")}).code, 2);
        Result noOut = cli({QStringLiteral("merge"), rankFiles_[0]});
        QCOMPARE(noOut.code, 2);
        QVERIFY(noOut.err.find("-o FILE") != std::string::npos);
        Result badFmt = cli({QStringLiteral("stats"), rankFiles_[0], QStringLiteral("--format"), QStringLiteral("xml")});
        QCOMPARE(badFmt.code, 2);
        QVERIFY(badFmt.err.find("table, csv or json") != std::string::npos);
        QCOMPARE(cli({QStringLiteral("info"), rankFiles_[0], QStringLiteral("--bogus")}).code, 2);
        Result badRun = cli({QStringLiteral("stats"), rankFiles_[0], QStringLiteral("--run"), QStringLiteral("x")});
        QCOMPARE(badRun.code, 2);

        QFile t(file("junk.txt"));
        QVERIFY(t.open(QIODevice::WriteOnly));
        t.write(QByteArray(4096, 'j'));
        t.close();
        Result junk = cli({QStringLiteral("info"), file("junk.txt")});
        QCOMPARE(junk.code, 1);
        QVERIFY2(junk.err.find("not a ScaleScope trace") != std::string::npos, junk.err.c_str());
        Result absentRun = cli({QStringLiteral("stats"), rankFiles_[0], QStringLiteral("--run"), QStringLiteral("99")});
        QCOMPARE(absentRun.code, 1);
        QVERIFY(absentRun.err.find("has no run 99") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestCliTraces)
#include "tst_cli_traces.moc"

// The analysis stored in run_summaries (core/analysis/analysis_store.h): serialization round trip,
// `stats` from the stored row equal to `stats` from the events, an older file without the row gets
// it once (migrated in place), and a stale row (a calibration added since) is not used.
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <filesystem>

#include "core/analysis/analysis_store.h"
#include "core/analysis/precompute.h"
#include "traces/schema.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;

namespace {
const char* kSpec = R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":32}})";

// NaN compares unequal to itself: the fields that may hold it get one stand-in on both sides.
RunAnalysis comparable(RunAnalysis a) {
    auto fix = [](double& v) {
        if (std::isnan(v)) v = -123456.0;
    };
    for (auto& c : a.collectives) {
        fix(c.transfer_mean_ns);
        fix(c.algbw);
        fix(c.busbw);
    }
    return a;
}

std::int64_t stored_rows(const std::string& path) {
    Db db(path, Db::Mode::ReadOnly);
    if (!db.table_exists("run_summaries")) return -1;
    return db.query_int("SELECT count(*) FROM run_summaries");
}

struct Cli {
    int code;
    std::string out, err;
};
Cli cli(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(SCALESCOPE_CLI), args);
    if (!p.waitForFinished(60000)) return {-1, "", "timeout"};
    return {p.exitCode(), p.readAllStandardOutput().toStdString(),
            p.readAllStandardError().toStdString()};
}
}  // namespace

class TestCoreAnalysisStore : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string gpu_, cpu_;

    std::string copy(const std::string& from, const char* name) {
        const std::string to = dir_.filePath(QString::fromUtf8(name)).toStdString();
        std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
        return to;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        gpu_ = dir_.filePath(QStringLiteral("gpu.sqlite")).toStdString();
        {
            TraceWriter w(gpu_);
            afx::write_gpu_run(w, kSpec, 5);
        }
        cpu_ = dir_.filePath(QStringLiteral("cpu.sqlite")).toStdString();
        {
            // Two ranks, a slow first step (warm-up detected), a straggler, overlapped buckets.
            TraceWriter w(cpu_);
            std::map<int, std::string> ranks;
            for (int r = 0; r < 2; ++r) {
                std::string s;
                for (int i = 0; i < 8; ++i) {
                    const std::int64_t t = i * 1000000, len = i == 0 ? 900000 : 500000 + r * 60000;
                    s += "step step " + std::to_string(t) + " " + std::to_string(t + len) +
                         " lane=0 step=" + std::to_string(i) + "\n";
                    s += "kernel sgemm " + std::to_string(t) + " " +
                         std::to_string(t + len - 200000) +
                         " lane=2 flops=1e6 step=" + std::to_string(i) + "\n";
                    s += "comm all_reduce " + std::to_string(t + 100000) + " " +
                         std::to_string(t + len) +
                         " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=1048576 seq=" +
                         std::to_string(i) + " step=" + std::to_string(i) + "\n";
                }
                ranks[r] = s;
            }
            afx::write_run(w, afx::info("cpu", 2, kSpec), ranks);
        }
    }

    // Every field survives: the analysis read back equals the one computed (NaN aside), and its
    // text is the same again.
    void roundTrip() {
        for (const std::string& path : {gpu_, cpu_}) {
            TraceReader rd(path);
            const RunId run = rd.runs().front().id;
            const RunAnalysis a = analyze_run(rd, run);
            QVERIFY(!a.steps.empty() && !a.kernels.empty() && !a.ranks.empty());
            const std::string text = serialize_analysis(a, 3);
            const RunAnalysis b = deserialize_analysis(text, rd.run(run));
            QVERIFY(comparable(a) == comparable(b));
            QCOMPARE(serialize_analysis(b, 3), text);
        }
        TraceReader rd(gpu_);
        const RunAnalysis g = analyze_run(rd, rd.runs().front().id);
        QVERIFY(g.gpu.present() && g.hta.present() && !g.ops.empty());
        QVERIFY_THROWS_EXCEPTION(AnalysisError,
                                 deserialize_analysis("{\"steps\": 3}", rd.run(RunId(1))));
    }

    // Computed once, then read: a row changed behind its back shows that the second call read it.
    void computedOnceThenRead() {
        const std::string f = copy(cpu_, "once.sqlite");
        QCOMPARE(stored_rows(f), std::int64_t(0));
        RunAnalysis first;
        {
            TraceReader rd(f);
            first = cached_analysis(rd, rd.runs().front().id);
        }
        QCOMPARE(stored_rows(f), std::int64_t(1));
        {
            Db db(f, Db::Mode::ReadWrite);
            db.exec("UPDATE run_summaries SET value = replace(value, '\"warmup_steps\":" +
                    std::to_string(first.warmup_steps) + "', '\"warmup_steps\":77')");
        }
        TraceReader rd(f);
        const RunId run = rd.runs().front().id;
        QCOMPARE(cached_analysis(rd, run).warmup_steps, 77);
        // Other options compute from the events.
        AnalysisOptions o;
        o.warmup_steps = 0;
        QCOMPARE(cached_analysis(rd, run, o).warmup_steps, 0);
        QVERIFY(!is_stored_options(o));
    }

    // A calibration stored since changes the peak: the row is not used (and is replaced).
    void calibrationAddedMakesRowStale() {
        const std::string f = copy(gpu_, "calib.sqlite");
        precompute_run_analysis(f, RunId(1));
        {
            TraceReader rd(f);
            QVERIFY(load_stored_analysis(rd, RunId(1)).has_value());
        }
        {
            TraceWriter w(f);
            Calibration c;
            c.host = "h";
            c.hardware_json = R"({"compute":{"sgemm_flops":1e12}})";
            w.add_calibration(c);
        }
        TraceReader rd(f);
        QVERIFY(!load_stored_analysis(rd, RunId(1)).has_value());
        (void)cached_analysis(rd, RunId(1));
        TraceReader again(f);
        QVERIFY(load_stored_analysis(again, RunId(1)).has_value());
    }

    // A file of schema version 3 (no run_summaries): read in memory by the reader, migrated in
    // place when the row is stored, once.
    void olderFileGetsTheRowOnce() {
        const std::string f = copy(cpu_, "v3.sqlite");
        {
            Db db(f, Db::Mode::ReadWrite);
            db.exec(
                "DROP TABLE run_summaries; DROP TABLE lane_lod; PRAGMA user_version=3;"
                "UPDATE meta SET value='3' WHERE key='schema_version'");
        }
        QCOMPARE(stored_rows(f), std::int64_t(-1));
        TraceReader rd(f);
        QCOMPARE(rd.schema_version(), 3);
        const RunId run = rd.runs().front().id;
        QVERIFY(!load_stored_analysis(rd, run).has_value());
        const RunAnalysis a = cached_analysis(rd, run);
        QCOMPARE(stored_rows(f), std::int64_t(1));
        TraceReader migrated(f);
        QCOMPARE(migrated.schema_version(), kSchemaVersion);
        auto s = load_stored_analysis(migrated, run);
        QVERIFY(s && s->analysis);
        QVERIFY(comparable(*s->analysis) == comparable(a));
    }

    // A run without steps stores its NoStepsError: thrown again without scanning.
    void noStepsIsStored() {
        const std::string f = dir_.filePath(QStringLiteral("nosteps.sqlite")).toStdString();
        {
            TraceWriter w(f);
            // Steps, but none recorded on every rank.
            afx::write_run(w, afx::info("nosteps", 2),
                           {{0, "step step 0 100 lane=0 step=0\nkernel k 0 10 lane=2\n"},
                            {1, "step step 0 100 lane=0 step=1\nkernel k 0 10 lane=2\n"}});
        }
        TraceReader rd(f);
        QVERIFY_THROWS_EXCEPTION(NoStepsError, cached_analysis(rd, RunId(1)));
        QCOMPARE(stored_rows(f), std::int64_t(1));
        auto s = load_stored_analysis(rd, RunId(1));
        QVERIFY(s && !s->analysis && !s->no_steps_error.empty());
        QVERIFY_THROWS_EXCEPTION(NoStepsError, cached_analysis(rd, RunId(1)));
    }

    // `stats` prints the same from the stored row as from the events: the first call computes and
    // stores, the second reads the row; a copy without the row prints the same table.
    void statsSameFromStoredRow() {
        for (const std::string& src : {cpu_, gpu_}) {
            const std::string f = copy(src, "stats.sqlite");
            const QString q = QString::fromStdString(f);
            Cli fresh = cli({QStringLiteral("stats"), q, QStringLiteral("--format=json")});
            QVERIFY2(fresh.code == 0, fresh.err.c_str());
            QCOMPARE(stored_rows(f), std::int64_t(1));
            Cli stored = cli({QStringLiteral("stats"), q, QStringLiteral("--format=json")});
            QVERIFY2(stored.code == 0, stored.err.c_str());
            QCOMPARE(stored.out, fresh.out);
            Cli table = cli({QStringLiteral("stats"), q});
            const std::string g = copy(src, "stats-events.sqlite");
            {
                Db db(g, Db::Mode::ReadWrite);
                db.exec("DELETE FROM run_summaries");
            }
            // The row deleted: computed from the events again.
            Cli events = cli({QStringLiteral("stats"), QString::fromStdString(g)});
            QCOMPARE(events.out, table.out);
        }
    }
};

QTEST_GUILESS_MAIN(TestCoreAnalysisStore)
#include "tst_core_analysis_store.moc"

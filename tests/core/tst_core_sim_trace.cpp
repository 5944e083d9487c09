// The trace-driven simulator on real recordings: small runs are trained under mpirun by
// scalescope-worker (MLP dp=1 and dp=2, tiny GPT pp=2 with 1F1B), merged by scalescope-cli, then
// replayed. A replay with no change must reproduce each measured step within 2 %; what-if knobs
// must move it the right way; compute rates fitted on the single-rank run must predict the others.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <string>

#include "core/analysis/analysis.h"
#include "core/sim/hardware.h"
#include "core/sim/sim_trace.h"
#include "traces/reader.h"

using namespace ss::core;
using namespace ss::traces;

namespace {

#define EXPECT_CONTAINS(text, part)                                                            \
    QVERIFY2(std::string(text).find(part) != std::string::npos,                                \
             qPrintable(QStringLiteral("expected \"%1\" in: %2")                               \
                            .arg(QString::fromStdString(std::string(part)),                    \
                                 QString::fromStdString(std::string(text)))))

bool run(const QString& prog, const QStringList& args, QString* out = nullptr) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(prog, args);
    if (!p.waitForFinished(120000)) return false;
    const QString text = QString::fromLocal8Bit(p.readAll());
    if (out) *out = text;
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        qWarning("%s %s failed:\n%s", qPrintable(prog), qPrintable(args.join(' ')), qPrintable(text));
        return false;
    }
    return true;
}

// The machine's network, measured the way `calibrate` fits it, is not needed for these checks:
// a description with this machine's shape (one node, 2 cores) and plausible shared-memory links.
Hardware local_hw() {
    Hardware hw;
    hw.name = "test: one node";
    hw.flop_per_s = 5e10;
    hw.mem_bw_bytes_per_s = 1e10;
    hw.devices_per_node = 1 << 20;
    hw.cores_per_node = 2;
    hw.intra = {2e-6, 2e-10};
    hw.inter = hw.intra;
    return hw;
}

}  // namespace

class TestCoreSimTrace : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string file_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        const QString spec = dir_.filePath("mlp.json");
        {
            std::ofstream f(spec.toStdString());
            f << R"({"name": "sim", "model": {"kind": "mlp", "hidden": [128, 128]},
                     "training": {"steps": 12, "global_batch": 64}, "trace": {"flush_interval_s": 10}})";
        }
        const QString gspec = dir_.filePath("gpt.json");
        {
            std::ofstream f(gspec.toStdString());
            f << R"({"name": "simgpt", "model": {"kind": "gpt", "preset": "tiny"},
                     "training": {"steps": 10, "global_batch": 16},
                     "parallel": {"pp": 2, "micro_batches": 4, "schedule": "1f1b"}, "trace": {"flush_interval_s": 10}})";
        }
        file_ = dir_.filePath("study.sqlite").toStdString();
        struct Point {
            QString spec;
            int np;
            QStringList sets;
        };
        // The last point repeats the first (a study's --repeat): validation counts them as one.
        const QList<Point> points{{spec, 1, {"parallel.dp=1"}}, {spec, 2, {"parallel.dp=2"}}, {gspec, 2, {}},
                                  {spec, 1, {"parallel.dp=1"}}};
        int k = 0;
        for (const auto& p : points) {
            const QString rd = dir_.filePath(QStringLiteral("run%1").arg(k++));
            QStringList args;
            if (geteuid() == 0) args << "--allow-run-as-root";
            args << "-np" << QString::number(p.np) << "--bind-to" << "none" << SCALESCOPE_WORKER << p.spec;
            for (const auto& s : p.sets) args << "--set" << s;
            args << "--set" << ("trace.dir=" + rd);
            QVERIFY(run("mpirun", args));
            QStringList m{"merge"};
            for (int r = 0; r < p.np; ++r) m << QStringLiteral("%1/rank-%2.sqlite").arg(rd).arg(r);
            m << "-o" << QString::fromStdString(file_);
            QVERIFY(run(SCALESCOPE_CLI, m));
        }
    }

    void replayWithoutChangeReproducesMeasuredStep() {
        TraceReader rd(file_);
        const auto runs = rd.runs();
        QCOMPARE(runs.size(), 4u);
        for (const auto& r : runs) {
            const TraceReplayResult res = replay_trace(rd, r.id);
            const double err = (res.replay.step_s - res.measured_step_s) / res.measured_step_s;
            qInfo("run %lld %s: step %lld measured %.3f ms, replayed %.3f ms (%+.2f %%), %d ops, %d collectives, %d messages",
                  static_cast<long long>(r.id.value), r.name.c_str(), static_cast<long long>(res.step),
                  res.measured_step_s * 1e3, res.replay.step_s * 1e3, 100 * err, res.ops, res.collectives, res.messages);
            QVERIFY2(std::abs(err) < 0.02, qPrintable(QStringLiteral("run %1: %2 %").arg(r.id.value).arg(100 * err)));
            QVERIFY(res.ops > 0);
            if (r.world_size > 1) QVERIFY(res.collectives > 0);
            if (r.pp > 1) QVERIFY(res.messages > 0);
            QCOMPARE(std::round(res.replay.breakdown.sum()), std::round(res.replay.step_s * 1e9));
        }
    }

    void whatIfsMoveTheStep() {
        TraceReader rd(file_);
        const RunId dp2 = rd.runs()[1].id;
        const double base = replay_trace(rd, dp2).replay.step_s;
        TraceWhatIf fast;
        fast.compute = 2;
        const double fast_s = replay_trace(rd, dp2, fast).replay.step_s;
        QVERIFY(fast_s < base);
        QVERIFY(fast_s > base / 2 * 0.9 - 1e-3);  // communication and host time stay
        TraceWhatIf off;
        off.overlap = false;
        QVERIFY(replay_trace(rd, dp2, off).replay.step_s >= base * 0.999);
        // Network what-ifs need the network model
        TraceWhatIf slow;
        slow.bandwidth = 0.01;
        try {
            replay_trace(rd, dp2, slow);
            QFAIL("expected an error");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "--hardware");
        }
        slow.base = local_hw();
        QVERIFY(replay_trace(rd, dp2, slow).replay.step_s > base);
        TraceWhatIf missing;
        missing.step = 100000;
        QVERIFY_THROWS_EXCEPTION(SimError, replay_trace(rd, dp2, missing));
    }

    void fittedRatesPredictTheOtherRuns() {
        TraceReader rd(file_);
        const auto runs = rd.runs();
        const ComputeRates r = fit_compute_rates(rd, runs[0].id);
        QVERIFY(r.matmul_flop_per_s > 1e8);
        QVERIFY(r.memory_bytes_per_s > 1e7);
        QVERIFY(r.optimizer_bytes_per_s > 1e7);
        QVERIFY(r.kernel_overhead_s >= 0);
        const ValidationReport rep = validate_runs(rd, local_hw());
        QCOMPARE(rep.runs, 4);
        QCOMPARE(rep.rows.size(), 3u);  // the repeated dp1 run is part of the first point
        QCOMPARE(rep.rows[0].runs, (std::vector<std::int64_t>{runs[0].id.value, runs[3].id.value}));
        QVERIFY(rep.rows[0].fit);
        QCOMPARE(rep.rows[1].runs, (std::vector<std::int64_t>{runs[1].id.value}));
        QVERIFY(!rep.rows[1].fit);
        QCOMPARE(rep.predicted, 1);
        QVERIFY(rep.rows[1].analytic_s > 0 && rep.rows[1].replay_s > 0);
        // a point's measurement is the median of its runs' medians: for two runs, their mean
        const double m0 = run_step_times(rd, runs[0].id).stats.median_ns * 1e-9;
        const double m3 = run_step_times(rd, runs[3].id).stats.median_ns * 1e-9;
        QVERIFY(std::abs(rep.rows[0].measured_s - 0.5 * (m0 + m3)) < 1e-12);
        QVERIFY(std::abs(rep.rows[0].spread - std::abs(m0 - m3) / rep.rows[0].measured_s) < 1e-9);
        // the GPT run has no single-rank run of its model to fit on: reported, not predicted
        EXPECT_CONTAINS(rep.rows[2].note, "no single-rank run");
        // the fit point predicts itself closely (it is where the rates come from)
        QVERIFY2(std::abs(rep.rows[0].analytic_err) < 0.1, qPrintable(QString::number(rep.rows[0].analytic_err)));
        // best of the repeats: the faster run is both the measurement and the fit
        const ValidationReport best = validate_runs(rd, local_hw(), StudyId{}, RunId{}, 0, RepeatStatistic::Best);
        QCOMPARE(best.rows[0].measured_s, std::min(m0, m3));
        EXPECT_CONTAINS(best.fitted_on.front(), "run " + std::to_string((m0 <= m3 ? runs[0] : runs[3]).id.value));
        // an explicit fit run is the one used
        const ValidationReport rep3 = validate_runs(rd, local_hw(), StudyId{}, runs[3].id);
        EXPECT_CONTAINS(rep3.fitted_on.front(), "run " + std::to_string(runs[3].id.value));
    }

    // --dp / --micro-batches on a trace: the run's spec reshaped, timed by rates fitted on the run.
    void reshapedTraceUsesTheRunsFittedRates() {
        TraceReader rd(file_);
        const auto runs = rd.runs();
        const RunId dp1 = runs[0].id;
        TraceWhatIf w;
        w.dp = 2;
        try {
            replay_trace(rd, dp1, w);
            QFAIL("expected an error: no network model");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "--hardware");
        }
        w.base = local_hw();
        const TraceReplayResult r = replay_trace(rd, dp1, w);
        QVERIFY(r.reshaped);
        QCOMPARE(r.layout_recorded, std::string("dp1 tp1 pp1 m1"));
        QCOMPARE(r.layout_predicted, std::string("dp2 tp1 pp1 m1"));
        QCOMPARE(r.world_predicted, 2);
        QVERIFY(r.collectives > 0);
        // exactly the spec graph of the changed spec with the run's fitted rates
        ExperimentSpec spec = run_spec(rd.run(dp1));
        SimOptions opt;
        opt.rates = fit_compute_rates(rd, dp1);
        QCOMPARE(r.model_recorded_s, replay(graph_from_spec(build_workload(spec), local_hw(), opt)).step_s);
        spec.parallel.dp = 2;
        QCOMPARE(r.replay.step_s, replay(graph_from_spec(build_workload(spec), local_hw(), opt)).step_s);
        QVERIFY(r.replay.step_s < r.model_recorded_s);  // half the samples per rank on a fast network
        QCOMPARE(std::round(r.replay.breakdown.sum()), std::round(r.replay.step_s * 1e9));
        // the fitted model reproduces the recorded layout (it was fitted there)
        QVERIFY2(std::abs(r.model_recorded_s - r.measured_step_s) / r.measured_step_s < 0.1,
                 qPrintable(QStringLiteral("%1 vs %2").arg(r.model_recorded_s).arg(r.measured_step_s)));
        // compute x2 divides the fitted kernel rates' time: faster, but not below half
        TraceWhatIf fast = w;
        fast.compute = 2;
        const double fast_s = replay_trace(rd, dp1, fast).replay.step_s;
        QVERIFY(fast_s < r.replay.step_s && fast_s > r.replay.step_s / 2 - 1e-9);
        // a slower network makes the dp2 step longer
        TraceWhatIf slow = w;
        slow.bandwidth = 0.01;
        QVERIFY(replay_trace(rd, dp1, slow).replay.step_s > r.replay.step_s);
        // micro-batches: 4 accumulation steps of 16 samples cost more kernels than one of 64
        TraceWhatIf mb;
        mb.base = local_hw();
        mb.micro_batches = 4;
        const TraceReplayResult m4 = replay_trace(rd, dp1, mb);
        QCOMPARE(m4.layout_predicted, std::string("dp1 tp1 pp1 m4"));
        QVERIFY(m4.replay.step_s > m4.model_recorded_s);
        // a layout the batch cannot be split into is refused, naming the fields
        TraceWhatIf bad;
        bad.base = local_hw();
        bad.dp = 3;
        try {
            replay_trace(rd, dp1, bad);
            QFAIL("expected an error: 64 samples over 3 ranks");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "parallel.dp");
        }
        bad.dp = 0;
        QVERIFY_THROWS_EXCEPTION(SimError, replay_trace(rd, dp1, bad));
    }
};

QTEST_GUILESS_MAIN(TestCoreSimTrace)
#include "tst_core_sim_trace.moc"

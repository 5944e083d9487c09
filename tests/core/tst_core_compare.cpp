// core/analysis/compare: two runs (step time, each breakdown part, kernels matched by name including the
// ones in one run only, collectives by type, verdict) and two studies.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "core/analysis/compare.h"
#include "ps_trace_fixture.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;

namespace {
// Two ranks, `steps` steps of `len` ns: gemm [0,g), `extra` [g,g+x), all-reduce exposed for `ar`
// ns right after, nothing until the end of the step.
std::string rank_text(int steps, std::int64_t len, std::int64_t g, const std::string& extra, std::int64_t x,
                      std::int64_t ar) {
    std::string s;
    for (int i = 0; i < steps; ++i) {
        const std::int64_t t = i * len;
        auto at = [&](std::int64_t v) { return std::to_string(t + v); };
        s += "step step " + at(0) + " " + at(len) + " lane=0 step=" + std::to_string(i) + "\n";
        s += "kernel gemm " + at(0) + " " + at(g) + " lane=2\n";
        s += "kernel " + extra + " " + at(g) + " " + at(g + x) + " lane=2\n";
        s += "comm all_reduce " + at(g + x) + " " + at(g + x + ar) +
             " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=4096 seq=" + std::to_string(i) + "\n";
    }
    return s;
}
const MetricDelta& metric(const std::vector<MetricDelta>& v, const std::string& name) {
    for (const auto& m : v)
        if (m.name == name) return m;
    throw std::runtime_error("no metric " + name);
}
const KernelDelta& kernel(const RunComparison& c, const std::string& name) {
    for (const auto& k : c.kernels)
        if (k.name == name) return k;
    throw std::runtime_error("no kernel " + name);
}
}  // namespace

class TestCoreCompare : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void deltas() {
        Delta d = delta(200, 150);
        QCOMPARE(d.abs, -50.0);
        QCOMPARE(d.rel, -0.25);
        QVERIFY(std::isnan(delta(0, 5).rel));
    }

    void twoRuns() {
        const std::string f = dir_.filePath(QStringLiteral("runs.sqlite")).toStdString();
        RunId ra, rb;
        {
            TraceWriter w(f);
            const std::string a = rank_text(4, 1000, 600, "old_kernel", 50, 250);
            const std::string b = rank_text(4, 800, 400, "fused", 100, 250);
            ra = afx::write_run(w, afx::info("before", 2), {{0, a}, {1, a}});
            rb = afx::write_run(w, afx::info("after", 2), {{0, b}, {1, b}});
        }
        TraceReader rd(f);
        AnalysisOptions opt;
        opt.warmup_steps = 0;
        const RunComparison c = compare_runs(analyze_run(rd, ra, opt), analyze_run(rd, rb, opt), "A", "B");

        const Delta& st = metric(c.summary, "step_time_median").d;
        QCOMPARE(st.a, 1000.0);
        QCOMPARE(st.b, 800.0);
        QCOMPARE(st.abs, -200.0);
        QCOMPARE(st.rel, -0.2);
        // Parts: compute 650 -> 500, exposed communication 250 -> 250, idle 100 -> 50.
        QCOMPARE(metric(c.breakdown, "compute").d.abs, -150.0);
        QCOMPARE(metric(c.breakdown, "exposed_comm").d.abs, 0.0);
        QCOMPARE(metric(c.breakdown, "idle").d.a, 100.0);
        QCOMPARE(metric(c.breakdown, "idle").d.b, 50.0);
        QCOMPARE(metric(c.breakdown, "step").d.abs, -200.0);

        // Kernels matched by name; each run's own kernel shows as such.
        QCOMPARE(c.kernels.front().name, std::string("gemm"));  // largest |delta| first
        QCOMPARE(kernel(c, "gemm").per_step_ns.abs, -200.0);
        QCOMPARE(kernel(c, "gemm").presence, Presence::Both);
        QCOMPARE(kernel(c, "old_kernel").presence, Presence::AOnly);
        QCOMPARE(kernel(c, "old_kernel").per_step_ns.b, 0.0);
        QCOMPARE(kernel(c, "fused").presence, Presence::BOnly);
        QCOMPARE(kernel(c, "fused").per_step_ns.b, 100.0);
        QCOMPARE(kernel(c, "fused").count_per_step.b, 1.0);

        QCOMPARE(c.collectives.size(), size_t(1));
        QCOMPARE(c.collectives[0].collective, Collective::AllReduce);
        QCOMPARE(c.collectives[0].per_step_ns.abs, 0.0);
        QCOMPARE(c.collectives[0].bytes_per_step.a, 4096.0);
        // busbw: 4096 B / 250 ns × 2(2−1)/2.
        QVERIFY(std::fabs(c.collectives[0].busbw.a - 4096.0 / 250e-9) < 1e-3);

        QVERIFY2(c.verdict.find("B is 20.0% faster than A") != std::string::npos, c.verdict.c_str());
        QVERIFY2(c.verdict.find("compute -150 ns") != std::string::npos, c.verdict.c_str());
        QVERIFY2(c.verdict.find("kernel gemm -200 ns") != std::string::npos, c.verdict.c_str());

        // The same run against itself: no difference.
        const RunAnalysis x = analyze_run(rd, ra, opt);
        const RunComparison same = compare_runs(x, x);
        QVERIFY2(same.verdict.find("same time per step") != std::string::npos, same.verdict.c_str());
    }

    // A parameter-server run against an all-reduce run of the same layout: the comparison says
    // the synchronisation differs (the layouts alone look equal).
    void parameterServerAgainstAllReduce() {
        const std::string f = dir_.filePath(QStringLiteral("ps.sqlite")).toStdString();
        psfx::write_ps_file(f);
        RunId rb;
        {
            TraceWriter w(f);
            const std::string b = rank_text(4, 800, 400, "fused", 100, 250);
            rb = afx::write_run(w, afx::info("allreduce", 2), {{0, b}, {1, b}});
        }
        TraceReader rd(f);
        const auto runs = rd.runs();
        AnalysisOptions opt;
        opt.warmup_steps = 0;
        const RunComparison c = compare_runs(analyze_run(rd, runs.front().id, opt), analyze_run(rd, rb, opt), "A", "B");
        QVERIFY(!c.warnings.empty());  // said first, before each run's own warnings
        QVERIFY2(c.warnings.front().find("the gradient synchronisation differs (A: a parameter server (2 server rank(s), "
                                         "SSP (s = 1)); B: all-reduce)") == 0,
                 c.warnings.front().c_str());
        // The same run against itself: nothing said.
        const RunAnalysis x = analyze_run(rd, runs.front().id, opt);
        for (const auto& w : compare_runs(x, x).warnings) QVERIFY2(w.find("synchronisation") == std::string::npos, w.c_str());
    }

    void twoStudies() {
        const std::string f = dir_.filePath(QStringLiteral("studies.sqlite")).toStdString();
        StudyId sa, sb;
        auto points = [](double fr) {
            std::vector<afx::StudyPoint> v;
            for (int p : {1, 2, 4}) v.push_back({p, 0, {std::llround(1e8 * (fr + (1 - fr) / p))}});
            return v;
        };
        {
            TraceWriter w(f);
            sa = afx::write_study(w, "strong", points(0.05), "good");
            sb = afx::write_study(w, "strong", points(0.2), "worse");
        }
        TraceReader rd(f);
        ScalingOptions opt;
        opt.bootstrap = 50;
        opt.warmup_steps = 0;
        const StudyComparison c = compare_studies(analyze_study(rd, sa, opt), analyze_study(rd, sb, opt));
        QCOMPARE(c.points.size(), size_t(3));
        QCOMPARE(c.points[2].p, 4);
        QVERIFY(c.points[2].efficiency.abs < 0);
        bool found = false;
        for (const auto& d : c.fits)
            if (d.law == Law::Amdahl) {
                found = true;
                QVERIFY(std::fabs(d.value.a - 0.05) < 1e-9);
                QVERIFY(std::fabs(d.value.b - 0.2) < 1e-9);
                QVERIFY(d.significant);  // exact data: point intervals, disjoint
            }
        QVERIFY(found);
        QVERIFY2(c.verdict.find("at p=4 B scales worse than A") != std::string::npos, c.verdict.c_str());
        QVERIFY2(c.verdict.find("amdahl f 0.05 -> 0.2") != std::string::npos, c.verdict.c_str());
    }

    // Issue 12 items 6 and 7: labels for people, and the MFU of analyze_run (as on Summary) with
    // its peak's source, or why it is unknown.
    void labelsAndMfuNotes() {
        RunAnalysis a, b;
        a.run.world_size = b.run.world_size = 2;
        a.throughput.model_flop_per_s = 1e11;
        a.throughput.peak_flop_per_s = 1e12;
        a.throughput.peak_source = "calibration 1 (vm)";
        a.throughput.mfu = 0.05;
        b.throughput.model_flop_per_s = 1.2e11;  // no peak: MFU unknown
        const RunComparison c = compare_runs(a, b);
        const MetricDelta& mfu = metric(c.summary, "mfu");
        QCOMPARE(mfu.label, std::string("MFU"));
        QCOMPARE(mfu.d.a, 0.05);
        QVERIFY(std::isnan(mfu.d.b));
        QVERIFY2(mfu.note_a.find("against the peak of calibration 1 (vm)") != std::string::npos, mfu.note_a.c_str());
        QVERIFY2(mfu.note_b.rfind("MFU unknown: no peak FLOP/s", 0) == 0, mfu.note_b.c_str());
        RunAnalysis d = b;
        d.throughput.model_flop_per_s = -1;
        d.throughput.peak_flop_per_s = 1e12;
        QVERIFY2(mfu_note(d.throughput).find("no model FLOP count") != std::string::npos, mfu_note(d.throughput).c_str());
        QCOMPARE(metric(c.summary, "step_time_median").label, std::string("step time (median)"));
        QCOMPARE(metric(c.summary, "model_flop_per_s").label, std::string("model FLOP/s"));
        QCOMPARE(metric(c.breakdown, "exposed_comm").label, std::string("exposed communication"));
        for (const auto& m : c.summary) QVERIFY2(!m.label.empty() && m.label.find('_') == std::string::npos, m.name.c_str());
        for (const auto& m : c.breakdown) QVERIFY2(!m.label.empty() && m.label.find('_') == std::string::npos, m.name.c_str());
    }
};

QTEST_GUILESS_MAIN(TestCoreCompare)
#include "tst_core_compare.moc"

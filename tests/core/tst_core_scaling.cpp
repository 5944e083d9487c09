// core/analysis/scaling: exact recovery of Amdahl f, Gustafson f and USL (σ, κ) from synthetic studies,
// Karp–Flatt hand values, bootstrap intervals (deterministic, covering), goodness of fit and
// warnings, projections and efficiency crossings, and studies read from trace files.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "core/analysis/analysis.h"
#include "core/analysis/scaling.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;

namespace {
std::vector<ScalingSample> from_times(const std::vector<std::pair<int, double>>& pt) {
    std::vector<ScalingSample> v;
    std::int64_t id = 1;
    for (const auto& [p, t] : pt) {
        ScalingSample s;
        s.p = p;
        s.time_ns = t;
        s.run = RunId(id++);
        v.push_back(s);
    }
    return v;
}
const LawFit& fit(const ScalingResult& r, Law l) { return r.fits[static_cast<size_t>(l)]; }
bool has(const std::vector<std::string>& ws, const std::string& needle) {
    for (const auto& w : ws)
        if (w.find(needle) != std::string::npos) return true;
    return false;
}
}  // namespace

class TestCoreScaling : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path(const char* n) { return dir_.filePath(QString::fromUtf8(n)).toStdString(); }

private slots:
    void amdahlRecoversF() {
        // T(p) = T1·(f + (1−f)/p), f = 0.07.
        const double f = 0.07, t1 = 2.5e8;
        std::vector<std::pair<int, double>> pts;
        for (int p : {1, 2, 4, 8, 16, 32}) pts.push_back({p, t1 * (f + (1 - f) / p)});
        const ScalingResult r = analyze_scaling(from_times(pts), false);
        const LawFit& a = fit(r, Law::Amdahl);
        QCOMPARE(a.params.size(), size_t(1));
        QVERIFY2(std::fabs(a.params[0].value - f) < 1e-9, qPrintable(QString::number(a.params[0].value, 'g', 17)));
        QVERIFY(a.rmse < 1e-9);
        QVERIFY(std::fabs(a.r2 - 1.0) < 1e-12);
        QVERIFY(a.matches_scaling);
        QVERIFY(!fit(r, Law::Gustafson).matches_scaling);
        // Exact data: the residual bootstrap has nothing to resample, the interval is the point.
        QVERIFY(std::fabs(a.params[0].ci_low - f) < 1e-9 && std::fabs(a.params[0].ci_high - f) < 1e-9);
        // Speedup and efficiency of the points.
        QCOMPARE(r.points.size(), size_t(6));
        QVERIFY(std::fabs(r.points[1].speedup - 1.0 / (f + (1 - f) / 2)) < 1e-12);
        QVERIFY(std::fabs(r.points[3].efficiency - 1.0 / (f + (1 - f) / 8) / 8) < 1e-12);
        // Karp–Flatt of an Amdahl speedup is the serial fraction at every p.
        QVERIFY(std::isnan(r.points[0].karp_flatt));
        for (size_t i = 1; i < r.points.size(); ++i) QVERIFY(std::fabs(r.points[i].karp_flatt - f) < 1e-12);
        // The closed form alone.
        QVERIFY(std::fabs(amdahl_serial_fraction({2, 4, 8}, {amdahl_speedup(f, 2), amdahl_speedup(f, 4),
                                                            amdahl_speedup(f, 8)}) - f) < 1e-12);

        // Projection to 1024 and the efficiency crossing: E(p) = 1/(fp + 1 − f) < 0.5 from p = 16.
        bool found = false;
        for (const auto& pr : r.projections)
            if (pr.law == Law::Amdahl && pr.p == 1024) {
                found = true;
                QVERIFY(std::fabs(pr.speedup - 1.0 / (f + (1 - f) / 1024)) < 1e-9);
                QVERIFY(std::fabs(pr.efficiency - pr.speedup / 1024) < 1e-12);
            }
        QVERIFY(found);
        for (const auto& c : r.crossings)
            if (c.law == Law::Amdahl) QCOMPARE(c.p, 16.0);
        QVERIFY(amdahl_speedup(f, 15) / 15 >= 0.5 && amdahl_speedup(f, 16) / 16 < 0.5);
    }

    void gustafsonRecoversF() {
        // Weak scaling: scaled speedup S = p − f(p − 1) = p·T1/T(p).
        const double f = 0.12, t1 = 1e7;
        std::vector<std::pair<int, double>> pts;
        for (int p : {1, 2, 4, 8, 16}) pts.push_back({p, p * t1 / gustafson_speedup(f, p)});
        const ScalingResult r = analyze_scaling(from_times(pts), true);
        QVERIFY(r.weak);
        const LawFit& g = fit(r, Law::Gustafson);
        QVERIFY2(std::fabs(g.params[0].value - f) < 1e-9, qPrintable(QString::number(g.params[0].value, 'g', 17)));
        QVERIFY(g.matches_scaling);
        QVERIFY(std::fabs(r.points[2].speedup - (4 - f * 3)) < 1e-9);
        QVERIFY(std::fabs(gustafson_serial_fraction({2, 4}, {2 - f, 4 - 3 * f}) - f) < 1e-12);
        // E = 1 − f(1 − 1/p) never falls below 0.5 when f = 0.12 (its limit is 0.88).
        for (const auto& c : r.crossings)
            if (c.law == Law::Gustafson) QVERIFY(std::isnan(c.p));
    }

    void uslRecoversSigmaKappa() {
        const double sigma = 0.03, kappa = 0.0015, t1 = 1e9;
        std::vector<std::pair<int, double>> pts;
        for (int p : {1, 2, 4, 8, 16, 32, 64}) pts.push_back({p, t1 / usl_speedup(sigma, kappa, p)});
        const ScalingResult r = analyze_scaling(from_times(pts), false);
        const LawFit& u = fit(r, Law::Usl);
        QVERIFY(u.ok);
        QCOMPARE(u.params[0].name, std::string("sigma"));
        QVERIFY2(std::fabs(u.params[0].value - sigma) < 1e-9, qPrintable(QString::number(u.params[0].value, 'g', 17)));
        QVERIFY2(std::fabs(u.params[1].value - kappa) < 1e-10, qPrintable(QString::number(u.params[1].value, 'g', 17)));
        QVERIFY(u.rmse < 1e-9);
        // Direct call too, from a poor start.
        std::vector<double> p, s;
        for (int x : {2, 4, 8, 16, 32}) {
            p.push_back(x);
            s.push_back(usl_speedup(0.1, 0.01, x));
        }
        const double start[2] = {0.5, 0.0};
        UslFit uf = fit_usl(p, s, start);
        QVERIFY(uf.converged);
        QVERIFY(std::fabs(uf.sigma - 0.1) < 1e-8 && std::fabs(uf.kappa - 0.01) < 1e-9);
        // Noisy data (±2 %): the residual bootstrap refits converge and the interval brackets the fit.
        {
            const double noise[] = {1.0, 1.02, 0.985, 1.01, 0.98, 1.015, 0.99};
            std::vector<std::pair<int, double>> np;
            int k = 0;
            for (int x : {1, 2, 4, 8, 16, 32, 64}) np.push_back({x, t1 / usl_speedup(sigma, kappa, x) * noise[k++]});
            const ScalingResult nr = analyze_scaling(from_times(np), false);
            const LawFit& nu = fit(nr, Law::Usl);
            QVERIFY(nu.ok);
            QVERIFY(!has(nu.warnings, "refits failed"));
            for (const auto& prm : nu.params) QVERIFY(prm.ci_low <= prm.value && prm.value <= prm.ci_high);
            QVERIFY(nu.params[0].ci_low < nu.params[0].ci_high);
            QVERIFY(std::fabs(nu.params[0].value - sigma) < 0.02 && std::fabs(nu.params[1].value - kappa) < 0.001);
        }
        // Amdahl cannot bend down: a poor fit here, with a warning.
        const LawFit& a = fit(r, Law::Amdahl);
        QVERIFY(a.r2 < 0.9);
        QVERIFY(has(a.warnings, "poor fit"));
        // Crossing: the smallest integer p with E(p) < 0.5.
        for (const auto& c : r.crossings)
            if (c.law == Law::Usl) {
                QVERIFY(std::isfinite(c.p));
                QVERIFY(usl_speedup(sigma, kappa, c.p) / c.p < 0.5);
                QVERIFY(usl_speedup(sigma, kappa, c.p - 1) / (c.p - 1) >= 0.5);
            }
    }

    void karpFlattHandValues() {
        QVERIFY(std::fabs(karp_flatt(1.8, 2) - 1.0 / 9.0) < 1e-15);  // (1/1.8 − 1/2)/(1/2)
        QVERIFY(std::fabs(karp_flatt(3.0, 4) - 1.0 / 9.0) < 1e-15);  // (1/3 − 1/4)/(3/4)
        QVERIFY(std::fabs(karp_flatt(4.0, 8) - 1.0 / 7.0) < 1e-15);  // (1/4 − 1/8)/(7/8)
        QCOMPARE(karp_flatt(8.0, 8), 0.0);                            // perfect speedup
        QVERIFY(std::isnan(karp_flatt(1.0, 1)));
        // Through the study: times 100, 100/1.8, 100/3, 25.
        const ScalingResult r = analyze_scaling(from_times({{1, 100}, {2, 100 / 1.8}, {4, 100 / 3.0}, {8, 25}}), false);
        QVERIFY(std::fabs(r.points[1].karp_flatt - 1.0 / 9.0) < 1e-12);
        QVERIFY(std::fabs(r.points[2].karp_flatt - 1.0 / 9.0) < 1e-12);
        QVERIFY(std::fabs(r.points[3].karp_flatt - 1.0 / 7.0) < 1e-12);
    }

    void bootstrapOverRepeats() {
        // Three repeats per p around an Amdahl law with ±3 % noise: the interval covers f, is not
        // a point, and the same input gives the same interval (seeded).
        const double f = 0.1, t1 = 1e8;
        std::vector<ScalingSample> v;
        const double noise[] = {1.02, 0.98, 1.005, 0.99, 1.01, 1.0, 1.015, 0.985, 0.995, 0.97, 1.03, 1.01};
        int k = 0;
        for (int p : {1, 2, 4, 8})
            for (int rep = 0; rep < 3; ++rep) {
                ScalingSample s;
                s.p = p;
                s.repeat = rep;
                s.run = RunId(k + 1);
                s.time_ns = t1 * (f + (1 - f) / p) * noise[k++];
                v.push_back(s);
            }
        ScalingOptions opt;
        opt.bootstrap = 400;
        const ScalingResult r1 = analyze_scaling(v, false, opt);
        const ScalingResult r2 = analyze_scaling(v, false, opt);
        for (int l = 0; l < kLawCount; ++l) QVERIFY(r1.fits[size_t(l)].params == r2.fits[size_t(l)].params);
        QVERIFY(r1.projections == r2.projections);
        QVERIFY(!r1.projections.empty());
        QVERIFY(r1.ci_method.find("over repeats") != std::string::npos);
        const FitParam& fp = fit(r1, Law::Amdahl).params[0];
        QVERIFY(fp.ci_low < fp.value && fp.value < fp.ci_high);
        QVERIFY(fp.ci_low < f && f < fp.ci_high);
        QVERIFY(std::fabs(fp.value - f) < 0.03);
        QCOMPARE(r1.points[0].runs, 3);
        opt.seed = 99;
        const ScalingResult r3 = analyze_scaling(v, false, opt);
        QVERIFY(fit(r3, Law::Amdahl).params[0].ci_low != fp.ci_low);  // another seed, another draw
        QCOMPARE(fit(r3, Law::Amdahl).params[0].value, fp.value);
    }

    void warnings() {
        // Two points: fewer than 3.
        ScalingResult r = analyze_scaling(from_times({{1, 100}, {2, 60}}), false);
        QVERIFY(has(fit(r, Law::Amdahl).warnings, "fewer than 3"));
        QVERIFY(has(fit(r, Law::Usl).warnings, "fewer than 3"));
        // Three points, two USL parameters: no degrees of freedom left.
        r = analyze_scaling(from_times({{1, 100}, {2, 60}, {4, 40}}), false);
        QVERIFY(has(fit(r, Law::Usl).warnings, "no residual degrees of freedom"));
        // Oversubscribed points are flagged and the fits say so.
        auto v = from_times({{1, 100}, {2, 55}, {4, 35}, {8, 30}});
        v[3].oversubscribed = true;
        r = analyze_scaling(v, false);
        QVERIFY(r.points[3].oversubscribed && !r.points[2].oversubscribed);
        QVERIFY(has(r.warnings, "oversubscribed runs (more ranks than cores) at p = 8"));
        for (const auto& l : r.fits) QVERIFY(has(l.warnings, "oversubscribed"));
        // Slower than p = 1 is called out.
        r = analyze_scaling(from_times({{1, 100}, {2, 150}, {4, 90}}), false);
        QVERIFY(has(r.warnings, "speedup below 1 at p = 2:"));
        QVERIFY(has(fit(r, Law::Amdahl).warnings, "serial fraction above 1"));
        // Only p = 1: nothing to fit.
        r = analyze_scaling(from_times({{1, 100}, {1, 101}}), false);
        QVERIFY(!fit(r, Law::Amdahl).ok);
        QVERIFY(r.projections.empty());
    }

    // Issue 12 item 13: a law with as many parameters as points with p > 1 passes through them:
    // no interval (NaN, not zero width), a warning, and far projections called extrapolations.
    void tooFewPointsHaveNoInterval() {
        for (const bool repeats : {false, true}) {
            const auto v = repeats ? from_times({{1, 100}, {1, 104}, {2, 60}, {2, 63}}) : from_times({{1, 100}, {2, 60}});
            ScalingOptions opt;
            opt.project_p = {8, 9, 64};
            const ScalingResult r = analyze_scaling(v, false, opt);
            QVERIFY2(has(r.warnings, "2 points (p = 1, 2): every law passes through them; no interval"), r.warnings.front().c_str());
            QVERIFY(has(r.warnings, "projection to p = 9, 64 is 32x the largest measured p (2): an extrapolation"));
            for (const auto& f : r.fits) {
                QVERIFY(f.ok);
                QVERIFY(!f.has_interval);
                QVERIFY(has(f.warnings, "passes through them"));
                QVERIFY(has(f.warnings, "no interval"));
                for (const auto& prm : f.params) QVERIFY(std::isnan(prm.ci_low) && std::isnan(prm.ci_high));
            }
            QVERIFY(!r.projections.empty());
            for (const auto& pr : r.projections) {
                QVERIFY(std::isfinite(pr.speedup));
                QVERIFY(std::isnan(pr.speedup_low) && std::isnan(pr.speedup_high));
                QVERIFY(std::isnan(pr.efficiency_low) && std::isnan(pr.efficiency_high));
                QCOMPARE(pr.extrapolated, pr.p > 8);  // 4 × the largest measured p (2)
                QCOMPARE(pr.beyond_measured, pr.p / 2);
            }
        }
        // Three points: Amdahl (1 parameter) has an interval, the USL (2) has none.
        const ScalingResult r3 = analyze_scaling(from_times({{1, 100}, {2, 58}, {4, 40}}), false);
        QVERIFY(fit(r3, Law::Amdahl).has_interval);
        QVERIFY(std::isfinite(fit(r3, Law::Amdahl).params[0].ci_low));
        QVERIFY(fit(r3, Law::Amdahl).params[0].ci_low < fit(r3, Law::Amdahl).params[0].ci_high);
        QVERIFY(!fit(r3, Law::Usl).has_interval);
        QVERIFY(std::isnan(fit(r3, Law::Usl).params[1].ci_high));
        QVERIFY(has(fit(r3, Law::Usl).warnings, "only 3 points for 2 parameters: the USL passes through them"));
        QVERIFY(!has(r3.warnings, "every law passes through them"));
        QVERIFY(has(r3.warnings, "projection to p = 1024 is 256x the largest measured p (4)"));
        // Within 4× the largest measured p: no extrapolation warning.
        ScalingOptions near;
        near.project_p = {16};
        const ScalingResult rn = analyze_scaling(from_times({{1, 100}, {2, 58}, {4, 37}}), false, near);
        QVERIFY(!has(rn.warnings, "extrapolation"));
        QVERIFY(!rn.projections.front().extrapolated);
    }

    void errors() {
        try {
            analyze_scaling(from_times({{2, 60}, {4, 40}}), false);
            QFAIL("no p=1 must be refused");
        } catch (const AnalysisError& e) {
            const std::string m = e.what();
            QVERIFY2(m.find("no p=1 point") != std::string::npos && m.find("p = 2, 4") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(AnalysisError, analyze_scaling({}, false));
        QVERIFY_THROWS_EXCEPTION(AnalysisError, analyze_scaling(from_times({{1, 100}, {2, 0}}), false));
        ScalingOptions opt;
        opt.efficiency_threshold = 1.5;
        QVERIFY_THROWS_EXCEPTION(AnalysisError, analyze_scaling(from_times({{1, 100}, {2, 60}}), false, opt));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, amdahl_serial_fraction({1, 1}, {1, 1}));
    }

    void studyFromTraceFile() {
        // T(p) = 1e9·(0.07 + 0.93/p) in whole ns, two repeats with equal times, 6 steps each with a
        // slow first step (detected as warm-up).
        const double f = 0.07;
        const std::string file = path("study.sqlite");
        StudyId sid, bad;
        {
            TraceWriter w(file);
            std::vector<afx::StudyPoint> pts;
            for (int p : {1, 2, 4, 8})
                for (int rep = 0; rep < 2; ++rep) {
                    const std::int64_t t = std::llround(1e9 * (f + (1 - f) / p));
                    pts.push_back({p, rep, {3 * t, t, t, t, t, t}, p == 8});
                }
            pts.push_back({4, 2, {1000}, false, RunStatus::Failed});
            sid = afx::write_study(w, "strong", pts);
            bad = afx::write_study(w, "strong", {{2, 0, {100, 100}}, {4, 0, {60, 60}}}, "no baseline");
        }
        TraceReader rd(file);
        ScalingOptions opt;
        opt.bootstrap = 200;
        const ScalingResult r = analyze_study(rd, sid, opt);
        QCOMPARE(r.study.name, std::string("dp sweep"));
        QCOMPARE(r.points.size(), size_t(4));
        QCOMPARE(r.samples.size(), size_t(8));
        QVERIFY(std::fabs(fit(r, Law::Amdahl).params[0].value - f) < 1e-9);
        QVERIFY(has(r.warnings, "status 'failed'"));
        QVERIFY(r.points[3].oversubscribed);
        try {
            analyze_study(rd, bad, opt);
            QFAIL("a study without p=1 must be refused");
        } catch (const AnalysisError& e) {
            QVERIFY2(std::string(e.what()).find("study 2 'no baseline'") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("no p=1 point") != std::string::npos, e.what());
        }
        try {
            analyze_study(rd, StudyId(9), opt);
            QFAIL("an absent study must be refused");
        } catch (const AnalysisError& e) {
            QVERIFY2(std::string(e.what()).find("no study 9 (studies: 1, 2)") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestCoreScaling)
#include "tst_core_scaling.moc"

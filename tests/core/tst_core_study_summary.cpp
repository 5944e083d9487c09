// core/analysis: oversubscribed points left out of the fits (flagged, named, refitted on the rest)
// and the one sentence that says what a study shows (study_summary.h), on hand-made studies.
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "core/analysis/scaling.h"
#include "core/analysis/study_summary.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;

namespace {
std::vector<ScalingSample> samples(const std::vector<std::pair<int, double>>& pt, int over_from = 1 << 30) {
    std::vector<ScalingSample> v;
    std::int64_t id = 1;
    for (const auto& [p, t] : pt) {
        ScalingSample s;
        s.p = p;
        s.time_ns = t;
        s.run = RunId(id++);
        s.oversubscribed = p > over_from;
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

class TestCoreStudySummary : public QObject {
    Q_OBJECT
private slots:
    // The default study's shape on 2 cores: p = 4 oversubscribed and slower than p = 2.
    void oversubscribedLeftOut() {
        ScalingOptions opt;
        opt.bootstrap = 50;
        const ScalingResult r = analyze_scaling(samples({{1, 55.1e6}, {2, 35.07e6}, {4, 43.49e6}}, 2), false, opt);
        QCOMPARE(r.points.size(), size_t(3));  // still shown
        QVERIFY(r.points[0].fitted && r.points[1].fitted && !r.points[2].fitted);
        QCOMPARE(r.excluded_p, std::vector<std::int32_t>{4});
        QVERIFY2(r.fit_note.find("p = 4 left out of the fits: oversubscribed") != std::string::npos, r.fit_note.c_str());
        // Amdahl on (1, 1), (2, S2) only: f = (1/S2 − 1/2)/(1/2), R² = 1 (no "poor fit").
        const double s2 = 55.1 / 35.07;
        QVERIFY(std::fabs(fit(r, Law::Amdahl).params[0].value - (1.0 / s2 - 0.5) / 0.5) < 1e-12);
        QCOMPARE(fit(r, Law::Amdahl).points, 2);
        for (const auto& f : r.fits) {
            QVERIFY(!has(f.warnings, "poor fit"));
            QVERIFY(has(f.warnings, "oversubscribed p = 4 left out of this fit"));
            QVERIFY(!has(f.warnings, "fit includes oversubscribed"));
        }
        QVERIFY(has(r.warnings, "2 points fitted (p = 1, 2)"));
        // One p > 1 left: the USL takes κ = 0 and equals Amdahl (not an arbitrary (σ, κ) through it).
        QCOMPARE(fit(r, Law::Usl).params[0].value, fit(r, Law::Amdahl).params[0].value);
        QCOMPARE(fit(r, Law::Usl).params[1].value, 0.0);
        QVERIFY(has(r.warnings, "x the largest fitted p (2)"));

        // Opting out fits every point, as before: the p = 4 point drags Amdahl into a poor fit.
        opt.fit_oversubscribed = true;
        const ScalingResult all = analyze_scaling(samples({{1, 55.1e6}, {2, 35.07e6}, {4, 43.49e6}}, 2), false, opt);
        QVERIFY(all.excluded_p.empty() && all.fit_note.empty() && all.points[2].fitted);
        QVERIFY(has(fit(all, Law::Amdahl).warnings, "poor fit"));
        QVERIFY(has(fit(all, Law::Amdahl).warnings, "fit includes oversubscribed"));
    }

    // Fewer than 2 clean points: nothing is left out (the fit still says it includes them).
    void tooFewCleanPointsKeepsThem() {
        ScalingOptions opt;
        opt.bootstrap = 20;
        const ScalingResult r = analyze_scaling(samples({{1, 100}, {4, 60}, {8, 50}}, 1), false, opt);
        QVERIFY(r.excluded_p.empty());
        for (const auto& pt : r.points) QVERIFY(pt.fitted);
        QVERIFY(has(fit(r, Law::Amdahl).warnings, "fit includes oversubscribed"));
        const std::string s = study_sentence(r, {2});
        QVERIFY2(s.find("4 and 8 ranks shared cores and are still fitted") != std::string::npos, s.c_str());
    }

    // Repeats: the bootstrap over repeats resamples only the fitted points.
    void repeatsExcluded() {
        auto v = samples({{1, 100}, {1, 102}, {2, 55}, {2, 56}, {4, 30}, {4, 31}, {8, 90}, {8, 95}}, 4);
        ScalingOptions opt;
        opt.bootstrap = 100;
        const ScalingResult r = analyze_scaling(v, false, opt);
        QCOMPARE(r.excluded_p, std::vector<std::int32_t>{8});
        const LawFit& a = fit(r, Law::Amdahl);
        QCOMPARE(a.points, 3);
        QVERIFY(a.has_interval && std::isfinite(a.params[0].ci_low));
        // The interval comes from fitted points only: p = 8's S ≈ 1.1 would pull f above 0.5.
        QVERIFY(a.params[0].ci_high < 0.2);
    }

    void sentenceDefaultStudy() {
        ScalingOptions opt;
        opt.bootstrap = 0;
        ScalingResult r = analyze_scaling(samples({{1, 55.1e6}, {2, 35.07e6}, {4, 43.49e6}}, 2), false, opt);
        r.model = "mlp-default";
        const std::string s = study_sentence(r, {2});
        QCOMPARE(QString::fromStdString(s),
                 QStringLiteral("On this 2-core machine the MLP ran 1.57x faster on 2 ranks than on 1 (79 % efficiency); "
                                "4 ranks share 2 cores, so that point is shown but not fitted; Amdahl's law through "
                                "the 2 fitted points says 27 % of the step does not parallelise."));
        // Cores unknown, one host: named by host.
        r.hosts = {"vm"};
        const std::string h = study_sentence(r);
        QVERIFY2(h.rfind("On vm the MLP ran 1.57x", 0) == 0, h.c_str());
        QVERIFY2(h.find("4 ranks share fewer cores than ranks") != std::string::npos, h.c_str());
    }

    void sentenceOtherShapes() {
        ScalingOptions opt;
        opt.bootstrap = 0;
        // Four clean points on Amdahl f = 0.05: 3 points fitted, the largest p leads.
        std::vector<std::pair<int, double>> pts;
        for (int p : {1, 2, 4, 8}) pts.push_back({p, 1000.0 * (0.05 + 0.95 / p)});
        ScalingResult r = analyze_scaling(samples(pts), false, opt);
        r.model = "gpt-tiny";
        std::string s = study_sentence(r, {16});
        QVERIFY2(s.find("the GPT model (gpt-tiny) ran 5.93x faster on 8 ranks than on 1 (74 % efficiency)") !=
                     std::string::npos, s.c_str());
        QVERIFY2(s.find("; Amdahl's law says 5.0 % of the step does not parallelise.") != std::string::npos, s.c_str());
        // Slower with more ranks.
        r = analyze_scaling(samples({{1, 100}, {2, 150}}), false, opt);
        s = study_sentence(r, {8});
        QVERIFY2(s.find("ran 1.50x slower on 2 ranks than on 1 (33 % efficiency)") != std::string::npos, s.c_str());
        QVERIFY2(s.find("more ranks made each step slower") != std::string::npos, s.c_str());
        // Weak scaling: Gustafson.
        r = analyze_scaling(samples({{1, 100}, {2, 100}, {4, 125}}), true, opt);
        s = study_sentence(r, {4});
        QVERIFY2(s.find("processed 3.20x as many samples per second on 4 ranks as on 1 (scaled speedup, 80 % "
                        "efficiency)") != std::string::npos, s.c_str());
        QVERIFY2(s.find("Gustafson's law says") != std::string::npos, s.c_str());
        // Only p = 1.
        r = analyze_scaling(samples({{1, 100}}), false, opt);
        QVERIFY(study_sentence(r).find("on 1 rank only") != std::string::npos);
    }

    // scalescope-cli scaling ends its table output with the sentence; csv and json stay machine-only.
    void cliPrintsTheSentence() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string file = dir.filePath(QStringLiteral("study.sqlite")).toStdString();
        {
            TraceWriter w(file);
            afx::write_study(w, "strong", {{1, 0, {1000, 1000, 1000, 1000}}, {2, 0, {600, 600, 600, 600}},
                                           {4, 0, {800, 800, 800, 800}, true}});
        }
        auto run = [&](const QStringList& extra) {
            QProcess p;
            p.start(QStringLiteral(SCALESCOPE_CLI),
                    QStringList{QStringLiteral("scaling"), QString::fromStdString(file), QStringLiteral("--bootstrap"),
                                QStringLiteral("0")} + extra);
            p.waitForFinished(60000);
            return std::make_pair(p.exitCode(), p.readAllStandardOutput().toStdString());
        };
        const auto [code, out] = run({});
        QCOMPARE(code, 0);
        const std::string last = out.substr(out.rfind("\n", out.size() - 2) + 1);
        QVERIFY2(last.find("ran 1.67x faster on 2 ranks than on 1 (83 % efficiency); 4 ranks share") != std::string::npos,
                 last.c_str());
        QVERIFY2(last.find("so that point is shown but not fitted") != std::string::npos, last.c_str());
        QVERIFY2(out.find("poor fit") == std::string::npos, out.c_str());
        const auto [jcode, json] = run({QStringLiteral("--format"), QStringLiteral("json")});
        QCOMPARE(jcode, 0);
        QVERIFY(json.find("shown but not fitted") == std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestCoreStudySummary)
#include "tst_core_study_summary.moc"

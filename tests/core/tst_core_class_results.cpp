// core/teach/class_results: a folder of participants' study files (synthetic, tests/core/
// class_fixture.h) read into one entry per study: the Amdahl f is the core fit of that file alone,
// entries are labelled by host (the file name added when two share one), bad files are listed
// with the reader's reason; the plain sentences carry the fitted numbers; `class-results` prints
// the same through scalescope-cli.
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "class_fixture.h"
#include "core/analysis/scaling.h"
#include "core/teach/class_results.h"

using namespace ss::core;
using namespace ss::traces;

namespace {
bool contains(const std::string& s, const std::string& needle) {
    return s.find(needle) != std::string::npos;
}
const ClassEntry* by_file(const ClassResults& r, const std::string& name) {
    for (const ClassEntry& e : r.entries)
        if (e.file_name == name) return &e;
    return nullptr;
}
const ClassBadFile* bad(const ClassResults& r, const std::string& name) {
    for (const ClassBadFile& b : r.bad)
        if (b.file_name == name) return &b;
    return nullptr;
}
}  // namespace

class TestCoreClassResults : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string folder() const { return dir_.path().toStdString() + "/class"; }
    std::string file(const char* n) const { return folder() + "/" + n; }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        std::filesystem::create_directories(folder());
        // Three machines; carl's laptop has the same host name as anna's (two files from one host).
        classfx::write_machine_study(file("anna.sqlite"),
                                     {"laptop-anna", 0.05, {1, 2, 4}, {1.0, 1.02, 0.99}});
        classfx::Machine ben{"laptop-ben", 0.25, {1, 2, 4}, {}, 4};  // p = 4 oversubscribed
        classfx::write_machine_study(file("ben.sqlite"), ben);
        classfx::write_machine_study(file("carl.sqlite"), {"laptop-anna", 0.4, {1, 2}});
        // Bad files: text, a trace with a run and no study, a study without a p = 1 point.
        QFile text(QString::fromStdString(file("notes.sqlite")));
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.write("these are my notes, not a trace\n");
        text.close();
        {
            TraceWriter w(file("nostudy.sqlite"));
            RunInfo ri;
            ri.name = "single";
            ri.hosts = {"laptop-dora"};
            const RunId run = w.begin_run(ri);
            w.finish_run(run, RunStatus::Completed, "", 0);
        }
        classfx::write_machine_study(file("nobase.sqlite"), {"laptop-eve", 0.1, {2, 4}});
        // Not a .sqlite file: not read at all.
        QFile other(QString::fromStdString(file("readme.txt")));
        QVERIFY(other.open(QIODevice::WriteOnly));
        other.write("x");
    }

    void filesOfTheFolder() {
        const auto files = class_files(folder());
        QCOMPARE(files.size(), size_t(6));
        QVERIFY(contains(files.front(), "anna.sqlite"));  // sorted by name
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, class_files(folder() + "/missing"));
    }

    void perFileFitIsTheCoreFit() {
        const ClassResults r = class_results(folder());
        QCOMPARE(r.entries.size(), size_t(3));
        for (const ClassEntry& e : r.entries) {
            TraceReader rd(e.summary.file);
            const ScalingResult alone = analyze_study(rd, rd.studies().front().id);
            const LawFit& amdahl = alone.fits[static_cast<size_t>(Law::Amdahl)];
            QCOMPARE(e.summary.serial_fraction, amdahl.params.front().value);
            // The whole result is the same (NaN fields compared as NaN: Karp–Flatt at p = 1).
            QCOMPARE(e.summary.scaling.points.size(), alone.points.size());
            for (size_t i = 0; i < alone.points.size(); ++i)
                QCOMPARE(e.summary.scaling.points[i].speedup, alone.points[i].speedup);
            QCOMPARE(e.summary.scaling.fits.size(), alone.fits.size());
            for (size_t i = 0; i < alone.fits.size(); ++i)
                for (size_t k = 0; k < alone.fits[i].params.size(); ++k)
                    QCOMPARE(e.summary.scaling.fits[i].params[k].value,
                             alone.fits[i].params[k].value);
        }
        // And the fit recovers each machine's f (ben: exact; anna: with the wobble, near).
        QVERIFY(std::fabs(by_file(r, "ben.sqlite")->summary.serial_fraction - 0.25) < 1e-6);
        QVERIFY(std::fabs(by_file(r, "carl.sqlite")->summary.serial_fraction - 0.4) < 1e-6);
        QVERIFY(std::fabs(by_file(r, "anna.sqlite")->summary.serial_fraction - 0.05) < 0.02);
    }

    void labelsAndTableNumbers() {
        const ClassResults r = class_results(folder());
        const ClassEntry* anna = by_file(r, "anna.sqlite");
        const ClassEntry* ben = by_file(r, "ben.sqlite");
        const ClassEntry* carl = by_file(r, "carl.sqlite");
        QVERIFY(anna && ben && carl);
        QCOMPARE(ben->label, std::string("laptop-ben"));
        QCOMPARE(anna->label, std::string("laptop-anna (anna.sqlite)"));
        QCOMPARE(carl->label, std::string("laptop-anna (carl.sqlite)"));
        QCOMPARE(ben->summary.host, std::string("laptop-ben"));
        QCOMPARE(ben->summary.device, std::string("cpu (OpenBLAS, 1 thread)"));
        QCOMPARE(ben->summary.points, 3);
        QCOMPARE(ben->summary.max_p, 4);
        // S(4) = 1/(0.25 + 0.75/4) = 2.2857; E = S/4.
        const double s4 = 1 / (0.25 + 0.75 / 4);
        QVERIFY(std::fabs(ben->summary.speedup_at_max - s4) < 1e-6);
        QVERIFY(std::fabs(ben->summary.efficiency_at_max - s4 / 4) < 1e-6);
        QCOMPARE(ben->summary.oversubscribed_points, 1);
        QCOMPARE(ben->summary.oversubscribed_p, std::vector<std::int32_t>{4});
        QCOMPARE(anna->summary.oversubscribed_points, 0);
        QCOMPARE(carl->summary.max_p, 2);
        QCOMPARE(ben->summary.date, std::string("2026-12-01 08:30 UTC"));
        QVERIFY(contains(ben->summary.what,
                         "gpt-tiny, strong scaling of parallel.dp over p = 1, 2, 4"));
        QVERIFY(contains(ben->summary.what, "6 steps a run"));
        // ben's p = 4 is oversubscribed, so the fit leaves it out (core/analysis scaling): like
        // carl, one fitted point with p > 1 (nothing checks the law).
        QVERIFY2(contains(ben->summary.fit_quality, "exact"), ben->summary.fit_quality.c_str());
        QVERIFY(contains(carl->summary.fit_quality, "exact"));
    }

    void badFilesWithTheirReason() {
        const ClassResults r = class_results(folder());
        QCOMPARE(r.bad.size(), size_t(3));
        QVERIFY(bad(r, "notes.sqlite"));
        QVERIFY(
            contains(bad(r, "notes.sqlite")->reason, "'notes.sqlite' is not a ScaleScope trace"));
        QVERIFY(!contains(bad(r, "notes.sqlite")->reason, folder()));  // named, not by its path
        QVERIFY(bad(r, "nostudy.sqlite"));
        QVERIFY(
            contains(bad(r, "nostudy.sqlite")->reason, "no scaling study: the file holds 1 run"));
        QVERIFY(bad(r, "nobase.sqlite"));
        QVERIFY2(contains(bad(r, "nobase.sqlite")->reason, "no p=1 point"),
                 bad(r, "nobase.sqlite")->reason.c_str());
        QVERIFY(!bad(r, "readme.txt"));
    }

    void sentencesCarryTheNumbers() {
        const ClassResults r = class_results(folder());
        const StudySummary& ben = by_file(r, "ben.sqlite")->summary;
        QCOMPARE(ben.law_sentences.size(), size_t(2));  // a strong study: Amdahl and USL
        // f = 0.25: 25 % serial, at most 1/f = 4× faster.
        QVERIFY2(contains(ben.law_sentences[0], "f = 0.25") &&
                     contains(ben.law_sentences[0], "25 %") &&
                     contains(ben.law_sentences[0], "1/f = 4.00×"),
                 ben.law_sentences[0].c_str());
        QVERIFY(contains(ben.law_sentences[1], "σ = 0.25"));
        QVERIFY2(
            contains(ben.conclusion,
                     "On laptop-ben, 4 processes ran 2.3× faster than 1 (57 % efficiency, p = 4 "
                     "oversubscribed"),
            ben.conclusion.c_str());
        QVERIFY(contains(ben.conclusion, "caps any number of processes at 4.00×"));
        // A study slower in parallel says so.
        StudySummary slow = ben;
        slow.speedup_at_max = 0.8;
        QVERIFY(contains(conclusion_sentence(slow), "were slower than 1"));
    }

    void cancelAndProgress() {
        ClassOptions o;
        int calls = 0;
        o.progress = [&](int done, int total) {
            ++calls;
            QCOMPARE(total, 6);
            QVERIFY(done <= total);
        };
        class_results(folder(), o);
        QCOMPARE(calls, 6);
        o.cancelled = [] { return true; };
        QVERIFY_THROWS_EXCEPTION(ClassCancelled, class_results(folder(), o));
    }

    void cliClassResults() {
#ifdef SCALESCOPE_CLI
        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI),
                {QStringLiteral("class-results"), QString::fromStdString(folder()),
                 QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const auto j = nlohmann::json::parse(p.readAllStandardOutput().toStdString());
        QCOMPARE(j["machines"].size(), size_t(3));
        QCOMPARE(j["bad_files"].size(), size_t(3));
        bool sawBen = false;
        for (const auto& m : j["machines"])
            if (m["host"] == "laptop-ben") {
                sawBen = true;
                QVERIFY(std::fabs(m["serial_fraction_f"].get<double>() - 0.25) < 1e-6);
                QCOMPARE(m["max_p"].get<int>(), 4);
                QCOMPARE(m["oversubscribed_p"].get<std::string>(), std::string("4"));
            }
        QVERIFY(sawBen);
        // Table output names every machine; a missing folder is an error (exit 1).
        p.start(QStringLiteral(SCALESCOPE_CLI),
                {QStringLiteral("class-results"), QString::fromStdString(folder())});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QString table = QString::fromUtf8(p.readAllStandardOutput());
        QVERIFY(table.contains(QStringLiteral("laptop-anna (carl.sqlite)")));
        QVERIFY(table.contains(QStringLiteral("notes.sqlite")));
        p.start(QStringLiteral(SCALESCOPE_CLI),
                {QStringLiteral("class-results"), QString::fromStdString(folder() + "/nope")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
#else
        QSKIP("scalescope-cli not built");
#endif
    }
};

QTEST_GUILESS_MAIN(TestCoreClassResults)
#include "tst_core_class_results.moc"

// The simulator's validation on stored data (issue 17): a small study recorded on the development
// machine and a calibration taken after it (tests/data/sim-validation/, made by make.sh there) are
// validated again on every run of the suite; each predicted point's |error| must stay within the
// bound stored beside the data (bounds.json), so a model change that makes a prediction worse
// fails here. Also: the error band `simulate --validate --store-band` stores in the hardware file,
// read back, chosen per layout class and printed by `simulate` with every prediction.
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/sim/hardware.h"
#include "core/sim/sim_trace.h"
#include "core/sim/validation_band.h"
#include "traces/reader.h"

using namespace ss::core;
using json = nlohmann::json;

namespace {

const std::string kData = SCALESCOPE_SIM_VALIDATION_DATA;  // tests/data/sim-validation

json read_json(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return json::parse(ss.str(), nullptr, false, true);
}

bool cli(const QStringList& args, QString* out) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(SCALESCOPE_CLI), args);
    if (!p.waitForFinished(60000)) return false;
    *out = QString::fromLocal8Bit(p.readAll());
    return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

}  // namespace

class TestSimValidation : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string study_;  // a copy of the stored study (opening a trace may write to it)

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        study_ = dir_.filePath(QStringLiteral("study.sqlite")).toStdString();
        QVERIFY2(
            QFile::copy(QString::fromStdString(kData + "/study.sqlite"),
                        QString::fromStdString(study_)),
            "tests/data/sim-validation/study.sqlite is missing (make.sh there regenerates it)");
    }

    // Every predicted point of the stored study within its stored bound, none lost; the mean too.
    void storedStudyWithinBounds() {
        const Hardware hw = load_hardware(kData + "/hardware.json");
        const json bounds = read_json(kData + "/bounds.json");
        QVERIFY2(!bounds.is_discarded() && bounds.contains("points"), "bounds.json unreadable");
        ss::traces::TraceReader rd(study_);
        const ValidationReport rep = validate_runs(rd, hw);
        std::set<std::string> seen;
        double sum = 0;
        int n = 0;
        for (const auto& r : rep.rows) {
            if (r.fit || r.oversubscribed) continue;
            QVERIFY2(
                r.analytic_s > 0,
                qPrintable(QString::fromStdString("not predicted: " + r.run.name + " " + r.note)));
            const std::string key = r.run.name + " | " + r.layout;
            const double err = std::max(std::abs(r.analytic_err), std::abs(r.replay_err));
            qInfo(
                "%-40s measured %8.3f ms  analytic %8.3f ms (%+6.1f %%)  replay %8.3f ms (%+6.1f "
                "%%)",
                key.c_str(), r.measured_s * 1e3, r.analytic_s * 1e3, 100 * r.analytic_err,
                r.replay_s * 1e3, 100 * r.replay_err);
            QVERIFY2(bounds["points"].contains(key),
                     qPrintable(QString::fromStdString("no bound for " + key)));
            const double bound = bounds["points"][key]["bound"].get<double>();
            QVERIFY2(err <= bound,
                     qPrintable(QStringLiteral("%1: |error| %2 % exceeds its stored bound %3 %")
                                    .arg(QString::fromStdString(key))
                                    .arg(100 * err, 0, 'f', 2)
                                    .arg(100 * bound, 0, 'f', 2)));
            seen.insert(key);
            sum += err;
            ++n;
        }
        QCOMPARE(seen.size(),
                 bounds["points"].size());  // no point lost (a skipped point is no pass)
        QVERIFY(n >= 6);
        const double mean = sum / n;
        qInfo("mean |error| over %d points: %.2f %% (bound %.2f %%)", n, 100 * mean,
              100 * bounds["mean_bound"].get<double>());
        QVERIFY2(mean <= bounds["mean_bound"].get<double>(),
                 qPrintable(QString::number(100 * mean)));
    }

    // The block round-trips through the hardware file, and the band follows the layout's class.
    void bandFromTheBlock() {
        Hardware hw = load_hardware(kData + "/hardware.json");
        QVERIFY(!error_band(hw, 2, 1, 1).backed);
        QCOMPARE(QString::fromStdString(step_with_band(0.0123, error_band(hw, 2, 1, 1))),
                 QStringLiteral("step 12.3 ms (no validation backs this hardware file)"));
        HardwareValidation v;
        v.present = true;
        v.points = 6;
        v.mean_abs_err = 0.05;
        v.max_abs_err = 0.09;
        v.classes = {{"dp", 2, 0.03, 0.04}, {"tp", 2, 0.04, 0.05}, {"pp", 2, 0.08, 0.09}};
        v.points_oversubscribed = 1;
        v.mean_abs_err_oversubscribed = 0.3;
        v.statistic = "median";
        v.date = "2026-12-01T06:00:00Z";
        v.host = "h";
        v.study = "s.sqlite";
        hw.validation = v;
        const Hardware back = parse_hardware(to_json(hw), "round trip");
        QVERIFY(back.validation == v);
        QCOMPARE(QString::fromStdString(step_with_band(0.0123, error_band(back, 2, 1, 1))),
                 QStringLiteral("step 12.3 ms ± 3.0 % (held-out validation of 6 points, dp "
                                "layouts: 2, median of repeats, "
                                "2026-12-01)"));
        QCOMPARE(error_band(back, 1, 1, 2).rel, 0.08);
        const ErrorBand mixed = error_band(back, 2, 2, 1);  // no mixed point: all of them
        QVERIFY(mixed.backed && mixed.rel == 0.05 && mixed.scope == "all layouts");
        QCOMPARE(error_band(back, 4, 1, 1, /*oversubscribed=*/true).rel, 0.3);
        // A wrong block is named.
        json doc = to_json(hw);
        doc["validation"]["classes"]["zz"] = {{"points", 1}, {"mean_abs_error", 0.1}};
        try {
            parse_hardware(doc, "bad.json");
            QFAIL("a validation class zz was accepted");
        } catch (const HardwareError& e) {
            QVERIFY2(std::string(e.what()).find("validation.classes.zz") != std::string::npos,
                     e.what());
        }
    }

    // `simulate --validate --store-band` stores the band; `simulate` prints it with each
    // prediction, and says so when the file has none.
    void cliStoresAndPrintsTheBand() {
        const QString hwCopy = dir_.filePath(QStringLiteral("hw.json"));
        QFile::remove(hwCopy);
        QVERIFY(QFile::copy(QString::fromStdString(kData + "/hardware.json"), hwCopy));
        QFile(hwCopy).setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        const QString spec =
            QStringLiteral(SCALESCOPE_SOURCE_DIR "/bench/core/validation/mlp-large.json");
        QString out;
        QVERIFY2(cli({QStringLiteral("simulate"), spec, QStringLiteral("--hardware"), hwCopy,
                      QStringLiteral("--dp"), QStringLiteral("2")},
                     &out),
                 qPrintable(out));
        QVERIFY2(out.contains(QStringLiteral("(no validation backs this hardware file)")) &&
                     out.contains(QStringLiteral("--store-band")),
                 qPrintable(out));

        QVERIFY2(cli({QStringLiteral("simulate"), QStringLiteral("--validate"),
                      QString::fromStdString(study_), QStringLiteral("--hardware"), hwCopy,
                      QStringLiteral("--store-band")},
                     &out),
                 qPrintable(out));
        const Hardware hw = load_hardware(hwCopy.toStdString());
        QVERIFY(hw.validation.present);
        ss::traces::TraceReader rd(study_);
        const ValidationReport rep = validate_runs(rd, load_hardware(kData + "/hardware.json"));
        const HardwareValidation expect = summarize_validation(rep, "median", study_);
        QCOMPARE(hw.validation.points, expect.points);
        QCOMPARE(hw.validation.points, rep.predicted);
        QVERIFY(std::abs(hw.validation.mean_abs_err - expect.mean_abs_err) < 1e-12);
        QCOMPARE(hw.validation.classes.size(), expect.classes.size());
        QCOMPARE(QString::fromStdString(hw.validation.study), QString::fromStdString(study_));
        QCOMPARE(QString::fromStdString(hw.validation.statistic), QStringLiteral("median"));
        // Every other field of the file kept.
        const json before = read_json(kData + "/hardware.json");
        json after = read_json(hwCopy.toStdString());
        after.erase("validation");
        QVERIFY(before == after);

        QVERIFY2(cli({QStringLiteral("simulate"), spec, QStringLiteral("--hardware"), hwCopy,
                      QStringLiteral("--dp"), QStringLiteral("2"), QStringLiteral("--format"),
                      QStringLiteral("json")},
                     &out),
                 qPrintable(out));
        const json doc = json::parse(out.toStdString(), nullptr, false);
        QVERIFY2(doc.contains("error_band"), qPrintable(out));
        const ErrorBand dp = error_band(hw, 2, 1, 1);
        QVERIFY(dp.backed && dp.scope == "dp layouts");
        for (const auto& row : doc["error_band"]) {
            const std::string text = row["prediction"].get<std::string>();
            QVERIFY2(text.find(band_text(dp)) != std::string::npos, text.c_str());
            QVERIFY2(std::abs(row["band_pct"].get<double>() - 100 * dp.rel) < 1e-9, text.c_str());
        }
        // Into a trace file: refused, naming why.
        try {
            store_validation(study_, expect);
            QFAIL("a band was stored into a trace file");
        } catch (const HardwareError& e) {
            QVERIFY2(std::string(e.what()).find("not a trace file") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestSimValidation)
#include "tst_core_sim_validation.moc"

// The What-if page on a real recorded run (a single-rank MLP run under mpirun, with a calibration
// stored in the file): "Replay this run" re-times the recorded step, reshapes it when dp or the
// micro-batches differ from the recording, and refuses a tp/pp change with a message naming them.
// SCALESCOPE_TEST_SHOT_DIR=DIR saves the page after the reshaped replay as DIR/whatif-reshaped.png.
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "gui/app/mainwindow.h"
#include "gui/app/page.h"

using ss::gui::MainWindow;

class TestGuiWhatIf : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString file_;

    static bool cli(const QStringList& args) {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral(SCALESCOPE_CLI), args);
        if (!p.waitForFinished(180000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
            qWarning("scalescope-cli %s failed:\n%s", qPrintable(args.join(QLatin1Char(' '))), p.readAll().constData());
            return false;
        }
        return true;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_whatif"));
        const QString spec = dir_.filePath(QStringLiteral("mlp.json"));
        std::ofstream(spec.toStdString()) << R"({"name": "whatif", "model": {"kind": "mlp", "hidden": [128, 128]},
            "training": {"steps": 12, "global_batch": 64}, "trace": {"flush_interval_s": 10}})";
        file_ = dir_.filePath(QStringLiteral("w.sqlite"));
        QVERIFY(cli({QStringLiteral("run"), spec, QStringLiteral("-o"), file_, QStringLiteral("--quiet"),
                     QStringLiteral("--run-dir"), dir_.filePath(QStringLiteral("runs"))}));
        QVERIFY(cli({QStringLiteral("calibrate"), QStringLiteral("-o"), dir_.filePath(QStringLiteral("hw.json")),
                     QStringLiteral("--np"), QStringLiteral("2"), QStringLiteral("--sizes"), QStringLiteral("4K,64K"),
                     QStringLiteral("--iters"), QStringLiteral("5"), QStringLiteral("--trace"), file_,
                     QStringLiteral("--quiet")}));
    }

    void replayReshapesOrRefuses() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1280, 800);
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(file_);
        QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 30000));
        w.showPage(QStringLiteral("whatif"));
        w.show();
        QVERIFY(QTest::qWaitFor([&] { return w.page(QStringLiteral("whatif"))->isReady(); }, 30000));
        auto* dp = w.findChild<QSpinBox*>(QStringLiteral("whatifDp"));
        auto* tp = w.findChild<QSpinBox*>(QStringLiteral("whatifTp"));
        auto* replay = w.findChild<QPushButton*>(QStringLiteral("whatifReplay"));
        auto* result = w.findChild<QLabel*>(QStringLiteral("whatifReplayResult"));
        QVERIFY(dp && tp && replay && result);
        QCOMPARE(dp->value(), 1);  // the recorded layout

        // As recorded: the trace-driven replay of one step.
        replay->click();
        QVERIFY2(QTest::qWaitFor([&] { return result->text().contains(QStringLiteral("replayed")); }, 30000),
                 qPrintable(result->text()));

        // dp 2: reshaped, with the recorded and the predicted layouts named.
        dp->setValue(2);
        replay->click();
        QVERIFY2(QTest::qWaitFor([&] { return result->text().contains(QStringLiteral("reshaped")); }, 30000),
                 qPrintable(result->text()));
        QVERIFY2(result->text().contains(QStringLiteral("dp1 tp1 pp1 m1")) &&
                     result->text().contains(QStringLiteral("dp2 tp1 pp1 m1")),
                 qPrintable(result->text()));
        const QByteArray shots = qgetenv("SCALESCOPE_TEST_SHOT_DIR");
        QTest::qWait(300);  // let the layout give the wrapped label its height
        if (!shots.isEmpty()) QVERIFY(w.grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/whatif-reshaped.png")));

        // tp cannot change on a recorded run: said, nothing replayed.
        tp->setValue(2);
        replay->click();
        QVERIFY2(result->text().contains(QStringLiteral("own tp and pp")), qPrintable(result->text()));
    }
};

QTEST_MAIN(TestGuiWhatIf)
#include "tst_gui_whatif.moc"

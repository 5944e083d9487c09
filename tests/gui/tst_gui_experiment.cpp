// The Experiment page: live validation names the field and rule, the derived world size, the study
// plan; Launch runs a tiny real training job under mpirun (progress and the finished trace through
// QSignalSpy) and Cancel stops a long one, which is recorded as cancelled.
#include <QApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui/experiment/experimentpage.h"
#include "traces/reader.h"

using namespace ss::gui;

class ExperimentTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
#ifdef SCALESCOPE_WORKER_PATH
        qputenv("SCALESCOPE_WORKER", SCALESCOPE_WORKER_PATH);
#endif
    }

    void validFormHasNoMessages() {
        ExperimentForm f;  // gpt tiny, dp=tp=pp=1
        const FormCheck c = checkForm(f, false, {}, 1, false, true);
        QVERIFY2(c.ok(), c.errors.empty() ? "" : c.errors.front().message.c_str());
        QCOMPARE(c.world, 1);
        QVERIFY(c.params > 100000);  // gpt tiny: 134,912
    }

    void layoutRulesNameTheField() {
        ExperimentForm f;
        f.tp = 3;  // gpt tiny has 4 heads
        const FormCheck c = checkForm(f, false, {}, 1, false, true);
        QVERIFY(!c.ok());
        QCOMPARE(c.world, 3);
        bool found = false;
        for (const auto& e : c.errors) found = found || (e.field.rfind("parallel", 0) == 0 && e.message.find("tp=3") != std::string::npos);
        QVERIFY2(found, c.errors.front().message.c_str());
    }

    void pageShowsMessagesWorldAndCommand() {
        ExperimentPage page;
        ExperimentForm f;
        f.dp = 2;
        f.pp = 2;
        f.microBatches = 2;
        page.setForm(f);
        QVERIFY(page.validationMessages().isEmpty());
        QCOMPARE(page.check().world, 4);
        QVERIFY(page.canLaunch());
        const QString cmd = page.commandText();
        QVERIFY2(cmd.contains(QStringLiteral("-np 4")) && cmd.contains(QStringLiteral("scalescope-worker")), qPrintable(cmd));
        f.tp = 3;
        page.setForm(f);
        QVERIFY(!page.validationMessages().isEmpty());
        QVERIFY(page.validationMessages().join(QLatin1Char('\n')).contains(QStringLiteral("tp=3")));
        QVERIFY(!page.canLaunch());
        QCOMPARE(page.check().world, 12);
    }

    void studyPlan() {
        ExperimentPage page;
        page.setForm(ExperimentForm{});
        page.setStudy(true, {QStringLiteral("dp=1,2,4")}, 2);
        QVERIFY(page.check().ok());
        QCOMPARE(page.check().studyPoints.size(), 6);  // 3 values x 2 repeats
        page.setStudy(true, {QStringLiteral("dp")});
        QVERIFY(!page.check().studyError.isEmpty());
        QVERIFY(!page.canLaunch());
        page.setStudy(false, {});
        QVERIFY(page.canLaunch());
    }

    void launchTinyRun() {
        ExperimentPage page;
        ExperimentForm f;
        f.name = "gui-test";
        f.steps = 3;
        f.globalBatch = 4;
        page.setForm(f);
        const QString out = dir_.filePath(QStringLiteral("launch.sqlite"));
        page.setOutput(out, dir_.filePath(QStringLiteral("run1")));
        QVERIFY(page.canLaunch());
        QSignalSpy started(&page, &ExperimentPage::launchStarted);
        QSignalSpy progress(&page, &ExperimentPage::progressed);
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        QSignalSpy open(&page, &Page::openRequested);
        page.launch();
        QCOMPARE(started.count(), 1);
        QVERIFY(page.isRunning());
        QVERIFY(!page.canLaunch());
        QVERIFY(finished.wait(240000));
        QCOMPARE(finished.first().at(0).toInt(), static_cast<int>(ss::traces::RunStatus::Completed));
        QCOMPARE(progress.count(), 3);  // steps 0, 1, 2
        QCOMPARE(progress.last().at(0).toLongLong(), 2LL);
        QVERIFY(progress.last().at(1).toDouble() > 0);
        QCOMPARE(open.count(), 1);
        ss::traces::TraceReader rd(out.toStdString());
        const auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, ss::traces::RunStatus::Completed);
        QVERIFY(runs[0].event_count > 0);
        QVERIFY(page.canLaunch());
    }

    void cancelLongRun() {
        ExperimentPage page;
        ExperimentForm f;
        f.name = "gui-cancel";
        f.steps = 100000;
        f.globalBatch = 4;
        page.setForm(f);
        const QString out = dir_.filePath(QStringLiteral("cancel.sqlite"));
        page.setOutput(out, dir_.filePath(QStringLiteral("run2")));
        QSignalSpy progress(&page, &ExperimentPage::progressed);
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        page.launch();
        QVERIFY(progress.wait(120000));  // it is training
        page.cancel();
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.first().at(0).toInt(), static_cast<int>(ss::traces::RunStatus::Cancelled));
        QVERIFY(progress.last().at(0).toLongLong() < 100000 - 1);
        ss::traces::TraceReader rd(out.toStdString());
        QCOMPARE(rd.runs().at(0).status, ss::traces::RunStatus::Cancelled);
    }
};

QTEST_MAIN(ExperimentTest)
#include "tst_gui_experiment.moc"

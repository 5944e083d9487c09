// A new user's walk through the application, driven through its widgets in one window: launch a
// run, launch a second one from the same form, run a study, switch runs on the Timeline with an op
// selected, change What-if knobs after a replay, and resize the window to 1024x700 where every
// page must fit without scrolling across. Each step is asserted and saved as a screenshot in
// $SCALESCOPE_WALK_SHOTS (a temporary folder when unset); docs/screenshots/walk-*.png were taken
// with it under Xvfb:
//
//   SCALESCOPE_WALK_SHOTS=docs/screenshots xvfb-run -a build/release/tests/gui/tst_gui_walk
#include <QApplication>
#include <QDir>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>

#include "gui/app/mainwindow.h"
#include "gui/app/page.h"
#include "gui/experiment/experimentpage.h"
#include "gui/timeline/timelinepage.h"
#include "gui/timeline/timelineview.h"
#include "traces/reader.h"

using namespace ss::gui;
using ss::traces::RunStatus;

class WalkTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString shots_;
    QString trace_;
    std::unique_ptr<MainWindow> w_;
    int shot_ = 0;

    void shoot(const QString& what) {
        QApplication::processEvents();
        const QString path = QDir(shots_).filePath(QStringLiteral("walk-%1-%2.png").arg(++shot_, 2, 10, QLatin1Char('0')).arg(what));
        QVERIFY2(w_->grab().save(path), qPrintable(path));
        qInfo("screenshot %s", qPrintable(path));
    }

    ExperimentPage* experiment() const { return qobject_cast<ExperimentPage*>(w_->page(QStringLiteral("experiment"))); }

    // Launches what the Experiment page holds and waits until the trace it wrote is open again.
    void launchAndOpen(int timeoutMs) {
        ExperimentPage* exp = experiment();
        QVERIFY2(exp->canLaunch(), qPrintable(exp->validationMessages().join(QLatin1Char('\n'))));
        QSignalSpy finished(exp, &ExperimentPage::launchFinished);
        QSignalSpy opened(w_.get(), &MainWindow::documentOpened);
        exp->launch();
        QVERIFY(exp->isRunning());
        QVERIFY(finished.wait(timeoutMs));
        QVERIFY2(finished.first().at(0).toInt() == static_cast<int>(RunStatus::Completed),
                 qPrintable(finished.first().at(1).toString()));
        QVERIFY(opened.count() > 0 || opened.wait(60000));
    }

    // The document list's run #id of the trace.
    Selection runSelection(std::int64_t id) const {
        Selection s;
        for (const DocumentPtr& d : w_->documents()->documents())
            if (d->path() == QFileInfo(trace_).absoluteFilePath()) s.doc = d;
        s.run = ss::traces::RunId(id);
        return s;
    }

    static QScrollArea* scrollOf(QWidget* page) {
        for (QWidget* p = page->parentWidget(); p; p = p->parentWidget())
            if (auto* s = qobject_cast<QScrollArea*>(p)) return s;
        return nullptr;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_walk"));
#ifdef SCALESCOPE_WORKER_PATH
        qputenv("SCALESCOPE_WORKER", SCALESCOPE_WORKER_PATH);
#endif
        shots_ = qEnvironmentVariable("SCALESCOPE_WALK_SHOTS", dir_.filePath(QStringLiteral("shots")));
        QVERIFY(QDir().mkpath(shots_));
        trace_ = dir_.filePath(QStringLiteral("walk.sqlite"));
        w_ = std::make_unique<MainWindow>();
        w_->setInteractiveErrors(false);
        w_->resize(1280, 800);
        w_->show();
        QVERIFY(QTest::qWaitForWindowExposed(w_.get()));
    }

    // Two launches in a row from the same form: both complete, each in a fresh run folder, and
    // the window shows the newest run.
    void launchTwice() {
        QVERIFY(w_->showPage(QStringLiteral("experiment")));
        ExperimentForm f;
        f.name = "walk";
        f.steps = 6;
        f.globalBatch = 8;
        experiment()->setForm(f);
        experiment()->setOutput(trace_);
        launchAndOpen(240000);
        shoot(QStringLiteral("first-launch"));
        f.dp = 2;  // the second run: data-parallel, so the Timeline has collectives
        experiment()->setForm(f);
        launchAndOpen(240000);
        shoot(QStringLiteral("second-launch"));
        const QStringList folders = QDir(experiment()->runsFolder()).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(folders, (QStringList{QStringLiteral("001-walk"), QStringLiteral("002-walk")}));
        ss::traces::TraceReader rd(trace_.toStdString());
        QCOMPARE(rd.runs().size(), size_t(2));
        QVERIFY2(w_->statusHeadline().startsWith(QStringLiteral("Run #2 ")), qPrintable(w_->statusHeadline()));
    }

    void runAStudy() {
        ExperimentForm f;
        f.name = "walk-study";
        f.steps = 6;
        f.globalBatch = 8;
        experiment()->setForm(f);
        experiment()->setStudy(true, {QStringLiteral("dp=1,2")});
        QVERIFY2(experiment()->commandText().count(QStringLiteral("mpirun")) >= 2, qPrintable(experiment()->commandText()));
        launchAndOpen(480000);
        // The window shows what the launch wrote: the new study.
        QVERIFY2(w_->statusHeadline().startsWith(QStringLiteral("Study #1 ")), qPrintable(w_->statusHeadline()));
        shoot(QStringLiteral("study-launched"));
        ss::traces::TraceReader rd(trace_.toStdString());
        QCOMPARE(rd.runs().size(), size_t(4));
        QCOMPARE(rd.studies().size(), size_t(1));
        experiment()->setStudy(false, {});
        // The study on the Scaling page.
        Selection s = runSelection(0);
        s.run = {};
        s.study = rd.studies().front().id;
        w_->select(s);
        QVERIFY2(w_->statusHeadline().startsWith(QStringLiteral("Study #%1 ").arg(s.study.value)),
                 qPrintable(w_->statusHeadline()));
        QVERIFY(w_->showPage(QStringLiteral("scaling")));
        Page* scaling = w_->page(QStringLiteral("scaling"));
        QVERIFY(QTest::qWaitFor([&] { return scaling->isReady(); }, 60000));
        shoot(QStringLiteral("study-scaling"));
    }

    // An op selected in run 2 leaves the details pane when run 1 is selected.
    void switchRunsOnTheTimeline() {
        w_->select(runSelection(2));
        QVERIFY(w_->showPage(QStringLiteral("timeline")));
        auto* page = qobject_cast<TimelinePage*>(w_->page(QStringLiteral("timeline")));
        QVERIFY(QTest::qWaitFor([&] { return page->isReady() && page->view()->drawList() != nullptr; }, 60000));
        auto* details = page->findChild<QTextBrowser*>(QStringLiteral("timelineDetails"));
        QVERIFY(details);
        TimelineView* v = page->view();
        bool picked = false;
        for (int x = v->width() / 3; x < v->width() && !picked; x += 7)
            for (int y = 0; y < v->height() && !picked; y += 3) picked = v->selectAt(x, y) && v->selected();
        QVERIFY2(picked, "no op found to select on run 2");
        QVERIFY(!details->toPlainText().isEmpty());
        shoot(QStringLiteral("timeline-run2-op"));
        w_->select(runSelection(1));
        QVERIFY(QTest::qWaitFor([&] { return page->isReady(); }, 60000));
        QVERIFY2(details->toPlainText().isEmpty(), qPrintable(details->toPlainText()));
        shoot(QStringLiteral("timeline-run1"));
    }

    // A replay of run 2, then a knob change: the replay text says it is out of date.
    void whatIfKnobsAfterAReplay() {
        w_->select(runSelection(2));
        QVERIFY(w_->showPage(QStringLiteral("whatif")));
        Page* page = w_->page(QStringLiteral("whatif"));
        auto* replay = page->findChild<QPushButton*>(QStringLiteral("whatifReplay"));
        auto* result = page->findChild<QLabel*>(QStringLiteral("whatifReplayResult"));
        auto* dp = page->findChild<QSpinBox*>(QStringLiteral("whatifDp"));
        QVERIFY(replay && result && dp);
        QVERIFY(QTest::qWaitFor([&] { return page->isReady() && replay->isEnabled(); }, 60000));
        replay->click();
        QVERIFY(QTest::qWaitFor([&] { return !result->text().isEmpty() && page->isReady(); }, 60000));
        QVERIFY2(!result->text().contains(QStringLiteral("Out of date")), qPrintable(result->text()));
        shoot(QStringLiteral("whatif-replayed"));
        dp->setValue(dp->value() == 1 ? 2 : 1);
        QVERIFY(QTest::qWaitFor([&] { return result->text().contains(QStringLiteral("Out of date")); }, 10000));
        shoot(QStringLiteral("whatif-knob-changed"));
    }

    // At 1024x700 no page scrolls across.
    void everyPageFitsAt1024x700() {
        w_->resize(1024, 700);
        QVERIFY(QTest::qWaitFor([&] { return w_->width() == 1024 && w_->height() == 700; }, 5000));
        w_->select(runSelection(2));
        for (const QString& id : w_->pageIds()) {
            QVERIFY(w_->showPage(id));
            Page* page = w_->page(id);
            QVERIFY(QTest::qWaitFor([&] { return page->isReady(); }, 60000));
            QApplication::processEvents();
            QScrollArea* scroll = scrollOf(page);
            QVERIFY(scroll);
            QVERIFY2(scroll->horizontalScrollBar()->maximum() == 0,
                     qPrintable(QStringLiteral("%1 scrolls %2 px across at 1024x700 (needs %3 px, has %4)")
                                    .arg(id)
                                    .arg(scroll->horizontalScrollBar()->maximum())
                                    .arg(page->minimumSizeHint().width())
                                    .arg(scroll->viewport()->width())));
            shoot(QStringLiteral("1024x700-") + id);
        }
    }

    void cleanupTestCase() { w_.reset(); }
};

QTEST_MAIN(WalkTest)
#include "tst_gui_walk.moc"

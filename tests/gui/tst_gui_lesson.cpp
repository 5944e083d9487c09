// The lesson view (gui/learn/lessonview) and presenter mode (gui/app/theme, mainwindow): keyboard
// navigation between the five steps (Left/Right, PageUp/PageDown; Look and Answer only with a
// result), the revealed answer with the measured numbers and the prediction compared, the chart of
// the result, and the presenter toggle (F5 on, Esc off: fonts 1.6x, the high-contrast palette,
// the side panel hidden and back, Okabe-Ito series colours and thick lines on charts).
// SCALESCOPE_LESSON_SHOTS=DIR saves presenter.png and lesson.png there (from the lesson study in
// $SCALESCOPE_LESSON_TRACE, a file `scalescope-cli lesson` wrote, else from a synthetic study).
#include <QAction>
#include <QApplication>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QFileInfo>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedBarSeries>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "core/teach/lesson.h"
#include "gui/app/mainwindow.h"
#include "gui/app/page.h"
#include "gui/app/theme.h"
#include "gui/learn/lessonview.h"
#include "tests/core/tst_core_analysis_fixture.h"

using namespace ss;
using namespace ss::gui;

namespace {

core::Lesson dpLesson() {
    return core::load_lesson(SCALESCOPE_SOURCE_DIR "/examples/lessons/01-dp-efficiency.json",
                             false);
}

// The lesson's study as `scalescope-cli lesson` records it, with hand-made runs: dp=1 steps of
// 100 ms (a 90 ms kernel), dp=2 steps of 60 ms (a 40 ms kernel, a 20 ms all-reduce).
std::string writeDpStudy(const QTemporaryDir& dir) {
    using namespace ss::traces;
    const std::string file = dir.filePath(QStringLiteral("lesson.sqlite")).toStdString();
    const std::string spec =
        R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":256}})";
    auto steps = [](std::int64_t ms, bool comm) {
        std::string s;
        for (int i = 0; i < 4; ++i) {
            auto at = [&](std::int64_t x) { return std::to_string((i * ms + x) * 1000000); };
            s += "step step " + at(0) + " " + at(ms) + " lane=0 step=" + std::to_string(i) + "\n";
            s += "kernel fwd " + at(0) + " " + at(comm ? 40 : 90) + " lane=2\n";
            if (comm)
                s += "comm all_reduce " + at(40) + " " + at(60) +
                     " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=1024 seq=" +
                     std::to_string(i) + "\n";
        }
        return s;
    };
    TraceWriter w(file);
    const StudyId sid =
        w.add_study(StudyInfo{StudyId(), "lesson dp-efficiency", "parallel.dp", "strong"});
    const RunId r1 = afx::write_run(w, afx::info("p1", 1, spec), {{0, steps(100, false)}});
    const RunId r2 =
        afx::write_run(w, afx::info("p2", 2, spec), {{0, steps(60, true)}, {1, steps(60, true)}});
    w.add_study_run(StudyRun{sid, r1, "1", 1, 0});
    w.add_study_run(StudyRun{sid, r2, "2", 2, 0});
    return file;
}

core::LessonResult resultFrom(const std::string& file, const core::Lesson& l) {
    traces::TraceReader rd(file);
    const traces::StudyId sid = core::find_lesson_study(rd, l);
    if (!sid.valid()) throw std::runtime_error(file + " holds no study of lesson " + l.id);
    return core::lesson_result_from_study(rd, l, sid);
}

}  // namespace

class TestGuiLesson : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        applyTheme(*qApp, ThemeKind::Light, 1.0);
    }

    void recordedStudyGivesTheResult() {
        const core::Lesson l = dpLesson();
        const core::LessonResult r = resultFrom(writeDpStudy(dir_), l);
        QVERIFY(r.complete());
        QCOMPARE(r.points.size(), size_t(2));
        QCOMPARE(core::placeholder_value(r, "step_ms.2"), 60.0);
        QVERIFY(std::fabs(core::placeholder_value(r, "efficiency_pct.2") - 100.0 * 100 / 60 / 2) <
                1e-6);
    }

    void keyboardNavigation() {
        LessonView v(dpLesson());
        v.resize(1000, 700);
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        v.setFocus();
        QCOMPARE(v.step(), int(LessonView::Question));
        QTest::keyClick(&v, Qt::Key_Right);
        QCOMPARE(v.step(), int(LessonView::Predict));
        QTest::keyClick(&v, Qt::Key_PageDown);  // a clicker
        QCOMPARE(v.step(), int(LessonView::Run));
        QTest::keyClick(&v, Qt::Key_PageDown);  // no result yet: Look stays closed
        QCOMPARE(v.step(), int(LessonView::Run));
        QVERIFY(!v.findChild<QPushButton*>(QStringLiteral("lessonNext"))->isEnabled());
        QTest::keyClick(&v, Qt::Key_Left);
        QCOMPARE(v.step(), int(LessonView::Predict));
        QTest::keyClick(&v, Qt::Key_PageUp);
        QCOMPARE(v.step(), int(LessonView::Question));
        QTest::keyClick(&v, Qt::Key_PageUp);  // the first step stays
        QCOMPARE(v.step(), int(LessonView::Question));

        // With a result (the participant predicted "Between 60 and 90 %"): Look, then Answer.
        v.setPrediction(1, NAN);
        QCOMPARE(v.predictedChoice(), 1);
        v.setResult(resultFrom(writeDpStudy(dir_), v.lesson()));
        v.setStep(LessonView::Run);
        v.setFocus();
        QTest::keyClick(&v, Qt::Key_PageDown);
        QCOMPARE(v.step(), int(LessonView::Look));
        QVERIFY2(v.lookText().contains(QStringLiteral("20 ms per step")), qPrintable(v.lookText()));
        auto* bars = qobject_cast<QStackedBarSeries*>(v.chartView()->chart()->series().value(0));
        QVERIFY(bars);
        QCOMPARE(bars->count(), 3);  // compute, communication, other (no bubble, no idle)
        QCOMPARE(bars->barSets()[0]->label(), QStringLiteral("compute"));
        QCOMPARE(bars->barSets()[0]->at(0), 90.0);
        QCOMPARE(bars->barSets()[0]->at(1), 40.0);
        QCOMPARE(bars->barSets()[1]->at(1), 20.0);
        QCOMPARE(bars->barSets()[0]->color(), partColor(QStringLiteral("compute")));
        QTest::keyClick(&v, Qt::Key_Right);
        QCOMPARE(v.step(), int(LessonView::Answer));
        QVERIFY2(v.answerText().contains(QStringLiteral("100 ms on 1 rank and 60 ms on 2")),
                 qPrintable(v.answerText()));
        QVERIFY2(v.answerText().contains(QStringLiteral("an efficiency of 83.3 %")),
                 qPrintable(v.answerText()));
        QCOMPARE(v.verdictText(), QStringLiteral("You predicted \"Between 60 and 90 %\". Measured "
                                                 "83.3 %: \"Between 60 and 90 %\". Right."));
        QTest::keyClick(&v, Qt::Key_PageDown);  // the last step stays
        QCOMPARE(v.step(), int(LessonView::Answer));
    }

    // The Run step for real: a one-point lesson under mpirun through the job machinery, its
    // progress and elapsed time, then Look and Answer open with the measured numbers.
    void runsALesson() {
#ifndef SCALESCOPE_WORKER_PATH
        QSKIP("built without the worker");
#else
        qputenv("SCALESCOPE_WORKER", SCALESCOPE_WORKER_PATH);
        qputenv("OMPI_ALLOW_RUN_AS_ROOT", "1");
        qputenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        nlohmann::json doc = nlohmann::json::parse(R"({
          "id": "tiny", "title": "Tiny", "question": "How long is a step?",
          "predict": {"prompt": "Step time in ms?", "compare": "step_ms.1", "unit": "ms"},
          "experiment": {"spec": {"name": "tiny", "model": {"kind": "mlp", "hidden": [32]},
                                  "training": {"steps": 4, "global_batch": 32}}},
          "look": "A step took {step_ms.1} ms.", "answer": "It took {step_ms.1} ms ({compute_pct.1} % compute)."
        })");
        LessonView v(core::parse_lesson(doc, "tiny.json"));
        v.setOutputDir(dir_.filePath(QStringLiteral("tiny")));
        v.resize(1000, 700);
        v.show();
        QVERIFY(v.setStep(LessonView::Run));
        QSignalSpy done(&v, &LessonView::finished);
        v.start();
        QVERIFY(v.running());
        QVERIFY(done.wait(120000));
        QVERIFY(!v.running());
        QVERIFY2(v.hasResult(),
                 qPrintable(v.findChild<QLabel*>(QStringLiteral("lessonElapsed"))->text()));
        QVERIFY(QFileInfo::exists(done.at(0).at(0).toString()));
        QVERIFY(v.findChild<QLabel*>(QStringLiteral("lessonElapsed"))
                    ->text()
                    .endsWith(QStringLiteral(" s")));
        QVERIFY(v.next());
        QCOMPARE(v.step(), int(LessonView::Look));
        QVERIFY2(v.lookText().startsWith(QStringLiteral("A step took ")) &&
                     !v.lookText().contains(QLatin1Char('{')),
                 qPrintable(v.lookText()));
        QVERIFY(std::isfinite(core::placeholder_value(*v.result(), "step_ms.1")));
#endif
    }

    void presenterToggle() {
        MainWindow w;
        w.resize(1280, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const double before = QApplication::font().pointSizeF();
        const QColor windowBefore = QApplication::palette().color(QPalette::Window);
        QVERIFY(w.sidePanel()->isVisible());
        QVERIFY(!w.presenterMode());
        // A lesson on the current page (as the Learn page holds them).
        auto* lesson = new LessonView(dpLesson(), w.currentPage());
        lesson->show();
        auto* title = lesson->findChild<QLabel*>(QStringLiteral("lessonTitle"));
        const double titleBefore = title->font().pointSizeF();
        QTest::keyClick(&w,
                        Qt::Key_PageDown);  // outside presenter mode the window does not step it
        QCOMPARE(lesson->step(), int(LessonView::Question));
        QTest::keyClick(&w, Qt::Key_F5);
        QVERIFY(w.presenterMode());
        QVERIFY(w.presenterAction()->isChecked());
        QVERIFY2(
            QApplication::font().pointSizeF() >= 1.6 * before - 1e-9,
            qPrintable(
                QStringLiteral("%1 -> %2").arg(before).arg(QApplication::font().pointSizeF())));
        QCOMPARE(QApplication::palette().color(QPalette::Window), QColor(Qt::white));
        QCOMPARE(QApplication::palette().color(QPalette::WindowText), QColor(Qt::black));
        QVERIFY(QApplication::palette().color(QPalette::Window) != windowBefore);
        QVERIFY(!w.sidePanel()->isVisible());
        QCOMPARE(seriesLineWidth(), kPresenterLineWidth);
        QCOMPARE(seriesColor(0), QColor(0x00, 0x72, 0xB2));  // Okabe-Ito blue
        QVERIFY2(title->font().pointSizeF() >= 1.6 * titleBefore - 1e-9,
                 qPrintable(
                     QStringLiteral("%1 -> %2").arg(titleBefore).arg(title->font().pointSizeF())));
        // A clicker's PageDown / PageUp step the lesson on screen, wherever the focus is.
        w.sidePanel()->setFocus();
        QTest::keyClick(&w, Qt::Key_PageDown);
        QCOMPARE(lesson->step(), int(LessonView::Predict));
        QTest::keyClick(&w, Qt::Key_PageDown);
        QCOMPARE(lesson->step(), int(LessonView::Run));
        QTest::keyClick(&w, Qt::Key_PageUp);
        QCOMPARE(lesson->step(), int(LessonView::Predict));
        QTest::keyClick(&w, Qt::Key_Escape);
        QVERIFY(!w.presenterMode());
        QCOMPARE(QApplication::font().pointSizeF(), before);
        QCOMPARE(QApplication::palette().color(QPalette::Window), windowBefore);
        QVERIFY(w.sidePanel()->isVisible());
        QCOMPARE(seriesLineWidth(), kNormalLineWidth);
        QCOMPARE(title->font().pointSizeF(), titleBefore);
        // Esc does nothing more outside the mode (its action is disabled).
        QVERIFY(!w.findChild<QAction*>(QStringLiteral("actionPresenterOff"))->isEnabled());
    }

    void chartsFollowTheMode() {
        QChart chart;
        auto* law = new QLineSeries;
        law->setPen(QPen(QColor(0xd0, 0x30, 0x30), 1.5));
        auto* ideal = new QLineSeries;
        ideal->setPen(QPen(QColor(0x80, 0x86, 0x8e), 1.5, Qt::DashLine));
        chart.addSeries(law);
        chart.addSeries(ideal);
        setPresenter(*qApp, true);
        stylePresenterChart(&chart);
        QCOMPARE(law->pen().widthF(), kPresenterLineWidth);
        QCOMPARE(law->pen().color(), seriesColor(0));
        QCOMPARE(ideal->pen().color(), QColor(0x80, 0x86, 0x8e));  // grey stays grey
        QCOMPARE(ideal->pen().style(), Qt::DashLine);
        QVERIFY(chart.titleFont().bold());
        setPresenter(*qApp, false);
        stylePresenterChart(&chart);
        QCOMPARE(law->pen().widthF(), 1.5);  // the chart's own width and colour are back
        QCOMPARE(law->pen().color(), QColor(0xd0, 0x30, 0x30));
    }

    void screenshots() {
        const QString shots = qEnvironmentVariable("SCALESCOPE_LESSON_SHOTS");
        if (shots.isEmpty()) QSKIP("SCALESCOPE_LESSON_SHOTS not set");
        const core::Lesson l = dpLesson();
        const QString real = qEnvironmentVariable("SCALESCOPE_LESSON_TRACE");
        const core::LessonResult r =
            resultFrom(real.isEmpty() ? writeDpStudy(dir_) : real.toStdString(), l);
        {
            LessonView v(l);
            v.resize(1280, 800);
            v.show();
            QVERIFY(QTest::qWaitForWindowExposed(&v));
            v.setPrediction(1, NAN);
            for (int step : {LessonView::Question, LessonView::Predict,
                             LessonView::Run}) {  // looked at, not committed
                QVERIFY(v.setStep(step));
                QTest::qWait(50);
                QVERIFY(v.grab().save(shots + QStringLiteral("/lesson-step%1.png").arg(step + 1)));
            }
            v.setResult(r);
            QVERIFY(v.setStep(LessonView::Answer));
            QTest::qWait(100);
            QVERIFY(v.grab().save(shots + QStringLiteral("/lesson.png")));
        }
        setPresenter(*qApp, true);
        {
            LessonView v(l);
            v.resize(1280, 800);
            v.show();
            QVERIFY(QTest::qWaitForWindowExposed(&v));
            v.setResult(r);
            QVERIFY(v.setStep(LessonView::Look));
            QTest::qWait(100);
            QVERIFY(v.grab().save(shots + QStringLiteral("/presenter.png")));
        }
        setPresenter(*qApp, false);
    }
};

QTEST_MAIN(TestGuiLesson)
#include "tst_gui_lesson.moc"

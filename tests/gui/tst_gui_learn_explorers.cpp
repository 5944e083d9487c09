// The Learn page's pipeline and splits explorers (issue 19): what they show is core/teach's numbers
// (the drawn bubble and the formula, the recorded run's boxes, bytes per rank), boxes are drawn to
// scale, errors are said, the open run's spec is offered. With SCALESCOPE_LEARN_SHOTS=DIR the test
// also writes DIR/learn-pipeline.png and DIR/learn-splits.png (1180×780; the recorded chart from
// $SCALESCOPE_LEARN_TRACE when set, else from the synthetic run below).
#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>
#include <sstream>

#include "gui/app/documents.h"
#include "gui/app/theme.h"
#include "gui/common/tablepanel.h"
#include "gui/learn/pipelineexplorer.h"
#include "gui/learn/splitsexplorer.h"
#include "tests/traces/trace_fixture.h"
#include "traces/lanes.h"
#include "traces/writer.h"

using namespace ss;
using namespace ss::gui;
using core::teach::PipelineKind;

namespace {

std::string line(const char* kind, const char* name, long long from_us, long long to_us,
                 const std::string& keys) {
    return std::string(kind) + " " + name + " " + std::to_string(from_us * 1000) + " " +
           std::to_string(to_us * 1000) + " " + keys + "\n";
}

// A 2-stage GPipe run of 2 micro-batches, two steps (f = 10 µs, b = 20 µs), its spec a gpt-tiny.
std::string writePipelineRun(const QTemporaryDir& dir) {
    using namespace ss::traces;
    const std::string path = dir.filePath(QStringLiteral("pp.sqlite")).toStdString();
    TraceWriter w(path);
    RunInfo ri;
    ri.name = "pp2";
    ri.model = "gpt-tiny";
    ri.world_size = 2;
    ri.pp = 2;
    ri.micro_batches = 2;
    ri.schedule = "gpipe";
    ri.spec_json =
        R"({"model": {"kind": "gpt", "preset": "tiny"}, "parallel": {"pp": 2, "micro_batches": 2, "schedule": "gpipe"}})";
    const RunId run = w.begin_run(ri);
    std::string text[2];
    for (int r = 0; r < 2; ++r) {
        RankInfo k;
        k.run = run;
        k.rank = r;
        k.pp_coord = r;
        k.clock_corrected = true;
        w.put_rank(k);
        for (std::int32_t l : {lanes::kSteps, lanes::kPhases, lanes::kComm})
            w.define_lane(run, r, l, lanes::name(l));
    }
    for (int step = 0; step < 2; ++step) {
        const long long t = step * 200;
        const std::string s = " step=" + std::to_string(step);
        for (int r = 0; r < 2; ++r) text[r] += line("step", "step", t, t + 100, "lane=0" + s);
        // GPipe: stage 0 F0 [0,10] F1 [10,20] B0 [60,80] B1 [80,100]; stage 1 F0 [10,20] F1 [20,30]
        // B0 [30,50] B1 [50,70].
        text[0] += line("phase", "forward", t, t + 10, "lane=1 mb=0" + s);
        text[0] += line("phase", "forward", t + 10, t + 20, "lane=1 mb=1" + s);
        text[0] += line("phase", "backward", t + 20, t + 80, "lane=1 mb=0" + s);
        text[0] += line("comm", "recv", t + 20, t + 60, "lane=3 coll=recv group=pp mb=0" + s);
        text[0] += line("phase", "backward", t + 80, t + 100, "lane=1 mb=1" + s);
        text[1] += line("phase", "forward", t, t + 20, "lane=1 mb=0" + s);
        text[1] += line("comm", "recv", t, t + 10, "lane=3 coll=recv group=pp mb=0" + s);
        text[1] += line("phase", "forward", t + 20, t + 30, "lane=1 mb=1" + s);
        text[1] += line("phase", "backward", t + 30, t + 50, "lane=1 mb=0" + s);
        text[1] += line("phase", "backward", t + 50, t + 70, "lane=1 mb=1" + s);
    }
    for (int r = 0; r < 2; ++r) {
        std::istringstream in(text[r]);
        std::string l;
        while (std::getline(in, l)) w.add_event(fixture::parse_event(w, run, r, l));
    }
    w.finish_run(run, RunStatus::Completed, "", 400000);
    return path;
}

Selection openFirstRun(const std::string& path) {
    auto doc = std::make_shared<const Document>(loadDocument(QString::fromStdString(path)));
    Selection s;
    s.doc = doc;
    s.run = doc->data().runs.front().info.id;
    return s;
}

void shoot(QWidget& w, const char* name) {
    const QByteArray dir = qgetenv("SCALESCOPE_LEARN_SHOTS");
    if (dir.isEmpty()) return;
    const QString path = QString::fromUtf8(dir) + QLatin1Char('/') + QLatin1String(name);
    QVERIFY2(w.grab().save(path), qPrintable(path));
    qInfo("wrote %s", qPrintable(path));
}

}  // namespace

class TestGuiLearnExplorers : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void drawnScheduleAndBubble() {
        PipelineExplorer e;
        e.resize(1000, 760);
        e.show();
        QVERIFY(QTest::qWaitForWindowExposed(&e));
        e.setSchedule(PipelineKind::GPipe, 4, 8, 2, 2.0);
        const auto& g = e.scheduleView()->gantt();
        QCOMPARE(g.stages, 4);
        QCOMPARE(g.boxes.size(), std::size_t(2 * 4 * 8));
        QCOMPARE(g.bubble_fraction(), 3.0 / 11);
        QVERIFY2(e.bubbleText().contains(QStringLiteral("27.3 %")) &&
                     e.bubbleText().contains(QStringLiteral("3/11")) &&
                     e.bubbleText().contains(QStringLiteral("the same")),
                 qPrintable(e.bubbleText()));
        // Drawn to scale: a backward box twice as wide as a forward box, rows in stage order.
        const QRectF f = e.scheduleView()->boxRect(0), b = e.scheduleView()->boxRect(8);
        QVERIFY(g.boxes[0].forward && !g.boxes[8].forward);
        QVERIFY(std::abs(b.width() - 2 * f.width()) < 1.0);
        QVERIFY(e.scheduleView()->boxRect(16).top() > f.bottom());
        // Interleaved: the simulator's formula, and Megatron's rule said in words.
        e.setSchedule(PipelineKind::Interleaved, 4, 8, 2, 2.0);
        QVERIFY2(e.bubbleText().contains(QStringLiteral("3/19")), qPrintable(e.bubbleText()));
        QCOMPARE(e.scheduleView()->gantt().chunks, 2);
        e.setSchedule(PipelineKind::Interleaved, 4, 6, 2, 2.0);
        QVERIFY2(e.bubbleText().contains(QStringLiteral("multiple")), qPrintable(e.bubbleText()));
        QCOMPARE(e.scheduleView()->gantt().stages, 0);
        // Fits the Learn page's right side in a 1024×700 window (side panel and entry list beside
        // it).
        QVERIFY2(e.minimumSizeHint().width() <= 600,
                 qPrintable(QString::number(e.minimumSizeHint().width())));
        QVERIFY2(e.minimumSizeHint().height() <= 600,
                 qPrintable(QString::number(e.minimumSizeHint().height())));
    }

    void recordedRun() {
        PipelineExplorer e;
        QVERIFY(e.recordedText().contains(QStringLiteral("examples/gpt-tiny-tp2pp2.json")));
        QSignalSpy ready(&e, &PipelineExplorer::readyChanged);
        e.setSelection(openFirstRun(writePipelineRun(dir_)));
        QTRY_VERIFY_WITH_TIMEOUT(e.isReady(), 10000);
        const auto& g = e.recordedView()->gantt();
        QCOMPARE(g.stages, 2);
        QCOMPARE(g.boxes.size(), std::size_t(8));
        // Step 0 drawn (no warm-up among 2 equal steps): busy 60 + 60 µs of 2 × 100 µs.
        QVERIFY(std::abs(g.span() - 0.1) < 1e-9);
        QVERIFY(std::abs(g.bubble_fraction() - 0.4) < 1e-9);
        QVERIFY2(e.recordedText().contains(QStringLiteral("Measured bubble 40.0 %")) &&
                     e.recordedText().contains(QStringLiteral("GPipe")) &&
                     e.recordedText().contains(QStringLiteral("1/3")),
                 qPrintable(e.recordedText()));
        QVERIFY(ready.count() >= 2);  // false while reading, then true
    }

    void splitsNumbersAndErrors() {
        SplitsExplorer e;
        e.resize(1100, 760);
        e.setModelIndex(0);  // gpt tiny
        e.setLayout(2, 2, 2, 4, false);
        QVERIFY(e.splits().has_value());
        const auto& s = *e.splits();
        QCOMPARE(s.world, 8);
        QCOMPARE(s.stages.size(), std::size_t(2));
        // The tables show core's rows.
        QAbstractItemModelTester t0(e.memoryTable()->view()->model());
        QAbstractItemModelTester t1(e.commTable()->view()->model());
        QCOMPARE(e.memoryTable()->view()->model()->rowCount(), 2);
        // Per stage: tp all-reduce, pp send, dp all-reduce, world all-reduce.
        QCOMPARE(e.commTable()->view()->model()->rowCount(), 8);
        QVERIFY(e.commTable()->csv(false).contains(QStringLiteral("all-reduce")));
        QVERIFY(e.memoryTable()->csv(false).contains(QStringLiteral("block 0")));
        QVERIFY(e.sentencesText().contains(
            QStringLiteral("TP splits every weight matrix over 2 ranks")));
        // ZeRO-1 halves the optimizer state at dp = 2.
        const double before = s.stages[0].memory.optimizer;
        e.setLayout(2, 2, 2, 4, true);
        QCOMPARE(e.splits()->stages[0].memory.optimizer, before / 2);
        QVERIFY(e.sentencesText().contains(QStringLiteral("ZeRO-1")));
        // A layout the model refuses: validate()'s message, no numbers.
        e.setLayout(1, 3, 1, 1, false);
        QVERIFY(!e.splits());
        QVERIFY2(e.errorText().contains(QStringLiteral("must divide model.heads=4")),
                 qPrintable(e.errorText()));
        // The open run's spec is offered first, with its layout.
        e.setSelection(openFirstRun(writePipelineRun(dir_)));
        auto* model = e.findChild<QComboBox*>();
        QVERIFY(model->currentText().contains(QStringLiteral("open run")));
        QVERIFY(e.splits());
        QCOMPARE(e.splits()->world, 2);
        QCOMPARE(e.splits()->stages.size(), std::size_t(2));
        e.setSelection({});
        QVERIFY(!model->itemText(0).contains(QStringLiteral("open run")));
        QVERIFY2(e.minimumSizeHint().width() <= 600,
                 qPrintable(QString::number(e.minimumSizeHint().width())));
        QVERIFY2(e.minimumSizeHint().height() <= 600,
                 qPrintable(QString::number(e.minimumSizeHint().height())));
    }

    void screenshots() {
        if (qEnvironmentVariableIsEmpty("SCALESCOPE_LEARN_SHOTS"))
            QSKIP("SCALESCOPE_LEARN_SHOTS not set");
        PipelineExplorer p;
        p.resize(1180, 780);
        p.show();
        const QByteArray trace = qgetenv("SCALESCOPE_LEARN_TRACE");
        p.setSelection(
            openFirstRun(trace.isEmpty() ? writePipelineRun(dir_) : trace.toStdString()));
        QTRY_VERIFY_WITH_TIMEOUT(p.isReady(), 20000);
        p.setSchedule(PipelineKind::OneFOneB, 4, 8, 2, 2.0);
        QVERIFY(QTest::qWaitForWindowExposed(&p));
        shoot(p, "learn-pipeline.png");
        p.setSchedule(PipelineKind::Interleaved, 4, 8, 2, 2.0);
        shoot(p, "learn-pipeline-interleaved.png");
        p.setPalette(themePalette(ThemeKind::Dark));
        p.setSchedule(PipelineKind::GPipe, 4, 8, 2, 2.0);
        shoot(p, "learn-pipeline-dark.png");
        SplitsExplorer s;
        s.resize(1180, 780);
        s.show();
        s.setModelIndex(2);     // gpt small
        s.setCapacityIndex(1);  // 256 MiB: the device line beside the bars
        s.setLayout(2, 2, 2, 4, true);
        QVERIFY(QTest::qWaitForWindowExposed(&s));
        shoot(s, "learn-splits.png");
        // As the Learn page shows them in a 1024×700 window.
        s.resize(620, 600);
        shoot(s, "learn-splits-narrow.png");
        p.setPalette(QPalette());
        p.setSchedule(PipelineKind::OneFOneB, 4, 8, 2, 2.0);
        p.resize(620, 600);
        shoot(p, "learn-pipeline-narrow.png");
    }
};

QTEST_MAIN(TestGuiLearnExplorers)
#include "tst_gui_learn_explorers.moc"

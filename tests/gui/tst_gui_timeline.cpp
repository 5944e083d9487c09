// The Timeline page driven through its widgets on the tiny fixture trace: the details pane follows
// the selected run, a fresh page shows how to get a run instead of an empty ruler, the Lanes menu
// lists lanes in row order and stays open while toggling, a double-click on a wide merged block
// zooms in, and the page fits a 1024x700 window without horizontal scrolling.
#include <QApplication>
#include <QLabel>
#include <QMenu>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTest>
#include <QTextBrowser>
#include <QToolButton>

#include <map>

#include "gui/app/mainwindow.h"
#include "gui/app/page.h"
#include "gui/timeline/timelinepage.h"
#include "gui_fixture.h"
#include "tests/core/ps_trace_fixture.h"
#include "tests/core/tst_core_analysis_fixture.h"

using namespace ss::gui;
using namespace ss::traces;

namespace {

// Clicks the op named `name` that covers time `t` (scanning the rows from the top); true when
// found.
bool selectOp(TimelineView* v, std::int64_t t, const std::string& name) {
    const double x = v->axis().toPx(t);
    for (int y = 0; y < v->height(); ++y)
        if (v->selectAt(x, y) && v->selected() && v->selected()->name == name) return true;
    return false;
}

bool waitDrawn(TimelinePage& page) {
    return QTest::qWaitFor([&] { return page.isReady() && page.view()->drawList() != nullptr; },
                           20000);
}

}  // namespace

class TimelineTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    DocumentPtr doc_, doc2_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_timeline"));
        doc_ = std::make_shared<const Document>(
            loadDocument(QString::fromStdString(fixture::writeTinyTrace(dir_))));
        doc2_ = std::make_shared<const Document>(
            loadDocument(QString::fromStdString(fixture::writeTinyTrace(dir_, "other.sqlite"))));
    }

    // Item 3: an op selected in one run leaves the details pane when another run (or document, or
    // a study) is selected.
    void detailsPaneFollowsTheRun() {
        TimelinePage page;
        page.resize(1200, 600);
        page.show();
        auto* details = page.findChild<QTextBrowser*>();
        QVERIFY(details);
        page.setSelection(Selection{doc_, RunId{1}, {}});
        QVERIFY(waitDrawn(page));
        QVERIFY(selectOp(page.view(), 400, "gemm"));  // run 1, rank 0, step 0: [10, 700)
        QVERIFY(details->toPlainText().contains(QStringLiteral("gemm")));

        page.setSelection(Selection{doc_, RunId{2}, {}});
        QVERIFY2(
            !details->toPlainText().contains(QStringLiteral("gemm")),
            qPrintable(QStringLiteral("details still show run 1's op: ") + details->toPlainText()));
        QVERIFY(!page.view()->selected());
        QVERIFY(waitDrawn(page));
        QVERIFY(details->toPlainText().isEmpty());

        // Run 2's all-reduce, then another document's run: cleared again.
        QVERIFY(selectOp(page.view(), 350, "all_reduce"));  // [310, 400) on both ranks
        QVERIFY(details->toPlainText().contains(QStringLiteral("all_reduce")));
        page.setSelection(Selection{doc2_, RunId{2}, {}});
        QVERIFY(details->toPlainText().isEmpty());
        QVERIFY(waitDrawn(page));
        // And a study (no run).
        QVERIFY(selectOp(page.view(), 350, "all_reduce"));
        page.setSelection(Selection{doc2_, RunId{}, doc_->data().studies.front().info.id});
        QVERIFY(details->toPlainText().isEmpty());
    }

    // Item 15: with no run the page says how to get one; no ruler ("-3 ns … 4 ns", "0 ns/px").
    void emptyStateWithoutARun() {
        TimelinePage page;
        page.resize(1000, 600);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QVERIFY2(!page.view()->isVisible(), "an empty ruler is shown with no run");
        auto* empty = page.findChild<QLabel*>(QStringLiteral("timelineEmpty"));
        QVERIFY(empty);
        QVERIFY(empty->isVisible());
        QVERIFY2(empty->text().contains(QStringLiteral("Open a trace file (Ctrl+O)")),
                 qPrintable(empty->text()));
        QVERIFY(empty->text().contains(QStringLiteral("Experiment page")));
        // Buttons that act on a run are off.
        for (auto* b : page.findChildren<QToolButton*>())
            QVERIFY2(!b->isEnabled(), qPrintable(b->text()));

        // A run: the timeline and its controls; back to no run: the empty state again.
        page.setSelection(Selection{doc_, RunId{1}, {}});
        QVERIFY(page.view()->isVisible());
        QVERIFY(!empty->isVisible());
        for (auto* b : page.findChildren<QToolButton*>())
            QVERIFY2(b->isEnabled(), qPrintable(b->text()));
        QVERIFY(waitDrawn(page));
        page.setSelection(Selection{});
        QVERIFY(!page.view()->isVisible());
        QVERIFY(empty->isVisible());
        // A study says to pick one of its runs.
        page.setSelection(Selection{doc_, RunId{}, doc_->data().studies.front().info.id});
        QVERIFY(empty->isVisible());
        QVERIFY2(empty->text().contains(QStringLiteral("runs")), qPrintable(empty->text()));
    }

    // Item 18: lanes listed in the order of the rows; toggling one keeps the menu open.
    void laneMenuInRowOrderAndStaysOpen() {
        TimelinePage page;
        page.resize(1200, 600);
        page.show();
        page.setSelection(Selection{doc_, RunId{2}, {}});
        QVERIFY(waitDrawn(page));
        QStringList rowOrder;
        for (const TimelineRow& r : page.view()->rows())
            if (!rowOrder.contains(QString::fromStdString(r.laneName)))
                rowOrder << QString::fromStdString(r.laneName);
        QCOMPARE(rowOrder, (QStringList{QStringLiteral("steps"), QStringLiteral("compute"),
                                        QStringLiteral("comm")}));

        auto* menu = page.findChild<QMenu*>();
        QVERIFY(menu);
        auto entry = [menu](const QString& name) -> QAction* {
            for (QAction* a : menu->actions())
                if (a->text() == name) return a;
            return nullptr;
        };
        QAction* compute = entry(QStringLiteral("compute"));
        QAction* comm = entry(QStringLiteral("comm"));
        QVERIFY(compute && comm);

        menu->popup(page.mapToGlobal(QPoint(20, 20)));
        QVERIFY(QTest::qWaitForWindowExposed(menu));
        QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(compute).center());
        QVERIFY2(menu->isVisible(), "the Lanes menu closed after one toggle");
        QVERIFY(!compute->isChecked());
        for (const TimelineRow& r : page.view()->rows()) QVERIFY(r.laneName != "compute");
        QCOMPARE(page.view()->rows().size(), size_t(4));  // 2 ranks x (steps, comm)
        // A second toggle in the same opening, then the first one back.
        QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(comm).center());
        QVERIFY(menu->isVisible());
        QCOMPARE(page.view()->rows().size(), size_t(2));
        QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(compute).center());
        QVERIFY(menu->isVisible());
        QCOMPARE(page.view()->rows().size(), size_t(4));
        QCOMPARE(page.view()->rows()[1].laneName, std::string("compute"));  // back in its place
        // Every lane hidden: the view says so instead of drawing an empty ruler.
        for (QAction* a : menu->actions())
            if (a->isChecked())
                QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(a).center());
        QVERIFY(menu->isVisible());
        QVERIFY(page.view()->rows().empty());
        const QString why = page.view()->property("emptyText").toString();
        QVERIFY2(why.contains(QStringLiteral("Lanes menu")), qPrintable(why));
        menu->hide();

        // Listed in the order of the rows, not alphabetically (comm, compute, steps).
        QStringList listed;
        for (QAction* a : menu->actions())
            if (!a->isSeparator()) listed << a->text();
        QCOMPARE(listed, rowOrder);
    }

    // Issue 14: a GPU run's lanes. The CUDA API lane and the streams come after the host lanes,
    // streams by id (13 after 7); a rank whose writer left them unnamed ("lane 23") shows the same
    // names; the Lanes menu lists them once. NCCL kernels link to the NCCL kernels of the other
    // rank, host calls to host calls, and the details pane names the lane and the correlation id.
    void gpuStreamLanes() {
        const QString path = dir_.filePath(QStringLiteral("gpu.sqlite"));
        {
            TraceWriter w(path.toStdString());
            afx::write_gpu_run(w, R"({"training":{"global_batch":8}})");
        }
        DocumentPtr doc = std::make_shared<const Document>(loadDocument(path));
        TimelinePage page;
        page.resize(1200, 700);
        page.show();
        page.setSelection(Selection{doc, doc->data().runs.front().info.id, {}});
        QVERIFY(waitDrawn(page));
        std::map<int, QStringList> perRank;
        for (const TimelineRow& r : page.view()->rows())
            perRank[r.rank] << QString::fromStdString(r.laneName);
        const QStringList host{QStringLiteral("steps"), QStringLiteral("phases"),
                               QStringLiteral("comm"), QStringLiteral("CUDA API")};
        const QStringList rank0 =
            host + QStringList{QStringLiteral("stream 7"), QStringLiteral("stream 13"),
                               QStringLiteral("stream 14")};
        const QStringList rank1 =
            host + QStringList{QStringLiteral("stream 7"), QStringLiteral("stream 13")};
        QCOMPARE(perRank[0], rank0);
        QCOMPARE(perRank[1], rank1);

        QStringList listed;
        for (QAction* a : page.findChild<QMenu*>()->actions())
            if (!a->isSeparator()) listed << a->text();
        QCOMPARE(listed, perRank[0]);

        const auto dl = page.view()->drawList();
        QVERIFY(dl);
        int deviceLinks = 0, hostLinks = 0;
        for (const Link& l : dl->links) {
            const std::string& a = page.view()->rows()[static_cast<size_t>(l.rowA)].laneName;
            const std::string& b = page.view()->rows()[static_cast<size_t>(l.rowB)].laneName;
            QCOMPARE(a, b);  // never a host call to a kernel
            (a == "stream 13" ? deviceLinks : hostLinks)++;
        }
        QVERIFY2(
            deviceLinks >= 3 && hostLinks >= 3,  // at least the big all-reduce of each step
            qPrintable(QStringLiteral("%1 device, %2 host links").arg(deviceLinks).arg(hostLinks)));

        // sgemm_fwd of rank 1, step 1, at 1150 us: its lane by name, its correlation id.
        QVERIFY(selectOp(page.view(), 1'150'000, "sgemm_fwd"));
        const QString details =
            page.findChild<QTextBrowser*>(QStringLiteral("timelineDetails"))->toPlainText();
        QVERIFY2(details.contains(QStringLiteral("/ stream 7")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("correlation")), qPrintable(details));
    }

    // Issue 18: a run with a parameter server (tests/core/ps_trace_fixture.h, 3 workers + 2
    // servers): the servers' rows come after every worker's, labelled "server N (rK) lane"; a push
    // is drawn as communication, linked to the server's recv, and its tooltip names the server,
    // the bytes and the peer.
    void parameterServerLanes() {
        const QString path = dir_.filePath(QStringLiteral("ps.sqlite"));
        psfx::write_ps_file(path.toStdString(), /*workers=*/3);
        DocumentPtr doc = std::make_shared<const Document>(loadDocument(path));
        TimelinePage page;
        page.resize(1200, 900);
        page.show();
        page.setSelection(Selection{doc, doc->data().runs.front().info.id, {}});
        QVERIFY(waitDrawn(page));
        TimelineView* v = page.view();
        const auto& rows = v->rows();
        QVERIFY(!rows.empty());
        bool seenServer = false;
        std::map<int, int> serverOf;
        for (const TimelineRow& r : rows) {
            if (r.isServer()) serverOf[r.rank] = r.server;
            QVERIFY2(!seenServer || r.isServer(), "a worker row after a server row");
            seenServer |= r.isServer();
        }
        QCOMPARE(serverOf, (std::map<int, int>{{3, 0}, {4, 1}}));
        QCOMPARE(rowLabel(rows.back(), true).substr(0, 14), std::string("server 1 (r4) "));
        TimelineRow s0comm;
        for (const TimelineRow& r : rows)
            if (r.rank == 3 && r.laneName == "comm") s0comm = r;
        QCOMPARE(rowLabel(s0comm, true), std::string("server 0 (r3) comm"));
        QCOMPARE(rowLabel(s0comm, false), std::string("server 0 (rank 3)"));
        QCOMPARE(rowLabel(rows.front(), false), std::string("rank 0"));
        QVERIFY(v->labelWidth() > v->fontMetrics().horizontalAdvance(QStringLiteral("server 0 (r3) comm")));

        // Worker 0's push to server 0 in step 1: [1500, 1550) us.
        v->setAxis(TimeAxis::fit(1'400'000, 2'000'000, v->plotWidth()));
        QVERIFY(waitDrawn(page));
        QTest::qWait(50);
        QVERIFY(waitDrawn(page));
        const double x = v->axis().toPx(1'520'000);
        QString tip;
        for (int y = 0; y < v->height() && tip.isEmpty(); ++y) {
            const QString t = v->toolTipAt(x, y);
            if (t.contains(QStringLiteral("ps_push"))) tip = t;
        }
        QVERIFY2(tip.contains(QStringLiteral("gradient push to server 0 (rank 3)")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("bytes: 1000")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("peer: rank 3")), qPrintable(tip));
        QVERIFY(selectOp(v, 1'520'000, "ps_push"));
        const QString details = page.findChild<QTextBrowser*>(QStringLiteral("timelineDetails"))->toPlainText();
        QVERIFY2(details.contains(QStringLiteral("gradient push to server 0 (rank 3)")), qPrintable(details));
        // On server 0's own row, the details name it as a server.
        QVERIFY(selectOp(v, 1'890'000, "ps_apply"));
        const QString applied = page.findChild<QTextBrowser*>(QStringLiteral("timelineDetails"))->toPlainText();
        QVERIFY2(applied.contains(QStringLiteral("server 0 (rank 3)")) &&
                     applied.contains(QStringLiteral("optimizer update (version 2)")),
                 qPrintable(applied));

        // Pushes and pulls are communication (the collective colour), linked to the server's side.
        const auto dl = v->drawList();
        bool pushSeen = false;
        for (size_t i = 0; i < dl->events.size(); ++i)
            if (dl->eventNames[i] == "ps_push") pushSeen = true;
        QVERIFY(pushSeen);
        QCOMPARE(categoryOf(EventKind::Comm, Collective::Send, "ps_push"), Category::Collective);
        QCOMPARE(categoryOf(EventKind::Comm, Collective::Send, "send"), Category::PointToPoint);
        int psLinks = 0;
        for (const Link& l : dl->links) {
            const TimelineRow& a = rows[static_cast<size_t>(l.rowA)];
            const TimelineRow& b = rows[static_cast<size_t>(l.rowB)];
            if (a.isServer() != b.isServer()) ++psLinks;
        }
        QVERIFY2(psLinks >= 3 * 2 * 2, qPrintable(QStringLiteral("%1 worker-server links").arg(psLinks)));

        const QByteArray shots = qgetenv("SCALESCOPE_TEST_SHOT_DIR");
        if (!shots.isEmpty()) QVERIFY(page.grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/timeline-ps.png")));
    }

    // Item 14: double-clicking a merged block as wide as the view zooms in (it used to fit the
    // block, i.e. barely move), and stays inside the block.
    void doubleClickZoomsIntoAWideMergedBlock() {
        TimelineView v;
        v.resize(1000, 300);
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        const std::int64_t end = 5'830'000;
        v.setRows({TimelineRow{0, 1, "compute", 5830, 0, end}}, 0, end);
        auto list = std::make_shared<DrawList>();
        list->axis = v.axis();
        list->widthPx = v.plotWidth();
        list->rows.resize(1);
        list->rows[0].blocks.push_back(Block{0, end, Category::Compute, 5830, -1});
        v.setDrawList(list);
        const double x = v.plotWidth() / 2;
        int y = 0;
        while (y < v.height() && !v.selectAt(x, y)) ++y;
        QVERIFY(y < v.height());
        QCOMPARE(v.selected()->merged, 5830);
        const TimeAxis before = v.axis();
        const std::int64_t tClicked = before.toNs(x);
        QTest::mouseDClick(&v, Qt::LeftButton, {}, QPoint(static_cast<int>(v.labelWidth() + x), y));
        const TimeAxis after = v.axis();
        QVERIFY2(after.nsPerPx * 4 <= before.nsPerPx,
                 qPrintable(QStringLiteral("zoomed only %1x").arg(before.nsPerPx / after.nsPerPx)));
        QVERIFY(after.t0 <= tClicked &&
                tClicked <= after.endNs(v.plotWidth()));  // the clicked place stays in view
    }

    // Item 9: the page fits a 1024x700 window without scrolling (across or down), with a run and
    // without.
    void fitsAt1024x700() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);
        QVERIFY(w.showPage(QStringLiteral("timeline")));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        Page* page = w.page(QStringLiteral("timeline"));
        QScrollArea* scroll = nullptr;
        for (QWidget* p = page->parentWidget(); p && !scroll; p = p->parentWidget())
            scroll = qobject_cast<QScrollArea*>(p);
        QVERIFY(scroll);
        auto fits = [&] {
            QApplication::processEvents();
            return scroll->horizontalScrollBar()->maximum() == 0 &&
                   scroll->verticalScrollBar()->maximum() == 0 &&
                   page->minimumSizeHint().width() <= scroll->viewport()->width();
        };
        const auto why = [&] {
            return QStringLiteral("page needs %1 px wide, has %2; scrolls %3 px across, %4 px down")
                .arg(page->minimumSizeHint().width())
                .arg(scroll->viewport()->width())
                .arg(scroll->horizontalScrollBar()->maximum())
                .arg(scroll->verticalScrollBar()->maximum());
        };
        QVERIFY2(fits(), qPrintable(why()));
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(doc_->path());
        QVERIFY(opened.wait(20000));
        QVERIFY(QTest::qWaitFor([&] { return page->isReady(); }, 20000));
        QVERIFY2(fits(), qPrintable(why()));
    }
};

QTEST_MAIN(TimelineTest)
#include "tst_gui_timeline.moc"

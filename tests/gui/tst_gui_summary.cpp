// The Summary page driven through its widgets: the MFU line is always there (value with its peak
// source, above-100 % warning, or why it is unknown); overlapped DP buckets show their busy time
// as a union with no bandwidth invented; duration headers name no unit while the cells carry
// theirs (the CSV header keeps the raw unit); the page fits a 1024x700 window without scrolling
// sideways.
#include <QAbstractItemModelTester>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "gui/app/documents.h"
#include "gui/app/mainwindow.h"
#include "gui/common/format.h"
#include "gui/common/tablemodel.h"
#include "gui/common/tablepanel.h"
#include "gui/summary/summarypage.h"
#include "tests/core/ps_trace_fixture.h"
#include "tests/core/tst_core_analysis_fixture.h"
#include "traces/sqlite_util.h"

using namespace ss::gui;
using namespace ss::traces;

namespace {

const char* kSpec = R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":32}})";

bool hasUnit(const QString& cell) {
    for (const char* u : {" ns", " µs", " ms", " s"})
        if (cell.endsWith(QString::fromUtf8(u))) return true;
    return false;
}

}  // namespace

class TestGuiSummary : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString file_, gpuFile_, importedFile_;

    DocumentPtr open() const { return std::make_shared<const Document>(loadDocument(file_)); }
    static bool select(SummaryPage& page, const DocumentPtr& doc) {
        Selection s;
        s.doc = doc;
        s.run = doc->data().runs.front().info.id;
        page.setSelection(s);
        return QTest::qWaitFor([&] { return page.isReady(); }, 30000);
    }
    static QString mfuText(const SummaryPage& page) {
        auto* l = page.findChild<QLabel*>(QStringLiteral("mfu"));
        return l ? l->text() : QStringLiteral("(no MFU label on the page)");
    }

private slots:
    void initTestCase() {
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_summary"));
        QVERIFY(dir_.isValid());
        gpuFile_ = dir_.filePath(QStringLiteral("gpu.sqlite"));
        {
            TraceWriter w(gpuFile_.toStdString());
            afx::write_gpu_run(w, kSpec);
        }
        importedFile_ = dir_.filePath(QStringLiteral("imported.sqlite"));
        {
            TraceWriter w(importedFile_.toStdString());
            afx::write_imported_run(w);
        }
        const QByteArray given = qgetenv("SCALESCOPE_TEST_SUMMARY_FILE");  // to look at a real run
        file_ = given.isEmpty() ? dir_.filePath(QStringLiteral("buckets.sqlite"))
                                : QString::fromLocal8Bit(given);
        if (!given.isEmpty()) return;
        TraceWriter w(file_.toStdString());
        afx::write_run(w, afx::info("buckets", 2, kSpec),
                       {{0, afx::bucket_rank_text(90)}, {1, afx::bucket_rank_text(130)}});
    }

    // Item 6: the MFU field is always on the page. No calibration in the file: "–" and why.
    // Then the newest calibration's peak, named; a peak below the run's rate: above 100 %, shown
    // as computed with a warning naming the 6·N·tokens convention.
    void mfuAlwaysShown() {
        {
            SummaryPage page;
            QVERIFY(select(page, open()));
            const QString t = mfuText(page);
            QVERIFY2(t.contains(QStringLiteral("MFU –")) &&
                         t.contains(QStringLiteral("no peak: calibrate this machine")) &&
                         t.contains(QStringLiteral("What-if ▸ Calibrate")),
                     qPrintable(t));
        }
        {
            TraceWriter w(file_.toStdString());
            Calibration c;
            c.host = "this-host";
            c.hardware_json = R"({"compute":{"sgemm_flops":1e12}})";
            w.add_calibration(c);
        }
        {
            SummaryPage page;
            QVERIFY(select(page, open()));
            const QString t = mfuText(page);
            // The matrix FLOPs performed, (4·784·64 + 6·64·10)·32 per 200 us step (the first layer
            // computes no input gradient), against 2 ranks × 1e12; the 6·N·tokens convention
            // (N = 50,890) named beside it as a ratio, 305,340 / 204,544 = 1.49×.
            const double mfu = (4.0 * 784 * 64 + 6.0 * 64 * 10) * 32 / 200e-6 / 2e12;
            QVERIFY2(t.contains(formatPercent(mfu)) &&
                         t.contains(QStringLiteral("calibration 1 (this-host)")) &&
                         t.contains(QStringLiteral("the kernels perform")) &&
                         t.contains(QStringLiteral("6·N·tokens convention counts %1×").arg(formatNumber(6.0 * 50890 / 204544, 3))),
                     qPrintable(t + QStringLiteral(" expected ") + formatPercent(mfu)));
            QVERIFY2(!t.contains(QStringLiteral("above 100")), qPrintable(t));
        }
        {
            TraceWriter w(file_.toStdString());
            Calibration c;
            c.host = "slow";
            c.hardware_json = R"({"compute":{"sgemm_flops":1e9}})";
            w.add_calibration(c);
        }
        {
            SummaryPage page;
            QVERIFY(select(page, open()));
            const QString t = mfuText(page);
            // ~1636 % of that peak: no MFU is shown (neither the value nor 100 %), the line says the
            // peak is not this run's machine and how far off it is.
            const double ratio = (4.0 * 784 * 64 + 6.0 * 64 * 10) * 32 / 200e-6 / 2e9;
            QVERIFY2(t.startsWith(QStringLiteral("MFU –")) && t.contains(formatPercent(ratio)) &&
                         t.contains(QStringLiteral("above 100 %")) && t.contains(QStringLiteral("calibration 2 (slow)")),
                     qPrintable(t));
            QVERIFY2(!t.contains(QStringLiteral("<b>")), qPrintable(t));  // no value in bold
        }
    }

    // The page stores the run's analysis the first time (run_summaries) and reads it afterwards: a
    // row changed behind its back shows on the next selection.
    void readsTheStoredAnalysis() {
        const QString f = dir_.filePath(QStringLiteral("stored.sqlite"));
        QFile::remove(f);
        QVERIFY(QFile::copy(gpuFile_, f));
        auto rows = [&] {
            Db db(f.toStdString(), Db::Mode::ReadOnly);
            return db.query_int("SELECT count(*) FROM run_summaries");
        };
        QCOMPARE(rows(), std::int64_t(0));
        {
            SummaryPage page;
            QVERIFY(select(page, std::make_shared<const Document>(loadDocument(f))));
            QVERIFY2(mfuText(page).contains(QStringLiteral("measured in the run")), qPrintable(mfuText(page)));
        }
        QCOMPARE(rows(), std::int64_t(1));
        {
            Db db(f.toStdString(), Db::Mode::ReadWrite);
            db.exec("UPDATE run_summaries SET value = replace(value, 'measured in the run', 'READ FROM THE ROW')");
        }
        SummaryPage page;
        QVERIFY(select(page, std::make_shared<const Document>(loadDocument(f))));
        QVERIFY2(mfuText(page).contains(QStringLiteral("READ FROM THE ROW")), qPrintable(mfuText(page)));
    }

    // Items 2 and 7: busy time is the union of a rank's overlapping buckets (120 µs per step, not
    // 300 µs in a 200 µs step); no bandwidth is shown for them, and the note says why; headers of
    // cells that carry units name none, the CSV header names the raw unit.
    void collectivesUnionAndUnits() {
        SummaryPage page;
        QVERIFY(select(page, open()));
        auto* m = page.collectiveModel();
        QAbstractItemModelTester tester(m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m->rowCount(), 2);
        auto column = [&](const QAbstractItemModel* model, const QString& title) {
            for (int c = 0; c < model->columnCount(); ++c)
                if (model->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString() == title)
                    return c;
            return -1;
        };
        const int busy = column(m, QStringLiteral("Busy per step/rank"));
        const int busbw = column(m, QStringLiteral("busbw"));
        const int latency = column(m, QStringLiteral("Issue→completion"));
        QVERIFY(busy >= 0 && busbw >= 0 && latency >= 0);
        int buckets = -1, blocking = -1;
        for (int r = 0; r < m->rowCount(); ++r)
            (m->row(r).bytes == 4194304 ? buckets : blocking) = r;
        QVERIFY(buckets >= 0 && blocking >= 0);
        QCOMPARE(m->data(m->index(buckets, busy), Qt::DisplayRole).toString(),
                 QStringLiteral("120.0 µs"));
        QCOMPARE(m->data(m->index(buckets, busy), SortRole).toDouble(), 120000.0);
        QCOMPARE(m->data(m->index(buckets, latency), Qt::DisplayRole).toString(),
                 QStringLiteral("100.0 µs"));
        QCOMPARE(m->data(m->index(buckets, busbw), Qt::DisplayRole).toString(),
                 QStringLiteral("– (overlapped)"));
        QCOMPARE(m->data(m->index(blocking, busbw), Qt::DisplayRole).toString(),
                 formatBandwidth(1048576 / 10e-6));
        auto* notes = page.findChild<QLabel*>(QStringLiteral("collectiveNotes"));
        QVERIFY(notes);
        QVERIFY2(
            notes->text().contains(QStringLiteral("all_reduce dp 4.0 MiB: bandwidth not known")),
            qPrintable(notes->text()));

        // Units: no header says "(ns)" over a cell shown in µs or ms; every duration cell has its
        // unit.
        const std::vector<const QAbstractItemModel*> models{
            page.kernelModel(), m,
            page.findChild<TablePanel*>(QStringLiteral("stragglerTable"))->view()->model()};
        QCOMPARE(page.kernelModel()->rowCount(), 1);
        QCOMPARE(models[2]->rowCount(), 2);
        for (const QAbstractItemModel* model : models)
            for (int c = 0; c < model->columnCount(); ++c) {
                const QString h = model->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
                QVERIFY2(!h.contains(QStringLiteral("(ns)")) &&
                             !h.contains(QStringLiteral("(B/s)")) &&
                             !h.contains(QStringLiteral("(bytes)")),
                         qPrintable(h));
                const QString csvTitle = model->headerData(c, Qt::Horizontal, SortRole).toString();
                const QString cell = model->data(model->index(0, c), Qt::DisplayRole).toString();
                if (csvTitle.endsWith(QStringLiteral("(ns)")))
                    QVERIFY2(hasUnit(cell), qPrintable(h + QStringLiteral(": ") + cell));
            }
        const QString csv = modelToCsv(m);
        QVERIFY2(csv.startsWith(QStringLiteral(
                     "Collective,Group,Ranks,Message (bytes),Calls,Busy per step per rank (ns),")),
                 qPrintable(csv.left(200)));
    }

    // Issue 14: a GPU run shows its device time (the GPU line, the streams and per-rank tabs, with
    // the numbers docs/ANALYSIS.md "GPU streams" defines for the fixture) and its MFU against the
    // matrix rate the ranks measured; a CPU run shows no GPU line or tabs.
    void gpuRun() {
        SummaryPage page;
        page.resize(1200, 800);
        page.show();
        const DocumentPtr doc = std::make_shared<const Document>(loadDocument(gpuFile_));
        // The fixture's cupti_records_kernel / _nccl are record counts: nothing dropped (status
        // bar).
        QCOMPARE(doc->data().runs.front().dropped, std::int64_t(0));
        QVERIFY(select(page, doc));
        auto* gpu = page.findChild<QLabel*>(QStringLiteral("gpu"));
        QVERIFY(gpu && gpu->isVisible());
        const QString g = gpu->text();
        // Per step and rank: compute (730 + 580) / 2 us, NCCL (260 + 310) / 2 us, overlap 360 /
        // 570.
        QVERIFY2(g.contains(formatDuration(655000.0)) && g.contains(formatDuration(285000.0)) &&
                     g.contains(QStringLiteral("NCCL/compute overlap <b>%1</b>")
                                    .arg(formatPercent(360.0 / 570.0))),
                 qPrintable(g));
        QVERIFY2(mfuText(page).contains(
                     QStringLiteral("cuBLAS fp32 sgemm measured in the run (median of 2 ranks)")),
                 qPrintable(mfuText(page)));

        auto* tabs = page.findChild<QTabWidget*>();
        QStringList visible;
        for (int i = 0; i < tabs->count(); ++i)
            if (tabs->isTabVisible(i)) visible << tabs->tabText(i);
        QCOMPARE(visible,
                 (QStringList{QStringLiteral("Kernels"), QStringLiteral("Collectives"),
                              QStringLiteral("GPU streams"), QStringLiteral("GPU per rank"),
                              QStringLiteral("Temporal"), QStringLiteral("Kernel types"),
                              QStringLiteral("Top kernels")}));

        auto* streams = page.streamModel();
        QAbstractItemModelTester t1(streams,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(streams->rowCount(), 3);
        QCOMPARE(streams->data(streams->index(0, 0), Qt::DisplayRole).toString(),
                 QStringLiteral("stream 7"));
        QCOMPARE(streams->data(streams->index(0, 2), Qt::DisplayRole).toString(),
                 formatDuration(630000.0));
        QCOMPARE(streams->data(streams->index(1, 3), Qt::DisplayRole).toString(),
                 formatDuration(285000.0));
        auto* ranks = page.gpuRankModel();
        QAbstractItemModelTester t2(ranks, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(ranks->rowCount(), 2);
        QCOMPARE(ranks->data(ranks->index(0, 4), Qt::DisplayRole).toString(),
                 formatPercent(230.0 / 260.0));
        QCOMPARE(ranks->data(ranks->index(1, 3), Qt::DisplayRole).toString(),
                 formatDuration(130000.0));

        const QByteArray shots = qgetenv("SCALESCOPE_TEST_SHOT_DIR");
        if (!shots.isEmpty())
            for (int tab : {2, 3}) {
                tabs->setCurrentIndex(tab);
                QTest::qWait(50);
                QVERIFY(page.grab().save(QString::fromLocal8Bit(shots) +
                                         QStringLiteral("/summary-gpu-tab%1.png").arg(tab)));
            }

        // The same page on a CPU run: no GPU line, no GPU tabs.
        QVERIFY(select(page, open()));
        QVERIFY(!gpu->isVisible());
        QCOMPARE(streams->rowCount(), 0);
        for (int i = 2; i < tabs->count(); ++i) QVERIFY(!tabs->isTabVisible(i));
    }

    // GPU kernel time as HTA defines it, on a run as an importer writes it (no steps, no spec,
    // collectives from NCCL kernels): the line names the whole-trace window, the temporal table
    // has "all" then the ranks, the kernel-type and top-kernel tables hold the hand-worked values
    // of tst_core_analysis_hta; every tab fits 1024x700 (screenshots with SCALESCOPE_TEST_SHOT_DIR).
    // Issue 18: a run with a parameter server shows its servers' load and the workers' waits in
    // two tabs, and a line with the staleness and the slowed rank; the headline counts the servers.
    void parameterServerRun() {
        const QString path = dir_.filePath(QStringLiteral("ps.sqlite"));
        psfx::write_ps_file(path.toStdString());
        SummaryPage page;
        page.resize(1200, 800);
        page.show();
        QVERIFY(select(page, std::make_shared<const Document>(loadDocument(path))));
        auto* ps = page.findChild<QLabel*>(QStringLiteral("ps"));
        QVERIFY(ps && ps->isVisible());
        QVERIFY2(ps->text().contains(QStringLiteral("2 server(s) (ranks 2–3)")) &&
                     ps->text().contains(QStringLiteral("SSP (s = 1)")) &&
                     ps->text().contains(QStringLiteral("staleness observed max <b>2</b>")) &&
                     ps->text().contains(QStringLiteral("rank 1 slowed ×2")),
                 qPrintable(ps->text()));
        auto* tabs = page.findChild<QTabWidget*>();
        QStringList visible;
        for (int i = 0; i < tabs->count(); ++i)
            if (tabs->isTabVisible(i)) visible << tabs->tabText(i);
        QVERIFY2(visible.contains(QStringLiteral("PS servers")) && visible.contains(QStringLiteral("PS workers")),
                 qPrintable(visible.join(QLatin1Char(','))));
        auto* servers = page.serverLoadModel();
        QAbstractItemModelTester t1(servers, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(servers->rowCount(), 2);
        QCOMPARE(servers->data(servers->index(0, 0), Qt::DisplayRole).toString(), QStringLiteral("server 0"));
        QCOMPARE(servers->data(servers->index(0, 2), Qt::DisplayRole).toString(), formatBytes(2000.0));
        QCOMPARE(servers->data(servers->index(1, 2), Qt::DisplayRole).toString(), formatBytes(1200.0));
        QCOMPARE(servers->data(servers->index(0, 5), Qt::DisplayRole).toString(), formatDuration(170000.0));
        auto* workers = page.workerPsModel();
        QAbstractItemModelTester t2(workers, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(workers->rowCount(), 2);
        QCOMPARE(workers->data(workers->index(0, 6), Qt::DisplayRole).toString(), formatDuration(440000.0));
        const QByteArray shots = qgetenv("SCALESCOPE_TEST_SHOT_DIR");
        if (!shots.isEmpty()) {
            QVERIFY(page.grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/summary-ps.png")));
            tabs->setCurrentIndex(tabs->indexOf(page.findChild<TablePanel*>(QStringLiteral("psWorkerTable"))));
            QTest::qWait(50);
            QVERIFY(page.grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/summary-ps-workers.png")));
        }

        // The window's headline counts the servers beside the workers' grid.
        {
            MainWindow w;
            w.setInteractiveErrors(false);
            QSignalSpy opened(&w, &MainWindow::documentOpened);
            w.openFile(path);
            QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 30000));
            auto* head = w.findChild<QLabel*>(QStringLiteral("headline"));
            QVERIFY(head);
            QVERIFY2(QTest::qWaitFor([&] { return head->text().contains(QStringLiteral("Run #")); }, 30000),
                     qPrintable(head->text()));
            QVERIFY2(head->text().contains(QStringLiteral("4 ranks (dp 2 × tp 1 × pp 1 workers + 2 server(s))")),
                     qPrintable(head->text()));
        }

        // An all-reduce run: no line, no tabs.
        QVERIFY(select(page, open()));
        QVERIFY(!ps->isVisible());
        QVERIFY(!tabs->isTabVisible(tabs->indexOf(page.findChild<TablePanel*>(QStringLiteral("serverTable")))));
    }

    void htaTabsOnImportedRun() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(importedFile_);
        QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 30000));
        QVERIFY(w.showPage(QStringLiteral("summary")));
        w.show();
        auto* page = qobject_cast<SummaryPage*>(w.page(QStringLiteral("summary")));
        QVERIFY(page);
        QVERIFY(QTest::qWaitFor([&] { return page->isReady(); }, 30000));
        auto* hta = page->findChild<QLabel*>(QStringLiteral("hta"));
        QVERIFY(hta);
        // Mean over ranks: idle 200 of an 800 ns window, computation 325, non-compute 275.
        QVERIFY2(hta->text().contains(QStringLiteral("whole trace (the run has no step events)")) &&
                     hta->text().contains(QStringLiteral("idle <b>%1</b>").arg(formatPercent(0.25))) &&
                     hta->text().contains(QStringLiteral("non-compute <b>%1</b>").arg(formatPercent(275.0 / 800))) &&
                     hta->text().contains(QStringLiteral("overlap <b>%1</b>").arg(formatPercent(200.0 / 700))),
                 qPrintable(hta->text()));
        auto* temporal = page->htaRankModel();
        QAbstractItemModelTester t1(temporal, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(temporal->rowCount(), 3);
        QCOMPARE(temporal->data(temporal->index(0, 0), Qt::DisplayRole).toString(), QStringLiteral("all"));
        QCOMPARE(temporal->data(temporal->index(2, 2), Qt::DisplayRole).toString(),
                 formatDuration(100.0) + QStringLiteral(" · ") + formatPercent(100.0 / 600));
        QCOMPARE(temporal->data(temporal->index(2, 2), SortRole).toDouble(), 100.0);
        QCOMPARE(temporal->data(temporal->index(1, 5), Qt::DisplayRole).toString(), formatPercent(1.0 / 3));
        auto* states = page->kernelStateModel();
        QAbstractItemModelTester t2(states, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(states->rowCount(), 7);
        QCOMPARE(states->data(states->index(2, 0), Qt::DisplayRole).toString(),
                 QStringLiteral("computation overlapping communication"));
        QCOMPARE(states->data(states->index(2, 1), Qt::DisplayRole).toString(), formatDuration(85.0));
        QCOMPARE(states->data(states->index(2, 2), Qt::DisplayRole).toString(), formatPercent(85.0 / 600));
        auto* tops = page->topKernelModel();
        QAbstractItemModelTester t3(tops, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(tops->rowCount(), 5);
        QCOMPARE(tops->data(tops->index(0, 1), Qt::DisplayRole).toString(), QStringLiteral("gemm"));
        QCOMPARE(tops->data(tops->index(0, 3), Qt::DisplayRole).toString(), formatDuration(500.0));
        // The collective comes from the NCCL kernels: bandwidth known.
        QCOMPARE(page->collectiveModel()->rowCount(), 1);

        auto* tabs = page->findChild<QTabWidget*>();
        QScrollArea* scroll = nullptr;
        for (QWidget* p = page->parentWidget(); p && !scroll; p = p->parentWidget())
            scroll = qobject_cast<QScrollArea*>(p);
        QVERIFY(scroll);
        const QByteArray shots = qgetenv("SCALESCOPE_TEST_SHOT_DIR");
        for (int i = 0; i < tabs->count(); ++i) {
            if (!tabs->isTabVisible(i)) continue;
            tabs->setCurrentIndex(i);
            QTest::qWait(50);
            QVERIFY2(!scroll->horizontalScrollBar()->isVisible() && !scroll->verticalScrollBar()->isVisible(),
                     qPrintable(tabs->tabText(i)));
            if (!shots.isEmpty())
                QVERIFY(w.grab().save(QString::fromLocal8Bit(shots) +
                                      QStringLiteral("/summary-imported-tab%1.png").arg(i)));
        }
    }

    // Item 9: at 1024x700 (and at the default 1280x800) the page needs no scrolling, sideways or
    // down, on a CPU run and on a GPU run (its GPU line and tabs).
    void fitsAt1024x700() {
        for (const QString& file : {file_, gpuFile_})
            for (const QSize size : {QSize(1024, 700), QSize(1280, 800)}) {
                MainWindow w;
                w.setInteractiveErrors(false);
                w.resize(size);
                QSignalSpy opened(&w, &MainWindow::documentOpened);
                w.openFile(file);
                QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 30000));
                QVERIFY(w.showPage(QStringLiteral("summary")));
                w.show();
                Page* page = w.page(QStringLiteral("summary"));
                QVERIFY(QTest::qWaitFor([&] { return page->isReady(); }, 30000));
                QTest::qWait(100);  // layouts settle
                QScrollArea* scroll = nullptr;
                for (QWidget* p = page->parentWidget(); p && !scroll; p = p->parentWidget())
                    scroll = qobject_cast<QScrollArea*>(p);
                QVERIFY(scroll);
                const QString why = QStringLiteral("%5 %1x%2: page minimum width %3, viewport %4")
                                        .arg(size.width())
                                        .arg(size.height())
                                        .arg(page->minimumSizeHint().width())
                                        .arg(scroll->viewport()->width())
                                        .arg(QFileInfo(file).fileName());
                QVERIFY2(!scroll->horizontalScrollBar()->isVisible(), qPrintable(why));
                QVERIFY2(!scroll->verticalScrollBar()->isVisible(),
                         qPrintable(why + QStringLiteral("; page height %1 in %2")
                                              .arg(page->height())
                                              .arg(scroll->viewport()->height())));
                QVERIFY2(page->minimumSizeHint().width() <= scroll->viewport()->width(),
                         qPrintable(why));
                // The straggler table's few columns fit its width too.
                QTableView* stragglers =
                    page->findChild<TablePanel*>(QStringLiteral("stragglerTable"))->view();
                QString sections;
                for (int c = 0; c < stragglers->model()->columnCount(); ++c)
                    sections += QString::number(stragglers->horizontalHeader()->sectionSize(c)) +
                                QLatin1Char(' ');
                QVERIFY2(!stragglers->horizontalScrollBar()->isVisible(),
                         qPrintable(why + QStringLiteral("; straggler sections %1in %2")
                                              .arg(sections)
                                              .arg(stragglers->viewport()->width())));
                const QByteArray shots = qgetenv("SCALESCOPE_TEST_SHOT_DIR");
                if (!shots.isEmpty()) {
                    const QString prefix = file == gpuFile_ ? QStringLiteral("summary-gpu")
                                                            : QStringLiteral("summary");
                    QVERIFY(w.grab().save(QString::fromLocal8Bit(shots) +
                                          QStringLiteral("/%1-%2x%3.png")
                                              .arg(prefix)
                                              .arg(size.width())
                                              .arg(size.height())));
                    page->findChild<QTabWidget*>()->setCurrentIndex(1);  // the collectives
                    QTest::qWait(50);
                    QVERIFY(w.grab().save(QString::fromLocal8Bit(shots) +
                                          QStringLiteral("/%1-collectives-%2x%3.png")
                                              .arg(prefix)
                                              .arg(size.width())
                                              .arg(size.height())));
                }
            }
    }
};

QTEST_MAIN(TestGuiSummary)
#include "tst_gui_summary.moc"

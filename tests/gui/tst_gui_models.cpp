// Item models under QAbstractItemModelTester (the document list, the generic table model with the
// Summary page's columns), CSV export, the table panel in a narrow page, what a reload selects,
// stragglers, and draw lists built from a real tiny trace.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QLabel>
#include <QMenu>
#include <QSortFilterProxyModel>
#include <QTest>
#include <QToolButton>

#include "gui/app/documents.h"
#include "gui/common/tablemodel.h"
#include "gui/common/tablepanel.h"
#include "gui/summary/summarypage.h"
#include "gui/timeline/drawlist.h"
#include "gui_fixture.h"

using namespace ss::gui;
using namespace ss::traces;

class ModelsTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        path_ = fixture::writeTinyTrace(dir_);
    }

    void documentModel() {
        DocumentModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto doc = std::make_shared<const Document>(loadDocument(QString::fromStdString(path_)));
        QCOMPARE(doc->data().runs.size(), size_t(2));
        QCOMPARE(doc->data().studies.size(), size_t(1));
        model.addDocument(doc);
        QCOMPARE(model.rowCount(), 1);
        const QModelIndex file = model.index(0, 0);
        QCOMPARE(model.data(file, Qt::DisplayRole).toString(), QStringLiteral("tiny.sqlite"));
        QCOMPARE(model.rowCount(file), 3);  // 2 runs + 1 study
        QCOMPARE(model.data(model.index(0, 0, file), DocumentModel::KindRole).toString(), QStringLiteral("run"));
        QCOMPARE(model.data(model.index(2, 0, file), DocumentModel::KindRole).toString(), QStringLiteral("study"));
        QVERIFY(model.data(model.index(1, 0, file), Qt::DisplayRole).toString().contains(QStringLiteral("dp2")));
        // Selections round-trip through indexes.
        const Selection s = model.selectionAt(model.index(1, 0, file));
        QCOMPARE(s.run.value, std::int64_t(2));
        QCOMPARE(model.indexOf(s), model.index(1, 0, file));
        const Selection st = model.selectionAt(model.index(2, 0, file));
        QVERIFY(st.study.valid());
        QCOMPARE(st.studyData()->runs.size(), size_t(2));
        // A second copy, a replace, and removals keep the tester happy.
        auto doc2 = std::make_shared<const Document>(loadDocument(QString::fromStdString(path_)));
        model.addDocument(doc2);
        model.replaceDocument(1, doc2);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.indexOfPath(QString::fromStdString(path_)), 0);
        model.removeDocument(0);
        model.removeDocument(0);
        QCOMPARE(model.rowCount(), 0);
    }

    void tableModelSortsByRawValuesAndExportsCsv() {
        auto model = makeKernelModel(nullptr);
        QAbstractItemModelTester tester(model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        ss::core::KernelSummary a, b, c;
        a.name = "gemm";
        a.total_ns = 900'000;  // 900 µs
        a.count = 3;
        b.name = "layer, norm";  // a comma: quoted in CSV
        b.total_ns = 1'200'000;  // 1.2 ms: sorts after 900 µs although "1.20 ms" < "900 µs" as text
        b.count = 1;
        c.name = "gelu";
        c.total_ns = 5'000;
        model->setRows({a, b, c});
        QCOMPARE(model->rowCount(), 3);
        QCOMPARE(model->data(model->index(0, 3), Qt::DisplayRole).toString(), QStringLiteral("900.0 µs"));
        QSortFilterProxyModel proxy;
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        proxy.setSourceModel(model.get());
        proxy.setSortRole(SortRole);
        proxy.sort(3, Qt::DescendingOrder);
        QCOMPARE(proxy.data(proxy.index(0, 0)).toString(), QStringLiteral("layer, norm"));
        QCOMPARE(proxy.data(proxy.index(2, 0)).toString(), QStringLiteral("gelu"));
        const QString csv = modelToCsv(&proxy);
        const QStringList lines = csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 4);
        QVERIFY(lines[0].startsWith(QStringLiteral("Kernel,Kind,Calls,Total (ns)")));
        QVERIFY2(lines[1].startsWith(QStringLiteral("\"layer, norm\",kernel,1,1200000,")), qPrintable(lines[1]));
        QVERIFY(lines[2].startsWith(QStringLiteral("gemm,kernel,3,900000,")));
        // Only some rows.
        QCOMPARE(modelToCsv(&proxy, {2}).count(QLatin1Char('\n')), 2);
        model->setRows({});
        QCOMPARE(model->rowCount(), 0);
    }

    // A table's toolbar fits a narrow page: the title elides (whole in its tooltip), Copy and Export
    // share one button; a file that cannot be written is reported with the reason.
    void tablePanelFitsANarrowPage() {
        auto model = makeKernelModel(nullptr);
        const QString title = QStringLiteral("Kernels: time per step per rank, measured steps only");
        TablePanel panel(title, model.get());
        QVERIFY2(panel.minimumSizeHint().width() <= 240, qPrintable(QString::number(panel.minimumSizeHint().width())));
        panel.resize(240, 300);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QCOMPARE(panel.width(), 240);
        QLabel* label = nullptr;
        for (QLabel* l : panel.findChildren<QLabel*>())
            if (l->text().contains(QStringLiteral("Kernels"))) label = l;
        QVERIFY(label);
        QCOMPARE(label->toolTip(), title);
        QCOMPARE(label->font().pointSizeF(), QApplication::font().pointSizeF());  // bold, not bigger
        QVERIFY(label->font().bold());
        auto* csv = panel.findChild<QToolButton*>(QStringLiteral("csvButton"));
        QVERIFY(csv && csv->menu());
        QStringList items;
        for (const QAction* a : csv->menu()->actions()) items << a->text();
        QCOMPARE(items, (QStringList{QStringLiteral("Copy as CSV"), QStringLiteral("Export CSV…")}));
        QString error;
        QVERIFY(!panel.exportCsv(QStringLiteral("/nonexistent-folder/kernels.csv"), &error));
        QVERIFY2(!error.isEmpty(), "the reason is given");
    }

    // After a file is read (again): what was added is selected, else the user's run stays.
    void selectionAfterLoadPicksWhatWasAdded() {
        const QString path = dir_.filePath(QStringLiteral("reload.sqlite"));
        auto writeRun = [&](const char* model) {
            TraceWriter w(path.toStdString());
            RunInfo info;
            info.model = model;
            info.spec_json = "{}";
            info.world_size = 1;
            w.finish_run(w.begin_run(info), RunStatus::Completed, "", 100);
        };
        writeRun("a");
        writeRun("b");
        auto v1 = std::make_shared<const Document>(loadDocument(path));
        // A new file: its first run.
        Selection s = selectionAfterLoad(nullptr, v1, {});
        QCOMPARE(s.doc, v1);
        QCOMPARE(s.run.value, std::int64_t(1));
        QVERIFY(!s.study.valid());
        // Read again, nothing added: run 2 stays selected, in the new document.
        auto v1b = std::make_shared<const Document>(loadDocument(path));
        s = selectionAfterLoad(v1, v1b, Selection{v1, RunId(2), {}});
        QCOMPARE(s.doc, v1b);
        QCOMPARE(s.run.value, std::int64_t(2));
        // Another file was selected: the file opened again shows its first run.
        auto other = std::make_shared<const Document>(loadDocument(QString::fromStdString(path_)));
        QCOMPARE(selectionAfterLoad(v1, v1b, Selection{other, RunId(2), {}}).run.value, std::int64_t(1));
        QCOMPARE(selectionAfterLoad(v1, v1b, Selection{other, RunId(2), {}}).doc, v1b);
        // Two runs appended (a finished launch, then another): the newest is selected.
        writeRun("c");
        writeRun("d");
        auto v2 = std::make_shared<const Document>(loadDocument(path));
        s = selectionAfterLoad(v1b, v2, Selection{v1b, RunId(1), {}});
        QCOMPARE(s.run.value, std::int64_t(4));
        QVERIFY(!s.study.valid());
        // A study appended: the study, with its first run.
        {
            TraceWriter w(path.toStdString());
            StudyInfo st;
            st.name = "sweep";
            const StudyId id = w.add_study(st);
            w.add_study_run(StudyRun{id, RunId(3), "1", 1, 0});
            w.add_study_run(StudyRun{id, RunId(4), "2", 2, 0});
        }
        auto v3 = std::make_shared<const Document>(loadDocument(path));
        s = selectionAfterLoad(v2, v3, Selection{v2, RunId(4), {}});
        QVERIFY(s.study.valid());
        QCOMPARE(s.run.value, std::int64_t(3));
        // The study stays selected on the next plain reload.
        auto v3b = std::make_shared<const Document>(loadDocument(path));
        const Selection kept = selectionAfterLoad(v3, v3b, s);
        QCOMPARE(kept.study, s.study);
        QCOMPARE(kept.run.value, std::int64_t(3));
    }

    void stragglerRows() {
        using ss::core::Part;
        std::vector<ss::core::RankBreakdown> ranks(3);
        const double work[3] = {100, 100, 130};  // rank 2 works 30 % longer; the others wait for it
        for (int r = 0; r < 3; ++r) {
            ranks[r].rank = r;
            ranks[r].mean.part_ns[static_cast<int>(Part::Compute)] = work[r];
            ranks[r].mean.part_ns[static_cast<int>(Part::Idle)] = 130 - work[r];
            ranks[r].mean.step_ns = 130;
        }
        const auto rows = stragglers(ranks);
        QCOMPARE(rows.size(), size_t(3));
        QVERIFY(!rows[0].straggler);
        QVERIFY(rows[2].straggler);
        QVERIFY(qAbs(rows[2].vs_median - 0.3) < 1e-12);
        QCOMPARE(rows[0].wait_ns, 30.0);
        auto model = makeStragglerModel(nullptr);
        QAbstractItemModelTester tester(model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        model->setRows(rows);
        QCOMPARE(model->data(model->index(2, 4), Qt::DisplayRole).toString(), QStringLiteral("yes"));
    }

    void aggregatesFallback() {
        TraceReader rd(path_);
        const auto [k, c] = ss::core::summaries_from_aggregates(rd.aggregates(RunId(2)));
        QCOMPARE(k.size(), size_t(1));
        QCOMPARE(k[0].name, std::string("gemm"));
        QCOMPARE(k[0].count, std::int64_t(4));  // 2 ranks x 2 steps
        QCOMPARE(k[0].total_ns, std::int64_t(4 * 290));
        QVERIFY(c.size() >= 2);  // all_reduce, send, recv
    }

    void drawListLinksAndSteps() {
        TraceReader rd(path_);
        const auto rows = timelineRows(rd.lanes(RunId(2)));
        QCOMPARE(rows.size(), size_t(6));
        QCOMPARE(rows[0].laneName, std::string("steps"));
        QCOMPARE(rows[2].laneName, std::string("comm"));
        QCOMPARE(rows[3].rank, 1);
        DrawListOptions opt;
        opt.widthPx = 2000;  // 1 ns per pixel: nothing merges
        const DrawList dl = buildDrawList(rd, RunId(2), rows, TimeAxis{0, 1.0}, opt);
        QVERIFY(!dl.anyDensity);
        QCOMPARE(dl.eventsRead, std::int64_t(2 * 2 * 4));
        QCOMPARE(dl.steps.size(), size_t(2));  // rank 0's steps
        QCOMPARE(dl.steps[1].start, std::int64_t(1000));
        // Per step: one all-reduce link (rank 0 -> rank 1) and one send -> recv link.
        int coll = 0, p2p = 0;
        for (const Link& l : dl.links) {
            QCOMPARE(l.rowA, 2);  // rank 0's comm row
            QCOMPARE(l.rowB, 5);  // rank 1's comm row
            if (l.p2p) {
                ++p2p;
                QVERIFY(l.tB > l.tA);  // send start -> recv end
            } else {
                ++coll;
            }
        }
        QCOMPARE(coll, 2);
        QCOMPARE(p2p, 2);
        // Zoomed far out with a tiny budget and no level of detail: still every op, never a
        // guess (tests/gui/tst_gui_timeline_lod.cpp covers the density drawn from one).
        DrawListOptions tight;
        tight.widthPx = 100;
        tight.detailBudget = 1;
        tight.totalBudget = 1;
        const DrawList s = buildDrawList(rd, RunId(2), rows, TimeAxis::fit(0, 2000, 100), tight);
        QVERIFY(!s.anyDensity);
        QCOMPARE(s.eventsRead, std::int64_t(2 * 2 * 4));
        // Cancelled builds stop.
        CancelToken c;
        c.cancel();
        QVERIFY_THROWS_EXCEPTION(JobCancelled, buildDrawList(rd, RunId(2), rows, TimeAxis{0, 1.0}, opt, &c));
    }
};

QTEST_MAIN(ModelsTest)
#include "tst_gui_models.moc"

// The Compare page's Ops tab (HTA's TraceDiff) on two runs as an importer writes them
// (tests/core/tst_core_analysis_fixture.h write_imported_run: A without steps, B with): every op
// with its change and its calls and time per step and rank, the line counting the changes, the
// filter, and the page fits 1024x700 with the tab shown (screenshot with SCALESCOPE_TEST_SHOT_DIR).
#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QCoreApplication>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "gui/app/mainwindow.h"
#include "gui/common/format.h"
#include "gui/common/tablepanel.h"
#include "gui/compare/comparepage.h"
#include "tests/core/tst_core_analysis_fixture.h"

using namespace ss::gui;
using namespace ss::traces;

class TestGuiCompareOps : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString file_;

    static int rowOf(const QAbstractItemModel* m, const QString& name, const QString& side) {
        for (int r = 0; r < m->rowCount(); ++r)
            if (m->index(r, 0).data().toString() == name &&
                m->index(r, 1).data().toString() == side)
                return r;
        return -1;
    }

private slots:
    void initTestCase() {
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_compare_ops"));
        QVERIFY(dir_.isValid());
        file_ = dir_.filePath(QStringLiteral("imported.sqlite"));
        TraceWriter w(file_.toStdString());
        afx::write_imported_run(w, false, "control");
        afx::write_imported_run(w, true, "test");
    }

    void opsTable() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(file_);
        QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 30000));
        QVERIFY(w.showPage(QStringLiteral("compare")));
        w.show();
        auto* page = qobject_cast<ComparePage*>(w.page(QStringLiteral("compare")));
        QVERIFY(page);
        QVERIFY(QTest::qWaitFor([&] { return page->isReady() && page->opModel()->rowCount() > 0; },
                                30000));
        QCOMPARE(page->comboA()->currentIndex(), 0);
        QCOMPARE(page->comboB()->currentIndex(), 1);

        auto* m = page->opModel();
        QAbstractItemModelTester tester(m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m->rowCount(), 10);
        // Per step and rank (1 step × 2 ranks): gemm 1 -> 1.5 calls, 250 -> 295 ns.
        const int gemm = rowOf(m, QStringLiteral("gemm"), QStringLiteral("GPU"));
        QVERIFY(gemm >= 0);
        QCOMPARE(m->index(gemm, 2).data().toString(), QStringLiteral("increased"));
        QCOMPARE(m->index(gemm, 4).data().toString(), QStringLiteral("1.5"));
        QCOMPARE(m->index(gemm, 7).data().toString(), QStringLiteral("+") + formatDuration(45.0));
        QCOMPARE(
            m->index(rowOf(m, QStringLiteral("gemm2"), QStringLiteral("GPU")), 2).data().toString(),
            QStringLiteral("removed"));
        QCOMPARE(
            m->index(rowOf(m, QStringLiteral("relu"), QStringLiteral("GPU")), 2).data().toString(),
            QStringLiteral("added"));
        QCOMPARE(m->index(rowOf(m, QStringLiteral("cudaLaunchKernel"), QStringLiteral("host")), 2)
                     .data()
                     .toString(),
                 QStringLiteral("decreased"));
        auto* line = page->findChild<QLabel*>(QStringLiteral("opChanges"));
        QVERIFY(line);
        QVERIFY2(line->text().startsWith(
                     QStringLiteral("10 ops: <b>1 added</b>, <b>1 removed</b>, <b>2 changed</b> "
                                    "(1 called more often, 1 less often), 6 unchanged")),
                 qPrintable(line->text()));

        // The filter keeps the rows that say it.
        auto* panel = page->findChild<TablePanel*>(QStringLiteral("opTable"));
        QVERIFY(panel);
        panel->filterEdit()->setText(QStringLiteral("removed"));
        QCOMPARE(panel->proxy()->rowCount(), 1);
        QCOMPARE(panel->proxy()->index(0, 0).data().toString(), QStringLiteral("gemm2"));
        panel->filterEdit()->setText(QStringLiteral("GPU"));
        QCOMPARE(panel->proxy()->rowCount(), 6);
        panel->filterEdit()->clear();

        // Fits 1024x700 with the Ops tab shown.
        QTabWidget* tabs = nullptr;
        for (auto* t : page->findChildren<QTabWidget*>())
            for (int i = 0; i < t->count(); ++i)
                if (t->tabText(i) == QStringLiteral("Ops (TraceDiff)")) {
                    tabs = t;
                    t->setCurrentIndex(i);
                }
        QVERIFY(tabs);
        QTest::qWait(100);
        QVERIFY(panel->isVisible());
        QScrollArea* scroll = nullptr;
        for (QWidget* p = page->parentWidget(); p && !scroll; p = p->parentWidget())
            scroll = qobject_cast<QScrollArea*>(p);
        QVERIFY(scroll);
        const QByteArray shots = qgetenv("SCALESCOPE_TEST_SHOT_DIR");
        if (!shots.isEmpty())
            QVERIFY(w.grab().save(QString::fromLocal8Bit(shots) +
                                  QStringLiteral("/compare-ops-1024x700.png")));
        const QString why = QStringLiteral("page minimum %1x%2 in a viewport of %3x%4")
                                .arg(page->minimumSizeHint().width())
                                .arg(page->minimumSizeHint().height())
                                .arg(scroll->viewport()->width())
                                .arg(scroll->viewport()->height());
        QVERIFY2(!scroll->horizontalScrollBar()->isVisible(), qPrintable(why));
        QVERIFY2(!scroll->verticalScrollBar()->isVisible(), qPrintable(why));
    }
};

QTEST_MAIN(TestGuiCompareOps)
#include "tst_gui_compare_ops.moc"

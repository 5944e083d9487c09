// Workshop mode (issue 19): the class-results view over a folder of synthetic study files
// (tests/core/class_fixture.h) and the one-page study report (gui/common/report.h): the view's
// table and chart carry core::class_results' numbers and labels, a bad file is listed with its
// reason, a missing folder fails; the HTML report holds the table numbers and embedded <img>s, the
// PDF is a real PDF on one page; `scalescope --report`'s exit codes. With
// SCALESCOPE_CLASS_SHOTS=DIR it also saves DIR/class-results.png and DIR/report.png.
#include <QAbstractItemModelTester>
#include <QAction>
#include <QChart>
#include <QChartView>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>

#include <cmath>
#include <filesystem>

#include "gui/app/mainwindow.h"
#include "gui/common/chartexport.h"
#include "gui/common/format.h"
#include "gui/common/report.h"
#include "gui/common/tablepanel.h"
#include "gui/learn/classresultsview.h"
#include "tests/core/class_fixture.h"
#include "traces/reader.h"

using namespace ss::gui;
using namespace ss::core;

namespace {
int entryOf(const ClassResults& r, const std::string& file) {
    for (size_t i = 0; i < r.entries.size(); ++i)
        if (r.entries[i].file_name == file) return static_cast<int>(i);
    return -1;
}
QStringList seriesNames(QChartView* v) {
    QStringList names;
    for (auto* s : v->chart()->series())
        if (!s->name().isEmpty()) names << s->name();
    return names;
}
}  // namespace

class TestGuiClassResults : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString folder_;
    std::string file(const char* n) const {
        return (folder_ + QLatin1Char('/') + QLatin1String(n)).toStdString();
    }

    bool load(ClassResultsView& v, const QString& folder) {
        QSignalSpy loaded(&v, &ClassResultsView::loaded);
        v.setFolder(folder);
        return loaded.wait(30000);
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        folder_ = dir_.filePath(QStringLiteral("class"));
        QVERIFY(QDir().mkpath(folder_));
        // Measured-looking wobble on two machines (ben's points are exact: his f is checked as
        // 0.25).
        classfx::write_machine_study(file("anna.sqlite"),
                                     {"laptop-anna", 0.08, {1, 2, 4}, {1.0, 1.03, 0.98}});
        classfx::Machine ben{"laptop-ben", 0.25, {1, 2, 4}, {}, 4};
        classfx::write_machine_study(file("ben.sqlite"), ben);
        classfx::write_machine_study(file("lab.sqlite"),
                                     {"lab-pc-07", 0.03, {1, 2, 4, 8}, {1.0, 0.99, 1.04, 1.07}});
        QFile text(QString::fromStdString(file("notes.sqlite")));
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.write("not a trace");
    }

    void viewShowsEveryMachine() {
        ClassResultsView v;
        v.resize(1200, 800);
        v.show();
        QVERIFY(load(v, folder_));
        QVERIFY(v.results());
        const ClassResults& r = *v.results();
        QCOMPARE(r.entries.size(), size_t(3));
        QAbstractItemModelTester tester(v.machinesPanel()->proxy(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(v.machinesPanel()->proxy()->rowCount(), 3);
        // The f column shows the core fit of each file (sorted by f: lab, anna, ben).
        const QAbstractItemModel* m = v.machinesPanel()->proxy();
        QCOMPARE(m->index(0, 0).data().toString(), QStringLiteral("lab-pc-07"));
        QCOMPARE(m->index(2, 0).data().toString(), QStringLiteral("laptop-ben"));
        QCOMPARE(m->index(2, 6).data(SortRole).toDouble(),
                 r.entries[size_t(entryOf(r, "ben.sqlite"))].summary.serial_fraction);
        QCOMPARE(m->index(2, 6).data().toString(), QStringLiteral("0.25"));
        QCOMPARE(m->index(2, 4).data().toString(), QStringLiteral("2.29×"));
        QCOMPARE(m->index(2, 8).data().toString(), QStringLiteral("p = 4"));
        QCOMPARE(m->index(2, 1).data().toString(), QStringLiteral("cpu (OpenBLAS, 1 thread)"));
        // One series per machine, named by host with its f; the oversubscribed point marked.
        const QStringList names = seriesNames(v.chartView());
        QVERIFY2(names.contains(QStringLiteral("laptop-ben — f = 0.25")),
                 qPrintable(names.join(QLatin1Char('|'))));
        for (const char* f : {"anna.sqlite", "lab.sqlite"}) {
            const ClassEntry& e = r.entries[size_t(entryOf(r, f))];
            QVERIFY(names.contains(QStringLiteral("%1 — f = %2")
                                       .arg(QString::fromStdString(e.label),
                                            formatNumber(e.summary.serial_fraction, 2))));
        }
        QVERIFY(names.contains(QStringLiteral("oversubscribed")));
        // Legends whole (no "…" from Qt Charts eliding).
        QStringList texts;
        renderChart(v.chartView(), QSize(1200, 520), &texts);
        for (const QString& t : texts) QVERIFY2(!t.endsWith(QStringLiteral("...")), qPrintable(t));
        // The bad file with its reason; the status line counts both.
        QVERIFY(v.badFilesPanel()->isVisibleTo(&v));
        QCOMPARE(v.badFilesPanel()->proxy()->rowCount(), 1);
        QCOMPARE(v.badFilesPanel()->proxy()->index(0, 0).data().toString(),
                 QStringLiteral("notes.sqlite"));
        QVERIFY(v.badFilesPanel()->proxy()->index(0, 1).data().toString().contains(
            QStringLiteral("not a ScaleScope trace")));
        QVERIFY(v.statusLabel()->text().contains(QStringLiteral("3 machines")));
        QVERIFY(v.statusLabel()->text().contains(QStringLiteral("1 file could not be read")));
        // Selecting a machine enables its report and thickens its curve.
        v.selectEntry(entryOf(r, "ben.sqlite"));
        QCOMPARE(v.selectedEntry(), entryOf(r, "ben.sqlite"));
        for (auto* s : v.chartView()->chart()->series())
            if (s->name().startsWith(QStringLiteral("laptop-ben")))
                QVERIFY(static_cast<QLineSeries*>(s)->pen().widthF() > 4);
    }

    void missingFolderFails() {
        ClassResultsView v;
        QSignalSpy failed(&v, &ClassResultsView::failed);
        v.setFolder(dir_.filePath(QStringLiteral("nope")));
        QVERIFY(failed.wait(10000));
        QVERIFY(failed.front().front().toString().contains(QStringLiteral("is not a folder")));
        QVERIFY(!v.results());
        QVERIFY(v.statusLabel()->text().startsWith(QStringLiteral("Cannot read the folder")));
    }

    void htmlReport() {
        ClassResultsView v;
        QVERIFY(load(v, folder_));
        const int ben = entryOf(*v.results(), "ben.sqlite");
        const QString out = dir_.filePath(QStringLiteral("ben.html"));
        QString error;
        QVERIFY2(v.saveReport(ben, out, &error), qPrintable(error));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString html = QString::fromUtf8(f.readAll());
        QCOMPARE(html.count(QStringLiteral("<img src=\"data:image/png;base64,")), 2);
        // The table's numbers: S(4) = 1/(0.25 + 0.75/4) = 2.29, E = 57 %; S(2) = 1.60, E = 80 %.
        QVERIFY(html.contains(
            QStringLiteral("<td class=\"num\">2.29×</td><td class=\"num\">57 %</td>")));
        QVERIFY(html.contains(
            QStringLiteral("<td class=\"num\">1.60×</td><td class=\"num\">80 %</td>")));
        QVERIFY(html.contains(QStringLiteral("oversubscribed: more ranks than cores")));
        QVERIFY(html.contains(QStringLiteral("fits a serial fraction f = 0.25")));
        QVERIFY(html.contains(QStringLiteral("laptop-ben")));
        QVERIFY(html.contains(QStringLiteral("2026-12-01 08:30 UTC")));
        QVERIFY(html.contains(
            QString::fromStdString(v.results()->entries[size_t(ben)].summary.conclusion)
                .toHtmlEscaped()));
        // The embedded chart decodes to a real image.
        const int at = html.indexOf(QStringLiteral("base64,")) + 7;
        const QByteArray png = QByteArray::fromBase64(
            html.mid(at, html.indexOf(QLatin1Char('"'), at) - at).toLatin1());
        QImage img;
        QVERIFY(img.loadFromData(png, "PNG"));
        QCOMPARE(img.size(), QSize(800, 580));
        // A wrong suffix is refused.
        QVERIFY(!v.saveReport(ben, dir_.filePath(QStringLiteral("ben.txt")), &error));
        QVERIFY(error.contains(QStringLiteral(".html or .pdf")));
    }

    void pdfReport() {
        ClassResultsView v;
        QVERIFY(load(v, folder_));
        const int ben = entryOf(*v.results(), "ben.sqlite");
        const QString out = dir_.filePath(QStringLiteral("ben.pdf"));
        QString error;
        QVERIFY2(v.saveReport(ben, out, &error), qPrintable(error));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray pdf = f.readAll();
        QVERIFY(pdf.startsWith("%PDF"));
        QVERIFY2(pdf.size() > 1024, qPrintable(QString::number(pdf.size())));
        QCOMPARE(
            pdf.count("/Type /Page\n") + pdf.count("/Type /Page\r") + pdf.count("/Type /Page "), 1);
        QCOMPARE(pdf.count("/Subtype /Image"), 2);  // the two charts
        // The document the PDF prints is one page.
        QTextDocument doc;
        const StudySummary& s = v.results()->entries[size_t(ben)].summary;
        fillReportDocument(doc, s, reportImages(s));
        QCOMPARE(doc.pageCount(), 1);
    }

    void reportCommand() {
        const QString prog = QStringLiteral("scalescope");
        const QString out = dir_.filePath(QStringLiteral("cmd.html"));
        QCOMPARE(runReportCommand({prog, QStringLiteral("--report"),
                                   QString::fromStdString(file("lab.sqlite")), out}),
                 0);
        QVERIFY(QFile::exists(out));
        QCOMPARE(runReportCommand({prog, QStringLiteral("--report"),
                                   QString::fromStdString(file("lab.sqlite"))}),
                 2);
        QCOMPARE(runReportCommand({prog, QStringLiteral("--report"),
                                   QString::fromStdString(file("lab.sqlite")), out,
                                   QStringLiteral("--study"), QStringLiteral("x")}),
                 2);
        QCOMPARE(runReportCommand({prog, QStringLiteral("--report"),
                                   QString::fromStdString(file("notes.sqlite")), out}),
                 1);
        QCOMPARE(runReportCommand({prog, QStringLiteral("--report"),
                                   QString::fromStdString(file("lab.sqlite")), out,
                                   QStringLiteral("--study"), QStringLiteral("7")}),
                 1);
    }

    void fileMenuHasSaveReport() {
        MainWindow w;
        QAction* a = w.findChild<QAction*>(QStringLiteral("actionSaveReport"));
        QVERIFY(a);
        QCOMPARE(a->text(), QStringLiteral("Save &Report…"));
    }

    void screenshots() {
        const QString shots = qEnvironmentVariable("SCALESCOPE_CLASS_SHOTS");
        if (shots.isEmpty())
            QSKIP("set SCALESCOPE_CLASS_SHOTS=DIR to save class-results.png and report.png");
        QVERIFY(QDir().mkpath(shots));
        ClassResultsView v;
        v.resize(1280, 800);
        v.show();
        QVERIFY(load(v, folder_));
        QVERIFY(v.grab().save(shots + QStringLiteral("/class-results.png")));
        // The report of SCALESCOPE_CLASS_REPORT_FILE's last study (a recorded one), else ben's.
        StudySummary s = v.results()->entries[size_t(entryOf(*v.results(), "ben.sqlite"))].summary;
        const QString real = qEnvironmentVariable("SCALESCOPE_CLASS_REPORT_FILE");
        if (!real.isEmpty()) {
            ss::traces::TraceReader rd(real.toStdString());
            s = summarize_study(rd, rd.studies().back().id);
        }
        QVERIFY(renderReportPage(s, 1240).save(shots + QStringLiteral("/report.png")));
    }
};

QTEST_MAIN(TestGuiClassResults)
#include "tst_gui_class_results.moc"

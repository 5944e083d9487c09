// The chart pages through their widgets (issue 12): the Scaling page on a 2-point study (integer p
// ticks, zero printed as 0, no fake interval, warnings); charts following the dark palette at once
// with an ideal line that never looks like a law; the Compare page's labels, units, CSV and MFU;
// both pages at 1024×700 with whole labels. Only public widget API: it runs on older builds too.
#include <QAbstractItemModel>
#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QGraphicsSimpleTextItem>
#include <QGraphicsTextItem>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>

#include <cmath>
#include <functional>
#include <type_traits>

#include "gui/app/mainwindow.h"
#include "gui/app/theme.h"
#include "gui/common/charts.h"
#include "gui/common/tablemodel.h"
#include "gui/common/tablepanel.h"
#include "gui/compare/comparepage.h"
#include "gui/scaling/scalingpage.h"
#include "gui_fixture.h"
#include "gui_pages.h"

using namespace ss::gui;
using pages::elidedOf;
using pages::waitPage;

namespace {
// What the chart shows now: the texts of its visible text items (title, axes, legend). Qt Charts
// elides with "...".
QStringList shownTexts(const QChart* chart) {
    QStringList out;
    const QList<QGraphicsItem*> top = chart->childItems();
    std::vector<const QGraphicsItem*> stack(top.begin(), top.end());
    while (!stack.empty()) {
        const QGraphicsItem* i = stack.back();
        stack.pop_back();
        if (!i->isVisible()) continue;
        if (const auto* t = dynamic_cast<const QGraphicsTextItem*>(i);
            t && !t->toPlainText().isEmpty())
            out << t->toPlainText();
        if (const auto* t = dynamic_cast<const QGraphicsSimpleTextItem*>(i);
            t && !t->text().isEmpty())
            out << t->text();
        for (const QGraphicsItem* c : i->childItems()) stack.push_back(c);
    }
    return out;
}
// The chart view of `page` whose chart's title starts with `title`.
QChartView* chartView(QWidget* page, const QString& title) {
    for (QChartView* v : page->findChildren<QChartView*>())
        if (v->chart() && v->chart()->title().startsWith(title)) return v;
    return nullptr;
}
// The table of `page` with a column titled `header`.
const QAbstractItemModel* tableWith(QWidget* page, const QString& header) {
    for (TablePanel* t : page->findChildren<TablePanel*>()) {
        const QAbstractItemModel* m = t->view()->model();
        for (int c = 0; c < m->columnCount(); ++c)
            if (m->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString() == header) return m;
    }
    return nullptr;
}
// Column index by header title.
int column(const QAbstractItemModel* m, const QString& title) {
    for (int c = 0; c < m->columnCount(); ++c)
        if (m->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString() == title) return c;
    return -1;
}
int rowWith(const QAbstractItemModel* m, int col, const QString& text) {
    for (int r = 0; r < m->rowCount(); ++r)
        if (m->index(r, col).data().toString() == text) return r;
    return -1;
}
QStringList axisLabels(QAbstractAxis* a) {
    auto* c = qobject_cast<QCategoryAxis*>(a);
    return c ? c->categoriesLabels() : QStringList();
}
QString warningsOf(QWidget* page) {
    QStringList all;
    for (QLabel* l : page->findChildren<QLabel*>()) all << l->text();
    return all.join(QLatin1Char('\n'));
}
}  // namespace

class ChartPagesTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString trace_;

    bool openAndShow(MainWindow& w, const QString& page) { return pages::openAndShow(w, trace_, page); }
    static bool speedupDrawn(ScalingPage* p) {
        QChartView* v = chartView(p, QStringLiteral("Speedup"));
        return v && !v->chart()->series().isEmpty();
    }
    static bool summaryShown(ComparePage* p) {
        const QAbstractItemModel* m = tableWith(p, QStringLiteral("Metric"));
        return m && m->rowCount() > 0;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_chartpages"));
        trace_ = QString::fromStdString(fixture::writeTinyTrace(dir_));
        applyTheme(*qApp, ThemeKind::Light, 1.0);
    }

    // Items 12 and 13 on the page: the fixture's study has 2 points (p = 1, 2).
    void scalingTwoPoints() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(openAndShow(w, QStringLiteral("scaling")));
        auto* page = waitPage<ScalingPage>(w, speedupDrawn);
        QVERIFY(page);
        // Warnings: no interval, and the p = 64 projection is an extrapolation.
        const QString warn = warningsOf(page);
        QVERIFY2(warn.contains(QStringLiteral("every law passes through them; no interval")),
                 qPrintable(warn));
        QVERIFY2(warn.contains(QStringLiteral("32x the largest measured p (2): an extrapolation")),
                 qPrintable(warn));
        // No band for an interval that does not exist.
        QChart* cs = chartView(page, QStringLiteral("Speedup"))->chart();
        for (QAbstractSeries* s : cs->series())
            QVERIFY2(!qobject_cast<QAreaSeries*>(s), qPrintable(s->name()));
        // The projection table says so too.
        const QAbstractItemModel* pm = tableWith(page, QStringLiteral("Speedup CI"));
        QVERIFY(pm);
        QVERIFY(pm->rowCount() > 0);
        const int ci = column(pm, QStringLiteral("Speedup CI")),
                  note = column(pm, QStringLiteral("Note"));
        QVERIFY(ci >= 0 && note >= 0);
        for (int r = 0; r < pm->rowCount(); ++r) {
            QVERIFY2(pm->index(r, ci).data().toString().contains(QStringLiteral("no interval")),
                     qPrintable(pm->index(r, ci).data().toString()));
            QVERIFY(pm->index(r, note).data().toString().contains(
                QStringLiteral("extrapolation: 32×")));
        }
        // Ticks: integer process counts; the Karp–Flatt axis has a 0 and no exponent.
        for (const char* name : {"Speedup", "Efficiency", "Karp"}) {
            QChart* c = chartView(page, QString::fromLatin1(name))->chart();
            const QStringList px = axisLabels(c->axes(Qt::Horizontal).value(0));
            QVERIFY2(!px.isEmpty(), name);
            for (const QString& l : px) {
                bool ok = false;
                l.toInt(&ok);
                QVERIFY2(ok, qPrintable(l));
            }
            const QStringList py = axisLabels(c->axes(Qt::Vertical).value(0));
            QVERIFY2(py.size() >= 3, name);
            for (const QString& l : py) QVERIFY2(!l.contains(QLatin1Char('e')), qPrintable(l));
        }
        QChart* ck = chartView(page, QStringLiteral("Karp"))->chart();
        QVERIFY(axisLabels(ck->axes(Qt::Vertical).value(0)).contains(QStringLiteral("0")));
    }

    // Item 10: the charts follow the palette at once; the ideal line stays dashed grey.
    void darkPaletteRestylesAtOnce() {
        applyTheme(*qApp, ThemeKind::Light, 1.0);
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(openAndShow(w, QStringLiteral("scaling")));
        auto* page = waitPage<ScalingPage>(w, speedupDrawn);
        QVERIFY(page);
        QChartView* v = chartView(page, QStringLiteral("Speedup"));
        QChart* chart = v->chart();
        const QPalette dark = themePalette(ThemeKind::Dark), light = themePalette(ThemeKind::Light);
        // What the view shows: a pixel of the chart's background, left of the axis.
        auto background = [v] { return v->grab().toImage().pixelColor(8, v->height() / 2); };
        QVERIFY2(background().lightness() > 200, qPrintable(background().name()));

        applyTheme(*qApp, ThemeKind::Dark, 1.0);
        QCOMPARE(v->chart(), chart);  // no redraw: the same chart, restyled
        QVERIFY2(background().lightness() < 60, qPrintable(background().name()));
        QCOMPARE(chart->backgroundBrush().color(), dark.color(QPalette::Base));
        QCOMPARE(chart->titleBrush().color(), dark.color(QPalette::Text));
        QCOMPARE(chart->legend()->labelColor(), dark.color(QPalette::Text));
        for (QAbstractAxis* a : chart->axes())
            QCOMPARE(a->labelsColor(), dark.color(QPalette::Text));
        // Every chart of every page (Summary's breakdown, What-if's, Experiment's loss) follows.
        for (QChartView* cv : w.findChildren<QChartView*>())
            QVERIFY2(cv->chart() && cv->chart()->backgroundBrush().color() == dark.color(QPalette::Base),
                     qPrintable(cv->objectName() + QLatin1Char(' ') + cv->chart()->title() + QLatin1Char(' ') +
                                cv->chart()->backgroundBrush().color().name()));
        // The ideal line: named, dashed, grey, thinner than the laws and unlike any law's colour.
        QLineSeries* ideal = nullptr;
        QList<QLineSeries*> laws;
        for (QAbstractSeries* s : chart->series())
            if (auto* l = qobject_cast<QLineSeries*>(s)) {
                if (l->name() == QStringLiteral("ideal (S = p)"))
                    ideal = l;
                else if (!l->name().isEmpty())
                    laws << l;
            }
        QVERIFY(ideal);
        QVERIFY(!laws.isEmpty());
        QCOMPARE(ideal->pen().style(), Qt::DashLine);
        QVERIFY(ideal->pen().color().hsvSaturation() < 30);
        for (QLineSeries* l : laws) {
            QCOMPARE(l->pen().style(), Qt::SolidLine);
            QVERIFY(l->pen().color() != ideal->pen().color());
            QVERIFY(l->pen().widthF() > ideal->pen().widthF());
        }
        // A chart drawn while dark is dark too, and the ideal line is still dashed.
        QVERIFY(chartView(page, QStringLiteral("Efficiency"))->chart()->backgroundBrush().color() ==
                dark.color(QPalette::Base));
        // And back.
        applyTheme(*qApp, ThemeKind::Light, 1.0);
        QCOMPARE(chart->backgroundBrush().color(), light.color(QPalette::Base));
        QCOMPARE(ideal->pen().style(), Qt::DashLine);
    }

    // Items 7 and 6: labels for people, values in their units, CSV change in percent, MFU why.
    void compareLabelsUnitsMfu() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(openAndShow(w, QStringLiteral("compare")));
        auto* page = waitPage<ComparePage>(w, summaryShown);
        QVERIFY(page);
        // The summary table: the one of the two metric tables (summary, breakdown parts) with the
        // step time.
        TablePanel* panel = nullptr;
        for (TablePanel* t : page->findChildren<TablePanel*>()) {
            const QAbstractItemModel* m = t->view()->model();
            const int c = column(m, QStringLiteral("Metric"));
            if (c >= 0 && (rowWith(m, c, QStringLiteral("step time (median)")) >= 0 ||
                           rowWith(m, c, QStringLiteral("step_time_median")) >= 0))
                panel = t;
        }
        QVERIFY(panel);
        const QAbstractItemModel* sm = panel->view()->model();
        const int metric = column(sm, QStringLiteral("Metric")),
                  a = column(sm, QStringLiteral("A")), b = column(sm, QStringLiteral("B")),
                  change = column(sm, QStringLiteral("Change (%)")),
                  note = column(sm, QStringLiteral("Note"));
        QVERIFY(metric >= 0 && a >= 0 && b >= 0 && change >= 0 && note >= 0);
        for (int r = 0; r < sm->rowCount(); ++r)
            QVERIFY2(!sm->index(r, metric).data().toString().contains(QLatin1Char('_')),
                     qPrintable(sm->index(r, metric).data().toString()));
        const int st = rowWith(sm, metric, QStringLiteral("step time (median)"));
        QVERIFY(st >= 0);
        // The fixture: 900 ns per step at p = 1, 500 ns at p = 2.
        QCOMPARE(sm->index(st, a).data().toString(), QStringLiteral("900 ns"));
        QCOMPARE(sm->index(st, b).data().toString(), QStringLiteral("500 ns"));
        QCOMPARE(sm->index(st, change).data().toString(), QStringLiteral("-44 %"));
        QVERIFY(std::abs(sm->index(st, change).data(SortRole).toDouble() -
                         (500.0 / 900.0 - 1) * 100) < 1e-9);
        const QStringList csv = panel->csv(false).split(QLatin1Char('\n'));
        QVERIFY2(csv.front().contains(QStringLiteral("Change (%)")), qPrintable(csv.front()));
        bool line = false;
        for (const QString& l : csv)
            if (l.startsWith(QStringLiteral("step time (median),"))) {
                line = true;
                QVERIFY2(l.contains(QStringLiteral(",-44.4444444444")), qPrintable(l));
            }
        QVERIFY(line);
        // MFU: unknown here, and the table says why rather than a bare dash.
        const int mfu = rowWith(sm, metric, QStringLiteral("MFU"));
        QVERIFY(mfu >= 0);
        for (int c : {a, b}) {
            const QString t = sm->index(mfu, c).data().toString();
            QVERIFY2(t.startsWith(QStringLiteral("unknown: no ")), qPrintable(t));
        }
        QVERIFY(sm->index(mfu, note).data().toString().contains(QStringLiteral("unknown: no ")));
        // The breakdown chart names the parts for people.
        QChart* bc = chartView(page, QStringLiteral("Step breakdown"))->chart();
        QBarCategoryAxis* cats = nullptr;
        for (QAbstractAxis* ax : bc->axes())
            if (auto* c = qobject_cast<QBarCategoryAxis*>(ax)) cats = c;
        QVERIFY(cats);
        QVERIFY(cats->categories().contains(QStringLiteral("compute")));
        for (const QString& c : cats->categories())
            QVERIFY2(!c.contains(QLatin1Char('_')), qPrintable(c));
        // Item 7: no table header names a raw unit over cells that carry their own ("A per step
        // (ns)" over "1.25 ms"); the CSV header (the header's SortRole) still names it.
        int durationColumns = 0;
        for (QTableView* v : page->findChildren<QTableView*>()) {
            QAbstractItemModel* m = v->model();
            for (int c = 0; c < m->columnCount(); ++c) {
                const QString shown = m->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
                QVERIFY2(!shown.contains(QStringLiteral("(ns)")) && !shown.contains(QStringLiteral("(B/s)")),
                         qPrintable(shown));
                if (m->headerData(c, Qt::Horizontal, SortRole).toString().endsWith(QStringLiteral("(ns)")))
                    ++durationColumns;
            }
        }
        QVERIFY(durationColumns >= 5);  // kernel A, B, delta; collective A, B
    }

    // Item 12 on the Compare page's study chart: integer p ticks, nice speedup ticks, and an ideal
    // line that is not a law.
    void compareStudiesTicks() {
        const QString second = QString::fromStdString(fixture::writeTinyTrace(dir_, "tiny2.sqlite"));
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);  // and whole at the small size (item 9)
        w.show();
        QVERIFY(openAndShow(w, QStringLiteral("compare")));
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(second);
        QVERIFY(QTest::qWaitFor([&] { return opened.count() > 0; }, 20000));
        auto* page = w.findChild<ComparePage*>();
        QVERIFY(page);
        int sa = -1, sb = -1;
        for (int i = 0; i < page->comboA()->count(); ++i)
            if (page->comboA()->itemText(i).contains(QStringLiteral("study"))) (sa < 0 ? sa : sb) = i;
        QVERIFY2(sa >= 0 && sb >= 0, "two studies offered");
        page->comboA()->setCurrentIndex(sa);
        page->comboB()->setCurrentIndex(sb);
        QVERIFY(QTest::qWaitFor(
            [&] {
                QChartView* v = chartView(page, QStringLiteral("Speedup: A and B"));
                return page->isReady() && v && !v->chart()->series().isEmpty();
            },
            30000));
        QChart* c = chartView(page, QStringLiteral("Speedup: A and B"))->chart();
        const QStringList px = axisLabels(c->axes(Qt::Horizontal).value(0));
        QVERIFY(!px.isEmpty());
        for (const QString& l : px) {
            bool ok = false;
            l.toInt(&ok);
            QVERIFY2(ok, qPrintable(l));
        }
        const QStringList py = axisLabels(c->axes(Qt::Vertical).value(0));
        QVERIFY(py.contains(QStringLiteral("0")));
        for (const QString& l : py) QVERIFY2(!l.contains(QLatin1Char('e')), qPrintable(l));
        bool ideal = false;
        for (QAbstractSeries* s : c->series())
            if (auto* l = qobject_cast<QLineSeries*>(s); l && l->name() == QStringLiteral("ideal (S = p)"))
                ideal = l->pen().style() == Qt::DashLine;
        QVERIFY(ideal);
        const QStringList texts = shownTexts(c);
        QVERIFY2(elidedOf(texts).isEmpty(), qPrintable(elidedOf(texts).join(QStringLiteral(" | "))));
        // The legend: a wrapping label under the chart (charts.h withLegend).
        QLabel* legend = legendLabel(chartView(page, QStringLiteral("Speedup: A and B")));
        QVERIFY(legend);
        QVERIFY(legend->text().replace(QStringLiteral("&nbsp;"), QStringLiteral(" ")).contains(QStringLiteral("ideal (S = p)")));
    }

    // Item 9: at 1024×700 the Scaling legend and the Compare labels are whole, and neither page
    // needs horizontal scrolling; in both palettes.
    void fitAt1024x700_data() {
        QTest::addColumn<bool>("dark");
        QTest::newRow("light") << false;
        QTest::newRow("dark") << true;
    }
    void fitAt1024x700() {
        QFETCH(bool, dark);
        applyTheme(*qApp, dark ? ThemeKind::Dark : ThemeKind::Light, 1.0);
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(openAndShow(w, QStringLiteral("scaling")));
        auto* sp = waitPage<ScalingPage>(w, speedupDrawn);
        QVERIFY(sp);
        QChart* cs = chartView(sp, QStringLiteral("Speedup"))->chart();
        const QStringList texts = shownTexts(cs);
        QVERIFY2(elidedOf(texts).isEmpty(),
                 qPrintable(elidedOf(texts).join(QStringLiteral(" | "))));
        // The legend is a wrapping label under the chart (charts.h withLegend): every entry whole.
        QLabel* legend = legendLabel(chartView(sp, QStringLiteral("Speedup")));
        QVERIFY(legend && legend->isVisible());
        const QString legendText = legend->text().replace(QStringLiteral("&nbsp;"), QStringLiteral(" "));
        for (QLegendMarker* m : cs->legend()->markers())
            if (m->isVisible() && !m->label().isEmpty())
                QVERIFY2(legendText.contains(m->label().toHtmlEscaped()), qPrintable(m->label()));
        QVERIFY(legendText.contains(QStringLiteral("ideal (S = p)")));
        for (const char* n : {"Efficiency", "Karp"})
            QVERIFY2(elidedOf(shownTexts(chartView(sp, QString::fromLatin1(n))->chart())).isEmpty(),
                     n);
        if (auto* area = qobject_cast<QScrollArea*>(
                sp->parentWidget() ? sp->parentWidget()->parentWidget() : nullptr))
            QCOMPARE(area->horizontalScrollBar()->maximum(), 0);

        QVERIFY(w.showPage(QStringLiteral("compare")));
        auto* cp = waitPage<ComparePage>(w, summaryShown);
        QVERIFY(cp);
        QChart* bc = chartView(cp, QStringLiteral("Step breakdown"))->chart();
        const QStringList bt = shownTexts(bc);
        QVERIFY2(elidedOf(bt).isEmpty(), qPrintable(elidedOf(bt).join(QStringLiteral(" | "))));
        QVERIFY(bt.contains(QStringLiteral("compute")));
        if (auto* area = qobject_cast<QScrollArea*>(
                cp->parentWidget() ? cp->parentWidget()->parentWidget() : nullptr))
            QCOMPARE(area->horizontalScrollBar()->maximum(), 0);
        applyTheme(*qApp, ThemeKind::Light, 1.0);
    }
};

QTEST_MAIN(ChartPagesTest)
#include "tst_gui_chartpages.moc"

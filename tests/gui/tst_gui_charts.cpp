// The chart pages (issue 12): nice ticks as pure functions; the Scaling page on a 2-point study
// (integer p ticks, zero printed as 0, no fake interval, warnings); charts following the dark
// palette at once with an ideal line that never looks like a law; export at a chosen size with
// whole labels; the Compare page's labels, units and MFU; both pages at 1024×700.
#include <QAbstractItemModel>
#include <QAreaSeries>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QHorizontalBarSeries>
#include <QBarCategoryAxis>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTest>

#include <cmath>
#include <functional>
#include <type_traits>

#include "gui/app/mainwindow.h"
#include "gui/app/theme.h"
#include "gui/common/chartexport.h"
#include "gui/common/charts.h"
#include "gui/common/tablemodel.h"
#include "gui/common/tablepanel.h"
#include "gui/compare/comparepage.h"
#include "gui/scaling/scalingpage.h"
#include "gui_fixture.h"

using namespace ss::gui;

namespace {
bool elided(const QString& s) { return s.contains(QStringLiteral("...")) || s.contains(QChar(0x2026)); }
QStringList elidedOf(const QStringList& texts) {
    QStringList out;
    for (const QString& t : texts)
        if (elided(t)) out << t;
    return out;
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
}  // namespace

class ChartsTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString trace_;

    bool openAndShow(MainWindow& w, const QString& page) {
        QSignalSpy opened(&w, &MainWindow::documentOpened);
        w.openFile(trace_);
        if (!QTest::qWaitFor([&] { return opened.count() > 0; }, 20000)) return false;
        return w.showPage(page);
    }
    template <typename P>
    P* waitPage(MainWindow& w, const std::type_identity_t<std::function<bool(P*)>>& done) {
        P* p = w.findChild<P*>();
        if (!p) return nullptr;
        if (!QTest::qWaitFor([&] { return p->isReady() && done(p); }, 30000)) return nullptr;
        QTest::qWait(50);  // let the views lay out what was set
        return p;
    }
    static bool speedupDrawn(ScalingPage* p) {
        auto* v = p->findChild<QChartView*>(QStringLiteral("speedupChart"));
        return v && v->chart() && !v->chart()->series().isEmpty();
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_charts"));
        trace_ = QString::fromStdString(fixture::writeTinyTrace(dir_));
        applyTheme(*qApp, ThemeKind::Light, 1.0);
    }

    // Item 12: 1-2-5 steps, exact multiples (zero is 0), decimals from the step, integer p ticks.
    void niceTicksAndFormat() {
        QCOMPARE(niceStep(0, 1, 6), 0.2);
        QCOMPARE(niceTicks(0, 2.6, 6), (std::vector<double>{0, 1, 2, 3}));
        QCOMPARE(niceTicks(0, 1.15, 7), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2}));
        const std::vector<double> kf = niceTicks(-0.0138, 0.0897, 6);
        QCOMPARE(kf, (std::vector<double>{-0.05, 0, 0.05, 0.1}));
        QCOMPARE(kf[1], 0.0);  // exactly, not -2.78e-17
        for (double lo : {-3.7, 0.0, 0.013, 12.5})
            for (double span : {0.01, 0.9, 7.0, 1234.0})
                for (int n : {4, 6, 8}) {
                    const std::vector<double> t = niceTicks(lo, lo + span, n);
                    QVERIFY(static_cast<int>(t.size()) <= n);
                    QVERIFY(t.front() <= lo && t.back() >= lo + span);
                    const double step = niceStep(lo, lo + span, n);
                    const double m = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
                    QVERIFY2(std::abs(m - 1) < 1e-9 || std::abs(m - 2) < 1e-9 || std::abs(m - 5) < 1e-9, qPrintable(QString::number(step)));
                    for (size_t i = 1; i < t.size(); ++i) QVERIFY(std::abs(t[i] - t[i - 1] - step) < step * 1e-9);
                }
        QCOMPARE(formatTick(-2.78e-17, 0.05), QStringLiteral("0"));
        QCOMPARE(formatTick(0.0, 1), QStringLiteral("0"));
        QCOMPARE(formatTick(0.30000000000000004, 0.1), QStringLiteral("0.3"));
        QCOMPARE(formatTick(-0.05, 0.05), QStringLiteral("-0.05"));
        QCOMPARE(formatTick(0.1, 0.05), QStringLiteral("0.10"));
        QCOMPARE(formatTick(2, 1), QStringLiteral("2"));
        QCOMPARE(formatTick(1500, 500), QStringLiteral("1500"));
        QCOMPARE(processTicks({1, 2, 4}, 1, 8, 7, false), (std::vector<int>{1, 2, 4, 8}));
        QCOMPARE(processTicks({1, 2, 4, 8, 16, 32, 64}, 1, 128, 7, false), (std::vector<int>{1, 32, 64, 128}));
        QCOMPARE(processTicks({1, 3, 6}, 1, 12, 7, false), (std::vector<int>{1, 4, 6, 8}));
        QCOMPARE(processTicks({1, 2, 4, 8, 16, 32, 64}, 1, 128, 7, true), (std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128}));
        // No fractional p on a linear p axis.
        auto* a = qobject_cast<QCategoryAxis*>(makePAxis(false, 1, 4, {1, 2}));
        QVERIFY(a);
        QCOMPARE(a->categoriesLabels(), (QStringList{QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("4")}));
        delete a;
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
        auto* warn = page->findChild<QLabel*>(QStringLiteral("scalingWarnings"));
        QVERIFY(warn);
        QVERIFY2(warn->text().contains(QStringLiteral("no interval")), qPrintable(warn->text()));
        QVERIFY2(warn->text().contains(QStringLiteral("32x the largest measured p (2): an extrapolation")), qPrintable(warn->text()));
        // No band for an interval that does not exist.
        QChart* cs = page->findChild<QChartView*>(QStringLiteral("speedupChart"))->chart();
        for (QAbstractSeries* s : cs->series()) QVERIFY2(!qobject_cast<QAreaSeries*>(s), qPrintable(s->name()));
        // The projection table says so too.
        auto* proj = page->findChild<TablePanel*>(QStringLiteral("projectionTable"));
        QVERIFY(proj);
        const QAbstractItemModel* pm = proj->view()->model();
        QVERIFY(pm->rowCount() > 0);
        const int ci = column(pm, QStringLiteral("Speedup CI")), note = column(pm, QStringLiteral("Note"));
        QVERIFY(ci >= 0 && note >= 0);
        for (int r = 0; r < pm->rowCount(); ++r) {
            QVERIFY2(pm->index(r, ci).data().toString().contains(QStringLiteral("no interval")), qPrintable(pm->index(r, ci).data().toString()));
            QVERIFY(pm->index(r, note).data().toString().contains(QStringLiteral("extrapolation: 32×")));
        }
        // Ticks: integer process counts; the Karp–Flatt axis has a 0 and no exponent.
        for (const char* name : {"speedupChart", "efficiencyChart", "karpFlattChart"}) {
            QChart* c = page->findChild<QChartView*>(QString::fromLatin1(name))->chart();
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
        QChart* ck = page->findChild<QChartView*>(QStringLiteral("karpFlattChart"))->chart();
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
        QChartView* v = page->findChild<QChartView*>(QStringLiteral("speedupChart"));
        QChart* chart = v->chart();
        const QPalette dark = themePalette(ThemeKind::Dark), light = themePalette(ThemeKind::Light);
        QCOMPARE(chart->backgroundBrush().color(), light.color(QPalette::Base));

        applyTheme(*qApp, ThemeKind::Dark, 1.0);
        QCOMPARE(v->chart(), chart);  // no redraw: the same chart, restyled
        QCOMPARE(chart->backgroundBrush().color(), dark.color(QPalette::Base));
        QCOMPARE(chart->titleBrush().color(), dark.color(QPalette::Text));
        QCOMPARE(chart->legend()->labelColor(), dark.color(QPalette::Text));
        for (QAbstractAxis* a : chart->axes()) QCOMPARE(a->labelsColor(), dark.color(QPalette::Text));
        // The ideal line: named, dashed, grey, thinner than the laws and unlike any law's colour.
        QLineSeries* ideal = nullptr;
        QList<QLineSeries*> laws;
        for (QAbstractSeries* s : chart->series())
            if (auto* l = qobject_cast<QLineSeries*>(s)) {
                if (l->name() == QStringLiteral("ideal (S = p)")) ideal = l;
                else if (!l->name().isEmpty()) laws << l;
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
        QVERIFY(page->findChild<QChartView*>(QStringLiteral("efficiencyChart"))->chart()->backgroundBrush().color() ==
                dark.color(QPalette::Base));
        // And back.
        applyTheme(*qApp, ThemeKind::Light, 1.0);
        QCOMPARE(chart->backgroundBrush().color(), light.color(QPalette::Base));
        QCOMPARE(ideal->pen().style(), Qt::DashLine);
    }

    // Item 19: the export has the chosen size and whole labels, whatever the view's size.
    void exportAtChosenSize() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);
        w.show();
        QVERIFY(openAndShow(w, QStringLiteral("scaling")));
        auto* page = waitPage<ScalingPage>(w, speedupDrawn);
        QVERIFY(page);
        QChartView* v = page->findChild<QChartView*>(QStringLiteral("efficiencyChart"));
        v->chart()->legend()->show();  // more labels to keep whole
        v->setMinimumSize(100, 100);
        v->setFixedSize(140, 120);  // small enough that the screen elides
        QTest::qWait(50);
        const QRectF before = v->chart()->geometry();
        QVERIFY2(!elidedOf(chartTexts(v->chart())).isEmpty(), "the on-screen chart should be cramped for this test");
        QStringList texts;
        const QImage img = renderChart(v, QSize(1600, 1000), &texts);
        QCOMPARE(img.size(), QSize(1600, 1000));
        QVERIFY2(elidedOf(texts).isEmpty(), qPrintable(elidedOf(texts).join(QStringLiteral(" | "))));
        QVERIFY(texts.contains(QStringLiteral("Efficiency E(p) = S(p)/p")));
        QVERIFY(texts.contains(QStringLiteral("ideal (E = 1)")));
        QCOMPARE(v->chart()->geometry(), before);  // the screen is left as it was
        // Something was drawn across the image, not only in a screen-sized corner.
        const QColor bg = img.pixelColor(5, 5);
        int right = 0;
        for (int y = 0; y < 1000; y += 4)
            for (int x = 1200; x < 1600; x += 4)
                if (img.pixelColor(x, y) != bg) ++right;
        QVERIFY(right > 50);
        const QString png = dir_.filePath(QStringLiteral("e.png"));
        QVERIFY(saveChartPng(v, png, QSize(1920, 1080)));
        QCOMPARE(QImage(png).size(), QSize(1920, 1080));
    }

    // Items 7 and 6: labels for people, values in their units, CSV change in percent, MFU why.
    void compareLabelsUnitsMfu() {
        ss::core::MetricDelta m;
        m.name = "model_flop_per_s";
        m.unit = "FLOP/s";
        QCOMPARE(metricValueText(m, 1.111e11, false), QStringLiteral("111 GFLOP/s"));
        m.name = "tokens_per_s";
        m.unit = "1/s";
        QCOMPARE(metricValueText(m, 1350, false), QStringLiteral("1.35 k tokens/s"));
        m.unit = "ratio";
        QCOMPARE(metricValueText(m, 0.021, true), QStringLiteral("+2.1 points"));

        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(openAndShow(w, QStringLiteral("compare")));
        auto* page = waitPage<ComparePage>(w, [](ComparePage* p) {
            auto* t = p->findChild<TablePanel*>(QStringLiteral("compareSummary"));
            return t && t->view()->model()->rowCount() > 0;
        });
        QVERIFY(page);
        auto* panel = page->findChild<TablePanel*>(QStringLiteral("compareSummary"));
        const QAbstractItemModel* sm = panel->view()->model();
        const int metric = column(sm, QStringLiteral("Metric")), a = column(sm, QStringLiteral("A")),
                  b = column(sm, QStringLiteral("B")), change = column(sm, QStringLiteral("Change (%)")),
                  note = column(sm, QStringLiteral("Note"));
        QVERIFY(metric >= 0 && a >= 0 && b >= 0 && change >= 0 && note >= 0);
        for (int r = 0; r < sm->rowCount(); ++r)
            QVERIFY2(!sm->index(r, metric).data().toString().contains(QLatin1Char('_')), qPrintable(sm->index(r, metric).data().toString()));
        const int st = rowWith(sm, metric, QStringLiteral("step time (median)"));
        QVERIFY(st >= 0);
        // The fixture: 900 ns per step at p = 1, 500 ns at p = 2.
        QCOMPARE(sm->index(st, a).data().toString(), QStringLiteral("900 ns"));
        QCOMPARE(sm->index(st, b).data().toString(), QStringLiteral("500 ns"));
        QCOMPARE(sm->index(st, change).data().toString(), QStringLiteral("-44 %"));
        QVERIFY(std::abs(sm->index(st, change).data(SortRole).toDouble() - (500.0 / 900.0 - 1) * 100) < 1e-9);
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
        QChart* bc = page->findChild<QChartView*>(QStringLiteral("compareBreakdownChart"))->chart();
        QBarCategoryAxis* cats = nullptr;
        for (QAbstractAxis* ax : bc->axes())
            if (auto* c = qobject_cast<QBarCategoryAxis*>(ax)) cats = c;
        QVERIFY(cats);
        QVERIFY(cats->categories().contains(QStringLiteral("compute")));
        for (const QString& c : cats->categories()) QVERIFY2(!c.contains(QLatin1Char('_')), qPrintable(c));
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
        QChart* cs = sp->findChild<QChartView*>(QStringLiteral("speedupChart"))->chart();
        const QStringList texts = chartTexts(cs);
        QVERIFY2(elidedOf(texts).isEmpty(), qPrintable(elidedOf(texts).join(QStringLiteral(" | "))));
        for (QLegendMarker* m : cs->legend()->markers())
            if (m->isVisible()) QVERIFY2(texts.contains(m->label()), qPrintable(m->label()));
        QVERIFY(texts.contains(QStringLiteral("ideal (S = p)")));
        for (const char* n : {"efficiencyChart", "karpFlattChart"})
            QVERIFY2(elidedOf(chartTexts(sp->findChild<QChartView*>(QString::fromLatin1(n))->chart())).isEmpty(), n);
        if (auto* area = qobject_cast<QScrollArea*>(sp->parentWidget() ? sp->parentWidget()->parentWidget() : nullptr))
            QCOMPARE(area->horizontalScrollBar()->maximum(), 0);
        if (dark) sp->grab().save(QStringLiteral("/tmp/charts-test-scaling-1024-dark.png"));

        QVERIFY(w.showPage(QStringLiteral("compare")));
        auto* cp = waitPage<ComparePage>(w, [](ComparePage* p) {
            auto* t = p->findChild<TablePanel*>(QStringLiteral("compareSummary"));
            return t && t->view()->model()->rowCount() > 0;
        });
        QVERIFY(cp);
        QChart* bc = cp->findChild<QChartView*>(QStringLiteral("compareBreakdownChart"))->chart();
        const QStringList bt = chartTexts(bc);
        QVERIFY2(elidedOf(bt).isEmpty(), qPrintable(elidedOf(bt).join(QStringLiteral(" | "))));
        QVERIFY(bt.contains(QStringLiteral("compute")));
        if (auto* area = qobject_cast<QScrollArea*>(cp->parentWidget() ? cp->parentWidget()->parentWidget() : nullptr))
            QCOMPARE(area->horizontalScrollBar()->maximum(), 0);
        applyTheme(*qApp, ThemeKind::Light, 1.0);
    }
};

QTEST_MAIN(ChartsTest)
#include "tst_gui_charts.moc"

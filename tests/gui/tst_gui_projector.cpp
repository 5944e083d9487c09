// Charts a projector can carry (issue 19): nice value ticks (1-2-5 steps), integer process-count
// ticks (log₂ where it helps), numbers formatted for people (rates with SI prefixes, durations in
// ns/µs/ms/s), legends under the chart that are never cut, and on the pages at 1024×700 with a
// projector's font zoom: whole chart texts, the oversubscribed point drawn but not fitted, and no
// table header naming "(ns)" over cells shown in other units.
#include <QAbstractItemModel>
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QRegularExpression>
#include <QScatterSeries>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextDocument>
#include <QTest>

#include <cmath>

#include "gui/app/mainwindow.h"
#include "gui/app/theme.h"
#include "gui/common/chartexport.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "gui/common/tablepanel.h"
#include "gui/compare/comparepage.h"
#include "gui/scaling/scalingpage.h"
#include "gui/summary/summarypage.h"
#include "gui_fixture.h"
#include "gui_pages.h"

using namespace ss::gui;
using pages::elidedOf;
using pages::waitPage;

namespace {
// A study like the default one on a 2-core machine: the MLP at p = 1, 2, 4 with steps of 55, 35 and
// 43 ms; p = 4 ran oversubscribed.
std::string writeDefaultLikeStudy(const QTemporaryDir& dir) {
    using namespace ss::traces;
    const std::string path = dir.filePath(QStringLiteral("default-like.sqlite")).toStdString();
    TraceWriter w(path);
    const int ps[3] = {1, 2, 4};
    const std::int64_t stepNs[3] = {55'000'000, 35'000'000, 43'000'000};
    RunId runs[3];
    for (int k = 0; k < 3; ++k) {
        RunInfo info;
        info.name = "mlp-dp" + std::to_string(ps[k]);
        info.spec_json = "{}";
        info.model = "mlp-default";
        info.backend = "cpu";
        info.world_size = ps[k];
        info.dp = ps[k];
        info.hosts = {"projector-test-host"};
        info.oversubscribed = ps[k] > 2;
        info.start_ns = 0;
        const RunId run = w.begin_run(info);
        runs[k] = run;
        const StringId step = w.intern("step"), gemm = w.intern("linear_forward");
        for (int rank = 0; rank < ps[k]; ++rank) {
            RankInfo ri;
            ri.run = run;
            ri.rank = rank;
            ri.host = "projector-test-host";
            ri.clock_corrected = true;
            w.put_rank(ri);
            for (std::int32_t l : {lanes::kSteps, lanes::kCompute}) w.define_lane(run, rank, l, lanes::name(l));
        }
        for (std::int64_t s = 0; s < 6; ++s) {
            const std::int64_t t = s * 60'000'000;
            for (int rank = 0; rank < ps[k]; ++rank) {
                w.add_event(fixture::ev(run, rank, lanes::kSteps, EventKind::Step, step, t, t + stepNs[k], s));
                Event g = fixture::ev(run, rank, lanes::kCompute, EventKind::Kernel, gemm, t + 1000, t + stepNs[k] - 1000, s);
                g.flops = 1e9;
                w.add_event(g);
            }
        }
        w.finish_run(run, RunStatus::Completed, "", 6 * 60'000'000);
    }
    StudyInfo st;
    st.name = "mlp-dp study";
    st.variable = "parallel.dp";
    st.scaling = "strong";
    const StudyId sid = w.add_study(st);
    for (int k = 0; k < 3; ++k) w.add_study_run(StudyRun{sid, runs[k], std::to_string(ps[k]), ps[k], 0});
    return path;
}

// Every table of `page`: (header, display texts of its column).
struct ColumnTexts {
    QString header;
    QStringList cells;
};
std::vector<ColumnTexts> tableColumns(QWidget* page) {
    std::vector<ColumnTexts> out;
    for (TablePanel* t : page->findChildren<TablePanel*>()) {
        const QAbstractItemModel* m = t->view()->model();
        for (int c = 0; c < m->columnCount(); ++c) {
            ColumnTexts col{m->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString(), {}};
            for (int r = 0; r < m->rowCount(); ++r) col.cells << m->index(r, c).data().toString();
            out.push_back(col);
        }
    }
    return out;
}
// A header names a time unit only over cells in that unit, and no cell is in scientific notation.
void checkHeadersAndNumbers(QWidget* page, const char* name, bool noScientific) {
    static const QRegularExpression unitOfHeader(QStringLiteral("\\((ns|µs|ms|s)\\)"));
    static const QRegularExpression timeCell(QStringLiteral("^[-+]?[0-9.]+ (ns|µs|ms|s)$"));
    static const QRegularExpression scientific(QStringLiteral("[0-9]e[-+]?[0-9]"));
    int rows = 0;
    for (const ColumnTexts& col : tableColumns(page)) {
        const auto hm = unitOfHeader.match(col.header);
        for (const QString& cell : col.cells) {
            ++rows;
            if (hm.hasMatch()) {
                const auto cm = timeCell.match(cell);
                QVERIFY2(!cm.hasMatch() || cm.captured(1) == hm.captured(1),
                         qPrintable(QStringLiteral("%1: header '%2' over '%3'").arg(QLatin1String(name), col.header, cell)));
            }
            if (noScientific)
                QVERIFY2(!scientific.match(cell).hasMatch(),
                         qPrintable(QStringLiteral("%1: '%2' under '%3'").arg(QLatin1String(name), cell, col.header)));
        }
    }
    QVERIFY2(rows > 0, name);
}
}  // namespace

class ProjectorTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString trace_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_projector"));
        trace_ = QString::fromStdString(writeDefaultLikeStudy(dir_));
    }

    // ---- Ticks ----
    void niceValueTicks() {
        // [0, 1.62]: 0, 0.5, 1, 1.5, 2, never 0.541, 1.08, 1.62.
        const std::vector<double> t = niceTicks(0, 1.62, 5);
        QCOMPARE(t, (std::vector<double>{0, 0.5, 1, 1.5, 2}));
        QCOMPARE(formatTick(0, 0.5), QStringLiteral("0"));
        QCOMPARE(formatTick(1.5, 0.5), QStringLiteral("1.5"));
        // Every step over many ranges is 1, 2 or 5 × 10^e, and every tick a whole multiple of it.
        for (double lo : {0.0, -0.37, 0.541, 3.0, 1234.0})
            for (double span : {0.013, 0.2, 1.08, 1.62, 7.3, 55.1, 980.0, 2.5e6})
                for (int n : {4, 5, 6, 8}) {
                    const double step = niceStep(lo, lo + span, n);
                    const double e = std::floor(std::log10(step) + 1e-9);
                    const double m = step / std::pow(10.0, e);
                    QVERIFY2(std::fabs(m - 1) < 1e-9 || std::fabs(m - 2) < 1e-9 || std::fabs(m - 5) < 1e-9,
                             qPrintable(QStringLiteral("step %1 for [%2, %3]").arg(step).arg(lo).arg(lo + span)));
                    const std::vector<double> ticks = niceTicks(lo, lo + span, n);
                    QVERIFY(ticks.size() <= static_cast<size_t>(std::max(3, n)) && ticks.size() >= 2);
                    QVERIFY(ticks.front() <= lo + 1e-12 && ticks.back() >= lo + span - 1e-12);
                    for (double v : ticks) QVERIFY(std::fabs(v / step - std::round(v / step)) < 1e-6);
                }
    }

    void processCountTicks() {
        // Up to p = 4: 1, 2, 4 (integers; no 1.5, no 3 unless measured).
        QCOMPARE(processTicks({1, 2, 4}, 1, 4, 7, false), (std::vector<int>{1, 2, 4}));
        QCOMPARE(processTicks({1, 2, 4}, 1, 4, 7, true), (std::vector<int>{1, 2, 4}));
        // Up to 12 on log₂: the powers of two and the measured 12, evenly spaced.
        QCOMPARE(processTicks({1, 2, 4, 8, 12}, 1, 12, 7, true), (std::vector<int>{1, 2, 4, 8, 12}));
        // Up to 12 linear: thinned from the top, p = 1 kept.
        const std::vector<int> lin = processTicks({1, 2, 4, 8, 12}, 1, 12, 7, false);
        QCOMPARE(lin.front(), 1);
        QCOMPARE(lin.back(), 12);
        // log₂ helps from a span of 8× on (1, 2, 4, 8 would crowd a linear axis's first eighth).
        QVERIFY(!log2Helps(1, 4));
        QVERIFY(!log2Helps(1, 6));
        QVERIFY(log2Helps(1, 8));
        QVERIFY(log2Helps(1, 96));
        // The axes name their unit.
        std::unique_ptr<QAbstractAxis> lin8(makePAxis(false, 1, 8, {1, 2, 4}));
        std::unique_ptr<QAbstractAxis> log8(makePAxis(true, 1, 8, {1, 2, 4}));
        QCOMPARE(lin8->titleText(), QStringLiteral("processes p"));
        QCOMPARE(log8->titleText(), QStringLiteral("processes p (log₂)"));
    }

    // ---- Numbers ----
    void numbersForPeople() {
        QCOMPARE(formatDuration(812), QStringLiteral("812 ns"));
        QCOMPARE(formatDuration(3410), QStringLiteral("3.41 µs"));
        QCOMPARE(formatDuration(35.07e6), QStringLiteral("35.1 ms"));
        QCOMPARE(formatDuration(1.25e9), QStringLiteral("1.250 s"));
        QCOMPARE(formatRate(13650, QStringLiteral("samples/s")), QStringLiteral("13.7 k samples/s"));
        QCOMPARE(formatRate(13650, QStringLiteral("/s")), QStringLiteral("13.7 k/s"));
        QCOMPARE(formatRate(1.111e11, QStringLiteral("FLOP/s")), QStringLiteral("111 GFLOP/s"));
        QCOMPARE(formatRate(8650, QStringLiteral("tokens/s")), QStringLiteral("8.65 k tokens/s"));
        QCOMPARE(formatRate(-1, QStringLiteral("FLOP/s")), QStringLiteral("–"));  // unknown
        ss::core::MetricDelta m;
        m.name = "samples_per_s";
        m.unit = "1/s";
        QCOMPARE(metricValueText(m, 13650, false), QStringLiteral("13.7 k samples/s"));
        QCOMPARE(metricValueText(m, -20035, true), QStringLiteral("-20.0 k samples/s"));
        QCOMPARE(formatRate(999.96, QStringLiteral("/s")), QStringLiteral("1.00 k/s"));
        QCOMPARE(formatRate(5, QStringLiteral("samples/s")), QStringLiteral("5.00 samples/s"));
        QCOMPARE(formatBandwidth(3.2e9), QStringLiteral("3.20 GB/s"));
        QCOMPARE(formatTimeTick(0, 1e9), QStringLiteral("0"));
        QCOMPARE(formatTimeTick(2e9, 1e9), QStringLiteral("2 s"));
        QCOMPARE(formatTimeTick(2.5e9, 5e8), QStringLiteral("2.5 s"));
        QCOMPARE(formatTimeTick(750e6, 250e6), QStringLiteral("0.75 s"));
        QCOMPARE(formatTimeTick(35e6, 5e6), QStringLiteral("35 ms"));
        QCOMPARE(formatTimeTick(12500, 2500), QStringLiteral("12.5 µs"));
        QCOMPARE(formatTimeTick(400, 100), QStringLiteral("400 ns"));
        QCOMPARE(formatNumber(13650, 4), QStringLiteral("13650"));
        QCOMPARE(formatNumber(13650, 3), QStringLiteral("13700"));
        QCOMPARE(formatNumber(1.5, 3), QStringLiteral("1.5"));
        QCOMPARE(formatNumber(1.2e-5, 3), QStringLiteral("1.2e-05"));
    }

    // ---- Legends ----
    void legendUnderTheChartIsWhole() {
        applyTheme(*qApp, ThemeKind::Light, 1.6);  // a projector's zoom
        auto* view = makeChartView(QStringLiteral("legend-test"));
        view->setObjectName(QStringLiteral("legendTestChart"));
        QWidget* box = withLegend(view);
        box->resize(260, 320);  // narrower than any one-row legend of these names
        auto* chart = new QChart;
        const QStringList names{QStringLiteral("ideal (S = p)"), QStringLiteral("Amdahl"), QStringLiteral("Gustafson"),
                                QStringLiteral("oversubscribed (not fitted)")};
        for (const QString& n : names) {
            auto* s = n.startsWith(QStringLiteral("over")) ? static_cast<QXYSeries*>(new QScatterSeries) : new QLineSeries;
            s->setName(n);
            s->append(1, 1);
            s->append(2, 2);
            chart->addSeries(s);
        }
        setChart(view, chart);
        box->show();
        QVERIFY(QTest::qWaitForWindowExposed(box));
        QLabel* label = legendLabel(view);
        QVERIFY(label);
        QCOMPARE(label->objectName(), QStringLiteral("legendTestChartLegend"));
        QVERIFY(!chart->legend()->isVisible());  // the chart's own would elide at this width
        QTest::qWait(20);
        QVERIFY2(label->height() >= label->heightForWidth(label->width()), "the legend label is cut");
        QTextDocument doc;
        doc.setHtml(label->text());
        const QString plain = doc.toPlainText().replace(QChar(0xa0), QLatin1Char(' '));
        for (const QString& n : names) QVERIFY2(plain.contains(n), qPrintable(plain));
        QVERIFY(elidedOf({plain}).isEmpty());
        // The export shows the chart's own legend again, whole at the export size, then hides it.
        QStringList texts;
        renderChart(view, QSize(1600, 1000), &texts);
        for (const QString& n : names) QVERIFY2(texts.contains(n), qPrintable(texts.join(QStringLiteral(" | "))));
        QVERIFY(!chart->legend()->isVisible());
        delete box;
        applyTheme(*qApp, ThemeKind::Light, 1.0);
    }

    // ---- The pages at 1024×700 under a projector's zoom ----
    void pagesAtProjectorZoom() {
        applyTheme(*qApp, ThemeKind::Light, 1.4);
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(pages::openAndShow(w, trace_, QStringLiteral("scaling")));
        auto* sp = waitPage<ScalingPage>(w, [](ScalingPage* p) {
            auto* v = p->findChild<QChartView*>(QStringLiteral("speedupChart"));
            return v && v->chart() && !v->chart()->series().isEmpty();
        });
        QVERIFY(sp);
        // The oversubscribed p = 4 is drawn, flagged and named in the legend, not fitted.
        auto* speedup = sp->findChild<QChartView*>(QStringLiteral("speedupChart"));
        QLabel* legend = legendLabel(speedup);
        QVERIFY(legend && legend->isVisible());
        QTextDocument doc;
        doc.setHtml(legend->text());
        const QString plain = doc.toPlainText().replace(QChar(0xa0), QLatin1Char(' '));
        for (const char* n : {"ideal (S = p)", "Amdahl", "Gustafson", "run", "mean", "oversubscribed (not fitted)"})
            QVERIFY2(plain.contains(QLatin1String(n)), qPrintable(plain));
        // Through the one fitted p > 1 the USL is Amdahl's law (κ = 0): drawn once, as Amdahl.
        QVERIFY2(!plain.contains(QStringLiteral("USL")), qPrintable(plain));
        // The warnings are in the Notes tab, counted in its title.
        auto* notes = sp->findChild<QLabel*>(QStringLiteral("scalingWarnings"));
        QVERIFY(notes && notes->text().contains(QStringLiteral("left out of the fits")));
        QVERIFY2(legend->height() >= legend->heightForWidth(legend->width()), "the legend label is cut");
        bool unfitted = false;
        for (QAbstractSeries* s : speedup->chart()->series())
            if (s->name() == QStringLiteral("oversubscribed (not fitted)")) {
                auto* sc = qobject_cast<QScatterSeries*>(s);
                QVERIFY(sc && sc->count() == 1 && sc->at(0).x() == 4);
                unfitted = true;
            }
        QVERIFY(unfitted);
        auto* sentence = sp->findChild<QLabel*>(QStringLiteral("scalingSentence"));
        QVERIFY(sentence && sentence->isVisible());
        QVERIFY2(sentence->text().contains(QStringLiteral("ran 1.57x faster on 2 ranks than on 1 (79 % efficiency)")),
                 qPrintable(sentence->text()));
        QVERIFY2(sentence->text().contains(QStringLiteral("4 ranks share fewer cores than ranks, so that point is shown but not fitted")),
                 qPrintable(sentence->text()));
        // Titles, axis titles and ticks of the three charts are whole.
        for (const char* n : {"speedupChart", "efficiencyChart", "karpFlattChart"}) {
            auto* v = sp->findChild<QChartView*>(QLatin1String(n));
            QVERIFY(v);
            const QStringList texts = chartTexts(v->chart());
            QVERIFY2(elidedOf(texts).isEmpty(), qPrintable(QLatin1String(n) + QStringLiteral(": ") +
                                                          elidedOf(texts).join(QStringLiteral(" | "))));
        }
        checkHeadersAndNumbers(sp, "scaling", false);

        QVERIFY(w.showPage(QStringLiteral("summary")));
        auto* sum = waitPage<SummaryPage>(w, [](SummaryPage* p) {
            for (QChartView* v : p->findChildren<QChartView*>())
                if (v->chart() && !v->chart()->series().isEmpty()) return true;
            return false;
        });
        QVERIFY(sum);
        checkHeadersAndNumbers(sum, "summary", true);
        for (QChartView* v : sum->findChildren<QChartView*>())
            if (QLabel* l = legendLabel(v); l && l->isVisible())
                QVERIFY2(l->height() >= l->heightForWidth(l->width()), "the summary legend is cut");

        QVERIFY(w.showPage(QStringLiteral("compare")));
        auto* cmp = waitPage<ComparePage>(w, [](ComparePage* p) {
            for (TablePanel* t : p->findChildren<TablePanel*>())
                if (t->view()->model()->rowCount() > 0) return true;
            return false;
        });
        QVERIFY(cmp);
        checkHeadersAndNumbers(cmp, "compare", true);
        applyTheme(*qApp, ThemeKind::Light, 1.0);
    }
};

QTEST_MAIN(ProjectorTest)
#include "tst_gui_projector.moc"

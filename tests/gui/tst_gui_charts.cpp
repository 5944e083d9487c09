// The chart helpers (issue 12): nice ticks as pure functions (items 12), the Compare page's value
// texts (item 7), and export at a chosen size with whole labels (item 19). The pages themselves
// are driven in tst_gui_chartpages.
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QFile>
#include <QLegend>
#include <QSignalSpy>
#include <QTest>
#include <QValueAxis>

#include <cmath>
#include <functional>
#include <type_traits>

#include "gui/app/mainwindow.h"
#include "gui/app/theme.h"
#include "gui/common/chartexport.h"
#include "gui/common/charts.h"
#include "gui/compare/comparepage.h"
#include "gui/scaling/scalingpage.h"
#include "gui_fixture.h"
#include "gui_pages.h"

using namespace ss::gui;
using pages::elidedOf;
using pages::waitPage;


class ChartsTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString trace_;

    bool openAndShow(MainWindow& w, const QString& page) { return pages::openAndShow(w, trace_, page); }
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

    // Item 12 on a live axis (the Experiment page's loss curve): nice range and step, labels with
    // the decimals the step needs (the loss axis read 0.0 1.5 3.0 4.6 6.1 and steps 0 1 3 4 6).
    void liveAxisTicks() {
        QValueAxis loss, steps, small;
        setNiceTicks(&loss, 0, 6.1 * 1.05, 5);
        QCOMPARE(loss.min(), 0.0);
        QCOMPARE(loss.max(), 8.0);
        QCOMPARE(loss.tickType(), QValueAxis::TicksDynamic);
        QCOMPARE(loss.tickInterval(), 2.0);
        QCOMPARE(loss.labelFormat(), QStringLiteral("%.0f"));
        setNiceTicks(&steps, 0, 6, 7);  // 6 steps: at most one tick a step
        QCOMPARE(steps.max(), 6.0);
        QCOMPARE(steps.tickInterval(), 1.0);
        setNiceTicks(&small, 0, 0.33, 5);
        QCOMPARE(small.max(), 0.4);
        QVERIFY(std::abs(small.tickInterval() - 0.1) < 1e-12);
        QCOMPARE(small.labelFormat(), QStringLiteral("%.1f"));
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
                    QVERIFY2(
                        std::abs(m - 1) < 1e-9 || std::abs(m - 2) < 1e-9 || std::abs(m - 5) < 1e-9,
                        qPrintable(QString::number(step)));
                    for (size_t i = 1; i < t.size(); ++i)
                        QVERIFY(std::abs(t[i] - t[i - 1] - step) < step * 1e-9);
                }
        QCOMPARE(formatTick(-2.78e-17, 0.05), QStringLiteral("0"));
        QCOMPARE(formatTick(0.0, 1), QStringLiteral("0"));
        QCOMPARE(formatTick(0.30000000000000004, 0.1), QStringLiteral("0.3"));
        QCOMPARE(formatTick(-0.05, 0.05), QStringLiteral("-0.05"));
        QCOMPARE(formatTick(0.1, 0.05), QStringLiteral("0.10"));
        QCOMPARE(formatTick(2, 1), QStringLiteral("2"));
        QCOMPARE(formatTick(1500, 500), QStringLiteral("1500"));
        QCOMPARE(processTicks({1, 2, 4}, 1, 8, 7, false), (std::vector<int>{1, 2, 4, 8}));
        QCOMPARE(processTicks({1, 2, 4, 8, 16, 32, 64}, 1, 128, 7, false),
                 (std::vector<int>{1, 32, 64, 128}));
        QCOMPARE(processTicks({1, 3, 6}, 1, 12, 7, false), (std::vector<int>{1, 4, 6, 8}));
        QCOMPARE(processTicks({1, 2, 4, 8, 16, 32, 64}, 1, 128, 7, true),
                 (std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128}));
        // No fractional p on a linear p axis.
        auto* a = qobject_cast<QCategoryAxis*>(makePAxis(false, 1, 4, {1, 2}));
        QVERIFY(a);
        QCOMPARE(a->categoriesLabels(),
                 (QStringList{QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("4")}));
        delete a;
    }

    // Item 7: values in their units, SI prefixes, percentage points.
    void compareValueTexts() {
        ss::core::MetricDelta m;
        m.name = "model_flop_per_s";
        m.unit = "FLOP/s";
        QCOMPARE(metricValueText(m, 1.111e11, false), QStringLiteral("111 GFLOP/s"));
        m.name = "tokens_per_s";
        m.unit = "1/s";
        QCOMPARE(metricValueText(m, 1350, false), QStringLiteral("1.35 k tokens/s"));
        m.unit = "ratio";
        QCOMPARE(metricValueText(m, 0.021, true), QStringLiteral("+2.1 points"));

        m.unit = "ns";
        QCOMPARE(metricValueText(m, 2.31e7, false), QStringLiteral("23.1 ms"));
        QCOMPARE(metricValueText(m, -8.79e6, true), QStringLiteral("-8.79 ms"));
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
        QVERIFY2(!elidedOf(chartTexts(v->chart())).isEmpty(),
                 "the on-screen chart should be cramped for this test");
        QStringList texts;
        const QImage img = renderChart(v, QSize(1600, 1000), &texts);
        QCOMPARE(img.size(), QSize(1600, 1000));
        QVERIFY2(elidedOf(texts).isEmpty(),
                 qPrintable(elidedOf(texts).join(QStringLiteral(" | "))));
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
        const QString svg = dir_.filePath(QStringLiteral("e.svg"));
        QVERIFY(saveChartSvg(v, svg, QSize(1600, 1000), QStringLiteral("efficiency")));
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray doc = f.readAll();
        QVERIFY2(doc.contains("viewBox=\"0 0 1600 1000\""), doc.left(400).constData());
        QVERIFY(doc.contains("ideal (E = 1)"));
        QCOMPARE(v->chart()->geometry(), before);
    }
};

QTEST_MAIN(ChartsTest)
#include "tst_gui_charts.moc"

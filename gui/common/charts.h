// Small helpers shared by the chart pages (Scaling, Compare, What-if): the themed chart view,
// curves, and the axes with nice ticks (1-2-5 steps, zero printed as 0, integer process counts).
#pragma once

#include <QChartView>
#include <QColor>
#include <QString>

#include <functional>
#include <vector>

class QChart;
class QAbstractAxis;
class QAbstractSeries;
class QLabel;
class QLineSeries;
class QPalette;
class QValueAxis;

namespace ss::gui {

// ---- Ticks: pure functions (tst_gui_charts) ----
// The 1-2-5 step (× a power of ten) that covers [lo, hi] with at most `maxCount` ticks.
double niceStep(double lo, double hi, int maxCount);
// The ticks k·niceStep from the last one <= lo to the first one >= hi. Values are exact multiples
// (k·m·10^e computed without accumulating), so the tick at zero is 0, never -2.78e-17.
std::vector<double> niceTicks(double lo, double hi, int maxCount);
// A tick's text with the decimals its step needs ("0.25" for step 0.05 is "0.25", 2 for step 1);
// anything within step·1e-9 of zero is "0".
QString formatTick(double v, double step);
// Integer process-count ticks within [lo, hi]: the measured p and the powers of two, thinned (from
// the top) so neighbours stay at least (hi − lo)/maxCount apart (log₂ distance when `log2`).
std::vector<int> processTicks(const std::vector<int>& measured, double lo, double hi, int maxCount,
                              bool log2);

// ---- Axes ----
// A value axis over at least [lo, hi], widened to nice ticks, each labelled with formatTick.
QValueAxis* makeValueAxis(double lo, double hi, const QString& title, int maxTicks = 6);
// For an axis whose range changes while it is shown (a live curve): widens [lo, hi] to nice ticks
// and sets dynamic ticks at that step, labelled with the decimals the step needs.
void setNiceTicks(QValueAxis* axis, double lo, double hi, int maxTicks = 6);
// An x axis over p: linear (integer ticks at the measured p and powers of two), or log base 2.
// Its title names the unit: "processes p" / "processes p (log₂)".
QAbstractAxis* makePAxis(bool log2, double lo, double hi, const std::vector<int>& measuredP = {});
// Whether a log₂ p axis reads better than a linear one over [lo, hi]: from a span of 8× on, a linear
// axis crowds p = 1, 2 (and 4) into its first eighth, where their ticks collide on a narrow chart.
bool log2Helps(double lo, double hi);

// ---- Legends that are never cut ----
// Qt Charts gives a right-hand legend at most 40 % of the chart's width and a bottom legend one
// row, and elides ("Amd…", "over…") whatever does not fit. A chart view wrapped with withLegend()
// shows its legend instead as a word-wrapping label under the chart (every entry whole at any
// width and font zoom), built from the chart's legend markers by setChart() and restyled with the
// palette; exports (chartexport.h) show the chart's own legend at the bottom again.
QWidget* withLegend(QChartView* view);
// The legend label of a view wrapped by withLegend() (objectName: the view's + "Legend"), or null.
QLabel* legendLabel(QChartView* view);
// The rich text of a chart's legend entries (markers with a name, of a visible series): a swatch in the series' colour and shape
// (● ■ ━ ╌) and the whole name; entries never break inside, the line breaks between them.
QString legendHtml(const QChart* chart);

// ---- Views and series ----
// A chart view that follows the application palette: a palette change (the dark theme) restyles
// its chart at once. Its context menu exports the chart (PNG or SVG, at a chosen size).
class ChartView : public QChartView {
    Q_OBJECT
public:
    explicit ChartView(QWidget* parent = nullptr);
    ~ChartView() override;
    // Restyles the chart from the view's current palette.
    void restyle();

protected:
    bool event(QEvent* e) override;
};

// A ChartView with antialiasing and the export actions.
QChartView* makeChartView(const QString& exportName);
// Replaces the view's chart (deleting the old one) and styles it from the view's palette.
void setChart(QChartView* view, QChart* chart);
// Background, title, legend and axes from the palette; series marked as foreground (measured
// points) or ideal take the palette's text or mid-grey colour. Series colours set by the pages
// are kept (no QChart theme, which would overwrite them).
void styleChart(QChart* chart, const QPalette& palette);

// A polyline of f(p) for p from lo to hi (geometric steps when `logSteps`).
QLineSeries* curveSeries(const QString& name, const std::function<double(double)>& f, double lo,
                         double hi, bool logSteps, QColor color, Qt::PenStyle style = Qt::SolidLine,
                         double yMin = -1e300,
                         double yMax = 1e300);  // the curve stops where it leaves [yMin, yMax]
// The ideal line: dashed, grey in either palette, thinner than the fitted laws, so it never reads
// as a law. `name` says what it is ("ideal (S = p)").
QLineSeries* idealSeries(const QString& name, const std::function<double(double)>& f, double lo,
                         double hi, bool logSteps);
// Marks a series as drawn in the palette's text colour (measured points), restyled with the
// palette.
void markForeground(QAbstractSeries* s);

}  // namespace ss::gui

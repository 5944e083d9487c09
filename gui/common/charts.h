// Small helpers shared by the chart pages (Scaling, Compare, What-if).
#pragma once

#include <QColor>
#include <QString>

#include <functional>

class QChart;
class QChartView;
class QAbstractAxis;
class QLineSeries;
class QScatterSeries;

namespace ss::gui {

// A chart view with antialiasing, the application's chart theme and PNG/SVG export actions.
QChartView* makeChartView(const QString& exportName);
// Replaces the view's chart (deleting the old one) and applies the theme.
void setChart(QChartView* view, QChart* chart);
// A polyline of f(p) for p from lo to hi (geometric steps when `logSteps`).
QLineSeries* curveSeries(const QString& name, const std::function<double(double)>& f, double lo, double hi,
                         bool logSteps, QColor color, Qt::PenStyle style = Qt::SolidLine,
                         double yMin = -1e300, double yMax = 1e300);  // the curve stops where it leaves [yMin, yMax]
// An x axis over p: linear, or log base 2.
QAbstractAxis* makePAxis(bool log2, double lo, double hi);

}  // namespace ss::gui

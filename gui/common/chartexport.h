// Export of charts to PNG and SVG at a chosen size: the chart is laid out again off-screen at that
// size (labels and legend whole), rendered, and put back as it was on screen.
#pragma once

#include <QImage>
#include <QSize>
#include <QString>
#include <QStringList>

class QWidget;
class QChart;
class QChartView;

namespace ss::gui {

// Presets offered by the export dialog (the first is the default).
inline const QSize kExportPresets[] = {QSize(1600, 1000), QSize(1920, 1080), QSize(1280, 800),
                                       QSize(1200, 900)};

// The texts a chart shows as laid out now (title, axis labels and titles, legend): an elided one
// ends in "..." (Qt Charts' ellipsis).
QStringList chartTexts(const QChart* chart);
// The view's chart rendered at `size` pixels (the on-screen chart is left as it was). `texts`,
// when given, receives chartTexts() of the export's layout.
QImage renderChart(QChartView* view, QSize size, QStringList* texts = nullptr);
bool saveChartPng(QChartView* view, const QString& path, QSize size);
bool saveChartSvg(QChartView* view, const QString& path, QSize size, const QString& title);
// Any widget as shown (screen size).
bool saveWidgetPng(QWidget* w, const QString& path);
bool saveWidgetSvg(QWidget* w, const QString& path, const QString& title);
// Asks for an export size (presets and width × height); an invalid size when cancelled.
QSize askExportSize(QWidget* parent, QSize current);
// Adds "Export PNG…" and "Export SVG…" to the chart view's context menu.
void addExportActions(QChartView* chartView, const QString& baseName);
// Any other widget (the timeline): exported as shown.
void addExportActions(QWidget* view, const QString& baseName);

}  // namespace ss::gui

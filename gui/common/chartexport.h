// Export of charts (any widget, in practice a QChartView) to PNG and SVG.
#pragma once

#include <QString>

class QWidget;
class QChartView;

namespace ss::gui {

bool saveWidgetPng(QWidget* w, const QString& path);
bool saveWidgetSvg(QWidget* w, const QString& path, const QString& title);
// Adds "Export PNG…" and "Export SVG…" to the widget's context menu.
void addExportActions(QWidget* chartView, const QString& baseName);

}  // namespace ss::gui

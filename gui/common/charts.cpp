#include "gui/common/charts.h"

#include <QChart>
#include <QChartView>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPen>
#include <QValueAxis>

#include <cmath>

#include "gui/app/theme.h"
#include "gui/common/chartexport.h"

namespace ss::gui {

QChartView* makeChartView(const QString& exportName) {
    auto* v = new QChartView;
    v->setRenderHint(QPainter::Antialiasing);
    v->setMinimumSize(280, 220);
    addExportActions(v, exportName);
    return v;
}

void setChart(QChartView* view, QChart* chart) {
    chart->setTheme(currentTheme() == ThemeKind::Dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart->setMargins(QMargins(4, 4, 4, 4));
    QChart* old = view->chart();
    view->setChart(chart);
    delete old;
}

QLineSeries* curveSeries(const QString& name, const std::function<double(double)>& f, double lo, double hi,
                         bool logSteps, QColor color, Qt::PenStyle style, double yMin, double yMax) {
    auto* s = new QLineSeries;
    s->setName(name);
    const int n = 120;
    for (int i = 0; i <= n; ++i) {
        const double t = static_cast<double>(i) / n;
        const double p = logSteps ? lo * std::pow(hi / lo, t) : lo + (hi - lo) * t;
        const double y = f(p);
        if (!std::isfinite(y) || y < yMin || y > yMax) {
            if (s->count() > 0) break;
            continue;
        }
        s->append(p, y);
    }
    QPen pen(color, 2, style);
    s->setPen(pen);
    return s;
}

QAbstractAxis* makePAxis(bool log2, double lo, double hi) {
    if (log2) {
        auto* a = new QLogValueAxis;
        a->setBase(2);
        a->setLabelFormat(QStringLiteral("%g"));
        a->setRange(lo, hi);
        a->setTitleText(QObject::tr("processes p (log₂)"));
        return a;
    }
    auto* a = new QValueAxis;
    a->setRange(lo, hi);
    a->setLabelFormat(QStringLiteral("%g"));
    a->setTitleText(QObject::tr("processes p"));
    return a;
}

}  // namespace ss::gui

#include "gui/common/charts.h"

#include <QAbstractBarSeries>
#include <QApplication>
#include <QAreaSeries>
#include <QCategoryAxis>
#include <QChart>
#include <QBarSet>
#include <QEvent>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPalette>
#include <QPen>
#include <QScatterSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "gui/common/chartexport.h"

namespace ss::gui {

namespace {
const char* const kRole = "ssChartRole";  // dynamic property of a series: "foreground" or "ideal"

// step = m·10^e with m in {1, 2, 5}; value k·step computed as (k·m)·10^e or (k·m)/10^−e, which
// is the double nearest to the decimal value (3·0.1 is 0.30000000000000004, 3/10 is 0.3).
struct Step {
    double m = 1;
    int e = 0;
    double value() const { return e >= 0 ? m * std::pow(10.0, e) : m / std::pow(10.0, -e); }
    double times(double k) const {
        return e >= 0 ? k * m * std::pow(10.0, e) : k * m / std::pow(10.0, -e);
    }
};

Step niceStepOf(double lo, double hi, int maxCount) {
    maxCount = std::max(3, maxCount);  // a range around zero needs 3 (−s, 0, s)
    if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
    if (hi < lo) std::swap(lo, hi);
    double span = hi - lo;
    if (span <= 0) span = std::max(std::abs(hi), 1.0);
    // Smallest 1-2-5 step with at most maxCount ticks from floor(lo/step) to ceil(hi/step).
    int e = static_cast<int>(std::floor(std::log10(span / (maxCount - 1)))) - 1;
    for (const int last = e + 400; e < last; ++e)
        for (double m : {1.0, 2.0, 5.0}) {
            const Step s{m, e};
            const double st = s.value();
            const double n = std::ceil(hi / st - 1e-9) - std::floor(lo / st + 1e-9) + 1;
            if (n <= maxCount) return s;
        }
    return {1, e};
}
}  // namespace

double niceStep(double lo, double hi, int maxCount) {
    return niceStepOf(lo, hi, maxCount).value();
}

std::vector<double> niceTicks(double lo, double hi, int maxCount) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
    if (hi < lo) std::swap(lo, hi);
    const Step s = niceStepOf(lo, hi, maxCount);
    const double st = s.value();
    const double k0 = std::floor(lo / st + 1e-9), k1 = std::ceil(hi / st - 1e-9);
    std::vector<double> out;
    for (double k = k0; k <= k1; ++k) out.push_back(k == 0 ? 0.0 : s.times(k));
    if (out.size() == 1) out.push_back(s.times(k0 + 1));
    return out;
}

QString formatTick(double v, double step) {
    step = std::abs(step);
    if (!std::isfinite(v)) return QStringLiteral("–");
    if (step > 0 && std::abs(v) < step * 1e-9) return QStringLiteral("0");
    if (step > 0 && (step >= 1e6 || step < 1e-6)) return QString::number(v, 'g', 3);
    int decimals = 0;
    if (step > 0) decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
    // A 2.5-type step is not produced by niceStep, but a caller's may: keep its digits.
    if (step > 0 && decimals < 6) {
        const double scaled = step * std::pow(10.0, decimals);
        if (std::abs(scaled - std::round(scaled)) > 1e-6) ++decimals;
    }
    return QString::number(v, 'f', decimals);
}

std::vector<int> processTicks(const std::vector<int>& measured, double lo, double hi, int maxCount,
                              bool log2) {
    std::vector<int> cand;
    const int ilo = static_cast<int>(std::ceil(lo - 1e-9)),
              ihi = static_cast<int>(std::floor(hi + 1e-9));
    for (int p : measured)
        if (p >= ilo && p <= ihi) cand.push_back(p);
    for (long long p = 1; p <= ihi; p *= 2)
        if (p >= ilo) cand.push_back(static_cast<int>(p));
    std::sort(cand.begin(), cand.end());
    cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
    if (cand.empty()) return cand;
    auto pos = [log2](double p) { return log2 ? std::log2(std::max(p, 1e-9)) : p; };
    const double minGap = (pos(hi) - pos(lo)) / std::max(2, maxCount);
    // From the top (the large p are the ones a reader looks up), keeping the lowest tick too.
    std::vector<int> kept{cand.back()};
    for (auto it = cand.rbegin() + 1; it != cand.rend(); ++it)
        if (pos(kept.back()) - pos(*it) >= minGap) kept.push_back(*it);
    // The lowest candidate (p = 1, usually) was too close to the last kept one: it takes its place.
    if (kept.back() != cand.front() && kept.size() > 1) kept.back() = cand.front();
    std::reverse(kept.begin(), kept.end());
    return kept;
}

namespace {
// A QCategoryAxis whose labels sit on their values: full control over every tick's text.
QCategoryAxis* tickAxis(const std::vector<std::pair<double, QString>>& ticks, double lo,
                        double hi) {
    auto* a = new QCategoryAxis;
    a->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    a->setStartValue(lo);
    for (const auto& [v, text] : ticks) a->append(text, v);
    a->setRange(lo, hi);
    a->setMinorTickCount(0);
    return a;
}
}  // namespace

QValueAxis* makeValueAxis(double lo, double hi, const QString& title, int maxTicks) {
    if (!(hi > lo)) hi = lo + 1;
    const std::vector<double> t = niceTicks(lo, hi, maxTicks);
    const double step = niceStep(lo, hi, maxTicks);
    std::vector<std::pair<double, QString>> ticks;
    for (double v : t) ticks.push_back({v, formatTick(v, step)});
    auto* a = tickAxis(ticks, t.front(), t.back());
    a->setTitleText(title);
    return a;
}

void setNiceTicks(QValueAxis* axis, double lo, double hi, int maxTicks) {
    if (!(hi > lo)) hi = lo + 1;
    const std::vector<double> t = niceTicks(lo, hi, maxTicks);
    const double step = niceStep(lo, hi, maxTicks);
    axis->setRange(t.front(), t.back());
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(t.front());
    axis->setTickInterval(step);
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    axis->setLabelFormat(QStringLiteral("%.") + QString::number(decimals) + QStringLiteral("f"));
}

QAbstractAxis* makePAxis(bool log2, double lo, double hi, const std::vector<int>& measuredP) {
    if (log2) {
        auto* a = new QLogValueAxis;
        a->setBase(2);
        a->setLabelFormat(QStringLiteral("%.0f"));
        a->setMinorTickCount(0);
        a->setRange(lo, hi);
        a->setTitleText(QObject::tr("processes p (log₂)"));
        return a;
    }
    std::vector<std::pair<double, QString>> ticks;
    for (int p : processTicks(measuredP, lo, hi, 7, false))
        ticks.push_back({double(p), QString::number(p)});
    auto* a = tickAxis(ticks, lo, hi);
    a->setTitleText(QObject::tr("processes p"));
    return a;
}

bool log2Helps(double lo, double hi) {
    return lo > 0 && std::isfinite(hi) && hi / lo >= 8.0 - 1e-9;
}

// ---- Legends under the chart ----

namespace {
const char* const kLegendLabel = "ssLegendLabel";      // view property: its legend QLabel
const char* const kLegendOutside = "ssLegendOutside";  // chart property: the legend is the label

// `c` as it looks over the view's background: Qt's rich text takes no alpha.
QColor opaqueOver(QColor c, const QColor& base) {
    const double a = c.alphaF();
    return QColor::fromRgbF(static_cast<float>(c.redF() * a + base.redF() * (1 - a)),
                            static_cast<float>(c.greenF() * a + base.greenF() * (1 - a)),
                            static_cast<float>(c.blueF() * a + base.blueF() * (1 - a)));
}

// A legend entry's swatch: the glyph of the series' shape in its colour.
std::pair<QString, QColor> swatch(QLegendMarker* m) {
    const QAbstractSeries* s = m->series();
    if (const auto* sc = qobject_cast<const QScatterSeries*>(s)) {
        const bool square = sc->markerShape() == QScatterSeries::MarkerShapeRectangle;
        const bool hollow = sc->brush().style() == Qt::NoBrush || sc->color().alpha() == 0;
        const QString glyph = square ? (hollow ? QStringLiteral("□") : QStringLiteral("■"))
                                     : (hollow ? QStringLiteral("○") : QStringLiteral("●"));
        return {glyph, hollow ? sc->borderColor() : sc->color()};
    }
    if (const auto* area = qobject_cast<const QAreaSeries*>(s)) return {QStringLiteral("▇"), area->brush().color()};
    if (const auto* l = qobject_cast<const QLineSeries*>(s))
        return {l->pen().style() == Qt::SolidLine ? QStringLiteral("━━") : QStringLiteral("╍╍"), l->pen().color()};
    const QColor c = m->brush().style() != Qt::NoBrush ? m->brush().color() : m->pen().color();
    return {QStringLiteral("■"), c};
}

void refreshLegend(QChartView* view) {
    QLabel* label = legendLabel(view);
    QChart* chart = view->chart();
    if (!label || !chart) return;
    chart->setProperty(kLegendOutside, true);
    chart->legend()->hide();
    const QString html = legendHtml(chart);
    label->setText(html);
    label->setVisible(!html.isEmpty());
}
}  // namespace

QWidget* withLegend(QChartView* view) {
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    auto* label = new QLabel;
    label->setObjectName(view->objectName() + QStringLiteral("Legend"));
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    label->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    label->setContentsMargins(6, 2, 6, 4);
    label->setAutoFillBackground(true);
    label->setBackgroundRole(QPalette::Base);
    layout->addWidget(view, 1);
    layout->addWidget(label);
    view->setProperty(kLegendLabel, QVariant::fromValue<QObject*>(label));
    refreshLegend(view);
    return box;
}

QLabel* legendLabel(QChartView* view) {
    return qobject_cast<QLabel*>(view->property(kLegendLabel).value<QObject*>());
}

QString legendHtml(const QChart* chart) {
    const QColor base = QApplication::palette().color(QPalette::Base);
    QStringList entries;
    for (QLegendMarker* m : chart->legend()->markers()) {
        // A marker's own visibility follows the (hidden) legend's: its series' and its name decide.
        if (m->label().isEmpty() || !m->series() || !m->series()->isVisible()) continue;
        const auto [glyph, colour] = swatch(m);
        QString name = m->label().toHtmlEscaped();
        name.replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
        entries << QStringLiteral("<span style=\"color:%1\">%2</span>&nbsp;%3")
                       .arg(opaqueOver(colour, base).name(), glyph, name);
    }
    // Entries never break inside (&nbsp;); the spaces between them are where lines wrap.
    return entries.join(QStringLiteral("&nbsp;&nbsp; "));
}

namespace {
// One application-wide watcher: QApplication::setPalette announces itself to the application
// object (QEvent::ApplicationPaletteChange); widgets are not reliably sent an event of their own.
class PaletteWatcher : public QObject {
public:
    static PaletteWatcher* instance() {
        static PaletteWatcher* w = [] {
            auto* p = new PaletteWatcher;
            p->setParent(QCoreApplication::instance());
            QCoreApplication::instance()->installEventFilter(p);
            return p;
        }();
        return w;
    }
    QList<ChartView*> views;

protected:
    bool eventFilter(QObject* o, QEvent* e) override {
        if (o == QCoreApplication::instance() && e->type() == QEvent::ApplicationPaletteChange)
            for (ChartView* v : views) v->restyle();
        return false;
    }
};
}  // namespace

ChartView::ChartView(QWidget* parent) : QChartView(parent) {
    PaletteWatcher::instance()->views.push_back(this);
}

ChartView::~ChartView() {
    PaletteWatcher::instance()->views.removeAll(this);
}

void ChartView::restyle() {
    const QPalette pal = QApplication::palette(this);
    setBackgroundBrush(pal.color(QPalette::Base));
    if (chart()) styleChart(chart(), pal);
    refreshLegend(this);  // the foreground series took the palette's text colour
}

bool ChartView::event(QEvent* e) {
    const bool r = QChartView::event(e);
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::ApplicationPaletteChange)
        restyle();
    return r;
}

QChartView* makeChartView(const QString& exportName) {
    auto* v = new ChartView;
    v->setRenderHint(QPainter::Antialiasing);
    v->setMinimumSize(240, 200);
    v->restyle();
    addExportActions(v, exportName);
    return v;
}

void setChart(QChartView* view, QChart* chart) {
    chart->setMargins(QMargins(4, 4, 4, 4));
    QChart* old = view->chart();
    view->setChart(chart);
    delete old;
    const QPalette pal = QApplication::palette(view);
    view->setBackgroundBrush(pal.color(QPalette::Base));
    styleChart(chart, pal);
    refreshLegend(view);
}

void styleChart(QChart* chart, const QPalette& pal) {
    const QColor base = pal.color(QPalette::Base), text = pal.color(QPalette::Text);
    const bool dark = base.lightness() < 128;
    const QColor grid = dark ? QColor(0x3a, 0x3e, 0x45) : QColor(0xdd, 0xe0, 0xe4);
    const QColor axisLine = pal.color(QPalette::Mid);
    const QColor ideal = dark ? QColor(0x9a, 0xa0, 0xa8) : QColor(0x80, 0x86, 0x8e);
    chart->setBackgroundBrush(base);
    chart->setBackgroundPen(Qt::NoPen);
    chart->setPlotAreaBackgroundVisible(false);
    chart->setTitleBrush(text);
    chart->legend()->setLabelColor(text);
    chart->legend()->setBrush(Qt::NoBrush);
    chart->legend()->setPen(Qt::NoPen);
    for (QAbstractAxis* a : chart->axes()) {
        a->setLabelsColor(text);
        a->setTitleBrush(text);
        a->setLinePenColor(axisLine);
        a->setGridLineColor(grid);
        a->setMinorGridLineColor(grid);
        a->setShadesVisible(false);
    }
    for (QAbstractSeries* s : chart->series()) {
        const QString role = s->property(kRole).toString();
        if (role == QLatin1String("ideal")) {
            if (auto* l = qobject_cast<QLineSeries*>(s)) {
                QPen p(ideal, 1.5, Qt::DashLine);
                l->setPen(p);
            }
        } else if (role == QLatin1String("foreground")) {
            if (auto* sc = qobject_cast<QScatterSeries*>(s)) {
                sc->setColor(text);
                sc->setBorderColor(base);
            } else if (auto* l = qobject_cast<QLineSeries*>(s)) {
                QPen p = l->pen();
                p.setColor(text);
                l->setPen(p);
            }
        }
    }
}

QLineSeries* curveSeries(const QString& name, const std::function<double(double)>& f, double lo,
                         double hi, bool logSteps, QColor color, Qt::PenStyle style, double yMin,
                         double yMax) {
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

QLineSeries* idealSeries(const QString& name, const std::function<double(double)>& f, double lo,
                         double hi, bool logSteps) {
    QLineSeries* s = curveSeries(name, f, lo, hi, logSteps, QColor(0x80, 0x86, 0x8e), Qt::DashLine);
    QPen p = s->pen();
    p.setWidthF(1.5);
    s->setPen(p);
    s->setProperty(kRole, QStringLiteral("ideal"));
    return s;
}

void markForeground(QAbstractSeries* s) {
    s->setProperty(kRole, QStringLiteral("foreground"));
}

}  // namespace ss::gui

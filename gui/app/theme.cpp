#include "gui/app/theme.h"

#include <QAbstractAxis>
#include <QAbstractBarSeries>
#include <QApplication>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QFont>
#include <QLegend>
#include <QLineSeries>
#include <QScatterSeries>
#include <QStyle>
#include <QStyleFactory>
#include <QVariant>
#include <QWidget>
#include <QXYSeries>

#include <algorithm>

namespace ss::gui {

namespace {
ThemeKind g_theme = ThemeKind::Light;
double g_zoom = 1.0;
double g_basePointSize = -1;
bool g_presenter = false;
}  // namespace

namespace {
// Disabled controls: text and icons faded toward the background (about 40 % of the enabled
// contrast), fields a shade off their enabled colour, a grey selection. Set for every role a
// control paints with, or a disabled button keeps its enabled colours (QPalette::setColor(role, c)
// sets all groups alike).
void setDisabled(QPalette& p, const QColor& text, const QColor& button, const QColor& base, const QColor& highlight) {
    for (const QPalette::ColorRole r : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText,
                                        QPalette::PlaceholderText, QPalette::BrightText})
        p.setColor(QPalette::Disabled, r, text);
    p.setColor(QPalette::Disabled, QPalette::Button, button);
    p.setColor(QPalette::Disabled, QPalette::Base, base);
    p.setColor(QPalette::Disabled, QPalette::Highlight, highlight);
    p.setColor(QPalette::Disabled, QPalette::HighlightedText, text.lighter(150));
    p.setColor(QPalette::Disabled, QPalette::Link, text);
}
}  // namespace

QPalette themePalette(ThemeKind kind) {
    QPalette p;
    if (kind == ThemeKind::Light) {
        p.setColor(QPalette::Window, QColor(0xf4, 0xf5, 0xf7));
        p.setColor(QPalette::WindowText, QColor(0x1e, 0x22, 0x28));
        p.setColor(QPalette::Base, Qt::white);
        p.setColor(QPalette::AlternateBase, QColor(0xee, 0xf0, 0xf3));
        p.setColor(QPalette::Text, QColor(0x1e, 0x22, 0x28));
        p.setColor(QPalette::Button, QColor(0xe9, 0xeb, 0xee));
        p.setColor(QPalette::ButtonText, QColor(0x1e, 0x22, 0x28));
        p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xdb));
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xe8));
        p.setColor(QPalette::ToolTipText, Qt::black);
        p.setColor(QPalette::PlaceholderText, QColor(0x80, 0x86, 0x8e));
        p.setColor(QPalette::Mid, QColor(0xc4, 0xc8, 0xce));
        p.setColor(QPalette::Link, QColor(0x1f, 0x5f, 0xc8));
        setDisabled(p, QColor(0xa0, 0xa5, 0xac), QColor(0xee, 0xf0, 0xf2), QColor(0xf4, 0xf5, 0xf7),
                    QColor(0xb8, 0xbd, 0xc4));
        return p;
    }
    p.setColor(QPalette::Window, QColor(0x24, 0x27, 0x2c));
    p.setColor(QPalette::WindowText, QColor(0xe3, 0xe6, 0xea));
    p.setColor(QPalette::Base, QColor(0x1a, 0x1c, 0x20));
    p.setColor(QPalette::AlternateBase, QColor(0x2a, 0x2d, 0x33));
    p.setColor(QPalette::Text, QColor(0xe3, 0xe6, 0xea));
    p.setColor(QPalette::Button, QColor(0x31, 0x35, 0x3b));
    p.setColor(QPalette::ButtonText, QColor(0xe3, 0xe6, 0xea));
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7e, 0xea));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(0x31, 0x35, 0x3b));
    p.setColor(QPalette::ToolTipText, QColor(0xe3, 0xe6, 0xea));
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x90, 0x98));
    p.setColor(QPalette::Mid, QColor(0x4a, 0x4f, 0x57));
    p.setColor(QPalette::Link, QColor(0x6f, 0xa8, 0xff));
    setDisabled(p, QColor(0x7a, 0x7f, 0x87), QColor(0x2c, 0x30, 0x35), QColor(0x21, 0x23, 0x28),
                QColor(0x4a, 0x4f, 0x57));
    return p;
}

void applyTheme(QApplication& app, ThemeKind kind, double zoom) {
    g_theme = kind;
    g_zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    if (g_basePointSize < 0) {
        g_basePointSize = QApplication::font().pointSizeF();
        if (g_basePointSize <= 0) g_basePointSize = 10;
    }
    // The style once: setting it again re-polishes every widget, with the font of that moment.
    if (QApplication::style()->name().compare(QStringLiteral("fusion"), Qt::CaseInsensitive) != 0)
        app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    app.setPalette(g_presenter ? presenterPalette() : themePalette(kind));
    QFont f = QApplication::font();
    f.setPointSizeF(appliedPointSize());
    app.setFont(f);
    // QApplication passes a new font and palette on to the windows only once its event loop runs
    // (not at start-up, nor in a test): pass them on now. Where Qt did already, this changes nothing.
    for (QWidget* w : QApplication::topLevelWidgets()) {
        QEvent fontChange(QEvent::ApplicationFontChange), paletteChange(QEvent::ApplicationPaletteChange);
        QCoreApplication::sendEvent(w, &fontChange);
        QCoreApplication::sendEvent(w, &paletteChange);
    }
    // Qt does not pass a font change on to a widget with a style sheet of its own (a coloured
    // warning label) unless its parent has one too: such a widget kept the size it had when it was
    // last polished (Ctrl+0 left it enlarged). Polish them again, now that the font is set.
    for (QWidget* w : QApplication::allWidgets())
        if (!w->styleSheet().isEmpty()) w->setStyleSheet(w->styleSheet());
}

ThemeKind currentTheme() { return g_theme; }
double currentZoom() { return g_zoom; }

// ---- Presenter mode ----

bool presenter() { return g_presenter; }

double appliedPointSize() {
    const double base = g_basePointSize > 0 ? g_basePointSize : 10;
    return base * g_zoom * (g_presenter ? kPresenterFontScale : 1.0);
}

QPalette presenterPalette() {
    QPalette p;
    const QColor black(0, 0, 0), white(255, 255, 255);
    p.setColor(QPalette::Window, white);
    p.setColor(QPalette::WindowText, black);
    p.setColor(QPalette::Base, white);
    p.setColor(QPalette::AlternateBase, QColor(0xf0, 0xf0, 0xf0));
    p.setColor(QPalette::Text, black);
    p.setColor(QPalette::Button, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::ButtonText, black);
    p.setColor(QPalette::Highlight, okabeIto(4));  // Okabe-Ito blue: white text on it reads at 5:1
    p.setColor(QPalette::HighlightedText, white);
    p.setColor(QPalette::ToolTipBase, white);
    p.setColor(QPalette::ToolTipText, black);
    p.setColor(QPalette::PlaceholderText, QColor(0x55, 0x55, 0x55));
    p.setColor(QPalette::Mid, QColor(0x40, 0x40, 0x40));
    p.setColor(QPalette::Dark, QColor(0x20, 0x20, 0x20));
    p.setColor(QPalette::Light, white);
    p.setColor(QPalette::Link, okabeIto(4));
    setDisabled(p, QColor(0x70, 0x70, 0x70), QColor(0xee, 0xee, 0xee), QColor(0xf6, 0xf6, 0xf6),
                QColor(0x90, 0x90, 0x90));
    return p;
}

QColor okabeIto(int i) {
    static const QColor colours[kOkabeItoCount] = {
        QColor(0xE6, 0x9F, 0x00),  // orange
        QColor(0x56, 0xB4, 0xE9),  // sky blue
        QColor(0x00, 0x9E, 0x73),  // bluish green
        QColor(0xF0, 0xE4, 0x42),  // yellow
        QColor(0x00, 0x72, 0xB2),  // blue
        QColor(0xD5, 0x5E, 0x00),  // vermillion
        QColor(0xCC, 0x79, 0xA7),  // reddish purple
    };
    return colours[((i % kOkabeItoCount) + kOkabeItoCount) % kOkabeItoCount];
}

QColor seriesColor(int i) {
    // Blue, vermillion, bluish green, reddish purple, orange, sky blue, yellow: the strongest
    // contrasts on white first (yellow, faint on a projector, last).
    static const int order[kOkabeItoCount] = {4, 5, 2, 6, 0, 1, 3};
    return okabeIto(order[((i % kOkabeItoCount) + kOkabeItoCount) % kOkabeItoCount]);
}

QColor partColor(const QString& part) {
    if (part == QLatin1String("compute")) return okabeIto(4);
    if (part == QLatin1String("comm") || part == QLatin1String("exposed_comm")) return okabeIto(5);
    if (part == QLatin1String("bubble")) return okabeIto(3).darker(115);
    if (part == QLatin1String("idle")) return QColor(0x99, 0x99, 0x99);
    return okabeIto(2);  // other host work, data, optimizer
}

double seriesLineWidth() { return g_presenter ? kPresenterLineWidth : kNormalLineWidth; }

QFont chartFont(double scale) {
    QFont f = QApplication::font();
    f.setPointSizeF(appliedPointSize() * scale);
    f.setBold(g_presenter);
    return f;
}

namespace {
const char* const kOwnWidth = "ss_theme_width";
const char* const kOwnColour = "ss_theme_colour";
}  // namespace

void stylePresenterChart(QChart* chart) {
    if (!chart) return;
    const QPalette pal = QApplication::palette();
    chart->setTitleFont(chartFont(1.1));
    chart->setTitleBrush(pal.color(QPalette::WindowText));
    chart->setBackgroundBrush(pal.color(QPalette::Base));
    chart->legend()->setFont(chartFont());
    chart->legend()->setLabelColor(pal.color(QPalette::WindowText));
    for (QAbstractAxis* axis : chart->axes()) {
        axis->setLabelsFont(chartFont(0.9));
        axis->setTitleFont(chartFont());
        axis->setLabelsBrush(pal.color(QPalette::WindowText));
        axis->setTitleBrush(pal.color(QPalette::WindowText));
        QPen line = axis->linePen();
        line.setColor(pal.color(QPalette::WindowText));
        line.setWidthF(g_presenter ? 2.0 : 1.0);
        axis->setLinePen(line);
    }
    int coloured = 0;
    for (QAbstractSeries* s : chart->series()) {
        auto* xy = qobject_cast<QXYSeries*>(s);
        if (!xy) continue;
        const bool scatter = qobject_cast<QScatterSeries*>(s) != nullptr;
        QPen pen = xy->pen();
        // The chart's own width and colour, kept the first time so that leaving the mode restores them.
        if (!s->property(kOwnWidth).isValid()) s->setProperty(kOwnWidth, pen.widthF());
        if (!s->property(kOwnColour).isValid()) s->setProperty(kOwnColour, xy->color());
        const QColor own = s->property(kOwnColour).value<QColor>();
        // A grey series (an ideal line, a band edge) keeps its colour; coloured ones take the
        // series colours in presenter mode.
        const bool grey = own.hslSaturationF() < 0.2;
        if (scatter) {
            auto* sc = static_cast<QScatterSeries*>(s);
            sc->setMarkerSize(g_presenter ? 14.0 : std::max(8.0, sc->markerSize() / 1.6));
        } else {
            pen.setWidthF(g_presenter ? std::max(kPresenterLineWidth, s->property(kOwnWidth).toDouble())
                                      : s->property(kOwnWidth).toDouble());
        }
        const QColor c = g_presenter && !grey ? seriesColor(coloured) : own;
        coloured += grey ? 0 : 1;
        pen.setColor(c);
        xy->setPen(pen);
        xy->setColor(c);
    }
}

void setPresenter(QApplication& app, bool on, QWidget* root) {
    g_presenter = on;
    applyTheme(app, g_theme, g_zoom);
    const QList<QWidget*> roots = root ? QList<QWidget*>{root} : QApplication::topLevelWidgets();
    for (QWidget* r : roots)
        for (QChartView* v : r->findChildren<QChartView*>()) stylePresenterChart(v->chart());
}

}  // namespace ss::gui

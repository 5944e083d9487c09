#include "gui/app/theme.h"

#include <QApplication>
#include <QFont>
#include <QStyle>
#include <QStyleFactory>
#include <QWidget>

#include <algorithm>

namespace ss::gui {

namespace {
ThemeKind g_theme = ThemeKind::Light;
double g_zoom = 1.0;
double g_basePointSize = -1;
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
    app.setPalette(themePalette(kind));
    QFont f = QApplication::font();
    f.setPointSizeF(g_basePointSize * g_zoom);
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

}  // namespace ss::gui

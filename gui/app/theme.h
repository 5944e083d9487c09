// Light and dark palettes, the font zoom used on workshop projectors, and presenter mode. The
// palette and the zoom persist in QSettings; presenter mode is for the session (View ▸ Presenter
// Mode, F5 on, Esc off).
//
// Presenter mode is for a projected screen: fonts kPresenterFontScale × larger, a high-contrast
// palette (black on white, a saturated blue selection), series in the Okabe-Ito colours (told
// apart with the common colour-vision deficiencies), lines kPresenterLineWidth px thick. Charts
// read their colours and widths through seriesColor() / seriesLineWidth() and the fonts through
// chartFont(), so they follow the mode; stylePresenterChart() applies all of it to a built chart
// (gui/common/charts.cpp styleChart may call it last, so that rebuilt charts follow the mode too).
#pragma once

#include <QColor>
#include <QFont>
#include <QPalette>

class QApplication;
class QChart;
class QWidget;

namespace ss::gui {

enum class ThemeKind { Light, Dark };

QPalette themePalette(ThemeKind kind);
// Applies the Fusion style, the palette and the base font scaled by `zoom` (1.0 = system size).
void applyTheme(QApplication& app, ThemeKind kind, double zoom);
ThemeKind currentTheme();
double currentZoom();
inline constexpr double kMinZoom = 0.75, kMaxZoom = 2.5;

// ---- Presenter mode ----
inline constexpr double kPresenterFontScale = 1.6;
inline constexpr double kPresenterLineWidth = 4.0;
inline constexpr double kNormalLineWidth = 2.0;
bool presenter();
// Turns presenter mode on or off and applies the theme again (palette, fonts) to every window;
// charts under `root` (all top-level windows when null) are restyled with stylePresenterChart().
void setPresenter(QApplication& app, bool on, QWidget* root = nullptr);
// The presenter palette: black text on white, saturated selection, strong mid-tones for frames.
QPalette presenterPalette();
// The application font's point size as applied (base × zoom, × kPresenterFontScale in presenter mode).
double appliedPointSize();

// The Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), without its black: orange,
// sky blue, bluish green, yellow, blue, vermillion, reddish purple. Distinct under protanopia,
// deuteranopia and tritanopia, and on a washed-out projector.
inline constexpr int kOkabeItoCount = 7;
QColor okabeIto(int i);  // i modulo kOkabeItoCount
// The colour of chart series i: Okabe-Ito in presenter mode; otherwise the same colours (they
// suit both palettes), so a chart looks the same in both modes apart from widths and fonts.
QColor seriesColor(int i);
// The colour of a named part of a step (compute, communication, bubble, idle, other): the same
// on every chart (Okabe-Ito blue, vermillion, yellow, grey, bluish green).
QColor partColor(const QString& part);
double seriesLineWidth();  // kPresenterLineWidth in presenter mode, else kNormalLineWidth
// A font for chart titles, axes and legends: the application font, bold in presenter mode.
QFont chartFont(double scale = 1.0);
// Applies the mode to a built chart: title, axis and legend fonts (bold in presenter mode); line
// series at least seriesLineWidth() thick and bigger scatter markers; coloured series take
// seriesColor(0, 1, ...) in presenter mode (grey ones, like the dashed ideal line, keep theirs);
// leaving the mode restores the chart's own widths and colours. Call it after building a chart; setPresenter() calls it for every chart it finds.
void stylePresenterChart(QChart* chart);

}  // namespace ss::gui

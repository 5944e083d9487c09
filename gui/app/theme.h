// Light and dark palettes, and the font zoom used on workshop projectors. Both persist in QSettings.
#pragma once

#include <QColor>
#include <QPalette>

class QApplication;

namespace ss::gui {

enum class ThemeKind { Light, Dark };

QPalette themePalette(ThemeKind kind);
// Applies the Fusion style, the palette and the base font scaled by `zoom` (1.0 = system size).
void applyTheme(QApplication& app, ThemeKind kind, double zoom);
ThemeKind currentTheme();
double currentZoom();
inline constexpr double kMinZoom = 0.75, kMaxZoom = 2.5;

}  // namespace ss::gui

#include "gui/common/format.h"

#include <cmath>
#include <string>

namespace ss::gui {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QString formatNumber(double v, int significant) {
    if (!std::isfinite(v)) return QStringLiteral("–");
    return QString::number(v, 'g', significant);
}

QString formatDuration(double ns) {
    if (!std::isfinite(ns)) return QStringLiteral("–");
    const double a = std::abs(ns);
    if (a < 1e3) return QStringLiteral("%1 ns").arg(ns, 0, 'f', 0);
    if (a < 1e6) return QStringLiteral("%1 µs").arg(ns / 1e3, 0, 'f', a < 1e4 ? 2 : 1);
    if (a < 1e9) return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', a < 1e7 ? 2 : 1);
    return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', a < 1e10 ? 3 : 1);
}

QString formatBytes(double b) {
    if (!std::isfinite(b) || b < 0) return QStringLiteral("–");
    if (b < 1024) return QStringLiteral("%1 B").arg(b, 0, 'f', 0);
    if (b < 1024.0 * 1024) return QStringLiteral("%1 KiB").arg(b / 1024, 0, 'f', 1);
    if (b < 1024.0 * 1024 * 1024) return QStringLiteral("%1 MiB").arg(b / 1048576, 0, 'f', 1);
    return QStringLiteral("%1 GiB").arg(b / 1073741824.0, 0, 'f', 2);
}

QString formatRate(double v, const QString& unit) {
    if (!std::isfinite(v) || v < 0) return QStringLiteral("–");
    const char* prefix = "";
    double x = v;
    if (x >= 1e9) { x /= 1e9; prefix = "G"; }
    else if (x >= 1e6) { x /= 1e6; prefix = "M"; }
    else if (x >= 1e3) { x /= 1e3; prefix = "k"; }
    return QStringLiteral("%1 %2%3").arg(x, 0, 'f', x < 10 ? 2 : 1).arg(QLatin1String(prefix), unit);
}

QString formatBandwidth(double bps) {
    if (!std::isfinite(bps) || bps < 0) return QStringLiteral("–");
    return formatRate(bps, QStringLiteral("B/s"));
}

QString formatPercent(double r, int decimals) {
    if (!std::isfinite(r)) return QStringLiteral("–");
    return QStringLiteral("%1 %").arg(r * 100.0, 0, 'f', decimals);
}

}  // namespace ss::gui

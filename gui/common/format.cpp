#include "gui/common/format.h"

#include <cmath>
#include <string>

namespace ss::gui {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QString formatNumber(double v, int significant) {
    if (!std::isfinite(v)) return QStringLiteral("–");
    const QString g = QString::number(v, 'g', significant);
    // 'g' writes 13650 as "1.365e+04": a whole number that large is rounded to its significant
    // digits and written out ("13650", "13700" with 3); only tiny values keep an exponent.
    if (std::abs(v) >= 1 && std::abs(v) < 1e15 && g.contains(QLatin1Char('e'))) {
        const int digits = static_cast<int>(std::floor(std::log10(std::abs(v)))) + 1;
        const double unit = std::pow(10.0, std::max(0, digits - significant));
        return QString::number(std::round(v / unit) * unit, 'f', 0);
    }
    return g;
}

QString formatDuration(double ns) {
    if (!std::isfinite(ns)) return QStringLiteral("–");
    const double a = std::abs(ns);
    if (a < 1e3) return QStringLiteral("%1 ns").arg(ns, 0, 'f', 0);
    if (a < 1e6) return QStringLiteral("%1 µs").arg(ns / 1e3, 0, 'f', a < 1e4 ? 2 : 1);
    if (a < 1e9) return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', a < 1e7 ? 2 : 1);
    return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', a < 1e10 ? 3 : 1);
}

QString formatTimeTick(double ns, double stepNs) {
    if (!std::isfinite(ns)) return QStringLiteral("–");
    const double step = std::abs(stepNs);
    if (step > 0 && std::abs(ns) < step * 1e-6) return QStringLiteral("0");
    double unit = 1;
    const char* name = "ns";
    // The unit whose tenth the step reaches: 0.5 s steps read "2.5 s", not "2500 ms".
    if (step >= 1e8) { unit = 1e9; name = "s"; }
    else if (step >= 1e5) { unit = 1e6; name = "ms"; }
    else if (step >= 1e3) { unit = 1e3; name = "µs"; }
    // Decimals the step needs in that unit: 0.5 → 1, 0.25 → 2, 5 → 0.
    int decimals = 0;
    for (double s = step / unit; decimals < 6 && std::abs(s - std::round(s)) > 1e-6 * std::max(1.0, s); s *= 10) ++decimals;
    return QStringLiteral("%1 %2").arg(ns / unit, 0, 'f', decimals).arg(QString::fromUtf8(name));
}

QString formatBytes(double b) {
    if (!std::isfinite(b) || b < 0) return QStringLiteral("–");
    if (b < 1024) return QStringLiteral("%1 B").arg(b, 0, 'f', 0);
    if (b < 1024.0 * 1024) return QStringLiteral("%1 KiB").arg(b / 1024, 0, 'f', 1);
    if (b < 1024.0 * 1024 * 1024) return QStringLiteral("%1 MiB").arg(b / 1048576, 0, 'f', 1);
    return QStringLiteral("%1 GiB").arg(b / 1073741824.0, 0, 'f', 2);
}

QString formatRate(double v, const QString& unit) {
    if (!std::isfinite(v) || v < 0) return QStringLiteral("–");  // < 0: unknown (e.g. no FLOPs)
    static const char* const prefixes[] = {"", "k", "M", "G", "T", "P"};
    double x = std::abs(v);
    int i = 0;
    // 999.96 would print as "1000.0": it takes the next prefix ("1.00 k").
    while (x >= 999.95 && i < 5) {
        x /= 1000;
        ++i;
    }
    const QString n = QString::number(x, 'f', x < 9.995 ? 2 : x < 99.95 ? 1 : 0);
    // A unit symbol takes the prefix ("111 GFLOP/s", "3.20 GB/s"); a word does not ("9.29 k samples/s").
    const bool symbol = !unit.isEmpty() && (unit.front().isUpper() || unit.front() == QLatin1Char('/'));
    if (i == 0) return n + QLatin1Char(' ') + unit;
    return symbol ? QStringLiteral("%1 %2%3").arg(n, QLatin1String(prefixes[i]), unit)
                  : QStringLiteral("%1 %2 %3").arg(n, QLatin1String(prefixes[i]), unit);
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

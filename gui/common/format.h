// Human-readable numbers for labels and tables (tables keep the raw values for sorting and CSV).
#pragma once

#include <QString>

#include <cstdint>

namespace ss::gui {

QString formatDuration(double ns);          // "812 ns", "3.41 µs", "12.0 ms", "1.25 s"
QString formatBytes(double bytes);          // "512 B", "4.0 KiB", "2.6 MiB"
QString formatRate(double perSecond, const QString& unit);  // "1.35 M tokens/s"
QString formatBandwidth(double bytesPerSecond);             // "3.2 GB/s"
QString formatPercent(double ratio, int decimals = 1);      // 0.123 -> "12.3 %"; NaN -> "–"
QString formatNumber(double v, int significant = 3);
QString fromStd(const std::string& s);

}  // namespace ss::gui

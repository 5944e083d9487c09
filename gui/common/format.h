// Human-readable numbers for labels and tables (tables keep the raw values for sorting and CSV).
#pragma once

#include <QString>

#include <cstdint>

namespace ss::gui {

QString formatDuration(double ns);          // "812 ns", "3.41 µs", "12.0 ms", "1.25 s"
// A time axis tick: in the unit the ticks' step reaches a tenth of, with the decimals the step
// needs ("1 s", "2.5 s", "0.75 s", "12.5 µs", "400 ns"); zero is "0".
QString formatTimeTick(double ns, double stepNs);
QString formatBytes(double bytes);          // "512 B", "4.0 KiB", "2.6 MiB"
// 3 significant digits with an SI prefix: a unit symbol takes it ("111 GFLOP/s", "13.7 k/s" for
// unit "/s"), a word stands apart ("13.7 k samples/s", "1.35 M tokens/s"); a negative rate is
// unknown: "–".
QString formatRate(double perSecond, const QString& unit);
QString formatBandwidth(double bytesPerSecond);             // "3.2 GB/s"
QString formatPercent(double ratio, int decimals = 1);      // 0.123 -> "12.3 %"; NaN -> "–"
// `significant` digits; never an exponent for |v| >= 1 ("13650", not "1.365e+04"), only for tiny values.
QString formatNumber(double v, int significant = 3);
QString fromStd(const std::string& s);

}  // namespace ss::gui

// The median, one definition for every layer (traces' duration summaries, the analysis, the CLI,
// the worker, the benchmarks): the middle value of an odd count, the mean of the two middle
// values of an even count; NaN for none. Header-only, no dependencies: a rank program or a
// benchmark includes it without linking the trace store.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

namespace ss::traces {

// Partially reorders `v` (nth_element); the values stay the same.
template <typename T>
double median_in_place(std::vector<T>& v) {
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    const std::size_t n = v.size(), hi = n / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(hi), v.end());
    const double upper = static_cast<double>(v[hi]);
    if (n % 2) return upper;
    const double lower = static_cast<double>(*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(hi)));
    return (lower + upper) / 2.0;
}

template <typename T>
double median(std::vector<T> v) {
    return median_in_place(v);
}

}  // namespace ss::traces

// Shared helpers of the Qt Test kernels suites: deterministic random data (random.h, shared with
// the plain C++ device tests), closeness checks that report the first mismatch, and central
// finite differences.
#pragma once

#include <QString>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "../device/check.h"
#include "random.h"

namespace ss::kernels::test {

inline std::vector<double> to_d(const std::vector<float>& v) {
    return {v.begin(), v.end()};
}

// Empty string when |got - want| <= atol + rtol * |want| everywhere, else a description of the
// first mismatch and the worst error (the plain C++ device tests' check, tests/device/check.h).
template <typename G, typename W>
QString closeness(const G* got, const W* want, std::size_t n, double atol, double rtol) {
    return QString::fromStdString(::ss::check::closeness(got, want, n, atol, rtol));
}

template <typename G, typename W>
QString closeness(const std::vector<G>& got, const std::vector<W>& want, double atol, double rtol) {
    return QString::fromStdString(::ss::check::closeness(got, want, atol, rtol));
}

// Use inside a test function: fails it with the mismatch description.
#define SS_CHECK_CLOSE(what, got, want, atol, rtol)                                    \
    do {                                                                               \
        const QString ss_err_ = ::ss::kernels::test::closeness(got, want, atol, rtol); \
        QVERIFY2(ss_err_.isEmpty(), qPrintable(QStringLiteral(what ": ") + ss_err_));  \
    } while (0)

// Central finite differences of a scalar function of x, one coordinate at a time:
//   g_i = (f(x + h e_i) - f(x - h e_i)) / 2h.
template <typename T>
std::vector<double> finite_diff(std::vector<T> x, double h,
                                const std::function<double(const std::vector<T>&)>& f) {
    std::vector<double> g(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const T orig = x[i];
        x[i] = static_cast<T>(orig + h);
        const double fp = f(x);
        x[i] = static_cast<T>(orig - h);
        const double fm = f(x);
        x[i] = orig;
        // the step actually taken (float rounding of x +- h)
        const double step = static_cast<double>(static_cast<T>(orig + h)) -
                            static_cast<double>(static_cast<T>(orig - h));
        g[i] = (fp - fm) / step;
    }
    return g;
}

// sum_i a_i * b_i in double: the scalar "loss" L = <out, R> whose gradient w.r.t. out is R.
template <typename A, typename B>
double dot(const std::vector<A>& a, const std::vector<B>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i]) * double(b[i]);
    return s;
}

inline double max_abs(const std::vector<double>& v) {
    double m = 0.0;
    for (double x : v) m = std::max(m, std::abs(x));
    return m;
}

}  // namespace ss::kernels::test

// A tiny check harness for the device tests: plain C++ (no Qt), so they build where only the
// worker and the Qt-free libraries are built (SCALESCOPE_BUILD_DEVICE_TESTS,
// scripts/device-check.sh).
//
//   int main() {
//       ss::check::Suite suite("tst_device_x");
//       if (!device) return suite.skip("no CUDA device: " + why);  // exit code 77: CTest "skipped"
//       suite.run("case", [&] { CHECK(a == b); CHECK_CLOSE("what", got, want, 1e-5, 1e-4); });
//       return suite.finish();                                      // 0 or 1
//   }
//
// A failed CHECK prints the expression (or the first mismatch and the worst element), the file
// and the line, and ends the current case; the suite goes on with the next one. An exception
// escaping a case fails it with its message.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace ss::check {

// CTest's SKIP_RETURN_CODE for every device test (tests/device/CMakeLists.txt).
inline constexpr int kSkipExitCode = 77;

// Thrown by a failed check to end the current case.
struct Failure {
    std::string message;
};

[[noreturn]] inline void fail(const std::string& what, const char* file, int line) {
    std::ostringstream s;
    s << file << ":" << line << ": " << what;
    throw Failure{s.str()};
}

// Empty when |got - want| <= atol + rtol * |want| everywhere (NaN never is), else the first
// mismatch and the worst element.
template <typename G, typename W>
std::string closeness(const G* got, const W* want, std::size_t n, double atol, double rtol) {
    std::size_t bad = n, worst = 0;
    double worst_err = -1.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double g = static_cast<double>(got[i]), w = static_cast<double>(want[i]);
        const double err = std::abs(g - w);
        const bool ok = err <= atol + rtol * std::abs(w);  // false for NaN
        if (!ok && bad == n) bad = i;
        if (!(err <= worst_err)) {
            worst_err = err;
            worst = i;
        }
    }
    if (bad == n) return {};
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "mismatch at [%zu]: got %.9g, want %.9g (atol %g, rtol %g); worst at [%zu]: "
                  "got %.9g, want %.9g; n = %zu",
                  bad, double(got[bad]), double(want[bad]), atol, rtol, worst, double(got[worst]),
                  double(want[worst]), n);
    return buf;
}

template <typename G, typename W>
std::string closeness(const std::vector<G>& got, const std::vector<W>& want, double atol,
                      double rtol) {
    if (got.size() != want.size())
        return "size mismatch: got " + std::to_string(got.size()) + ", want " +
               std::to_string(want.size());
    return closeness(got.data(), want.data(), got.size(), atol, rtol);
}

class Suite {
public:
    explicit Suite(std::string name) : name_(std::move(name)) {
        std::printf("********* Start testing of %s *********\n", name_.c_str());
        std::fflush(stdout);
    }

    // Runs one case; a Failure or any exception fails it, and the suite goes on.
    void run(const std::string& name, const std::function<void()>& body) {
        try {
            body();
            ++passed_;
            std::printf("PASS   : %s\n", name.c_str());
        } catch (const Failure& f) {
            failed_.push_back(name);
            std::printf("FAIL!  : %s: %s\n", name.c_str(), f.message.c_str());
        } catch (const std::exception& e) {
            failed_.push_back(name);
            std::printf("FAIL!  : %s: exception: %s\n", name.c_str(), e.what());
        }
        std::fflush(stdout);
    }

    void info(const std::string& line) {
        std::printf("INFO   : %s\n", line.c_str());
        std::fflush(stdout);
    }

    bool ok() const { return failed_.empty(); }

    // Ends the suite as skipped, unless a case already failed (then as failed): the reason is
    // printed as is (device tests pass "no CUDA device: <driver's reason>").
    int skip(const std::string& reason) {
        if (!ok()) return finish();
        std::printf("%s\n", reason.c_str());  // its own line: "no CUDA device: ..."
        std::printf("Totals: %d passed, 0 failed, then skipped (exit %d)\n", passed_,
                    kSkipExitCode);
        std::printf("********* Finished testing of %s *********\n", name_.c_str());
        std::fflush(stdout);
        return kSkipExitCode;
    }

    int finish() {
        std::printf("Totals: %d passed, %zu failed\n", passed_, failed_.size());
        for (const std::string& f : failed_) std::printf("  failed: %s\n", f.c_str());
        std::printf("********* Finished testing of %s *********\n", name_.c_str());
        std::fflush(stdout);
        return ok() ? 0 : 1;
    }

private:
    std::string name_;
    int passed_ = 0;
    std::vector<std::string> failed_;
};

}  // namespace ss::check

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) ::ss::check::fail("CHECK(" #cond ") failed", __FILE__, __LINE__); \
    } while (0)

#define CHECK_MSG(cond, msg)                                                              \
    do {                                                                                  \
        if (!(cond))                                                                      \
            ::ss::check::fail(std::string("CHECK(" #cond ") failed: ") + (msg), __FILE__, \
                              __LINE__);                                                  \
    } while (0)

#define CHECK_EQ(got, want)                                                                \
    do {                                                                                   \
        const auto& ss_got_ = (got);                                                       \
        const auto& ss_want_ = (want);                                                     \
        if (!(ss_got_ == ss_want_))                                                        \
            ::ss::check::fail("CHECK_EQ(" #got ", " #want ") failed", __FILE__, __LINE__); \
    } while (0)

// Element-wise |got - want| <= atol + rtol |want|, with the first mismatch in the message.
#define CHECK_CLOSE(what, got, want, atol, rtol)                                       \
    do {                                                                               \
        const std::string ss_err_ = ::ss::check::closeness(got, want, atol, rtol);     \
        if (!ss_err_.empty())                                                          \
            ::ss::check::fail(std::string(what) + ": " + ss_err_, __FILE__, __LINE__); \
    } while (0)

// The expression must throw an exception of type `type`.
#define CHECK_THROWS(type, expr)                                                            \
    do {                                                                                    \
        bool ss_thrown_ = false;                                                            \
        try {                                                                               \
            (void)(expr);                                                                   \
        } catch (const type&) {                                                             \
            ss_thrown_ = true;                                                              \
        }                                                                                   \
        if (!ss_thrown_)                                                                    \
            ::ss::check::fail("CHECK_THROWS(" #type ", " #expr ") did not throw", __FILE__, \
                              __LINE__);                                                    \
    } while (0)

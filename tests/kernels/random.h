// Deterministic random test data, shared by the Qt Test kernels suites (test_util.h) and the
// plain C++ device tests (tests/device): no Qt here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ss::kernels::test {

// splitmix64: tiny, deterministic across platforms.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform(double lo, double hi) {
        return lo + (hi - lo) * (static_cast<double>(next() >> 11) * 0x1.0p-53);
    }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }

private:
    std::uint64_t state_;
};

inline std::vector<float> randv(std::size_t n, Rng& rng, double lo = -1.0, double hi = 1.0) {
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(rng.uniform(lo, hi));
    return v;
}

inline std::vector<std::int32_t> randi(std::size_t n, Rng& rng, int below) {
    std::vector<std::int32_t> v(n);
    for (auto& x : v) x = rng.below(below);
    return v;
}

}  // namespace ss::kernels::test

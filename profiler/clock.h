// The profiler's clock: CLOCK_MONOTONIC in nanoseconds, shared by all ranks of one host, not
// across hosts (clock_sync.h measures the difference to rank 0).
#pragma once

#include <cstdint>
#include <ctime>

namespace ss::profiler {

namespace detail {
// Test-only skew added to this process's clock (SCALESCOPE_TEST_CLOCK_SKEW_NS, multiplied by the
// world rank in init_clock_skew), so tests can give ranks on one host different clocks.
inline std::int64_t g_clock_skew_ns = 0;
}  // namespace detail

inline std::int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec + detail::g_clock_skew_ns;
}

// Reads SCALESCOPE_TEST_CLOCK_SKEW_NS (ns per rank) and skews this rank's clock by value × rank.
// Returns the skew applied.
std::int64_t init_clock_skew(int world_rank);

// Wall clock (for runs.wall_start_unix_ns).
inline std::int64_t unix_now_ns() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace ss::profiler

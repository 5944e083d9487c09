// Exact duration summaries (traces/aggregate.h DurationSummary: count, total, mean, median, p95,
// min, max) of many groups in memory independent of the number of durations: for the
// bounded-memory writer (imports of multi-gigabyte traces).
//
// add() appends (group, duration) to a buffer that spills to an anonymous temporary file
// (12 bytes a duration) once it holds kBufferEntries. finish() finds each group's order
// statistics (the two middle values, the p95 nearest rank) by radix selection: each pass over the
// durations counts, for every open target, the values in its current range into 256 buckets, and
// narrows the range to the bucket holding the target's rank, until the range holds one value or
// few enough values to keep and select in memory. Durations of up to 2^63 ns take at most 8
// passes; real traces take two or three. Memory: per group ~64 bytes, the buffer, and per pass at
// most kTargetsPerPass targets of 256 counters or kCollect kept values.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "traces/aggregate.h"

namespace ss::traces {

class SpilledSummaries {
public:
    static constexpr std::size_t kBufferEntries = 1 << 18;  // 3 MiB before the first spill
    static constexpr std::size_t kTargetsPerPass = 2048;
    static constexpr std::int64_t kCollect = 512;

    // `what` names the data in error messages (e.g. the trace file being written).
    explicit SpilledSummaries(std::string what);
    ~SpilledSummaries();
    SpilledSummaries(const SpilledSummaries&) = delete;
    SpilledSummaries& operator=(const SpilledSummaries&) = delete;

    // Groups are dense indices from 0; a duration must be >= 0.
    void add(std::uint32_t group, std::int64_t duration_ns);
    // One summary per group index below the highest added (a group without durations: count 0).
    // Clears the durations. Throws TraceError when the temporary file fails.
    std::vector<DurationSummary> finish();
    // Passes over the durations the last finish() took (for tests and benchmarks).
    int passes() const { return passes_; }

private:
    void spill();
    // Calls f(group, duration) for every duration added, in order.
    template <typename F>
    void each(F&& f);

    std::string what_;
    std::vector<unsigned char> buf_;  // packed 12-byte entries: duration, group
    std::size_t buffered_ = 0;
    std::FILE* file_ = nullptr;
    std::int64_t spilled_ = 0;
    std::vector<DurationSummary> groups_;
    int passes_ = 0;
};

}  // namespace ss::traces

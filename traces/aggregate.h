// Summary statistics of event durations, computed once when a run is finished or merged and
// stored in the `aggregates` table, so opening a file never scans its events.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "traces/types.h"

namespace ss::traces {

// Count, total, mean, median (mean of the two middle values for an even count), p95 (nearest
// rank: the ceil(0.95 n)-th smallest), min and max of `durations_ns`. Reorders the vector.
struct DurationSummary {
    std::int64_t count = 0, total_ns = 0, p95_ns = 0, min_ns = 0, max_ns = 0;
    double mean_ns = 0, median_ns = 0;
};
DurationSummary summarize_durations(std::vector<std::int64_t>& durations_ns);

// Accumulates events into groups keyed by (kind, name, collective, group kind). Only kinds that
// are summarised are kept: kernels, communication, memory copies/sets, host ranges, syncs.
class AggregateBuilder {
public:
    void add(const Event& e);
    // One Aggregate per group, names left empty (the caller resolves name ids), sorted by key.
    struct Row {
        EventKind kind;
        StringId name;
        Collective collective;
        GroupKind group_kind;
        DurationSummary summary;
        std::int64_t bytes;
    };
    std::vector<Row> finish();
    bool empty() const { return groups_.empty(); }

private:
    using Key = std::tuple<int, std::int64_t, int, int>;
    struct Group {
        std::vector<std::int64_t> durations;
        std::int64_t bytes = 0;
    };
    std::map<Key, Group> groups_;
};

bool is_summarised(EventKind k);

}  // namespace ss::traces

#include "traces/aggregate.h"

#include <algorithm>
#include <numeric>

#include "traces/median.h"

namespace ss::traces {

DurationSummary summarize_durations(std::vector<std::int64_t>& d) {
    DurationSummary s;
    s.count = static_cast<std::int64_t>(d.size());
    if (d.empty()) return s;
    const size_t n = d.size();
    s.total_ns = std::accumulate(d.begin(), d.end(), std::int64_t{0});
    s.mean_ns = static_cast<double>(s.total_ns) / static_cast<double>(n);
    auto [mn, mx] = std::minmax_element(d.begin(), d.end());
    s.min_ns = *mn;
    s.max_ns = *mx;
    s.median_ns = median_in_place(d);
    // p95, nearest rank: the k-th smallest with k = ceil(0.95 n), i.e. index k - 1.
    const size_t k = (95 * n + 99) / 100;
    std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(k - 1), d.end());
    s.p95_ns = d[k - 1];
    return s;
}

bool is_summarised(EventKind k) {
    switch (k) {
        case EventKind::Kernel:
        case EventKind::Comm:
        case EventKind::Memcpy:
        case EventKind::Memset:
        case EventKind::HostRange:
        case EventKind::Sync:
            return true;
        default:
            return false;
    }
}

void AggregateBuilder::add(const Event& e) {
    if (!is_summarised(e.kind)) return;
    Group& g = groups_[Key{static_cast<int>(e.kind), e.name.value, static_cast<int>(e.collective),
                           static_cast<int>(e.group_kind)}];
    g.durations.push_back(e.end_ns - e.start_ns);
    if (e.bytes > 0) g.bytes += e.bytes;
}

std::vector<AggregateBuilder::Row> AggregateBuilder::finish() {
    std::vector<Row> rows;
    rows.reserve(groups_.size());
    for (auto& [key, g] : groups_) {
        auto [kind, name, coll, gk] = key;
        rows.push_back(Row{static_cast<EventKind>(kind), StringId(name),
                           static_cast<Collective>(coll), static_cast<GroupKind>(gk),
                           summarize_durations(g.durations), g.bytes});
    }
    groups_.clear();
    return rows;
}

}  // namespace ss::traces

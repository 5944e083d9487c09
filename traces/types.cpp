#include "traces/types.h"

#include <array>

namespace ss::traces {

namespace {
template <typename E, size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& names, std::string_view s) {
    for (size_t i = 0; i < N; ++i)
        if (names[i] == s) return static_cast<E>(i);
    return std::nullopt;
}
template <size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, int i) {
    return i >= 0 && static_cast<size_t>(i) < N ? names[static_cast<size_t>(i)] : "unknown";
}

constexpr std::array<std::string_view, kEventKindCount> kKindNames{
    "kernel", "comm", "memcpy", "memset", "host", "step", "phase", "micro_batch", "sync"};
constexpr std::array<std::string_view, kCollectiveCount> kCollectiveNames{
    "none",   "all_reduce", "reduce_scatter", "all_gather", "broadcast",
    "reduce", "all_to_all", "send",           "recv",       "barrier"};
constexpr std::array<std::string_view, kGroupKindCount> kGroupNames{"none", "world", "dp", "tp",
                                                                    "pp", "ps"};
constexpr std::array<std::string_view, 4> kStatusNames{"running", "completed", "failed",
                                                       "cancelled"};
}  // namespace

std::string_view to_string(EventKind k) { return name_of(kKindNames, static_cast<int>(k)); }
std::optional<EventKind> event_kind_from_string(std::string_view s) {
    return lookup<EventKind>(kKindNames, s);
}
std::string_view to_string(Collective c) { return name_of(kCollectiveNames, static_cast<int>(c)); }
std::optional<Collective> collective_from_string(std::string_view s) {
    return lookup<Collective>(kCollectiveNames, s);
}
std::string_view to_string(GroupKind g) { return name_of(kGroupNames, static_cast<int>(g)); }
std::optional<GroupKind> group_kind_from_string(std::string_view s) {
    return lookup<GroupKind>(kGroupNames, s);
}
std::string_view to_string(RunStatus s) { return name_of(kStatusNames, static_cast<int>(s)); }
std::optional<RunStatus> run_status_from_string(std::string_view s) {
    return lookup<RunStatus>(kStatusNames, s);
}

}  // namespace ss::traces

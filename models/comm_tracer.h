// The profiler's CommObserver: records every communication call of a rank as a span on the comm
// lane, from issue to completion (a non-blocking call completes when its transport's communication
// thread finished it, CommRecord::completed_ns, else when its request is tested or waited on), with
// collective type, group kind, the group's id (its lowest world rank), group size, bytes, the
// peer's world rank for send/recv, and a sequence number that matches the same operation across
// ranks: the group's sequence for collectives, a per (sender, receiver) channel count for send/recv
// (traces/SCHEMA.md, events.seq).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <utility>

#include "models/comm.h"
#include "models/plan/layout.h"

namespace ss::models {

class CommTracer final : public CommObserver {
public:
    // `next` (optional, not owned) sees every call too, after the tracer.
    CommTracer(const Layout& layout, int world_rank, CommObserver* next = nullptr);

    void on_begin(const CommRecord& r) override;
    void on_end(const CommRecord& r) override;

    // World rank of the member with index `index` of this rank's group of kind g.
    int world_rank_of(GroupKind g, int index) const;
    // The group's id: the world rank of its member 0.
    int group_id(GroupKind g) const { return world_rank_of(g, 0); }

private:
    static constexpr int kSlots = 512;  // outstanding calls per group kind
    struct Pending {
        std::uint64_t seq = ~0ull;
        std::int64_t start_ns = 0;
        std::int64_t channel_seq = -1;
    };
    Layout layout_;
    int world_rank_;
    Coord coord_;
    CommObserver* next_;
    std::array<std::array<Pending, kSlots>, kGroupKinds> pending_{};
    std::map<std::pair<int, int>, std::int64_t> channel_;  // (peer world rank, 0 send / 1 recv)
};

}  // namespace ss::models

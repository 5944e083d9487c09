#include "models/comm_tracer.h"

#include "profiler/profiler.h"
#include "traces/stats_keys.h"

namespace ss::models {

namespace {
traces::Collective collective_of(CommOp op) {
    switch (op) {
        case CommOp::AllReduce: return traces::Collective::AllReduce;
        case CommOp::ReduceScatter: return traces::Collective::ReduceScatter;
        case CommOp::AllGather: return traces::Collective::AllGather;
        case CommOp::Broadcast: return traces::Collective::Broadcast;
        case CommOp::Send: return traces::Collective::Send;
        case CommOp::Recv: return traces::Collective::Recv;
        case CommOp::Barrier: return traces::Collective::Barrier;
    }
    return traces::Collective::None;
}
traces::GroupKind group_of(GroupKind g) {
    switch (g) {
        case GroupKind::World: return traces::GroupKind::World;
        case GroupKind::Dp: return traces::GroupKind::DP;
        case GroupKind::Tp: return traces::GroupKind::TP;
        case GroupKind::Pp: return traces::GroupKind::PP;
    }
    return traces::GroupKind::None;
}
}  // namespace

CommTracer::CommTracer(const Layout& layout, int world_rank, CommObserver* next)
    : layout_(layout), world_rank_(world_rank), coord_(coord_of(world_rank, layout)), next_(next) {}

int CommTracer::world_rank_of(GroupKind g, int index) const {
    switch (g) {
        case GroupKind::World: return index;
        case GroupKind::Dp: return group_member(world_rank_, Axis::Dp, index, layout_);
        case GroupKind::Tp: return group_member(world_rank_, Axis::Tp, index, layout_);
        case GroupKind::Pp: return group_member(world_rank_, Axis::Pp, index, layout_);
    }
    return index;
}

void CommTracer::on_begin(const CommRecord& r) {
    if (profiler::Profiler::current() != nullptr) {
        Pending& p = pending_[static_cast<int>(r.group)][r.seq % kSlots];
        p.seq = r.seq;
        p.channel_seq = -1;
        if (r.op == CommOp::Send || r.op == CommOp::Recv) {
            // Posting order per channel is the matching order: the k-th send from a to b pairs
            // with the k-th recv at b from a.
            const int peer = world_rank_of(r.group, r.peer);
            p.channel_seq = channel_[{peer, r.op == CommOp::Send ? 0 : 1}]++;
        }
        p.start_ns = profiler::now_ns();
    }
    if (next_) next_->on_begin(r);
}

void CommTracer::on_end(const CommRecord& r) {
    const std::int64_t end = profiler::now_ns();
    if (profiler::Profiler* prof = profiler::Profiler::current()) {
        const Pending& p = pending_[static_cast<int>(r.group)][r.seq % kSlots];
        if (p.seq == r.seq) {
            profiler::SpanRecord s;
            s.name = to_string(r.op);
            s.kind = traces::EventKind::Comm;
            s.lane = profiler::lanes::kComm;
            s.start_ns = p.start_ns;
            // A communication thread ran the call: it ended when the data was reduced, not when
            // the request was found complete.
            s.end_ns = r.completed_ns >= 0 ? r.completed_ns : end;
            const auto& ctx = profiler::context();
            s.step = ctx.step;
            s.micro_batch = ctx.micro_batch;
            s.bytes = static_cast<std::int64_t>(r.bytes);
            s.collective = collective_of(r.op);
            s.group_kind = group_of(r.group);
            s.group_id = group_id(r.group);
            s.group_size = r.group_size;
            if (r.op == CommOp::Send || r.op == CommOp::Recv) {
                s.peer = world_rank_of(r.group, r.peer);
                s.seq = p.channel_seq;
            } else {
                s.seq = static_cast<std::int64_t>(r.seq);
                if (r.op == CommOp::Broadcast) s.peer = world_rank_of(r.group, r.peer);  // root
            }
            prof->record(s);
        } else {
            prof->count(traces::stats::kCommRecordsUnmatched.key, 1);
        }
    }
    if (next_) next_->on_end(r);
}

}  // namespace ss::models

#include "core/sim/sim_replay.h"

#include "core/analysis/analysis.h"
#include "core/sim/calibrate.h"
#include "models/plan/flops.h"
#include "models/plan/buckets.h"
#include "models/plan/layout.h"
#include "models/plan/schedule.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <queue>
#include <unordered_map>

namespace ss::core {

using traces::Collective;
using traces::GroupKind;

std::string OpGraph::describe_op(int rank, std::size_t index) const {
    const auto& prog = ranks[static_cast<std::size_t>(rank)];
    if (index >= prog.size()) return "end of program";
    const SimOp& op = prog[index];
    auto coll = [&](const char* what) {
        if (op.ref < 0 || static_cast<std::size_t>(op.ref) >= colls.size()) return std::string(what) + " ?";
        const CollInstance& c = colls[static_cast<std::size_t>(op.ref)];
        return std::string(what) + " " + std::string(traces::to_string(c.collective)) + " on " +
               std::string(traces::to_string(c.group)) + " group " + std::to_string(c.group_id) + " seq " +
               std::to_string(c.seq) + " (" + std::to_string(c.size) + " ranks)";
    };
    switch (op.kind) {
        case OpKind::Compute: return "compute " + std::string(to_string(op.part));
        case OpKind::Coll: return coll("collective");
        case OpKind::CollStart: return coll("start of");
        case OpKind::Wait: return coll("wait for");
        case OpKind::Send:
        case OpKind::Recv: {
            if (op.ref < 0 || static_cast<std::size_t>(op.ref) >= msgs.size()) return "message ?";
            const Message& m = msgs[static_cast<std::size_t>(op.ref)];
            return std::string(op.kind == OpKind::Send ? "send" : "recv") + " of message " + std::to_string(op.ref) +
                   " (rank " + std::to_string(m.from) + " -> " + std::to_string(m.to) + ")";
        }
    }
    return "?";
}

ReplayResult replay(const OpGraph& g, const ReplayOptions& opt) {
    const int world = static_cast<int>(g.ranks.size());
    struct RankState {
        std::size_t pc = 0;
        double t = 0;
        bool done = false;
        double compute_end = 0;  // end of the last Compute op
        double wait_from = -1;   // when the rank reached its first Wait since then (-1: none yet)
        double owed = 0;         // compute taken since then by the contention of the collectives waited for
    };
    struct CollState {
        int arrived = 0;
        double max_arrival = 0;
        bool done = false;
        double start = 0, end = 0;
        std::vector<int> members;
        std::vector<int> waiters;
    };
    struct MsgState {
        bool posted = false;
        double arrival = 0;
        int waiter = -1;
    };
    std::vector<RankState> rs(static_cast<std::size_t>(world));
    std::vector<CollState> cs(g.colls.size());
    std::vector<MsgState> ms(g.msgs.size());
    // When each rank's previous collective on each group kind finished: operations on one
    // communicator run one after another; different communicators progress independently.
    std::vector<double> net_free(static_cast<std::size_t>(world) * traces::kGroupKindCount, 0.0);
    auto nf = [&](int r, GroupKind k) -> double& {
        return net_free[static_cast<std::size_t>(r) * traces::kGroupKindCount + static_cast<std::size_t>(k)];
    };
    ReplayResult res;
    res.ranks.assign(static_cast<std::size_t>(world), Breakdown{});
    if (opt.record_timeline) {
        res.timeline.resize(static_cast<std::size_t>(world));
        for (int r = 0; r < world; ++r) res.timeline[static_cast<std::size_t>(r)].resize(g.ranks[static_cast<std::size_t>(r)].size());
    }
    std::deque<int> ready;
    for (int r = 0; r < world; ++r) ready.push_back(r);
    constexpr double ns = 1e9;
    auto part = [&](int r, Part p) -> double& { return res.ranks[static_cast<std::size_t>(r)].part_ns[static_cast<int>(p)]; };
    auto mark = [&](int r, std::size_t pc, double a, double b) {
        if (opt.record_timeline) res.timeline[static_cast<std::size_t>(r)][pc] = {a, b};
    };
    auto check_ref = [&](int r, const SimOp& op, std::size_t n) {
        if (op.ref < 0 || static_cast<std::size_t>(op.ref) >= n)
            throw SimError("replay: rank " + std::to_string(r) + " op " + std::to_string(rs[static_cast<std::size_t>(r)].pc) +
                           " refers to " + std::to_string(op.ref) + ", outside [0, " + std::to_string(n) + ")");
    };
    // Release a rank blocked at its current op (a Coll or Wait) at time `end`.
    auto release = [&](int w, double end, Part as) {
        RankState& s = rs[static_cast<std::size_t>(w)];
        const double t0 = s.t;
        if (end > s.t) {
            part(w, as) += (end - s.t) * ns;
            s.t = end;
        }
        mark(w, s.pc, t0, s.t);
        ++s.pc;
        ready.push_back(w);
    };
    // When rank r may leave its Wait for the finished collective idx: the collective's end, and
    // the point its work since its last kernel reaches once the compute the contention took is
    // made up (the Wait semantics above). A blocking collective ends at its end.
    auto wait_end = [&](int r, int idx) {
        RankState& s = rs[static_cast<std::size_t>(r)];
        const CollState& c = cs[static_cast<std::size_t>(idx)];
        if (g.ranks[static_cast<std::size_t>(r)][s.pc].kind != OpKind::Wait) return c.end;
        const double k = g.colls[static_cast<std::size_t>(idx)].contention;
        if (k > 0) s.owed += k * std::max(0.0, std::min(c.end, s.compute_end) - c.start);
        return std::max(c.end, s.wait_from + s.owed);
    };
    auto complete = [&](int idx) {
        CollState& c = cs[static_cast<std::size_t>(idx)];
        const CollInstance& ci = g.colls[static_cast<std::size_t>(idx)];
        double start = c.max_arrival;
        for (int m : c.members) start = std::max(start, nf(m, ci.group));
        c.start = start;
        c.end = start + ci.cost_s;
        c.done = true;
        for (int m : c.members) {
            nf(m, ci.group) = c.end;
            res.ranks[static_cast<std::size_t>(m)].comm_ns += ci.cost_s * ns;
        }
        for (int w : c.waiters) release(w, wait_end(w, idx), Part::ExposedComm);
        c.waiters.clear();
    };

    while (!ready.empty()) {
        const int r = ready.front();
        ready.pop_front();
        RankState& s = rs[static_cast<std::size_t>(r)];
        const auto& prog = g.ranks[static_cast<std::size_t>(r)];
        bool blocked = false;
        while (!blocked && s.pc < prog.size()) {
            const SimOp& op = prog[s.pc];
            switch (op.kind) {
                case OpKind::Compute:
                    mark(r, s.pc, s.t, s.t + op.dur_s);
                    s.t += op.dur_s;
                    s.compute_end = s.t;
                    s.wait_from = -1;
                    s.owed = 0;
                    part(r, op.part) += op.dur_s * ns;
                    if (op.part == Part::Compute || op.part == Part::Optimizer)
                        res.ranks[static_cast<std::size_t>(r)].compute_ns += op.dur_s * ns;
                    ++s.pc;
                    break;
                case OpKind::Coll:
                case OpKind::CollStart: {
                    check_ref(r, op, g.colls.size());
                    CollState& c = cs[static_cast<std::size_t>(op.ref)];
                    const CollInstance& ci = g.colls[static_cast<std::size_t>(op.ref)];
                    if (c.arrived >= ci.size)
                        throw SimError("replay: rank " + std::to_string(r) + " joins " + g.describe_op(r, s.pc) +
                                       " after all " + std::to_string(ci.size) + " members arrived");
                    ++c.arrived;
                    c.max_arrival = std::max(c.max_arrival, s.t);
                    c.members.push_back(r);
                    if (op.kind == OpKind::Coll) {
                        c.waiters.push_back(r);
                        blocked = true;
                    } else {
                        mark(r, s.pc, s.t, s.t);
                        ++s.pc;
                    }
                    if (c.arrived == ci.size) complete(op.ref);
                    break;
                }
                case OpKind::Wait: {
                    check_ref(r, op, g.colls.size());
                    CollState& c = cs[static_cast<std::size_t>(op.ref)];
                    if (s.wait_from < 0) s.wait_from = s.t;
                    if (c.done) {
                        const double t0 = s.t, end = wait_end(r, op.ref);
                        if (end > s.t) {
                            part(r, Part::ExposedComm) += (end - s.t) * ns;
                            s.t = end;
                        }
                        mark(r, s.pc, t0, s.t);
                        ++s.pc;
                    } else {
                        c.waiters.push_back(r);
                        blocked = true;
                    }
                    break;
                }
                case OpKind::Send: {
                    check_ref(r, op, g.msgs.size());
                    MsgState& m = ms[static_cast<std::size_t>(op.ref)];
                    m.posted = true;
                    m.arrival = s.t;  // post time; the transfer starts when both sides are there
                    res.ranks[static_cast<std::size_t>(r)].comm_ns += g.msgs[static_cast<std::size_t>(op.ref)].cost_s * ns;
                    mark(r, s.pc, s.t, s.t);
                    ++s.pc;
                    if (m.waiter >= 0) {
                        const int w = m.waiter;
                        m.waiter = -1;
                        release(w, std::max(rs[static_cast<std::size_t>(w)].t, m.arrival) +
                                       g.msgs[static_cast<std::size_t>(op.ref)].cost_s, Part::Bubble);
                    }
                    break;
                }
                case OpKind::Recv: {
                    check_ref(r, op, g.msgs.size());
                    MsgState& m = ms[static_cast<std::size_t>(op.ref)];
                    if (m.posted) {
                        const double t0 = s.t;
                        const double end = std::max(s.t, m.arrival) + g.msgs[static_cast<std::size_t>(op.ref)].cost_s;
                        part(r, Part::Bubble) += (end - s.t) * ns;
                        s.t = end;
                        mark(r, s.pc, t0, s.t);
                        ++s.pc;
                    } else {
                        m.waiter = r;
                        blocked = true;
                    }
                    break;
                }
            }
        }
        if (!blocked && s.pc >= prog.size()) s.done = true;
    }
    std::string stuck;
    int nstuck = 0;
    for (int r = 0; r < world; ++r)
        if (!rs[static_cast<std::size_t>(r)].done) {
            if (nstuck++ < 4) stuck += "\n  rank " + std::to_string(r) + " waits at op " + std::to_string(rs[static_cast<std::size_t>(r)].pc) + ": " + g.describe_op(r, rs[static_cast<std::size_t>(r)].pc);
        }
    if (nstuck > 0)
        throw SimError("replay deadlock: " + std::to_string(nstuck) + " of " + std::to_string(world) +
                       " ranks never finish (a collective some member never joins, or a recv without its send):" + stuck);

    res.rank_end_s.resize(static_cast<std::size_t>(world));
    for (int r = 0; r < world; ++r) {
        res.rank_end_s[static_cast<std::size_t>(r)] = rs[static_cast<std::size_t>(r)].t;
        res.step_s = std::max(res.step_s, rs[static_cast<std::size_t>(r)].t);
    }
    for (int r = 0; r < world; ++r) {
        Breakdown& b = res.ranks[static_cast<std::size_t>(r)];
        b.part_ns[static_cast<int>(Part::Idle)] += (res.step_s - rs[static_cast<std::size_t>(r)].t) * ns;
        b.step_ns = res.step_s * ns;
        for (int k = 0; k < kPartCount; ++k) res.breakdown.part_ns[static_cast<std::size_t>(k)] += b.part_ns[static_cast<std::size_t>(k)] / world;
        res.breakdown.comm_ns += b.comm_ns / world;
        res.breakdown.compute_ns += b.compute_ns / world;
    }
    res.breakdown.step_ns = res.step_s * ns;
    return res;
}

OpGraph graph_from_spec(const Workload& w, const Hardware& hw, const SimOptions& opt) {
    const ComputeRates R = rates_at_precision(opt.rates ? *opt.rates : rates_from_hardware(hw), hw, w);
    if (!(R.matmul_flop_per_s > 0) || !(R.memory_bytes_per_s > 0) || !(R.optimizer_bytes_per_s > 0))
        throw SimError("compute rates must be positive (source: " + R.source + ")");
    const bool roofline = !opt.rates;
    const double c = opt.model_oversubscription ? contention_factor(w, hw, opt.background_threads) : 1.0;
    const int dp = w.dp, tp = w.tp, pp = w.pp, m = w.micro_batches, world = w.world();
    const GroupPlacement g_tp = place_group(hw, tp, 1), g_dp = place_group(hw, dp, tp),
                         g_pp = place_group(hw, 2, tp * dp), g_world = place_group(hw, world, 1);
    // The straggler does factor × its kernels and optimizer; a parameter server's workers have no
    // DP reduction, no world all-reduce and no optimizer (the servers update: simulate_ps_events).
    const Straggler slow = straggler_of(w);
    const bool dp_sync = dp > 1 && !w.ps;
    OpGraph g;
    g.ranks.resize(static_cast<std::size_t>(world));
    std::unordered_map<std::uint64_t, int> coll_of;
    auto coll = [&](GroupKind kind, std::int64_t gid, std::int64_t seq, int size, Collective col, double bytes,
                    const GroupPlacement& pl, bool nonblocking = false) {
        const std::uint64_t key = (static_cast<std::uint64_t>(kind) << 56) ^ (static_cast<std::uint64_t>(gid) << 28) ^
                                  static_cast<std::uint64_t>(seq);
        auto it = coll_of.find(key);
        if (it != coll_of.end()) return it->second;
        CollInstance ci{col, kind, gid, seq, size, bytes, collective_time(hw, col, pl, bytes, nonblocking) * c};
        g.colls.push_back(ci);
        coll_of.emplace(key, static_cast<int>(g.colls.size()) - 1);
        return static_cast<int>(g.colls.size()) - 1;
    };
    // A DP bucket started non-blocking: only Hardware::overlap of it progresses in the background
    // (its instance's cost); the rest is a blocking reduction on the same communicator after the
    // wait, so that the rests queue behind every background part as the analytic engine's
    // perfect(f·c) + nb·(1 − f)·c does. Its contention (Hardware::overlap_contention, a GPU's
    // communication kernels beside its compute kernels) is paid at its wait.
    std::vector<double> bucket_rest;  // per collective instance, -1 = not a background bucket
    auto background = [&](int ci) {
        if (bucket_rest.size() < g.colls.size()) bucket_rest.resize(g.colls.size(), -1.0);
        double& rest = bucket_rest[static_cast<std::size_t>(ci)];
        if (rest < 0) {
            const double f = std::clamp(hw.overlap, 0.0, 1.0);
            CollInstance& bucket = g.colls[static_cast<std::size_t>(ci)];
            rest = bucket.cost_s * (1 - f);
            bucket.cost_s *= f;
            bucket.contention = std::clamp(hw.overlap_contention, 0.0, 1.0);
        }
        return ci;
    };
    // The trainer's rank mapping, stage order and bucket plan (models/plan/).
    const models::Layout layout{dp, tp, pp};
    const models::PipeSchedule schedule = w.gpipe ? models::PipeSchedule::GPipe : models::PipeSchedule::OneFOneB;
    // Messages: one per (virtual stage boundary, replica, tp rank, micro-batch, direction); the
    // boundary between virtual stages vs and vs + 1 is numbered vs. Virtual stage vs (model chunk
    // vs div pp) runs on stage vs mod pp; without interleaving virtual stages are the stages.
    const int v = std::max(1, w.virtual_stages), vstages = pp * v;
    auto msg_index = [&](int boundary, int d, int t, int mb, bool grad) {
        return ((((boundary * dp + d) * tp + t) * m + mb) * 2) + (grad ? 1 : 0);
    };
    g.msgs.resize(static_cast<std::size_t>(std::max(0, vstages - 1) * dp * tp * m * 2));
    for (int vs = 0; vs + 1 < vstages; ++vs)
        for (int d = 0; d < dp; ++d)
            for (int t = 0; t < tp; ++t)
                for (int mb = 0; mb < m; ++mb) {
                    const int lo = models::rank_of({d, t, vs % pp}, layout), hi = models::rank_of({d, t, (vs + 1) % pp}, layout);
                    const double bytes = v > 1 ? w.chunk_out_bytes : w.stages[static_cast<std::size_t>(vs)].out_bytes;
                    const double cost = p2p_time(w, hw, g_pp, g_tp, bytes) * c;
                    g.msgs[static_cast<std::size_t>(msg_index(vs, d, t, mb, false))] = {lo, hi, bytes, cost};
                    g.msgs[static_cast<std::size_t>(msg_index(vs, d, t, mb, true))] = {hi, lo, bytes, cost};
                }

    for (int r = 0; r < world; ++r) {
        const models::Coord at = models::coord_of(r, layout);
        const int t = at.tp, d = at.dp, s = at.pp;
        const StageWork& sw = w.stages[static_cast<std::size_t>(s)];
        auto& prog = g.ranks[static_cast<std::size_t>(r)];
        const std::int64_t tp_gid = models::group_member(r, models::Axis::Tp, 0, layout);
        const std::int64_t dp_gid = models::group_member(r, models::Axis::Dp, 0, layout);
        std::int64_t tp_seq = 0, dp_seq = 0;
        OpPass pass = OpPass::None;  // the pipeline action being emitted
        int pass_mb = -1;
        auto emit = [&](OpKind kind, Part part, double dur, int ref) {
            prog.push_back({kind, part, dur, ref, pass, pass_mb});
        };
        const double kf = r == slow.rank ? slow.factor : 1.0;
        auto compute = [&](double dur, Part p) {
            if (dur > 0) emit(OpKind::Compute, p, p == Part::Compute || p == Part::Optimizer ? dur * kf : dur, -1);
        };
        // Buckets cut from the end of the stage's flat parameters, in the trainer's plan
        // (models/plan/buckets.h); each starts once backward has passed its first element.
        const double P = sw.params;
        const std::vector<models::Bucket> buckets =
            dp_sync ? models::bucket_ranges(static_cast<std::size_t>(std::llround(std::max(0.0, sw.flat_elems))), w.bucket_elems)
                   : std::vector<models::Bucket>{};
        const int nb = static_cast<int>(buckets.size());
        std::vector<int> bucket_coll(static_cast<std::size_t>(nb), -1);
        const Collective red = w.zero ? Collective::ReduceScatter : Collective::AllReduce;
        // reduced at the gradients' precision, gathered (ZeRO-1) at the weights'
        auto bucket_bytes = [&](int k) { return static_cast<double>(buckets[static_cast<std::size_t>(k)].size()) * w.grad_bytes; };
        auto gather_bytes = [&](int k) { return static_cast<double>(buckets[static_cast<std::size_t>(k)].size()) * w.weight_bytes; };
        std::size_t next_bucket = 0;
        std::vector<std::size_t> layer_offset(sw.layers.size());  // first element of each layer
        {
            double off = 0;
            for (std::size_t l = 0; l < sw.layers.size(); ++l) {
                layer_offset[l] = static_cast<std::size_t>(std::llround(off));
                off += sw.layers[l].flat_elems;
            }
        }
        std::vector<LayerTime> lt(sw.layers.size());
        for (std::size_t l = 0; l < sw.layers.size(); ++l) lt[l] = layer_time(sw.layers[l], R, hw, roofline);

        // One tensor-parallel all-reduce, or with sequence parallelism a reduce-scatter and an all-gather.
        auto tp_coll = [&](const LayerWork& L, double bytes) {
            if (!L.tp_rs_ag) {
                emit(OpKind::Coll, Part::ExposedComm, 0, coll(GroupKind::TP, tp_gid, tp_seq++, tp, Collective::AllReduce, bytes, g_tp));
                return;
            }
            emit(OpKind::Coll, Part::ExposedComm, 0, coll(GroupKind::TP, tp_gid, tp_seq++, tp, Collective::ReduceScatter, bytes, g_tp));
            emit(OpKind::Coll, Part::ExposedComm, 0, coll(GroupKind::TP, tp_gid, tp_seq++, tp, Collective::AllGather, bytes, g_tp));
        };
        // The stage's actions: GPipe / 1F1B (models/plan/schedule.h), or interleaved 1F1B over its model chunks.
        std::vector<ChunkAction> actions;
        if (v > 1) {
            actions = interleaved_schedule(pp, s, m, v);
        } else {
            for (const models::PipeAction& a : models::pipeline_schedule(schedule, pp, s, m))
                actions.push_back({a.kind == models::PipeAction::Forward, a.micro_batch, 0});
        }
        const std::size_t nchunks = sw.chunk_begin.size() > 1 ? sw.chunk_begin.size() - 1 : 1;

        compute(R.step_overhead_s * c, Part::OtherHost);
        for (const ChunkAction& a : actions) {
            const bool forward = a.forward;
            const int vs = a.chunk * pp + s;
            // the chunk's layers (every layer of the stage without interleaving)
            const bool chunked = v > 1 && nchunks == static_cast<std::size_t>(v);
            const std::size_t first = chunked ? sw.chunk_begin[static_cast<std::size_t>(a.chunk)] : 0;
            const std::size_t last = chunked ? sw.chunk_begin[static_cast<std::size_t>(a.chunk) + 1] : sw.layers.size();
            const int recv_from = forward ? (vs > 0 ? vs - 1 : -1) : (vs + 1 < vstages ? vs + 1 : -1);
            const int send_to = forward ? (vs + 1 < vstages ? vs + 1 : -1) : (vs > 0 ? vs - 1 : -1);
            pass = forward ? OpPass::Forward : OpPass::Backward;
            pass_mb = a.micro_batch;
            // The message to or from a neighbouring virtual stage: its boundary is the lower of the two.
            auto msg = [&](int other) { return msg_index(std::min(vs, other), d, t, a.micro_batch, !forward); };
            if (recv_from >= 0) emit(OpKind::Recv, Part::Bubble, 0, msg(recv_from));
            if (forward) {
                if (sw.loads_data && (vs == 0 || vs == vstages - 1)) compute(w.micro_batch * R.data_s_per_sample * c, Part::Data);
                for (std::size_t l = first; l < last; ++l) {
                    const LayerWork& L = sw.layers[l];
                    const int pieces = std::max(1, L.tp_fwd_ar);
                    for (int k = 0; k < std::max(1, pieces); ++k) {
                        compute(lt[l].fwd_s * c / std::max(1, pieces), Part::Compute);
                        if (k < L.tp_fwd_ar) tp_coll(L, L.tp_fwd_bytes);
                    }
                }
            } else {
                const bool reducing = a.micro_batch == m - 1 && dp_sync && w.overlap;
                for (std::size_t li = last; li-- > first;) {
                    const LayerWork& L = sw.layers[li];
                    const int pieces = std::max(1, L.tp_bwd_ar);
                    for (int k = 0; k < pieces; ++k) {
                        compute(lt[li].bwd_s * c / pieces, Part::Compute);
                        if (k < L.tp_bwd_ar) tp_coll(L, L.tp_bwd_bytes);
                    }
                    if (!reducing) continue;
                    for (const std::size_t ready = models::buckets_ready(buckets, next_bucket, layer_offset[li]);
                         next_bucket < ready; ++next_bucket) {
                        const int k = static_cast<int>(next_bucket);
                        const int ci = background(coll(GroupKind::DP, dp_gid, dp_seq++, dp, red, bucket_bytes(k), g_dp, true));
                        bucket_coll[next_bucket] = ci;
                        emit(OpKind::CollStart, Part::ExposedComm, 0, ci);
                    }
                }
            }
            if (send_to >= 0) {
                emit(OpKind::Send, Part::Bubble, 0, msg(send_to));
                // Blocking p2p (Workload::p2p_sync): the sender waits for its transfer too.
                if (w.p2p_sync) compute(g.msgs[static_cast<std::size_t>(msg(send_to))].cost_s, Part::ExposedComm);
            }
        }
        pass = OpPass::None;
        pass_mb = -1;
        if (w.ps) continue;  // the parameter server's part: simulate_ps_events
        // gradient_sync
        if (dp > 1) {
            if (w.overlap) {
                for (; next_bucket < buckets.size(); ++next_bucket) {
                    const int ci = background(
                        coll(GroupKind::DP, dp_gid, dp_seq++, dp, red, bucket_bytes(static_cast<int>(next_bucket)), g_dp, true));
                    bucket_coll[next_bucket] = ci;
                    emit(OpKind::CollStart, Part::ExposedComm, 0, ci);
                }
                for (int k = 0; k < nb; ++k) {
                    const int ci = bucket_coll[static_cast<std::size_t>(k)];
                    emit(OpKind::Wait, Part::ExposedComm, 0, ci);
                    const double rest = bucket_rest[static_cast<std::size_t>(ci)];
                    if (rest > 0) {
                        const int ri = coll(GroupKind::DP, dp_gid, dp_seq++, dp, red, 0.0, g_dp);
                        g.colls[static_cast<std::size_t>(ri)].bytes = g.colls[static_cast<std::size_t>(ci)].bytes;
                        g.colls[static_cast<std::size_t>(ri)].cost_s = rest;
                        emit(OpKind::Coll, Part::ExposedComm, 0, ri);
                    }
                }
            } else {
                for (int k = 0; k < nb; ++k)
                    emit(OpKind::Coll, Part::ExposedComm, 0, coll(GroupKind::DP, dp_gid, dp_seq++, dp, red, bucket_bytes(k), g_dp));
            }
        }
        // optimizer: world all-reduce of 3 doubles, AdamW, ZeRO-1 all-gather
        if (world > 1)
            emit(OpKind::Coll, Part::ExposedComm, 0, coll(GroupKind::World, 0, 0, world, Collective::AllReduce, 24.0, g_world));
        compute(optimizer_time(P, w.zero ? dp : 1, static_cast<int>(sw.layers.size()), R, w.optimizer_traffic) * c, Part::Optimizer);
        if (w.zero && dp > 1) {
            std::vector<int> ag(static_cast<std::size_t>(nb));
            for (int k = 0; k < nb; ++k) {
                ag[static_cast<std::size_t>(k)] = coll(GroupKind::DP, dp_gid, dp_seq++, dp, Collective::AllGather, gather_bytes(k), g_dp);
                emit(OpKind::CollStart, Part::ExposedComm, 0, ag[static_cast<std::size_t>(k)]);
            }
            for (int k = 0; k < nb; ++k) emit(OpKind::Wait, Part::ExposedComm, 0, ag[static_cast<std::size_t>(k)]);
        }
    }
    return g;
}

PsPrediction simulate_ps_events(const Workload& w, const PsCosts& pc, const std::vector<double>& replica_compute,
                                const PsEventOptions& opt) {
    const int n = w.dp, S = pc.servers;
    const bool bsp = w.staleness == 0, async = w.staleness == ParallelSpec::kAsync;
    const double A = pc.apply_s;
    PsPrediction p;
    const std::vector<double> tau = ps_cycles(w, pc, replica_compute, p);
    const double tmax = *std::max_element(tau.begin(), tau.end()), tmin = *std::min_element(tau.begin(), tau.end());
    // Start-up: every replica starts at 0; with a bound s the fast ones need s / (1/τ_min − 1/τ_max)
    // to run ahead of the slowest by s steps. Measured over [horizon/2, horizon].
    double startup = 4 * tmax;
    if (!bsp && !async && tmax > tmin * (1 + 1e-9)) startup += w.staleness * tmin * tmax / (tmax - tmin);
    const double horizon = 2 * (startup + opt.horizon_cycles * tmax);

    enum class Ev : std::uint8_t { ComputeDone, PushIn, Applied, PullDone };
    struct Event {
        double t;
        std::uint64_t seq;
        Ev kind;
        int d, s;
        bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
    };
    std::priority_queue<Event, std::vector<Event>, std::greater<>> q;
    std::uint64_t seq = 0;
    auto post = [&](double t, Ev k, int d, int s) { q.push(Event{t, seq++, k, d, s}); };
    std::vector<double> in_free(static_cast<std::size_t>(S), 0.0), cpu_free(in_free), out_free(in_free);
    std::vector<std::int64_t> version(static_cast<std::size_t>(S), 0);
    std::vector<std::vector<int>> arrivals(static_cast<std::size_t>(S));  // BSP: pushes of the round, in order
    std::vector<int> applied(static_cast<std::size_t>(n), 0), pending(static_cast<std::size_t>(n), 0);
    std::vector<std::int64_t> completed(static_cast<std::size_t>(n), 0);
    std::vector<char> waiting(static_cast<std::size_t>(n), 0);
    std::vector<std::vector<double>> starts(static_cast<std::size_t>(n));  // when each step's compute started
    // Staleness as the runtime records it: the servers' step version (the fewest pushes applied
    // from any replica) each pull reads, over each replica's first N steps.
    std::vector<std::int64_t> applied_by(static_cast<std::size_t>(n) * S, 0);  // server s, replica d: s·n + d
    std::vector<std::int64_t> read(static_cast<std::size_t>(n), 0);            // the version its next step computes on
    const std::size_t N = static_cast<std::size_t>(std::max(1, w.steps));
    std::vector<double> st_sum(static_cast<std::size_t>(n), 0.0);
    std::vector<int> st_count(static_cast<std::size_t>(n), 0);
    double st_max = 0;
    auto step_version = [&](int s) {
        const auto b = applied_by.begin() + static_cast<std::ptrdiff_t>(s) * n;
        return *std::min_element(b, b + n);
    };
    const double window = horizon / 2;

    auto start_step = [&](int d, double t) {
        auto& v = starts[static_cast<std::size_t>(d)];
        if (v.size() < N) {  // step v.size() computes on version read[d]
            const double st = static_cast<double>(static_cast<std::int64_t>(v.size()) - read[static_cast<std::size_t>(d)]);
            st_sum[static_cast<std::size_t>(d)] += st;
            ++st_count[static_cast<std::size_t>(d)];
            st_max = std::max(st_max, st);
        }
        v.push_back(t);
        post(t + replica_compute[static_cast<std::size_t>(d)], Ev::ComputeDone, d, -1);
    };
    auto request_pull = [&](int d, int s, double t) {
        const double start = std::max(t, out_free[static_cast<std::size_t>(s)]);
        out_free[static_cast<std::size_t>(s)] = start + pc.pull_of(d, s);
        // The parameters sent are the version when the transfer starts; the FIFO reserves it at the
        // request, and no update lands on this server before it starts except those queued earlier.
        read[static_cast<std::size_t>(d)] = std::min(read[static_cast<std::size_t>(d)], step_version(s));
        post(start + pc.pull_of(d, s), Ev::PullDone, d, s);
    };
    auto pull_all = [&](int d, double t) {
        pending[static_cast<std::size_t>(d)] = S;
        read[static_cast<std::size_t>(d)] = std::numeric_limits<std::int64_t>::max();
        for (int s = 0; s < S; ++s) request_pull(d, s, t);
    };
    auto allowed = [&](int d) {
        if (async) return true;
        const std::int64_t lo = *std::min_element(completed.begin(), completed.end());
        return lo >= completed[static_cast<std::size_t>(d)] - w.staleness;
    };
    for (int d = 0; d < n; ++d) start_step(d, 0.0);
    std::size_t events = 0;
    auto all_ran = [&] {
        for (const auto& v : starts)
            if (v.size() < N) return false;
        return true;
    };
    while (!q.empty() && events++ < opt.max_events) {
        const Event e = q.top();
        q.pop();
        if (e.t > horizon && all_ran()) break;  // the steady state measured, every replica's N steps counted
        const std::size_t d = static_cast<std::size_t>(e.d), s = static_cast<std::size_t>(std::max(0, e.s));
        switch (e.kind) {
            case Ev::ComputeDone:
                pending[d] = S;  // BSP: the pulls of this round (SSP/async: pull_all sets it again)
                read[d] = std::numeric_limits<std::int64_t>::max();
                for (int k = 0; k < S; ++k) {
                    const double start = std::max(e.t, in_free[static_cast<std::size_t>(k)]);
                    in_free[static_cast<std::size_t>(k)] = start + pc.push_of(e.d, k);
                    post(start + pc.push_of(e.d, k), Ev::PushIn, e.d, k);
                }
                break;
            case Ev::PushIn:
                if (bsp) {
                    arrivals[s].push_back(e.d);
                    if (static_cast<int>(arrivals[s].size()) < n) break;
                    cpu_free[s] = std::max(e.t, cpu_free[s]) + A;
                    post(cpu_free[s], Ev::Applied, -1, e.s);
                } else {
                    cpu_free[s] = std::max(e.t, cpu_free[s]) + A;
                    post(cpu_free[s], Ev::Applied, e.d, e.s);
                }
                break;
            case Ev::Applied:
                if (bsp) {
                    ++version[s];
                    for (int r : arrivals[s]) ++applied_by[s * static_cast<std::size_t>(n) + static_cast<std::size_t>(r)];
                    for (int r : arrivals[s]) {
                        if (++applied[static_cast<std::size_t>(r)] < S) continue;
                        applied[static_cast<std::size_t>(r)] = 0;
                        ++completed[static_cast<std::size_t>(r)];
                    }
                    // Pulls in the order the pushes came in, each as soon as this server has the version.
                    for (int r : arrivals[s]) request_pull(r, e.s, e.t);
                    arrivals[s].clear();
                    break;
                }
                ++version[s];
                ++applied_by[s * static_cast<std::size_t>(n) + d];
                if (++applied[d] < S) break;
                applied[d] = 0;
                ++completed[d];
                // This replica pulls once the bound lets it start its next step; its update may
                // release others waiting for the slowest (in replica order, after it).
                if (allowed(e.d)) pull_all(e.d, e.t);
                else waiting[d] = 1;
                for (int r = 0; r < n; ++r)
                    if (waiting[static_cast<std::size_t>(r)] && allowed(r)) {
                        waiting[static_cast<std::size_t>(r)] = 0;
                        pull_all(r, e.t);
                    }
                break;
            case Ev::PullDone:
                if (--pending[d] == 0) start_step(e.d, e.t);
                break;
        }
    }
    // Steady state: each replica's steps started in the window.
    p.replica_step_s.resize(static_cast<std::size_t>(n));
    p.replica_wait_s.resize(static_cast<std::size_t>(n));
    p.replica_staleness.assign(static_cast<std::size_t>(n), 0.0);
    double X = 0, weighted = 0, samples = 0;
    for (int d = 0; d < n; ++d) {
        const auto& v = starts[static_cast<std::size_t>(d)];
        auto first = std::lower_bound(v.begin(), v.end(), window), last = std::upper_bound(v.begin(), v.end(), horizon);
        if (last - first < 2) first = v.begin();  // a replica too slow to start twice in the window
        const double period = last - first >= 2 ? (*(last - 1) - *first) / static_cast<double>(last - first - 1) : horizon;
        const std::size_t i = static_cast<std::size_t>(d);
        p.replica_step_s[i] = period;
        p.replica_wait_s[i] = std::max(0.0, period - tau[i]);
        X += 1.0 / period;
        p.job_step_s = std::max(p.job_step_s, period);
        if (st_count[i] > 0) {
            p.replica_staleness[i] = st_sum[i] / st_count[i];
            weighted += st_sum[i];
            samples += st_count[i];
        }
    }
    p.gradients_per_s = X;
    p.staleness_mean = samples > 0 ? weighted / samples : 0;
    p.staleness_max = st_max;
    p.server_in_bytes = pc.in_bytes;
    p.server_out_bytes = pc.out_bytes;
    p.server_utilisation.assign(static_cast<std::size_t>(S), 0.0);
    for (int s = 0; s < S; ++s) {
        double in = 0, out = 0;
        for (int d = 0; d < n; ++d) {
            const double rate = 1.0 / p.replica_step_s[static_cast<std::size_t>(d)];
            in += rate * pc.push_of(d, s);
            out += rate * pc.pull_of(d, s);
        }
        const double cpu = bsp ? A / p.job_step_s : X * A;
        p.server_utilisation[static_cast<std::size_t>(s)] = std::min(1.0, std::max({in, out, cpu}));
    }
    return p;
}

SimResult simulate_replay(const ExperimentSpec& spec, const Hardware& hw, const SimOptions& given) {
    // calibrated compute classes (calibrate.h)
    return simulate_replay(build_workload(spec), hw, with_calibrated_rates(spec, hw, given));
}

SimResult simulate_replay(const Workload& w, const Hardware& hw, const SimOptions& opt) {
    SimResult res = simulate_analytic(w, hw, opt);  // memory, throughput fields, notes
    const ReplayResult rr = replay(graph_from_spec(w, hw, opt));
    if (w.ps) {
        // The workers' step without the DP reduction, then the servers over many steps.
        const ComputeRates R = rates_at_precision(opt.rates ? *opt.rates : rates_from_hardware(hw), hw, w);
        const double c = res.contention;  // simulate_analytic's
        const models::Layout layout{w.dp, w.tp, w.pp};
        std::vector<double> compute(static_cast<std::size_t>(w.dp), 0.0);
        for (int r = 0; r < w.world(); ++r) {
            double& cd = compute[static_cast<std::size_t>(models::coord_of(r, layout).dp)];
            cd = std::max(cd, rr.rank_end_s[static_cast<std::size_t>(r)]);
        }
        res.ps = simulate_ps_events(w, ps_costs(w, hw, R, c), compute);
        res.step_s = w.dp / res.ps.gradients_per_s;
        // Breakdown: the workers' step parts (mean over ranks) for their compute, then each
        // replica's transfers, the update and its wait, as shares of its own step, scaled to the step.
        Breakdown b;
        for (int d = 0; d < w.dp; ++d) {
            const std::size_t i = static_cast<std::size_t>(d);
            const double step_d = res.ps.replica_step_s[i], scale = res.step_s / step_d / w.dp;
            Breakdown mean;  // the replica's ranks
            int ranks = 0;
            for (int r = 0; r < w.world(); ++r) {
                if (models::coord_of(r, layout).dp != d) continue;
                const Breakdown& x = rr.ranks[static_cast<std::size_t>(r)];
                // the replica ends when its last rank does: the rest of a rank's replay step is idle
                for (int k = 0; k < kPartCount; ++k) mean.part_ns[static_cast<std::size_t>(k)] += x.part_ns[static_cast<std::size_t>(k)];
                mean.part_ns[static_cast<int>(Part::Idle)] -= (rr.step_s - compute[i]) * 1e9;
                mean.comm_ns += x.comm_ns;
                mean.compute_ns += x.compute_ns;
                ++ranks;
            }
            const double k = scale / std::max(1, ranks);
            for (int part = 0; part < kPartCount; ++part) b.part_ns[static_cast<std::size_t>(part)] += mean.part_ns[static_cast<std::size_t>(part)] * k;
            const double own = (res.ps.push_s + res.ps.pull_s) * 1e9 * scale;
            b.part_ns[static_cast<int>(Part::ExposedComm)] += own;
            b.part_ns[static_cast<int>(Part::Optimizer)] += res.ps.apply_s * 1e9 * scale;
            b.part_ns[static_cast<int>(Part::Idle)] += res.ps.replica_wait_s[i] * 1e9 * scale;
            b.comm_ns += mean.comm_ns * k + own;
            b.compute_ns += mean.compute_ns * k;
        }
        b.step_ns = res.step_s * 1e9;
        res.breakdown = b;
    } else {
        res.step_s = rr.step_s;
        res.breakdown = rr.breakdown;
    }
    res.samples_per_s = w.samples_per_step / res.step_s;
    res.tokens_per_s = w.tokens_per_step / res.step_s;
    set_utilisation(res, w, hw);  // MFU / HFU at the replay's step time (replacing the analytic one's note)
    return res;
}

}  // namespace ss::core

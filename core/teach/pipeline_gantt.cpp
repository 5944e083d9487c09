#include "core/teach/pipeline_gantt.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>

#include "core/analysis/analysis.h"
#include "core/sim/sim_replay.h"
#include "core/sim/simulator.h"
#include "models/plan/schedule.h"
#include "traces/lanes.h"

namespace ss::core::teach {

const char* to_string(PipelineKind k) {
    switch (k) {
        case PipelineKind::GPipe:
            return "GPipe";
        case PipelineKind::OneFOneB:
            return "1F1B";
        case PipelineKind::Interleaved:
            return "interleaved 1F1B";
    }
    return "?";
}

double Gantt::busy() const {
    double b = 0;
    for (const GanttBox& x : boxes) b += x.duration();
    return b;
}

double Gantt::bubble_fraction() const {
    const double total = stages * span();
    if (stages <= 0 || !(total > 0)) return 0;
    return std::max(0.0, 1.0 - busy() / total);
}

std::vector<std::pair<double, double>> Gantt::idle(int stage) const {
    std::vector<std::pair<double, double>> busy_iv;
    for (const GanttBox& b : boxes)
        if (b.stage == stage) busy_iv.emplace_back(b.start, b.end);
    std::sort(busy_iv.begin(), busy_iv.end());
    std::vector<std::pair<double, double>> out;
    double t = begin;
    for (const auto& [s, e] : busy_iv) {
        if (s > t) out.emplace_back(t, s);
        t = std::max(t, e);
    }
    if (end > t) out.emplace_back(t, end);
    return out;
}

namespace {

int chunks_of(const PipelineParams& p) {
    return p.kind == PipelineKind::Interleaved ? p.virtual_stages : 1;
}

void check(const PipelineParams& p) {
    auto bad = [](const std::string& m) { throw TeachError(m); };
    if (p.stages < 1 || p.stages > 64)
        bad("stages p=" + std::to_string(p.stages) + " must be 1..64");
    if (p.micro_batches < 1 || p.micro_batches > 1024)
        bad("micro-batches m=" + std::to_string(p.micro_batches) + " must be 1..1024");
    if (!(p.forward > 0) || !(p.backward > 0)) bad("forward and backward costs must be > 0");
    if (p.kind == PipelineKind::Interleaved) {
        if (p.virtual_stages < 1 || p.virtual_stages > 16)
            bad("virtual stages v=" + std::to_string(p.virtual_stages) + " must be 1..16");
        // parallel.micro_batches rule of the spec (core/spec/spec.cpp), as Megatron-LM requires.
        if (p.micro_batches % p.stages != 0)
            bad("interleaved 1F1B needs the micro-batches m=" + std::to_string(p.micro_batches) +
                " to be a multiple of the stages p=" + std::to_string(p.stages) +
                " (as Megatron-LM requires)");
    }
}

// One action of a stage: forward or backward of a micro-batch on one model chunk.
struct Action {
    bool forward;
    int micro_batch;
    int chunk;
};

std::vector<Action> stage_actions(const PipelineParams& p, int stage) {
    std::vector<Action> out;
    if (p.kind == PipelineKind::Interleaved) {
        for (const ChunkAction& a :
             interleaved_schedule(p.stages, stage, p.micro_batches, p.virtual_stages))
            out.push_back({a.forward, a.micro_batch, a.chunk});
    } else {
        const auto kind = p.kind == PipelineKind::GPipe ? models::PipeSchedule::GPipe
                                                        : models::PipeSchedule::OneFOneB;
        for (const models::PipeAction& a :
             models::pipeline_schedule(kind, p.stages, stage, p.micro_batches))
            out.push_back({a.kind == models::PipeAction::Forward, a.micro_batch, 0});
    }
    return out;
}

}  // namespace

Gantt schedule_gantt(const PipelineParams& params) {
    check(params);
    const int p = params.stages, m = params.micro_batches, v = chunks_of(params), vstages = p * v;
    // The graph: stage s is rank s of the replay; virtual stage vs = chunk·p + s (Megatron-LM's
    // assignment, as build_workload). Message ids: one per (boundary vs → vs + 1, micro-batch,
    // direction), the boundary numbered by its lower virtual stage.
    OpGraph g;
    g.ranks.resize(static_cast<std::size_t>(p));
    auto msg_id = [&](int boundary, int mb, bool forward) {
        return ((boundary * m) + mb) * 2 + (forward ? 0 : 1);
    };
    const int nmsg = std::max(0, vstages - 1) * m * 2;
    g.msgs.resize(static_cast<std::size_t>(nmsg));
    for (int b = 0; b + 1 < vstages; ++b)
        for (int mb = 0; mb < m; ++mb) {
            g.msgs[static_cast<std::size_t>(msg_id(b, mb, true))] = {b % p, (b + 1) % p, 0, 0};
            g.msgs[static_cast<std::size_t>(msg_id(b, mb, false))] = {(b + 1) % p, b % p, 0, 0};
        }
    const double f = params.forward / v, bw = params.backward / v;
    // Which op of each stage's program is the compute of which action.
    std::vector<std::vector<std::pair<std::size_t, Action>>> compute_ops(
        static_cast<std::size_t>(p));
    for (int s = 0; s < p; ++s) {
        auto& prog = g.ranks[static_cast<std::size_t>(s)];
        for (const Action& a : stage_actions(params, s)) {
            const int vs = a.chunk * p + s;
            auto op = [&](OpKind k, int ref) {
                SimOp o;
                o.kind = k;
                o.ref = ref;
                o.part = Part::Bubble;
                o.micro_batch = a.micro_batch;
                prog.push_back(o);
            };
            if (a.forward && vs > 0) op(OpKind::Recv, msg_id(vs - 1, a.micro_batch, true));
            if (!a.forward && vs < vstages - 1) op(OpKind::Recv, msg_id(vs, a.micro_batch, false));
            SimOp c;
            c.kind = OpKind::Compute;
            c.part = Part::Compute;
            c.dur_s = a.forward ? f : bw;
            c.pass = a.forward ? OpPass::Forward : OpPass::Backward;
            c.micro_batch = a.micro_batch;
            compute_ops[static_cast<std::size_t>(s)].emplace_back(prog.size(), a);
            prog.push_back(c);
            if (a.forward && vs < vstages - 1) op(OpKind::Send, msg_id(vs, a.micro_batch, true));
            if (!a.forward && vs > 0) op(OpKind::Send, msg_id(vs - 1, a.micro_batch, false));
        }
    }
    ReplayOptions opt;
    opt.record_timeline = true;
    const ReplayResult r = replay(g, opt);

    Gantt out;
    out.stages = p;
    out.micro_batches = m;
    out.chunks = v;
    out.unit = "f";
    out.begin = 1e300;
    out.end = -1e300;
    for (int s = 0; s < p; ++s)
        for (const auto& [index, a] : compute_ops[static_cast<std::size_t>(s)]) {
            const OpTiming& t = r.timeline[static_cast<std::size_t>(s)][index];
            out.boxes.push_back({s, a.micro_batch, a.chunk, a.forward, t.start_s, t.end_s});
            out.begin = std::min(out.begin, t.start_s);
            out.end = std::max(out.end, t.end_s);
        }
    return out;
}

double formula_bubble(const PipelineParams& params) {
    check(params);
    return bubble_fraction(params.stages, params.micro_batches, chunks_of(params));
}

std::string formula_text(const PipelineParams& params) {
    check(params);
    const int p = params.stages, m = params.micro_batches, v = chunks_of(params);
    if (v > 1)
        return "(p−1)/(v·m+p−1) = " + std::to_string(p - 1) + "/" + std::to_string(v * m + p - 1);
    return "(p−1)/(m+p−1) = " + std::to_string(p - 1) + "/" + std::to_string(m + p - 1);
}

// ---- A recorded run ----

traces::RunId first_pipeline_run(traces::TraceReader& reader) {
    for (const traces::RunInfo& r : reader.runs())
        if (r.pp > 1) return r.id;
    return {};
}

RecordedGantt gantt_from_trace(traces::TraceReader& reader, traces::RunId run) {
    RecordedGantt out;
    out.run = reader.run(run);
    const traces::RunInfo& info = out.run;
    const int p = info.pp, m = info.micro_batches;
    if (p < 2)
        throw TeachError("run " + std::to_string(run.value) +
                         " has no pipeline (pp=" + std::to_string(p) +
                         "): record one with parallel.pp > 1, e.g. examples/gpt-tiny-tp2pp2.json");
    if (m < 1)
        throw TeachError("run " + std::to_string(run.value) + " does not state its micro-batches");
    out.kind = info.schedule == "gpipe" ? PipelineKind::GPipe : PipelineKind::OneFOneB;
    // One rank per stage: dp 0, tp 0 of that stage (models/LAYOUT.md).
    out.stage_rank.assign(static_cast<std::size_t>(p), -1);
    for (const traces::RankInfo& rk : reader.ranks(run))
        if (rk.dp_coord == 0 && rk.tp_coord == 0 && rk.pp_coord >= 0 && rk.pp_coord < p)
            out.stage_rank[static_cast<std::size_t>(rk.pp_coord)] = rk.rank;
    for (int s = 0; s < p; ++s)
        if (out.stage_rank[static_cast<std::size_t>(s)] < 0)
            throw TeachError("run " + std::to_string(run.value) +
                             " has no rank for pipeline stage " + std::to_string(s) +
                             " (dp 0, tp 0)");

    try {
        out.warmup_steps = run_step_times(reader, run).warmup_steps;
    } catch (const std::exception&) {
        out.warmup_steps = 0;  // no step events to detect a warm-up on: the first complete step
    }

    // Per step: per stage, the (forward, backward) box of each micro-batch.
    struct Raw {
        std::int64_t start = -1, end = -1, recv_end = -1;
    };
    using StageBoxes = std::map<std::pair<bool, std::int64_t>, Raw>;  // (forward, micro-batch)
    std::map<std::int64_t, std::vector<StageBoxes>> by_step;
    auto lane_events = [&](int rank, std::int32_t lane) {
        for (const traces::Lane& l : reader.lanes(run))
            if (l.rank == rank && l.lane == lane)
                return reader.events_in_window(run, rank, lane, l.min_start_ns, l.max_end_ns + 1);
        return std::vector<traces::Event>{};
    };
    for (int s = 0; s < p; ++s) {
        const int rank = out.stage_rank[static_cast<std::size_t>(s)];
        const auto phases = lane_events(rank, traces::lanes::kPhases);
        for (const traces::Event& e : phases) {
            if (e.kind != traces::EventKind::Phase || e.step < 0 || e.micro_batch < 0) continue;
            const std::string& name = reader.string(e.name);
            if (name != "forward" && name != "backward") continue;
            auto& stages = by_step[e.step];
            stages.resize(static_cast<std::size_t>(p));
            Raw& r = stages[static_cast<std::size_t>(s)][{name == "forward", e.micro_batch}];
            r.start = e.start_ns;
            r.end = e.end_ns;
        }
        // The blocking pipeline receive at a phase's start is waiting, not work.
        for (const traces::Event& e : lane_events(rank, traces::lanes::kComm)) {
            if (e.kind != traces::EventKind::Comm || e.collective != traces::Collective::Recv ||
                e.group_kind != traces::GroupKind::PP || e.step < 0 || e.micro_batch < 0)
                continue;
            auto it = by_step.find(e.step);
            if (it == by_step.end() || it->second.size() != static_cast<std::size_t>(p)) continue;
            StageBoxes& sb = it->second[static_cast<std::size_t>(s)];
            // A forward receives activations from stage s − 1, a backward gradients from s + 1:
            // the receive belongs to whichever of the two phases of its micro-batch contains it.
            for (bool fwd : {true, false}) {
                auto b = sb.find({fwd, e.micro_batch});
                if (b != sb.end() && e.start_ns >= b->second.start && e.start_ns <= b->second.end)
                    b->second.recv_end =
                        std::max(b->second.recv_end, std::min(e.end_ns, b->second.end));
            }
        }
    }
    // The first complete step after the warm-up (else the last complete one).
    auto complete = [&](const std::vector<StageBoxes>& st) {
        if (st.size() != static_cast<std::size_t>(p)) return false;
        for (const StageBoxes& sb : st) {
            if (sb.size() != static_cast<std::size_t>(2 * m)) return false;
            for (const auto& [key, r] : sb)
                if (r.start < 0 || r.end < r.start) return false;
        }
        return true;
    };
    std::vector<std::int64_t> done;
    for (const auto& [step, st] : by_step)
        if (complete(st)) done.push_back(step);
    if (done.empty())
        throw TeachError("run " + std::to_string(run.value) +
                         " has no step with every forward and backward phase of its " +
                         std::to_string(p) + " stages and " + std::to_string(m) + " micro-batches");
    // The steps after the warm-up (numbered from 0 by the trainer: the warm-up's are the first
    // ones), else all; of them the median by pipeline span (the lower one of an even count, the
    // earlier of equal spans): one slow kernel in one step does not make the picture.
    std::vector<std::int64_t> after;
    for (std::int64_t s : done)
        if (s >= done.front() + out.warmup_steps) after.push_back(s);
    if (after.empty()) after = done;
    auto pipeline_span = [&](std::int64_t step) {
        std::int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (const StageBoxes& sb : by_step[step])
            for (const auto& [key, r] : sb) {
                lo = std::min(lo, std::max(r.start, r.recv_end));
                hi = std::max(hi, r.end);
            }
        return hi - lo;
    };
    std::vector<std::pair<std::int64_t, std::int64_t>> spans;  // (span, step)
    for (std::int64_t s : after) spans.emplace_back(pipeline_span(s), s);
    std::sort(spans.begin(), spans.end());
    const std::int64_t chosen = spans[(spans.size() - 1) / 2].second;
    out.steps_considered = static_cast<int>(spans.size());
    out.step = chosen;

    Gantt& g = out.gantt;
    g.stages = p;
    g.micro_batches = m;
    g.chunks = 1;
    g.unit = "ms";
    std::int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    const auto& st = by_step[chosen];
    for (int s = 0; s < p; ++s)
        for (const auto& [key, r] : st[static_cast<std::size_t>(s)]) {
            const std::int64_t start = std::max(r.start, r.recv_end);
            t0 = std::min(t0, start);
            t1 = std::max(t1, r.end);
        }
    for (int s = 0; s < p; ++s) {
        for (const auto& [key, r] : st[static_cast<std::size_t>(s)]) {
            const std::int64_t start = std::max(r.start, r.recv_end);
            g.boxes.push_back({s, static_cast<int>(key.second), 0, key.first, (start - t0) / 1e6,
                               (r.end - t0) / 1e6});
        }
        // Execution order within the stage.
        auto first = g.boxes.end() - 2 * m;
        std::sort(first, g.boxes.end(),
                  [](const GanttBox& a, const GanttBox& b) { return a.start < b.start; });
    }
    g.begin = 0;
    g.end = (t1 - t0) / 1e6;
    return out;
}

}  // namespace ss::core::teach

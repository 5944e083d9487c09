#include "core/sim/sim_trace.h"

#include "core/analysis/parameter_server.h"
#include "models/plan/layout.h"

#include "core/sim/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <tuple>

#include "traces/lanes.h"
#include "traces/median.h"

namespace ss::core {

using traces::Collective;
using traces::Event;
using traces::EventKind;
using traces::GroupKind;
using traces::RunId;

namespace {

namespace lanes = traces::lanes;

struct RankStep {
    std::int64_t start = 0, end = 0;
};

// Step windows of every rank: step number -> rank -> window.
struct StepTable {
    std::map<std::int64_t, std::vector<RankStep>> by_step;  // only steps present on every rank
    std::int64_t t0 = 0, t1 = 0;                              // the run's event extent
};

StepTable step_table(traces::TraceReader& rd, RunId run, int world) {
    StepTable st;
    auto lanes = rd.lanes(run);
    if (lanes.empty()) throw SimError("run " + std::to_string(run.value) + " has no events");
    st.t0 = std::numeric_limits<std::int64_t>::max();
    st.t1 = std::numeric_limits<std::int64_t>::min();
    for (const auto& l : lanes) {
        st.t0 = std::min(st.t0, l.min_start_ns);
        st.t1 = std::max(st.t1, l.max_end_ns);
    }
    std::map<std::int64_t, std::vector<RankStep>> all;
    std::map<std::int64_t, int> seen;
    for (int r = 0; r < world; ++r) {
        auto evs = rd.events_in_window(run, r, lanes::kSteps, st.t0, st.t1 + 1);
        std::int64_t order = 0;
        for (const Event& e : evs) {
            if (e.kind != EventKind::Step) continue;
            const std::int64_t n = e.step >= 0 ? e.step : order;
            ++order;
            auto& v = all[n];
            if (v.empty()) v.resize(static_cast<std::size_t>(world), RankStep{-1, -1});
            v[static_cast<std::size_t>(r)] = {e.start_ns, e.end_ns};
            ++seen[n];
        }
    }
    for (auto& [n, v] : all)
        if (seen[n] == world) st.by_step[n] = v;
    if (st.by_step.empty())
        throw SimError("run " + std::to_string(run.value) + " has no step recorded on all " + std::to_string(world) +
                       " ranks (lane 0 step events)");
    return st;
}

double step_span_s(const std::vector<RankStep>& v) {
    std::int64_t a = std::numeric_limits<std::int64_t>::max(), b = std::numeric_limits<std::int64_t>::min();
    for (const auto& s : v) {
        a = std::min(a, s.start);
        b = std::max(b, s.end);
    }
    return static_cast<double>(b - a) * 1e-9;
}

// The measured steps (warm-up excluded, core/analysis.h detect_warmup) in order.
std::vector<std::int64_t> measured_steps(const StepTable& st) {
    std::vector<std::int64_t> ids, times;
    for (const auto& [n, v] : st.by_step) {
        ids.push_back(n);
        times.push_back(static_cast<std::int64_t>(step_span_s(v) * 1e9));
    }
    const int w = detect_warmup(times);
    return {ids.begin() + w, ids.end()};
}

struct Item {
    enum Kind { Kernel, Data, Coll, Send, Recv } kind = Kernel;
    std::int64_t start = 0, end = 0;
    Part part = Part::Compute;
    const Event* ev = nullptr;
    int ref = -1;
    bool async = false;
};

bool in_any(const std::vector<std::pair<std::int64_t, std::int64_t>>& iv, std::int64_t t) {
    for (const auto& [a, b] : iv)
        if (t >= a && t < b) return true;
    return false;
}

std::string run_label(const traces::RunInfo& r) {
    return "run " + std::to_string(r.id.value) + " (" + r.name + ")";
}

std::string traces_number(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}
std::string layout_of(const ExperimentSpec& s) {
    return "dp" + std::to_string(s.parallel.dp) + " tp" + std::to_string(s.parallel.tp) + " pp" +
           std::to_string(s.parallel.pp) + " m" + std::to_string(s.parallel.micro_batches) +
           (s.parallel.pp > 1 ? " " + s.parallel.schedule : std::string()) + (s.parallel.zero ? " zero1" : "") +
           (s.parallel.overlap ? "" : " no-overlap") +
           (s.parallel.parameter_server() ? " ps" + std::to_string(s.parallel.servers) + " " + ps_mode(s.parallel.staleness)
                                          : std::string()) +
           (s.training.slow_rank >= 0 && s.training.slow_factor > 1
                ? " slow" + std::to_string(s.training.slow_rank) + "x" + traces_number(s.training.slow_factor)
                : std::string());
}
std::string model_key(const ExperimentSpec& s) {
    nlohmann::json j = s.model == ModelSpec{} ? nlohmann::json() : s.to_json()["model"];
    return j.dump() + " b" + std::to_string(s.training.global_batch) + " threads" + std::to_string(s.backend.blas_threads);
}
}  // namespace

std::string validation_point_key(const ExperimentSpec& spec) { return model_key(spec) + " | " + layout_of(spec); }

ExperimentSpec run_spec(const traces::RunInfo& run) {
    nlohmann::json doc = nlohmann::json::parse(run.spec_json, nullptr, false);
    if (doc.is_discarded()) throw SimError(run_label(run) + ": its spec_json is not JSON");
    ParseResult pr = parse_spec(doc);
    if (!pr.ok()) throw SimError(run_label(run) + ": its spec does not parse:\n" + format_errors(pr.errors));
    return pr.spec;
}

OpGraph graph_from_trace(traces::TraceReader& rd, RunId run_id, const TraceWhatIf& what, std::int64_t* step_out,
                         double* measured_s) {
    const traces::RunInfo run = rd.run(run_id);
    const int world = run.world_size;
    if (world < 1) throw SimError(run_label(run) + " has world size " + std::to_string(world));
    // A parameter-server run's pushes and pulls are not matched into a graph: its replicas step on
    // their own (docs/SIMULATOR.md "Parameter server and staleness").
    if (ps_layout(run).present())
        throw SimError(run_label(run) + " ran with a parameter server: its trace cannot be replayed yet; predict its "
                       "spec instead (scalescope-cli simulate SPEC.json --hardware HW.json, both engines model the "
                       "servers and staleness) or validate it (simulate --validate)");
    if (!(what.compute > 0) || !(what.bandwidth > 0) || !(what.latency > 0))
        throw SimError("what-if factors must be positive (compute x" + std::to_string(what.compute) + ", bandwidth x" +
                       std::to_string(what.bandwidth) + ", latency x" + std::to_string(what.latency) + ")");
    const StepTable st = step_table(rd, run_id, world);
    std::int64_t step = what.step;
    if (step < 0) {
        auto ms = measured_steps(st);
        std::vector<std::pair<double, std::int64_t>> t;
        for (auto n : ms) t.push_back({step_span_s(st.by_step.at(n)), n});
        std::sort(t.begin(), t.end());
        step = t[t.size() / 2].second;
    } else if (!st.by_step.count(step)) {
        throw SimError(run_label(run) + " has no step " + std::to_string(step) + " on every rank");
    }
    const auto& win = st.by_step.at(step);
    std::int64_t t_begin = std::numeric_limits<std::int64_t>::max(), t_end = std::numeric_limits<std::int64_t>::min();
    for (const auto& w : win) {
        t_begin = std::min(t_begin, w.start);
        t_end = std::max(t_end, w.end);
    }
    if (step_out) *step_out = step;
    if (measured_s) *measured_s = static_cast<double>(t_end - t_begin) * 1e-9;

    // Network re-timing: model(target)/model(base) per operation.
    const bool retime = what.bandwidth != 1 || what.latency != 1 || what.target.has_value();
    if (retime && !what.base && !what.target)
        throw SimError("re-timing collectives (bandwidth/latency what-if) needs a hardware description: "
                       "pass --hardware HW.json or store a calibration in the trace file");
    const Hardware base = what.base ? *what.base : *what.target;
    Hardware target = what.target ? *what.target : base;
    target = scaled(target, HardwareScale{1, what.bandwidth, what.latency});
    auto factor = [&](Collective c, int p, double bytes, GroupKind gk) {
        if (!retime) return 1.0;
        const int stride = gk == GroupKind::DP ? run.tp : gk == GroupKind::PP ? run.tp * run.dp : 1;
        const double b = collective_time(base, c, place_group(base, p, stride), bytes);
        const double t = collective_time(target, c, place_group(target, p, stride), bytes);
        return b > 0 ? t / b : 1.0;
    };

    // Pass 1: every rank's events of the step.
    std::vector<std::vector<Event>> evs(static_cast<std::size_t>(world));
    std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>> opt_phase(static_cast<std::size_t>(world));
    for (int r = 0; r < world; ++r) {
        const RankStep w = win[static_cast<std::size_t>(r)];
        for (std::int32_t lane : {lanes::kCompute, lanes::kComm, lanes::kHost})
            for (Event& e : rd.events_in_window(run_id, r, lane, w.start, w.end))
                if (e.start_ns >= w.start && e.start_ns < w.end) evs[static_cast<std::size_t>(r)].push_back(std::move(e));
        for (const Event& e : rd.events_in_window(run_id, r, lanes::kPhases, w.start, w.end))
            if (e.kind == EventKind::Phase && rd.string(e.name) == "optimizer") opt_phase[static_cast<std::size_t>(r)].push_back({e.start_ns, e.end_ns});
    }
    OpGraph g;
    g.ranks.resize(static_cast<std::size_t>(world));
    // Collective instances by (group kind, group id, seq); messages by (from, to, seq).
    struct Member {
        int rank;
        const Event* ev;
    };
    std::map<std::tuple<int, std::int64_t, std::int64_t>, std::vector<Member>> coll_members;
    std::map<std::tuple<int, int, std::int64_t>, std::pair<const Event*, const Event*>> msgs;  // send, recv
    for (int r = 0; r < world; ++r)
        for (const Event& e : evs[static_cast<std::size_t>(r)]) {
            if (e.kind != EventKind::Comm) continue;
            if (e.collective == Collective::Send || e.collective == Collective::Recv) {
                if (e.peer < 0 || e.seq < 0)
                    throw SimError(run_label(run) + " rank " + std::to_string(r) + ": a " +
                                   std::string(traces::to_string(e.collective)) + " without peer or seq");
                const bool send = e.collective == Collective::Send;
                auto key = send ? std::make_tuple(r, static_cast<int>(e.peer), e.seq)
                                : std::make_tuple(static_cast<int>(e.peer), r, e.seq);
                (send ? msgs[key].first : msgs[key].second) = &e;
            } else {
                if (e.group_id < 0 || e.seq < 0 || e.group_size < 1)
                    throw SimError(run_label(run) + " rank " + std::to_string(r) + ": a " +
                                   std::string(traces::to_string(e.collective)) + " without group_id, seq or group_size");
                coll_members[{static_cast<int>(e.group_kind), e.group_id, e.seq}].push_back({r, &e});
            }
        }
    std::map<std::tuple<int, std::int64_t, std::int64_t>, int> coll_ref;
    std::map<const Event*, double> lag;  // s: a member's measured exit after the operation's end
    // Per rank and group kind, when its previous collective finished (measured): costs are service
    // times after that, so that queued non-blocking reductions are not counted twice.
    std::vector<std::pair<std::int64_t, std::tuple<int, std::int64_t, std::int64_t>>> order;
    for (const auto& [key, mem] : coll_members) {
        std::int64_t a = 0;
        for (const auto& m : mem) a = std::max(a, m.ev->start_ns);
        order.push_back({a, key});
    }
    std::sort(order.begin(), order.end());
    std::vector<std::int64_t> prev_end(static_cast<std::size_t>(world) * traces::kGroupKindCount, std::numeric_limits<std::int64_t>::min());
    for (const auto& [arrive, key] : order) {
        const auto& mem = coll_members.at(key);
        const Event& e0 = *mem.front().ev;
        if (static_cast<std::int64_t>(mem.size()) != e0.group_size)
            throw SimError(run_label(run) + " step " + std::to_string(step) + ": " +
                           std::string(traces::to_string(e0.collective)) + " on " + std::string(traces::to_string(e0.group_kind)) +
                           " group " + std::to_string(e0.group_id) + " seq " + std::to_string(e0.seq) + " has " +
                           std::to_string(mem.size()) + " of its " + std::to_string(e0.group_size) +
                           " members inside the step");
        std::int64_t service_start = arrive;
        std::int64_t first_end = std::numeric_limits<std::int64_t>::max();
        for (const auto& m : mem) {
            service_start = std::max(service_start, prev_end[static_cast<std::size_t>(m.rank) * traces::kGroupKindCount + static_cast<std::size_t>(e0.group_kind)]);
            first_end = std::min(first_end, m.ev->end_ns);
        }
        // The operation ends when its first member leaves; the others leave later by their
        // measured lag (ring steps, or a member descheduled), kept as a per-member delay.
        for (const auto& m : mem) lag[m.ev] = static_cast<double>(m.ev->end_ns - std::max(first_end, service_start)) * 1e-9;
        for (const auto& m : mem)
            prev_end[static_cast<std::size_t>(m.rank) * traces::kGroupKindCount + static_cast<std::size_t>(e0.group_kind)] = m.ev->end_ns;
        CollInstance ci;
        ci.collective = e0.collective;
        ci.group = e0.group_kind;
        ci.group_id = e0.group_id;
        ci.seq = e0.seq;
        ci.size = static_cast<int>(e0.group_size);
        ci.bytes = e0.bytes > 0 ? static_cast<double>(e0.bytes) : 0;
        ci.cost_s = std::max(0.0, static_cast<double>(first_end - service_start) * 1e-9) *
                    factor(ci.collective, ci.size, ci.bytes, ci.group);
        g.colls.push_back(ci);
        coll_ref[key] = static_cast<int>(g.colls.size()) - 1;
    }
    std::map<std::tuple<int, int, std::int64_t>, int> msg_ref;
    for (const auto& [key, sr] : msgs) {
        const auto [from, to, seq] = key;
        if (!sr.first || !sr.second)
            throw SimError(run_label(run) + " step " + std::to_string(step) + ": the " + (sr.first ? "send" : "recv") +
                           " of message rank " + std::to_string(from) + " -> " + std::to_string(to) + " seq " +
                           std::to_string(seq) + " has no matching " + (sr.first ? "recv" : "send") + " in the step");
        Message m;
        m.from = from;
        m.to = to;
        m.bytes = sr.second->bytes > 0 ? static_cast<double>(sr.second->bytes) : 0;
        m.cost_s = std::max<double>(0, static_cast<double>(sr.second->end_ns - std::max(sr.first->start_ns, sr.second->start_ns)) * 1e-9) *
                   factor(Collective::Send, 2, m.bytes, GroupKind::PP);
        g.msgs.push_back(m);
        msg_ref[key] = static_cast<int>(g.msgs.size()) - 1;
    }

    // Pass 2: each rank's program.
    const bool overlap_off = what.overlap.has_value() && !*what.overlap;
    for (int r = 0; r < world; ++r) {
        auto& prog = g.ranks[static_cast<std::size_t>(r)];
        const RankStep w = win[static_cast<std::size_t>(r)];
        std::vector<Item> items;
        for (const Event& e : evs[static_cast<std::size_t>(r)]) {
            Item it;
            it.start = e.start_ns;
            it.end = std::min(e.end_ns, w.end);
            it.ev = &e;
            if (e.kind == EventKind::Comm) {
                if (e.collective == Collective::Send || e.collective == Collective::Recv) {
                    it.kind = e.collective == Collective::Send ? Item::Send : Item::Recv;
                    auto key = e.collective == Collective::Send ? std::make_tuple(r, static_cast<int>(e.peer), e.seq)
                                                                : std::make_tuple(static_cast<int>(e.peer), r, e.seq);
                    it.ref = msg_ref.at(key);
                } else {
                    it.kind = Item::Coll;
                    it.ref = coll_ref.at({static_cast<int>(e.group_kind), e.group_id, e.seq});
                }
            } else if (e.kind == EventKind::HostRange) {
                if (rd.string(e.name) != "data") continue;  // other host ranges: counted as host gaps
                it.kind = Item::Data;
                it.part = Part::Data;
            } else if (e.kind == EventKind::Kernel || e.kind == EventKind::Memcpy || e.kind == EventKind::Memset) {
                it.kind = Item::Kernel;
                it.part = in_any(opt_phase[static_cast<std::size_t>(r)], e.start_ns) ? Part::Optimizer : Part::Compute;
            } else {
                continue;
            }
            items.push_back(it);
        }
        std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
            return a.start != b.start ? a.start < b.start : a.end > b.end;
        });
        // A collective is non-blocking when other work of the rank starts while it is in flight.
        for (std::size_t i = 0; i < items.size(); ++i)
            if (items[i].kind == Item::Coll)
                for (std::size_t j = i + 1; j < items.size() && items[j].start < items[i].end; ++j)
                    if (items[j].start > items[i].start || items[j].kind != Item::Coll) {
                        items[i].async = true;
                        break;
                    }
        if (w.start > t_begin) prog.push_back({OpKind::Compute, Part::Idle, static_cast<double>(w.start - t_begin) * 1e-9, -1});
        std::int64_t cursor = w.start;
        std::vector<std::pair<std::int64_t, int>> pending;  // (measured end, collective) started, not waited
        std::map<int, double> pending_lag;                  // collective -> this rank's exit lag
        auto flush_waits = [&](std::int64_t until) {
            std::sort(pending.begin(), pending.end());
            std::size_t k = 0;
            for (; k < pending.size() && pending[k].first <= until; ++k) {
                prog.push_back({OpKind::Wait, Part::ExposedComm, 0, pending[k].second});
                if (pending[k].first > cursor && pending_lag[pending[k].second] > 0)
                    prog.push_back({OpKind::Compute, Part::ExposedComm, pending_lag[pending[k].second], -1});
                cursor = std::max(cursor, pending[k].first);
            }
            pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(k));
        };
        for (const Item& it : items) {
            if (it.start > cursor) {
                flush_waits(it.start);  // the rank waited on these inside this gap
                if (it.start > cursor)
                    prog.push_back({OpKind::Compute, Part::OtherHost, static_cast<double>(it.start - cursor) * 1e-9, -1});
                cursor = it.start;
            }
            switch (it.kind) {
                case Item::Kernel:
                case Item::Data:
                    if (it.end > cursor) {
                        const double d = static_cast<double>(it.end - std::max(cursor, it.start)) * 1e-9;
                        prog.push_back({OpKind::Compute, it.part, it.kind == Item::Kernel ? d / what.compute : d, -1});
                        cursor = it.end;
                    }
                    break;
                case Item::Coll: {
                    const bool dp_bucket = it.ev->group_kind == GroupKind::DP;
                    const double my_lag = lag.count(it.ev) ? lag.at(it.ev) : 0.0;
                    if (it.async && !(overlap_off && dp_bucket)) {
                        prog.push_back({OpKind::CollStart, Part::ExposedComm, 0, it.ref});
                        pending.push_back({it.end, it.ref});
                        pending_lag[it.ref] = my_lag;
                    } else if (it.async) {
                        // overlap off: the bucket is reduced where the rank waited for it
                        pending.push_back({it.end, -1 - it.ref});
                        pending_lag[-1 - it.ref] = my_lag;
                    } else {
                        prog.push_back({OpKind::Coll, Part::ExposedComm, 0, it.ref});
                        if (my_lag > 0) prog.push_back({OpKind::Compute, Part::ExposedComm, my_lag, -1});
                        cursor = std::max(cursor, it.end);
                    }
                    break;
                }
                case Item::Send: prog.push_back({OpKind::Send, Part::Bubble, 0, it.ref}); break;
                case Item::Recv:
                    prog.push_back({OpKind::Recv, Part::Bubble, 0, it.ref});
                    cursor = std::max(cursor, it.end);
                    break;
            }
        }
        flush_waits(std::numeric_limits<std::int64_t>::max());
        if (w.end > cursor) prog.push_back({OpKind::Compute, Part::OtherHost, static_cast<double>(w.end - cursor) * 1e-9, -1});
        // Overlap off: a deferred bucket becomes a blocking collective at its wait.
        for (SimOp& op : prog)
            if (op.kind == OpKind::Wait && op.ref < 0) {
                op.kind = OpKind::Coll;
                op.ref = -1 - op.ref;
            }
    }
    return g;
}

namespace {

// --dp / --micro-batches on a trace: the run's spec with the change, timed by the rates fitted on
// the run and the base network (TraceWhatIf, "A change of the layout's shape").
TraceReplayResult replay_reshaped(traces::TraceReader& rd, RunId run, const TraceWhatIf& what) {
    TraceReplayResult res;
    res.run = rd.run(run);
    res.reshaped = true;
    res.step = -1;
    if (!(what.compute > 0) || !(what.bandwidth > 0) || !(what.latency > 0))
        throw SimError("what-if factors must be positive (compute x" + std::to_string(what.compute) + ", bandwidth x" +
                       std::to_string(what.bandwidth) + ", latency x" + std::to_string(what.latency) + ")");
    if (!what.base && !what.target)
        throw SimError("changing dp or micro-batches of " + run_label(res.run) +
                       " re-times its communication with the network model: pass --hardware HW.json or store a "
                       "calibration in the trace file (scalescope-cli calibrate --trace FILE)");
    if (what.dp && *what.dp < 1) throw SimError("--dp must be at least 1 (got " + std::to_string(*what.dp) + ")");
    if (what.micro_batches && *what.micro_batches < 1)
        throw SimError("--micro-batches must be at least 1 (got " + std::to_string(*what.micro_batches) + ")");
    const ExperimentSpec recorded = run_spec(res.run);
    ExperimentSpec changed = recorded;
    if (what.dp) changed.parallel.dp = *what.dp;
    if (what.micro_batches) changed.parallel.micro_batches = *what.micro_batches;
    if (what.overlap) changed.parallel.overlap = *what.overlap;
    changed.launch.np = 0;
    res.layout_recorded = layout_of(recorded);
    res.layout_predicted = layout_of(changed);
    const Workload w_rec = build_workload(recorded);
    const Workload w_new = build_workload(changed);  // throws SimError naming an indivisible batch
    res.world_predicted = w_new.world();

    SimOptions opt;
    opt.rates = fit_compute_rates(rd, run);
    const Hardware base = what.base ? *what.base : *what.target;
    const RunStepTimes m = run_step_times(rd, run);
    res.measured_step_s = m.stats.median_ns * 1e-9;
    res.model_recorded_s = replay(graph_from_spec(w_rec, base, opt)).step_s;

    ComputeRates& R = *opt.rates;
    R.matmul_flop_per_s *= what.compute;
    R.memory_bytes_per_s *= what.compute;
    R.optimizer_bytes_per_s *= what.compute;
    const Hardware target = scaled(what.target ? *what.target : base, HardwareScale{1, what.bandwidth, what.latency});
    const OpGraph g = graph_from_spec(w_new, target, opt);
    res.collectives = static_cast<int>(g.colls.size());
    res.messages = static_cast<int>(g.msgs.size());
    for (const auto& p : g.ranks) res.ops += static_cast<int>(p.size());
    res.replay = replay(g);
    const double err = (res.model_recorded_s - res.measured_step_s) / res.measured_step_s;
    res.notes.push_back("the recorded layout (" + res.layout_recorded + ") cannot be re-cut into " + res.layout_predicted +
                        ": the prediction is the spec's graph, compute timed by rates fitted on this run (" +
                        opt.rates->source + "), network by " + target.name);
    res.notes.push_back("the same model on the recorded layout gives " + std::to_string(res.model_recorded_s * 1e3) +
                        " ms against the measured median " + std::to_string(res.measured_step_s * 1e3) + " ms (" +
                        (err >= 0 ? "+" : "") + std::to_string(100.0 * err).substr(0, 5) + " %)");
    if (contention_factor(w_new, target) > 1.0)
        res.notes.push_back("the predicted layout oversubscribes the node's cores (x" +
                            std::to_string(contention_factor(w_new, target)).substr(0, 4) + " contention model)");
    if (res.run.oversubscribed)
        res.notes.push_back("the run was oversubscribed: the fitted rates are contended");
    return res;
}

}  // namespace

TraceReplayResult replay_trace(traces::TraceReader& rd, RunId run, const TraceWhatIf& what) {
    if (what.dp || what.micro_batches) return replay_reshaped(rd, run, what);
    TraceReplayResult res;
    res.run = rd.run(run);
    OpGraph g = graph_from_trace(rd, run, what, &res.step, &res.measured_step_s);
    res.collectives = static_cast<int>(g.colls.size());
    res.messages = static_cast<int>(g.msgs.size());
    for (const auto& p : g.ranks) res.ops += static_cast<int>(p.size());
    res.replay = replay(g);
    if (res.run.oversubscribed)
        res.notes.push_back("the run was oversubscribed: its kernel times are contended, and a what-if on compute "
                            "keeps that contention");
    return res;
}

ComputeRates fit_compute_rates(traces::TraceReader& rd, RunId run_id) {
    const traces::RunInfo run = rd.run(run_id);
    const ExperimentSpec spec = run_spec(run);
    const Workload w = build_workload(spec);
    const int world = run.world_size;
    if (world != w.world())
        throw SimError(run_label(run) + ": world size " + std::to_string(world) + " differs from its spec's " +
                       std::to_string(w.world()));
    const StepTable st = step_table(rd, run_id, world);
    const auto steps = measured_steps(st);
    // Per measured step, summed over ranks; the median step of each class is used (a machine
    // shared with other work stalls some steps, which would inflate a mean).
    const std::size_t ns_ = steps.size();
    std::vector<double> v_mm(ns_), v_mem(ns_), v_opt(ns_), v_data(ns_), v_gap(ns_);
    for (int r = 0; r < world; ++r) {
        for (std::size_t si = 0; si < ns_; ++si) {
            const std::int64_t n = steps[si];
            double& t_mm = v_mm[si];
            double& t_mem = v_mem[si];
            double& t_opt = v_opt[si];
            double& t_data = v_data[si];
            double& t_gap = v_gap[si];
            const RankStep win = st.by_step.at(n)[static_cast<std::size_t>(r)];
            std::vector<std::pair<std::int64_t, std::int64_t>> opt;
            for (const Event& e : rd.events_in_window(run_id, r, lanes::kPhases, win.start, win.end))
                if (e.kind == EventKind::Phase && rd.string(e.name) == "optimizer") opt.push_back({e.start_ns, e.end_ns});
            std::vector<Interval> busy;
            for (std::int32_t lane : {lanes::kCompute, lanes::kComm, lanes::kHost})
                for (const Event& e : rd.events_in_window(run_id, r, lane, win.start, win.end)) {
                    if (e.start_ns < win.start || e.start_ns >= win.end) continue;
                    const double d = static_cast<double>(e.end_ns - e.start_ns) * 1e-9;
                    if (e.kind == EventKind::HostRange) {
                        if (rd.string(e.name) != "data") continue;
                        t_data += d;
                    } else if (e.kind == EventKind::Kernel || e.kind == EventKind::Memcpy || e.kind == EventKind::Memset) {
                        if (in_any(opt, e.start_ns)) t_opt += d;
                        else if (e.flops > 0) t_mm += d;
                        else t_mem += d;
                    } else if (e.kind != EventKind::Comm) {
                        continue;
                    }
                    busy.push_back({e.start_ns, std::min(e.end_ns, win.end)});
                }
            t_gap += static_cast<double>(win.end - win.start - total_length(union_of(busy))) * 1e-9;
        }
    }
    const double t_mm = traces::median(v_mm), t_mem = traces::median(v_mem), t_opt = traces::median(v_opt),
                 t_data = traces::median(v_data), t_gap = traces::median(v_gap);
    const double nsteps = 1.0;  // the medians are per step
    double flops = 0, bytes = 0, kernels = 0, opt_bytes = 0, samples = 0;
    for (const StageWork& sw : w.stages) {
        const double ranks = static_cast<double>(w.dp) * w.tp;
        for (const LayerWork& L : sw.layers) {
            flops += ranks * w.micro_batches * (L.fwd_flops + L.bwd_flops);
            bytes += ranks * w.micro_batches * (L.fwd_bytes + L.bwd_bytes);
            kernels += ranks * (w.micro_batches * (L.fwd_kernels + L.bwd_kernels) + 2.0);
        }
        opt_bytes += ranks * sw.params / (w.zero ? w.dp : 1) * 32.0;
        if (sw.loads_data) samples += ranks * w.micro_batches * w.micro_batch;
    }
    ComputeRates R;
    if (!(t_mm > 0))
        throw SimError(run_label(run) + " has no kernel with FLOPs in its measured steps: cannot fit the matrix-product rate");
    if (!(t_mem > 0) || !(t_opt > 0))
        throw SimError(run_label(run) + " lacks element-wise or optimizer kernels in its measured steps: cannot fit their rates");
    R.matmul_flop_per_s = flops * nsteps / t_mm;
    for (const StageWork& sw : w.stages)
        for (const LayerWork& L : sw.layers)
            if (R.matmul_rows == 0 && L.fwd_flops > 0) R.matmul_rows = L.rows;
    R.memory_bytes_per_s = bytes * nsteps / t_mem;
    R.optimizer_bytes_per_s = opt_bytes * nsteps / t_opt;
    R.kernel_overhead_s = t_gap / (kernels * nsteps);
    R.data_s_per_sample = samples > 0 ? t_data / (samples * nsteps) : 0;
    R.source = "fitted on " + run_label(run) + ", median of " + std::to_string(steps.size()) + " measured steps";
    return R;
}


double ps_measured_step_s(traces::TraceReader& rd, RunId run, const ExperimentSpec& spec) {
    const int workers = spec.parallel.workers(), dp = spec.parallel.dp;
    const models::Layout layout{dp, std::max(1, spec.parallel.tp), std::max(1, spec.parallel.pp)};
    auto replica_of = [&](std::int32_t rank) { return models::coord_of(rank, layout).dp; };
    std::map<std::int32_t, std::vector<std::int64_t>> starts;  // worker rank -> its step starts
    for (const auto& l : rd.lanes(run)) {
        if (l.name != "steps" || l.event_count == 0 || l.rank < 0 || l.rank >= workers) continue;
        for (const auto& e : rd.events_in_window(run, l.rank, l.lane, l.min_start_ns, l.max_end_ns + 1))
            if (e.kind == EventKind::Step) starts[e.rank].push_back(e.start_ns);
    }
    std::vector<double> period(static_cast<std::size_t>(dp), 0.0);
    for (auto& [rank, v] : starts) {
        std::sort(v.begin(), v.end());
        if (v.size() < 3) continue;
        std::vector<std::int64_t> gaps;
        for (std::size_t i = 1; i < v.size(); ++i) gaps.push_back(v[i] - v[i - 1]);
        const int warm = detect_warmup(gaps);
        gaps.erase(gaps.begin(), gaps.begin() + warm);
        double& p = period[static_cast<std::size_t>(replica_of(rank))];
        p = std::max(p, traces::median(gaps) * 1e-9);  // a replica steps with its slowest rank
    }
    double rate = 0;
    for (double p : period) {
        if (!(p > 0)) throw SimError(run_label(rd.run(run)) + ": a parameter-server replica has fewer than 3 steps recorded");
        rate += 1.0 / p;
    }
    return dp / rate;
}

ValidationReport validate_runs(traces::TraceReader& rd, const Hardware& hw, traces::StudyId study, RunId fit_run,
                               double background_threads, RepeatStatistic statistic, RatesFrom rates_from) {
    const bool best = statistic == RepeatStatistic::Best;
    // Compute from the calibration (no run fitted: every point is a prediction), calibrate.h.
    const bool calibrated = rates_from == RatesFrom::Calibration ||
                            (rates_from == RatesFrom::Auto && !fit_run.valid() && hw.classes.present());
    if (calibrated && !hw.classes.present())
        throw SimError(hw.name + ": the hardware file holds no calibrated compute classes to validate with");
    ValidationReport rep;
    rep.hardware = hw.name;
    std::vector<traces::RunInfo> runs;
    if (study.valid()) {
        for (const auto& sr : rd.study_runs(study)) runs.push_back(rd.run(sr.run));
    } else {
        runs = rd.runs();
    }
    runs.erase(std::remove_if(runs.begin(), runs.end(),
                              [](const traces::RunInfo& r) { return r.status != traces::RunStatus::Completed; }),
               runs.end());
    if (runs.empty()) throw SimError(rd.path() + " holds no completed run to validate against");
    rep.runs = static_cast<int>(runs.size());
    std::map<std::int64_t, ExperimentSpec> specs;
    std::map<std::int64_t, double> median_s;  // run -> its median step time
    for (const auto& r : runs) {
        specs[r.id.value] = run_spec(r);
        // A parameter-server run's replicas step on their own (SSP, async): its step is the time per
        // global batch, dp ÷ Σ 1/(each replica's median step), as SimResult::step_s.
        median_s[r.id.value] = specs[r.id.value].parallel.parameter_server()
                                   ? ps_measured_step_s(rd, r.id, specs[r.id.value])
                                   : run_step_times(rd, r.id).stats.median_ns * 1e-9;
    }
    // Points: runs of one model, batch and layout, in the order of their first run.
    struct Point {
        std::string key;
        std::vector<const traces::RunInfo*> runs;
    };
    std::vector<Point> points;
    for (const auto& r : runs) {
        const std::string key = validation_point_key(specs[r.id.value]);
        auto it = std::find_if(points.begin(), points.end(), [&](const Point& p) { return p.key == key; });
        if (it == points.end()) points.push_back({key, {&r}});
        else it->runs.push_back(&r);
    }
    // The fit run per model (same model and global batch): the given one, else the single-rank,
    // not oversubscribed run with the median step time (repeats: a run slowed by the machine is
    // not the one the rates come from).
    std::map<std::string, std::pair<RunId, ComputeRates>> fits;
    auto fit_on = [&](const traces::RunInfo& r) {
        const std::string key = model_key(specs.count(r.id.value) ? specs[r.id.value] : run_spec(r));
        fits[key] = {r.id, fit_compute_rates(rd, r.id)};
        rep.fitted_on.push_back(run_label(r) + ": " + fits[key].second.source);
    };
    if (fit_run.valid() && !calibrated) fit_on(rd.run(fit_run));
    std::map<std::string, std::vector<const traces::RunInfo*>> candidates;
    for (const auto& r : runs)
        if (!calibrated && r.world_size == 1 && !r.oversubscribed) candidates[model_key(specs[r.id.value])].push_back(&r);
    if (calibrated) rep.fitted_on.push_back(calibration_label(hw) + " (the hardware file's compute classes; no run fitted)");
    for (auto& [key, c] : candidates) {
        if (fits.count(key)) continue;
        std::stable_sort(c.begin(), c.end(), [&](const traces::RunInfo* a, const traces::RunInfo* b) {
            return median_s[a->id.value] < median_s[b->id.value];
        });
        fit_on(*c[best ? 0 : (c.size() - 1) / 2]);
    }

    double s_a = 0, s_r = 0, s_ao = 0, s_ro = 0;
    for (const Point& p : points) {
        ValidationRow row;
        row.run = *p.runs.front();
        std::vector<double> m;
        for (const auto* r : p.runs) {
            row.runs.push_back(r->id.value);
            m.push_back(median_s[r->id.value]);
        }
        const auto [lo, hi] = std::minmax_element(m.begin(), m.end());
        row.measured_s = best ? *lo : traces::median(m);
        row.spread = m.size() > 1 ? (*hi - *lo) / row.measured_s : 0.0;
        const ExperimentSpec& spec = specs[row.run.id.value];
        row.layout = layout_of(spec);
        const auto key = model_key(spec);
        if (!calibrated && !fits.count(key)) {
            row.note = "no single-rank run of this model and batch to fit compute on";
            rep.rows.push_back(row);
            continue;
        }
        const RunId fit_id = calibrated ? RunId{} : fits[key].first;
        row.fit = !calibrated && std::any_of(p.runs.begin(), p.runs.end(), [&](const traces::RunInfo* r) { return r->id == fit_id; });
        // The calibration's context run trained this very point (model, batch and layout): not a prediction.
        const bool context_point = calibrated && std::any_of(hw.classes.context.begin(), hw.classes.context.end(),
                                                             [&](const ComputeContext& c) { return c.key == p.key; });
        SimOptions opt;
        opt.rates = calibrated ? rates_from_calibration(spec, hw) : fits[key].second;
        opt.background_threads = background_threads;
        const Workload w = build_workload(spec);
        row.oversubscribed = std::any_of(p.runs.begin(), p.runs.end(), [](const traces::RunInfo* r) { return r->oversubscribed; }) ||
                             contention_factor(w, hw) > 1.0;
        const SimResult a = simulate_analytic(w, hw, opt);
        row.analytic_s = a.step_s;
        row.analytic_parts = a.breakdown;
        row.replay_s = w.ps ? simulate_replay(w, hw, opt).step_s : replay(graph_from_spec(w, hw, opt)).step_s;
        row.analytic_err = (row.analytic_s - row.measured_s) / row.measured_s;
        row.replay_err = (row.replay_s - row.measured_s) / row.measured_s;
        if (spec.parallel.parameter_server())
            row.note = "parameter server (" + a.ps.mode + "): time per global batch, dp / sum of the replicas' step rates; ";
        if (context_point) {
            row.fit = true;
            row.note += "the calibration's context run trained this point (model, batch, layout): not a prediction";
        } else if (row.fit) {
            row.note += "compute rates fitted on run " + std::to_string(fit_id.value);
        } else if (row.oversubscribed) {
            s_ao += std::abs(row.analytic_err);
            s_ro += std::abs(row.replay_err);
            ++rep.predicted_over;
            row.note += "oversubscribed (x" + std::to_string(contention_factor(w, hw, background_threads)).substr(0, 4) +
                       " contention model)";
        } else {
            s_a += std::abs(row.analytic_err);
            s_r += std::abs(row.replay_err);
            ++rep.predicted;
        }
        rep.rows.push_back(row);
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    rep.mae_analytic = rep.predicted ? s_a / rep.predicted : nan;
    rep.mae_replay = rep.predicted ? s_r / rep.predicted : nan;
    rep.mae_analytic_over = rep.predicted_over ? s_ao / rep.predicted_over : nan;
    rep.mae_replay_over = rep.predicted_over ? s_ro / rep.predicted_over : nan;
    return rep;
}

}  // namespace ss::core

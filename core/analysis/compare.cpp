// Comparison of two runs or two studies. docs/ANALYSIS.md "Comparison".
#include "core/analysis/compare.h"
#include "core/analysis/parameter_server.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <tuple>

namespace ss::core {

using traces::Collective;
using traces::GroupKind;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A value < 0 marks "unknown" in Throughput; carry it as NaN.
double known(double v) { return v < 0 ? kNaN : v; }

std::string ms(double ns) {
    char b[48];
    const double a = std::fabs(ns);
    if (a >= 1e9) std::snprintf(b, sizeof b, "%.3f s", ns / 1e9);
    else if (a >= 1e6) std::snprintf(b, sizeof b, "%.3f ms", ns / 1e6);
    else if (a >= 1e3) std::snprintf(b, sizeof b, "%.1f us", ns / 1e3);
    else std::snprintf(b, sizeof b, "%.0f ns", ns);
    return b;
}
std::string signed_ms(double ns) { return (ns >= 0 ? "+" : "-") + ms(std::fabs(ns)); }
std::string pct(double r) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f%%", 100.0 * r);
    return b;
}
std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v);
    return b;
}
}  // namespace

std::string part_label(Part p) {
    switch (p) {
        case Part::Compute: return "compute";
        case Part::ExposedComm: return "exposed communication";
        case Part::Bubble: return "pipeline bubble";
        case Part::Data: return "data loading";
        case Part::Optimizer: return "optimizer";
        case Part::OtherHost: return "other host work";
        case Part::Idle: return "idle";
    }
    return "?";
}

Delta delta(double a, double b) {
    Delta d;
    d.a = a;
    d.b = b;
    d.abs = b - a;
    d.rel = (std::isfinite(a) && std::isfinite(b) && a != 0) ? (b - a) / a : kNaN;
    return d;
}

std::string_view to_string(Presence p) {
    switch (p) {
        case Presence::Both: return "both";
        case Presence::AOnly: return "a_only";
        case Presence::BOnly: return "b_only";
    }
    return "?";
}

std::string_view to_string(OpChange c) {
    switch (c) {
        case OpChange::Added: return "added";
        case OpChange::Removed: return "removed";
        case OpChange::Increased: return "increased";
        case OpChange::Decreased: return "decreased";
        case OpChange::Unchanged: return "unchanged";
    }
    return "?";
}

OpChange op_change(double a, double b) {
    if (a <= 0 && b > 0) return OpChange::Added;
    if (a > 0 && b <= 0) return OpChange::Removed;
    if (std::fabs(b - a) <= 1e-9 * std::max(std::fabs(a), std::fabs(b))) return OpChange::Unchanged;
    return b > a ? OpChange::Increased : OpChange::Decreased;
}

RunComparison compare_runs(const RunAnalysis& a, const RunAnalysis& b, const std::string& la,
                           const std::string& lb) {
    RunComparison c;
    c.label_a = la;
    c.label_b = lb;
    c.run_a = a.run;
    c.run_b = b.run;
    auto add = [&](std::vector<MetricDelta>& v, std::string name, std::string label, std::string unit, double x,
                   double y) -> MetricDelta& {
        MetricDelta m;
        m.name = std::move(name);
        m.label = std::move(label);
        m.unit = std::move(unit);
        m.d = delta(x, y);
        v.push_back(std::move(m));
        return v.back();
    };
    add(c.summary, "step_time_median", "step time (median)", "ns", a.step_time.median_ns, b.step_time.median_ns);
    add(c.summary, "step_time_mean", "step time (mean)", "ns", a.step_time.mean_ns, b.step_time.mean_ns);
    add(c.summary, "step_time_stddev", "step time (std. dev.)", "ns", a.step_time.stddev_ns, b.step_time.stddev_ns);
    add(c.summary, "measured_steps", "measured steps", "steps", static_cast<double>(a.step_time.count),
        static_cast<double>(b.step_time.count));
    add(c.summary, "world_size", "ranks", "ranks", a.run.world_size, b.run.world_size);
    add(c.summary, "samples_per_s", "samples per second", "1/s", known(a.throughput.samples_per_s),
        known(b.throughput.samples_per_s));
    add(c.summary, "tokens_per_s", "tokens per second", "1/s", known(a.throughput.tokens_per_s),
        known(b.throughput.tokens_per_s));
    add(c.summary, "model_flop_per_s", "model FLOP/s", "FLOP/s", known(a.throughput.model_flop_per_s),
        known(b.throughput.model_flop_per_s));
    MetricDelta& mfu = add(c.summary, "mfu", "MFU", "ratio", known(a.throughput.mfu), known(b.throughput.mfu));
    mfu.note_a = mfu_note(a.throughput);
    mfu.note_b = mfu_note(b.throughput);
    add(c.summary, "overlap_ratio", "communication overlapped", "ratio", a.overall.overlap_ratio(),
        b.overall.overlap_ratio());
    for (int i = 0; i < kPartCount; ++i) {
        const auto part = static_cast<Part>(i);
        add(c.breakdown, std::string(to_string(part)), part_label(part), "ns", a.overall.part_ns[static_cast<size_t>(i)],
            b.overall.part_ns[static_cast<size_t>(i)]);
    }
    add(c.breakdown, "step", "step (sum of the parts)", "ns", a.overall.sum(), b.overall.sum());
    add(c.breakdown, "communication", "communication (overlapped or not)", "ns", a.overall.comm_ns, b.overall.comm_ns);

    // Kernels matched by name.
    std::map<std::string, std::pair<const KernelSummary*, const KernelSummary*>> km;
    for (const auto& k : a.kernels) km[k.name].first = &k;
    for (const auto& k : b.kernels) km[k.name].second = &k;
    const double div_a = static_cast<double>(std::max<std::int64_t>(1, a.step_time.count)) *
                         static_cast<double>(std::max<size_t>(1, a.ranks.size()));
    const double div_b = static_cast<double>(std::max<std::int64_t>(1, b.step_time.count)) *
                         static_cast<double>(std::max<size_t>(1, b.ranks.size()));
    for (const auto& [name, pr] : km) {
        KernelDelta kd;
        kd.name = name;
        kd.presence = pr.first && pr.second ? Presence::Both : pr.first ? Presence::AOnly : Presence::BOnly;
        kd.per_step_ns = delta(pr.first ? pr.first->per_step_ns : 0.0, pr.second ? pr.second->per_step_ns : 0.0);
        kd.count_per_step = delta(pr.first ? static_cast<double>(pr.first->count) / div_a : 0.0,
                                  pr.second ? static_cast<double>(pr.second->count) / div_b : 0.0);
        c.kernels.push_back(kd);
    }
    std::sort(c.kernels.begin(), c.kernels.end(), [](const auto& x, const auto& y) {
        const double ax = std::fabs(x.per_step_ns.abs), ay = std::fabs(y.per_step_ns.abs);
        return ax != ay ? ax > ay : x.name < y.name;
    });

    // Ops matched by name and side (HTA's TraceDiff).
    std::map<std::pair<std::string, bool>, std::pair<const OpSummary*, const OpSummary*>> om;
    for (const auto& o : a.ops) om[{o.name, o.gpu}].first = &o;
    for (const auto& o : b.ops) om[{o.name, o.gpu}].second = &o;
    for (const auto& [key, pr] : om) {
        OpDiff d;
        d.name = key.first;
        d.gpu = key.second;
        d.count_per_step = delta(pr.first ? pr.first->count_per_step : 0.0, pr.second ? pr.second->count_per_step : 0.0);
        d.per_step_ns = delta(pr.first ? pr.first->per_step_ns : 0.0, pr.second ? pr.second->per_step_ns : 0.0);
        d.change = op_change(d.count_per_step.a, d.count_per_step.b);
        c.ops.push_back(std::move(d));
    }
    std::sort(c.ops.begin(), c.ops.end(), [](const OpDiff& x, const OpDiff& y) {
        const double ax = std::fabs(x.per_step_ns.abs), ay = std::fabs(y.per_step_ns.abs);
        if (ax != ay) return ax > ay;
        return std::tie(x.name, x.gpu) < std::tie(y.name, y.gpu);
    });

    // Collectives matched by type and group kind, message sizes summed.
    struct Acc {
        double ns = 0, bytes = 0, busbw_ns = 0;
        bool any = false;
    };
    auto collect = [](const RunAnalysis& r, double div) {
        std::map<std::pair<int, int>, Acc> m;
        for (const auto& s : r.collectives) {
            auto& x = m[{static_cast<int>(s.collective), static_cast<int>(s.group_kind)}];
            x.any = true;
            x.ns += static_cast<double>(s.total_ns) / div;
            x.bytes += static_cast<double>(s.bytes) * static_cast<double>(s.count) / div;
            x.busbw_ns += s.busbw * static_cast<double>(s.total_ns);
        }
        return m;
    };
    auto ca = collect(a, div_a), cb = collect(b, div_b);
    std::set<std::pair<int, int>> keys;
    for (const auto& [k, v] : ca) keys.insert(k);
    for (const auto& [k, v] : cb) keys.insert(k);
    for (const auto& k : keys) {
        const Acc x = ca.count(k) ? ca[k] : Acc{}, y = cb.count(k) ? cb[k] : Acc{};
        CollectiveDelta cd;
        cd.collective = static_cast<Collective>(k.first);
        cd.group_kind = static_cast<GroupKind>(k.second);
        cd.presence = x.any && y.any ? Presence::Both : x.any ? Presence::AOnly : Presence::BOnly;
        cd.per_step_ns = delta(x.ns, y.ns);
        cd.bytes_per_step = delta(x.bytes, y.bytes);
        // Time-weighted mean busbw: Σ busbw·time / Σ time (time per step cancels the divisor).
        const double bw_a = x.ns > 0 ? x.busbw_ns / (x.ns * div_a) : kNaN;
        const double bw_b = y.ns > 0 ? y.busbw_ns / (y.ns * div_b) : kNaN;
        cd.busbw = delta(bw_a, bw_b);
        c.collectives.push_back(cd);
    }
    std::sort(c.collectives.begin(), c.collectives.end(), [](const auto& x, const auto& y) {
        return std::fabs(x.per_step_ns.abs) > std::fabs(y.per_step_ns.abs);
    });

    // Warnings.
    // How the gradients are synchronised: all-reduce or a parameter server (its servers, its bound).
    auto sync = [](const RunAnalysis& r) {
        if (!r.ps.present()) return std::string("all-reduce");
        return "a parameter server (" + std::to_string(r.ps.layout.servers) + " server rank(s), " +
               staleness_name(r.ps.layout.staleness) + ")";
    };
    if (sync(a) != sync(b))  // first: the comparison's biggest caveat, before each run's own warnings
        c.warnings.push_back("the gradient synchronisation differs (" + la + ": " + sync(a) + "; " + lb + ": " +
                             sync(b) + "): the worlds differ by the server ranks, and the communication is of "
                             "another kind");
    for (const auto& w : a.warnings) c.warnings.push_back(la + ": " + w);
    for (const auto& w : b.warnings) c.warnings.push_back(lb + ": " + w);
    if (a.run.dp != b.run.dp || a.run.tp != b.run.tp || a.run.pp != b.run.pp)
        c.warnings.push_back("the layouts differ (" + la + " dp" + std::to_string(a.run.dp) + " tp" +
                             std::to_string(a.run.tp) + " pp" + std::to_string(a.run.pp) + ", " + lb + " dp" +
                             std::to_string(b.run.dp) + " tp" + std::to_string(b.run.tp) + " pp" +
                             std::to_string(b.run.pp) + "): per-rank kernel times are not like for like");
    if (a.run.model != b.run.model)
        c.warnings.push_back("the models differ (" + a.run.model + " vs " + b.run.model + ")");
    if (std::isfinite(a.throughput.samples_per_step) && std::isfinite(b.throughput.samples_per_step) &&
        a.throughput.samples_per_step > 0 && b.throughput.samples_per_step > 0 &&
        a.throughput.samples_per_step != b.throughput.samples_per_step)
        c.warnings.push_back("the global batches differ (" + num(a.throughput.samples_per_step) + " vs " +
                             num(b.throughput.samples_per_step) + "): compare throughput, not step time");

    // Verdict: direction and size of the step-time change, and the parts and kernel that moved most.
    const Delta st = c.summary[0].d;
    const double noise = std::max(a.step_time.stddev_ns, b.step_time.stddev_ns);
    std::string v;
    if (std::fabs(st.abs) <= noise || std::fabs(st.rel) < 0.01) {
        v = lb + " and " + la + " take the same time per step within noise (median " + ms(st.a) + " vs " +
            ms(st.b) + ", " + signed_ms(st.abs) + ", spread " + ms(noise) + ")";
    } else {
        v = lb + " is " + pct(std::fabs(st.rel)) + (st.abs < 0 ? " faster" : " slower") + " than " + la +
            " (median step " + ms(st.a) + " -> " + ms(st.b) + ", " + signed_ms(st.abs) + ")";
    }
    std::vector<std::pair<double, std::string>> parts;
    for (int i = 0; i < kPartCount; ++i) {
        const Delta& d = c.breakdown[static_cast<size_t>(i)].d;
        if (std::fabs(d.abs) > 0) parts.push_back({d.abs, c.breakdown[static_cast<size_t>(i)].label});
    }
    std::sort(parts.begin(), parts.end(),
              [](const auto& x, const auto& y) { return std::fabs(x.first) > std::fabs(y.first); });
    std::string why;
    for (size_t i = 0; i < parts.size() && i < 3; ++i) {
        if (i > 0 && std::fabs(parts[i].first) < 0.1 * std::fabs(parts[0].first)) break;
        why += (why.empty() ? "" : ", ") + parts[i].second + " " + signed_ms(parts[i].first);
    }
    if (!c.kernels.empty() && std::fabs(c.kernels[0].per_step_ns.abs) > 0)
        why += (why.empty() ? "" : "; ") + std::string("kernel ") + c.kernels[0].name + " " +
               signed_ms(c.kernels[0].per_step_ns.abs) + "/step/rank" +
               (c.kernels[0].presence == Presence::Both ? "" : " (" + std::string(to_string(c.kernels[0].presence)) + ")");
    if (!why.empty()) v += "; largest contributors: " + why;
    c.verdict = v;
    return c;
}

StudyComparison compare_studies(const ScalingResult& a, const ScalingResult& b, const std::string& la,
                                const std::string& lb) {
    StudyComparison c;
    c.label_a = la;
    c.label_b = lb;
    std::map<int, std::pair<const ScalingPoint*, const ScalingPoint*>> pm;
    for (const auto& p : a.points) pm[p.p].first = &p;
    for (const auto& p : b.points) pm[p.p].second = &p;
    int common_max = 0;
    for (const auto& [p, pr] : pm) {
        StudyPointDelta d;
        d.p = p;
        d.presence = pr.first && pr.second ? Presence::Both : pr.first ? Presence::AOnly : Presence::BOnly;
        d.time_ns = delta(pr.first ? pr.first->time_ns : kNaN, pr.second ? pr.second->time_ns : kNaN);
        d.speedup = delta(pr.first ? pr.first->speedup : kNaN, pr.second ? pr.second->speedup : kNaN);
        d.efficiency = delta(pr.first ? pr.first->efficiency : kNaN, pr.second ? pr.second->efficiency : kNaN);
        if (d.presence == Presence::Both) common_max = p;
        c.points.push_back(d);
    }
    for (const auto& fa : a.fits)
        for (const auto& fb : b.fits) {
            if (fa.law != fb.law) continue;
            for (size_t i = 0; i < fa.params.size() && i < fb.params.size(); ++i) {
                FitDelta d;
                d.law = fa.law;
                d.param = fa.params[i].name;
                d.value = delta(fa.params[i].value, fb.params[i].value);
                const auto& x = fa.params[i];
                const auto& y = fb.params[i];
                d.significant = std::isfinite(x.ci_low) && std::isfinite(y.ci_low) &&
                                (x.ci_high < y.ci_low || y.ci_high < x.ci_low);
                c.fits.push_back(d);
            }
        }
    if (a.weak != b.weak) c.warnings.push_back("one study is strong scaling, the other weak: speedups differ in kind");
    for (const auto& w : a.warnings) c.warnings.push_back(la + ": " + w);
    for (const auto& w : b.warnings) c.warnings.push_back(lb + ": " + w);
    if (common_max <= 1) {
        c.verdict = "the studies share no p > 1: only their fits can be compared";
    } else {
        const auto& d = *std::find_if(c.points.begin(), c.points.end(), [&](const auto& x) { return x.p == common_max; });
        const double de = d.efficiency.abs;
        std::string v = "at p=" + std::to_string(common_max) + " " + lb + " " +
                        (std::fabs(de) < 0.01 ? "scales like " + la
                                              : std::string(de > 0 ? "scales better than " : "scales worse than ") + la) +
                        " (efficiency " + num(d.efficiency.a) + " -> " + num(d.efficiency.b) + ", time per step " +
                        ms(d.time_ns.a) + " -> " + ms(d.time_ns.b) + ")";
        const FitDelta* best = nullptr;
        for (const auto& f : c.fits)
            if (f.law == Law::Amdahl || f.law == Law::Gustafson)
                if ((f.law == Law::Amdahl) != a.weak && (!best || std::fabs(f.value.abs) > std::fabs(best->value.abs)))
                    best = &f;
        if (best)
            v += "; " + std::string(to_string(best->law)) + " " + best->param + " " + num(best->value.a) + " -> " +
                 num(best->value.b) + (best->significant ? " (intervals do not overlap)" : " (intervals overlap)");
        c.verdict = v;
    }
    return c;
}

}  // namespace ss::core

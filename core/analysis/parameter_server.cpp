// docs/ANALYSIS.md "Parameter server" defines every number computed here.
#include "core/analysis/parameter_server.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>

namespace ss::core {

using traces::Collective;
using traces::EventKind;
using traces::GroupKind;

namespace {

// A number stored as text (run_summaries values), NaN when absent or not a number.
double number_of(const std::map<std::string, std::string>& m, const char* key) {
    auto it = m.find(key);
    if (it == m.end() || it->second.empty()) return std::numeric_limits<double>::quiet_NaN();
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    return end && *end == '\0' ? v : std::numeric_limits<double>::quiet_NaN();
}

nlohmann::json spec_doc(const traces::RunInfo& run) {
    if (run.spec_json.empty()) return {};
    nlohmann::json doc = nlohmann::json::parse(run.spec_json, nullptr, false);
    return doc.is_object() ? doc : nlohmann::json();
}

// Length of the union of [start, end) intervals.
std::int64_t union_length(std::vector<std::pair<std::int64_t, std::int64_t>> v) {
    std::sort(v.begin(), v.end());
    std::int64_t total = 0, cs = 0, ce = 0;
    bool open = false;
    for (const auto& [s, e] : v) {
        if (e <= s) continue;
        if (open && s <= ce) {
            ce = std::max(ce, e);
            continue;
        }
        if (open) total += ce - cs;
        cs = s;
        ce = e;
        open = true;
    }
    if (open) total += ce - cs;
    return total;
}

}  // namespace

PsLayout ps_layout(const traces::RunInfo& run, const std::vector<traces::RankInfo>& ranks) {
    PsLayout l;
    const nlohmann::json doc = spec_doc(run);
    if (doc.contains("parallel") && doc["parallel"].is_object()) {
        const auto& p = doc["parallel"];
        if (p.value("dp_sync", std::string()) == "parameter_server") {
            const auto s = p.value("servers", nlohmann::json(1));
            l.servers = s.is_number_integer() ? std::max(1, s.get<int>()) : 1;
            const auto st = p.value("staleness", nlohmann::json(0));
            l.staleness = st.is_number_integer() ? st.get<int>()
                          : st.is_string() && st.get<std::string>() == "async"
                              ? PsLayout::kAsyncStaleness
                              : 0;
            int world = run.world_size;
            for (const auto& k : ranks) world = std::max(world, k.rank + 1);
            l.first_server = std::max(0, world - l.servers);
            return l;
        }
    }
    // No spec saying so: ranks rows with every coordinate −1 are servers (the last ranks).
    std::set<std::int32_t> servers;
    for (const auto& k : ranks)
        if (k.dp_coord == -1 && k.tp_coord == -1 && k.pp_coord == -1) servers.insert(k.rank);
    if (servers.empty()) return l;
    const std::int32_t first = *servers.begin();
    if (*servers.rbegin() - first + 1 != static_cast<std::int32_t>(servers.size()))
        return l;  // not contiguous
    l.servers = static_cast<int>(servers.size());
    l.first_server = first;
    return l;
}

std::string staleness_name(int s) {
    if (s == 0) return "BSP";
    if (s < 0) return "async";
    return "SSP (s = " + std::to_string(s) + ")";
}

std::string server_label(const PsLayout& l, std::int32_t rank) {
    return "server " + std::to_string(l.server_index(rank)) + " (rank " + std::to_string(rank) +
           ")";
}

SlowRank slow_rank_of(const traces::RunInfo& run, const std::map<std::string, std::string>& rs) {
    SlowRank s;
    const double r = number_of(rs, "slow_rank"), f = number_of(rs, "slow_factor");
    if (std::isfinite(r) && r >= 0) {
        s.rank = static_cast<std::int32_t>(r);
        s.factor = std::isfinite(f) && f >= 1 ? f : 1;
        return s;
    }
    const nlohmann::json doc = spec_doc(run);
    if (doc.contains("training") && doc["training"].is_object() &&
        doc["training"].contains("slow_rank")) {
        const auto& k = doc["training"]["slow_rank"];
        if (k.is_object() && k.value("rank", nlohmann::json()).is_number_integer()) {
            s.rank = k["rank"].get<std::int32_t>();
            const auto fj = k.value("factor", nlohmann::json(1.0));
            s.factor = fj.is_number() ? std::max(1.0, fj.get<double>()) : 1.0;
            if (s.rank < 0) s = {};
        }
    }
    return s;
}

std::optional<PsOp> ps_op(const traces::Event& e, const std::string& name) {
    if (e.kind == EventKind::Comm && e.group_kind == GroupKind::PS) {
        if (name == "ps_push") return PsOp::Push;
        if (name == "ps_pull") return PsOp::Pull;
        if (name == "ps_recv") return PsOp::Recv;
        if (name == "ps_send") return PsOp::Send;
        // Another PS message: by direction, on whichever side it is recorded.
        return e.collective == Collective::Send   ? std::optional(PsOp::Send)
               : e.collective == Collective::Recv ? std::optional(PsOp::Recv)
                                                  : std::nullopt;
    }
    if (e.kind == EventKind::Sync && name == "ps_wait") return PsOp::Wait;
    if (e.kind == EventKind::Sync && name == "ps_queue") return PsOp::Queue;
    if ((e.kind == EventKind::HostRange || e.kind == EventKind::Phase) && name == "ps_apply")
        return PsOp::Apply;
    return std::nullopt;
}

PsSummary ps_summary(const PsInputs& in, const std::vector<traces::Metric>& metrics,
                     const std::map<std::string, std::string>& rs) {
    PsSummary out;
    out.layout = in.layout;
    out.measured_steps = in.measured_steps;
    out.period_ns = static_cast<double>(std::max<std::int64_t>(0, in.period_end - in.period_start));
    const double rmax = number_of(rs, "ps_staleness_max"),
                 rmean = number_of(rs, "ps_staleness_mean");
    out.recorded_staleness_max = std::isfinite(rmax) && rmax >= 0 ? rmax : -1;
    out.recorded_staleness_mean = std::isfinite(rmean) && rmean >= 0 ? rmean : -1;
    if (!in.layout.present()) return out;
    const double steps = static_cast<double>(std::max<std::int64_t>(1, in.measured_steps));
    const double period_s = out.period_ns * 1e-9;

    // ---- Servers: the events that start inside the measured period ----
    struct ServerAcc {
        std::vector<std::int64_t> queue;
        std::vector<std::int64_t> apply;
        std::vector<std::pair<std::int64_t, std::int64_t>> busy;
    };
    std::map<std::int32_t, ServerAcc> acc;
    out.servers.resize(static_cast<size_t>(in.layout.servers));
    for (int i = 0; i < in.layout.servers; ++i) {
        out.servers[static_cast<size_t>(i)].server = i;
        out.servers[static_cast<size_t>(i)].rank = in.layout.first_server + i;
    }
    // The server's sends per (server, worker), for the wait inside a worker's pull.
    std::map<std::pair<std::int32_t, std::int64_t>,
             std::vector<std::pair<std::int64_t, std::int64_t>>>
        sends;
    for (const PsEvent& e : in.events) {
        const int si = in.layout.server_index(e.rank);
        if (si < 0) continue;
        if (e.op == PsOp::Send && e.peer >= 0) sends[{e.rank, e.peer}].push_back({e.start, e.end});
        if (e.start < in.period_start || e.start >= in.period_end) continue;
        ServerLoad& s = out.servers[static_cast<size_t>(si)];
        ServerAcc& a = acc[e.rank];
        const std::int64_t bytes = std::max<std::int64_t>(0, e.bytes);
        // Busy time counts inside the period only: a receive or apply that starts before its end
        // and ends after it (the last step's, on a loaded server) must not push the share past 1.
        const std::pair<std::int64_t, std::int64_t> inside{e.start, std::min(e.end, in.period_end)};
        switch (e.op) {
            case PsOp::Recv:
                ++s.pushes;
                s.bytes_in += bytes;
                a.busy.push_back(inside);
                break;
            case PsOp::Send:
                ++s.sends;
                s.bytes_out += bytes;
                a.busy.push_back(inside);
                break;
            case PsOp::Queue:
                a.queue.push_back(e.end - e.start);
                break;
            case PsOp::Apply:
                a.apply.push_back(e.end - e.start);
                a.busy.push_back(inside);
                break;
            default:
                break;  // a worker-side name on a server: not the server's load
        }
    }
    for (ServerLoad& s : out.servers) {
        ServerAcc& a = acc[s.rank];
        s.bytes_in_per_step = static_cast<double>(s.bytes_in) / steps;
        s.bytes_out_per_step = static_cast<double>(s.bytes_out) / steps;
        s.bytes_in_per_s = period_s > 0 ? static_cast<double>(s.bytes_in) / period_s : 0;
        s.bytes_out_per_s = period_s > 0 ? static_cast<double>(s.bytes_out) / period_s : 0;
        std::sort(a.queue.begin(), a.queue.end());
        s.queued = static_cast<std::int64_t>(a.queue.size());
        for (auto q : a.queue) s.queue_total_ns += q;
        if (!a.queue.empty()) {
            s.queue_mean_ns =
                static_cast<double>(s.queue_total_ns) / static_cast<double>(a.queue.size());
            auto k = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(a.queue.size())));
            s.queue_p95_ns =
                static_cast<double>(a.queue[std::clamp<size_t>(k, 1, a.queue.size()) - 1]);
            s.queue_max_ns = a.queue.back();
        }
        s.queue_per_step_ns = static_cast<double>(s.queue_total_ns) / steps;
        s.applies = static_cast<std::int64_t>(a.apply.size());
        std::int64_t apply_total = 0;
        for (auto d : a.apply) apply_total += d;
        s.apply_mean_ns = a.apply.empty() ? 0
                                          : static_cast<double>(apply_total) /
                                                static_cast<double>(a.apply.size());
        s.apply_per_step_ns = static_cast<double>(apply_total) / steps;
        s.busy_share =
            out.period_ns > 0 ? static_cast<double>(union_length(a.busy)) / out.period_ns : 0;
    }
    for (auto& [k, v] : sends) std::sort(v.begin(), v.end());

    // ---- Workers: their events in their own measured steps ----
    for (const auto& [rank, spans] : in.worker_steps) {
        if (in.layout.is_server(rank)) continue;
        WorkerPs w;
        w.rank = rank;
        std::set<std::int64_t> measured;
        for (const auto& m : spans) measured.insert(m.step);
        auto in_measured = [&](const PsEvent& e) {
            if (e.step >= 0) return measured.count(e.step) > 0;
            for (const auto& m : spans)
                if (e.start >= m.start && e.start < m.end) return true;
            return false;
        };
        std::vector<std::pair<std::int64_t, std::int64_t>> push, pull;
        double push_n = 0, pull_n = 0, push_b = 0, pull_b = 0, wait = 0, pull_wait = 0;
        for (const PsEvent& e : in.events) {
            if (e.rank != rank || !in_measured(e)) continue;
            const double bytes = static_cast<double>(std::max<std::int64_t>(0, e.bytes));
            if (e.op == PsOp::Push) {
                ++push_n;
                push_b += bytes;
                push.push_back({e.start, e.end});
            } else if (e.op == PsOp::Pull) {
                ++pull_n;
                pull_b += bytes;
                pull.push_back({e.start, e.end});
                ++w.pulls;
                // The server's send to this worker that overlaps the pull: the pull waited from
                // its start until the server began sending (the version was not ready).
                auto it = sends.find({static_cast<std::int32_t>(e.peer), rank});
                if (it == sends.end()) continue;
                for (const auto& [ss, se] : it->second) {
                    if (ss >= e.end) break;
                    if (se <= e.start) continue;
                    pull_wait += static_cast<double>(
                        std::clamp<std::int64_t>(ss - e.start, 0, e.end - e.start));
                    ++w.pulls_matched;
                    break;
                }
            } else if (e.op == PsOp::Wait) {
                wait += static_cast<double>(e.end - e.start);
            }
        }
        const double n = static_cast<double>(std::max<size_t>(1, measured.size()));
        w.pushes_per_step = push_n / n;
        w.pulls_per_step = pull_n / n;
        w.push_bytes_per_step = push_b / n;
        w.pull_bytes_per_step = pull_b / n;
        w.push_ns_per_step = static_cast<double>(union_length(push)) / n;
        w.pull_ns_per_step = static_cast<double>(union_length(pull)) / n;
        w.wait_ns_per_step = wait / n;
        w.pull_wait_ns_per_step = pull_wait / n;
        out.workers.push_back(w);
    }

    // ---- Staleness observed (metric ps_staleness per worker and step) ----
    std::map<std::int32_t, std::vector<double>> st;
    for (const auto& m : metrics)
        if (m.name == kStalenessMetric && std::isfinite(m.value)) st[m.rank].push_back(m.value);
    double sum = 0;
    for (auto& [rank, v] : st) {
        for (double x : v) {
            sum += x;
            ++out.staleness_samples;
            ++out.staleness_histogram[static_cast<std::int64_t>(std::llround(x))];
            out.staleness_max = out.staleness_samples == 1 ? x : std::max(out.staleness_max, x);
        }
        for (WorkerPs& w : out.workers) {
            if (w.rank != rank || v.empty()) continue;
            w.staleness_samples = static_cast<std::int64_t>(v.size());
            w.staleness_max = *std::max_element(v.begin(), v.end());
            double s = 0;
            for (double x : v) s += x;
            w.staleness_mean = s / static_cast<double>(v.size());
        }
    }
    if (out.staleness_samples > 0)
        out.staleness_mean = sum / static_cast<double>(out.staleness_samples);
    return out;
}

}  // namespace ss::core

#include "core/teach/ring_allreduce.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace ss::core::teach {

namespace {

int mod(int a, int p) {
    return ((a % p) + p) % p;
}

void check_p(int p) {
    if (p < 2 || p > kMaxRingRanks)
        throw std::invalid_argument("a ring needs 2 to " + std::to_string(kMaxRingRanks) +
                                    " ranks, got " + std::to_string(p));
}

void check_step(int p, int step, int lo) {
    if (step < lo || step > ring_steps(p))
        throw std::invalid_argument("step " + std::to_string(step) + " is outside " +
                                    std::to_string(lo) + ".." + std::to_string(ring_steps(p)) +
                                    " for a ring of " + std::to_string(p) + " ranks");
}

// Ranks c, c+1, …, c+d (mod p).
Contributions run_from(int c, int d, int p) {
    Contributions m = 0;
    for (int j = 0; j <= d; ++j) m |= Contributions{1} << mod(c + j, p);
    return m;
}

}  // namespace

int ring_steps(int p) {
    return 2 * (p - 1);
}

RingPhase ring_phase(int p, int step) {
    if (step <= 0) return RingPhase::Start;
    return step <= p - 1 ? RingPhase::ReduceScatter : RingPhase::AllGather;
}

int ring_phase_step(int p, int step) {
    switch (ring_phase(p, step)) {
        case RingPhase::Start:
            return 0;
        case RingPhase::ReduceScatter:
            return step;
        case RingPhase::AllGather:
            return step - (p - 1);
    }
    return 0;
}

int ring_owned_chunk(int p, int rank) {
    return mod(rank + 1, p);
}

std::vector<RingTransfer> ring_transfers(int p, int step, double n) {
    check_p(p);
    check_step(p, step, 1);
    const bool rs = ring_phase(p, step) == RingPhase::ReduceScatter;
    const int k = ring_phase_step(p, step);
    std::vector<RingTransfer> out;
    for (int r = 0; r < p; ++r) {
        RingTransfer t;
        t.from = r;
        t.to = mod(r + 1, p);
        t.chunk = rs ? mod(r - k + 1, p) : mod(r - k + 2, p);
        t.reduce = rs;
        t.bytes = n / p;
        out.push_back(t);
    }
    return out;
}

RingState ring_initial(int p) {
    check_p(p);
    RingState s;
    s.p = p;
    s.step = 0;
    s.held.resize(static_cast<std::size_t>(p * p));
    for (int r = 0; r < p; ++r)
        for (int c = 0; c < p; ++c)
            s.held[static_cast<std::size_t>(r * p + c)] = Contributions{1} << r;
    return s;
}

RingState ring_state(int p, int step) {
    check_p(p);
    check_step(p, step, 0);
    RingState s = ring_initial(p);
    s.step = step;
    const int k = std::min(step, p - 1);  // reduce-scatter steps done
    for (int r = 0; r < p; ++r)
        for (int c = 0; c < p; ++c) {
            const int d = mod(r - c, p);  // rank r receives chunk c at reduce-scatter step d
            if (d >= 1 && d <= k) s.held[static_cast<std::size_t>(r * p + c)] = run_from(c, d, p);
        }
    const int j = std::max(0, step - (p - 1));  // all-gather steps done
    for (int r = 0; r < p; ++r)
        for (int i = 0; i <= j && j > 0; ++i)
            s.held[static_cast<std::size_t>(r * p + mod(r + 1 - i, p))] = all_ranks(p);
    return s;
}

RingState apply_step(const RingState& s) {
    if (s.step >= ring_steps(s.p))
        throw std::invalid_argument("the all-reduce is complete: no step after step " +
                                    std::to_string(s.step));
    RingState next = s;
    next.step = s.step + 1;
    for (const RingTransfer& t : ring_transfers(s.p, next.step)) {
        const Contributions sent = s.at(t.from, t.chunk);  // the sender's copy before the step
        Contributions& mine = next.held[static_cast<std::size_t>(t.to * s.p + t.chunk)];
        mine = t.reduce ? (mine | sent) : sent;
    }
    return next;
}

RingAllReduce::RingAllReduce(int p) : state_(ring_initial(p)) {}

bool RingAllReduce::forward() {
    if (done()) return false;
    state_ = apply_step(state_);
    return true;
}

bool RingAllReduce::back() {
    if (step() == 0) return false;
    // A reduce step cannot be undone from the sums alone (the receiver's own part is not kept
    // apart), so the previous state is taken from the closed form.
    state_ = ring_state(p(), step() - 1);
    return true;
}

void RingAllReduce::reset() {
    state_ = ring_initial(p());
}

double ring_bytes_sent(int p, double n, int rank, int step) {
    check_p(p);
    check_step(p, step, 0);
    double sent = 0;
    for (int k = 1; k <= step; ++k)
        for (const RingTransfer& t : ring_transfers(p, k, n))
            if (t.from == rank) sent += t.bytes;
    return sent;
}

RingTraffic ring_traffic(int p, double n) {
    check_p(p);
    RingTraffic t;
    t.steps = ring_steps(p);
    t.bytes_per_link_per_step = ring_transfers(p, 1, n).front().bytes;
    t.bytes_per_rank = ring_bytes_sent(p, n, 0, t.steps);
    for (int r = 0; r < p; ++r) t.bytes_all_links += ring_bytes_sent(p, n, r, t.steps);
    return t;
}

double ring_allreduce_s(const LinkCost& link, int p, double n) {
    return cost_seconds(cost_terms(traces::Collective::AllReduce, p, CollAlgo::Ring), link.alpha_s,
                        link.beta_s_per_byte, n);
}

double tree_allreduce_s(const LinkCost& link, int p, double n) {
    return cost_seconds(cost_terms(traces::Collective::AllReduce, p, CollAlgo::Tree), link.alpha_s,
                        link.beta_s_per_byte, n);
}

double parameter_server_s(const LinkCost& link, int workers, int servers, double n) {
    if (workers < 1 || servers < 1)
        throw std::invalid_argument("a parameter server needs at least one worker and one server");
    return 2.0 * workers * (link.alpha_s + n / servers * link.beta_s_per_byte);
}

AlgorithmCurves sample_algorithms(const LinkCost& link, const LinkCost& p2p, int p, int servers,
                                  double n_lo, double n_hi, int per_doubling) {
    if (!(n_lo > 0 && n_hi >= n_lo))
        throw std::invalid_argument("message sizes must satisfy 0 < lo <= hi");
    if (per_doubling < 1) throw std::invalid_argument("per_doubling must be at least 1");
    AlgorithmCurves c;
    const double doublings = std::log2(n_hi / n_lo);
    const int count = std::max(1, static_cast<int>(std::ceil(doublings * per_doubling)));
    for (int i = 0; i <= count; ++i) {
        const double n = i == count ? n_hi : n_lo * std::exp2(doublings * i / count);
        c.bytes.push_back(n);
        c.ring_s.push_back(ring_allreduce_s(link, p, n));
        c.tree_s.push_back(tree_allreduce_s(link, p, n));
        c.ps_s.push_back(parameter_server_s(p2p, p, servers, n));
    }
    return c;
}

namespace {
// The calibrated fit of a collective on one node, else the intra-node link.
LinkCost fit_or_intra(const Hardware& hw, FitSlot slot) {
    const LinkCost& fit = hw.intra_fit[static_cast<std::size_t>(slot)];
    return fit.alpha_s > 0 || fit.beta_s_per_byte > 0 ? fit : hw.intra;
}
}  // namespace

LinkCost allreduce_link(const Hardware& hw) { return fit_or_intra(hw, FitSlot::AllReduce); }

LinkCost send_recv_link(const Hardware& hw) { return fit_or_intra(hw, FitSlot::SendRecv); }

CalibrationView calibration_from_json(const nlohmann::json& doc, const std::string& origin) {
    CalibrationView v;
    v.hw = parse_hardware(doc, origin);
    v.link = allreduce_link(v.hw);
    v.p2p = send_recv_link(v.hw);
    v.present = true;
    v.label = origin;
    const auto num = [](const nlohmann::json& j, const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
    };
    if (auto sp = doc.find("spread"); sp != doc.end() && sp->is_array())
        for (const auto& e : *sp)
            if (e.is_object() && e.value("collective", std::string()) == "all_reduce" &&
                num(e, "median_s") > 0)
                v.points.push_back({e.value("p", 2), num(e, "bytes"), num(e, "median_s"),
                                    num(e, "min_s"), num(e, "max_s")});
    if (v.points.empty())
        if (auto ms = doc.find("measurements"); ms != doc.end() && ms->is_array())
            for (const auto& e : *ms)
                if (e.is_object() && e.value("collective", std::string()) == "all_reduce" &&
                    num(e, "time_s") > 0) {
                    const double t = num(e, "time_s");
                    v.points.push_back({e.value("p", 2), num(e, "bytes"), t, t, t});
                }
    std::sort(v.points.begin(), v.points.end(),
              [](const MeasuredAllReduce& a, const MeasuredAllReduce& b) {
                  return a.p != b.p ? a.p < b.p : a.bytes < b.bytes;
              });
    return v;
}

CalibrationView calibration_from_trace(traces::TraceReader& rd, const std::string& path) {
    const auto cals = rd.calibrations();
    if (cals.empty()) {
        CalibrationView v;
        v.why = path +
                " holds no calibration (What-if ▸ Calibrate this machine, or `scalescope-cli "
                "calibrate --trace " +
                path + "`)";
        return v;
    }
    const auto& c = cals.back();
    const nlohmann::json doc = nlohmann::json::parse(c.hardware_json, nullptr, false);
    if (doc.is_discarded())
        throw HardwareError(path + ": calibration " + std::to_string(c.id.value) + " is not JSON");
    CalibrationView v =
        calibration_from_json(doc, path + " (calibration " + std::to_string(c.id.value) + ")");
    v.label = "calibration " + std::to_string(c.id.value) + " of " + path +
              (c.host.empty() ? "" : " (host " + c.host + ")");
    return v;
}

std::string fmt_bytes(double bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes;
    while (std::fabs(v) >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[64];
    if (u == 0 || v == std::floor(v))
        std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
    else
        std::snprintf(buf, sizeof buf, "%.3g %s", v, units[u]);
    return buf;
}

std::vector<std::string> explain_ring(int p, int step, double n) {
    check_p(p);
    check_step(p, step, 0);
    const RingTraffic t = ring_traffic(p, n);
    const std::string P = std::to_string(p), chunk = fmt_bytes(t.bytes_per_link_per_step);
    std::vector<std::string> s;
    s.push_back("Each of the " + P + " ranks cuts its " + fmt_bytes(n) + " buffer into " + P +
                " chunks of " + chunk +
                " and sends only to its right-hand neighbour: every step moves one chunk on every "
                "link at once.");
    const int k = ring_phase_step(p, step);
    switch (ring_phase(p, step)) {
        case RingPhase::Start:
            s.push_back("Before step 1 every rank holds only its own gradient in every chunk.");
            break;
        case RingPhase::ReduceScatter:
            s.push_back(
                "Reduce-scatter step " + std::to_string(k) + " of " + std::to_string(p - 1) +
                ": each rank adds the chunk it receives to its own copy, so that chunk now sums " +
                std::to_string(k + 1) + " ranks' contributions" +
                (k == p - 1 ? "; every rank now owns one chunk fully reduced." : "."));
            break;
        case RingPhase::AllGather:
            s.push_back(
                "All-gather step " + std::to_string(k) + " of " + std::to_string(p - 1) +
                ": each rank passes on a fully reduced chunk, which the receiver keeps as it is" +
                (k == p - 1 ? "; every rank now holds the whole sum." : "."));
            break;
    }
    s.push_back("In all 2(p−1) = " + std::to_string(t.steps) +
                " steps: each rank sends 2(p−1)/p·n = " + fmt_bytes(t.bytes_per_rank) +
                " (so far " + fmt_bytes(ring_bytes_sent(p, n, 0, step)) +
                "), almost 2n whatever p, so the bandwidth term does not grow with p; the latency "
                "term 2(p−1)α does "
                "(a tree's is 2⌈log2 p⌉α).");
    return s;
}

}  // namespace ss::core::teach

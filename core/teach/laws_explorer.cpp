#include "core/teach/laws_explorer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace ss::core::teach {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// A process count: "8", not "8.00".
std::string fmt_p(double p) {
    if (p == std::floor(p) && std::fabs(p) < 1e9) return std::to_string(static_cast<long long>(p));
    return fmt3(p);
}

}  // namespace

std::string fmt3(double v) {
    if (std::isnan(v)) return "–";
    if (std::isinf(v)) return v > 0 ? "∞" : "−∞";
    char buf[64];
    if (std::fabs(v) >= 1000)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (v == 0)
        return "0";
    else
        std::snprintf(buf, sizeof buf, "%#.3g", v);
    return buf;
}

LawReading read_laws(double f, double p) {
    if (!(f >= 0 && f <= 1))
        throw std::invalid_argument("serial fraction f must be in [0, 1], got " + fmt3(f));
    if (!(p >= 1))
        throw std::invalid_argument("process count p must be at least 1, got " + fmt3(p));
    LawReading r;
    r.f = f;
    r.p = p;
    r.amdahl = amdahl_speedup(f, p);
    r.amdahl_efficiency = r.amdahl / p;
    r.amdahl_limit = f > 0 ? 1.0 / f : kInf;
    r.gustafson = gustafson_speedup(f, p);
    r.gustafson_efficiency = r.gustafson / p;
    r.karp_flatt_amdahl = karp_flatt(r.amdahl, p);
    r.karp_flatt_gustafson = karp_flatt(r.gustafson, p);
    return r;
}

std::vector<int> powers_of_two_up_to(int max_p) {
    std::vector<int> out{1};
    while (out.back() < max_p && out.back() < (1 << 29)) out.push_back(out.back() * 2);
    return out;
}

LawCurve sample_laws(double f, double p_max, int per_doubling) {
    if (!(p_max >= 1)) throw std::invalid_argument("p_max must be at least 1");
    if (per_doubling < 1) throw std::invalid_argument("per_doubling must be at least 1");
    LawCurve c;
    const double doublings = std::log2(p_max);
    const int n = std::max(1, static_cast<int>(std::ceil(doublings * per_doubling)));
    for (int i = 0; i <= n; ++i) {
        const double p = i == n ? p_max : std::exp2(doublings * i / n);
        c.p.push_back(p);
        c.amdahl.push_back(amdahl_speedup(f, p));
        c.gustafson.push_back(gustafson_speedup(f, p));
    }
    return c;
}

StudyOverlay overlay_from_scaling(const ScalingResult& r) {
    StudyOverlay o;
    o.weak = r.weak;
    o.name = r.study.name;
    for (const ScalingPoint& pt : r.points) {
        o.p.push_back(pt.p);
        o.speedup.push_back(pt.speedup);
        o.oversubscribed.push_back(pt.oversubscribed);
    }
    o.law = own_law(r);
    o.fitted_f = kNaN;
    if (const LawFit* fit = find_fit(r, o.law)) {
        if (fit->ok && !fit->params.empty()) {
            o.fitted_f = fit->params.front().value;
            o.fitted_r2 = fit->r2;
        } else {
            o.why = "the study's " + std::string(to_string(o.law)) + " fit failed" +
                    (fit->warnings.empty() ? std::string() : ": " + fit->warnings.front());
        }
    }
    o.present = !o.p.empty();
    if (!o.present && o.why.empty()) o.why = "the study has no measured points";
    return o;
}

std::vector<std::string> explain_laws(const LawReading& r, const StudyOverlay* study) {
    std::vector<std::string> s;
    const std::string p = fmt_p(r.p), f = fmt3(r.f);
    const auto pct = [](double x) { return fmt3(100 * x) + " %"; };
    s.push_back("Strong scaling (Amdahl): with a serial fraction f = " + f + ", " + p +
                " processes run a fixed problem " + fmt3(r.amdahl) + "× faster (efficiency " +
                pct(r.amdahl_efficiency) +
                "); no number of processes beats 1/f = " + fmt3(r.amdahl_limit) + "×.");
    s.push_back("Weak scaling (Gustafson): grow the problem with p and " + p + " processes do " +
                fmt3(r.gustafson) + "× the work in the same time (efficiency " +
                pct(r.gustafson_efficiency) + "): the serial part stays the same size.");
    if (r.p > 1)
        s.push_back(
            "Karp–Flatt read off the curves at p = " + p + ": e = " + fmt3(r.karp_flatt_amdahl) +
            " on the Amdahl curve (f itself, at every p) and " + fmt3(r.karp_flatt_gustafson) +
            " on the Gustafson curve (f/S, falling with p). A measured e that grows with p means "
            "overhead, not a serial part.");
    else
        s.push_back(
            "Karp–Flatt e = (1/S − 1/p)/(1 − 1/p) needs p > 1: pick more processes to read it off "
            "the curves.");
    if (study && study->present) {
        std::string pts;
        for (std::size_t i = 0; i < study->p.size(); ++i)
            pts += (i ? ", " : "") + std::string("S(") + fmt_p(study->p[i]) +
                   ") = " + fmt3(study->speedup[i]);
        const bool any_over = std::find(study->oversubscribed.begin(), study->oversubscribed.end(),
                                        true) != study->oversubscribed.end();
        std::string line = "The open study (" + std::string(study->weak ? "weak" : "strong") +
                           " scaling) measured " + pts + "; ";
        line += std::isnan(study->fitted_f)
                    ? "its " + std::string(to_string(study->law)) + " fit is missing" +
                          (study->why.empty() ? "" : " (" + study->why + ")") + "."
                    : "its analysis fits " +
                          std::string(study->law == Law::Amdahl ? "Amdahl" : "Gustafson") +
                          " with f = " + fmt3(study->fitted_f) + " (the dashed curve).";
        if (study->fitted_f > 1)
            line +=
                " An f above 1 means the runs got slower as p grew: something that grows with p "
                "(shared cores, "
                "communication, a loaded machine) costs more than the extra processes give.";
        else if (study->fitted_f < 0)
            line +=
                " An f below 0 means the runs scaled better than ideal (superlinear: caches, or a "
                "noisy baseline).";
        if (any_over)
            line += " Square points ran more ranks than cores: they measure sharing, not the law.";
        s.push_back(line);
    }
    return s;
}

}  // namespace ss::core::teach

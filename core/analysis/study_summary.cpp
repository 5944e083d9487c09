// The study in one sentence (study_summary.h). docs/ANALYSIS.md "In one sentence".
#include "core/analysis/study_summary.h"

#include <cmath>
#include <cstdio>
#include <vector>

namespace ss::core {

namespace {
std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// "4", "4 and 8", "4, 8 and 16"
std::string and_list(const std::vector<std::int32_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) s += i + 1 == v.size() ? " and " : ", ";
        s += std::to_string(v[i]);
    }
    return s;
}

std::string ranks(std::int32_t p) { return std::to_string(p) + (p == 1 ? " rank" : " ranks"); }
}  // namespace

std::string model_phrase(const std::string& model) {
    if (model.empty()) return "the model";
    if (model.rfind("mlp", 0) == 0) return "the MLP";
    if (model.rfind("gpt", 0) == 0) return "the GPT model (" + model + ")";
    return "the model '" + model + "'";
}

std::string study_sentence(const ScalingResult& r, const StudyContext& ctx) {
    std::string where = ctx.cores > 0 ? "On this " + std::to_string(ctx.cores) + "-core machine "
                        : r.hosts.size() == 1 ? "On " + r.hosts.front() + " "
                                              : "In this study ";
    const std::string who = model_phrase(r.model);

    // The point the sentence leads with: the largest fitted p > 1 (a point that measures scaling).
    const ScalingPoint* best = nullptr;
    for (const auto& pt : r.points)
        if (pt.p > 1 && pt.fitted) best = &pt;
    if (!best) {
        // Only p = 1, or every p > 1 oversubscribed and kept in (no clean point to lead with).
        for (const auto& pt : r.points)
            if (pt.p > 1) best = &pt;
    }
    if (!best) return where + who + " ran on 1 rank only: there is nothing to compare it with yet.";

    std::string s = where + who;
    const std::string eff = fixed(100.0 * best->efficiency, 0) + " % efficiency";
    if (r.weak) {
        s += " processed " + fixed(best->speedup, 2) + "x as many samples per second on " + ranks(best->p) +
             " as on 1 (scaled speedup, " + eff + ")";
    } else if (best->speedup >= 1.0) {
        s += " ran " + fixed(best->speedup, 2) + "x faster on " + ranks(best->p) + " than on 1 (" + eff + ")";
    } else {
        s += " ran " + fixed(1.0 / best->speedup, 2) + "x slower on " + ranks(best->p) + " than on 1 (" + eff + ")";
    }

    if (!r.excluded_p.empty()) {
        const bool one = r.excluded_p.size() == 1;
        s += "; " + and_list(r.excluded_p) + " ranks share " +
             (ctx.cores > 0 ? std::to_string(ctx.cores) + " cores" : std::string("fewer cores than ranks")) +
             ", so " + (one ? "that point is" : "those points are") + " shown but not fitted";
    } else {
        std::vector<std::int32_t> over;
        for (const auto& pt : r.points)
            if (pt.oversubscribed) over.push_back(pt.p);
        if (!over.empty())
            s += "; " + and_list(over) + " ranks shared cores and are still fitted (too few other points), so "
                 "the fit measures contention";
    }

    // What the study's own law says (Amdahl for strong scaling, Gustafson for weak).
    const LawFit* fit = find_fit(r, own_law(r));
    if (fit && fit->ok && !fit->params.empty()) {
        const double f = fit->params.front().value;
        const std::string name = r.weak ? "Gustafson's law" : "Amdahl's law";
        const std::string through = fit->points <= 2 ? " through the 2 fitted points" : "";
        if (f < 0)
            s += "; the speedup is more than " + std::string(r.weak ? "linear" : "p-fold") + ", which " + name +
                 " does not model";
        else if (f > 1)
            s += "; more ranks made each step slower, which " + name + " does not model";
        else
            s += "; " + name + through + " says " + fixed(100.0 * f, f < 0.1 ? 1 : 0) +
                 " % of the step does not parallelise";
    }
    return s + ".";
}

}  // namespace ss::core

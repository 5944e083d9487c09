#include "core/study.h"

#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "core/spec.h"

namespace ss::core {

namespace {

const std::map<std::string, std::string>& short_names() {
    static const std::map<std::string, std::string> m{
        {"dp", "parallel.dp"},
        {"tp", "parallel.tp"},
        {"pp", "parallel.pp"},
        {"micro_batches", "parallel.micro_batches"},
        {"zero", "parallel.zero"},
        {"schedule", "parallel.schedule"},
        {"bucket_mb", "parallel.bucket_mb"},
        {"overlap", "parallel.overlap"},
        {"global_batch", "training.global_batch"},
        {"steps", "training.steps"},
        {"lr", "training.lr"},
        {"blas_threads", "backend.blas_threads"},
    };
    return m;
}

// Splits "a,[1,2],b" at commas outside brackets and braces.
std::vector<std::string> split_values(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    for (char c : s) {
        if (c == '[' || c == '{') ++depth;
        if (c == ']' || c == '}') --depth;
        if (c == ',' && depth == 0) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

// A value as part of a folder name: letters, digits, '.', '_' and '-' kept, others dropped.
std::string sanitized(const std::string& v) {
    std::string out;
    for (char c : v)
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') out += c;
        else if (c == ',') out += '_';
    return out;
}

bool is_layout(const std::string& path) {
    return path == "parallel.dp" || path == "parallel.tp" || path == "parallel.pp";
}

}  // namespace

// "2x1x2" -> {2, 1, 2} (dp x tp x pp); nullopt when it is not that.
std::optional<std::array<int, 3>> parse_layout(const std::string& v) {
    std::array<int, 3> out{};
    size_t from = 0;
    for (int i = 0; i < 3; ++i) {
        const size_t x = i < 2 ? v.find('x', from) : v.size();
        if (x == std::string::npos) return std::nullopt;
        const std::string part = v.substr(from, x - from);
        if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        out[static_cast<size_t>(i)] = std::stoi(part);
        if (out[static_cast<size_t>(i)] < 1) return std::nullopt;
        from = x + 1;
    }
    return out;
}

VaryAxis parse_vary(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("--vary " + text + ": expected NAME=V1,V2,... (e.g. dp=1,2,4)");
    VaryAxis a;
    a.label = text.substr(0, eq);
    if (a.label == "layout") {
        a.path = kLayoutAxis;
        a.values = split_values(text.substr(eq + 1));
        std::set<std::string> seen;
        for (const auto& v : a.values) {
            if (!parse_layout(v))
                throw std::invalid_argument("--vary " + text + ": '" + v +
                                            "' is not a layout DPxTPxPP (e.g. 2x2x1)");
            if (!seen.insert(v).second)
                throw std::invalid_argument("--vary " + text + ": value " + v + " is given twice");
        }
        return a;
    }
    auto it = short_names().find(a.label);
    a.path = it != short_names().end() ? it->second : a.label;
    a.values = split_values(text.substr(eq + 1));
    std::set<std::string> seen;
    for (const auto& v : a.values) {
        if (v.empty())
            throw std::invalid_argument("--vary " + text + ": an empty value (values are separated "
                                        "by single commas)");
        if (!seen.insert(v).second)
            throw std::invalid_argument("--vary " + text + ": value " + v + " is given twice");
    }
    // The path must be a field of the spec: apply_override says so (and suggests near misses).
    nlohmann::json scratch = nlohmann::json::object();
    try {
        apply_override(scratch, a.path + "=" + a.values.front());
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("--vary " + text + ": " + e.what());
    }
    if (a.path == "name" || a.path.rfind("trace.", 0) == 0 || a.path.rfind("launch.", 0) == 0)
        throw std::invalid_argument("--vary " + text + ": " + a.path +
                                    " is not something a study sweeps (it names or places runs)");
    return a;
}

StudyPlan plan_study(const nlohmann::json& base, const std::vector<VaryAxis>& axes, int repeats,
                     bool weak, bool check_files) {
    if (axes.empty()) throw std::invalid_argument("a study needs at least one --vary");
    if (repeats < 1)
        throw std::invalid_argument("--repeat must be at least 1 (got " + std::to_string(repeats) + ")");
    std::set<std::string> paths;
    StudyPlan plan;
    plan.scaling = weak ? "weak" : "strong";
    for (const auto& a : axes) {
        const std::vector<std::string> own =
            a.path == kLayoutAxis ? std::vector<std::string>{"parallel.dp", "parallel.tp", "parallel.pp"}
                                  : std::vector<std::string>{a.path};
        for (const auto& path : own)
            if (!paths.insert(path).second)
                throw std::invalid_argument(path + " is varied twice (a layout axis varies parallel.dp, "
                                            "tp and pp); give all its values in one --vary");
        if (weak && a.path == "training.global_batch")
            throw std::invalid_argument("--weak fixes the per-rank batch and derives "
                                        "training.global_batch; it cannot also be varied");
        for (const auto& path : own) plan.variable += (plan.variable.empty() ? "" : ",") + path;
    }

    const ParseResult base_parsed = parse_spec(base);
    if (!base_parsed.ok())
        throw std::invalid_argument("the study's spec has errors:\n" + format_errors(base_parsed.errors));
    const ExperimentSpec& b = base_parsed.spec;
    const bool explicit_name = base.contains("name");
    int per_rank = 0;
    if (weak) {
        const int w = b.parallel.world();
        if (b.training.global_batch % w != 0)
            throw std::invalid_argument(
                "--weak: training.global_batch=" + std::to_string(b.training.global_batch) +
                " must be divisible by the spec's world dp*tp*pp=" + std::to_string(w) +
                " (the per-rank batch is global_batch / world)");
        per_rank = b.training.global_batch / w;
    }

    // Cartesian product, first axis slowest.
    std::vector<size_t> idx(axes.size(), 0);
    auto next = [&] {
        for (size_t k = axes.size(); k-- > 0;) {
            if (++idx[k] < axes[k].values.size()) return true;
            idx[k] = 0;
        }
        return false;
    };
    std::string problems;
    do {
        nlohmann::json doc = base;
        std::vector<std::string> overrides;
        std::string value, suffix;
        for (size_t i = 0; i < axes.size(); ++i) {
            const std::string& v = axes[i].values[idx[i]];
            if (axes[i].path == kLayoutAxis) {
                const auto l = *parse_layout(v);
                const std::string dp = std::to_string(l[0]), tp = std::to_string(l[1]), pp = std::to_string(l[2]);
                overrides.push_back("parallel.dp=" + dp);
                overrides.push_back("parallel.tp=" + tp);
                overrides.push_back("parallel.pp=" + pp);
                value += (value.empty() ? "" : ",") + ("dp=" + dp + ",tp=" + tp + ",pp=" + pp);
                if (explicit_name) suffix += "-dp" + dp + "-tp" + tp + "-pp" + pp;
                continue;
            }
            overrides.push_back(axes[i].path + "=" + v);
            value += (axes.size() == 1 ? v : (value.empty() ? "" : ",") + axes[i].label + "=" + v);
            if (explicit_name || !is_layout(axes[i].path)) suffix += "-" + axes[i].label + sanitized(v);
        }
        std::string point_problems;
        try {
            for (const auto& o : overrides) apply_override(doc, o);
        } catch (const std::invalid_argument& e) {
            point_problems += std::string("  ") + e.what() + "\n";
        }
        ParseResult pr = parse_spec(doc);
        if (point_problems.empty() && pr.ok() && weak) {
            const int g = per_rank * pr.spec.parallel.world();
            const std::string o = "training.global_batch=" + std::to_string(g);
            apply_override(doc, o);
            overrides.push_back(o);
            pr = parse_spec(doc);
        }
        if (point_problems.empty()) {
            std::vector<SpecError> errs = pr.errors;
            if (pr.ok())
                for (auto& e : validate(pr.spec, -1, check_files)) errs.push_back(std::move(e));
            for (const auto& e : errs) point_problems += "  " + e.message + "\n";
        }
        if (!point_problems.empty()) {
            problems += "point " + value + ":\n" + point_problems;
        } else {
            const std::string name = pr.spec.name + suffix;
            doc["name"] = name;
            for (int r = 0; r < repeats; ++r) {
                StudyPoint p;
                p.doc = doc;
                p.overrides = overrides;
                p.value = value;
                p.p = pr.spec.parallel.world();
                p.repeat = r;
                p.name = name;
                plan.points.push_back(std::move(p));
            }
        }
    } while (next());
    if (!problems.empty()) throw std::invalid_argument("the study has invalid points:\n" + problems);
    return plan;
}

}  // namespace ss::core

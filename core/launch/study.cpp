#include "core/launch/study.h"

#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "core/spec/spec.h"
#include "traces/reader.h"
#include "traces/writer.h"

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
        const int w = b.parallel.workers();  // the training ranks (a parameter server's servers hold no batch)
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
            const int g = per_rank * pr.spec.parallel.workers();
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
            pr.spec.name = name;  // what parse_spec(doc) now gives
            for (int r = 0; r < repeats; ++r) {
                StudyPoint p;
                p.doc = doc;
                p.spec = pr.spec;
                p.overrides = overrides;
                p.value = value;
                p.p = pr.spec.parallel.workers();  // the scaling axis counts training ranks; mpirun starts world() (servers too)
                p.repeat = r;
                p.name = name;
                plan.points.push_back(std::move(p));
            }
        }
    } while (next());
    if (!problems.empty()) throw std::invalid_argument("the study has invalid points:\n" + problems);
    return plan;
}

// ---------------------------------------------------------------------------------------------

namespace fs = std::filesystem;

fs::path default_runs_root(const std::string& output) {
    const fs::path p = fs::absolute(output);
    return p.parent_path() / (p.stem().string() + "-runs");
}

fs::path next_run_dir(const fs::path& root, const std::string& name) {
    std::vector<std::string> entries;
    std::error_code ec;
    if (fs::is_directory(root, ec))
        for (const auto& de : fs::directory_iterator(root, ec))
            entries.push_back(de.path().filename().string());
    for (int i = 1; i < 100000; ++i) {
        char num[16];
        std::snprintf(num, sizeof num, "%03d-", i);
        bool used = false;
        for (const auto& e : entries) used = used || e.rfind(num, 0) == 0;
        if (!used) return root / (num + name);
    }
    throw std::runtime_error("no free run folder name in " + root.string());
}

std::string run_folder_name(const StudyPoint& point, bool repeated) {
    return point.name + (repeated ? "-r" + std::to_string(point.repeat) : "");
}

StudyPoint single_run_point(const nlohmann::json& doc) {
    const ParseResult pr = parse_spec(doc);
    if (!pr.ok()) throw std::invalid_argument(format_errors(pr.errors));
    StudyPoint p;
    p.doc = doc;
    p.spec = pr.spec;
    p.p = pr.spec.parallel.workers();  // the scaling axis counts training ranks; mpirun starts world() (servers too)
    p.name = pr.spec.name;
    return p;
}

namespace {

// The deepest existing folder at or above `p` (what creating `p` would start from).
fs::path existing_ancestor(fs::path p) {
    std::error_code ec;
    p = fs::absolute(p, ec);
    while (!p.empty() && !fs::exists(p, ec)) {
        if (p == p.parent_path()) break;
        p = p.parent_path();
    }
    return p;
}

std::optional<std::string> creatable_folder_problem(const fs::path& dir, const std::string& what) {
    const fs::path base = existing_ancestor(dir);
    std::error_code ec;
    if (!fs::is_directory(base, ec))
        return what + " " + dir.string() + " cannot be created: " + base.string() +
               " is not a folder";
    if (::access(base.c_str(), W_OK | X_OK) != 0)
        return what + " " + dir.string() + " cannot be created: " + base.string() +
               " is not writable";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> output_problem(const std::string& output) {
    if (output.empty()) return "no trace file is given";
    const fs::path p = fs::absolute(output);
    std::error_code ec;
    if (!fs::exists(p, ec))
        return creatable_folder_problem(p.parent_path(), "the trace file's folder");
    if (!fs::is_regular_file(p, ec))
        return "the trace file " + p.string() + " exists and is not a file";
    if (::access(p.c_str(), W_OK) != 0) return "the trace file " + p.string() + " is not writable";
    if (fs::file_size(p, ec) == 0) return std::nullopt;  // an empty file is written as a new trace
    try {
        traces::TraceReader check(p.string());
    } catch (const std::exception& e) {
        return "the trace file " + p.string() + " exists and cannot take runs: " + e.what();
    }
    return std::nullopt;
}

std::optional<std::string> runs_root_problem(const fs::path& root) {
    std::error_code ec;
    const fs::path r = fs::absolute(root, ec);
    if (fs::exists(r, ec)) {
        if (!fs::is_directory(r, ec))
            return "the runs folder " + r.string() + " exists and is not a folder";
        if (::access(r.c_str(), W_OK | X_OK) != 0)
            return "the runs folder " + r.string() + " is not writable";
        return std::nullopt;
    }
    return creatable_folder_problem(r, "the runs folder");
}

std::string command_line(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) {
        const bool plain =
            !a.empty() && a.find_first_of(" \t\"'\\$`*?[]{}()<>|&;#~") == std::string::npos;
        std::string quoted = "'";
        for (char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        quoted += "'";
        s += (s.empty() ? "" : " ") + (plain ? a : quoted);
    }
    return s;
}

std::string study_commands(const StudyPlan& plan, const fs::path& root, const std::string& worker,
                           const std::string& mpirun, const LaunchEnvironment& env) {
    bool repeated = false;
    for (const auto& p : plan.points) repeated |= p.repeat > 0;
    std::string out;
    for (const auto& p : plan.points) {
        const ExperimentSpec& ps = p.spec;
        const MpirunPlan mp =
            plan_run_command(ps, (root / ("NNN-" + run_folder_name(p, repeated))).string(), worker, mpirun, env);
        out += "# point " + p.value + " repeat " + std::to_string(p.repeat) +
               " (p=" + std::to_string(p.p) +
               ", training.global_batch=" + std::to_string(ps.training.global_batch) +
               (mp.oversubscribed ? ", oversubscribed" : "") + ")\n" + command_line(mp.argv) + "\n";
    }
    return out;
}

StudyRunResult run_study(const StudyRunRequest& rq) {
    StudyRunResult res;
    bool repeated = false;
    for (const auto& p : rq.points) repeated |= p.repeat > 0;
    {
        std::error_code ec;
        const fs::path folder = fs::absolute(rq.output).parent_path();
        fs::create_directories(folder, ec);
        if (ec) throw std::runtime_error("cannot create " + folder.string() + " (the trace file's folder): " + ec.message());
    }
    if (rq.study) {
        traces::TraceWriter w(rq.output);
        res.study = w.add_study(*rq.study);
    }
    for (std::size_t i = 0; i < rq.points.size(); ++i) {
        const StudyPoint& p = rq.points[i];
        RunRequest run;
        run.spec = p.spec;
        run.output = rq.output;
        run.run_dir = next_run_dir(rq.runs_root, run_folder_name(p, repeated)).string();
        run.worker = rq.worker;
        run.mpirun = rq.mpirun;
        run.grace_s = rq.grace_s;
        run.env = rq.env;
        run.slurm = rq.slurm;
        run.cancel = rq.cancel;
        if (rq.on_progress) run.on_progress = [&rq, i](const Progress& x) { rq.on_progress(i, x); };
        if (rq.on_plan) run.on_plan = [&rq, i](const MpirunPlan& x) { rq.on_plan(i, x); };
        if (rq.on_line) run.on_line = [&rq, i](const TaggedLine& x) { rq.on_line(i, x); };
        if (rq.on_point_started) rq.on_point_started(i, run.run_dir);
        RunOutcome o = launch_run(run);
        if (rq.study) {
            traces::TraceWriter w(rq.output);
            w.add_study_run(traces::StudyRun{res.study, o.run, p.value, p.p, p.repeat});
        }
        const bool failed = o.status != traces::RunStatus::Completed;
        res.failed += failed ? 1 : 0;
        res.runs.push_back({p, run.run_dir, std::move(o)});
        if (rq.on_point_finished) rq.on_point_finished(i, res.runs.back().outcome);
        if (rq.cancel && rq.cancel->load()) {
            res.cancelled = true;
            break;
        }
        if (failed && rq.stop_on_failure && i + 1 < rq.points.size()) {
            res.stopped_on_failure = true;
            break;
        }
    }
    return res;
}

}  // namespace ss::core

#include "core/teach/class_results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/analysis/analysis.h"

namespace ss::core {

namespace {

// A number for a sentence: `sig` significant digits, no exponent for everyday magnitudes.
std::string num(double v, int sig = 3) {
    if (!std::isfinite(v)) return "n/a";
    if (std::fabs(v) < 5e-5) return "0";
    const int mag = static_cast<int>(std::floor(std::log10(std::fabs(v))));
    const int decimals = std::clamp(sig - 1 - mag, 0, 6);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}
std::string percent(double ratio) {
    if (!std::isfinite(ratio)) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f %%", ratio * 100);
    return buf;
}
std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string s;
    for (size_t i = 0; i < parts.size(); ++i) s += (i ? sep : "") + parts[i];
    return s;
}
void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}
std::string utc_minute(std::int64_t unix_ns) {
    const std::time_t t = static_cast<std::time_t>(unix_ns / 1000000000);
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}
double param(const LawFit& f, const std::string& name) {
    for (const FitParam& p : f.params)
        if (p.name == name) return p.value;
    return std::nan("");
}
std::string r2_text(const LawFit& f) {
    if (!std::isfinite(f.r2)) return "R² n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "R² %.2f", f.r2);
    return buf;
}

}  // namespace

std::string fit_quality_text(const LawFit& fit, double poor_fit_r2) {
    if (!fit.ok)
        return "no fit" + (fit.warnings.empty() ? std::string() : ": " + fit.warnings.front());
    if (!fit.has_interval)
        return "exact: " + std::to_string(fit.points > 0 ? fit.points - 1 : 0) +
               " point with p > 1, the law passes through it (nothing checks it)";
    if (!std::isfinite(fit.r2)) return "n/a (the speedup is the same at every p)";
    return (fit.r2 >= poor_fit_r2 ? "good (" : "poor (") + r2_text(fit) + ")";
}

std::string law_sentence(const LawFit& fit) {
    // How well the law matches: R², or that nothing can check it (as many parameters as points).
    const std::string check =
        fit.has_interval ? r2_text(fit) : "exact through the points: nothing checks it";
    switch (fit.law) {
        case Law::Amdahl: {
            if (!fit.ok) return "Amdahl's law (strong scaling) could not be fitted.";
            const double f = param(fit, "f");
            const std::string head =
                "Amdahl's law (strong scaling) fits a serial fraction f = " + num(f, 2) + " (" +
                check + ")";
            if (f <= 0)
                return head +
                       ": the runs scaled as well as the ideal or better, so no serial part shows.";
            if (f >= 1)
                return head +
                       ": above 1, the runs got slower with more processes, which no fixed serial "
                       "part explains "
                       "(overheads grow with p).";
            return head + ": " + percent(f) +
                   " of the work does not parallelise, so no number of processes " +
                   "can make it more than 1/f = " + num(1 / f, 3) + "× faster.";
        }
        case Law::Gustafson: {
            if (!fit.ok) return "Gustafson's law (weak scaling) could not be fitted.";
            const double f = param(fit, "f");
            return "Gustafson's law (weak scaling: the work grows with p) fits a serial fraction f "
                   "= " +
                   num(f, 2) + " (" + check + "): each added process adds " + num(1 - f, 2) +
                   " of a process's work to the scaled speedup.";
        }
        case Law::Usl: {
            if (!fit.ok) return "The universal scalability law could not be fitted.";
            const double s = param(fit, "sigma"), k = param(fit, "kappa");
            const std::string head =
                "The universal scalability law fits contention σ = " + num(s, 2) +
                " and crosstalk κ = " + num(k, 2) + " (" + check + ")";
            if (s >= 1)
                return head +
                       ": contention alone costs more than a process brings, so the speedup falls "
                       "below 1 as p grows.";
            if (k > 0) {
                const double peak = std::sqrt((1 - s) / k);
                return head + ": the speedup peaks near p = " + num(peak, 3) +
                       " (√((1 − σ)/κ)) and falls beyond, as more processes spend more time "
                       "agreeing.";
            }
            if (s > 0)
                return head + ": no crosstalk shows, and the speedup levels off towards 1/σ = " +
                       num(1 / s, 3) + "×.";
            return head + ": neither contention nor crosstalk shows at these p.";
        }
    }
    return {};
}

std::string conclusion_sentence(const StudySummary& s) {
    const std::string host = s.host.empty() ? "this machine" : s.host;
    if (s.max_p <= 1)
        return "On " + host + " only p = 1 was measured, so the study shows no scaling yet.";
    const bool over_max = std::find(s.oversubscribed_p.begin(), s.oversubscribed_p.end(),
                                    s.max_p) != s.oversubscribed_p.end();
    const std::string over =
        over_max ? ", p = " + std::to_string(s.max_p) + " oversubscribed: more ranks than cores"
                 : "";
    std::string out = "On " + host + ", " + std::to_string(s.max_p) + " processes ";
    if (s.speedup_at_max < 1) {
        out += "were slower than 1 (speedup " + num(s.speedup_at_max, 2) + "×" + over +
               "): at this size the parallel overheads outweigh the work they share";
        return out + ".";
    }
    out += s.scaling.weak ? "reached a scaled speedup of " + num(s.speedup_at_max, 2) + "× ("
                          : "ran " + num(s.speedup_at_max, 2) + "× faster than 1 (";
    out += percent(s.efficiency_at_max) + " efficiency" + over + ")";
    const LawFit* a = find_fit(s.scaling, Law::Amdahl);
    const double f = s.serial_fraction;
    if (a && a->ok && a->has_interval && std::isfinite(a->r2) &&
        a->r2 < ScalingOptions{}.poor_fit_r2)
        out += ", but Amdahl's law fits poorly (" + r2_text(*a) +
               "): something that grows with p, such as communication, limits it more than a fixed "
               "serial part";
    else if (std::isfinite(f) && f > 0 && f < 1)
        out += ", and its serial fraction f = " + num(f, 2) + " caps any number of processes at " +
               num(1 / f, 3) + "×";
    else if (std::isfinite(f) && f <= 0)
        out += ", with no serial part visible";
    return out + ".";
}

StudySummary summarize_study(traces::TraceReader& reader, traces::StudyId study,
                             const ScalingOptions& options) {
    StudySummary s;
    s.file = reader.path();
    s.scaling = analyze_study(reader, study, options);
    s.study = s.scaling.study;

    std::vector<std::string> hosts, models;
    std::int64_t first_start = 0;
    std::int32_t repeats = 0;
    long long steps = -1;
    bool steps_differ = false;
    const ScalingSample* largest = nullptr;
    for (const ScalingSample& smp : s.scaling.samples) {
        const traces::RunInfo ri = reader.run(smp.run);
        std::vector<std::string> run_hosts = ri.hosts;
        if (run_hosts.empty())
            for (const traces::RankInfo& k : reader.ranks(smp.run)) add_unique(run_hosts, k.host);
        for (const auto& h : run_hosts) add_unique(hosts, h);
        add_unique(models, ri.model);
        if (ri.wall_start_unix_ns > 0 && (first_start == 0 || ri.wall_start_unix_ns < first_start))
            first_start = ri.wall_start_unix_ns;
        repeats = std::max(repeats, smp.repeat + 1);
        const auto spec = nlohmann::json::parse(ri.spec_json, nullptr, /*allow_exceptions=*/false);
        if (spec.is_object() && spec.contains("training") && spec["training"].is_object() &&
            spec["training"].contains("steps") && spec["training"]["steps"].is_number_integer()) {
            const long long n = spec["training"]["steps"].get<long long>();
            if (steps >= 0 && n != steps) steps_differ = true;
            steps = n;
        }
        if (!largest || smp.p > largest->p) largest = &smp;
    }
    s.host = join(hosts, "+");
    s.model = join(models, ", ");
    s.date = first_start > 0 ? utc_minute(first_start) : std::string();
    if (largest)
        for (const traces::RankInfo& k : reader.ranks(largest->run))
            if (k.rank == 0) s.device = k.device;

    std::vector<std::string> ps;
    for (const ScalingPoint& pt : s.scaling.points) {
        ps.push_back(std::to_string(pt.p));
        if (pt.oversubscribed) s.oversubscribed_p.push_back(pt.p);
    }
    s.points = static_cast<std::int32_t>(s.scaling.points.size());
    s.oversubscribed_points = static_cast<std::int32_t>(s.oversubscribed_p.size());
    if (!s.scaling.points.empty()) {
        const ScalingPoint& top = s.scaling.points.back();
        s.max_p = top.p;
        s.speedup_at_max = top.speedup;
        s.efficiency_at_max = top.efficiency;
    }
    s.what = (s.model.empty() ? std::string("runs") : s.model) + ", " + s.study.scaling +
             " scaling of " + (s.study.variable.empty() ? std::string("p") : s.study.variable) +
             " over p = " + join(ps, ", ") + "; " + std::to_string(repeats) +
             (repeats == 1 ? " repeat" : " repeats") +
             (steps >= 0 && !steps_differ ? "; " + std::to_string(steps) + " steps a run"
                                          : std::string());

    s.serial_fraction = std::nan("");
    s.r2 = std::nan("");
    if (const LawFit* a = find_fit(s.scaling, Law::Amdahl)) {
        if (a->ok) {
            s.serial_fraction = param(*a, "f");
            s.r2 = a->r2;
        }
        s.fit_quality = fit_quality_text(*a, options.poor_fit_r2);
    }
    for (const LawFit& f : s.scaling.fits)
        if (f.matches_scaling) s.law_sentences.push_back(law_sentence(f));
    s.conclusion = conclusion_sentence(s);
    return s;
}

std::vector<std::string> class_files(const std::string& folder) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        throw std::runtime_error("'" + folder + "' is not a folder" +
                                 (ec ? " (" + ec.message() + ")" : std::string()));
    std::vector<std::string> files;
    fs::directory_iterator it(folder, ec);
    if (ec) throw std::runtime_error("cannot list '" + folder + "': " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) throw std::runtime_error("cannot list '" + folder + "': " + ec.message());
        const fs::path& p = it->path();
        std::error_code fec;
        if (p.extension() == ".sqlite" && it->is_regular_file(fec)) files.push_back(p.string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

namespace {
// The reader's message names the file by its path; the class table has a file column already.
std::string short_reason(std::string reason, const std::string& path, const std::string& name) {
    for (size_t at = reason.find(path); at != std::string::npos;
         at = reason.find(path, at + name.size()))
        reason.replace(at, path.size(), name);
    return reason;
}
}  // namespace

ClassResults class_results(const std::string& folder, const ClassOptions& options) {
    namespace fs = std::filesystem;
    ClassResults out;
    out.folder = folder;
    const std::vector<std::string> files = class_files(folder);
    std::map<std::string, int> good_studies;  // file name -> entries it gave
    int done = 0;
    for (const std::string& path : files) {
        if (options.cancelled && options.cancelled()) throw ClassCancelled{};
        const std::string name = fs::path(path).filename().string();
        try {
            traces::TraceReader reader(path);
            const auto studies = reader.studies();
            if (studies.empty()) {
                const size_t runs = reader.runs().size();
                out.bad.push_back({path, name,
                                   "no scaling study: the file holds " + std::to_string(runs) +
                                       (runs == 1 ? " run" : " runs") +
                                       " and no study (record one with 'scalescope-cli study')"});
            }
            for (const traces::StudyInfo& st : studies) {
                try {
                    ClassEntry e;
                    e.file_name = name;
                    e.summary = summarize_study(reader, st.id, options.scaling);
                    out.entries.push_back(std::move(e));
                    ++good_studies[name];
                } catch (const std::exception& err) {
                    out.bad.push_back({path, name, short_reason(err.what(), path, name)});
                }
            }
        } catch (const std::exception& err) {
            out.bad.push_back({path, name, short_reason(err.what(), path, name)});
        }
        if (options.progress) options.progress(++done, static_cast<int>(files.size()));
    }
    // Labels: the host; the file name when another entry has the same host; the study when the
    // file gave several.
    std::map<std::string, int> per_host;
    for (const ClassEntry& e : out.entries) ++per_host[e.summary.host];
    for (ClassEntry& e : out.entries) {
        e.label = e.summary.host.empty() ? std::string("unknown host") : e.summary.host;
        if (per_host[e.summary.host] > 1) e.label += " (" + e.file_name + ")";
        if (good_studies[e.file_name] > 1)
            e.label += " · study " + std::to_string(e.summary.study.id.value);
    }
    return out;
}

}  // namespace ss::core

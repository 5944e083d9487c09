#include "core/sim/validation_band.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ss::core {

using json = nlohmann::json;

const char* layout_class(int dp, int tp, int pp) {
    const int axes = (dp > 1) + (tp > 1) + (pp > 1);
    if (axes == 0) return "single";
    if (axes > 1) return "mixed";
    return dp > 1 ? "dp" : tp > 1 ? "tp" : "pp";
}

namespace {

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return {};
    return buf;
}

std::string one_decimal(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

}  // namespace

HardwareValidation summarize_validation(const ValidationReport& rep, const std::string& statistic,
                                        const std::string& study) {
    HardwareValidation v;
    v.present = true;
    v.statistic = statistic;
    v.study = study;
    v.date = iso8601_utc(std::time(nullptr));
    v.host = host_name();
    for (const auto& f : rep.fitted_on)
        v.compute_rates += (v.compute_rates.empty() ? "" : "; ") + f;
    double sum = 0, sum_over = 0;
    for (const auto& r : rep.rows) {
        if (r.fit || !(r.analytic_s > 0)) continue;  // the fit point, or skipped
        const double err = std::max(std::abs(r.analytic_err), std::abs(r.replay_err));
        if (r.oversubscribed) {
            sum_over += err;
            ++v.points_oversubscribed;
            continue;
        }
        const ExperimentSpec spec = run_spec(r.run);
        const std::string cls = layout_class(spec.parallel.dp, spec.parallel.tp, spec.parallel.pp);
        auto it =
            std::find_if(v.classes.begin(), v.classes.end(),
                         [&](const ValidationClassError& c) { return c.layout_class == cls; });
        if (it == v.classes.end())
            it = v.classes.insert(v.classes.end(), ValidationClassError{cls, 0, 0, 0});
        ++it->points;
        it->mean_abs_err += err;  // a sum until the end
        it->max_abs_err = std::max(it->max_abs_err, err);
        sum += err;
        v.max_abs_err = std::max(v.max_abs_err, err);
        ++v.points;
    }
    for (auto& c : v.classes) c.mean_abs_err /= c.points;
    auto rank = [](const std::string& c) {
        return c == "single" ? 0 : c == "dp" ? 1 : c == "tp" ? 2 : c == "pp" ? 3 : 4;
    };
    std::stable_sort(v.classes.begin(), v.classes.end(),
                     [&](const ValidationClassError& a, const ValidationClassError& b) {
                         return rank(a.layout_class) < rank(b.layout_class);
                     });
    v.mean_abs_err = v.points ? sum / v.points : 0;
    v.mean_abs_err_oversubscribed =
        v.points_oversubscribed ? sum_over / v.points_oversubscribed : 0;
    return v;
}

void store_validation(const std::string& path, const HardwareValidation& v) {
    if (path.size() > 7 && path.substr(path.size() - 7) == ".sqlite")
        throw HardwareError(path +
                            ": --store-band writes into a hardware JSON file, not a trace file "
                            "(pass --hardware HW.json)");
    std::ifstream in(path);
    if (!in) throw HardwareError(path + ": cannot read the hardware file: " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    json doc = json::parse(ss.str(), nullptr, false, /*ignore_comments=*/true);
    if (doc.is_discarded() || !doc.is_object()) throw HardwareError(path + ": not a JSON object");
    doc["validation"] = to_json(v);
    parse_hardware(doc, path);  // what is written must read back
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) throw HardwareError(tmp + ": cannot write: " + std::strerror(errno));
        out << doc.dump(2) << '\n';
        out.flush();
        if (!out) throw HardwareError(tmp + ": write failed: " + std::strerror(errno));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw HardwareError(path + ": cannot replace it with " + tmp + ": " + ec.message());
}

ErrorBand error_band(const Hardware& hw, int dp, int tp, int pp, bool oversubscribed) {
    const HardwareValidation& v = hw.validation;
    ErrorBand b;
    if (!v.present) return b;
    b.date = v.date.substr(0, 10);
    b.statistic = v.statistic;
    b.total_points = v.points;
    if (oversubscribed && v.points_oversubscribed > 0) {
        b.backed = true;
        b.rel = v.mean_abs_err_oversubscribed;
        b.points = v.points_oversubscribed;
        b.scope = "oversubscribed layouts";
        return b;
    }
    const std::string cls = layout_class(dp, tp, pp);
    for (const auto& c : v.classes)
        if (c.layout_class == cls && c.points > 0) {
            b.backed = true;
            b.rel = c.mean_abs_err;
            b.points = c.points;
            b.scope = cls == "single"  ? "single-rank layouts"
                      : cls == "mixed" ? "mixed layouts"
                                       : cls + " layouts";
            return b;
        }
    if (v.points == 0) return b;
    b.backed = true;
    b.rel = v.mean_abs_err;
    b.points = v.points;
    b.scope = "all layouts";
    return b;
}

ErrorBand error_band(const Hardware& hw, const ExperimentSpec& spec, bool oversubscribed) {
    return error_band(hw, spec.parallel.dp, spec.parallel.tp, spec.parallel.pp, oversubscribed);
}

std::string band_text(const ErrorBand& b) {
    if (!b.backed) return "no validation backs this hardware file";
    std::string t = "± " + one_decimal(100.0 * b.rel) + " % (held-out validation of " +
                    std::to_string(b.total_points) + " points";
    if (b.scope != "all layouts") t += ", " + b.scope + ": " + std::to_string(b.points);
    if (!b.statistic.empty()) t += ", " + b.statistic + " of repeats";
    if (!b.date.empty()) t += ", " + b.date;
    return t + ")";
}

std::string no_band_hint() {
    return "no validation backs this hardware file: `scalescope-cli simulate --validate "
           "STUDY.sqlite --hardware HW.json "
           "--store-band` measures the simulator's error on a recorded study and stores it in the "
           "file";
}

std::string step_with_band(double step_s, const ErrorBand& b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", step_s * 1e3);
    std::string t = "step " + std::string(buf) + " ms";
    return b.backed ? t + " " + band_text(b) : t + " (" + band_text(b) + ")";
}

}  // namespace ss::core

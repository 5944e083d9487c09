#include "core/sim/calibrate.h"

#include "core/sim/hardware.h"
#include "core/sim/sim_trace.h"
#include "core/analysis/analysis.h"
#include "models/plan/buckets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <tuple>
#include <stdexcept>

namespace ss::core {

namespace {
traces::Collective checked(const std::string& collective, int p) {
    const auto c = calibrated_collective(collective);
    if (!c)
        throw std::invalid_argument("unknown collective '" + collective +
                                    "' (expected all_reduce, reduce_scatter, all_gather, broadcast, "
                                    "send_recv, iall_reduce or ireduce_scatter)");
    if (p < 1) throw std::invalid_argument(collective + ": group size " + std::to_string(p) + " < 1");
    return *c;
}
}  // namespace

double busbw_factor(const std::string& c, int p) { return busbw_factor(checked(c, p), p); }

CostTerms cost_terms(const std::string& c, int p) { return cost_terms(checked(c, p), p, CollAlgo::Ring); }

namespace {
struct Point {
    double x1, x2, t;  // T = alpha*x1 + beta*x2
};

// Weighted least squares of T = alpha*x1 + beta*x2 with weights w_i / T_i^2 (relative errors),
// alpha and beta kept >= 0.
void solve(const std::vector<Point>& pts, const std::vector<double>& w, double& alpha, double& beta, bool& clamped) {
    double s11 = 0, s12 = 0, s22 = 0, s1t = 0, s2t = 0;
    for (std::size_t i = 0; i < pts.size(); ++i) {
        const Point& p = pts[i];
        const double wi = w[i] / (p.t * p.t);
        s11 += wi * p.x1 * p.x1;
        s12 += wi * p.x1 * p.x2;
        s22 += wi * p.x2 * p.x2;
        s1t += wi * p.x1 * p.t;
        s2t += wi * p.x2 * p.t;
    }
    const double det = s11 * s22 - s12 * s12;
    alpha = det > 0 ? (s1t * s22 - s2t * s12) / det : -1;
    beta = det > 0 ? (s11 * s2t - s12 * s1t) / det : -1;
    clamped = false;
    if (alpha < 0) {  // latency below resolution: beta alone (alpha = 0)
        alpha = 0;
        beta = s22 > 0 ? s2t / s22 : 0;
        clamped = true;
    }
    if (beta < 0) {  // no size dependence measurable: alpha alone
        beta = 0;
        alpha = s11 > 0 ? s1t / s11 : 0;
    }
}

double median_of(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t k = v.size();
    return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}
}  // namespace

AlphaBeta fit_alpha_beta(const std::string& c, const std::vector<CollectiveSample>& samples) {
    AlphaBeta f;
    f.collective = c;
    std::vector<Point> pts;
    std::vector<std::int64_t> bytes;
    for (const auto& s : samples) {
        if (s.collective != c) continue;
        if (!(s.time_s > 0) || !std::isfinite(s.time_s))
            throw std::invalid_argument(c + ": sample of " + std::to_string(s.bytes) +
                                        " bytes has a non-positive time");
        const CostTerms t = cost_terms(c, s.p);
        pts.push_back({t.a, t.b * static_cast<double>(s.bytes), s.time_s});
        bytes.push_back(s.bytes);
    }
    f.samples = static_cast<int>(pts.size());
    const std::set<std::int64_t> sizes(bytes.begin(), bytes.end());
    if (f.samples < 2 || sizes.size() < 2)
        throw std::invalid_argument(c + ": fitting alpha and beta needs samples of at least 2 different sizes (got " +
                                    std::to_string(f.samples) + " sample(s) of " + std::to_string(sizes.size()) +
                                    " size(s)): beta is unidentifiable");
    auto rel = [&](std::size_t i, double a, double b) { return (a * pts[i].x1 + b * pts[i].x2 - pts[i].t) / pts[i].t; };
    std::vector<double> w(pts.size(), 1.0);
    double alpha = 0, beta = 0, scale = 0;
    bool clamped = false;
    // Huber IRLS over the points with w > 0 (the dropped ones stay at 0).
    auto huber = [&](const std::vector<bool>& keep) {
        for (std::size_t i = 0; i < pts.size(); ++i) w[i] = keep[i] ? 1.0 : 0.0;
        solve(pts, w, alpha, beta, clamped);
        for (int round = 0; round < 20; ++round) {
            std::vector<double> r;
            for (std::size_t i = 0; i < pts.size(); ++i)
                if (keep[i]) r.push_back(std::abs(rel(i, alpha, beta)));
            scale = std::max(1e-3, 1.4826 * median_of(r));
            double change = 0;
            for (std::size_t i = 0; i < pts.size(); ++i) {
                if (!keep[i]) continue;
                const double a = std::abs(rel(i, alpha, beta));
                const double nw = a <= 1.345 * scale ? 1.0 : 1.345 * scale / a;
                change = std::max(change, std::abs(nw - w[i]));
                w[i] = nw;
            }
            solve(pts, w, alpha, beta, clamped);
            if (change < 1e-3) break;
        }
    };
    std::vector<bool> keep(pts.size(), true);
    huber(keep);
    std::vector<bool> kept(pts.size());
    std::set<std::int64_t> kept_sizes;
    int drop = 0;
    for (std::size_t i = 0; i < pts.size(); ++i) {
        kept[i] = std::abs(rel(i, alpha, beta)) <= 3 * scale;
        if (kept[i]) kept_sizes.insert(bytes[i]);
        else ++drop;
    }
    if (drop > 0 && kept_sizes.size() >= 2) {
        keep = kept;
        f.dropped = drop;
        huber(keep);
    }
    f.alpha_s = alpha;
    f.beta_s_per_byte = beta;
    f.alpha_clamped = clamped;
    double sq = 0, mean = 0, n = 0;
    for (std::size_t i = 0; i < pts.size(); ++i)
        if (keep[i]) {
            sq += std::pow(rel(i, alpha, beta), 2);
            mean += pts[i].t;
            ++n;
        }
    mean /= n;
    f.rel_rms = std::sqrt(sq / n);
    double ss_res = 0, ss_tot = 0;
    for (std::size_t i = 0; i < pts.size(); ++i)
        if (keep[i]) {
            ss_res += std::pow(alpha * pts[i].x1 + beta * pts[i].x2 - pts[i].t, 2);
            ss_tot += std::pow(pts[i].t - mean, 2);
        }
    f.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1.0 : 0.0);
    return f;
}

std::vector<SampleSpread> sample_spread(const std::vector<CollectiveSample>& samples) {
    std::map<std::tuple<std::string, int, std::int64_t>, std::vector<double>> by;
    std::vector<std::tuple<std::string, int, std::int64_t>> order;
    for (const auto& s : samples) {
        auto key = std::make_tuple(s.collective, s.p, s.bytes);
        auto [it, fresh] = by.try_emplace(key);
        if (fresh) order.push_back(key);
        it->second.push_back(s.time_s);
    }
    std::vector<SampleSpread> out;
    for (const auto& key : order) {
        const auto& v = by[key];
        SampleSpread sp{std::get<0>(key), std::get<1>(key), std::get<2>(key), static_cast<int>(v.size()), median_of(v),
                        *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
        out.push_back(sp);
    }
    return out;
}

RowsFit fit_half_rows(const std::vector<double>& rows, const std::vector<double>& flops) {
    if (rows.size() != flops.size())
        throw std::invalid_argument("fit_half_rows: " + std::to_string(rows.size()) + " row counts but " +
                                    std::to_string(flops.size()) + " rates");
    std::set<double> distinct;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const double n = static_cast<double>(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!(rows[i] > 0) || !(flops[i] > 0))
            throw std::invalid_argument("fit_half_rows: rows " + std::to_string(rows[i]) + " rate " +
                                        std::to_string(flops[i]) + " must both be positive");
        distinct.insert(rows[i]);
        const double x = 1.0 / rows[i], y = 1.0 / flops[i];
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    if (distinct.size() < 2) throw std::invalid_argument("fit_half_rows needs at least 2 distinct row counts");
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    double icept = (sy - slope * sx) / n;
    if (slope < 0 || icept <= 0) {  // no dependence on rows (or noise): one rate, the mean
        slope = 0;
        icept = sy / n;
    }
    RowsFit f;
    f.peak_flops = 1.0 / icept;
    f.half_rows = slope / icept;
    double sq = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const double pred = f.peak_flops * rows[i] / (rows[i] + f.half_rows);
        sq += std::pow((pred - flops[i]) / flops[i], 2);
    }
    f.rel_rms = std::sqrt(sq / n);
    return f;
}

std::vector<std::int64_t> parse_sizes(const std::string& text) {
    auto one = [&](const std::string& item) -> std::int64_t {
        if (item.empty()) throw std::invalid_argument("--sizes " + text + ": an empty size");
        size_t pos = 0;
        long long v = 0;
        try {
            v = std::stoll(item, &pos);
        } catch (const std::exception&) {
            throw std::invalid_argument("--sizes " + text + ": '" + item + "' is not a size (e.g. 4K, 1M)");
        }
        std::string suf = item.substr(pos);
        std::int64_t mult = 1;
        if (suf == "K" || suf == "k" || suf == "KiB") mult = 1 << 10;
        else if (suf == "M" || suf == "MiB") mult = 1 << 20;
        else if (suf == "G" || suf == "GiB") mult = 1LL << 30;
        else if (!suf.empty() && suf != "B")
            throw std::invalid_argument("--sizes " + text + ": unknown unit '" + suf + "' in '" + item +
                                        "' (K, M, G are powers of 1024)");
        if (v <= 0) throw std::invalid_argument("--sizes " + text + ": '" + item + "' must be positive");
        if (v > (1LL << 40) / mult) throw std::invalid_argument("--sizes " + text + ": '" + item + "' is too large");
        return v * mult;
    };
    std::vector<std::int64_t> out;
    if (auto colon = text.find(':'); colon != std::string::npos) {
        const std::int64_t lo = one(text.substr(0, colon)), hi = one(text.substr(colon + 1));
        if (hi < lo) throw std::invalid_argument("--sizes " + text + ": the range ends below its start");
        for (std::int64_t s = lo; s <= hi; s *= 2) out.push_back(s);
        return out;
    }
    size_t from = 0;
    while (from <= text.size()) {
        const size_t comma = std::min(text.find(',', from), text.size());
        out.push_back(one(text.substr(from, comma - from)));
        from = comma + 1;
    }
    std::set<std::int64_t> uniq(out.begin(), out.end());
    return {uniq.begin(), uniq.end()};
}

namespace {
// "2026-12-01T00:15:52Z" from nanoseconds since the epoch.
std::string iso_date(std::int64_t unix_ns) {
    const std::string date = iso8601_utc(static_cast<std::time_t>(unix_ns / 1000000000LL));
    if (date.empty())
        throw std::invalid_argument("calibration output: created_unix_ns=" + std::to_string(unix_ns) + " is not a date");
    return date;
}
}  // namespace

SpanCheck spanning_check(const nlohmann::json& doc) {
    // The file's own figures, contended or not (parse_hardware refuses an oversubscribed file for
    // prediction; here the measured times are held against the same contended fits).
    nlohmann::json d = doc;
    d["oversubscribed"] = false;
    Hardware hw = parse_hardware(d, "calibration across hosts");
    SpanCheck out;
    if (!doc.contains("spread")) return out;
    double ring_err = 0, hier_err = 0;
    for (const auto& sp : doc.at("spread")) {
        if (sp.value("level", std::string()) != "span") continue;
        SpanPoint p;
        p.collective = sp.at("collective").get<std::string>();
        p.p = sp.at("p").get<int>();
        p.bytes = sp.at("bytes").get<std::int64_t>();
        p.measured_s = sp.at("median_s").get<double>();
        const traces::Collective c = checked(p.collective, p.p);
        const GroupPlacement g = place_group(hw, p.p, 1);
        hw.algorithm = CollAlgo::Ring;
        p.ring_s = collective_time(hw, c, g, static_cast<double>(p.bytes));
        hw.algorithm = CollAlgo::Hierarchical;
        p.hierarchical_s = collective_time(hw, c, g, static_cast<double>(p.bytes));
        if (p.measured_s > 0) {
            ring_err += std::abs(p.ring_s - p.measured_s) / p.measured_s;
            hier_err += std::abs(p.hierarchical_s - p.measured_s) / p.measured_s;
        }
        out.points.push_back(std::move(p));
    }
    if (out.points.empty()) return out;
    const double n = static_cast<double>(out.points.size());
    out.ring_mean_abs_err = ring_err / n;
    out.hierarchical_mean_abs_err = hier_err / n;
    out.best = out.hierarchical_mean_abs_err < out.ring_mean_abs_err ? CollAlgo::Hierarchical : CollAlgo::Ring;
    return out;
}

nlohmann::json hardware_file(const nlohmann::json& raw, bool oversubscribed) {
    using nlohmann::json;
    auto need = [&](const char* key) -> const json& {
        if (!raw.is_object() || !raw.contains(key))
            throw std::invalid_argument(std::string("calibration output lacks '") + key + "'");
        return raw.at(key);
    };
    // The samples by level: on one host they carry none (all intra); across hosts (raw "levels")
    // "intra" (inside each host), "inter" (one rank per host) and "span" (the world group).
    std::vector<CollectiveSample> samples, inter_samples, span_samples;
    json measurements = json::array();
    for (const auto& s : need("samples")) {
        CollectiveSample c;
        c.collective = s.at("collective").get<std::string>();
        c.p = s.at("p").get<int>();
        c.bytes = s.at("bytes").get<std::int64_t>();
        c.time_s = s.at("time_s").get<double>();
        c.iterations = s.value("iterations", 0);
        const std::string level = s.value("level", std::string("intra"));
        if (level != "intra" && level != "inter" && level != "span")
            throw std::invalid_argument("calibration output: a sample's level \"" + level +
                                        "\" must be \"intra\", \"inter\" or \"span\"");
        const double algbw = c.time_s > 0 ? static_cast<double>(c.bytes) / c.time_s : 0.0;
        json m = {{"collective", c.collective},
                  {"p", c.p},
                  {"bytes", c.bytes},
                  {"time_s", c.time_s},
                  {"iterations", c.iterations},
                  {"algbw_bytes_per_s", algbw},
                  {"busbw_bytes_per_s", algbw * busbw_factor(c.collective, c.p)}};
        if (s.contains("level")) m["level"] = level;
        measurements.push_back(std::move(m));
        (level == "inter" ? inter_samples : level == "span" ? span_samples : samples).push_back(std::move(c));
    }
    const bool multi = raw.contains("levels");
    if (multi && (samples.empty() || inter_samples.empty()))
        throw std::invalid_argument("calibration output: levels across hosts need intra and inter samples (got " +
                                    std::to_string(samples.size()) + " intra, " + std::to_string(inter_samples.size()) +
                                    " inter)");
    // The device and the transport the collectives ran on (scalescope-calibrate-rank names them
    // since issue 14; a raw file without them comes from the CPU worker, whose transport was MPI).
    std::string device_kind;
    if (raw.contains("device")) {
        if (!raw.at("device").is_string())
            throw std::invalid_argument("calibration output: device must be the backend's name, got " + raw.at("device").dump());
        try {
            device_kind = to_string(device_kind_from_backend(raw.at("device").get<std::string>()));
        } catch (const HardwareError& e) {
            throw std::invalid_argument(std::string("calibration output: ") + e.what());
        }
    }
    const std::string comm = raw.value("comm", std::string("mpi"));
    if (comm != "nccl" && comm != "mpi")
        throw std::invalid_argument("calibration output: comm=\"" + comm + "\" must be \"nccl\" or \"mpi\"");
    auto fit_all = [&](const std::vector<CollectiveSample>& of) {
        json fits = json::object();
        for (const char* name : kCalibratedCollectives) {
            bool any = false;
            for (const auto& s : of) any |= s.collective == name;
            if (!any) continue;
            const AlphaBeta f = fit_alpha_beta(name, of);
            fits[name] = {{"alpha_s", f.alpha_s},
                          {"beta_s_per_byte", f.beta_s_per_byte},
                          {"bus_bandwidth_bytes_per_s", f.beta_s_per_byte > 0 ? 1.0 / f.beta_s_per_byte : 0.0},
                          {"fit_method", f.method},
                          {"fit_rel_rms", f.rel_rms},
                          {"fit_r2", f.r2},
                          {"samples", f.samples},
                          {"dropped", f.dropped},
                          {"alpha_clamped_to_zero", f.alpha_clamped},
                          {"transport", comm}};
        }
        return fits;
    };
    const json fits = fit_all(samples);
    json hw = {{"format", "scalescope-hardware"},
               {"version", 1},
               {"created_unix_ns", need("created_unix_ns")},
               {"ranks", need("ranks")},
               {"hosts", need("hosts")},
               {"mpi_library", raw.value("mpi_library", "")},
               {"oversubscribed", oversubscribed},
               {"cost_model",
                {{"all_reduce", "2(p-1)*alpha + 2(p-1)/p*n*beta"},
                 {"iall_reduce", "2(p-1)*alpha + 2(p-1)/p*n*beta"},
                 {"reduce_scatter", "(p-1)*alpha + (p-1)/p*n*beta"},
                 {"ireduce_scatter", "(p-1)*alpha + (p-1)/p*n*beta"},
                 {"all_gather", "(p-1)*alpha + (p-1)/p*n*beta"},
                 {"broadcast", "ceil(log2 p)*alpha + n*beta"},
                 {"send_recv", "alpha + n*beta"},
                 {"n", "bytes of the whole buffer (nccl-tests size)"}}},
               {"collectives", fits},
               {"compute", need("compute")},
               {"memory", need("memory")},
               {"measurements", measurements}};
    // The spread of the repeats per size (median, min, max seconds per call).
    json spread = json::array();
    auto add_spread = [&](const std::vector<CollectiveSample>& of, const char* level) {
        for (const SampleSpread& sp : sample_spread(of)) {
            json j = {{"collective", sp.collective}, {"p", sp.p}, {"bytes", sp.bytes}, {"repeats", sp.repeats},
                      {"median_s", sp.median_s}, {"min_s", sp.min_s}, {"max_s", sp.max_s}};
            if (multi) j["level"] = level;
            spread.push_back(std::move(j));
        }
    };
    add_spread(samples, "intra");
    add_spread(inter_samples, "inter");
    add_spread(span_samples, "span");
    hw["spread"] = spread;
    if (multi) {
        // Across hosts: the intra-host fits are "collectives" (as on one host), the inter-host ones
        // "inter_collectives"; the topology places k ranks per node, with the all-reduce fit of each
        // level as its link (parse_hardware reads them back; core/sim/hardware.h collective_time).
        const json& lv = raw.at("levels");
        const int k = lv.value("ranks_per_host", 0), H = lv.value("hosts", 0);
        if (k < 2 || H < 2)
            throw std::invalid_argument("calibration output: levels.hosts and levels.ranks_per_host must be >= 2 (got " +
                                        std::to_string(H) + " and " + std::to_string(k) + ")");
        const json inter = fit_all(inter_samples);
        hw["inter_collectives"] = inter;
        hw["levels"] = lv;
        auto link_of = [](const json& f) {
            const json& a = f.contains("all_reduce") ? f.at("all_reduce") : f.begin().value();
            return json{{"alpha_s", a.at("alpha_s")}, {"beta_s_per_byte", a.at("beta_s_per_byte")}};
        };
        hw["calibrated"] = true;
        hw["topology"] = {{"devices_per_node", k},
                          {"nodes", H},
                          {"cores_per_node", device_kind == "gpu" ? 0 : lv.value("cores_per_host", 0)},
                          {"algorithm", "ring"},
                          {"intra", link_of(fits)},
                          {"inter", link_of(inter)}};
        std::string names;
        for (const auto& h : need("hosts")) names += (names.empty() ? "" : ", ") + h.get<std::string>();
        hw["name"] = "this cluster (calibrated, " + std::to_string(k * H) + " ranks on " + std::to_string(H) +
                     " hosts: " + names + ")";
        // The world group's measured times against the two-level model: flat ring vs hierarchical
        // (core/sim/hardware.h collective_time); the file's algorithm is the one that predicts them better.
        if (!span_samples.empty()) {
            const SpanCheck chk = spanning_check(hw);
            json pts = json::array();
            for (const auto& p : chk.points)
                pts.push_back({{"collective", p.collective}, {"p", p.p}, {"bytes", p.bytes}, {"measured_s", p.measured_s},
                               {"ring_s", p.ring_s}, {"hierarchical_s", p.hierarchical_s}});
            hw["topology"]["algorithm"] = to_string(chk.best);
            hw["spanning_check"] = {
                {"points", pts},
                {"ring_mean_abs_err", chk.ring_mean_abs_err},
                {"hierarchical_mean_abs_err", chk.hierarchical_mean_abs_err},
                {"algorithm", to_string(chk.best)},
                {"method", "the world group across the hosts measured (level span, median of the repeats) against "
                           "collective_time from this file's intra and inter fits: a flat ring waiting on the slower "
                           "link at every step, and hierarchical (intra reduce-scatter, inter collective of n/k, intra "
                           "all-gather); topology.algorithm is the one with the smaller mean |relative error|"}};
        }
    }
    if (raw.contains("collective_method")) hw["collective_method"] = raw.at("collective_method");
    // Calibrated compute classes (the rank's matmul table, element-wise and optimizer rates by bytes,
    // per-kernel overhead): carried as measured; parse_hardware checks them.
    if (raw.contains("compute_classes")) hw["compute_classes"] = raw.at("compute_classes");
    // Provenance: measured here, on the first host, at the time the ranks finished.
    const json& hosts = hw["hosts"];
    const json& created = hw["created_unix_ns"];
    hw["measured"] = true;
    hw["source"] = "scalescope-cli calibrate";
    hw["measured_on"] = {
        {"host", hosts.is_array() && !hosts.empty() && hosts[0].is_string() ? hosts[0].get<std::string>() : ""},
        {"date", created.is_number_integer() ? iso_date(created.get<std::int64_t>()) : ""}};
    hw["comm"] = comm;
    if (!device_kind.empty()) hw["device"] = {{"kind", device_kind}, {"name", raw.at("device")}};
    if (raw.contains("nccl_version")) hw["nccl_version"] = raw.at("nccl_version");
    if (raw.contains("overlap")) hw["overlap"] = raw.at("overlap");
    // Ranks that slow each other while computing: the ranks share cores (SMT siblings, a VM's
    // vCPUs placed on one core) or other work ran; the collectives measured then are suspect too.
    json warnings = json::array();
    const json& comp = hw["compute"];
    if (comp.contains("all_ranks") && comp.contains("sgemm_flops") && comp.at("sgemm_flops").get<double>() > 0) {
        const double ratio = comp["all_ranks"].value("sgemm_flops_mean", 0.0) / comp.at("sgemm_flops").get<double>();
        if (ratio < kCoRunWarnRatio) {
            char buf[320];
            std::snprintf(buf, sizeof buf,
                          "with all %d ranks computing at once each reached only %.0f %% of the single-rank sgemm "
                          "rate: %s or other work was running; the collectives measured now are contended too. "
                          "Calibrate again on an idle machine.",
                          comp["all_ranks"].value("ranks", 0), 100.0 * ratio,
                          device_kind == "gpu" ? "the ranks share a GPU"
                                               : "the ranks share cores (SMT siblings, vCPUs on one core)");
            warnings.push_back(buf);
        }
    }
    if (!warnings.empty()) hw["warnings"] = warnings;
    if (hw["compute"].contains("linear_rows")) {
        // Per shape r∞ and M½; the simulator takes the median M½ over the shapes.
        json& lr = hw["compute"]["linear_rows"];
        std::vector<double> halves;
        for (json& sh : lr.at("shapes")) {
            const RowsFit f = fit_half_rows(sh.at("rows").get<std::vector<double>>(), sh.at("flops").get<std::vector<double>>());
            sh["peak_flops"] = f.peak_flops;
            sh["half_rows"] = f.half_rows;
            sh["fit_rel_rms"] = f.rel_rms;
            halves.push_back(f.half_rows);
        }
        if (halves.empty()) throw std::invalid_argument("calibration output: compute.linear_rows.shapes is empty");
        std::sort(halves.begin(), halves.end());
        const std::size_t k = halves.size();
        lr["half_rows"] = k % 2 ? halves[k / 2] : 0.5 * (halves[k / 2 - 1] + halves[k / 2]);
        lr["model"] = "r(M) = peak_flops * M / (M + half_rows); half_rows: the median over the shapes";
    }
    return hw;
}


// ---- Compute from calibration ----

std::vector<MatmulShape> matmul_shapes(const ExperimentSpec& spec) {
    const Workload w = build_workload(spec);  // validates the spec, as the simulator does
    const ModelSpec& m = spec.model;
    const int t = spec.parallel.tp, b = w.micro_batch;
    std::vector<MatmulShape> out;
    auto add = [&](int rows, int inner, int cols, double count) {
        const double fl = 2.0 * rows * inner * cols * count;
        for (auto& s : out)
            if (s.rows == rows && s.inner == inner && s.cols == cols) {
                s.weight += fl;
                return;
            }
        out.push_back({rows, inner, cols, fl});
    };
    if (m.kind == "gpt") {
        const int N = b * m.seq_len, d = m.d_model;
        // qkv (column), attention projection (row), fc (column), fc projection (row): models/gpt.cpp
        add(N, d, 3 * d / t, m.layers);
        add(N, d / t, d, m.layers);
        add(N, d, 4 * d / t, m.layers);
        add(N, 4 * d / t, d, m.layers);
        add(N, d, m.vocab, 1);  // lm head (replicated)
    } else {
        std::vector<int> widths{m.input_dim};
        widths.insert(widths.end(), m.hidden.begin(), m.hidden.end());
        widths.push_back(m.classes);
        const int nlin = static_cast<int>(widths.size()) - 1;
        for (int i = 0; i < nlin; ++i) {
            const bool paired = (i / 2) * 2 + 1 < nlin;
            const bool column = paired && i % 2 == 0, row = paired && i % 2 == 1;
            const int in = widths[static_cast<std::size_t>(i)], o = widths[static_cast<std::size_t>(i) + 1];
            add(b, row ? in / t : in, column ? o / t : o, 1);
        }
    }
    return out;
}

std::string KindShape::arg() const {
    std::string out = kind;
    for (int d : dims) out += ":" + std::to_string(d);
    return out;
}

std::vector<KindShape> kind_shapes(const ExperimentSpec& spec) {
    const Workload w = build_workload(spec);
    const ModelSpec& m = spec.model;
    const int t = spec.parallel.tp, b = w.micro_batch;
    std::vector<KindShape> out;
    if (m.kind == "gpt") {
        const int N = b * m.seq_len, d = m.d_model, L = m.layers;
        out.push_back({"attention", {b, m.seq_len, d / t, m.heads / t}, 1.0 * L});
        out.push_back({"layernorm", {N, d}, 2.0 * L + 1});
        out.push_back({"gelu", {N * (4 * d / t)}, 1.0 * L});
        out.push_back({"residual", {N * d}, 2.0 * L});
        out.push_back({"bias", {N, d}, 2.0 * L});
        out.push_back({"classifier", {N, m.vocab}, 1});
    } else {
        std::vector<int> widths{m.input_dim};
        widths.insert(widths.end(), m.hidden.begin(), m.hidden.end());
        widths.push_back(m.classes);
        const int nlin = static_cast<int>(widths.size()) - 1;
        const std::string act = m.activation == "gelu" ? "gelu" : "relu";
        for (int i = 0; i + 1 < nlin; ++i) {
            const bool column = (i / 2) * 2 + 1 < nlin && i % 2 == 0;
            const int o = widths[static_cast<std::size_t>(i) + 1];
            const int n = b * (column ? o / t : o);
            auto it = std::find_if(out.begin(), out.end(),
                                   [&](const KindShape& k) { return k.dims[0] == n; });
            if (it != out.end())
                it->count += 1;
            else
                out.push_back({act, {n}, 1});
        }
        out.push_back({"classifier", {b, m.classes}, 1});
    }
    return out;
}

SpecProbes probes_for_specs(const std::vector<ExperimentSpec>& specs) {
    std::set<std::pair<int, int>> widths;
    std::set<int> rows;
    std::set<std::int64_t> sizes;
    std::set<std::string> kinds;
    for (const ExperimentSpec& spec : specs) {
        for (int tp : {spec.parallel.tp, 1, 2, 4})
            for (int dp : {spec.parallel.dp, 1, 2, 4})
                for (int mb : {spec.parallel.micro_batches, 1, 3}) {
                    ExperimentSpec v = spec;
                    v.parallel.tp = tp;
                    v.parallel.dp = dp;
                    v.parallel.micro_batches = mb;
                    v.launch.np = 0;
                    Workload w;
                    try {
                        w = build_workload(v);
                    } catch (const SimError&) {
                        continue;  // a layout this model or batch does not allow
                    }
                    for (const MatmulShape& s : matmul_shapes(v)) {
                        widths.insert({s.inner, s.cols});
                        rows.insert(s.rows);
                    }
                    for (const KindShape& k : kind_shapes(v)) kinds.insert(k.arg());
                    for (const StageWork& sw : w.stages) {
                        const auto flat = static_cast<std::size_t>(std::llround(sw.flat_elems));
                        const std::size_t nb = models::bucket_count(flat, w.bucket_elems);
                        for (std::size_t k = 0; k < nb;
                             k += std::max<std::size_t>(1, nb - 1))  // the first and the last
                            sizes.insert(static_cast<std::int64_t>(
                                             models::bucket_range(flat, w.bucket_elems, k).size()) *
                                         4);
                        for (const LayerWork& L : sw.layers)
                            if (L.tp_fwd_bytes > 0)
                                sizes.insert(static_cast<std::int64_t>(L.tp_fwd_bytes));
                    }
                }
    }
    return {{widths.begin(), widths.end()},
            {rows.begin(), rows.end()},
            {sizes.begin(), sizes.end()},
            {kinds.begin(), kinds.end()}};
}

namespace {
// log-log interpolation of y(x) over points sorted by x, clamped at the ends.
double loglog(const std::vector<std::pair<double, double>>& xy, double x) {
    if (xy.size() == 1 || x <= xy.front().first) return xy.front().second;
    if (x >= xy.back().first) return xy.back().second;
    const auto hi = std::upper_bound(xy.begin(), xy.end(), x, [](double v, const auto& p) { return v < p.first; });
    const auto lo = hi - 1;
    const double f = std::log(x / lo->first) / std::log(hi->first / lo->first);
    return std::exp(std::log(lo->second) + f * std::log(hi->second / lo->second));
}
}  // namespace

double calibrated_matmul_rate(const CalibratedCompute& c, double rows, double inner, double cols) {
    if (c.matmul.empty()) throw std::invalid_argument("no calibrated matrix-product rates");
    // One rate-by-rows curve per measured (inner, cols).
    std::map<std::pair<double, double>, std::vector<std::pair<double, double>>> curves;
    for (const auto& p : c.matmul) curves[{p.inner, p.cols}].push_back({p.rows, p.flop_per_s});
    for (auto& [k, v] : curves) std::sort(v.begin(), v.end());
    if (auto it = curves.find({inner, cols}); it != curves.end()) return loglog(it->second, rows);
    // Between the curves of the nearest smaller and larger inner*cols (ties: the nearer aspect).
    const double q = std::log(inner * cols), aspect = std::log(inner / cols);
    const std::vector<std::pair<double, double>>* below = nullptr;
    const std::vector<std::pair<double, double>>* above = nullptr;
    double kb = 0, ka = 0, ab = 0, aa = 0;
    for (const auto& [k, v] : curves) {
        const double key = std::log(k.first * k.second), asp = std::abs(std::log(k.first / k.second) - aspect);
        if (key <= q && (!below || key > kb || (key == kb && asp < ab))) below = &v, kb = key, ab = asp;
        if (key >= q && (!above || key < ka || (key == ka && asp < aa))) above = &v, ka = key, aa = asp;
    }
    if (!below) return loglog(*above, rows);
    if (!above) return loglog(*below, rows);
    const double rb = loglog(*below, rows), ra = loglog(*above, rows);
    if (ka == kb) return rb;
    const double f = (q - kb) / (ka - kb);
    return std::exp(std::log(rb) + f * std::log(ra / rb));
}

double calibrated_bytes_rate(const std::vector<BytesRate>& points, double bytes) {
    if (points.empty()) throw std::invalid_argument("no calibrated rates by bytes");
    std::vector<std::pair<double, double>> xy;
    for (const auto& p : points) xy.push_back({p.bytes, p.bytes_per_s});
    std::sort(xy.begin(), xy.end());
    return loglog(xy, bytes);
}

double calibrated_kind_seconds(const CalibratedCompute& c, const KindShape& k) {
    auto size = [](const auto& dims) {
        double p = 1;
        for (auto d : dims) p *= static_cast<double>(d);
        return p;
    };
    const double x = size(k.dims);
    std::vector<std::pair<double, double>> xy;  // (size, seconds per unit of size)
    for (const KindPoint& p : c.kinds) {
        if (p.kind != k.kind) continue;
        bool same = p.dims.size() == k.dims.size();
        for (std::size_t i = 0; same && i < p.dims.size(); ++i) same = p.dims[i] == k.dims[i];
        if (same) return p.seconds;
        xy.push_back({size(p.dims), p.seconds / size(p.dims)});
    }
    if (xy.empty() || !(x > 0)) return -1;
    std::sort(xy.begin(), xy.end());
    return x * loglog(xy, x);
}

std::string calibration_label(const Hardware& hw) {
    return "calibrated on " + (hw.measured_host.empty() ? std::string("an unnamed host") : hw.measured_host) + " at " +
           (hw.measured_date.empty() ? std::string("an unknown date") : hw.measured_date);
}

ComputeRates rates_from_calibration(const ExperimentSpec& spec, const Hardware& hw) {
    if (!hw.classes.present())
        throw SimError(
            hw.name +
            ": the hardware file holds no calibrated compute classes (compute_classes): run "
            "`scalescope-cli calibrate -o HW.json` again, or fit the rates on a recorded run");
    const CalibratedCompute& c = hw.classes;
    ComputeRates R;
    // Matrix products: the time-weighted (harmonic) mean over the spec's shapes (seconds in units
    // of the forward: the calibrated rate is of forward + backward at 3x the forward's FLOPs).
    const std::vector<MatmulShape> shapes = matmul_shapes(spec);
    double flops = 0, secs = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        const MatmulShape& s = shapes[i];
        const double r = calibrated_matmul_rate(c, s.rows, s.inner, s.cols);
        flops += s.weight;
        secs += s.weight / r;
        if (i == 0 &&
            spec.model.kind != "gpt")  // the MLP's first layer: forward + dW only (models/mlp.cpp)
            secs -= (1.0 / 3) * 2.0 * s.rows * s.inner * s.cols / r;
        R.matmul_rows = s.rows;  // every linear product of a micro-batch has the same rows
    }
    const Workload w = build_workload(spec);
    bool kinds = !c.kinds.empty();
    const std::vector<KindShape> ks = kinds ? kind_shapes(spec) : std::vector<KindShape>{};
    double kind_s = 0, att_flops = 0, att_s = 0;
    for (const KindShape& k : ks) {
        const double t = calibrated_kind_seconds(c, k);
        if (t < 0) {
            kinds = false;  // a kind not measured: the classes alone (an older calibration)
            break;
        }
        if (k.kind == "attention") {
            const double b = k.dims[0], T = k.dims[1], C = k.dims[2];
            att_flops += k.count * 2 * b * C * T * (T + 1);  // the workload's count (gpt_block)
            att_s += k.count * t / 3;                        // in units of the forward, as above
        } else {
            kind_s += k.count * t;
        }
    }
    if (kinds) {
        flops += att_flops;
        secs += att_s;
    }
    R.matmul_flop_per_s = flops / secs;
    // Element-wise: each layer's element-wise bytes over its element-wise calls (its kernels less
    // its matrix products: 4 linear + attention in a GPT block, 1 in the head or an MLP linear).
    double bytes = 0, bsecs = 0, opt_params = 0, kind_bytes = 0;
    for (const StageWork& sw : w.stages) {
        opt_params = std::max(opt_params, sw.params / (w.zero ? w.dp : 1));
        for (const LayerWork& L : sw.layers)
            for (auto [b, k] :
                 {std::pair{L.fwd_bytes, L.fwd_kernels}, std::pair{L.bwd_bytes, L.bwd_kernels}}) {
                if (!(b > 0)) continue;
                bytes += b;
                if (kinds && L.name != "embedding") {  // timed by the kinds
                    kind_bytes += b;
                    continue;
                }
                const int mm = L.fwd_flops > 0 ? (L.name.rfind("block", 0) == 0 ? 5 : 1) : 0;
                const double per_call = b / std::max(1, k - mm);
                bsecs += b / calibrated_bytes_rate(c.elementwise, per_call);
            }
    }
    if (kinds && kind_bytes > 0) bsecs += kind_s;
    R.memory_bytes_per_s =
        bytes > 0 && bsecs > 0 ? bytes / bsecs : calibrated_bytes_rate(c.elementwise, 1 << 20);
    R.optimizer_bytes_per_s =
        calibrated_bytes_rate(c.optimizer, std::max(1.0, opt_params * 8 * 4.0));
    R.kernel_overhead_s = c.kernel_overhead_s;
    R.source = calibration_label(hw);
    if (const ComputeContext* cx = context_for(c, spec)) {
        R.matmul_flop_per_s /= cx->compute_factor;
        R.memory_bytes_per_s /= cx->compute_factor;
        R.kernel_overhead_s *= cx->compute_factor;
        R.optimizer_bytes_per_s /= cx->optimizer_factor;
        R.data_s_per_sample = cx->data_s_per_sample;
        R.step_overhead_s = cx->step_overhead_s;
        char f[96];
        std::snprintf(f, sizeof f, "compute x%.3f, optimizer x%.3f", cx->compute_factor, cx->optimizer_factor);
        R.source += "; in the trainer's context (" + std::string(f) + ") from " + cx->run;
    }
    return R;
}

const ComputeContext* context_for(const CalibratedCompute& c, const ExperimentSpec& spec) {
    const double params = static_cast<double>(param_count(spec.model));
    const ComputeContext* best = nullptr;
    double dist = 0;
    for (const ComputeContext& cx : c.context) {
        if (cx.model != spec.model.kind) continue;
        const double d = cx.params > 0 && params > 0 ? std::abs(std::log(cx.params / params)) : 1e9;
        if (!best || d < dist) best = &cx, dist = d;
    }
    return best;
}

ComputeContext context_from_run(traces::TraceReader& rd, traces::RunId run_id, const Hardware& hw) {
    const traces::RunInfo run = rd.run(run_id);
    const std::string label = "run " + std::to_string(run.id.value) + " (" + run.name + ") of " + rd.path();
    if (run.status != traces::RunStatus::Completed)
        throw SimError(label + " did not complete: no context for the calibrated classes");
    if (run.world_size != 1) throw SimError(label + " has " + std::to_string(run.world_size) + " ranks; the context run is single-rank");
    const ExperimentSpec spec = run_spec(run);
    Hardware bare = hw;
    bare.classes.context.clear();
    SimOptions opt;
    opt.rates = rates_from_calibration(spec, bare);
    const SimResult pred = simulate_analytic(build_workload(spec), bare, opt);
    const RunAnalysis an = analyze_run(rd, run_id);
    const auto part = [](const Breakdown& b, Part p) { return b.part(p) * 1e-9; };
    const double pc = part(pred.breakdown, Part::Compute), po = part(pred.breakdown, Part::Optimizer);
    const double mc = part(an.overall, Part::Compute), mo = part(an.overall, Part::Optimizer);
    if (!(pc > 0) || !(mc > 0)) throw SimError(label + ": no compute measured or predicted to compare");
    ComputeContext cx;
    cx.model = spec.model.kind;
    cx.key = validation_point_key(spec);
    cx.params = static_cast<double>(param_count(spec.model));
    cx.compute_factor = mc / pc;
    cx.optimizer_factor = po > 0 && mo > 0 ? mo / po : 1.0;
    cx.data_s_per_sample = part(an.overall, Part::Data) / std::max(1, spec.training.global_batch);
    cx.step_overhead_s = part(an.overall, Part::OtherHost);
    cx.run = label;
    return cx;
}

SimOptions with_calibrated_rates(const ExperimentSpec& spec, const Hardware& hw, const SimOptions& opt) {
    if (opt.rates || !hw.classes.present()) return opt;
    SimOptions o = opt;
    o.rates = rates_from_calibration(spec, hw);
    return o;
}

std::string compute_rates_source(const Hardware& hw) {
    return hw.classes.present() ? calibration_label(hw) : rates_from_hardware(hw).source;
}

// ---- α-β from a recorded run ----

std::vector<CollectiveSample> collective_samples_from_trace(traces::TraceReader& rd, traces::RunId run_id) {
    using traces::Collective;
    using traces::Event;
    using traces::EventKind;
    const traces::RunInfo run = rd.run(run_id);
    const std::string label = "run " + std::to_string(run.id.value) + " (" + run.name + ")";
    bool overlap = true;
    int dp = run.dp;
    try {
        const ExperimentSpec spec = run_spec(run);
        overlap = spec.parallel.overlap;
        dp = spec.parallel.dp;
    } catch (const SimError&) {
        // a run without a readable spec: its DP reductions are taken as non-blocking (the default)
    }
    std::vector<Event> evs;
    rd.scan_events(run_id, [&](const Event& e) {
        if (e.kind == EventKind::Comm && e.collective != Collective::None && e.collective != Collective::Barrier &&
            e.bytes > 0 && e.end_ns > e.start_ns)
            evs.push_back(e);
    });
    if (evs.empty())
        throw SimError(label + " has no collectives with bytes in " + rd.path() +
                       " (a single-rank run, or a trace recorded without communication events)");
    // Effective start: a call starts when its group's previous call on that rank ended.
    std::sort(evs.begin(), evs.end(), [](const Event& a, const Event& b) {
        return std::tie(a.rank, a.group_kind, a.group_id, a.start_ns) < std::tie(b.rank, b.group_kind, b.group_id, b.start_ns);
    });
    std::vector<std::int64_t> eff(evs.size());
    for (std::size_t i = 0; i < evs.size(); ++i) {
        eff[i] = evs[i].start_ns;
        auto is_p2p = [](const Event& e) { return e.collective == Collective::Send || e.collective == Collective::Recv; };
        const bool same = i > 0 && evs[i - 1].rank == evs[i].rank && evs[i - 1].group_kind == evs[i].group_kind &&
                          evs[i - 1].group_id == evs[i].group_id && !is_p2p(evs[i - 1]);
        const bool p2p = is_p2p(evs[i]);
        if (same && !p2p) eff[i] = std::max(eff[i], evs[i - 1].end_ns);
    }
    struct Inst {
        Collective c = Collective::None;
        traces::GroupKind g = traces::GroupKind::None;
        std::int64_t bytes = 0, size = 0, last_start = 0, first_end = 0;
        int members = 0;
    };
    std::map<std::tuple<int, std::int64_t, std::int64_t, std::int64_t>, Inst> inst;  // (group kind, id, seq, -)
    for (std::size_t i = 0; i < evs.size(); ++i) {
        const Event& e = evs[i];
        std::tuple<int, std::int64_t, std::int64_t, std::int64_t> key;
        if (e.collective == Collective::Send || e.collective == Collective::Recv) {
            const std::int64_t from = e.collective == Collective::Send ? e.rank : e.peer;
            const std::int64_t to = e.collective == Collective::Send ? e.peer : e.rank;
            key = {-1, from * 1000003 + to, e.seq, 0};
        } else {
            key = {static_cast<int>(e.group_kind), e.group_id, e.seq, 0};
        }
        auto [it, fresh] = inst.try_emplace(key);
        Inst& in = it->second;
        if (fresh) {
            in.c = e.collective == Collective::Recv ? Collective::Send : e.collective;
            in.g = e.group_kind;
            in.bytes = e.bytes;
            in.size = e.collective == Collective::Send || e.collective == Collective::Recv ? 2 : e.group_size;
            in.last_start = eff[i];
            in.first_end = e.end_ns;
        } else {
            in.last_start = std::max(in.last_start, eff[i]);
            // p2p: the transfer ends when the receive does
            if (e.collective == Collective::Recv) in.first_end = e.end_ns;
            else if (e.collective != Collective::Send) in.first_end = std::min(in.first_end, e.end_ns);
        }
        ++in.members;
    }
    std::vector<CollectiveSample> out;
    for (const auto& [key, in] : inst) {
        if (in.size < 2 || in.members != in.size || in.first_end <= in.last_start) continue;
        std::string name;
        switch (in.c) {
            case Collective::AllReduce: name = "all_reduce"; break;
            case Collective::ReduceScatter: name = "reduce_scatter"; break;
            case Collective::AllGather: name = "all_gather"; break;
            case Collective::Broadcast: name = "broadcast"; break;
            case Collective::Send: name = "send_recv"; break;
            default: continue;
        }
        if (in.g == traces::GroupKind::DP && overlap && dp > 1 && (name == "all_reduce" || name == "reduce_scatter"))
            name = "i" + name;
        out.push_back({name, static_cast<int>(in.size), in.bytes, static_cast<double>(in.first_end - in.last_start) * 1e-9, 1});
    }
    if (out.empty())
        throw SimError(label + ": none of its " + std::to_string(evs.size()) +
                       " communication events forms a complete collective (every member of the group recorded)");
    return out;
}

std::vector<TraceFit> fit_trace_collectives(const std::vector<CollectiveSample>& samples,
                                            std::vector<std::string>& problems) {
    std::map<std::pair<std::string, int>, std::vector<CollectiveSample>> by;
    std::map<std::string, std::vector<CollectiveSample>> pooled;
    for (const auto& s : samples) {
        by[{s.collective, s.p}].push_back(s);
        pooled[s.collective].push_back(s);
    }
    auto sizes_of = [](const std::vector<CollectiveSample>& v) {
        std::set<std::int64_t> sizes;
        for (const auto& s : v) sizes.insert(s.bytes);
        return sizes;
    };
    std::vector<TraceFit> out;
    std::set<std::string> fitted;
    for (const auto& [key, v] : by) {
        const auto sizes = sizes_of(v);
        if (sizes.size() < 2) continue;
        TraceFit f;
        f.p = key.second;
        f.fit = fit_alpha_beta(key.first, v);
        f.spread = sample_spread(v);
        out.push_back(std::move(f));
        fitted.insert(key.first);
    }
    // A collective recorded on several group sizes: one fit over all of them (the cost terms carry
    // p), the one the hardware file keeps; it also fits one whose every group size has one size only.
    for (const auto& [c, v] : pooled) {
        std::set<int> ps;
        for (const auto& s : v) ps.insert(s.p);
        const auto sizes = sizes_of(v);
        if (ps.size() > 1 && sizes.size() >= 2) {
            TraceFit f;
            f.p = 0;
            f.fit = fit_alpha_beta(c, v);
            f.spread = sample_spread(v);
            out.push_back(std::move(f));
            fitted.insert(c);
        }
        for (int p : ps) {
            const auto& g = by[{c, p}];
            const auto gs = sizes_of(g);
            if (gs.size() >= 2) continue;
            problems.push_back(c + " p=" + std::to_string(p) + ": " + std::to_string(g.size()) + " call(s) of one size only (" +
                               std::to_string(*gs.begin()) + " bytes): alpha and beta cannot be told apart (beta is "
                               "unidentifiable)" +
                               (fitted.count(c) ? std::string("; fitted with the other group sizes of ") + c
                                                : "; record a run with calls of several sizes (e.g. a smaller "
                                                  "parallel.bucket_mb, or another model)"));
        }
    }
    return out;
}

nlohmann::json hardware_from_trace(const nlohmann::json& base, const std::vector<TraceFit>& fits,
                                   const std::string& trace_path, const traces::RunInfo& run) {
    using nlohmann::json;
    json hw = base.is_object() ? base : json::object();
    if (!hw.contains("collectives") || !hw["collectives"].is_object()) hw["collectives"] = json::object();
    json per_group = json::array();
    std::map<std::string, int> largest;
    for (const TraceFit& f : fits) {
        json spread = json::array();
        for (const auto& sp : f.spread)
            spread.push_back({{"p", sp.p}, {"bytes", sp.bytes}, {"calls", sp.repeats}, {"median_s", sp.median_s}, {"min_s", sp.min_s},
                              {"max_s", sp.max_s}});
        json q = {{"alpha_s", f.fit.alpha_s},
                  {"beta_s_per_byte", f.fit.beta_s_per_byte},
                  {"bus_bandwidth_bytes_per_s", f.fit.beta_s_per_byte > 0 ? 1.0 / f.fit.beta_s_per_byte : 0.0},
                  {"fit_method", f.fit.method},
                  {"fit_rel_rms", f.fit.rel_rms},
                  {"fit_r2", f.fit.r2},
                  {"samples", f.fit.samples},
                  {"dropped", f.fit.dropped},
                  {"alpha_clamped_to_zero", f.fit.alpha_clamped}};
        json g = q;
        g["collective"] = f.fit.collective;
        g["p"] = f.p;
        g["measurements"] = spread;
        per_group.push_back(g);
        // The collectives the simulator reads: per collective the fit over all its group sizes (p = 0)
        // where there is one, else the fit of its largest group.
        const int rank_of = f.p == 0 ? 1 << 30 : f.p;
        if (rank_of >= largest[f.fit.collective]) {
            largest[f.fit.collective] = rank_of;
            if (hw["collectives"].contains(f.fit.collective) && hw["collectives"][f.fit.collective].contains("transport"))
                q["transport"] = hw["collectives"][f.fit.collective]["transport"];
            hw["collectives"][f.fit.collective] = q;
        }
    }
    hw["from_trace"] = {{"file", trace_path},
                        {"run", run.id.value},
                        {"run_name", run.name},
                        {"fits", per_group},
                        {"method", "one sample per collective instance: last member's start (a call starts when its "
                                   "group's previous call ended) to first member's end; " +
                                       std::string(AlphaBeta::kFitMethod) + " per collective and group size"}};
    const std::string src = "collectives fitted on run " + std::to_string(run.id.value) + " of " + trace_path;
    hw["source"] = hw.contains("source") && hw["source"].is_string() && !hw["source"].get<std::string>().empty()
                       ? hw["source"].get<std::string>() + "; " + src
                       : src;
    if (!hw.contains("format")) hw["format"] = "scalescope-hardware";
    if (!hw.contains("version")) hw["version"] = 1;
    return hw;
}

}  // namespace ss::core

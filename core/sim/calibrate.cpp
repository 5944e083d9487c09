#include "core/sim/calibrate.h"

#include "core/sim/hardware.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
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

AlphaBeta fit_alpha_beta(const std::string& c, const std::vector<CollectiveSample>& samples) {
    AlphaBeta f;
    f.collective = c;
    std::set<std::int64_t> sizes;
    // Weighted normal equations for T = alpha*x1 + beta*x2, weights w = 1/T^2.
    double s11 = 0, s12 = 0, s22 = 0, s1t = 0, s2t = 0;
    for (const auto& s : samples) {
        if (s.collective != c) continue;
        if (!(s.time_s > 0) || !std::isfinite(s.time_s))
            throw std::invalid_argument(c + ": sample of " + std::to_string(s.bytes) +
                                        " bytes has a non-positive time");
        const CostTerms t = cost_terms(c, s.p);
        const double x1 = t.a, x2 = t.b * static_cast<double>(s.bytes), w = 1.0 / (s.time_s * s.time_s);
        s11 += w * x1 * x1;
        s12 += w * x1 * x2;
        s22 += w * x2 * x2;
        s1t += w * x1 * s.time_s;
        s2t += w * x2 * s.time_s;
        sizes.insert(s.bytes);
        ++f.samples;
    }
    if (f.samples < 2 || sizes.size() < 2)
        throw std::invalid_argument(c + ": fitting alpha and beta needs at least 2 samples of "
                                    "different sizes (got " + std::to_string(f.samples) + ")");
    const double det = s11 * s22 - s12 * s12;
    double alpha = det != 0 ? (s1t * s22 - s2t * s12) / det : -1;
    double beta = det != 0 ? (s11 * s2t - s12 * s1t) / det : -1;
    if (alpha < 0) {  // latency below resolution: beta alone (alpha = 0)
        alpha = 0;
        beta = s2t / s22;
        f.alpha_clamped = true;
    }
    if (beta < 0) {  // no size dependence measurable: alpha alone
        beta = 0;
        alpha = s1t / s11;
    }
    f.alpha_s = alpha;
    f.beta_s_per_byte = beta;
    double sq = 0;
    for (const auto& s : samples) {
        if (s.collective != c) continue;
        const CostTerms t = cost_terms(c, s.p);
        const double pred = cost_seconds(t, alpha, beta, static_cast<double>(s.bytes));
        sq += std::pow((pred - s.time_s) / s.time_s, 2);
    }
    f.rel_rms = std::sqrt(sq / f.samples);
    return f;
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
    const std::time_t t = static_cast<std::time_t>(unix_ns / 1000000000LL);
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) throw std::invalid_argument("calibration output: created_unix_ns=" + std::to_string(unix_ns) + " is not a date");
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}
}  // namespace

nlohmann::json hardware_file(const nlohmann::json& raw, bool oversubscribed) {
    using nlohmann::json;
    auto need = [&](const char* key) -> const json& {
        if (!raw.is_object() || !raw.contains(key))
            throw std::invalid_argument(std::string("calibration output lacks '") + key + "'");
        return raw.at(key);
    };
    std::vector<CollectiveSample> samples;
    json measurements = json::array();
    for (const auto& s : need("samples")) {
        CollectiveSample c;
        c.collective = s.at("collective").get<std::string>();
        c.p = s.at("p").get<int>();
        c.bytes = s.at("bytes").get<std::int64_t>();
        c.time_s = s.at("time_s").get<double>();
        c.iterations = s.value("iterations", 0);
        const double algbw = c.time_s > 0 ? static_cast<double>(c.bytes) / c.time_s : 0.0;
        measurements.push_back({{"collective", c.collective},
                                {"p", c.p},
                                {"bytes", c.bytes},
                                {"time_s", c.time_s},
                                {"iterations", c.iterations},
                                {"algbw_bytes_per_s", algbw},
                                {"busbw_bytes_per_s", algbw * busbw_factor(c.collective, c.p)}});
        samples.push_back(std::move(c));
    }
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
    json fits = json::object();
    for (const char* name : kCalibratedCollectives) {
        bool any = false;
        for (const auto& s : samples) any |= s.collective == name;
        if (!any) continue;
        const AlphaBeta f = fit_alpha_beta(name, samples);
        fits[name] = {{"alpha_s", f.alpha_s},
                      {"beta_s_per_byte", f.beta_s_per_byte},
                      {"bus_bandwidth_bytes_per_s", f.beta_s_per_byte > 0 ? 1.0 / f.beta_s_per_byte : 0.0},
                      {"fit_rel_rms", f.rel_rms},
                      {"samples", f.samples},
                      {"alpha_clamped_to_zero", f.alpha_clamped},
                      {"transport", comm}};
    }
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

}  // namespace ss::core

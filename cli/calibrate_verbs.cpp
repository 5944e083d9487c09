#include "cli/calibrate_verbs.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <tuple>

#include "cli/format.h"
#include "cli/verbs.h"
#include "core/sim/calibrate.h"
#include "core/sim/hardware.h"
#include "traces/reader.h"

namespace ss::cli {

using namespace ss::core;
using nlohmann::json;

namespace {

// The hardware document to start from: --hardware (a .json file, or a trace's newest calibration),
// else the calibration stored in the trace itself; null when there is none.
json base_document(const Args& a, traces::TraceReader& rd, std::string& origin) {
    auto from_sqlite = [&](traces::TraceReader& r, const std::string& path) -> json {
        const auto cals = r.calibrations();
        if (cals.empty()) return nullptr;
        origin = path + " (calibration " + std::to_string(cals.back().id.value) + ")";
        json doc = json::parse(cals.back().hardware_json, nullptr, false);
        if (doc.is_discarded()) throw std::runtime_error(origin + " is not JSON");
        return doc;
    };
    if (auto h = a.value("--hardware")) {
        if (h->size() > 7 && h->substr(h->size() - 7) == ".sqlite") {
            traces::TraceReader r(*h);
            json doc = from_sqlite(r, *h);
            if (doc.is_null()) throw UsageError("--hardware " + *h + " holds no calibration");
            return doc;
        }
        std::ifstream f(*h);
        if (!f) throw UsageError("--hardware " + *h + ": cannot read the file");
        std::stringstream ss;
        ss << f.rdbuf();
        json doc = json::parse(ss.str(), nullptr, false, /*ignore_comments=*/true);
        if (doc.is_discarded()) throw UsageError("--hardware " + *h + ": not a JSON document");
        origin = *h;
        return doc;
    }
    return from_sqlite(rd, rd.path());
}

}  // namespace

int calibrate_from_trace(const Args& a) {
    const std::string file = *a.value("--from-trace");
    const Format fmt = parse_format(a.value_or("--format", "table"));
    for (const char* measuring : {"--np", "--sizes", "--iters", "--repeats", "--spec", "--device",
                                  "--comm", "-o", "--output"})
        if (a.value(measuring))
            throw UsageError(std::string(measuring) +
                             " is an option of the measuring calibrate, not of --from-trace "
                             "(which writes with --out HW.json)");
    traces::TraceReader rd(file);
    traces::RunInfo run;
    if (auto r = a.integer("--run")) {
        run = rd.run(traces::RunId(*r));
    } else {
        // The first completed run of more than one rank.
        bool found = false;
        for (const auto& cand : rd.runs())
            if (cand.world_size > 1 && cand.status == traces::RunStatus::Completed) {
                run = cand;
                found = true;
                break;
            }
        if (!found)
            throw std::runtime_error(
                file +
                " holds no completed run of more than one rank: nothing to fit collectives on");
    }
    const std::vector<CollectiveSample> samples = collective_samples_from_trace(rd, run.id);
    std::vector<std::string> problems;
    const std::vector<TraceFit> fits = fit_trace_collectives(samples, problems);
    for (const auto& p : problems)
        std::cerr << "scalescope-cli calibrate: not fitted: " << p << "\n";
    if (fits.empty())
        throw std::runtime_error("run " + std::to_string(run.id.value) + " (" + run.name + ") of " +
                                 file + ": no collective could be fitted (" +
                                 std::to_string(samples.size()) +
                                 " complete collectives; see above)");
    std::string origin;
    const json base = base_document(a, rd, origin);
    std::optional<Hardware> base_hw;
    if (!base.is_null()) base_hw = parse_hardware(base, origin);

    // Per size: the calls' spread; beside it what the base hardware file's model predicts.
    Table m{"measurements",
            {"collective", "p", "size", "bytes", "calls", "median_us", "min_us", "max_us",
             "base_model_us", "base_vs_trace"},
            {}};
    Table f{
        "alpha_beta",
        {"collective", "p", "alpha_us", "beta_ns_per_byte", "bus_bandwidth_GBps", "fit",
         "fit_rel_rms", "fit_r2", "samples", "dropped", "base_alpha_us", "base_bus_bandwidth_GBps"},
        {}};
    std::set<std::tuple<std::string, int, std::int64_t>> shown;
    for (const TraceFit& t : fits) {
        const std::string& c = t.fit.collective;
        const bool nb = c.rfind('i', 0) == 0;
        const auto coll = calibrated_collective(c);
        for (const auto& sp : t.spread) {
            if (!shown.insert({c, sp.p, sp.bytes}).second)
                continue;  // a pooled fit repeats its groups' sizes
            Cell model, ratio;
            if (base_hw && coll) {
                const double pred = collective_time(*base_hw, *coll, GroupPlacement{sp.p, 1, sp.p},
                                                    static_cast<double>(sp.bytes), nb);
                model = pred * 1e6;
                ratio = pred / sp.median_s;
            }
            m.rows.push_back({c, std::int64_t{sp.p}, format_bytes(sp.bytes), sp.bytes,
                              std::int64_t{sp.repeats}, sp.median_s * 1e6, sp.min_s * 1e6,
                              sp.max_s * 1e6, model, ratio});
        }
        Cell ba, bb;
        if (base_hw) {
            const int slot = static_cast<int>(
                std::find(std::begin(kCalibratedCollectives), std::end(kCalibratedCollectives), c) -
                std::begin(kCalibratedCollectives));
            if (slot < kFitSlots) {
                const LinkCost& l = base_hw->intra_fit[static_cast<std::size_t>(slot)];
                if (l.alpha_s > 0 || l.beta_s_per_byte > 0) {
                    ba = l.alpha_s * 1e6;
                    bb = l.beta_s_per_byte > 0 ? 1e-9 / l.beta_s_per_byte : 0.0;
                }
            }
        }
        f.rows.push_back({c, t.p == 0 ? Cell{std::string("all")} : Cell{std::int64_t{t.p}},
                          t.fit.alpha_s * 1e6, t.fit.beta_s_per_byte * 1e9,
                          t.fit.beta_s_per_byte > 0 ? 1e-9 / t.fit.beta_s_per_byte : 0.0,
                          t.fit.method, t.fit.rel_rms, t.fit.r2, std::int64_t{t.fit.samples},
                          std::int64_t{t.fit.dropped}, ba, bb});
    }
    Table src{"source", {"what", "value"}, {}};
    src.rows.push_back({std::string("run"),
                        "run " + std::to_string(run.id.value) + " (" + run.name + ") of " + file});
    src.rows.push_back(
        {std::string("collectives"), std::int64_t{static_cast<std::int64_t>(samples.size())}});
    src.rows.push_back(
        {std::string("base hardware"), base.is_null() ? std::string("none") : origin});
    if (run.oversubscribed) {
        const std::string w =
            "the run was oversubscribed (more ranks than cores): its collective times include the "
            "waits for a core, not only the transfer";
        src.rows.push_back({std::string("warning"), w});
        std::cerr << "scalescope-cli calibrate: warning: " << w << "\n";
    }
    for (const auto& p : problems) src.rows.push_back({std::string("not fitted"), p});
    print_tables({m, f, src}, fmt, std::cout);

    if (auto out = a.value("--out")) {
        if (base.is_null())
            throw UsageError(
                "--out needs the rest of a hardware file (compute, memory): pass --hardware "
                "BASE.json, or "
                "store a calibration in " +
                file + " (scalescope-cli calibrate -o HW.json --trace " + file + ")");
        const json doc = hardware_from_trace(base, fits, file, run);
        parse_hardware(doc, *out);  // what the simulator will read back
        std::ofstream o(*out);
        o << doc.dump(2) << "\n";
        if (!o) throw std::runtime_error("cannot write " + *out + ": " + std::strerror(errno));
        if (fmt == Format::Table)
            std::cout << "hardware file " << *out << " (collectives from run " << run.id.value
                      << ")\n";
    }
    return 0;
}

}  // namespace ss::cli

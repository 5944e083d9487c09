#include "core/sim/hardware.h"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>

#include "traces/reader.h"

namespace ss::core {

using nlohmann::json;
using traces::Collective;

const char* to_string(CollAlgo a) {
    switch (a) {
        case CollAlgo::Ring: return "ring";
        case CollAlgo::Tree: return "tree";
        case CollAlgo::RecursiveDoubling: return "recursive_doubling";
        case CollAlgo::Hierarchical: return "hierarchical";
    }
    return "ring";
}

CollAlgo coll_algo_from_string(const std::string& s) {
    if (s == "ring") return CollAlgo::Ring;
    if (s == "tree") return CollAlgo::Tree;
    if (s == "recursive_doubling") return CollAlgo::RecursiveDoubling;
    if (s == "hierarchical") return CollAlgo::Hierarchical;
    throw HardwareError("topology.algorithm=\"" + s +
                        "\" must be \"ring\", \"tree\", \"recursive_doubling\" or \"hierarchical\"");
}

const char* to_string(DeviceKind k) {
    switch (k) {
        case DeviceKind::Cpu: return "cpu";
        case DeviceKind::Gpu: return "gpu";
        case DeviceKind::Unknown: break;
    }
    return "unknown";
}

const char* to_string(OverlapMode m) { return m == OverlapMode::Streams ? "streams" : "progress"; }

DeviceKind device_kind_from_backend(const std::string& b) {
    // kernels/backend.h Backend::name(): "cuda:<ordinal> (<device>)" or "cpu (OpenBLAS <kernel>, <n> thread[s])";
    // the hardware file's device.kind: "gpu" or "cpu".
    auto starts = [&](const char* p) { return b.rfind(p, 0) == 0; };
    if (starts("cuda") || starts("gpu")) return DeviceKind::Gpu;
    if (starts("cpu")) return DeviceKind::Cpu;
    throw HardwareError("device \"" + b + "\" is neither a GPU (\"gpu\", \"cuda:N (name)\") nor a CPU (\"cpu\", \"cpu (...)\")");
}

double mfu_peak_flop_per_s(const Hardware& hw) {
    if (hw.peak_flop_per_s > 0) return hw.peak_flop_per_s;
    return hw.mm_half_rows > 0 ? hw.flop_per_s * (1 + hw.mm_half_rows / 512.0) : hw.flop_per_s;
}

// ---- Per-precision rates (issue 17) ----
double peak_flops_16bit(const Hardware& hw, const std::string& precision) {
    if (precision == "bf16") return hw.peak_flops_bf16;
    if (precision == "fp16") return hw.peak_flops_fp16;
    return 0;
}

std::string peak_field_16bit(const std::string& precision) { return "compute.peak_flops_" + precision; }

double precision_speedup(const Hardware& hw, const std::string& precision) {
    if (precision != "bf16" && precision != "fp16") return 1;
    const double p16 = peak_flops_16bit(hw, precision), p32 = mfu_peak_flop_per_s(hw);
    return p16 > 0 && p32 > 0 ? p16 / p32 : 0;
}

double mfu_peak_flop_per_s(const Hardware& hw, const std::string& precision) {
    if (precision == "bf16" || precision == "fp16") return peak_flops_16bit(hw, precision);
    return mfu_peak_flop_per_s(hw);
}

std::string iso8601_utc(std::time_t t) {
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string provenance_label(const Hardware& hw) {
    switch (hw.provenance) {
        case Provenance::Measured: return "measured";
        case Provenance::NotMeasured:
            return hw.source.find("datasheet") != std::string::npos ? "datasheet" : "not measured";
        case Provenance::Unknown: break;
    }
    return "measured: unknown";
}

namespace {

const char* kFitNames[kFitSlots] = {"all_reduce", "reduce_scatter", "all_gather", "broadcast",
                                    "send_recv", "iall_reduce", "ireduce_scatter"};

// A link or fit with a figure in it (a calibrate file leaves unmeasured collectives at zero).
bool measured(const LinkCost& l) { return l.alpha_s > 0 || l.beta_s_per_byte > 0; }

// Collects every problem of a document before throwing.
struct Problems {
    std::string origin;
    std::vector<std::string> list;
    void add(const std::string& m) { list.push_back(m); }
    void raise() const {
        if (list.empty()) return;
        std::string msg = origin + ": invalid hardware description:";
        for (const auto& m : list) msg += "\n  " + m;
        throw HardwareError(msg);
    }
};

// A positive finite number at `path` inside `obj`; `required` adds a problem when absent.
double number(const json& obj, const char* key, const std::string& path, Problems& pr,
              bool required, double fallback, bool allow_zero = false) {
    if (!obj.is_object() || !obj.contains(key)) {
        if (required) pr.add(path + " is missing");
        return fallback;
    }
    const json& v = obj.at(key);
    if (!v.is_number()) {
        pr.add(path + " must be a number, got " + v.dump());
        return fallback;
    }
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < 0 || (!allow_zero && x == 0)) {
        pr.add(path + "=" + v.dump() + (allow_zero ? " must be >= 0" : " must be positive"));
        return fallback;
    }
    return x;
}

LinkCost link(const json& obj, const std::string& path, Problems& pr, bool required) {
    LinkCost l;
    if (!obj.is_object()) {
        if (required) pr.add(path + " must be an object {\"alpha_s\", \"beta_s_per_byte\"}");
        return l;
    }
    l.alpha_s = number(obj, "alpha_s", path + ".alpha_s", pr, true, 0, true);
    l.beta_s_per_byte = number(obj, "beta_s_per_byte", path + ".beta_s_per_byte", pr, true, 0, true);
    if (!measured(l))
        pr.add(path + " has alpha_s = beta_s_per_byte = 0 (a free link)");
    return l;
}

std::string transport(const json& v, const std::string& path, Problems& pr) {
    if (v.is_string() && (v == "nccl" || v == "mpi")) return v.get<std::string>();
    pr.add(path + "=" + v.dump() + " must be \"nccl\" or \"mpi\"");
    return {};
}

// device, comm, measured, source, measured_on.
void parse_identity(const json& doc, Hardware& hw, Problems& pr) {
    if (doc.contains("device")) {
        const json& d = doc.at("device");
        try {
            if (d.is_string()) {  // the worker's backend name, as scalescope-calibrate-rank reports it
                hw.device_name = d.get<std::string>();
                hw.device = device_kind_from_backend(hw.device_name);
            } else if (d.is_object() && d.contains("kind") && d.at("kind").is_string()) {
                const std::string k = d.at("kind").get<std::string>();
                if (k != "cpu" && k != "gpu") throw HardwareError("device.kind=\"" + k + "\" must be \"cpu\" or \"gpu\"");
                hw.device = k == "gpu" ? DeviceKind::Gpu : DeviceKind::Cpu;
                hw.device_name = d.value("name", std::string());
                hw.sms = d.value("sms", 0);
                if (hw.sms < 0) throw HardwareError("device.sms=" + std::to_string(hw.sms) + " must be >= 0");
            } else {
                pr.add("device must be an object {\"kind\": \"cpu\"|\"gpu\", \"name\": ...}, got " + d.dump());
            }
        } catch (const HardwareError& e) {
            pr.add(e.what());
        }
    }
    if (doc.contains("comm")) hw.comm = transport(doc.at("comm"), "comm", pr);
    if (doc.contains("measured")) {
        if (doc.at("measured").is_boolean())
            hw.provenance = doc.at("measured").get<bool>() ? Provenance::Measured : Provenance::NotMeasured;
        else
            pr.add("measured must be true or false, got " + doc.at("measured").dump());
    } else if (doc.contains("measurements") && doc.at("measurements").is_array() && !doc.at("measurements").empty()) {
        hw.provenance = Provenance::Measured;  // a `calibrate` output from before the field existed
    }
    if (doc.contains("source")) {
        if (doc.at("source").is_string())
            hw.source = doc.at("source").get<std::string>();
        else
            pr.add("source must be a string, got " + doc.at("source").dump());
    }
    if (doc.contains("measured_on")) {
        const json& on = doc.at("measured_on");
        if (!on.is_object()) {
            pr.add("measured_on must be an object {\"host\", \"date\"}");
        } else {
            for (auto [k, out] : {std::pair{"host", &hw.measured_host}, std::pair{"date", &hw.measured_date}})
                if (on.contains(k)) {
                    if (on.at(k).is_string())
                        *out = on.at(k).get<std::string>();
                    else
                        pr.add(std::string("measured_on.") + k + " must be a string, got " + on.at(k).dump());
                }
        }
        if (hw.provenance == Provenance::NotMeasured)
            pr.add("measured_on is given but measured is false");
    }
}

// overlap: mode, fraction, contention. The mode defaults to streams on a GPU whose collectives
// run on NCCL (or whose transport is not stated), else progress; a measured fraction below 1
// without a stated mode means the host's progress (a GPU on comm "mpi", staged through the host).
void parse_overlap(const json& doc, Hardware& hw, Problems& pr) {
    const bool gpu_streams = hw.device == DeviceKind::Gpu && hw.comm != "mpi";
    hw.overlap_mode = gpu_streams ? OverlapMode::Streams : OverlapMode::Progress;
    if (!doc.contains("overlap")) return;
    const json& ov = doc.at("overlap");
    if (!ov.is_object()) {
        pr.add("overlap must be an object {\"mode\": \"progress\"|\"streams\", \"fraction\": 0..1, \"contention\": 0..1}");
        return;
    }
    bool stated = false;
    if (ov.contains("mode")) {
        const json& m = ov.at("mode");
        if (m == "streams" || m == "progress") {
            hw.overlap_mode = m == "streams" ? OverlapMode::Streams : OverlapMode::Progress;
            stated = true;
        } else {
            pr.add("overlap.mode=" + m.dump() + " must be \"progress\" or \"streams\"");
        }
    }
    hw.overlap = number(ov, "fraction", "overlap.fraction", pr, false, 1, true);
    if (hw.overlap > 1) {
        pr.add("overlap.fraction=" + ov.at("fraction").dump() + " must be between 0 and 1");
        hw.overlap = 1;
    }
    if (hw.overlap < 1 && hw.overlap_mode == OverlapMode::Streams) {
        if (stated)
            pr.add("overlap.fraction=" + ov.at("fraction").dump() +
                   " contradicts overlap.mode \"streams\" (a communication stream moves the whole collective "
                   "while the rank computes: fraction 1)");
        hw.overlap_mode = OverlapMode::Progress;  // measured: the collective does not move on its own
    }
    hw.overlap_contention = number(ov, "contention", "overlap.contention", pr, false, 0, true);
    if (hw.overlap_contention > 1) {
        pr.add("overlap.contention=" + ov.at("contention").dump() +
               " must be between 0 and 1 (seconds of compute lost per second of overlapped communication)");
        hw.overlap_contention = 0;
    }
}

// validation (hardware.h HardwareValidation): the block `simulate --validate --store-band` writes.
void parse_validation(const json& doc, Hardware& hw, Problems& pr) {
    if (!doc.contains("validation")) return;
    const json& v = doc.at("validation");
    if (!v.is_object()) {
        pr.add("validation must be an object (the block `scalescope-cli simulate --validate FILE --store-band` writes)");
        return;
    }
    HardwareValidation& val = hw.validation;
    auto count = [&](const json& o, const char* key, const std::string& path) {
        if (!o.contains(key) || !o.at(key).is_number_integer() || o.at(key).get<int>() < 0) {
            pr.add(path + " must be an integer >= 0");
            return 0;
        }
        return o.at(key).get<int>();
    };
    auto text = [&](const char* key) {
        if (!v.contains(key)) return std::string();
        if (!v.at(key).is_string()) {
            pr.add(std::string("validation.") + key + " must be a string, got " + v.at(key).dump());
            return std::string();
        }
        return v.at(key).get<std::string>();
    };
    val.present = true;
    val.points = count(v, "points", "validation.points");
    val.mean_abs_err = number(v, "mean_abs_error", "validation.mean_abs_error", pr, val.points > 0, 0, true);
    val.max_abs_err = number(v, "max_abs_error", "validation.max_abs_error", pr, false, val.mean_abs_err, true);
    if (v.contains("classes")) {
        const json& cl = v.at("classes");
        if (!cl.is_object()) pr.add("validation.classes must be an object {\"dp\": {\"points\", \"mean_abs_error\"}, ...}");
        else
            for (const auto& [name, c] : cl.items()) {
                const std::string path = "validation.classes." + name;
                if (name != "single" && name != "dp" && name != "tp" && name != "pp" && name != "mixed") {
                    pr.add(path + ": the layout classes are single, dp, tp, pp and mixed");
                    continue;
                }
                if (!c.is_object()) {
                    pr.add(path + " must be an object {\"points\", \"mean_abs_error\", \"max_abs_error\"}");
                    continue;
                }
                ValidationClassError e;
                e.layout_class = name;
                e.points = count(c, "points", path + ".points");
                e.mean_abs_err = number(c, "mean_abs_error", path + ".mean_abs_error", pr, true, 0, true);
                e.max_abs_err = number(c, "max_abs_error", path + ".max_abs_error", pr, false, e.mean_abs_err, true);
                val.classes.push_back(e);
            }
        // The classes in one order (the file's object keys come back sorted by name).
        auto rank = [](const std::string& c) {
            return c == "single" ? 0 : c == "dp" ? 1 : c == "tp" ? 2 : c == "pp" ? 3 : 4;
        };
        std::stable_sort(val.classes.begin(), val.classes.end(),
                         [&](const ValidationClassError& a, const ValidationClassError& b) {
                             return rank(a.layout_class) < rank(b.layout_class);
                         });
    }
    if (v.contains("oversubscribed")) {
        const json& o = v.at("oversubscribed");
        if (!o.is_object()) {
            pr.add("validation.oversubscribed must be an object {\"points\", \"mean_abs_error\"}");
        } else {
            val.points_oversubscribed = count(o, "points", "validation.oversubscribed.points");
            val.mean_abs_err_oversubscribed = number(o, "mean_abs_error", "validation.oversubscribed.mean_abs_error", pr,
                                                     val.points_oversubscribed > 0, 0, true);
        }
    }
    val.statistic = text("statistic");
    if (!val.statistic.empty() && val.statistic != "median" && val.statistic != "best")
        pr.add("validation.statistic=\"" + val.statistic + "\" must be \"median\" or \"best\"");
    val.compute_rates = text("compute_rates");
    val.date = text("date");
    val.host = text("host");
    val.study = text("study");
}

// compute_classes (calibrated compute, helper "calib"): every point positive; an object with the
// three classes, each {"points": [...]}, and the per-kernel overhead.
void parse_classes(const json& doc, Hardware& hw, Problems& pr) {
    if (!doc.contains("compute_classes")) return;
    const json& cc = doc.at("compute_classes");
    if (!cc.is_object()) {
        pr.add("compute_classes must be an object {\"matmul\", \"elementwise\", \"optimizer\", \"kernel_overhead_s\"}");
        return;
    }
    auto points = [&](const char* cls) -> const json* {
        const std::string path = std::string("compute_classes.") + cls + ".points";
        if (!cc.contains(cls) || !cc.at(cls).is_object() || !cc.at(cls).contains("points") ||
            !cc.at(cls).at("points").is_array() || cc.at(cls).at("points").empty()) {
            pr.add(path + " is missing or empty (a list of measured points)");
            return nullptr;
        }
        return &cc.at(cls).at("points");
    };
    if (const json* pts = points("matmul"))
        for (std::size_t i = 0; i < pts->size(); ++i) {
            const json& p = (*pts)[i];
            const std::string at = "compute_classes.matmul.points[" + std::to_string(i) + "]";
            hw.classes.matmul.push_back({number(p, "rows", at + ".rows", pr, true, 1),
                                         number(p, "inner", at + ".inner", pr, true, 1),
                                         number(p, "cols", at + ".cols", pr, true, 1),
                                         number(p, "flop_per_s", at + ".flop_per_s", pr, true, 1)});
        }
    for (auto [cls, out] : {std::pair{"elementwise", &hw.classes.elementwise}, std::pair{"optimizer", &hw.classes.optimizer}})
        if (const json* pts = points(cls))
            for (std::size_t i = 0; i < pts->size(); ++i) {
                const json& p = (*pts)[i];
                const std::string at = std::string("compute_classes.") + cls + ".points[" + std::to_string(i) + "]";
                out->push_back({number(p, "bytes", at + ".bytes", pr, true, 1),
                                number(p, "bytes_per_s", at + ".bytes_per_s", pr, true, 1)});
            }
    hw.classes.kernel_overhead_s =
        number(cc, "kernel_overhead_s", "compute_classes.kernel_overhead_s", pr, false, 0, true);
    if (cc.contains("kinds") && cc.at("kinds").is_object() && cc.at("kinds").contains("points") &&
        cc.at("kinds").at("points").is_array()) {  // optional (calib2: the trainer's kernels per kind)
        const json& pts = cc.at("kinds").at("points");
        for (std::size_t i = 0; i < pts.size(); ++i) {
            const json& p = pts[i];
            const std::string at = "compute_classes.kinds.points[" + std::to_string(i) + "]";
            KindPoint k;
            if (!p.is_object() || !p.contains("kind") || !p.at("kind").is_string() || !p.contains("dims") ||
                !p.at("dims").is_array()) {
                pr.add(at + " needs \"kind\" (a name) and \"dims\" (a list of sizes)");
                continue;
            }
            k.kind = p.at("kind").get<std::string>();
            for (const json& d : p.at("dims")) k.dims.push_back(d.is_number() ? d.get<double>() : 0.0);
            k.seconds = number(p, "seconds", at + ".seconds", pr, true, 0);
            hw.classes.kinds.push_back(std::move(k));
        }
    }
    if (cc.contains("context")) {  // optional: `calibrate --spec` (ComputeContext)
        const json& ctx = cc.at("context");
        if (!ctx.is_array()) {
            pr.add("compute_classes.context must be a list of {\"model\", \"compute_factor\", ...}");
            return;
        }
        for (std::size_t i = 0; i < ctx.size(); ++i) {
            const json& p = ctx[i];
            const std::string at = "compute_classes.context[" + std::to_string(i) + "]";
            if (!p.is_object() || !p.contains("model") || !p.at("model").is_string()) {
                pr.add(at + " needs \"model\" (the model kind its run trained)");
                continue;
            }
            ComputeContext c;
            c.model = p.at("model").get<std::string>();
            c.key = p.value("key", std::string());
            c.run = p.value("run", std::string());
            c.params = number(p, "params", at + ".params", pr, false, 0, true);
            c.compute_factor = number(p, "compute_factor", at + ".compute_factor", pr, true, 0);
            c.optimizer_factor = number(p, "optimizer_factor", at + ".optimizer_factor", pr, true, 0);
            c.data_s_per_sample = number(p, "data_s_per_sample", at + ".data_s_per_sample", pr, false, 0, true);
            c.step_overhead_s = number(p, "step_overhead_s", at + ".step_overhead_s", pr, false, 0, true);
            hw.classes.context.push_back(std::move(c));
        }
    }
}

json classes_json(const CalibratedCompute& c) {
    json mm = json::array(), ew = json::array(), opt = json::array();
    for (const auto& p : c.matmul)
        mm.push_back({{"rows", p.rows}, {"inner", p.inner}, {"cols", p.cols}, {"flop_per_s", p.flop_per_s}});
    for (const auto& p : c.elementwise) ew.push_back({{"bytes", p.bytes}, {"bytes_per_s", p.bytes_per_s}});
    for (const auto& p : c.optimizer) opt.push_back({{"bytes", p.bytes}, {"bytes_per_s", p.bytes_per_s}});
    json out = {{"matmul", {{"points", mm}}},
                {"elementwise", {{"points", ew}}},
                {"optimizer", {{"points", opt}}},
                {"kernel_overhead_s", c.kernel_overhead_s}};
    if (!c.kinds.empty()) {
        json kp = json::array();
        for (const auto& k : c.kinds) kp.push_back({{"kind", k.kind}, {"dims", k.dims}, {"seconds", k.seconds}});
        out["kinds"] = {{"points", kp}};
    }
    if (!c.context.empty()) {
        json cx = json::array();
        for (const auto& k : c.context) cx.push_back(context_json(k));
        out["context"] = cx;
    }
    return out;
}

// collectives.<c> quality fields (optional; `calibrate` writes them).
FitQuality fit_quality(const json& fit) {
    FitQuality q;
    if (!fit.is_object()) return q;
    auto num = [&](const char* k) { return fit.contains(k) && fit.at(k).is_number() ? fit.at(k).get<double>() : 0.0; };
    q.rel_rms = num("fit_rel_rms");
    q.r2 = num("fit_r2");
    q.samples = static_cast<int>(num("samples"));
    q.dropped = static_cast<int>(num("dropped"));
    q.method = fit.contains("fit_method") && fit.at("fit_method").is_string() ? fit.at("fit_method").get<std::string>()
               : fit.contains("fit_rel_rms")                                  ? "weighted-least-squares"
                                                                              : "";
    return q;
}

// One level's calibrated collectives (doc[key], keyed by collective name: `collectives` inside a
// node, `inter_collectives` between nodes): each fit's α/β, quality and transport into the slots;
// an unknown name is a problem. Returns whether any fit was read.
bool parse_fits(const json& doc, const char* key, std::array<LinkCost, kFitSlots>& fits,
                std::array<FitQuality, kFitSlots>& quality, std::array<std::string, kFitSlots>& transports,
                Problems& pr) {
    const json colls = doc.value(key, json::object());
    if (!colls.is_object()) {
        pr.add(std::string(key) + " must be an object keyed by collective name");
        return false;
    }
    bool any = false;
    for (auto it = colls.begin(); it != colls.end(); ++it) {
        const std::string path = std::string(key) + "." + it.key();
        const auto at = std::find_if(std::begin(kFitNames), std::end(kFitNames), [&](const char* n) { return it.key() == n; });
        if (at == std::end(kFitNames)) {
            pr.add(path + " is not a calibrated collective (all_reduce, reduce_scatter, all_gather, broadcast, send_recv, "
                          "iall_reduce, ireduce_scatter)");
            continue;
        }
        const auto i = static_cast<std::size_t>(at - std::begin(kFitNames));
        fits[i] = link(it.value(), path, pr, true);
        quality[i] = fit_quality(it.value());
        if (it.value().is_object() && it.value().contains("transport"))
            transports[i] = transport(it.value().at("transport"), path + ".transport", pr);
        any = true;
    }
    return any;
}

// The same level written back: the measured fits with their quality and transport.
json fits_json(const std::array<LinkCost, kFitSlots>& fits, const std::array<FitQuality, kFitSlots>& quality,
               const std::array<std::string, kFitSlots>& transports) {
    json out = json::object();
    for (std::size_t i = 0; i < fits.size(); ++i) {
        if (!measured(fits[i])) continue;
        json& c = out[kFitNames[i]] = {{"alpha_s", fits[i].alpha_s}, {"beta_s_per_byte", fits[i].beta_s_per_byte}};
        const FitQuality& q = quality[i];
        if (!q.method.empty())
            c.update({{"fit_rel_rms", q.rel_rms}, {"fit_r2", q.r2}, {"samples", q.samples}, {"dropped", q.dropped},
                      {"fit_method", q.method}});
        if (!transports[i].empty()) c["transport"] = transports[i];
    }
    return out;
}

}  // namespace

json to_json(const HardwareValidation& v) {
    json classes = json::object();
    for (const auto& c : v.classes)
        classes[c.layout_class] = {{"points", c.points}, {"mean_abs_error", c.mean_abs_err}, {"max_abs_error", c.max_abs_err}};
    return {{"points", v.points},
            {"mean_abs_error", v.mean_abs_err},
            {"max_abs_error", v.max_abs_err},
            {"classes", classes},
            {"oversubscribed", {{"points", v.points_oversubscribed}, {"mean_abs_error", v.mean_abs_err_oversubscribed}}},
            {"statistic", v.statistic},
            {"compute_rates", v.compute_rates},
            {"date", v.date},
            {"host", v.host},
            {"study", v.study}};
}

Hardware parse_hardware(const json& doc, const std::string& origin) {
    Problems pr{origin, {}};
    Hardware hw;
    if (!doc.is_object()) throw HardwareError(origin + ": a hardware description must be a JSON object");
    if (doc.value("format", std::string()) != "scalescope-hardware")
        pr.add("format must be \"scalescope-hardware\" (the file `scalescope-cli calibrate -o` writes), got " +
               (doc.contains("format") ? doc.at("format").dump() : std::string("nothing")));
    if (doc.contains("version") && doc.at("version") != 1)
        pr.add("version=" + doc.at("version").dump() + " is not supported (this build reads version 1)");
    hw.name = doc.value("name", std::string());
    if (doc.contains("warnings") && doc.at("warnings").is_array())
        for (const auto& w : doc.at("warnings"))
            if (w.is_string()) hw.warnings.push_back(w.get<std::string>());
    if (doc.contains("sources") && doc.at("sources").is_array())
        for (const auto& s : doc.at("sources"))
            if (s.is_string()) hw.sources.push_back(s.get<std::string>());

    parse_identity(doc, hw, pr);

    const json compute = doc.value("compute", json::object());
    const json memory = doc.value("memory", json::object());
    hw.flop_per_s = number(compute, "sgemm_flops", "compute.sgemm_flops", pr, true, 0);
    hw.peak_flop_per_s = number(compute, "peak_flops", "compute.peak_flops", pr, false, 0, true);
    hw.kernel_overhead_s = number(compute, "kernel_overhead_s", "compute.kernel_overhead_s", pr, false, 0, true);
    if (compute.is_object() && compute.contains("linear_rows")) {
        const json& lr = compute.at("linear_rows");
        if (!lr.is_object())
            pr.add("compute.linear_rows must be an object {\"half_rows\": rows}");
        else
            hw.mm_half_rows = number(lr, "half_rows", "compute.linear_rows.half_rows", pr, false, 0, true);
    }
    // Per-precision peaks (issue 17)
    hw.peak_flops_bf16 = number(compute, "peak_flops_bf16", "compute.peak_flops_bf16", pr, false, 0, true);
    hw.peak_flops_fp16 = number(compute, "peak_flops_fp16", "compute.peak_flops_fp16", pr, false, 0, true);
    hw.mem_bw_bytes_per_s = number(memory, "bandwidth_bytes_per_s", "memory.bandwidth_bytes_per_s", pr, true, 0);
    hw.memory_bytes = number(memory, "capacity_bytes", "memory.capacity_bytes", pr, false, 0, true);
    parse_overlap(doc, hw, pr);
    parse_validation(doc, hw, pr);
    parse_classes(doc, hw, pr);

    // Calibrated collectives (the `calibrate` fits): inside a node, and between nodes (`calibrate
    // --hostfile`: one rank per host).
    const bool any_fit = parse_fits(doc, "collectives", hw.intra_fit, hw.fit_quality, hw.fit_transport, pr);
    const bool any_inter_fit = parse_fits(doc, "inter_collectives", hw.inter_fit, hw.inter_fit_quality,
                                          hw.inter_fit_transport, pr);

    const bool has_topo = doc.contains("topology");
    const json topo = doc.value("topology", json::object());
    if (has_topo && !topo.is_object()) pr.add("topology must be an object");
    hw.calibrated = !has_topo || doc.value("calibrated", false);
    if (has_topo) {
        hw.devices_per_node = static_cast<int>(number(topo, "devices_per_node", "topology.devices_per_node", pr, true, 1));
        hw.cores_per_node = static_cast<int>(number(topo, "cores_per_node", "topology.cores_per_node", pr, false, 0, true));
        if (topo.contains("algorithm")) {
            if (!topo.at("algorithm").is_string())
                pr.add("topology.algorithm must be a string");
            else
                try {
                    hw.algorithm = coll_algo_from_string(topo.at("algorithm").get<std::string>());
                } catch (const HardwareError& e) {
                    pr.add(e.what());
                }
        }
        if (topo.contains("intra")) hw.intra = link(topo.at("intra"), "topology.intra", pr, true);
        if (topo.contains("inter")) hw.inter = link(topo.at("inter"), "topology.inter", pr, true);
        if (!topo.contains("intra") && !any_fit)
            pr.add("topology.intra is missing (and no calibrated collectives give the intra-node link)");
        if (!topo.contains("inter")) {
            hw.inter = hw.intra;
            for (const LinkCost& f : hw.inter_fit)  // the calibrated inter-node all-reduce, else the first fit
                if (measured(f)) {
                    hw.inter = f;
                    break;
                }
        }
        if (doc.value("oversubscribed", false))
            pr.add("this calibration ran oversubscribed (more ranks than cores): its α/β are contended; "
                   "calibrate with at most one rank per core");
    } else {
        if (any_inter_fit)
            pr.add("inter_collectives needs a topology (devices_per_node: the ranks per node the inter-node fits "
                   "were measured between)");
        // A `calibrate` file: this machine, one node holding every rank.
        if (!any_fit) pr.add("collectives is empty: a calibrate file needs at least the all_reduce fit");
        const int ranks = doc.value("ranks", 0);
        hw.devices_per_node = 1 << 20;  // one node: every simulated rank lands on it
        // GPU ranks compute on their devices: the host's cores do not limit them (no
        // oversubscription model); CPU ranks share the calibration's cores.
        hw.cores_per_node = hw.device == DeviceKind::Gpu ? 0
                            : doc.contains("cores") && doc.at("cores").is_number_integer()
                                ? doc.at("cores").get<int>()
                                : std::max(ranks, 1);
        if (doc.value("oversubscribed", false))
            pr.add("this calibration ran oversubscribed (more ranks than cores): its α/β are contended; "
                   "calibrate with at most one rank per core");
        if (hw.name.empty()) {
            std::string host;
            if (doc.contains("hosts") && doc.at("hosts").is_array() && !doc.at("hosts").empty() &&
                doc.at("hosts")[0].is_string())
                host = doc.at("hosts")[0].get<std::string>();
            hw.name = "this machine (calibrated, " + std::to_string(ranks) + " ranks" +
                      (host.empty() ? "" : " on " + host) +
                      (hw.device == DeviceKind::Gpu && !hw.device_name.empty() ? ", " + hw.device_name : "") +
                      (hw.device == DeviceKind::Gpu && !hw.comm.empty() ? ", " + hw.comm : "") + ")";
        }
    }
    // The intra-node link: given, else the calibrated all-reduce (its α is per ring step, its β is
    // 1 / bus bandwidth: exactly the link parameters of the ring formula).
    if (!measured(hw.intra)) {
        for (int i = 0; i < kFitSlots; ++i) {
            const LinkCost& f = hw.intra_fit[static_cast<std::size_t>(i)];
            if (measured(f)) {
                hw.intra = f;
                break;
            }
        }
        if (!has_topo) hw.inter = hw.intra;
    }
    pr.raise();
    return hw;
}

Hardware load_hardware(const std::string& path) {
    const bool sqlite = path.size() > 7 && path.substr(path.size() - 7) == ".sqlite";
    if (sqlite) {
        traces::TraceReader rd(path);
        auto cals = rd.calibrations();
        if (cals.empty())
            throw HardwareError(path + ": the trace file holds no calibration (run `scalescope-cli calibrate -o HW.json --trace " +
                                path + "`)");
        const auto& c = cals.back();
        json doc = json::parse(c.hardware_json, nullptr, false);
        if (doc.is_discarded())
            throw HardwareError(path + ": calibration " + std::to_string(c.id.value) + " is not JSON");
        return parse_hardware(doc, path + " (calibration " + std::to_string(c.id.value) + ")");
    }
    std::ifstream f(path);
    if (!f) throw HardwareError(path + ": cannot read the hardware file");
    std::stringstream ss;
    ss << f.rdbuf();
    json doc = json::parse(ss.str(), nullptr, false, /*ignore_comments=*/true);
    if (doc.is_discarded()) throw HardwareError(path + ": not a JSON document");
    return parse_hardware(doc, path);
}

json to_json(const Hardware& hw) {
    const json colls = fits_json(hw.intra_fit, hw.fit_quality, hw.fit_transport);
    const json inter_colls = fits_json(hw.inter_fit, hw.inter_fit_quality, hw.inter_fit_transport);
    json doc = {{"format", "scalescope-hardware"},
                {"version", 1},
                {"name", hw.name},
                {"sources", hw.sources},
                {"calibrated", hw.calibrated},
                {"compute",
                 {{"sgemm_flops", hw.flop_per_s},
                  {"kernel_overhead_s", hw.kernel_overhead_s},
                  {"linear_rows", {{"half_rows", hw.mm_half_rows}}}}},
                {"memory", {{"bandwidth_bytes_per_s", hw.mem_bw_bytes_per_s}, {"capacity_bytes", hw.memory_bytes}}},
                {"overlap",
                 {{"mode", to_string(hw.overlap_mode)}, {"fraction", hw.overlap}, {"contention", hw.overlap_contention}}},
                {"collectives", colls},
                {"topology",
                 {{"devices_per_node", hw.devices_per_node},
                  {"cores_per_node", hw.cores_per_node},
                  {"algorithm", to_string(hw.algorithm)},
                  {"intra", {{"alpha_s", hw.intra.alpha_s}, {"beta_s_per_byte", hw.intra.beta_s_per_byte}}},
                  {"inter", {{"alpha_s", hw.inter.alpha_s}, {"beta_s_per_byte", hw.inter.beta_s_per_byte}}}}}};
    if (!inter_colls.empty()) doc["inter_collectives"] = inter_colls;
    if (hw.peak_flop_per_s > 0) doc["compute"]["peak_flops"] = hw.peak_flop_per_s;
    if (hw.peak_flops_bf16 > 0) doc["compute"]["peak_flops_bf16"] = hw.peak_flops_bf16;  // per-precision peaks
    if (hw.peak_flops_fp16 > 0) doc["compute"]["peak_flops_fp16"] = hw.peak_flops_fp16;
    if (hw.device != DeviceKind::Unknown) doc["device"] = {{"kind", to_string(hw.device)}, {"name", hw.device_name}};
    if (hw.sms > 0) doc["device"]["sms"] = hw.sms;
    if (!hw.comm.empty()) doc["comm"] = hw.comm;
    if (hw.classes.present()) doc["compute_classes"] = classes_json(hw.classes);
    if (hw.provenance != Provenance::Unknown) doc["measured"] = hw.provenance == Provenance::Measured;
    if (!hw.source.empty()) doc["source"] = hw.source;
    if (!hw.measured_host.empty() || !hw.measured_date.empty())
        doc["measured_on"] = {{"host", hw.measured_host}, {"date", hw.measured_date}};
    if (hw.validation.present) doc["validation"] = to_json(hw.validation);
    return doc;
}

Hardware scaled(const Hardware& hw, const HardwareScale& k) {
    if (!(k.compute > 0) || !(k.bandwidth > 0) || !(k.latency > 0))
        throw HardwareError("what-if factors must be positive: compute x" + std::to_string(k.compute) +
                            ", bandwidth x" + std::to_string(k.bandwidth) + ", latency x" +
                            std::to_string(k.latency));
    Hardware h = hw;
    h.flop_per_s *= k.compute;
    h.peak_flop_per_s *= k.compute;
    h.peak_flops_bf16 *= k.compute;  // per-precision peaks
    h.peak_flops_fp16 *= k.compute;
    h.mem_bw_bytes_per_s *= k.compute;
    auto sc = [&](LinkCost& l) {
        l.alpha_s *= k.latency;
        l.beta_s_per_byte /= k.bandwidth;
    };
    sc(h.intra);
    sc(h.inter);
    for (auto& f : h.intra_fit) sc(f);
    for (auto& f : h.inter_fit) sc(f);
    // Calibrated compute classes: every rate ×k, the per-kernel cost ÷k.
    for (auto& p : h.classes.matmul) p.flop_per_s *= k.compute;
    for (auto& p : h.classes.elementwise) p.bytes_per_s *= k.compute;
    for (auto& p : h.classes.optimizer) p.bytes_per_s *= k.compute;
    h.classes.kernel_overhead_s /= k.compute;
    for (auto& p : h.classes.kinds) p.seconds /= k.compute;
    for (auto& c : h.classes.context) {
        c.data_s_per_sample /= k.compute;
        c.step_overhead_s /= k.compute;
    }
    return h;
}

bool has_inter_fit(const Hardware& hw) {
    return std::any_of(hw.inter_fit.begin(), hw.inter_fit.end(), [](const LinkCost& l) { return measured(l); });
}

std::string levels_label(const Hardware& hw) {
    if (!has_inter_fit(hw)) return {};
    const auto AR = static_cast<std::size_t>(FitSlot::AllReduce);
    const LinkCost in = measured(hw.intra_fit[AR]) ? hw.intra_fit[AR] : hw.intra;
    const LinkCost out = measured(hw.inter_fit[AR]) ? hw.inter_fit[AR] : hw.inter;
    auto link = [](const LinkCost& l) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%.1f µs, %.2f GB/s", l.alpha_s * 1e6,
                      l.beta_s_per_byte > 0 ? 1e-9 / l.beta_s_per_byte : 0.0);
        return std::string(buf);
    };
    return std::to_string(hw.devices_per_node) + " ranks per node; inside a node " + link(in) + "; between nodes " +
           link(out) + " (all-reduce)";
}

GroupPlacement place_group(const Hardware& hw, int p, int stride, int first) {
    GroupPlacement g;
    g.p = std::max(1, p);
    const long long dpn = std::max(1, hw.devices_per_node);
    const long long lo = first / dpn;
    const long long hi = (static_cast<long long>(first) + static_cast<long long>(g.p - 1) * stride) / dpn;
    if (stride >= dpn) {
        g.nodes = g.p;
        g.per_node = 1;
    } else {
        g.nodes = static_cast<int>(hi - lo + 1);
        g.per_node = static_cast<int>(std::min<long long>(g.p, std::max<long long>(1, dpn / std::max(1, stride))));
    }
    return g;
}

namespace {

// The cost model's terms (core/collective_cost.h) on one link.
double on_link(Collective c, int p, double n, const LinkCost& l, CollAlgo algo) {
    return cost_seconds(cost_terms(c, p, algo), l.alpha_s, l.beta_s_per_byte, n);
}

int fit_slot(Collective c) {
    switch (c) {
        case Collective::AllReduce: return 0;
        case Collective::ReduceScatter: return 1;
        case Collective::AllGather: return 2;
        case Collective::Broadcast:
        case Collective::Reduce: return 3;
        case Collective::Send:
        case Collective::Recv: return 4;
        default: return -1;
    }
}

// One level's link for collective c: the calibrated fit of c (or of its non-blocking variant) in
// `fits`, run with the ring terms `calibrate` fits with; else `fallback` with the file's algorithm.
struct Level {
    LinkCost link;
    CollAlgo algo;
};
Level level_link(const Hardware& hw, const std::array<LinkCost, kFitSlots>& fits, const LinkCost& fallback,
                 Collective c, bool nonblocking) {
    Level out{fallback, hw.algorithm == CollAlgo::Hierarchical ? CollAlgo::Ring : hw.algorithm};
    int s = fit_slot(c);
    if (nonblocking && (c == Collective::AllReduce || c == Collective::ReduceScatter)) {
        const int nb = static_cast<int>(c == Collective::AllReduce ? FitSlot::IAllReduce : FitSlot::IReduceScatter);
        if (measured(fits[static_cast<std::size_t>(nb)])) s = nb;
    }
    if (s >= 0 && measured(fits[static_cast<std::size_t>(s)])) out = {fits[static_cast<std::size_t>(s)], CollAlgo::Ring};
    return out;
}

}  // namespace

double collective_time(const Hardware& hw, Collective c, const GroupPlacement& g, double bytes, bool nonblocking) {
    const double n = std::max(0.0, bytes);
    if (g.nodes <= 1) {
        // Calibrated per-collective α/β when this machine measured that collective.
        const Level l = level_link(hw, hw.intra_fit, hw.intra, c, nonblocking);
        return on_link(c, g.p, n, l.link, l.algo);
    }
    // Across nodes. Each level's link for this collective: its calibrated fit (ring terms) where
    // the file has one, else the topology's link with the file's algorithm.
    const Level inter = level_link(hw, hw.inter_fit, hw.inter, c, nonblocking);
    if (g.per_node <= 1) return on_link(c, g.p, n, inter.link, inter.algo);  // one member per node
    if (hw.algorithm == CollAlgo::Hierarchical &&
        (c == Collective::AllReduce || c == Collective::ReduceScatter || c == Collective::AllGather)) {
        const int k = g.per_node, N = g.nodes;
        const Level rs = level_link(hw, hw.intra_fit, hw.intra, Collective::ReduceScatter, false);
        const Level ag = level_link(hw, hw.intra_fit, hw.intra, Collective::AllGather, false);
        const double intra_rs = on_link(Collective::ReduceScatter, k, n, rs.link, CollAlgo::Ring);
        const double intra_ag = on_link(Collective::AllGather, k, n, ag.link, CollAlgo::Ring);
        const double across = on_link(c, N, n / k, inter.link, CollAlgo::Ring);
        if (c == Collective::AllReduce) return intra_rs + across + intra_ag;  // RS + AR(n/k) + AG
        if (c == Collective::ReduceScatter) return intra_rs + across;        // intra RS, then inter RS of n/k
        return across + intra_ag;                                            // AG mirrors it
    }
    // A flat algorithm across nodes: every step waits on the slower link.
    const Level intra = level_link(hw, hw.intra_fit, hw.intra, c, nonblocking);
    const LinkCost worst{std::max(intra.link.alpha_s, inter.link.alpha_s),
                         std::max(intra.link.beta_s_per_byte, inter.link.beta_s_per_byte)};
    return on_link(c, g.p, n, worst, inter.algo);  // level_link never gives hierarchical
}

nlohmann::json context_json(const ComputeContext& k) {
    return {{"model", k.model},
            {"key", k.key},
            {"params", k.params},
            {"compute_factor", k.compute_factor},
            {"optimizer_factor", k.optimizer_factor},
            {"data_s_per_sample", k.data_s_per_sample},
            {"step_overhead_s", k.step_overhead_s},
            {"run", k.run}};
}

}  // namespace ss::core

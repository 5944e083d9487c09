#include "bench/core/megatron_table.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/sim/sim_replay.h"

namespace ss::bench {

using nlohmann::json;

namespace {

json read_json(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error(path + ": cannot read the file");
    std::stringstream ss;
    ss << f.rdbuf();
    json doc = json::parse(ss.str(), nullptr, false, /*ignore_comments=*/true);
    if (doc.is_discarded()) throw std::runtime_error(path + ": not a JSON document");
    return doc;
}

double number_at(const json& obj, const std::string& key, const std::string& where) {
    if (!obj.is_object() || !obj.contains(key) || !obj.at(key).is_number())
        throw std::runtime_error(where + "." + key + " must be a number");
    return obj.at(key).get<double>();
}

std::string fmt_num(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

}  // namespace

std::string PublishedRow::label() const {
    return fmt_num(params_b) + "B" + (variant.empty() ? "" : " " + variant);
}

std::string PublishedRow::layout() const {
    return "tp" + std::to_string(tp) + " pp" + std::to_string(pp) + " dp" + std::to_string(dp());
}

PublishedTable load_published_table(const std::string& path) {
    const json doc = read_json(path);
    if (doc.value("format", std::string()) != "scalescope-published-runs")
        throw std::runtime_error(path + ": format must be \"scalescope-published-runs\"");
    PublishedTable t;
    t.name = doc.value("name", std::string());
    t.source = doc.value("source", std::string());
    t.url = doc.value("url", std::string());
    const json facts = doc.value("facts", json::object());
    t.seq_len = static_cast<int>(number_at(facts, "seq_len", path + ": facts"));
    t.vocab = static_cast<int>(number_at(facts, "vocab", path + ": facts"));
    const json spec = doc.value("spec", json::object());
    if (!spec.contains("base") || !spec.at("base").is_string())
        throw std::runtime_error(path + ": spec.base must name the base spec file");
    t.base_spec =
        (std::filesystem::path(path).parent_path() / spec.at("base").get<std::string>()).string();
    for (const auto& o : spec.value("overrides", json::array())) {
        if (!o.is_string())
            throw std::runtime_error(path + ": spec.overrides must be strings \"path=value\"");
        t.overrides.push_back(o.get<std::string>());
    }
    const json cols = doc.value("columns", json::array());
    if (!cols.is_array()) throw std::runtime_error(path + ": columns must be an array of names");
    std::vector<std::string> names;
    for (const auto& c : cols) {
        if (!c.is_string()) throw std::runtime_error(path + ": columns must be an array of names");
        names.push_back(c.get<std::string>());
    }
    const std::vector<std::string> known{"params_b",
                                         "heads",
                                         "hidden",
                                         "layers",
                                         "tp",
                                         "pp",
                                         "gpus",
                                         "batch",
                                         "tflops_per_gpu",
                                         "step_s",
                                         "percent_peak",
                                         "aggregate_pflops",
                                         "variant",
                                         "micro_batch",
                                         "virtual_stages",
                                         "recompute",
                                         "sequence_parallel"};
    auto has = [&](const std::string& n) {
        return std::find(names.begin(), names.end(), n) != names.end();
    };
    for (const auto& n : names)
        if (std::find(known.begin(), known.end(), n) == known.end())
            throw std::runtime_error(path + ": columns: unknown column \"" + n + "\"");
    for (const char* n : {"params_b", "heads", "hidden", "layers", "tp", "pp", "gpus", "batch"})
        if (!has(n))
            throw std::runtime_error(path + ": columns: \"" + std::string(n) + "\" is missing");
    if (!has("tflops_per_gpu") && !has("step_s"))
        throw std::runtime_error(
            path + ": columns: the published figure is missing (tflops_per_gpu or step_s)");
    const json rows = doc.value("rows", json::array());
    if (!rows.is_array() || rows.empty()) throw std::runtime_error(path + ": rows is empty");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const json& r = rows[i];
        const std::string where = path + ": rows[" + std::to_string(i) + "]";
        if (!r.is_array() || r.size() != names.size())
            throw std::runtime_error(where + " must have " + std::to_string(names.size()) +
                                     " values (columns)");
        PublishedRow row;
        for (std::size_t k = 0; k < names.size(); ++k) {
            const std::string& n = names[k];
            const json& v = r[k];
            const std::string at = where + "." + n;
            auto num = [&]() {
                if (!v.is_number())
                    throw std::runtime_error(at + " = " + v.dump() + " must be a number");
                return v.get<double>();
            };
            auto integer = [&]() {
                if (!v.is_number_integer() || v.get<long long>() < 0)
                    throw std::runtime_error(at + " = " + v.dump() +
                                             " must be a non-negative integer");
                return v.get<int>();
            };
            if (n == "params_b")
                row.params_b = num();
            else if (n == "heads")
                row.heads = integer();
            else if (n == "hidden")
                row.hidden = integer();
            else if (n == "layers")
                row.layers = integer();
            else if (n == "tp")
                row.tp = integer();
            else if (n == "pp")
                row.pp = integer();
            else if (n == "gpus")
                row.gpus = integer();
            else if (n == "batch")
                row.batch = integer();
            else if (n == "tflops_per_gpu")
                row.tflops_per_gpu = num();
            else if (n == "step_s")
                row.step_s = num();
            else if (n == "percent_peak")
                row.percent_peak = num();
            else if (n == "aggregate_pflops")
                row.aggregate_pflops = num();
            else if (n == "micro_batch")
                row.micro_batch = integer();
            else if (n == "virtual_stages")
                row.virtual_stages = integer();
            else if (n == "sequence_parallel") {
                if (!v.is_boolean())
                    throw std::runtime_error(at + " = " + v.dump() + " must be true or false");
                row.sequence_parallel = v.get<bool>();
            } else {  // variant, recompute
                if (!v.is_string())
                    throw std::runtime_error(at + " = " + v.dump() + " must be a string");
                (n == "variant" ? row.variant : row.recompute) = v.get<std::string>();
            }
        }
        if (!(row.tflops_per_gpu > 0) && !(row.step_s > 0))
            throw std::runtime_error(where + ": neither tflops_per_gpu nor step_s is positive");
        if (row.tp < 1 || row.pp < 1 || row.gpus < 1 || row.gpus % (row.tp * row.pp) != 0)
            throw std::runtime_error(where + ": tp x pp = " + std::to_string(row.tp * row.pp) +
                                     " does not divide the " + std::to_string(row.gpus) + " GPUs");
        // The row against its own aggregate column: a transcription error shows here.
        if (row.aggregate_pflops > 0 && row.tflops_per_gpu > 0) {
            const double agg = row.tflops_per_gpu * row.gpus / 1000;
            if (std::abs(agg - row.aggregate_pflops) > 0.01 * row.aggregate_pflops + 0.1)
                throw std::runtime_error(where + ": " + fmt_num(row.tflops_per_gpu) +
                                         " TFLOP/s x " + std::to_string(row.gpus) +
                                         " GPUs = " + fmt_num(agg) + " PFLOP/s, but the row says " +
                                         fmt_num(row.aggregate_pflops));
        }
        t.rows.push_back(row);
    }
    return t;
}

double megatron_iteration_flops(double B, double s, double l, double h, double V) {
    return 96.0 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
}

std::vector<std::string> row_overrides(const PublishedRow& r, const RowChoices& c) {
    const int dp = r.dp();
    const int mb = r.micro_batch > 0 ? r.micro_batch : c.micro_batch;
    // The row's own virtual stages as given (the spec rules refuse a split that is not even); the
    // run-wide choice only where the row's layers split into pp x v equal chunks.
    const int v = r.virtual_stages > 0 ? r.virtual_stages
                  : c.virtual_stages > 1 && r.layers % (r.pp * c.virtual_stages) == 0
                      ? c.virtual_stages
                      : 1;
    if (mb < 1 || r.batch % (dp * mb) != 0)
        throw std::runtime_error("row " + r.label() + ": the global batch " +
                                 std::to_string(r.batch) + " is not a multiple of dp " +
                                 std::to_string(dp) + " x micro-batch " + std::to_string(mb));
    std::vector<std::string> o{
        "model.layers=" + std::to_string(r.layers),
        "model.d_model=" + std::to_string(r.hidden),
        "model.heads=" + std::to_string(r.heads),
        "training.global_batch=" + std::to_string(r.batch),
        "parallel.dp=" + std::to_string(dp),
        "parallel.tp=" + std::to_string(r.tp),
        "parallel.pp=" + std::to_string(r.pp),
        "parallel.micro_batches=" + std::to_string(r.batch / (dp * mb)),
    };
    if (v > 1 && r.pp > 1) o.push_back("parallel.virtual_stages=" + std::to_string(v));
    if (!r.recompute.empty()) o.push_back("training.recompute=" + r.recompute);
    if (r.sequence_parallel) o.push_back("parallel.sequence_parallel=true");
    return o;
}

core::ExperimentSpec row_spec(const PublishedTable& t, const PublishedRow& r, const RowChoices& c) {
    core::SpecLoadOptions opt;
    opt.overrides = t.overrides;
    for (auto& o : row_overrides(r, c)) opt.overrides.push_back(std::move(o));
    opt.world_size = r.gpus;
    opt.check_files = false;
    core::LoadedSpec ls = core::load_spec_file(t.base_spec, opt);
    if (!ls.ok())
        throw std::runtime_error("row " + r.label() + " (" + r.layout() +
                                 "): the spec is refused:\n" + core::format_errors(ls.errors));
    return ls.spec;
}

core::Hardware preset_hardware(const std::string& path, const HardwareKnobs& k) {
    core::Hardware hw = core::load_hardware(path);
    if (k.matmul_efficiency > 0) {
        if (!(hw.peak_flop_per_s > 0))
            throw std::runtime_error(path +
                                     ": compute.peak_flops is not stated: no efficiency to change");
        hw.flop_per_s = k.matmul_efficiency * hw.peak_flop_per_s;
    }
    if (k.memory_efficiency > 0) hw.mem_bw_bytes_per_s *= k.memory_efficiency;
    if (k.kernel_overhead_s >= 0) hw.kernel_overhead_s = k.kernel_overhead_s;
    return hw;
}

double matmul_efficiency(const core::Hardware& hw) {
    return hw.peak_flop_per_s > 0 ? hw.flop_per_s / hw.peak_flop_per_s : 0;
}

RowPrediction predict_row(const PublishedTable& t, const PublishedRow& r, const RowChoices& c,
                          const core::Hardware& hw, Engine engine) {
    RowPrediction p;
    p.spec = row_spec(t, r, c);
    p.result = engine == Engine::Replay ? core::simulate_replay(p.spec, hw)
                                        : core::simulate_analytic(p.spec, hw);
    p.flops = megatron_iteration_flops(r.batch, t.seq_len, r.layers, r.hidden, t.vocab);
    p.predicted_tflops = p.flops / (p.result.step_s * r.gpus) / 1e12;
    p.error = r.tflops_per_gpu > 0 ? p.predicted_tflops / r.tflops_per_gpu - 1
                                   : r.step_s / p.result.step_s - 1;
    return p;
}

}  // namespace ss::bench

#include "bench/core/megatron_table.h"

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

std::string PublishedRow::label() const { return fmt_num(params_b) + "B"; }

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
    t.base_spec = (std::filesystem::path(path).parent_path() / spec.at("base").get<std::string>()).string();
    for (const auto& o : spec.value("overrides", json::array())) {
        if (!o.is_string()) throw std::runtime_error(path + ": spec.overrides must be strings \"path=value\"");
        t.overrides.push_back(o.get<std::string>());
    }
    const std::vector<std::string> want{"params_b", "heads", "hidden", "layers", "tp", "pp", "gpus",
                                        "batch", "tflops_per_gpu", "percent_peak", "aggregate_pflops"};
    if (doc.value("columns", json::array()) != json(want))
        throw std::runtime_error(path + ": columns must be " + json(want).dump());
    const json rows = doc.value("rows", json::array());
    if (!rows.is_array() || rows.empty()) throw std::runtime_error(path + ": rows is empty");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const json& r = rows[i];
        const std::string where = path + ": rows[" + std::to_string(i) + "]";
        if (!r.is_array() || r.size() != want.size())
            throw std::runtime_error(where + " must have " + std::to_string(want.size()) + " numbers");
        for (const auto& v : r)
            if (!v.is_number()) throw std::runtime_error(where + " holds " + v.dump() + ", not a number");
        PublishedRow row;
        row.params_b = r[0].get<double>();
        row.heads = r[1].get<int>();
        row.hidden = r[2].get<int>();
        row.layers = r[3].get<int>();
        row.tp = r[4].get<int>();
        row.pp = r[5].get<int>();
        row.gpus = r[6].get<int>();
        row.batch = r[7].get<int>();
        row.tflops_per_gpu = r[8].get<double>();
        row.percent_peak = r[9].get<double>();
        row.aggregate_pflops = r[10].get<double>();
        if (row.tp < 1 || row.pp < 1 || row.gpus % (row.tp * row.pp) != 0)
            throw std::runtime_error(where + ": tp x pp = " + std::to_string(row.tp * row.pp) +
                                     " does not divide the " + std::to_string(row.gpus) + " GPUs");
        // The row against its own aggregate column: a transcription error shows here.
        const double agg = row.tflops_per_gpu * row.gpus / 1000;
        if (std::abs(agg - row.aggregate_pflops) > 0.01 * row.aggregate_pflops + 0.1)
            throw std::runtime_error(where + ": " + fmt_num(row.tflops_per_gpu) + " TFLOP/s x " +
                                     std::to_string(row.gpus) + " GPUs = " + fmt_num(agg) +
                                     " PFLOP/s, but the row says " + fmt_num(row.aggregate_pflops));
        t.rows.push_back(row);
    }
    return t;
}

double megatron_iteration_flops(double B, double s, double l, double h, double V) {
    return 96.0 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
}

std::vector<std::string> row_overrides(const PublishedRow& r, const RowChoices& c) {
    const int dp = r.dp();
    if (c.micro_batch < 1 || r.batch % (dp * c.micro_batch) != 0)
        throw std::runtime_error("row " + r.label() + ": the global batch " + std::to_string(r.batch) +
                                 " is not a multiple of dp " + std::to_string(dp) + " x micro-batch " +
                                 std::to_string(c.micro_batch));
    std::vector<std::string> o{
        "model.layers=" + std::to_string(r.layers),
        "model.d_model=" + std::to_string(r.hidden),
        "model.heads=" + std::to_string(r.heads),
        "training.global_batch=" + std::to_string(r.batch),
        "parallel.dp=" + std::to_string(dp),
        "parallel.tp=" + std::to_string(r.tp),
        "parallel.pp=" + std::to_string(r.pp),
        "parallel.micro_batches=" + std::to_string(r.batch / (dp * c.micro_batch)),
    };
    if (c.virtual_stages > 1 && r.pp > 1) o.push_back("parallel.virtual_stages=" + std::to_string(c.virtual_stages));
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
        throw std::runtime_error("row " + r.label() + " (" + r.layout() + "): the spec is refused:\n" +
                                 core::format_errors(ls.errors));
    return ls.spec;
}

PresetRates rates_from_preset(const std::string& path, const RateKnobs& k) {
    const json doc = read_json(path);
    const json compute = doc.value("compute", json::object());
    const json eff = doc.value("efficiency", json::object());
    const json memory = doc.value("memory", json::object());
    PresetRates p;
    p.tensor_flops = number_at(compute, "fp16_flops", path + ": compute");
    p.matmul_efficiency = k.matmul_efficiency > 0 ? k.matmul_efficiency : number_at(eff, "matmul", path + ": efficiency");
    p.memory_efficiency = k.memory_efficiency > 0 ? k.memory_efficiency : number_at(eff, "memory", path + ": efficiency");
    const double bw = number_at(memory, "bandwidth_bytes_per_s", path + ": memory");
    core::ComputeRates& R = p.rates;
    R.matmul_flop_per_s = p.tensor_flops * p.matmul_efficiency;
    R.memory_bytes_per_s = bw * p.memory_efficiency;
    R.optimizer_bytes_per_s = bw * p.memory_efficiency;
    R.kernel_overhead_s = k.kernel_overhead_s >= 0 ? k.kernel_overhead_s : compute.value("kernel_overhead_s", 0.0);
    R.source = "preset " + path + ": fp16 tensor " + fmt_num(p.tensor_flops / 1e12) + " TFLOP/s x " +
               fmt_num(p.matmul_efficiency) + ", HBM " + fmt_num(bw / 1e9) + " GB/s x " + fmt_num(p.memory_efficiency);
    return p;
}

RowPrediction predict_row(const PublishedTable& t, const PublishedRow& r, const RowChoices& c, const core::Hardware& hw,
                          const core::ComputeRates& rates, Engine engine) {
    RowPrediction p;
    p.spec = row_spec(t, r, c);
    core::SimOptions opt;
    opt.rates = rates;
    p.result = engine == Engine::Replay ? core::simulate_replay(p.spec, hw, opt) : core::simulate_analytic(p.spec, hw, opt);
    p.flops = megatron_iteration_flops(r.batch, t.seq_len, r.layers, r.hidden, t.vocab);
    p.predicted_tflops = p.flops / (p.result.step_s * r.gpus) / 1e12;
    p.error = p.predicted_tflops / r.tflops_per_gpu - 1;
    return p;
}

}  // namespace ss::bench

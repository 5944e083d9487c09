#include "core/spec/spec.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "models/plan/schedule.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace ss::core {
namespace {

// ---------------------------------------------------------------------------------------------
// The format's fields, in one place: unknown-field detection, overrides and docs/SPEC.md follow
// this table (tests check that every field of to_json() is in it).

enum class Type { Int, Uint64, Double, Bool, String, IntArray, StringArray, StringMap, Object, IntOrString };

struct Field {
    const char* section;  // "" for top-level fields
    const char* key;
    Type type;
    const char* kinds;  // model fields only: "mlp", "gpt" or "" (both)
};

constexpr Field kFields[] = {
    {"", "name", Type::String, ""},
    {"model", "kind", Type::String, ""},
    {"model", "preset", Type::String, ""},
    {"model", "activation", Type::String, ""},
    {"model", "hidden", Type::IntArray, "mlp"},
    {"model", "layers", Type::Int, "gpt"},
    {"model", "d_model", Type::Int, "gpt"},
    {"model", "heads", Type::Int, "gpt"},
    {"model", "seq_len", Type::Int, "gpt"},
    {"model", "vocab", Type::Int, "gpt"},
    {"data", "path", Type::String, ""},
    {"training", "steps", Type::Int, ""},
    {"training", "global_batch", Type::Int, ""},
    {"training", "lr", Type::Double, ""},
    {"training", "weight_decay", Type::Double, ""},
    {"training", "beta1", Type::Double, ""},
    {"training", "beta2", Type::Double, ""},
    {"training", "eps", Type::Double, ""},
    {"training", "grad_clip", Type::Double, ""},
    {"training", "seed", Type::Uint64, ""},
    {"training", "eval_every", Type::Int, ""},
    {"training", "warmup_steps", Type::Int, ""},
    {"training", "lr_schedule", Type::String, ""},
    {"training", "precision", Type::String, ""},
    {"training", "recompute", Type::String, ""},
    {"training", "slow_rank", Type::Object, ""},
    {"parallel", "dp", Type::Int, ""},
    {"parallel", "tp", Type::Int, ""},
    {"parallel", "pp", Type::Int, ""},
    {"parallel", "micro_batches", Type::Int, ""},
    {"parallel", "schedule", Type::String, ""},
    {"parallel", "zero", Type::Int, ""},
    {"parallel", "bucket_mb", Type::Double, ""},
    {"parallel", "overlap", Type::Bool, ""},
    {"parallel", "virtual_stages", Type::Int, ""},
    {"parallel", "sequence_parallel", Type::Bool, ""},
    {"parallel", "vocab_parallel", Type::Bool, ""},
    {"parallel", "dp_sync", Type::String, ""},
    {"parallel", "servers", Type::Int, ""},
    {"parallel", "staleness", Type::IntOrString, ""},
    {"backend", "device", Type::String, ""},
    {"backend", "comm", Type::String, ""},
    {"backend", "blas_threads", Type::Int, ""},
    {"launch", "np", Type::Int, ""},
    {"launch", "hosts", Type::StringArray, ""},
    {"launch", "hostfile", Type::String, ""},
    {"launch", "mpirun_args", Type::StringArray, ""},
    {"launch", "env", Type::StringMap, ""},
    {"launch", "timeout_s", Type::Double, ""},
    {"trace", "enabled", Type::Bool, ""},
    {"trace", "dir", Type::String, ""},
    {"trace", "flush_interval_s", Type::Double, ""},
};

constexpr const char* kSections[] = {"model", "data", "training", "parallel",
                                     "backend", "launch", "trace"};

const Field* find_field(const std::string& section, const std::string& key) {
    for (const auto& f : kFields)
        if (section == f.section && key == f.key) return &f;
    return nullptr;
}

bool is_section(const std::string& s) {
    return std::find(std::begin(kSections), std::end(kSections), s) != std::end(kSections);
}

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// " (did you mean parallel.tp?)" for a near miss among the keys of `section`, else "".
std::string suggestion(const std::string& section, const std::string& key) {
    std::string best;
    std::size_t best_d = std::max<std::size_t>(2, key.size() / 3) + 1;
    auto consider = [&](const std::string& cand) {
        const std::size_t d = edit_distance(key, cand);
        if (d < best_d) best_d = d, best = cand;
    };
    for (const auto& f : kFields)
        if (section == f.section) consider(f.key);
    if (section.empty())
        for (const char* s : kSections) consider(s);
    return best.empty() ? "" : " (did you mean " + join(section, best) + "?)";
}

// A value as it appears in a message: short JSON text, or its kind when long.
std::string show(const json& v) {
    std::string s = v.dump();
    if (s.size() <= 40) return s;
    if (v.is_object()) return "an object";
    if (v.is_array()) return "an array";
    return s.substr(0, 37) + "...";
}

std::string num(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return json(v).dump();
}
std::string json_quoted(const std::string& s) { return json(s).dump(); }

// ---------------------------------------------------------------------------------------------
// Typed reading with error collection.

class Reader {
public:
    explicit Reader(std::vector<SpecError>& errors) : errors_(errors) {}

    void error(const std::string& field, const std::string& message) {
        errors_.push_back({field, message});
    }

    void type_error(const std::string& path, const char* expected, const json& v) {
        error(path, path + " must be " + expected + ", got " + show(v));
    }

    bool read(const json& v, const std::string& path, int& out) {
        int64_t x = 0;
        if (!read_integer(v, path, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(),
                          x))
            return false;
        out = static_cast<int>(x);
        return true;
    }

    bool read(const json& v, const std::string& path, uint64_t& out) {
        if (v.is_number_unsigned()) {
            out = v.get<uint64_t>();
            return true;
        }
        if (v.is_number_integer()) {
            error(path, path + "=" + v.dump() + " must be a non-negative integer");
            return false;
        }
        if (v.is_number_float()) {
            const double d = v.get<double>();
            if (std::isfinite(d) && d == std::floor(d) && d >= 0 && d < 1.8446744073709552e19) {
                out = static_cast<uint64_t>(d);
                return true;
            }
        }
        type_error(path, "a non-negative integer", v);
        return false;
    }

    bool read(const json& v, const std::string& path, double& out) {
        if (!v.is_number()) {
            type_error(path, "a number", v);
            return false;
        }
        out = v.get<double>();
        return true;
    }

    bool read(const json& v, const std::string& path, bool& out) {
        if (!v.is_boolean()) {
            type_error(path, "true or false", v);
            return false;
        }
        out = v.get<bool>();
        return true;
    }

    bool read(const json& v, const std::string& path, std::string& out) {
        if (!v.is_string()) {
            type_error(path, "a string", v);
            return false;
        }
        out = v.get<std::string>();
        return true;
    }

    bool read(const json& v, const std::string& path, std::vector<int>& out) {
        if (!v.is_array()) {
            type_error(path, "an array of integers", v);
            return false;
        }
        std::vector<int> result;
        bool ok = true;
        for (std::size_t i = 0; i < v.size(); ++i) {
            int x = 0;
            ok = read(v[i], path + "[" + std::to_string(i) + "]", x) && ok;
            result.push_back(x);
        }
        if (ok) out = std::move(result);
        return ok;
    }

    bool read(const json& v, const std::string& path, std::vector<std::string>& out) {
        if (!v.is_array()) {
            type_error(path, "an array of strings", v);
            return false;
        }
        std::vector<std::string> result;
        bool ok = true;
        for (std::size_t i = 0; i < v.size(); ++i) {
            std::string s;
            ok = read(v[i], path + "[" + std::to_string(i) + "]", s) && ok;
            result.push_back(std::move(s));
        }
        if (ok) out = std::move(result);
        return ok;
    }

    // Environment values may be strings, numbers or booleans (kept as their JSON text).
    bool read(const json& v, const std::string& path, std::map<std::string, std::string>& out) {
        if (!v.is_object()) {
            type_error(path, "an object of strings", v);
            return false;
        }
        std::map<std::string, std::string> result;
        bool ok = true;
        for (const auto& [k, val] : v.items()) {
            if (val.is_string())
                result[k] = val.get<std::string>();
            else if (val.is_number() || val.is_boolean())
                result[k] = val.dump();
            else {
                type_error(join(path, k), "a string", val);
                ok = false;
            }
        }
        if (ok) out = std::move(result);
        return ok;
    }

    // Reads doc[key] into out when present; a missing key keeps the default.
    template <class T>
    void field(const json& obj, const std::string& section, const char* key, T& out) {
        auto it = obj.find(key);
        if (it != obj.end()) read(*it, join(section, key), out);
    }

    // The object doc[section], or an empty object (with an error when it is not an object).
    json section(const json& doc, const std::string& name) {
        auto it = doc.find(name);
        if (it == doc.end()) return json::object();
        if (!it->is_object()) {
            type_error(name, "an object", *it);
            return json::object();
        }
        return *it;
    }

    void unknown_fields(const json& obj, const std::string& section, const std::string& kind) {
        for (const auto& [k, v] : obj.items()) {
            const Field* f = find_field(section, k);
            const std::string path = join(section, k);
            if (section.empty() && is_section(k)) continue;
            if (!f) {
                error(path, "unknown field " + path + suggestion(section, k));
            } else if (*f->kinds && (kind == "mlp" || kind == "gpt") && kind != f->kinds) {
                error(path, path + " does not apply to model.kind=" + json_quoted(kind) + " (it is a " +
                                f->kinds + " field)");
            }
        }
    }

private:
    bool read_integer(const json& v, const std::string& path, int64_t lo, int64_t hi, int64_t& out) {
        if (v.is_number_unsigned()) {
            const uint64_t u = v.get<uint64_t>();
            if (u > static_cast<uint64_t>(hi)) return out_of_range(path, v);
            out = static_cast<int64_t>(u);
            return true;
        }
        if (v.is_number_integer()) {
            const int64_t x = v.get<int64_t>();
            if (x < lo || x > hi) return out_of_range(path, v);
            out = x;
            return true;
        }
        if (v.is_number_float()) {
            const double d = v.get<double>();
            if (std::isfinite(d) && d == std::floor(d)) {
                if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
                    return out_of_range(path, v);
                out = static_cast<int64_t>(d);
                return true;
            }
        }
        type_error(path, "an integer", v);
        return false;
    }

    bool out_of_range(const std::string& path, const json& v) {
        error(path, path + "=" + v.dump() + " is out of range");
        return false;
    }

    std::vector<SpecError>& errors_;
};

std::string default_data_path(const std::string& kind) {
    if (kind == "mlp") return kDefaultMlpDataPath;
    if (kind == "gpt") return kDefaultGptDataPath;
    return "";
}

std::string join_ints(const std::vector<int>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s;
}

std::string one_of(std::initializer_list<const char*> values) {
    std::string s;
    std::size_t i = 0;
    for (const char* v : values) {
        s += (i == 0 ? "" : (i + 1 == values.size() ? " or " : ", "));
        s += json_quoted(v);
        ++i;
    }
    return s;
}

bool in(const std::string& s, std::initializer_list<const char*> values) {
    for (const char* v : values)
        if (s == v) return true;
    return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Presets

std::vector<std::string> model_presets(const std::string& kind) {
    if (kind == "mlp") return {"default"};
    if (kind == "gpt") return {"tiny", "mini", "small"};
    return {};
}

ModelSpec model_preset(const std::string& kind, const std::string& preset) {
    ModelSpec m;
    m.kind = kind;
    m.preset = preset;
    if (kind == "mlp" && preset == "default") {
        m.activation = "relu";
        m.hidden = {256, 256};  // 784 -> 256 -> 256 -> 10: 269,322 parameters
        return m;
    }
    if (kind == "gpt") {
        m.activation = "gelu";
        if (preset == "tiny") {  // 134,912 parameters: seconds per run on one core
            m.layers = 2, m.d_model = 64, m.heads = 4, m.seq_len = 32;
            return m;
        }
        if (preset == "mini") {  // 867,072 parameters (~1M)
            m.layers = 4, m.d_model = 128, m.heads = 4, m.seq_len = 64;
            return m;
        }
        if (preset == "small") {  // 19,243,008 parameters; meant for a GPU
            m.layers = 6, m.d_model = 512, m.heads = 8, m.seq_len = 128;
            return m;
        }
    }
    throw std::invalid_argument("unknown model preset " + json_quoted(preset) + " for model.kind=" +
                                json_quoted(kind));
}

int64_t gpt_param_count(const ModelSpec& m) {
    const int64_t V = m.vocab, S = m.seq_len, L = m.layers, d = m.d_model;
    const int64_t per_block = 2 * d               // ln1 (gain, bias)
                              + d * 3 * d + 3 * d  // qkv
                              + d * d + d          // attention output projection
                              + 2 * d              // ln2
                              + d * 4 * d + 4 * d  // fc
                              + 4 * d * d + d;     // fc projection
    return V * d        // token embedding (V, d)
           + S * d      // position embedding (S, d)
           + L * per_block
           + 2 * d      // final layer norm
           + V * d;     // LM head (V, d), untied, no bias
}

int64_t mlp_param_count(const ModelSpec& m) {
    int64_t total = 0;
    int64_t in = m.input_dim;
    for (int h : m.hidden) {
        total += in * h + h;
        in = h;
    }
    return total + in * m.classes + m.classes;
}

int64_t param_count(const ModelSpec& m) {
    if (m.kind == "gpt") return gpt_param_count(m);
    if (m.kind == "mlp") return mlp_param_count(m);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// JSON

json ExperimentSpec::to_json() const {
    json j;
    j["name"] = name;

    json& mj = j["model"];
    mj["kind"] = model.kind;
    mj["preset"] = model.preset;
    mj["activation"] = model.activation;
    if (model.kind != "gpt") mj["hidden"] = model.hidden;
    if (model.kind != "mlp") {
        mj["layers"] = model.layers;
        mj["d_model"] = model.d_model;
        mj["heads"] = model.heads;
        mj["seq_len"] = model.seq_len;
        mj["vocab"] = model.vocab;
    }

    j["data"] = {{"path", data.path}};

    const TrainingSpec& t = training;
    j["training"] = {{"steps", t.steps},
                     {"global_batch", t.global_batch},
                     {"lr", t.lr},
                     {"weight_decay", t.weight_decay},
                     {"beta1", t.beta1},
                     {"beta2", t.beta2},
                     {"eps", t.eps},
                     {"grad_clip", t.grad_clip},
                     {"seed", t.seed},
                     {"eval_every", t.eval_every},
                     {"warmup_steps", t.warmup_steps},
                     {"lr_schedule", t.lr_schedule},
                     {"precision", t.precision},
                     {"recompute", t.recompute}};
    if (t.slow_rank >= 0) j["training"]["slow_rank"] = {{"rank", t.slow_rank}, {"factor", t.slow_factor}};

    const ParallelSpec& p = parallel;
    j["parallel"] = {{"dp", p.dp},
                     {"tp", p.tp},
                     {"pp", p.pp},
                     {"micro_batches", p.micro_batches},
                     {"schedule", p.schedule},
                     {"zero", p.zero},
                     {"bucket_mb", p.bucket_mb},
                     {"overlap", p.overlap},
                     {"virtual_stages", p.virtual_stages},
                     {"sequence_parallel", p.sequence_parallel},
                     {"vocab_parallel", p.vocab_parallel},
                     {"dp_sync", p.dp_sync},
                     {"servers", p.servers},
                     {"staleness", p.staleness == ParallelSpec::kAsync ? json("async") : json(p.staleness)}};

    j["backend"] = {{"device", backend.device}, {"comm", backend.comm}, {"blas_threads", backend.blas_threads}};

    j["launch"] = {{"np", launch.np},
                   {"hosts", launch.hosts},
                   {"hostfile", launch.hostfile},
                   {"mpirun_args", launch.mpirun_args},
                   {"env", json::object()},
                   {"timeout_s", launch.timeout_s}};
    for (const auto& [k, v] : launch.env) j["launch"]["env"][k] = v;

    j["trace"] = {{"enabled", trace.enabled},
                  {"dir", trace.dir},
                  {"flush_interval_s", trace.flush_interval_s}};
    return j;
}

ParseResult parse_spec(const json& doc) {
    ParseResult result;
    ExperimentSpec& s = result.spec;
    Reader r(result.errors);
    if (!doc.is_object()) {
        r.error("", "the spec must be a JSON object, got " + show(doc));
        return result;
    }

    // Model first: its kind selects the preset, the applicable fields and the default data path.
    const json model = r.section(doc, "model");
    std::string kind, preset;
    if (auto it = model.find("kind"); it == model.end()) {
        r.error("model.kind", "model.kind is required: " + one_of({"mlp", "gpt"}));
    } else if (r.read(*it, "model.kind", kind) && !in(kind, {"mlp", "gpt"})) {
        r.error("model.kind", "model.kind=" + json_quoted(kind) + " must be " + one_of({"mlp", "gpt"}));
    }
    const bool kind_ok = in(kind, {"mlp", "gpt"});
    const std::vector<std::string> presets = model_presets(kind);
    preset = kind_ok ? presets.front() : "";
    if (auto it = model.find("preset"); it != model.end() && r.read(*it, "model.preset", preset) &&
                                        kind_ok &&
                                        std::find(presets.begin(), presets.end(), preset) ==
                                            presets.end()) {
        std::string list;
        for (const auto& p : presets) list += (list.empty() ? "" : ", ") + json_quoted(p);
        r.error("model.preset", "model.preset=" + json_quoted(preset) + " is not a " + kind +
                                    " preset; expected one of " + list);
    }
    if (kind_ok && std::find(presets.begin(), presets.end(), preset) != presets.end()) {
        s.model = model_preset(kind, preset);
    } else {
        s.model.kind = kind;
        s.model.preset = preset;
    }
    r.unknown_fields(model, "model", kind);
    r.field(model, "model", "activation", s.model.activation);
    if (kind != "gpt") r.field(model, "model", "hidden", s.model.hidden);
    if (kind != "mlp") {
        r.field(model, "model", "layers", s.model.layers);
        r.field(model, "model", "d_model", s.model.d_model);
        r.field(model, "model", "heads", s.model.heads);
        r.field(model, "model", "seq_len", s.model.seq_len);
        r.field(model, "model", "vocab", s.model.vocab);
    }

    const json data = r.section(doc, "data");
    r.unknown_fields(data, "data", kind);
    s.data.path = default_data_path(kind);
    r.field(data, "data", "path", s.data.path);

    const json training = r.section(doc, "training");
    r.unknown_fields(training, "training", kind);
    TrainingSpec& t = s.training;
    r.field(training, "training", "steps", t.steps);
    r.field(training, "training", "global_batch", t.global_batch);
    r.field(training, "training", "lr", t.lr);
    r.field(training, "training", "weight_decay", t.weight_decay);
    r.field(training, "training", "beta1", t.beta1);
    r.field(training, "training", "beta2", t.beta2);
    r.field(training, "training", "eps", t.eps);
    r.field(training, "training", "grad_clip", t.grad_clip);
    r.field(training, "training", "seed", t.seed);
    r.field(training, "training", "eval_every", t.eval_every);
    r.field(training, "training", "warmup_steps", t.warmup_steps);
    r.field(training, "training", "lr_schedule", t.lr_schedule);
    r.field(training, "training", "precision", t.precision);
    r.field(training, "training", "recompute", t.recompute);
    if (auto it = training.find("slow_rank"); it != training.end() && !it->is_null()) {
        if (!it->is_object()) {
            r.type_error("training.slow_rank", "an object {\"rank\": r, \"factor\": f}", *it);
        } else {
            for (const auto& [k, v] : it->items())
                if (k != "rank" && k != "factor")
                    r.error("training.slow_rank." + k, "unknown field training.slow_rank." + k +
                                                           " (training.slow_rank has \"rank\" and \"factor\")");
            if (!it->contains("rank"))
                r.error("training.slow_rank.rank", "training.slow_rank needs \"rank\" (the rank to slow down)");
            r.field(*it, "training.slow_rank", "rank", t.slow_rank);
            r.field(*it, "training.slow_rank", "factor", t.slow_factor);
        }
    }

    const json parallel = r.section(doc, "parallel");
    r.unknown_fields(parallel, "parallel", kind);
    ParallelSpec& p = s.parallel;
    r.field(parallel, "parallel", "dp", p.dp);
    r.field(parallel, "parallel", "tp", p.tp);
    r.field(parallel, "parallel", "pp", p.pp);
    r.field(parallel, "parallel", "micro_batches", p.micro_batches);
    r.field(parallel, "parallel", "schedule", p.schedule);
    r.field(parallel, "parallel", "zero", p.zero);
    r.field(parallel, "parallel", "bucket_mb", p.bucket_mb);
    r.field(parallel, "parallel", "overlap", p.overlap);
    r.field(parallel, "parallel", "virtual_stages", p.virtual_stages);
    r.field(parallel, "parallel", "sequence_parallel", p.sequence_parallel);
    r.field(parallel, "parallel", "vocab_parallel", p.vocab_parallel);
    r.field(parallel, "parallel", "dp_sync", p.dp_sync);
    r.field(parallel, "parallel", "servers", p.servers);
    if (auto it = parallel.find("staleness"); it != parallel.end()) {
        if (it->is_string() && it->get<std::string>() == "async")
            p.staleness = ParallelSpec::kAsync;
        else if (it->is_string())
            r.error("parallel.staleness", "parallel.staleness=" + it->dump() +
                                              " must be an integer >= 0 (0 = bulk-synchronous) or \"async\"");
        else
            r.field(parallel, "parallel", "staleness", p.staleness);
    }

    const json backend = r.section(doc, "backend");
    r.unknown_fields(backend, "backend", kind);
    r.field(backend, "backend", "device", s.backend.device);
    r.field(backend, "backend", "comm", s.backend.comm);
    r.field(backend, "backend", "blas_threads", s.backend.blas_threads);

    const json launch = r.section(doc, "launch");
    r.unknown_fields(launch, "launch", kind);
    LaunchSpec& l = s.launch;
    r.field(launch, "launch", "np", l.np);
    r.field(launch, "launch", "hosts", l.hosts);
    r.field(launch, "launch", "hostfile", l.hostfile);
    r.field(launch, "launch", "mpirun_args", l.mpirun_args);
    r.field(launch, "launch", "env", l.env);
    r.field(launch, "launch", "timeout_s", l.timeout_s);

    const json trace = r.section(doc, "trace");
    r.unknown_fields(trace, "trace", kind);
    r.field(trace, "trace", "enabled", s.trace.enabled);
    r.field(trace, "trace", "dir", s.trace.dir);
    r.field(trace, "trace", "flush_interval_s", s.trace.flush_interval_s);

    r.unknown_fields(doc, "", kind);
    if (doc.contains("name")) {
        r.field(doc, "", "name", s.name);
    } else {
        s.name = (kind_ok ? kind + "-" + preset : std::string("experiment")) + "-dp" +
                 std::to_string(p.dp) + "-tp" + std::to_string(p.tp) + "-pp" + std::to_string(p.pp);
    }
    return result;
}

namespace {

// The document of a spec file: comments allowed; an unreadable file, JSON syntax errors and keys
// given twice in one object are reported (field "" for the first two, the key's path for the last).
struct SpecDocument {
    json doc;  // discarded when the file could not be read or is not JSON
    std::vector<SpecError> errors;
};

SpecDocument read_spec_document(const std::string& path) {
    SpecDocument result;
    result.doc = json(json::value_t::discarded);
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        result.errors.push_back({"", "cannot read spec file " + path + ": it is a directory"});
        return result;
    }
    if (!in) {
        result.errors.push_back(
            {"", "cannot read spec file " + path + ": " + std::strerror(errno)});
        return result;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) {
        result.errors.push_back({"", "cannot read spec file " + path + ": read error"});
        return result;
    }

    // Duplicate keys: JSON parsers silently keep the last one; we report them.
    struct Frame {
        bool object;
        std::string path;
        std::vector<std::string> keys;
    };
    std::vector<Frame> stack;
    std::vector<SpecError> duplicates;
    auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
            case json::parse_event_t::array_start: {
                std::string p;
                if (!stack.empty())
                    p = stack.back().object
                            ? join(stack.back().path,
                                   stack.back().keys.empty() ? "" : stack.back().keys.back())
                            : stack.back().path + "[]";
                stack.push_back({event == json::parse_event_t::object_start, p, {}});
                break;
            }
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                if (!stack.empty()) stack.pop_back();
                break;
            case json::parse_event_t::key:
                if (!stack.empty() && parsed.is_string()) {
                    Frame& f = stack.back();
                    const std::string key = parsed.get<std::string>();
                    if (std::find(f.keys.begin(), f.keys.end(), key) != f.keys.end()) {
                        const std::string full = join(f.path, key);
                        duplicates.push_back(
                            {full, "duplicate key " + full + " in " + path +
                                       " (JSON keeps only the last value; give it once)"});
                    }
                    f.keys.push_back(key);
                }
                break;
            case json::parse_event_t::value:
                break;
        }
        return true;
    };

    json doc;
    try {
        doc = json::parse(buffer.str(), callback, /*allow_exceptions=*/true,
                          /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        std::string what = e.what();
        if (auto pos = what.find("] "); what.rfind("[json.exception", 0) == 0 &&
                                        pos != std::string::npos)
            what = what.substr(pos + 2);
        result.errors.push_back({"", path + ": not valid JSON: " + what});
        return result;
    }
    result.doc = std::move(doc);
    result.errors = std::move(duplicates);
    return result;
}

}  // namespace

bool LoadedSpec::document_ok() const {
    return std::none_of(errors.begin(), errors.end(), [](const SpecError& e) {
        return e.field.empty() || e.field == kOverrideField;
    }) && !doc.is_discarded();
}

LoadedSpec load_spec_file(const std::string& path, const SpecLoadOptions& options) {
    LoadedSpec out;
    SpecDocument d = read_spec_document(path);
    out.doc = std::move(d.doc);
    out.errors = std::move(d.errors);
    if (out.doc.is_discarded()) return out;
    for (const std::string& o : options.overrides) {
        try {
            apply_override(out.doc, o);
        } catch (const std::invalid_argument& e) {
            out.errors.push_back({kOverrideField, "--set " + o + ": " + e.what()});
        }
    }
    if (!out.document_ok()) return out;
    ParseResult pr = parse_spec(out.doc);
    out.spec = std::move(pr.spec);
    out.errors.insert(out.errors.end(), pr.errors.begin(), pr.errors.end());
    if (out.ok() && options.validate)
        out.errors = validate(out.spec, options.world_size, options.check_files);
    if (out.ok() && options.for_training) out.errors = simulator_only_fields(out.spec);
    return out;
}

ParseResult parse_spec_file(const std::string& path) {
    SpecLoadOptions o;
    o.validate = false;
    LoadedSpec l = load_spec_file(path, o);
    return {std::move(l.spec), std::move(l.errors)};
}

// ---------------------------------------------------------------------------------------------
// Validation

std::vector<SpecError> validate(const ExperimentSpec& s, int world_size, bool check_files) {
    std::vector<SpecError> errors;
    auto add = [&](const std::string& field, const std::string& message) {
        errors.push_back({field, message});
    };
    auto positive = [&](const std::string& field, double v) {
        if (!(v > 0)) add(field, field + "=" + num(v) + " must be positive");
    };
    auto positive_int = [&](const std::string& field, int v) {
        if (v <= 0) add(field, field + "=" + std::to_string(v) + " must be positive");
    };
    auto non_negative = [&](const std::string& field, double v, const std::string& note) {
        if (!(v >= 0) || !std::isfinite(v))
            add(field, field + "=" + num(v) + " must be >= 0" + note);
    };

    // name: it names the run (and, by default, its folder).
    if (s.name.empty()) {
        add("name", "name must not be empty");
    } else if (s.name == "." || s.name == ".." ||
               std::any_of(s.name.begin(), s.name.end(), [](char c) {
                   return c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
               })) {
        add("name", "name=" + json_quoted(s.name) +
                        " must not contain '/', '\\' or control characters, nor be '.' or '..' "
                        "(it names the run folder)");
    }

    // model
    const ModelSpec& m = s.model;
    const bool mlp = m.kind == "mlp", gpt = m.kind == "gpt";
    if (!mlp && !gpt) add("model.kind", "model.kind=" + json_quoted(m.kind) + " must be " + one_of({"mlp", "gpt"}));
    if (mlp || gpt) {
        const auto presets = model_presets(m.kind);
        if (std::find(presets.begin(), presets.end(), m.preset) == presets.end()) {
            std::string list;
            for (const auto& p : presets) list += (list.empty() ? "" : ", ") + json_quoted(p);
            add("model.preset", "model.preset=" + json_quoted(m.preset) + " is not a " + m.kind +
                                    " preset; expected one of " + list);
        }
    }
    if (mlp && !in(m.activation, {"relu", "gelu"}))
        add("model.activation",
            "model.activation=" + json_quoted(m.activation) + " must be " + one_of({"relu", "gelu"}));
    if (gpt && m.activation != "gelu")
        add("model.activation", "model.activation=" + json_quoted(m.activation) +
                                    " must be \"gelu\" for model.kind=\"gpt\" (its blocks use GELU)");
    if (mlp) {
        if (m.hidden.empty())
            add("model.hidden", "model.hidden must list at least one hidden width for model.kind=\"mlp\"");
        for (std::size_t i = 0; i < m.hidden.size(); ++i)
            positive_int("model.hidden[" + std::to_string(i) + "]", m.hidden[i]);
    }
    if (gpt) {
        positive_int("model.layers", m.layers);
        positive_int("model.d_model", m.d_model);
        positive_int("model.heads", m.heads);
        positive_int("model.seq_len", m.seq_len);
        positive_int("model.vocab", m.vocab);
        if (m.d_model > 0 && m.heads > 0 && m.d_model % m.heads != 0)
            add("model.d_model", "model.d_model=" + std::to_string(m.d_model) +
                                     " must be divisible by model.heads=" + std::to_string(m.heads) +
                                     " (each head gets d_model/heads channels)");
    }

    // data
    if (mlp || gpt) {
        // The Debian package is named whatever the path: the default data comes from it.
        const std::string hint =
            mlp ? std::string("; Fashion-MNIST comes from the Debian package dataset-fashion-mnist "
                              "(apt-get install dataset-fashion-mnist), installed in ") +
                      kDefaultMlpDataPath
                : std::string("; the default text corpus comes from the Debian package fortunes "
                              "(apt-get install fortunes), installed in ") +
                      kDefaultGptDataPath;
        std::error_code ec;
        if (s.data.path.empty()) {
            add("data.path", "data.path must not be empty");
        } else if (check_files && !fs::exists(s.data.path, ec)) {
            add("data.path", "data.path=" + s.data.path + " does not exist" + hint);
        } else if (check_files && mlp) {
            if (!fs::is_directory(s.data.path, ec)) {
                add("data.path", "data.path=" + s.data.path +
                                     " must be a directory holding the Fashion-MNIST IDX files");
            } else {
                for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                      "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
                    if (!fs::exists(fs::path(s.data.path) / f, ec)) {
                        add("data.path", "data.path=" + s.data.path + " has no " + f +
                                             " (Fashion-MNIST IDX files expected)" + hint);
                        break;
                    }
                }
            }
        }
    }

    // training
    const TrainingSpec& t = s.training;
    positive_int("training.steps", t.steps);
    positive_int("training.global_batch", t.global_batch);
    if (!(t.lr > 0) || !std::isfinite(t.lr)) add("training.lr", "training.lr=" + num(t.lr) + " must be positive");
    non_negative("training.weight_decay", t.weight_decay, "");
    for (auto [field, v] : {std::pair{"training.beta1", t.beta1}, std::pair{"training.beta2", t.beta2}})
        if (!(v >= 0 && v < 1)) add(field, std::string(field) + "=" + num(v) + " must be in [0, 1)");
    positive("training.eps", t.eps);
    non_negative("training.grad_clip", t.grad_clip, " (0 turns clipping off)");
    if (t.eval_every < 0)
        add("training.eval_every", "training.eval_every=" + std::to_string(t.eval_every) +
                                       " must be >= 0 (0 = no evaluation)");
    if (t.warmup_steps < 0)
        add("training.warmup_steps",
            "training.warmup_steps=" + std::to_string(t.warmup_steps) + " must be >= 0");
    if (!in(t.lr_schedule, {"constant", "cosine"}))
        add("training.lr_schedule", "training.lr_schedule=" + json_quoted(t.lr_schedule) + " must be " +
                                        one_of({"constant", "cosine"}));
    if (!in(t.precision, {"fp32", "bf16", "fp16"}))
        add("training.precision", "training.precision=" + json_quoted(t.precision) + " must be " +
                                      one_of({"fp32", "bf16", "fp16"}));
    if (!in(t.recompute, {"none", "selective", "full"}))
        add("training.recompute", "training.recompute=" + json_quoted(t.recompute) + " must be " +
                                      one_of({"none", "selective", "full"}));
    else if (mlp && t.recompute == "selective")
        add("training.recompute", "training.recompute=\"selective\" recomputes the attention scores "
                                  "(Korthikanti et al. 2022): model.kind=\"gpt\" only (use \"none\" or \"full\")");

    // parallel
    const ParallelSpec& p = s.parallel;
    positive_int("parallel.dp", p.dp);
    positive_int("parallel.tp", p.tp);
    positive_int("parallel.pp", p.pp);
    positive_int("parallel.micro_batches", p.micro_batches);
    if (!in(p.schedule, {"1f1b", "gpipe"}))
        add("parallel.schedule",
            "parallel.schedule=" + json_quoted(p.schedule) + " must be " + one_of({"1f1b", "gpipe"}));
    if (p.zero != 0 && p.zero != 1)
        add("parallel.zero",
            "parallel.zero=" + std::to_string(p.zero) + " must be 0 (off) or 1 (ZeRO-1)");
    positive("parallel.bucket_mb", p.bucket_mb);
    positive_int("parallel.virtual_stages", p.virtual_stages);
    if (p.sequence_parallel && p.tp == 1)
        add("parallel.sequence_parallel", "parallel.sequence_parallel=true needs parallel.tp > 1 (it splits the "
                                          "non-tensor-parallel parts of a layer over the tp ranks)");
    if (p.sequence_parallel && mlp)
        add("parallel.sequence_parallel",
            "parallel.sequence_parallel=true splits sequences: model.kind=\"gpt\" only");
    if (p.vocab_parallel && mlp)
        add("parallel.vocab_parallel", "parallel.vocab_parallel=true splits the embedding and LM head by "
                                       "vocabulary: model.kind=\"gpt\" only");
    // Parameter server and staleness (issue 18).
    if (!in(p.dp_sync, {"allreduce", "parameter_server"}))
        add("parallel.dp_sync", "parallel.dp_sync=" + json_quoted(p.dp_sync) + " must be " +
                                    one_of({"allreduce", "parameter_server"}));
    if (p.parameter_server()) {
        if (p.servers < 1)
            add("parallel.servers", "parallel.servers=" + std::to_string(p.servers) +
                                        " must be at least 1 with parallel.dp_sync=\"parameter_server\"");
        if (p.zero != 0)
            add("parallel.zero", "parallel.zero=" + std::to_string(p.zero) +
                                     " shards the optimizer over dp ranks; with parallel.dp_sync=\"parameter_server\" "
                                     "the servers hold it (use parallel.zero=0)");
    } else if (p.servers != 1) {
        add("parallel.servers", "parallel.servers=" + std::to_string(p.servers) +
                                    " needs parallel.dp_sync=\"parameter_server\" (all-reduce has no servers)");
    }
    if (p.staleness < 0 && p.staleness != ParallelSpec::kAsync)
        add("parallel.staleness", "parallel.staleness=" + std::to_string(p.staleness) +
                                      " must be >= 0 (0 = bulk-synchronous) or \"async\"");
    else if (p.staleness != 0 && !p.parameter_server())
        add("parallel.staleness",
            "parallel.staleness=" + (p.staleness == ParallelSpec::kAsync ? std::string("\"async\"") : std::to_string(p.staleness)) +
                " needs parallel.dp_sync=\"parameter_server\" (an all-reduce is synchronous: every rank "
                "waits for every other)");
    if (t.slow_rank != -1 || t.slow_factor != 1.0) {
        if (t.slow_rank < 0)
            add("training.slow_rank.rank", "training.slow_rank.rank=" + std::to_string(t.slow_rank) + " must be >= 0");
        else if (p.dp > 0 && p.tp > 0 && p.pp > 0 && t.slow_rank >= p.workers())
            add("training.slow_rank.rank", "training.slow_rank.rank=" + std::to_string(t.slow_rank) +
                                               " must be a training rank, 0.." + std::to_string(p.workers() - 1) +
                                               " (parallel.dp*tp*pp=" + std::to_string(p.workers()) + ")");
        if (!(t.slow_factor >= 1.0) || !std::isfinite(t.slow_factor))
            add("training.slow_rank.factor", "training.slow_rank.factor=" + num(t.slow_factor) +
                                                 " must be >= 1 (the rank's compute is done factor times)");
    }
    // Interleaved 1F1B (Narayanan et al. 2021), with Megatron-LM's rules.
    if (p.virtual_stages > 1) {
        const std::string v = "parallel.virtual_stages=" + std::to_string(p.virtual_stages);
        if (mlp)
            add("parallel.virtual_stages", v + " (interleaved 1F1B) is for model.kind=\"gpt\" only");
        if (p.pp < 2)
            add("parallel.virtual_stages", v + " (interleaved 1F1B) needs parallel.pp > 1, got " + std::to_string(p.pp));
        if (p.schedule != "1f1b")
            add("parallel.virtual_stages", v + " (interleaved 1F1B) needs parallel.schedule=\"1f1b\", got " +
                                               json_quoted(p.schedule));
        if (p.pp > 1 && p.micro_batches > 0 && p.micro_batches % p.pp != 0)
            add("parallel.micro_batches", "parallel.micro_batches=" + std::to_string(p.micro_batches) +
                                              " must be a multiple of parallel.pp=" + std::to_string(p.pp) +
                                              " with " + v + " (interleaved 1F1B, as Megatron-LM requires)");
        if (gpt && p.pp > 0 && m.layers > 0 && m.layers % (p.pp * p.virtual_stages) != 0)
            add("model.layers", "model.layers=" + std::to_string(m.layers) + " must be divisible by parallel.pp*" +
                                    "virtual_stages=" + std::to_string(p.pp) + "*" + std::to_string(p.virtual_stages) +
                                    "=" + std::to_string(p.pp * p.virtual_stages) +
                                    " (every model chunk holds the same number of layers, as Megatron-LM requires)");
    }
    const bool layout_ok = p.dp > 0 && p.tp > 0 && p.pp > 0 && p.micro_batches > 0;
    if (layout_ok) {
        if (gpt && m.heads > 0 && m.heads % p.tp != 0)
            add("parallel.tp", "parallel.tp=" + std::to_string(p.tp) +
                                   " must divide model.heads=" + std::to_string(m.heads));
        if (mlp) {
            std::string bad;
            for (std::size_t i = 0; i < m.hidden.size(); ++i)
                if (m.hidden[i] > 0 && m.hidden[i] % p.tp != 0)
                    bad += (bad.empty() ? "" : ", ") + ("model.hidden[" + std::to_string(i) + "]=") +
                           std::to_string(m.hidden[i]);
            if (!bad.empty())
                add("parallel.tp", "parallel.tp=" + std::to_string(p.tp) +
                                       " must divide every model.hidden width; it does not divide " +
                                       bad);
        }
        if (gpt && m.layers > 0 && p.pp > m.layers)
            add("parallel.pp", "parallel.pp=" + std::to_string(p.pp) +
                                   " must not exceed model.layers=" + std::to_string(m.layers) +
                                   " (every pipeline stage needs at least one layer)");
        // The trainer's pipeline units: Megatron pairs of linear layers (models/plan mlp_pair_blocks).
        if (const int blocks = models::mlp_pair_blocks(static_cast<int>(m.hidden.size()) + 1);
            mlp && !m.hidden.empty() && p.pp > blocks)
            add("parallel.pp", "parallel.pp=" + std::to_string(p.pp) + " must not exceed " + std::to_string(blocks) +
                                   ", the number of pipeline blocks of the MLP (its " +
                                   std::to_string(m.hidden.size() + 1) + " linear layers in pairs; model.hidden=[" +
                                   join_ints(m.hidden) + "])");
        const int64_t div = int64_t{p.dp} * p.micro_batches;
        if (t.global_batch > 0 && t.global_batch % div != 0)
            add("training.global_batch",
                "training.global_batch=" + std::to_string(t.global_batch) +
                    " must be divisible by parallel.dp*parallel.micro_batches=" +
                    std::to_string(p.dp) + "*" + std::to_string(p.micro_batches) + "=" +
                    std::to_string(div));
        const bool with_servers = p.parameter_server() && p.servers > 0;
        const int64_t world = int64_t{p.dp} * p.tp * p.pp + (with_servers ? p.servers : 0);
        const std::string world_text =
            (with_servers ? "parallel.dp*tp*pp+servers=" : "parallel.dp*tp*pp=") + std::to_string(p.dp) + "*" +
            std::to_string(p.tp) + "*" + std::to_string(p.pp) + (with_servers ? "+" + std::to_string(p.servers) : "") +
            "=" + std::to_string(world);
        if (world_size >= 0 && world_size != world)
            add("parallel", "world size " + std::to_string(world_size) +
                                " (ranks started) must equal " + world_text);
        if (s.launch.np > 0 && s.launch.np != world)
            add("launch.np", "launch.np=" + std::to_string(s.launch.np) + " must be 0 or " +
                                 world_text);
    }

    // backend
    if (!in(s.backend.device, {"cpu", "cuda", "auto"}))
        add("backend.device", "backend.device=" + json_quoted(s.backend.device) + " must be " +
                                  one_of({"cpu", "cuda", "auto"}));
    if (!in(s.backend.comm, {"auto", "nccl", "mpi"}))
        add("backend.comm", "backend.comm=" + json_quoted(s.backend.comm) + " must be " +
                                one_of({"auto", "nccl", "mpi"}));
    if (s.backend.device == "cpu" && s.backend.comm == "nccl")
        add("backend.comm", "backend.comm=\"nccl\" needs GPU ranks: backend.device is \"cpu\" "
                            "(use \"cuda\" or \"auto\", or backend.comm \"auto\" | \"mpi\")");
    if (s.backend.blas_threads < 1)
        add("backend.blas_threads", "backend.blas_threads=" + std::to_string(s.backend.blas_threads) +
                                        " must be at least 1");

    // launch
    const LaunchSpec& l = s.launch;
    if (l.np < 0)
        add("launch.np", "launch.np=" + std::to_string(l.np) + " must be >= 0 (0 = parallel.dp*tp*pp)");
    for (std::size_t i = 0; i < l.hosts.size(); ++i)
        if (l.hosts[i].empty())
            add("launch.hosts[" + std::to_string(i) + "]",
                "launch.hosts[" + std::to_string(i) + "] must not be empty");
    if (check_files && !l.hostfile.empty()) {
        std::error_code ec;
        if (!fs::is_regular_file(l.hostfile, ec))
            add("launch.hostfile", "launch.hostfile=" + l.hostfile + " does not exist");
    }
    for (const auto& [k, v] : l.env)
        if (k.empty() || k.find('=') != std::string::npos)
            add("launch.env." + k, "launch.env key " + json_quoted(k) +
                                       " is not a valid environment variable name");
    non_negative("launch.timeout_s", l.timeout_s, " (0 = no limit)");

    // trace
    positive("trace.flush_interval_s", s.trace.flush_interval_s);
    return errors;
}

// ---------------------------------------------------------------------------------------------
// Overrides and messages

void apply_override(json& spec, const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("override " + json_quoted(assignment) +
                                    " must have the form path=value, e.g. parallel.dp=2");
    const std::string path = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    if (!spec.is_object()) spec = json::object();

    // Split "a.b.c" (at most three parts: launch.env.NAME).
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto dot = path.find('.', start);
        parts.push_back(path.substr(start, dot == std::string::npos ? dot : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    auto unknown = [&](const std::string& near) {
        throw std::invalid_argument("unknown spec field " + path + " in override " +
                                    json_quoted(assignment) + near);
    };

    json parsed;
    bool is_json = true;
    try {
        parsed = json::parse(text);
    } catch (const json::parse_error&) {
        is_json = false;
    }
    // String fields take the text itself unless it is a quoted JSON string.
    auto as_string = [&]() -> json {
        return is_json && parsed.is_string() ? parsed : json(text);
    };

    if (parts.size() == 1) {
        if (parts[0] == "name") {
            spec["name"] = as_string();
            return;
        }
        if (is_section(parts[0])) {
            spec[parts[0]] = is_json ? parsed : json(text);
            return;
        }
        unknown(suggestion("", parts[0]));
    }
    const std::string& section = parts[0];
    if (!is_section(section)) unknown(suggestion("", section));
    json& sec = spec[section];
    if (sec.is_null()) sec = json::object();
    if (!sec.is_object())
        throw std::invalid_argument("cannot apply override " + json_quoted(assignment) + ": " +
                                    section + " is not an object in the spec");

    if (parts.size() == 3 && section == "launch" && parts[1] == "env" && !parts[2].empty()) {
        json& env = sec["env"];
        if (env.is_null()) env = json::object();
        if (!env.is_object())
            throw std::invalid_argument("cannot apply override " + json_quoted(assignment) +
                                        ": launch.env is not an object in the spec");
        env[parts[2]] = as_string();
        return;
    }
    const Field* f = parts.size() == 2 ? find_field(section, parts[1]) : nullptr;
    if (!f) unknown(parts.size() == 2 ? suggestion(section, parts[1]) : "");
    sec[parts[1]] = f->type == Type::String ? as_string() : (is_json ? parsed : json(text));
}

std::vector<SpecError> simulator_only_fields(const ExperimentSpec& s) {
    std::vector<SpecError> out;
    auto refuse = [&](const std::string& field, const std::string& value, const std::string& runs) {
        out.push_back({field, field + "=" + value + " is for the simulator only: the trainer runs " + runs +
                                  " (use `scalescope-cli simulate` for this spec)"});
    };
    if (s.model.kind == "gpt" && s.model.vocab != 256)
        refuse("model.vocab", std::to_string(s.model.vocab), "a byte-level vocabulary (256)");
    if (s.training.precision != "fp32")
        refuse("training.precision", json_quoted(s.training.precision), "float32 only (\"fp32\")");
    if (s.training.recompute != "none")
        refuse("training.recompute", json_quoted(s.training.recompute), "without recomputation (\"none\")");
    if (s.parallel.virtual_stages != 1)
        refuse("parallel.virtual_stages", std::to_string(s.parallel.virtual_stages),
               "one model chunk per stage (1)");
    if (s.parallel.sequence_parallel)
        refuse("parallel.sequence_parallel", "true", "tensor parallelism without sequence parallelism (false)");
    if (s.parallel.vocab_parallel)
        refuse("parallel.vocab_parallel", "true", "the embedding and LM head replicated over tp (false)");
    // The trainer's parameter server (models/ps.h) shards one flat parameter vector that every
    // worker holds whole: tensor- and pipeline-parallel ranks hold different parts, which it does
    // not map (refused rather than half supported; the simulator models them).
    const ParallelSpec& p = s.parallel;
    if (p.parameter_server()) {
        const std::string why = ": the trainer's parameter server trains data-parallel workers only (parallel.tp=1, "
                                "parallel.pp=1; `scalescope-cli simulate` models the others)";
        if (p.tp > 1)
            out.push_back({"parallel.tp", "parallel.dp_sync=\"parameter_server\" with parallel.tp=" + std::to_string(p.tp) + why});
        if (p.pp > 1)
            out.push_back({"parallel.pp", "parallel.dp_sync=\"parameter_server\" with parallel.pp=" + std::to_string(p.pp) + why});
        if (s.backend.comm == "nccl")
            out.push_back({"backend.comm", "parallel.dp_sync=\"parameter_server\" with backend.comm=\"nccl\": the "
                                           "parameter server runs over MPI (backend.comm=\"mpi\" or \"auto\")"});
    }
    return out;
}

std::string format_errors(const std::vector<SpecError>& errors) {
    std::string out;
    for (const auto& e : errors) out += e.message + "\n";
    return out;
}

}  // namespace ss::core

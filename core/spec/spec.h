// The experiment spec: one JSON document that says what to train (model, data, training), how
// (parallel layout, backend), where (launch) and what to record (trace). docs/SPEC.md documents
// every field, its type, default and rules.
//
// Flow: parse_spec() (types, unknown fields, presets, defaults) -> validate() (semantic rules)
// -> the launcher and every worker use the same ExperimentSpec. No Qt here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ss::core {

// Default data locations (Debian packages).
inline constexpr const char* kDefaultMlpDataPath = "/usr/share/datasets/fashion-mnist";  // dataset-fashion-mnist
inline constexpr const char* kDefaultGptDataPath = "/usr/share/games/fortunes";          // fortunes

// One problem in a spec. `field` is the dotted path of the offending field ("parallel.tp",
// "model.hidden[1]"), "parallel" for rules that involve the layout as a whole, or "" for problems
// with the document itself (file unreadable, not JSON). `message` is self-contained and names the
// field(s) and values, e.g. "parallel.tp=3 must divide model.heads=4".
struct SpecError {
    std::string field;
    std::string message;
    bool operator==(const SpecError&) const = default;
};

struct ModelSpec {
    std::string kind;        // "mlp" | "gpt"
    std::string preset;      // mlp: "default"; gpt: "tiny" | "mini" | "small"
    std::string activation;  // mlp: "relu" | "gelu" (default relu); gpt: "gelu" only
    std::vector<int> hidden;  // mlp: hidden layer widths, input_dim -> hidden... -> classes
    int layers = 0;           // gpt: transformer blocks
    int d_model = 0;          // gpt: residual width
    int heads = 0;            // gpt: attention heads (d_model % heads == 0)
    int seq_len = 0;          // gpt: context length in tokens (bytes)
    int vocab = 256;          // gpt: token vocabulary; the trainer is byte-level (256), other values
                              // are for the simulator only
    int input_dim = 784;      // mlp: 28x28 Fashion-MNIST pixels (fixed)
    int classes = 10;         // mlp: Fashion-MNIST classes (fixed)
    bool operator==(const ModelSpec&) const = default;
};

struct DataSpec {
    std::string path;  // default by model.kind: kDefaultMlpDataPath / kDefaultGptDataPath
    bool operator==(const DataSpec&) const = default;
};

struct TrainingSpec {
    int steps = 100;
    int global_batch = 64;  // samples (mlp) or sequences (gpt) per optimizer step, all ranks together
    int eval_every = 0;     // evaluate every N steps; 0 = no evaluation
    int warmup_steps = 0;   // linear learning-rate warm-up from 0 over this many steps
    double lr = 1e-3;
    double weight_decay = 0.0;  // AdamW decoupled weight decay
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double grad_clip = 1.0;  // global gradient-norm clip; 0 = off
    uint64_t seed = 1234;
    std::string lr_schedule = "constant";  // "constant" | "cosine" (to 0 at the last step)
    // Large-model features (issue 17); the trainer runs only the defaults, the simulator all of them.
    std::string precision = "fp32";  // "fp32" | "bf16" | "fp16": 16-bit = mixed precision (16-bit
                                     // weights, gradients and activations; fp32 master weights and Adam moments)
    std::string recompute = "none";  // activation recomputation: "none" | "selective" (attention
                                     // scores, Korthikanti et al. 2022) | "full" (one more forward per micro-batch)
    // The straggler knob (issue 18): rank `slow_rank` does its compute `slow_factor` times (real extra
    // work, recorded as such). JSON: "slow_rank": {"rank": r, "factor": f}; absent = nobody slowed.
    int slow_rank = -1;        // -1 = none
    double slow_factor = 1.0;  // >= 1
    bool mixed_precision() const { return precision == "bf16" || precision == "fp16"; }
    bool operator==(const TrainingSpec&) const = default;
};

struct ParallelSpec {
    int dp = 1;             // data-parallel replicas
    int tp = 1;             // tensor-parallel ranks per replica
    int pp = 1;             // pipeline stages
    int micro_batches = 1;  // per data-parallel replica and step
    int zero = 0;           // 0 = plain DP, 1 = ZeRO-1 (optimizer state sharded over dp)
    std::string schedule = "1f1b";  // "1f1b" | "gpipe"
    double bucket_mb = 4.0;         // gradient all-reduce bucket size in MiB
    bool overlap = true;            // overlap gradient communication with backward
    int virtual_stages = 1;         // model chunks per pipeline stage: interleaved 1F1B when > 1 (simulator only)
    bool sequence_parallel = false; // Megatron sequence parallelism beside tp > 1 (simulator only)
    bool vocab_parallel = false;    // gpt: embedding and LM head split over tp by vocabulary, as Megatron-LM does (simulator only)
    // Data-parallel synchronisation (issue 18): "allreduce" (gradients all-reduced over dp) or
    // "parameter_server" (`servers` extra ranks hold the parameters sharded across them; workers
    // push gradients and pull parameters; the optimizer runs on the servers).
    std::string dp_sync = "allreduce";
    int servers = 1;  // parameter-server ranks (dp_sync = "parameter_server"): ranks workers() .. world()-1
    // Bounded staleness of a parameter server: 0 = bulk-synchronous (BSP), s > 0 = stale-synchronous
    // (a worker may run up to s steps ahead of the slowest), kAsync = fully asynchronous (no bound).
    // JSON: 0 | s | "async".
    static constexpr int kAsync = -1;
    int staleness = 0;
    bool parameter_server() const { return dp_sync == "parameter_server"; }
    int workers() const { return dp * tp * pp; }  // the ranks that train (every rank but the servers)
    int world() const { return workers() + (parameter_server() ? servers : 0); }  // ranks launched
    bool operator==(const ParallelSpec&) const = default;
};

struct BackendSpec {
    std::string device = "cpu";  // "cpu" | "cuda" | "auto" (cuda where the rank sees a GPU, else cpu)
    std::string comm = "auto";   // GPU ranks: "nccl" | "mpi" (device buffers staged through pinned
                                 // host memory) | "auto" (nccl when every rank has its own GPU)
    int blas_threads = 1;        // OpenBLAS threads per rank
    bool operator==(const BackendSpec&) const = default;
};

struct LaunchSpec {
    int np = 0;  // ranks to start; 0 = parallel.world()
    std::vector<std::string> hosts;        // mpirun --host entries ("node1:4")
    std::string hostfile;                  // mpirun --hostfile
    std::vector<std::string> mpirun_args;  // extra mpirun arguments, passed verbatim
    std::map<std::string, std::string> env;  // environment variables for every rank
    double timeout_s = 0;  // wall-clock limit of the whole run; 0 = none
    bool operator==(const LaunchSpec&) const = default;
};

struct TraceSpec {
    bool enabled = true;
    std::string dir;                // run folder; "" = chosen by the launcher
    double flush_interval_s = 2.0;  // rank trace files are flushed at this interval
    bool operator==(const TraceSpec&) const = default;
};

struct ExperimentSpec {
    std::string name;
    ModelSpec model;
    DataSpec data;
    TrainingSpec training;
    ParallelSpec parallel;
    BackendSpec backend;
    LaunchSpec launch;
    TraceSpec trace;

    // The complete, resolved spec (presets and defaults filled in); parse_spec(to_json()) gives
    // back an equal spec.
    nlohmann::json to_json() const;
    bool operator==(const ExperimentSpec&) const = default;
};

struct ParseResult {
    ExperimentSpec spec;  // filled as far as the document allowed, even when there are errors
    std::vector<SpecError> errors;
    bool ok() const { return errors.empty(); }
};

// Reads a spec document. Reports every type error and every unknown field at any level (with its
// full path), not just the first. Presets are applied first; explicit fields override them.
ParseResult parse_spec(const nlohmann::json& doc);
// Same from a file (load_spec_file without overrides and validation). `//` and `/* */` comments
// are allowed. A file that cannot be read or is not JSON gives one error naming the file (and the
// line and column of a JSON syntax error); a key given twice in one object is reported too.
ParseResult parse_spec_file(const std::string& path);

// THE spec loader: how the worker, the CLI verbs and the GUI read a spec file. In order: the file
// (comments allowed; unreadable, not JSON and keys given twice in one object are reported naming
// the file), the --set overrides (apply_override; a bad one is an error with field "--set"),
// parse_spec, then validate (only when everything before had no problem).
inline constexpr const char* kOverrideField = "--set";

struct SpecLoadOptions {
    std::vector<std::string> overrides;  // "path=value", applied in order
    bool validate = true;                // also the semantic rules
    int world_size = -1;                 // validate's world size (-1: not known yet)
    bool check_files = true;             // validate's data-file check
    bool for_training = false;           // also refuse what only the simulator models (simulator_only_fields)
};

struct LoadedSpec {
    nlohmann::json doc;  // the file's document with the overrides applied; discarded when unreadable
    ExperimentSpec spec;  // filled as far as the document allowed
    // Duplicate keys first, then one of: the document problem (field ""), the --set problems
    // (field kOverrideField), the parse problems, the validation problems.
    std::vector<SpecError> errors;
    bool ok() const { return errors.empty(); }
    // The file was read as JSON and every --set applied (errors, if any, are about the spec's fields).
    bool document_ok() const;
};

LoadedSpec load_spec_file(const std::string& path, const SpecLoadOptions& options = {});

// Semantic rules (docs/SPEC.md "Rules"). world_size < 0 means "not known yet" and skips the
// world-size rule; check_files=true also checks that data.path exists and holds the data.
std::vector<SpecError> validate(const ExperimentSpec& spec, int world_size = -1,
                                bool check_files = true);

// Applies one "path=value" override to a spec document, e.g. "parallel.dp=2",
// "model.hidden=[128,128]", "training.lr=3e-4", "launch.env.OMP_NUM_THREADS=4". The value is
// parsed as JSON, else taken as a string. Missing sections are created. Throws
// std::invalid_argument naming the path when the path is not a field of the spec format, or the
// assignment has no '='.
void apply_override(nlohmann::json& spec, const std::string& assignment);

// The fields the trainer (worker, `run`, studies) cannot run, each naming the field and saying its
// value is for the simulator only: model.vocab other than 256, training.precision other than
// "fp32", training.recompute other than "none", parallel.virtual_stages > 1,
// parallel.sequence_parallel, parallel.vocab_parallel. `simulate` accepts them
// (SpecLoadOptions::for_training = false).
std::vector<SpecError> simulator_only_fields(const ExperimentSpec& spec);

// One line per problem (the messages), each ending in '\n'.
std::string format_errors(const std::vector<SpecError>& errors);

// Presets and derived numbers.
// The fields a preset sets; throws std::invalid_argument for an unknown kind/preset.
ModelSpec model_preset(const std::string& kind, const std::string& preset);
std::vector<std::string> model_presets(const std::string& kind);  // {} for an unknown kind

// Trainable parameters of the GPT described by `m` (byte vocab, learned positions, pre-LN,
// separate (untied) LM head without bias):
//   wte V*d + wpe S*d + L*(12*d^2 + 13*d) + final LN 2*d + lm_head V*d
// per block: ln1 2d, qkv d*3d+3d, attn proj d*d+d, ln2 2d, fc d*4d+4d, fc proj 4d*d+d.
int64_t gpt_param_count(const ModelSpec& m);
// Trainable parameters of the MLP: sum over linear layers of in*out + out.
int64_t mlp_param_count(const ModelSpec& m);
// Dispatches on m.kind; 0 for an unknown kind.
int64_t param_count(const ModelSpec& m);

}  // namespace ss::core

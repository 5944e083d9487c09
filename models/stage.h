// One pipeline stage of a model on one rank: its parameter shard, its activation slots and its
// forward / backward over one micro-batch. The trainer (models/trainer.h) moves activations and
// gradients between stages and owns the optimizer; stages own the math and the tensor-parallel
// all-reduces (Megatron's f and g operators) inside their blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "models/comm.h"
#include "models/params.h"

namespace ss::models {

// Host data of one micro-batch, filled by a BatchSource.
struct HostMicroBatch {
    int samples = 0;
    std::vector<std::int32_t> tokens;   // gpt: (samples, T) inputs
    std::vector<std::int32_t> targets;  // gpt: (samples, T) next bytes; mlp: (samples) labels;
                                        // a negative target is padding (no loss, not counted)
    std::vector<float> features;        // mlp: (samples, input_dim)
};

// The samples of a step's global batch; a pure function of (step, sample index).
class BatchSource {
public:
    virtual ~BatchSource() = default;
    // Fills samples [first, first+count) of the global batch of `step` (reusing out's capacity).
    virtual void fill(std::int64_t step, int first, int count, HostMicroBatch& out) const = 0;
};

// What a stage needs to know about its place in the run.
struct StageEnv {
    kernels::Backend* backend = nullptr;
    Comm* comm = nullptr;        // tp all-reduces use GroupKind::Tp
    int tp = 1, tp_rank = 0;     // tensor-parallel degree and this rank's index
    int pp = 1, pp_rank = 0;     // pipeline stages and this rank's stage
    int micro_batch = 1;         // samples per micro-batch on this rank
    int num_slots = 1;           // activation slots (micro-batches in flight)
    float loss_scale = 1.0f;     // d(step loss)/d(per-sample/token loss) = 1/(global samples|tokens)
    std::uint64_t seed = 0;
    bool first() const { return pp_rank == 0; }
    bool last() const { return pp_rank == pp - 1; }
};

// Called during backward with a flat-parameter offset: the gradients [offset, size) are final.
using GradReadyFn = std::function<void(std::size_t offset)>;

class Stage {
public:
    virtual ~Stage() = default;

    virtual std::string describe() const = 0;  // e.g. "gpt stage 0/2: blocks [0,1) + embedding"
    virtual ParamStore& params() = 0;
    // Parameters of the whole model (all stages, unsplit): for FLOP counts and reports.
    virtual std::int64_t model_params() const = 0;

    // Elements of the activation received from the previous stage / sent to the next per
    // micro-batch (0 on the first / last stage).
    virtual std::size_t in_elems() const = 0;
    virtual std::size_t out_elems() const = 0;
    virtual float* in_act(int slot) = 0;    // received activation       (in_elems)
    virtual float* in_grad(int slot) = 0;   // d loss / d in_act, to send (in_elems)
    virtual float* out_act(int slot) = 0;   // activation to send         (out_elems)
    virtual float* out_grad(int slot) = 0;  // received d loss / d out_act (out_elems)

    // Copies the micro-batch's inputs (first stage) and targets (last stage) into the slot.
    virtual void load(int slot, const HostMicroBatch& mb) = 0;
    // Forward over the slot. On the last stage it computes the per-sample losses and, when
    // training, the loss gradient (scaled by loss_scale) for backward.
    virtual void forward(int slot, bool training) = 0;
    // Backward over the slot; accumulates into params().grads(). `ready` (may be empty) is told
    // as parameter ranges become final.
    virtual void backward(int slot, const GradReadyFn& ready) = 0;
    // Last stage, after forward: sum of the per-sample (mlp) or per-token (gpt) losses and the
    // number of counted (non-padding) targets; correct predictions for a classifier (else 0).
    virtual double loss_sum(int slot) = 0;
    virtual std::int64_t target_count(int slot) = 0;
    virtual std::int64_t correct(int slot) { (void)slot; return 0; }
};

// ---- model configurations (plain structs; the worker maps the JSON spec onto them) ----

enum class Activation { Relu, Gelu };
Activation parse_activation(const std::string& name);  // "relu" | "gelu"

struct MlpConfig {
    int input_dim = 784;
    int classes = 10;
    std::vector<int> hidden{256, 128};
    Activation activation = Activation::Relu;
};

// Linear layers input_dim -> hidden... -> classes are grouped into Megatron pairs: layers (0,1),
// (2,3), ... are (column-parallel, row-parallel); an odd last layer is replicated on every tp rank.
// These blocks are the units pipeline stages split. Returns the number of blocks.
int mlp_blocks(const MlpConfig& cfg);
std::int64_t mlp_param_count(const MlpConfig& cfg);
// Throws std::invalid_argument naming the field when the config cannot run on (tp, pp).
void check_mlp(const MlpConfig& cfg, int tp, int pp);
std::unique_ptr<Stage> make_mlp_stage(const MlpConfig& cfg, const StageEnv& env);

struct GptConfig {
    int vocab = 256;
    int seq_len = 64;
    int d_model = 64;
    int heads = 4;
    int layers = 2;
};
// wte V*C + wpe T*C + L*(12*C^2 + 13*C) + final LN 2*C + untied LM head V*C (no bias).
std::int64_t gpt_param_count(const GptConfig& cfg);
void check_gpt(const GptConfig& cfg, int tp, int pp);
std::unique_ptr<Stage> make_gpt_stage(const GptConfig& cfg, const StageEnv& env);

}  // namespace ss::models

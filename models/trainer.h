// The training engine of one rank: runs the pipeline schedule of its stage over the micro-batches
// of its data-parallel slice, moves activations / gradients between stages (send/recv on the pp
// group), reduces gradients over the dp group in buckets (all-reduce, or reduce-scatter with
// ZeRO-1), clips by the global gradient norm and applies AdamW.
//
// Per step (s = 0-based step, B = global batch, m = micro-batches, b = B/(dp*m)):
//   replica d processes samples [d*B/dp, (d+1)*B/dp) of the global batch of step s,
//   micro-batch k the samples [d*B/dp + k*b, +b).
//   The loss is the mean over all B samples (mlp) or B*T tokens (gpt). Gradient averaging over
//   replicas is folded into the loss scale 1/(B[*T]), so the dp reduction is a plain sum.
//   Gradient norm: every element counted once in the world: tp-replicated tensors only on tp
//   rank 0, dp-replicated gradients (no ZeRO) only on dp rank 0, ZeRO shards on their owner;
//   the partial sums of squares are summed over the world together with the loss.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "models/plan/buckets.h"
#include "models/comm.h"
#include "models/plan/layout.h"
#include "models/plan/schedule.h"
#include "models/stage.h"

namespace ss::models {

class PsClient;

struct ParallelConfig {
    Layout layout;
    int micro_batches = 1;
    PipeSchedule schedule = PipeSchedule::OneFOneB;
    int zero = 0;            // 0 | 1
    double bucket_mb = 4.0;  // MiB of float32 per gradient bucket; <= 0: one bucket
    bool overlap = true;     // start bucket reductions during the last micro-batch's backward
    // Parameter server (models/ps.h): no dp reduction and no optimizer on this rank; the trainer
    // pushes gradients and pulls parameters through the PsClient given with set_parameter_server.
    bool parameter_server = false;
    bool ps_bsp = true;  // staleness 0: the step loss is the global batch's (a loss all-reduce)
};

enum class LrSchedule { Constant, Cosine };
LrSchedule parse_lr_schedule(const std::string& name);  // "constant" | "cosine"

struct OptimConfig {
    float lr = 1e-3f;
    float weight_decay = 0.0f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float grad_clip = 1.0f;  // <= 0: off
    int warmup_steps = 0;
    LrSchedule schedule = LrSchedule::Constant;
    int total_steps = 1;
};

// Learning rate of 0-based `step`: linear warm-up lr*(step+1)/warmup over the first warmup steps,
// then constant, or cosine lr*0.5*(1+cos(pi*t)) with t = (step-warmup)/(total-1-warmup) going
// from 0 to 1 at the last step.
float learning_rate(const OptimConfig& cfg, int step);
// AdamW's settings at 0-based `step` (learning_rate, betas, eps); weight decay is per tensor (the
// caller sets it: decayed weights get cfg.weight_decay, biases and norms 0).
kernels::AdamWConfig adamw_config(const OptimConfig& cfg, std::int64_t step);

struct StepStats {
    double loss = 0;        // mean loss of the global batch (every rank gets it)
    double grad_norm = 0;   // global gradient norm before clipping
    float lr = 0;
};

struct EvalStats {
    double loss = 0;          // mean over counted targets
    std::int64_t count = 0;   // counted targets (samples or tokens)
    std::int64_t correct = 0; // classifier: correct predictions
    double accuracy() const { return count > 0 ? static_cast<double>(correct) / count : 0.0; }
};

// Micro-batch size and activation slots for a stage; throws std::invalid_argument when the global
// batch is not divisible by dp*micro_batches.
int micro_batch_size(int global_batch, const ParallelConfig& par);
int activation_slots(const ParallelConfig& par, int pp_rank);

class Trainer {
public:
    Trainer(Comm& comm, kernels::Backend& backend, Stage& stage, const ParallelConfig& par,
            const OptimConfig& opt, int global_batch);

    // One optimizer step over the global batch of `step`.
    StepStats train_step(std::int64_t step, const BatchSource& data);
    // Forward only over `batches` global batches of `data` (batch k = "step" k); padding targets
    // (< 0) are not counted. Every rank gets the result.
    EvalStats evaluate(const BatchSource& data, int batches);

    const std::vector<Bucket>& buckets() const { return buckets_; }
    // Parameter server: the client (not owned) that train_step pushes to and pulls from. The
    // step's loss is the global batch's under BSP; under SSP / async (no step-wise agreement
    // among workers) it is this worker's slice's (B/dp samples).
    void set_parameter_server(PsClient* ps) { ps_ = ps; }

private:
    void run_forward(int mb, std::int64_t step, const BatchSource& data, bool training);
    void run_backward(int mb);
    void on_grads_ready(std::size_t offset);
    void launch_bucket(std::size_t i, bool blocking);
    void finish_grad_reduction();
    void apply_update(std::int64_t step, double sq_norm);
    StepStats ps_step(std::int64_t step);
    double local_sq_norm();

    Comm& comm_;
    PsClient* ps_ = nullptr;
    kernels::Backend& be_;
    Stage& stage_;
    ParallelConfig par_;
    OptimConfig opt_;
    int global_batch_ = 0;
    int mb_size_ = 0;
    int slots_ = 1;
    int dp_ = 1, dp_rank_ = 0, tp_rank_ = 0, pp_ = 1, pp_rank_ = 0;
    bool zero_ = false;
    std::vector<PipeAction> actions_;
    HostMicroBatch host_mb_;
    std::vector<CommRequest> fwd_sends_;  // (slots) pending activation send per slot
    std::vector<CommRequest> bwd_sends_;  // (slots) pending gradient send per slot
    double step_loss_sum_ = 0;
    std::int64_t step_count_ = 0, step_correct_ = 0;

    // gradient reduction
    std::vector<Bucket> buckets_;
    std::vector<CommRequest> bucket_reqs_;    // (buckets)
    std::vector<std::size_t> shard_offset_;   // (buckets) offset of this rank's chunk in the shard
    std::size_t next_bucket_ = 0;
    bool reducing_ = false;                   // inside the final micro-batch's backward

    // optimizer state over this rank's update range: all local params, or its ZeRO shard
    struct UpdateRun {
        std::size_t param = 0;  // offset in the flat params
        std::size_t state = 0;  // offset in shard_grad / m / v
        std::size_t len = 0;
        bool decay = false;
        bool tp_replicated = false;
    };
    std::vector<UpdateRun> runs_;
    kernels::DeviceBuffer<float> shard_grad_;  // (shard) ZeRO: reduced gradient chunks
    kernels::DeviceBuffer<float> m_, v_;       // (shard or all local params) AdamW moments
};

}  // namespace ss::models

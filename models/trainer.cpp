#include "models/trainer.h"

#include "profiler/profiler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/cpu_kernels.h"
#include "models/ps.h"

namespace ss::models {

namespace {
constexpr int kTagActivation = 11;
constexpr int kTagGradient = 12;
}  // namespace

LrSchedule parse_lr_schedule(const std::string& name) {
    if (name == "constant") return LrSchedule::Constant;
    if (name == "cosine") return LrSchedule::Cosine;
    throw std::invalid_argument("unknown lr schedule '" + name + "' (constant | cosine)");
}

float learning_rate(const OptimConfig& c, int step) {
    if (c.warmup_steps > 0 && step < c.warmup_steps)
        return c.lr * static_cast<float>(step + 1) / static_cast<float>(c.warmup_steps);
    if (c.schedule == LrSchedule::Constant) return c.lr;
    const int span = std::max(1, c.total_steps - 1 - c.warmup_steps);
    const double t = std::min(1.0, static_cast<double>(step - c.warmup_steps) / span);
    return static_cast<float>(c.lr * 0.5 * (1.0 + std::cos(M_PI * t)));
}

kernels::AdamWConfig adamw_config(const OptimConfig& o, std::int64_t step) {
    kernels::AdamWConfig cfg;
    cfg.lr = learning_rate(o, static_cast<int>(step));
    cfg.beta1 = o.beta1;
    cfg.beta2 = o.beta2;
    cfg.eps = o.eps;
    return cfg;
}

int micro_batch_size(int global_batch, const ParallelConfig& par) {
    const int div = par.layout.dp * par.micro_batches;
    if (global_batch <= 0 || par.micro_batches <= 0 || global_batch % div != 0)
        throw std::invalid_argument("training.global_batch=" + std::to_string(global_batch) +
                                    " must be divisible by parallel.dp*parallel.micro_batches=" +
                                    std::to_string(div));
    return global_batch / div;
}

int activation_slots(const ParallelConfig& par, int pp_rank) {
    return max_in_flight(
        pipeline_schedule(par.schedule, par.layout.pp, pp_rank, par.micro_batches));
}

Trainer::Trainer(Comm& comm, kernels::Backend& backend, Stage& stage, const ParallelConfig& par,
                 const OptimConfig& opt, int global_batch)
    : comm_(comm), be_(backend), stage_(stage), par_(par), opt_(opt), global_batch_(global_batch) {
    mb_size_ = micro_batch_size(global_batch, par);
    dp_ = comm.size(GroupKind::Dp);
    dp_rank_ = comm.rank(GroupKind::Dp);
    tp_rank_ = comm.rank(GroupKind::Tp);
    pp_ = comm.size(GroupKind::Pp);
    pp_rank_ = comm.rank(GroupKind::Pp);
    if (dp_ != par.layout.dp || pp_ != par.layout.pp || comm.size(GroupKind::Tp) != par.layout.tp)
        throw std::logic_error("Trainer: communicator groups do not match layout " +
                               to_string(par.layout));
    zero_ = par.zero == 1 && dp_ > 1;
    actions_ = pipeline_schedule(par.schedule, pp_, pp_rank_, par.micro_batches);
    slots_ = max_in_flight(actions_);
    fwd_sends_.resize(static_cast<std::size_t>(slots_));
    bwd_sends_.resize(static_cast<std::size_t>(slots_));

    ParamStore& store = stage.params();
    buckets_ = plan_buckets(store.size(), bucket_elems_for_mb(par.bucket_mb), dp_);
    bucket_reqs_.resize(buckets_.size());

    // Update runs: the parts of each parameter segment this rank updates.
    auto add_runs = [&](std::size_t lo, std::size_t hi, std::size_t state_at) {
        for (const ParamSegment& seg : store.segments()) {
            const std::size_t a = std::max(lo, seg.offset), b = std::min(hi, seg.offset + seg.size);
            if (a >= b) continue;
            runs_.push_back({a, state_at + (a - lo), b - a, seg.decay, seg.tp_replicated});
        }
    };
    std::size_t state_elems = 0;
    if (par.parameter_server) {
        // The servers hold the optimizer state; this rank keeps none.
        state_elems = 0;
    } else if (zero_) {
        shard_offset_.resize(buckets_.size());
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            const Bucket& bk = buckets_[i];
            const std::size_t lo = bk.begin + static_cast<std::size_t>(bk.displs[static_cast<std::size_t>(dp_rank_)]);
            const std::size_t len = static_cast<std::size_t>(bk.counts[static_cast<std::size_t>(dp_rank_)]);
            shard_offset_[i] = state_elems;
            add_runs(lo, lo + len, state_elems);
            state_elems += len;
        }
        shard_grad_ = kernels::DeviceBuffer<float>(backend, std::max<std::size_t>(state_elems, 1));
        be_.zero(shard_grad_.data(), shard_grad_.bytes());
    } else {
        add_runs(0, store.size(), 0);
        state_elems = store.size();
    }
    m_ = kernels::DeviceBuffer<float>(backend, std::max<std::size_t>(state_elems, 1));
    v_ = kernels::DeviceBuffer<float>(backend, std::max<std::size_t>(state_elems, 1));
    be_.zero(m_.data(), m_.bytes());
    be_.zero(v_.data(), v_.bytes());
}

void Trainer::run_forward(int mb, std::int64_t step, const BatchSource& data, bool training) {
    profiler::context().micro_batch = mb;
    profiler::Span phase("forward", traces::EventKind::Phase, profiler::lanes::kPhases);
    const int slot = mb % slots_;
    const PipePeers peers = pipe_peers(PipeAction::Forward, pp_, pp_rank_);
    if (peers.recv_from >= 0)
        comm_.recv(GroupKind::Pp, stage_.in_act(slot), stage_.in_elems(), peers.recv_from,
                   kTagActivation);
    const bool first = pp_rank_ == 0, last = pp_rank_ == pp_ - 1;
    if (first || last) {
        profiler::Span load("data", traces::EventKind::HostRange, profiler::lanes::kHost);
        const int per_replica = global_batch_ / dp_;
        data.fill(step, dp_rank_ * per_replica + mb * mb_size_, mb_size_, host_mb_);
        stage_.load(slot, host_mb_);
    }
    // The slot's previous activation send must be done before forward overwrites its buffer.
    fwd_sends_[static_cast<std::size_t>(slot)].wait();
    stage_.forward(slot, training);
    if (last) {
        step_loss_sum_ += stage_.loss_sum(slot);
        step_count_ += stage_.target_count(slot);
        step_correct_ += stage_.correct(slot);
    } else {
        fwd_sends_[static_cast<std::size_t>(slot)] =
            comm_.isend(GroupKind::Pp, stage_.out_act(slot), stage_.out_elems(), peers.send_to,
                        kTagActivation);
    }
}

void Trainer::run_backward(int mb) {
    profiler::context().micro_batch = mb;
    profiler::Span phase("backward", traces::EventKind::Phase, profiler::lanes::kPhases);
    const int slot = mb % slots_;
    const PipePeers peers = pipe_peers(PipeAction::Backward, pp_, pp_rank_);
    if (peers.recv_from >= 0)
        comm_.recv(GroupKind::Pp, stage_.out_grad(slot), stage_.out_elems(), peers.recv_from,
                   kTagGradient);
    bwd_sends_[static_cast<std::size_t>(slot)].wait();
    const bool final_mb = mb == par_.micro_batches - 1;
    reducing_ = final_mb && dp_ > 1 && par_.overlap && !par_.parameter_server;
    if (reducing_)
        stage_.backward(slot, [this](std::size_t offset) { on_grads_ready(offset); });
    else
        stage_.backward(slot, {});
    reducing_ = false;
    if (peers.send_to >= 0)
        bwd_sends_[static_cast<std::size_t>(slot)] =
            comm_.isend(GroupKind::Pp, stage_.in_grad(slot), stage_.in_elems(), peers.send_to,
                        kTagGradient);
}

void Trainer::launch_bucket(std::size_t i, bool blocking) {
    const Bucket& b = buckets_[i];
    float* grads = stage_.params().grads() + b.begin;
    if (zero_) {
        float* recv = shard_grad_.data() + shard_offset_[i];
        if (blocking)
            comm_.reduce_scatter(GroupKind::Dp, grads, recv, b.counts);
        else
            bucket_reqs_[i] = comm_.ireduce_scatter(GroupKind::Dp, grads, recv, b.counts);
    } else {
        if (blocking)
            comm_.all_reduce(GroupKind::Dp, grads, b.size());
        else
            bucket_reqs_[i] = comm_.iall_reduce(GroupKind::Dp, grads, b.size());
    }
}

void Trainer::on_grads_ready(std::size_t offset) {
    // Buckets are ordered from the end of the flat buffer; launch every one now complete.
    const std::size_t ready = buckets_ready(buckets_, next_bucket_, offset);
    while (next_bucket_ < ready) launch_bucket(next_bucket_++, false);
    // A progress point (models/comm.h CommProgress). Thread progress (the default): the
    // communication thread gets the core if it has work, and test() reads a flag and completes
    // the requests already done. Poll progress: MPI_I* collectives advance only inside MPI calls,
    // so test them here, where backward finished a tensor.
    comm_.progress();
    for (std::size_t i = 0; i < next_bucket_; ++i) bucket_reqs_[i].test();
}

void Trainer::finish_grad_reduction() {
    if (dp_ == 1) return;
    if (par_.overlap) {
        while (next_bucket_ < buckets_.size()) launch_bucket(next_bucket_++, false);
        // The last bucket first: the group's communication thread runs them in posting order, so
        // this thread sleeps once instead of waking for every bucket on the core the
        // communication thread needs (MPI progresses all of them in Poll mode too).
        if (!bucket_reqs_.empty()) bucket_reqs_.back().wait();
        for (auto& r : bucket_reqs_) r.wait();
    } else {
        for (std::size_t i = 0; i < buckets_.size(); ++i) launch_bucket(i, true);
    }
    next_bucket_ = 0;
}

double Trainer::local_sq_norm() {
    // Count every gradient element once in the world (see trainer.h).
    if (!zero_ && dp_rank_ != 0) return 0.0;
    const float* base = zero_ ? shard_grad_.data() : stage_.params().grads();
    double sum = 0;
    for (const UpdateRun& r : runs_) {
        if (r.tp_replicated && tp_rank_ != 0) continue;
        sum += be_.sum_squares(base + r.state, r.len);
    }
    return sum;
}

void Trainer::apply_update(std::int64_t step, double sq_norm) {
    const double norm = std::sqrt(sq_norm);
    const float clip = kernels::clip_coefficient(norm, opt_.grad_clip);
    kernels::AdamWConfig cfg = adamw_config(opt_, step);
    float* params = stage_.params().params();
    const float* grads = zero_ ? shard_grad_.data() : stage_.params().grads();
    for (const UpdateRun& r : runs_) {
        cfg.weight_decay = r.decay ? opt_.weight_decay : 0.0f;
        be_.adamw_update(params + r.param, grads + r.state, m_.data() + r.state,
                         v_.data() + r.state, r.len, cfg, step + 1, clip);
    }
    if (zero_) {
        // Every rank updated its chunk of every bucket; gather the chunks back.
        for (std::size_t i = 0; i < buckets_.size(); ++i)
            bucket_reqs_[i] = comm_.iall_gather(GroupKind::Dp, params + buckets_[i].begin,
                                                buckets_[i].counts, buckets_[i].displs);
        for (auto& r : bucket_reqs_) r.wait();
    }
}

StepStats Trainer::train_step(std::int64_t step, const BatchSource& data) {
    ParamStore& store = stage_.params();
    be_.zero(store.grads(), store.size() * sizeof(float));
    step_loss_sum_ = 0;
    step_count_ = 0;
    step_correct_ = 0;
    next_bucket_ = 0;
    for (const PipeAction& a : actions_) {
        if (a.kind == PipeAction::Forward)
            run_forward(a.micro_batch, step, data, true);
        else
            run_backward(a.micro_batch);
    }
    profiler::context().micro_batch = traces::kNone;
    if (par_.parameter_server) return ps_step(step);
    {
        profiler::Span phase("gradient_sync", traces::EventKind::Phase, profiler::lanes::kPhases);
        for (auto& r : fwd_sends_) r.wait();
        for (auto& r : bwd_sends_) r.wait();
        finish_grad_reduction();
    }

    profiler::Span phase("optimizer", traces::EventKind::Phase, profiler::lanes::kPhases);
    // One world all-reduce carries the loss and target count (last stage, tp rank 0) and the
    // squared-norm parts of every rank.
    const bool reports_loss = pp_rank_ == pp_ - 1 && tp_rank_ == 0;
    double sums[3] = {reports_loss ? step_loss_sum_ : 0.0,
                      reports_loss ? static_cast<double>(step_count_) : 0.0, local_sq_norm()};
    if (comm_.world_size() > 1) comm_.all_reduce(GroupKind::World, sums, 3);
    apply_update(step, sums[2]);

    StepStats st;
    st.loss = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
    st.grad_norm = std::sqrt(sums[2]);
    st.lr = learning_rate(opt_, static_cast<int>(step));
    return st;
}

StepStats Trainer::ps_step(std::int64_t step) {
    if (ps_ == nullptr) throw std::logic_error("Trainer: parallel.parameter_server without a PsClient");
    PsStepInfo info;
    {
        // Push the gradients, pull the parameters of the next step (the servers ran AdamW).
        profiler::Span phase("gradient_sync", traces::EventKind::Phase, profiler::lanes::kPhases);
        for (auto& r : fwd_sends_) r.wait();
        for (auto& r : bwd_sends_) r.wait();
        info = ps_->exchange(step);
    }
    const bool reports_loss = pp_rank_ == pp_ - 1 && tp_rank_ == 0;
    double sums[2] = {reports_loss ? step_loss_sum_ : 0.0, reports_loss ? static_cast<double>(step_count_) : 0.0};
    if (par_.ps_bsp && comm_.world_size() > 1) comm_.all_reduce(GroupKind::World, sums, 2);
    StepStats st;
    st.loss = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
    st.grad_norm = info.grad_norm;
    st.lr = learning_rate(opt_, static_cast<int>(step));
    return st;
}

EvalStats Trainer::evaluate(const BatchSource& data, int batches) {
    step_loss_sum_ = 0;
    step_count_ = 0;
    step_correct_ = 0;
    for (int k = 0; k < batches; ++k) {
        for (int mb = 0; mb < par_.micro_batches; ++mb) run_forward(mb, k, data, false);
        for (auto& r : fwd_sends_) r.wait();
    }
    profiler::context().micro_batch = traces::kNone;
    const bool reports = pp_rank_ == pp_ - 1 && tp_rank_ == 0;
    double sums[3] = {reports ? step_loss_sum_ : 0.0,
                      reports ? static_cast<double>(step_count_) : 0.0,
                      reports ? static_cast<double>(step_correct_) : 0.0};
    if (comm_.world_size() > 1) comm_.all_reduce(GroupKind::World, sums, 3);
    EvalStats e;
    e.count = static_cast<std::int64_t>(sums[1]);
    e.correct = static_cast<std::int64_t>(sums[2]);
    e.loss = e.count > 0 ? sums[0] / static_cast<double>(e.count) : 0.0;
    return e;
}

}  // namespace ss::models

// MLP classifier stage: input_dim -> hidden... -> classes, ReLU or GELU between layers, softmax
// cross-entropy on the logits.
//
// Tensor parallel (Megatron-style pairs): linear layers (0,1), (2,3), ... form blocks of a
// column-parallel layer (this rank holds out/tp rows of W and b) followed by a row-parallel one
// (in/tp columns of W; its output partial sums are all-reduced over tp (g), then the replicated
// bias is added). The activation between them is applied to the local slice. Backward all-reduces
// the input gradient of each column-parallel layer (f). An odd last layer is replicated.
// Pipeline stages split the blocks contiguously (models/plan/schedule.h, stage_units).
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/arena.h"
#include "models/plan/schedule.h"
#include "models/stage.h"

namespace ss::models {

Activation parse_activation(const std::string& name) {
    if (name == "relu") return Activation::Relu;
    if (name == "gelu") return Activation::Gelu;
    throw std::invalid_argument("unknown activation '" + name + "' (relu | gelu)");
}

namespace {

enum class Split { Column, Row, Replicated };

struct LinearDef {
    int in = 0, out = 0;
    Split split = Split::Replicated;
    int block = 0;
};

std::vector<LinearDef> mlp_linears(const MlpConfig& c) {
    std::vector<int> widths{c.input_dim};
    widths.insert(widths.end(), c.hidden.begin(), c.hidden.end());
    widths.push_back(c.classes);
    const int n = static_cast<int>(widths.size()) - 1;
    std::vector<LinearDef> out;
    for (int i = 0; i < n; ++i) {
        LinearDef d;
        d.in = widths[static_cast<std::size_t>(i)];
        d.out = widths[static_cast<std::size_t>(i) + 1];
        d.block = i / 2;
        if (i % 2 == 0)
            d.split = i + 1 < n ? Split::Column : Split::Replicated;
        else
            d.split = Split::Row;
        out.push_back(d);
    }
    return out;
}

}  // namespace

int mlp_blocks(const MlpConfig& c) { return mlp_pair_blocks(static_cast<int>(c.hidden.size()) + 1); }

std::int64_t mlp_param_count(const MlpConfig& c) {
    std::int64_t n = 0;
    for (const LinearDef& d : mlp_linears(c)) n += static_cast<std::int64_t>(d.in) * d.out + d.out;
    return n;
}

void check_mlp(const MlpConfig& c, int tp, int pp) {
    if (c.input_dim <= 0 || c.classes <= 0)
        throw std::invalid_argument("mlp: input_dim and classes must be positive");
    for (std::size_t i = 0; i < c.hidden.size(); ++i)
        if (c.hidden[i] <= 0)
            throw std::invalid_argument("model.hidden[" + std::to_string(i) + "] must be positive");
    for (const LinearDef& d : mlp_linears(c))
        if (d.split == Split::Column && d.out % tp != 0)
            throw std::invalid_argument("parallel.tp=" + std::to_string(tp) +
                                        " must divide the hidden width " + std::to_string(d.out));
    if (pp > mlp_blocks(c))
        throw std::invalid_argument("parallel.pp=" + std::to_string(pp) + " exceeds the " +
                                    std::to_string(mlp_blocks(c)) +
                                    " pipeline blocks of the MLP (pairs of linear layers)");
}

namespace {

struct LinearParams {
    std::size_t w = 0, b = 0;  // offsets; w (out_l, in_l), b (out_l)
    int in_l = 0, out_l = 0;   // local sizes
    bool last = false;         // the classifier layer (no activation)
};

struct LinearActs {
    float* z = nullptr;  // (B, out_l) pre-activation (logits for the last layer)
    float* a = nullptr;  // (B, out_l) activation output (nullptr for the last layer)
};

struct Slot {
    float* x_in = nullptr;            // (B, in) features (first stage) or received activation
    float* in_grad = nullptr;         // (B, in)
    float* out_grad = nullptr;        // (B, out) received gradient
    std::int32_t* targets = nullptr;  // (B)
    float* losses = nullptr;          // (B)
    std::vector<LinearActs> acts;
    std::int64_t counted = 0;
    std::int64_t correct = 0;
};

class MlpStage final : public Stage {
public:
    MlpStage(const MlpConfig& cfg, const StageEnv& env) : cfg_(cfg), env_(env), be_(*env.backend) {
        check_mlp(cfg, env.tp, env.pp);
        const UnitRange blocks = stage_units(mlp_blocks(cfg), env.pp, env.pp_rank);
        for (const LinearDef& d : mlp_linears(cfg))
            if (d.block >= blocks.begin && d.block < blocks.end) defs_.push_back(d);
        total_linears_ = static_cast<int>(cfg.hidden.size()) + 1;
        first_index_ = 2 * blocks.begin;
        B_ = env.micro_batch;
        build_params();
        carve();
        arena_.allocate(be_);
        carve();
        init_params();
    }

    std::string describe() const override {
        return "mlp stage " + std::to_string(env_.pp_rank) + "/" + std::to_string(env_.pp) +
               ": linear layers [" + std::to_string(first_index_) + "," +
               std::to_string(first_index_ + static_cast<int>(defs_.size())) + "), tp " +
               std::to_string(env_.tp_rank) + "/" + std::to_string(env_.tp) + ", " +
               std::to_string(store_.size()) + " local params";
    }
    ParamStore& params() override { return store_; }
    std::int64_t model_params() const override { return mlp_param_count(cfg_); }

    std::size_t in_elems() const override {
        return env_.first() ? 0 : static_cast<std::size_t>(B_) * defs_.front().in;
    }
    std::size_t out_elems() const override {
        return env_.last() ? 0 : static_cast<std::size_t>(B_) * defs_.back().out;
    }
    float* in_act(int s) override { return slots_[s].x_in; }
    float* in_grad(int s) override { return slots_[s].in_grad; }
    float* out_act(int s) override { return output(slots_[s]); }
    float* out_grad(int s) override { return slots_[s].out_grad; }

    void load(int s, const HostMicroBatch& mb) override {
        Slot& sl = slots_[s];
        if (mb.samples != B_)
            throw std::logic_error("mlp stage: micro-batch of " + std::to_string(mb.samples) +
                                   " samples, expected " + std::to_string(B_));
        if (env_.first())
            be_.copy_to_device(sl.x_in, mb.features.data(),
                               static_cast<std::size_t>(B_) * cfg_.input_dim * sizeof(float));
        if (env_.last()) {
            be_.copy_to_device(sl.targets, mb.targets.data(), static_cast<std::size_t>(B_) * sizeof(std::int32_t));
            host_targets_.assign(mb.targets.begin(), mb.targets.begin() + B_);
            sl.counted = 0;
            for (int t : host_targets_) sl.counted += t >= 0 ? 1 : 0;
        }
    }

    void forward(int s, bool training) override {
        Slot& sl = slots_[s];
        const float* x = sl.x_in;
        for (std::size_t i = 0; i < defs_.size(); ++i) {
            const LinearDef& d = defs_[i];
            const LinearParams& w = lp_[i];
            LinearActs& a = sl.acts[i];
            if (d.split == Split::Row) {
                be_.linear_forward(a.z, x, p(w.w), nullptr, B_, w.in_l, w.out_l);
                if (env_.tp > 1)
                    env_.comm->all_reduce(GroupKind::Tp, a.z, static_cast<std::size_t>(B_) * w.out_l);  // g
                be_.bias_add(a.z, p(w.b), B_, w.out_l);
            } else {
                be_.linear_forward(a.z, x, p(w.w), p(w.b), B_, w.in_l, w.out_l);
            }
            if (!w.last) activate(a.a, a.z, static_cast<std::size_t>(B_) * w.out_l);
            x = w.last ? a.z : a.a;
        }
        if (env_.last()) {
            float* logits = sl.acts.back().z;  // (B, classes)
            const int K = cfg_.classes;
            // Predictions first: training overwrites the logits with their gradient.
            host_logits_.resize(static_cast<std::size_t>(B_) * K);
            be_.copy_to_host(host_logits_.data(), logits, host_logits_.size() * sizeof(float));
            sl.correct = 0;
            for (int b = 0; b < B_; ++b) {
                const float* row = host_logits_.data() + static_cast<std::size_t>(b) * K;
                int best = 0;
                for (int k = 1; k < K; ++k)
                    if (row[k] > row[best]) best = k;
                sl.correct += (host_targets_[static_cast<std::size_t>(b)] == best) ? 1 : 0;
            }
            if (training)
                be_.fused_classifier(logits, sl.losses, logits, sl.targets, B_, K, env_.loss_scale);
            else
                be_.crossentropy_forward(sl.losses, nullptr, logits, sl.targets, B_, K);
        }
    }

    void backward(int s, const GradReadyFn& ready) override {
        Slot& sl = slots_[s];
        // dy: gradient w.r.t. the current layer's output (post-activation unless last layer).
        const float* dy = env_.last() ? sl.acts.back().z : sl.out_grad;
        int ping = 0;
        for (int i = static_cast<int>(defs_.size()) - 1; i >= 0; --i) {
            const LinearDef& d = defs_[static_cast<std::size_t>(i)];
            const LinearParams& w = lp_[static_cast<std::size_t>(i)];
            const LinearActs& a = sl.acts[static_cast<std::size_t>(i)];
            const std::size_t nout = static_cast<std::size_t>(B_) * w.out_l;
            const float* dz = dy;
            if (!w.last) {
                be_.zero(dz_, nout * sizeof(float));
                activate_backward(dz_, a.z, dy, nout);
                dz = dz_;
            }
            const float* x = i > 0 ? sl.acts[static_cast<std::size_t>(i) - 1].a : sl.x_in;
            float* dx = nullptr;
            if (i > 0) {
                dx = dy_[ping];
                ping ^= 1;
            } else if (!env_.first()) {
                dx = sl.in_grad;
            }
            const std::size_t nin = static_cast<std::size_t>(B_) * w.in_l;
            if (dx) be_.zero(dx, nin * sizeof(float));
            be_.linear_backward(dx, g(w.w), g(w.b), dz, x, p(w.w), B_, w.in_l, w.out_l);
            if (dx && d.split == Split::Column && env_.tp > 1)
                env_.comm->all_reduce(GroupKind::Tp, dx, nin);  // f
            dy = dx;
            // A block is finished once its first linear layer is.
            if (ready && (i == 0 || defs_[static_cast<std::size_t>(i) - 1].block != d.block))
                ready(w.w);
        }
    }

    double loss_sum(int s) override {
        host_losses_.resize(static_cast<std::size_t>(B_));
        be_.copy_to_host(host_losses_.data(), slots_[s].losses, host_losses_.size() * sizeof(float));
        double sum = 0;
        for (float v : host_losses_) sum += v;
        return sum;
    }
    std::int64_t target_count(int s) override { return slots_[s].counted; }
    std::int64_t correct(int s) override { return slots_[s].correct; }

private:
    float* p(std::size_t off) { return store_.param(off); }
    float* g(std::size_t off) { return store_.grad(off); }
    float* output(Slot& sl) {
        return lp_.back().last ? sl.acts.back().z : sl.acts.back().a;
    }
    void activate(float* out, const float* in, std::size_t n) {
        if (cfg_.activation == Activation::Relu) be_.relu_forward(out, in, n);
        else be_.gelu_forward(out, in, n);
    }
    void activate_backward(float* din, const float* in, const float* dout, std::size_t n) {
        if (cfg_.activation == Activation::Relu) be_.relu_backward(din, in, dout, n);
        else be_.gelu_backward(din, in, dout, n);
    }

    void build_params() {
        for (std::size_t i = 0; i < defs_.size(); ++i) {
            const LinearDef& d = defs_[i];
            LinearParams w;
            w.in_l = d.split == Split::Row ? d.in / env_.tp : d.in;
            w.out_l = d.split == Split::Column ? d.out / env_.tp : d.out;
            w.last = first_index_ + static_cast<int>(i) == total_linears_ - 1;
            const std::string name = "fc" + std::to_string(first_index_ + static_cast<int>(i));
            w.w = store_.add(name + ".w", static_cast<std::size_t>(w.out_l) * w.in_l,
                             d.split == Split::Replicated, true);
            w.b = store_.add(name + ".b", static_cast<std::size_t>(w.out_l),
                             d.split != Split::Column, false);
            lp_.push_back(w);
        }
        store_.allocate(be_);
    }

    // He initialisation N(0, 2/in) for the weights of the full (out, in) matrix, zero biases;
    // each rank fills its slice.
    void init_params() {
        const std::size_t r = static_cast<std::size_t>(env_.tp_rank);
        std::vector<float> host;
        for (std::size_t i = 0; i < defs_.size(); ++i) {
            const LinearDef& d = defs_[i];
            const LinearParams& w = lp_[i];
            const auto key = tensor_key(env_.seed, "fc" + std::to_string(first_index_ + static_cast<int>(i)) + ".w");
            const float sd = std::sqrt(2.0f / static_cast<float>(d.in));
            host.assign(static_cast<std::size_t>(w.out_l) * w.in_l, 0.f);
            const std::size_t row0 = d.split == Split::Column ? r * w.out_l : 0;
            const std::size_t col0 = d.split == Split::Row ? r * w.in_l : 0;
            init_normal_slice(host.data(), key, sd, static_cast<std::size_t>(d.in), row0,
                              static_cast<std::size_t>(w.out_l), col0, static_cast<std::size_t>(w.in_l));
            be_.copy_to_device(p(w.w), host.data(), host.size() * sizeof(float));
        }
    }

    void carve() {
        const std::size_t B = B_;
        std::size_t widest = 0;
        for (const LinearParams& w : lp_)
            widest = std::max({widest, static_cast<std::size_t>(w.in_l), static_cast<std::size_t>(w.out_l),
                               static_cast<std::size_t>(defs_.front().in)});
        slots_.assign(static_cast<std::size_t>(env_.num_slots), Slot{});
        for (Slot& s : slots_) {
            s.x_in = arena_.take<float>(B * defs_.front().in);
            s.in_grad = arena_.take<float>(B * defs_.front().in);
            if (!env_.last()) s.out_grad = arena_.take<float>(B * defs_.back().out);
            if (env_.last()) {
                s.targets = arena_.take<std::int32_t>(B);
                s.losses = arena_.take<float>(B);
            }
            s.acts.resize(lp_.size());
            for (std::size_t i = 0; i < lp_.size(); ++i) {
                s.acts[i].z = arena_.take<float>(B * lp_[i].out_l);
                if (!lp_[i].last) s.acts[i].a = arena_.take<float>(B * lp_[i].out_l);
            }
        }
        dz_ = arena_.take<float>(B * widest);     // (B, widest)
        dy_[0] = arena_.take<float>(B * widest);  // (B, widest)
        dy_[1] = arena_.take<float>(B * widest);  // (B, widest)
    }

    MlpConfig cfg_;
    StageEnv env_;
    kernels::Backend& be_;
    std::vector<LinearDef> defs_;
    std::vector<LinearParams> lp_;
    int total_linears_ = 0, first_index_ = 0, B_ = 0;
    ParamStore store_;
    detail::Arena arena_;
    std::vector<Slot> slots_;
    float* dz_ = nullptr;
    float* dy_[2] = {nullptr, nullptr};
    std::vector<float> host_logits_, host_losses_;
    std::vector<std::int32_t> host_targets_;
};

}  // namespace

std::unique_ptr<Stage> make_mlp_stage(const MlpConfig& cfg, const StageEnv& env) {
    return std::make_unique<MlpStage>(cfg, env);
}

}  // namespace ss::models

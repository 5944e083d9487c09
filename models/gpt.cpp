// GPT-style decoder stage (byte vocabulary, learned positions, pre-LN blocks, final LN, untied LM
// head without bias). The LM head is untied so pipeline stages own disjoint parameters (a tied
// head would need an extra all-reduce of the embedding gradient between the first and last stage).
//
// Block (x: (B,T,C)):  x + Proj(Attn(QKV(LN1(x)))) -> r;  r + FcProj(GELU(Fc(LN2(r))))
// Tensor parallel (Megatron-LM, Shoeybi et al. 2019): each tp rank holds NH/tp heads, i.e. the
// q, k and v rows of its heads in QKV (column-parallel) and the matching input columns of Proj
// (row-parallel), and 4C/tp rows of Fc (column-parallel) with the matching columns of FcProj
// (row-parallel). Forward all-reduces the two row-parallel outputs (g), backward all-reduces the
// gradients of the two column-parallel inputs (f): 2 + 2 all-reduces of B*T*C values per block.
// Row-parallel biases are added once, after the all-reduce. LayerNorms, embeddings and the LM head
// are replicated on every tp rank.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/arena.h"
#include "models/plan/schedule.h"
#include "models/stage.h"

namespace ss::models {

std::int64_t gpt_param_count(const GptConfig& c) {
    const std::int64_t C = c.d_model, V = c.vocab, T = c.seq_len, L = c.layers;
    return V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C + V * C;
}

void check_gpt(const GptConfig& c, int tp, int pp) {
    auto fail = [](const std::string& m) { throw std::invalid_argument(m); };
    if (c.vocab <= 0 || c.seq_len <= 0 || c.d_model <= 0 || c.heads <= 0 || c.layers <= 0)
        fail("gpt: vocab, seq_len, d_model, heads and layers must be positive");
    if (c.d_model % c.heads != 0)
        fail("model.heads=" + std::to_string(c.heads) + " must divide model.d_model=" +
             std::to_string(c.d_model));
    if (c.heads % tp != 0)
        fail("parallel.tp=" + std::to_string(tp) + " must divide model.heads=" +
             std::to_string(c.heads));
    if (pp > c.layers)
        fail("parallel.pp=" + std::to_string(pp) + " must not exceed model.layers=" +
             std::to_string(c.layers));
}

namespace {

using kernels::Backend;

struct BlockParams {  // offsets into the flat store
    std::size_t ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, fcpw, fcpb;
    std::size_t begin;
};

struct BlockActs {
    float* ln1;       // (B,T,C)
    float* ln1_mean;  // (B,T)
    float* ln1_rstd;  // (B,T)
    float* qkv;       // (B,T,3Cl)
    float* atty;      // (B,T,Cl)
    float* att;       // (B,NHl,T,T)
    float* attproj;   // (B,T,C)
    float* res2;      // (B,T,C)
    float* ln2;       // (B,T,C)
    float* ln2_mean;  // (B,T)
    float* ln2_rstd;  // (B,T)
    float* fch;       // (B,T,F)
    float* fch_gelu;  // (B,T,F)
    float* fcproj;    // (B,T,C)
    float* res3;      // (B,T,C) block output
};

struct Slot {
    std::int32_t* tokens = nullptr;   // (B,T)
    std::int32_t* targets = nullptr;  // (B,T)
    float* x_in = nullptr;            // (B,T,C) embedding output (first) or received activation
    float* in_grad = nullptr;         // (B,T,C) d loss / d x_in (also the running dx)
    float* out_grad = nullptr;        // (B,T,C) received from the next stage
    std::vector<BlockActs> blocks;
    float* lnf = nullptr;       // (B,T,C)
    float* lnf_mean = nullptr;  // (B,T)
    float* lnf_rstd = nullptr;  // (B,T)
    float* logits = nullptr;    // (B,T,V), overwritten by dlogits when training
    float* losses = nullptr;    // (B,T)
    std::int64_t counted = 0;
};

class GptStage final : public Stage {
public:
    GptStage(const GptConfig& cfg, const StageEnv& env) : cfg_(cfg), env_(env), be_(*env.backend) {
        check_gpt(cfg, env.tp, env.pp);
        range_ = stage_units(cfg.layers, env.pp, env.pp_rank);
        B_ = env.micro_batch;
        T_ = cfg.seq_len;
        C_ = cfg.d_model;
        V_ = cfg.vocab;
        Cl_ = C_ / env.tp;
        NHl_ = cfg.heads / env.tp;
        F_ = 4 * C_ / env.tp;
        build_params();
        // Two passes over the arena: plan, allocate, carve.
        carve();
        arena_.allocate(be_);
        carve();
        init_params();
    }

    std::string describe() const override {
        std::string s = "gpt stage " + std::to_string(env_.pp_rank) + "/" +
                        std::to_string(env_.pp) + ": blocks [" + std::to_string(range_.begin) +
                        "," + std::to_string(range_.end) + ")";
        if (env_.first()) s += " + embedding";
        if (env_.last()) s += " + final LN + LM head";
        s += ", tp " + std::to_string(env_.tp_rank) + "/" + std::to_string(env_.tp) + ", " +
             std::to_string(store_.size()) + " local params";
        return s;
    }
    ParamStore& params() override { return store_; }
    std::int64_t model_params() const override { return gpt_param_count(cfg_); }

    std::size_t in_elems() const override { return env_.first() ? 0 : act_elems(); }
    std::size_t out_elems() const override { return env_.last() ? 0 : act_elems(); }
    float* in_act(int s) override { return slots_[s].x_in; }
    float* in_grad(int s) override { return slots_[s].in_grad; }
    float* out_act(int s) override { return slots_[s].blocks.back().res3; }
    float* out_grad(int s) override { return slots_[s].out_grad; }

    void load(int s, const HostMicroBatch& mb) override {
        Slot& sl = slots_[s];
        const std::size_t n = static_cast<std::size_t>(B_) * T_;
        if (static_cast<std::size_t>(mb.samples) != static_cast<std::size_t>(B_))
            throw std::logic_error("gpt stage: micro-batch of " + std::to_string(mb.samples) +
                                   " samples, expected " + std::to_string(B_));
        if (env_.first()) be_.copy_to_device(sl.tokens, mb.tokens.data(), n * sizeof(std::int32_t));
        if (env_.last()) {
            be_.copy_to_device(sl.targets, mb.targets.data(), n * sizeof(std::int32_t));
            sl.counted = 0;
            for (std::size_t i = 0; i < n; ++i) sl.counted += mb.targets[i] >= 0 ? 1 : 0;
        }
    }

    void forward(int s, bool training) override {
        Slot& sl = slots_[s];
        const int BT = B_ * T_;
        if (env_.first())
            be_.embedding_forward(sl.x_in, sl.tokens, p(wte_), p(wpe_), B_, T_, C_);
        const float* x = sl.x_in;
        for (int l = 0; l < nblocks(); ++l) {
            const BlockParams& w = bp_[l];
            BlockActs& a = sl.blocks[l];
            be_.layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, x, p(w.ln1w), p(w.ln1b), BT, C_);
            be_.linear_forward(a.qkv, a.ln1, p(w.qkvw), p(w.qkvb), BT, C_, 3 * Cl_);
            be_.attention_forward(a.atty, a.att, a.qkv, B_, T_, Cl_, NHl_);
            be_.linear_forward(a.attproj, a.atty, p(w.projw), nullptr, BT, Cl_, C_);
            tp_all_reduce(a.attproj, act_elems());  // g
            be_.bias_add(a.attproj, p(w.projb), BT, C_);
            be_.residual_forward(a.res2, x, a.attproj, act_elems());
            be_.layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.res2, p(w.ln2w), p(w.ln2b), BT,
                                  C_);
            be_.linear_forward(a.fch, a.ln2, p(w.fcw), p(w.fcb), BT, C_, F_);
            be_.gelu_forward(a.fch_gelu, a.fch, static_cast<std::size_t>(BT) * F_);
            be_.linear_forward(a.fcproj, a.fch_gelu, p(w.fcpw), nullptr, BT, F_, C_);
            tp_all_reduce(a.fcproj, act_elems());  // g
            be_.bias_add(a.fcproj, p(w.fcpb), BT, C_);
            be_.residual_forward(a.res3, a.res2, a.fcproj, act_elems());
            x = a.res3;
        }
        if (env_.last()) {
            be_.layernorm_forward(sl.lnf, sl.lnf_mean, sl.lnf_rstd, x, p(lnfw_), p(lnfb_), BT, C_);
            be_.linear_forward(sl.logits, sl.lnf, p(lmw_), nullptr, BT, C_, V_);
            if (training)
                be_.fused_classifier(sl.logits, sl.losses, sl.logits, sl.targets, BT, V_,
                                     env_.loss_scale);
            else
                be_.crossentropy_forward(sl.losses, nullptr, sl.logits, sl.targets, BT, V_);
        }
    }

    void backward(int s, const GradReadyFn& ready) override {
        Slot& sl = slots_[s];
        const int BT = B_ * T_;
        const std::size_t nact = act_elems();
        float* dx = sl.in_grad;  // (B,T,C) running gradient of the residual stream
        if (env_.last()) {
            const float* x_last = nblocks() > 0 ? sl.blocks.back().res3 : sl.x_in;
            be_.zero(dlnf_, nact * sizeof(float));
            be_.linear_backward(dlnf_, g(lmw_), nullptr, sl.logits, sl.lnf, p(lmw_), BT, C_, V_);
            if (ready) ready(lmw_);
            be_.zero(dx, nact * sizeof(float));
            be_.layernorm_backward(dx, g(lnfw_), g(lnfb_), dlnf_, x_last, p(lnfw_), sl.lnf_mean,
                                   sl.lnf_rstd, BT, C_);
            if (ready) ready(lnfw_);
        } else {
            be_.copy(dx, sl.out_grad, nact);
        }
        for (int l = nblocks() - 1; l >= 0; --l) {
            const BlockParams& w = bp_[l];
            BlockActs& a = sl.blocks[l];
            const float* x = l > 0 ? sl.blocks[l - 1].res3 : sl.x_in;
            const std::size_t nf = static_cast<std::size_t>(BT) * F_;
            // r3 = r2 + fcproj: dx is d r3 and (by the residual) already part of d r2.
            be_.bias_backward(g(w.fcpb), dx, BT, C_);
            be_.zero(dfchg_, nf * sizeof(float));
            be_.linear_backward(dfchg_, g(w.fcpw), nullptr, dx, a.fch_gelu, p(w.fcpw), BT, F_, C_);
            // Each tensor's gradient is final once its kernel ran: tell the trainer tensor by
            // tensor (from the end of the block), so DP buckets start inside the block.
            if (ready) ready(w.fcpw);
            be_.zero(dfch_, nf * sizeof(float));
            be_.gelu_backward(dfch_, a.fch, dfchg_, nf);
            be_.zero(dln_, nact * sizeof(float));
            be_.linear_backward(dln_, g(w.fcw), g(w.fcb), dfch_, a.ln2, p(w.fcw), BT, C_, F_);
            if (ready) ready(w.fcw);
            tp_all_reduce(dln_, nact);  // f
            be_.layernorm_backward(dx, g(w.ln2w), g(w.ln2b), dln_, a.res2, p(w.ln2w), a.ln2_mean,
                                   a.ln2_rstd, BT, C_);
            if (ready) ready(w.ln2w);
            // r2 = x + attproj: dx is now d r2 and part of d x.
            be_.bias_backward(g(w.projb), dx, BT, C_);
            be_.zero(datty_, static_cast<std::size_t>(BT) * Cl_ * sizeof(float));
            be_.linear_backward(datty_, g(w.projw), nullptr, dx, a.atty, p(w.projw), BT, Cl_, C_);
            if (ready) ready(w.projw);
            be_.zero(dqkv_, static_cast<std::size_t>(BT) * 3 * Cl_ * sizeof(float));
            be_.attention_backward(dqkv_, datt_scratch_, datty_, a.qkv, a.att, B_, T_, Cl_, NHl_);
            be_.zero(dln_, nact * sizeof(float));
            be_.linear_backward(dln_, g(w.qkvw), g(w.qkvb), dqkv_, a.ln1, p(w.qkvw), BT, C_,
                                3 * Cl_);
            if (ready) ready(w.qkvw);
            tp_all_reduce(dln_, nact);  // f
            be_.layernorm_backward(dx, g(w.ln1w), g(w.ln1b), dln_, x, p(w.ln1w), a.ln1_mean,
                                   a.ln1_rstd, BT, C_);
            if (ready) ready(w.begin);
        }
        if (env_.first()) {
            be_.embedding_backward(g(wte_), g(wpe_), dx, sl.tokens, B_, T_, C_);
            if (ready) ready(0);
        }
    }

    double loss_sum(int s) override {
        const std::size_t n = static_cast<std::size_t>(B_) * T_;
        host_losses_.resize(n);
        be_.copy_to_host(host_losses_.data(), slots_[s].losses, n * sizeof(float));
        double sum = 0;
        for (float v : host_losses_) sum += v;
        return sum;
    }
    std::int64_t target_count(int s) override { return slots_[s].counted; }

private:
    int nblocks() const { return range_.end - range_.begin; }
    std::size_t act_elems() const { return static_cast<std::size_t>(B_) * T_ * C_; }
    float* p(std::size_t off) { return store_.param(off); }
    float* g(std::size_t off) { return store_.grad(off); }
    void tp_all_reduce(float* buf, std::size_t n) {
        if (env_.tp > 1) env_.comm->all_reduce(GroupKind::Tp, buf, n);
    }

    void build_params() {
        const std::size_t C = C_, V = V_, T = T_, Cl = Cl_, F = F_;
        if (env_.first()) {
            wte_ = store_.add("wte", V * C, true, true);
            wpe_ = store_.add("wpe", T * C, true, true);
        }
        for (int l = range_.begin; l < range_.end; ++l) {
            const std::string h = "h" + std::to_string(l) + ".";
            BlockParams b{};
            b.ln1w = store_.add(h + "ln1.w", C, true, false);
            b.begin = b.ln1w;
            b.ln1b = store_.add(h + "ln1.b", C, true, false);
            b.qkvw = store_.add(h + "attn.qkv.w", 3 * Cl * C, false, true);
            b.qkvb = store_.add(h + "attn.qkv.b", 3 * Cl, false, false);
            b.projw = store_.add(h + "attn.proj.w", C * Cl, false, true);
            b.projb = store_.add(h + "attn.proj.b", C, true, false);
            b.ln2w = store_.add(h + "ln2.w", C, true, false);
            b.ln2b = store_.add(h + "ln2.b", C, true, false);
            b.fcw = store_.add(h + "mlp.fc.w", F * C, false, true);
            b.fcb = store_.add(h + "mlp.fc.b", F, false, false);
            b.fcpw = store_.add(h + "mlp.proj.w", C * F, false, true);
            b.fcpb = store_.add(h + "mlp.proj.b", C, true, false);
            bp_.push_back(b);
        }
        if (env_.last()) {
            lnfw_ = store_.add("lnf.w", C, true, false);
            lnfb_ = store_.add("lnf.b", C, true, false);
            lmw_ = store_.add("lm_head.w", V * C, true, true);
        }
        store_.allocate(be_);
    }

    // GPT-2 initialisation: N(0, 0.02) weights, N(0, 0.01) positions, residual projections
    // N(0, 0.02/sqrt(2L)), zero biases, unit LN gains. Each rank fills its slice of the full tensor.
    void init_params() {
        const std::size_t C = C_, Cl = Cl_, F = F_, r = static_cast<std::size_t>(env_.tp_rank);
        const float proj_std = 0.02f / std::sqrt(2.0f * static_cast<float>(cfg_.layers));
        std::vector<float> host;
        auto upload = [&](std::size_t off) { be_.copy_to_device(p(off), host.data(), host.size() * sizeof(float)); };
        auto full = [&](std::size_t off, const std::string& name, std::size_t rows, std::size_t cols, float sd) {
            host.assign(rows * cols, 0.f);
            init_normal_slice(host.data(), tensor_key(env_.seed, name), sd, cols, 0, rows, 0, cols);
            upload(off);
        };
        auto ones = [&](std::size_t off, std::size_t n) {
            host.assign(n, 1.f);
            upload(off);
        };
        if (env_.first()) {
            full(wte_, "wte", static_cast<std::size_t>(V_), C, 0.02f);
            full(wpe_, "wpe", static_cast<std::size_t>(T_), C, 0.01f);
        }
        for (int i = 0; i < nblocks(); ++i) {
            const std::string h = "h" + std::to_string(range_.begin + i) + ".";
            const BlockParams& b = bp_[i];
            ones(b.ln1w, C);
            ones(b.ln2w, C);
            // QKV (3C, C): this rank's q, k and v rows [part*C + r*Cl, +Cl).
            host.assign(3 * Cl * C, 0.f);
            const auto kq = tensor_key(env_.seed, h + "attn.qkv.w");
            for (std::size_t part = 0; part < 3; ++part)
                init_normal_slice(host.data() + part * Cl * C, kq, 0.02f, C, part * C + r * Cl, Cl, 0, C);
            upload(b.qkvw);
            // Proj (C, C): input columns [r*Cl, +Cl).
            host.assign(C * Cl, 0.f);
            init_normal_slice(host.data(), tensor_key(env_.seed, h + "attn.proj.w"), proj_std, C, 0, C, r * Cl, Cl);
            upload(b.projw);
            // Fc (4C, C): rows [r*F, +F).
            host.assign(F * C, 0.f);
            init_normal_slice(host.data(), tensor_key(env_.seed, h + "mlp.fc.w"), 0.02f, C, r * F, F, 0, C);
            upload(b.fcw);
            // FcProj (C, 4C): columns [r*F, +F).
            host.assign(C * F, 0.f);
            init_normal_slice(host.data(), tensor_key(env_.seed, h + "mlp.proj.w"), proj_std, 4 * C, 0, C, r * F, F);
            upload(b.fcpw);
        }
        if (env_.last()) {
            ones(lnfw_, C);
            full(lmw_, "lm_head.w", static_cast<std::size_t>(V_), C, 0.02f);
        }
    }

    void carve() {
        const std::size_t B = B_, T = T_, C = C_, Cl = Cl_, F = F_, V = V_, NHl = NHl_;
        const std::size_t BT = B * T;
        slots_.assign(static_cast<std::size_t>(env_.num_slots), Slot{});
        for (Slot& s : slots_) {
            if (env_.first()) s.tokens = arena_.take<std::int32_t>(BT);
            if (env_.last()) s.targets = arena_.take<std::int32_t>(BT);
            s.x_in = arena_.take<float>(BT * C);
            s.in_grad = arena_.take<float>(BT * C);
            if (!env_.last()) s.out_grad = arena_.take<float>(BT * C);
            s.blocks.resize(static_cast<std::size_t>(nblocks()));
            for (BlockActs& a : s.blocks) {
                a.ln1 = arena_.take<float>(BT * C);
                a.ln1_mean = arena_.take<float>(BT);
                a.ln1_rstd = arena_.take<float>(BT);
                a.qkv = arena_.take<float>(BT * 3 * Cl);
                a.atty = arena_.take<float>(BT * Cl);
                a.att = arena_.take<float>(B * NHl * T * T);
                a.attproj = arena_.take<float>(BT * C);
                a.res2 = arena_.take<float>(BT * C);
                a.ln2 = arena_.take<float>(BT * C);
                a.ln2_mean = arena_.take<float>(BT);
                a.ln2_rstd = arena_.take<float>(BT);
                a.fch = arena_.take<float>(BT * F);
                a.fch_gelu = arena_.take<float>(BT * F);
                a.fcproj = arena_.take<float>(BT * C);
                a.res3 = arena_.take<float>(BT * C);
            }
            if (env_.last()) {
                s.lnf = arena_.take<float>(BT * C);
                s.lnf_mean = arena_.take<float>(BT);
                s.lnf_rstd = arena_.take<float>(BT);
                s.logits = arena_.take<float>(BT * V);
                s.losses = arena_.take<float>(BT);
            }
        }
        // Backward scratch, shared by all slots.
        dln_ = arena_.take<float>(BT * C);          // (B,T,C)
        dqkv_ = arena_.take<float>(BT * 3 * Cl);    // (B,T,3Cl)
        datty_ = arena_.take<float>(BT * Cl);       // (B,T,Cl)
        datt_scratch_ = arena_.take<float>(B * NHl * T * T);  // (B,NHl,T,T)
        dfch_ = arena_.take<float>(BT * F);         // (B,T,F)
        dfchg_ = arena_.take<float>(BT * F);        // (B,T,F)
        dlnf_ = env_.last() ? arena_.take<float>(BT * C) : nullptr;  // (B,T,C)
    }

    GptConfig cfg_;
    StageEnv env_;
    Backend& be_;
    UnitRange range_;
    int B_ = 0, T_ = 0, C_ = 0, V_ = 0, Cl_ = 0, NHl_ = 0, F_ = 0;
    ParamStore store_;
    std::size_t wte_ = 0, wpe_ = 0, lnfw_ = 0, lnfb_ = 0, lmw_ = 0;
    std::vector<BlockParams> bp_;
    detail::Arena arena_;
    std::vector<Slot> slots_;
    float *dln_ = nullptr, *dqkv_ = nullptr, *datty_ = nullptr, *datt_scratch_ = nullptr;
    float *dfch_ = nullptr, *dfchg_ = nullptr, *dlnf_ = nullptr;
    std::vector<float> host_losses_;
};

}  // namespace

std::unique_ptr<Stage> make_gpt_stage(const GptConfig& cfg, const StageEnv& env) {
    return std::make_unique<GptStage>(cfg, env);
}

}  // namespace ss::models

#include "core/sim/simulator.h"

#include "core/analysis/analysis.h"
#include "core/sim/calibrate.h"
#include "models/plan/buckets.h"
#include "models/plan/flops.h"
#include "models/plan/schedule.h"

#include <algorithm>
#include <cmath>

namespace ss::core {

using traces::Collective;

ComputeRates rates_from_hardware(const Hardware& hw) {
    ComputeRates r;
    r.matmul_flop_per_s = hw.flop_per_s;
    r.memory_bytes_per_s = hw.mem_bw_bytes_per_s;
    r.optimizer_bytes_per_s = hw.mem_bw_bytes_per_s;
    r.kernel_overhead_s = hw.kernel_overhead_s;
    r.source = "hardware peaks (" + (hw.name.empty() ? std::string("unnamed") : hw.name) + ")";
    return r;
}

namespace {

constexpr double kF32 = 4.0;  // bytes per float32 value

// Elements the tensors of a layer take in the trainer's flat parameter buffer (each padded).
double flat_elems(std::initializer_list<double> tensors) {
    double n = 0;
    for (double t : tensors) n += static_cast<double>(models::padded_elems(static_cast<std::size_t>(std::llround(t))));
    return n;
}

// ---- GPT (docs/SPEC.md "GPT architecture"; FLOPs as the traced backend counts them:
// linear forward 2·N·C·OC, backward 4·N·C·OC; attention forward 2·B·C·T·(T+1), backward twice) ----
LayerWork gpt_embedding(double N, double d, double V, double S) {
    LayerWork L;
    L.name = "embedding";
    L.fwd_bytes = 3 * N * d * kF32;  // read token and position rows, write the sum
    L.bwd_bytes = 3 * N * d * kF32;
    L.fwd_kernels = 2;  // copy of the batch + embedding
    L.bwd_kernels = 1;
    L.params = (V + S) * d;
    L.flat_elems = flat_elems({V * d, S * d});  // wte, wpe
    return L;
}

LayerWork gpt_block(int idx, double b, double s, double d, double h, double t) {
    const double N = b * s;
    LayerWork L;
    L.name = "block " + std::to_string(idx);
    L.rows = N;
    const double lin = 24 * N * d * d / t;                 // qkv 3d, proj, fc 4d, fc proj, split over tp
    const double att = 2 * b * (d / t) * s * (s + 1);      // causal attention on heads/tp heads
    L.fwd_flops = lin + att;
    L.bwd_flops = 2 * lin + 2 * att;
    L.mm_bytes = kF32 * (12 * d * d / t + N * (d + 3 * d / t) + N * (d / t + d) + N * (d + 4 * d / t) +
                         N * (4 * d / t + d) + N * 4 * d / t + 2 * b * (h / t) * s * s);
    // layer norms (2 × read+write), residuals (2 × two reads + write), GELU on 4d/t (read+write)
    L.fwd_bytes = kF32 * (2 * 2 * N * d + 2 * 3 * N * d + 2 * N * 4 * d / t);
    L.bwd_bytes = 2 * L.fwd_bytes;
    L.fwd_kernels = 12;  // 2 LN, 4 linear, attention, GELU, 2 residual, 2 bias adds
    L.bwd_kernels = 12;
    L.params = 12 * d * d / t + 7 * d / t + 6 * d;  // split: qkv, proj, fc, fc proj (+ qkv/fc biases)
    // ln1 w b, qkv w b, proj w b, ln2 w b, fc w b, fc proj w b (models/gpt.cpp order)
    L.flat_elems = flat_elems({d, d, 3 * d * d / t, 3 * d / t, d * d / t, d, d, d, 4 * d * d / t, 4 * d / t,
                               4 * d * d / t, d});
    if (t > 1) {
        L.tp_fwd_ar = 2;  // g after attention projection and after fc projection
        L.tp_bwd_ar = 2;  // f before each column-parallel layer's input gradient leaves the block
        L.tp_fwd_bytes = L.tp_bwd_bytes = N * d * kF32;
    }
    // Activation memory per layer (Korthikanti et al. 2022, "Reducing Activation Recomputation in
    // Large Transformer Models", TP without sequence parallelism): s·b·h·(10 + 24/t + 5·a·s/(h·t))
    // bytes at 16-bit; doubled for float32.
    L.act_bytes = 2 * s * b * d * (10 + 24 / t + 5 * h * s / (d * t));
    return L;
}

LayerWork gpt_head(double N, double d, double V) {
    LayerWork L;
    L.name = "head";
    L.rows = N;
    L.fwd_flops = 2 * N * d * V;
    L.bwd_flops = 4 * N * d * V;
    L.mm_bytes = kF32 * (V * d + N * d + N * V);
    L.fwd_bytes = kF32 * (2 * N * d + 3 * N * V);  // final LN, softmax cross-entropy
    L.bwd_bytes = kF32 * (3 * N * d + 2 * N * V);
    L.fwd_kernels = 3;
    L.bwd_kernels = 3;
    L.params = 2 * d + V * d;
    L.flat_elems = flat_elems({d, d, V * d});  // lnf w b, lm_head
    L.act_bytes = kF32 * (N * V + 2 * N * d);
    return L;
}

// ---- MLP: linear layers (0,1), (2,3), ... are Megatron (column, row) pairs; an odd last layer is
// replicated (models/LAYOUT.md) ----
}  // namespace

Workload build_workload(const ExperimentSpec& spec) {
    auto errs = validate(spec, -1, /*check_files=*/false);
    if (!errs.empty()) {
        std::string msg = "the simulator cannot model this spec:";
        for (const auto& e : errs) msg += "\n  " + e.message;
        throw SimError(msg);
    }
    const ParallelSpec& par = spec.parallel;
    Workload w;
    w.dp = par.dp;
    w.tp = par.tp;
    w.pp = par.pp;
    w.micro_batches = par.micro_batches;
    w.micro_batch = spec.training.global_batch / (par.dp * par.micro_batches);
    w.gpipe = par.schedule == "gpipe";
    w.zero = par.dp > 1 ? par.zero : 0;
    w.overlap = par.overlap;
    w.bucket_elems = models::bucket_elems_for_mb(par.bucket_mb);
    w.blas_threads = spec.backend.blas_threads;
    w.samples_per_step = spec.training.global_batch;
    w.model_params = static_cast<double>(param_count(spec.model));
    const double b = w.micro_batch, t = par.tp;
    w.stages.resize(static_cast<std::size_t>(par.pp));
    if (spec.model.kind == "gpt") {
        const ModelSpec& m = spec.model;
        const double s = m.seq_len, d = m.d_model, h = m.heads, V = m.vocab, N = b * s;
        w.tokens_per_step = w.samples_per_step * s;
        // The matrix-product FLOPs the kernels perform (models/plan/flops.h): the CUDA backend
        // multiplies full T×T attention products, the CPU one causal row tiles.
        const auto attention = spec.backend.device == "cuda" ? models::AttentionKernel::Full
                                                             : models::AttentionKernel::CausalRowTiles;
        w.model_flops_per_step =
            models::gpt_model_flops_per_token(m.layers, m.d_model, m.seq_len, m.vocab, attention) * w.tokens_per_step;
        for (int st = 0; st < par.pp; ++st) {
            StageWork& sw = w.stages[static_cast<std::size_t>(st)];
            sw.stage = st;
            if (st == 0) sw.layers.push_back(gpt_embedding(N, d, V, s));
            const auto [lo, hi] = models::stage_units(m.layers, par.pp, st);
            for (int l = lo; l < hi; ++l) sw.layers.push_back(gpt_block(l, b, s, d, h, t));
            if (st == par.pp - 1) sw.layers.push_back(gpt_head(N, d, V));
            sw.in_bytes = st > 0 ? N * d * kF32 : 0;
            sw.out_bytes = st < par.pp - 1 ? N * d * kF32 : 0;
        }
    } else {
        const ModelSpec& m = spec.model;
        std::vector<int> widths{m.input_dim};
        widths.insert(widths.end(), m.hidden.begin(), m.hidden.end());
        widths.push_back(m.classes);
        const int nlin = static_cast<int>(widths.size()) - 1;
        const int blocks = models::mlp_pair_blocks(nlin);
        if (par.pp > blocks)
            throw SimError("parallel.pp=" + std::to_string(par.pp) + " exceeds the " + std::to_string(blocks) +
                           " pipeline blocks of the MLP (pairs of linear layers), as the worker does");
        w.tokens_per_step = w.samples_per_step;
        w.model_flops_per_step = models::mlp_model_flops_per_sample(widths) * w.samples_per_step;
        for (int st = 0; st < par.pp; ++st) {
            StageWork& sw = w.stages[static_cast<std::size_t>(st)];
            sw.stage = st;
            const auto [lo, hi] = models::stage_units(blocks, par.pp, st);
            for (int i = 2 * lo; i < std::min(nlin, 2 * hi); ++i) {
                const bool paired = (i / 2) * 2 + 1 < nlin;  // its block has two layers
                const bool column = paired && i % 2 == 0, row = paired && i % 2 == 1;
                const double in = widths[static_cast<std::size_t>(i)], out = widths[static_cast<std::size_t>(i) + 1];
                const double in_l = row ? in / t : in, out_l = column ? out / t : out;
                LayerWork L;
                L.name = "linear " + std::to_string(i);
                L.rows = b;
                L.fwd_flops = 2 * b * in_l * out_l;
                L.bwd_flops = 4 * b * in_l * out_l;
                L.mm_bytes = kF32 * (in_l * out_l + b * (in_l + out_l));
                const bool last = i == nlin - 1;
                L.fwd_bytes = kF32 * (last ? 3 * b * out : 2 * b * out_l);  // activation / softmax-CE
                L.bwd_bytes = kF32 * (last ? 2 * b * out : 3 * b * out_l);
                L.fwd_kernels = 2;
                L.bwd_kernels = 3;  // zero dx, linear backward, activation backward
                L.params = in_l * out_l + out_l + (row ? out - out_l : 0);
                L.flat_elems = flat_elems({in_l * out_l, out_l + (row ? out - out_l : 0)});
                if (t > 1 && row) {
                    L.tp_fwd_ar = 1;
                    L.tp_fwd_bytes = b * out * kF32;
                }
                if (t > 1 && column && (i > 0)) {
                    L.tp_bwd_ar = 1;
                    L.tp_bwd_bytes = b * in * kF32;
                }
                L.act_bytes = kF32 * b * (in_l + 2 * out_l);
                sw.layers.push_back(L);
                if (i == 2 * lo) sw.in_bytes = st > 0 ? b * in * kF32 : 0;
            }
            const int last_lin = std::min(nlin, 2 * hi) - 1;
            sw.out_bytes = st < par.pp - 1 ? b * widths[static_cast<std::size_t>(last_lin) + 1] * kF32 : 0;
        }
    }
    for (StageWork& sw : w.stages) {
        sw.loads_data = sw.stage == 0 || sw.stage == par.pp - 1;
        for (const auto& L : sw.layers) {
            sw.params += L.params;
            sw.flat_elems += L.flat_elems;
        }
    }
    return w;
}

double bubble_fraction(int stages, int micro_batches) {
    return static_cast<double>(stages - 1) / static_cast<double>(micro_batches + stages - 1);
}

double megatron_tp_bytes_per_layer(int b, int s, int h) {
    return 4.0 * b * s * h * kF32;
}

double dp_exposed_s(double backward_s, int buckets, double bucket_s, bool overlap, double progress, double contention) {
    if (buckets <= 0) return 0;
    if (!overlap) return buckets * bucket_s;
    const double f = std::clamp(progress, 0.0, 1.0), k = std::clamp(contention, 0.0, 1.0), rest = (1 - f) * bucket_s;
    // Bucket i (0-based) is ready at backward·(i+1)/nb; the background parts run one after another:
    // bucket i from s_i = max(ready_i, e_(i−1)) to e_i = s_i + f·c.
    auto chain = [&](auto&& visit) {
        double e = 0;
        for (int i = 0; i < buckets; ++i) {
            const double s = std::max(e, backward_s * (i + 1) / buckets);
            e = s + f * bucket_s;
            visit(s, e);
        }
        return e;
    };
    const double last = chain([](double, double) {});
    // The waits: each waits for its bucket and for the compute the contention took,
    // then pays its rest behind every background part.
    double t = backward_s, owed = 0;
    chain([&](double s, double e) {
        owed += k * std::max(0.0, std::min(e, backward_s) - s);
        t = std::max({t, e, backward_s + owed});
        if (rest > 0) t = std::max(t, last) + rest;
    });
    return t - backward_s;
}

double matmul_row_factor(double rows, const ComputeRates& R, const Hardware& hw) {
    const double h = hw.mm_half_rows, ref = R.matmul_rows > 0 ? R.matmul_rows : 512.0;
    if (!(h > 0) || !(rows > 0)) return 1.0;
    return (1 + h / rows) / (1 + h / ref);
}

LayerTime layer_time(const LayerWork& L, const ComputeRates& R, const Hardware& hw, bool roofline_mm) {
    const double rf = matmul_row_factor(L.rows, R, hw);
    double mmf = rf * L.fwd_flops / R.matmul_flop_per_s, mmb = rf * L.bwd_flops / R.matmul_flop_per_s;
    if (roofline_mm && hw.mem_bw_bytes_per_s > 0) {
        mmf = std::max(mmf, L.mm_bytes / hw.mem_bw_bytes_per_s);
        mmb = std::max(mmb, 2 * L.mm_bytes / hw.mem_bw_bytes_per_s);
    }
    return {mmf + L.fwd_bytes / R.memory_bytes_per_s + L.fwd_kernels * R.kernel_overhead_s,
            mmb + L.bwd_bytes / R.memory_bytes_per_s + L.bwd_kernels * R.kernel_overhead_s};
}

double optimizer_time(double params, int shards, int layers, const ComputeRates& R) {
    const double upd = params / std::max(1, shards);
    return upd * 8 * kF32 / R.optimizer_bytes_per_s + 2.0 * layers * R.kernel_overhead_s;
}

double contention_factor(const Workload& w, const Hardware& hw, double background_threads) {
    if (hw.cores_per_node <= 0) return 1;
    const double ranks_on_node = std::min(w.world(), std::max(1, hw.devices_per_node));
    return std::max(1.0, (ranks_on_node * w.blas_threads + std::max(0.0, background_threads)) / hw.cores_per_node);
}

MemoryEstimate estimate_memory(const Workload& w, const Hardware& hw) {
    MemoryEstimate best;
    best.total = -1;
    for (const StageWork& sw : w.stages) {
        MemoryEstimate m;
        m.stage = sw.stage;
        const double P = sw.params;
        m.params = P * kF32;
        m.grads = P * kF32;
        // AdamW m and v (float32), sharded over dp with ZeRO-1 (which adds the reduced-gradient shard).
        m.optimizer = 2 * P * kF32 / (w.zero ? w.dp : 1);
        m.buffers = w.zero ? P * kF32 / w.dp : 0;
        // Activations: GPipe keeps all m micro-batches; 1F1B at most p − s on stage s.
        const int slots = models::max_in_flight(models::pipeline_schedule(
            w.gpipe ? models::PipeSchedule::GPipe : models::PipeSchedule::OneFOneB, w.pp, sw.stage, w.micro_batches));
        double act = 0;
        for (const auto& L : sw.layers) act += L.act_bytes;
        m.activations = act * slots;
        m.buffers += 2 * (sw.in_bytes + sw.out_bytes) * slots;  // activation + gradient slots
        m.total = m.params + m.grads + m.optimizer + m.activations + m.buffers;
        m.capacity = hw.memory_bytes;
        m.fits = hw.memory_bytes <= 0 || m.total <= hw.memory_bytes;
        if (m.total > best.total) best = m;
    }
    return best;
}

SimResult simulate_analytic(const ExperimentSpec& spec, const Hardware& hw, const SimOptions& opt) {
    return simulate_analytic(build_workload(spec), hw, with_calibrated_rates(spec, hw, opt));  // calibrate.h
}

SimResult simulate_analytic(const Workload& w, const Hardware& hw, const SimOptions& opt) {
    const ComputeRates R = opt.rates ? *opt.rates : rates_from_hardware(hw);
    if (!(R.matmul_flop_per_s > 0) || !(R.memory_bytes_per_s > 0) || !(R.optimizer_bytes_per_s > 0))
        throw SimError("compute rates must be positive (matmul " + std::to_string(R.matmul_flop_per_s) +
                       " FLOP/s, memory " + std::to_string(R.memory_bytes_per_s) + " B/s, optimizer " +
                       std::to_string(R.optimizer_bytes_per_s) + " B/s; source: " + R.source + ")");
    const bool roofline_mm = !opt.rates;  // hardware peaks: matrix products are roofline-bound too
    SimResult res;
    res.world = w.world();
    res.contention = opt.model_oversubscription ? contention_factor(w, hw, opt.background_threads) : 1.0;
    res.oversubscribed = contention_factor(w, hw) > 1.0;
    const double c = res.contention;
    const int m = w.micro_batches;

    const GroupPlacement g_tp = place_group(hw, w.tp, 1);
    const GroupPlacement g_dp = place_group(hw, w.dp, w.tp);
    const GroupPlacement g_pp = place_group(hw, 2, w.tp * w.dp);  // neighbouring stages
    const GroupPlacement g_world = place_group(hw, w.world(), 1);

    struct StageTimes {
        double comp = 0, tp = 0, data = 0, fb = 0, bwd = 0, p2p = 0;
        double bwd_tail = 0;  // the tp all-reduce that ends the last micro-batch's backward (after its last kernel)
        std::size_t first_layer = 0;  // into layer_bwd
    };
    std::vector<StageTimes> st(w.stages.size());
    // Per layer of every stage (forward order): its backward with its tp all-reduces (s).
    std::size_t nlayers = 0;
    for (const StageWork& sw : w.stages) nlayers += sw.layers.size();
    std::vector<double> layer_bwd;
    layer_bwd.reserve(nlayers);
    double sum_fb = 0, max_fb = 0, p2p_total = 0;
    for (std::size_t i = 0; i < w.stages.size(); ++i) {
        const StageWork& sw = w.stages[i];
        StageTimes& T = st[i];
        T.first_layer = layer_bwd.size();
        double fwd = 0, bwd = 0, tpf = 0, tpb = 0;
        for (const LayerWork& L : sw.layers) {
            const LayerTime lt = layer_time(L, R, hw, roofline_mm);
            fwd += lt.fwd_s;
            bwd += lt.bwd_s;
            if (L.tp_fwd_ar) tpf += L.tp_fwd_ar * collective_time(hw, Collective::AllReduce, g_tp, L.tp_fwd_bytes);
            const double lb = L.tp_bwd_ar ? L.tp_bwd_ar * collective_time(hw, Collective::AllReduce, g_tp, L.tp_bwd_bytes) : 0;
            tpb += lb;
            layer_bwd.push_back((lt.bwd_s + lb) * c);
        }
        const double data = sw.loads_data ? w.micro_batch * R.data_s_per_sample : 0;
        T.comp = (fwd + bwd) * c;
        T.tp = (tpf + tpb) * c;
        T.data = data * c;
        T.bwd = (bwd + tpb) * c;
        T.fb = T.comp + T.tp + T.data;
        if (!sw.layers.empty() && sw.layers.front().tp_bwd_ar > 0)
            T.bwd_tail = collective_time(hw, Collective::AllReduce, g_tp, sw.layers.front().tp_bwd_bytes) * c;
        T.p2p = sw.out_bytes > 0 ? collective_time(hw, Collective::Send, g_pp, sw.out_bytes) * c : 0;
        sum_fb += T.fb;
        max_fb = std::max(max_fb, T.fb);
        p2p_total += 2 * T.p2p;  // activation forward, gradient backward
    }
    // Pipeline (GPipe and 1F1B): the first micro-batch crosses every stage forward and back, the
    // others follow at the pace of the slowest stage. Uniform stages give (m + p − 1)(tF + tB),
    // i.e. the bubble fraction (p−1)/(m+p−1).
    const double t_pipe = sum_fb + (m - 1) * max_fb + p2p_total;

    const double world_ar = w.world() > 1 ? collective_time(hw, Collective::AllReduce, g_world, 3 * 8.0) * c : 0;
    const double ovh = R.step_overhead_s * c;
    std::vector<double> busy(w.stages.size());
    std::vector<double> dp_total(w.stages.size()), dp_exp(w.stages.size()), opt_s(w.stages.size()),
        ag_s(w.stages.size());
    double step_busy = 0;
    struct BucketRun {
        double start, end, rest;  // background part [start, end] after the last backward's start; rest at the wait
    };
    std::vector<BucketRun> runs;
    for (std::size_t i = 0; i < w.stages.size(); ++i) {
        const StageWork& sw = w.stages[i];
        if (w.dp > 1) {
            const Collective red = w.zero ? Collective::ReduceScatter : Collective::AllReduce;
            // Buckets cut from the end of the stage's flat parameters (the trainer's plan,
            // models/plan/buckets.h), each ready once the last micro-batch's backward has passed
            // the layer holding its first parameter; with overlap started non-blocking (calibrated
            // apart) and reduced one after the other, only hw.overlap of each moving in the
            // background (the rest at the waits); the compute beside them loses
            // hw.overlap_contention of the time they overlap it (docs/SIMULATOR.md, "GPUs").
            const double P = sw.flat_elems;
            const std::size_t flat = static_cast<std::size_t>(std::llround(std::max(0.0, P)));
            const std::size_t nb = models::bucket_count(flat, w.bucket_elems);
            const double bp = nb == 0 ? 0.0 : static_cast<double>(models::bucket_range(flat, w.bucket_elems, 0).size());
            // Every bucket but the last (the start of the parameters) has bp parameters.
            const double full = collective_time(hw, red, g_dp, bp * kF32, w.overlap) * c;
            const double full_ag = w.zero ? collective_time(hw, Collective::AllGather, g_dp, bp * kF32) * c : 0;
            const double f = std::clamp(hw.overlap, 0.0, 1.0);
            const double* lb = layer_bwd.data() + st[i].first_layer;
            double chain = 0, done = 0;  // s after the start of the last micro-batch's backward
            runs.clear();
            std::size_t li = sw.layers.size();     // layers passed so far: li .. end
            double lo = P;                         // first parameter of layer li
            for (std::size_t k = 0; k < nb; ++k) {
                const models::Bucket bk = models::bucket_range(flat, w.bucket_elems, k);
                const double begin = static_cast<double>(bk.begin);
                const double bytes = static_cast<double>(bk.size()) * kF32;
                const bool partial = bytes < bp * kF32;  // the last bucket, when P is not a multiple of bp
                const double cost = partial ? collective_time(hw, red, g_dp, bytes, w.overlap) * c : full;
                dp_total[i] += cost;
                if (w.zero) ag_s[i] += partial ? collective_time(hw, Collective::AllGather, g_dp, bytes) * c : full_ag;
                if (!w.overlap) continue;
                // pass the layers that lie wholly after the bucket's first parameter, then the one holding it
                while (li > 0 && lo - sw.layers[li - 1].flat_elems + 1e-9 > begin) {
                    lo -= sw.layers[li - 1].flat_elems;
                    done += lb[--li];
                }
                if (li > 0 && begin < lo) {
                    lo -= sw.layers[li - 1].flat_elems;
                    done += lb[--li];
                }
                const double start = std::max(chain, done);
                chain = start + f * cost;
                runs.push_back({start, chain, (1 - f) * cost});
            }
            if (w.overlap) {
                // The waits, as the replay runs them: the rank reaches them at B (the end of its
                // backward); each waits for its bucket and for the compute the contention took (κ ×
                // the bucket's overlap with [0, Bc], Bc = the end of the last backward kernel), which
                // delays what followed it, so until B + everything taken; then pays the bucket's
                // rest behind every background part.
                const double B = st[i].bwd, Bc = B - st[i].bwd_tail, kappa = std::clamp(hw.overlap_contention, 0.0, 1.0);
                double t = B, owed = 0;
                for (const BucketRun& r : runs) {
                    owed += kappa * std::max(0.0, std::min(r.end, Bc) - r.start);
                    t = std::max({t, r.end, B + owed});
                    if (r.rest > 0) t = std::max(t, chain) + r.rest;
                }
                dp_exp[i] = t - B;
            } else {
                dp_exp[i] = dp_total[i];
            }
        }
        opt_s[i] = optimizer_time(sw.params, w.zero ? w.dp : 1, static_cast<int>(sw.layers.size()), R) * c;
        busy[i] = t_pipe + dp_exp[i] + opt_s[i] + ag_s[i];
        step_busy = std::max(step_busy, busy[i]);
    }
    res.step_s = step_busy + world_ar + ovh;
    res.stage_busy_s = busy;

    // Breakdown: mean over stages (every stage has dp·tp ranks), ns.
    Breakdown& B = res.breakdown;
    const double ns = 1e9, S = static_cast<double>(w.stages.size());
    for (std::size_t i = 0; i < w.stages.size(); ++i) {
        const StageTimes& T = st[i];
        B.part_ns[static_cast<int>(Part::Compute)] += m * T.comp * ns / S;
        B.part_ns[static_cast<int>(Part::Data)] += m * T.data * ns / S;
        B.part_ns[static_cast<int>(Part::ExposedComm)] += (m * T.tp + dp_exp[i] + ag_s[i] + world_ar) * ns / S;
        B.part_ns[static_cast<int>(Part::Bubble)] += (t_pipe - m * T.fb) * ns / S;
        B.part_ns[static_cast<int>(Part::Optimizer)] += opt_s[i] * ns / S;
        B.part_ns[static_cast<int>(Part::OtherHost)] += ovh * ns / S;
        B.part_ns[static_cast<int>(Part::Idle)] += (step_busy - busy[i]) * ns / S;
        B.comm_ns += (m * T.tp + dp_total[i] + ag_s[i] + world_ar) * ns / S;
        B.compute_ns += (m * T.comp + opt_s[i]) * ns / S;
        B.overlapped_ns += (dp_total[i] - std::min(dp_total[i], dp_exp[i])) * ns / S;
    }
    B.step_ns = res.step_s * ns;

    res.model_flops_per_step = w.model_flops_per_step;
    res.samples_per_s = w.samples_per_step / res.step_s;
    res.tokens_per_s = w.tokens_per_step / res.step_s;
    // The one MFU function (models/plan/flops.h), against the hardware's peak; 0 when not known,
    // and where the predicted rate is above the peak (rates fitted on a run faster than the
    // hardware's stated peak) the note says so instead of a value above 100 %.
    const models::Mfu mfu = models::model_flops_utilisation(res.step_s > 0 ? w.model_flops_per_step / res.step_s : 0,
                                                            mfu_peak_flop_per_s(hw), w.world());
    res.mfu = mfu.known() ? mfu.value : 0;
    res.mfu_note = models::mfu_problem_text(mfu);
    if (mfu.problem == models::MfuProblem::AbovePeak) res.notes.push_back("MFU unknown: " + res.mfu_note);
    res.memory = estimate_memory(w, hw);
    if (res.oversubscribed)
        res.notes.push_back("oversubscribed: " + std::to_string(std::min(w.world(), hw.devices_per_node) * w.blas_threads) +
                            " rank threads on " + std::to_string(hw.cores_per_node) + " cores per node; times stretched x" +
                            std::to_string(contention_factor(w, hw)).substr(0, 4));
    if (!res.memory.fits)
        res.notes.push_back("does not fit: " + std::to_string(res.memory.total / 1e9) + " GB per rank > " +
                            std::to_string(res.memory.capacity / 1e9) + " GB");
    return res;
}

std::vector<CurvePoint> scaling_curve(const ExperimentSpec& spec, const Hardware& hw, const std::string& axis,
                                      const std::vector<int>& values, bool weak, const SimOptions& opt) {
    if (values.empty()) throw SimError("a scaling curve needs at least one value of " + axis);
    const double per_rank = static_cast<double>(spec.training.global_batch) / spec.parallel.world();
    std::vector<CurvePoint> out;
    for (int v : values) {
        ExperimentSpec s = spec;
        if (axis == "dp") s.parallel.dp = v;
        else if (axis == "tp") s.parallel.tp = v;
        else if (axis == "pp") s.parallel.pp = v;
        else if (axis == "micro_batches") s.parallel.micro_batches = v;
        else throw SimError("cannot sweep \"" + axis + "\": expected dp, tp, pp or micro_batches");
        s.launch.np = 0;
        if (weak) s.training.global_batch = static_cast<int>(std::lround(per_rank * s.parallel.world()));
        CurvePoint pt;
        pt.p = s.parallel.world();
        pt.value = axis + "=" + std::to_string(v);
        try {
            pt.result = simulate_analytic(s, hw, opt);
        } catch (const SimError& e) {
            throw SimError("point " + pt.value + ": " + e.what());
        }
        out.push_back(std::move(pt));
    }
    const double x0 = out.front().result.samples_per_s;
    const int p0 = out.front().p;
    for (auto& pt : out) {
        pt.speedup = pt.result.samples_per_s / x0;
        pt.efficiency = pt.speedup / (static_cast<double>(pt.p) / p0);
    }
    return out;
}

}  // namespace ss::core

#include "core/sim/simulator.h"

#include "core/analysis/analysis.h"
#include "core/sim/calibrate.h"
#include "models/plan/buckets.h"
#include "models/plan/flops.h"
#include "models/plan/layout.h"
#include "models/plan/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

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
// linear forward 2·N·C·OC, backward 4·N·C·OC; attention forward 2·B·C·T·(T+1), backward twice;
// on a GPU (Features::gpu_attention) the full 4·B·C·T² as Megatron-LM's kernels multiply it) ----
// The large-model features a layer is built with (Workload: precision, recompute, sequence parallel).
struct Features {
    double vb = kF32;  // bytes per activation value
    Recompute recompute = Recompute::None;
    bool seq_par = false;
    double vt = 1;  // vocabulary-parallel ways (parallel.vocab_parallel: tp, else 1)
    // GPU attention (backend.device "cuda"): the kernels multiply the full s×s scores (Megatron-LM's
    // 2021 baddbmm / bmm, the mask applied after) and run the scores' element-wise kernels (scaled
    // masked softmax, dropout) over them; the CPU trainer computes causal row tiles, its softmax
    // inside the attention kernel.
    bool gpu_attention = false;
    // Megatron-LM's vocabulary-parallel cross-entropy (parallel.vocab_parallel): on float32 logits.
    bool vocab_parallel = false;
};

// Megatron-LM's local DDP (megatron/model/distributed.py, 2021: _make_param_hook) adds every
// parameter's fresh 16-bit gradient into its contiguous main_grad buffer after each micro-batch's
// backward (main_grad.add_(grad): read both, write one, 3·vb bytes per parameter; fp16 main_grad
// unless --accumulate-allreduce-grads-in-fp32, off by default then), a kernel per tensor.
// Megatron-LM on a GPU (Features::vocab_parallel and gpu_attention) only: this project's trainers
// accumulate inside their own flat buffers.
void megatron_grad_accumulation(LayerWork& L, const Features& f, int tensors) {
    if (!f.vocab_parallel || !f.gpu_attention) return;
    L.bwd_bytes += 3 * f.vb * L.params;
    L.bwd_kernels += tensors;
}

LayerWork gpt_embedding(double N, double d, double V, double S, const Features& f) {
    LayerWork L;
    L.name = "embedding";
    L.fwd_bytes = 3 * N * d * f.vb;  // read token and position rows, write the sum
    L.bwd_bytes = 3 * N * d * f.vb;
    L.fwd_kernels = 2;  // copy of the batch + embedding
    L.bwd_kernels = 1;
    L.params = (V / f.vt + S) * d;
    L.flat_elems = flat_elems({V * d / f.vt, S * d});  // wte (its vocabulary share), wpe
    megatron_grad_accumulation(L, f, 2);
    if (f.vt > 1) {  // Megatron's VocabParallelEmbedding: each rank looks up its rows, then an all-reduce
        L.tp_fwd_ar = 1;
        L.tp_fwd_bytes = N * d * f.vb;
        L.tp_rs_ag = f.seq_par;
    }
    return L;
}

LayerWork gpt_block(int idx, double b, double s, double d, double h, double t, const Features& f) {
    const double N = b * s, vb = f.vb;
    const double ts = f.seq_par ? t : 1;  // sequence parallelism splits the non-tensor-parallel parts
    LayerWork L;
    L.name = "block " + std::to_string(idx);
    L.rows = N;
    const double lin = 24 * N * d * d / t;                 // qkv 3d, proj, fc 4d, fc proj, split over tp
    // attention on heads/tp heads: QK^T and probabilities·V, causal half (CPU) or full s×s (GPU)
    const double att = f.gpu_attention ? 4 * b * (d / t) * s * s : 2 * b * (d / t) * s * (s + 1);
    const double scores = vb * 2 * b * (h / t) * s * s;    // attention scores and probabilities (B)
    // GPU: the element-wise kernels over the b·(h/t)·s² scores (Korthikanti et al. 2022 sec. 4.1
    // count the same tensors: scores 2 B, softmax output 2 B, dropout mask 1 B per element at
    // 16-bit). Forward: scaled masked softmax (read + write); backward: read gradient and output,
    // write. Megatron-LM (Features::vocab_parallel) also drops out the probabilities: forward read,
    // write and a mask byte, backward read gradient and mask, write (this project's CUDA trainer has no dropout).
    const double n_scores = b * (h / t) * s * s;
    const double dropout = f.vocab_parallel ? 2 * vb + 1 : 0;
    const double att_fwd_bytes = f.gpu_attention ? n_scores * (2 * vb + dropout) : 0;
    const double att_bwd_bytes = f.gpu_attention ? n_scores * (3 * vb + dropout) : 0;
    const int att_kernels = f.gpu_attention ? (f.vocab_parallel ? 2 : 1) : 0;
    L.fwd_flops = lin + att;
    L.bwd_flops = 2 * lin + 2 * att;
    L.mm_bytes = vb * (12 * d * d / t + N * (d + 3 * d / t) + N * (d / t + d) + N * (d + 4 * d / t) +
                       N * (4 * d / t + d) + N * 4 * d / t) + scores;
    // layer norms (2 × read+write), residuals (2 × two reads + write): split over tp with sequence
    // parallelism; GELU on 4d/t (read+write)
    L.fwd_bytes = vb * ((2 * 2 * N * d + 2 * 3 * N * d) / ts + 2 * N * 4 * d / t);
    L.bwd_bytes = 2 * L.fwd_bytes + att_bwd_bytes;
    L.fwd_bytes += att_fwd_bytes;
    L.fwd_kernels = 12 + att_kernels;  // 2 LN, 4 linear, attention, GELU, 2 residual, 2 bias adds (+ softmax, dropout)
    L.bwd_kernels = 12 + att_kernels;
    L.params = 12 * d * d / t + 7 * d / t + 6 * d;  // split: qkv, proj, fc, fc proj (+ qkv/fc biases)
    // ln1 w b, qkv w b, proj w b, ln2 w b, fc w b, fc proj w b (models/gpt.cpp order)
    L.flat_elems = flat_elems({d, d, 3 * d * d / t, 3 * d / t, d * d / t, d, d, d, 4 * d * d / t, 4 * d / t,
                               4 * d * d / t, d});
    megatron_grad_accumulation(L, f, 12);
    if (t > 1) {
        L.tp_fwd_ar = 2;  // g after attention projection and after fc projection
        L.tp_bwd_ar = 2;  // f before each column-parallel layer's input gradient leaves the block
        L.tp_fwd_bytes = L.tp_bwd_bytes = N * d * vb;
        L.tp_rs_ag = f.seq_par;  // sequence parallelism: g = reduce-scatter, f = all-gather (and back)
    }
    // Activation memory per layer (Korthikanti et al. 2022, "Reducing Activation Recomputation in
    // Large Transformer Models", eq. 2 and section 4.2.2): s·b·h·(10/ts + 24/t + 5·a·s/(h·t)) bytes at
    // 16-bit (ts = t with sequence parallelism, else 1), scaled by vb/2; the last term (attention
    // scores, softmax, its dropout) is what selective recomputation drops.
    const double sbh = s * b * d, keep = 10 / ts + 24 / t, attn = 5 * h * s / (d * t);
    L.act_bytes = vb / 2 * sbh * (keep + attn);
    if (f.gpu_attention) L.gemm = GemmBlock{b, s, d, h, t, vb};
    switch (f.recompute) {
        case Recompute::None: break;
        case Recompute::Selective:  // the attention core again: QK^T, softmax, probabilities · V
            L.rc_flops = att;
            L.rc_mm_bytes = scores;
            L.rc_bytes = f.gpu_attention ? att_fwd_bytes : 2 * scores;  // softmax (+ dropout on a GPU)
            L.rc_kernels = 2 + att_kernels;
            L.act_bytes = vb / 2 * sbh * keep;
            break;
        case Recompute::Full:  // the whole forward again; only the layer's input is kept
            L.rc_flops = L.fwd_flops;
            L.rc_mm_bytes = L.mm_bytes;
            L.rc_bytes = L.fwd_bytes;
            L.rc_kernels = L.fwd_kernels;
            L.tp_bwd_ar += L.tp_fwd_ar;  // same bytes as the backward's
            L.act_work_bytes = L.act_bytes;
            L.act_bytes = vb * sbh / ts;
            break;
    }
    return L;
}

LayerWork gpt_head(double N, double d, double V, const Features& f) {
    const double Vl = V / f.vt;  // the rank's vocabulary share (Megatron: logits and cross-entropy split over tp)
    LayerWork L;
    L.name = "head";
    L.rows = N;
    L.fwd_flops = 2 * N * d * Vl;
    L.bwd_flops = 4 * N * d * Vl;
    L.mm_bytes = f.vb * (Vl * d + N * d + N * Vl);
    L.fwd_bytes = f.vb * (2 * N * d + 3 * N * Vl);  // final LN, softmax cross-entropy
    L.bwd_bytes = f.vb * (3 * N * d + 2 * N * Vl);
    if (f.vocab_parallel) {
        // Megatron-LM (mpu/cross_entropy.py, 2021) on the logits cast to float32, per logit: cast
        // (read vb, write 4), max (read 4), subtract, exp, divide in place (read + write 4 each),
        // sum (read 4); backward: scale the saved softmax in place (read + write 4), cast the
        // gradient back (read 4, write vb).
        L.fwd_bytes = f.vb * 2 * N * d + (f.vb + 36) * N * Vl;
        L.bwd_bytes = f.vb * 3 * N * d + (12 + f.vb) * N * Vl;
    }
    L.fwd_kernels = 3;
    L.bwd_kernels = 3;
    L.params = 2 * d + Vl * d;
    L.flat_elems = flat_elems({d, d, Vl * d});  // lnf w b, lm_head
    megatron_grad_accumulation(L, f, 3);
    L.act_bytes = (f.vocab_parallel ? 4 : f.vb) * N * Vl + f.vb * 2 * N * d;  // softmax kept (float32 in Megatron)
    if (f.vt > 1) {  // the input gradient of the column-parallel head is all-reduced (Megatron's f)
        L.tp_bwd_ar = 1;
        L.tp_bwd_bytes = N * d * f.vb;
        L.tp_rs_ag = f.seq_par;
    }
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
    w.ps = par.parameter_server();
    w.servers = w.ps ? par.servers : 0;
    w.staleness = w.ps ? par.staleness : 0;
    w.slow_rank = spec.training.slow_rank;
    w.slow_factor = spec.training.slow_rank >= 0 ? spec.training.slow_factor : 1.0;
    w.steps = spec.training.steps;
    w.blas_threads = spec.backend.blas_threads;
    w.samples_per_step = spec.training.global_batch;
    w.model_params = static_cast<double>(param_count(spec.model));
    // Large-model features (docs/SIMULATOR.md "Large models"). Mixed precision as Megatron-LM and
    // ZeRO (Rajbhandari et al. 2020, "16Ψ") count it: 16-bit weights (2 B) and gradients (2 B,
    // also what the DP reduction moves), fp32 master weights + Adam m, v (12 B); activations and
    // TP/PP messages at 2 B.
    w.precision = spec.training.precision;
    if (spec.training.mixed_precision()) {
        w.value_bytes = w.weight_bytes = w.grad_bytes = 2;
        w.optimizer_bytes = 12;
        // AdamW on the fp32 master: read gradient (2) + master, m, v (12), write master, m, v (12)
        // + the 16-bit weights (2); the norm's sum reads the gradient again (2).
        w.optimizer_traffic = 30;
        // Megatron-LM's mixed-precision optimizer on a GPU (megatron/optimizer/optimizer.py, 2021,
        // Float16OptimizerWithFloat16Params.step), per parameter: main_grad.float() into the fp32
        // master's grad (read 2, write 4); fp16 only: unscale + inf check
        // (_amp_foreach_non_finite_check_and_unscale_: read 4, write 4); the gradient norm
        // (multi_tensor_l2norm: read 4); apex FusedAdam (read grad, master, m, v: 16, write master,
        // m, v: 12); the master copied to the 16-bit weights (multi_tensor_scale: read 4, write 2).
        if (spec.backend.device == "cuda" && par.vocab_parallel && spec.model.kind == "gpt")
            w.optimizer_traffic = 6 + (spec.training.precision == "fp16" ? 8 : 0) + 4 + 28 + 6;
    }
    w.recompute = spec.training.recompute == "full"        ? Recompute::Full
                  : spec.training.recompute == "selective" ? Recompute::Selective
                                                           : Recompute::None;
    w.virtual_stages = par.virtual_stages;
    w.sequence_parallel = par.sequence_parallel && par.tp > 1;
    w.p2p_sync = spec.backend.device == "cuda";
    w.p2p_scatter_gather = spec.model.kind == "gpt" && par.vocab_parallel && par.tp > 1 && !w.sequence_parallel;
    const Features feat{w.value_bytes, w.recompute, w.sequence_parallel,
                        par.vocab_parallel && spec.model.kind == "gpt" ? static_cast<double>(par.tp) : 1.0,
                        spec.backend.device == "cuda", par.vocab_parallel && spec.model.kind == "gpt"};
    // Buckets of bucket_mb MiB of gradients: the trainer's plan counts float32 elements.
    w.bucket_elems = models::bucket_elems_for_mb(par.bucket_mb * kF32 / w.grad_bytes);
    const double b = w.micro_batch, t = par.tp, vb = w.value_bytes;
    w.stages.resize(static_cast<std::size_t>(par.pp));
    if (spec.model.kind == "gpt") {
        const ModelSpec& m = spec.model;
        const double s = m.seq_len, d = m.d_model, h = m.heads, V = m.vocab, N = b * s;
        const double ts = w.sequence_parallel ? t : 1;  // a stage's output is split over tp with sequence parallelism
        w.tokens_per_step = w.samples_per_step * s;
        // The matrix-product FLOPs the kernels perform (models/plan/flops.h): the CUDA backend
        // multiplies full T×T attention products, the CPU one causal row tiles.
        const auto attention = spec.backend.device == "cuda" ? models::AttentionKernel::Full
                                                             : models::AttentionKernel::CausalRowTiles;
        w.model_flops_per_step =
            models::gpt_model_flops_per_token(m.layers, m.d_model, m.seq_len, m.vocab, attention) * w.tokens_per_step;
        // Interleaved 1F1B: stage st holds model chunks c = 0..v-1, chunk c being virtual stage
        // c·pp + st (Megatron-LM's assignment); the embedding opens virtual stage 0, the head closes the last.
        const int v = std::max(1, par.virtual_stages), vstages = par.pp * v;
        for (int st = 0; st < par.pp; ++st) {
            StageWork& sw = w.stages[static_cast<std::size_t>(st)];
            sw.stage = st;
            sw.chunk_begin.reserve(static_cast<std::size_t>(v) + 1);
            for (int c = 0; c < v; ++c) {
                const int vs = c * par.pp + st;
                sw.chunk_begin.push_back(sw.layers.size());
                if (vs == 0) sw.layers.push_back(gpt_embedding(N, d, V, s, feat));
                const auto [lo, hi] = models::stage_units(m.layers, vstages, vs);
                for (int l = lo; l < hi; ++l) sw.layers.push_back(gpt_block(l, b, s, d, h, t, feat));
                if (vs == vstages - 1) sw.layers.push_back(gpt_head(N, d, V, feat));
            }
            sw.chunk_begin.push_back(sw.layers.size());
            sw.in_bytes = st > 0 || v > 1 ? N * d * vb / ts : 0;
            sw.out_bytes = st < par.pp - 1 || v > 1 ? N * d * vb / ts : 0;
        }
        w.chunk_out_bytes = v > 1 ? N * d * vb / ts : 0;
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
                L.mm_bytes = vb * (in_l * out_l + b * (in_l + out_l));
                const bool last = i == nlin - 1;
                L.fwd_bytes = vb * (last ? 3 * b * out : 2 * b * out_l);  // activation / softmax-CE
                L.bwd_bytes = vb * (last ? 2 * b * out : 3 * b * out_l);
                L.fwd_kernels = 2;
                L.bwd_kernels = 3;  // zero dx, linear backward, activation backward
                L.params = in_l * out_l + out_l + (row ? out - out_l : 0);
                L.flat_elems = flat_elems({in_l * out_l, out_l + (row ? out - out_l : 0)});
                if (t > 1 && row) {
                    L.tp_fwd_ar = 1;
                    L.tp_fwd_bytes = b * out * vb;
                }
                if (t > 1 && column && (i > 0)) {
                    L.tp_bwd_ar = 1;
                    L.tp_bwd_bytes = b * in * vb;
                }
                L.act_bytes = vb * b * (in_l + 2 * out_l);
                if (w.recompute == Recompute::Full) {  // the forward again; only the layer's input kept
                    L.rc_flops = L.fwd_flops;
                    L.rc_mm_bytes = L.mm_bytes;
                    L.rc_bytes = L.fwd_bytes;
                    L.rc_kernels = L.fwd_kernels;
                    if (L.tp_fwd_ar > 0) {  // a row layer: its backward has no tp all-reduce of its own
                        L.tp_bwd_ar += L.tp_fwd_ar;
                        L.tp_bwd_bytes = L.tp_fwd_bytes;
                    }
                    L.act_work_bytes = L.act_bytes;
                    L.act_bytes = vb * b * in_l;
                }
                sw.layers.push_back(L);
                if (i == 2 * lo) sw.in_bytes = st > 0 ? b * in * vb : 0;
            }
            const int last_lin = std::min(nlin, 2 * hi) - 1;
            sw.out_bytes = st < par.pp - 1 ? b * widths[static_cast<std::size_t>(last_lin) + 1] * vb : 0;
            sw.chunk_begin = {0, sw.layers.size()};
        }
    }
    // The hardware FLOPs: the model's plus what recomputation does again, on every rank
    // (each stage's layers are one tp rank's share) for every micro-batch.
    double rc = 0;
    for (StageWork& sw : w.stages) {
        sw.loads_data = sw.stage == 0 || sw.stage == par.pp - 1;
        for (const auto& L : sw.layers) {
            sw.params += L.params;
            sw.flat_elems += L.flat_elems;
            rc += L.rc_flops;
        }
    }
    w.hardware_flops_per_step = w.model_flops_per_step + rc * par.tp * par.dp * par.micro_batches;
    return w;
}

double bubble_fraction(int stages, int micro_batches, int virtual_stages) {
    const double fill = static_cast<double>(stages - 1) / std::max(1, virtual_stages);
    return fill / (micro_batches + fill);
}

double tp_collective_time(const Hardware& hw, const GroupPlacement& g, double bytes, bool rs_ag) {
    if (!rs_ag) return collective_time(hw, Collective::AllReduce, g, bytes);
    return collective_time(hw, Collective::ReduceScatter, g, bytes) + collective_time(hw, Collective::AllGather, g, bytes);
}

double p2p_time(const Workload& w, const Hardware& hw, const GroupPlacement& g_pp, const GroupPlacement& g_tp,
                double bytes) {
    if (!(bytes > 0)) return 0;
    if (!w.p2p_scatter_gather || w.tp <= 1) return collective_time(hw, Collective::Send, g_pp, bytes);
    return collective_time(hw, Collective::Send, g_pp, bytes / w.tp) +
           collective_time(hw, Collective::AllGather, g_tp, bytes);
}

ComputeRates rates_at_precision(ComputeRates R, const Hardware& hw, const Workload& w) {
    if (w.precision == "fp32") return R;
    const double k = precision_speedup(hw, w.precision);
    if (!(k > 0))
        throw SimError("training.precision=\"" + w.precision + "\" needs the hardware's 16-bit matrix-product peak: " +
                       peak_field_16bit(w.precision) + " is not stated in the hardware file" +
                       (hw.name.empty() ? std::string() : " (" + hw.name + ")"));
    R.matmul_flop_per_s *= k;
    R.source += ", " + w.precision + " products x" + std::to_string(k).substr(0, 5) + " (" +
                peak_field_16bit(w.precision) + ")";
    return R;
}

std::vector<ChunkAction> interleaved_schedule(int stages, int stage, int micro_batches, int chunks) {
    const int p = std::max(1, stages), v = std::max(1, chunks), m = std::max(1, micro_batches);
    std::vector<ChunkAction> out;
    if (v == 1) {
        for (const models::PipeAction& a : models::pipeline_schedule(models::PipeSchedule::OneFOneB, p, stage, m))
            out.push_back({a.kind == models::PipeAction::Forward, a.micro_batch, 0});
        return out;
    }
    // Megatron-LM schedules.py: virtual micro-batch k of m·v runs chunk (k mod p·v) div p (backward:
    // v − 1 − that) on micro-batch (k div p·v)·p + k mod p.
    const int total = m * v;
    int warmup = (p - stage - 1) * 2 + (v - 1) * p;
    if (m == p) warmup = total;  // Megatron: all warm-up when m = p
    warmup = std::min(warmup, total);
    auto action = [&](int k, bool forward) {
        const int c = (k % (p * v)) / p;
        return ChunkAction{forward, (k / (p * v)) * p + k % p, forward ? c : v - 1 - c};
    };
    out.reserve(static_cast<std::size_t>(2 * total));
    for (int k = 0; k < warmup; ++k) out.push_back(action(k, true));
    for (int i = 0; i < total - warmup; ++i) {
        out.push_back(action(warmup + i, true));
        out.push_back(action(i, false));
    }
    for (int k = total - warmup; k < total; ++k) out.push_back(action(k, false));
    return out;
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
    const bool per_gemm = hw.sms > 0 && L.gemm.b > 0;  // a GPU with its SM count: product by product
    GemmBlockTimes g;
    if (per_gemm) {
        g = gemm_block_times(L.gemm, R.matmul_flop_per_s, roofline_mm ? hw.mem_bw_bytes_per_s : 0, hw.sms);
        mmf = rf * g.fwd;
        mmb = rf * g.bwd;
    } else if (roofline_mm && hw.mem_bw_bytes_per_s > 0) {
        mmf = std::max(mmf, L.mm_bytes / hw.mem_bw_bytes_per_s);
        mmb = std::max(mmb, 2 * L.mm_bytes / hw.mem_bw_bytes_per_s);
    }
    LayerTime lt{mmf + L.fwd_bytes / R.memory_bytes_per_s + L.fwd_kernels * R.kernel_overhead_s,
                 mmb + L.bwd_bytes / R.memory_bytes_per_s + L.bwd_kernels * R.kernel_overhead_s};
    if (L.rc_flops > 0 || L.rc_bytes > 0) {  // recomputation, timed as the forward is
        double mmr = rf * L.rc_flops / R.matmul_flop_per_s;
        if (per_gemm) mmr = rf * (L.rc_flops < L.fwd_flops ? g.att_fwd : g.fwd);  // selective: attention only
        else if (roofline_mm && hw.mem_bw_bytes_per_s > 0) mmr = std::max(mmr, L.rc_mm_bytes / hw.mem_bw_bytes_per_s);
        lt.bwd_s += mmr + L.rc_bytes / R.memory_bytes_per_s + L.rc_kernels * R.kernel_overhead_s;
    }
    return lt;
}

double optimizer_time(double params, int shards, int layers, const ComputeRates& R, double bytes_per_param) {
    const double upd = params / std::max(1, shards);
    return upd * bytes_per_param / R.optimizer_bytes_per_s + 2.0 * layers * R.kernel_overhead_s;
}

double contention_factor(const Workload& w, const Hardware& hw, double background_threads) {
    if (hw.cores_per_node <= 0) return 1;
    const double ranks_on_node = std::min(w.ranks(), std::max(1, hw.devices_per_node));  // servers are ranks too
    return std::max(1.0, (ranks_on_node * w.blas_threads + std::max(0.0, background_threads)) / hw.cores_per_node);
}

MemoryEstimate estimate_memory(const Workload& w, const Hardware& hw) {
    MemoryEstimate best;
    best.total = -1;
    for (const StageWork& sw : w.stages) {
        MemoryEstimate m;
        m.stage = sw.stage;
        const double P = sw.params;
        // Weights and gradients at the spec's precision; the optimizer state (AdamW m and v, and the
        // fp32 master weights in mixed precision) sharded over dp with ZeRO-1, which adds the
        // reduced-gradient shard.
        m.params = P * w.weight_bytes;
        m.grads = P * w.grad_bytes;
        m.optimizer = P * w.optimizer_bytes / (w.zero ? w.dp : 1);
        m.buffers = w.zero ? P * w.grad_bytes / w.dp : 0;
        // Activations: GPipe keeps all m micro-batches; 1F1B at most p − s on stage s; interleaved
        // 1F1B the most chunk activations its schedule holds at once.
        double act = 0, work = 0;
        for (const auto& L : sw.layers) {
            act += L.act_bytes;
            work = std::max(work, L.act_work_bytes);  // full recompute: one layer rebuilt at a time
        }
        int slots = 0;
        if (w.virtual_stages > 1 && sw.chunk_begin.size() > 2) {
            const std::size_t v = sw.chunk_begin.size() - 1;
            std::vector<double> chunk_act(v, 0.0);
            for (std::size_t c = 0; c < v; ++c)
                for (std::size_t l = sw.chunk_begin[c]; l < sw.chunk_begin[c + 1]; ++l) chunk_act[c] += sw.layers[l].act_bytes;
            double live = 0, peak = 0;
            int in_flight = 0;
            for (const ChunkAction& a : interleaved_schedule(w.pp, sw.stage, w.micro_batches, static_cast<int>(v))) {
                live += (a.forward ? 1 : -1) * chunk_act[static_cast<std::size_t>(a.chunk)];
                in_flight += a.forward ? 1 : -1;
                peak = std::max(peak, live);
                slots = std::max(slots, in_flight);
            }
            m.activations = peak + work;
        } else {
            slots = models::max_in_flight(models::pipeline_schedule(
                w.gpipe ? models::PipeSchedule::GPipe : models::PipeSchedule::OneFOneB, w.pp, sw.stage, w.micro_batches));
            m.activations = act * slots + work;
        }
        m.buffers += 2 * (sw.in_bytes + sw.out_bytes) * slots;  // activation + gradient slots
        m.total = m.params + m.grads + m.optimizer + m.activations + m.buffers;
        m.capacity = hw.memory_bytes;
        m.fits = hw.memory_bytes <= 0 || m.total <= hw.memory_bytes;
        if (m.total > best.total) best = m;
    }
    return best;
}

std::string memory_verdict(const MemoryEstimate& m) {
    auto gb = [](double bytes) {
        char b[32];
        std::snprintf(b, sizeof b, "%.1f", bytes / 1e9);
        return std::string(b);
    };
    if (!(m.capacity > 0)) return gb(m.total) + " GB per rank (the device's memory is not stated)";
    if (m.fits) {
        char pct[16];
        std::snprintf(pct, sizeof pct, "%.0f", 100 * m.total / m.capacity);
        return "fits: " + gb(m.total) + " of " + gb(m.capacity) + " GB per rank (" + pct + " %)";
    }
    return "does not fit: " + gb(m.total) + " GB per rank > " + gb(m.capacity) + " GB of the device (stage " +
           std::to_string(m.stage) + ": weights " + gb(m.params) + ", gradients " + gb(m.grads) + ", optimizer " +
           gb(m.optimizer) + ", activations " + gb(m.activations) + ", buffers " + gb(m.buffers) + " GB)";
}

void set_utilisation(SimResult& res, const Workload& w, const Hardware& hw) {
    res.model_flops_per_step = w.model_flops_per_step;
    res.hardware_flops_per_step = w.hardware_flops_per_step;
    // The one MFU function (models/plan/flops.h), against the hardware's peak at the spec's
    // precision; 0 when not known, and where the predicted rate is above the peak (rates fitted on
    // a run faster than the hardware's stated peak) the note says so instead of a value above 100 %.
    // MFU counts the model's FLOPs (no recomputation), HFU what the kernels perform.
    const double peak = mfu_peak_flop_per_s(hw, w.precision);
    const models::Mfu mfu =
        models::model_flops_utilisation(res.step_s > 0 ? w.model_flops_per_step / res.step_s : 0, peak, w.world());
    const models::Mfu hfu =
        models::model_flops_utilisation(res.step_s > 0 ? w.hardware_flops_per_step / res.step_s : 0, peak, w.world());
    res.mfu = mfu.known() ? mfu.value : 0;
    res.hfu = hfu.known() ? hfu.value : 0;
    res.mfu_note = models::mfu_problem_text(mfu);
    std::erase_if(res.notes, [](const std::string& n) { return n.rfind("MFU unknown: ", 0) == 0; });
    if (mfu.problem == models::MfuProblem::AbovePeak) res.notes.push_back("MFU unknown: " + res.mfu_note);
}

// What every analytic result ends with: throughput from the step, MFU/HFU, memory per rank and the
// notes on oversubscription and memory (every rank launched counts: a parameter server's too).
void finish_result(SimResult& res, const Workload& w, const Hardware& hw) {
    res.samples_per_s = w.samples_per_step / res.step_s;
    res.tokens_per_s = w.tokens_per_step / res.step_s;
    set_utilisation(res, w, hw);
    res.memory = estimate_memory(w, hw);
    if (res.oversubscribed)
        res.notes.push_back("oversubscribed: " + std::to_string(std::min(w.ranks(), hw.devices_per_node) * w.blas_threads) +
                            " rank threads on " + std::to_string(hw.cores_per_node) + " cores per node; times stretched x" +
                            std::to_string(contention_factor(w, hw)).substr(0, 4));
    if (!res.memory.fits) res.notes.push_back(memory_verdict(res.memory));
}

SimResult simulate_analytic(const ExperimentSpec& spec, const Hardware& hw, const SimOptions& opt) {
    return simulate_analytic(build_workload(spec), hw, with_calibrated_rates(spec, hw, opt));  // calibrate.h
}

SimResult simulate_analytic(const Workload& w, const Hardware& hw, const SimOptions& opt) {
    const ComputeRates R = rates_at_precision(opt.rates ? *opt.rates : rates_from_hardware(hw), hw, w);
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

    // The straggler (training.slow_rank): its stage runs at its pace, every peer waiting for it at
    // the tp all-reduces, the pipeline messages and the DP reduction (all-reduce is synchronous).
    const Straggler slow = straggler_of(w);
    struct StageTimes {
        double comp = 0, tp = 0, data = 0, fb = 0, bwd = 0, p2p = 0;
        double fb_plain = 0, comp_plain = 0;  // fb and comp without the straggler's factor (its peers)
        double bwd_tail = 0;  // the tp all-reduce that ends the last micro-batch's backward (after its last kernel)
        std::size_t first_layer = 0;  // into layer_bwd
    };
    std::vector<StageTimes> st(w.stages.size());
    // Per layer of every stage (forward order): its backward with its tp all-reduces (s).
    std::size_t nlayers = 0;
    for (const StageWork& sw : w.stages) nlayers += sw.layers.size();
    std::vector<double> layer_bwd;
    layer_bwd.reserve(nlayers);
    double sum_fb = 0, max_fb = 0, p2p_total = 0, max_p2p = 0;
    for (std::size_t i = 0; i < w.stages.size(); ++i) {
        const StageWork& sw = w.stages[i];
        StageTimes& T = st[i];
        T.first_layer = layer_bwd.size();
        double fwd = 0, bwd = 0, tpf = 0, tpb = 0;
        const double kf = static_cast<int>(i) == slow.stage ? slow.factor : 1.0;
        for (const LayerWork& L : sw.layers) {
            const LayerTime lt = layer_time(L, R, hw, roofline_mm);
            fwd += lt.fwd_s;
            bwd += lt.bwd_s;
            if (L.tp_fwd_ar) tpf += L.tp_fwd_ar * tp_collective_time(hw, g_tp, L.tp_fwd_bytes, L.tp_rs_ag);
            const double lb = L.tp_bwd_ar ? L.tp_bwd_ar * tp_collective_time(hw, g_tp, L.tp_bwd_bytes, L.tp_rs_ag) : 0;
            tpb += lb;
            layer_bwd.push_back((kf * lt.bwd_s + lb) * c);
        }
        const double data = sw.loads_data ? w.micro_batch * R.data_s_per_sample : 0;
        T.fb_plain = (fwd + bwd + tpf + tpb + data) * c;
        T.comp_plain = (fwd + bwd) * c;
        fwd *= kf;
        bwd *= kf;
        T.comp = (fwd + bwd) * c;
        T.tp = (tpf + tpb) * c;
        T.data = data * c;
        T.bwd = (bwd + tpb) * c;
        T.fb = T.comp + T.tp + T.data;
        if (!sw.layers.empty() && sw.layers.front().tp_bwd_ar > 0)
            T.bwd_tail = tp_collective_time(hw, g_tp, sw.layers.front().tp_bwd_bytes, sw.layers.front().tp_rs_ag) * c;
        T.p2p = p2p_time(w, hw, g_pp, g_tp, sw.out_bytes) * c;
        max_p2p = std::max(max_p2p, T.p2p);
        sum_fb += T.fb;
        max_fb = std::max(max_fb, T.fb);
        p2p_total += 2 * T.p2p;  // activation forward, gradient backward
    }
    // Pipeline (GPipe and 1F1B): the first micro-batch crosses every stage forward and back, the
    // others follow at the pace of the slowest stage. Uniform stages give (m + p − 1)(tF + tB),
    // i.e. the bubble fraction (p−1)/(m+p−1). Interleaved 1F1B with v chunks per stage (Narayanan
    // et al. 2021): the fill and drain are v times shorter, m·max + (Σ − max)/v, while the first
    // micro-batch crosses v·p − 1 chunk boundaries instead of p − 1 (v times the messages).
    const int v = std::max(1, w.virtual_stages);
    if (v > 1 && w.pp > 1) p2p_total *= static_cast<double>(v * w.pp - 1) / w.pp;  // every stage sends (the last one wraps)
    // Blocking p2p (GPUs, Workload::p2p_sync): in the steady state every other micro-batch's
    // activation and gradient transfer also holds the stages, (m·v − 1)·2 more messages.
    const double p2p_steady = w.p2p_sync && w.pp > 1 ? (m * v - 1) * 2 * max_p2p : 0;
    const double t_pipe = m * max_fb + (sum_fb - max_fb) / v + p2p_total + p2p_steady;
    if (w.ps) {
        // A parameter server: the replicas compute on their own (no DP reduction, no optimizer
        // on the workers); the straggler's replica at its pace, the others at the plain one.
        double sum_plain = 0, max_plain = 0;
        for (const StageTimes& T : st) {
            sum_plain += T.fb_plain;
            max_plain = std::max(max_plain, T.fb_plain);
        }
        const double t_plain = m * max_plain + (sum_plain - max_plain) / v + p2p_total + p2p_steady;
        const double ovh = R.step_overhead_s * c;
        std::vector<double> replica_compute(static_cast<std::size_t>(w.dp), t_plain + ovh);
        if (slow.replica >= 0) replica_compute[static_cast<std::size_t>(slow.replica)] = t_pipe + ovh;
        res.ps = ps_steady_state(w, hw, R, replica_compute, c);
        res.step_s = static_cast<double>(w.dp) / res.ps.gradients_per_s;
        // Breakdown: where a worker's time goes (mean over replicas of each part's share of its
        // own step), scaled to the step; the servers are not in it.
        Breakdown& B = res.breakdown;
        const double ns = 1e9, S = static_cast<double>(w.stages.size());
        for (int d = 0; d < w.dp; ++d) {
            const bool is_slow = d == slow.replica;
            const double step_d = res.ps.replica_step_s[static_cast<std::size_t>(d)];
            const double scale = res.step_s / step_d / w.dp;  // share of its step, mean over replicas
            double comp = 0, data = 0, tpc = 0, fbsum = 0;
            for (const StageTimes& T : st) {
                comp += m * (is_slow ? T.comp : T.comp_plain) / S;
                data += m * T.data / S;
                tpc += m * T.tp / S;
                fbsum += m * (is_slow ? T.fb : T.fb_plain) / S;
            }
            const double pipe = replica_compute[static_cast<std::size_t>(d)] - ovh;
            const double own = res.ps.push_s + res.ps.pull_s;
            B.part_ns[static_cast<int>(Part::Compute)] += comp * ns * scale;
            B.part_ns[static_cast<int>(Part::Data)] += data * ns * scale;
            B.part_ns[static_cast<int>(Part::Bubble)] += std::max(0.0, pipe - fbsum) * ns * scale;
            B.part_ns[static_cast<int>(Part::ExposedComm)] += (tpc + own) * ns * scale;
            B.part_ns[static_cast<int>(Part::Optimizer)] += res.ps.apply_s * ns * scale;
            B.part_ns[static_cast<int>(Part::OtherHost)] += ovh * ns * scale;
            B.part_ns[static_cast<int>(Part::Idle)] += res.ps.replica_wait_s[static_cast<std::size_t>(d)] * ns * scale;
            B.comm_ns += (tpc + own) * ns * scale;
            B.compute_ns += comp * ns * scale;
        }
        B.step_ns = res.step_s * ns;
        finish_result(res, w, hw);
        return res;
    }

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
            const double gb = w.grad_bytes, wb = w.weight_bytes;  // reduced gradients, gathered parameters
            const double full = collective_time(hw, red, g_dp, bp * gb, w.overlap) * c;
            const double full_ag = w.zero ? collective_time(hw, Collective::AllGather, g_dp, bp * wb) * c : 0;
            const double f = std::clamp(hw.overlap, 0.0, 1.0);
            const double* lb = layer_bwd.data() + st[i].first_layer;
            double chain = 0, done = 0;  // s after the start of the last micro-batch's backward
            runs.clear();
            std::size_t li = sw.layers.size();     // layers passed so far: li .. end
            double lo = P;                         // first parameter of layer li
            for (std::size_t k = 0; k < nb; ++k) {
                const models::Bucket bk = models::bucket_range(flat, w.bucket_elems, k);
                const double begin = static_cast<double>(bk.begin);
                const double elems = static_cast<double>(bk.size());
                const bool partial = elems < bp;  // the last bucket, when P is not a multiple of bp
                const double cost = partial ? collective_time(hw, red, g_dp, elems * gb, w.overlap) * c : full;
                dp_total[i] += cost;
                if (w.zero) ag_s[i] += partial ? collective_time(hw, Collective::AllGather, g_dp, elems * wb) * c : full_ag;
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
        opt_s[i] = optimizer_time(sw.params, w.zero ? w.dp : 1, static_cast<int>(sw.layers.size()), R, w.optimizer_traffic) * c *
                   (static_cast<int>(i) == slow.stage ? slow.factor : 1.0);
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
        // With a straggler on this stage its dp·tp − 1 peers do the plain compute and wait the rest
        // (at their collectives): the stage's mean compute is plain + (slow − plain) / (dp·tp).
        const double peers = static_cast<double>(w.dp) * w.tp;
        const double comp_mean = T.comp_plain + (T.comp - T.comp_plain) / peers;
        B.part_ns[static_cast<int>(Part::ExposedComm)] += m * (T.comp - comp_mean) * ns / S;
        B.part_ns[static_cast<int>(Part::Compute)] += m * comp_mean * ns / S;
        B.part_ns[static_cast<int>(Part::Data)] += m * T.data * ns / S;
        B.part_ns[static_cast<int>(Part::ExposedComm)] += (m * T.tp + dp_exp[i] + ag_s[i] + world_ar) * ns / S;
        B.part_ns[static_cast<int>(Part::Bubble)] += (t_pipe - m * T.fb) * ns / S;
        B.part_ns[static_cast<int>(Part::Optimizer)] += opt_s[i] * ns / S;
        B.part_ns[static_cast<int>(Part::OtherHost)] += ovh * ns / S;
        B.part_ns[static_cast<int>(Part::Idle)] += (step_busy - busy[i]) * ns / S;
        B.comm_ns += (m * T.tp + dp_total[i] + ag_s[i] + world_ar) * ns / S;
        B.compute_ns += (m * T.comp + opt_s[i]) * ns / S;  // the slowest rank's
        B.overlapped_ns += (dp_total[i] - std::min(dp_total[i], dp_exp[i])) * ns / S;
    }
    B.step_ns = res.step_s * ns;

    finish_result(res, w, hw);
    return res;
}

// ---- Parameter server and staleness (docs/SIMULATOR.md "Parameter server and staleness") ----

Straggler straggler_of(const Workload& w) {
    Straggler s;
    if (w.slow_rank < 0 || w.slow_rank >= w.world() || !(w.slow_factor > 1.0)) return s;
    const models::Coord at = models::coord_of(w.slow_rank, models::Layout{w.dp, w.tp, w.pp});
    s.rank = w.slow_rank;
    s.stage = at.pp;
    s.replica = at.dp;
    s.factor = w.slow_factor;
    return s;
}

std::string ps_mode(int staleness) {
    if (staleness == ParallelSpec::kAsync) return "async";
    if (staleness == 0) return "bsp";
    return "ssp(" + std::to_string(staleness) + ")";
}

PsCosts ps_costs(const Workload& w, const Hardware& hw, const ComputeRates& R, double contention) {
    PsCosts pc;
    pc.dp = w.dp;
    pc.servers = std::max(1, w.servers);
    const int S = pc.servers, W = w.world();
    const models::Layout layout{w.dp, w.tp, w.pp};
    pc.push.assign(static_cast<std::size_t>(w.dp * S), 0.0);
    pc.pull.assign(static_cast<std::size_t>(w.dp * S), 0.0);
    pc.in_bytes.assign(static_cast<std::size_t>(S), 0.0);
    pc.out_bytes.assign(static_cast<std::size_t>(S), 0.0);
    double replica_params = 0;  // what one replica's tp·pp ranks hold (= the servers' parameters)
    for (const StageWork& sw : w.stages) replica_params += sw.params * w.tp;
    for (int r = 0; r < W; ++r) {
        const models::Coord at = models::coord_of(r, layout);
        const double shard = w.stages[static_cast<std::size_t>(at.pp)].params / S;  // of this rank's parameters, per server
        const double gb = shard * w.grad_bytes, wb = shard * w.weight_bytes;
        for (int s = 0; s < S; ++s) {
            // the server is world rank W + s: on the worker's node or another (the hardware's send/recv α-β)
            const GroupPlacement g = place_group(hw, 2, W + s - r, r);
            const std::size_t k = static_cast<std::size_t>(at.dp * S + s);
            pc.push[k] += collective_time(hw, Collective::Send, g, gb) * contention;
            pc.pull[k] += collective_time(hw, Collective::Send, g, wb) * contention;
            pc.in_bytes[static_cast<std::size_t>(s)] += gb;
            pc.out_bytes[static_cast<std::size_t>(s)] += wb;
        }
    }
    pc.apply_s = optimizer_time(replica_params / S, 1, 1, R, w.optimizer_traffic) * contention;
    return pc;
}

double ps_bsp_step(const std::vector<double>& compute, const std::vector<double>& push, const std::vector<double>& pull,
                   double apply) {
    double pushes = 0;
    for (double x : push) pushes += x;
    double pulled = 0, worst = 0;  // pulled: q_0 + ... + q_k; pushes: c_k + ... + c_(n-1)
    for (std::size_t k = 0; k < compute.size(); ++k) {
        pulled += pull[k];
        worst = std::max(worst, pulled + compute[k] + pushes);
        pushes -= push[k];
    }
    return worst + apply;
}

std::vector<double> ps_async_rates(const std::vector<double>& cycle, const std::vector<double>& load) {
    const std::size_t n = cycle.size();
    std::vector<double> x(n);
    double used = 0;
    for (std::size_t d = 0; d < n; ++d) {
        x[d] = 1.0 / cycle[d];
        used += x[d] * load[d];
    }
    if (used <= 1.0) return x;
    // Water-filling: the slowest replicas keep their own rate, the others share what is left
    // equally (λ each): Σ_(own < λ) own·load + λ·Σ_(rest) load = 1.
    std::vector<std::size_t> by(n);
    for (std::size_t d = 0; d < n; ++d) by[d] = d;
    std::sort(by.begin(), by.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
    double fixed = 0, rest = 0;
    for (double l : load) rest += l;
    double lambda = 0;
    for (std::size_t k = 0; k < n; ++k) {
        lambda = rest > 0 ? (1.0 - fixed) / rest : x[by[k]];
        if (lambda <= x[by[k]]) break;  // replica by[k] and faster ones are capped at λ
        fixed += x[by[k]] * load[by[k]];
        rest -= load[by[k]];
    }
    for (std::size_t d = 0; d < n; ++d) x[d] = std::min(x[d], lambda);
    return x;
}

std::vector<double> ps_cycles(const Workload& w, const PsCosts& pc, const std::vector<double>& replica_compute,
                              PsPrediction& p) {
    const int n = w.dp, S = pc.servers;
    p.enabled = true;
    p.servers = S;
    p.staleness = w.staleness;
    p.mode = ps_mode(w.staleness);
    p.apply_s = pc.apply_s;
    // A replica's own cycle: compute, its pushes (the servers receive in parallel), the update,
    // the pulls.
    std::vector<double> tau(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) {
        double cmax = 0, qmax = 0;
        for (int s = 0; s < S; ++s) {
            cmax = std::max(cmax, pc.push_of(d, s));
            qmax = std::max(qmax, pc.pull_of(d, s));
        }
        tau[static_cast<std::size_t>(d)] = replica_compute[static_cast<std::size_t>(d)] + cmax + pc.apply_s + qmax;
        p.push_s += cmax / n;
        p.pull_s += qmax / n;
    }
    return tau;
}

PsPrediction ps_steady_state(const Workload& w, const Hardware& hw, const ComputeRates& R,
                             const std::vector<double>& replica_compute, double contention) {
    PsPrediction p;
    const PsCosts pc = ps_costs(w, hw, R, contention);
    const int n = w.dp, S = pc.servers;
    const double A = pc.apply_s;
    const std::vector<double> tau = ps_cycles(w, pc, replica_compute, p);
    std::vector<double> x(static_cast<std::size_t>(n));
    // One gradient of replica d costs server s: c_ds on its in-link, A on its optimizer, q_ds on
    // its out-link; the binding resource is the most loaded at the rates x.
    auto utilisation = [&](const std::vector<double>& rates, int s, std::vector<double>* binding) {
        double in = 0, cpu = 0, out = 0;
        for (int d = 0; d < n; ++d) {
            in += rates[static_cast<std::size_t>(d)] * pc.push_of(d, s);
            cpu += rates[static_cast<std::size_t>(d)] * A;
            out += rates[static_cast<std::size_t>(d)] * pc.pull_of(d, s);
        }
        const double u = std::max({in, cpu, out});
        if (binding) {
            binding->resize(static_cast<std::size_t>(n));
            for (int d = 0; d < n; ++d)
                (*binding)[static_cast<std::size_t>(d)] = u == in ? pc.push_of(d, s) : u == cpu ? A : pc.pull_of(d, s);
        }
        return u;
    };
    std::vector<double> staleness(static_cast<std::size_t>(n), 0.0), own(static_cast<std::size_t>(n));
    const auto [tmin, tmax] = std::minmax_element(tau.begin(), tau.end());
    const bool equal = *tmax <= *tmin * (1 + 1e-9);
    if (w.staleness == 0) {
        // BSP: the closed form of ps_bsp_step on every server, replicas in push order (compute
        // ascending, stable), the slowest server setting the step.
        std::vector<std::size_t> order(static_cast<std::size_t>(n));
        for (int d = 0; d < n; ++d) order[static_cast<std::size_t>(d)] = static_cast<std::size_t>(d);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return replica_compute[a] < replica_compute[b]; });
        std::vector<double> C(order.size()), c(order.size()), q(order.size());
        double step = 0;
        for (int s = 0; s < S; ++s) {
            for (std::size_t k = 0; k < order.size(); ++k) {
                C[k] = replica_compute[order[k]];
                c[k] = pc.push_of(static_cast<int>(order[k]), s);
                q[k] = pc.pull_of(static_cast<int>(order[k]), s);
            }
            step = std::max(step, ps_bsp_step(C, c, q, A));
        }
        std::fill(x.begin(), x.end(), 1.0 / step);
    } else {
        // The binding (server, resource) at the replicas' own rates.
        std::vector<double> load, best_load;
        for (int d = 0; d < n; ++d) own[static_cast<std::size_t>(d)] = 1.0 / tau[static_cast<std::size_t>(d)];
        // A convoy: a replica whose compute is within one pull of the slowest one's queues behind
        // it at every server link (its pull leaves q_d after the slowest's, so it is ready to push
        // after it, and waits for its push) and never gets ahead: it runs at its rate.
        const std::size_t slowest = static_cast<std::size_t>(tmax - tau.begin());
        std::vector<char> convoy(static_cast<std::size_t>(n), 0);
        for (int d = 0; d < n; ++d) {
            const std::size_t i = static_cast<std::size_t>(d);
            double qd = 0;
            for (int k = 0; k < S; ++k) qd = std::max(qd, pc.pull_of(d, k));
            convoy[i] = i != slowest && replica_compute[slowest] - replica_compute[i] < qd;
        }
        std::vector<double> ahead = own;  // the rates the replicas run ahead of the slowest at (SSP)
        for (int d = 0; d < n; ++d)
            if (convoy[static_cast<std::size_t>(d)]) ahead[static_cast<std::size_t>(d)] = own[slowest];
        double worst = -1;
        for (int s = 0; s < S; ++s) {
            const double u = utilisation(own, s, &load);
            if (u > worst) {
                worst = u;
                best_load = load;
            }
        }
        if (w.staleness == ParallelSpec::kAsync || equal) {
            // Async (or SSP whose replicas are equally fast: the bound never binds): each at its
            // own rate, the fair share of the binding resource when the servers saturate.
            x = ps_async_rates(tau, best_load);
            for (int d = 0; d < n; ++d)
                if (convoy[static_cast<std::size_t>(d)]) x[static_cast<std::size_t>(d)] = std::min(x[static_cast<std::size_t>(d)], x[slowest]);
        } else {
            // SSP with a persistent straggler: the fast replicas reach the bound and then run at
            // the slowest one's rate (or the servers' limit for all running together).
            double per_all = 0;
            for (double l : best_load) per_all += l;
            const double rate = std::min(1.0 / *tmax, per_all > 0 ? 1.0 / per_all : 1.0 / *tmax);
            std::fill(x.begin(), x.end(), rate);
        }
        // Staleness as the runtime records it (models/LAYOUT.md "Parameter server"): t − v for the
        // gradient of step t, v the servers' step version it was computed on (the fewest pushes
        // applied from any replica). Replica d runs ahead of the slowest by g_d = 1 − x_slow/x_d
        // steps per step of its own (own rates: SSP's run-ahead), up to the bound s (async: no
        // bound), over the spec's N steps: mean_t min(s, g_d·t). Replicas equally fast: the first
        // n − 1 to push a step see the last one's step still missing: (n − 1)/n.
        const bool ssp = w.staleness != ParallelSpec::kAsync;
        const std::vector<double>& r = ssp ? ahead : x;
        const double rmin = *std::min_element(r.begin(), r.end());
        const double cap = ssp ? static_cast<double>(w.staleness) : std::numeric_limits<double>::infinity();
        const double N = std::max(1, w.steps);
        const bool all_equal = *std::max_element(r.begin(), r.end()) <= rmin * (1 + 1e-9);
        for (int d = 0; d < n; ++d) {
            const std::size_t i = static_cast<std::size_t>(d);
            const double g = 1.0 - rmin / r[i];
            if (all_equal) {
                staleness[i] = (n - 1.0) / n * (N - 1) / N;  // the first step is computed on version 0
                p.staleness_max = n > 1 ? 1 : 0;
                continue;
            }
            // mean over t = 0 .. N−1 of min(cap, g·t)
            const double T = cap / g;  // the step where the bound is reached
            staleness[i] = T >= N - 1 ? g * (N - 1) / 2 : (g * T * (T + 1) / 2 + cap * (N - 1 - T)) / N;
            p.staleness_max = std::max(p.staleness_max, std::min(cap, g * (N - 1)));
        }
    }
    p.replica_step_s.resize(static_cast<std::size_t>(n));
    p.replica_wait_s.resize(static_cast<std::size_t>(n));
    p.replica_staleness = staleness;
    double X = 0, sum = 0;
    for (int d = 0; d < n; ++d) {
        const std::size_t i = static_cast<std::size_t>(d);
        p.replica_step_s[i] = 1.0 / x[i];
        p.replica_wait_s[i] = std::max(0.0, p.replica_step_s[i] - tau[i]);
        X += x[i];
        sum += staleness[i];
        p.job_step_s = std::max(p.job_step_s, p.replica_step_s[i]);
    }
    p.gradients_per_s = X;
    p.staleness_mean = sum / n;  // every replica runs the N steps
    // Bytes per global step (one gradient of every replica) and the busiest resource of each server.
    p.server_in_bytes = pc.in_bytes;
    p.server_out_bytes = pc.out_bytes;
    p.server_utilisation.resize(static_cast<std::size_t>(S));
    for (int s = 0; s < S; ++s) p.server_utilisation[static_cast<std::size_t>(s)] = std::min(1.0, utilisation(x, s, nullptr));
    return p;
}

std::vector<CurvePoint> scaling_curve(const ExperimentSpec& spec, const Hardware& hw, const std::string& axis,
                                      const std::vector<int>& values, bool weak, const SimOptions& opt) {
    if (values.empty()) throw SimError("a scaling curve needs at least one value of " + axis);
    const double per_rank = static_cast<double>(spec.training.global_batch) / spec.parallel.workers();  // servers hold no batch
    std::vector<CurvePoint> out;
    for (int v : values) {
        ExperimentSpec s = spec;
        if (axis == "dp") s.parallel.dp = v;
        else if (axis == "tp") s.parallel.tp = v;
        else if (axis == "pp") s.parallel.pp = v;
        else if (axis == "micro_batches") s.parallel.micro_batches = v;
        else throw SimError("cannot sweep \"" + axis + "\": expected dp, tp, pp or micro_batches");
        s.launch.np = 0;
        if (weak) s.training.global_batch = static_cast<int>(std::lround(per_rank * s.parallel.workers()));
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

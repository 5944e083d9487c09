// Model FLOPs and MFU: the numerator as the kernels perform it, the 6·N·tokens convention beside it
// (labelled as such), and the one MFU function every figure goes through (DESIGN.md "Formulas"). Part
// of scalescope_plan (shared by the trainer's accounting, the analysis, the simulator and the
// benchmarks); standard library only.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace ss::models {

// ---- model FLOPs as performed ----
//
// Only matrix products count (PaLM appendix B; the element-wise kernels — layer norm, GELU, softmax,
// AdamW — are not "model FLOPs"), each as 2 FLOPs per multiply-add: a linear layer of C inputs and OC
// outputs costs 2·C·OC per token forward and 4·C·OC backward (input and weight gradients), 2·C·OC
// when the input gradient is not computed (an MLP's first layer: its input is data). Embedding
// lookups are copies: no FLOPs.

// How the attention products QKᵀ and PV treat the causal mask.
enum class AttentionKernel {
    CausalRowTiles,  // CPU (kernels/attention.cpp): query rows in tiles of kAttentionRowTile, each tile
                     // multiplying the keys [0, end of tile): the masked part right of the diagonal of
                     // each tile is computed, the rest of the upper triangle skipped
    Full,            // GPU (kernels/cuda/cuda_backend.cpp): the full T×T products, mask applied after
};

// Query rows per sgemm tile of the CPU attention kernels (kernels/attention.cpp uses this constant).
inline constexpr int kAttentionRowTile = 64;

// Query–key pairs per sequence of T tokens whose products the attention kernel computes:
// Full T², CausalRowTiles Σ over tiles [r0, r1) of (r1 − r0)·r1 (T = 128: 12,288 of 16,384).
constexpr double attention_pairs(int T, AttentionKernel k) {
    if (T <= 0) return 0;
    if (k == AttentionKernel::Full) return static_cast<double>(T) * T;
    double pairs = 0;
    for (int r0 = 0; r0 < T; r0 += kAttentionRowTile) {
        const int r1 = r0 + kAttentionRowTile < T ? r0 + kAttentionRowTile : T;
        pairs += static_cast<double>(r1 - r0) * r1;
    }
    return pairs;
}

// The GPT of models/gpt.cpp (docs/SPEC.md "GPT architecture"): per block qkv (C, 3C), output
// projection (C, C), MLP (C, 4C) and (4C, C); an untied LM head (C, V); token and position
// embeddings looked up. Per token: 6 × the matrix weights (forward 2, backward 4), plus the
// attention products: QKᵀ and PV forward (2 × 2·C per pair) and their four backward products
// (4 × 2·C per pair), over the pairs the kernel computes, divided by the T tokens of a sequence.
constexpr double gpt_model_flops_per_token(int layers, int d_model, int seq_len, int vocab, AttentionKernel k) {
    if (layers < 0 || d_model <= 0 || seq_len <= 0 || vocab <= 0) return 0;
    const double C = d_model, L = layers;
    const double matrix_weights = L * 12.0 * C * C + C * vocab;
    return 6.0 * matrix_weights + 12.0 * L * C * attention_pairs(seq_len, k) / seq_len;
}

// The MLP of models/mlp.cpp: widths = input, hidden..., classes. Per sample: 6·in·out per layer,
// less the first layer's input gradient (2·in·out), which the trainer does not compute.
inline double mlp_model_flops_per_sample(const std::vector<int>& widths) {
    double f = 0;
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
        const double in = widths[i], out = widths[i + 1];
        f += (i == 0 ? 4.0 : 6.0) * in * out;
    }
    return f;
}

// The 6·N·tokens convention (Kaplan et al. 2020; PaLM appendix B; llm.c gpt2_estimate_mfu): 6·N
// per token for N parameters (embeddings included) plus 12·L·d·s for full attention over L blocks of
// width d with a context of s tokens. Shown beside the performed count, always labelled as the
// convention: it counts lookups and masked work the kernels never do, so it is not an MFU numerator.
constexpr double convention_flops_per_token(double params, double attention_layers = 0, double d_model = 0,
                                            double seq_len = 0) {
    return 6.0 * params + 12.0 * attention_layers * d_model * seq_len;
}

// ---- MFU: the one function ----

enum class MfuProblem {
    None,          // value holds the MFU, in (0, 1]
    NoModelFlops,  // the model FLOP/s is unknown (<= 0 or not finite)
    NoPeak,        // the peak is unknown (<= 0 or not finite)
    AbovePeak,     // model FLOP/s > peak × devices: one of the two numbers is wrong; no value
};

struct Mfu {
    double value = std::numeric_limits<double>::quiet_NaN();  // in (0, 1]; NaN unless problem == None
    double ratio = std::numeric_limits<double>::quiet_NaN();  // model FLOP/s ÷ (peak × devices) as
                                                              // computed (> 1 for AbovePeak)
    MfuProblem problem = MfuProblem::NoModelFlops;
    bool known() const { return problem == MfuProblem::None; }
};

// MFU = model FLOP/s ÷ (peak FLOP/s of one device × devices). Never above 1: a ratio above 1 means
// the peak is not the machine's (measured on other hardware, fewer threads, a busy machine, an
// older calibration at a small shape) or the numerator counts work that is not done; it is
// refused (problem AbovePeak, value NaN, the ratio kept for the message), never clamped.
inline Mfu model_flops_utilisation(double model_flop_per_s, double peak_flop_per_s_per_device, int devices) {
    Mfu m;
    if (!(model_flop_per_s > 0) || !std::isfinite(model_flop_per_s)) return m;
    if (!(peak_flop_per_s_per_device > 0) || !std::isfinite(peak_flop_per_s_per_device) || devices < 1) {
        m.problem = MfuProblem::NoPeak;
        return m;
    }
    m.ratio = model_flop_per_s / (peak_flop_per_s_per_device * devices);
    if (m.ratio > 1) {
        m.problem = MfuProblem::AbovePeak;
        return m;
    }
    m.problem = MfuProblem::None;
    m.value = m.ratio;
    return m;
}

// Why an MFU has no value, in a sentence (empty when it has one).
inline std::string mfu_problem_text(const Mfu& m) {
    switch (m.problem) {
    case MfuProblem::None: return {};
    case MfuProblem::NoModelFlops: return "no model FLOP count";
    case MfuProblem::NoPeak: return "no peak FLOP/s";
    case MfuProblem::AbovePeak: {
        const std::string pct = std::to_string(static_cast<long long>(std::llround(100.0 * m.ratio)));
        return "the model FLOP/s are " + pct +
               " % of the peak: above 100 % one of the two numbers is wrong (a peak measured on other hardware, "
               "with fewer threads, at a small shape or on a busy machine; recalibrate on the machine the run "
               "used)";
    }
    }
    return {};
}

}  // namespace ss::models

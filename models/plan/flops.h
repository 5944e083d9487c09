// Model FLOPs: the MFU numerator, one formula for the analysis, the simulator and the benchmarks
// (DESIGN.md "Formulas"). Part of scalescope_plan (the per-layer work both the trainer's accounting
// and the simulator count); standard library only.
#pragma once

namespace ss::models {

// Model FLOPs per token (PaLM appendix B, llm.c gpt2_estimate_mfu): 6·N for the forward and
// backward matrix products of N parameters, plus 12·L·d·s for causal attention (QKᵀ and PV, forward
// and backward) over L blocks of width d with a context of s tokens. A model without attention (an
// MLP: one sample = one "token") passes attention_layers = 0.
constexpr double model_flops_per_token(double params, double attention_layers = 0, double d_model = 0,
                                       double seq_len = 0) {
    return 6.0 * params + 12.0 * attention_layers * d_model * seq_len;
}

}  // namespace ss::models

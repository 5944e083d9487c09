// bench_kernels: how fast are the CPU kernels on this machine?
//   1. OpenBLAS sgemm rate (GFLOP/s) at the configured thread count (default 1, one per rank)
//      for square sizes and the matrix shapes of a GPT layer, and the machine's peak: the best
//      call of a 2048³ sgemm (kernels::measure_peak_sgemm_flops), the MFU denominator (DESIGN.md,
//      "Formulas"), with the OpenBLAS kernel chosen for the CPU (kernels/blas_core.h).
//   2. Time per call and achieved bandwidth (bytes read + written / time) of the non-matmul
//      kernels at GPT-small activation sizes, and attention's FLOP rate.
//
// usage: bench_kernels [--seconds S] [--threads N] [--rows BT] [--channels C] [--heads NH]
//                      [--seq T] [--vocab V]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/blas_core.h"
#include "kernels/cpu_kernels.h"
#include "kernels/perf.h"
#include "models/plan/flops.h"
#include "traces/median.h"

namespace sk = ss::kernels;

namespace {

struct Options {
    double seconds = 0.3;  // per measurement
    int threads = 1;
    int rows = 1024;     // B*T
    int channels = 768;  // C
    int heads = 12;      // NH
    int seq = 256;       // T
    int vocab = 8192;    // V (a small GPT vocabulary)
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--seconds S] [--threads N] [--rows BT] [--channels C] [--heads NH] "
                 "[--seq T] [--vocab V]\n",
                 argv0);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage(argv[0]);
        const char* v = argv[++i];
        if (a == "--seconds")
            o.seconds = std::atof(v);
        else if (a == "--threads")
            o.threads = std::atoi(v);
        else if (a == "--rows")
            o.rows = std::atoi(v);
        else if (a == "--channels")
            o.channels = std::atoi(v);
        else if (a == "--heads")
            o.heads = std::atoi(v);
        else if (a == "--seq")
            o.seq = std::atoi(v);
        else if (a == "--vocab")
            o.vocab = std::atoi(v);
        else
            usage(argv[0]);
    }
    if (o.seconds <= 0 || o.threads < 1 || o.rows < 1 || o.channels < 1 || o.heads < 1 ||
        o.channels % o.heads != 0 || o.seq < 1 || o.rows % o.seq != 0 || o.vocab < 1) {
        std::fprintf(stderr, "invalid sizes (C must divide by NH, rows by T)\n");
        std::exit(2);
    }
    return o;
}

// Median seconds per call of fn over at least `seconds` of calls (one untimed warm-up call).
double time_call(double seconds, const std::function<void()>& fn) {
    using clock = std::chrono::steady_clock;
    fn();
    std::vector<double> t;
    const auto start = clock::now();
    do {
        const auto a = clock::now();
        fn();
        t.push_back(std::chrono::duration<double>(clock::now() - a).count());
    } while (t.size() < 3 || std::chrono::duration<double>(clock::now() - start).count() < seconds);
    return ss::traces::median(std::move(t));
}

std::vector<float> filled(std::size_t n, float lo, float hi) {
    std::vector<float> v(n);
    std::uint32_t s = 12345;
    for (auto& x : v) {
        s = s * 1664525u + 1013904223u;
        x = lo + (hi - lo) * static_cast<float>(s >> 8) * (1.0f / 16777216.0f);
    }
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    if (const std::string note = sk::select_blas_core(argv); !note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
    const Options o = parse(argc, argv);
    sk::set_blas_threads(o.threads);
    const int N = o.rows, C = o.channels, T = o.seq, B = N / T, NH = o.heads, V = o.vocab;

    std::printf("bench_kernels: OpenBLAS %s kernel, threads %d, %.2f s per measurement\n\n",
                sk::blas_core_name().c_str(), sk::blas_threads(), o.seconds);

    // ---- 1. sgemm rate ----
    std::printf("sgemm C(m,n) = A(m,k) B(k,n)      %6s %6s %6s  %9s\n", "m", "n", "k", "GFLOP/s");
    struct Shape {
        const char* what;
        int m, n, k;
    };
    const Shape shapes[] = {
        {"square", 512, 512, 512},
        {"square", 768, 768, 768},
        {"square", 1024, 1024, 1024},
        {"qkv       (BT,C)x(C,3C)", N, 3 * C, C},
        {"attn proj (BT,C)x(C,C)", N, C, C},
        {"mlp up    (BT,C)x(C,4C)", N, 4 * C, C},
        {"mlp down  (BT,4C)x(4C,C)", N, C, 4 * C},
    };
    for (const Shape& s : shapes) {
        const double f = sk::measure_sgemm_flops(s.m, s.n, s.k, o.seconds);
        std::printf("  %-30s %6d %6d %6d  %9.2f\n", s.what, s.m, s.n, s.k, f * 1e-9);
    }
    const int pn = sk::kPeakSgemmN;
    const double best = sk::measure_peak_sgemm_flops(pn, std::max(1.0, o.seconds));
    std::printf("  %-30s %6d %6d %6d  %9.2f\n\n", "peak (best call, MFU denominator)", pn, pn, pn, best * 1e-9);

    // linear layer (the models' matmuls, with their transposes): fwd 2NCK, bwd 4NCK FLOPs
    {
        const int OC = 4 * C;
        auto x = filled(std::size_t(N) * C, -1, 1), w = filled(std::size_t(OC) * C, -1, 1),
             b = filled(OC, -1, 1), y = filled(std::size_t(N) * OC, -1, 1),
             dx = filled(x.size(), 0, 0), dw = filled(w.size(), 0, 0), db = filled(OC, 0, 0);
        const double fl = 2.0 * N * C * OC;
        const double tf = time_call(o.seconds, [&] {
            sk::linear_forward(y.data(), x.data(), w.data(), b.data(), N, C, OC);
        });
        const double tb = time_call(o.seconds, [&] {
            sk::linear_backward(dx.data(), dw.data(), db.data(), y.data(), x.data(), w.data(), N, C,
                                OC);
        });
        std::printf(
            "linear (BT,C)->(BT,4C)  forward %8.2f ms %8.2f GFLOP/s   backward %8.2f ms "
            "%8.2f GFLOP/s\n\n",
            tf * 1e3, fl / tf * 1e-9, tb * 1e3, 2 * fl / tb * 1e-9);
    }

    // ---- 2. non-matmul kernels ----
    std::printf("kernel (B=%d T=%d C=%d NH=%d V=%d)  %10s %10s %10s\n", B, T, C, NH, V, "ms/call",
                "GB/s", "GFLOP/s");
    auto row = [&](const char* name, double bytes, double flops, const std::function<void()>& fn) {
        const double t = time_call(o.seconds, fn);
        std::printf("  %-32s %10.3f %10.2f", name, t * 1e3, bytes / t * 1e-9);
        if (flops > 0) std::printf(" %10.2f", flops / t * 1e-9);
        std::printf("\n");
    };
    const std::size_t NC = std::size_t(N) * C, N4C = 4 * NC;
    const double f4 = sizeof(float);
    auto x = filled(N4C, -3, 3), y = filled(N4C, -1, 1), dx = filled(N4C, 0, 0);
    auto w = filled(C, 0.5, 1.5), bvec = filled(C, -0.1, 0.1), mean = filled(N, 0, 0),
         rstd = filled(N, 0, 0), dw = filled(C, 0, 0), db = filled(C, 0, 0),
         db4 = filled(4 * std::size_t(C), 0, 0);

    row("gelu_forward (BT,4C)", 2 * f4 * N4C, 0,
        [&] { sk::gelu_forward(y.data(), x.data(), N4C); });
    row("gelu_backward (BT,4C)", 4 * f4 * N4C, 0,
        [&] { sk::gelu_backward(dx.data(), x.data(), y.data(), N4C); });
    row("relu_forward (BT,4C)", 2 * f4 * N4C, 0,
        [&] { sk::relu_forward(y.data(), x.data(), N4C); });
    row("layernorm_forward (BT,C)", 2 * f4 * NC, 0, [&] {
        sk::layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), bvec.data(),
                              N, C);
    });
    row("layernorm_backward (BT,C)", 4 * f4 * NC, 0, [&] {
        sk::layernorm_backward(dx.data(), dw.data(), db.data(), y.data(), x.data(), w.data(),
                               mean.data(), rstd.data(), N, C);
    });
    row("residual_forward (BT,C)", 3 * f4 * NC, 0,
        [&] { sk::residual_forward(dx.data(), x.data(), y.data(), NC); });
    row("add_inplace (BT,C)", 3 * f4 * NC, 0, [&] { sk::add_inplace(dx.data(), y.data(), NC); });
    row("bias_add (BT,4C)", 2 * f4 * N4C, 0, [&] { sk::bias_add(y.data(), x.data(), N, 4 * C); });
    row("bias_backward (BT,4C)", f4 * N4C, 0,
        [&] { sk::bias_backward(db4.data(), x.data(), N, 4 * C); });
    row("softmax_forward (BT,C)", 2 * f4 * NC, 0,
        [&] { sk::softmax_forward(y.data(), x.data(), N, C); });
    row("softmax_backward (BT,C)", 4 * f4 * NC, 0,
        [&] { sk::softmax_backward(dx.data(), y.data(), x.data(), N, C); });
    {
        std::vector<std::int32_t> tok(N);
        for (int i = 0; i < N; ++i) tok[i] = (i * 7919) % V;
        auto wte = filled(std::size_t(V) * C, -1, 1), wpe = filled(std::size_t(T) * C, -1, 1);
        row("embedding_forward (BT,C)", 3 * f4 * NC, 0,
            [&] { sk::embedding_forward(y.data(), tok.data(), wte.data(), wpe.data(), B, T, C); });
        auto logits = filled(std::size_t(N) * V, -4, 4), dlogits = filled(logits.size(), 0, 0),
             losses = filled(N, 0, 0);
        row("fused_classifier (BT,V)", 2 * f4 * logits.size(), 0, [&] {
            sk::fused_classifier(dlogits.data(), losses.data(), logits.data(), tok.data(), N, V,
                                 1.0f / N);
        });
    }
    {
        // AdamW over a GPT-small-like parameter count: 12 C^2 per layer, reads p,g,m,v writes p,m,v
        const std::size_t P = 12 * std::size_t(C) * C;
        auto p = filled(P, -1, 1), g = filled(P, -1, 1), m = filled(P, 0, 0), v = filled(P, 0, 0);
        sk::AdamWConfig cfg;
        std::int64_t step = 0;
        row("adamw_update (12 C^2 params)", 7 * f4 * P, 0,
            [&] { sk::adamw_update(p.data(), g.data(), m.data(), v.data(), P, cfg, ++step); });
        double sink = 0;
        row("sum_squares (12 C^2)", f4 * P, 0, [&] { sink += sk::sum_squares(g.data(), P); });
        if (sink < 0) std::printf("impossible\n");
    }
    {
        // attention: forward 2*B*NH*T*T*hs (QK^T) + same for PV, half of it causal; backward 2x
        const std::size_t attn = std::size_t(B) * NH * T * T;
        auto qkv = filled(3 * NC, -1, 1), out = filled(NC, 0, 0), att = filled(attn, 0, 0),
             dqkv = filled(3 * NC, 0, 0), scratch = filled(attn, 0, 0), dout = filled(NC, -1, 1);
        const double fl = 2.0 * 2.0 * B * NH * double(T) * T * (C / NH) / 2.0;
        row("attention_forward (causal)", f4 * (3 * NC + NC + attn), fl,
            [&] { sk::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH); });
        row("attention_backward (causal)", f4 * (3 * NC * 2 + NC + 2 * attn), 2 * fl, [&] {
            sk::attention_backward(dqkv.data(), scratch.data(), dout.data(), qkv.data(), att.data(),
                                   B, T, C, NH);
        });
    }

    // ---- 3. one GPT transformer block, forward + backward, from these kernels ----
    // Model FLOPs per DESIGN.md "Formulas": 6 * params * tokens + attention 12 * h * s per token
    // (one layer: params = 12 C^2, h = C, s = T), compared with the measured sgemm peak.
    {
        const std::size_t C3 = 3 * NC, C4 = 4 * NC, na = std::size_t(B) * NH * T * T;
        auto p = [](std::size_t n) { return filled(n, -0.05f, 0.05f); };
        auto z = [](std::size_t n) { return std::vector<float>(n, 0.0f); };
        auto inp = filled(NC, -1, 1), ln1w = filled(C, 0.9f, 1.1f), ln1b = p(C),
             wqkv = p(9 * std::size_t(C) * C / 3), bqkv = p(3 * C), wproj = p(std::size_t(C) * C),
             bproj = p(C), ln2w = filled(C, 0.9f, 1.1f), ln2b = p(C),
             wfc = p(4 * std::size_t(C) * C), bfc = p(4 * C), wfc2 = p(4 * std::size_t(C) * C),
             bfc2 = p(C);
        auto ln1 = z(NC), m1 = z(N), r1 = z(N), qkv = z(C3), att = z(na), atty = z(NC),
             proj = z(NC), res1 = z(NC), ln2 = z(NC), m2 = z(N), r2 = z(N), fc = z(C4), fcg = z(C4),
             fc2 = z(NC), res2 = z(NC);
        auto g_ln1w = z(C), g_ln1b = z(C), g_wqkv = z(wqkv.size()), g_bqkv = z(3 * C),
             g_wproj = z(wproj.size()), g_bproj = z(C), g_ln2w = z(C), g_ln2b = z(C),
             g_wfc = z(wfc.size()), g_bfc = z(4 * C), g_wfc2 = z(wfc2.size()), g_bfc2 = z(C);
        auto dres2 = filled(NC, -1e-3f, 1e-3f), dres1 = z(NC), dfcg = z(C4), dfc = z(C4),
             dln2 = z(NC), datty = z(NC), dqkv = z(C3), dln1 = z(NC), dinp = z(NC), scratch = z(na);
        auto step = [&] {
            sk::layernorm_forward(ln1.data(), m1.data(), r1.data(), inp.data(), ln1w.data(),
                                  ln1b.data(), N, C);
            sk::linear_forward(qkv.data(), ln1.data(), wqkv.data(), bqkv.data(), N, C, 3 * C);
            sk::attention_forward(atty.data(), att.data(), qkv.data(), B, T, C, NH);
            sk::linear_forward(proj.data(), atty.data(), wproj.data(), bproj.data(), N, C, C);
            sk::residual_forward(res1.data(), inp.data(), proj.data(), NC);
            sk::layernorm_forward(ln2.data(), m2.data(), r2.data(), res1.data(), ln2w.data(),
                                  ln2b.data(), N, C);
            sk::linear_forward(fc.data(), ln2.data(), wfc.data(), bfc.data(), N, C, 4 * C);
            sk::gelu_forward(fcg.data(), fc.data(), C4);
            sk::linear_forward(fc2.data(), fcg.data(), wfc2.data(), bfc2.data(), N, 4 * C, C);
            sk::residual_forward(res2.data(), res1.data(), fc2.data(), NC);
            // backward (activation gradients zeroed as a model would)
            sk::fill(dres1.data(), NC, 0.0f);
            sk::fill(dfcg.data(), C4, 0.0f);
            sk::fill(dfc.data(), C4, 0.0f);
            sk::fill(dln2.data(), NC, 0.0f);
            sk::fill(datty.data(), NC, 0.0f);
            sk::fill(dqkv.data(), C3, 0.0f);
            sk::fill(dln1.data(), NC, 0.0f);
            sk::fill(dinp.data(), NC, 0.0f);
            sk::add_inplace(dres1.data(), dres2.data(), NC);
            sk::linear_backward(dfcg.data(), g_wfc2.data(), g_bfc2.data(), dres2.data(), fcg.data(),
                                wfc2.data(), N, 4 * C, C);
            sk::gelu_backward(dfc.data(), fc.data(), dfcg.data(), C4);
            sk::linear_backward(dln2.data(), g_wfc.data(), g_bfc.data(), dfc.data(), ln2.data(),
                                wfc.data(), N, C, 4 * C);
            sk::layernorm_backward(dres1.data(), g_ln2w.data(), g_ln2b.data(), dln2.data(),
                                   res1.data(), ln2w.data(), m2.data(), r2.data(), N, C);
            sk::add_inplace(dinp.data(), dres1.data(), NC);
            sk::linear_backward(datty.data(), g_wproj.data(), g_bproj.data(), dres1.data(),
                                atty.data(), wproj.data(), N, C, C);
            sk::attention_backward(dqkv.data(), scratch.data(), datty.data(), qkv.data(),
                                   att.data(), B, T, C, NH);
            sk::linear_backward(dln1.data(), g_wqkv.data(), g_bqkv.data(), dqkv.data(), ln1.data(),
                                wqkv.data(), N, C, 3 * C);
            sk::layernorm_backward(dinp.data(), g_ln1w.data(), g_ln1b.data(), dln1.data(),
                                   inp.data(), ln1w.data(), m1.data(), r1.data(), N, C);
        };
        const double t = time_call(o.seconds, step);
        // One block's matrix products as performed (models/plan/flops.h, no LM head): 6·12C² per
        // token for the weights + 12·C·pairs/T for the causal row tiles of attention.
        using ss::models::AttentionKernel;
        const double flops = (6.0 * 12.0 * double(C) * C +
                              12.0 * C * ss::models::attention_pairs(T, AttentionKernel::CausalRowTiles) / T) *
                             N;
        const ss::models::Mfu mfu = ss::models::model_flops_utilisation(flops / t, best, 1);
        std::printf("\ntransformer block fwd+bwd (B=%d T=%d C=%d NH=%d): %.2f ms, %.2f GFLOP/s model FLOPs, ", B, T,
                    C, NH, t * 1e3, flops / t * 1e-9);
        if (mfu.known())
            std::printf("MFU %.2f of the %.2f GFLOP/s peak\n", mfu.value, best * 1e-9);
        else
            std::printf("MFU unknown: %s\n", ss::models::mfu_problem_text(mfu).c_str());
    }
    return 0;
}

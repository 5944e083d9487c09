#include "core/sim/gpu_gemm.h"

#include <algorithm>
#include <cmath>

namespace ss::core {

double gemm_tile_utilization(const Gemm& g, int sms) {
    if (sms <= 0 || !(g.m > 0) || !(g.n > 0) || !(g.batch > 0)) return 1.0;
    static constexpr double kTiles[][2] = {{256, 128}, {128, 256}, {128, 128}};
    double best = 0;  // the fewest tile-area-waves: waves x tile area
    for (const auto& t : kTiles) {
        const double tiles = std::ceil(g.m / t[0]) * std::ceil(g.n / t[1]) * g.batch;
        const double cost = std::ceil(tiles / sms) * t[0] * t[1];
        if (best == 0 || cost < best) best = cost;
    }
    return std::min(1.0, g.m * g.n * g.batch / (best * sms));
}

double gemm_time(const Gemm& g, double vb, double flop_per_s, double mem_bw, int sms) {
    const double flops = 2 * g.m * g.n * g.k * g.batch;
    double t = flop_per_s > 0 ? flops / (flop_per_s * gemm_tile_utilization(g, sms)) : 0;
    if (mem_bw > 0) t = std::max(t, vb * (g.m * g.k + g.k * g.n + g.m * g.n) * g.batch / mem_bw);
    return t;
}

GemmBlockTimes gemm_block_times(const GemmBlock& g, double rate, double bw, int sms) {
    GemmBlockTimes r;
    if (!(g.b > 0)) return r;
    const double N = g.b * g.s, d = g.d, t = g.tp, hd = g.d / g.heads, heads = g.b * g.heads / t;
    auto time = [&](double m, double n, double k, double batch = 1) {
        return gemm_time({m, n, k, batch}, g.vb, rate, bw, sms);
    };
    // Linear y[N×out] = x[N×in]·W[in×out]; backward dx[N×in] = dy·W^T, dW[in×out] = x^T·dy.
    const double lin[4][2] = {{d, 3 * d / t}, {d / t, d}, {d, 4 * d / t}, {4 * d / t, d}};
    for (const auto& l : lin) {
        r.fwd += time(N, l[1], l[0]);
        r.bwd += time(N, l[0], l[1]) + time(l[0], l[1], N);
    }
    // Attention per head (b·heads/tp of them): S = Q·K^T [s×s, inner hd], O = P·V [s×hd, inner s];
    // backward dP = dO·V^T [s×s, inner hd], dV = P^T·dO, dQ = dS·K, dK = dS^T·Q [s×hd, inner s].
    r.att_fwd = time(g.s, g.s, hd, heads) + time(g.s, hd, g.s, heads);
    r.fwd += r.att_fwd;
    r.bwd += time(g.s, g.s, hd, heads) + 3 * time(g.s, hd, g.s, heads);
    return r;
}

}  // namespace ss::core

#include "core/analysis/collective_cost.h"

namespace ss::core {

using traces::Collective;

namespace {
double ceil_log2(std::int64_t p) {
    int k = 0;
    while ((std::int64_t{1} << k) < p) ++k;
    return k;
}
}  // namespace

CostTerms cost_terms(Collective c, std::int64_t p, CollAlgo algo) {
    if (p < 1) p = 1;
    if (p == 1 && c != Collective::Send && c != Collective::Recv) return {0, 0};
    const double pd = static_cast<double>(p), pm1 = pd - 1, lg = ceil_log2(p);
    switch (c) {
        case Collective::AllReduce:
            if (algo == CollAlgo::RecursiveDoubling) return {lg, lg};
            if (algo == CollAlgo::Tree) return {2 * lg, 2};
            return {2 * pm1, 2 * pm1 / pd};
        case Collective::ReduceScatter:
        case Collective::AllGather:
        case Collective::AllToAll:
            if (algo == CollAlgo::RecursiveDoubling) return {lg, pm1 / pd};
            return {pm1, pm1 / pd};
        case Collective::Broadcast:
        case Collective::Reduce: return {lg, 1};
        case Collective::Send:
        case Collective::Recv: return {1, 1};
        case Collective::Barrier: return {lg, 0};
        case Collective::None: return {0, 0};
    }
    return {0, 0};
}

double cost_seconds(const CostTerms& t, double alpha_s, double beta_s_per_byte, double bytes) {
    return t.a * alpha_s + t.b * bytes * beta_s_per_byte;
}

double busbw_factor(Collective c, std::int64_t p) {
    switch (c) {
        case Collective::AllReduce:
        case Collective::ReduceScatter:
        case Collective::AllGather:
        case Collective::AllToAll: return cost_terms(c, p, CollAlgo::Ring).b;  // the ring's bytes per byte
        case Collective::Broadcast:
        case Collective::Reduce:
        case Collective::Send:
        case Collective::Recv: return 1.0;
        case Collective::Barrier:
        case Collective::None: return 0.0;
    }
    return 0.0;
}

std::optional<Collective> calibrated_collective(const std::string& name) {
    if (name == "all_reduce" || name == "iall_reduce") return Collective::AllReduce;
    if (name == "reduce_scatter" || name == "ireduce_scatter") return Collective::ReduceScatter;
    if (name == "all_gather") return Collective::AllGather;
    if (name == "broadcast") return Collective::Broadcast;
    if (name == "send_recv") return Collective::Send;
    return std::nullopt;
}

}  // namespace ss::core

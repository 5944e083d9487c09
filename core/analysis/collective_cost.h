// The collective cost model, in one place (DESIGN.md "Formulas"; nccl-tests' PERFORMANCE.md): the
// α-β cost terms of every collective and algorithm and the bus-bandwidth factors. `calibrate`
// fits α and β with these terms, the analysis turns measured algbw into busbw with these factors,
// and the simulator predicts collective times with the same terms. No Qt here.
//
// n = bytes of the collective's whole buffer (all-reduce and broadcast the buffer, reduce-scatter
// the input, all-gather the output, send/recv the message), p = ranks in the group. A collective
// costs T = a·α + b·n·β with (a, b):
//   all-reduce ring              (2(p−1), 2(p−1)/p)
//   all-reduce recursive doubl.  (⌈log2 p⌉, ⌈log2 p⌉)        ⌈log2 p⌉(α + nβ)
//   all-reduce tree              (2⌈log2 p⌉, 2)               double binary tree (NCCL): reduce then
//                                                             broadcast, pipelined
//   reduce-scatter / all-gather / all-to-all  ring (p−1, (p−1)/p); recursive doubl. (⌈log2 p⌉, (p−1)/p)
//   broadcast / reduce           (⌈log2 p⌉, 1)                pipelined tree
//   send / recv                  (1, 1)                       one way
//   barrier                      (⌈log2 p⌉, 0)
// A group of one rank moves nothing: (0, 0), except send/recv. With the ring terms, β is
// 1 / (bus bandwidth) at large n and α the per-step latency.
//
// Bus bandwidth: busbw = algbw · factor, with factor all-reduce 2(p−1)/p; reduce-scatter,
// all-gather, all-to-all (p−1)/p; broadcast, reduce, send/recv 1; barrier 0. It is b(p) of the ring
// terms (except barrier and p = 1): a ring moving n at bus bandwidth 1/β takes b·n·β.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "traces/types.h"

namespace ss::core {

// How a collective is run on a link (the hardware file's topology.algorithm). Hierarchical is the
// two-level composition of ring steps (core/hardware.h), not a term set of its own.
enum class CollAlgo { Ring, Tree, RecursiveDoubling, Hierarchical };

struct CostTerms {
    double a = 0;  // multiplies α
    double b = 0;  // multiplies n·β
    friend bool operator==(const CostTerms&, const CostTerms&) = default;
};

// The (a, b) above. Hierarchical gets the ring terms. p < 1 counts as 1.
CostTerms cost_terms(traces::Collective c, std::int64_t p, CollAlgo algo = CollAlgo::Ring);
// T = a·α + b·n·β, seconds.
double cost_seconds(const CostTerms& t, double alpha_s, double beta_s_per_byte, double bytes);
// nccl-tests bus-bandwidth factor; p < 1 counts as 1.
double busbw_factor(traces::Collective c, std::int64_t p);

// The names `calibrate` measures (core/calibrate.h kCalibratedCollectives): all_reduce,
// iall_reduce, reduce_scatter, ireduce_scatter, all_gather, broadcast, send_recv; nullopt for
// any other. The non-blocking variants cost what their blocking collective costs.
std::optional<traces::Collective> calibrated_collective(const std::string& name);

}  // namespace ss::core

// bench_sim: speed of the simulator's two engines (docs/SIMULATOR.md, "Speed").
//   1. analytic engine: configurations per second over a sweep of GPT layouts on the InfiniBand
//      cluster preset (dp × tp × pp × micro-batches × ZeRO × overlap), workload build included;
//   2. event replay: graph build + replay of one step of 1,024 ranks (GPT small, dp 64 × tp 4 × pp
//   4,
//      16 micro-batches, 1F1B), and of 1,024 ranks of pure data parallelism.
// Usage: bench_sim [--seconds S]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/sim/hardware.h"
#include "core/sim/sim_replay.h"
#include "core/sim/simulator.h"

using namespace ss::core;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

static Hardware cluster() {
    // The figures of examples/hardware/ib-cluster-h100.json (cited there), built in so the
    // benchmark runs from any directory.
    Hardware hw;
    hw.name = "DGX H100 cluster, NDR InfiniBand";
    hw.flop_per_s = 67e12;
    hw.mem_bw_bytes_per_s = 3.35e12;
    hw.memory_bytes = 80e9;
    hw.devices_per_node = 8;
    hw.algorithm = CollAlgo::Hierarchical;
    hw.intra = {3.4e-6, 1 / 450e9};
    hw.inter = {9.6e-6, 1 / 50e9};
    return hw;
}

static ExperimentSpec gpt_small(int dp, int tp, int pp, int m) {
    ExperimentSpec s;
    s.name = "bench";
    s.model = model_preset("gpt", "small");
    s.model.kind = "gpt";
    s.model.preset = "small";
    s.data.path = "/unused";
    s.parallel.dp = dp;
    s.parallel.tp = tp;
    s.parallel.pp = pp;
    s.parallel.micro_batches = m;
    s.training.global_batch = dp * m * 4;
    return s;
}

int main(int argc, char** argv) {
    double budget = 2.0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            budget = std::atof(argv[++i]);
        else {
            std::fprintf(stderr, "usage: bench_sim [--seconds S]\n");
            return 2;
        }
    }
    const Hardware hw = cluster();

    // 1. Analytic engine. Specs are built beforehand (the sweep a user runs); each configuration
    // is validated, turned into a workload and simulated.
    std::vector<ExperimentSpec> specs;
    for (int dp : {1, 2, 4, 8, 16, 32, 64, 128})
        for (int tp : {1, 2, 4, 8})
            for (int pp : {1, 2, 3, 6})
                for (int m : {1, 4, 8, 16})
                    for (int zero : {0, 1})
                        for (bool ov : {true, false}) {
                            ExperimentSpec s = gpt_small(dp, tp, pp, m);
                            s.parallel.zero = zero;
                            s.parallel.overlap = ov;
                            specs.push_back(s);
                        }
    double sink = 0;
    long long configs = 0;
    const auto t0 = Clock::now();
    while (seconds_since(t0) < budget) {
        for (const auto& s : specs) sink += simulate_analytic(s, hw).step_s;
        configs += static_cast<long long>(specs.size());
    }
    const double el = seconds_since(t0);
    std::printf(
        "analytic engine: %lld configurations in %.2f s = %.0f configurations/s (goal >= 100000)\n",
        configs, el, configs / el);
    // Without validation and workload build (the closed forms alone), for reference.
    std::vector<Workload> ws;
    for (const auto& s : specs) ws.push_back(build_workload(s));
    long long n2 = 0;
    const auto t1 = Clock::now();
    while (seconds_since(t1) < budget / 2) {
        for (const auto& w : ws) sink += simulate_analytic(w, hw).step_s;
        n2 += static_cast<long long>(ws.size());
    }
    std::printf("  closed forms on prebuilt workloads: %.0f configurations/s\n",
                n2 / seconds_since(t1));

    // 2. Event replay of a 1,024-rank step.
    for (auto [dp, tp, pp, m] :
         {std::tuple{64, 4, 4, 16}, std::tuple{1024, 1, 1, 1}, std::tuple{128, 8, 1, 4}}) {
        const ExperimentSpec s = gpt_small(dp, tp, pp, m);
        const auto t2 = Clock::now();
        const Workload w = build_workload(s);
        const OpGraph g = graph_from_spec(w, hw);
        const double build_s = seconds_since(t2);
        const auto t3 = Clock::now();
        const ReplayResult r = replay(g);
        const double replay_s = seconds_since(t3);
        std::size_t ops = 0;
        for (const auto& p : g.ranks) ops += p.size();
        std::printf(
            "event replay, %d ranks (dp %d x tp %d x pp %d, %d micro-batches): %zu ops, %zu "
            "collectives, "
            "%zu messages; graph %.3f s + replay %.3f s = %.3f s (goal < 1 s); simulated step %.2f "
            "ms\n",
            w.world(), dp, tp, pp, m, ops, g.colls.size(), g.msgs.size(), build_s, replay_s,
            build_s + replay_s, r.step_s * 1e3);
        sink += r.step_s;
    }
    return sink > 0 ? 0 : 1;
}

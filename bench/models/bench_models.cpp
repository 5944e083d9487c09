// bench_models: training speed of the GPT "small" preset on the CPU backend.
//
//   bench_models [--steps N] [--batch B] [--no-dp2]
//
// 1 rank, 1 BLAS thread: step time, tokens/s, achieved model FLOP/s and MFU against the machine's
// peak measured in this process: the best call of a large square sgemm (kernels::
// measure_peak_sgemm_flops, n = 2048) with the OpenBLAS kernel the process runs (chosen for the CPU
// by kernels::select_blas_core before anything else), measured before and after the timed steps.
// Then the same global batch at dp=2 (this program restarted under `mpirun -np 2`), and the
// parallel efficiency E = T1 / (2 * T2) per sample (DESIGN.md, "Formulas": E(p) = S(p)/p).
//
// Model FLOPs per token (models/plan/flops.h gpt_model_flops_per_token): the matrix products the
// kernels perform, 6 × (12·L·C² + V·C) for the weights (no embedding lookups) + 12·L·C·pairs/T for
// causal attention over the query-key pairs the CPU kernel's row tiles compute. The 6·N·tokens
// convention (+ 12·L·C·T, full attention) is printed beside it, labelled as such.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "kernels/backend.h"
#include "kernels/blas_core.h"
#include "kernels/cpu_kernels.h"
#include "kernels/perf.h"
#include "models/plan/flops.h"
#include "models/comm.h"
#include "models/data.h"
#include "models/sources.h"
#include "models/stage.h"
#include "models/trainer.h"
#include "traces/median.h"

using namespace ss::models;

namespace {

// GPT "small" (core/spec/spec.cpp preset): 6 blocks, d_model 512, 8 heads, context 128.
GptConfig small_config() {
    GptConfig g;
    g.layers = 6;
    g.d_model = 512;
    g.heads = 8;
    g.seq_len = 128;
    return g;
}

using ss::traces::median;

struct Timing {
    double step_median_s = 0;
    double loss_first = 0, loss_last = 0;
};

// Trains `steps` (+1 untimed warm-up) steps of GPT small on `comm`'s layout (dp only).
Timing run(Comm& comm, int global_batch, int steps, const std::vector<std::uint8_t>& text) {
    const GptConfig g = small_config();
    auto backend = ss::kernels::make_cpu_backend();
    ParallelConfig par;
    par.layout = {comm.size(GroupKind::Dp), 1, 1};
    par.bucket_mb = 4.0;
    par.overlap = true;
    StageEnv env;
    env.backend = backend.get();
    env.comm = &comm;
    env.micro_batch = micro_batch_size(global_batch, par);
    env.num_slots = 1;
    env.loss_scale = 1.0f / static_cast<float>(global_batch * g.seq_len);
    env.seed = 1234;
    auto stage = make_gpt_stage(g, env);
    OptimConfig opt;
    opt.lr = 6e-4f;
    opt.total_steps = steps + 1;
    Trainer trainer(comm, *backend, *stage, par, opt, global_batch);
    TextBatchSource data(text, g.seq_len, 1234);
    Timing t;
    std::vector<double> times;
    for (int s = 0; s <= steps; ++s) {
        comm.barrier(GroupKind::World);
        const auto t0 = std::chrono::steady_clock::now();
        const StepStats st = trainer.train_step(s, data);
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s == 0) t.loss_first = st.loss;
        t.loss_last = st.loss;
        if (s > 0) times.push_back(dt);  // step 0 is the warm-up (page faults, BLAS buffers)
    }
    t.step_median_s = median(times);
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    // The CPU's best OpenBLAS kernel before the library's first call (may re-execute once).
    const std::string core_note = ss::kernels::select_blas_core(argv);
    int steps = 5, batch = 8;
    bool dp2 = true, child = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
        else if (a == "--batch" && i + 1 < argc) batch = std::atoi(argv[++i]);
        else if (a == "--no-dp2") dp2 = false;
        else if (a == "--dp-child") child = true;
        else {
            std::fprintf(stderr, "usage: bench_models [--steps N] [--batch B] [--no-dp2]\n");
            return 2;
        }
    }
    ss::kernels::set_blas_threads(1);
    const GptConfig g = small_config();
    TextCorpus corpus;
    try {
        corpus = load_text(kFortunesDir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_models: %s\n", e.what());
        return 1;
    }
    if (child) {  // one dp=2 measurement under mpirun; rank 0 reports it to the parent
        MpiEnvironment mpi(&argc, &argv);
        Comm comm(make_mpi_transport({mpi.world_size(), 1, 1}));
        const Timing t = run(comm, batch, steps, corpus.bytes);
        if (mpi.world_rank() == 0) std::printf("DP_STEP_TIME %.9f %.6f\n", t.step_median_s, t.loss_last);
        return 0;
    }
    // The parent never initialises MPI (an MPI singleton could not start mpirun cleanly): the
    // 1-rank run uses the single-process transport.
    Comm comm(make_local_transport());

    const std::int64_t N = gpt_param_count(g);
    const double tokens = static_cast<double>(batch) * g.seq_len;
    const double flops_per_token = gpt_model_flops_per_token(g.layers, g.d_model, g.seq_len, g.vocab,
                                                             AttentionKernel::CausalRowTiles);
    const double convention_per_token = convention_flops_per_token(static_cast<double>(N), g.layers, g.d_model, g.seq_len);
    std::printf("GPT small: %d blocks, d_model %d, %d heads, context %d, %lld parameters; "
                "global batch %d sequences = %.0f tokens/step; %d timed steps; 1 BLAS thread\n",
                g.layers, g.d_model, g.heads, g.seq_len, static_cast<long long>(N), batch, tokens, steps);
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    std::printf("BLAS: OpenBLAS %s kernel (OPENBLAS_CORETYPE=%s; the CPU's choice: %s)%s%s\n",
                ss::kernels::blas_core_name().c_str(), coretype ? coretype : "unset",
                ss::kernels::blas_core_for(ss::kernels::detect_cpu_isa()).c_str(), core_note.empty() ? "" : "; ",
                core_note.c_str());
    // Other processes on the machine make every figure below contended: say so.
    const auto loadavg = [] {
        std::string s = "?";
        if (FILE* f = std::fopen("/proc/loadavg", "r")) {
            char buf[128] = {};
            if (std::fgets(buf, sizeof buf, f)) s.assign(buf, std::strcspn(buf, "\n"));
            std::fclose(f);
        }
        return s;
    };
    std::printf("/proc/loadavg before the run: %s (%ld cores)\n", loadavg().c_str(), sysconf(_SC_NPROCESSORS_ONLN));
    // The peak is measured before and after the timed steps and the larger kept: each is the
    // fastest of its calls, so a call slowed by another process does not lower it.
    const int n = ss::kernels::kPeakSgemmN;
    const double peak_before = ss::kernels::measure_peak_sgemm_flops(n, 1.0);
    const Timing t1 = run(comm, batch, steps, corpus.bytes);
    const double peak_after = ss::kernels::measure_peak_sgemm_flops(n, 1.0);
    const double peak = std::max(peak_before, peak_after);
    std::printf("peak: sgemm %dx%dx%d, best call, this process: %.2f GFLOP/s (before %.2f, after %.2f)\n", n, n, n,
                peak / 1e9, peak_before / 1e9, peak_after / 1e9);
    const double achieved = flops_per_token * tokens / t1.step_median_s;
    const Mfu mfu = model_flops_utilisation(achieved, peak, 1);
    char mfu_text[512];
    if (mfu.known())
        std::snprintf(mfu_text, sizeof mfu_text, "MFU %.3f", mfu.value);
    else
        std::snprintf(mfu_text, sizeof mfu_text, "MFU unknown (%s)", mfu_problem_text(mfu).c_str());
    std::printf("1 rank : step %.3f s  tokens/s %.0f  model FLOP/s %.2f G (%.1f MFLOP/token performed)  %s  "
                "(loss %.3f -> %.3f)\n",
                t1.step_median_s, tokens / t1.step_median_s, achieved / 1e9, flops_per_token / 1e6, mfu_text,
                t1.loss_first, t1.loss_last);
    std::printf("         6·N·tokens convention (+12·L·C·T, full attention), not an MFU numerator: %.1f MFLOP/token, "
                "%.2f GFLOP/s, %.3f of the peak\n",
                convention_per_token / 1e6, convention_per_token * tokens / t1.step_median_s / 1e9,
                convention_per_token * tokens / t1.step_median_s / peak);
    std::printf("/proc/loadavg after the run: %s\n", loadavg().c_str());
    std::fflush(stdout);

    if (dp2) {
        const std::string cmd = std::string(SCALESCOPE_MPIEXEC) +
                                " --allow-run-as-root --oversubscribe -np 2 " + argv[0] +
                                " --dp-child --steps " + std::to_string(steps) + " --batch " +
                                std::to_string(batch) + " 2>&1";
        FILE* p = popen(cmd.c_str(), "r");
        double t2 = 0, loss2 = 0;
        char line[512];
        std::string log;
        while (p && std::fgets(line, sizeof line, p)) {
            if (std::sscanf(line, "DP_STEP_TIME %lf %lf", &t2, &loss2) != 2) log += line;
        }
        const int rc = p ? pclose(p) : -1;
        if (rc != 0 || t2 <= 0) {
            std::fprintf(stderr, "dp=2 run failed (%s):\n%s", cmd.c_str(), log.c_str());
            return 1;
        }
        const double eff = t1.step_median_s / (2.0 * t2);
        std::printf("dp=2   : step %.3f s  tokens/s %.0f  speedup %.2f  parallel efficiency "
                    "T1/(2*T2) = %.3f  (same global batch; loss %.3f, 1-rank %.3f)\n",
                    t2, tokens / t2, t1.step_median_s / t2, eff, loss2, t1.loss_last);
    }
    return 0;
}

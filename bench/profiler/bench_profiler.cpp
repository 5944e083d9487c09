// Profiler overhead (figures, not tests):
//  1. cost per span: a scoped Span (two clock reads + a buffer push) in a tight loop, and the
//     cost per span of flushing them into the rank file (drain + SQLite insert);
//  2. the same GPT preset trained traced and untraced on one rank, alternating rounds, median
//     step time of each and the ratio traced / untraced (traced = traced backend, comm tracer,
//     step and phase spans, flushes at step boundaries).
//
// usage: bench_profiler [--preset tiny|mini|small] [--batch B] [--steps S] [--rounds R]
//                       [--flush-interval SECONDS]   (default 0: flush at every step boundary)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "models/comm.h"
#include "models/comm_tracer.h"
#include "models/data.h"
#include "models/sources.h"
#include "models/trainer.h"
#include "profiler/profiler.h"
#include "profiler/traced_backend.h"
#include "traces/median.h"

using namespace ss;
using namespace ss::models;
using Clock = std::chrono::steady_clock;

namespace {
using ss::traces::median;

GptConfig preset(const std::string& name) {
    GptConfig g;
    if (name == "tiny") {
        g.layers = 2, g.d_model = 64, g.heads = 4, g.seq_len = 32;
    } else if (name == "mini") {
        g.layers = 4, g.d_model = 128, g.heads = 4, g.seq_len = 64;
    } else if (name == "small") {
        g.layers = 6, g.d_model = 512, g.heads = 8, g.seq_len = 128;
    } else {
        std::fprintf(stderr, "unknown preset '%s' (tiny, mini, small)\n", name.c_str());
        std::exit(2);
    }
    return g;
}

traces::RunInfo run_info() {
    traces::RunInfo r;
    r.name = "bench-profiler";
    r.spec_json = "{}";
    r.model = "gpt";
    r.backend = "cpu";
    return r;
}

struct Model {
    std::unique_ptr<kernels::Backend> backend;
    std::unique_ptr<Stage> stage;
    std::unique_ptr<Trainer> trainer;
};

Model build(Comm& comm, const GptConfig& g, int batch, int steps, bool traced) {
    Model m;
    m.backend = kernels::make_cpu_backend();
    if (traced) m.backend = profiler::make_traced_backend(std::move(m.backend));
    ParallelConfig par;
    par.layout = {1, 1, 1};
    StageEnv env;
    env.backend = m.backend.get();
    env.comm = &comm;
    env.micro_batch = micro_batch_size(batch, par);
    env.loss_scale = 1.0f / static_cast<float>(batch * g.seq_len);
    env.seed = 1234;
    m.stage = make_gpt_stage(g, env);
    OptimConfig opt;
    opt.lr = 3e-4f;
    opt.total_steps = steps;
    m.trainer = std::make_unique<Trainer>(comm, *m.backend, *m.stage, par, opt, batch);
    return m;
}
}  // namespace

int main(int argc, char** argv) {
    std::string preset_name = "mini";
    int batch = 8, steps = 6, rounds = 5;
    double flush_s = 0;  // 0: flush at every step boundary (the worst case)
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--preset") && i + 1 < argc) preset_name = argv[++i];
        else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--flush-interval") && i + 1 < argc) flush_s = std::atof(argv[++i]);
        else {
            std::fprintf(stderr, "usage: bench_profiler [--preset tiny|mini|small] [--batch B] [--steps S] [--rounds R] [--flush-interval SECONDS]\n");
            return 2;
        }
    }
    const auto dir = std::filesystem::temp_directory_path() / "scalescope-bench-profiler";
    std::filesystem::create_directories(dir);

    // ---- 1. cost per span ----
    // Steady state, as in training: the default-size buffer (already touched), filled to half and
    // drained at a "step boundary"; recording and flushing are timed separately.
    {
        const int chunk = 32768, chunks = 60;
        const std::string f = (dir / "spans.sqlite").string();
        std::filesystem::remove(f);
        profiler::Profiler p(profiler::ProfilerConfig{.rank_file = f, .flush_interval_s = 1e9},
                             run_info(), traces::RankInfo{});
        double record_s = 0, flush_s_total = 0;
        for (int c = 0; c < chunks; ++c) {
            auto t0 = Clock::now();
            for (int i = 0; i < chunk; ++i)
                profiler::Span s("k", traces::EventKind::Kernel, profiler::lanes::kCompute);
            auto t1 = Clock::now();
            p.flush();
            auto t2 = Clock::now();
            if (c == 0) continue;  // first chunk: the buffer's pages are touched for the first time
            record_s += std::chrono::duration<double>(t1 - t0).count();
            flush_s_total += std::chrono::duration<double>(t2 - t1).count();
        }
        const double n = static_cast<double>(chunk) * (chunks - 1);
        std::printf("== cost per span (%.0f spans, %d per step boundary) ==\n", n, chunk);
        std::printf("record (scoped Span: 2 clock reads + buffer push)  %7.1f ns/span\n", record_s * 1e9 / n);
        std::printf("flush  (drain + SQLite insert, at step boundaries) %7.1f ns/span\n", flush_s_total * 1e9 / n);
        p.finish(traces::RunStatus::Completed, "");
    }
    {
        const int n = 20'000'000;
        auto t0 = Clock::now();
        for (int i = 0; i < n; ++i) profiler::Span s("k", traces::EventKind::Kernel, profiler::lanes::kCompute);
        const double off_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
        std::printf("tracing off (no profiler: one branch)              %7.2f ns/span\n", off_ns);
    }

    // ---- 2. GPT step time traced vs untraced ----
    const GptConfig g = preset(preset_name);
    const TextCorpus text = load_text("/usr/share/games/fortunes");
    TextBatchSource data(text.bytes, g.seq_len, 1234);
    Comm comm(make_local_transport());
    CommTracer tracer(Layout{1, 1, 1}, 0);
    Model plain = build(comm, g, batch, steps * rounds + 1, false);
    Model traced = build(comm, g, batch, steps * rounds + 1, true);
    plain.trainer->train_step(0, data);  // warm-up both (page faults, BLAS buffers)
    traced.trainer->train_step(0, data);
    std::vector<double> t_plain, t_traced, flush_ms;
    std::int64_t spans = 0;
    for (int r = 0; r < rounds; ++r) {
        for (int s = 1; s <= steps; ++s) {
            auto t0 = Clock::now();
            plain.trainer->train_step(s, data);
            t_plain.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        }
        const std::string f = (dir / ("round" + std::to_string(r) + ".sqlite")).string();
        std::filesystem::remove(f);
        {
            profiler::Profiler p(profiler::ProfilerConfig{.rank_file = f, .flush_interval_s = flush_s},
                                 run_info(), traces::RankInfo{});
            comm.set_observer(&tracer);
            for (int s = 1; s <= steps; ++s) {
                auto t0 = Clock::now();
                {
                    profiler::context().step = s;
                    profiler::Span step("step", traces::EventKind::Step, profiler::lanes::kSteps);
                    traced.trainer->train_step(s, data);
                }
                auto tf = Clock::now();
                p.step_boundary();
                flush_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - tf).count());
                t_traced.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
            }
            comm.set_observer(nullptr);
            p.finish(traces::RunStatus::Completed, "");
            spans += p.spans_written();
        }
        std::filesystem::remove(f);
    }
    const double mp = median(t_plain), mt = median(t_traced);
    std::printf("\n== GPT %s (%lld params), batch %d, 1 rank: %d rounds x %d steps, alternating ==\n",
                preset_name.c_str(), static_cast<long long>(gpt_param_count(g)), batch, rounds, steps);
    std::printf("untraced median step  %9.3f ms\n", mp * 1e3);
    std::printf("traced   median step  %9.3f ms  (%.0f spans/step, flush interval %g s)\n", mt * 1e3,
                static_cast<double>(spans) / (rounds * steps), flush_s);
    std::printf("of which flushing     %9.3f ms (median per step boundary)\n", median(flush_ms));
    std::printf("overhead              %+9.2f %%\n", (mt / mp - 1.0) * 100.0);
    return 0;
}

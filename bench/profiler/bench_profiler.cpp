// Profiler overhead (figures, not tests):
//  1. cost per span on the training thread: a scoped Span (two clock reads + a ring push) in a
//     tight loop, and the cost of step_boundary() (which only wakes the writer thread); the
//     writer thread's own cost per span (drain + staging + commit), measured apart: wall time of
//     large passes, and its own thread CPU time (load-independent) in passes of one GPT mini step
//     (240 spans) each;
//  2. the same GPT preset trained traced and untraced, on 1 rank and (restarted under
//     `mpirun -np 2`) 2 data-parallel ranks: R rounds, each one block of S untraced steps and one
//     of S traced steps, the order alternating from round to round; a round's overhead is the
//     ratio of its two median step times; printed: the median of the rounds' overheads and their
//     min-max, with the load average and the writer thread's CPU time per step (traced = traced
//     backend, comm tracer, step spans, a Profiler with its writer thread woken at every step
//     boundary by default).
//
// usage: bench_profiler [--preset tiny|mini|small] [--batch B] [--steps S] [--rounds R]
//                       [--ranks 1|2|both] [--blas-threads T] [--flush-interval SECONDS]
//        (defaults: mini, batch 8, 10 steps, 11 rounds, both, 1 BLAS thread, interval 0: a flush
//        at every step boundary)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cpu_kernels.h"
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
    par.layout = {comm.size(GroupKind::Dp), 1, 1};
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

std::string loadavg() {
    std::string out;
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
        char line[128] = {};
        if (std::fgets(line, sizeof line, f)) out = line;
        std::fclose(f);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out + " (" + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores)";
}

struct Options {
    std::string preset = "mini";
    int batch = 8, steps = 10, rounds = 11, blas_threads = 1;
    double flush_s = 0;  // 0: the writer woken at every step boundary (the worst case)
};

// Cost per span on the training thread and on the writer thread (one process, no MPI).
void cost_per_span(const std::filesystem::path& dir) {
    // Steady state, as in training: the default-size ring (already touched), half filled between
    // step boundaries. Recording is timed on this thread; the writer's drain + insert + commit by
    // flush(), which waits for the writer's pass.
    const int chunk = 32768, chunks = 60;
    const std::string f = (dir / "spans.sqlite").string();
    std::filesystem::remove(f);
    profiler::Profiler p(profiler::ProfilerConfig{.rank_file = f, .flush_interval_s = 1e9}, run_info(),
                         traces::RankInfo{});
    double record_s = 0, writer_s = 0, boundary_s = 0;
    int boundaries = 0;
    for (int c = 0; c < chunks; ++c) {
        auto t0 = Clock::now();
        for (int i = 0; i < chunk; ++i) profiler::Span s("k", traces::EventKind::Kernel, profiler::lanes::kCompute);
        auto t1 = Clock::now();
        p.flush();
        auto t2 = Clock::now();
        if (c == 0) continue;  // first chunk: the ring's pages are touched for the first time
        record_s += std::chrono::duration<double>(t1 - t0).count();
        writer_s += std::chrono::duration<double>(t2 - t1).count();
    }
    const double big_cpu = p.writer_cpu_seconds();
    p.finish(traces::RunStatus::Completed, "");
    // The writer's CPU per span at a training step's size: passes of 240 spans (GPT mini's step),
    // each waited for. Its own thread CPU clock: the same figure on an idle or a loaded machine.
    const int step_spans = 240, step_passes = 4000;
    double small_cpu = 0;
    {
        const std::string h = (dir / "steps.sqlite").string();
        std::filesystem::remove(h);
        profiler::Profiler q(profiler::ProfilerConfig{.rank_file = h, .flush_interval_s = 1e9},
                             run_info(), traces::RankInfo{});
        q.flush();
        const double c0 = q.writer_cpu_seconds();
        for (int i = 0; i < step_passes; ++i) {
            for (int k = 0; k < step_spans; ++k)
                profiler::Span s("k", traces::EventKind::Kernel, profiler::lanes::kCompute);
            q.flush();
        }
        small_cpu = q.writer_cpu_seconds() - c0;
        const auto t0 = Clock::now();
        q.finish(traces::RunStatus::Completed, "");
        std::printf("(finish of %d spans: %.1f ns/span on the training thread, after the run)\n",
                    step_spans * step_passes,
                    std::chrono::duration<double, std::nano>(Clock::now() - t0).count() /
                        (step_spans * step_passes));
        std::filesystem::remove(h);
    }
    // step_boundary() itself, as the training thread pays it: a wake-up of the writer each time.
    const std::string g = (dir / "boundary.sqlite").string();
    std::filesystem::remove(g);
    {
        profiler::Profiler q(profiler::ProfilerConfig{.rank_file = g, .flush_interval_s = 0}, run_info(),
                             traces::RankInfo{});
        for (int i = 0; i < 2000; ++i) {
            for (int k = 0; k < 200; ++k) profiler::Span s("k", traces::EventKind::Kernel, profiler::lanes::kCompute);
            auto t0 = Clock::now();
            q.step_boundary();
            boundary_s += std::chrono::duration<double>(Clock::now() - t0).count();
            ++boundaries;
            if (i % 100 == 99) q.wait_for_writer();  // stay within the budget whatever the scheduling
        }
        q.finish(traces::RunStatus::Completed, "");
        if (q.spans_dropped() != 0) std::printf("(step_boundary loop: %lld records dropped)\n", static_cast<long long>(q.spans_dropped()));
    }
    std::filesystem::remove(g);
    const double n = static_cast<double>(chunk) * (chunks - 1);
    std::printf("== cost per span (%.0f spans, %d per pass of the writer) ==   load %s\n", n, chunk, loadavg().c_str());
    std::printf("training thread: record (scoped Span: 2 clock reads + ring push) %7.1f ns/span\n", record_s * 1e9 / n);
    std::printf("training thread: step_boundary() (wakes the writer)             %7.2f us/call\n", boundary_s * 1e6 / boundaries);
    std::printf(
        "writer thread:   drain + staging + commit (wall)                 %7.1f ns/span (%d-span "
        "passes)\n",
        writer_s * 1e9 / n, chunk);
    std::printf("writer thread:   CPU per span, %d-span passes                 %7.1f ns/span\n",
                chunk, big_cpu * 1e9 / n);
    std::printf(
        "WRITER CPU per span, %d-span passes (a step of GPT mini)        %7.1f ns/span  (%.1f us "
        "per pass)\n",
        step_spans, small_cpu * 1e9 / (step_spans * step_passes), small_cpu * 1e6 / step_passes);
    const int off = 20'000'000;
    auto t0 = Clock::now();
    for (int i = 0; i < off; ++i) profiler::Span s("k", traces::EventKind::Kernel, profiler::lanes::kCompute);
    const double off_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / off;
    std::printf("tracing off (no profiler: one branch)                            %7.2f ns/span\n", off_ns);
}

// GPT step time traced vs untraced on `comm`'s ranks (dp); rank 0 prints.
void overhead(Comm& comm, const Options& o, const std::filesystem::path& dir) {
    const int world = comm.world_size(), rank = comm.world_rank();
    const GptConfig g = preset(o.preset);
    const TextCorpus text = load_text("/usr/share/games/fortunes");
    TextBatchSource data(text.bytes, g.seq_len, 1234);
    CommTracer tracer(Layout{world, 1, 1}, rank);
    const std::string load_before = loadavg();
    Model plain = build(comm, g, o.batch, o.steps * o.rounds + 1, false);
    Model traced = build(comm, g, o.batch, o.steps * o.rounds + 1, true);
    plain.trainer->train_step(0, data);  // warm-up both (page faults, BLAS buffers)
    traced.trainer->train_step(0, data);
    std::vector<double> ratios, boundary_us;
    std::vector<double> all_plain, all_traced;
    std::int64_t spans = 0, dropped = 0;
    double writer_cpu = 0;
    auto run_plain = [&](std::vector<double>& t) {
        for (int s = 1; s <= o.steps; ++s) {
            comm.barrier(GroupKind::World);
            auto t0 = Clock::now();
            plain.trainer->train_step(s, data);
            t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        }
    };
    auto run_traced = [&](std::vector<double>& t, int r) {
        const std::string f = (dir / ("round" + std::to_string(r) + "-rank" + std::to_string(rank) + ".sqlite")).string();
        std::filesystem::remove(f);
        traces::RankInfo k;
        k.rank = rank;
        {
            profiler::Profiler p(profiler::ProfilerConfig{.rank_file = f, .flush_interval_s = o.flush_s}, run_info(), k);
            comm.set_observer(&tracer);
            for (int s = 1; s <= o.steps; ++s) {
                comm.barrier(GroupKind::World);
                auto t0 = Clock::now();
                {
                    profiler::context().step = s;
                    profiler::Span step("step", traces::EventKind::Step, profiler::lanes::kSteps);
                    traced.trainer->train_step(s, data);
                }
                profiler::context().step = traces::kNone;
                auto tb = Clock::now();
                p.step_boundary();
                const auto t1 = Clock::now();
                boundary_us.push_back(std::chrono::duration<double, std::micro>(t1 - tb).count());
                t.push_back(std::chrono::duration<double>(t1 - t0).count());
            }
            comm.set_observer(nullptr);
            p.finish(traces::RunStatus::Completed, "");
            spans += p.spans_written();
            dropped += p.spans_dropped();
            writer_cpu += p.writer_cpu_seconds();
        }
        std::filesystem::remove(f);
    };
    for (int r = 0; r < o.rounds; ++r) {
        std::vector<double> tp, tt;
        if (r % 2 == 0) {
            run_plain(tp);
            run_traced(tt, r);
        } else {
            run_traced(tt, r);
            run_plain(tp);
        }
        ratios.push_back(median(tt) / median(tp) - 1.0);
        all_plain.insert(all_plain.end(), tp.begin(), tp.end());
        all_traced.insert(all_traced.end(), tt.begin(), tt.end());
    }
    if (rank != 0) return;
    std::printf("\n== GPT %s (%lld params), batch %d, %d rank%s, %d BLAS thread%s: %d alternating rounds x %d steps ==\n",
                o.preset.c_str(), static_cast<long long>(gpt_param_count(g)), o.batch, world, world > 1 ? "s" : "",
                o.blas_threads, o.blas_threads > 1 ? "s" : "", o.rounds, o.steps);
    std::printf("load before %s\nload after  %s\n", load_before.c_str(), loadavg().c_str());
    std::printf("untraced median step  %9.3f ms\n", median(all_plain) * 1e3);
    std::printf("traced   median step  %9.3f ms  (%.0f spans/step/rank, %lld dropped, flush interval %g s)\n",
                median(all_traced) * 1e3, static_cast<double>(spans) / (o.rounds * o.steps),
                static_cast<long long>(dropped), o.flush_s);
    std::printf("step_boundary()       %9.2f us (median, training thread)\n", median(boundary_us));
    std::printf(
        "writer thread CPU     %9.2f us per step of rank 0 (%.3f %% of the untraced median step; "
        "its own CPU clock)\n",
        writer_cpu * 1e6 / (o.rounds * o.steps),
        writer_cpu / (o.rounds * o.steps) / median(all_plain) * 100.0);
    std::printf("round overheads      ");
    for (double x : ratios) std::printf(" %+.2f", x * 100.0);
    std::printf(" %%\n");
    std::printf("OVERHEAD %d rank%s: median %+.2f %%  (min %+.2f %%, max %+.2f %%, %d rounds)\n", world,
                world > 1 ? "s" : " ", median(ratios) * 100.0, *std::min_element(ratios.begin(), ratios.end()) * 100.0,
                *std::max_element(ratios.begin(), ratios.end()) * 100.0, o.rounds);
    std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
    Options o;
    std::string ranks = "both";
    bool child = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--preset") && i + 1 < argc) o.preset = argv[++i];
        else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) o.batch = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) o.steps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) o.rounds = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--ranks") && i + 1 < argc) ranks = argv[++i];
        else if (!std::strcmp(argv[i], "--blas-threads") && i + 1 < argc) o.blas_threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--flush-interval") && i + 1 < argc) o.flush_s = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--mpi-child")) child = true;
        else {
            std::fprintf(stderr, "usage: bench_profiler [--preset tiny|mini|small] [--batch B] [--steps S] [--rounds R] "
                                 "[--ranks 1|2|both] [--blas-threads T] [--flush-interval SECONDS]\n");
            return 2;
        }
    }
    if (o.rounds < 1 || o.steps < 1 || (ranks != "1" && ranks != "2" && ranks != "both")) {
        std::fprintf(stderr, "bench_profiler: --rounds and --steps must be >= 1, --ranks 1, 2 or both\n");
        return 2;
    }
    kernels::set_blas_threads(o.blas_threads);
    const auto dir = std::filesystem::temp_directory_path() / "scalescope-bench-profiler";
    std::filesystem::create_directories(dir);
    try {
        if (child) {  // one 2-rank measurement under mpirun; rank 0 prints
            MpiEnvironment mpi(&argc, &argv);
            Comm comm(make_mpi_transport({mpi.world_size(), 1, 1}));
            overhead(comm, o, dir);
            return 0;
        }
        cost_per_span(dir);
        if (ranks != "2") {
            // The parent never initialises MPI (an MPI singleton could not start mpirun cleanly).
            Comm comm(make_local_transport());
            overhead(comm, o, dir);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_profiler: %s\n", e.what());
        return 1;
    }
    if (ranks != "1") {
        char flush[32];
        std::snprintf(flush, sizeof flush, "%g", o.flush_s);
        const std::string cmd = std::string(SCALESCOPE_MPIEXEC) + " --allow-run-as-root --oversubscribe -np 2 " +
                                argv[0] + " --mpi-child --preset " + o.preset + " --batch " + std::to_string(o.batch) +
                                " --steps " + std::to_string(o.steps) + " --rounds " + std::to_string(o.rounds) +
                                " --blas-threads " + std::to_string(o.blas_threads) + " --flush-interval " + flush;
        std::fflush(stdout);
        if (const int rc = std::system(cmd.c_str()); rc != 0) {
            std::fprintf(stderr, "bench_profiler: the 2-rank run failed (exit %d): %s\n", rc, cmd.c_str());
            return 1;
        }
    }
    return 0;
}

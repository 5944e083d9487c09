#include "worker/worker_app.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <csignal>
#include <filesystem>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/spec/progress_protocol.h"
#include "core/spec/run_record.h"
#include "core/spec/spec.h"
#include "traces/median.h"
#include "kernels/backend.h"
#include "kernels/blas_core.h"
#include "kernels/cpu_kernels.h"
#include "kernels/perf.h"
#include "models/comm.h"
#include "models/comm_tracer.h"
#include "models/data.h"
#include "models/sources.h"
#include "models/stage.h"
#include "models/trainer.h"
#include "models/device_plan.h"
#include "models/nccl_transport.h"
#include "models/ps.h"
#include "models/slow_backend.h"
#include "models/staging_transport.h"
#include "profiler/clock_sync_mpi.h"
#include "profiler/gpu_trace.h"
#include "profiler/profiler.h"
#include "profiler/traced_backend.h"
#if SCALESCOPE_HAVE_CUDA_BACKEND
#include "kernels/cuda/cuda_backend.h"
#endif

namespace ss::models {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
namespace progress = core::progress;  // the progress-line names (core/spec/progress_protocol.h)

// Counts rank 0's communication calls per (group, op) and their bytes.
class CommCounter final : public CommObserver {
public:
    void on_begin(const CommRecord&) override {}
    void on_end(const CommRecord& r) override {
        auto& c = counts_[static_cast<int>(r.group)][static_cast<int>(r.op)];
        c.calls += 1;
        c.bytes += r.bytes;
    }
    json to_json() const {
        json out = json::object();
        for (int g = 0; g < kGroupKinds; ++g)
            for (int o = 0; o < kCommOps; ++o) {
                const auto& c = counts_[g][o];
                if (c.calls == 0) continue;
                out[to_string(static_cast<GroupKind>(g))][to_string(static_cast<CommOp>(o))] = {
                    {"calls", c.calls}, {"bytes", c.bytes}};
            }
        return out;
    }

private:
    struct Count {
        std::uint64_t calls = 0;
        std::uint64_t bytes = 0;
    };
    std::array<std::array<Count, kCommOps>, kGroupKinds> counts_{};
};

// The optimizer the spec's training section asks for (the trainer's AdamW, or a server's).
OptimConfig optim_config(const core::TrainingSpec& ts) {
    OptimConfig opt;
    opt.lr = static_cast<float>(ts.lr);
    opt.weight_decay = static_cast<float>(ts.weight_decay);
    opt.beta1 = static_cast<float>(ts.beta1);
    opt.beta2 = static_cast<float>(ts.beta2);
    opt.eps = static_cast<float>(ts.eps);
    opt.grad_clip = static_cast<float>(ts.grad_clip);
    opt.warmup_steps = ts.warmup_steps;
    opt.schedule = parse_lr_schedule(ts.lr_schedule);
    opt.total_steps = ts.steps;
    return opt;
}

// The parameter server's settings (models/ps.h) for the workers' client and the servers alike.
PsConfig ps_config(const core::ExperimentSpec& spec) {
    const auto& ps = spec.parallel;
    PsConfig pc;
    pc.workers = ps.workers();
    pc.servers = ps.servers;
    pc.staleness = ps.staleness == core::ParallelSpec::kAsync ? kPsAsync : ps.staleness;
    pc.steps = spec.training.steps;
    return pc;
}

void emit(const json& j) {
    const std::string line = j.dump();
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

struct Args {
    std::string spec_path;
    std::vector<std::string> overrides;
    std::string error;
};

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string s = argv[i];
        if (s == "--set") {
            if (i + 1 >= argc) {
                a.error = "--set needs a path=value argument";
                return a;
            }
            a.overrides.emplace_back(argv[++i]);
        } else if (s.rfind("--set=", 0) == 0) {
            a.overrides.push_back(s.substr(6));
        } else if (s == "-h" || s == "--help") {
            a.error = "usage: scalescope-worker SPEC.json [--set path=value ...]";
            return a;
        } else if (!s.empty() && s[0] == '-') {
            a.error = "unknown option '" + s + "'";
            return a;
        } else if (a.spec_path.empty()) {
            a.spec_path = s;
        } else {
            a.error = "more than one spec file given ('" + a.spec_path + "', '" + s + "')";
            return a;
        }
    }
    if (a.error.empty() && a.spec_path.empty())
        a.error = "usage: scalescope-worker SPEC.json [--set path=value ...]";
    return a;
}

// The one spec loader (file, overrides, duplicate keys, parse, validation with the MPI world
// size). Returns the problems (empty: ok).
std::vector<std::string> load_spec(const Args& args, int world, core::ExperimentSpec& spec) {
    core::SpecLoadOptions options;
    options.overrides = args.overrides;
    options.world_size = world;
    options.for_training = true;  // refuse what only the simulator models (precision, recompute, ...)
    const core::LoadedSpec loaded = core::load_spec_file(args.spec_path, options);
    std::vector<std::string> problems;
    for (const auto& e : loaded.errors) problems.push_back(e.message);
    if (!problems.empty()) return problems;
    spec = loaded.spec;
    return problems;
}

// Fault injection for the tests of the failure path: SCALESCOPE_WORKER_FAULT="R:S" makes world
// rank R fail (an exception: reported, job aborted) at the start of step S; "R:S:kill" makes it
// die by SIGKILL there instead, as a crashed or OOM-killed process does (nothing is reported).
struct FaultPlan {
    int rank = -1;
    int step = -1;
    bool kill = false;
};
FaultPlan fault_plan() {
    FaultPlan f;
    if (const char* v = std::getenv("SCALESCOPE_WORKER_FAULT")) {
        char mode[8] = {};
        const int n = std::sscanf(v, "%d:%d:%7s", &f.rank, &f.step, mode);
        if (n < 2) f = {};
        f.kill = n == 3 && std::string(mode) == "kill";
    }
    return f;
}

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
    return buf;
}

// ---- device and transport (models/device_plan.h) ----

// This rank's node-local index and the ranks on its node (MPI_COMM_TYPE_SHARED: what
// OMPI_COMM_WORLD_LOCAL_RANK and Slurm's SLURM_LOCALID say, from any launcher).
RankDeviceFacts local_facts(std::string* why) {
    RankDeviceFacts f;
    MPI_Comm node = MPI_COMM_NULL;
    SS_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    SS_MPI_CHECK(MPI_Comm_rank(node, &f.local_rank));
    SS_MPI_CHECK(MPI_Comm_size(node, &f.local_size));
    SS_MPI_CHECK(MPI_Comm_free(&node));
#if SCALESCOPE_HAVE_CUDA_BACKEND
    f.gpus = kernels::cuda::device_count(why);
#else
    f.gpus = 0;
    *why = "this worker was built without CUDA (no CUDA toolkit at build time)";
#endif
    return f;
}

struct RankSetup {
    DeviceDecision decision;
    std::unique_ptr<kernels::Backend> backend;
    std::unique_ptr<Comm> comm;   // training ranks only
    std::string transport;  // for the start line and the run record
    bool server = false;    // a parameter-server rank (models/ps.h): no Comm, a CPU backend
};

// Every rank gathers every rank's facts and takes the same decision; on a problem the rank it
// concerns prints one line, and every rank returns the exit code (no training, no MPI_Abort).
int setup_rank(const core::ExperimentSpec& spec, RankSetup& out) {
    std::string why;
    const RankDeviceFacts mine =
        spec.backend.device == "cpu" ? RankDeviceFacts{} : local_facts(&why);
    int world = 1, rank = 0;
    SS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world));
    SS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    std::vector<int> flat(static_cast<std::size_t>(3 * world));
    const int local[3] = {mine.local_rank, mine.local_size, mine.gpus};
    SS_MPI_CHECK(MPI_Allgather(local, 3, MPI_INT, flat.data(), 3, MPI_INT, MPI_COMM_WORLD));
    // With a parameter server the devices are the workers' (ranks 0 .. workers()-1); the servers
    // run on the CPU and the workers reach them over MPI (backend.comm "auto" means MPI then).
    const bool ps = spec.parallel.parameter_server();
    const int trainers = ps ? spec.parallel.workers() : world;
    const bool server = ps && rank >= trainers;
    std::vector<RankDeviceFacts> facts(static_cast<std::size_t>(trainers));
    for (int r = 0; r < trainers; ++r)
        facts[static_cast<std::size_t>(r)] = {flat[3 * static_cast<std::size_t>(r)],
                                              flat[3 * static_cast<std::size_t>(r) + 1],
                                              flat[3 * static_cast<std::size_t>(r) + 2]};
    const std::string comm_choice = ps && spec.backend.comm == "auto" ? std::string("mpi") : spec.backend.comm;
    // A server takes the workers' decision too (as rank 0 would), so that a problem ends every
    // rank the same way (none may wait in a collective for ranks that returned).
    out.decision = decide_device(spec.backend.device, comm_choice, nccl_built(), facts, server ? 0 : rank);
    const DeviceDecision& d = out.decision;
    if (d.problem != DeviceProblem::None) {
        if (rank == d.problem_rank) {
            std::fprintf(stderr, "%s\n", device_problem_message(d, facts, why, host_name()).c_str());
            std::fflush(stderr);
        }
        return d.problem == DeviceProblem::NoDevice ? 3 : 2;
    }
    if (server) {
        out.server = true;
        out.backend = kernels::make_cpu_backend();
        out.transport = "mpi";
        ps_server_split();  // pairs the workers' split in make_mpi_transport
        return 0;
    }
    if (rank == 0 && !d.comm_reason.empty() && d.gpu_ranks > 0)
        std::fprintf(stderr, "scalescope-worker: backend.comm=\"auto\" uses MPI, device buffers staged through "
                             "pinned host memory: %s\n", d.comm_reason.c_str());
    const Layout layout{spec.parallel.dp, spec.parallel.tp, spec.parallel.pp};
    const int servers = ps ? spec.parallel.servers : 0;
    if (d.cuda) {
#if SCALESCOPE_HAVE_CUDA_BACKEND
        out.backend = kernels::cuda::make_cuda_backend(d.ordinal);
#endif
    } else {
        kernels::set_blas_threads(spec.backend.blas_threads);
        out.backend = kernels::make_cpu_backend();
    }
    // The straggler (training.slow_rank): its kernels do factor x the work (models/slow_backend.h).
    if (spec.training.slow_rank == rank)
        out.backend = make_slow_backend(std::move(out.backend), spec.training.slow_factor);
    if (d.nccl) {  // never with a parameter server: the spec refuses backend.comm="nccl" with it
        out.comm = std::make_unique<Comm>(make_nccl_transport(layout, *out.backend));
        out.transport = "nccl";
    } else if (d.cuda) {
        out.comm = std::make_unique<Comm>(
            make_staging_transport(make_mpi_transport(layout, comm_progress_from_env(), servers), *out.backend));
        out.transport = "mpi (device buffers staged through pinned host memory)";
    } else {
        out.comm = std::make_unique<Comm>(make_mpi_transport(layout, comm_progress_from_env(), servers));
        out.transport = "mpi";
    }
    return 0;
}

// The rank's profiler (spec.trace): rank file <trace.dir>/rank-<R>.sqlite, default dir
// ./<name>-trace. Measures this rank's clock offset to rank 0 (a collective: every rank calls it).
std::unique_ptr<profiler::Profiler> start_profiler(int rank, int world, const core::ExperimentSpec& spec,
                                                   const RankSetup& setup,
                                                   profiler::ClockOffset& clock_start) {
    profiler::init_clock_skew(rank);
    clock_start = profiler::measure_offset_to_root(MPI_COMM_WORLD);
    if (!spec.trace.enabled) return nullptr;
    const std::filesystem::path dir = spec.trace.dir.empty() ? spec.name + "-trace" : spec.trace.dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        throw std::runtime_error("cannot create trace directory '" + dir.string() + "': " + ec.message());
    traces::RunInfo run = core::run_record(spec);
    run.world_size = world;  // validated equal to the spec's world (servers included)
    // What the ranks really used: "cuda" / "cpu" ("cuda+cpu" when device auto found GPUs on some
    // ranks only) and the transport.
    const DeviceDecision& d = setup.decision;
    // (A server takes no device decision: its own is empty; every server rank says "cpu".)
    run.backend = d.gpu_ranks == 0 ? "cpu" : d.gpu_ranks == spec.parallel.workers() ? "cuda" : "cuda+cpu";
    run.backend += d.nccl ? " (nccl)" : " (mpi)";
    traces::RankInfo k;
    k.rank = rank;
    k.host = host_name();
    k.pid = getpid();
    k.device = setup.server ? setup.backend->name() + " (parameter server)" : setup.backend->name();
    if (setup.server) {
        k.dp_coord = k.tp_coord = k.pp_coord = -1;  // not in the dp x tp x pp grid
    } else {
        const Coord c = coord_of(rank, {spec.parallel.dp, spec.parallel.tp, spec.parallel.pp});
        k.dp_coord = c.dp;
        k.tp_coord = c.tp;
        k.pp_coord = c.pp;
    }
    k.clock_offset_ns = clock_start.offset_ns;
    k.clock_ref_ns = clock_start.ref_peer_ns;
    k.clock_rtt_ns = clock_start.rtt_ns;
    profiler::ProfilerConfig cfg;
    cfg.rank_file = (dir / ("rank-" + std::to_string(rank) + ".sqlite")).string();
    std::filesystem::remove(cfg.rank_file, ec);  // a previous run's file in the same folder
    cfg.flush_interval_s = spec.trace.flush_interval_s;
    return std::make_unique<profiler::Profiler>(cfg, run, k);
}

// `prof` is owned by the caller, so a failure can still mark the rank's trace failed.
int run(Comm& comm, const core::ExperimentSpec& spec, RankSetup& setup,
        std::unique_ptr<profiler::Profiler>& prof, std::unique_ptr<profiler::GpuTracer>& gpu) {
    const bool root = comm.world_rank() == 0;
    const auto& ps = spec.parallel;
    const auto& ts = spec.training;
    const bool is_gpt = spec.model.kind == "gpt";

    // Rank 0 says what it does before the first step (a GPT small run spends seconds there).
    auto phase = [root](const char* what) {
        if (root) emit({{progress::kEvent, progress::kPhaseEvent}, {progress::kPhase, what}});
    };
    const bool on_gpu = setup.decision.cuda;
    double matrix_rate = 0;
    if (on_gpu) {
        phase("measuring the GPU's matrix rate");
        matrix_rate = kernels::measure_backend_sgemm_flops(*setup.backend);  // the MFU peak
    }
    phase("clock sync");
    profiler::ClockOffset clock_start;
    int mpi_world = 1;
    SS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &mpi_world));
    prof = start_profiler(comm.world_rank(), mpi_world, spec, setup, clock_start);
    // A CPU rank's kernels are timed by the traced backend on the host; a GPU rank's by CUPTI on
    // the device (the host only queues them), with NVTX ranges for steps and phases.
    kernels::Backend* backend = setup.backend.get();
    std::unique_ptr<kernels::Backend> traced;
    if (prof && !on_gpu) {
        traced = profiler::make_traced_backend(std::move(setup.backend));
        backend = traced.get();
    }
    if (prof && on_gpu) {
        std::string why;
        gpu = profiler::start_gpu_tracer(*prof, &why);
        if (!gpu)  // the run goes on with host tracing (steps, phases, Comm calls) only
            std::fprintf(stderr, "rank %d: the GPU is not traced: %s\n", comm.world_rank(), why.c_str());
        prof->metric(0, "matrix_flop_per_s", matrix_rate);
    }

    ParallelConfig par;
    par.layout = {ps.dp, ps.tp, ps.pp};
    par.micro_batches = ps.micro_batches;
    par.schedule = parse_pipe_schedule(ps.schedule);
    par.zero = ps.zero;
    par.bucket_mb = ps.bucket_mb;
    par.overlap = ps.overlap;
    par.parameter_server = ps.parameter_server();
    par.ps_bsp = ps.staleness == 0;

    const OptimConfig opt = optim_config(ts);

    StageEnv env;
    env.backend = backend;
    env.comm = &comm;
    env.tp = comm.size(GroupKind::Tp);
    env.tp_rank = comm.rank(GroupKind::Tp);
    env.pp = comm.size(GroupKind::Pp);
    env.pp_rank = comm.rank(GroupKind::Pp);
    env.micro_batch = micro_batch_size(ts.global_batch, par);
    env.num_slots = activation_slots(par, env.pp_rank);
    env.seed = ts.seed;
    const bool needs_data = env.first() || env.last();

    // Data (only the first and last stages read samples).
    ImageDataset train_images, test_images;
    std::vector<std::uint8_t> train_text, val_text;
    std::unique_ptr<BatchSource> train_src, eval_src;
    int eval_batches = 0;
    std::unique_ptr<Stage> stage;
    const std::int64_t tokens_per_sample = is_gpt ? spec.model.seq_len : 1;
    if (needs_data) phase("loading data");
    if (is_gpt) {
        GptConfig g;
        g.vocab = spec.model.vocab;
        g.seq_len = spec.model.seq_len;
        g.d_model = spec.model.d_model;
        g.heads = spec.model.heads;
        g.layers = spec.model.layers;
        env.loss_scale = 1.0f / static_cast<float>(static_cast<std::int64_t>(ts.global_batch) * g.seq_len);
        if (needs_data) {
            TextCorpus corpus = load_text(spec.data.path);
            // The last 10% of the corpus is held out for evaluation.
            const std::size_t cut = corpus.bytes.size() / 10 * 9;
            train_text.assign(corpus.bytes.begin(), corpus.bytes.begin() + static_cast<std::ptrdiff_t>(cut));
            val_text.assign(corpus.bytes.begin() + static_cast<std::ptrdiff_t>(cut), corpus.bytes.end());
            train_src = std::make_unique<TextBatchSource>(train_text, g.seq_len, ts.seed);
            eval_src = std::make_unique<TextBatchSource>(val_text, g.seq_len, ts.seed + 1);
        }
        eval_batches = 4;
        phase("building model");
        stage = make_gpt_stage(g, env);
    } else {
        MlpConfig m;
        m.input_dim = spec.model.input_dim;
        m.classes = spec.model.classes;
        m.hidden = spec.model.hidden;
        m.activation = parse_activation(spec.model.activation.empty() ? "relu" : spec.model.activation);
        env.loss_scale = 1.0f / static_cast<float>(ts.global_batch);
        if (needs_data) {
            train_images = load_fashion_mnist(spec.data.path, true);
            test_images = load_fashion_mnist(spec.data.path, false);
            if (static_cast<int>(train_images.image_size()) != m.input_dim)
                throw std::runtime_error("Fashion-MNIST images have " +
                                         std::to_string(train_images.image_size()) +
                                         " pixels, model.input_dim is " + std::to_string(m.input_dim));
            train_src = std::make_unique<ImageBatchSource>(train_images, ts.seed, ts.global_batch, true);
            auto ev = std::make_unique<ImageBatchSource>(test_images, ts.seed, ts.global_batch, false);
            eval_batches = ev->batches_per_pass();
            eval_src = std::move(ev);
        }
        phase("building model");
        stage = make_mlp_stage(m, env);
    }
    // Middle pipeline stages read no samples; world rank 0 (always a first stage) tells every
    // rank how many evaluation batches there are.
    {
        double eb = eval_batches;
        comm.broadcast(GroupKind::World, &eb, 1, 0);
        eval_batches = static_cast<int>(eb);
    }
    // A stage without data never calls fill(); give it an empty source type-safely.
    struct NoData final : BatchSource {
        void fill(std::int64_t, int, int, HostMicroBatch&) const override {
            throw std::logic_error("a middle pipeline stage asked for samples");
        }
    };
    NoData no_data;
    const BatchSource& train_data = train_src ? *train_src : no_data;
    const BatchSource& eval_data = eval_src ? *eval_src : no_data;

    Trainer trainer(comm, *backend, *stage, par, opt, ts.global_batch);
    // Parameter server (models/ps.h): collective with the servers' PsServer::run.
    std::unique_ptr<PsClient> ps_client;
    if (ps.parameter_server()) {
        ps_client = std::make_unique<PsClient>(ps_config(spec), *backend, stage->params(), comm.world_rank());
        trainer.set_parameter_server(ps_client.get());
    }
    CommCounter counter;
    CommTracer tracer(par.layout, comm.world_rank(), root ? &counter : nullptr);
    if (prof)
        comm.set_observer(&tracer);
    else if (root)
        comm.set_observer(&counter);

    if (root) {
        json start = {{progress::kEvent, progress::kStartEvent},
                      {progress::kModel, spec.model.kind},
                      {progress::kPreset, spec.model.preset},
                      {progress::kParams, stage->model_params()},
                      {progress::kLayout, {{"dp", ps.dp}, {"tp", ps.tp}, {"pp", ps.pp}}},
                      {progress::kWorld, mpi_world},
                      {progress::kMicroBatches, ps.micro_batches},
                      {progress::kSchedule, ps.schedule},
                      {progress::kZero, ps.zero},
                      {progress::kBuckets, trainer.buckets().size()},
                      {progress::kBackend, backend->name()},
                      {progress::kTransport, setup.transport},
                      {progress::kStage, stage->describe()}};
        if (on_gpu) start[progress::kMatrixFlops] = matrix_rate;
        emit(start);
    }

    std::vector<double> step_times;
    step_times.reserve(static_cast<std::size_t>(ts.steps));
    const auto t_start = Clock::now();
    double last_loss = 0;
    const double samples = ts.global_batch;
    const FaultPlan fault = fault_plan();
    for (int s = 0; s < ts.steps; ++s) {
        if (fault.rank == comm.world_rank() && fault.step == s) {
            if (fault.kill) {
                // The crash comes once the trace writer has committed the passes asked of it so
                // far, so that a test knows what the file must hold: a real crash also loses what
                // the writer had not committed yet (at most the last step), which no test can time.
                if (prof) prof->wait_for_writer();
                std::raise(SIGKILL);
            }
            throw std::runtime_error("injected fault at step " + std::to_string(s) +
                                     " (SCALESCOPE_WORKER_FAULT)");
        }
        const auto t0 = Clock::now();
        StepStats st;
        profiler::context().step = s;
        {
            profiler::Span step_span("step", traces::EventKind::Step, profiler::lanes::kSteps);
            st = trainer.train_step(s, train_data);
            // A GPU step ends when its last kernel (the optimizer's) has run: the step time and
            // the step span then hold the device's work, not only its launches.
            if (on_gpu) backend->synchronize();
        }
        const auto t1 = Clock::now();
        const double dt = std::chrono::duration<double>(t1 - t0).count();
        step_times.push_back(dt);
        last_loss = st.loss;
        if (root) {
            json line = {{progress::kEvent, progress::kStepEvent},
                         {progress::kStep, s},
                         {progress::kLoss, st.loss},
                         {progress::kElapsed, std::chrono::duration<double>(t1 - t_start).count()},
                         {progress::kStepTime, dt},
                         {progress::kLr, st.lr},
                         {progress::kGradNorm, st.grad_norm}};
            if (is_gpt)
                line[progress::kTokensPerS] = samples * static_cast<double>(tokens_per_sample) / dt;
            else
                line[progress::kSamplesPerS] = samples / dt;
            emit(line);
            if (prof) {
                prof->metric(s, "loss", st.loss);
                prof->metric(s, is_gpt ? "tokens_per_s" : "samples_per_s",
                             samples * static_cast<double>(tokens_per_sample) / dt);
            }
        }
        profiler::context().step = traces::kNone;
        if (gpu) gpu->step_boundary();
        if (prof) prof->step_boundary();
        if (ts.eval_every > 0 && (s + 1) % ts.eval_every == 0 && s + 1 < ts.steps) {
            profiler::Span eval_span("evaluate", traces::EventKind::HostRange, profiler::lanes::kPhases);
            const EvalStats ev = trainer.evaluate(eval_data, eval_batches);
            if (root) {
                json line = {
                    {progress::kEvent, progress::kEvalEvent}, {progress::kStep, s}, {progress::kLoss, ev.loss}};
                if (!is_gpt) line[progress::kAccuracy] = ev.accuracy();
                emit(line);
            }
        }
    }
    EvalStats final_eval;
    {
        profiler::Span eval_span("evaluate", traces::EventKind::HostRange, profiler::lanes::kPhases);
        final_eval = trainer.evaluate(eval_data, eval_batches);
    }
    comm.set_observer(nullptr);
    // Run-level values (metrics of rank 0 at step `steps`, beside eval_loss): the straggler and the
    // parameter server's observed staleness over every worker's steps.
    double stale[3] = {0, 0, 0};  // max (as a sum of one rank's entry below), sum, count
    if (ps_client) {
        ps_client->finish();  // the servers end once every worker said so
        std::vector<double> per_rank(static_cast<std::size_t>(comm.world_size()) + 2, 0.0);
        per_rank[static_cast<std::size_t>(comm.world_rank())] = static_cast<double>(ps_client->staleness_max());
        per_rank[per_rank.size() - 2] = ps_client->staleness_sum();
        per_rank[per_rank.size() - 1] = static_cast<double>(ps_client->staleness_count());
        if (comm.world_size() > 1) comm.all_reduce(GroupKind::World, per_rank.data(), per_rank.size());
        stale[0] = *std::max_element(per_rank.begin(), per_rank.end() - 2);
        stale[1] = per_rank[per_rank.size() - 2];
        stale[2] = per_rank[per_rank.size() - 1];
    }
    if (prof && root) {
        if (ts.slow_rank >= 0) {
            prof->metric(ts.steps, "slow_rank", ts.slow_rank);
            prof->metric(ts.steps, "slow_factor", ts.slow_factor);
        }
        if (ps_client) {
            prof->metric(ts.steps, "ps_servers", ps.servers);
            prof->metric(ts.steps, "ps_staleness_max", stale[0]);
            prof->metric(ts.steps, "ps_staleness_mean", stale[2] > 0 ? stale[1] / stale[2] : 0.0);
        }
    }
    if (prof) {
        // Second clock measurement: with the first it gives offset and drift over the run.
        const profiler::ClockOffset clock_end = profiler::measure_offset_to_root(MPI_COMM_WORLD);
        const profiler::ClockModel m = profiler::clock_model(clock_start, clock_end);
        prof->set_clock(m.offset_ns, m.ref_ns, m.drift_ppb, m.rtt_ns);
        if (root) prof->metric(ts.steps, "eval_loss", final_eval.loss);
        if (root && !is_gpt) prof->metric(ts.steps, "accuracy", final_eval.accuracy());
        if (gpu) gpu->finish();
        prof->finish(traces::RunStatus::Completed, "");
    }
    if (root) {
        const double med = step_times.empty() ? 0.0 : traces::median(step_times);  // traces/median.h
        json sum = {{progress::kEvent, progress::kSummaryEvent},
                    {progress::kFinalLoss, last_loss},
                    {progress::kEvalLoss, final_eval.loss},
                    {progress::kSteps, ts.steps},
                    {progress::kStepTimeMedian, med},
                    {progress::kElapsed, std::chrono::duration<double>(Clock::now() - t_start).count()},
                    {progress::kParams, stage->model_params()},
                    {progress::kComm, counter.to_json()}};
        if (is_gpt)
            sum[progress::kTokensPerS] = med > 0 ? samples * static_cast<double>(tokens_per_sample) / med : 0.0;
        else {
            sum[progress::kSamplesPerS] = med > 0 ? samples / med : 0.0;
            sum[progress::kAccuracy] = final_eval.accuracy();
            sum[progress::kTestSamples] = final_eval.count;
        }
        emit(sum);
    }
    return 0;
}

// A parameter-server rank (models/ps.h): clock sync and trace file as every rank, then serves
// until every worker said it is done. `prof` is owned by the caller (a failure marks it failed).
int run_server(const core::ExperimentSpec& spec, RankSetup& setup, std::unique_ptr<profiler::Profiler>& prof) {
    int rank = 0, world = 1;
    SS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    SS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world));
    profiler::ClockOffset clock_start;
    prof = start_profiler(rank, world, spec, setup, clock_start);
    PsServer server(ps_config(spec), optim_config(spec.training), rank);
    server.run();
    if (prof) {
        const profiler::ClockOffset clock_end = profiler::measure_offset_to_root(MPI_COMM_WORLD);
        const profiler::ClockModel m = profiler::clock_model(clock_start, clock_end);
        prof->set_clock(m.offset_ns, m.ref_ns, m.drift_ppb, m.rtt_ns);
        prof->metric(spec.training.steps, "ps_updates", static_cast<double>(server.updates()));
        prof->finish(traces::RunStatus::Completed, "");
    }
    return 0;
}

}  // namespace

int worker_main(int argc, char** argv) {
    // The CPU's best OpenBLAS kernel (kernels/blas_core.h), chosen before MPI starts: may re-execute
    // this program once with OPENBLAS_CORETYPE set; the device string of the run names the kernel.
    if (const std::string note = kernels::select_blas_core(argv); !note.empty())
        std::fprintf(stderr, "scalescope-worker: %s\n", note.c_str());
    MpiEnvironment mpi(&argc, &argv);
    const bool root = mpi.world_rank() == 0;
    const Args args = parse_args(argc, argv);
    if (!args.error.empty()) {
        if (root) std::fprintf(stderr, "scalescope-worker: %s\n", args.error.c_str());
        return 2;
    }
    core::ExperimentSpec spec;
    std::vector<std::string> problems;
    try {
        problems = load_spec(args, mpi.world_size(), spec);
    } catch (const std::exception& e) {
        problems.push_back(e.what());
    }
    if (!problems.empty()) {
        // Every rank found the same problems; rank 0 reports them, all exit.
        if (root)
            for (const auto& p : problems)
                std::fprintf(stderr, "scalescope-worker: %s: %s\n", args.spec_path.c_str(), p.c_str());
        return 2;
    }
    RankSetup setup;
    try {
        if (const int rc = setup_rank(spec, setup); rc != 0) return rc;
    } catch (const std::exception& e) {
        MpiEnvironment::abort_job(e.what());
    }
    std::unique_ptr<profiler::Profiler> prof;
    if (setup.server) {
        try {
            return run_server(spec, setup, prof);
        } catch (const std::exception& e) {
            const std::string what = "rank " + std::to_string(mpi.world_rank()) + " (parameter server): " + e.what();
            if (prof) {
                try {
                    prof->finish(traces::RunStatus::Failed, what);
                } catch (const std::exception& fe) {
                    std::fprintf(stderr, "rank %d: could not finish the trace: %s\n", mpi.world_rank(), fe.what());
                }
            }
            MpiEnvironment::abort_job(what);
        }
    }
    Comm* comm = setup.comm.get();
    std::unique_ptr<profiler::GpuTracer> gpu;
    try {
        return run(*comm, spec, setup, prof, gpu);
    } catch (const std::exception& e) {
        if (gpu) {
            try {
                gpu->finish();
            } catch (const std::exception& ge) {
                std::fprintf(stderr, "rank %d: could not finish the GPU trace: %s\n", comm->world_rank(), ge.what());
            }
        }
        if (prof) {
            try {
                prof->finish(traces::RunStatus::Failed,
                             "rank " + std::to_string(comm->world_rank()) + ": " + e.what());
            } catch (const std::exception& fe) {
                std::fprintf(stderr, "rank %d: could not finish the trace: %s\n",
                             comm->world_rank(), fe.what());
            }
        }
        comm->fatal(e.what());
    }
}

}  // namespace ss::models

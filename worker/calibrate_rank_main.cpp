// scalescope-calibrate-rank: one rank of `scalescope-cli calibrate` (started by mpirun through the
// launcher). Measures, nccl-tests style, all-reduce, reduce-scatter, all-gather, broadcast and
// send/recv through the models' Comm layer (the path training uses) over message sizes and group
// sizes; the overlap of a non-blocking all-reduce with computation; the sgemm rate and memory
// bandwidth on every rank at once; then, on rank 0 alone while the others wait, the same two.
//
//   scalescope-calibrate-rank --sizes B1,B2,... --iters N --out RAW.json
//
// Rank 0 prints one JSON line per measurement ({"event":"measure",...}) and writes RAW.json
// (core/sim/calibrate.h hardware_file() turns it into the hardware file). Sizes are bytes of the
// collective's whole buffer (nccl-tests convention, see core/sim/calibrate.h); each is rounded down
// to a multiple of 4*p bytes (float elements, divisible by the group). Every MPI call is checked.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/cpu_kernels.h"
#include "kernels/perf.h"
#include "models/comm.h"
#include "traces/median.h"

using nlohmann::json;
using ss::models::Comm;
using ss::models::GroupKind;

namespace {

struct Options {
    std::vector<long long> sizes;
    int iters = 40;
    std::string out;
};

std::string parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return "option " + a + " needs a value";
        const std::string v = argv[++i];
        try {
            if (a == "--sizes") {
                size_t from = 0;
                while (from <= v.size()) {
                    const size_t c = std::min(v.find(',', from), v.size());
                    const long long b = std::stoll(v.substr(from, c - from));
                    if (b <= 0) return "--sizes: sizes must be positive";
                    o.sizes.push_back(b);
                    from = c + 1;
                }
            } else if (a == "--iters") {
                o.iters = std::stoi(v);
                if (o.iters < 1) return "--iters must be at least 1";
            } else if (a == "--out") {
                o.out = v;
            } else {
                return "unknown option " + a;
            }
        } catch (const std::exception&) {
            return "bad value '" + v + "' for " + a;
        }
    }
    if (o.sizes.empty()) return "--sizes is required";
    if (o.out.empty()) return "--out is required";
    return {};
}

double now_s() { return MPI_Wtime(); }

// The slowest rank's value (a collective's time is when its last rank is done).
double max_over_world(double v) {
    double out = 0;
    SS_MPI_CHECK(MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    return out;
}

// Timed iterations: enough that each measurement moves ~256 MiB or runs `max_iters` times, at
// least 5; a tenth of them (at least 1) untimed first.
int iterations_for(long long bytes, int max_iters) {
    const long long budget = 256LL << 20;
    return static_cast<int>(std::clamp<long long>(budget / std::max(1LL, bytes), 5, std::max(5, max_iters)));
}

// Runs `op` iters times between barriers; the slowest rank's average seconds per call.
template <typename Op>
double time_op(int iters, Op&& op) {
    for (int i = 0; i < std::max(1, iters / 10); ++i) op();
    SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    const double t0 = now_s();
    for (int i = 0; i < iters; ++i) op();
    const double dt = (now_s() - t0) / iters;
    return max_over_world(dt);
}

// STREAM triad a = b + s*c over arrays much larger than the caches; the best of 5 passes.
// Bytes counted: 3 arrays of n floats per pass (2 read, 1 written), as STREAM does.
json memory_bandwidth() {
    const size_t n = size_t{32} << 20 >> 2;  // 32 MiB per array (float)
    std::vector<float> a(n, 0.0f), b(n, 1.0f), c(n, 2.0f);
    const float s = 3.0f;
    double best = 0;
    for (int pass = 0; pass < 6; ++pass) {
        const auto t0 = std::chrono::steady_clock::now();
        for (size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (pass > 0) best = std::max(best, 3.0 * n * sizeof(float) / dt);  // pass 0 warms up
        std::swap(b, a);
    }
    volatile float sink = a[n / 2] + b[n / 3];
    (void)sink;
    return {{"bandwidth_bytes_per_s", best},
            {"method", "STREAM triad a = b + s*c, float, 3 arrays of 32 MiB, best of 5 passes"},
            {"array_bytes", n * sizeof(float)}};
}


// The model's linear kernel (kernels::linear_forward, out = inp·Wᵀ + b) at several row counts
// (samples or tokens per micro-batch): fewer rows run at a lower rate (core/sim/calibrate.h
// fit_half_rows turns each shape's rates into the simulator's matrix-product efficiency by rows).
// Three shapes, none a power of two on both sides: 1024 x 1024 (4 KiB rows, cache-set aliasing)
// measured a 3x larger half-rate row count than 784 x 1024 on the development machine.
json linear_rows() {
    json shapes = json::array();
    for (auto [C, OC] : {std::pair{256, 256}, std::pair{512, 384}, std::pair{784, 1024}}) {
        std::vector<float> w(static_cast<size_t>(C) * OC), b(static_cast<size_t>(OC), 0.01f);
        for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i * 37 % 101) / 50.5f - 1.0f;
        json rows = json::array(), flops = json::array();
        for (int M : {16, 32, 64, 128, 256, 512, 1024}) {
            std::vector<float> in(static_cast<size_t>(M) * C), out(static_cast<size_t>(M) * OC);
            for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i * 53 % 97) / 48.5f - 1.0f;
            ss::kernels::linear_forward(out.data(), in.data(), w.data(), b.data(), M, C, OC);  // warm-up
            const auto t0 = std::chrono::steady_clock::now();
            long calls = 0;
            double el = 0;
            do {
                ss::kernels::linear_forward(out.data(), in.data(), w.data(), b.data(), M, C, OC);
                ++calls;
                el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            } while (calls < 3 || el < 0.08);
            rows.push_back(M);
            flops.push_back(2.0 * M * C * OC * static_cast<double>(calls) / el);
        }
        shapes.push_back({{"shape", {C, OC}}, {"rows", rows}, {"flops", flops}});
    }
    return {{"shapes", shapes},
            {"method", "kernels::linear_forward (rows x C) . (OC x C)^T + bias, >= 0.08 s per row count"}};
}

// Gathers one double from every rank onto rank 0 (empty elsewhere).
std::vector<double> gather(double v) {
    int world = 0;
    SS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world));
    std::vector<double> all(static_cast<size_t>(world), 0.0);
    SS_MPI_CHECK(MPI_Gather(&v, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, 0, MPI_COMM_WORLD));
    return all;
}

double mean_of(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// Overlap of a non-blocking all-reduce with computation, the method of OSU's osu_iallreduce:
// t_pure = the blocking all-reduce; t_cpu = a compute loop (128^3 sgemm calls, no MPI call inside)
// sized to about t_pure; t_both = iall_reduce, the same loop, wait. overlap = 1 - (t_both -
// t_cpu) / t_pure, clamped to [0, 1]: 1 when the transfer progresses in the background (a
// progress thread, NCCL on its own stream), near 0 when it only moves inside MPI calls. The
// slowest rank's times; the median of 5 trials.
json measure_overlap(Comm& comm, long long bytes) {
    const size_t count = static_cast<size_t>(bytes / 4);
    std::vector<float> buf(count, 0.0f);
    const int n = 128;
    std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n, 0.0f);
    auto gemm = [&] { ss::kernels::sgemm(ss::kernels::Trans::No, ss::kernels::Trans::No, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n); };
    auto seconds = [](auto&& f) {
        SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        const double t0 = MPI_Wtime();
        f();
        return max_over_world(MPI_Wtime() - t0);
    };
    comm.all_reduce(GroupKind::Tp, buf.data(), count);  // warm-up
    gemm();
    const double one_gemm = std::max(1e-7, seconds([&] { for (int i = 0; i < 20; ++i) gemm(); }) / 20);
    std::vector<double> ovl, pure, cpu, both;
    for (int trial = 0; trial < 5; ++trial) {
        const double t_pure = seconds([&] { comm.all_reduce(GroupKind::Tp, buf.data(), count); });
        const int calls = std::max(1, static_cast<int>(t_pure / one_gemm));
        const double t_cpu = seconds([&] { for (int i = 0; i < calls; ++i) gemm(); });
        const double t_both = seconds([&] {
            auto req = comm.iall_reduce(GroupKind::Tp, buf.data(), count);
            for (int i = 0; i < calls; ++i) gemm();
            req.wait();
        });
        pure.push_back(t_pure);
        cpu.push_back(t_cpu);
        both.push_back(t_both);
        ovl.push_back(std::clamp(1.0 - (t_both - t_cpu) / t_pure, 0.0, 1.0));
    }
    using ss::traces::median;
    return {{"fraction", median(ovl)}, {"bytes", bytes}, {"pure_s", median(pure)}, {"compute_s", median(cpu)},
            {"overlapped_s", median(both)}, {"trials", ovl},
            {"method", "osu_iallreduce: 1 - (t(iallreduce + compute + wait) - t(compute)) / t(allreduce), compute "
                       "= 128^3 sgemm calls lasting about t(allreduce) with no MPI call inside; median of 5"}};
}
}  // namespace

int main(int argc, char** argv) {
    ss::models::MpiEnvironment mpi(&argc, &argv);
    const int rank = mpi.world_rank(), world = mpi.world_size();
    const bool root = rank == 0;
    Options opt;
    if (const std::string err = parse_args(argc, argv, opt); !err.empty()) {
        if (root) std::fprintf(stderr, "scalescope-calibrate-rank: %s\n", err.c_str());
        return 2;
    }
    if (world < 2) {
        if (root) std::fprintf(stderr, "scalescope-calibrate-rank: needs at least 2 ranks (got %d)\n", world);
        return 2;
    }
    ss::kernels::set_blas_threads(1);
    auto emit = [](const json& j) {
        std::cout << j.dump() << "\n" << std::flush;
    };

    json samples = json::array();
    try {
        // Group sizes: powers of two dividing the world, and the world itself. A group of g ranks
        // is the tensor-parallel group of the layout dp = world/g, tp = g (adjacent ranks).
        std::vector<int> groups;
        for (int g = 2; g <= world; g *= 2)
            if (world % g == 0) groups.push_back(g);
        if (std::find(groups.begin(), groups.end(), world) == groups.end()) groups.push_back(world);

        for (int g : groups) {
            Comm comm(ss::models::make_mpi_transport({world / g, g, 1}));
            const GroupKind G = GroupKind::Tp;
            const int me = comm.rank(G);
            for (long long requested : opt.sizes) {
                const long long unit = 4LL * g;
                const long long bytes = std::max(unit, requested / unit * unit);
                const size_t count = static_cast<size_t>(bytes / 4);  // floats in the whole buffer
                const int block = static_cast<int>(count / static_cast<size_t>(g));
                // A pool of buffers used in turn, together at least 64 MiB (twice a large last-level
                // cache): a training step reduces gradients it has just written among megabytes of
                // other data, not a buffer that stays cache-resident across back-to-back calls, and
                // on shared memory a hot buffer measured up to 5x faster than the same collective
                // inside a run. Small messages (latency-bound) cycle through 64 buffers at most.
                const size_t pool = static_cast<size_t>(std::clamp<long long>((64LL << 20) / bytes, 1, 64));
                std::vector<std::vector<float>> bufs(pool, std::vector<float>(count, 0.0f));
                std::vector<float> recv(static_cast<size_t>(block), 0.0f);
                size_t turn = 0;
                auto next = [&] { return bufs[turn++ % pool].data(); };
                std::vector<int> counts(static_cast<size_t>(g), block), displs(static_cast<size_t>(g));
                for (int i = 0; i < g; ++i) displs[static_cast<size_t>(i)] = i * block;
                const int iters = iterations_for(bytes, opt.iters);
                auto record = [&](const char* name, double t) {
                    json s = {{"collective", name}, {"p", g}, {"bytes", bytes}, {"time_s", t}, {"iterations", iters}};
                    if (root) {
                        json line = s;
                        line["event"] = "measure";
                        emit(line);
                    }
                    samples.push_back(std::move(s));
                };
                // Zeros: repeated sums stay finite (no inf/NaN arithmetic in the reductions).
                record("all_reduce", time_op(iters, [&] { comm.all_reduce(G, next(), count); }));
                record("reduce_scatter", time_op(iters, [&] { comm.reduce_scatter(G, next(), recv.data(), counts); }));
                record("all_gather", time_op(iters, [&] { comm.all_gather(G, next(), counts, displs); }));
                // The DP gradient buckets' path: started non-blocking, waited for (libnbc in Open MPI).
                record("iall_reduce", time_op(iters, [&] { comm.iall_reduce(G, next(), count).wait(); }));
                record("ireduce_scatter",
                       time_op(iters, [&] { comm.ireduce_scatter(G, next(), recv.data(), counts).wait(); }));
                record("broadcast", time_op(iters, [&] { comm.broadcast(G, next(), count, 0); }));
                if (g == 2) {
                    // One-way time of a ping-pong between the pair (half the round trip).
                    const double rt = time_op(iters, [&] {
                        float* b = next();
                        if (me == 0) {
                            comm.send(G, b, count, 1, 7);
                            comm.recv(G, b, count, 1, 8);
                        } else {
                            comm.recv(G, b, count, 0, 7);
                            comm.send(G, b, count, 0, 8);
                        }
                    });
                    record("send_recv", rt / 2);
                }
            }
        }

        // Overlap of a non-blocking all-reduce with computation (whole world, 4 MiB).
        json overlap;
        {
            Comm comm(ss::models::make_mpi_transport({1, world, 1}));
            overlap = measure_overlap(comm, 4LL << 20);
            if (root) emit({{"event", "overlap"}, {"fraction", overlap["fraction"]}, {"bytes", overlap["bytes"]}});
        }

        // Every rank's compute at once: ranks on one node share caches and memory bandwidth (and,
        // in a VM, maybe physical cores). Reported beside the single-rank rates below; the hardware
        // file warns when they fall far below them (core/sim/calibrate.h kCoRunWarnRatio).
        SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        const std::vector<double> sg_all = gather(ss::kernels::measure_sgemm_flops(512, 512, 512, 0.5));
        SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        const std::vector<double> bw_all = gather(memory_bandwidth()["bandwidth_bytes_per_s"].get<double>());

        // One rank's compute, alone: the others wait at the barrier.
        json compute, memory;
        if (root) {
            const int n = 512;
            const double flops = ss::kernels::measure_sgemm_flops(n, n, n, 1.0);
            compute = {{"sgemm_flops", flops}, {"sgemm_shape", {n, n, n}}, {"blas_threads", 1},
                       {"method", "kernels::measure_sgemm_flops, 512x512x512, >= 1 s"}};
            emit({{"event", "compute"}, {"what", "sgemm"}, {"gflops", flops / 1e9}});
            compute["linear_rows"] = linear_rows();
            for (const auto& sh : compute["linear_rows"]["shapes"])
                emit({{"event", "compute"}, {"what", "linear by rows"}, {"shape", sh["shape"]}, {"rows", sh["rows"]},
                      {"flops", sh["flops"]}});
            memory = memory_bandwidth();
            emit({{"event", "compute"}, {"what", "memory"}, {"gbytes_per_s", memory["bandwidth_bytes_per_s"].get<double>() / 1e9}});
            compute["all_ranks"] = {{"ranks", world}, {"sgemm_flops_per_rank", sg_all},
                                    {"sgemm_flops_mean", mean_of(sg_all)},
                                    {"method", "the same sgemm on every rank at once"}};
            memory["all_ranks"] = {{"ranks", world}, {"bandwidth_bytes_per_s_per_rank", bw_all},
                                   {"bandwidth_bytes_per_s_mean", mean_of(bw_all)},
                                   {"method", "the same triad on every rank at once"}};
            emit({{"event", "compute"}, {"what", "all ranks"}, {"sgemm_gflops_mean", mean_of(sg_all) / 1e9},
                  {"memory_gbytes_per_s_mean", mean_of(bw_all) / 1e9}});
        }
        SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

        // Host names of every rank.
        char name[MPI_MAX_PROCESSOR_NAME] = {};
        int len = 0;
        SS_MPI_CHECK(MPI_Get_processor_name(name, &len));
        std::vector<char> all(static_cast<size_t>(world) * MPI_MAX_PROCESSOR_NAME, 0);
        SS_MPI_CHECK(MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                                MPI_CHAR, 0, MPI_COMM_WORLD));
        if (root) {
            json hosts = json::array();
            for (int r = 0; r < world; ++r) {
                std::string h(all.data() + static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME);
                if (std::find(hosts.begin(), hosts.end(), h) == hosts.end()) hosts.push_back(h);
            }
            char lib[MPI_MAX_LIBRARY_VERSION_STRING] = {};
            int liblen = 0;
            SS_MPI_CHECK(MPI_Get_library_version(lib, &liblen));
            std::string libs(lib, static_cast<size_t>(liblen));
            libs = libs.substr(0, libs.find_first_of(",\n"));
            timespec ts{};
            clock_gettime(CLOCK_REALTIME, &ts);
            const json raw = {{"format", "scalescope-calibration-raw"},
                              {"created_unix_ns", static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec},
                              {"ranks", world},
                              {"hosts", hosts},
                              {"mpi_library", libs},
                              {"samples", samples},
                              {"compute", compute},
                              {"memory", memory},
                              {"overlap", overlap}};
            std::ofstream f(opt.out);
            f << raw.dump(2) << "\n";
            if (!f) throw std::runtime_error("cannot write " + opt.out + ": " + std::strerror(errno));
        }
    } catch (const std::exception& e) {
        ss::models::MpiEnvironment::abort_job(e.what());
    }
    return 0;
}

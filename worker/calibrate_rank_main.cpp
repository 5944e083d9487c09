// scalescope-calibrate-rank: one rank of `scalescope-cli calibrate` (started by mpirun through the
// launcher). Measures, nccl-tests style, all-reduce, reduce-scatter, all-gather, broadcast and
// send/recv through the models' Comm layer (the path training uses) over message sizes and group
// sizes; the overlap of a non-blocking all-reduce with computation; the sgemm rate and memory
// bandwidth on every rank at once; then, on rank 0 alone while the others wait, the same two.
//
//   scalescope-calibrate-rank --sizes B1,B2,... --iters N --out RAW.json
//                             [--device cpu|cuda] [--comm mpi|nccl] [--repeats R]
//                             [--widths K:N,...] [--rows M,...] [--classes on|off]
//
//   Collectives are measured the way the trainer issues them (time_calls): slices of one flat
//   buffer written just before each call, the non-blocking all-reduce / reduce-scatter through
//   the Comm layer's non-blocking path, R (default 5) repetitions per size kept apart so the
//   hardware file reports their spread. --widths/--rows: the matrix-product shapes of the compute
//   classes (compute_classes: the simulator's rates from the hardware file alone; the CLI passes
//   the shapes of the specs given to `calibrate --spec`).
//
//   --device cpu   (default) host buffers, collectives over MPI, OpenBLAS sgemm, STREAM triad.
//   --device cuda  every rank on a GPU: the node-local rank (MPI_COMM_TYPE_SHARED) picks the
//                  device; buffers in device memory; the sgemm rate is cuBLAS fp32 through
//                  Backend::sgemm, the bandwidth a device triad, the overlap an all-reduce against
//                  cuBLAS products on the compute stream. Timed nccl-tests style: the stream is
//                  synchronised before the start and after the last call. Fails with exit code 3
//                  and one line "no CUDA device: <driver's reason>" where a rank sees no device.
//   --comm nccl    (default with cuda) the NCCL transport; needs one GPU per rank on every node.
//   --comm mpi     (default with cpu) MPI; with cuda, device buffers staged through pinned host
//                  memory (models/staging_transport.h), so ranks may share a GPU.
//
// Ranks on several hosts (models/plan/hosts.h host_levels: the same number k >= 2 on every host,
// consecutive) are measured in levels, every sample tagged "level": "intra" (groups inside each
// host, all hosts at once), "inter" (one rank per host, the others idle) and "span" (the world
// group; all-reduce, reduce-scatter, all-gather); RAW.json then has "levels" {hosts, ranks_per_host,
// host_of_rank, cores_per_host, groups}. Any other placement stops before measuring (exit 2, one line
// naming the rank and its host).
//
// Rank 0 prints one JSON line per measurement ({"event":"measure",...}) and writes RAW.json
// (core/sim/calibrate.h hardware_file() turns it into the hardware file). Sizes are bytes of the
// collective's whole buffer (nccl-tests convention, see core/sim/calibrate.h); each is rounded down
// to a multiple of 4*p bytes (float elements, divisible by the group). Every MPI call is checked.
// With --device cuda RAW.json has the same keys plus "device" (rank 0's backend name, e.g.
// "cuda:0 (NVIDIA H200)") and "comm" ("nccl" | "mpi"); its "compute" and "memory" describe the GPU.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>
#include <unistd.h>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/backend.h"
#include "kernels/blas_core.h"
#include "kernels/cpu_backend.h"
#include "kernels/cpu_kernels.h"
#include "kernels/perf.h"
#include "models/comm.h"
#include "models/plan/hosts.h"
#include "models/plan/layout.h"
#include "models/nccl_transport.h"
#include "models/staging_transport.h"
#include "traces/median.h"

#if defined(SCALESCOPE_HAVE_CUDA_BACKEND)
#include <cuda_runtime_api.h>

#include "kernels/cuda/cuda_backend.h"
#endif

using nlohmann::json;
using ss::models::Comm;
using ss::models::GroupKind;

namespace {

struct Options {
    std::vector<long long> sizes;
    int iters = 40;
    std::string out;
    std::string device = "cpu";  // "cpu" | "cuda"
    std::string comm;            // "mpi" | "nccl"; empty: nccl with cuda, mpi with cpu
    int repeats = 5;             // timed repetitions per collective and size (the spread)
    std::vector<std::pair<int, int>> widths;  // matrix-product (inner, cols) of the compute classes
    std::vector<int> rows;                    // and their row counts; empty: the device's defaults
    bool classes = true;                      // measure the compute classes
    std::vector<std::string> kinds;           // --kinds: "attention:B:T:C:NH,gelu:n,..." (the trainer's kernels)
};

// "64:192,256:64" -> {(64, 192), (256, 64)}; "16,32" -> {16, 32}. Throws std::invalid_argument.
std::vector<std::pair<int, int>> parse_widths(const std::string& v) {
    std::vector<std::pair<int, int>> out;
    size_t from = 0;
    while (from <= v.size()) {
        const size_t c = std::min(v.find(',', from), v.size());
        const std::string item = v.substr(from, c - from);
        const size_t colon = item.find(':');
        if (colon == std::string::npos) throw std::invalid_argument(item);
        const int k = std::stoi(item.substr(0, colon)), n = std::stoi(item.substr(colon + 1));
        if (k < 1 || n < 1) throw std::invalid_argument(item);
        out.push_back({k, n});
        from = c + 1;
    }
    return out;
}
std::vector<int> parse_ints(const std::string& v) {
    std::vector<int> out;
    size_t from = 0;
    while (from <= v.size()) {
        const size_t c = std::min(v.find(',', from), v.size());
        const int x = std::stoi(v.substr(from, c - from));
        if (x < 1) throw std::invalid_argument(v);
        out.push_back(x);
        from = c + 1;
    }
    return out;
}

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
            } else if (a == "--device") {
                if (v != "cpu" && v != "cuda") return "--device must be cpu or cuda";
                o.device = v;
            } else if (a == "--repeats") {
                o.repeats = std::stoi(v);
                if (o.repeats < 1) return "--repeats must be at least 1";
            } else if (a == "--widths") {
                o.widths = parse_widths(v);
            } else if (a == "--rows") {
                o.rows = parse_ints(v);
            } else if (a == "--kinds") {
                size_t from = 0;
                while (from < v.size()) {
                    const size_t c = std::min(v.find(',', from), v.size());
                    o.kinds.push_back(v.substr(from, c - from));
                    from = c + 1;
                }
            } else if (a == "--classes") {
                if (v != "on" && v != "off") return "--classes must be on or off";
                o.classes = v == "on";
            } else if (a == "--comm") {
                if (v != "mpi" && v != "nccl") return "--comm must be mpi or nccl";
                o.comm = v;
            } else {
                return "unknown option " + a;
            }
        } catch (const std::exception&) {
            return "bad value '" + v + "' for " + a;
        }
    }
    if (o.sizes.empty()) return "--sizes is required";
    if (o.out.empty()) return "--out is required";
    if (o.comm.empty()) o.comm = o.device == "cuda" ? "nccl" : "mpi";
    if (o.device == "cpu" && o.comm == "nccl") return "--comm nccl needs --device cuda";
#if !defined(SCALESCOPE_HAVE_CUDA_BACKEND)
    if (o.device == "cuda") return "--device cuda: this build has no CUDA backend (no CUDA toolkit)";
#endif
    if (o.comm == "nccl" && !ss::models::nccl_built())
        return "--comm nccl: this build has no NCCL (use --comm mpi)";
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

// The trainer's way (models/trainer.cpp launch_bucket): each call on a slice of one flat buffer
// that was just written (backward leaves a bucket's gradients right before its reduction), the
// ranks released together. `repeats` repetitions of `calls` calls: the slice is written by
// `prep` outside the timing, the device queue drained, the ranks meet at a barrier, and only the
// call (with its wait) is timed. Per repetition the slowest rank's median seconds per call (a
// median, so that one call stalled by the scheduler does not stand for the repetition; the
// repetitions' spread shows such stalls).
template <typename Prep, typename Op, typename Sync>
std::vector<double> time_calls(int repeats, int calls, Prep&& prep, Op&& op, Sync&& sync) {
    op(prep());  // warm-up (connections, the communication thread, the algorithm's buffers)
    sync();
    std::vector<double> out;
    std::vector<double> per_call(static_cast<size_t>(calls));
    for (int r = 0; r < repeats; ++r) {
        for (int i = 0; i < calls; ++i) {
            auto x = prep();
            sync();
            SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
            const double t0 = now_s();
            op(x);
            sync();
            per_call[static_cast<size_t>(i)] = now_s() - t0;
        }
        out.push_back(max_over_world(ss::traces::median(per_call)));
    }
    return out;
}

// A barrier the waiting ranks sleep through (MPI_Ibarrier, tested every 2 ms) instead of polling
// in MPI_Barrier: while rank 0 measures the compute alone, a polling rank on the same node takes a
// core from it (measured: the compute classes at about half speed, 2 ranks on 2 cores with one
// other busy process).
void quiet_barrier() {
    MPI_Request req = MPI_REQUEST_NULL;
    SS_MPI_CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &req));
    int done = 0;
    for (;;) {
        SS_MPI_CHECK(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
        if (done) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

double elapsed_s(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Calls per second of `call` on backend `be`, `repeats` times: each repetition at least `seconds`
// of wall time and one call, in growing batches with the queue drained after each (one warm-up
// call first). The compute classes' timer (CPU and GPU alike).
template <typename Call>
std::vector<double> call_rates(ss::kernels::Backend& be, Call&& call, int repeats, double seconds) {
    call();
    be.synchronize();
    std::vector<double> out;
    for (int r = 0; r < repeats; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        long calls = 0;
        int batch = 1;
        double el = 0;
        do {
            for (int i = 0; i < batch; ++i) call();
            be.synchronize();
            calls += batch;
            batch = std::min(2 * batch, 64);
            el = elapsed_s(t0);
        } while (el < seconds);
        out.push_back(static_cast<double>(calls) / el);
    }
    return out;
}

// {key: the best, key_median, key_min} of per-call rates × `per_call` (FLOPs or bytes per call).
// The best repetition is the rate kept, as STREAM and the peak sgemm keep theirs: on a machine
// shared with other work the slower repetitions are the ones another process interrupted (measured
// 3x apart under a load of 6 on 2 cores); the median and the slowest show how much that was.
json rate_point(json point, const char* key, std::vector<double> rates, double per_call) {
    std::sort(rates.begin(), rates.end());
    point[key] = rates.back() * per_call;
    point[std::string(key) + "_median"] = ss::traces::median(rates) * per_call;
    point[std::string(key) + "_min"] = rates.front() * per_call;
    point["repeats"] = rates.size();
    return point;
}

// The compute classes the simulator times a spec with from the hardware file alone
// (core/sim/calibrate.h rates_from_calibration), measured through `be` (the kernels the trainer
// calls): the linear kernel forward + backward (6·M·K·N FLOPs) per (K, N) and row count M;
// element-wise kernels (layer norm, residual add, GELU) by bytes per call; AdamW + the gradient
// norm by bytes (8 floats per parameter, the simulator's count); the cost of one tiny kernel call.
json compute_classes(ss::kernels::Backend& be, const std::vector<std::pair<int, int>>& widths,
                     const std::vector<int>& rows, const std::vector<long long>& ew_bytes,
                     const std::vector<long long>& opt_params, int repeats) {
    using ss::kernels::DeviceBuffer;
    const double t_min = 0.01;
    json mm = json::array();
    for (auto [K, N] : widths) {
        DeviceBuffer<float> w(be, static_cast<size_t>(N) * K), b(be, static_cast<size_t>(N));  // (N, K), (N)
        DeviceBuffer<float> dw(be, w.size()), db(be, b.size());
        be.fill(w.data(), w.size(), 0.01f);
        be.fill(b.data(), b.size(), 0.01f);
        be.zero(dw.data(), dw.bytes());
        be.zero(db.data(), db.bytes());
        for (int M : rows) {
            const size_t mk = static_cast<size_t>(M) * K, mn = static_cast<size_t>(M) * N;
            DeviceBuffer<float> in(be, mk), out(be, mn), dout(be, mn), din(be, mk);  // (M, K), (M, N)
            be.fill(in.data(), mk, 0.5f);
            be.fill(dout.data(), mn, 1e-3f);
            auto rates = call_rates(be, [&] {
                be.linear_forward(out.data(), in.data(), w.data(), b.data(), M, K, N);
                be.zero(din.data(), din.bytes());
                be.linear_backward(din.data(), dw.data(), db.data(), dout.data(), in.data(), w.data(), M, K, N);
            }, repeats, t_min);
            mm.push_back(rate_point({{"rows", M}, {"inner", K}, {"cols", N}}, "flop_per_s", rates, 6.0 * M * K * N));
        }
    }
    json ew = json::array();
    for (long long W : ew_bytes) {
        const int C = 256;
        // average bytes per call W: layer norm 2n, residual 3n, GELU 2n floats -> n = 3W / 28
        const size_t n = std::max<size_t>(C, static_cast<size_t>(3 * W / 28) / C * C);
        const int R = static_cast<int>(n / C);
        DeviceBuffer<float> in(be, n), out(be, n), a(be, n), g(be, n), mean(be, R), rstd(be, R), lw(be, C), lb(be, C);
        be.fill(in.data(), n, 0.5f);
        be.fill(a.data(), n, 0.25f);
        be.fill(lw.data(), C, 1.0f);
        be.zero(lb.data(), lb.bytes());
        auto rates = call_rates(be, [&] {
            be.layernorm_forward(out.data(), mean.data(), rstd.data(), in.data(), lw.data(), lb.data(), R, C);
            be.residual_forward(out.data(), in.data(), a.data(), n);
            be.gelu_forward(g.data(), in.data(), n);
        }, repeats, t_min);
        // rates are of the three calls together: per call 7n/3 floats moved
        for (double& r : rates) r *= 3;
        ew.push_back(rate_point({{"bytes", 28.0 * static_cast<double>(n) / 3}}, "bytes_per_s", rates, 28.0 * n / 3));
    }
    json op = json::array();
    for (long long P : opt_params) {
        const size_t n = static_cast<size_t>(P);
        DeviceBuffer<float> prm(be, n), grad(be, n), m(be, n), v(be, n);
        be.fill(prm.data(), n, 0.1f);
        be.fill(grad.data(), n, 1e-3f);
        be.zero(m.data(), m.bytes());
        be.zero(v.data(), v.bytes());
        ss::kernels::AdamWConfig cfg;
        double sink = 0;
        auto rates = call_rates(be, [&] {
            be.adamw_update(prm.data(), grad.data(), m.data(), v.data(), n, cfg, 1);
            sink += be.sum_squares(grad.data(), n);
        }, repeats, t_min);
        op.push_back(rate_point({{"bytes", 32.0 * static_cast<double>(n)}, {"params", P}}, "bytes_per_s", rates, 32.0 * n));
        if (!std::isfinite(sink)) throw std::runtime_error("calibration: the optimizer probe produced a non-finite sum");
    }
    DeviceBuffer<float> t1(be, 16), t2(be, 16), t3(be, 16);
    be.fill(t2.data(), 16, 1.0f);
    be.fill(t3.data(), 16, 2.0f);
    auto calls = call_rates(be, [&] { be.residual_forward(t1.data(), t2.data(), t3.data(), 16); }, repeats, t_min);
    return {{"matmul", {{"points", mm}, {"method", "Backend::linear_forward + linear_backward (dinp, dweight, dbias): 6*rows*inner*cols "
                                                   "FLOPs per call; the best of the repeats (median, min beside it), each >= 0.01 s"}}},
            {"elementwise", {{"points", ew}, {"method", "layernorm_forward (C = 256) + residual_forward + gelu_forward; "
                                                         "bytes: the mean per call (2n, 3n, 2n floats)"}}},
            {"optimizer", {{"points", op}, {"method", "adamw_update + sum_squares of the gradient: 8 floats per parameter"}}},
            {"kernel_overhead_s", 1.0 / *std::max_element(calls.begin(), calls.end())},
            {"kernel_overhead_method", "residual_forward of 16 floats: seconds per call (launch and call cost), the best repeat"},
            {"backend", be.name()}};
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

// The host name of every rank (MPI_Get_processor_name), on every rank.
std::vector<std::string> host_of_every_rank(int world) {
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int len = 0;
    SS_MPI_CHECK(MPI_Get_processor_name(name, &len));
    std::vector<char> all(static_cast<size_t>(world) * MPI_MAX_PROCESSOR_NAME, 0);
    SS_MPI_CHECK(MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR,
                               MPI_COMM_WORLD));
    std::vector<std::string> out;
    for (int r = 0; r < world; ++r) out.emplace_back(all.data() + static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME);
    return out;
}
using ss::models::host_levels;
using ss::models::HostLevels;

double mean_of(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// Where the measured buffers live and how the collectives reach them: host memory over MPI
// (--device cpu) or device memory over NCCL or staged MPI (--device cuda).
class Platform {
public:
    virtual ~Platform() = default;
    virtual std::unique_ptr<ss::models::Transport> transport(const ss::models::Layout& l) = 0;
    virtual float* zeros(size_t count) = 0;  // a zeroed buffer, valid until clear()
    virtual void clear() = 0;
    virtual void sync() {}  // wait for queued work (device)
    virtual void write(float* p, size_t count) = 0;  // overwrite with zeros (as a kernel writing gradients)
};

class HostPlatform final : public Platform {
public:
    std::unique_ptr<ss::models::Transport> transport(const ss::models::Layout& l) override {
        return ss::models::make_mpi_transport(l);
    }
    float* zeros(size_t count) override { return bufs_.emplace_back(count, 0.0f).data(); }
    void clear() override { bufs_.clear(); }
    void write(float* p, size_t count) override { std::fill(p, p + count, 0.0f); }

private:
    std::vector<std::vector<float>> bufs_;
};

// The compute side of a calibration: the matrix rate, the linear kernel by rows, the memory
// bandwidth and the computation an all-reduce overlaps.
struct ComputeProbe {
    int sgemm_n = 512;                        // the square sgemm measured
    std::function<double(double)> sgemm;      // FLOP/s over at least the given seconds
    json sgemm_info;                          // keys beside sgemm_flops and sgemm_shape
    std::function<json()> peak;               // the MFU peak: {"peak_flops", "peak_shape", "peak_method", ...}
    std::function<json()> linear_rows;
    std::function<json()> memory;             // {"bandwidth_bytes_per_s", "method", ...}
    std::function<void()> overlap_compute;    // one unit of work, queued or run
    std::string overlap_compute_method;
    // The compute classes (compute_classes above) through the backend the trainer would use, at
    // the device's default shapes unless the options name them.
    std::function<json(const Options&)> classes;
};

// The trainer's non-linear kernels per kind at the model's shapes (compute_classes.kinds): each
// point the seconds of one forward + backward of that kind, with the gradient zeroing the trainer
// does before it (models/gpt.cpp, models/mlp.cpp):
//   attention:B:T:C:NH   attention_forward + zero(dqkv) + attention_backward
//   layernorm:N:C        layernorm_forward + layernorm_backward
//   gelu:n, relu:n       activation forward + zero(din) + activation backward
//   residual:n           residual_forward
//   bias:N:C             bias_add + bias_backward
//   classifier:N:V       fused_classifier (softmax cross-entropy forward and its gradient)
// The buffers are reused call after call: the trainer's kernels mostly read what the kernel before
// them just wrote (tried: rotating over copies of the buffers, 8 MiB in all, made the classifier
// and bias kinds 2-3x slower than the trainer's, the others no closer).

json kind_points(ss::kernels::Backend& be, const std::vector<std::string>& kinds, int repeats) {
    using ss::kernels::DeviceBuffer;
    const double t_min = 0.03;  // seconds per repeat: the small kinds take microseconds a call
    using Buf = std::shared_ptr<DeviceBuffer<float>>;
    json out = json::array();
    for (const std::string& k : kinds) {
        std::vector<int> d;
        std::string kind;
        size_t from = 0;
        while (from <= k.size()) {
            const size_t c = std::min(k.find(':', from), k.size());
            const std::string item = k.substr(from, c - from);
            if (kind.empty())
                kind = item;
            else
                d.push_back(std::stoi(item));
            from = c + 1;
        }
        auto need = [&](std::size_t n) {
            if (d.size() != n || std::any_of(d.begin(), d.end(), [](int x) { return x < 1; }))
                throw std::invalid_argument("--kinds: bad item '" + k + "'");
        };
        auto buf = [&](std::size_t n, float v) {
            auto b = std::make_shared<DeviceBuffer<float>>(be, n);
            be.fill(b->data(), n, v);
            return b;
        };
        // The kind's buffers and the call on them.
        std::function<std::function<void()>()> make;
        if (kind == "attention") {
            need(4);
            const int B = d[0], T = d[1], C = d[2], NH = d[3];
            const auto bt = static_cast<std::size_t>(B) * T,
                       att_n = static_cast<std::size_t>(B) * NH * T * T;
            make = [&, B, T, C, NH, bt, att_n]() -> std::function<void()> {
                Buf qkv = buf(bt * 3 * C, 0.01f), o = buf(bt * C, 0.f), att = buf(att_n, 0.f),
                    scr = buf(att_n, 0.f), dout = buf(bt * C, 1e-3f), dqkv = buf(bt * 3 * C, 0.f);
                return [&be, B, T, C, NH, qkv, o, att, scr, dout, dqkv] {
                    be.attention_forward(o->data(), att->data(), qkv->data(), B, T, C, NH);
                    be.zero(dqkv->data(), dqkv->bytes());
                    be.attention_backward(dqkv->data(), scr->data(), dout->data(), qkv->data(),
                                          att->data(), B, T, C, NH);
                };
            };
        } else if (kind == "layernorm") {
            need(2);
            const int N = d[0], C = d[1];
            const auto n = static_cast<std::size_t>(N) * C;
            make = [&, N, C, n]() -> std::function<void()> {
                Buf in = buf(n, 0.5f), o = buf(n, 0.f), mean = buf(N, 0.f), rstd = buf(N, 0.f),
                    w = buf(C, 1.f), b = buf(C, 0.f), dout = buf(n, 1e-3f), din = buf(n, 0.f),
                    dw = buf(C, 0.f), db = buf(C, 0.f);
                return [&be, N, C, in, o, mean, rstd, w, b, dout, din, dw, db] {
                    be.layernorm_forward(o->data(), mean->data(), rstd->data(), in->data(),
                                         w->data(), b->data(), N, C);
                    be.layernorm_backward(din->data(), dw->data(), db->data(), dout->data(),
                                          in->data(), w->data(), mean->data(), rstd->data(), N, C);
                };
            };
        } else if (kind == "gelu" || kind == "relu") {
            need(1);
            const auto n = static_cast<std::size_t>(d[0]);
            const bool gelu = kind == "gelu";
            make = [&, n, gelu]() -> std::function<void()> {
                Buf in = buf(n, 0.5f), o = buf(n, 0.f), dout = buf(n, 1e-3f), din = buf(n, 0.f);
                return [&be, n, gelu, in, o, dout, din] {
                    if (gelu)
                        be.gelu_forward(o->data(), in->data(), n);
                    else
                        be.relu_forward(o->data(), in->data(), n);
                    be.zero(din->data(), din->bytes());
                    if (gelu)
                        be.gelu_backward(din->data(), in->data(), dout->data(), n);
                    else
                        be.relu_backward(din->data(), in->data(), dout->data(), n);
                };
            };
        } else if (kind == "residual") {
            need(1);
            const auto n = static_cast<std::size_t>(d[0]);
            make = [&, n]() -> std::function<void()> {
                Buf a = buf(n, 0.5f), b = buf(n, 0.25f), o = buf(n, 0.f);
                return
                    [&be, n, a, b, o] { be.residual_forward(o->data(), a->data(), b->data(), n); };
            };
        } else if (kind == "bias") {
            need(2);
            const int N = d[0], C = d[1];
            make = [&, N, C]() -> std::function<void()> {
                Buf o = buf(static_cast<std::size_t>(N) * C, 0.5f), b = buf(C, 0.01f),
                    db = buf(C, 0.f);
                return [&be, N, C, o, b, db] {
                    be.bias_add(o->data(), b->data(), N, C);
                    be.bias_backward(db->data(), o->data(), N, C);
                };
            };
        } else if (kind == "classifier") {
            need(2);
            const int N = d[0], V = d[1];
            make = [&, N, V]() -> std::function<void()> {
                Buf logits = buf(static_cast<std::size_t>(N) * V, 0.01f), losses = buf(N, 0.f);
                auto targets =
                    std::make_shared<DeviceBuffer<std::int32_t>>(be, static_cast<std::size_t>(N));
                be.zero(targets->data(), targets->bytes());
                return [&be, N, V, logits, losses, targets] {
                    be.fused_classifier(logits->data(), losses->data(), logits->data(),
                                        targets->data(), N, V, 1.0f);
                };
            };
        } else {
            throw std::invalid_argument("--kinds: unknown kind '" + kind + "' in '" + k + "'");
        }
        const std::function<void()> call = make();
        std::vector<double> rates = call_rates(be, call, repeats, t_min);
        std::sort(rates.begin(), rates.end());
        out.push_back({{"kind", kind},
                       {"dims", d},
                       {"seconds", 1.0 / rates.back()},
                       {"seconds_median", 1.0 / ss::traces::median(rates)},
                       {"repeats", rates.size()}});
    }
    return out;
}

// Default shapes of the compute classes: square widths and row counts around what the device
// trains (the CPU's small models; a GPU's GPT-small-like layers), working sets from caches to memory.
json classes_with_defaults(ss::kernels::Backend& be, const Options& o, bool gpu) {
    std::vector<std::pair<int, int>> widths = o.widths;
    if (widths.empty())
        widths = gpu ? std::vector<std::pair<int, int>>{{768, 768}, {768, 2304}, {768, 3072}, {3072, 768}, {2048, 2048}}
                     : std::vector<std::pair<int, int>>{{64, 64}, {128, 128}, {256, 256}, {512, 512}};
    std::vector<int> rows = o.rows;
    if (rows.empty()) rows = gpu ? std::vector<int>{64, 256, 1024, 4096, 16384} : std::vector<int>{16, 64, 256, 1024};
    std::vector<long long> ew, opt;
    for (long long b = 16 << 10; b <= (gpu ? 256LL << 20 : 64LL << 20); b *= 4) ew.push_back(b);
    for (long long n = 16 << 10; n <= (gpu ? 64LL << 20 : 4LL << 20); n *= 4) opt.push_back(n);
    json c = compute_classes(be, widths, rows, ew, opt, o.repeats);
    if (!o.kinds.empty())
        c["kinds"] = {
            {"points", kind_points(be, o.kinds, o.repeats)},
            {"method",
             "the trainer's kernels per kind at the model's shapes through the backend: seconds of "
             "one forward + backward (with the zeroing before it), the best repeat (median beside "
             "it)"}};
    return c;
}

ComputeProbe cpu_probe() {
    ComputeProbe p;
    p.sgemm_n = 512;
    p.sgemm = [](double seconds) { return ss::kernels::measure_sgemm_flops(512, 512, 512, seconds); };
    p.sgemm_info = {{"blas_threads", 1}, {"method", "kernels::measure_sgemm_flops, 512x512x512, >= 1 s"}};
    p.peak = [] {
        const int n = ss::kernels::kPeakSgemmN;
        return json{{"peak_flops", ss::kernels::measure_peak_sgemm_flops(n, 1.5)},
                    {"peak_shape", {n, n, n}},
                    {"blas_kernel", "OpenBLAS " + ss::kernels::blas_core_name()},
                    {"peak_method", "kernels::measure_peak_sgemm_flops: the fastest of the calls in >= 1.5 s, 1 thread"}};
    };
    p.linear_rows = linear_rows;
    p.memory = memory_bandwidth;
    const int n = 128;
    auto m = std::make_shared<std::vector<float>>(3 * n * n, 0.0f);
    std::fill(m->begin(), m->begin() + n * n, 0.5f);
    std::fill(m->begin() + n * n, m->begin() + 2 * n * n, 0.25f);
    p.overlap_compute = [m, n] {
        float* a = m->data();
        ss::kernels::sgemm(ss::kernels::Trans::No, ss::kernels::Trans::No, n, n, n, 1.0f, a, n, a + n * n, n, 0.0f,
                           a + 2 * n * n, n);
    };
    p.overlap_compute_method = "128^3 sgemm calls lasting about t(allreduce) with no MPI call inside";
    p.classes = [](const Options& o) {
        ss::kernels::CpuBackend be;
        return classes_with_defaults(be, o, false);
    };
    return p;
}

// Overlap of a non-blocking all-reduce with computation, the method of OSU's osu_iallreduce:
// t_pure = the blocking all-reduce; t_cpu = a compute loop (the probe's unit of work, no
// communication call inside) sized to about t_pure; t_both = iall_reduce, the same loop, wait.
// overlap = 1 - (t_both - t_cpu) / t_pure, clamped to [0, 1]: 1 when the transfer progresses in
// the background (a progress thread, NCCL on its own stream), near 0 when it only moves inside MPI
// calls. The slowest rank's times (the device queue drained at the end of each); the median of 5
// trials.
json measure_overlap(Comm& comm, long long bytes, Platform& platform, const ComputeProbe& probe) {
    const size_t count = static_cast<size_t>(bytes / 4);
    float* buf = platform.zeros(count);
    const auto& gemm = probe.overlap_compute;
    auto seconds = [&](auto&& f) {
        SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        const double t0 = MPI_Wtime();
        f();
        platform.sync();
        return max_over_world(MPI_Wtime() - t0);
    };
    comm.all_reduce(GroupKind::Tp, buf, count);  // warm-up
    gemm();
    platform.sync();
    const double one_gemm = std::max(1e-7, seconds([&] { for (int i = 0; i < 20; ++i) gemm(); }) / 20);
    std::vector<double> ovl, pure, cpu, both;
    for (int trial = 0; trial < 5; ++trial) {
        const double t_pure = seconds([&] { comm.all_reduce(GroupKind::Tp, buf, count); });
        const int calls = std::max(1, static_cast<int>(t_pure / one_gemm));
        const double t_cpu = seconds([&] { for (int i = 0; i < calls; ++i) gemm(); });
        const double t_both = seconds([&] {
            auto req = comm.iall_reduce(GroupKind::Tp, buf, count);
            for (int i = 0; i < calls; ++i) gemm();
            req.wait();
        });
        pure.push_back(t_pure);
        cpu.push_back(t_cpu);
        both.push_back(t_both);
        ovl.push_back(std::clamp(1.0 - (t_both - t_cpu) / t_pure, 0.0, 1.0));
    }
    platform.clear();
    using ss::traces::median;
    return {{"fraction", median(ovl)}, {"bytes", bytes}, {"pure_s", median(pure)}, {"compute_s", median(cpu)},
            {"overlapped_s", median(both)}, {"trials", ovl},
            {"method", "osu_iallreduce: 1 - (t(iallreduce + compute + wait) - t(compute)) / t(allreduce), compute "
                       "= " + probe.overlap_compute_method + "; median of 5"}};
}

#if defined(SCALESCOPE_HAVE_CUDA_BACKEND)
using ss::kernels::Backend;
using ss::kernels::DeviceBuffer;

// Device memory; collectives through NCCL or through MPI with host staging.
class DevicePlatform final : public Platform {
public:
    DevicePlatform(Backend& be, std::string comm) : be_(be), comm_(std::move(comm)) {}
    std::unique_ptr<ss::models::Transport> transport(const ss::models::Layout& l) override {
        if (comm_ == "nccl") return ss::models::make_nccl_transport(l, be_);
        return ss::models::make_staging_transport(ss::models::make_mpi_transport(l), be_);
    }
    float* zeros(size_t count) override {
        DeviceBuffer<float>& b = bufs_.emplace_back(be_, count);
        be_.zero(b.data(), b.bytes());
        return b.data();
    }
    void clear() override {
        be_.synchronize();
        bufs_.clear();
    }
    void sync() override { be_.synchronize(); }
    void write(float* p, size_t count) override { be_.zero(p, count * sizeof(float)); }

private:
    Backend& be_;
    std::string comm_;
    std::vector<DeviceBuffer<float>> bufs_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs `call` (queued on the backend's stream) in batches of `batch` until `seconds` of wall time
// and at least 3 calls; the stream is drained before the start and after each batch. Calls per
// second.
template <typename Call>
double device_rate(Backend& be, Call&& call, double seconds, int batch) {
    call();  // warm-up (cuBLAS picks its kernel, the clocks come up)
    be.synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    long calls = 0;
    double el = 0;
    do {
        for (int i = 0; i < batch; ++i) call();
        be.synchronize();
        calls += batch;
        el = seconds_since(t0);
    } while (calls < 3 || el < seconds);
    return static_cast<double>(calls) / el;
}

// fp32 C(n,n) = A(n,n)·B(n,n) through Backend::sgemm (cuBLAS, no TF32): the device's matrix rate.
constexpr int kDeviceGemm = 4096;

// Device triad out = a + b (Backend::residual_forward) over 3 arrays of 256 MiB, far beyond the L2
// cache; bytes counted as STREAM does (2 read, 1 written); the best of 5 passes of 50 calls.
json device_bandwidth(Backend& be) {
    const size_t n = size_t{256} << 20 >> 2;
    DeviceBuffer<float> out(be, n), a(be, n), b(be, n);
    be.fill(a.data(), n, 1.0f);
    be.fill(b.data(), n, 2.0f);
    double best = 0;
    for (int pass = 0; pass < 6; ++pass) {
        be.synchronize();
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 50; ++i) be.residual_forward(out.data(), a.data(), b.data(), n);
        be.synchronize();
        const double dt = seconds_since(t0);
        if (pass > 0) best = std::max(best, 50 * 3.0 * static_cast<double>(n * sizeof(float)) / dt);  // 0 warms up
    }
    return {{"bandwidth_bytes_per_s", best},
            {"method", "device triad out = a + b (Backend::residual_forward), float, 3 arrays of 256 MiB, 50 calls "
                       "per pass, best of 5 passes"},
            {"array_bytes", n * sizeof(float)}};
}

// Backend::linear_forward on the device at the shapes of a GPT-small layer (C = 768: QKV, MLP up,
// MLP down) and row counts up to 16384 tokens (core/sim/calibrate.h fit_half_rows).
json device_linear_rows(Backend& be) {
    json shapes = json::array();
    for (auto [C, OC] : {std::pair{768, 2304}, std::pair{768, 3072}, std::pair{3072, 768}}) {
        DeviceBuffer<float> w(be, static_cast<size_t>(C) * OC), bias(be, static_cast<size_t>(OC));  // (OC, C), (OC)
        be.fill(w.data(), w.size(), 0.01f);
        be.fill(bias.data(), bias.size(), 0.01f);
        json rows = json::array(), flops = json::array();
        for (int M : {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}) {
            DeviceBuffer<float> in(be, static_cast<size_t>(M) * C), out(be, static_cast<size_t>(M) * OC);  // (M, C), (M, OC)
            be.fill(in.data(), in.size(), 0.5f);
            const double per_s = device_rate(
                be, [&] { be.linear_forward(out.data(), in.data(), w.data(), bias.data(), M, C, OC); }, 0.05, 16);
            rows.push_back(M);
            flops.push_back(2.0 * M * C * OC * per_s);
        }
        shapes.push_back({{"shape", {C, OC}}, {"rows", rows}, {"flops", flops}});
    }
    return {{"shapes", shapes},
            {"method", "Backend::linear_forward (cuBLAS) (rows x C) . (OC x C)^T + bias on the device, >= 0.05 s per "
                       "row count, stream synchronised"}};
}

ComputeProbe device_probe(Backend& be) {
    ComputeProbe p;
    p.sgemm_n = kDeviceGemm;
    p.sgemm = [&be](double seconds) { return ss::kernels::measure_backend_sgemm_flops(be, kDeviceGemm, seconds); };
    p.sgemm_info = {{"library", "cuBLAS fp32 (no TF32)"},
                    {"method", "Backend::sgemm 4096x4096x4096 on the device, >= 1 s, stream synchronised"}};
    p.peak = [&be] {  // the same large square product is the device's peak
        return json{{"peak_flops", ss::kernels::measure_backend_sgemm_flops(be, kDeviceGemm, 1.0)},
                    {"peak_shape", {kDeviceGemm, kDeviceGemm, kDeviceGemm}},
                    {"peak_method", "Backend::sgemm (cuBLAS fp32, no TF32), >= 1 s, stream synchronised"}};
    };
    p.linear_rows = [&be] { return device_linear_rows(be); };
    p.memory = [&be] { return device_bandwidth(be); };
    const int n = 1024;
    const size_t nn = static_cast<size_t>(n) * n;
    auto m = std::make_shared<DeviceBuffer<float>>(be, 3 * nn);  // A, B, C (n, n) each
    be.fill(m->data(), 2 * nn, 0.5f);
    p.overlap_compute = [&be, m, n, nn] {
        float* a = m->data();
        be.sgemm(ss::kernels::Trans::No, ss::kernels::Trans::No, n, n, n, 1.0f, a, n, a + nn, n, 0.0f, a + 2 * nn, n);
    };
    p.overlap_compute_method =
        "1024^3 cuBLAS sgemm calls queued on the compute stream lasting about t(allreduce)";
    p.classes = [&be](const Options& o) { return classes_with_defaults(be, o, true); };
    return p;
}

// The node-local rank's GPU (MPI_COMM_TYPE_SHARED). nullptr on every rank, after the first
// failing rank printed why, when some rank has no device or NCCL would put two ranks on one GPU.
std::unique_ptr<Backend> open_device(const Options& o, int rank) {
    MPI_Comm node = MPI_COMM_NULL;
    SS_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
    int local = 0, local_size = 1;
    SS_MPI_CHECK(MPI_Comm_rank(node, &local));
    SS_MPI_CHECK(MPI_Comm_size(node, &local_size));
    SS_MPI_CHECK(MPI_Comm_free(&node));
    std::string why, problem;
    int count = 0;
    if (ss::kernels::cuda::device_available(&why)) {
        if (const cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess) {
            why = cudaGetErrorString(err);
            count = 0;
        }
    }
    if (count == 0)
        problem = "no CUDA device: " + why;
    else if (o.comm == "nccl" && local_size > count)
        problem = "scalescope-calibrate-rank: --comm nccl needs one GPU per rank: " + std::to_string(local_size) +
                  " ranks on this node, " + std::to_string(count) + " GPU(s) (--comm mpi lets ranks share one)";
    int mine = problem.empty() ? INT32_MAX : rank, first = INT32_MAX;
    SS_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    if (first != INT32_MAX) {
        if (rank == first) std::fprintf(stderr, "%s\n", problem.c_str());
        return nullptr;
    }
    return ss::kernels::cuda::make_cuda_backend(local % count);
}
#endif

}  // namespace

int main(int argc, char** argv) {
    // The CPU's best OpenBLAS kernel, chosen before MPI starts (may re-execute this program once).
    if (const std::string note = ss::kernels::select_blas_core(argv); !note.empty())
        std::fprintf(stderr, "scalescope-calibrate-rank: %s\n", note.c_str());
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
        // The buffers' home and the compute probes: the host, or this rank's GPU.
#if defined(SCALESCOPE_HAVE_CUDA_BACKEND)
        std::unique_ptr<ss::kernels::Backend> backend;  // declared first: outlives every buffer
#endif
        std::unique_ptr<Platform> platform;
        ComputeProbe probe;
#if defined(SCALESCOPE_HAVE_CUDA_BACKEND)
        if (opt.device == "cuda") {
            backend = open_device(opt, rank);
            if (!backend) return 3;
            platform = std::make_unique<DevicePlatform>(*backend, opt.comm);
            probe = device_probe(*backend);
        }
#endif
        if (!platform) {
            platform = std::make_unique<HostPlatform>();
            probe = cpu_probe();
        }
        auto sync = [&] { platform->sync(); };
        std::string device_name;
#if defined(SCALESCOPE_HAVE_CUDA_BACKEND)
        if (backend) {
            device_name = backend->name();
            if (root) emit({{"event", "device"}, {"device", device_name}, {"comm", opt.comm}});
        }
#endif

        // Every rank's host, and the levels measured: on one host its links; on several (a host
        // file), the intra-host links (groups inside each host) apart from the inter-host ones (one
        // rank per host) and the world group spanning hosts (docs/LAUNCH.md, "Calibrating a cluster").
        const std::vector<std::string> rank_hosts = host_of_every_rank(world);
        const HostLevels levels = host_levels(rank_hosts);
        if (!levels.error.empty()) {
            if (root) std::fprintf(stderr, "scalescope-calibrate-rank: %s\n", levels.error.c_str());
            return 2;
        }
        const int k = levels.ranks_per_host, H = levels.hosts;
        const bool multi = H > 1;
        if (root && multi)
            emit({{"event", "levels"}, {"hosts", H}, {"ranks_per_host", k}, {"host_of_rank", rank_hosts}});

        // One level's groups. A group of g ranks inside a host is the tensor-parallel group of the
        // layout dp = world/g, tp = g (adjacent ranks: the ranks of one host are consecutive); a
        // group of h hosts is the data-parallel group of dp = h, tp = k, pp = H/h, of which only the
        // first rank of every host (tp index 0) takes part: the link between hosts, the other ranks idle.
        struct Group {
            const char* level;  // "" on one host (the raw file's samples carry no level then)
            ss::models::Layout layout;
            GroupKind kind;
            int p;
            bool active;
            bool span;  // the world group across hosts: all-reduce, reduce-scatter, all-gather only
        };
        std::vector<Group> plan;
        auto powers = [](int n) {  // 2, 4, ... dividing n, and n itself
            std::vector<int> out;
            for (int g = 2; g <= n; g *= 2)
                if (n % g == 0) out.push_back(g);
            if (n >= 2 && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
            return out;
        };
        for (int g : powers(k)) plan.push_back({multi ? "intra" : "", {world / g, g, 1}, GroupKind::Tp, g, true, false});
        if (multi) {
            for (int h : powers(H))
                plan.push_back({"inter", {h, k, H / h}, GroupKind::Dp, h, rank % k == 0, false});
            plan.push_back({"span", {1, world, 1}, GroupKind::Tp, world, true, true});
        }

        // Where each measured group's members ran (the hardware file's levels.groups): every group of
        // a level by the hosts of its members, so that a reader (and the test) sees intra groups inside
        // one host and inter groups across distinct hosts.
        json groups = json::array();
        for (const Group& grp : plan) {
            if (!*grp.level) continue;  // one host: no levels
            const auto axis = grp.kind == GroupKind::Dp ? ss::models::Axis::Dp : ss::models::Axis::Tp;
            json of = json::array();
            for (int r = 0; r < world; ++r) {
                if (ss::models::group_member(r, axis, 0, grp.layout) != r) continue;  // one entry per group
                if (grp.kind == GroupKind::Dp && r % k != 0) continue;                // not measured (idle ranks)
                json hosts = json::array();
                for (int i = 0; i < grp.p; ++i)
                    hosts.push_back(rank_hosts[static_cast<size_t>(ss::models::group_member(r, axis, i, grp.layout))]);
                of.push_back(hosts);
            }
            groups.push_back({{"level", grp.level}, {"p", grp.p}, {"hosts", of}});
        }

        for (const Group& grp : plan) {
            Comm comm(platform->transport(grp.layout));
            const GroupKind G = grp.kind;
            const int g = grp.p;
            const int me = comm.rank(G);
            for (long long requested : opt.sizes) {
                const long long unit = 4LL * g;
                const long long bytes = std::max(unit, requested / unit * unit);
                const size_t count = static_cast<size_t>(bytes / 4);  // floats in the whole buffer
                const int block = static_cast<int>(count / static_cast<size_t>(g));
                // The trainer's buffers: one flat gradient buffer of at least 64 MiB (twice a large
                // last-level cache), each call on its next slice (a bucket), aligned as the trainer's
                // tensors are (16 floats), written just before the call: small buckets are then in
                // cache as after backward, large ones stream from memory (a hot buffer reused call
                // after call measured up to 5x faster than the same collective inside a run).
                const size_t stride = (count + 15) / 16 * 16;
                const size_t flat = std::max<size_t>(2 * stride, (64u << 20) / 4);
                platform->clear();
                float* flatbuf = platform->zeros(flat);
                float* recv = platform->zeros(static_cast<size_t>(block));
                size_t offset = 0;
                auto next = [&] {
                    if (offset + stride > flat) offset = 0;
                    float* p = flatbuf + offset;
                    offset += stride;
                    platform->write(p, count);  // the gradients backward just produced (zeros: sums stay finite)
                    return p;
                };
                std::vector<int> counts(static_cast<size_t>(g), block), displs(static_cast<size_t>(g));
                for (int i = 0; i < g; ++i) displs[static_cast<size_t>(i)] = i * block;
                const int calls = std::max(3, iterations_for(bytes, opt.iters) / opt.repeats);
                auto record = [&](const char* name, const std::vector<double>& times) {
                    for (std::size_t r = 0; r < times.size(); ++r) {
                        json s = {{"collective", name}, {"p", g}, {"bytes", bytes}, {"time_s", times[r]},
                                  {"iterations", calls}, {"repeat", r}};
                        if (*grp.level) s["level"] = grp.level;
                        samples.push_back(std::move(s));
                    }
                    if (root) {
                        std::vector<double> v = times;
                        std::sort(v.begin(), v.end());
                        json m = {{"event", "measure"}, {"collective", name}, {"p", g}, {"bytes", bytes},
                                  {"time_s", ss::traces::median(v)}, {"min_s", v.front()}, {"max_s", v.back()},
                                  {"repeats", v.size()}, {"iterations", calls}};
                        if (*grp.level) m["level"] = grp.level;
                        emit(m);
                    }
                };
                const int R = opt.repeats;
                // A rank outside the measured groups (the inter-host level: all but one rank per
                // host) joins the barriers and the timing's maximum only.
                auto op = [&](auto&& call) {
                    return [&, call](float* b) {
                        if (grp.active) call(b);
                    };
                };
                record("all_reduce", time_calls(R, calls, next, op([&](float* b) { comm.all_reduce(G, b, count); }), sync));
                record("reduce_scatter",
                       time_calls(R, calls, next, op([&](float* b) { comm.reduce_scatter(G, b, recv, counts); }), sync));
                record("all_gather",
                       time_calls(R, calls, next, op([&](float* b) { comm.all_gather(G, b, counts, displs); }), sync));
                if (grp.span) continue;
                // The DP gradient buckets' path: started non-blocking (the communication thread of
                // models/comm.h, or an MPI_I* call in poll mode; on NCCL the wait orders the compute
                // stream after the transfer), then waited for.
                record("iall_reduce",
                       time_calls(R, calls, next, op([&](float* b) { comm.iall_reduce(G, b, count).wait(); }), sync));
                record("ireduce_scatter", time_calls(R, calls, next, op([&](float* b) {
                           comm.ireduce_scatter(G, b, recv, counts).wait();
                       }), sync));
                record("broadcast",
                       time_calls(R, calls, next, op([&](float* b) { comm.broadcast(G, b, count, 0); }), sync));
                if (g == 2) {
                    // One-way time of a ping-pong between the pair (half the round trip).
                    auto rt = time_calls(R, calls, next, op([&](float* b) {
                        if (me == 0) {
                            comm.send(G, b, count, 1, 7);
                            comm.recv(G, b, count, 1, 8);
                        } else {
                            comm.recv(G, b, count, 0, 7);
                            comm.send(G, b, count, 0, 8);
                        }
                    }), sync);
                    for (double& t : rt) t /= 2;
                    record("send_recv", rt);
                }
            }
        }
        platform->clear();

        // Overlap of a non-blocking all-reduce with computation (whole world, 4 MiB).
        json overlap;
        {
            Comm comm(platform->transport({1, world, 1}));
            overlap = measure_overlap(comm, 4LL << 20, *platform, probe);
            if (root) emit({{"event", "overlap"}, {"fraction", overlap["fraction"]}, {"bytes", overlap["bytes"]}});
        }

        // Every rank's compute at once: ranks on one node share caches and memory bandwidth (and,
        // in a VM, maybe physical cores). Reported beside the single-rank rates below; the hardware
        // file warns when they fall far below them (core/sim/calibrate.h kCoRunWarnRatio).
        SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        const std::vector<double> sg_all = gather(probe.sgemm(0.5));
        SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        const std::vector<double> bw_all = gather(probe.memory()["bandwidth_bytes_per_s"].get<double>());

        // One rank's compute, alone: the others wait at the barrier, asleep (quiet_barrier).
        json compute, memory, classes;
        if (root) {
            const int n = probe.sgemm_n;
            const double flops = probe.sgemm(1.0);
            compute = probe.sgemm_info;
            compute["sgemm_flops"] = flops;
            compute["sgemm_shape"] = {n, n, n};
            emit({{"event", "compute"}, {"what", "sgemm"}, {"gflops", flops / 1e9}});
            compute.update(probe.peak());  // compute.peak_flops: the MFU peak (docs/LAUNCH.md "The hardware file")
            emit({{"event", "compute"}, {"what", "peak sgemm"}, {"gflops", compute["peak_flops"].get<double>() / 1e9}});
            compute["linear_rows"] = probe.linear_rows();
            for (const auto& sh : compute["linear_rows"]["shapes"])
                emit({{"event", "compute"}, {"what", "linear by rows"}, {"shape", sh["shape"]}, {"rows", sh["rows"]},
                      {"flops", sh["flops"]}});
            memory = probe.memory();
            emit({{"event", "compute"}, {"what", "memory"}, {"gbytes_per_s", memory["bandwidth_bytes_per_s"].get<double>() / 1e9}});
            compute["all_ranks"] = {{"ranks", world}, {"sgemm_flops_per_rank", sg_all},
                                    {"sgemm_flops_mean", mean_of(sg_all)},
                                    {"method", "the same sgemm on every rank at once"}};
            memory["all_ranks"] = {{"ranks", world}, {"bandwidth_bytes_per_s_per_rank", bw_all},
                                   {"bandwidth_bytes_per_s_mean", mean_of(bw_all)},
                                   {"method", "the same triad on every rank at once"}};
            emit({{"event", "compute"}, {"what", "all ranks"}, {"sgemm_gflops_mean", mean_of(sg_all) / 1e9},
                  {"memory_gbytes_per_s_mean", mean_of(bw_all) / 1e9}});
            if (opt.classes) {
                classes = probe.classes(opt);
                emit({{"event", "compute"}, {"what", "classes"}, {"matmul_points", classes["matmul"]["points"].size()},
                      {"elementwise_points", classes["elementwise"]["points"].size()},
                      {"optimizer_points", classes["optimizer"]["points"].size()},
                      {"kernel_overhead_us", classes["kernel_overhead_s"].get<double>() * 1e6}});
            }
        }
        quiet_barrier();

        if (root) {
            const json hosts = levels.names;
            char lib[MPI_MAX_LIBRARY_VERSION_STRING] = {};
            int liblen = 0;
            SS_MPI_CHECK(MPI_Get_library_version(lib, &liblen));
            std::string libs(lib, static_cast<size_t>(liblen));
            libs = libs.substr(0, libs.find_first_of(",\n"));
            timespec ts{};
            clock_gettime(CLOCK_REALTIME, &ts);
            json raw = {{"format", "scalescope-calibration-raw"},
                              {"created_unix_ns", static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec},
                              {"ranks", world},
                              {"hosts", hosts},
                              {"mpi_library", libs},
                              {"samples", samples},
                              {"compute", compute},
                              {"memory", memory},
                              {"overlap", overlap},
                              {"collective_method",
                               "per call: a slice of one flat buffer of >= 64 MiB written just before, the ranks "
                               "released by a barrier, the call (and its wait) timed; " + std::to_string(opt.repeats) +
                                   " repetitions per size, each the slowest rank's median per call"}};
            if (!classes.is_null()) raw["compute_classes"] = classes;
            if (multi) {
                // The levels (core/sim/calibrate.h hardware_file: collectives = intra, inter_collectives,
                // spanning) and the cores of rank 0's host (the hardware file's cores_per_node).
                const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
                raw["levels"] = {{"hosts", H}, {"ranks_per_host", k}, {"host_of_rank", rank_hosts},
                                 {"cores_per_host", cores > 0 ? cores : 0}, {"groups", groups},
                                 {"method", "intra: groups of g ranks inside each host (all hosts at once); inter: "
                                            "one rank per host (the others idle); span: the world group"}};
            }
            if (opt.device == "cuda") {
                raw["device"] = device_name;  // rank 0's backend, e.g. "cuda:0 (NVIDIA H200)"
                raw["comm"] = opt.comm;       // "nccl" | "mpi" (device buffers staged via host)
            }
            std::ofstream f(opt.out);
            f << raw.dump(2) << "\n";
            if (!f) throw std::runtime_error("cannot write " + opt.out + ": " + std::strerror(errno));
        }
    } catch (const std::exception& e) {
        ss::models::MpiEnvironment::abort_job(e.what());
    }
    return 0;
}

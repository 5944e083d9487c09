// scalescope-calibrate-rank: one rank of `scalescope-cli calibrate` (started by mpirun through the
// launcher). Measures, nccl-tests style, all-reduce, reduce-scatter, all-gather, broadcast and
// send/recv through the models' Comm layer (the path training uses) over message sizes and group
// sizes; the overlap of a non-blocking all-reduce with computation; the sgemm rate and memory
// bandwidth on every rank at once; then, on rank 0 alone while the others wait, the same two.
//
//   scalescope-calibrate-rank --sizes B1,B2,... --iters N --out RAW.json
//                             [--device cpu|cuda] [--comm mpi|nccl]
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
// Rank 0 prints one JSON line per measurement ({"event":"measure",...}) and writes RAW.json
// (core/sim/calibrate.h hardware_file() turns it into the hardware file). Sizes are bytes of the
// collective's whole buffer (nccl-tests convention, see core/sim/calibrate.h); each is rounded down
// to a multiple of 4*p bytes (float elements, divisible by the group). Every MPI call is checked.
// With --device cuda RAW.json has the same keys plus "device" (rank 0's backend name, e.g.
// "cuda:0 (NVIDIA H200)") and "comm" ("nccl" | "mpi"); its "compute" and "memory" describe the GPU.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/backend.h"
#include "kernels/blas_core.h"
#include "kernels/cpu_kernels.h"
#include "kernels/perf.h"
#include "models/comm.h"
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
            } else if (a == "--device") {
                if (v != "cpu" && v != "cuda") return "--device must be cpu or cuda";
                o.device = v;
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

// Runs `op` iters times between barriers; the slowest rank's average seconds per call. `sync`
// drains the device's queue (nothing on the CPU): before the start, as nccl-tests does, and after
// the last call, so the time covers the work and not just its launch.
template <typename Op, typename Sync>
double time_op(int iters, Op&& op, Sync&& sync) {
    for (int i = 0; i < std::max(1, iters / 10); ++i) op();
    sync();
    SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    const double t0 = now_s();
    for (int i = 0; i < iters; ++i) op();
    sync();
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

// Where the measured buffers live and how the collectives reach them: host memory over MPI
// (--device cpu) or device memory over NCCL or staged MPI (--device cuda).
class Platform {
public:
    virtual ~Platform() = default;
    virtual std::unique_ptr<ss::models::Transport> transport(const ss::models::Layout& l) = 0;
    virtual float* zeros(size_t count) = 0;  // a zeroed buffer, valid until clear()
    virtual void clear() = 0;
    virtual void sync() {}  // wait for queued work (device)
};

class HostPlatform final : public Platform {
public:
    std::unique_ptr<ss::models::Transport> transport(const ss::models::Layout& l) override {
        return ss::models::make_mpi_transport(l);
    }
    float* zeros(size_t count) override { return bufs_.emplace_back(count, 0.0f).data(); }
    void clear() override { bufs_.clear(); }

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
};

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

        // Group sizes: powers of two dividing the world, and the world itself. A group of g ranks
        // is the tensor-parallel group of the layout dp = world/g, tp = g (adjacent ranks).
        std::vector<int> groups;
        for (int g = 2; g <= world; g *= 2)
            if (world % g == 0) groups.push_back(g);
        if (std::find(groups.begin(), groups.end(), world) == groups.end()) groups.push_back(world);

        for (int g : groups) {
            Comm comm(platform->transport({world / g, g, 1}));
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
                platform->clear();
                std::vector<float*> bufs(pool);
                for (float*& b : bufs) b = platform->zeros(count);
                float* recv = platform->zeros(static_cast<size_t>(block));
                size_t turn = 0;
                auto next = [&] { return bufs[turn++ % pool]; };
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
                record("all_reduce", time_op(iters, [&] { comm.all_reduce(G, next(), count); }, sync));
                record("reduce_scatter",
                       time_op(iters, [&] { comm.reduce_scatter(G, next(), recv, counts); }, sync));
                record("all_gather", time_op(iters, [&] { comm.all_gather(G, next(), counts, displs); }, sync));
                // The DP gradient buckets' path: started non-blocking, waited for (libnbc in Open MPI;
                // on NCCL the wait orders the compute stream after the transfer).
                record("iall_reduce", time_op(iters, [&] { comm.iall_reduce(G, next(), count).wait(); }, sync));
                record("ireduce_scatter",
                       time_op(iters, [&] { comm.ireduce_scatter(G, next(), recv, counts).wait(); }, sync));
                record("broadcast", time_op(iters, [&] { comm.broadcast(G, next(), count, 0); }, sync));
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
                    }, sync);
                    record("send_recv", rt / 2);
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

        // One rank's compute, alone: the others wait at the barrier.
        json compute, memory;
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
            json raw = {{"format", "scalescope-calibration-raw"},
                              {"created_unix_ns", static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec},
                              {"ranks", world},
                              {"hosts", hosts},
                              {"mpi_library", libs},
                              {"samples", samples},
                              {"compute", compute},
                              {"memory", memory},
                              {"overlap", overlap}};
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

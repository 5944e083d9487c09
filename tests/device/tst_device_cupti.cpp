// The GPU tracer on a device (plain C++, no Qt): a Comm call on the host whose kernel is launched
// the way NCCL launches its kernels (cuLaunchKernelEx, a kernel named "nccl..."), a second such
// kernel outside any Comm call, a compute kernel, a memset and a copy. The rank file must hold
// them on their stream lanes, on the host clock (inside the host interval around launch and
// sync), the driver calls on the CUDA API lane, the first NCCL kernel with the Comm call's
// collective, bytes and sequence, and the per-kind record counts in its stats. Prints
// "CUPTI record counts: ...". Without a usable device: "no CUDA device: <reason>", exit 77 (skip).
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "profiler/gpu_trace.h"
#include "profiler/profiler.h"
#include "traces/reader.h"
#include "traces/stats_keys.h"

using namespace ss;
using namespace ss::profiler;

namespace {
void check_cuda(cudaError_t rc, const char* call, const char* file, int line) {
    if (rc != cudaSuccess)
        throw std::runtime_error(std::string("CUDA call `") + call + "` failed at " + file + ":" +
                                 std::to_string(line) + ": " + cudaGetErrorString(rc));
}
#define CUDA_CHECK(call) check_cuda((call), #call, __FILE__, __LINE__)

// The driver API through the runtime's entry points, so the test links no libcuda (it loads, and
// skips, on a machine without a driver).
struct Driver {
    decltype(&cuGetErrorString) get_error_string = nullptr;
    decltype(&cuModuleLoadData) module_load_data = nullptr;
    decltype(&cuModuleGetFunction) module_get_function = nullptr;
    decltype(&cuModuleUnload) module_unload = nullptr;
    decltype(&cuLaunchKernelEx) launch_kernel_ex = nullptr;
    template <typename F>
    static void load(F& fn, const char* symbol) {
        void* p = nullptr;
        cudaDriverEntryPointQueryResult found{};
        CUDA_CHECK(cudaGetDriverEntryPointByVersion(symbol, &p, 12000, cudaEnableDefault, &found));
        if (found != cudaDriverEntryPointSuccess || !p)
            throw std::runtime_error(std::string("driver entry point ") + symbol + " not found");
        fn = reinterpret_cast<F>(p);
    }
    Driver() {
        load(get_error_string, "cuGetErrorString");
        load(module_load_data, "cuModuleLoadData");
        load(module_get_function, "cuModuleGetFunction");
        load(module_unload, "cuModuleUnload");
        load(launch_kernel_ex, "cuLaunchKernelEx");
    }
};
const Driver* g_driver = nullptr;
void check_cu(CUresult rc, const char* call, const char* file, int line) {
    if (rc == CUDA_SUCCESS) return;
    const char* msg = nullptr;
    g_driver->get_error_string(rc, &msg);
    throw std::runtime_error(std::string("CUDA driver call `") + call + "` failed at " + file +
                             ":" + std::to_string(line) + ": " + (msg ? msg : "unknown error"));
}
#define CU_CHECK(call) check_cu((call), #call, __FILE__, __LINE__)

int g_failures = 0;
#define EXPECT(cond, what)                                                                  \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::fprintf(stderr, "FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, what, #cond); \
            ++g_failures;                                                                   \
        }                                                                                   \
    } while (0)

// Two kernels that each store one word: the NCCL stand-in and a compute kernel.
constexpr const char* kPtx = R"(
.version 7.0
.target sm_75
.address_size 64
.visible .entry nccl_scalescope_probe(.param .u64 out)
{
    .reg .b64 %rd<3>;
    .reg .b32 %r<2>;
    ld.param.u64 %rd1, [out];
    cvta.to.global.u64 %rd2, %rd1;
    mov.u32 %r1, 42;
    st.global.u32 [%rd2], %r1;
    ret;
}
.visible .entry scalescope_probe_compute(.param .u64 out)
{
    .reg .b64 %rd<3>;
    .reg .b32 %r<2>;
    ld.param.u64 %rd1, [out];
    cvta.to.global.u64 %rd2, %rd1;
    mov.u32 %r1, 7;
    st.global.u32 [%rd2+4], %r1;
    ret;
}
)";

void launch_ex(CUfunction f, CUstream stream, CUdeviceptr out) {
    CUlaunchConfig cfg{};
    cfg.gridDimX = cfg.gridDimY = cfg.gridDimZ = 1;
    cfg.blockDimX = cfg.blockDimY = cfg.blockDimZ = 1;
    cfg.hStream = stream;
    void* args[] = {&out};
    CU_CHECK(g_driver->launch_kernel_ex(&cfg, f, args, nullptr));
}

int run() {
    int devices = 0;
    const cudaError_t err = cudaGetDeviceCount(&devices);
    if (err != cudaSuccess || devices == 0) {
        std::printf("no CUDA device: %s\n",
                    err != cudaSuccess ? cudaGetErrorString(err) : "none found");
        return 77;
    }
    char tmpl[] = "/tmp/scalescope-cupti-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    const std::string file = std::string(tmpl) + "/rank-0.sqlite";

    std::int64_t comm_start = 0, comm_end = 0, after_sync = 0;
    {
        traces::RunInfo run;
        run.name = "cupti-device";
        run.spec_json = "{}";
        traces::RankInfo rank;
        rank.device = "cuda";
        Profiler prof(ProfilerConfig{.rank_file = file}, run, rank);
        std::string why;
        std::unique_ptr<GpuTracer> gpu = start_gpu_tracer(prof, &why);
        if (!gpu) throw std::runtime_error("start_gpu_tracer: " + why);
        std::printf("%s\n", gpu->status().c_str());

        CUDA_CHECK(cudaSetDevice(0));
        CUDA_CHECK(cudaFree(nullptr));  // the primary context, current on this thread
        const Driver driver;
        g_driver = &driver;
        CUmodule mod = nullptr;
        CU_CHECK(g_driver->module_load_data(&mod, kPtx));
        CUfunction nccl_fn = nullptr, compute_fn = nullptr;
        CU_CHECK(g_driver->module_get_function(&nccl_fn, mod, "nccl_scalescope_probe"));
        CU_CHECK(g_driver->module_get_function(&compute_fn, mod, "scalescope_probe_compute"));
        cudaStream_t stream = nullptr;
        CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        void* out = nullptr;
        CUDA_CHECK(cudaMalloc(&out, 64));
        const auto dout = reinterpret_cast<CUdeviceptr>(out);

        context().step = 0;
        {
            Span step("step", traces::EventKind::Step, lanes::kSteps);
            CUDA_CHECK(cudaMemsetAsync(out, 0, 64, stream));
            // The Comm call, as models/comm_tracer.cpp records it, around an NCCL-style launch.
            SpanRecord comm;
            comm.name = "all_reduce";
            comm.kind = traces::EventKind::Comm;
            comm.lane = lanes::kComm;
            comm.collective = traces::Collective::AllReduce;
            comm.group_kind = traces::GroupKind::DP;
            comm.group_id = 0;
            comm.group_size = 1;
            comm.bytes = 4096;
            comm.seq = 5;
            comm.step = 0;
            comm.start_ns = comm_start = now_ns();
            launch_ex(nccl_fn, reinterpret_cast<CUstream>(stream), dout);
            comm.end_ns = comm_end = now_ns();
            prof.record(comm);
            launch_ex(compute_fn, reinterpret_cast<CUstream>(stream), dout);
        }
        gpu->step_boundary();
        prof.step_boundary();
        context().step = 1;
        {
            Span step("step", traces::EventKind::Step, lanes::kSteps);
            launch_ex(nccl_fn, reinterpret_cast<CUstream>(stream), dout);  // in no Comm call
            unsigned host[2] = {0, 0};
            CUDA_CHECK(cudaMemcpyAsync(host, out, sizeof host, cudaMemcpyDeviceToHost, stream));
            CUDA_CHECK(cudaStreamSynchronize(stream));
            after_sync = now_ns();
            EXPECT(host[0] == 42 && host[1] == 7, "the kernels ran");
        }
        context().step = traces::kNone;
        gpu->step_boundary();
        prof.step_boundary();
        gpu->finish();
        gpu->finish();  // once only
        CUDA_CHECK(cudaFree(out));
        CUDA_CHECK(cudaStreamDestroy(stream));
        CU_CHECK(g_driver->module_unload(mod));
        prof.finish(traces::RunStatus::Completed, "");
    }

    traces::TraceReader rd(file);
    const traces::RunId run = rd.runs().at(0).id;
    std::vector<traces::Event> nccl, compute, memset, memcpy, launches;
    rd.scan_events(run, [&](const traces::Event& e) {
        const std::string& n = rd.string(e.name);
        if (n == "nccl_scalescope_probe") nccl.push_back(e);
        if (n == "scalescope_probe_compute") compute.push_back(e);
        if (e.kind == traces::EventKind::Memset) memset.push_back(e);
        if (e.kind == traces::EventKind::Memcpy) memcpy.push_back(e);
        if (n.rfind("cuLaunchKernelEx", 0) == 0) launches.push_back(e);
    });
    EXPECT(nccl.size() == 2, "both NCCL-named kernels recorded");
    EXPECT(compute.size() == 1, "the compute kernel recorded");
    EXPECT(memset.size() >= 1 && memcpy.size() >= 1, "memset and copy recorded");
    EXPECT(launches.size() == 3, "three cuLaunchKernelEx driver records");
    for (const auto& l : launches)
        EXPECT(l.lane == lanes::kCudaApi, "driver calls on the CUDA API lane");
    int attached = 0, unattached = 0;
    for (const auto& k : nccl) {
        EXPECT(k.lane >= lanes::kCudaStreamBase, "NCCL kernel on a stream lane");
        EXPECT(k.kind == traces::EventKind::Comm, "NCCL kernel of kind Comm");
        if (k.collective == traces::Collective::AllReduce) {
            ++attached;
            EXPECT(k.bytes == 4096 && k.seq == 5 && k.group_kind == traces::GroupKind::DP &&
                       k.step == 0,
                   "attached kernel carries the Comm call's attributes");
            // The host clock: the kernel ran after its launch began and before the sync returned.
            EXPECT(k.start_ns >= comm_start - 20'000,
                   "kernel start on the host clock (not before its launch)");
            EXPECT(k.end_ns <= after_sync + 20'000,
                   "kernel end on the host clock (not after the sync)");
            EXPECT(k.end_ns >= k.start_ns, "kernel duration");
            std::printf("attached NCCL kernel: %lld ns after the Comm call began, %lld ns long\n",
                        static_cast<long long>(k.start_ns - comm_start),
                        static_cast<long long>(k.end_ns - k.start_ns));
        } else {
            ++unattached;
            EXPECT(k.collective == traces::Collective::None, "unattached kernel has no collective");
        }
    }
    EXPECT(attached == 1 && unattached == 1, "one NCCL kernel attached, one not");
    for (const auto& l : launches)
        EXPECT(l.start_ns <= after_sync, "launch before the sync returned");
    (void)comm_end;

    std::map<std::string, std::int64_t> stats;
    for (const auto& s : rd.stats(run)) stats[s.key] += s.value;
    namespace st = traces::stats;
    std::printf("CUPTI record counts:");
    for (const auto& k : st::kCounts)
        std::printf(" %s=%lld", std::string(k.key).c_str(),
                    static_cast<long long>(stats[std::string(k.key)]));
    std::printf("\n");
    for (const auto& k : st::kAll)
        if (stats.count(std::string(k.key)))
            std::printf("drop counter %s=%lld\n", std::string(k.key).c_str(),
                        static_cast<long long>(stats[std::string(k.key)]));
    EXPECT(stats[std::string(st::kCuptiRecordsNccl.key)] == 2, "cupti_records_nccl");
    EXPECT(stats[std::string(st::kCuptiRecordsKernel.key)] >= 1, "cupti_records_kernel");
    EXPECT(stats[std::string(st::kCuptiRecordsDriver.key)] >= 3, "cupti_records_driver");
    EXPECT(stats[std::string(st::kCuptiRecordsRuntime.key)] >= 3, "cupti_records_runtime");
    EXPECT(stats[std::string(st::kCuptiNcclAttached.key)] == 1, "cupti_nccl_attached");
    EXPECT(stats[std::string(st::kCuptiNcclUnattached.key)] == 1, "cupti_nccl_unattached");
    bool api_lane = false, stream_lane = false;
    for (const auto& l : rd.lanes(run)) {
        api_lane |= l.lane == lanes::kCudaApi && l.name == "cuda api";
        stream_lane |= l.lane >= lanes::kCudaStreamBase && l.name.rfind("stream ", 0) == 0;
    }
    EXPECT(api_lane && stream_lane, "CUDA lanes named");
    std::filesystem::remove_all(tmpl);
    std::printf("%s\n", g_failures == 0 ? "PASS" : "FAILED");
    return g_failures == 0 ? 0 : 1;
}
}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tst_device_cupti: %s\n", e.what());
        return 1;
    }
}

// CUPTI record conversion, tested with synthetic CUDA 13 activity records built from the real
// headers (no device needed): kernels, copies, memsets, syncs, runtime and driver API calls, NCCL
// kernels attached to their Comm call through a driver launch (cuLaunchKernelEx), record counts
// in the trace's stats, and the GPU tracer's behaviour without a device.
#include <QTemporaryDir>
#include <QTest>

#include <cupti_driver_cbid.h>
#include <cupti_runtime_cbid.h>

#include <cstring>
#include <map>
#include <set>
#include <string>

#include "profiler/cupti_collector.h"
#include "profiler/cupti_convert.h"
#include "profiler/gpu_trace.h"
#include "traces/reader.h"
#include "traces/stats_keys.h"

using namespace ss::profiler;
using namespace ss::profiler::cupti;
namespace stats = ss::traces::stats;

namespace {
std::set<std::string> g_names;
// As the collector's store: readable (demangled) and stored.
const char* store(const char* n) {
    return g_names.insert(demangle(n)).first->c_str();
}
// Stands in for cuptiGetCallbackName: a name per (domain, cbid) the tests use.
const char* api_name(CUpti_CallbackDomain domain, std::uint32_t cbid) {
    if (domain == CUPTI_CB_DOMAIN_RUNTIME_API &&
        cbid == CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000)
        return "cudaLaunchKernel_v7000";
    if (domain == CUPTI_CB_DOMAIN_DRIVER_API && cbid == CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx)
        return "cuLaunchKernelEx";
    return domain == CUPTI_CB_DOMAIN_DRIVER_API ? "other driver call" : "other runtime call";
}
template <typename T>
T zeroed() {
    T t;
    std::memset(&t, 0, sizeof t);
    return t;
}
template <typename T>
Converted conv(const T& rec, const ClockMap& m = ClockMap{}) {
    return convert(reinterpret_cast<const CUpti_Activity*>(&rec), m, store, api_name);
}
KernelRecord kernel_rec(const char* name, std::uint64_t start, std::uint64_t end,
                        std::uint32_t stream, std::uint32_t correlation) {
    auto k = zeroed<KernelRecord>();
    k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    k.name = name;
    k.start = start;
    k.end = end;
    k.streamId = stream;
    k.correlationId = correlation;
    return k;
}
ApiRecord api_rec(CUpti_ActivityKind kind, CUpti_CallbackId cbid, std::uint64_t start,
                  std::uint64_t end, std::uint32_t correlation) {
    auto a = zeroed<ApiRecord>();
    a.kind = kind;
    a.cbid = cbid;
    a.start = start;
    a.end = end;
    a.correlationId = correlation;
    return a;
}
SpanRecord comm_span(std::int64_t start, std::int64_t end, Collective c, std::int64_t bytes,
                     std::int64_t seq) {
    SpanRecord s;
    s.name = "all_reduce";
    s.kind = EventKind::Comm;
    s.lane = lanes::kComm;
    s.start_ns = start;
    s.end_ns = end;
    s.collective = c;
    s.bytes = bytes;
    s.seq = seq;
    s.group_kind = GroupKind::DP;
    s.group_id = 0;
    s.group_size = 2;
    s.step = 3;
    return s;
}
constexpr const char* kNcclName =
    "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)";
}  // namespace

class TestProfilerCupti : public QObject {
    Q_OBJECT
private slots:
    void recordVersionsAreCuda13s() {
        // cupti_activity.h names these structs for the kinds the collector enables.
        QVERIFY((std::is_same_v<KernelRecord, CUpti_ActivityKernel10>));
        QVERIFY((std::is_same_v<ApiRecord, CUpti_ActivityAPI>));
        QVERIFY((std::is_same_v<MemcpyRecord, CUpti_ActivityMemcpy6>));
        QVERIFY((std::is_same_v<MemsetRecord, CUpti_ActivityMemset4>));
        QVERIFY((std::is_same_v<SyncRecord, CUpti_ActivitySynchronization2>));
    }

    void clockMapIsLinear() {
        // CUPTI's clock runs 1 ppm fast and is 5 s ahead of the host clock.
        ClockMap m = ClockMap::from_pairs(5'000'000'000, 0, 15'000'010'000, 10'000'000'000);
        QCOMPARE(m.to_host(5'000'000'000), std::int64_t(0));
        QCOMPARE(m.to_host(15'000'010'000), std::int64_t(10'000'000'000));
        QCOMPARE(m.to_host(10'000'005'000), std::int64_t(5'000'000'000));
        ClockMap same = ClockMap::from_pairs(100, 40, 100, 40);
        QCOMPARE(same.to_host(150), std::int64_t(90));
        // A CLOCK_REALTIME-sized CUPTI clock (the default on Linux) onto a monotonic host clock.
        const std::uint64_t wall = 1'780'000'000'000'000'000ULL;
        ClockMap w = ClockMap::from_pairs(wall, 1'000'000'000, wall + 2'000'000'000, 3'000'000'000);
        QCOMPARE(w.to_host(wall + 1'234'567), std::int64_t(1'001'234'567));
    }

    void convertsKernel() {
        auto k = kernel_rec("ampere_sgemm_128x64_tn", 1'000'500, 1'002'500, 7, 42);
        ClockMap m = ClockMap::from_pairs(1'000'000, 2'000'000, 1'000'000, 2'000'000);
        Converted c = conv(k, m);
        QVERIFY(c.span.has_value());
        QCOMPARE(c.kind, RecordKind::Kernel);
        QVERIFY(!c.nccl());
        QCOMPARE(std::string(c.span->name), std::string("ampere_sgemm_128x64_tn"));
        QVERIFY(c.span->name != k.name);  // stored, not CUPTI's pointer
        QCOMPARE(c.span->kind, EventKind::Kernel);
        QCOMPARE(c.span->start_ns, std::int64_t(2'000'500));
        QCOMPARE(c.span->end_ns, std::int64_t(2'002'500));
        QCOMPARE(c.span->lane, lanes::kCudaStreamBase + 7);
        QCOMPARE(c.span->correlation, std::int64_t(42));
    }

    void recognisesNcclKernels() {
        Converted c = conv(kernel_rec(kNcclName, 10, 20, 13, 5));
        QVERIFY(c.nccl());
        QCOMPARE(c.span->kind, EventKind::Comm);
        QCOMPARE(c.span->lane, lanes::kCudaStreamBase + 13);
        // The collective is NOT parsed from the name: it comes from the Comm call (attach_nccl).
        QCOMPARE(c.span->collective, Collective::None);
    }

    void ncclKernelsAreKnownByTheirMangledNames() {
        // CUPTI reports kernel names mangled; NCCL's are C++ functions.
        const char* mangled =
            "_Z39ncclDevKernel_AllReduce_Sum_f32_RING_LL24ncclDevKernelArgsStorageILm4096EE";
        QCOMPARE(demangle(mangled),
                 std::string(
                     "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)"));
        Converted c = conv(kernel_rec(mangled, 10, 20, 13, 5));
        QVERIFY(c.nccl());
        QCOMPARE(std::string(c.span->name),
                 std::string(
                     "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)"));
        // A one-rank communicator's scaled reduction: a template, with a return type.
        const char* one_rank = "_Z13oneRankReduceI13FuncPreMulSumIfEEvPvPKvmmm";
        QCOMPARE(kernel_base_name(demangle(one_rank)), std::string_view("oneRankReduce"));
        QVERIFY(conv(kernel_rec(one_rank, 10, 20, 13, 6)).nccl());
        // Not NCCL: a namespaced compute kernel, a vendor GEMM, "nccl" not at the start.
        c = conv(kernel_rec("_ZN2ss1k12gelu_forwardEPfi", 10, 20, 7, 7));
        QCOMPARE(c.kind, RecordKind::Kernel);
        QCOMPARE(std::string(c.span->name), std::string("ss::k::gelu_forward(float*, int)"));
        QCOMPARE(kernel_base_name(c.span->name), std::string_view("gelu_forward"));
        QVERIFY(!is_nccl_kernel("ampere_sgemm_128x64_tn"));
        QVERIFY(!is_nccl_kernel("void ss::pack_for_nccl<float>(float*)"));
        QVERIFY(is_nccl_kernel("nccl_scalescope_probe"));  // extern "C": as it is
        QVERIFY(is_nccl_kernel("void nccl::ncclSymkKernel<8>(int)"));
        QCOMPARE(demangle("i"), std::string("i"));  // only "_Z" symbols are demangled
    }

    void convertsMemcpyMemsetSyncAndApi() {
        auto mc = zeroed<MemcpyRecord>();
        mc.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
        mc.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_DTOH;
        mc.bytes = 1 << 20;
        mc.start = 100;
        mc.end = 400;
        mc.streamId = 3;
        mc.correlationId = 9;
        Converted c = conv(mc);
        QCOMPARE(c.kind, RecordKind::Memcpy);
        QCOMPARE(std::string(c.span->name), std::string("memcpy DtoH"));
        QCOMPARE(c.span->kind, EventKind::Memcpy);
        QCOMPARE(c.span->bytes, std::int64_t(1 << 20));
        QCOMPARE(c.span->end_ns - c.span->start_ns, std::int64_t(300));
        QCOMPARE(c.span->correlation, std::int64_t(9));

        auto ms = zeroed<MemsetRecord>();
        ms.kind = CUPTI_ACTIVITY_KIND_MEMSET;
        ms.bytes = 4096;
        ms.streamId = 3;
        ms.start = 7;
        ms.end = 8;
        c = conv(ms);
        QCOMPARE(c.kind, RecordKind::Memset);
        QCOMPARE(c.span->kind, EventKind::Memset);
        QCOMPARE(c.span->bytes, std::int64_t(4096));
        QCOMPARE(c.span->lane, lanes::kCudaStreamBase + 3);

        auto sy = zeroed<SyncRecord>();
        sy.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION;
        sy.type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE;
        sy.streamId = CUPTI_SYNCHRONIZATION_INVALID_VALUE;
        sy.start = 5;
        sy.end = 50;
        c = conv(sy);
        QCOMPARE(c.kind, RecordKind::Sync);
        QCOMPARE(c.span->kind, EventKind::Sync);
        QCOMPARE(std::string(c.span->name), std::string("cudaDeviceSynchronize"));
        QCOMPARE(c.span->lane, kCudaApiLane);

        c = conv(api_rec(CUPTI_ACTIVITY_KIND_RUNTIME,
                         CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 1, 2, 42));
        QCOMPARE(c.kind, RecordKind::Runtime);
        QVERIFY(c.api());
        QCOMPARE(std::string(c.span->name), std::string("cudaLaunchKernel_v7000"));
        QCOMPARE(c.span->kind, EventKind::HostRange);
        QCOMPARE(c.span->lane, kCudaApiLane);
        QCOMPARE(c.span->correlation, std::int64_t(42));
    }

    void convertsDriverApiCalls() {
        // NCCL launches through the driver API: the record is a CUpti_ActivityAPI of kind DRIVER,
        // named in the driver domain, on the same lane as runtime calls.
        Converted c = conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER,
                                   CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 1'000, 1'250, 77));
        QCOMPARE(c.kind, RecordKind::Driver);
        QVERIFY(c.api());
        QVERIFY(c.span.has_value());
        QCOMPARE(std::string(c.span->name), std::string("cuLaunchKernelEx"));
        QCOMPARE(c.span->kind, EventKind::HostRange);
        QCOMPARE(c.span->lane, kCudaApiLane);
        QCOMPARE(c.span->start_ns, std::int64_t(1'000));
        QCOMPARE(c.span->end_ns, std::int64_t(1'250));
        QCOMPARE(c.span->correlation, std::int64_t(77));
        // The same cbid in the runtime domain is another call: the domain follows the record kind.
        c = conv(api_rec(CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 1,
                         2, 1));
        QCOMPARE(std::string(c.span->name), std::string("other runtime call"));
    }

    void cuptiNamesDriverCallbacks() {
        // The collector's name source; needs the CUPTI library only, not a device.
        const char* n = nullptr;
        const CUptiResult rc = cuptiGetCallbackName(CUPTI_CB_DOMAIN_DRIVER_API,
                                                    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, &n);
        if (rc != CUPTI_SUCCESS) QSKIP("cuptiGetCallbackName needs a CUDA driver here");
        QCOMPARE(std::string(n), std::string("cuLaunchKernelEx"));
    }

    void untimedAndUnknownRecords() {
        // Zero timestamps: CUPTI could not time it. End before start: a forced flush of an
        // unfinished record. Neither becomes a span (it would land outside the run).
        Converted c = conv(
            api_rec(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 0, 0, 3));
        QCOMPARE(c.kind, RecordKind::Driver);
        QVERIFY(!c.span);
        QVERIFY(c.untimed());
        c = conv(kernel_rec("k", 500, 0, 7, 4));
        QVERIFY(c.untimed());
        auto marker = zeroed<KernelRecord>();
        marker.kind = CUPTI_ACTIVITY_KIND_MARKER;
        c = conv(marker);
        QCOMPARE(c.kind, RecordKind::Unknown);
        QVERIFY(!c.span);
        QVERIFY(!c.untimed());
    }

    void cudaLanesAreNamed() {
        QCOMPARE(cuda_lane_name(lanes::kCudaApi), std::string("cuda api"));
        QCOMPARE(cuda_lane_name(lanes::kCudaStreamBase + 7), std::string("stream 7"));
        QCOMPARE(cuda_lane_name(lanes::kCompute), std::string());
    }

    void ncclKernelTakesItsCommCallThroughARuntimeLaunch() {
        // Host: two all-reduce Comm spans; the runtime launch of correlation 5 happened inside the
        // second one, so the kernel gets its collective, bytes, group and sequence.
        SpanRecord c1 = comm_span(100, 200, Collective::AllReduce, 111, 0);
        SpanRecord c2 = comm_span(300, 500, Collective::AllReduce, 4096, 1);
        SpanRecord launch =
            *conv(api_rec(CUPTI_ACTIVITY_KIND_RUNTIME,
                          CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 350, 360, 5))
                 .span;
        std::vector<SpanRecord> kernels{
            *conv(kernel_rec(kNcclName, 400, 450, 13, 5)).span,
            *conv(kernel_rec(kNcclName, 400, 450, 13, 6)).span};  // 6: no launch
        QCOMPARE(attach_nccl(kernels, {launch}, {c1, c2}), std::size_t(1));
        QCOMPARE(kernels[0].collective, Collective::AllReduce);
        QCOMPARE(kernels[0].bytes, std::int64_t(4096));
        QCOMPARE(kernels[0].seq, std::int64_t(1));
        QCOMPARE(kernels[0].group_kind, GroupKind::DP);
        QCOMPARE(kernels[0].step, std::int64_t(3));
        QCOMPARE(kernels[1].collective, Collective::None);
    }

    void ncclKernelTakesItsCommCallThroughADriverLaunch() {
        // NCCL's path: Comm span on the host (CommTracer), the cuLaunchKernelEx driver record
        // inside it, the kernel with the same correlation id later on the NCCL stream.
        const ClockMap m =
            ClockMap::from_pairs(5'000'000, 1'000, 5'000'000, 1'000);  // host = CUPTI - 4'999'000
        SpanRecord reduce_scatter = comm_span(2'000, 9'000, Collective::ReduceScatter, 1 << 20, 7);
        reduce_scatter.group_kind = GroupKind::TP;
        reduce_scatter.group_size = 4;
        reduce_scatter.micro_batch = 1;
        SpanRecord all_gather = comm_span(10'000, 20'000, Collective::AllGather, 1 << 22, 8);
        std::vector<SpanRecord> api{
            *conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx,
                          5'002'000, 5'002'500, 90),
                  m)
                 .span,  // host 3000: inside the reduce-scatter
            *conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx,
                          5'010'000, 5'010'600, 91),
                  m)
                 .span,  // host 11000: inside the all-gather
            *conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx,
                          5'020'001, 5'020'500, 92),
                  m)
                 .span};  // host 21001: after both
        QCOMPARE(api[0].start_ns, std::int64_t(3'000));
        std::vector<SpanRecord> kernels{
            *conv(kernel_rec(kNcclName, 5'004'000, 5'030'000, 21, 90), m).span,
            *conv(kernel_rec(kNcclName, 5'011'000, 5'040'000, 21, 91), m).span,
            *conv(kernel_rec(kNcclName, 5'021'000, 5'050'000, 21, 92), m).span};
        QCOMPARE(attach_nccl(kernels, api, {all_gather, reduce_scatter}),
                 std::size_t(2));  // any order
        QCOMPARE(kernels[0].collective, Collective::ReduceScatter);
        QCOMPARE(kernels[0].bytes, std::int64_t(1 << 20));
        QCOMPARE(kernels[0].seq, std::int64_t(7));
        QCOMPARE(kernels[0].group_kind, GroupKind::TP);
        QCOMPARE(kernels[0].group_size, std::int64_t(4));
        QCOMPARE(kernels[0].micro_batch, std::int64_t(1));
        QCOMPARE(kernels[0].kind, EventKind::Comm);
        QCOMPARE(kernels[0].lane, lanes::kCudaStreamBase + 21);  // stays on its stream
        QCOMPARE(kernels[1].collective, Collective::AllGather);
        QCOMPARE(kernels[1].seq, std::int64_t(8));
        // Launched outside every Comm span: stays unattached.
        QCOMPARE(kernels[2].collective, Collective::None);
        QCOMPARE(kernels[2].bytes, ss::traces::kNone);
        QCOMPARE(kernels[2].seq, ss::traces::kNone);
    }

    void overlappedBucketsGoToTheCallThatLaunchedThem() {
        // Overlapped DP buckets: bucket 0 is issued, bucket 1 is issued while 0 is in flight, and
        // both are waited on at the end, so the Comm spans nest. A launch belongs to the innermost
        // (latest-issued) call that contains it.
        SpanRecord b0 = comm_span(100, 1'000, Collective::AllReduce, 1 << 20, 0);
        SpanRecord b1 = comm_span(300, 1'010, Collective::AllReduce, 1 << 21, 1);
        std::vector<SpanRecord> api{
            *conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 110,
                          130, 1))
                 .span,
            *conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 310,
                          330, 2))
                 .span};
        std::vector<SpanRecord> kernels{*conv(kernel_rec(kNcclName, 400, 800, 13, 2)).span,
                                        *conv(kernel_rec(kNcclName, 200, 500, 13, 1)).span};
        QCOMPARE(attach_nccl(kernels, api, {b1, b0}), std::size_t(2));
        QCOMPARE(kernels[0].seq, std::int64_t(1));
        QCOMPARE(kernels[0].bytes, std::int64_t(1 << 21));
        QCOMPARE(kernels[1].seq, std::int64_t(0));
        QCOMPARE(kernels[1].bytes, std::int64_t(1 << 20));
    }

    void attacherWaitsForLateRecordsAcrossFlushes() {
        NcclAttacher a;
        SpanRecord comm = comm_span(100, 200, Collective::AllReduce, 64, 0);
        SpanRecord launch = *conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER,
                                          CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 150, 160, 11))
                                 .span;
        // Flush 1: the Comm call and its launch; the kernel's buffer is not complete yet.
        QVERIFY(a.add({}, {launch}, {comm}, false).empty());
        // Flush 2: the kernel arrives, with an orphan whose launch lies in no Comm span.
        SpanRecord stray = *conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER,
                                         CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 900, 910, 12))
                                .span;
        std::vector<SpanRecord> out = a.add({*conv(kernel_rec(kNcclName, 300, 400, 13, 11)).span,
                                             *conv(kernel_rec(kNcclName, 950, 990, 13, 12)).span},
                                            {stray}, {}, false);
        QCOMPARE(out.size(), std::size_t(1));
        QCOMPARE(out[0].correlation, std::int64_t(11));
        QCOMPARE(out[0].collective, Collective::AllReduce);
        QCOMPARE(a.attached(), std::int64_t(1));
        QCOMPARE(a.waiting(), std::size_t(1));  // the orphan may still get its Comm call
        // The orphan is given up after kWindow flushes, unattached.
        for (int i = 1; i < NcclAttacher::kWindow - 1; ++i)
            QVERIFY(a.add({}, {}, {}, false).empty());
        out = a.add({}, {}, {}, false);
        QCOMPARE(out.size(), std::size_t(1));
        QCOMPARE(out[0].correlation, std::int64_t(12));
        QCOMPARE(out[0].collective, Collective::None);
        QCOMPARE(a.unattached(), std::int64_t(1));
        QCOMPARE(a.waiting(), std::size_t(0));
    }

    void attacherFindsACommCallHandedOverLater() {
        // The kernel and its launch come before the Comm span ends on the host (it is handed over
        // at the next step boundary): attached then; the final flush gives up the rest.
        NcclAttacher a;
        SpanRecord launch = *conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER,
                                          CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 150, 160, 21))
                                 .span;
        QVERIFY(a.add({*conv(kernel_rec(kNcclName, 300, 400, 13, 21)).span,
                       *conv(kernel_rec(kNcclName, 300, 400, 13, 22)).span},
                      {launch}, {}, false)
                    .empty());
        std::vector<SpanRecord> out =
            a.add({}, {}, {comm_span(100, 500, Collective::Broadcast, 8, 4)}, false);
        QCOMPARE(out.size(), std::size_t(1));
        QCOMPARE(out[0].collective, Collective::Broadcast);
        out = a.add({}, {}, {}, true);
        QCOMPARE(out.size(), std::size_t(1));
        QCOMPARE(out[0].correlation, std::int64_t(22));
        QCOMPARE(a.unattached(), std::int64_t(1));
    }

    void recordCountsPerKindReachTheTraceStats() {
        // Records as a flush sees them -> per-kind counts -> deltas into the rank file's stats.
        RecordCounts counts, before;
        for (int i = 0; i < 3; ++i) counts.add(conv(kernel_rec("gemm", 10, 20, 7, 1)));
        counts.add(conv(kernel_rec(kNcclName, 10, 20, 13, 2)));
        counts.add(conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER,
                                CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 1, 2, 2)));
        counts.add(conv(api_rec(CUPTI_ACTIVITY_KIND_DRIVER,
                                CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, 0, 0, 3)));
        for (int i = 0; i < 2; ++i)
            counts.add(conv(api_rec(CUPTI_ACTIVITY_KIND_RUNTIME,
                                    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 1, 2, 4)));
        auto marker = zeroed<KernelRecord>();
        marker.kind = CUPTI_ACTIVITY_KIND_MARKER;
        counts.add(conv(marker));
        QCOMPARE(counts.kernel, std::int64_t(3));
        QCOMPARE(counts.nccl, std::int64_t(1));
        QCOMPARE(counts.driver, std::int64_t(2));
        QCOMPARE(counts.untimed, std::int64_t(1));
        QCOMPARE(counts.runtime, std::int64_t(2));
        QCOMPARE(counts.unknown, std::int64_t(1));

        QTemporaryDir dir;
        const std::string f = dir.filePath(QStringLiteral("counts.sqlite")).toStdString();
        {
            ss::traces::RunInfo run;
            run.name = "cupti";
            Profiler p(ProfilerConfig{.rank_file = f}, run, ss::traces::RankInfo{});
            for (const auto& [k, v] : count_deltas(counts, before)) p.count(k, v);
            before = counts;
            counts.add(conv(kernel_rec("gemm", 10, 20, 7, 1)));  // next flush: one more kernel
            const auto second = count_deltas(counts, before);
            QCOMPARE(second.size(), std::size_t(1));
            for (const auto& [k, v] : second) p.count(k, v);
            p.finish(ss::traces::RunStatus::Completed, "");
        }
        ss::traces::TraceReader rd(f);
        std::map<std::string, std::int64_t> got;
        for (const auto& s : rd.stats(rd.runs().at(0).id)) got[s.key] += s.value;
        QCOMPARE(got[std::string(stats::kCuptiRecordsKernel.key)], std::int64_t(4));
        QCOMPARE(got[std::string(stats::kCuptiRecordsNccl.key)], std::int64_t(1));
        QCOMPARE(got[std::string(stats::kCuptiRecordsDriver.key)], std::int64_t(2));
        QCOMPARE(got[std::string(stats::kCuptiRecordsRuntime.key)], std::int64_t(2));
        QCOMPARE(got[std::string(stats::kCuptiRecordsUntimed.key)], std::int64_t(1));
        QCOMPARE(got[std::string(stats::kCuptiRecordsUnknown.key)], std::int64_t(1));
        QVERIFY(got.find(std::string(stats::kCuptiRecordsMemcpy.key)) ==
                got.end());  // none: no row
        // Counts are not drops; the drop counters still are.
        QVERIFY(stats::is_count_key(stats::kCuptiRecordsDriver.key));
        QVERIFY(!stats::is_count_key(stats::kCuptiRecordsDropped.key));
        QVERIFY(!stats::is_count_key(stats::kCuptiNcclUnattached.key));
    }

    void tracerWithoutDeviceSaysSo() {
        QTemporaryDir dir;
        ss::traces::RunInfo run;
        run.name = "cupti";
        Profiler p(
            ProfilerConfig{.rank_file = dir.filePath(QStringLiteral("r.sqlite")).toStdString()},
            run, ss::traces::RankInfo{});
        QVERIFY(gpu_tracing_built());
        std::string why = "unchanged";
        std::unique_ptr<GpuTracer> t = start_gpu_tracer(p, &why);
        if (t) {  // a machine with a device
            QVERIFY(why.empty());
            QVERIFY2(t->status().find("CUPTI collecting") == 0, t->status().c_str());
            t->step_boundary();
            t->finish();
            return;
        }
        QVERIFY2(why.rfind("no CUDA device: ", 0) == 0, why.c_str());
        QVERIFY(why.size() > std::strlen("no CUDA device: "));  // with the runtime's reason
        qInfo("%s", why.c_str());
        // Nothing is kept for a tracer that did not start.
        SpanRecord c = comm_span(1, 2, Collective::AllReduce, 8, 0);
        p.record(c);
        QVERIFY(p.take_comm_spans().empty());
        // The collector underneath: inactive, flush and finish are no-ops.
        Collector col(p);
        QVERIFY(!col.start());
        QVERIFY(!col.active());
        col.flush({});
        col.finish({});
    }
};

QTEST_GUILESS_MAIN(TestProfilerCupti)
#include "tst_profiler_cupti.moc"

// CUPTI record conversion, tested with synthetic CUDA 13 activity records (no device needed),
// and the collector's behaviour without a device.
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <set>
#include <string>

#include "profiler/cupti_collector.h"
#include "profiler/cupti_convert.h"

using namespace ss::profiler;
using namespace ss::profiler::cupti;

namespace {
std::set<std::string> g_names;
const char* store(const char* n) { return g_names.insert(n).first->c_str(); }
const char* api_name(std::uint32_t cbid) { return cbid == 211 ? "cudaLaunchKernel_v7000" : "other"; }
template <typename T>
T zeroed() {
    T t;
    std::memset(&t, 0, sizeof t);
    return t;
}
}  // namespace

class TestProfilerCupti : public QObject {
    Q_OBJECT
private slots:
    void clockMapIsLinear() {
        // GPU clock runs 1 ppm fast and is 5 s ahead of the host clock.
        ClockMap m = ClockMap::from_pairs(5'000'000'000, 0, 15'000'010'000, 10'000'000'000);
        QCOMPARE(m.to_host(5'000'000'000), std::int64_t(0));
        QCOMPARE(m.to_host(15'000'010'000), std::int64_t(10'000'000'000));
        QCOMPARE(m.to_host(10'000'005'000), std::int64_t(5'000'000'000));
        ClockMap same = ClockMap::from_pairs(100, 40, 100, 40);
        QCOMPARE(same.to_host(150), std::int64_t(90));
    }

    void convertsKernel() {
        auto k = zeroed<KernelRecord>();
        k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
        k.name = "ampere_sgemm_128x64_tn";
        k.start = 1'000'500;
        k.end = 1'002'500;
        k.streamId = 7;
        k.correlationId = 42;
        ClockMap m = ClockMap::from_pairs(1'000'000, 2'000'000, 1'000'000, 2'000'000);
        Converted c = convert(reinterpret_cast<const CUpti_Activity*>(&k), m, store, api_name);
        QVERIFY(c.span.has_value());
        QVERIFY(!c.nccl);
        QCOMPARE(std::string(c.span->name), std::string("ampere_sgemm_128x64_tn"));
        QVERIFY(c.span->name != k.name);  // stored, not CUPTI's pointer
        QCOMPARE(c.span->kind, EventKind::Kernel);
        QCOMPARE(c.span->start_ns, std::int64_t(2'000'500));
        QCOMPARE(c.span->end_ns, std::int64_t(2'002'500));
        QCOMPARE(c.span->lane, lanes::kCudaStreamBase + 7);
        QCOMPARE(c.span->correlation, std::int64_t(42));
    }

    void recognisesNcclKernels() {
        auto k = zeroed<KernelRecord>();
        k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
        k.name = "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)";
        k.start = 10;
        k.end = 20;
        Converted c = convert(reinterpret_cast<const CUpti_Activity*>(&k), ClockMap{}, store, api_name);
        QVERIFY(c.nccl);
        QCOMPARE(c.span->kind, EventKind::Comm);
        // The collective is NOT parsed from the name: it comes from the Comm call (attach_nccl).
        QCOMPARE(c.span->collective, Collective::None);
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
        Converted c = convert(reinterpret_cast<const CUpti_Activity*>(&mc), ClockMap{}, store, api_name);
        QCOMPARE(std::string(c.span->name), std::string("memcpy DtoH"));
        QCOMPARE(c.span->kind, EventKind::Memcpy);
        QCOMPARE(c.span->bytes, std::int64_t(1 << 20));
        QCOMPARE(c.span->end_ns - c.span->start_ns, std::int64_t(300));

        auto ms = zeroed<MemsetRecord>();
        ms.kind = CUPTI_ACTIVITY_KIND_MEMSET;
        ms.bytes = 4096;
        ms.streamId = 3;
        c = convert(reinterpret_cast<const CUpti_Activity*>(&ms), ClockMap{}, store, api_name);
        QCOMPARE(c.span->kind, EventKind::Memset);
        QCOMPARE(c.span->bytes, std::int64_t(4096));

        auto sy = zeroed<SyncRecord>();
        sy.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION;
        sy.type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE;
        sy.streamId = CUPTI_SYNCHRONIZATION_INVALID_VALUE;
        sy.start = 5;
        sy.end = 50;
        c = convert(reinterpret_cast<const CUpti_Activity*>(&sy), ClockMap{}, store, api_name);
        QCOMPARE(c.span->kind, EventKind::Sync);
        QCOMPARE(std::string(c.span->name), std::string("cudaDeviceSynchronize"));
        QCOMPARE(c.span->lane, kCudaApiLane);

        auto api = zeroed<ApiRecord>();
        api.kind = CUPTI_ACTIVITY_KIND_RUNTIME;
        api.cbid = 211;
        api.start = 1;
        api.end = 2;
        api.correlationId = 42;
        c = convert(reinterpret_cast<const CUpti_Activity*>(&api), ClockMap{}, store, api_name);
        QCOMPARE(std::string(c.span->name), std::string("cudaLaunchKernel_v7000"));
        QCOMPARE(c.span->lane, kCudaApiLane);
        QCOMPARE(c.span->correlation, std::int64_t(42));
    }

    void unknownKindIsNotConverted() {
        auto k = zeroed<KernelRecord>();
        k.kind = CUPTI_ACTIVITY_KIND_MARKER;
        QVERIFY(!convert(reinterpret_cast<const CUpti_Activity*>(&k), ClockMap{}, store, api_name).span);
    }

    void ncclKernelTakesItsCommCall() {
        // Host: two all-reduce Comm spans; the runtime launch of correlation 5 happened inside the
        // second one, so the kernel gets its collective, bytes, group and sequence.
        SpanRecord c1, c2, launch, kernel;
        c1.start_ns = 100;
        c1.end_ns = 200;
        c1.collective = Collective::AllReduce;
        c1.bytes = 111;
        c1.seq = 0;
        c2 = c1;
        c2.start_ns = 300;
        c2.end_ns = 500;
        c2.bytes = 4096;
        c2.seq = 1;
        c2.group_kind = GroupKind::DP;
        launch.start_ns = 350;
        launch.end_ns = 360;
        launch.correlation = 5;
        kernel.kind = EventKind::Comm;
        kernel.correlation = 5;
        std::vector<SpanRecord> kernels{kernel};
        SpanRecord orphan = kernel;
        orphan.correlation = 6;  // no launch record
        kernels.push_back(orphan);
        attach_nccl(kernels, {launch}, {c1, c2});
        QCOMPARE(kernels[0].collective, Collective::AllReduce);
        QCOMPARE(kernels[0].bytes, std::int64_t(4096));
        QCOMPARE(kernels[0].seq, std::int64_t(1));
        QCOMPARE(kernels[0].group_kind, GroupKind::DP);
        QCOMPARE(kernels[1].collective, Collective::None);
    }

    void collectorWithoutDeviceReportsIt() {
        QTemporaryDir dir;
        ss::traces::RunInfo run;
        run.name = "cupti";
        ss::traces::RankInfo rank;
        Profiler p(ProfilerConfig{.rank_file = dir.filePath(QStringLiteral("r.sqlite")).toStdString()},
                   run, rank);
        Collector c(p);
        if (c.start()) {
            QVERIFY(c.active());
            QVERIFY(c.status().find("collecting") != std::string::npos);
            return;
        }
        QVERIFY(!c.active());
        QVERIFY2(c.status().rfind("no CUDA device: ", 0) == 0, c.status().c_str());
        c.flush({});  // a no-op, never a crash, when inactive
        qInfo("%s", c.status().c_str());
    }
};

QTEST_GUILESS_MAIN(TestProfilerCupti)
#include "tst_profiler_cupti.moc"

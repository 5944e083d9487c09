// Host tracing: spans into the rank file, context, drops, flush intervals, crash safety, threads.
#include <QTemporaryDir>
#include <QTest>

#include <thread>

#include "kernels/backend.h"
#include "profiler/gpu_trace.h"
#include "profiler/profiler.h"
#include "profiler/traced_backend.h"
#include "traces/reader.h"
#include "traces/stats_keys.h"

using namespace ss;
using namespace ss::profiler;

namespace {
traces::RunInfo run_info() {
    traces::RunInfo r;
    r.name = "prof";
    r.spec_json = "{}";
    r.model = "test";
    r.backend = "cpu";
    return r;
}
traces::RankInfo rank_info(int rank) {
    traces::RankInfo k;
    k.rank = rank;
    k.host = "localhost";
    k.pid = 1;
    k.device = "cpu";
    return k;
}
std::vector<traces::Event> all_events(traces::TraceReader& rd) {
    std::vector<traces::Event> out;
    rd.scan_events(rd.runs().at(0).id, [&](const traces::Event& e) { out.push_back(e); });
    return out;
}
}  // namespace

class TestProfilerHost : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string file(const char* n) { return dir_.filePath(QString::fromUtf8(n)).toStdString(); }

private slots:
    void spansCarryContextAndAttributes() {
        const std::string f = file("ctx.sqlite");
        {
            Profiler p(ProfilerConfig{.rank_file = f}, run_info(), rank_info(3));
            QCOMPARE(Profiler::current(), &p);
            context().step = 7;
            context().micro_batch = 2;
            {
                Span s("gemm", EventKind::Kernel, lanes::kCompute, 1e6);
                s.record().layer = 4;
            }
            {
                Span s("all_reduce", EventKind::Comm, lanes::kComm, -1, 4096);
                s.record().collective = Collective::AllReduce;
                s.record().group_kind = GroupKind::DP;
                s.record().seq = 11;
            }
            context() = SpanContext{};
            p.metric(7, "loss", 1.25);
            p.finish(traces::RunStatus::Completed, "");
            QCOMPARE(Profiler::current(), nullptr);
        }
        traces::TraceReader rd(f);
        auto run = rd.runs().at(0);
        QCOMPARE(run.status, traces::RunStatus::Completed);
        QCOMPARE(run.event_count, std::int64_t(2));
        QCOMPARE(rd.ranks(run.id).at(0).rank, 3);
        auto ev = all_events(rd);
        QCOMPARE(ev.size(), size_t(2));
        QCOMPARE(rd.string(ev[0].name), std::string("gemm"));
        QCOMPARE(ev[0].rank, 3);
        QCOMPARE(ev[0].step, std::int64_t(7));
        QCOMPARE(ev[0].micro_batch, std::int64_t(2));
        QCOMPARE(ev[0].layer, std::int64_t(4));
        QCOMPARE(ev[0].flops, 1e6);
        QCOMPARE(ev[0].lane, lanes::kCompute);
        QVERIFY(ev[0].end_ns >= ev[0].start_ns);
        QCOMPARE(ev[1].collective, Collective::AllReduce);
        QCOMPARE(ev[1].bytes, std::int64_t(4096));
        QCOMPARE(ev[1].seq, std::int64_t(11));
        QVERIFY(ev[1].start_ns >= ev[0].end_ns);
        auto lanes = rd.lanes(run.id);
        bool named = false;
        for (const auto& l : lanes) named |= (l.lane == lanes::kComm && l.name == "comm");
        QVERIFY(named);
        QCOMPARE(rd.metrics(run.id).at(0).value, 1.25);
        QCOMPARE(rd.aggregates(run.id).size(), size_t(2));
    }

    void disabledProfilerRecordsNothing() {
        const std::string f = file("off.sqlite");
        Profiler p(ProfilerConfig{.enabled = false, .rank_file = f}, run_info(), rank_info(0));
        QCOMPARE(Profiler::current(), nullptr);
        Span s("gemm", EventKind::Kernel, lanes::kCompute);
        QVERIFY(!s.active());
        p.finish(traces::RunStatus::Completed, "");
        QVERIFY(!QFile::exists(QString::fromStdString(f)));
    }

    void fullBufferCountsDrops() {
        const std::string f = file("drops.sqlite");
        {
            Profiler p(ProfilerConfig{.rank_file = f, .flush_interval_s = 1e9, .buffer_records = 64},
                       run_info(), rank_info(0));
            for (int i = 0; i < 100; ++i) Span s("k", EventKind::Kernel, lanes::kCompute);
            QCOMPARE(p.spans_dropped(), std::int64_t(0));  // not known until a flush
            p.finish(traces::RunStatus::Completed, "");
            QCOMPARE(p.spans_written(), std::int64_t(64));
            QCOMPARE(p.spans_dropped(), std::int64_t(36));
        }
        traces::TraceReader rd(f);
        auto stats = rd.stats(rd.runs()[0].id);
        QCOMPARE(stats.size(), size_t(1));
        QCOMPARE(stats[0].key, std::string(traces::stats::kRecordsDropped.key) + ".kernel");
        QCOMPARE(stats[0].value, std::int64_t(36));
    }

    void stepBoundaryFlushesWhenDueOrHalfFull() {
        const std::string f = file("interval.sqlite");
        Profiler p(ProfilerConfig{.rank_file = f, .flush_interval_s = 3600, .buffer_records = 64},
                   run_info(), rank_info(0));
        for (int i = 0; i < 10; ++i) Span s("k", EventKind::Kernel, lanes::kCompute);
        p.step_boundary();  // not due, buffer 10/64: the writer is not woken
        p.wait_for_writer();
        QCOMPARE(p.spans_written(), std::int64_t(0));
        for (int i = 0; i < 30; ++i) Span s("k", EventKind::Kernel, lanes::kCompute);
        p.step_boundary();  // 40/64 > half: the writer drains and commits
        p.wait_for_writer();
        QCOMPARE(p.spans_written(), std::int64_t(40));
        // Readable by another connection while the rank is still running.
        traces::TraceReader rd(f);
        QCOMPARE(rd.runs()[0].event_count, std::int64_t(40));
        QCOMPARE(rd.runs()[0].status, traces::RunStatus::Running);
    }

    void flushedSpansSurviveWithoutFinish() {
        const std::string f = file("crash.sqlite");
        {
            Profiler p(ProfilerConfig{.rank_file = f, .flush_interval_s = 0}, run_info(), rank_info(1));
            for (int step = 0; step < 3; ++step) {
                context().step = step;
                Span s("step", EventKind::Step, lanes::kSteps);
            }
            p.step_boundary();  // interval 0: flushes
            context() = SpanContext{};
            // The profiler is destroyed without finish(), as when a rank dies between flushes.
        }
        traces::TraceReader rd(f);
        QCOMPARE(rd.runs()[0].status, traces::RunStatus::Running);
        QCOMPARE(rd.runs()[0].event_count, std::int64_t(3));
        QVERIFY(rd.runs()[0].end_ns > rd.runs()[0].start_ns);
    }

    void spansFromSeveralThreads() {
        const std::string f = file("threads.sqlite");
        {
            Profiler p(ProfilerConfig{.rank_file = f}, run_info(), rank_info(0));
            std::vector<std::thread> threads;
            for (int t = 0; t < 4; ++t)
                threads.emplace_back([] {
                    for (int i = 0; i < 1000; ++i) Span s("worker", EventKind::HostRange, lanes::kHost);
                });
            // Flush concurrently with the producers: nothing may be lost or duplicated.
            for (int i = 0; i < 20; ++i) p.flush();
            for (auto& th : threads) th.join();
            p.finish(traces::RunStatus::Completed, "");
            QCOMPARE(p.spans_written(), std::int64_t(4000));
        }
        traces::TraceReader rd(f);
        QCOMPARE(rd.runs()[0].event_count, std::int64_t(4000));
    }

    void tracedBackendRecordsKernelsWithFlops() {
        const std::string f = file("backend.sqlite");
        auto be = make_traced_backend(kernels::make_cpu_backend());
        const int M = 3, N = 5, K = 7;
        std::vector<float> a(M * K), b(K * N), c(M * N, 0.f), ref(M * N, 0.f);
        for (int i = 0; i < M * K; ++i) a[i] = 0.5f * static_cast<float>(i % 5) - 1.f;
        for (int i = 0; i < K * N; ++i) b[i] = 0.25f * static_cast<float>(i % 7);
        {
            Profiler p(ProfilerConfig{.rank_file = f}, run_info(), rank_info(0));
            be->sgemm(kernels::Trans::No, kernels::Trans::No, M, N, K, 1.f, a.data(), K, b.data(),
                      N, 0.f, c.data(), N);
            std::vector<float> g(10, 1.f), out(10);
            be->gelu_forward(out.data(), g.data(), g.size());
            p.finish(traces::RunStatus::Completed, "");
        }
        // Forwarding is exact: the product equals a plain loop.
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) {
                float s = 0;
                for (int k = 0; k < K; ++k) s += a[i * K + k] * b[k * N + j];
                QVERIFY(std::abs(c[i * N + j] - s) < 1e-5f);
            }
        traces::TraceReader rd(f);
        auto ev = all_events(rd);
        QCOMPARE(ev.size(), size_t(2));
        QCOMPARE(rd.string(ev[0].name), std::string("sgemm"));
        QCOMPARE(ev[0].flops, 2.0 * M * N * K);
        QCOMPARE(rd.string(ev[1].name), std::string("gelu_forward"));
        QCOMPARE(ev[1].flops, -1.0);  // not a counted kernel
        QCOMPARE(linear_backward_flops(4, 8, 16), 4.0 * 4 * 8 * 16);
        QCOMPARE(attention_forward_flops(1, 4, 8), 2.0 * 8 * 4 * 5);
    }

    void commSpansAreKeptForTheGpuTracerOnlyWhenAsked() {
        const std::string f = file("keep.sqlite");
        Profiler p(ProfilerConfig{.rank_file = f}, run_info(), rank_info(0));
        auto comm = [](std::int64_t seq) {
            SpanRecord s;
            s.name = "all_reduce";
            s.kind = EventKind::Comm;
            s.lane = lanes::kComm;
            s.collective = Collective::AllReduce;
            s.seq = seq;
            return s;
        };
        p.record(comm(0));  // before: not kept
        p.keep_comm_spans(true);
        p.record(comm(1));
        SpanRecord nccl_kernel = comm(2);
        nccl_kernel.lane = lanes::kCudaStreamBase + 13;  // a converted NCCL kernel: not a Comm call
        p.record(nccl_kernel);
        {
            Span gemm("gemm", EventKind::Kernel, lanes::kCompute);
        }
        std::thread other([&] { p.record(comm(3)); });  // any thread
        other.join();
        std::vector<SpanRecord> kept = p.take_comm_spans();
        QCOMPARE(kept.size(), size_t(2));
        QCOMPARE(kept[0].seq, std::int64_t(1));
        QCOMPARE(kept[1].seq, std::int64_t(3));
        QVERIFY(p.take_comm_spans().empty());  // handed over once
        p.record(comm(4));
        p.keep_comm_spans(false);  // drops what was kept, keeps nothing more
        p.record(comm(5));
        QVERIFY(p.take_comm_spans().empty());
        p.finish(traces::RunStatus::Completed, "");
        traces::TraceReader rd(f);
        QCOMPARE(all_events(rd).size(), size_t(7));  // all recorded in the trace regardless
    }

    void largeBatchesAreNeverDropped() {
        const std::string f = file("batch.sqlite");
        {
            Profiler p(ProfilerConfig{.rank_file = f, .buffer_records = 16}, run_info(), rank_info(0));
            std::vector<SpanRecord> batch(100);
            for (std::size_t i = 0; i < batch.size(); ++i) {
                batch[i].name = "kernel";
                batch[i].start_ns = static_cast<std::int64_t>(i);
                batch[i].end_ns = batch[i].start_ns + 1;
            }
            p.record_all(batch);
            QCOMPARE(p.spans_dropped(), std::int64_t(0));
            p.finish(traces::RunStatus::Completed, "");
        }
        traces::TraceReader rd(f);
        QCOMPARE(all_events(rd).size(), size_t(100));
        QVERIFY(rd.stats(rd.runs()[0].id).empty());
    }

    void gpuLanesAreNamedThroughTheProfiler() {
        const std::string f = file("lanes.sqlite");
        {
            Profiler p(ProfilerConfig{.rank_file = f}, run_info(), rank_info(0));
            p.define_lane(lanes::kCudaStreamBase + 7, "stream 7");
            SpanRecord k;
            k.name = p.persistent_name(std::string("sgemm_") + "kernel");
            QCOMPARE(p.persistent_name("sgemm_kernel"), k.name);  // interned once
            k.lane = lanes::kCudaStreamBase + 7;
            p.record(k);
            p.finish(traces::RunStatus::Completed, "");
        }
        traces::TraceReader rd(f);
        bool named = false;
        for (const auto& l : rd.lanes(rd.runs().at(0).id))
            named |= l.lane == lanes::kCudaStreamBase + 7 && l.name == "stream 7" && l.event_count == 1;
        QVERIFY(named);
    }

    void gpuTracerStartsOnlyWhereItCan() {
        const std::string f = file("gpu.sqlite");
        Profiler p(ProfilerConfig{.rank_file = f}, run_info(), rank_info(0));
        std::string why;
        std::unique_ptr<GpuTracer> t = start_gpu_tracer(p, &why);
        if (t) {
            QVERIFY(gpu_tracing_built());
            QVERIFY(why.empty());
            t->finish();
            return;
        }
        // Here: no device (CUDA builds) or no CUPTI (builds without the toolkit).
        const std::string want = gpu_tracing_built() ? "no CUDA device: " : "this build has no CUPTI";
        QVERIFY2(why.rfind(want, 0) == 0, why.c_str());
        qInfo("%s", why.c_str());
    }
};

QTEST_GUILESS_MAIN(TestProfilerHost)
#include "tst_profiler_host.moc"

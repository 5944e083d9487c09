// core/analysis on a GPU run as the CUPTI collector records it (tst_core_analysis_fixture.h
// write_gpu_run): device time per CUDA stream and per rank, the overlap of NCCL kernels with
// compute kernels, the breakdown without a compute lane, collectives counted once (host calls, not
// NCCL kernels), non-blocking calls found through the launches they hold, and MFU against the
// matrix rate measured in the run. docs/ANALYSIS.md "GPU streams" defines every number checked
// here.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "core/analysis/analysis.h"
#include "core/spec/spec.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;

namespace {
constexpr double kUs = 1000.0;  // ns per us
const char* kSpec = R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":32}})";

const StreamSummary* stream(const RunAnalysis& a, std::int32_t id) {
    for (const auto& s : a.gpu.streams)
        if (s.stream == id) return &s;
    return nullptr;
}
const CollectiveSummary* collective(const RunAnalysis& a, std::int64_t bytes) {
    for (const auto& c : a.collectives)
        if (c.bytes == bytes) return &c;
    return nullptr;
}
bool close(double a, double b) {
    return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}
}  // namespace

#define QCLOSE(a, b)                                                            \
    QVERIFY2(close((a), (b)), qPrintable(QStringLiteral("%1 = %2, expected %3") \
                                             .arg(#a)                           \
                                             .arg((a), 0, 'g', 12)              \
                                             .arg((b), 0, 'g', 12)))

class TestCoreAnalysisGpu : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path_;

    RunAnalysis analyse(int warmup = 0, double peak = -1) {
        TraceReader rd(path_);
        AnalysisOptions o;
        o.warmup_steps = warmup;
        o.peak_flop_per_s = peak;
        return analyze_run(rd, rd.runs().front().id, o);
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        path_ = dir_.filePath(QStringLiteral("gpu.sqlite")).toStdString();
        TraceWriter w(path_);
        afx::write_gpu_run(w, kSpec);
    }

    // Lanes: a stream is found by its name "stream N", or by its number when the writer left it
    // unnamed; the CUDA API lane is named for the timeline.
    void laneNames() {
        QCOMPARE(stream_of_lane(afx::kGpuStream7, "stream 7"), 7);
        QCOMPARE(stream_of_lane(afx::kGpuStream7, "lane 23"), 7);
        QCOMPARE(stream_of_lane(afx::kGpuStream13, ""), 13);
        QCOMPARE(stream_of_lane(5, "stream 3"), 3);  // another tool's numbering, by name
        QCOMPARE(stream_of_lane(lanes::kCompute, "compute"), -1);
        QCOMPARE(stream_of_lane(lanes::kCudaApi, "lane 15"), -1);
        QCOMPARE(stream_of_lane(40, "my lane"), -1);  // named otherwise: not a stream
        QCOMPARE(stream_of_lane(20, "stream x"), -1);
        QCOMPARE(lane_display_name(lanes::kCudaApi, "lane 15"), std::string("CUDA API"));
        QCOMPARE(lane_display_name(afx::kGpuStream7, "lane 23"), std::string("stream 7"));
        QCOMPARE(lane_display_name(afx::kGpuStream7, "stream 7"), std::string("stream 7"));
        QCOMPARE(lane_display_name(lanes::kComm, "comm"), std::string("comm"));
        QCOMPARE(lane_display_name(lanes::kHost, ""), std::string("host"));
        QCOMPARE(lane_display_name(9, "lane 9"), std::string("lane 9"));
    }

    // Per stream: the union of its compute kernels, NCCL kernels and copies inside each rank's
    // measured steps, per step and rank (÷ measured steps × ranks with steps); syncs are waits,
    // not device time; a copy running past the rank's step end is clipped.
    void timePerStream() {
        const RunAnalysis a = analyse();
        QVERIFY(a.gpu.present());
        QCOMPARE(a.gpu.streams.size(), size_t(3));
        QCOMPARE(a.gpu.streams[0].stream, 7);
        QCOMPARE(a.gpu.streams[1].stream, 13);
        QCOMPARE(a.gpu.streams[2].stream, 14);

        const StreamSummary* s7 = stream(a, 7);
        QCOMPARE(s7->ranks, std::int64_t(2));             // rank 0 names its lane, rank 1 does not
        QCOMPARE(s7->compute_kernels, std::int64_t(18));  // 3 per step, 2 ranks, 3 steps
        QCOMPARE(s7->copies, std::int64_t(7));            // + rank 1's last DtoH
        QCOMPARE(s7->nccl_kernels, std::int64_t(0));
        QCLOSE(s7->per_step.compute_ns, (680 + 580) / 2.0 * kUs);
        QCLOSE(s7->per_step.copy_ns, (6 * 20 + 10) / 6.0 * kUs);  // the DtoH: 10 of its 30 us
        // Rank 0: 20 + 680; rank 1: 20 + 580 (+ 10 in the last step); the sync adds nothing.
        QCLOSE(s7->per_step.busy_ns, (3 * 700 + 3 * 600 + 10) / 6.0 * kUs);
        QCLOSE(s7->busy_all_ranks_ns, (3 * 700 + 3 * 600 + 10) * kUs);
        QCOMPARE(s7->per_step.overlap_ns, 0.0);

        const StreamSummary* s13 = stream(a, 13);
        QCOMPARE(s13->nccl_kernels, std::int64_t(12));
        QCOMPARE(s13->compute_kernels, std::int64_t(0));
        QCLOSE(s13->per_step.nccl_ns, (260 + 310) / 2.0 * kUs);
        QCLOSE(s13->per_step.busy_ns, (260 + 310) / 2.0 * kUs);

        const StreamSummary* s14 = stream(a, 14);
        QCOMPARE(s14->ranks, std::int64_t(1));
        QCOMPARE(s14->compute_kernels, std::int64_t(3));
        QCLOSE(s14->per_step.compute_ns, 50 * kUs);  // rank 0's 100 us over 2 ranks

        // The warm-up is left out of the counts; the per-step means of identical steps stay.
        const RunAnalysis w = analyse(1);
        QCOMPARE(stream(w, 7)->compute_kernels, std::int64_t(12));
        QCLOSE(stream(w, 13)->per_step.nccl_ns, (260 + 310) / 2.0 * kUs);
    }

    // Per rank, unions over all its streams: compute 730 / 580 us, NCCL 260 / 310 us, overlap
    // 230 / 130 us (bias_grad on stream 14 and sgemm_bwd on stream 7 overlap each other and the
    // NCCL kernel: counted once). The run's NCCL/compute overlap is Σ overlap ÷ Σ NCCL =
    // 360 / 570, not the mean of the ranks' fractions.
    void ncclComputeOverlap() {
        const RunAnalysis a = analyse();
        QCOMPARE(a.gpu.ranks.size(), size_t(2));
        const GpuTime& r0 = a.gpu.ranks[0].per_step;
        const GpuTime& r1 = a.gpu.ranks[1].per_step;
        QCLOSE(r0.compute_ns, 730 * kUs);
        QCLOSE(r0.nccl_ns, 260 * kUs);
        QCLOSE(r0.overlap_ns, 230 * kUs);
        QCLOSE(r0.copy_ns, 20 * kUs);
        QCLOSE(r0.busy_ns, 780 * kUs);  // [25,45) + [50,250) + [350,900) + [958,968)
        QCLOSE(r1.compute_ns, 580 * kUs);
        QCLOSE(r1.nccl_ns, 310 * kUs);
        QCLOSE(r1.overlap_ns, 130 * kUs);
        QCLOSE(r1.busy_ns, (780 + 10 / 3.0) * kUs);
        QCLOSE(r0.nccl_overlap(), 230.0 / 260.0);
        QCLOSE(r1.nccl_overlap(), 130.0 / 310.0);
        QCLOSE(a.gpu.overall.nccl_overlap(), 360.0 / 570.0);
        QCLOSE(a.gpu.overall.compute_ns, (730 + 580) / 2.0 * kUs);
        QVERIFY(std::isnan(GpuTime{}.nccl_overlap()));
    }

    // The breakdown takes a GPU rank's compute from its stream records (there is no compute
    // lane): rank 0 computes 20 + 200 + 450 us per step outside the optimizer (adamw is in it),
    // its exposed communication is [800, 820) + the blocking 4-byte call [955, 970) = 35 us; rank
    // 1's [650, 820) + [900, 905) + [955, 970) = 190 us. The parts still add up to the step.
    void breakdownWithoutComputeLane() {
        const RunAnalysis a = analyse();
        QCOMPARE(a.ranks.size(), size_t(2));
        QCLOSE(a.ranks[0].mean.part(Part::Compute), 670 * kUs);
        QCLOSE(a.ranks[1].mean.part(Part::Compute), (520 + 10 / 3.0) * kUs);
        QCLOSE(a.ranks[0].mean.part(Part::ExposedComm), 35 * kUs);
        QCLOSE(a.ranks[1].mean.part(Part::ExposedComm), 190 * kUs);
        QCLOSE(a.ranks[0].mean.part(Part::Optimizer),
               (80 + 50) * kUs);  // [800,950) less [800,820) exposed
        for (const auto& r : a.ranks) QCLOSE(r.mean.sum(), 1000 * kUs);
        QCLOSE(a.overall.sum(), a.step_time.mean_ns);
        // The kernel table holds the stream kernels and copies (NCCL kernels are communication).
        QCOMPARE(a.kernels.size(), size_t(6));
        for (const auto& k : a.kernels) QVERIFY2(k.name.rfind("nccl", 0) != 0, k.name.c_str());
        // Neither a GPU rank without records nor the record counts (cupti_records_kernel, _nccl)
        // are warned about: the fixture has none and the counts are not losses.
        std::string all;
        for (const auto& w : a.warnings) all += w + "; ";
        QVERIFY2(a.warnings.empty(), all.c_str());
    }

    // Collectives come from the host calls only: the NCCL kernels (on a stream, with a
    // correlation id) are the same operations. The big all-reduce's call holds the launch of
    // adamw, a compute kernel: non-blocking, no bandwidth. The 4-byte one holds only its own
    // NCCL launch: blocking, transfer 15 us.
    void collectivesFromHostCalls() {
        const RunAnalysis a = analyse();
        QCOMPARE(a.collectives.size(), size_t(2));
        const CollectiveSummary* big = collective(a, 4194304);
        const CollectiveSummary* small = collective(a, 4);
        QVERIFY(big && small);
        QCOMPARE(big->count, std::int64_t(6));
        QCOMPARE(big->overlapped, std::int64_t(6));
        QVERIFY(std::isnan(big->busbw));
        QCOMPARE(small->count, std::int64_t(6));
        QCOMPARE(small->overlapped, std::int64_t(0));
        QCLOSE(small->transfer_mean_ns, 15 * kUs);
        QCOMPARE(small->instances, std::int64_t(3));  // matched across the 2 ranks by seq
    }

    // MFU: without --peak-flops or a hardware file, the peak is the median of the ranks'
    // matrix_flop_per_s (5.0e13 and 5.2e13: 5.1e13), ahead of a calibration stored in the file;
    // an explicit peak still wins.
    void mfuAgainstMeasuredMatrixRate() {
        {
            TraceWriter w(path_);
            Calibration c;
            c.host = "cpu-host";
            c.hardware_json = R"({"compute":{"sgemm_flops":1e11}})";
            w.add_calibration(c);
        }
        const RunAnalysis a = analyse();
        const Throughput& t = a.throughput;
        QCOMPARE(t.peak_flop_per_s, 5.1e13);
        QCOMPARE(t.peak_source,
                 std::string("cuBLAS fp32 sgemm measured in the run (median of 2 ranks)"));
        QCOMPARE(t.mfu_status, MfuStatus::Known);
        // The matrix FLOPs performed (4·784·64: no input gradient for the first layer, + 6·64·10)
        // × 32 samples per 1000 us step.
        const double model = (4.0 * 784 * 64 + 6.0 * 64 * 10) * 32 / 1e-3;
        QCLOSE(t.model_flop_per_s, model);
        QCLOSE(t.mfu, model / (5.1e13 * 2));
        QVERIFY2(mfu_note(t).find("cuBLAS fp32 sgemm measured in the run") != std::string::npos,
                 mfu_note(t).c_str());
        const RunAnalysis given = analyse(0, 1e12);
        QCOMPARE(given.throughput.peak_source, std::string("--peak-flops"));
        QCLOSE(given.throughput.mfu, model / 2e12);
    }

    // The collector's record counts are not losses; every other counter is.
    void lossCounters() {
        QVERIFY(!is_loss_counter("cupti_records_kernel"));
        QVERIFY(!is_loss_counter("cupti_records_driver"));
        QVERIFY(!is_loss_counter("cupti_records_nccl"));
        QVERIFY(is_loss_counter("cupti_records_dropped"));
        QVERIFY(is_loss_counter("cupti_records_unknown"));
        QVERIFY(is_loss_counter("events_dropped_buffer_full"));
    }

    void measuredPeakIsTheMedianOfRanks() {
        auto m = [](int rank, double v) {
            Metric x;
            x.rank = rank;
            x.name = kMatrixRateMetric;
            x.value = v;
            return x;
        };
        Metric loss = m(0, 1e20);
        loss.name = "loss";
        // Rank 0 measured twice (median 3), ranks 1 and 2 once: median of {3, 10, 1} = 3.
        const PeakFlops p =
            measured_matrix_peak({m(0, 2), m(0, 4), m(1, 10), m(2, 1), loss, m(3, -5)});
        QCOMPARE(p.flop_per_s, 3.0);
        QCOMPARE(p.source,
                 std::string("cuBLAS fp32 sgemm measured in the run (median of 3 ranks)"));
        QCOMPARE(measured_matrix_peak({loss}).flop_per_s, -1.0);
        QCOMPARE(measured_matrix_peak({m(0, 7)}).source,
                 std::string("cuBLAS fp32 sgemm measured in the run (median of 1 rank)"));
    }

    // A GPU rank without stream records (CUPTI off) is named in a warning, and so are dropped
    // CUPTI records; a CPU run has no GPU section.
    void degradesWithoutStreams() {
        const std::string path = dir_.filePath(QStringLiteral("silent.sqlite")).toStdString();
        {
            TraceWriter w(path);
            RunInfo ri = afx::info("silent", 1, kSpec);
            ri.backend = "cuda";
            RunId run = w.begin_run(ri);
            RankInfo k;
            k.run = run;
            k.rank = 0;
            k.device = "cuda:0 (NVIDIA H200)";
            k.clock_corrected = true;
            w.put_rank(k);
            afx::define_lanes(w, run, 0);
            for (const char* line :
                 {"step step 0 1000 lane=0 step=0", "phase forward 0 600 lane=1",
                  "comm all_reduce 600 900 lane=3 coll=all_reduce group=dp gid=0 gsize=1 seq=0"})
                w.add_event(fixture::parse_event(w, run, 0, line));
            w.add_stat(run, 0, "cupti_records_dropped", 3);
            w.add_stat(run, 0, "cupti_records_kernel", 0);
            w.set_run_times(run, 0, 1000);
            w.finish_run(run, RunStatus::Completed, "", 1000);
        }
        TraceReader rd(path);
        AnalysisOptions o;
        o.warmup_steps = 0;
        const RunAnalysis a = analyze_run(rd, rd.runs().front().id, o);
        QVERIFY(!a.gpu.present());
        bool named = false;
        for (const auto& w : a.warnings)
            named |=
                w.find("rank(s) 0 ran on a GPU but recorded no kernels on CUDA stream lanes") !=
                std::string::npos;
        QVERIFY(named);
        bool dropped = false;
        for (const auto& w : a.warnings)
            dropped |=
                w == "3 record(s) counted as cupti_records_dropped: the breakdown may undercount";
        QVERIFY(dropped);

        const std::string cpu = dir_.filePath(QStringLiteral("cpu.sqlite")).toStdString();
        {
            TraceWriter w(cpu);
            afx::write_run(w, afx::info("cpu", 2, kSpec),
                           {{0, afx::bucket_rank_text(90)}, {1, afx::bucket_rank_text(130)}});
        }
        TraceReader rc(cpu);
        const RunAnalysis c = analyze_run(rc, rc.runs().front().id, o);
        QVERIFY(!c.gpu.present());
        QVERIFY(c.gpu.ranks.empty());
        for (const auto& w : c.warnings) QVERIFY2(w.find("GPU") == std::string::npos, w.c_str());
    }
};

QTEST_APPLESS_MAIN(TestCoreAnalysisGpu)
#include "tst_core_analysis_gpu.moc"

// GPU kernel time as Holistic Trace Analysis defines it (docs/ANALYSIS.md "GPU kernel time (HTA)")
// on runs as an importer writes them (tst_core_analysis_fixture.h write_imported_run) and on our
// own GPU run (write_gpu_run): the temporal breakdown, the kernel-type breakdown with its
// overlaps, the communication-computation overlap, top kernels, collectives from NCCL kernels, a
// run without steps, HTA's TraceDiff between two runs, and the CLI tables. Every expected value
// is worked out by hand in the comments.
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/analysis/analysis.h"
#include "core/analysis/compare.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;
using nlohmann::json;

namespace {
constexpr double kUs = 1000.0;
bool close(double a, double b) {
    return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}
const TopKernel* top(const RunAnalysis& a, KernelType t, const std::string& name) {
    for (const auto& k : a.hta.top_kernels)
        if (k.type == t && k.name == name) return &k;
    return nullptr;
}
const OpDiff* op(const RunComparison& c, const std::string& name, bool gpu) {
    for (const auto& o : c.ops)
        if (o.name == name && o.gpu == gpu) return &o;
    return nullptr;
}
// Bits of the kernel-type states: 1 computation, 2 communication, 4 memory.
constexpr int kComp = 1, kComm = 2, kMem = 4;
}  // namespace

#define QCLOSE(a, b)                                                            \
    QVERIFY2(close((a), (b)), qPrintable(QStringLiteral("%1 = %2, expected %3") \
                                             .arg(#a)                           \
                                             .arg((a), 0, 'g', 12)              \
                                             .arg((b), 0, 'g', 12)))

class TestCoreAnalysisHta : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string imported_, gpu_;

    static RunAnalysis analyse(const std::string& path, int index = 0) {
        TraceReader rd(path);
        AnalysisOptions o;
        o.warmup_steps = 0;
        return analyze_run(rd, rd.runs().at(static_cast<size_t>(index)).id, o);
    }
    struct Result {
        int code;
        std::string out, err;
    };
    static Result cli(const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI), args);
        if (!p.waitForFinished(60000)) return {-1, "", "timeout"};
        return {p.exitCode(), p.readAllStandardOutput().toStdString(),
                p.readAllStandardError().toStdString()};
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        imported_ = dir_.filePath(QStringLiteral("imported.sqlite")).toStdString();
        gpu_ = dir_.filePath(QStringLiteral("gpu.sqlite")).toStdString();
        {
            TraceWriter w(imported_);
            afx::write_imported_run(w, false, "control");
            afx::write_imported_run(w, true, "test");
        }
        {
            TraceWriter w(gpu_);
            afx::write_gpu_run(
                w, R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":32}})");
        }
        // For screenshots of the pages on these runs (scalescope --screenshot PAGE PNG FILE).
        const QByteArray keep = qgetenv("SCALESCOPE_TEST_SHOT_DIR");
        if (!keep.isEmpty())
            for (const auto& f : {imported_, gpu_}) {
                const QString to = QString::fromLocal8Bit(keep) + QLatin1Char('/') +
                                   QFileInfo(QString::fromStdString(f)).fileName();
                QFile::remove(to);
                QVERIFY(QFile::copy(QString::fromStdString(f), to));
            }
    }

    // No step event: each rank's window is its whole trace span ([0,1000) and [0,600)), one
    // "step" per rank, said so in a warning; the step breakdown still adds up to the window.
    void runWithoutSteps() {
        const RunAnalysis a = analyse(imported_);
        QVERIFY(a.whole_trace);
        QCOMPARE(a.steps.size(), size_t(1));
        QCOMPARE(a.steps[0].time_ns(), std::int64_t(1000));
        QVERIFY2(!a.warnings.empty() &&
                     a.warnings.front() ==
                         "run 1 has no step events: each rank's step window is its whole trace "
                         "span (first event start to last event end)",
                 a.warnings.empty() ? "" : a.warnings.front().c_str());
        for (const auto& w : a.warnings)
            QVERIFY2(w.find("measured step(s)") == std::string::npos, w.c_str());
        for (const auto& r : a.ranks) QCLOSE(r.mean.sum(), 1000.0);
        // The run with steps (variant B) is not whole-trace.
        QVERIFY(!analyse(imported_, 1).whole_trace);
    }

    // Temporal breakdown, per rank over its window: rank 0 runs some kernel in [100,800) = 700 of
    // 1000 (idle 300), computation [100,400)+[650,800) = 450, non-compute 700 − 450 = 250; rank 1
    // in [100,600) = 500 of 600 (idle 100), computation 200, non-compute 300. The run: the mean.
    void temporalBreakdown() {
        const RunAnalysis a = analyse(imported_);
        QVERIFY(a.hta.present());
        QCOMPARE(a.hta.ranks.size(), size_t(2));
        const HtaRank& r0 = a.hta.ranks[0];
        const HtaRank& r1 = a.hta.ranks[1];
        QCLOSE(r0.window_ns, 1000.0);
        QCLOSE(r0.idle_ns, 300.0);
        QCLOSE(r0.compute_ns, 450.0);
        QCLOSE(r0.non_compute_ns, 250.0);
        QCLOSE(r1.window_ns, 600.0);
        QCLOSE(r1.idle_ns, 100.0);
        QCLOSE(r1.compute_ns, 200.0);
        QCLOSE(r1.non_compute_ns, 300.0);
        QCOMPARE(a.hta.overall.rank, -1);
        QCLOSE(a.hta.overall.window_ns, 800.0);
        QCLOSE(a.hta.overall.idle_ns, 200.0);
        QCLOSE(a.hta.overall.compute_ns, 325.0);
        QCLOSE(a.hta.overall.non_compute_ns, 275.0);
    }

    // Kernel-type breakdown, rank 0: computation alone [100,300)+[700,800) = 300; computation with
    // communication [300,350)+[380,400) = 70; all three (the Memset) [350,380) = 30; communication
    // alone [400,500) = 100; communication with memory [500,600) = 100; memory alone [600,650) =
    // 50; computation with memory [650,700) = 50. Rank 1: computation alone 100, both [200,300) =
    // 100, communication alone [300,600) = 300. The states add up to the busy time (700, 500).
    void kernelTypeBreakdown() {
        const RunAnalysis a = analyse(imported_);
        const auto& s0 = a.hta.ranks[0].state_ns;
        QCLOSE(s0[kComp], 300.0);
        QCLOSE(s0[kComp | kComm], 70.0);
        QCLOSE(s0[kComp | kComm | kMem], 30.0);
        QCLOSE(s0[kComm], 100.0);
        QCLOSE(s0[kComm | kMem], 100.0);
        QCLOSE(s0[kMem], 50.0);
        QCLOSE(s0[kComp | kMem], 50.0);
        QCOMPARE(s0[0], 0.0);
        const auto& s1 = a.hta.ranks[1].state_ns;
        QCLOSE(s1[kComp], 100.0);
        QCLOSE(s1[kComp | kComm], 100.0);
        QCLOSE(s1[kComm], 300.0);
        QCLOSE(s1[kMem] + s1[kComp | kMem] + s1[kComm | kMem] + s1[kComp | kComm | kMem], 0.0);
        const auto& o = a.hta.overall.state_ns;
        QCLOSE(o[kComp], 200.0);
        QCLOSE(o[kComm], 200.0);
        QCLOSE(o[kComp | kComm], 85.0);
        QCLOSE(o[kComp | kComm | kMem], 15.0);
        double busy = 0;
        for (double v : o) busy += v;
        QCLOSE(busy, 600.0);
        QCOMPARE(kernel_state_name(kComp | kComm),
                 std::string("computation overlapping communication"));
        QCOMPARE(kernel_state_name(kComp | kComm | kMem),
                 std::string("computation overlapping communication overlapping memory"));
        QCOMPARE(kernel_state_name(kMem), std::string("memory"));
    }

    // HTA's communication-computation overlap: comm ∩ computation ÷ comm. Rank 0: 100 / 300; rank
    // 1: 100 / 400; the run: Σ ÷ Σ = 200 / 700 (not the mean of the ratios, 0.2917). The same
    // number as the GPU streams' NCCL/compute overlap.
    void commCompOverlap() {
        const RunAnalysis a = analyse(imported_);
        QCLOSE(a.hta.ranks[0].comm_comp_overlap(), 1.0 / 3.0);
        QCLOSE(a.hta.ranks[1].comm_comp_overlap(), 0.25);
        QCLOSE(a.hta.overall.comm_comp_overlap(), 200.0 / 700.0);
        QCLOSE(a.gpu.overall.nccl_overlap(), 200.0 / 700.0);
        QCLOSE(a.gpu.ranks[1].per_step.nccl_overlap(), 0.25);
        QVERIFY(std::isnan(HtaRank{}.comm_comp_overlap()));
    }

    // Top kernels per type, all ranks: computation gemm 300 + 200 (2 calls), gemm2 150; the NCCL
    // kernel 300 and 400 (mean 350, sample std. dev. 70.71, share 1); memory Memcpy_HtoD 200,
    // Memset 30. Per step and rank: total ÷ (1 step × 2 ranks).
    void topKernels() {
        const RunAnalysis a = analyse(imported_);
        QCOMPARE(a.hta.top_kernels.size(), size_t(5));
        QCOMPARE(a.hta.top_kernels[0].name,
                 std::string("gemm"));  // computation first, longest first
        const TopKernel* gemm = top(a, KernelType::Computation, "gemm");
        QVERIFY(gemm);
        QCOMPARE(gemm->count, std::int64_t(2));
        QCOMPARE(gemm->total_ns, std::int64_t(500));
        QCLOSE(gemm->share, 500.0 / 650.0);
        QCLOSE(gemm->per_step_ns, 250.0);
        QCOMPARE(gemm->min_ns, std::int64_t(200));
        QCOMPARE(gemm->max_ns, std::int64_t(300));
        const TopKernel* nccl =
            top(a, KernelType::Communication, "ncclDevKernel_AllReduce_Sum_f32_RING_LL");
        QVERIFY(nccl);
        QCOMPARE(nccl->count, std::int64_t(2));
        QCLOSE(nccl->mean_ns, 350.0);
        QCLOSE(nccl->stddev_ns, std::sqrt(2 * 50.0 * 50.0));
        QCLOSE(nccl->share, 1.0);
        QCOMPARE(top(a, KernelType::Memory, "Memcpy_HtoD")->total_ns, std::int64_t(200));
        QCOMPARE(top(a, KernelType::Memory, "Memset")->total_ns, std::int64_t(30));
        QVERIFY(!top(a, KernelType::Computation, "ncclDevKernel_AllReduce_Sum_f32_RING_LL"));
    }

    // More than kTopKernels names of a type: the longest ten, then one "others" row.
    void topKernelsOthers() {
        const std::string path = dir_.filePath(QStringLiteral("many.sqlite")).toStdString();
        {
            TraceWriter w(path);
            std::string text;
            const std::string lane = " lane=" + std::to_string(lanes::kCudaStreamBase);
            for (int i = 0; i < 12; ++i)  // k00 lasts 12 ns ... k11 1 ns, back to back
                text += "kernel k" + std::string(i < 10 ? "0" : "") + std::to_string(i) + " " +
                        std::to_string(100 * i) + " " + std::to_string(100 * i + 12 - i) + lane +
                        "\n";
            RunInfo ri = afx::info("many", 1, "");
            RunId run = w.begin_run(ri);
            RankInfo k;
            k.run = run;
            k.rank = 0;
            w.put_rank(k);
            w.define_lane(run, 0, lanes::kCudaStreamBase, "stream 0");
            std::istringstream lines(text);
            std::string line;
            while (std::getline(lines, line)) w.add_event(fixture::parse_event(w, run, 0, line));
            w.finish_run(run, RunStatus::Completed, "", 1200);
        }
        const RunAnalysis a = analyse(path);
        QCOMPARE(a.hta.top_kernels.size(), size_t(kTopKernels + 1));
        QCOMPARE(a.hta.top_kernels[0].name, std::string("k00"));
        const TopKernel& others = a.hta.top_kernels.back();
        QCOMPARE(others.name, std::string("others"));
        QCOMPARE(others.count, std::int64_t(2));
        QCOMPARE(others.total_ns, std::int64_t(2 + 1));
        QCLOSE(others.share, 3.0 / 78.0);  // 12 + 11 + ... + 1 = 78
    }

    // No host-side call on the "comm" lane (rank 0's nccl:all_reduce on its thread spans the
    // enqueue only): the NCCL kernels that carry a collective are the calls. Each is a
    // transfer on the GPU (never "overlapped"): 300 and 400 ns, mean 350, algbw = 4 MiB ÷ 350 ns,
    // busbw = algbw × 2(2−1)/2; busy 300 + 400; skew = issue 300 − 200 = 100 ns.
    void collectivesFromNcclKernels() {
        const RunAnalysis a = analyse(imported_);
        QCOMPARE(a.collectives.size(), size_t(1));
        const CollectiveSummary& c = a.collectives[0];
        QCOMPARE(c.collective, Collective::AllReduce);
        QCOMPARE(c.count, std::int64_t(2));
        QCOMPARE(c.bytes, std::int64_t(4194304));
        QCOMPARE(c.overlapped, std::int64_t(0));
        QCLOSE(c.transfer_mean_ns, 350.0);
        QCLOSE(c.algbw, 4194304.0 / 350e-9);
        QCLOSE(c.busbw, 4194304.0 / 350e-9);
        QCOMPARE(c.total_ns, std::int64_t(700));
        QCOMPARE(c.instances, std::int64_t(1));
        QCOMPARE(c.skew_max_ns, std::int64_t(100));
        // Our GPU run has host calls: those stay the rows (the NCCL kernels are not counted twice).
        const RunAnalysis g = analyse(gpu_);
        std::int64_t calls = 0;
        for (const auto& x : g.collectives) calls += x.count;
        QCOMPARE(calls, std::int64_t(12));
    }

    // Our own GPU run (docs/ANALYSIS.md "GPU streams" worked example), per 1000 us step: rank 0
    // busy 780 us (idle 220), computation 730, non-compute 50; rank 1 busy 780 + 10/3 (the last
    // step's DtoH), computation 580. States of rank 0: computation alone 730 − 230 = 500, with
    // communication 230, communication alone 30, memory alone 20.
    void ourGpuRun() {
        const RunAnalysis a = analyse(gpu_);
        QVERIFY(!a.whole_trace);
        const HtaRank& r0 = a.hta.ranks[0];
        QCLOSE(r0.window_ns, 1000 * kUs);
        QCLOSE(r0.idle_ns, 220 * kUs);
        QCLOSE(r0.compute_ns, 730 * kUs);
        QCLOSE(r0.non_compute_ns, 50 * kUs);
        QCLOSE(r0.state_ns[kComp], 500 * kUs);
        QCLOSE(r0.state_ns[kComp | kComm], 230 * kUs);
        QCLOSE(r0.state_ns[kComm], 30 * kUs);
        QCLOSE(r0.state_ns[kMem], 20 * kUs);
        const HtaRank& r1 = a.hta.ranks[1];
        QCLOSE(r1.compute_ns, 580 * kUs);
        QCLOSE(r1.non_compute_ns, (200 + 10 / 3.0) * kUs);
        QCLOSE(r1.idle_ns, (220 - 10 / 3.0) * kUs);
        QCLOSE(a.hta.overall.comm_comp_overlap(), 360.0 / 570.0);
    }

    // HTA's TraceDiff between the run without steps (A) and the one with (B), per step and rank
    // (1 step × 2 ranks): gemm 1 → 1.5 calls (increased), 250 → 295 ns; gemm2 removed (75 → 0);
    // relu added (0 → 25); the launches 1 → 0.5 (decreased); the NCCL kernel and aten::mm
    // unchanged. Host and GPU sides are apart.
    void traceDiff() {
        const RunComparison c = compare_runs(analyse(imported_, 0), analyse(imported_, 1));
        const OpDiff* gemm = op(c, "gemm", true);
        QVERIFY(gemm);
        QCOMPARE(gemm->change, OpChange::Increased);
        QCLOSE(gemm->count_per_step.a, 1.0);
        QCLOSE(gemm->count_per_step.b, 1.5);
        QCLOSE(gemm->per_step_ns.a, 250.0);
        QCLOSE(gemm->per_step_ns.b, 295.0);
        QCLOSE(gemm->per_step_ns.abs, 45.0);
        QCOMPARE(op(c, "gemm2", true)->change, OpChange::Removed);
        QCLOSE(op(c, "gemm2", true)->per_step_ns.abs, -75.0);
        QCOMPARE(op(c, "relu", true)->change, OpChange::Added);
        QCLOSE(op(c, "relu", true)->per_step_ns.b, 25.0);
        QCOMPARE(op(c, "cudaLaunchKernel", false)->change, OpChange::Decreased);
        QCLOSE(op(c, "cudaLaunchKernel", false)->count_per_step.b, 0.5);
        QCOMPARE(op(c, "ncclDevKernel_AllReduce_Sum_f32_RING_LL", true)->change,
                 OpChange::Unchanged);
        QCOMPARE(op(c, "aten::mm", false)->change, OpChange::Unchanged);
        QVERIFY(!op(c, "aten::mm", true));
        QVERIFY(!op(c, "ProfilerStep#1", false));  // steps are the step breakdown's, not ops
        QCOMPARE(c.ops.size(), size_t(10));
        QCOMPARE(op(c, "nccl:all_reduce", false)->change, OpChange::Unchanged);
        QCOMPARE(c.ops[0].name, std::string("gemm2"));  // largest |Δ time| first: 75, 45, 25, ...
        // The step breakdown deltas are there too: both runs' steps add up to 1000 ns.
        QCLOSE(c.breakdown[kPartCount].d.a, 1000.0);
        QCLOSE(c.breakdown[kPartCount].d.b, 1000.0);
        QCOMPARE(op_change(0, 0), OpChange::Unchanged);
        QCOMPARE(op_change(2, 2 + 1e-12), OpChange::Unchanged);
    }

    // The CLI: stats prints the HTA tables for a GPU run (JSON: values in us and percent), and
    // compare lists every op with its change.
    void cliTables() {
        const QString file = QString::fromStdString(imported_);
        Result s = cli({QStringLiteral("stats"), file, QStringLiteral("--run"), QStringLiteral("1"),
                        QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(s.code == 0, s.err.c_str());
        const json j = json::parse(s.out);
        QCOMPARE(j["run"][0]["step_window"].get<std::string>(),
                 std::string("whole trace (no step events)"));
        const json& all = j["temporal_breakdown"][0];
        QCOMPARE(all["rank"].get<std::string>(), std::string("all"));
        QCOMPARE(all["idle_us"].get<double>(), 0.2);
        QCOMPARE(all["compute_us"].get<double>(), 0.325);
        QCOMPARE(all["idle_pct"].get<double>(), 25.0);
        QVERIFY(close(all["comm_comp_overlap_pct"].get<double>(), 100.0 * 200 / 700));
        QCOMPARE(j["temporal_breakdown"][2]["window_us"].get<double>(), 0.6);
        bool both = false;
        for (const auto& r : j["kernel_types"])
            if (r["kernel_type"] == "computation overlapping communication")
                both = close(r["per_step_us"].get<double>(), 0.085) &&
                       close(r["share_pct"].get<double>(), 85.0 / 6);
        QVERIFY(both);
        QCOMPARE(j["top_kernels"][0]["name"].get<std::string>(), std::string("gemm"));
        QCOMPARE(j["top_kernels"][0]["count"].get<int>(), 2);
        QCOMPARE(j["collectives"][0]["busbw_gbps"].get<double>(), 4194304.0 / 350);

        Result c =
            cli({QStringLiteral("compare"), file + QStringLiteral(":1"),
                 file + QStringLiteral(":2"), QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(c.code == 0, c.err.c_str());
        const json k = json::parse(c.out);
        std::map<std::string, std::string> change;
        for (const auto& r : k["ops"])
            change[r["name"].get<std::string>() + "/" + r["side"].get<std::string>()] = r["change"];
        QCOMPARE(change["relu/gpu"], std::string("added"));
        QCOMPARE(change["gemm2/gpu"], std::string("removed"));
        QCOMPARE(change["gemm/gpu"], std::string("increased"));
        QCOMPARE(change["cudaLaunchKernel/host"], std::string("decreased"));
        QCOMPARE(change["aten::mm/host"], std::string("unchanged"));
        std::map<std::string, int> counts;
        for (const auto& r : k["op_changes"])
            counts[r["change"].get<std::string>()] = r["ops"].get<int>();
        QCOMPARE(counts["added"], 1);
        QCOMPARE(counts["removed"], 1);
        QCOMPARE(counts["increased"], 1);
        QCOMPARE(counts["decreased"], 1);
        QCOMPARE(counts["unchanged"], 6);
        // The table format names the tables.
        Result t =
            cli({QStringLiteral("stats"), file, QStringLiteral("--run"), QStringLiteral("1")});
        QVERIFY2(t.out.find("temporal_breakdown") != std::string::npos &&
                     t.out.find("top_kernels") != std::string::npos,
                 t.out.c_str());
    }
};

QTEST_GUILESS_MAIN(TestCoreAnalysisHta)
#include "tst_core_analysis_hta.moc"

// core/analysis/analysis: the breakdown of a hand-built two-rank trace against the hand computation, the
// parts adding up to the step time, warm-up, kernel and collective summaries (busbw, skew),
// throughput and MFU, and errors on bad input.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <random>

#include "core/analysis/analysis.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;

namespace {
double part(const Breakdown& b, Part p) { return b.part(p); }

const KernelSummary* kernel(const RunAnalysis& a, const std::string& name) {
    for (const auto& k : a.kernels)
        if (k.name == name) return &k;
    return nullptr;
}
const CollectiveSummary* collective(const RunAnalysis& a, Collective c) {
    for (const auto& s : a.collectives)
        if (s.collective == c) return &s;
    return nullptr;
}

// The hand-built trace (ns). docs/ANALYSIS.md walks through the same numbers.
// rank 0, step [0,100):   data [0,10) with a send to rank 1 in [5,10); forward kernel [10,30);
//   backward kernel [30,60); dp all-reduce [45,75) (15 overlapped, 15 exposed); nothing [75,80);
//   optimizer phase [80,95) with adamw [82,90); nothing [95,100).
// rank 1, step [10,120):  recv from rank 0 [10,40) (a pipeline wait); forward kernel [40,60);
//   dp all-reduce [50,90) (10 overlapped, 30 exposed); host bookkeeping [90,100);
//   optimizer phase [100,115) with adamw [100,110); nothing [115,120).
const char* kRank0 = R"(
step step 0 100 lane=0 step=0
phase forward 0 30 lane=1 mb=0
host data 0 10 lane=4
comm send 5 10 lane=3 coll=send group=pp gid=0 gsize=2 peer=1 seq=0 bytes=500
kernel linear_forward 10 30 lane=2 flops=2000
phase backward 30 70 lane=1 mb=0
kernel linear_backward 30 60 lane=2
comm all_reduce 45 75 lane=3 coll=all_reduce group=dp gid=0 gsize=2 seq=0 bytes=1000
phase optimizer 80 95 lane=1
kernel adamw_update 82 90 lane=2
)";
const char* kRank1 = R"(
step step 10 120 lane=0 step=0
phase forward 10 60 lane=1 mb=0
comm recv 10 40 lane=3 coll=recv group=pp gid=0 gsize=2 peer=0 seq=0 bytes=500
kernel linear_forward 40 60 lane=2 flops=2000
comm all_reduce 50 90 lane=3 coll=all_reduce group=dp gid=0 gsize=2 seq=0 bytes=1000
host bookkeeping 90 100 lane=4
phase optimizer 100 115 lane=1
kernel adamw_update 100 110 lane=2
)";
const char* kSpec = R"({"name":"hand","model":{"kind":"mlp","hidden":[16]},"training":{"global_batch":8}})";
}  // namespace

class TestCoreAnalysis : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path(const char* n) { return dir_.filePath(QString::fromUtf8(n)).toStdString(); }

private slots:
    void intervals() {
        auto u = union_of({{5, 10}, {0, 3}, {3, 4}, {8, 12}, {20, 20}, {15, 16}});
        QCOMPARE(u.size(), size_t(3));
        QCOMPARE(u[0], (Interval{0, 4}));
        QCOMPARE(u[1], (Interval{5, 12}));
        QCOMPARE(u[2], (Interval{15, 16}));
        QCOMPARE(total_length(u), std::int64_t(12));
    }

    void handBuiltTwoRankBreakdown() {
        const std::string f = path("hand.sqlite");
        RunId run;
        {
            TraceWriter w(f);
            run = afx::write_run(w, afx::info("hand", 2, kSpec), {{0, kRank0}, {1, kRank1}});
        }
        TraceReader rd(f);
        AnalysisOptions opt;
        opt.warmup_steps = 0;
        opt.peak_flop_per_s = 1e13;
        const RunAnalysis a = analyze_run(rd, run, opt);

        QCOMPARE(a.steps.size(), size_t(1));
        QCOMPARE(a.steps[0].time_ns(), std::int64_t(120));  // earliest start 0, latest end 120
        QCOMPARE(a.step_time.median_ns, 120.0);
        QCOMPARE(a.ranks.size(), size_t(2));

        // Rank 0: compute 20+15+15, exposed 10+5, data 10, optimizer 2+8+5, idle 5+5 + 20 outside
        // its own step span [0,100) of the window [0,120).
        const Breakdown& r0 = a.ranks[0].mean;
        QCOMPARE(part(r0, Part::Compute), 50.0);
        QCOMPARE(part(r0, Part::ExposedComm), 15.0);
        QCOMPARE(part(r0, Part::Bubble), 0.0);
        QCOMPARE(part(r0, Part::Data), 10.0);
        QCOMPARE(part(r0, Part::Optimizer), 15.0);
        QCOMPARE(part(r0, Part::OtherHost), 0.0);
        QCOMPARE(part(r0, Part::Idle), 30.0);
        QCOMPARE(r0.sum(), 120.0);
        QCOMPARE(r0.comm_ns, 35.0);        // [5,10) + [45,75)
        QCOMPARE(r0.overlapped_ns, 15.0);  // [45,60)
        QCOMPARE(r0.compute_ns, 58.0);     // every kernel, adamw included

        // Rank 1: recv wait 30 is the bubble; compute 20; exposed 30; bookkeeping 10; optimizer
        // 10+5; idle 5 + 10 before its step started.
        const Breakdown& r1 = a.ranks[1].mean;
        QCOMPARE(part(r1, Part::Compute), 20.0);
        QCOMPARE(part(r1, Part::ExposedComm), 30.0);
        QCOMPARE(part(r1, Part::Bubble), 30.0);
        QCOMPARE(part(r1, Part::Data), 0.0);
        QCOMPARE(part(r1, Part::Optimizer), 15.0);
        QCOMPARE(part(r1, Part::OtherHost), 10.0);
        QCOMPARE(part(r1, Part::Idle), 15.0);
        QCOMPARE(r1.sum(), 120.0);
        QCOMPARE(r1.comm_ns, 70.0);
        QCOMPARE(r1.overlapped_ns, 10.0);

        // Overall: the mean over ranks, adding up to the step time.
        QCOMPARE(part(a.overall, Part::Compute), 35.0);
        QCOMPARE(part(a.overall, Part::ExposedComm), 22.5);
        QCOMPARE(part(a.overall, Part::Bubble), 15.0);
        QCOMPARE(part(a.overall, Part::Idle), 22.5);
        QCOMPARE(a.overall.sum(), 120.0);
        QCOMPARE(a.steps[0].overall.sum(), 120.0);
        QVERIFY(std::fabs(a.overall.overlap_ratio() - 25.0 / 105.0) < 1e-12);

        // Kernels: forward 2 × 20 ns with 2000 FLOPs each; share of all kernel time (88 ns).
        const KernelSummary* fwd = kernel(a, "linear_forward");
        QVERIFY(fwd);
        QCOMPARE(fwd->count, std::int64_t(2));
        QCOMPARE(fwd->total_ns, std::int64_t(40));
        QVERIFY(std::fabs(fwd->share - 40.0 / 88.0) < 1e-12);
        QCOMPARE(fwd->flops, 4000.0);
        QVERIFY(std::fabs(fwd->flop_per_s - 4000.0 / 40e-9) < 1e-3);
        QCOMPARE(fwd->per_step_ns, 20.0);
        const KernelSummary* adam = kernel(a, "adamw_update");
        QVERIFY(adam);
        QCOMPARE(adam->median_ns, 9.0);
        QCOMPARE(adam->p95_ns, std::int64_t(10));
        QCOMPARE(adam->flop_per_s, -1.0);
        QCOMPARE(a.kernels.front().name, std::string("linear_forward"));  // longest first

        // Collectives: the all-reduce took 30 and 40 ns from issue to completion, busy 30 + 40; on
        // both ranks a kernel ended inside it (it overlapped the backward / forward pass: a
        // non-blocking call), so its transfer time, and its bandwidth, are not known. Arrival skew
        // 50 - 45 = 5 ns. Send/recv overlap nothing: algbw = 500 B / 5 and 30 ns; factor 1.
        const CollectiveSummary* ar = collective(a, Collective::AllReduce);
        QVERIFY(ar);
        QCOMPARE(ar->count, std::int64_t(2));
        QCOMPARE(ar->bytes, std::int64_t(1000));
        QCOMPARE(ar->total_ns, std::int64_t(70));
        QCOMPARE(ar->mean_ns, 35.0);
        QCOMPARE(ar->overlapped, std::int64_t(2));
        QVERIFY(std::isnan(ar->algbw) && std::isnan(ar->busbw));
        QVERIFY(bandwidth_note(*ar).find("not known") != std::string::npos);
        QCOMPARE(ar->instances, std::int64_t(1));
        QCOMPARE(ar->skew_mean_ns, 5.0);
        QCOMPARE(ar->skew_max_ns, std::int64_t(5));
        const CollectiveSummary* rv = collective(a, Collective::Recv);
        QVERIFY(rv);
        QCOMPARE(rv->total_ns, std::int64_t(30));
        QCOMPARE(rv->skew_max_ns, std::int64_t(5));
        QCOMPARE(rv->overlapped, std::int64_t(0));
        QVERIFY(std::fabs(rv->algbw - 500.0 / 30e-9) < 1e-3);
        QCOMPARE(rv->busbw, rv->algbw);
        QVERIFY(bandwidth_note(*rv).empty());

        // Throughput from the spec: 8 samples per 120 ns step. MLP 784-16-10: N = 12,730; model
        // FLOPs per step as performed (4·784·16 for the first layer, no input gradient, + 6·16·10)·8,
        // the convention 6·N·8 beside it; MFU against 1e13 FLOP/s per rank × 2 ranks.
        const Throughput& t = a.throughput;
        QCOMPARE(t.samples_per_step, 8.0);
        QVERIFY(std::fabs(t.samples_per_s - 8.0 / 120e-9) < 1e-3);
        QCOMPARE(t.tokens_per_s, -1.0);
        QCOMPARE(t.model_params, std::int64_t(12730));
        QCOMPARE(t.model_flops_per_step, (4.0 * 784 * 16 + 6.0 * 16 * 10) * 8);
        QCOMPARE(t.convention_flops_per_step, 6.0 * 12730 * 8);
        QVERIFY(std::fabs(t.mfu - ((4.0 * 784 * 16 + 6.0 * 16 * 10) * 8 / 120e-9) / 2e13) < 1e-12);
        QCOMPARE(t.peak_source, std::string("--peak-flops"));
        QCOMPARE(t.mfu_status, MfuStatus::Known);
        QVERIFY2(mfu_note(t).find("the kernels perform") != std::string::npos, mfu_note(t).c_str());
        // Recorded kernel FLOPs (4000) over the measured time (120 ns).
        QVERIFY(std::fabs(t.kernel_flop_per_s - 4000.0 / 120e-9) < 1e-3);
    }

    // Random traces: every step's parts add up to its step time, for every rank and overall.
    void partsAddUpToStepTime() {
        const std::string f = path("random.sqlite");
        std::mt19937_64 rng(7);
        auto rnd = [&](std::int64_t lo, std::int64_t hi) {
            return lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo));
        };
        const char* kinds[] = {"kernel gemm", "comm all_reduce", "host data", "phase forward", "phase optimizer",
                               "comm recv", "memcpy copy", "sync wait"};
        std::map<int, std::string> ranks;
        for (int r = 0; r < 3; ++r) {
            std::string s;
            std::int64_t t = rnd(0, 50);
            for (int step = 0; step < 6; ++step) {
                const std::int64_t len = rnd(500, 2000);
                s += "step step " + std::to_string(t) + " " + std::to_string(t + len) + " lane=0 step=" +
                     std::to_string(step) + "\n";
                for (int e = 0; e < 40; ++e) {
                    const std::int64_t a = rnd(t - 100, t + len), b = a + rnd(1, 300);
                    const auto* k = kinds[rng() % 8];
                    std::string extra = std::string(k).rfind("comm", 0) == 0
                                            ? " coll=" + std::string(std::string(k) == "comm recv" ? "recv" : "all_reduce") +
                                                  " group=dp gid=0 gsize=3 seq=" + std::to_string(e) + " peer=0 bytes=64"
                                            : "";
                    s += std::string(k) + " " + std::to_string(a) + " " + std::to_string(b) + " lane=" +
                         std::to_string(1 + e % 4) + extra + "\n";
                }
                t += len + rnd(0, 100);
            }
            ranks[r] = s;
        }
        RunId run;
        {
            TraceWriter w(f);
            run = afx::write_run(w, afx::info("random", 3), ranks);
        }
        TraceReader rd(f);
        AnalysisOptions opt;
        opt.warmup_steps = 1;
        const RunAnalysis a = analyze_run(rd, run, opt);
        QCOMPARE(a.steps.size(), size_t(6));
        QCOMPARE(a.step_time.count, std::int64_t(5));
        double mean_t = 0;
        for (const auto& s : a.steps) {
            QVERIFY2(std::fabs(s.overall.sum() - static_cast<double>(s.time_ns())) < 1e-6,
                     qPrintable(QString::number(s.overall.sum()) + " vs " + QString::number(s.time_ns())));
            QCOMPARE(s.overall.step_ns, static_cast<double>(s.time_ns()));
            for (double v : s.overall.part_ns) QVERIFY(v >= 0);
            if (!s.warmup) mean_t += static_cast<double>(s.time_ns()) / 5.0;
        }
        for (const auto& r : a.ranks) QVERIFY(std::fabs(r.mean.sum() - mean_t) < 1e-6);
        QVERIFY(std::fabs(a.overall.sum() - mean_t) < 1e-6);
        QVERIFY(std::fabs(a.step_time.mean_ns - mean_t) < 1e-6);
        QVERIFY(a.overall.overlapped_ns <= a.overall.comm_ns);
        QVERIFY(a.overall.overlapped_ns <= a.overall.compute_ns);
        QVERIFY(a.warnings.size() >= 1);  // spec without global batch: throughput unknown
        // Busy time is a union per rank: never more than the step, however the calls overlap.
        for (const auto& c : a.collectives)
            QVERIFY2(c.per_step_ns <= mean_t + 1e-6, qPrintable(QString::number(c.per_step_ns)));
    }

    // Three non-blocking 4 MiB buckets per step and rank, issued at 0, 10, 20 us and completed
    // (waited on) at 100, 110, 120 us while the backward kernel runs to 90 us; then a blocking
    // 1 MiB all-reduce alone in [150, 160) us. Steps of 200 us, 2 ranks, 3 steps.
    // True figures: the DP group is busy 120 us per step and rank (the union), not 300; the
    // buckets' transfer time is unknown (each span holds other calls and a kernel end); the
    // blocking call moves 1 MiB in 10 us.
    void overlappedBucketsCountOnce() {
        const std::string f = path("buckets.sqlite");
        RunId run;
        {
            TraceWriter w(f);
            // Rank 1 issues 1 us later.
            run = afx::write_run(w, afx::info("buckets", 2),
                                 {{0, afx::bucket_rank_text(90, 0)}, {1, afx::bucket_rank_text(90, 1)}});
        }
        TraceReader rd(f);
        AnalysisOptions opt;
        opt.warmup_steps = 0;
        const RunAnalysis a = analyze_run(rd, run, opt);
        QCOMPARE(a.step_time.median_ns, 201000.0);  // rank 1 ends 1 us after rank 0
        QCOMPARE(a.collectives.size(), size_t(2));
        const CollectiveSummary& buckets = a.collectives[0];  // the longest busy time first
        QCOMPARE(buckets.bytes, std::int64_t(4194304));
        QCOMPARE(buckets.count, std::int64_t(3 * 2 * 3));
        QCOMPARE(buckets.per_step_ns, 120000.0);                 // [0, 120) us: the union, not 300 us
        QCOMPARE(buckets.total_ns, std::int64_t(120000 * 2 * 3));
        QVERIFY(buckets.per_step_ns <= a.step_time.median_ns);
        QCOMPARE(buckets.mean_ns, 100000.0);                    // issue → completion of one call
        QCOMPARE(buckets.overlapped, std::int64_t(18));
        QVERIFY2(std::isnan(buckets.algbw) && std::isnan(buckets.busbw), qPrintable(QString::number(buckets.algbw)));
        QVERIFY(bandwidth_note(buckets).find("not known") != std::string::npos);
        QCOMPARE(buckets.instances, std::int64_t(9));
        QCOMPARE(buckets.skew_max_ns, std::int64_t(1000));

        const CollectiveSummary& blocking = a.collectives[1];
        QCOMPARE(blocking.bytes, std::int64_t(1048576));
        QCOMPARE(blocking.per_step_ns, 10000.0);
        QCOMPARE(blocking.overlapped, std::int64_t(0));
        QCOMPARE(blocking.transfer_mean_ns, 10000.0);
        QVERIFY(std::fabs(blocking.algbw - 1048576 / 10e-6) < 1e-3);
        QVERIFY(std::fabs(blocking.busbw - blocking.algbw) < 1e-3);  // all-reduce, p = 2: factor 1
        QVERIFY(bandwidth_note(blocking).empty());
    }

    // A call that ends past its step's end counts only up to it: busy time stays inside the step.
    void busyTimeClippedToStep() {
        const std::string f = path("clip.sqlite");
        RunId run;
        {
            TraceWriter w(f);
            run = afx::write_run(w, afx::info("clip", 1),
                                 {{0, "step step 0 100 lane=0 step=0\n"
                                      "comm all_reduce 50 180 lane=3 coll=all_reduce group=world gid=0 gsize=1 "
                                      "bytes=8 seq=0\n"
                                      "step step 200 300 lane=0 step=1\n"}});
        }
        TraceReader rd(f);
        AnalysisOptions opt;
        opt.warmup_steps = 0;
        const RunAnalysis a = analyze_run(rd, run, opt);
        QCOMPARE(a.collectives.size(), size_t(1));
        QCOMPARE(a.collectives[0].total_ns, std::int64_t(50));
        QCOMPARE(a.collectives[0].per_step_ns, 25.0);
        QCOMPARE(a.collectives[0].mean_ns, 130.0);
    }

    // MFU: one formula; the peak from the newest calibration in the file (compute.peak_flops, else
    // an older file's compute.sgemm_flops); unknown without a peak (and said why); never above 100 %:
    // a ratio above it is refused with a warning, neither shown nor clamped.
    void mfuDefinitionAndPeakSource() {
        QCOMPARE(mfu_of(4e12, 1e12, 8), 0.5);
        QCOMPARE(mfu_of(4e12, -1, 8), -1.0);
        QCOMPARE(mfu_of(0, 1e12, 8), -1.0);

        const std::string f = path("mfu.sqlite");
        RunId run;
        {
            TraceWriter w(f);
            run = afx::write_run(w, afx::info("mfu", 2, kSpec), {{0, kRank0}, {1, kRank1}});
        }
        AnalysisOptions opt;
        opt.warmup_steps = 0;
        const double model_flop_per_s = (4.0 * 784 * 16 + 6.0 * 16 * 10) * 8 / 120e-9;  // kSpec's MLP, 8 samples, 120 ns
        {
            TraceReader rd(f);
            const RunAnalysis a = analyze_run(rd, run, opt);
            QCOMPARE(a.throughput.mfu_status, MfuStatus::NoPeak);
            QCOMPARE(a.throughput.mfu, -1.0);
            QVERIFY2(mfu_note(a.throughput).find("calibrate --trace") != std::string::npos,
                     mfu_note(a.throughput).c_str());
        }
        {
            TraceWriter w(f);  // appends to the existing file
            Calibration c;
            c.host = "old";
            c.hardware_json = R"({"compute":{"sgemm_flops":1e16}})";
            w.add_calibration(c);
            c.host = "this";
            c.hardware_json = R"({"compute":{"sgemm_flops":1.5e16,"peak_flops":2e16}})";
            w.add_calibration(c);
        }
        {
            TraceReader rd(f);
            const RunAnalysis a = analyze_run(rd, run, opt);
            QCOMPARE(a.throughput.mfu_status, MfuStatus::Known);
            QCOMPARE(a.throughput.peak_flop_per_s, 2e16);  // the newest calibration
            QCOMPARE(a.throughput.peak_source, std::string("calibration 2 (this)"));
            QVERIFY(std::fabs(a.throughput.mfu - model_flop_per_s / (2e16 * 2)) < 1e-12);
        }
        {
            // A peak below the rate: no MFU (not above 100 %, not clamped to it), the ratio kept
            // for a warning that says one of the numbers is wrong.
            TraceReader rd(f);
            opt.peak_flop_per_s = 1e12;
            const RunAnalysis a = analyze_run(rd, run, opt);
            QCOMPARE(a.throughput.mfu_status, MfuStatus::AbovePeak);
            QCOMPARE(a.throughput.mfu, -1.0);
            QVERIFY(std::fabs(a.throughput.mfu_ratio - model_flop_per_s / 2e12) < 1e-9);
            QVERIFY(a.throughput.mfu_ratio > 1);
            bool warned = false;
            for (const auto& w : a.warnings)
                warned |= w.rfind("MFU unknown: ", 0) == 0 && w.find("above 100 %") != std::string::npos;
            QVERIFY(warned);
            QVERIFY2(mfu_note(a.throughput).find("--peak-flops") != std::string::npos, mfu_note(a.throughput).c_str());
        }
    }

    void stragglersAgainstMedian() {
        std::vector<RankBreakdown> ranks(3);
        const double work[3] = {100, 100, 130};  // rank 2 works 30 % longer; the others wait for it
        for (int r = 0; r < 3; ++r) {
            ranks[r].rank = r;
            ranks[r].mean.part_ns[static_cast<int>(Part::Compute)] = work[r] - 10;
            ranks[r].mean.part_ns[static_cast<int>(Part::Data)] = 10;
            ranks[r].mean.part_ns[static_cast<int>(Part::ExposedComm)] = 130 - work[r];
            ranks[r].mean.step_ns = 130;
        }
        const auto rows = stragglers(ranks);
        QCOMPARE(rows.size(), size_t(3));
        QVERIFY(!rows[0].straggler && !rows[1].straggler && rows[2].straggler);
        QCOMPARE(rows[2].work_ns, 130.0);
        QCOMPARE(rows[0].wait_ns, 30.0);
        QVERIFY(std::fabs(rows[2].vs_median - 0.3) < 1e-12);
        QVERIFY(stragglers({ranks[2]}).front().straggler == false);  // one rank: no straggler
    }

    void warmupDetection() {
        QCOMPARE(detect_warmup({}), 0);
        QCOMPARE(detect_warmup({500}), 0);
        QCOMPARE(detect_warmup({300, 150, 100, 100, 101, 99, 100, 100}), 2);
        QCOMPARE(detect_warmup({100, 100, 101, 99, 100}), 0);
        // At most half of the steps.
        QCOMPARE(detect_warmup({900, 900, 900, 100}), 2);

        const std::string f = path("warmup.sqlite");
        RunId run;
        {
            TraceWriter w(f);
            run = afx::write_run(w, afx::info("warm", 1), {{0, afx::steps_text({5000, 1000, 1100, 900, 1000})}});
        }
        TraceReader rd(f);
        RunAnalysis a = analyze_run(rd, run);
        QCOMPARE(a.warmup_steps, 1);
        QVERIFY(a.warmup_detected);
        QVERIFY(a.steps[0].warmup && !a.steps[1].warmup);
        QCOMPARE(a.step_time.count, std::int64_t(4));
        QCOMPARE(a.step_time.median_ns, 1000.0);
        QCOMPARE(a.step_time.min_ns, 900.0);
        QCOMPARE(a.step_time.max_ns, 1100.0);
        AnalysisOptions opt;
        opt.warmup_steps = 0;
        a = analyze_run(rd, run, opt);
        QCOMPARE(a.step_time.count, std::int64_t(5));
        QCOMPARE(a.step_time.max_ns, 5000.0);
        QVERIFY(!a.warmup_detected);

        RunStepTimes st = run_step_times(rd, run);
        QCOMPARE(st.times_ns, (std::vector<std::int64_t>{5000, 1000, 1100, 900, 1000}));
        QCOMPARE(st.warmup_steps, 1);
        QCOMPARE(st.stats.median_ns, 1000.0);

        opt.warmup_steps = 5;
        try {
            analyze_run(rd, run, opt);
            QFAIL("a warm-up of every step must be refused");
        } catch (const AnalysisError& e) {
            QVERIFY2(std::string(e.what()).find("leaves none to measure") != std::string::npos, e.what());
        }
    }

    void badInputs() {
        const std::string f = path("nosteps.sqlite");
        RunId run, partial;
        {
            TraceWriter w(f);
            run = afx::write_run(w, afx::info("nosteps", 1), {{0, "kernel gemm 0 10 lane=2\n"}});
            // Rank 1 misses step 1: that step is left out with a warning.
            partial = afx::write_run(w, afx::info("partial", 2),
                                     {{0, afx::steps_text({100, 100, 100})}, {1, afx::steps_text({100})}});
        }
        TraceReader rd(f);
        // A run without step events is analysed over its whole trace span (docs/ANALYSIS.md "Runs
        // without steps"), said so first among the warnings.
        const RunAnalysis whole = analyze_run(rd, run);
        QVERIFY(whole.whole_trace);
        QCOMPARE(whole.step_time.median_ns, 10.0);
        QVERIFY(whole.warnings.front().find("run 1 has no step events") != std::string::npos);
        // Steps, but none on every rank: refused (the stored aggregates stand in: tst_core_analysis_cli).
        RunId none;
        {
            TraceWriter w(f);
            none = afx::write_run(w, afx::info("disjoint", 2),
                                  {{0, "step step 0 100 lane=0 step=0\n"}, {1, "step step 0 100 lane=0 step=1\n"}});
        }
        try {
            analyze_run(rd, none);
            QFAIL("a run without a step on every rank must be refused");
        } catch (const NoStepsError& e) {
            QVERIFY2(std::string(e.what()).find("has no step recorded on every rank") != std::string::npos, e.what());
        }
        RunAnalysis a = analyze_run(rd, partial);
        QCOMPARE(a.steps.size(), size_t(1));
        bool warned = false;
        for (const auto& w : a.warnings) warned |= w.find("not recorded on every rank") != std::string::npos;
        QVERIFY(warned);
        QVERIFY_THROWS_EXCEPTION(TraceError, analyze_run(rd, RunId(42)));
    }

    void peakFromHardwareJson() {
        QCOMPARE(peak_flops_from_hardware_json(
                     R"({"format":"scalescope-hardware","compute":{"sgemm_flops":2.5e10},"memory":{}})"),
                 2.5e10);
        QCOMPARE(peak_flops_from_hardware_json(R"({"compute":{"sgemm_flops":-3}})"), -1.0);
        QCOMPARE(peak_flops_from_hardware_json(R"({"memory":{"bandwidth_bytes_per_s":1e10}})"), -1.0);
        QCOMPARE(peak_flops_from_hardware_json("not json"), -1.0);
    }
};

QTEST_GUILESS_MAIN(TestCoreAnalysis)
#include "tst_core_analysis.moc"

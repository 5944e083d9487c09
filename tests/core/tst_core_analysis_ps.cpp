// core/analysis on a run with a parameter server (issue 18; docs/ANALYSIS.md "Parameter server"),
// on the synthetic trace of ps_trace_fixture.h written as the contract says the runtime records
// one: step time and breakdown over the workers only, push/pull as exposed communication and
// ps_wait as idle, the servers' bytes and queueing, each worker's waiting (ps_wait and inside its
// pulls), the staleness observed, the slowed rank; and an all-reduce run with a slowed rank.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "core/analysis/analysis.h"
#include "core/analysis/analysis_store.h"
#include "core/analysis/scaling.h"
#include "ps_trace_fixture.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;

namespace {
constexpr double kUs = 1000.0;  // ns per us
bool close(double a, double b) {
    return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}
}  // namespace

#define QCLOSE(a, b)                                                            \
    QVERIFY2(close((a), (b)), qPrintable(QStringLiteral("%1 = %2, expected %3") \
                                             .arg(QString::fromLatin1(#a))      \
                                             .arg(double(a), 0, 'g', 12)        \
                                             .arg(double(b), 0, 'g', 12)))

class TstCoreAnalysisPs : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path_;
    RunAnalysis a_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        path_ = psfx::write_ps_file(dir_.filePath(QStringLiteral("ps.sqlite")).toStdString());
        TraceReader rd(path_);
        a_ = analyze_run(rd, rd.runs().at(0).id, AnalysisOptions{.warmup_steps = 0});
    }

    void layoutFromSpecAndFromCoordinates() {
        TraceReader rd(path_);
        const RunInfo run = rd.runs().at(0);
        const PsLayout l = ps_layout(run, rd.ranks(run.id));
        QCOMPARE(l.servers, 2);
        QCOMPARE(l.first_server, 2);
        QCOMPARE(l.workers(), 2);
        QCOMPARE(l.staleness, 1);
        QVERIFY(!is_server_rank(l, 1));
        QVERIFY(is_server_rank(l, 2) && is_server_rank(l, 3));
        QVERIFY(!is_server_rank(l, 4));
        QCOMPARE(server_label(l, 3), std::string("server 1 (rank 3)"));
        QCOMPARE(staleness_name(l.staleness), std::string("SSP (s = 1)"));
        QCOMPARE(staleness_name(-1), std::string("async"));
        // Without the spec, the ranks rows' coordinates −1 name the servers.
        RunInfo bare = run;
        bare.spec_json = "{}";
        const PsLayout c = ps_layout(bare, rd.ranks(run.id));
        QCOMPARE(c.servers, 2);
        QCOMPARE(c.first_server, 2);
        // An all-reduce run has none.
        QVERIFY(!ps_layout(bare, {}).present());
        RunInfo async = run;
        async.spec_json =
            R"({"parallel":{"dp":3,"dp_sync":"parameter_server","staleness":"async"}})";
        async.world_size = 4;
        const PsLayout a = ps_layout(async, {});
        QCOMPARE(a.servers, 1);  // the default
        QCOMPARE(a.first_server, 3);
        QCOMPARE(a.staleness, PsLayout::kAsyncStaleness);
    }

    // The servers train no steps: step time, the per-rank breakdown and its mean are the workers'.
    void stepsAndBreakdownOverWorkersOnly() {
        QCOMPARE(a_.steps.size(), size_t(4));
        QCLOSE(a_.step_time.median_ns, 1000 * kUs);
        QCOMPARE(a_.ranks.size(), size_t(2));
        QCOMPARE(a_.ranks[0].rank, 0);
        QCOMPARE(a_.ranks[1].rank, 1);
        const Breakdown& w0 = a_.ranks[0].mean;
        QCLOSE(w0.part(Part::Compute), 400 * kUs);
        QCLOSE(w0.part(Part::ExposedComm), 475 * kUs);  // push 80 + pull 395: not a pipeline bubble
        QCLOSE(w0.part(Part::Bubble), 0);
        QCLOSE(w0.part(Part::Idle), 125 * kUs);  // ps_wait 100 + 25 after the pulls
        QCLOSE(w0.part(Part::OtherHost), 0);     // ps_wait is waiting, not host work
        QCLOSE(w0.sum(), 1000 * kUs);
        const Breakdown& w1 = a_.ranks[1].mean;
        QCLOSE(w1.part(Part::Compute), 800 * kUs);
        QCLOSE(w1.part(Part::ExposedComm), 175 * kUs);
        QCLOSE(w1.part(Part::Idle), 25 * kUs);
        // The mean over the 2 workers (4 ranks would halve it).
        QCLOSE(a_.overall.part(Part::Compute), 600 * kUs);
        QCLOSE(a_.overall.sum(), 1000 * kUs);
        // Stragglers over the workers: rank 1 does twice rank 0's work.
        const auto s = stragglers(a_.ranks);
        QCOMPARE(s.size(), size_t(2));
        QVERIFY(s[1].straggler);
        QVERIFY(!s[0].straggler);
        QCLOSE(s[0].wait_ns, 600 * kUs);
        // No warning about the servers' missing steps; one saying what the numbers cover.
        bool ps_warning = false;
        for (const auto& w : a_.warnings) {
            QVERIFY2(w.find("has no step events") == std::string::npos, w.c_str());
            ps_warning |= w.find("parameter server") != std::string::npos;
        }
        QVERIFY(ps_warning);
        // The servers' optimizer kernels are not the workers' compute.
        for (const auto& k : a_.kernels) QVERIFY(k.name != "sgd_update");
    }

    void pushPullAreCommunicationRows() {
        std::int64_t push_calls = 0, pull_calls = 0;
        for (const auto& c : a_.collectives) {
            QCOMPARE(c.group_kind, GroupKind::PS);
            if (c.collective == Collective::Send) push_calls += c.count;
            if (c.collective == Collective::Recv) pull_calls += c.count;
        }
        QCOMPARE(push_calls, std::int64_t(2 * 2 * 4));  // 2 workers × 2 servers × 4 steps
        QCOMPARE(pull_calls, std::int64_t(16));
    }

    void serverLoad() {
        QVERIFY(a_.ps.present());
        QCOMPARE(a_.ps.measured_steps, std::int64_t(4));
        QCLOSE(a_.ps.period_ns, 4000 * kUs);
        QCOMPARE(a_.ps.servers.size(), size_t(2));
        const ServerLoad& s0 = a_.ps.servers[0];
        QCOMPARE(s0.rank, 2);
        QCOMPARE(s0.pushes, std::int64_t(8));
        QCOMPARE(s0.bytes_in, std::int64_t(8000));
        QCLOSE(s0.bytes_in_per_step, 2000);  // both workers' 1000 B shards
        QCLOSE(s0.bytes_out_per_step, 2000);
        QCLOSE(s0.bytes_in_per_s, 8000 / 4e-3);
        QCOMPARE(s0.queued, std::int64_t(8));
        QCLOSE(s0.queue_mean_ns, 170 * kUs);  // (330 + 10) / 2
        QCLOSE(s0.queue_p95_ns, 330 * kUs);
        QCOMPARE(s0.queue_max_ns, std::int64_t(330'000));
        QCLOSE(s0.queue_per_step_ns, 340 * kUs);
        QCOMPARE(s0.applies, std::int64_t(4));
        QCLOSE(s0.apply_mean_ns, 40 * kUs);
        // Busy: recv [500,550) + [820,870), apply [880,920), send [920,980) = 200 us of 1000.
        QCLOSE(s0.busy_share, 0.2);
        const ServerLoad& s1 = a_.ps.servers[1];
        QCOMPARE(s1.rank, 3);
        QCLOSE(s1.bytes_in_per_step, 1200);
        QCLOSE(s1.bytes_out_per_step, 1200);
        QCLOSE(s1.queue_mean_ns, 162.5 * kUs);
        QCLOSE(s1.apply_per_step_ns, 20 * kUs);
    }

    void busyShareStaysInsideThePeriod() {
        // A server busy the whole period, its last apply running 300 us past the period's end:
        // busy 100 % of the period, not more.
        const std::int64_t us = 1000;
        PsInputs in;
        in.layout.servers = 1;
        in.layout.first_server = 1;
        in.period_start = 0;
        in.period_end = 1000 * us;
        in.measured_steps = 1;
        in.events = {{1, PsOp::Recv, 0, 400 * us, 100, 0, 0},
                     {1, PsOp::Apply, 400 * us, 900 * us, ss::traces::kNone, ss::traces::kNone, 0},
                     {1, PsOp::Apply, 900 * us, 1300 * us, ss::traces::kNone, ss::traces::kNone, 1},
                     {1, PsOp::Recv, 1100 * us, 1200 * us, 100, 0, 1}};  // after the period: not counted
        const PsSummary ps = ps_summary(in, {}, {});
        QCOMPARE(ps.servers.size(), size_t(1));
        QCOMPARE(ps.servers[0].busy_share, 1.0);
        QCOMPARE(ps.servers[0].pushes, std::int64_t(1));
        QCOMPARE(ps.servers[0].applies, std::int64_t(2));
    }

    void workerWaits() {
        QCOMPARE(a_.ps.workers.size(), size_t(2));
        const WorkerPs& w0 = a_.ps.workers[0];
        QCOMPARE(w0.rank, 0);
        QCLOSE(w0.pushes_per_step, 2);
        QCLOSE(w0.push_bytes_per_step, 1600);
        QCLOSE(w0.pull_bytes_per_step, 1600);
        QCLOSE(w0.push_ns_per_step, 80 * kUs);
        QCLOSE(w0.pull_ns_per_step, 395 * kUs);
        QCLOSE(w0.wait_ns_per_step, 100 * kUs);
        QCLOSE(w0.pull_wait_ns_per_step, 340 * kUs);  // server 0 sent at 920, the pull began at 580
        QCLOSE(w0.total_wait_ns_per_step(), 440 * kUs);
        QCOMPARE(w0.pulls_matched, std::int64_t(8));
        const WorkerPs& w1 = a_.ps.workers[1];
        QCLOSE(w1.wait_ns_per_step, 20 * kUs);
        QCLOSE(w1.pull_wait_ns_per_step, 50 * kUs);
        QCLOSE(w1.pull_ns_per_step, 95 * kUs);
    }

    void staleness() {
        QCLOSE(a_.ps.staleness_max, 2);
        QCLOSE(a_.ps.staleness_mean, 4.0 / 8.0);  // w0: 0,1,0,1; w1: 0,0,0,2
        QCOMPARE(a_.ps.staleness_samples, std::int64_t(8));
        QCOMPARE(a_.ps.staleness_histogram.at(0), std::int64_t(5));
        QCOMPARE(a_.ps.staleness_histogram.at(1), std::int64_t(2));
        QCOMPARE(a_.ps.staleness_histogram.at(2), std::int64_t(1));
        QCLOSE(a_.ps.workers[0].staleness_max, 1);
        QCLOSE(a_.ps.workers[1].staleness_max, 2);
        QCLOSE(a_.ps.workers[1].staleness_mean, 0.5);
        QCLOSE(a_.ps.recorded_staleness_max, 2);
        QCLOSE(a_.ps.recorded_staleness_mean, 0.5);
    }

    void slowRankAndMfuOverWorkers() {
        QCOMPARE(a_.slow_rank.rank, 1);
        QCLOSE(a_.slow_rank.factor, 2);
        // MFU's denominator counts the 2 workers, not the 4 ranks.
        TraceReader rd(path_);
        AnalysisOptions o{.warmup_steps = 0, .peak_flop_per_s = 1e12};
        const RunAnalysis a = analyze_run(rd, rd.runs().at(0).id, o);
        QVERIFY(a.throughput.model_flop_per_s > 0);
        QCLOSE(a.throughput.mfu, a.throughput.model_flop_per_s / (1e12 * 2));
    }

    // The stored analysis keeps the report (analysis/v3).
    void storedRoundTrip() {
        TraceReader rd(path_);
        const RunAnalysis a = analyze_run(rd, rd.runs().at(0).id);
        const RunAnalysis b = deserialize_analysis(serialize_analysis(a), a.run);
        QVERIFY(a.ps.present());
        QCOMPARE(b.ps.servers, a.ps.servers);
        QCOMPARE(b.ps.workers.size(), a.ps.workers.size());
        QVERIFY(a.slow_rank == b.slow_rank);
        QCOMPARE(serialize_analysis(b), serialize_analysis(a));  // NaN != NaN: compare the text
    }

    // run_step_times (scaling) leaves the servers out too, and a study's p counts the workers.
    void stepTimesAndStudyP() {
        TraceReader rd(path_);
        const RunStepTimes t = run_step_times(rd, rd.runs().at(0).id, 0);
        QCOMPARE(t.times_ns.size(), size_t(4));
        QCLOSE(t.stats.median_ns, 1000 * kUs);

        // A study recording p = world (2 workers + 2 servers) against a serial run twice as slow:
        // the point is p = 2 with efficiency 1, not p = 4 with 0.5.
        const std::string path = dir_.filePath(QStringLiteral("study.sqlite")).toStdString();
        {
            TraceWriter w(path);
            const StudyId sid = w.add_study(StudyInfo{StudyId(), "ps", "parallel.dp", "strong"});
            const RunId one = afx::write_run(
                w, afx::info("serial", 1),
                {{0, afx::steps_text({2'000'000, 2'000'000, 2'000'000, 2'000'000})}});
            w.add_study_run(StudyRun{sid, one, "1", 1, 0});
            const RunId ps = psfx::write_ps_run(w);
            w.add_study_run(StudyRun{sid, ps, "2", 4, 0});
        }
        TraceReader srd(path);
        ScalingOptions so;
        so.warmup_steps = 0;
        so.bootstrap = 50;
        const ScalingResult r = analyze_study(srd, srd.studies().at(0).id, so);
        QCOMPARE(r.points.size(), size_t(2));
        QCOMPARE(r.points[1].p, 2);
        QCLOSE(r.points[1].speedup, 2);
        QCLOSE(r.points[1].efficiency, 1);
    }

    // An all-reduce run with rank 1 slowed x2: the straggler shows as the others' wait inside the
    // collective (exposed communication), and the knob is read from run_summaries.
    void slowRankWithoutParameterServer() {
        const std::string path = dir_.filePath(QStringLiteral("slow.sqlite")).toStdString();
        RunId run;
        {
            TraceWriter w(path);
            std::string r0, r1;
            for (int s = 0; s < 3; ++s) {
                auto at = [&](int us) { return std::to_string(s * 1'000'000 + us * 1000); };
                const std::string st = " step=" + std::to_string(s);
                const std::string ar =
                    " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=4096 seq=" +
                    std::to_string(s) + st;
                r0 += "step step " + at(0) + " " + at(1000) + " lane=0" + st + "\n";
                r0 += "kernel fwd_bwd " + at(0) + " " + at(300) + " lane=2" + st + "\n";
                r0 += "comm all_reduce " + at(300) + " " + at(700) + ar + "\n";
                r1 += "step step " + at(0) + " " + at(1000) + " lane=0" + st + "\n";
                r1 += "kernel fwd_bwd " + at(0) + " " + at(600) + " lane=2" + st + "\n";
                r1 += "comm all_reduce " + at(600) + " " + at(700) + ar + "\n";
            }
            run = afx::write_run(
                w, afx::info("slow", 2, R"({"training":{"slow_rank":{"rank":1,"factor":2}}})"),
                {{0, r0}, {1, r1}});
        }
        {
            Db db(path, Db::Mode::ReadWrite);
            for (auto [k, v] : {std::pair{"slow_rank", "1"}, std::pair{"slow_factor", "2"}}) {
                Stmt st =
                    db.prepare("INSERT INTO run_summaries(run_id, key, value) VALUES(?1,?2,?3)");
                st.bind(1, run.value).bind(2, k).bind(3, v).run();
            }
        }
        TraceReader rd(path);
        const RunAnalysis a = analyze_run(rd, run, AnalysisOptions{.warmup_steps = 0});
        QVERIFY(!a.ps.present());
        QCOMPARE(a.slow_rank.rank, 1);
        QCLOSE(a.slow_rank.factor, 2);
        QCOMPARE(a.ranks.size(), size_t(2));
        QCLOSE(a.ranks[0].mean.part(Part::ExposedComm),
               400 * kUs);  // waits in the all-reduce for rank 1
        QCLOSE(a.ranks[1].mean.part(Part::ExposedComm), 100 * kUs);
        const auto s = stragglers(a.ranks);
        QVERIFY(s[1].straggler);
        QCLOSE(s[1].vs_median, 600.0 / 450.0 - 1);
        bool named = false;
        for (const auto& w : a.warnings)
            named |= w.find("rank 1 was slowed x2") != std::string::npos;
        QVERIFY(named);
        const RunAnalysis b = deserialize_analysis(serialize_analysis(a), a.run);
        QCOMPARE(serialize_analysis(b), serialize_analysis(a));
    }
};

QTEST_GUILESS_MAIN(TstCoreAnalysisPs)
#include "tst_core_analysis_ps.moc"

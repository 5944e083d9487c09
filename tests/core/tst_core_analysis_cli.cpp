// scalescope-cli stats / scaling / compare through the real executable: formats, values and exit
// codes (0 success, 1 failure, 2 bad usage).
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include <nlohmann/json.hpp>

#include "ps_trace_fixture.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::traces;
using nlohmann::json;

class TestCoreAnalysisCli : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString runs_, study_, empty_, buckets_;

    struct Result {
        int code;
        std::string out, err;
    };
    static Result cli(const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI), args);
        if (!p.waitForFinished(60000)) return {-1, "", "timeout"};
        return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
    }

private slots:
    void initTestCase() {
        runs_ = dir_.filePath(QStringLiteral("runs.sqlite"));
        study_ = dir_.filePath(QStringLiteral("study.sqlite"));
        empty_ = dir_.filePath(QStringLiteral("nosteps.sqlite"));
        {
            TraceWriter w(runs_.toStdString());
            auto text = [](std::int64_t len, std::int64_t g) {
                std::string s;
                for (int i = 0; i < 4; ++i) {
                    const std::int64_t t = i * len;
                    s += "step step " + std::to_string(t) + " " + std::to_string(t + len) + " lane=0 step=" +
                         std::to_string(i) + "\n";
                    s += "kernel sgemm " + std::to_string(t) + " " + std::to_string(t + g) + " lane=2 flops=1e6\n";
                    s += "comm all_reduce " + std::to_string(t + g) + " " + std::to_string(t + g + 100000) +
                         " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=1048576 seq=" + std::to_string(i) + "\n";
                }
                return s;
            };
            const std::string spec = R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":32}})";
            afx::write_run(w, afx::info("slow", 2, spec), {{0, text(1000000, 800000)}, {1, text(1000000, 800000)}});
            afx::write_run(w, afx::info("fast", 2, spec), {{0, text(600000, 400000)}, {1, text(600000, 400000)}});
        }
        {
            TraceWriter w(study_.toStdString());
            std::vector<afx::StudyPoint> pts;
            for (int p : {1, 2, 4})
                pts.push_back({p, 0, {std::llround(1e7 * (0.1 + 0.9 / p)), std::llround(1e7 * (0.1 + 0.9 / p))}});
            afx::write_study(w, "strong", pts);
        }
        {
            // Three non-blocking 4 MiB buckets per step (issued at 0, 10, 20 us, waited on at 100, 110,
            // 120 us) and one blocking 1 MiB all-reduce at [150, 160) us; rank 1's backward pass takes
            // 130 us against rank 0's 90 us: rank 1 is the straggler.
            buckets_ = dir_.filePath(QStringLiteral("buckets.sqlite"));
            TraceWriter w(buckets_.toStdString());
            const std::string spec = R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":32}})";
            afx::write_run(w, afx::info("buckets", 2, spec), {{0, afx::bucket_rank_text(90)}, {1, afx::bucket_rank_text(130)}});
        }
        {
            TraceWriter w(empty_.toStdString());
            // Steps, but none recorded on every rank: no breakdown (a run without any step event is
            // analysed over its whole trace span instead: tst_core_analysis_hta).
            afx::write_run(w, afx::info("nosteps", 2),
                           {{0, "step step 0 100 lane=0 step=0\nkernel gemm 0 10 lane=2\n"},
                            {1, "step step 0 100 lane=0 step=1\nkernel gemm 0 10 lane=2\n"}});
        }
    }

    void stats() {
        Result r = cli({QStringLiteral("stats"), runs_, QStringLiteral("--run"), QStringLiteral("1"),
                        QStringLiteral("--warmup"), QStringLiteral("0"), QStringLiteral("--peak-flops"),
                        QStringLiteral("1e10"), QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(r.code == 0, r.err.c_str());
        json j = json::parse(r.out);
        QCOMPARE(j["run"].size(), size_t(1));
        QCOMPARE(j["run"][0]["step_median_ms"].get<double>(), 1.0);
        QCOMPARE(j["run"][0]["measured_steps"].get<int>(), 4);
        QCOMPARE(j["breakdown"].size(), size_t(3));  // all, rank 0, rank 1
        QCOMPARE(j["breakdown"][0]["rank"].get<std::string>(), std::string("all"));
        QCOMPARE(j["breakdown"][0]["compute_ms"].get<double>(), 0.8);
        QCOMPARE(j["breakdown"][0]["exposed_comm_ms"].get<double>(), 0.1);
        QCOMPARE(j["breakdown"][0]["idle_ms"].get<double>(), 0.1);
        QCOMPARE(j["kernels"][0]["name"].get<std::string>(), std::string("sgemm"));
        QVERIFY(std::fabs(j["kernels"][0]["gflop_per_s"].get<double>() - 1e6 / 800000e-9 / 1e9) < 1e-9);
        // busbw of a 1 MiB all-reduce over 2 ranks in 100 us: 1048576 B / 1e-4 s × 1.
        QVERIFY(std::fabs(j["collectives"][0]["busbw_gbps"].get<double>() - 1048576 / 1e-4 / 1e9) < 1e-9);
        QVERIFY(std::fabs(j["throughput"][0]["samples_per_s"].get<double>() - 32 / 1e-3) < 1e-6);
        QVERIFY(j["throughput"][0]["mfu"].is_number());
        QCOMPARE(j["throughput"][0]["peak_source"].get<std::string>(), std::string("--peak-flops"));
        QVERIFY(j.contains("stats"));

        Result csv = cli({QStringLiteral("stats"), runs_, QStringLiteral("--format=csv"), QStringLiteral("--warmup=0")});
        QVERIFY2(csv.code == 0, csv.err.c_str());
        QVERIFY2(csv.out.find("run,rank,step_ms,compute_ms,exposed_comm_ms,bubble_ms,data_ms,optimizer_ms,"
                              "other_host_ms,idle_ms") != std::string::npos, csv.out.c_str());
        QVERIFY2(csv.out.find("2,all,0.6,0.4,0.1,0,0,0,0,0.1,0.1,0,0") != std::string::npos, csv.out.c_str());

        // The peak from a hardware file (scalescope-cli calibrate): compute.peak_flops per rank (the
        // large-sgemm peak), ahead of compute.sgemm_flops (the simulator's 512³ rate).
        const QString hw = dir_.filePath(QStringLiteral("hw.json"));
        {
            QFile h(hw);
            QVERIFY(h.open(QIODevice::WriteOnly));
            h.write(R"({"format":"scalescope-hardware","compute":{"sgemm_flops":1e10,"peak_flops":2e10}})");
        }
        Result withHw = cli({QStringLiteral("stats"), runs_, QStringLiteral("--run"), QStringLiteral("1"),
                             QStringLiteral("--hardware"), hw, QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(withHw.code == 0, withHw.err.c_str());
        json jh = json::parse(withHw.out);
        QCOMPARE(jh["throughput"][0]["peak_gflop_per_s_rank"].get<double>(), 20.0);
        QCOMPARE(jh["throughput"][0]["peak_source"].get<std::string>(), hw.toStdString());
        // MFU = model FLOP/s ÷ (peak × 2 ranks): half of the MFU against 1e10 FLOP/s.
        QVERIFY(std::fabs(jh["throughput"][0]["mfu"].get<double>() * 2 - j["throughput"][0]["mfu"].get<double>()) < 1e-12);

        Result perStep = cli({QStringLiteral("stats"), runs_, QStringLiteral("--run=2"), QStringLiteral("--per-step"),
                              QStringLiteral("--format=json")});
        QVERIFY2(perStep.code == 0, perStep.err.c_str());
        json js = json::parse(perStep.out);
        QCOMPARE(js["steps"].size(), size_t(4));
        QCOMPARE(js["steps"][3]["step"].get<int>(), 3);
        QCOMPARE(js["steps"][3]["step_ms"].get<double>(), 0.6);
        QVERIFY(!j.contains("steps"));  // only on request

        Result table = cli({QStringLiteral("stats"), runs_});
        QVERIFY2(table.code == 0, table.err.c_str());
        QVERIFY(table.out.find("breakdown") != std::string::npos);
        QVERIFY(table.out.find("collectives") != std::string::npos);
    }

    // Overlapped DP buckets: busy time is the union (120 us per step and rank, not 300 us in a
    // 200 us step), latency is issue → completion, and their bandwidth is not known (empty, with a
    // note); the blocking call's bandwidth is bytes ÷ its time. The straggler table names rank 1.
    // Without a peak, the MFU cell is empty and the note says how to get one.
    void statsOverlappedBucketsAndStragglers() {
        Result r =
            cli({QStringLiteral("stats"), buckets_, QStringLiteral("--warmup=0"), QStringLiteral("--format=json")});
        QVERIFY2(r.code == 0, r.err.c_str());
        json j = json::parse(r.out);
        const double step_us = j["run"][0]["step_median_ms"].get<double>() * 1e3;
        QCOMPARE(step_us, 200.0);
        QCOMPARE(j["collectives"].size(), size_t(2));
        const json& b = j["collectives"][0];
        for (const char* col :
             {"busy_per_step_us", "busy_all_ranks_ms", "issue_to_completion_mean_us", "overlapped_calls", "bandwidth_note"})
            QVERIFY2(b.contains(col), (std::string("no column ") + col + " in " + b.dump()).c_str());
        QVERIFY2(j.contains("stragglers"), "stats prints no stragglers table");
        QCOMPARE(b["bytes"].get<std::int64_t>(), std::int64_t(4194304));
        QCOMPARE(b["busy_per_step_us"].get<double>(), 120.0);
        QVERIFY(b["busy_per_step_us"].get<double>() <= step_us);
        QCOMPARE(b["busy_all_ranks_ms"].get<double>(), 0.12 * 2 * 3);
        QCOMPARE(b["issue_to_completion_mean_us"].get<double>(), 100.0);
        QCOMPARE(b["overlapped_calls"].get<int>(), 18);
        QVERIFY2(b["algbw_gbps"].is_null() && b["busbw_gbps"].is_null(), b.dump().c_str());
        QVERIFY2(b["bandwidth_note"].get<std::string>().find("not known") != std::string::npos, b.dump().c_str());
        const json& k = j["collectives"][1];
        QCOMPARE(k["busy_per_step_us"].get<double>(), 10.0);
        QCOMPARE(k["overlapped_calls"].get<int>(), 0);
        QVERIFY(std::fabs(k["busbw_gbps"].get<double>() - 1048576 / 10e-6 / 1e9) < 1e-9);

        QCOMPARE(j["stragglers"].size(), size_t(2));
        QCOMPARE(j["stragglers"][0]["straggler"].get<std::string>(), std::string("no"));
        QCOMPARE(j["stragglers"][1]["rank"].get<int>(), 1);
        QCOMPARE(j["stragglers"][1]["straggler"].get<std::string>(), std::string("yes"));
        QVERIFY(std::fabs(j["stragglers"][1]["work_vs_median"].get<double>() - (130.0 / 110.0 - 1)) < 1e-9);

        QVERIFY(j["throughput"][0]["mfu"].is_null());
        QVERIFY2(j["throughput"][0]["mfu_note"].get<std::string>().find("calibrate --trace") != std::string::npos,
                 j["throughput"][0].dump().c_str());

        Result table = cli({QStringLiteral("stats"), buckets_});
        QVERIFY2(table.code == 0, table.err.c_str());
        QVERIFY(table.out.find("stragglers") != std::string::npos);
        QVERIFY(table.out.find("issue_to_completion_mean_us") != std::string::npos);
    }

    // A GPU run (issue 14): the gpu_streams and gpu tables with the fixture's numbers, MFU against
    // the matrix rate measured in the run; a CPU run prints neither table.
    void statsGpu() {
        const QString gpu = dir_.filePath(QStringLiteral("gpu.sqlite"));
        {
            TraceWriter w(gpu.toStdString());
            afx::write_gpu_run(
                w, R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":32}})");
        }
        Result r = cli({QStringLiteral("stats"), gpu, QStringLiteral("--warmup"),
                        QStringLiteral("0"), QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(r.code == 0, r.err.c_str());
        json j = json::parse(r.out);
        auto near = [](const json& v, double want) {
            return v.is_number() && std::fabs(v.get<double>() - want) < 1e-9;
        };
        QCOMPARE(j["gpu_streams"].size(), size_t(3));
        const json& s7 = j["gpu_streams"][0];
        QCOMPARE(s7["stream"].get<int>(), 7);
        QCOMPARE(s7["compute_kernels"].get<int>(), 18);
        QVERIFY(near(s7["compute_per_step_us"], 630));
        QVERIFY(near(j["gpu_streams"][1]["nccl_per_step_us"], 285));
        QCOMPARE(j["gpu"].size(), size_t(3));  // all, rank 0, rank 1
        QCOMPARE(j["gpu"][0]["rank"].get<std::string>(), std::string("all"));
        QVERIFY(near(j["gpu"][0]["nccl_overlap"], 360.0 / 570.0));
        QVERIFY(near(j["gpu"][1]["nccl_overlapped_per_step_us"], 230));
        QVERIFY(near(j["gpu"][2]["nccl_exposed_per_step_us"], 310 - 130));
        QCOMPARE(j["throughput"][0]["peak_source"].get<std::string>(),
                 std::string("cuBLAS fp32 sgemm measured in the run (median of 2 ranks)"));
        QVERIFY(near(j["throughput"][0]["peak_gflop_per_s_rank"], 51000));
        // Table order: the GPU tables follow the collectives.
        Result t = cli({QStringLiteral("stats"), gpu, QStringLiteral("--warmup=0")});
        QVERIFY(t.out.find("collectives\n") < t.out.find("gpu_streams\n"));
        QVERIFY(t.out.find("gpu_streams\n") < t.out.find("\ngpu\n"));
        QVERIFY(t.out.find("\ngpu\n") < t.out.find("throughput\n"));

        Result cpu = cli({QStringLiteral("stats"), runs_, QStringLiteral("--format=json"),
                          QStringLiteral("--warmup=0")});
        QVERIFY2(cpu.code == 0, cpu.err.c_str());
        const json c = json::parse(cpu.out);
        QVERIFY(!c.contains("gpu_streams") && !c.contains("gpu"));
    }

    // A run with a parameter server (ps_trace_fixture.h): the three PS tables with the servers'
    // bytes and queueing, the workers' waits and the staleness; an all-reduce run prints none.
    void statsParameterServer() {
        const QString ps = dir_.filePath(QStringLiteral("ps.sqlite"));
        psfx::write_ps_file(ps.toStdString());
        auto r = cli({QStringLiteral("stats"), ps, QStringLiteral("--format"), QStringLiteral("json"),
                      QStringLiteral("--warmup"), QStringLiteral("0")});
        QVERIFY2(r.code == 0, r.err.c_str());
        const json j = json::parse(r.out);
        QVERIFY2(j.contains("ps_servers") && j.contains("ps_workers") && j.contains("ps_staleness"), r.out.c_str());
        QCOMPARE(j["breakdown"].size(), size_t(3));  // all and the 2 workers: no server rows
        QCOMPARE(j["ps_servers"].size(), size_t(2));
        const json& s0 = j["ps_servers"][0];
        QCOMPARE(s0["rank"].get<int>(), 2);
        QCOMPARE(s0["bytes_in_per_step"].get<double>(), 2000.0);
        QCOMPARE(s0["bytes_out_per_step"].get<double>(), 2000.0);
        QVERIFY(std::fabs(s0["queue_mean_us"].get<double>() - 170.0) < 1e-9);
        QVERIFY(std::fabs(s0["queue_p95_us"].get<double>() - 330.0) < 1e-9);
        QCOMPARE(j["ps_servers"][1]["bytes_in_per_step"].get<double>(), 1200.0);
        QCOMPARE(j["ps_workers"].size(), size_t(2));
        const json& w0 = j["ps_workers"][0];
        QVERIFY(std::fabs(w0["ps_wait_per_step_us"].get<double>() - 100.0) < 1e-9);
        QVERIFY(std::fabs(w0["pull_wait_per_step_us"].get<double>() - 340.0) < 1e-9);
        QVERIFY(std::fabs(w0["wait_per_step_us"].get<double>() - 440.0) < 1e-9);
        QCOMPARE(j["ps_workers"][1]["slowed_by_knob"].get<std::string>(), std::string("x2"));
        QCOMPARE(j["stragglers"][1]["slowed_by_knob"].get<std::string>(), std::string("x2"));
        const json& st = j["ps_staleness"][0];
        QCOMPARE(st["bound"].get<std::string>(), std::string("SSP (s = 1)"));
        QCOMPARE(st["observed_max"].get<double>(), 2.0);
        QCOMPARE(st["distribution"].get<std::string>(), std::string("0: 5, 1: 2, 2: 1"));
        QCOMPARE(st["recorded_max"].get<double>(), 2.0);
        // The text table names the sections; an all-reduce run has none of them.
        auto table = cli({QStringLiteral("stats"), ps});
        QVERIFY2(table.code == 0, table.err.c_str());
        QVERIFY(table.out.find("ps_servers") != std::string::npos);
        QVERIFY(table.out.find("ps_staleness") != std::string::npos);
        auto csv = cli({QStringLiteral("stats"), ps, QStringLiteral("--format"), QStringLiteral("csv")});
        QVERIFY(csv.out.find("run,server,rank,pushes_per_step,bytes_in_per_step") != std::string::npos);
        auto plain = cli({QStringLiteral("stats"), runs_, QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(plain.code == 0, plain.err.c_str());
        const json pj = json::parse(plain.out);
        QVERIFY(!pj.contains("ps_servers") && !pj.contains("ps_workers") && !pj.contains("ps_staleness"));
    }

    void scaling() {
        Result r = cli({QStringLiteral("scaling"), study_, QStringLiteral("--project"), QStringLiteral("64"),
                        QStringLiteral("--project"), QStringLiteral("1024"), QStringLiteral("--format"),
                        QStringLiteral("json"), QStringLiteral("--bootstrap"), QStringLiteral("100")});
        QVERIFY2(r.code == 0, r.err.c_str());
        json j = json::parse(r.out);
        QCOMPARE(j["points"].size(), size_t(3));
        QVERIFY(std::fabs(j["points"][1]["speedup"].get<double>() - 1 / 0.55) < 1e-9);
        bool amdahl = false;
        for (const auto& f : j["fits"])
            if (f["law"] == "amdahl") {
                amdahl = true;
                QVERIFY(std::fabs(f["value"].get<double>() - 0.1) < 1e-9);
            }
        QVERIFY(amdahl);
        QCOMPARE(j["projections"].size(), size_t(6));  // 3 laws × 2 p
        QVERIFY(j["efficiency_below"].size() == 3);
        QVERIFY(!j["warnings"].empty());  // 3 points: USL has no degrees of freedom

        Result csv = cli({QStringLiteral("scaling"), study_, QStringLiteral("--format"), QStringLiteral("csv")});
        QVERIFY2(csv.code == 0, csv.err.c_str());
        QVERIFY(csv.out.find("study,p,runs,time_ms") != std::string::npos);
        Result table = cli({QStringLiteral("scaling"), study_, QStringLiteral("--study"), QStringLiteral("1")});
        QVERIFY2(table.code == 0, table.err.c_str());
        QVERIFY(table.out.find("karp_flatt") != std::string::npos);
    }

    void compare() {
        Result r = cli({QStringLiteral("compare"), runs_ + QStringLiteral(":1"), runs_ + QStringLiteral(":2"),
                        QStringLiteral("--warmup"), QStringLiteral("0"), QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY2(r.code == 0, r.err.c_str());
        json j = json::parse(r.out);
        QCOMPARE(j["summary"][0]["metric"].get<std::string>(), std::string("step_time_median_ms"));
        QVERIFY(std::fabs(j["summary"][0]["rel_pct"].get<double>() + 40.0) < 1e-9);
        QCOMPARE(j["kernels"][0]["name"].get<std::string>(), std::string("sgemm"));
        QVERIFY(std::fabs(j["kernels"][0]["delta_us"].get<double>() + 400.0) < 1e-9);
        const std::string v = j["verdict"][0]["verdict"].get<std::string>();
        QVERIFY2(v.find("B is 40.0% faster than A") != std::string::npos, v.c_str());

        Result t = cli({QStringLiteral("compare"), runs_ + QStringLiteral(":1"), runs_ + QStringLiteral(":2")});
        QVERIFY2(t.code == 0, t.err.c_str());
        QVERIFY(t.out.find("verdict") != std::string::npos);

        Result s = cli({QStringLiteral("compare"), study_, study_ + QStringLiteral(":s1"), QStringLiteral("--format"),
                        QStringLiteral("csv"), QStringLiteral("--bootstrap"), QStringLiteral("20")});
        QVERIFY2(s.code == 0, s.err.c_str());
        QVERIFY2(s.out.find("scales like A") != std::string::npos, s.out.c_str());
    }

    void exitCodes() {
        // Bad usage: 2.
        QCOMPARE(cli({QStringLiteral("stats"), runs_, QStringLiteral("--format"), QStringLiteral("xml")}).code, 2);
        QCOMPARE(cli({QStringLiteral("stats"), runs_, QStringLiteral("--warmup"), QStringLiteral("-1")}).code, 2);
        QCOMPARE(cli({QStringLiteral("stats"), runs_, QStringLiteral("--peak-flops"), QStringLiteral("fast")}).code, 2);
        QCOMPARE(cli({QStringLiteral("scaling"), study_, QStringLiteral("--project"), QStringLiteral("0")}).code, 2);
        QCOMPARE(cli({QStringLiteral("scaling"), study_, QStringLiteral("--threshold"), QStringLiteral("2")}).code, 2);
        QCOMPARE(cli({QStringLiteral("compare"), runs_ + QStringLiteral(":1")}).code, 2);
        Result nohw = cli({QStringLiteral("stats"), runs_, QStringLiteral("--hardware"), dir_.filePath(QStringLiteral("absent.json"))});
        QCOMPARE(nohw.code, 1);
        QVERIFY2(nohw.err.find("cannot read hardware file") != std::string::npos, nohw.err.c_str());
        Result ambiguous = cli({QStringLiteral("compare"), runs_, runs_ + QStringLiteral(":1")});
        QCOMPARE(ambiguous.code, 2);
        QVERIFY2(ambiguous.err.find("holds 2 runs (1, 2)") != std::string::npos, ambiguous.err.c_str());
        Result mixed = cli({QStringLiteral("compare"), runs_ + QStringLiteral(":1"), study_});
        QCOMPARE(mixed.code, 2);
        QVERIFY2(mixed.err.find("two runs or two studies") != std::string::npos, mixed.err.c_str());

        // Failures: 1, with a message naming what is missing.
        Result nostudy = cli({QStringLiteral("scaling"), runs_});
        QCOMPARE(nostudy.code, 1);
        QVERIFY2(nostudy.err.find("has no scaling study") != std::string::npos, nostudy.err.c_str());
        // A run without a step recorded on every rank: no breakdown, but its stored kernel totals,
        // said so (issue 13: what the Summary page shows, the CLI shows too).
        Result nosteps = cli({QStringLiteral("stats"), empty_});
        QCOMPARE(nosteps.code, 0);
        QVERIFY2(nosteps.out.find("run 1 has no step recorded on every rank") != std::string::npos &&
                     nosteps.out.find("totals from the aggregates stored at merge") != std::string::npos,
                 nosteps.out.c_str());
        QVERIFY2(nosteps.out.find("gemm") != std::string::npos, nosteps.out.c_str());
        Result norun = cli({QStringLiteral("compare"), runs_ + QStringLiteral(":1"), runs_ + QStringLiteral(":7")});
        QCOMPARE(norun.code, 1);
        QVERIFY2(norun.err.find("has no run 7") != std::string::npos, norun.err.c_str());
        Result nofile = cli({QStringLiteral("stats"), dir_.filePath(QStringLiteral("absent.sqlite"))});
        QCOMPARE(nofile.code, 1);
        Result nostudy9 = cli({QStringLiteral("scaling"), study_, QStringLiteral("--study"), QStringLiteral("9")});
        QCOMPARE(nostudy9.code, 1);
        QVERIFY2(nostudy9.err.find("no study 9") != std::string::npos, nostudy9.err.c_str());
    }
};

QTEST_GUILESS_MAIN(TestCoreAnalysisCli)
#include "tst_core_analysis_cli.moc"

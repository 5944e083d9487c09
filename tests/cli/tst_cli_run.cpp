// scalescope-cli run / study / calibrate through the real binary, mpirun and scalescope-worker:
// exit codes, the study recorded in the trace (one run per point with its value), a failing run,
// the hardware file and its copy in a trace.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/sim/hardware.h"
#include "traces/reader.h"

using namespace ss::traces;
using nlohmann::json;

class TestCliRun : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    struct Result {
        int code;
        std::string out, err;
    };
    static Result cli(const QStringList& args, int timeout_ms = 180000) {
        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI), args);
        if (!p.waitForFinished(timeout_ms)) {
            p.kill();
            p.waitForFinished();
            return {-1, "", "timeout"};
        }
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
                p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
    }
    QString file(const char* n) { return dir_.filePath(QString::fromUtf8(n)); }
    // A small MLP: a few steps of a 784-32-10 network.
    QString write_spec(const char* name, const json& extra = json::object()) {
        json spec = {{"name", "cli-mlp"},
                     {"model", {{"kind", "mlp"}, {"hidden", {32}}}},
                     {"training", {{"steps", 6}, {"global_batch", 32}}},
                     {"parallel", {{"dp", 1}}}};
        spec.merge_patch(extra);
        std::ofstream f(file(name).toStdString());
        f << "// written by tst_cli_run\n" << spec.dump(2) << "\n";
        return file(name);
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void study_holds_one_run_per_point_with_its_value() {
        const QString spec = write_spec("study.json");
        const Result r = cli({"study", spec, "--vary", "dp=1,2", "--repeat", "2", "-o", file("study.sqlite"),
                              "--format", "json", "--quiet"});
        QVERIFY2(r.code == 0, (r.out + r.err).c_str());
        TraceReader rd(file("study.sqlite").toStdString());
        const auto studies = rd.studies();
        QCOMPARE(studies.size(), size_t(1));
        QCOMPARE(studies[0].variable, std::string("parallel.dp"));
        QCOMPARE(studies[0].scaling, std::string("strong"));
        const auto points = rd.study_runs(studies[0].id);
        QCOMPARE(points.size(), size_t(4));  // 2 values x 2 repeats
        QCOMPARE(rd.runs().size(), size_t(4));
        for (const auto& p : points) {
            const RunInfo run = rd.run(p.run);
            QCOMPARE(run.status, RunStatus::Completed);
            QCOMPARE(p.value, std::to_string(run.dp));  // the swept value is the run's dp
            QCOMPARE(p.p, run.world_size);
            QVERIFY(run.event_count > 0);
            const json s = json::parse(run.spec_json);
            QCOMPARE(s["training"]["global_batch"].get<int>(), 32);  // strong scaling
        }
        QCOMPARE(points[0].value, std::string("1"));
        QCOMPARE(points[3].value, std::string("2"));
        QCOMPARE(points[1].repeat, 1);
        // One fresh run folder per point and repeat, beside the trace file (core::run_study).
        QCOMPARE(QDir(file("study-runs")).entryList(QDir::Dirs | QDir::NoDotAndDotDot),
                 (QStringList{"001-cli-mlp-dp1-r0", "002-cli-mlp-dp1-r1", "003-cli-mlp-dp2-r0", "004-cli-mlp-dp2-r1"}));
        // The summary: speedup of the reference point is its p.
        const json out = json::parse(r.out);
        QCOMPARE(out["study"].size(), size_t(2));
        QCOMPARE(out["study"][0]["p"].get<int>(), 1);
        QCOMPARE(out["study"][0]["speedup"].get<double>(), 1.0);
        QVERIFY(out["study"][1]["efficiency"].get<double>() > 0);
    }

    void weak_study_scales_the_global_batch() {
        const QString spec = write_spec("weak.json", {{"training", {{"global_batch", 16}}}});
        const Result r = cli({"study", spec, "--vary", "dp=1,2", "--weak", "-o", file("weak.sqlite"), "--quiet"});
        QVERIFY2(r.code == 0, (r.out + r.err).c_str());
        TraceReader rd(file("weak.sqlite").toStdString());
        QCOMPARE(rd.studies().at(0).scaling, std::string("weak"));
        for (const auto& run : rd.runs())
            QCOMPARE(json::parse(run.spec_json)["training"]["global_batch"].get<int>(), 16 * run.dp);
    }

    void failing_run_exits_1_and_is_recorded_failed() {
        const QString spec = write_spec("fail.json", {{"parallel", {{"dp", 2}}},
                                                      {"training", {{"steps", 20}}},
                                                      {"launch", {{"env", {{"SCALESCOPE_WORKER_FAULT", "0:2"}}}}}});
        const Result r = cli({"run", spec, "-o", file("fail.sqlite"), "--quiet"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.out.find("reason: rank 0") != std::string::npos, r.out.c_str());
        const auto runs = TraceReader(file("fail.sqlite").toStdString()).runs();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, RunStatus::Failed);
        QVERIFY2(runs[0].failure_reason.find("injected fault at step 2") != std::string::npos,
                 runs[0].failure_reason.c_str());
    }

    // A failed point does not stop the study (exit 1, every point recorded) unless
    // --stop-on-failure. Rank 1 fails at step 2: only the dp=2 point has a rank 1.
    void study_goes_on_past_a_failed_point() {
        const QString spec = write_spec("flaky.json", {{"training", {{"steps", 4}}},
                                                       {"launch", {{"env", {{"SCALESCOPE_WORKER_FAULT", "1:2"}}}}}});
        Result r = cli({"study", spec, "--vary", "dp=2,1", "-o", file("flaky.sqlite"), "--quiet"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.find("[1/2 2] failed") != std::string::npos && r.err.find("[2/2 1] completed") != std::string::npos,
                 r.err.c_str());
        {
            TraceReader rd(file("flaky.sqlite").toStdString());
            const auto points = rd.study_runs(rd.studies().at(0).id);
            QCOMPARE(points.size(), size_t(2));
            for (const auto& p : points)
                QCOMPARE(rd.run(p.run).status, p.value == "2" ? RunStatus::Failed : RunStatus::Completed);
        }
        r = cli({"study", spec, "--vary", "dp=2,1", "-o", file("flaky-stop.sqlite"), "--quiet", "--stop-on-failure"});
        QCOMPARE(r.code, 1);
        TraceReader rd(file("flaky-stop.sqlite").toStdString());
        QCOMPARE(rd.study_runs(rd.studies().at(0).id).size(), size_t(1));
        QCOMPARE(rd.study_runs(rd.studies().at(0).id)[0].value, std::string("2"));
        QCOMPARE(rd.runs().size(), size_t(1));
    }

    void bad_input_exits_2() {
        const QString spec = write_spec("bad.json", {{"parallel", {{"tp", 3}}}});
        Result r = cli({"run", spec, "-o", file("bad.sqlite")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.find("parallel.tp=3 must divide") != std::string::npos, r.err.c_str());
        r = cli({"run", write_spec("ok.json"), "-o", file("bad.sqlite"), "--set", "parallel.tpp=2"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.find("parallel.tpp") != std::string::npos, r.err.c_str());
        r = cli({"run", write_spec("ok2.json")});
        QCOMPARE(r.code, 2);  // no -o
        r = cli({"study", write_spec("ok3.json"), "-o", file("s.sqlite"), "--vary", "tp=3,5"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.find("point 3") != std::string::npos && r.err.find("point 5") != std::string::npos, r.err.c_str());
        QVERIFY(!QFile::exists(file("s.sqlite")));  // nothing started, nothing written
        r = cli({"calibrate", "-o", file("hw.json"), "--sizes", "4Q"});
        QCOMPARE(r.code, 2);
    }

    // Issue 13: the worker reads its spec with the one loader, so a key given twice is refused
    // with --set overrides as without them (it used to skip the check when --set was given).
    void worker_refuses_a_duplicate_key_with_set_given() {
        const QString spec = file("dup.json");
        {
            std::ofstream f(spec.toStdString());
            f << "{\"name\": \"dup\", \"model\": {\"kind\": \"mlp\", \"hidden\": [32]},\n"
                 " \"training\": {\"steps\": 2, \"steps\": 3, \"global_batch\": 8}}\n";
        }
        for (const QStringList& extra : {QStringList{}, QStringList{"--set", "training.lr=0.01"}}) {
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("OMPI_ALLOW_RUN_AS_ROOT", "1");
            env.insert("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
            p.setProcessEnvironment(env);
            p.start(QStringLiteral(SCALESCOPE_WORKER_PATH), QStringList{spec} + extra);
            QVERIFY(p.waitForFinished(60000));
            const QString err = QString::fromUtf8(p.readAllStandardError());
            QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 2,
                     qPrintable(extra.join(' ') + ": exit " + QString::number(p.exitCode()) + "\n" + err));
            QVERIFY2(err.contains("duplicate key training.steps"), qPrintable(extra.join(' ') + ": " + err));
            // The CLI reads it with the same loader (it used to drop the duplicate-key check).
            const Result r = cli(QStringList{"run", spec, "-o", file("dup.sqlite"), "--dry-run"} + extra);
            QVERIFY2(r.code == 2 && r.err.find("duplicate key training.steps") != std::string::npos,
                     (std::to_string(r.code) + ": " + r.out + r.err).c_str());
        }
    }

    void dry_run_prints_the_command() {
        const Result r = cli({"run", write_spec("dry.json", {{"parallel", {{"dp", 4}}}}), "-o", file("dry.sqlite"),
                              "--dry-run"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(r.out.find("--tag-output -np 4") != std::string::npos, r.out.c_str());
        QVERIFY(r.out.find("scalescope-worker") != std::string::npos);
        QVERIFY(!QFile::exists(file("dry.sqlite")));
    }

    void calibrate_writes_the_hardware_file_and_stores_it() {
        const Result r = cli({"calibrate", "-o", file("hw.json"), "--np", "2", "--sizes", "4K,64K,256K", "--iters",
                              "5", "--trace", file("study.sqlite"), "--quiet"});
        QVERIFY2(r.code == 0, (r.out + r.err).c_str());
        QVERIFY2(r.out.find("alpha_us") != std::string::npos && r.out.find("busbw_GBps") != std::string::npos,
                 r.out.c_str());
        std::ifstream f(file("hw.json").toStdString());
        const json hw = json::parse(f);
        QCOMPARE(hw["format"].get<std::string>(), std::string("scalescope-hardware"));
        QCOMPARE(hw["ranks"].get<int>(), 2);
        for (const char* c : {"all_reduce", "reduce_scatter", "all_gather", "broadcast", "send_recv", "iall_reduce",
                              "ireduce_scatter"}) {
            QVERIFY2(hw["collectives"].contains(c), c);
            QVERIFY(hw["collectives"][c]["beta_s_per_byte"].get<double>() > 0);
            QVERIFY(hw["collectives"][c]["alpha_s"].get<double>() >= 0);
        }
        // 3 sizes x 7 collectives, 5 repeats each (the trainer's way), their spread and the fits' quality
        QCOMPARE(hw["measurements"].size(), size_t(3 * 7 * 5));
        QCOMPARE(hw["spread"].size(), size_t(3 * 7));
        for (const auto& sp : hw["spread"]) {
            QCOMPARE(sp["repeats"].get<int>(), 5);
            QVERIFY(sp["min_s"].get<double>() <= sp["median_s"].get<double>() &&
                    sp["median_s"].get<double>() <= sp["max_s"].get<double>());
        }
        QCOMPARE(hw["collectives"]["all_reduce"]["fit_method"].get<std::string>(), std::string("huber-irls"));
        QCOMPARE(hw["collectives"]["all_reduce"]["samples"].get<int>(), 15);
        QVERIFY(hw["collectives"]["all_reduce"].contains("fit_r2") && hw["collectives"]["all_reduce"].contains("dropped"));
        QVERIFY2(r.out.find("fit_r2") != std::string::npos && r.out.find("spread_pct") != std::string::npos, r.out.c_str());
        // the compute classes: a matmul table, element-wise and optimizer rates by bytes, the kernel overhead
        const auto& cc = hw["compute_classes"];
        QCOMPARE(cc["matmul"]["points"].size(), size_t(4 * 4));  // the CPU's default widths x rows
        for (const auto& p : cc["matmul"]["points"]) QVERIFY(p["flop_per_s"].get<double>() > 1e7);
        QVERIFY(cc["elementwise"]["points"].size() >= 5 && cc["optimizer"]["points"].size() >= 4);
        QVERIFY(cc["kernel_overhead_s"].get<double>() > 0 && cc["kernel_overhead_s"].get<double>() < 1e-3);
        QVERIFY2(r.out.find("compute_classes") != std::string::npos, r.out.c_str());
        for (const auto& m : hw["measurements"]) {
            const double algbw = m["bytes"].get<double>() / m["time_s"].get<double>();
            QVERIFY(std::abs(m["algbw_bytes_per_s"].get<double>() - algbw) <= 1e-9 * algbw);
        }
        QVERIFY(hw["compute"]["sgemm_flops"].get<double>() > 1e8);
        QVERIFY(hw["memory"]["bandwidth_bytes_per_s"].get<double>() > 1e8);
        // every rank's compute at once, and the overlap of a non-blocking all-reduce
        QCOMPARE(hw["compute"]["all_ranks"]["ranks"].get<int>(), 2);
        QCOMPARE(hw["compute"]["all_ranks"]["sgemm_flops_per_rank"].size(), size_t(2));
        QVERIFY(hw["compute"]["all_ranks"]["sgemm_flops_mean"].get<double>() > 1e8);
        QVERIFY(hw["memory"]["all_ranks"]["bandwidth_bytes_per_s_mean"].get<double>() > 1e8);
        const double ovl = hw["overlap"]["fraction"].get<double>();
        QVERIFY(ovl >= 0 && ovl <= 1);
        QCOMPARE(hw["overlap"]["trials"].size(), size_t(5));
        QVERIFY(hw["overlap"]["pure_s"].get<double>() > 0);
        // the simulator reads it back, the non-blocking fits included
        const ss::core::Hardware h = ss::core::load_hardware(file("hw.json").toStdString());
        QCOMPARE(h.overlap, ovl);
        QVERIFY(h.intra_fit[static_cast<std::size_t>(ss::core::FitSlot::IAllReduce)].beta_s_per_byte > 0);
        QVERIFY(h.classes.present());
        QCOMPARE(h.fit_quality[0].method, std::string("huber-irls"));
        TraceReader rd(file("study.sqlite").toStdString());
        const auto cal = rd.calibrations();
        QCOMPARE(cal.size(), size_t(1));
        QVERIFY(json::parse(cal[0].hardware_json) == hw);
        QCOMPARE(rd.runs().size(), size_t(4));  // the study's runs are untouched

        // --from-trace on the study's dp2 run: one bucket and one loss all-reduce per step, each of one
        // size only, so alpha and beta cannot be told apart: named, exit 1. The dp1 run has no collective.
        Result t = cli({"calibrate", "--from-trace", file("study.sqlite"), "--hardware", file("hw.json")});
        QCOMPARE(t.code, 1);
        QVERIFY2(t.err.find("iall_reduce p=2") != std::string::npos && t.err.find("unidentifiable") != std::string::npos &&
                     t.err.find("no collective could be fitted") != std::string::npos,
                 t.err.c_str());
        std::int64_t dp1 = 0;
        for (const auto& run : rd.runs())
            if (run.world_size == 1) dp1 = run.id.value;
        t = cli({"calibrate", "--from-trace", file("study.sqlite"), "--run", QString::number(dp1)});
        QCOMPARE(t.code, 1);
        QVERIFY2(t.err.find("has no collectives") != std::string::npos, t.err.c_str());
    }
};

QTEST_GUILESS_MAIN(TestCliRun)
#include "tst_cli_run.moc"

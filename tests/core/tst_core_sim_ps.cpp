// The simulator's parameter server and staleness (issue 18; docs/SIMULATOR.md "Parameter server
// and staleness"): the closed forms against hand-worked values (server bottleneck and sharding,
// BSP with a straggler, async rates and the servers' fair share, SSP's steady state), the
// straggler under all-reduce, and the event simulation of the replay engine against the analytic
// engine on several configurations.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <string>

#include "core/sim/hardware.h"
#include "core/sim/sim_replay.h"
#include "core/sim/sim_trace.h"
#include "core/sim/simulator.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;

namespace {

bool near(double a, double b, double rel) {
    return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)) + 1e-15;
}
#define EXPECT_NEAR(a, b, rel)      \
    QVERIFY2(near((a), (b), (rel)), \
             qPrintable(QStringLiteral("%1 != %2").arg((a), 0, 'g', 12).arg((b), 0, 'g', 12)))

// One node of 8 ranks (or 2 per node: the servers on other nodes), no kernel overhead.
Hardware hand_hw(int per_node = 8) {
    Hardware hw;
    hw.name = "hand";
    hw.flop_per_s = 1e11;
    hw.mem_bw_bytes_per_s = 1e10;
    hw.devices_per_node = per_node;
    hw.intra = {1e-6, 1e-9};  // 1 us, 1 GB/s
    hw.inter = {1e-5, 4e-9};  // 10 us, 250 MB/s
    return hw;
}

// The MLP (269,322 parameters: 1.08 MB of gradient, ~1.1 ms per message on the intra link) at
// 512 samples per replica by default: ~8 ms of compute per step, the servers far from saturation.
ExperimentSpec mlp(int dp, int servers = 0, int staleness = 0, int slow = -1, double factor = 1,
                   int batch = 0) {
    ExperimentSpec s;
    s.name = "t";
    s.model = model_preset("mlp", "default");
    s.model.kind = "mlp";
    s.model.preset = "default";
    s.data.path = "/nonexistent";
    s.training.global_batch = batch > 0 ? batch : 512 * dp;
    s.parallel.dp = dp;
    if (servers > 0) {
        s.parallel.dp_sync = "parameter_server";
        s.parallel.servers = servers;
        s.parallel.staleness = staleness;
    }
    s.training.slow_rank = slow;
    s.training.slow_factor = factor;
    return s;
}

}  // namespace

class TestCoreSimPs : public QObject {
    Q_OBJECT

private slots:
    // step = max_k [q_0..q_k + C_k + c_k..c_(n-1)] + A on hand numbers.
    void bspClosedForm() {
        // 4 equal replicas, c = q = 0.1, A = 0.05: 4 pulls + compute + the last push.
        EXPECT_NEAR(ps_bsp_step({1, 1, 1, 1}, {0.1, 0.1, 0.1, 0.1}, {0.1, 0.1, 0.1, 0.1}, 0.05),
                    1.55, 1e-12);
        // pushes slower than pulls: they queue behind the first one (0.1 + 1 + 4 × 0.2 + 0.05)
        EXPECT_NEAR(ps_bsp_step({1, 1, 1, 1}, {0.2, 0.2, 0.2, 0.2}, {0.1, 0.1, 0.1, 0.1}, 0.05),
                    1.95, 1e-12);
        // a straggler ×2 pushes last: 2 × compute + 4 pulls + its push + the update
        EXPECT_NEAR(ps_bsp_step({1, 1, 1, 2}, {0.1, 0.1, 0.1, 0.1}, {0.1, 0.1, 0.1, 0.1}, 0.05),
                    2.55, 1e-12);
    }

    // x_d = min(1/τ_d, λ): the own rates when the servers keep up, the fair share when not.
    void asyncRates() {
        auto x = ps_async_rates({1, 1, 1, 2}, {0.01, 0.01, 0.01, 0.01});
        QCOMPARE(x.size(), std::size_t{4});
        EXPECT_NEAR(x[0] + x[1] + x[2] + x[3], 3.5, 1e-12);  // the sum of the workers' rates
        EXPECT_NEAR(x[3], 0.5, 1e-12);
        // 0.3 s of the server per gradient: 3.5 × 0.3 > 1; the slow keeps 0.5, the others share
        // 0.85
        x = ps_async_rates({1, 1, 1, 2}, {0.3, 0.3, 0.3, 0.3});
        EXPECT_NEAR(x[3], 0.5, 1e-12);
        EXPECT_NEAR(x[0], 0.85 / 0.9, 1e-12);
        // 0.5 s each: everyone at the server's share, 0.5
        x = ps_async_rates({1, 1, 1, 2}, {0.5, 0.5, 0.5, 0.5});
        for (double r : x) EXPECT_NEAR(r, 0.5, 1e-12);
    }

    // Server bottleneck and sharding: S = 1, dp = 4 puts 4 gradients through one link; S = 2
    // halves each server's bytes and each message's β term.
    void serverBytesAndSharding() {
        const Hardware hw = hand_hw();
        const double P = static_cast<double>(param_count(mlp(4).model));
        const Workload w1 = build_workload(mlp(4, 1)), w2 = build_workload(mlp(4, 2));
        const ComputeRates R = rates_from_hardware(hw);
        const PsCosts c1 = ps_costs(w1, hw, R), c2 = ps_costs(w2, hw, R);
        QCOMPARE(c1.in_bytes.size(), std::size_t{1});
        EXPECT_NEAR(c1.in_bytes[0], 4 * 4 * P, 1e-12);
        EXPECT_NEAR(c1.out_bytes[0], 4 * 4 * P, 1e-12);
        QCOMPARE(c2.in_bytes.size(), std::size_t{2});
        EXPECT_NEAR(c2.in_bytes[0], 2 * 4 * P, 1e-12);
        EXPECT_NEAR(c2.in_bytes[1], 2 * 4 * P, 1e-12);
        EXPECT_NEAR(c1.push_of(0, 0), 1e-6 + 4 * P * 1e-9, 1e-12);  // one message on the intra link
        EXPECT_NEAR(c2.push_of(3, 1), 1e-6 + 2 * P * 1e-9, 1e-12);
        // the update: AdamW (32 B per parameter) on the server's shard, 2 kernels
        EXPECT_NEAR(c1.apply_s, 32 * P / 1e10, 1e-12);
        EXPECT_NEAR(c2.apply_s, 16 * P / 1e10, 1e-12);
        // Servers on another node (2 ranks per node: workers 0-3 on nodes 0-1, servers 4-5 on node
        // 2)
        const PsCosts ci = ps_costs(w1, hand_hw(2), R);
        EXPECT_NEAR(ci.push_of(0, 0), 1e-5 + 4 * P * 4e-9, 1e-12);

        // The analytic step: BSP, equal replicas, c = q (fp32): C + 4q + c + A. S = 2 saves
        // 5 × (c1 − c2) + A1 − A2.
        const SimResult r1 = simulate_analytic(mlp(4, 1), hw),
                        r2 = simulate_analytic(mlp(4, 2), hw);
        QVERIFY(r1.ps.enabled);
        QCOMPARE(r1.ps.mode, std::string("bsp"));
        const double C = r1.step_s - 5 * c1.push_of(0, 0) - c1.apply_s;
        QVERIFY(C > 0);
        EXPECT_NEAR(r2.step_s, C + 5 * c2.push_of(0, 0) + c2.apply_s, 1e-9);
        EXPECT_NEAR(r1.step_s - r2.step_s, 5 * 2 * P * 1e-9 + 16 * P / 1e10, 1e-9);
        EXPECT_NEAR(r1.ps.gradients_per_s, 4 / r1.step_s, 1e-12);
        QCOMPARE(r1.ps.staleness_mean, 0.0);
        EXPECT_NEAR(r1.ps.server_in_bytes[0], 16 * P, 1e-12);
        // the compute is the replica's: a single rank's step at its batch without the optimizer
        ExperimentSpec one = mlp(1);
        const Workload w = build_workload(one);
        const double opt =
            optimizer_time(w.stages[0].params, 1, static_cast<int>(w.stages[0].layers.size()), R);
        EXPECT_NEAR(C, simulate_analytic(one, hw).step_s - opt, 1e-9);
    }

    // BSP with one worker ×2: step = 2 × compute + the comm (the straggler pushes last).
    void bspStraggler() {
        const Hardware hw = hand_hw();
        const SimResult plain = simulate_analytic(mlp(4, 1), hw);
        const SimResult slow = simulate_analytic(mlp(4, 1, 0, 2, 2.0), hw);
        const double comm =
            5 * plain.ps.push_s + plain.ps.apply_s;  // 4 pulls + the last push + the update
        const double C = plain.step_s - comm;
        EXPECT_NEAR(slow.step_s, 2 * C + comm, 1e-9);
        // every replica's step is the step; the fast ones wait C per step, the slow none
        EXPECT_NEAR(slow.ps.replica_wait_s[0], C + 3 * plain.ps.push_s, 1e-9);
        EXPECT_NEAR(slow.ps.replica_wait_s[2], 3 * plain.ps.pull_s, 1e-9);
    }

    // Async: the fast run at their own speed, updates/s = the sum of the rates; staleness grows
    // with the steps the fast ones gain on the straggler.
    void asyncStraggler() {
        const Hardware hw = hand_hw();
        const SimResult plain = simulate_analytic(mlp(4, 1, ParallelSpec::kAsync), hw);
        const SimResult r = simulate_analytic(mlp(4, 1, ParallelSpec::kAsync, 0, 2.0), hw);
        const double cyc = plain.ps.replica_step_s[1];  // C + c + A + q, nobody waits
        const double own = plain.ps.push_s + plain.ps.apply_s + plain.ps.pull_s, C = cyc - own;
        EXPECT_NEAR(r.ps.replica_step_s[1], cyc, 1e-9);
        EXPECT_NEAR(r.ps.replica_step_s[0], 2 * C + own, 1e-9);
        EXPECT_NEAR(r.ps.gradients_per_s, 3 / cyc + 1 / (2 * C + own), 1e-9);
        EXPECT_NEAR(r.step_s, 4 / r.ps.gradients_per_s, 1e-12);
        EXPECT_NEAR(r.ps.job_step_s, 2 * C + own, 1e-9);
        // Staleness (t − the servers' step version, over the spec's 100 steps): equal replicas, the
        // first 3 of 4 to push see the last one's step missing: 3/4 (step 0: 0).
        EXPECT_NEAR(plain.ps.staleness_mean, 0.75 * 99 / 100, 1e-9);
        // the straggler is the version: 0; the fast ones run ahead by g = 1 − x_slow/x_fast per
        // step, g·t at step t: mean g·99/2, largest g·99
        const double g = 1 - cyc / (2 * C + own);
        QCOMPARE(r.ps.replica_staleness[0], 0.0);
        EXPECT_NEAR(r.ps.replica_staleness[1], g * 99 / 2, 1e-9);
        EXPECT_NEAR(r.ps.staleness_mean, 3 * g * 99 / 2 / 4, 1e-9);
        EXPECT_NEAR(r.ps.staleness_max, g * 99, 1e-9);
        QCOMPARE(r.ps.replica_wait_s[1], 0.0);
    }

    // SSP(s) with a persistent straggler: in the long run everyone runs at its rate; the fast
    // ones wait, s steps ahead of it.
    void sspStraggler() {
        const Hardware hw = hand_hw();
        const SimResult r = simulate_analytic(mlp(4, 1, 3, 0, 2.0), hw);
        const SimResult a = simulate_analytic(mlp(4, 1, ParallelSpec::kAsync, 0, 2.0), hw);
        QCOMPARE(r.ps.mode, std::string("ssp(3)"));
        for (double s : r.ps.replica_step_s) EXPECT_NEAR(s, a.ps.replica_step_s[0], 1e-9);
        EXPECT_NEAR(r.ps.replica_wait_s[1], a.ps.replica_step_s[0] - a.ps.replica_step_s[1], 1e-9);
        // staleness: the straggler 0; the others run ahead by g = 1 − τ_fast/τ_slow per step until
        // the bound 3 (step T = 3/g), then stay there: mean over the 100 steps
        const double g = 1 - a.ps.replica_step_s[1] / a.ps.replica_step_s[0], T = 3 / g;
        QVERIFY(T < 99);
        QCOMPARE(r.ps.replica_staleness[0], 0.0);
        EXPECT_NEAR(r.ps.replica_staleness[1], (g * T * (T + 1) / 2 + 3 * (99 - T)) / 100, 1e-9);
        EXPECT_NEAR(r.ps.staleness_max, 3.0, 1e-12);
        // and it beats BSP by the sync it no longer pays
        const SimResult b = simulate_analytic(mlp(4, 1, 0, 0, 2.0), hw);
        QVERIFY(r.step_s < b.step_s);
    }

    // The straggler under all-reduce (BSP by nature): the step grows by (f − 1) × its compute, in
    // both engines.
    void allreduceStraggler() {
        const Hardware hw = hand_hw();
        ExperimentSpec s1 = mlp(2), s2 = mlp(2, 0, 0, 1, 2.0), s3 = mlp(2, 0, 0, 1, 3.0);
        for (ExperimentSpec* s : {&s1, &s2, &s3}) s->parallel.overlap = false;
        const double t1 = simulate_analytic(s1, hw).step_s, t2 = simulate_analytic(s2, hw).step_s,
                     t3 = simulate_analytic(s3, hw).step_s;
        QVERIFY(t2 > t1 * 1.3);
        EXPECT_NEAR(t3 - t1, 2 * (t2 - t1), 1e-9);
        EXPECT_NEAR(simulate_replay(s2, hw).step_s, t2, 0.05);
        // with overlap (the buckets start when the slow rank's backward passes them)
        EXPECT_NEAR(simulate_replay(mlp(2, 0, 0, 1, 2.0), hw).step_s,
                    simulate_analytic(mlp(2, 0, 0, 1, 2.0), hw).step_s, 0.05);
    }

    // A recorded parameter-server run (2 workers + 1 server, async, worker 1 twice as slow): its
    // measured step is dp ÷ Σ 1/step_d = 2 / (1/10 + 1/20) ms, as SimResult::step_s counts it, and
    // its validation point carries the parameter server and the straggler in its layout.
    void measuredPsStep() {
        QTemporaryDir dir;
        const std::string f = dir.filePath(QStringLiteral("ps.sqlite")).toStdString();
        const std::string spec =
            R"({"name":"ps","model":{"kind":"mlp","hidden":[16]},"training":{"global_batch":8,)"
            R"("slow_rank":{"rank":1,"factor":2}},"parallel":{"dp":2,"dp_sync":"parameter_server",)"
            R"("servers":1,"staleness":"async"}})";
        ss::traces::RunId run;
        {
            ss::traces::TraceWriter w(f);
            ss::traces::RunInfo ri = afx::info("ps", 3, spec);
            ri.dp = 2;
            run = afx::write_run(w, ri,
                                 {{0, afx::steps_text(std::vector<std::int64_t>(12, 10'000'000))},
                                  {1, afx::steps_text(std::vector<std::int64_t>(6, 20'000'000))},
                                  {2, "host ps_apply 0 1000 lane=4\n"}});
        }
        ss::traces::TraceReader rd(f);
        const ExperimentSpec s = run_spec(rd.run(run));
        QVERIFY(s.parallel.parameter_server());
        EXPECT_NEAR(ps_measured_step_s(rd, run, s), 2.0 / (1.0 / 0.010 + 1.0 / 0.020), 1e-9);
        const ValidationReport rep = validate_runs(rd, hand_hw());
        QCOMPARE(rep.rows.size(), std::size_t{1});
        QCOMPARE(rep.rows[0].layout, std::string("dp2 tp1 pp1 m1 ps1 async slow1x2"));
        EXPECT_NEAR(rep.rows[0].measured_s, 2.0 / 150.0, 1e-9);
        // its trace is not replayed (the replicas step on their own): a named refusal
        try {
            replay_trace(rd, run);
            QFAIL("a parameter-server trace was replayed");
        } catch (const SimError& e) {
            QVERIFY(std::string(e.what()).find("parameter server") != std::string::npos);
        }
    }

    // The replay engine (event simulation over many steps) against the analytic engine.
    void replayAgrees_data() {
        QTest::addColumn<int>("dp");
        QTest::addColumn<int>("servers");
        QTest::addColumn<int>("staleness");
        QTest::addColumn<int>("slow");
        QTest::addColumn<double>("factor");
        QTest::addColumn<int>("per_node");
        QTest::newRow("bsp dp4 s1") << 4 << 1 << 0 << -1 << 1.0 << 8;
        QTest::newRow("bsp dp4 s2 slow x2") << 4 << 2 << 0 << 2 << 2.0 << 8;
        QTest::newRow("bsp dp4 s1 servers off-node") << 4 << 1 << 0 << -1 << 1.0 << 2;
        QTest::newRow("async dp4 s1 slow x2") << 4 << 1 << ParallelSpec::kAsync << 0 << 2.0 << 8;
        QTest::newRow("async dp2 s2") << 2 << 2 << ParallelSpec::kAsync << -1 << 1.0 << 8;
        QTest::newRow("ssp2 dp4 s1 slow x2") << 4 << 1 << 2 << 3 << 2.0 << 8;
        QTest::newRow("ssp1 dp3 s1 slow x1.5") << 3 << 1 << 1 << 1 << 1.5 << 8;
        QTest::newRow("async dp8 s1 saturated, off-node")
            << 8 << 1 << ParallelSpec::kAsync << -1 << 1.0 << 4;
        QTest::newRow("bsp dp8 s1 slow x1.5") << 8 << 1 << 0 << 5 << 1.5 << 16;
    }
    void replayAgrees() {
        QFETCH(int, dp);
        QFETCH(int, servers);
        QFETCH(int, staleness);
        QFETCH(int, slow);
        QFETCH(double, factor);
        QFETCH(int, per_node);
        const Hardware hw = hand_hw(per_node);
        const ExperimentSpec s = mlp(dp, servers, staleness, slow, factor);
        const SimResult a = simulate_analytic(s, hw), r = simulate_replay(s, hw);
        QVERIFY(a.ps.enabled && r.ps.enabled);
        qInfo(
            "%s: analytic step %.4f ms, %.1f gradients/s, staleness %.3f, server utilisation %.2f; "
            "replay step %.4f ms, %.1f gradients/s, staleness %.3f",
            QTest::currentDataTag(), a.step_s * 1e3, a.ps.gradients_per_s, a.ps.staleness_mean,
            a.ps.server_utilisation[0], r.step_s * 1e3, r.ps.gradients_per_s, r.ps.staleness_mean);
        EXPECT_NEAR(r.step_s, a.step_s, 0.03);
        EXPECT_NEAR(r.ps.job_step_s, a.ps.job_step_s, 0.03);
        for (int d = 0; d < dp; ++d)
            EXPECT_NEAR(r.ps.replica_step_s[static_cast<std::size_t>(d)],
                        a.ps.replica_step_s[static_cast<std::size_t>(d)], 0.03);
        // staleness: whole steps in the replay against g·t: within 10 % or 0.6 of a step
        QVERIFY2(std::abs(r.ps.staleness_mean - a.ps.staleness_mean) <=
                     std::max(0.6, 0.1 * a.ps.staleness_mean),
                 qPrintable(QStringLiteral("staleness %1 vs %2")
                                .arg(r.ps.staleness_mean)
                                .arg(a.ps.staleness_mean)));
        // the breakdown adds up to the step
        double sum = 0;
        for (double x : r.breakdown.part_ns) sum += x;
        EXPECT_NEAR(sum, r.breakdown.step_ns, 1e-6);
        sum = 0;
        for (double x : a.breakdown.part_ns) sum += x;
        EXPECT_NEAR(sum, a.breakdown.step_ns, 1e-6);
    }

    // Tensor and pipeline parallelism inside the replicas (GPT tiny dp2 tp2 pp2, 4 micro-batches,
    // two servers): the replica's compute is the pipeline in the analytic engine, its last rank's
    // end in the replay; a straggler on replica 0's stage 0.
    void replayAgreesGpt_data() {
        QTest::addColumn<int>("staleness");
        QTest::addColumn<double>("factor");
        QTest::newRow("bsp slow x2") << 0 << 2.0;
        QTest::newRow("ssp2 slow x2") << 2 << 2.0;
        QTest::newRow("ssp2 slow x1.01") << 2 << 1.01;
        QTest::newRow("async slow x2") << ParallelSpec::kAsync << 2.0;
    }
    void replayAgreesGpt() {
        QFETCH(int, staleness);
        QFETCH(double, factor);
        ExperimentSpec s;
        s.name = "t";
        s.model = model_preset("gpt", "tiny");
        s.model.kind = "gpt";
        s.model.preset = "tiny";
        s.data.path = "/nonexistent";
        s.training.global_batch = 32;
        s.parallel.dp = 2;
        s.parallel.tp = 2;
        s.parallel.pp = 2;
        s.parallel.micro_batches = 4;
        s.parallel.dp_sync = "parameter_server";
        s.parallel.servers = 2;
        s.parallel.staleness = staleness;
        s.training.slow_rank = 1;
        s.training.slow_factor = factor;
        const Hardware hw = hand_hw();
        const SimResult a = simulate_analytic(s, hw), r = simulate_replay(s, hw);
        qInfo(
            "%s: analytic %.4f ms (replicas %.4f, %.4f; server %.2f busy) staleness %.3f, replay "
            "%.4f ms "
            "(replicas %.4f, %.4f) staleness %.3f",
            QTest::currentDataTag(), a.step_s * 1e3, a.ps.replica_step_s[0] * 1e3,
            a.ps.replica_step_s[1] * 1e3, a.ps.server_utilisation[0], a.ps.staleness_mean,
            r.step_s * 1e3, r.ps.replica_step_s[0] * 1e3, r.ps.replica_step_s[1] * 1e3,
            r.ps.staleness_mean);
        EXPECT_NEAR(r.step_s, a.step_s, 0.05);
        QVERIFY2(std::abs(r.ps.staleness_mean - a.ps.staleness_mean) <=
                     std::max(0.6, 0.1 * a.ps.staleness_mean),
                 qPrintable(QStringLiteral("staleness %1 vs %2")
                                .arg(r.ps.staleness_mean)
                                .arg(a.ps.staleness_mean)));
    }
};

QTEST_GUILESS_MAIN(TestCoreSimPs)
#include "tst_core_sim_ps.moc"

// The simulator: α-β formulas, bubble fraction, Megatron TP volume and ZeRO memory against hand
// values; the event replay of a hand-built 2-stage pipeline against its hand-drawn schedule; the
// analytic engine against the replay of the same workload; hardware files and their errors.
#include <QtTest>

#include <cmath>
#include <string>

#include "core/sim/hardware.h"
#include "core/sim/sim_replay.h"
#include "core/sim/simulator.h"
#include "models/plan/schedule.h"

using namespace ss::core;
using ss::traces::Collective;
using ss::models::PipeAction;
using ss::models::PipeSchedule;
using ss::models::pipeline_schedule;
using ss::traces::GroupKind;

namespace {

#define EXPECT_CONTAINS(text, part)                                                            \
    QVERIFY2(std::string(text).find(part) != std::string::npos,                                \
             qPrintable(QStringLiteral("expected \"%1\" in: %2")                               \
                            .arg(QString::fromStdString(std::string(part)),                    \
                                 QString::fromStdString(std::string(text)))))

bool near(double a, double b, double rel = 1e-9) { return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)) + 1e-15; }
#define EXPECT_NEAR(a, b, rel) \
    QVERIFY2(near((a), (b), (rel)), qPrintable(QStringLiteral("%1 != %2").arg((a), 0, 'g', 12).arg((b), 0, 'g', 12)))

Hardware hand_hw() {
    Hardware hw;
    hw.name = "hand";
    hw.flop_per_s = 1e12;
    hw.mem_bw_bytes_per_s = 1e11;
    hw.devices_per_node = 4;
    hw.intra = {1e-6, 1e-9};   // 1 us, 1 GB/s
    hw.inter = {1e-5, 1e-8};   // 10 us, 100 MB/s
    return hw;
}

ExperimentSpec gpt_spec(int dp, int tp, int pp, int m, int batch = 16) {
    ExperimentSpec s;
    s.name = "t";
    s.model = model_preset("gpt", "tiny");
    s.model.kind = "gpt";
    s.model.preset = "tiny";
    s.data.path = "/nonexistent";
    s.training.global_batch = batch;
    s.parallel.dp = dp;
    s.parallel.tp = tp;
    s.parallel.pp = pp;
    s.parallel.micro_batches = m;
    return s;
}

ExperimentSpec mlp_spec(int dp, int tp, int pp, int m, int batch = 64) {
    ExperimentSpec s;
    s.name = "t";
    s.model = model_preset("mlp", "default");
    s.model.kind = "mlp";
    s.model.preset = "default";
    s.data.path = "/nonexistent";
    s.training.global_batch = batch;
    s.parallel.dp = dp;
    s.parallel.tp = tp;
    s.parallel.pp = pp;
    s.parallel.micro_batches = m;
    return s;
}

}  // namespace

class TestCoreSim : public QObject {
    Q_OBJECT
private slots:
    void ringAllReduceHandValue() {
        const Hardware hw = hand_hw();
        // 4 ranks on one node, 1 MB: 2(p-1)α + 2(p-1)/p·nβ = 6 us + 1.5 ms
        const GroupPlacement g = place_group(hw, 4, 1);
        QCOMPARE(g.nodes, 1);
        EXPECT_NEAR(collective_time(hw, Collective::AllReduce, g, 1e6), 6e-6 + 1.5e-3, 1e-12);
        // reduce-scatter / all-gather ring: (p-1)α + (p-1)/p·nβ
        EXPECT_NEAR(collective_time(hw, Collective::ReduceScatter, g, 1e6), 3e-6 + 0.75e-3, 1e-12);
        EXPECT_NEAR(collective_time(hw, Collective::AllGather, g, 1e6), 3e-6 + 0.75e-3, 1e-12);
        // send: α + nβ
        EXPECT_NEAR(collective_time(hw, Collective::Send, place_group(hw, 2, 1), 1000), 1e-6 + 1e-6, 1e-12);
        // one rank: nothing to reduce
        QCOMPARE(collective_time(hw, Collective::AllReduce, place_group(hw, 1, 1), 1e6), 0.0);
    }

    void otherAlgorithmsHandValues() {
        Hardware hw = hand_hw();
        hw.algorithm = CollAlgo::RecursiveDoubling;
        // log2(4)·(α + nβ) = 2·(1 us + 1 ms)
        EXPECT_NEAR(collective_time(hw, Collective::AllReduce, place_group(hw, 4, 1), 1e6), 2 * (1e-6 + 1e-3), 1e-12);
        hw.algorithm = CollAlgo::Tree;
        EXPECT_NEAR(collective_time(hw, Collective::AllReduce, place_group(hw, 4, 1), 1e6), 4e-6 + 2e-3, 1e-12);
        // Hierarchical over 2 nodes × 4: intra RS(4) + inter AR(2 nodes, n/4) + intra AG(4)
        hw.algorithm = CollAlgo::Hierarchical;
        const GroupPlacement g = place_group(hw, 8, 1);
        QCOMPARE(g.nodes, 2);
        QCOMPARE(g.per_node, 4);
        const double n = 8e6;
        const double rs = 3 * 1e-6 + 0.75 * n * 1e-9;
        const double inter = 2 * 1e-5 + 1.0 * (n / 4) * 1e-8;
        EXPECT_NEAR(collective_time(hw, Collective::AllReduce, g, n), rs + inter + rs, 1e-12);
        // A flat ring across nodes runs at the inter-node link: 2·7·10 us + 2·7/8·n·1e-8
        hw.algorithm = CollAlgo::Ring;
        EXPECT_NEAR(collective_time(hw, Collective::AllReduce, g, n), 14 * 1e-5 + 1.75 * n * 1e-8, 1e-12);
        // dp group with stride 4 on 4-device nodes: every member on its own node
        const GroupPlacement d = place_group(hw, 2, 4);
        QCOMPARE(d.nodes, 2);
        QCOMPARE(d.per_node, 1);
    }

    void bubbleFraction() {
        QCOMPARE(bubble_fraction(4, 12), 3.0 / 15.0);
        QCOMPARE(bubble_fraction(1, 8), 0.0);
        QCOMPARE(bubble_fraction(2, 2), 1.0 / 3.0);
    }

    void megatronTpVolume() {
        // 4 all-reduces of b·s·h floats per layer and micro-batch
        QCOMPARE(megatron_tp_bytes_per_layer(8, 128, 512), 4.0 * 8 * 128 * 512 * 4);
        // ... and the workload of a tp=2 GPT block carries exactly that
        const Workload w = build_workload(gpt_spec(1, 2, 1, 1, 8));
        const ModelSpec m = model_preset("gpt", "tiny");
        int blocks = 0;
        for (const LayerWork& L : w.stages[0].layers)
            if (L.name.rfind("block", 0) == 0) {
                ++blocks;
                QCOMPARE(L.tp_fwd_ar * L.tp_fwd_bytes + L.tp_bwd_ar * L.tp_bwd_bytes,
                         megatron_tp_bytes_per_layer(8, m.seq_len, m.d_model));
            }
        QCOMPARE(blocks, m.layers);
    }

    void workloadParamsMatchTheModel() {
        // tp=1: the stages hold every parameter exactly once (docs/SPEC.md counts)
        for (int pp : {1, 2}) {
            const Workload w = build_workload(gpt_spec(1, 1, pp, pp));
            double sum = 0;
            for (const auto& s : w.stages) sum += s.params;
            QCOMPARE(sum, static_cast<double>(gpt_param_count(model_preset("gpt", "tiny"))));
            const Workload v = build_workload(mlp_spec(1, 1, pp, pp));
            double ms = 0;
            for (const auto& s : v.stages) ms += s.params;
            QCOMPARE(ms, 269322.0);
        }
        // GPT training FLOPs: forward + backward matrix products = 3 × forward
        const Workload w = build_workload(gpt_spec(1, 1, 1, 1));
        for (const auto& L : w.stages[0].layers) QCOMPARE(L.bwd_flops, 2 * L.fwd_flops);
    }

    void zeroMemoryHandValue() {
        // MLP 784-256-256-10: P = 269,322; AdamW m, v = 8 bytes per parameter, sharded over dp=4
        Hardware hw = hand_hw();
        hw.memory_bytes = 1e9;
        ExperimentSpec s = mlp_spec(4, 1, 1, 1);
        const double P = 269322;
        MemoryEstimate plain = estimate_memory(build_workload(s), hw);
        QCOMPARE(plain.params, 4 * P);
        QCOMPARE(plain.grads, 4 * P);
        QCOMPARE(plain.optimizer, 8 * P);
        s.parallel.zero = 1;
        MemoryEstimate z = estimate_memory(build_workload(s), hw);
        QCOMPARE(z.optimizer, 8 * P / 4);
        QCOMPARE(z.buffers, 4 * P / 4);  // the reduced-gradient shard
        QVERIFY(z.fits);
        hw.memory_bytes = 1e6;  // 1 MB cannot hold 4 MB of parameters and gradients
        QVERIFY(!estimate_memory(build_workload(s), hw).fits);
        // 1F1B keeps at most p − s micro-batches of activations, GPipe all m
        ExperimentSpec g = gpt_spec(1, 1, 1, 4);
        const double one_f = estimate_memory(build_workload(g), hw).activations;
        g.parallel.schedule = "gpipe";
        const double gp = estimate_memory(build_workload(g), hw).activations;
        QCOMPARE(gp / one_f, 4.0);  // one stage: 1F1B keeps 1 micro-batch, GPipe all 4
    }

    void dpExposedOverlap() {
        // No overlap: every bucket is exposed
        QCOMPARE(dp_exposed_s(1.0, 4, 0.1, false), 0.4);
        // Overlap, buckets shorter than backward/nb: only the last bucket is exposed
        EXPECT_NEAR(dp_exposed_s(1.0, 4, 0.1, true), 0.1, 1e-12);
        // Overlap, communication-bound: B/nb + nb·c − B
        EXPECT_NEAR(dp_exposed_s(1.0, 4, 0.5, true), 0.25 + 2.0 - 1.0, 1e-12);
        // Partial progress (Hardware::overlap): 40 % of each bucket moves behind backward, the
        // rest is paid at the wait. c' = 0.04: exposed = max(0.04, 0.25 + 0.16 − 1) = 0.04, plus
        // 4 × 0.06 = 0.24 → 0.28. No progress: every bucket exposed, as without overlap.
        EXPECT_NEAR(dp_exposed_s(1.0, 4, 0.1, true, 0.4), 0.04 + 4 * 0.06, 1e-12);
        EXPECT_NEAR(dp_exposed_s(1.0, 4, 0.1, true, 0.0), 0.4, 1e-12);
        EXPECT_NEAR(dp_exposed_s(1.0, 4, 0.1, true, 1.0), dp_exposed_s(1.0, 4, 0.1, true), 1e-15);
    }

    void matmulRowsScaleByHalfRows() {
        // r(M) ∝ M / (M + h): with h = 16, rates measured at 128 rows, 32 rows take
        // (1 + 16/32) / (1 + 16/128) = 1.5 / 1.125 = 4/3 as long per FLOP.
        Hardware hw = hand_hw();
        hw.mm_half_rows = 16;
        ComputeRates R;
        R.matmul_flop_per_s = 1e10;
        R.memory_bytes_per_s = 1e10;
        R.optimizer_bytes_per_s = 1e10;
        R.matmul_rows = 128;
        EXPECT_NEAR(matmul_row_factor(32, R, hw), 4.0 / 3.0, 1e-12);
        EXPECT_NEAR(matmul_row_factor(128, R, hw), 1.0, 1e-12);
        R.matmul_rows = 0;  // hardware rates: measured at 512 rows
        EXPECT_NEAR(matmul_row_factor(512, R, hw), 1.0, 1e-12);
        hw.mm_half_rows = 0;
        QCOMPARE(matmul_row_factor(8, R, hw), 1.0);
        // the workload carries the rows: an MLP layer's micro-batch, a GPT block's tokens
        const Workload mlp = build_workload(mlp_spec(2, 1, 1, 2));  // 64 samples / (2 · 2)
        QCOMPARE(mlp.stages[0].layers[0].rows, 16.0);
        const ExperimentSpec g = gpt_spec(1, 1, 1, 1);
        const Workload gw = build_workload(g);
        QCOMPARE(gw.stages[0].layers[1].rows, 16.0 * g.model.seq_len);
        // and a layer of 32 rows is 4/3 slower in its matrix products than the same FLOPs at 128
        hw.mm_half_rows = 16;
        R.matmul_rows = 128;
        LayerWork L;
        L.fwd_flops = 1e8;
        L.rows = 32;
        EXPECT_NEAR(layer_time(L, R, hw, false).fwd_s, 1e8 / 1e10 * 4.0 / 3.0, 1e-15);
    }

    // The hand-drawn schedule (F = 1, B = 2, p2p transfer 0.5; 1F1B, p = 2, m = 2):
    //   stage 0: F0 [0,1]  F1 [1,2]  B0 [5,7]  B1 [8.5,10.5]
    //   stage 1: F0 [1.5,2.5]  B0 [2.5,4.5]  F1 [5,6]  B1 [6,8]
    // (a message leaves once both sides have posted: recv a1 at 4.5 → 5.0; recv g1 at 8 → 8.5)
    void replayTwoStagePipelineHandDrawn() {
        QCOMPARE(pipeline_schedule(PipeSchedule::OneFOneB, 2, 0, 2).size(), 4u);
        OpGraph g;
        g.msgs = {{0, 1, 0, 0.5}, {0, 1, 0, 0.5}, {1, 0, 0, 0.5}, {1, 0, 0, 0.5}};  // a0 a1 g0 g1
        auto C = [](double d) { return SimOp{OpKind::Compute, Part::Compute, d, -1}; };
        auto S = [](int m) { return SimOp{OpKind::Send, Part::Bubble, 0, m}; };
        auto R = [](int m) { return SimOp{OpKind::Recv, Part::Bubble, 0, m}; };
        // Programs generated from the 1F1B order of each stage
        for (int stage = 0; stage < 2; ++stage) {
            std::vector<SimOp> prog;
            for (const PipeAction& ps : pipeline_schedule(PipeSchedule::OneFOneB, 2, stage, 2)) {
                if (ps.kind == PipeAction::Forward) {
                    if (stage == 1) prog.push_back(R(ps.micro_batch));
                    prog.push_back(C(1));
                    if (stage == 0) prog.push_back(S(ps.micro_batch));
                } else {
                    if (stage == 0) prog.push_back(R(2 + ps.micro_batch));
                    prog.push_back(C(2));
                    if (stage == 1) prog.push_back(S(2 + ps.micro_batch));
                }
            }
            g.ranks.push_back(prog);
        }
        ReplayOptions o;
        o.record_timeline = true;
        const ReplayResult r = replay(g, o);
        auto computes = [&](int rank) {
            std::vector<std::pair<double, double>> v;
            for (std::size_t i = 0; i < g.ranks[static_cast<std::size_t>(rank)].size(); ++i)
                if (g.ranks[static_cast<std::size_t>(rank)][i].kind == OpKind::Compute)
                    v.push_back({r.timeline[static_cast<std::size_t>(rank)][i].start_s, r.timeline[static_cast<std::size_t>(rank)][i].end_s});
            return v;
        };
        const std::vector<std::pair<double, double>> s0{{0, 1}, {1, 2}, {5, 7}, {8.5, 10.5}};
        const std::vector<std::pair<double, double>> s1{{1.5, 2.5}, {2.5, 4.5}, {5, 6}, {6, 8}};
        QCOMPARE(computes(0), s0);
        QCOMPARE(computes(1), s1);
        QCOMPARE(r.step_s, 10.5);
        // Breakdown: stage 0 computes 6, waits 4.5 on messages (bubble); stage 1 idles 2.5 at the end
        QCOMPARE(r.ranks[0].part(Part::Compute), 6e9);
        QCOMPARE(r.ranks[0].part(Part::Bubble), 4.5e9);
        QCOMPARE(r.ranks[1].part(Part::Idle), 2.5e9);
        for (const auto& b : r.ranks) QCOMPARE(b.sum(), 10.5e9);
    }

    void replayCollectiveWaitsForLastMember() {
        OpGraph g;
        g.colls.push_back({Collective::AllReduce, GroupKind::DP, 0, 0, 2, 8, 0.25});
        g.ranks = {{{OpKind::Compute, Part::Compute, 1, -1}, {OpKind::Coll, Part::ExposedComm, 0, 0}},
                   {{OpKind::Compute, Part::Compute, 3, -1}, {OpKind::Coll, Part::ExposedComm, 0, 0}}};
        const ReplayResult r = replay(g);
        QCOMPARE(r.step_s, 3.25);
        QCOMPARE(r.ranks[0].part(Part::ExposedComm), 2.25e9);
        QCOMPARE(r.ranks[1].part(Part::ExposedComm), 0.25e9);
        // Non-blocking: started after 1 s of backward, overlapped with 2 more seconds, waited
        OpGraph a;
        a.colls.push_back({Collective::AllReduce, GroupKind::DP, 0, 0, 2, 8, 1.5});
        for (int k = 0; k < 2; ++k)
            a.ranks.push_back({{OpKind::Compute, Part::Compute, 1, -1},
                               {OpKind::CollStart, Part::ExposedComm, 0, 0},
                               {OpKind::Compute, Part::Compute, 2, -1},
                               {OpKind::Wait, Part::ExposedComm, 0, 0}});
        QCOMPARE(replay(a).step_s, 3.0);  // 1 + max(2, 1.5)
        a.colls[0].cost_s = 2.5;
        QCOMPARE(replay(a).step_s, 3.5);  // 1 + 2.5
    }

    void mlpStagesFollowTheTrainersPairs() {
        // hidden [64, 64]: 3 linear layers in 2 Megatron pairs; the worker refuses pp=3, so does the
        // simulator (it used to model an empty stage).
        ExperimentSpec s = mlp_spec(1, 1, 2, 2);
        s.model.hidden = {64, 64};
        QCOMPARE(build_workload(s).stages[1].layers.size(), std::size_t(1));
        s.parallel.pp = 3;
        try {
            build_workload(s);
            QFAIL("expected an error");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "parallel.pp=3");
        }
    }

    void replayDeadlockIsNamed() {
        OpGraph g;
        g.colls.push_back({Collective::AllReduce, GroupKind::TP, 0, 7, 2, 8, 0.1});
        g.ranks = {{{OpKind::Coll, Part::ExposedComm, 0, 0}}, {{OpKind::Compute, Part::Compute, 1, -1}}};
        try {
            replay(g);
            QFAIL("expected a deadlock");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "deadlock");
            EXPECT_CONTAINS(e.what(), "rank 0");
            EXPECT_CONTAINS(e.what(), "seq 7");
        }
        g.ranks[1] = {{OpKind::Recv, Part::Bubble, 0, 3}};
        try {
            replay(g);
            QFAIL("expected a bad reference");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "outside");
        }
    }

    void analyticAgreesWithReplay() {
        // Same workload, two engines: within 5 % on DP, TP, PP and hybrid layouts.
        Hardware hw = hand_hw();
        hw.intra = {2e-6, 1e-10};
        hw.devices_per_node = 64;
        for (auto s : {gpt_spec(1, 1, 1, 1), gpt_spec(4, 1, 1, 1), gpt_spec(1, 2, 1, 1), gpt_spec(1, 1, 2, 4),
                       gpt_spec(2, 2, 2, 4), mlp_spec(2, 1, 1, 1), mlp_spec(1, 1, 2, 8)}) {
            const SimResult a = simulate_analytic(s, hw);
            const SimResult r = simulate_replay(s, hw);
            QVERIFY2(std::abs(a.step_s - r.step_s) / r.step_s < 0.05,
                     qPrintable(QStringLiteral("dp%1 tp%2 pp%3: analytic %4 replay %5")
                                    .arg(s.parallel.dp).arg(s.parallel.tp).arg(s.parallel.pp).arg(a.step_s).arg(r.step_s)));
            EXPECT_NEAR(a.breakdown.sum(), a.step_s * 1e9, 1e-9);
            EXPECT_NEAR(r.breakdown.sum(), r.step_s * 1e9, 1e-9);
        }
        // No background progress (MPI without a progress thread): the DP reductions are exposed
        // in both engines exactly as with overlap off; partial progress lies in between.
        Hardware slow = hw;
        slow.intra = {2e-6, 2e-9};  // 0.5 GB/s: the reduction is a visible share of the step
        ExperimentSpec dp4 = gpt_spec(4, 1, 1, 1);
        dp4.parallel.bucket_mb = 0.05;  // several buckets, released as backward passes the layers
        ExperimentSpec dp4_off = dp4;
        dp4_off.parallel.overlap = false;
        const double full_a = simulate_analytic(dp4, slow).step_s, full_r = simulate_replay(dp4, slow).step_s;
        const double off_a = simulate_analytic(dp4_off, slow).step_s, off_r = simulate_replay(dp4_off, slow).step_s;
        QVERIFY(full_a < off_a && full_r < off_r);
        slow.overlap = 0.0;
        EXPECT_NEAR(simulate_analytic(dp4, slow).step_s, off_a, 1e-12);
        EXPECT_NEAR(simulate_replay(dp4, slow).step_s, off_r, 1e-12);
        slow.overlap = 0.5;
        const SimResult half_a = simulate_analytic(dp4, slow), half_r = simulate_replay(dp4, slow);
        QVERIFY(half_a.step_s >= full_a * (1 - 1e-9) && half_a.step_s < off_a);
        // Both engines release the buckets where the layers end (the embedding's, first in the
        // parameters, last in backward): they agree with many small buckets too.
        for (auto [a, r] : {std::pair{full_a, full_r}, std::pair{half_a.step_s, half_r.step_s}, std::pair{off_a, off_r}})
            QVERIFY2(std::abs(a - r) / r < 0.05, qPrintable(QStringLiteral("analytic %1 replay %2").arg(a).arg(r)));
        QVERIFY2(half_r.step_s >= full_r * (1 - 1e-9) && half_r.step_s < off_r,
                 qPrintable(QStringLiteral("replay: full %1 half %2 off %3").arg(full_r).arg(half_r.step_s).arg(off_r)));
        EXPECT_NEAR(half_r.breakdown.sum(), half_r.step_s * 1e9, 1e-9);
    }

    void whatIfKnobsMoveTheRightParts() {
        Hardware hw = hand_hw();
        const ExperimentSpec s = gpt_spec(4, 1, 1, 1);
        const SimResult base = simulate_analytic(s, hw);
        const SimResult fast_net = simulate_analytic(s, scaled(hw, {1, 4, 1}));
        QVERIFY(fast_net.step_s < base.step_s);
        QCOMPARE(fast_net.breakdown.part(Part::Compute), base.breakdown.part(Part::Compute));
        const SimResult fast_cpu = simulate_analytic(s, scaled(hw, {2, 1, 1}));
        EXPECT_NEAR(fast_cpu.breakdown.part(Part::Compute), base.breakdown.part(Part::Compute) / 2, 1e-9);
        // more micro-batches shrink the pipeline bubble
        const double b2 = simulate_analytic(gpt_spec(1, 1, 2, 2), hw).breakdown.part(Part::Bubble);
        const double b8 = simulate_analytic(gpt_spec(1, 1, 2, 8), hw).breakdown.part(Part::Bubble);
        QVERIFY(b8 < b2);
        QVERIFY_THROWS_EXCEPTION(HardwareError, scaled(hw, {0, 1, 1}));
    }

    void oversubscriptionStretches() {
        Hardware hw = hand_hw();
        hw.cores_per_node = 2;
        hw.devices_per_node = 1 << 20;
        const SimResult two = simulate_analytic(mlp_spec(2, 1, 1, 1), hw);
        const SimResult four = simulate_analytic(mlp_spec(4, 1, 1, 1), hw);
        QVERIFY(!two.oversubscribed);
        QVERIFY(four.oversubscribed);
        QCOMPARE(four.contention, 2.0);
        SimOptions off;
        off.model_oversubscription = false;
        const SimResult four_free = simulate_analytic(mlp_spec(4, 1, 1, 1), hw, off);
        EXPECT_NEAR(four.breakdown.part(Part::Compute), 2 * four_free.breakdown.part(Part::Compute), 1e-9);
    }

    void scalingCurve() {
        Hardware hw = hand_hw();
        hw.intra = {1e-6, 1e-11};  // 100 GB/s: the gradients of tiny GPT (0.5 MB) cost ~10 us
        const auto c = scaling_curve(gpt_spec(1, 1, 1, 1, 16), hw, "dp", {1, 2, 4}, false);
        QCOMPARE(c.size(), 3u);
        QCOMPARE(c[0].speedup, 1.0);
        QVERIFY(c[2].speedup > 1.0);
        QVERIFY(c[2].efficiency <= 1.0 + 1e-12);
        QVERIFY_THROWS_EXCEPTION(SimError, scaling_curve(gpt_spec(1, 1, 1, 1), hw, "zz", {1}, false));
        try {
            scaling_curve(gpt_spec(1, 1, 1, 1, 16), hw, "dp", {3}, false);
            QFAIL("expected an error");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "dp=3");
            EXPECT_CONTAINS(e.what(), "training.global_batch=16");
        }
    }

    void hardwareFilesAndErrors() {
        for (const char* f : {"dgx-h100-nvlink.json", "ib-cluster-h100.json"}) {
            const Hardware hw = load_hardware(std::string(SCALESCOPE_SOURCE_DIR) + "/examples/hardware/" + f);
            QVERIFY(hw.flop_per_s > 0);
            QVERIFY(!hw.sources.empty());
            QCOMPARE(hw.devices_per_node, 8);
            const Hardware back = parse_hardware(to_json(hw), "round trip");
            QCOMPARE(back.intra, hw.intra);
            QCOMPARE(back.inter, hw.inter);
            QCOMPARE(back.algorithm, hw.algorithm);
        }
        // "This machine": the calibrate output stored in examples/hardware
        {
            const Hardware me = load_hardware(std::string(SCALESCOPE_SOURCE_DIR) + "/examples/hardware/this-machine.json");
            QVERIFY(me.calibrated);
            QCOMPARE(me.cores_per_node, 2);
            QVERIFY(me.flop_per_s > 1e9);
            QVERIFY(me.intra.beta_s_per_byte > 0);
        }
        // A calibrate file (docs/LAUNCH.md): fits become the intra-node link, one node, its cores
        const nlohmann::json cal = nlohmann::json::parse(R"({"format": "scalescope-hardware", "version": 1,
            "ranks": 2, "hosts": ["h"], "oversubscribed": false,
            "collectives": {"all_reduce": {"alpha_s": 2e-6, "beta_s_per_byte": 3e-10},
                            "send_recv": {"alpha_s": 1e-6, "beta_s_per_byte": 2e-10}},
            "compute": {"sgemm_flops": 5e10}, "memory": {"bandwidth_bytes_per_s": 1e10}})");
        const Hardware hw = parse_hardware(cal, "cal.json");
        QCOMPARE(hw.cores_per_node, 2);
        QCOMPARE(hw.intra.alpha_s, 2e-6);
        QVERIFY(hw.calibrated);
        // the measured send_recv fit is used for sends, the all-reduce fit for all-reduces
        EXPECT_NEAR(collective_time(hw, Collective::Send, place_group(hw, 2, 1), 1000), 1e-6 + 2e-7, 1e-12);
        EXPECT_NEAR(collective_time(hw, Collective::AllReduce, place_group(hw, 2, 1), 1000), 2 * 2e-6 + 1000 * 3e-10, 1e-12);
        // every problem named
        nlohmann::json bad = cal;
        bad["compute"].erase("sgemm_flops");
        bad["memory"]["bandwidth_bytes_per_s"] = -1;
        bad["topology"] = {{"algorithm", "zigzag"}};
        try {
            parse_hardware(bad, "bad.json");
            QFAIL("expected an error");
        } catch (const HardwareError& e) {
            EXPECT_CONTAINS(e.what(), "bad.json");
            EXPECT_CONTAINS(e.what(), "compute.sgemm_flops is missing");
            EXPECT_CONTAINS(e.what(), "memory.bandwidth_bytes_per_s=-1 must be positive");
            EXPECT_CONTAINS(e.what(), "topology.algorithm=\"zigzag\"");
            EXPECT_CONTAINS(e.what(), "topology.devices_per_node is missing");
        }
        // overlap.fraction: read, written back, and checked
        nlohmann::json ov = cal;
        ov["overlap"] = {{"fraction", 0.25}};
        QCOMPARE(parse_hardware(ov, "ov.json").overlap, 0.25);
        QCOMPARE(parse_hardware(to_json(parse_hardware(ov, "ov.json")), "back").overlap, 0.25);
        QCOMPARE(hw.overlap, 1.0);  // absent: a progress engine of its own
        ov["overlap"] = {{"fraction", 1.5}};
        try {
            parse_hardware(ov, "ov.json");
            QFAIL("expected an error");
        } catch (const HardwareError& e) {
            EXPECT_CONTAINS(e.what(), "overlap.fraction=1.5 must be between 0 and 1");
        }
        // compute.linear_rows.half_rows and the non-blocking all-reduce fit
        nlohmann::json lr = cal;
        lr["compute"]["linear_rows"] = {{"half_rows", 10.0}};
        lr["collectives"]["iall_reduce"] = {{"alpha_s", 4e-6}, {"beta_s_per_byte", 6e-10}};
        const Hardware hr = parse_hardware(lr, "lr.json");
        QCOMPARE(hr.mm_half_rows, 10.0);
        QCOMPARE(parse_hardware(to_json(hr), "back").mm_half_rows, 10.0);
        EXPECT_NEAR(collective_time(hr, Collective::AllReduce, place_group(hr, 2, 1), 1000, true), 2 * 4e-6 + 1000 * 6e-10, 1e-12);
        EXPECT_NEAR(collective_time(hr, Collective::AllReduce, place_group(hr, 2, 1), 1000, false), 2 * 2e-6 + 1000 * 3e-10, 1e-12);
        // without a non-blocking fit, the blocking one
        EXPECT_NEAR(collective_time(hw, Collective::AllReduce, place_group(hw, 2, 1), 1000, true), 2 * 2e-6 + 1000 * 3e-10, 1e-12);
        lr["collectives"]["iall_gather"] = {{"alpha_s", 1e-6}, {"beta_s_per_byte", 1e-10}};
        try {
            parse_hardware(lr, "lr.json");
            QFAIL("expected an error");
        } catch (const HardwareError& e) {
            EXPECT_CONTAINS(e.what(), "collectives.iall_gather is not a calibrated collective");
        }
        QVERIFY_THROWS_EXCEPTION(HardwareError, load_hardware("/nonexistent/hw.json"));
        try {
            build_workload(gpt_spec(3, 1, 1, 1, 16));
            QFAIL("expected an error");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "training.global_batch=16 must be divisible");
        }
    }
};

QTEST_GUILESS_MAIN(TestCoreSim)
#include "tst_core_sim.moc"

// The simulator: α-β formulas, bubble fraction, Megatron TP volume and ZeRO memory against hand
// values; the event replay of a hand-built 2-stage pipeline against its hand-drawn schedule; the
// analytic engine against the replay of the same workload; hardware files and their errors; GPU
// hardware (issue 14): a GPU calibration's hardware file, the presets' provenance, and the
// communication stream beside the compute stream (DP buckets overlapped but for the contention,
// TP all-reduces blocking) against hand values in both engines.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/sim/calibrate.h"
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

// A GPU node as a hardware document: NCCL on a stream of its own (overlap.mode defaults to
// "streams"), 1 TFLOP/s, links α = 0 and 1 GB/s (a ring all-reduce of n bytes over 2 ranks: n·1e-9 s).
nlohmann::json gpu_doc(double contention = 0) {
    nlohmann::json d = nlohmann::json::parse(R"({"format": "scalescope-hardware", "version": 1,
        "device": {"kind": "gpu", "name": "test GPU"}, "comm": "nccl",
        "compute": {"sgemm_flops": 1e12}, "memory": {"bandwidth_bytes_per_s": 1e11},
        "topology": {"devices_per_node": 8, "intra": {"alpha_s": 0, "beta_s_per_byte": 1e-9}}})");
    if (contention > 0) d["overlap"] = {{"contention", contention}};
    return d;
}

// One stage, dp 2, one micro-batch, two layers (forward order): "a" 1 ms forward, 2 ms backward,
// 50,000 parameters; "b" 1 ms forward, 4 ms backward, 250,000 parameters. Buckets of 250,000
// elements: bucket 0 = layer b (1 MB, ready 4 ms into backward, reduced in 1 ms), bucket 1 = layer a
// (0.2 MB, ready at the end of backward, 0.2 ms). No optimizer, data or per-kernel cost.
Workload two_bucket_workload() {
    Workload w;
    w.dp = 2;
    w.bucket_elems = 250000;
    StageWork sw;
    LayerWork a, b;
    a.name = "a";
    a.fwd_flops = 1e9;
    a.bwd_flops = 2e9;
    a.flat_elems = 50000;
    b.name = "b";
    b.fwd_flops = 1e9;
    b.bwd_flops = 4e9;
    b.flat_elems = 250000;
    sw.layers = {a, b};
    sw.flat_elems = 300000;
    w.stages = {sw};
    return w;
}

SimOptions unit_rates() {
    ComputeRates r;
    r.matmul_flop_per_s = r.memory_bytes_per_s = r.optimizer_bytes_per_s = 1e12;
    r.source = "test";
    SimOptions o;
    o.rates = r;
    return o;
}

double both_engines(const Workload& w, const Hardware& hw, double* replay_s = nullptr, Breakdown* b = nullptr) {
    const SimOptions o = unit_rates();
    const SimResult a = simulate_analytic(w, hw, o);
    const ReplayResult r = replay(graph_from_spec(w, hw, o));
    if (replay_s) *replay_s = r.step_s;
    if (b) *b = a.breakdown;
    return a.step_s;
}

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
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

    // No MFU above 100 % anywhere (issue 16): every preset on every example hardware file, at dp 1
    // to 8, with the hardware's own rates and with rates fitted on a run ten times faster than the
    // hardware's peak. The first give a value in (0, 1]; the second no value and a note saying why.
    void mfuNeverAboveOne() {
        const std::string dir = std::string(SCALESCOPE_SOURCE_DIR) + "/examples/hardware/";
        int known = 0, refused = 0;
        for (const char* f : {"dgx-h100-nvlink.json", "ib-cluster-h100.json", "this-machine.json"}) {
            const Hardware hw = load_hardware(dir + f);
            QVERIFY(mfu_peak_flop_per_s(hw) >= hw.flop_per_s);
            for (const std::string kind : {"mlp", "gpt"})
                for (const std::string& preset : model_presets(kind))
                    for (int dp : {1, 2, 8}) {
                        nlohmann::json doc{{"model", {{"kind", kind}, {"preset", preset}}},
                                           {"training", {{"global_batch", 64 * dp}}},
                                           {"parallel", {{"dp", dp}}}};
                        const ExperimentSpec s = parse_spec(doc).spec;
                        const SimResult r = simulate_analytic(s, hw);
                        QVERIFY2(r.mfu > 0 && r.mfu <= 1, qPrintable(QString::fromStdString(kind + " " + preset + " on " + f) +
                                                                     QStringLiteral(": ") + QString::number(r.mfu)));
                        ++known;
                        SimOptions fast;
                        fast.rates = rates_from_hardware(hw);
                        fast.rates->matmul_flop_per_s = 10 * mfu_peak_flop_per_s(hw);
                        fast.rates->memory_bytes_per_s *= 10;
                        fast.rates->optimizer_bytes_per_s *= 10;
                        fast.rates->kernel_overhead_s = 0;
                        const SimResult q = simulate_analytic(s, hw, fast);
                        QVERIFY(q.mfu >= 0 && q.mfu <= 1);
                        if (q.mfu == 0) {
                            ++refused;
                            QVERIFY2(q.mfu_note.find("above 100 %") != std::string::npos, q.mfu_note.c_str());
                        }
                    }
        }
        QVERIFY(known > 0);
        QVERIFY(refused > 0);  // the fitted-rates case does reach the refusal
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

    void gpuStreamsOverlapBucketsButForTheContention() {
        // two_bucket_workload: forward 2 ms, backward 6 ms; bucket 0 (1 ms) ready at 4 ms fits
        // under the remaining 2 ms of backward, bucket 1 (0.2 ms) is ready only at its end.
        const Workload w = two_bucket_workload();
        const Hardware gpu = parse_hardware(gpu_doc(), "gpu.json");
        QCOMPARE(gpu.device, DeviceKind::Gpu);
        QCOMPARE(gpu.overlap_mode, OverlapMode::Streams);
        QCOMPARE(gpu.overlap, 1.0);
        const double world_ar = collective_time(gpu, Collective::AllReduce, place_group(gpu, 2, 1), 24);
        const double compute = 2e-3 + 6e-3;
        double r = 0;
        Breakdown b;
        // A communication stream: only the tail (bucket 1) is exposed.
        EXPECT_NEAR(both_engines(w, gpu, &r, &b), compute + 0.2e-3 + world_ar, 1e-9);
        EXPECT_NEAR(r, compute + 0.2e-3 + world_ar, 1e-9);
        EXPECT_NEAR(b.part(Part::Compute), compute * 1e9, 1e-9);
        EXPECT_NEAR(b.part(Part::ExposedComm), (0.2e-3 + world_ar) * 1e9, 1e-9);
        // CPU-style progress (MPI without a progress thread, overlap.fraction 0): all of it.
        nlohmann::json cpu_doc = gpu_doc();
        cpu_doc["device"] = {{"kind", "cpu"}};
        cpu_doc["comm"] = "mpi";
        cpu_doc["overlap"] = {{"fraction", 0.0}};
        const Hardware cpu = parse_hardware(cpu_doc, "cpu.json");
        QCOMPARE(cpu.overlap_mode, OverlapMode::Progress);
        EXPECT_NEAR(both_engines(w, cpu, &r), compute + 1.2e-3 + world_ar, 1e-9);
        EXPECT_NEAR(r, compute + 1.2e-3 + world_ar, 1e-9);
        // Contention 0.5: the backward loses half of the 1 ms bucket 0 ran beside it, 0.5 ms,
        // more than the 0.2 ms tail: exposed max(0.2, 0.5·1) = 0.5 ms.
        const Hardware contended = parse_hardware(gpu_doc(0.5), "gpu.json");
        QCOMPARE(contended.overlap_contention, 0.5);
        EXPECT_NEAR(both_engines(w, contended, &r, &b), compute + 0.5e-3 + world_ar, 1e-9);
        EXPECT_NEAR(r, compute + 0.5e-3 + world_ar, 1e-9);
        EXPECT_NEAR(b.sum(), (compute + 0.5e-3 + world_ar) * 1e9, 1e-9);
        // ... and 0.1: 0.1 ms lost, hidden by the 0.2 ms tail.
        EXPECT_NEAR(both_engines(w, parse_hardware(gpu_doc(0.1), "gpu.json"), &r), compute + 0.2e-3 + world_ar, 1e-9);
        EXPECT_NEAR(r, compute + 0.2e-3 + world_ar, 1e-9);
        // Overlap off in the spec: blocking reductions after backward, whatever the device.
        Workload off = w;
        off.overlap = false;
        EXPECT_NEAR(both_engines(off, contended, &r), compute + 1.2e-3 + world_ar, 1e-9);
        EXPECT_NEAR(r, compute + 1.2e-3 + world_ar, 1e-9);
        // Partial progress, rests paid at the waits behind every background part: f = 0.5 →
        // backgrounds [4, 4.5] and [6, 6.1], rests 0.5 + 0.1 from 6.1: exposed 0.7 ms.
        cpu_doc["overlap"] = {{"fraction", 0.5}};
        EXPECT_NEAR(both_engines(w, parse_hardware(cpu_doc, "cpu.json"), &r), compute + 0.7e-3 + world_ar, 1e-9);
        EXPECT_NEAR(r, compute + 0.7e-3 + world_ar, 1e-9);
        // With tp 2 the backward ends on a tensor-parallel all-reduce (layer a's input gradient,
        // 0.5 MB: 0.5 ms) after its last kernel: Bc = 6 ms, B = 6.5 ms. Bucket 0 now holds 625,000
        // elements (2.5 ms from 4 ms: [4, 6.5], 2 ms of it beside the kernels); contention 0.5
        // takes 1 ms of compute, which delays the all-reduce and everything after it: the rank is
        // through at B + 1 = 7.5 ms, past bucket 1's [6.5, 6.7]: exposed 1 ms.
        Workload tp = w;
        tp.tp = 2;
        tp.bucket_elems = 625000;
        tp.stages[0].layers[0].tp_bwd_ar = 1;
        tp.stages[0].layers[0].tp_bwd_bytes = 5e5;
        tp.stages[0].layers[1].flat_elems = 625000;
        tp.stages[0].flat_elems = 675000;
        const double world4 = collective_time(gpu, Collective::AllReduce, place_group(gpu, 4, 1), 24);
        EXPECT_NEAR(both_engines(tp, contended, &r, &b), compute + 0.5e-3 + 1e-3 + world4, 1e-9);
        EXPECT_NEAR(r, compute + 0.5e-3 + 1e-3 + world4, 1e-9);
        EXPECT_NEAR(b.sum(), (compute + 0.5e-3 + 1e-3 + world4) * 1e9, 1e-9);
        // without contention: the tail, bucket 1 (0.2 ms after B)
        EXPECT_NEAR(both_engines(tp, gpu, &r), compute + 0.5e-3 + 0.2e-3 + world4, 1e-9);
        EXPECT_NEAR(r, compute + 0.5e-3 + 0.2e-3 + world4, 1e-9);
        // The closed form for equal buckets: 4 buckets of 0.1 ready at 0.25, 0.5, 0.75, 1 run 0.3
        // beside backward; contention 0.5 takes 0.15 > the 0.1 tail, 0.2 takes 0.06 < it.
        EXPECT_NEAR(dp_exposed_s(1.0, 4, 0.1, true, 1, 0.5), 0.15, 1e-12);
        EXPECT_NEAR(dp_exposed_s(1.0, 4, 0.1, true, 1, 0.2), 0.1, 1e-12);
    }

    void gpuTensorParallelStaysBlocking() {
        // TP all-reduces sit between the kernels that need them: the contention of the DP
        // buckets does not touch them, and a tp2 step is the same with and without it.
        Hardware gpu = parse_hardware(gpu_doc(), "gpu.json");
        gpu.intra = {2e-6, 1e-10};
        Hardware contended = gpu;
        contended.overlap_contention = 0.5;
        for (auto s : {gpt_spec(1, 2, 1, 1), mlp_spec(1, 2, 1, 1), gpt_spec(1, 1, 2, 4)}) {
            EXPECT_NEAR(simulate_analytic(s, contended).step_s, simulate_analytic(s, gpu).step_s, 1e-12);
            EXPECT_NEAR(simulate_replay(s, contended).step_s, simulate_replay(s, gpu).step_s, 1e-12);
        }
        // ... and every byte of them is exposed: tp2 minus tp1 at the same compute is their time.
        const SimResult tp2 = simulate_analytic(gpt_spec(1, 2, 1, 1), gpu);
        QVERIFY(tp2.breakdown.part(Part::ExposedComm) > 0);
        EXPECT_NEAR(tp2.breakdown.part(Part::ExposedComm), tp2.breakdown.comm_ns, 1e-12);
        // dp2, 8 blocks, buckets of 0.05 MB (0.1 ms at 500 MB/s, 4 per block) beside a block's
        // backward of ~5 ms (10 GFLOP/s): the buckets of 7 blocks run beside the backward, and the
        // compute they take (0.5 × 2.8 ms) outlasts the tail (the first block's and the
        // embedding's buckets): the contention costs time.
        ExperimentSpec dp2 = gpt_spec(2, 1, 1, 1);
        dp2.model.layers = 8;
        dp2.parallel.bucket_mb = 0.05;
        gpu.flop_per_s = contended.flop_per_s = 1e10;
        gpu.intra = contended.intra = {2e-6, 2e-9};
        const double free_a = simulate_analytic(dp2, gpu).step_s, taken_a = simulate_analytic(dp2, contended).step_s;
        const double free_r = simulate_replay(dp2, gpu).step_s, taken_r = simulate_replay(dp2, contended).step_s;
        QVERIFY2(taken_a > free_a * 1.001 && taken_r > free_r * 1.001,
                 qPrintable(QStringLiteral("analytic %1 -> %2, replay %3 -> %4").arg(free_a).arg(taken_a).arg(free_r).arg(taken_r)));
    }

    void gpuEnginesAgree() {
        // The analytic engine and the replay on GPU hardware (a stream of its own, contention
        // 0.5), DP, TP, PP and hybrid layouts with many buckets: within 5 %, and without a
        // pipeline within 1e-9 (the same waits). Two machines: network-bound (10 GB/s, 1 TFLOP/s)
        // and compute-bound with 8-block GPTs (500 MB/s, 10 GFLOP/s), where the contention shows.
        Hardware net = parse_hardware(gpu_doc(0.5), "gpu.json");
        net.intra = {2e-6, 1e-10};
        net.devices_per_node = 64;
        Hardware busy = net;
        busy.intra = {2e-6, 2e-9};
        busy.flop_per_s = 1e10;
        int contended = 0;
        for (const bool compute_bound : {false, true}) {
            const Hardware& gpu = compute_bound ? busy : net;
            for (auto s : {gpt_spec(4, 1, 1, 1), gpt_spec(2, 2, 1, 1), gpt_spec(1, 2, 1, 1), gpt_spec(1, 1, 2, 4),
                           gpt_spec(2, 2, 2, 4), gpt_spec(2, 1, 2, 4), mlp_spec(2, 1, 1, 1), mlp_spec(2, 2, 1, 1),
                           mlp_spec(2, 1, 2, 8)}) {
                s.parallel.bucket_mb = 0.05;
                if (compute_bound) s.model.layers = 8;
                const SimResult a = simulate_analytic(s, gpu);
                const SimResult r = simulate_replay(s, gpu);
                Hardware free = gpu;
                free.overlap_contention = 0;
                const double r_free = simulate_replay(s, free).step_s;
                contended += r.step_s > r_free * (1 + 1e-6);
                const QString what = QStringLiteral("%1 dp%2 tp%3 pp%4 %5: analytic %6 replay %7 (without contention %8)")
                                         .arg(QString::fromStdString(s.model.kind))
                                         .arg(s.parallel.dp).arg(s.parallel.tp).arg(s.parallel.pp)
                                         .arg(compute_bound ? QStringLiteral("compute-bound") : QStringLiteral("network-bound"))
                                         .arg(a.step_s, 0, 'g', 10).arg(r.step_s, 0, 'g', 10).arg(r_free, 0, 'g', 10);
                qInfo("%s", qPrintable(what));
                QVERIFY2(std::abs(a.step_s - r.step_s) / r.step_s < (s.parallel.pp == 1 ? 1e-9 : 0.05), qPrintable(what));
                EXPECT_NEAR(a.breakdown.sum(), a.step_s * 1e9, 1e-9);
                EXPECT_NEAR(r.breakdown.sum(), r.step_s * 1e9, 1e-9);
            }
        }
        // (compute-bound GPT dp4 and dp2×tp2, the latter with its backward ending on a tp all-reduce)
        QVERIFY2(contended >= 2, qPrintable(QStringLiteral("the contention changed only %1 steps").arg(contended)));
    }

    void gpuCalibrationHardwareFile() {
        // scalescope-calibrate-rank on GPU ranks: the backend's name, NCCL, nccl-tests' busbw.
        const nlohmann::json raw = nlohmann::json::parse(R"J({"format": "scalescope-calibration-raw",
            "created_unix_ns": 1795328679120264298, "ranks": 2, "hosts": ["gpu-node", "gpu-node-2"],
            "device": "cuda:0 (NVIDIA H200)", "comm": "nccl",
            "compute": {"sgemm_flops": 5.1e13, "method": "cuBLAS sgemm fp32"},
            "memory": {"bandwidth_bytes_per_s": 4.0e12},
            "samples": [{"collective": "all_reduce", "p": 2, "bytes": 1048576, "time_s": 2.0e-5},
                        {"collective": "all_reduce", "p": 2, "bytes": 67108864, "time_s": 4.0e-4},
                        {"collective": "send_recv", "p": 2, "bytes": 1048576, "time_s": 1.5e-5},
                        {"collective": "send_recv", "p": 2, "bytes": 67108864, "time_s": 3.5e-4}]})J");
        const nlohmann::json file = hardware_file(raw, false);
        QCOMPARE(file["device"]["kind"].get<std::string>(), std::string("gpu"));
        QCOMPARE(file["device"]["name"].get<std::string>(), std::string("cuda:0 (NVIDIA H200)"));
        QCOMPARE(file["comm"].get<std::string>(), std::string("nccl"));
        QCOMPARE(file["collectives"]["all_reduce"]["transport"].get<std::string>(), std::string("nccl"));
        QCOMPARE(file["collectives"]["send_recv"]["transport"].get<std::string>(), std::string("nccl"));
        QCOMPARE(file["measured"].get<bool>(), true);
        QCOMPARE(file["measured_on"]["host"].get<std::string>(), std::string("gpu-node"));
        QCOMPARE(file["measured_on"]["date"].get<std::string>(), std::string("2026-11-22T06:24:39Z"));
        // busbw as nccl-tests: all-reduce algbw · 2(p−1)/p (= 1 at p = 2)
        QCOMPARE(file["measurements"][1]["busbw_bytes_per_s"].get<double>(), 67108864 / 4.0e-4);
        const Hardware hw = parse_hardware(file, "gpu-cal.json");
        QCOMPARE(hw.device, DeviceKind::Gpu);
        QCOMPARE(hw.device_name, std::string("cuda:0 (NVIDIA H200)"));
        QCOMPARE(hw.comm, std::string("nccl"));
        QCOMPARE(hw.fit_transport[static_cast<std::size_t>(FitSlot::AllReduce)], std::string("nccl"));
        QCOMPARE(hw.overlap_mode, OverlapMode::Streams);
        QCOMPARE(hw.overlap, 1.0);
        QCOMPARE(hw.provenance, Provenance::Measured);
        QCOMPARE(provenance_label(hw), std::string("measured"));
        QCOMPARE(hw.measured_host, std::string("gpu-node"));
        QCOMPARE(hw.cores_per_node, 0);  // GPU ranks: no oversubscription of the host's cores
        QCOMPARE(hw.flop_per_s, 5.1e13);
        EXPECT_CONTAINS(hw.name, "NVIDIA H200");
        // ring fit: T = 2(p−1)α + 2(p−1)/p·n·β exactly through the two points
        const double beta = (4.0e-4 - 2.0e-5) / (67108864.0 - 1048576.0);
        EXPECT_NEAR(hw.intra_fit[0].beta_s_per_byte, beta, 1e-9);
        EXPECT_NEAR(hw.intra_fit[0].alpha_s, (2.0e-5 - 1048576.0 * beta) / 2, 1e-9);
        // written back and read again, every new field survives
        const Hardware back = parse_hardware(to_json(hw), "back");
        QCOMPARE(back.device, DeviceKind::Gpu);
        QCOMPARE(back.comm, hw.comm);
        QCOMPARE(back.fit_transport, hw.fit_transport);
        QCOMPARE(back.provenance, Provenance::Measured);
        QCOMPARE(back.measured_date, std::string("2026-11-22T06:24:39Z"));
        QCOMPARE(back.overlap_mode, OverlapMode::Streams);

        // The same samples from CPU ranks (MPI): the same fits, the CPU model (progress, cores).
        nlohmann::json cpu_raw = raw;
        cpu_raw["device"] = "cpu (OpenBLAS, 1 thread)";
        cpu_raw["comm"] = "mpi";
        const nlohmann::json cpu_file = hardware_file(cpu_raw, false);
        QCOMPARE(cpu_file["collectives"]["all_reduce"]["alpha_s"], file["collectives"]["all_reduce"]["alpha_s"]);
        QCOMPARE(cpu_file["collectives"]["all_reduce"]["transport"].get<std::string>(), std::string("mpi"));
        const Hardware cpu = parse_hardware(cpu_file, "cpu-cal.json");
        QCOMPARE(cpu.device, DeviceKind::Cpu);
        QCOMPARE(cpu.overlap_mode, OverlapMode::Progress);
        QCOMPARE(cpu.cores_per_node, 2);
        QCOMPARE(cpu.name, std::string("this machine (calibrated, 2 ranks on gpu-node)"));
        // A raw file of the CPU worker from before (no device, no comm): MPI, device unknown.
        nlohmann::json old_raw = raw;
        old_raw.erase("device");
        old_raw.erase("comm");
        const nlohmann::json old_file = hardware_file(old_raw, false);
        QVERIFY(!old_file.contains("device"));
        QCOMPARE(old_file["comm"].get<std::string>(), std::string("mpi"));
        QCOMPARE(parse_hardware(old_file, "old.json").overlap_mode, OverlapMode::Progress);
        // A GPU on comm "mpi" (ranks sharing a device, staged through host memory): the host's progress.
        nlohmann::json staged = raw;
        staged["comm"] = "mpi";
        QCOMPARE(parse_hardware(hardware_file(staged, false), "staged.json").overlap_mode, OverlapMode::Progress);
        // unknown device or transport: named
        nlohmann::json bad = raw;
        bad["device"] = "tpu:0";
        try {
            hardware_file(bad, false);
            QFAIL("expected an error");
        } catch (const std::invalid_argument& e) {
            EXPECT_CONTAINS(e.what(), "tpu:0");
        }
        bad = raw;
        bad["comm"] = "gloo";
        try {
            hardware_file(bad, false);
            QFAIL("expected an error");
        } catch (const std::invalid_argument& e) {
            EXPECT_CONTAINS(e.what(), "comm=\"gloo\"");
        }
    }

    void presetsSayWhetherMeasured() {
        // Every file in examples/hardware/ states "measured" explicitly.
        const std::string dir = std::string(SCALESCOPE_SOURCE_DIR) + "/examples/hardware";
        int files = 0;
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            if (e.path().extension() != ".json") continue;
            ++files;
            const nlohmann::json doc = nlohmann::json::parse(read_text(e.path().string()), nullptr, false, true);
            QVERIFY2(doc.contains("measured") && doc.at("measured").is_boolean(), qPrintable(QString::fromStdString(e.path().string())));
            QVERIFY2(doc.contains("device"), qPrintable(QString::fromStdString(e.path().string())));
            const Hardware hw = load_hardware(e.path().string());
            QVERIFY(hw.provenance != Provenance::Unknown);
        }
        QVERIFY(files >= 3);
        for (const char* f : {"dgx-h100-nvlink.json", "ib-cluster-h100.json"}) {
            const Hardware hw = load_hardware(dir + "/" + f);
            QCOMPARE(hw.provenance, Provenance::NotMeasured);
            QCOMPARE(provenance_label(hw), std::string("datasheet"));
            EXPECT_CONTAINS(hw.source, "vendor datasheet");
            QCOMPARE(hw.device, DeviceKind::Gpu);
            QCOMPARE(hw.comm, std::string("nccl"));
            QCOMPARE(hw.overlap_mode, OverlapMode::Streams);
            QCOMPARE(hw.overlap, 1.0);
            QCOMPARE(hw.overlap_contention, 0.0);
        }
        const Hardware me = load_hardware(dir + "/this-machine.json");
        QCOMPARE(me.provenance, Provenance::Measured);
        QCOMPARE(provenance_label(me), std::string("measured"));
        QCOMPARE(me.measured_host, std::string("vm"));
        QCOMPARE(me.device, DeviceKind::Cpu);
        QCOMPARE(me.overlap_mode, OverlapMode::Progress);
        QCOMPARE(me.overlap, 0.0);
        // Missing: unknown, and shown as such; false without a datasheet: "not measured".
        nlohmann::json doc = gpu_doc();
        QCOMPARE(parse_hardware(doc, "x.json").provenance, Provenance::Unknown);
        QCOMPARE(provenance_label(parse_hardware(doc, "x.json")), std::string("measured: unknown"));
        doc["measured"] = false;
        doc["source"] = "an estimate";
        QCOMPARE(provenance_label(parse_hardware(doc, "x.json")), std::string("not measured"));
        const Hardware back = parse_hardware(to_json(parse_hardware(doc, "x.json")), "back");
        QCOMPARE(back.provenance, Provenance::NotMeasured);
        QCOMPARE(back.source, std::string("an estimate"));
    }

    void gpuHardwareErrors() {
        auto problems = [](const nlohmann::json& d) -> std::string {
            try {
                parse_hardware(d, "g.json");
            } catch (const HardwareError& e) {
                return e.what();
            }
            return "no error";
        };
        nlohmann::json d = gpu_doc();
        d["overlap"] = {{"mode", "streams"}, {"fraction", 0.5}};
        EXPECT_CONTAINS(problems(d), "overlap.fraction=0.5 contradicts overlap.mode \"streams\"");
        d["overlap"] = {{"mode", "sideways"}};
        EXPECT_CONTAINS(problems(d), "overlap.mode=\"sideways\"");
        d["overlap"] = {{"contention", 1.5}};
        EXPECT_CONTAINS(problems(d), "overlap.contention=1.5 must be between 0 and 1");
        d = gpu_doc();
        d["device"] = {{"kind", "tpu"}};
        d["comm"] = "gloo";
        d["measured"] = "yes";
        const std::string all = problems(d);
        EXPECT_CONTAINS(all, "device.kind=\"tpu\"");
        EXPECT_CONTAINS(all, "comm=\"gloo\" must be \"nccl\" or \"mpi\"");
        EXPECT_CONTAINS(all, "measured must be true or false");
        // A measured fraction below 1 on a GPU without a stated mode: the host's progress, as measured.
        d = gpu_doc();
        d["overlap"] = {{"fraction", 0.9}};
        const Hardware hw = parse_hardware(d, "g.json");
        QCOMPARE(hw.overlap_mode, OverlapMode::Progress);
        QCOMPARE(hw.overlap, 0.9);
    }
};

QTEST_GUILESS_MAIN(TestCoreSim)
#include "tst_core_sim.moc"

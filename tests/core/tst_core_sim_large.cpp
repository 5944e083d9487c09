// The simulator's large-model features (issue 17, docs/SIMULATOR.md "Large models"), each against a
// hand-worked value in the analytic engine and the event replay: activation recomputation (full
// adds exactly one forward to backward; selective recomputes the attention scores), interleaved
// 1F1B (v = 2 halves the bubble), mixed precision (bytes per parameter, activations, messages,
// the 16-bit tensor rate), sequence parallelism (activations of the non-tensor-parallel parts ÷ t,
// all-reduce = reduce-scatter + all-gather), gradient accumulation (m × compute, one reduction),
// and the memory verdict of a model too big for the device.
#include <QtTest>

#include <cmath>
#include <string>

#include "core/sim/hardware.h"
#include "core/sim/sim_replay.h"
#include "core/sim/simulator.h"
#include "models/plan/schedule.h"

using namespace ss::core;
using ss::traces::Collective;
using ss::traces::GroupKind;

namespace {

#define EXPECT_CONTAINS(text, part)                                                            \
    QVERIFY2(std::string(text).find(part) != std::string::npos,                                \
             qPrintable(QStringLiteral("expected \"%1\" in: %2")                               \
                            .arg(QString::fromStdString(std::string(part)),                    \
                                 QString::fromStdString(std::string(text)))))

bool near(double a, double b, double rel = 1e-9) {
    return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)) + 1e-15;
}
#define EXPECT_NEAR(a, b, rel) \
    QVERIFY2(near((a), (b), (rel)), qPrintable(QStringLiteral("%1 != %2").arg((a), 0, 'g', 12).arg((b), 0, 'g', 12)))

Hardware hand_hw() {
    Hardware hw;
    hw.name = "hand";
    hw.flop_per_s = 1e12;
    hw.mem_bw_bytes_per_s = 1e11;
    hw.devices_per_node = 64;
    hw.intra = {1e-6, 1e-9};  // 1 us, 1 GB/s
    hw.inter = {1e-5, 1e-8};
    return hw;
}

ExperimentSpec gpt_spec(int dp, int tp, int pp, int m, int batch = 16) {
    ExperimentSpec s;
    s.name = "t";
    s.model = model_preset("gpt", "tiny");  // layers 2, d_model 64, heads 4, seq_len 32
    s.data.path = "/nonexistent";
    s.training.global_batch = batch;
    s.parallel.dp = dp;
    s.parallel.tp = tp;
    s.parallel.pp = pp;
    s.parallel.micro_batches = m;
    return s;
}

ExperimentSpec mlp_spec(int dp, int m, int batch) {
    ExperimentSpec s;
    s.name = "t";
    s.model = model_preset("mlp", "default");  // 784-256-256-10: 269,322 parameters
    s.data.path = "/nonexistent";
    s.training.global_batch = batch;
    s.parallel.dp = dp;
    s.parallel.micro_batches = m;
    return s;
}

double part_ns(const Breakdown& b, Part p) { return b.part_ns[static_cast<int>(p)]; }

int count_colls(const OpGraph& g, GroupKind kind, Collective c) {
    int n = 0;
    for (const CollInstance& ci : g.colls) n += ci.group == kind && ci.collective == c;
    return n;
}

// A pipeline of `pp` identical stages, each `chunks` identical layers of 1 GFLOP forward and 2
// backward (no bytes, no kernels), for micro_batches of 1 sample; free messages.
Workload uniform_pipeline(int pp, int m, int chunks) {
    Workload w;
    w.pp = pp;
    w.micro_batches = m;
    w.micro_batch = 1;
    w.virtual_stages = chunks;
    w.samples_per_step = w.tokens_per_step = m;
    w.stages.resize(static_cast<std::size_t>(pp));
    for (int s = 0; s < pp; ++s) {
        StageWork& sw = w.stages[static_cast<std::size_t>(s)];
        sw.stage = s;
        for (int c = 0; c <= chunks; ++c) sw.chunk_begin.push_back(static_cast<std::size_t>(c));
        for (int c = 0; c < chunks; ++c) {
            LayerWork L;
            L.name = "chunk " + std::to_string(c);
            L.fwd_flops = 1e9;
            L.bwd_flops = 2e9;
            sw.layers.push_back(L);
        }
    }
    return w;
}

}  // namespace

class TestCoreSimLarge : public QObject {
    Q_OBJECT

private slots:
    // ---- activation recomputation ----
    void recomputeFullAddsOneForward() {
        const Hardware hw = hand_hw();
        const ComputeRates R = rates_from_hardware(hw);
        ExperimentSpec none = gpt_spec(1, 2, 1, 1), full = none;
        full.training.recompute = "full";
        const Workload wn = build_workload(none), wf = build_workload(full);
        QCOMPARE(wf.stages[0].layers.size(), wn.stages[0].layers.size());
        for (std::size_t l = 0; l < wn.stages[0].layers.size(); ++l) {
            const LayerWork &a = wn.stages[0].layers[l], &b = wf.stages[0].layers[l];
            const LayerTime ta = layer_time(a, R, hw, true), tb = layer_time(b, R, hw, true);
            QCOMPARE(tb.fwd_s, ta.fwd_s);
            if (a.name.rfind("block", 0) == 0) {
                EXPECT_NEAR(tb.bwd_s, ta.bwd_s + ta.fwd_s, 1e-12);     // exactly one more forward
                QCOMPARE(b.tp_bwd_ar, a.tp_bwd_ar + a.tp_fwd_ar);      // with its two tp all-reduces
            } else {
                QCOMPARE(tb.bwd_s, ta.bwd_s);  // embedding and head are not recomputed
            }
        }
        // End to end on one rank (no tp, no pipeline, 4 micro-batches): the step grows by 4
        // forwards of the two blocks; the model FLOPs do not change, the hardware FLOPs grow by
        // 4 × 2 × (24·N·d² + 2·b·d·s·(s+1)) = 4 × 2 × (24·128·64² + 2·4·64·32·33) = 4 × 2 × 13,123,584.
        ExperimentSpec one = gpt_spec(1, 1, 1, 4), one_full = one;
        one_full.training.recompute = "full";
        const Workload w1 = build_workload(one), w1f = build_workload(one_full);
        double fwd_blocks = 0;
        for (const LayerWork& L : w1.stages[0].layers)
            if (L.name.rfind("block", 0) == 0) fwd_blocks += layer_time(L, R, hw, true).fwd_s;
        const SimResult a = simulate_analytic(one, hw), af = simulate_analytic(one_full, hw);
        EXPECT_NEAR(af.step_s - a.step_s, 4 * fwd_blocks, 1e-9);
        const SimResult r = simulate_replay(one, hw), rf = simulate_replay(one_full, hw);
        EXPECT_NEAR(rf.step_s - r.step_s, 4 * fwd_blocks, 1e-9);
        QCOMPARE(w1f.model_flops_per_step, w1.model_flops_per_step);
        QCOMPARE(w1.hardware_flops_per_step, w1.model_flops_per_step);
        QCOMPARE(w1f.hardware_flops_per_step - w1f.model_flops_per_step, 4.0 * 2 * 13123584);
        // MFU counts the useful work: lower with recomputation (longer step); HFU the kernels' work.
        QVERIFY(af.mfu > 0 && af.mfu < a.mfu);
        EXPECT_NEAR(a.hfu, a.mfu, 1e-12);
        EXPECT_NEAR(af.hfu / af.mfu, w1f.hardware_flops_per_step / w1f.model_flops_per_step, 1e-12);
        EXPECT_NEAR(rf.hfu / rf.mfu, w1f.hardware_flops_per_step / w1f.model_flops_per_step, 1e-12);

        // Memory: a block keeps only its input (s·b·h values) plus, once, one block's activations
        // rebuilt during its backward (Korthikanti et al. 2022): 2 blocks × 4 B × 32·4·64 + 4·32·4·64·(34 + 10).
        const MemoryEstimate mn = estimate_memory(w1, hw), mf = estimate_memory(w1f, hw);
        const double sbh = 32.0 * 4 * 64, head = w1.stages[0].layers.back().act_bytes;
        EXPECT_NEAR(mn.activations, head + 2 * 2 * sbh * (34 + 10), 1e-12);  // fp32 = 2 × the 16-bit 34 + 5as/h
        EXPECT_NEAR(mf.activations, head + 2 * 4 * sbh + 2 * sbh * (34 + 10), 1e-12);
    }

    void recomputeSelectiveRecomputesAttentionScores() {
        const Hardware hw = hand_hw();
        ExperimentSpec none = gpt_spec(1, 1, 1, 1), sel = none;
        sel.training.recompute = "selective";
        const Workload wn = build_workload(none), ws = build_workload(sel);
        const LayerWork &a = wn.stages[0].layers[1], &b = ws.stages[0].layers[1];  // block 0
        // Activations: s·b·h·(34 + 5·a·s/h) → s·b·h·34 at 16-bit (×2 in fp32), b = 16 sequences.
        const double sbh = 32.0 * 16 * 64;
        QCOMPARE(a.act_bytes, 2 * sbh * (34 + 5.0 * 4 * 32 / 64));
        QCOMPARE(b.act_bytes, 2 * sbh * 34);
        // Extra work: the attention products once more, 2·b·d·s·(s+1) FLOPs.
        QCOMPARE(b.rc_flops, 2.0 * 16 * 64 * 32 * 33);
        QCOMPARE(ws.hardware_flops_per_step - ws.model_flops_per_step, 2 * b.rc_flops);
        QVERIFY(simulate_analytic(sel, hw).step_s > simulate_analytic(none, hw).step_s);
        QVERIFY(simulate_replay(sel, hw).step_s > simulate_replay(none, hw).step_s);
    }

    // ---- interleaved 1F1B ----
    void interleavedScheduleIsMegatrons() {
        // v = 1 is the plain 1F1B.
        for (int s = 0; s < 4; ++s) {
            const auto plain = ss::models::pipeline_schedule(ss::models::PipeSchedule::OneFOneB, 4, s, 8);
            const auto mine = interleaved_schedule(4, s, 8, 1);
            QCOMPARE(mine.size(), plain.size());
            for (std::size_t i = 0; i < mine.size(); ++i) {
                QCOMPARE(mine[i].forward, plain[i].kind == ss::models::PipeAction::Forward);
                QCOMPARE(mine[i].micro_batch, plain[i].micro_batch);
            }
        }
        // p = 2, v = 2, m = 4, stage 0: warm-up 2·(2−0−1) + (2−1)·2 = 4 forwards (chunks 0,0,1,1),
        // then 1F1B; every (micro-batch, chunk) forward once and backward once, after its forward.
        const auto a = interleaved_schedule(2, 0, 4, 2);
        QCOMPARE(a.size(), std::size_t(16));
        std::string text;
        for (const auto& x : a)
            text += std::string(x.forward ? "F" : "B") + std::to_string(x.micro_batch) + "." + std::to_string(x.chunk) + " ";
        QCOMPARE(text, std::string("F0.0 F1.0 F0.1 F1.1 F2.0 B0.1 F3.0 B1.1 F2.1 B0.0 F3.1 B1.0 B2.1 B3.1 B2.0 B3.0 "));
    }

    void interleavingDividesTheBubble() {
        // 4 identical stages, m = 8, forward + backward of a stage 6 ms (2 chunks × 3 GFLOP at 1 TFLOP/s):
        // 1F1B: (m + p − 1) · 6 = 66 ms, bubble 18 ms; interleaved v = 2: 8·6 + 3·6/2 = 57 ms, bubble 9 ms.
        Hardware hw = hand_hw();
        hw.intra = hw.inter = {0, 0};  // free messages: the bubble alone
        Workload plain = uniform_pipeline(4, 8, 2);
        Workload inter = plain;
        plain.virtual_stages = 1;  // the same layers, each stage one chunk
        for (StageWork& sw : plain.stages) sw.chunk_begin = {0, sw.layers.size()};
        QCOMPARE(bubble_fraction(4, 8, 2), 1.5 / 9.5);
        QCOMPARE(bubble_fraction(4, 8, 2) / (1 - bubble_fraction(4, 8, 2)),
                 bubble_fraction(4, 8) / (1 - bubble_fraction(4, 8)) / 2);  // bubble ÷ work halves
        const SimResult a1 = simulate_analytic(plain, hw), a2 = simulate_analytic(inter, hw);
        EXPECT_NEAR(a1.step_s, 0.066, 1e-12);
        EXPECT_NEAR(a2.step_s, 0.057, 1e-12);
        EXPECT_NEAR(part_ns(a1.breakdown, Part::Bubble), 18e6, 1e-9);
        EXPECT_NEAR(part_ns(a2.breakdown, Part::Bubble), 9e6, 1e-9);
        const ReplayResult r1 = replay(graph_from_spec(plain, hw)), r2 = replay(graph_from_spec(inter, hw));
        EXPECT_NEAR(r1.step_s, 0.066, 1e-12);
        EXPECT_NEAR(r2.step_s, 0.057, 1e-12);
        // The messages: every micro-batch crosses v·p − 1 = 7 boundaries instead of p − 1 = 3, both ways.
        QCOMPARE(graph_from_spec(plain, hw).msgs.size(), std::size_t(3 * 8 * 2));
        QCOMPARE(graph_from_spec(inter, hw).msgs.size(), std::size_t(7 * 8 * 2));

        // From a spec (8 layers, tp 2, dp 2, pp 2, v 2, m 4): both engines agree; the memory walks the schedule.
        ExperimentSpec s = gpt_spec(2, 2, 2, 4);
        s.model.layers = 8;
        ExperimentSpec sv = s;
        sv.parallel.virtual_stages = 2;
        const Workload wv = build_workload(sv);
        QCOMPARE(wv.stages[0].chunk_begin, (std::vector<std::size_t>{0, 3, 5}));  // embedding + 2 blocks, 2 blocks
        QCOMPARE(wv.stages[1].chunk_begin, (std::vector<std::size_t>{0, 2, 5}));  // 2 blocks, 2 blocks + head
        const SimResult av = simulate_analytic(sv, hand_hw()), rv = simulate_replay(sv, hand_hw());
        QVERIFY2(std::abs(av.step_s - rv.step_s) / rv.step_s < 0.05,
                 qPrintable(QStringLiteral("analytic %1 replay %2").arg(av.step_s).arg(rv.step_s)));
        EXPECT_NEAR(rv.breakdown.sum(), rv.step_s * 1e9, 1e-9);
        QVERIFY(part_ns(av.breakdown, Part::Bubble) < part_ns(simulate_analytic(s, hand_hw()).breakdown, Part::Bubble));
        QVERIFY(estimate_memory(wv, hand_hw()).activations > 0);
    }

    // ---- mixed precision ----
    void mixedPrecisionBytes() {
        Hardware hw = hand_hw();
        hw.memory_bytes = 1e9;
        const double P = 269322;
        ExperimentSpec s = mlp_spec(4, 1, 64);
        s.training.precision = "bf16";
        // 16-bit weights 2 B + 16-bit gradients 2 B + fp32 master 4 B + Adam m, v 8 B = 16 B per parameter.
        const MemoryEstimate m = estimate_memory(build_workload(s), hw);
        QCOMPARE(m.params, 2 * P);
        QCOMPARE(m.grads, 2 * P);
        QCOMPARE(m.optimizer, 12 * P);
        QCOMPARE(m.params + m.grads + m.optimizer, 16 * P);
        s.parallel.zero = 1;  // ZeRO-1 over dp = 4: the 12 B of optimizer state sharded, + the 2 B gradient shard
        const MemoryEstimate z = estimate_memory(build_workload(s), hw);
        QCOMPARE(z.optimizer, 12 * P / 4);
        QCOMPARE(z.buffers, 2 * P / 4);
        // Activations and every message at 2 B: half the fp32 figures; DP buckets carry 2 B gradients.
        ExperimentSpec g32 = gpt_spec(2, 2, 2, 4), g16 = g32;
        g16.training.precision = "fp16";
        const Workload w32 = build_workload(g32), w16 = build_workload(g16);
        QCOMPARE(estimate_memory(w16, hw).activations, estimate_memory(w32, hw).activations / 2);
        QCOMPARE(w16.stages[0].out_bytes, w32.stages[0].out_bytes / 2);
        QCOMPARE(w16.stages[0].layers[1].tp_fwd_bytes, w32.stages[0].layers[1].tp_fwd_bytes / 2);
        QCOMPARE(w16.optimizer_traffic, 30.0);
        // The 16-bit peak is required, named when missing; products then run ×(peak16 ÷ fp32 peak).
        try {
            simulate_analytic(g16, hw);
            QFAIL("a 16-bit spec without a 16-bit peak must be refused");
        } catch (const SimError& e) {
            EXPECT_CONTAINS(e.what(), "compute.peak_flops_fp16 is not stated");
        }
        hw.peak_flops_fp16 = 8e12;
        const ComputeRates r16 = rates_at_precision(rates_from_hardware(hw), hw, w16);
        QCOMPARE(r16.matmul_flop_per_s, 8e12);
        QCOMPARE(rates_at_precision(rates_from_hardware(hw), hw, w32).matmul_flop_per_s, 1e12);
        const SimResult a16 = simulate_analytic(g16, hw), a32 = simulate_analytic(g32, hw);
        QVERIFY(a16.step_s < a32.step_s);
        // MFU against the 16-bit peak.
        EXPECT_NEAR(a16.mfu, w16.model_flops_per_step / a16.step_s / (8e12 * 8), 1e-12);
        ExperimentSpec d16 = mlp_spec(4, 1, 64);
        d16.training.precision = "bf16";
        Hardware hb = hw;
        hb.peak_flops_bf16 = 4e12;
        const Workload wd = build_workload(d16);
        const OpGraph g = graph_from_spec(wd, hb);
        double dp_bytes = 0;
        for (const CollInstance& ci : g.colls)
            if (ci.group == GroupKind::DP && ci.group_id == 0 && ci.cost_s > 0) dp_bytes += ci.bytes;
        // one replica's gradients (the trainer's padded flat buffer) at 2 B each, every bucket once
        QCOMPARE(dp_bytes, 2 * wd.stages[0].flat_elems);
        // The presets state the datasheet's dense 16-bit peaks.
        const Hardware h100 = load_hardware(SCALESCOPE_SOURCE_DIR "/examples/hardware/dgx-h100-nvlink.json");
        QCOMPARE(h100.peak_flops_bf16, 989.4e12);
        QCOMPARE(mfu_peak_flop_per_s(h100, "bf16"), 989.4e12);
        QCOMPARE(parse_hardware(to_json(h100), "back").peak_flops_fp16, 989.4e12);
    }

    // ---- sequence parallelism ----
    void sequenceParallelSplitsTheRest() {
        Hardware hw = hand_hw();
        ExperimentSpec tp2 = gpt_spec(1, 2, 1, 1), sp = tp2;
        sp.parallel.sequence_parallel = true;
        const Workload wn = build_workload(tp2), ws = build_workload(sp);
        const LayerWork &a = wn.stages[0].layers[1], &b = ws.stages[0].layers[1];
        // Korthikanti et al. 2022: s·b·h·(10 + 24/t + 5as/(ht)) → s·b·h·(10/t + 24/t + 5as/(ht)) at 16-bit.
        const double sbh = 32.0 * 16 * 64, t = 2, attn = 5.0 * 4 * 32 / (64 * t);
        QCOMPARE(a.act_bytes, 2 * sbh * (10 + 24 / t + attn));
        QCOMPARE(b.act_bytes, 2 * sbh * (10 / t + 24 / t + attn));
        // Each all-reduce becomes a reduce-scatter + all-gather of the same bytes: the same ring time.
        QVERIFY(b.tp_rs_ag && !a.tp_rs_ag);
        QCOMPARE(b.tp_fwd_bytes, a.tp_fwd_bytes);
        const GroupPlacement g = place_group(hw, 2, 1);
        EXPECT_NEAR(tp_collective_time(hw, g, 1e6, true), tp_collective_time(hw, g, 1e6, false), 1e-12);
        const OpGraph gs = graph_from_spec(build_workload(sp), hw), gn = graph_from_spec(build_workload(tp2), hw);
        QCOMPARE(count_colls(gs, GroupKind::TP, Collective::AllReduce), 0);
        QCOMPARE(count_colls(gs, GroupKind::TP, Collective::ReduceScatter), count_colls(gn, GroupKind::TP, Collective::AllReduce));
        QCOMPARE(count_colls(gs, GroupKind::TP, Collective::AllGather), count_colls(gn, GroupKind::TP, Collective::AllReduce));
        // Less element-wise traffic, the same communication: a little faster in both engines.
        QVERIFY(simulate_analytic(sp, hw).step_s < simulate_analytic(tp2, hw).step_s);
        QVERIFY(simulate_replay(sp, hw).step_s < simulate_replay(tp2, hw).step_s);
        EXPECT_NEAR(simulate_analytic(sp, hw).breakdown.comm_ns, simulate_analytic(tp2, hw).breakdown.comm_ns, 1e-12);
    }

    // ---- gradient accumulation ----
    void gradientAccumulation() {
        // dp 2, micro-batches of 16: m = 4 (global batch 128) against m = 1 (global batch 32).
        const Hardware hw = hand_hw();
        const ExperimentSpec one = mlp_spec(2, 1, 32), four = mlp_spec(2, 4, 128);
        QCOMPARE(build_workload(four).micro_batch, build_workload(one).micro_batch);
        const SimResult a1 = simulate_analytic(one, hw), a4 = simulate_analytic(four, hw);
        EXPECT_NEAR(part_ns(a4.breakdown, Part::Compute), 4 * part_ns(a1.breakdown, Part::Compute), 1e-12);
        EXPECT_NEAR(a4.breakdown.comm_ns, a1.breakdown.comm_ns, 1e-12);  // one reduction per step
        EXPECT_NEAR(part_ns(a4.breakdown, Part::Optimizer), part_ns(a1.breakdown, Part::Optimizer), 1e-12);
        const OpGraph g1 = graph_from_spec(build_workload(one), hw), g4 = graph_from_spec(build_workload(four), hw);
        QCOMPARE(count_colls(g4, GroupKind::DP, Collective::AllReduce), count_colls(g1, GroupKind::DP, Collective::AllReduce));
        const SimResult r1 = simulate_replay(one, hw), r4 = simulate_replay(four, hw);
        EXPECT_NEAR(part_ns(r4.breakdown, Part::Compute), 4 * part_ns(r1.breakdown, Part::Compute), 1e-9);
        QCOMPARE(a4.samples_per_s > a1.samples_per_s, true);  // the reduction amortised over 4× the samples
    }

    // ---- memory verdict ----
    void tooBigDoesNotFit() {
        // GPT-3 175B (96 layers, d 12288, 96 heads, 2048 tokens, vocab 51200) on one 80 GB H100:
        // 16 B per parameter alone is 2.8 TB.
        const Hardware h100 = load_hardware(SCALESCOPE_SOURCE_DIR "/examples/hardware/dgx-h100-nvlink.json");
        ExperimentSpec s = gpt_spec(1, 1, 1, 1, 1);
        s.model.layers = 96, s.model.d_model = 12288, s.model.heads = 96, s.model.seq_len = 2048, s.model.vocab = 51200;
        s.training.precision = "bf16";
        const SimResult r = simulate_analytic(s, h100);
        QVERIFY(!r.memory.fits);
        QCOMPARE(r.memory.capacity, 80e9);
        QVERIFY(r.memory.params + r.memory.grads + r.memory.optimizer > 16 * 174e9);
        const std::string v = memory_verdict(r.memory);
        EXPECT_CONTAINS(v, "does not fit: ");
        EXPECT_CONTAINS(v, " GB per rank > 80.0 GB of the device (stage 0: weights ");
        bool noted = false;
        for (const auto& n : r.notes) noted = noted || n == v;
        QVERIFY(noted);
        // GPT tiny fits, and says how much of the device it takes; unknown capacity says so.
        const SimResult small = simulate_analytic(gpt_spec(1, 1, 1, 1), h100);
        QVERIFY(small.memory.fits);
        EXPECT_CONTAINS(memory_verdict(small.memory), "fits: 0.0 of 80.0 GB per rank (0 %)");
        EXPECT_CONTAINS(memory_verdict(simulate_analytic(gpt_spec(1, 1, 1, 1), hand_hw()).memory),
                        "GB per rank (the device's memory is not stated)");
    }
};

QTEST_GUILESS_MAIN(TestCoreSimLarge)
#include "tst_core_sim_large.moc"

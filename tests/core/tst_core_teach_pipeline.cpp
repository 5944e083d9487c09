// The Learn page's pipeline and splits explorers (core/teach, issue 19): the drawn GPipe and 1F1B
// bubble equals (p−1)/(m+p−1) with b = f and b = 2f; interleaved 1F1B equals the simulator's
// bubble_fraction; every box respects the pipeline's dependencies and its stage's schedule order;
// a synthetic recorded run (traces/writer.h) gives back its hand-drawn boxes, the first step after
// the warm-up, with the pipeline receive's wait left out; what each parallelism splits against
// hand-worked parameter counts, memory and bytes.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>
#include <string>

#include "core/sim/simulator.h"
#include "core/teach/parallel_splits.h"
#include "core/teach/pipeline_gantt.h"
#include "models/plan/schedule.h"
#include "tests/traces/trace_fixture.h"
#include "traces/lanes.h"
#include "traces/reader.h"
#include "traces/writer.h"

using namespace ss::core;
using namespace ss::core::teach;
using namespace ss::traces;

namespace {

bool near(double a, double b, double tol = 1e-12) {
    return std::abs(a - b) <= tol * std::max(1.0, std::abs(b));
}
#define EXPECT_NEAR(a, b)                                               \
    QVERIFY2(near((a), (b)), qPrintable(QStringLiteral("%1 != %2 (%3)") \
                                            .arg(double(a), 0, 'g', 15) \
                                            .arg(double(b), 0, 'g', 15) \
                                            .arg(QString::fromUtf8(#a))))

const GanttBox* find_box(const Gantt& g, int stage, int mb, int chunk, bool fwd) {
    for (const GanttBox& b : g.boxes)
        if (b.stage == stage && b.micro_batch == mb && b.chunk == chunk && b.forward == fwd)
            return &b;
    return nullptr;
}

// Dependencies (virtual stage vs = chunk·p + stage): F(vs, i) after F(vs − 1, i); B(vs, i) after
// B(vs + 1, i); the last virtual stage's B(i) after its F(i); a stage runs one box at a time, in
// the order of the schedule builder.
void check_invariants(const PipelineParams& pp, const Gantt& g) {
    const int p = pp.stages, m = pp.micro_batches, v = g.chunks, V = p * v;
    QCOMPARE(static_cast<int>(g.boxes.size()), 2 * p * m * v);
    for (int vs = 0; vs < V; ++vs)
        for (int i = 0; i < m; ++i) {
            const GanttBox* f = find_box(g, vs % p, i, vs / p, true);
            const GanttBox* b = find_box(g, vs % p, i, vs / p, false);
            QVERIFY(f && b);
            QVERIFY(f->end > f->start && b->end > b->start);
            QVERIFY(near(f->duration(), pp.forward / v) && near(b->duration(), pp.backward / v));
            if (vs > 0)
                QVERIFY(f->start >= find_box(g, (vs - 1) % p, i, (vs - 1) / p, true)->end - 1e-12);
            if (vs < V - 1)
                QVERIFY(b->start >= find_box(g, (vs + 1) % p, i, (vs + 1) / p, false)->end - 1e-12);
            else
                QVERIFY(b->start >= f->end - 1e-12);
        }
    for (int s = 0; s < p; ++s) {
        std::vector<GanttBox> row;
        for (const GanttBox& b : g.boxes)
            if (b.stage == s) row.push_back(b);
        for (std::size_t k = 1; k < row.size(); ++k)
            QVERIFY(row[k].start >= row[k - 1].end - 1e-12);
        if (pp.kind == PipelineKind::Interleaved) {
            const auto order = interleaved_schedule(p, s, m, v);
            QCOMPARE(row.size(), order.size());
            for (std::size_t k = 0; k < row.size(); ++k) {
                QCOMPARE(row[k].forward, order[k].forward);
                QCOMPARE(row[k].micro_batch, order[k].micro_batch);
                QCOMPARE(row[k].chunk, order[k].chunk);
            }
        } else {
            const auto order = ss::models::pipeline_schedule(
                pp.kind == PipelineKind::GPipe ? ss::models::PipeSchedule::GPipe
                                               : ss::models::PipeSchedule::OneFOneB,
                p, s, m);
            QCOMPARE(row.size(), order.size());
            for (std::size_t k = 0; k < row.size(); ++k) {
                QCOMPARE(row[k].forward, order[k].kind == ss::models::PipeAction::Forward);
                QCOMPARE(row[k].micro_batch, order[k].micro_batch);
            }
        }
    }
}

// One rank's line of the synthetic trace.
std::string ev(const char* kind, const char* name, double from_us, double to_us,
               const std::string& keys) {
    return std::string(kind) + " " + name + " " +
           std::to_string(static_cast<long long>(from_us * 1000)) + " " +
           std::to_string(static_cast<long long>(to_us * 1000)) + " " + keys + "\n";
}

}  // namespace

class TestCoreTeachPipeline : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void gpipeAnd1f1bBubbleIsTheFormula() {
        for (PipelineKind kind : {PipelineKind::GPipe, PipelineKind::OneFOneB})
            for (int p : {2, 3, 4, 8})
                for (int m : {1, 2, 3, 4, 8, 16})
                    for (double b : {1.0, 2.0}) {
                        PipelineParams pp{kind, p, m, 1, 1.0, b};
                        const Gantt g = schedule_gantt(pp);
                        const double want = double(p - 1) / (m + p - 1);
                        EXPECT_NEAR(g.bubble_fraction(), want);
                        EXPECT_NEAR(formula_bubble(pp), want);
                        // The step is (m + p − 1)(f + b): the formula in units of f + b.
                        EXPECT_NEAR(g.span(), (m + p - 1) * (1.0 + b));
                        check_invariants(pp, g);
                    }
        QCOMPARE(formula_text({PipelineKind::OneFOneB, 4, 8, 1, 1, 2}),
                 std::string("(p−1)/(m+p−1) = 3/11"));
    }

    void handDrawnOneFOneB() {
        // p = 2, m = 2, f = 1, b = 2: stage 0 F0 [0,1] F1 [1,2] B0 [4,6] B1 [7,9];
        // stage 1 F0 [1,2] B0 [2,4] F1 [4,5] B1 [5,7]. Idle 6 of 18: 1/3.
        const Gantt g = schedule_gantt({PipelineKind::OneFOneB, 2, 2, 1, 1, 2});
        auto at = [&](int s, int mb, bool f, double a, double e) {
            const GanttBox* x = find_box(g, s, mb, 0, f);
            QVERIFY(x);
            EXPECT_NEAR(x->start, a);
            EXPECT_NEAR(x->end, e);
        };
        at(0, 0, true, 0, 1);
        at(0, 1, true, 1, 2);
        at(0, 0, false, 4, 6);
        at(0, 1, false, 7, 9);
        at(1, 0, true, 1, 2);
        at(1, 0, false, 2, 4);
        at(1, 1, true, 4, 5);
        at(1, 1, false, 5, 7);
        const auto idle0 = g.idle(0);  // [2,4], [6,7]
        QCOMPARE(idle0.size(), std::size_t(2));
        EXPECT_NEAR(idle0[0].first, 2);
        EXPECT_NEAR(idle0[0].second, 4);
        const auto idle1 = g.idle(1);  // [0,1], [7,9]
        QCOMPARE(idle1.size(), std::size_t(2));
        EXPECT_NEAR(idle1[1].second, 9);
        EXPECT_NEAR(g.bubble_fraction(), 1.0 / 3);
    }

    void interleavedMatchesTheSimulator() {
        for (int p : {2, 3, 4})
            for (int v : {2, 3})
                for (int k : {1, 2, 4})
                    for (double b : {1.0, 2.0}) {
                        const int m = k * p;
                        PipelineParams pp{PipelineKind::Interleaved, p, m, v, 1.0, b};
                        const Gantt g = schedule_gantt(pp);
                        check_invariants(pp, g);
                        // core::bubble_fraction (simulator.h): ((p−1)/v) / (m + (p−1)/v) =
                        // (p−1)/(v·m+p−1).
                        EXPECT_NEAR(formula_bubble(pp), bubble_fraction(p, m, v));
                        EXPECT_NEAR(formula_bubble(pp), double(p - 1) / (v * m + p - 1));
                        EXPECT_NEAR(g.bubble_fraction(), bubble_fraction(p, m, v));
                    }
        QCOMPARE(formula_text({PipelineKind::Interleaved, 4, 8, 2, 1, 2}),
                 std::string("(p−1)/(v·m+p−1) = 3/19"));
        // Megatron-LM's rule: m a multiple of p.
        QVERIFY_THROWS_EXCEPTION(TeachError,
                                 schedule_gantt({PipelineKind::Interleaved, 4, 6, 2, 1, 2}));
        QVERIFY_THROWS_EXCEPTION(TeachError, schedule_gantt({PipelineKind::GPipe, 0, 6, 1, 1, 2}));
    }

    void recordedRunBoxes() {
        // pp = 2, m = 2, 1F1B; ranks 0 (stage 0) and 1 (stage 1). Step 0 is a long warm-up; step 1
        // is the hand-drawn f = 10 µs, b = 20 µs schedule, each phase of a receiving stage opening
        // with its pipeline receive (waiting, not work); steps 2 and 3 are slower and faster.
        const std::string path = dir_.filePath(QStringLiteral("pp.sqlite")).toStdString();
        RunId run;
        {
            TraceWriter w(path);
            RunInfo ri;
            ri.name = "pp2";
            ri.model = "gpt-tiny";
            ri.world_size = 2;
            ri.pp = 2;
            ri.micro_batches = 2;
            ri.schedule = "1f1b";
            run = w.begin_run(ri);
            std::map<int, std::string> text;
            for (int r = 0; r < 2; ++r) {
                RankInfo k;
                k.run = run;
                k.rank = r;
                k.pp_coord = r;
                k.clock_corrected = true;
                w.put_rank(k);
                for (std::int32_t l : {lanes::kSteps, lanes::kPhases, lanes::kComm})
                    w.define_lane(run, r, l, lanes::name(l));
                text[r] += ev("step", "step", 0, 1000, "lane=0 step=0");
                text[r] += ev("step", "step", 1000, 1150, "lane=0 step=1");
                text[r] += ev("step", "step", 1200, 1350, "lane=0 step=2");
                text[r] += ev("step", "step", 1400, 1550, "lane=0 step=3");
            }
            auto steps = [&](int step, double t0, double f, double b) {
                const std::string s = " step=" + std::to_string(step);
                const std::string recv = " lane=3 coll=recv group=pp gid=0 gsize=2";
                // stage 0: F0 F1 B0 B1
                text[0] += ev("phase", "forward", t0, t0 + f, "lane=1 mb=0" + s);
                text[0] += ev("phase", "forward", t0 + f, t0 + 2 * f, "lane=1 mb=1" + s);
                text[0] +=
                    ev("phase", "backward", t0 + 2 * f, t0 + 2 * f + 2 * b, "lane=1 mb=0" + s);
                text[0] += ev("comm", "recv", t0 + 2 * f, t0 + 2 * f + b, recv + " mb=0" + s);
                text[0] += ev("phase", "backward", t0 + 2 * f + 2 * b, t0 + 3 * f + 3 * b,
                              "lane=1 mb=1" + s);
                text[0] +=
                    ev("comm", "recv", t0 + 2 * f + 2 * b, t0 + 3 * f + 2 * b, recv + " mb=1" + s);
                // stage 1: F0 B0 F1 B1
                text[1] += ev("phase", "forward", t0, t0 + 2 * f, "lane=1 mb=0" + s);
                text[1] += ev("comm", "recv", t0, t0 + f, recv + " mb=0" + s);
                text[1] += ev("phase", "backward", t0 + 2 * f, t0 + 2 * f + b, "lane=1 mb=0" + s);
                text[1] +=
                    ev("phase", "forward", t0 + 2 * f + b, t0 + 3 * f + b, "lane=1 mb=1" + s);
                text[1] +=
                    ev("comm", "recv", t0 + 2 * f + b, t0 + 2 * f + b + 0.5, recv + " mb=1" + s);
                text[1] +=
                    ev("phase", "backward", t0 + 3 * f + b, t0 + 3 * f + 2 * b, "lane=1 mb=1" + s);
            };
            steps(0, 0, 100, 200);
            steps(1, 1000, 10, 20);  // span 90 µs: the median of the steps after the warm-up
            steps(2, 1200, 15, 30);  // 135 µs
            steps(3, 1400, 5, 10);   // 45 µs
            for (const auto& [r, t] : text) {
                std::istringstream lines(t);
                std::string line;
                while (std::getline(lines, line))
                    QVERIFY(w.add_event(fixture::parse_event(w, run, r, line)));
            }
            w.finish_run(run, RunStatus::Completed, "", 1200000);
        }
        TraceReader rd(path);
        QCOMPARE(first_pipeline_run(rd), run);
        const RecordedGantt rg = gantt_from_trace(rd, run);
        QCOMPARE(rg.warmup_steps, 1);
        QCOMPARE(rg.step, std::int64_t(1));
        QCOMPARE(rg.steps_considered, 3);
        QCOMPARE(rg.kind, PipelineKind::OneFOneB);
        QCOMPARE(rg.stage_rank, (std::vector<int>{0, 1}));
        const Gantt& g = rg.gantt;
        QCOMPARE(g.unit, std::string("ms"));
        QCOMPARE(g.boxes.size(), std::size_t(8));
        // The hand-drawn schedule in ms: f = 0.01, b = 0.02; the receive's wait is not in the box.
        auto at = [&](int s, int mb, bool f, double a, double e) {
            const GanttBox* x = find_box(g, s, mb, 0, f);
            QVERIFY(x);
            QVERIFY2(near(x->start, a, 1e-9) && near(x->end, e, 1e-9),
                     qPrintable(QStringLiteral("stage %1 mb %2 %3: [%4, %5]")
                                    .arg(s)
                                    .arg(mb)
                                    .arg(f)
                                    .arg(x->start)
                                    .arg(x->end)));
        };
        at(0, 0, true, 0, 0.01);
        at(0, 1, true, 0.01, 0.02);
        at(0, 0, false, 0.04, 0.06);
        at(0, 1, false, 0.07, 0.09);
        at(1, 0, true, 0.01, 0.02);
        at(1, 0, false, 0.02, 0.04);
        at(1, 1, true, 0.0405, 0.05);
        at(1, 1, false, 0.05, 0.07);
        EXPECT_NEAR(g.span(), 0.09);
        // Busy 0.06 + 0.0595 of 2 × 0.09.
        QVERIFY(near(g.bubble_fraction(), 1 - 0.1195 / 0.18, 1e-9));

        // A run without a pipeline says how to record one.
        const std::string flat = dir_.filePath(QStringLiteral("flat.sqlite")).toStdString();
        RunId r2;
        {
            TraceWriter w(flat);
            RunInfo ri;
            ri.name = "dp2";
            ri.world_size = 2;
            ri.dp = 2;
            r2 = w.begin_run(ri);
            w.finish_run(r2, RunStatus::Completed, "", 0);
        }
        TraceReader rd2(flat);
        QVERIFY(!first_pipeline_run(rd2).valid());
        try {
            gantt_from_trace(rd2, r2);
            QFAIL("no error for a run without a pipeline");
        } catch (const TeachError& e) {
            QVERIFY(std::string(e.what()).find("examples/gpt-tiny-tp2pp2.json") !=
                    std::string::npos);
        }
    }

    void recordedTinyRun() {
#ifndef SCALESCOPE_CLI
        QSKIP("built without scalescope-cli and the worker");
#else
        // A real 2-stage 1F1B run of gpt-tiny (2 ranks, 4 micro-batches, 4 steps) under mpirun.
        const QString file = dir_.filePath(QStringLiteral("tiny-pp2.sqlite"));
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral(SCALESCOPE_CLI),
                {QStringLiteral("run"),
                 QStringLiteral(SCALESCOPE_SOURCE_DIR "/examples/gpt-tiny-tp2pp2.json"),
                 QStringLiteral("-o"), file, QStringLiteral("--set"),
                 QStringLiteral("parallel.tp=1"), QStringLiteral("--set"),
                 QStringLiteral("training.steps=4"), QStringLiteral("--run-dir"),
                 dir_.filePath(QStringLiteral("runs")), QStringLiteral("--quiet")});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                 p.readAll().constData());
        TraceReader rd(file.toStdString());
        const RecordedGantt rg = gantt_from_trace(rd, first_pipeline_run(rd));
        const Gantt& g = rg.gantt;
        QCOMPARE(rg.stage_rank, (std::vector<int>{0, 1}));
        QCOMPARE(g.boxes.size(), std::size_t(2 * 2 * 4));
        QVERIFY(g.bubble_fraction() > 0 && g.bubble_fraction() < 1);
        // The recorded boxes keep the pipeline's order: a stage's boxes follow its 1F1B schedule,
        // one at a time; stage 1's forward of i starts after stage 0's ends, stage 0's backward of
        // i after stage 1's (within the clock correction: 0.1 ms).
        const double tol = 0.1;
        for (int s = 0; s < 2; ++s) {
            std::vector<GanttBox> row;
            for (const GanttBox& b : g.boxes)
                if (b.stage == s) row.push_back(b);
            const auto order =
                ss::models::pipeline_schedule(ss::models::PipeSchedule::OneFOneB, 2, s, 4);
            QCOMPARE(row.size(), order.size());
            for (std::size_t k = 0; k < row.size(); ++k) {
                QCOMPARE(row[k].forward, order[k].kind == ss::models::PipeAction::Forward);
                QCOMPARE(row[k].micro_batch, order[k].micro_batch);
                if (k > 0) QVERIFY(row[k].start >= row[k - 1].end - 1e-9);
            }
        }
        for (int i = 0; i < 4; ++i) {
            QVERIFY(find_box(g, 1, i, 0, true)->start >= find_box(g, 0, i, 0, true)->end - tol);
            QVERIFY(find_box(g, 0, i, 0, false)->start >= find_box(g, 1, i, 0, false)->end - tol);
        }
        qInfo(
            "recorded gpt-tiny pp2 m4: step %lld (median of %d after %d warm-up), span %.3f ms, bubble %.1f "
            "%%",
            static_cast<long long>(rg.step), rg.steps_considered, rg.warmup_steps, g.span(),
            100 * g.bubble_fraction());
#endif
    }

    void splitsParametersAndMemory() {
        const ExperimentSpec mlp = example_spec("mlp", "default");
        // 784 → 256 → 256 → 10: 784·256+256 + 256·256+256 + 256·10+10 = 269,322.
        const Splits one = parallel_splits(mlp, {1, 1, 1, 0, 1}, 16e9);
        QCOMPARE(one.world, 1);
        QCOMPARE(one.stages.size(), std::size_t(1));
        EXPECT_NEAR(one.stages[0].params, 269322);
        EXPECT_NEAR(one.stages[0].memory.params, 4 * 269322.0);
        EXPECT_NEAR(one.stages[0].memory.grads, 4 * 269322.0);
        EXPECT_NEAR(one.stages[0].memory.optimizer, 8 * 269322.0);  // Adam m and v
        QVERIFY(one.comm.empty());
        // tp = 2 halves the Megatron pair (column 784×256 split by output, row 256×256 by input);
        // the odd last layer (256×10) and the row layer's bias stay whole:
        // 784·128+128 + 128·256+256 + 2570 = 136,074.
        const Splits tp2 = parallel_splits(mlp, {1, 2, 1, 0, 1}, 16e9);
        EXPECT_NEAR(tp2.stages[0].params, 136074);
        EXPECT_NEAR(tp2.stages[0].memory.params, 4 * 136074.0);
        // ZeRO-1 over dp = 4: the optimizer state (8 B per parameter) divided by 4, plus the
        // reduced-gradient shard as a buffer; weights and gradients stay whole.
        const Splits z = parallel_splits(mlp, {4, 1, 1, 1, 1}, 16e9);
        EXPECT_NEAR(z.stages[0].memory.optimizer, 8 * 269322.0 / 4);
        EXPECT_NEAR(z.stages[0].memory.params, 4 * 269322.0);
        const Splits dp4 = parallel_splits(mlp, {4, 1, 1, 0, 1}, 16e9);
        EXPECT_NEAR(dp4.stages[0].memory.optimizer, 8 * 269322.0);
        // The DP all-reduce: the stage's flat (padded) gradient buffer, ring 2(p−1)/p of it sent.
        double ar = 0, sent = 0;
        for (const CommSplit& c : dp4.comm)
            if (c.group == "dp") {
                QCOMPARE(c.op, std::string("all-reduce"));
                ar += c.bytes;
                sent += c.sent_bytes;
            }
        QVERIFY(ar >= 4 * 269322.0 && ar < 4 * 269322.0 * 1.01);  // padding only
        EXPECT_NEAR(sent, 2.0 * 3 / 4 * ar);
        // ZeRO-1: reduce-scatter + all-gather, (p−1)/p of the buffer each.
        double rs = 0, ag = 0;
        for (const CommSplit& c : z.comm) {
            if (c.op == "reduce-scatter") rs += c.sent_bytes;
            if (c.op == "all-gather") ag += c.sent_bytes;
        }
        EXPECT_NEAR(rs, 3.0 / 4 * ar);
        EXPECT_NEAR(ag, 3.0 / 4 * ar);
        bool zero_sentence = false;
        for (const std::string& s : z.sentences)
            zero_sentence = zero_sentence || s.find("ZeRO-1") != std::string::npos;
        QVERIFY(zero_sentence);
    }

    void splitsGptTpAndPp() {
        const ExperimentSpec gpt =
            example_spec("gpt", "tiny");  // L = 2, d = 64, h = 4, s = 32, V = 256
        // Per block 12d² + 13d = 49,984; embedding (V + s)·d = 18,432; final LN 2d; head V·d.
        const Splits one = parallel_splits(gpt, {1, 1, 1, 0, 1});
        EXPECT_NEAR(one.stages[0].params, 134912);
        EXPECT_NEAR(one.model_params, 134912);
        // tp = 2: a block holds 12d²/2 + 7d/2 + 6d = 25,184 (matrices and their biases split).
        const Splits tp2 = parallel_splits(gpt, {1, 2, 1, 0, 1});
        EXPECT_NEAR(tp2.stages[0].params, 18432 + 2 * 25184 + 128 + 16384);
        // Megatron: 4 all-reduces of b·s·d floats per block and micro-batch (b = 64, s = 32, d =
        // 64).
        double calls = 0, bytes = 0;
        for (const CommSplit& c : tp2.comm)
            if (c.group == "tp") {
                calls += c.calls;
                bytes += c.bytes;
                EXPECT_NEAR(c.sent_bytes, 2.0 * 1 / 2 * c.bytes);
            }
        EXPECT_NEAR(calls, 4 * 2);
        EXPECT_NEAR(bytes, 2 * megatron_tp_bytes_per_layer(64, 32, 64));
        // pp = 2, m = 4: stage 0 = embedding + block 0, stage 1 = block 1 + final LN + head; each
        // micro-batch (16 sequences) sends 16·32·64 floats forward from stage 0, a gradient back
        // from stage 1.
        const Splits pp2 = parallel_splits(gpt, {1, 1, 2, 0, 4});
        QCOMPARE(pp2.stages.size(), std::size_t(2));
        EXPECT_NEAR(pp2.stages[0].params, 18432 + 49984);
        EXPECT_NEAR(pp2.stages[1].params, 49984 + 128 + 16384);
        QCOMPARE(pp2.stages[0].layers, std::string("embedding, block 0"));
        QCOMPARE(pp2.stages[1].layers, std::string("block 1, head"));
        for (const CommSplit& c : pp2.comm)
            if (c.group == "pp") {
                EXPECT_NEAR(c.calls, 4);
                EXPECT_NEAR(c.bytes, 4 * 16 * 32 * 64 * 4.0);
            }
        // 1F1B keeps at most p − s micro-batches of activations on stage s: stage 0 two, stage 1
        // one.
        QVERIFY(pp2.stages[0].memory.activations > pp2.stages[1].memory.activations);
        // Capacity: the verdict sentence.
        const Splits small = parallel_splits(gpt, {1, 1, 1, 0, 1}, 1000);
        QVERIFY(!small.stages[0].memory.fits);
        QVERIFY(small.sentences.back().find("does not fit") != std::string::npos);
        // A layout the model does not allow: validate()'s message.
        try {
            parallel_splits(gpt, {1, 3, 1, 0, 1});
            QFAIL("tp=3 accepted for 4 heads");
        } catch (const TeachError& e) {
            QVERIFY(std::string(e.what()).find("parallel.tp=3 must divide model.heads=4") !=
                    std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestCoreTeachPipeline)
#include "tst_core_teach_pipeline.moc"

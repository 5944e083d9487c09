// The simulator and the trainer agree on what a step runs (issue 13): for each layout, a tiny MLP
// (and the tiny GPT under tp2) is trained under mpirun by scalescope-worker with tracing on, and
// for every rank the order of the recorded step — forward / backward of each micro-batch, sends and
// receives with their peer and size, collectives with their group, sequence number and size (so a
// DP bucket's parameters count too) — must equal the order of the replay's op graph for the same
// spec (graph_from_spec), on CPU hardware and on GPU hardware (NCCL on a stream of its own, issue
// 14). Times are not compared, only sequences.
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../models/mpi_run.h"
#include "core/sim/hardware.h"
#include "core/sim/sim_replay.h"
#include "core/sim/simulator.h"
#include "core/spec/spec.h"
#include "traces/reader.h"

using namespace ss::core;
using namespace ss::traces;

namespace {

using Sequence = std::vector<std::string>;

std::string collective_token(Collective c, GroupKind g, std::int64_t seq, double bytes) {
    return std::string(to_string(c)) + " " + std::string(to_string(g)) + " #" +
           std::to_string(seq) + " " + std::to_string(std::llround(bytes)) + " B";
}

// The op graph of one rank as a sequence: "F<mb>"/"B<mb>" when a pipeline action begins, then its
// communication; Compute and Wait ops leave no token (the trace has no event for a wait).
Sequence simulated(const OpGraph& g, int rank) {
    Sequence out;
    OpPass pass = OpPass::None;
    int mb = -1;
    for (const SimOp& op : g.ranks[static_cast<std::size_t>(rank)]) {
        if (op.pass != OpPass::None && (op.pass != pass || op.micro_batch != mb))
            out.push_back((op.pass == OpPass::Forward ? "F" : "B") +
                          std::to_string(op.micro_batch));
        pass = op.pass;
        mb = op.micro_batch;
        switch (op.kind) {
            case OpKind::Coll:
            case OpKind::CollStart: {
                const CollInstance& c = g.colls[static_cast<std::size_t>(op.ref)];
                out.push_back(collective_token(c.collective, c.group, c.seq, c.bytes));
                break;
            }
            case OpKind::Send:
            case OpKind::Recv: {
                const Message& m = g.msgs[static_cast<std::size_t>(op.ref)];
                out.push_back(op.kind == OpKind::Send
                                  ? "send to " + std::to_string(m.to) + " " +
                                        std::to_string(std::llround(m.bytes)) + " B"
                                  : "recv from " + std::to_string(m.from) + " " +
                                        std::to_string(std::llround(m.bytes)) + " B");
                break;
            }
            case OpKind::Compute:
            case OpKind::Wait:
                break;
        }
    }
    return out;
}

// The same sequence from one rank's trace file, for the step `step`: its forward/backward phases
// and communication events in the order they began. Collective sequence numbers count from the
// step's first operation on that group (the simulator graphs one step; the trainer's count on).
Sequence recorded(const std::string& rank_file, std::int64_t step) {
    TraceReader rd(rank_file);
    const auto runs = rd.runs();
    if (runs.size() != 1) return {"expected one run in " + rank_file};
    std::vector<Event> evs;
    rd.scan_events(runs[0].id, [&](const Event& e) {
        if (e.step != step) return;
        if (e.kind == EventKind::Comm) evs.push_back(e);
        if (e.kind == EventKind::Phase) {
            const std::string& name = rd.string(e.name);
            if (name == "forward" || name == "backward") evs.push_back(e);
        }
    });
    // A phase begins before the communication it holds; at the same nanosecond it still comes
    // first.
    std::stable_sort(evs.begin(), evs.end(), [](const Event& a, const Event& b) {
        if (a.start_ns != b.start_ns) return a.start_ns < b.start_ns;
        return (a.kind == EventKind::Phase) > (b.kind == EventKind::Phase);
    });
    Sequence out;
    std::map<int, std::int64_t> first_seq;  // per group kind
    for (const Event& e : evs) {
        if (e.kind == EventKind::Phase) {
            out.push_back((rd.string(e.name) == "forward" ? "F" : "B") +
                          std::to_string(e.micro_batch));
        } else if (e.collective == Collective::Send) {
            out.push_back("send to " + std::to_string(e.peer) + " " + std::to_string(e.bytes) +
                          " B");
        } else if (e.collective == Collective::Recv) {
            out.push_back("recv from " + std::to_string(e.peer) + " " + std::to_string(e.bytes) +
                          " B");
        } else {
            const auto it = first_seq.emplace(static_cast<int>(e.group_kind), e.seq).first;
            out.push_back(collective_token(e.collective, e.group_kind, e.seq - it->second,
                                           static_cast<double>(e.bytes)));
        }
    }
    return out;
}

QString joined(const Sequence& s) {
    QStringList l;
    for (const auto& t : s) l << QString::fromStdString(t);
    return l.join(QStringLiteral(" | "));
}

}  // namespace

class TestCoreSimAgreement : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void opOrderMatchesTheTrainer_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("parallel");
        QTest::addColumn<int>("world");
        const QString mlp = QStringLiteral(R"({"kind": "mlp", "hidden": [64, 64]})");
        const QString gpt = QStringLiteral(R"({"kind": "gpt", "preset": "tiny"})");
        // Small buckets (0.05 MiB = 13107 floats of ~55k parameters): several DP buckets per stage.
        QTest::newRow("dp2") << mlp << R"("dp": 2, "bucket_mb": 0.05)" << 2;
        QTest::newRow("tp2") << mlp << R"("tp": 2)" << 2;
        QTest::newRow("gpt tp2") << gpt << R"("tp": 2)" << 2;
        QTest::newRow("pp2 gpipe")
            << mlp << R"("pp": 2, "micro_batches": 3, "schedule": "gpipe")" << 2;
        QTest::newRow("pp2 1f1b m3")
            << mlp << R"("pp": 2, "micro_batches": 3, "schedule": "1f1b")" << 2;
        QTest::newRow("dp2 x pp2")
            << mlp
            << R"("dp": 2, "pp": 2, "micro_batches": 2, "schedule": "1f1b", "bucket_mb": 0.05)"
            << 4;
    }

    void opOrderMatchesTheTrainer() {
        QFETCH(QString, model);
        QFETCH(QString, parallel);
        QFETCH(int, world);
        const QString tag = QString::fromLatin1(QTest::currentDataTag())
                                .replace(QLatin1Char(' '), QLatin1Char('_'));
        const QString run_dir = dir_.filePath(tag);
        const QString spec_path = dir_.filePath(tag + QStringLiteral(".json"));
        const std::string doc = R"({"name": "agree", "model": )" + model.toStdString() +
                                R"(, "training": {"steps": 3, "global_batch": 24}, "parallel": {)" +
                                parallel.toStdString() + R"(}, "trace": {"flush_interval_s": 10}})";
        {
            std::ofstream f(spec_path.toStdString());
            f << doc;
        }
        const ss::test::MpiResult r = ss::test::run_mpi(
            world, QStringLiteral(SCALESCOPE_WORKER),
            {spec_path, QStringLiteral("--set"), QStringLiteral("trace.dir=") + run_dir});
        QVERIFY2(r.finished && r.exit_code == 0, qPrintable(r.out + r.err));

        const ParseResult parsed = parse_spec(nlohmann::json::parse(doc));
        QVERIFY(parsed.ok());
        // Overlap 1: a bucket moves wholly in the background (no blocking rest after its wait,
        // which is a cost split of the model, not an operation of the trainer).
        Hardware hw;
        hw.name = "test";
        hw.flop_per_s = 5e10;
        hw.mem_bw_bytes_per_s = 1e10;
        hw.intra = {2e-6, 2e-10};
        hw.inter = hw.intra;
        hw.overlap = 1;
        const OpGraph g = graph_from_spec(build_workload(parsed.spec), hw);
        QCOMPARE(static_cast<int>(g.ranks.size()), world);
        // The same spec on a GPU (issue 14): NCCL on a stream of its own beside the compute
        // stream, with contention. The device changes the times, never the order: the trainer
        // issues the same operations whichever transport carries them.
        const Hardware gpu = parse_hardware(nlohmann::json::parse(R"({"format": "scalescope-hardware",
            "version": 1, "device": {"kind": "gpu", "name": "test GPU"}, "comm": "nccl",
            "overlap": {"mode": "streams", "contention": 0.3}, "compute": {"sgemm_flops": 5e13},
            "memory": {"bandwidth_bytes_per_s": 3e12},
            "topology": {"devices_per_node": 8, "intra": {"alpha_s": 3e-6, "beta_s_per_byte": 2e-12}}})"),
                                            "gpu.json");
        QCOMPARE(gpu.overlap_mode, OverlapMode::Streams);
        const OpGraph g_gpu = graph_from_spec(build_workload(parsed.spec), gpu);

        for (int rank = 0; rank < world; ++rank) {
            // Step 1: a measured step (step 0 is the warm-up).
            const Sequence rec = recorded(
                QStringLiteral("%1/rank-%2.sqlite").arg(run_dir).arg(rank).toStdString(), 1);
            QVERIFY2(!rec.empty(),
                     qPrintable(QStringLiteral("rank %1: no events of step 1").arg(rank)));
            for (const OpGraph* graph : {&g, &g_gpu}) {
                const Sequence sim = simulated(*graph, rank);
                QVERIFY2(sim == rec,
                         qPrintable(QStringLiteral("rank %1 (%2)\n  simulator: %3\n  trainer:   %4")
                                        .arg(rank)
                                        .arg(graph == &g ? QStringLiteral("cpu") : QStringLiteral("gpu"))
                                        .arg(joined(sim), joined(rec))));
            }
        }
        // Both graphs replay (no deadlock), to different step times.
        QVERIFY(replay(g_gpu).step_s > 0);
        QVERIFY(replay(g_gpu).step_s != replay(g).step_s);
    }
};

QTEST_GUILESS_MAIN(TestCoreSimAgreement)
#include "tst_core_sim_agreement.moc"

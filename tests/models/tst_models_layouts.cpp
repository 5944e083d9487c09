// THE invariant (DESIGN.md, "Parallel layouts"): with the same seed, data order and global batch,
// every layout gives the same loss per step as the single-rank run (relative difference <= 1e-4).
// Runs the real scalescope-worker under mpirun for each layout, parses its JSON progress lines and
// compares the losses with the single-rank run. Also checks, from the worker's communication
// counts, that each layout really communicated as designed, and that bad specs and failing ranks
// end the job with a clear message instead of a hang.
#include <QDir>
#include <QFile>
#include <QMap>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>

#include "mpi_run.h"
#include "traces/reader.h"

using namespace ss::test;

namespace {

constexpr int kSteps = 6;
constexpr double kRelTol = 1e-4;

const char* kGptSpec = R"({
  "name": "layouts-gpt-tiny",
  "model": { "kind": "gpt", "preset": "tiny" },
  "data": { "path": "/usr/share/games/fortunes" },
  "training": { "steps": 6, "global_batch": 8, "lr": 0.002, "seed": 11, "grad_clip": 1.0,
                "weight_decay": 0.01, "warmup_steps": 2 },
  "parallel": { "dp": 1, "tp": 1, "pp": 1, "micro_batches": 1 },
  "backend": { "device": "cpu", "blas_threads": 1 }
})";

const char* kMlpSpec = R"({
  "name": "layouts-mlp",
  "model": { "kind": "mlp", "preset": "default", "hidden": [128, 64] },
  "data": { "path": "/usr/share/datasets/fashion-mnist" },
  "training": { "steps": 6, "global_batch": 32, "lr": 0.002, "seed": 11, "grad_clip": 1.0 },
  "parallel": { "dp": 1, "tp": 1, "pp": 1, "micro_batches": 1 },
  "backend": { "device": "cpu", "blas_threads": 1 }
})";

}  // namespace

class TestModelsLayouts : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QMap<QString, QVector<double>> baseline_;  // model -> single-rank losses
    QMap<QString, QJsonObject> baseline_summary_;

    QString spec_path(const QString& model) { return dir_.filePath(model + QStringLiteral(".json")); }

    MpiResult worker(int np, const QString& model, const QStringList& sets,
                     const QStringList& env = {}) {
        QStringList args{spec_path(model)};
        // Traced, as a user's run is; the rank files go to the test's temporary folder.
        args << QStringLiteral("--set") << QStringLiteral("trace.dir=") + dir_.filePath(QStringLiteral("trace-") + model);
        for (const QString& s : sets) args << QStringLiteral("--set") << s;
        return run_mpi(np, QStringLiteral(SCALESCOPE_WORKER), args, env, 120000);
    }

    static QVector<double> losses(const MpiResult& r) {
        QVector<double> v;
        for (const QJsonObject& o : events(r.out, QStringLiteral("step")))
            v.push_back(o.value(QStringLiteral("loss")).toDouble());
        return v;
    }

    static qint64 calls(const QJsonObject& summary, const char* group, const char* op) {
        return summary.value(QStringLiteral("comm")).toObject().value(QLatin1String(group)).toObject()
            .value(QLatin1String(op)).toObject().value(QStringLiteral("calls")).toInteger();
    }

private slots:
    void initTestCase() {
        if (mpirun_path().isEmpty()) QSKIP("mpirun not found (Debian package openmpi-bin)");
        QVERIFY(dir_.isValid());
        for (const auto& [name, text] : {std::pair{QStringLiteral("gpt"), kGptSpec},
                                         std::pair{QStringLiteral("mlp"), kMlpSpec}}) {
            QFile f(spec_path(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        }
        const bool have_text = QDir(QStringLiteral("/usr/share/games/fortunes")).exists();
        const bool have_images = QFile::exists(QStringLiteral("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"));
        for (const QString& model : {QStringLiteral("gpt"), QStringLiteral("mlp")}) {
            if ((model == QStringLiteral("gpt") && !have_text) || (model == QStringLiteral("mlp") && !have_images))
                continue;
            const MpiResult r = worker(1, model, {});
            QVERIFY2(r.finished && r.exit_code == 0, qPrintable(r.err));
            baseline_[model] = losses(r);
            QCOMPARE(baseline_[model].size(), kSteps);
            const auto sums = events(r.out, QStringLiteral("summary"));
            QCOMPARE(sums.size(), 1);
            baseline_summary_[model] = sums.front();
            qInfo("%s single rank: losses %.6f .. %.6f (%.1f s)", qPrintable(model),
                  baseline_[model].front(), baseline_[model].back(), r.wall_s);
        }
    }

    void sameLossAsSingleRank_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("np");
        QTest::addColumn<QStringList>("sets");
        const auto row = [](const char* name, const char* model, int np, QStringList sets) {
            QTest::newRow(name) << QString::fromLatin1(model) << np << sets;
        };
        const QString dp2 = QStringLiteral("parallel.dp=2"), tp2 = QStringLiteral("parallel.tp=2"),
                      pp2 = QStringLiteral("parallel.pp=2"), mb2 = QStringLiteral("parallel.micro_batches=2"),
                      mb4 = QStringLiteral("parallel.micro_batches=4");
        const QString gpipe = QStringLiteral("parallel.schedule=gpipe"),
                      f1b = QStringLiteral("parallel.schedule=1f1b");
        // 0.1 MiB buckets: the tiny GPT's 135k parameters fill 6 buckets, so bucketing and the
        // overlapped non-blocking all-reduce are exercised.
        const QString small_buckets = QStringLiteral("parallel.bucket_mb=0.1");
        row("gpt dp2", "gpt", 2, {dp2, small_buckets});
        row("gpt dp2 no-overlap", "gpt", 2, {dp2, small_buckets, QStringLiteral("parallel.overlap=false")});
        row("gpt dp2 zero1", "gpt", 2, {dp2, small_buckets, QStringLiteral("parallel.zero=1")});
        row("gpt tp2", "gpt", 2, {tp2});
        row("gpt pp2 1f1b", "gpt", 2, {pp2, mb4, f1b});
        row("gpt pp2 gpipe", "gpt", 2, {pp2, mb4, gpipe});
        row("gpt dp2xtp2", "gpt", 4, {dp2, tp2});
        row("gpt dp2xpp2", "gpt", 4, {dp2, pp2, mb2});
        row("gpt tp2xpp2", "gpt", 4, {tp2, pp2, mb2});
        row("gpt dp1 micro-batches 4", "gpt", 1, {mb4});
        row("mlp dp2", "mlp", 2, {dp2});
        row("mlp dp2 zero1", "mlp", 2, {dp2, QStringLiteral("parallel.zero=1")});
        row("mlp tp2", "mlp", 2, {tp2});
        row("mlp pp2 1f1b", "mlp", 2, {pp2, mb4, f1b});
        row("mlp pp2 gpipe", "mlp", 2, {pp2, mb2, gpipe});
    }
    void sameLossAsSingleRank() {
        QFETCH(QString, model);
        QFETCH(int, np);
        QFETCH(QStringList, sets);
        if (!baseline_.contains(model)) QSKIP("data set not installed (fortunes / dataset-fashion-mnist)");
        const MpiResult r = worker(np, model, sets);
        QVERIFY2(r.finished, "the job hung");
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QVector<double> got = losses(r);
        const QVector<double>& want = baseline_[model];
        QCOMPARE(got.size(), want.size());
        double worst = 0;
        for (int s = 0; s < want.size(); ++s) {
            const double rel = std::abs(got[s] - want[s]) / std::abs(want[s]);
            worst = std::max(worst, rel);
            QVERIFY2(rel <= kRelTol, qPrintable(QStringLiteral("step %1: loss %2 vs single rank %3 (rel %4)")
                                                    .arg(s).arg(got[s], 0, 'g', 9).arg(want[s], 0, 'g', 9).arg(rel)));
        }
        // The loss must actually move, or equal curves would prove nothing.
        QVERIFY(want.back() < want.front() - 0.05);
        qInfo("max relative loss difference %.2e, %.1f s", worst, r.wall_s);
    }

    // Communication counts of rank 0 (from the worker's CommObserver): the layouts really
    // communicate as designed. Tiny GPT: 2 blocks; 6 steps; the final evaluation runs 4 batches.
    void communicationMatchesTheLayout() {
        if (!baseline_.contains(QStringLiteral("gpt"))) QSKIP("fortunes not installed");
        const int L = 2, steps = kSteps, eval = 4;
        {  // tp2: 2 forward + 2 backward all-reduces per block and micro-batch; 2 per block in eval
            const MpiResult r = worker(2, QStringLiteral("gpt"), {QStringLiteral("parallel.tp=2")});
            QVERIFY2(r.exit_code == 0, qPrintable(r.err));
            const QJsonObject s = events(r.out, QStringLiteral("summary")).value(0);
            QCOMPARE(calls(s, "tp", "all_reduce"), qint64(4 * L * steps + 2 * L * eval));
            QCOMPARE(calls(s, "dp", "all_reduce"), qint64(0));
        }
        {  // dp2 with 0.1 MiB buckets: 135k params -> 6 buckets per step
            const MpiResult r = worker(2, QStringLiteral("gpt"), {QStringLiteral("parallel.dp=2"), QStringLiteral("parallel.bucket_mb=0.1")});
            QVERIFY2(r.exit_code == 0, qPrintable(r.err));
            const auto start = events(r.out, QStringLiteral("start")).value(0);
            const qint64 buckets = start.value(QStringLiteral("buckets")).toInteger();
            QCOMPARE(buckets, qint64((134912 + 26213) / 26214));
            const QJsonObject s = events(r.out, QStringLiteral("summary")).value(0);
            QCOMPARE(calls(s, "dp", "all_reduce"), qint64(steps) * buckets);
        }
        {  // ZeRO-1: a reduce-scatter and an all-gather per bucket and step, no all-reduce
            const MpiResult r = worker(2, QStringLiteral("gpt"), {QStringLiteral("parallel.dp=2"), QStringLiteral("parallel.bucket_mb=0.1"), QStringLiteral("parallel.zero=1")});
            QVERIFY2(r.exit_code == 0, qPrintable(r.err));
            const qint64 buckets = events(r.out, QStringLiteral("start")).value(0).value(QStringLiteral("buckets")).toInteger();
            const QJsonObject s = events(r.out, QStringLiteral("summary")).value(0);
            QCOMPARE(calls(s, "dp", "reduce_scatter"), qint64(steps) * buckets);
            QCOMPARE(calls(s, "dp", "all_gather"), qint64(steps) * buckets);
            QCOMPARE(calls(s, "dp", "all_reduce"), qint64(0));
        }
        {  // pp2, 4 micro-batches: stage 0 sends 4 activations per step (+4 per eval batch) and
           // receives 4 gradients per step
            const MpiResult r = worker(2, QStringLiteral("gpt"), {QStringLiteral("parallel.pp=2"), QStringLiteral("parallel.micro_batches=4")});
            QVERIFY2(r.exit_code == 0, qPrintable(r.err));
            const QJsonObject s = events(r.out, QStringLiteral("summary")).value(0);
            QCOMPARE(calls(s, "pp", "send"), qint64(4 * steps + 4 * eval));
            QCOMPARE(calls(s, "pp", "recv"), qint64(4 * steps));
        }
    }

    // The bucketed all-reduce overlapped with backward (run by the communication thread, the
    // default) gives the same losses, bit for bit, as the blocking reduction after backward
    // (parallel.overlap=false): the thread makes the same blocking MPI call. Four ranks
    // oversubscribe the two cores.
    void overlappedReductionEqualsBlocking_data() {
        QTest::addColumn<int>("dp");
        QTest::newRow("dp2") << 2;
        QTest::newRow("dp4") << 4;
    }
    void overlappedReductionEqualsBlocking() {
        QFETCH(int, dp);
        if (!baseline_.contains(QStringLiteral("gpt"))) QSKIP("fortunes not installed");
        const QStringList sets{QStringLiteral("parallel.dp=%1").arg(dp), QStringLiteral("parallel.bucket_mb=0.1")};
        const MpiResult overlapped = worker(dp, QStringLiteral("gpt"), sets);
        QVERIFY2(overlapped.finished && overlapped.exit_code == 0, qPrintable(overlapped.err));
        const MpiResult blocking = worker(dp, QStringLiteral("gpt"), sets + QStringList{QStringLiteral("parallel.overlap=false")});
        QVERIFY2(blocking.finished && blocking.exit_code == 0, qPrintable(blocking.err));
        QCOMPARE(losses(overlapped).size(), kSteps);
        QCOMPARE(losses(overlapped), losses(blocking));  // bit for bit
    }

    // The recorded DP bucket spans end when the communication thread completed the reduction:
    // never after the step's gradient_sync (which waits for them all), and every span ends after
    // it began. How many completed before their backward ended is printed, not asserted: on the
    // shared 2-core machine it depends on what else runs (tst_models_comm's progress check proves
    // the progress itself without timing). Observed: 1 of 36 with load 10; on an idle machine most.
    void bucketSpansEndWhenReduced() {
        if (!baseline_.contains(QStringLiteral("gpt"))) QSKIP("fortunes not installed");
        const QString trace = dir_.filePath(QStringLiteral("trace-progress"));
        const MpiResult r = worker(2, QStringLiteral("gpt"), {QStringLiteral("parallel.dp=2"), QStringLiteral("parallel.bucket_mb=0.1"),
                                                               QStringLiteral("trace.dir=") + trace});
        QVERIFY2(r.finished && r.exit_code == 0, qPrintable(r.err));
        for (int rank = 0; rank < 2; ++rank) {
            ss::traces::TraceReader rd(QDir(trace).filePath(QStringLiteral("rank-%1.sqlite").arg(rank)).toStdString());
            const auto runs = rd.runs();
            QCOMPARE(runs.size(), std::size_t(1));
            std::map<std::int64_t, std::int64_t> backward_end, sync_end;  // per step
            std::map<std::int64_t, std::vector<std::pair<std::int64_t, std::int64_t>>> bucket_ends;  // (start, end)
            rd.scan_events(runs[0].id, [&](const ss::traces::Event& e) {
                if (e.kind == ss::traces::EventKind::Phase) {
                    const std::string& name = rd.string(e.name);
                    if (name == "backward") backward_end[e.step] = std::max(backward_end[e.step], e.end_ns);
                    if (name == "gradient_sync") sync_end[e.step] = e.end_ns;
                }
                if (e.kind == ss::traces::EventKind::Comm && e.group_kind == ss::traces::GroupKind::DP &&
                    e.collective == ss::traces::Collective::AllReduce)
                    bucket_ends[e.step].push_back({e.start_ns, e.end_ns});
            });
            QCOMPARE(static_cast<int>(bucket_ends.size()), kSteps);
            int during_backward = 0, buckets = 0;
            for (const auto& [step, ends] : bucket_ends) {
                QVERIFY(backward_end.count(step) && sync_end.count(step));
                for (const auto& [start, end] : ends) {
                    ++buckets;
                    QVERIFY(end >= start);
                    QVERIFY2(end <= sync_end[step], "a bucket completed after gradient_sync returned");
                    during_backward += end < backward_end[step];
                }
            }
            qInfo("rank %d: %d of %d bucket all-reduces completed before their backward ended", rank,
                  during_backward, buckets);
            QCOMPARE(buckets, kSteps * 6);  // 135k parameters in 0.1 MiB buckets
        }
    }

    void sameSpecSameLosses() {
        if (!baseline_.contains(QStringLiteral("gpt"))) QSKIP("fortunes not installed");
        const MpiResult r = worker(1, QStringLiteral("gpt"), {});
        QCOMPARE(losses(r), baseline_[QStringLiteral("gpt")]);  // bit for bit
        const MpiResult other = worker(1, QStringLiteral("gpt"), {QStringLiteral("training.seed=12")});
        QVERIFY(losses(other).value(0) != baseline_[QStringLiteral("gpt")].value(0));
    }

    void summaryLine() {
        if (!baseline_.contains(QStringLiteral("mlp"))) QSKIP("dataset-fashion-mnist not installed");
        const QJsonObject s = baseline_summary_[QStringLiteral("mlp")];
        QCOMPARE(s.value(QStringLiteral("final_loss")).toDouble(), baseline_[QStringLiteral("mlp")].back());
        QCOMPARE(s.value(QStringLiteral("test_samples")).toInteger(), qint64(10000));
        const double acc = s.value(QStringLiteral("accuracy")).toDouble();
        QVERIFY2(acc > 0.4 && acc < 1.0, qPrintable(QString::number(acc)));  // 6 steps: far above 10 % chance
        QVERIFY(s.value(QStringLiteral("step_time_median_s")).toDouble() > 0);
        QVERIFY(s.value(QStringLiteral("samples_per_s")).toDouble() > 0);
    }

    void invalidSpecExitsWithOneMessagePerProblem() {
        if (!baseline_.contains(QStringLiteral("gpt"))) QSKIP("fortunes not installed");
        // 2 ranks, but dp*tp*pp = 3*... and tp=3 does not divide 4 heads.
        const MpiResult r = worker(2, QStringLiteral("gpt"), {QStringLiteral("parallel.tp=3")});
        QVERIFY2(r.finished, "an invalid spec left the job hanging");
        QVERIFY(r.exit_code != 0);
        QVERIFY2(r.err.contains(QStringLiteral("parallel.tp=3 must divide model.heads=4")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("world")), qPrintable(r.err));  // world size 2 != 3
        QVERIFY(events(r.out, QStringLiteral("step")).isEmpty());
        const MpiResult unknown = worker(0, QStringLiteral("gpt"), {QStringLiteral("training.colour=3")});
        QVERIFY(unknown.exit_code != 0);
        QVERIFY2(unknown.err.contains(QStringLiteral("colour")), qPrintable(unknown.err));
    }

    // backend.device / backend.comm on a machine without a GPU (CI): "cuda" ends every rank before
    // training with one line naming the driver's reason; "auto" trains on the CPU, exactly as "cpu";
    // "nccl" without GPU ranks is refused with the fix.
    void cudaWithoutDeviceSaysSoOnce() {
        if (!baseline_.contains(QStringLiteral("gpt"))) QSKIP("fortunes not installed");
        const MpiResult r = worker(2, QStringLiteral("gpt"),
                                   {QStringLiteral("parallel.dp=2"), QStringLiteral("backend.device=cuda")});
        QVERIFY2(r.finished, "the job hung");
        QCOMPARE(r.exit_code, 3);
        const QStringList lines = r.err.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QStringList no_device;
        for (const QString& l : lines)
            if (l.startsWith(QStringLiteral("no CUDA device: "))) no_device << l;
        QVERIFY2(no_device.size() == 1, qPrintable(r.err));
        // The driver's reason (cudaGetErrorString) or the build's, then who and what to do.
        QVERIFY2(no_device.front().size() > int(qstrlen("no CUDA device: ")) + 10, qPrintable(r.err));
        QVERIFY2(no_device.front().contains(QStringLiteral("rank 0 on ")), qPrintable(r.err));
        QVERIFY2(no_device.front().contains(QStringLiteral("\"auto\" or \"cpu\"")), qPrintable(r.err));
        QVERIFY2(!r.err.contains(QStringLiteral("MPI_ABORT")), qPrintable(r.err));  // an orderly exit
        QVERIFY(events(r.out, QStringLiteral("step")).isEmpty());
    }
    void autoDeviceTrainsOnTheCpu() {
        if (!baseline_.contains(QStringLiteral("gpt"))) QSKIP("fortunes not installed");
        const MpiResult r = worker(1, QStringLiteral("gpt"), {QStringLiteral("backend.device=auto")});
        QVERIFY2(r.finished && r.exit_code == 0, qPrintable(r.err));
        const auto start = events(r.out, QStringLiteral("start"));
        QCOMPARE(start.size(), 1);
        QVERIFY2(start.front().value(QStringLiteral("backend")).toString().startsWith(QStringLiteral("cpu")),
                 qPrintable(r.out));
        QCOMPARE(start.front().value(QStringLiteral("transport")).toString(), QStringLiteral("mpi"));
        QCOMPARE(losses(r), baseline_[QStringLiteral("gpt")]);  // the same run, bit for bit
        const MpiResult nccl = worker(1, QStringLiteral("gpt"),
                                      {QStringLiteral("backend.device=auto"), QStringLiteral("backend.comm=nccl")});
        QVERIFY(nccl.finished);
        QCOMPARE(nccl.exit_code, 2);
        QVERIFY2(nccl.err.contains(QStringLiteral("backend.comm=\"nccl\"")), qPrintable(nccl.err));
        QVERIFY(events(nccl.out, QStringLiteral("step")).isEmpty());
    }

    void failingRankAbortsTheJob() {
        if (!baseline_.contains(QStringLiteral("gpt"))) QSKIP("fortunes not installed");
        const MpiResult r = worker(2, QStringLiteral("gpt"), {QStringLiteral("parallel.dp=2")},
                                   {QStringLiteral("SCALESCOPE_WORKER_FAULT=1:2")});
        QVERIFY2(r.finished, "the surviving rank hung");
        QVERIFY(r.exit_code != 0);
        QVERIFY2(r.err.contains(QStringLiteral("rank 1: injected fault at step 2")), qPrintable(r.err));
        QVERIFY(r.wall_s < 60);
        QCOMPARE(events(r.out, QStringLiteral("step")).size(), 2);  // steps 0 and 1 completed
    }
};

QTEST_GUILESS_MAIN(TestModelsLayouts)
#include "tst_models_layouts.moc"

// The Comm layer over real MPI groups (models_comm_check under mpirun), and the failure path of
// SS_MPI_CHECK: a failing call is reported with its text and location and the job is aborted.
// The device transports without a device: the staging transport over a CPU backend whose memory
// counts as device memory, and make_nccl_transport failing cleanly where no device can be used.
#include <QElapsedTimer>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

#include "mpi_run.h"

using namespace ss::test;

class TestModelsComm : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        if (mpirun_path().isEmpty()) QSKIP("mpirun not found (Debian package openmpi-bin)");
    }

    void everyOperationOnEveryGroup_data() {
        QTest::addColumn<int>("dp");
        QTest::addColumn<int>("tp");
        QTest::addColumn<int>("pp");
        QTest::newRow("dp2xtp2xpp2") << 2 << 2 << 2;
        QTest::newRow("dp3xtp1xpp2") << 3 << 1 << 2;
    }
    void everyOperationOnEveryGroup() {
        QFETCH(int, dp);
        QFETCH(int, tp);
        QFETCH(int, pp);
        const MpiResult r = run_mpi(dp * tp * pp, QStringLiteral(SCALESCOPE_COMM_CHECK),
                                    {QString::number(dp), QString::number(tp), QString::number(pp)},
                                    {}, 60000);
        QVERIFY2(r.finished, "comm check hung");
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("comm check ok")), qPrintable(r.out + r.err));
    }

    void stagingTransportEqualsMpi_data() {
        QTest::addColumn<int>("dp");
        QTest::addColumn<int>("tp");
        QTest::addColumn<int>("pp");
        QTest::newRow("dp2xtp2xpp2") << 2 << 2 << 2;
        QTest::newRow("dp3xtp1xpp2") << 3 << 1 << 2;  // tp groups of one rank
    }
    void stagingTransportEqualsMpi() {
        QFETCH(int, dp);
        QFETCH(int, tp);
        QFETCH(int, pp);
        const MpiResult r = run_mpi(dp * tp * pp, QStringLiteral(SCALESCOPE_COMM_CHECK),
                                    {QStringLiteral("--staged"), QString::number(dp),
                                     QString::number(tp), QString::number(pp)},
                                    {}, 90000);
        QVERIFY2(r.finished, "staging check hung");
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains(QStringLiteral("staging check ok")), qPrintable(r.out + r.err));
    }

    // Every rank gets an exception naming the failing call and its location; the job ends
    // normally (no crash, no rank left waiting in NCCL's set-up).
    void ncclTransportWithoutDeviceFailsCleanly() {
        const MpiResult r = run_mpi(2, QStringLiteral(SCALESCOPE_COMM_CHECK),
                                    {QStringLiteral("--nccl-setup-error")}, {}, 60000);
        QVERIFY2(r.finished, "make_nccl_transport without a device hung");
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
#if defined(SCALESCOPE_HAVE_NCCL)
        QVERIFY2(r.out.contains(QStringLiteral("nccl setup error ok: cudaSetDevice(")),
                 qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains(QStringLiteral("models/nccl_transport.cpp:")), qPrintable(r.out));
#else
        QVERIFY2(r.out.contains(QStringLiteral("nccl not built ok: make_nccl_transport: this build has no NCCL")),
                 qPrintable(r.out + r.err));
#endif
    }

    // calibrate-rank --device cuda: without a device, one line "no CUDA device: <reason>" and exit
    // code 3; with one (two ranks sharing it through --comm mpi), the raw file names the device
    // and the transport; in a build without the CUDA backend, a usage error.
    void calibrateRankOnDevice() {
#if !defined(SCALESCOPE_CALIBRATE_RANK)
        QSKIP("scalescope-calibrate-rank is not built");
#else
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString raw = dir.filePath(QStringLiteral("raw.json"));
        const MpiResult r = run_mpi(2, QStringLiteral(SCALESCOPE_CALIBRATE_RANK),
                                    {QStringLiteral("--sizes"), QStringLiteral("4096,65536"),
                                     QStringLiteral("--iters"), QStringLiteral("5"),
                                     QStringLiteral("--out"), raw, QStringLiteral("--device"),
                                     QStringLiteral("cuda"), QStringLiteral("--comm"),
                                     QStringLiteral("mpi")},
                                    {}, 120000);
        QVERIFY2(r.finished, "calibrate-rank --device cuda hung");
        if (r.err.contains(QStringLiteral("this build has no CUDA backend"))) {
            QCOMPARE(r.exit_code, 2);
            return;
        }
        if (r.exit_code != 0) {
            QVERIFY2(r.exit_code == 3, qPrintable(r.out + r.err));
            const QStringList lines = r.err.split(QLatin1Char('\n'));
            const auto no_device = std::count_if(lines.begin(), lines.end(), [](const QString& l) {
                return l.startsWith(QStringLiteral("no CUDA device: ")) && l.size() > 16;
            });
            QVERIFY2(no_device == 1, qPrintable(r.err));  // one line, from the first rank
            QVERIFY(!QFile::exists(raw));
            return;
        }
        QFile f(raw);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
        QVERIFY2(o.value(QStringLiteral("device")).toString().startsWith(QStringLiteral("cuda:")),
                 qPrintable(r.out));
        QCOMPARE(o.value(QStringLiteral("comm")).toString(), QStringLiteral("mpi"));
        QVERIFY(o.value(QStringLiteral("samples")).toArray().size() >= 2 * 7);
        QVERIFY(o.value(QStringLiteral("compute")).toObject().value(QStringLiteral("sgemm_flops")).toDouble() > 0);
#endif
    }

    // The communication thread (CommProgress::Thread, the default): bit-identical to the blocking
    // calls, progress while the caller computes, clean shutdown with requests in flight. Four
    // ranks oversubscribe the two cores.
    void communicationThreadProgress_data() {
        QTest::addColumn<int>("dp");
        QTest::newRow("dp2") << 2;
        QTest::newRow("dp4") << 4;
    }
    void communicationThreadProgress() {
        QFETCH(int, dp);
        const MpiResult r = run_mpi(dp, QStringLiteral(SCALESCOPE_COMM_CHECK),
                                    {QStringLiteral("--progress"), QString::number(dp)}, {}, 90000);
        QVERIFY2(r.finished, "progress check hung");
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains(QStringLiteral("progress check ok")), qPrintable(r.out + r.err));
        qInfo("%s", qPrintable(r.out.trimmed()));
    }

    // A bad value of SCALESCOPE_COMM_PROGRESS is refused before anything runs.
    void badProgressSettingIsRefused() {
        const MpiResult r = run_mpi(1, QStringLiteral(SCALESCOPE_COMM_CHECK), {QStringLiteral("1"), QStringLiteral("1"), QStringLiteral("1")},
                                    {QStringLiteral("SCALESCOPE_COMM_PROGRESS=async")}, 60000);
        QVERIFY2(r.finished, "hung");
        QVERIFY(r.exit_code != 0);
        QVERIFY2(r.err.contains(QStringLiteral("SCALESCOPE_COMM_PROGRESS=async is not one of: thread, poll")),
                 qPrintable(r.err));
    }

    // Poll progress (SCALESCOPE_COMM_PROGRESS=poll: MPI_I* collectives) still passes the full check.
    void pollProgressStillWorks() {
        const MpiResult r = run_mpi(4, QStringLiteral(SCALESCOPE_COMM_CHECK), {QStringLiteral("2"), QStringLiteral("1"), QStringLiteral("2")},
                                    {QStringLiteral("SCALESCOPE_COMM_PROGRESS=poll")}, 60000);
        QVERIFY2(r.finished, "comm check hung");
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("comm check ok")), qPrintable(r.out + r.err));
    }

    // A failing call on the communication thread ends the job with the call and its location,
    // while the posting thread waits on the request (no hang).
    void failingCallOnCommunicationThreadAborts() {
        const MpiResult r = run_mpi(2, QStringLiteral(SCALESCOPE_COMM_CHECK),
                                    {QStringLiteral("--provoke-thread-error")}, {}, 60000);
        QVERIFY2(r.finished, "a failing MPI call on the communication thread left the job hanging");
        QVERIFY(r.exit_code != 0);
        QVERIFY(!r.out.contains(QStringLiteral("not reached")));
        QVERIFY2(r.err.contains(QStringLiteral("MPI call `MPI_Reduce_scatter(")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("comm.cpp:")), qPrintable(r.err));
    }

    void failingMpiCallAbortsWithCallAndLocation() {
        const MpiResult r = run_mpi(2, QStringLiteral(SCALESCOPE_COMM_CHECK),
                                    {QStringLiteral("--provoke-error")}, {}, 60000);
        QVERIFY2(r.finished, "a failing MPI call left the job hanging");
        QVERIFY(r.exit_code != 0);
        QVERIFY(!r.out.contains(QStringLiteral("not reached")));
        QVERIFY2(r.err.contains(QStringLiteral("MPI call `MPI_Send(")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("comm.cpp:")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("rank 0: ")) || r.err.contains(QStringLiteral("rank 1: ")),
                 qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestModelsComm)
#include "tst_models_comm.moc"

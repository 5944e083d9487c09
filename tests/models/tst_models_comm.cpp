// The Comm layer over real MPI groups (models_comm_check under mpirun), and the failure path of
// SS_MPI_CHECK: a failing call is reported with its text and location and the job is aborted.
#include <QElapsedTimer>
#include <QtTest>

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

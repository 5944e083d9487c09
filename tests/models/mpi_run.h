// Helpers for the tests that start real MPI jobs: mpirun (as root: --allow-run-as-root; more
// ranks than cores: --oversubscribe) and the JSON progress lines of scalescope-worker.
#pragma once

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QString>
#include <QStringList>
#include <QVector>

namespace ss::test {

struct MpiResult {
    int exit_code = -1;
    bool finished = false;  // false: killed at the timeout (a hang)
    double wall_s = 0;
    QString out, err;
};

inline QString mpirun_path() {
    const QString configured = QStringLiteral(SCALESCOPE_MPIEXEC);
    if (!configured.isEmpty()) return configured;
    return QStandardPaths::findExecutable(QStringLiteral("mpirun"));
}

// Runs `program args` on np ranks; np == 0 runs it directly (a singleton MPI process).
inline MpiResult run_mpi(int np, const QString& program, const QStringList& args,
                         const QStringList& extra_env = {}, int timeout_ms = 120000) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("OMPI_ALLOW_RUN_AS_ROOT"), QStringLiteral("1"));
    env.insert(QStringLiteral("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"), QStringLiteral("1"));
    QStringList forward;
    for (const QString& kv : extra_env) {
        const int eq = kv.indexOf(QLatin1Char('='));
        env.insert(kv.left(eq), kv.mid(eq + 1));
        forward << QStringLiteral("-x") << kv.left(eq);
    }
    p.setProcessEnvironment(env);
    QElapsedTimer timer;
    timer.start();
    if (np == 0) {
        p.start(program, args);
    } else {
        QStringList a{QStringLiteral("--allow-run-as-root"), QStringLiteral("--oversubscribe"),
                      QStringLiteral("-np"), QString::number(np)};
        a << forward << program << args;
        p.start(mpirun_path(), a);
    }
    MpiResult r;
    if (!p.waitForStarted(10000)) {
        r.err = QStringLiteral("could not start: ") + p.errorString();
        return r;
    }
    r.finished = p.waitForFinished(timeout_ms);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.wall_s = timer.elapsed() / 1000.0;
    r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// The JSON objects of the stdout lines with "event" == `event`.
inline QVector<QJsonObject> events(const QString& out, const QString& event) {
    QVector<QJsonObject> v;
    for (const QString& line : out.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const QJsonDocument d = QJsonDocument::fromJson(line.toUtf8());
        if (d.isObject() && d.object().value(QStringLiteral("event")).toString() == event)
            v.push_back(d.object());
    }
    return v;
}

}  // namespace ss::test

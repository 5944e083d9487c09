// Every shipped lesson (examples/lessons/) end to end under mpirun, as `scalescope-cli lesson` runs
// it: it completes, every placeholder its look, answer and prediction use is a finite measured
// number, and the elapsed time is printed (with the load: the time is reported, not asserted).
// One CTest per lesson (tests/lessons/CMakeLists.txt: `tst_lessons run:<id>`).
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "core/teach/lesson.h"

using namespace ss::core;

namespace {
QString loadavg() {
    QFile f(QStringLiteral("/proc/loadavg"));
    if (!f.open(QIODevice::ReadOnly)) return QStringLiteral("?");
    return QString::fromUtf8(f.readAll()).trimmed();
}
// Whether this build's worker runs a parameter server (issue 18): it records "ps_push" events.
bool worker_runs_parameter_server() {
    QFile f(QStringLiteral(SCALESCOPE_WORKER));
    return f.open(QIODevice::ReadOnly) && f.readAll().contains("ps_push");
}
}  // namespace

class TestLessons : public QObject {
    Q_OBJECT

private slots:
    void run_data() {
        QTest::addColumn<QString>("file");
        for (const Lesson& l : load_lessons(SCALESCOPE_SOURCE_DIR "/examples/lessons"))
            QTest::newRow(l.id.c_str()) << QString::fromStdString(l.file);
    }
    void run() {
        QFETCH(QString, file);
        const Lesson l = load_lesson(file.toStdString());
        const StudyPlan plan = plan_lesson(l);
        bool ps = false;
        for (const auto& pt : plan.points) ps |= pt.spec.parallel.parameter_server();
        if (ps && !worker_runs_parameter_server())
            QSKIP(
                "this build's worker has no parameter-server runtime (issue 18): the lesson needs "
                "it");
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        LessonRunRequest rq;
        rq.output = dir.filePath(QStringLiteral("lesson.sqlite")).toStdString();
        rq.worker = SCALESCOPE_WORKER;
        rq.env = LaunchEnvironment::current();
        const QString before = loadavg();
        const LessonResult r = run_lesson(l, rq);
        qInfo().noquote() << QStringLiteral(
                                 "lesson %1: %2 point(s), %3 run(s), elapsed %4 s (loadavg before: "
                                 "%5, after: %6)")
                                 .arg(QString::fromStdString(l.id))
                                 .arg(r.points.size())
                                 .arg(plan.points.size())
                                 .arg(r.elapsed_s, 0, 'f', 1)
                                 .arg(before, loadavg());
        std::string failures;
        for (const auto& f : r.failures) failures += f + "\n";
        QVERIFY2(r.complete(), failures.c_str());
        QCOMPARE(r.points.size(),
                 plan.points.size() / static_cast<std::size_t>(l.experiment.repeat));
        std::vector<std::string> names = lesson_placeholders(l.look + " " + l.answer);
        if (!l.predict.compare.empty()) names.push_back(l.predict.compare);
        for (const auto& n : names) {
            if (n.rfind("value.", 0) == 0) continue;
            const double v = placeholder_value(r, n);
            QVERIFY2(std::isfinite(v), ("{" + n + "} is not a finite number").c_str());
        }
        const std::string answer = fill_placeholders(l.answer, r);
        QVERIFY(answer.find('{') == std::string::npos);
        qInfo().noquote() << QString::fromStdString(answer);
        const LessonVerdict v = judge_prediction(l, r, 0, 1.0);
        QVERIFY2(v.judged, v.text.c_str());  // every shipped lesson's prediction can be judged
    }
};

QTEST_GUILESS_MAIN(TestLessons)
#include "tst_lessons.moc"

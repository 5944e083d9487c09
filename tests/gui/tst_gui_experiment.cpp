// The Experiment page: live validation names the field and rule, the derived world size, the study
// plan; Launch runs a tiny real training job under mpirun (progress and the finished trace through
// QSignalSpy) and Cancel stops a long one, which is recorded as cancelled. Every launch gets a fresh
// run folder (two in a row both complete), a study lands in the same folders and study record as
// the CLI's, Checks refuse a launch that would fail, the phases before the first step are told, the
// worker output shows rank 0's own lines, a study's commands are every point's, a spec file opened
// in the window loads into the form (and launches what the file says), and the page fits 1024x700.
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QRegularExpression>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/launch/study.h"
#include "gui/app/mainwindow.h"
#include "gui/experiment/experimentpage.h"
#include "traces/reader.h"

using namespace ss::gui;

class ExperimentTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("ScaleScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_experiment"));
#ifdef SCALESCOPE_WORKER_PATH
        qputenv("SCALESCOPE_WORKER", SCALESCOPE_WORKER_PATH);
#endif
    }

    void validFormHasNoMessages() {
        ExperimentForm f;  // gpt tiny, dp=tp=pp=1
        const FormCheck c = checkForm(f, false, {}, 1, false, true);
        QVERIFY2(c.ok(), c.errors.empty() ? "" : c.errors.front().message.c_str());
        QCOMPARE(c.world, 1);
        QVERIFY(c.params > 100000);  // gpt tiny: 134,912
    }

    void layoutRulesNameTheField() {
        ExperimentForm f;
        f.tp = 3;  // gpt tiny has 4 heads
        const FormCheck c = checkForm(f, false, {}, 1, false, true);
        QVERIFY(!c.ok());
        QCOMPARE(c.world, 3);
        bool found = false;
        for (const auto& e : c.errors) found = found || (e.field.rfind("parallel", 0) == 0 && e.message.find("tp=3") != std::string::npos);
        QVERIFY2(found, c.errors.front().message.c_str());
    }

    void pageShowsMessagesWorldAndCommand() {
        ExperimentPage page;
        ExperimentForm f;
        f.dp = 2;
        f.pp = 2;
        f.microBatches = 2;
        page.setForm(f);
        QVERIFY(page.validationMessages().isEmpty());
        QCOMPARE(page.check().world, 4);
        QVERIFY(page.canLaunch());
        const QString cmd = page.commandText();
        QVERIFY2(cmd.contains(QStringLiteral("-np 4")) && cmd.contains(QStringLiteral("scalescope-worker")), qPrintable(cmd));
        f.tp = 3;
        page.setForm(f);
        QVERIFY(!page.validationMessages().isEmpty());
        QVERIFY(page.validationMessages().join(QLatin1Char('\n')).contains(QStringLiteral("tp=3")));
        QVERIFY(!page.canLaunch());
        QCOMPARE(page.check().world, 12);
    }

    void studyPlan() {
        ExperimentPage page;
        page.setForm(ExperimentForm{});
        page.setStudy(true, {QStringLiteral("dp=1,2,4")}, 2);
        QVERIFY(page.check().ok());
        QCOMPARE(page.check().studyPoints.size(), 6);  // 3 values x 2 repeats
        page.setStudy(true, {QStringLiteral("dp")});
        QVERIFY(!page.check().studyError.isEmpty());
        QVERIFY(!page.canLaunch());
        page.setStudy(false, {});
        QVERIFY(page.canLaunch());
    }

    void launchTinyRun() {
        ExperimentPage page;
        ExperimentForm f;
        f.name = "gui-test";
        f.steps = 3;
        f.globalBatch = 4;
        page.setForm(f);
        const QString out = dir_.filePath(QStringLiteral("launch.sqlite"));
        page.setOutput(out, dir_.filePath(QStringLiteral("run1")));
        QVERIFY(page.canLaunch());
        QSignalSpy started(&page, &ExperimentPage::launchStarted);
        QSignalSpy progress(&page, &ExperimentPage::progressed);
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        QSignalSpy open(&page, &Page::openRequested);
        page.launch();
        QCOMPARE(started.count(), 1);
        QVERIFY(page.isRunning());
        QVERIFY(!page.canLaunch());
        QVERIFY(finished.wait(240000));
        QCOMPARE(finished.first().at(0).toInt(), static_cast<int>(ss::traces::RunStatus::Completed));
        QCOMPARE(progress.count(), 3);  // steps 0, 1, 2
        QCOMPARE(progress.last().at(0).toLongLong(), 2LL);
        QVERIFY(progress.last().at(1).toDouble() > 0);
        QCOMPARE(open.count(), 1);
        ss::traces::TraceReader rd(out.toStdString());
        const auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, ss::traces::RunStatus::Completed);
        QVERIFY(runs[0].event_count > 0);
        QVERIFY(page.canLaunch());
    }

    // Issue 20: the Slurm section: partition/time/account, the job script in the Command box, and a
    // launch through a private Slurm cluster (tests/cluster/slurm-cluster.sh) showing the job's state.
    void slurmSection() {
        ExperimentPage page;
        ExperimentForm f;
        f.name = "gui-slurm";
        f.steps = 3;
        f.globalBatch = 4;
        f.dp = 2;
        page.setForm(f);
        auto* partition = page.findChild<QLineEdit*>(QStringLiteral("slurmPartition"));
        QVERIFY(partition && !partition->isEnabled());
        QVERIFY(!page.slurm());
        QVERIFY(!page.commandText().contains(QStringLiteral("#SBATCH")));
        page.setSlurm(ss::core::SlurmSubmit{"test", "5", ""});
        QVERIFY(partition->isEnabled());
        QCOMPARE(page.slurm()->partition, std::string("test"));
        const QString cmd = page.commandText();
        for (const char* line : {"#SBATCH --ntasks=2", "#SBATCH --partition=test", "#SBATCH --time=5", "exec 'mpirun'"})
            QVERIFY2(cmd.contains(QLatin1String(line)), qPrintable(cmd));
        QVERIFY(!cmd.contains(QStringLiteral("--account")));

        // For real where a private cluster can start (root, slurm-wlm and munge installed).
        const QString script = QStringLiteral(SCALESCOPE_SOURCE_DIR "/tests/cluster/slurm-cluster.sh");
        if (QProcess::execute(QStringLiteral("bash"), {script, QStringLiteral("check")}) != 0)
            QSKIP("no private Slurm cluster here (tests/cluster/slurm-cluster.sh check says why)");
        const QString clusterDir = dir_.filePath(QStringLiteral("cluster"));
        QProcess start;
        start.start(QStringLiteral("bash"), {script, QStringLiteral("start"), clusterDir});
        QVERIFY(start.waitForFinished(60000));
        QVERIFY2(start.exitCode() == 0, start.readAllStandardError().constData());
        struct Stop {
            QString script, dir;
            ~Stop() { QProcess::execute(QStringLiteral("bash"), {script, QStringLiteral("stop"), dir}); }
        } stop{script, clusterDir};
        qputenv("SLURM_CONF", (clusterDir + QStringLiteral("/slurm.conf")).toUtf8());
        page.setSlurm(ss::core::SlurmSubmit{"test", "", ""});
        const QString out = dir_.filePath(QStringLiteral("slurm.sqlite"));
        page.setOutput(out, dir_.filePath(QStringLiteral("slurm-runs")));
        QVERIFY(page.canLaunch());
        QSignalSpy phases(&page, &ExperimentPage::phaseChanged);
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        page.launch();
        QVERIFY(finished.wait(240000));
        qunsetenv("SLURM_CONF");
        QCOMPARE(finished.first().at(0).toInt(), static_cast<int>(ss::traces::RunStatus::Completed));
        QStringList seen;
        for (const auto& p : phases) seen << p.at(0).toString();
        QVERIFY2(seen.filter(QRegularExpression(QStringLiteral("^Slurm job \\d+ "))).size() > 0, qPrintable(seen.join(QLatin1Char('|'))));
        ss::traces::TraceReader rd(out.toStdString());
        const auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(1));
        const auto sums = rd.run_summaries(runs[0].id);
        QVERIFY(sums.count("slurm/job_id") == 1 && sums.at("slurm/state") == "COMPLETED");
    }

    void cancelLongRun() {
        ExperimentPage page;
        ExperimentForm f;
        f.name = "gui-cancel";
        f.steps = 100000;
        f.globalBatch = 4;
        page.setForm(f);
        const QString out = dir_.filePath(QStringLiteral("cancel.sqlite"));
        page.setOutput(out, dir_.filePath(QStringLiteral("run2")));
        QSignalSpy progress(&page, &ExperimentPage::progressed);
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        page.launch();
        QVERIFY(progress.wait(120000));  // it is training
        page.cancel();
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.first().at(0).toInt(), static_cast<int>(ss::traces::RunStatus::Cancelled));
        QVERIFY(progress.last().at(0).toLongLong() < 100000 - 1);
        ss::traces::TraceReader rd(out.toStdString());
        QCOMPARE(rd.runs().at(0).status, ss::traces::RunStatus::Cancelled);
    }

    // Item 1: the second Launch from the same page gets a fresh run folder and completes.
    void secondLaunchGetsAFreshRunFolder() {
        ExperimentPage page;
        ExperimentForm f;
        f.name = "again";
        f.steps = 2;
        f.globalBatch = 4;
        page.setForm(f);
        const QString out = dir_.filePath(QStringLiteral("again/again.sqlite"));  // its folder is made
        const QString root = dir_.filePath(QStringLiteral("again-root"));
        page.setOutput(out, root);
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        for (int i = 0; i < 2; ++i) {
            QVERIFY2(page.canLaunch(), qPrintable(page.validationMessages().join(QLatin1Char('\n'))));
            page.launch();
            QVERIFY(finished.wait(240000));
            QCOMPARE(finished.count(), i + 1);
            QVERIFY2(finished.last().at(0).toInt() == static_cast<int>(ss::traces::RunStatus::Completed),
                     qPrintable(finished.last().at(1).toString()));
        }
        QCOMPARE(QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot),
                 (QStringList{QStringLiteral("001-again"), QStringLiteral("002-again")}));
        ss::traces::TraceReader rd(out.toStdString());
        QCOMPARE(rd.runs().size(), size_t(2));
        for (const auto& r : rd.runs()) QCOMPARE(r.status, ss::traces::RunStatus::Completed);
    }

    // Item 1: a study launched on the page lands in the same run folders and study record as
    // `scalescope-cli study` of the same spec.
    void studyMatchesTheCli() {
#ifndef SCALESCOPE_CLI
        QSKIP("scalescope-cli is not built");
#else
        ExperimentPage page;
        ExperimentForm f;
        f.name = "cmp";
        f.steps = 2;
        f.globalBatch = 4;
        page.setForm(f);
        page.setStudy(true, {QStringLiteral("dp=1,2")});
        const QString gui = dir_.filePath(QStringLiteral("cmp-gui.sqlite"));
        page.setOutput(gui);  // runs folder: the default, cmp-gui-runs
        QVERIFY2(page.canLaunch(), qPrintable(page.validationMessages().join(QLatin1Char('\n'))));
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        page.launch();
        QVERIFY(finished.wait(480000));
        QVERIFY2(finished.first().at(0).toInt() == static_cast<int>(ss::traces::RunStatus::Completed),
                 qPrintable(finished.first().at(1).toString()));

        const QString spec = dir_.filePath(QStringLiteral("cmp.json"));
        {
            std::ofstream o(spec.toStdString());
            o << f.toJson().dump(2);
        }
        const QString cli = dir_.filePath(QStringLiteral("cmp-cli.sqlite"));
        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI), {QStringLiteral("study"), spec, QStringLiteral("--vary"),
                                                 QStringLiteral("dp=1,2"), QStringLiteral("-o"), cli, QStringLiteral("--quiet")});
        QVERIFY(p.waitForFinished(480000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());

        const auto folders = [](const QString& root) { return QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot); };
        const QStringList guiFolders = folders(dir_.filePath(QStringLiteral("cmp-gui-runs")));
        QCOMPARE(guiFolders, (QStringList{QStringLiteral("001-cmp-dp1"), QStringLiteral("002-cmp-dp2")}));
        QCOMPARE(folders(dir_.filePath(QStringLiteral("cmp-cli-runs"))), guiFolders);
        ss::traces::TraceReader g(gui.toStdString()), c(cli.toStdString());
        QCOMPARE(g.studies().size(), size_t(1));
        QCOMPARE(c.studies().size(), size_t(1));
        QCOMPARE(g.studies()[0].name, c.studies()[0].name);
        QCOMPARE(g.studies()[0].name, std::string("cmp study"));
        QCOMPARE(g.studies()[0].variable, c.studies()[0].variable);
        QCOMPARE(g.studies()[0].scaling, c.studies()[0].scaling);
        const auto gr = g.study_runs(g.studies()[0].id), cr = c.study_runs(c.studies()[0].id);
        QCOMPARE(gr.size(), size_t(2));
        QCOMPARE(gr.size(), cr.size());
        for (size_t i = 0; i < gr.size(); ++i) {
            QCOMPARE(gr[i].value, cr[i].value);
            QCOMPARE(gr[i].p, cr[i].p);
            QCOMPARE(gr[i].repeat, cr[i].repeat);
            QCOMPARE(g.run(gr[i].run).name, c.run(cr[i].run).name);
            QCOMPARE(g.run(gr[i].run).status, ss::traces::RunStatus::Completed);
        }
#endif
    }

    // Issue 13: the page's study handles a failed point as `scalescope-cli study` does (the same
    // runner): the study goes on, both points are recorded with their status, the launch reports
    // the failure; "stop at a failed run" keeps only the first point, like --stop-on-failure.
    void studyFailureHandledAsTheCli() {
#ifndef SCALESCOPE_CLI
        QSKIP("scalescope-cli is not built");
#else
        // Rank 1 fails at step 2: the dp=2 point fails, the dp=1 point (no rank 1) completes.
        const QString spec = dir_.filePath(QStringLiteral("flaky.json"));
        {
            QFile sf(spec);
            QVERIFY(sf.open(QIODevice::WriteOnly));
            sf.write("{\"name\": \"flaky\", \"model\": {\"kind\": \"gpt\"},\n"
                     " \"training\": {\"steps\": 4, \"global_batch\": 4},\n"
                     " \"launch\": {\"env\": {\"SCALESCOPE_WORKER_FAULT\": \"1:2\"}}}\n");
        }
        struct Point {
            std::string value;
            ss::traces::RunStatus status;
            std::string name;
        };
        const auto points = [](const QString& file) {
            ss::traces::TraceReader rd(file.toStdString());
            std::vector<Point> out;
            for (const auto& sr : rd.study_runs(rd.studies().at(0).id))
                out.push_back({sr.value, rd.run(sr.run).status, rd.run(sr.run).name});
            return out;
        };
        for (const bool stop : {false, true}) {
            ExperimentPage page;
            QCOMPARE(page.loadSpecFile(spec), QString());
            page.setStudy(true, {QStringLiteral("dp=2,1")});
            const QString gui = dir_.filePath(stop ? QStringLiteral("flaky-gui-stop.sqlite") : QStringLiteral("flaky-gui.sqlite"));
            page.setOutput(gui);
            if (stop) {
                auto* box = page.findChild<QCheckBox*>(QStringLiteral("stopOnFailure"));
                QVERIFY(box);
                box->setChecked(true);
            }
            QSignalSpy finished(&page, &ExperimentPage::launchFinished);
            page.launch();
            QVERIFY(finished.wait(480000));
            QCOMPARE(finished.first().at(0).toInt(), static_cast<int>(ss::traces::RunStatus::Failed));

            const QString cli = dir_.filePath(stop ? QStringLiteral("flaky-cli-stop.sqlite") : QStringLiteral("flaky-cli.sqlite"));
            QStringList args{QStringLiteral("study"), spec, QStringLiteral("--vary"), QStringLiteral("dp=2,1"),
                             QStringLiteral("-o"), cli, QStringLiteral("--quiet")};
            if (stop) args << QStringLiteral("--stop-on-failure");
            QProcess p;
            p.start(QStringLiteral(SCALESCOPE_CLI), args);
            QVERIFY(p.waitForFinished(480000));
            QCOMPARE(p.exitCode(), 1);

            const std::vector<Point> g = points(gui), c = points(cli);
            QCOMPARE(g.size(), stop ? size_t(1) : size_t(2));
            QCOMPARE(g.size(), c.size());
            for (size_t i = 0; i < g.size(); ++i) {
                QCOMPARE(g[i].value, c[i].value);
                QCOMPARE(g[i].status, c[i].status);
                QCOMPARE(g[i].name, c[i].name);
                QCOMPARE(g[i].status, g[i].value == "2" ? ss::traces::RunStatus::Failed : ss::traces::RunStatus::Completed);
            }
        }
#endif
    }

    // Item 1: Checks say before a launch that it would fail, and then do not call the spec valid.
    void checksRefuseALaunchThatWouldFail() {
        ExperimentPage page;
        page.setForm(ExperimentForm{});
        auto* list = page.findChild<QListWidget*>(QStringLiteral("validationMessages"));
        QVERIFY(list);
        auto lines = [list] {
            QStringList l;
            for (int i = 0; i < list->count(); ++i) l << list->item(i)->text();
            return l.join(QLatin1Char('\n'));
        };
        const QString notATrace = dir_.filePath(QStringLiteral("notes.sqlite"));
        {
            QFile nf(notATrace);
            QVERIFY(nf.open(QIODevice::WriteOnly));
            nf.write("these are my notes, not a trace\n");
        }
        page.setOutput(notATrace, dir_.filePath(QStringLiteral("notes-runs")));
        QVERIFY(!page.canLaunch());
        QVERIFY2(lines().contains(QStringLiteral("notes.sqlite")) && lines().contains(QStringLiteral("cannot take runs")),
                 qPrintable(lines()));
        QVERIFY2(!lines().contains(QStringLiteral("✓")), qPrintable(lines()));
        // A runs folder that is a file.
        page.setOutput(dir_.filePath(QStringLiteral("fine.sqlite")), notATrace);
        QVERIFY(!page.canLaunch());
        QVERIFY2(lines().contains(QStringLiteral("runs folder")) && lines().contains(QStringLiteral("not a folder")),
                 qPrintable(lines()));
        // Both fine: the check names the run folder the launch will make.
        page.setOutput(dir_.filePath(QStringLiteral("fine.sqlite")), dir_.filePath(QStringLiteral("fine-root")));
        QVERIFY(page.canLaunch());
        QVERIFY2(lines().contains(QStringLiteral("✓")) && lines().contains(QStringLiteral("fine-root/001-experiment")),
                 qPrintable(lines()));
    }

    // Item 21: before the first step, the page says what the run is doing (the launcher starting
    // the ranks, then rank 0's phases), with the elapsed seconds.
    void phasesBeforeTheFirstStep() {
        ExperimentPage page;
        ExperimentForm f;
        f.name = "phases";
        f.steps = 2;
        f.globalBatch = 4;
        page.setForm(f);
        page.setOutput(dir_.filePath(QStringLiteral("phases.sqlite")));
        QStringList seen;  // phases and steps in the order they arrived
        connect(&page, &ExperimentPage::phaseChanged, this, [&](const QString& t) { seen << t; });
        connect(&page, &ExperimentPage::progressed, this, [&](qlonglong s, double) { seen << QStringLiteral("step %1").arg(s); });
        QStringList statuses;
        connect(&page, &ExperimentPage::phaseChanged, this, [&](const QString&) { statuses << page.statusText(); });
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        page.launch();
        QVERIFY(finished.wait(240000));
        QCOMPARE(finished.first().at(0).toInt(), static_cast<int>(ss::traces::RunStatus::Completed));
        const int firstStep = static_cast<int>(seen.indexOf(QStringLiteral("step 0")));
        QVERIFY2(firstStep > 0, qPrintable(seen.join(QLatin1Char('|'))));
        const QStringList before = seen.mid(0, firstStep);
        auto has = [&](const QString& t) {
            return std::any_of(before.begin(), before.end(), [&](const QString& s) { return s.contains(t); });
        };
        QVERIFY2(has(QStringLiteral("starting 1 rank (mpirun)")), qPrintable(before.join(QLatin1Char('|'))));
        QVERIFY2(has(QStringLiteral("rank 0: clock sync")), qPrintable(before.join(QLatin1Char('|'))));
        QVERIFY2(has(QStringLiteral("rank 0: loading data")), qPrintable(before.join(QLatin1Char('|'))));
        QVERIFY2(has(QStringLiteral("rank 0: building model")), qPrintable(before.join(QLatin1Char('|'))));
        QVERIFY2(has(QStringLiteral("rank 0: running step 0")), qPrintable(before.join(QLatin1Char('|'))));
        // The status line carries the phase and the seconds since the run started.
        QVERIFY(!statuses.isEmpty());
        const QRegularExpression withSeconds(QStringLiteral("^rank 0: .+… · \\d+ s$"));
        QVERIFY2(std::any_of(statuses.begin(), statuses.end(), [&](const QString& t) { return withSeconds.match(t).hasMatch(); }),
                 qPrintable(statuses.join(QLatin1Char('|'))));
    }

    // Item 16: the worker-output pane is labelled and shows rank 0's own output; only its progress
    // JSON lines (the curve) are left out. A stand-in worker prints both.
    void workerOutputShowsRankZero() {
        const QString script = dir_.filePath(QStringLiteral("fake-worker.sh"));
        {
            QFile sf(script);
            QVERIFY(sf.open(QIODevice::WriteOnly));
            sf.write("#!/bin/sh\n"
                     "echo 'hello from rank 0'\n"
                     "echo '{\"event\":\"step\",\"step\":0,\"loss\":1.5,\"elapsed_s\":0.1}'\n"
                     "echo 'a warning on stderr' >&2\n");
            sf.setPermissions(sf.permissions() | QFileDevice::ExeOwner);
        }
        const QByteArray saved = qgetenv("SCALESCOPE_WORKER");
        qputenv("SCALESCOPE_WORKER", script.toLocal8Bit());
        ExperimentPage page;
        ExperimentForm f;
        f.name = "fake";
        f.steps = 1;
        f.globalBatch = 4;
        page.setForm(f);
        page.setOutput(dir_.filePath(QStringLiteral("fake.sqlite")));
        auto* log = page.findChild<QPlainTextEdit*>(QStringLiteral("workerOutput"));
        QVERIFY(log);
        auto* label = page.findChild<QLabel*>(QStringLiteral("workerOutputLabel"));
        QVERIFY(label);
        QVERIFY(label->text().contains(QStringLiteral("Worker output")));
        QSignalSpy progress(&page, &ExperimentPage::progressed);
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        page.launch();
        QVERIFY(finished.wait(120000));
        qputenv("SCALESCOPE_WORKER", saved);
        const QString text = log->toPlainText();
        QVERIFY2(text.contains(QStringLiteral("[0] hello from rank 0")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("[0] a warning on stderr")), qPrintable(text));
        QVERIFY2(!text.contains(QStringLiteral("\"event\"")), qPrintable(text));  // the step line is the curve
        QCOMPARE(progress.count(), 1);
        QCOMPARE(progress.first().at(1).toDouble(), 1.5);
    }

    // Item 17: in study mode the Command box (and Copy command) hold every point's command, the
    // same text `scalescope-cli study --dry-run` prints.
    void studyCommandListsEveryPoint() {
        ExperimentPage page;
        ExperimentForm f;
        f.name = "cmds";
        page.setForm(f);
        const QString out = dir_.filePath(QStringLiteral("cmds.sqlite"));
        page.setOutput(out);
        QCOMPARE(page.commandText().count(QStringLiteral("scalescope-worker")), 1);
        page.setStudy(true, {QStringLiteral("dp=1,2,4")}, 2);
        const QString cmd = page.commandText();
        QCOMPARE(cmd.count(QStringLiteral("scalescope-worker")), 6);  // 3 values x 2 repeats
        QCOMPARE(cmd.count(QStringLiteral("# point ")), 6);
        for (const char* np : {"-np 1 ", "-np 2 ", "-np 4 "}) QVERIFY2(cmd.contains(QLatin1String(np)), qPrintable(cmd));
        QVERIFY2(cmd.contains(QStringLiteral("cmds-runs/NNN-cmds-dp4-r1/spec.json")), qPrintable(cmd));
        auto* copy = page.findChild<QPushButton*>(QStringLiteral("copyCommand"));
        QVERIFY(copy);
        copy->click();
        QCOMPARE(QApplication::clipboard()->text(), cmd);
#ifdef SCALESCOPE_CLI
        const QString spec = dir_.filePath(QStringLiteral("cmds.json"));
        {
            std::ofstream o(spec.toStdString());
            o << f.toJson().dump(2);
        }
        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI), {QStringLiteral("study"), spec, QStringLiteral("--vary"), QStringLiteral("dp=1,2,4"),
                                                 QStringLiteral("--repeat"), QStringLiteral("2"), QStringLiteral("-o"), out,
                                                 QStringLiteral("--dry-run")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QString cli = QString::fromUtf8(p.readAllStandardOutput());
        QCOMPARE(cmd.section(QLatin1Char('\n'), 1), cli);  // after the page's one comment line
#endif
    }

    // Item 11: a spec file opened in the window goes to the Experiment form (not to the trace
    // reader); a file that is not a spec gets a message naming the problem, not a SQLite error.
    void specFileOpensInTheExperimentForm() {
        const QString spec = dir_.filePath(QStringLiteral("opened.json"));
        {
            QFile sf(spec);
            QVERIFY(sf.open(QIODevice::WriteOnly));
            sf.write("// a spec with a comment and a field the form does not show\n"
                     "{\"name\": \"from-file\", \"model\": {\"kind\": \"gpt\", \"preset\": \"tiny\"},\n"
                     " \"training\": {\"steps\": 7, \"global_batch\": 8, \"lr\": 0.0005},\n"
                     " \"parallel\": {\"dp\": 2}}\n");
        }
        MainWindow w;
        w.setInteractiveErrors(false);
        w.showPage(QStringLiteral("timeline"));
        QSignalSpy failed(&w, &MainWindow::openFailed);
        w.openFile(spec);
        QTRY_COMPARE_WITH_TIMEOUT(w.currentPage()->pageId(), QStringLiteral("experiment"), 5000);
        QCOMPARE(failed.count(), 0);
        QCOMPARE(w.documents()->rowCount(), 0);  // not opened as a trace
        auto* page = qobject_cast<ExperimentPage*>(w.page(QStringLiteral("experiment")));
        QVERIFY(page);
        const ExperimentForm f = page->form();
        QCOMPARE(f.name, std::string("from-file"));
        QCOMPARE(f.steps, 7);
        QCOMPARE(f.globalBatch, 8);
        QCOMPARE(f.dp, 2);
        auto* list = page->findChild<QListWidget*>(QStringLiteral("validationMessages"));
        QVERIFY(list);
        QString checks;
        for (int i = 0; i < list->count(); ++i) checks += list->item(i)->text() + QLatin1Char('\n');
        QVERIFY2(checks.contains(QStringLiteral("training.lr")) && checks.contains(QStringLiteral("opened.json")),
                 qPrintable(checks));

        // Junk: JSON that is no spec, and text with a .json name.
        const QString junk = dir_.filePath(QStringLiteral("junk.json"));
        {
            QFile jf(junk);
            QVERIFY(jf.open(QIODevice::WriteOnly));
            jf.write("{\"colour\": \"red\"}\n");
        }
        const QString text = dir_.filePath(QStringLiteral("text.json"));
        {
            QFile tf(text);
            QVERIFY(tf.open(QIODevice::WriteOnly));
            tf.write("not json at all\n");
        }
        for (const QString& bad : {junk, text}) {
            failed.clear();
            w.openFile(bad);
            QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
            const QString msg = failed.first().at(1).toString();
            QVERIFY2(!msg.contains(QStringLiteral("SQLite"), Qt::CaseInsensitive) && !msg.contains(QStringLiteral(".cpp")),
                     qPrintable(msg));
            QVERIFY2(msg.contains(QFileInfo(bad).fileName()), qPrintable(msg));
        }
        QVERIFY2(failed.first().at(1).toString().contains(QStringLiteral("line 1")), qPrintable(failed.first().at(1).toString()));
        w.openFile(junk);
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, 5000);
        QVERIFY2(failed.last().at(1).toString().contains(QStringLiteral("colour")), qPrintable(failed.last().at(1).toString()));
        QCOMPARE(page->form().name, std::string("from-file"));  // the form kept the good spec
    }

    // Item 11: launching a loaded spec runs what the file says, the fields the form lacks included.
    void loadedSpecLaunchesTheFileFields() {
        const QString spec = dir_.filePath(QStringLiteral("lr.json"));
        {
            QFile sf(spec);
            QVERIFY(sf.open(QIODevice::WriteOnly));
            sf.write("{\"name\": \"lr-file\", \"model\": {\"kind\": \"gpt\"},\n"
                     " \"training\": {\"steps\": 1, \"global_batch\": 4, \"lr\": 0.0005, \"seed\": 77}}\n");
        }
        ExperimentPage page;
        QCOMPARE(page.loadSpecFile(spec), QString());
        QCOMPARE(page.specFile(), QFileInfo(spec).absoluteFilePath());
        QCOMPARE(page.document()["training"]["lr"].get<double>(), 0.0005);
        const QString out = dir_.filePath(QStringLiteral("lr.sqlite"));
        page.setOutput(out);
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        page.launch();
        QVERIFY(finished.wait(240000));
        QCOMPARE(finished.first().at(0).toInt(), static_cast<int>(ss::traces::RunStatus::Completed));
        const auto runs = ss::traces::TraceReader(out.toStdString()).runs();
        QCOMPARE(runs.size(), size_t(1));
        const nlohmann::json s = nlohmann::json::parse(runs[0].spec_json);
        QCOMPARE(s["training"]["lr"].get<double>(), 0.0005);
        QCOMPARE(s["training"]["seed"].get<int>(), 77);
        QCOMPARE(runs[0].name, std::string("lr-file"));
        // Forgetting the file drops its other fields.
        page.forgetSpecFile();
        QVERIFY(!page.document()["training"].contains("lr"));
        // A bad spec names the field and leaves the form as it was.
        const QString bad = dir_.filePath(QStringLiteral("bad.json"));
        {
            QFile bf(bad);
            QVERIFY(bf.open(QIODevice::WriteOnly));
            bf.write("{\"model\": {\"kind\": \"gpt\"}, \"training\": {\"stepz\": 3}}");
        }
        const QString err = page.loadSpecFile(bad);
        QVERIFY2(err.contains(QStringLiteral("training.stepz")), qPrintable(err));
        QCOMPARE(page.form().name, std::string("lr-file"));
    }

    // Issue 13: one builder makes the mpirun command. A host file with one slot forces
    // --oversubscribe for two ranks; the command the page shows, the one `scalescope-cli run
    // --dry-run` prints and the one the launch executes (the run folder's command.txt, one
    // argument a line) are the same bytes.
    void shownDryRunAndExecutedCommandsAreTheSame() {
#ifndef SCALESCOPE_CLI
        QSKIP("scalescope-cli is not built");
#else
        const QString hostfile = dir_.filePath(QStringLiteral("one-slot.hosts"));
        {
            QFile hf(hostfile);
            QVERIFY(hf.open(QIODevice::WriteOnly));
            hf.write("localhost slots=1\n");
        }
        const QString spec = dir_.filePath(QStringLiteral("oversub.json"));
        {
            nlohmann::json doc = {{"name", "oversub"},
                                  {"model", {{"kind", "gpt"}, {"preset", "tiny"}}},
                                  {"training", {{"steps", 1}, {"global_batch", 4}}},
                                  {"parallel", {{"dp", 2}}},
                                  {"launch", {{"hostfile", hostfile.toStdString()}}}};
            std::ofstream o(spec.toStdString());
            o << doc.dump(2);
        }
        const QString out = dir_.filePath(QStringLiteral("oversub.sqlite"));
        ExperimentPage page;
        QCOMPARE(page.loadSpecFile(spec), QString());
        page.setOutput(out);
        const QString shown = page.commandText().section(QLatin1Char('\n'), 0, 0);
        QVERIFY2(shown.contains(QStringLiteral(" --oversubscribe ")), qPrintable(page.commandText()));

        QProcess p;
        p.start(QStringLiteral(SCALESCOPE_CLI), {QStringLiteral("run"), spec, QStringLiteral("-o"), out,
                                                 QStringLiteral("--dry-run")});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QStringList printed = QString::fromUtf8(p.readAllStandardOutput()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY(!printed.isEmpty());
        QCOMPARE(printed.last(), shown);

        QVERIFY2(page.canLaunch(), qPrintable(page.validationMessages().join(QLatin1Char('\n'))));
        QSignalSpy finished(&page, &ExperimentPage::launchFinished);
        page.launch();
        QVERIFY(finished.wait(240000));
        QVERIFY2(finished.first().at(0).toInt() == static_cast<int>(ss::traces::RunStatus::Completed),
                 qPrintable(finished.first().at(1).toString()));
        QFile cmd(dir_.filePath(QStringLiteral("oversub-runs/001-oversub/command.txt")));
        QVERIFY(cmd.open(QIODevice::ReadOnly));
        std::vector<std::string> argv;
        for (const QByteArray& line : cmd.readAll().split('\n'))
            if (!line.isEmpty()) argv.push_back(line.toStdString());
        QCOMPARE(QString::fromStdString(ss::core::command_line(argv)), shown);
#endif
    }

    // Item 9: at 1024x700 the page needs no horizontal scrolling.
    void fitsAt1024x700() {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1024, 700);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.showPage(QStringLiteral("experiment"));
        QWidget* page = w.page(QStringLiteral("experiment"));
        QScrollArea* scroll = nullptr;
        for (QWidget* p = page->parentWidget(); p && !scroll; p = p->parentWidget()) scroll = qobject_cast<QScrollArea*>(p);
        QVERIFY(scroll);
        QTest::qWait(50);
        QVERIFY2(page->minimumSizeHint().width() <= scroll->viewport()->width(),
                 qPrintable(QStringLiteral("page needs %1 px, has %2").arg(page->minimumSizeHint().width()).arg(scroll->viewport()->width())));
        QCOMPARE(scroll->horizontalScrollBar()->maximum(), 0);
    }
};

QTEST_MAIN(ExperimentTest)
#include "tst_gui_experiment.moc"

// The runner's pure parts (core/launch/study.h), shared by the CLI's run/study and the GUI's Launch: run
// folder names, the checks before a launch (trace file, runs folder), shell text of a command, and
// a study's commands as `study --dry-run` prints them.
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>

#include "core/launch/study.h"
#include "traces/writer.h"

using namespace ss::core;
namespace fs = std::filesystem;

namespace {

nlohmann::json mlp_doc() {
    return {{"name", "s"},
            {"model", {{"kind", "mlp"}, {"hidden", {64, 64}}}},
            {"training", {{"steps", 5}, {"global_batch", 32}}},
            {"parallel", {{"dp", 1}}}};
}

LaunchEnvironment env_with_cores(int cores) {
    LaunchEnvironment e;
    e.local_cores = cores;
    e.local_hostname = "here";
    return e;
}

}  // namespace

class TestStudyRunner : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    fs::path path(const char* n) { return fs::path(dir_.path().toStdString()) / n; }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void run_folders_count_past_what_exists() {
        const fs::path root = path("runs");
        QCOMPARE(next_run_dir(root, "a"), root / "001-a");  // root need not exist
        fs::create_directories(root / "001-a");
        fs::create_directories(root / "002-b");
        fs::create_directories(root / "notes");
        QCOMPARE(next_run_dir(root, "a"), root / "003-a");
        fs::create_directories(root / "004-x");  // a gap is reused, taken numbers never
        fs::remove(root / "002-b");
        QCOMPARE(next_run_dir(root, "c"), root / "002-c");
        QCOMPARE(default_runs_root("/data/out.sqlite"), fs::path("/data/out-runs"));
    }

    void run_folder_names_of_points() {
        const StudyPlan plan = plan_study(mlp_doc(), {parse_vary("dp=1,2")}, 2, false, false);
        QCOMPARE(run_folder_name(plan.points[0], true), std::string("s-dp1-r0"));
        QCOMPARE(run_folder_name(plan.points[3], true), std::string("s-dp2-r1"));
        QCOMPARE(run_folder_name(plan.points[3], false), std::string("s-dp2"));
        const StudyPoint one = single_run_point(mlp_doc());
        QCOMPARE(one.name, std::string("s"));
        QCOMPARE(one.p, 1);
        QCOMPARE(run_folder_name(one, false), std::string("s"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 single_run_point({{"model", {{"kind", "cnn"}}}}));
    }

    void trace_file_checks() {
        QVERIFY(!output_problem(path("new.sqlite").string()));                 // created by the run
        QVERIFY(!output_problem((path("new-folder") / "x.sqlite").string()));  // folder made too
        { ss::traces::TraceWriter w(path("good.sqlite").string()); }
        QVERIFY(!output_problem(path("good.sqlite").string()));
        {
            std::ofstream f(path("notes.sqlite"));
            f << "not a trace at all, just text that is long enough to be read as a header\n";
        }
        const auto junk = output_problem(path("notes.sqlite").string());
        QVERIFY(junk);
        QVERIFY2(junk->find("notes.sqlite") != std::string::npos &&
                     junk->find("cannot take runs") != std::string::npos,
                 junk->c_str());
        std::ofstream(path("empty.sqlite")).close();
        QVERIFY(
            !output_problem(path("empty.sqlite").string()));  // an empty file becomes a new trace
        fs::create_directories(path("a-folder.sqlite"));
        QVERIFY(output_problem(path("a-folder.sqlite").string()));
        const auto under_file = output_problem((path("notes.sqlite") / "x.sqlite").string());
        QVERIFY(under_file);
        QVERIFY2(under_file->find("is not a folder") != std::string::npos, under_file->c_str());
        QVERIFY(output_problem(""));
    }

    void runs_folder_checks() {
        QVERIFY(!runs_root_problem(path("fresh-root")));
        QVERIFY(!runs_root_problem(path("fresh-root") / "deeper"));
        const auto file = runs_root_problem(path("notes.sqlite"));
        QVERIFY(file);
        QVERIFY2(file->find("not a folder") != std::string::npos, file->c_str());
        QVERIFY(runs_root_problem(path("notes.sqlite") / "runs"));
    }

    void shell_text() {
        QCOMPARE(command_line({"mpirun", "-np", "2", "/a b/w", "it's", ""}),
                 std::string("mpirun -np 2 '/a b/w' 'it'\\''s' ''"));
    }

    void study_commands_are_every_point() {
        const StudyPlan plan = plan_study(mlp_doc(), {parse_vary("dp=1,4")}, 1, true, false);
        const std::string text = study_commands(plan, "/r", "/bin/w", "mpirun", env_with_cores(2));
        QCOMPARE(text,
                 std::string(
                     "# point 1 repeat 0 (p=1, training.global_batch=32)\n"
                     "mpirun --tag-output -np 1 /bin/w /r/NNN-s-dp1/spec.json\n"
                     "# point 4 repeat 0 (p=4, training.global_batch=128, oversubscribed)\n"
                     "mpirun --tag-output -np 4 --oversubscribe /bin/w /r/NNN-s-dp4/spec.json\n"));
    }

    // Issue 13: one builder (plan_run_command) reads the host file for the dry run as for the
    // real launch: one slot in the host file makes the dp=2 point oversubscribed on a 4-core host.
    void study_commands_count_the_host_file_slots() {
        const fs::path hosts = path("one-slot.hosts");
        std::ofstream(hosts) << "localhost slots=1\n";
        nlohmann::json doc = mlp_doc();
        doc["launch"] = {{"hostfile", hosts.string()}};
        const StudyPlan plan = plan_study(doc, {parse_vary("dp=1,2")}, 1, false, false);
        const std::string text = study_commands(plan, "/r", "/bin/w", "mpirun", env_with_cores(4));
        QCOMPARE(text, std::string("# point 1 repeat 0 (p=1, training.global_batch=32)\n"
                                   "mpirun --tag-output -np 1 --hostfile " + hosts.string() +
                                   " /bin/w /r/NNN-s-dp1/spec.json\n"
                                   "# point 2 repeat 0 (p=2, training.global_batch=32, oversubscribed)\n"
                                   "mpirun --tag-output -np 2 --oversubscribe --hostfile " + hosts.string() +
                                   " /bin/w /r/NNN-s-dp2/spec.json\n"));
        // What launch_run executes for that point is the same argument list.
        const MpirunPlan run = plan_run_command(plan.points[1].spec, "/r/NNN-s-dp2", "/bin/w", "mpirun",
                                                env_with_cores(4));
        QCOMPARE(command_line(run.argv) + "\n", text.substr(text.rfind("mpirun")));
        // A host file that cannot be read is an error for the shown command as for the launch.
        doc["launch"]["hostfile"] = path("missing.hosts").string();
        QVERIFY_THROWS_EXCEPTION(std::runtime_error,
                                 study_commands(plan_study(doc, {parse_vary("dp=1")}, 1, false, false), "/r", "/bin/w",
                                                "mpirun", env_with_cores(4)));
    }
};

QTEST_GUILESS_MAIN(TestStudyRunner)
#include "tst_core_study_runner.moc"

// The launcher under real mpirun: cancel and crashes leave no process behind (checked by process
// group and by session), a timeout stops the job, a failing rank of scalescope-worker gives a
// failed run whose reason is in the trace, a cancelled worker run keeps what it recorded.
#include <QTemporaryDir>
#include <QTest>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/launch/launcher.h"
#include "traces/reader.h"

using namespace ss::core;
using namespace std::chrono_literals;

namespace {

// Every process group the job had is gone, and no process is left in its session.
void expect_nothing_left(const JobResult& r) {
    QVERIFY2(r.process_groups.size() >= 2,
             ("expected mpirun's group and the ranks' groups, saw " + std::to_string(r.process_groups.size())).c_str());
    for (pid_t g : r.process_groups) {
        errno = 0;
        const int rc = ::kill(-g, 0);
        QVERIFY2(rc == -1 && errno == ESRCH, ("process group " + std::to_string(g) + " still has processes").c_str());
    }
    int in_session = 0;
    for (const auto& de : std::filesystem::directory_iterator("/proc")) {
        std::ifstream f(de.path() / "stat");
        std::string stat;
        if (!std::getline(f, stat)) continue;
        const auto rp = stat.rfind(')');
        if (rp == std::string::npos) continue;
        char state = 0;
        int ppid = 0, pgid = 0, sid = 0;
        if (std::sscanf(stat.c_str() + rp + 1, " %c %d %d %d", &state, &ppid, &pgid, &sid) == 4 && sid == r.session)
            ++in_session;
    }
    QCOMPARE(in_session, 0);
    QVERIFY(r.survivors.empty());
}

std::vector<std::string> mpirun_sh(int np, const std::string& script) {
    auto p = build_mpirun_argv(
        [&] {
            MpirunRequest rq;
            rq.ranks = np;
            rq.program = {"/bin/sh", "-c", script};
            return rq;
        }(),
        LaunchEnvironment::current());
    return p.argv;
}

nlohmann::json tiny_mlp(int dp, int steps) {
    return {{"name", "launcher-test"},
            {"model", {{"kind", "mlp"}, {"hidden", {32}}}},
            {"training", {{"steps", steps}, {"global_batch", 16}}},
            {"parallel", {{"dp", dp}}},
            {"trace", {{"flush_interval_s", 0.05}}}};
}

// Each rank prints a progress line on stdout and a line on stderr. (A plain literal: moc does
// not read raw string literals.)
const std::string kEchoScript =
    "echo \"{\\\"event\\\":\\\"step\\\",\\\"step\\\":$OMPI_COMM_WORLD_RANK,\\\"loss\\\":1.5}\"; "
    "echo \"oops $OMPI_COMM_WORLD_RANK\" >&2";

}  // namespace

class TestLauncherMpi : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path(const std::string& n) { return dir_.filePath(QString::fromStdString(n)).toStdString(); }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void output_is_attributed_and_logged() {
        JobOptions o;
        o.run_dir = path("echo");
        std::vector<Progress> progress;
        o.on_progress = [&](const Progress& p) { progress.push_back(p); };
        const JobResult r = run_mpi_job(
            mpirun_sh(2, kEchoScript),
            o);
        QVERIFY(r.ok());
        QCOMPARE(progress.size(), size_t(1));  // rank 0's line only
        QCOMPARE(progress[0].step, std::int64_t(0));
        QCOMPARE(r.stderr_tail.at(1).back(), std::string("oops 1"));
        std::ifstream log(path("echo/stderr.log"));
        std::string all((std::istreambuf_iterator<char>(log)), {});
        QVERIFY2(all.find("[rank 0] oops 0") != std::string::npos && all.find("[rank 1] oops 1") != std::string::npos,
                 all.c_str());
    }

    void cancel_leaves_no_process_behind() {
        // 3 ranks on 2 cores; each rank's shell ignores SIGTERM, so SIGKILL has to finish them.
        CancelFlag cancel{false};
        JobOptions o;
        o.run_dir = path("cancel");
        o.cancel = &cancel;
        o.grace_s = 1.0;
        std::thread t([&] {
            std::this_thread::sleep_for(1500ms);
            cancel = true;
        });
        const auto t0 = std::chrono::steady_clock::now();
        const JobResult r = run_mpi_job(mpirun_sh(3, "trap '' TERM; sleep 60 & sleep 60; wait"), o);
        t.join();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        QVERIFY(r.cancelled);
        QVERIFY(!r.ok());
        QVERIFY2(s < 20, std::to_string(s).c_str());
        expect_nothing_left(r);
        QVERIFY(describe_failure(r).rfind("cancelled by the user", 0) == 0);
    }

    void a_killed_mpirun_leaves_no_orphan() {
        // mpirun dies by SIGKILL: its ranks are orphans; the launcher ends them.
        JobOptions o;
        o.run_dir = path("orphans");
        o.grace_s = 0.5;
        pid_t mpirun = -1;
        o.on_started = [&](pid_t p) { mpirun = p; };
        std::thread t;
        o.on_line = [&](const TaggedLine& l) {
            if (l.text == "ready" && l.rank == 1 && !t.joinable())
                t = std::thread([&] { ::kill(mpirun, SIGKILL); });
        };
        const JobResult r = run_mpi_job(mpirun_sh(2, "echo ready; sleep 60"), o);
        if (t.joinable()) t.join();
        QCOMPARE(r.term_signal, SIGKILL);
        expect_nothing_left(r);
    }

    void timeout_stops_the_job() {
        JobOptions o;
        o.run_dir = path("timeout");
        o.timeout_s = 1.0;
        o.grace_s = 1.0;
        const JobResult r = run_mpi_job(mpirun_sh(2, "sleep 60"), o);
        QVERIFY(r.timed_out);
        QVERIFY(r.wall_s < 15);
        expect_nothing_left(r);
    }

    void a_failing_rank_gives_a_failed_run_with_its_reason_in_the_trace() {
        auto doc = tiny_mlp(2, 40);
        doc["launch"]["env"]["SCALESCOPE_WORKER_FAULT"] = "1:3";
        RunRequest rq;
        rq.spec = parse_spec(doc).spec;
        rq.output = path("fail.sqlite");
        rq.run_dir = path("fail-run");
        rq.worker = SCALESCOPE_WORKER;
        rq.env = LaunchEnvironment::current();
        const RunOutcome o = launch_run(rq);
        QCOMPARE(o.status, ss::traces::RunStatus::Failed);
        // "rank 1 called MPI_Abort (error code 1) ..." or, when mpirun exits before printing its
        // banner, "rank 1 reported an error ...": the rank is named either way.
        QVERIFY2(o.failure_reason.rfind("rank 1 ", 0) == 0, o.failure_reason.c_str());
        QVERIFY2(o.failure_reason.find("after 3 of 40 steps") != std::string::npos, o.failure_reason.c_str());
        QVERIFY2(o.failure_reason.find("injected fault at step 3") != std::string::npos, o.failure_reason.c_str());
        ss::traces::TraceReader rd(rq.output);
        const auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, ss::traces::RunStatus::Failed);
        QCOMPARE(runs[0].failure_reason, o.failure_reason);
        QCOMPARE(runs[0].world_size, 2);
        QVERIFY(runs[0].event_count > 0);  // the steps before the fault were kept
        // The worker that was not at fault is recorded too.
        QCOMPARE(rd.ranks(runs[0].id).size(), size_t(2));
    }

    void cancelling_a_worker_run_keeps_what_it_recorded() {
        RunRequest rq;
        rq.spec = parse_spec(tiny_mlp(2, 100000)).spec;
        rq.output = path("cancel.sqlite");
        rq.run_dir = path("cancel-run");
        rq.worker = SCALESCOPE_WORKER;
        rq.env = LaunchEnvironment::current();
        rq.grace_s = 2;
        CancelFlag cancel{false};
        rq.cancel = &cancel;
        rq.on_progress = [&](const Progress& p) {
            if (p.kind == Progress::Kind::Step && p.step >= 20) cancel = true;
        };
        const RunOutcome o = launch_run(rq);
        QCOMPARE(o.status, ss::traces::RunStatus::Cancelled);
        QVERIFY(o.job.last_step >= 20);
        expect_nothing_left(o.job);
        ss::traces::TraceReader rd(rq.output);
        const auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, ss::traces::RunStatus::Cancelled);
        QVERIFY(runs[0].failure_reason.rfind("cancelled by the user", 0) == 0);
        QVERIFY(runs[0].event_count > 0);
        // A second run appends to the same file.
        RunRequest again = rq;
        again.spec = parse_spec(tiny_mlp(1, 3)).spec;
        again.run_dir = path("append-run");
        again.cancel = nullptr;
        again.on_progress = nullptr;
        const RunOutcome a = launch_run(again);
        QCOMPARE(a.status, ss::traces::RunStatus::Completed);
        QCOMPARE(ss::traces::TraceReader(rq.output).runs().size(), size_t(2));
    }

    void a_refused_spec_is_still_recorded() {
        // A data path that does not exist: every worker rank refuses the spec (exit 2) and writes
        // no rank file; the run is recorded from the spec, failed, with the worker's message.
        auto doc = tiny_mlp(1, 3);
        RunRequest rq;
        rq.spec = parse_spec(doc).spec;
        rq.spec.data.path = path("no-such-data");
        rq.output = path("refused.sqlite");
        rq.run_dir = path("refused-run");
        rq.worker = SCALESCOPE_WORKER;
        rq.env = LaunchEnvironment::current();
        const RunOutcome o = launch_run(rq);
        QCOMPARE(o.status, ss::traces::RunStatus::Failed);
        QCOMPARE(o.rank_files, 0);
        QVERIFY2(o.failure_reason.find("no-such-data") != std::string::npos, o.failure_reason.c_str());
        ss::traces::TraceReader rd(rq.output);
        QCOMPARE(rd.runs().at(0).failure_reason, o.failure_reason);
    }
};

QTEST_GUILESS_MAIN(TestLauncherMpi)
#include "tst_core_launcher_mpi.moc"

// The launcher's pure parts: the mpirun argument list for each launch form, slot counting, output
// line parsing, failure attribution from Open MPI's messages; study planning; calibration fits.
#include <QTest>

#include <algorithm>

#include <cmath>

#include "core/launch/launcher.h"
#include "core/launch/slurm.h"
#include "core/launch/study.h"
#include "core/sim/calibrate.h"

using namespace ss::core;
using Strings = std::vector<std::string>;

namespace {

LaunchEnvironment env_with(bool root, int cores, std::map<std::string, std::string> vars = {}) {
    LaunchEnvironment e;
    e.is_root = root;
    e.local_cores = cores;
    e.local_hostname = "here";
    e.vars = std::move(vars);
    return e;
}

MpirunRequest request(int ranks) {
    MpirunRequest r;
    r.ranks = ranks;
    r.program = {"/opt/ss/scalescope-worker", "/runs/001/spec.json"};
    return r;
}

nlohmann::json mlp_doc() {
    return {{"name", "s"},
            {"model", {{"kind", "mlp"}, {"hidden", {64, 64}}}},
            {"training", {{"steps", 5}, {"global_batch", 32}}},
            {"parallel", {{"dp", 1}}}};
}

}  // namespace

class TestLauncher : public QObject {
    Q_OBJECT
private slots:
    // Slurm (issue 20): the job script, scontrol's job line, the follower's state lines, sbatch's id.
    void slurmPieces() {
        SlurmSubmit sub{"gpu", "1:30:00", "proj"};
        const std::string script = slurm_job_script({"mpirun", "-np", "4", "/opt/w it's", "/r/spec.json"}, 4, sub,
                                                    "/runs/r1", "scalescope-x");
        QVERIFY(script.rfind("#!/bin/bash\n", 0) == 0);
        for (const char* line : {"#SBATCH --job-name=scalescope-x\n", "#SBATCH --ntasks=4\n",
                                 "#SBATCH --output=/runs/r1/slurm-%j.out\n", "#SBATCH --chdir=/runs/r1\n",
                                 "#SBATCH --partition=gpu\n", "#SBATCH --time=1:30:00\n", "#SBATCH --account=proj\n",
                                 "exec 'mpirun' '-np' '4' '/opt/w it'\\''s' '/r/spec.json'\n"})
            QVERIFY2(script.find(line) != std::string::npos, line);
        const std::string bare = slurm_job_script({"mpirun"}, 1, {}, "/r", "j");
        QVERIFY(bare.find("--partition") == std::string::npos && bare.find("--time") == std::string::npos);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, slurm_job_script({}, 1, {}, "/r", "j"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, slurm_job_script({"mpirun"}, 0, {}, "/r", "j"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, slurm_job_script({"mpirun"}, 1, {"a\nb", "", ""}, "/r", "j"));

        const auto st = parse_scontrol_job(
            "JobId=12 JobName=scalescope-x UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) "
            "ExitCode=2:0 RunTime=00:00:01 NodeList=node[1-2] BatchHost=node1");
        QVERIFY(st);
        QCOMPARE(st->id, std::string("12"));
        QCOMPARE(st->state, std::string("FAILED"));
        QCOMPARE(st->reason, std::string("NonZeroExitCode"));
        QCOMPARE(st->nodes, std::string("node[1-2]"));
        QCOMPARE(st->exit_status(), 2);
        QVERIFY(st->ended());
        QVERIFY(!parse_scontrol_job("slurm_load_jobs error: Invalid job id specified"));
        SlurmJobState pending{"13", "PENDING", "Resources", "", "0:0"};
        QVERIFY(!pending.ended());
        // The follower's line and back (launch_run records the last one).
        for (const SlurmJobState& s : {*st, pending}) {
            const auto back = parse_slurm_state_line(slurm_state_line(s));
            QVERIFY2(back && *back == s, slurm_state_line(s).c_str());
        }
        QCOMPARE(slurm_state_line(pending), std::string("slurm: job 13 PENDING on - (reason Resources, exit 0:0)"));
        QVERIFY(!parse_slurm_state_line("[1,0]<stdout>:slurm: job"));
        QCOMPARE(parse_sbatch_id("42\n"), std::string("42"));
        QCOMPARE(parse_sbatch_id("42;cluster\n"), std::string("42"));
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, parse_sbatch_id("sbatch: error: invalid partition"));
    }

    // ---- argv per launch form ----
    void local_not_root() {
        const auto p = build_mpirun_argv(request(2), env_with(false, 2));
        QCOMPARE(p.argv, (Strings{"mpirun", "--tag-output", "-np", "2", "/opt/ss/scalescope-worker",
                                  "/runs/001/spec.json"}));
        QVERIFY(!p.oversubscribed);
        QCOMPARE(p.slot_count, 2);
        QVERIFY(!p.slurm);
    }
    void local_root_adds_allow_run_as_root() {
        const auto p = build_mpirun_argv(request(2), env_with(true, 2));
        QCOMPARE(p.argv, (Strings{"mpirun", "--allow-run-as-root", "--tag-output", "-np", "2",
                                  "/opt/ss/scalescope-worker", "/runs/001/spec.json"}));
    }
    void local_oversubscribed() {
        const auto p = build_mpirun_argv(request(4), env_with(true, 2));
        QCOMPARE(p.argv, (Strings{"mpirun", "--allow-run-as-root", "--tag-output", "-np", "4",
                                  "--oversubscribe", "/opt/ss/scalescope-worker", "/runs/001/spec.json"}));
        QVERIFY(p.oversubscribed);
        QCOMPARE(p.slot_count, 2);
        QVERIFY(p.slots_source.find("local cores") != std::string::npos);
        // Exactly the core count is not oversubscribed.
        QVERIFY(!build_mpirun_argv(request(2), env_with(true, 2)).oversubscribed);
    }
    void host_list_with_env_and_extra_args() {
        auto r = request(8);
        r.launch.hosts = {"node1:4", "node2:4"};
        r.launch.env = {{"OMP_NUM_THREADS", "1"}, {"NCCL_DEBUG", "WARN"}};
        r.launch.mpirun_args = {"--mca", "btl_tcp_if_include", "eth0"};
        const auto p = build_mpirun_argv(r, env_with(false, 2));
        QCOMPARE(p.argv, (Strings{"mpirun", "--tag-output", "-np", "8", "--host", "node1:4,node2:4",
                                  "-x", "NCCL_DEBUG=WARN", "-x", "OMP_NUM_THREADS=1", "--mca",
                                  "btl_tcp_if_include", "eth0", "/opt/ss/scalescope-worker",
                                  "/runs/001/spec.json"}));
        QCOMPARE(p.slot_count, 8);  // slots of the hosts, not of this machine's 2 cores
        QVERIFY(!p.oversubscribed);
        QCOMPARE(p.hosts, (Strings{"node1", "node2"}));
    }
    // The user's OPENBLAS_CORETYPE reaches every rank (remote ones too); unset, each rank picks its
    // own CPU's kernel; launch.env naming it wins.
    void openblas_coretype_passed_to_ranks() {
        auto e = env_with(false, 2);
        const auto plain = build_mpirun_argv(request(2), e);
        QVERIFY(std::none_of(plain.argv.begin(), plain.argv.end(),
                             [](const std::string& a) { return a.rfind("OPENBLAS_CORETYPE", 0) == 0; }));
        e.vars["OPENBLAS_CORETYPE"] = "SKYLAKEX";
        const auto p = build_mpirun_argv(request(2), e);
        QCOMPARE(p.argv, (Strings{"mpirun", "--tag-output", "-np", "2", "-x", "OPENBLAS_CORETYPE=SKYLAKEX",
                                  "/opt/ss/scalescope-worker", "/runs/001/spec.json"}));
        auto r = request(2);
        r.launch.env = {{"OPENBLAS_CORETYPE", "HASWELL"}};
        QCOMPARE(build_mpirun_argv(r, e).argv, (Strings{"mpirun", "--tag-output", "-np", "2", "-x",
                                                        "OPENBLAS_CORETYPE=HASWELL", "/opt/ss/scalescope-worker",
                                                        "/runs/001/spec.json"}));
    }
    void host_list_without_counts_is_one_slot_each() {
        auto r = request(3);
        r.launch.hosts = {"a", "b"};
        const auto p = build_mpirun_argv(r, env_with(false, 64));
        QCOMPARE(p.slot_count, 2);
        QVERIFY(p.oversubscribed);
        QVERIFY(std::find(p.argv.begin(), p.argv.end(), "--oversubscribe") != p.argv.end());
    }
    void hostfile() {
        auto r = request(6);
        r.launch.hostfile = "/etc/ss/hosts";
        r.hostfile_text = "# cluster\nnode1 slots=4\nnode2 slots=2 max_slots=8  # small one\n\n";
        const auto p = build_mpirun_argv(r, env_with(true, 2));
        QCOMPARE(p.argv, (Strings{"mpirun", "--allow-run-as-root", "--tag-output", "-np", "6", "--hostfile",
                                  "/etc/ss/hosts", "/opt/ss/scalescope-worker", "/runs/001/spec.json"}));
        QCOMPARE(p.slot_count, 6);
        QVERIFY(!p.oversubscribed);
        r.ranks = 7;
        QVERIFY(build_mpirun_argv(r, env_with(true, 2)).oversubscribed);
    }
    void hostfile_without_slots_for_a_remote_host_is_unknown() {
        auto r = request(64);
        r.launch.hostfile = "h";
        r.hostfile_text = "bignode\n";
        const auto p = build_mpirun_argv(r, env_with(false, 2));
        QCOMPARE(p.slot_count, -1);
        QVERIFY(!p.oversubscribed);  // Open MPI counts bignode's cores; we cannot
        QVERIFY(!p.notes.empty());
        // The local host without slots= has this machine's cores.
        r.hostfile_text = "localhost\n";
        const auto l = build_mpirun_argv(r, env_with(false, 2));
        QCOMPARE(l.slot_count, 2);
        QVERIFY(l.oversubscribed);
    }
    void slurm_uses_the_allocation() {
        const auto p = build_mpirun_argv(
            request(8), env_with(false, 2, {{"SLURM_JOB_ID", "4242"}, {"SLURM_NTASKS", "8"}}));
        QCOMPARE(p.argv, (Strings{"mpirun", "--tag-output", "-np", "8", "/opt/ss/scalescope-worker",
                                  "/runs/001/spec.json"}));
        QVERIFY(p.slurm);
        QCOMPARE(p.slot_count, 8);  // the allocation's tasks, not the 2 local cores
        QVERIFY(!p.oversubscribed);
        // Without SLURM_NTASKS: the CPUs per node.
        const auto c = build_mpirun_argv(
            request(12), env_with(false, 2, {{"SLURM_JOB_ID", "1"}, {"SLURM_JOB_CPUS_PER_NODE", "4(x2),2"}}));
        QCOMPARE(c.slot_count, 10);
        QVERIFY(c.oversubscribed);
        QVERIFY(std::find(c.argv.begin(), c.argv.end(), "--oversubscribe") != c.argv.end());
    }
    void bad_requests() {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, build_mpirun_argv(request(0), env_with(false, 2)));
        auto r = request(2);
        r.program.clear();
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, build_mpirun_argv(r, env_with(false, 2)));
        r = request(2);
        r.launch.hosts = {"node1:0"};
        try {
            build_mpirun_argv(r, env_with(false, 2));
            QFAIL("accepted node1:0");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(std::string(e.what()).find("launch.hosts[0]=\"node1:0\"") != std::string::npos, e.what());
        }
    }
    void hostfile_errors_name_the_line() {
        try {
            parse_hostfile("a slots=2\nb slots=x\n", "hosts.txt");
            QFAIL("accepted slots=x");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(std::string(e.what()).find("hosts.txt:2") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_hostfile("a gpus=2\n", "h"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_hostfile("# only a comment\n", "h"));
        const auto twice = parse_hostfile("a slots=2\na slots=3\n", "h");
        QCOMPARE(twice.size(), size_t(1));
        QCOMPARE(twice[0].slot_count, 5);
    }
    void slurm_cpus() {
        QCOMPARE(parse_slurm_cpus("4(x2),2"), std::optional<int>(10));
        QCOMPARE(parse_slurm_cpus("16"), std::optional<int>(16));
        QCOMPARE(parse_slurm_cpus("2(x3)"), std::optional<int>(6));
        QCOMPARE(parse_slurm_cpus("x"), std::optional<int>());
        QCOMPARE(parse_slurm_cpus("4(y2)"), std::optional<int>());
        QCOMPARE(parse_slurm_cpus(""), std::optional<int>());
    }

    // ---- output ----
    void tagged_lines() {
        QCOMPARE(parse_tagged_line("[1,0]<stdout>:{\"event\":\"step\"}"),
                 (TaggedLine{0, Stream::Stdout, "{\"event\":\"step\"}"}));
        QCOMPARE(parse_tagged_line("[1,12]<stderr>: rank 12: out of memory"),
                 (TaggedLine{12, Stream::Stderr, "rank 12: out of memory"}));
        QCOMPARE(parse_tagged_line("[51207,3]<stddiag>:x"), (TaggedLine{3, Stream::Stderr, "x"}));
        QCOMPARE(parse_tagged_line("mpirun noticed that process rank 1 ..."),
                 (TaggedLine{-1, Stream::Mpirun, "mpirun noticed that process rank 1 ..."}));
        QCOMPARE(parse_tagged_line("[1,x]<stdout>:y").stream, Stream::Mpirun);
        QCOMPARE(parse_tagged_line("[1,2]<other>:y").stream, Stream::Mpirun);
        QCOMPARE(parse_tagged_line("").stream, Stream::Mpirun);
    }
    void progress_lines() {
        auto s = parse_progress_line(
            R"({"event":"step","step":7,"loss":1.25,"samples_per_s":5000.5,"elapsed_s":2.5,"step_time_s":0.01})");
        QVERIFY(s);
        QCOMPARE(s->kind, Progress::Kind::Step);
        QCOMPARE(s->step, std::int64_t(7));
        QCOMPARE(s->loss, 1.25);
        QCOMPARE(s->rate, 5000.5);
        QCOMPARE(s->rate_unit, std::string("samples/s"));
        QCOMPARE(s->elapsed_s, 2.5);
        QCOMPARE(s->step_time_s, 0.01);
        auto t = parse_progress_line(R"({"event":"step","step":0,"loss":5.5,"tokens_per_s":12.0})");
        QCOMPARE(t->rate_unit, std::string("tokens/s"));
        auto sum = parse_progress_line(
            R"({"event":"summary","final_loss":0.5,"accuracy":0.81,"step_time_median_s":0.02})");
        QCOMPARE(sum->kind, Progress::Kind::Summary);
        QCOMPARE(sum->loss, 0.5);
        QCOMPARE(sum->accuracy, std::optional<double>(0.81));
        QCOMPARE(sum->step_time_s, 0.02);
        QCOMPARE(parse_progress_line(R"({"event":"start","world":2})")->kind, Progress::Kind::Start);
        QCOMPARE(parse_progress_line(R"({"event":"measure"})")->kind, Progress::Kind::Other);
        QVERIFY(!parse_progress_line("hello"));
        QVERIFY(!parse_progress_line("{\"step\":1}"));  // no event
        QVERIFY(!parse_progress_line("{\"event\":3}"));
        QVERIFY(!parse_progress_line("{\"event\":\"step\""));  // truncated
        QVERIFY(!parse_progress_line("[1,2]"));
    }
    void failing_rank_from_open_mpi_messages() {
        // Texts as Open MPI 4.1 prints them.
        const Strings abort = {
            "--------------------------------------------------------------------------",
            "MPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD",
            "with errorcode 1.", "", "NOTE: invoking MPI_ABORT causes Open MPI to kill all MPI processes."};
        QCOMPARE(find_failing_rank(abort), (std::optional<RankFailure>(RankFailure{1, "called MPI_Abort (error code 1)"})));
        const Strings killed = {"Primary job  terminated normally, but 1 process returned",
                                "mpirun noticed that process rank 3 with PID 0 on node vm exited on "
                                "signal 9 (Killed)."};
        QCOMPARE(find_failing_rank(killed),
                 (std::optional<RankFailure>(RankFailure{3, "was killed by signal 9 (Killed)"})));
        const Strings exited = {"mpirun detected that one or more processes exited with non-zero status, "
                                "thus causing", "the job to be terminated. The first process to do so was:", "",
                                "  Process name: [[51207,1],2]", "  Exit code:    2"};
        QCOMPARE(find_failing_rank(exited), (std::optional<RankFailure>(RankFailure{2, "exited with status 2"})));
        // The abort names the cause even when the signal of another rank is reported too.
        Strings both = killed;
        both.insert(both.end(), abort.begin(), abort.end());
        QCOMPARE(find_failing_rank(both)->rank, 1);
        QVERIFY(!find_failing_rank({"all good"}));
    }
    void failure_descriptions() {
        JobResult ok;
        ok.exit_code = 0;
        QCOMPARE(describe_failure(ok), std::string());
        JobResult j;
        j.exit_code = 1;
        j.last_step = 4;
        j.failing_rank = RankFailure{1, "called MPI_Abort (error code 1)"};
        j.stderr_tail[1] = {"a", "b", "rank 1: injected fault at step 5"};
        j.stderr_tail[0] = {"not this one"};
        const std::string d = describe_failure(j, 30, 2);
        QCOMPARE(d, std::string("rank 1 called MPI_Abort (error code 1) after 5 of 30 steps; last lines "
                                "of its stderr:\n  b\n  rank 1: injected fault at step 5"));
        JobResult c;
        c.cancelled = true;
        c.wall_s = 3.0;
        QVERIFY(describe_failure(c).rfind("cancelled by the user", 0) == 0);
        JobResult t;
        t.timed_out = true;
        QVERIFY(describe_failure(t).find("launch.timeout_s") != std::string::npos);
        JobResult m;
        m.exit_code = 213;
        m.mpirun_tail = {"There are not enough slots available in the system"};
        QCOMPARE(describe_failure(m), std::string("mpirun exited with status 213 before the first step; its "
                                                  "last messages:\n  There are not enough slots available in the system"));
    }

    // ---- studies ----
    void vary_parsing() {
        QCOMPARE(parse_vary("dp=1,2,4"), (VaryAxis{"parallel.dp", "dp", {"1", "2", "4"}}));
        QCOMPARE(parse_vary("model.hidden=[64,64],[128]").values, (Strings{"[64,64]", "[128]"}));
        QCOMPARE(parse_vary("global_batch=32,64").path, std::string("training.global_batch"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_vary("dp"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_vary("dp=1,,2"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_vary("dp=2,2"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_vary("parallel.dpp=1,2"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_vary("launch.np=1,2"));
    }
    void strong_study_keeps_the_global_batch() {
        const auto plan = plan_study(mlp_doc(), {parse_vary("dp=1,2,4")}, 2, false, false);
        QCOMPARE(plan.variable, std::string("parallel.dp"));
        QCOMPARE(plan.scaling, std::string("strong"));
        QCOMPARE(plan.points.size(), size_t(6));
        QCOMPARE(plan.points[0].value, std::string("1"));
        QCOMPARE(plan.points[1].repeat, 1);
        QCOMPARE(plan.points[4].value, std::string("4"));
        QCOMPARE(plan.points[4].p, 4);
        for (const auto& p : plan.points) QCOMPARE(p.doc["training"]["global_batch"].get<int>(), 32);
        QCOMPARE(plan.points[2].name, std::string("s-dp2"));
        QCOMPARE(plan.points[2].doc["parallel"]["dp"].get<int>(), 2);
    }
    void weak_study_scales_the_global_batch() {
        auto doc = mlp_doc();
        doc["parallel"]["dp"] = 2;  // per-rank batch 32/2 = 16
        const auto plan = plan_study(doc, {parse_vary("dp=1,2,4")}, 1, true, false);
        QCOMPARE(plan.scaling, std::string("weak"));
        QCOMPARE(plan.points[0].doc["training"]["global_batch"].get<int>(), 16);
        QCOMPARE(plan.points[1].doc["training"]["global_batch"].get<int>(), 32);
        QCOMPARE(plan.points[2].doc["training"]["global_batch"].get<int>(), 64);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 plan_study(doc, {parse_vary("global_batch=8,16")}, 1, true, false));
    }
    void two_axes_make_a_product_and_bad_points_are_all_named() {
        auto doc = mlp_doc();
        const auto plan = plan_study(doc, {parse_vary("dp=1,2"), parse_vary("tp=1,2")}, 1, false, false);
        QCOMPARE(plan.points.size(), size_t(4));
        QCOMPARE(plan.variable, std::string("parallel.dp,parallel.tp"));
        QCOMPARE(plan.points[3].value, std::string("dp=2,tp=2"));
        QCOMPARE(plan.points[3].p, 4);
        try {
            plan_study(doc, {parse_vary("tp=3,5")}, 1, false, false);
            QFAIL("accepted tp=3 and tp=5 for hidden widths 64");
        } catch (const std::invalid_argument& e) {
            const std::string w = e.what();
            QVERIFY2(w.find("point 3:") != std::string::npos && w.find("point 5:") != std::string::npos, e.what());
            QVERIFY2(w.find("parallel.tp=3 must divide") != std::string::npos, e.what());
        }
    }

    void layout_axis_sweeps_whole_layouts() {
        auto doc = mlp_doc();
        doc["model"]["hidden"] = {64, 64};
        doc["training"]["global_batch"] = 32;
        const auto plan = plan_study(doc, {parse_vary("layout=1x1x1,1x2x1,1x1x2,2x2x1")}, 1, false, false);
        QCOMPARE(plan.variable, std::string("parallel.dp,parallel.tp,parallel.pp"));
        QCOMPARE(plan.points.size(), size_t(4));
        QCOMPARE(plan.points[3].value, std::string("dp=2,tp=2,pp=1"));
        QCOMPARE(plan.points[3].p, 4);
        QCOMPARE(plan.points[2].doc["parallel"]["pp"].get<int>(), 2);
        QCOMPARE(plan.points[3].name, std::string("s-dp2-tp2-pp1"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_vary("layout=2x2"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_vary("layout=0x1x1"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 plan_study(doc, {parse_vary("layout=1x1x1"), parse_vary("dp=1,2")}, 1, false, false));
    }

    // ---- calibration ----
    void busbw_factors() {
        QCOMPARE(busbw_factor("all_reduce", 4), 1.5);
        QCOMPARE(busbw_factor("reduce_scatter", 4), 0.75);
        QCOMPARE(busbw_factor("all_gather", 2), 0.5);
        QCOMPARE(busbw_factor("broadcast", 8), 1.0);
        QCOMPARE(busbw_factor("send_recv", 2), 1.0);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, busbw_factor("all_to_all", 2));
    }
    void fit_recovers_alpha_and_beta() {
        // Exact data from T = 2(p-1)a + 2(p-1)/p n b with a = 5 us, b = 0.1 ns/B, p = 2 and 4.
        const double a = 5e-6, b = 1e-10;
        std::vector<CollectiveSample> s;
        for (int p : {2, 4})
            for (std::int64_t n : {4096, 65536, 1 << 20, 16 << 20}) {
                const CostTerms t = cost_terms("all_reduce", p);
                s.push_back({"all_reduce", p, n, t.a * a + t.b * static_cast<double>(n) * b, 10});
            }
        s.push_back({"broadcast", 2, 4096, 1.0, 1});  // another collective: ignored
        const AlphaBeta f = fit_alpha_beta("all_reduce", s);
        QCOMPARE(f.samples, 8);
        QVERIFY2(std::abs(f.alpha_s - a) < 1e-12, std::to_string(f.alpha_s).c_str());
        QVERIFY2(std::abs(f.beta_s_per_byte - b) < 1e-16, std::to_string(f.beta_s_per_byte).c_str());
        QVERIFY(f.rel_rms < 1e-9);
        QVERIFY(!f.alpha_clamped);
        // Noise-free data without latency: alpha is 0, not negative.
        std::vector<CollectiveSample> bw;
        for (std::int64_t n : {1 << 20, 4 << 20, 16 << 20}) bw.push_back({"send_recv", 2, n, static_cast<double>(n) * 2e-10 * 1.01 - 1e-6, 5});
        const AlphaBeta g = fit_alpha_beta("send_recv", bw);
        QVERIFY(g.alpha_s >= 0);
        QVERIFY(g.beta_s_per_byte > 1.9e-10 && g.beta_s_per_byte < 2.1e-10);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fit_alpha_beta("all_reduce", {s[0]}));
    }
    void sizes() {
        QCOMPARE(parse_sizes("4K:32K"), (std::vector<std::int64_t>{4096, 8192, 16384, 32768}));
        QCOMPARE(parse_sizes("1M,64,4K"), (std::vector<std::int64_t>{64, 4096, 1 << 20}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_sizes("4X"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_sizes("1M:4K"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_sizes("0"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_sizes("1,,2"));
    }
    void hardware_file_has_busbw_and_fits() {
        nlohmann::json raw = {{"created_unix_ns", 1},
                              {"ranks", 2},
                              {"hosts", {"vm"}},
                              {"compute", {{"sgemm_flops", 4e10}}},
                              {"memory", {{"bandwidth_bytes_per_s", 2e10}}},
                              {"samples",
                               {{{"collective", "all_reduce"}, {"p", 2}, {"bytes", 1000}, {"time_s", 1e-6}},
                                {{"collective", "all_reduce"}, {"p", 2}, {"bytes", 100000}, {"time_s", 2e-5}}}}};
        const auto hw = hardware_file(raw, true);
        QCOMPARE(hw["format"].get<std::string>(), std::string("scalescope-hardware"));
        QCOMPARE(hw["oversubscribed"].get<bool>(), true);
        const auto& m = hw["measurements"][1];
        QCOMPARE(m["algbw_bytes_per_s"].get<double>(), 100000 / 2e-5);
        QCOMPARE(m["busbw_bytes_per_s"].get<double>(), 100000 / 2e-5 * 1.0);  // 2(p-1)/p = 1 at p = 2
        QVERIFY(hw["collectives"].contains("all_reduce"));
        QVERIFY(!hw["collectives"].contains("broadcast"));
        raw.erase("memory");
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, hardware_file(raw, false));
    }
    void half_rows_fit_recovers_hockney() {
        // r(M) = 100 GFLOP/s · M / (M + 12): recovered exactly from noise-free rates
        std::vector<double> rows{16, 32, 64, 128, 256, 512, 1024}, flops;
        for (double m : rows) flops.push_back(1e11 * m / (m + 12));
        const RowsFit f = fit_half_rows(rows, flops);
        QVERIFY(std::abs(f.half_rows - 12) < 1e-6);
        QVERIFY(std::abs(f.peak_flops - 1e11) < 1e-2);
        QVERIFY(f.rel_rms < 1e-9);
        // no dependence on rows: M½ = 0, the mean rate
        const RowsFit flat = fit_half_rows({16, 1024}, {5e10, 5e10});
        QCOMPARE(flat.half_rows, 0.0);
        QVERIFY(std::abs(flat.peak_flops - 5e10) < 1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fit_half_rows({64, 64}, {1e10, 2e10}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fit_half_rows({64, 128}, {1e10, 0}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fit_half_rows({64, 128}, {1e10}));
        // hardware_file fits every shape and keeps the median M½; the non-blocking all-reduce is fitted too
        nlohmann::json raw = {{"created_unix_ns", 1}, {"ranks", 2}, {"hosts", {"vm"}},
                              {"memory", {{"bandwidth_bytes_per_s", 2e10}}},
                              {"overlap", {{"fraction", 0.25}}},
                              {"samples",
                               {{{"collective", "iall_reduce"}, {"p", 2}, {"bytes", 1000}, {"time_s", 2e-6}},
                                {{"collective", "iall_reduce"}, {"p", 2}, {"bytes", 100000}, {"time_s", 5e-5}}}}};
        nlohmann::json shapes = nlohmann::json::array();
        for (double h : {8.0, 30.0, 11.0}) {
            std::vector<double> r;
            for (double m : rows) r.push_back(9e10 * m / (m + h));
            shapes.push_back({{"shape", {256, 256}}, {"rows", rows}, {"flops", r}});
        }
        raw["compute"] = {{"sgemm_flops", 4e10}, {"linear_rows", {{"shapes", shapes}}}};
        const auto hw = hardware_file(raw, false);
        QVERIFY(std::abs(hw["compute"]["linear_rows"]["half_rows"].get<double>() - 11.0) < 1e-6);
        QVERIFY(std::abs(hw["compute"]["linear_rows"]["shapes"][1]["half_rows"].get<double>() - 30.0) < 1e-6);
        QVERIFY(hw["collectives"].contains("iall_reduce"));
        QCOMPARE(hw["overlap"]["fraction"].get<double>(), 0.25);
        QVERIFY(!hw.contains("warnings"));
        // ranks that halve each other's sgemm rate when computing together: a warning naming it
        raw["compute"]["all_ranks"] = {{"ranks", 2}, {"sgemm_flops_mean", 2.2e10}};
        const auto warned = hardware_file(raw, false);
        QVERIFY(warned.contains("warnings"));
        const std::string msg = warned["warnings"][0].get<std::string>();
        QVERIFY2(msg.find("only 55 %") != std::string::npos && msg.find("share cores") != std::string::npos, msg.c_str());
    }
};

QTEST_GUILESS_MAIN(TestLauncher)
#include "tst_core_launcher.moc"

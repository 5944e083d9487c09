// The launcher (DESIGN.md, "Data flow of one run", step 2): builds the `mpirun` command for a
// spec's launch section, starts it without a shell in its own session, streams rank 0's JSON
// progress lines to a callback, captures every rank's output in the run folder, cancels cleanly
// and merges the rank trace files into the output trace file. docs/LAUNCH.md is the user guide.
//
// Pieces, from pure to effectful (the pure ones are unit-tested one by one):
//   parse_hostfile / parse_host_list / parse_slurm_cpus   slot counts (Open MPI's rules)
//   build_mpirun_argv                                     the argument list for one launch form
//   plan_mpirun / plan_run_command                        the one command builder (reads the host file)
//   parse_tagged_line / parse_progress_line               mpirun --tag-output lines, progress JSON
//   find_failing_rank / describe_failure                  why a job failed, from its output
//   run_mpi_job                                           spawn, stream, timeout, cancel, reap
//   launch_run                                            one training run into a trace file
//
// Open MPI only: the command uses Open MPI's mpirun options (--tag-output, --oversubscribe,
// --allow-run-as-root, -x). No Qt here.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec/run_record.h"
#include "core/spec/spec.h"
#include "traces/types.h"

namespace ss::core {

// ---------------------------------------------------------------------------------------------
// Where we launch from.

struct LaunchEnvironment {
    bool is_root = false;         // effective uid 0: Open MPI refuses to run without a flag
    int local_cores = 1;          // cores this process may run on (sched_getaffinity)
    std::string local_hostname;   // gethostname()
    // The environment variables the launcher reads (SLURM_JOB_ID, SLURM_NTASKS,
    // SLURM_JOB_CPUS_PER_NODE, SLURM_JOB_NODELIST, SCALESCOPE_MPIRUN, SCALESCOPE_WORKER).
    std::map<std::string, std::string> vars;

    // This process's facts. Throws std::runtime_error naming the failing call.
    static LaunchEnvironment current();
    const std::string* var(const std::string& name) const;
};

// ---------------------------------------------------------------------------------------------
// Slots (Open MPI's unit of "one process may run here").

struct HostSlots {
    std::string host;
    int slot_count = -1;  // -1: not stated (Open MPI then uses that node's core count, unknown here)
    bool operator==(const HostSlots&) const = default;
};

// An Open MPI host file: one host per line, optional `slots=N` and `max_slots=N`, `#` comments.
// A host given on several lines adds up its slots. Throws std::invalid_argument naming `source`
// and the line for a bad `slots` value or an unknown keyword.
std::vector<HostSlots> parse_hostfile(std::string_view text, const std::string& source);
// `--host` entries ("node1:4", "node2"): Open MPI gives an entry without ":N" one slot. Throws
// std::invalid_argument naming the entry for an empty host or a bad count.
std::vector<HostSlots> parse_host_list(const std::vector<std::string>& entries);
// SLURM_JOB_CPUS_PER_NODE ("4(x2),2" = 4+4+2 = 10). nullopt for text that is not that format.
std::optional<int> parse_slurm_cpus(std::string_view text);

// ---------------------------------------------------------------------------------------------
// The command.

struct MpirunRequest {
    std::string mpirun = "mpirun";      // program name or path (posix_spawnp searches PATH)
    int ranks = 1;                      // -np
    LaunchSpec launch;                  // hosts, hostfile, mpirun_args, env
    std::optional<std::string> hostfile_text;  // contents of launch.hostfile (counts its slots)
    std::vector<std::string> program;   // the rank program and its arguments
};

struct MpirunPlan {
    std::vector<std::string> argv;  // argv[0] = the mpirun program
    int ranks = 0;
    int slot_count = -1;        // slots the ranks go to; -1 when not known
    std::string slots_source;   // where slot_count came from, in words
    bool oversubscribed = false;  // ranks > slots: `--oversubscribe` added; timings are contended
    bool slurm = false;           // launched inside a Slurm allocation
    std::vector<std::string> hosts;  // host names named by the command (empty: local or Slurm's)
    std::vector<std::string> notes;  // decisions worth telling the user
};

// The argument list for one launch, never a shell string:
//   mpirun [--allow-run-as-root] --tag-output -np N [--oversubscribe] [--hostfile F]
//          [--host h1:4,h2] [-x NAME=VALUE ...] [launch.mpirun_args ...] PROGRAM ARGS...
// Slots: the host list (":N", default 1) and host file ("slots=N") add up; when neither is given,
// a Slurm allocation's task count (SLURM_NTASKS, else SLURM_JOB_CPUS_PER_NODE), else the local
// cores. Inside Slurm (SLURM_JOB_ID set) nothing else is added: Open MPI's mpirun reads the
// allocation itself and starts its daemons with srun. Throws std::invalid_argument for bad
// inputs (ranks < 1, empty program, bad host entries).
MpirunPlan build_mpirun_argv(const MpirunRequest& request, const LaunchEnvironment& env);

// The mpirun program a launch uses: $SCALESCOPE_MPIRUN (env.vars), else "mpirun" on PATH.
std::string mpirun_program(const LaunchEnvironment& env);

// THE builder of a launch's command: every command ScaleScope starts or shows comes from here,
// so what is shown is what runs. Reads launch.hostfile (its slots decide --oversubscribe), takes
// the host list and the Slurm environment from `env`, then build_mpirun_argv. Throws
// std::runtime_error naming the file when launch.hostfile cannot be read, else what
// build_mpirun_argv throws.
MpirunPlan plan_mpirun(const std::string& mpirun, int ranks, const LaunchSpec& launch,
                       std::vector<std::string> program, const LaunchEnvironment& env);

// A training run's command, `mpirun ... WORKER <run_dir>/spec.json` with the spec's world as
// ranks, through plan_mpirun. Used by launch_run (what runs), `scalescope-cli run --dry-run`,
// study_commands (`study --dry-run`) and the Experiment page's Command box.
MpirunPlan plan_run_command(const ExperimentSpec& spec, const std::string& run_dir, const std::string& worker,
                            const std::string& mpirun, const LaunchEnvironment& env);

// ---------------------------------------------------------------------------------------------
// Output of a job.

enum class Stream { Stdout, Stderr, Mpirun };

// One line of `mpirun --tag-output` output: "[1,3]<stderr>:text" is rank 3's stderr; lines
// without a tag (mpirun's own messages) are Stream::Mpirun with rank -1.
struct TaggedLine {
    int rank = -1;
    Stream stream = Stream::Mpirun;
    std::string text;
    bool operator==(const TaggedLine&) const = default;
};
// Open MPI 4 writes "[JOBID,RANK]<stdout>:" / "<stderr>:" (Open MPI 5 adds a space after the ':';
// one leading space is removed).
TaggedLine parse_tagged_line(std::string_view line);

// One progress line of rank 0 (scalescope-worker JSON lines).
struct Progress {
    enum class Kind { Start, Step, Eval, Summary, Other };
    Kind kind = Kind::Other;
    std::int64_t step = -1;
    double loss = 0;
    double rate = 0;           // samples_per_s or tokens_per_s
    std::string rate_unit;     // "samples/s" | "tokens/s" | ""
    double elapsed_s = 0;
    double step_time_s = 0;
    std::optional<double> accuracy;  // eval / summary of the mlp
    nlohmann::json raw;        // the whole object
};
// nullopt for text that is not a JSON object with a string "event" (a rank may print anything).
std::optional<Progress> parse_progress_line(std::string_view text);

// Which rank made the job fail, from mpirun's own messages ("MPI_ABORT was invoked on rank 1",
// "process rank 1 with PID 0 on node x exited on signal 9 (Killed)", "Process name: [[5,1],1]").
struct RankFailure {
    int rank = -1;
    std::string how;  // "called MPI_Abort (error code 1)", "was killed by signal 9 (Killed)", ...
    bool operator==(const RankFailure&) const = default;
};
std::optional<RankFailure> find_failing_rank(const std::vector<std::string>& mpirun_lines);

// ---------------------------------------------------------------------------------------------
// Running a job.

// Set from any thread (or a signal handler) to cancel; the job notices within ~0.1 s.
using CancelFlag = std::atomic<bool>;

struct JobOptions {
    std::string run_dir;     // stdout.log, stderr.log and mpirun.log go here (created if missing)
    double timeout_s = 0;    // 0 = none
    double grace_s = 5;      // SIGTERM -> SIGKILL delay on cancel / timeout
    const CancelFlag* cancel = nullptr;
    std::function<void(const Progress&)> on_progress;          // rank 0's JSON lines
    std::function<void(const TaggedLine&)> on_line;            // every line (after logging)
    std::function<void(pid_t session)> on_started;             // mpirun's pid = its session id
};

struct JobResult {
    int exit_code = -1;     // mpirun's exit status; -1 when it was ended by a signal
    int term_signal = 0;    // the signal that ended mpirun, 0 if none
    bool cancelled = false;
    bool timed_out = false;
    double wall_s = 0;
    pid_t session = -1;     // mpirun's session (and process group) id
    std::vector<pid_t> process_groups;  // every process group seen in the session (mpirun and ranks)
    std::vector<std::string> survivors;  // processes still alive after the last SIGKILL (should be none)
    std::optional<RankFailure> failing_rank;
    std::map<int, std::deque<std::string>> stderr_tail;  // last lines of each rank's stderr
    std::deque<std::string> mpirun_tail;                 // last lines mpirun printed itself
    std::optional<nlohmann::json> summary;               // rank 0's "summary" line
    std::int64_t last_step = -1;                         // last "step" line of rank 0
    std::vector<std::string> mpirun_lines;               // mpirun's own lines (for find_failing_rank)
    bool ok() const { return exit_code == 0 && !cancelled && !timed_out; }
};

// Runs argv (argv[0] through PATH) in a new session (so that mpirun and every local rank, which
// Open MPI puts in process groups of their own, stay findable), stdin from /dev/null, stdout and
// stderr through pipes. Lines are logged in `run_dir` and passed to the callbacks. On cancel or
// timeout: SIGTERM to mpirun (which ends its ranks), SIGKILL to everything left in the session
// after `grace_s`. When mpirun ends by itself, leftovers of the session are ended the same way.
// Makes this process a child subreaper (Linux) so orphaned ranks are reaped here, never left as
// zombies. Throws std::runtime_error naming the OS call and location when one fails.
JobResult run_mpi_job(const std::vector<std::string>& argv, const JobOptions& options);

// The failure reason of a job that did not succeed: which rank, how, and the last `lines` lines
// of its stderr (or of mpirun's output when no rank is known). Empty for a successful job.
std::string describe_failure(const JobResult& job, std::int64_t total_steps = -1, int lines = 6);

// ---------------------------------------------------------------------------------------------
// One training run.

// What `--launcher slurm` asks of the scheduler (empty: Slurm's default); core/launch/slurm.h.
struct SlurmSubmit {
    std::string partition;  // --partition
    std::string time;       // --time (Slurm's formats: "10", "1:30:00", "2-0")
    std::string account;    // --account
    bool operator==(const SlurmSubmit&) const = default;
};

// One Slurm job as `scontrol show job -o ID` describes it (core/launch/slurm.h).
struct SlurmJobState {
    std::string id, state, reason, nodes, exit_code;  // JobId, JobState, Reason, NodeList, ExitCode ("1:0")
    // COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, BOOT_FAIL, DEADLINE
    bool ended() const;
    int exit_status() const;  // ExitCode's first number, 0 when absent
    bool operator==(const SlurmJobState&) const = default;
};

struct RunRequest {
    ExperimentSpec spec;      // validated by the caller (validate(spec, -1, true))
    std::string output;       // trace file: created, or appended to
    std::string run_dir;      // the run folder: resolved spec, rank files, logs (created)
    std::string worker;       // path of scalescope-worker (find_program("scalescope-worker"))
    std::string mpirun = "mpirun";
    const CancelFlag* cancel = nullptr;
    std::function<void(const Progress&)> on_progress;
    std::function<void(const TaggedLine&)> on_line;
    std::function<void(const MpirunPlan&)> on_plan;  // before starting (print the command)
    std::function<void(pid_t session)> on_started;
    double grace_s = 5;
    LaunchEnvironment env;     // LaunchEnvironment::current() for real runs
    // Submit with sbatch instead of starting mpirun here (core/launch/slurm.h); ignored inside an
    // allocation (SLURM_JOB_ID set), where mpirun runs on it directly.
    std::optional<SlurmSubmit> slurm;
};

struct RunOutcome {
    traces::RunStatus status = traces::RunStatus::Failed;
    std::string failure_reason;
    traces::RunId run;          // the run in `output`
    MpirunPlan plan;
    JobResult job;
    int rank_files = 0;         // rank trace files merged
    std::vector<std::string> warnings;  // from the merge
    std::optional<SlurmJobState> slurm;  // a submitted run: its job's last state (id, nodes, reason, exit)
};

// Writes the resolved spec (trace.dir = run_dir) to `<run_dir>/spec.json`, runs
// `mpirun ... WORKER <run_dir>/spec.json`, then merges `<run_dir>/rank-*.sqlite` into `output` as
// one run: completed, failed (with describe_failure's reason) or cancelled. When no rank file
// exists (the worker refused the spec, tracing was off, a rank died before its first flush) the
// run is still recorded, from the spec, with rank 0's progress lines as metrics. Throws
// std::runtime_error only for problems before the start (run folder, spec file) or when the
// output cannot be written.
RunOutcome launch_run(const RunRequest& request);

// Finds a ScaleScope program: $SCALESCOPE_WORKER (for scalescope-worker) or
// $SCALESCOPE_CALIBRATE_RANK, then next to this executable, then in the build tree's sibling
// folders (../worker, ../cli), then PATH. Throws std::runtime_error listing where it looked.
std::string find_program(const std::string& name);

}  // namespace ss::core

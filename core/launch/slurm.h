// Slurm as a launch engine (docs/LAUNCH.md "Slurm"; issue 20): a run is submitted with `sbatch`
// as a job script the user can read (saved in the run folder as job.sbatch) whose one command is
// the run's `mpirun` (which reads the allocation itself), then followed until it ends.
//
// The follower (`scalescope-cli slurm-follow SCRIPT`, follow_slurm_job below) is the process the
// launcher's run_mpi_job starts in place of mpirun: it submits, prints the job's state changes as
// "slurm: ..." lines (mpirun's own stream), copies the job's output file (mpirun --tag-output
// lines) to its stdout as it grows, so rank 0's progress streams as in a local run, and on SIGTERM
// (cancel, timeout) cancels the job with `scancel` and keeps following until it has ended. It exits
// with the job's exit code. Everything else (logs, progress, cancel, merge) is the local path.
// No Qt here.
#pragma once

#include <atomic>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/launch/launcher.h"

namespace ss::core {

// The job script of a run: `#SBATCH` lines (job name, one task per rank, the output file
// `<run_dir>/slurm-%j.out`, the run folder as working directory, partition/time/account when given)
// and `exec` of `mpirun_argv`, every word single-quoted. Throws std::invalid_argument for ranks < 1,
// an empty command, or a value holding a newline.
std::string slurm_job_script(const std::vector<std::string>& mpirun_argv, int ranks, const SlurmSubmit& submit,
                             const std::string& run_dir, const std::string& job_name);

// A run submitted from outside an allocation: its mpirun plan as it runs inside the job (mpirun reads
// the allocation: no host or slot arguments), and the job script around it (job name
// "scalescope-<spec name>"). nullopt when the run is not submitted: no Slurm asked for, or `env`
// is already inside an allocation (SLURM_JOB_ID), where mpirun runs on it directly. launch_run,
// `run --dry-run` and the Experiment page's Command box all take the script from here.
struct SubmittedRun {
    MpirunPlan plan;
    std::string script;
};
std::optional<SubmittedRun> plan_submitted_run(const ExperimentSpec& spec, const std::string& run_dir,
                                               const std::string& worker, const std::string& mpirun,
                                               const LaunchEnvironment& env, const std::optional<SlurmSubmit>& slurm);

// Parses the one line of `scontrol show job -o`: space-separated KEY=VALUE tokens. nullopt when the
// line has no JobId (e.g. "slurm_load_jobs error: Invalid job id specified").
std::optional<SlurmJobState> parse_scontrol_job(std::string_view line);

// "slurm: job 12 RUNNING on node1 (reason None, exit 0:0)": the line the follower prints on each
// change, and its parser (launch_run records the last one: job id, nodes, the failing reason).
std::string slurm_state_line(const SlurmJobState& s);
std::optional<SlurmJobState> parse_slurm_state_line(std::string_view line);

// The job id `sbatch --parsable` printed ("12" or "12;cluster"); throws std::runtime_error quoting
// the text when it is not one.
std::string parse_sbatch_id(std::string_view out);

// A program's exit status and output, started without a shell (posix_spawnp). Throws
// std::runtime_error naming the OS call and location when it cannot be started.
struct CommandOutput {
    int exit_code = -1;  // -1: ended by a signal
    std::string out, err;
};
CommandOutput run_command(const std::vector<std::string>& argv);

// The follower: submits `script` (sbatch --parsable), then every `poll_s` reads the job's state
// (scontrol), prints changes as slurm_state_line to `err`, copies new complete lines of
// `<run_dir>/slurm-<id>.out` to `out`; when `cancel` becomes true, runs `scancel ID` once and goes on
// following. Returns the job's final state (exit status: exit_status(); a cancelled job's state is
// CANCELLED). Throws std::runtime_error when sbatch fails (its message quoted) or the job vanishes
// without a final state.
SlurmJobState follow_slurm_job(const std::string& script, const std::string& run_dir, std::ostream& out,
                               std::ostream& err, const std::atomic<bool>& cancel, double poll_s = 0.5);

}  // namespace ss::core

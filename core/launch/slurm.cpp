#include "core/launch/slurm.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ss::core {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void throw_os(const char* call, int err, const char* file, int line, const std::string& context) {
    throw std::runtime_error(std::string(call) + " failed at " + fs::path(file).filename().string() + ":" +
                             std::to_string(line) + " (" + context + "): " + std::strerror(err));
}
#define SS_OS_FAIL(call, err, context) throw_os(call, err, __FILE__, __LINE__, context)

// 'word' for a POSIX shell: single quotes, an embedded ' as '\''.
std::string quoted(const std::string& w) {
    std::string q = "'";
    for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

void no_newline(const std::string& what, const std::string& v) {
    if (v.find_first_of("\r\n") != std::string::npos)
        throw std::invalid_argument("slurm job script: " + what + " holds a line break: '" + v + "'");
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

}  // namespace

std::string slurm_job_script(const std::vector<std::string>& argv, int ranks, const SlurmSubmit& submit,
                             const std::string& run_dir, const std::string& job_name) {
    if (ranks < 1) throw std::invalid_argument("slurm job script: ranks must be >= 1, got " + std::to_string(ranks));
    if (argv.empty()) throw std::invalid_argument("slurm job script: no command");
    for (const auto& [what, v] : {std::pair{"the job name", job_name}, std::pair{"the run folder", run_dir},
                                  std::pair{"--partition", submit.partition}, std::pair{"--time", submit.time},
                                  std::pair{"--account", submit.account}})
        no_newline(what, v);
    for (const auto& w : argv) no_newline("a word of the command", w);
    std::string s = "#!/bin/bash\n";
    s += "# A ScaleScope run submitted with sbatch (scalescope-cli run --launcher slurm): one task per rank;\n"
         "# mpirun reads the allocation and starts the ranks on its nodes.\n";
    s += "#SBATCH --job-name=" + job_name + "\n";
    s += "#SBATCH --ntasks=" + std::to_string(ranks) + "\n";
    s += "#SBATCH --output=" + (fs::path(run_dir) / "slurm-%j.out").string() + "\n";
    s += "#SBATCH --chdir=" + run_dir + "\n";
    if (!submit.partition.empty()) s += "#SBATCH --partition=" + submit.partition + "\n";
    if (!submit.time.empty()) s += "#SBATCH --time=" + submit.time + "\n";
    if (!submit.account.empty()) s += "#SBATCH --account=" + submit.account + "\n";
    s += "exec";
    for (const auto& w : argv) s += " " + quoted(w);
    return s + "\n";
}

std::optional<SubmittedRun> plan_submitted_run(const ExperimentSpec& spec, const std::string& run_dir,
                                               const std::string& worker, const std::string& mpirun,
                                               const LaunchEnvironment& env, const std::optional<SlurmSubmit>& slurm) {
    if (!slurm || env.var("SLURM_JOB_ID")) return std::nullopt;
    LaunchEnvironment in_job = env;  // planned as inside the allocation the job gets
    in_job.vars["SLURM_JOB_ID"] = "(sbatch)";
    in_job.vars["SLURM_NTASKS"] = std::to_string(spec.parallel.world());
    SubmittedRun r;
    r.plan = plan_run_command(spec, run_dir, worker, mpirun, in_job);
    r.script = slurm_job_script(r.plan.argv, r.plan.ranks, *slurm, run_dir,
                                "scalescope-" + (spec.name.empty() ? std::string("run") : spec.name));
    return r;
}

bool SlurmJobState::ended() const {
    for (const char* t : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
                          "BOOT_FAIL", "DEADLINE"})
        if (state == t) return true;
    return false;
}

int SlurmJobState::exit_status() const {
    try {
        return exit_code.empty() ? 0 : std::stoi(exit_code.substr(0, exit_code.find(':')));
    } catch (const std::exception&) {
        return 0;
    }
}

std::optional<SlurmJobState> parse_scontrol_job(std::string_view line) {
    SlurmJobState s;
    bool has_id = false;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        std::size_t j = line.find(' ', i);
        if (j == std::string_view::npos) j = line.size();
        const std::string_view tok = line.substr(i, j - i);
        const auto eq = tok.find('=');
        if (eq != std::string_view::npos) {
            const std::string_view k = tok.substr(0, eq);
            const std::string v(tok.substr(eq + 1));
            if (k == "JobId") s.id = v, has_id = true;
            else if (k == "JobState") s.state = v;
            else if (k == "Reason") s.reason = v;
            else if (k == "NodeList") s.nodes = v;
            else if (k == "ExitCode") s.exit_code = v;
        }
        i = j;
    }
    if (!has_id) return std::nullopt;
    return s;
}

std::string slurm_state_line(const SlurmJobState& s) {
    return "slurm: job " + s.id + " " + s.state + " on " + (s.nodes.empty() || s.nodes == "(null)" ? "-" : s.nodes) +
           " (reason " + (s.reason.empty() ? "None" : s.reason) + ", exit " + (s.exit_code.empty() ? "-" : s.exit_code) +
           ")";
}

std::optional<SlurmJobState> parse_slurm_state_line(std::string_view line) {
    const std::string l = trim(line);
    const std::string head = "slurm: job ";
    if (l.rfind(head, 0) != 0) return std::nullopt;
    SlurmJobState s;
    std::size_t i = head.size();
    auto word = [&](char end) {
        const std::size_t j = l.find(end, i);
        if (j == std::string::npos) return std::string();
        std::string w = l.substr(i, j - i);
        i = j + 1;
        return w;
    };
    s.id = word(' ');
    s.state = word(' ');
    if (l.compare(i, 3, "on ") != 0) return std::nullopt;
    i += 3;
    s.nodes = word(' ');
    if (s.nodes == "-") s.nodes.clear();
    if (l.compare(i, 8, "(reason ") != 0) return std::nullopt;
    i += 8;
    s.reason = word(',');
    if (l.compare(i, 6, " exit ") != 0) return std::nullopt;
    i += 6;
    s.exit_code = word(')');
    if (s.exit_code == "-") s.exit_code.clear();
    if (s.id.empty() || s.state.empty()) return std::nullopt;
    return s;
}

std::string parse_sbatch_id(std::string_view out) {
    const std::string t = trim(out);
    const std::string id = t.substr(0, t.find(';'));
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        throw std::runtime_error("sbatch --parsable printed '" + t + "', not a job id");
    return id;
}

CommandOutput run_command(const std::vector<std::string>& argv) {
    if (argv.empty()) throw std::invalid_argument("run_command: empty command");
    int out_p[2], err_p[2];
    if (::pipe2(out_p, O_CLOEXEC) != 0) SS_OS_FAIL("pipe2", errno, argv[0] + "'s stdout");
    if (::pipe2(err_p, O_CLOEXEC) != 0) {
        const int e = errno;
        ::close(out_p[0]);
        ::close(out_p[1]);
        SS_OS_FAIL("pipe2", e, argv[0] + "'s stderr");
    }
    posix_spawn_file_actions_t fa;
    int rc = ::posix_spawn_file_actions_init(&fa);
    if (rc == 0) rc = ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
    if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
    if (rc != 0) {
        for (int fd : {out_p[0], out_p[1], err_p[0], err_p[1]}) ::close(fd);
        SS_OS_FAIL("posix_spawn_file_actions", rc, "preparing to start " + argv[0]);
    }
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = -1;
    rc = ::posix_spawnp(&pid, argv[0].c_str(), &fa, nullptr, cargv.data(), environ);
    ::posix_spawn_file_actions_destroy(&fa);
    ::close(out_p[1]);
    ::close(err_p[1]);
    if (rc != 0) {
        ::close(out_p[0]);
        ::close(err_p[0]);
        if (rc == ENOENT)
            throw std::runtime_error("cannot start '" + argv[0] + "': not found on PATH (Slurm's commands come with the "
                                     "Debian package slurm-client or slurm-wlm)");
        SS_OS_FAIL("posix_spawnp", rc, "starting " + argv[0]);
    }
    CommandOutput r;
    pollfd fds[2] = {{out_p[0], POLLIN, 0}, {err_p[0], POLLIN, 0}};
    std::string* dst[2] = {&r.out, &r.err};
    int open = 2;
    char buf[4096];
    while (open > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            SS_OS_FAIL("poll", errno, "reading " + argv[0]);
        }
        for (int k = 0; k < 2; ++k) {
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
            if (n > 0) {
                dst[k]->append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[k].fd);
                fds[k].fd = -1;
                --open;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) SS_OS_FAIL("waitpid", errno, "waiting for " + argv[0]);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

SlurmJobState follow_slurm_job(const std::string& script, const std::string& run_dir, std::ostream& out,
                               std::ostream& err, const std::atomic<bool>& cancel, double poll_s) {
    const CommandOutput sub = run_command({"sbatch", "--parsable", script});
    if (sub.exit_code != 0)
        throw std::runtime_error("sbatch " + script + " failed (exit " + std::to_string(sub.exit_code) + "): " +
                                 trim(sub.err.empty() ? sub.out : sub.err));
    const std::string id = parse_sbatch_id(sub.out);
    err << "slurm: submitted " << script << " as job " << id << std::endl;
    const fs::path output = fs::path(run_dir) / ("slurm-" + id + ".out");
    std::ifstream in;
    std::string partial;
    SlurmJobState last;
    last.id = id;
    bool cancelled = false;
    int missing = 0;
    auto copy_output = [&](bool final) {
        if (!in.is_open()) {
            in.open(output, std::ios::binary);
            if (!in.is_open()) return;
        }
        in.clear();
        std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        partial += chunk;
        std::size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
            out << partial.substr(0, nl + 1);
            partial.erase(0, nl + 1);
        }
        if (final && !partial.empty()) out << partial << '\n', partial.clear();
        out.flush();
    };
    while (true) {
        if (cancel.load() && !cancelled) {
            cancelled = true;
            const CommandOutput c = run_command({"scancel", id});
            err << "slurm: scancel " << id << (c.exit_code == 0 ? "" : " failed: " + trim(c.err)) << std::endl;
        }
        const CommandOutput q = run_command({"scontrol", "show", "job", "-o", id});
        const auto st = q.exit_code == 0 ? parse_scontrol_job(q.out) : std::nullopt;
        copy_output(false);
        if (st) {
            missing = 0;
            if (st->state != last.state || st->reason != last.reason || st->nodes != last.nodes)
                err << slurm_state_line(*st) << std::endl;
            last = *st;
            if (st->ended()) {
                copy_output(true);
                return last;
            }
        } else if (++missing * poll_s > 30) {
            throw std::runtime_error("slurm job " + id + " vanished: `scontrol show job " + id + "` answered '" +
                                     trim(q.err.empty() ? q.out : q.err) + "' for 30 s");
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
    }
}

}  // namespace ss::core

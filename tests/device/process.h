// Runs a program with a deadline and collects its output: what the plain C++ device tests need to
// start mpirun jobs (no Qt). POSIX only. Every failing system call throws with its name, errno
// text, file and line.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ss::check {

struct ProcessResult {
    int exit_code = -1;     // the program's exit status; 128 + signal when killed by one
    bool finished = false;  // false: killed at the deadline (a hang)
    double wall_s = 0;
    std::string out, err;
};

namespace detail {
[[noreturn]] inline void sys_fail(const char* call, const char* file, int line) {
    std::ostringstream s;
    s << call << " failed at " << file << ":" << line << ": " << std::strerror(errno);
    throw std::runtime_error(s.str());
}
}  // namespace detail

#define SS_SYS(call)                                                              \
    do {                                                                          \
        if ((call) < 0) ::ss::check::detail::sys_fail(#call, __FILE__, __LINE__); \
    } while (0)

// Runs argv[0] (searched in PATH) with argv, in its own process group (a hung mpirun is killed
// with every rank it started). The environment is inherited.
inline ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s) {
    if (argv.empty()) throw std::invalid_argument("run_process: empty argv");
    int out_pipe[2], err_pipe[2];
    SS_SYS(pipe(out_pipe));
    SS_SYS(pipe(err_pipe));
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid < 0) detail::sys_fail("fork()", __FILE__, __LINE__);
    if (pid == 0) {
        setpgid(0, 0);
        dup2(out_pipe[1], STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        close(out_pipe[0]);
        close(err_pipe[0]);
        close(out_pipe[1]);
        close(err_pipe[1]);
        std::vector<char*> args;
        for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        const std::string msg = "exec " + argv[0] + " failed: " + std::strerror(errno) + "\n";
        (void)!write(STDERR_FILENO, msg.data(), msg.size());
        _exit(127);
    }
    setpgid(pid, pid);  // also in the parent: no race with the first kill
    close(out_pipe[1]);
    close(err_pipe[1]);

    ProcessResult r;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&r.out, &r.err};
    int open_fds = 2;
    bool killed = false;
    const auto deadline = t0 + std::chrono::duration<double>(timeout_s);
    while (open_fds > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            kill(-pid, SIGKILL);
            killed = true;
            break;
        }
        const int n = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n < 0) {
            if (errno == EINTR) continue;
            detail::sys_fail("poll(fds, 2, ms)", __FILE__, __LINE__);
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            const ssize_t got = read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) detail::sys_fail("waitpid(pid, &status, 0)", __FILE__, __LINE__);
    }
    if (!killed) kill(-pid, SIGKILL);  // leftovers of the group (none after a clean mpirun)
    r.finished = !killed;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

#undef SS_SYS

}  // namespace ss::check

#include "core/launch/launcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/analysis/analysis_store.h"
#include "core/analysis/precompute.h"
#include "core/launch/slurm.h"
#include "core/spec/progress_protocol.h"
#include "traces/merge.h"
#include "traces/reader.h"
#include "traces/sqlite_util.h"
#include "traces/writer.h"

extern char** environ;

namespace ss::core {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Every OS call is checked; the error names the call, where it was made and what it was for.
[[noreturn]] void throw_os(const char* call, int err, const char* file, int line,
                           const std::string& context) {
    throw std::runtime_error(std::string(call) + " failed at " + fs::path(file).filename().string() +
                             ":" + std::to_string(line) + " (" + context + "): " +
                             std::strerror(err));
}
#define SS_OS_FAIL(call, err, context) throw_os(call, err, __FILE__, __LINE__, context)

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

std::optional<int> parse_positive(std::string_view s) {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
    return v;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t from = 0;
    while (true) {
        size_t at = s.find(sep, from);
        out.emplace_back(s.substr(from, at == std::string_view::npos ? s.size() - from : at - from));
        if (at == std::string_view::npos) break;
        from = at + 1;
    }
    return out;
}

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string format_seconds(double s) {
    char b[32];
    std::snprintf(b, sizeof b, s < 10 ? "%.2f s" : "%.1f s", s);
    return b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

LaunchEnvironment LaunchEnvironment::current() {
    LaunchEnvironment e;
    e.is_root = ::geteuid() == 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0)
        SS_OS_FAIL("sched_getaffinity", errno, "counting the cores this process may use");
    e.local_cores = std::max(1, CPU_COUNT(&set));
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0)
        SS_OS_FAIL("gethostname", errno, "naming the local host");
    e.local_hostname = host;
    for (const char* name : {"SLURM_JOB_ID", "SLURM_NTASKS", "SLURM_JOB_CPUS_PER_NODE",
                             "SLURM_JOB_NODELIST", "SLURM_JOB_NUM_NODES", "SCALESCOPE_MPIRUN",
                             "SCALESCOPE_WORKER", "SCALESCOPE_CALIBRATE_RANK", "OPENBLAS_CORETYPE"})
        if (const char* v = std::getenv(name)) e.vars[name] = v;
    return e;
}

const std::string* LaunchEnvironment::var(const std::string& name) const {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------------------------

std::vector<HostSlots> parse_hostfile(std::string_view text, const std::string& source) {
    std::vector<HostSlots> out;
    std::map<std::string, size_t> index;
    int line_no = 0;
    for (const auto& raw : split(text, '\n')) {
        ++line_no;
        std::string line = raw.substr(0, raw.find('#'));
        std::istringstream in(line);
        std::string host, word;
        if (!(in >> host)) continue;
        int slots = -1;
        const std::string where = source + ":" + std::to_string(line_no) + ": ";
        while (in >> word) {
            const auto eq = word.find('=');
            const std::string key = word.substr(0, eq);
            if (eq == std::string::npos)
                throw std::invalid_argument(where + "'" + word + "' is not KEY=VALUE (expected "
                                            "slots=N or max_slots=N after the host name)");
            const auto n = parse_positive(std::string_view(word).substr(eq + 1));
            if (key == "slots" || key == "cpu" || key == "count") {
                if (!n) throw std::invalid_argument(where + "'" + word + "': slots must be a positive integer");
                slots = *n;
            } else if (key == "max_slots" || key == "max-slots") {
                if (!n) throw std::invalid_argument(where + "'" + word + "': max_slots must be a positive integer");
            } else {
                throw std::invalid_argument(where + "unknown keyword '" + key +
                                            "' (Open MPI host files take slots=N and max_slots=N)");
            }
        }
        auto it = index.find(host);
        if (it == index.end()) {
            index[host] = out.size();
            out.push_back({host, slots});
        } else {
            int& s = out[it->second].slot_count;
            s = (s < 0 || slots < 0) ? -1 : s + slots;
        }
    }
    if (out.empty()) throw std::invalid_argument(source + ": the host file names no host");
    return out;
}

std::vector<HostSlots> parse_host_list(const std::vector<std::string>& entries) {
    std::vector<HostSlots> out;
    for (size_t i = 0; i < entries.size(); ++i) {
        for (const auto& part : split(entries[i], ',')) {
            const std::string e = trim(part);
            const std::string where = "launch.hosts[" + std::to_string(i) + "]=\"" + entries[i] + "\"";
            if (e.empty()) throw std::invalid_argument(where + " has an empty host name");
            const auto colon = e.rfind(':');
            HostSlots h{e, 1};  // Open MPI: an entry without ":N" is one slot
            if (colon != std::string::npos) {
                h.host = e.substr(0, colon);
                const auto n = parse_positive(std::string_view(e).substr(colon + 1));
                if (h.host.empty()) throw std::invalid_argument(where + " has an empty host name");
                if (!n)
                    throw std::invalid_argument(where + ": the slot count after ':' must be a "
                                                "positive integer");
                h.slot_count = *n;
            }
            out.push_back(h);
        }
    }
    return out;
}

std::optional<int> parse_slurm_cpus(std::string_view text) {
    // "4(x2),2": 4 CPUs on each of 2 nodes, then 2 on one node.
    if (trim(text).empty()) return std::nullopt;
    long long total = 0;
    for (const auto& part : split(trim(text), ',')) {
        std::string_view p = part;
        int repeat = 1;
        if (auto lp = p.find('('); lp != std::string_view::npos) {
            if (p.size() < lp + 4 || p.substr(lp, 2) != "(x" || p.back() != ')') return std::nullopt;
            auto r = parse_positive(p.substr(lp + 2, p.size() - lp - 3));
            if (!r) return std::nullopt;
            repeat = *r;
            p = p.substr(0, lp);
        }
        auto n = parse_positive(p);
        if (!n) return std::nullopt;
        total += static_cast<long long>(*n) * repeat;
        if (total > 1 << 30) return std::nullopt;
    }
    return static_cast<int>(total);
}

// ---------------------------------------------------------------------------------------------

MpirunPlan build_mpirun_argv(const MpirunRequest& rq, const LaunchEnvironment& env) {
    if (rq.ranks < 1)
        throw std::invalid_argument("the rank count must be at least 1 (got " +
                                    std::to_string(rq.ranks) + ")");
    if (rq.program.empty() || rq.program[0].empty())
        throw std::invalid_argument("no rank program to start");
    if (rq.mpirun.empty()) throw std::invalid_argument("the mpirun program name is empty");
    const LaunchSpec& L = rq.launch;
    MpirunPlan plan;
    plan.ranks = rq.ranks;
    plan.slurm = env.var("SLURM_JOB_ID") != nullptr;

    // Slots the ranks are placed on, by Open MPI's rules.
    std::vector<HostSlots> hosts = parse_host_list(L.hosts);
    if (!L.hostfile.empty()) {
        if (rq.hostfile_text) {
            auto hf = parse_hostfile(*rq.hostfile_text, L.hostfile);
            hosts.insert(hosts.end(), hf.begin(), hf.end());
        } else {
            plan.notes.push_back("host file " + L.hostfile + " not read: its slots are not counted");
        }
    }
    if (!hosts.empty()) {
        int total = 0;
        bool known = rq.hostfile_text.has_value() || L.hostfile.empty();
        for (const auto& h : hosts) {
            plan.hosts.push_back(h.host);
            if (h.slot_count < 0) {
                const bool local = h.host == "localhost" || h.host == env.local_hostname ||
                                   h.host == "127.0.0.1";
                if (local) {
                    total += env.local_cores;  // Open MPI counts the node's cores
                } else {
                    known = false;
                    plan.notes.push_back("host " + h.host + " has no slots=N: Open MPI uses its "
                                         "core count, which is not known here");
                }
            } else {
                total += h.slot_count;
            }
        }
        if (known) {
            plan.slot_count = total;
            plan.slots_source = L.hostfile.empty() ? "launch.hosts" : "launch.hostfile and launch.hosts";
            if (L.hosts.empty()) plan.slots_source = "launch.hostfile";
        }
    } else if (plan.slurm) {
        if (const auto* n = env.var("SLURM_NTASKS"); n && parse_positive(*n)) {
            plan.slot_count = *parse_positive(*n);
            plan.slots_source = "Slurm allocation (SLURM_NTASKS)";
        } else if (const auto* c = env.var("SLURM_JOB_CPUS_PER_NODE"); c && parse_slurm_cpus(*c)) {
            plan.slot_count = *parse_slurm_cpus(*c);
            plan.slots_source = "Slurm allocation (SLURM_JOB_CPUS_PER_NODE)";
        } else {
            plan.notes.push_back("inside Slurm job " + *env.var("SLURM_JOB_ID") +
                                 " without SLURM_NTASKS or SLURM_JOB_CPUS_PER_NODE: slots unknown");
        }
        plan.notes.push_back("inside Slurm job " + *env.var("SLURM_JOB_ID") +
                             ": mpirun places the ranks on the allocation's nodes");
    } else {
        plan.slot_count = env.local_cores;
        plan.slots_source = "local cores (sched_getaffinity)";
    }
    plan.oversubscribed = plan.slot_count > 0 && rq.ranks > plan.slot_count;

    auto& a = plan.argv;
    a.push_back(rq.mpirun);
    if (env.is_root) a.push_back("--allow-run-as-root");
    a.push_back("--tag-output");  // "[job,rank]<stdout>:" prefixes: who wrote each line
    a.push_back("-np");
    a.push_back(std::to_string(rq.ranks));
    if (plan.oversubscribed) {
        a.push_back("--oversubscribe");
        plan.notes.push_back(std::to_string(rq.ranks) + " ranks on " + std::to_string(plan.slot_count) +
                             " slots (" + plan.slots_source +
                             "): oversubscribed, timings are contended");
    }
    if (!L.hostfile.empty()) {
        a.push_back("--hostfile");
        a.push_back(L.hostfile);
    }
    if (!L.hosts.empty()) {
        std::string joined;
        for (const auto& h : L.hosts) joined += (joined.empty() ? "" : ",") + trim(h);
        a.push_back("--host");
        a.push_back(joined);
    }
    for (const auto& [name, value] : L.env) {
        if (name.empty() || name.find('=') != std::string::npos)
            throw std::invalid_argument("launch.env key \"" + name +
                                        "\" is not a valid environment variable name");
        a.push_back("-x");
        a.push_back(name + "=" + value);
    }
    // The OpenBLAS kernel: each rank picks its own CPU's best (kernels/blas_core.h) unless the user
    // chose one; that choice goes to every rank, remote ones included (launch.env names it first).
    if (const std::string* core = env.var("OPENBLAS_CORETYPE"); core && !core->empty() && !L.env.contains("OPENBLAS_CORETYPE")) {
        a.push_back("-x");
        a.push_back("OPENBLAS_CORETYPE=" + *core);
    }
    for (const auto& extra : L.mpirun_args) a.push_back(extra);
    for (const auto& p : rq.program) a.push_back(p);
    return plan;
}

std::string mpirun_program(const LaunchEnvironment& env) {
    const std::string* m = env.var("SCALESCOPE_MPIRUN");
    return m && !m->empty() ? *m : std::string("mpirun");
}

MpirunPlan plan_mpirun(const std::string& mpirun, int ranks, const LaunchSpec& launch,
                       std::vector<std::string> program, const LaunchEnvironment& env) {
    MpirunRequest mr;
    mr.mpirun = mpirun;
    mr.ranks = ranks;
    mr.launch = launch;
    mr.program = std::move(program);
    if (!launch.hostfile.empty()) {
        std::ifstream hf(launch.hostfile);
        if (!hf)
            throw std::runtime_error("launch.hostfile=" + launch.hostfile + " cannot be read: " +
                                     std::strerror(errno));
        std::stringstream ss;
        ss << hf.rdbuf();
        mr.hostfile_text = ss.str();
    }
    return build_mpirun_argv(mr, env);
}

MpirunPlan plan_run_command(const ExperimentSpec& spec, const std::string& run_dir, const std::string& worker,
                            const std::string& mpirun, const LaunchEnvironment& env) {
    return plan_mpirun(mpirun, spec.parallel.world(), spec.launch, {worker, (fs::path(run_dir) / "spec.json").string()},
                       env);
}

// ---------------------------------------------------------------------------------------------

TaggedLine parse_tagged_line(std::string_view line) {
    TaggedLine t;
    t.text = std::string(line);
    // [JOB,RANK]<stdout>:TEXT
    if (line.size() < 6 || line[0] != '[') return t;
    const auto comma = line.find(',');
    const auto close = line.find(']');
    if (comma == std::string_view::npos || close == std::string_view::npos || comma > close) return t;
    int job = 0, rank = 0;
    auto r1 = std::from_chars(line.data() + 1, line.data() + comma, job);
    auto r2 = std::from_chars(line.data() + comma + 1, line.data() + close, rank);
    if (r1.ec != std::errc() || r1.ptr != line.data() + comma || r2.ec != std::errc() ||
        r2.ptr != line.data() + close || rank < 0)
        return t;
    std::string_view rest = line.substr(close + 1);
    Stream s;
    if (rest.starts_with("<stdout>:")) s = Stream::Stdout;
    else if (rest.starts_with("<stderr>:") || rest.starts_with("<stddiag>:")) s = Stream::Stderr;
    else return t;
    rest = rest.substr(rest.find(':') + 1);
    if (rest.starts_with(' ')) rest.remove_prefix(1);
    t.rank = rank;
    t.stream = s;
    t.text = std::string(rest);
    return t;
}

std::optional<Progress> parse_progress_line(std::string_view text) {
    const std::string s = trim(text);
    if (s.empty() || s.front() != '{') return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains(progress::kEvent) || !j[progress::kEvent].is_string())
        return std::nullopt;
    Progress p;
    const std::string ev = j[progress::kEvent].get<std::string>();
    p.kind = ev == progress::kStartEvent     ? Progress::Kind::Start
             : ev == progress::kStepEvent    ? Progress::Kind::Step
             : ev == progress::kEvalEvent    ? Progress::Kind::Eval
             : ev == progress::kSummaryEvent ? Progress::Kind::Summary
                                             : Progress::Kind::Other;
    auto num = [&](const char* key, double& out) {
        if (j.contains(key) && j[key].is_number()) out = j[key].get<double>();
    };
    if (j.contains(progress::kStep) && j[progress::kStep].is_number_integer())
        p.step = j[progress::kStep].get<std::int64_t>();
    num(progress::kLoss, p.loss);
    if (p.kind == Progress::Kind::Summary) num(progress::kFinalLoss, p.loss);
    num(progress::kElapsed, p.elapsed_s);
    num(progress::kStepTime, p.step_time_s);
    if (p.kind == Progress::Kind::Summary) num(progress::kStepTimeMedian, p.step_time_s);
    if (j.contains(progress::kSamplesPerS) && j[progress::kSamplesPerS].is_number()) {
        p.rate = j[progress::kSamplesPerS].get<double>();
        p.rate_unit = "samples/s";
    } else if (j.contains(progress::kTokensPerS) && j[progress::kTokensPerS].is_number()) {
        p.rate = j[progress::kTokensPerS].get<double>();
        p.rate_unit = "tokens/s";
    }
    if (j.contains(progress::kAccuracy) && j[progress::kAccuracy].is_number())
        p.accuracy = j[progress::kAccuracy].get<double>();
    p.raw = std::move(j);
    return p;
}

std::optional<RankFailure> find_failing_rank(const std::vector<std::string>& lines) {
    std::optional<RankFailure> abort_, signal_, exit_;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        int rank = -1, code = 0, sig = 0;
        if (!abort_ && std::sscanf(l.c_str(), "MPI_ABORT was invoked on rank %d", &rank) == 1) {
            std::string how = "called MPI_Abort";
            for (size_t k = i; k < std::min(lines.size(), i + 3); ++k)
                if (auto at = lines[k].find("errorcode "); at != std::string::npos &&
                    std::sscanf(lines[k].c_str() + at, "errorcode %d", &code) == 1) {
                    how += " (error code " + std::to_string(code) + ")";
                    break;
                }
            abort_ = RankFailure{rank, how};
            continue;
        }
        if (auto at = l.find("process rank "); !signal_ && at != std::string::npos &&
            std::sscanf(l.c_str() + at, "process rank %d", &rank) == 1) {
            if (auto s = l.find("on signal "); s != std::string::npos &&
                std::sscanf(l.c_str() + s, "on signal %d", &sig) == 1) {
                std::string how = "was killed by signal " + std::to_string(sig);
                if (auto lp = l.find('(', s), rp = l.find(')', s);
                    lp != std::string::npos && rp != std::string::npos && rp > lp)
                    how += " " + l.substr(lp, rp - lp + 1);
                signal_ = RankFailure{rank, how};
            }
            continue;
        }
        // "  Process name: [[51207,1],1]" then "  Exit code:    2"
        if (auto at = l.find("Process name: [["); !exit_ && at != std::string::npos) {
            const auto close = l.find("],", at);
            if (close != std::string::npos &&
                std::sscanf(l.c_str() + close + 2, "%d", &rank) == 1) {
                std::string how = "exited with a non-zero status";
                for (size_t k = i + 1; k < std::min(lines.size(), i + 4); ++k)
                    if (auto e = lines[k].find("Exit code:"); e != std::string::npos &&
                        std::sscanf(lines[k].c_str() + e, "Exit code: %d", &code) == 1) {
                        how = "exited with status " + std::to_string(code);
                        break;
                    }
                exit_ = RankFailure{rank, how};
            }
        }
    }
    if (abort_) return abort_;
    if (signal_) return signal_;
    return exit_;
}

// ---------------------------------------------------------------------------------------------
// Processes of a session, from /proc (Linux).

namespace {

struct ProcEntry {
    pid_t pid = 0, ppid = 0, pgid = 0, sid = 0;
    char state = '?';
    std::string comm;
};

std::vector<ProcEntry> session_processes(pid_t sid) {
    std::vector<ProcEntry> out;
    DIR* d = ::opendir("/proc");
    if (!d) SS_OS_FAIL("opendir", errno, "listing /proc to find the job's processes");
    while (dirent* de = ::readdir(d)) {
        const auto pid = parse_positive(de->d_name);
        if (!pid) continue;
        std::ifstream f("/proc/" + std::string(de->d_name) + "/stat");
        std::string stat;
        if (!std::getline(f, stat)) continue;  // it ended meanwhile
        // pid (comm) state ppid pgrp session ...; comm may contain spaces and ')'.
        const auto lp = stat.find('('), rp = stat.rfind(')');
        if (lp == std::string::npos || rp == std::string::npos) continue;
        ProcEntry e;
        e.pid = *pid;
        e.comm = stat.substr(lp + 1, rp - lp - 1);
        int ppid = 0, pgid = 0, s = 0;
        if (std::sscanf(stat.c_str() + rp + 1, " %c %d %d %d", &e.state, &ppid, &pgid, &s) != 4)
            continue;
        e.ppid = ppid;
        e.pgid = pgid;
        e.sid = s;
        if (e.sid != sid) continue;
        // A leader thread that ended before the process's other threads (a rank's communication
        // or trace-writer thread still finishing) shows 'Z' while the process lives on: it is
        // "exiting" (alive, not yet reapable), not a zombie, until its last thread is gone.
        if (e.state == 'Z') {
            int threads = 0;
            if (DIR* t = ::opendir(("/proc/" + std::string(de->d_name) + "/task").c_str())) {
                while (dirent* te = ::readdir(t))
                    if (parse_positive(te->d_name)) ++threads;
                ::closedir(t);
            }
            if (threads > 1) e.state = 'E';
        }
        out.push_back(std::move(e));
    }
    ::closedir(d);
    return out;
}

// Reaps the session's zombies that are our children (orphaned ranks come to us as subreaper).
void reap_session_zombies(const std::vector<ProcEntry>& procs, pid_t self, pid_t leader) {
    for (const auto& p : procs)
        if (p.state == 'Z' && p.ppid == self && p.pid != leader) {
            int status = 0;
            (void)::waitpid(p.pid, &status, WNOHANG);  // ECHILD when reaped meanwhile: fine
        }
}

void signal_session(const std::vector<ProcEntry>& procs, int sig) {
    for (const auto& p : procs)
        if (p.state != 'Z' && ::kill(p.pid, sig) != 0 && errno != ESRCH)
            SS_OS_FAIL("kill", errno, "signal " + std::to_string(sig) + " to pid " +
                                          std::to_string(p.pid) + " (" + p.comm + ")");
}

// Accumulates bytes of one pipe into lines.
struct LineBuffer {
    std::string pending;
    bool eof = false;
    template <typename F>
    void feed(const char* data, size_t n, F&& on_line) {
        pending.append(data, n);
        size_t from = 0;
        for (size_t nl; (nl = pending.find('\n', from)) != std::string::npos; from = nl + 1)
            on_line(std::string_view(pending).substr(from, nl - from));
        pending.erase(0, from);
    }
    template <typename F>
    void finish(F&& on_line) {
        if (!pending.empty()) on_line(std::string_view(pending));
        pending.clear();
    }
};

class SpawnGuard {
public:
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    SpawnGuard() {
        if (int rc = ::posix_spawn_file_actions_init(&fa); rc != 0)
            SS_OS_FAIL("posix_spawn_file_actions_init", rc, "starting mpirun");
        if (int rc = ::posix_spawnattr_init(&attr); rc != 0) {
            ::posix_spawn_file_actions_destroy(&fa);
            SS_OS_FAIL("posix_spawnattr_init", rc, "starting mpirun");
        }
    }
    ~SpawnGuard() {
        ::posix_spawn_file_actions_destroy(&fa);
        ::posix_spawnattr_destroy(&attr);
    }
};

struct Fd {
    int fd = -1;
    ~Fd() { close(); }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

constexpr size_t kTailLines = 60;
constexpr size_t kMaxMpirunLines = 4000;

}  // namespace

JobResult run_mpi_job(const std::vector<std::string>& argv, const JobOptions& opt) {
    if (argv.empty()) throw std::invalid_argument("run_mpi_job: empty command");
    if (opt.run_dir.empty()) throw std::invalid_argument("run_mpi_job: no run folder");
    std::error_code ec;
    fs::create_directories(opt.run_dir, ec);
    if (ec) throw std::runtime_error("cannot create the run folder " + opt.run_dir + ": " + ec.message());
    auto open_log = [&](const char* name) {
        std::ofstream f(fs::path(opt.run_dir) / name, std::ios::app);
        if (!f) SS_OS_FAIL("open", errno, "log file " + (fs::path(opt.run_dir) / name).string());
        return f;
    };
    std::ofstream out_log = open_log("stdout.log"), err_log = open_log("stderr.log");

#ifdef PR_SET_CHILD_SUBREAPER
    // Orphaned ranks (their mpirun died) become our children, so we can end and reap them.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        SS_OS_FAIL("prctl(PR_SET_CHILD_SUBREAPER)", errno, "adopting orphaned ranks");
#endif

    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) SS_OS_FAIL("pipe2", errno, "mpirun's stdout");
    Fd out_r{out_pipe[0]}, out_w{out_pipe[1]};
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) SS_OS_FAIL("pipe2", errno, "mpirun's stderr");
    Fd err_r{err_pipe[0]}, err_w{err_pipe[1]};

    pid_t pid = -1;
    {
        SpawnGuard sg;
        auto check = [](int rc, const char* call) {
            if (rc != 0) SS_OS_FAIL(call, rc, "preparing to start mpirun");
        };
        check(::posix_spawn_file_actions_addopen(&sg.fa, 0, "/dev/null", O_RDONLY, 0),
              "posix_spawn_file_actions_addopen");
        check(::posix_spawn_file_actions_adddup2(&sg.fa, out_w.fd, 1), "posix_spawn_file_actions_adddup2");
        check(::posix_spawn_file_actions_adddup2(&sg.fa, err_w.fd, 2), "posix_spawn_file_actions_adddup2");
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT}) sigaddset(&defaults, s);
        check(::posix_spawnattr_setsigmask(&sg.attr, &none), "posix_spawnattr_setsigmask");
        check(::posix_spawnattr_setsigdefault(&sg.attr, &defaults), "posix_spawnattr_setsigdefault");
        // A new session: mpirun leads it, and the ranks it forks (in process groups of their
        // own) stay in it, so the session finds every local process of the job.
        check(::posix_spawnattr_setflags(&sg.attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                       POSIX_SPAWN_SETSIGDEF),
              "posix_spawnattr_setflags");
        std::vector<char*> cargv;
        for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
        cargv.push_back(nullptr);
        const int rc = ::posix_spawnp(&pid, argv[0].c_str(), &sg.fa, &sg.attr, cargv.data(), environ);
        if (rc != 0) {
            if (rc == ENOENT)
                throw std::runtime_error("cannot start '" + argv[0] +
                                         "': not found on PATH (Open MPI's mpirun comes with the "
                                         "Debian package openmpi-bin; SCALESCOPE_MPIRUN names another)");
            SS_OS_FAIL("posix_spawnp", rc, "starting " + argv[0]);
        }
    }
    out_w.close();
    err_w.close();
    for (int fd : {out_r.fd, err_r.fd}) {
        const int fl = ::fcntl(fd, F_GETFL);
        if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
            SS_OS_FAIL("fcntl(O_NONBLOCK)", errno, "mpirun's output pipes");
    }

    JobResult res;
    res.session = pid;
    const auto t0 = Clock::now();
    if (opt.on_started) opt.on_started(pid);
    std::set<pid_t> groups{pid};

    auto handle = [&](std::string_view raw) {
        TaggedLine t = parse_tagged_line(raw);
        switch (t.stream) {
            case Stream::Stdout: {
                out_log << "[rank " << t.rank << "] " << t.text << '\n';
                if (t.rank == 0)
                    if (auto p = parse_progress_line(t.text)) {
                        if (p->kind == Progress::Kind::Step && p->step >= 0) res.last_step = p->step;
                        if (p->kind == Progress::Kind::Summary) res.summary = p->raw;
                        if (opt.on_progress) opt.on_progress(*p);
                    }
                break;
            }
            case Stream::Stderr: {
                err_log << "[rank " << t.rank << "] " << t.text << '\n';
                auto& tail = res.stderr_tail[t.rank];
                tail.push_back(t.text);
                if (tail.size() > kTailLines) tail.pop_front();
                break;
            }
            case Stream::Mpirun: {
                err_log << "[mpirun] " << t.text << '\n';
                if (res.mpirun_lines.size() < kMaxMpirunLines) res.mpirun_lines.push_back(t.text);
                const std::string s = trim(t.text);
                if (!s.empty() && s.find_first_not_of('-') != std::string::npos) {
                    res.mpirun_tail.push_back(s);
                    if (res.mpirun_tail.size() > kTailLines) res.mpirun_tail.pop_front();
                }
                break;
            }
        }
        if (opt.on_line) opt.on_line(t);
    };

    LineBuffer bufs[2];
    int fds[2] = {out_r.fd, err_r.fd};
    bool mpirun_done = false;
    bool terminating = false, killed = false;
    Clock::time_point term_deadline{}, kill_deadline{}, session_empty_at{};
    bool session_empty = false;
    auto last_scan = Clock::now() - std::chrono::seconds(1);
    const pid_t self = ::getpid();
    std::vector<ProcEntry> procs;
    char chunk[65536];

    auto begin_termination = [&](bool by_timeout) {
        if (terminating) return;
        terminating = true;
        (by_timeout ? res.timed_out : res.cancelled) = true;
        // mpirun ends its ranks on SIGTERM (and tells remote daemons to); SIGKILL follows.
        if (!mpirun_done && ::kill(pid, SIGTERM) != 0 && errno != ESRCH)
            SS_OS_FAIL("kill", errno, "SIGTERM to mpirun (pid " + std::to_string(pid) + ")");
        if (mpirun_done) signal_session(session_processes(pid), SIGTERM);
        term_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(std::max(0.0, opt.grace_s)));
    };

    while (true) {
        // 1. Output.
        pollfd pfd[2];
        nfds_t n = 0;
        for (int i = 0; i < 2; ++i)
            if (!bufs[i].eof) pfd[n++] = pollfd{fds[i], POLLIN, 0};
        if (n > 0) {
            const int pr = ::poll(pfd, n, 100);
            if (pr < 0 && errno != EINTR) SS_OS_FAIL("poll", errno, "reading mpirun's output");
        } else {
            ::usleep(50 * 1000);
        }
        for (int i = 0; i < 2; ++i) {
            while (!bufs[i].eof) {
                const ssize_t got = ::read(fds[i], chunk, sizeof chunk);
                if (got > 0) {
                    bufs[i].feed(chunk, static_cast<size_t>(got), handle);
                } else if (got == 0) {
                    bufs[i].eof = true;
                    bufs[i].finish(handle);
                } else if (errno == EINTR) {
                    continue;
                } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    break;
                } else {
                    SS_OS_FAIL("read", errno, i == 0 ? "mpirun's stdout" : "mpirun's stderr");
                }
            }
        }

        // 2. mpirun's own state.
        if (!mpirun_done) {
            int status = 0;
            const pid_t w = ::waitpid(pid, &status, WNOHANG);
            if (w < 0 && errno != EINTR) SS_OS_FAIL("waitpid", errno, "mpirun pid " + std::to_string(pid));
            if (w == pid) {
                mpirun_done = true;
                if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
                if (WIFSIGNALED(status)) res.term_signal = WTERMSIG(status);
            }
        }

        // 3. Cancel and timeout.
        if (!terminating && opt.cancel && opt.cancel->load()) begin_termination(false);
        if (!terminating && opt.timeout_s > 0 && seconds_since(t0) > opt.timeout_s)
            begin_termination(true);

        // 4. The session: record its process groups, end leftovers, reap orphans.
        const bool scan_due = Clock::now() - last_scan > std::chrono::milliseconds(250);
        if (scan_due || mpirun_done || terminating) {
            last_scan = Clock::now();
            procs = session_processes(pid);
            for (const auto& p : procs) groups.insert(p.pgid);
            reap_session_zombies(procs, self, pid);
            bool alive = false;
            for (const auto& p : procs)
                if (p.state != 'Z' && p.pid != pid) alive = true;
            if (mpirun_done && alive && !terminating) {
                // mpirun is gone but processes of its job are not (mpirun crashed or was killed).
                terminating = true;
                signal_session(procs, SIGTERM);
                term_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(opt.grace_s));
            }
            if (terminating && !killed && Clock::now() >= term_deadline && (alive || !mpirun_done)) {
                killed = true;
                signal_session(procs, SIGKILL);
                if (!mpirun_done && ::kill(pid, SIGKILL) != 0 && errno != ESRCH)
                    SS_OS_FAIL("kill", errno, "SIGKILL to mpirun (pid " + std::to_string(pid) + ")");
                kill_deadline = Clock::now() + std::chrono::seconds(5);
            }
            const bool empty_now = mpirun_done && !alive;
            if (empty_now && !session_empty) session_empty_at = Clock::now();
            session_empty = empty_now;
            if (killed && Clock::now() > kill_deadline && alive) {
                for (const auto& p : procs)
                    if (p.state != 'Z')
                        res.survivors.push_back(std::to_string(p.pid) + " (" + p.comm + ", state " +
                                                p.state + ")");
                break;  // unkillable (uninterruptible sleep): reported, not waited on forever
            }
        }

        // 5. Done: mpirun reaped, nothing left in its session, output drained (or a process
        // outside the session still holds a pipe: give it one second).
        if (mpirun_done && session_empty) {
            if (bufs[0].eof && bufs[1].eof) break;
            if (Clock::now() - session_empty_at > std::chrono::seconds(1)) {
                for (auto& b : bufs) b.finish(handle);
                break;
            }
        }
    }
    res.wall_s = seconds_since(t0);
    res.process_groups.assign(groups.begin(), groups.end());
    if (!res.ok() && !res.cancelled && !res.timed_out) {
        res.failing_rank = find_failing_rank(res.mpirun_lines);
        // mpirun may exit before it prints the aborting rank's banner; ScaleScope's ranks print
        // "rank R: <why>" before they abort, which names the rank as well.
        for (const auto& [r, tail] : res.stderr_tail) {
            if (res.failing_rank) break;
            for (const auto& line : tail)
                if (line.rfind("rank " + std::to_string(r) + ": ", 0) == 0) {
                    res.failing_rank = RankFailure{r, "reported an error (mpirun exited with status " +
                                                          std::to_string(res.exit_code) + ")"};
                    break;
                }
        }
    }
    out_log.flush();
    err_log.flush();
    return res;
}

std::string describe_failure(const JobResult& job, std::int64_t total_steps, int lines) {
    if (job.ok()) return {};
    std::string progress;
    if (job.last_step >= 0)
        progress = " after " + std::to_string(job.last_step + 1) +
                   (total_steps > 0 ? " of " + std::to_string(total_steps) : "") + " steps";
    else
        progress = " before the first step";
    if (job.cancelled) return "cancelled by the user " + format_seconds(job.wall_s) + " into the run," + progress;
    if (job.timed_out)
        return "timed out: stopped after " + format_seconds(job.wall_s) + " (launch.timeout_s)," + progress;

    auto last = [&](const std::deque<std::string>& tail) {
        std::string s;
        const size_t from = tail.size() > static_cast<size_t>(lines) ? tail.size() - lines : 0;
        for (size_t i = from; i < tail.size(); ++i) s += "\n  " + tail[i];
        return s;
    };
    std::string how_mpirun = job.term_signal ? "mpirun was killed by signal " + std::to_string(job.term_signal)
                                             : "mpirun exited with status " + std::to_string(job.exit_code);
    if (job.failing_rank) {
        const int r = job.failing_rank->rank;
        std::string s = "rank " + std::to_string(r) + " " + job.failing_rank->how + progress;
        auto it = job.stderr_tail.find(r);
        if (it != job.stderr_tail.end() && !it->second.empty()) {
            s += "; last lines of its stderr:" + last(it->second);
            return s;
        }
        s += " (it wrote nothing on stderr)";
        // A job whose ranks agreed to stop lets one rank say why (a rank without a GPU, say):
        // that rank may not be the first to exit.
        for (const auto& [other, tail] : job.stderr_tail)
            if (other != r && !tail.empty())
                return s + "; last lines of rank " + std::to_string(other) + "'s stderr:" + last(tail);
        return s;
    }
    // No rank named by mpirun: a rank that wrote on stderr, else mpirun's own words.
    for (const auto& [r, tail] : job.stderr_tail)
        if (!tail.empty())
            return how_mpirun + progress + "; last lines of rank " + std::to_string(r) +
                   "'s stderr:" + last(tail);
    if (!job.mpirun_tail.empty()) return how_mpirun + progress + "; its last messages:" + last(job.mpirun_tail);
    return how_mpirun + progress + " without any message";
}

// ---------------------------------------------------------------------------------------------

std::string find_program(const std::string& name) {
    std::vector<std::string> tried;
    auto usable = [&](const fs::path& p) {
        tried.push_back(p.string());
        return ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p);
    };
    std::string env_name = name == "scalescope-worker" ? "SCALESCOPE_WORKER" : "";
    if (name == "scalescope-calibrate-rank") env_name = "SCALESCOPE_CALIBRATE_RANK";
    if (!env_name.empty())
        if (const char* v = std::getenv(env_name.c_str()); v && *v) {
            if (usable(v)) return fs::absolute(v).string();
            throw std::runtime_error(env_name + "=" + v + " is not an executable file");
        }
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path dir = self.parent_path();
        for (const fs::path& p : {dir / name, dir.parent_path() / "worker" / name,
                                  dir.parent_path() / "cli" / name,
                                  dir.parent_path().parent_path() / "worker" / name,
                                  dir.parent_path().parent_path() / "cli" / name})
            if (usable(p)) return p.lexically_normal().string();
    }
    if (const char* path = std::getenv("PATH"))
        for (const auto& d : split(path, ':'))
            if (!d.empty() && usable(fs::path(d) / name)) return (fs::path(d) / name).string();
    std::string where;
    for (const auto& t : tried) where += "\n  " + t;
    throw std::runtime_error("cannot find " + name + "; looked at:" + where +
                             (env_name.empty() ? "" : "\n(set " + env_name + " to its path)"));
}

// ---------------------------------------------------------------------------------------------

namespace {

std::int64_t unix_ns_now() {
    timespec ts{};
    if (::clock_gettime(CLOCK_REALTIME, &ts) != 0) SS_OS_FAIL("clock_gettime", errno, "run start time");
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct ProgressStep {
    std::int64_t step;
    double elapsed_s, loss, rate;
    std::string rate_unit;
};

// A run with no rank file (refused spec, tracing off, ranks dead before their first flush): the
// spec, the launcher's facts and rank 0's progress lines are what is known; all of it is kept.
traces::RunId record_without_rank_files(const RunRequest& rq, const MpirunPlan& plan,
                                        traces::RunStatus status, const std::string& reason,
                                        std::int64_t wall_start_ns,
                                        const std::vector<ProgressStep>& steps, double wall_s) {
    traces::RunInfo info = run_record(rq.spec);
    info.hosts = plan.hosts.empty() ? std::vector<std::string>{rq.env.local_hostname} : plan.hosts;
    info.oversubscribed = plan.oversubscribed;
    info.start_ns = 0;
    info.end_ns = static_cast<std::int64_t>(wall_s * 1e9);
    info.wall_start_unix_ns = wall_start_ns;
    traces::TraceWriter w(rq.output);
    const traces::RunId run = w.begin_run(info);
    // Times: ns since the launch, on the launcher's clock (no rank clock is known).
    for (const auto& st : steps) {
        const auto t = static_cast<std::int64_t>(st.elapsed_s * 1e9);
        w.add_metric(run, 0, st.step, t, "loss", st.loss);
        if (!st.rate_unit.empty())
            w.add_metric(run, 0, st.step, t, st.rate_unit == "tokens/s" ? "tokens_per_s" : "samples_per_s",
                         st.rate);
    }
    w.finish_run(run, status, reason, info.end_ns);
    return run;
}

}  // namespace

RunOutcome launch_run(const RunRequest& rq) {
    if (rq.output.empty()) throw std::invalid_argument("launch_run: no output trace file");
    if (rq.run_dir.empty()) throw std::invalid_argument("launch_run: no run folder");
    if (rq.worker.empty()) throw std::invalid_argument("launch_run: no worker program");
    std::error_code ec;
    const fs::path dir = fs::absolute(rq.run_dir);
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create the run folder " + dir.string() + ": " + ec.message());
    auto rank_files = [&] {
        std::vector<std::pair<int, std::string>> found;
        for (const auto& de : fs::directory_iterator(dir)) {
            const std::string n = de.path().filename().string();
            int r = -1;
            char tail[16] = {};
            if (std::sscanf(n.c_str(), "rank-%d.%15s", &r, tail) == 2 && r >= 0 &&
                std::string(tail) == "sqlite" && n == "rank-" + std::to_string(r) + ".sqlite")
                found.emplace_back(r, de.path().string());
        }
        std::sort(found.begin(), found.end());
        return found;
    };
    if (!rank_files().empty())
        throw std::runtime_error("the run folder " + dir.string() +
                                 " already holds rank trace files of another run; choose a new folder");

    // The resolved spec every rank reads: the run folder is where the rank files go.
    ExperimentSpec spec = rq.spec;
    spec.trace.dir = dir.string();
    const fs::path spec_path = dir / "spec.json";
    {
        std::ofstream f(spec_path);
        f << spec.to_json().dump(2) << '\n';
        if (!f) throw std::runtime_error("cannot write " + spec_path.string() + ": " + std::strerror(errno));
    }

    RunOutcome out;
    // Slurm (outside an allocation): mpirun runs in the job the follower submits, on the allocation.
    const std::optional<SubmittedRun> sub = plan_submitted_run(spec, dir.string(), rq.worker, rq.mpirun, rq.env, rq.slurm);
    const bool submit = sub.has_value();
    out.plan = submit ? sub->plan : plan_run_command(spec, dir.string(), rq.worker, rq.mpirun, rq.env);
    std::vector<std::string> argv = out.plan.argv;
    if (submit) {
        const fs::path script = dir / "job.sbatch";
        {
            std::ofstream f(script);
            f << sub->script;
            if (!f) throw std::runtime_error("cannot write " + script.string() + ": " + std::strerror(errno));
        }
        out.plan.notes.push_back("submitted with sbatch: " + script.string() + " (followed with scontrol; cancel = scancel)");
        argv = {find_program("scalescope-cli"), "slurm-follow", script.string(),
                "--run-dir", dir.string()};
    }
    if (rq.on_plan) rq.on_plan(out.plan);
    {
        std::ofstream cmd(dir / "command.txt");
        for (const auto& a : out.plan.argv) cmd << a << '\n';
    }

    std::vector<ProgressStep> steps;
    JobOptions jo;
    jo.run_dir = dir.string();
    jo.timeout_s = spec.launch.timeout_s;
    jo.grace_s = rq.grace_s;
    jo.cancel = rq.cancel;
    jo.on_line = rq.on_line;
    jo.on_started = rq.on_started;
    jo.on_progress = [&](const Progress& p) {
        if (p.kind == Progress::Kind::Step) steps.push_back({p.step, p.elapsed_s, p.loss, p.rate, p.rate_unit});
        if (rq.on_progress) rq.on_progress(p);
    };
    const std::int64_t wall_start = unix_ns_now();
    out.job = run_mpi_job(argv, jo);

    std::optional<traces::RunStatus> status;
    std::string reason = describe_failure(out.job, spec.training.steps);
    if (submit) {
        for (const auto& l : out.job.mpirun_lines)
            if (auto st = parse_slurm_state_line(l)) out.slurm = *st;
        if (out.slurm && (out.slurm->state != "COMPLETED" || !out.job.ok()))
            reason = "slurm job " + out.slurm->id + " " + out.slurm->state + " (reason " + out.slurm->reason + ", exit " +
                     out.slurm->exit_code + ")" + (out.slurm->nodes.empty() ? "" : " on " + out.slurm->nodes) +
                     (reason.empty() ? "" : ": " + reason);
    }
    if (out.job.cancelled) status = traces::RunStatus::Cancelled;
    else if (!out.job.ok()) status = traces::RunStatus::Failed;

    // Rank files that cannot be read (a rank killed during its very first write) are left out
    // with a warning; the merge counts their ranks as missing.
    std::vector<std::string> files;
    for (const auto& [r, path] : rank_files()) {
        try {
            // A rank killed inside a transaction leaves a hot journal, which only a writable
            // open rolls back (a read-only open fails): recover the file to its last flush.
            if (traces::recover_interrupted_write(path)) {
                out.warnings.push_back("rank " + std::to_string(r) +
                                       "'s trace file was rolled back to its last flush (the rank "
                                       "ended inside a write)");
            }
            traces::TraceReader check(path);
            if (check.runs().size() != 1) throw traces::TraceError("it holds no run");
            files.push_back(path);
        } catch (const std::exception& e) {
            out.warnings.push_back("rank " + std::to_string(r) + "'s trace file is unusable and left out: " +
                                   e.what());
        }
    }
    if (!files.empty()) {
        traces::MergeOptions mo;
        mo.status = status;
        mo.failure_reason = reason;
        mo.expected_world_size = spec.parallel.world();
        mo.oversubscribed = out.plan.oversubscribed;
        traces::MergeResult m = traces::merge_rank_files(files, rq.output, mo);
        out.run = m.run;
        out.status = m.status;
        out.failure_reason = m.failure_reason;
        out.rank_files = m.ranks;
        out.warnings.insert(out.warnings.end(), m.warnings.begin(), m.warnings.end());
        // The run-level summaries and the analysis stored with the run.
        const std::vector<std::string> stored = store_merged_run(rq.output, m.run);
        out.warnings.insert(out.warnings.end(), stored.begin(), stored.end());
    } else {
        traces::RunStatus st = status.value_or(traces::RunStatus::Completed);
        if (!status && spec.trace.enabled) {
            st = traces::RunStatus::Failed;
            reason = "the run ended without writing any rank trace file in " + dir.string();
        }
        out.run = record_without_rank_files(rq, out.plan, st, reason, wall_start, steps, out.job.wall_s);
        out.status = st;
        out.failure_reason = reason;
    }
    if (out.slurm) {  // the run record: which job, where, how it ended
        for (const auto& [k, v] : {std::pair{"slurm/job_id", out.slurm->id}, std::pair{"slurm/nodes", out.slurm->nodes},
                                   std::pair{"slurm/state", out.slurm->state}, std::pair{"slurm/reason", out.slurm->reason},
                                   std::pair{"slurm/exit_code", out.slurm->exit_code}})
            write_run_summary(rq.output, out.run, k, v);
    }
    return out;
}

}  // namespace ss::core

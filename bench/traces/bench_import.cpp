// Import benchmark (figures, not a test): the rate of `import_traces` on Kineto JSON traces in
// events/s, and its peak memory, for two sizes (default 1,000,000 and 3,000,000 events), to show
// that memory does not grow with the file. The traces are made by repeating the events of a real
// one (../shared/testdata/kineto/hta/trace_filter/sampled_rank-0.json.gz beside the checkout, or
// --source FILE), each copy shifted in time past the one before with its correlation and flow ids
// and step numbers renumbered; a synthetic step (CPU op, launch, kernel) when that file is absent.
// Each import runs in a process of its own (this program again), so its ru_maxrss is its own.
// --gz imports the same traces gzip-compressed (level 6, as torch.profiler writes .json.gz).
//
// "store-only s" is the floor under any importer of this schema, measured in the same child
// right after the import: SQLite alone storing the same rows (events table and its index, the
// writer's settings) from the imported file, no parsing at all.
//
// usage: bench_import [--events N[,N...]] [--source FILE.json[.gz]] [--dir DIR] [--gz] [--keep]
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <zlib.h>

#include "traces/import/import.h"
#include "traces/sqlite_util.h"
#include "traces/writer.h"

using nlohmann::json;
namespace fs = std::filesystem;
extern char** environ;

namespace {

// The events of the source trace (its X events and flows), and everything else of its top level.
struct Source {
    json header = json::object();
    std::vector<json> events;
    std::vector<json> untimed;  // metadata (process and thread names): written once
    double t0 = 0, t1 = 0;      // µs
    std::int64_t max_id = 0;
    std::string what;
};

Source load_source(const std::string& path) {
    Source s;
    std::string text;
    const bool gz = path.ends_with(".gz");
    FILE* in =
        gz ? ::popen(("gzip -dc '" + path + "'").c_str(), "r") : std::fopen(path.c_str(), "rb");
    if (!in) return s;
    char buf[1 << 16];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;) text.append(buf, n);
    if (gz)
        ::pclose(in);
    else
        std::fclose(in);
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_object() || !doc.contains("traceEvents")) return s;
    s.t0 = 1e300;
    s.t1 = -1e300;
    for (auto& e : doc["traceEvents"]) {
        if (!e.contains("ts") || !e["ts"].is_number()) {
            s.untimed.push_back(std::move(e));
            continue;
        }
        const double ts = e["ts"].get<double>(), dur = e.value("dur", 0.0);
        s.t0 = std::min(s.t0, ts);
        s.t1 = std::max(s.t1, ts + dur);
        if (e.contains("id") && e["id"].is_number_integer())
            s.max_id = std::max(s.max_id, e["id"].get<std::int64_t>());
        if (e.contains("args") && e["args"].contains("correlation") &&
            e["args"]["correlation"].is_number_integer())
            s.max_id = std::max(s.max_id, e["args"]["correlation"].get<std::int64_t>());
        s.events.push_back(std::move(e));
    }
    doc.erase("traceEvents");
    s.header = std::move(doc);
    s.what = path + " (" + std::to_string(s.events.size()) + " events)";
    return s;
}

Source synthetic() {
    Source s;
    s.header = {{"schemaVersion", 1}};
    for (int k = 0; k < 4; ++k) {
        const double t = 1000.0 * k;
        s.events.push_back({{"ph", "X"},
                            {"cat", "user_annotation"},
                            {"name", "ProfilerStep#" + std::to_string(k)},
                            {"pid", 10},
                            {"tid", 11},
                            {"ts", t},
                            {"dur", 900.0}});
        for (int i = 0; i < 8; ++i) {
            const double u = t + 10 + i * 100;
            s.events.push_back({{"ph", "X"},
                                {"cat", "cpu_op"},
                                {"name", "aten::mm"},
                                {"pid", 10},
                                {"tid", 11},
                                {"ts", u},
                                {"dur", 20.5}});
            s.events.push_back({{"ph", "X"},
                                {"cat", "cuda_runtime"},
                                {"name", "cudaLaunchKernel"},
                                {"pid", 10},
                                {"tid", 11},
                                {"ts", u + 1},
                                {"dur", 4.25},
                                {"args", {{"correlation", k * 8 + i + 1}}}});
            s.events.push_back(
                {{"ph", "X"},
                 {"cat", "kernel"},
                 {"name", "gemm_kernel_" + std::to_string(i)},
                 {"pid", 0},
                 {"tid", 7},
                 {"ts", u + 6},
                 {"dur", 80.125},
                 {"args", {{"device", 0}, {"stream", 7}, {"correlation", k * 8 + i + 1}}}});
        }
    }
    s.t0 = 0;
    s.t1 = 4000;
    s.max_id = 64;
    s.what = "a synthetic trace (" + std::to_string(s.events.size()) + " events)";
    return s;
}

// Writes copies of the source's events until `events` are written; returns the count written.
std::int64_t generate(const Source& s, std::int64_t events, const std::string& path) {
    FILE* out = std::fopen(path.c_str(), "wb");
    if (!out) {
        std::perror(path.c_str());
        std::exit(1);
    }
    std::string head = s.header.dump();
    head.pop_back();  // the closing brace: traceEvents follows
    std::fprintf(out, "%s%s\"traceEvents\": [\n", head.c_str(), head.size() > 1 ? ", " : "");
    const double period = (s.t1 - s.t0) + 10.0;
    std::int64_t written = 0;
    for (const json& e : s.untimed)
        std::fprintf(out, "%s%s\n", written++ ? "," : "", e.dump().c_str());
    for (std::int64_t copy = 0; written < events; ++copy) {
        for (const json& e0 : s.events) {
            if (written >= events) break;
            json e = e0;
            // Shifted by whole ns: the text keeps three decimals.
            const double ts = e["ts"].get<double>() + static_cast<double>(copy) * period;
            e.erase("ts");
            if (e.contains("id") && e["id"].is_number_integer())
                e["id"] = e["id"].get<std::int64_t>() + copy * (s.max_id + 1);
            if (e.contains("args") && e["args"].contains("correlation") &&
                e["args"]["correlation"].is_number_integer())
                e["args"]["correlation"] =
                    e["args"]["correlation"].get<std::int64_t>() + copy * (s.max_id + 1);
            if (e.contains("name") && e["name"].is_string() &&
                e["name"].get<std::string>().starts_with("ProfilerStep#"))
                e["name"] = "ProfilerStep#" +
                            std::to_string(std::stoll(e["name"].get<std::string>().substr(13)) +
                                           copy * 100000);
            std::string text = e.dump();
            char ts_text[64];
            std::snprintf(ts_text, sizeof ts_text, "{\"ts\": %.3f, ", ts);
            text.replace(0, 1, ts_text);
            if (text.ends_with(", }")) text.replace(text.size() - 3, 3, "}");
            std::fprintf(out, "%s%s\n", written ? "," : "", text.c_str());
            ++written;
        }
    }
    std::fprintf(out, "]}\n");
    if (std::fclose(out) != 0) {
        std::perror(path.c_str());
        std::exit(1);
    }
    return written;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// SQLite alone storing the events of `out` into a fresh file of the same schema, index and
// settings as the import's writer; seconds.
double store_only(const std::string& out) {
    const std::string floor = out + ".store-only.sqlite";
    fs::remove(floor);
    {
        ss::traces::TraceWriter make(
            floor, ss::traces::WriterOptions{.durable = false, .bounded_memory = true});
    }
    ss::traces::Db db(floor, ss::traces::Db::Mode::ReadWrite);
    db.exec("PRAGMA synchronous=OFF; PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY");
    db.prepare("ATTACH DATABASE ?1 AS src").bind(1, out).run();
    const auto t = std::chrono::steady_clock::now();
    // The WHERE keeps SQLite from copying the pages as they are (its transfer optimisation):
    // rows are inserted one by one, in the stored order, as an importer inserts them.
    db.exec("BEGIN; INSERT INTO main.events SELECT * FROM src.events WHERE id > 0; COMMIT");
    const double s = seconds_since(t);
    db.exec("DETACH DATABASE src");
    fs::remove(floor);
    return s;
}

// The child: one import, then "events seconds maxrss_kib store_only_seconds" on stdout.
int import_one(const std::string& in, const std::string& out) {
    ss::traces::import::ImportOptions opt;
    const auto t = std::chrono::steady_clock::now();
    try {
        auto res = ss::traces::import::import_traces({in}, out, opt);
        const double s = seconds_since(t);
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        const double floor = store_only(out);
        std::printf("%" PRId64 " %.3f %ld %.3f\n", res.events, s, ru.ru_maxrss, floor);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_import: %s\n", e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "--child") == 0) return import_one(argv[2], argv[3]);
#ifndef SCALESCOPE_IMPORT_KINETO
    std::printf(
        "bench_import: this build has no Kineto reader (traces/import/kineto.cpp): nothing to "
        "measure\n");
    return 0;
#endif
    std::vector<std::int64_t> sizes{1000000, 3000000};
    std::string source =
        SCALESCOPE_SOURCE_DIR "/../shared/testdata/kineto/hta/trace_filter/sampled_rank-0.json.gz";
    fs::path dir = fs::temp_directory_path() / ("bench_import-" + std::to_string(::getpid()));
    bool keep = false, gz = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--events" && i + 1 < argc) {
            sizes.clear();
            std::string list = argv[++i];
            for (size_t p = 0; p < list.size();) {
                size_t q = list.find(',', p);
                sizes.push_back(std::stoll(list.substr(p, q - p)));
                p = q == std::string::npos ? list.size() : q + 1;
            }
        } else if (a == "--source" && i + 1 < argc)
            source = argv[++i];
        else if (a == "--dir" && i + 1 < argc)
            dir = argv[++i];
        else if (a == "--keep")
            keep = true;
        else if (a == "--gz")
            gz = true;
        else {
            std::fprintf(stderr,
                         "usage: bench_import [--events N[,N...]] [--source FILE.json[.gz]] [--dir "
                         "DIR] [--gz] [--keep]\n");
            return 2;
        }
    }
    fs::create_directories(dir);
    Source src = fs::exists(source) ? load_source(source) : Source{};
    if (src.events.empty()) src = synthetic();
    std::printf("source: %s\n", src.what.c_str());
    std::printf("%12s %10s %10s %12s %14s %14s %14s\n", "events", gz ? "gz MiB" : "file MiB",
                "seconds", "events/s", "peak RSS MiB", "store-only s", "store-only ev/s");
    for (std::int64_t n : sizes) {
        const std::string json_path = (dir / ("trace-" + std::to_string(n) + ".json")).string();
        const std::string out = (dir / ("out-" + std::to_string(n) + ".sqlite")).string();
        fs::remove(out);
        const std::int64_t written = generate(src, n, json_path);
        src.events.shrink_to_fit();
        std::string in_path = json_path;
        if (gz) {
            in_path = json_path + ".gz";
            std::FILE* f = std::fopen(json_path.c_str(), "rb");
            gzFile z = gzopen(in_path.c_str(), "wb6");
            if (!f || !z) {
                std::fprintf(stderr, "bench_import: cannot compress %s\n", json_path.c_str());
                return 1;
            }
            std::vector<char> buf(1 << 20);
            for (size_t k; (k = std::fread(buf.data(), 1, buf.size(), f)) > 0;)
                if (gzwrite(z, buf.data(), static_cast<unsigned>(k)) != static_cast<int>(k)) {
                    std::fprintf(stderr, "bench_import: gzwrite failed on %s\n", in_path.c_str());
                    return 1;
                }
            std::fclose(f);
            if (gzclose(z) != Z_OK) {
                std::fprintf(stderr, "bench_import: gzclose failed on %s\n", in_path.c_str());
                return 1;
            }
            fs::remove(json_path);
        }
        // The import in a process of its own: its peak RSS is the import's alone.
        int pipefd[2];
        if (::pipe(pipefd) != 0) return 1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&fa, pipefd[0]);
        std::string child = "--child";
        char* args[] = {argv[0], child.data(), const_cast<char*>(in_path.c_str()),
                        const_cast<char*>(out.c_str()), nullptr};
        pid_t pid = 0;
        if (posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, args, environ) != 0) {
            std::perror("posix_spawn");
            return 1;
        }
        ::close(pipefd[1]);
        char line[256] = {};
        const ssize_t got = ::read(pipefd[0], line, sizeof line - 1);
        ::close(pipefd[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        long long events = 0, rss_kib = 0;
        double secs = 0, floor = 0;
        if (got <= 0 ||
            std::sscanf(line, "%lld %lf %lld %lf", &events, &secs, &rss_kib, &floor) != 4) {
            std::fprintf(stderr, "bench_import: the import of %s failed\n", in_path.c_str());
            if (!keep) fs::remove_all(dir);
            return 1;
        }
        std::printf("%12lld %10.1f %10.2f %12.0f %14.1f %14.2f %14.0f   (%lld lines written)\n",
                    events, static_cast<double>(fs::file_size(in_path)) / (1 << 20), secs,
                    static_cast<double>(events) / secs, static_cast<double>(rss_kib) / 1024.0,
                    floor, static_cast<double>(events) / floor, static_cast<long long>(written));
        if (!keep) {
            fs::remove(in_path);
            fs::remove(out);
        }
    }
    if (!keep) fs::remove_all(dir);
    return 0;
}

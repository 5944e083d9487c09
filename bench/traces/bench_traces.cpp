// Trace store benchmarks (figures, not tests):
//  1. writer throughput in events/s including finish_run, and its ratio to a raw SQLite insert loop
//     of the same rows in the same process (same connection flags and pragmas, the writer's 64-row
//     INSERT, same transaction size, the events index built at the end);
//  2. opening and summarising a large file (default 10,000,000 events): open + runs + lanes +
//     stored aggregates, timed cold-ish (new connection) and repeated;
//  3. window queries on that file vs a 10x smaller one: the cost must not grow with file size.
//
// usage: bench_traces [--events N] [--big N] [--dir DIR] [--keep]
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "traces/reader.h"
#include "traces/schema.h"
#include "traces/writer.h"

using namespace ss::traces;
using Clock = std::chrono::steady_clock;

namespace {
std::string loadavg() {
    std::FILE* f = std::fopen("/proc/loadavg", "r");
    char buf[128] = "?";
    if (f) {
        if (!std::fgets(buf, sizeof buf, f)) buf[0] = '\0';
        std::fclose(f);
    }
    std::string s = buf;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// A deterministic stream of realistic events: 8 ranks, 3 lanes, 32 kernel names, collectives.
struct Gen {
    std::mt19937_64 rng{42};
    std::int64_t t[8][3] = {};
    Event next(RunId run, const std::vector<StringId>& names, std::int64_t i) {
        Event e;
        e.run = run;
        e.rank = static_cast<std::int32_t>(i % 8);
        const int lane = static_cast<int>((i / 8) % 3);
        e.lane = lane;
        const std::int64_t dur = 500 + static_cast<std::int64_t>(rng() % 20000);
        std::int64_t& clock = t[e.rank][lane];
        e.start_ns = clock + static_cast<std::int64_t>(rng() % 200);
        e.end_ns = e.start_ns + dur;
        clock = e.end_ns;
        e.step = i / 100000;
        if (lane == 1) {
            e.kind = EventKind::Comm;
            e.name = names[32 + static_cast<size_t>(i % 3)];
            e.collective = i % 3 == 0 ? Collective::AllReduce
                                      : (i % 3 == 1 ? Collective::Send : Collective::Recv);
            e.group_kind = GroupKind::DP;
            e.group_id = 0;
            e.group_size = 8;
            e.bytes = 4096 << (i % 8);
            e.seq = i / 24;
            if (e.collective != Collective::AllReduce) e.peer = (e.rank + 1) % 8;
        } else {
            e.kind = EventKind::Kernel;
            e.name = names[static_cast<size_t>(rng() % 32)];
            e.micro_batch = i % 4;
            e.layer = (i / 4) % 12;
            e.flops = static_cast<double>(dur) * 1e3;
        }
        return e;
    }
};

std::vector<StringId> make_names(TraceWriter& w) {
    std::vector<StringId> names;
    for (int k = 0; k < 32; ++k) names.push_back(w.intern("kernel_" + std::to_string(k)));
    names.push_back(w.intern("all_reduce"));
    names.push_back(w.intern("send"));
    names.push_back(w.intern("recv"));
    return names;
}

RunInfo bench_run() {
    RunInfo r;
    r.name = "bench";
    r.spec_json = "{}";
    r.model = "synthetic";
    r.backend = "cpu";
    r.world_size = 8;
    r.dp = 8;
    return r;
}

// Writes n events through TraceWriter; returns events/s including finish_run (lanes, aggregates,
// the events index), which is also timed on its own.
double write_with_writer(const std::string& path, std::int64_t n, double* finish_s) {
    std::filesystem::remove(path);
    TraceWriter w(path, WriterOptions{.durable = false});
    RunId run = w.begin_run(bench_run());
    auto names = make_names(w);
    Gen g;
    auto t0 = Clock::now();
    for (std::int64_t i = 0; i < n; ++i) w.add_event(g.next(run, names, i));
    w.flush();
    auto t1 = Clock::now();
    w.finish_run(run, RunStatus::Completed, "", 0);
    if (finish_s) *finish_s = seconds_since(t1);
    return static_cast<double>(n) / seconds_since(t0);
}

// The same rows with nothing but sqlite3_bind/step/reset, as the writer stores them: a connection
// opened with SQLITE_OPEN_NOMUTEX (as traces/sqlite_util.cpp opens it), the writer's pragmas, the
// writer's statement shape (one INSERT of 64 rows, a single-row INSERT for the rest), a commit
// every 200,000 rows, then the events index (what finish_run builds; the raw loop computes no
// lanes or aggregates, so the comparison favours it). Returns events/s including the index.
double write_raw(const std::string& path, std::int64_t n) {
    std::filesystem::remove(path);
    {
        TraceWriter w(path, WriterOptions{.durable = false});  // same schema and file layout
        w.begin_run(bench_run());
        make_names(w);
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "sqlite3_open_v2(%s) failed: %s\n", path.c_str(), sqlite3_errmsg(db));
        std::exit(1);
    }
    auto exec = [&](const char* sql) {
        char* err = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            std::fprintf(stderr, "sqlite3_exec(%s) failed: %s\n", sql, err);
            std::exit(1);
        }
    };
    exec("PRAGMA synchronous=OFF");
    exec("PRAGMA cache_size=-65536");
    exec("PRAGMA temp_store=MEMORY");
    constexpr int kRows = 64;  // TraceWriter::kRowsPerInsert
    const std::string head =
        "INSERT INTO events(run_id, rank, lane, kind, name_id, start_ns, end_ns, step, micro_batch,"
        " layer, bytes, flops, collective, group_kind, group_id, group_size, peer, seq, correlation)"
        " VALUES";
    const std::string row = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    std::string block_sql = head + row;
    for (int i = 1; i < kRows; ++i) block_sql += "," + row;
    sqlite3_stmt* block = nullptr;
    sqlite3_stmt* single = nullptr;
    for (auto [sql, st] : {std::pair{block_sql, &block}, std::pair{head + row, &single}}) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, st, nullptr) != SQLITE_OK) {
            std::fprintf(stderr, "sqlite3_prepare_v2 failed: %s\n", sqlite3_errmsg(db));
            std::exit(1);
        }
    }
    std::vector<StringId> names;
    for (int k = 1; k <= 35; ++k) names.push_back(StringId(k));
    Gen g;
    RunId run(1);
    auto bind_row = [](sqlite3_stmt* st, int base, const Event& e) {
        auto opt = [&](int i, std::int64_t v) {
            if (v == kNone) sqlite3_bind_null(st, base + i);
            else sqlite3_bind_int64(st, base + i, v);
        };
        sqlite3_bind_int64(st, base + 1, e.run.value);
        sqlite3_bind_int64(st, base + 2, e.rank);
        sqlite3_bind_int64(st, base + 3, e.lane);
        sqlite3_bind_int64(st, base + 4, static_cast<int>(e.kind));
        sqlite3_bind_int64(st, base + 5, e.name.value);
        sqlite3_bind_int64(st, base + 6, e.start_ns);
        sqlite3_bind_int64(st, base + 7, e.end_ns);
        opt(8, e.step);
        opt(9, e.micro_batch);
        opt(10, e.layer);
        opt(11, e.bytes);
        if (e.flops >= 0) sqlite3_bind_double(st, base + 12, e.flops);
        else sqlite3_bind_null(st, base + 12);
        opt(13, e.collective == Collective::None ? kNone : static_cast<int>(e.collective));
        opt(14, e.group_kind == GroupKind::None ? kNone : static_cast<int>(e.group_kind));
        opt(15, e.group_id);
        opt(16, e.group_size);
        opt(17, e.peer);
        opt(18, e.seq);
        opt(19, e.correlation);
    };
    auto step = [&](sqlite3_stmt* st) {
        if (sqlite3_step(st) != SQLITE_DONE) {
            std::fprintf(stderr, "sqlite3_step failed: %s\n", sqlite3_errmsg(db));
            std::exit(1);
        }
        sqlite3_reset(st);
    };
    auto t0 = Clock::now();
    exec("BEGIN");
    std::vector<Event> rows;
    rows.reserve(kRows);
    for (std::int64_t i = 0; i < n; ++i) {
        rows.push_back(g.next(run, names, i));
        if (rows.size() == kRows) {
            for (int r = 0; r < kRows; ++r) bind_row(block, r * 19, rows[static_cast<size_t>(r)]);
            step(block);
            rows.clear();
        }
        if ((i + 1) % 200000 == 0) {
            for (const Event& e : rows) {
                bind_row(single, 0, e);
                step(single);
            }
            rows.clear();
            exec("COMMIT");
            exec("BEGIN");
        }
    }
    for (const Event& e : rows) {
        bind_row(single, 0, e);
        step(single);
    }
    exec("COMMIT");
    exec(index_ddl());
    const double s = seconds_since(t0);
    sqlite3_finalize(block);
    sqlite3_finalize(single);
    sqlite3_close(db);
    return static_cast<double>(n) / s;
}

struct OpenTiming {
    double open_s, summary_s;
    size_t aggregates;
};
OpenTiming open_and_summarise(const std::string& path) {
    auto t0 = Clock::now();
    TraceReader rd(path);
    const double open_s = seconds_since(t0);
    auto runs = rd.runs();
    size_t n = 0;
    std::int64_t events = 0;
    for (const auto& r : runs) {
        rd.ranks(r.id);
        rd.lanes(r.id);
        n += rd.aggregates(r.id).size();
        rd.stats(r.id);
        events += r.event_count;
    }
    const double total = seconds_since(t0);
    if (events == 0) std::fprintf(stderr, "warning: no events in %s\n", path.c_str());
    return {open_s, total, n};
}

double window_query_us(const std::string& path, int repeats, size_t* found) {
    TraceReader rd(path);
    RunId run = rd.runs().at(0).id;
    auto lanes = rd.lanes(run);
    std::mt19937_64 rng(5);
    *found = 0;
    auto t0 = Clock::now();
    for (int q = 0; q < repeats; ++q) {
        const Lane& l = lanes[rng() % lanes.size()];
        const std::int64_t span = l.max_end_ns - l.min_start_ns;
        const std::int64_t a = l.min_start_ns + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span));
        *found += rd.events_in_window(run, l.rank, l.lane, a, a + 2000000).size();  // a 2 ms window
    }
    return seconds_since(t0) * 1e6 / repeats;
}
}  // namespace

int main(int argc, char** argv) {
    std::int64_t n = 2000000, big = 10000000;
    std::string dir = std::filesystem::temp_directory_path() / "scalescope-bench";
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--events") && i + 1 < argc) n = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--big") && i + 1 < argc) big = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!std::strcmp(argv[i], "--keep")) keep = true;
        else {
            std::fprintf(stderr, "usage: bench_traces [--events N] [--big N] [--dir DIR] [--keep]\n");
            return 2;
        }
    }
    std::filesystem::create_directories(dir);
    const std::string a = dir + "/writer.sqlite", b = dir + "/raw.sqlite";
    const std::string small = dir + "/small.sqlite", large = dir + "/large.sqlite";

    std::printf("== writer throughput (%lld events, 19 columns each) ==\n", static_cast<long long>(n));
    // Alternate and take the best of three of each, so neither side is penalised by a cold cache.
    double best_w = 0, best_r = 0, finish = 0;
    for (int rep = 0; rep < 3; ++rep) {
        best_w = std::max(best_w, write_with_writer(a, n, &finish));
        best_r = std::max(best_r, write_raw(b, n));
    }
    std::printf("TraceWriter        %12.0f events/s\n", best_w);
    std::printf("raw SQLite loop    %12.0f events/s\n", best_r);
    std::printf("ratio writer/raw   %12.2f   (load %s)\n", best_w / best_r, loadavg().c_str());
    std::printf("(both rates include the end of the run: finish_run for the writer, CREATE INDEX for the raw loop)\n");
    std::printf("finish_run (lanes + aggregates + index) %.2f s for %lld events\n", finish,
                static_cast<long long>(n));

    std::printf("\n== open and summarise ==\n");
    for (auto [path, count] : {std::pair{small, big / 10}, std::pair{large, big}}) {
        double fin = 0;
        auto t0 = Clock::now();
        write_with_writer(path, count, &fin);
        std::printf("built %s: %lld events in %.1f s (of which finish %.1f s), %.0f MiB\n",
                    path.c_str(), static_cast<long long>(count), seconds_since(t0), fin,
                    static_cast<double>(std::filesystem::file_size(path)) / (1 << 20));
    }
    for (int rep = 0; rep < 3; ++rep) {
        auto t = open_and_summarise(large);
        std::printf("open %lld-event file: open %.1f ms, open+runs+ranks+lanes+aggregates+stats %.1f ms (%zu aggregate rows)\n",
                    static_cast<long long>(big), t.open_s * 1e3, t.summary_s * 1e3, t.aggregates);
    }

    std::printf("\n== window query (2 ms window on one lane) ==\n");
    size_t fs = 0, fl = 0;
    const double us_small = window_query_us(small, 500, &fs);
    const double us_large = window_query_us(large, 500, &fl);
    std::printf("%10lld-event file: %8.1f us/query (%.1f events/query)\n",
                static_cast<long long>(big / 10), us_small, static_cast<double>(fs) / 500);
    std::printf("%10lld-event file: %8.1f us/query (%.1f events/query)\n",
                static_cast<long long>(big), us_large, static_cast<double>(fl) / 500);
    if (!keep)
        for (const auto& p : {a, b, small, large}) std::filesystem::remove(p);
    return 0;
}

// Summaries precomputed at merge (figures, not tests). Builds a recorded-like data-parallel run
// (default 10,000,000 events over 2 rank files: steps, phases, ~150 kernels per step with FLOPs,
// bucketed all-reduces overlapping backward, data loading; rank 1 with clock offset and drift),
// then times:
//   1. merge_rank_files (events/s), against the row-by-row copy that merge did before
//      (scan_events + TraceWriter::add_event, corrected times: --baseline) and against the raw
//      SQLite floor: INSERT ... SELECT of the same rows, uncorrected, from the attached rank files
//      into an events table with its index (what no merge can beat while the output is SQLite);
//   2. the precompute at merge (store_run_analysis: one analysis from the events, stored);
//   3. what `stats` and the Summary page do first: open the file, load the stored analysis;
//      and, for comparison, the analysis computed from the events (what they did before).
//
// usage: bench_summary [--events N] [--ranks R] [--dir DIR] [--keep] [--baseline]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/analysis/analysis_store.h"
#include "traces/lanes.h"
#include "traces/merge.h"
#include "traces/reader.h"
#include "traces/schema.h"
#include "traces/sqlite_util.h"
#include "traces/writer.h"

using namespace ss::traces;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds of this process (user + system): on a shared machine, the rate the CPU allowed.
double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

std::string loadavg() {
    std::ifstream f("/proc/loadavg");
    std::string s;
    std::getline(f, s);
    return s;
}

constexpr int kForward = 50, kBackward = 100, kOptimizer = 20, kBuckets = 10;
constexpr std::int64_t kEventsPerStep = 1 + 3 + 1 + kForward + kBackward + kOptimizer + kBuckets;

// One rank file of `steps` steps, as the profiler writes it.
void write_rank_file(const std::string& path, int rank, int world, std::int64_t steps) {
    std::filesystem::remove(path);
    TraceWriter w(path, WriterOptions{.durable = false});
    RunInfo ri;
    ri.name = "bench-summary";
    ri.model = "mlp";
    ri.backend = "cpu";
    ri.world_size = world;
    ri.dp = world;
    ri.spec_json = "{}";
    ri.start_ns = 0;
    const RunId run = w.begin_run(ri);
    RankInfo k;
    k.run = run;
    k.rank = rank;
    k.host = "node0";
    k.device = "cpu";
    k.dp_coord = rank;
    k.clock_offset_ns = rank * 1'234'567;
    k.clock_ref_ns = 1'000'000;
    k.clock_drift_ppb = rank * 1500.0;
    k.clock_rtt_ns = 2000;
    w.put_rank(k);
    for (std::int32_t l :
         {lanes::kSteps, lanes::kPhases, lanes::kCompute, lanes::kComm, lanes::kHost})
        w.define_lane(run, rank, l, lanes::name(l));
    std::vector<StringId> kernels;
    for (int i = 0; i < 40; ++i) kernels.push_back(w.intern("kernel_" + std::to_string(i)));
    const StringId step_name = w.intern("step"), fwd = w.intern("forward"),
                   bwd = w.intern("backward"), opt = w.intern("optimizer"), data = w.intern("data"),
                   ar = w.intern("all_reduce");
    std::uint64_t seed = 7 + static_cast<std::uint64_t>(rank);
    auto rnd = [&](std::int64_t n) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::int64_t>((seed >> 33) % static_cast<std::uint64_t>(n));
    };
    auto ev = [&](std::int32_t lane, EventKind kind, StringId name, std::int64_t s, std::int64_t e,
                  std::int64_t step) {
        Event x;
        x.run = run;
        x.rank = rank;
        x.lane = lane;
        x.kind = kind;
        x.name = name;
        x.start_ns = s + k.clock_offset_ns;  // the rank's own clock
        x.end_ns = e + k.clock_offset_ns;
        x.step = step;
        return x;
    };
    std::int64_t t = 10'000;
    std::int64_t seq = 0;
    for (std::int64_t s = 0; s < steps; ++s) {
        const std::int64_t step_start = t;
        w.add_event(ev(lanes::kHost, EventKind::HostRange, data, t, t + 20'000, s));
        t += 20'000;
        const std::int64_t f0 = t;
        for (int i = 0; i < kForward; ++i) {
            Event e = ev(lanes::kCompute, EventKind::Kernel, kernels[static_cast<size_t>(i % 40)],
                         t, t + 3'000 + rnd(2'000), s);
            e.flops = 2e6;
            w.add_event(e);
            t = e.end_ns - k.clock_offset_ns + 100;
        }
        w.add_event(ev(lanes::kPhases, EventKind::Phase, fwd, f0, t, s));
        const std::int64_t b0 = t;
        for (int i = 0; i < kBackward; ++i) {
            Event e = ev(lanes::kCompute, EventKind::Kernel,
                         kernels[static_cast<size_t>((i * 7) % 40)], t, t + 3'000 + rnd(3'000), s);
            e.flops = 4e6;
            w.add_event(e);
            t = e.end_ns - k.clock_offset_ns + 100;
            if (i % (kBackward / kBuckets) == kBackward / kBuckets - 1) {
                Event c = ev(lanes::kComm, EventKind::Comm, ar, t, t + 30'000 + rnd(10'000), s);
                c.collective = Collective::AllReduce;
                c.group_kind = GroupKind::DP;
                c.group_id = 0;
                c.group_size = world;
                c.bytes = 1 << 20;
                c.seq = seq++;
                w.add_event(c);
            }
        }
        w.add_event(ev(lanes::kPhases, EventKind::Phase, bwd, b0, t, s));
        t += 40'000;  // the last bucket
        const std::int64_t o0 = t;
        for (int i = 0; i < kOptimizer; ++i) {
            Event e = ev(lanes::kCompute, EventKind::Kernel, kernels[static_cast<size_t>(i)], t,
                         t + 1'000, s);
            w.add_event(e);
            t += 1'100;
        }
        w.add_event(ev(lanes::kPhases, EventKind::Phase, opt, o0, t, s));
        w.add_event(ev(lanes::kSteps, EventKind::Step, step_name, step_start, t, s));
        t += 1'000;
    }
    w.finish_run(run, RunStatus::Completed, "", t + k.clock_offset_ns);
}

// The raw SQLite floor of the copy: the rank files' rows into a new trace's events table with the
// events index, read in index order, nothing computed (connection settings as merge's). Events/s.
double raw_copy_rate(const std::vector<std::string>& files, const std::string& out) {
    std::filesystem::remove(out);
    { TraceWriter w(out); }  // the schema
    const auto t0 = Clock::now();
    Db db(out, Db::Mode::ReadWrite);
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA cache_size=-65536");
    db.exec("PRAGMA temp_store=MEMORY");
    create_indexes(db);
    std::int64_t n = 0;
    for (const auto& f : files) {
        Stmt at = db.prepare("ATTACH DATABASE ?1 AS src");
        at.bind(1, f).run();
        db.exec("BEGIN");
        db.exec(
            "INSERT INTO main.events(run_id, rank, lane, kind, name_id, start_ns, end_ns, step, "
            "micro_batch,"
            " layer, bytes, flops, collective, group_kind, group_id, group_size, peer, seq, "
            "correlation)"
            " SELECT run_id, rank, lane, kind, name_id, start_ns, end_ns, step, micro_batch, "
            "layer, bytes,"
            " flops, collective, group_kind, group_id, group_size, peer, seq, correlation FROM "
            "src.events"
            " ORDER BY run_id, rank, lane, start_ns");
        n += sqlite3_changes(db.handle());
        db.exec("COMMIT");
        db.exec("DETACH DATABASE src");
    }
    return static_cast<double>(n) / seconds_since(t0);
}

// What merge did before: every event read with scan_events and written with add_event.
double row_by_row_rate(const std::vector<std::string>& files, const std::string& out,
                       double* events) {
    std::filesystem::remove(out);
    const auto t0 = Clock::now();
    TraceWriter w(out);
    RunInfo ri;
    ri.name = "baseline";
    const RunId run = w.begin_run(ri);
    std::int64_t n = 0;
    for (const auto& f : files) {
        TraceReader rd(f);
        const RunInfo r = rd.runs().at(0);
        const RankInfo k = rd.ranks(r.id).at(0);
        std::map<std::int64_t, StringId> names;
        rd.scan_events(r.id, [&](const Event& src) {
            Event e = src;
            e.run = run;
            auto it = names.find(src.name.value);
            if (it == names.end())
                it = names.emplace(src.name.value, w.intern(rd.string(src.name))).first;
            e.name = it->second;
            e.start_ns = correct_time(k, src.start_ns);
            e.end_ns = correct_time(k, src.end_ns);
            if (w.add_event(e)) ++n;
        });
    }
    w.finish_run(run, RunStatus::Completed, "", 0);
    *events = static_cast<double>(n);
    return static_cast<double>(n) / seconds_since(t0);
}
}  // namespace

int main(int argc, char** argv) {
    std::int64_t events = 10'000'000;
    int ranks = 2;
    std::string dir = (std::filesystem::temp_directory_path() / "bench_summary").string();
    bool keep = false, baseline = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--events" && i + 1 < argc)
            events = std::stoll(argv[++i]);
        else if (a == "--ranks" && i + 1 < argc)
            ranks = std::stoi(argv[++i]);
        else if (a == "--dir" && i + 1 < argc)
            dir = argv[++i];
        else if (a == "--keep")
            keep = true;
        else if (a == "--baseline")
            baseline = true;
        else {
            std::fprintf(stderr,
                         "usage: bench_summary [--events N] [--ranks R] [--dir DIR] [--keep] "
                         "[--baseline]\n");
            return 2;
        }
    }
    try {
        std::filesystem::create_directories(dir);
        const std::int64_t steps = std::max<std::int64_t>(1, events / ranks / kEventsPerStep);
        std::printf("load %s\n", loadavg().c_str());
        auto t0 = Clock::now();
        std::vector<std::string> files;
        for (int r = 0; r < ranks; ++r) {
            files.push_back(dir + "/rank" + std::to_string(r) + ".sqlite");
            write_rank_file(files.back(), r, ranks, steps);
        }
        std::printf("rank files: %d x %lld steps, %lld events, written in %.1f s\n", ranks,
                    static_cast<long long>(steps),
                    static_cast<long long>(steps * kEventsPerStep * ranks), seconds_since(t0));

        const std::string out = dir + "/merged.sqlite";
        std::filesystem::remove(out);
        t0 = Clock::now();
        double c0 = cpu_seconds();
        const MergeResult m = merge_rank_files(files, out);
        const double merge_s = seconds_since(t0), merge_cpu = cpu_seconds() - c0;
        std::printf(
            "merge               %8.2f s  %12.0f events/s  (%lld events; CPU %.2f s: %.0f events "
            "per CPU-s)   load %s\n",
            merge_s, static_cast<double>(m.events) / merge_s, static_cast<long long>(m.events),
            merge_cpu, static_cast<double>(m.events) / merge_cpu, loadavg().c_str());
        {
            c0 = cpu_seconds();
            const double rate = raw_copy_rate(files, dir + "/raw.sqlite");
            const double cpu = cpu_seconds() - c0;
            std::printf(
                "raw SQLite floor (INSERT...SELECT, index kept, nothing computed) %12.0f events/s  "
                "(%.0f "
                "events per CPU-s; merge is %.2fx its CPU time)   load %s\n",
                rate, static_cast<double>(m.events) / cpu, merge_cpu / cpu, loadavg().c_str());
            std::filesystem::remove(dir + "/raw.sqlite");
        }
        if (baseline) {
            c0 = cpu_seconds();
            double n = 0;
            const double rate = row_by_row_rate(files, dir + "/baseline.sqlite", &n);
            std::printf(
                "row-by-row copy (merge before)  %12.0f events/s  (%.0f events per CPU-s)   load "
                "%s\n",
                rate, n / (cpu_seconds() - c0), loadavg().c_str());
        }

        t0 = Clock::now();
        ss::core::store_run_analysis(out, m.run);
        std::printf("precompute at merge %8.2f s  (analysis from the events, stored)   load %s\n",
                    seconds_since(t0), loadavg().c_str());

        t0 = Clock::now();
        std::string stored_text;
        {
            TraceReader rd(out);
            const ss::core::RunAnalysis a = ss::core::cached_analysis(rd, m.run);
            std::printf(
                "first view: open + stored analysis %8.3f s  (%zu steps, %zu kernels)   load %s\n",
                seconds_since(t0), a.steps.size(), a.kernels.size(), loadavg().c_str());
            stored_text = ss::core::serialize_analysis(a);
        }
        t0 = Clock::now();
        {
            TraceReader rd(out);
            const ss::core::RunAnalysis a = ss::core::analyze_run(rd, m.run);
            std::printf("before: open + analysis from the events %8.3f s   load %s\n",
                        seconds_since(t0), loadavg().c_str());
            // The stored analysis is the computed one, field for field (as text: NaN == NaN).
            const std::string text = ss::core::serialize_analysis(a);
            const bool same =
                text == stored_text &&
                ss::core::serialize_analysis(ss::core::deserialize_analysis(text, a.run)) == text;
            std::printf("stored analysis == computed analysis: %s (%zu bytes of JSON)\n",
                        same ? "yes" : "NO", text.size());
            if (!same) return 1;
        }
        if (keep)
            std::printf("kept %s (e.g. time scalescope-cli stats %s)\n", out.c_str(), out.c_str());
        else
            std::filesystem::remove_all(dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_summary: %s\n", e.what());
        return 1;
    }
    return 0;
}

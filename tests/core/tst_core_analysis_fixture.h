// Readable fixtures for the analysis tests: a merged run from short text per rank, one event per
// line (tests/traces/trace_fixture.h's format):  KIND NAME START END [key=value ...]
// and a scaling study whose runs hold only step events with given durations.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/traces/trace_fixture.h"
#include "traces/lanes.h"
#include "traces/writer.h"

namespace afx {

using namespace ss::traces;

// Lanes as the profiler writes them (traces/lanes.h). The text fixtures' lane=N use these
// numbers: 0 steps, 1 phases, 2 compute, 3 comm, 4 host.
inline void define_lanes(TraceWriter& w, RunId run, int rank) {
    for (std::int32_t l : {lanes::kSteps, lanes::kPhases, lanes::kCompute, lanes::kComm, lanes::kHost})
        w.define_lane(run, rank, l, lanes::name(l));
}

inline RunInfo info(const std::string& name, int world, const std::string& spec_json = "{}") {
    RunInfo r;
    r.name = name;
    r.model = "mlp";
    r.backend = "cpu";
    r.world_size = world;
    r.dp = world;
    r.spec_json = spec_json;
    return r;
}

// Writes one merged run: `ranks` maps a rank to its event lines. Returns the run id.
inline RunId write_run(TraceWriter& w, RunInfo ri, const std::map<int, std::string>& ranks,
                       RunStatus status = RunStatus::Completed) {
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    RunId run = w.begin_run(ri);
    for (const auto& [rank, text] : ranks) {
        RankInfo k;
        k.run = run;
        k.rank = rank;
        k.host = "node0";
        k.device = "cpu";
        k.dp_coord = rank;
        k.clock_corrected = true;
        w.put_rank(k);
        define_lanes(w, run, rank);
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.find_first_not_of(" \t") == std::string::npos) continue;
            Event e = fixture::parse_event(w, run, rank, line);
            lo = std::min(lo, e.start_ns);
            hi = std::max(hi, e.end_ns);
            w.add_event(e);
        }
    }
    w.set_run_times(run, lo == INT64_MAX ? 0 : lo, hi == INT64_MIN ? 0 : hi);
    w.finish_run(run, status, status == RunStatus::Completed ? "" : "boom", hi == INT64_MIN ? 0 : hi);
    return run;
}

// Step events of `world` ranks with the given step durations (back to back from t = 0).
inline std::string steps_text(const std::vector<std::int64_t>& durations) {
    std::string s;
    std::int64_t t = 0;
    for (size_t i = 0; i < durations.size(); ++i) {
        s += "step step " + std::to_string(t) + " " + std::to_string(t + durations[i]) +
             " lane=0 step=" + std::to_string(i) + "\n";
        t += durations[i];
    }
    return s;
}

// One point of a study: p ranks whose steps all take `durations`.
struct StudyPoint {
    int p = 1;
    int repeat = 0;
    std::vector<std::int64_t> durations;
    bool oversubscribed = false;
    RunStatus status = RunStatus::Completed;
};
inline StudyId write_study(TraceWriter& w, const std::string& scaling, const std::vector<StudyPoint>& pts,
                           const std::string& name = "dp sweep") {
    StudyId sid = w.add_study(StudyInfo{StudyId(), name, "parallel.dp", scaling});
    for (const auto& pt : pts) {
        RunInfo ri = info(name + " p=" + std::to_string(pt.p), pt.p);
        ri.oversubscribed = pt.oversubscribed;
        std::map<int, std::string> ranks;
        for (int r = 0; r < pt.p; ++r) ranks[r] = steps_text(pt.durations);
        RunId run = write_run(w, ri, ranks, pt.status);
        w.add_study_run(StudyRun{sid, run, std::to_string(pt.p), pt.p, pt.repeat});
    }
    return sid;
}

// One rank of the overlapped-bucket run (issue 12 item 2), 3 steps of 200 us, the rank starting
// `offset_us` late: per step three non-blocking 4 MiB DP all-reduces issued at 0, 10, 20 us and
// waited on at 100, 110, 120 us while the backward kernel runs to `backward_us`, then one blocking
// 1 MiB all-reduce at [150, 160) us. True figures: the DP group is busy 120 us per step and rank
// (the union), not 300; the buckets' transfer time is unknown; the blocking call moves 1 MiB in 10 us.
inline std::string bucket_rank_text(std::int64_t backward_us, std::int64_t offset_us = 0) {
    std::string s;
    for (int step = 0; step < 3; ++step) {
        auto at = [&](std::int64_t us) { return std::to_string(step * 200000 + (offset_us + us) * 1000); };
        s += "step step " + at(0) + " " + at(200) + " lane=0 step=" + std::to_string(step) + "\n";
        s += "kernel backward " + at(0) + " " + at(backward_us) + " lane=2\n";
        for (int b = 0; b < 3; ++b)
            s += "comm all_reduce " + at(10 * b) + " " + at(100 + 10 * b) +
                 " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=4194304 seq=" + std::to_string(4 * step + b) +
                 "\n";
        s += "comm all_reduce " + at(150) + " " + at(160) +
             " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=1048576 seq=" + std::to_string(4 * step + 3) + "\n";
    }
    return s;
}

}  // namespace afx

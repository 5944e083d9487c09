#include "traces/merge.h"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "traces/lod.h"
#include "traces/reader.h"
#include "traces/stats_keys.h"
#include "traces/writer.h"

namespace ss::traces {

std::int64_t correct_time(const RankInfo& k, std::int64_t t) {
    const double drift = k.clock_drift_ppb * 1e-9 * static_cast<double>(t - k.clock_ref_ns);
    return t - k.clock_offset_ns - static_cast<std::int64_t>(std::llround(drift));
}

bool recover_interrupted_write(const std::string& rank_file) {
    std::error_code ec;
    if (!std::filesystem::exists(rank_file + "-journal", ec)) return false;
    // Opening a writer reads the file, and SQLite rolls a hot journal back on that first read.
    TraceWriter recover(rank_file, WriterOptions{.durable = false});
    return true;
}

namespace {
int severity(RunStatus s) {
    switch (s) {
        case RunStatus::Completed: return 0;
        case RunStatus::Cancelled: return 1;
        case RunStatus::Running: return 2;  // never finished: the process died
        case RunStatus::Failed: return 3;
    }
    return 3;
}

struct Input {
    std::string path;
    std::unique_ptr<TraceReader> reader;
    RunInfo run;
    RankInfo rank;
};
}  // namespace

MergeResult merge_rank_files(const std::vector<std::string>& files, const std::string& output,
                             const MergeOptions& opt) {
    if (files.empty()) throw TraceError("merge: no rank files given");
    // Read and check every input before touching the output.
    std::vector<Input> inputs;
    std::set<int> seen;
    std::vector<std::string> recovered;
    for (const auto& f : files) {
        if (recover_interrupted_write(f))
            recovered.push_back("'" + f + "' was rolled back to its last flush (its rank ended inside a write)");
        Input in;
        in.path = f;
        in.reader = std::make_unique<TraceReader>(f);
        auto runs = in.reader->runs();
        if (runs.size() != 1)
            throw TraceError("merge: '" + f + "' holds " + std::to_string(runs.size()) +
                             " runs; a rank file holds exactly one");
        in.run = runs[0];
        auto ranks = in.reader->ranks(in.run.id);
        if (ranks.size() != 1)
            throw TraceError("merge: '" + f + "' holds " + std::to_string(ranks.size()) +
                             " ranks; a rank file holds exactly one");
        in.rank = ranks[0];
        if (!seen.insert(in.rank.rank).second)
            throw TraceError("merge: rank " + std::to_string(in.rank.rank) +
                             " appears twice (again in '" + f + "')");
        if (!inputs.empty()) {
            const RunInfo& a = inputs[0].run;
            if (a.name != in.run.name || a.world_size != in.run.world_size || a.dp != in.run.dp ||
                a.tp != in.run.tp || a.pp != in.run.pp)
                throw TraceError("merge: '" + f + "' belongs to another run ('" + in.run.name +
                                 "', world " + std::to_string(in.run.world_size) + ") than '" +
                                 inputs[0].path + "' ('" + a.name + "', world " +
                                 std::to_string(a.world_size) + ")");
        }
        if (in.rank.rank < 0 || in.rank.rank >= in.run.world_size)
            throw TraceError("merge: '" + f + "' is rank " + std::to_string(in.rank.rank) +
                             " of a world of " + std::to_string(in.run.world_size));
        inputs.push_back(std::move(in));
    }
    std::sort(inputs.begin(), inputs.end(),
              [](const Input& a, const Input& b) { return a.rank.rank < b.rank.rank; });

    MergeResult result;
    result.warnings = recovered;
    const int world = opt.expected_world_size > 0 ? opt.expected_world_size
                                                  : inputs[0].run.world_size;
    std::vector<int> missing;
    for (int r = 0; r < world; ++r)
        if (!seen.count(r)) missing.push_back(r);

    // Run metadata from the lowest rank (rank 0 when present); times on the common clock.
    RunInfo info = inputs[0].run;
    info.start_ns = INT64_MAX;
    info.end_ns = INT64_MIN;
    for (const auto& in : inputs) {
        info.start_ns = std::min(info.start_ns, correct_time(in.rank, in.run.start_ns));
        info.end_ns = std::max(info.end_ns, correct_time(in.rank, in.run.end_ns));
        // A rank file whose process died has no end time: its events bound the run instead.
        for (const auto& l : in.reader->lanes(in.run.id)) {
            if (l.event_count == 0) continue;
            info.start_ns = std::min(info.start_ns, correct_time(in.rank, l.min_start_ns));
            info.end_ns = std::max(info.end_ns, correct_time(in.rank, l.max_end_ns));
        }
    }
    std::set<std::string> hosts;
    for (const auto& in : inputs) hosts.insert(in.rank.host);
    if (!opt.hosts.empty()) info.hosts = opt.hosts;
    if (info.hosts.empty()) info.hosts.assign(hosts.begin(), hosts.end());
    if (opt.oversubscribed) info.oversubscribed = *opt.oversubscribed;
    info.status = RunStatus::Running;
    info.failure_reason.clear();

    // Status: the worst of the ranks, unless the caller knows better.
    RunStatus status = RunStatus::Completed;
    std::string reason;
    for (const auto& in : inputs) {
        if (severity(in.run.status) > severity(status)) {
            status = in.run.status;
            reason = in.run.status == RunStatus::Running
                         ? "rank " + std::to_string(in.rank.rank) +
                               " did not finish its trace (the process ended early)"
                         : "rank " + std::to_string(in.rank.rank) + ": " + in.run.failure_reason;
        }
    }
    if (status == RunStatus::Running) status = RunStatus::Failed;
    if (!missing.empty() && status == RunStatus::Completed) {
        status = RunStatus::Failed;
        reason = "no trace from rank " + std::to_string(missing.front()) +
                 (missing.size() > 1 ? " and " + std::to_string(missing.size() - 1) + " more" : "");
    }
    if (opt.status) {
        status = *opt.status;
        reason = opt.failure_reason.empty() ? reason : opt.failure_reason;
    }

    TraceWriter w(output);
    RunId run = w.begin_run(info);
    result.run = run;
    for (int r : missing) {
        w.add_stat(run, r, stats::kMergeRankFileMissing.key, 1);
        result.warnings.push_back("no trace file for rank " + std::to_string(r));
    }
    for (auto& in : inputs) {
        RankInfo rank = in.rank;
        rank.run = run;
        rank.clock_corrected = true;
        w.put_rank(rank);
        if (in.rank.clock_rtt_ns <= 0 && in.rank.rank != 0) {
            w.add_stat(run, rank.rank, stats::kClockSyncFailed.key, 1);
            result.warnings.push_back("rank " + std::to_string(rank.rank) +
                                      " has no clock measurement; its times are uncorrected");
        }
        TraceReader& rd = *in.reader;
        for (const auto& l : rd.lanes(in.run.id)) w.define_lane(run, l.rank, l.lane, l.name);
        // Re-intern the rank file's strings in the output file.
        std::map<std::int64_t, StringId> names;
        auto map_name = [&](StringId id) {
            auto it = names.find(id.value);
            if (it != names.end()) return it->second;
            return names.emplace(id.value, w.intern(rd.string(id))).first->second;
        };
        std::int64_t outside = 0;
        rd.scan_events(in.run.id, [&](const Event& src) {
            Event e = src;
            e.run = run;
            e.rank = rank.rank;  // a rank file's events all belong to its rank
            e.name = map_name(src.name);
            e.start_ns = correct_time(in.rank, src.start_ns);
            e.end_ns = correct_time(in.rank, src.end_ns);
            if (e.start_ns < info.start_ns || e.end_ns > info.end_ns) ++outside;
            if (w.add_event(e)) ++result.events;
        });
        if (outside) w.add_stat(run, rank.rank, stats::kMergeEventsOutsideRun.key, outside);
        for (const auto& m : rd.metrics(in.run.id))
            w.add_metric(run, rank.rank, m.step, correct_time(in.rank, m.time_ns), m.name, m.value);
        for (const auto& s : rd.stats(in.run.id))
            w.add_stat(run, s.rank < 0 ? rank.rank : s.rank, s.key, s.value);
        ++result.ranks;
    }
    w.finish_run(run, status, reason, info.end_ns);
    compute_lane_lod(output, run);  // the timeline's level of detail (traces/lod.h)
    result.status = status;
    result.failure_reason = reason;
    return result;
}

}  // namespace ss::traces

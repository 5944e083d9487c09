// Timeline level of detail (the lane_lod table, SCHEMA.md): per lane, at a few bucket widths, how
// much of each bucket the lane was busy (the union of its events, nested or overlapping ones
// counted once), how many events overlap the bucket and which kind took the most time in it.
// A zoomed-out timeline draws these as density instead of reading millions of events, and a
// busy bucket is never drawn as idle.
//
// Levels: bucket widths are powers of two nanoseconds, buckets aligned to multiples of their width
// (bucket start = floor(t / width) · width). The coarsest width is the smallest power of two that
// covers the run's span in at most `coarse_buckets` buckets; each finer level is 2^ratio_log2
// (4) times finer, so some level draws a view with buckets between half a pixel and two pixels
// wide (at most about 2 × width buckets per row). A lane keeps a finer level while its events per bucket (over its own extent) stay
// at least `min_events_per_bucket`, so the rows of a lane stay below its events / that number
// (plus one coarse level): memory and file size grow with the events, never with the zoom.
// Only non-empty buckets (busy or holding an event) are stored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "traces/sqlite_util.h"
#include "traces/types.h"

namespace ss::traces {

struct LodBucket {
    std::int64_t start_ns = 0;  // a multiple of width_ns
    std::int64_t width_ns = 0;
    std::int64_t busy_ns = 0;   // time of [start, start + width) covered by the union of the lane's events
    std::int64_t events = 0;    // events overlapping the bucket (an instant event: the bucket it lies in)
    EventKind kind = EventKind::Kernel;  // the kind with the most event time in the bucket (instants: 1 ns)
    friend bool operator==(const LodBucket&, const LodBucket&) = default;
};

struct LodOptions {
    std::int64_t coarse_buckets = 4096;
    int ratio_log2 = 2;  // 4x finer per level
    double min_events_per_bucket = 8;
    int max_levels = 8;  // 4^7 = 16,384x finer than the coarsest at most
};

// The level widths of a run spanning `span_ns`, coarsest first, finest 1 ns at the least.
std::vector<std::int64_t> lod_widths(std::int64_t span_ns, const LodOptions& options = {});

// Builds the buckets of one lane from its events, streamed in start order. Memory: one slot per
// bucket of the lane's levels over [lo, hi), whatever the number of events.
class LaneLodBuilder {
public:
    // [lo, hi): the lane's extent (events outside it are clipped to it); widths: coarsest first.
    LaneLodBuilder(std::int64_t lo, std::int64_t hi, const std::vector<std::int64_t>& widths);
    // Adds an event. Returns false (and ignores it) when it starts before the previous one: the
    // caller then restarts the lane from an ordered stream.
    bool add(EventKind kind, std::int64_t start_ns, std::int64_t end_ns);
    // The non-empty buckets, by width (finest first) then start.
    std::vector<LodBucket> finish();
    std::size_t bucket_slots() const;

private:
    struct Level {
        std::int64_t width = 0, base = 0, n = 0;
        std::vector<std::int64_t> busy;
        std::vector<std::int32_t> count_diff;  // difference array: events overlapping each bucket
        std::vector<std::vector<std::int64_t>> kind_time;   // [kind][bucket], allocated on first use
        std::vector<std::vector<std::int32_t>> kind_full;   // [kind] difference array: buckets covered whole
    };
    void cover(std::int64_t a, std::int64_t b);  // adds the union interval [a, b) to busy
    std::int64_t lo_ = 0, hi_ = 0;
    std::vector<Level> levels_;
    std::int64_t us_ = 0, ue_ = 0, last_start_ = INT64_MIN;
    bool have_ = false;
};

struct LodComputeStats {
    std::int64_t events = 0;
    std::int64_t buckets = 0;
    std::int64_t lanes = 0;
    std::int64_t lanes_reordered = 0;  // lanes whose storage order was not start order (read again by the index)
    double seconds = 0;
};

// Computes the level of detail of `run` from the events of `src` and stores it in the lane_lod
// table of `dst` (the same connection, or another database holding the current schema),
// replacing the run's rows, in one transaction. One scan of the run's events in storage order;
// a lane found out of start order is read again in start order through the events index.
// `check` (optional) is called every 65,536 events and may throw to cancel.
LodComputeStats compute_lane_lod(Db& src, RunId run, Db& dst, const LodOptions& options = {},
                                 const std::function<void()>& check = {});
// The same on a writable trace file of the current schema version (after a merge or an import).
LodComputeStats compute_lane_lod(const std::string& path, RunId run, const LodOptions& options = {});

// Whether `db` holds level-of-detail rows for `run` (false when the table is absent).
bool has_lane_lod(Db& db, RunId run);

// Reads the level of detail of one run of a trace file. When the file has none for the run (an
// imported run, a file from before schema version 4), it is computed on open: into the file when
// `write_back` and the file is writable at the current schema version, else into memory (the
// file is then never written). Throws TraceError for a file that is not a readable trace.
class LaneLodStore {
public:
    LaneLodStore(const std::string& path, RunId run, bool write_back,
                 const std::function<void()>& check = {});
    RunId run() const { return run_; }
    bool computed() const { return computed_; }    // false: the rows were stored already
    bool in_memory() const { return in_memory_; }  // computed into memory (the file was not written)
    const LodComputeStats& compute_stats() const { return stats_; }

    // The lane's widths, coarsest first (empty: the lane has no rows).
    const std::vector<std::int64_t>& widths(std::int32_t rank, std::int32_t lane);
    // The coarsest width fine enough for a pixel of `ns_per_px` (a bucket at most two pixels
    // wide: <= 2 · ns_per_px), else the lane's finest; 0 when the lane has no rows.
    std::int64_t width_for(std::int32_t rank, std::int32_t lane, double ns_per_px);
    // The buckets of one width overlapping [t0, t1), by start.
    std::vector<LodBucket> buckets(std::int32_t rank, std::int32_t lane, std::int64_t width_ns,
                                   std::int64_t t0, std::int64_t t1);

private:
    Db db_;
    RunId run_;
    bool computed_ = false, in_memory_ = false;
    LodComputeStats stats_;
    Stmt widths_, buckets_;
    std::map<std::pair<std::int32_t, std::int32_t>, std::vector<std::int64_t>> widths_cache_;
};

}  // namespace ss::traces

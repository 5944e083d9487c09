#include "traces/lod.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "traces/schema.h"

namespace ss::traces {

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

EventKind kind_of(std::int64_t v) {
    return v >= 0 && v < kEventKindCount ? static_cast<EventKind>(v) : EventKind::HostRange;
}

struct LaneBounds {
    std::int32_t rank = 0, lane = 0;
    std::int64_t count = 0, lo = 0, hi = 0;
};

std::vector<LaneBounds> lane_bounds(Db& db, RunId run) {
    auto read = [&](Stmt& st) {
        std::vector<LaneBounds> out;
        st.bind(1, run.value);
        while (st.step())
            if (st.col_int(2) > 0)
                out.push_back(LaneBounds{static_cast<std::int32_t>(st.col_int(0)),
                                         static_cast<std::int32_t>(st.col_int(1)), st.col_int(2),
                                         st.col_int(3), st.col_int(4)});
        return out;
    };
    Stmt stored = db.prepare(
        "SELECT rank, lane, event_count, min_start_ns, max_end_ns FROM lanes WHERE run_id=?1"
        " ORDER BY rank, lane");
    std::vector<LaneBounds> out = read(stored);
    if (!out.empty()) return out;
    // A file whose writer never flushed its lane rows (a crashed rank file).
    Stmt derived = db.prepare(
        "SELECT rank, lane, count(*), min(start_ns), max(end_ns) FROM events WHERE run_id=?1"
        " GROUP BY rank, lane ORDER BY rank, lane");
    return read(derived);
}

// The widths a lane keeps: the coarsest always, finer ones while its events per bucket stay at
// least min_events_per_bucket.
std::vector<std::int64_t> lane_widths(const std::vector<std::int64_t>& run_widths, const LaneBounds& l,
                                      const LodOptions& opt) {
    std::vector<std::int64_t> out;
    const double extent = static_cast<double>(std::max<std::int64_t>(l.hi - l.lo, 1));
    for (std::int64_t w : run_widths) {
        const double buckets = extent / static_cast<double>(w);
        if (!out.empty() && static_cast<double>(l.count) < buckets * opt.min_events_per_bucket) break;
        out.push_back(w);
    }
    return out;
}
}  // namespace

std::vector<std::int64_t> lod_widths(std::int64_t span_ns, const LodOptions& opt) {
    const std::int64_t span = std::max<std::int64_t>(span_ns, 1);
    const std::int64_t target = std::max<std::int64_t>(opt.coarse_buckets, 1);
    std::int64_t w = 1;
    while (w < (std::int64_t(1) << 60) && (span + w - 1) / w > target) w <<= 1;
    std::vector<std::int64_t> out;
    for (int i = 0; i < std::max(opt.max_levels, 1) && w >= 1; ++i) {
        out.push_back(w);
        if (w == 1) break;
        w = std::max<std::int64_t>(w >> std::max(opt.ratio_log2, 1), 1);
    }
    return out;
}

// ---- LaneLodBuilder

LaneLodBuilder::LaneLodBuilder(std::int64_t lo, std::int64_t hi, const std::vector<std::int64_t>& widths)
    : lo_(lo), hi_(std::max(hi, lo) + 1) {  // +1: an instant event at the lane's end fits
    for (std::int64_t w : widths) {
        Level l;
        l.width = w;
        l.base = floor_div(lo_, w);
        l.n = floor_div(hi_ - 1, w) - l.base + 1;
        l.busy.assign(static_cast<size_t>(l.n), 0);
        l.count_diff.assign(static_cast<size_t>(l.n) + 1, 0);
        l.kind_time.resize(kEventKindCount);
        l.kind_full.resize(kEventKindCount);
        levels_.push_back(std::move(l));
    }
}

std::size_t LaneLodBuilder::bucket_slots() const {
    std::size_t n = 0;
    for (const Level& l : levels_) n += static_cast<size_t>(l.n);
    return n;
}

void LaneLodBuilder::cover(std::int64_t a, std::int64_t b) {
    for (Level& l : levels_) {
        const std::int64_t k1 = floor_div(a, l.width) - l.base, k2 = floor_div(b - 1, l.width) - l.base;
        for (std::int64_t k = k1; k <= k2; ++k) {
            const std::int64_t bs = (l.base + k) * l.width;
            l.busy[static_cast<size_t>(k)] += std::min(b, bs + l.width) - std::max(a, bs);
        }
    }
}

bool LaneLodBuilder::add(EventKind kind, std::int64_t s, std::int64_t e) {
    s = std::clamp(s, lo_, hi_ - 1);
    e = std::clamp(e, s, hi_);
    if (s < last_start_) return false;
    last_start_ = s;
    if (e > s) {  // the union of the lane's events, one interval at a time (starts are ordered)
        if (!have_) {
            us_ = s;
            ue_ = e;
            have_ = true;
        } else if (s <= ue_) {
            ue_ = std::max(ue_, e);
        } else {
            cover(us_, ue_);
            us_ = s;
            ue_ = e;
        }
    }
    const auto ki = static_cast<size_t>(kind);
    for (Level& l : levels_) {
        const std::int64_t w = l.width;
        const std::int64_t k1 = floor_div(s, w) - l.base;
        const std::int64_t kc = floor_div(std::max(e, s + 1) - 1, w) - l.base;
        l.count_diff[static_cast<size_t>(k1)] += 1;
        l.count_diff[static_cast<size_t>(kc) + 1] -= 1;
        auto& kt = l.kind_time[ki];
        auto& kf = l.kind_full[ki];
        if (kt.empty()) {
            kt.assign(static_cast<size_t>(l.n), 0);
            kf.assign(static_cast<size_t>(l.n) + 1, 0);
        }
        if (e == s) {
            kt[static_cast<size_t>(k1)] += 1;
            continue;
        }
        const std::int64_t k2 = floor_div(e - 1, w) - l.base;
        if (k1 == k2) {
            kt[static_cast<size_t>(k1)] += e - s;
        } else {
            kt[static_cast<size_t>(k1)] += (l.base + k1 + 1) * w - s;
            kt[static_cast<size_t>(k2)] += e - (l.base + k2) * w;
            kf[static_cast<size_t>(k1) + 1] += 1;  // buckets k1+1 .. k2-1 covered whole
            kf[static_cast<size_t>(k2)] -= 1;
        }
    }
    return true;
}

std::vector<LodBucket> LaneLodBuilder::finish() {
    if (have_) cover(us_, ue_);
    have_ = false;
    std::vector<LodBucket> out;
    for (auto it = levels_.rbegin(); it != levels_.rend(); ++it) {  // finest (smallest width) first
        Level& l = *it;
        std::int64_t count = 0;
        std::vector<std::int64_t> full(kEventKindCount, 0);
        for (std::int64_t k = 0; k < l.n; ++k) {
            const auto ku = static_cast<size_t>(k);
            count += l.count_diff[ku];
            std::int64_t best = -1;
            int bestKind = 0;
            for (int kind = 0; kind < kEventKindCount; ++kind) {
                const auto& kt = l.kind_time[static_cast<size_t>(kind)];
                if (kt.empty()) continue;
                full[static_cast<size_t>(kind)] += l.kind_full[static_cast<size_t>(kind)][ku];
                const std::int64_t t = kt[ku] + full[static_cast<size_t>(kind)] * l.width;
                if (t > best) {
                    best = t;
                    bestKind = kind;
                }
            }
            if (count == 0 && l.busy[ku] == 0) continue;
            out.push_back(LodBucket{(l.base + k) * l.width, l.width, l.busy[ku], count,
                                    static_cast<EventKind>(bestKind)});
        }
        // Free the level as soon as it is emitted.
        l = Level{};
    }
    return out;
}

// ---- compute and store

bool has_lane_lod(Db& db, RunId run) {
    if (!db.table_exists("lane_lod")) return false;
    Stmt st = db.prepare("SELECT 1 FROM lane_lod WHERE run_id=?1 LIMIT 1");
    st.bind(1, run.value);
    return st.step();
}

LodComputeStats compute_lane_lod(Db& src, RunId run, Db& dst, const LodOptions& opt,
                                 const std::function<void()>& check) {
    const auto t0 = std::chrono::steady_clock::now();
    LodComputeStats stats;
    const std::vector<LaneBounds> lanes = lane_bounds(src, run);
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const LaneBounds& l : lanes) {
        lo = std::min(lo, l.lo);
        hi = std::max(hi, l.hi);
    }
    const std::vector<std::int64_t> widths = lanes.empty() ? std::vector<std::int64_t>{} : lod_widths(hi - lo, opt);
    std::map<std::pair<std::int32_t, std::int32_t>, size_t> index;
    std::vector<std::unique_ptr<LaneLodBuilder>> builders;
    std::vector<bool> reordered(lanes.size(), false);
    for (size_t i = 0; i < lanes.size(); ++i) {
        index[{lanes[i].rank, lanes[i].lane}] = i;
        builders.push_back(std::make_unique<LaneLodBuilder>(lanes[i].lo, lanes[i].hi, lane_widths(widths, lanes[i], opt)));
    }
    // One scan in storage order (not through the index: "+run_id"), every lane at once.
    {
        Stmt st = src.prepare("SELECT rank, lane, kind, start_ns, end_ns FROM events WHERE +run_id=?1");
        st.bind(1, run.value);
        std::pair<std::int32_t, std::int32_t> lastKey{INT32_MIN, INT32_MIN};
        size_t last = SIZE_MAX;
        while (st.step()) {
            if ((++stats.events & 0xffff) == 0 && check) check();
            const std::pair<std::int32_t, std::int32_t> key{static_cast<std::int32_t>(st.col_int(0)),
                                                            static_cast<std::int32_t>(st.col_int(1))};
            if (key != lastKey) {
                auto it = index.find(key);
                last = it == index.end() ? SIZE_MAX : it->second;
                lastKey = key;
            }
            if (last == SIZE_MAX || reordered[last]) continue;
            if (!builders[last]->add(kind_of(st.col_int(2)), st.col_int(3), st.col_int(4)))
                reordered[last] = true;
        }
    }
    Transaction tx(dst);
    {
        Stmt del = dst.prepare("DELETE FROM lane_lod WHERE run_id=?1");
        del.bind(1, run.value);
        del.run();
    }
    Stmt ins = dst.prepare(
        "INSERT INTO lane_lod(run_id, rank, lane, width_ns, start_ns, busy_ns, events, kind)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    Stmt ordered;
    for (size_t i = 0; i < lanes.size(); ++i) {
        const LaneBounds& l = lanes[i];
        if (reordered[i]) {
            // Stored out of start order (nested spans are written when they end): read the lane
            // again in start order through the events index.
            ++stats.lanes_reordered;
            builders[i] = std::make_unique<LaneLodBuilder>(l.lo, l.hi, lane_widths(widths, l, opt));
            if (!ordered.handle())
                ordered = src.prepare(
                    "SELECT kind, start_ns, end_ns FROM events WHERE run_id=?1 AND rank=?2 AND lane=?3"
                    " ORDER BY start_ns");
            ordered.bind(1, run.value).bind(2, l.rank).bind(3, l.lane);
            std::int64_t n = 0;
            while (ordered.step()) {
                if ((++n & 0xffff) == 0 && check) check();
                builders[i]->add(kind_of(ordered.col_int(0)), ordered.col_int(1), ordered.col_int(2));
            }
            ordered.reset();
        }
        const std::vector<LodBucket> buckets = builders[i]->finish();
        builders[i].reset();
        for (const LodBucket& b : buckets) {
            ins.bind(1, run.value).bind(2, l.rank).bind(3, l.lane).bind(4, b.width_ns).bind(5, b.start_ns);
            ins.bind(6, b.busy_ns).bind(7, b.events).bind(8, static_cast<std::int64_t>(b.kind));
            ins.run();
        }
        stats.buckets += static_cast<std::int64_t>(buckets.size());
        ++stats.lanes;
        if (check) check();
    }
    tx.commit();
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return stats;
}

LodComputeStats compute_lane_lod(const std::string& path, RunId run, const LodOptions& opt) {
    Db db(path, Db::Mode::ReadWrite);
    const int version = read_schema_version(db);
    if (version != kSchemaVersion)
        throw TraceError("'" + path + "' is schema version " + std::to_string(version) +
                         "; the level of detail is stored in version " + std::to_string(kSchemaVersion) + " files");
    validate_structure(db, version);
    db.exec("PRAGMA cache_size=-65536");
    return compute_lane_lod(db, run, db, opt);
}

// ---- LaneLodStore

LaneLodStore::LaneLodStore(const std::string& path, RunId run, bool write_back, const std::function<void()>& check)
    : run_(run) {
    Db file(path, Db::Mode::ReadOnly);
    const int version = read_schema_version(file);
    validate_structure(file, version);
    if (version == kSchemaVersion && has_lane_lod(file, run)) {
        db_ = std::move(file);
        return;
    }
    computed_ = true;
    const bool writable = write_back && version == kSchemaVersion && ::access(path.c_str(), W_OK) == 0 &&
                          ::access(std::filesystem::path(path).parent_path().empty()
                                       ? "."
                                       : std::filesystem::path(path).parent_path().c_str(),
                                   W_OK) == 0;
    if (writable) {
        try {
            Db rw(path, Db::Mode::ReadWrite);
            stats_ = compute_lane_lod(rw, run, rw, {}, check);
            db_ = std::move(file);  // sees the committed rows
            return;
        } catch (const TraceError&) {
            // Locked by a writer, read-only medium: compute into memory below.
        }
    }
    Db mem = Db::memory();
    create_schema(mem, "scalescope");
    stats_ = compute_lane_lod(file, run, mem, {}, check);
    db_ = std::move(mem);
    in_memory_ = true;
}

const std::vector<std::int64_t>& LaneLodStore::widths(std::int32_t rank, std::int32_t lane) {
    auto it = widths_cache_.find({rank, lane});
    if (it != widths_cache_.end()) return it->second;
    if (!widths_.handle())
        widths_ = db_.prepare(
            "SELECT width_ns FROM lane_lod WHERE run_id=?1 AND rank=?2 AND lane=?3 AND width_ns<?4"
            " ORDER BY width_ns DESC LIMIT 1");
    std::vector<std::int64_t> out;
    std::int64_t below = INT64_MAX;
    for (;;) {  // one index seek per level
        widths_.bind(1, run_.value).bind(2, rank).bind(3, lane).bind(4, below);
        const bool found = widths_.step();
        if (found) below = widths_.col_int(0);
        widths_.reset();
        if (!found || below <= 0) break;
        out.push_back(below);
    }
    return widths_cache_.emplace(std::pair{rank, lane}, std::move(out)).first->second;
}

std::int64_t LaneLodStore::width_for(std::int32_t rank, std::int32_t lane, double ns_per_px) {
    const auto& w = widths(rank, lane);
    if (w.empty()) return 0;
    for (std::int64_t x : w)
        if (static_cast<double>(x) <= 2 * ns_per_px) return x;
    return w.back();
}

std::vector<LodBucket> LaneLodStore::buckets(std::int32_t rank, std::int32_t lane, std::int64_t width_ns,
                                             std::int64_t t0, std::int64_t t1) {
    if (!buckets_.handle())
        buckets_ = db_.prepare(
            "SELECT start_ns, busy_ns, events, kind FROM lane_lod WHERE run_id=?1 AND rank=?2 AND lane=?3"
            " AND width_ns=?4 AND start_ns>?5 AND start_ns<?6 ORDER BY start_ns");
    std::vector<LodBucket> out;
    buckets_.bind(1, run_.value).bind(2, rank).bind(3, lane).bind(4, width_ns).bind(5, t0 - width_ns).bind(6, t1);
    while (buckets_.step())
        out.push_back(LodBucket{buckets_.col_int(0), width_ns, buckets_.col_int(1), buckets_.col_int(2),
                                kind_of(buckets_.col_int(3))});
    buckets_.reset();
    return out;
}

}  // namespace ss::traces

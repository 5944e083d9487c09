#include "traces/spilled_summaries.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "traces/sqlite_util.h"

namespace ss::traces {

namespace {
constexpr std::size_t kEntryBytes = 12;  // int64 duration, uint32 group

std::string where(int line) {
    return std::string(" at ") + __FILE__ + ":" + std::to_string(line);
}
}  // namespace

SpilledSummaries::SpilledSummaries(std::string what) : what_(std::move(what)) {}

SpilledSummaries::~SpilledSummaries() {
    if (file_) std::fclose(file_);
}

void SpilledSummaries::add(std::uint32_t group, std::int64_t d) {
    if (group >= groups_.size()) groups_.resize(group + 1);
    DurationSummary& s = groups_[group];
    s.min_ns = s.count ? std::min(s.min_ns, d) : d;
    s.max_ns = s.count ? std::max(s.max_ns, d) : d;
    s.count++;
    s.total_ns += d;
    if (buf_.empty()) buf_.resize(kBufferEntries * kEntryBytes);
    unsigned char* p = buf_.data() + buffered_ * kEntryBytes;
    std::memcpy(p, &d, 8);
    std::memcpy(p + 8, &group, 4);
    if (++buffered_ == kBufferEntries) spill();
}

void SpilledSummaries::spill() {
    if (!file_) {
        file_ = std::tmpfile();
        if (!file_)
            throw TraceError("summarising the durations of " + what_ +
                             ": cannot create a temporary file: " + std::strerror(errno) +
                             " (tmpfile" + where(__LINE__) + ")");
    }
    if (std::fwrite(buf_.data(), kEntryBytes, buffered_, file_) != buffered_)
        throw TraceError("summarising the durations of " + what_ +
                         ": cannot write the temporary file: " + std::strerror(errno) + " (fwrite" +
                         where(__LINE__) + ")");
    spilled_ += static_cast<std::int64_t>(buffered_);
    buffered_ = 0;
}

template <typename F>
void SpilledSummaries::each(F&& f) {
    auto run = [&](const unsigned char* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i, p += kEntryBytes) {
            std::int64_t d;
            std::uint32_t g;
            std::memcpy(&d, p, 8);
            std::memcpy(&g, p + 8, 4);
            f(g, d);
        }
    };
    if (file_ && spilled_ > 0) {
        if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
            throw TraceError("summarising the durations of " + what_ +
                             ": cannot rewind the temporary file: " + std::strerror(errno) +
                             " (fseek" + where(__LINE__) + ")");
        std::vector<unsigned char> in(kEntryBytes * 65536);
        std::int64_t left = spilled_;
        while (left > 0) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(left, 65536));
            if (std::fread(in.data(), kEntryBytes, want, file_) != want)
                throw TraceError("summarising the durations of " + what_ +
                                 ": cannot read the temporary file back: " +
                                 (std::ferror(file_) ? std::strerror(errno) : "it ends early") +
                                 " (fread" + where(__LINE__) + ")");
            run(in.data(), want);
            left -= static_cast<std::int64_t>(want);
        }
    }
    run(buf_.data(), buffered_);
}

std::vector<DurationSummary> SpilledSummaries::finish() {
    passes_ = 0;
    // One target per order statistic wanted: the median's one or two middle values and the p95
    // (nearest rank: index ceil(0.95 n) - 1), as summarize_durations defines them.
    struct Target {
        std::uint32_t group;
        std::int64_t k;       // rank among the values in [lo, hi]
        std::int64_t lo, hi;  // the values it can still be, inclusive
        std::int64_t in_range;
        std::int64_t value = 0;
        bool done = false;
    };
    std::vector<Target> targets;
    struct Want {
        std::size_t lower = 0, upper = 0, p95 = 0;  // indices into targets
    };
    std::vector<Want> wants(groups_.size());
    for (std::uint32_t g = 0; g < groups_.size(); ++g) {
        const DurationSummary& s = groups_[g];
        if (s.count == 0) continue;
        const std::int64_t n = s.count, hi = n / 2, p95 = (95 * n + 99) / 100 - 1;
        auto target = [&](std::int64_t k) {
            for (std::size_t i = targets.size(); i-- > 0 && targets[i].group == g;)
                if (targets[i].k == k) return i;
            targets.push_back(Target{g, k, s.min_ns, s.max_ns, n});
            if (s.min_ns == s.max_ns) {
                targets.back().done = true;
                targets.back().value = s.min_ns;
            }
            return targets.size() - 1;
        };
        wants[g].upper = target(hi);
        wants[g].lower = n % 2 ? wants[g].upper : target(hi - 1);
        wants[g].p95 = target(p95);
    }

    // The open targets of a group in this pass: a chain through `next`.
    std::vector<std::int32_t> head(groups_.size(), -1);
    std::vector<std::size_t> open;
    while (true) {
        open.clear();
        for (std::size_t i = 0; i < targets.size() && open.size() < kTargetsPerPass; ++i)
            if (!targets[i].done) open.push_back(i);
        if (open.empty()) break;
        ++passes_;
        struct Pass {
            std::int64_t lo, hi;
            int shift = 0;  // histogram: bucket = (d - lo) >> shift
            bool collect = false;
            std::int32_t next = -1;
            std::vector<std::int64_t> kept;
            std::vector<std::int64_t> count;
        };
        std::vector<Pass> pass(open.size());
        for (std::size_t j = 0; j < open.size(); ++j) {
            Target& t = targets[open[j]];
            Pass& p = pass[j];
            p.lo = t.lo;
            p.hi = t.hi;
            p.collect = t.in_range <= kCollect;
            if (p.collect) {
                p.kept.reserve(static_cast<std::size_t>(t.in_range));
            } else {
                const auto width =
                    static_cast<std::uint64_t>(t.hi) - static_cast<std::uint64_t>(t.lo);
                p.shift = std::max(0, static_cast<int>(std::bit_width(width)) - 8);
                p.count.assign(256, 0);
            }
            p.next = head[t.group];
            head[t.group] = static_cast<std::int32_t>(j);
        }
        each([&](std::uint32_t g, std::int64_t d) {
            for (std::int32_t j = head[g]; j >= 0;) {
                Pass& p = pass[static_cast<std::size_t>(j)];
                if (d >= p.lo && d <= p.hi) {
                    if (p.collect)
                        p.kept.push_back(d);
                    else
                        ++p.count[(static_cast<std::uint64_t>(d) -
                                   static_cast<std::uint64_t>(p.lo)) >>
                                  p.shift];
                }
                j = p.next;
            }
        });
        for (std::size_t j = 0; j < open.size(); ++j) {
            Target& t = targets[open[j]];
            Pass& p = pass[j];
            head[t.group] = -1;
            if (p.collect) {
                if (static_cast<std::int64_t>(p.kept.size()) <= t.k)
                    throw TraceError("summarising the durations of " + what_ +
                                     ": the durations changed between passes" + where(__LINE__));
                std::nth_element(p.kept.begin(), p.kept.begin() + t.k, p.kept.end());
                t.value = p.kept[static_cast<std::size_t>(t.k)];
                t.done = true;
                continue;
            }
            std::int64_t below = 0;
            std::size_t b = 0;
            while (b < 256 && below + p.count[b] <= t.k) below += p.count[b++];
            if (b == 256)
                throw TraceError("summarising the durations of " + what_ +
                                 ": the durations changed between passes" + where(__LINE__));
            const std::uint64_t base =
                static_cast<std::uint64_t>(p.lo) + (static_cast<std::uint64_t>(b) << p.shift);
            const std::uint64_t top = base + ((std::uint64_t{1} << p.shift) - 1);
            t.lo = static_cast<std::int64_t>(base);
            t.hi = std::min(t.hi, static_cast<std::int64_t>(top));
            t.k -= below;
            t.in_range = p.count[b];
            if (t.lo == t.hi) {
                t.value = t.lo;
                t.done = true;
            }
        }
    }

    std::vector<DurationSummary> out(groups_.size());
    for (std::uint32_t g = 0; g < groups_.size(); ++g) {
        DurationSummary s = groups_[g];
        if (s.count > 0) {
            s.mean_ns = static_cast<double>(s.total_ns) / static_cast<double>(s.count);
            const double upper = static_cast<double>(targets[wants[g].upper].value);
            s.median_ns = s.count % 2
                              ? upper
                              : (static_cast<double>(targets[wants[g].lower].value) + upper) / 2.0;
            s.p95_ns = targets[wants[g].p95].value;
        }
        out[g] = s;
    }
    groups_.clear();
    buffered_ = 0;
    spilled_ = 0;
    if (file_) {
        std::fclose(file_);
        file_ = nullptr;
    }
    return out;
}

}  // namespace ss::traces

#include "gui/timeline/timelinemath.h"

#include <algorithm>
#include <cmath>

namespace ss::gui {

using traces::Collective;
using traces::EventKind;

std::int64_t TimeAxis::toNs(double px) const {
    return t0 + static_cast<std::int64_t>(std::llround(px * nsPerPx));
}

TimeAxis TimeAxis::zoomedAt(double anchorPx, double factor) const {
    if (!(factor > 0)) return *this;
    TimeAxis a;
    a.nsPerPx = nsPerPx / factor;
    // t(anchor) = t0 + anchor·nsPerPx must stay: t0' = t(anchor) - anchor·nsPerPx'.
    const double tAnchor = static_cast<double>(t0) + anchorPx * nsPerPx;
    a.t0 = static_cast<std::int64_t>(std::llround(tAnchor - anchorPx * a.nsPerPx));
    return a;
}

TimeAxis TimeAxis::pannedBy(double dxPx) const {
    TimeAxis a = *this;
    a.t0 = t0 - static_cast<std::int64_t>(std::llround(dxPx * nsPerPx));
    return a;
}

TimeAxis TimeAxis::fit(std::int64_t lo, std::int64_t hi, double widthPx) {
    TimeAxis a;
    a.t0 = lo;
    a.nsPerPx = std::max(1e-3, static_cast<double>(std::max<std::int64_t>(hi - lo, 1)) / std::max(1.0, widthPx));
    return a;
}

TimeAxis TimeAxis::clampedTo(std::int64_t lo, std::int64_t hi, double widthPx, double minNsPerPx) const {
    TimeAxis a = *this;
    const double span = static_cast<double>(std::max<std::int64_t>(hi - lo, 1));
    const double margin = span * 0.05;
    const double maxNsPerPx = (span + 2 * margin) / std::max(1.0, widthPx);
    a.nsPerPx = std::clamp(a.nsPerPx, minNsPerPx, std::max(minNsPerPx, maxNsPerPx));
    const double viewNs = a.nsPerPx * widthPx;
    const double minT0 = static_cast<double>(lo) - margin;
    const double maxT0 = static_cast<double>(hi) + margin - viewNs;
    double t = static_cast<double>(a.t0);
    if (maxT0 < minT0) t = (minT0 + maxT0) / 2;  // cannot happen after the nsPerPx clamp; be safe
    else t = std::clamp(t, minT0, maxT0);
    a.t0 = static_cast<std::int64_t>(std::llround(t));
    return a;
}

TimeAxis TimeAxis::zoomedIntoBlock(std::int64_t start, std::int64_t end, std::int64_t count,
                                   double anchorPx, double widthPx, double minPx, double minFactor,
                                   double maxFactor) const {
    const double width = std::max(1.0, widthPx);
    const double span = static_cast<double>(std::max<std::int64_t>(end - start, 1));
    const double margin = span * 0.05;
    TimeAxis a;
    a.nsPerPx = (span + 2 * margin) / width;
    if (a.nsPerPx * minFactor <= nsPerPx) {  // the whole block, at least minFactor closer
        a.t0 = static_cast<std::int64_t>(std::llround(static_cast<double>(start) - margin));
        return a;
    }
    // Ops per pixel of the block now; spreading them minPx apart needs density · minPx times.
    const double blockPx = std::max(1.0, span / nsPerPx);
    const double factor =
        std::clamp(static_cast<double>(std::max<std::int64_t>(count, 1)) / blockPx * minPx,
                   minFactor, std::max(minFactor, maxFactor));
    a = zoomedAt(anchorPx, factor);
    // Keep the view within the block and its margins (it is narrower than that now).
    const double viewNs = a.nsPerPx * width;
    const double lo = static_cast<double>(start) - margin,
                 hi = static_cast<double>(end) + margin - viewNs;
    a.t0 = static_cast<std::int64_t>(
        std::llround(std::clamp(static_cast<double>(a.t0), lo, std::max(lo, hi))));
    return a;
}

double niceStep(double raw) {
    if (!(raw > 0)) return 1;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw * (1 - 1e-12)) return m * mag;
    return 10 * mag;
}

std::vector<std::int64_t> rulerTicks(const TimeAxis& axis, double widthPx, double minSpacingPx,
                                     std::int64_t origin, double* stepOut) {
    std::vector<std::int64_t> ticks;
    const double step = std::max(1.0, niceStep(minSpacingPx * axis.nsPerPx));
    if (stepOut) *stepOut = step;
    const double from = static_cast<double>(axis.t0 - origin);
    const double to = static_cast<double>(axis.endNs(widthPx) - origin);
    for (double k = std::ceil(from / step); k * step <= to; k += 1) {
        ticks.push_back(origin + static_cast<std::int64_t>(std::llround(k * step)));
        if (ticks.size() > 10000) break;
    }
    return ticks;
}

Category categoryOf(EventKind kind, Collective c, std::string_view name) {
    switch (kind) {
    case EventKind::Kernel: return Category::Compute;
    case EventKind::Memcpy:
    case EventKind::Memset: return Category::Memory;
    case EventKind::Comm:
        // A parameter-server push, pull, recv or send (ps_*) is the data-parallel synchronisation,
        // drawn as the collective communication it replaces, not as a pipeline send/recv.
        if (name.starts_with("ps_")) return Category::Collective;
        return (c == Collective::Send || c == Collective::Recv) ? Category::PointToPoint : Category::Collective;
    case EventKind::HostRange:
        if (name == "data") return Category::Data;
        if (name == "optimizer" || name == "ps_apply") return Category::Optimizer;  // ps_apply: a server's update
        return Category::Host;
    case EventKind::Step: return Category::Step;
    case EventKind::Phase:
        if (name == "forward") return Category::Forward;
        if (name == "backward") return Category::Backward;
        if (name == "optimizer") return Category::Optimizer;
        return Category::Host;
    case EventKind::MicroBatch: return Category::MicroBatch;
    case EventKind::Sync: return Category::Sync;
    }
    return Category::Other;
}

std::string_view categoryName(Category c) {
    switch (c) {
    case Category::Compute: return "compute kernel";
    case Category::Memory: return "memcpy/memset";
    case Category::Collective: return "collective";
    case Category::PointToPoint: return "send/recv";
    case Category::Host: return "host";
    case Category::Data: return "data loading";
    case Category::Step: return "step";
    case Category::Forward: return "forward";
    case Category::Backward: return "backward";
    case Category::Optimizer: return "optimizer";
    case Category::MicroBatch: return "micro-batch";
    case Category::Sync: return "sync";
    case Category::Other: return "other";
    }
    return "other";
}

std::vector<Block> mergeLod(std::span<const Span> spans, const TimeAxis& axis, double minPx) {
    std::vector<Block> out;
    out.reserve(std::min<size_t>(spans.size(), 4096));
    const double minNs = minPx * axis.nsPerPx;
    bool havePending = false;
    Block pending;
    std::int64_t pendingLongest = -1;
    auto flush = [&] {
        if (!havePending) return;
        if (pending.count > 1) pending.event = -1;
        out.push_back(pending);
        havePending = false;
    };
    for (const Span& s : spans) {
        const std::int64_t dur = s.end - s.start;
        if (static_cast<double>(dur) >= minNs) {
            flush();
            out.push_back(Block{s.start, s.end, s.category, 1, s.event});
            continue;
        }
        if (havePending && static_cast<double>(s.start - pending.end) < minNs) {
            pending.end = std::max(pending.end, s.end);
            pending.count += 1;
            if (dur > pendingLongest) {
                pendingLongest = dur;
                pending.category = s.category;
            }
            continue;
        }
        flush();
        pending = Block{s.start, s.end, s.category, 1, s.event};
        pendingLongest = dur;
        havePending = true;
    }
    flush();
    return out;
}

double blockDensity(const Block& b, const TimeAxis& axis) {
    const double w = std::max(1.0, static_cast<double>(b.end - b.start) / axis.nsPerPx);
    return static_cast<double>(b.count) / w;
}

}  // namespace ss::gui

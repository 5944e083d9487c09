// The timeline's pure parts, unit-tested on their own (tests/gui/tst_gui_timeline_math.cpp):
// the time <-> pixel mapping, zoom and pan, ruler ticks, and level-of-detail merging.
// No Qt, no I/O. Times are integer nanoseconds on the run's common clock; pixels are doubles.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "traces/types.h"

namespace ss::gui {

// x = (t - t0) / nsPerPx. A view of width W pixels shows [t0, t0 + W·nsPerPx).
struct TimeAxis {
    std::int64_t t0 = 0;
    double nsPerPx = 1.0;

    double toPx(std::int64_t t) const { return static_cast<double>(t - t0) / nsPerPx; }
    std::int64_t toNs(double px) const;
    std::int64_t endNs(double widthPx) const { return toNs(widthPx); }
    // factor > 1 zooms in; the time under `anchorPx` stays under it.
    TimeAxis zoomedAt(double anchorPx, double factor) const;
    // Drags the content `dxPx` to the right (earlier times come into view).
    TimeAxis pannedBy(double dxPx) const;
    // The axis showing [lo, hi) in widthPx pixels.
    static TimeAxis fit(std::int64_t lo, std::int64_t hi, double widthPx);
    // Keeps the view within [lo - margin, hi + margin], never wider than that span and never
    // closer than minNsPerPx.
    TimeAxis clampedTo(std::int64_t lo, std::int64_t hi, double widthPx, double minNsPerPx = 0.01) const;
    // Where a double-click on a merged block of `count` ops over [start, end) (clicked at
    // `anchorPx`) zooms to. A block that fits the view at least `minFactor` times closer is shown
    // whole, with a 5 % margin each side. A block about as wide as the view (thousands of narrow
    // ops merged across it) is zoomed into at the click, by as much as spreads its ops `minPx`
    // apart on average (at least `minFactor`, at most `maxFactor` times), and the view stays inside
    // the block. Either way each double-click zooms in at least `minFactor` times, so repeated ones
    // reach single ops.
    TimeAxis zoomedIntoBlock(std::int64_t start, std::int64_t end, std::int64_t count,
                             double anchorPx, double widthPx, double minPx = 3,
                             double minFactor = 4, double maxFactor = 32) const;
    friend bool operator==(const TimeAxis&, const TimeAxis&) = default;
};

// 1-2-5 steps: the smallest "nice" step >= raw (raw > 0).
double niceStep(double raw);
// Tick times for the ruler: multiples of a nice step (measured from `origin`, the run start) that
// fall in the visible window, at least `minSpacingPx` apart.
std::vector<std::int64_t> rulerTicks(const TimeAxis& axis, double widthPx, double minSpacingPx,
                                     std::int64_t origin, double* stepNs = nullptr);

// What an op is drawn as. Colours are in timelineview.cpp.
enum class Category : std::uint8_t {
    Compute, Memory, Collective, PointToPoint, Host, Data, Step, Forward, Backward, Optimizer,
    MicroBatch, Sync, Other,
};
inline constexpr int kCategoryCount = 13;
Category categoryOf(traces::EventKind kind, traces::Collective collective, std::string_view name);
std::string_view categoryName(Category c);

// One op (or a merged run of narrow ops) to draw. `event` indexes the draw list's events; -1 for
// merged blocks. Times, not pixels, so a draw list built for one view can be painted at another
// while its replacement is built.
struct Span {
    std::int64_t start = 0, end = 0;
    Category category = Category::Other;
    std::int32_t event = -1;
};
struct Block {
    std::int64_t start = 0, end = 0;
    Category category = Category::Other;  // of the longest member
    std::int32_t count = 1;               // ops represented
    std::int32_t event = -1;              // the op when count == 1, else -1
    float busy = -1;  // density blocks (level of detail): the fraction of the time busy, 0..1; else -1
    friend bool operator==(const Block&, const Block&) = default;
};

// Level of detail: spans (sorted by start) at least `minPx` wide stay as they are; narrower ones
// are merged with their narrow neighbours when the gap between them is under `minPx`. A merged
// block keeps the count (density = count / width) and the category of its longest member.
std::vector<Block> mergeLod(std::span<const Span> spans, const TimeAxis& axis, double minPx);

// Density of a block in ops per pixel at an axis (>= 0).
double blockDensity(const Block& b, const TimeAxis& axis);

}  // namespace ss::gui

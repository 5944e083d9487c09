// Phase one of timeline drawing (STYLE.md "Timeline drawing in two phases"): a draw list built
// off the GUI thread, with narrow ops merged (mergeLod). The view (timelineview.h) only paints it.
//
// Cost is bounded by the view, not the file: a row whose window holds more than `detailBudget`
// events (estimated from the lane's coarsest level of detail, traces/lod.h) is drawn from its
// level of detail: one density block per run of pixels, its height the fraction of the time the
// lane was busy there (the union of its events, read from lane_lod, never estimated by
// sampling), coloured by the kind that took the most time. Zooming in turns rows back into exact
// ops (TraceReader::events_in_window). A view that holds fewer than `totalBudget` events in all
// is read exactly (small traces never show density), and so is every row when no level of detail
// is given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/parameter_server.h"
#include "gui/common/jobs.h"
#include "gui/timeline/timelinemath.h"
#include "traces/lod.h"
#include "traces/reader.h"

namespace ss::gui {

struct TimelineRow {
    std::int32_t rank = 0;
    std::int32_t lane = 0;
    std::string laneName;
    std::int64_t eventCount = 0;
    std::int64_t minStart = 0, maxEnd = 0;
    std::int32_t server = -1;  // the rank is parameter server `server` (0 ..); -1: a worker
    bool isServer() const { return server >= 0; }
};
// One row per rank and lane, ranks in order (a parameter server's ranks after every worker), lanes
// in a fixed order: steps, phases, compute, comm, host, then the GPU's CUDA API lane and its
// streams by id, then others. A lane the writer left unnamed ("lane L") is named by its number
// (core::lane_display_name: "CUDA API", "stream N").
std::vector<TimelineRow> timelineRows(const std::vector<traces::Lane>& lanes, const core::PsLayout& ps = {});
// The label of a row: "r0 compute" for a worker, "server 0 (r4) comm" for a server's; without the
// lane (rows too small for a label each): "rank 0", "server 0 (rank 4)".
std::string rowLabel(const TimelineRow& row, bool withLane);
// What a parameter-server op is, in words, or empty for any other op: "push to server 0 (rank 2)",
// "pull from server 1 (rank 3)", "push received from worker 1", "parameters sent to worker 0",
// "push of worker 1 queued before the apply", "optimizer update (version 3)", "blocked by the
// staleness bound".
std::string psOpText(const traces::Event& e, const std::string& name, const core::PsLayout& ps);

struct RowDraw {
    std::vector<Block> blocks;
    bool density = false;        // drawn from the level of detail
    std::int64_t lodWidthNs = 0;  // the bucket width it was drawn from
};

// A line between two ops: the members of one collective (same group kind, group, collective and
// seq) or a send and its recv (same sender, receiver and per-channel seq). A parameter-server push
// or pull (group kind ps, no seq) is linked to the other side's op of the same channel (sender,
// receiver) that starts nearest to it.
struct Link {
    std::int32_t rowA = 0, rowB = 0;
    std::int64_t tA = 0, tB = 0;
    bool p2p = false;
};

struct StepMark {
    std::int64_t start = 0;
    std::int64_t step = 0;
};

struct DrawListOptions {
    double widthPx = 1200;
    double minPx = 3;               // ops narrower than this are merged
    std::int64_t detailBudget = 0;  // events per row read exactly; 0 = one per pixel of width
    std::int64_t totalBudget = 20000;  // when the whole view holds fewer events, every row is exact
    std::size_t maxLinks = 5000;
};

struct DrawList {
    TimeAxis axis;
    double widthPx = 0;
    std::vector<RowDraw> rows;                // parallel to the TimelineRow list
    std::vector<traces::Event> events;        // ops drawn one by one (Block::event indexes these)
    std::vector<std::string> eventNames;      // their names
    std::vector<std::int32_t> eventRows;      // their rows
    std::vector<Link> links;
    std::vector<StepMark> steps;
    std::int64_t eventsRead = 0;
    std::int64_t bucketsRead = 0;  // level-of-detail buckets
    double buildMs = 0;
    bool anyDensity = false;
    std::string lodNote;  // how the level of detail was found (computed on open, unavailable)
};

// Reads the window [axis.t0, axis.endNs(width)) of every row. Throws JobCancelled when `cancel`
// is set (checked between rows). `lod`: the run's level of detail (null: every row exact).
DrawList buildDrawList(traces::TraceReader& reader, traces::RunId run, const std::vector<TimelineRow>& rows,
                       const TimeAxis& axis, const DrawListOptions& options, const CancelToken* cancel = nullptr,
                       traces::LaneLodStore* lod = nullptr);

// Density blocks of one row from level-of-detail buckets (any width): per pixel of the view, the
// busy fraction (busy time / pixel time, a bucket spread evenly over the pixels it spans) and the
// category with the most time; runs of pixels of one category whose fractions round to the same
// 1/64 become one block (Block::busy: their mean fraction). A pixel with a busy bucket always
// gets a block.
std::vector<Block> densityBlocks(const std::vector<traces::LodBucket>& buckets, const TimeAxis& axis, double widthPx);

}  // namespace ss::gui

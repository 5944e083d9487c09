#include "gui/timeline/drawlist.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

#include "core/analysis/analysis.h"
#include "traces/lanes.h"

namespace ss::gui {

using namespace ss::traces;

namespace {
constexpr const char* kCudaApiName = "CUDA API";
// By name (traces/lanes.h), so that a trace written by another tool sorts the same way: the host
// lanes, then the GPU's (its API calls, its streams by id).
int laneOrder(const std::string& name) {
    if (name == lanes::name(lanes::kSteps)) return 0;
    if (name == lanes::name(lanes::kPhases)) return 1;
    if (name == lanes::name(lanes::kCompute)) return 2;
    if (name == lanes::name(lanes::kComm)) return 3;
    if (name == lanes::name(lanes::kHost)) return 4;
    if (name == kCudaApiName) return 5;
    return 7;
}
}  // namespace

std::vector<TimelineRow> timelineRows(const std::vector<Lane>& lanes) {
    struct Keyed {
        TimelineRow row;
        int order;
        std::int32_t sub;  // stream id for stream lanes, else the lane number
    };
    std::vector<Keyed> keyed;
    for (const Lane& l : lanes) {
        // A lane the writer left unnamed gets the name its number means (CUDA API, stream N).
        const std::string name = core::lane_display_name(l.lane, l.name);
        const std::int32_t stream = core::stream_of_lane(l.lane, l.name);
        keyed.push_back(
            {TimelineRow{l.rank, l.lane, name, l.event_count, l.min_start_ns, l.max_end_ns},
             stream >= 0 ? 6 : laneOrder(name), stream >= 0 ? stream : l.lane});
    }
    std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
        return std::tuple(a.row.rank, a.order, a.sub, a.row.lane) <
               std::tuple(b.row.rank, b.order, b.sub, b.row.lane);
    });
    std::vector<TimelineRow> rows;
    rows.reserve(keyed.size());
    for (Keyed& k : keyed) rows.push_back(std::move(k.row));
    return rows;
}

DrawList buildDrawList(TraceReader& reader, RunId run, const std::vector<TimelineRow>& rows, const TimeAxis& axis,
                       const DrawListOptions& opt, const CancelToken* cancel) {
    const auto t0 = std::chrono::steady_clock::now();
    DrawList dl;
    dl.axis = axis;
    dl.widthPx = opt.widthPx;
    dl.rows.resize(rows.size());
    const std::int64_t w0 = axis.t0;
    const std::int64_t w1 = std::max(axis.endNs(opt.widthPx), w0 + 1);
    const std::int64_t budget = opt.detailBudget > 0 ? opt.detailBudget : static_cast<std::int64_t>(2 * opt.widthPx);
    const int maxSamples = opt.samples > 0 ? opt.samples : std::max(16, static_cast<int>(opt.widthPx / 6));

    // Comm ops drawn one by one, for the links: (row, event index).
    // The NCCL kernels of a GPU run (CUPTI records, with a correlation id) carry the collective and
    // seq of the host call that launched them: they are linked among themselves, not to the calls.
    using CollKey = std::tuple<bool, int, std::int64_t, int,
                               std::int64_t>;  // device, group kind, group, collective, seq
    using P2pKey = std::tuple<bool, std::int64_t, std::int64_t,
                              std::int64_t>;  // device, sender, receiver, seq
    std::map<CollKey, std::vector<std::int32_t>> collectives;
    std::map<P2pKey, std::pair<std::int32_t, std::int32_t>> p2p;  // send event, recv event
    const std::int32_t firstRank = rows.empty() ? 0 : rows.front().rank;

    // Events each row would read: its count times the share of its extent in the window.
    std::vector<double> estimates(rows.size(), 0.0);
    double total = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
        const TimelineRow& row = rows[r];
        if (row.eventCount == 0 || row.maxEnd <= w0 || row.minStart >= w1) continue;
        const std::int64_t extent = std::max<std::int64_t>(row.maxEnd - row.minStart, 1);
        const std::int64_t overlap = std::min(w1, row.maxEnd) - std::max(w0, row.minStart);
        estimates[r] = static_cast<double>(row.eventCount) * static_cast<double>(overlap) / static_cast<double>(extent);
        total += estimates[r];
    }
    const bool allExact = total <= static_cast<double>(opt.totalBudget);
    int sampledRows = 0;
    for (double e : estimates)
        if (!allExact && e > static_cast<double>(budget)) ++sampledRows;
    const int rowSamples = opt.samples > 0 ? opt.samples
                                           : std::clamp(opt.sampleQueries / std::max(1, sampledRows), 32, maxSamples);

    std::vector<Span> spans;
    for (size_t r = 0; r < rows.size(); ++r) {
        if (cancel) cancel->check();
        const TimelineRow& row = rows[r];
        if (row.eventCount == 0 || row.maxEnd <= w0 || row.minStart >= w1) continue;
        const std::int64_t extent = std::max<std::int64_t>(row.maxEnd - row.minStart, 1);
        RowDraw& out = dl.rows[r];
        if (!allExact && estimates[r] > static_cast<double>(budget)) {
            // Sampled: one tiny window per bucket, about four ops wide on average.
            out.sampled = true;
            dl.anySampled = true;
            const double spacing = static_cast<double>(extent) / static_cast<double>(row.eventCount);
            const int samples = rowSamples;
            const double bucketNs = static_cast<double>(w1 - w0) / samples;
            const double probe = std::clamp(4 * spacing, 1.0, bucketNs);
            for (int i = 0; i < samples; ++i) {
                const double centre = static_cast<double>(w0) + (i + 0.5) * bucketNs;
                const auto p0 = static_cast<std::int64_t>(centre - probe / 2);
                const auto p1 = std::max(p0 + 1, static_cast<std::int64_t>(centre + probe / 2));
                const std::vector<Event> found = reader.events_in_window(run, row.rank, row.lane, p0, p1);
                dl.eventsRead += static_cast<std::int64_t>(found.size());
                if (found.empty()) continue;
                const Event* longest = &found.front();
                for (const Event& e : found)
                    if (e.duration_ns() > longest->duration_ns()) longest = &e;
                Block b;
                b.start = w0 + static_cast<std::int64_t>(i * bucketNs);
                b.end = w0 + static_cast<std::int64_t>((i + 1) * bucketNs);
                b.category = categoryOf(longest->kind, longest->collective, reader.string(longest->name));
                b.count = std::max<std::int32_t>(2, static_cast<std::int32_t>(static_cast<double>(found.size()) * bucketNs / (probe + spacing)));
                b.event = -1;
                if (!out.blocks.empty() && out.blocks.back().end == b.start && out.blocks.back().category == b.category) {
                    out.blocks.back().end = b.end;
                    out.blocks.back().count += b.count;
                } else {
                    out.blocks.push_back(b);
                }
            }
            continue;
        }
        std::vector<Event> events = reader.events_in_window(run, row.rank, row.lane, w0, w1);
        dl.eventsRead += static_cast<std::int64_t>(events.size());
        spans.clear();
        spans.reserve(events.size());
        for (size_t i = 0; i < events.size(); ++i) {
            const Event& e = events[i];
            spans.push_back(Span{e.start_ns, e.end_ns, categoryOf(e.kind, e.collective, reader.string(e.name)),
                                 static_cast<std::int32_t>(i)});
        }
        out.blocks = mergeLod(spans, axis, opt.minPx);
        for (Block& b : out.blocks) {
            if (b.event < 0) continue;
            const Event& e = events[static_cast<size_t>(b.event)];
            const auto idx = static_cast<std::int32_t>(dl.events.size());
            dl.events.push_back(e);
            dl.eventNames.push_back(reader.string(e.name));
            dl.eventRows.push_back(static_cast<std::int32_t>(r));
            b.event = idx;
            if (e.kind == EventKind::Step && row.rank == firstRank)
                dl.steps.push_back(StepMark{e.start_ns, e.step});
            if (e.kind != EventKind::Comm || e.collective == Collective::None) continue;
            const bool device = e.correlation >= 0;
            if (e.collective == Collective::Send && e.peer >= 0)
                p2p[{device, e.rank, e.peer, e.seq}].first = idx + 1;
            else if (e.collective == Collective::Recv && e.peer >= 0)
                p2p[{device, e.peer, e.rank, e.seq}].second = idx + 1;
            else if (e.seq >= 0)
                collectives[{device, static_cast<int>(e.group_kind), e.group_id,
                             static_cast<int>(e.collective), e.seq}]
                    .push_back(idx);
        }
    }
    for (auto& [key, members] : collectives) {
        if (dl.links.size() >= opt.maxLinks) break;
        std::sort(members.begin(), members.end(), [&](std::int32_t a, std::int32_t b) {
            return dl.eventRows[static_cast<size_t>(a)] < dl.eventRows[static_cast<size_t>(b)];
        });
        for (size_t i = 1; i < members.size(); ++i) {
            const auto a = static_cast<size_t>(members[i - 1]), b = static_cast<size_t>(members[i]);
            dl.links.push_back(Link{dl.eventRows[a], dl.eventRows[b], dl.events[a].start_ns, dl.events[b].start_ns, false});
        }
    }
    for (auto& [key, pair] : p2p) {
        if (dl.links.size() >= opt.maxLinks) break;
        if (pair.first == 0 || pair.second == 0) continue;
        const auto s = static_cast<size_t>(pair.first - 1), v = static_cast<size_t>(pair.second - 1);
        dl.links.push_back(Link{dl.eventRows[s], dl.eventRows[v], dl.events[s].start_ns, dl.events[v].end_ns, true});
    }
    std::sort(dl.steps.begin(), dl.steps.end(), [](const StepMark& a, const StepMark& b) { return a.start < b.start; });
    dl.buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return dl;
}

}  // namespace ss::gui

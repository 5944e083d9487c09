#include "gui/timeline/drawlist.h"

#include <algorithm>
#include <chrono>
#include <cmath>
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

std::vector<TimelineRow> timelineRows(const std::vector<Lane>& lanes, const core::PsLayout& ps) {
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
            {TimelineRow{l.rank, l.lane, name, l.event_count, l.min_start_ns, l.max_end_ns, ps.server_index(l.rank)},
             stream >= 0 ? 6 : laneOrder(name), stream >= 0 ? stream : l.lane});
    }
    std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
        return std::tuple(a.row.isServer(), a.row.rank, a.order, a.sub, a.row.lane) <
               std::tuple(b.row.isServer(), b.row.rank, b.order, b.sub, b.row.lane);
    });
    std::vector<TimelineRow> rows;
    rows.reserve(keyed.size());
    for (Keyed& k : keyed) rows.push_back(std::move(k.row));
    return rows;
}

std::string rowLabel(const TimelineRow& row, bool withLane) {
    const std::string r = std::to_string(row.rank);
    if (row.isServer())
        return "server " + std::to_string(row.server) + (withLane ? " (r" + r + ") " + row.laneName : " (rank " + r + ")");
    return withLane ? "r" + r + " " + row.laneName : "rank " + r;
}

std::string psOpText(const Event& e, const std::string& name, const core::PsLayout& ps) {
    if (!ps.present()) return {};
    const auto op = core::ps_op(e, name);
    if (!op) return {};
    auto server = [&](std::int64_t rank) {
        return rank >= 0 && ps.is_server(static_cast<std::int32_t>(rank))
                   ? core::server_label(ps, static_cast<std::int32_t>(rank))
                   : "rank " + std::to_string(rank);
    };
    const std::string worker = "worker " + std::to_string(e.peer);
    switch (*op) {
        case core::PsOp::Push: return "gradient push to " + server(e.peer);
        case core::PsOp::Pull: return "parameter pull from " + server(e.peer) + " (waiting for its version included)";
        case core::PsOp::Recv: return "push received from " + worker;
        case core::PsOp::Send: return "parameters sent to " + worker;
        case core::PsOp::Queue:
            return e.peer >= 0 ? "push of " + worker + " queued before the apply" : "push queued before the apply";
        case core::PsOp::Apply:
            return "optimizer update" + (e.step >= 0 ? " (version " + std::to_string(e.step) + ")" : std::string());
        case core::PsOp::Wait: return "blocked by the staleness bound (" + core::staleness_name(ps.staleness) + ")";
    }
    return {};
}

std::vector<Block> densityBlocks(const std::vector<LodBucket>& buckets, const TimeAxis& axis, double widthPx) {
    std::vector<Block> out;
    const auto n = static_cast<size_t>(std::max(1.0, std::ceil(widthPx)));
    const double npp = axis.nsPerPx;
    std::vector<double> busy(n, 0.0), events(n, 0.0), weight(n * kCategoryCount, 0.0);
    std::vector<char> any(n, 0);
    for (const LodBucket& b : buckets) {
        const double x0 = axis.toPx(b.start_ns), x1 = axis.toPx(b.start_ns + b.width_ns);
        if (x1 <= 0 || x0 >= static_cast<double>(n)) continue;
        const auto cat = static_cast<size_t>(categoryOf(b.kind, Collective::None, {}));
        const auto p0 = static_cast<size_t>(std::max(0.0, std::floor(x0)));
        const auto p1 = std::min(n - 1, static_cast<size_t>(std::max(0.0, std::ceil(x1) - 1)));
        for (size_t p = p0; p <= p1; ++p) {
            const double part = (std::min(x1, static_cast<double>(p + 1)) - std::max(x0, static_cast<double>(p))) / (x1 - x0);
            if (part <= 0) continue;
            busy[p] += static_cast<double>(b.busy_ns) * part;
            events[p] += static_cast<double>(b.events) * part;
            weight[p * kCategoryCount + cat] += (b.busy_ns > 0 ? static_cast<double>(b.busy_ns) : 1.0) * part;
            any[p] = 1;
        }
    }
    bool open = false;
    int openQ = -1;
    double sumFrac = 0, sumEvents = 0;
    size_t openFrom = 0;
    auto close = [&](size_t to) {
        if (!open) return;
        Block& blk = out.back();
        blk.end = axis.toNs(static_cast<double>(to));
        blk.busy = static_cast<float>(sumFrac / static_cast<double>(to - openFrom));
        blk.count = static_cast<std::int32_t>(std::clamp(std::llround(sumEvents), 1LL, static_cast<long long>(INT32_MAX)));
        open = false;
    };
    for (size_t p = 0; p < n; ++p) {
        if (!any[p]) {
            close(p);
            continue;
        }
        const double frac = std::clamp(busy[p] / npp, 0.0, 1.0);
        size_t best = 0;
        for (size_t c = 1; c < static_cast<size_t>(kCategoryCount); ++c)
            if (weight[p * kCategoryCount + c] > weight[p * kCategoryCount + best]) best = c;
        const int q = static_cast<int>(std::lround(frac * 64));
        if (open && q == openQ && out.back().category == static_cast<Category>(best)) {
            sumFrac += frac;
            sumEvents += events[p];
            continue;
        }
        close(p);
        Block blk;
        blk.start = axis.toNs(static_cast<double>(p));
        blk.category = static_cast<Category>(best);
        blk.event = -1;
        out.push_back(blk);
        open = true;
        openQ = q;
        openFrom = p;
        sumFrac = frac;
        sumEvents = events[p];
    }
    close(n);
    return out;
}

DrawList buildDrawList(TraceReader& reader, RunId run, const std::vector<TimelineRow>& rows, const TimeAxis& axis,
                       const DrawListOptions& opt, const CancelToken* cancel, LaneLodStore* lod) {
    const auto t0 = std::chrono::steady_clock::now();
    DrawList dl;
    dl.axis = axis;
    dl.widthPx = opt.widthPx;
    dl.rows.resize(rows.size());
    const std::int64_t w0 = axis.t0;
    const std::int64_t w1 = std::max(axis.endNs(opt.widthPx), w0 + 1);
    const std::int64_t budget = opt.detailBudget > 0 ? opt.detailBudget : static_cast<std::int64_t>(opt.widthPx);

    // Comm ops drawn one by one, for the links: (row, event index).
    // The NCCL kernels of a GPU run (CUPTI records, with a correlation id) carry the collective and
    // seq of the host call that launched them: they are linked among themselves, not to the calls.
    using CollKey = std::tuple<bool, int, std::int64_t, int,
                               std::int64_t>;  // device, group kind, group, collective, seq
    using P2pKey = std::tuple<bool, std::int64_t, std::int64_t,
                              std::int64_t>;  // device, sender, receiver, seq
    std::map<CollKey, std::vector<std::int32_t>> collectives;
    std::map<P2pKey, std::pair<std::int32_t, std::int32_t>> p2p;  // send event, recv event
    // Parameter-server messages (no seq) per channel (sender, receiver): sends and recvs.
    std::map<std::pair<std::int64_t, std::int64_t>, std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>>> ps;
    const std::int32_t firstRank = rows.empty() ? 0 : rows.front().rank;

    // Events each row would read. With a level of detail: the events of its coarsest buckets in the
    // window (edge buckets by their share in it), so a burst is seen where it is; without: the
    // lane's count times the share of its extent in the window.
    std::vector<double> estimates(rows.size(), 0.0);
    std::vector<std::vector<LodBucket>> coarse(rows.size());
    std::vector<std::int64_t> coarseWidth(rows.size(), 0);
    double total = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
        if (cancel) cancel->check();
        const TimelineRow& row = rows[r];
        if (row.eventCount == 0 || row.maxEnd <= w0 || row.minStart >= w1) continue;
        const std::int64_t extent = std::max<std::int64_t>(row.maxEnd - row.minStart, 1);
        const std::int64_t overlap = std::min(w1, row.maxEnd) - std::max(w0, row.minStart);
        estimates[r] = static_cast<double>(row.eventCount) * static_cast<double>(overlap) / static_cast<double>(extent);
        if (lod) {
            const auto& widths = lod->widths(row.rank, row.lane);
            if (!widths.empty()) {
                coarseWidth[r] = widths.front();
                coarse[r] = lod->buckets(row.rank, row.lane, widths.front(), w0, w1);
                dl.bucketsRead += static_cast<std::int64_t>(coarse[r].size());
                double e = 0;
                for (const LodBucket& b : coarse[r]) {
                    const std::int64_t in = std::min(w1, b.start_ns + b.width_ns) - std::max(w0, b.start_ns);
                    e += static_cast<double>(b.events) * static_cast<double>(in) / static_cast<double>(b.width_ns);
                }
                estimates[r] = e;
            }
        }
        total += estimates[r];
    }
    const bool allExact = total <= static_cast<double>(opt.totalBudget);

    std::vector<Span> spans;
    for (size_t r = 0; r < rows.size(); ++r) {
        if (cancel) cancel->check();
        const TimelineRow& row = rows[r];
        if (row.eventCount == 0 || row.maxEnd <= w0 || row.minStart >= w1) continue;
        RowDraw& out = dl.rows[r];
        if (!allExact && coarseWidth[r] > 0 && estimates[r] > static_cast<double>(budget)) {
            // Density from the level of detail: the coarsest buckets no wider than two pixels.
            const std::int64_t width = lod->width_for(row.rank, row.lane, axis.nsPerPx);
            std::vector<LodBucket> fine;
            if (width != coarseWidth[r]) {
                fine = lod->buckets(row.rank, row.lane, width, w0, w1);
                dl.bucketsRead += static_cast<std::int64_t>(fine.size());
            }
            out.blocks = densityBlocks(width == coarseWidth[r] ? coarse[r] : fine, axis, opt.widthPx);
            out.density = true;
            out.lodWidthNs = width;
            dl.anyDensity = true;
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
            if (e.group_kind == GroupKind::PS && e.seq < 0 && e.peer >= 0 &&
                (e.collective == Collective::Send || e.collective == Collective::Recv)) {
                const bool send = e.collective == Collective::Send;
                auto& ch = ps[send ? std::pair(std::int64_t{e.rank}, e.peer) : std::pair(e.peer, std::int64_t{e.rank})];
                (send ? ch.first : ch.second).push_back(idx);
                continue;
            }
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
    for (auto& [channel, sr] : ps) {
        auto& [sends, recvs] = sr;
        if (recvs.empty()) continue;
        auto start = [&](std::int32_t i) { return dl.events[static_cast<size_t>(i)].start_ns; };
        std::sort(recvs.begin(), recvs.end(), [&](std::int32_t a, std::int32_t b) { return start(a) < start(b); });
        for (std::int32_t s : sends) {
            if (dl.links.size() >= opt.maxLinks) break;
            // The recv starting nearest to the send: the same message on the other side.
            auto it = std::lower_bound(recvs.begin(), recvs.end(), start(s),
                                       [&](std::int32_t r, std::int64_t t) { return start(r) < t; });
            std::int32_t best = it != recvs.end() ? *it : recvs.back();
            if (it != recvs.begin() && (it == recvs.end() || start(s) - start(*(it - 1)) < start(*it) - start(s)))
                best = *(it - 1);
            const auto a = static_cast<size_t>(s), b = static_cast<size_t>(best);
            dl.links.push_back(Link{dl.eventRows[a], dl.eventRows[b], dl.events[a].start_ns, dl.events[b].end_ns, false});
        }
    }
    std::sort(dl.steps.begin(), dl.steps.end(), [](const StepMark& a, const StepMark& b) { return a.start < b.start; });
    dl.buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return dl;
}

}  // namespace ss::gui

// Timeline benchmark (figures, not a test). Opens a large trace (default 10,000,000 events,
// generated once with traces::TraceWriter and kept) the way the application does and prints:
//  - the level-of-detail computation (traces/lod.h, what merge does at its end);
//  - time to first paint: load the document (reader open, runs, lanes, stored aggregates), open
//    the level of detail, build the draw list of the whole run, paint one 1280x800 frame offscreen;
//  - per pan/zoom frame: the GUI thread's paint of the current draw list at the new view (median,
//    p95), and the exact picture for that view: the off-thread draw-list build plus its repaint
//    (median, p95);
//  - the same on a 10x smaller file, to show the cost does not grow with the file;
//  - the load average beside the figures (the machine may be shared).
// --png PATH saves the zoomed-out first frame.
//
// usage: QT_QPA_PLATFORM=offscreen bench_timeline [--events N] [--file PATH] [--frames N] [--regen]
//        [--relod] [--png PATH]
#include <QApplication>
#include <QImage>
#include <QPainter>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gui/app/documents.h"
#include "gui/timeline/drawlist.h"
#include "gui/timeline/timelineview.h"
#include "traces/lod.h"
#include "traces/writer.h"

using namespace ss::traces;
using namespace ss::gui;
using Clock = std::chrono::steady_clock;

namespace {
double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string loadavg() {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return "loadavg " + a + " " + b + " " + c;
}

// Stores the level of detail when the file has none (or `force`), as merge does, and says how long it took.
void ensureLod(const std::string& path, bool force) {
    Db db(path, Db::Mode::ReadOnly);
    const RunId run(db.query_int("SELECT min(id) FROM runs", 1));
    if (!force && has_lane_lod(db, run)) return;
    const std::clock_t c0 = std::clock();
    const LodComputeStats st = compute_lane_lod(path, run);
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    std::printf("level of detail of %s: %.2f s (CPU %.2f s) for %lld events (%lld lanes, %lld read again in start order), %lld buckets  [%s]\n",
                path.c_str(), st.seconds, cpu, static_cast<long long>(st.events), static_cast<long long>(st.lanes),
                static_cast<long long>(st.lanes_reordered), static_cast<long long>(st.buckets), loadavg().c_str());
}

// 8 ranks x 3 lanes (compute, comm, host), 32 kernel names, collectives and send/recv pairs.
void generate(const std::string& path, std::int64_t n) {
    std::filesystem::remove(path);
    const auto t = Clock::now();
    TraceWriter w(path, WriterOptions{.durable = false});
    RunInfo r;
    r.name = "bench";
    r.spec_json = "{}";
    r.model = "synthetic";
    r.backend = "cpu";
    r.world_size = 8;
    r.dp = 8;
    const RunId run = w.begin_run(r);
    std::vector<StringId> names;
    for (int k = 0; k < 32; ++k) names.push_back(w.intern("kernel_" + std::to_string(k)));
    const StringId ar = w.intern("all_reduce"), host = w.intern("data");
    for (int rank = 0; rank < 8; ++rank) {
        w.define_lane(run, rank, 0, "compute");
        w.define_lane(run, rank, 1, "comm");
        w.define_lane(run, rank, 2, "host");
    }
    std::mt19937_64 rng(42);
    std::int64_t clock[8][3] = {};
    for (std::int64_t i = 0; i < n; ++i) {
        Event e;
        e.run = run;
        e.rank = static_cast<std::int32_t>(i % 8);
        const int lane = static_cast<int>((i / 8) % 3);
        e.lane = lane;
        const std::int64_t dur = 500 + static_cast<std::int64_t>(rng() % 20000);
        std::int64_t& c = clock[e.rank][lane];
        e.start_ns = c + static_cast<std::int64_t>(rng() % 200);
        e.end_ns = e.start_ns + dur;
        c = e.end_ns;
        e.step = i / 100000;
        if (lane == 1) {
            e.kind = EventKind::Comm;
            e.name = ar;
            e.collective = Collective::AllReduce;
            e.group_kind = GroupKind::DP;
            e.group_id = 0;
            e.group_size = 8;
            e.bytes = 4096 << (i % 8);
            e.seq = i / 24;
        } else if (lane == 2) {
            e.kind = EventKind::HostRange;
            e.name = host;
        } else {
            e.kind = EventKind::Kernel;
            e.name = names[rng() % 32];
            e.flops = static_cast<double>(dur) * 1e3;
        }
        w.add_event(e);
    }
    std::int64_t end = 0;
    for (auto& rk : clock)
        for (std::int64_t c : rk) end = std::max(end, c);
    w.finish_run(run, RunStatus::Completed, "", end);
    std::printf("generated %s: %lld events in %.1f s\n", path.c_str(), static_cast<long long>(n), msSince(t) / 1000);
}

struct Stats {
    double mean = 0, median = 0, p95 = 0, max = 0;
};
Stats stats(std::vector<double> v) {
    Stats s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    for (double x : v) s.mean += x;
    s.mean /= static_cast<double>(v.size());
    s.median = v[v.size() / 2];
    s.p95 = v[std::min(v.size() - 1, static_cast<size_t>(0.95 * static_cast<double>(v.size())))];
    s.max = v.back();
    return s;
}

void benchFile(const std::string& path, int frames, const std::string& png) {
    const QSize size(1280, 800);
    QImage image(size, QImage::Format_ARGB32_Premultiplied);

    // ---- First paint.
    const auto t0 = Clock::now();
    DocumentData doc = loadDocument(QString::fromStdString(path));
    const double loadMs = msSince(t0);
    const RunData& run = doc.runs.front();
    TraceReader reader(path);
    const auto tl = Clock::now();
    LaneLodStore lod(path, run.info.id, false);
    const double lodMs = msSince(tl);
    TimelineView view;
    view.resize(size);
    view.setRows(timelineRows(run.lanes), run.info.start_ns, run.info.end_ns);
    DrawListOptions opt;
    opt.widthPx = view.plotWidth();
    const auto t1 = Clock::now();
    auto list = std::make_shared<const DrawList>(buildDrawList(reader, run.info.id, view.rows(), view.axis(), opt, nullptr, &lod));
    const double buildMs = msSince(t1);
    view.setDrawList(list);
    const auto t2 = Clock::now();
    view.render(&image);
    const double paintMs = msSince(t2);
    const double firstPaint = msSince(t0);
    if (!png.empty()) image.save(QString::fromStdString(png));
    std::printf("%s: %lld events, %zu rows  [%s]\n", path.c_str(), static_cast<long long>(run.info.event_count), view.rows().size(),
                loadavg().c_str());
    std::printf("  time to first paint  %7.1f ms  (open+load %.1f, level of detail %.1f%s, draw list %.1f [%lld events, %lld buckets read, %s], paint %.1f)\n",
                firstPaint, loadMs, lodMs, lod.computed() ? " computed" : " stored", buildMs, static_cast<long long>(list->eventsRead),
                static_cast<long long>(list->bucketsRead), list->anyDensity ? "density rows" : "exact", paintMs);

    // ---- Pan/zoom frames: zoom in 1.4x per frame towards the middle, then pan, then zoom out.
    std::vector<double> paint, build, total, buildExact, buildSampled;
    std::int64_t exactFrames = 0;
    for (int f = 0; f < frames; ++f) {
        const int phase = f * 3 / frames;
        if (phase == 0) view.zoomBy(1.4, view.plotWidth() * 0.5);
        else if (phase == 1) view.panBy(f % 2 ? -60 : -20);
        else view.zoomBy(1 / 1.4, view.plotWidth() * 0.5);
        // The GUI thread repaints at once with the draw list it has...
        auto tp = Clock::now();
        view.render(&image);
        paint.push_back(msSince(tp));
        // ...while the job pool builds the exact one for the new view.
        auto tb = Clock::now();
        list = std::make_shared<const DrawList>(buildDrawList(reader, run.info.id, view.rows(), view.axis(), opt, nullptr, &lod));
        build.push_back(msSince(tb));
        if (!list->anyDensity) ++exactFrames;
        (list->anyDensity ? buildSampled : buildExact).push_back(build.back());
        view.setDrawList(list);
        auto tq = Clock::now();
        view.render(&image);
        total.push_back(build.back() + msSince(tq));
    }
    const Stats p = stats(paint), b = stats(build), t = stats(total);
    std::printf("  pan/zoom frame paint (GUI thread)   median %6.2f ms  p95 %6.2f  max %6.2f   (%d frames)\n", p.median, p.p95, p.max, frames);
    std::printf("  draw-list build (job pool)          median %6.2f ms  p95 %6.2f  max %6.2f   (%lld of %d views all exact, rest with density rows)\n",
                b.median, b.p95, b.max, static_cast<long long>(exactFrames), frames);
    const Stats be = stats(buildExact), bs = stats(buildSampled);
    std::printf("    of which exact views              median %6.2f ms  p95 %6.2f  max %6.2f\n", be.median, be.p95, be.max);
    std::printf("    of which density views            median %6.2f ms  p95 %6.2f  max %6.2f\n", bs.median, bs.p95, bs.max);
    std::printf("  exact picture after pan/zoom        median %6.2f ms  p95 %6.2f  max %6.2f   (build + repaint)  [%s]\n",
                t.median, t.p95, t.max, loadavg().c_str());
}
}  // namespace

int main(int argc, char** argv) {
    std::int64_t events = 10'000'000;
    std::string file;
    int frames = 60;
    bool regen = false, relod = false;
    std::string png;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--events") && i + 1 < argc) events = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--file") && i + 1 < argc) file = argv[++i];
        else if (!std::strcmp(argv[i], "--frames") && i + 1 < argc) frames = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--regen")) regen = true;
        else if (!std::strcmp(argv[i], "--relod")) relod = true;
        else if (!std::strcmp(argv[i], "--png") && i + 1 < argc) png = argv[++i];
        else {
            std::fprintf(stderr, "usage: bench_timeline [--events N] [--file PATH] [--frames N] [--regen] [--relod] [--png PATH]\n");
            return 2;
        }
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const std::string big = file.empty() ? "/tmp/scalescope-bench-timeline-" + std::to_string(events) + ".sqlite" : file;
    const std::string small = big + ".small.sqlite";
    if (regen || !std::filesystem::exists(big)) generate(big, events);
    if (regen || !std::filesystem::exists(small)) generate(small, events / 10);
    ensureLod(big, relod || regen);
    ensureLod(small, relod || regen);
    benchFile(big, frames, png);
    benchFile(small, frames, "");
    return 0;
}

// The timeline's pure functions: time <-> pixel mapping, zoom/pan/clamp, ruler ticks, categories
// and level-of-detail merging.
#include <QTest>

#include "gui/timeline/timelinemath.h"

using namespace ss::gui;
using ss::traces::Collective;
using ss::traces::EventKind;

class TimelineMathTest : public QObject {
    Q_OBJECT
private slots:
    void mapping() {
        const TimeAxis a{1000, 10.0};
        QCOMPARE(a.toPx(1000), 0.0);
        QCOMPARE(a.toPx(1500), 50.0);
        QCOMPARE(a.toPx(900), -10.0);
        QCOMPARE(a.toNs(50.0), std::int64_t(1500));
        QCOMPARE(a.endNs(100), std::int64_t(2000));
        for (std::int64_t t : {0LL, 1000LL, 123456LL}) QCOMPARE(a.toNs(a.toPx(t)), t);
    }
    void fit() {
        const TimeAxis a = TimeAxis::fit(5000, 15000, 1000);
        QCOMPARE(a.t0, std::int64_t(5000));
        QCOMPARE(a.nsPerPx, 10.0);
        QCOMPARE(a.endNs(1000), std::int64_t(15000));
    }
    void zoomKeepsAnchor() {
        const TimeAxis a{0, 100.0};
        const TimeAxis z = a.zoomedAt(300, 4);
        QCOMPARE(z.nsPerPx, 25.0);
        QCOMPARE(z.toNs(300), a.toNs(300));  // the time under the cursor stays there
        const TimeAxis back = z.zoomedAt(300, 0.25);
        QCOMPARE(back.nsPerPx, 100.0);
        QCOMPARE(back.t0, a.t0);
    }
    void pan() {
        const TimeAxis a{10000, 10.0};
        QCOMPARE(a.pannedBy(50).t0, std::int64_t(9500));   // drag right: earlier times appear
        QCOMPARE(a.pannedBy(-50).t0, std::int64_t(10500));
    }
    void clamp() {
        // Run [0, 1000) in 100 px: at most 1100 ns (5 % margins) in view, never before -50.
        const TimeAxis wide{-100000, 1000.0};
        const TimeAxis c = wide.clampedTo(0, 1000, 100);
        QCOMPARE(c.nsPerPx, 11.0);
        QCOMPARE(c.t0, std::int64_t(-50));
        const TimeAxis late = TimeAxis{5000, 1.0}.clampedTo(0, 1000, 100);
        QCOMPARE(late.t0, std::int64_t(950));  // view ends at the margin: 1050
        const TimeAxis tiny = TimeAxis{0, 1e-9}.clampedTo(0, 1000, 100, 0.01);
        QCOMPARE(tiny.nsPerPx, 0.01);
    }
    void zoomIntoBlockFitsASmallBlock() {
        // View [0, 100000) at 100 ns/px in 1000 px; a merged block [20000, 30000): shown whole, 5 %
        // margins.
        const TimeAxis a{0, 100.0};
        const TimeAxis z = a.zoomedIntoBlock(20000, 30000, 50, 250, 1000);
        QCOMPARE(z.nsPerPx, 11.0);
        QCOMPARE(z.t0, std::int64_t(19500));
        QCOMPARE(z.endNs(1000), std::int64_t(30500));
    }
    void zoomIntoBlockAsWideAsTheView() {
        // 5,830 narrow ops merged across the whole view: fitting the block would barely zoom
        // (1.1x out); instead zoom at the click until the ops are 3 px apart on average (17.49x).
        const TimeAxis a{0, 100.0};
        const TimeAxis z = a.zoomedIntoBlock(0, 100000, 5830, 500, 1000);
        QVERIFY2(qAbs(z.nsPerPx - 100.0 / 17.49) < 1e-9, qPrintable(QString::number(z.nsPerPx)));
        QVERIFY(qAbs(z.toNs(500) - 50000) <= 1);  // the clicked time stays under the cursor
        // Near the block's end the view is kept inside the block (and its 5 % margin).
        const TimeAxis e = a.zoomedIntoBlock(0, 100000, 5830, 999, 1000);
        QVERIFY(e.endNs(1000) <= 105000);
        QVERIFY(e.t0 >= -5000);
        // A sparse wide block still zooms at least 4x; a very dense one at most 32x.
        QCOMPARE(a.zoomedIntoBlock(0, 100000, 10, 500, 1000).nsPerPx, 25.0);
        QCOMPARE(a.zoomedIntoBlock(0, 100000, 1000000, 500, 1000).nsPerPx, 100.0 / 32);
    }
    void repeatedDoubleClicksReachSingleOps() {
        // 5,830 ops of 4 ns every 10 ns, the run fitted in 1000 px: one merged block. Double-click
        // the block under the middle of the view until the op there is drawn on its own.
        std::vector<Span> ops;
        for (int i = 0; i < 5830; ++i)
            ops.push_back({i * 10LL, i * 10LL + 4, Category::Compute, i});
        const double width = 1000;
        TimeAxis axis = TimeAxis::fit(0, 58300, width);
        int clicks = 0;
        for (;; ++clicks) {
            std::vector<Span> visible;
            for (const Span& s : ops)
                if (s.end > axis.t0 && s.start < axis.endNs(width)) visible.push_back(s);
            const auto blocks = mergeLod(visible, axis, 3);
            if (clicks == 0) QCOMPARE(blocks.size(), size_t(1));  // what the user saw: one block
            const std::int64_t t = axis.toNs(width / 2);
            const Block* hit = &blocks.front();
            for (const Block& b : blocks) {
                const auto dist = [t](const Block& x) {
                    return t < x.start ? x.start - t : (t > x.end ? t - x.end : 0);
                };
                if (dist(b) < dist(*hit)) hit = &b;
            }
            if (hit->count == 1) break;
            QVERIFY2(clicks < 3, "three double-clicks should reach single ops");
            const TimeAxis next =
                axis.zoomedIntoBlock(hit->start, hit->end, hit->count, width / 2, width);
            QVERIFY(next.nsPerPx * 4 <=
                    axis.nsPerPx * (1 + 1e-12));  // every double-click zooms in 4x or more
            axis = next;
        }
        QVERIFY(clicks >= 1);
    }
    void niceSteps() {
        QCOMPARE(niceStep(1.0), 1.0);
        QCOMPARE(niceStep(1.1), 2.0);
        QCOMPARE(niceStep(3.0), 5.0);
        QCOMPARE(niceStep(7.0), 10.0);
        QCOMPARE(niceStep(0.03), 0.05);
        QCOMPARE(niceStep(4200.0), 5000.0);
    }
    void ticks() {
        double step = 0;
        // 10 ns/px, 1000 px: [0, 10000); at least 80 px apart = 800 ns -> 1000 ns steps.
        const auto t = rulerTicks(TimeAxis{0, 10.0}, 1000, 80, 0, &step);
        QCOMPARE(step, 1000.0);
        QCOMPARE(t.size(), size_t(11));
        QCOMPARE(t.front(), std::int64_t(0));
        QCOMPARE(t.back(), std::int64_t(10000));
        // Relative to an origin: ticks at origin + k·step.
        const auto u = rulerTicks(TimeAxis{1250, 10.0}, 100, 80, 250, &step);
        QCOMPARE(u, (std::vector<std::int64_t>{1250, 2250}));
    }
    void categories() {
        QCOMPARE(categoryOf(EventKind::Kernel, Collective::None, "gemm"), Category::Compute);
        QCOMPARE(categoryOf(EventKind::Comm, Collective::AllReduce, "all_reduce"), Category::Collective);
        QCOMPARE(categoryOf(EventKind::Comm, Collective::Send, "send"), Category::PointToPoint);
        QCOMPARE(categoryOf(EventKind::Phase, Collective::None, "backward"), Category::Backward);
        QCOMPARE(categoryOf(EventKind::HostRange, Collective::None, "data"), Category::Data);
        QCOMPARE(categoryOf(EventKind::Memcpy, Collective::None, "copy"), Category::Memory);
    }
    void lodKeepsWideOps() {
        // 1 ns/px, min 3 px: every op is >= 3 ns wide -> unchanged, indices kept.
        const std::vector<Span> s{{0, 10, Category::Compute, 0}, {12, 20, Category::Collective, 1}};
        const auto b = mergeLod(s, TimeAxis{0, 1.0}, 3);
        QCOMPARE(b.size(), size_t(2));
        QCOMPARE(b[0], (Block{0, 10, Category::Compute, 1, 0}));
        QCOMPARE(b[1], (Block{12, 20, Category::Collective, 1, 1}));
    }
    void lodMergesNarrowNeighbours() {
        // 10 ns/px: ops of 5-20 ns are < 3 px (30 ns); gaps < 30 ns merge, a 100 ns gap does not.
        const std::vector<Span> s{
            {0, 5, Category::Compute, 0},    {10, 30, Category::Collective, 1}, {40, 45, Category::Compute, 2},
            {145, 150, Category::Compute, 3},  // after a 100 ns gap: alone
            {200, 1200, Category::Step, 4},    // 100 px wide: stays itself
        };
        const auto b = mergeLod(s, TimeAxis{0, 10.0}, 3);
        QCOMPARE(b.size(), size_t(3));
        QCOMPARE(b[0].start, std::int64_t(0));
        QCOMPARE(b[0].end, std::int64_t(45));
        QCOMPARE(b[0].count, 3);
        QCOMPARE(b[0].event, -1);                       // merged: no single op
        QCOMPARE(b[0].category, Category::Collective);  // the longest member's
        QCOMPARE(b[1], (Block{145, 150, Category::Compute, 1, 3}));  // a lone narrow op keeps its index
        QCOMPARE(b[2], (Block{200, 1200, Category::Step, 1, 4}));
        // Density: 3 ops over 4.5 px.
        QVERIFY(qAbs(blockDensity(b[0], TimeAxis{0, 10.0}) - 3 / 4.5) < 1e-9);
    }
    void lodBoundsOutput() {
        // 100,000 adjacent 1 ns ops at 1000 ns/px: one merged block.
        std::vector<Span> s;
        for (int i = 0; i < 100000; ++i) s.push_back({i * 2, i * 2 + 1, Category::Compute, i});
        const auto b = mergeLod(s, TimeAxis{0, 1000.0}, 3);
        QCOMPARE(b.size(), size_t(1));
        QCOMPARE(b[0].count, 100000);
        // Zoomed in (0.1 ns/px) nothing merges.
        QCOMPARE(mergeLod(std::span(s).first(100), TimeAxis{0, 0.1}, 3).size(), size_t(100));
    }
};

QTEST_GUILESS_MAIN(TimelineMathTest)
#include "tst_gui_timeline_math.moc"

// The zoomed-out timeline draws each lane from its level of detail (traces/lod.h): per pixel, a
// density block whose busy fraction is the lane's true busy share of that pixel's time (the union
// of its events, brute force here), and no gap where the lane was busy. Then zooming in gives
// exact ops again.
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <random>

#include "gui/timeline/drawlist.h"
#include "traces/lod.h"
#include "traces/reader.h"
#include "traces/writer.h"

using namespace ss::traces;
using namespace ss::gui;

class TimelineLodTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path_;
    RunId run_;
    std::vector<std::pair<std::int64_t, std::int64_t>> union_;  // the lane's busy intervals
    std::int64_t lo_ = 0, hi_ = 0;

    // True busy time of [a, b) on the lane.
    std::int64_t busyIn(std::int64_t a, std::int64_t b) const {
        std::int64_t t = 0;
        auto it = std::lower_bound(union_.begin(), union_.end(), std::pair{a, INT64_MIN},
                                   [](const auto& x, const auto& y) { return x.second <= y.first; });
        for (; it != union_.end() && it->first < b; ++it) t += std::max<std::int64_t>(0, std::min(b, it->second) - std::max(a, it->first));
        return t;
    }

    // Checks every pixel of a density row against the brute force: a pixel with busy time has a
    // block with a busy fraction > 0 (within `tol` of the truth when tol >= 0); an idle pixel
    // with no event has none.
    void checkRow(const RowDraw& row, const TimeAxis& axis, double widthPx, double tol) {
        QVERIFY(row.density);
        size_t bi = 0;
        int busyPixels = 0;
        for (int p = 0; p < static_cast<int>(widthPx); ++p) {
            const std::int64_t a = axis.toNs(p), b = axis.toNs(p + 1);
            const double truth = static_cast<double>(busyIn(a, b)) / static_cast<double>(b - a);
            while (bi < row.blocks.size() && row.blocks[bi].end <= a) ++bi;
            const Block* blk = bi < row.blocks.size() && row.blocks[bi].start <= a && row.blocks[bi].end >= b ? &row.blocks[bi] : nullptr;
            if (truth > 0) {
                ++busyPixels;
                if (!blk || !(blk->busy > 0))
                    QFAIL(qPrintable(QStringLiteral("pixel %1 is busy %2 but drawn idle").arg(p).arg(truth)));
                if (tol >= 0 && std::abs(blk->busy - truth) > tol)
                    QFAIL(qPrintable(QStringLiteral("pixel %1: drawn busy %2, true %3").arg(p).arg(blk->busy).arg(truth)));
            }
        }
        QVERIFY(busyPixels > 100);
    }

private slots:
    void initTestCase() {
        path_ = dir_.filePath(QStringLiteral("lod.sqlite")).toStdString();
        std::mt19937_64 rng(7);
        std::vector<std::pair<std::int64_t, std::int64_t>> evs;
        std::int64_t t = 1000;
        for (int i = 0; i < 20000; ++i) {
            t += rng() % 50 == 0 ? 20000 + static_cast<std::int64_t>(rng() % 40000) : static_cast<std::int64_t>(rng() % 300);
            const std::int64_t d = 5 + static_cast<std::int64_t>(rng() % 200);
            evs.emplace_back(t, t + d);
            if (rng() % 8 == 0) evs.emplace_back(t + 2, t + d / 2);     // nested
            if (rng() % 8 == 0) evs.emplace_back(t + d / 2, t + d + 90);  // overlapping the next gap
            t += d;
        }
        std::sort(evs.begin(), evs.end());
        for (const auto& [s, e] : evs) {
            if (!union_.empty() && s <= union_.back().second) union_.back().second = std::max(union_.back().second, e);
            else union_.emplace_back(s, e);
        }
        lo_ = evs.front().first;
        hi_ = union_.back().second;
        TraceWriter w(path_, WriterOptions{.durable = false});
        RunInfo info;
        info.name = "lod";
        info.spec_json = "{}";
        info.model = "synthetic";
        info.backend = "cpu";
        run_ = w.begin_run(info);
        w.define_lane(run_, 0, 0, "compute");
        const StringId name = w.intern("gemm");
        for (const auto& [s, e] : evs) {
            Event ev;
            ev.run = run_;
            ev.kind = EventKind::Kernel;
            ev.name = name;
            ev.start_ns = s;
            ev.end_ns = e;
            w.add_event(ev);
        }
        w.finish_run(run_, RunStatus::Completed, "", hi_);
        compute_lane_lod(w.path(), run_);
    }

    void zoomedOutDensityEqualsTrueBusyFraction() {
        TraceReader rd(path_);
        LaneLodStore lod(path_, run_, false);
        const auto rows = timelineRows(rd.lanes(run_));
        QCOMPARE(rows.size(), size_t(1));
        const std::int64_t w = lod.widths(0, 0).front();
        DrawListOptions opt;
        opt.widthPx = 1200;
        opt.totalBudget = 1;
        // One pixel per bucket, pixels on bucket edges: each pixel's fraction is its bucket's.
        const TimeAxis aligned{lo_ / w * w, static_cast<double>(w)};
        const DrawList dl = buildDrawList(rd, run_, rows, aligned, opt, nullptr, &lod);
        QVERIFY(dl.anyDensity);
        QCOMPARE(dl.eventsRead, std::int64_t(0));
        QCOMPARE(dl.rows[0].lodWidthNs, w);
        // Blocks merge pixels whose fractions round to the same 1/64: each within 1/64.
        checkRow(dl.rows[0], aligned, opt.widthPx, 1.0 / 64 + 1e-6);
        // Any view: no pixel where the lane was busy is drawn idle.
        const TimeAxis odd{lo_ + 777, 1.37 * static_cast<double>(w)};
        const DrawList d2 = buildDrawList(rd, run_, rows, odd, opt, nullptr, &lod);
        checkRow(d2.rows[0], odd, opt.widthPx, -1);
        const TimeAxis wide{lo_ - 5000, static_cast<double>(hi_ - lo_) / 900};  // the whole run
        const DrawList d3 = buildDrawList(rd, run_, rows, wide, opt, nullptr, &lod);
        checkRow(d3.rows[0], wide, opt.widthPx, -1);
    }

    void zoomedInIsExact() {
        TraceReader rd(path_);
        LaneLodStore lod(path_, run_, false);
        const auto rows = timelineRows(rd.lanes(run_));
        DrawListOptions opt;
        opt.widthPx = 1200;
        opt.totalBudget = 1;
        const TimeAxis close{lo_, 2.0};  // 2400 ns: a few dozen ops
        const DrawList dl = buildDrawList(rd, run_, rows, close, opt, nullptr, &lod);
        QVERIFY(!dl.anyDensity);
        QVERIFY(dl.eventsRead > 5);
        for (const Block& b : dl.rows[0].blocks) QCOMPARE(b.busy, -1.0f);
        // Without a level of detail every row is read exactly (never sampled).
        const TimeAxis wide{lo_, static_cast<double>(hi_ - lo_) / 1200};
        const DrawList exact = buildDrawList(rd, run_, rows, wide, opt);
        QVERIFY(!exact.anyDensity);
        QVERIFY(exact.eventsRead >= 20000);
    }
};

QTEST_GUILESS_MAIN(TimelineLodTest)
#include "tst_gui_timeline_lod.moc"

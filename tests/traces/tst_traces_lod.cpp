// The timeline's level of detail (traces/lod.h): every stored bucket equals what a brute-force
// pass over the events gives (busy = the time covered by the union of the lane's events, nested
// and overlapping ones counted once; events overlapping; the kind with the most time), on a random
// trace with nesting, overlaps, gaps, instants and events crossing bucket edges, stored in and
// out of start order.
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "trace_fixture.h"
#include "traces/lod.h"
#include "traces/merge.h"
#include "traces/reader.h"
#include "traces/writer.h"

using namespace ss::traces;

namespace {
struct Ev {
    EventKind kind;
    std::int64_t s, e;
};

// Brute force: per ns of the lane's extent, whether an event covers it.
std::vector<LodBucket> bruteForce(const std::vector<Ev>& evs, std::int64_t width) {
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const Ev& v : evs) {
        lo = std::min(lo, v.s);
        hi = std::max(hi, v.e);
    }
    std::vector<char> covered(static_cast<size_t>(hi - lo + 1), 0);
    for (const Ev& v : evs)
        for (std::int64_t t = v.s; t < v.e; ++t) covered[static_cast<size_t>(t - lo)] = 1;
    std::vector<LodBucket> out;
    const std::int64_t first = lo >= 0 ? lo / width : -((-lo + width - 1) / width);
    for (std::int64_t bs = first * width; bs <= hi; bs += width) {
        LodBucket b{bs, width, 0, 0, EventKind::Kernel};
        for (std::int64_t t = std::max(bs, lo); t < std::min(bs + width, hi + 1); ++t) b.busy_ns += covered[static_cast<size_t>(t - lo)];
        std::int64_t kindTime[kEventKindCount] = {};
        for (const Ev& v : evs) {
            const std::int64_t e = std::max(v.e, v.s + 1);  // an instant lies in the bucket of its time
            if (v.s < bs + width && e > bs) {
                ++b.events;
                kindTime[static_cast<int>(v.kind)] +=
                    v.e == v.s ? 1 : std::min(v.e, bs + width) - std::max(v.s, bs);
            }
        }
        std::int64_t best = -1;
        for (int k = 0; k < kEventKindCount; ++k)
            if (kindTime[k] > best && (kindTime[k] > 0 || best < 0)) {
                best = kindTime[k];
                b.kind = static_cast<EventKind>(k);
            }
        if (b.events > 0 || b.busy_ns > 0) out.push_back(b);
    }
    return out;
}

// A lane of random work: bursts of short events with gaps, events nested in longer ones,
// overlapping neighbours, instants.
std::vector<Ev> randomLane(std::mt19937_64& rng, std::int64_t t0) {
    std::vector<Ev> evs;
    std::int64_t t = t0;
    for (int i = 0; i < 400; ++i) {
        const std::int64_t gap = rng() % 4 == 0 ? static_cast<std::int64_t>(rng() % 3000) : static_cast<std::int64_t>(rng() % 40);
        t += gap;
        const std::int64_t dur = 1 + static_cast<std::int64_t>(rng() % 700);
        const auto kind = static_cast<EventKind>(rng() % 3 == 0 ? 1 : (rng() % 2 ? 0 : 4));
        evs.push_back({kind, t, t + dur});
        const int shape = static_cast<int>(rng() % 6);
        if (shape == 0) {  // nested children
            for (std::int64_t c = t + 5; c + 30 < t + dur; c += 60) evs.push_back({EventKind::Kernel, c, c + 30});
        } else if (shape == 1) {  // an overlapping neighbour
            evs.push_back({EventKind::Comm, t + dur / 2, t + dur + 200});
        } else if (shape == 2) {  // an instant
            evs.push_back({EventKind::Sync, t + dur / 3, t + dur / 3});
        }
        t += shape == 1 ? dur + 200 : dur;
    }
    return evs;
}
}  // namespace

class LodTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void widthsLadder() {
        const auto w = lod_widths(10'000'000'000);  // 10 s
        QVERIFY(w.size() >= 3);
        QVERIFY((10'000'000'000 + w[0] - 1) / w[0] <= 4096);
        QVERIFY(10'000'000'000 / w[0] > 2048);  // the smallest power of two that fits
        for (size_t i = 1; i < w.size(); ++i) QCOMPARE(w[i - 1] / w[i], std::int64_t(4));
        QCOMPARE(lod_widths(100).back(), std::int64_t(1));
    }

    void busyEqualsTrueFractionPerBucket() {
        const std::string path = dir_.filePath(QStringLiteral("random.sqlite")).toStdString();
        std::mt19937_64 rng(20261201);
        std::map<std::pair<int, int>, std::vector<Ev>> lanes;
        RunId run;
        {
            TraceWriter w(path, WriterOptions{.durable = false});
            run = w.begin_run(fixture::run_info("lod", 2));
            const StringId name = w.intern("op");
            for (int rank = 0; rank < 2; ++rank)
                for (int lane = 0; lane < 2; ++lane) {
                    std::vector<Ev> evs = randomLane(rng, -5000 + 1000 * rank);  // negative times too
                    lanes[{rank, lane}] = evs;
                    // Lane 1: stored as a profiler does, each span when it ends (a parent after
                    // its children): out of start order.
                    if (lane == 1)
                        std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.e < b.e; });
                    for (const Ev& v : evs) {
                        Event e;
                        e.run = run;
                        e.rank = rank;
                        e.lane = lane;
                        e.kind = v.kind;
                        e.name = name;
                        e.start_ns = v.s;
                        e.end_ns = v.e;
                        w.add_event(e);
                    }
                }
            w.finish_run(run, RunStatus::Completed, "", 0);
        }
        LodOptions opt;
        opt.coarse_buckets = 64;
        opt.min_events_per_bucket = 0.01;  // keep finer levels (down to tens of ns)
        const LodComputeStats st = compute_lane_lod(path, run, opt);
        QCOMPARE(st.lanes, std::int64_t(4));
        QCOMPARE(st.lanes_reordered, std::int64_t(2));
        LaneLodStore store(path, run, false);
        QVERIFY(!store.computed());
        int levelsChecked = 0;
        for (const auto& [key, evs] : lanes) {
            const auto& widths = store.widths(key.first, key.second);
            QVERIFY(widths.size() >= 3);
            QVERIFY(widths.back() <= 512);
            for (std::int64_t w : widths) {
                const std::vector<LodBucket> got = store.buckets(key.first, key.second, w, INT64_MIN / 2, INT64_MAX / 2);
                const std::vector<LodBucket> want = bruteForce(evs, w);
                QCOMPARE(got.size(), want.size());
                for (size_t i = 0; i < got.size(); ++i) {
                    if (!(got[i] == want[i]))
                        QFAIL(qPrintable(QStringLiteral("rank %1 lane %2 width %3 bucket %4: got busy %5 events %6 kind %7,"
                                                        " want busy %8 events %9 kind %10")
                                             .arg(key.first).arg(key.second).arg(w).arg(got[i].start_ns)
                                             .arg(got[i].busy_ns).arg(got[i].events).arg(static_cast<int>(got[i].kind))
                                             .arg(want[i].busy_ns).arg(want[i].events).arg(static_cast<int>(want[i].kind))));
                }
                ++levelsChecked;
            }
            // A window query returns the buckets overlapping it.
            const std::int64_t w = widths.front();
            const auto all = store.buckets(key.first, key.second, w, INT64_MIN / 2, INT64_MAX / 2);
            const std::int64_t a = all[1].start_ns + w / 2, b = all[3].start_ns + 1;
            const auto part = store.buckets(key.first, key.second, w, a, b);
            QCOMPARE(part.size(), size_t(3));
            QCOMPARE(part.front().start_ns, all[1].start_ns);
            // The level for a pixel: the coarsest no wider than two pixels.
            QCOMPARE(store.width_for(key.first, key.second, static_cast<double>(widths[1]) * 1.5), widths[1]);
            QCOMPARE(store.width_for(key.first, key.second, static_cast<double>(widths[1]) * 0.5), widths[1]);
            QCOMPARE(store.width_for(key.first, key.second, static_cast<double>(widths[1]) * 0.49), widths[2]);
            QCOMPARE(store.width_for(key.first, key.second, 0.5), widths.back());
        }
        QVERIFY(levelsChecked >= 12);
    }

    void computedOnOpenWhenAbsent() {
        const std::string path = dir_.filePath(QStringLiteral("nolod.sqlite")).toStdString();
        RunId run;
        {
            TraceWriter w(path, WriterOptions{.durable = false});
            run = w.begin_run(fixture::run_info("plain", 1));
            for (const char* line : {"kernel a 0 400", "kernel b 100 200", "comm c 1000 1500 lane=1"})
                w.add_event(fixture::parse_event(w, run, 0, line));
            w.finish_run(run, RunStatus::Completed, "", 1500);
        }
        {
            LaneLodStore mem(path, run, /*write_back=*/false);
            QVERIFY(mem.computed());
            QVERIFY(mem.in_memory());
            const auto w = mem.widths(0, 0);
            QVERIFY(!w.empty());
            std::int64_t busy = 0, events = 0;
            for (const LodBucket& b : mem.buckets(0, 0, w.front(), 0, 2000)) {
                busy += b.busy_ns;
                events = std::max(events, b.events);
            }
            QCOMPARE(busy, std::int64_t(400));  // the nested kernel counted once
            Db check(path, Db::Mode::ReadOnly);
            QVERIFY(!has_lane_lod(check, run));  // the file was not written
        }
        {
            LaneLodStore stored(path, run, /*write_back=*/true);
            QVERIFY(stored.computed());
            QVERIFY(!stored.in_memory());
            Db check(path, Db::Mode::ReadOnly);
            QVERIFY(has_lane_lod(check, run));
        }
        LaneLodStore again(path, run, true);
        QVERIFY(!again.computed());
    }

    void mergeStoresLod() {
        fixture::RankFile f0, f1;
        f0.world = f1.world = 2;
        f1.rank = 1;
        f0.end_ns = f1.end_ns = 5000;
        f0.events = "kernel a 100 900\nkernel b 1000 1800\n";
        f1.events = "kernel a 150 950\ncomm r 1000 4000 lane=1\n";
        const std::string out = dir_.filePath(QStringLiteral("merged.sqlite")).toStdString();
        const MergeResult res =
            merge_rank_files({fixture::write_rank_file(dir_, "m", f0), fixture::write_rank_file(dir_, "m", f1)}, out);
        Db db(out, Db::Mode::ReadOnly);
        QVERIFY(has_lane_lod(db, res.run));
        LaneLodStore store(out, res.run, false);
        QVERIFY(!store.computed());
        std::int64_t busy = 0;
        for (const LodBucket& b : store.buckets(1, 1, store.widths(1, 1).front(), 0, 10000)) busy += b.busy_ns;
        QCOMPARE(busy, std::int64_t(3000));
    }
};

QTEST_GUILESS_MAIN(LodTest)
#include "tst_traces_lod.moc"

// Schema round trip, window queries, stored aggregates against brute force.
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <map>
#include <random>

#include "trace_fixture.h"
#include "traces/reader.h"
#include "traces/schema.h"
#include "traces/spilled_summaries.h"
#include "traces/stats_keys.h"
#include "traces/writer.h"

using namespace ss::traces;

class TestTraceStore : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string path(const char* name) { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }

private slots:
    void roundTripsEveryTable() {
        const std::string p = path("roundtrip.sqlite");
        RunInfo info = fixture::run_info("rt", 2);
        info.dp = 1;
        info.tp = 2;
        info.pp = 1;
        info.micro_batches = 4;
        info.hosts = {"alpha", "be\"ta"};
        info.oversubscribed = true;
        info.start_ns = 100;
        info.end_ns = 5000;
        info.wall_start_unix_ns = 1700000000123456789;
        RankInfo k0, k1;
        Event e;
        RunId run;
        StudyId study;
        {
            TraceWriter w(p);
            run = w.begin_run(info);
            k0.run = run;
            k0.rank = 0;
            k0.host = "alpha";
            k0.pid = 42;
            k0.device = "cpu";
            k1 = k0;
            k1.rank = 1;
            k1.host = "be\"ta";
            k1.tp_coord = 1;
            k1.clock_offset_ns = -123456;
            k1.clock_ref_ns = 777;
            k1.clock_drift_ppb = 12.5;
            k1.clock_rtt_ns = 3100;
            w.put_rank(k0);
            w.put_rank(k1);
            w.define_lane(run, 1, 3, "stream 7");
            e.run = run;
            e.rank = 1;
            e.lane = 3;
            e.kind = EventKind::Comm;
            e.name = w.intern("ncclAllReduce");
            e.start_ns = 1000;
            e.end_ns = 1750;
            e.step = 2;
            e.micro_batch = 3;
            e.layer = 5;
            e.bytes = 1 << 20;
            e.flops = 1.5e9;
            e.collective = Collective::AllReduce;
            e.group_kind = GroupKind::TP;
            e.group_id = 0;
            e.group_size = 2;
            e.seq = 17;
            e.correlation = 99;
            QVERIFY(w.add_event(e));
            Event bad = e;
            bad.end_ns = bad.start_ns - 1;
            QVERIFY(!w.add_event(bad));
            w.add_metric(run, 0, 2, 1800, "loss", 2.25);
            w.add_metric(run, 0, 3, 1900, "loss", std::nan(""));
            w.add_stat(run, 1, stats::kEventsDroppedBufferFull.key, 3);
            study = w.add_study(StudyInfo{StudyId(), "tp sweep", "parallel.tp", "strong"});
            w.add_study_run(StudyRun{study, run, "2", 2, 1});
            w.finish_run(run, RunStatus::Failed, "rank 1: out of memory", 5000);
        }
        TraceReader rd(p);
        QCOMPARE(rd.schema_version(), kSchemaVersion);
        auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(1));
        RunInfo expect = info;
        expect.id = run;
        expect.status = RunStatus::Failed;
        expect.failure_reason = "rank 1: out of memory";
        expect.event_count = 1;
        QCOMPARE(runs[0].hosts, info.hosts);
        QVERIFY(runs[0] == expect);
        auto ranks = rd.ranks(run);
        QCOMPARE(ranks.size(), size_t(2));
        QVERIFY(ranks[0] == k0);
        QVERIFY(ranks[1] == k1);
        auto lanes = rd.lanes(run);
        QCOMPARE(lanes.size(), size_t(1));
        QCOMPARE(lanes[0].name, std::string("stream 7"));
        QCOMPARE(lanes[0].event_count, std::int64_t(1));
        QCOMPARE(lanes[0].max_duration_ns, std::int64_t(750));
        auto evs = rd.events_in_window(run, 1, 3, 0, 10000);
        QCOMPARE(evs.size(), size_t(1));
        QVERIFY(evs[0] == e);
        QCOMPARE(rd.string(evs[0].name), std::string("ncclAllReduce"));
        auto metrics = rd.metrics(run);
        QCOMPARE(metrics.size(), size_t(1));  // the NaN sample is refused and counted
        QCOMPARE(metrics[0].value, 2.25);
        QCOMPARE(metrics[0].name, std::string("loss"));
        std::map<std::string, std::int64_t> st;
        for (const auto& s : rd.stats(run)) st[s.key + "@" + std::to_string(s.rank)] = s.value;
        QCOMPARE(st["events_malformed@-1"], std::int64_t(1));
        QCOMPARE(st["metrics_malformed@-1"], std::int64_t(1));
        QCOMPARE(st["events_dropped_buffer_full@1"], std::int64_t(3));
        auto studies = rd.studies();
        QCOMPARE(studies.size(), size_t(1));
        QCOMPARE(studies[0].variable, std::string("parallel.tp"));
        auto sr = rd.study_runs(study);
        QCOMPARE(sr.size(), size_t(1));
        QCOMPARE(sr[0].p, 2);
        QCOMPARE(sr[0].repeat, 1);
        QCOMPARE(sr[0].run, run);
    }

    void appendsRunsToAnExistingFile() {
        const std::string p = path("append.sqlite");
        for (int i = 0; i < 3; ++i) {
            TraceWriter w(p);
            RunId r = w.begin_run(fixture::run_info("run" + std::to_string(i), 1));
            w.add_event(fixture::parse_event(w, r, 0, "kernel gemm 0 " + std::to_string(10 + i)));
            w.finish_run(r, RunStatus::Completed, "", 100);
        }
        TraceReader rd(p);
        auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(3));
        QCOMPARE(runs[2].name, std::string("run2"));
        QCOMPARE(runs[2].event_count, std::int64_t(1));
        auto agg = rd.aggregates(runs[1].id);
        QCOMPARE(agg.size(), size_t(1));
        QCOMPARE(agg[0].total_ns, std::int64_t(11));
        QCOMPARE(agg[0].name, std::string("gemm"));  // one string row shared by all runs
    }

    void windowQueryEqualsBruteForce() {
        const std::string p = path("window.sqlite");
        std::mt19937_64 rng(7);
        std::vector<Event> all;
        RunId run;
        {
            TraceWriter w(p);
            run = w.begin_run(fixture::run_info("win", 1));
            StringId n = w.intern("k");
            for (int lane = 0; lane < 3; ++lane) {
                std::int64_t t = 0;
                for (int i = 0; i < 3000; ++i) {
                    Event e;
                    e.run = run;
                    e.lane = lane;
                    e.name = n;
                    e.start_ns = t + static_cast<std::int64_t>(rng() % 50);
                    // Mostly short events and a few very long ones (the long ones must still be
                    // found by windows that start after them).
                    const std::int64_t dur = (i % 500 == 7) ? 20000 : static_cast<std::int64_t>(rng() % 100);
                    e.end_ns = e.start_ns + dur;
                    t = e.start_ns + 30;
                    w.add_event(e);
                    all.push_back(e);
                }
            }
            w.finish_run(run, RunStatus::Completed, "", 0);
        }
        TraceReader rd(p);
        for (int q = 0; q < 200; ++q) {
            const int lane = static_cast<int>(rng() % 3);
            const std::int64_t t0 = static_cast<std::int64_t>(rng() % 100000);
            const std::int64_t t1 = t0 + static_cast<std::int64_t>(rng() % 3000);
            std::vector<std::pair<std::int64_t, std::int64_t>> expect, got;
            for (const auto& e : all)
                if (e.lane == lane && e.start_ns < t1 && e.end_ns > t0)
                    expect.emplace_back(e.start_ns, e.end_ns);
            for (const auto& e : rd.events_in_window(run, 0, lane, t0, t1))
                got.emplace_back(e.start_ns, e.end_ns);
            std::sort(expect.begin(), expect.end());
            std::sort(got.begin(), got.end());
            QCOMPARE(got, expect);
        }
    }

    void storedAggregatesEqualBruteForce() {
        const std::string p = path("agg.sqlite");
        std::mt19937_64 rng(11);
        struct Key {
            int kind;
            std::string name;
            int coll;
            int group;
            bool operator<(const Key& o) const {
                return std::tie(kind, name, coll, group) < std::tie(o.kind, o.name, o.coll, o.group);
            }
        };
        std::map<Key, std::vector<std::int64_t>> durs;
        std::map<Key, std::int64_t> bytes;
        RunId run;
        {
            TraceWriter w(p);
            run = w.begin_run(fixture::run_info("agg", 1));
            const char* names[] = {"gemm", "gelu", "layernorm", "all_reduce"};
            for (int i = 0; i < 20000; ++i) {
                Event e;
                e.run = run;
                const int which = static_cast<int>(rng() % 4);
                e.name = w.intern(names[which]);
                e.kind = which == 3 ? EventKind::Comm : EventKind::Kernel;
                if (which == 3) {
                    e.collective = Collective::AllReduce;
                    e.group_kind = (rng() % 2) ? GroupKind::DP : GroupKind::TP;
                    e.bytes = static_cast<std::int64_t>(rng() % 100000);
                }
                e.start_ns = i * 1000;
                // A skewed distribution so mean, median and p95 all differ.
                e.end_ns = e.start_ns + static_cast<std::int64_t>((rng() % 1000) * (rng() % 1000) / 97);
                w.add_event(e);
                Key k{static_cast<int>(e.kind), names[which], static_cast<int>(e.collective),
                      static_cast<int>(e.group_kind)};
                durs[k].push_back(e.end_ns - e.start_ns);
                if (e.bytes > 0) bytes[k] += e.bytes;
            }
            // Steps and phases are not summarised.
            w.add_event(fixture::parse_event(w, run, 0, "step step 0 20000000 step=0"));
            w.finish_run(run, RunStatus::Completed, "", 0);
        }
        TraceReader rd(p);
        auto agg = rd.aggregates(run);
        QCOMPARE(agg.size(), durs.size());
        for (const auto& a : agg) {
            Key k{static_cast<int>(a.kind), a.name, static_cast<int>(a.collective),
                  static_cast<int>(a.group_kind)};
            QVERIFY2(durs.count(k), a.name.c_str());
            std::vector<std::int64_t> d = durs[k];
            std::sort(d.begin(), d.end());
            const size_t n = d.size();
            std::int64_t total = 0;
            for (auto x : d) total += x;
            const double median = n % 2 ? double(d[n / 2]) : (double(d[n / 2 - 1]) + double(d[n / 2])) / 2;
            // Nearest rank: smallest value with at least 95 % of values <= it.
            size_t r = 0;
            while (100 * (r + 1) < 95 * n) ++r;
            QCOMPARE(a.count, std::int64_t(n));
            QCOMPARE(a.total_ns, total);
            QCOMPARE(a.mean_ns, double(total) / double(n));
            QCOMPARE(a.median_ns, median);
            QCOMPARE(a.p95_ns, d[r]);
            QCOMPARE(a.min_ns, d.front());
            QCOMPARE(a.max_ns, d.back());
            QCOMPARE(a.bytes, bytes[k]);
        }
    }

    void summaryOfSmallInputsByHand() {
        std::vector<std::int64_t> one{5};
        auto s = summarize_durations(one);
        QCOMPARE(s.median_ns, 5.0);
        QCOMPARE(s.p95_ns, std::int64_t(5));
        std::vector<std::int64_t> four{40, 10, 30, 20};
        s = summarize_durations(four);
        QCOMPARE(s.median_ns, 25.0);
        QCOMPARE(s.p95_ns, std::int64_t(40));
        QCOMPARE(s.mean_ns, 25.0);
        std::vector<std::int64_t> twenty;
        for (int i = 1; i <= 20; ++i) twenty.push_back(i);
        s = summarize_durations(twenty);
        QCOMPARE(s.p95_ns, std::int64_t(19));  // ceil(0.95*20) = 19th smallest
        QCOMPARE(s.median_ns, 10.5);
    }

    void crashedWriterKeepsFlushedEvents() {
        const std::string p = path("crash.sqlite");
        RunId run;
        {
            TraceWriter w(p, WriterOptions{.batch_events = 1000000, .durable = false});
            run = w.begin_run(fixture::run_info("crash", 1));
            for (int i = 0; i < 10; ++i)
                w.add_event(fixture::parse_event(w, run, 0, "kernel k " + std::to_string(i * 10) + " " +
                                                                std::to_string(i * 10 + 5)));
            w.flush();
            // never finished: a process that died after its last flush
        }
        TraceReader rd(p);
        QCOMPARE(rd.runs()[0].status, RunStatus::Running);
        QCOMPARE(rd.runs()[0].event_count, std::int64_t(10));
        QCOMPARE(rd.events_in_window(run, 0, 0, 0, 1000).size(), size_t(10));
    }

    // WriterOptions::bounded_memory (the import's bounded-memory path) stores the same rows
    // as the in-memory builder: counts, totals, exact medians of odd and even groups, p95, bytes.
    void aggregatesFromTheFileEqualTheInMemoryOnes() {
        std::vector<std::vector<Aggregate>> results;
        for (bool from_file : {false, true}) {
            const std::string p = path(from_file ? "agg-file.sqlite" : "agg-mem.sqlite");
            WriterOptions opt;
            opt.batch_events = 97;
            opt.bounded_memory = from_file;
            TraceWriter w(p, opt);
            RunId run = w.begin_run(fixture::run_info("agg", 1));
            std::mt19937_64 rng(7);
            const char* names[] = {"gemm", "attn", "all_reduce", "copy", "step"};
            for (int i = 0; i < 5001; ++i) {
                Event e;
                e.run = run;
                const int n = static_cast<int>(rng() % 5);
                e.kind = n == 2 ? EventKind::Comm : n == 3 ? EventKind::Memcpy : n == 4 ? EventKind::Step : EventKind::Kernel;
                e.name = w.intern(names[n]);
                if (n == 2) {
                    e.collective = i % 3 ? Collective::AllReduce : Collective::Broadcast;
                    e.group_kind = GroupKind::DP;
                }
                if (n >= 2) e.bytes = static_cast<std::int64_t>(rng() % 5000) - 100;  // some <= 0: not summed
                e.start_ns = i * 100;
                e.end_ns = e.start_ns + static_cast<std::int64_t>(rng() % 1000);
                w.add_event(e);
            }
            w.finish_run(run, RunStatus::Completed, "", 600000);
            TraceReader rd(p);
            results.push_back(rd.aggregates(run));
        }
        QVERIFY(results[0].size() >= 5);  // gemm, attn, copy, all_reduce twice (no step rows)
        QCOMPARE(results[1], results[0]);
    }

    // The bounded-memory summaries equal summarize_durations on every group: more durations than
    // the buffer (spilled to the temporary file), more targets than one pass takes, constant
    // groups, two-value groups, single values, ranges up to 2^62 (8 radix passes), ties.
    void spilledSummariesEqualTheInMemoryOnes() {
        SpilledSummaries sp("the test's durations");
        std::vector<std::vector<std::int64_t>> ref;
        std::mt19937_64 rng(11);
        const std::uint32_t groups = 3000;  // > kTargetsPerPass / 3: several batches of targets
        ref.resize(groups);
        const std::size_t total = SpilledSummaries::kBufferEntries * 2 + 12345;
        for (std::size_t i = 0; i < total; ++i) {
            // Skewed: low groups get most durations (some thousands, above kCollect).
            // Group 2 (wide) gets a fifth of them.
            const auto g = i % 5 == 0 ? 2u : static_cast<std::uint32_t>(std::min<std::uint64_t>(rng() % groups, rng() % groups));
            std::int64_t d = 0;
            switch (g % 6) {
                case 0: d = 4242; break;                                                   // constant
                case 1: d = rng() % 2 ? 10 : 11; break;                                     // two values
                case 2:  // wide: 0..999 (the median) and 2^62 + 0..999 (the p95): many passes
                    d = (rng() % 10 < 7 ? 0 : std::int64_t{1} << 62) + static_cast<std::int64_t>(rng() % 1000);
                    break;
                case 3: d = static_cast<std::int64_t>(rng() % 1000) * 1000; break;          // ties
                case 4: d = 1000000 + static_cast<std::int64_t>(rng() % 200000); break;
                default: d = static_cast<std::int64_t>(rng() % 50); break;
            }
            sp.add(g, d);
            ref[g].push_back(d);
        }
        // Small groups by hand: one value, two values.
        sp.add(groups, 7);
        ref.push_back({7});
        sp.add(groups + 1, 9);
        sp.add(groups + 1, 4);
        ref.push_back({9, 4});
        const std::vector<DurationSummary> got = sp.finish();
        QCOMPARE(got.size(), ref.size());
        QVERIFY2(sp.passes() >= 6, std::to_string(sp.passes()).c_str());  // the 2^62 groups
        for (std::size_t g = 0; g < ref.size(); ++g) {
            const DurationSummary want = summarize_durations(ref[g]);
            const DurationSummary& s = got[g];
            const std::string at = "group " + std::to_string(g);
            QVERIFY2(s.count == want.count && s.total_ns == want.total_ns && s.min_ns == want.min_ns &&
                         s.max_ns == want.max_ns && s.p95_ns == want.p95_ns &&
                         s.median_ns == want.median_ns && s.mean_ns == want.mean_ns,
                     at.c_str());
        }
        QCOMPARE(got[groups].median_ns, 7.0);
        QCOMPARE(got[groups + 1].median_ns, 6.5);
        QCOMPARE(got[groups + 1].p95_ns, std::int64_t(9));
    }
};

QTEST_GUILESS_MAIN(TestTraceStore)
#include "tst_traces_store.moc"

// Merge of per-rank files: clock corrections, run status, bad inputs.
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <map>
#include <tuple>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_fixture.h"
#include "traces/lanes.h"
#include "traces/merge.h"
#include "traces/reader.h"
#include "traces/writer.h"

using namespace ss::traces;
using fixture::RankFile;

class TestTraceMerge : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string out(const char* name) { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }

private slots:
    void correctTimeAppliesOffsetAndDrift() {
        RankInfo k;
        k.clock_offset_ns = 5000;
        k.clock_ref_ns = 1000000;
        k.clock_drift_ppb = 1000.0;  // 1 us per second
        QCOMPARE(correct_time(k, 1000000), std::int64_t(1000000 - 5000));
        // One second after the reference the rank clock has gained another microsecond.
        QCOMPARE(correct_time(k, 1001000000), std::int64_t(1001000000 - 5000 - 1000));
        QCOMPARE(correct_time(k, 0), std::int64_t(0 - 5000 + 1));  // drift before the reference
    }

    void mergeCarriesTheRunSource() {
        RankFile f;
        f.end_ns = 1000;
        f.source_tool = "Nsight Systems";
        f.source_file = "/data/report.sqlite";
        f.events = "kernel gemm 10 20\n";
        const std::string o = out("merged-source.sqlite");
        MergeResult res = merge_rank_files({fixture::write_rank_file(dir_, "src", f)}, o);
        RunInfo run = TraceReader(o).run(res.run);
        QCOMPARE(run.source_tool, std::string("Nsight Systems"));
        QCOMPARE(run.source_version, std::string("2.1"));
        QCOMPARE(run.source_file, std::string("/data/report.sqlite"));
    }

    void mergesRanksOntoRankZeroClock() {
        // The same all-reduce seen by three ranks whose clocks are off by +1 ms, -2 ms, +7 us.
        // After correction all three start at 10'000 and end at 12'000 on rank 0's clock.
        std::vector<std::string> files;
        const std::int64_t offsets[] = {0, 1000000, -2000000};
        for (int r = 0; r < 3; ++r) {
            RankFile f;
            f.rank = r;
            f.world = 3;
            f.offset_ns = offsets[r];
            f.start_ns = 0 + offsets[r];
            f.end_ns = 50000 + offsets[r];
            const std::int64_t o = offsets[r];
            f.events = "kernel gemm " + std::to_string(1000 + o) + " " + std::to_string(9000 + o) +
                       " step=0 flops=1e6\n" + "comm all_reduce " + std::to_string(10000 + o) + " " +
                       std::to_string(12000 + o) +
                       " lane=1 coll=all_reduce group=dp gid=0 gsize=3 seq=0 bytes=4096 step=0\n";
            files.push_back(fixture::write_rank_file(dir_, "m3", f));
        }
        // Input order must not matter.
        std::swap(files[0], files[2]);
        const std::string o = out("merged.sqlite");
        MergeResult res = merge_rank_files(files, o);
        QCOMPARE(res.ranks, 3);
        QCOMPARE(res.events, std::int64_t(6));
        QCOMPARE(res.status, RunStatus::Completed);

        TraceReader rd(o);
        RunInfo run = rd.run(res.run);
        QCOMPARE(run.world_size, 3);
        QCOMPARE(run.event_count, std::int64_t(6));
        QCOMPARE(run.start_ns, std::int64_t(0));
        QCOMPARE(run.end_ns, std::int64_t(50000));
        QCOMPARE(run.hosts, (std::vector<std::string>{"node0", "node1"}));
        QVERIFY(!run.imported());  // our own run: no source
        auto ranks = rd.ranks(res.run);
        QCOMPARE(ranks.size(), size_t(3));
        for (const auto& k : ranks) {
            QVERIFY(k.clock_corrected);
            QCOMPARE(k.clock_offset_ns, offsets[k.rank]);
        }
        int comm = 0;
        rd.scan_events(res.run, [&](const Event& e) {
            if (e.kind == EventKind::Comm) {
                ++comm;
                QCOMPARE(e.start_ns, std::int64_t(10000));
                QCOMPARE(e.end_ns, std::int64_t(12000));
                QCOMPARE(e.bytes, std::int64_t(4096));
                QCOMPARE(e.group_kind, GroupKind::DP);
                QCOMPARE(rd.string(e.name), std::string("all_reduce"));
            } else {
                QCOMPARE(e.start_ns, std::int64_t(1000));
                QCOMPARE(e.flops, 1e6);
            }
        });
        QCOMPARE(comm, 3);
        auto agg = rd.aggregates(res.run);
        QCOMPARE(agg.size(), size_t(2));
        for (const auto& a : agg) {
            QCOMPARE(a.count, std::int64_t(3));
            if (a.kind == EventKind::Comm) QCOMPARE(a.bytes, std::int64_t(3 * 4096));
        }
        auto metrics = rd.metrics(res.run);
        QCOMPARE(metrics.size(), size_t(3));
        for (const auto& m : metrics) QCOMPARE(m.time_ns, std::int64_t(10));
        // Window queries see the corrected times.
        QCOMPARE(rd.events_in_window(res.run, 1, 1, 11000, 11001).size(), size_t(1));
        QCOMPARE(rd.events_in_window(res.run, 1, 1, 1011000, 1011001).size(), size_t(0));
    }

    void mergesTwoRunsIntoOneFile() {
        const std::string o = out("two-runs.sqlite");
        for (int run = 0; run < 2; ++run) {
            std::vector<std::string> files;
            for (int r = 0; r < 2; ++r) {
                RankFile f;
                f.rank = r;
                f.world = 2;
                f.end_ns = 100;
                f.events = "kernel k 10 20\n";
                files.push_back(fixture::write_rank_file(dir_, "two" + std::to_string(run), f));
            }
            merge_rank_files(files, o);
        }
        TraceReader rd(o);
        QCOMPARE(rd.runs().size(), size_t(2));
        QCOMPARE(rd.runs()[1].name, std::string("two1"));
    }

    void unfinishedRankMakesRunFailed() {
        RankFile a;
        a.world = 2;
        a.end_ns = 1000;
        a.events = "step step 0 400 step=0\nstep step 400 800 step=1\n";
        RankFile b = a;
        b.rank = 1;
        b.finish = false;  // process killed: its run row was never finished
        b.end_ns = 0;
        b.events = "step step 0 400 step=0\n";
        std::vector<std::string> files{fixture::write_rank_file(dir_, "crash", a),
                                       fixture::write_rank_file(dir_, "crash", b)};
        MergeResult res = merge_rank_files(files, out("crash.sqlite"));
        QCOMPARE(res.status, RunStatus::Failed);
        QVERIFY2(res.failure_reason.find("rank 1") != std::string::npos, res.failure_reason.c_str());
        TraceReader rd(out("crash.sqlite"));
        QCOMPARE(rd.run(res.run).status, RunStatus::Failed);
        QCOMPARE(rd.run(res.run).event_count, std::int64_t(3));
    }

    void missingRankIsCountedAndFailsRun() {
        RankFile a;
        a.world = 3;
        a.end_ns = 10;
        a.events = "kernel k 1 2\n";
        MergeResult res = merge_rank_files({fixture::write_rank_file(dir_, "missing", a)},
                                           out("missing.sqlite"));
        QCOMPARE(res.status, RunStatus::Failed);
        QCOMPARE(res.warnings.size(), size_t(2));
        TraceReader rd(out("missing.sqlite"));
        std::int64_t missing = 0;
        for (const auto& s : rd.stats(res.run))
            if (s.key == "merge_rank_files_missing") missing += s.value;
        QCOMPARE(missing, std::int64_t(2));
    }

    void statusOverrideWins() {
        RankFile a;
        a.end_ns = 10;
        MergeOptions opt;
        opt.status = RunStatus::Cancelled;
        opt.failure_reason = "cancelled by the user";
        MergeResult res = merge_rank_files({fixture::write_rank_file(dir_, "cancel", a)},
                                           out("cancel.sqlite"), opt);
        TraceReader rd(out("cancel.sqlite"));
        QCOMPARE(rd.run(res.run).status, RunStatus::Cancelled);
        QCOMPARE(rd.run(res.run).failure_reason, std::string("cancelled by the user"));
    }

    void recoversRankKilledInsideAWrite() {
        RankFile a;
        a.end_ns = 1000;
        a.finish = false;
        a.events = "step step 0 400 step=0\nstep step 400 800 step=1\n";
        const std::string f = fixture::write_rank_file(dir_, "hot", a);
        // A child process starts a big write and dies inside it (no commit, no rollback): the
        // hot journal it leaves makes read-only opens fail until a writer rolls it back.
        const pid_t pid = fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            sqlite3* db = nullptr;
            sqlite3_open(f.c_str(), &db);
            sqlite3_exec(db, "PRAGMA cache_size=10; BEGIN;", nullptr, nullptr, nullptr);
            for (int i = 0; i < 20000; ++i)
                sqlite3_exec(db, "INSERT INTO events(run_id, rank, lane, kind, name_id, start_ns, end_ns)"
                                 " VALUES(1, 0, 0, 5, 1, 900, 950)", nullptr, nullptr, nullptr);
            _exit(0);
        }
        int status = 0;
        QCOMPARE(waitpid(pid, &status, 0), pid);
        QVERIFY(QFile::exists(QString::fromStdString(f + "-journal")));
        QVERIFY_THROWS_EXCEPTION(TraceError, TraceReader{f});
        MergeResult res = merge_rank_files({f}, out("hot.sqlite"));
        QCOMPARE(res.warnings.size(), size_t(1));
        QVERIFY(res.warnings[0].find("rolled back to its last flush") != std::string::npos);
        QCOMPARE(res.events, std::int64_t(2));  // the committed events, none of the dead write
        QCOMPARE(res.status, RunStatus::Failed);
    }

    void mergedEventsEqualInputsWithClockCorrection() {
        // Two rank files with offset and drift, several lanes, events written out of lane order and
        // every optional field: the merged run holds exactly the inputs, corrected, and the same
        // lanes and aggregates as writing those corrected events through a TraceWriter gives.
        std::vector<std::string> files;
        std::vector<Event> expected;
        const std::string ref = out("merge-reference.sqlite");
        TraceWriter rw(ref);
        RunInfo info;
        info.name = "exact";
        info.world_size = 2;
        info.dp = 2;
        const RunId rrun = rw.begin_run(info);
        std::uint64_t seed = 12345;
        auto rnd = [&](std::int64_t n) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            return static_cast<std::int64_t>((seed >> 33) % static_cast<std::uint64_t>(n));
        };
        const char* names[] = {"gemm", "softmax", "all_reduce", "data", "step"};
        for (int r = 0; r < 2; ++r) {
            const std::string f = out(r ? "exact-r1.sqlite" : "exact-r0.sqlite");
            RankInfo k;
            k.rank = r;
            k.clock_offset_ns = r ? -1234567 : 0;
            k.clock_ref_ns = 5000000;
            k.clock_drift_ppb = r ? 2345.5 : 0;
            k.clock_rtt_ns = 1000;
            {
                TraceWriter w(f);
                RunInfo ri = info;
                ri.start_ns = 0;
                ri.end_ns = 200000000;
                const RunId run = w.begin_run(ri);
                k.run = run;
                w.put_rank(k);
                for (int l = 0; l < 3; ++l) w.define_lane(run, r, l, "lane name " + std::to_string(l));
                std::int64_t t = 1000;
                for (int i = 0; i < 3000; ++i) {
                    Event e;
                    e.run = run;
                    e.rank = r;
                    e.lane = static_cast<std::int32_t>(rnd(4));  // lane 3 has no name
                    e.kind = static_cast<EventKind>(rnd(3));
                    const char* name = names[rnd(5)];
                    e.name = w.intern(name);
                    t += rnd(50000);
                    e.start_ns = t;
                    e.end_ns = t + rnd(40000);
                    if (rnd(2)) e.step = i / 100;
                    if (rnd(2)) e.bytes = rnd(1 << 20);
                    if (rnd(2)) e.flops = static_cast<double>(rnd(1000000)) * 1.5;
                    if (e.kind == EventKind::Comm) {
                        e.collective = Collective::AllReduce;
                        e.group_kind = GroupKind::DP;
                        e.group_id = 0;
                        e.group_size = 2;
                        e.seq = i;
                    }
                    if (rnd(3) == 0) e.correlation = i;
                    QVERIFY(w.add_event(e));
                    Event c = e;
                    c.start_ns = correct_time(k, e.start_ns);
                    c.end_ns = correct_time(k, e.end_ns);
                    c.name = rw.intern(name);
                    c.run = rrun;
                    expected.push_back(c);
                }
                w.finish_run(run, RunStatus::Completed, "", ri.end_ns);
            }
            files.push_back(f);
        }
        std::vector<Event> sorted = expected;
        std::sort(sorted.begin(), sorted.end(), [](const Event& a, const Event& b) {
            return std::tuple(a.rank, a.lane, a.start_ns, a.end_ns) < std::tuple(b.rank, b.lane, b.start_ns, b.end_ns);
        });
        for (const auto& e : sorted) rw.add_event(e);
        for (int r = 0; r < 2; ++r)
            for (int l = 0; l < 3; ++l) rw.define_lane(rrun, r, l, "lane name " + std::to_string(l));
        rw.finish_run(rrun, RunStatus::Completed, "", 0);
        rw.flush();

        const std::string o = out("exact-merged.sqlite");
        MergeResult res = merge_rank_files(files, o);
        QCOMPARE(res.events, std::int64_t(expected.size()));
        TraceReader rd(o), rr(ref);
        std::vector<Event> got;
        rd.scan_events(res.run, [&](const Event& e) {
            Event c = e;
            c.run = rrun;
            c.name = rr.string(e.name) == rd.string(e.name) ? e.name : StringId(-1);
            // Names compared as text: the two files intern in their own order.
            for (const char* n : names)
                if (rd.string(e.name) == n) c.name = StringId(-7);
            got.push_back(c);
        });
        std::vector<Event> want;
        rr.scan_events(rrun, [&](const Event& e) {
            Event c = e;
            for (const char* n : names)
                if (rr.string(e.name) == n) c.name = StringId(-7);
            want.push_back(c);
        });
        QCOMPARE(got.size(), want.size());
        auto key = [&](TraceReader& reader, const Event& e) {
            (void)reader;
            return std::tuple(e.rank, e.lane, e.start_ns, e.end_ns, e.correlation, e.seq);
        };
        std::sort(got.begin(), got.end(), [&](const Event& a, const Event& b) { return key(rd, a) < key(rd, b); });
        std::sort(want.begin(), want.end(), [&](const Event& a, const Event& b) { return key(rr, a) < key(rr, b); });
        for (std::size_t i = 0; i < got.size(); ++i) QVERIFY2(got[i] == want[i], qPrintable(QString::number(i)));
        // Names: every merged event names what its input named.
        std::map<std::tuple<int, int, std::int64_t, std::int64_t>, std::string> name_of;
        rr.scan_events(rrun, [&](const Event& e) { name_of[{e.rank, e.lane, e.start_ns, e.end_ns}] = rr.string(e.name); });
        bool names_equal = true;
        rd.scan_events(res.run, [&](const Event& e) {
            names_equal = names_equal && rd.string(e.name) == name_of[{e.rank, e.lane, e.start_ns, e.end_ns}];
        });
        QVERIFY(names_equal);
        // Lanes and aggregates as the writer computes them.
        auto lanes_of = [](TraceReader& reader, RunId run) {
            auto v = reader.lanes(run);
            for (auto& l : v) l.run = RunId(0);
            return v;
        };
        QCOMPARE(lanes_of(rd, res.run), lanes_of(rr, rrun));
        auto aggs_of = [](TraceReader& reader, RunId run) {
            auto v = reader.aggregates(run);
            for (auto& a : v) a.run = RunId(0);
            std::sort(v.begin(), v.end(), [](const Aggregate& a, const Aggregate& b) {
                return std::tuple(int(a.kind), a.name, int(a.collective)) < std::tuple(int(b.kind), b.name, int(b.collective));
            });
            return v;
        };
        const auto ga = aggs_of(rd, res.run), wa = aggs_of(rr, rrun);
        QCOMPARE(ga.size(), wa.size());
        QVERIFY(!ga.empty());
        for (std::size_t i = 0; i < ga.size(); ++i) QVERIFY(ga[i] == wa[i]);
        QCOMPARE(rd.run(res.run).event_count, std::int64_t(expected.size()));
    }

    // Staged events (traces/span_chunks.h) come back exactly as given, every field and extreme
    // value included; a rank file holding chunks opens (it is a valid trace) and merges with them
    // expanded (a rank killed before its finish); a damaged chunk is refused, naming the file.
    void stagedEventsRoundTripAndMerge() {
        const std::string f = out("staged-rank.sqlite");
        std::vector<Event> given;
        RunId run;
        {
            TraceWriter w(f, WriterOptions{.durable = false});
            RunInfo ri;
            ri.name = "staged";
            ri.world_size = 1;
            run = w.begin_run(ri);
            RankInfo k;
            k.run = run;
            k.clock_rtt_ns = 1;
            w.put_rank(k);
            const StringId a = w.intern("a"), b = w.intern("b");
            Event e;
            e.run = run;
            e.lane = lanes::kCompute;
            e.name = a;
            e.start_ns = 1'000;
            e.end_ns = 1'500;
            e.step = 3;
            e.flops = 1.25e9;
            given.push_back(e);
            e = Event{};  // every optional field, negative and huge values, a later start first
            e.run = run;
            e.lane = -7;
            e.kind = EventKind::Comm;
            e.name = b;
            e.start_ns = 900;
            e.end_ns = INT64_MAX / 2;
            e.step = 0, e.micro_batch = 2, e.layer = 5, e.bytes = std::int64_t{1} << 40,
            e.flops = 0;
            e.collective = Collective::AllReduce, e.group_kind = GroupKind::DP;
            e.group_id = 0, e.group_size = 4, e.peer = -2, e.seq = 1234567, e.correlation = 99;
            given.push_back(e);
            e = Event{};
            e.run = run;
            e.kind = EventKind::Sync;
            e.name = a;
            e.start_ns = e.end_ns = -50;  // before the clock's zero
            given.push_back(e);
            for (const Event& x : given) QVERIFY(w.stage_event(x));
            Event bad = given[0];
            bad.end_ns = bad.start_ns - 1;
            QVERIFY(!w.stage_event(bad));  // malformed: counted, not staged
            w.set_run_times(run, -50, 2'000);
            w.flush();
        }
        {
            TraceReader rd(f);  // valid with its staging table
            QCOMPARE(rd.runs().at(0).event_count, std::int64_t(3));
            std::int64_t rows = 0;
            rd.scan_events(run, [&](const Event&) { ++rows; });
            QCOMPARE(rows, std::int64_t(0));  // still staged
        }
        const std::string merged = out("staged-merged.sqlite");
        MergeResult res = merge_rank_files({f}, merged);
        QCOMPARE(res.events, std::int64_t(3));
        QCOMPARE(expand_staged_spans(f), std::int64_t(0));  // expanded once, by the merge
        {
            TraceReader rd(f);
            std::vector<Event> got;
            rd.scan_events(run, [&](const Event& e) { got.push_back(e); });
            std::sort(got.begin(), got.end(),
                      [](const Event& x, const Event& y) { return x.start_ns < y.start_ns; });
            std::vector<Event> want = given;
            std::sort(want.begin(), want.end(),
                      [](const Event& x, const Event& y) { return x.start_ns < y.start_ns; });
            QCOMPARE(got.size(), want.size());
            for (std::size_t i = 0; i < got.size(); ++i)
                QVERIFY2(got[i] == want[i], std::to_string(i).c_str());
        }
        // A damaged chunk.
        const std::string g = out("staged-damaged.sqlite");
        {
            TraceWriter w(g, WriterOptions{.durable = false});
            RunInfo ri;
            ri.world_size = 1;
            const RunId r = w.begin_run(ri);
            Event e = given[1];
            e.run = r;
            e.name = w.intern("b");
            QVERIFY(w.stage_event(e));
            w.flush();
        }
        {
            Db db(g, Db::Mode::ReadWrite);
            db.exec("UPDATE span_chunks SET data = substr(data, 1, length(data) - 3)");
        }
        try {
            expand_staged_spans(g);
            QFAIL("a truncated chunk should be refused");
        } catch (const TraceError& e) {
            QVERIFY2(std::string(e.what()).find("staged-damaged.sqlite") != std::string::npos &&
                         std::string(e.what()).find("damaged") != std::string::npos,
                     e.what());
        }
    }

    void rejectsBadInputs() {
        RankFile a;
        a.world = 2;
        const std::string r0 = fixture::write_rank_file(dir_, "bad", a);
        RankFile other = a;
        other.rank = 1;
        other.world = 4;
        const std::string foreign = fixture::write_rank_file(dir_, "other-run", other);
        auto expect_error = [](const std::vector<std::string>& files, const std::string& o,
                               const char* needle) {
            try {
                merge_rank_files(files, o);
                QFAIL("merge should have failed");
            } catch (const TraceError& e) {
                QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
            }
        };
        expect_error({r0, r0}, out("dup.sqlite"), "rank 0 appears twice");
        expect_error({r0, foreign}, out("mix.sqlite"), "belongs to another run");
        expect_error({r0, dir_.filePath(QStringLiteral("nope.sqlite")).toStdString()},
                     out("nofile.sqlite"), "no such file");
        expect_error({}, out("none.sqlite"), "no rank files");
        // A failed merge never created the output file.
        QVERIFY(!QFile::exists(QString::fromStdString(out("dup.sqlite"))));
    }
};

QTEST_GUILESS_MAIN(TestTraceMerge)
#include "tst_traces_merge.moc"

// The profiler's background writer: every record reaches the file, drops are counted exactly when
// the writer falls behind (held on a latch by a test hook, no timing), writer errors surface on the
// training thread naming the failed call, and destruction without finish() never hangs.
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <future>
#include <map>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "profiler/profiler.h"
#include "traces/merge.h"
#include "traces/reader.h"
#include "traces/sqlite_util.h"
#include "traces/stats_keys.h"

using namespace ss;
using namespace ss::profiler;

namespace {
traces::RunInfo run_info() {
    traces::RunInfo r;
    r.name = "writer";
    r.spec_json = "{}";
    r.model = "test";
    r.backend = "cpu";
    return r;
}
traces::RankInfo rank_info(int rank) {
    traces::RankInfo k;
    k.rank = rank;
    k.host = "localhost";
    k.pid = 1;
    k.device = "cpu";
    return k;
}
SpanRecord rec(const char* name, EventKind kind, std::int64_t start, std::int64_t step) {
    SpanRecord r;
    r.name = name;
    r.kind = kind;
    r.lane = kind == EventKind::Comm   ? lanes::kComm
             : kind == EventKind::Step ? lanes::kSteps
                                       : lanes::kCompute;
    r.start_ns = start;
    r.end_ns = start + 7;
    r.step = step;
    return r;
}
std::map<std::string, std::int64_t> stats_of(traces::TraceReader& rd) {
    std::map<std::string, std::int64_t> out;
    for (const auto& s : rd.stats(rd.runs().at(0).id)) out[s.key] += s.value;
    return out;
}
// A gate the writer hook waits on: closed until open() (a latch, not a timer).
struct Gate {
    std::promise<void> promise;
    std::shared_future<void> future = promise.get_future().share();
    void open() { promise.set_value(); }
};
}  // namespace

class TestProfilerWriter : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string file(const char* n) { return dir_.filePath(QString::fromUtf8(n)).toStdString(); }

private slots:
    // Many steps with a flush asked at every step boundary, spans from the training thread and a
    // second thread, the rings wrapping several times while the writer drains them: the file holds
    // exactly the records made, field for field. (The budget is never exceeded whatever the
    // scheduling: at most 450 records between two waits for the writer, 1,024 per ring.)
    void everyRecordReachesTheFileAcrossManySteps() {
        const std::string f = file("steps.sqlite");
        const int steps = 300;
        std::vector<SpanRecord> made;
        {
            Profiler p(
                ProfilerConfig{.rank_file = f, .flush_interval_s = 0, .buffer_records = 1024},
                run_info(), rank_info(2));
            std::int64_t t = 1000;
            const char* names[] = {"gemm", "gelu", "softmax"};
            std::thread other([&p] {
                for (int i = 0; i < 1000; ++i)
                    p.record(rec("loader", EventKind::HostRange, 1 + i, traces::kNone));
            });
            for (int s = 0; s < steps; ++s) {
                for (int i = 0; i < 1 + s % 7; ++i) {
                    made.push_back(rec(names[(s + i) % 3], EventKind::Kernel, t += 10, s));
                    made.back().flops = s * 100.0 + i;
                    p.record(made.back());
                }
                made.push_back(rec("all_reduce", EventKind::Comm, t += 10, s));
                made.back().bytes = 4096 + s;
                made.back().collective = Collective::AllReduce;
                p.record(made.back());
                made.push_back(rec("step", EventKind::Step, t += 10, s));
                p.record(made.back());
                p.step_boundary();
                if (s % 50 == 49) p.wait_for_writer();
            }
            other.join();
            p.finish(traces::RunStatus::Completed, "");
            QCOMPARE(p.spans_dropped(), std::int64_t(0));
            QCOMPARE(p.spans_written(), static_cast<std::int64_t>(made.size()) + 1000);
        }
        traces::TraceReader rd(f);
        const auto run = rd.runs().at(0);
        QCOMPARE(run.status, traces::RunStatus::Completed);
        QCOMPARE(run.event_count, static_cast<std::int64_t>(made.size()) + 1000);
        std::vector<traces::Event> main_thread;
        std::int64_t loader = 0;
        rd.scan_events(run.id, [&](const traces::Event& e) {
            if (rd.string(e.name) == "loader")
                ++loader;
            else
                main_thread.push_back(e);
        });
        QCOMPARE(loader, std::int64_t(1000));
        QCOMPARE(main_thread.size(), made.size());
        std::sort(
            main_thread.begin(), main_thread.end(),
            [](const traces::Event& a, const traces::Event& b) { return a.start_ns < b.start_ns; });
        for (std::size_t i = 0; i < made.size(); ++i) {
            const traces::Event& e = main_thread[i];
            QCOMPARE(rd.string(e.name), std::string(made[i].name));
            QCOMPARE(e.start_ns, made[i].start_ns);
            QCOMPARE(e.end_ns, made[i].end_ns);
            QCOMPARE(e.step, made[i].step);
            QCOMPARE(e.kind, made[i].kind);
            QCOMPARE(e.rank, 2);
            QCOMPARE(e.flops, made[i].flops);
            QCOMPARE(e.bytes, made[i].bytes);
            QCOMPARE(e.collective, made[i].collective);
        }
        QVERIFY(stats_of(rd).empty());
    }

    // The writer is held on a latch while the training thread fills the budget: step_boundary()
    // never waits, every record beyond the budget is dropped and counted under its kind, and once
    // released the writer catches up with what came after.
    void dropsAreCountedPerKindWhenTheWriterIsBehind() {
        const std::string f = file("drops.sqlite");
        Gate gate;
        {
            ProfilerConfig cfg{.rank_file = f, .flush_interval_s = 0, .buffer_records = 16};
            cfg.writer_hook = [fut = gate.future] { fut.wait(); };
            Profiler p(cfg, run_info(), rank_info(0));
            std::int64_t t = 100;
            for (int i = 0; i < 10; ++i) p.record(rec("k", EventKind::Kernel, t += 10, 0));
            p.step_boundary();  // wakes the writer, which is held: returns at once
            for (int i = 0; i < 6; ++i)
                p.record(rec("k", EventKind::Kernel, t += 10, 0));  // 16: full
            for (int i = 0; i < 7; ++i) p.record(rec("k", EventKind::Kernel, t += 10, 0));
            for (int i = 0; i < 5; ++i) p.record(rec("c", EventKind::Comm, t += 10, 0));
            p.step_boundary();
            for (int i = 0; i < 3; ++i) p.record(rec("step", EventKind::Step, t += 10, 0));
            p.step_boundary();
            QCOMPARE(p.spans_written(), std::int64_t(0));
            gate.open();
            p.wait_for_writer();
            QCOMPARE(p.spans_written(), std::int64_t(16));
            QCOMPARE(p.spans_dropped(), std::int64_t(15));
            for (int i = 0; i < 12; ++i)
                p.record(rec("k", EventKind::Kernel, t += 10, 1));  // room again
            p.finish(traces::RunStatus::Completed, "");
            QCOMPARE(p.spans_written(), std::int64_t(28));
            QCOMPARE(p.spans_dropped(), std::int64_t(15));
        }
        traces::TraceReader rd(f);
        QCOMPARE(rd.runs().at(0).event_count, std::int64_t(28));
        const std::string key(traces::stats::kRecordsDropped.key);
        const auto st = stats_of(rd);
        QCOMPARE(st.size(), std::size_t(3));
        QCOMPARE(st.at(key + ".kernel"), std::int64_t(7));
        QCOMPARE(st.at(key + ".comm"), std::int64_t(5));
        QCOMPARE(st.at(key + ".step"), std::int64_t(3));
    }

    // A real SQLite failure inside the writer's pass (its staging table, where a pass stores the
    // spans, dropped under it by another connection) is thrown by the next step_boundary() of the
    // training thread, naming the call and where it failed; finish() throws it too and leaves the
    // run "running".
    void writerErrorsSurfaceOnTheTrainingThread() {
        const std::string f = file("error.sqlite");
        std::atomic<bool> sabotage{false};
        {
            ProfilerConfig cfg{.rank_file = f, .flush_interval_s = 0};
            cfg.writer_hook = [&sabotage, f] {
                if (!sabotage.exchange(false)) return;
                traces::Db db(f, traces::Db::Mode::ReadWrite);
                db.exec("DROP TABLE span_chunks");
            };
            Profiler p(cfg, run_info(), rank_info(0));
            p.record(rec("k", EventKind::Kernel, 10, 0));
            p.flush();  // a good pass
            QCOMPARE(p.spans_written(), std::int64_t(1));
            sabotage = true;
            p.record(rec("k", EventKind::Kernel, 20, 1));
            p.step_boundary();  // asks for the failing pass; does not wait for it
            p.wait_for_writer();
            std::string what;
            try {
                p.step_boundary();
            } catch (const traces::TraceError& e) {
                what = e.what();
            }
            QVERIFY2(what.find("failed") != std::string::npos &&
                         what.find("span_chunks") != std::string::npos &&
                         what.find("writer.cpp:") != std::string::npos,
                     what.c_str());
            qInfo("surfaced: %s", what.c_str());
            p.step_boundary();  // reported once; later steps go on (records are dropped, bounded)
            p.record(rec("k", EventKind::Kernel, 30, 2));
            QVERIFY_THROWS_EXCEPTION(traces::TraceError,
                                     p.finish(traces::RunStatus::Completed, ""));
        }  // and the destructor does not throw or hang
    }

    // A rank process killed after a flush (no destructor, no finish): its rank file is left in
    // WAL mode with the flushed spans staged in the WAL; merge folds the WAL in, expands the
    // spans and gets every flushed one, and the rank file is one file again.
    void killedRankKeepsItsFlushedSpans() {
        const std::string f = file("killed.sqlite");
        const pid_t pid = fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            auto* p = new Profiler(ProfilerConfig{.rank_file = f, .flush_interval_s = 1e9},
                                   run_info(), rank_info(0));
            for (int i = 0; i < 20; ++i) p->record(rec("k", EventKind::Kernel, 10 + i * 10, 0));
            p->flush();
            for (int i = 0; i < 5; ++i)
                p->record(rec("k", EventKind::Kernel, 500 + i * 10, 1));  // never flushed
            _exit(0);
        }
        int status = 0;
        QCOMPARE(waitpid(pid, &status, 0), pid);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        QVERIFY(QFile::exists(QString::fromStdString(f + "-wal")));
        const std::string out = file("killed-merged.sqlite");
        const traces::MergeResult m = traces::merge_rank_files({f}, out);
        QCOMPARE(m.events, std::int64_t(20));
        QCOMPARE(m.status, traces::RunStatus::Failed);
        QVERIFY(m.warnings.empty());  // not a write interrupted: nothing rolled back
        QVERIFY(!QFile::exists(QString::fromStdString(f + "-wal")));
        traces::TraceReader rd(out);
        std::int64_t n = 0;
        rd.scan_events(m.run,
                       [&](const traces::Event& e) { n += e.start_ns >= 10 && e.start_ns <= 200; });
        QCOMPARE(n, std::int64_t(20));
    }

    // Destroyed without finish(): while the writer is held mid-pass (released by another thread),
    // and after a flush: no hang, and what was recorded is in the file, the run still "running".
    void destructionWithoutFinishWritesAndJoins() {
        const std::string f = file("nofinish.sqlite");
        Gate gate;
        {
            ProfilerConfig cfg{.rank_file = f, .flush_interval_s = 0};
            cfg.writer_hook = [fut = gate.future] { fut.wait(); };
            auto p = std::make_unique<Profiler>(cfg, run_info(), rank_info(1));
            for (int i = 0; i < 50; ++i) p->record(rec("k", EventKind::Kernel, 10 + i * 10, 0));
            p->step_boundary();  // a pass held on the gate
            for (int i = 0; i < 50; ++i) p->record(rec("k", EventKind::Kernel, 1000 + i * 10, 1));
            std::thread release([&gate] { gate.open(); });
            p.reset();  // joins the writer whenever the gate opens
            release.join();
        }
        traces::TraceReader rd(f);
        QCOMPARE(rd.runs().at(0).status, traces::RunStatus::Running);
        QCOMPARE(rd.runs().at(0).event_count, std::int64_t(100));
        // The spans of a rank that never finished stay staged (traces/span_chunks.h) until merge
        // expands them into events rows: all 100, with their times.
        QCOMPARE(traces::expand_staged_spans(f), std::int64_t(100));
        {
            traces::TraceReader re(f);
            std::vector<std::int64_t> starts;
            re.scan_events(re.runs().at(0).id,
                           [&](const traces::Event& e) { starts.push_back(e.start_ns); });
            std::sort(starts.begin(), starts.end());
            QCOMPARE(starts.size(), size_t(100));
            QCOMPARE(starts.front(), std::int64_t(10));
            QCOMPARE(starts.back(), std::int64_t(1490));
        }
        {
            Profiler p(ProfilerConfig{.rank_file = file("idle.sqlite")}, run_info(), rank_info(0));
        }  // never woken: joins at once
        {
            Profiler p(ProfilerConfig{.rank_file = file("metrics.sqlite")}, run_info(),
                       rank_info(0));
            p.metric(3, "loss", 2.5);
            p.count("records_test", 4);
        }  // queued metric and counter written by the last pass
        traces::TraceReader rm(file("metrics.sqlite"));
        QCOMPARE(rm.metrics(rm.runs().at(0).id).at(0).value, 2.5);
        QCOMPARE(stats_of(rm).at("records_test"), std::int64_t(4));
    }
};

QTEST_GUILESS_MAIN(TestProfilerWriter)
#include "tst_profiler_writer.moc"

// import_traces' machinery (traces/import/import.cpp) with a reader of this test's own: format
// detection, the scratch file, rank assembly, the source in the run record, the atomic append to
// OUT (a new file, an existing one with its own strings and runs), and that nothing is left in OUT
// on a reader error, a duplicate rank, a cancel, or a crash (forked child) while reading or while
// copying. The real Kineto and Nsight readers are tested by their own suites and tst_cli_import.
//
// The test's reader reads files that start with '{' (so they detect as Kineto), one item a line:
//   rank R                    the file's rank (else the reader reports none: the file's index)
//   ev NAME START END LANE    a kernel on LANE
//   many N                    N kernels "k<i % 7>" on lane 16
//   skip TEXT                 a line for ctx.skipped
//   fail | crash              throw ImportError | _exit(7) here (after what came before was
//   written)
//   restart                   when streaming: throw RestartWithoutStreaming (as a reader that
//                             finds its assumption wrong at the end of the file)
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "trace_fixture.h"
#include "traces/export_chrome.h"
#include "traces/import/import.h"
#include "traces/import/import_impl.h"
#include "traces/lanes.h"
#include "traces/merge.h"
#include "traces/reader.h"

using namespace ss::traces;
using namespace ss::traces::import;

namespace {

void fake_reader(ReaderContext& ctx) {
    std::ifstream in(ctx.file);
    std::string line;
    std::int64_t read = 0;
    std::int32_t rank = ctx.rank_hint;
    bool rank_said = false;
    bool lanes_named = false;
    auto name_lanes = [&] {
        if (lanes_named) return;
        lanes_named = true;
        ctx.writer->define_lane(ctx.run, rank, lanes::kCudaStreamBase, "stream 0");
        ctx.writer->define_lane(ctx.run, rank, 32, "thread 1");
    };
    auto add = [&](const std::string& name, std::int64_t s, std::int64_t e, int lane) {
        name_lanes();
        Event ev;
        ev.run = ctx.run;
        ev.rank = rank;
        ev.lane = lane;
        ev.kind =
            lane >= lanes::kCudaStreamBase && lane < 32 ? EventKind::Kernel : EventKind::HostRange;
        ev.name = ctx.writer->intern(name);
        ev.start_ns = s;
        ev.end_ns = e;
        ev.correlation = 7;
        if (ctx.writer->add_event(ev)) ++ctx.events;
    };
    while (std::getline(in, line)) {
        read += static_cast<std::int64_t>(line.size()) + 1;
        if (!ctx.progress(read)) throw ImportError("'" + ctx.file + "': cancelled");
        std::istringstream l(line);
        std::string what;
        l >> what;
        if (what == "rank") {
            l >> rank;
            rank_said = true;
        } else if (what == "ev") {
            std::string name;
            long long s = 0, e = 0;
            int lane = 0;
            l >> name >> s >> e >> lane;
            add(name, s, e, lane);
        } else if (what == "many") {
            long long n = 0;
            l >> n;
            for (long long i = 0; i < n; ++i)
                add("k" + std::to_string(i % 7), 100 + i * 10, 105 + i * 10, 16);
        } else if (what == "skip") {
            std::string rest;
            std::getline(l, rest);
            ctx.skipped.push_back(rest.substr(1));
        } else if (what == "fail") {
            throw ImportError("'" + ctx.file + "': line 'fail' reached");
        } else if (what == "restart") {
            if (ctx.streaming)
                throw RestartWithoutStreaming("'" + ctx.file + "': the end says otherwise");
        } else if (what == "crash") {
            ctx.writer->flush();
            ::_exit(7);
        }
    }
    RankInfo k;
    k.run = ctx.run;
    k.rank = rank;
    k.device = "cuda:0 (fake)";
    ctx.writer->put_rank(k);
    if (rank_said)
        ctx.ranks.push_back(rank);
    else
        ctx.ranks.clear();  // says nothing: import_traces uses the hint
    ctx.tool = "Fake profiler";
    ctx.version = "9.1";
}

const Readers kFake{fake_reader, {}};

QByteArray sha(const std::string& file) {
    QFile f(QString::fromStdString(file));
    if (!f.open(QIODevice::ReadOnly)) return "<absent>";
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

void raw(const std::string& file, const std::string& sql) {
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, msg.c_str());
}

}  // namespace

class TestTraceImport : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path(const std::string& name) {
        return dir_.filePath(QString::fromStdString(name)).toStdString();
    }
    std::string write(const std::string& name, const std::string& text) {
        const std::string p = path(name);
        std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
        return p;
    }
    // Files whose name says they are a scratch file of an import.
    int scratch_files() {
        int n = 0;
        for (const QString& f : QDir(dir_.path()).entryList(QDir::Files | QDir::Hidden))
            if (f.contains(QStringLiteral(".import-"))) ++n;
        for (const QString& f : QDir(QDir::tempPath()).entryList(QDir::Files | QDir::Hidden))
            if (f.contains(QStringLiteral(".import-")) && f.contains(QString::number(::getpid())))
                ++n;
        return n;
    }
    // An existing trace with one run of its own, whose strings take the low ids.
    std::string existing(const std::string& name) {
        fixture::RankFile f;
        f.end_ns = 1000;
        f.events = "kernel own_a 10 20\nkernel own_b 20 30\n";
        QFile::remove(dir_.filePath(QString::fromStdString(name + "-own-rank0.sqlite")));
        const std::string rank_file = fixture::write_rank_file(dir_, name + "-own", f);
        const std::string out = path(name);
        QFile::remove(QString::fromStdString(out));
        merge_rank_files({rank_file}, out);
        return out;
    }
    template <typename F>
    std::string error_of(F&& f) {
        try {
            f();
        } catch (const ImportError& e) {
            return e.what();
        }
        return "<no error>";
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void formats() {
        QCOMPARE(parse_format("kineto"), Format::Kineto);
        QCOMPARE(parse_format("nsys"), Format::Nsys);
        QCOMPARE(parse_format("auto"), Format::Auto);
        QCOMPARE(std::string(to_string(Format::Nsys)), std::string("nsys"));
        QVERIFY(error_of([] { parse_format("perfetto"); }).find("'perfetto'") != std::string::npos);

        QCOMPARE(detect_format(write("a.json", "  \n{\"traceEvents\":[]}")), Format::Kineto);
        QCOMPARE(detect_format(write("bom.json", "\xEF\xBB\xBF{}")), Format::Kineto);
        QCOMPARE(detect_format(write("a.json.gz", std::string("\x1f\x8b\x08\x00", 4))),
                 Format::Kineto);
        const std::string nsys = path("report.sqlite");
        raw(nsys,
            "CREATE TABLE StringIds(id INTEGER PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL(start INT, end INT);");
        QCOMPARE(detect_format(nsys), Format::Nsys);
        const std::string target_only = path("target.sqlite");
        raw(target_only,
            "CREATE TABLE StringIds(id INTEGER PRIMARY KEY, value TEXT);"
            "CREATE TABLE TARGET_INFO_GPU(id INT);");
        QCOMPARE(detect_format(target_only), Format::Nsys);

        auto refused = [&](const std::string& file, const char* words) {
            const std::string msg = error_of([&] { detect_format(file); });
            QVERIFY2(msg.find(file) != std::string::npos && msg.find(words) != std::string::npos,
                     msg.c_str());
        };
        const std::string other = path("other.sqlite");
        raw(other, "CREATE TABLE StringIds(id INT); CREATE TABLE photos(id INT);");
        refused(other, "SQLite database of another program");
        refused(existing("ours.sqlite"), "is a ScaleScope trace already");
        refused(write("notes.txt", "hello\n"), "neither a PyTorch profiler (Kineto) JSON trace");
        refused(write("empty.json", ""), "is empty");
        refused(path("missing.json"), "no such file");
        refused(write("damaged.sqlite", std::string("SQLite format 3\0garbage garbage", 32)),
                "SQLite");
    }

    void importsIntoANewFile() {
        const std::string in =
            write("rank0.pt.trace.json",
                  "{\nev gemm 100 400 16\nev forward 50 500 32\nskip 3 unknown events\n");
        const std::string out = path("new.sqlite");
        std::vector<std::pair<std::int64_t, std::int64_t>> calls;
        ImportOptions opt;
        opt.progress = [&](std::int64_t done, std::int64_t total) {
            calls.emplace_back(done, total);
            return true;
        };
        ImportResult res = import_traces_with({in}, out, opt, kFake);
        QCOMPARE(res.events, std::int64_t(2));
        QCOMPARE(res.ranks, 1);
        QCOMPARE(res.skipped, std::vector<std::string>{"3 unknown events"});
        QVERIFY(!calls.empty());
        QCOMPARE(calls.back().second,
                 static_cast<std::int64_t>(QFileInfo(QString::fromStdString(in)).size()));
        QCOMPARE(calls.back().first, calls.back().second);
        for (size_t i = 1; i < calls.size(); ++i) QVERIFY(calls[i].first >= calls[i - 1].first);
        QCOMPARE(scratch_files(), 0);

        TraceReader rd(out);
        QCOMPARE(rd.schema_version(), kSchemaVersion);
        RunInfo run = rd.run(res.run);
        QCOMPARE(run.name, std::string("rank0"));
        QCOMPARE(run.status, RunStatus::Completed);
        QCOMPARE(run.source_tool, std::string("Fake profiler"));
        QCOMPARE(run.source_version, std::string("9.1"));
        QCOMPARE(run.source_file,
                 QFileInfo(QString::fromStdString(in)).absoluteFilePath().toStdString());
        QCOMPARE(run.world_size, 1);
        QCOMPARE(run.backend, std::string("cuda"));  // it has a stream lane
        QCOMPARE(run.start_ns, std::int64_t(50));
        QCOMPARE(run.end_ns, std::int64_t(500));
        QCOMPARE(run.event_count, std::int64_t(2));
        auto ranks = rd.ranks(res.run);
        QCOMPARE(ranks.size(), size_t(1));
        QCOMPARE(ranks[0].device, std::string("cuda:0 (fake)"));
        auto lanes = rd.lanes(res.run);
        QCOMPARE(lanes.size(), size_t(2));
        QCOMPARE(lanes[0].name, std::string("stream 0"));
        QCOMPARE(lanes[1].name, std::string("thread 1"));
        auto ev = rd.events_in_window(res.run, 0, lanes::kCudaStreamBase, 0, 1000);
        QCOMPARE(ev.size(), size_t(1));
        QCOMPARE(rd.string(ev[0].name), std::string("gemm"));
        QVERIFY(!rd.aggregates(res.run).empty());  // finish_run ran
    }

    // A reader asking for the import again without streaming (its second file, after writing its
    // events): every file is read again into a fresh scratch file, and OUT gets each event once.
    void restartReadsEveryFileAgain() {
        const std::string a = write("ra.json", "{\nrank 0\nmany 50\nskip one line\n");
        const std::string b = write("rb.json", "{\nrank 1\nev gemm 100 400 16\nrestart\n");
        const std::string out = path("restart.sqlite");
        ImportResult res = import_traces_with({a, b}, out, {}, kFake);
        QCOMPARE(res.events, std::int64_t(51));
        QCOMPARE(res.ranks, 2);
        QCOMPARE(res.skipped, std::vector<std::string>{"ra.json: one line"});
        QCOMPARE(scratch_files(), 0);
        TraceReader rd(out);
        QCOMPARE(rd.runs().size(), size_t(1));
        QCOMPARE(rd.run(res.run).event_count, std::int64_t(51));
        std::int64_t seen = 0;
        rd.scan_events(res.run, [&](const Event&) { ++seen; });
        QCOMPARE(seen, std::int64_t(51));
    }

    void ranksFromTheReaderElseTheOrder() {
        // The reader says rank 1 for the first file; the others say nothing: the lowest free rank.
        const std::string a = write("r1.json", "{\nrank 1\nev a 0 10 16\n");
        const std::string b = write("rx.json", "{\nev b 5 20 16\n");
        const std::string c = write("rz.json", "{\nev c 5 20 16\n");
        const std::string out = path("ranks.sqlite");
        ImportOptions opt;
        opt.name = "two files";
        ImportResult res = import_traces_with({a, b, c}, out, opt, kFake);
        QCOMPARE(res.ranks, 3);
        TraceReader rd(out);
        RunInfo run = rd.run(res.run);
        QCOMPARE(run.name, std::string("two files"));
        QCOMPARE(run.world_size, 3);
        QCOMPARE(run.dp, 3);
        QVERIFY(run.source_file.find("r1.json\n") != std::string::npos);
        std::map<int, std::string> names;
        rd.scan_events(res.run, [&](const Event& e) { names[e.rank] = rd.string(e.name); });
        QCOMPARE(names, (std::map<int, std::string>{{0, "b"}, {1, "a"}, {2, "c"}}));
    }

    void rankGapCountsAndSays() {
        const std::string a = write("g0.json", "{\nrank 0\nev a 0 10 16\n");
        const std::string b = write("g2.json", "{\nrank 2\nev b 0 10 16\n");
        const std::string out = path("gap.sqlite");
        ImportResult res = import_traces_with({a, b}, out, {}, kFake);
        QCOMPARE(TraceReader(out).run(res.run).world_size, 3);
        QCOMPARE(res.skipped, std::vector<std::string>{"no file for rank 1"});
    }

    void appendsToAnExistingFileWithItsOwnStrings() {
        const std::string out = existing("append.sqlite");
        const std::string in = write("app.json", "{\nev gemm 100 400 16\nev own_b 1 2 32\n");
        ImportResult first = import_traces_with({in}, out, {}, kFake);
        ImportResult second = import_traces_with({in}, out, {}, kFake);
        QCOMPARE(first.run.value, std::int64_t(2));
        QCOMPARE(second.run.value, std::int64_t(3));
        QCOMPARE(scratch_files(), 0);
        TraceReader rd(out);
        auto runs = rd.runs();
        QCOMPARE(runs.size(), size_t(3));
        QVERIFY(!runs[0].imported());
        QCOMPARE(runs[0].event_count, std::int64_t(2));
        for (RunId id : {first.run, second.run}) {
            std::vector<std::string> names;
            rd.scan_events(id, [&](const Event& e) { names.push_back(rd.string(e.name)); });
            QCOMPARE(names, (std::vector<std::string>{"gemm", "own_b"}));
            QCOMPARE(rd.run(id).source_tool, std::string("Fake profiler"));
            QCOMPARE(rd.lanes(id).size(), size_t(2));
            QCOMPARE(rd.ranks(id).size(), size_t(1));
            auto agg = rd.aggregates(id);
            QCOMPARE(agg.size(), size_t(2));
            for (const auto& a : agg) QVERIFY(a.name == "gemm" || a.name == "own_b");
        }
        // The own run's events kept their names.
        std::vector<std::string> own;
        rd.scan_events(runs[0].id, [&](const Event& e) { own.push_back(rd.string(e.name)); });
        QCOMPARE(own, (std::vector<std::string>{"own_a", "own_b"}));
        // The windowed query (the events index) sees the appended run.
        QCOMPARE(rd.events_in_window(second.run, 0, lanes::kCudaStreamBase, 0, 1000).size(),
                 size_t(1));
    }

    void chromeExportOfAnImportedRun() {
        const std::string out = path("export.sqlite");
        const std::string in =
            write("exp.json", "{\nev gemm 100 400 16\nev launch 90 95 15\nev step 50 500 32\n");
        ImportResult res = import_traces_with({in}, out, {}, kFake);
        TraceReader rd(out);
        std::ostringstream json;
        ChromeExportOptions opt;
        opt.run = res.run;
        auto ex = export_chrome(rd, json, opt);
        QCOMPARE(ex.events, std::int64_t(3));
        auto doc = nlohmann::json::parse(json.str());
        int gemm = 0;
        for (const auto& e : doc["traceEvents"])
            if (e.value("ph", "") == "X" && e.value("name", "") == "gemm") ++gemm;
        QCOMPARE(gemm, 1);
    }

    void nothingLeftInOutOnFailure_data() {
        QTest::addColumn<QString>("second");
        QTest::addColumn<QString>("words");
        QTest::newRow("reader error")
            << QStringLiteral("{\nev x 0 10 16\nfail\n") << QStringLiteral("line 'fail' reached");
        QTest::newRow("same rank twice")
            << QStringLiteral("{\nrank 0\nev x 0 10 16\n") << QStringLiteral("rank 0 is in both");
    }
    void nothingLeftInOutOnFailure() {
        QFETCH(QString, second);
        QFETCH(QString, words);
        const std::string a = write("ok0.json", "{\nrank 0\nev a 0 10 16\n");
        const std::string b = write("bad1.json", second.toStdString());
        // An existing OUT keeps its bytes; a new OUT is not created.
        const std::string out = existing("kept.sqlite");
        const QByteArray before = sha(out);
        const std::string msg = error_of([&] { import_traces_with({a, b}, out, {}, kFake); });
        QVERIFY2(
            msg.find(words.toStdString()) != std::string::npos && msg.find(b) != std::string::npos,
            msg.c_str());
        QCOMPARE(sha(out), before);
        const std::string fresh = path("never.sqlite");
        error_of([&] { import_traces_with({a, b}, fresh, {}, kFake); });
        QVERIFY(!QFile::exists(QString::fromStdString(fresh)));
        QCOMPARE(scratch_files(), 0);
    }

    void badOutputAndMixedFormats() {
        const std::string in = write("in.json", "{\nev a 0 10 16\n");
        const std::string notes =
            write("notes.sqlite", "not a database at all, just some text......");
        const QByteArray before = sha(notes);
        std::string msg = error_of([&] { import_traces_with({in}, notes, {}, kFake); });
        QVERIFY2(msg.find("cannot append to") != std::string::npos &&
                     msg.find(notes) != std::string::npos,
                 msg.c_str());
        QCOMPARE(sha(notes), before);
        const std::string nsys = path("mix.sqlite");
        raw(nsys,
            "CREATE TABLE StringIds(id INT); CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL(id INT);");
        msg = error_of([&] { import_traces_with({in, nsys}, path("mix-out.sqlite"), {}, kFake); });
        QVERIFY2(msg.find("one format") != std::string::npos, msg.c_str());
        msg = error_of([&] { import_traces_with({nsys}, path("mix-out.sqlite"), {}, kFake); });
        QVERIFY2(msg.find("no Nsight Systems reader") != std::string::npos, msg.c_str());
        QCOMPARE(scratch_files(), 0);
    }

    void cancelLeavesNothing() {
        const std::string out = existing("cancel.sqlite");
        const QByteArray before = sha(out);
        const std::string in =
            write("long.json", "{\nev a 0 10 16\nev b 10 20 16\nev c 20 30 16\nev d 30 40 16\n");
        ImportOptions opt;
        int calls = 0;
        opt.progress = [&](std::int64_t, std::int64_t) { return ++calls < 3; };
        const std::string msg = error_of([&] { import_traces_with({in}, out, opt, kFake); });
        QVERIFY2(msg.find("cancelled") != std::string::npos, msg.c_str());
        QCOMPARE(calls, 3);  // no more questions once cancelled
        QCOMPARE(sha(out), before);
        QCOMPARE(scratch_files(), 0);
    }

    void crashWhileReadingLeavesOutAlone() {
        const std::string out = existing("crash-read.sqlite");
        const QByteArray before = sha(out);
        const std::string in = write("crash.json", "{\nev a 0 10 16\ncrash\n");
        const pid_t pid = ::fork();
        if (pid == 0) {
            try {
                import_traces_with({in}, out, {}, kFake);
            } catch (...) {
            }
            ::_exit(0);
        }
        int status = 0;
        QCOMPARE(::waitpid(pid, &status, 0), pid);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 7);
        QCOMPARE(sha(out), before);
        // At worst the scratch file stays (named after OUT and the process).
        for (const QString& f : QDir(dir_.path()).entryList(QDir::Files | QDir::Hidden))
            if (f.contains(QStringLiteral(".import-%1-").arg(pid))) QFile::remove(dir_.filePath(f));
    }

    void crashWhileCopyingRollsBack() {
        const std::string out = existing("crash-copy.sqlite");
        const std::string in = write("big.json", "{\nmany 30000\n");
        const pid_t pid = ::fork();
        if (pid == 0) {
            ImportOptions opt;
            int at_end = 0;
            // Asked at the end of reading (4 times), then from inside the copy transaction.
            opt.progress = [&](std::int64_t done, std::int64_t total) {
                if (done == total && ++at_end > 4) ::_exit(9);
                return true;
            };
            try {
                import_traces_with({in}, out, opt, kFake);
            } catch (...) {
            }
            ::_exit(0);
        }
        int status = 0;
        QCOMPARE(::waitpid(pid, &status, 0), pid);
        QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 9,
                 "the child did not die inside the copy");
        // The journal of the interrupted transaction is rolled back on the next write open.
        QVERIFY(recover_interrupted_write(out));
        TraceReader rd(out);
        QCOMPARE(rd.runs().size(), size_t(1));
        std::int64_t events = 0;
        rd.scan_events(rd.runs()[0].id, [&](const Event&) { ++events; });
        QCOMPARE(events, std::int64_t(2));
        QCOMPARE(rd.studies().size(), size_t(0));
        for (const QString& f : QDir(dir_.path()).entryList(QDir::Files | QDir::Hidden))
            if (f.contains(QStringLiteral(".import-%1-").arg(pid))) QFile::remove(dir_.filePath(f));
        // And an import after it works.
        ImportResult res = import_traces_with({in}, out, {}, kFake);
        QCOMPARE(res.events, std::int64_t(30000));
        QCOMPARE(TraceReader(out).runs().size(), size_t(2));
    }

    void olderOutIsMigrated() {
        const std::string out = existing("older.sqlite");
        // Make it a version-2 file (as before the source columns).
        raw(out,
            "ALTER TABLE runs DROP COLUMN source_tool; ALTER TABLE runs DROP COLUMN source_version;"
            "ALTER TABLE runs DROP COLUMN source_file; DROP TABLE lane_lod; DROP TABLE run_summaries;"
            "PRAGMA user_version=2;"
            "UPDATE meta SET value='2' WHERE key='schema_version';");
        QCOMPARE(TraceReader(out).schema_version(), 2);
        const std::string in = write("mig.json", "{\nev a 0 10 16\n");
        ImportResult res = import_traces_with({in}, out, {}, kFake);
        TraceReader rd(out);
        QCOMPARE(rd.schema_version(), kSchemaVersion);
        QCOMPARE(rd.run(res.run).source_tool, std::string("Fake profiler"));
        QVERIFY(!rd.runs()[0].imported());
    }
};

QTEST_GUILESS_MAIN(TestTraceImport)
#include "tst_traces_import.moc"

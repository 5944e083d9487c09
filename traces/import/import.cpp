// import_traces: the format of each file, one scratch trace file per import where the readers
// write the run, the rank assembly, and the atomic append of the finished run into OUT.
//
// Atomicity: the readers never touch OUT. They write into a scratch file (next to OUT, else in
// the temporary folder) that is removed on every exit path. Once the run is complete there
// (finish_run: lanes, aggregates, events index), it reaches OUT in one step:
//   - OUT does not exist: the scratch file is synced and hard-linked as OUT (link() fails rather
//     than replace a file that appeared meanwhile; then the append below is used);
//   - OUT exists: ATTACH the scratch file and copy the run's rows (strings re-interned, a run id
//     above every id in OUT) in one IMMEDIATE transaction. A failure or a cancel rolls it back; a
//     crash leaves a hot journal that SQLite rolls back on the next write open (merge.h,
//     recover_interrupted_write), so OUT never holds part of a run.
#include "traces/import/import.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "traces/import/import_impl.h"
#include "traces/lanes.h"
#include "traces/reader.h"
#include "traces/schema.h"
#include "traces/writer.h"

#ifdef SCALESCOPE_IMPORT_KINETO
#include "traces/import/kineto.h"
#endif
#ifdef SCALESCOPE_IMPORT_NSYS
#include "traces/import/nsys.h"
#endif

namespace ss::traces::import {

namespace fs = std::filesystem;

Format parse_format(const std::string& s) {
    if (s == "auto") return Format::Auto;
    if (s == "kineto") return Format::Kineto;
    if (s == "nsys") return Format::Nsys;
    throw ImportError("unknown import format '" + s + "' (formats: auto, kineto, nsys)");
}

const char* to_string(Format f) {
    switch (f) {
        case Format::Auto:
            return "auto";
        case Format::Kineto:
            return "kineto";
        case Format::Nsys:
            return "nsys";
    }
    return "auto";
}

namespace {

const char* tool_name(Format f) {
    return f == Format::Nsys ? "Nsight Systems" : "PyTorch profiler (Kineto)";
}

std::string in_quotes(const std::string& path) {
    return "'" + path + "'";
}

// An ImportError whose message names `file` (the readers' messages usually do already).
ImportError naming(const std::string& file, const std::string& what) {
    if (what.find(file) != std::string::npos) return ImportError(what);
    return ImportError(in_quotes(file) + ": " + what);
}

// The SQLite database at `path` (its header said so): Nsight Systems' export, or an error.
Format detect_sqlite(const std::string& path) {
    std::int64_t app_id = 0, tables = 0, nsys_tables = 0;
    bool string_ids = false;
    try {
        Db db(path, Db::Mode::ReadOnly);
        app_id = db.query_int("PRAGMA application_id");
        tables = db.query_int("SELECT count(*) FROM sqlite_schema WHERE type='table'");
        string_ids = db.table_exists("StringIds");
        nsys_tables = db.query_int(
            "SELECT count(*) FROM sqlite_schema WHERE type='table' AND (name GLOB"
            " 'CUPTI_ACTIVITY_KIND_*' OR name GLOB 'TARGET_INFO_*' OR name = 'NVTX_EVENTS')");
    } catch (const TraceError& e) {
        throw ImportError(in_quotes(path) + ": a damaged or unreadable SQLite database (" +
                          e.what() + ")");
    }
    if (app_id == kApplicationId)
        throw ImportError(in_quotes(path) +
                          " is a ScaleScope trace already: open it directly, there is nothing to "
                          "import");
    if (string_ids && nsys_tables > 0) return Format::Nsys;
    throw ImportError(in_quotes(path) + " is a SQLite database of another program (" +
                      std::to_string(tables) +
                      " tables, none of Nsight Systems' StringIds, CUPTI_ACTIVITY_KIND_*, "
                      "TARGET_INFO_*): not a trace ScaleScope can import");
}

// "rank0.pt.trace.json.gz" -> "rank0.pt.trace" -> "rank0"
std::string default_name(const std::string& file) {
    std::string n = fs::path(file).filename().string();
    for (const char* ext : {".gz", ".json", ".sqlite", ".pt.trace"})
        if (n.size() > std::strlen(ext) && n.ends_with(ext)) n.resize(n.size() - std::strlen(ext));
    return n;
}

std::string absolute(const std::string& p) {
    std::error_code ec;
    fs::path a = fs::absolute(p, ec);
    return ec ? p : a.lexically_normal().string();
}

// The scratch trace file of one import; removed (with any journal) when it goes out of scope.
class Scratch {
public:
    explicit Scratch(const std::string& out) {
        static std::atomic<int> counter{0};
        const std::string leaf = "." + fs::path(out).filename().string() + ".import-" +
                                 std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                                 ".sqlite";
        fs::path dir = fs::path(absolute(out)).parent_path();
        std::error_code ec;
        // Next to OUT when that folder takes a new file (then a new OUT is one link away).
        const fs::path beside = dir / leaf;
        int fd = ::open(beside.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            ::close(fd);
            path_ = beside.string();
            beside_out_ = true;
        } else {
            const fs::path tmp = fs::temp_directory_path(ec) / leaf;
            fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (fd < 0)
                throw ImportError("cannot create a scratch file beside " + in_quotes(out) +
                                  " or in " + in_quotes(tmp.parent_path().string()) + ": " +
                                  std::strerror(errno) + " (open at " + __FILE__ + ":" +
                                  std::to_string(__LINE__) + ")");
            ::close(fd);
            path_ = tmp.string();
        }
    }
    ~Scratch() {
        std::error_code ec;
        for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path_ + suffix, ec);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    const std::string& path() const { return path_; }
    bool beside_out() const { return beside_out_; }

private:
    std::string path_;
    bool beside_out_ = false;
};

void fsync_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
        const std::string err = std::strerror(errno);
        if (fd >= 0) ::close(fd);
        throw ImportError("fsync of " + in_quotes(path) + " failed: " + err + " at " + __FILE__ +
                          ":" + std::to_string(__LINE__));
    }
    ::close(fd);
}

// Fills in what only the whole run knows: its time span, world size, backend and source.
void complete_run_record(const std::string& scratch, RunId run,
                         const std::map<std::int32_t, std::string>& rank_files, int world,
                         const std::string& tool, const std::string& version) {
    Db db(scratch, Db::Mode::ReadWrite);
    Transaction tx(db);
    // A rank row for every rank read (a reader that wrote one keeps its own).
    Stmt rank = db.prepare(
        "INSERT OR IGNORE INTO ranks(run_id, rank, host, pid, device, dp_coord, tp_coord, pp_coord,"
        " clock_offset_ns, clock_ref_ns, clock_drift_ppb, clock_rtt_ns, clock_corrected)"
        " VALUES(?1, ?2, '', 0, '', ?2, 0, 0, 0, 0, 0.0, 0, 1)");
    for (const auto& [r, file] : rank_files) rank.bind(1, run.value).bind(2, r).run();
    Stmt span = db.prepare(
        "SELECT min(min_start_ns), max(max_end_ns), max(lane >= ?2) FROM lanes WHERE run_id=?1 AND"
        " event_count > 0");
    span.bind(1, run.value).bind(2, lanes::kCudaStreamBase);
    std::int64_t start = 0, end = 0;
    bool gpu = false;
    if (span.step()) {
        start = span.col_int_or(0, 0);
        end = span.col_int_or(1, 0);
        gpu = span.col_int_or(2, 0) != 0;
    }
    Stmt up = db.prepare(
        "UPDATE runs SET start_ns=?2, end_ns=?3, world_size=?4, dp=?4, tp=1, pp=1, backend=?5,"
        " source_tool=?6, source_version=?7 WHERE id=?1");
    up.bind(1, run.value).bind(2, start).bind(3, end).bind(4, world).bind(5, gpu ? "cuda" : "cpu");
    up.bind(6, tool).bind(7, version).run();
    tx.commit();
}

struct CopyProgress {
    const ImportOptions* options;
    std::int64_t total;
    bool cancelled = false;
};

int copy_progress(void* p) {
    auto* c = static_cast<CopyProgress*>(p);
    if (c->options->progress && !c->options->progress(c->total, c->total)) c->cancelled = true;
    return c->cancelled ? 1 : 0;
}

// Copies run `src_run` of the finished scratch file into the existing trace `out` in one
// transaction; returns its id there.
RunId append_run(const std::string& scratch, RunId src_run, const std::string& out,
                 CopyProgress& progress) {
    Db db(out, Db::Mode::ReadWrite);
    try {
        const int version = read_schema_version(db);
        validate_structure(db, version);
        migrate(db, version);  // its own transaction: an older OUT gains the source columns
    } catch (const TraceError& e) {
        throw ImportError(std::string("cannot append to ") + e.what());
    }
    db.prepare("ATTACH DATABASE ?1 AS src").bind(1, scratch).run();
    struct Detach {
        Db& db;
        ~Detach() { sqlite3_exec(db.handle(), "DETACH DATABASE src", nullptr, nullptr, nullptr); }
    } detach{db};
    sqlite3_progress_handler(db.handle(), 100000, copy_progress, &progress);
    RunId id;
    try {
        db.exec("BEGIN IMMEDIATE");
        struct Rollback {
            Db& db;
            bool done = false;
            ~Rollback() {
                if (!done) sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
            }
        } rollback{db};
        // A run id above every run id in OUT, also above rows a deleted run may have left.
        id = RunId(1 + db.query_int("SELECT max(coalesce((SELECT max(id) FROM main.runs), 0),"
                                    " coalesce((SELECT max(run_id) FROM main.ranks), 0),"
                                    " coalesce((SELECT max(run_id) FROM main.lanes), 0),"
                                    " coalesce((SELECT max(run_id) FROM main.stats), 0),"
                                    " coalesce((SELECT max(run_id) FROM main.aggregates), 0))"));
        db.exec(
            "INSERT OR IGNORE INTO main.strings(value) SELECT value FROM src.strings ORDER BY id;"
            "CREATE TEMP TABLE import_names(src_id INTEGER PRIMARY KEY, dst_id INTEGER NOT NULL);"
            "INSERT INTO temp.import_names SELECT s.id, m.id FROM src.strings s"
            " JOIN main.strings m ON m.value = s.value;");
        const char* copies[] = {
            "INSERT INTO main.runs(id, name, spec_json, model, backend, world_size, dp, tp, pp,"
            " micro_batches, schedule, hosts, oversubscribed, start_ns, end_ns, wall_start_unix_ns,"
            " status, failure_reason, event_count, source_tool, source_version, source_file)"
            " SELECT ?1, name, spec_json, model, backend, world_size, dp, tp, pp, micro_batches,"
            " schedule, hosts, oversubscribed, start_ns, end_ns, wall_start_unix_ns, status,"
            " failure_reason, event_count, source_tool, source_version, source_file FROM src.runs"
            " WHERE id=?2",
            "INSERT INTO main.ranks(run_id, rank, host, pid, device, dp_coord, tp_coord, pp_coord,"
            " clock_offset_ns, clock_ref_ns, clock_drift_ppb, clock_rtt_ns, clock_corrected)"
            " SELECT ?1, rank, host, pid, device, dp_coord, tp_coord, pp_coord, clock_offset_ns,"
            " clock_ref_ns, clock_drift_ppb, clock_rtt_ns, clock_corrected FROM src.ranks"
            " WHERE run_id=?2",
            "INSERT INTO main.lanes(run_id, rank, lane, name, event_count, max_duration_ns,"
            " min_start_ns, max_end_ns) SELECT ?1, rank, lane, name, event_count, max_duration_ns,"
            " min_start_ns, max_end_ns FROM src.lanes WHERE run_id=?2",
            "INSERT INTO main.events(run_id, rank, lane, kind, name_id, start_ns, end_ns, step,"
            " micro_batch, layer, bytes, flops, collective, group_kind, group_id, group_size, peer,"
            " seq, correlation) SELECT ?1, e.rank, e.lane, e.kind, n.dst_id, e.start_ns, e.end_ns,"
            " e.step, e.micro_batch, e.layer, e.bytes, e.flops, e.collective, e.group_kind,"
            " e.group_id, e.group_size, e.peer, e.seq, e.correlation FROM src.events e"
            " JOIN temp.import_names n ON n.src_id = e.name_id WHERE e.run_id=?2 ORDER BY e.id",
            "INSERT INTO main.metrics(run_id, rank, step, time_ns, name_id, value)"
            " SELECT ?1, m.rank, m.step, m.time_ns, n.dst_id, m.value FROM src.metrics m"
            " JOIN temp.import_names n ON n.src_id = m.name_id WHERE m.run_id=?2",
            "INSERT INTO main.stats(run_id, rank, key, value) SELECT ?1, rank, key, value"
            " FROM src.stats WHERE run_id=?2",
            "INSERT INTO main.aggregates(run_id, kind, name_id, collective, group_kind, count,"
            " total_ns, mean_ns, median_ns, p95_ns, min_ns, max_ns, bytes) SELECT ?1, a.kind,"
            " n.dst_id, a.collective, a.group_kind, a.count, a.total_ns, a.mean_ns, a.median_ns,"
            " a.p95_ns, a.min_ns, a.max_ns, a.bytes FROM src.aggregates a"
            " JOIN temp.import_names n ON n.src_id = a.name_id WHERE a.run_id=?2",
        };
        for (const char* sql : copies)
            db.prepare(sql).bind(1, id.value).bind(2, src_run.value).run();
        db.exec(
            "CREATE INDEX IF NOT EXISTS main.events_by_lane_time ON events(run_id, rank, lane,"
            " start_ns);"
            "DROP TABLE temp.import_names;");
        db.exec("COMMIT");
        rollback.done = true;
    } catch (const TraceError& e) {
        if (progress.cancelled) throw ImportError("import cancelled");
        throw ImportError("appending the imported run to " + in_quotes(out) +
                          " failed: " + e.what());
    }
    sqlite3_progress_handler(db.handle(), 0, nullptr, nullptr);
    return id;
}

}  // namespace

Format detect_format(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw ImportError(in_quotes(path) + ": no such file");
    if (fs::is_directory(path, ec)) throw ImportError(in_quotes(path) + " is a directory");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ImportError(in_quotes(path) + ": cannot open: " + std::strerror(errno));
    char head[4096];
    f.read(head, sizeof head);
    const std::size_t n = static_cast<std::size_t>(f.gcount());
    if (n == 0) throw ImportError(in_quotes(path) + " is empty");
    if (n >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
        static_cast<unsigned char>(head[1]) == 0x8b)
        return Format::Kineto;  // gzip: a compressed Kineto trace (.json.gz)
    if (n >= 16 && std::memcmp(head, "SQLite format 3\0", 16) == 0) return detect_sqlite(path);
    std::size_t i = n >= 3 && std::memcmp(head, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) ++i;
    if (i < n && head[i] == '{') return Format::Kineto;
    throw ImportError(in_quotes(path) +
                      " is neither a PyTorch profiler (Kineto) JSON trace (.json, .json.gz) nor an "
                      "Nsight Systems SQLite export (nsys export --type sqlite)");
}

Readers builtin_readers() {
    Readers r;
#ifdef SCALESCOPE_IMPORT_KINETO
    r.kineto = read_kineto;
#endif
#ifdef SCALESCOPE_IMPORT_NSYS
    r.nsys = read_nsys;
#endif
    return r;
}

ImportResult import_traces(const std::vector<std::string>& files, const std::string& out,
                           const ImportOptions& options) {
    return import_traces_with(files, out, options, builtin_readers());
}

ImportResult import_traces_with(const std::vector<std::string>& files, const std::string& out,
                                const ImportOptions& options, const Readers& readers) {
    if (files.empty()) throw ImportError("no files to import");
    if (out.empty()) throw ImportError("no output file");

    // Every input is checked before any work: it exists, its format, it is not OUT.
    std::error_code ec;
    const bool out_exists = fs::exists(out, ec) && fs::file_size(out, ec) > 0 && !ec;
    Format format = Format::Auto;
    std::vector<std::int64_t> sizes;
    std::int64_t total = 0;
    for (const auto& f : files) {
        Format ff = options.format == Format::Auto ? detect_format(f) : options.format;
        if (!fs::exists(f, ec)) throw ImportError(in_quotes(f) + ": no such file");
        if (fs::is_directory(f, ec)) throw ImportError(in_quotes(f) + " is a directory");
        if (out_exists && fs::equivalent(f, out, ec))
            throw ImportError(in_quotes(f) + " is also the output file");
        if (format != Format::Auto && ff != format)
            throw ImportError(in_quotes(f) + " is " +
                              (ff == Format::Nsys ? "an Nsight Systems" : "a Kineto") + " file, " +
                              in_quotes(files.front()) +
                              " is not: one run is imported from "
                              "files of one format");
        format = ff;
        const auto size = fs::file_size(f, ec);
        sizes.push_back(ec ? 0 : static_cast<std::int64_t>(size));
        total += sizes.back();
    }
    const ReaderFn& reader = format == Format::Nsys ? readers.nsys : readers.kineto;
    if (!reader)
        throw ImportError(in_quotes(files.front()) + ": this build of ScaleScope has no " +
                          tool_name(format) + " reader");
    // A bad OUT fails now, not after a long read.
    if (out_exists) {
        try {
            TraceReader check(out);
        } catch (const TraceError& e) {
            throw ImportError(std::string("cannot append to ") + e.what());
        }
    }

    std::unique_ptr<Scratch> scratch;
    ImportResult result;
    std::map<std::int32_t, std::string> rank_files;
    std::set<std::string> tools, versions;
    std::string source_files;
    for (const auto& f : files) source_files += (source_files.empty() ? "" : "\n") + absolute(f);
    bool cancelled = false;
    auto check_cancel = [&](std::int64_t done) {
        if (!cancelled && options.progress && !options.progress(done, total)) cancelled = true;
        if (cancelled) throw ImportError("import cancelled");
    };
    RunId run;
    // Readers may write events while they read (ReaderContext::streaming); one that finds at the
    // end of a file that it assumed wrongly asks for the import again without (a fresh scratch).
    for (bool streaming : {true, false}) {
        scratch = std::make_unique<Scratch>(out);
        result = ImportResult{};
        rank_files.clear();
        tools.clear();
        versions.clear();
        try {
            TraceWriter w(scratch->path(), WriterOptions{.durable = false,
                                                         .created_by = "scalescope-cli import",
                                                         .bounded_memory = true});
            RunInfo info;
            info.name = options.name.empty() ? default_name(files.front()) : options.name;
            info.spec_json = "{}";
            info.backend = "cuda";
            info.status = RunStatus::Running;
            info.source_tool = tool_name(format);
            info.source_file = source_files;
            run = w.begin_run(info);

            std::int64_t done = 0;
            for (std::size_t i = 0; i < files.size(); ++i) {
                const std::string& f = files[i];
                ReaderContext ctx;
                ctx.writer = &w;
                ctx.run = run;
                // The lowest rank no earlier file took: the file's index when every file is one
                // rank and none says which.
                ctx.rank_hint = 0;
                while (rank_files.count(ctx.rank_hint)) ++ctx.rank_hint;
                ctx.file = f;
                ctx.streaming = streaming;
                ctx.progress = [&, i](std::int64_t read) {
                    if (!cancelled && options.progress &&
                        !options.progress(done + std::clamp<std::int64_t>(read, 0, sizes[i]),
                                          total))
                        cancelled = true;
                    return !cancelled;
                };
                try {
                    reader(ctx);
                } catch (const RestartWithoutStreaming&) {
                    if (cancelled) throw ImportError("import cancelled");
                    throw;
                } catch (const ImportError& e) {
                    if (cancelled) throw ImportError("import cancelled");
                    throw naming(f, e.what());
                } catch (const std::exception& e) {
                    if (cancelled) throw ImportError("import cancelled");
                    throw naming(f, e.what());
                }
                check_cancel(done + sizes[i]);
                // A reader that does not say wrote the rank of the hint (its row is made below
                // when the reader did not).
                if (ctx.ranks.empty()) ctx.ranks.push_back(ctx.rank_hint);
                for (std::int32_t r : std::set<std::int32_t>(ctx.ranks.begin(), ctx.ranks.end())) {
                    if (auto it = rank_files.find(r); it != rank_files.end())
                        throw ImportError("rank " + std::to_string(r) + " is in both " +
                                          in_quotes(it->second) + " and " + in_quotes(f) +
                                          ": one file per rank");
                    rank_files.emplace(r, f);
                }
                for (const auto& s : ctx.skipped)
                    result.skipped.push_back(
                        files.size() > 1 ? fs::path(f).filename().string() + ": " + s : s);
                if (!ctx.tool.empty()) tools.insert(ctx.tool);
                if (!ctx.version.empty()) versions.insert(ctx.version);
                done += sizes[i];
            }
            w.flush();
            check_cancel(total);
            w.finish_run(run, RunStatus::Completed, "", 0);
        } catch (const RestartWithoutStreaming& e) {
            if (!streaming)
                throw ImportError(std::string("internal error: ") + e.what() +
                                  " although streaming was off");
            continue;
        }
        break;
    }
    // World size: the ranks read; a gap (files of ranks 0 and 2 only) counts the missing rank too,
    // so every rank number stays below the world size.
    const std::int32_t world =
        std::max(static_cast<std::int32_t>(rank_files.size()), rank_files.rbegin()->first + 1);
    for (std::int32_t r = 0; r < world; ++r)
        if (!rank_files.count(r)) result.skipped.push_back("no file for rank " + std::to_string(r));
    auto join = [](const std::set<std::string>& s, const std::string& fallback) {
        std::string o;
        for (const auto& x : s) o += (o.empty() ? "" : ", ") + x;
        return o.empty() ? fallback : o;
    };
    complete_run_record(scratch->path(), run, rank_files, world, join(tools, tool_name(format)),
                        join(versions, ""));
    {
        Db db(scratch->path(), Db::Mode::ReadOnly);
        Stmt st = db.prepare("SELECT event_count FROM runs WHERE id=?1");
        st.bind(1, run.value);
        if (st.step()) result.events = st.col_int(0);
    }
    result.ranks = static_cast<std::int32_t>(rank_files.size());
    check_cancel(total);

    // Into OUT in one step (see the top of this file).
    if (!out_exists && scratch->beside_out()) {
        fsync_file(scratch->path());
        if (::link(scratch->path().c_str(), out.c_str()) == 0) {
            fsync_file(fs::path(absolute(out)).parent_path().string());
            result.run = run;
            return result;
        }
        if (errno != EEXIST)
            throw ImportError("cannot create " + in_quotes(out) + ": " + std::strerror(errno) +
                              " (link at " + __FILE__ + ":" + std::to_string(__LINE__) + ")");
        // OUT appeared meanwhile: append to it like to any existing file.
    }
    CopyProgress progress{&options, total};
    const bool created = !fs::exists(out, ec);
    try {
        if (created) {
            // Only when the scratch file could not be made beside OUT: an empty trace, then the
            // run.
            TraceWriter create(out);
        }
        result.run = append_run(scratch->path(), run, out, progress);
    } catch (...) {
        if (created) fs::remove(out, ec);
        throw;
    }
    return result;
}

}  // namespace ss::traces::import

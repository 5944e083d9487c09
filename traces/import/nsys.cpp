// Nsight Systems SQLite export reader; the mapping is documented in nsys.h.
#include "traces/import/nsys.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "traces/cuda_names.h"
#include "traces/lanes.h"
#include "traces/schema.h"
#include "traces/sqlite_util.h"
#include "traces/writer.h"

namespace ss::traces::import {

namespace {

constexpr const char* kKernel = "CUPTI_ACTIVITY_KIND_KERNEL";
constexpr const char* kMemcpy = "CUPTI_ACTIVITY_KIND_MEMCPY";
constexpr const char* kMemset = "CUPTI_ACTIVITY_KIND_MEMSET";
constexpr const char* kRuntime = "CUPTI_ACTIVITY_KIND_RUNTIME";
constexpr const char* kSync = "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION";
constexpr const char* kNvtx = "NVTX_EVENTS";
constexpr const char* kStrings = "StringIds";

// A serialized nsys GlobalId: hardware (8 bits), VM (8), pid (24), tid (24). A process's id is
// its threads' ids with the tid bits cleared.
constexpr std::int64_t kTidBits = 0xFFFFFF;
std::int64_t process_of_thread(std::int64_t global_tid) {
    return global_tid & ~kTidBits;
}
// SQL for the same on a column (SQLite's & works on 64-bit integers).
std::string process_sql(const std::string& column) {
    return "(" + column + " & -16777216)";
}

constexpr std::int32_t kFirstThreadLane = lanes::kHostThreadBase;

// NVTX event types (Nsight Systems "SQLite Schema Event Values").
constexpr int kNvtxThreadName = 39, kNvtxPushPop = 59, kNvtxStartEnd = 60;
// CUDA event classes of CUPTI_ACTIVITY_KIND_RUNTIME rows: the API call itself.
constexpr int kClassRuntime = 0, kClassDriver = 1;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}

// "cudaLaunchKernel_v7000" -> "cudaLaunchKernel": nsys keeps the versioned entry point's name.
std::string api_name(std::string s) {
    const size_t v = s.rfind("_v");
    if (v != std::string::npos && v > 0 && v + 2 < s.size() &&
        std::all_of(s.begin() + static_cast<std::ptrdiff_t>(v) + 2, s.end(),
                    [](char c) { return c >= '0' && c <= '9'; }))
        s.resize(v);
    return s;
}

// The collective of an NCCL kernel ("ncclKernel_AllReduce_RING_LL_Sum_float",
// "ncclDevKernel_SendRecv(...)"); nullopt when the name is not an NCCL kernel's.
std::optional<Collective> nccl_kernel_collective(std::string_view name) {
    if (starts_with(name, "void ")) name.remove_prefix(5);
    const std::optional<std::string_view> op = nccl_kernel_op(name);
    if (!op) return std::nullopt;
    if (*op == "AllReduce") return Collective::AllReduce;
    if (*op == "ReduceScatter") return Collective::ReduceScatter;
    if (*op == "AllGather") return Collective::AllGather;
    if (*op == "Broadcast") return Collective::Broadcast;
    if (*op == "Reduce") return Collective::Reduce;
    if (*op == "AllToAll" || *op == "AlltoAll") return Collective::AllToAll;
    // One kernel moves both directions of a send/recv group: recorded as a send.
    if (*op == "SendRecv" || *op == "Send") return Collective::Send;
    if (*op == "Recv") return Collective::Recv;
    return Collective::None;  // ncclDevKernel_Generic and the like: NCCL, type unknown
}

// The collective of a communication call annotated by NVTX: NCCL's own ranges ("ncclAllReduce")
// and nsys's MPI trace ("MPI_Allreduce"); nullopt for any other range.
std::optional<Collective> call_collective(std::string_view name) {
    static const std::map<std::string, Collective, std::less<>> nccl = {
        {"allreduce", Collective::AllReduce},
        {"reducescatter", Collective::ReduceScatter},
        {"allgather", Collective::AllGather},
        {"broadcast", Collective::Broadcast},
        {"bcast", Collective::Broadcast},
        {"reduce", Collective::Reduce},
        {"alltoall", Collective::AllToAll},
        {"send", Collective::Send},
        {"recv", Collective::Recv}};
    static const std::map<std::string, Collective, std::less<>> mpi = {
        {"allreduce", Collective::AllReduce},
        {"iallreduce", Collective::AllReduce},
        {"reduce_scatter", Collective::ReduceScatter},
        {"reduce_scatter_block", Collective::ReduceScatter},
        {"ireduce_scatter", Collective::ReduceScatter},
        {"allgather", Collective::AllGather},
        {"allgatherv", Collective::AllGather},
        {"iallgather", Collective::AllGather},
        {"bcast", Collective::Broadcast},
        {"ibcast", Collective::Broadcast},
        {"reduce", Collective::Reduce},
        {"ireduce", Collective::Reduce},
        {"alltoall", Collective::AllToAll},
        {"alltoallv", Collective::AllToAll},
        {"ialltoall", Collective::AllToAll},
        {"send", Collective::Send},
        {"isend", Collective::Send},
        {"ssend", Collective::Send},
        {"bsend", Collective::Send},
        {"rsend", Collective::Send},
        {"recv", Collective::Recv},
        {"irecv", Collective::Recv},
        {"barrier", Collective::Barrier},
        {"ibarrier", Collective::Barrier}};
    if (starts_with(name, "nccl")) {
        if (auto it = nccl.find(lower(name.substr(4))); it != nccl.end()) return it->second;
    } else if (starts_with(name, "MPI_")) {
        if (auto it = mpi.find(lower(name.substr(4))); it != mpi.end()) return it->second;
    }
    return std::nullopt;
}

// Whether an NVTX range names a training step, and its number (kNone when it has none).
struct StepName {
    bool profiler = false;  // ProfilerStep#N
    std::int64_t number = kNone;
};
std::optional<std::int64_t> parse_number(std::string_view s) {
    if (s.empty() || s.size() > 15) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}
std::optional<StepName> step_name(std::string_view name) {
    if (starts_with(name, "ProfilerStep#"))
        if (auto n = parse_number(name.substr(13))) return StepName{true, *n};
    std::string s = lower(name);
    std::string_view v = s;
    for (std::string_view p : {"training_", "training ", "training", "train_", "train ", "train"})
        if (starts_with(v, p)) {
            v.remove_prefix(p.size());
            break;
        }
    bool word = false;
    for (std::string_view p : {"iteration", "iter", "step"})
        if (starts_with(v, p)) {
            v.remove_prefix(p.size());
            word = true;
            break;
        }
    if (!word) return std::nullopt;
    while (!v.empty() &&
           (v[0] == ' ' || v[0] == '_' || v[0] == '#' || v[0] == ':' || v[0] == '=' || v[0] == '-'))
        v.remove_prefix(1);
    if (v.empty()) return StepName{false, kNone};
    if (auto n = parse_number(v)) return StepName{false, *n};
    return std::nullopt;
}

struct StepSpan {
    std::int64_t start, end, number;
};

struct Process {
    std::int64_t gpid = 0;
    std::int32_t rank = 0;
    bool profiler_steps = false;  // its steps are ProfilerStep#N ranges
    std::vector<StepSpan> steps;  // sorted, disjoint
    std::set<std::pair<std::int64_t, std::int64_t>> step_ranges;  // (start, end) of those ranges
    std::set<std::int32_t> lanes;                                 // lanes named so far
    std::map<std::int64_t, std::int32_t> thread_lanes;            // globalTid -> lane

    std::int64_t step_at(std::int64_t t) const {
        auto it = std::upper_bound(steps.begin(), steps.end(), t,
                                   [](std::int64_t x, const StepSpan& s) { return x < s.start; });
        if (it == steps.begin()) return kNone;
        --it;
        return t < it->end ? it->number : kNone;
    }
};

class NsysReader {
public:
    explicit NsysReader(ReaderContext& ctx) : ctx_(ctx), w_(*ctx.writer) {}

    // Whether the user cancelled (a statement interrupted by the progress handler fails then).
    bool cancelled() const { return cancelled_; }

    void run() {
        open();
        read_version();
        find_processes();
        assign_ranks();
        count_rows();
        find_steps();
        write_steps();
        read_runtime();
        read_kernels();
        read_copies(kMemcpy);
        read_copies(kMemset);
        read_syncs();
        read_nvtx();
        report_unread_tables();
        if (ctx_.events == 0) {
            std::string why;
            for (const std::string& line : unknown_.empty() ? ctx_.skipped : unknown_)
                why += (why.empty() ? "" : "; ") + line;
            fail("an Nsight Systems export of an unknown schema (version " +
                 (schema_version_.empty() ? std::string("unknown") : schema_version_) +
                 "): nothing could be imported: " + why);
        }
        for (const auto& [gpid, p] : procs_) ctx_.ranks.push_back(p.rank);
        std::sort(ctx_.ranks.begin(), ctx_.ranks.end());
    }

private:
    ReaderContext& ctx_;
    TraceWriter& w_;
    Db db_;
    std::map<std::string, std::set<std::string>> tables_;  // the tables this reader knows
    std::string schema_version_;
    std::map<std::int64_t, Process> procs_;               // by globalPid
    std::unordered_map<std::int64_t, std::string> text_;  // StringIds already looked up
    Stmt string_stmt_;
    std::int64_t rows_done_ = 0, rows_total_ = 1, file_bytes_ = 0;
    bool cancelled_ = false;
    std::vector<std::string> unknown_;  // tables present whose columns are not the known ones

    [[noreturn]] void fail(const std::string& what) const {
        throw ImportError("'" + ctx_.file + "': " + what);
    }
    void skip(std::string line) { ctx_.skipped.push_back(std::move(line)); }

    bool has(const std::string& table) const { return tables_.count(table) > 0; }
    bool has(const std::string& table, const std::string& column) const {
        auto it = tables_.find(table);
        return it != tables_.end() && it->second.count(column) > 0;
    }
    // "t.column" when the table has it, else NULL (an optional column of an older schema).
    std::string col(const std::string& table, const std::string& column) const {
        return has(table, column) ? "t." + column : "NULL";
    }
    // Whether `table` is present with all `columns`; says what is skipped when not.
    bool usable(const std::string& table, std::initializer_list<const char*> columns,
                const char* what) {
        if (!has(table)) {
            skip("no table " + table + ": no " + what + " imported");
            return false;
        }
        for (const char* c : columns)
            if (!has(table, c)) {
                unknown_.push_back("table " + table + " has no column '" + c + "'");
                skip(unknown_.back() + " (export schema " +
                     (schema_version_.empty() ? std::string("unknown") : schema_version_) +
                     "): its " + std::to_string(count(table)) + " rows (" + what +
                     ") not imported");
                return false;
            }
        return true;
    }
    std::int64_t count(const std::string& table) {
        return db_.query_int("SELECT COUNT(*) FROM \"" + table + "\"");
    }

    void open() {
        std::error_code ec;
        file_bytes_ = static_cast<std::int64_t>(std::filesystem::file_size(ctx_.file, ec));
        try {
            db_ = Db(ctx_.file, Db::Mode::ReadOnly);
        } catch (const TraceError& e) {
            throw ImportError(e.what());
        }
        std::int64_t app_id = 0;
        try {
            app_id = db_.query_int("PRAGMA application_id");
        } catch (const TraceError& e) {
            fail(std::string("not an Nsight Systems export: not an SQLite database (") + e.what() +
                 ")");
        }
        if (app_id == kApplicationId ||
            (db_.table_exists("runs") && db_.table_exists("events") && db_.table_exists("meta")))
            fail(
                "this is a ScaleScope trace, not an Nsight Systems export: open it directly "
                "instead of importing it");
        static const std::vector<std::string> known = {kKernel,
                                                       kMemcpy,
                                                       kMemset,
                                                       kRuntime,
                                                       kSync,
                                                       kNvtx,
                                                       kStrings,
                                                       "ThreadNames",
                                                       "TARGET_INFO_GPU",
                                                       "TARGET_INFO_SYSTEM_ENV",
                                                       "EXPORT_META_DATA",
                                                       "META_DATA_EXPORT",
                                                       "MPI_RANKS"};
        Stmt cols = db_.prepare("SELECT name FROM pragma_table_info(?1)");
        for (const std::string& t : known) {
            if (!db_.table_exists(t)) continue;
            auto& c = tables_[t];
            cols.bind(1, t);
            while (cols.step()) c.insert(cols.col_text(0));
            cols.reset();
        }
        const std::vector<std::string> data = {kKernel, kMemcpy, kMemset, kRuntime, kSync, kNvtx};
        const bool any_data =
            std::any_of(data.begin(), data.end(), [&](auto& t) { return has(t); });
        if (!any_data && !has(kStrings))
            fail("not an Nsight Systems export: no table " + std::string(kKernel) + " / " +
                 kMemcpy + " / " + kRuntime + " / " + kNvtx + " / " + kStrings);
        if (!any_data)
            fail("an Nsight Systems export with nothing to import: no table " +
                 std::string(kKernel) + " / " + kMemcpy + " / " + kMemset + " / " + kRuntime +
                 " / " + kSync + " / " + kNvtx);
        if (!has(kStrings, "id") || !has(kStrings, "value"))
            fail(
                "an Nsight Systems export without a usable StringIds table (id, value): the "
                "names of its kernels and calls cannot be resolved");
        string_stmt_ = db_.prepare("SELECT value FROM StringIds WHERE id = ?1");
        if (ctx_.progress)
            sqlite3_progress_handler(db_.handle(), 1'000'000, on_sqlite_progress, this);
    }

    void read_version() {
        ctx_.tool = "Nsight Systems";
        std::string product;
        for (const char* t : {"EXPORT_META_DATA", "META_DATA_EXPORT"}) {
            if (!has(t, "name") || !has(t, "value")) continue;
            Stmt st = db_.prepare(std::string("SELECT name, value FROM ") + t);
            while (st.step()) {
                const std::string k = st.col_text(0);
                if (k == "EXPORT_PRODUCT_VERSION") product = st.col_text(1);
                if (k == "EXPORT_SCHEMA_VERSION") schema_version_ = st.col_text(1);
            }
            break;
        }
        if (product.empty())
            skip("no EXPORT_META_DATA table: the Nsight Systems version is unknown");
        ctx_.version =
            product.empty() ? std::string("(version unknown)") : product;
    }

    const std::string& text(std::int64_t id) {
        auto it = text_.find(id);
        if (it != text_.end()) return it->second;
        string_stmt_.bind(1, id);
        std::string s = string_stmt_.step() ? string_stmt_.col_text(0)
                                            : "(string " + std::to_string(id) + " missing)";
        string_stmt_.reset();
        return text_.emplace(id, std::move(s)).first->second;
    }

    // The processes with CUDA or NVTX rows.
    void find_processes() {
        std::vector<std::string> parts;
        for (const char* t : {kKernel, kMemcpy, kMemset, kSync})
            if (has(t, "globalPid"))
                parts.push_back(std::string("SELECT DISTINCT globalPid FROM ") + t +
                                " WHERE globalPid IS NOT NULL");
        if (has(kRuntime, "globalTid"))
            parts.push_back("SELECT DISTINCT " + process_sql("globalTid") + " FROM " + kRuntime +
                            " WHERE globalTid IS NOT NULL");
        if (has(kNvtx, "globalTid") && has(kNvtx, "eventType"))
            parts.push_back("SELECT DISTINCT " + process_sql("globalTid") + " FROM " + kNvtx +
                            " WHERE globalTid IS NOT NULL AND eventType IN (59, 60)");
        std::set<std::int64_t> pids;
        for (const std::string& q : parts) {
            Stmt st = db_.prepare(q);
            while (st.step()) pids.insert(st.col_int(0));
        }
        for (std::int64_t p : pids) procs_[p].gpid = p;
        if (procs_.empty()) {
            // Device rows without a process id (an export that did not record it): one process.
            bool rows = false;
            for (const char* t : {kKernel, kMemcpy, kMemset, kRuntime})
                if (has(t) && count(t) > 0) rows = true;
            if (!rows)
                fail(
                    "an Nsight Systems export with no CUDA or NVTX rows to import (was CUDA or "
                    "NVTX tracing on?)");
            procs_[0].gpid = 0;
        }
    }

    // The process a row belongs to; a NULL process id is the only process's, else none.
    Process* proc(const Stmt& st, int col, bool thread_id) {
        if (st.col_null(col)) return procs_.size() == 1 ? &procs_.begin()->second : nullptr;
        std::int64_t id = st.col_int(col);
        if (thread_id) id = process_of_thread(id);
        auto it = procs_.find(id);
        if (it != procs_.end()) return &it->second;
        return procs_.size() == 1 && procs_.begin()->first == 0 ? &procs_.begin()->second : nullptr;
    }

    // MPI ranks of the processes when the export records them.
    std::map<std::int64_t, std::int64_t> mpi_ranks() {
        std::map<std::int64_t, std::int64_t> out;
        if (has("MPI_RANKS", "globalTid") && has("MPI_RANKS", "rank")) {
            Stmt st = db_.prepare(
                "SELECT globalTid, rank FROM MPI_RANKS WHERE globalTid IS NOT "
                "NULL AND rank IS NOT NULL");
            while (st.step()) out[process_of_thread(st.col_int(0))] = st.col_int(1);
            if (!out.empty()) return out;
        }
        // nsys's MPI trace names the thread "MPI Rank N".
        auto take = [&](std::int64_t tid, const std::string& name) {
            constexpr std::string_view prefix = "MPI Rank ";
            if (starts_with(name, prefix))
                if (auto n = parse_number(std::string_view(name).substr(prefix.size())))
                    out.emplace(process_of_thread(tid), *n);
        };
        if (has("ThreadNames", "globalTid") && has("ThreadNames", "nameId")) {
            Stmt st = db_.prepare(
                "SELECT globalTid, nameId FROM ThreadNames WHERE globalTid IS "
                "NOT NULL AND nameId IS NOT NULL");
            while (st.step()) take(st.col_int(0), text(st.col_int(1)));
        }
        if (has(kNvtx, "eventType") && has(kNvtx, "globalTid")) {
            Stmt st = db_.prepare(
                "SELECT t.globalTid, " + col(kNvtx, "text") + ", " + col(kNvtx, "textId") +
                " FROM NVTX_EVENTS t WHERE t.eventType = " + std::to_string(kNvtxThreadName) +
                " AND t.globalTid IS NOT NULL");
            while (st.step())
                take(st.col_int(0), !st.col_null(1)   ? st.col_text(1)
                                    : !st.col_null(2) ? text(st.col_int(2))
                                                      : std::string());
        }
        return out;
    }

    void assign_ranks() {
        const auto mpi = mpi_ranks();
        std::set<std::int64_t> distinct;
        bool all = true;
        for (const auto& [gpid, p] : procs_) {
            auto it = mpi.find(gpid);
            if (it == mpi.end() || it->second > INT32_MAX)
                all = false;
            else
                distinct.insert(it->second);
        }
        all = all && distinct.size() == procs_.size();
        if (!all && !mpi.empty())
            skip(
                "MPI ranks are not known for every process, or repeat: ranks follow the "
                "processes' pid order instead");
        std::int32_t i = 0;
        for (auto& [gpid, p] : procs_)
            p.rank = all ? static_cast<std::int32_t>(mpi.at(gpid)) : ctx_.rank_hint + i++;

        // Devices: the GPU most of the process's kernels (else copies) ran on.
        std::map<std::int64_t, std::int64_t> device;
        for (const char* t : {kMemcpy, kKernel})  // kernels last: they win
            if (has(t, "globalPid") && has(t, "deviceId")) {
                Stmt st =
                    db_.prepare(std::string("SELECT globalPid, deviceId, COUNT(*) AS n FROM ") + t +
                                " WHERE globalPid IS NOT NULL GROUP BY 1, 2 ORDER BY n");
                while (st.step()) device[st.col_int(0)] = st.col_int(1);
            }
        struct Gpu {
            std::int64_t vm;
            std::int64_t id;
            std::string name;
        };
        std::vector<Gpu> gpus;
        if (has("TARGET_INFO_GPU", "id") && has("TARGET_INFO_GPU", "name")) {
            Stmt st = db_.prepare("SELECT t.id, t.name, " + col("TARGET_INFO_GPU", "vmId") +
                                  " FROM TARGET_INFO_GPU t");
            while (st.step())
                gpus.push_back({st.col_int_or(2, kNone), st.col_int(0), st.col_text(1)});
        } else {
            skip("no table TARGET_INFO_GPU: device names unknown");
        }
        std::map<std::int64_t, std::string> hosts;  // by VM (GlobalId bits above the pid)
        if (has("TARGET_INFO_SYSTEM_ENV", "name") && has("TARGET_INFO_SYSTEM_ENV", "value")) {
            Stmt st =
                db_.prepare("SELECT " + col("TARGET_INFO_SYSTEM_ENV", "globalVid") +
                            ", t.value FROM TARGET_INFO_SYSTEM_ENV t WHERE t.name = 'Hostname'");
            while (st.step()) hosts.emplace(st.col_int_or(0, 0) >> 48, st.col_text(1));
        }
        for (auto& [gpid, p] : procs_) {
            RankInfo r;
            r.run = ctx_.run;
            r.rank = p.rank;
            r.pid = (gpid >> 24) & kTidBits;
            if (auto h = hosts.find(gpid >> 48); h != hosts.end())
                r.host = h->second;
            else if (!hosts.empty())
                r.host = hosts.begin()->second;
            r.device = "cpu";
            if (auto d = device.find(gpid); d != device.end()) {
                r.device = "cuda:" + std::to_string(d->second);
                const Gpu* best = nullptr;
                for (const Gpu& g : gpus)
                    if (g.id == d->second && (!best || (g.vm >> 48) == (gpid >> 48))) best = &g;
                if (best && !best->name.empty()) r.device += " (" + best->name + ")";
            }
            w_.put_rank(r);
        }
    }

    void count_rows() {
        rows_total_ = 1;
        for (const char* t : {kKernel, kMemcpy, kMemset, kRuntime, kSync})
            if (has(t)) rows_total_ += count(t);
        if (has(kNvtx)) rows_total_ += 2 * count(kNvtx);  // read twice
    }
    // Long statements (the launch table's sort on a large export) ask about a cancel too.
    static int on_sqlite_progress(void* self) {
        auto* r = static_cast<NsysReader*>(self);
        if (r->ctx_.progress && !r->ctx_.progress(r->bytes_done())) r->cancelled_ = true;
        return r->cancelled_ ? 1 : 0;  // non-zero interrupts the statement
    }
    std::int64_t bytes_done() const {
        const double f =
            std::min(1.0, static_cast<double>(rows_done_) / static_cast<double>(rows_total_));
        return static_cast<std::int64_t>(f * static_cast<double>(file_bytes_));
    }

    void tick() {
        if ((++rows_done_ & 4095) != 0 || !ctx_.progress) return;
        if (!ctx_.progress(bytes_done())) {
            cancelled_ = true;
            throw ImportError("cancelled");
        }
    }
    void add(const Event& e) {
        if (w_.add_event(e)) ++ctx_.events;
    }
    void lane(Process& p, std::int32_t lane, const std::string& name) {
        if (p.lanes.insert(lane).second) w_.define_lane(ctx_.run, p.rank, lane, name);
    }
    // The lane of CUDA stream `stream`, or -1 for an id that is not a stream's.
    std::int32_t stream_lane(Process& p, std::int64_t stream) {
        if (stream < 0 || stream > 1'000'000'000) return -1;
        const auto l = static_cast<std::int32_t>(lanes::kCudaStreamBase + stream);
        lane(p, l, "stream " + std::to_string(stream));
        return l;
    }
    std::string nvtx_text(const Stmt& st, int text_col, int id_col) {
        if (!st.col_null(text_col)) return st.col_text(text_col);
        if (!st.col_null(id_col)) return text(st.col_int(id_col));
        return std::string();
    }

    bool nvtx_usable_ = false;
    std::string nvtx_select() const {
        return "SELECT t.start, t.end, t.globalTid, " + col(kNvtx, "text") + ", " +
               col(kNvtx, "textId") + ", " + col(kNvtx, "jsonText") + ", " +
               col(kNvtx, "jsonTextId") + " FROM NVTX_EVENTS t WHERE t.eventType IN (" +
               std::to_string(kNvtxPushPop) + ", " + std::to_string(kNvtxStartEnd) +
               ") AND t.end IS NOT NULL AND t.end >= t.start ORDER BY t.start, t.end DESC";
    }

    // Step ranges per process: ProfilerStep#N when there are any, else step-like names.
    void find_steps() {
        nvtx_usable_ = usable(kNvtx, {"start", "end", "eventType", "globalTid"}, "NVTX ranges");
        if (nvtx_usable_ && !has(kNvtx, "text") && !has(kNvtx, "textId")) {
            unknown_.push_back("table NVTX_EVENTS has neither 'text' nor 'textId'");
            skip(unknown_.back() + ": NVTX ranges not imported");
            nvtx_usable_ = false;
        }
        if (!nvtx_usable_) return;
        struct Cand {
            std::int64_t start, end;
            StepName name;
        };
        std::map<std::int64_t, std::vector<Cand>> cands;
        Stmt st = db_.prepare(nvtx_select());
        while (st.step()) {
            tick();
            Process* p = proc(st, 2, true);
            if (!p) continue;
            if (auto s = step_name(nvtx_text(st, 3, 4)))
                cands[p->gpid].push_back({st.col_int(0), st.col_int(1), *s});
        }
        for (auto& [gpid, list] : cands) {
            Process& p = procs_.at(gpid);
            const bool profiler = std::any_of(list.begin(), list.end(),
                                              [](const Cand& c) { return c.name.profiler; });
            p.profiler_steps = profiler;
            std::vector<Cand> kept;  // outermost, disjoint (sorted by start, longest first)
            for (const Cand& c : list) {
                if (c.name.profiler != profiler) continue;
                if (!kept.empty() && c.start < kept.back().end) continue;  // nested: a range
                kept.push_back(c);
            }
            std::set<std::int64_t> numbers;
            for (const Cand& c : kept)
                if (c.name.number != kNone) numbers.insert(c.name.number);
            const bool own = numbers.size() == kept.size();
            for (size_t i = 0; i < kept.size(); ++i) {
                p.steps.push_back({kept[i].start, kept[i].end,
                                   own ? kept[i].name.number : static_cast<std::int64_t>(i)});
                p.step_ranges.insert({kept[i].start, kept[i].end});
            }
        }
    }
    void write_steps() {
        if (!nvtx_usable_) return;
        // The step events themselves are written with the other NVTX ranges (read_nvtx).
        for (auto& [gpid, p] : procs_)
            if (!p.steps.empty()) lane(p, lanes::kSteps, lanes::name(lanes::kSteps));
    }

    // The launch row per (process, correlationId) (see nsys.h), computed once into a temporary
    // table of this connection (the export itself is read-only) with a unique index on the key:
    // the runtime import and every device table's join read it, and at most one launch can match.
    void make_launch_table() {
        const std::string order = has(kRuntime, "eventClass")
                                      ? "(r.eventClass IN (" + std::to_string(kClassRuntime) +
                                            ", " + std::to_string(kClassDriver) + ")) DESC, "
                                      : std::string();
        db_.exec(
            "CREATE TEMP TABLE ss_launch AS SELECT start, end, globalTid, correlationId, nameId, " +
            process_sql("globalTid") +
            " AS gpid FROM (SELECT r.start, r.end, r.globalTid, r.correlationId, r.nameId, "
            "ROW_NUMBER() OVER (PARTITION BY " +
            process_sql("r.globalTid") + ", r.correlationId ORDER BY " + order +
            "r.start, r.end DESC) AS pick FROM CUPTI_ACTIVITY_KIND_RUNTIME r "
            "WHERE r.correlationId IS NOT NULL) WHERE pick = 1");
        db_.exec("CREATE UNIQUE INDEX temp.ss_launch_key ON ss_launch (correlationId, gpid)");
    }
    bool runtime_usable_ = false;

    void read_runtime() {
        runtime_usable_ = usable(kRuntime, {"start", "end", "globalTid", "correlationId", "nameId"},
                                 "CUDA API calls");
        if (!runtime_usable_) return;
        make_launch_table();
        std::unordered_map<std::int64_t, StringId> names;
        std::int64_t read = 0, orphans = 0;
        // The launches, and the calls without a correlation id (nothing to count twice).
        Stmt st = db_.prepare(
            "SELECT start, end, globalTid, correlationId, nameId FROM ss_launch "
            "UNION ALL SELECT start, end, globalTid, correlationId, nameId FROM "
            "CUPTI_ACTIVITY_KIND_RUNTIME WHERE correlationId IS NULL");
        while (st.step()) {
            tick();
            ++read;
            Process* p = proc(st, 2, true);
            if (!p) {
                ++orphans;
                continue;
            }
            lane(*p, lanes::kCudaApi, "CUDA API");
            const std::int64_t name_id = st.col_int(4);
            auto n = names.find(name_id);
            if (n == names.end())
                n = names.emplace(name_id, w_.intern(api_name(text(name_id)))).first;
            Event e;
            e.run = ctx_.run;
            e.rank = p->rank;
            e.lane = lanes::kCudaApi;
            e.kind = EventKind::HostRange;
            e.name = n->second;
            e.start_ns = st.col_int(0);
            e.end_ns = st.col_int(1);
            e.correlation = st.col_int_or(3, kNone);
            e.step = p->step_at(e.start_ns);
            add(e);
        }
        const std::int64_t total = count(kRuntime);
        if (total > read)
            skip(std::to_string(total - read) + " rows of " + kRuntime +
                 " repeat a launch's correlationId (nsys's CUDA backtrace rows, eventClass 67): "
                 "imported once, as the launch");
        if (orphans > 0)
            skip(std::to_string(orphans) + " CUDA API rows without a known process not imported");
    }

    // The join of a device table to its launch: "LEFT JOIN (launch) l ON ..." and the launch's
    // start as a column, or nothing when there is no usable runtime table.
    std::string launch_join(const std::string& table) const {
        if (!runtime_usable_ || !has(table, "correlationId")) return std::string();
        // Correlation ids are per process: a row joins the launch of its own process (a row
        // without a process id, that of the only process). At most one launch matches a row.
        const std::string fallback =
            procs_.size() == 1 ? std::to_string(procs_.begin()->first) : std::string("-1");
        return " LEFT JOIN ss_launch l ON l.correlationId = t.correlationId AND l.gpid = IFNULL(" +
               col(table, "globalPid") + ", " + fallback + ")";
    }
    std::string launch_start(const std::string& table) const {
        return launch_join(table).empty() ? "NULL" : "l.start";
    }

    Event device_event(const Stmt& st, Process& p, std::int32_t lane_id, EventKind kind) {
        // Columns: 0 start, 1 end, 2 globalPid, 3 streamId, 4 correlationId, 5 launch start.
        Event e;
        e.run = ctx_.run;
        e.rank = p.rank;
        e.lane = lane_id;
        e.kind = kind;
        e.start_ns = st.col_int(0);
        e.end_ns = st.col_int(1);
        e.correlation = st.col_int_or(4, kNone);
        e.step = p.step_at(st.col_null(5) ? e.start_ns : st.col_int(5));
        return e;
    }
    std::string device_columns(const std::string& table) const {
        return "t.start, t.end, " + col(table, "globalPid") + ", t.streamId, " +
               col(table, "correlationId") + ", " + launch_start(table);
    }
    void report_orphans(std::int64_t n, const char* what) {
        if (n > 0)
            skip(std::to_string(n) + " " + what +
                 " without a known process or with an invalid stream id not imported");
    }

    void read_kernels() {
        if (!usable(kKernel, {"start", "end", "streamId"}, "kernels")) return;
        std::string name_col;
        for (const char* c : {"demangledName", "shortName", "mangledName"})
            if (has(kKernel, c)) {
                name_col = std::string("t.") + c;
                break;
            }
        if (name_col.empty()) {
            unknown_.push_back(std::string("table ") + kKernel +
                               " has no name column (demangledName, shortName)");
            skip(unknown_.back() + ": " + std::to_string(count(kKernel)) + " kernels not imported");
            return;
        }
        struct Name {
            StringId id;
            std::optional<Collective> nccl;
        };
        std::unordered_map<std::int64_t, Name> names;  // by demangled (or short) name id
        std::unordered_map<std::int64_t, std::optional<Collective>> short_nccl;
        Stmt st = db_.prepare("SELECT " + device_columns(kKernel) + ", " + name_col + ", " +
                              col(kKernel, "shortName") + " FROM " + kKernel + " t" +
                              launch_join(kKernel));
        std::int64_t orphans = 0;
        while (st.step()) {
            tick();
            Process* p = proc(st, 2, false);
            const std::int32_t l = p ? stream_lane(*p, st.col_int(3)) : -1;
            if (l < 0) {
                ++orphans;
                continue;
            }
            const std::int64_t name_id = st.col_int(6);
            auto n = names.find(name_id);
            if (n == names.end()) {
                const std::string& full = text(name_id);
                Name v{w_.intern(full), nccl_kernel_collective(full)};
                n = names.emplace(name_id, v).first;
            }
            std::optional<Collective> nccl = n->second.nccl;
            if (!nccl && !st.col_null(7)) {  // the short name says it when a demangled one does not
                const std::int64_t sid = st.col_int(7);
                auto s = short_nccl.find(sid);
                if (s == short_nccl.end())
                    s = short_nccl.emplace(sid, nccl_kernel_collective(text(sid))).first;
                nccl = s->second;
            }
            Event e = device_event(st, *p, l, nccl ? EventKind::Comm : EventKind::Kernel);
            e.name = n->second.id;
            if (nccl) e.collective = *nccl;
            add(e);
        }
        report_orphans(orphans, "kernels");
    }

    void read_copies(const char* table) {
        const bool memcpy = std::string_view(table) == kMemcpy;
        if (memcpy ? !usable(table, {"start", "end", "streamId", "bytes", "copyKind"}, "memcpys")
                   : !usable(table, {"start", "end", "streamId", "bytes"}, "memsets"))
            return;
        Stmt st = db_.prepare("SELECT " + device_columns(table) + ", t.bytes, " +
                              (memcpy ? "t.copyKind" : "NULL") + " FROM " + table + " t" +
                              launch_join(table));
        std::map<std::int64_t, StringId> names;
        std::int64_t orphans = 0;
        while (st.step()) {
            tick();
            Process* p = proc(st, 2, false);
            const std::int32_t l = p ? stream_lane(*p, st.col_int(3)) : -1;
            if (l < 0) {
                ++orphans;
                continue;
            }
            Event e = device_event(st, *p, l, memcpy ? EventKind::Memcpy : EventKind::Memset);
            const std::int64_t kind = st.col_int_or(7, 0);
            auto n = names.find(kind);
            if (n == names.end())
                n = names.emplace(kind, w_.intern(memcpy ? memcpy_kind_name(kind) : "memset")).first;
            e.name = n->second;
            e.bytes = st.col_int_or(6, kNone);
            add(e);
        }
        report_orphans(orphans, memcpy ? "memcpys" : "memsets");
    }

    void read_syncs() {
        if (!usable(kSync, {"start", "end", "streamId", "syncType"}, "synchronisations")) return;
        Stmt st = db_.prepare("SELECT " + device_columns(kSync) + ", t.syncType FROM " + kSync +
                              " t" + launch_join(kSync));
        std::int64_t orphans = 0;
        while (st.step()) {
            tick();
            Process* p = proc(st, 2, false);
            if (!p) {
                ++orphans;
                continue;
            }
            // A context synchronisation (or CUPTI's invalid stream, -1 / 0xFFFFFFFF) belongs to
            // no stream: it goes to the CUDA API lane, as the CUPTI collector does.
            const std::int64_t stream = st.col_int(3);
            const std::int64_t type = st.col_int(6);
            std::int32_t l =
                type == 4 || stream < 0 || stream >= 0xFFFFFFFFLL ? -1 : stream_lane(*p, stream);
            if (l < 0) {
                l = lanes::kCudaApi;
                lane(*p, l, "CUDA API");
            }
            Event e = device_event(st, *p, l, EventKind::Sync);
            e.name = w_.intern(sync_type_name(type));
            add(e);
        }
        report_orphans(orphans, "synchronisations");
    }

    // Fields of an NCCL range's JSON payload, when it has one.
    static void nccl_payload(const std::string& json, Event& e) {
        const auto j = nlohmann::json::parse(json, nullptr, false);
        if (!j.is_object()) return;
        for (const auto& [key, value] : j.items()) {
            if (!value.is_number_integer() && !value.is_number_unsigned()) continue;
            const std::string k = lower(key);
            const auto v = value.get<std::int64_t>();
            if (k.find("size") != std::string::npos &&
                (k.find("message") != std::string::npos || k.find("byte") != std::string::npos))
                e.bytes = v;
            else if (k.find("peer") != std::string::npos)
                e.peer = v;
            else if ((k.find("comm") != std::string::npos && k.find("size") != std::string::npos) ||
                     k == "nranks")
                e.group_size = v;
        }
    }

    void read_nvtx() {
        if (!nvtx_usable_) return;
        std::unordered_map<std::string, StringId> names;
        std::int64_t orphans = 0;
        Stmt st = db_.prepare(nvtx_select());
        while (st.step()) {
            tick();
            Process* p = proc(st, 2, true);
            if (!p) {
                ++orphans;
                continue;
            }
            const std::string name = nvtx_text(st, 3, 4);
            Event e;
            e.run = ctx_.run;
            e.rank = p->rank;
            e.start_ns = st.col_int(0);
            e.end_ns = st.col_int(1);
            auto n = names.find(name);
            if (n == names.end())
                n = names.emplace(name, w_.intern(name.empty() ? "(unnamed NVTX range)" : name))
                        .first;
            e.name = n->second;
            const auto sn = step_name(name);
            if (sn && sn->profiler == p->profiler_steps &&
                p->step_ranges.erase({e.start_ns, e.end_ns}) > 0) {
                e.lane = lanes::kSteps;
                e.kind = EventKind::Step;
                e.step = p->step_at(e.start_ns);
                add(e);
                continue;
            }
            const std::int64_t tid = st.col_null(2) ? 0 : st.col_int(2);
            auto t = p->thread_lanes.find(tid);
            if (t == p->thread_lanes.end()) {
                // From lanes::kHostThreadBase up (never a stream lane).
                std::int32_t l = kFirstThreadLane;
                while (p->lanes.count(l)) ++l;
                t = p->thread_lanes.emplace(tid, l).first;
                std::string lane_name = "thread " + std::to_string(tid & kTidBits);
                if (auto tn = thread_names().find(tid); tn != thread_names().end())
                    lane_name += " (" + tn->second + ")";
                lane(*p, l, lane_name);
            }
            e.lane = t->second;
            e.kind = EventKind::HostRange;
            e.step = p->step_at(e.start_ns);
            if (auto c = call_collective(name)) {
                e.kind = EventKind::Comm;
                e.collective = *c;
                if (starts_with(name, "nccl")) {
                    if (!st.col_null(5))
                        nccl_payload(st.col_text(5), e);
                    else if (!st.col_null(6))
                        nccl_payload(text(st.col_int(6)), e);
                }
            }
            add(e);
        }
        report_orphans(orphans, "NVTX ranges");
        const std::int64_t other = db_.query_int(
            "SELECT COUNT(*) FROM NVTX_EVENTS WHERE eventType IN (" + std::to_string(kNvtxPushPop) +
            ", " + std::to_string(kNvtxStartEnd) + ") AND (end IS NULL OR end < start)");
        if (other > 0) skip(std::to_string(other) + " NVTX ranges without an end not imported");
        const std::int64_t marks =
            db_.query_int("SELECT COUNT(*) FROM NVTX_EVENTS WHERE eventType = 34");
        if (marks > 0) skip(std::to_string(marks) + " NVTX marks (instants) not imported");
        // Categories, thread and domain names (33, 39, 75, 76) are names, not events.
        const std::int64_t unknown = db_.query_int(
            "SELECT COUNT(*) FROM NVTX_EVENTS WHERE eventType NOT IN (33, 34, 39, 59, 60, 75, 76)");
        if (unknown > 0)
            skip(std::to_string(unknown) + " NVTX rows of an unknown eventType not imported");
    }

    // Tables of events (a start column: ranges and instants) that this reader does not read: CPU
    // sampling and scheduling, OS runtime, cuDNN/cuBLAS, CUDA graphs, nsys's MPI/UCX tables,
    // kinds of newer versions.
    void report_unread_tables() {
        static const std::set<std::string> read = {kKernel,  kMemcpy, kMemset,
                                                   kRuntime, kSync,   kNvtx};
        std::vector<std::string> names;
        {
            Stmt st =
                db_.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
            while (st.step()) names.push_back(st.col_text(0));
        }
        Stmt cols = db_.prepare("SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = 'start'");
        for (const std::string& t : names) {
            if (read.count(t)) continue;
            cols.bind(1, t);
            const bool events = cols.step() && cols.col_int(0) == 1;
            cols.reset();
            if (!events || t.find('"') != std::string::npos) continue;
            const std::int64_t rows = count(t);
            if (rows > 0) skip("table " + t + ": " + std::to_string(rows) + " rows not imported");
        }
    }

    std::map<std::int64_t, std::string> thread_names_;
    bool thread_names_read_ = false;
    const std::map<std::int64_t, std::string>& thread_names() {
        if (thread_names_read_) return thread_names_;
        thread_names_read_ = true;
        if (has("ThreadNames", "globalTid") && has("ThreadNames", "nameId")) {
            Stmt st = db_.prepare(
                "SELECT globalTid, nameId FROM ThreadNames WHERE globalTid IS "
                "NOT NULL AND nameId IS NOT NULL");
            while (st.step()) thread_names_[st.col_int(0)] = text(st.col_int(1));
        }
        return thread_names_;
    }
};

}  // namespace

void read_nsys(ReaderContext& ctx) {
    if (!ctx.writer) throw ImportError("read_nsys: no writer for '" + ctx.file + "'");
    NsysReader reader(ctx);
    try {
        reader.run();
    } catch (const TraceError& e) {
        if (reader.cancelled()) throw ImportError("cancelled");  // a statement interrupted by it
        throw ImportError("'" + ctx.file + "' (Nsight Systems export): " + e.what());
    }
}

}  // namespace ss::traces::import

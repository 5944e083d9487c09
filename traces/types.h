// Value types of the trace store. Times are integer nanoseconds; sizes are bytes.
// traces/SCHEMA.md documents the tables these map to, column by column.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ss::traces {

// Strong integer ids: a RunId is not a StudyId (they cost nothing and stop mix-ups).
template <typename Tag>
struct Id {
    std::int64_t value = -1;
    constexpr Id() = default;
    constexpr explicit Id(std::int64_t v) : value(v) {}
    constexpr bool valid() const { return value >= 0; }
    constexpr auto operator<=>(const Id&) const = default;
};
using RunId = Id<struct RunTag>;
using StudyId = Id<struct StudyTag>;
using StringId = Id<struct StringTag>;

// What an event is. Stored as its integer; the names are stable (SCHEMA.md).
enum class EventKind : int {
    Kernel = 0,      // a compute kernel (CPU loop, BLAS call or GPU kernel)
    Comm = 1,        // a communication operation (collective or point-to-point)
    Memcpy = 2,      // a memory copy (host<->device, device<->device)
    Memset = 3,      // a device memset
    HostRange = 4,   // host instrumentation range (data loading, optimizer, other host work)
    Step = 5,        // one training step
    Phase = 6,       // forward / backward / optimizer phase of a step or micro-batch
    MicroBatch = 7,  // one micro-batch on one pipeline stage
    Sync = 8,        // a synchronisation (device or stream synchronise, event wait)
};
inline constexpr int kEventKindCount = 9;
std::string_view to_string(EventKind k);
std::optional<EventKind> event_kind_from_string(std::string_view s);

enum class Collective : int {
    None = 0,
    AllReduce = 1,
    ReduceScatter = 2,
    AllGather = 3,
    Broadcast = 4,
    Reduce = 5,
    AllToAll = 6,
    Send = 7,
    Recv = 8,
    Barrier = 9,
};
inline constexpr int kCollectiveCount = 10;
std::string_view to_string(Collective c);
std::optional<Collective> collective_from_string(std::string_view s);

enum class GroupKind : int { None = 0, World = 1, DP = 2, TP = 3, PP = 4, PS = 5 };  // PS: parameter-server push/pull
inline constexpr int kGroupKindCount = 6;
std::string_view to_string(GroupKind g);
std::optional<GroupKind> group_kind_from_string(std::string_view s);

enum class RunStatus : int { Running = 0, Completed = 1, Failed = 2, Cancelled = 3 };
std::string_view to_string(RunStatus s);
std::optional<RunStatus> run_status_from_string(std::string_view s);

// Absent optional integer fields (stored as SQL NULL).
inline constexpr std::int64_t kNone = -1;

// One recorded operation. `name` is an interned string of the file it belongs to.
struct Event {
    RunId run;
    std::int32_t rank = 0;
    std::int32_t lane = 0;         // lane within the rank (see Lane): compute, comm, a CUDA stream, ...
    EventKind kind = EventKind::Kernel;
    StringId name;
    std::int64_t start_ns = 0;     // on the run's common clock after merge (rank 0's clock)
    std::int64_t end_ns = 0;
    std::int64_t step = kNone;
    std::int64_t micro_batch = kNone;
    std::int64_t layer = kNone;
    std::int64_t bytes = kNone;    // payload bytes of this rank (comm, memcpy, memset)
    double flops = -1.0;           // floating-point operations when known, else < 0
    Collective collective = Collective::None;
    GroupKind group_kind = GroupKind::None;
    std::int64_t group_id = kNone;    // which group of that kind (its lowest world rank)
    std::int64_t group_size = kNone;
    std::int64_t peer = kNone;        // world rank of the peer for send/recv
    std::int64_t seq = kNone;         // per-group sequence (per (group, peer, direction) for p2p)
    std::int64_t correlation = kNone; // CUPTI correlation id linking a runtime call to its kernel

    std::int64_t duration_ns() const { return end_ns - start_ns; }
    friend bool operator==(const Event&, const Event&) = default;
};

struct RunInfo {
    RunId id;
    std::string name;
    std::string spec_json;   // the experiment spec as given (JSON text)
    std::string model;       // e.g. "gpt-tiny", "mlp"
    std::string backend;     // "cpu" or "cuda"
    std::int32_t world_size = 1;
    std::int32_t dp = 1, tp = 1, pp = 1;
    std::int32_t micro_batches = 1;
    std::string schedule;    // "gpipe", "1f1b", or empty
    std::vector<std::string> hosts;
    bool oversubscribed = false;  // more ranks than cores: timings are contended
    std::int64_t start_ns = 0;    // common clock
    std::int64_t end_ns = 0;
    std::int64_t wall_start_unix_ns = 0;  // wall-clock time the run started (for display)
    RunStatus status = RunStatus::Running;
    std::string failure_reason;
    std::int64_t event_count = 0;  // maintained by the writer; not recomputed on open
    // Where an imported run came from (schema version 3; all empty for ScaleScope's own runs):
    // the tool ("PyTorch profiler (Kineto)", "Nsight Systems"), its version as the file states it,
    // and the source file(s) (absolute paths, several joined by "\n" for one file per rank).
    std::string source_tool;
    std::string source_version;
    std::string source_file;
    bool imported() const { return !source_tool.empty(); }
    friend bool operator==(const RunInfo&, const RunInfo&) = default;
};

struct RankInfo {
    RunId run;
    std::int32_t rank = 0;
    std::string host;
    std::int64_t pid = 0;
    std::string device;            // "cpu" or "cuda:N (<name>)"
    std::int32_t dp_coord = 0, tp_coord = 0, pp_coord = 0;
    // Rank clock minus rank-0 clock, measured at clock_ref_ns (on this rank's clock), plus linear
    // drift in parts per billion: offset(t) = clock_offset_ns + drift_ppb * 1e-9 * (t - clock_ref_ns).
    std::int64_t clock_offset_ns = 0;
    std::int64_t clock_ref_ns = 0;
    double clock_drift_ppb = 0.0;
    std::int64_t clock_rtt_ns = 0;  // round trip of the exchange the offset came from (its error bound)
    bool clock_corrected = false;   // true once merge applied the correction to this rank's events
    friend bool operator==(const RankInfo&, const RankInfo&) = default;
};

// A row in a rank's timeline.
struct Lane {
    RunId run;
    std::int32_t rank = 0;
    std::int32_t lane = 0;
    std::string name;            // "compute", "comm", "steps", "stream 7", ...
    std::int64_t event_count = 0;
    std::int64_t max_duration_ns = 0;  // longest event: bounds the window query's index range
    std::int64_t min_start_ns = 0;
    std::int64_t max_end_ns = 0;
    friend bool operator==(const Lane&, const Lane&) = default;
};

// Stored summary of one group of events (per kernel name, per collective), computed at merge.
struct Aggregate {
    RunId run;
    EventKind kind = EventKind::Kernel;
    std::string name;
    Collective collective = Collective::None;
    GroupKind group_kind = GroupKind::None;
    std::int64_t count = 0;
    std::int64_t total_ns = 0;
    double mean_ns = 0;
    double median_ns = 0;   // mean of the two middle values for an even count
    std::int64_t p95_ns = 0;  // nearest rank: the ceil(0.95 n)-th smallest
    std::int64_t min_ns = 0;
    std::int64_t max_ns = 0;
    std::int64_t bytes = 0;   // sum of bytes over the group (0 when not applicable)
    friend bool operator==(const Aggregate&, const Aggregate&) = default;
};

struct Metric {
    RunId run;
    std::int32_t rank = 0;
    std::int64_t step = kNone;
    std::int64_t time_ns = 0;
    std::string name;   // "loss", "samples_per_s", "tokens_per_s", "rss_bytes", ...
    double value = 0;
    friend bool operator==(const Metric&, const Metric&) = default;
};

struct StatRow {
    RunId run;
    std::int32_t rank = -1;  // -1: the whole run
    std::string key;         // one of stats_keys.h
    std::int64_t value = 0;
    friend bool operator==(const StatRow&, const StatRow&) = default;
};

struct StudyInfo {
    StudyId id;
    std::string name;
    std::string variable;   // the swept variable(s), e.g. "parallel.dp"
    std::string scaling;    // "strong" or "weak"
    friend bool operator==(const StudyInfo&, const StudyInfo&) = default;
};

struct StudyRun {
    StudyId study;
    RunId run;
    std::string value;       // the swept value(s) for this point, as text ("2", "dp=2,tp=2")
    std::int32_t p = 1;      // the process count of this point
    std::int32_t repeat = 0;
    friend bool operator==(const StudyRun&, const StudyRun&) = default;
};

}  // namespace ss::traces

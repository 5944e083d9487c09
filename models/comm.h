// The communication layer of the training ranks (DESIGN.md, "Backends": one Comm interface, MPI on
// CPU buffers today, NCCL on GPU buffers later).
//
//   Comm        the front every model and trainer calls. Each call names its group (world, dp, tp,
//               pp), its element count (recorded as bytes) and, for point-to-point, the peer's
//               index inside the group. It keeps one sequence number per group and invokes the
//               CommObserver (the profiler's seam) around every call.
//   Transport   what moves the bytes: MpiTransport (MPI_Comm_split groups, MPI_ERRORS_RETURN,
//               every call checked) or LocalTransport (a single process: every group has one rank).
//
// Reductions are sums. Non-blocking calls return a CommRequest; its wait() completes the call and
// fires the observer's end callback (the begin callback fires when the call is posted).
//
// Progress of non-blocking collectives over MPI (CommProgress): Open MPI 4 has no asynchronous
// progress, so an MPI_Iallreduce moves data only inside MPI calls of its rank. In Thread mode (the
// default) every non-blocking collective is run by a communication thread of its group, as the
// same blocking call the blocking path makes (same algorithm, bit-identical sums), on a duplicate
// of the group's communicator; the job must provide MPI_THREAD_MULTIPLE. In Poll mode the call is
// an MPI_I* collective, advanced by CommRequest::test() at the caller's progress points (the
// trainer's: each time backward completes a block).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "models/plan/layout.h"

namespace ss::models {

enum class GroupKind : std::uint8_t { World = 0, Dp = 1, Tp = 2, Pp = 3 };
inline constexpr int kGroupKinds = 4;
const char* to_string(GroupKind g);

enum class CommOp : std::uint8_t {
    AllReduce,
    ReduceScatter,
    AllGather,
    Broadcast,
    Send,
    Recv,
    Barrier,
};
inline constexpr int kCommOps = 7;
const char* to_string(CommOp op);

enum class DType : std::uint8_t { F32, F64 };
std::size_t dtype_size(DType t);

// One communication call as the profiler sees it. Plain value.
struct CommRecord {
    CommOp op = CommOp::Barrier;
    GroupKind group = GroupKind::World;
    int group_size = 1;
    int group_rank = 0;
    std::size_t bytes = 0;  // payload of this rank: the buffer reduced / gathered / sent / received
    int peer = -1;          // p2p: the peer's index in the group; broadcast: the root; else -1
    std::uint64_t seq = 0;  // per-group sequence number, 0-based, counts every call on the group
    bool blocking = true;   // false for calls that returned a CommRequest
    // Non-blocking calls whose transport knows when the call really completed (Thread progress):
    // that time on profiler::now_ns()'s clock, set when the request is completed; else -1 (the
    // call then completes when test() or wait() finds it done).
    std::int64_t completed_ns = -1;
};

// How non-blocking collectives progress over MPI (see the top of this file).
enum class CommProgress : std::uint8_t { Thread, Poll };
const char* to_string(CommProgress p);  // "thread" | "poll"
// SCALESCOPE_COMM_PROGRESS = "thread" (default when unset or empty) | "poll". Throws
// std::invalid_argument naming the variable for any other value.
CommProgress comm_progress_from_env();

// The profiler's seam: set one on a Comm and it sees every call. on_begin runs before the call is
// issued, on_end after it completed (for non-blocking calls: when its request was waited on).
class CommObserver {
public:
    virtual ~CommObserver() = default;
    virtual void on_begin(const CommRecord& record) = 0;
    virtual void on_end(const CommRecord& record) = 0;
};

// Transport-specific state of one outstanding non-blocking call.
class PendingOp {
public:
    virtual ~PendingOp() = default;
    virtual bool test() = 0;  // true once complete (drives progress)
    virtual void wait() = 0;
    // Once complete: when the call completed (profiler::now_ns() clock); -1 when unknown.
    virtual std::int64_t completed_ns() const { return -1; }
};

class Comm;

// Move-only handle of a non-blocking call. Destroying an unfinished request waits for it (so a
// buffer is never freed under a pending transfer).
class CommRequest {
public:
    CommRequest() = default;
    CommRequest(Comm* comm, CommRecord record, std::unique_ptr<PendingOp> op);
    ~CommRequest();
    CommRequest(CommRequest&& o) noexcept;
    CommRequest& operator=(CommRequest&& o) noexcept;
    CommRequest(const CommRequest&) = delete;
    CommRequest& operator=(const CommRequest&) = delete;

    bool active() const { return op_ != nullptr; }
    bool test();  // completes (and reports) the call if done; true when nothing is pending
    void wait();  // no-op when inactive
    const CommRecord& record() const { return record_; }

private:
    void finish();
    Comm* comm_ = nullptr;
    CommRecord record_;
    std::unique_ptr<PendingOp> op_;
};

// Moves the bytes. Group-relative ranks; counts in elements of `type`.
class Transport {
public:
    virtual ~Transport() = default;
    virtual int size(GroupKind g) const = 0;
    virtual int rank(GroupKind g) const = 0;
    virtual std::string name() const = 0;

    // In place sum over the group: buf (count).
    virtual std::unique_ptr<PendingOp> all_reduce(GroupKind g, void* buf, std::size_t count,
                                                  DType t, bool blocking) = 0;
    // send (sum(counts)) summed over the group; this rank receives its block recv (counts[rank]).
    virtual std::unique_ptr<PendingOp> reduce_scatter(GroupKind g, const void* send, void* recv,
                                                      std::span<const int> counts, DType t,
                                                      bool blocking) = 0;
    // In place: rank i's block buf[displs[i] .. displs[i]+counts[i]) goes to every rank.
    virtual std::unique_ptr<PendingOp> all_gather(GroupKind g, void* buf,
                                                  std::span<const int> counts,
                                                  std::span<const int> displs, DType t,
                                                  bool blocking) = 0;
    virtual void broadcast(GroupKind g, void* buf, std::size_t count, DType t, int root) = 0;
    virtual std::unique_ptr<PendingOp> send(GroupKind g, const void* buf, std::size_t count,
                                            DType t, int peer, int tag, bool blocking) = 0;
    virtual std::unique_ptr<PendingOp> recv(GroupKind g, void* buf, std::size_t count, DType t,
                                            int peer, int tag, bool blocking) = 0;
    virtual void barrier(GroupKind g) = 0;
    // A progress point of the caller (the trainer's: backward finished a tensor) while
    // non-blocking calls may be in flight. Thread progress: when a communication thread has work,
    // the caller yields its core to it (see MpiTransport). Default: nothing.
    virtual void progress() {}
    // Ends the whole job (all ranks) after `message` was printed by the caller.
    [[noreturn]] virtual void abort(int code) = 0;
};

class Comm {
public:
    explicit Comm(std::unique_ptr<Transport> transport);
    ~Comm();
    Comm(const Comm&) = delete;
    Comm& operator=(const Comm&) = delete;

    int size(GroupKind g) const { return size_[static_cast<int>(g)]; }
    int rank(GroupKind g) const { return rank_[static_cast<int>(g)]; }
    int world_rank() const { return rank(GroupKind::World); }
    int world_size() const { return size(GroupKind::World); }
    std::string transport_name() const { return transport_->name(); }

    // The observer is not owned; nullptr removes it.
    void set_observer(CommObserver* observer) { observer_ = observer; }
    CommObserver* observer() const { return observer_; }
    // Calls issued so far on group g (the next call's seq).
    std::uint64_t sequence(GroupKind g) const { return seq_[static_cast<int>(g)]; }

    // ---- collectives (sum) ----
    void all_reduce(GroupKind g, float* buf, std::size_t count);   // buf (count), in place
    void all_reduce(GroupKind g, double* buf, std::size_t count);  // buf (count), in place
    CommRequest iall_reduce(GroupKind g, float* buf, std::size_t count);
    // send (sum counts) -> recv (counts[rank(g)]); counts must outlive a non-blocking call.
    void reduce_scatter(GroupKind g, const float* send, float* recv, std::span<const int> counts);
    CommRequest ireduce_scatter(GroupKind g, const float* send, float* recv,
                                std::span<const int> counts);
    // In place; counts/displs (size(g)) must outlive a non-blocking call.
    void all_gather(GroupKind g, float* buf, std::span<const int> counts,
                    std::span<const int> displs);
    CommRequest iall_gather(GroupKind g, float* buf, std::span<const int> counts,
                            std::span<const int> displs);
    void broadcast(GroupKind g, float* buf, std::size_t count, int root);
    void broadcast(GroupKind g, double* buf, std::size_t count, int root);
    void barrier(GroupKind g);
    // A progress point: call where the caller could pause for communication in flight (the
    // trainer calls it each time backward finishes a tensor). Thread progress: yields the core to
    // a communication thread that has work (on a rank whose threads share one core, the thread
    // would otherwise wait for the scheduler's next time slice, longer than a small model's
    // backward); Poll progress: nothing (test() drives MPI). Not recorded.
    void progress() { transport_->progress(); }

    // ---- point to point (peer = index inside group g) ----
    void send(GroupKind g, const float* buf, std::size_t count, int peer, int tag);
    void recv(GroupKind g, float* buf, std::size_t count, int peer, int tag);
    CommRequest isend(GroupKind g, const float* buf, std::size_t count, int peer, int tag);
    CommRequest irecv(GroupKind g, float* buf, std::size_t count, int peer, int tag);

    // Prints "rank R: <what>" on stderr and ends every rank of the job (MPI_Abort with MPI).
    [[noreturn]] void fatal(std::string_view what);

private:
    friend class CommRequest;
    CommRecord make_record(CommOp op, GroupKind g, std::size_t bytes, int peer, bool blocking);
    void begin(const CommRecord& r) {
        if (observer_) observer_->on_begin(r);
    }
    void end(const CommRecord& r) {
        if (observer_) observer_->on_end(r);
    }

    std::unique_ptr<Transport> transport_;
    CommObserver* observer_ = nullptr;
    std::array<int, kGroupKinds> size_{};
    std::array<int, kGroupKinds> rank_{};
    std::array<std::uint64_t, kGroupKinds> seq_{};
};

// ---- transports ----

// A single process: every group has size 1; collectives are identities (reduce_scatter copies),
// point-to-point has no peer and throws std::logic_error.
std::unique_ptr<Transport> make_local_transport();

// RAII MPI_Init_thread / MPI_Finalize. Sets MPI_ERRORS_RETURN on MPI_COMM_WORLD, so every failing
// MPI call returns its code to SS_MPI_CHECK, which reports and aborts the job. Requests
// MPI_THREAD_MULTIPLE when `progress` is Thread (the communication threads), else
// MPI_THREAD_FUNNELED; thread_level() is what the library provides (MPI_THREAD_*).
class MpiEnvironment {
public:
    MpiEnvironment(int* argc, char*** argv, CommProgress progress);
    // The progress from comm_progress_from_env(); a bad value is reported and exits with status 2.
    MpiEnvironment(int* argc, char*** argv);
    int thread_level() const { return thread_level_; }
    ~MpiEnvironment();
    MpiEnvironment(const MpiEnvironment&) = delete;
    MpiEnvironment& operator=(const MpiEnvironment&) = delete;
    int world_rank() const { return rank_; }
    int world_size() const { return size_; }
    // Prints "rank R: <what>" on stderr and calls MPI_Abort(MPI_COMM_WORLD, code).
    [[noreturn]] static void abort_job(std::string_view what, int code = 1);

private:
    int rank_ = 0;
    int size_ = 1;
    int thread_level_ = 0;
};

// MPI groups for `layout` over MPI_COMM_WORLD (MPI must be initialised; world size must equal
// layout.world() + servers, else the job is aborted with a message). Splits follow models/layout.h.
// With parameter servers (servers > 0, models/ps.h) the world's first layout.world() ranks are the
// workers: the transport's World group is them only (an MPI_Comm_split of MPI_COMM_WORLD whose
// other half the servers make with ps_server_split()).
// Thread progress needs MPI_THREAD_MULTIPLE: with less, the transport uses Poll and says so once
// on stderr (rank 0).
std::unique_ptr<Transport> make_mpi_transport(const Layout& layout,
                                              CommProgress progress = comm_progress_from_env(),
                                              int servers = 0);

namespace detail {
// Checks an MPI return code. On failure: "rank R: MPI call `<call>` failed at <file>:<line>:
// <MPI error string>" on stderr, then MPI_Abort(MPI_COMM_WORLD, rc). Never returns then.
void check_mpi(int rc, const char* call, const char* file, int line);
}  // namespace detail

}  // namespace ss::models

// Wrap every MPI call: SS_MPI_CHECK(MPI_Allreduce(...));
#define SS_MPI_CHECK(call) ::ss::models::detail::check_mpi((call), #call, __FILE__, __LINE__)

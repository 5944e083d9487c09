#include "models/comm.h"

#include <mpi.h>
#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "profiler/clock.h"

namespace ss::models {

const char* to_string(GroupKind g) {
    switch (g) {
        case GroupKind::World: return "world";
        case GroupKind::Dp: return "dp";
        case GroupKind::Tp: return "tp";
        case GroupKind::Pp: return "pp";
    }
    return "?";
}

const char* to_string(CommOp op) {
    switch (op) {
        case CommOp::AllReduce: return "all_reduce";
        case CommOp::ReduceScatter: return "reduce_scatter";
        case CommOp::AllGather: return "all_gather";
        case CommOp::Broadcast: return "broadcast";
        case CommOp::Send: return "send";
        case CommOp::Recv: return "recv";
        case CommOp::Barrier: return "barrier";
    }
    return "?";
}

std::size_t dtype_size(DType t) { return t == DType::F32 ? sizeof(float) : sizeof(double); }

const char* to_string(CommProgress p) { return p == CommProgress::Thread ? "thread" : "poll"; }

CommProgress comm_progress_from_env() {
    const char* v = std::getenv("SCALESCOPE_COMM_PROGRESS");
    if (v == nullptr || *v == '\0' || std::strcmp(v, "thread") == 0) return CommProgress::Thread;
    if (std::strcmp(v, "poll") == 0) return CommProgress::Poll;
    throw std::invalid_argument(std::string("SCALESCOPE_COMM_PROGRESS=") + v +
                                " is not one of: thread, poll");
}

// ---------------------------------------------------------------------------------------------
// CommRequest
// ---------------------------------------------------------------------------------------------

CommRequest::CommRequest(Comm* comm, CommRecord record, std::unique_ptr<PendingOp> op)
    : comm_(comm), record_(record), op_(std::move(op)) {}

CommRequest::~CommRequest() {
    if (op_) wait();
}

CommRequest::CommRequest(CommRequest&& o) noexcept
    : comm_(std::exchange(o.comm_, nullptr)), record_(o.record_), op_(std::move(o.op_)) {}

CommRequest& CommRequest::operator=(CommRequest&& o) noexcept {
    if (this != &o) {
        if (op_) wait();
        comm_ = std::exchange(o.comm_, nullptr);
        record_ = o.record_;
        op_ = std::move(o.op_);
    }
    return *this;
}

void CommRequest::finish() {
    record_.completed_ns = op_->completed_ns();
    op_.reset();
    if (comm_) comm_->end(record_);
}

bool CommRequest::test() {
    if (!op_) return true;
    if (!op_->test()) return false;
    finish();
    return true;
}

void CommRequest::wait() {
    if (!op_) return;
    op_->wait();
    finish();
}

// ---------------------------------------------------------------------------------------------
// Comm
// ---------------------------------------------------------------------------------------------

Comm::Comm(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {
    for (int g = 0; g < kGroupKinds; ++g) {
        size_[g] = transport_->size(static_cast<GroupKind>(g));
        rank_[g] = transport_->rank(static_cast<GroupKind>(g));
    }
}

Comm::~Comm() = default;

CommRecord Comm::make_record(CommOp op, GroupKind g, std::size_t bytes, int peer, bool blocking) {
    CommRecord r;
    r.op = op;
    r.group = g;
    r.group_size = size(g);
    r.group_rank = rank(g);
    r.bytes = bytes;
    r.peer = peer;
    r.seq = seq_[static_cast<int>(g)]++;
    r.blocking = blocking;
    return r;
}

namespace {
std::size_t sum_counts(std::span<const int> counts) {
    return static_cast<std::size_t>(std::accumulate(counts.begin(), counts.end(), 0LL));
}
}  // namespace

void Comm::all_reduce(GroupKind g, float* buf, std::size_t count) {
    const CommRecord r = make_record(CommOp::AllReduce, g, count * sizeof(float), -1, true);
    begin(r);
    transport_->all_reduce(g, buf, count, DType::F32, true);
    end(r);
}

void Comm::all_reduce(GroupKind g, double* buf, std::size_t count) {
    const CommRecord r = make_record(CommOp::AllReduce, g, count * sizeof(double), -1, true);
    begin(r);
    transport_->all_reduce(g, buf, count, DType::F64, true);
    end(r);
}

CommRequest Comm::iall_reduce(GroupKind g, float* buf, std::size_t count) {
    const CommRecord r = make_record(CommOp::AllReduce, g, count * sizeof(float), -1, false);
    begin(r);
    return CommRequest(this, r, transport_->all_reduce(g, buf, count, DType::F32, false));
}

void Comm::reduce_scatter(GroupKind g, const float* send, float* recv,
                          std::span<const int> counts) {
    const CommRecord r =
        make_record(CommOp::ReduceScatter, g, sum_counts(counts) * sizeof(float), -1, true);
    begin(r);
    transport_->reduce_scatter(g, send, recv, counts, DType::F32, true);
    end(r);
}

CommRequest Comm::ireduce_scatter(GroupKind g, const float* send, float* recv,
                                  std::span<const int> counts) {
    const CommRecord r =
        make_record(CommOp::ReduceScatter, g, sum_counts(counts) * sizeof(float), -1, false);
    begin(r);
    return CommRequest(this, r, transport_->reduce_scatter(g, send, recv, counts, DType::F32, false));
}

void Comm::all_gather(GroupKind g, float* buf, std::span<const int> counts,
                      std::span<const int> displs) {
    const CommRecord r =
        make_record(CommOp::AllGather, g, sum_counts(counts) * sizeof(float), -1, true);
    begin(r);
    transport_->all_gather(g, buf, counts, displs, DType::F32, true);
    end(r);
}

CommRequest Comm::iall_gather(GroupKind g, float* buf, std::span<const int> counts,
                              std::span<const int> displs) {
    const CommRecord r =
        make_record(CommOp::AllGather, g, sum_counts(counts) * sizeof(float), -1, false);
    begin(r);
    return CommRequest(this, r, transport_->all_gather(g, buf, counts, displs, DType::F32, false));
}

void Comm::broadcast(GroupKind g, float* buf, std::size_t count, int root) {
    const CommRecord r = make_record(CommOp::Broadcast, g, count * sizeof(float), root, true);
    begin(r);
    transport_->broadcast(g, buf, count, DType::F32, root);
    end(r);
}

void Comm::broadcast(GroupKind g, double* buf, std::size_t count, int root) {
    const CommRecord r = make_record(CommOp::Broadcast, g, count * sizeof(double), root, true);
    begin(r);
    transport_->broadcast(g, buf, count, DType::F64, root);
    end(r);
}

void Comm::barrier(GroupKind g) {
    const CommRecord r = make_record(CommOp::Barrier, g, 0, -1, true);
    begin(r);
    transport_->barrier(g);
    end(r);
}

void Comm::send(GroupKind g, const float* buf, std::size_t count, int peer, int tag) {
    const CommRecord r = make_record(CommOp::Send, g, count * sizeof(float), peer, true);
    begin(r);
    transport_->send(g, buf, count, DType::F32, peer, tag, true);
    end(r);
}

void Comm::recv(GroupKind g, float* buf, std::size_t count, int peer, int tag) {
    const CommRecord r = make_record(CommOp::Recv, g, count * sizeof(float), peer, true);
    begin(r);
    transport_->recv(g, buf, count, DType::F32, peer, tag, true);
    end(r);
}

CommRequest Comm::isend(GroupKind g, const float* buf, std::size_t count, int peer, int tag) {
    const CommRecord r = make_record(CommOp::Send, g, count * sizeof(float), peer, false);
    begin(r);
    return CommRequest(this, r, transport_->send(g, buf, count, DType::F32, peer, tag, false));
}

CommRequest Comm::irecv(GroupKind g, float* buf, std::size_t count, int peer, int tag) {
    const CommRecord r = make_record(CommOp::Recv, g, count * sizeof(float), peer, false);
    begin(r);
    return CommRequest(this, r, transport_->recv(g, buf, count, DType::F32, peer, tag, false));
}

void Comm::fatal(std::string_view what) {
    std::fprintf(stderr, "rank %d: %.*s\n", world_rank(), static_cast<int>(what.size()),
                 what.data());
    std::fflush(stderr);
    transport_->abort(1);
    std::exit(1);  // abort() does not return; this tells the compiler
}

// ---------------------------------------------------------------------------------------------
// LocalTransport: one process, every group of size 1.
// ---------------------------------------------------------------------------------------------

namespace {

class DoneOp final : public PendingOp {
public:
    bool test() override { return true; }
    void wait() override {}
};

class LocalTransport final : public Transport {
public:
    int size(GroupKind) const override { return 1; }
    int rank(GroupKind) const override { return 0; }
    std::string name() const override { return "local (1 process)"; }
    std::unique_ptr<PendingOp> all_reduce(GroupKind, void*, std::size_t, DType, bool) override {
        return std::make_unique<DoneOp>();
    }
    std::unique_ptr<PendingOp> reduce_scatter(GroupKind, const void* send, void* recv,
                                              std::span<const int> counts, DType t,
                                              bool) override {
        if (send != recv)
            std::memmove(recv, send, static_cast<std::size_t>(counts[0]) * dtype_size(t));
        return std::make_unique<DoneOp>();
    }
    std::unique_ptr<PendingOp> all_gather(GroupKind, void*, std::span<const int>,
                                          std::span<const int>, DType, bool) override {
        return std::make_unique<DoneOp>();
    }
    void broadcast(GroupKind, void*, std::size_t, DType, int) override {}
    std::unique_ptr<PendingOp> send(GroupKind g, const void*, std::size_t, DType, int peer, int,
                                    bool) override {
        throw std::logic_error(std::string("send to peer ") + std::to_string(peer) + " in " +
                               to_string(g) + " group of a single process");
    }
    std::unique_ptr<PendingOp> recv(GroupKind g, void*, std::size_t, DType, int peer, int,
                                    bool) override {
        throw std::logic_error(std::string("recv from peer ") + std::to_string(peer) + " in " +
                               to_string(g) + " group of a single process");
    }
    void barrier(GroupKind) override {}
    [[noreturn]] void abort(int code) override { std::exit(code); }
};

}  // namespace

std::unique_ptr<Transport> make_local_transport() { return std::make_unique<LocalTransport>(); }

// ---------------------------------------------------------------------------------------------
// MPI
// ---------------------------------------------------------------------------------------------

namespace detail {

void check_mpi(int rc, const char* call, const char* file, int line) {
    if (rc == MPI_SUCCESS) return;
    char err[MPI_MAX_ERROR_STRING] = {};
    int len = 0;
    if (MPI_Error_string(rc, err, &len) != MPI_SUCCESS)
        std::snprintf(err, sizeof err, "MPI error code %d", rc);
    int rank = -1;
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::fprintf(stderr, "rank %d: MPI call `%s` failed at %s:%d: %s\n", rank, call, file, line,
                 err);
    std::fflush(stderr);
    if (initialized) MPI_Abort(MPI_COMM_WORLD, rc);
    std::exit(rc);
}

}  // namespace detail

MpiEnvironment::MpiEnvironment(int* argc, char*** argv, CommProgress progress) {
    const int wanted = progress == CommProgress::Thread ? MPI_THREAD_MULTIPLE : MPI_THREAD_FUNNELED;
    // A blocking MPI call spins until its peers arrive. With communication threads a rank has more
    // threads than its core: a spinning thread would hold the core its own compute thread needs
    // (GPT tiny dp2 on 2 cores shared with other jobs, load 6: median step 56 ms without, 20 ms
    // with; noisy). Open MPI yields when idle where it sees oversubscription itself; ask for it
    // here unless the user set OMPI_MCA_mpi_yield_when_idle.
    if (progress == CommProgress::Thread && setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0) != 0)
        std::fprintf(stderr, "scalescope: setenv(OMPI_MCA_mpi_yield_when_idle) failed at %s:%d\n",
                     __FILE__, __LINE__);
    SS_MPI_CHECK(MPI_Init_thread(argc, argv, wanted, &thread_level_));
    SS_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    SS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    SS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
}

namespace {
CommProgress progress_or_exit() {
    try {
        return comm_progress_from_env();
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "scalescope: %s\n", e.what());
        std::exit(2);
    }
}
}  // namespace

MpiEnvironment::MpiEnvironment(int* argc, char*** argv)
    : MpiEnvironment(argc, argv, progress_or_exit()) {}

MpiEnvironment::~MpiEnvironment() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

void MpiEnvironment::abort_job(std::string_view what, int code) {
    int rank = -1;
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::fprintf(stderr, "rank %d: %.*s\n", rank, static_cast<int>(what.size()), what.data());
    std::fflush(stderr);
    if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
}

namespace {

MPI_Datatype mpi_type(DType t) { return t == DType::F32 ? MPI_FLOAT : MPI_DOUBLE; }

class MpiOp final : public PendingOp {
public:
    MpiOp() = default;
    explicit MpiOp(MPI_Request r) : req_(r) {}
    bool test() override {
        if (req_ == MPI_REQUEST_NULL) return true;
        int flag = 0;
        SS_MPI_CHECK(MPI_Test(&req_, &flag, MPI_STATUS_IGNORE));
        return flag != 0;
    }
    void wait() override {
        if (req_ == MPI_REQUEST_NULL) return;
        SS_MPI_CHECK(MPI_Wait(&req_, MPI_STATUS_IGNORE));
    }
    MPI_Request* get() { return &req_; }

private:
    MPI_Request req_ = MPI_REQUEST_NULL;
};

// One non-blocking collective run by a communication thread: the blocking MPI call, and when it
// returned (profiler::now_ns()). `done` is set (release) after that; end_ns is read only then.
struct ThreadJob {
    std::function<void(MPI_Comm)> call;  // checks its own MPI return codes (SS_MPI_CHECK)
    std::int64_t end_ns = 0;
    std::atomic<bool> done{false};
};

// Runs the jobs posted for one group, in posting order (the order every member posts them in, as
// MPI requires of collectives on one communicator), on `comm`: a duplicate of the group's
// communicator that only this thread uses. Idle, it sleeps on a condition variable. The destructor
// runs the jobs still queued (a peer may be waiting in them) and joins.
class CommThread {
public:
    explicit CommThread(MPI_Comm comm) : comm_(comm), thread_([this] { loop(); }) {}
    ~CommThread() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    CommThread(const CommThread&) = delete;
    CommThread& operator=(const CommThread&) = delete;

    std::shared_ptr<ThreadJob> post(std::function<void(MPI_Comm)> call) {
        auto job = std::make_shared<ThreadJob>();
        job->call = std::move(call);
        pending_.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(job);
        }
        cv_.notify_one();
        return job;
    }
    // Jobs posted and not yet done (queued or running).
    bool busy() const { return pending_.load(std::memory_order_relaxed) > 0; }

private:
    void loop() {
        for (;;) {
            std::shared_ptr<ThreadJob> job;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
                if (queue_.empty()) return;  // stop_ and nothing left
                job = std::move(queue_.front());
                queue_.pop_front();
            }
            job->call(comm_);
            job->end_ns = profiler::now_ns();
            job->call = nullptr;  // drop captured state before the owner sees `done`
            job->done.store(true, std::memory_order_release);
            job->done.notify_all();
            pending_.fetch_sub(1, std::memory_order_relaxed);
        }
    }

    MPI_Comm comm_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<ThreadJob>> queue_;
    std::atomic<int> pending_{0};
    bool stop_ = false;
    std::thread thread_;  // last: started after the members it uses
};

class ThreadOp final : public PendingOp {
public:
    explicit ThreadOp(std::shared_ptr<ThreadJob> job) : job_(std::move(job)) {}
    bool test() override { return job_->done.load(std::memory_order_acquire); }
    void wait() override { job_->done.wait(false, std::memory_order_acquire); }
    std::int64_t completed_ns() const override {
        return job_->done.load(std::memory_order_acquire) ? job_->end_ns : -1;
    }

private:
    std::shared_ptr<ThreadJob> job_;
};

const char* thread_level_name(int level) {
    switch (level) {
        case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
        case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
        case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
        case MPI_THREAD_MULTIPLE: return "MPI_THREAD_MULTIPLE";
    }
    return "an unknown thread level";
}

class MpiTransport final : public Transport {
public:
    MpiTransport(const Layout& layout, CommProgress progress, int servers) : progress_(progress) {
        int world_rank = 0, world_size = 0;
        SS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &world_rank));
        SS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_size));
        if (world_size != layout.world() + servers)
            MpiEnvironment::abort_job(
                "MPI world size " + std::to_string(world_size) + " != dp*tp*pp" +
                (servers > 0 ? "+servers = " + std::to_string(layout.world()) + "+" + std::to_string(servers)
                             : " = " + std::to_string(layout.world())) +
                " (" + to_string(layout) + ")");
        if (world_rank >= layout.world())
            MpiEnvironment::abort_job("rank " + std::to_string(world_rank) +
                                      " is a parameter server, not a training rank (" + to_string(layout) + ")");
        // The workers' world: with servers, the first layout.world() ranks (the servers make the
        // other half of this split, ps_server_split()).
        MPI_Comm base = MPI_COMM_WORLD;
        if (servers > 0) SS_MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 0, world_rank, &workers_));
        if (servers > 0) base = workers_;
        SS_MPI_CHECK(MPI_Comm_dup(base, &comms_[0]));
        const SplitKey keys[3] = {dp_split(world_rank, layout), tp_split(world_rank, layout),
                                  pp_split(world_rank, layout)};
        for (int g = 1; g < kGroupKinds; ++g)
            SS_MPI_CHECK(MPI_Comm_split(base, keys[g - 1].color, keys[g - 1].key, &comms_[g]));
        for (int g = 0; g < kGroupKinds; ++g) {
            SS_MPI_CHECK(MPI_Comm_set_errhandler(comms_[g], MPI_ERRORS_RETURN));
            SS_MPI_CHECK(MPI_Comm_size(comms_[g], &size_[g]));
            SS_MPI_CHECK(MPI_Comm_rank(comms_[g], &rank_[g]));
        }
        if (progress_ == CommProgress::Thread) {
            int level = MPI_THREAD_SINGLE;
            SS_MPI_CHECK(MPI_Query_thread(&level));
            if (level < MPI_THREAD_MULTIPLE) {
                if (world_rank == 0)
                    std::fprintf(stderr,
                                 "scalescope: MPI provides %s, not MPI_THREAD_MULTIPLE: non-blocking "
                                 "collectives progress only inside MPI calls (poll)\n",
                                 thread_level_name(level));
                progress_ = CommProgress::Poll;
            }
        }
        if (progress_ == CommProgress::Thread)
            for (int g = 0; g < kGroupKinds; ++g) {
                // Collective over the group, so made here, in the same order on every rank; the
                // thread itself starts at the group's first non-blocking collective.
                SS_MPI_CHECK(MPI_Comm_dup(comms_[g], &thread_comms_[g]));
                SS_MPI_CHECK(MPI_Comm_set_errhandler(thread_comms_[g], MPI_ERRORS_RETURN));
            }
    }
    ~MpiTransport() override {
        for (auto& t : threads_) t.reset();  // runs what is queued, joins
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (finalized) return;
        for (auto& c : thread_comms_)
            if (c != MPI_COMM_NULL) MPI_Comm_free(&c);
        for (auto& c : comms_)
            if (c != MPI_COMM_NULL) MPI_Comm_free(&c);
        if (workers_ != MPI_COMM_NULL) MPI_Comm_free(&workers_);
    }

    int size(GroupKind g) const override { return size_[static_cast<int>(g)]; }
    int rank(GroupKind g) const override { return rank_[static_cast<int>(g)]; }
    std::string name() const override {
        return progress_ == CommProgress::Thread ? "mpi" : "mpi (poll progress)";
    }

    std::unique_ptr<PendingOp> all_reduce(GroupKind g, void* buf, std::size_t count, DType t,
                                          bool blocking) override {
        if (!blocking && progress_ == CommProgress::Thread) {
            const int n = as_int(count);
            return on_thread(g, [=](MPI_Comm c) {
                SS_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, n, mpi_type(t), MPI_SUM, c));
            });
        }
        auto op = std::make_unique<MpiOp>();
        if (blocking)
            SS_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, as_int(count), mpi_type(t), MPI_SUM,
                                       comm(g)));
        else
            SS_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, buf, as_int(count), mpi_type(t), MPI_SUM,
                                        comm(g), op->get()));
        return op;
    }

    std::unique_ptr<PendingOp> reduce_scatter(GroupKind g, const void* send, void* recv,
                                              std::span<const int> counts, DType t,
                                              bool blocking) override {
        check_span(g, counts.size(), "reduce_scatter counts");
        if (!blocking && progress_ == CommProgress::Thread) {
            const int* cnt = counts.data();
            return on_thread(g, [=](MPI_Comm c) {
                SS_MPI_CHECK(MPI_Reduce_scatter(send, recv, cnt, mpi_type(t), MPI_SUM, c));
            });
        }
        auto op = std::make_unique<MpiOp>();
        if (blocking)
            SS_MPI_CHECK(MPI_Reduce_scatter(send, recv, counts.data(), mpi_type(t), MPI_SUM,
                                            comm(g)));
        else
            SS_MPI_CHECK(MPI_Ireduce_scatter(send, recv, counts.data(), mpi_type(t), MPI_SUM,
                                             comm(g), op->get()));
        return op;
    }

    std::unique_ptr<PendingOp> all_gather(GroupKind g, void* buf, std::span<const int> counts,
                                          std::span<const int> displs, DType t,
                                          bool blocking) override {
        check_span(g, counts.size(), "all_gather counts");
        check_span(g, displs.size(), "all_gather displs");
        if (!blocking && progress_ == CommProgress::Thread) {
            const int* cnt = counts.data();
            const int* dsp = displs.data();
            return on_thread(g, [=](MPI_Comm c) {
                SS_MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, cnt, dsp,
                                            mpi_type(t), c));
            });
        }
        auto op = std::make_unique<MpiOp>();
        if (blocking)
            SS_MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts.data(),
                                        displs.data(), mpi_type(t), comm(g)));
        else
            SS_MPI_CHECK(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts.data(),
                                         displs.data(), mpi_type(t), comm(g), op->get()));
        return op;
    }

    void broadcast(GroupKind g, void* buf, std::size_t count, DType t, int root) override {
        SS_MPI_CHECK(MPI_Bcast(buf, as_int(count), mpi_type(t), root, comm(g)));
    }

    std::unique_ptr<PendingOp> send(GroupKind g, const void* buf, std::size_t count, DType t,
                                    int peer, int tag, bool blocking) override {
        auto op = std::make_unique<MpiOp>();
        if (blocking)
            SS_MPI_CHECK(MPI_Send(buf, as_int(count), mpi_type(t), peer, tag, comm(g)));
        else
            SS_MPI_CHECK(
                MPI_Isend(buf, as_int(count), mpi_type(t), peer, tag, comm(g), op->get()));
        return op;
    }

    std::unique_ptr<PendingOp> recv(GroupKind g, void* buf, std::size_t count, DType t, int peer,
                                    int tag, bool blocking) override {
        auto op = std::make_unique<MpiOp>();
        if (blocking)
            SS_MPI_CHECK(MPI_Recv(buf, as_int(count), mpi_type(t), peer, tag, comm(g),
                                  MPI_STATUS_IGNORE));
        else
            SS_MPI_CHECK(
                MPI_Irecv(buf, as_int(count), mpi_type(t), peer, tag, comm(g), op->get()));
        return op;
    }

    void barrier(GroupKind g) override { SS_MPI_CHECK(MPI_Barrier(comm(g))); }

    // Thread progress: a communication thread that has work gets the core now. Where it shares
    // the caller's core (mpirun binds a rank to one core; more busy threads than cores), it would
    // otherwise run only when the scheduler ends the caller's time slice (milliseconds, longer
    // than a small model's whole backward), so the buckets posted during backward would move
    // only after it. sched_yield lets it post its transfers, take what the peer sent and go back
    // to waiting (Open MPI yields when idle, see MpiEnvironment), a few microseconds; with a core
    // of its own it returns at once. Poll progress: nothing (CommRequest::test() drives MPI).
    void progress() override {
        if (progress_ != CommProgress::Thread) return;
        for (const auto& t : threads_)
            if (t && t->busy()) {
                sched_yield();  // cannot fail on Linux
                return;
            }
    }

    [[noreturn]] void abort(int code) override {
        MPI_Abort(MPI_COMM_WORLD, code);
        std::exit(code);
    }

private:
    MPI_Comm comm(GroupKind g) const { return comms_[static_cast<int>(g)]; }
    std::unique_ptr<PendingOp> on_thread(GroupKind g, std::function<void(MPI_Comm)> call) {
        const int i = static_cast<int>(g);
        if (!threads_[i]) threads_[i] = std::make_unique<CommThread>(thread_comms_[i]);
        return std::make_unique<ThreadOp>(threads_[i]->post(std::move(call)));
    }
    static int as_int(std::size_t count) {
        if (count > static_cast<std::size_t>(INT32_MAX))
            MpiEnvironment::abort_job("message of " + std::to_string(count) +
                                      " elements exceeds the MPI int count limit");
        return static_cast<int>(count);
    }
    void check_span(GroupKind g, std::size_t n, const char* what) const {
        if (n != static_cast<std::size_t>(size(g)))
            MpiEnvironment::abort_job(std::string(what) + " has " + std::to_string(n) +
                                      " entries for a " + to_string(g) + " group of " +
                                      std::to_string(size(g)));
    }

    MPI_Comm workers_ = MPI_COMM_NULL;  // with parameter servers: the training ranks
    std::array<MPI_Comm, kGroupKinds> comms_{MPI_COMM_NULL, MPI_COMM_NULL, MPI_COMM_NULL,
                                             MPI_COMM_NULL};
    std::array<int, kGroupKinds> size_{};
    std::array<int, kGroupKinds> rank_{};
    CommProgress progress_;
    // Thread progress: per group, the communicator of its communication thread and the thread.
    std::array<MPI_Comm, kGroupKinds> thread_comms_{MPI_COMM_NULL, MPI_COMM_NULL, MPI_COMM_NULL,
                                                    MPI_COMM_NULL};
    std::array<std::unique_ptr<CommThread>, kGroupKinds> threads_;
};

}  // namespace

std::unique_ptr<Transport> make_mpi_transport(const Layout& layout, CommProgress progress, int servers) {
    return std::make_unique<MpiTransport>(layout, progress, servers);
}

}  // namespace ss::models

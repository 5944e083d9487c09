#include "models/nccl_transport.h"

#include <stdexcept>

#if defined(SCALESCOPE_HAVE_NCCL)

#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>
#include <vector>

namespace ss::models {

namespace {

// "models/nccl_transport.cpp" rather than the build machine's absolute path.
std::string short_file(const char* file) {
    const std::string f(file);
    const auto pos = f.rfind("models/");
    return pos == std::string::npos ? f : f.substr(pos);
}

[[noreturn]] void fail(const char* call, const char* file, int line, const std::string& detail) {
    throw std::runtime_error(std::string(call) + " failed at " + short_file(file) + ":" +
                             std::to_string(line) + ": " + detail);
}

void check_nccl(ncclResult_t rc, ncclComm_t comm, const char* call, const char* file, int line) {
    if (rc == ncclSuccess) return;
    std::string detail = ncclGetErrorString(rc);
    if (const char* last = ncclGetLastError(comm); last != nullptr && *last != '\0')
        detail += std::string(": ") + last;
    fail(call, file, line, detail);
}

void check_cuda(cudaError_t err, const char* call, const char* file, int line) {
    if (err == cudaSuccess) return;
    (void)cudaGetLastError();  // clear a non-sticky error so that later calls are not blamed
    fail(call, file, line, cudaGetErrorString(err));
}

}  // namespace

}  // namespace ss::models

// Every NCCL call (with the communicator whose last error explains it, or nullptr) and every
// CUDA runtime call: on failure a std::runtime_error names the call, the file and the line.
#define SS_NCCL_CHECK(call, comm) \
    ::ss::models::check_nccl((call), (comm), #call, __FILE__, __LINE__)
#define SS_CUDART_CHECK(call) ::ss::models::check_cuda((call), #call, __FILE__, __LINE__)

namespace ss::models {

namespace {

ncclDataType_t nccl_type(DType t) {
    return t == DType::F32 ? ncclFloat32 : ncclFloat64;
}

// Completion events, reused: an event can be recorded again as soon as the waits on its previous
// record are enqueued (cudaStreamWaitEvent captures the record current at the time of the call).
class EventPool {
public:
    EventPool() = default;
    ~EventPool() {
        for (cudaEvent_t e : free_) (void)cudaEventDestroy(e);
    }
    EventPool(const EventPool&) = delete;
    EventPool& operator=(const EventPool&) = delete;

    cudaEvent_t acquire() {
        if (!free_.empty()) {
            cudaEvent_t e = free_.back();
            free_.pop_back();
            return e;
        }
        free_.reserve(++created_);  // room for every event: release() never allocates (noexcept)
        cudaEvent_t e = nullptr;
        SS_CUDART_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
        return e;
    }
    void release(cudaEvent_t e) noexcept { free_.push_back(e); }

private:
    std::vector<cudaEvent_t> free_;
    std::size_t created_ = 0;
};

// A communicator and the stream its operations run on.
struct Channel {
    ncclComm_t comm = nullptr;
    cudaStream_t stream = nullptr;
};

// One group: collectives on `coll`; point-to-point on p2p[kUp] (messages to a higher index in the
// group) and p2p[kDown] (to a lower index). NCCL matches sends and receives per peer in posting
// order and runs a communicator's operations one after another, so one communicator for both
// directions deadlocks a 1F1B pipeline (stage 0: send a0, send a1, recv g0; stage 1: recv a0,
// send g0, recv a1). With one communicator per direction each carries one ordered stream of
// messages between every pair, as MPI's per-tag matching would.
enum Direction { kUp = 0, kDown = 1 };
struct Group {
    int size = 1;
    int rank = 0;
    bool local = false;  // a group of one rank in a larger world: no communicator
    Channel coll;
    std::array<Channel, 2> p2p{};
};

// A non-blocking call: its completion event on the communication stream.
class NcclOp final : public PendingOp {
public:
    NcclOp(EventPool& pool, cudaStream_t compute, ncclComm_t comm, cudaEvent_t done)
        : pool_(pool), compute_(compute), comm_(comm), done_(done) {}
    ~NcclOp() override {
        if (done_ == nullptr) return;
        // Not waited on (an error path): kernels queued from now on still follow the transfer.
        (void)cudaStreamWaitEvent(compute_, done_, 0);
        pool_.release(done_);
    }
    NcclOp(const NcclOp&) = delete;
    NcclOp& operator=(const NcclOp&) = delete;

    // Complete once the transfer has finished on the device; polls the communicator's
    // asynchronous error state meanwhile (a failed peer surfaces here instead of as a hang).
    bool test() override {
        if (done_ == nullptr) return true;
        const cudaError_t q = cudaEventQuery(done_);
        if (q == cudaErrorNotReady) {
            ncclResult_t async = ncclSuccess;
            SS_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async), comm_);
            if (async != ncclSuccess)
                check_nccl(async, comm_, "NCCL operation (ncclCommGetAsyncError)", __FILE__,
                           __LINE__);
            return false;
        }
        SS_CUDART_CHECK(q);
        finish();
        return true;
    }
    // The backend's stream waits for the transfer; the host does not.
    void wait() override {
        if (done_ == nullptr) return;
        SS_CUDART_CHECK(cudaStreamWaitEvent(compute_, done_, 0));
        finish();
    }

private:
    void finish() { pool_.release(std::exchange(done_, nullptr)); }

    EventPool& pool_;
    cudaStream_t compute_;
    ncclComm_t comm_;
    cudaEvent_t done_;
};

class ReadyOp final : public PendingOp {
public:
    bool test() override { return true; }
    void wait() override {}
};

// ncclGroupStart .. ncclGroupEnd; an exception in between still closes the group (otherwise
// every later NCCL call of this thread would join it).
class NcclGroup {
public:
    explicit NcclGroup(ncclComm_t comm) : comm_(comm) { SS_NCCL_CHECK(ncclGroupStart(), comm_); }
    ~NcclGroup() {
        if (open_) (void)ncclGroupEnd();
    }
    NcclGroup(const NcclGroup&) = delete;
    NcclGroup& operator=(const NcclGroup&) = delete;
    void end() {
        open_ = false;
        SS_NCCL_CHECK(ncclGroupEnd(), comm_);
    }

private:
    ncclComm_t comm_;
    bool open_ = true;
};

class NcclTransport final : public Transport {
public:
    NcclTransport(const Layout& layout, kernels::Backend& backend) : backend_(backend) {
        compute_ = static_cast<cudaStream_t>(backend.native_stream());
        if (compute_ == nullptr)
            throw std::invalid_argument("make_nccl_transport: backend '" + backend.name() +
                                        "' has no CUDA stream; NCCL needs the CUDA backend");
        // Host buffers (loss and norm scalars, broadcast host values) and the group sizes.
        mpi_ = make_mpi_transport(layout);  // aborts the job when the world size differs
        try {
            init(layout);
        } catch (...) {
            release(true);
            throw;
        }
    }

    ~NcclTransport() override {
        // Unwinding after an error: other ranks may never reach their destroy, so abort locally
        // instead of the (intra-node collective) finalize + destroy.
        release(std::uncaught_exceptions() > 0);
    }

    int size(GroupKind g) const override { return groups_[static_cast<int>(g)].size; }
    int rank(GroupKind g) const override { return groups_[static_cast<int>(g)].rank; }
    std::string name() const override { return name_; }

    std::unique_ptr<PendingOp> all_reduce(GroupKind g, void* buf, std::size_t count, DType t,
                                          bool blocking) override {
        if (!device(buf)) return mpi_->all_reduce(g, buf, count, t, blocking);
        const Group& gr = group(g);
        if (gr.local || count == 0) return std::make_unique<ReadyOp>();
        return run(gr.coll, blocking, [&](ncclComm_t c, cudaStream_t s) {
            SS_NCCL_CHECK(ncclAllReduce(buf, buf, count, nccl_type(t), ncclSum, c, s), c);
        });
    }

    std::unique_ptr<PendingOp> reduce_scatter(GroupKind g, const void* send, void* recv,
                                              std::span<const int> counts, DType t,
                                              bool blocking) override {
        const bool send_dev = device(send), recv_dev = device(recv);
        if (!send_dev && !recv_dev) return mpi_->reduce_scatter(g, send, recv, counts, t, blocking);
        if (send_dev != recv_dev)
            throw std::invalid_argument(std::string("reduce_scatter on the ") + to_string(g) +
                                        " group: send and recv must both be device buffers or "
                                        "both host buffers");
        const Group& gr = group(g);
        check_counts(gr, counts.size(), "reduce_scatter counts");
        const std::size_t es = dtype_size(t);
        if (gr.local) {
            if (send != recv && counts[0] > 0)
                SS_CUDART_CHECK(cudaMemcpyAsync(recv, send,
                                                static_cast<std::size_t>(counts[0]) * es,
                                                cudaMemcpyDeviceToDevice, compute_));
            return std::make_unique<ReadyOp>();
        }
        if (std::all_of(counts.begin(), counts.end(), [](int c) { return c == 0; }))
            return std::make_unique<ReadyOp>();
        const bool equal =
            std::all_of(counts.begin(), counts.end(), [&](int c) { return c == counts[0]; });
        return run(gr.coll, blocking, [&](ncclComm_t c, cudaStream_t s) {
            if (equal) {
                SS_NCCL_CHECK(ncclReduceScatter(send, recv, static_cast<std::size_t>(counts[0]),
                                                nccl_type(t), ncclSum, c, s),
                              c);
                return;
            }
            // Uneven blocks (MPI_Reduce_scatter semantics): one reduce per block to its owner,
            // fused into one NCCL operation.
            const auto* base = static_cast<const std::byte*>(send);
            std::size_t offset = 0;
            NcclGroup fused(c);
            for (int i = 0; i < gr.size; ++i) {
                const auto n = static_cast<std::size_t>(counts[static_cast<std::size_t>(i)]);
                if (n > 0)
                    SS_NCCL_CHECK(ncclReduce(base + offset * es, i == gr.rank ? recv : nullptr, n,
                                             nccl_type(t), ncclSum, i, c, s),
                                  c);
                offset += n;
            }
            fused.end();
        });
    }

    std::unique_ptr<PendingOp> all_gather(GroupKind g, void* buf, std::span<const int> counts,
                                          std::span<const int> displs, DType t,
                                          bool blocking) override {
        if (!device(buf)) return mpi_->all_gather(g, buf, counts, displs, t, blocking);
        const Group& gr = group(g);
        check_counts(gr, counts.size(), "all_gather counts");
        check_counts(gr, displs.size(), "all_gather displs");
        if (gr.local || std::all_of(counts.begin(), counts.end(), [](int c) { return c == 0; }))
            return std::make_unique<ReadyOp>();  // in place: the block is there
        const std::size_t es = dtype_size(t);
        auto* base = static_cast<std::byte*>(buf);
        bool regular = true;  // equal blocks, contiguous in rank order: ncclAllGather's layout
        for (std::size_t i = 0; i < counts.size(); ++i)
            regular = regular && counts[i] == counts[0] &&
                      displs[i] == displs[0] + static_cast<int>(i) * counts[0];
        return run(gr.coll, blocking, [&](ncclComm_t c, cudaStream_t s) {
            if (regular) {
                const auto n = static_cast<std::size_t>(counts[0]);
                SS_NCCL_CHECK(
                    ncclAllGather(
                        base + static_cast<std::size_t>(displs[static_cast<std::size_t>(gr.rank)]) *
                                   es,
                        base + static_cast<std::size_t>(displs[0]) * es, n, nccl_type(t), c, s),
                    c);
                return;
            }
            // Uneven or scattered blocks: every block broadcast in place from its owner, fused.
            NcclGroup fused(c);
            for (int i = 0; i < gr.size; ++i) {
                const auto n = static_cast<std::size_t>(counts[static_cast<std::size_t>(i)]);
                std::byte* p =
                    base + static_cast<std::size_t>(displs[static_cast<std::size_t>(i)]) * es;
                if (n > 0) SS_NCCL_CHECK(ncclBroadcast(p, p, n, nccl_type(t), i, c, s), c);
            }
            fused.end();
        });
    }

    void broadcast(GroupKind g, void* buf, std::size_t count, DType t, int root) override {
        if (!device(buf)) return mpi_->broadcast(g, buf, count, t, root);
        const Group& gr = group(g);
        if (root < 0 || root >= gr.size)
            throw std::invalid_argument("broadcast root " + std::to_string(root) + " outside the " +
                                        to_string(g) + " group of " + std::to_string(gr.size));
        if (gr.local || count == 0) return;
        run(gr.coll, true, [&](ncclComm_t c, cudaStream_t s) {
            SS_NCCL_CHECK(ncclBroadcast(buf, buf, count, nccl_type(t), root, c, s), c);
        });
    }

    std::unique_ptr<PendingOp> send(GroupKind g, const void* buf, std::size_t count, DType t,
                                    int peer, int tag, bool blocking) override {
        if (!device(buf)) return mpi_->send(g, buf, count, t, peer, tag, blocking);
        const Group& gr = group(g);
        check_peer(gr, g, peer, "send to");
        // NCCL has no tags: messages between a pair in one direction match in posting order.
        return run(gr.p2p[peer > gr.rank ? kUp : kDown], blocking,
                   [&](ncclComm_t c, cudaStream_t s) {
                       SS_NCCL_CHECK(ncclSend(buf, count, nccl_type(t), peer, c, s), c);
                   });
    }

    std::unique_ptr<PendingOp> recv(GroupKind g, void* buf, std::size_t count, DType t, int peer,
                                    int tag, bool blocking) override {
        if (!device(buf)) return mpi_->recv(g, buf, count, t, peer, tag, blocking);
        const Group& gr = group(g);
        check_peer(gr, g, peer, "recv from");
        // A message from a lower index travelled up: the peer sent it on its kUp communicator.
        return run(gr.p2p[peer < gr.rank ? kUp : kDown], blocking,
                   [&](ncclComm_t c, cudaStream_t s) {
                       SS_NCCL_CHECK(ncclRecv(buf, count, nccl_type(t), peer, c, s), c);
                   });
    }

    // Every rank of the group has reached this point on the host (device work stays queued).
    void barrier(GroupKind g) override { mpi_->barrier(g); }

    [[noreturn]] void abort(int code) override {
        mpi_->abort(code);
        std::exit(code);  // not reached: tells the compiler that abort() does not return
    }

private:
    void init(const Layout& layout) {
        const int world_rank = mpi_->rank(GroupKind::World);
        const int world_size = mpi_->size(GroupKind::World);
        device_ = backend_.device_ordinal();

        // The device and the streams. Every rank learns whether every rank got this far, so that
        // a rank that cannot use its device does not leave the others waiting in NCCL's set-up.
        int least = 0, greatest = 0;
        std::string error;
        try {
            SS_CUDART_CHECK(cudaSetDevice(device_));
            SS_CUDART_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
        } catch (const std::exception& e) {
            error = e.what();
        }
        agree(error, "its CUDA device set-up");
        stream_priority_ = greatest;  // communication first: a bucket's all-reduce is not queued
                                      // behind the compute kernels it overlaps

        // The world communicator: rank 0's unique id over MPI. The id's result travels with it
        // so that every rank reports a failure of ncclGetUniqueId instead of waiting.
        struct {
            int rc;
            ncclUniqueId id;
        } boot{};
        if (world_rank == 0) boot.rc = ncclGetUniqueId(&boot.id);
        SS_MPI_CHECK(MPI_Bcast(&boot, static_cast<int>(sizeof boot), MPI_BYTE, 0, MPI_COMM_WORLD));
        check_nccl(static_cast<ncclResult_t>(boot.rc), nullptr, "ncclGetUniqueId(&id) on rank 0",
                   __FILE__, __LINE__);
        ncclComm_t world = nullptr;
        SS_NCCL_CHECK(ncclCommInitRank(&world, world_size, boot.id, world_rank), nullptr);
        comms_.push_back(world);
        Group& w = groups_[static_cast<int>(GroupKind::World)];
        w.size = world_size;
        w.rank = world_rank;
        w.coll = {world, make_stream()};
        verify(w.coll.comm, w, "world");

        // dp / tp / pp: the colours and keys of models/plan/layout.h, as the MPI groups. Every
        // rank takes the same branch (the sizes are the layout's), so the splits, collective over
        // the world communicator, are called by all ranks in the same order.
        using SplitFn = SplitKey (*)(int, const Layout&);
        const std::array<std::pair<GroupKind, SplitFn>, 3> kinds{
            {{GroupKind::Dp, &dp_split}, {GroupKind::Tp, &tp_split}, {GroupKind::Pp, &pp_split}}};
        for (const auto& [kind, split] : kinds) {
            Group& gr = groups_[static_cast<int>(kind)];
            gr.size = mpi_->size(kind);
            gr.rank = mpi_->rank(kind);
            if (gr.size == world_size) {
                // Every rank, in world order: the world communicator serves (no second copy).
                if (gr.rank != world_rank)
                    throw std::logic_error(std::string("the ") + to_string(kind) +
                                           " group spans the world in another order");
                gr.coll = w.coll;
                continue;
            }
            if (gr.size == 1) {
                gr.local = true;
                continue;
            }
            const SplitKey key = split(world_rank, layout);
            ncclComm_t c = nullptr;
            SS_NCCL_CHECK(ncclCommSplit(world, key.color, key.key, &c, nullptr), world);
            comms_.push_back(c);
            gr.coll = {c, make_stream()};
            verify(c, gr, to_string(kind));
        }

        // Point-to-point: two communicators (one per direction) per distinct communicator of
        // more than one rank, split from it (all its ranks call, in the same order).
        for (int k = 0; k < kGroupKinds; ++k) {
            Group& gr = groups_[k];
            if (gr.local || gr.size == 1) continue;
            if (k > 0 && gr.coll.comm == w.coll.comm) {
                gr.p2p = w.p2p;
                continue;
            }
            for (Channel& ch : gr.p2p) {
                ncclComm_t c = nullptr;
                SS_NCCL_CHECK(ncclCommSplit(gr.coll.comm, 0, gr.rank, &c, nullptr), gr.coll.comm);
                comms_.push_back(c);
                ch = {c, make_stream()};
                verify(c, gr, to_string(static_cast<GroupKind>(k)));
            }
        }

        int version = 0;
        SS_NCCL_CHECK(ncclGetVersion(&version), nullptr);
        name_ = "nccl " + std::to_string(version / 10000) + "." +
                std::to_string(version / 100 % 100) + "." + std::to_string(version % 100);
    }

    // Throws on every rank when any rank failed a step (its own error, or a pointer to the rank
    // that failed).
    static void agree(const std::string& error, const char* step) {
        int rank = 0, first_failed = 0;
        SS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
        int mine = error.empty() ? INT32_MAX : rank;
        SS_MPI_CHECK(MPI_Allreduce(&mine, &first_failed, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
        if (!error.empty()) throw std::runtime_error(error);
        if (first_failed != INT32_MAX)
            throw std::runtime_error("make_nccl_transport: rank " + std::to_string(first_failed) +
                                     " failed " + step + " (see its message)");
    }

    cudaStream_t make_stream() {
        cudaStream_t s = nullptr;
        streams_.reserve(streams_.size() + 1);
        SS_CUDART_CHECK(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, stream_priority_));
        streams_.push_back(s);
        return s;
    }

    // The communicator has the group's size and this rank at the group's index.
    static void verify(ncclComm_t c, const Group& gr, const std::string& what) {
        int n = 0, r = 0;
        SS_NCCL_CHECK(ncclCommCount(c, &n), c);
        SS_NCCL_CHECK(ncclCommUserRank(c, &r), c);
        if (n != gr.size || r != gr.rank)
            throw std::logic_error("NCCL " + what + " communicator has rank " + std::to_string(r) +
                                   " of " + std::to_string(n) + ", the MPI group rank " +
                                   std::to_string(gr.rank) + " of " + std::to_string(gr.size));
    }

    // Best effort, never throws: communicators (children before the world), then streams.
    void release(bool abort_comms) noexcept {
        for (auto it = comms_.rbegin(); it != comms_.rend(); ++it) {
            ncclResult_t rc = ncclSuccess;
            if (abort_comms) {
                rc = ncclCommAbort(*it);
            } else {
                rc = ncclCommFinalize(*it);
                const ncclResult_t d = ncclCommDestroy(*it);
                if (rc == ncclSuccess) rc = d;
            }
            if (rc != ncclSuccess)
                std::fprintf(stderr, "NCCL communicator %s failed: %s\n",
                             abort_comms ? "abort" : "finalize/destroy", ncclGetErrorString(rc));
        }
        comms_.clear();
        for (cudaStream_t s : streams_) (void)cudaStreamDestroy(s);
        streams_.clear();
    }

    bool device(const void* p) const { return p != nullptr && backend_.is_device_pointer(p); }
    const Group& group(GroupKind g) const { return groups_[static_cast<int>(g)]; }

    static void check_counts(const Group& gr, std::size_t n, const char* what) {
        if (n != static_cast<std::size_t>(gr.size))
            throw std::invalid_argument(std::string(what) + " has " + std::to_string(n) +
                                        " entries for a group of " + std::to_string(gr.size));
    }
    static void check_peer(const Group& gr, GroupKind g, int peer, const char* what) {
        if (gr.size == 1 || peer < 0 || peer >= gr.size || peer == gr.rank)
            throw std::logic_error(std::string(what) + " peer " + std::to_string(peer) +
                                   " in the " + to_string(g) + " group of " +
                                   std::to_string(gr.size) + " (this rank is " +
                                   std::to_string(gr.rank) + ")");
    }

    // Orders one NCCL operation between the kernels queued before it and those queued after it:
    // the channel's stream waits for the backend's stream, the operation runs, and its completion
    // event is what the backend's stream waits on (now for a blocking call, at wait() otherwise).
    template <typename Enqueue>
    std::unique_ptr<PendingOp> run(const Channel& ch, bool blocking, Enqueue&& enqueue) {
        cudaEvent_t ready = events_.acquire();
        try {
            SS_CUDART_CHECK(cudaEventRecord(ready, compute_));
            SS_CUDART_CHECK(cudaStreamWaitEvent(ch.stream, ready, 0));
        } catch (...) {
            events_.release(ready);
            throw;
        }
        events_.release(ready);
        enqueue(ch.comm, ch.stream);
        cudaEvent_t done = events_.acquire();
        try {
            SS_CUDART_CHECK(cudaEventRecord(done, ch.stream));
            if (blocking) SS_CUDART_CHECK(cudaStreamWaitEvent(compute_, done, 0));
        } catch (...) {
            events_.release(done);
            throw;
        }
        if (blocking) {
            events_.release(done);
            return std::make_unique<ReadyOp>();
        }
        return std::make_unique<NcclOp>(events_, compute_, ch.comm, done);
    }

    kernels::Backend& backend_;
    cudaStream_t compute_ = nullptr;
    int device_ = -1;
    int stream_priority_ = 0;
    std::unique_ptr<Transport> mpi_;
    std::vector<ncclComm_t> comms_;      // owned, in creation order
    std::vector<cudaStream_t> streams_;  // owned
    std::array<Group, kGroupKinds> groups_{};
    EventPool events_;  // the requests' events come back before the transport goes (Comm's rule)
    std::string name_;
};

}  // namespace

bool nccl_built() {
    return true;
}

std::unique_ptr<Transport> make_nccl_transport(const Layout& layout, kernels::Backend& backend) {
    return std::make_unique<NcclTransport>(layout, backend);
}

}  // namespace ss::models

#else  // no NCCL in this build

namespace ss::models {

bool nccl_built() {
    return false;
}

std::unique_ptr<Transport> make_nccl_transport(const Layout&, kernels::Backend&) {
    throw std::logic_error(
        "make_nccl_transport: this build has no NCCL (CMake found no nccl.h and libnccl in the "
        "CUDA "
        "toolkit); use backend.comm \"mpi\" to stage device buffers through host memory");
}

}  // namespace ss::models

#endif

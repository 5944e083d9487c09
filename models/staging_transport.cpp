#include "models/staging_transport.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ss::models {

namespace {

// Page-locked host buffers by exact size in bytes. A training step repeats the same calls with
// the same sizes, so after the first step every lease is served from the free list: no
// allocation per call in steady state. Every buffer is freed with the pool.
class HostPool {
public:
    explicit HostPool(kernels::Backend& backend) : backend_(backend) {}
    ~HostPool() {
        for (void* p : all_) backend_.deallocate_host(p);
    }
    HostPool(const HostPool&) = delete;
    HostPool& operator=(const HostPool&) = delete;

    void* acquire(std::size_t bytes) {
        if (bytes == 0) return nullptr;
        const auto it = free_.find(bytes);
        if (it != free_.end()) {
            void* p = it->second;
            free_.erase(it);
            return p;
        }
        all_.reserve(all_.size() + 1);  // so that push_back below cannot throw after allocating
        void* p = backend_.allocate_host(bytes);
        all_.push_back(p);
        return p;
    }
    void release(void* p, std::size_t bytes) {
        if (p != nullptr) free_.emplace(bytes, p);
    }

private:
    kernels::Backend& backend_;
    std::unordered_multimap<std::size_t, void*> free_;
    std::vector<void*> all_;
};

// A host buffer borrowed from the pool for the life of one call.
class Lease {
public:
    Lease(HostPool& pool, std::size_t bytes)
        : pool_(&pool), p_(pool.acquire(bytes)), bytes_(bytes) {}
    ~Lease() {
        if (pool_) pool_->release(p_, bytes_);
    }
    Lease(Lease&& o) noexcept
        : pool_(std::exchange(o.pool_, nullptr)),
          p_(std::exchange(o.p_, nullptr)),
          bytes_(o.bytes_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    std::byte* get() const { return static_cast<std::byte*>(p_); }

private:
    HostPool* pool_;
    void* p_;
    std::size_t bytes_;
};

// A host -> device copy due when the inner call completes.
struct CopyBack {
    void* device;
    const std::byte* host;
    std::size_t bytes;
};

// The inner call, the host buffers it uses and the copies back to device memory.
class StagedOp final : public PendingOp {
public:
    StagedOp(kernels::Backend& backend, std::unique_ptr<PendingOp> inner, std::vector<Lease> leases,
             std::vector<CopyBack> back)
        : backend_(backend),
          inner_(std::move(inner)),
          leases_(std::move(leases)),
          back_(std::move(back)) {}
    ~StagedOp() override {
        // Never hand a host buffer back to the pool while the inner transport may still use it.
        if (!done_ && inner_) {
            try {
                inner_->wait();
            } catch (...) {  // a destructor must not throw; the caller's wait() reports errors
            }
        }
    }
    bool test() override {
        if (done_) return true;
        if (inner_ && !inner_->test()) return false;
        finish();
        return true;
    }
    void wait() override {
        if (done_) return;
        if (inner_) inner_->wait();
        finish();
    }

private:
    void finish() {
        done_ = true;  // the inner call is complete: whatever happens below, do not wait again
        for (const CopyBack& c : back_) backend_.copy_to_device(c.device, c.host, c.bytes);
        back_.clear();
        leases_.clear();
    }

    kernels::Backend& backend_;
    std::unique_ptr<PendingOp> inner_;
    std::vector<Lease> leases_;
    std::vector<CopyBack> back_;
    bool done_ = false;
};

class StagingTransport final : public Transport {
public:
    StagingTransport(std::unique_ptr<Transport> inner, kernels::Backend& backend)
        : inner_(std::move(inner)), backend_(backend), pool_(backend) {}

    int size(GroupKind g) const override { return inner_->size(g); }
    int rank(GroupKind g) const override { return inner_->rank(g); }
    std::string name() const override {
        return inner_->name() + " (device buffers staged via host)";
    }

    std::unique_ptr<PendingOp> all_reduce(GroupKind g, void* buf, std::size_t count, DType t,
                                          bool blocking) override {
        if (!device(buf)) return inner_->all_reduce(g, buf, count, t, blocking);
        const std::size_t bytes = count * dtype_size(t);
        std::vector<Lease> leases;
        std::byte* host = stage_in(leases, buf, bytes);
        auto op = inner_->all_reduce(g, host, count, t, blocking);
        return staged(std::move(op), std::move(leases), {{buf, host, bytes}}, blocking);
    }

    std::unique_ptr<PendingOp> reduce_scatter(GroupKind g, const void* send, void* recv,
                                              std::span<const int> counts, DType t,
                                              bool blocking) override {
        const bool send_dev = device(send), recv_dev = device(recv);
        if (!send_dev && !recv_dev)
            return inner_->reduce_scatter(g, send, recv, counts, t, blocking);
        const std::size_t es = dtype_size(t);
        std::size_t total = 0;
        for (int c : counts) total += static_cast<std::size_t>(c);
        const int me = rank(g);
        const std::size_t mine = me >= 0 && static_cast<std::size_t>(me) < counts.size()
                                     ? static_cast<std::size_t>(counts[me])
                                     : 0;
        std::vector<Lease> leases;
        std::vector<CopyBack> back;
        const void* host_send = send_dev ? stage_in(leases, send, total * es) : send;
        void* host_recv = recv;
        if (recv_dev) {
            leases.emplace_back(pool_, mine * es);
            host_recv = leases.back().get();
            back.push_back({recv, leases.back().get(), mine * es});
        }
        auto op = inner_->reduce_scatter(g, host_send, host_recv, counts, t, blocking);
        return staged(std::move(op), std::move(leases), std::move(back), blocking);
    }

    std::unique_ptr<PendingOp> all_gather(GroupKind g, void* buf, std::span<const int> counts,
                                          std::span<const int> displs, DType t,
                                          bool blocking) override {
        if (!device(buf)) return inner_->all_gather(g, buf, counts, displs, t, blocking);
        const std::size_t es = dtype_size(t);
        const int me = rank(g);
        // The host buffer mirrors the whole extent (same displacements). Only this rank's block
        // goes down; the other blocks come back, adjacent blocks merged into one copy.
        std::size_t extent = 0;
        const std::size_t n = std::min(counts.size(), displs.size());
        struct Block {
            std::size_t begin, end;  // elements
        };
        std::vector<Block> others;
        for (std::size_t i = 0; i < n; ++i) {
            const auto b = static_cast<std::size_t>(displs[i]);
            const auto e = b + static_cast<std::size_t>(counts[i]);
            extent = std::max(extent, e);
            if (static_cast<int>(i) != me && e > b) others.push_back({b, e});
        }
        std::sort(others.begin(), others.end(),
                  [](const Block& x, const Block& y) { return x.begin < y.begin; });
        std::vector<Lease> leases;
        leases.emplace_back(pool_, extent * es);
        std::byte* host = leases.back().get();
        auto* dev = static_cast<std::byte*>(buf);
        if (me >= 0 && static_cast<std::size_t>(me) < n &&
            counts[static_cast<std::size_t>(me)] > 0) {
            const auto off = static_cast<std::size_t>(displs[static_cast<std::size_t>(me)]) * es;
            backend_.copy_to_host(
                host + off, dev + off,
                static_cast<std::size_t>(counts[static_cast<std::size_t>(me)]) * es);
        }
        std::vector<Block> runs;  // the other blocks, adjacent or overlapping ones merged
        for (const Block& b : others) {
            if (!runs.empty() && b.begin <= runs.back().end)
                runs.back().end = std::max(runs.back().end, b.end);
            else
                runs.push_back(b);
        }
        std::vector<CopyBack> back;
        for (const Block& r : runs)
            back.push_back({dev + r.begin * es, host + r.begin * es, (r.end - r.begin) * es});
        auto op = inner_->all_gather(g, host, counts, displs, t, blocking);
        return staged(std::move(op), std::move(leases), std::move(back), blocking);
    }

    void broadcast(GroupKind g, void* buf, std::size_t count, DType t, int root) override {
        if (!device(buf)) return inner_->broadcast(g, buf, count, t, root);
        const std::size_t bytes = count * dtype_size(t);
        Lease lease(pool_, bytes);
        const bool is_root = rank(g) == root;
        if (is_root) backend_.copy_to_host(lease.get(), buf, bytes);
        inner_->broadcast(g, lease.get(), count, t, root);
        if (!is_root) backend_.copy_to_device(buf, lease.get(), bytes);
    }

    std::unique_ptr<PendingOp> send(GroupKind g, const void* buf, std::size_t count, DType t,
                                    int peer, int tag, bool blocking) override {
        if (!device(buf)) return inner_->send(g, buf, count, t, peer, tag, blocking);
        std::vector<Lease> leases;
        std::byte* host = stage_in(leases, buf, count * dtype_size(t));
        auto op = inner_->send(g, host, count, t, peer, tag, blocking);
        return staged(std::move(op), std::move(leases), {}, blocking);
    }

    std::unique_ptr<PendingOp> recv(GroupKind g, void* buf, std::size_t count, DType t, int peer,
                                    int tag, bool blocking) override {
        if (!device(buf)) return inner_->recv(g, buf, count, t, peer, tag, blocking);
        const std::size_t bytes = count * dtype_size(t);
        std::vector<Lease> leases;
        leases.emplace_back(pool_, bytes);
        std::byte* host = leases.back().get();
        auto op = inner_->recv(g, host, count, t, peer, tag, blocking);
        return staged(std::move(op), std::move(leases), {{buf, host, bytes}}, blocking);
    }

    void barrier(GroupKind g) override { inner_->barrier(g); }
    [[noreturn]] void abort(int code) override {
        inner_->abort(code);
        std::exit(code);  // not reached: tells the compiler that abort() does not return
    }

private:
    bool device(const void* p) const { return p != nullptr && backend_.is_device_pointer(p); }

    // A pooled host copy of `bytes` of device memory at `src` (copy_to_host follows the kernels
    // queued before it).
    std::byte* stage_in(std::vector<Lease>& leases, const void* src, std::size_t bytes) {
        leases.emplace_back(pool_, bytes);
        std::byte* host = leases.back().get();
        if (bytes > 0) backend_.copy_to_host(host, src, bytes);
        return host;
    }

    std::unique_ptr<PendingOp> staged(std::unique_ptr<PendingOp> inner, std::vector<Lease> leases,
                                      std::vector<CopyBack> back, bool blocking) {
        auto op = std::make_unique<StagedOp>(backend_, std::move(inner), std::move(leases),
                                             std::move(back));
        if (blocking) op->wait();
        return op;
    }

    std::unique_ptr<Transport> inner_;
    kernels::Backend& backend_;
    HostPool pool_;
};

}  // namespace

std::unique_ptr<Transport> make_staging_transport(std::unique_ptr<Transport> inner,
                                                  kernels::Backend& backend) {
    return std::make_unique<StagingTransport>(std::move(inner), backend);
}

}  // namespace ss::models

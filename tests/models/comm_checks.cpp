#include "comm_checks.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <mpi.h>

#if defined(SCALESCOPE_HAVE_NCCL)
#include <cuda_runtime_api.h>
#endif

#include "kernels/cpu_backend.h"
#include "models/comm.h"
#include "models/nccl_transport.h"
#include "models/staging_transport.h"

namespace ss::test {

using namespace ss::models;

namespace {

void expect(bool ok, const std::string& what) {
    if (!ok) MpiEnvironment::abort_job("check failed: " + what);
}

// CPU memory that claims to be device memory: allocate() blocks answer is_device_pointer (also
// for pointers inside them, as the trainer passes grads + offset); allocate_host() memory does
// not. Counts the copies and host allocations the staging transport makes.
class FakeDeviceBackend final : public kernels::CpuBackend {
public:
    void* allocate(std::size_t bytes) override {
        void* p = CpuBackend::allocate(bytes);
        if (p != nullptr) blocks_[static_cast<const std::byte*>(p)] = bytes;
        return p;
    }
    void deallocate(void* p) override {
        blocks_.erase(static_cast<const std::byte*>(p));
        CpuBackend::deallocate(p);
    }
    bool is_device_pointer(const void* p) const override {
        const auto* b = static_cast<const std::byte*>(p);
        auto it = blocks_.upper_bound(b);
        if (it == blocks_.begin()) return false;
        --it;
        return b < it->first + it->second;
    }
    void* allocate_host(std::size_t bytes) override {
        ++host_allocations;
        return CpuBackend::allocate(bytes);  // not registered: host memory
    }
    void deallocate_host(void* p) override { CpuBackend::deallocate(p); }
    void copy_to_host(void* dst, const void* src, std::size_t bytes) override {
        expect(is_device_pointer(src) && !is_device_pointer(dst), "copy_to_host direction");
        ++to_host;
        CpuBackend::copy_to_host(dst, src, bytes);
    }
    void copy_to_device(void* dst, const void* src, std::size_t bytes) override {
        expect(is_device_pointer(dst) && !is_device_pointer(src), "copy_to_device direction");
        ++to_device;
        CpuBackend::copy_to_device(dst, src, bytes);
    }

    int host_allocations = 0;
    int to_host = 0;
    int to_device = 0;

private:
    std::map<const std::byte*, std::size_t> blocks_;
};

// The MPI transport behind a check that no device pointer ever reaches it.
class HostOnlyTransport final : public Transport {
public:
    HostOnlyTransport(std::unique_ptr<Transport> inner, const kernels::Backend& be)
        : inner_(std::move(inner)), be_(be) {}
    int size(GroupKind g) const override { return inner_->size(g); }
    int rank(GroupKind g) const override { return inner_->rank(g); }
    std::string name() const override { return inner_->name(); }
    std::unique_ptr<PendingOp> all_reduce(GroupKind g, void* buf, std::size_t count, DType t,
                                          bool blocking) override {
        host(buf, "all_reduce");
        return inner_->all_reduce(g, buf, count, t, blocking);
    }
    std::unique_ptr<PendingOp> reduce_scatter(GroupKind g, const void* send, void* recv,
                                              std::span<const int> counts, DType t,
                                              bool blocking) override {
        host(send, "reduce_scatter send");
        host(recv, "reduce_scatter recv");
        return inner_->reduce_scatter(g, send, recv, counts, t, blocking);
    }
    std::unique_ptr<PendingOp> all_gather(GroupKind g, void* buf, std::span<const int> counts,
                                          std::span<const int> displs, DType t,
                                          bool blocking) override {
        host(buf, "all_gather");
        return inner_->all_gather(g, buf, counts, displs, t, blocking);
    }
    void broadcast(GroupKind g, void* buf, std::size_t count, DType t, int root) override {
        host(buf, "broadcast");
        inner_->broadcast(g, buf, count, t, root);
    }
    std::unique_ptr<PendingOp> send(GroupKind g, const void* buf, std::size_t count, DType t,
                                    int peer, int tag, bool blocking) override {
        host(buf, "send");
        return inner_->send(g, buf, count, t, peer, tag, blocking);
    }
    std::unique_ptr<PendingOp> recv(GroupKind g, void* buf, std::size_t count, DType t, int peer,
                                    int tag, bool blocking) override {
        host(buf, "recv");
        return inner_->recv(g, buf, count, t, peer, tag, blocking);
    }
    void barrier(GroupKind g) override { inner_->barrier(g); }
    [[noreturn]] void abort(int code) override {
        inner_->abort(code);
        std::exit(code);
    }

private:
    void host(const void* p, const char* op) const {
        expect(!be_.is_device_pointer(p), std::string("a device pointer reached MPI in ") + op);
    }
    std::unique_ptr<Transport> inner_;
    const kernels::Backend& be_;
};

// Small integers: every sum is exact in any order, so plain and staged results must be equal
// bit for bit.
float value(int rank, std::size_t i) {
    return static_cast<float>((rank + 1) * static_cast<int>(i % 7 + 1));
}

// A host vector and a "device" copy of it.
struct Twin {
    std::vector<float> host;
    kernels::DeviceBuffer<float> dev;
    Twin(FakeDeviceBackend& be, std::vector<float> init)
        : host(std::move(init)), dev(be, host.size()) {
        be.CpuBackend::copy_to_device(dev.data(), host.data(), host.size() * sizeof(float));
    }
    std::vector<float> dev_contents() const {
        std::vector<float> out(host.size());
        std::memcpy(out.data(), dev.data(), out.size() * sizeof(float));  // CPU memory underneath
        return out;
    }
};

bool same(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Completes a non-blocking request through test() (odd turns) or wait() (even turns).
void complete(CommRequest& r, int turn) {
    if (turn % 2) {
        while (!r.test()) {
        }
    } else {
        r.wait();
    }
    expect(!r.active(), "request still active after completion");
}

class StagingCheck {
public:
    StagingCheck(const Layout& l, FakeDeviceBackend& be)
        : be_(be),
          plain_(make_mpi_transport(l)),
          staged_(make_staging_transport(
              std::make_unique<HostOnlyTransport>(make_mpi_transport(l), be), be)) {}

    // Every operation on every group, on both Comms.
    void pass() {
        for (int g = 0; g < kGroupKinds; ++g) {
            const auto G = static_cast<GroupKind>(g);
            for (bool blocking : {true, false}) {
                all_reduce(G, blocking);
                reduce_scatter(G, blocking, true);
                reduce_scatter(G, blocking, false);
                all_gather(G, blocking);
                if (plain_.size(G) > 1) point_to_point(G, blocking);
            }
            broadcast(G);
            staged_.barrier(G);
        }
    }

    // The staged Comm on host buffers: the inner transport gets them as they are (no copies).
    void host_buffers_pass_through() {
        const int before = be_.to_host + be_.to_device + be_.host_allocations;
        const int r = plain_.world_rank();
        std::vector<float> a(64), b(64);
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = b[i] = value(r, i);
        plain_.all_reduce(GroupKind::World, a.data(), a.size());
        CommRequest q = staged_.iall_reduce(GroupKind::World, b.data(), b.size());
        q.wait();
        double x = r, y = r;
        plain_.broadcast(GroupKind::World, &x, 1, 0);
        staged_.broadcast(GroupKind::World, &y, 1, 0);
        expect(same(a, b) && x == y, "host buffers through the staging transport");
        expect(be_.to_host + be_.to_device + be_.host_allocations == before,
               "host buffers were staged (copies or host allocations)");
    }

private:
    std::string where(GroupKind g, const char* op, bool blocking) const {
        return std::string(op) + (blocking ? "" : " (non-blocking)") + " on " + to_string(g);
    }

    void all_reduce(GroupKind g, bool blocking) {
        const int r = plain_.world_rank();
        std::vector<float> init(1000 + 3 * static_cast<std::size_t>(g));
        for (std::size_t i = 0; i < init.size(); ++i) init[i] = value(r, i);
        Twin t(be_, init);
        const int h = be_.to_host, d = be_.to_device;
        if (blocking) {
            plain_.all_reduce(g, t.host.data(), t.host.size());
            staged_.all_reduce(g, t.dev.data(), t.host.size());
        } else {
            CommRequest p = plain_.iall_reduce(g, t.host.data(), t.host.size());
            CommRequest s = staged_.iall_reduce(g, t.dev.data(), t.host.size());
            expect(be_.to_device == d, "non-blocking result copied back before completion");
            p.wait();
            complete(s, turn_++);
        }
        expect(be_.to_host == h + 1 && be_.to_device == d + 1,
               "one copy each way: " + where(g, "all_reduce", blocking));
        expect(same(t.dev_contents(), t.host),
               where(g, "all_reduce", blocking) + " differs from MPI");
        if (plain_.size(g) > 1) expect(!same(t.host, init), "all_reduce left the buffer unchanged");
    }

    // Uneven blocks; recv on the device (`recv_device`) or on the host (a mixed call).
    void reduce_scatter(GroupKind g, bool blocking, bool recv_device) {
        const int r = plain_.world_rank(), n = plain_.size(g), me = plain_.rank(g);
        counts_.assign(static_cast<std::size_t>(n), 0);
        std::size_t total = 0;
        for (int i = 0; i < n; ++i)
            total += static_cast<std::size_t>(counts_[static_cast<std::size_t>(i)] = 3 + 2 * i);
        std::vector<float> init(total);
        for (std::size_t i = 0; i < total; ++i) init[i] = value(r, i);
        Twin send(be_, init);
        const std::size_t mine = static_cast<std::size_t>(counts_[static_cast<std::size_t>(me)]);
        Twin recv(be_, std::vector<float>(mine, -1.0f));
        std::vector<float> plain_recv(mine, -1.0f), host_recv(mine, -1.0f);
        float* staged_recv = recv_device ? recv.dev.data() : host_recv.data();
        if (blocking) {
            plain_.reduce_scatter(g, send.host.data(), plain_recv.data(), counts_);
            staged_.reduce_scatter(g, send.dev.data(), staged_recv, counts_);
        } else {
            CommRequest p = plain_.ireduce_scatter(g, send.host.data(), plain_recv.data(), counts_);
            CommRequest s = staged_.ireduce_scatter(g, send.dev.data(), staged_recv, counts_);
            p.wait();
            complete(s, turn_++);
        }
        const std::vector<float> got = recv_device ? recv.dev_contents() : host_recv;
        expect(same(got, plain_recv), where(g, "reduce_scatter", blocking) + " differs from MPI" +
                                          (recv_device ? "" : " (host recv)"));
        expect(same(send.dev_contents(), init), "reduce_scatter changed its send buffer");
    }

    // Uneven blocks with a gap after each: the gaps keep their contents.
    void all_gather(GroupKind g, bool blocking) {
        const int n = plain_.size(g), me = plain_.rank(g);
        counts_.assign(static_cast<std::size_t>(n), 0);
        displs_.assign(static_cast<std::size_t>(n), 0);
        int extent = 0;
        for (int i = 0; i < n; ++i) {
            counts_[static_cast<std::size_t>(i)] = 2 + i;
            displs_[static_cast<std::size_t>(i)] = extent;
            extent += 2 + i + 1;  // one element of gap
        }
        std::vector<float> init(static_cast<std::size_t>(extent), -7.0f);
        for (int k = 0; k < counts_[static_cast<std::size_t>(me)]; ++k)
            init[static_cast<std::size_t>(displs_[static_cast<std::size_t>(me)] + k)] =
                static_cast<float>(100 * (me + 1) + k);
        Twin t(be_, init);
        const int d = be_.to_device;
        if (blocking) {
            plain_.all_gather(g, t.host.data(), counts_, displs_);
            staged_.all_gather(g, t.dev.data(), counts_, displs_);
        } else {
            CommRequest p = plain_.iall_gather(g, t.host.data(), counts_, displs_);
            CommRequest s = staged_.iall_gather(g, t.dev.data(), counts_, displs_);
            p.wait();
            complete(s, turn_++);
        }
        // The other blocks come back (one copy per block here: the gaps separate them).
        expect(be_.to_device == d + n - 1, "all_gather copies back the other blocks only");
        expect(same(t.dev_contents(), t.host),
               where(g, "all_gather", blocking) + " differs from MPI");
        for (int i = 0; i + 1 < n; ++i)
            expect(t.host[static_cast<std::size_t>(displs_[static_cast<std::size_t>(i + 1)] - 1)] ==
                       -7.0f,
                   "all_gather wrote into a gap");
    }

    void broadcast(GroupKind g) {
        const int r = plain_.world_rank(), root = plain_.size(g) - 1;
        std::vector<float> init(300);
        for (std::size_t i = 0; i < init.size(); ++i) init[i] = value(r, i);
        Twin t(be_, init);
        plain_.broadcast(g, t.host.data(), t.host.size(), root);
        staged_.broadcast(g, t.dev.data(), t.host.size(), root);
        expect(same(t.dev_contents(), t.host), where(g, "broadcast", true) + " differs from MPI");
        // Doubles too (the trainer broadcasts host doubles, but the path is the same).
        std::vector<double> hd(5, r + 0.25);
        kernels::DeviceBuffer<double> dd(be_, hd.size());
        be_.CpuBackend::copy_to_device(dd.data(), hd.data(), hd.size() * sizeof(double));
        plain_.broadcast(g, hd.data(), hd.size(), root);
        staged_.broadcast(g, dd.data(), hd.size(), root);
        expect(std::memcmp(dd.data(), hd.data(), hd.size() * sizeof(double)) == 0,
               "double broadcast on " + std::string(to_string(g)));
    }

    // Index 0 and 1 of the group exchange a message each way (two tags); the others wait.
    void point_to_point(GroupKind g, bool blocking) {
        const int me = plain_.rank(g), r = plain_.world_rank();
        if (me > 1) return;
        const int peer = 1 - me;
        std::vector<float> out(257);
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = value(r, i);
        Twin src(be_, out);
        Twin dst(be_, std::vector<float>(out.size(), -1.0f));
        std::vector<float> plain_in(out.size(), -1.0f);
        const auto n = out.size();
        if (blocking) {
            if (me == 0) {
                plain_.send(g, out.data(), n, peer, 11);
                staged_.send(g, src.dev.data(), n, peer, 11);
                plain_.recv(g, plain_in.data(), n, peer, 12);
                staged_.recv(g, dst.dev.data(), n, peer, 12);
            } else {
                plain_.recv(g, plain_in.data(), n, peer, 11);
                staged_.recv(g, dst.dev.data(), n, peer, 11);
                plain_.send(g, out.data(), n, peer, 12);
                staged_.send(g, src.dev.data(), n, peer, 12);
            }
        } else {
            // Both directions posted at once (isend before irecv on both sides).
            const int tag_out = me == 0 ? 21 : 22, tag_in = me == 0 ? 22 : 21;
            CommRequest ps = plain_.isend(g, out.data(), n, peer, tag_out);
            CommRequest ss = staged_.isend(g, src.dev.data(), n, peer, tag_out);
            CommRequest pr = plain_.irecv(g, plain_in.data(), n, peer, tag_in);
            CommRequest sr = staged_.irecv(g, dst.dev.data(), n, peer, tag_in);
            ps.wait();
            pr.wait();
            complete(ss, turn_);
            complete(sr, turn_++);
        }
        expect(same(dst.dev_contents(), plain_in),
               where(g, "send/recv", blocking) + " differs from MPI");
        expect(!same(plain_in, std::vector<float>(n, -1.0f)), "nothing received");
        expect(same(src.dev_contents(), out), "send changed its buffer");
    }

    FakeDeviceBackend& be_;
    Comm plain_;
    Comm staged_;
    std::vector<int> counts_, displs_;
    int turn_ = 0;
};

}  // namespace

int staging_check(const Layout& layout) {
    FakeDeviceBackend be;
    StagingCheck check(layout, be);
    check.pass();
    const int allocated = be.host_allocations, copies = be.to_host + be.to_device;
    expect(allocated > 0 && copies > 0, "nothing was staged");
    check.pass();  // the same calls again: every host buffer comes from the pool
    expect(be.host_allocations == allocated,
           "host buffers allocated in steady state: " + std::to_string(allocated) + " then " +
               std::to_string(be.host_allocations));
    check.host_buffers_pass_through();
    int rank = 0;
    SS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    if (rank == 0)
        std::printf("staging check ok: %d host buffers, %d copies per pass on rank 0\n", allocated,
                    copies);
    return 0;
}

namespace {

#if defined(SCALESCOPE_HAVE_NCCL)
// A "CUDA" backend whose device does not exist on any machine.
class NoSuchDeviceBackend final : public kernels::CpuBackend {
public:
    void* native_stream() const override { return cudaStreamPerThread; }
    int device_ordinal() const override { return 1 << 20; }
};
#endif

}  // namespace

int nccl_setup_error_check() {
    int rank = 0;
    SS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    const int world = [] {
        int n = 0;
        SS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &n));
        return n;
    }();
    const Layout layout{world, 1, 1};
    kernels::CpuBackend cpu;
    std::string message;
#if defined(SCALESCOPE_HAVE_NCCL)
    expect(nccl_built(), "nccl_built() is false in a build with NCCL");
    try {  // a backend without a CUDA stream
        make_nccl_transport(layout, cpu);
        expect(false, "make_nccl_transport accepted the CPU backend");
    } catch (const std::invalid_argument& e) {
        expect(std::string(e.what()).find("no CUDA stream") != std::string::npos, e.what());
    }
    NoSuchDeviceBackend missing;
    try {
        make_nccl_transport(layout, missing);
        expect(false, "make_nccl_transport succeeded without a device");
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    expect(message.find("cudaSetDevice(") != std::string::npos &&
               message.find("models/nccl_transport.cpp:") != std::string::npos,
           "the error names neither the call nor the location: " + message);
    if (rank == 0) std::printf("nccl setup error ok: %s\n", message.c_str());
#else
    expect(!nccl_built(), "nccl_built() is true in a build without NCCL");
    try {
        make_nccl_transport(layout, cpu);
        expect(false, "make_nccl_transport succeeded in a build without NCCL");
    } catch (const std::logic_error& e) {
        message = e.what();
    }
    if (rank == 0) std::printf("nccl not built ok: %s\n", message.c_str());
#endif
    // Every rank is still in the job and can talk: nothing was left half-initialised.
    SS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    return 0;
}

}  // namespace ss::test

// An MPI program (no Qt) that checks the Comm layer over real MPI groups; run by tst_models_comm
// under mpirun. Usage:
//   models_comm_check DP TP PP          every operation on every group; prints "comm check ok"
//   models_comm_check --provoke-error   sends to a rank that does not exist: SS_MPI_CHECK must
//                                       report the call and location and abort the job
//   models_comm_check --staged DP TP PP the staging transport against plain MPI (comm_checks.h);
//                                       prints "staging check ok"
//   models_comm_check --nccl-setup-error make_nccl_transport without a device fails cleanly
//   models_comm_check --progress DP     DP ranks in one dp group: the communication thread's
//                                       non-blocking collectives equal the blocking ones bit for
//                                       bit, complete while the caller computes without any MPI
//                                       call, and shut down cleanly with requests in flight;
//                                       prints "progress check ok"
//   models_comm_check --provoke-thread-error  a failing MPI call on the communication thread is
//                                       reported with its call and location and aborts the job
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "profiler/clock.h"

#include "comm_checks.h"
#include "models/comm.h"
#include "models/plan/layout.h"

using namespace ss::models;

namespace {

class Counter final : public CommObserver {
public:
    int begins = 0, ends = 0;
    std::size_t bytes = 0;
    void on_begin(const CommRecord& r) override {
        ++begins;
        bytes += r.bytes;
    }
    void on_end(const CommRecord&) override { ++ends; }
};

void expect(bool ok, const std::string& what) {
    if (!ok) MpiEnvironment::abort_job("check failed: " + what);
}

bool near(double a, double b) { return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b)); }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Keeps the completion time of every call (CommRecord::completed_ns as the tracer sees it).
class Completions final : public CommObserver {
public:
    std::vector<std::int64_t> completed;
    void on_begin(const CommRecord&) override {}
    void on_end(const CommRecord& r) override { completed.push_back(r.completed_ns); }
};

// Floats whose sums depend on the order of addition: mixed signs and magnitudes, per rank.
std::vector<float> mixed(std::size_t n, int rank) {
    std::mt19937 gen(1234u + static_cast<unsigned>(rank));
    std::uniform_real_distribution<float> mant(-1.0f, 1.0f);
    std::uniform_int_distribution<int> expo(-20, 20);
    std::vector<float> v(n);
    for (float& x : v) x = std::ldexp(mant(gen), expo(gen));
    return v;
}

// Thread progress over a dp group of every rank (Comm's non-blocking collectives on its
// communication thread):
// 1. all_reduce / reduce_scatter / all_gather give the bits of the blocking calls;
// 2. a posted all-reduce completes while this thread computes and makes no MPI call (in Thread
//    mode CommRequest::test() reads a flag; it never enters MPI), and its recorded completion
//    time lies inside the computation;
// 3. requests still in flight when the Comm goes away are completed, not abandoned (no hang).
int progress_check(int dp) {
    const Layout l{dp, 1, 1};
    int r = 0;
    {
        Comm comm(make_mpi_transport(l, CommProgress::Thread));
        r = comm.world_rank();
        expect(comm.transport_name() == "mpi", "thread progress needs MPI_THREAD_MULTIPLE, got " +
                                                   comm.transport_name());
        // 1. Bits: several sizes (Open MPI picks its algorithm by size), blocking vs non-blocking.
        for (std::size_t n : {std::size_t(7), std::size_t(4099), std::size_t(300000)}) {
            std::vector<float> blocking = mixed(n, r), threaded = blocking;
            comm.all_reduce(GroupKind::Dp, blocking.data(), n);
            CommRequest q = comm.iall_reduce(GroupKind::Dp, threaded.data(), n);
            q.wait();
            expect(same_bits(blocking, threaded), "iall_reduce bits of " + std::to_string(n));
            std::vector<int> counts(static_cast<std::size_t>(dp));
            for (int d = 0; d < dp; ++d)
                counts[static_cast<std::size_t>(d)] = static_cast<int>(n) / dp + (d < static_cast<int>(n) % dp);
            const std::vector<float> send = mixed(n, r + 100);
            std::vector<float> rb(static_cast<std::size_t>(counts[static_cast<std::size_t>(r)])), rt(rb.size());
            comm.reduce_scatter(GroupKind::Dp, send.data(), rb.data(), counts);
            CommRequest s = comm.ireduce_scatter(GroupKind::Dp, send.data(), rt.data(), counts);
            s.wait();
            expect(same_bits(rb, rt), "ireduce_scatter bits of " + std::to_string(n));
            std::vector<int> displs(counts.size());
            for (std::size_t d = 1; d < counts.size(); ++d) displs[d] = displs[d - 1] + counts[d - 1];
            std::vector<float> gb = mixed(n, r + 200), gt = gb;
            comm.all_gather(GroupKind::Dp, gb.data(), counts, displs);
            CommRequest g = comm.iall_gather(GroupKind::Dp, gt.data(), counts, displs);
            g.wait();
            expect(same_bits(gb, gt), "iall_gather bits of " + std::to_string(n));
        }
        // 2. Progress while computing. The loop's arithmetic stands in for backward; it stops once
        // the request is complete (or after ~10 s of work, a hang guard, which fails the check).
        std::vector<float> grads(1 << 18, static_cast<float>(r + 1));
        comm.barrier(GroupKind::World);  // every rank posts at about the same time
        Completions seen;
        comm.set_observer(&seen);
        CommRequest q = comm.iall_reduce(GroupKind::Dp, grads.data(), grads.size());
        const std::int64_t posted = ss::profiler::now_ns();
        volatile double acc = 0;
        bool done = false;
        std::int64_t chunks = 0;
        for (; chunks < 500000 && !done; ++chunks) {
            double a = acc;
            for (int i = 0; i < 20000; ++i) a = a * 0.999999 + 1e-9 * i;  // ~20 us of work
            acc = a;
            done = q.test();  // Thread mode: an atomic load, no MPI call
        }
        const std::int64_t computed = ss::profiler::now_ns();
        q.wait();
        comm.set_observer(nullptr);
        expect(done, "the all-reduce did not complete while the caller computed");
        expect(seen.completed.size() == 1 && seen.completed[0] >= posted &&
                   seen.completed[0] <= computed,
               "recorded completion lies inside the computation");
        expect(grads[0] == static_cast<float>(dp * (dp + 1) / 2), "progressed all-reduce sum");
        if (r == 0)
            std::printf("rank 0: all-reduce of 1 MiB completed %.3f ms after posting, during %lld "
                        "chunks of computation without MPI calls\n",
                        static_cast<double>(seen.completed[0] - posted) / 1e6,
                        static_cast<long long>(chunks));
        // 2b. The same with a progress point after each chunk (the trainer's, where backward
        // finishes a tensor): comm.progress() yields the core to the busy communication thread,
        // which shares it with this one (mpirun binds a rank to one core). How many chunks the
        // all-reduce took is printed beside 2.'s, not asserted (it depends on the machine's load).
        comm.barrier(GroupKind::World);
        std::fill(grads.begin(), grads.end(), static_cast<float>(r + 1));
        CommRequest p = comm.iall_reduce(GroupKind::Dp, grads.data(), grads.size());
        bool pdone = false;
        std::int64_t pchunks = 0;
        for (; pchunks < 500000 && !pdone; ++pchunks) {
            double a = acc;
            for (int i = 0; i < 20000; ++i) a = a * 0.999999 + 1e-9 * i;
            acc = a;
            comm.progress();
            pdone = p.test();
        }
        p.wait();
        expect(pdone, "the all-reduce did not complete while the caller computed with progress points");
        expect(grads[0] == static_cast<float>(dp * (dp + 1) / 2), "all-reduce sum with progress points");
        comm.progress();  // nothing in flight: returns at once
        if (r == 0)
            std::printf("rank 0: with a progress point after each chunk: %lld chunks\n",
                        static_cast<long long>(pchunks));
        // 3. Shutdown with requests in flight: eight buckets posted; the requests are destroyed
        // (each waits) and then the Comm (its threads run what is queued and join).
        std::vector<std::vector<float>> buckets(8, std::vector<float>(50000, 1.0f));
        std::vector<CommRequest> pending;
        for (auto& b : buckets) pending.push_back(comm.iall_reduce(GroupKind::Dp, b.data(), b.size()));
        pending.clear();
        for (const auto& b : buckets) expect(b[49999] == static_cast<float>(dp), "bucket sums at shutdown");
    }
    if (r == 0) std::printf("progress check ok: %d ranks\n", dp);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    MpiEnvironment mpi(&argc, &argv);
    if (argc == 2 && std::string(argv[1]) == "--provoke-error") {
        Comm comm(make_mpi_transport({mpi.world_size(), 1, 1}));
        float x = 1.0f;
        comm.send(GroupKind::Dp, &x, 1, comm.size(GroupKind::Dp) + 5, 0);  // no such peer
        std::puts("not reached");
        return 0;
    }
    if (argc == 2 && std::string(argv[1]) == "--nccl-setup-error") return ss::test::nccl_setup_error_check();
    if (argc == 3 && std::string(argv[1]) == "--progress") return progress_check(std::atoi(argv[2]));
    if (argc == 2 && std::string(argv[1]) == "--provoke-thread-error") {
        Comm comm(make_mpi_transport({mpi.world_size(), 1, 1}, CommProgress::Thread));
        std::vector<float> send(4, 1.0f), recv(4);
        std::vector<int> counts(static_cast<std::size_t>(mpi.world_size()), -1);  // invalid counts
        CommRequest q = comm.ireduce_scatter(GroupKind::Dp, send.data(), recv.data(), counts);
        q.wait();
        std::puts("not reached");
        return 0;
    }
    if (argc == 5 && std::string(argv[1]) == "--staged")
        return ss::test::staging_check({std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4])});
    if (argc != 4) {
        std::fprintf(stderr,
                     "usage: models_comm_check DP TP PP | --staged DP TP PP | --provoke-error | "
                     "--nccl-setup-error | --progress DP | --provoke-thread-error\n");
        return 2;
    }
    const Layout l{std::atoi(argv[1]), std::atoi(argv[2]), std::atoi(argv[3])};
    Comm comm(make_mpi_transport(l));
    Counter counter;
    comm.set_observer(&counter);
    const int r = comm.world_rank();
    const Coord c = coord_of(r, l);
    expect(comm.rank(GroupKind::Tp) == c.tp && comm.size(GroupKind::Tp) == l.tp, "tp group");
    expect(comm.rank(GroupKind::Dp) == c.dp && comm.size(GroupKind::Dp) == l.dp, "dp group");
    expect(comm.rank(GroupKind::Pp) == c.pp && comm.size(GroupKind::Pp) == l.pp, "pp group");

    // all_reduce over tp: the sum of the world ranks of my tp peers.
    {
        std::vector<float> v(5, static_cast<float>(r));
        comm.all_reduce(GroupKind::Tp, v.data(), v.size());
        double want = 0;
        for (int t = 0; t < l.tp; ++t) want += rank_of({c.dp, t, c.pp}, l);
        for (float x : v) expect(near(x, want), "tp all_reduce " + std::to_string(x));
    }
    // non-blocking all_reduce over dp.
    {
        std::vector<float> v(1000, static_cast<float>(r + 1));
        CommRequest req = comm.iall_reduce(GroupKind::Dp, v.data(), v.size());
        req.wait();
        double want = 0;
        for (int d = 0; d < l.dp; ++d) want += rank_of({d, c.tp, c.pp}, l) + 1;
        expect(near(v[999], want), "dp iall_reduce");
    }
    // reduce_scatter over dp with uneven counts: element i of the full vector is i*(rank+1).
    {
        std::vector<int> counts(static_cast<std::size_t>(l.dp)), displs(counts.size());
        int total = 0;
        for (int d = 0; d < l.dp; ++d) {
            counts[static_cast<std::size_t>(d)] = 2 + d;
            displs[static_cast<std::size_t>(d)] = total;
            total += 2 + d;
        }
        std::vector<float> send(static_cast<std::size_t>(total)), recv(static_cast<std::size_t>(2 + c.dp));
        for (int i = 0; i < total; ++i) send[static_cast<std::size_t>(i)] = static_cast<float>(i * (r + 1));
        CommRequest req = comm.ireduce_scatter(GroupKind::Dp, send.data(), recv.data(), counts);
        req.wait();
        double rank_sum = 0;
        for (int d = 0; d < l.dp; ++d) rank_sum += rank_of({d, c.tp, c.pp}, l) + 1;
        for (int i = 0; i < 2 + c.dp; ++i)
            expect(near(recv[static_cast<std::size_t>(i)], (displs[static_cast<std::size_t>(c.dp)] + i) * rank_sum),
                   "dp reduce_scatter");
        // all_gather back in place: block d holds d+100.
        std::vector<float> buf(static_cast<std::size_t>(total), -1.0f);
        for (int i = 0; i < counts[static_cast<std::size_t>(c.dp)]; ++i)
            buf[static_cast<std::size_t>(displs[static_cast<std::size_t>(c.dp)] + i)] = static_cast<float>(c.dp + 100);
        comm.all_gather(GroupKind::Dp, buf.data(), counts, displs);
        for (int d = 0; d < l.dp; ++d)
            for (int i = 0; i < counts[static_cast<std::size_t>(d)]; ++i)
                expect(buf[static_cast<std::size_t>(displs[static_cast<std::size_t>(d)] + i)] == static_cast<float>(d + 100),
                       "dp all_gather");
    }
    // broadcast over the world from the last rank.
    {
        double v[2] = {static_cast<double>(r), 0.5};
        comm.broadcast(GroupKind::World, v, 2, comm.world_size() - 1);
        expect(v[0] == comm.world_size() - 1, "world broadcast");
    }
    // send/recv along the pipeline: stage s sends its world rank to s+1 (blocking and non-blocking).
    if (l.pp > 1) {
        float out = static_cast<float>(r), in = -1.0f;
        if (c.pp + 1 < l.pp) {
            CommRequest s = comm.isend(GroupKind::Pp, &out, 1, c.pp + 1, 3);
            comm.send(GroupKind::Pp, &out, 1, c.pp + 1, 4);
            s.wait();
        }
        if (c.pp > 0) {
            const float want = static_cast<float>(rank_of({c.dp, c.tp, c.pp - 1}, l));
            CommRequest q = comm.irecv(GroupKind::Pp, &in, 1, c.pp - 1, 3);
            q.wait();
            expect(in == want, "pp irecv");
            in = -1.0f;
            comm.recv(GroupKind::Pp, &in, 1, c.pp - 1, 4);
            expect(in == want, "pp recv");
        }
    }
    comm.barrier(GroupKind::World);
    expect(counter.begins == counter.ends, "observer begin/end pairs");
    expect(comm.sequence(GroupKind::Tp) == 1 && comm.sequence(GroupKind::Dp) == 3 &&
               comm.sequence(GroupKind::World) == 2,
           "per-group sequence numbers");
    if (r == 0) std::printf("comm check ok: %d calls, %zu bytes on rank 0\n", counter.begins, counter.bytes);
    return 0;
}

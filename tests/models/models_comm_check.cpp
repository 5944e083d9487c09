// An MPI program (no Qt) that checks the Comm layer over real MPI groups; run by tst_models_comm
// under mpirun. Usage:
//   models_comm_check DP TP PP          every operation on every group; prints "comm check ok"
//   models_comm_check --provoke-error   sends to a rank that does not exist: SS_MPI_CHECK must
//                                       report the call and location and abort the job
//   models_comm_check --staged DP TP PP the staging transport against plain MPI (comm_checks.h);
//                                       prints "staging check ok"
//   models_comm_check --nccl-setup-error make_nccl_transport without a device fails cleanly
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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
    if (argc == 5 && std::string(argv[1]) == "--staged")
        return ss::test::staging_check({std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4])});
    if (argc != 4) {
        std::fprintf(stderr,
                     "usage: models_comm_check DP TP PP | --staged DP TP PP | --provoke-error | "
                     "--nccl-setup-error\n");
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

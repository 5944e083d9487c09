#include "profiler/clock_sync_mpi.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "profiler/clock.h"

namespace ss::profiler {

namespace {
void check(int rc, const char* call, const char* file, int line) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw std::runtime_error(std::string("MPI call `") + call + "` failed at " + file + ":" +
                             std::to_string(line) + ": " + std::string(msg, static_cast<size_t>(len)));
}
#define SS_PROF_MPI(call) check((call), #call, __FILE__, __LINE__)
constexpr int kTagPing = 0x5c10, kTagPong = 0x5c11, kTagResult = 0x5c12;
}  // namespace

ClockOffset measure_offset_to_root(MPI_Comm comm, int rounds) {
    int rank = 0, size = 1;
    SS_PROF_MPI(MPI_Comm_rank(comm, &rank));
    SS_PROF_MPI(MPI_Comm_size(comm, &size));
    if (rank == 0) {
        for (int peer = 1; peer < size; ++peer) {
            std::vector<PingPong> samples;
            samples.reserve(static_cast<size_t>(rounds));
            for (int i = 0; i < rounds; ++i) {
                PingPong s;
                s.t0 = now_ns();
                SS_PROF_MPI(MPI_Send(&s.t0, 1, MPI_INT64_T, peer, kTagPing, comm));
                SS_PROF_MPI(MPI_Recv(&s.t_peer, 1, MPI_INT64_T, peer, kTagPong, comm, MPI_STATUS_IGNORE));
                s.t1 = now_ns();
                samples.push_back(s);
            }
            ClockOffset o = best_offset(samples);
            std::int64_t msg[3] = {o.offset_ns, o.ref_peer_ns, o.rtt_ns};
            SS_PROF_MPI(MPI_Send(msg, 3, MPI_INT64_T, peer, kTagResult, comm));
        }
        ClockOffset self;
        self.valid = true;
        self.ref_peer_ns = now_ns();
        return self;
    }
    for (int i = 0; i < rounds; ++i) {
        std::int64_t t0 = 0;
        SS_PROF_MPI(MPI_Recv(&t0, 1, MPI_INT64_T, 0, kTagPing, comm, MPI_STATUS_IGNORE));
        const std::int64_t t = now_ns();
        SS_PROF_MPI(MPI_Send(&t, 1, MPI_INT64_T, 0, kTagPong, comm));
    }
    std::int64_t msg[3];
    SS_PROF_MPI(MPI_Recv(msg, 3, MPI_INT64_T, 0, kTagResult, comm, MPI_STATUS_IGNORE));
    ClockOffset o;
    o.offset_ns = msg[0];
    o.ref_peer_ns = msg[1];
    o.rtt_ns = msg[2];
    o.valid = true;
    return o;
}

}  // namespace ss::profiler

#include "profiler/clock_sync.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "profiler/clock.h"

namespace ss::profiler {

std::int64_t init_clock_skew(int world_rank) {
    const char* v = std::getenv("SCALESCOPE_TEST_CLOCK_SKEW_NS");
    if (!v || !*v) return 0;
    detail::g_clock_skew_ns = std::stoll(v) * world_rank;
    return detail::g_clock_skew_ns;
}

ClockOffset best_offset(const std::vector<PingPong>& samples) {
    ClockOffset best;
    for (const auto& s : samples) {
        if (s.t1 < s.t0) continue;  // a broken exchange
        if (!best.valid || s.rtt() < best.rtt_ns) {
            best.valid = true;
            best.rtt_ns = s.rtt();
            // Midpoint of rank 0's send and receive, the moment the peer most likely stamped.
            best.offset_ns = s.t_peer - (s.t0 + (s.t1 - s.t0) / 2);
            best.ref_peer_ns = s.t_peer;
        }
    }
    return best;
}

ClockModel clock_model(const ClockOffset& start, const ClockOffset& end) {
    ClockModel m;
    if (!start.valid && !end.valid) return m;
    const ClockOffset& a = start.valid ? start : end;
    m.valid = true;
    m.offset_ns = a.offset_ns;
    m.ref_ns = a.ref_peer_ns;
    m.rtt_ns = std::max(start.valid ? start.rtt_ns : 0, end.valid ? end.rtt_ns : 0);
    if (start.valid && end.valid && end.ref_peer_ns != start.ref_peer_ns)
        m.drift_ppb = static_cast<double>(end.offset_ns - start.offset_ns) /
                      static_cast<double>(end.ref_peer_ns - start.ref_peer_ns) * 1e9;
    return m;
}

}  // namespace ss::profiler

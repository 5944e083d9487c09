// Clock alignment of ranks: each rank's offset to rank 0 by ping-pong, the exchange with the
// smallest round trip taken (its error is at most half that round trip), measured at the start and
// the end of a run so the merge corrects offset and linear drift.
#pragma once

#include <cstdint>
#include <vector>

namespace ss::profiler {

// One ping-pong seen from rank 0: it sent at t0 (its clock), the peer stamped t_peer (its clock)
// on receipt and answered, and rank 0 received the answer at t1 (its clock).
struct PingPong {
    std::int64_t t0 = 0, t_peer = 0, t1 = 0;
    std::int64_t rtt() const { return t1 - t0; }
};

// Offset of the peer's clock relative to rank 0, from the exchange with the smallest round trip:
// offset = t_peer − (t0 + t1)/2. `ref_peer` is t_peer of that exchange (on the peer's clock).
struct ClockOffset {
    std::int64_t offset_ns = 0;
    std::int64_t ref_peer_ns = 0;
    std::int64_t rtt_ns = 0;
    bool valid = false;
};
ClockOffset best_offset(const std::vector<PingPong>& samples);

// Offset and drift from a measurement at the start and at the end of a run:
// drift_ppb = (end.offset − start.offset) / (end.ref − start.ref) · 1e9. With only `start` valid
// the drift is 0. The reported rtt is the larger of the two.
struct ClockModel {
    std::int64_t offset_ns = 0;  // at ref_ns
    std::int64_t ref_ns = 0;     // on the rank's clock
    double drift_ppb = 0;
    std::int64_t rtt_ns = 0;
    bool valid = false;
};
ClockModel clock_model(const ClockOffset& start, const ClockOffset& end);

}  // namespace ss::profiler

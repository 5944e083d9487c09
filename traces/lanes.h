// The lanes of a rank's timeline: the numbers the profiler writes (events.lane, lanes.lane) and
// the names it gives them (lanes.name). traces/SCHEMA.md, "Lanes", promises them to readers.
// Readers that find a lane by meaning use these constants (or the name, for traces written by
// other tools); nothing else writes the numbers.
#pragma once

#include <cstdint>

namespace ss::traces::lanes {

inline constexpr std::int32_t kSteps = 0;    // one span per training step
inline constexpr std::int32_t kPhases = 1;   // forward / backward / optimizer, micro-batches
inline constexpr std::int32_t kCompute = 2;  // kernels run by the rank's thread (a CPU rank's compute)
inline constexpr std::int32_t kComm = 3;     // communication, from issue to completion
inline constexpr std::int32_t kHost = 4;     // data loading and other host work
inline constexpr std::int32_t kCudaApi = 15;         // the CUDA runtime API calls of a GPU rank
inline constexpr std::int32_t kCudaStreamBase = 16;  // CUDA stream s: kCudaStreamBase + s ("stream s")
// Host threads of an imported run (Kineto CPU ops, Nsight NVTX ranges): one lane per thread from
// here up, in order of appearance ("thread <tid> (<name>)"). Far above any stream lane, so a
// stream id is never mistaken for a thread.
inline constexpr std::int32_t kHostThreadBase = 1 << 20;

// "steps", "phases", "compute", "comm", "host"; nullptr for any other lane (CUDA streams are named
// "stream <id>" by the CUPTI conversion).
constexpr const char* name(std::int32_t lane) {
    switch (lane) {
        case kSteps: return "steps";
        case kPhases: return "phases";
        case kCompute: return "compute";
        case kComm: return "comm";
        case kHost: return "host";
        default: return nullptr;
    }
}

}  // namespace ss::traces::lanes

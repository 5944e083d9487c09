// The GPU side of a rank's trace, whether or not this build has CUDA: CUPTI activity (kernels,
// copies, memsets, synchronisation, runtime and driver API calls) converted onto the profiler's
// clock, with each NCCL kernel attached to the Comm call that launched it (cupti_collector.h).
//
//   std::string why;
//   std::unique_ptr<GpuTracer> gpu = start_gpu_tracer(prof, &why);   // after the Profiler
//   if (!gpu) log(why);                     // the run goes on with host tracing only
//   ... every step: gpu->step_boundary(); prof.step_boundary();
//   ... at the end:  gpu->finish();         prof.finish(...);
#pragma once

#include <memory>
#include <string>

#include "profiler/profiler.h"

namespace ss::profiler {

class GpuTracer {
public:
    virtual ~GpuTracer();  // finishes (errors swallowed) if finish() was not called
    // Records what CUPTI has completed since the last call (no device synchronisation), with the
    // Comm calls recorded meanwhile. Call at each step boundary, before Profiler::step_boundary().
    virtual void step_boundary() = 0;
    // Synchronises the device, records everything left and stops collection. Call once, before
    // Profiler::finish(); later calls do nothing. Throws (call, file, line) on a CUDA/CUPTI error.
    virtual void finish() = 0;
    // One line: what is collected, or why not.
    virtual std::string status() const = 0;
};

// Starts GPU tracing into `prof` (which must outlive the tracer). Returns nullptr, with *why (when
// given) starting "no CUDA device:" (and the runtime's reason) or "this build has no CUPTI", when
// it cannot start; throws std::runtime_error naming the call, file and line when CUPTI fails.
// One tracer per process.
std::unique_ptr<GpuTracer> start_gpu_tracer(Profiler& prof, std::string* why);

// Whether this build can trace GPUs (CUPTI compiled in).
bool gpu_tracing_built();

}  // namespace ss::profiler

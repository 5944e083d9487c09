// The straggler knob (training.slow_rank {rank, factor}, issue 18): a Backend decorator that makes
// its rank do `factor` times its compute. After every compute kernel (the model's math, the
// optimizer's and the norm's; not memory copies or fills) it does (factor - 1) times the CPU time
// the kernel took on this thread in extra real work: single-precision matrix products on a
// private 32x32 scratch (C = A*B + 0*C), never touching the model's buffers, so the results are
// exactly the unslowed ones. The extra work runs inside the call, so a traced backend around this
// one (profiler/traced_backend.h) puts it inside the kernel's span: the slowed rank's kernel time
// is ~factor x the others'. The measure is the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID), so
// the factor holds however the machine is loaded; with blas_threads > 1 the kernels' other
// threads are not counted (the factor is then a lower bound). CPU backends only: a CUDA kernel
// returns before it ran (make_slow_backend throws std::invalid_argument for one).
#pragma once

#include <memory>

#include "kernels/backend.h"

namespace ss::models {

std::unique_ptr<kernels::Backend> make_slow_backend(std::unique_ptr<kernels::Backend> inner,
                                                    double factor);

}  // namespace ss::models

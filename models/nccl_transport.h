// NCCL behind the Comm interface (built when the CUDA toolkit has NCCL: SCALESCOPE_HAVE_NCCL).
// Rank 0 makes the unique id (ncclGetUniqueId) and broadcasts it over MPI; every rank joins the
// world communicator (ncclCommInitRank) and splits the dp / tp / pp groups from it (ncclCommSplit,
// colours of models/plan/layout.h). Collectives and send/recv on device buffers run on
// communication streams ordered against the backend's stream (Backend::native_stream) with CUDA
// events: a call starts after the kernels queued before it, and the kernels queued after its
// completion (blocking call, or CommRequest::wait) start after it, without the host waiting.
// Host buffers (the loss and norm scalars) go through MPI. Every NCCL, CUDA and MPI result is
// checked; a failure names the call, the file and the line.
#pragma once

#include <memory>
#include <string>

#include "kernels/backend.h"
#include "models/comm.h"
#include "models/plan/layout.h"

namespace ss::models {

// True when this build has NCCL.
bool nccl_built();

// MPI must be initialised; `backend` (a CUDA backend: native_stream() != nullptr) must outlive the
// transport. Throws std::runtime_error ("ncclCommInitRank(...) failed at models/nccl_transport.cpp:
// N: <reason>") on failure, std::logic_error when the build has no NCCL.
std::unique_ptr<Transport> make_nccl_transport(const Layout& layout, kernels::Backend& backend);

}  // namespace ss::models

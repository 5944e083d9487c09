// NCCL behind the Comm interface (built when the CUDA toolkit has NCCL: SCALESCOPE_HAVE_NCCL).
// Rank 0 makes the unique id (ncclGetUniqueId) and broadcasts it over MPI; every rank joins the
// world communicator (ncclCommInitRank) and splits the dp / tp / pp groups from it (ncclCommSplit,
// colours of models/plan/layout.h). Collectives and send/recv on device buffers run on
// communication streams ordered against the backend's stream (Backend::native_stream) with CUDA
// events: a call starts after the kernels queued before it, and the kernels queued after its
// completion (blocking call, or CommRequest::wait) start after it, without the host waiting.
// Host buffers (the loss and norm scalars) go through MPI. Every NCCL, CUDA and MPI result is
// checked; a failure names the call, the file and the line.
//
// Communicators: the world (ncclCommInitRank); one per dp / tp / pp group of more than one rank
// that is not the whole world (a group spanning the world uses the world communicator; a group
// of one rank needs none: its collectives are identities or a device copy, and it has no peer);
// and, per communicator of more than one rank, two point-to-point communicators split from it,
// one for messages to a higher index in the group and one for messages to a lower index. Each
// communicator has its own stream (highest priority). NCCL matches sends and receives in posting
// order, without tags: between two ranks, the messages of one direction must be posted in the same
// order on both sides (the pipeline's activations go up, its gradients down; tags are ignored).
// Blocking calls return once queued (the backend's stream waits for them); barrier() is MPI's,
// on the host. Requests must be completed before the transport is destroyed (Comm's rule).
// Destruction finalises and destroys every communicator (all ranks of a node must do the same),
// or aborts them when an exception is unwinding the stack.
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

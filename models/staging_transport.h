// Device buffers over a host transport (DESIGN.md "Backends"): when ranks cannot use NCCL (two
// ranks on one GPU, or backend.comm = "mpi"), every call whose buffer is device memory of the
// backend (Backend::is_device_pointer) is staged through page-locked host buffers: device -> host
// copy on the backend's queue (so the copy follows the kernels that wrote the buffer), the inner
// transport's call on the host buffer, host -> device copy when the call completes. Host buffers
// pass straight through. Non-blocking calls keep their staging buffer until waited on (or until
// test() finds them complete), and copy the result back then. Staging buffers come from a pool
// keyed by size (Backend::allocate_host), so a training step's repeated calls allocate nothing
// after the first step. all_gather moves this rank's block down and the other blocks back up;
// broadcast copies down on the root and back up elsewhere. Requests must be completed before the
// transport is destroyed (Comm's rule).
#pragma once

#include <memory>

#include "kernels/backend.h"
#include "models/comm.h"

namespace ss::models {

// `backend` must outlive the transport.
std::unique_ptr<Transport> make_staging_transport(std::unique_ptr<Transport> inner,
                                                  kernels::Backend& backend);

}  // namespace ss::models

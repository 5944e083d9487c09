// Device buffers over a host transport (DESIGN.md "Backends"): when ranks cannot use NCCL (two
// ranks on one GPU, or backend.comm = "mpi"), every call whose buffer is device memory of the
// backend (Backend::is_device_pointer) is staged through page-locked host buffers: device -> host
// copy on the backend's queue (so the copy follows the kernels that wrote the buffer), the inner
// transport's call on the host buffer, host -> device copy when the call completes. Host buffers
// pass straight through. Non-blocking calls keep their staging buffer until waited on.
#pragma once

#include <memory>

#include "kernels/backend.h"
#include "models/comm.h"

namespace ss::models {

// `backend` must outlive the transport.
std::unique_ptr<Transport> make_staging_transport(std::unique_ptr<Transport> inner,
                                                  kernels::Backend& backend);

}  // namespace ss::models

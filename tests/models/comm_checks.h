// The device-transport checks of models_comm_check (comm_checks.cpp), run under mpirun by
// tst_models_comm. Each returns the process exit code; failures abort the job with a message.
#pragma once

#include "models/plan/layout.h"

namespace ss::test {

// The staging transport over MPI, with a CPU backend whose allocate() memory counts as device
// memory, against plain MPI: every operation, blocking and non-blocking, on every group gives
// bit-identical results; no device pointer reaches MPI; host buffers pass straight through; the
// host buffers are pooled (a second identical pass allocates none). Prints "staging check ok".
int staging_check(const models::Layout& layout);

// make_nccl_transport without a usable device fails with a clear exception on every rank (no
// crash, no hang). Prints "nccl setup error ok: <message>" (a build with NCCL) or
// "nccl not built ok: <message>".
int nccl_setup_error_check();

}  // namespace ss::test

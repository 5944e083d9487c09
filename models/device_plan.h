// Which device each rank trains on and how the ranks talk (backend.device, backend.comm): a pure
// decision over facts every rank gathered (its node-local rank, the ranks on its node, the GPUs it
// sees), so every rank takes the same decision and the rules are tested without MPI or a GPU.
//
//   device "cpu"   every rank on the CPU backend, MPI.
//   device "cuda"  every rank on a GPU: local rank l of a node with g visible GPUs takes GPU l % g.
//                  A rank that sees no GPU ends the job before training (NoDevice).
//   device "auto"  a rank that sees a GPU takes one as above, the others stay on the CPU.
//   comm "nccl"    NCCL between the GPU ranks: needs every rank on a GPU of its own (NCCL refuses
//                  two ranks on one device), else the job ends before training (NcclShared, ...).
//   comm "mpi"     MPI; GPU ranks stage device buffers through pinned host memory, so ranks may
//                  share a GPU (a laptop, a workshop machine, a one-GPU test machine).
//   comm "auto"    NCCL when every rank has a GPU of its own and the build has NCCL, else MPI.
#pragma once

#include <string>
#include <vector>

namespace ss::models {

struct RankDeviceFacts {
    int local_rank = 0;  // index among the ranks of its node (MPI_COMM_TYPE_SHARED)
    int local_size = 1;  // ranks on its node
    int gpus = 0;        // CUDA devices the rank sees (CUDA_VISIBLE_DEVICES applied); 0 if none
};

enum class DeviceProblem {
    None,
    NoDevice,       // device "cuda" and a rank sees no GPU (the rank says the driver's reason)
    NcclShared,     // comm "nccl" and ranks of a node share a GPU
    NcclCpuRanks,   // comm "nccl" and some ranks are on the CPU (device "auto" on a GPU-less rank)
    NcclNotBuilt,   // comm "nccl" and this build has no NCCL
};

struct DeviceDecision {
    bool cuda = false;    // this rank trains on a GPU
    int ordinal = -1;     // its CUDA device
    bool nccl = false;    // the job communicates through NCCL (else MPI, staged for GPU ranks)
    bool shared = false;  // some GPU is used by more than one rank
    int gpu_ranks = 0;    // ranks on a GPU
    DeviceProblem problem = DeviceProblem::None;
    int problem_rank = -1;  // the lowest rank the problem concerns: it prints the message
    std::string comm_reason;  // why auto chose MPI, for the run's log ("" when not auto or NCCL)
};

// `facts` holds every world rank's facts (index = world rank); `me` is this rank.
DeviceDecision decide_device(const std::string& device, const std::string& comm, bool nccl_built,
                             const std::vector<RankDeviceFacts>& facts, int me);

// "no CUDA device: ...", "backend.comm=\"nccl\": ..." — the one line the problem rank prints.
// `why` is that rank's driver reason (NoDevice), `host` its host name.
std::string device_problem_message(const DeviceDecision& d, const std::vector<RankDeviceFacts>& facts,
                                   const std::string& why, const std::string& host);

}  // namespace ss::models

#include "models/device_plan.h"

#include <algorithm>

namespace ss::models {

namespace {
bool node_shares(const RankDeviceFacts& f) { return f.gpus > 0 && f.local_size > f.gpus; }
}  // namespace

DeviceDecision decide_device(const std::string& device, const std::string& comm, bool nccl_built,
                             const std::vector<RankDeviceFacts>& facts, int me) {
    DeviceDecision d;
    const int world = static_cast<int>(facts.size());
    auto fail = [&](DeviceProblem p, int rank) {
        d.problem = p;
        d.problem_rank = rank;
        d.cuda = false;
        d.ordinal = -1;
        d.nccl = false;
        return d;
    };
    if (device == "cpu") return d;

    std::vector<bool> on_gpu(static_cast<std::size_t>(world), false);
    for (int r = 0; r < world; ++r) {
        const RankDeviceFacts& f = facts[static_cast<std::size_t>(r)];
        if (f.gpus > 0) {
            on_gpu[static_cast<std::size_t>(r)] = true;
            ++d.gpu_ranks;
            d.shared = d.shared || node_shares(f);
        } else if (device == "cuda") {
            return fail(DeviceProblem::NoDevice, r);
        }
    }
    if (d.gpu_ranks == 0) {  // auto, no GPU anywhere: the CPU job it always was
        if (comm == "nccl") return fail(DeviceProblem::NcclCpuRanks, 0);
        return d;
    }
    if (comm == "nccl") {
        if (!nccl_built) return fail(DeviceProblem::NcclNotBuilt, 0);
        for (int r = 0; r < world; ++r)
            if (!on_gpu[static_cast<std::size_t>(r)]) return fail(DeviceProblem::NcclCpuRanks, r);
        for (int r = 0; r < world; ++r)
            if (node_shares(facts[static_cast<std::size_t>(r)])) return fail(DeviceProblem::NcclShared, r);
        d.nccl = true;
    } else if (comm == "auto") {
        if (!nccl_built)
            d.comm_reason = "this build has no NCCL";
        else if (d.gpu_ranks < world)
            d.comm_reason = std::to_string(world - d.gpu_ranks) + " of " + std::to_string(world) +
                            " ranks see no GPU";
        else if (d.shared)
            d.comm_reason = "ranks share a GPU (NCCL needs one GPU per rank)";
        d.nccl = d.comm_reason.empty();
    }
    const RankDeviceFacts& mine = facts[static_cast<std::size_t>(me)];
    d.cuda = on_gpu[static_cast<std::size_t>(me)];
    d.ordinal = d.cuda ? mine.local_rank % mine.gpus : -1;
    return d;
}

std::string device_problem_message(const DeviceDecision& d, const std::vector<RankDeviceFacts>& facts,
                                   const std::string& why, const std::string& host) {
    const int r = d.problem_rank;
    const RankDeviceFacts f = r >= 0 && r < static_cast<int>(facts.size()) ? facts[static_cast<std::size_t>(r)]
                                                                           : RankDeviceFacts{};
    const std::string where = "rank " + std::to_string(r) + " on " + host;
    switch (d.problem) {
        case DeviceProblem::None: return {};
        case DeviceProblem::NoDevice:
            return "no CUDA device: " + why + " (" + where +
                   ", backend.device=\"cuda\"; use \"auto\" or \"cpu\" to train on the CPU)";
        case DeviceProblem::NcclShared:
            return "backend.comm=\"nccl\": " + std::to_string(f.local_size) + " ranks on " + host + " share " +
                   std::to_string(f.gpus) + (f.gpus == 1 ? " GPU" : " GPUs") +
                   "; NCCL needs one GPU per rank. Start at most " + std::to_string(f.gpus) +
                   " ranks per node, or set backend.comm to \"mpi\" (device buffers staged through pinned "
                   "host memory) or \"auto\"";
        case DeviceProblem::NcclCpuRanks:
            return "backend.comm=\"nccl\": " + where +
                   " sees no GPU and trains on the CPU; NCCL needs every rank on a GPU. Set backend.comm to "
                   "\"mpi\" or \"auto\"";
        case DeviceProblem::NcclNotBuilt:
            return "backend.comm=\"nccl\": this worker was built without NCCL (no nccl.h / libnccl in the CUDA "
                   "toolkit at build time). Set backend.comm to \"mpi\" or \"auto\"";
    }
    return {};
}

}  // namespace ss::models

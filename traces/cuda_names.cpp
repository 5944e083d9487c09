#include "traces/cuda_names.h"

#include <array>

namespace ss::traces {

const char* memcpy_kind_name(std::int64_t copy_kind) {
    static constexpr std::array<const char*, 14> kNames = {
        "memcpy",      "memcpy HtoD", "memcpy DtoH",       "memcpy HtoA",       "memcpy AtoH",
        "memcpy AtoA", "memcpy AtoD", "memcpy DtoA",       "memcpy DtoD",       "memcpy HtoH",
        "memcpy PtoP", "memcpy HtoD (UVM)", "memcpy DtoH (UVM)", "memcpy DtoD (UVM)"};
    return copy_kind > 0 && copy_kind < static_cast<std::int64_t>(kNames.size())
               ? kNames[static_cast<std::size_t>(copy_kind)]
               : kNames[0];
}

const char* sync_type_name(std::int64_t sync_type) {
    switch (sync_type) {
        case 1: return "cudaEventSynchronize";
        case 2: return "cudaStreamWaitEvent";
        case 3: return "cudaStreamSynchronize";
        case 4: return "cudaDeviceSynchronize";
        default: return "synchronize";
    }
}

std::optional<std::string_view> nccl_kernel_op(std::string_view name) {
    for (std::string_view prefix : {std::string_view("ncclKernel_"), std::string_view("ncclDevKernel_")}) {
        if (name.substr(0, prefix.size()) != prefix) continue;
        const std::string_view rest = name.substr(prefix.size());
        return rest.substr(0, rest.find_first_of("_("));
    }
    return std::nullopt;
}

}  // namespace ss::traces

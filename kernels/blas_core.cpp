// CPU instruction-set detection and the OpenBLAS kernel choice (kernels/blas_core.h).
#include "kernels/blas_core.h"

#include <strings.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <cblas.h>

namespace ss::kernels {

CpuIsa detect_cpu_isa() {
    CpuIsa isa;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    isa.amd = __builtin_cpu_is("amd");
    isa.avx2 = __builtin_cpu_supports("avx2");
    isa.fma = __builtin_cpu_supports("fma");
    isa.avx512f = __builtin_cpu_supports("avx512f");
    isa.avx512bw = __builtin_cpu_supports("avx512bw");
    isa.avx512vl = __builtin_cpu_supports("avx512vl");
    isa.avx512dq = __builtin_cpu_supports("avx512dq");
    isa.avx512cd = __builtin_cpu_supports("avx512cd");
    isa.avx512bf16 = __builtin_cpu_supports("avx512bf16");
#endif
    return isa;
}

std::string blas_core_for(const CpuIsa& isa) {
    if (isa.avx512f && isa.avx512bw && isa.avx512vl && isa.avx512dq && isa.avx512cd)
        return isa.avx512bf16 ? "COOPERLAKE" : "SKYLAKEX";
    if (isa.avx2 && isa.fma) return isa.amd ? "ZEN" : "HASWELL";
    return {};
}

int blas_core_tier(const std::string& core) {
    for (const char* c : {"skylakex", "cooperlake", "sapphirerapids"})
        if (strcasecmp(core.c_str(), c) == 0) return 2;
    for (const char* c : {"haswell", "zen"})
        if (strcasecmp(core.c_str(), c) == 0) return 1;
    return 0;
}

std::string blas_core_name() {
    const char* n = openblas_get_corename();
    return n ? std::string(n) : std::string();
}

std::string select_blas_core(char** argv) {
    if (const char* set = std::getenv("OPENBLAS_CORETYPE"); set && *set)
        return {};  // the user's (or ours, re-executed)
    const std::string want = blas_core_for(detect_cpu_isa());
    if (want.empty()) return {};
    const std::string have = blas_core_name();
    const bool better = blas_core_tier(want) > blas_core_tier(have);
    if (setenv("OPENBLAS_CORETYPE", better ? want.c_str() : have.c_str(), 1) != 0)
        return std::string("OPENBLAS_CORETYPE not set: setenv: ") + std::strerror(errno) + " (" +
               __FILE__ + ":" + std::to_string(__LINE__) + ")";
    if (!better) return {};
    execv("/proc/self/exe", argv);  // returns only on failure
    const std::string why = std::strerror(errno);
    unsetenv("OPENBLAS_CORETYPE");
    return "OpenBLAS runs its " + have + " kernel; re-executing with OPENBLAS_CORETYPE=" + want +
           " failed: execv(/proc/self/exe): " + why + " (" + __FILE__ + ":" +
           std::to_string(__LINE__) + ")";
}

}  // namespace ss::kernels

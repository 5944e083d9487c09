// Which OpenBLAS kernel ("core type") runs sgemm, and choosing the CPU's best one.
//
// OpenBLAS built with DYNAMIC_ARCH (Debian's) picks its kernel from the CPU model in its load-time
// constructor, before main(); an unknown model falls back to an older kernel (0.3.21 runs its AVX2
// "Haswell" kernel on AVX-512 CPUs it does not know: sgemm at half speed). The environment variable
// OPENBLAS_CORETYPE, read by that constructor, overrides the choice, so the choice must be in the
// environment when the process starts: select_blas_core() re-executes the program once with it set.
#pragma once

#include <string>

namespace ss::kernels {

// The instruction-set features the choice depends on (CPUID leaves 1 and 7, with the OS saving the
// AVX / AVX-512 registers: GCC's __builtin_cpu_supports checks XCR0 too).
struct CpuIsa {
    bool amd = false;  // vendor AuthenticAMD
    bool avx2 = false, fma = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512cd = false;
    bool avx512bf16 = false;
};
CpuIsa detect_cpu_isa();

// The OPENBLAS_CORETYPE for a CPU: AVX-512 F+BW+VL+DQ+CD: "COOPERLAKE" with BF16, else "SKYLAKEX";
// AVX2+FMA: "ZEN" on AMD, else "HASWELL"; "" otherwise (OpenBLAS's own choice stands).
std::string blas_core_for(const CpuIsa& isa);

// The vector width class of an OpenBLAS core name (case-insensitive): 2 for the AVX-512 kernels
// (SkylakeX, Cooperlake, SapphireRapids), 1 for the AVX2 ones (Haswell, Zen), 0 otherwise.
int blas_core_tier(const std::string& core);

// The kernel OpenBLAS runs in this process (openblas_get_corename(): "Cooperlake", "Haswell", ...).
std::string blas_core_name();

// Call first in main(), before threads or MPI start. Where OPENBLAS_CORETYPE is unset and the
// library runs a kernel of a lower tier than the CPU supports, sets OPENBLAS_CORETYPE to
// blas_core_for(detect_cpu_isa()) and re-executes the program (/proc/self/exe, the same argv and
// environment) so that the library's constructor loads that kernel; where the choice is already
// right, sets the variable for child processes and returns. A value the user set always wins.
// Returns what it did in one line (empty when nothing); if the re-execution fails, the line says
// why and the process carries on with the library's choice.
std::string select_blas_core(char** argv);

}  // namespace ss::kernels

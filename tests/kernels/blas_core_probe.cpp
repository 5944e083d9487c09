// blas_core_probe: what select_blas_core() leaves a process with, for tst_kernels_backend.
// Prints "core <openblas_get_corename()> env <OPENBLAS_CORETYPE or -> note <select_blas_core's
// line>".
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/blas_core.h"

int main(int, char** argv) {
    const std::string note = ss::kernels::select_blas_core(argv);
    const char* env = std::getenv("OPENBLAS_CORETYPE");
    std::printf("core %s env %s note %s\n", ss::kernels::blas_core_name().c_str(),
                env && *env ? env : "-", note.empty() ? "-" : note.c_str());
    return 0;
}

// Writes the synthetic parameter-server trace of ps_trace_fixture.h to a file, for screenshots and
// for trying the readers by hand:  make_ps_trace OUT.sqlite [WORKERS] [STEPS]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "ps_trace_fixture.h"

int main(int argc, char** argv) {
    if (argc < 2 || argc > 4) {
        std::fprintf(stderr, "usage: %s OUT.sqlite [WORKERS >= 2] [STEPS >= 1]\n", argv[0]);
        return 2;
    }
    const int workers = argc > 2 ? std::atoi(argv[2]) : 3;
    const int steps = argc > 3 ? std::atoi(argv[3]) : 6;
    if (workers < 2 || steps < 1) {
        std::fprintf(stderr, "%s: WORKERS must be >= 2 and STEPS >= 1\n", argv[0]);
        return 2;
    }
    try {
        psfx::write_ps_file(argv[1], workers, steps);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 1;
    }
    std::printf("%s: %d workers + 2 servers, %d steps\n", argv[1], workers, steps);
    return 0;
}

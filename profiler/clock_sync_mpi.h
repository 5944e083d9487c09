// Ping-pong clock measurement over MPI (profiler/clock_sync.h has the math).
#pragma once

#include <mpi.h>

#include "profiler/clock_sync.h"

namespace ss::profiler {

// Collective over `comm`: rank 0 exchanges `rounds` ping-pongs with every other rank in turn and
// tells each its offset. Returns this rank's offset to rank 0 (rank 0: offset 0, valid). Throws
// std::runtime_error naming the MPI call, file and line when MPI fails.
ClockOffset measure_offset_to_root(MPI_Comm comm, int rounds = 20);

}  // namespace ss::profiler

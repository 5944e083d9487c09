// Part of scalescope_plan (models/plan/README.md): pure functions, no MPI.
//
// The hosts of a job's ranks and the two levels `scalescope-cli calibrate` measures across them
// (docs/LAUNCH.md, "Calibrating a cluster"): links inside a host (intra) and between hosts (inter).
// The levels need what the layout's rank mapping (layout.h) assumes of a packed job: every host
// holds the same number of ranks k, and a host's ranks are consecutive (rank r on host r / k, what
// mpirun's default --map-by slot does with a host file of slots=k). Then the tensor-parallel group of
// (dp = world/g, tp = g) with g dividing k lies inside one host, and the data-parallel group of
// (dp = h, tp = k, pp = H/h) holds one rank of each of h hosts.
#pragma once

#include <string>
#include <vector>

namespace ss::models {

struct HostLevels {
    int hosts = 0;                    // distinct hosts, in order of their first rank
    int ranks_per_host = 0;           // k
    std::vector<std::string> names;   // the hosts, in that order
    std::string error;                // non-empty: the ranks cannot be measured in levels, and why
};

// From the host name of every world rank (index = rank). `error` names the host and its ranks where
// the placement is uneven or not consecutive, or a host with a single rank when there are several
// hosts (no intra-host group to measure). One host: hosts = 1, ranks_per_host = world, no error.
HostLevels host_levels(const std::vector<std::string>& host_of_rank);

}  // namespace ss::models

#include "models/plan/hosts.h"

#include <algorithm>
#include <cstddef>

namespace ss::models {

namespace {
std::string ranks_of(const std::vector<std::string>& host_of_rank, const std::string& host) {
    std::string out;
    int shown = 0;
    for (std::size_t r = 0; r < host_of_rank.size(); ++r) {
        if (host_of_rank[r] != host) continue;
        if (++shown > 8) {
            out += ", ...";
            break;
        }
        out += (out.empty() ? "" : ", ") + std::to_string(r);
    }
    return out;
}
}  // namespace

HostLevels host_levels(const std::vector<std::string>& host_of_rank) {
    HostLevels L;
    for (const auto& h : host_of_rank)
        if (std::find(L.names.begin(), L.names.end(), h) == L.names.end()) L.names.push_back(h);
    L.hosts = static_cast<int>(L.names.size());
    const int world = static_cast<int>(host_of_rank.size());
    if (L.hosts == 0) {
        L.error = "no ranks";
        return L;
    }
    if (L.hosts == 1) {
        L.ranks_per_host = world;
        return L;
    }
    const std::string how =
        " (give every host the same slots=N in the host file and keep mpirun's default --map-by slot)";
    if (world % L.hosts != 0) {
        L.error = std::to_string(world) + " ranks do not divide evenly over " + std::to_string(L.hosts) +
                  " hosts: " + L.names.front() + " holds ranks " + ranks_of(host_of_rank, L.names.front()) + how;
        return L;
    }
    L.ranks_per_host = world / L.hosts;
    for (int r = 0; r < world; ++r) {
        const std::string& expect = L.names[static_cast<std::size_t>(r / L.ranks_per_host)];
        if (host_of_rank[static_cast<std::size_t>(r)] != expect) {
            const std::string& h = host_of_rank[static_cast<std::size_t>(r)];
            L.error = "the ranks of a host must be consecutive, " + std::to_string(L.ranks_per_host) +
                      " per host: rank " + std::to_string(r) + " runs on " + h + ", which holds ranks " +
                      ranks_of(host_of_rank, h) + how;
            return L;
        }
    }
    if (L.ranks_per_host < 2)
        L.error = "one rank per host on " + std::to_string(L.hosts) +
                  " hosts: the intra-host link needs at least 2 ranks on every host (slots=2 or more in the "
                  "host file; calibrate on one host alone measures only its own links)";
    return L;
}

}  // namespace ss::models

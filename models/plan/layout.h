// Part of scalescope_plan (models/plan/README.md): pure functions, no MPI, no kernels.
//
// The parallel layout of a run and THE rank mapping (models/LAYOUT.md explains it with a table).
//
//   world = dp x tp x pp, and for a world rank r:
//     tp_index = r % tp                  (fastest: tensor-parallel peers are neighbours, so they
//     dp_index = (r / tp) % dp            share a node when ranks are packed by node)
//     pp_index = r / (tp * dp)           (slowest: a pipeline stage is a contiguous block of ranks)
//   r = (pp_index * dp + dp_index) * tp + tp_index
//
// Groups (built with MPI_Comm_split in models/comm.cpp from exactly these functions):
//   tp group: same (pp, dp), ordered by tp_index     dp group: same (pp, tp), ordered by dp_index
//   pp group: same (dp, tp), ordered by pp_index     world: everyone, ordered by world rank
#pragma once

#include <string>

namespace ss::models {

struct Layout {
    int dp = 1;
    int tp = 1;
    int pp = 1;
    int world() const { return dp * tp * pp; }
    bool operator==(const Layout&) const = default;
};

// The coordinates of one rank in the layout.
struct Coord {
    int dp = 0;
    int tp = 0;
    int pp = 0;
    bool operator==(const Coord&) const = default;
};

// rank -> coordinates; throws std::out_of_range for rank outside [0, world).
Coord coord_of(int world_rank, const Layout& layout);
// coordinates -> rank; throws std::out_of_range for a coordinate outside the layout.
int rank_of(const Coord& c, const Layout& layout);

// Colour and key of each group for MPI_Comm_split: ranks with the same colour form one group,
// ordered by key (= their index inside the group).
struct SplitKey {
    int color = 0;
    int key = 0;
};
SplitKey dp_split(int world_rank, const Layout& layout);
SplitKey tp_split(int world_rank, const Layout& layout);
SplitKey pp_split(int world_rank, const Layout& layout);

// The world rank of member `index` of `world_rank`'s group along `axis` (the group's members are
// ordered by their coordinate on that axis). Member 0 is the group's lowest world rank, the id a
// trace gives the group (traces/SCHEMA.md, events.group_id). Throws std::out_of_range like rank_of.
enum class Axis { Dp, Tp, Pp };
int group_member(int world_rank, Axis axis, int index, const Layout& layout);

// "dp2xtp2xpp1"-style name used in messages.
std::string to_string(const Layout& layout);

}  // namespace ss::models

#include "models/plan/layout.h"

#include <stdexcept>

namespace ss::models {

Coord coord_of(int world_rank, const Layout& l) {
    if (world_rank < 0 || world_rank >= l.world())
        throw std::out_of_range("rank " + std::to_string(world_rank) + " outside world of " +
                                std::to_string(l.world()) + " (" + to_string(l) + ")");
    Coord c;
    c.tp = world_rank % l.tp;
    c.dp = (world_rank / l.tp) % l.dp;
    c.pp = world_rank / (l.tp * l.dp);
    return c;
}

int rank_of(const Coord& c, const Layout& l) {
    if (c.dp < 0 || c.dp >= l.dp || c.tp < 0 || c.tp >= l.tp || c.pp < 0 || c.pp >= l.pp)
        throw std::out_of_range("coordinate (dp " + std::to_string(c.dp) + ", tp " +
                                std::to_string(c.tp) + ", pp " + std::to_string(c.pp) +
                                ") outside layout " + to_string(l));
    return (c.pp * l.dp + c.dp) * l.tp + c.tp;
}

SplitKey dp_split(int r, const Layout& l) {
    const Coord c = coord_of(r, l);
    return {c.pp * l.tp + c.tp, c.dp};
}

SplitKey tp_split(int r, const Layout& l) {
    const Coord c = coord_of(r, l);
    return {c.pp * l.dp + c.dp, c.tp};
}

SplitKey pp_split(int r, const Layout& l) {
    const Coord c = coord_of(r, l);
    return {c.dp * l.tp + c.tp, c.pp};
}

int group_member(int r, Axis axis, int index, const Layout& l) {
    Coord c = coord_of(r, l);
    switch (axis) {
        case Axis::Dp:
            c.dp = index;
            break;
        case Axis::Tp:
            c.tp = index;
            break;
        case Axis::Pp:
            c.pp = index;
            break;
    }
    return rank_of(c, l);
}

std::string to_string(const Layout& l) {
    return "dp" + std::to_string(l.dp) + "xtp" + std::to_string(l.tp) + "xpp" +
           std::to_string(l.pp);
}

}  // namespace ss::models

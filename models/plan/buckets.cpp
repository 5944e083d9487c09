#include "models/plan/buckets.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace ss::models {

std::size_t bucket_elems_for_mb(double mb) {
    if (mb <= 0) return 0;
    const double elems = mb * 1048576.0 / sizeof(float);
    return std::max<std::size_t>(1, static_cast<std::size_t>(elems));
}

namespace {
// Elements per bucket: bucket_elems (all of n when 0), at least 1, at most INT32_MAX (MPI counts).
std::size_t bucket_step(std::size_t n, std::size_t bucket_elems) {
    const std::size_t step = bucket_elems == 0 ? n : bucket_elems;
    return std::min(std::max<std::size_t>(step, 1), static_cast<std::size_t>(INT32_MAX));
}
}  // namespace

std::size_t bucket_count(std::size_t n, std::size_t bucket_elems) {
    const std::size_t step = bucket_step(n, bucket_elems);
    return (n + step - 1) / step;
}

Bucket bucket_range(std::size_t n, std::size_t bucket_elems, std::size_t k) {
    const std::size_t step = bucket_step(n, bucket_elems);
    Bucket b;
    b.end = n - std::min(n, k * step);
    b.begin = b.end > step ? b.end - step : 0;
    return b;
}

std::vector<Bucket> bucket_ranges(std::size_t n, std::size_t bucket_elems) {
    const std::size_t count = bucket_count(n, bucket_elems);
    std::vector<Bucket> out;
    out.reserve(count);
    for (std::size_t k = 0; k < count; ++k) out.push_back(bucket_range(n, bucket_elems, k));
    return out;
}

std::vector<Bucket> plan_buckets(std::size_t n, std::size_t bucket_elems, int dp) {
    if (dp < 1) throw std::invalid_argument("plan_buckets: dp must be >= 1");
    std::vector<Bucket> out = bucket_ranges(n, bucket_elems);
    for (Bucket& b : out) {
        const std::size_t len = b.size();
        b.counts.resize(static_cast<std::size_t>(dp));
        b.displs.resize(static_cast<std::size_t>(dp));
        for (int r = 0; r < dp; ++r) {
            const std::size_t lo = len * static_cast<std::size_t>(r) / static_cast<std::size_t>(dp);
            const std::size_t hi =
                len * static_cast<std::size_t>(r + 1) / static_cast<std::size_t>(dp);
            b.displs[static_cast<std::size_t>(r)] = static_cast<int>(lo);
            b.counts[static_cast<std::size_t>(r)] = static_cast<int>(hi - lo);
        }
    }
    return out;
}

}  // namespace ss::models

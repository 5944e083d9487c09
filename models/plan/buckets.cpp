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

std::vector<Bucket> bucket_ranges(std::size_t n, std::size_t bucket_elems) {
    const std::size_t cap = static_cast<std::size_t>(INT32_MAX);
    std::size_t step = bucket_elems == 0 ? n : bucket_elems;
    step = std::min(std::max<std::size_t>(step, 1), cap);
    std::vector<Bucket> out;
    out.reserve(n / step + 1);
    std::size_t end = n;
    while (end > 0) {
        Bucket b;
        b.end = end;
        b.begin = end > step ? end - step : 0;
        out.push_back(std::move(b));
        end = out.back().begin;
    }
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

// Gradient buckets for data parallelism (DESIGN.md, "Parallel layouts", DP).
//
// The parameters of a stage live in one flat buffer in forward order, so backward finishes them
// from the end towards the start. Buckets are contiguous ranges cut from the END of the buffer:
// bucket 0 = the last `bucket_elems` parameters (ready first), bucket 1 the range before it, ...
// so a bucket's all-reduce can start as soon as backward has passed its first element.
//
// For ZeRO-1 every bucket is further cut into dp chunks: rank r owns
//   [begin + len*r/dp, begin + len*(r+1)/dp)       (integer division; sizes differ by at most 1)
// receives that chunk of the reduce-scatter, updates it with AdamW, and all-gathers it back.
#pragma once

#include <cstddef>
#include <vector>

namespace ss::models {

struct Bucket {
    std::size_t begin = 0;  // first element in the flat buffer
    std::size_t end = 0;    // one past the last
    std::vector<int> counts;  // (dp) chunk sizes, chunk r belongs to dp rank r
    std::vector<int> displs;  // (dp) chunk offsets relative to begin
    std::size_t size() const { return end - begin; }
};

// Elements per bucket for a size in MiB (2^20 bytes) of float32: max(1, floor(mb * 2^20 / 4)).
// mb <= 0 means "one bucket for everything" (returns 0).
std::size_t bucket_elems_for_mb(double mb);

// Buckets over [0, n) as described above; bucket_elems == 0 gives a single bucket. Buckets are
// limited to INT32_MAX elements (MPI counts). n == 0 gives no bucket. Throws
// std::invalid_argument for dp < 1.
std::vector<Bucket> plan_buckets(std::size_t n, std::size_t bucket_elems, int dp);

}  // namespace ss::models

// Part of scalescope_plan (models/plan/README.md): pure functions, no MPI, no kernels.
//
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

// Each parameter tensor starts at a multiple of kParamAlign floats (64 bytes) of the flat buffer,
// so a tensor of n elements takes padded_elems(n) of it (models/params.h ParamStore). Buckets are
// cut from the padded buffer.
inline constexpr std::size_t kParamAlign = 16;
constexpr std::size_t padded_elems(std::size_t n) {
    return (n + kParamAlign - 1) / kParamAlign * kParamAlign;
}

struct Bucket {
    std::size_t begin = 0;    // first element in the flat buffer
    std::size_t end = 0;      // one past the last
    std::vector<int> counts;  // (dp) chunk sizes, chunk r belongs to dp rank r
    std::vector<int> displs;  // (dp) chunk offsets relative to begin
    std::size_t size() const { return end - begin; }
};

// Elements per bucket for a size in MiB (2^20 bytes) of float32: max(1, floor(mb * 2^20 / 4)).
// mb <= 0 means "one bucket for everything" (returns 0).
std::size_t bucket_elems_for_mb(double mb);

// How many buckets plan_buckets cuts from n elements, and bucket k's range (counts and displs
// left empty), without building the plan: the simulator's analytic engine loops over them.
std::size_t bucket_count(std::size_t n, std::size_t bucket_elems);
Bucket bucket_range(std::size_t n, std::size_t bucket_elems, std::size_t k);

// The ranges of the buckets over [0, n), in the order they become ready (from the end); the
// counts and displs are left empty. Cheap enough for the simulator's analytic engine.
// bucket_elems == 0 gives a single bucket; n == 0 gives none.
std::vector<Bucket> bucket_ranges(std::size_t n, std::size_t bucket_elems);

// Once backward has produced the gradients of every element from `offset` on, the buckets
// [next, returned index) are complete and can be reduced (bucket order: as planned, from the end).
template <class BucketVec>
std::size_t buckets_ready(const BucketVec& buckets, std::size_t next, std::size_t offset) {
    while (next < buckets.size() && buckets[next].begin >= offset) ++next;
    return next;
}

// Buckets over [0, n) as described above (bucket_ranges with the ZeRO-1 chunks); bucket_elems == 0
// gives a single bucket. Buckets are limited to INT32_MAX elements (MPI counts). n == 0 gives no
// bucket. Throws std::invalid_argument for dp < 1.
std::vector<Bucket> plan_buckets(std::size_t n, std::size_t bucket_elems, int dp);

}  // namespace ss::models

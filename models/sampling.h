// Data order: the global batch of step s is a fixed function of (seed, s), independent of the
// layout. Data-parallel replica d takes samples [d*B/dp, (d+1)*B/dp) of it and micro-batch k of a
// replica the k-th contiguous sub-slice (models/trainer.cpp), so every layout sees the same samples
// in the same step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ss::models {

// Text: sequence i of step s starts at byte offset
//   splitmix64(seed_key ^ splitmix64(s * 2^20 + i)) % (corpus_len - seq_len)
// and covers seq_len + 1 bytes (inputs and the shifted targets).
class SequenceSampler {
public:
    // Throws std::invalid_argument when the corpus is shorter than seq_len + 1 bytes.
    SequenceSampler(std::size_t corpus_len, int seq_len, std::uint64_t seed);
    std::size_t start(std::int64_t step, int i) const;

private:
    std::size_t range_ = 0;
    std::uint64_t key_ = 0;
};

// Images: an epoch is a permutation of [0, n) (Fisher-Yates driven by (seed, epoch)); the global
// batches walk the concatenated epochs: sample i of step s is position s*B + i of that stream.
class EpochSampler {
public:
    EpochSampler(int n, std::uint64_t seed);
    int index(std::int64_t step, int global_batch, int i) const;
    int size() const { return n_; }

private:
    const std::vector<int>& epoch(std::int64_t e) const;
    int n_ = 0;
    std::uint64_t seed_ = 0;
    mutable std::int64_t cached_epoch_[2] = {-1, -1};
    mutable std::vector<int> cache_[2];
};

}  // namespace ss::models

// BatchSources over the real data sets (models/data.h): the global batch of a step is a pure
// function of (seed, step) (models/sampling.h), so every layout trains on the same samples.
#pragma once

#include <cstdint>
#include <vector>

#include "models/data.h"
#include "models/sampling.h"
#include "models/stage.h"

namespace ss::models {

// Fashion-MNIST pixel normalisation: x = (p/255 - mean) / std with the training-set statistics.
inline constexpr float kFashionMean = 0.2860f;
inline constexpr float kFashionStd = 0.3530f;

// Training: shuffled epochs (EpochSampler). Evaluation (shuffle=false): "step" k is the k-th
// consecutive block of global_batch images; positions past the end are padding (target -1, zero
// features), so a partial last block is still a full batch.
class ImageBatchSource final : public BatchSource {
public:
    ImageBatchSource(const ImageDataset& data, std::uint64_t seed, int global_batch, bool shuffle);
    void fill(std::int64_t step, int first, int count, HostMicroBatch& out) const override;
    // Global batches needed to cover the data set once without shuffling.
    int batches_per_pass() const;

private:
    const ImageDataset& data_;
    EpochSampler sampler_;
    int global_batch_;
    bool shuffle_;
};

// Text: sequence i of step s = bytes [start, start+T] of the corpus (SequenceSampler); tokens are
// the first T bytes, targets the T bytes after each.
class TextBatchSource final : public BatchSource {
public:
    TextBatchSource(const std::vector<std::uint8_t>& bytes, int seq_len, std::uint64_t seed);
    void fill(std::int64_t step, int first, int count, HostMicroBatch& out) const override;

private:
    const std::vector<std::uint8_t>& bytes_;
    int seq_len_;
    SequenceSampler sampler_;
};

}  // namespace ss::models

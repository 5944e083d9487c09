#include "models/sources.h"

#include <algorithm>

namespace ss::models {

ImageBatchSource::ImageBatchSource(const ImageDataset& data, std::uint64_t seed, int global_batch,
                                   bool shuffle)
    : data_(data), sampler_(data.n, seed), global_batch_(global_batch), shuffle_(shuffle) {}

int ImageBatchSource::batches_per_pass() const {
    return (data_.n + global_batch_ - 1) / global_batch_;
}

void ImageBatchSource::fill(std::int64_t step, int first, int count, HostMicroBatch& out) const {
    const std::size_t dim = data_.image_size();
    out.samples = count;
    out.features.resize(static_cast<std::size_t>(count) * dim);  // (count, dim)
    out.targets.resize(static_cast<std::size_t>(count));          // (count)
    const float a = 1.0f / (255.0f * kFashionStd), b = -kFashionMean / kFashionStd;
    for (int j = 0; j < count; ++j) {
        float* x = out.features.data() + static_cast<std::size_t>(j) * dim;
        int idx;
        if (shuffle_) {
            idx = sampler_.index(step, global_batch_, first + j);
        } else {
            const std::int64_t pos = step * global_batch_ + first + j;
            idx = pos < data_.n ? static_cast<int>(pos) : -1;
        }
        if (idx < 0) {
            std::fill(x, x + dim, 0.0f);
            out.targets[static_cast<std::size_t>(j)] = -1;
            continue;
        }
        const std::uint8_t* px = data_.image(idx);
        for (std::size_t k = 0; k < dim; ++k) x[k] = static_cast<float>(px[k]) * a + b;
        out.targets[static_cast<std::size_t>(j)] = data_.labels[static_cast<std::size_t>(idx)];
    }
}

TextBatchSource::TextBatchSource(const std::vector<std::uint8_t>& bytes, int seq_len,
                                 std::uint64_t seed)
    : bytes_(bytes), seq_len_(seq_len), sampler_(bytes.size(), seq_len, seed) {}

void TextBatchSource::fill(std::int64_t step, int first, int count, HostMicroBatch& out) const {
    const std::size_t T = static_cast<std::size_t>(seq_len_);
    out.samples = count;
    out.tokens.resize(static_cast<std::size_t>(count) * T);   // (count, T)
    out.targets.resize(static_cast<std::size_t>(count) * T);  // (count, T)
    for (int j = 0; j < count; ++j) {
        const std::uint8_t* src = bytes_.data() + sampler_.start(step, first + j);
        std::int32_t* tok = out.tokens.data() + static_cast<std::size_t>(j) * T;
        std::int32_t* tgt = out.targets.data() + static_cast<std::size_t>(j) * T;
        for (std::size_t t = 0; t < T; ++t) {
            tok[t] = src[t];
            tgt[t] = src[t + 1];
        }
    }
}

}  // namespace ss::models

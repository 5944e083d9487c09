#include "models/sampling.h"

#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/params.h"

namespace ss::models {

SequenceSampler::SequenceSampler(std::size_t corpus_len, int seq_len, std::uint64_t seed) {
    if (seq_len <= 0 || corpus_len < static_cast<std::size_t>(seq_len) + 1)
        throw std::invalid_argument("text corpus of " + std::to_string(corpus_len) +
                                    " bytes is too short for sequences of " +
                                    std::to_string(seq_len) + "+1 bytes");
    range_ = corpus_len - static_cast<std::size_t>(seq_len);
    key_ = splitmix64(seed ^ 0x5e9a5eULL);
}

std::size_t SequenceSampler::start(std::int64_t step, int i) const {
    const std::uint64_t ctr = (static_cast<std::uint64_t>(step) << 20) + static_cast<std::uint64_t>(i);
    return static_cast<std::size_t>(splitmix64(key_ ^ splitmix64(ctr)) % range_);
}

EpochSampler::EpochSampler(int n, std::uint64_t seed) : n_(n), seed_(seed) {
    if (n <= 0) throw std::invalid_argument("EpochSampler: empty data set");
}

const std::vector<int>& EpochSampler::epoch(std::int64_t e) const {
    for (int c = 0; c < 2; ++c)
        if (cached_epoch_[c] == e) return cache_[c];
    // Replace the older of the two cached epochs.
    const int c = cached_epoch_[0] < cached_epoch_[1] ? 0 : 1;
    std::vector<int>& p = cache_[c];
    p.resize(static_cast<std::size_t>(n_));
    std::iota(p.begin(), p.end(), 0);
    const std::uint64_t key = splitmix64(seed_ ^ splitmix64(static_cast<std::uint64_t>(e) + 1));
    for (int i = n_ - 1; i > 0; --i) {
        const auto j = static_cast<int>(splitmix64(key ^ splitmix64(static_cast<std::uint64_t>(i))) %
                                        static_cast<std::uint64_t>(i + 1));
        std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
    }
    cached_epoch_[c] = e;
    return p;
}

int EpochSampler::index(std::int64_t step, int global_batch, int i) const {
    const std::int64_t pos = step * global_batch + i;
    return epoch(pos / n_)[static_cast<std::size_t>(pos % n_)];
}

}  // namespace ss::models

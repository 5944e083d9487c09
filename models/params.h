// Flat parameter storage of one stage and deterministic, layout-independent initialisation.
//
// Every parameter tensor of a stage is a segment of ONE flat buffer (and the gradients of one flat
// buffer of the same size), in forward order. Buckets (models/buckets.h), ZeRO shards and the
// optimizer all work on ranges of these buffers.
//
// Initialisation is counter-based: element j of the FULL (unsplit) tensor named `name` is
//   normal_at(tensor_key(seed, name), j) * std
// so a tensor-parallel rank fills exactly its slice and every layout starts from the same weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/backend.h"

namespace ss::models {

struct ParamSegment {
    std::string name;          // e.g. "h3.attn.qkv.w"
    std::size_t offset = 0;    // in the stage's flat buffer
    std::size_t size = 0;      // local elements
    bool tp_replicated = true; // identical on every tp rank (count once in the gradient norm)
    bool decay = false;        // AdamW weight decay applies (matrices yes; biases, LN no)
};

class ParamStore {
public:
    // Reserves a segment; returns its offset. Only before allocate().
    std::size_t add(const std::string& name, std::size_t size, bool tp_replicated, bool decay);
    // Allocates params and grads on the backend (grads zeroed).
    void allocate(kernels::Backend& backend);

    std::size_t size() const { return total_; }
    const std::vector<ParamSegment>& segments() const { return segments_; }
    float* params() { return params_.data(); }
    float* grads() { return grads_.data(); }
    float* param(std::size_t offset) { return params_.data() + offset; }
    float* grad(std::size_t offset) { return grads_.data() + offset; }

private:
    std::vector<ParamSegment> segments_;
    std::size_t total_ = 0;
    kernels::DeviceBuffer<float> params_;  // (total)
    kernels::DeviceBuffer<float> grads_;   // (total)
};

// SplitMix64 (Steele, Lea, Flood 2014): a strong 64-bit mixer used for every random number here.
std::uint64_t splitmix64(std::uint64_t x);
// Key of a named tensor under a seed: splitmix64 over FNV-1a(name) ^ seed.
std::uint64_t tensor_key(std::uint64_t seed, const std::string& name);
// Standard normal number number `index` of stream `key` (Box-Muller on two uniforms).
float normal_at(std::uint64_t key, std::uint64_t index);
// Uniform in [0, 1) from 53 random bits.
double uniform_at(std::uint64_t key, std::uint64_t index);

// Host helpers that fill a local slice of a full (rows, cols) row-major tensor of std-normal
// values scaled by `std`: rows [row0, row0+nrows) x cols [col0, col0+ncols) -> out (nrows, ncols).
void init_normal_slice(float* out_host, std::uint64_t key, float std, std::size_t cols,
                       std::size_t row0, std::size_t nrows, std::size_t col0, std::size_t ncols);

}  // namespace ss::models

#include "models/params.h"

#include "models/plan/buckets.h"

#include <cmath>
#include <stdexcept>

namespace ss::models {

std::size_t ParamStore::add(const std::string& name, std::size_t size, bool tp_replicated,
                            bool decay) {
    if (params_.data()) throw std::logic_error("ParamStore::add after allocate: " + name);
    // Keep segments 16-float (64-byte) aligned so every kernel sees aligned rows
    // (models/plan/buckets.h: the simulator cuts its buckets from the same padded buffer).
    const std::size_t offset = padded_elems(total_);
    segments_.push_back({name, offset, size, tp_replicated, decay});
    total_ = offset + size;
    return offset;
}

void ParamStore::allocate(kernels::Backend& backend) {
    const std::size_t n = padded_elems(total_);
    params_ = kernels::DeviceBuffer<float>(backend, n);
    grads_ = kernels::DeviceBuffer<float>(backend, n);
    // Padding between segments is zero in both buffers and stays zero (never updated by a kernel).
    backend.zero(params_.data(), params_.bytes());
    backend.zero(grads_.data(), grads_.bytes());
    total_ = n;
}

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t tensor_key(std::uint64_t seed, const std::string& name) {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
    for (unsigned char c : name) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return splitmix64(h ^ splitmix64(seed));
}

double uniform_at(std::uint64_t key, std::uint64_t index) {
    return static_cast<double>(splitmix64(key ^ splitmix64(index)) >> 11) * 0x1.0p-53;
}

float normal_at(std::uint64_t key, std::uint64_t index) {
    const double u1 = 1.0 - uniform_at(key, 2 * index);  // (0, 1]
    const double u2 = uniform_at(key, 2 * index + 1);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

void init_normal_slice(float* out, std::uint64_t key, float std_dev, std::size_t cols,
                       std::size_t row0, std::size_t nrows, std::size_t col0, std::size_t ncols) {
    for (std::size_t r = 0; r < nrows; ++r)
        for (std::size_t c = 0; c < ncols; ++c)
            out[r * ncols + c] = std_dev * normal_at(key, (row0 + r) * cols + col0 + c);
}

}  // namespace ss::models

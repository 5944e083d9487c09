// Internal: carve many activation buffers out of one backend allocation (64-byte aligned pieces).
// Two passes: plan with a null base to count, then allocate and carve for real.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace ss::models::detail {

class Arena {
public:
    // Reserve `n` elements of T (aligned to 16 floats); returns nullptr in the planning pass.
    template <typename T>
    T* take(std::size_t n) {
        static_assert(sizeof(T) == 4, "arena holds 4-byte elements");
        const std::size_t at = used_;
        used_ += (n + 15) / 16 * 16;
        return base_ ? reinterpret_cast<T*>(base_ + at) : nullptr;
    }
    std::size_t used() const { return used_; }
    // Switch from planning to carving: allocate what the plan used and start over.
    void allocate(kernels::Backend& backend) {
        buffer_ = kernels::DeviceBuffer<float>(backend, used_ == 0 ? 16 : used_);
        backend.zero(buffer_.data(), buffer_.bytes());
        base_ = buffer_.data();
        used_ = 0;
    }

private:
    kernels::DeviceBuffer<float> buffer_;
    float* base_ = nullptr;
    std::size_t used_ = 0;
};

}  // namespace ss::models::detail

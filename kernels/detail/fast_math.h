// Internal: branch-free float exp/tanh that GCC vectorises inside `#pragma omp simd` loops
// (glibc's expf/tanhf are only vectorised under -ffast-math). Not part of the public API.
#pragma once

#include <bit>
#include <cstdint>

// Compute-bound loops (exp/tanh polynomials, divisions) get an AVX2+FMA clone chosen at load time
// (GCC function multi-versioning through an ifunc); everything else runs the baseline x86-64 code.
// Results of elementwise kernels are identical in both clones (no FMA contraction in ISO C++
// mode); simd reductions may differ in the last bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__) && \
    !defined(SS_NO_KERNEL_CLONES)
#define SS_KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SS_KERNEL_CLONES
#endif

namespace ss::kernels::detail {

// exp(x) for float, Cephes expf scheme: x = n ln2 + r, |r| <= ln2/2, exp(r) by a degree-6
// polynomial, 2^n assembled in the exponent bits. Max relative error ~2 ulp on [-87.3, 88.37];
// returns 0 below -87.3 (~ln FLT_MIN) and saturates at exp(88.37) ~ 2.5e38 above.
inline float fast_exp(float x) {
    // Upper clamp: round(88.37 / ln2) = 127 keeps 2^n finite.
    const float xc = x < -87.3f ? -87.3f : (x > 88.37f ? 88.37f : x);
    // Round to nearest integer with the 1.5*2^23 trick (no SSE4.1 roundps needed).
    const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = xc - n * 0.693359375f;  // ln2 split in two parts for an exact reduction
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
    const float res = p * std::bit_cast<float>(bits);
    return x < -87.3f ? 0.0f : res;
}

// tanh(u) = 1 - 2 / (exp(2u) + 1); absolute error ~1e-7, exact limits +-1.
inline float fast_tanh(float u) {
    return 1.0f - 2.0f / (fast_exp(2.0f * u) + 1.0f);
}

// max over x[0..n) (-inf for n == 0). Eight independent lanes so the loop SLP-vectorises to
// maxps: GCC does not vectorise a float max reduction without -ffinite-math-only.
inline float max_of(const float* x, int n) {
    constexpr int kLanes = 8;
    float acc[kLanes];
    for (int l = 0; l < kLanes; ++l) acc[l] = -__builtin_inff();
    int j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        for (int l = 0; l < kLanes; ++l) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    }
    for (; j < n; ++j) acc[0] = x[j] > acc[0] ? x[j] : acc[0];
    float m = acc[0];
    for (int l = 1; l < kLanes; ++l) m = acc[l] > m ? acc[l] : m;
    return m;
}

}  // namespace ss::kernels::detail

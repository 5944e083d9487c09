// Plain value types shared by every kernel backend (CPU and CUDA). No Qt, no BLAS, no CUDA here.
#pragma once

#include <cstdint>

namespace ss::kernels {

// Operand transposition for sgemm. Matrices are row-major throughout.
enum class Trans : std::uint8_t { No, Yes };

// Hyper-parameters of one AdamW update (Loshchilov & Hutter, decoupled weight decay):
//   m   = beta1*m + (1-beta1)*g
//   v   = beta2*v + (1-beta2)*g^2
//   m^  = m / (1 - beta1^t),  v^ = v / (1 - beta2^t)          (t = step, starting at 1)
//   p  -= lr * ( m^ / (sqrt(v^) + eps) + weight_decay * p )
struct AdamWConfig {
    float lr = 3e-4f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.0f;
};

}  // namespace ss::kernels

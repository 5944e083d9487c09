// The matrix products of one GPT block on one GPU, timed product by product (docs/SIMULATOR.md,
// "Validation against published runs"): each product's output is cut into tiles, one thread block
// per tile, and the tiles run in waves of one tile per streaming multiprocessor (NVIDIA, "Matrix
// Multiplication Background User's Guide", DU-09799-001, ch. 3: tile and wave quantization), and
// each product is bound by its own roofline: max(FLOPs at the rate / the busy fraction, its operand
// and output traffic at the memory bandwidth). The per-layer sum of FLOPs and bytes the CPU path
// uses hides both: the attention products (inner dimension or output width = the head size) are
// memory-bound on a GPU, and the narrow per-GPU products leave SMs idle in their last wave.
// Used only for hardware that states its SM count (device.sms) and layers that carry shapes
// (GPT blocks with backend.device "cuda").
#pragma once

namespace ss::core {

// Shapes of one GPT block's products on one rank (Megatron-LM's tensor-parallel layout), per
// micro-batch.
struct GemmBlock {
    double b = 0;      // micro-batch (sequences); 0 = no shapes: the layer is timed from its sums
    double s = 0;      // sequence length
    double d = 0;      // hidden size
    double heads = 0;  // attention heads (all ranks)
    double tp = 1;     // tensor-parallel ways
    double vb = 2;     // bytes per value of the operands and outputs
};

// One product C[m×n] = A[m×k]·B[k×n], repeated `batch` times (a batched product: attention heads).
struct Gemm {
    double m = 0, n = 0, k = 0, batch = 1;
};

// The tile shapes cuBLAS's tensor-core kernels use for large products (the guide's sec. 2.3,
// "Typical Tile Dimensions In cuBLAS And Performance": 256x128 and 128x256 the most efficient,
// 128x128 next); the one of them that needs the fewest tile-area-waves is taken, as the library's
// heuristic would (an optimistic choice: the smaller tile is counted as efficient per FLOP).
// Returns the busy fraction: useful output elements / (waves x SMs x tile area), in (0, 1].
double gemm_tile_utilization(const Gemm& g, int sms);

// A product's time: max(2·m·n·k·batch / (flop_per_s · utilization), vb·(mk + kn + mn)·batch / bw).
double gemm_time(const Gemm& g, double vb, double flop_per_s, double mem_bw, int sms);

struct GemmBlockTimes {
    double fwd = 0;  // qkv, projection, fc, fc projection, Q·K^T, probabilities·V
    double bwd = 0;  // each linear's input and weight gradients, the attention's four products
    double att_fwd =
        0;  // the forward's two attention products (selective recomputation repeats them)
};
GemmBlockTimes gemm_block_times(const GemmBlock& g, double flop_per_s, double mem_bw, int sms);

}  // namespace ss::core

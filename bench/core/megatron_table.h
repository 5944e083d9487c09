// Published large-scale runs reproduced by the simulator (docs/SIMULATOR.md, "Validation against
// published runs"): the Megatron-LM weak-scaling table (Narayanan et al., SC21, Table 1;
// bench/core/megatron/table.json) predicted from the Selene preset
// (examples/hardware/selene-a100.json). Each row becomes a spec through the normal spec path (the
// table's base spec file + --set overrides, validated), its step time comes from the analytic
// engine, and the achieved TFLOP/s per GPU from the paper's own FLOP count (eq. 3), so the
// predicted and the published figure are the same quantity.
//
// Shared by bench_megatron (the report) and tst_core_megatron (the CI bound). Plain C++, no Qt.
#pragma once

#include <string>
#include <vector>

#include "core/sim/hardware.h"
#include "core/sim/simulator.h"
#include "core/spec/spec.h"

namespace ss::bench {

// One row of a table (its "columns" name the fields of each row array). Required: params_b, heads,
// hidden, layers, tp, pp, gpus, batch, and the published figure: tflops_per_gpu (achieved, by the
// paper's eq. 3) or step_s (iteration time). Optional, per row: variant (a label), micro_batch,
// virtual_stages, recompute ("full" | "selective"), sequence_parallel, percent_peak,
// aggregate_pflops.
struct PublishedRow {
    double params_b = 0;  // parameters (billion), as published
    int heads = 0, hidden = 0, layers = 0;
    int tp = 1, pp = 1, gpus = 1, batch = 1;  // batch: global batch (sequences per iteration)
    double tflops_per_gpu = 0;  // achieved TFLOP/s per GPU, as published (0: not given)
    double step_s = 0;          // iteration time, as published (0: not given)
    double percent_peak = 0, aggregate_pflops = 0;
    std::string variant;                      // "full", "selective+sp", ... ("" for none)
    int micro_batch = 0, virtual_stages = 0;  // 0: the run's RowChoices
    std::string recompute;                    // "" : the table's overrides
    bool sequence_parallel = false;
    int dp() const { return gpus / (tp * pp); }
    std::string label() const;   // "1.7B", "1008B", "22B full"
    std::string layout() const;  // "tp8 pp64 dp6"
};

struct PublishedTable {
    std::string name, source, url;
    std::string base_spec;  // the base spec file (absolute, resolved next to table.json)
    std::vector<std::string>
        overrides;  // applied to the base for every row (seq_len, vocab, precision, ...)
    int seq_len = 0, vocab = 0;  // facts.seq_len, facts.vocab
    std::vector<PublishedRow> rows;
};
// Throws std::runtime_error naming the file and the field.
PublishedTable load_published_table(const std::string& path);

// The paper's eq. 3: FLOPs of one iteration with full recomputation,
// 96 B s l h² (1 + s/(6h) + V/(16 l h)).
double megatron_iteration_flops(double batch, double seq_len, double layers, double hidden,
                                double vocab);

// What the table leaves open, chosen per run of the benchmark (table.json "facts").
struct RowChoices {
    int micro_batch = 1;  // sequences per micro-batch
    int virtual_stages =
        1;  // interleaved 1F1B when > 1: rows with pp > 1 whose layers split into pp·v chunks
};

// The --set overrides of one row, applied after the table's own.
std::vector<std::string> row_overrides(const PublishedRow& r, const RowChoices& c);
// The row's spec: base file + table overrides + row overrides, parsed and validated (world size
// = the row's GPUs, data files unchecked). Throws std::runtime_error listing every problem.
core::ExperimentSpec row_spec(const PublishedTable& t, const PublishedRow& r, const RowChoices& c);

// The preset as the simulator reads it (load_hardware: the CLI's path), with one of its choices
// changed for the sensitivity. The preset states its matrix-product efficiency in
// compute.sgemm_flops = efficiency × compute.peak_flops (fp32 datasheet); 16-bit products run at
// the same fraction of compute.peak_flops_fp16 (core/sim/hardware.h precision_speedup).
struct HardwareKnobs {
    double matmul_efficiency = 0;   // > 0: compute.sgemm_flops = this × compute.peak_flops
    double memory_efficiency = 0;   // > 0: memory bandwidth = this × the preset's
    double kernel_overhead_s = -1;  // >= 0: instead of compute.kernel_overhead_s
};
core::Hardware preset_hardware(const std::string& hardware_path, const HardwareKnobs& k = {});
// compute.sgemm_flops ÷ compute.peak_flops: the matrix-product efficiency the preset states.
double matmul_efficiency(const core::Hardware& hw);

struct RowPrediction {
    core::ExperimentSpec spec;
    core::SimResult result;
    double flops = 0;             // eq. 3 of the whole iteration
    double predicted_tflops = 0;  // flops / (step × GPUs) / 1e12
    // Throughput error: predicted / published − 1 (TFLOP/s), or published step / predicted step − 1
    // where the table gives the step time: + means the simulator predicts the run faster than it
    // ran.
    double error = 0;
};
enum class Engine { Analytic, Replay };
// The row's spec simulated on `hw` with the hardware's own rates (no SimOptions::rates: exactly
// what `scalescope-cli simulate --hardware` computes).
RowPrediction predict_row(const PublishedTable& t, const PublishedRow& r, const RowChoices& c,
                          const core::Hardware& hw, Engine engine = Engine::Analytic);

}  // namespace ss::bench

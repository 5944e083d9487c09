// bench_megatron: the Megatron-LM weak-scaling table (Narayanan et al., SC21, Table 1: GPT 1.7 B to
// 1 T parameters on 32 to 3,072 A100 GPUs of Selene) predicted by the simulator from the Selene
// preset built from public specifications (docs/SIMULATOR.md, "Validation against published runs").
// Per row: model, layout, GPUs, batch, published and predicted achieved TFLOP/s per GPU, error;
// then mean |error| and max, the step-time breakdown of the first and the last row, and the
// sensitivity to every choice the table or the preset leaves open. By default it also runs the
// Korthikanti et al. 2022 runs (bench/core/megatron/korthikanti2022.json: iteration times, the runs
// Calculon validates on); --table picks tables. --replay adds the event replay where the graph is
// small enough (rows up to 145.6B).
//
// Usage: bench_megatron [--table FILE]... [--hardware FILE] [--micro-batch N] [--virtual-stages V]
//                       [--matmul-efficiency E] [--memory-efficiency E] [--kernel-overhead S]
//                       [--replay] [--no-sensitivity]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "bench/core/megatron_table.h"

using namespace ss;
using bench::Engine;
using bench::PublishedRow;
using bench::PublishedTable;

namespace {

struct Summary {
    double mean_abs = 0, max_abs = 0;
    std::string worst;
};

Summary summarize(const std::vector<double>& errors, const std::vector<std::string>& labels) {
    Summary s;
    for (std::size_t i = 0; i < errors.size(); ++i) {
        s.mean_abs += std::abs(errors[i]) / static_cast<double>(errors.size());
        if (std::abs(errors[i]) > s.max_abs) {
            s.max_abs = std::abs(errors[i]);
            s.worst = labels[i];
        }
    }
    return s;
}

Summary run_table(const PublishedTable& t, const bench::RowChoices& c, const core::Hardware& hw) {
    std::vector<double> errs;
    std::vector<std::string> labels;
    for (const PublishedRow& r : t.rows) {
        errs.push_back(bench::predict_row(t, r, c, hw).error);
        labels.push_back(r.label());
    }
    return summarize(errs, labels);
}

void print_breakdown(const PublishedRow& r, const bench::RowPrediction& p) {
    const core::Breakdown& B = p.result.breakdown;
    std::printf("\nstep of %s (%s, %d GPUs, batch %d, %d micro-batches of %d): %.3f s predicted\n",
                r.label().c_str(), r.layout().c_str(), r.gpus, r.batch,
                p.spec.parallel.micro_batches, r.batch / (r.dp() * p.spec.parallel.micro_batches),
                p.result.step_s);
    std::printf("  %-14s %10s %7s   (mean over ranks)\n", "part", "s", "share");
    for (int i = 0; i < core::kPartCount; ++i) {
        const double ns = B.part_ns[i];
        if (ns <= 0) continue;
        std::printf("  %-14s %10.4f %6.1f%%\n",
                    std::string(core::to_string(static_cast<core::Part>(i))).c_str(), ns / 1e9,
                    100 * ns / B.step_ns);
    }
    std::printf(
        "  communication issued %.4f s, of it hidden behind compute %.4f s; memory per GPU %.1f GB "
        "of %.0f GB%s\n",
        B.comm_ns / 1e9, B.overlapped_ns / 1e9, p.result.memory.total / 1e9,
        p.result.memory.capacity / 1e9, p.result.memory.fits ? "" : " (does not fit)");
    for (const auto& n : p.result.notes) std::printf("  note: %s\n", n.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> tables;
    std::string hw_path = SCALESCOPE_SOURCE_DIR "/examples/hardware/selene-a100.json";
    bench::RowChoices choices;
    bench::HardwareKnobs knobs;
    bool replay = false, sensitivity = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_megatron: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--table")
            tables.push_back(next());
        else if (a == "--hardware")
            hw_path = next();
        else if (a == "--micro-batch")
            choices.micro_batch = std::atoi(next());
        else if (a == "--virtual-stages")
            choices.virtual_stages = std::atoi(next());
        else if (a == "--matmul-efficiency")
            knobs.matmul_efficiency = std::atof(next());
        else if (a == "--memory-efficiency")
            knobs.memory_efficiency = std::atof(next());
        else if (a == "--kernel-overhead")
            knobs.kernel_overhead_s = std::atof(next());
        else if (a == "--replay")
            replay = true;
        else if (a == "--no-sensitivity")
            sensitivity = false;
        else {
            std::fprintf(stderr,
                         "usage: bench_megatron [--table FILE] [--hardware FILE] [--micro-batch N] "
                         "[--virtual-stages V]\n"
                         "                      [--matmul-efficiency E] [--memory-efficiency E] "
                         "[--kernel-overhead S]\n"
                         "                      [--replay] [--no-sensitivity]\n");
            return 2;
        }
    }
    if (tables.empty())
        tables = {SCALESCOPE_SOURCE_DIR "/bench/core/megatron/table.json",
                  SCALESCOPE_SOURCE_DIR "/bench/core/megatron/korthikanti2022.json"};
    try {
        for (std::size_t ti = 0; ti < tables.size(); ++ti) {
            if (ti > 0)
                std::printf(
                    "\n----------------------------------------------------------------------\n\n");
            const PublishedTable t = bench::load_published_table(tables[ti]);
            const core::Hardware hw = bench::preset_hardware(hw_path, knobs);
            std::printf("%s\n  source: %s\n  %s\n", t.name.c_str(), t.source.c_str(),
                        t.url.c_str());
            std::printf(
                "hardware: %s (%s)\n  matrix products at %.1f %% of peak (fp16 %.0f TFLOP/s), "
                "HBM %.0f GB/s, kernel overhead %.1f us\n",
                hw.name.c_str(), hw_path.c_str(), 100 * bench::matmul_efficiency(hw),
                hw.peak_flops_fp16 / 1e12, hw.mem_bw_bytes_per_s / 1e9, hw.kernel_overhead_s * 1e6);
            std::printf(
                "choices: micro-batch %d, virtual stages %d; spec: %s + %zu overrides per table, "
                "validated\n\n",
                choices.micro_batch, choices.virtual_stages, t.base_spec.c_str(),
                t.overrides.size());
            const bool by_step = t.rows.front().tflops_per_gpu <= 0;
            std::printf("%-16s %-16s %5s %6s %3s %11s %11s %8s %10s%s\n", "model", "layout", "GPUs",
                        "batch", "mb", by_step ? "published s" : "published",
                        by_step ? "predicted s" : "predicted", "error", "step s",
                        replay ? "   replay  error" : "");
            std::vector<double> errs;
            std::vector<std::string> labels;
            std::vector<bench::RowPrediction> preds;
            for (const PublishedRow& r : t.rows) {
                bench::RowPrediction p = bench::predict_row(t, r, choices, hw);
                const int mb = r.batch / (r.dp() * p.spec.parallel.micro_batches);
                std::printf("%-16s %-16s %5d %6d %3d %11.2f %11.2f %+7.1f%% %10.3f",
                            r.label().c_str(), r.layout().c_str(), r.gpus, r.batch, mb,
                            r.tflops_per_gpu > 0 ? r.tflops_per_gpu : r.step_s,
                            r.tflops_per_gpu > 0 ? p.predicted_tflops : p.result.step_s,
                            100 * p.error, p.result.step_s);
                // The event replay where the graph is small enough (a few seconds at most).
                if (replay && r.gpus * p.spec.parallel.micro_batches * r.layers <= 12'000'000) {
                    const bench::RowPrediction q =
                        bench::predict_row(t, r, choices, hw, Engine::Replay);
                    std::printf("   %6.1f %+6.1f%%", q.predicted_tflops, 100 * q.error);
                }
                std::printf("\n");
                errs.push_back(p.error);
                labels.push_back(r.label());
                preds.push_back(std::move(p));
            }
            const Summary s = summarize(errs, labels);
            std::printf(
                "\nmean |error| %.1f %%, max |error| %.1f %% (%s) over %zu rows "
                "(+: predicted faster than published)\n",
                100 * s.mean_abs, 100 * s.max_abs, s.worst.c_str(), errs.size());
            print_breakdown(t.rows.front(), preds.front());
            print_breakdown(t.rows.back(), preds.back());

            if (sensitivity) {
                std::printf(
                    "\nsensitivity (mean |error| / max |error| over the rows; one choice changed "
                    "at a time):\n");
                auto line = [&](const std::string& what, const bench::RowChoices& c,
                                const bench::HardwareKnobs& k) {
                    try {
                        const Summary x = run_table(t, c, bench::preset_hardware(hw_path, k));
                        std::printf("  %-48s %5.1f %% / %5.1f %% (%s)\n", what.c_str(),
                                    100 * x.mean_abs, 100 * x.max_abs, x.worst.c_str());
                    } catch (const std::exception& e) {
                        std::printf("  %-48s not run: %s\n", what.c_str(), e.what());
                    }
                };
                for (double e : {0.70, 0.80, 0.90, 1.00}) {
                    bench::HardwareKnobs k = knobs;
                    k.matmul_efficiency = e;
                    line("matmul efficiency " + std::to_string(e).substr(0, 4), choices, k);
                }
                for (double e : {0.7, 0.85}) {
                    bench::HardwareKnobs k = knobs;
                    k.memory_efficiency = e;
                    line("memory efficiency " + std::to_string(e).substr(0, 4), choices, k);
                }
                {
                    bench::HardwareKnobs k = knobs;
                    k.kernel_overhead_s = 5e-6;
                    line("kernel overhead 5 us", choices, k);
                }
                {
                    bench::RowChoices c = choices;
                    c.micro_batch = 2;
                    line("micro-batch 2", c, knobs);
                }
                {
                    bench::RowChoices c = choices;
                    c.virtual_stages = 2;
                    line("interleaved 1F1B, 2 virtual stages (where even)", c, knobs);
                }
            }
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_megatron: %s\n", e.what());
        return 1;
    }
}

// Facts written once (issue 13): the collective cost model (core/collective_cost.h) against the
// DESIGN.md formulas and in a round trip simulator → calibrate → simulator; the model-FLOPs
// formula (models/plan/flops.h) against hand values and as the simulator and the analysis use it; the
// one median (traces/median.h); the lane numbers (traces/lanes.h) as traces/SCHEMA.md promises them.
#include <QtTest>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/sim/calibrate.h"
#include "core/analysis/collective_cost.h"
#include "core/sim/hardware.h"
#include "core/sim/simulator.h"
#include "core/spec/spec.h"
#include "kernels/perf.h"
#include "models/plan/flops.h"
#include "traces/lanes.h"
#include "traces/median.h"

using namespace ss::core;
using ss::traces::Collective;

namespace {

bool near(double a, double b, double rel = 1e-9) {
    return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)) + 1e-18;
}
#define EXPECT_NEAR(a, b, rel) \
    QVERIFY2(near((a), (b), (rel)), qPrintable(QStringLiteral("%1 != %2").arg((a), 0, 'g', 12).arg((b), 0, 'g', 12)))

// A spec from its model preset and global batch, the rest default (what the What-if page starts from).
ExperimentSpec preset_spec(const std::string& kind, const std::string& preset, int global_batch) {
    return parse_spec(nlohmann::json{{"model", {{"kind", kind}, {"preset", preset}}},
                                     {"training", {{"global_batch", global_batch}}}})
        .spec;
}

}  // namespace

class TestCoreFacts : public QObject {
    Q_OBJECT
private slots:
    // DESIGN.md "Formulas": T = a·α + b·n·β for every collective and algorithm.
    void costTermsHandValues() {
        // ring all-reduce: 2(p−1)α + 2(p−1)/p·nβ
        QCOMPARE(cost_terms(Collective::AllReduce, 4), (CostTerms{6, 1.5}));
        QCOMPARE(cost_terms(Collective::AllReduce, 8, CollAlgo::Ring), (CostTerms{14, 1.75}));
        EXPECT_NEAR(cost_seconds(cost_terms(Collective::AllReduce, 4), 1e-5, 1e-9, 1e6), 6e-5 + 1.5e-3, 1e-12);
        // recursive doubling ⌈log2 p⌉(α + nβ); tree 2⌈log2 p⌉α + 2nβ (⌈log2 5⌉ = 3)
        QCOMPARE(cost_terms(Collective::AllReduce, 5, CollAlgo::RecursiveDoubling), (CostTerms{3, 3}));
        QCOMPARE(cost_terms(Collective::AllReduce, 8, CollAlgo::Tree), (CostTerms{6, 2}));
        // hierarchical is composed of ring steps by the hardware: the ring terms here
        QCOMPARE(cost_terms(Collective::AllReduce, 4, CollAlgo::Hierarchical), (CostTerms{6, 1.5}));
        // reduce-scatter / all-gather / all-to-all: ring (p−1)α + (p−1)/p·nβ; RD ⌈log2 p⌉α + (p−1)/p·nβ
        QCOMPARE(cost_terms(Collective::ReduceScatter, 4), (CostTerms{3, 0.75}));
        QCOMPARE(cost_terms(Collective::AllGather, 4), (CostTerms{3, 0.75}));
        QCOMPARE(cost_terms(Collective::AllToAll, 8), (CostTerms{7, 0.875}));
        QCOMPARE(cost_terms(Collective::AllGather, 8, CollAlgo::RecursiveDoubling), (CostTerms{3, 0.875}));
        // broadcast / reduce ⌈log2 p⌉α + nβ; send/recv α + nβ; barrier ⌈log2 p⌉α
        QCOMPARE(cost_terms(Collective::Broadcast, 5), (CostTerms{3, 1}));
        QCOMPARE(cost_terms(Collective::Reduce, 8), (CostTerms{3, 1}));
        QCOMPARE(cost_terms(Collective::Send, 2), (CostTerms{1, 1}));
        QCOMPARE(cost_terms(Collective::Recv, 2), (CostTerms{1, 1}));
        QCOMPARE(cost_terms(Collective::Barrier, 8), (CostTerms{3, 0}));
        // one rank moves nothing, except a message
        QCOMPARE(cost_terms(Collective::AllReduce, 1), (CostTerms{0, 0}));
        QCOMPARE(cost_terms(Collective::Broadcast, 1), (CostTerms{0, 0}));
        QCOMPARE(cost_terms(Collective::Send, 1), (CostTerms{1, 1}));
        // calibrate's names: the same terms, the non-blocking variants those of their collective
        QCOMPARE(cost_terms("all_reduce", 4), cost_terms(Collective::AllReduce, 4));
        QCOMPARE(cost_terms("iall_reduce", 4), cost_terms(Collective::AllReduce, 4));
        QCOMPARE(cost_terms("ireduce_scatter", 8), cost_terms(Collective::ReduceScatter, 8));
        QCOMPARE(cost_terms("broadcast", 5), cost_terms(Collective::Broadcast, 5));
        QCOMPARE(cost_terms("send_recv", 2), cost_terms(Collective::Send, 2));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, cost_terms("all_to_all", 2));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, cost_terms("all_reduce", 0));
    }

    // nccl-tests' bus-bandwidth factors, one table for the analysis and calibrate.
    void busbwFactors() {
        QCOMPARE(busbw_factor(Collective::AllReduce, 8), 2.0 * 7 / 8);
        QCOMPARE(busbw_factor(Collective::AllReduce, 2), 1.0);
        QCOMPARE(busbw_factor(Collective::AllReduce, 1), 0.0);
        QCOMPARE(busbw_factor(Collective::ReduceScatter, 4), 0.75);
        QCOMPARE(busbw_factor(Collective::AllGather, 4), 0.75);
        QCOMPARE(busbw_factor(Collective::AllToAll, 16), 15.0 / 16);
        QCOMPARE(busbw_factor(Collective::Broadcast, 8), 1.0);
        QCOMPARE(busbw_factor(Collective::Broadcast, 1), 1.0);
        QCOMPARE(busbw_factor(Collective::Reduce, 8), 1.0);
        QCOMPARE(busbw_factor(Collective::Send, 2), 1.0);
        QCOMPARE(busbw_factor(Collective::Recv, 2), 1.0);
        QCOMPARE(busbw_factor(Collective::Barrier, 8), 0.0);
        QCOMPARE(busbw_factor(Collective::None, 8), 0.0);
        for (int p : {2, 3, 4, 8}) {
            QCOMPARE(busbw_factor("all_reduce", p), busbw_factor(Collective::AllReduce, p));
            QCOMPARE(busbw_factor("iall_reduce", p), busbw_factor(Collective::AllReduce, p));
            QCOMPARE(busbw_factor("reduce_scatter", p), busbw_factor(Collective::ReduceScatter, p));
            QCOMPARE(busbw_factor("all_gather", p), busbw_factor(Collective::AllGather, p));
            QCOMPARE(busbw_factor("broadcast", p), busbw_factor(Collective::Broadcast, p));
            QCOMPARE(busbw_factor("send_recv", p), busbw_factor(Collective::Send, p));
            // busbw is the ring's b(p): a ring at bus bandwidth 1/β moves n in b·n·β
            QCOMPARE(busbw_factor(Collective::AllReduce, p), cost_terms(Collective::AllReduce, p).b);
        }
    }

    // The simulator's collective_time is the cost model on the chosen link.
    void simulatorUsesTheCostModel() {
        Hardware hw;
        hw.devices_per_node = 8;
        hw.intra = {2e-6, 5e-10};
        for (CollAlgo algo : {CollAlgo::Ring, CollAlgo::Tree, CollAlgo::RecursiveDoubling}) {
            hw.algorithm = algo;
            for (Collective c : {Collective::AllReduce, Collective::ReduceScatter, Collective::AllGather,
                                 Collective::Broadcast, Collective::Send, Collective::Barrier})
                for (int p : {2, 4, 8}) {
                    const double n = 3e6;
                    EXPECT_NEAR(collective_time(hw, c, place_group(hw, p, 1), n),
                                cost_seconds(cost_terms(c, p, algo), 2e-6, 5e-10, n), 1e-12);
                }
        }
    }

    // Round trip: times the simulator predicts for a link are what `calibrate` measures; its fit
    // (hardware_file) gives back the link's α and β, and the simulator reading that file predicts
    // the same times.
    void calibrateRecoversTheSimulatorsLink() {
        Hardware truth;
        truth.devices_per_node = 8;
        truth.intra = {7e-6, 2.5e-10};  // 7 µs, 4 GB/s
        const std::vector<std::pair<const char*, Collective>> colls = {{"all_reduce", Collective::AllReduce},
                                                                       {"reduce_scatter", Collective::ReduceScatter},
                                                                       {"all_gather", Collective::AllGather},
                                                                       {"broadcast", Collective::Broadcast},
                                                                       {"send_recv", Collective::Send}};
        nlohmann::json samples = nlohmann::json::array();
        for (const auto& [name, c] : colls)
            for (int p : {2, 4})
                for (std::int64_t n : {std::int64_t{4096}, std::int64_t{65536}, std::int64_t{1} << 20, std::int64_t{16} << 20})
                    samples.push_back({{"collective", name}, {"p", c == Collective::Send ? 2 : p}, {"bytes", n},
                                       {"time_s", collective_time(truth, c, place_group(truth, c == Collective::Send ? 2 : p, 1),
                                                                  static_cast<double>(n))},
                                       {"iterations", 10}});
        const nlohmann::json raw = {{"created_unix_ns", 1},
                                    {"ranks", 4},
                                    {"hosts", {"vm"}},
                                    {"compute", {{"sgemm_flops", 4e10}}},
                                    {"memory", {{"bandwidth_bytes_per_s", 2e10}}},
                                    {"samples", samples}};
        const nlohmann::json file = hardware_file(raw, false);
        for (const auto& [name, c] : colls) {
            const auto& fit = file["collectives"][name];
            EXPECT_NEAR(fit["alpha_s"].get<double>(), 7e-6, 1e-6);
            EXPECT_NEAR(fit["beta_s_per_byte"].get<double>(), 2.5e-10, 1e-6);
        }
        const Hardware back = parse_hardware(file, "round trip");
        for (const auto& [name, c] : colls)
            for (int p : {2, 4}) {
                const int q = c == Collective::Send ? 2 : p;
                EXPECT_NEAR(collective_time(back, c, place_group(back, q, 1), 5e6),
                            collective_time(truth, c, place_group(truth, q, 1), 5e6), 1e-6);
            }
    }

    // DESIGN.md "Formulas": the convention 6·N per token + attention 12·L·d·s per token, shown beside
    // the count of the matrix products the kernels perform.
    void modelFlopsHandValues() {
        using namespace ss::models;
        static_assert(convention_flops_per_token(1000) == 6000.0);
        QCOMPARE(convention_flops_per_token(1000, 2, 8, 16), 6000.0 + 12.0 * 2 * 8 * 16);
        // GPT-2 small (124M parameters, 12 layers, d 768, context 1024): llm.c's 6N + 12·L·d·s
        QCOMPARE(convention_flops_per_token(124e6, 12, 768, 1024), 6 * 124e6 + 12.0 * 12 * 768 * 1024);
        // GPT small of this project (6 blocks, d 512, context 128, vocab 256), by hand: weights
        // 6·(6·12·512² + 512·256); attention 12·6·512 × pairs / 128 with the CPU's row tiles of 64
        // (64·64 + 64·128 = 12,288 pairs) or the GPU's full 128² products.
        const double weights = 6.0 * (6 * 12.0 * 512 * 512 + 512.0 * 256);
        QCOMPARE(gpt_model_flops_per_token(6, 512, 128, 256, AttentionKernel::CausalRowTiles),
                 weights + 12.0 * 6 * 512 * 12288 / 128);
        QCOMPARE(gpt_model_flops_per_token(6, 512, 128, 256, AttentionKernel::Full), weights + 12.0 * 6 * 512 * 128);
        // No FLOPs for lookups: the performed count is below the convention's (embeddings, biases,
        // layer norms, the masked attention quarter).
        const ss::core::ModelSpec m = preset_spec("gpt", "small", 8).model;
        QVERIFY(gpt_model_flops_per_token(m.layers, m.d_model, m.seq_len, m.vocab, AttentionKernel::Full) <
                convention_flops_per_token(static_cast<double>(ss::core::param_count(m)), m.layers, m.d_model, m.seq_len));
        // MLP 784-512-256-10: the first layer computes no input gradient (4·in·out), the others 6·in·out.
        QCOMPARE(mlp_model_flops_per_sample({784, 512, 256, 10}), 4.0 * 784 * 512 + 6.0 * 512 * 256 + 6.0 * 256 * 10);
    }

    // The one MFU function: a value in (0, 1], or why there is none; never above 1.
    void mfuNeverAboveOne() {
        using namespace ss::models;
        const Mfu half = model_flops_utilisation(4e12, 1e12, 8);
        QVERIFY(half.known());
        QCOMPARE(half.value, 0.5);
        QCOMPARE(model_flops_utilisation(1e12, 1e12, 1).value, 1.0);  // exactly the peak is allowed
        const Mfu above = model_flops_utilisation(1.019e12, 1e12, 1);  // the What-if page's old "101.9 %"
        QCOMPARE(above.problem, MfuProblem::AbovePeak);
        QVERIFY(std::isnan(above.value));
        QCOMPARE(above.ratio, 1.019);
        QVERIFY2(mfu_problem_text(above).find("102 % of the peak") != std::string::npos, mfu_problem_text(above).c_str());
        QCOMPARE(model_flops_utilisation(0, 1e12, 1).problem, MfuProblem::NoModelFlops);
        QCOMPARE(model_flops_utilisation(1e12, 0, 1).problem, MfuProblem::NoPeak);
        QCOMPARE(model_flops_utilisation(1e12, std::numeric_limits<double>::infinity(), 1).problem, MfuProblem::NoPeak);
        QCOMPARE(model_flops_utilisation(std::numeric_limits<double>::quiet_NaN(), 1e12, 1).problem,
                 MfuProblem::NoModelFlops);
        // core's mfu_of goes through it: unknown (< 0) above the peak, never a value > 1.
        QCOMPARE(ss::core::mfu_of(4e12, 1e12, 8), 0.5);
        QCOMPARE(ss::core::mfu_of(3e12, 1e12, 2), -1.0);
    }

    // The simulator counts a step's model FLOPs with the performed count.
    void simulatorModelFlops() {
        using namespace ss::models;
        const ExperimentSpec s = preset_spec("gpt", "tiny", 8);
        const Workload w = build_workload(s);
        const double tokens = 8.0 * s.model.seq_len;
        QCOMPARE(w.model_flops_per_step, gpt_model_flops_per_token(s.model.layers, s.model.d_model, s.model.seq_len,
                                                                   s.model.vocab, AttentionKernel::CausalRowTiles) *
                                             tokens);
        ExperimentSpec g = s;
        g.backend.device = "cuda";  // the CUDA backend multiplies full T×T attention products
        QCOMPARE(build_workload(g).model_flops_per_step,
                 gpt_model_flops_per_token(s.model.layers, s.model.d_model, s.model.seq_len, s.model.vocab,
                                           AttentionKernel::Full) *
                     tokens);
        const ExperimentSpec m = preset_spec("mlp", "default", 64);
        const Workload wm = build_workload(m);
        std::vector<int> widths{m.model.input_dim};
        widths.insert(widths.end(), m.model.hidden.begin(), m.model.hidden.end());
        widths.push_back(m.model.classes);
        QCOMPARE(wm.model_flops_per_step, mlp_model_flops_per_sample(widths) * 64);
    }

    void median() {
        using ss::traces::median;
        QCOMPARE(median(std::vector<double>{3, 1, 2}), 2.0);
        QCOMPARE(median(std::vector<double>{4, 1, 3, 2}), 2.5);  // the mean of the two middle values
        QCOMPARE(median(std::vector<double>{5}), 5.0);
        QCOMPARE(median(std::vector<std::int64_t>{10, 40, 20, 30}), 25.0);
        QCOMPARE(median(std::vector<std::int64_t>{7, 7, 1, 9, 7, 100}), 7.0);
        QVERIFY(std::isnan(median(std::vector<double>{})));
        std::vector<std::int64_t> v{9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
        QCOMPARE(ss::traces::median_in_place(v), 4.5);
        std::sort(v.begin(), v.end());
        QCOMPARE(v, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));  // reordered, not changed
    }

    // The lane numbers and names the profiler writes are the ones traces/SCHEMA.md promises.
    void lanesAsTheSchemaDocumentsThem() {
        namespace lanes = ss::traces::lanes;
        std::ifstream in(SCALESCOPE_SOURCE_DIR "/traces/SCHEMA.md");
        QVERIFY(in.good());
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string schema = ss.str();
        for (std::int32_t l : {lanes::kSteps, lanes::kPhases, lanes::kCompute, lanes::kComm, lanes::kHost}) {
            const std::string row = "| " + std::to_string(l) + " | `" + lanes::name(l) + "` |";
            QVERIFY2(schema.find(row) != std::string::npos, row.c_str());
        }
        QVERIFY(schema.find("| " + std::to_string(lanes::kCudaApi) + " |") != std::string::npos);
        QVERIFY(schema.find("| " + std::to_string(lanes::kCudaStreamBase) + " + s |") != std::string::npos);
        QCOMPARE(std::string(lanes::name(lanes::kCompute)), std::string("compute"));
        QCOMPARE(lanes::name(lanes::kCudaStreamBase + 7), nullptr);
    }
};

QTEST_APPLESS_MAIN(TestCoreFacts)
#include "tst_core_facts.moc"

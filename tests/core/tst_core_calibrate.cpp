// Calibration that matches training (issue 17): the robust α-β fit and its quality, the spread of
// repeats, α-β fitted on the collectives of a recorded run, and compute rates from the calibrated
// kernel classes of a hardware file (core/sim/calibrate.h).
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "core/analysis/analysis.h"
#include "core/sim/calibrate.h"
#include "core/sim/hardware.h"
#include "core/sim/sim_replay.h"
#include "core/sim/sim_trace.h"
#include "core/sim/simulator.h"
#include "tests/core/tst_core_analysis_fixture.h"
#include "traces/reader.h"

using namespace ss::core;
using nlohmann::json;

namespace {

ExperimentSpec spec_of(const json& doc) {
    ParseResult pr = parse_spec(doc);
    if (!pr.ok()) throw std::runtime_error(format_errors(pr.errors));
    return pr.spec;
}

// 784 -> 256 -> 256 -> 10, 64 samples per micro-batch on one rank.
ExperimentSpec mlp_spec(int dp = 1, int tp = 1) {
    return spec_of({{"name", "mlp"},
                    {"model", {{"kind", "mlp"}, {"preset", "default"}}},
                    {"training", {{"global_batch", 64 * dp}}},
                    {"parallel", {{"dp", dp}, {"tp", tp}}}});
}

// A hardware file's calibrated classes: the matmul rate r(K·N) on every row count, element-wise
// and optimizer rates flat at 10 and 5 GB/s.
CalibratedCompute classes(double r_small, double r_large) {
    CalibratedCompute c;
    for (double rows : {16.0, 256.0}) {
        c.matmul.push_back({rows, 256, 256, r_small});
        c.matmul.push_back({rows, 784, 256, r_large});
    }
    c.elementwise = {{4096, 1e10}, {1 << 24, 1e10}};
    c.optimizer = {{4096, 5e9}, {1 << 26, 5e9}};
    c.kernel_overhead_s = 2e-7;
    return c;
}

Hardware calibrated_hw() {
    json doc = {{"format", "scalescope-hardware"},
                {"ranks", 2},
                {"hosts", {"box"}},
                {"measured", true},
                {"measured_on", {{"host", "box"}, {"date", "2026-12-01T05:00:00Z"}}},
                {"compute", {{"sgemm_flops", 5e10}}},
                {"memory", {{"bandwidth_bytes_per_s", 2e10}}},
                {"collectives", {{"all_reduce", {{"alpha_s", 5e-6}, {"beta_s_per_byte", 1e-10}}}}}};
    Hardware hw = parse_hardware(doc, "t.json");
    hw.classes = classes(2e10, 4e10);
    return hw;
}

}  // namespace

class TestCalibrate : public QObject {
    Q_OBJECT

private slots:
    void robustFitDropsAnOutlierRepeat() {
        // T = 2(p-1)a + 2(p-1)/p n b at p = 2, five repeats per size with ±1 % noise; one repeat of
        // one size stalled 6x (another job ran): it is dropped and α, β are recovered.
        const double a = 8e-6, b = 2e-10;
        std::vector<CollectiveSample> s;
        const double jitter[5] = {0.99, 1.0, 1.01, 1.005, 0.995};
        for (std::int64_t n : {4096, 65536, 1 << 20, 4 << 20})
            for (int r = 0; r < 5; ++r) {
                const CostTerms t = cost_terms("all_reduce", 2);
                double time = (t.a * a + t.b * static_cast<double>(n) * b) * jitter[r];
                if (n == 65536 && r == 2) time *= 6;
                s.push_back({"all_reduce", 2, n, time, 10});
            }
        const AlphaBeta f = fit_alpha_beta("all_reduce", s);
        QCOMPARE(f.samples, 20);
        QCOMPARE(f.dropped, 1);
        QCOMPARE(f.method, std::string("huber-irls"));
        QVERIFY2(std::abs(f.alpha_s / a - 1) < 0.02, std::to_string(f.alpha_s).c_str());
        QVERIFY2(std::abs(f.beta_s_per_byte / b - 1) < 0.02,
                 std::to_string(f.beta_s_per_byte).c_str());
        QVERIFY2(f.rel_rms < 0.015, std::to_string(f.rel_rms).c_str());
        QVERIFY2(f.r2 > 0.999, std::to_string(f.r2).c_str());
        // Exact data: nothing dropped, exact figures.
        std::vector<CollectiveSample> exact;
        for (std::int64_t n : {4096, 1 << 20}) {
            const CostTerms t = cost_terms("all_gather", 4);
            exact.push_back({"all_gather", 4, n, t.a * a + t.b * static_cast<double>(n) * b, 1});
        }
        const AlphaBeta e = fit_alpha_beta("all_gather", exact);
        QCOMPARE(e.dropped, 0);
        QVERIFY(std::abs(e.alpha_s / a - 1) < 1e-9);
        QVERIFY(std::abs(e.r2 - 1) < 1e-9);
        // One size only: β is unidentifiable, and the message says so.
        std::vector<CollectiveSample> one{{"all_reduce", 2, 4096, 1e-5, 1},
                                          {"all_reduce", 2, 4096, 1.1e-5, 1}};
        try {
            fit_alpha_beta("all_reduce", one);
            QFAIL("one size must not fit");
        } catch (const std::invalid_argument& ex) {
            QVERIFY2(std::string(ex.what()).find("unidentifiable") != std::string::npos, ex.what());
        }
    }

    void spreadPerSize() {
        std::vector<CollectiveSample> s{{"all_reduce", 2, 4096, 3e-6, 1},
                                        {"all_reduce", 2, 4096, 1e-6, 1},
                                        {"all_reduce", 2, 4096, 2e-6, 1},
                                        {"all_reduce", 2, 8192, 5e-6, 1},
                                        {"all_reduce", 4, 4096, 9e-6, 1}};
        const auto sp = sample_spread(s);
        QCOMPARE(sp.size(), std::size_t{3});
        QCOMPARE(sp[0].repeats, 3);
        QCOMPARE(sp[0].median_s, 2e-6);
        QCOMPARE(sp[0].min_s, 1e-6);
        QCOMPARE(sp[0].max_s, 3e-6);
        QCOMPARE(sp[2].p, 4);
        // hardware_file stores the spread and the fit quality
        json raw = {{"created_unix_ns", 1764565200000000000LL},
                    {"ranks", 2},
                    {"hosts", {"box"}},
                    {"compute", {{"sgemm_flops", 4e10}}},
                    {"memory", {{"bandwidth_bytes_per_s", 2e10}}},
                    {"samples", json::array()}};
        for (const auto& c : s)
            raw["samples"].push_back({{"collective", c.collective},
                                      {"p", c.p},
                                      {"bytes", c.bytes},
                                      {"time_s", c.time_s}});
        const json hw = hardware_file(raw, false);
        QCOMPARE(hw["spread"].size(), std::size_t{3});
        QCOMPARE(hw["spread"][0]["max_s"].get<double>(), 3e-6);
        QCOMPARE(hw["collectives"]["all_reduce"]["fit_method"].get<std::string>(),
                 std::string("huber-irls"));
        QVERIFY(hw["collectives"]["all_reduce"].contains("fit_r2"));
        QVERIFY(hw["collectives"]["all_reduce"].contains("dropped"));
        const Hardware h = parse_hardware(hw, "hw.json");
        QCOMPARE(h.fit_quality[0].method, std::string("huber-irls"));
        QCOMPARE(h.fit_quality[0].samples, 5);
        QCOMPARE(parse_hardware(to_json(h), "back").fit_quality[0].samples, 5);
    }

    void levelsAcrossHosts() {
        // A calibration across 2 hosts of 2 ranks (issue 20): intra-host samples from α = 2 µs,
        // 10 GB/s, inter-host ones from α = 20 µs, 1 GB/s (ring terms, exact), and the world
        // group's from the hierarchical composition of the two. The file keeps the levels apart, its
        // topology places 2 ranks per node, and the world group chooses "hierarchical".
        const LinkCost in{2e-6, 1e-10}, out{2e-5, 1e-9};
        auto time_on = [](const char* c, int p, std::int64_t n, const LinkCost& l) {
            const CostTerms t = cost_terms(c, p);
            return t.a * l.alpha_s + t.b * static_cast<double>(n) * l.beta_s_per_byte;
        };
        json raw = {{"created_unix_ns", 1764565200000000000LL},
                    {"ranks", 4},
                    {"hosts", {"a", "b"}},
                    {"compute", {{"sgemm_flops", 4e10}}},
                    {"memory", {{"bandwidth_bytes_per_s", 2e10}}},
                    {"levels",
                     {{"hosts", 2}, {"ranks_per_host", 2}, {"host_of_rank", {"a", "a", "b", "b"}}, {"cores_per_host", 8},
                      {"groups", json::array()}}},
                    {"samples", json::array()}};
        const std::int64_t sizes[] = {4096, 65536, 1 << 20};
        for (const char* c : kCalibratedCollectives)
            for (std::int64_t n : sizes) {
                raw["samples"].push_back({{"collective", c}, {"p", 2}, {"bytes", n}, {"time_s", time_on(c, 2, n, in)},
                                          {"level", "intra"}});
                raw["samples"].push_back({{"collective", c}, {"p", 2}, {"bytes", n}, {"time_s", time_on(c, 2, n, out)},
                                          {"level", "inter"}});
            }
        for (std::int64_t n : sizes) {  // RS(2, intra) + AR(2, n/2, inter) + AG(2, intra)
            const double ar = time_on("reduce_scatter", 2, n, in) + time_on("all_reduce", 2, n / 2, out) +
                              time_on("all_gather", 2, n, in);
            raw["samples"].push_back({{"collective", "all_reduce"}, {"p", 4}, {"bytes", n}, {"time_s", ar}, {"level", "span"}});
        }
        const json doc = hardware_file(raw, false);
        QVERIFY(doc.contains("inter_collectives"));
        for (const char* c : kCalibratedCollectives) {
            QVERIFY2(std::abs(doc["collectives"][c]["alpha_s"].get<double>() / in.alpha_s - 1) < 1e-6, c);
            QVERIFY2(std::abs(doc["collectives"][c]["beta_s_per_byte"].get<double>() / in.beta_s_per_byte - 1) < 1e-6, c);
            QVERIFY2(std::abs(doc["inter_collectives"][c]["alpha_s"].get<double>() / out.alpha_s - 1) < 1e-6, c);
            QVERIFY2(std::abs(doc["inter_collectives"][c]["beta_s_per_byte"].get<double>() / out.beta_s_per_byte - 1) < 1e-6, c);
        }
        QCOMPARE(doc["topology"]["devices_per_node"].get<int>(), 2);
        QCOMPARE(doc["topology"]["nodes"].get<int>(), 2);
        QCOMPARE(doc["topology"]["cores_per_node"].get<int>(), 8);
        QCOMPARE(doc["topology"]["algorithm"].get<std::string>(), std::string("hierarchical"));
        QVERIFY(doc["spanning_check"]["hierarchical_mean_abs_err"].get<double>() < 1e-6);
        QVERIFY(doc["spanning_check"]["ring_mean_abs_err"].get<double>() > 0.05);
        QCOMPARE(doc["name"].get<std::string>(), std::string("this cluster (calibrated, 4 ranks on 2 hosts: a, b)"));

        // Read back: the simulator's two levels.
        const Hardware hw = parse_hardware(doc, "cluster.json");
        QCOMPARE(hw.devices_per_node, 2);
        QCOMPARE(hw.algorithm, CollAlgo::Hierarchical);
        const auto AR = static_cast<std::size_t>(FitSlot::AllReduce);
        QVERIFY(std::abs(hw.inter_fit[AR].alpha_s / out.alpha_s - 1) < 1e-6);
        QVERIFY(std::abs(hw.intra_fit[AR].alpha_s / in.alpha_s - 1) < 1e-6);
        QVERIFY(std::abs(hw.inter.beta_s_per_byte / out.beta_s_per_byte - 1) < 1e-6);
        QCOMPARE(hw.inter_fit_quality[AR].method, std::string("huber-irls"));
        QCOMPARE(levels_label(hw),
                 std::string("2 ranks per node; inside a node 2.0 µs, 10.00 GB/s; between nodes 20.0 µs, 1.00 GB/s (all-reduce)"));
        QCOMPARE(levels_label(calibrated_hw()), std::string());  // one host: no levels
        const Hardware back = parse_hardware(to_json(hw), "back");
        QCOMPARE(back.inter_fit, hw.inter_fit);
        QCOMPARE(back.inter_fit_quality[AR].samples, hw.inter_fit_quality[AR].samples);
        QCOMPARE(scaled(hw, {1, 4, 1}).inter_fit[AR].beta_s_per_byte, hw.inter_fit[AR].beta_s_per_byte / 4);

        // collective_time: inside a node the intra fit, one rank per node the inter fit, the world
        // group hierarchical (exactly the composition the samples were made of), a flat ring the
        // slower link.
        const double n = 1 << 20;
        const auto ct = [&](const Hardware& h, int p, int stride) {
            return collective_time(h, ss::traces::Collective::AllReduce, place_group(h, p, stride), n);
        };
        const auto rel = [](double a, double b) { return std::abs(a / b - 1); };
        QVERIFY(rel(ct(hw, 2, 1), time_on("all_reduce", 2, 1 << 20, in)) < 1e-6);   // tp2: one node
        QVERIFY(rel(ct(hw, 2, 2), time_on("all_reduce", 2, 1 << 20, out)) < 1e-6);  // dp2 with tp2: across
        QVERIFY(rel(ct(hw, 4, 1), time_on("reduce_scatter", 2, 1 << 20, in) + time_on("all_reduce", 2, 1 << 19, out) +
                                      time_on("all_gather", 2, 1 << 20, in)) < 1e-6);
        Hardware ring = hw;
        ring.algorithm = CollAlgo::Ring;
        QVERIFY(rel(ct(ring, 4, 1), time_on("all_reduce", 4, 1 << 20, out)) < 1e-6);  // inter is the slower link

        // The simulator on the file: data parallelism across the nodes pays the inter-host link,
        // tensor parallelism inside a node does not (a slower inter link moves only the former).
        Hardware slow = hw;
        for (auto& f : slow.inter_fit) f.beta_s_per_byte *= 10;
        slow.inter.beta_s_per_byte *= 10;
        QCOMPARE(simulate_analytic(mlp_spec(1, 2), slow).step_s, simulate_analytic(mlp_spec(1, 2), hw).step_s);
        QVERIFY(simulate_analytic(mlp_spec(2, 2), slow).step_s > simulate_analytic(mlp_spec(2, 2), hw).step_s);

        // Bad input names the problem.
        json bad = raw;
        bad["samples"][0]["level"] = "rack";
        try {
            hardware_file(bad, false);
            QFAIL("an unknown level must be refused");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(std::string(e.what()).find("\"rack\"") != std::string::npos, e.what());
        }
        json no_inter = raw;
        no_inter["samples"] = json::array();
        for (const auto& x : raw["samples"])
            if (x["level"] != "inter") no_inter["samples"].push_back(x);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, hardware_file(no_inter, false));
        json one_node = doc;
        one_node.erase("topology");
        try {
            parse_hardware(one_node, "x.json");
            QFAIL("inter_collectives without a topology must be refused");
        } catch (const HardwareError& e) {
            QVERIFY2(std::string(e.what()).find("inter_collectives needs a topology") != std::string::npos, e.what());
        }
        json unknown = doc;
        unknown["inter_collectives"]["all_to_all"] = {{"alpha_s", 1e-6}, {"beta_s_per_byte", 1e-9}};
        try {
            parse_hardware(unknown, "x.json");
            QFAIL("an unknown collective must be refused");
        } catch (const HardwareError& e) {
            QVERIFY2(std::string(e.what()).find("inter_collectives.all_to_all is not a calibrated collective") !=
                         std::string::npos, e.what());
        }
    }

    void matmulTableInterpolates() {
        CalibratedCompute c;
        c.matmul = {
            {16, 64, 64, 1e9}, {256, 64, 64, 16e9}, {16, 256, 256, 4e9}, {256, 256, 256, 64e9}};
        QCOMPARE(calibrated_matmul_rate(c, 16, 64, 64), 1e9);  // measured point
        QVERIFY(std::abs(calibrated_matmul_rate(c, 64, 64, 64) / 4e9 - 1) <
                1e-12);                                       // log-log: 16 -> 256 is 1e9 -> 16e9
        QCOMPARE(calibrated_matmul_rate(c, 4, 64, 64), 1e9);  // clamped below
        QCOMPARE(calibrated_matmul_rate(c, 4096, 64, 64), 16e9);  // and above
        // 128 x 128 lies halfway (in log K·N) between 64 x 64 and 256 x 256: the geometric mean
        QVERIFY(std::abs(calibrated_matmul_rate(c, 16, 128, 128) / 2e9 - 1) < 1e-12);
        QCOMPARE(calibrated_matmul_rate(c, 16, 1024, 1024), 4e9);  // beyond the largest: that curve
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 calibrated_matmul_rate(CalibratedCompute{}, 16, 64, 64));
        const std::vector<BytesRate> b{{1024, 1e9}, {1 << 20, 1e10}};
        QVERIFY(std::abs(calibrated_bytes_rate(b, 32768) / std::sqrt(1e19) - 1) < 1e-12);
        QCOMPARE(calibrated_bytes_rate(b, 1), 1e9);
    }

    void ratesComeFromTheCalibration() {
        const ExperimentSpec spec = mlp_spec();
        const auto shapes = matmul_shapes(spec);
        QCOMPARE(shapes, (std::vector<MatmulShape>{{64, 784, 256, 2.0 * 64 * 784 * 256},
                                                   {64, 256, 256, 2.0 * 64 * 256 * 256},
                                                   {64, 256, 10, 2.0 * 64 * 256 * 10}}));
        const Hardware hw = calibrated_hw();
        const ComputeRates R = rates_from_calibration(spec, hw);
        // Harmonic mean by FLOPs: 784x256 at 40 GFLOP/s, 256x256 and 256x10 (clamped to the
        // smallest curve) at 20 GFLOP/s; the first layer computes no input gradient (2/3 of the
        // time).
        const double f1 = 784.0 * 256, f2 = 256.0 * 256 + 256.0 * 10;
        QVERIFY(std::abs(R.matmul_flop_per_s / ((f1 + f2) / (f1 / 4e10 * 2 / 3 + f2 / 2e10)) - 1) <
                1e-12);
        QCOMPARE(R.matmul_rows, 64.0);
        QCOMPARE(R.memory_bytes_per_s, 1e10);
        QCOMPARE(R.optimizer_bytes_per_s, 5e9);
        QCOMPARE(R.kernel_overhead_s, 2e-7);
        QCOMPARE(R.source, std::string("calibrated on box at 2026-12-01T05:00:00Z"));
        QCOMPARE(compute_rates_source(hw), R.source);
        // The simulator's spec entry points use them without being told.
        SimOptions given;
        given.rates = R;
        QCOMPARE(simulate_analytic(spec, hw).step_s, simulate_analytic(spec, hw, given).step_s);
        QCOMPARE(simulate_replay(spec, hw).step_s, simulate_replay(spec, hw, given).step_s);
        Hardware peaks = hw;
        peaks.classes = {};
        QVERIFY(simulate_analytic(spec, peaks).step_s != simulate_analytic(spec, hw).step_s);
        QVERIFY(compute_rates_source(peaks).rfind("hardware peaks", 0) == 0);
        QVERIFY_THROWS_EXCEPTION(SimError, rates_from_calibration(spec, peaks));
        // Faster matrix products in the file, faster predicted compute.
        Hardware fast = hw;
        fast.classes = classes(4e10, 8e10);
        QVERIFY(simulate_analytic(spec, fast).breakdown.compute_ns <
                simulate_analytic(spec, hw).breakdown.compute_ns);
        // tp halves the widths the rates are looked up at: 784 x 128 and 128 x 256 are other points
        const auto tp2 = matmul_shapes(mlp_spec(1, 2));
        QCOMPARE(tp2[0], (MatmulShape{64, 784, 128, 2.0 * 64 * 784 * 128}));
        QCOMPARE(tp2[1], (MatmulShape{64, 128, 256, 2.0 * 64 * 128 * 256}));
    }

    void specsGiveShapesAndBucketSizes() {
        ExperimentSpec spec = mlp_spec();
        spec.parallel.bucket_mb = 0.25;  // 65,536 floats per bucket
        const SpecProbes pr = probes_for_specs({spec});
        auto has_width = [&](int k, int n) {
            return std::find(pr.widths.begin(), pr.widths.end(), std::pair{k, n}) !=
                   pr.widths.end();
        };
        QVERIFY(has_width(784, 256) && has_width(256, 256) && has_width(256, 10));
        QVERIFY(has_width(784, 128) && has_width(128, 256));  // tp 2: column and row halves
        QVERIFY(has_width(784, 64));                          // tp 4
        for (int rows : {64, 32, 16})
            QVERIFY2(std::count(pr.rows.begin(), pr.rows.end(), rows) == 1,
                     std::to_string(rows).c_str());
        // 269,322 parameters, padded to the trainer's 16-float alignment per tensor: 4 full buckets
        // of 256 KiB and a last one of the rest
        const Workload w = build_workload(spec);
        const auto flat = static_cast<std::int64_t>(w.stages[0].flat_elems);
        QVERIFY(std::count(pr.sizes.begin(), pr.sizes.end(), std::int64_t{65536 * 4}) == 1);
        QVERIFY(std::count(pr.sizes.begin(), pr.sizes.end(), (flat - 4 * 65536) * 4) == 1);
    }

    void validationPredictsFromTheCalibration() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("v.sqlite").toStdString();
        const std::string spec =
            R"({"name":"v","model":{"kind":"mlp","preset":"default"},"training":{"global_batch":64}})";
        {
            ss::traces::TraceWriter w(path);
            afx::write_run(w, afx::info("v-dp1", 1, spec),
                           {{0, afx::steps_text({10000000, 10000000, 10000000, 10000000})}});
        }
        ss::traces::TraceReader rd(path);
        const Hardware hw = calibrated_hw();
        const ValidationReport rep = validate_runs(rd, hw);
        QCOMPARE(rep.rows.size(), std::size_t{1});
        QVERIFY(!rep.rows[0].fit);  // nothing fitted: every point is a prediction
        QCOMPARE(rep.predicted, 1);
        QCOMPARE(rep.rows[0].analytic_s, simulate_analytic(mlp_spec(), hw).step_s);
        QVERIFY2(rep.fitted_on.size() == 1 && rep.fitted_on[0].rfind("calibrated on box", 0) == 0,
                 rep.fitted_on[0].c_str());
        // Asked to fit: this run has no kernels to fit on, so it says so; without classes: refused.
        QVERIFY_THROWS_EXCEPTION(
            SimError, validate_runs(rd, hw, {}, {}, 0, RepeatStatistic::Median, RatesFrom::Fit));
        Hardware peaks = hw;
        peaks.classes = {};
        QVERIFY_THROWS_EXCEPTION(
            SimError,
            validate_runs(rd, peaks, {}, {}, 0, RepeatStatistic::Median, RatesFrom::Calibration));
    }

    void kindsAreTheTrainersKernels() {
        // gpt-tiny (2 layers, d 64, 4 heads, seq 32, vocab 256), 8 samples per micro-batch; tp 2
        const ExperimentSpec gpt = spec_of({{"name", "g"},
                                            {"model", {{"kind", "gpt"}, {"preset", "tiny"}}},
                                            {"training", {{"global_batch", 8}}},
                                            {"parallel", {{"tp", 2}}}});
        const auto ks = kind_shapes(gpt);
        auto find = [&](const std::string& kind) {
            const auto it = std::find_if(ks.begin(), ks.end(),
                                         [&](const KindShape& k) { return k.kind == kind; });
            if (it == ks.end()) throw std::runtime_error("no kind " + kind);
            return *it;
        };
        QCOMPARE(find("attention").dims,
                 (std::vector<int>{8, 32, 32, 2}));  // C and heads split over tp
        QCOMPARE(find("attention").count, 2.0);
        QCOMPARE(find("attention").arg(), std::string("attention:8:32:32:2"));
        QCOMPARE(find("layernorm").dims, (std::vector<int>{256, 64}));
        QCOMPARE(find("layernorm").count, 5.0);  // 2 per block + the final one
        QCOMPARE(find("gelu").dims, (std::vector<int>{256 * 128}));
        QCOMPARE(find("classifier").dims, (std::vector<int>{256, 256}));
        // the MLP: relu on each hidden layer's output (tp splits the column layer's), the
        // classifier
        const auto mk = kind_shapes(mlp_spec(1, 2));
        QCOMPARE(mk.size(), std::size_t{3});
        QCOMPARE(mk[0].kind, std::string("relu"));
        QCOMPARE(mk[0].dims, (std::vector<int>{64 * 128}));
        QCOMPARE(mk[1].dims, (std::vector<int>{64 * 256}));
        QCOMPARE(mk[2].arg(), std::string("classifier:64:10"));
        // probes: every layout's kinds, once
        const SpecProbes pr = probes_for_specs({gpt});
        QVERIFY(std::count(pr.kinds.begin(), pr.kinds.end(), std::string("attention:8:32:32:2")) ==
                1);
        QVERIFY(std::count(pr.kinds.begin(), pr.kinds.end(), std::string("attention:8:32:64:4")) ==
                1);  // tp 1
    }

    void kindSecondsInterpolate() {
        CalibratedCompute c;
        c.kinds = {
            {"gelu", {1000}, 1e-5}, {"gelu", {4000}, 8e-5}, {"attention", {8, 32, 64, 4}, 1e-3}};
        QCOMPARE(calibrated_kind_seconds(c, {"gelu", {1000}, 1}), 1e-5);  // measured
        // per element 1e-8 at 1000 and 2e-8 at 4000: log-log halfway at 2000 is sqrt(2)e-8 per
        // element
        QVERIFY(std::abs(calibrated_kind_seconds(c, {"gelu", {2000}, 1}) /
                             (2000 * std::sqrt(2.0) * 1e-8) -
                         1) < 1e-12);
        QVERIFY(std::abs(calibrated_kind_seconds(c, {"gelu", {8000}, 1}) / 16e-5 - 1) <
                1e-12);  // proportional beyond
        QVERIFY(std::abs(calibrated_kind_seconds(c, {"attention", {16, 32, 64, 4}, 1}) / 2e-3 - 1) <
                1e-12);
        QCOMPARE(calibrated_kind_seconds(c, {"layernorm", {256, 64}, 1}), -1.0);  // not measured
    }

    void ratesTimeAttentionAndElementwiseByKind() {
        const ExperimentSpec gpt = spec_of({{"name", "g"},
                                            {"model", {{"kind", "gpt"}, {"preset", "tiny"}}},
                                            {"training", {{"global_batch", 8}}}});
        Hardware hw = calibrated_hw();
        hw.classes.matmul.clear();
        for (double rows : {16.0, 4096.0})  // every linear product at 50 GFLOP/s
            for (auto [k, n] : {std::pair{64.0, 64.0}, std::pair{256.0, 256.0}})
                hw.classes.matmul.push_back({rows, k, n, 5e10});
        const ComputeRates plain = rates_from_calibration(gpt, hw);
        QCOMPARE(plain.matmul_flop_per_s, 5e10);  // no kinds: the linear rate for attention too
        // every kind 100 us per call, the attention 1 ms
        for (const KindShape& k : kind_shapes(gpt))
            hw.classes.kinds.push_back({k.kind, std::vector<double>(k.dims.begin(), k.dims.end()),
                                        k.kind == "attention" ? 1e-3 : 1e-4});
        const ComputeRates R = rates_from_calibration(gpt, hw);
        const Workload w = build_workload(gpt);
        double lin = 0, att = 0, ew = 0, emb = 0;
        for (const auto& sw : w.stages)
            for (const auto& L : sw.layers) {
                (L.name == "embedding" ? emb : ew) += L.fwd_bytes + L.bwd_bytes;
                if (L.name.rfind("block", 0) == 0) att += 3 * 2.0 * 8 * 64 * 32 * 33;  // fwd + bwd
            }
        for (const auto& s : matmul_shapes(gpt)) lin += 3 * s.weight;
        // matrix products: the linear FLOPs at 50 GFLOP/s and the attention's in 2 x 1 ms
        QVERIFY(std::abs(R.matmul_flop_per_s / ((lin + att) / (lin / 5e10 + 2e-3)) - 1) < 1e-9);
        // element-wise: the blocks' and head's bytes in the kinds' seconds (2 x (2 + 1 + 2 + 2) + 1
        // + 1 calls of 100 us), the embedding's at the element-wise class (10 GB/s)
        const double secs = (2 * 7 + 2) * 1e-4 + emb / 1e10;
        QVERIFY(std::abs(R.memory_bytes_per_s / ((ew + emb) / secs) - 1) < 1e-9);
        // a kind missing: the classes alone
        hw.classes.kinds.pop_back();
        QCOMPARE(rates_from_calibration(gpt, hw).matmul_flop_per_s, 5e10);
        // the file keeps them (and scaling the compute scales them)
        hw.classes.kinds.push_back({"gelu", {5}, 2e-4});
        const Hardware back = parse_hardware(to_json(hw), "back.json");
        QVERIFY(back.classes == hw.classes);
        QCOMPARE(scaled(hw, {2, 1, 1}).classes.kinds.back().seconds, 1e-4);
    }

    // `calibrate --spec`: the classes carried into the trainer's context by a single-rank run.
    void classesInTheTrainersContext() {
        const ExperimentSpec spec = mlp_spec();
        Hardware hw = calibrated_hw();
        const ComputeRates R0 = rates_from_calibration(spec, hw);
        const double params = static_cast<double>(param_count(spec.model));
        // Two MLP contexts (the one nearer in parameters is used) and a GPT one (never for an MLP).
        hw.classes.context = {{"mlp", "far", params * 10, 5.0, 5.0, 9e-6, 9e-5, "run 9 (far) of f"},
                              {"mlp", "near", params * 1.5, 2.0, 1.5, 1e-6, 3e-5, "run 1 (c) of f"},
                              {"gpt", "gpt", params, 7.0, 7.0, 7e-6, 7e-5, "run 2 (g) of f"}};
        QCOMPARE(context_for(hw.classes, spec)->key, std::string("near"));
        const ComputeRates R = rates_from_calibration(spec, hw);
        QCOMPARE(R.matmul_flop_per_s, R0.matmul_flop_per_s / 2);
        QCOMPARE(R.memory_bytes_per_s, R0.memory_bytes_per_s / 2);
        QCOMPARE(R.kernel_overhead_s, R0.kernel_overhead_s * 2);
        QCOMPARE(R.optimizer_bytes_per_s, R0.optimizer_bytes_per_s / 1.5);
        QCOMPARE(R.data_s_per_sample, 1e-6);
        QCOMPARE(R.step_overhead_s, 3e-5);
        QVERIFY2(R.source.find("in the trainer's context (compute x2.000, optimizer x1.500) from run 1 (c) of f") !=
                     std::string::npos,
                 R.source.c_str());
        // The file keeps them; a scaled machine loads its data and host work faster.
        const Hardware back = parse_hardware(to_json(hw), "back.json");
        QVERIFY(back.classes == hw.classes);
        QCOMPARE(scaled(hw, {2, 1, 1}).classes.context[1].data_s_per_sample, 5e-7);
        json bad = to_json(hw);
        bad["compute_classes"]["context"][0].erase("model");
        bad["compute_classes"]["context"][1]["compute_factor"] = -1;
        try {
            parse_hardware(bad, "bad.json");
            QFAIL("a bad compute_classes.context must be refused");
        } catch (const HardwareError& e) {
            const std::string m = e.what();
            QVERIFY2(m.find("compute_classes.context[0] needs \"model\"") != std::string::npos, e.what());
            QVERIFY2(m.find("compute_classes.context[1].compute_factor") != std::string::npos, e.what());
        }

        // From a recorded single-rank run: 4 steps of 10 ms, each 6 ms of kernels, 2 ms of optimizer
        // and 0.5 ms of data loading; the factors are the measured parts over the predicted ones.
        QTemporaryDir dir;
        const std::string path = dir.filePath("ctx.sqlite").toStdString();
        const std::string spec_json = spec.to_json().dump();
        std::string text;
        for (int st = 0; st < 4; ++st) {
            auto at = [&](double ms) { return std::to_string(static_cast<std::int64_t>((st * 10 + ms) * 1e6)); };
            const std::string n = " step=" + std::to_string(st);
            text += "step step " + at(0) + " " + at(10) + " lane=0" + n + "\n";
            text += "host data " + at(0) + " " + at(0.5) + " lane=4" + n + "\n";
            text += "kernel linear_forward " + at(0.5) + " " + at(6.5) + " lane=2" + n + "\n";
            text += "phase optimizer " + at(7) + " " + at(9) + " lane=1" + n + "\n";
            text += "kernel adamw_update " + at(7) + " " + at(9) + " lane=2" + n + "\n";
        }
        ss::traces::RunId run, two;
        {
            ss::traces::TraceWriter w(path);
            run = afx::write_run(w, afx::info("ctx", 1, spec_json), {{0, text}});
            two = afx::write_run(w, afx::info("two", 2, mlp_spec(2).to_json().dump()), {{0, text}, {1, text}});
        }
        ss::traces::TraceReader rd(path);
        Hardware bare = calibrated_hw();
        const RunAnalysis an = analyze_run(rd, run);
        SimOptions opt;
        opt.rates = rates_from_calibration(spec, bare);
        const SimResult pred = simulate_analytic(build_workload(spec), bare, opt);
        const ComputeContext cx = context_from_run(rd, run, hw);  // the file's own context is ignored
        QCOMPARE(cx.model, std::string("mlp"));
        QCOMPARE(cx.key, validation_point_key(spec));
        QVERIFY(std::abs(cx.compute_factor - an.overall.part(Part::Compute) / pred.breakdown.part(Part::Compute)) < 1e-12);
        QVERIFY(std::abs(an.overall.part(Part::Compute) - 6e6) < 1e3);  // the kernels outside the optimizer
        QVERIFY(std::abs(cx.optimizer_factor - an.overall.part(Part::Optimizer) / pred.breakdown.part(Part::Optimizer)) < 1e-12);
        QVERIFY(std::abs(cx.data_s_per_sample - 0.5e-3 / 64) < 1e-12);
        QVERIFY2(cx.run.find("run 1 (ctx) of ") == 0, cx.run.c_str());
        QVERIFY_THROWS_EXCEPTION(SimError, context_from_run(rd, two, hw));  // 2 ranks: not a context run
        // A validation on a file whose point is the context run's: that point is not a prediction.
        Hardware with = bare;
        with.classes.context = {cx};
        const ValidationReport rep = validate_runs(rd, with);
        const auto row = std::find_if(rep.rows.begin(), rep.rows.end(), [](const ValidationRow& r) { return r.run.name == "ctx"; });
        QVERIFY(row != rep.rows.end() && row->fit);
        QVERIFY2(row->note.find("context run") != std::string::npos, row->note.c_str());
        QCOMPARE(rep.predicted, 1);  // the dp2 point only
    }

    void hardwareFileKeepsTheClasses() {
        Hardware hw = calibrated_hw();
        const Hardware back = parse_hardware(to_json(hw), "back.json");
        QVERIFY(back.classes == hw.classes);
        QCOMPARE(scaled(hw, {2, 1, 1}).classes.matmul[0].flop_per_s, 4e10);
        QCOMPARE(scaled(hw, {2, 1, 1}).classes.kernel_overhead_s, 1e-7);
        json doc = to_json(hw);
        doc["compute_classes"]["matmul"]["points"][0]["flop_per_s"] = -1;
        doc["compute_classes"].erase("optimizer");
        try {
            parse_hardware(doc, "bad.json");
            QFAIL("a bad compute_classes must be refused");
        } catch (const HardwareError& e) {
            const std::string m = e.what();
            QVERIFY2(m.find("compute_classes.matmul.points[0].flop_per_s") != std::string::npos,
                     e.what());
            QVERIFY2(m.find("compute_classes.optimizer.points is missing") != std::string::npos,
                     e.what());
        }
    }

    void alphaBetaFromARecordedRun() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("run.sqlite").toStdString();
        // dp2: two DP buckets per step posted back to back (non-blocking), the second queued behind
        // the first on the communication thread; rank 1 arrives late at the first. Times in ns.
        //   step 0: bucket A 4096 B  rank0 [1000, 3000]  rank1 [1500, 3100]  -> 3000 - 1500 = 1500
        //           bucket B 65536 B rank0 [1100, 9000]  rank1 [1600, 9200]  -> starts at max(3000,
        //           3100) -> 9000 - 3100 = 5900
        //   a tp-less run: one send/recv pair of 1 KiB on the pp group is ignored here (no pp)
        const std::string spec =
            R"({"name":"d","model":{"kind":"mlp","preset":"default"},"training":{"global_batch":64},"parallel":{"dp":2}})";
        {
            ss::traces::TraceWriter w(path);
            auto ri = afx::info("dp2", 2, spec);
            afx::write_run(w, ri,
                           {{0,
                             "comm all_reduce 1000 3000 lane=3 bytes=4096 coll=all_reduce group=dp "
                             "gid=0 gsize=2 seq=0\n"
                             "comm all_reduce 1100 9000 lane=3 bytes=65536 coll=all_reduce "
                             "group=dp gid=0 gsize=2 seq=1\n"
                             "comm all_reduce 20000 21500 lane=3 bytes=4096 coll=all_reduce "
                             "group=dp gid=0 gsize=2 seq=2\n"},
                            {1,
                             "comm all_reduce 1500 3100 lane=3 bytes=4096 coll=all_reduce group=dp "
                             "gid=0 gsize=2 seq=0\n"
                             "comm all_reduce 1600 9200 lane=3 bytes=65536 coll=all_reduce "
                             "group=dp gid=0 gsize=2 seq=1\n"
                             "comm all_reduce 20100 21600 lane=3 bytes=4096 coll=all_reduce "
                             "group=dp gid=0 gsize=2 seq=2\n"}});
            auto r1 = afx::info("single", 1, spec);
            afx::write_run(w, r1, {{0, "kernel k 0 10 lane=2\n"}});
        }
        ss::traces::TraceReader rd(path);
        const auto runs = rd.runs();
        auto samples = collective_samples_from_trace(rd, runs[0].id);
        QCOMPARE(samples.size(), std::size_t{3});
        std::sort(samples.begin(), samples.end(),
                  [](const auto& a, const auto& b) { return a.time_s < b.time_s; });
        QCOMPARE(samples[0].collective,
                 std::string("iall_reduce"));  // DP buckets with overlap: non-blocking
        QCOMPARE(samples[0].bytes, std::int64_t{4096});
        QVERIFY(std::abs(samples[0].time_s - 1400e-9) < 1e-12);  // seq 2: 21500 - 20100
        QVERIFY(std::abs(samples[1].time_s - 1500e-9) < 1e-12);
        QCOMPARE(samples[2].bytes, std::int64_t{65536});
        QVERIFY(std::abs(samples[2].time_s - 5900e-9) < 1e-12);
        std::vector<std::string> problems;
        const auto fits = fit_trace_collectives(samples, problems);
        QVERIFY(problems.empty());
        QCOMPARE(fits.size(), std::size_t{1});
        QCOMPARE(fits[0].p, 2);
        QCOMPARE(fits[0].fit.samples, 3);
        const json hw = hardware_from_trace(to_json(calibrated_hw()), fits, path, runs[0]);
        QVERIFY(hw["collectives"].contains("iall_reduce"));
        QCOMPARE(hw["from_trace"]["run"].get<std::int64_t>(), runs[0].id.value);
        QVERIFY(parse_hardware(hw, "from-trace.json")
                    .intra_fit[static_cast<int>(FitSlot::IAllReduce)]
                    .beta_s_per_byte > 0);
        // One size only: named, not fitted.
        std::vector<CollectiveSample> one{samples[0], samples[1]};
        problems.clear();
        QVERIFY(fit_trace_collectives(one, problems).empty());
        QCOMPARE(problems.size(), std::size_t{1});
        QVERIFY2(problems[0].find("iall_reduce p=2") != std::string::npos &&
                     problems[0].find("unidentifiable") != std::string::npos,
                 problems[0].c_str());
        // Each group size one size only, two group sizes together: one fit over both (p = 0), which
        // the hardware file keeps; both groups are named as not fitted on their own.
        const CostTerms t2 = cost_terms("all_reduce", 2), t8 = cost_terms("all_reduce", 8);
        std::vector<CollectiveSample> mixed{
            {"all_reduce", 2, 16384, t2.a * 5e-6 + t2.b * 16384 * 1e-9, 1},
            {"all_reduce", 8, 24, t8.a * 5e-6 + t8.b * 24 * 1e-9, 1}};
        problems.clear();
        const auto pooled = fit_trace_collectives(mixed, problems);
        QCOMPARE(pooled.size(), std::size_t{1});
        QCOMPARE(pooled[0].p, 0);
        QVERIFY(std::abs(pooled[0].fit.alpha_s / 5e-6 - 1) < 1e-6);
        QCOMPARE(problems.size(), std::size_t{2});
        QVERIFY2(problems[0].find("fitted with the other group sizes") != std::string::npos,
                 problems[0].c_str());
        const json hp = hardware_from_trace(to_json(calibrated_hw()), pooled, path, runs[0]);
        QCOMPARE(hp["collectives"]["all_reduce"]["alpha_s"].get<double>(), pooled[0].fit.alpha_s);
        // A run without collectives: the error names the run.
        try {
            collective_samples_from_trace(rd, runs[1].id);
            QFAIL("a run without collectives must be refused");
        } catch (const SimError& e) {
            QVERIFY2(std::string(e.what()).find("(single) has no collectives") != std::string::npos,
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestCalibrate)
#include "tst_core_calibrate.moc"

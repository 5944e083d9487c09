// core/teach: the numbers of the Learn page's explorers against the formulas in the docs
// (docs/GUI.md "Learn page", core/teach/*.h): Amdahl, Gustafson and Karp–Flatt at hand-worked
// points, the study overlay's fitted f, the ring all-reduce state after every step (the exact sets
// of contributions, by closed form and by carrying out the transfers), its bytes per rank
// 2(p−1)/p·n, and the α-β times of ring, tree and parameter server.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/analysis/scaling.h"
#include "core/sim/hardware.h"
#include "core/teach/laws_explorer.h"
#include "core/teach/ring_allreduce.h"
#include "traces/writer.h"

using namespace ss::core;
using namespace ss::core::teach;

namespace {
bool near(double a, double b, double rel = 1e-12) {
    return std::fabs(a - b) <= rel * std::max(1.0, std::fabs(b));
}

std::set<int> members(Contributions c) {
    std::set<int> s;
    for (int r = 0; r < 32; ++r)
        if (c & (Contributions{1} << r)) s.insert(r);
    return s;
}

bool contains(const std::vector<std::string>& lines, const std::string& needle) {
    for (const auto& l : lines)
        if (l.find(needle) != std::string::npos) return true;
    return false;
}

std::vector<ScalingSample> samples(const std::vector<std::pair<int, double>>& pt) {
    std::vector<ScalingSample> v;
    std::int64_t id = 1;
    for (const auto& [p, t] : pt) {
        ScalingSample s;
        s.p = p;
        s.time_ns = t;
        s.run = ss::traces::RunId(id++);
        v.push_back(s);
    }
    return v;
}
}  // namespace

class TestCoreTeach : public QObject {
    Q_OBJECT
private slots:
    void lawsAtHandWorkedPoints() {
        // f = 0.05, p = 8: Amdahl 1/(0.05 + 0.95/8) = 1/0.16875; Gustafson 8 − 0.05·7 = 7.65;
        // Karp–Flatt on Amdahl's curve is f, on Gustafson's f/S = 0.05/7.65.
        const LawReading r = read_laws(0.05, 8);
        QVERIFY(near(r.amdahl, 1 / 0.16875));
        QVERIFY(near(r.amdahl_efficiency, 1 / 0.16875 / 8));
        QVERIFY(near(r.amdahl_limit, 20));
        QVERIFY(near(r.gustafson, 7.65));
        QVERIFY(near(r.gustafson_efficiency, 7.65 / 8));
        QVERIFY(near(r.karp_flatt_amdahl, 0.05, 1e-12));
        QVERIFY(near(r.karp_flatt_gustafson, 0.05 / 7.65, 1e-12));
        // f = 0.1, p = 4: 1/(0.1 + 0.225) = 3.0769…, 4 − 0.3 = 3.7.
        const LawReading q = read_laws(0.1, 4);
        QVERIFY(near(q.amdahl, 1 / 0.325));
        QVERIFY(near(q.gustafson, 3.7));
        // p = 1: Karp–Flatt is undefined; f = 0: no limit.
        QVERIFY(std::isnan(read_laws(0.2, 1).karp_flatt_amdahl));
        QVERIFY(std::isinf(read_laws(0, 16).amdahl_limit));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, read_laws(1.5, 4));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, read_laws(0.1, 0.5));
        // The sentences carry the same numbers, 3 significant digits.
        const auto lines = explain_laws(r, nullptr);
        QCOMPARE(lines.size(), std::size_t{3});
        QVERIFY(contains(lines, "5.93× faster"));
        QVERIFY(contains(lines, "7.65× the work"));
        QVERIFY(contains(lines, "1/f = 20.0×"));
        QVERIFY(contains(lines, "e = 0.0500"));
        QVERIFY(contains(lines, "0.00654"));
        QCOMPARE(fmt3(0.05), std::string("0.0500"));
        QCOMPARE(fmt3(1024), std::string("1024"));
    }

    void curvesAndTicks() {
        QCOMPARE(powers_of_two_up_to(5), (std::vector<int>{1, 2, 4, 8}));
        QCOMPARE(powers_of_two_up_to(1), (std::vector<int>{1}));
        const LawCurve c = sample_laws(0.1, 64, 4);
        QCOMPARE(c.p.size(), std::size_t{25});  // 6 doublings × 4 + 1
        QCOMPARE(c.p.front(), 1.0);
        QCOMPARE(c.p.back(), 64.0);
        for (std::size_t i = 0; i < c.p.size(); ++i) {
            QVERIFY(near(c.amdahl[i], amdahl_speedup(0.1, c.p[i])));
            QVERIFY(near(c.gustafson[i], gustafson_speedup(0.1, c.p[i])));
            if (i) QVERIFY(c.p[i] > c.p[i - 1]);
        }
        QVERIFY(near(c.p[4], 2.0));  // geometric: a doubling every 4 samples
    }

    void studyOverlayUsesTheAnalysisFit() {
        // T(1) = 100, T(2) = 60, T(4) = 40: S = 5/3 and 5/2; Amdahl least squares in 1/S:
        // f = [(0.6−0.5)·0.5 + (0.4−0.25)·0.75] / (0.25 + 0.5625) = 0.1625/0.8125 = 0.2.
        const ScalingResult strong = analyze_scaling(samples({{1, 100}, {2, 60}, {4, 40}}), false);
        const StudyOverlay o = overlay_from_scaling(strong);
        QVERIFY(o.present);
        QCOMPARE(o.law, Law::Amdahl);
        QVERIFY(near(o.fitted_f, 0.2, 1e-9));
        QCOMPARE(o.p, (std::vector<double>{1, 2, 4}));
        QVERIFY(near(o.speedup[1], 100.0 / 60));
        QVERIFY(near(o.speedup[2], 2.5));
        const auto lines = explain_laws(read_laws(0.2, 4), &o);
        QCOMPARE(lines.size(), std::size_t{4});
        QVERIFY(contains(lines, "fits Amdahl with f = 0.200"));
        QVERIFY(contains(lines, "S(4) = 2.50"));
        // Weak scaling: the Gustafson fit. S = p·T(1)/T(p): 2·100/110 and 4·100/125 = 3.2:
        // f = Σ(p−S)(p−1)/Σ(p−1)² = [(2−1.8182)·1 + 0.8·3]/(1 + 9).
        const ScalingResult weak = analyze_scaling(samples({{1, 100}, {2, 110}, {4, 125}}), true);
        const StudyOverlay w = overlay_from_scaling(weak);
        QCOMPARE(w.law, Law::Gustafson);
        QVERIFY(near(w.fitted_f, ((2 - 200.0 / 110) * 1 + 0.8 * 3) / 10, 1e-9));
    }

    void ringBytesPerRank() {
        const double n = 1 << 20;
        for (int p = 2; p <= 8; ++p) {
            const RingTraffic t = ring_traffic(p, n);
            QCOMPARE(t.steps, 2 * (p - 1));
            QVERIFY(near(t.bytes_per_link_per_step, n / p));
            QVERIFY(near(t.bytes_per_rank, 2.0 * (p - 1) / p * n));
            QVERIFY(near(t.bytes_all_links, p * 2.0 * (p - 1) / p * n));
            // The same b(p)·n as the cost model the simulator and calibrate use.
            QVERIFY(near(t.bytes_per_rank,
                         cost_terms(ss::traces::Collective::AllReduce, p, CollAlgo::Ring).b * n));
            for (int r = 0; r < p; ++r)
                QVERIFY(near(ring_bytes_sent(p, n, r, t.steps), t.bytes_per_rank));
            QVERIFY(near(ring_bytes_sent(p, n, 0, p - 1),
                         (p - 1) * n / p));  // half after the reduce-scatter
        }
    }

    void ringStateHandWorkedThreeRanks() {
        // p = 3, step 1: rank 0 sends chunk 0 to rank 1, rank 1 chunk 1 to 2, rank 2 chunk 2 to 0.
        const RingState s = ring_state(3, 1);
        QCOMPARE(members(s.at(1, 0)), (std::set<int>{0, 1}));
        QCOMPARE(members(s.at(2, 1)), (std::set<int>{1, 2}));
        QCOMPARE(members(s.at(0, 2)), (std::set<int>{0, 2}));
        QCOMPARE(members(s.at(0, 0)), (std::set<int>{0}));
        // Step 2: rank 1 sends chunk 0 ({0,1}) to rank 2, which owns it fully.
        const RingState t = ring_state(3, 2);
        QCOMPARE(members(t.at(2, 0)), (std::set<int>{0, 1, 2}));
        QCOMPARE(members(t.at(0, 1)), (std::set<int>{0, 1, 2}));
        QCOMPARE(members(t.at(1, 2)), (std::set<int>{0, 1, 2}));
        QCOMPARE(members(t.at(1, 0)), (std::set<int>{0, 1}));  // kept from step 1
        const auto tr = ring_transfers(3, 3, 300);  // all-gather step 1: each sends its owned chunk
        QCOMPARE(tr[0], (RingTransfer{0, 1, 1, false, 100}));
        QCOMPARE(tr[2], (RingTransfer{2, 0, 0, false, 100}));
    }

    void ringReduceScatterHoldsThePartialSums() {
        for (int p = 2; p <= 8; ++p) {
            for (int k = 1; k <= p - 1; ++k) {
                const RingState s = ring_state(p, k);
                for (int r = 0; r < p; ++r) {
                    // The chunk rank r received at step k is (r − k) mod p, summing ranks r−k … r.
                    const int c = ((r - k) % p + p) % p;
                    std::set<int> want;
                    for (int j = 0; j <= k; ++j) want.insert(((r - j) % p + p) % p);
                    QCOMPARE(members(s.at(r, c)), want);
                    QCOMPARE(contribution_count(s.at(r, c)), k + 1);
                    // Its own chunk r is never received during the reduce-scatter.
                    QCOMPARE(members(s.at(r, r)), (std::set<int>{r}));
                }
            }
            // After the reduce-scatter each rank owns exactly one fully reduced chunk, (r+1) mod p,
            // and every chunk is fully reduced on exactly one rank.
            const RingState rs = ring_state(p, p - 1);
            std::set<int> owned;
            for (int r = 0; r < p; ++r) {
                int full = 0;
                for (int c = 0; c < p; ++c)
                    if (rs.at(r, c) == all_ranks(p)) {
                        ++full;
                        QCOMPARE(c, ring_owned_chunk(p, r));
                        owned.insert(c);
                    }
                QCOMPARE(full, 1);
            }
            QCOMPARE(static_cast<int>(owned.size()), p);
            // After the all-gather everyone has everything; before its last step nobody does.
            const RingState end = ring_state(p, ring_steps(p));
            for (Contributions c : end.held) QCOMPARE(c, all_ranks(p));
            if (p > 2) {
                const RingState before = ring_state(p, ring_steps(p) - 1);
                for (int r = 0; r < p; ++r) {
                    int full = 0;
                    for (int c = 0; c < p; ++c) full += before.at(r, c) == all_ranks(p);
                    QCOMPARE(full, p - 1);
                }
            }
        }
    }

    void ringTransfersAgreeWithClosedForm() {
        // Carrying out the sends (apply_step) reaches the closed form's state at every step.
        for (int p = 2; p <= 8; ++p) {
            RingState s = ring_initial(p);
            QCOMPARE(s, ring_state(p, 0));
            for (int k = 1; k <= ring_steps(p); ++k) {
                s = apply_step(s);
                QCOMPARE(s.step, k);
                QCOMPARE(s, ring_state(p, k));
            }
            QVERIFY_THROWS_EXCEPTION(std::invalid_argument, apply_step(s));
        }
    }

    void ringStepAndBackAreInverses() {
        for (int p = 2; p <= 8; ++p) {
            RingAllReduce a(p);
            QVERIFY(!a.back());
            for (int k = 0; k < a.steps(); ++k) {
                const RingState before = a.state();
                QVERIFY(a.forward());
                const RingState after = a.state();
                QVERIFY(before != after);
                QVERIFY(a.back());
                QCOMPARE(a.state(), before);
                QVERIFY(a.forward());
                QCOMPARE(a.state(), after);
            }
            QVERIFY(a.done());
            QVERIFY(!a.forward());
            a.reset();
            QCOMPARE(a.state(), ring_initial(p));
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RingAllReduce(1));
    }

    void alphaBetaTimes() {
        // α = 1 µs, β = 1 ns/B, p = 4, n = 1 MB (10^6 bytes):
        //   ring 2·3·α + 2·3/4·n·β = 6 µs + 1.5 ms; tree 2·2·α + 2·n·β = 4 µs + 2 ms;
        //   PS 2·W·(α + n/S·β): 4 workers, 1 server 8·(1 µs + 1 ms) = 8.008 ms; 4 servers
        //   8·(1 µs + 250 µs) = 2.008 ms; 2 workers, 8 servers 4·(1 µs + 125 µs) = 0.504 ms.
        const LinkCost l{1e-6, 1e-9};
        QVERIFY(near(ring_allreduce_s(l, 4, 1e6), 1.506e-3, 1e-12));
        QVERIFY(near(tree_allreduce_s(l, 4, 1e6), 2.004e-3, 1e-12));
        QVERIFY(near(parameter_server_s(l, 4, 1, 1e6), 8.008e-3, 1e-12));
        QVERIFY(near(parameter_server_s(l, 4, 4, 1e6), 2.008e-3, 1e-12));
        QVERIFY(near(parameter_server_s(l, 2, 8, 1e6), 5.04e-4, 1e-12));
        // The ring is what the simulator charges a one-node group (collective_time).
        Hardware hw;
        hw.intra = l;
        hw.devices_per_node = 8;
        for (int p = 2; p <= 8; ++p)
            QVERIFY(near(
                ring_allreduce_s(l, p, 4096),
                collective_time(hw, ss::traces::Collective::AllReduce, place_group(hw, p, 1), 4096),
                1e-12));
        const LinkCost p2p{3e-6, 2e-9};
        const AlgorithmCurves c = sample_algorithms(l, p2p, 4, 2, 1024, 1 << 20, 1);
        QCOMPARE(c.bytes.size(), std::size_t{11});
        QCOMPARE(c.bytes.back(), double(1 << 20));
        QVERIFY(
            near(c.ps_s[3], parameter_server_s(p2p, 4, 2, c.bytes[3])));  // on the send/recv link
        QVERIFY(near(c.ring_s[3], ring_allreduce_s(l, 4, c.bytes[3])));
        QVERIFY(near(c.tree_s[3], tree_allreduce_s(l, 4, c.bytes[3])));
    }

    void calibrationPoints() {
        // spread[] (median of the repeats) is preferred to measurements[]; the link is the
        // all_reduce fit.
        const nlohmann::json doc = nlohmann::json::parse(R"({
          "format": "scalescope-hardware", "version": 1,
          "collectives": {"all_reduce": {"alpha_s": 2e-6, "beta_s_per_byte": 3e-10},
                          "send_recv": {"alpha_s": 5e-6, "beta_s_per_byte": 6e-10}},
          "compute": {"sgemm_flops": 1e10}, "memory": {"bandwidth_bytes_per_s": 1e10},
          "measurements": [{"collective": "all_reduce", "p": 2, "bytes": 4096, "time_s": 9e-6}],
          "spread": [{"collective": "all_reduce", "p": 2, "bytes": 65536, "repeats": 3, "median_s": 3e-5, "min_s": 2e-5, "max_s": 4e-5},
                     {"collective": "all_reduce", "p": 2, "bytes": 4096, "repeats": 3, "median_s": 5e-6, "min_s": 4e-6, "max_s": 6e-6},
                     {"collective": "broadcast", "p": 2, "bytes": 4096, "repeats": 3, "median_s": 1e-6, "min_s": 1e-6, "max_s": 1e-6}]
        })");
        const CalibrationView v = calibration_from_json(doc, "hw.json");
        QVERIFY(v.present);
        QCOMPARE(v.link.alpha_s, 2e-6);
        QCOMPARE(v.link.beta_s_per_byte, 3e-10);
        QCOMPARE(v.p2p.alpha_s, 5e-6);
        QCOMPARE(v.p2p.beta_s_per_byte, 6e-10);
        QCOMPARE(v.points.size(), std::size_t{2});
        QCOMPARE(v.points[0].bytes, 4096.0);
        QCOMPARE(v.points[0].seconds, 5e-6);
        QCOMPARE(v.points[1].max_s, 4e-5);
        // A trace file: none stored, then the newest row.
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("t.sqlite")).toStdString();
        {
            ss::traces::TraceWriter w(path);
            w.flush();
        }
        {
            ss::traces::TraceReader rd(path);
            const CalibrationView none = calibration_from_trace(rd, path);
            QVERIFY(!none.present);
            QVERIFY(none.why.find("holds no calibration") != std::string::npos);
        }
        {
            ss::traces::TraceWriter w(path);  // opens the file again and appends
            ss::traces::Calibration c;
            c.host = "vm";
            c.hardware_json = doc.dump();
            w.add_calibration(c);
            w.flush();
        }
        ss::traces::TraceReader rd(path);
        const CalibrationView got = calibration_from_trace(rd, path);
        QVERIFY(got.present);
        QCOMPARE(got.points.size(), std::size_t{2});
        QVERIFY(got.label.find("host vm") != std::string::npos);
    }

    void ringSentences() {
        const auto s = explain_ring(4, 2, 1 << 20);
        QVERIFY(contains(s, "chunks of 256 KiB"));
        QVERIFY(contains(s, "Reduce-scatter step 2 of 3"));
        QVERIFY(contains(s, "sums 3 ranks"));
        QVERIFY(contains(s, "2(p−1)/p·n = 1.5 MiB (so far 512 KiB)"));
        QVERIFY(contains(explain_ring(4, 6, 1 << 20), "every rank now holds the whole sum"));
    }
};

QTEST_GUILESS_MAIN(TestCoreTeach)
#include "tst_core_teach.moc"

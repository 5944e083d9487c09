// Clock offset and drift estimation from ping-pong samples.
#include <QTest>

#include "profiler/clock_sync.h"

using namespace ss::profiler;

class TestProfilerClock : public QObject {
    Q_OBJECT
private slots:
    void takesTheSmallestRoundTrip() {
        // True offset +1'000'000 ns. Exchanges with one-way delays (d_out, d_back): the estimate's
        // error is (d_out - d_back)/2, smallest for the fastest, most symmetric exchange.
        const std::int64_t offset = 1000000;
        std::vector<PingPong> s;
        auto add = [&](std::int64_t t0, std::int64_t out, std::int64_t back) {
            s.push_back({t0, t0 + out + offset, t0 + out + back});
        };
        add(0, 50000, 10000);     // rtt 60 us, error +20 us
        add(100000, 3000, 2000);  // rtt 5 us, error +0.5 us  <- chosen
        add(200000, 9000, 1000);  // rtt 10 us
        ClockOffset o = best_offset(s);
        QVERIFY(o.valid);
        QCOMPARE(o.rtt_ns, std::int64_t(5000));
        QCOMPARE(o.offset_ns, offset + 500);
        QCOMPARE(o.ref_peer_ns, 100000 + 3000 + offset);
        QVERIFY(std::llabs(o.offset_ns - offset) <= o.rtt_ns / 2);
    }

    void ignoresBrokenSamples() {
        QVERIFY(!best_offset({}).valid);
        QVERIFY(!best_offset({{10, 5, 5}}).valid);  // received before sent
    }

    void driftFromStartAndEnd() {
        ClockOffset a{.offset_ns = 1000, .ref_peer_ns = 0, .rtt_ns = 400, .valid = true};
        // 10 s later the rank's clock is 20 us further ahead: drift 2000 ppb.
        ClockOffset b{.offset_ns = 21000, .ref_peer_ns = 10'000'000'000, .rtt_ns = 900, .valid = true};
        ClockModel m = clock_model(a, b);
        QVERIFY(m.valid);
        QCOMPARE(m.offset_ns, std::int64_t(1000));
        QCOMPARE(m.ref_ns, std::int64_t(0));
        QCOMPARE(m.drift_ppb, 2000.0);
        QCOMPARE(m.rtt_ns, std::int64_t(900));
        ClockModel only_start = clock_model(a, ClockOffset{});
        QCOMPARE(only_start.drift_ppb, 0.0);
        QCOMPARE(only_start.offset_ns, std::int64_t(1000));
        QVERIFY(!clock_model(ClockOffset{}, ClockOffset{}).valid);
    }
};

QTEST_GUILESS_MAIN(TestProfilerClock)
#include "tst_profiler_clock.moc"

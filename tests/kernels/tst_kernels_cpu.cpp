// CPU kernels against double-precision references (tests/kernels/reference.h) at odd and even
// shapes, backward kernels against central finite differences, AdamW against a hand-computed step,
// gradient norm and clipping, BLAS configuration and the sgemm rate measurement.
#include <QObject>
#include <QTest>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <QFile>
#include <QSet>
#include <QStringList>

#include "kernels/blas_core.h"
#include "kernels/cpu_kernels.h"
#include "kernels/detail/fast_math.h"
#include "kernels/perf.h"
#include "models/plan/flops.h"
#include "reference.h"
#include "test_util.h"

using namespace ss::kernels;
using ss::kernels::test::closeness;
using ss::kernels::test::dot;
using ss::kernels::test::finite_diff;
using ss::kernels::test::max_abs;
using ss::kernels::test::randi;
using ss::kernels::test::randv;
using ss::kernels::test::Rng;
using ss::kernels::test::to_d;
using FVec = std::vector<float>;
using DVec = std::vector<double>;
using IVec = std::vector<std::int32_t>;

namespace {

// Gradient check of an analytic gradient (from a backward kernel, for L = <out, R>) against
//  (a) central differences of the double reference forward (h = 1e-6): tight tolerance, and
//  (b) central differences of the float kernel forward itself (step h_float): loose tolerance,
//      which checks that the kernels' forward and backward agree with each other.
QString gradcheck(const FVec& x, const FVec& analytic,
                  const std::function<double(const DVec&)>& ref_loss,
                  const std::function<double(const FVec&)>& kernel_loss, double h_float = 1e-2,
                  double tol_float = 2e-2) {
    const DVec fd_ref = finite_diff<double>(to_d(x), 1e-6, ref_loss);
    const double scale = std::max(max_abs(fd_ref), 1e-3);
    QString e = closeness(analytic.data(), fd_ref.data(), x.size(), 2e-4 * scale, 0.0);
    if (!e.isEmpty()) return QStringLiteral("vs FD of the double reference: ") + e;
    const DVec fd_kernel = finite_diff<float>(x, h_float, kernel_loss);
    e = closeness(analytic.data(), fd_kernel.data(), x.size(), tol_float * scale, 0.0);
    if (!e.isEmpty()) return QStringLiteral("vs FD of the float kernel: ") + e;
    return {};
}

#define SS_GRADCHECK(what, ...)                                                       \
    do {                                                                              \
        const QString ss_err_ = gradcheck(__VA_ARGS__);                               \
        QVERIFY2(ss_err_.isEmpty(), qPrintable(QStringLiteral(what ": ") + ss_err_)); \
    } while (0)

DVec plus(const DVec& a, const FVec& b) {  // a + b (for "accumulates onto" checks)
    DVec r(a);
    for (std::size_t i = 0; i < r.size(); ++i) r[i] += b[i];
    return r;
}

}  // namespace

class TestCpuKernels : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { set_blas_threads(1); }

    // The vectorisable exp/tanh behind softmax, cross-entropy, attention and GELU.
    void fastMathAccuracy() {
        double worst = 0;
        for (double x = -87.0; x <= 88.3; x += 0.0137) {
            const float xf = float(x);
            const double want = std::exp(double(xf));
            worst = std::max(worst, std::abs(detail::fast_exp(xf) - want) / want);
        }
        QVERIFY2(worst < 3e-7, qPrintable(QStringLiteral("exp rel. error %1").arg(worst)));
        QCOMPARE(detail::fast_exp(0.0f), 1.0f);
        QCOMPARE(detail::fast_exp(-88.0f), 0.0f);
        QCOMPARE(detail::fast_exp(-std::numeric_limits<float>::infinity()), 0.0f);
        QVERIFY(std::isfinite(detail::fast_exp(1000.0f)));  // saturates at exp(88.37)
        QVERIFY(detail::fast_exp(1000.0f) > 2e38f);
        QVERIFY(std::isfinite(detail::fast_exp(88.7f)));
        double worst_tanh = 0;
        for (double u = -12.0; u <= 12.0; u += 0.00731) {
            worst_tanh = std::max(
                worst_tanh, std::abs(detail::fast_tanh(float(u)) - std::tanh(double(float(u)))));
        }
        QVERIFY2(worst_tanh < 2e-7,
                 qPrintable(QStringLiteral("tanh abs. error %1").arg(worst_tanh)));
        QCOMPARE(detail::fast_tanh(50.0f), 1.0f);
        QCOMPARE(detail::fast_tanh(-50.0f), -1.0f);
        const float row[] = {-3.0f, 7.5f, 2.0f, 7.25f, -1e30f, 0.0f, 1.0f, 2.0f, 3.0f, 7.0f, 4.0f};
        for (int n = 1; n <= 11; ++n) {
            float want = row[0];
            for (int i = 1; i < n; ++i) want = std::max(want, row[i]);
            QCOMPARE(detail::max_of(row, n), want);
        }
    }

    // ---- sgemm / linear ----------------------------------------------------------------------
    void sgemm_data() {
        QTest::addColumn<int>("M");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("K");
        QTest::addColumn<bool>("ta");
        QTest::addColumn<bool>("tb");
        QTest::addColumn<int>("pad");  // extra leading-dimension padding
        QTest::addColumn<float>("beta");
        QTest::newRow("1x1x1") << 1 << 1 << 1 << false << false << 0 << 0.0f;
        QTest::newRow("3x7x17 NN") << 3 << 7 << 17 << false << false << 0 << 0.0f;
        QTest::newRow("17x3x7 TN") << 17 << 3 << 7 << true << false << 0 << 1.0f;
        QTest::newRow("7x17x33 NT pad") << 7 << 17 << 33 << false << true << 3 << 0.5f;
        QTest::newRow("33x33x5 TT pad") << 33 << 33 << 5 << true << true << 5 << -1.0f;
        QTest::newRow("64x96x128 NT") << 64 << 96 << 128 << false << true << 0 << 0.0f;
        QTest::newRow("K=0 beta=0.5") << 3 << 4 << 0 << false << false << 0 << 0.5f;
    }
    void sgemm() {
        QFETCH(int, M);
        QFETCH(int, N);
        QFETCH(int, K);
        QFETCH(bool, ta);
        QFETCH(bool, tb);
        QFETCH(int, pad);
        QFETCH(float, beta);
        Rng rng(1);
        const int arows = ta ? K : M, acols = ta ? M : K;
        const int brows = tb ? N : K, bcols = tb ? K : N;
        const int lda = acols + pad, ldb = bcols + pad, ldc = N + pad;
        FVec A = randv(std::size_t(arows) * lda + 1, rng);  // (arows, lda)
        FVec B = randv(std::size_t(brows) * ldb + 1, rng);  // (brows, ldb)
        FVec C = randv(std::size_t(M) * ldc, rng);          // (M, ldc)
        DVec Cref = to_d(C);
        const float alpha = 0.75f;
        const Trans TA = ta ? Trans::Yes : Trans::No, TB = tb ? Trans::Yes : Trans::No;
        ss::kernels::sgemm(TA, TB, M, N, K, alpha, A.data(), std::max(lda, 1), B.data(),
                           std::max(ldb, 1), beta, C.data(), ldc);
        ref::sgemm(TA, TB, M, N, K, alpha, to_d(A), lda, to_d(B), ldb, beta, Cref, ldc);
        SS_CHECK_CLOSE("C", C, Cref, 1e-5, 1e-5);
    }
    void sgemmBetaZeroIgnoresNaN() {
        FVec A{1, 2}, B{3, 4};  // (1,2) (2,1)
        FVec C{std::numeric_limits<float>::quiet_NaN()};
        ss::kernels::sgemm(Trans::No, Trans::No, 1, 1, 2, 1.0f, A.data(), 2, B.data(), 1, 0.0f,
                           C.data(), 1);
        QCOMPARE(C[0], 11.0f);
    }

    void linear_data() {
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("C");
        QTest::addColumn<int>("OC");
        QTest::addColumn<bool>("bias");
        QTest::newRow("1,1,1") << 1 << 1 << 1 << true;
        QTest::newRow("3,7,5 nobias") << 3 << 7 << 5 << false;
        QTest::newRow("17,33,7") << 17 << 33 << 7 << true;
        QTest::newRow("33,17,64") << 33 << 17 << 64 << true;
        QTest::newRow("7,3,129 nobias") << 7 << 3 << 129 << false;
        QTest::newRow("64,128,96") << 64 << 128 << 96 << true;
    }
    void linear() {
        QFETCH(int, N);
        QFETCH(int, C);
        QFETCH(int, OC);
        QFETCH(bool, bias);
        Rng rng(2 + N * 131 + C);
        const FVec inp = randv(std::size_t(N) * C, rng);  // (N, C)
        const FVec W = randv(std::size_t(OC) * C, rng);   // (OC, C)
        const FVec b = randv(OC, rng);                    // (OC)
        FVec out(std::size_t(N) * OC, 123.0f);            // (N, OC) overwritten
        linear_forward(out.data(), inp.data(), W.data(), bias ? b.data() : nullptr, N, C, OC);
        const DVec bd = to_d(b);
        SS_CHECK_CLOSE("out", out,
                       ref::linear_forward(to_d(inp), to_d(W), bias ? &bd : nullptr, N, C, OC),
                       1e-5, 1e-5);

        // backward accumulates onto existing gradient values
        const FVec dout = randv(out.size(), rng);
        FVec dinp = randv(inp.size(), rng), dW = randv(W.size(), rng), db = randv(OC, rng);
        const FVec dinp0 = dinp, dW0 = dW, db0 = db;
        linear_backward(dinp.data(), dW.data(), bias ? db.data() : nullptr, dout.data(), inp.data(),
                        W.data(), N, C, OC);
        DVec rdinp, rdW, rdb;
        ref::linear_backward(rdinp, rdW, rdb, to_d(dout), to_d(inp), to_d(W), N, C, OC);
        SS_CHECK_CLOSE("dinp", dinp, plus(rdinp, dinp0), 1e-5, 1e-5);
        SS_CHECK_CLOSE("dW", dW, plus(rdW, dW0), 1e-5, 1e-5);
        if (bias) {
            SS_CHECK_CLOSE("db", db, plus(rdb, db0), 1e-5, 1e-5);
        } else {
            QCOMPARE(db, db0);  // nullptr: untouched
        }
        // dinp nullptr skips the input gradient only
        FVec dW2(W.size(), 0.0f);
        linear_backward(nullptr, dW2.data(), nullptr, dout.data(), inp.data(), W.data(), N, C, OC);
        SS_CHECK_CLOSE("dW only", dW2, rdW, 1e-5, 1e-5);
    }
    void linearGradcheck() {
        const int N = 3, C = 5, OC = 4;
        Rng rng(3);
        const FVec inp = randv(N * C, rng), W = randv(OC * C, rng), b = randv(OC, rng);
        const FVec R = randv(N * OC, rng);
        FVec dinp(N * C, 0.0f), dW(OC * C, 0.0f), db(OC, 0.0f);
        linear_backward(dinp.data(), dW.data(), db.data(), R.data(), inp.data(), W.data(), N, C,
                        OC);
        auto kloss = [&](const FVec& x, const FVec& w, const FVec& bb) {
            FVec out(N * OC);
            linear_forward(out.data(), x.data(), w.data(), bb.data(), N, C, OC);
            return dot(out, R);
        };
        auto rloss = [&](const DVec& x, const DVec& w, const DVec& bb) {
            return dot(ref::linear_forward(x, w, &bb, N, C, OC), R);
        };
        SS_GRADCHECK(
            "dinp", inp, dinp, [&](const DVec& x) { return rloss(x, to_d(W), to_d(b)); },
            [&](const FVec& x) { return kloss(x, W, b); });
        SS_GRADCHECK(
            "dW", W, dW, [&](const DVec& w) { return rloss(to_d(inp), w, to_d(b)); },
            [&](const FVec& w) { return kloss(inp, w, b); });
        SS_GRADCHECK(
            "db", b, db, [&](const DVec& bb) { return rloss(to_d(inp), to_d(W), bb); },
            [&](const FVec& bb) { return kloss(inp, W, bb); });
    }

    // ---- embedding ---------------------------------------------------------------------------
    void embedding_data() {
        QTest::addColumn<int>("B");
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("C");
        QTest::addColumn<int>("V");
        QTest::addColumn<bool>("pos");
        QTest::newRow("1,1,1,1") << 1 << 1 << 1 << 1 << true;
        QTest::newRow("2,3,7,5") << 2 << 3 << 7 << 5 << true;
        QTest::newRow("3,17,33,4 repeats") << 3 << 17 << 33 << 4 << true;
        QTest::newRow("1,7,17,50 nopos") << 1 << 7 << 17 << 50 << false;
    }
    void embedding() {
        QFETCH(int, B);
        QFETCH(int, T);
        QFETCH(int, C);
        QFETCH(int, V);
        QFETCH(bool, pos);
        Rng rng(4 + B * 7 + T);
        const IVec tok = randi(std::size_t(B) * T, rng, V);  // (B, T)
        const FVec wte = randv(std::size_t(V) * C, rng);     // (V, C)
        const int maxT = T + 2;
        const FVec wpe = randv(std::size_t(maxT) * C, rng);  // (maxT, C)
        FVec out(std::size_t(B) * T * C, -5.0f);
        embedding_forward(out.data(), tok.data(), wte.data(), pos ? wpe.data() : nullptr, B, T, C);
        const DVec wped = to_d(wpe);
        SS_CHECK_CLOSE("out", out,
                       ref::embedding_forward(tok, to_d(wte), pos ? &wped : nullptr, B, T, C), 0.0,
                       1e-7);

        // backward: L = <out, R>; dwte[v] = sum over positions holding v, dwpe[t] = sum over b.
        const FVec R = randv(out.size(), rng);
        FVec dwte = randv(wte.size(), rng), dwpe = randv(wpe.size(), rng);
        DVec ewte = to_d(dwte), ewpe = to_d(dwpe);
        embedding_backward(dwte.data(), pos ? dwpe.data() : nullptr, R.data(), tok.data(), B, T, C);
        for (int b = 0; b < B; ++b)
            for (int t = 0; t < T; ++t)
                for (int c = 0; c < C; ++c) {
                    ewte[tok[b * T + t] * C + c] += R[(b * T + t) * C + c];
                    if (pos) ewpe[t * C + c] += R[(b * T + t) * C + c];
                }
        SS_CHECK_CLOSE("dwte", dwte, ewte, 1e-6, 1e-6);
        SS_CHECK_CLOSE("dwpe", dwpe, ewpe, 1e-6, 1e-6);
    }
    void embeddingGradcheck() {
        const int B = 2, T = 3, C = 4, V = 3;
        Rng rng(5);
        const IVec tok{0, 2, 2, 1, 0, 2};
        const FVec wte = randv(V * C, rng), wpe = randv(T * C, rng), R = randv(B * T * C, rng);
        FVec dwte(V * C, 0.0f), dwpe(T * C, 0.0f);
        embedding_backward(dwte.data(), dwpe.data(), R.data(), tok.data(), B, T, C);
        auto kloss = [&](const FVec& te, const FVec& pe) {
            FVec out(B * T * C);
            embedding_forward(out.data(), tok.data(), te.data(), pe.data(), B, T, C);
            return dot(out, R);
        };
        auto rloss = [&](const DVec& te, const DVec& pe) {
            return dot(ref::embedding_forward(tok, te, &pe, B, T, C), R);
        };
        SS_GRADCHECK(
            "dwte", wte, dwte, [&](const DVec& x) { return rloss(x, to_d(wpe)); },
            [&](const FVec& x) { return kloss(x, wpe); });
        SS_GRADCHECK(
            "dwpe", wpe, dwpe, [&](const DVec& x) { return rloss(to_d(wte), x); },
            [&](const FVec& x) { return kloss(wte, x); });
    }

    // ---- layernorm ---------------------------------------------------------------------------
    void layernorm_data() {
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("C");
        QTest::addColumn<double>("offset");  // large mean: the variance must not cancel
        QTest::newRow("1,1") << 1 << 1 << 0.0;
        QTest::newRow("3,7") << 3 << 7 << 0.0;
        QTest::newRow("17,33") << 17 << 33 << 0.0;
        QTest::newRow("33,17 offset 100") << 33 << 17 << 100.0;
        QTest::newRow("5,768") << 5 << 768 << 0.5;
    }
    void layernorm() {
        QFETCH(int, N);
        QFETCH(int, C);
        QFETCH(double, offset);
        Rng rng(6 + N + C);
        FVec x = randv(std::size_t(N) * C, rng, offset - 1.0, offset + 1.0);  // (N, C)
        const FVec w = randv(C, rng, 0.5, 1.5), b = randv(C, rng);            // (C)
        FVec out(x.size()), mean(N), rstd(N);
        layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
        const auto r = ref::layernorm_forward(to_d(x), to_d(w), to_d(b), N, C);
        SS_CHECK_CLOSE("out", out, r.out, 2e-4, 1e-4);  // float rounding of x around offset
        SS_CHECK_CLOSE("mean", mean, r.mean, 1e-5, 1e-6);
        SS_CHECK_CLOSE("rstd", rstd, r.rstd, 1e-4, 1e-4);

        const FVec dy = randv(x.size(), rng);
        FVec dx = randv(x.size(), rng), dw = randv(C, rng), db = randv(C, rng);
        const FVec dx0 = dx, dw0 = dw, db0 = db;
        layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(),
                           mean.data(), rstd.data(), N, C);
        DVec rdx, rdw, rdb;
        ref::layernorm_backward(rdx, rdw, rdb, to_d(dy), to_d(x), to_d(w), N, C);
        const double tol = C == 1 ? 1e-2 : 2e-4;  // C == 1: dx is ~0 = rstd * (tiny - tiny)
        SS_CHECK_CLOSE("dx", dx, plus(rdx, dx0), tol, 1e-4);
        SS_CHECK_CLOSE("dw", dw, plus(rdw, dw0), 2e-4, 1e-4);
        SS_CHECK_CLOSE("db", db, plus(rdb, db0), 1e-5, 1e-5);
    }
    void layernormGradcheck() {
        const int N = 2, C = 5;
        Rng rng(7);
        const FVec x = randv(N * C, rng), w = randv(C, rng, 0.5, 1.5), b = randv(C, rng);
        const FVec R = randv(N * C, rng);
        FVec out(N * C), mean(N), rstd(N);
        layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
        FVec dx(N * C, 0.0f), dw(C, 0.0f), db(C, 0.0f);
        layernorm_backward(dx.data(), dw.data(), db.data(), R.data(), x.data(), w.data(),
                           mean.data(), rstd.data(), N, C);
        auto kloss = [&](const FVec& xx, const FVec& ww, const FVec& bb) {
            FVec o(N * C), m(N), s(N);
            layernorm_forward(o.data(), m.data(), s.data(), xx.data(), ww.data(), bb.data(), N, C);
            return dot(o, R);
        };
        auto rloss = [&](const DVec& xx, const DVec& ww, const DVec& bb) {
            return dot(ref::layernorm_forward(xx, ww, bb, N, C).out, R);
        };
        SS_GRADCHECK(
            "dx", x, dx, [&](const DVec& v) { return rloss(v, to_d(w), to_d(b)); },
            [&](const FVec& v) { return kloss(v, w, b); }, 1e-2, 3e-2);
        SS_GRADCHECK(
            "dw", w, dw, [&](const DVec& v) { return rloss(to_d(x), v, to_d(b)); },
            [&](const FVec& v) { return kloss(x, v, b); });
        SS_GRADCHECK(
            "db", b, db, [&](const DVec& v) { return rloss(to_d(x), to_d(w), v); },
            [&](const FVec& v) { return kloss(x, w, v); });
    }

    // ---- activations -------------------------------------------------------------------------
    void gelu_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<double>("range");
        QTest::newRow("1") << 1 << 1.0;
        QTest::newRow("7") << 7 << 3.0;
        QTest::newRow("33 wide") << 33 << 12.0;
        QTest::newRow("1001 wide") << 1001 << 50.0;
        QTest::newRow("4099") << 4099 << 4.0;
    }
    void gelu() {
        QFETCH(int, n);
        QFETCH(double, range);
        Rng rng(8 + n);
        const FVec x = randv(n, rng, -range, range);
        FVec y(n);
        gelu_forward(y.data(), x.data(), n);
        DVec ry(n), rg(n);
        for (int i = 0; i < n; ++i) {
            ry[i] = ref::gelu(x[i]);
            rg[i] = ref::gelu_grad(x[i]);
        }
        SS_CHECK_CLOSE("gelu", y, ry, 1e-6, 1e-5);
        const FVec dy = randv(n, rng);
        FVec dx = randv(n, rng);
        DVec edx = to_d(dx);
        for (int i = 0; i < n; ++i) edx[i] += rg[i] * dy[i];
        gelu_backward(dx.data(), x.data(), dy.data(), n);
        SS_CHECK_CLOSE("dgelu", dx, edx, 1e-6, 1e-5);
        // in place forward
        FVec z = x;
        gelu_forward(z.data(), z.data(), n);
        QCOMPARE(z, y);
    }
    void geluSpecialValues() {
        const FVec x{0.0f, -30.0f, 30.0f, -100.0f, 100.0f, 1.0f};
        FVec y(x.size());
        gelu_forward(y.data(), x.data(), x.size());
        QCOMPARE(y[0], 0.0f);
        QCOMPARE(y[1], -0.0f);  // 0.5 * -30 * (1 + -1)
        QCOMPARE(y[2], 30.0f);
        QCOMPARE(y[3], -0.0f);
        QCOMPARE(y[4], 100.0f);
        QVERIFY(std::abs(y[5] - 0.841191990f) < 1e-6f);  // GELU_tanh(1)
    }
    void geluGradcheck() {
        Rng rng(9);
        const FVec x = randv(9, rng, -3, 3), R = randv(9, rng);
        FVec dx(9, 0.0f);
        gelu_backward(dx.data(), x.data(), R.data(), 9);
        SS_GRADCHECK(
            "dgelu", x, dx,
            [&](const DVec& v) {
                double s = 0;
                for (int i = 0; i < 9; ++i) s += ref::gelu(v[i]) * R[i];
                return s;
            },
            [&](const FVec& v) {
                FVec y(9);
                gelu_forward(y.data(), v.data(), 9);
                return dot(y, R);
            });
    }
    void relu() {
        const FVec x{-2.0f, -0.0f, 0.0f, 1e-30f, 3.5f, -1e-30f, 7.0f};
        FVec y(x.size());
        relu_forward(y.data(), x.data(), x.size());
        QCOMPARE(y, (FVec{0.0f, 0.0f, 0.0f, 1e-30f, 3.5f, 0.0f, 7.0f}));
        const FVec dy{1, 2, 3, 4, 5, 6, 7};
        FVec dx(x.size(), 0.5f);
        relu_backward(dx.data(), x.data(), dy.data(), x.size());
        QCOMPARE(dx, (FVec{0.5f, 0.5f, 0.5f, 4.5f, 5.5f, 0.5f, 7.5f}));
        // the forward output gives the same gradient as the input
        FVec dx2(x.size(), 0.5f);
        relu_backward(dx2.data(), y.data(), dy.data(), x.size());
        QCOMPARE(dx2, dx);
    }
    void reluGradcheck() {
        Rng rng(10);
        FVec x = randv(17, rng, -2, 2);
        for (auto& v : x) v = v < 0 ? v - 0.1f : v + 0.1f;  // keep FD steps off the kink
        const FVec R = randv(17, rng);
        FVec dx(17, 0.0f);
        relu_backward(dx.data(), x.data(), R.data(), 17);
        SS_GRADCHECK(
            "drelu", x, dx,
            [&](const DVec& v) {
                double s = 0;
                for (int i = 0; i < 17; ++i) s += std::max(v[i], 0.0) * R[i];
                return s;
            },
            [&](const FVec& v) {
                FVec y(17);
                relu_forward(y.data(), v.data(), 17);
                return dot(y, R);
            });
    }

    // ---- softmax -----------------------------------------------------------------------------
    void softmax_data() {
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("C");
        QTest::addColumn<double>("offset");
        QTest::newRow("1,1") << 1 << 1 << 0.0;
        QTest::newRow("3,7") << 3 << 7 << 0.0;
        QTest::newRow("17,33 spread") << 17 << 33 << 0.0;
        QTest::newRow("7,17 offset 1000") << 7 << 17 << 1000.0;
        QTest::newRow("2,1000 offset -500") << 2 << 1000 << -500.0;
    }
    void softmax() {
        QFETCH(int, N);
        QFETCH(int, C);
        QFETCH(double, offset);
        Rng rng(11 + N + C);
        const FVec x = randv(std::size_t(N) * C, rng, offset - 8, offset + 8);
        FVec y(x.size());
        softmax_forward(y.data(), x.data(), N, C);
        const DVec ry = ref::softmax_forward(to_d(x), N, C);
        SS_CHECK_CLOSE("softmax", y, ry, 1e-7, 1e-5);
        for (int n = 0; n < N; ++n) {
            double s = 0;
            for (int c = 0; c < C; ++c) s += y[n * C + c];
            QVERIFY(std::abs(s - 1.0) < 1e-5);
        }
        const FVec dy = randv(x.size(), rng);
        FVec dx = randv(x.size(), rng);
        const DVec edx = plus(ref::softmax_backward(to_d(dy), ry, N, C), dx);
        softmax_backward(dx.data(), dy.data(), y.data(), N, C);
        SS_CHECK_CLOSE("dsoftmax", dx, edx, 1e-6, 1e-5);
    }
    void softmaxGradcheck() {
        const int N = 2, C = 6;
        Rng rng(12);
        const FVec x = randv(N * C, rng, -2, 2), R = randv(N * C, rng);
        FVec y(N * C), dx(N * C, 0.0f);
        softmax_forward(y.data(), x.data(), N, C);
        softmax_backward(dx.data(), R.data(), y.data(), N, C);
        SS_GRADCHECK(
            "dsoftmax", x, dx, [&](const DVec& v) { return dot(ref::softmax_forward(v, N, C), R); },
            [&](const FVec& v) {
                FVec o(N * C);
                softmax_forward(o.data(), v.data(), N, C);
                return dot(o, R);
            });
    }

    // ---- attention ---------------------------------------------------------------------------
    void attention_data() {
        QTest::addColumn<int>("B");
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("C");
        QTest::addColumn<int>("NH");
        QTest::newRow("1,1,4,1") << 1 << 1 << 4 << 1;
        QTest::newRow("2,3,6,2") << 2 << 3 << 6 << 2;
        QTest::newRow("1,7,12,3") << 1 << 7 << 12 << 3;
        QTest::newRow("2,17,16,4") << 2 << 17 << 16 << 4;
        QTest::newRow("1,33,8,2") << 1 << 33 << 8 << 2;
        QTest::newRow("1,65,6,1 crosses a row tile") << 1 << 65 << 6 << 1;
        QTest::newRow("2,130,8,2 three row tiles") << 2 << 130 << 8 << 2;
    }
    void attention() {
        QFETCH(int, B);
        QFETCH(int, T);
        QFETCH(int, C);
        QFETCH(int, NH);
        Rng rng(13 + T * 3 + C);
        const FVec qkv = randv(std::size_t(B) * T * 3 * C, rng, -1.5, 1.5);  // (B, T, 3C)
        FVec out(std::size_t(B) * T * C, 9.0f);                              // (B, T, C)
        FVec att(std::size_t(B) * NH * T * T, 9.0f);                         // (B, NH, T, T)
        attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
        const auto r = ref::attention_forward(to_d(qkv), B, T, C, NH);
        SS_CHECK_CLOSE("out", out, r.out, 1e-5, 1e-4);
        SS_CHECK_CLOSE("att", att, r.att, 1e-6, 1e-4);  // includes the exact zeros above t

        const FVec dout = randv(out.size(), rng);
        FVec dqkv = randv(qkv.size(), rng);
        const DVec edqkv = plus(ref::attention_backward(to_d(dout), to_d(qkv), B, T, C, NH), dqkv);
        FVec scratch(att.size(), 7.0f);
        attention_backward(dqkv.data(), scratch.data(), dout.data(), qkv.data(), att.data(), B, T,
                           C, NH);
        SS_CHECK_CLOSE("dqkv", dqkv, edqkv, 1e-4, 1e-4);
    }
    void attentionGradcheck() {
        const int B = 2, T = 4, C = 6, NH = 2;
        Rng rng(14);
        const FVec qkv = randv(B * T * 3 * C, rng), R = randv(B * T * C, rng);
        FVec out(B * T * C), att(B * NH * T * T), scratch(att.size());
        attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
        FVec dqkv(qkv.size(), 0.0f);
        attention_backward(dqkv.data(), scratch.data(), R.data(), qkv.data(), att.data(), B, T, C,
                           NH);
        SS_GRADCHECK(
            "dqkv", qkv, dqkv,
            [&](const DVec& v) { return dot(ref::attention_forward(v, B, T, C, NH).out, R); },
            [&](const FVec& v) {
                FVec o(B * T * C), a(B * NH * T * T);
                attention_forward(o.data(), a.data(), v.data(), B, T, C, NH);
                return dot(o, R);
            });
    }
    void attentionRejectsBadHeads() {
        FVec buf(64);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 attention_forward(buf.data(), buf.data(), buf.data(), 1, 1, 6, 4));
    }

    // ---- cross-entropy -----------------------------------------------------------------------
    void crossentropy_data() {
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("V");
        QTest::addColumn<double>("offset");
        QTest::addColumn<bool>("ignore");  // some targets -1
        QTest::newRow("1,1") << 1 << 1 << 0.0 << false;
        QTest::newRow("3,7") << 3 << 7 << 0.0 << false;
        QTest::newRow("17,33 ignore") << 17 << 33 << 0.0 << true;
        QTest::newRow("7,10 offset 1e3") << 7 << 10 << 1000.0 << false;
        QTest::newRow("5,1003 ignore") << 5 << 1003 << -3.0 << true;
    }
    void crossentropy() {
        QFETCH(int, N);
        QFETCH(int, V);
        QFETCH(double, offset);
        QFETCH(bool, ignore);
        Rng rng(15 + N * 5 + V);
        const FVec logits = randv(std::size_t(N) * V, rng, offset - 5, offset + 5);  // (N, V)
        IVec tg = randi(N, rng, V);                                                  // (N)
        if (ignore) tg[N / 2] = -1;
        const DVec rl = ref::crossentropy(to_d(logits), tg, N, V);
        const double scale = 1.0 / N;
        const DVec rd = ref::crossentropy_dlogits(to_d(logits), tg, N, V, scale);

        FVec losses(N, 5.0f), probs(logits.size(), 5.0f);
        crossentropy_forward(losses.data(), probs.data(), logits.data(), tg.data(), N, V);
        SS_CHECK_CLOSE("losses", losses, rl, 1e-5, 1e-5);
        SS_CHECK_CLOSE("probs", probs, ref::softmax_forward(to_d(logits), N, V), 1e-7, 1e-5);
        FVec losses2(N);
        crossentropy_forward(losses2.data(), nullptr, logits.data(), tg.data(), N, V);
        QCOMPARE(losses2, losses);

        FVec dlogits(logits.size(), 5.0f);  // written, not accumulated
        crossentropy_backward(dlogits.data(), probs.data(), tg.data(), N, V, float(scale));
        SS_CHECK_CLOSE("dlogits", dlogits, rd, 1e-7, 1e-5);
        FVec inplace = probs;  // dlogits may alias probs
        crossentropy_backward(inplace.data(), inplace.data(), tg.data(), N, V, float(scale));
        QCOMPARE(inplace, dlogits);

        FVec fused(logits.size(), 5.0f), flosses(N, 5.0f);
        fused_classifier(fused.data(), flosses.data(), logits.data(), tg.data(), N, V,
                         float(scale));
        SS_CHECK_CLOSE("fused losses", flosses, rl, 1e-5, 1e-5);
        SS_CHECK_CLOSE("fused dlogits", fused, rd, 1e-7, 1e-5);
        FVec inplace2 = logits;  // in place over the logits, losses skipped
        fused_classifier(inplace2.data(), nullptr, inplace2.data(), tg.data(), N, V, float(scale));
        QCOMPARE(inplace2, fused);
        if (ignore) {
            QCOMPARE(flosses[N / 2], 0.0f);
            for (int j = 0; j < V; ++j) QCOMPARE(fused[std::size_t(N / 2) * V + j], 0.0f);
        }
    }
    void crossentropyKnownValue() {
        // logits (0, ln 3): softmax (1/4, 3/4); target 1 -> loss ln(4/3); dlogits (1/4, -1/4)
        const FVec logits{0.0f, std::log(3.0f)};
        const IVec tg{1};
        FVec d(2), loss(1);
        fused_classifier(d.data(), loss.data(), logits.data(), tg.data(), 1, 2, 1.0f);
        QVERIFY(std::abs(loss[0] - std::log(4.0f / 3.0f)) < 1e-6f);
        QVERIFY(std::abs(d[0] - 0.25f) < 1e-6f);
        QVERIFY(std::abs(d[1] + 0.25f) < 1e-6f);
    }
    void crossentropyRejectsBadTarget() {
        const FVec logits(6, 0.0f);
        const IVec tg{1, 3};  // V = 3: 3 is out of range
        FVec loss(2), d(6);
        QVERIFY_THROWS_EXCEPTION(
            std::out_of_range,
            crossentropy_forward(loss.data(), nullptr, logits.data(), tg.data(), 2, 3));
        QVERIFY_THROWS_EXCEPTION(
            std::out_of_range,
            fused_classifier(d.data(), loss.data(), logits.data(), tg.data(), 2, 3, 1.0f));
    }
    void crossentropyGradcheck() {
        const int N = 3, V = 5;
        Rng rng(16);
        const FVec logits = randv(N * V, rng, -2, 2);
        const IVec tg{4, 0, 2};
        FVec d(N * V);
        fused_classifier(d.data(), nullptr, logits.data(), tg.data(), N, V, 1.0f / N);
        auto mean = [](const auto& v) {
            double s = 0;
            for (auto x : v) s += x;
            return s / double(v.size());
        };
        SS_GRADCHECK(
            "dlogits", logits, d,
            [&](const DVec& v) { return mean(ref::crossentropy(v, tg, N, V)); },
            [&](const FVec& v) {
                FVec l(N);
                crossentropy_forward(l.data(), nullptr, v.data(), tg.data(), N, V);
                return mean(l);
            });
    }

    // ---- vector ops --------------------------------------------------------------------------
    void vectorOps_data() {
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("C");
        QTest::newRow("1,1") << 1 << 1;
        QTest::newRow("3,7") << 3 << 7;
        QTest::newRow("17,33") << 17 << 33;
        QTest::newRow("33,129") << 33 << 129;
    }
    void vectorOps() {
        QFETCH(int, N);
        QFETCH(int, C);
        const std::size_t n = std::size_t(N) * C;
        Rng rng(17 + n);
        const FVec a = randv(n, rng), b = randv(n, rng), bias = randv(C, rng);
        FVec out(n);
        residual_forward(out.data(), a.data(), b.data(), n);
        for (std::size_t i = 0; i < n; ++i) QCOMPARE(out[i], a[i] + b[i]);
        FVec acc = a;
        add_inplace(acc.data(), b.data(), n);
        QCOMPARE(acc, out);
        FVec x = a;
        bias_add(x.data(), bias.data(), N, C);
        for (int r = 0; r < N; ++r)
            for (int c = 0; c < C; ++c) QCOMPARE(x[r * C + c], a[r * C + c] + bias[c]);
        FVec db(C, 1.0f);
        bias_backward(db.data(), a.data(), N, C);
        DVec edb(C, 1.0);
        for (int r = 0; r < N; ++r)
            for (int c = 0; c < C; ++c) edb[c] += a[r * C + c];
        SS_CHECK_CLOSE("dbias", db, edb, 1e-5, 1e-6);
        FVec f(n, 1.0f);
        fill(f.data(), n, -2.5f);
        QCOMPARE(f, FVec(n, -2.5f));
        fill(f.data(), n, 0.0f);
        QCOMPARE(f, FVec(n, 0.0f));
        copy(f.data(), a.data(), n);
        QCOMPARE(f, a);
    }
    void biasGradcheck() {
        const int N = 3, C = 4;
        Rng rng(18);
        const FVec x = randv(N * C, rng), bias = randv(C, rng), R = randv(N * C, rng);
        FVec db(C, 0.0f);
        bias_backward(db.data(), R.data(), N, C);
        SS_GRADCHECK(
            "dbias", bias, db,
            [&](const DVec& bb) {
                double s = 0;
                for (int r = 0; r < N; ++r)
                    for (int c = 0; c < C; ++c) s += (x[r * C + c] + bb[c]) * R[r * C + c];
                return s;
            },
            [&](const FVec& bb) {
                FVec y = x;
                bias_add(y.data(), bb.data(), N, C);
                return dot(y, R);
            });
    }

    // ---- AdamW -------------------------------------------------------------------------------
    void adamwHandComputed() {
        // Step 1: p = 1, g = 0.5, lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.01:
        //   m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25, m^/(sqrt v^ + eps) = 0.99999998
        //   p = 1 - 0.1 * (0.99999998 + 0.01 * 1) = 0.899000002
        // Step 2: g = -0.25:
        //   m = 0.9*0.05 - 0.025 = 0.02, v = 0.999*0.00025 + 0.001*0.0625 = 0.00031225
        //   m^ = 0.02/0.19 = 0.105263158, v^ = 0.00031225/0.001999 = 0.156203102
        //   m^/sqrt(v^) = 0.2663371 ; p = 0.899000002 - 0.1*(0.2663371 + 0.00899) = 0.8714673
        AdamWConfig cfg;
        cfg.lr = 0.1f;
        cfg.beta1 = 0.9f;
        cfg.beta2 = 0.999f;
        cfg.eps = 1e-8f;
        cfg.weight_decay = 0.01f;
        float p = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;
        adamw_update(&p, &g, &m, &v, 1, cfg, 1);
        QVERIFY(std::abs(m - 0.05f) < 1e-7f);  // (1 - 0.9f) is not exact in float
        QVERIFY(std::abs(v - 0.00025f) < 1e-8f);
        QVERIFY2(std::abs(p - 0.899f) < 1e-6f, qPrintable(QString::number(p, 'g', 9)));
        g = -0.25f;
        adamw_update(&p, &g, &m, &v, 1, cfg, 2);
        QVERIFY(std::abs(m - 0.02f) < 1e-7f);
        QVERIFY(std::abs(v - 0.00031225f) < 1e-8f);
        const double mh = 0.02 / 0.19, vh = 0.00031225 / (1 - 0.999 * 0.999);
        const double expect =
            0.899000002 - 0.1 * (mh / (std::sqrt(vh) + 1e-8) + 0.01 * 0.899000002);
        QVERIFY2(std::abs(p - expect) < 2e-6, qPrintable(QString::number(p, 'g', 9)));
        QVERIFY(std::abs(p - 0.8714673f) < 1e-6f);
    }
    void adamwReference_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<float>("wd");
        QTest::addColumn<float>("gscale");
        QTest::newRow("1") << 1 << 0.0f << 1.0f;
        QTest::newRow("7 wd") << 7 << 0.1f << 1.0f;
        QTest::newRow("33 wd scaled") << 33 << 0.05f << 0.5f;
        QTest::newRow("1027") << 1027 << 0.0f << 0.25f;
    }
    void adamwReference() {
        QFETCH(int, n);
        QFETCH(float, wd);
        QFETCH(float, gscale);
        AdamWConfig cfg;
        cfg.lr = 1e-2f;
        cfg.weight_decay = wd;
        Rng rng(19 + n);
        FVec p = randv(n, rng), m(n, 0.0f), v(n, 0.0f);
        DVec rp = to_d(p), rm(n, 0.0), rv(n, 0.0);
        for (int step = 1; step <= 5; ++step) {
            const FVec g = randv(n, rng);
            adamw_update(p.data(), g.data(), m.data(), v.data(), n, cfg, step, gscale);
            ref::adamw(rp, to_d(g), rm, rv, cfg, step, gscale);
        }
        SS_CHECK_CLOSE("param", p, rp, 1e-6, 1e-5);
        SS_CHECK_CLOSE("m", m, rm, 1e-7, 1e-5);
        SS_CHECK_CLOSE("v", v, rv, 1e-9, 1e-5);
    }
    void adamwRejectsStepZero() {
        float p = 0, g = 0, m = 0, v = 0;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 adamw_update(&p, &g, &m, &v, 1, AdamWConfig{}, 0));
    }

    // ---- norms and clipping ------------------------------------------------------------------
    void sumSquaresAndClip() {
        Rng rng(20);
        const std::size_t n = 1001;
        FVec g = randv(n, rng, -3, 3);
        double expect = 0;
        for (float x : g) expect += double(x) * double(x);
        QVERIFY(std::abs(sum_squares(g.data(), n) - expect) < 1e-9 * expect);
        QCOMPARE(sum_squares(g.data(), 0), 0.0);
        // a sharded caller all-reduces partial sums: shards of 1, 333 and 667 add up exactly
        // enough to the whole
        const double parts = sum_squares(g.data(), 1) + sum_squares(g.data() + 1, 333) +
                             sum_squares(g.data() + 334, n - 334);
        QVERIFY(std::abs(parts - expect) < 1e-9 * expect);

        const float max_norm = 1.0f;
        const double norm = std::sqrt(expect);
        const float coef = clip_coefficient(norm, max_norm);
        QVERIFY(std::abs(coef - float(1.0 / (norm + 1e-6))) < 1e-7f);
        FVec clipped = g;
        const double before = clip_grad_norm(clipped.data(), n, max_norm);
        QVERIFY(std::abs(before - norm) < 1e-9 * norm);
        QVERIFY(std::abs(std::sqrt(sum_squares(clipped.data(), n)) - 1.0) < 1e-5);
        for (std::size_t i = 0; i < n; ++i) QCOMPARE(clipped[i], g[i] * coef);
        // below the threshold, or disabled: untouched
        QCOMPARE(clip_coefficient(0.5, 1.0f), 1.0f);
        QCOMPARE(clip_coefficient(0.0, 1.0f), 1.0f);
        QCOMPARE(clip_coefficient(100.0, 0.0f), 1.0f);
        FVec same = g;
        QVERIFY(std::abs(clip_grad_norm(same.data(), n, 1000.0f) - norm) < 1e-9 * norm);
        QCOMPARE(same, g);
        FVec s = g;
        scale(s.data(), n, -0.5f);
        for (std::size_t i = 0; i < n; ++i) QCOMPARE(s[i], g[i] * -0.5f);
    }

    // ---- BLAS configuration and rate ---------------------------------------------------------
    void blasThreads() {
        set_blas_threads(2);
        QCOMPARE(blas_threads(), 2);
        set_blas_threads(1);
        QCOMPARE(blas_threads(), 1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, set_blas_threads(0));
        QCOMPARE(blas_threads(), 1);
    }
    void measureSgemmFlops() {
        const double flops = measure_sgemm_flops(128, 128, 128, 0.05);
        QVERIFY2(std::isfinite(flops) && flops > 1e8, qPrintable(QString::number(flops)));
        QVERIFY(flops < 1e13);  // a 2-core CPU does not do 10 TFLOP/s
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, measure_sgemm_flops(0, 8, 8, 0.01));
    }
    // The MFU peak: the fastest call of a square sgemm (a small n here: the suite stays fast).
    void measurePeakSgemmFlops() {
        const double peak = measure_peak_sgemm_flops(192, 0.02);
        QVERIFY2(std::isfinite(peak) && peak > 1e8 && peak < 1e13, qPrintable(QString::number(peak)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, measure_peak_sgemm_flops(0, 0.01));
    }

    // ---- the FLOPs the attention kernels perform (models/plan/flops.h counts them) -----------
    void attentionTileMatchesFlopCount() {
        static_assert(kAttentionRowTile == ss::models::kAttentionRowTile,
                      "models/plan/flops.h must count the tiles kernels/attention.cpp computes");
        using ss::models::AttentionKernel;
        using ss::models::attention_pairs;
        // T = 128, tiles [0,64) x [0,64) and [64,128) x [0,128): 64·64 + 64·128.
        QCOMPARE(attention_pairs(128, AttentionKernel::CausalRowTiles), 64.0 * 64 + 64.0 * 128);
        QCOMPARE(attention_pairs(128, AttentionKernel::Full), 128.0 * 128);
        QCOMPARE(attention_pairs(100, AttentionKernel::CausalRowTiles), 64.0 * 64 + 36.0 * 100);
        QCOMPARE(attention_pairs(64, AttentionKernel::CausalRowTiles), 64.0 * 64);
        QCOMPARE(attention_pairs(0, AttentionKernel::Full), 0.0);
        // The kernel skips what the count leaves out: keys right of a tile's end stay unread. Poison
        // K and V rows [64, 128) of the first tile's view: rows [0, 64) of the output must not change.
        const int B = 1, T = 128, C = 8, NH = 2;
        std::vector<float> qkv(static_cast<std::size_t>(B) * T * 3 * C), out(static_cast<std::size_t>(B) * T * C),
            out2(out.size()), att(static_cast<std::size_t>(B) * NH * T * T);
        for (std::size_t i = 0; i < qkv.size(); ++i) qkv[i] = static_cast<float>((i * 29 % 53)) / 26.5f - 1.0f;
        attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
        std::vector<float> poisoned = qkv;
        for (int t = kAttentionRowTile; t < T; ++t)
            for (int c = C; c < 3 * C; ++c) poisoned[static_cast<std::size_t>(t) * 3 * C + c] = std::numeric_limits<float>::quiet_NaN();
        attention_forward(out2.data(), att.data(), poisoned.data(), B, T, C, NH);
        for (int i = 0; i < kAttentionRowTile * C; ++i) QCOMPARE(out2[static_cast<std::size_t>(i)], out[static_cast<std::size_t>(i)]);
    }

    // ---- the OpenBLAS kernel for the CPU (kernels/blas_core.h) -------------------------------
    void blasCoreForInstructionSet() {
        CpuIsa avx512;
        avx512.avx2 = avx512.fma = true;
        avx512.avx512f = avx512.avx512bw = avx512.avx512vl = avx512.avx512dq = avx512.avx512cd = true;
        QCOMPARE(blas_core_for(avx512), std::string("SKYLAKEX"));
        avx512.amd = true;  // Zen 4: AVX-512 too; OpenBLAS's AVX-512 kernels, not its AVX2 "Zen" one
        QCOMPARE(blas_core_for(avx512), std::string("SKYLAKEX"));
        avx512.avx512bf16 = true;
        QCOMPARE(blas_core_for(avx512), std::string("COOPERLAKE"));
        CpuIsa partial = avx512;  // AVX-512 F without BW (Knights Landing): not the SkylakeX kernel
        partial.avx512bw = false;
        QCOMPARE(blas_core_for(partial), std::string("ZEN"));
        partial.amd = false;
        QCOMPARE(blas_core_for(partial), std::string("HASWELL"));
        CpuIsa old;
        old.avx2 = true;  // AVX2 without FMA: leave OpenBLAS's choice
        QCOMPARE(blas_core_for(old), std::string());
        QCOMPARE(blas_core_tier("Cooperlake"), 2);
        QCOMPARE(blas_core_tier("SKYLAKEX"), 2);
        QCOMPARE(blas_core_tier("Haswell"), 1);
        QCOMPARE(blas_core_tier("Zen"), 1);
        QCOMPARE(blas_core_tier("Sandybridge"), 0);
    }

    // detect_cpu_isa agrees with the kernel's view of this CPU (/proc/cpuinfo flags).
    void detectCpuIsaMatchesProcCpuinfo() {
        QFile f(QStringLiteral("/proc/cpuinfo"));
        if (!f.open(QIODevice::ReadOnly)) QSKIP("no /proc/cpuinfo");
        QSet<QString> flags;
        QString vendor;
        for (const QByteArray& line : f.readAll().split('\n')) {
            const QString l = QString::fromLatin1(line);
            if (vendor.isEmpty() && l.startsWith(QStringLiteral("vendor_id")))
                vendor = l.section(QLatin1Char(':'), 1).trimmed();
            if (flags.isEmpty() && l.startsWith(QStringLiteral("flags"))) {
                const QStringList parts = l.section(QLatin1Char(':'), 1).split(QLatin1Char(' '), Qt::SkipEmptyParts);
                flags = QSet<QString>(parts.begin(), parts.end());
            }
        }
        if (flags.isEmpty()) QSKIP("no flags line in /proc/cpuinfo");
        const CpuIsa isa = detect_cpu_isa();
        const auto has = [&](const char* n) { return flags.contains(QString::fromLatin1(n)); };
        QCOMPARE(isa.amd, vendor == QStringLiteral("AuthenticAMD"));
        QCOMPARE(isa.avx2, has("avx2"));
        QCOMPARE(isa.fma, has("fma"));
        QCOMPARE(isa.avx512f, has("avx512f"));
        QCOMPARE(isa.avx512bw, has("avx512bw"));
        QCOMPARE(isa.avx512vl, has("avx512vl"));
        QCOMPARE(isa.avx512dq, has("avx512dq"));
        QCOMPARE(isa.avx512cd, has("avx512cd"));
        QCOMPARE(isa.avx512bf16, has("avx512_bf16"));
    }
};

QTEST_APPLESS_MAIN(TestCpuKernels)
#include "tst_kernels_cpu.moc"

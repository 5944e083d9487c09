// The Backend seam with the CPU backend: memory management, every kernel reached through
// Backend& gives exactly the free function's result, a composed transformer block whose gradients
// (chained through Backend&) match finite differences, and a tiny classifier that learns.
#include <QObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTest>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>

#include "kernels/backend.h"
#include "kernels/blas_core.h"
#include "kernels/cpu_backend.h"
#include "kernels/cpu_kernels.h"
#include "test_util.h"

using namespace ss::kernels;
using ss::kernels::test::closeness;
using ss::kernels::test::finite_diff;
using ss::kernels::test::max_abs;
using ss::kernels::test::randi;
using ss::kernels::test::randv;
using ss::kernels::test::Rng;
using FVec = std::vector<float>;
using DVec = std::vector<double>;
using IVec = std::vector<std::int32_t>;

namespace {

// A transformer block with an LM head, written once against Backend&:
//   x (B,T,C) -> ln1 -> qkv = linear(3C) -> attention -> proj linear(C) -> + x -> ln_f ->
//   logits = linear(V) -> mean cross-entropy.
struct Block {
    int B = 2, T = 5, C = 8, NH = 2, V = 7;
    FVec x, ln1w, ln1b, wqkv, bqkv, wproj, bproj, lnfw, lnfb, wlm;
    IVec targets;

    explicit Block(Rng& rng) {
        x = randv(std::size_t(B) * T * C, rng);
        ln1w = randv(C, rng, 0.5, 1.5);
        ln1b = randv(C, rng, -0.2, 0.2);
        wqkv = randv(std::size_t(3) * C * C, rng, -0.5, 0.5);
        bqkv = randv(3 * C, rng, -0.1, 0.1);
        wproj = randv(std::size_t(C) * C, rng, -0.5, 0.5);
        bproj = randv(C, rng, -0.1, 0.1);
        lnfw = randv(C, rng, 0.5, 1.5);
        lnfb = randv(C, rng, -0.2, 0.2);
        wlm = randv(std::size_t(V) * C, rng, -0.5, 0.5);
        targets = randi(std::size_t(B) * T, rng, V);
    }

    struct Grads {
        FVec x, ln1w, wqkv, wproj, lnfw, wlm;
    };

    // Returns the mean loss; fills grads when asked (forward + backward through the backend).
    double run(Backend& be, Grads* g) const {
        const int N = B * T;
        const std::size_t NC = std::size_t(N) * C;
        FVec ln1(NC), m1(N), r1(N), qkv(NC * 3), att(std::size_t(B) * NH * T * T), y(NC), proj(NC),
            res(NC), lnf(NC), mf(N), rf(N), logits(std::size_t(N) * V), losses(N);
        be.layernorm_forward(ln1.data(), m1.data(), r1.data(), x.data(), ln1w.data(), ln1b.data(),
                             N, C);
        be.linear_forward(qkv.data(), ln1.data(), wqkv.data(), bqkv.data(), N, C, 3 * C);
        be.attention_forward(y.data(), att.data(), qkv.data(), B, T, C, NH);
        be.linear_forward(proj.data(), y.data(), wproj.data(), bproj.data(), N, C, C);
        be.residual_forward(res.data(), x.data(), proj.data(), NC);
        be.layernorm_forward(lnf.data(), mf.data(), rf.data(), res.data(), lnfw.data(), lnfb.data(),
                             N, C);
        be.linear_forward(logits.data(), lnf.data(), wlm.data(), nullptr, N, C, V);
        FVec dlogits(logits.size());
        be.fused_classifier(dlogits.data(), losses.data(), logits.data(), targets.data(), N, V,
                            1.0f / N);
        double loss = 0;
        for (float l : losses) loss += l;
        loss /= N;
        if (g == nullptr) return loss;

        *g = Grads{FVec(NC, 0.0f),           FVec(C, 0.0f), FVec(wqkv.size(), 0.0f),
                   FVec(wproj.size(), 0.0f), FVec(C, 0.0f), FVec(wlm.size(), 0.0f)};
        FVec dlnf(NC, 0.0f), dres(NC, 0.0f), dy(NC, 0.0f), dqkv(qkv.size(), 0.0f), dln1(NC, 0.0f),
            scratch(att.size()), dbqkv(3 * C, 0.0f), dbproj(C, 0.0f), dlnfb(C, 0.0f),
            dln1b(C, 0.0f);
        be.linear_backward(dlnf.data(), g->wlm.data(), nullptr, dlogits.data(), lnf.data(),
                           wlm.data(), N, C, V);
        be.layernorm_backward(dres.data(), g->lnfw.data(), dlnfb.data(), dlnf.data(), res.data(),
                              lnfw.data(), mf.data(), rf.data(), N, C);
        be.add_inplace(g->x.data(), dres.data(), NC);  // residual: both branches get dres
        be.linear_backward(dy.data(), g->wproj.data(), dbproj.data(), dres.data(), y.data(),
                           wproj.data(), N, C, C);
        be.attention_backward(dqkv.data(), scratch.data(), dy.data(), qkv.data(), att.data(), B, T,
                              C, NH);
        be.linear_backward(dln1.data(), g->wqkv.data(), dbqkv.data(), dqkv.data(), ln1.data(),
                           wqkv.data(), N, C, 3 * C);
        be.layernorm_backward(g->x.data(), g->ln1w.data(), dln1b.data(), dln1.data(), x.data(),
                              ln1w.data(), m1.data(), r1.data(), N, C);
        return loss;
    }
};

}  // namespace

class TestKernelsBackend : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { set_blas_threads(1); }

    void identity() {
        auto be = make_cpu_backend();
        QCOMPARE(be->kind(), BackendKind::Cpu);
        // The run record's device string names the kernel OpenBLAS runs (kernels/blas_core.h).
        const std::string core = blas_core_name();
        QVERIFY(!core.empty());
        QCOMPARE(be->name(), "cpu (OpenBLAS " + core + ", 1 thread)");
    }

    // select_blas_core in a fresh process: at least the kernel tier the CPU supports, the choice
    // exported for children, and a value the user set wins.
    void blasCoreSelectedForTheCpu() {
        const auto probe = [](const QString& coretype) {
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.remove(QStringLiteral("OPENBLAS_CORETYPE"));
            if (!coretype.isEmpty()) env.insert(QStringLiteral("OPENBLAS_CORETYPE"), coretype);
            p.setProcessEnvironment(env);
            p.start(QStringLiteral(BLAS_CORE_PROBE), {});
            if (!p.waitForFinished(30000) || p.exitCode() != 0) return QStringList{QStringLiteral("failed")};
            return QString::fromUtf8(p.readAllStandardOutput()).trimmed().split(QLatin1Char(' '));
        };
        const std::string want = blas_core_for(detect_cpu_isa());
        const QStringList out = probe({});
        QVERIFY2(out.size() >= 6 && out[0] == QStringLiteral("core"), qPrintable(out.join(QLatin1Char(' '))));
        const std::string core = out[1].toStdString();
        QVERIFY2(blas_core_tier(core) >= blas_core_tier(want),
                 qPrintable(out.join(QLatin1Char(' ')) + QStringLiteral(" (this CPU: ") + QString::fromStdString(want) + QLatin1Char(')')));
        if (!want.empty()) QVERIFY2(out[3] != QStringLiteral("-"), qPrintable(out.join(QLatin1Char(' '))));
        if (blas_core_tier(want) < 1) QSKIP("no AVX2+FMA on this CPU: the user-setting check needs the Haswell kernel");
        const QStringList user = probe(QStringLiteral("HASWELL"));
        QVERIFY2(user.size() >= 4 && user[1].compare(QStringLiteral("Haswell"), Qt::CaseInsensitive) == 0 &&
                     user[3] == QStringLiteral("HASWELL"),
                 qPrintable(user.join(QLatin1Char(' '))));
    }

    void memory() {
        CpuBackend be;
        QCOMPARE(be.allocate(0), nullptr);
        be.deallocate(nullptr);
        for (std::size_t bytes : {1u, 3u, 64u, 100u, 4097u}) {
            void* p = be.allocate(bytes);
            QVERIFY(p != nullptr);
            QCOMPARE(reinterpret_cast<std::uintptr_t>(p) % 64, std::uintptr_t(0));
            be.deallocate(p);
        }
        const FVec host{1, 2, 3, 4, 5};
        DeviceBuffer<float> a(be, host.size()), b(be, host.size());
        QCOMPARE(a.size(), host.size());
        QCOMPARE(a.bytes(), host.size() * sizeof(float));
        be.copy_to_device(a.data(), host.data(), a.bytes());
        be.copy_on_device(b.data(), a.data(), a.bytes());
        FVec back(host.size(), 0.0f);
        be.copy_to_host(back.data(), b.data(), b.bytes());
        QCOMPARE(back, host);
        be.zero(b.data(), b.bytes());
        be.copy_to_host(back.data(), b.data(), b.bytes());
        QCOMPARE(back, FVec(host.size(), 0.0f));
        be.synchronize();

        DeviceBuffer<float> moved(std::move(a));
        QCOMPARE(a.data(), nullptr);
        QCOMPARE(a.size(), std::size_t(0));
        be.copy_to_host(back.data(), moved.data(), moved.bytes());
        QCOMPARE(back, host);
        b = std::move(moved);
        QCOMPARE(moved.data(), nullptr);
        be.copy_to_host(back.data(), b.data(), b.bytes());
        QCOMPARE(back, host);
        b.reset();
        QCOMPARE(b.data(), nullptr);
    }

    // Every Backend method forwards to the free function with the same arguments, in order:
    // each call through Backend& must give bit-identical results.
    void forwardsEveryKernel() {
        CpuBackend cpu;
        Backend& be = cpu;
        Rng rng(31);
        const int B = 2, T = 5, C = 6, NH = 3, N = B * T, OC = 7, V = 9;
        const std::size_t NC = std::size_t(N) * C;
        const FVec x = randv(NC, rng), y = randv(NC, rng), w = randv(std::size_t(OC) * C, rng),
                   bias = randv(OC, rng), lw = randv(C, rng), lb = randv(C, rng),
                   qkv = randv(NC * 3, rng), dout = randv(std::size_t(N) * OC, rng);
        const IVec tok = randi(N, rng, OC), tg = randi(N, rng, V);  // tok indexes w (OC, C)
        auto both = [](const FVec& init, const std::function<void(float*)>& via_backend,
                       const std::function<void(float*)>& direct) {
            FVec a = init, b = init;
            via_backend(a.data());
            direct(b.data());
            return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
        };
        const FVec z = randv(4096, rng);  // random initial contents for outputs/accumulators

        FVec A(NC), Bm(NC);
        QVERIFY(both(
            FVec(z.begin(), z.begin() + 4 * 4),
            [&](float* o) {
                be.sgemm(Trans::Yes, Trans::No, 4, 4, 3, 0.5f, x.data(), 4, y.data(), 4, 0.25f, o,
                         4);
            },
            [&](float* o) {
                ss::kernels::sgemm(Trans::Yes, Trans::No, 4, 4, 3, 0.5f, x.data(), 4, y.data(), 4,
                                   0.25f, o, 4);
            }));
        QVERIFY(both(
            FVec(N * OC),
            [&](float* o) { be.linear_forward(o, x.data(), w.data(), bias.data(), N, C, OC); },
            [&](float* o) { linear_forward(o, x.data(), w.data(), bias.data(), N, C, OC); }));
        // linear_backward: check the three gradients separately (each through one pointer)
        QVERIFY(both(
            FVec(z.begin(), z.begin() + NC),
            [&](float* o) {
                be.linear_backward(o, nullptr, nullptr, dout.data(), x.data(), w.data(), N, C, OC);
            },
            [&](float* o) {
                linear_backward(o, nullptr, nullptr, dout.data(), x.data(), w.data(), N, C, OC);
            }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + OC * C),
            [&](float* o) {
                be.linear_backward(nullptr, o, nullptr, dout.data(), x.data(), w.data(), N, C, OC);
            },
            [&](float* o) {
                linear_backward(nullptr, o, nullptr, dout.data(), x.data(), w.data(), N, C, OC);
            }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + OC),
            [&](float* o) {
                be.linear_backward(nullptr, nullptr, o, dout.data(), x.data(), w.data(), N, C, OC);
            },
            [&](float* o) {
                linear_backward(nullptr, nullptr, o, dout.data(), x.data(), w.data(), N, C, OC);
            }));
        QVERIFY(both(
            FVec(NC),
            [&](float* o) { be.embedding_forward(o, tok.data(), w.data(), y.data(), B, T, C); },
            [&](float* o) { embedding_forward(o, tok.data(), w.data(), y.data(), B, T, C); }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + V * C),
            [&](float* o) { be.embedding_backward(o, nullptr, x.data(), tok.data(), B, T, C); },
            [&](float* o) { embedding_backward(o, nullptr, x.data(), tok.data(), B, T, C); }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + T * C),
            [&](float* o) { be.embedding_backward(nullptr, o, x.data(), tok.data(), B, T, C); },
            [&](float* o) { embedding_backward(nullptr, o, x.data(), tok.data(), B, T, C); }));
        FVec mean(N), rstd(N);
        layernorm_forward(A.data(), mean.data(), rstd.data(), x.data(), lw.data(), lb.data(), N, C,
                          1e-3f);
        QVERIFY(both(
            FVec(NC + 2 * N),
            [&](float* o) {
                be.layernorm_forward(o, o + NC, o + NC + N, x.data(), lw.data(), lb.data(), N, C,
                                     1e-3f);
            },
            [&](float* o) {
                layernorm_forward(o, o + NC, o + NC + N, x.data(), lw.data(), lb.data(), N, C,
                                  1e-3f);
            }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + NC + 2 * C),
            [&](float* o) {
                be.layernorm_backward(o, o + NC, o + NC + C, y.data(), x.data(), lw.data(),
                                      mean.data(), rstd.data(), N, C);
            },
            [&](float* o) {
                layernorm_backward(o, o + NC, o + NC + C, y.data(), x.data(), lw.data(),
                                   mean.data(), rstd.data(), N, C);
            }));
        QVERIFY(both(
            FVec(NC), [&](float* o) { be.gelu_forward(o, x.data(), NC); },
            [&](float* o) { gelu_forward(o, x.data(), NC); }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + NC),
            [&](float* o) { be.gelu_backward(o, x.data(), y.data(), NC); },
            [&](float* o) { gelu_backward(o, x.data(), y.data(), NC); }));
        QVERIFY(both(
            FVec(NC), [&](float* o) { be.relu_forward(o, x.data(), NC); },
            [&](float* o) { relu_forward(o, x.data(), NC); }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + NC),
            [&](float* o) { be.relu_backward(o, x.data(), y.data(), NC); },
            [&](float* o) { relu_backward(o, x.data(), y.data(), NC); }));
        softmax_forward(Bm.data(), x.data(), N, C);
        QVERIFY(both(
            FVec(NC), [&](float* o) { be.softmax_forward(o, x.data(), N, C); },
            [&](float* o) { softmax_forward(o, x.data(), N, C); }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + NC),
            [&](float* o) { be.softmax_backward(o, y.data(), Bm.data(), N, C); },
            [&](float* o) { softmax_backward(o, y.data(), Bm.data(), N, C); }));
        FVec att(std::size_t(B) * NH * T * T), scratch(att.size());
        attention_forward(A.data(), att.data(), qkv.data(), B, T, C, NH);
        QVERIFY(both(
            FVec(NC + att.size()),
            [&](float* o) { be.attention_forward(o, o + NC, qkv.data(), B, T, C, NH); },
            [&](float* o) { attention_forward(o, o + NC, qkv.data(), B, T, C, NH); }));
        QVERIFY(both(
            FVec(z.begin(), z.begin() + 3 * NC),
            [&](float* o) {
                be.attention_backward(o, scratch.data(), x.data(), qkv.data(), att.data(), B, T, C,
                                      NH);
            },
            [&](float* o) {
                attention_backward(o, scratch.data(), x.data(), qkv.data(), att.data(), B, T, C,
                                   NH);
            }));
        const FVec logits = randv(std::size_t(N) * V, rng, -3, 3);
        FVec probs(logits.size()), losses(N);
        crossentropy_forward(losses.data(), probs.data(), logits.data(), tg.data(), N, V);
        QVERIFY(both(
            FVec(N + logits.size()),
            [&](float* o) { be.crossentropy_forward(o, o + N, logits.data(), tg.data(), N, V); },
            [&](float* o) { crossentropy_forward(o, o + N, logits.data(), tg.data(), N, V); }));
        QVERIFY(both(
            FVec(logits.size()),
            [&](float* o) { be.crossentropy_backward(o, probs.data(), tg.data(), N, V, 0.3f); },
            [&](float* o) { crossentropy_backward(o, probs.data(), tg.data(), N, V, 0.3f); }));
        QVERIFY(both(
            FVec(logits.size() + N),
            [&](float* o) {
                be.fused_classifier(o, o + logits.size(), logits.data(), tg.data(), N, V, 0.3f);
            },
            [&](float* o) {
                fused_classifier(o, o + logits.size(), logits.data(), tg.data(), N, V, 0.3f);
            }));
        QVERIFY(both(
            FVec(NC), [&](float* o) { be.residual_forward(o, x.data(), y.data(), NC); },
            [&](float* o) { residual_forward(o, x.data(), y.data(), NC); }));
        QVERIFY(both(
            x, [&](float* o) { be.add_inplace(o, y.data(), NC); },
            [&](float* o) { add_inplace(o, y.data(), NC); }));
        QVERIFY(both(
            x, [&](float* o) { be.bias_add(o, lw.data(), N, C); },
            [&](float* o) { bias_add(o, lw.data(), N, C); }));
        QVERIFY(both(
            lw, [&](float* o) { be.bias_backward(o, x.data(), N, C); },
            [&](float* o) { bias_backward(o, x.data(), N, C); }));
        QVERIFY(both(
            x, [&](float* o) { be.fill(o, NC, 0.5f); }, [&](float* o) { fill(o, NC, 0.5f); }));
        QVERIFY(both(
            x, [&](float* o) { be.copy(o, y.data(), NC); },
            [&](float* o) { copy(o, y.data(), NC); }));
        QVERIFY(both(
            x, [&](float* o) { be.scale(o, NC, -1.5f); }, [&](float* o) { scale(o, NC, -1.5f); }));
        AdamWConfig cfg;
        cfg.lr = 0.01f;
        cfg.weight_decay = 0.1f;
        QVERIFY(both(
            FVec(z.begin(), z.begin() + 3 * NC),
            [&](float* o) { be.adamw_update(o, y.data(), o + NC, o + 2 * NC, NC, cfg, 3, 0.5f); },
            [&](float* o) { adamw_update(o, y.data(), o + NC, o + 2 * NC, NC, cfg, 3, 0.5f); }));
        QCOMPARE(be.sum_squares(x.data(), NC), sum_squares(x.data(), NC));
    }

    // Gradients chained through Backend& across a whole block agree with finite differences of
    // the block's loss: the backward conventions (accumulate, residual, nullable) compose.
    void blockGradcheck() {
        CpuBackend be;
        Rng rng(32);
        Block blk(rng);
        Block::Grads g;
        const double loss = blk.run(be, &g);
        QVERIFY(std::isfinite(loss) && loss > 0);
        struct Param {
            const char* name;
            FVec Block::*member;
            FVec Block::Grads::*grad;
        };
        const Param params[] = {{"x", &Block::x, &Block::Grads::x},
                                {"ln1w", &Block::ln1w, &Block::Grads::ln1w},
                                {"wqkv", &Block::wqkv, &Block::Grads::wqkv},
                                {"wproj", &Block::wproj, &Block::Grads::wproj},
                                {"lnfw", &Block::lnfw, &Block::Grads::lnfw},
                                {"wlm", &Block::wlm, &Block::Grads::wlm}};
        for (const Param& p : params) {
            const DVec fd = finite_diff<float>(blk.*(p.member), 5e-3, [&](const FVec& v) {
                Block b2 = blk;
                b2.*(p.member) = v;
                return b2.run(be, nullptr);
            });
            const FVec& an = g.*(p.grad);
            const QString e = closeness(an.data(), fd.data(), an.size(), 3e-2 * max_abs(fd), 0.0);
            QVERIFY2(e.isEmpty(),
                     qPrintable(QString::fromLatin1(p.name) + QStringLiteral(": ") + e));
        }
    }

    // A two-layer MLP classifier (linear -> relu -> linear -> cross-entropy) trained with AdamW and
    // global-norm clipping on a linearly separable toy set: the loss must fall well below its
    // starting value and nearly every training point be classified correctly.
    void tinyClassifierLearns() {
        auto be = make_cpu_backend();
        const int N = 64, D = 5, H = 16, K = 3;
        Rng rng(33);
        FVec X = randv(std::size_t(N) * D, rng);
        IVec y(N);
        for (int i = 0; i < N; ++i) {  // class = argmax of the first K features
            int best = 0;
            for (int k = 1; k < K; ++k)
                if (X[i * D + k] > X[i * D + best]) best = k;
            y[i] = best;
        }
        FVec W1 = randv(std::size_t(H) * D, rng, -0.4, 0.4), b1(H, 0.0f),
             W2 = randv(std::size_t(K) * H, rng, -0.4, 0.4), b2(K, 0.0f);
        std::vector<FVec*> params{&W1, &b1, &W2, &b2};
        std::vector<FVec> grads, m, v;
        for (FVec* p : params) {
            grads.emplace_back(p->size(), 0.0f);
            m.emplace_back(p->size(), 0.0f);
            v.emplace_back(p->size(), 0.0f);
        }
        FVec h(std::size_t(N) * H), a(h.size()), logits(std::size_t(N) * K), losses(N),
            dh(h.size()), da(h.size());
        AdamWConfig cfg;
        cfg.lr = 0.03f;
        cfg.weight_decay = 1e-4f;
        double first = 0, last = 0;
        for (int step = 1; step <= 150; ++step) {
            be->linear_forward(h.data(), X.data(), W1.data(), b1.data(), N, D, H);
            be->relu_forward(a.data(), h.data(), h.size());
            be->linear_forward(logits.data(), a.data(), W2.data(), b2.data(), N, H, K);
            be->fused_classifier(logits.data(), losses.data(), logits.data(), y.data(), N, K,
                                 1.0f / N);
            double loss = 0;
            for (float l : losses) loss += l;
            loss /= N;
            if (step == 1) first = loss;
            last = loss;
            for (auto& gr : grads) be->fill(gr.data(), gr.size(), 0.0f);
            be->fill(da.data(), da.size(), 0.0f);
            be->fill(dh.data(), dh.size(), 0.0f);
            be->linear_backward(da.data(), grads[2].data(), grads[3].data(), logits.data(),
                                a.data(), W2.data(), N, H, K);
            be->relu_backward(dh.data(), h.data(), da.data(), h.size());
            be->linear_backward(nullptr, grads[0].data(), grads[1].data(), dh.data(), X.data(),
                                W1.data(), N, D, H);
            double ss = 0;
            for (auto& gr : grads) ss += be->sum_squares(gr.data(), gr.size());
            const float coef = clip_coefficient(std::sqrt(ss), 1.0f);
            for (std::size_t i = 0; i < params.size(); ++i) {
                be->adamw_update(params[i]->data(), grads[i].data(), m[i].data(), v[i].data(),
                                 params[i]->size(), cfg, step, coef);
            }
        }
        QVERIFY2(last < 0.25 * first,
                 qPrintable(QStringLiteral("loss %1 -> %2").arg(first).arg(last)));
        be->linear_forward(h.data(), X.data(), W1.data(), b1.data(), N, D, H);
        be->relu_forward(a.data(), h.data(), h.size());
        be->linear_forward(logits.data(), a.data(), W2.data(), b2.data(), N, H, K);
        int correct = 0;
        for (int i = 0; i < N; ++i) {
            int best = 0;
            for (int k = 1; k < K; ++k)
                if (logits[i * K + k] > logits[i * K + best]) best = k;
            correct += best == y[i];
        }
        QVERIFY2(correct >= N - 2, qPrintable(QStringLiteral("%1/%2 correct").arg(correct).arg(N)));
    }
};

QTEST_APPLESS_MAIN(TestKernelsBackend)
#include "tst_kernels_backend.moc"

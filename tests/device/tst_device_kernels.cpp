// The CUDA backend against the CPU kernels at several sizes (odd ones included). Every kernel is
// run on identical inputs through both backends and the results compared with a tolerance.
// The error-reporting checks run everywhere; then, without a usable device, the test prints
// "no CUDA device: <cudaGetErrorString>" and exits 77, which CTest counts as skipped.
// Plain C++ (tests/device/check.h): it builds without Qt, as scripts/device-check.sh needs.
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../kernels/random.h"  // tests/kernels: the Qt-free random data helpers
#include "check.h"
#include "kernels/cpu_kernels.h"
#include "kernels/cuda/cuda_backend.h"

using namespace ss::kernels;
using ss::kernels::test::randi;
using ss::kernels::test::randv;
using ss::kernels::test::Rng;
using FVec = std::vector<float>;
using IVec = std::vector<std::int32_t>;

namespace {

template <typename T>
DeviceBuffer<T> upload(Backend& be, const std::vector<T>& host) {
    DeviceBuffer<T> d(be, host.size());
    be.copy_to_device(d.data(), host.data(), d.bytes());
    return d;
}

template <typename T>
std::vector<T> download(Backend& be, const DeviceBuffer<T>& d) {
    std::vector<T> host(d.size());
    be.copy_to_host(host.data(), d.data(), d.bytes());
    return host;
}

}  // namespace

#define CHECK_DEVICE(what, dev, cpu, atol, rtol) \
    CHECK_CLOSE(what, download(g, dev), cpu, atol, rtol)

namespace {

// ---- runs without a device -------------------------------------------------------------------
void errorCarriesCallFileAndLine() {
    const cuda::CudaError e("cudaMalloc(&p, bytes)", "/src/scalescope/kernels/cuda/x.cpp", 42,
                            "out of memory");
    CHECK_EQ(e.call(), std::string("cudaMalloc(&p, bytes)"));
    CHECK_EQ(e.file(), std::string("kernels/cuda/x.cpp"));
    CHECK_EQ(e.line(), 42);
    CHECK_EQ(std::string(e.what()),
             std::string("cudaMalloc(&p, bytes) failed at kernels/cuda/x.cpp:42: out of memory"));
}

void noDeviceIsReported(const std::string& why) {
    CHECK(!why.empty());
    try {
        (void)cuda::make_cuda_backend(0);
        CHECK_MSG(false, "make_cuda_backend succeeded without a device");
    } catch (const cuda::CudaError& e) {
        CHECK_MSG(std::string(e.what()).find(why) != std::string::npos, e.what());
        CHECK(e.line() > 0);
    }
}

// ---- device vs CPU ---------------------------------------------------------------------------
void memoryRoundTrip(Backend& g) {
    CHECK(g.kind() == BackendKind::Cuda);
    Rng rng(40);
    const FVec h = randv(1003, rng);
    auto d = upload(g, h);
    DeviceBuffer<float> e(g, h.size());
    g.copy_on_device(e.data(), d.data(), d.bytes());
    CHECK(download(g, e) == h);
    g.zero(e.data(), e.bytes());
    CHECK(download(g, e) == FVec(h.size(), 0.0f));
    g.fill(e.data(), e.size(), 2.5f);
    CHECK(download(g, e) == FVec(h.size(), 2.5f));
    g.copy(e.data(), d.data(), d.size());
    CHECK(download(g, e) == h);
}

struct Shape {
    int B, T, C, NH, V;
};

void kernels(Backend& g, const Shape& shape) {
    const int B = shape.B, T = shape.T, C = shape.C, NH = shape.NH, V = shape.V;
    Rng rng(41 + B * 1000 + T);
    const int N = B * T, OC = 3 * C;
    const std::size_t NC = std::size_t(N) * C;

    // linear forward / backward (cuBLAS)
    const FVec x = randv(NC, rng), w = randv(std::size_t(OC) * C, rng), b = randv(OC, rng),
               dy = randv(std::size_t(N) * OC, rng);
    auto dx_ = upload(g, x), dw_ = upload(g, w), db_ = upload(g, b), ddy = upload(g, dy);
    DeviceBuffer<float> dout(g, std::size_t(N) * OC);
    FVec out(std::size_t(N) * OC);
    linear_forward(out.data(), x.data(), w.data(), b.data(), N, C, OC);
    g.linear_forward(dout.data(), dx_.data(), dw_.data(), db_.data(), N, C, OC);
    CHECK_DEVICE("linear_forward", dout, out, 1e-4, 1e-4);
    FVec gx = randv(NC, rng), gw = randv(w.size(), rng), gb = randv(OC, rng);
    auto dgx = upload(g, gx), dgw = upload(g, gw), dgb = upload(g, gb);
    linear_backward(gx.data(), gw.data(), gb.data(), dy.data(), x.data(), w.data(), N, C, OC);
    g.linear_backward(dgx.data(), dgw.data(), dgb.data(), ddy.data(), dx_.data(), dw_.data(), N, C,
                      OC);
    CHECK_DEVICE("linear_backward dinp", dgx, gx, 1e-3, 1e-4);
    CHECK_DEVICE("linear_backward dweight", dgw, gw, 1e-3, 1e-4);
    CHECK_DEVICE("linear_backward dbias", dgb, gb, 1e-3, 1e-4);
    // general sgemm with transposes
    {
        FVec c = randv(std::size_t(C) * C, rng);
        auto dc = upload(g, c);
        ss::kernels::sgemm(Trans::Yes, Trans::No, C, C, N, 0.5f, x.data(), C, x.data(), C, 0.25f,
                           c.data(), C);
        g.sgemm(Trans::Yes, Trans::No, C, C, N, 0.5f, dx_.data(), C, dx_.data(), C, 0.25f,
                dc.data(), C);
        CHECK_DEVICE("sgemm TN", dc, c, 1e-3, 1e-4);
    }

    // embedding
    {
        const IVec tok = randi(N, rng, V);
        const FVec wte = randv(std::size_t(V) * C, rng), wpe = randv(std::size_t(T) * C, rng);
        auto dtok = upload(g, tok);
        auto dwte = upload(g, wte), dwpe = upload(g, wpe);
        DeviceBuffer<float> demb(g, NC);
        FVec emb(NC);
        embedding_forward(emb.data(), tok.data(), wte.data(), wpe.data(), B, T, C);
        g.embedding_forward(demb.data(), dtok.data(), dwte.data(), dwpe.data(), B, T, C);
        CHECK_DEVICE("embedding_forward", demb, emb, 0.0, 1e-7);
        FVec gte = wte, gpe = wpe;  // accumulate onto the tables' values
        embedding_backward(gte.data(), gpe.data(), x.data(), tok.data(), B, T, C);
        g.embedding_backward(dwte.data(), dwpe.data(), dx_.data(), dtok.data(), B, T, C);
        CHECK_DEVICE("embedding_backward dwte", dwte, gte, 1e-5, 1e-5);
        CHECK_DEVICE("embedding_backward dwpe", dwpe, gpe, 1e-5, 1e-5);
    }

    // layernorm
    {
        const FVec lw = randv(C, rng, 0.5, 1.5), lb = randv(C, rng);
        auto dlw = upload(g, lw), dlb = upload(g, lb);
        FVec o(NC), m(N), r(N);
        DeviceBuffer<float> dO(g, NC), dm(g, N), dr(g, N);
        layernorm_forward(o.data(), m.data(), r.data(), x.data(), lw.data(), lb.data(), N, C);
        g.layernorm_forward(dO.data(), dm.data(), dr.data(), dx_.data(), dlw.data(), dlb.data(), N,
                            C);
        CHECK_DEVICE("layernorm out", dO, o, 1e-4, 1e-4);
        CHECK_DEVICE("layernorm mean", dm, m, 1e-5, 1e-5);
        CHECK_DEVICE("layernorm rstd", dr, r, 1e-4, 1e-4);
        FVec gxx = randv(NC, rng), gww = randv(C, rng), gbb = randv(C, rng);
        auto dgxx = upload(g, gxx), dgww = upload(g, gww), dgbb = upload(g, gbb);
        auto ddyy = upload(g, o);  // any upstream gradient
        layernorm_backward(gxx.data(), gww.data(), gbb.data(), o.data(), x.data(), lw.data(),
                           m.data(), r.data(), N, C);
        g.layernorm_backward(dgxx.data(), dgww.data(), dgbb.data(), ddyy.data(), dx_.data(),
                             dlw.data(), dm.data(), dr.data(), N, C);
        CHECK_DEVICE("layernorm dinp", dgxx, gxx, 1e-3, 1e-3);
        CHECK_DEVICE("layernorm dweight", dgww, gww, 1e-3, 1e-3);
        CHECK_DEVICE("layernorm dbias", dgbb, gbb, 1e-3, 1e-3);
    }

    // elementwise
    {
        const FVec a = randv(NC, rng, -6, 6), up = randv(NC, rng);
        auto da = upload(g, a), dup = upload(g, up);
        DeviceBuffer<float> dy2(g, NC);
        FVec y2(NC);
        gelu_forward(y2.data(), a.data(), NC);
        g.gelu_forward(dy2.data(), da.data(), NC);
        CHECK_DEVICE("gelu_forward", dy2, y2, 1e-6, 1e-5);
        FVec acc = up;
        auto dacc = upload(g, acc);
        gelu_backward(acc.data(), a.data(), up.data(), NC);
        g.gelu_backward(dacc.data(), da.data(), dup.data(), NC);
        CHECK_DEVICE("gelu_backward", dacc, acc, 1e-6, 1e-5);
        relu_forward(y2.data(), a.data(), NC);
        g.relu_forward(dy2.data(), da.data(), NC);
        CHECK_DEVICE("relu_forward", dy2, y2, 0.0, 0.0);
        relu_backward(acc.data(), a.data(), up.data(), NC);
        g.relu_backward(dacc.data(), da.data(), dup.data(), NC);
        CHECK_DEVICE("relu_backward", dacc, acc, 1e-6, 1e-6);
        residual_forward(y2.data(), a.data(), up.data(), NC);
        g.residual_forward(dy2.data(), da.data(), dup.data(), NC);
        CHECK_DEVICE("residual_forward", dy2, y2, 0.0, 0.0);
        add_inplace(acc.data(), a.data(), NC);
        g.add_inplace(dacc.data(), da.data(), NC);
        CHECK_DEVICE("add_inplace", dacc, acc, 1e-6, 1e-6);
        bias_add(acc.data(), a.data(), N, C);  // first C values of a as the bias
        g.bias_add(dacc.data(), da.data(), N, C);
        CHECK_DEVICE("bias_add", dacc, acc, 1e-6, 1e-6);
        FVec bb(C, 0.5f);
        auto dbb = upload(g, bb);
        bias_backward(bb.data(), a.data(), N, C);
        g.bias_backward(dbb.data(), da.data(), N, C);
        CHECK_DEVICE("bias_backward", dbb, bb, 1e-3, 1e-5);
        scale(acc.data(), NC, -0.75f);
        g.scale(dacc.data(), NC, -0.75f);
        CHECK_DEVICE("scale", dacc, acc, 1e-6, 1e-6);
        const double ss_cpu = sum_squares(a.data(), NC);
        const double ss_gpu = g.sum_squares(da.data(), NC);
        CHECK_MSG(std::abs(ss_cpu - ss_gpu) <= 1e-10 * ss_cpu,
                  std::to_string(ss_cpu) + " vs " + std::to_string(ss_gpu));
    }

    // softmax
    {
        const FVec s = randv(NC, rng, -10, 10), up = randv(NC, rng);
        auto ds = upload(g, s), dup = upload(g, up);
        FVec y(NC);
        DeviceBuffer<float> dyy(g, NC);
        softmax_forward(y.data(), s.data(), N, C);
        g.softmax_forward(dyy.data(), ds.data(), N, C);
        CHECK_DEVICE("softmax_forward", dyy, y, 1e-7, 1e-5);
        FVec acc = up;
        auto dacc = upload(g, acc);
        softmax_backward(acc.data(), up.data(), y.data(), N, C);
        g.softmax_backward(dacc.data(), dup.data(), dyy.data(), N, C);
        CHECK_DEVICE("softmax_backward", dacc, acc, 1e-6, 1e-5);
    }

    // attention
    {
        const FVec qkv = randv(NC * 3, rng, -1.5, 1.5), up = randv(NC, rng);
        const std::size_t na = std::size_t(B) * NH * T * T;
        auto dqkv = upload(g, qkv), dup = upload(g, up);
        FVec out2(NC), att(na), scratch(na);
        DeviceBuffer<float> dout2(g, NC), datt(g, na), dscr(g, na);
        attention_forward(out2.data(), att.data(), qkv.data(), B, T, C, NH);
        g.attention_forward(dout2.data(), datt.data(), dqkv.data(), B, T, C, NH);
        CHECK_DEVICE("attention out", dout2, out2, 1e-4, 1e-4);
        CHECK_DEVICE("attention att", datt, att, 1e-5, 1e-4);
        FVec gq = randv(NC * 3, rng);
        auto dgq = upload(g, gq);
        attention_backward(gq.data(), scratch.data(), up.data(), qkv.data(), att.data(), B, T, C,
                           NH);
        g.attention_backward(dgq.data(), dscr.data(), dup.data(), dqkv.data(), datt.data(), B, T, C,
                             NH);
        CHECK_DEVICE("attention dqkv", dgq, gq, 1e-3, 1e-3);
    }

    // cross-entropy (one target ignored)
    {
        const FVec logits = randv(std::size_t(N) * V, rng, -8, 8);
        IVec tg = randi(N, rng, V);
        tg[N / 2] = -1;
        auto dl = upload(g, logits);
        auto dtg = upload(g, tg);
        FVec losses(N), probs(logits.size());
        DeviceBuffer<float> dlosses(g, N), dprobs(g, logits.size());
        crossentropy_forward(losses.data(), probs.data(), logits.data(), tg.data(), N, V);
        g.crossentropy_forward(dlosses.data(), dprobs.data(), dl.data(), dtg.data(), N, V);
        CHECK_DEVICE("crossentropy losses", dlosses, losses, 1e-5, 1e-5);
        CHECK_DEVICE("crossentropy probs", dprobs, probs, 1e-8, 1e-4);
        FVec dlog(logits.size());
        DeviceBuffer<float> ddlog(g, logits.size());
        crossentropy_backward(dlog.data(), probs.data(), tg.data(), N, V, 1.0f / N);
        g.crossentropy_backward(ddlog.data(), dprobs.data(), dtg.data(), N, V, 1.0f / N);
        CHECK_DEVICE("crossentropy dlogits", ddlog, dlog, 1e-8, 1e-4);
        fused_classifier(dlog.data(), losses.data(), logits.data(), tg.data(), N, V, 1.0f / N);
        g.fused_classifier(dl.data(), dlosses.data(), dl.data(), dtg.data(), N, V,
                           1.0f / N);  // in place on the device
        CHECK_DEVICE("fused losses", dlosses, losses, 1e-5, 1e-5);
        CHECK_DEVICE("fused dlogits", dl, dlog, 1e-8, 1e-4);
    }

    // AdamW
    {
        const std::size_t n = NC;
        FVec p = randv(n, rng), gr = randv(n, rng), m(n, 0.0f), v(n, 0.0f);
        auto dp = upload(g, p), dgr = upload(g, gr), dm = upload(g, m), dv = upload(g, v);
        AdamWConfig cfg;
        cfg.lr = 1e-2f;
        cfg.weight_decay = 0.1f;
        for (int step = 1; step <= 3; ++step) {
            adamw_update(p.data(), gr.data(), m.data(), v.data(), n, cfg, step, 0.5f);
            g.adamw_update(dp.data(), dgr.data(), dm.data(), dv.data(), n, cfg, step, 0.5f);
        }
        CHECK_DEVICE("adamw param", dp, p, 1e-6, 1e-5);
        CHECK_DEVICE("adamw m", dm, m, 1e-7, 1e-5);
        CHECK_DEVICE("adamw v", dv, v, 1e-9, 1e-5);
    }
}

void attentionRejectsBadHeads(Backend& g) {
    DeviceBuffer<float> buf(g, 64);
    CHECK_THROWS(std::invalid_argument,
                 g.attention_forward(buf.data(), buf.data(), buf.data(), 1, 1, 6, 4));
}

}  // namespace

int main() {
    ss::check::Suite suite("tst_device_kernels");
    set_blas_threads(1);
    suite.run("errorCarriesCallFileAndLine", errorCarriesCallFileAndLine);
    std::string why;
    if (!cuda::device_available(&why)) {
        suite.run("noDeviceIsReported", [&] { noDeviceIsReported(why); });
        return suite.skip("no CUDA device: " + why);
    }
    std::unique_ptr<Backend> be;
    suite.run("makeCudaBackend", [&] { be = cuda::make_cuda_backend(0); });
    if (!be) return suite.finish();
    suite.info("CUDA backend: " + be->name());
    suite.run("memoryRoundTrip", [&] { memoryRoundTrip(*be); });
    for (const Shape& s : {Shape{1, 1, 4, 1, 3}, Shape{2, 7, 12, 3, 17}, Shape{3, 33, 48, 4, 1001},
                           Shape{2, 130, 64, 2, 5003}, Shape{1, 257, 768, 12, 50257}}) {
        const std::string name = "kernels(" + std::to_string(s.B) + "," + std::to_string(s.T) +
                                 "," + std::to_string(s.C) + "," + std::to_string(s.NH) + "," +
                                 std::to_string(s.V) + ")";
        suite.run(name, [&] { kernels(*be, s); });
    }
    suite.run("attentionRejectsBadHeads", [&] { attentionRejectsBadHeads(*be); });
    return suite.finish();
}

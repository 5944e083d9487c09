// NVTX ranges of steps and phases (builds with CUDA): a static NVTX injection, the mechanism a
// tool such as Nsight Systems uses, records what the profiler's Span pushes and pops.
#include <QTest>

#include <string>
#include <vector>

#include <cstdint>

// This file provides InitializeInjectionNvtx2_fnptr (nvtxDetail/nvtxInit.h, static injection), of
// type NvtxInitializeInjectionNvtxFunc_t, which nvToolsExt.h reads before it could be defined here.
#define NVTX_STATIC_INJECTION_IMPL
extern "C" int (*InitializeInjectionNvtx2_fnptr)(const void* (*)(std::uint32_t));
#include <nvtx3/nvToolsExt.h>

#include "profiler/profiler.h"

using namespace ss::profiler;

namespace {
struct Recorder {
    std::string domain_name;
    std::vector<std::string> calls;  // "push <name>" / "pop", in the ScaleScope domain only
};
Recorder g_rec;
int g_domain_tag;  // its address is the injected domain handle
nvtxDomainHandle_t injected_domain() {
    return reinterpret_cast<nvtxDomainHandle_t>(&g_domain_tag);
}

nvtxDomainHandle_t NVTX_API create_domain(const char* name) {
    g_rec.domain_name = name;
    return injected_domain();
}
int NVTX_API push(nvtxDomainHandle_t d, const nvtxEventAttributes_t* a) {
    if (d == injected_domain() && a && a->messageType == NVTX_MESSAGE_TYPE_ASCII)
        g_rec.calls.push_back(std::string("push ") + a->message.ascii);
    return 0;
}
int NVTX_API pop(nvtxDomainHandle_t d) {
    if (d == injected_domain()) g_rec.calls.emplace_back("pop");
    return 0;
}
int NVTX_API initialize(NvtxGetExportTableFunc_t get_export_table) {
    const auto* cb =
        static_cast<const NvtxExportTableCallbacks*>(get_export_table(NVTX_ETID_CALLBACKS));
    NvtxFunctionTable table = nullptr;
    unsigned int size = 0;
    if (!cb || !cb->GetModuleFunctionTable(NVTX_CB_MODULE_CORE2, &table, &size)) return 0;
    *table[NVTX_CBID_CORE2_DomainCreateA] = reinterpret_cast<NvtxFunctionPointer>(&create_domain);
    *table[NVTX_CBID_CORE2_DomainRangePushEx] = reinterpret_cast<NvtxFunctionPointer>(&push);
    *table[NVTX_CBID_CORE2_DomainRangePop] = reinterpret_cast<NvtxFunctionPointer>(&pop);
    return 1;
}
}  // namespace

NvtxInitializeInjectionNvtxFunc_t InitializeInjectionNvtx2_fnptr = &initialize;

class TestProfilerNvtx : public QObject {
    Q_OBJECT
private slots:
    void stepsAndPhasesAreNvtxRanges() {
        QVERIFY(Profiler::current() == nullptr);  // NVTX ranges do not need ScaleScope's profiler
        {
            Span step("step", EventKind::Step, lanes::kSteps);
            {
                Span fwd("forward", EventKind::Phase, lanes::kPhases);
                Span gemm("gemm", EventKind::Kernel, lanes::kCompute);  // not per kernel
                Span ar("all_reduce", EventKind::Comm, lanes::kComm);
            }
            Span opt("optimizer", EventKind::Phase, lanes::kPhases);
        }
        QCOMPARE(g_rec.domain_name, std::string("ScaleScope"));
        const std::vector<std::string> want{"push step",      "push forward", "pop",
                                            "push optimizer", "pop",          "pop"};
        QCOMPARE(g_rec.calls, want);
    }
};

QTEST_GUILESS_MAIN(TestProfilerNvtx)
#include "tst_profiler_nvtx.moc"

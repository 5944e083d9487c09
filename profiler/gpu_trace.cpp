#include "profiler/gpu_trace.h"

#if SCALESCOPE_HAVE_CUPTI
#include "profiler/cupti_collector.h"
#endif

namespace ss::profiler {

GpuTracer::~GpuTracer() = default;

#if SCALESCOPE_HAVE_CUPTI
namespace {
class CuptiTracer final : public GpuTracer {
public:
    explicit CuptiTracer(Profiler& prof) : prof_(prof), collector_(prof) {}
    ~CuptiTracer() override {
        try {
            finish();
        } catch (...) {
            // The error path of a failed run: what could be recorded was.
        }
    }
    bool start() {
        if (!collector_.start()) return false;
        prof_.keep_comm_spans(true);
        return true;
    }
    void step_boundary() override {
        if (!finished_) collector_.flush(prof_.take_comm_spans());
    }
    void finish() override {
        if (finished_) return;
        finished_ = true;
        std::vector<SpanRecord> comms = prof_.take_comm_spans();
        prof_.keep_comm_spans(false);
        collector_.finish(std::move(comms));
    }
    std::string status() const override { return collector_.status(); }

private:
    Profiler& prof_;
    cupti::Collector collector_;
    bool finished_ = false;
};
}  // namespace

bool gpu_tracing_built() {
    return true;
}

std::unique_ptr<GpuTracer> start_gpu_tracer(Profiler& prof, std::string* why) {
    auto t = std::make_unique<CuptiTracer>(prof);
    if (!t->start()) {
        if (why) *why = t->status();
        return nullptr;
    }
    if (why) why->clear();
    return t;
}
#else
bool gpu_tracing_built() {
    return false;
}

std::unique_ptr<GpuTracer> start_gpu_tracer(Profiler&, std::string* why) {
    if (why) *why = "this build has no CUPTI (built without the CUDA toolkit)";
    return nullptr;
}
#endif

}  // namespace ss::profiler

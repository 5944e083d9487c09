#include "core/teach/parallel_splits.h"

#include <algorithm>
#include <cstdio>

#include "core/analysis/collective_cost.h"
#include "core/sim/hardware.h"
#include "core/teach/pipeline_gantt.h"
#include "models/plan/buckets.h"

namespace ss::core::teach {

using traces::Collective;

std::string human_bytes(double b) {
    char buf[48];
    if (!(b >= 0)) return "–";
    if (b < 1024)
        std::snprintf(buf, sizeof buf, "%.0f B", b);
    else if (b < 1024.0 * 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024);
    else if (b < 1024.0 * 1024 * 1024)
        std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576);
    else
        std::snprintf(buf, sizeof buf, "%.2f GiB", b / 1073741824.0);
    return buf;
}

const StageSplit& Splits::fullest() const {
    if (stages.empty()) throw TeachError("no stages");
    return *std::max_element(
        stages.begin(), stages.end(),
        [](const StageSplit& a, const StageSplit& b) { return a.memory.total < b.memory.total; });
}

ExperimentSpec example_spec(const std::string& kind, const std::string& preset) {
    const ParseResult r = parse_spec({{"name", kind + "-" + preset},
                                      {"model", {{"kind", kind}, {"preset", preset}}},
                                      {"training", {{"global_batch", 64}}}});
    if (!r.ok())
        throw TeachError("example " + kind + " " + preset + ": " + r.errors.front().message);
    return r.spec;
}

namespace {

std::string count_text(double v) {  // 134912 -> "134,912"
    std::string s = std::to_string(static_cast<long long>(v + 0.5));
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

// "embedding, blocks 0–1, head" from the layer names of a stage.
std::string layer_list(const StageWork& sw) {
    std::vector<std::string> parts;
    std::string kind;
    int first = -1, last = -1;
    auto flush = [&] {
        if (first < 0) return;
        const std::string plural = kind == "linear" ? "linear" : kind + "s";
        parts.push_back(first == last
                            ? kind + " " + std::to_string(first)
                            : plural + " " + std::to_string(first) + "–" + std::to_string(last));
        first = last = -1;
    };
    for (const LayerWork& L : sw.layers) {
        const auto sp = L.name.rfind(' ');
        int n = -1;
        std::string k = L.name;
        if (sp != std::string::npos) {
            try {
                n = std::stoi(L.name.substr(sp + 1));
                k = L.name.substr(0, sp);
            } catch (const std::exception&) {
                n = -1;
            }
        }
        if (n >= 0 && k == kind && n == last + 1) {
            last = n;
            continue;
        }
        flush();
        if (n >= 0) {
            kind = k;
            first = last = n;
        } else {
            parts.push_back(L.name);
        }
    }
    flush();
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

double ring_sent(Collective c, int p, double bytes) {
    return cost_terms(c, p, CollAlgo::Ring).b * bytes;
}

}  // namespace

Splits parallel_splits(const ExperimentSpec& base, const ParallelChoice& c, double capacity_bytes) {
    Splits out;
    out.spec = base;
    ParallelSpec& par = out.spec.parallel;
    par.dp = c.dp;
    par.tp = c.tp;
    par.pp = c.pp;
    par.zero = c.zero;
    par.micro_batches = c.micro_batches;
    par.virtual_stages = 1;
    par.dp_sync = "allreduce";
    const std::vector<SpecError> errors = validate(out.spec, -1, false);
    if (!errors.empty()) {
        std::string msg;
        for (const SpecError& e : errors) msg += (msg.empty() ? "" : "; ") + e.message;
        throw TeachError(msg);
    }
    const Workload w = build_workload(out.spec);  // throws SimError naming the field
    out.model = base.model.kind + "-" +
                (base.model.preset.empty() ? std::string("custom") : base.model.preset);
    out.model_params = w.model_params;
    out.world = w.world();
    out.capacity = capacity_bytes;
    Hardware hw;
    hw.memory_bytes = capacity_bytes;

    for (const StageWork& sw : w.stages) {
        StageSplit s;
        s.stage = sw.stage;
        s.layers = layer_list(sw);
        s.params = sw.params;
        Workload one = w;  // estimate_memory returns the fullest stage: give it this one alone
        one.stages = {sw};
        s.memory = estimate_memory(one, hw);
        out.stages.push_back(s);

        const double m = w.micro_batches;
        // Tensor parallelism: Megatron's all-reduces of each layer, forward (g) and backward (f).
        if (w.tp > 1) {
            double calls = 0, bytes = 0;
            bool rs_ag = false;
            for (const LayerWork& L : sw.layers) {
                calls += (L.tp_fwd_ar + L.tp_bwd_ar) * m;
                bytes += (L.tp_fwd_ar * L.tp_fwd_bytes + L.tp_bwd_ar * L.tp_bwd_bytes) * m;
                rs_ag = rs_ag || L.tp_rs_ag;
            }
            if (calls > 0)
                out.comm.push_back({sw.stage, "tp",
                                    rs_ag ? "reduce-scatter + all-gather" : "all-reduce",
                                    "each layer's output (forward) and input gradient (backward)",
                                    w.tp, calls, bytes,
                                    rs_ag ? 2 * ring_sent(Collective::AllGather, w.tp, bytes)
                                          : ring_sent(Collective::AllReduce, w.tp, bytes)});
        }
        // Pipeline: the activation of every micro-batch to the next stage, its gradient back.
        if (w.pp > 1) {
            const double sends = (sw.out_bytes > 0 ? 1 : 0) + (sw.in_bytes > 0 ? 1 : 0);
            const double bytes = (sw.out_bytes + sw.in_bytes) * m;
            out.comm.push_back({sw.stage, "pp", "send",
                                sw.stage == 0 ? "activations to stage 1"
                                : sw.stage == w.pp - 1
                                    ? "gradients to stage " + std::to_string(sw.stage - 1)
                                    : "activations to stage " + std::to_string(sw.stage + 1) +
                                          ", gradients to stage " + std::to_string(sw.stage - 1),
                                2, sends * m, bytes, bytes});
        }
        // Data parallelism: the stage's gradients in buckets (models/plan/buckets.h), once per
        // step.
        if (w.dp > 1) {
            const std::size_t flat =
                static_cast<std::size_t>(std::llround(std::max(0.0, sw.flat_elems)));
            const double buckets = static_cast<double>(models::bucket_count(flat, w.bucket_elems));
            const double grads = sw.flat_elems * w.grad_bytes;
            if (w.zero) {
                out.comm.push_back({sw.stage, "dp", "reduce-scatter",
                                    "gradients (each rank keeps its 1/dp)", w.dp, buckets, grads,
                                    ring_sent(Collective::ReduceScatter, w.dp, grads)});
                const double weights = sw.flat_elems * w.weight_bytes;
                out.comm.push_back({sw.stage, "dp", "all-gather", "updated parameters", w.dp,
                                    buckets, weights,
                                    ring_sent(Collective::AllGather, w.dp, weights)});
            } else {
                out.comm.push_back({sw.stage, "dp", "all-reduce", "gradients", w.dp, buckets, grads,
                                    ring_sent(Collective::AllReduce, w.dp, grads)});
            }
        }
        if (w.world() >
            1)  // loss sum, counted targets, squared-norm parts: 3 doubles (models/LAYOUT.md)
            out.comm.push_back({sw.stage, "world", "all-reduce",
                                "loss and gradient norm (3 numbers)", w.world(), 1, 24,
                                ring_sent(Collective::AllReduce, w.world(), 24)});
    }

    // ---- The sentences ----
    const StageSplit& full = out.fullest();
    auto sent_of = [&](const std::string& group, int stage) {
        double s = 0;
        for (const CommSplit& x : out.comm)
            if (x.group == group && x.stage == stage) s += x.sent_bytes;
        return s;
    };
    const double stage_params = full.params;
    std::string s0 = out.model + " has " + count_text(out.model_params) +
                     " parameters; dp=" + std::to_string(w.dp) + " × tp=" + std::to_string(w.tp) +
                     " × pp=" + std::to_string(w.pp) + " runs it on " + std::to_string(out.world) +
                     " rank" + (out.world == 1 ? "" : "s") + ", each holding at most " +
                     count_text(stage_params) + " of them.";
    out.sentences.push_back(s0);
    if (w.dp > 1)
        out.sentences.push_back(
            "DP copies the model to " + std::to_string(w.dp) + " replicas and gives each " +
            std::to_string(static_cast<int>(w.micro_batch * w.micro_batches)) + " of the " +
            std::to_string(static_cast<int>(w.samples_per_step)) +
            " samples; after backward the replicas " +
            (w.zero ? "reduce-scatter their gradients and all-gather the updated parameters: "
                    : "all-reduce their gradients: ") +
            human_bytes(sent_of("dp", full.stage)) + " sent per rank and step.");
    else
        out.sentences.push_back(
            "DP=1: one replica sees the whole batch; more replicas would each hold a full copy "
            "and exchange gradients once per step.");
    if (w.tp > 1)
        out.sentences.push_back(
            "TP splits every weight matrix over " + std::to_string(w.tp) +
            " ranks (a rank holds 1/" + std::to_string(w.tp) +
            " of each), but the ranks all-reduce activations inside every layer: " +
            human_bytes(sent_of("tp", full.stage)) + " sent per rank and step.");
    else
        out.sentences.push_back("TP=1: every layer's matrices stay whole on one rank.");
    if (w.pp > 1) {
        std::string cut;
        for (const StageSplit& s : out.stages)
            cut +=
                (cut.empty() ? "" : "; ") + ("stage " + std::to_string(s.stage) + ": " + s.layers);
        out.sentences.push_back(
            "PP cuts the layers into " + std::to_string(w.pp) + " stages (" + cut +
            "); each of the " + std::to_string(w.micro_batches) +
            " micro-batches sends its activation forward and its gradient back: " +
            human_bytes(sent_of("pp", 0)) + " per step from stage 0.");
    } else {
        out.sentences.push_back("PP=1: every rank runs all layers.");
    }
    if (w.zero)
        out.sentences.push_back(
            "ZeRO-1 shards the optimizer state over the " + std::to_string(w.dp) +
            " replicas: " + human_bytes(full.memory.optimizer) + " per rank instead of " +
            human_bytes(full.memory.optimizer * w.dp) + ".");
    std::string mem = "The fullest rank (stage " + std::to_string(full.stage) + ") needs " +
                      human_bytes(full.memory.total);
    if (capacity_bytes > 0) {
        char pct[32];
        std::snprintf(pct, sizeof pct, "%.1f %%", 100 * full.memory.total / capacity_bytes);
        mem +=
            full.memory.fits
                ? ": " + std::string(pct) + " of the device's " + human_bytes(capacity_bytes) + "."
                : ", more than the device's " + human_bytes(capacity_bytes) + ": it does not fit.";
    } else {
        mem += ".";
    }
    out.sentences.push_back(mem);
    return out;
}

}  // namespace ss::core::teach

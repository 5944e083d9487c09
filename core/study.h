// Scaling studies: a sweep of one or more spec fields (`--vary dp=1,2,4`), repeated, recorded as
// one study of a trace file (traces/SCHEMA.md, `studies` and `study_runs`).
//
// Strong scaling keeps training.global_batch as the spec says. Weak scaling keeps the per-rank
// batch fixed: per-rank batch = global_batch / world of the spec as given, and each point trains
// global_batch = per-rank batch * its world (dp * tp * pp). No Qt here.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ss::core {

// The axis name of `--vary layout=1x1x1,1x2x1,...`: whole layouts, dp x tp x pp each.
inline constexpr const char* kLayoutAxis = "layout";

struct VaryAxis {
    std::string path;                 // spec field, e.g. "parallel.dp"
    std::string label;                // as the user wrote it, e.g. "dp"
    std::vector<std::string> values;  // as written, e.g. {"1", "2", "4"}
    bool operator==(const VaryAxis&) const = default;
};

// "dp=1,2,4" -> {parallel.dp, dp, [1,2,4]}. "layout=1x1x1,2x1x1,1x2x2" sweeps whole layouts
// (DPxTPxPP; each point sets parallel.dp, tp and pp; its value reads "dp=1,tp=2,pp=2"). Short names: dp, tp, pp, micro_batches, zero,
// schedule, bucket_mb (parallel.*), global_batch, steps, lr (training.*), blas_threads (backend.*);
// any other name must be a full field path of the spec. Values are separated by commas outside
// brackets, so arrays work: "model.hidden=[64,64],[128,128]". Throws std::invalid_argument naming
// the text for a missing '=', an empty value, a duplicate value, or an unknown field.
VaryAxis parse_vary(const std::string& text);

struct StudyPoint {
    nlohmann::json doc;                  // the spec document of this point (overrides applied)
    std::vector<std::string> overrides;  // "parallel.dp=2", ... (what was applied)
    std::string value;                   // the swept value(s): "2" or "dp=2,tp=2"
    int p = 1;                           // its world size dp * tp * pp
    int repeat = 0;                      // 0-based
    std::string name;                    // the run's name (spec name + the point)
};

struct StudyPlan {
    std::string variable;  // "parallel.dp" or "parallel.dp,parallel.tp"
    std::string scaling;   // "strong" | "weak"
    std::vector<StudyPoint> points;  // every combination (first axis slowest) x repeats
};

// Expands the axes (their cartesian product, in the order given) and the repeats. `base` is the
// spec document with --set overrides already applied. Each point's document is parsed and
// validated (validate(spec, -1, check_files)); every problem of every point is reported at once
// in the std::invalid_argument message, naming the point. Weak scaling refuses an axis on
// training.global_batch and a per-rank batch that does not divide evenly.
StudyPlan plan_study(const nlohmann::json& base, const std::vector<VaryAxis>& axes, int repeats,
                     bool weak, bool check_files = true);

}  // namespace ss::core

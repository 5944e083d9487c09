// One plain sentence saying what a scaling study shows, for a newcomer reading the end of
// `scalescope-cli scaling` (and the main job, scripts/run.sh): the best fitted speedup with its
// efficiency, which points were shown but not fitted and why, and what the fit of the study's law
// says. docs/ANALYSIS.md "In one sentence". Plain C++, no Qt.
#pragma once

#include <string>

#include "core/analysis/scaling.h"

namespace ss::core {

// What the reader of the sentence knows beyond the result: the cores of the machine the runs used
// (0 = unknown: the sentence then says "fewer cores than ranks" instead of a number).
struct StudyContext {
    int cores = 0;
};

// E.g. "On this 2-core machine the MLP ran 1.57x faster on 2 ranks (79 % efficiency); 4 ranks
// share 2 cores, so that point is shown but not fitted; Amdahl's law through the fitted points says
// 27 % of the step does not parallelise." Every number comes from `r` (points, fits, excluded_p).
std::string study_sentence(const ScalingResult& r, const StudyContext& ctx = {});

// "the MLP" for "mlp-default", "the GPT model (gpt-tiny)" for "gpt-tiny", "the model 'x'" else.
std::string model_phrase(const std::string& model);

}  // namespace ss::core

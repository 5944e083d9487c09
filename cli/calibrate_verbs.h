// `scalescope-cli calibrate --from-trace FILE [--run ID] [--out HW.json] [--hardware BASE.json]`:
// α-β fitted on the collectives a run recorded (core/sim/calibrate.h collective_samples_from_trace,
// fit_trace_collectives). The measuring `calibrate` is in cli/run_verbs.cpp, which dispatches here.
#pragma once

#include "cli/args.h"

namespace ss::cli {

int calibrate_from_trace(const Args& a);

}  // namespace ss::cli

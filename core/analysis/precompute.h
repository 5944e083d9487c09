// The one call that stores a run's analysis when it is written (merge, run, import), in a header
// of its own so that callers need none of the analysis types.
#pragma once

#include <string>
#include <vector>

#include "traces/types.h"

namespace ss::core {

// Computes the analysis of `run` in the trace file `path` with the default options and stores it
// in run_summaries (core/analysis/analysis_store.h), so that `stats` and the Summary page read it.
// A run without steps stores that fact. Throws TraceError when the file cannot be written and
// AnalysisError when the run cannot be analysed.
void precompute_run_analysis(const std::string& path, traces::RunId run);

// After a merge (launch_run, `scalescope-cli merge`): the run-level values rank 0 recorded as
// metrics into run_summaries (analysis_store.h store_run_level_metrics), then the analysis, which
// reads them (staleness, the slowed rank). Neither failure stops the other; each is returned as a
// warning naming what was not stored.
std::vector<std::string> store_merged_run(const std::string& path, traces::RunId run);

}  // namespace ss::core

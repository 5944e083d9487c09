// The analysis of a run stored in its trace file (table run_summaries, traces/SCHEMA.md), so that
// `stats` and the Summary page read one row instead of scanning every event.
//
// The row (run_id, key kAnalysisSummaryKey) holds the RunAnalysis of the default options (warm-up
// detected, peak from the run's metrics or the file's newest calibration) as JSON. It is written
// when a run is merged or imported (store_run_analysis) and, for a file written before, the first
// time the analysis is asked for (cached_analysis) when the file can be written. Other options
// compute from the events as before.
#pragma once

#include <optional>
#include <string>

#include "core/analysis/analysis.h"
#include "traces/reader.h"

namespace ss::core {

// The key of the stored analysis; the version changes whenever RunAnalysis or its computation does,
// so that an older row is recomputed rather than misread (v3: the parameter server and slow rank).
inline constexpr const char* kAnalysisSummaryKey = "analysis/v3";

// Whether the analysis with these options is the one stored (the default options).
bool is_stored_options(const AnalysisOptions& options);

// JSON text of an analysis (every field but `run`, which the file's runs row holds) together with
// the number of calibrations in the file it depended on. NaN and infinities round-trip.
std::string serialize_analysis(const RunAnalysis& a, std::int64_t calibrations = 0);
// The analysis back from serialize_analysis; `run` is set to the given info. Throws AnalysisError
// on a malformed document.
RunAnalysis deserialize_analysis(const std::string& json, const traces::RunInfo& run);

// A stored result: an analysis, or the NoStepsError the analysis threw (stored too, so that a run
// without steps does not scan its events every time).
struct StoredAnalysis {
    std::optional<RunAnalysis> analysis;
    std::string no_steps_error;  // non-empty: analyze_run threw NoStepsError with this message
};

// The stored row of `run` if present and still valid (same key version, same calibration count).
std::optional<StoredAnalysis> load_stored_analysis(traces::TraceReader& reader, traces::RunId run);

// Computes the analysis of `run` with the default options and stores it in the file `path`
// (migrating an older schema in place). Returns what was stored. Throws TraceError when the file
// cannot be written; AnalysisError other than NoStepsError propagates (nothing is stored).
StoredAnalysis store_run_analysis(const std::string& path, traces::RunId run);

// Other facts of a run kept beside its analysis in run_summaries (e.g. "slurm/job_id"): writes one
// (key, value) row into the file `path` (migrating an older schema first; replaces a row of that
// key). TraceReader::run_summaries reads them back. Throws TraceError when the file cannot be written.
void write_run_summary(const std::string& path, traces::RunId run, const std::string& key, const std::string& value);

// The run-level values the worker records as rank 0's metrics (models/LAYOUT.md, "Parameter server",
// "The straggler knob": ps_servers, ps_staleness_max, ps_staleness_mean, slow_rank, slow_factor),
// stored in run_summaries under the same keys (the value as text), so that readers of the run find
// them without scanning metrics. Called after every merge (launch_run, `scalescope-cli merge`),
// before the stored analysis, which reads them. Throws TraceError when the file cannot be written.
void store_run_level_metrics(const std::string& path, traces::RunId run);

// analyze_run, reading the stored analysis when `options` are the defaults and one is stored;
// otherwise computing it, and, with the defaults, storing it when the file can be written (a
// read-only file is left untouched). Throws as analyze_run does (NoStepsError included).
RunAnalysis cached_analysis(traces::TraceReader& reader, traces::RunId run,
                            const AnalysisOptions& options = {});

}  // namespace ss::core

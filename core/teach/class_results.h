// Workshop mode (issue 19): a study told in plain words (for the one-page report and the class
// table), and a folder of participants' study files turned into one result per study, each with
// the core scaling fit (core/analysis/scaling.h analyze_study: nothing is refitted here). Files
// that cannot be used are listed with the reason; they never stop the others. No Qt.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/analysis/scaling.h"
#include "traces/reader.h"
#include "traces/types.h"

namespace ss::core {

// What one study ran and how it scaled, as the report and the class table show it.
struct StudySummary {
    std::string file;  // the trace file's path
    traces::StudyInfo study;
    std::string host;  // the hosts its runs ran on (runs.hosts, else ranks.host), "+"-joined
    // Rank 0's device in its largest run ("cpu (OpenBLAS, 1 thread)", "cuda:0 (…)").
    std::string device;
    std::string model;  // the runs' model ("gpt-tiny"); several: ", "-joined
    // One line: "gpt-tiny, strong scaling of parallel.dp over p = 1, 2, 4; 2 repeats; 12 steps a run".
    std::string what;
    std::string date;   // the first run's start, "2026-12-01 08:20 UTC" (empty when not recorded)
    ScalingResult scaling;    // analyze_study's result, unchanged
    std::int32_t points = 0;  // distinct p measured
    std::int32_t max_p = 1;
    double speedup_at_max = 0;  // at max_p (the mean over its repeats, as ScalingPoint)
    double efficiency_at_max = 0;
    std::int32_t oversubscribed_points = 0;  // points with a run that had more ranks than cores
    std::vector<std::int32_t> oversubscribed_p;
    double serial_fraction = 0;  // Amdahl's fitted f (NaN: no fit)
    double r2 = 0;               // of that fit (NaN when S is constant or there is no fit)
    std::string fit_quality;  // "good (R² 0.98)", "poor (R² 0.41)", "exact: 1 point with p > 1 …",
                              // "no fit: …"
    std::vector<std::string> law_sentences;  // one plain sentence per law of the study's kind
                                             // (strong: Amdahl, USL; weak: Gustafson, USL)
    std::string conclusion;  // one sentence: what the study shows
};

// Throws AnalysisError (no such study, no p = 1 point, …) or TraceError (reader) as analyze_study.
StudySummary summarize_study(traces::TraceReader& reader, traces::StudyId study,
                             const ScalingOptions& options = {});

// One plain sentence about a fitted law ("Amdahl's law fits a serial fraction f = 0.12: …").
std::string law_sentence(const LawFit& fit);
// How much to trust the Amdahl fit, in words (StudySummary::fit_quality).
std::string fit_quality_text(const LawFit& fit, double poor_fit_r2);
// The one-sentence conclusion of a summary whose other fields are filled.
std::string conclusion_sentence(const StudySummary& s);

// ---- Class results: a folder of study files ----
struct ClassEntry {
    std::string file_name;  // the file's name in the folder ("anna.sqlite")
    std::string label;      // the chart's and the table's name: the host; "host (file)" when two
                            // entries share a host; " · study N" added when a file has several
    StudySummary summary;
};

struct ClassBadFile {
    std::string file;  // path
    std::string file_name;
    std::string reason;  // the reader's or the analysis' message, or "no scaling study …"
};

struct ClassResults {
    std::string folder;
    std::vector<ClassEntry> entries;  // by file name, then study id
    std::vector<ClassBadFile> bad;    // by file name
};

struct ClassOptions {
    ScalingOptions scaling;                // passed to analyze_study for every study
    std::function<bool()> cancelled = {};  // polled between files: true stops with ClassCancelled
    std::function<void(int done, int total)> progress = {};
};

struct ClassCancelled {};

// The folder's study files: every regular file named *.sqlite (not recursive), sorted by name.
// Throws std::runtime_error when the folder does not exist or cannot be listed.
std::vector<std::string> class_files(const std::string& folder);

// Reads every study of every file of class_files(folder). A file that is not a trace, has no
// study, or whose study cannot be analysed goes to `bad` with the reason (a file with a good and a
// bad study gives one entry and one bad row naming the study).
ClassResults class_results(const std::string& folder, const ClassOptions& options = {});

}  // namespace ss::core

// Chrome Trace Event JSON export (opens in Perfetto's UI and chrome://tracing).
// https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>

#include "traces/reader.h"

namespace ss::traces {

struct ChromeExportOptions {
    std::optional<RunId> run;  // unset: every run of the file
};

struct ChromeExportResult {
    std::int64_t events = 0;  // complete ("X") events written
    std::int64_t flows = 0;   // flow arrows (one per linked pair)
    std::int64_t base_ns = 0; // the time that ts=0 stands for
};

// Writes {"traceEvents":[...]}:
//  - one complete event ("ph":"X") per event; "ts"/"dur" in microseconds with three decimals,
//    counted from the earliest exported event so nanoseconds survive the conversion;
//  - pid = run id * 100000 + rank, tid = lane; process_name / thread_name / sort-index metadata;
//  - flow arrows ("ph":"s" -> "ph":"f", "bp":"e") from the first-starting rank of every collective
//    to each other rank taking part (matched by group kind, group id, collective and sequence),
//    and from each send to its recv (matched by sender, receiver and per-channel sequence).
ChromeExportResult export_chrome(TraceReader& reader, std::ostream& out,
                                 const ChromeExportOptions& options = {});

}  // namespace ss::traces

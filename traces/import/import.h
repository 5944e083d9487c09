// Importing traces written by other tools (issue 15): PyTorch profiler / Kineto Chrome-format JSON
// (.json, .json.gz; traces/import/kineto.h) and Nsight Systems SQLite exports
// (`nsys export --type sqlite`; traces/import/nsys.h). One run from one file, or from one file
// per rank, appended to a ScaleScope trace file like a recorded run, with its source (tool,
// version, file) in the run record. Every analysis, the timeline, compare and export then work on
// it. traces/SCHEMA.md, "Imported runs", documents how each source field maps.
//
//   import_traces({"rank0.json.gz", "rank1.json.gz"}, "out.sqlite", options);
//
// Failure (a truncated gzip or JSON, a JSON that is not a trace, an nsys file of an unknown
// schema, another program's SQLite, a cancel): ImportError naming the file and the problem, and
// nothing is left in OUT (no partial run).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "traces/types.h"

namespace ss::traces {
class TraceWriter;
}

namespace ss::traces::import {

class ImportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown by a reader that wrote events while it read (ReaderContext::streaming) and found at the
// end of the file that what it had to assume then was wrong (e.g. a time base that only the end
// of the file gives): import_traces reads every file again with streaming off.
class RestartWithoutStreaming : public ImportError {
public:
    using ImportError::ImportError;
};

enum class Format { Auto, Kineto, Nsys };
Format parse_format(const std::string& s);  // "auto" | "kineto" | "nsys"; throws ImportError
const char* to_string(Format f);
// The format of a file from its first bytes (gzip or '{' -> Kineto; SQLite with nsys's tables ->
// Nsys); throws ImportError naming the file when it is neither.
Format detect_format(const std::string& path);

struct ImportOptions {
    Format format = Format::Auto;
    std::string name;  // run name; empty: from the first file's name
    // Called now and then with the bytes read of all files and their total; return false to
    // cancel (ImportError "cancelled", nothing left in OUT). May be empty.
    std::function<bool(std::int64_t done, std::int64_t total)> progress;
};

struct ImportResult {
    RunId run;
    std::int64_t events = 0;
    std::int32_t ranks = 0;
    std::vector<std::string> skipped;  // what was not understood, one line each ("12 events of
                                       // category 'python_function' not imported", ...)
};

ImportResult import_traces(const std::vector<std::string>& files, const std::string& out,
                           const ImportOptions& options);

// ---- what a format reader gets (one call per source file) ----

// Where a reader puts what it reads. The writer belongs to a scratch file of this import; the
// run exists already. The reader puts its rank(s) (put_rank), names its lanes, adds events with
// times in ns on one clock per file (the reader's choice: the tool's own clock), and may add
// metrics and stats. `rank_hint` is the rank to use when the file does not say (the file's index
// in the command line); a file that does say (Kineto distributedInfo.rank) uses its own.
struct ReaderContext {
    TraceWriter* writer = nullptr;
    RunId run;
    int rank_hint = 0;
    std::string file;
    // true: the reader may hand events to the writer while it reads (on a thread of its own that
    // owns the writer until the reader returns), throwing RestartWithoutStreaming when that
    // turns out wrong; false: events are written only once the whole file is read.
    bool streaming = false;
    // Bytes of this file read so far (the reader calls it now and then); returns false when the
    // user cancelled: the reader throws ImportError("cancelled") then.
    std::function<bool(std::int64_t bytes_read)> progress;
    // Filled by the reader.
    std::vector<std::int32_t> ranks;   // the ranks it wrote
    std::vector<std::string> skipped;  // what it did not understand
    std::string tool, version;         // e.g. "PyTorch profiler (Kineto)", "Nsight Systems 2022.2"
    std::int64_t events = 0;
};

}  // namespace ss::traces::import

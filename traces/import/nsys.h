// The Nsight Systems SQLite reader (`nsys export --type sqlite`): one source file into the run of
// a ReaderContext (traces/import/import.h). Written by the "nsys" part of issue 15; this header is
// the interface import_traces calls. The per-table mapping is documented in nsys.cpp's header
// comment and traces/SCHEMA.md, "Imported runs".
#pragma once

#include "traces/import/import.h"

namespace ss::traces::import {
// Reads ctx.file into ctx.writer / ctx.run; one rank per process (globalPid); fills ctx.ranks,
// ctx.skipped, ctx.tool, ctx.version, ctx.events. Throws ImportError naming the file and the problem.
void read_nsys(ReaderContext& ctx);
}  // namespace ss::traces::import

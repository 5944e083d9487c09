// The PyTorch profiler (Kineto) Chrome-format JSON reader (.json, .json.gz): one source file into
// the run of a ReaderContext (traces/import/import.h). Written by the "kineto" part of issue 15;
// this header is the interface import_traces calls. The per-field mapping is documented in
// kineto.cpp's header comment and traces/SCHEMA.md, "Imported runs".
#pragma once

#include "traces/import/import.h"

namespace ss::traces::import {
// Reads ctx.file into ctx.writer / ctx.run; fills ctx.ranks, ctx.skipped, ctx.tool, ctx.version,
// ctx.events. Throws ImportError naming the file and the problem.
void read_kineto(ReaderContext& ctx);
}  // namespace ss::traces::import

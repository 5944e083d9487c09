// import_traces with the format readers given by the caller: what import_traces runs with the real
// readers (traces/import/kineto.h, nsys.h), and what the tests of the import machinery (scratch
// file, rank assembly, the atomic append, cleanup, cancel) run with readers of their own.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "traces/import/import.h"

namespace ss::traces::import {

using ReaderFn = std::function<void(ReaderContext&)>;

struct Readers {
    ReaderFn kineto;  // empty: this build has no Kineto reader (ImportError says so)
    ReaderFn nsys;
};

// The readers this build has (SCALESCOPE_IMPORT_KINETO / SCALESCOPE_IMPORT_NSYS).
Readers builtin_readers();

ImportResult import_traces_with(const std::vector<std::string>& files, const std::string& out,
                                const ImportOptions& options, const Readers& readers);

}  // namespace ss::traces::import

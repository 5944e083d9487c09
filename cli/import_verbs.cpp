// scalescope-cli import: traces of other tools (PyTorch profiler / Kineto JSON, Nsight Systems
// SQLite) as one run appended to a trace file (traces/import/import.h).
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "cli/args.h"
#include "cli/verbs.h"
#include "traces/import/import.h"
#include "traces/reader.h"

namespace ss::cli {

using namespace ss::traces;

namespace {
constexpr const char* kImportHelp =
    R"(usage: scalescope-cli import FILE... -o OUT.sqlite [--format kineto|nsys|auto] [--name N]

Imports traces written by other tools as one run appended to OUT (created when missing), with
the source (tool, version, files) in the run record. Every analysis, the timeline, compare and
export then work on it.

  FILE...        PyTorch profiler (Kineto) Chrome JSON traces (.json, .json.gz), one per rank,
                 or Nsight Systems SQLite exports (nsys export --type sqlite; one rank per
                 process). A file's rank is the one it states (Kineto distributedInfo.rank),
                 else its position among the files.
  -o, --output   the trace file to append the run to
  --format       kineto, nsys or auto (default: from the files' first bytes)
  --name         the run's name (default: the first file's name)

Prints the run id, ranks, events, source and what was not imported. A bad input (truncated
gzip or JSON, a JSON that is not a trace, an unknown SQLite, a ScaleScope trace) exits 1 with
the file and the problem, and leaves OUT as it was.
)";
}  // namespace

int verb_import(const Argv& argv) {
    Args a(argv, {"-o", "--output", "--format", "--name"}, {"--help", "-h"});
    if (a.flag("--help") || a.flag("-h")) {
        std::cout << kImportHelp;
        return 0;
    }
    auto out = a.value("-o") ? a.value("-o") : a.value("--output");
    if (!out) throw UsageError("import needs an output file: -o OUT.sqlite");
    if (a.positional().empty()) throw UsageError("import needs at least one trace file");
    import::ImportOptions opt;
    try {
        opt.format = import::parse_format(a.value_or("--format", "auto"));
    } catch (const import::ImportError& e) {
        throw UsageError(e.what());
    }
    opt.name = a.value_or("--name", "");
    // A progress line on a terminal, at most a few times a second.
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    auto last = std::chrono::steady_clock::now();
    bool shown = false;
    if (tty)
        opt.progress = [&](std::int64_t done, std::int64_t total) {
            const auto now = std::chrono::steady_clock::now();
            if (now - last > std::chrono::milliseconds(250) && total > 0) {
                last = now;
                shown = true;
                std::cerr << "\rimporting: " << (100 * done / total) << "% of " << (total >> 20)
                          << " MiB" << std::flush;
            }
            return true;
        };
    import::ImportResult res;
    try {
        res = import::import_traces(a.positional(), *out, opt);
    } catch (...) {
        if (shown) std::cerr << "\n";
        throw;
    }
    if (shown) std::cerr << "\r" << std::string(40, ' ') << "\r";
    const RunInfo run = TraceReader(*out).run(res.run);
    std::string files = run.source_file;
    for (auto& c : files)
        if (c == '\n') c = ' ';
    std::cout << "imported run " << res.run.value << " into " << *out << "\n"
              << "  source:  " << run.source_tool
              << (run.source_version.empty() ? "" : " " + run.source_version) << ": " << files
              << "\n"
              << "  ranks:   " << res.ranks << "\n"
              << "  events:  " << res.events << "\n";
    for (const auto& s : res.skipped) std::cout << "  skipped: " << s << "\n";
    if (res.skipped.empty()) std::cout << "  skipped: nothing\n";
    return 0;
}

namespace {
const VerbRegistration kImport{"import",
                               "import FILE... -o OUT.sqlite [--format kineto|nsys|auto] [--name "
                               "N]   Kineto JSON / Nsight SQLite -> a run",
                               verb_import};
}  // namespace

}  // namespace ss::cli

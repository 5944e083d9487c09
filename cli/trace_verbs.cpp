// Verbs over trace files: info, merge, export (stats is in analysis_verbs.cpp).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/args.h"
#include "cli/format.h"
#include "cli/verbs.h"
#include "core/analysis/precompute.h"
#include "traces/export_chrome.h"
#include "traces/merge.h"
#include "traces/reader.h"

namespace ss::cli {

using namespace ss::traces;

namespace {
// "Nsight Systems 2022.4.2: /data/report.sqlite" for an imported run; empty for our own runs.
std::string source_text(const RunInfo& r) {
    if (!r.imported()) return {};
    std::string files = r.source_file;
    for (auto& c : files)
        if (c == '\n') c = ' ';
    return r.source_tool + (r.source_version.empty() ? "" : " " + r.source_version) +
           (files.empty() ? "" : ": " + files);
}
}  // namespace

int verb_info(const Argv& argv) {
    Args a(argv, {"--format"});
    const Format fmt = parse_format(a.value_or("--format", "table"));
    TraceReader rd(a.single_file("info"));

    Table file{"file", {"path", "schema_version", "runs", "studies"}, {}};
    auto runs = rd.runs();
    auto studies = rd.studies();
    file.rows.push_back({rd.path(), std::int64_t{rd.schema_version()},
                         static_cast<std::int64_t>(runs.size()),
                         static_cast<std::int64_t>(studies.size())});

    Table rt{"runs",
             {"run", "name", "model", "backend", "world", "layout", "micro_batches", "schedule",
              "status", "events", "duration_ms", "oversubscribed", "failure_reason", "source"},
             {}};
    Table kt{"ranks",
             {"run", "rank", "host", "pid", "device", "dp", "tp", "pp", "clock_offset_ns",
              "clock_rtt_ns", "lanes", "events"},
             {}};
    for (const auto& r : runs) {
        rt.rows.push_back({r.id.value, r.name, r.model, r.backend, std::int64_t{r.world_size},
                           layout_text(r.dp, r.tp, r.pp), std::int64_t{r.micro_batches}, r.schedule,
                           std::string(to_string(r.status)), r.event_count,
                           static_cast<double>(r.end_ns - r.start_ns) / 1e6,
                           std::string(r.oversubscribed ? "yes" : "no"), r.failure_reason,
                           source_text(r)});
        auto lanes = rd.lanes(r.id);
        for (const auto& k : rd.ranks(r.id)) {
            std::int64_t nl = 0, ne = 0;
            for (const auto& l : lanes)
                if (l.rank == k.rank) {
                    ++nl;
                    ne += l.event_count;
                }
            kt.rows.push_back({r.id.value, std::int64_t{k.rank}, k.host, k.pid, k.device,
                               std::int64_t{k.dp_coord}, std::int64_t{k.tp_coord},
                               std::int64_t{k.pp_coord}, k.clock_offset_ns, k.clock_rtt_ns, nl, ne});
        }
    }
    Table st{"studies", {"study", "name", "variable", "scaling", "runs"}, {}};
    for (const auto& s : studies)
        st.rows.push_back({s.id.value, s.name, s.variable, s.scaling,
                           static_cast<std::int64_t>(rd.study_runs(s.id).size())});
    print_tables({file, rt, kt, st}, fmt, std::cout);
    return 0;
}

int verb_merge(const Argv& argv) {
    Args a(argv, {"-o", "--output", "--world"});
    auto out = a.value("-o") ? a.value("-o") : a.value("--output");
    if (!out) throw UsageError("merge needs an output file: -o FILE");
    if (a.positional().empty()) throw UsageError("merge needs at least one rank file");
    MergeOptions opt;
    if (auto w = a.integer("--world")) opt.expected_world_size = static_cast<int>(*w);
    MergeResult res = merge_rank_files(a.positional(), *out, opt);
    // As launch_run does: the run-level summaries, then the analysis that reads them.
    const std::vector<std::string> stored = core::store_merged_run(*out, res.run);
    res.warnings.insert(res.warnings.end(), stored.begin(), stored.end());
    for (const auto& w : res.warnings) std::cerr << "warning: " << w << "\n";
    std::cout << "merged " << res.ranks << " rank file(s), " << res.events << " events into run "
              << res.run.value << " of " << *out << " (status " << to_string(res.status)
              << (res.failure_reason.empty() ? "" : ": " + res.failure_reason) << ")\n";
    return 0;
}

int verb_export(const Argv& argv) {
    Args a(argv, {"--format", "-o", "--output", "--run"});
    const std::string fmt = a.value_or("--format", "chrome");
    if (fmt != "chrome")
        throw UsageError("export --format supports 'chrome' (Chrome Trace Event JSON, opens in "
                         "Perfetto); got '" + fmt + "'");
    auto out = a.value("-o") ? a.value("-o") : a.value("--output");
    if (!out) throw UsageError("export needs an output file: -o OUT.json");
    TraceReader rd(a.single_file("export"));
    ChromeExportOptions opt;
    if (auto id = a.integer("--run")) opt.run = rd.run(RunId(*id)).id;
    std::ofstream f(*out, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write '" + *out + "': " + std::strerror(errno));
    auto res = export_chrome(rd, f, opt);
    f.close();
    if (!f) throw std::runtime_error("writing '" + *out + "' failed: " + std::strerror(errno));
    std::cout << "exported " << res.events << " events and " << res.flows << " flow arrows to "
              << *out << " (ts 0 = " << res.base_ns << " ns)\n";
    return 0;
}

namespace {
const VerbRegistration kInfo{"info", "info FILE [--format table|csv|json]   runs, ranks, event counts, schema", verb_info};
const VerbRegistration kMerge{"merge", "merge RANKFILE... -o FILE [--world N]   per-rank traces -> one run", verb_merge};
const VerbRegistration kExport{"export", "export FILE --format chrome -o OUT.json [--run ID]   Perfetto/Chrome JSON", verb_export};
}  // namespace

}  // namespace ss::cli

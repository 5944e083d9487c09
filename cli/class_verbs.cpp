// Workshop verbs (issue 19): class-results (a folder of participants' study files: whose machine
// scaled how, core/teach/class_results.h).
#include <cmath>
#include <iostream>

#include "cli/args.h"
#include "cli/format.h"
#include "cli/verbs.h"
#include "core/teach/class_results.h"

namespace ss::cli {
namespace {

using namespace ss::core;

Cell num(double v) {
    return std::isfinite(v) ? Cell(v) : Cell();
}
Cell str(const std::string& s) {
    return Cell(s);
}

std::string p_list(const std::vector<std::int32_t>& ps) {
    std::string s;
    for (size_t i = 0; i < ps.size(); ++i) s += (i ? ", " : "") + std::to_string(ps[i]);
    return s;
}

int verb_class_results(const Argv& argv) {
    Args a(argv, {"--format", "--bootstrap", "--warmup"});
    const Format fmt = parse_format(a.value_or("--format", "table"));
    if (a.positional().size() != 1)
        throw UsageError("class-results needs one folder of study files");
    ClassOptions opt;
    if (auto b = a.integer("--bootstrap")) {
        if (*b < 0 || *b > 1000000)
            throw UsageError("option --bootstrap needs 0..1000000 resamples");
        opt.scaling.bootstrap = static_cast<int>(*b);
    }
    if (auto w = a.integer("--warmup")) {
        if (*w < 0) throw UsageError("option --warmup needs a number of steps >= 0");
        opt.scaling.warmup_steps = static_cast<int>(*w);
    }
    const ClassResults r = class_results(a.positional().front(), opt);

    Table machines{"machines",
                   {"label", "host", "file", "study", "device", "points", "max_p",
                    "speedup_at_max_p", "efficiency_at_max_p", "serial_fraction_f", "r2",
                    "fit_quality", "oversubscribed_points", "oversubscribed_p"},
                   {}};
    Table conclusions{"conclusions", {"label", "conclusion"}, {}};
    for (const ClassEntry& e : r.entries) {
        const StudySummary& s = e.summary;
        machines.rows.push_back(
            {str(e.label), str(s.host), str(e.file_name), Cell(std::int64_t(s.study.id.value)),
             str(s.device), Cell(std::int64_t(s.points)), Cell(std::int64_t(s.max_p)),
             num(s.speedup_at_max), num(s.efficiency_at_max), num(s.serial_fraction), num(s.r2),
             str(s.fit_quality), Cell(std::int64_t(s.oversubscribed_points)),
             str(p_list(s.oversubscribed_p))});
        conclusions.rows.push_back({str(e.label), str(s.conclusion)});
    }
    Table bad{"bad_files", {"file", "reason"}, {}};
    for (const ClassBadFile& b : r.bad) bad.rows.push_back({str(b.file_name), str(b.reason)});
    print_tables({machines, conclusions, bad}, fmt, std::cout);
    return 0;
}

const VerbRegistration reg{
    "class-results",
    "class-results DIR [--format table|csv|json] [--bootstrap N] [--warmup N]   a folder of "
    "participants' study "
    "files: whose machine scaled how (host, speedup, Amdahl f), unreadable files with the reason",
    verb_class_results};

}  // namespace
}  // namespace ss::cli

// scalescope-cli: the application's capabilities without a window.
#include <cstring>
#include <functional>
#include <iostream>
#include <map>

#include "cli/args.h"
#include "cli/verbs.h"

namespace {
struct Verb {
    std::function<int(const ss::cli::Argv&)> run;
    const char* usage;
};

const std::map<std::string, Verb>& verbs() {
    using namespace ss::cli;
    static const std::map<std::string, Verb> v{
        {"info", {verb_info, "info FILE [--format table|csv|json]   runs, ranks, event counts, schema"}},
        {"stats", {verb_stats, "stats FILE [--run ID] [--format table|csv|json]   stored aggregates and drop counters"}},
        {"merge", {verb_merge, "merge RANKFILE... -o FILE [--world N]   per-rank traces -> one run"}},
        {"export", {verb_export, "export FILE --format chrome -o OUT.json [--run ID]   Perfetto/Chrome JSON"}},
    };
    return v;
}

void usage(std::ostream& o) {
    o << "usage: scalescope-cli VERB [ARGS]\n\nverbs:\n";
    for (const auto& [name, v] : verbs()) o << "  " << v.usage << "\n";
    o << "\nexit codes: 0 success, 1 failure, 2 bad usage\n";
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        usage(argc < 2 ? std::cerr : std::cout);
        return argc < 2 ? 2 : 0;
    }
    auto it = verbs().find(argv[1]);
    if (it == verbs().end()) {
        std::cerr << "scalescope-cli: unknown verb '" << argv[1] << "'\n";
        usage(std::cerr);
        return 2;
    }
    ss::cli::Argv args(argv + 2, argv + argc);
    try {
        return it->second.run(args);
    } catch (const ss::cli::UsageError& e) {
        std::cerr << "scalescope-cli " << it->first << ": " << e.what() << "\nusage: scalescope-cli "
                  << it->second.usage << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "scalescope-cli " << it->first << ": " << e.what() << "\n";
        return 1;
    }
}

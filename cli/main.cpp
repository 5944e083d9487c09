// scalescope-cli: the application's capabilities without a window. Verbs register themselves
// (cli/verbs.h); this file only dispatches.
#include <cstring>
#include <iostream>

#include "cli/args.h"
#include "cli/verbs.h"

namespace ss::cli {
std::map<std::string, Verb>& verbs() {
    static std::map<std::string, Verb> v;
    return v;
}
}  // namespace ss::cli

namespace {
void usage(std::ostream& o) {
    o << "usage: scalescope-cli VERB [ARGS]\n\nverbs:\n";
    for (const auto& [name, v] : ss::cli::verbs()) o << "  " << v.usage << "\n";
    o << "\nexit codes: 0 success, 1 failure, 2 bad usage\n";
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        usage(argc < 2 ? std::cerr : std::cout);
        return argc < 2 ? 2 : 0;
    }
    auto it = ss::cli::verbs().find(argv[1]);
    if (it == ss::cli::verbs().end()) {
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

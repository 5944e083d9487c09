// scalescope-cli verbs. Each verb lives in its own file and registers itself:
//
//   static const ss::cli::VerbRegistration reg{"info", "info FILE [--format ...]   what it does",
//                                              verb_info};
//
// A verb takes the arguments after its name and returns the exit code: 0 success, 1 failure
// (it throws; main prints the message on stderr), 2 bad usage (it throws UsageError).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ss::cli {

using Argv = std::vector<std::string>;
using VerbFn = std::function<int(const Argv&)>;

struct Verb {
    std::string usage;
    VerbFn run;
};

// All registered verbs by name.
std::map<std::string, Verb>& verbs();

struct VerbRegistration {
    VerbRegistration(const std::string& name, const std::string& usage, VerbFn fn) {
        verbs()[name] = Verb{usage, std::move(fn)};
    }
};

}  // namespace ss::cli

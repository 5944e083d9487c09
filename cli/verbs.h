// scalescope-cli verbs. Each takes the arguments after the verb name and returns the exit code:
// 0 success, 1 failure (message on stderr), 2 bad usage (throws UsageError).
#pragma once

#include <string>
#include <vector>

namespace ss::cli {

using Argv = std::vector<std::string>;

int verb_info(const Argv& args);
int verb_stats(const Argv& args);
int verb_merge(const Argv& args);
int verb_export(const Argv& args);

}  // namespace ss::cli

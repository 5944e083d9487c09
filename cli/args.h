// A small argument parser for scalescope-cli verbs: positionals, --flag, --key value, --key=value.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ss::cli {

// Bad usage: exit code 2 with the message and the verb's usage line.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Args {
public:
    // `with_value`: options that take a value (e.g. "--format", "-o"); `flags`: options without.
    // Repeatable options keep every value. Unknown options are a UsageError.
    Args(const std::vector<std::string>& argv, const std::set<std::string>& with_value,
         const std::set<std::string>& flags = {});

    const std::vector<std::string>& positional() const { return positional_; }
    std::optional<std::string> value(const std::string& key) const;
    std::vector<std::string> values(const std::string& key) const;
    std::string value_or(const std::string& key, const std::string& fallback) const {
        return value(key).value_or(fallback);
    }
    bool flag(const std::string& key) const { return flags_.count(key) > 0; }
    // An integer option; a non-integer is a UsageError naming the option.
    std::optional<long long> integer(const std::string& key) const;
    // A number option no smaller than `min` (greater than it when `exclusive`); nullopt when the
    // option is absent. Anything else is a UsageError "option KEY needs WHAT (got 'TEXT')".
    std::optional<double> number(const std::string& key, double min, bool exclusive,
                                 const std::string& what) const;
    // The same check for one value of a repeatable option.
    static double parse_number(const std::string& key, const std::string& text, double min,
                               bool exclusive, const std::string& what);
    // The verb's single file argument; any other count is a UsageError.
    std::string single_file(const std::string& verb, const std::string& what = "trace file") const;

private:
    std::vector<std::string> positional_;
    std::map<std::string, std::vector<std::string>> values_;
    std::set<std::string> flags_;
};

}  // namespace ss::cli

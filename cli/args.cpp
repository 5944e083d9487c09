#include "cli/args.h"

#include <cmath>

namespace ss::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& with_value,
           const std::set<std::string>& flags) {
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() < 2 || a[0] != '-') {
            positional_.push_back(a);
            continue;
        }
        std::string key = a, val;
        bool inline_value = false;
        if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
            key = a.substr(0, eq);
            val = a.substr(eq + 1);
            inline_value = true;
        }
        if (with_value.count(key)) {
            if (!inline_value) {
                if (i + 1 >= argv.size()) throw UsageError("option " + key + " needs a value");
                val = argv[++i];
            }
            values_[key].push_back(val);
        } else if (flags.count(key) && !inline_value) {
            flags_.insert(key);
        } else {
            throw UsageError("unknown option '" + a + "'");
        }
    }
}

std::optional<std::string> Args::value(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::vector<std::string> Args::values(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::optional<long long> Args::integer(const std::string& key) const {
    auto v = value(key);
    if (!v) return std::nullopt;
    try {
        size_t pos = 0;
        long long n = std::stoll(*v, &pos);
        if (pos != v->size()) throw std::invalid_argument("trailing");
        return n;
    } catch (const std::exception&) {
        throw UsageError("option " + key + " needs an integer (got '" + *v + "')");
    }
}

double Args::parse_number(const std::string& key, const std::string& text, double min,
                          bool exclusive, const std::string& what) {
    try {
        size_t pos = 0;
        const double d = std::stod(text, &pos);
        const bool in_range = exclusive ? d > min : d >= min;
        if (pos != text.size() || !std::isfinite(d) || !in_range) throw std::invalid_argument(text);
        return d;
    } catch (const std::exception&) {
        throw UsageError("option " + key + " needs " + what + " (got '" + text + "')");
    }
}

std::optional<double> Args::number(const std::string& key, double min, bool exclusive,
                                   const std::string& what) const {
    auto v = value(key);
    if (!v) return std::nullopt;
    return parse_number(key, *v, min, exclusive, what);
}

std::string Args::single_file(const std::string& verb, const std::string& what) const {
    if (positional_.size() != 1)
        throw UsageError(verb + " takes exactly one " + what + " (got " +
                         std::to_string(positional_.size()) + ")");
    return positional_[0];
}

}  // namespace ss::cli

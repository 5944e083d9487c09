#include "cli/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/args.h"

namespace ss::cli {

Format parse_format(std::string_view s) {
    if (s == "table") return Format::Table;
    if (s == "csv") return Format::Csv;
    if (s == "json") return Format::Json;
    throw UsageError("--format must be table, csv or json (got '" + std::string(s) + "')");
}

namespace {
std::string text_of(const Cell& c) {
    if (std::holds_alternative<std::int64_t>(c)) return std::to_string(std::get<std::int64_t>(c));
    if (std::holds_alternative<double>(c)) {
        double v = std::get<double>(c);
        char buf[64];
        if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
            std::snprintf(buf, sizeof buf, "%.0f", v);
        else
            std::snprintf(buf, sizeof buf, "%.6g", v);
        return buf;
    }
    if (std::holds_alternative<std::string>(c)) return std::get<std::string>(c);
    return "";
}
bool is_number(const Cell& c) {
    return std::holds_alternative<std::int64_t>(c) || std::holds_alternative<double>(c);
}
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s) {
        if (c == '"') o += '"';
        o += c;
    }
    return o + "\"";
}
nlohmann::json json_of(const Cell& c) {
    if (std::holds_alternative<std::int64_t>(c)) return std::get<std::int64_t>(c);
    if (std::holds_alternative<double>(c)) {
        double v = std::get<double>(c);
        return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
    }
    if (std::holds_alternative<std::string>(c)) return std::get<std::string>(c);
    return nullptr;
}
}  // namespace

void print_tables(const std::vector<Table>& tables, Format format, std::ostream& out) {
    if (format == Format::Json) {
        nlohmann::ordered_json root = nlohmann::ordered_json::object();
        for (const auto& t : tables) {
            auto arr = nlohmann::ordered_json::array();
            for (const auto& row : t.rows) {
                nlohmann::ordered_json obj = nlohmann::ordered_json::object();
                for (size_t i = 0; i < t.columns.size() && i < row.size(); ++i)
                    obj[t.columns[i]] = json_of(row[i]);
                arr.push_back(std::move(obj));
            }
            root[t.title] = std::move(arr);
        }
        out << root.dump(2) << "\n";
        return;
    }
    bool first = true;
    for (const auto& t : tables) {
        if (!first) out << "\n";
        first = false;
        if (format == Format::Csv) {
            for (size_t i = 0; i < t.columns.size(); ++i)
                out << (i ? "," : "") << csv_field(t.columns[i]);
            out << "\n";
            for (const auto& row : t.rows) {
                for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_field(text_of(row[i]));
                out << "\n";
            }
            continue;
        }
        if (!t.title.empty()) out << t.title << "\n";
        std::vector<size_t> width(t.columns.size());
        for (size_t i = 0; i < t.columns.size(); ++i) width[i] = t.columns[i].size();
        for (const auto& row : t.rows)
            for (size_t i = 0; i < row.size() && i < width.size(); ++i)
                width[i] = std::max(width[i], text_of(row[i]).size());
        auto pad = [&](const std::string& s, size_t w, bool right) {
            std::string fill(w > s.size() ? w - s.size() : 0, ' ');
            return right ? fill + s : s + fill;
        };
        for (size_t i = 0; i < t.columns.size(); ++i)
            out << (i ? "  " : "") << pad(t.columns[i], width[i], false);
        out << "\n";
        for (size_t i = 0; i < t.columns.size(); ++i)
            out << (i ? "  " : "") << std::string(width[i], '-');
        out << "\n";
        for (const auto& row : t.rows) {
            for (size_t i = 0; i < row.size() && i < width.size(); ++i)
                out << (i ? "  " : "") << pad(text_of(row[i]), width[i], is_number(row[i]));
            out << "\n";
        }
    }
}

std::string format_ns(std::int64_t ns) {
    char buf[32];
    const double v = static_cast<double>(ns);
    if (std::llabs(ns) >= 1000000000)
        std::snprintf(buf, sizeof buf, "%.3f s", v / 1e9);
    else if (std::llabs(ns) >= 1000000)
        std::snprintf(buf, sizeof buf, "%.3f ms", v / 1e6);
    else if (std::llabs(ns) >= 1000)
        std::snprintf(buf, sizeof buf, "%.1f us", v / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%lld ns", static_cast<long long>(ns));
    return buf;
}

std::string layout_text(int dp, int tp, int pp) {
    return "dp" + std::to_string(dp) + " tp" + std::to_string(tp) + " pp" + std::to_string(pp);
}

std::string format_bytes(std::int64_t b) {
    char buf[32];
    const double v = static_cast<double>(b);
    if (b >= (1LL << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", v / (1LL << 30));
    else if (b >= (1LL << 20))
        std::snprintf(buf, sizeof buf, "%.2f MiB", v / (1LL << 20));
    else if (b >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", v / 1024);
    else
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
    return buf;
}

}  // namespace ss::cli

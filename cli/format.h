// Tabular output of the analysis verbs: --format table | csv | json.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ss::cli {

enum class Format { Table, Csv, Json };
// Parses "table", "csv" or "json"; throws UsageError otherwise.
Format parse_format(std::string_view s);

using Cell = std::variant<std::monostate, std::int64_t, double, std::string>;

struct Table {
    std::string title;                 // printed above a text table; the JSON key when grouped
    std::vector<std::string> columns;
    std::vector<std::vector<Cell>> rows;
};

// Text: aligned columns (numbers right-aligned). CSV: RFC 4180 with a header row; several tables
// are separated by a blank line. JSON: {"<title>": [ {column: value, ...}, ... ], ...}.
void print_tables(const std::vector<Table>& tables, Format format, std::ostream& out);

std::string format_ns(std::int64_t ns);  // "1.234 ms", "56.7 us", "890 ns"
std::string format_bytes(std::int64_t bytes);  // "1.5 MiB"
std::string layout_text(int dp, int tp, int pp);  // "dp2 tp1 pp2"

}  // namespace ss::cli

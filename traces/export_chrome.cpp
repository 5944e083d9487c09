#include "traces/export_chrome.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace ss::traces {

namespace {

// JSON string escaping (RFC 8259): quotes, backslash, control characters.
void put_json_string(std::string& o, std::string_view s) {
    o += '"';
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\t': o += "\\t"; break;
            case '\r': o += "\\r"; break;
            default:
                if (u < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", u);
                    o += buf;
                } else {
                    o += c;
                }
        }
    }
    o += '"';
}

void put_int(std::string& o, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    o.append(buf, r.ptr);
}

// Nanoseconds as microseconds with exactly three decimals: 1234567 -> "1234.567".
void put_us(std::string& o, std::int64_t ns) {
    if (ns < 0) {
        o += '-';
        ns = -ns;
    }
    put_int(o, ns / 1000);
    o += '.';
    const auto frac = static_cast<int>(ns % 1000);
    o += static_cast<char>('0' + frac / 100);
    o += static_cast<char>('0' + frac / 10 % 10);
    o += static_cast<char>('0' + frac % 10);
}

std::int64_t pid_of(RunId run, std::int32_t rank) { return run.value * 100000 + rank; }

struct FlowEnd {
    std::int64_t pid, tid, ts_ns;
};

std::string_view category(EventKind k) { return to_string(k); }

}  // namespace

ChromeExportResult export_chrome(TraceReader& reader, std::ostream& out,
                                 const ChromeExportOptions& options) {
    ChromeExportResult res;
    std::vector<RunInfo> runs;
    if (options.run)
        runs.push_back(reader.run(*options.run));
    else
        runs = reader.runs();

    // The base time: the earliest event start of the exported runs (from the lane bounds).
    std::int64_t base = std::numeric_limits<std::int64_t>::max();
    for (const auto& r : runs)
        for (const auto& l : reader.lanes(r.id))
            if (l.event_count > 0) base = std::min(base, l.min_start_ns);
    if (base == std::numeric_limits<std::int64_t>::max()) base = 0;
    res.base_ns = base;

    std::string o;
    o.reserve(1 << 20);
    bool first = true;
    auto sep = [&] {
        if (!first) o += ",\n";
        first = false;
    };
    auto spill = [&] {
        if (o.size() > (1 << 20)) {
            out.write(o.data(), static_cast<std::streamsize>(o.size()));
            o.clear();
        }
    };
    o += "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"ScaleScope\",\"base_ns\":";
    put_int(o, base);
    o += "},\"traceEvents\":[\n";

    std::int64_t flow_id = 1;
    for (const auto& run : runs) {
        // Metadata: process per rank, thread per lane.
        for (const auto& k : reader.ranks(run.id)) {
            sep();
            o += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":";
            put_int(o, pid_of(run.id, k.rank));
            o += ",\"tid\":0,\"args\":{\"name\":";
            std::string pname = "rank " + std::to_string(k.rank);
            if (runs.size() > 1) pname = "run " + std::to_string(run.id.value) + " " + pname;
            if (!k.host.empty()) pname += " (" + k.host + ")";
            put_json_string(o, pname);
            o += "}}";
            sep();
            o += "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":";
            put_int(o, pid_of(run.id, k.rank));
            o += ",\"tid\":0,\"args\":{\"sort_index\":";
            put_int(o, pid_of(run.id, k.rank));
            o += "}}";
        }
        for (const auto& l : reader.lanes(run.id)) {
            sep();
            o += "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":";
            put_int(o, pid_of(run.id, l.rank));
            o += ",\"tid\":";
            put_int(o, l.lane);
            o += ",\"args\":{\"name\":";
            put_json_string(o, l.name);
            o += "}}";
        }

        // Collective instances and point-to-point channels, for the flow arrows.
        std::map<std::tuple<int, std::int64_t, int, std::int64_t>, std::vector<FlowEnd>> collectives;
        std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::pair<FlowEnd, FlowEnd>>
            p2p;  // (sender, receiver, seq) -> (send, recv); pid < 0 marks "not seen"

        reader.scan_events(run.id, [&](const Event& e) {
            sep();
            const std::int64_t pid = pid_of(run.id, e.rank);
            o += "{\"ph\":\"X\",\"name\":";
            put_json_string(o, reader.string(e.name));
            o += ",\"cat\":\"";
            o += category(e.kind);
            o += "\",\"pid\":";
            put_int(o, pid);
            o += ",\"tid\":";
            put_int(o, e.lane);
            o += ",\"ts\":";
            put_us(o, e.start_ns - base);
            o += ",\"dur\":";
            put_us(o, e.end_ns - e.start_ns);
            o += ",\"args\":{\"start_ns\":";
            put_int(o, e.start_ns);
            o += ",\"dur_ns\":";
            put_int(o, e.end_ns - e.start_ns);
            auto arg = [&](const char* key, std::int64_t v) {
                if (v == kNone) return;
                o += ",\"";
                o += key;
                o += "\":";
                put_int(o, v);
            };
            arg("step", e.step);
            arg("micro_batch", e.micro_batch);
            arg("layer", e.layer);
            arg("bytes", e.bytes);
            if (e.flops >= 0) {
                o += ",\"flops\":";
                put_int(o, static_cast<std::int64_t>(e.flops));
            }
            if (e.collective != Collective::None) {
                o += ",\"collective\":\"";
                o += to_string(e.collective);
                o += "\"";
            }
            if (e.group_kind != GroupKind::None) {
                o += ",\"group\":\"";
                o += to_string(e.group_kind);
                o += "\"";
            }
            arg("group_id", e.group_id);
            arg("group_size", e.group_size);
            arg("peer", e.peer);
            arg("seq", e.seq);
            arg("correlation", e.correlation);
            o += "}}";
            ++res.events;
            spill();

            if (e.kind != EventKind::Comm || e.seq == kNone) return;
            FlowEnd end{pid, e.lane, e.start_ns};
            if (e.collective == Collective::Send && e.peer != kNone) {
                auto& pr = p2p.try_emplace({e.rank, e.peer, e.seq}, FlowEnd{-1, 0, 0},
                                           FlowEnd{-1, 0, 0})
                               .first->second;
                pr.first = end;
            } else if (e.collective == Collective::Recv && e.peer != kNone) {
                auto& pr = p2p.try_emplace({e.peer, e.rank, e.seq}, FlowEnd{-1, 0, 0},
                                           FlowEnd{-1, 0, 0})
                               .first->second;
                pr.second = end;
            } else if (e.collective != Collective::None) {
                collectives[{static_cast<int>(e.group_kind), e.group_id,
                             static_cast<int>(e.collective), e.seq}]
                    .push_back(end);
            }
        });

        auto flow = [&](const FlowEnd& from, const FlowEnd& to, std::string_view name) {
            sep();
            o += "{\"ph\":\"s\",\"id\":";
            put_int(o, flow_id);
            o += ",\"name\":";
            put_json_string(o, name);
            o += ",\"cat\":\"flow\",\"pid\":";
            put_int(o, from.pid);
            o += ",\"tid\":";
            put_int(o, from.tid);
            o += ",\"ts\":";
            put_us(o, from.ts_ns - base);
            o += "}";
            sep();
            o += "{\"ph\":\"f\",\"bp\":\"e\",\"id\":";
            put_int(o, flow_id);
            o += ",\"name\":";
            put_json_string(o, name);
            o += ",\"cat\":\"flow\",\"pid\":";
            put_int(o, to.pid);
            o += ",\"tid\":";
            put_int(o, to.tid);
            o += ",\"ts\":";
            put_us(o, to.ts_ns - base);
            o += "}";
            ++flow_id;
            ++res.flows;
            spill();
        };
        for (auto& [key, ends] : collectives) {
            if (ends.size() < 2) continue;
            std::sort(ends.begin(), ends.end(),
                      [](const FlowEnd& a, const FlowEnd& b) { return a.ts_ns < b.ts_ns; });
            const auto name = to_string(static_cast<Collective>(std::get<2>(key)));
            for (size_t i = 1; i < ends.size(); ++i) flow(ends[0], ends[i], name);
        }
        for (auto& [key, pr] : p2p)
            if (pr.first.pid >= 0 && pr.second.pid >= 0) flow(pr.first, pr.second, "send/recv");
    }
    o += "\n]}\n";
    out.write(o.data(), static_cast<std::streamsize>(o.size()));
    if (!out) throw TraceError("export: writing the JSON output failed");
    return res;
}

}  // namespace ss::traces

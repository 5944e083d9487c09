// Readable fixtures for trace tests: a rank's events from short text, one event per line:
//   KIND NAME START END [key=value ...]
// KIND is an EventKind name (kernel, comm, step, ...); keys: lane, step, mb, layer, bytes, flops,
// coll (collective name), group (dp/tp/pp/world), gid, gsize, peer, seq, corr (CUPTI correlation
// id).
#pragma once

#include <QTemporaryDir>
#include <QTest>

#include <sstream>
#include <string>
#include <vector>

#include "traces/writer.h"

namespace fixture {

using namespace ss::traces;

inline Event parse_event(TraceWriter& w, RunId run, int rank, const std::string& line) {
    std::istringstream in(line);
    std::string kind, name;
    long long start = 0, end = 0;
    in >> kind >> name >> start >> end;
    Event e;
    e.run = run;
    e.rank = rank;
    e.kind = event_kind_from_string(kind).value();
    e.name = w.intern(name);
    e.start_ns = start;
    e.end_ns = end;
    std::string kv;
    while (in >> kv) {
        auto eq = kv.find('=');
        std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        if (k == "lane") e.lane = std::stoi(v);
        else if (k == "step") e.step = std::stoll(v);
        else if (k == "mb") e.micro_batch = std::stoll(v);
        else if (k == "layer") e.layer = std::stoll(v);
        else if (k == "bytes") e.bytes = std::stoll(v);
        else if (k == "flops") e.flops = std::stod(v);
        else if (k == "coll") e.collective = collective_from_string(v).value();
        else if (k == "group") e.group_kind = group_kind_from_string(v).value();
        else if (k == "gid") e.group_id = std::stoll(v);
        else if (k == "gsize") e.group_size = std::stoll(v);
        else if (k == "peer") e.peer = std::stoll(v);
        else if (k == "seq") e.seq = std::stoll(v);
        else if (k == "corr")
            e.correlation = std::stoll(v);
        else throw std::runtime_error("fixture: unknown key " + k);
    }
    return e;
}

inline RunInfo run_info(const std::string& name, int world) {
    RunInfo r;
    r.name = name;
    r.spec_json = "{\"name\":\"" + name + "\"}";
    r.model = "gpt-tiny";
    r.backend = "cpu";
    r.world_size = world;
    r.dp = world;
    r.schedule = "1f1b";
    return r;
}

struct RankFile {
    int rank = 0;
    int world = 1;
    std::int64_t offset_ns = 0;    // this rank's clock minus rank 0's
    double drift_ppb = 0;
    std::int64_t ref_ns = 0;
    std::int64_t start_ns = 0, end_ns = 0;  // on this rank's clock
    bool finish = true;
    RunStatus status = RunStatus::Completed;
    std::string events;  // lines as above
    std::string source_tool, source_file;  // the run record's source (empty: our own run)
};

// Writes a per-rank trace file as the profiler does and returns its path.
inline std::string write_rank_file(const QTemporaryDir& dir, const std::string& run_name,
                                   const RankFile& f) {
    const std::string path =
        dir.filePath(QString::fromStdString(run_name + "-rank" + std::to_string(f.rank) + ".sqlite"))
            .toStdString();
    TraceWriter w(path, WriterOptions{.batch_events = 1000, .durable = false});
    RunInfo info = run_info(run_name, f.world);
    info.start_ns = f.start_ns;
    info.end_ns = f.end_ns;
    info.source_tool = f.source_tool;
    info.source_version = f.source_tool.empty() ? "" : "2.1";
    info.source_file = f.source_file;
    RunId run = w.begin_run(info);
    RankInfo k;
    k.run = run;
    k.rank = f.rank;
    k.host = "node" + std::to_string(f.rank / 2);
    k.pid = 1000 + f.rank;
    k.device = "cpu";
    k.dp_coord = f.rank;
    k.clock_offset_ns = f.offset_ns;
    k.clock_drift_ppb = f.drift_ppb;
    k.clock_ref_ns = f.ref_ns;
    k.clock_rtt_ns = f.rank == 0 ? 0 : 2000;
    w.put_rank(k);
    w.define_lane(run, f.rank, 0, "compute");
    w.define_lane(run, f.rank, 1, "comm");
    std::istringstream lines(f.events);
    std::string line;
    while (std::getline(lines, line))
        if (line.find_first_not_of(" \t") != std::string::npos)
            w.add_event(parse_event(w, run, f.rank, line));
    w.add_metric(run, f.rank, 0, f.start_ns + 10, "loss", 2.5 - 0.1 * f.rank);
    if (f.finish) w.finish_run(run, f.status, f.status == RunStatus::Failed ? "boom" : "", f.end_ns);
    w.flush();
    return path;
}

}  // namespace fixture

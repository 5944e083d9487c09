// A tiny, readable trace for the GUI tests: 2 ranks, lanes steps, compute and comm (traces/lanes.h); per step
// and rank one kernel, one dp all-reduce (seq = step), and rank 0 sends to rank 1 (seq = step).
// Two runs (dp=1 and dp=2) and a study over them.
#pragma once

#include <QTemporaryDir>

#include <string>

#include "traces/lanes.h"
#include "traces/writer.h"

namespace fixture {

using namespace ss::traces;

inline Event ev(RunId run, int rank, int lane, EventKind kind, StringId name, std::int64_t s, std::int64_t e,
                std::int64_t step) {
    Event x;
    x.run = run;
    x.rank = rank;
    x.lane = lane;
    x.kind = kind;
    x.name = name;
    x.start_ns = s;
    x.end_ns = e;
    x.step = step;
    return x;
}

// Writes the trace; returns its path inside `dir`. Step k of rank r spans [k·1000, k·1000 + 900).
inline std::string writeTinyTrace(const QTemporaryDir& dir, const char* name = "tiny.sqlite") {
    const std::string path = dir.filePath(QString::fromLatin1(name)).toStdString();
    TraceWriter w(path);
    RunId runs[2];
    for (int k = 0; k < 2; ++k) {
        RunInfo info;
        info.name = k == 0 ? "p1" : "p2";
        info.spec_json = "{}";
        info.model = "mlp";
        info.backend = "cpu";
        info.world_size = k + 1;
        info.dp = k + 1;
        info.start_ns = 0;
        RunId run = w.begin_run(info);
        runs[k] = run;
        const StringId step = w.intern("step"), gemm = w.intern("gemm"), ar = w.intern("all_reduce"),
                       send = w.intern("send"), recv = w.intern("recv");
        for (int rank = 0; rank <= k; ++rank) {
            RankInfo ri;
            ri.run = run;
            ri.rank = rank;
            ri.host = "localhost";
            ri.clock_corrected = true;
            w.put_rank(ri);
            for (std::int32_t l : {lanes::kSteps, lanes::kCompute, lanes::kComm}) w.define_lane(run, rank, l, lanes::name(l));
        }
        for (std::int64_t s = 0; s < 2; ++s) {
            const std::int64_t t = s * 1000;
            // p=2 runs twice as fast per step: 900 ns vs 500 ns.
            const std::int64_t len = k == 0 ? 900 : 500;
            for (int rank = 0; rank <= k; ++rank) {
                w.add_event(ev(run, rank, lanes::kSteps, EventKind::Step, step, t, t + len, s));
                Event g = ev(run, rank, lanes::kCompute, EventKind::Kernel, gemm, t + 10, t + len - 200, s);
                g.flops = 1e6;
                w.add_event(g);
                if (k == 1) {
                    Event a = ev(run, rank, lanes::kComm, EventKind::Comm, ar, t + len - 190, t + len - 100, s);
                    a.collective = Collective::AllReduce;
                    a.group_kind = GroupKind::DP;
                    a.group_id = 0;
                    a.group_size = 2;
                    a.bytes = 4096;
                    a.seq = s;
                    w.add_event(a);
                    Event p = ev(run, rank, lanes::kComm, rank == 0 ? EventKind::Comm : EventKind::Comm, rank == 0 ? send : recv,
                                 t + len - 90 + rank * 5, t + len - 20 + rank * 5, s);
                    p.collective = rank == 0 ? Collective::Send : Collective::Recv;
                    p.peer = 1 - rank;
                    p.group_kind = GroupKind::PP;
                    p.bytes = 1024;
                    p.seq = s;
                    w.add_event(p);
                }
            }
        }
        w.finish_run(run, RunStatus::Completed, "", 2000);
    }
    StudyInfo st;
    st.name = "dp sweep";
    st.variable = "parallel.dp";
    st.scaling = "strong";
    const StudyId sid = w.add_study(st);
    w.add_study_run(StudyRun{sid, runs[0], "1", 1, 0});
    w.add_study_run(StudyRun{sid, runs[1], "2", 2, 0});
    return path;
}

}  // namespace fixture

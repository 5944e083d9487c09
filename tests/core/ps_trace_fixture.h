// A synthetic parameter-server run written exactly as issue 18's contract says the runtime records
// one (HELPERS18.md "Issue 18 contract"; docs/ANALYSIS.md "Parameter server"): `workers` worker
// ranks 0 .. W−1 and 2 server ranks W, W+1 (coordinates −1), spec parallel.dp_sync =
// "parameter_server", servers = 2, staleness = 1, training.slow_rank {rank 1, factor 2}.
// Used by tst_core_analysis_ps, tst_core_analysis_cli (stats) and the GUI tests/screenshots.
//
// Every step s lasts 1000 us from t = 1000·s us (times below in us after the step's start):
//   worker 0 (fast)    ps_wait [0, 100)  kernel [100, 500)
//                      push → S0 [500, 550) 1000 B, push → S1 [550, 580) 600 B
//                      pull ← S0 [580, 950) 1000 B, pull ← S1 [950, 975) 600 B
//   worker 1 (slow x2) ps_wait [0, 20)   kernel [20, 820)
//                      push → S0 [820, 870), push → S1 [870, 900)
//                      pull ← S0 [900, 980), pull ← S1 [980, 995)
//   worker k >= 2      as worker 0 (only in the screenshot trace)
//   server 0 (rank W)  ps_recv ← w0 [500, 550) 1000 B, ps_queue w0 [550, 880)
//                      ps_recv ← w1 [820, 870) 1000 B, ps_queue w1 [870, 880)
//                      ps_apply [880, 920) (kernel sgd_update inside), ps_send → w0 [920, 950)
//                      1000 B, ps_send → w1 [950, 980) 1000 B
//   server 1           ps_recv ← w0 [550, 580) 600 B, ps_queue w0 [580, 900)
//                      ps_recv ← w1 [870, 900) 600 B, ps_queue w1 [900, 905)
//                      ps_apply [905, 925), ps_send → w0 [950, 970) 600 B, → w1 [980, 990) 600 B
// Per step, with 2 workers: server 0 takes in 2000 B and sends 2000 B, queue mean 170 us (p95
// 330); server 1 1200 B each way, queue mean 162.5 us. Worker 0: push 80 us, pull 395 us of which
// 340 us waiting for server 0's version, ps_wait 100 us; breakdown compute 400, exposed comm 475,
// idle 125 us. Worker 1: compute 800, exposed comm 175, idle 25 (ps_wait 20 + 5 after its pulls);
// pull wait 50 us.
// Metric ps_staleness: worker 0 0,1,0,1,... ; worker 1 0 except 2 at step 3: max 2.
// run_summaries: ps_servers 2, ps_staleness_max 2, ps_staleness_mean, slow_rank 1, slow_factor 2.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>

#include "traces/lanes.h"
#include "traces/sqlite_util.h"
#include "traces/writer.h"

namespace psfx {

using namespace ss::traces;

inline constexpr const char* kPsSpec =
    R"({"name":"ps-fixture","model":{"kind":"mlp","hidden":[64]},)"
    R"("parallel":{"dp":2,"dp_sync":"parameter_server","servers":2,"staleness":1},)"
    R"("training":{"global_batch":32,"slow_rank":{"rank":1,"factor":2}}})";

inline std::string ps_spec(int workers) {
    std::string s = kPsSpec;
    s.replace(s.find("\"dp\":2"), 6, "\"dp\":" + std::to_string(workers));
    return s;
}

// Writes the run into `w`'s file and returns its id. The run_summaries rows are written by
// write_ps_summaries once the writer is closed (the writer has no call for them).
inline RunId write_ps_run(TraceWriter& w, int workers = 2, int steps = 4) {
    const int servers = 2, world = workers + servers;
    RunInfo ri;
    ri.name = "ps";
    ri.spec_json = ps_spec(workers);
    ri.model = "mlp";
    ri.backend = "cpu";
    ri.world_size = world;
    ri.dp = workers;
    const RunId run = w.begin_run(ri);
    for (int r = 0; r < world; ++r) {
        RankInfo k;
        k.run = run;
        k.rank = r;
        k.host = "node0";
        k.device = "cpu";
        const bool server = r >= workers;
        k.dp_coord = server ? -1 : r;
        k.tp_coord = server ? -1 : 0;
        k.pp_coord = server ? -1 : 0;
        k.clock_corrected = true;
        w.put_rank(k);
        for (std::int32_t l :
             {lanes::kSteps, lanes::kPhases, lanes::kCompute, lanes::kComm, lanes::kHost})
            if (!(server && l == lanes::kSteps)) w.define_lane(run, r, l, lanes::name(l));
    }
    auto add = [&](int rank, std::int32_t lane, EventKind kind, const char* name, std::int64_t t0,
                   std::int64_t a_us, std::int64_t b_us, std::int64_t step) -> Event {
        Event e;
        e.run = run;
        e.rank = rank;
        e.lane = lane;
        e.kind = kind;
        e.name = w.intern(name);
        e.start_ns = t0 + a_us * 1000;
        e.end_ns = t0 + b_us * 1000;
        e.step = step;
        return e;
    };
    auto comm = [&](Event e, Collective c, std::int64_t peer, std::int64_t bytes) {
        e.collective = c;
        e.group_kind = GroupKind::PS;
        e.peer = peer;
        e.bytes = bytes;
        w.add_event(e);
    };
    const int s0 = workers, s1 = workers + 1;
    for (int s = 0; s < steps; ++s) {
        const std::int64_t t = std::int64_t(s) * 1'000'000;
        for (int r = 0; r < workers; ++r) {
            const bool slow = r == 1;
            w.add_event(add(r, lanes::kSteps, EventKind::Step, "step", t, 0, 1000, s));
            w.add_event(add(r, lanes::kComm, EventKind::Sync, "ps_wait", t, 0, slow ? 20 : 100, s));
            w.add_event(add(r, lanes::kCompute, EventKind::Kernel, "forward_backward", t,
                            slow ? 20 : 100, slow ? 820 : 500, s));
            const std::int64_t p = slow ? 820 : 500;
            comm(add(r, lanes::kComm, EventKind::Comm, "ps_push", t, p, p + 50, s),
                 Collective::Send, s0, 1000);
            comm(add(r, lanes::kComm, EventKind::Comm, "ps_push", t, p + 50, p + 80, s),
                 Collective::Send, s1, 600);
            if (slow) {
                comm(add(r, lanes::kComm, EventKind::Comm, "ps_pull", t, 900, 980, s),
                     Collective::Recv, s0, 1000);
                comm(add(r, lanes::kComm, EventKind::Comm, "ps_pull", t, 980, 995, s),
                     Collective::Recv, s1, 600);
            } else {
                comm(add(r, lanes::kComm, EventKind::Comm, "ps_pull", t, 580, 950, s),
                     Collective::Recv, s0, 1000);
                comm(add(r, lanes::kComm, EventKind::Comm, "ps_pull", t, 950, 975, s),
                     Collective::Recv, s1, 600);
            }
            const double staleness = r == 1 ? (s == 3 ? 2 : 0) : s % 2;
            w.add_metric(run, r, s, t + 999'000, "ps_staleness", staleness);
            w.add_metric(run, r, s, t + 999'000, "loss", 2.0 - 0.1 * s);
        }
        // The servers. A worker k >= 2 behaves as worker 0 (its push and pull share its times).
        for (int r = 0; r < workers; ++r) {
            const bool slow = r == 1;
            const std::int64_t p = slow ? 820 : 500;
            comm(add(s0, lanes::kComm, EventKind::Comm, "ps_recv", t, p, p + 50, s),
                 Collective::Recv, r, 1000);
            comm(add(s1, lanes::kComm, EventKind::Comm, "ps_recv", t, p + 50, p + 80, s),
                 Collective::Recv, r, 600);
            Event q0 = add(s0, lanes::kHost, EventKind::Sync, "ps_queue", t, p + 50, 880, s);
            q0.peer = r;
            w.add_event(q0);
            Event q1 =
                add(s1, lanes::kHost, EventKind::Sync, "ps_queue", t, p + 80, slow ? 905 : 900, s);
            q1.peer = r;
            w.add_event(q1);
            comm(add(s0, lanes::kComm, EventKind::Comm, "ps_send", t, slow ? 950 : 920,
                     slow ? 980 : 950, s),
                 Collective::Send, r, 1000);
            comm(add(s1, lanes::kComm, EventKind::Comm, "ps_send", t, slow ? 980 : 950,
                     slow ? 990 : 970, s),
                 Collective::Send, r, 600);
        }
        w.add_event(add(s0, lanes::kPhases, EventKind::HostRange, "ps_apply", t, 880, 920, s + 1));
        w.add_event(add(s0, lanes::kCompute, EventKind::Kernel, "sgd_update", t, 882, 918, s + 1));
        w.add_event(add(s1, lanes::kPhases, EventKind::HostRange, "ps_apply", t, 905, 925, s + 1));
        w.add_event(add(s1, lanes::kCompute, EventKind::Kernel, "sgd_update", t, 906, 924, s + 1));
    }
    const std::int64_t end = std::int64_t(steps) * 1'000'000;
    w.set_run_times(run, 0, end);
    w.finish_run(run, RunStatus::Completed, "", end);
    return run;
}

// The run_summaries rows the runtime stores at the end of the run (values as text).
inline void write_ps_summaries(const std::string& path, RunId run, int workers = 2, int steps = 4) {
    // Staleness samples: worker 0 gives s % 2, worker 1 gives 2 at step 3; workers >= 2 as worker
    // 0.
    double sum = 0, max = 0;
    int n = 0;
    for (int s = 0; s < steps; ++s)
        for (int r = 0; r < workers; ++r, ++n) {
            const double v = r == 1 ? (s == 3 ? 2 : 0) : s % 2;
            sum += v;
            max = std::max(max, v);
        }
    char mean[32];
    std::snprintf(mean, sizeof mean, "%.17g", n ? sum / n : 0.0);
    Db db(path, Db::Mode::ReadWrite);
    for (const auto& [k, v] : std::initializer_list<std::pair<std::string, std::string>>{
             {"ps_servers", "2"},
             {"ps_staleness_max", std::to_string(static_cast<int>(max))},
             {"ps_staleness_mean", mean},
             {"slow_rank", "1"},
             {"slow_factor", "2"}}) {
        Stmt st =
            db.prepare("INSERT OR REPLACE INTO run_summaries(run_id, key, value) VALUES(?1,?2,?3)");
        st.bind(1, run.value).bind(2, k).bind(3, v).run();
    }
}

// One file holding the run: path returned.
inline std::string write_ps_file(const std::string& path, int workers = 2, int steps = 4) {
    RunId run;
    {
        TraceWriter w(path);
        run = write_ps_run(w, workers, steps);
    }
    write_ps_summaries(path, run, workers, steps);
    return path;
}

}  // namespace psfx

// A participant's study file for the class-results tests and screenshots, written with
// traces/writer.h: a strong-scaling dp study on one host whose step time follows Amdahl's law
// T(p) = T1·(f + (1 − f)/p), times a small per-point wobble, so each "machine" has its own serial
// fraction. Synthetic: not a recorded run (the hosts are names made up for the fixture).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traces/lanes.h"
#include "traces/writer.h"

namespace classfx {

using namespace ss::traces;

struct Machine {
    std::string host;                   // ranks.host and runs.hosts of every run
    double f = 0.1;                     // serial fraction of the step time
    std::vector<int> ps{1, 2, 4};       // measured process counts
    std::vector<double> wobble{};       // per point, multiplies T(p) (empty: 1)
    int oversubscribed_from = 1 << 30;  // p at and above which runs are marked oversubscribed
    double t1_ms = 40;                  // step time at p = 1
    int steps = 6;
    std::string device = "cpu (OpenBLAS, 1 thread)";
};

// Step time of point i (ns).
inline std::int64_t step_ns(const Machine& m, size_t i) {
    const double p = m.ps[i];
    const double w = i < m.wobble.size() ? m.wobble[i] : 1.0;
    return static_cast<std::int64_t>(m.t1_ms * 1e6 * (m.f + (1 - m.f) / p) * w);
}

// Appends one study (and its runs) to `path`. Returns the study id.
inline StudyId write_machine_study(const std::string& path, const Machine& m,
                                   const std::string& name = "dp sweep") {
    TraceWriter w(path);
    const StudyId sid = w.add_study(StudyInfo{StudyId(), name, "parallel.dp", "strong"});
    for (size_t i = 0; i < m.ps.size(); ++i) {
        const int p = m.ps[i];
        RunInfo ri;
        ri.name = name + " dp=" + std::to_string(p);
        ri.model = "gpt-tiny";
        ri.backend = "cpu";
        ri.world_size = p;
        ri.dp = p;
        ri.hosts = {m.host};
        ri.oversubscribed = p >= m.oversubscribed_from;
        ri.spec_json = R"({"model":{"name":"gpt-tiny"},"training":{"steps":)" +
                       std::to_string(m.steps) + R"(},"parallel":{"dp":)" + std::to_string(p) +
                       "}}";
        ri.wall_start_unix_ns = 1796113800LL * 1000000000LL  // 2026-12-01 08:30 UTC, a minute a run
                                + static_cast<std::int64_t>(i) * 60000000000LL;
        const RunId run = w.begin_run(ri);
        const std::int64_t t = step_ns(m, i);
        for (int r = 0; r < p; ++r) {
            RankInfo k;
            k.run = run;
            k.rank = r;
            k.host = m.host;
            k.device = m.device;
            k.dp_coord = r;
            k.clock_corrected = true;
            w.put_rank(k);
            w.define_lane(run, r, lanes::kSteps, lanes::name(lanes::kSteps));
            for (int s = 0; s < m.steps; ++s) {
                Event e;
                e.run = run;
                e.rank = r;
                e.lane = lanes::kSteps;
                e.kind = EventKind::Step;
                e.name = w.intern("step");
                e.start_ns = s * t;
                e.end_ns = (s + 1) * t;
                e.step = s;
                w.add_event(e);
            }
        }
        w.set_run_times(run, 0, m.steps * t);
        w.finish_run(run, RunStatus::Completed, "", m.steps * t);
        w.add_study_run(StudyRun{sid, run, std::to_string(p), p, 0});
    }
    return sid;
}

}  // namespace classfx

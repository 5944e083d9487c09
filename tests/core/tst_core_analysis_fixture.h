// Readable fixtures for the analysis tests: a merged run from short text per rank, one event per
// line (tests/traces/trace_fixture.h's format):  KIND NAME START END [key=value ...]
// and a scaling study whose runs hold only step events with given durations.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/traces/trace_fixture.h"
#include "traces/lanes.h"
#include "traces/writer.h"

namespace afx {

using namespace ss::traces;

// Lanes as the profiler writes them (traces/lanes.h). The text fixtures' lane=N use these
// numbers: 0 steps, 1 phases, 2 compute, 3 comm, 4 host.
inline void define_lanes(TraceWriter& w, RunId run, int rank) {
    for (std::int32_t l : {lanes::kSteps, lanes::kPhases, lanes::kCompute, lanes::kComm, lanes::kHost})
        w.define_lane(run, rank, l, lanes::name(l));
}

inline RunInfo info(const std::string& name, int world, const std::string& spec_json = "{}") {
    RunInfo r;
    r.name = name;
    r.model = "mlp";
    r.backend = "cpu";
    r.world_size = world;
    r.dp = world;
    r.spec_json = spec_json;
    return r;
}

// Writes one merged run: `ranks` maps a rank to its event lines. Returns the run id.
inline RunId write_run(TraceWriter& w, RunInfo ri, const std::map<int, std::string>& ranks,
                       RunStatus status = RunStatus::Completed) {
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    RunId run = w.begin_run(ri);
    for (const auto& [rank, text] : ranks) {
        RankInfo k;
        k.run = run;
        k.rank = rank;
        k.host = "node0";
        k.device = "cpu";
        k.dp_coord = rank;
        k.clock_corrected = true;
        w.put_rank(k);
        define_lanes(w, run, rank);
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.find_first_not_of(" \t") == std::string::npos) continue;
            Event e = fixture::parse_event(w, run, rank, line);
            lo = std::min(lo, e.start_ns);
            hi = std::max(hi, e.end_ns);
            w.add_event(e);
        }
    }
    w.set_run_times(run, lo == INT64_MAX ? 0 : lo, hi == INT64_MIN ? 0 : hi);
    w.finish_run(run, status, status == RunStatus::Completed ? "" : "boom", hi == INT64_MIN ? 0 : hi);
    return run;
}

// Step events of `world` ranks with the given step durations (back to back from t = 0).
inline std::string steps_text(const std::vector<std::int64_t>& durations) {
    std::string s;
    std::int64_t t = 0;
    for (size_t i = 0; i < durations.size(); ++i) {
        s += "step step " + std::to_string(t) + " " + std::to_string(t + durations[i]) +
             " lane=0 step=" + std::to_string(i) + "\n";
        t += durations[i];
    }
    return s;
}

// One point of a study: p ranks whose steps all take `durations`.
struct StudyPoint {
    int p = 1;
    int repeat = 0;
    std::vector<std::int64_t> durations;
    bool oversubscribed = false;
    RunStatus status = RunStatus::Completed;
};
inline StudyId write_study(TraceWriter& w, const std::string& scaling, const std::vector<StudyPoint>& pts,
                           const std::string& name = "dp sweep") {
    StudyId sid = w.add_study(StudyInfo{StudyId(), name, "parallel.dp", scaling});
    for (const auto& pt : pts) {
        RunInfo ri = info(name + " p=" + std::to_string(pt.p), pt.p);
        ri.oversubscribed = pt.oversubscribed;
        std::map<int, std::string> ranks;
        for (int r = 0; r < pt.p; ++r) ranks[r] = steps_text(pt.durations);
        RunId run = write_run(w, ri, ranks, pt.status);
        w.add_study_run(StudyRun{sid, run, std::to_string(pt.p), pt.p, pt.repeat});
    }
    return sid;
}

// One rank of the overlapped-bucket run (issue 12 item 2), 3 steps of 200 us, the rank starting
// `offset_us` late: per step three non-blocking 4 MiB DP all-reduces issued at 0, 10, 20 us and
// waited on at 100, 110, 120 us while the backward kernel runs to `backward_us`, then one blocking
// 1 MiB all-reduce at [150, 160) us. True figures: the DP group is busy 120 us per step and rank
// (the union), not 300; the buckets' transfer time is unknown; the blocking call moves 1 MiB in 10 us.
inline std::string bucket_rank_text(std::int64_t backward_us, std::int64_t offset_us = 0) {
    std::string s;
    for (int step = 0; step < 3; ++step) {
        auto at = [&](std::int64_t us) { return std::to_string(step * 200000 + (offset_us + us) * 1000); };
        s += "step step " + at(0) + " " + at(200) + " lane=0 step=" + std::to_string(step) + "\n";
        s += "kernel backward " + at(0) + " " + at(backward_us) + " lane=2\n";
        for (int b = 0; b < 3; ++b)
            s += "comm all_reduce " + at(10 * b) + " " + at(100 + 10 * b) +
                 " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=4194304 seq=" + std::to_string(4 * step + b) +
                 "\n";
        s += "comm all_reduce " + at(150) + " " + at(160) +
             " lane=3 coll=all_reduce group=dp gid=0 gsize=2 bytes=1048576 seq=" + std::to_string(4 * step + 3) + "\n";
    }
    return s;
}

// ---- A GPU run as the CUPTI collector records it (docs/ANALYSIS.md "GPU streams") ----
// Lanes: steps, phases, comm (host calls), CUDA API (15), stream 7 (lane 23: compute kernels,
// copies, a sync), stream 13 (lane 29: NCCL kernels), and on rank 0 stream 14 (lane 30). No
// kernels on the compute lane. Three 1000 us steps per rank, at t = 1000·s us:
//   copy memcpy HtoD [25, 45) on stream 7 (rank 1, last step: also a DtoH [990, 1020): clipped)
//   compute sgemm_fwd [50, 250), sgemm_bwd [350, 750) (rank 1: [350, 650)), adamw [820, 900) on 7;
//           bias_grad [700, 800) on stream 14 (rank 0)
//   sync cudaStreamSynchronize [975, 990) on stream 7 (a wait, not device work)
//   NCCL  4 MiB all-reduce kernel [600, 850) (rank 1: [600, 900)) and a 4-byte one [958, 968)
//         on stream 13; host calls [590, 860) (rank 1: [590, 905)) and [955, 970) on the comm lane
//   API   one launch before each record, with its correlation id (5 us long, 20 us ahead;
//         NCCL: 1 us long, 2 us ahead)
// Per step, rank 0: compute union [50,250)+[350,800)+[820,900) = 730 us, NCCL 260 us, overlap
// [600,800)+[820,850) = 230 us; rank 1: compute 580 us, NCCL 310 us, overlap [600,650)+[820,900)
// = 130 us. The NCCL/compute overlap of the run = 360 / 570.
// The big all-reduce's host call holds the launch of adamw (and on rank 0 of bias_grad): it is
// non-blocking; the 4-byte one holds only its own NCCL launch: blocking, 15 us.
// Metric matrix_flop_per_s at step 0: rank 0 5.0e13, rank 1 5.2e13 (median 5.1e13). Stats:
// cupti_records_kernel and cupti_records_nccl per rank (record counts, not losses).
inline constexpr std::int32_t kGpuApiLane = lanes::kCudaApi;
inline constexpr std::int32_t kGpuStream7 = lanes::kCudaStreamBase + 7;
inline constexpr std::int32_t kGpuStream13 = lanes::kCudaStreamBase + 13;
inline constexpr std::int32_t kGpuStream14 = lanes::kCudaStreamBase + 14;

inline std::string gpu_rank_text(int rank, int steps = 3) {
    std::string s;
    std::int64_t corr = 1000 * (rank + 1);
    for (int step = 0; step < steps; ++step) {
        const std::int64_t t = step * 1000;
        auto at = [&](std::int64_t us) { return std::to_string((t + us) * 1000); };
        auto span = [&](std::int64_t a, std::int64_t b) { return at(a) + " " + at(b); };
        const std::string st = " step=" + std::to_string(step);
        // A record on `lane` and the API call that launched it, `lead` us ahead of it.
        auto launched = [&](const std::string& kind, const std::string& name, std::int64_t a,
                            std::int64_t b, std::int32_t lane, const std::string& api,
                            std::int64_t api_len, const std::string& extra) {
            ++corr;
            const std::int64_t lead = api_len == 1 ? 2 : 20;
            s += "host " + api + " " + span(a - lead, a - lead + api_len) +
                 " lane=" + std::to_string(kGpuApiLane) + " corr=" + std::to_string(corr) + "\n";
            s += kind + " " + name + " " + span(a, b) + " lane=" + std::to_string(lane) +
                 " corr=" + std::to_string(corr) + extra + "\n";
        };
        s += "step step " + span(0, 1000) + " lane=0" + st + "\n";
        s += "phase forward " + span(0, 300) + " lane=1" + st + "\n";
        s += "phase backward " + span(300, 800) + " lane=1" + st + "\n";
        s += "phase optimizer " + span(800, 950) + " lane=1" + st + "\n";
        launched("memcpy", "memcpy_HtoD", 25, 45, kGpuStream7, "cudaMemcpyAsync", 5,
                 " bytes=1048576");
        launched("kernel", "sgemm_fwd", 50, 250, kGpuStream7, "cudaLaunchKernel", 5, "");
        launched("kernel", "sgemm_bwd", 350, rank == 0 ? 750 : 650, kGpuStream7, "cudaLaunchKernel",
                 5, "");
        if (rank == 0)
            launched("kernel", "bias_grad", 700, 800, kGpuStream14, "cudaLaunchKernel", 5, "");
        launched("kernel", "adamw", 820, 900, kGpuStream7, "cudaLaunchKernel", 5, "");
        const std::string big =
            " coll=all_reduce group=dp gid=0 gsize=2 bytes=4194304 seq=" + std::to_string(2 * step);
        const std::string small =
            " coll=all_reduce group=dp gid=0 gsize=2 bytes=4 seq=" + std::to_string(2 * step + 1);
        s += "comm all_reduce " + span(590, rank == 0 ? 860 : 905) + " lane=3" + big + st + "\n";
        launched("comm", "ncclDevKernel_AllReduce_Sum_f32_RING_LL", 600, rank == 0 ? 850 : 900,
                 kGpuStream13, "cuLaunchKernelEx", 1, big + st);
        s += "comm all_reduce " + span(955, 970) + " lane=3" + small + st + "\n";
        launched("comm", "ncclDevKernel_AllReduce_Sum_f32_RING_LL", 958, 968, kGpuStream13,
                 "cuLaunchKernelEx", 1, small + st);
        ++corr;
        s += "sync cudaStreamSynchronize " + span(975, 990) +
             " lane=" + std::to_string(kGpuStream7) + " corr=" + std::to_string(corr) + "\n";
        s += "host cudaStreamSynchronize " + span(975, 990) +
             " lane=" + std::to_string(kGpuApiLane) + " corr=" + std::to_string(corr) + "\n";
        if (rank == 1 && step == steps - 1)
            launched("memcpy", "memcpy_DtoH", 990, 1020, kGpuStream7, "cudaMemcpyAsync", 5,
                     " bytes=4");
    }
    return s;
}

// Writes the GPU run: 2 ranks on "cuda:N (NVIDIA H200)". Rank 0's GPU lanes are named as a
// writer may name them ("stream 7", "CUDA API"); rank 1's are left unnamed (stored "lane 23"):
// readers must find the streams either way. Returns the run id.
inline RunId write_gpu_run(TraceWriter& w, const std::string& spec_json, int steps = 3,
                           const std::string& name = "gpu") {
    RunInfo ri = info(name, 2, spec_json);
    ri.backend = "cuda";
    ri.model = "gpu-fixture";
    RunId run = w.begin_run(ri);
    std::int64_t hi = 0;
    for (int rank = 0; rank < 2; ++rank) {
        RankInfo k;
        k.run = run;
        k.rank = rank;
        k.host = "gpu-node";
        k.device = "cuda:" + std::to_string(rank) + " (NVIDIA H200)";
        k.dp_coord = rank;
        k.clock_corrected = true;
        w.put_rank(k);
        for (std::int32_t l : {lanes::kSteps, lanes::kPhases, lanes::kComm})
            w.define_lane(run, rank, l, lanes::name(l));
        if (rank == 0) {
            w.define_lane(run, rank, kGpuApiLane, "CUDA API");
            w.define_lane(run, rank, kGpuStream7, "stream 7");
            w.define_lane(run, rank, kGpuStream13, "stream 13");
            w.define_lane(run, rank, kGpuStream14, "stream 14");
        }
        std::istringstream lines(gpu_rank_text(rank, steps));
        std::string line;
        while (std::getline(lines, line)) {
            Event e = fixture::parse_event(w, run, rank, line);
            hi = std::max(hi, e.end_ns);
            w.add_event(e);
        }
        w.add_metric(run, rank, 0, 0, "matrix_flop_per_s", rank == 0 ? 5.0e13 : 5.2e13);
        // The collector's record counts (traces/SCHEMA.md "stats"): counts, not losses.
        w.add_stat(run, rank, "cupti_records_kernel", rank == 0 ? 4 * steps : 3 * steps);
        w.add_stat(run, rank, "cupti_records_nccl", 2 * steps);
    }
    w.set_run_times(run, 0, hi);
    w.finish_run(run, RunStatus::Completed, "", hi);
    return run;
}

// ---- A run as an importer writes it (a Kineto or Nsight trace; docs/ANALYSIS.md "GPU kernel time
// (HTA)") ----
// Two ranks, no spec, no compute lane; CUDA API calls on lane 15 with correlation ids, streams 7,
// 13 and 14 on lanes 23, 29, 30 ("stream N"), host ops on lane 32 ("thread 1234"), NCCL kernels
// (kind comm) carrying their collective and no host-side Comm call. Times in ns.
//   rank 0: host aten::mm [0,90), aten::sync [900,1000), nccl:all_reduce [290,295) (comm, on the
//           thread: the enqueue); launches [80,85) and [86,88);
//           gemm [100,400) and gemm2 [650,800) on stream 7, the all-reduce kernel [300,600) on 13,
//           Memset [350,380) and Memcpy HtoD [500,700) on 14. Trace span [0,1000).
//   rank 1: host aten::mm [0,50), aten::sync [550,600); gemm [100,300) on 7, the all-reduce
//           kernel [200,600) on 13. Trace span [0,600).
// `variant` B (TraceDiff's test side): rank 0 runs gemm twice ([100,400) and [410,500)), no gemm2
// but relu [650,700), only the NCCL launch; and both ranks have a step event over their span.
inline constexpr std::int32_t kThreadLane = 32;
inline std::string imported_rank_text(int rank, bool variant_b) {
    const std::string s7 = " lane=" + std::to_string(lanes::kCudaStreamBase + 7);
    const std::string s13 = " lane=" + std::to_string(lanes::kCudaStreamBase + 13);
    const std::string s14 = " lane=" + std::to_string(lanes::kCudaStreamBase + 14);
    const std::string api = " lane=" + std::to_string(lanes::kCudaApi);
    const std::string thread = " lane=" + std::to_string(kThreadLane);
    const std::string nccl = " coll=all_reduce group=dp gid=0 gsize=2 bytes=4194304 seq=0";
    std::string s;
    if (rank == 0) {
        if (variant_b) s += "step ProfilerStep#1 0 1000 lane=0 step=1\n";
        s += "host aten::mm 0 90" + thread + "\n";
        s += "host aten::sync 900 1000" + thread + "\n";
        // PyTorch's record-function range around the enqueue: a Comm event on the thread, not
        // the transfer (the NCCL kernel is).
        s += "comm nccl:all_reduce 290 295" + thread + nccl + "\n";
        if (!variant_b) s += "host cudaLaunchKernel 80 85" + api + " corr=1\n";
        s += "host cudaLaunchKernel 86 88" + api + " corr=2\n";
        s += "kernel gemm 100 400" + s7 + (variant_b ? "" : " corr=1") + "\n";
        if (variant_b) s += "kernel gemm 410 500" + s7 + "\n";
        s += variant_b ? "kernel relu 650 700" + s7 + "\n" : "kernel gemm2 650 800" + s7 + "\n";
        s += "comm ncclDevKernel_AllReduce_Sum_f32_RING_LL 300 600" + s13 + " corr=2" + nccl + "\n";
        s += "memset Memset 350 380" + s14 + "\n";
        s += "memcpy Memcpy_HtoD 500 700" + s14 + " bytes=1048576\n";
    } else {
        if (variant_b) s += "step ProfilerStep#1 0 600 lane=0 step=1\n";
        s += "host aten::mm 0 50" + thread + "\n";
        s += "host aten::sync 550 600" + thread + "\n";
        s += "kernel gemm 100 300" + s7 + "\n";
        s += "comm ncclDevKernel_AllReduce_Sum_f32_RING_LL 200 600" + s13 + nccl + "\n";
    }
    return s;
}
inline RunId write_imported_run(TraceWriter& w, bool variant_b = false, const std::string& name = "imported") {
    RunInfo ri = info(name, 2, "");
    ri.backend = "import";
    ri.model = "";
    RunId run = w.begin_run(ri);
    for (int rank = 0; rank < 2; ++rank) {
        RankInfo k;
        k.run = run;
        k.rank = rank;
        k.host = "gpu-node";
        k.device = "cuda:" + std::to_string(rank);
        k.dp_coord = rank;
        k.clock_corrected = true;
        w.put_rank(k);
        if (variant_b) w.define_lane(run, rank, lanes::kSteps, lanes::name(lanes::kSteps));
        w.define_lane(run, rank, lanes::kCudaApi, "CUDA API");
        for (int sid : {7, 13, 14})
            w.define_lane(run, rank, lanes::kCudaStreamBase + sid, "stream " + std::to_string(sid));
        w.define_lane(run, rank, kThreadLane, "thread 1234");
        std::istringstream lines(imported_rank_text(rank, variant_b));
        std::string line;
        while (std::getline(lines, line)) w.add_event(fixture::parse_event(w, run, rank, line));
    }
    w.set_run_times(run, 0, 1000);
    w.finish_run(run, RunStatus::Completed, "", 1000);
    return run;
}

}  // namespace afx

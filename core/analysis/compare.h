// Comparison of two runs (or two studies): what changed and what contributed most.
// docs/ANALYSIS.md "Comparison". Plain C++, no Qt; results are plain copyable value structs.
#pragma once

#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/analysis/scaling.h"

namespace ss::core {

// B relative to A: abs = b − a, rel = (b − a)/a (NaN when a is 0 or either side is unknown).
struct Delta {
    double a = 0, b = 0;
    double abs = 0, rel = 0;
    friend bool operator==(const Delta&, const Delta&) = default;
};
Delta delta(double a, double b);

// A breakdown part for people: "exposed communication" for Part::ExposedComm.
std::string part_label(Part p);
// A run's MFU note is core::mfu_note (analysis.h), as on the Summary page.

struct MetricDelta {
    std::string name;  // "step_time_median", "samples_per_s", "mfu", ...
    std::string unit;  // "ns", "1/s", "ratio", ...
    Delta d;
    std::string label;           // for people: "step time (median)", "MFU", "exposed communication"
    std::string note_a, note_b;  // where a value comes from, or why it is unknown (MFU: the peak)
    friend bool operator==(const MetricDelta&, const MetricDelta&) = default;
};

enum class Presence : int { Both = 0, AOnly = 1, BOnly = 2 };
std::string_view to_string(Presence p);  // "both", "a_only", "b_only"

// Per kernel name: time per step per rank.
struct KernelDelta {
    std::string name;
    Presence presence = Presence::Both;
    Delta per_step_ns;
    Delta count_per_step;  // calls per step per rank
    friend bool operator==(const KernelDelta&, const KernelDelta&) = default;
};

// HTA's TraceDiff (docs/ANALYSIS.md "Ops: what was added, removed, changed"): every op by name
// and side (host or GPU), count and time per step and rank in A and B.
enum class OpChange : int { Added = 0, Removed = 1, Increased = 2, Decreased = 3, Unchanged = 4 };
std::string_view to_string(OpChange c);  // "added", "removed", "increased", "decreased", "unchanged"
struct OpDiff {
    std::string name;
    bool gpu = false;  // a record on a CUDA stream (else a host-side op)
    OpChange change = OpChange::Unchanged;  // by the count per step and rank
    Delta count_per_step;  // calls per step per rank
    Delta per_step_ns;     // total time per step per rank
    friend bool operator==(const OpDiff&, const OpDiff&) = default;
};
// The change of an op's count per step and rank from a to b (a relative tolerance of 1e-9).
OpChange op_change(double count_a, double count_b);

// Per collective and group kind (message sizes summed): time and bytes per step per rank.
struct CollectiveDelta {
    traces::Collective collective = traces::Collective::None;
    traces::GroupKind group_kind = traces::GroupKind::None;
    Presence presence = Presence::Both;
    Delta per_step_ns;
    Delta bytes_per_step;
    Delta busbw;  // time-weighted mean busbw (B/s)
    friend bool operator==(const CollectiveDelta&, const CollectiveDelta&) = default;
};

struct RunComparison {
    std::string label_a, label_b;  // "a.sqlite:1"
    traces::RunInfo run_a, run_b;
    std::vector<MetricDelta> summary;      // step time, throughput, MFU, overlap ratio
    std::vector<MetricDelta> breakdown;    // each part (ns per step, mean over ranks) and its sum
    std::vector<KernelDelta> kernels;      // by |Δ time per step|, largest first
    std::vector<CollectiveDelta> collectives;
    std::vector<OpDiff> ops;               // every op: by |Δ time per step|, largest first
    std::string verdict;                   // one line: faster/slower by how much and why
    std::vector<std::string> warnings;     // both analyses' warnings, prefixed "A:"/"B:"; layout differences
    friend bool operator==(const RunComparison&, const RunComparison&) = default;
};
RunComparison compare_runs(const RunAnalysis& a, const RunAnalysis& b, const std::string& label_a = "A",
                           const std::string& label_b = "B");

// Two studies: per p present in both, time, speedup and efficiency; and every fitted parameter.
struct StudyPointDelta {
    std::int32_t p = 1;
    Presence presence = Presence::Both;
    Delta time_ns, speedup, efficiency;
    friend bool operator==(const StudyPointDelta&, const StudyPointDelta&) = default;
};
struct FitDelta {
    Law law = Law::Amdahl;
    std::string param;
    Delta value;
    bool significant = false;  // the two bootstrap intervals do not overlap
    friend bool operator==(const FitDelta&, const FitDelta&) = default;
};
struct StudyComparison {
    std::string label_a, label_b;
    std::vector<StudyPointDelta> points;
    std::vector<FitDelta> fits;
    std::string verdict;
    std::vector<std::string> warnings;
    friend bool operator==(const StudyComparison&, const StudyComparison&) = default;
};
StudyComparison compare_studies(const ScalingResult& a, const ScalingResult& b,
                                const std::string& label_a = "A", const std::string& label_b = "B");

}  // namespace ss::core

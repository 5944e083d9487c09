// Scaling laws over a study (runs over p): speedup, efficiency, Karp–Flatt, and fits of Amdahl,
// Gustafson (closed-form least squares) and the USL (GSL nonlinear least squares), each with a
// bootstrap confidence interval, goodness of fit and warnings; projections to a chosen p and the p
// at which efficiency falls below a threshold. DESIGN.md "Formulas"; docs/ANALYSIS.md "Scaling".
// Plain C++, no Qt; results are plain copyable value structs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "traces/reader.h"
#include "traces/types.h"

namespace ss::core {

// ---- The laws (DESIGN.md "Formulas") ----
double amdahl_speedup(double f, double p);                     // 1 / (f + (1-f)/p)
double gustafson_speedup(double f, double p);                  // p - f(p-1)
double usl_speedup(double sigma, double kappa, double p);      // p / (1 + σ(p-1) + κp(p-1))
// e(p) = (1/S - 1/p) / (1 - 1/p); NaN at p = 1.
double karp_flatt(double speedup, double p);

// Closed-form least squares from measured (p, S) (points with p = 1 carry no information):
//   Amdahl    f = Σ(1/S − 1/p)(1 − 1/p) / Σ(1 − 1/p)²
//   Gustafson f = Σ(p − S)(p − 1) / Σ(p − 1)²
// Throw std::invalid_argument when no point has p > 1 or sizes differ.
double amdahl_serial_fraction(const std::vector<double>& p, const std::vector<double>& s);
double gustafson_serial_fraction(const std::vector<double>& p, const std::vector<double>& s);

// USL (σ, κ) minimising Σ(S_i − usl(p_i))² with GSL's trust-region nonlinear least squares
// (gsl_multifit_nlinear, Levenberg–Marquardt). Starts from `start` when given, else from several
// deterministic points, keeping the lowest cost.
struct UslFit {
    double sigma = 0, kappa = 0;
    double cost = 0;          // ½ Σ residual²
    bool converged = false;   // the solver met its tolerance (or could not improve further)
    std::string status;       // GSL's status text
};
UslFit fit_usl(const std::vector<double>& p, const std::vector<double>& s,
               const double* start_sigma_kappa = nullptr);

enum class Law : int { Amdahl = 0, Gustafson = 1, Usl = 2 };
inline constexpr int kLawCount = 3;
std::string_view to_string(Law l);  // "amdahl", "gustafson", "usl"

// ---- Inputs ----
// One measured run of a study: its process count and its time per step (median after warm-up).
struct ScalingSample {
    std::int32_t p = 1;
    std::int32_t repeat = 0;
    traces::RunId run;
    std::string value;           // the swept value as stored ("2", "dp=2,tp=2")
    double time_ns = 0;          // median step time (ns)
    bool oversubscribed = false;
    friend bool operator==(const ScalingSample&, const ScalingSample&) = default;
};

struct ScalingOptions {
    std::vector<double> project_p{1024};  // p to project every fitted law to
    double efficiency_threshold = 0.5;    // report the p at which E(p) falls below this (0, 1]
    int bootstrap = 1000;                 // resamples for the confidence intervals
    double confidence = 0.95;             // interval coverage
    std::uint64_t seed = 0x5ca1e5c0deULL;  // fixed: the same input gives the same intervals
    double poor_fit_r2 = 0.9;             // warn when R² is below this
    int warmup_steps = -1;                // per run; < 0 = detect (analysis.h)
    double extrapolation_factor = 4.0;    // warn when projecting beyond this × the largest measured p
    // Oversubscribed points (more ranks than cores: their timings measure contention, not scaling)
    // are left out of the fits, projections and crossings when at least 2 points that are not
    // (p = 1 among them) remain; they stay in `points`, flagged (ScalingPoint::fitted = false).
    // true: fit every point, as before (the fits then warn).
    bool fit_oversubscribed = false;
};

// ---- Results ----
struct ScalingPoint {
    std::int32_t p = 1;
    std::int32_t runs = 0;        // repeats at this p
    double time_ns = 0;           // mean over repeats of the runs' median step time
    double time_min_ns = 0, time_max_ns = 0;
    double speedup = 0;           // strong: T(1)/T(p); weak (scaled): p·T(1)/T(p)
    double efficiency = 0;        // S/p
    double karp_flatt = 0;        // NaN at p = 1
    bool oversubscribed = false;  // any run at this p was
    bool fitted = true;           // in the fits' input (false: oversubscribed, left out; see
                                  // ScalingOptions::fit_oversubscribed and ScalingResult::fit_note)
    friend bool operator==(const ScalingPoint&, const ScalingPoint&) = default;
};

struct FitParam {
    std::string name;  // "f", "sigma", "kappa"
    double value = 0;
    double ci_low = 0, ci_high = 0;  // bootstrap percentile interval (ScalingResult::ci_method);
                                     // NaN = no interval (the law has as many parameters as points)
    friend bool operator==(const FitParam&, const FitParam&) = default;
};

struct LawFit {
    Law law = Law::Amdahl;
    std::string formula;             // e.g. "S(p) = 1/(f + (1-f)/p)"
    bool matches_scaling = false;    // the law of this study's kind (Amdahl strong, Gustafson weak, USL both)
    std::vector<FitParam> params;
    double r2 = 0;                   // 1 − SS_res/SS_tot over the points' speedups (NaN when S is constant)
    double rmse = 0;                 // sqrt(SS_res / n)
    std::int32_t points = 0;         // distinct p fitted (the points with `fitted`)
    bool ok = true;                  // a fit was possible (enough points; the solver converged)
    bool has_interval = true;        // false: as many parameters as points with p > 1 (the law
                                     // passes through them), the intervals are NaN
    std::vector<std::string> warnings;
    double speedup(double p) const;
    double efficiency(double p) const { return speedup(p) / p; }
    friend bool operator==(const LawFit&, const LawFit&) = default;
};

struct Projection {
    Law law = Law::Amdahl;
    double p = 0;
    double speedup = 0, speedup_low = 0, speedup_high = 0;  // low/high NaN: the fit has no interval
    double efficiency = 0, efficiency_low = 0, efficiency_high = 0;
    double beyond_measured = 0;  // p ÷ the largest measured p
    bool extrapolated = false;   // beyond_measured > ScalingOptions::extrapolation_factor
    friend bool operator==(const Projection&, const Projection&) = default;
};

// Smallest integer p >= 1 with E(p) < threshold under the fitted law; NaN = never (the law's
// efficiency stays at or above the threshold for every p).
struct Crossing {
    Law law = Law::Amdahl;
    double threshold = 0.5;
    double p = 0;
    friend bool operator==(const Crossing&, const Crossing&) = default;
};
double efficiency_crossing(const LawFit& fit, double threshold);

struct ScalingResult {
    traces::StudyInfo study;       // empty for a study built from samples directly
    bool weak = false;
    std::vector<ScalingSample> samples;
    std::vector<ScalingPoint> points;  // by p
    std::vector<LawFit> fits;          // Amdahl, Gustafson, USL
    std::vector<Projection> projections;
    std::vector<Crossing> crossings;
    std::string ci_method;             // "bootstrap over repeats (1000 resamples, seed ...)" or residuals
    std::vector<std::int32_t> excluded_p;  // points left out of the fits (oversubscribed), by p
    std::string fit_note;              // why they were left out; empty when every point is fitted
    std::string model;                 // analyze_study: the runs' model ("mlp-default"), if one
    std::vector<std::string> hosts;    // analyze_study: the hosts the runs used, sorted, unique
    std::vector<std::string> warnings;
    friend bool operator==(const ScalingResult&, const ScalingResult&) = default;
};

// The analysis from measured samples. Throws AnalysisError (analysis.h) when there is no p = 1
// point (naming the p values present), a sample has p < 1 or a time <= 0, or there are no samples.
ScalingResult analyze_scaling(std::vector<ScalingSample> samples, bool weak,
                              const ScalingOptions& options = {});

// A study of a trace file: each run's median step time after warm-up (analysis.h run_step_times).
// Runs that did not complete are left out with a warning. Throws AnalysisError naming the study
// and what is missing.
ScalingResult analyze_study(traces::TraceReader& reader, traces::StudyId study,
                            const ScalingOptions& options = {});

// The fit of `law` in a result (there is one per law), or nullptr.
const LawFit* find_fit(const ScalingResult& r, Law law);
// The law of the study's own kind: Gustafson for weak scaling, Amdahl for strong.
inline Law own_law(const ScalingResult& r) { return r.weak ? Law::Gustafson : Law::Amdahl; }

}  // namespace ss::core

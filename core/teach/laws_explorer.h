// The numbers of the Learn page's "Amdahl vs Gustafson" explorer (docs/GUI.md "Learn page"): the
// two laws and Karp–Flatt read at a chosen serial fraction f and process count p, the curves over
// p, the open study's measured points with the serial fraction its analysis fitted, and the plain
// sentences the page shows. Every value comes from core/analysis/scaling.h (amdahl_speedup,
// gustafson_speedup, karp_flatt, analyze_study's fits): nothing is derived twice. No Qt.
#pragma once

#include <string>
#include <vector>

#include "core/analysis/scaling.h"

namespace ss::core::teach {

// The laws at one (f, p):
//   Amdahl (strong scaling, fixed problem)    S = 1/(f + (1−f)/p), at most 1/f
//   Gustafson (weak scaling, problem ∝ p)     S = p − f(p − 1)
//   Karp–Flatt read off a curve               e = (1/S − 1/p)/(1 − 1/p): f itself on the Amdahl
//                                             curve (at every p), f/S on the Gustafson one; NaN at
//                                             p = 1.
struct LawReading {
    double f = 0, p = 1;
    double amdahl = 0, amdahl_efficiency = 0;
    double amdahl_limit = 0;  // 1/f (infinity at f = 0)
    double gustafson = 0, gustafson_efficiency = 0;
    double karp_flatt_amdahl = 0, karp_flatt_gustafson = 0;
};
// Throws std::invalid_argument for f outside [0, 1] or p < 1.
LawReading read_laws(double f, double p);

// Process counts 1, 2, 4, … up to the first power of two >= max_p (the page's log₂ axis ticks).
std::vector<int> powers_of_two_up_to(int max_p);

// Both curves sampled at `per_doubling` points per doubling of p from 1 to p_max (geometric
// steps, so they are smooth on a log₂ axis); the last sample is p_max.
struct LawCurve {
    std::vector<double> p, amdahl, gustafson;
};
LawCurve sample_laws(double f, double p_max, int per_doubling = 8);

// The open study, as the explorer overlays it: its measured mean speedup per p, and the serial
// fraction its analysis fitted with the law of its kind (Amdahl for strong scaling, Gustafson for
// weak: ScalingResult::fits, LawFit::matches_scaling). Points at p = 1 are kept (S = 1).
struct StudyOverlay {
    bool present = false;  // false: no study, or its fit failed (`why`)
    bool weak = false;
    std::string name;  // the study's name
    std::vector<double> p, speedup;
    std::vector<bool> oversubscribed;
    Law law = Law::Amdahl;
    double fitted_f = 0;  // NaN when the law could not be fitted
    double fitted_r2 = 0;
    std::string why;  // when !present or the fit is missing
};
StudyOverlay overlay_from_scaling(const ScalingResult& r);

// The three or four sentences under the chart, updated with the controls (the numbers as the
// page shows them, 3 significant digits); the fourth speaks of the study when `study` is present.
std::vector<std::string> explain_laws(const LawReading& r, const StudyOverlay* study);

// The number formatting the sentences and the page share: 3 significant digits, no exponent for
// everyday magnitudes ("5.93", "0.0500", "20.0", "∞").
std::string fmt3(double v);

}  // namespace ss::core::teach

// The simulator's own error band (docs/SIMULATOR.md, "Validation"): a held-out validation
// (core/sim/sim_trace.h validate_runs) summarised per layout class into the hardware file's
// "validation" block (hardware.h HardwareValidation), and the band a prediction made with that
// hardware file carries. No Qt here.
#pragma once

#include <string>

#include "core/sim/hardware.h"
#include "core/sim/sim_trace.h"
#include "core/spec/spec.h"

namespace ss::core {

// "single" (dp = tp = pp = 1), "dp", "tp", "pp" (that one > 1), "mixed" (more than one > 1).
const char* layout_class(int dp, int tp, int pp);

// The validation block of `rep`: every predicted point (fit points left out) by layout class,
// each point's error the larger of the analytic and the replay engine's; oversubscribed points
// apart. `statistic` ("median" | "best"), `study` (the file validated) are recorded; date and host
// are now and this machine.
HardwareValidation summarize_validation(const ValidationReport& rep, const std::string& statistic,
                                        const std::string& study);

// Writes `v` as the "validation" block of the hardware JSON file at `path`, every other field of
// the file kept as it is (rewritten pretty-printed, comments dropped). Throws HardwareError naming
// the file (a .sqlite, an unreadable or invalid file, a failed write).
void store_validation(const std::string& path, const HardwareValidation& v);

// The band of one prediction: the mean |error| of the validation's points of the prediction's
// layout class when it has any, else of all its points (oversubscribed predictions: of its
// oversubscribed points, when it has any).
struct ErrorBand {
    bool backed = false;    // false: no validation backs the hardware file
    double rel = 0;         // mean |relative error| (0.061 = ± 6.1 %)
    int points = 0;         // points behind `rel`
    int total_points = 0;   // points of the whole validation (not oversubscribed)
    std::string scope;      // "dp layouts", "all layouts", "oversubscribed layouts"
    std::string date;       // the validation's day (YYYY-MM-DD)
    std::string statistic;  // "median" | "best"
};
ErrorBand error_band(const Hardware& hw, int dp, int tp, int pp, bool oversubscribed = false);
ErrorBand error_band(const Hardware& hw, const ExperimentSpec& spec, bool oversubscribed = false);

// "± 6.1 % (held-out validation of 9 points, dp layouts: 3, median of repeats, 2026-12-01)", or
// "no validation backs this hardware file".
std::string band_text(const ErrorBand& b);
// How to make one (for a note beside predictions without a band).
std::string no_band_hint();
// "step 12.3 ms ± 6.1 % (held-out validation ...)".
std::string step_with_band(double step_s, const ErrorBand& b);

}  // namespace ss::core

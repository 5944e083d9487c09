// Scaling laws and their fits. DESIGN.md "Formulas" gives the laws and the closed forms;
// docs/ANALYSIS.md "Scaling" the bootstrap, goodness of fit and warnings.
#include "core/analysis/scaling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include "core/analysis/analysis.h"

namespace ss::core {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double v, int prec = 4) {
    std::ostringstream o;
    o.precision(prec);
    o << v;
    return o.str();
}

std::string p_list(const std::vector<double>& ps) {
    std::string s;
    for (size_t i = 0; i < ps.size(); ++i) s += (i ? ", " : "") + fmt(ps[i], 10);
    return s;
}
}  // namespace

// ---- Laws ----

double amdahl_speedup(double f, double p) { return 1.0 / (f + (1.0 - f) / p); }
double gustafson_speedup(double f, double p) { return p - f * (p - 1.0); }
double usl_speedup(double sigma, double kappa, double p) {
    return p / (1.0 + sigma * (p - 1.0) + kappa * p * (p - 1.0));
}
double karp_flatt(double s, double p) {
    if (p <= 1.0) return kNaN;
    return (1.0 / s - 1.0 / p) / (1.0 - 1.0 / p);
}

std::string_view to_string(Law l) {
    switch (l) {
        case Law::Amdahl: return "amdahl";
        case Law::Gustafson: return "gustafson";
        case Law::Usl: return "usl";
    }
    return "?";
}

namespace {
void check_sizes(const std::vector<double>& p, const std::vector<double>& s, const char* what) {
    if (p.size() != s.size())
        throw std::invalid_argument(std::string(what) + ": p and S have different lengths");
    if (std::none_of(p.begin(), p.end(), [](double x) { return x > 1.0; }))
        throw std::invalid_argument(std::string(what) + ": needs a point with p > 1");
}
}  // namespace

double amdahl_serial_fraction(const std::vector<double>& p, const std::vector<double>& s) {
    check_sizes(p, s, "Amdahl fit");
    // f = Σ(1/S − 1/p)(1 − 1/p) / Σ(1 − 1/p)²   (DESIGN.md "Formulas")
    double num = 0, den = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        const double x = 1.0 - 1.0 / p[i];
        num += (1.0 / s[i] - 1.0 / p[i]) * x;
        den += x * x;
    }
    return num / den;
}

double gustafson_serial_fraction(const std::vector<double>& p, const std::vector<double>& s) {
    check_sizes(p, s, "Gustafson fit");
    // f = Σ(p − S)(p − 1) / Σ(p − 1)²   (DESIGN.md "Formulas")
    double num = 0, den = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        num += (p[i] - s[i]) * (p[i] - 1.0);
        den += (p[i] - 1.0) * (p[i] - 1.0);
    }
    return num / den;
}

// ---- USL by GSL nonlinear least squares ----

namespace {
struct UslData {
    const std::vector<double>* p;
    const std::vector<double>* s;
};

// Residuals r_i = usl(p_i) − S_i.
int usl_f(const gsl_vector* x, void* params, gsl_vector* f) {
    const auto* d = static_cast<UslData*>(params);
    const double sigma = gsl_vector_get(x, 0), kappa = gsl_vector_get(x, 1);
    for (size_t i = 0; i < d->p->size(); ++i) {
        const double p = (*d->p)[i];
        gsl_vector_set(f, i, usl_speedup(sigma, kappa, p) - (*d->s)[i]);
    }
    return GSL_SUCCESS;
}

// Jacobian: with D = 1 + σ(p−1) + κp(p−1), ∂S/∂σ = −p(p−1)/D², ∂S/∂κ = −p²(p−1)/D².
int usl_df(const gsl_vector* x, void* params, gsl_matrix* j) {
    const auto* d = static_cast<UslData*>(params);
    const double sigma = gsl_vector_get(x, 0), kappa = gsl_vector_get(x, 1);
    for (size_t i = 0; i < d->p->size(); ++i) {
        const double p = (*d->p)[i];
        const double den = 1.0 + sigma * (p - 1.0) + kappa * p * (p - 1.0);
        const double d2 = den * den;
        gsl_matrix_set(j, i, 0, -p * (p - 1.0) / d2);
        gsl_matrix_set(j, i, 1, -p * p * (p - 1.0) / d2);
    }
    return GSL_SUCCESS;
}

UslFit usl_from(const std::vector<double>& p, const std::vector<double>& s, double sigma0, double kappa0) {
    UslData data{&p, &s};
    const size_t n = p.size();
    gsl_multifit_nlinear_fdf fdf;
    fdf.f = usl_f;
    fdf.df = usl_df;
    fdf.fvv = nullptr;
    fdf.n = n;
    fdf.p = 2;
    fdf.params = &data;
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    par.trs = gsl_multifit_nlinear_trs_lm;
    gsl_multifit_nlinear_workspace* w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, n, 2);
    UslFit out;
    if (!w) {
        out.status = "gsl_multifit_nlinear_alloc failed";
        return out;
    }
    double x0[2] = {sigma0, kappa0};
    gsl_vector_view xv = gsl_vector_view_array(x0, 2);
    int status = gsl_multifit_nlinear_init(&xv.vector, &fdf, w);
    int info = 0;
    if (status == GSL_SUCCESS)
        status = gsl_multifit_nlinear_driver(500, 1e-12, 1e-12, 1e-12, nullptr, nullptr, &info, w);
    const gsl_vector* x = gsl_multifit_nlinear_position(w);
    out.sigma = gsl_vector_get(x, 0);
    out.kappa = gsl_vector_get(x, 1);
    const gsl_vector* r = gsl_multifit_nlinear_residual(w);
    double chi = 0;
    gsl_blas_ddot(r, r, &chi);
    out.cost = 0.5 * chi;
    // GSL_ENOPROG: no step improves the cost any further (machine precision reached).
    out.converged = (status == GSL_SUCCESS || status == GSL_ENOPROG) && std::isfinite(out.cost) &&
                    std::isfinite(out.sigma) && std::isfinite(out.kappa);
    out.status = gsl_strerror(status);
    gsl_multifit_nlinear_free(w);
    return out;
}
}  // namespace

UslFit fit_usl(const std::vector<double>& p, const std::vector<double>& s, const double* start) {
    if (p.size() != s.size()) throw std::invalid_argument("USL fit: p and S have different lengths");
    if (p.size() < 2) throw std::invalid_argument("USL fit: needs at least 2 points");
    static std::once_flag once;
    std::call_once(once, [] { gsl_set_error_handler_off(); });  // report status, never abort()
    std::vector<std::pair<double, double>> starts;
    if (start) {
        starts.push_back({start[0], start[1]});
    } else {
        double f0 = 0.05;
        try {
            f0 = std::clamp(amdahl_serial_fraction(p, s), 0.0, 1.0);
        } catch (const std::invalid_argument&) {
            // Only a starting point: without an Amdahl fit the USL search starts at 0.05 (and the
            // four other starts below); a USL fit that fails still throws, naming why.
            f0 = 0.05;
        }
        starts = {{f0, 0.0}, {0.05, 1e-3}, {0.5, 0.05}, {0.01, 0.0}, {0.0, 1e-4}};
    }
    UslFit best;
    bool have = false;
    for (const auto& [s0, k0] : starts) {
        UslFit f = usl_from(p, s, s0, k0);
        const bool better = !have || (f.converged && !best.converged) ||
                            (f.converged == best.converged && f.cost < best.cost);
        if (better) {
            best = f;
            have = true;
        }
    }
    return best;
}

// ---- Fits with goodness of fit ----

double LawFit::speedup(double p) const {
    if (params.empty()) return kNaN;
    switch (law) {
        case Law::Amdahl: return amdahl_speedup(params[0].value, p);
        case Law::Gustafson: return gustafson_speedup(params[0].value, p);
        case Law::Usl: return params.size() < 2 ? kNaN : usl_speedup(params[0].value, params[1].value, p);
    }
    return kNaN;
}

double efficiency_crossing(const LawFit& fit, double t) {
    if (!(t > 0.0 && t <= 1.0)) throw std::invalid_argument("efficiency threshold must be in (0, 1], got " + fmt(t));
    if (fit.params.empty() || !fit.ok) return kNaN;
    auto first_above = [](double x) { return std::floor(x) + 1.0; };  // smallest integer > x
    switch (fit.law) {
        case Law::Amdahl: {
            // E = 1/(f·p + 1 − f) < t  ⇔  f·p > 1/t − 1 + f
            const double f = fit.params[0].value;
            if (f <= 0) return kNaN;
            return std::max(1.0, first_above((1.0 / t - 1.0 + f) / f));
        }
        case Law::Gustafson: {
            // E = 1 − f(1 − 1/p) < t  ⇔  1 − 1/p > (1 − t)/f
            const double f = fit.params[0].value;
            if (f <= 0) return kNaN;
            const double c = (1.0 - t) / f;
            if (c >= 1.0) return kNaN;
            return std::max(1.0, first_above(1.0 / (1.0 - c)));
        }
        case Law::Usl: {
            // E = 1/(1 + σ(p−1) + κp(p−1)) < t  ⇔  q(p) = κp² + (σ−κ)p − (σ + 1/t − 1) > 0
            const double sg = fit.params[0].value, k = fit.params[1].value;
            const double c = sg + 1.0 / t - 1.0;
            if (1.0 - 1.0 / t > 0) return 1.0;  // q(1) > 0 only when t > 1 (excluded above)
            if (k == 0.0) return sg > 0 ? std::max(1.0, first_above(c / sg)) : kNaN;
            const double b = sg - k;
            const double disc = b * b + 4.0 * k * c;
            if (disc < 0) return k > 0 ? 1.0 : kNaN;
            const double sq = std::sqrt(disc);
            const double r1 = (-b - sq) / (2.0 * k), r2 = (-b + sq) / (2.0 * k);
            const double lo = std::min(r1, r2), hi = std::max(r1, r2);
            if (k > 0) return std::max(1.0, first_above(hi));  // q > 0 beyond the larger root
            // κ < 0: q > 0 only between the roots.
            const double cand = first_above(std::max(lo, 1.0));
            return cand < hi ? cand : kNaN;
        }
    }
    return kNaN;
}

namespace {

struct PointData {
    std::vector<double> p, s;
};

// Fits one law to the points; params only (no interval, no warnings).
std::vector<double> fit_params(Law law, const PointData& d, const double* start, bool* converged) {
    if (converged) *converged = true;
    switch (law) {
        case Law::Amdahl: return {amdahl_serial_fraction(d.p, d.s)};
        case Law::Gustafson: return {gustafson_serial_fraction(d.p, d.s)};
        case Law::Usl: {
            // One p > 1 only: σ and κ are not both determined; take the smallest model, κ = 0
            // (the USL is then Amdahl's law, σ = f), not whatever the solver stops at.
            std::set<double> above;
            for (double p : d.p)
                if (p > 1.0) above.insert(p);
            if (above.size() == 1) return {amdahl_serial_fraction(d.p, d.s), 0.0};
            UslFit f = fit_usl(d.p, d.s, start);
            if (!f.converged && start) f = fit_usl(d.p, d.s, nullptr);  // the fixed starts instead
            if (converged) *converged = f.converged;
            return {f.sigma, f.kappa};
        }
    }
    return {};
}

double law_speedup(Law law, const std::vector<double>& x, double p) {
    switch (law) {
        case Law::Amdahl: return amdahl_speedup(x[0], p);
        case Law::Gustafson: return gustafson_speedup(x[0], p);
        case Law::Usl: return usl_speedup(x[0], x[1], p);
    }
    return kNaN;
}

// Percentile with linear interpolation between order statistics (q in [0, 1]).
double percentile(std::vector<double> v, double q) {
    std::erase_if(v, [](double x) { return !std::isfinite(x); });
    if (v.empty()) return kNaN;
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const auto i = static_cast<size_t>(std::floor(pos));
    const double frac = pos - static_cast<double>(i);
    return i + 1 < v.size() ? v[i] + frac * (v[i + 1] - v[i]) : v[i];
}

// Points (one per p) from samples: mean time over repeats, speedup against p = 1.
std::vector<ScalingPoint> make_points(const std::map<int, std::vector<double>>& times,
                                      const std::map<int, bool>& over, bool weak) {
    const auto& t1v = times.at(1);
    double t1 = 0;
    for (double t : t1v) t1 += t;
    t1 /= static_cast<double>(t1v.size());
    std::vector<ScalingPoint> pts;
    for (const auto& [p, ts] : times) {
        ScalingPoint pt;
        pt.p = p;
        pt.runs = static_cast<std::int32_t>(ts.size());
        double sum = 0;
        for (double t : ts) sum += t;
        pt.time_ns = sum / static_cast<double>(ts.size());
        pt.time_min_ns = *std::min_element(ts.begin(), ts.end());
        pt.time_max_ns = *std::max_element(ts.begin(), ts.end());
        const double pd = p;
        pt.speedup = weak ? pd * t1 / pt.time_ns : t1 / pt.time_ns;
        pt.efficiency = pt.speedup / pd;
        pt.karp_flatt = karp_flatt(pt.speedup, pd);
        auto o = over.find(p);
        pt.oversubscribed = o != over.end() && o->second;
        pts.push_back(pt);
    }
    return pts;
}

PointData point_data(const std::vector<ScalingPoint>& pts) {
    PointData d;
    for (const auto& pt : pts) {
        d.p.push_back(pt.p);
        d.s.push_back(pt.speedup);
    }
    return d;
}

}  // namespace

ScalingResult analyze_scaling(std::vector<ScalingSample> samples, bool weak, const ScalingOptions& opt) {
    if (samples.empty()) throw AnalysisError("the scaling study has no measured runs");
    if (!(opt.efficiency_threshold > 0.0 && opt.efficiency_threshold <= 1.0))
        throw AnalysisError("efficiency threshold must be in (0, 1], got " + fmt(opt.efficiency_threshold));
    if (!(opt.confidence > 0.0 && opt.confidence < 1.0))
        throw AnalysisError("confidence must be in (0, 1), got " + fmt(opt.confidence));
    for (double P : opt.project_p)
        if (!(P >= 1.0)) throw AnalysisError("projection p must be >= 1, got " + fmt(P));
    ScalingResult res;
    res.weak = weak;
    std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) {
        return std::tie(a.p, a.repeat, a.run) < std::tie(b.p, b.repeat, b.run);
    });
    std::map<int, std::vector<double>> times;
    std::map<int, bool> over;
    for (const auto& s : samples) {
        if (s.p < 1)
            throw AnalysisError("run " + std::to_string(s.run.value) + " has p=" + std::to_string(s.p) +
                                ": process counts must be >= 1");
        if (!(s.time_ns > 0))
            throw AnalysisError("run " + std::to_string(s.run.value) + " (p=" + std::to_string(s.p) +
                                ") has no positive step time");
        times[s.p].push_back(s.time_ns);
        over[s.p] = over[s.p] || s.oversubscribed;
    }
    res.samples = samples;
    if (!times.count(1)) {
        std::vector<double> ps;
        for (const auto& [p, t] : times) ps.push_back(p);
        throw AnalysisError(std::string("the study has no p=1 point: ") +
                            (weak ? "weak scaling's scaled speedup p·T(1)/T(p)" : "strong scaling's speedup S(p) = T(1)/T(p)") +
                            " needs a run with p=1 (the study has p = " + p_list(ps) + ")");
    }
    res.points = make_points(times, over, weak);

    std::vector<double> over_p;
    for (const auto& pt : res.points)
        if (pt.oversubscribed) over_p.push_back(pt.p);
    const std::string over_list = p_list(over_p);

    // The fits' input: oversubscribed points measure contention (ranks sharing cores), not scaling,
    // so they are left out when at least 2 points that are not remain, p = 1 among them; they stay
    // in `points`, flagged (docs/ANALYSIS.md "Fits").
    std::map<int, std::vector<double>> fit_times = times;
    const auto clean = std::count_if(res.points.begin(), res.points.end(),
                                     [](const ScalingPoint& pt) { return !pt.oversubscribed; });
    const bool exclude = !over_p.empty() && !opt.fit_oversubscribed && clean >= 2 && !res.points.front().oversubscribed;
    std::vector<ScalingPoint> fit_points;
    for (auto& pt : res.points) {
        if (exclude && pt.oversubscribed) {
            pt.fitted = false;
            res.excluded_p.push_back(pt.p);
            fit_times.erase(pt.p);
        } else {
            fit_points.push_back(pt);
        }
    }
    if (exclude)
        res.fit_note = "p = " + over_list + " left out of the fits: oversubscribed (more ranks than cores), " +
                       (over_p.size() > 1 ? "their timings measure" : "its timing measures") +
                       " contention, not scaling; shown, flagged";
    const PointData data = point_data(fit_points);
    const int npts = static_cast<int>(fit_points.size());

    if (!over_p.empty())
        res.warnings.push_back("oversubscribed runs (more ranks than cores) at p = " + over_list +
                               ": their timings are contended" +
                               (exclude ? "; shown, flagged, and left out of the fits" : ""));
    std::vector<double> slower;
    for (const auto& pt : res.points)
        if (pt.p > 1 && pt.speedup < 1.0) slower.push_back(pt.p);
    if (!slower.empty())
        res.warnings.push_back("speedup below 1 at p = " + p_list(slower) + ": " +
                               (weak ? "T(p) exceeded p·T(1)" : "these runs were slower than the p=1 run") +
                               " (contention, oversubscription or communication dominate)");
    const bool can_fit = npts >= 2;  // p = 1 and at least one p > 1
    if (!can_fit)
        res.warnings.push_back("the study has only p=1: nothing to fit");
    std::vector<double> measured_p;
    for (const auto& pt : fit_points) measured_p.push_back(pt.p);
    if (npts == 2)
        res.warnings.push_back(std::string(exclude ? "2 points fitted" : "2 points") + " (p = " + p_list(measured_p) +
                               "): every law passes through them; no interval; projections are extrapolations");
    const double p_max = fit_points.back().p;
    if (can_fit) {
        std::vector<double> far;
        for (double P : opt.project_p)
            if (P > opt.extrapolation_factor * p_max) far.push_back(P);
        if (!far.empty())
            res.warnings.push_back("projection to p = " + p_list(far) + " is " + fmt(far.back() / p_max, 3) +
                                   (exclude ? "x the largest fitted p (" : "x the largest measured p (") + fmt(p_max, 10) +
                                   "): an extrapolation of the fitted law, not a measurement");
    }

    // Bootstrap: over repeats when any p has several, else over the fits' residuals.
    const bool by_repeats =
        std::any_of(fit_times.begin(), fit_times.end(), [](const auto& kv) { return kv.second.size() > 1; });
    const int B = std::max(0, opt.bootstrap);
    res.ci_method = std::string(by_repeats ? "bootstrap over repeats" : "bootstrap over residuals") +
                    " (" + std::to_string(B) + " resamples, seed " + std::to_string(opt.seed) + ", " +
                    fmt(100.0 * opt.confidence, 3) + "% percentile interval)";
    const double qlo = (1.0 - opt.confidence) / 2.0, qhi = 1.0 - qlo;

    for (int li = 0; li < kLawCount; ++li) {
        const Law law = static_cast<Law>(li);
        LawFit fit;
        fit.law = law;
        fit.points = npts;
        switch (law) {
            case Law::Amdahl:
                fit.formula = "S(p) = 1/(f + (1-f)/p)";
                fit.matches_scaling = !weak;
                break;
            case Law::Gustafson:
                fit.formula = "S(p) = p - f(p-1)";
                fit.matches_scaling = weak;
                break;
            case Law::Usl:
                fit.formula = "S(p) = p/(1 + sigma(p-1) + kappa p(p-1))";
                fit.matches_scaling = true;
                break;
        }
        const std::vector<std::string> names =
            law == Law::Usl ? std::vector<std::string>{"sigma", "kappa"} : std::vector<std::string>{"f"};
        if (!can_fit) {
            fit.ok = false;
            fit.warnings.push_back("no point with p > 1: no fit");
            res.fits.push_back(fit);
            continue;
        }
        bool conv = true;
        const std::vector<double> x = fit_params(law, data, nullptr, &conv);
        if (!conv) {
            fit.ok = false;
            fit.warnings.push_back("the USL solver did not converge: parameters unreliable");
        }
        // Goodness of fit over the points' speedups.
        double mean = 0;
        for (double s : data.s) mean += s;
        mean /= static_cast<double>(npts);
        double ss_res = 0, ss_tot = 0;
        std::vector<double> fitted(static_cast<size_t>(npts)), resid;
        for (int i = 0; i < npts; ++i) {
            fitted[static_cast<size_t>(i)] = law_speedup(law, x, data.p[static_cast<size_t>(i)]);
            const double r = data.s[static_cast<size_t>(i)] - fitted[static_cast<size_t>(i)];
            ss_res += r * r;
            ss_tot += (data.s[static_cast<size_t>(i)] - mean) * (data.s[static_cast<size_t>(i)] - mean);
            if (data.p[static_cast<size_t>(i)] > 1.0) resid.push_back(r);
        }
        fit.rmse = std::sqrt(ss_res / static_cast<double>(npts));
        fit.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : kNaN;

        // As many parameters as points with p > 1: the law passes through them, the data cannot
        // test it and any interval would be an artefact (zero width from the residuals).
        const int nparams = static_cast<int>(x.size());
        fit.has_interval = npts - 1 > nparams;

        // Bootstrap distribution of the parameters (deterministic: mt19937_64 is fully specified
        // by the standard, and indices are drawn as rng() % n).
        std::mt19937_64 rng(opt.seed + static_cast<std::uint64_t>(li));
        std::vector<std::vector<double>> draws;
        draws.reserve(static_cast<size_t>(B));
        int failed = 0;
        for (int b = 0; b < B && fit.has_interval; ++b) {
            PointData bd;
            if (by_repeats) {
                std::map<int, std::vector<double>> rt;
                for (const auto& [p, ts] : fit_times) {
                    auto& v = rt[p];
                    for (size_t k = 0; k < ts.size(); ++k) v.push_back(ts[rng() % ts.size()]);
                }
                bd = point_data(make_points(rt, over, weak));
            } else {
                bd = data;
                for (size_t i = 0; i < bd.p.size(); ++i)
                    if (bd.p[i] > 1.0 && !resid.empty())
                        bd.s[i] = fitted[i] + resid[rng() % resid.size()];
            }
            bool bc = true;
            std::vector<double> bx;
            try {
                bx = fit_params(law, bd, law == Law::Usl ? x.data() : nullptr, &bc);
            } catch (const std::invalid_argument&) {
                bc = false;
            }
            if (!bc) {
                ++failed;
                continue;
            }
            draws.push_back(std::move(bx));
        }
        for (size_t k = 0; k < x.size(); ++k) {
            FitParam fp;
            fp.name = names[k];
            fp.value = x[k];
            std::vector<double> col;
            for (const auto& d : draws) col.push_back(d[k]);
            fp.ci_low = col.empty() ? kNaN : percentile(col, qlo);
            fp.ci_high = col.empty() ? kNaN : percentile(col, qhi);
            fit.params.push_back(fp);
        }
        if (failed > 0)
            fit.warnings.push_back(std::to_string(failed) + " of " + std::to_string(B) +
                                   " bootstrap refits failed and were left out of the interval");

        // Warnings.
        if (npts < 3)
            fit.warnings.push_back("only " + std::to_string(npts) +
                                   " points (distinct p, p=1 included): fewer than 3, the fit passes through them and "
                                   "is not tested by the data; no interval; projections are extrapolations");
        else if (!fit.has_interval)
            fit.warnings.push_back("only " + std::to_string(npts) + " points for " + std::to_string(nparams) +
                                   " parameters: the " + (law == Law::Usl ? std::string("USL") : std::string(to_string(law))) +
                                   " passes through them (no residual degrees of freedom); no interval");
        if (std::isfinite(fit.r2) && fit.r2 < opt.poor_fit_r2)
            fit.warnings.push_back("poor fit: R^2 = " + fmt(fit.r2, 3) + " < " + fmt(opt.poor_fit_r2, 3));
        if (!by_repeats && fit.has_interval)
            fit.warnings.push_back("no repeated runs: the interval comes from " + std::to_string(resid.size()) +
                                   " residual(s) and is only as good as the law's fit");
        if (exclude)
            fit.warnings.push_back("oversubscribed p = " + over_list + " left out of this fit (shown, flagged)");
        else if (!over_p.empty())
            fit.warnings.push_back("fit includes oversubscribed runs: contended timings");
        if (law != Law::Usl && x[0] < 0)
            fit.warnings.push_back("negative serial fraction: superlinear speedup that the law does not model");
        if (law != Law::Usl && x[0] > 1)
            fit.warnings.push_back("serial fraction above 1: more processes made the runs slower, which the law does "
                                   "not model");
        if (law == Law::Usl && (x[0] < 0 || x[1] < 0))
            fit.warnings.push_back("negative " + std::string(x[0] < 0 ? "sigma" : "kappa") +
                                   ": outside the USL's physical range (contention and coherency are >= 0)");
        res.fits.push_back(std::move(fit));

        // Projections with intervals from the same bootstrap draws.
        const LawFit& lf = res.fits.back();
        if (!lf.ok) continue;
        for (double P : opt.project_p) {
            Projection pr;
            pr.law = law;
            pr.p = P;
            pr.speedup = law_speedup(law, x, P);
            pr.efficiency = pr.speedup / P;
            std::vector<double> sp;
            for (const auto& d : draws) sp.push_back(law_speedup(law, d, P));
            pr.speedup_low = sp.empty() ? kNaN : percentile(sp, qlo);
            pr.speedup_high = sp.empty() ? kNaN : percentile(sp, qhi);
            pr.beyond_measured = P / p_max;
            pr.extrapolated = P > opt.extrapolation_factor * p_max;
            pr.efficiency_low = pr.speedup_low / P;
            pr.efficiency_high = pr.speedup_high / P;
            res.projections.push_back(pr);
        }
        res.crossings.push_back({law, opt.efficiency_threshold, efficiency_crossing(lf, opt.efficiency_threshold)});
    }
    return res;
}

const LawFit* find_fit(const ScalingResult& r, Law law) {
    for (const LawFit& f : r.fits)
        if (f.law == law) return &f;
    return nullptr;
}

ScalingResult analyze_study(traces::TraceReader& reader, traces::StudyId study, const ScalingOptions& opt) {
    traces::StudyInfo info;
    bool found = false;
    const auto studies = reader.studies();
    for (const auto& s : studies)
        if (s.id == study) {
            info = s;
            found = true;
        }
    if (!found) {
        if (studies.empty())
            throw AnalysisError(reader.path() + " has no scaling study (its studies table is empty): "
                                "record one with 'scalescope-cli study'");
        std::string ids;
        for (size_t i = 0; i < studies.size(); ++i) ids += (i ? ", " : "") + std::to_string(studies[i].id.value);
        throw AnalysisError(reader.path() + " has no study " + std::to_string(study.value) +
                            " (studies: " + ids + ")");
    }
    const std::string sname = "study " + std::to_string(info.id.value) + (info.name.empty() ? "" : " '" + info.name + "'");
    if (info.scaling != "strong" && info.scaling != "weak")
        throw AnalysisError(sname + " has scaling '" + info.scaling + "': expected 'strong' or 'weak'");
    const auto rows = reader.study_runs(study);
    if (rows.empty()) throw AnalysisError(sname + " has no runs (study_runs is empty)");
    std::vector<ScalingSample> samples;
    std::vector<std::string> warnings;
    std::set<std::string> models, hosts;
    for (const auto& r : rows) {
        const std::string where = "run " + std::to_string(r.run.value) + " (p=" + std::to_string(r.p) +
                                  ", repeat " + std::to_string(r.repeat) + ")";
        traces::RunInfo ri = reader.run(r.run);
        if (ri.status != traces::RunStatus::Completed) {
            warnings.push_back(where + " has status '" + std::string(traces::to_string(ri.status)) + "'" +
                               (ri.failure_reason.empty() ? "" : " (" + ri.failure_reason + ")") + ": left out");
            continue;
        }
        RunStepTimes st;
        try {
            st = run_step_times(reader, r.run, opt.warmup_steps);
        } catch (const AnalysisError& e) {
            warnings.push_back(where + ": " + e.what() + ": left out");
            continue;
        }
        if (!ri.model.empty()) models.insert(ri.model);
        hosts.insert(ri.hosts.begin(), ri.hosts.end());
        ScalingSample s;
        s.p = r.p;
        // A parameter server's ranks do not train: p counts the workers (a study records world()).
        if (const PsLayout l = ps_layout(ri); l.present() && l.workers() >= 1) s.p = std::min(s.p, l.workers());
        s.repeat = r.repeat;
        s.run = r.run;
        s.value = r.value;
        s.time_ns = st.stats.median_ns;
        s.oversubscribed = ri.oversubscribed;
        samples.push_back(s);
    }
    if (samples.empty())
        throw AnalysisError(sname + " has no completed run with step events: " +
                            (warnings.empty() ? std::string() : warnings.front()));
    ScalingResult res;
    try {
        res = analyze_scaling(std::move(samples), info.scaling == "weak", opt);
    } catch (const AnalysisError& e) {
        throw AnalysisError(sname + ": " + e.what() +
                            (warnings.empty() ? std::string() : " (" + warnings.front() + ")"));
    }
    res.study = info;
    if (models.size() == 1) res.model = *models.begin();
    res.hosts.assign(hosts.begin(), hosts.end());
    res.warnings.insert(res.warnings.begin(), warnings.begin(), warnings.end());
    return res;
}

}  // namespace ss::core

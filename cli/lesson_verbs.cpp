// `scalescope-cli lesson FILE`: a lesson (docs/LESSONS.md) end to end without a window — the
// question and the prediction prompt, the runs (through the study runner, core/teach/lesson.h), the
// measured points, what to look at and the answer with the numbers filled in, and the elapsed time.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/args.h"
#include "cli/verbs.h"
#include "core/teach/lesson.h"

namespace ss::cli {

namespace fs = std::filesystem;
using namespace ss::core;

namespace {

std::string fixed(double v, int prec) {
    if (!std::isfinite(v)) return "-";
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    return b;
}

void heading(std::ostream& o, const std::string& text) {
    o << "\n== " << text << " ==\n";
}

// The prediction from --predict: a choice by number (1-based) or its text, or a number.
void read_prediction(const Lesson& l, const std::string& text, int& choice, double& number) {
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    const bool numeric = !text.empty() && end == text.c_str() + text.size();
    if (l.predict.kind == LessonPredict::Kind::Number) {
        if (!numeric)
            throw UsageError("--predict takes a number for this lesson, not '" + text + "'");
        number = d;
        return;
    }
    if (numeric && d == std::floor(d) && d >= 1 &&
        d <= static_cast<double>(l.predict.choices.size())) {
        choice = static_cast<int>(d) - 1;
        return;
    }
    for (std::size_t i = 0; i < l.predict.choices.size(); ++i)
        if (l.predict.choices[i].text == text) choice = static_cast<int>(i);
    if (choice < 0)
        throw UsageError("--predict takes a choice number 1.." +
                         std::to_string(l.predict.choices.size()) + " or its text, not '" + text +
                         "'");
}

int verb_lesson(const Argv& argv) {
    Args a(argv, {"--out", "--predict"}, {"--check", "--quiet"});
    if (a.positional().size() != 1)
        throw UsageError("lesson takes exactly one lesson file (got " +
                         std::to_string(a.positional().size()) + ")");
    const std::string path = a.positional()[0];
    Lesson l;
    try {
        l = load_lesson(path);
    } catch (const LessonError& e) {
        std::cerr << "scalescope-cli lesson: " << e.what() << "\n";
        return 2;
    }
    const StudyPlan plan = plan_lesson(l);
    if (a.flag("--check")) {
        std::cout << path << ": lesson \"" << l.id << "\" is valid: " << plan.points.size()
                  << " run(s)\n";
        return 0;
    }
    int choice = -1;
    double number = std::nan("");
    if (auto p = a.value("--predict")) read_prediction(l, *p, choice, number);
    const bool quiet = a.flag("--quiet");

    std::ostream& o = std::cout;
    o << "Lesson: " << l.title << "\n";
    heading(o, "1. The question");
    o << l.question << "\n";
    heading(o, "2. Predict first");
    o << l.predict.prompt << "\n";
    for (std::size_t i = 0; i < l.predict.choices.size(); ++i)
        o << "  " << i + 1 << ". " << l.predict.choices[i].text << "\n";
    if (l.predict.kind == LessonPredict::Kind::Number)
        o << "  (a number" << (l.predict.unit.empty() ? "" : ", in " + l.predict.unit) << ")\n";
    heading(o, "3. The experiment");
    for (const auto& pt : plan.points)
        o << "  " << (pt.value.empty() ? pt.name : pt.value) << "  (" << pt.p << " rank"
          << (pt.p == 1 ? "" : "s")
          << (pt.repeat > 0 ? ", repeat " + std::to_string(pt.repeat + 1) : "") << ")\n";
    o << std::flush;

    const fs::path out_dir = fs::absolute(a.value_or("--out", "lesson-" + l.id));
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw std::runtime_error("cannot create " + out_dir.string() + ": " + ec.message());
    LessonRunRequest rq;
    rq.output = (out_dir / (l.id + ".sqlite")).string();
    rq.env = LaunchEnvironment::current();
    const auto t0 = std::chrono::steady_clock::now();
    auto since = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    rq.on_point_started = [&](std::size_t i, const std::string&) {
        if (!quiet)
            std::cerr << "[" << i + 1 << "/" << plan.points.size() << " " << plan.points[i].value
                      << "] started at " << fixed(since(), 1) << " s\n";
    };
    rq.on_point_finished = [&](std::size_t i, const RunOutcome& out) {
        if (!quiet)
            std::cerr << "[" << i + 1 << "/" << plan.points.size() << " " << plan.points[i].value
                      << "] " << traces::to_string(out.status) << " in " << fixed(out.job.wall_s, 1)
                      << " s" << (out.failure_reason.empty() ? "" : ": " + out.failure_reason)
                      << "\n";
    };
    const LessonResult r = run_lesson(l, rq);

    o << "\n  " << (plan.points.front().value.empty() ? "run" : plan.variable)
      << " | ranks | step ms | compute | comm | "
      << "bubble | idle | other (ms per step)\n";
    for (const auto& pt : r.points)
        o << "  " << (pt.value.empty() ? "-" : pt.value) << " | " << pt.p
          << (pt.oversubscribed ? "*" : "") << " | " << fixed(pt.step_ms, 2) << " | "
          << fixed(pt.compute_ms, 2) << " | " << fixed(pt.comm_ms, 2) << " | "
          << fixed(pt.bubble_ms, 2) << " | " << fixed(pt.idle_ms, 2) << " | "
          << fixed(pt.other_ms, 2) << "\n";
    for (const auto& pt : r.points)
        if (pt.oversubscribed) {
            o << "  * more ranks than cores (oversubscribed): its timings are contended\n";
            break;
        }
    o << "  trace: " << r.output << "\n";
    for (const auto& f : r.failures) o << "  failed: " << f << "\n";
    if (!r.complete()) {
        o << "elapsed " << fixed(r.elapsed_s, 1) << " s\n";
        std::cerr << "scalescope-cli lesson: "
                  << (r.cancelled ? "cancelled" : "a run did not complete")
                  << ": no answer to reveal\n";
        return 1;
    }
    heading(o, "4. Look at");
    o << fill_placeholders(l.look, r) << "\n";
    heading(o, "5. The answer");
    o << fill_placeholders(l.answer, r) << "\n";
    if (choice >= 0 || std::isfinite(number))
        o << "\n" << judge_prediction(l, r, choice, number).text << "\n";
    o << "\nelapsed " << fixed(r.elapsed_s, 1) << " s (" << r.points.size() << " point"
      << (r.points.size() == 1 ? "" : "s") << ")\n";
    return 0;
}

const VerbRegistration reg_lesson{
    "lesson",
    "lesson LESSON.json [--out DIR] [--predict CHOICE|NUMBER] [--check] [--quiet]\n"
    "      run a lesson (examples/lessons/, docs/LESSONS.md) end to end: the question, the runs, "
    "what to\n"
    "      look at and the answer with the measured numbers, and the elapsed time (--check: "
    "validate only)",
    verb_lesson};

}  // namespace

}  // namespace ss::cli

// Lessons (docs/LESSONS.md): a ready exercise as a file — a question, a "predict first" prompt, an
// experiment (a spec, its --set overrides and --vary axes, or a single run), what to look at, and
// the answer revealed afterwards with the measured numbers filled in. This module loads and checks
// a lesson file, runs it through the study runner the CLI and the Experiment page use
// (core/launch/study.h run_study), and computes the numbers the answer refers to from the recorded
// runs (core/analysis: analyze_run, analyze_study). `scalescope-cli lesson` and the application's
// LessonView both sit on it. No Qt here.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/analysis/scaling.h"
#include "core/launch/study.h"

namespace ss::core {

// A problem with a lesson file; the message names the file and the field ("lessons/x.json:
// predict.choices[1].min must be a number, got \"a\"").
class LessonError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

inline constexpr int kLessonFormatVersion = 1;

struct LessonChoice {
    std::string text;
    // The measured value of Predict::compare this choice stands for: [min, max). Both infinite
    // for a choice without a range (then Predict::correct names the right choice).
    double min = -std::numeric_limits<double>::infinity();
    double max = std::numeric_limits<double>::infinity();
};

struct LessonPredict {
    enum class Kind { Choice, Number };
    Kind kind = Kind::Choice;
    std::string prompt;
    std::vector<LessonChoice> choices;  // Choice
    int correct = -1;                   // Choice without ranges: the right one (0-based)
    std::string compare;                // the placeholder the prediction is held against (Number;
                                        // Choice with ranges)
    std::string unit;                   // shown after a Number answer ("%", "ms")
    bool ranged() const;                // Choice whose choices carry ranges
};

// What the "look" step shows.
enum class LessonChart {
    Breakdown,  // per point, the step time split in compute, communication, bubble, idle... (ms)
    Scaling,    // speedup and efficiency over p with the ideal line (a study over p with p = 1)
};
const char* to_string(LessonChart c);  // "breakdown", "scaling"

struct LessonExperiment {
    std::string spec_path;          // the spec file (absolute), empty for an inline spec
    nlohmann::json spec_doc;        // the spec document before the overrides
    std::vector<std::string> set;   // "path=value", applied in order
    std::vector<std::string> vary;  // "dp=1,2" (core/launch/study.h parse_vary); empty: one run
    int repeat = 1;
    bool weak = false;
};

struct Lesson {
    std::string file;  // the lesson file as given
    std::string id;    // [a-z0-9-]+, used in screenshot ids ("lesson-<id>")
    std::string title;
    std::string question;
    LessonPredict predict;
    LessonExperiment experiment;
    std::string look;  // what to look at (plain sentences)
    LessonChart chart = LessonChart::Breakdown;
    std::string answer;  // revealed afterwards; {placeholders} are filled from the result
};

// Reads and checks a lesson file: every field, the spec (parsed and validated with the overrides
// and each point of the sweep, as `study` would), and every placeholder the answer uses (a known
// name, a point index within the plan). Throws LessonError naming the file and the field.
Lesson load_lesson(const std::string& path, bool check_files = true);
// The same from a document; `file` names it in messages and resolves a relative spec path.
Lesson parse_lesson(const nlohmann::json& doc, const std::string& file, bool check_files = true);
// Every lesson file (*.json) of a folder, sorted by file name; each loaded (throws on the first bad
// one).
std::vector<Lesson> load_lessons(const std::filesystem::path& dir, bool check_files = true);

// The runs the lesson starts: plan_study of its spec with the overrides and axes, or one point
// (single_run_point) without axes. Throws LessonError naming the file.
StudyPlan plan_lesson(const Lesson& lesson, bool check_files = true);

// ---- Results ----

// One point of the experiment (repeats of a point averaged), from its recorded runs.
struct LessonPoint {
    std::string value;  // the swept value ("2", "dp=2,tp=2"); "" for a single run
    int p = 1;          // world size of the point (servers included)
    int runs = 0, completed = 0;
    bool oversubscribed = false;
    double step_ms =
        std::numeric_limits<double>::quiet_NaN();  // median step time (mean of repeats)
    double throughput =
        std::numeric_limits<double>::quiet_NaN();  // samples (mlp) or tokens (gpt) / s
    // Mean over ranks and measured steps, ms per step (core/analysis Breakdown parts).
    double compute_ms = 0, comm_ms = 0, bubble_ms = 0, idle_ms = 0, other_ms = 0;
    double work_max_ms = 0, work_min_ms = 0;  // own work of the busiest / least busy rank
    double wait_max_ms = 0;  // waiting (exposed comm + bubble + idle) of the rank waiting most
    int pp = 1, micro_batches = 1;
    std::vector<traces::RunId> run_ids;
};

struct LessonResult {
    std::string output;  // the trace file written
    traces::StudyId study;
    std::vector<LessonPoint> points;
    std::optional<ScalingResult> scaling;      // a study over p with a p = 1 point
    std::map<std::string, double> values;      // every placeholder with a number
    std::map<std::string, std::string> texts;  // placeholders with text (value.i)
    double elapsed_s = 0;
    int failed = 0;
    bool cancelled = false;
    std::vector<std::string> failures;  // per failed run: "point V: reason"
    bool complete() const { return failed == 0 && !cancelled; }
};

// The placeholders of a text: the names between braces ("{efficiency_at_max_p}", "{step_ms.1 /
// step_ms.2}" gives "step_ms.1 / step_ms.2"). "{{" and "}}" stand for braces.
std::vector<std::string> lesson_placeholders(const std::string& text);
// Whether `name` is a placeholder a result of `points` points can fill (docs/LESSONS.md
// "Placeholders"); an expression "A op B" (op + - * /, A and B names or numbers) checks both.
// nullopt when it can, else why not.
std::optional<std::string> placeholder_problem(const std::string& name, std::size_t points);
// The value of a placeholder (a number or an expression); NaN when the result has no such value.
double placeholder_value(const LessonResult& result, const std::string& name);
// A number for people: 3 significant digits, no exponent below 1e6 ("0.703", "70.3", "1234").
std::string format_lesson_number(double v);
// `text` with every placeholder replaced: a number formatted by format_lesson_number, a text as
// is. Throws LessonError naming the placeholder when its value is missing or not finite.
std::string fill_placeholders(const std::string& text, const LessonResult& result);

// Computes the points and placeholders of a finished experiment from the trace file: each run
// analysed (analyze_run), repeats averaged, the scaling analysis when the points sweep p and one
// has p = 1. `runs` pairs each planned point with the run recorded for it.
LessonResult lesson_result(traces::TraceReader& reader, const StudyPlan& plan,
                           const std::vector<PointOutcome>& runs, traces::StudyId study);

// The study a lesson recorded in a trace file (named "lesson <id>" by run_lesson; the newest when
// there are several), or an invalid id.
traces::StudyId find_lesson_study(traces::TraceReader& reader, const Lesson& lesson);
// The result of a lesson recorded earlier (by `scalescope-cli lesson` or the application): the
// study's runs matched to the lesson's planned points by value and repeat. Throws LessonError when
// the study's values are not the lesson's points (another lesson's study, an edited lesson).
LessonResult lesson_result_from_study(traces::TraceReader& reader, const Lesson& lesson,
                                      traces::StudyId study);

// How a prediction compares with the measurement.
struct LessonVerdict {
    bool judged = false;  // the lesson gives a right answer for this kind of prediction
    bool right = false;
    int measured_choice = -1;  // Choice with ranges / correct: the choice the measurement picks
    double measured = std::numeric_limits<double>::quiet_NaN();  // Predict::compare's value
    std::string text;  // "You predicted 80 %; measured 70.3 % (9.7 below).", ...
};
// `choice`: the participant's choice (Choice), `number`: their number (Number); -1 / NaN = none.
LessonVerdict judge_prediction(const Lesson& lesson, const LessonResult& result, int choice,
                               double number);

// ---- Running ----

struct LessonRunRequest {
    std::string output;               // trace file (created or appended to)
    std::filesystem::path runs_root;  // empty: default_runs_root(output)
    std::string worker;               // find_program("scalescope-worker") when empty
    std::string mpirun;               // mpirun_program(env) when empty
    LaunchEnvironment env;
    const CancelFlag* cancel = nullptr;
    bool check_files = true;
    // As StudyRunRequest's (calling thread, index into the plan's points).
    std::function<void(std::size_t, const std::string& run_dir)> on_point_started;
    std::function<void(std::size_t, const Progress&)> on_progress;
    std::function<void(std::size_t, const RunOutcome&)> on_point_finished;
};

// Plans, runs (run_study: a study record when the lesson varies something, plain runs otherwise)
// and computes the result, with the elapsed wall time. Throws LessonError for a bad lesson, what
// run_study throws for a trace file or run folder that cannot be written.
LessonResult run_lesson(const Lesson& lesson, const LessonRunRequest& request);

}  // namespace ss::core

#include "core/teach/lesson.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/analysis/analysis.h"
#include "core/sim/simulator.h"
#include "core/spec/spec.h"
#include "traces/reader.h"

namespace ss::core {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- Reading the document, every problem naming the file and the field ----

class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}
    [[noreturn]] void fail(const std::string& field, const std::string& message) const {
        throw LessonError(file_ + ": " + (field.empty() ? "" : field + ": ") + message);
    }
    static std::string shown(const json& v) {
        std::string s = v.dump();
        return s.size() > 60 ? s.substr(0, 57) + "..." : s;
    }
    const json* find(const json& obj, const std::string& key) const {
        auto it = obj.find(key);
        return it == obj.end() || it->is_null() ? nullptr : &*it;
    }
    std::string text(const json& obj, const std::string& key, const std::string& field,
                     bool required = true) const {
        const json* v = find(obj, key);
        if (!v) {
            if (required) fail(field, "missing (a text is required)");
            return {};
        }
        if (!v->is_string()) fail(field, "must be a text, got " + shown(*v));
        std::string s = v->get<std::string>();
        if (required && s.find_first_not_of(" \t\r\n") == std::string::npos)
            fail(field, "must not be empty");
        return s;
    }
    // A text, or an array of texts joined into paragraphs (long answers read better as lines).
    std::string prose(const json& obj, const std::string& key, const std::string& field) const {
        const json* v = find(obj, key);
        if (v && v->is_array()) {
            std::string out;
            for (std::size_t i = 0; i < v->size(); ++i) {
                if (!(*v)[i].is_string())
                    fail(field + "[" + std::to_string(i) + "]",
                         "must be a text, got " + shown((*v)[i]));
                out += (out.empty() ? "" : "\n\n") + (*v)[i].get<std::string>();
            }
            if (out.empty()) fail(field, "must not be empty");
            return out;
        }
        return text(obj, key, field);
    }
    double number(const json& v, const std::string& field) const {
        if (!v.is_number()) fail(field, "must be a number, got " + shown(v));
        const double d = v.get<double>();
        if (!std::isfinite(d)) fail(field, "must be finite");
        return d;
    }
    std::vector<std::string> texts(const json& obj, const std::string& key,
                                   const std::string& field) const {
        std::vector<std::string> out;
        const json* v = find(obj, key);
        if (!v) return out;
        if (v->is_string()) return {v->get<std::string>()};
        if (!v->is_array()) fail(field, "must be a list of texts, got " + shown(*v));
        for (std::size_t i = 0; i < v->size(); ++i) {
            if (!(*v)[i].is_string())
                fail(field + "[" + std::to_string(i) + "]",
                     "must be a text, got " + shown((*v)[i]));
            out.push_back((*v)[i].get<std::string>());
        }
        return out;
    }
    void only(const json& obj, const std::string& field,
              std::initializer_list<const char*> keys) const {
        for (const auto& [k, v] : obj.items()) {
            (void)v;
            if (std::none_of(keys.begin(), keys.end(), [&](const char* x) { return k == x; })) {
                std::string known;
                for (const char* x : keys) known += (known.empty() ? "" : ", ") + std::string(x);
                fail(field.empty() ? k : field + "." + k, "unknown field (" +
                                                              (field.empty() ? "a lesson" : field) +
                                                              " has " + known + ")");
            }
        }
    }
    const std::string& file() const { return file_; }

private:
    std::string file_;
};

json read_json_with_comments(const std::string& path, const Reader& r, const std::string& field) {
    std::ifstream in(path);
    if (!in) r.fail(field, "cannot read " + path + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return json::parse(ss.str(), nullptr, true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        r.fail(field, path + " is not JSON: " + e.what());
    }
}

// ---- Placeholders ----

const std::set<std::string>& point_names() {
    static const std::set<std::string> names{"step_ms",
                                             "throughput",
                                             "p",
                                             "compute_ms",
                                             "comm_ms",
                                             "bubble_ms",
                                             "idle_ms",
                                             "other_ms",
                                             "compute_pct",
                                             "comm_pct",
                                             "bubble_pct",
                                             "idle_pct",
                                             "wait_pct",
                                             "work_max_ms",
                                             "work_min_ms",
                                             "wait_max_ms",
                                             "imbalance_pct",
                                             "speedup",
                                             "efficiency_pct",
                                             "slowdown",
                                             "bubble_formula_pct",
                                             "micro_batches",
                                             "pp",
                                             "value"};
    return names;
}
const std::set<std::string>& scaling_names() {
    static const std::set<std::string> names{"speedup_at_max_p", "efficiency_at_max_p",
                                             "serial_fraction_pct", "karp_flatt_at_max_p"};
    return names;
}
// The study's own values: its points and largest p, and the scaling analysis's.
const std::set<std::string>& study_names() {
    static const std::set<std::string> names = [] {
        std::set<std::string> n = scaling_names();
        n.insert({"points", "max_p"});
        return n;
    }();
    return names;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool is_number(const std::string& s, double* out = nullptr) {
    if (s.empty()) return false;
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return false;
    if (out) *out = d;
    return true;
}

// "A op B" -> {A, op, B}; op is the first of + - * / that has text on both sides (a leading '-' is
// a sign). nullopt for a plain name.
struct Expr {
    std::string a;
    char op = 0;
    std::string b;
};
std::optional<Expr> split_expr(const std::string& text) {
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
        const char c = text[i];
        if (c != '+' && c != '-' && c != '*' && c != '/') continue;
        // A '-' inside a name or exponent (1e-3) is no operator; operators stand between spaces.
        if (text[i - 1] != ' ' || text[i + 1] != ' ') continue;
        return Expr{trim(text.substr(0, i)), c, trim(text.substr(i + 1))};
    }
    return std::nullopt;
}

std::optional<std::string> name_problem(const std::string& name, std::size_t points) {
    if (is_number(name)) return std::nullopt;
    if (study_names().count(name)) return std::nullopt;
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) {
        if (point_names().count(name))
            return "{" + name + "} needs a point: {" + name + ".1} (the first point), {" + name +
                   ".last}";
        return "{" + name + "} is not a placeholder (docs/LESSONS.md \"Placeholders\")";
    }
    const std::string base = name.substr(0, dot), index = name.substr(dot + 1);
    if (!point_names().count(base))
        return "{" + name + "}: '" + base +
               "' is not a point value (docs/LESSONS.md \"Placeholders\")";
    if (index == "last") return std::nullopt;
    if (index.empty() ||
        !std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return "{" + name + "}: the point is a number from 1 or 'last', not '" + index + "'";
    const long long i = std::stoll(index.size() > 6 ? "9999999" : index);
    if (i < 1 || static_cast<std::size_t>(i) > points)
        return "{" + name + "}: point " + index + " does not exist (the experiment has " +
               std::to_string(points) + " point" + (points == 1 ? "" : "s") + ")";
    return std::nullopt;
}

double name_value(const LessonResult& r, const std::string& name) {
    double d = 0;
    if (is_number(name, &d)) return d;
    auto it = r.values.find(name);
    if (it != r.values.end()) return it->second;
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && name.substr(dot + 1) == "last" && !r.points.empty())
        return name_value(r, name.substr(0, dot) + "." + std::to_string(r.points.size()));
    return kNaN;
}

std::string text_value(const LessonResult& r, const std::string& name) {
    auto it = r.texts.find(name);
    if (it != r.texts.end()) return it->second;
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && name.substr(dot + 1) == "last" && !r.points.empty()) {
        auto jt = r.texts.find(name.substr(0, dot) + "." + std::to_string(r.points.size()));
        if (jt != r.texts.end()) return jt->second;
    }
    return {};
}

// ---- The lesson document ----

LessonPredict parse_predict(const json& doc, const Reader& r) {
    const json* p = r.find(doc, "predict");
    if (!p)
        r.fail("predict",
               "missing (the \"predict first\" prompt: {\"prompt\": ..., \"choices\": [...]} or "
               "{\"prompt\": ..., \"number\": {...}})");
    if (!p->is_object()) r.fail("predict", "must be an object, got " + Reader::shown(*p));
    r.only(*p, "predict", {"prompt", "choices", "correct", "compare", "unit", "kind"});
    LessonPredict out;
    out.prompt = r.text(*p, "prompt", "predict.prompt");
    const std::string kind = r.text(*p, "kind", "predict.kind", false);
    if (kind.empty())
        out.kind =
            r.find(*p, "choices") ? LessonPredict::Kind::Choice : LessonPredict::Kind::Number;
    else if (kind == "choice")
        out.kind = LessonPredict::Kind::Choice;
    else if (kind == "number")
        out.kind = LessonPredict::Kind::Number;
    else
        r.fail("predict.kind", "must be \"choice\" or \"number\", got \"" + kind + "\"");
    out.compare = r.text(*p, "compare", "predict.compare", false);
    out.unit = r.text(*p, "unit", "predict.unit", false);
    if (out.kind == LessonPredict::Kind::Number) {
        if (r.find(*p, "choices"))
            r.fail("predict.choices", "a \"number\" prediction has no choices");
        if (out.compare.empty())
            r.fail("predict.compare",
                   "missing: a \"number\" prediction is held against a measured placeholder "
                   "(e.g. \"efficiency_pct.last\")");
        return out;
    }
    const json* cs = r.find(*p, "choices");
    if (!cs || !cs->is_array() || cs->size() < 2)
        r.fail("predict.choices",
               "must list at least two choices (texts, or {\"text\", \"min\", \"max\"})");
    int ranged = 0;
    for (std::size_t i = 0; i < cs->size(); ++i) {
        const std::string f = "predict.choices[" + std::to_string(i) + "]";
        const json& c = (*cs)[i];
        LessonChoice choice;
        if (c.is_string()) {
            choice.text = c.get<std::string>();
        } else if (c.is_object()) {
            r.only(c, f, {"text", "min", "max"});
            choice.text = r.text(c, "text", f + ".text");
            if (const json* v = r.find(c, "min")) choice.min = r.number(*v, f + ".min");
            if (const json* v = r.find(c, "max")) choice.max = r.number(*v, f + ".max");
            if (!(choice.min < choice.max)) r.fail(f, "min must be below max");
            ranged += std::isfinite(choice.min) || std::isfinite(choice.max) ? 1 : 0;
        } else {
            r.fail(f, "must be a text or {\"text\", \"min\", \"max\"}, got " + Reader::shown(c));
        }
        if (choice.text.empty()) r.fail(f, "the text must not be empty");
        out.choices.push_back(choice);
    }
    if (const json* c = r.find(*p, "correct")) {
        if (!c->is_number_integer() || c->get<long long>() < 0 ||
            c->get<long long>() >= static_cast<long long>(cs->size()))
            r.fail("predict.correct", "must be the index of a choice, 0.." +
                                          std::to_string(cs->size() - 1) + ", got " +
                                          Reader::shown(*c));
        if (ranged)
            r.fail("predict.correct",
                   "choices with ranges are judged by the measurement; give no \"correct\"");
        out.correct = c->get<int>();
    }
    if (ranged) {
        if (ranged != static_cast<int>(cs->size()))
            r.fail("predict.choices",
                   "either every choice has a range (min and/or max) or none has");
        if (out.compare.empty())
            r.fail("predict.compare",
                   "missing: choices with ranges need the placeholder they are ranges of");
        // Ranges must not overlap, or the measurement would pick two choices.
        std::vector<LessonChoice> sorted = out.choices;
        std::sort(sorted.begin(), sorted.end(),
                  [](const auto& a, const auto& b) { return a.min < b.min; });
        for (std::size_t i = 1; i < sorted.size(); ++i)
            if (sorted[i].min < sorted[i - 1].max)
                r.fail("predict.choices", "the ranges of \"" + sorted[i - 1].text + "\" and \"" +
                                              sorted[i].text + "\" overlap");
    } else if (!out.compare.empty() && out.correct < 0) {
        r.fail(
            "predict.compare",
            "choices without ranges are not compared with a measurement; give \"correct\" instead");
    }
    return out;
}

LessonExperiment parse_experiment(const json& doc, const Reader& r) {
    const json* e = r.find(doc, "experiment");
    if (!e)
        r.fail("experiment",
               "missing (what to run: {\"spec\": \"file.json\" or {...}, \"vary\": [...], \"set\": "
               "[...]})");
    if (!e->is_object()) r.fail("experiment", "must be an object, got " + Reader::shown(*e));
    r.only(*e, "experiment", {"spec", "set", "vary", "repeat", "weak"});
    LessonExperiment out;
    const json* spec = r.find(*e, "spec");
    if (!spec)
        r.fail("experiment.spec",
               "missing (a spec file, relative to the lesson, or the spec itself)");
    if (spec->is_string()) {
        fs::path p = spec->get<std::string>();
        if (p.empty()) r.fail("experiment.spec", "must not be empty");
        if (p.is_relative()) p = fs::absolute(fs::path(r.file()).parent_path() / p);
        out.spec_path = p.lexically_normal().string();
        out.spec_doc = read_json_with_comments(out.spec_path, r, "experiment.spec");
    } else if (spec->is_object()) {
        out.spec_doc = *spec;
    } else {
        r.fail("experiment.spec",
               "must be a spec file name or a spec object, got " + Reader::shown(*spec));
    }
    out.set = r.texts(*e, "set", "experiment.set");
    out.vary = r.texts(*e, "vary", "experiment.vary");
    if (const json* rep = r.find(*e, "repeat")) {
        if (!rep->is_number_integer() || rep->get<long long>() < 1 || rep->get<long long>() > 20)
            r.fail("experiment.repeat", "must be an integer in 1..20, got " + Reader::shown(*rep));
        out.repeat = rep->get<int>();
    }
    if (const json* w = r.find(*e, "weak")) {
        if (!w->is_boolean())
            r.fail("experiment.weak", "must be true or false, got " + Reader::shown(*w));
        out.weak = w->get<bool>();
    }
    return out;
}

}  // namespace

bool LessonPredict::ranged() const {
    return kind == Kind::Choice && !choices.empty() &&
           (std::isfinite(choices[0].min) || std::isfinite(choices[0].max));
}

const char* to_string(LessonChart c) {
    return c == LessonChart::Scaling ? "scaling" : "breakdown";
}

StudyPlan plan_lesson(const Lesson& lesson, bool check_files) {
    const Reader r(lesson.file);
    json doc = lesson.experiment.spec_doc;
    for (std::size_t i = 0; i < lesson.experiment.set.size(); ++i) {
        try {
            apply_override(doc, lesson.experiment.set[i]);
        } catch (const std::exception& e) {
            r.fail("experiment.set[" + std::to_string(i) + "]", e.what());
        }
    }
    // The base spec as `study` checks it: parsed, validated, nothing only the simulator models.
    const ParseResult pr = parse_spec(doc);
    std::vector<SpecError> errors = pr.errors;
    if (errors.empty()) {
        errors = validate(pr.spec, -1, check_files);
        for (auto& e : simulator_only_fields(pr.spec)) errors.push_back(e);
    }
    if (!errors.empty()) {
        std::string msg;
        for (const auto& e : errors) msg += (msg.empty() ? "" : "; ") + e.message;
        // An axis changes the base: a rule that only the swept values satisfy is checked per point.
        if (lesson.experiment.vary.empty() || !pr.ok()) r.fail("experiment.spec", msg);
    }
    if (lesson.experiment.vary.empty()) {
        if (lesson.experiment.repeat != 1)
            r.fail("experiment.repeat", "repeats go with \"vary\" (a single run is one point)");
        StudyPlan plan;
        try {
            plan.points.push_back(single_run_point(doc));
        } catch (const std::exception& e) {
            r.fail("experiment.spec", e.what());
        }
        plan.scaling = lesson.experiment.weak ? "weak" : "strong";
        return plan;
    }
    std::vector<VaryAxis> axes;
    for (std::size_t i = 0; i < lesson.experiment.vary.size(); ++i) {
        try {
            axes.push_back(parse_vary(lesson.experiment.vary[i]));
        } catch (const std::exception& e) {
            r.fail("experiment.vary[" + std::to_string(i) + "]", e.what());
        }
    }
    try {
        return plan_study(doc, axes, lesson.experiment.repeat, lesson.experiment.weak, check_files);
    } catch (const std::exception& e) {
        r.fail("experiment", e.what());
    }
}

Lesson parse_lesson(const json& doc, const std::string& file, bool check_files) {
    const Reader r(file);
    if (!doc.is_object()) r.fail("", "a lesson is a JSON object, got " + Reader::shown(doc));
    r.only(
        doc, "",
        {"format", "id", "title", "question", "predict", "experiment", "look", "chart", "answer"});
    Lesson l;
    l.file = file;
    if (const json* f = r.find(doc, "format")) {
        if (!f->is_number_integer())
            r.fail("format", "must be the lesson format version (1), got " + Reader::shown(*f));
        if (f->get<long long>() > kLessonFormatVersion)
            r.fail("format", "version " + std::to_string(f->get<long long>()) +
                                 " is newer than this ScaleScope reads (" +
                                 std::to_string(kLessonFormatVersion) + "): update ScaleScope");
        if (f->get<long long>() < 1) r.fail("format", "must be 1");
    }
    l.id = r.text(doc, "id", "id");
    if (!std::regex_match(l.id, std::regex("[a-z0-9]+(-[a-z0-9]+)*")))
        r.fail("id", "\"" + l.id +
                         "\" must be lower-case letters, digits and single '-' (it names "
                         "screenshots: lesson-<id>)");
    l.title = r.text(doc, "title", "title");
    l.question = r.prose(doc, "question", "question");
    l.predict = parse_predict(doc, r);
    l.experiment = parse_experiment(doc, r);
    l.look = r.prose(doc, "look", "look");
    const std::string chart = r.text(doc, "chart", "chart", false);
    if (chart.empty() || chart == "breakdown")
        l.chart = LessonChart::Breakdown;
    else if (chart == "scaling")
        l.chart = LessonChart::Scaling;
    else
        r.fail("chart", "must be \"breakdown\" or \"scaling\", got \"" + chart + "\"");
    l.answer = r.prose(doc, "answer", "answer");

    // The plan decides how many points there are, which the placeholders must respect.
    const StudyPlan plan = plan_lesson(l, check_files);
    std::set<std::string> values;
    for (const auto& pt : plan.points) values.insert(pt.value);
    const std::size_t points = values.size();
    std::set<int> ps;
    bool has_p1 = false;
    for (const auto& pt : plan.points) {
        ps.insert(pt.p);
        has_p1 |= pt.p == 1;
    }
    const bool scaling = ps.size() > 1 && has_p1;
    if (l.chart == LessonChart::Scaling && !scaling)
        r.fail(
            "chart",
            "\"scaling\" needs an experiment that varies the process count with a point at p = 1");
    auto check = [&](const std::string& name, const std::string& field) {
        auto problem = placeholder_problem(name, points);
        if (problem) r.fail(field, *problem);
        const auto ex = split_expr(name);
        for (const std::string& n :
             ex ? std::vector<std::string>{ex->a, ex->b} : std::vector<std::string>{name})
            if (scaling_names().count(n) && !scaling)
                r.fail(
                    field,
                    "{" + n +
                        "} comes from the scaling analysis: the experiment must vary the process "
                        "count with a point at p = 1");
    };
    for (const auto& n : lesson_placeholders(l.answer)) check(n, "answer");
    for (const auto& n : lesson_placeholders(l.look)) check(n, "look");
    if (!l.predict.compare.empty()) {
        check(l.predict.compare, "predict.compare");
        if (split_expr(l.predict.compare) == std::nullopt &&
            l.predict.compare.rfind("value.", 0) == 0)
            r.fail("predict.compare",
                   "{" + l.predict.compare + "} is a text; a prediction is compared with a number");
    }
    return l;
}

Lesson load_lesson(const std::string& path, bool check_files) {
    const Reader r(path);
    std::ifstream in(path);
    if (!in) r.fail("", std::string("cannot read the lesson file: ") + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    json doc;
    try {
        doc = json::parse(ss.str(), nullptr, true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        r.fail("", std::string("not JSON: ") + e.what());
    }
    return parse_lesson(doc, path, check_files);
}

std::vector<Lesson> load_lessons(const fs::path& dir, bool check_files) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".json") files.push_back(e.path());
    if (ec) throw LessonError(dir.string() + ": cannot list the lesson folder: " + ec.message());
    std::sort(files.begin(), files.end());
    std::vector<Lesson> out;
    std::set<std::string> ids;
    for (const auto& f : files) {
        out.push_back(load_lesson(f.string(), check_files));
        if (!ids.insert(out.back().id).second)
            throw LessonError(f.string() + ": id: \"" + out.back().id +
                              "\" is the id of another lesson in " + dir.string());
    }
    return out;
}

// ---- Placeholders ----

std::vector<std::string> lesson_placeholders(const std::string& text) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '{') {
            ++i;
            continue;
        }
        if (text[i] != '{') continue;
        const auto end = text.find('}', i);
        if (end == std::string::npos) break;
        out.push_back(trim(text.substr(i + 1, end - i - 1)));
        i = end;
    }
    return out;
}

std::optional<std::string> placeholder_problem(const std::string& name, std::size_t points) {
    if (name.empty())
        return std::string("{} is empty: name a placeholder (docs/LESSONS.md \"Placeholders\")");
    if (auto ex = split_expr(name)) {
        for (const std::string& n : {ex->a, ex->b}) {
            if (n.rfind("value.", 0) == 0)
                return "{" + name + "}: " + n + " is a text, not a number";
            if (auto p = name_problem(n, points)) return p;
        }
        return std::nullopt;
    }
    return name_problem(name, points);
}

double placeholder_value(const LessonResult& result, const std::string& name) {
    if (auto ex = split_expr(name)) {
        const double a = name_value(result, ex->a), b = name_value(result, ex->b);
        switch (ex->op) {
            case '+':
                return a + b;
            case '-':
                return a - b;
            case '*':
                return a * b;
            default:
                return b == 0 ? kNaN : a / b;
        }
    }
    return name_value(result, name);
}

std::string format_lesson_number(double v) {
    if (!std::isfinite(v)) return "?";
    char b[64];
    const double a = std::fabs(v);
    if (a >= 100 || v == std::round(v))
        std::snprintf(b, sizeof b, "%.0f", v);
    else if (a >= 10)
        std::snprintf(b, sizeof b, "%.1f", v);
    else if (a >= 1)
        std::snprintf(b, sizeof b, "%.2f", v);
    else
        std::snprintf(b, sizeof b, "%.3f", v);
    return b;
}

std::string fill_placeholders(const std::string& text, const LessonResult& result) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            out += c;
            ++i;
            continue;
        }
        if (c != '{') {
            out += c;
            continue;
        }
        const auto end = text.find('}', i);
        if (end == std::string::npos) {
            out += text.substr(i);
            break;
        }
        const std::string name = trim(text.substr(i + 1, end - i - 1));
        if (name.rfind("value.", 0) == 0 && !split_expr(name)) {
            out += text_value(result, name);
        } else {
            const double v = placeholder_value(result, name);
            if (!std::isfinite(v))
                throw LessonError(
                    "{" + name + "} has no measured value" +
                    (result.complete() ? std::string() : " (a run did not complete)"));
            out += format_lesson_number(v);
        }
        i = end;
    }
    return out;
}

// ---- Results ----

LessonResult lesson_result(traces::TraceReader& reader, const StudyPlan& plan,
                           const std::vector<PointOutcome>& runs, traces::StudyId study) {
    LessonResult r;
    r.study = study;
    // Points in plan order, repeats of one value together.
    std::vector<std::string> order;
    for (const auto& pt : plan.points)
        if (std::find(order.begin(), order.end(), pt.value) == order.end())
            order.push_back(pt.value);
    for (const auto& v : order) {
        LessonPoint lp;
        lp.value = v;
        for (const auto& pt : plan.points)
            if (pt.value == v) {
                lp.p = pt.p;
                lp.pp = pt.spec.parallel.pp;
                lp.micro_batches = pt.spec.parallel.micro_batches;
            }
        r.points.push_back(lp);
    }
    struct Acc {
        std::vector<double> step, thr, compute, comm, bubble, idle, other, wmax, wmin, waitmax;
    };
    std::vector<Acc> acc(r.points.size());
    for (const auto& run : runs) {
        const auto idx = static_cast<std::size_t>(
            std::find(order.begin(), order.end(), run.point.value) - order.begin());
        if (idx >= r.points.size()) continue;
        LessonPoint& lp = r.points[idx];
        ++lp.runs;
        lp.run_ids.push_back(run.outcome.run);
        lp.oversubscribed |= run.outcome.plan.oversubscribed;
        if (run.outcome.status != traces::RunStatus::Completed) {
            ++r.failed;
            r.failures.push_back(
                "point " + (run.point.value.empty() ? std::string("(the run)") : run.point.value) +
                ": " +
                (run.outcome.failure_reason.empty()
                     ? std::string(traces::to_string(run.outcome.status))
                     : run.outcome.failure_reason));
            continue;
        }
        ++lp.completed;
        const RunAnalysis a = analyze_run(reader, run.outcome.run);
        Acc& x = acc[idx];
        x.step.push_back(a.step_time.median_ns / 1e6);
        const double thr =
            a.throughput.tokens_per_s > 0 ? a.throughput.tokens_per_s : a.throughput.samples_per_s;
        x.thr.push_back(thr > 0 ? thr : kNaN);
        const Breakdown& b = a.overall;
        x.compute.push_back(b.part(Part::Compute) / 1e6);
        x.comm.push_back(b.part(Part::ExposedComm) / 1e6);
        x.bubble.push_back(b.part(Part::Bubble) / 1e6);
        x.idle.push_back(b.part(Part::Idle) / 1e6);
        x.other.push_back((b.part(Part::Data) + b.part(Part::Optimizer) + b.part(Part::OtherHost)) /
                          1e6);
        double wmax = 0, wmin = std::numeric_limits<double>::infinity(), waitmax = 0;
        for (const auto& row : stragglers(a.ranks)) {
            wmax = std::max(wmax, row.work_ns / 1e6);
            wmin = std::min(wmin, row.work_ns / 1e6);
            waitmax = std::max(waitmax, row.wait_ns / 1e6);
        }
        x.wmax.push_back(wmax);
        x.wmin.push_back(std::isfinite(wmin) ? wmin : 0);
        x.waitmax.push_back(waitmax);
    }
    auto mean = [](const std::vector<double>& v) {
        if (v.empty()) return kNaN;
        double s = 0;
        for (double d : v) s += d;
        return s / static_cast<double>(v.size());
    };
    for (std::size_t i = 0; i < r.points.size(); ++i) {
        LessonPoint& lp = r.points[i];
        const Acc& x = acc[i];
        lp.step_ms = mean(x.step);
        lp.throughput = mean(x.thr);
        lp.compute_ms = mean(x.compute);
        lp.comm_ms = mean(x.comm);
        lp.bubble_ms = mean(x.bubble);
        lp.idle_ms = mean(x.idle);
        lp.other_ms = mean(x.other);
        lp.work_max_ms = mean(x.wmax);
        lp.work_min_ms = mean(x.wmin);
        lp.wait_max_ms = mean(x.waitmax);
    }

    // The placeholders (docs/LESSONS.md "Placeholders").
    const LessonPoint* first = r.points.empty() ? nullptr : &r.points.front();
    for (std::size_t i = 0; i < r.points.size(); ++i) {
        const LessonPoint& lp = r.points[i];
        const std::string k = "." + std::to_string(i + 1);
        auto& v = r.values;
        v["step_ms" + k] = lp.step_ms;
        v["throughput" + k] = lp.throughput;
        v["p" + k] = lp.p;
        v["pp" + k] = lp.pp;
        v["micro_batches" + k] = lp.micro_batches;
        v["compute_ms" + k] = lp.compute_ms;
        v["comm_ms" + k] = lp.comm_ms;
        v["bubble_ms" + k] = lp.bubble_ms;
        v["idle_ms" + k] = lp.idle_ms;
        v["other_ms" + k] = lp.other_ms;
        const double total = lp.compute_ms + lp.comm_ms + lp.bubble_ms + lp.idle_ms + lp.other_ms;
        auto pct = [&](double part) { return total > 0 ? 100.0 * part / total : kNaN; };
        v["compute_pct" + k] = pct(lp.compute_ms);
        v["comm_pct" + k] = pct(lp.comm_ms);
        v["bubble_pct" + k] = pct(lp.bubble_ms);
        v["idle_pct" + k] = pct(lp.idle_ms);
        v["wait_pct" + k] = pct(lp.comm_ms + lp.bubble_ms + lp.idle_ms);
        v["work_max_ms" + k] = lp.work_max_ms;
        v["work_min_ms" + k] = lp.work_min_ms;
        v["wait_max_ms" + k] = lp.wait_max_ms;
        v["imbalance_pct" + k] =
            lp.work_min_ms > 0 ? 100.0 * (lp.work_max_ms / lp.work_min_ms - 1) : kNaN;
        // Relative to the first point: S = X_i / X_1 (throughput, so strong and weak read alike),
        // E = S * p_1 / p_i (core/launch `study`'s summary and DESIGN.md "Formulas").
        const double s = first ? lp.throughput / first->throughput : kNaN;
        v["speedup" + k] = s;
        v["efficiency_pct" + k] = first ? 100.0 * s * first->p / lp.p : kNaN;
        v["slowdown" + k] = first ? lp.step_ms / first->step_ms : kNaN;
        // The pipeline bubble of GPipe and 1F1B, (p-1)/(m+p-1) of the step
        // (models/plan/schedule.h).
        v["bubble_formula_pct" + k] = 100.0 * bubble_fraction(lp.pp, lp.micro_batches);
        r.texts["value" + k] = lp.value;
    }
    r.values["points"] = static_cast<double>(r.points.size());
    int max_p = 0;
    for (const auto& lp : r.points) max_p = std::max(max_p, lp.p);
    r.values["max_p"] = max_p;

    // The scaling analysis of a study over p (the same as the Scaling page's).
    bool has_p1 = false, several_p = false;
    for (const auto& lp : r.points) {
        has_p1 |= lp.p == 1;
        several_p |= lp.p != r.points.front().p;
    }
    if (has_p1 && several_p && study.valid() && r.failed == 0) {
        ScalingOptions o;
        o.bootstrap = 200;
        try {
            r.scaling = analyze_study(reader, study, o);
        } catch (const std::exception&) {
            // Left out: the placeholders of the scaling analysis stay unfilled (fill_placeholders
            // names them).
            return r;
        }
        for (const auto& pt : r.scaling->points)
            if (pt.p == max_p) {
                r.values["speedup_at_max_p"] = pt.speedup;
                r.values["efficiency_at_max_p"] = 100.0 * pt.efficiency;
                r.values["karp_flatt_at_max_p"] = pt.karp_flatt;
            }
        if (const LawFit* f = find_fit(*r.scaling, own_law(*r.scaling)); f && f->ok && !f->params.empty())
            r.values["serial_fraction_pct"] = 100.0 * f->params[0].value;
    }
    return r;
}

traces::StudyId find_lesson_study(traces::TraceReader& reader, const Lesson& lesson) {
    traces::StudyId found;
    for (const auto& s : reader.studies())
        if (s.name == "lesson " + lesson.id && s.id > found) found = s.id;
    return found;
}

LessonResult lesson_result_from_study(traces::TraceReader& reader, const Lesson& lesson,
                                      traces::StudyId study) {
    const StudyPlan plan = plan_lesson(lesson, false);
    std::vector<PointOutcome> runs;
    for (const auto& sr : reader.study_runs(study)) {
        auto it = std::find_if(plan.points.begin(), plan.points.end(), [&](const StudyPoint& p) {
            return p.value == sr.value && p.repeat == sr.repeat;
        });
        if (it == plan.points.end())
            throw LessonError(
                lesson.file + ": study " + std::to_string(study.value) + " has the point \"" +
                sr.value +
                "\", which is not one of this lesson's: it was recorded by another lesson or an "
                "earlier version of it");
        const traces::RunInfo info = reader.run(sr.run);
        PointOutcome o;
        o.point = *it;
        o.outcome.run = sr.run;
        o.outcome.status = info.status;
        o.outcome.failure_reason = info.failure_reason;
        o.outcome.plan.oversubscribed = info.oversubscribed;
        runs.push_back(o);
    }
    if (runs.empty())
        throw LessonError(lesson.file + ": study " + std::to_string(study.value) + " has no runs");
    LessonResult r = lesson_result(reader, plan, runs, study);
    for (const auto& lp : r.points)
        if (lp.runs == 0) {
            ++r.failed;
            r.failures.push_back("point " + lp.value + ": not recorded");
        }
    return r;
}

LessonVerdict judge_prediction(const Lesson& lesson, const LessonResult& result, int choice,
                               double number) {
    const LessonPredict& p = lesson.predict;
    LessonVerdict v;
    if (!p.compare.empty()) v.measured = placeholder_value(result, p.compare);
    const std::string unit = p.unit.empty() ? "" : (p.unit == "%" ? " %" : " " + p.unit);
    const std::string measured = format_lesson_number(v.measured) + unit;
    if (p.kind == LessonPredict::Kind::Number) {
        v.judged = std::isfinite(v.measured);
        if (!std::isfinite(number)) {
            v.text = "You made no prediction; measured " + measured + ".";
            return v;
        }
        const double diff = number - v.measured;
        // Within 10 % of the measured value (or 1 unit of a value near zero) counts as right.
        v.right = v.judged && std::fabs(diff) <= std::max(0.1 * std::fabs(v.measured), 1.0);
        v.text = "You predicted " + format_lesson_number(number) + unit + "; measured " + measured;
        if (v.judged)
            v.text += v.right ? " — close."
                              : " (" + format_lesson_number(std::fabs(diff)) + unit +
                                    (diff > 0 ? " too high)." : " too low).");
        else
            v.text += ".";
        return v;
    }
    if (p.ranged()) {
        for (std::size_t i = 0; i < p.choices.size(); ++i)
            if (v.measured >= p.choices[i].min && v.measured < p.choices[i].max)
                v.measured_choice = static_cast<int>(i);
        v.judged = v.measured_choice >= 0;
    } else if (p.correct >= 0) {
        v.measured_choice = p.correct;
        v.judged = true;
    }
    const bool chose = choice >= 0 && choice < static_cast<int>(p.choices.size());
    v.right = v.judged && chose && choice == v.measured_choice;
    if (!chose)
        v.text = "You made no prediction.";
    else
        v.text = "You predicted \"" + p.choices[static_cast<std::size_t>(choice)].text + "\".";
    if (p.ranged())
        v.text +=
            " Measured " + measured +
            (v.judged ? ": \"" + p.choices[static_cast<std::size_t>(v.measured_choice)].text + "\"."
                      : ".");
    else if (v.judged)
        v.text +=
            " The answer: \"" + p.choices[static_cast<std::size_t>(v.measured_choice)].text + "\".";
    if (chose && v.judged) v.text += v.right ? " Right." : " Not quite.";
    return v;
}

LessonResult run_lesson(const Lesson& lesson, const LessonRunRequest& request) {
    const auto t0 = std::chrono::steady_clock::now();
    const StudyPlan plan = plan_lesson(lesson, request.check_files);
    StudyRunRequest rq;
    rq.points = plan.points;
    const bool study = !lesson.experiment.vary.empty();
    if (study)
        rq.study = traces::StudyInfo{traces::StudyId(), "lesson " + lesson.id, plan.variable,
                                     plan.scaling};
    rq.output = request.output;
    rq.runs_root =
        request.runs_root.empty() ? default_runs_root(request.output) : request.runs_root;
    rq.env = request.env;
    rq.worker = request.worker.empty() ? find_program("scalescope-worker") : request.worker;
    rq.mpirun = request.mpirun.empty() ? mpirun_program(request.env) : request.mpirun;
    rq.cancel = request.cancel;
    rq.stop_on_failure = true;  // a lesson's answer needs every point
    rq.on_point_started = request.on_point_started;
    rq.on_progress = request.on_progress;
    rq.on_point_finished = request.on_point_finished;
    const StudyRunResult done = run_study(rq);
    traces::TraceReader reader(request.output);
    LessonResult r = lesson_result(reader, plan, done.runs, done.study);
    r.output = request.output;
    r.cancelled = done.cancelled;
    if (done.runs.size() < plan.points.size() && !done.cancelled && r.failed == 0) r.failed = 1;
    r.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace ss::core

// core/teach/lesson: the lesson file format (every bad input named by file and field), the shipped
// lessons, the placeholders (names, point indices, expressions, formatting), the numbers computed
// from a recorded study (hand-worked breakdown, speedup, efficiency, the scaling analysis) and the
// verdict on a prediction. The lessons run end to end under mpirun in tests/lessons/.
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <fstream>

#include "core/teach/lesson.h"
#include "tst_core_analysis_fixture.h"

using namespace ss::core;
using namespace ss::traces;
using nlohmann::json;

namespace {

// A valid lesson on an inline spec varying dp over 1 and 2 (no data files checked).
json good_lesson() {
    return json::parse(R"({
      "format": 1, "id": "demo", "title": "Demo", "question": "Why?",
      "predict": {"prompt": "Efficiency at dp=2?", "choices": [
          {"text": "high", "min": 90}, {"text": "middle", "min": 60, "max": 90}, {"text": "low", "max": 60}],
        "compare": "efficiency_pct.last", "unit": "%"},
      "experiment": {"spec": {"name": "demo", "model": {"kind": "mlp", "preset": "default", "hidden": [64]},
                              "data": {"path": "/nonexistent"}, "training": {"steps": 3, "global_batch": 64}},
                     "vary": ["dp=1,2"]},
      "look": "Compute {compute_ms.1} ms.",
      "answer": ["E = {efficiency_pct.2} %, S = {speedup.last}", "ratio {step_ms.1 / step_ms.2}"]
    })");
}

std::string error_of(const json& doc) {
    try {
        parse_lesson(doc, "x/bad.json", false);
    } catch (const LessonError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

class TestCoreLesson : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path(const char* n) { return dir_.filePath(QString::fromUtf8(n)).toStdString(); }

private slots:
    void parsesAGoodLesson() {
        const Lesson l = parse_lesson(good_lesson(), "x/good.json", false);
        QCOMPARE(l.id, std::string("demo"));
        QCOMPARE(l.predict.kind, LessonPredict::Kind::Choice);
        QVERIFY(l.predict.ranged());
        QCOMPARE(l.predict.choices.size(), size_t(3));
        QCOMPARE(l.predict.choices[1].min, 60.0);
        QCOMPARE(l.predict.choices[1].max, 90.0);
        QCOMPARE(
            l.answer,
            std::string(
                "E = {efficiency_pct.2} %, S = {speedup.last}\n\nratio {step_ms.1 / step_ms.2}"));
        QCOMPARE(l.chart, LessonChart::Breakdown);
        const StudyPlan plan = plan_lesson(l, false);
        QCOMPARE(plan.points.size(), size_t(2));
        QCOMPARE(plan.points[1].p, 2);
        QCOMPARE(plan.variable, std::string("parallel.dp"));
    }

    void badInputNamesFileAndField_data() {
        QTest::addColumn<QString>("edit");  // a JSON merge patch on the good lesson
        QTest::addColumn<QString>("expected");
        auto row = [](const char* tag, const char* edit, const char* expected) {
            QTest::newRow(tag) << QString::fromUtf8(edit) << QString::fromUtf8(expected);
        };
        row("missing title", R"({"title": null})", "x/bad.json: title: missing");
        row("unknown field", R"({"qestion": "x"})", "x/bad.json: qestion: unknown field");
        row("bad id", R"({"id": "My Lesson"})", "x/bad.json: id: \"My Lesson\" must be lower-case");
        row("newer format", R"({"format": 7})", "x/bad.json: format: version 7 is newer");
        row("choice min not a number",
            R"({"predict": {"choices": [{"text": "a", "min": "x"}, {"text": "b", "min": 5}]}})",
            "x/bad.json: predict.choices[0].min: must be a number, got \"x\"");
        row("overlapping ranges",
            R"({"predict": {"choices": [{"text": "a", "min": 0, "max": 50}, {"text": "b", "min": 40}]}})",
            "x/bad.json: predict.choices: the ranges of \"a\" and \"b\" overlap");
        row("one choice", R"({"predict": {"choices": ["only"]}})",
            "x/bad.json: predict.choices: must list at least two");
        row("number without compare",
            R"({"predict": {"choices": null, "kind": "number", "compare": null}})",
            "x/bad.json: predict.compare: missing");
        row("correct out of range",
            R"({"predict": {"choices": ["a", "b"], "compare": null, "correct": 2}})",
            "x/bad.json: predict.correct: must be the index of a choice, 0..1, got 2");
        row("bad vary", R"({"experiment": {"vary": ["dp"]}})", "x/bad.json: experiment.vary[0]: ");
        row("bad set", R"({"experiment": {"set": ["parallel.nope=2"]}})",
            "x/bad.json: experiment.set[0]: ");
        row("bad spec", R"({"experiment": {"spec": {"parallel": {"tp": 3}}, "vary": null}})",
            "x/bad.json: experiment.spec: parallel.tp=3 must divide every model.hidden width");
        row("spec file missing", R"({"experiment": {"spec": "nothere.json"}})",
            "x/bad.json: experiment.spec: cannot read");
        row("repeat", R"({"experiment": {"repeat": 0}})",
            "x/bad.json: experiment.repeat: must be an integer in 1..20");
        row("unknown placeholder", R"({"answer": "x {efficency_pct.2}"})",
            "x/bad.json: answer: {efficency_pct.2}: 'efficency_pct' is not a point value");
        row("point out of range", R"({"answer": "x {step_ms.3}"})",
            "x/bad.json: answer: {step_ms.3}: point 3 does not exist (the experiment has 2 "
            "points)");
        row("point missing", R"({"look": "x {step_ms}"})",
            "x/bad.json: look: {step_ms} needs a point");
        row("text in expression", R"({"answer": "{value.1 / step_ms.1}"})",
            "is a text, not a number");
        row("scaling without p sweep",
            R"({"experiment": {"vary": ["steps=3,4"]}, "answer": "{efficiency_at_max_p}"})",
            "x/bad.json: answer: {efficiency_at_max_p} comes from the scaling analysis");
        row("chart", R"({"chart": "pie"})",
            "x/bad.json: chart: must be \"breakdown\" or \"scaling\", got \"pie\"");
        row("compare is text", R"({"predict": {"compare": "value.1"}})",
            "x/bad.json: predict.compare: {value.1} is a text");
    }
    void badInputNamesFileAndField() {
        QFETCH(QString, edit);
        QFETCH(QString, expected);
        json doc = good_lesson();
        doc.merge_patch(json::parse(edit.toStdString()));
        const std::string msg = error_of(doc);
        QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
    }

    void unreadableAndNotJson() {
        QVERIFY_THROWS_EXCEPTION(LessonError, load_lesson(path("absent.json"), false));
        { std::ofstream(path("broken.json")) << "{ \"id\": "; }
        try {
            load_lesson(path("broken.json"), false);
            QFAIL("broken JSON must be refused");
        } catch (const LessonError& e) {
            QVERIFY2(std::string(e.what()).find("broken.json: not JSON") != std::string::npos,
                     e.what());
        }
    }

    void specFileRelativeToTheLesson() {
        {
            std::ofstream(path("spec.json")) << "// a comment\n"
                                             << good_lesson()["experiment"]["spec"].dump();
            json l = good_lesson();
            l["experiment"]["spec"] = "spec.json";
            std::ofstream(path("lesson.json")) << l.dump();
        }
        const Lesson l = load_lesson(path("lesson.json"), false);
        QCOMPARE(l.experiment.spec_path, path("spec.json"));
        QCOMPARE(l.experiment.spec_doc["name"].get<std::string>(), std::string("demo"));
    }

    void shippedLessonsLoad() {
        const auto lessons = load_lessons(SCALESCOPE_SOURCE_DIR "/examples/lessons", false);
        QCOMPARE(lessons.size(), size_t(5));
        std::vector<std::string> ids;
        for (const auto& l : lessons) {
            ids.push_back(l.id);
            QVERIFY2(!plan_lesson(l, false).points.empty(), l.file.c_str());
            QVERIFY(!lesson_placeholders(l.answer).empty());  // every answer shows measured numbers
        }
        QCOMPARE(ids,
                 (std::vector<std::string>{"dp-efficiency", "pipeline-bubble", "tensor-parallel",
                                           "parameter-server", "straggler"}));
    }

    void placeholdersAndFormatting() {
        QCOMPARE(lesson_placeholders("a {x.1} {{lit}} {  y.last / 2 } }}"),
                 (std::vector<std::string>{"x.1", "y.last / 2"}));
        QVERIFY(!placeholder_problem("step_ms.1 / step_ms.2", 2));
        QVERIFY(!placeholder_problem("100 * comm_ms.last", 2));
        QVERIFY(!placeholder_problem("bubble_formula_pct.2", 2));
        QVERIFY(placeholder_problem("step_ms.0", 2));
        QVERIFY(placeholder_problem("step_ms.x", 2));
        QCOMPARE(format_lesson_number(0.70312), std::string("0.703"));
        QCOMPARE(format_lesson_number(70.312), std::string("70.3"));
        QCOMPARE(format_lesson_number(7.0312), std::string("7.03"));
        QCOMPARE(format_lesson_number(1234.7), std::string("1235"));
        QCOMPARE(format_lesson_number(50), std::string("50"));
        LessonResult r;
        r.points.resize(2);
        r.values = {{"step_ms.1", 100}, {"step_ms.2", 60}};
        r.texts = {{"value.2", "dp=2"}};
        QCOMPARE(fill_placeholders(
                     "{{a}} {step_ms.1 / step_ms.2}x at {value.last}, {step_ms.last - 10} ms", r),
                 std::string("{a} 1.67x at dp=2, 50 ms"));
        QCOMPARE(placeholder_value(r, "step_ms.2 * 2"), 120.0);
        try {
            fill_placeholders("{comm_ms.2}", r);
            QFAIL("a missing value must be named");
        } catch (const LessonError& e) {
            QCOMPARE(std::string(e.what()), std::string("{comm_ms.2} has no measured value"));
        }
    }

    // A recorded dp study: p = 1, steps of 100 ms, a 90 ms kernel and 10 ms of host work; p = 2,
    // steps of 60 ms on both ranks: a 40 ms kernel then a 20 ms all-reduce (exposed). Global batch
    // 64: 640 samples/s, then 1066.7: speedup 1.667, efficiency 83.3 %.
    void resultFromARecordedStudy() {
        const std::string file = path("study.sqlite");
        const std::string spec =
            R"({"model":{"kind":"mlp","hidden":[64]},"training":{"global_batch":64}})";
        auto steps = [](std::int64_t step_ms, const std::string& inner) {
            std::string s;
            for (int i = 0; i < 4; ++i) {
                const std::int64_t t = i * step_ms * 1000000;
                auto at = [&](std::int64_t ms) { return std::to_string(t + ms * 1000000); };
                s += "step step " + at(0) + " " + at(step_ms) +
                     " lane=0 step=" + std::to_string(i) + "\n";
                std::string x = inner;
                for (auto pos = x.find('@'); pos != std::string::npos; pos = x.find('@')) {
                    const auto end = x.find_first_of(" \n", pos);
                    x.replace(pos, end - pos, at(std::stoll(x.substr(pos + 1, end - pos - 1))));
                }
                for (auto pos = x.find("SEQ"); pos != std::string::npos; pos = x.find("SEQ"))
                    x.replace(pos, 3, std::to_string(i));
                s += x;
            }
            return s;
        };
        StudyId sid;
        std::vector<PointOutcome> outcomes;
        StudyPlan plan;
        {
            TraceWriter w(file);
            sid = w.add_study(StudyInfo{StudyId(), "lesson demo", "parallel.dp", "strong"});
            const std::string one =
                steps(100, "kernel fwd @0 @90 lane=2\nhost h @90 @100 lane=4\n");
            const std::string two =
                steps(60,
                      "kernel fwd @0 @40 lane=2\ncomm all_reduce @40 @60 lane=3 coll=all_reduce "
                      "group=dp gid=0 gsize=2 bytes=1024 seq=SEQ\n");
            const RunId r1 = afx::write_run(w, afx::info("p1", 1, spec), {{0, one}});
            const RunId r2 = afx::write_run(w, afx::info("p2", 2, spec), {{0, two}, {1, two}});
            w.add_study_run(StudyRun{sid, r1, "1", 1, 0});
            w.add_study_run(StudyRun{sid, r2, "2", 2, 0});
            for (auto [value, p, run] : {std::tuple{"1", 1, r1}, std::tuple{"2", 2, r2}}) {
                ss::core::StudyPoint pt;
                pt.value = value;
                pt.p = p;
                plan.points.push_back(pt);
                PointOutcome o;
                o.point = pt;
                o.outcome.status = RunStatus::Completed;
                o.outcome.run = run;
                outcomes.push_back(o);
            }
        }
        TraceReader rd(file);
        const LessonResult r = lesson_result(rd, plan, outcomes, sid);
        QVERIFY(r.complete());
        QCOMPARE(r.points.size(), size_t(2));
        auto near = [&](const char* name, double want) {
            const double got = placeholder_value(r, name);
            QVERIFY2(std::fabs(got - want) < 1e-6 * std::max(1.0, std::fabs(want)),
                     (std::string(name) + " = " + std::to_string(got) + ", expected " +
                      std::to_string(want))
                         .c_str());
        };
        near("step_ms.1", 100);
        near("step_ms.2", 60);
        near("compute_ms.1", 90);
        near("compute_ms.2", 40);
        near("comm_ms.2", 20);
        near("comm_pct.2", 100.0 / 3);
        near("compute_pct.1", 90);
        near("other_ms.1", 10);
        near("throughput.1", 640);
        near("speedup.2", 100.0 / 60);
        near("efficiency_pct.last", 100.0 * 100 / 60 / 2);
        near("slowdown.2", 0.6);
        near("bubble_formula_pct.1", 0);
        near("max_p", 2);
        QVERIFY(r.scaling.has_value());
        near("efficiency_at_max_p", 100.0 * 100 / 60 / 2);
        near("speedup_at_max_p", 100.0 / 60);
        // Amdahl through (2, 1.667): 1/S = f + (1-f)/2 -> f = 2/S - 1 = 0.2.
        near("serial_fraction_pct", 20);
        QCOMPARE(fill_placeholders("{value.2}: E {efficiency_pct.2} %", r),
                 std::string("2: E 83.3 %"));

        // The verdicts on a prediction.
        Lesson l = parse_lesson(good_lesson(), "x/good.json", false);
        LessonVerdict v = judge_prediction(l, r, 1, NAN);
        QVERIFY(v.judged);
        QVERIFY(v.right);
        QCOMPARE(v.measured_choice, 1);
        QCOMPARE(v.text,
                 std::string("You predicted \"middle\". Measured 83.3 %: \"middle\". Right."));
        v = judge_prediction(l, r, 0, NAN);
        QVERIFY(!v.right);
        QVERIFY2(v.text.find("Not quite.") != std::string::npos, v.text.c_str());
        l.predict.kind = LessonPredict::Kind::Number;
        l.predict.choices.clear();
        v = judge_prediction(l, r, -1, 80);
        QVERIFY(v.right);  // within 10 % of 83.3
        QCOMPARE(v.text, std::string("You predicted 80 %; measured 83.3 % — close."));
        v = judge_prediction(l, r, -1, 50);
        QVERIFY(!v.right);
        QCOMPARE(v.text, std::string("You predicted 50 %; measured 83.3 % (33.3 % too low)."));
    }

    void failedRunLeavesNoNumbers() {
        const std::string file = path("failed.sqlite");
        std::vector<PointOutcome> outcomes;
        StudyPlan plan;
        {
            TraceWriter w(file);
            const RunId run = afx::write_run(w, afx::info("p2", 2), {{0, afx::steps_text({100})}},
                                             RunStatus::Failed);
            ss::core::StudyPoint pt;
            pt.value = "parameter_server";
            pt.p = 3;
            plan.points.push_back(pt);
            PointOutcome o;
            o.point = pt;
            o.outcome.status = RunStatus::Failed;
            o.outcome.failure_reason = "rank 2 called MPI_Abort";
            o.outcome.run = run;
            outcomes.push_back(o);
        }
        TraceReader rd(file);
        const LessonResult r = lesson_result(rd, plan, outcomes, StudyId());
        QVERIFY(!r.complete());
        QCOMPARE(r.failures,
                 (std::vector<std::string>{"point parameter_server: rank 2 called MPI_Abort"}));
        try {
            fill_placeholders("{step_ms.1}", r);
            QFAIL("no value from a failed run");
        } catch (const LessonError& e) {
            QCOMPARE(std::string(e.what()),
                     std::string("{step_ms.1} has no measured value (a run did not complete)"));
        }
    }
};

QTEST_GUILESS_MAIN(TestCoreLesson)
#include "tst_core_lesson.moc"

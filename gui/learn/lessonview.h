// A lesson (docs/LESSONS.md, core/teach/lesson.h) as five steps a class goes through together:
// 1 the question, 2 predict (the participant picks a choice or enters a number), 3 run (the runs
// through the study runner, with progress, elapsed time and Cancel), 4 look (the chart of the
// result and what to look at), 5 the answer with the measured numbers and the prediction compared.
// Left / PageUp and Right / PageDown (what presentation clickers send) move between the steps;
// Look and Answer open once a result is in (a run, or the lesson's study in a selected file).
//
// The Learn page registers one entry per lesson file:
//   for (const core::Lesson& l : loadLessonFiles(lessonsDirectory()))
//       learn->addEntry(LessonView::entryId(l), QString::fromStdString(l.title), new
//       LessonView(l));
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

#include <optional>
#include <vector>

#include "core/teach/lesson.h"
#include "gui/app/documents.h"
#include "gui/learn/learnpage.h"
#include "gui/common/jobs.h"

class QButtonGroup;
class QChart;
class QChartView;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTimer;

namespace ss::gui {

class LessonView : public QWidget, public LearnEntry {
    Q_OBJECT
public:
    enum Step { Question = 0, Predict = 1, Run = 2, Look = 3, Answer = 4 };
    static constexpr int kSteps = 5;

    explicit LessonView(core::Lesson lesson, QWidget* parent = nullptr);
    ~LessonView() override;

    // "lesson-<id>": the Learn page entry and screenshot id.
    static QString entryId(const core::Lesson& lesson);
    const core::Lesson& lesson() const { return lesson_; }

    int step() const { return step_; }
    // Goes to step s when it is open (Look and Answer need a result); false otherwise.
    bool setStep(int s);
    bool next();
    bool previous();
    static QString stepTitle(int s);  // "Question", "Predict", "Run", "Look", "Answer"

    // The participant's prediction: a choice (0-based, -1 none) or a number (NaN none).
    void setPrediction(int choice, double number);
    int predictedChoice() const;
    double predictedNumber() const;

    // Runs the lesson into outputDir()/<id>.sqlite (step Run's button does the same).
    void start();
    void cancel();
    bool running() const { return running_; }
    // Default: the application's data folder, lessons/<id>.
    void setOutputDir(const QString& dir) { outputDir_ = dir; }
    QString outputDir() const;

    // A result made elsewhere (a recorded study): Look and Answer open with it.
    void setResult(const core::LessonResult& r);
    bool hasResult() const { return result_.has_value(); }
    const std::optional<core::LessonResult>& result() const { return result_; }
    // A selected file that holds this lesson's study ("lesson <id>") gives its result.
    void setSelection(const Selection& s) override;

    // What steps Look and Answer show (filled placeholders, the verdict).
    QString lookText() const;
    QString answerText() const;
    QString verdictText() const;
    QChartView* chartView() const { return chart_; }

signals:
    void stepChanged(int step);
    // A run ended and wrote this trace file (the window may open it).
    void finished(const QString& tracePath);

protected:
    void keyPressEvent(QKeyEvent* e) override;
    void changeEvent(QEvent* e) override;

private:
    QWidget* buildQuestion();
    QWidget* buildPredict();
    QWidget* buildRun();
    QWidget* buildLook();
    QWidget* buildAnswer();
    void updateNavigation();
    void showResult();
    void showVerdict();
    QChart* buildChart() const;
    void tick();
    void onProgress(std::size_t point, const core::Progress& p);
    void onPointStarted(std::size_t point);
    void onPointFinished(std::size_t point, const core::RunOutcome& o);
    void onDone(core::LessonResult r);
    void onError(const QString& message);

    core::Lesson lesson_;
    core::StudyPlan plan_;
    int step_ = Question;
    std::optional<core::LessonResult> result_;
    QString outputDir_;
    bool running_ = false;
    CancelToken token_;
    CancelToken loadToken_;
    qint64 startedMs_ = 0;
    int totalSteps_ = 1, doneSteps_ = 0;

    QLabel* title_ = nullptr;
    QList<QLabel*> stepLabels_;
    QStackedWidget* stack_ = nullptr;
    QPushButton* back_ = nullptr;
    QPushButton* forward_ = nullptr;
    // Predict
    QButtonGroup* choices_ = nullptr;
    QLineEdit* number_ = nullptr;
    // Run
    QPushButton* runButton_ = nullptr;
    QPushButton* cancelButton_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* runStatus_ = nullptr;
    QLabel* elapsed_ = nullptr;
    QListWidget* log_ = nullptr;
    QTimer* ticker_ = nullptr;
    // Look, Answer
    QLabel* look_ = nullptr;
    QChartView* chart_ = nullptr;
    QLabel* answer_ = nullptr;
    QLabel* verdict_ = nullptr;
    QChartView* answerChart_ = nullptr;
};

// Where the shipped lessons are: $SCALESCOPE_LESSONS_DIR, the source tree's examples/lessons, or
// share/scalescope/lessons beside the executable; empty when none exists.
QString lessonsDirectory();
// Every lesson file of `dir`, by file name; a file that does not load is left out with its
// message in `errors`.
std::vector<core::Lesson> loadLessonFiles(const QString& dir, QStringList* errors = nullptr);

}  // namespace ss::gui

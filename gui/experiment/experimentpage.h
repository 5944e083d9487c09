// The Experiment page: a form for the experiment spec (model preset, data, steps, batch,
// dp/tp/pp with live validation messages and the derived world size, schedule, micro-batches,
// backend, hosts), a study mode (vary one or two parameters, repeats, weak scaling), Launch and
// Cancel, progress (the phases before the first step, then steps) and a live loss curve from the
// launcher's callback, the workers' output, and the mpirun commands for copying to a cluster shell.
// A spec file (File ▸ Open) loads into the form; the fields the form does not show are kept and
// launched as the file says. Every launch goes through core::run_study on the job pool, as the
// CLI's `run`/`study` do: a fresh run folder "<runs folder>/NNN-<name>" per run, a study recorded
// first and each run added as it ends. The finished trace is opened in the window.
#pragma once

#include <QElapsedTimer>
#include <QStringList>

#include <atomic>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/launch/launcher.h"
#include "core/launch/study.h"
#include "core/spec/spec.h"
#include "gui/app/page.h"

class QCheckBox;
class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QLineSeries;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;
class QToolButton;

namespace ss::gui {

// The spec document the form describes (only what the form sets; presets fill the rest).
struct ExperimentForm {
    std::string name = "experiment";
    std::string kind = "gpt", preset = "tiny";
    std::string dataPath;  // empty: the model's default
    int steps = 20, globalBatch = 16;
    int dp = 1, tp = 1, pp = 1, microBatches = 1, zero = 0;
    std::string schedule = "1f1b";
    std::string device = "cpu";
    std::string comm = "auto";
    int blasThreads = 1;
    std::vector<std::string> hosts;  // "node1:4"
    nlohmann::json toJson() const;  // applyTo an empty document
    // Sets the form's fields in `doc` (a spec document) and keeps the others. The model's other
    // fields are kept only while kind and preset stay those of `doc`.
    void applyTo(nlohmann::json& doc) const;
    // The form of a parsed spec; `doc` is its document (data.path as written there).
    static ExperimentForm fromSpec(const core::ExperimentSpec& spec, const nlohmann::json& doc);
};

// The fields of a spec document that the form does not show ("launch.env", "training.lr"),
// alphabetically.
QStringList fieldsNotInForm(const nlohmann::json& doc);

// What the page says about a form: the parsed spec's problems (each naming its field), the world
// size, and the study plan's points or its error.
struct FormCheck {
    core::ExperimentSpec spec;  // as parsed (its defaults where the document has errors)
    std::vector<core::SpecError> errors;
    int world = 1;
    long long params = 0;
    QStringList studyPoints;
    core::StudyPlan plan;  // the study's points (study mode, no error)
    QString studyError;
    bool ok() const { return errors.empty() && studyError.isEmpty(); }
};
FormCheck checkForm(const ExperimentForm& f, bool study, const QStringList& vary, int repeats, bool weak, bool checkFiles);
FormCheck checkDocument(const nlohmann::json& doc, bool study, const QStringList& vary, int repeats, bool weak,
                        bool checkFiles);

class ExperimentPage : public Page {
    Q_OBJECT
public:
    explicit ExperimentPage(QWidget* parent = nullptr);
    ~ExperimentPage() override;
    QString pageId() const override { return QStringLiteral("experiment"); }
    QString pageTitle() const override { return tr("Experiment"); }
    void setSelection(const Selection&) override {}

    ExperimentForm form() const;
    void setForm(const ExperimentForm& f);
    void setStudy(bool on, const QStringList& vary, int repeats = 1, bool weak = false);
    // The trace file, and the runs folder every launch makes its run folder in ("" = beside the
    // trace file: "<trace>-runs").
    void setOutput(const QString& traceFile, const QString& runsFolder = QString());
    QString runsFolder() const;  // the one in use (the default when the field is empty)
    // The spec document a launch runs: the loaded file's document (if any) with the form on top.
    nlohmann::json document() const;

    // A file that holds a spec (JSON, by its content or a .json name) rather than a trace.
    static bool isSpecFile(const QString& path);
    // Loads a spec file into the form (its other fields are kept, see document()). Returns the
    // problem, naming the file and the fields, when it is not a valid spec; the form is unchanged.
    QString loadSpecFile(const QString& path);
    QString specFile() const { return specFile_; }
    void forgetSpecFile();

    const FormCheck& check() const { return check_; }
    // The spec's problems, then what would make a launch fail (trace file, runs folder, programs).
    QStringList validationMessages() const;
    QString commandText() const;
    QString statusText() const;
    // The launcher: nullopt = mpirun from here; a value = every run submitted to Slurm with these
    // (docs/LAUNCH.md "--launcher slurm"); setSlurm(nullopt) goes back to mpirun.
    std::optional<core::SlurmSubmit> slurm() const;
    void setSlurm(const std::optional<core::SlurmSubmit>& s);
    bool canLaunch() const;
    bool isRunning() const { return running_; }

public slots:
    void launch();
    void cancel();

signals:
    void launchStarted();
    // Before a run's first step: what it is doing ("starting 2 ranks (mpirun)…", "rank 0: loading
    // data…", "rank 0: running step 0…").
    void phaseChanged(const QString& text);
    void progressed(qlonglong step, double loss);
    // status: traces::RunStatus of the (last) run; output: the trace file.
    void launchFinished(int status, const QString& reason, const QString& output);

private:
    void revalidate();
    void updateLaunchProblems();
    void onPointStarted(int pointIndex, int points, const QString& runDir);
    void onPlan(const core::MpirunPlan& plan);
    void onLine(const core::TaggedLine& line);
    void onProgress(const core::Progress& p, int pointIndex, int points);
    void onFinished(int status, const QString& reason);
    void setPhase(const QString& text);
    void updateStatus();

    QLineEdit* name_;
    QComboBox *kind_, *preset_, *schedule_, *device_, *comm_, *zero_;
    QLineEdit* data_;
    QSpinBox *steps_, *batch_, *dp_, *tp_, *pp_, *micro_, *blas_;
    QLineEdit* hosts_;
    QComboBox* launcher_;
    QLineEdit *partition_, *time_, *account_;
    QLineEdit* output_;
    QLineEdit* runsFolder_;
    QCheckBox* study_;
    QLineEdit *vary1_, *vary2_;
    QSpinBox* repeats_;
    QCheckBox *weak_, *stopOnFailure_;
    QToolButton* forget_;
    QLabel* world_;
    QListWidget* messages_;
    QPlainTextEdit* command_;
    QPushButton *launch_, *cancel_;
    QProgressBar* progress_;
    QLabel* status_;
    QChartView* lossChart_;
    QLineSeries* loss_ = nullptr;
    QPlainTextEdit* log_;
    QTimer* ticker_;  // the elapsed seconds while a run starts
    FormCheck check_;
    QStringList launchProblems_;
    std::string worker_ = "scalescope-worker";  // the worker program found (its name when none is)
    QStringList pathProblems_;  // the trace file's and runs folder's part of launchProblems_
    QString pathProblemsKey_;   // what pathProblems_ were computed for
    nlohmann::json specDoc_ = nlohmann::json::object();  // the loaded spec file's document
    QString specFile_;
    bool running_ = false;
    std::shared_ptr<std::atomic<bool>> cancelFlag_;
    double maxLoss_ = 0;
    // The run in progress: its place in a study, elapsed time, and the phase before its first step.
    int pointIndex_ = 0, points_ = 1;
    QElapsedTimer runClock_;
    QString phase_;
    QString stepText_;  // "" until the first step
};

}  // namespace ss::gui

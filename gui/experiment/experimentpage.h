// The Experiment page: a form for the experiment spec (model preset, data, steps, batch,
// dp/tp/pp with live validation messages and the derived world size, schedule, micro-batches,
// backend, hosts), a study mode (vary one or two parameters, repeats, weak scaling), Launch and
// Cancel, progress and a live loss curve from the launcher's callback, and the mpirun command for
// copying to a cluster shell. Runs go through core::launch_run on the job pool; the finished trace
// is opened in the window.
#pragma once

#include <QStringList>

#include <atomic>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/launcher.h"
#include "core/spec.h"
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
    int blasThreads = 1;
    std::vector<std::string> hosts;  // "node1:4"
    nlohmann::json toJson() const;
};

// What the page says about a form: the parsed spec's problems (each naming its field), the world
// size, and the study plan's points or its error.
struct FormCheck {
    std::vector<core::SpecError> errors;
    int world = 1;
    long long params = 0;
    QStringList studyPoints;
    QString studyError;
    bool ok() const { return errors.empty() && studyError.isEmpty(); }
};
FormCheck checkForm(const ExperimentForm& f, bool study, const QStringList& vary, int repeats, bool weak, bool checkFiles);

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
    void setOutput(const QString& traceFile, const QString& runDir);
    const FormCheck& check() const { return check_; }
    QStringList validationMessages() const;
    QString commandText() const;
    bool canLaunch() const;
    bool isRunning() const { return running_; }

public slots:
    void launch();
    void cancel();

signals:
    void launchStarted();
    void progressed(qlonglong step, double loss);
    // status: traces::RunStatus of the (last) run; output: the trace file.
    void launchFinished(int status, const QString& reason, const QString& output);

private:
    void revalidate();
    void onProgress(const core::Progress& p, int pointIndex, int points);
    void onFinished(int status, const QString& reason);

    QLineEdit* name_;
    QComboBox *kind_, *preset_, *schedule_, *device_, *zero_;
    QLineEdit* data_;
    QSpinBox *steps_, *batch_, *dp_, *tp_, *pp_, *micro_, *blas_;
    QLineEdit* hosts_;
    QLineEdit* output_;
    QLineEdit* runDir_;
    QCheckBox* study_;
    QLineEdit *vary1_, *vary2_;
    QSpinBox* repeats_;
    QCheckBox* weak_;
    QLabel* world_;
    QListWidget* messages_;
    QPlainTextEdit* command_;
    QPushButton *launch_, *cancel_;
    QProgressBar* progress_;
    QLabel* status_;
    QChartView* lossChart_;
    QLineSeries* loss_ = nullptr;
    QPlainTextEdit* log_;
    FormCheck check_;
    bool running_ = false;
    std::shared_ptr<std::atomic<bool>> cancelFlag_;
    double maxLoss_ = 0;
};

}  // namespace ss::gui

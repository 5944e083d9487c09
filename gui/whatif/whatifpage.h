// The What-if page: the simulator's knobs (layout, micro-batches, overlap, compute / bandwidth /
// latency multipliers, hardware preset or the calibration stored in the file, compute rates
// fitted on the selected run) drive core::simulate_analytic and core::scaling_curve live (a job
// per change, the newest wins): the projected speedup curve beside the study's measured points,
// and the predicted breakdown. "Replay this run" re-times the recorded step with the trace-driven
// engine (core::replay_trace); "Validate" reports the calibration's error on the file's runs; both
// texts are marked out of date when the knobs they were computed with change. "Calibrate this
// machine" runs `scalescope-cli calibrate` and keeps the hardware file with the user's data.
#pragma once

#include <QElapsedTimer>
#include <QProcess>
#include <QStringList>

#include <optional>

#include "core/analysis/scaling.h"
#include "core/sim/hardware.h"
#include "core/sim/simulator.h"
#include "core/sim/validation_band.h"
#include "gui/app/page.h"

class QChartView;
class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QTimer;

namespace ss::gui {

// A multiplier slider: positions -30..30 map to 2^(pos/10) (1/8 .. 8).
double sliderFactor(int position);
int factorSlider(double factor);

// Hardware descriptions offered: the file's stored calibrations, this user's calibrations, then
// the examples shipped with ScaleScope (measured on another computer, or from public specs).
struct HardwareChoice {
    enum class Origin { File, User, Example };
    QString label;  // the combo's text
    QString name;   // short, for sentences: "this machine (calibrated 2026-11-30 21:58)"
    core::Hardware hw;
    Origin origin = Origin::Example;
    QStringList hosts;  // where it was measured (a calibration); empty for public specs
    QString path;       // its JSON file (User, Example)
};
// Reads a hardware JSON file (comments allowed) into a choice of the given origin; throws
// core::HardwareError naming the file.
HardwareChoice readHardwareChoice(const QString& path, HardwareChoice::Origin origin);
// The examples. A file that does not parse is left out and, with `problems`, named there with why.
std::vector<HardwareChoice> hardwarePresets(QStringList* problems = nullptr);
QString hardwarePresetDir();
// This user's calibrations: QStandardPaths::AppDataLocation/hardware/*.json, newest first.
QString userHardwareDir();
std::vector<HardwareChoice> userCalibrations(QStringList* problems = nullptr);  // the same for `problems`

class WhatIfPage : public Page {
    Q_OBJECT
    Q_PROPERTY(QStringList calibrationOptions READ calibrationOptions WRITE setCalibrationOptions)
public:
    explicit WhatIfPage(QWidget* parent = nullptr);
    ~WhatIfPage() override;
    QString pageId() const override { return QStringLiteral("whatif"); }
    QString pageTitle() const override { return tr("What-if"); }
    void setSelection(const Selection& s) override;

    // Extra arguments for `scalescope-cli calibrate` (e.g. --sizes 4K,64K --iters 5: a shorter
    // calibration); none by default (its full sweep).
    void setCalibrationOptions(const QStringList& args) { calibrationOptions_ = args; }
    QStringList calibrationOptions() const { return calibrationOptions_; }

signals:
    // A calibration ended: ok with the hardware file written, or failed / cancelled.
    void calibrationFinished(bool ok, const QString& hardwarePath);

private:
    struct Outcome {
        core::SimResult current;
        std::vector<core::CurvePoint> curve;
        QString ratesNote;
        QString hardwareName;
        bool fittedRates = false;  // compute timed with the rates fitted on the run
        QStringList warnings;      // dp values left out of the curve, with why
        core::ErrorBand band;      // the validation stored in the hardware file, for this layout
        bool scaledKnobs = false;  // a compute / bandwidth / latency factor is not ×1
    };
    // A replay or validation text and the inputs it was computed with.
    struct SideResult {
        QString text;
        QString context;  // document and run / study
        QString knobs;    // the knobs it depends on
    };
    void loadContext();
    void rebuildHardware(const std::vector<HardwareChoice>& fileCalibrations, const QString& selectPath);
    void hardwareChanged();
    void simulate();
    void replayRun();
    void validate();
    void calibrate();
    void cancelCalibration();
    void calibrationOutput();
    void calibrationEnded(int exitCode, QProcess::ExitStatus status);
    void updateCalibrationStatus();
    void show(const Outcome& o);
    void showBand(const Outcome& o);
    void showWarnings();
    void updateStale();
    void setSideResult(SideResult& r, QLabel* label, const QString& text, const QString& context, const QString& knobs);
    QString contextKey(bool study) const;
    QString replayKnobs() const;
    QString validateKnobs() const;
    const HardwareChoice* currentChoice() const;
    bool isRunMachine(const HardwareChoice& c) const;
    core::ExperimentSpec currentSpec() const;
    core::Hardware currentHardware() const;

    Selection sel_;
    CancelToken job_, contextJob_, sideJob_, validateJob_;
    core::ExperimentSpec baseSpec_;
    std::vector<HardwareChoice> hardware_;
    std::optional<core::ComputeRates> fittedRates_;
    std::optional<core::ScalingResult> measured_;
    QStringList runHosts_;  // hosts the selected run ran on
    QString runDevice_;     // "CPU", "GPU"
    // Shown in warnings_: the context's (spec, rates, calibrations, study), the hardware files'
    // the last simulation's.
    QStringList contextWarnings_, hardwareWarnings_, curveWarnings_;
    QComboBox* hwCombo_;
    QCheckBox* fitted_;
    QSpinBox *dp_, *tp_, *pp_, *micro_;
    QCheckBox* overlap_;
    QCheckBox* weak_;
    QSlider *compute_, *bandwidth_, *latency_;
    QLabel *computeLabel_, *bandwidthLabel_, *latencyLabel_;
    QLabel* headline_;
    QLabel* band_;  // objectName whatifErrorBand: the prediction's error band, or that none backs the hardware
    QLabel* warnings_;  // objectName whatifWarnings: what could not be read or simulated
    QLabel* replay_;
    QLabel* validation_;
    QPushButton *replayButton_, *validateButton_;
    QPushButton *calibrateButton_, *cancelCalibrateButton_;
    QLabel* calibStatus_;
    QLabel* legend_;
    QChartView* curve_;
    QChartView* breakdown_;
    SideResult replayDone_, validateDone_;
    bool contextReady_ = true;

    QProcess* calib_ = nullptr;
    QTimer* calibTick_;
    QElapsedTimer calibClock_;
    QString calibOut_;       // the hardware file being written
    QString calibTrace_;     // the trace file it is stored in as well (empty: none open)
    QString calibProgress_;  // the last measurement line
    QString calibLog_;       // the program's output (its tail is shown on failure)
    bool calibCancelled_ = false;
    QStringList calibrationOptions_;
    QString pendingHardwarePath_;  // select this user calibration once the reloaded file's context is in
};

}  // namespace ss::gui

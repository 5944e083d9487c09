// The What-if page: the simulator's knobs (layout, micro-batches, overlap, compute / bandwidth /
// latency multipliers, hardware preset or the calibration stored in the file, compute rates
// fitted on the selected run) drive core::simulate_analytic and core::scaling_curve live (a job
// per change, the newest wins): the projected speedup curve beside the study's measured points,
// and the predicted breakdown. "Replay this run" re-times the recorded step with the trace-driven
// engine (core::replay_trace); "Validate" reports the calibration's error on the file's runs.
#pragma once

#include <optional>

#include "core/hardware.h"
#include "core/scaling.h"
#include "core/simulator.h"
#include "gui/app/page.h"

class QChartView;
class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QSpinBox;

namespace ss::gui {

// A multiplier slider: positions -30..30 map to 2^(pos/10) (1/8 .. 8).
double sliderFactor(int position);
int factorSlider(double factor);

// Hardware descriptions offered: the presets found on disk, then the file's stored calibrations.
struct HardwareChoice {
    QString label;
    core::Hardware hw;
};
std::vector<HardwareChoice> hardwarePresets();
QString hardwarePresetDir();

class WhatIfPage : public Page {
    Q_OBJECT
public:
    explicit WhatIfPage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("whatif"); }
    QString pageTitle() const override { return tr("What-if"); }
    void setSelection(const Selection& s) override;

private:
    struct Outcome {
        core::SimResult current;
        std::vector<core::CurvePoint> curve;
        QString ratesSource;
    };
    void loadContext();
    void simulate();
    void replayRun();
    void validate();
    void show(const Outcome& o);
    core::ExperimentSpec currentSpec() const;
    core::Hardware currentHardware() const;

    Selection sel_;
    CancelToken job_, contextJob_, sideJob_;
    core::ExperimentSpec baseSpec_;
    std::vector<HardwareChoice> hardware_;
    std::optional<core::ComputeRates> fittedRates_;
    std::optional<core::ScalingResult> measured_;
    QComboBox* hwCombo_;
    QCheckBox* fitted_;
    QSpinBox *dp_, *tp_, *pp_, *micro_;
    QCheckBox* overlap_;
    QCheckBox* weak_;
    QSlider *compute_, *bandwidth_, *latency_;
    QLabel *computeLabel_, *bandwidthLabel_, *latencyLabel_;
    QLabel* headline_;
    QLabel* replay_;
    QLabel* validation_;
    QChartView* curve_;
    QChartView* breakdown_;
    bool contextReady_ = true;
};

}  // namespace ss::gui

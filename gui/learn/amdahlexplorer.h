// The Learn page's "Amdahl vs Gustafson" explorer: the serial fraction f and the process count p
// as controls; strong (Amdahl) and weak (Gustafson) speedup against p on log₂ axes with the ideal
// line; both laws and Karp–Flatt read off the curves at p; the open study's measured speedups with
// the serial fraction its analysis fitted (core::analyze_study, on the job pool); three or four
// sentences that follow the controls. Every number: core/teach/laws_explorer.h.
#pragma once

#include <QWidget>

#include <optional>

#include "core/teach/laws_explorer.h"
#include "gui/common/jobs.h"
#include "gui/learn/learnpage.h"

class QChartView;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace ss::gui {

class AmdahlExplorer : public QWidget, public LearnEntry {
    Q_OBJECT
public:
    explicit AmdahlExplorer(QWidget* parent = nullptr);
    void setSelection(const Selection& s) override;

    // The controls (tests and the lessons drive them).
    void setSerialFraction(double f);
    void setProcesses(int p);
    double serialFraction() const;
    int processes() const;
    const core::teach::LawReading& reading() const { return reading_; }
    const std::optional<core::teach::StudyOverlay>& study() const { return study_; }

private:
    void analyse();
    void update();

    Selection sel_;
    CancelToken job_;
    std::optional<core::teach::StudyOverlay> study_;
    QString studyProblem_;
    core::teach::LawReading reading_;
    QDoubleSpinBox* f_;
    QSlider* fSlider_;
    QSpinBox* p_;
    QPushButton* useStudyF_;
    QChartView* chart_;
    QLabel* amdahl_;
    QLabel* gustafson_;
    QLabel* karpFlatt_;
    QLabel* studyLabel_;
    QLabel* sentences_;
};

}  // namespace ss::gui

// The Scaling page, for a study: speedup and efficiency against p with the ideal line, the
// measured points (each repeat, and the mean), the fitted Amdahl, Gustafson and USL curves with
// their parameters and a confidence band for the law of the study's kind, Karp–Flatt against p (a
// tab beside the tables), a
// projection to a chosen p, a log-2 axis option (on by default where it helps), and oversubscribed
// points marked (hollow when the fits left them out), the study in one sentence above. Computed by
// core::analyze_study on the job pool.
#pragma once

#include "core/analysis/scaling.h"
#include "gui/app/page.h"
#include "gui/common/tablemodel.h"

class QChartView;
class QCheckBox;
class QLabel;
class QSpinBox;
class QTabWidget;

namespace ss::gui {

// One row of the fits table: a law's parameters as text with their interval, and its quality.
struct FitRow {
    core::LawFit fit;
};
std::unique_ptr<TableModel<core::LawFit>> makeFitModel(QObject* parent);
std::unique_ptr<TableModel<core::ScalingPoint>> makePointModel(QObject* parent);
std::unique_ptr<TableModel<core::Projection>> makeProjectionModel(QObject* parent);
// The fitted law with every parameter at the low (or high) end of its interval.
core::LawFit fitAtBound(const core::LawFit& fit, bool high);

class ScalingPage : public Page {
    Q_OBJECT
public:
    explicit ScalingPage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("scaling"); }
    QString pageTitle() const override { return tr("Scaling"); }
    void setSelection(const Selection& s) override;

private:
    void analyse();
    void redraw();

    Selection sel_;
    CancelToken job_;
    std::optional<core::ScalingResult> result_;
    QLabel* title_;
    QLabel* sentence_;   // what the study shows, in one sentence (core::study_sentence)
    QLabel* warnings_;   // in the "Notes (N)" tab
    QTabWidget* tabs_ = nullptr;
    int notesTab_ = -1;
    QCheckBox* log2_;
    bool log2Chosen_ = false;  // the user ticked or unticked log₂: no longer chosen per study
    QSpinBox* projectP_;
    QChartView* speedup_;
    QChartView* efficiency_;
    QChartView* karpFlatt_;
    std::unique_ptr<TableModel<core::LawFit>> fits_;
    std::unique_ptr<TableModel<core::ScalingPoint>> points_;
    std::unique_ptr<TableModel<core::Projection>> projections_;
};

}  // namespace ss::gui

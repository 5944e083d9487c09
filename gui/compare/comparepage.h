// The Compare page: two runs (or two studies) side by side — the verdict, headline deltas,
// breakdown bars of A and B, kernel, collective and op (HTA's TraceDiff) delta tables; for studies, the per-p deltas,
// fitted-parameter deltas and both speedup curves overlaid. core::compare_runs / compare_studies
// on the job pool. A and B may come from different open files.
#pragma once

#include "core/analysis/compare.h"
#include "gui/app/page.h"
#include "gui/common/tablemodel.h"

class QChartView;
class QComboBox;
class QLabel;
class QStackedWidget;

namespace ss::gui {

// A summary value in its unit: durations, SI rates ("111 GFLOP/s"), percentages; `difference`
// signs it (and a ratio's difference is in percentage points).
QString metricValueText(const core::MetricDelta& m, double v, bool difference);
std::unique_ptr<TableModel<core::MetricDelta>> makeMetricDeltaModel(QObject* parent);
std::unique_ptr<TableModel<core::KernelDelta>> makeKernelDeltaModel(QObject* parent);
std::unique_ptr<TableModel<core::CollectiveDelta>> makeCollectiveDeltaModel(QObject* parent);
// HTA's TraceDiff: every op by name and side, calls and time per step and rank, its change.
std::unique_ptr<TableModel<core::OpDiff>> makeOpDiffModel(QObject* parent);
// "1 added, 1 removed, 2 changed (1 more often, 1 less often), 5 unchanged".
QString opChangesText(const std::vector<core::OpDiff>& ops);
std::unique_ptr<TableModel<core::StudyPointDelta>> makeStudyPointDeltaModel(QObject* parent);
std::unique_ptr<TableModel<core::FitDelta>> makeFitDeltaModel(QObject* parent);

class ComparePage : public Page {
    Q_OBJECT
public:
    explicit ComparePage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("compare"); }
    QString pageTitle() const override { return tr("Compare"); }
    void setSelection(const Selection& s) override;
    void setDocuments(const std::vector<DocumentPtr>& docs) override;
    void activated() override;
    QComboBox* comboA() const { return a_; }
    QComboBox* comboB() const { return b_; }
    TableModel<core::OpDiff>* opModel() const { return ops_.get(); }

private:
    struct Choice {
        DocumentPtr doc;
        traces::RunId run;
        traces::StudyId study;
        QString label;
    };
    void rebuildChoices();
    void compare();
    void showRuns(const core::RunComparison& c);
    void showWarnings(const QStringList& w);  // the first two, all in the tooltip
    void showStudies(const core::StudyComparison& c, const core::ScalingResult& a, const core::ScalingResult& b);

    std::vector<DocumentPtr> docs_;
    std::vector<Choice> choices_;
    Selection sel_;
    CancelToken job_;
    bool stale_ = false;  // choices changed while the page was hidden
    QComboBox* a_;
    QComboBox* b_;
    QLabel* verdict_;
    QLabel* warnings_;
    QStackedWidget* modes_;
    QChartView* breakdown_;
    QChartView* curves_;
    std::unique_ptr<TableModel<core::MetricDelta>> summary_;
    std::unique_ptr<TableModel<core::MetricDelta>> parts_;
    std::unique_ptr<TableModel<core::KernelDelta>> kernels_;
    std::unique_ptr<TableModel<core::CollectiveDelta>> collectives_;
    std::unique_ptr<TableModel<core::OpDiff>> ops_;
    QLabel* opChanges_;  // "opChanges": how many ops were added, removed, changed
    std::unique_ptr<TableModel<core::StudyPointDelta>> points_;
    std::unique_ptr<TableModel<core::FitDelta>> fits_;
};

}  // namespace ss::gui

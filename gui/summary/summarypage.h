// The Summary page: where a run's step time goes. Headline numbers (step time and its spread,
// throughput, MFU, overlap ratio), the step breakdown as a stacked bar per rank, stragglers, and
// the kernel and collective tables (sortable, filterable, copy/export as CSV). Computed by
// core::analyze_run on the job pool; when the analysis cannot run (no step events), the stored
// aggregates of the file fill the tables.
#pragma once

#include "core/analysis.h"
#include "gui/app/page.h"
#include "gui/common/tablemodel.h"

class QChartView;
class QLabel;
class QTabWidget;

namespace ss::gui {

class TablePanel;

// One rank's standing in the step: its own work against the median rank's.
struct StragglerRow {
    std::int32_t rank = 0;
    double step_ns = 0;
    double work_ns = 0;     // compute + data + optimizer + other host
    double wait_ns = 0;     // exposed comm + bubble + idle: waiting on others
    double vs_median = 0;   // work ÷ median work − 1
    bool straggler = false; // work > 5 % above the median rank's
};
std::vector<StragglerRow> stragglers(const std::vector<core::RankBreakdown>& ranks, double threshold = 0.05);

// The tables, shared with the Compare page's tests.
std::unique_ptr<TableModel<core::KernelSummary>> makeKernelModel(QObject* parent);
std::unique_ptr<TableModel<core::CollectiveSummary>> makeCollectiveModel(QObject* parent);
std::unique_ptr<TableModel<StragglerRow>> makeStragglerModel(QObject* parent);
// Stored aggregates as summaries (fallback without step events).
void summariesFromAggregates(const std::vector<traces::Aggregate>& aggs, std::vector<core::KernelSummary>& kernels,
                             std::vector<core::CollectiveSummary>& collectives);

class SummaryPage : public Page {
    Q_OBJECT
public:
    explicit SummaryPage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("summary"); }
    QString pageTitle() const override { return tr("Summary"); }
    void setSelection(const Selection& s) override;

    TableModel<core::KernelSummary>* kernelModel() const { return kernels_.get(); }
    TableModel<core::CollectiveSummary>* collectiveModel() const { return collectives_.get(); }

private:
    void showAnalysis(const core::RunAnalysis& a);
    void showFallback(const RunData& r, const QString& why);

    Selection sel_;
    CancelToken job_;
    QLabel* headline_;
    QLabel* warnings_;
    QChartView* chart_;
    QTabWidget* tabs_;
    std::unique_ptr<TableModel<core::KernelSummary>> kernels_;
    std::unique_ptr<TableModel<core::CollectiveSummary>> collectives_;
    std::unique_ptr<TableModel<StragglerRow>> stragglers_;
};

}  // namespace ss::gui

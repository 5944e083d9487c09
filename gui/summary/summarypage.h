// The Summary page: where a run's step time goes. Headline numbers (step time and its spread,
// throughput, overlap ratio), the MFU line (always shown: the value and its peak, or why it is
// not known), on a GPU run the GPU line (device time per step, NCCL/compute overlap), the step
// breakdown as a stacked bar per rank, stragglers, and the kernel, collective and (GPU runs)
// stream and per-rank device tables (sortable, filterable, copy/export as CSV). Computed by
// core::analyze_run on the job pool; when the analysis cannot run (no step events), the stored
// aggregates of the file fill the tables.
#pragma once

#include "core/analysis/analysis.h"
#include "core/analysis/analysis_store.h"
#include "gui/app/page.h"
#include "gui/common/tablemodel.h"

class QChartView;
class QLabel;
class QTabWidget;

namespace ss::gui {

class TablePanel;

// The straggler rows are computed in core (core::stragglers), the same for `scalescope-cli stats`.
using core::StragglerRow;
using core::stragglers;

// The tables, shared with the Compare page's tests.
std::unique_ptr<TableModel<core::KernelSummary>> makeKernelModel(QObject* parent);
std::unique_ptr<TableModel<core::CollectiveSummary>> makeCollectiveModel(QObject* parent);
std::unique_ptr<TableModel<StragglerRow>> makeStragglerModel(QObject* parent);
// GPU runs: device time per CUDA stream, and per rank (docs/ANALYSIS.md "GPU streams").
std::unique_ptr<TableModel<core::StreamSummary>> makeStreamModel(QObject* parent);
std::unique_ptr<TableModel<core::GpuRankTime>> makeGpuRankModel(QObject* parent);
// GPU kernel time as HTA defines it (docs/ANALYSIS.md "GPU kernel time (HTA)"): the temporal
// breakdown per rank (and "all"), the kernel-type states of the run, the top kernels per type.
std::unique_ptr<TableModel<core::HtaRank>> makeHtaRankModel(QObject* parent);
struct KernelStateRow {
    std::string state;  // core::kernel_state_name: "computation overlapping communication"
    double per_step_ns = 0;  // mean per step and rank
    double share = 0;        // of the time some kernel runs (0..1)
};
std::vector<KernelStateRow> kernelStateRows(const core::HtaRank& overall);
std::unique_ptr<TableModel<KernelStateRow>> makeKernelStateModel(QObject* parent);
std::unique_ptr<TableModel<core::TopKernel>> makeTopKernelModel(QObject* parent);
// The line above the temporal table (rich text): idle / computation / non-compute shares of the
// step window and HTA's communication-computation overlap; names the window (measured steps, or
// each rank's whole trace when the run has no steps).
QString htaText(const core::HtaSummary& h, bool wholeTrace);

// A run with a parameter server (docs/ANALYSIS.md "Parameter server"): per server its load
// (bytes in/out per step, pushes, queueing, applies, busy share), per worker its push/pull traffic,
// its waiting and the staleness it saw.
std::unique_ptr<TableModel<core::ServerLoad>> makeServerLoadModel(QObject* parent);
std::unique_ptr<TableModel<core::WorkerPs>> makeWorkerPsModel(QObject* parent);
// The line above them (rich text): servers, staleness bound, the staleness observed (and as the
// run recorded it), the slowed rank. Empty without a parameter server and without a slowed rank.
QString psText(const core::PsSummary& ps, const core::SlowRank& slow);

// The MFU field of the Summary page (rich text): "MFU 41.2 % (the matrix FLOPs the kernels perform;
// peak …)", or "MFU – (…)" saying what is missing, or, where the ratio is above 100 %, "MFU –" with
// how far above the peak it is (never a value above 100 %).
QString mfuText(const core::Throughput& t);
// The GPU line (rich text): compute and NCCL kernel time per step and rank, and the share of the
// NCCL time overlapped by compute kernels. Empty for a run without CUDA stream records.
QString gpuText(const core::GpuSummary& g, double stepNs);

class SummaryPage : public Page {
    Q_OBJECT
public:
    explicit SummaryPage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("summary"); }
    QString pageTitle() const override { return tr("Summary"); }
    void setSelection(const Selection& s) override;

    TableModel<core::KernelSummary>* kernelModel() const { return kernels_.get(); }
    TableModel<core::CollectiveSummary>* collectiveModel() const { return collectives_.get(); }
    TableModel<core::StreamSummary>* streamModel() const { return streams_.get(); }
    TableModel<core::GpuRankTime>* gpuRankModel() const { return gpuRanks_.get(); }
    TableModel<core::HtaRank>* htaRankModel() const { return htaRanks_.get(); }
    TableModel<KernelStateRow>* kernelStateModel() const { return kernelStates_.get(); }
    TableModel<core::TopKernel>* topKernelModel() const { return topKernels_.get(); }
    TableModel<core::ServerLoad>* serverLoadModel() const { return servers_.get(); }
    TableModel<core::WorkerPs>* workerPsModel() const { return psWorkers_.get(); }

private:
    void showAnalysis(const core::RunAnalysis& a);
    void showFallback(const RunData& r, const QString& why);
    void showCollectiveNotes(const std::vector<core::CollectiveSummary>& rows);
    void showGpu(const core::GpuSummary& g,
                 double stepNs);  // hides the GPU line and tabs without streams
    void showHta(const core::HtaSummary& h, bool wholeTrace);  // hides the HTA tabs without streams
    // Hides the parameter-server tabs for a run without servers.
    void showPs(const core::PsSummary& ps, const core::SlowRank& slow);

    Selection sel_;
    CancelToken job_;
    QLabel* headline_;
    QLabel* warnings_;
    QLabel* mfu_;        // "mfu": the MFU with its peak source, or why it is unknown
    QLabel* gpu_;        // "gpu": device time per step and NCCL/compute overlap (GPU runs only)
    QLabel* collNotes_;  // "collectiveNotes": why a row's bandwidth is partial or unknown
    QChartView* chart_;
    QTabWidget* tabs_;
    TablePanel* kernelPanel_;
    TablePanel* collectivePanel_;
    TablePanel* streamPanel_;
    TablePanel* gpuRankPanel_;
    int streamTab_ = -1, gpuRankTab_ = -1, temporalTab_ = -1, kernelTypeTab_ = -1, topKernelTab_ = -1;
    QLabel* hta_;  // "hta": the temporal breakdown in a line, above its table
    QLabel* ps_;   // "ps": the parameter server and staleness in a line (runs with servers or a slowed rank)
    int serverTab_ = -1, psWorkerTab_ = -1;
    std::unique_ptr<TableModel<core::KernelSummary>> kernels_;
    std::unique_ptr<TableModel<core::CollectiveSummary>> collectives_;
    std::unique_ptr<TableModel<StragglerRow>> stragglers_;
    std::unique_ptr<TableModel<core::StreamSummary>> streams_;
    std::unique_ptr<TableModel<core::GpuRankTime>> gpuRanks_;
    std::unique_ptr<TableModel<core::HtaRank>> htaRanks_;
    std::unique_ptr<TableModel<KernelStateRow>> kernelStates_;
    std::unique_ptr<TableModel<core::TopKernel>> topKernels_;
    std::unique_ptr<TableModel<core::ServerLoad>> servers_;
    std::unique_ptr<TableModel<core::WorkerPs>> psWorkers_;
};

}  // namespace ss::gui

#include "gui/summary/summarypage.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegend>
#include <QSplitter>
#include <QStackedBarSeries>
#include <QTabWidget>
#include <QTableView>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "gui/app/theme.h"
#include "gui/common/chartexport.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "gui/common/tablepanel.h"

namespace ss::gui {

using namespace ss::core;
using namespace ss::traces;

namespace {
QString sv(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }
QString nsText(const QVariant& v) { return formatDuration(v.toDouble()); }
QString pctText(const QVariant& v) { return formatPercent(v.toDouble()); }
QString bytesText(const QVariant& v) { return formatBytes(v.toDouble()); }

QColor partColor(Part p) {
    switch (p) {
    case Part::Compute: return QColor(0x2f, 0x6f, 0xdb);
    case Part::ExposedComm: return QColor(0xe8, 0x6a, 0x1c);
    case Part::Bubble: return QColor(0xa2, 0x4c, 0xd6);
    case Part::Data: return QColor(0xd6, 0xa5, 0x1c);
    case Part::Optimizer: return QColor(0xc6, 0x28, 0x28);
    case Part::OtherHost: return QColor(0x9a, 0xa0, 0xa8);
    case Part::Idle: return QColor(0xd5, 0xd9, 0xde);
    }
    return Qt::gray;
}
}  // namespace

// Durations are shown with their unit in each cell ("812 ns", "3.41 µs", "12.0 ms"), so the
// headers name none; the CSV header names the unit of the raw value (ns).
std::unique_ptr<TableModel<KernelSummary>> makeKernelModel(QObject* parent) {
    using M = TableModel<KernelSummary>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Kernel"), [](const KernelSummary& k) { return QVariant(QString::fromStdString(k.name)); }},
        {QObject::tr("Kind"), [](const KernelSummary& k) { return QVariant(sv(to_string(k.kind))); }},
        {QObject::tr("Calls"), [](const KernelSummary& k) { return QVariant(qlonglong(k.count)); }},
        {QObject::tr("Total"), [](const KernelSummary& k) { return QVariant(double(k.total_ns)); }, nsText,
         QObject::tr("summed over calls and ranks, measured steps"), {}, QStringLiteral("Total (ns)")},
        {QObject::tr("Share"), [](const KernelSummary& k) { return QVariant(k.share); }, pctText,
         QObject::tr("of the time in every kernel"), {}, QStringLiteral("Share (fraction)")},
        {QObject::tr("Per step/rank"), [](const KernelSummary& k) { return QVariant(k.per_step_ns); }, nsText,
         QObject::tr("total ÷ (measured steps × ranks)"), {}, QStringLiteral("Per step per rank (ns)")},
        {QObject::tr("Mean"), [](const KernelSummary& k) { return QVariant(k.mean_ns); }, nsText, {}, {},
         QStringLiteral("Mean (ns)")},
        {QObject::tr("Median"), [](const KernelSummary& k) { return QVariant(k.median_ns); }, nsText, {}, {},
         QStringLiteral("Median (ns)")},
        {QObject::tr("p95"), [](const KernelSummary& k) { return QVariant(double(k.p95_ns)); }, nsText, {}, {},
         QStringLiteral("p95 (ns)")},
        {QObject::tr("Rate"), [](const KernelSummary& k) { return QVariant(k.flop_per_s); },
         [](const QVariant& v) { return formatRate(v.toDouble(), QStringLiteral("FLOP/s")); },
         QObject::tr("recorded FLOPs ÷ duration of the calls that carry FLOPs"), {}, QStringLiteral("FLOP/s")},
    }, parent);
}

std::unique_ptr<TableModel<CollectiveSummary>> makeCollectiveModel(QObject* parent) {
    using M = TableModel<CollectiveSummary>;
    // Bandwidth cells: the value, or "–" with the reason named in the note under the table.
    auto bwCell = [](double CollectiveSummary::*field) {
        return [field](const CollectiveSummary& c) {
            if (c.bytes <= 0) return QStringLiteral("–");
            const double v = c.*field;
            if (std::isfinite(v) && v > 0) return formatBandwidth(v);
            return c.overlapped > 0 ? QObject::tr("– (overlapped)") : QStringLiteral("–");
        };
    };
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Collective"), [](const CollectiveSummary& c) { return QVariant(sv(to_string(c.collective))); }},
        {QObject::tr("Group"), [](const CollectiveSummary& c) { return QVariant(sv(to_string(c.group_kind))); }},
        {QObject::tr("Ranks"), [](const CollectiveSummary& c) { return QVariant(qlonglong(c.group_size)); }},
        {QObject::tr("Message"), [](const CollectiveSummary& c) { return QVariant(double(c.bytes)); }, bytesText,
         QObject::tr("bytes per call and rank"), {}, QStringLiteral("Message (bytes)")},
        {QObject::tr("Calls"), [](const CollectiveSummary& c) { return QVariant(qlonglong(c.count)); }, {},
         QObject::tr("summed over ranks, measured steps")},
        {QObject::tr("Busy per step/rank"), [](const CollectiveSummary& c) { return QVariant(c.per_step_ns); }, nsText,
         QObject::tr("union of a rank's calls (issue → completion) per step: overlapping non-blocking calls count "
                     "once; never more than the step"),
         {}, QStringLiteral("Busy per step per rank (ns)")},
        {QObject::tr("Busy, all ranks"), [](const CollectiveSummary& c) { return QVariant(double(c.total_ns)); },
         nsText,
         QObject::tr("the union per rank, summed over the ranks and the measured steps (up to ranks × the run)"), {},
         QStringLiteral("Busy all ranks (ns)")},
        {QObject::tr("Issue→completion"), [](const CollectiveSummary& c) { return QVariant(c.mean_ns); }, nsText,
         QObject::tr("mean latency of one call from issue to completion; a non-blocking call completes when it is "
                     "waited on, so this includes the work done meanwhile"),
         {}, QStringLiteral("Issue to completion mean (ns)")},
        {QObject::tr("Overlapped"), [](const CollectiveSummary& c) { return QVariant(qlonglong(c.overlapped)); }, {},
         QObject::tr("calls whose span held other calls or kernels of their rank (non-blocking): their time is not "
                     "the transfer time and they give no bandwidth"),
         {}, QStringLiteral("Overlapped calls")},
        {QObject::tr("algbw"), [](const CollectiveSummary& c) { return QVariant(c.algbw); }, {},
         QObject::tr("bytes ÷ mean time of the calls that overlapped nothing"), bwCell(&CollectiveSummary::algbw),
         QStringLiteral("algbw (B/s)")},
        {QObject::tr("busbw"), [](const CollectiveSummary& c) { return QVariant(c.busbw); }, {},
         QObject::tr("nccl-tests bus bandwidth: algbw × factor (all-reduce 2(p−1)/p)"),
         bwCell(&CollectiveSummary::busbw),
         QStringLiteral("busbw (B/s)")},
        {QObject::tr("Skew mean"), [](const CollectiveSummary& c) { return QVariant(c.skew_mean_ns); }, nsText,
         QObject::tr("arrival spread: latest − earliest issue of one operation"), {}, QStringLiteral("Skew mean (ns)")},
        {QObject::tr("Skew max"), [](const CollectiveSummary& c) { return QVariant(double(c.skew_max_ns)); }, nsText,
         {}, {}, QStringLiteral("Skew max (ns)")},
    }, parent);
}

std::unique_ptr<TableModel<StragglerRow>> makeStragglerModel(QObject* parent) {
    using M = TableModel<StragglerRow>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Rank"), [](const StragglerRow& r) { return QVariant(r.rank); }},
        {QObject::tr("Own work"), [](const StragglerRow& r) { return QVariant(r.work_ns); }, nsText,
         QObject::tr("compute + data + optimizer + other host, per step"), {}, QStringLiteral("Own work (ns)")},
        {QObject::tr("Waiting"), [](const StragglerRow& r) { return QVariant(r.wait_ns); }, nsText,
         QObject::tr("exposed communication + bubble + idle, per step"), {}, QStringLiteral("Waiting (ns)")},
        {QObject::tr("Δ median"), [](const StragglerRow& r) { return QVariant(r.vs_median); },
         [](const QVariant& v) { return (v.toDouble() >= 0 ? QStringLiteral("+") : QString()) + formatPercent(v.toDouble()); },
         QObject::tr("own work ÷ the median rank's − 1"), {}, QStringLiteral("Work vs median (fraction)")},
        {QObject::tr("Straggler"), [](const StragglerRow& r) { return QVariant(r.straggler ? QObject::tr("yes") : QString()); },
         {}, QObject::tr("own work more than 5 % above the median rank's")},
    }, parent);
}

std::unique_ptr<TableModel<StreamSummary>> makeStreamModel(QObject* parent) {
    using M = TableModel<StreamSummary>;
    auto time = [](double GpuTime::*field) {
        return [field](const StreamSummary& s) { return QVariant(s.per_step.*field); };
    };
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Stream"), [](const StreamSummary& s) { return QVariant(s.stream); },
         [](const QVariant& v) { return QObject::tr("stream %1").arg(v.toInt()); },
         QObject::tr("CUDA stream id (timeline lane \"stream N\")")},
        {QObject::tr("Ranks"), [](const StreamSummary& s) { return QVariant(qlonglong(s.ranks)); }, {},
         QObject::tr("ranks that have this CUDA stream")},
        {QObject::tr("Compute"), time(&GpuTime::compute_ns), nsText,
         QObject::tr("union of the compute kernels on the stream, per measured step and rank"), {},
         QStringLiteral("Compute per step per rank (ns)")},
        {QObject::tr("NCCL"), time(&GpuTime::nccl_ns), nsText,
         QObject::tr("union of the NCCL kernels on the stream, per measured step and rank"), {},
         QStringLiteral("NCCL per step per rank (ns)")},
        {QObject::tr("Copies"), time(&GpuTime::copy_ns), nsText,
         QObject::tr("union of memcpy and memset on the stream, per measured step and rank"), {},
         QStringLiteral("Copies per step per rank (ns)")},
        {QObject::tr("Busy"), time(&GpuTime::busy_ns), nsText,
         QObject::tr("the stream ran something (kernel, NCCL kernel or copy), per measured step and rank"), {},
         QStringLiteral("Busy per step per rank (ns)")},
        {QObject::tr("# kernels"), [](const StreamSummary& s) { return QVariant(qlonglong(s.compute_kernels)); }, {},
         QObject::tr("compute kernels in the measured steps, all ranks"), {}, QStringLiteral("Compute kernels")},
        {QObject::tr("# NCCL"), [](const StreamSummary& s) { return QVariant(qlonglong(s.nccl_kernels)); }, {},
         QObject::tr("NCCL kernels in the measured steps, all ranks"), {}, QStringLiteral("NCCL kernels")},
        {QObject::tr("# copies"), [](const StreamSummary& s) { return QVariant(qlonglong(s.copies)); }, {},
         QObject::tr("memcpy and memset records in the measured steps, all ranks"), {}, QStringLiteral("Copies")},
    }, parent);
}

std::unique_ptr<TableModel<GpuRankTime>> makeGpuRankModel(QObject* parent) {
    using M = TableModel<GpuRankTime>;
    auto time = [](double GpuTime::*field) {
        return [field](const GpuRankTime& r) { return QVariant(r.per_step.*field); };
    };
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Rank"), [](const GpuRankTime& r) { return QVariant(r.rank); }},
        {QObject::tr("Compute"), time(&GpuTime::compute_ns), nsText,
         QObject::tr("union of the rank's compute kernels on all its streams, per measured step"), {},
         QStringLiteral("Compute per step (ns)")},
        {QObject::tr("NCCL"), time(&GpuTime::nccl_ns), nsText,
         QObject::tr("union of the rank's NCCL kernels, per measured step"), {}, QStringLiteral("NCCL per step (ns)")},
        {QObject::tr("NCCL ∩ compute"), time(&GpuTime::overlap_ns), nsText,
         QObject::tr("time an NCCL kernel and a compute kernel ran at once, per measured step"), {},
         QStringLiteral("NCCL overlapped per step (ns)")},
        {QObject::tr("NCCL overlap"), [](const GpuRankTime& r) { return QVariant(r.per_step.nccl_overlap()); },
         pctText, QObject::tr("NCCL ∩ compute ÷ NCCL: the share of the NCCL kernel time hidden behind compute"), {},
         QStringLiteral("NCCL overlap (fraction)")},
        {QObject::tr("Busy"), time(&GpuTime::busy_ns), nsText,
         QObject::tr("some stream of the rank ran something, per measured step"), {}, QStringLiteral("Busy per step (ns)")},
    }, parent);
}

std::unique_ptr<TableModel<HtaRank>> makeHtaRankModel(QObject* parent) {
    using M = TableModel<HtaRank>;
    auto time = [](double HtaRank::*field) { return [field](const HtaRank& r) { return QVariant(r.*field); }; };
    // "300 ns · 30.0 %": the time and its share of the window in one cell (sorted and exported in ns).
    auto withShare = [](double HtaRank::*field) {
        return [field](const HtaRank& r) {
            return formatDuration(r.*field) + QStringLiteral(" · ") +
                   (r.window_ns > 0 ? formatPercent(r.*field / r.window_ns) : QStringLiteral("–"));
        };
    };
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Rank"), [](const HtaRank& r) { return QVariant(r.rank); },
         [](const QVariant& v) { return v.toInt() < 0 ? QObject::tr("all") : v.toString(); },
         QObject::tr("\"all\": the mean over the ranks")},
        {QObject::tr("Window"), time(&HtaRank::window_ns), nsText,
         QObject::tr("the rank's step span, per measured step (its whole trace when the run has no steps)"), {},
         QStringLiteral("Window (ns)")},
        {QObject::tr("Idle"), time(&HtaRank::idle_ns), nsText,
         QObject::tr("no kernel of any kind runs on the GPU; its share of the window"), withShare(&HtaRank::idle_ns),
         QStringLiteral("Idle (ns)")},
        {QObject::tr("Compute"), time(&HtaRank::compute_ns), nsText,
         QObject::tr("a computation kernel runs; its share of the window"), withShare(&HtaRank::compute_ns),
         QStringLiteral("Compute (ns)")},
        {QObject::tr("Non-compute"), time(&HtaRank::non_compute_ns), nsText,
         QObject::tr("only communication (NCCL) or memory (memcpy, memset) kernels run; its share of the window"),
         withShare(&HtaRank::non_compute_ns), QStringLiteral("Non-compute (ns)")},
        {QObject::tr("Comm overlap"), [](const HtaRank& r) { return QVariant(r.comm_comp_overlap()); }, pctText,
         QObject::tr("HTA's communication-computation overlap: time a communication kernel runs beside a "
                     "computation kernel ÷ communication time"),
         {}, QStringLiteral("Comm-comp overlap (fraction)")},
    }, parent);
}

std::vector<KernelStateRow> kernelStateRows(const HtaRank& o) {
    double busy = 0;
    for (int k = 1; k < kKernelStateCount; ++k) busy += o.state_ns[static_cast<size_t>(k)];
    std::vector<KernelStateRow> rows;
    for (int k = 1; k < kKernelStateCount; ++k) {
        const double v = o.state_ns[static_cast<size_t>(k)];
        rows.push_back({kernel_state_name(k), v, busy > 0 ? v / busy : 0.0});
    }
    return rows;
}

std::unique_ptr<TableModel<KernelStateRow>> makeKernelStateModel(QObject* parent) {
    using M = TableModel<KernelStateRow>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Kernel types running"), [](const KernelStateRow& r) { return QVariant(fromStd(r.state)); }, {},
         QObject::tr("which kinds of kernel run at once on the rank's GPU (all its streams)")},
        {QObject::tr("Per step/rank"), [](const KernelStateRow& r) { return QVariant(r.per_step_ns); }, nsText,
         QObject::tr("mean per measured step and rank"), {}, QStringLiteral("Per step per rank (ns)")},
        {QObject::tr("Share"), [](const KernelStateRow& r) { return QVariant(r.share); }, pctText,
         QObject::tr("of the time some kernel runs"), {}, QStringLiteral("Share (fraction)")},
    }, parent);
}

std::unique_ptr<TableModel<TopKernel>> makeTopKernelModel(QObject* parent) {
    using M = TableModel<TopKernel>;
    auto time = [](std::int64_t TopKernel::*field) {
        return [field](const TopKernel& k) { return QVariant(double(k.*field)); };
    };
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Type"), [](const TopKernel& k) { return QVariant(sv(to_string(k.type))); }, {},
         QObject::tr("computation (kernel), communication (NCCL kernel), memory (memcpy, memset)")},
        {QObject::tr("Kernel"), [](const TopKernel& k) { return QVariant(fromStd(k.name)); }, {},
         QObject::tr("the ten longest of each type; \"others\": the rest of the type")},
        {QObject::tr("Calls"), [](const TopKernel& k) { return QVariant(qlonglong(k.count)); }, {},
         QObject::tr("all ranks, measured steps")},
        {QObject::tr("Total"), time(&TopKernel::total_ns), nsText, QObject::tr("all ranks, measured steps"), {},
         QStringLiteral("Total (ns)")},
        {QObject::tr("Per step/rank"), [](const TopKernel& k) { return QVariant(k.per_step_ns); }, nsText, {}, {},
         QStringLiteral("Per step per rank (ns)")},
        {QObject::tr("Share of type"), [](const TopKernel& k) { return QVariant(k.share); }, pctText,
         QObject::tr("of the time in every kernel of its type"), {}, QStringLiteral("Share of type (fraction)")},
        {QObject::tr("Mean"), [](const TopKernel& k) { return QVariant(k.mean_ns); }, nsText, {}, {},
         QStringLiteral("Mean (ns)")},
        {QObject::tr("Std dev"), [](const TopKernel& k) { return QVariant(k.stddev_ns); }, nsText, {}, {},
         QStringLiteral("Std dev (ns)")},
        {QObject::tr("Min"), time(&TopKernel::min_ns), nsText, {}, {}, QStringLiteral("Min (ns)")},
        {QObject::tr("Max"), time(&TopKernel::max_ns), nsText, {}, {}, QStringLiteral("Max (ns)")},
    }, parent);
}

QString htaText(const HtaSummary& h, bool wholeTrace) {
    if (!h.present()) return {};
    const HtaRank& o = h.overall;
    auto share = [&](double ns) { return o.window_ns > 0 ? formatPercent(ns / o.window_ns) : QStringLiteral("–"); };
    QString t = QObject::tr("GPU time per %1 and rank (HTA's temporal breakdown): idle <b>%2</b>, computation "
                            "<b>%3</b>, non-compute <b>%4</b>")
                    .arg(wholeTrace ? QObject::tr("whole trace (the run has no step events)")
                                    : QObject::tr("measured step"),
                         share(o.idle_ns), share(o.compute_ns), share(o.non_compute_ns));
    if (o.comm_ns > 0)
        t += QObject::tr(" · communication-computation overlap <b>%1</b>").arg(formatPercent(o.comm_comp_overlap()));
    return t;
}

QString gpuText(const GpuSummary& g, double stepNs) {
    if (!g.present()) return {};
    const GpuTime& o = g.overall;
    auto share = [stepNs](double ns) { return stepNs > 0 ? formatPercent(ns / stepNs) : QStringLiteral("–"); };
    QString t = QObject::tr("GPU per step and rank: compute kernels <b>%1</b> (%2 of the step), NCCL kernels <b>%3</b>")
                    .arg(formatDuration(o.compute_ns), share(o.compute_ns), formatDuration(o.nccl_ns));
    if (o.nccl_ns > 0)
        t += QObject::tr(", NCCL/compute overlap <b>%1</b> (%2 of the NCCL time ran beside compute)")
                 .arg(formatPercent(o.nccl_overlap()), formatDuration(o.overlap_ns));
    t += QObject::tr(" · %n stream(s), busy %1", nullptr, static_cast<int>(g.streams.size()))
             .arg(formatDuration(o.busy_ns));
    return t;
}

std::unique_ptr<TableModel<ServerLoad>> makeServerLoadModel(QObject* parent) {
    using M = TableModel<ServerLoad>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Server"), [](const ServerLoad& s) { return QVariant(s.server); },
         [](const QVariant& v) { return QObject::tr("server %1").arg(v.toInt()); },
         QObject::tr("parameter server index (its rank in the next column)")},
        {QObject::tr("Rank"), [](const ServerLoad& s) { return QVariant(s.rank); }},
        {QObject::tr("In per step"), [](const ServerLoad& s) { return QVariant(s.bytes_in_per_step); }, bytesText,
         QObject::tr("gradient bytes received (ps_recv) per measured step"), {}, QStringLiteral("Bytes in per step")},
        {QObject::tr("Out per step"), [](const ServerLoad& s) { return QVariant(s.bytes_out_per_step); }, bytesText,
         QObject::tr("parameter bytes sent (ps_send) per measured step"), {}, QStringLiteral("Bytes out per step")},
        {QObject::tr("Pushes"), [](const ServerLoad& s) { return QVariant(qlonglong(s.pushes)); }, {},
         QObject::tr("gradient pushes served in the measured steps")},
        {QObject::tr("Queue mean"), [](const ServerLoad& s) { return QVariant(s.queue_mean_ns); }, nsText,
         QObject::tr("time a received push waited before the server applied it (ps_queue), mean"), {},
         QStringLiteral("Queue mean (ns)")},
        {QObject::tr("Queue p95"), [](const ServerLoad& s) { return QVariant(s.queue_p95_ns); }, nsText,
         QObject::tr("95th percentile of the queueing time (nearest rank)"), {}, QStringLiteral("Queue p95 (ns)")},
        {QObject::tr("Queue per step"), [](const ServerLoad& s) { return QVariant(s.queue_per_step_ns); }, nsText,
         QObject::tr("queueing time of all pushes, per measured step"), {}, QStringLiteral("Queue per step (ns)")},
        {QObject::tr("Apply per step"), [](const ServerLoad& s) { return QVariant(s.apply_per_step_ns); }, nsText,
         QObject::tr("optimizer updates on the server (ps_apply), per measured step"), {},
         QStringLiteral("Apply per step (ns)")},
        {QObject::tr("Busy"), [](const ServerLoad& s) { return QVariant(s.busy_share); }, pctText,
         QObject::tr("share of the measured period the server received, sent or applied"), {},
         QStringLiteral("Busy (fraction)")},
    }, parent);
}

std::unique_ptr<TableModel<WorkerPs>> makeWorkerPsModel(QObject* parent) {
    using M = TableModel<WorkerPs>;
    auto staleness = [](const QVariant& v) {
        return v.toDouble() >= 0 ? formatNumber(v.toDouble(), 3) : QStringLiteral("–");
    };
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Worker"), [](const WorkerPs& w) { return QVariant(w.rank); }, {}, QObject::tr("worker rank")},
        {QObject::tr("Push per step"), [](const WorkerPs& w) { return QVariant(w.push_bytes_per_step); }, bytesText,
         QObject::tr("gradient bytes pushed to the servers per measured step"), {}, QStringLiteral("Push bytes per step")},
        {QObject::tr("Push time"), [](const WorkerPs& w) { return QVariant(w.push_ns_per_step); }, nsText,
         QObject::tr("time pushing (union of ps_push) per measured step"), {}, QStringLiteral("Push per step (ns)")},
        {QObject::tr("Pull time"), [](const WorkerPs& w) { return QVariant(w.pull_ns_per_step); }, nsText,
         QObject::tr("time pulling parameters (union of ps_pull, waiting for the version included) per measured step"), {},
         QStringLiteral("Pull per step (ns)")},
        {QObject::tr("Wait (bound)"), [](const WorkerPs& w) { return QVariant(w.wait_ns_per_step); }, nsText,
         QObject::tr("blocked by the staleness bound (ps_wait) per measured step"), {}, QStringLiteral("ps_wait per step (ns)")},
        {QObject::tr("Wait in pull"), [](const WorkerPs& w) { return QVariant(w.pull_wait_ns_per_step); }, nsText,
         QObject::tr("inside a pull, before the server began sending (its version was not ready), per measured step"), {},
         QStringLiteral("Pull wait per step (ns)")},
        {QObject::tr("Wait"), [](const WorkerPs& w) { return QVariant(w.total_wait_ns_per_step()); }, nsText,
         QObject::tr("the two waits together, per measured step"), {}, QStringLiteral("Wait per step (ns)")},
        {QObject::tr("Staleness max"), [](const WorkerPs& w) { return QVariant(w.staleness_max); }, staleness,
         QObject::tr("largest staleness observed (metric ps_staleness: server version minus the gradient's)")},
        {QObject::tr("Staleness mean"), [](const WorkerPs& w) { return QVariant(w.staleness_mean); }, staleness,
         QObject::tr("mean staleness over the worker's steps")},
    }, parent);
}

QString psText(const PsSummary& ps, const SlowRank& slow) {
    QStringList parts;
    if (ps.present()) {
        QString t = QObject::tr("<b>Parameter server</b>: %n server(s) (ranks %1–%2), ", nullptr, ps.layout.servers)
                        .arg(ps.layout.first_server)
                        .arg(ps.layout.first_server + ps.layout.servers - 1);
        t += QObject::tr("%1; %n worker(s)", nullptr, ps.layout.workers()).arg(fromStd(staleness_name(ps.layout.staleness)));
        if (ps.staleness_samples > 0)
            t += QObject::tr(" · staleness observed max <b>%1</b>, mean %2 over %3 steps")
                     .arg(formatNumber(ps.staleness_max, 3), formatNumber(ps.staleness_mean, 3))
                     .arg(ps.staleness_samples);
        if (ps.recorded_staleness_max >= 0)
            t += QObject::tr(" (the run recorded max %1)").arg(formatNumber(ps.recorded_staleness_max, 3));
        parts << t;
    }
    if (slow.present())
        parts << QObject::tr("rank %1 slowed ×%2 on purpose (training.slow_rank)")
                     .arg(slow.rank)
                     .arg(formatNumber(slow.factor, 3));
    return parts.join(QStringLiteral(" · "));
}

QString mfuText(const Throughput& t) {
    const QString peak = fromStd(t.peak_source).toHtmlEscaped();
    const QString peakRate = formatRate(t.peak_flop_per_s, QStringLiteral("FLOP/s"));
    switch (t.mfu_status) {
    case MfuStatus::NoModelFlops:
        return QObject::tr("MFU – (the spec gives no model FLOPs: it needs a global batch and a model with a "
                           "parameter count)");
    case MfuStatus::NoPeak:
        return QObject::tr("MFU – (no peak: calibrate this machine — What-if ▸ Calibrate — or pass a hardware file)");
    case MfuStatus::AbovePeak:
        // Never a value above 100 %: one of the two numbers is wrong, and the line says which to check.
        return QObject::tr("MFU – <span style=\"color:#b45309;\">⚠ the model FLOP/s are %1 of the peak (%2 per rank "
                           "from %3): above 100 %, so that peak is not this run's machine — recalibrate on it "
                           "(What-if ▸ Calibrate)</span>")
            .arg(formatPercent(t.mfu_ratio), peakRate, peak);
    case MfuStatus::Known: break;
    }
    QString conv;
    if (t.convention_flops_per_step > 0 && t.model_flops_per_step > 0)
        conv = QObject::tr("; the 6·N·tokens convention counts %1× these FLOPs")
                   .arg(formatNumber(t.convention_flops_per_step / t.model_flops_per_step, 3));
    return QObject::tr("MFU <b>%1</b> (the matrix FLOPs the kernels perform; peak %2 per rank from %3%4)")
        .arg(formatPercent(t.mfu), peakRate, peak, conv);
}

SummaryPage::SummaryPage(QWidget* parent) : Page(parent) {
    kernels_ = makeKernelModel(nullptr);
    collectives_ = makeCollectiveModel(nullptr);
    stragglers_ = makeStragglerModel(nullptr);
    streams_ = makeStreamModel(nullptr);
    gpuRanks_ = makeGpuRankModel(nullptr);
    htaRanks_ = makeHtaRankModel(nullptr);
    kernelStates_ = makeKernelStateModel(nullptr);
    topKernels_ = makeTopKernelModel(nullptr);
    servers_ = makeServerLoadModel(nullptr);
    psWorkers_ = makeWorkerPsModel(nullptr);

    headline_ = new QLabel(tr("Select a run in the list of open files."));
    headline_->setTextFormat(Qt::RichText);
    headline_->setWordWrap(true);
    warnings_ = new QLabel;
    warnings_->setWordWrap(true);
    warnings_->setStyleSheet(QStringLiteral("color:#b45309;"));
    mfu_ = new QLabel;
    mfu_->setObjectName(QStringLiteral("mfu"));
    mfu_->setTextFormat(Qt::RichText);
    mfu_->setWordWrap(true);
    mfu_->setToolTip(tr("Model FLOP utilisation = model FLOP/s (the matrix products the kernels perform: 6 per "
                        "weight per token, causal attention as computed, no FLOPs for embedding lookups; × tokens "
                        "per step ÷ step time) ÷ (peak FLOP/s of one rank × ranks), never above 100 %. The peak is "
                        "the best rate of a large square sgemm: on a GPU run the cuBLAS fp32 rate each rank "
                        "measured in the run (their median); otherwise the newest calibration stored in the file "
                        "(What-if ▸ Calibrate, or scalescope-cli calibrate --trace FILE)."));
    gpu_ = new QLabel;
    gpu_->setObjectName(QStringLiteral("gpu"));
    gpu_->setTextFormat(Qt::RichText);
    gpu_->setWordWrap(true);
    gpu_->setToolTip(tr("From the CUPTI records on the CUDA streams, inside each rank's measured steps: compute "
                        "kernels and NCCL kernels each as the union over the rank's streams; the NCCL/compute "
                        "overlap is the time an NCCL kernel and a compute kernel ran at once ÷ the NCCL kernel time "
                        "(summed over ranks and steps)."));
    gpu_->setVisible(false);
    collNotes_ = new QLabel;
    collNotes_->setObjectName(QStringLiteral("collectiveNotes"));
    collNotes_->setWordWrap(true);

    chart_ = makeChartView(QStringLiteral("breakdown"));  // follows the palette (dark theme) at once
    // Small enough minimums that the page fits a 1024x700 window beside the sidebar without
    // scrolling sideways (docs/GUI.md); the splitters give it more room when there is.
    chart_->setMinimumHeight(220);
    chart_->setMinimumWidth(340);

    auto* straggler = new TablePanel(tr("Stragglers"), stragglers_.get());
    straggler->setObjectName(QStringLiteral("stragglerTable"));
    straggler->setToolTip(tr("Per rank, mean per measured step: a rank whose own work is more than 5 % above the "
                             "median rank's makes the others wait"));
    straggler->view()->horizontalHeader()->setStretchLastSection(false);  // every column stretches
    straggler->view()->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    straggler->view()->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);  // rank
    tabs_ = new QTabWidget;
    auto* kt = kernelPanel_ = new TablePanel(tr("Kernels"), kernels_.get());
    kt->setObjectName(QStringLiteral("kernelTable"));
    auto* ct = collectivePanel_ = new TablePanel(tr("Collectives"), collectives_.get());
    ct->setObjectName(QStringLiteral("collectiveTable"));
    kt->setDefaultSort(3, Qt::DescendingOrder);
    ct->setDefaultSort(5, Qt::DescendingOrder);  // busy per step per rank
    straggler->setDefaultSort(0, Qt::AscendingOrder);
    tabs_->addTab(kt, tr("Kernels"));
    auto* collTab = new QWidget;
    auto* collLayout = new QVBoxLayout(collTab);
    collLayout->setContentsMargins(0, 0, 0, 0);
    collLayout->addWidget(ct, 1);
    collLayout->addWidget(collNotes_);
    tabs_->addTab(collTab, tr("Collectives"));
    streamPanel_ = new TablePanel(tr("GPU streams"), streams_.get());
    streamPanel_->setObjectName(QStringLiteral("streamTable"));
    streamPanel_->setDefaultSort(0, Qt::AscendingOrder);
    streamTab_ = tabs_->addTab(streamPanel_, tr("GPU streams"));
    gpuRankPanel_ = new TablePanel(tr("GPU per rank"), gpuRanks_.get());
    gpuRankPanel_->setObjectName(QStringLiteral("gpuRankTable"));
    gpuRankPanel_->setDefaultSort(0, Qt::AscendingOrder);
    gpuRankTab_ = tabs_->addTab(gpuRankPanel_, tr("GPU per rank"));
    // GPU kernel time as HTA defines it.
    hta_ = new QLabel;
    hta_->setObjectName(QStringLiteral("hta"));
    hta_->setTextFormat(Qt::RichText);
    hta_->setWordWrap(true);
    hta_->setToolTip(tr("As Holistic Trace Analysis defines it, per rank over its step window: idle = no kernel "
                        "runs, computation = a computation kernel runs, non-compute = only communication or memory "
                        "kernels run. Communication-computation overlap = time a communication kernel runs beside a "
                        "computation kernel ÷ communication time."));
    auto* temporalPanel = new TablePanel(tr("Temporal breakdown"), htaRanks_.get());
    temporalPanel->setObjectName(QStringLiteral("temporalTable"));
    auto* temporalTab = new QWidget;
    auto* temporalLayout = new QVBoxLayout(temporalTab);
    temporalLayout->setContentsMargins(0, 0, 0, 0);
    temporalLayout->addWidget(hta_);
    temporalLayout->addWidget(temporalPanel, 1);
    temporalTab_ = tabs_->addTab(temporalTab, tr("Temporal"));
    auto* statePanel = new TablePanel(tr("Kernel types (mean over ranks)"), kernelStates_.get());
    statePanel->setObjectName(QStringLiteral("kernelTypeTable"));
    statePanel->view()->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    kernelTypeTab_ = tabs_->addTab(statePanel, tr("Kernel types"));
    auto* topPanel = new TablePanel(tr("Top kernels per type"), topKernels_.get());
    topPanel->setObjectName(QStringLiteral("topKernelTable"));
    topKernelTab_ = tabs_->addTab(topPanel, tr("Top kernels"));
    // Parameter server (runs with servers only): the servers' load under the line, the workers' waits.
    ps_ = new QLabel;
    ps_->setObjectName(QStringLiteral("ps"));
    ps_->setTextFormat(Qt::RichText);
    ps_->setWordWrap(true);
    auto* serverPanel = new TablePanel(tr("Parameter servers"), servers_.get());
    serverPanel->setObjectName(QStringLiteral("serverTable"));
    serverTab_ = tabs_->addTab(serverPanel, tr("PS servers"));
    auto* psWorkerPanel = new TablePanel(tr("Parameter-server workers"), psWorkers_.get());
    psWorkerPanel->setObjectName(QStringLiteral("psWorkerTable"));
    psWorkerTab_ = tabs_->addTab(psWorkerPanel, tr("PS workers"));
    for (int t : {streamTab_, gpuRankTab_, temporalTab_, kernelTypeTab_, topKernelTab_, serverTab_, psWorkerTab_})
        tabs_->setTabVisible(t, false);

    auto* top = new QSplitter(Qt::Horizontal);
    top->addWidget(withLegend(chart_));  // the legend: a wrapping label under the chart
    top->addWidget(straggler);
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 2);
    top->setSizes({560, 420});
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(tabs_);
    split->setSizes({330, 300});
    // The wrapped labels above make the page height-for-width, which the scroll area sizes by the
    // splitter's preferred height: ignore that (the splitter takes the room there is, at least
    // its minimum) so the page fills a small window instead of scrolling.
    split->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Ignored);
    split->setMinimumHeight(400);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(headline_);
    layout->addWidget(mfu_);
    layout->addWidget(gpu_);
    layout->addWidget(ps_);
    layout->addWidget(warnings_);
    ps_->setVisible(false);
    layout->addWidget(split, 1);
}

void SummaryPage::setSelection(const Selection& s) {
    if (s.doc == sel_.doc && s.run == sel_.run) return;
    sel_ = s;
    job_.cancel();
    const RunData* r = s.runData();
    if (!r) {
        kernels_->setRows({});
        collectives_->setRows({});
        stragglers_->setRows({});
        showGpu({}, 0);
        showHta({}, false);
        showPs({}, {});
        headline_->setText(tr("Select a run in the list of open files."));
        mfu_->clear();
        collNotes_->clear();
        collNotes_->setVisible(false);
        warnings_->clear();
        setChart(chart_, new QChart);
        setReady(true);
        return;
    }
    setReady(false);
    headline_->setText(tr("Analysing run #%1…").arg(r->info.id.value));
    DocumentPtr doc = s.doc;
    const RunId run = r->info.id;
    job_ = startJob<RunAnalysis>(
        this,
        [doc, run](const CancelToken&) {
            return doc->withReader("analysis", [&](TraceReader& rd) { return cached_analysis(rd, run); });
        },
        [this](RunAnalysis a) {
            showAnalysis(a);
            setReady(true);
        },
        [this, doc, run](const QString& error) {
            if (sel_.doc == doc && sel_.run == run && sel_.runData()) showFallback(*sel_.runData(), error);
            setReady(true);
        });
}

void SummaryPage::showAnalysis(const RunAnalysis& a) {
    const Breakdown& o = a.overall;
    // An imported run has no model and may have no layout: its name, and the ranks alone.
    // With a parameter server: the workers' layout plus the servers.
    const int servers = a.ps.present() ? a.ps.layout.servers : 0;
    const bool layout = a.run.dp * a.run.tp * a.run.pp + servers == a.run.world_size && a.run.world_size > 0;
    const QString serversText = servers > 0 ? tr(" + %n server(s)", nullptr, servers) : QString();
    QString h = tr("<b>Run #%1</b> %2 — %3 ranks%4%5<br>")
                    .arg(a.run.id.value)
                    .arg(fromStd(a.run.model.empty() ? a.run.name : a.run.model).toHtmlEscaped())
                    .arg(a.run.world_size)
                    .arg(layout ? tr(" (dp %1 × tp %2 × pp %3%4)").arg(a.run.dp).arg(a.run.tp).arg(a.run.pp).arg(serversText)
                                : QString())
                    .arg(a.run.oversubscribed ? tr(", <i>oversubscribed</i>") : QString());
    if (a.whole_trace)
        h += tr("No step events: each rank's whole trace is its one step (the warning below). ");
    h += tr("Step time <b>%1</b> median (mean %2 ± %3, CV %4, %5 steps measured, %6 warm-up)")
             .arg(formatDuration(a.step_time.median_ns), formatDuration(a.step_time.mean_ns),
                  formatDuration(a.step_time.stddev_ns), formatPercent(a.step_time.cv()))
             .arg(a.step_time.count).arg(a.warmup_steps);
    h += tr(" · overlap ratio <b>%1</b>").arg(formatPercent(o.overlap_ratio()));
    const Throughput& t = a.throughput;
    if (t.tokens_per_s > 0) h += tr(" · %1").arg(formatRate(t.tokens_per_s, tr("tokens/s")));
    else if (t.samples_per_s > 0) h += tr(" · %1").arg(formatRate(t.samples_per_s, tr("samples/s")));
    headline_->setText(h);
    mfu_->setText(mfuText(t));
    QStringList w;
    const std::string mfuWarning = mfu_note(t);  // shown on the MFU line already
    for (const auto& s : a.warnings) {
        // The parameter-server line says these already.
        const bool psLine = (a.ps.present() && s.find(" has a parameter server (") != std::string::npos) ||
                            (a.slow_rank.present() && s.find("on purpose (training.slow_rank)") != std::string::npos);
        if (s != mfuWarning && !psLine) w << fromStd(s);
    }
    warnings_->setText(w.join(QStringLiteral("<br>")));
    warnings_->setVisible(!w.isEmpty());

    kernels_->setRows(a.kernels);
    collectives_->setRows(a.collectives);
    showCollectiveNotes(a.collectives);
    kernelPanel_->view()->resizeColumnsToContents();  // whole headers; still resizable by hand
    collectivePanel_->view()->resizeColumnsToContents();
    stragglers_->setRows(stragglers(a.ranks));
    showGpu(a.gpu, o.step_ns);
    showHta(a.hta, a.whole_trace);
    showPs(a.ps, a.slow_rank);

    // Stacked bar per rank, ms per step.
    auto* chart = new QChart;
    chart->setTitle(tr("Step breakdown per rank"));  // short: whole under a projector's zoom
    auto* series = new QStackedBarSeries;
    QStringList categories;
    for (const RankBreakdown& r : a.ranks) categories << tr("rank %1").arg(r.rank);
    categories << tr("mean");
    double maxStep = 0;
    for (int p = 0; p < kPartCount; ++p) {
        const auto part = static_cast<Part>(p);
        auto* set = new QBarSet(sv(to_string(part)).replace(QLatin1Char('_'), QLatin1Char(' ')));
        set->setColor(partColor(part));
        set->setBorderColor(partColor(part));
        for (const RankBreakdown& r : a.ranks) *set << r.mean.part(part) / 1e6;
        *set << o.part(part) / 1e6;
        series->append(set);
    }
    for (const RankBreakdown& r : a.ranks) maxStep = std::max(maxStep, r.mean.step_ns / 1e6);
    maxStep = std::max(maxStep, o.step_ns / 1e6);
    series->setBarWidth(0.6);
    chart->addSeries(series);
    auto* x = new QBarCategoryAxis;
    x->append(categories);
    auto* y = makeValueAxis(0, maxStep * 1.08, tr("ms per step (mean)"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    for (int p = 0; p < kPartCount; ++p) series->barSets()[p]->setColor(partColor(static_cast<Part>(p)));
    setChart(chart_, chart);
}

void SummaryPage::showGpu(const GpuSummary& g, double stepNs) {
    streams_->setRows(g.streams);
    gpuRanks_->setRows(g.present() ? g.ranks : std::vector<GpuRankTime>{});
    gpu_->setText(gpuText(g, stepNs));
    gpu_->setVisible(g.present());
    tabs_->setTabVisible(streamTab_, g.present());
    tabs_->setTabVisible(gpuRankTab_, g.present());
    if (g.present()) {
        streamPanel_->view()->resizeColumnsToContents();
        gpuRankPanel_->view()->resizeColumnsToContents();
    }
}

void SummaryPage::showHta(const HtaSummary& h, bool wholeTrace) {
    std::vector<HtaRank> rows;
    if (h.present()) {
        rows.push_back(h.overall);
        rows.insert(rows.end(), h.ranks.begin(), h.ranks.end());
    }
    htaRanks_->setRows(std::move(rows));
    kernelStates_->setRows(h.present() ? kernelStateRows(h.overall) : std::vector<KernelStateRow>{});
    topKernels_->setRows(h.top_kernels);
    hta_->setText(htaText(h, wholeTrace));
    for (int t : {temporalTab_, kernelTypeTab_, topKernelTab_}) tabs_->setTabVisible(t, h.present());
    if (h.present())
        for (auto* name : {"temporalTable", "topKernelTable"})
            findChild<TablePanel*>(QLatin1String(name))->view()->resizeColumnsToContents();
}

void SummaryPage::showPs(const PsSummary& ps, const SlowRank& slow) {
    servers_->setRows(ps.servers);
    psWorkers_->setRows(ps.present() ? ps.workers : std::vector<WorkerPs>{});
    ps_->setText(psText(ps, slow));
    ps_->setVisible(!ps_->text().isEmpty());
    tabs_->setTabVisible(serverTab_, ps.present());
    tabs_->setTabVisible(psWorkerTab_, ps.present());
    if (ps.present()) {
        for (auto* name : {"serverTable", "psWorkerTable"})
            findChild<TablePanel*>(QLatin1String(name))->view()->resizeColumnsToContents();
        tabs_->setCurrentIndex(serverTab_);  // where a parameter-server run's time goes first
    }
}

void SummaryPage::showCollectiveNotes(const std::vector<CollectiveSummary>& rows) {
    // One line per distinct note, naming its rows.
    std::vector<std::pair<std::string, QStringList>> byNote;
    for (const CollectiveSummary& c : rows) {
        const std::string n = bandwidth_note(c);
        if (n.empty()) continue;
        auto it = std::find_if(byNote.begin(), byNote.end(), [&](const auto& x) { return x.first == n; });
        if (it == byNote.end()) it = byNote.insert(byNote.end(), {n, {}});
        it->second << QStringLiteral("%1 %2 %3").arg(sv(to_string(c.collective)), sv(to_string(c.group_kind)),
                                                     formatBytes(double(c.bytes)));
    }
    QStringList notes;
    for (const auto& [n, names] : byNote)
        notes << tr("%1: bandwidth %2").arg(names.join(QStringLiteral(", ")), fromStd(n));
    collNotes_->setText(notes.join(QLatin1Char('\n')));
    collNotes_->setVisible(!notes.isEmpty());
}

void SummaryPage::showFallback(const RunData& r, const QString& why) {
    StoredSummaries stored = summaries_from_aggregates(r.aggregates);
    kernels_->setRows(std::move(stored.kernels));
    collectives_->setRows(std::move(stored.collectives));
    kernelPanel_->view()->resizeColumnsToContents();
    collectivePanel_->view()->resizeColumnsToContents();
    stragglers_->setRows({});
    showGpu({}, 0);
    showHta({}, false);
    showPs({}, {});
    headline_->setText(tr("<b>Run #%1</b> %2 — stored aggregates only (no step breakdown)")
                           .arg(r.info.id.value).arg(fromStd(r.info.model)));
    mfu_->setText(tr("MFU – (no step times: the run has no step events)"));
    collNotes_->setText(tr("Stored aggregates sum each call's issue → completion time: overlapping non-blocking "
                           "calls are counted more than once, and no bandwidth is derived from them."));
    collNotes_->setVisible(true);
    warnings_->setText(why.toHtmlEscaped());
    warnings_->setVisible(true);
    auto* empty = new QChart;
    empty->setTitle(tr("No step breakdown: %1").arg(why));
    setChart(chart_, empty);
}

}  // namespace ss::gui

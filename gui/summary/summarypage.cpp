#include "gui/summary/summarypage.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QSplitter>
#include <QStackedBarSeries>
#include <QTabWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "gui/app/theme.h"
#include "gui/common/chartexport.h"
#include "gui/common/format.h"
#include "gui/common/tablepanel.h"

namespace ss::gui {

using namespace ss::core;
using namespace ss::traces;

namespace {
QString sv(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }
QString nsText(const QVariant& v) { return formatDuration(v.toDouble()); }
QString pctText(const QVariant& v) { return formatPercent(v.toDouble()); }
QString bwText(const QVariant& v) { return v.toDouble() > 0 ? formatBandwidth(v.toDouble()) : QStringLiteral("–"); }
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

std::vector<StragglerRow> stragglers(const std::vector<RankBreakdown>& ranks, double threshold) {
    std::vector<StragglerRow> rows;
    for (const RankBreakdown& r : ranks) {
        StragglerRow s;
        s.rank = r.rank;
        s.step_ns = r.mean.step_ns;
        s.work_ns = r.mean.part(Part::Compute) + r.mean.part(Part::Data) + r.mean.part(Part::Optimizer) +
                    r.mean.part(Part::OtherHost);
        s.wait_ns = r.mean.part(Part::ExposedComm) + r.mean.part(Part::Bubble) + r.mean.part(Part::Idle);
        rows.push_back(s);
    }
    if (rows.empty()) return rows;
    std::vector<double> work;
    for (const auto& r : rows) work.push_back(r.work_ns);
    std::sort(work.begin(), work.end());
    const size_t n = work.size();
    const double median = n % 2 ? work[n / 2] : (work[n / 2 - 1] + work[n / 2]) / 2;
    for (auto& r : rows) {
        r.vs_median = median > 0 ? r.work_ns / median - 1 : 0;
        r.straggler = rows.size() > 1 && r.vs_median > threshold;
    }
    return rows;
}

std::unique_ptr<TableModel<KernelSummary>> makeKernelModel(QObject* parent) {
    using M = TableModel<KernelSummary>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Kernel"), [](const KernelSummary& k) { return QVariant(QString::fromStdString(k.name)); }},
        {QObject::tr("Kind"), [](const KernelSummary& k) { return QVariant(sv(to_string(k.kind))); }},
        {QObject::tr("Calls"), [](const KernelSummary& k) { return QVariant(qlonglong(k.count)); }},
        {QObject::tr("Total (ns)"), [](const KernelSummary& k) { return QVariant(double(k.total_ns)); }, nsText},
        {QObject::tr("Share"), [](const KernelSummary& k) { return QVariant(k.share); }, pctText,
         QObject::tr("of the time in every kernel")},
        {QObject::tr("Per step per rank (ns)"), [](const KernelSummary& k) { return QVariant(k.per_step_ns); }, nsText},
        {QObject::tr("Mean (ns)"), [](const KernelSummary& k) { return QVariant(k.mean_ns); }, nsText},
        {QObject::tr("Median (ns)"), [](const KernelSummary& k) { return QVariant(k.median_ns); }, nsText},
        {QObject::tr("p95 (ns)"), [](const KernelSummary& k) { return QVariant(double(k.p95_ns)); }, nsText},
        {QObject::tr("FLOP/s"), [](const KernelSummary& k) { return QVariant(k.flop_per_s); },
         [](const QVariant& v) { return formatRate(v.toDouble(), QStringLiteral("FLOP/s")); }},
    }, parent);
}

std::unique_ptr<TableModel<CollectiveSummary>> makeCollectiveModel(QObject* parent) {
    using M = TableModel<CollectiveSummary>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Collective"), [](const CollectiveSummary& c) { return QVariant(sv(to_string(c.collective))); }},
        {QObject::tr("Group"), [](const CollectiveSummary& c) { return QVariant(sv(to_string(c.group_kind))); }},
        {QObject::tr("Ranks"), [](const CollectiveSummary& c) { return QVariant(qlonglong(c.group_size)); }},
        {QObject::tr("Message (bytes)"), [](const CollectiveSummary& c) { return QVariant(double(c.bytes)); }, bytesText},
        {QObject::tr("Calls"), [](const CollectiveSummary& c) { return QVariant(qlonglong(c.count)); }},
        {QObject::tr("Total (ns)"), [](const CollectiveSummary& c) { return QVariant(double(c.total_ns)); }, nsText},
        {QObject::tr("Per step per rank (ns)"), [](const CollectiveSummary& c) { return QVariant(c.per_step_ns); }, nsText},
        {QObject::tr("Mean (ns)"), [](const CollectiveSummary& c) { return QVariant(c.mean_ns); }, nsText},
        {QObject::tr("algbw (B/s)"), [](const CollectiveSummary& c) { return QVariant(c.algbw); }, bwText},
        {QObject::tr("busbw (B/s)"), [](const CollectiveSummary& c) { return QVariant(c.busbw); }, bwText,
         QObject::tr("nccl-tests bus bandwidth: algbw × factor (all-reduce 2(p−1)/p)")},
        {QObject::tr("Skew mean (ns)"), [](const CollectiveSummary& c) { return QVariant(c.skew_mean_ns); }, nsText,
         QObject::tr("arrival spread: latest − earliest issue of one operation")},
        {QObject::tr("Skew max (ns)"), [](const CollectiveSummary& c) { return QVariant(double(c.skew_max_ns)); }, nsText},
    }, parent);
}

std::unique_ptr<TableModel<StragglerRow>> makeStragglerModel(QObject* parent) {
    using M = TableModel<StragglerRow>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Rank"), [](const StragglerRow& r) { return QVariant(r.rank); }},
        {QObject::tr("Own work (ns)"), [](const StragglerRow& r) { return QVariant(r.work_ns); }, nsText,
         QObject::tr("compute + data + optimizer + other host, per step")},
        {QObject::tr("Waiting (ns)"), [](const StragglerRow& r) { return QVariant(r.wait_ns); }, nsText,
         QObject::tr("exposed communication + bubble + idle, per step")},
        {QObject::tr("Work vs median"), [](const StragglerRow& r) { return QVariant(r.vs_median); },
         [](const QVariant& v) { return (v.toDouble() >= 0 ? QStringLiteral("+") : QString()) + formatPercent(v.toDouble()); }},
        {QObject::tr("Straggler"), [](const StragglerRow& r) { return QVariant(r.straggler ? QObject::tr("yes") : QString()); }},
    }, parent);
}

void summariesFromAggregates(const std::vector<Aggregate>& aggs, std::vector<KernelSummary>& kernels,
                             std::vector<CollectiveSummary>& collectives) {
    kernels.clear();
    collectives.clear();
    double kernelTotal = 0;
    for (const Aggregate& a : aggs)
        if (a.kind == EventKind::Kernel || a.kind == EventKind::Memcpy || a.kind == EventKind::Memset)
            kernelTotal += static_cast<double>(a.total_ns);
    for (const Aggregate& a : aggs) {
        if (a.kind == EventKind::Kernel || a.kind == EventKind::Memcpy || a.kind == EventKind::Memset) {
            KernelSummary k;
            k.name = a.name;
            k.kind = a.kind;
            k.count = a.count;
            k.total_ns = a.total_ns;
            k.share = kernelTotal > 0 ? static_cast<double>(a.total_ns) / kernelTotal : 0;
            k.mean_ns = a.mean_ns;
            k.median_ns = a.median_ns;
            k.p95_ns = a.p95_ns;
            kernels.push_back(k);
        } else if (a.kind == EventKind::Comm) {
            CollectiveSummary c;
            c.collective = a.collective;
            c.group_kind = a.group_kind;
            c.count = a.count;
            c.total_ns = a.total_ns;
            c.mean_ns = a.mean_ns;
            c.bytes = a.count > 0 ? a.bytes / a.count : 0;
            c.algbw = a.mean_ns > 0 ? static_cast<double>(c.bytes) / (a.mean_ns * 1e-9) : 0;
            collectives.push_back(c);
        }
    }
    std::sort(kernels.begin(), kernels.end(), [](auto& a, auto& b) { return a.total_ns > b.total_ns; });
    std::sort(collectives.begin(), collectives.end(), [](auto& a, auto& b) { return a.total_ns > b.total_ns; });
}

SummaryPage::SummaryPage(QWidget* parent) : Page(parent) {
    kernels_ = makeKernelModel(nullptr);
    collectives_ = makeCollectiveModel(nullptr);
    stragglers_ = makeStragglerModel(nullptr);

    headline_ = new QLabel(tr("Select a run in the list of open files."));
    headline_->setTextFormat(Qt::RichText);
    headline_->setWordWrap(true);
    warnings_ = new QLabel;
    warnings_->setWordWrap(true);
    warnings_->setStyleSheet(QStringLiteral("color:#b45309;"));

    chart_ = new QChartView;
    chart_->setRenderHint(QPainter::Antialiasing);
    chart_->setMinimumHeight(260);
    chart_->setMinimumWidth(480);
    addExportActions(chart_, QStringLiteral("breakdown"));

    auto* straggler = new TablePanel(tr("Stragglers (per rank, per step)"), stragglers_.get());
    straggler->setObjectName(QStringLiteral("stragglerTable"));
    tabs_ = new QTabWidget;
    auto* kt = new TablePanel(tr("Kernels"), kernels_.get());
    kt->setObjectName(QStringLiteral("kernelTable"));
    auto* ct = new TablePanel(tr("Collectives"), collectives_.get());
    ct->setObjectName(QStringLiteral("collectiveTable"));
    kt->setDefaultSort(3, Qt::DescendingOrder);
    ct->setDefaultSort(5, Qt::DescendingOrder);
    straggler->setDefaultSort(0, Qt::AscendingOrder);
    tabs_->addTab(kt, tr("Kernels"));
    tabs_->addTab(ct, tr("Collectives"));

    auto* top = new QSplitter(Qt::Horizontal);
    top->addWidget(chart_);
    top->addWidget(straggler);
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 2);
    top->setSizes({620, 360});
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(tabs_);
    split->setSizes({330, 300});

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(headline_);
    layout->addWidget(warnings_);
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
        headline_->setText(tr("Select a run in the list of open files."));
        warnings_->clear();
        chart_->setChart(new QChart);
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
            return doc->withReader("analysis", [&](TraceReader& rd) { return analyze_run(rd, run); });
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
    QString h = tr("<b>Run #%1</b> %2 — %3 ranks (dp %4 × tp %5 × pp %6)%7<br>")
                    .arg(a.run.id.value).arg(fromStd(a.run.model)).arg(a.run.world_size)
                    .arg(a.run.dp).arg(a.run.tp).arg(a.run.pp)
                    .arg(a.run.oversubscribed ? tr(", <i>oversubscribed</i>") : QString());
    h += tr("Step time <b>%1</b> median (mean %2 ± %3, CV %4, %5 steps measured, %6 warm-up)")
             .arg(formatDuration(a.step_time.median_ns), formatDuration(a.step_time.mean_ns),
                  formatDuration(a.step_time.stddev_ns), formatPercent(a.step_time.cv()))
             .arg(a.step_time.count).arg(a.warmup_steps);
    h += tr(" · overlap ratio <b>%1</b>").arg(formatPercent(o.overlap_ratio()));
    const Throughput& t = a.throughput;
    if (t.tokens_per_s > 0) h += tr(" · %1").arg(formatRate(t.tokens_per_s, tr("tokens/s")));
    else if (t.samples_per_s > 0) h += tr(" · %1").arg(formatRate(t.samples_per_s, tr("samples/s")));
    if (t.mfu > 0) h += tr(" · MFU <b>%1</b>").arg(formatPercent(t.mfu));
    headline_->setText(h);
    QStringList w;
    for (const auto& s : a.warnings) w << fromStd(s);
    warnings_->setText(w.join(QStringLiteral("<br>")));
    warnings_->setVisible(!w.isEmpty());

    kernels_->setRows(a.kernels);
    collectives_->setRows(a.collectives);
    stragglers_->setRows(stragglers(a.ranks));

    // Stacked bar per rank, ms per step.
    auto* chart = new QChart;
    chart->setTitle(tr("Step breakdown per rank (mean per measured step)"));
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
    auto* y = new QValueAxis;
    y->setTitleText(tr("ms per step"));
    y->setRange(0, maxStep * 1.08);
    y->applyNiceNumbers();
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    chart->legend()->setAlignment(Qt::AlignRight);
    chart->setTheme(currentTheme() == ThemeKind::Dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    for (int p = 0; p < kPartCount; ++p) series->barSets()[p]->setColor(partColor(static_cast<Part>(p)));
    QChart* old = chart_->chart();
    chart_->setChart(chart);
    delete old;
}

void SummaryPage::showFallback(const RunData& r, const QString& why) {
    std::vector<KernelSummary> k;
    std::vector<CollectiveSummary> c;
    summariesFromAggregates(r.aggregates, k, c);
    kernels_->setRows(std::move(k));
    collectives_->setRows(std::move(c));
    stragglers_->setRows({});
    headline_->setText(tr("<b>Run #%1</b> %2 — stored aggregates only (no step breakdown)")
                           .arg(r.info.id.value).arg(fromStd(r.info.model)));
    warnings_->setText(why.toHtmlEscaped());
    warnings_->setVisible(true);
    QChart* old = chart_->chart();
    auto* empty = new QChart;
    empty->setTitle(tr("No step breakdown: %1").arg(why));
    chart_->setChart(empty);
    delete old;
}

}  // namespace ss::gui

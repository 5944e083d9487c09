#include "gui/compare/comparepage.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHorizontalBarSeries>
#include <QLabel>
#include <QLegend>
#include <QLineEdit>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "core/analysis/analysis.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "gui/common/tablepanel.h"

namespace ss::gui {

using namespace ss::core;
using namespace ss::traces;

namespace {
QString sv(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }
// Change columns hold percent (CSV "Change (%)"); shown signed with its unit.
QVariant percentOf(double rel) { return QVariant(std::isfinite(rel) ? rel * 100.0 : rel); }
QString relText(const QVariant& v) {
    const double r = v.toDouble();
    if (!std::isfinite(r)) return QStringLiteral("–");
    if (std::abs(r) < 0.05) return QStringLiteral("0 %");
    return (r >= 0 ? QStringLiteral("+") : QString()) + QStringLiteral("%1 %").arg(r, 0, 'f', std::abs(r) < 10 ? 1 : 0);
}
QString lawLabel(Law l) {
    switch (l) {
    case Law::Amdahl: return QObject::tr("Amdahl");
    case Law::Gustafson: return QObject::tr("Gustafson");
    case Law::Usl: return QObject::tr("USL");
    }
    return {};
}
QString nsText(const QVariant& v) { return formatDuration(v.toDouble()); }
QString num(const QVariant& v) { return formatNumber(v.toDouble(), 4); }
// 1.35 k tokens/s, 111 GFLOP/s: formatRate (gui/common/format.h), signed for differences.
QString siText(double v, const QString& unit) {
    return v < 0 ? QStringLiteral("-") + formatRate(-v, unit) : formatRate(v, unit);
}
}  // namespace

QString metricValueText(const MetricDelta& m, double v, bool difference) {
    if (!std::isfinite(v)) return QStringLiteral("–");
    const QString sign = difference && v > 0 ? QStringLiteral("+") : QString();
    if (m.unit == "ns") return sign + formatDuration(v);
    if (m.unit == "ratio")
        return difference ? sign + QObject::tr("%1 points").arg(v * 100.0, 0, 'f', 1) : formatPercent(v);
    if (m.unit == "1/s") return sign + siText(v, m.name == "tokens_per_s" ? QObject::tr("tokens/s") : QObject::tr("samples/s"));
    if (m.unit == "FLOP/s") return sign + siText(v, QStringLiteral("FLOP/s"));
    if (m.unit == "steps" || m.unit == "ranks") return sign + QString::number(v, 'f', 0);
    return sign + formatNumber(v, 4) + (m.unit.empty() ? QString() : QLatin1Char(' ') + fromStd(m.unit));
}

namespace {
// A side's value; when unknown, why ("unknown: no peak FLOP/s") rather than a bare dash. The note
// is core::mfu_note's: "MFU unknown: no peak FLOP/s. Calibrate ...".
QString sideText(const MetricDelta& m, double v, const std::string& note) {
    static const std::string kUnknown = "MFU unknown: ";
    if (std::isfinite(v) || note.rfind(kUnknown, 0) != 0) return metricValueText(m, v, false);
    QString n = fromStd(note.substr(4));  // "unknown: no peak FLOP/s. Calibrate ..."
    if (const qsizetype stop = n.indexOf(QStringLiteral(". ")); stop > 0) n = n.left(stop);
    const qsizetype paren = n.indexOf(QStringLiteral(" ("));
    return paren > 0 ? n.left(paren) : n;
}
QString noteText(const MetricDelta& m) {
    if (m.note_a.empty() && m.note_b.empty()) return {};
    if (m.note_a == m.note_b) return QObject::tr("A, B: %1").arg(fromStd(m.note_a));
    return QObject::tr("A: %1; B: %2").arg(fromStd(m.note_a), fromStd(m.note_b));
}
}  // namespace

std::unique_ptr<TableModel<MetricDelta>> makeMetricDeltaModel(QObject* parent) {
    using M = TableModel<MetricDelta>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Metric"), [](const MetricDelta& m) { return QVariant(fromStd(m.label.empty() ? m.name : m.label)); }},
        {QObject::tr("A"), [](const MetricDelta& m) { return QVariant(m.d.a); }, num, QObject::tr("CSV: in the Unit column's unit"),
         [](const MetricDelta& m) { return sideText(m, m.d.a, m.note_a); }},
        {QObject::tr("B"), [](const MetricDelta& m) { return QVariant(m.d.b); }, num, QObject::tr("CSV: in the Unit column's unit"),
         [](const MetricDelta& m) { return sideText(m, m.d.b, m.note_b); }},
        {QObject::tr("B − A"), [](const MetricDelta& m) { return QVariant(m.d.abs); }, num, {},
         [](const MetricDelta& m) { return metricValueText(m, m.d.abs, true); }},
        {QObject::tr("Change (%)"), [](const MetricDelta& m) { return percentOf(m.d.rel); }, relText,
         QObject::tr("(B − A) / A, in percent")},
        // The cells carry their people's unit ("14.6 k samples/s", "35.1 ms"); this column names
        // the raw value's unit, which only the CSV holds.
        {QObject::tr("CSV unit"), [](const MetricDelta& m) { return QVariant(fromStd(m.unit)); },
         [](const QVariant& v) { return v.toString() == QLatin1String("1/s") ? QObject::tr("per second") : v.toString(); },
         QObject::tr("the unit of the raw values in the CSV (the cells show people's units)"), {},
         QStringLiteral("Unit")},
        {QObject::tr("Note"), [](const MetricDelta& m) { return QVariant(noteText(m)); }},
    }, parent);
}

std::unique_ptr<TableModel<KernelDelta>> makeKernelDeltaModel(QObject* parent) {
    using M = TableModel<KernelDelta>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Kernel"), [](const KernelDelta& k) { return QVariant(fromStd(k.name)); }},
        {QObject::tr("In"), [](const KernelDelta& k) { return QVariant(sv(to_string(k.presence))); }},
        {QObject::tr("A per step"), [](const KernelDelta& k) { return QVariant(k.per_step_ns.a); }, nsText, {}, {}, QStringLiteral("A per step (ns)")},
        {QObject::tr("B per step"), [](const KernelDelta& k) { return QVariant(k.per_step_ns.b); }, nsText, {}, {}, QStringLiteral("B per step (ns)")},
        {QObject::tr("Δ per step"), [](const KernelDelta& k) { return QVariant(k.per_step_ns.abs); }, nsText, {}, {}, QStringLiteral("Δ per step (ns)")},
        {QObject::tr("Change (%)"), [](const KernelDelta& k) { return percentOf(k.per_step_ns.rel); }, relText},
        {QObject::tr("Calls/step A"), [](const KernelDelta& k) { return QVariant(k.count_per_step.a); }, num},
        {QObject::tr("Calls/step B"), [](const KernelDelta& k) { return QVariant(k.count_per_step.b); }, num},
    }, parent);
}

std::unique_ptr<TableModel<CollectiveDelta>> makeCollectiveDeltaModel(QObject* parent) {
    using M = TableModel<CollectiveDelta>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Collective"), [](const CollectiveDelta& c) { return QVariant(sv(to_string(c.collective))); }},
        {QObject::tr("Group"), [](const CollectiveDelta& c) { return QVariant(sv(to_string(c.group_kind))); }},
        {QObject::tr("In"), [](const CollectiveDelta& c) { return QVariant(sv(to_string(c.presence))); }},
        {QObject::tr("A per step"), [](const CollectiveDelta& c) { return QVariant(c.per_step_ns.a); }, nsText, {}, {}, QStringLiteral("A per step (ns)")},
        {QObject::tr("B per step"), [](const CollectiveDelta& c) { return QVariant(c.per_step_ns.b); }, nsText, {}, {}, QStringLiteral("B per step (ns)")},
        {QObject::tr("Change (%)"), [](const CollectiveDelta& c) { return percentOf(c.per_step_ns.rel); }, relText},
        {QObject::tr("Bytes/step A"), [](const CollectiveDelta& c) { return QVariant(c.bytes_per_step.a); },
         [](const QVariant& v) { return formatBytes(v.toDouble()); }},
        {QObject::tr("Bytes/step B"), [](const CollectiveDelta& c) { return QVariant(c.bytes_per_step.b); },
         [](const QVariant& v) { return formatBytes(v.toDouble()); }},
        {QObject::tr("busbw A"), [](const CollectiveDelta& c) { return QVariant(c.busbw.a); },
         [](const QVariant& v) { return formatBandwidth(v.toDouble()); }, {}, {}, QStringLiteral("busbw A (B/s)")},
        {QObject::tr("busbw B"), [](const CollectiveDelta& c) { return QVariant(c.busbw.b); },
         [](const QVariant& v) { return formatBandwidth(v.toDouble()); }, {}, {}, QStringLiteral("busbw B (B/s)")},
    }, parent);
}

std::unique_ptr<TableModel<OpDiff>> makeOpDiffModel(QObject* parent) {
    using M = TableModel<OpDiff>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Op"), [](const OpDiff& o) { return QVariant(fromStd(o.name)); }, {},
         QObject::tr("every event by name but steps: CPU ops, annotations, CUDA API calls, kernels, copies, NCCL "
                     "kernels, communication calls")},
        {QObject::tr("Side"), [](const OpDiff& o) { return QVariant(o.gpu ? QObject::tr("GPU") : QObject::tr("host")); },
         {}, QObject::tr("GPU: a record on a CUDA stream; host: anything else")},
        {QObject::tr("Change"), [](const OpDiff& o) { return QVariant(sv(to_string(o.change))); }, {},
         QObject::tr("added (only in B), removed (only in A), increased or decreased (more or fewer calls per step "
                     "and rank in B), unchanged")},
        {QObject::tr("Calls/step A"), [](const OpDiff& o) { return QVariant(o.count_per_step.a); }, num,
         QObject::tr("per measured step and rank")},
        {QObject::tr("Calls/step B"), [](const OpDiff& o) { return QVariant(o.count_per_step.b); }, num,
         QObject::tr("per measured step and rank")},
        {QObject::tr("A per step"), [](const OpDiff& o) { return QVariant(o.per_step_ns.a); }, nsText,
         QObject::tr("total time per measured step and rank"), {}, QStringLiteral("A per step (ns)")},
        {QObject::tr("B per step"), [](const OpDiff& o) { return QVariant(o.per_step_ns.b); }, nsText,
         QObject::tr("total time per measured step and rank"), {}, QStringLiteral("B per step (ns)")},
        {QObject::tr("Δ per step"), [](const OpDiff& o) { return QVariant(o.per_step_ns.abs); },
         [](const QVariant& v) { return (v.toDouble() > 0 ? QStringLiteral("+") : QString()) + formatDuration(v.toDouble()); },
         {}, {}, QStringLiteral("Δ per step (ns)")},
        {QObject::tr("Change (%)"), [](const OpDiff& o) { return percentOf(o.per_step_ns.rel); }, relText},
    }, parent);
}

QString opChangesText(const std::vector<OpDiff>& ops) {
    int n[5] = {};
    for (const OpDiff& o : ops) ++n[static_cast<int>(o.change)];
    return QObject::tr("%1 ops: <b>%2 added</b>, <b>%3 removed</b>, <b>%4 changed</b> (%5 called more often, %6 less "
                       "often), %7 unchanged — per step and rank, as HTA's TraceDiff")
        .arg(ops.size()).arg(n[0]).arg(n[1]).arg(n[2] + n[3]).arg(n[2]).arg(n[3]).arg(n[4]);
}

std::unique_ptr<TableModel<StudyPointDelta>> makeStudyPointDeltaModel(QObject* parent) {
    using M = TableModel<StudyPointDelta>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("p"), [](const StudyPointDelta& p) { return QVariant(p.p); }},
        {QObject::tr("In"), [](const StudyPointDelta& p) { return QVariant(sv(to_string(p.presence))); }},
        {QObject::tr("Time A"), [](const StudyPointDelta& p) { return QVariant(p.time_ns.a); }, nsText, {}, {}, QStringLiteral("Time A (ns)")},
        {QObject::tr("Time B"), [](const StudyPointDelta& p) { return QVariant(p.time_ns.b); }, nsText, {}, {}, QStringLiteral("Time B (ns)")},
        {QObject::tr("Time change (%)"), [](const StudyPointDelta& p) { return percentOf(p.time_ns.rel); }, relText},
        {QObject::tr("Speedup A"), [](const StudyPointDelta& p) { return QVariant(p.speedup.a); }, num},
        {QObject::tr("Speedup B"), [](const StudyPointDelta& p) { return QVariant(p.speedup.b); }, num},
        {QObject::tr("Efficiency A"), [](const StudyPointDelta& p) { return QVariant(p.efficiency.a); },
         [](const QVariant& v) { return formatPercent(v.toDouble()); }},
        {QObject::tr("Efficiency B"), [](const StudyPointDelta& p) { return QVariant(p.efficiency.b); },
         [](const QVariant& v) { return formatPercent(v.toDouble()); }},
    }, parent);
}

std::unique_ptr<TableModel<FitDelta>> makeFitDeltaModel(QObject* parent) {
    using M = TableModel<FitDelta>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Law"), [](const FitDelta& f) { return QVariant(lawLabel(f.law)); }},
        {QObject::tr("Parameter"), [](const FitDelta& f) { return QVariant(fromStd(f.param)); }},
        {QObject::tr("A"), [](const FitDelta& f) { return QVariant(f.value.a); }, num},
        {QObject::tr("B"), [](const FitDelta& f) { return QVariant(f.value.b); }, num},
        {QObject::tr("Change (%)"), [](const FitDelta& f) { return percentOf(f.value.rel); }, relText},
        {QObject::tr("Significant"), [](const FitDelta& f) { return QVariant(f.significant ? QObject::tr("yes") : QObject::tr("no")); },
         {}, QObject::tr("the two bootstrap intervals do not overlap")},
    }, parent);
}

ComparePage::ComparePage(QWidget* parent) : Page(parent) {
    summary_ = makeMetricDeltaModel(nullptr);
    parts_ = makeMetricDeltaModel(nullptr);
    kernels_ = makeKernelDeltaModel(nullptr);
    collectives_ = makeCollectiveDeltaModel(nullptr);
    ops_ = makeOpDiffModel(nullptr);
    points_ = makeStudyPointDeltaModel(nullptr);
    fits_ = makeFitDeltaModel(nullptr);

    a_ = new QComboBox;
    b_ = new QComboBox;
    a_->setObjectName(QStringLiteral("compareA"));
    b_->setObjectName(QStringLiteral("compareB"));
    for (QComboBox* c : {a_, b_}) {
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(16);  // the page fits 1024 px under a projector's zoom too
        connect(c, &QComboBox::currentIndexChanged, this, &ComparePage::compare);
    }
    verdict_ = new QLabel(tr("Open two runs (or two studies) to compare them."));
    verdict_->setWordWrap(true);
    warnings_ = new QLabel;
    warnings_->setWordWrap(true);
    warnings_->setStyleSheet(QStringLiteral("color:#b45309;"));

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("<b>A</b>")));
    top->addWidget(a_, 1);
    top->addWidget(new QLabel(tr("<b>B</b>")));
    top->addWidget(b_, 1);

    // Runs.
    breakdown_ = makeChartView(QStringLiteral("compare-breakdown"));
    breakdown_->setObjectName(QStringLiteral("compareBreakdownChart"));
    auto* runTabs = new QTabWidget;
    runTabs->addTab(new TablePanel(tr("Kernels: time per step per rank"), kernels_.get()), tr("Kernels"));
    runTabs->addTab(new TablePanel(tr("Collectives"), collectives_.get()), tr("Collectives"));
    runTabs->addTab(new TablePanel(tr("Breakdown parts"), parts_.get()), tr("Breakdown"));
    opChanges_ = new QLabel;
    opChanges_->setObjectName(QStringLiteral("opChanges"));
    opChanges_->setTextFormat(Qt::RichText);
    opChanges_->setWordWrap(true);
    auto* opPanel = new TablePanel(tr("Ops: calls and time per step and rank"), ops_.get());
    opPanel->setObjectName(QStringLiteral("opTable"));
    opPanel->filterEdit()->setPlaceholderText(tr("Filter (e.g. added, removed, GPU, a name)…"));
    auto* opTab = new QWidget;
    auto* opLayout = new QVBoxLayout(opTab);
    opLayout->setContentsMargins(0, 0, 0, 0);
    opLayout->addWidget(opChanges_);
    opLayout->addWidget(opPanel, 1);
    runTabs->addTab(opTab, tr("Ops (TraceDiff)"));
    auto* runTop = new QSplitter(Qt::Horizontal);
    runTop->addWidget(withLegend(breakdown_));
    auto* sumPanel = new TablePanel(tr("Summary"), summary_.get());
    sumPanel->setObjectName(QStringLiteral("compareSummary"));
    runTop->addWidget(sumPanel);
    runTop->setSizes({560, 480});
    auto* runSplit = new QSplitter(Qt::Vertical);
    runSplit->addWidget(runTop);
    runSplit->addWidget(runTabs);
    runSplit->setSizes({400, 240});  // the breakdown's six category labels need the height

    // Studies.
    curves_ = makeChartView(QStringLiteral("compare-scaling"));
    curves_->setObjectName(QStringLiteral("compareScalingChart"));
    auto* studyTabs = new QTabWidget;
    studyTabs->addTab(new TablePanel(tr("Points"), points_.get()), tr("Points"));
    studyTabs->addTab(new TablePanel(tr("Fitted parameters"), fits_.get()), tr("Fits"));
    auto* studySplit = new QSplitter(Qt::Horizontal);
    studySplit->addWidget(withLegend(curves_));
    studySplit->addWidget(studyTabs);
    studySplit->setStretchFactor(0, 1);
    studySplit->setStretchFactor(1, 1);
    studySplit->setSizes({560, 480});

    modes_ = new QStackedWidget;
    modes_->addWidget(runSplit);
    modes_->addWidget(studySplit);
    // The wrapped verdict and warnings make the page height-for-width, which the scroll area sizes
    // by the splitters' preferred height: ignore that (as the Summary page does) so the page fills a
    // small window instead of scrolling; the splitters take the room there is, at least this.
    modes_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Ignored);
    modes_->setMinimumHeight(380);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(verdict_);
    layout->addWidget(warnings_);
    layout->addWidget(modes_, 1);
}

void ComparePage::setDocuments(const std::vector<DocumentPtr>& docs) {
    docs_ = docs;
    rebuildChoices();
}

void ComparePage::setSelection(const Selection& s) {
    sel_ = s;
    // A follows the selection when nothing is compared yet.
    for (int i = 0; i < static_cast<int>(choices_.size()); ++i) {
        const Choice& c = choices_[static_cast<size_t>(i)];
        if (c.doc == s.doc && ((s.study.valid() && c.study == s.study) || (!s.study.valid() && c.run == s.run))) {
            if (a_->currentIndex() != i && b_->currentIndex() != i) a_->setCurrentIndex(i);
            break;
        }
    }
}

void ComparePage::rebuildChoices() {
    const QString curA = a_->currentText(), curB = b_->currentText();
    choices_.clear();
    for (const DocumentPtr& d : docs_) {
        for (const RunData& r : d->data().runs)
            choices_.push_back({d, r.info.id, {}, QStringLiteral("%1 · %2").arg(d->displayName(), runLabel(r.info))});
        for (const StudyData& s : d->data().studies)
            choices_.push_back({d, {}, s.info.id,
                                tr("%1 · study #%2 %3").arg(d->displayName()).arg(s.info.id.value).arg(fromStd(s.info.variable))});
    }
    QSignalBlocker ba(a_), bb(b_);
    a_->clear();
    b_->clear();
    for (const Choice& c : choices_) {
        a_->addItem(c.label);
        b_->addItem(c.label);
    }
    // Keep the choices; else A = the first run, B = the next item of the same kind.
    int ia = a_->findText(curA), ib = b_->findText(curB);
    if (ia < 0) ia = 0;
    if ((ib < 0 || ib == ia) && !choices_.empty()) {
        // B: preferably a run of another world size (the interesting comparison), else the next.
        const Choice& ca = choices_[static_cast<size_t>(ia)];
        const RunData* ra = ca.doc->data().run(ca.run);
        ib = -1;
        for (int i = 0; i < static_cast<int>(choices_.size()) && ra; ++i) {
            const RunData* r = choices_[static_cast<size_t>(i)].doc->data().run(choices_[static_cast<size_t>(i)].run);
            if (i != ia && r && r->info.world_size != ra->info.world_size) {
                ib = i;
                break;
            }
        }
    }
    if (ib < 0 || ib == ia) {
        ib = -1;
        for (int i = 0; i < static_cast<int>(choices_.size()); ++i)
            if (i != ia && choices_[static_cast<size_t>(i)].study.valid() == choices_[static_cast<size_t>(ia)].study.valid()) {
                ib = i;
                break;
            }
        if (ib < 0) ib = ia;
    }
    if (!choices_.empty()) {
        a_->setCurrentIndex(ia);
        b_->setCurrentIndex(ib);
    }
    compare();
}

void ComparePage::activated() {
    if (stale_) compare();
}

void ComparePage::compare() {
    job_.cancel();
    if (!isVisibleTo(window())) {  // two analyses: only for a page on screen
        stale_ = true;
        return;
    }
    stale_ = false;
    const int ia = a_->currentIndex(), ib = b_->currentIndex();
    if (ia < 0 || ib < 0 || ia >= static_cast<int>(choices_.size()) || ib >= static_cast<int>(choices_.size())) {
        verdict_->setText(tr("Open two runs (or two studies) to compare them."));
        setReady(true);
        return;
    }
    const Choice A = choices_[static_cast<size_t>(ia)], B = choices_[static_cast<size_t>(ib)];
    if (A.study.valid() != B.study.valid()) {
        verdict_->setText(tr("Compare a run with a run, or a study with a study."));
        setReady(true);
        return;
    }
    setReady(false);
    verdict_->setText(tr("Comparing…"));
    const std::string la = A.label.toStdString(), lb = B.label.toStdString();
    if (!A.study.valid()) {
        job_ = startJob<RunComparison>(
            this,
            [A, B, la, lb](const CancelToken& c) {
                RunAnalysis ra = A.doc->withReader("analysis", [&](TraceReader& rd) { return analyze_run(rd, A.run); });
                c.check();
                RunAnalysis rb = B.doc->withReader("analysis", [&](TraceReader& rd) { return analyze_run(rd, B.run); });
                return compare_runs(ra, rb, la, lb);
            },
            [this](RunComparison c) {
                showRuns(c);
                setReady(true);
            },
            [this](const QString& e) {
                verdict_->setText(tr("Cannot compare: %1").arg(e.toHtmlEscaped()));
                setReady(true);
            });
        return;
    }
    using Triple = std::tuple<StudyComparison, ScalingResult, ScalingResult>;
    job_ = startJob<Triple>(
        this,
        [A, B, la, lb](const CancelToken& c) {
            ScalingResult sa = A.doc->withReader("analysis", [&](TraceReader& rd) { return analyze_study(rd, A.study); });
            c.check();
            ScalingResult sb = B.doc->withReader("analysis", [&](TraceReader& rd) { return analyze_study(rd, B.study); });
            return Triple{compare_studies(sa, sb, la, lb), sa, sb};
        },
        [this](Triple t) {
            showStudies(std::get<0>(t), std::get<1>(t), std::get<2>(t));
            setReady(true);
        },
        [this](const QString& e) {
            verdict_->setText(tr("Cannot compare: %1").arg(e.toHtmlEscaped()));
            setReady(true);
        });
}

void ComparePage::showWarnings(const QStringList& w) {
    // Two lines at most, so that the tables keep their room in a small window; all of them in the
    // tooltip.
    constexpr int kShown = 2;
    QStringList shown = w.mid(0, kShown);
    if (w.size() > kShown) shown << tr("<i>… and %n more warning(s): hover to read them all</i>", nullptr,
                                       static_cast<int>(w.size() - kShown));
    warnings_->setText(shown.join(QStringLiteral("<br>")));
    warnings_->setToolTip(w.size() > kShown ? w.join(QStringLiteral("<br>")) : QString());
    warnings_->setVisible(!w.isEmpty());
}

void ComparePage::showRuns(const RunComparison& c) {
    modes_->setCurrentIndex(0);
    verdict_->setText(QStringLiteral("<b>%1</b>").arg(fromStd(c.verdict).toHtmlEscaped()));
    QStringList w;
    for (const auto& s : c.warnings) w << fromStd(s).toHtmlEscaped();
    showWarnings(w);
    summary_->setRows(c.summary);
    parts_->setRows(c.breakdown);
    kernels_->setRows(c.kernels);
    collectives_->setRows(c.collectives);
    ops_->setRows(c.ops);
    opChanges_->setText(opChangesText(c.ops));

    // Horizontal bars: the parts' names read whole at any width (rotated category labels elide).
    auto* chart = new QChart;
    chart->setTitle(tr("Step breakdown (mean over ranks)"));  // short: whole under a projector's zoom
    auto* series = new QHorizontalBarSeries;
    auto* setA = new QBarSet(tr("A: run #%1").arg(c.run_a.id.value));
    auto* setB = new QBarSet(tr("B: run #%1").arg(c.run_b.id.value));
    setA->setColor(QColor(0x2f, 0x6f, 0xdb));
    setB->setColor(QColor(0xe8, 0x6a, 0x1c));
    setA->setBorderColor(Qt::transparent);
    setB->setBorderColor(Qt::transparent);
    std::vector<const MetricDelta*> parts;
    for (const MetricDelta& m : c.breakdown)
        for (int p = 0; p < kPartCount; ++p)
            if (m.name == to_string(static_cast<Part>(p)) && (m.d.a > 0 || m.d.b > 0)) parts.push_back(&m);
    double top = 0;
    for (const MetricDelta* m : parts) top = std::max({top, m->d.a, m->d.b});
    // Unit of the axis from the largest bar: ms, µs or ns.
    const double scale = top >= 1e6 ? 1e6 : top >= 1e3 ? 1e3 : 1;
    const QString unit = top >= 1e6 ? tr("ms") : top >= 1e3 ? tr("µs") : tr("ns");
    QStringList cats;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {  // the first part at the top
        // The short name ("exposed comm"): the long label would be elided in a narrow chart.
        cats << fromStd((*it)->name).replace(QLatin1Char('_'), QLatin1Char(' '));
        *setA << (*it)->d.a / scale;
        *setB << (*it)->d.b / scale;
    }
    series->append(setA);
    series->append(setB);
    chart->addSeries(series);
    auto* y = new QBarCategoryAxis;
    y->append(cats);
    auto* x = makeValueAxis(0, std::max(1.04 * top / scale, 1e-9), tr("%1 per step").arg(unit), 5);
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(y);
    series->attachAxis(x);
    setChart(breakdown_, chart);  // the legend: a wrapping label under the chart (withLegend)
}

void ComparePage::showStudies(const StudyComparison& c, const ScalingResult& a, const ScalingResult& b) {
    modes_->setCurrentIndex(1);
    verdict_->setText(QStringLiteral("<b>%1</b>").arg(fromStd(c.verdict).toHtmlEscaped()));
    QStringList w;
    for (const auto& s : c.warnings) w << fromStd(s).toHtmlEscaped();
    showWarnings(w);
    points_->setRows(c.points);
    fits_->setRows(c.fits);
    auto* chart = new QChart;
    chart->setTitle(tr("Speedup: A and B"));
    double pMax = 2, sMax = 1;
    std::vector<int> measured;
    for (const auto* r : {&a, &b})
        for (const ScalingPoint& p : r->points) {
            pMax = std::max(pMax, static_cast<double>(p.p));
            sMax = std::max(sMax, p.speedup);
            measured.push_back(p.p);
        }
    const QColor colors[2] = {QColor(0x2f, 0x6f, 0xdb), QColor(0xe8, 0x6a, 0x1c)};
    const double xHi = pMax * 1.5, yHi = std::max(2.0, sMax * 1.3);
    const bool lg = log2Helps(1, xHi);  // 1, 2, 4, 8… evenly spaced once p spans 8×
    auto* xAxis = makePAxis(lg, 1, xHi, measured);
    auto* yAxis = makeValueAxis(0, yHi, tr("speedup (×)"), 6);
    chart->addAxis(xAxis, Qt::AlignBottom);
    chart->addAxis(yAxis, Qt::AlignLeft);
    auto add = [&](QAbstractSeries* s) {
        chart->addSeries(s);
        s->attachAxis(xAxis);
        s->attachAxis(yAxis);
    };
    if (!a.weak && !b.weak) add(idealSeries(tr("ideal (S = p)"), [](double p) { return p; }, 1, std::min(xHi, yHi), lg));
    int k = 0;
    for (const auto* r : {&a, &b}) {
        auto* pts = new QScatterSeries;
        pts->setName(k == 0 ? tr("A measured") : tr("B measured"));
        pts->setColor(colors[k]);
        pts->setBorderColor(Qt::transparent);
        pts->setMarkerSize(11);
        for (const ScalingPoint& p : r->points) pts->append(p.p, p.speedup);
        add(pts);
        for (const LawFit& f : r->fits) {
            if (!f.ok || !f.matches_scaling || f.law == Law::Usl) continue;
            add(curveSeries((k == 0 ? tr("A %1") : tr("B %1")).arg(lawLabel(f.law)), [&](double p) { return f.speedup(p); }, 1,
                            xHi, lg, colors[k], Qt::SolidLine, 0, yHi));
        }
        ++k;
    }
    setChart(curves_, chart);  // the legend: a wrapping label under the chart (withLegend)
}

}  // namespace ss::gui

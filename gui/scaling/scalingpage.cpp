#include "gui/scaling/scalingpage.h"

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "gui/common/tablepanel.h"

namespace ss::gui {

using namespace ss::core;
using namespace ss::traces;

namespace {
const QColor kLawColor[kLawCount] = {QColor(0x2f, 0x6f, 0xdb), QColor(0x43, 0xa0, 0x47), QColor(0xc6, 0x28, 0x28)};
QString lawName(Law l) {
    switch (l) {
    case Law::Amdahl: return QObject::tr("Amdahl");
    case Law::Gustafson: return QObject::tr("Gustafson");
    case Law::Usl: return QObject::tr("USL");
    }
    return {};
}
QString paramsText(const LawFit& f) {
    QStringList parts;
    for (const FitParam& p : f.params)
        parts << QStringLiteral("%1 = %2 [%3, %4]").arg(fromStd(p.name), formatNumber(p.value, 3), formatNumber(p.ci_low, 3),
                                                      formatNumber(p.ci_high, 3));
    return parts.join(QStringLiteral("; "));
}
QString fixed3(const QVariant& v) { return formatNumber(v.toDouble(), 3); }
}  // namespace

LawFit fitAtBound(const LawFit& fit, bool high) {
    LawFit f = fit;
    for (FitParam& p : f.params) p.value = high ? p.ci_high : p.ci_low;
    return f;
}

std::unique_ptr<TableModel<LawFit>> makeFitModel(QObject* parent) {
    using M = TableModel<LawFit>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Law"), [](const LawFit& f) { return QVariant(lawName(f.law) + (f.matches_scaling ? QStringLiteral(" ★") : QString())); },
         {}, QObject::tr("★ = the law of this study's kind (Amdahl strong, Gustafson weak, USL both)")},
        {QObject::tr("Formula"), [](const LawFit& f) { return QVariant(fromStd(f.formula)); }},
        {QObject::tr("Parameters [CI]"), [](const LawFit& f) { return QVariant(paramsText(f)); }},
        {QObject::tr("R²"), [](const LawFit& f) { return QVariant(f.r2); }, fixed3},
        {QObject::tr("RMSE"), [](const LawFit& f) { return QVariant(f.rmse); }, fixed3},
        {QObject::tr("Points"), [](const LawFit& f) { return QVariant(f.points); }},
        {QObject::tr("Warnings"), [](const LawFit& f) {
             QStringList w;
             if (!f.ok) w << QObject::tr("no fit");
             for (const auto& s : f.warnings) w << fromStd(s);
             return QVariant(w.join(QStringLiteral("; ")));
         }},
    }, parent);
}

std::unique_ptr<TableModel<ScalingPoint>> makePointModel(QObject* parent) {
    using M = TableModel<ScalingPoint>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("p"), [](const ScalingPoint& p) { return QVariant(p.p); }},
        {QObject::tr("Runs"), [](const ScalingPoint& p) { return QVariant(p.runs); }},
        {QObject::tr("Step time (ns)"), [](const ScalingPoint& p) { return QVariant(p.time_ns); },
         [](const QVariant& v) { return formatDuration(v.toDouble()); }},
        {QObject::tr("Min (ns)"), [](const ScalingPoint& p) { return QVariant(p.time_min_ns); },
         [](const QVariant& v) { return formatDuration(v.toDouble()); }},
        {QObject::tr("Max (ns)"), [](const ScalingPoint& p) { return QVariant(p.time_max_ns); },
         [](const QVariant& v) { return formatDuration(v.toDouble()); }},
        {QObject::tr("Speedup"), [](const ScalingPoint& p) { return QVariant(p.speedup); }, fixed3},
        {QObject::tr("Efficiency"), [](const ScalingPoint& p) { return QVariant(p.efficiency); },
         [](const QVariant& v) { return formatPercent(v.toDouble()); }},
        {QObject::tr("Karp–Flatt e"), [](const ScalingPoint& p) { return QVariant(p.karp_flatt); }, fixed3},
        {QObject::tr("Oversubscribed"), [](const ScalingPoint& p) { return QVariant(p.oversubscribed ? QObject::tr("yes (contended)") : QString()); }},
    }, parent);
}

std::unique_ptr<TableModel<Projection>> makeProjectionModel(QObject* parent) {
    using M = TableModel<Projection>;
    auto range = [](double v, double lo, double hi) {
        return QStringLiteral("%1 [%2, %3]").arg(formatNumber(v, 4), formatNumber(lo, 4), formatNumber(hi, 4));
    };
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Law"), [](const Projection& p) { return QVariant(lawName(p.law)); }},
        {QObject::tr("p"), [](const Projection& p) { return QVariant(p.p); }},
        {QObject::tr("Speedup"), [](const Projection& p) { return QVariant(p.speedup); }, fixed3},
        {QObject::tr("Speedup CI"), [range](const Projection& p) { return QVariant(range(p.speedup, p.speedup_low, p.speedup_high)); }},
        {QObject::tr("Efficiency"), [](const Projection& p) { return QVariant(p.efficiency); },
         [](const QVariant& v) { return formatPercent(v.toDouble()); }},
        {QObject::tr("Efficiency CI"), [](const Projection& p) {
             return QVariant(QStringLiteral("%1 – %2").arg(formatPercent(p.efficiency_low), formatPercent(p.efficiency_high)));
         }},
    }, parent);
}

ScalingPage::ScalingPage(QWidget* parent) : Page(parent) {
    fits_ = makeFitModel(nullptr);
    points_ = makePointModel(nullptr);
    projections_ = makeProjectionModel(nullptr);
    title_ = new QLabel(tr("Select a study (a file recorded with <tt>scalescope-cli study</tt>)."));
    title_->setWordWrap(true);
    warnings_ = new QLabel;
    warnings_->setWordWrap(true);
    warnings_->setStyleSheet(QStringLiteral("color:#b45309;"));
    log2_ = new QCheckBox(tr("log₂ p axis"));
    projectP_ = new QSpinBox;
    projectP_->setRange(2, 1 << 20);
    projectP_->setValue(64);
    projectP_->setPrefix(tr("project to p = "));
    projectP_->setKeyboardTracking(false);
    connect(log2_, &QCheckBox::toggled, this, &ScalingPage::redraw);
    connect(projectP_, &QSpinBox::valueChanged, this, &ScalingPage::analyse);

    speedup_ = makeChartView(QStringLiteral("speedup"));
    efficiency_ = makeChartView(QStringLiteral("efficiency"));
    karpFlatt_ = makeChartView(QStringLiteral("karp-flatt"));

    auto* top = new QHBoxLayout;
    top->addWidget(title_, 1);
    top->addWidget(log2_);
    top->addWidget(projectP_);

    auto* charts = new QSplitter(Qt::Horizontal);
    charts->addWidget(speedup_);
    charts->addWidget(efficiency_);
    charts->addWidget(karpFlatt_);
    charts->setSizes({520, 300, 260});

    auto* tabs = new QTabWidget;
    auto* fitsPanel = new TablePanel(tr("Fitted laws"), fits_.get());
    fitsPanel->setObjectName(QStringLiteral("fitTable"));
    tabs->addTab(fitsPanel, tr("Fits"));
    tabs->addTab(new TablePanel(tr("Measured points"), points_.get()), tr("Points"));
    tabs->addTab(new TablePanel(tr("Projections"), projections_.get()), tr("Projection"));

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(charts);
    split->addWidget(tabs);
    split->setSizes({430, 220});
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(warnings_);
    layout->addWidget(split, 1);
}

void ScalingPage::setSelection(const Selection& s) {
    Selection t = s;
    if (!t.study.valid() && t.doc && !t.doc->data().studies.empty()) t.study = t.doc->data().studies.front().info.id;
    if (t.doc == sel_.doc && t.study == sel_.study) return;
    sel_ = t;
    analyse();
}

void ScalingPage::analyse() {
    job_.cancel();
    const StudyData* st = sel_.studyData();
    if (!st) {
        result_.reset();
        title_->setText(sel_.doc ? tr("%1 holds no study. Record one with <tt>scalescope-cli study SPEC --vary dp=1,2,4 -o FILE</tt>.")
                                       .arg(sel_.doc->displayName())
                                 : tr("Select a study (a file recorded with <tt>scalescope-cli study</tt>)."));
        warnings_->clear();
        fits_->setRows({});
        points_->setRows({});
        projections_->setRows({});
        redraw();
        setReady(true);
        return;
    }
    setReady(false);
    title_->setText(tr("Analysing study #%1…").arg(st->info.id.value));
    DocumentPtr doc = sel_.doc;
    const StudyId id = st->info.id;
    ScalingOptions opt;
    opt.project_p = {static_cast<double>(projectP_->value())};
    job_ = startJob<ScalingResult>(
        this,
        [doc, id, opt](const CancelToken&) {
            return doc->withReader("analysis", [&](TraceReader& rd) { return analyze_study(rd, id, opt); });
        },
        [this](ScalingResult r) {
            title_->setText(tr("<b>Study #%1</b> %2 — %3 scaling over <tt>%4</tt>, %5 runs")
                                .arg(r.study.id.value)
                                .arg(fromStd(r.study.name).toHtmlEscaped())
                                .arg(r.weak ? tr("weak") : tr("strong"))
                                .arg(fromStd(r.study.variable))
                                .arg(r.samples.size()));
            QStringList w;
            for (const auto& s : r.warnings) w << fromStd(s).toHtmlEscaped();
            warnings_->setText(w.join(QStringLiteral("<br>")));
            fits_->setRows(r.fits);
            points_->setRows(r.points);
            projections_->setRows(r.projections);
            result_ = std::move(r);
            redraw();
            setReady(true);
        },
        [this](const QString& error) {
            result_.reset();
            title_->setText(tr("Cannot analyse the study"));
            warnings_->setText(error.toHtmlEscaped());
            redraw();
            setReady(true);
        });
}

void ScalingPage::redraw() {
    const bool lg = log2_->isChecked();
    auto* cs = new QChart;
    auto* ce = new QChart;
    auto* ck = new QChart;
    cs->setTitle(tr("Speedup S(p) = T(1)/T(p)"));
    ce->setTitle(tr("Efficiency E(p) = S(p)/p"));
    ck->setTitle(tr("Karp–Flatt serial fraction e(p)"));
    if (!result_ || result_->points.empty()) {
        setChart(speedup_, cs);
        setChart(efficiency_, ce);
        setChart(karpFlatt_, ck);
        return;
    }
    const ScalingResult& r = *result_;
    double pMax = 1, sMax = 1;
    for (const ScalingPoint& p : r.points) {
        pMax = std::max(pMax, static_cast<double>(p.p));
        sMax = std::max(sMax, p.speedup);
    }
    const double xHi = std::max(pMax * 2, 4.0);
    const double T1 = r.points.front().p == 1 ? r.points.front().time_ns : 0;

    auto addXY = [&](QChart* c, QAbstractSeries* s, double yLo, double yHi, const QString& yTitle) {
        c->addSeries(s);
        if (c->axes(Qt::Horizontal).isEmpty()) {
            c->addAxis(makePAxis(lg, 1, xHi), Qt::AlignBottom);
            auto* y = new QValueAxis;
            y->setRange(yLo, yHi);
            y->setTitleText(yTitle);
            y->setLabelFormat(QStringLiteral("%.3g"));
            c->addAxis(y, Qt::AlignLeft);
        }
        s->attachAxis(c->axes(Qt::Horizontal).first());
        s->attachAxis(c->axes(Qt::Vertical).first());
    };
    const double sTop = std::max(sMax * 1.3, 2.0);
    // Ideal lines.
    addXY(cs, curveSeries(tr("ideal"), [](double p) { return p; }, 1, std::min(xHi, sTop), lg, Qt::gray, Qt::DashLine), 0, sTop,
          tr("speedup"));
    addXY(ce, curveSeries(tr("ideal"), [](double) { return 1.0; }, 1, xHi, lg, Qt::gray, Qt::DashLine), 0, 1.15, tr("efficiency"));
    // Fitted laws, with a band for the law of the study's kind.
    for (const LawFit& f : r.fits) {
        if (!f.ok) continue;
        const QColor col = kLawColor[static_cast<int>(f.law)];
        if (f.matches_scaling && f.law != Law::Usl) {
            const LawFit lo = fitAtBound(f, false), hi = fitAtBound(f, true);
            auto* upper = curveSeries({}, [&](double p) { return std::max(lo.speedup(p), hi.speedup(p)); }, 1, xHi, lg, col);
            auto* lower = curveSeries({}, [&](double p) { return std::min(lo.speedup(p), hi.speedup(p)); }, 1, xHi, lg, col);
            auto* band = new QAreaSeries(upper, lower);
            band->setName(tr("CI"));
            QColor fill = col;
            fill.setAlpha(45);
            band->setBrush(fill);
            band->setPen(Qt::NoPen);
            addXY(cs, band, 0, sTop, {});
        }
        addXY(cs, curveSeries(lawName(f.law), [&](double p) { return f.speedup(p); }, 1, xHi, lg, col, Qt::SolidLine, 0, sTop * 1.5),
              0, sTop, {});
        addXY(ce, curveSeries(lawName(f.law), [&](double p) { return f.efficiency(p); }, 1, xHi, lg, col, Qt::SolidLine, 0, 1.5),
              0, 1.15, {});
    }
    // Measured: every repeat (small), the means (large), oversubscribed ones marked.
    auto* reps = new QScatterSeries;
    reps->setName(tr("run"));
    reps->setMarkerSize(7);
    reps->setColor(QColor(0x60, 0x60, 0x60));
    reps->setBorderColor(Qt::transparent);
    if (T1 > 0)
        for (const ScalingSample& s : r.samples)
            if (s.time_ns > 0) reps->append(s.p, (r.weak ? s.p : 1.0) * T1 / s.time_ns);
    auto* means = new QScatterSeries;
    means->setName(tr("mean"));
    means->setMarkerSize(12);
    means->setColor(QColor(0x1e, 0x22, 0x28));
    auto* over = new QScatterSeries;
    over->setName(tr("oversubscribed"));
    over->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    over->setMarkerSize(13);
    over->setColor(QColor(0xe8, 0x6a, 0x1c));
    auto* effMeans = new QScatterSeries;
    effMeans->setName(tr("measured"));
    effMeans->setMarkerSize(12);
    effMeans->setColor(QColor(0x1e, 0x22, 0x28));
    auto* effOver = new QScatterSeries;
    effOver->setName(tr("oversubscribed"));
    effOver->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    effOver->setMarkerSize(13);
    effOver->setColor(QColor(0xe8, 0x6a, 0x1c));
    auto* kf = new QLineSeries;
    kf->setName(tr("e(p) measured"));
    kf->setPointsVisible(true);
    double kfMax = 0.05;
    for (const ScalingPoint& p : r.points) {
        (p.oversubscribed ? over : means)->append(p.p, p.speedup);
        (p.oversubscribed ? effOver : effMeans)->append(p.p, p.efficiency);
        if (std::isfinite(p.karp_flatt)) {
            kf->append(p.p, p.karp_flatt);
            kfMax = std::max(kfMax, std::abs(p.karp_flatt));
        }
    }
    addXY(cs, reps, 0, sTop, {});
    addXY(cs, means, 0, sTop, {});
    if (over->count()) addXY(cs, over, 0, sTop, {}); else delete over;
    addXY(ce, effMeans, 0, 1.15, {});
    if (effOver->count()) addXY(ce, effOver, 0, 1.15, {}); else delete effOver;
    addXY(ck, kf, -kfMax * 0.2, kfMax * 1.3, tr("e (rising: overhead grows with p)"));
    for (QChart* c : {cs, ce, ck}) c->legend()->setAlignment(Qt::AlignBottom);
    ce->legend()->hide();  // same colours as the speedup chart
    if (auto* y = qobject_cast<QValueAxis*>(ck->axes(Qt::Vertical).value(0))) y->applyNiceNumbers();
    for (QLegendMarker* m : cs->legend()->markers())
        if (m->label().isEmpty()) m->setVisible(false);
    setChart(speedup_, cs);
    setChart(efficiency_, ce);
    setChart(karpFlatt_, ck);
}

}  // namespace ss::gui

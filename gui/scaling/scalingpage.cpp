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
#include <QPen>
#include <QScatterSeries>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "core/analysis/study_summary.h"
#include "core/launch/launcher.h"
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
    for (const FitParam& p : f.params) {
        if (std::isfinite(p.ci_low) && std::isfinite(p.ci_high))
            parts << QStringLiteral("%1 = %2 [%3, %4]").arg(fromStd(p.name), formatNumber(p.value, 3), formatNumber(p.ci_low, 3),
                                                          formatNumber(p.ci_high, 3));
        else
            parts << QObject::tr("%1 = %2 (no interval)").arg(fromStd(p.name), formatNumber(p.value, 3));
    }
    return parts.join(QStringLiteral("; "));
}
// The band of a fit: only where there is a real interval (not NaN, not zero width).
bool hasBand(const LawFit& f) {
    if (!f.has_interval || f.params.empty()) return false;
    bool width = false;
    for (const FitParam& p : f.params) {
        if (!std::isfinite(p.ci_low) || !std::isfinite(p.ci_high)) return false;
        width = width || p.ci_high > p.ci_low;
    }
    return width;
}
QString fixed3(const QVariant& v) { return formatNumber(v.toDouble(), 3); }
// R² and RMSE to 3 decimals: an exact fit's RMSE of 2.9e-16 reads "0.000", not in scientific notation.
QString decimals3(const QVariant& v) {
    const double x = v.toDouble();
    return std::isfinite(x) ? QString::number(x, 'f', 3) : QStringLiteral("–");
}
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
        {QObject::tr("R²"), [](const LawFit& f) { return QVariant(f.r2); }, decimals3},
        {QObject::tr("RMSE"), [](const LawFit& f) { return QVariant(f.rmse); }, decimals3},
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
        // The cells carry their unit ("35.1 ms"); the CSV header names the raw value's (ns).
        {QObject::tr("Step time"), [](const ScalingPoint& p) { return QVariant(p.time_ns); },
         [](const QVariant& v) { return formatDuration(v.toDouble()); },
         QObject::tr("mean over repeats of the runs' median step time"), {}, QStringLiteral("Step time (ns)")},
        {QObject::tr("Min"), [](const ScalingPoint& p) { return QVariant(p.time_min_ns); },
         [](const QVariant& v) { return formatDuration(v.toDouble()); }, {}, {}, QStringLiteral("Min (ns)")},
        {QObject::tr("Max"), [](const ScalingPoint& p) { return QVariant(p.time_max_ns); },
         [](const QVariant& v) { return formatDuration(v.toDouble()); }, {}, {}, QStringLiteral("Max (ns)")},
        {QObject::tr("Speedup"), [](const ScalingPoint& p) { return QVariant(p.speedup); }, fixed3},
        {QObject::tr("Efficiency"), [](const ScalingPoint& p) { return QVariant(p.efficiency); },
         [](const QVariant& v) { return formatPercent(v.toDouble()); }},
        {QObject::tr("Karp–Flatt e"), [](const ScalingPoint& p) { return QVariant(p.karp_flatt); }, fixed3},
        {QObject::tr("Oversubscribed"), [](const ScalingPoint& p) { return QVariant(p.oversubscribed ? QObject::tr("yes (contended)") : QString()); }},
        {QObject::tr("Fitted"), [](const ScalingPoint& p) {
             return QVariant(p.fitted ? QObject::tr("yes") : QObject::tr("no: oversubscribed, shown only"));
         }, {}, QObject::tr("whether the fits use this point (oversubscribed points are left out when 2 others remain)")},
    }, parent);
}

std::unique_ptr<TableModel<Projection>> makeProjectionModel(QObject* parent) {
    using M = TableModel<Projection>;
    auto range = [](double v, double lo, double hi) {
        if (!std::isfinite(lo) || !std::isfinite(hi)) return QObject::tr("%1 (no interval)").arg(formatNumber(v, 4));
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
             if (!std::isfinite(p.efficiency_low) || !std::isfinite(p.efficiency_high)) return QVariant(QObject::tr("no interval"));
             return QVariant(QStringLiteral("%1 – %2").arg(formatPercent(p.efficiency_low), formatPercent(p.efficiency_high)));
         }},
        {QObject::tr("Note"), [](const Projection& p) {
             return QVariant(p.extrapolated ? QObject::tr("extrapolation: %1× the largest measured p").arg(formatNumber(p.beyond_measured, 3))
                                            : QString());
         }},
    }, parent);
}

ScalingPage::ScalingPage(QWidget* parent) : Page(parent) {
    fits_ = makeFitModel(nullptr);
    points_ = makePointModel(nullptr);
    projections_ = makeProjectionModel(nullptr);
    title_ = new QLabel(tr("Select a study (a file recorded with <tt>scalescope-cli study</tt>)."));
    title_->setWordWrap(true);
    sentence_ = new QLabel;
    sentence_->setObjectName(QStringLiteral("scalingSentence"));
    sentence_->setWordWrap(true);
    sentence_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    sentence_->hide();
    warnings_ = new QLabel;
    warnings_->setWordWrap(true);
    warnings_->setStyleSheet(QStringLiteral("color:#b45309;"));
    log2_ = new QCheckBox(tr("log₂ p axis"));
    projectP_ = new QSpinBox;
    projectP_->setRange(2, 1 << 20);
    projectP_->setValue(64);
    projectP_->setPrefix(tr("project to p = "));
    projectP_->setKeyboardTracking(false);
    log2_->setToolTip(tr("On by default when the p range spans 8× or more"));
    connect(log2_, &QCheckBox::toggled, this, &ScalingPage::redraw);
    connect(log2_, &QCheckBox::clicked, this, [this] { log2Chosen_ = true; });
    connect(projectP_, &QSpinBox::valueChanged, this, &ScalingPage::analyse);

    speedup_ = makeChartView(QStringLiteral("speedup"));
    efficiency_ = makeChartView(QStringLiteral("efficiency"));
    karpFlatt_ = makeChartView(QStringLiteral("karp-flatt"));
    speedup_->setObjectName(QStringLiteral("speedupChart"));
    efficiency_->setObjectName(QStringLiteral("efficiencyChart"));
    karpFlatt_->setObjectName(QStringLiteral("karpFlattChart"));
    karpFlatt_->setToolTip(tr("Karp–Flatt e(p) = (1/S − 1/p)/(1 − 1/p): constant = a fixed serial part; "
                              "rising = overhead that grows with p"));
    warnings_->setObjectName(QStringLiteral("scalingWarnings"));

    auto* top = new QHBoxLayout;
    top->addWidget(title_, 1);
    top->addWidget(log2_);
    top->addWidget(projectP_);

    // Two charts side by side, each half the page, so titles, axis titles and p ticks stay whole
    // under a projector's font zoom: the speedup with its legend under it, and the efficiency.
    // Karp–Flatt, the diagnostic, is a tab beside the tables.
    auto* charts = new QSplitter(Qt::Horizontal);
    charts->addWidget(withLegend(speedup_));
    charts->addWidget(efficiency_);
    charts->setChildrenCollapsible(false);
    charts->setStretchFactor(0, 1);
    charts->setStretchFactor(1, 1);
    charts->setSizes({600, 500});

    auto* tabs = new QTabWidget;
    auto* fitsPanel = new TablePanel(tr("Fitted laws"), fits_.get());
    fitsPanel->setObjectName(QStringLiteral("fitTable"));
    tabs->addTab(fitsPanel, tr("Fits"));
    tabs->addTab(new TablePanel(tr("Measured points"), points_.get()), tr("Points"));
    auto* projPanel = new TablePanel(tr("Projections"), projections_.get());
    projPanel->setObjectName(QStringLiteral("projectionTable"));
    tabs->addTab(projPanel, tr("Projection"));
    karpFlatt_->setMinimumHeight(120);  // a tab: no taller a minimum than the tables'
    tabs->addTab(karpFlatt_, tr("Karp–Flatt"));
    // The study's warnings: a tab of their own ("Notes (3)"), so the sentence above the charts
    // leaves them the height under a projector's zoom; nothing is dropped.
    auto* notes = new QScrollArea;
    notes->setWidgetResizable(true);
    notes->setFrameShape(QFrame::NoFrame);
    warnings_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    warnings_->setMargin(6);
    notes->setWidget(warnings_);
    tabs_ = tabs;
    notesTab_ = tabs->addTab(notes, tr("Notes"));

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(charts);
    split->addWidget(tabs);
    // The charts first: their value ticks need the height (a category tick label that does not
    // fit its interval is elided); the tables scroll.
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({520, 160});
    // The wrapped sentence, warnings and legend make the page height-for-width, which the scroll
    // area would size by the splitter's preferred height: ignore that (as Compare and Summary do)
    // so the page fills a small window instead of scrolling; the splitter takes the room there is.
    split->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Ignored);
    split->setMinimumHeight(360);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(sentence_);
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
        tabs_->setTabText(notesTab_, tr("Notes"));
        sentence_->hide();
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
            tabs_->setTabText(notesTab_, w.isEmpty() ? tr("Notes") : tr("Notes (%1)").arg(w.size()));
            // The machine's cores only when every run used this host (as scalescope-cli scaling).
            core::StudyContext ctx;
            try {
                const core::LaunchEnvironment env = core::LaunchEnvironment::current();
                if (r.hosts.size() == 1 && r.hosts.front() == env.local_hostname) ctx.cores = env.local_cores;
            } catch (const std::exception&) {
                // Without the host's facts the sentence says "fewer cores than ranks" instead.
            }
            sentence_->setText(QStringLiteral("<b>%1</b>").arg(fromStd(core::study_sentence(r, ctx)).toHtmlEscaped()));
            sentence_->show();
            if (!log2Chosen_) {
                int pMax = 1;
                for (const ScalingPoint& p : r.points) pMax = std::max(pMax, p.p);
                const QSignalBlocker block(log2_);
                log2_->setChecked(log2Helps(1, std::max(pMax * 2.0, 4.0)));
            }
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
            sentence_->setText(error.toHtmlEscaped());
            sentence_->show();
            warnings_->setText(error.toHtmlEscaped());
            tabs_->setTabText(notesTab_, tr("Notes (1)"));
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
    ck->setTitle(tr("Karp–Flatt e(p)"));
    if (!result_ || result_->points.empty()) {
        setChart(speedup_, cs);
        setChart(efficiency_, ce);
        setChart(karpFlatt_, ck);
        return;
    }
    const ScalingResult& r = *result_;
    double pMax = 1, sMax = 1;
    std::vector<int> measured;
    for (const ScalingPoint& p : r.points) {
        pMax = std::max(pMax, static_cast<double>(p.p));
        sMax = std::max(sMax, p.speedup);
        measured.push_back(p.p);
    }
    const double xHi = std::max(pMax * 2, 4.0);
    const double T1 = r.points.front().p == 1 ? r.points.front().time_ns : 0;
    const double sTop = std::max(sMax * 1.3, 2.0);
    double kfMin = 0, kfMax = 0.05;
    for (const ScalingPoint& p : r.points)
        if (std::isfinite(p.karp_flatt)) {
            kfMin = std::min(kfMin, p.karp_flatt);
            kfMax = std::max(kfMax, p.karp_flatt);
        }

    // Axes first: the value axes widen their range to nice ticks (1-2-5 steps, zero as 0).
    auto axes = [&](QChart* c, double yLo, double yHi, const QString& yTitle, int yTicks = 6) {
        c->addAxis(makePAxis(lg, 1, xHi, measured), Qt::AlignBottom);
        c->addAxis(makeValueAxis(yLo, yHi, yTitle, yTicks), Qt::AlignLeft);
    };
    axes(cs, 0, sTop, tr("speedup (×)"), 5);
    axes(ce, 0, 1.15, tr("efficiency E"), 7);
    axes(ck, kfMin - 0.2 * (kfMax - kfMin), kfMax + 0.3 * (kfMax - kfMin), tr("serial fraction e"));
    auto add = [](QChart* c, QAbstractSeries* s) {
        c->addSeries(s);
        s->attachAxis(c->axes(Qt::Horizontal).first());
        s->attachAxis(c->axes(Qt::Vertical).first());
    };
    // Ideal lines: dashed grey, never mistaken for a law.
    add(cs, idealSeries(tr("ideal (S = p)"), [](double p) { return p; }, 1, std::min(xHi, sTop), lg));
    add(ce, idealSeries(tr("ideal (E = 1)"), [](double) { return 1.0; }, 1, xHi, lg));
    // Fitted laws, with a band for the law of the study's kind when it has a real interval.
    for (const LawFit& f : r.fits) {
        if (!f.ok) continue;
        // Through one p > 1 the USL is Amdahl's law (κ = 0, core::analyze_scaling): drawn once.
        if (f.law == Law::Usl && f.points < 3) continue;
        const QColor col = kLawColor[static_cast<int>(f.law)];
        if (f.matches_scaling && f.law != Law::Usl && hasBand(f)) {
            const LawFit lo = fitAtBound(f, false), hi = fitAtBound(f, true);
            auto* upper = curveSeries({}, [&](double p) { return std::max(lo.speedup(p), hi.speedup(p)); }, 1, xHi, lg, col);
            auto* lower = curveSeries({}, [&](double p) { return std::min(lo.speedup(p), hi.speedup(p)); }, 1, xHi, lg, col);
            auto* band = new QAreaSeries(upper, lower);
            band->setName(tr("%1 CI").arg(lawName(f.law)));
            QColor fill = col;
            fill.setAlpha(45);
            band->setBrush(fill);
            band->setPen(Qt::NoPen);
            add(cs, band);
        }
        add(cs, curveSeries(lawName(f.law), [&](double p) { return f.speedup(p); }, 1, xHi, lg, col, Qt::SolidLine, 0, sTop * 1.5));
        add(ce, curveSeries(lawName(f.law), [&](double p) { return f.efficiency(p); }, 1, xHi, lg, col, Qt::SolidLine, 0, 1.5));
    }
    // Measured: every repeat (small), the means (large, in the text colour), oversubscribed ones marked.
    auto* reps = new QScatterSeries;
    reps->setName(tr("run"));
    reps->setMarkerSize(7);
    reps->setColor(QColor(0x80, 0x80, 0x80));
    reps->setBorderColor(Qt::transparent);
    if (T1 > 0)
        for (const ScalingSample& s : r.samples)
            if (s.time_ns > 0) reps->append(s.p, (r.weak ? s.p : 1.0) * T1 / s.time_ns);
    auto* means = new QScatterSeries;
    means->setName(tr("mean"));
    means->setMarkerSize(12);
    markForeground(means);
    // Oversubscribed points: filled when a fit still uses them, hollow when the fits left them
    // out (drawn, not fitted: core::ScalingPoint::fitted).
    const QColor orange(0xe8, 0x6a, 0x1c);
    auto overSeries = [&](bool fitted) {
        auto* o = new QScatterSeries;
        o->setName(fitted ? tr("oversubscribed") : tr("oversubscribed (not fitted)"));
        o->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
        o->setMarkerSize(13);
        if (fitted) {
            o->setColor(orange);
        } else {
            o->setBrush(Qt::NoBrush);
            o->setPen(QPen(orange, 2.5));
        }
        return o;
    };
    auto* over = overSeries(true);
    auto* unfit = overSeries(false);
    auto* effMeans = new QScatterSeries;
    effMeans->setName(tr("measured"));
    effMeans->setMarkerSize(12);
    markForeground(effMeans);
    auto* effOver = overSeries(true);
    auto* effUnfit = overSeries(false);
    auto* kf = new QLineSeries;
    kf->setName(tr("e(p) measured"));
    kf->setPointsVisible(true);
    kf->setPen(QPen(QColor(0x2f, 0x6f, 0xdb), 2));
    for (const ScalingPoint& p : r.points) {
        (!p.oversubscribed ? means : p.fitted ? over : unfit)->append(p.p, p.speedup);
        (!p.oversubscribed ? effMeans : p.fitted ? effOver : effUnfit)->append(p.p, p.efficiency);
        if (std::isfinite(p.karp_flatt)) kf->append(p.p, p.karp_flatt);
    }
    add(cs, reps);
    add(cs, means);
    if (over->count()) add(cs, over); else delete over;
    if (unfit->count()) add(cs, unfit); else delete unfit;
    add(ce, effMeans);
    if (effOver->count()) add(ce, effOver); else delete effOver;
    if (effUnfit->count()) add(ce, effUnfit); else delete effUnfit;
    add(ck, kf);
    // The speedup legend: a wrapping label under the chart (withLegend), whole at any width and
    // zoom. The efficiency chart shares its colours; the Karp–Flatt chart has one series, named by
    // its title.
    ce->legend()->hide();
    ck->legend()->hide();
    for (QLegendMarker* m : cs->legend()->markers())
        if (m->label().isEmpty()) m->setVisible(false);
    setChart(speedup_, cs);
    setChart(efficiency_, ce);
    setChart(karpFlatt_, ck);
}

}  // namespace ss::gui

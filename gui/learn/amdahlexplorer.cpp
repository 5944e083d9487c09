#include "gui/learn/amdahlexplorer.h"

#include <QChart>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPushButton>
#include <QScatterSeries>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "core/analysis/scaling.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"

namespace ss::gui {

using namespace ss::core;
using namespace ss::core::teach;

namespace {
// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies).
const QColor kAmdahl(0x00, 0x72, 0xB2);     // blue
const QColor kGustafson(0xD5, 0x5E, 0x00);  // vermillion
const QColor kFitted(0xCC, 0x79, 0xA7);     // reddish purple

QLogValueAxis* log2Axis(double lo, double hi, const QString& title) {
    auto* a = new QLogValueAxis;
    a->setBase(2);
    a->setLabelFormat(lo < 1 ? QStringLiteral("%g") : QStringLiteral("%.0f"));
    a->setMinorTickCount(0);
    a->setRange(lo, hi);
    a->setTitleText(title);
    return a;
}

double pow2Above(double v) {
    return std::exp2(std::ceil(std::log2(std::max(1.0, v)) - 1e-9));
}
double pow2Below(double v) {
    return std::exp2(std::floor(std::log2(v) + 1e-9));
}
}  // namespace

AmdahlExplorer::AmdahlExplorer(QWidget* parent) : QWidget(parent) {
    f_ = new QDoubleSpinBox;
    f_->setObjectName(QStringLiteral("learnSerialFraction"));
    f_->setRange(0, 1);
    f_->setDecimals(3);
    f_->setSingleStep(0.01);
    f_->setValue(0.05);
    f_->setToolTip(tr("The share of one process's run time that cannot be parallelised"));
    fSlider_ = new QSlider(Qt::Horizontal);
    fSlider_->setRange(0, 500);  // f in 0.001 steps up to 0.5
    fSlider_->setValue(50);
    fSlider_->setMinimumWidth(60);
    p_ = new QSpinBox;
    p_->setObjectName(QStringLiteral("learnProcesses"));
    p_->setRange(1, 1024);
    p_->setValue(8);
    p_->setToolTip(tr("The process count the laws and Karp–Flatt are read at"));
    useStudyF_ = new QPushButton(tr("Use the study's f"));
    useStudyF_->setObjectName(QStringLiteral("learnUseStudyF"));
    useStudyF_->setEnabled(false);
    connect(f_, &QDoubleSpinBox::valueChanged, this, [this](double f) {
        const QSignalBlocker b(fSlider_);
        fSlider_->setValue(static_cast<int>(std::lround(f * 1000)));
        update();
    });
    connect(fSlider_, &QSlider::valueChanged, this, [this](int v) { f_->setValue(v / 1000.0); });
    connect(p_, &QSpinBox::valueChanged, this, [this] { update(); });
    connect(useStudyF_, &QPushButton::clicked, this, [this] {
        if (study_ && std::isfinite(study_->fitted_f))
            setSerialFraction(std::clamp(study_->fitted_f, 0.0, 1.0));
    });

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("serial fraction f")));
    controls->addWidget(fSlider_, 1);
    controls->addWidget(f_);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("processes p")));
    controls->addWidget(p_);
    controls->addSpacing(12);
    controls->addWidget(useStudyF_);

    chart_ = makeChartView(QStringLiteral("amdahl-gustafson"));
    chart_->setMinimumHeight(220);
    // As tall as the window leaves: the page's height for its width does not count the chart's
    // preferred height.
    chart_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Ignored);

    auto label = [](const char* name) {
        auto* l = new QLabel;
        l->setObjectName(QString::fromLatin1(name));
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
        return l;
    };
    amdahl_ = label("learnAmdahl");
    gustafson_ = label("learnGustafson");
    karpFlatt_ = label("learnKarpFlatt");
    studyLabel_ = label("learnStudy");
    studyLabel_->setWordWrap(true);
    sentences_ = label("learnLawSentences");
    sentences_->setWordWrap(true);
    sentences_->setTextFormat(Qt::RichText);

    auto* readout = new QVBoxLayout;
    readout->setSpacing(2);
    for (QLabel* l : {amdahl_, gustafson_, karpFlatt_, studyLabel_}) {
        l->setWordWrap(true);
        readout->addWidget(l);
    }

    auto* title = new QLabel(
        tr("<b>Amdahl vs Gustafson</b> — how much faster do p processes get? Strong scaling "
           "keeps the problem fixed (Amdahl); weak scaling grows it with p (Gustafson)."));
    title->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(title);
    layout->addLayout(controls);
    layout->addWidget(chart_, 1);
    layout->addLayout(readout);
    layout->addWidget(sentences_);
    update();
}

void AmdahlExplorer::setSerialFraction(double f) {
    f_->setValue(f);
}
void AmdahlExplorer::setProcesses(int p) {
    p_->setValue(p);
}
double AmdahlExplorer::serialFraction() const {
    return f_->value();
}
int AmdahlExplorer::processes() const {
    return p_->value();
}

void AmdahlExplorer::setSelection(const Selection& s) {
    Selection t = s;
    if (!t.study.valid() && t.doc && !t.doc->data().studies.empty())
        t.study = t.doc->data().studies.front().info.id;
    if (t.doc == sel_.doc && t.study == sel_.study) return;
    sel_ = t;
    analyse();
}

void AmdahlExplorer::analyse() {
    job_.cancel();
    study_.reset();
    studyProblem_.clear();
    const StudyData* st = sel_.studyData();
    if (!st) {
        studyProblem_ = sel_.doc ? tr("%1 holds no study: record one with <tt>scalescope-cli study "
                                      "SPEC --vary dp=1,2 -o FILE</tt> "
                                      "to see your own points here.")
                                       .arg(sel_.doc->displayName().toHtmlEscaped())
                                 : tr("No study open: open a study file (File ▸ Open) to see its "
                                      "measured speedups here.");
        update();
        setEntryReady(true);
        return;
    }
    setEntryReady(false);
    DocumentPtr doc = sel_.doc;
    const traces::StudyId id = st->info.id;
    job_ = startJob<ScalingResult>(
        this,
        [doc, id](const CancelToken&) {
            return doc->withReader("analysis",
                                   [&](traces::TraceReader& rd) { return analyze_study(rd, id); });
        },
        [this](ScalingResult r) {
            study_ = overlay_from_scaling(r);
            update();
            setEntryReady(true);
        },
        [this](const QString& error) {
            studyProblem_ = tr("Cannot analyse the study: %1").arg(error.toHtmlEscaped());
            update();
            setEntryReady(true);
        });
}

void AmdahlExplorer::update() {
    reading_ = read_laws(f_->value(), p_->value());
    const LawReading& r = reading_;
    const bool hasStudy = study_ && study_->present;
    const bool hasFit = hasStudy && std::isfinite(study_->fitted_f);
    useStudyF_->setEnabled(hasFit && study_->fitted_f >= 0 && study_->fitted_f <= 1);
    useStudyF_->setToolTip(
        !hasFit ? tr("No study with a fitted serial fraction is open")
        : useStudyF_->isEnabled()
            ? tr("Set f to the open study's fitted serial fraction")
            : tr("The study's fitted f is outside 0…1: it is not a serial fraction"));

    // Axes: p from 1 to a power of two past p (at least 64) and the study's largest p.
    double pMax = std::max(64.0, pow2Above(2.0 * r.p));
    double sMin = 1;
    if (hasStudy)
        for (std::size_t i = 0; i < study_->p.size(); ++i) {
            pMax = std::max(pMax, pow2Above(study_->p[i]));
            if (study_->speedup[i] > 0) sMin = std::min(sMin, pow2Below(study_->speedup[i]));
        }
    // The fitted f as it is (above 1 when the runs got slower with p: the curve falls below 1).
    LawCurve fc;
    if (hasFit) {
        fc = sample_laws(study_->fitted_f, pMax, 12);
        const auto& ys = study_->law == Law::Amdahl ? fc.amdahl : fc.gustafson;
        for (double y : ys)
            if (std::isfinite(y) && y > 1.0 / 64) sMin = std::min(sMin, pow2Below(y));
    }

    auto* c = new QChart;
    c->setTitle(tr("Speedup against processes (f = %1)").arg(fromStd(fmt3(r.f))));
    auto* ax = log2Axis(1, pMax, tr("processes p (log₂)"));
    auto* ay = log2Axis(sMin, pMax, tr("speedup S (log₂)"));
    c->addAxis(ax, Qt::AlignBottom);
    c->addAxis(ay, Qt::AlignLeft);
    auto attach = [&](QAbstractSeries* s) {
        c->addSeries(s);
        s->attachAxis(ax);
        s->attachAxis(ay);
    };
    attach(idealSeries(
        tr("ideal S = p"), [](double p) { return p; }, 1, pMax, true));
    const LawCurve curve = sample_laws(r.f, pMax, 12);
    auto* amdahl = new QLineSeries;
    amdahl->setName(tr("strong (Amdahl)"));
    auto* gustafson = new QLineSeries;
    gustafson->setName(tr("weak (Gustafson)"));
    for (std::size_t i = 0; i < curve.p.size(); ++i) {
        amdahl->append(curve.p[i], curve.amdahl[i]);
        gustafson->append(curve.p[i], std::max(curve.gustafson[i], sMin));
    }
    amdahl->setPen(QPen(kAmdahl, 3));
    gustafson->setPen(QPen(kGustafson, 3));
    attach(amdahl);
    attach(gustafson);
    if (std::isfinite(r.amdahl_limit) && r.amdahl_limit <= pMax) {
        auto* limit = new QLineSeries;
        limit->setName(tr("limit 1/f = %1").arg(fromStd(fmt3(r.amdahl_limit))));
        limit->append(1, r.amdahl_limit);
        limit->append(pMax, r.amdahl_limit);
        limit->setPen(QPen(kAmdahl, 1.5, Qt::DotLine));
        attach(limit);
    }
    auto* at = new QScatterSeries;
    at->setName(tr("read at p = %1").arg(p_->value()));
    at->setMarkerSize(12);
    at->setColor(Qt::transparent);
    at->setBorderColor(kAmdahl);
    at->setPen(QPen(kAmdahl, 2.5));
    at->append(r.p, r.amdahl);
    at->append(r.p, r.gustafson);
    attach(at);
    if (hasFit) {
        const StudyOverlay& o = *study_;
        auto* fitted = new QLineSeries;
        fitted->setName(tr("study fit, f = %1").arg(fromStd(fmt3(o.fitted_f))));
        const auto& ys = o.law == Law::Amdahl ? fc.amdahl : fc.gustafson;
        for (std::size_t i = 0; i < fc.p.size(); ++i)
            if (std::isfinite(ys[i]) && ys[i] >= sMin && ys[i] <= pMax)
                fitted->append(fc.p[i], ys[i]);
        fitted->setPen(QPen(kFitted, 2.5, Qt::DashLine));
        attach(fitted);
    }
    if (hasStudy) {
        auto* measured = new QScatterSeries;
        measured->setName(tr("measured"));
        measured->setMarkerSize(11);
        auto* over = new QScatterSeries;
        over->setName(tr("oversubscribed"));
        over->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
        over->setMarkerSize(9);
        for (std::size_t i = 0; i < study_->p.size(); ++i)
            (study_->oversubscribed[i] ? over : measured)
                ->append(study_->p[i], std::max(study_->speedup[i], sMin));
        markForeground(measured);
        markForeground(over);
        attach(measured);
        if (over->count() > 0)
            attach(over);
        else
            delete over;
    }
    c->legend()->setAlignment(Qt::AlignRight);
    setChart(chart_, c);

    const auto pct = [](double x) { return fromStd(fmt3(100 * x)) + QStringLiteral(" %"); };
    amdahl_->setText(tr("<span style='color:%1'>■</span> strong (Amdahl) 1/(f + (1−f)/p): S(%2) = "
                        "<b>%3</b>, efficiency %4")
                         .arg(kAmdahl.name())
                         .arg(p_->value())
                         .arg(fromStd(fmt3(r.amdahl)), pct(r.amdahl_efficiency)));
    gustafson_->setText(tr("<span style='color:%1'>■</span> weak (Gustafson) p − f(p − 1): S(%2) = "
                           "<b>%3</b>, efficiency %4")
                            .arg(kGustafson.name())
                            .arg(p_->value())
                            .arg(fromStd(fmt3(r.gustafson)), pct(r.gustafson_efficiency)));
    karpFlatt_->setText(tr("Karp–Flatt e(%1) = (1/S − 1/p)/(1 − 1/p): <b>%2</b> on the Amdahl "
                           "curve, <b>%3</b> on the Gustafson curve")
                            .arg(p_->value())
                            .arg(fromStd(fmt3(r.karp_flatt_amdahl)), fromStd(fmt3(r.karp_flatt_gustafson))));
    if (hasStudy)
        studyLabel_->setText(
            hasFit ? tr("Open study <b>%1</b>: fitted %2 serial fraction f = <b>%3</b> (R² %4)")
                         .arg(fromStd(study_->name).toHtmlEscaped(),
                              study_->law == Law::Amdahl ? tr("Amdahl") : tr("Gustafson"),
                              fromStd(fmt3(study_->fitted_f)), fromStd(fmt3(study_->fitted_r2)))
                   : tr("Open study <b>%1</b>: no fitted f (%2)")
                         .arg(fromStd(study_->name).toHtmlEscaped(), fromStd(study_->why).toHtmlEscaped()));
    else
        studyLabel_->setText(studyProblem_.isEmpty() ? tr("Analysing the study…") : studyProblem_);

    QStringList lines;
    for (const std::string& s : explain_laws(r, hasStudy ? &*study_ : nullptr))
        lines << fromStd(s).toHtmlEscaped();
    sentences_->setText(lines.join(QStringLiteral("<br>")));
}

}  // namespace ss::gui

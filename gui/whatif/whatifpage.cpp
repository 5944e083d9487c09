#include "gui/whatif/whatifpage.h"

#include <QApplication>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QPushButton>
#include <QScatterSeries>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>

#include "core/sim_trace.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"

namespace ss::gui {

using namespace ss::core;
using namespace ss::traces;

double sliderFactor(int position) { return std::pow(2.0, position / 10.0); }
int factorSlider(double factor) { return static_cast<int>(std::lround(10 * std::log2(factor))); }

QString hardwarePresetDir() {
    const QStringList candidates = {
        qEnvironmentVariable("SCALESCOPE_HARDWARE_DIR"),
        QCoreApplication::applicationDirPath() + QStringLiteral("/../../examples/hardware"),
        QCoreApplication::applicationDirPath() + QStringLiteral("/../share/scalescope/hardware"),
        QStringLiteral(SCALESCOPE_SOURCE_EXAMPLES "/hardware"),
    };
    for (const QString& c : candidates)
        if (!c.isEmpty() && QDir(c).exists()) return QDir(c).absolutePath();
    return {};
}

std::vector<HardwareChoice> hardwarePresets() {
    std::vector<HardwareChoice> out;
    const QString dir = hardwarePresetDir();
    if (dir.isEmpty()) return out;
    for (const QString& f : QDir(dir).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
        try {
            Hardware hw = load_hardware(QDir(dir).filePath(f).toStdString());
            out.push_back({fromStd(hw.name) + QStringLiteral(" — ") + f, hw});
        } catch (const std::exception&) {
            // A preset that does not parse is not offered.
        }
    }
    return out;
}

WhatIfPage::WhatIfPage(QWidget* parent) : Page(parent) {
    hwCombo_ = new QComboBox;
    hwCombo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    hwCombo_->setMinimumContentsLength(18);
    fitted_ = new QCheckBox(tr("compute rates fitted on the selected run"));
    fitted_->setChecked(true);
    auto spin = [this](int lo, int hi, int v) {
        auto* s = new QSpinBox;
        s->setRange(lo, hi);
        s->setValue(v);
        connect(s, &QSpinBox::valueChanged, this, &WhatIfPage::simulate);
        return s;
    };
    dp_ = spin(1, 4096, 1);
    tp_ = spin(1, 64, 1);
    pp_ = spin(1, 64, 1);
    micro_ = spin(1, 256, 1);
    dp_->setObjectName(QStringLiteral("whatifDp"));
    tp_->setObjectName(QStringLiteral("whatifTp"));
    micro_->setObjectName(QStringLiteral("whatifMicroBatches"));
    overlap_ = new QCheckBox(tr("overlap DP gradient reduction with backward"));
    overlap_->setChecked(true);
    weak_ = new QCheckBox(tr("weak scaling (per-rank batch fixed)"));
    auto slider = [this](QLabel*& label) {
        auto* s = new QSlider(Qt::Horizontal);
        s->setRange(-30, 30);
        s->setValue(0);
        label = new QLabel(QStringLiteral("×1"));
        label->setMinimumWidth(50);
        connect(s, &QSlider::valueChanged, this, [this, label](int v) {
            label->setText(QStringLiteral("×%1").arg(formatNumber(sliderFactor(v), 3)));
            simulate();
        });
        return s;
    };
    compute_ = slider(computeLabel_);
    bandwidth_ = slider(bandwidthLabel_);
    latency_ = slider(latencyLabel_);
    for (QCheckBox* c : {fitted_, overlap_, weak_}) connect(c, &QCheckBox::toggled, this, &WhatIfPage::simulate);
    connect(hwCombo_, &QComboBox::currentIndexChanged, this, &WhatIfPage::simulate);

    auto* form = new QFormLayout;
    form->addRow(tr("Hardware"), hwCombo_);
    form->addRow(QString(), fitted_);
    auto* layout3 = new QHBoxLayout;
    layout3->addWidget(new QLabel(tr("dp")));
    layout3->addWidget(dp_);
    layout3->addWidget(new QLabel(tr("tp")));
    layout3->addWidget(tp_);
    layout3->addWidget(new QLabel(tr("pp")));
    layout3->addWidget(pp_);
    form->addRow(tr("Layout"), layout3);
    form->addRow(tr("Micro-batches"), micro_);
    form->addRow(QString(), overlap_);
    auto row = [](QSlider* s, QLabel* l) {
        auto* h = new QHBoxLayout;
        h->addWidget(s, 1);
        h->addWidget(l);
        return h;
    };
    form->addRow(tr("Compute speed"), row(compute_, computeLabel_));
    form->addRow(tr("Network bandwidth"), row(bandwidth_, bandwidthLabel_));
    form->addRow(tr("Network latency"), row(latency_, latencyLabel_));
    form->addRow(QString(), weak_);

    auto* replayButton = new QPushButton(tr("Replay this run"));
    replayButton->setObjectName(QStringLiteral("whatifReplay"));
    replayButton->setToolTip(tr("Re-time the recorded step of the selected run with the trace-driven engine and the knobs above; "
                                "another dp or number of micro-batches reshapes the run (compute fitted on it)"));
    connect(replayButton, &QPushButton::clicked, this, &WhatIfPage::replayRun);
    auto* validateButton = new QPushButton(tr("Validate calibration"));
    validateButton->setToolTip(tr("Predict every run of the file with this hardware and compare with the measured step times"));
    connect(validateButton, &QPushButton::clicked, this, &WhatIfPage::validate);
    replay_ = new QLabel;
    replay_->setObjectName(QStringLiteral("whatifReplayResult"));
    replay_->setWordWrap(true);
    validation_ = new QLabel;
    validation_->setWordWrap(true);

    auto* knobs = new QGroupBox(tr("Knobs"));
    auto* kl = new QVBoxLayout(knobs);
    kl->addLayout(form);
    kl->addWidget(replayButton);
    kl->addWidget(replay_);
    kl->addWidget(validateButton);
    kl->addWidget(validation_);
    kl->addStretch(1);
    knobs->setMaximumWidth(420);

    headline_ = new QLabel;
    headline_->setWordWrap(true);
    curve_ = makeChartView(QStringLiteral("whatif-scaling"));
    breakdown_ = makeChartView(QStringLiteral("whatif-breakdown"));
    breakdown_->setMaximumHeight(230);
    auto* right = new QWidget;
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    rl->addWidget(headline_);
    rl->addWidget(curve_, 1);
    rl->addWidget(breakdown_);

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(knobs);
    split->addWidget(right);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);

    hardware_ = hardwarePresets();
    for (const auto& h : hardware_) hwCombo_->addItem(h.label);
    // A default spec: the GPT tiny preset, until a run is selected.
    baseSpec_ = parse_spec(nlohmann::json{{"model", {{"kind", "gpt"}, {"preset", "tiny"}}}}).spec;
}

void WhatIfPage::setSelection(const Selection& s) {
    if (s.doc == sel_.doc && s.run == sel_.run && s.study == sel_.study) return;
    sel_ = s;
    loadContext();
}

// The run's spec, fitted compute rates, the file's calibrations and the study's measured points.
void WhatIfPage::loadContext() {
    contextJob_.cancel();
    job_.cancel();
    struct Context {
        std::optional<ExperimentSpec> spec;
        std::optional<ComputeRates> rates;
        std::vector<HardwareChoice> calibrations;
        std::optional<ScalingResult> measured;
    };
    const RunData* r = sel_.runData();
    DocumentPtr doc = sel_.doc;
    std::optional<RunInfo> run;
    if (r) run = r->info;
    StudyId study = sel_.study;
    if (!study.valid() && doc && !doc->data().studies.empty()) study = doc->data().studies.front().info.id;
    contextReady_ = false;
    setReady(false);
    contextJob_ = startJob<Context>(
        this,
        [doc, run, study](const CancelToken&) {
            Context c;
            if (!doc) return c;
            doc->withReader("analysis", [&](TraceReader& rd) {
                if (run) {
                    try { c.spec = run_spec(*run); } catch (const std::exception&) {}
                    try { c.rates = fit_compute_rates(rd, run->id); } catch (const std::exception&) {}
                }
                for (const Calibration& cal : rd.calibrations()) {
                    try {
                        Hardware hw = parse_hardware(nlohmann::json::parse(cal.hardware_json), "calibration " + std::to_string(cal.id.value));
                        c.calibrations.push_back({QObject::tr("calibration #%1 (%2)").arg(cal.id.value).arg(fromStd(cal.host)), hw});
                    } catch (const std::exception&) {}
                }
                if (study.valid()) {
                    try { c.measured = analyze_study(rd, study); } catch (const std::exception&) {}
                }
                return 0;
            });
            return c;
        },
        [this](Context c) {
            if (c.spec) baseSpec_ = *c.spec;
            fittedRates_ = c.rates;
            measured_ = c.measured;
            {
                QSignalBlocker b1(hwCombo_), b2(dp_), b3(tp_), b4(pp_), b5(micro_), b6(overlap_);
                hardware_ = c.calibrations;
                for (auto& h : hardwarePresets()) hardware_.push_back(h);
                hwCombo_->clear();
                for (const auto& h : hardware_) hwCombo_->addItem(h.label);
                // A CPU run with no calibration in its file: the calibrated preset (a `calibrate`
                // file, this-machine.json) rather than a GPU node.
                if (c.calibrations.empty() && baseSpec_.backend.device == "cpu")
                    for (int k = 0; k < static_cast<int>(hardware_.size()); ++k)
                        if (hardware_[static_cast<std::size_t>(k)].hw.calibrated) {
                            hwCombo_->setCurrentIndex(k);
                            break;
                        }
                dp_->setValue(baseSpec_.parallel.dp);
                tp_->setValue(baseSpec_.parallel.tp);
                pp_->setValue(baseSpec_.parallel.pp);
                micro_->setValue(baseSpec_.parallel.micro_batches);
                overlap_->setChecked(baseSpec_.parallel.overlap);
            }
            fitted_->setEnabled(fittedRates_.has_value());
            contextReady_ = true;
            simulate();
        },
        [this](const QString& e) {
            headline_->setText(tr("Cannot read the run: %1").arg(e.toHtmlEscaped()));
            contextReady_ = true;
            simulate();
        });
}

ExperimentSpec WhatIfPage::currentSpec() const {
    ExperimentSpec s = baseSpec_;
    s.parallel.dp = dp_->value();
    s.parallel.tp = tp_->value();
    s.parallel.pp = pp_->value();
    s.parallel.micro_batches = micro_->value();
    s.parallel.overlap = overlap_->isChecked();
    return s;
}

Hardware WhatIfPage::currentHardware() const {
    const int i = hwCombo_->currentIndex();
    if (i < 0 || i >= static_cast<int>(hardware_.size())) throw std::runtime_error("no hardware description found (examples/hardware)");
    return scaled(hardware_[static_cast<size_t>(i)].hw,
                  HardwareScale{sliderFactor(compute_->value()), sliderFactor(bandwidth_->value()), sliderFactor(latency_->value())});
}

void WhatIfPage::simulate() {
    if (!contextReady_) return;
    job_.cancel();
    setReady(false);
    Hardware hw;
    try {
        hw = currentHardware();
    } catch (const std::exception& e) {
        headline_->setText(fromStd(e.what()).toHtmlEscaped());
        setReady(true);
        return;
    }
    const ExperimentSpec spec = currentSpec();
    SimOptions opt;
    QString source = tr("hardware peaks");
    if (fitted_->isChecked() && fittedRates_) {
        ComputeRates r = *fittedRates_;
        const double k = sliderFactor(compute_->value());
        r.matmul_flop_per_s *= k;
        r.memory_bytes_per_s *= k;
        r.optimizer_bytes_per_s *= k;
        opt.rates = r;
        source = fromStd(r.source);
    }
    const bool weak = weak_->isChecked();
    job_ = startJob<Outcome>(
        this,
        [spec, hw, opt, weak, source](const CancelToken&) {
            Outcome o;
            o.current = simulate_analytic(spec, hw, opt);
            o.ratesSource = source;
            std::vector<int> values;
            for (int v = 1; v <= 64; v *= 2) values.push_back(v);
            try {
                o.curve = scaling_curve(spec, hw, "dp", values, weak, opt);
            } catch (const std::exception&) {
                // e.g. a dp that does not divide the batch: fewer points.
                std::vector<int> ok;
                for (int v : values) {
                    try {
                        auto one = scaling_curve(spec, hw, "dp", {1, v}, weak, opt);
                        ok.push_back(v);
                    } catch (const std::exception&) {}
                }
                if (!ok.empty()) o.curve = scaling_curve(spec, hw, "dp", ok, weak, opt);
            }
            return o;
        },
        [this](Outcome o) {
            show(o);
            setReady(true);
        },
        [this](const QString& e) {
            headline_->setText(tr("<b>Cannot simulate:</b> %1").arg(e.toHtmlEscaped()));
            setChart(curve_, new QChart);
            setReady(true);
        });
}

void WhatIfPage::show(const Outcome& o) {
    const SimResult& r = o.current;
    QString h = tr("<b>Predicted</b> for world %1: step <b>%2</b>").arg(r.world).arg(formatDuration(r.step_s * 1e9));
    if (r.tokens_per_s > 0) h += tr(" · %1").arg(formatRate(r.tokens_per_s, tr("tokens/s")));
    else if (r.samples_per_s > 0) h += tr(" · %1").arg(formatRate(r.samples_per_s, tr("samples/s")));
    if (r.mfu > 0) h += tr(" · MFU %1").arg(formatPercent(r.mfu));
    h += tr(" · memory %1 per rank%2").arg(formatBytes(r.memory.total), r.memory.fits ? QString() : tr(" <b style='color:#c62828'>does not fit</b>"));
    if (r.oversubscribed) h += tr(" · oversubscribed (×%1 contention)").arg(formatNumber(r.contention, 3));
    h += tr("<br><small>compute rates: %1</small>").arg(o.ratesSource.toHtmlEscaped());
    headline_->setText(h);

    // Speedup over dp: the projection and the measured points of the file's study.
    auto* chart = new QChart;
    chart->setTitle(tr("Projected speedup over dp (analytic engine) and measured points"));
    double pMax = 2, sMax = 2;
    auto* proj = new QLineSeries;
    proj->setName(tr("projected"));
    proj->setPointsVisible(true);
    proj->setPen(QPen(QColor(0x2f, 0x6f, 0xdb), 2.5));
    for (const CurvePoint& c : o.curve) {
        proj->append(c.p, c.speedup);
        pMax = std::max(pMax, static_cast<double>(c.p));
        sMax = std::max(sMax, c.speedup);
    }
    auto* meas = new QScatterSeries;
    meas->setName(tr("measured"));
    meas->setMarkerSize(12);
    meas->setColor(QColor(0x1e, 0x22, 0x28));
    if (measured_)
        for (const ScalingPoint& p : measured_->points) {
            meas->append(p.p, p.speedup);
            sMax = std::max(sMax, p.speedup);
        }
    auto* x = makePAxis(true, 1, pMax);
    auto* y = new QValueAxis;
    y->setRange(0, sMax * 1.15);
    y->setTitleText(tr("speedup"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    auto* ideal = curveSeries(tr("ideal"), [](double p) { return p; }, 1, std::min(pMax, sMax * 1.15), true, Qt::gray, Qt::DashLine);
    for (QAbstractSeries* s : {static_cast<QAbstractSeries*>(ideal), static_cast<QAbstractSeries*>(proj), static_cast<QAbstractSeries*>(meas)}) {
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    }
    chart->legend()->setAlignment(Qt::AlignBottom);
    setChart(curve_, chart);

    // The predicted breakdown of the current configuration.
    auto* bc = new QChart;
    bc->setTitle(tr("Predicted step breakdown (ms, mean over ranks)"));
    auto* series = new QHorizontalStackedBarSeries;
    const QColor colors[kPartCount] = {QColor(0x2f, 0x6f, 0xdb), QColor(0xe8, 0x6a, 0x1c), QColor(0xa2, 0x4c, 0xd6),
                                       QColor(0xd6, 0xa5, 0x1c), QColor(0xc6, 0x28, 0x28), QColor(0x9a, 0xa0, 0xa8),
                                       QColor(0xd5, 0xd9, 0xde)};
    for (int p = 0; p < kPartCount; ++p) {
        const auto name = to_string(static_cast<Part>(p));
        auto* set = new QBarSet(QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size())).replace(QLatin1Char('_'), QLatin1Char(' ')));
        *set << r.breakdown.part(static_cast<Part>(p)) / 1e6;
        set->setColor(colors[p]);
        series->append(set);
    }
    bc->addSeries(series);
    auto* cat = new QBarCategoryAxis;
    cat->append(tr("world %1").arg(r.world));
    auto* val = new QValueAxis;
    val->setRange(0, std::max(1e-6, r.breakdown.step_ns / 1e6 * 1.05));
    bc->addAxis(cat, Qt::AlignLeft);
    bc->addAxis(val, Qt::AlignBottom);
    series->attachAxis(cat);
    series->attachAxis(val);
    bc->legend()->setAlignment(Qt::AlignBottom);
    setChart(breakdown_, bc);
    // Chart themes reset series colours: set them again.
    for (int p = 0; p < kPartCount && p < series->count(); ++p) series->barSets()[p]->setColor(colors[p]);
}

void WhatIfPage::replayRun() {
    const RunData* r = sel_.runData();
    if (!r) {
        replay_->setText(tr("Select a run to replay."));
        return;
    }
    TraceWhatIf w;
    w.compute = sliderFactor(compute_->value());
    w.bandwidth = sliderFactor(bandwidth_->value());
    w.latency = sliderFactor(latency_->value());
    w.overlap = overlap_->isChecked();
    const int i = hwCombo_->currentIndex();
    if (i >= 0 && i < static_cast<int>(hardware_.size())) w.base = hardware_[static_cast<size_t>(i)].hw;
    // dp and micro-batches other than recorded reshape the run (core/sim_trace.h); tp and pp cannot.
    if (tp_->value() != baseSpec_.parallel.tp || pp_->value() != baseSpec_.parallel.pp) {
        replay_->setText(tr("A recorded run replays with its own tp and pp (tp %1, pp %2): change dp or micro-batches, "
                            "or compare layouts with the simulation above.")
                             .arg(baseSpec_.parallel.tp).arg(baseSpec_.parallel.pp));
        return;
    }
    if (dp_->value() != baseSpec_.parallel.dp) w.dp = dp_->value();
    if (micro_->value() != baseSpec_.parallel.micro_batches) w.micro_batches = micro_->value();
    DocumentPtr doc = sel_.doc;
    const RunId run = r->info.id;
    replay_->setText(tr("Replaying…"));
    sideJob_ = startJob<TraceReplayResult>(
        this, [doc, run, w](const CancelToken&) {
            return doc->withReader("analysis", [&](TraceReader& rd) { return replay_trace(rd, run, w); });
        },
        [this](TraceReplayResult t) {
            if (t.reshaped) {
                replay_->setText(tr("Run #%1 reshaped from %2 to <b>%3</b>: <b>%4</b> per step (measured %5; the same model on "
                                    "the recorded layout: %6). Compute from rates fitted on the run, network from <i>%7</i>.")
                                     .arg(t.run.id.value).arg(fromStd(t.layout_recorded)).arg(fromStd(t.layout_predicted))
                                     .arg(formatDuration(t.replay.step_s * 1e9)).arg(formatDuration(t.measured_step_s * 1e9))
                                     .arg(formatDuration(t.model_recorded_s * 1e9))
                                     .arg(hwCombo_->currentText().toHtmlEscaped()));
                return;
            }
            replay_->setText(tr("Step %1 of run #%2: measured <b>%3</b>, replayed with these knobs <b>%4</b> (%5 ops, %6 collectives, %7 messages)")
                                 .arg(t.step).arg(t.run.id.value).arg(formatDuration(t.measured_step_s * 1e9))
                                 .arg(formatDuration(t.replay.step_s * 1e9)).arg(t.ops).arg(t.collectives).arg(t.messages));
        },
        [this](const QString& e) { replay_->setText(tr("Cannot replay: %1").arg(e.toHtmlEscaped())); });
}

void WhatIfPage::validate() {
    if (!sel_.doc) return;
    Hardware hw;
    try {
        hw = hardware_.at(static_cast<size_t>(std::max(0, hwCombo_->currentIndex()))).hw;
    } catch (const std::exception&) {
        validation_->setText(tr("No hardware description."));
        return;
    }
    DocumentPtr doc = sel_.doc;
    StudyId study = sel_.study;
    validation_->setText(tr("Validating…"));
    sideJob_ = startJob<ValidationReport>(
        this, [doc, hw, study](const CancelToken&) {
            return doc->withReader("analysis", [&](TraceReader& rd) { return validate_runs(rd, hw, study); });
        },
        [this](ValidationReport v) {
            validation_->setText(tr("Calibration <i>%1</i>: mean absolute error analytic <b>%2</b>, replay <b>%3</b> over %4 layouts (%8 runs, repeats as one); "
                                    "oversubscribed layouts: analytic %5, replay %6 over %7")
                                     .arg(fromStd(v.hardware).toHtmlEscaped()).arg(formatPercent(v.mae_analytic)).arg(formatPercent(v.mae_replay))
                                     .arg(v.predicted).arg(formatPercent(v.mae_analytic_over)).arg(formatPercent(v.mae_replay_over))
                                     .arg(v.predicted_over).arg(v.runs));
        },
        [this](const QString& e) { validation_->setText(tr("Cannot validate: %1").arg(e.toHtmlEscaped())); });
}

}  // namespace ss::gui

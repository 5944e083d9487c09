#include "gui/whatif/whatifpage.h"

#include <QApplication>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QPushButton>
#include <QScatterSeries>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTimer>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>

#include "core/launch/launcher.h"
#include "core/sim/sim_trace.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"

namespace ss::gui {

using namespace ss::core;
using namespace ss::traces;

double sliderFactor(int position) { return std::pow(2.0, position / 10.0); }
int factorSlider(double factor) { return static_cast<int>(std::lround(10 * std::log2(factor))); }

namespace {

QString dateOf(qint64 unixNs) {
    if (unixNs <= 0) return {};
    return QDateTime::fromMSecsSinceEpoch(unixNs / 1000000).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

QString shortHost(const QString& host) { return host.section(QLatin1Char('.'), 0, 0); }

}  // namespace

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

QString userHardwareDir() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/hardware");
}

HardwareChoice readHardwareChoice(const QString& path, HardwareChoice::Origin origin) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw HardwareError(path.toStdString() + ": cannot read the hardware file: " + f.errorString().toStdString());
    const QByteArray text = f.readAll();
    const nlohmann::json doc = nlohmann::json::parse(text.constData(), text.constData() + text.size(), nullptr, false,
                                                     /*ignore_comments=*/true);
    if (doc.is_discarded()) throw HardwareError(path.toStdString() + ": not a JSON document");
    HardwareChoice c;
    c.hw = parse_hardware(doc, path.toStdString());
    c.origin = origin;
    c.path = QFileInfo(path).absoluteFilePath();
    if (auto h = doc.find("hosts"); h != doc.end() && h->is_array())
        for (const auto& x : *h)
            if (x.is_string()) c.hosts << fromStd(x.get<std::string>());
    const QString file = QFileInfo(path).fileName();
    const QString date = dateOf(doc.value("created_unix_ns", std::int64_t{0}));
    const int ranks = doc.value("ranks", 0);
    const QString host = c.hosts.isEmpty() ? QString() : shortHost(c.hosts.first());
    if (origin == HardwareChoice::Origin::User && has_inter_fit(c.hw)) {
        // A calibration across hosts (`calibrate --hostfile`): a cluster, its links in two levels.
        c.name = QObject::tr("cluster of %1 hosts from %2 (calibrated %3)").arg(c.hosts.size()).arg(host, date);
        c.label = c.name;
    } else if (origin == HardwareChoice::Origin::User) {
        c.name = (host == shortHost(QSysInfo::machineHostName()) || host.isEmpty())
                     ? QObject::tr("this machine (calibrated %1)").arg(date)
                     : QObject::tr("%1 (calibrated %2)").arg(host, date);
        c.label = c.name;
    } else if (c.hw.calibrated) {
        c.name = QObject::tr("example: %1 ranks calibrated on %2").arg(ranks).arg(host.isEmpty() ? QObject::tr("a host") : host);
        c.label = QObject::tr("example: calibrated on %1 (%2 ranks), measured on another computer — %3")
                      .arg(host.isEmpty() ? QObject::tr("a host") : host)
                      .arg(ranks)
                      .arg(file);
    } else {
        c.name = QObject::tr("example: %1").arg(fromStd(c.hw.name));
        c.label = QObject::tr("example: %1, from public specs — %2").arg(fromStd(c.hw.name), file);
    }
    // Whether the figures were measured, as the file says (core/sim/hardware.h provenance_label):
    // "(measured)", "(datasheet)", "(not measured)", "(measured: unknown)".
    if (origin == HardwareChoice::Origin::Example)
        c.label += QStringLiteral(" (%1)").arg(fromStd(provenance_label(c.hw)));
    if (const std::string lv = levels_label(c.hw); !lv.empty()) c.label += QStringLiteral(" — ") + fromStd(lv);
    // A held-out validation stored with the file (`simulate --validate ... --store-band`).
    if (c.hw.validation.present && c.hw.validation.points > 0)
        c.label += QObject::tr(" — validated ± %1").arg(formatPercent(c.hw.validation.mean_abs_err));
    return c;
}

std::vector<HardwareChoice> hardwarePresets(QStringList* problems) {
    std::vector<HardwareChoice> out;
    const QString dir = hardwarePresetDir();
    if (dir.isEmpty()) return out;
    for (const QString& f : QDir(dir).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
        try {
            out.push_back(readHardwareChoice(QDir(dir).filePath(f), HardwareChoice::Origin::Example));
        } catch (const std::exception& e) {
            // A preset that does not parse is not offered, and the page says why.
            if (problems) *problems << QObject::tr("hardware example %1 is not offered: %2").arg(f, fromStd(e.what()));
        }
    }
    return out;
}

std::vector<HardwareChoice> userCalibrations(QStringList* problems) {
    std::vector<HardwareChoice> out;
    const QDir dir(userHardwareDir());
    // Newest first: the files are named <host>-<yyyyMMdd-HHmmss>.json; sort by time written.
    for (const QFileInfo& f : dir.entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Time)) {
        try {
            out.push_back(readHardwareChoice(f.absoluteFilePath(), HardwareChoice::Origin::User));
        } catch (const std::exception& e) {
            // A file that does not parse (written by hand, truncated) is not offered, and the page says why.
            if (problems)
                *problems << QObject::tr("your calibration %1 is not offered: %2").arg(f.fileName(), fromStd(e.what()));
        }
    }
    return out;
}

WhatIfPage::WhatIfPage(QWidget* parent) : Page(parent) {
    hwCombo_ = new QComboBox;
    hwCombo_->setObjectName(QStringLiteral("whatifHardware"));
    hwCombo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    hwCombo_->setMinimumContentsLength(14);
    fitted_ = new QCheckBox(tr("compute rates fitted on the run"));
    fitted_->setObjectName(QStringLiteral("whatifFittedRates"));
    fitted_->setToolTip(tr("Time compute with the rates fitted on the selected run (its measured kernels) instead of the "
                           "hardware's own; off by default when the hardware is not the machine the run was recorded on"));
    fitted_->setEnabled(false);  // until a run's rates are fitted
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
    overlap_ = new QCheckBox(tr("overlap DP reduction with backward"));
    overlap_->setChecked(true);
    weak_ = new QCheckBox(tr("weak scaling (per-rank batch fixed)"));
    auto slider = [this](QLabel*& label) {
        auto* s = new QSlider(Qt::Horizontal);
        s->setRange(-30, 30);
        s->setValue(0);
        label = new QLabel(QStringLiteral("×1"));
        label->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("×0.125")));
        connect(s, &QSlider::valueChanged, this, [this, label](int v) {
            label->setText(QStringLiteral("×%1").arg(formatNumber(sliderFactor(v), 3)));
            simulate();
        });
        return s;
    };
    compute_ = slider(computeLabel_);
    bandwidth_ = slider(bandwidthLabel_);
    latency_ = slider(latencyLabel_);
    compute_->setObjectName(QStringLiteral("whatifCompute"));
    bandwidth_->setObjectName(QStringLiteral("whatifBandwidth"));
    for (QCheckBox* c : {fitted_, overlap_, weak_}) connect(c, &QCheckBox::toggled, this, &WhatIfPage::simulate);
    connect(hwCombo_, &QComboBox::currentIndexChanged, this, &WhatIfPage::hardwareChanged);

    calibrateButton_ = new QPushButton(tr("Calibrate this machine"));
    calibrateButton_->setObjectName(QStringLiteral("whatifCalibrate"));
    calibrateButton_->setToolTip(tr("Measure this computer's collectives, matrix-product rate and memory bandwidth "
                                    "(scalescope-cli calibrate), keep the hardware file with your data and store it in "
                                    "the open trace file (the Summary page's MFU takes its peak from it)"));
    connect(calibrateButton_, &QPushButton::clicked, this, &WhatIfPage::calibrate);
    cancelCalibrateButton_ = new QPushButton(tr("Cancel"));
    cancelCalibrateButton_->setObjectName(QStringLiteral("whatifCalibrateCancel"));
    cancelCalibrateButton_->setVisible(false);
    connect(cancelCalibrateButton_, &QPushButton::clicked, this, &WhatIfPage::cancelCalibration);
    calibStatus_ = new QLabel;
    calibStatus_->setObjectName(QStringLiteral("whatifCalibrateStatus"));
    calibStatus_->setWordWrap(true);
    calibStatus_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    calibStatus_->setVisible(false);
    calibTick_ = new QTimer(this);
    calibTick_->setInterval(500);
    connect(calibTick_, &QTimer::timeout, this, &WhatIfPage::updateCalibrationStatus);

    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(tr("Hardware"), hwCombo_);
    auto* calRow = new QHBoxLayout;
    calRow->addWidget(calibrateButton_);
    calRow->addWidget(cancelCalibrateButton_);
    calRow->addStretch(1);
    form->addRow(QString(), calRow);
    form->addRow(QString(), calibStatus_);
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
    form->addRow(tr("Compute"), row(compute_, computeLabel_));
    form->addRow(tr("Bandwidth"), row(bandwidth_, bandwidthLabel_));
    form->addRow(tr("Latency"), row(latency_, latencyLabel_));
    form->addRow(QString(), weak_);

    replayButton_ = new QPushButton(tr("Replay this run"));
    replayButton_->setObjectName(QStringLiteral("whatifReplay"));
    replayButton_->setToolTip(tr("Re-time the recorded step of the selected run with the trace-driven engine and the knobs above; "
                                 "another dp or number of micro-batches reshapes the run (compute fitted on it)"));
    connect(replayButton_, &QPushButton::clicked, this, &WhatIfPage::replayRun);
    validateButton_ = new QPushButton(tr("Validate calibration"));
    validateButton_->setObjectName(QStringLiteral("whatifValidate"));
    validateButton_->setToolTip(tr("Predict every run of the file with this hardware and compare with the measured step times"));
    connect(validateButton_, &QPushButton::clicked, this, &WhatIfPage::validate);
    replay_ = new QLabel;
    replay_->setObjectName(QStringLiteral("whatifReplayResult"));
    replay_->setWordWrap(true);
    validation_ = new QLabel;
    validation_->setObjectName(QStringLiteral("whatifValidationResult"));
    validation_->setWordWrap(true);

    auto* knobs = new QGroupBox(tr("Knobs"));
    auto* kl = new QVBoxLayout(knobs);
    kl->addLayout(form);
    kl->addWidget(replayButton_);
    kl->addWidget(replay_);
    kl->addWidget(validateButton_);
    kl->addWidget(validation_);
    kl->addStretch(1);
    // The knobs scroll on their own when the window is short: the charts keep the height there is.
    auto* knobsScroll = new QScrollArea;
    knobsScroll->setObjectName(QStringLiteral("whatifKnobsScroll"));
    knobsScroll->setWidget(knobs);
    knobsScroll->setWidgetResizable(true);
    knobsScroll->setFrameShape(QFrame::NoFrame);
    knobsScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    knobsScroll->setMinimumWidth(300);
    knobsScroll->setMaximumWidth(400);

    headline_ = new QLabel;
    headline_->setObjectName(QStringLiteral("whatifHeadline"));
    headline_->setWordWrap(true);
    // The prediction's error: the held-out validation stored in the hardware file (or that none is).
    band_ = new QLabel;
    band_->setObjectName(QStringLiteral("whatifErrorBand"));
    band_->setWordWrap(true);
    band_->setTextFormat(Qt::RichText);
    band_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // What could not be read or simulated (a file, a calibration, a dp of the curve): said here.
    warnings_ = new QLabel;
    warnings_->setObjectName(QStringLiteral("whatifWarnings"));
    warnings_->setWordWrap(true);
    warnings_->setTextFormat(Qt::RichText);
    warnings_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    warnings_->setStyleSheet(QStringLiteral("color:#b45309;"));
    warnings_->setVisible(false);
    curve_ = makeChartView(QStringLiteral("whatif-scaling"));
    curve_->setObjectName(QStringLiteral("whatifCurve"));
    breakdown_ = makeChartView(QStringLiteral("whatif-breakdown"));
    breakdown_->setObjectName(QStringLiteral("whatifBreakdown"));
    breakdown_->setMinimumHeight(150);
    breakdown_->setMaximumHeight(200);
    // The breakdown's legend: a wrapping label, so every part keeps its whole name at any width.
    legend_ = new QLabel;
    legend_->setObjectName(QStringLiteral("whatifBreakdownLegend"));
    legend_->setWordWrap(true);
    auto* right = new QWidget;
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    rl->addWidget(headline_);
    rl->addWidget(band_);
    rl->addWidget(warnings_);
    rl->addWidget(curve_, 1);
    rl->addWidget(breakdown_);
    rl->addWidget(legend_);

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(knobsScroll);
    split->addWidget(right);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);

    // A default spec: the GPT tiny preset, until a run is selected.
    baseSpec_ = parse_spec(nlohmann::json{{"model", {{"kind", "gpt"}, {"preset", "tiny"}}}}).spec;
    rebuildHardware({}, {});
    // No run yet: the default spec on the default hardware.
    simulate();
}

WhatIfPage::~WhatIfPage() {
    if (calib_) {
        // The window closes: stop the calibration (the CLI cancels its mpirun job on SIGTERM).
        calib_->disconnect(this);
        calib_->terminate();
        if (!calib_->waitForFinished(10000)) calib_->kill();
        calib_->waitForFinished(2000);
    }
}

void WhatIfPage::setSelection(const Selection& s) {
    if (s.doc == sel_.doc && s.run == sel_.run && s.study == sel_.study) return;
    sel_ = s;
    loadContext();
}

// The file's calibrations first, then this user's, then the examples; selects `selectPath` (a
// user calibration) when given, else the hardware the run was recorded on when one is known.
void WhatIfPage::rebuildHardware(const std::vector<HardwareChoice>& fileCalibrations, const QString& selectPath) {
    QSignalBlocker block(hwCombo_);
    hardware_ = fileCalibrations;
    hardwareWarnings_.clear();
    for (auto& h : userCalibrations(&hardwareWarnings_)) hardware_.push_back(std::move(h));
    for (auto& h : hardwarePresets(&hardwareWarnings_)) hardware_.push_back(std::move(h));
    showWarnings();
    hwCombo_->clear();
    for (const auto& h : hardware_) {
        hwCombo_->addItem(h.label);
        hwCombo_->setItemData(hwCombo_->count() - 1, h.label, Qt::ToolTipRole);
    }
    int pick = -1;
    auto first = [&](auto pred) {
        for (int k = 0; k < static_cast<int>(hardware_.size()); ++k)
            if (pred(hardware_[static_cast<std::size_t>(k)])) return k;
        return -1;
    };
    if (!selectPath.isEmpty()) pick = first([&](const HardwareChoice& h) { return h.path == selectPath; });
    // The machine the run was recorded on: a calibration (the file's, then this user's) measured there.
    if (pick < 0) pick = first([&](const HardwareChoice& h) { return h.origin != HardwareChoice::Origin::Example && isRunMachine(h); });
    // A CPU run with no calibration of its machine: this user's calibration of this computer, else
    // the calibrated example (a CPU machine) rather than a GPU node.
    if (pick < 0 && baseSpec_.backend.device == "cpu") {
        pick = first([](const HardwareChoice& h) { return h.origin != HardwareChoice::Origin::Example; });
        if (pick < 0) pick = first([](const HardwareChoice& h) { return h.hw.calibrated; });
    }
    hwCombo_->setCurrentIndex(std::max(0, pick));
    if (hwCombo_->count() > 0) hwCombo_->setToolTip(hwCombo_->currentText());
}

const HardwareChoice* WhatIfPage::currentChoice() const {
    const int i = hwCombo_->currentIndex();
    if (i < 0 || i >= static_cast<int>(hardware_.size())) return nullptr;
    return &hardware_[static_cast<std::size_t>(i)];
}

// The hardware was measured where the selected run ran (a calibration on one of its hosts). An
// example shipped with ScaleScope never is, whatever its host was called.
bool WhatIfPage::isRunMachine(const HardwareChoice& c) const {
    if (c.origin == HardwareChoice::Origin::Example) return false;
    for (const QString& h : c.hosts)
        for (const QString& r : runHosts_)
            if (shortHost(h) == shortHost(r)) return true;
    return false;
}

// Another machine: its own compute rates (the run's fitted ones describe the machine it ran on);
// the machine the run was recorded on: the fitted ones. The user can tick either way after.
void WhatIfPage::hardwareChanged() {
    if (const HardwareChoice* c = currentChoice()) {
        QSignalBlocker b(fitted_);
        fitted_->setChecked(fittedRates_.has_value() && isRunMachine(*c));
        hwCombo_->setToolTip(c->label);
    }
    simulate();
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
        QStringList warnings;  // what could not be read: shown on the page, never dropped
    };
    const RunData* r = sel_.runData();
    DocumentPtr doc = sel_.doc;
    std::optional<RunInfo> run;
    runHosts_.clear();
    runDevice_.clear();
    if (r) {
        run = r->info;
        for (const RankInfo& k : r->ranks)
            if (!k.host.empty() && !runHosts_.contains(fromStd(k.host))) runHosts_ << fromStd(k.host);
        runDevice_ = r->info.backend == "cuda" ? tr("GPU") : fromStd(r->info.backend).toUpper();
    }
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
                    try {
                        c.spec = run_spec(*run);
                    } catch (const std::exception& e) {
                        c.warnings << QObject::tr("The run's spec cannot be read (%1): the knobs keep the spec shown before.")
                                          .arg(fromStd(e.what()));
                    }
                    try {
                        c.rates = fit_compute_rates(rd, run->id);
                    } catch (const std::exception& e) {
                        c.warnings << QObject::tr("No compute rates could be fitted on the run (%1): compute is timed "
                                                  "with the hardware's own rates.")
                                          .arg(fromStd(e.what()));
                    }
                }
                const auto cals = rd.calibrations();
                for (auto it = cals.rbegin(); it != cals.rend(); ++it) {  // newest first
                    const Calibration& cal = *it;
                    try {
                        const nlohmann::json j = nlohmann::json::parse(cal.hardware_json);
                        HardwareChoice h;
                        h.hw = parse_hardware(j, "calibration " + std::to_string(cal.id.value));
                        h.origin = HardwareChoice::Origin::File;
                        if (auto hs = j.find("hosts"); hs != j.end() && hs->is_array())
                            for (const auto& x : *hs)
                                if (x.is_string()) h.hosts << fromStd(x.get<std::string>());
                        if (h.hosts.isEmpty() && !cal.host.empty()) h.hosts << fromStd(cal.host);
                        // A calibration across hosts names them all and its two levels.
                        const QString where = has_inter_fit(h.hw) ? h.hosts.join(QStringLiteral(" + ")) : fromStd(cal.host);
                        h.name = QObject::tr("calibration #%1 (%2)").arg(cal.id.value).arg(where);
                        h.label = QObject::tr("calibration #%1 in this file (%2, %3)")
                                      .arg(cal.id.value)
                                      .arg(where, dateOf(cal.created_unix_ns));
                        if (const std::string lv = levels_label(h.hw); !lv.empty())
                            h.label += QStringLiteral(" — ") + fromStd(lv);
                        c.calibrations.push_back(std::move(h));
                    } catch (const std::exception& e) {
                        c.warnings << QObject::tr("Calibration #%1 in this file is not offered: %2")
                                          .arg(cal.id.value)
                                          .arg(fromStd(e.what()));
                    }
                }
                if (study.valid()) {
                    try {
                        c.measured = analyze_study(rd, study);
                    } catch (const std::exception& e) {
                        c.warnings << QObject::tr("The study's measured points cannot be shown: %1").arg(fromStd(e.what()));
                    }
                }
                return 0;
            });
            return c;
        },
        [this](Context c) {
            if (c.spec) baseSpec_ = *c.spec;
            fittedRates_ = c.rates;
            measured_ = c.measured;
            contextWarnings_ = c.warnings;
            showWarnings();
            {
                QSignalBlocker b1(hwCombo_), b2(dp_), b3(tp_), b4(pp_), b5(micro_), b6(overlap_), b7(fitted_);
                rebuildHardware(c.calibrations, pendingHardwarePath_);
                pendingHardwarePath_.clear();
                dp_->setValue(baseSpec_.parallel.dp);
                tp_->setValue(baseSpec_.parallel.tp);
                pp_->setValue(baseSpec_.parallel.pp);
                micro_->setValue(baseSpec_.parallel.micro_batches);
                overlap_->setChecked(baseSpec_.parallel.overlap);
                const HardwareChoice* h = currentChoice();
                fitted_->setChecked(fittedRates_.has_value() && h && isRunMachine(*h));
            }
            fitted_->setEnabled(fittedRates_.has_value());
            contextReady_ = true;
            simulate();
        },
        [this](const QString& e) {
            headline_->setText(tr("Cannot read the run: %1").arg(e.toHtmlEscaped()));
            contextWarnings_ = {tr("Cannot read the run: %1").arg(e)};
            showWarnings();
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
    const HardwareChoice* c = currentChoice();
    if (!c) throw std::runtime_error("no hardware description found (examples/hardware)");
    return scaled(c->hw,
                  HardwareScale{sliderFactor(compute_->value()), sliderFactor(bandwidth_->value()), sliderFactor(latency_->value())});
}

void WhatIfPage::simulate() {
    updateStale();
    if (!contextReady_) return;
    job_.cancel();
    setReady(false);
    Hardware hw;
    try {
        hw = currentHardware();
    } catch (const std::exception& e) {
        headline_->setText(fromStd(e.what()).toHtmlEscaped());
        band_->clear();
        setReady(true);
        return;
    }
    const HardwareChoice& choice = *currentChoice();
    const ExperimentSpec spec = currentSpec();
    SimOptions opt;
    const QString hwName = choice.name.toHtmlEscaped();
    const bool sameMachine = isRunMachine(choice);
    const QString recordedOn = runHosts_.isEmpty() ? runDevice_ : tr("%1, %2").arg(runDevice_, runHosts_.join(QStringLiteral(", ")));
    QString note;
    if (fitted_->isChecked() && fittedRates_) {
        ComputeRates r = *fittedRates_;
        const double k = sliderFactor(compute_->value());
        r.matmul_flop_per_s *= k;
        r.memory_bytes_per_s *= k;
        r.optimizer_bytes_per_s *= k;
        opt.rates = r;
        if (sameMachine)
            note = tr("compute rates: %1").arg(fromStd(r.source).toHtmlEscaped());
        else
            note = tr("<b style='color:#b35900'>compute rates fitted on this run (%1), not measured on %2:</b> the step time is "
                      "this run's compute speed, the MFU compares it with %2's peak. Untick “compute rates fitted on the "
                      "run” for %2's own rates.")
                       .arg(recordedOn.toHtmlEscaped(), hwName);
    } else {
        note = tr("compute rates: the hardware's own (its peak FLOP/s and memory bandwidth)");
        if (fittedRates_ && !sameMachine)
            note += tr("; the run (%1) was not recorded on this hardware: tick “compute rates fitted on the run” to "
                       "time compute at the run's measured speed instead")
                        .arg(recordedOn.toHtmlEscaped());
    }
    if (choice.origin == HardwareChoice::Origin::Example)
        note += choice.hw.calibrated
                    ? tr("<br><b>%1</b> is an example measured on another computer, not this one: "
                         "<i>Calibrate this machine</i> measures yours.")
                          .arg(hwName)
                    : tr("<br><b>%1</b> is an example from public specs.").arg(hwName);

    const bool weak = weak_->isChecked();
    const bool scaledKnobs = compute_->value() != 0 || bandwidth_->value() != 0 || latency_->value() != 0;
    // The hardware the prediction is for, with the compute multiplier when it is not ×1.
    QString name = choice.name;
    if (compute_->value() != 0) name += tr(" with compute ×%1").arg(formatNumber(sliderFactor(compute_->value()), 3));
    job_ = startJob<Outcome>(
        this,
        [spec, hw, opt, weak, note, name, scaledKnobs](const CancelToken&) {
            Outcome o;
            o.current = simulate_analytic(spec, hw, opt);
            o.band = error_band(hw, spec, o.current.oversubscribed);
            o.scaledKnobs = scaledKnobs;
            o.ratesNote = note;
            o.hardwareName = name;
            o.fittedRates = opt.rates.has_value();
            std::vector<int> values;
            for (int v = 1; v <= 64; v *= 2) values.push_back(v);
            try {
                o.curve = scaling_curve(spec, hw, "dp", values, weak, opt);
            } catch (const std::exception&) {
                // e.g. a dp that does not divide the batch: fewer points, and the page names the
                // ones left out with the first reason.
                std::vector<int> ok;
                QStringList left;
                QString why;
                for (int v : values) {
                    try {
                        auto one = scaling_curve(spec, hw, "dp", {1, v}, weak, opt);
                        ok.push_back(v);
                    } catch (const std::exception& e) {
                        left << QString::number(v);
                        if (why.isEmpty()) why = fromStd(e.what()).simplified();
                    }
                }
                if (!ok.empty()) o.curve = scaling_curve(spec, hw, "dp", ok, weak, opt);
                o.warnings << QObject::tr("Not on the projected curve: dp %1 (%2)").arg(left.join(QStringLiteral(", ")), why);
            }
            return o;
        },
        [this](Outcome o) {
            curveWarnings_ = o.warnings;
            showWarnings();
            show(o);
            setReady(true);
        },
        [this](const QString& e) {
            curveWarnings_.clear();
            showWarnings();
            headline_->setText(tr("<b>Cannot simulate:</b> %1").arg(e.toHtmlEscaped()));
            band_->clear();
            setChart(curve_, new QChart);
            setReady(true);
        });
}

void WhatIfPage::showWarnings() {
    QStringList all;
    for (const QStringList* l : {&contextWarnings_, &hardwareWarnings_, &curveWarnings_})
        for (const QString& w : *l) all << w.toHtmlEscaped();
    warnings_->setText(all.join(QStringLiteral("<br>")));
    warnings_->setVisible(!all.isEmpty());
}

void WhatIfPage::showBand(const Outcome& o) {
    const ErrorBand& b = o.band;
    const QString step = formatDuration(o.current.step_s * 1e9);
    if (!b.backed) {
        band_->setText(tr("<b>Error band:</b> <span style='color:#b35900'>none — no validation backs %1</span>, so how far "
                          "step %2 may be off is not known here.<br><small>Record a study on this machine and run "
                          "<tt>scalescope-cli simulate --validate STUDY.sqlite --hardware HW.json --store-band</tt> to "
                          "measure the simulator's error and store it with the hardware file.</small>")
                           .arg(o.hardwareName.toHtmlEscaped(), step));
        return;
    }
    QString t = tr("<b>Error band:</b> step %1 <b>± %2</b> (held-out validation of %3 points%4, %5 of repeats, %6)")
                    .arg(step, formatPercent(b.rel))
                    .arg(b.total_points)
                    .arg(b.scope == "all layouts" ? QString() : tr("; %1: %2").arg(fromStd(b.scope)).arg(b.points),
                         fromStd(b.statistic.empty() ? std::string("median") : b.statistic), fromStd(b.date));
    if (o.scaledKnobs)
        t += tr("<br><small style='color:#b35900'>Measured on the hardware as it is: the compute, bandwidth and latency "
                "factors move this prediction away from what was validated.</small>");
    band_->setText(t);
}

void WhatIfPage::show(const Outcome& o) {
    const SimResult& r = o.current;
    QString h = tr("<b>Predicted</b> for world %1: step <b>%2</b>").arg(r.world).arg(formatDuration(r.step_s * 1e9));
    if (r.tokens_per_s > 0) h += tr(" · %1").arg(formatRate(r.tokens_per_s, tr("tokens/s")));
    else if (r.samples_per_s > 0) h += tr(" · %1").arg(formatRate(r.samples_per_s, tr("samples/s")));
    // The simulator's MFU: model FLOP/s ÷ (peak per rank × world), the Summary page's definition,
    // with the chosen hardware's peak: a prediction for that hardware, not a measurement.
    if (r.mfu > 0) h += tr(" · predicted MFU on %1: %2").arg(o.hardwareName.toHtmlEscaped(), formatPercent(r.mfu));
    else if (!r.mfu_note.empty())  // never a value above 100 %: say which number to doubt
        h += tr(" · predicted MFU on %1: – <b style='color:#b35900'>(%2%3)</b>")
                 .arg(o.hardwareName.toHtmlEscaped(), fromStd(r.mfu_note).toHtmlEscaped(),
                      o.fittedRates ? tr("; the compute rates fitted on the run are faster than this hardware's peak")
                                    : QString());
    if (r.hfu > 0 && r.hfu > r.mfu * (1 + 1e-9))  // recomputation: the kernels do more than the model needs
        h += tr(" (HFU %1)").arg(formatPercent(r.hfu));
    // Memory per rank against the device's (the verdict of core/sim memory_verdict).
    if (r.memory.capacity > 0)
        h += tr(" · memory %1 of %2 per rank%3")
                 .arg(formatBytes(r.memory.total), formatBytes(r.memory.capacity),
                      r.memory.fits ? QString() : tr(" <b style='color:#c62828'>does not fit</b>"));
    else
        h += tr(" · memory %1 per rank (the device's memory is not stated)").arg(formatBytes(r.memory.total));
    if (r.oversubscribed) h += tr(" · oversubscribed (×%1 contention)").arg(formatNumber(r.contention, 3));
    if (r.ps.enabled) {  // the parameter server (docs/SIMULATOR.md "Parameter server and staleness")
        double busiest = 0;
        for (double u : r.ps.server_utilisation) busiest = std::max(busiest, u);
        h += tr("<br>Parameter server (%1, %2 server(s)): %3 · slowest replica's step %4 · staleness %5 · "
                "busiest server %6")
                 .arg(fromStd(r.ps.mode).toHtmlEscaped())
                 .arg(r.ps.servers)
                 .arg(formatRate(r.ps.gradients_per_s, tr("gradients/s")), formatDuration(r.ps.job_step_s * 1e9),
                      formatNumber(r.ps.staleness_mean, 3), formatPercent(busiest));
    }
    h += tr("<br><small>%1</small>").arg(o.ratesNote);
    headline_->setText(h);
    showBand(o);

    // Speedup over dp: the projection and the measured points of the file's study.
    auto* chart = new QChart;
    chart->setTitle(tr("Speedup over dp: projected (analytic) and measured"));
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
            pMax = std::max(pMax, static_cast<double>(p.p));
        }
    // p in powers of two (the curve's points): the log₂ axis labels 1, 2, 4, … only.
    pMax = std::exp2(std::ceil(std::log2(pMax)));
    auto* x = makePAxis(true, 1, pMax);
    auto* y = makeValueAxis(0, sMax * 1.1, tr("speedup (×)"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    auto* ideal = idealSeries(tr("ideal (S = p)"), [](double p) { return p; }, 1, std::min(pMax, y->max()), true);
    for (QAbstractSeries* s : {static_cast<QAbstractSeries*>(ideal), static_cast<QAbstractSeries*>(proj), static_cast<QAbstractSeries*>(meas)}) {
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    }
    chart->legend()->setAlignment(Qt::AlignBottom);
    setChart(curve_, chart);

    // The predicted breakdown of the current configuration.
    auto* bc = new QChart;
    // The unit that keeps the tick labels short: ms, µs or ns.
    const double unitNs = r.breakdown.step_ns >= 1e6 ? 1e6 : r.breakdown.step_ns >= 1e3 ? 1e3 : 1;
    const QString unit = unitNs == 1e6 ? tr("ms") : unitNs == 1e3 ? tr("µs") : tr("ns");
    bc->setTitle(tr("Predicted step breakdown (%1, mean over ranks)").arg(unit));
    auto* series = new QHorizontalStackedBarSeries;
    const QColor colors[kPartCount] = {QColor(0x2f, 0x6f, 0xdb), QColor(0xe8, 0x6a, 0x1c), QColor(0xa2, 0x4c, 0xd6),
                                       QColor(0xd6, 0xa5, 0x1c), QColor(0xc6, 0x28, 0x28), QColor(0x9a, 0xa0, 0xa8),
                                       QColor(0xd5, 0xd9, 0xde)};
    QStringList legend;
    for (int p = 0; p < kPartCount; ++p) {
        const auto name = to_string(static_cast<Part>(p));
        const QString label = QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size())).replace(QLatin1Char('_'), QLatin1Char(' '));
        const double ns = r.breakdown.part(static_cast<Part>(p));
        auto* set = new QBarSet(label);
        *set << ns / unitNs;
        set->setColor(colors[p]);
        series->append(set);
        legend << tr("<span style='color:%1'>■</span>&nbsp;%2&nbsp;%3")
                      .arg(colors[p].name(), label.toHtmlEscaped().replace(QLatin1Char(' '), QStringLiteral("&nbsp;")),
                           formatDuration(ns).replace(QLatin1Char(' '), QStringLiteral("&nbsp;")));
    }
    bc->addSeries(series);
    auto* cat = new QBarCategoryAxis;
    cat->append(tr("world %1").arg(r.world));
    auto* val = makeValueAxis(0, r.breakdown.step_ns / unitNs * 1.02, QString(), 4);
    bc->addAxis(cat, Qt::AlignLeft);
    bc->addAxis(val, Qt::AlignBottom);
    series->attachAxis(cat);
    series->attachAxis(val);
    bc->legend()->setVisible(false);
    setChart(breakdown_, bc);
    legend_->setText(legend.join(QStringLiteral(" &nbsp; ")));
    // Chart themes reset series colours: set them again.
    for (int p = 0; p < kPartCount && p < series->count(); ++p) series->barSets()[p]->setColor(colors[p]);
}

// ---- Replay and validation: each text remembers the inputs it was computed with --------------

QString WhatIfPage::contextKey(bool study) const {
    const auto docKey = QString::number(reinterpret_cast<quintptr>(sel_.doc.get()));
    return study ? docKey + QStringLiteral("/s") + QString::number(sel_.study.value)
                 : docKey + QStringLiteral("/r") + QString::number(sel_.run.value);
}

QString WhatIfPage::replayKnobs() const {
    return QStringList{hwCombo_->currentText(),        QString::number(dp_->value()),       QString::number(tp_->value()),
                       QString::number(pp_->value()),  QString::number(micro_->value()),    QString::number(overlap_->isChecked()),
                       QString::number(compute_->value()), QString::number(bandwidth_->value()),
                       QString::number(latency_->value())}
        .join(QLatin1Char('|'));
}

QString WhatIfPage::validateKnobs() const { return hwCombo_->currentText(); }

void WhatIfPage::setSideResult(SideResult& r, QLabel* label, const QString& text, const QString& context, const QString& knobs) {
    r = SideResult{text, context, knobs};
    label->setText(text);
    updateStale();
}

// A result computed with other knobs (or for another run) than those shown says so, greyed, and
// its button is highlighted until it runs again; back to the same knobs, it is current again.
void WhatIfPage::updateStale() {
    struct Side {
        const SideResult& r;
        QLabel* label;
        QPushButton* button;
        QString context, knobs, again;
    };
    for (const Side& s : {Side{replayDone_, replay_, replayButton_, contextKey(false), replayKnobs(), tr("Replay again")},
                          Side{validateDone_, validation_, validateButton_, contextKey(true), validateKnobs(), tr("Validate again")}}) {
        if (s.r.text.isEmpty()) continue;
        const bool stale = s.r.context != s.context || s.r.knobs != s.knobs;
        if (stale) {
            const QString why = s.r.context != s.context ? tr("the selected run changed") : tr("the knobs changed");
            s.label->setText(tr("<b style='color:#b35900'>Out of date: %1 — %2.</b><br><span style='color:gray'>%3</span>")
                                 .arg(why, s.again, s.r.text));
        } else {
            s.label->setText(s.r.text);
        }
        if (s.button->property("stale").toBool() != stale) {
            s.button->setProperty("stale", stale);
            s.button->setStyleSheet(stale ? QStringLiteral("QPushButton { border: 2px solid #e08a00; border-radius: 4px; "
                                                           "padding: 4px 8px; font-weight: bold; }")
                                          : QString());
        }
    }
}

void WhatIfPage::replayRun() {
    const RunData* r = sel_.runData();
    const QString context = contextKey(false), knobs = replayKnobs();
    if (!r) {
        setSideResult(replayDone_, replay_, tr("Select a run to replay."), context, knobs);
        return;
    }
    TraceWhatIf w;
    w.compute = sliderFactor(compute_->value());
    w.bandwidth = sliderFactor(bandwidth_->value());
    w.latency = sliderFactor(latency_->value());
    w.overlap = overlap_->isChecked();
    if (const HardwareChoice* c = currentChoice()) w.base = c->hw;
    // dp and micro-batches other than recorded reshape the run (core/sim/sim_trace.h); tp and pp cannot.
    if (tp_->value() != baseSpec_.parallel.tp || pp_->value() != baseSpec_.parallel.pp) {
        setSideResult(replayDone_, replay_,
                      tr("A recorded run replays with its own tp and pp (tp %1, pp %2): change dp or micro-batches, "
                         "or compare layouts with the simulation above.")
                          .arg(baseSpec_.parallel.tp)
                          .arg(baseSpec_.parallel.pp),
                      context, knobs);
        return;
    }
    if (dp_->value() != baseSpec_.parallel.dp) w.dp = dp_->value();
    if (micro_->value() != baseSpec_.parallel.micro_batches) w.micro_batches = micro_->value();
    DocumentPtr doc = sel_.doc;
    const RunId run = r->info.id;
    const QString hwName = currentChoice() ? currentChoice()->name : QString();
    replayDone_ = {};
    replay_->setText(tr("Replaying…"));
    updateStale();
    sideJob_ = startJob<TraceReplayResult>(
        this, [doc, run, w](const CancelToken&) {
            return doc->withReader("analysis", [&](TraceReader& rd) { return replay_trace(rd, run, w); });
        },
        [this, context, knobs, hwName](TraceReplayResult t) {
            QString text;
            if (t.reshaped)
                text = tr("Run #%1 reshaped from %2 to <b>%3</b>: <b>%4</b> per step (measured %5; the same model on "
                          "the recorded layout: %6). Compute from rates fitted on the run, network from <i>%7</i>.")
                           .arg(t.run.id.value).arg(fromStd(t.layout_recorded)).arg(fromStd(t.layout_predicted))
                           .arg(formatDuration(t.replay.step_s * 1e9)).arg(formatDuration(t.measured_step_s * 1e9))
                           .arg(formatDuration(t.model_recorded_s * 1e9))
                           .arg(hwName.toHtmlEscaped());
            else
                text = tr("Step %1 of run #%2: measured <b>%3</b>, replayed with these knobs <b>%4</b> (%5 ops, %6 collectives, %7 messages)")
                           .arg(t.step).arg(t.run.id.value).arg(formatDuration(t.measured_step_s * 1e9))
                           .arg(formatDuration(t.replay.step_s * 1e9)).arg(t.ops).arg(t.collectives).arg(t.messages);
            setSideResult(replayDone_, replay_, text, context, knobs);
        },
        [this, context, knobs](const QString& e) {
            setSideResult(replayDone_, replay_, tr("Cannot replay: %1").arg(e.toHtmlEscaped()), context, knobs);
        });
}

void WhatIfPage::validate() {
    if (!sel_.doc) return;
    const HardwareChoice* c = currentChoice();
    const QString context = contextKey(true), knobs = validateKnobs();
    if (!c) {
        setSideResult(validateDone_, validation_, tr("No hardware description."), context, knobs);
        return;
    }
    const Hardware hw = c->hw;
    const QString hwName = c->name;
    DocumentPtr doc = sel_.doc;
    StudyId study = sel_.study;
    validateDone_ = {};
    validation_->setText(tr("Validating…"));
    updateStale();
    validateJob_ = startJob<ValidationReport>(
        this, [doc, hw, study](const CancelToken&) {
            return doc->withReader("analysis", [&](TraceReader& rd) { return validate_runs(rd, hw, study); });
        },
        [this, context, knobs, hwName](ValidationReport v) {
            setSideResult(validateDone_, validation_,
                          tr("Hardware <i>%1</i>: mean absolute error analytic <b>%2</b>, replay <b>%3</b> over %4 layouts (%8 runs, repeats as one); "
                             "oversubscribed layouts: analytic %5, replay %6 over %7")
                              .arg(hwName.toHtmlEscaped()).arg(formatPercent(v.mae_analytic)).arg(formatPercent(v.mae_replay))
                              .arg(v.predicted).arg(formatPercent(v.mae_analytic_over)).arg(formatPercent(v.mae_replay_over))
                              .arg(v.predicted_over).arg(v.runs),
                          context, knobs);
        },
        [this, context, knobs](const QString& e) {
            setSideResult(validateDone_, validation_, tr("Cannot validate: %1").arg(e.toHtmlEscaped()), context, knobs);
        });
}

// ---- Calibrate this machine -------------------------------------------------------------------

// Runs `scalescope-cli calibrate -o <user data>/hardware/<host>-<time>.json [--trace FILE]`: the
// file goes with this user's hardware, and into the open trace file (the Summary page's MFU peak).
void WhatIfPage::calibrate() {
    if (calib_) return;
    calibStatus_->setVisible(true);
    QString cli;
    try {
        cli = fromStd(find_program("scalescope-cli"));
    } catch (const std::exception& e) {
        calibStatus_->setText(tr("<b style='color:#c62828'>Cannot calibrate:</b> %1").arg(fromStd(e.what()).toHtmlEscaped()));
        return;
    }
    const QString dir = userHardwareDir();
    if (!QDir().mkpath(dir)) {
        calibStatus_->setText(tr("<b style='color:#c62828'>Cannot calibrate:</b> cannot create %1").arg(dir.toHtmlEscaped()));
        return;
    }
    const QString host = shortHost(QSysInfo::machineHostName());
    const QString stem = (host.isEmpty() ? QStringLiteral("localhost") : host) + QLatin1Char('-') +
                         QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    calibOut_ = QDir(dir).filePath(stem + QStringLiteral(".json"));
    calibTrace_ = sel_.doc ? sel_.doc->path() : QString();
    // The measurement's folder (raw samples, rank logs) beside the hardware folder, not in it.
    const QString runDir = QDir(dir).filePath(QStringLiteral("../calibration-runs/") + stem);
    QStringList args = {QStringLiteral("calibrate"), QStringLiteral("-o"), calibOut_, QStringLiteral("--run-dir"),
                        QDir::cleanPath(runDir)};
    if (!calibTrace_.isEmpty()) args << QStringLiteral("--trace") << calibTrace_;
    args << calibrationOptions_;
    calibLog_.clear();
    calibProgress_.clear();
    calibCancelled_ = false;
    calib_ = new QProcess(this);
    calib_->setProcessChannelMode(QProcess::MergedChannels);
    connect(calib_, &QProcess::readyRead, this, &WhatIfPage::calibrationOutput);
    connect(calib_, &QProcess::finished, this, &WhatIfPage::calibrationEnded);
    connect(calib_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) calibrationEnded(-1, QProcess::CrashExit);
    });
    calibrateButton_->setEnabled(false);
    cancelCalibrateButton_->setVisible(true);
    calibStatus_->setVisible(true);
    calibClock_.start();
    calibTick_->start();
    updateCalibrationStatus();
    calib_->start(cli, args);
}

void WhatIfPage::cancelCalibration() {
    if (!calib_) return;
    calibCancelled_ = true;
    if (calib_->state() == QProcess::Starting) calib_->waitForStarted(5000);  // a signal needs a process
    // SIGTERM: the CLI cancels its mpirun job and exits; killed if it has not within 15 s.
    calib_->terminate();
    QTimer::singleShot(15000, calib_, [p = calib_] { p->kill(); });
    calibStatus_->setText(tr("Cancelling the calibration…"));
}

void WhatIfPage::calibrationOutput() {
    if (!calib_) return;
    const QString text = QString::fromLocal8Bit(calib_->readAll());
    calibLog_ += text;
    if (calibLog_.size() > 200000) calibLog_ = calibLog_.right(100000);
    // The CLI's progress lines: "  all_reduce p=2 64.0 KiB: 12.3 us", "  sgemm: {...}".
    for (const QString& line : text.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        if (line.startsWith(QStringLiteral("  "))) calibProgress_ = line.trimmed().left(80);
    updateCalibrationStatus();
}

void WhatIfPage::updateCalibrationStatus() {
    if (!calib_ || calibCancelled_) return;
    const qint64 s = calibClock_.elapsed() / 1000;
    calibStatus_->setText(tr("Calibrating this machine… %1 s%2").arg(s).arg(
        calibProgress_.isEmpty() ? tr(" (starting the ranks)") : tr("<br><small>%1</small>").arg(calibProgress_.toHtmlEscaped())));
}

void WhatIfPage::calibrationEnded(int exitCode, QProcess::ExitStatus status) {
    if (!calib_) return;
    QProcess* p = calib_;
    calib_ = nullptr;
    calibTick_->stop();
    calibrateButton_->setEnabled(true);
    cancelCalibrateButton_->setVisible(false);
    calibLog_ += QString::fromLocal8Bit(p->readAll());
    const QString startError = p->error() == QProcess::FailedToStart ? p->errorString() : QString();
    p->deleteLater();
    const qint64 seconds = calibClock_.elapsed() / 1000;
    const bool ok = !calibCancelled_ && startError.isEmpty() && status == QProcess::NormalExit && exitCode == 0;
    if (!ok) {
        QFile::remove(calibOut_);
        if (calibCancelled_) {
            calibStatus_->setText(tr("Calibration cancelled after %1 s.").arg(seconds));
        } else {
            QStringList lines = calibLog_.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
            if (lines.size() > 8) lines = lines.mid(lines.size() - 8);
            calibStatus_->setText(tr("<b style='color:#c62828'>Calibration failed</b> (%1):<pre>%2</pre>")
                                      .arg(startError.isEmpty() ? (status == QProcess::NormalExit ? tr("exit code %1").arg(exitCode) : tr("crashed"))
                                                                : startError.toHtmlEscaped(),
                                           lines.join(QLatin1Char('\n')).toHtmlEscaped()));
        }
        emit calibrationFinished(false, QString());
        return;
    }
    HardwareChoice choice;
    try {
        choice = readHardwareChoice(calibOut_, HardwareChoice::Origin::User);
    } catch (const std::exception& e) {
        calibStatus_->setText(tr("<b style='color:#c62828'>The calibration wrote an unreadable file:</b> %1").arg(fromStd(e.what()).toHtmlEscaped()));
        emit calibrationFinished(false, QString());
        return;
    }
    QString text = tr("Calibrated in %1 s: <i>%2</i>, kept in %3").arg(seconds).arg(choice.name.toHtmlEscaped(), calibOut_.toHtmlEscaped());
    if (!calibTrace_.isEmpty()) text += tr(" and stored in %1 (read again)").arg(QFileInfo(calibTrace_).fileName().toHtmlEscaped());
    for (const auto& w : choice.hw.warnings) text += tr("<br><b>warning:</b> %1").arg(fromStd(w).toHtmlEscaped());
    calibStatus_->setText(text);
    // Offer it at once; the trace file, read again, brings its new calibration too.
    std::vector<HardwareChoice> fileCals;
    for (const auto& h : hardware_)
        if (h.origin == HardwareChoice::Origin::File) fileCals.push_back(h);
    rebuildHardware(fileCals, choice.path);
    hardwareChanged();
    if (!calibTrace_.isEmpty() && sel_.doc && sel_.doc->path() == calibTrace_) {
        pendingHardwarePath_ = choice.path;
        emit openRequested(calibTrace_);
    }
    emit calibrationFinished(true, choice.path);
}

}  // namespace ss::gui

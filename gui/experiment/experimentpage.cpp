#include "gui/experiment/experimentpage.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QValueAxis>
#include <QVBoxLayout>

#include <filesystem>

#include "core/study.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "traces/writer.h"

namespace ss::gui {

using namespace ss::core;

nlohmann::json ExperimentForm::toJson() const {
    nlohmann::json j;
    j["name"] = name;
    j["model"] = {{"kind", kind}, {"preset", preset}};
    if (!dataPath.empty()) j["data"] = {{"path", dataPath}};
    j["training"] = {{"steps", steps}, {"global_batch", globalBatch}};
    j["parallel"] = {{"dp", dp}, {"tp", tp}, {"pp", pp}, {"micro_batches", microBatches}, {"schedule", schedule}, {"zero", zero}};
    j["backend"] = {{"device", device}, {"blas_threads", blasThreads}};
    if (!hosts.empty()) j["launch"] = {{"hosts", hosts}};
    j["trace"] = {{"enabled", true}};
    return j;
}

FormCheck checkForm(const ExperimentForm& f, bool study, const QStringList& vary, int repeats, bool weak, bool checkFiles) {
    FormCheck c;
    const nlohmann::json doc = f.toJson();
    ParseResult pr = parse_spec(doc);
    c.errors = pr.errors;
    if (pr.ok()) {
        c.errors = validate(pr.spec, -1, checkFiles);
        c.params = static_cast<long long>(param_count(pr.spec.model));
    }
    c.world = pr.spec.parallel.world();
    if (study) {
        std::vector<VaryAxis> axes;
        try {
            for (const QString& v : vary)
                if (!v.trimmed().isEmpty()) axes.push_back(parse_vary(v.trimmed().toStdString()));
            if (axes.empty()) throw std::invalid_argument("a study needs at least one --vary axis, e.g. dp=1,2,4");
            const StudyPlan plan = plan_study(doc, axes, repeats, weak, checkFiles);
            for (const StudyPoint& p : plan.points)
                c.studyPoints << QStringLiteral("%1  (p = %2, repeat %3)").arg(fromStd(p.value)).arg(p.p).arg(p.repeat);
        } catch (const std::exception& e) {
            c.studyError = fromStd(e.what());
        }
    }
    return c;
}

ExperimentPage::ExperimentPage(QWidget* parent) : Page(parent) {
    name_ = new QLineEdit(QStringLiteral("experiment"));
    kind_ = new QComboBox;
    kind_->addItems({QStringLiteral("gpt"), QStringLiteral("mlp")});
    preset_ = new QComboBox;
    data_ = new QLineEdit;
    data_->setPlaceholderText(tr("default for the model (Debian packages)"));
    auto spin = [](int lo, int hi, int v) {
        auto* s = new QSpinBox;
        s->setRange(lo, hi);
        s->setValue(v);
        return s;
    };
    steps_ = spin(1, 1000000, 20);
    batch_ = spin(1, 1 << 20, 16);
    dp_ = spin(1, 4096, 1);
    tp_ = spin(1, 64, 1);
    pp_ = spin(1, 64, 1);
    micro_ = spin(1, 1024, 1);
    blas_ = spin(1, 256, 1);
    dp_->setObjectName(QStringLiteral("dp"));
    tp_->setObjectName(QStringLiteral("tp"));
    pp_->setObjectName(QStringLiteral("pp"));
    schedule_ = new QComboBox;
    schedule_->addItems({QStringLiteral("1f1b"), QStringLiteral("gpipe")});
    zero_ = new QComboBox;
    zero_->addItems({QStringLiteral("0"), QStringLiteral("1")});
    device_ = new QComboBox;
    device_->addItems({QStringLiteral("cpu"), QStringLiteral("cuda")});
    hosts_ = new QLineEdit;
    hosts_->setPlaceholderText(tr("local; or node1:4,node2:4"));
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    output_ = new QLineEdit(QDir::home().filePath(QStringLiteral("scalescope/runs.sqlite")));
    runDir_ = new QLineEdit(QDir::home().filePath(QStringLiteral("scalescope/run-") + stamp));
    study_ = new QCheckBox(tr("Study: vary parameters"));
    vary1_ = new QLineEdit(QStringLiteral("dp=1,2,4"));
    vary2_ = new QLineEdit;
    vary2_->setPlaceholderText(tr("optional second axis, e.g. tp=1,2"));
    repeats_ = spin(1, 100, 1);
    weak_ = new QCheckBox(tr("weak scaling (per-rank batch fixed)"));
    world_ = new QLabel;
    world_->setObjectName(QStringLiteral("worldLabel"));
    messages_ = new QListWidget;
    messages_->setObjectName(QStringLiteral("validationMessages"));
    messages_->setMaximumHeight(110);
    command_ = new QPlainTextEdit;
    command_->setReadOnly(true);
    command_->setMaximumHeight(70);
    command_->setFont(QFont(QStringLiteral("monospace")));
    launch_ = new QPushButton(tr("Launch"));
    launch_->setObjectName(QStringLiteral("launchButton"));
    cancel_ = new QPushButton(tr("Cancel"));
    cancel_->setEnabled(false);
    auto* copy = new QPushButton(tr("Copy command"));
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(command_->toPlainText()); });
    connect(launch_, &QPushButton::clicked, this, &ExperimentPage::launch);
    connect(cancel_, &QPushButton::clicked, this, &ExperimentPage::cancel);
    progress_ = new QProgressBar;
    status_ = new QLabel(tr("Ready."));
    status_->setWordWrap(true);
    log_ = new QPlainTextEdit;
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(500);
    log_->setFont(QFont(QStringLiteral("monospace")));
    lossChart_ = makeChartView(QStringLiteral("loss"));
    auto* placeholder = new QChart;
    placeholder->setTitle(tr("Loss (rank 0): launch a run to watch it train"));
    setChart(lossChart_, placeholder);

    connect(kind_, &QComboBox::currentTextChanged, this, [this](const QString& k) {
        QSignalBlocker b(preset_);
        preset_->clear();
        for (const auto& p : model_presets(k.toStdString())) preset_->addItem(fromStd(p));
        revalidate();
    });
    emit kind_->currentTextChanged(kind_->currentText());
    for (QLineEdit* e : {name_, data_, hosts_, vary1_, vary2_, output_, runDir_})
        connect(e, &QLineEdit::textChanged, this, &ExperimentPage::revalidate);
    for (QSpinBox* s : {steps_, batch_, dp_, tp_, pp_, micro_, blas_, repeats_})
        connect(s, &QSpinBox::valueChanged, this, &ExperimentPage::revalidate);
    for (QComboBox* c : {preset_, schedule_, zero_, device_}) connect(c, &QComboBox::currentIndexChanged, this, &ExperimentPage::revalidate);
    for (QCheckBox* c : {study_, weak_}) connect(c, &QCheckBox::toggled, this, &ExperimentPage::revalidate);

    auto* model = new QGroupBox(tr("Model and training"));
    auto* mf = new QFormLayout(model);
    mf->addRow(tr("Name"), name_);
    auto* mk = new QHBoxLayout;
    mk->addWidget(kind_);
    mk->addWidget(preset_, 1);
    mf->addRow(tr("Model / preset"), mk);
    mf->addRow(tr("Data"), data_);
    auto* sb = new QHBoxLayout;
    sb->addWidget(steps_);
    sb->addWidget(new QLabel(tr("global batch")));
    sb->addWidget(batch_);
    mf->addRow(tr("Steps"), sb);
    auto* par = new QGroupBox(tr("Parallel layout and launch"));
    auto* pf = new QFormLayout(par);
    auto* lay = new QHBoxLayout;
    lay->addWidget(new QLabel(tr("dp")));
    lay->addWidget(dp_);
    lay->addWidget(new QLabel(tr("tp")));
    lay->addWidget(tp_);
    lay->addWidget(new QLabel(tr("pp")));
    lay->addWidget(pp_);
    pf->addRow(tr("Layout"), lay);
    pf->addRow(QString(), world_);
    auto* mb = new QHBoxLayout;
    mb->addWidget(micro_);
    mb->addWidget(schedule_);
    mb->addWidget(new QLabel(tr("ZeRO")));
    mb->addWidget(zero_);
    pf->addRow(tr("Micro-batches"), mb);
    auto* be = new QHBoxLayout;
    be->addWidget(device_);
    be->addWidget(new QLabel(tr("BLAS threads")));
    be->addWidget(blas_);
    pf->addRow(tr("Backend"), be);
    pf->addRow(tr("Hosts"), hosts_);
    pf->addRow(tr("Trace file"), output_);
    pf->addRow(tr("Run folder"), runDir_);
    auto* st = new QGroupBox(tr("Study"));
    auto* sf = new QFormLayout(st);
    sf->addRow(study_);
    sf->addRow(tr("Vary"), vary1_);
    sf->addRow(tr("and"), vary2_);
    auto* rw = new QHBoxLayout;
    rw->addWidget(repeats_);
    rw->addWidget(weak_);
    sf->addRow(tr("Repeats"), rw);

    auto* left = new QWidget;
    auto* ll = new QVBoxLayout(left);
    ll->setContentsMargins(0, 0, 0, 0);
    ll->addWidget(model);
    ll->addWidget(par);
    ll->addWidget(st);
    ll->addWidget(new QLabel(tr("<b>Checks</b>")));
    ll->addWidget(messages_);
    ll->addStretch(1);
    left->setMaximumWidth(520);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(launch_);
    buttons->addWidget(cancel_);
    buttons->addWidget(progress_, 1);
    auto* cmdRow = new QHBoxLayout;
    cmdRow->addWidget(new QLabel(tr("<b>Command</b> (copy it to a cluster shell)")));
    cmdRow->addStretch(1);
    cmdRow->addWidget(copy);
    auto* right = new QWidget;
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    rl->addLayout(cmdRow);
    rl->addWidget(command_);
    rl->addLayout(buttons);
    rl->addWidget(status_);
    rl->addWidget(lossChart_, 2);
    rl->addWidget(log_, 1);

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);
    revalidate();
}

ExperimentPage::~ExperimentPage() {
    if (cancelFlag_) cancelFlag_->store(true);
}

ExperimentForm ExperimentPage::form() const {
    ExperimentForm f;
    f.name = name_->text().toStdString();
    f.kind = kind_->currentText().toStdString();
    f.preset = preset_->currentText().toStdString();
    f.dataPath = data_->text().trimmed().toStdString();
    f.steps = steps_->value();
    f.globalBatch = batch_->value();
    f.dp = dp_->value();
    f.tp = tp_->value();
    f.pp = pp_->value();
    f.microBatches = micro_->value();
    f.zero = zero_->currentIndex();
    f.schedule = schedule_->currentText().toStdString();
    f.device = device_->currentText().toStdString();
    f.blasThreads = blas_->value();
    for (const QString& h : hosts_->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) f.hosts.push_back(h.trimmed().toStdString());
    return f;
}

void ExperimentPage::setForm(const ExperimentForm& f) {
    name_->setText(fromStd(f.name));
    kind_->setCurrentText(fromStd(f.kind));
    preset_->setCurrentText(fromStd(f.preset));
    data_->setText(fromStd(f.dataPath));
    steps_->setValue(f.steps);
    batch_->setValue(f.globalBatch);
    dp_->setValue(f.dp);
    tp_->setValue(f.tp);
    pp_->setValue(f.pp);
    micro_->setValue(f.microBatches);
    zero_->setCurrentIndex(f.zero);
    schedule_->setCurrentText(fromStd(f.schedule));
    device_->setCurrentText(fromStd(f.device));
    blas_->setValue(f.blasThreads);
    QStringList hosts;
    for (const auto& h : f.hosts) hosts << fromStd(h);
    hosts_->setText(hosts.join(QLatin1Char(',')));
    revalidate();
}

void ExperimentPage::setStudy(bool on, const QStringList& vary, int repeats, bool weak) {
    study_->setChecked(on);
    vary1_->setText(vary.value(0));
    vary2_->setText(vary.value(1));
    repeats_->setValue(repeats);
    weak_->setChecked(weak);
    revalidate();
}

void ExperimentPage::setOutput(const QString& traceFile, const QString& runDir) {
    output_->setText(traceFile);
    runDir_->setText(runDir);
}

QStringList ExperimentPage::validationMessages() const {
    QStringList out;
    for (const SpecError& e : check_.errors) out << fromStd(e.message);
    if (!check_.studyError.isEmpty()) out << check_.studyError;
    return out;
}

bool ExperimentPage::canLaunch() const { return !running_ && check_.ok() && !output_->text().trimmed().isEmpty(); }

void ExperimentPage::revalidate() {
    const bool study = study_->isChecked();
    for (QWidget* w : {static_cast<QWidget*>(vary1_), static_cast<QWidget*>(vary2_), static_cast<QWidget*>(repeats_),
                       static_cast<QWidget*>(weak_)})
        w->setEnabled(study);
    check_ = checkForm(form(), study, {vary1_->text(), vary2_->text()}, repeats_->value(), weak_->isChecked(), true);
    world_->setText(tr("world size = dp × tp × pp = <b>%1</b> ranks%2")
                        .arg(check_.world)
                        .arg(check_.params > 0 ? tr(" · %1 parameters").arg(QLocale().toString(check_.params)) : QString()));
    messages_->clear();
    for (const QString& m : validationMessages()) {
        auto* item = new QListWidgetItem(QStringLiteral("✗ ") + m);
        item->setForeground(QColor(0xc6, 0x28, 0x28));
        messages_->addItem(item);
    }
    if (check_.ok()) {
        messages_->addItem(study ? tr("✓ the study is valid: %1 runs").arg(check_.studyPoints.size()) : tr("✓ the spec is valid"));
        for (const QString& p : check_.studyPoints) messages_->addItem(QStringLiteral("   ") + p);
    }
    // The command for one run (the first point of a study).
    QString cmd;
    try {
        MpirunRequest mr;
        mr.ranks = check_.world;
        ParseResult pr = parse_spec(form().toJson());
        mr.launch = pr.spec.launch;
        std::string worker;
        try {
            worker = find_program("scalescope-worker");
        } catch (const std::exception&) {
            worker = "scalescope-worker";
        }
        mr.program = {worker, (std::filesystem::path(runDir_->text().toStdString()) / "spec.json").string()};
        const MpirunPlan plan = build_mpirun_argv(mr, LaunchEnvironment::current());
        QStringList parts;
        for (const auto& a : plan.argv) {
            QString s = fromStd(a);
            if (s.contains(QLatin1Char(' ')) || s.contains(QLatin1Char('\'')) || s.isEmpty())
                s = QLatin1Char('\'') + s.replace(QStringLiteral("'"), QStringLiteral("'\\''")) + QLatin1Char('\'');
            parts << s;
        }
        cmd = parts.join(QLatin1Char(' '));
        if (plan.oversubscribed) cmd += tr("\n# %1 ranks on fewer slots (%2): oversubscribed, timings will be contended")
                                                .arg(plan.ranks).arg(fromStd(plan.slots_source));
    } catch (const std::exception& e) {
        cmd = tr("# cannot build the command: %1").arg(fromStd(e.what()));
    }
    command_->setPlainText(cmd);
    launch_->setEnabled(canLaunch());
}

QString ExperimentPage::commandText() const { return command_->toPlainText(); }

void ExperimentPage::launch() {
    if (!canLaunch()) return;
    running_ = true;
    launch_->setEnabled(false);
    cancel_->setEnabled(true);
    cancelFlag_ = std::make_shared<std::atomic<bool>>(false);
    log_->clear();
    status_->setText(tr("Starting…"));
    progress_->setRange(0, steps_->value());
    progress_->setValue(0);
    maxLoss_ = 0;
    auto* chart = new QChart;
    chart->setTitle(tr("Loss (rank 0)"));
    loss_ = new QLineSeries;
    loss_->setName(tr("loss"));
    chart->addSeries(loss_);
    auto* x = new QValueAxis;
    x->setRange(0, steps_->value());
    x->setTitleText(tr("step"));
    x->setLabelFormat(QStringLiteral("%d"));
    auto* y = new QValueAxis;
    y->setRange(0, 1);
    y->setTitleText(tr("loss (nats)"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    loss_->attachAxis(x);
    loss_->attachAxis(y);
    chart->legend()->hide();
    setChart(lossChart_, chart);
    emit launchStarted();

    // Everything the job needs, by value.
    const nlohmann::json base = form().toJson();
    const bool study = study_->isChecked();
    const QStringList vary = {vary1_->text(), vary2_->text()};
    const int repeats = repeats_->value();
    const bool weak = weak_->isChecked();
    const std::string output = output_->text().trimmed().toStdString();
    const std::string runDir = runDir_->text().trimmed().toStdString();
    auto flag = cancelFlag_;
    QPointer<ExperimentPage> self(this);
    using Result = std::pair<int, QString>;
    startJob<Result>(
        this,
        [=](const CancelToken&) -> Result {
            std::vector<StudyPoint> points;
            StudyPlan plan;
            if (study) {
                std::vector<VaryAxis> axes;
                for (const QString& v : vary)
                    if (!v.trimmed().isEmpty()) axes.push_back(parse_vary(v.trimmed().toStdString()));
                plan = plan_study(base, axes, repeats, weak, true);
                points = plan.points;
            } else {
                StudyPoint p;
                p.doc = base;
                p.name = base.value("name", std::string("experiment"));
                points.push_back(p);
            }
            std::filesystem::create_directories(std::filesystem::path(output).parent_path().empty()
                                                    ? std::filesystem::path(".")
                                                    : std::filesystem::path(output).parent_path());
            traces::StudyId studyId;
            std::vector<traces::StudyRun> rows;
            const std::string worker = find_program("scalescope-worker");
            int status = static_cast<int>(traces::RunStatus::Completed);
            std::string reason;
            for (size_t i = 0; i < points.size() && !flag->load(); ++i) {
                ParseResult pr = parse_spec(points[i].doc);
                if (!pr.ok()) throw std::runtime_error(format_errors(pr.errors));
                RunRequest rq;
                rq.spec = pr.spec;
                rq.spec.name = points[i].name;
                rq.output = output;
                rq.run_dir = points.size() == 1 ? runDir : runDir + "/" + std::to_string(i) + "-" + points[i].value;
                rq.worker = worker;
                rq.cancel = flag.get();
                rq.env = LaunchEnvironment::current();
                const int idx = static_cast<int>(i), n = static_cast<int>(points.size());
                rq.on_progress = [self, idx, n](const Progress& p) {
                    QMetaObject::invokeMethod(qApp, [self, p, idx, n] {
                        if (self) self->onProgress(p, idx, n);
                    }, Qt::QueuedConnection);
                };
                rq.on_plan = [self](const MpirunPlan& mp) {
                    QString cmd;
                    for (const auto& a : mp.argv) cmd += fromStd(a) + QLatin1Char(' ');
                    QMetaObject::invokeMethod(qApp, [self, cmd] {
                        if (self) self->log_->appendPlainText(QStringLiteral("$ ") + cmd);
                    }, Qt::QueuedConnection);
                };
                rq.on_line = [self](const TaggedLine& l) {
                    if (l.stream == Stream::Stdout && l.rank == 0) return;  // progress JSON: shown as the curve
                    const QString text = QStringLiteral("[%1] %2").arg(l.rank).arg(fromStd(l.text));
                    QMetaObject::invokeMethod(qApp, [self, text] {
                        if (self) self->log_->appendPlainText(text);
                    }, Qt::QueuedConnection);
                };
                const RunOutcome o = launch_run(rq);
                status = static_cast<int>(o.status);
                reason = o.failure_reason;
                if (study && o.run.valid()) rows.push_back(traces::StudyRun{{}, o.run, points[i].value, points[i].p, points[i].repeat});
                if (o.status != traces::RunStatus::Completed) break;
            }
            if (study && !rows.empty()) {
                traces::TraceWriter w(output);
                studyId = w.add_study(traces::StudyInfo{traces::StudyId(), base.value("name", std::string("study")), plan.variable, plan.scaling});
                for (auto r : rows) {
                    r.study = studyId;
                    w.add_study_run(r);
                }
            }
            if (flag->load() && status == static_cast<int>(traces::RunStatus::Completed)) {
                status = static_cast<int>(traces::RunStatus::Cancelled);
                reason = "cancelled";
            }
            return {status, fromStd(reason)};
        },
        [this](Result r) { onFinished(r.first, r.second); },
        [this](const QString& e) { onFinished(static_cast<int>(traces::RunStatus::Failed), e); });
}

void ExperimentPage::cancel() {
    if (cancelFlag_) cancelFlag_->store(true);
    status_->setText(tr("Cancelling…"));
}

void ExperimentPage::onProgress(const Progress& p, int pointIndex, int points) {
    if (p.kind != Progress::Kind::Step) return;
    if (points > 1 && p.step == 0) loss_->clear();
    progress_->setValue(static_cast<int>(p.step + 1));
    loss_->append(static_cast<double>(p.step), p.loss);
    maxLoss_ = std::max(maxLoss_, p.loss);
    if (auto* y = qobject_cast<QValueAxis*>(lossChart_->chart()->axes(Qt::Vertical).value(0))) y->setRange(0, maxLoss_ * 1.1);
    status_->setText(tr("%1step %2 · loss %3 · %4")
                         .arg(points > 1 ? tr("run %1 of %2 · ").arg(pointIndex + 1).arg(points) : QString())
                         .arg(p.step)
                         .arg(p.loss, 0, 'f', 4)
                         .arg(formatRate(p.rate, fromStd(p.rate_unit))));
    emit progressed(p.step, p.loss);
}

void ExperimentPage::onFinished(int status, const QString& reason) {
    running_ = false;
    cancel_->setEnabled(false);
    cancelFlag_.reset();
    const auto st = static_cast<traces::RunStatus>(status);
    const QString output = output_->text().trimmed();
    status_->setText(st == traces::RunStatus::Completed
                         ? tr("Completed: written to %1").arg(output)
                         : tr("%1: %2").arg(fromStd(std::string(traces::to_string(st))), reason));
    revalidate();
    emit launchFinished(status, reason, output);
    if (QFileInfo::exists(output)) emit openRequested(output);
}

}  // namespace ss::gui

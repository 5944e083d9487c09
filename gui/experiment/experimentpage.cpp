#include "gui/experiment/experimentpage.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
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
#include <QStandardPaths>
#include <QTimer>
#include <QToolButton>
#include <QValueAxis>
#include <QVBoxLayout>

#include <filesystem>
#include <set>

#include "core/launch/slurm.h"
#include "core/launch/study.h"
#include "core/spec/progress_protocol.h"
#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "traces/writer.h"

namespace ss::gui {

using namespace ss::core;

nlohmann::json ExperimentForm::toJson() const {
    nlohmann::json j = nlohmann::json::object();
    applyTo(j);
    return j;
}

void ExperimentForm::applyTo(nlohmann::json& j) const {
    if (!j.is_object()) j = nlohmann::json::object();
    auto section = [&j](const char* key) -> nlohmann::json& {
        if (!j.contains(key) || !j[key].is_object()) j[key] = nlohmann::json::object();
        return j[key];
    };
    j["name"] = name;
    {
        nlohmann::json& m = section("model");
        const std::vector<std::string> presets = model_presets(kind);
        const std::string docPreset = m.contains("preset") && m["preset"].is_string() ? m["preset"].get<std::string>()
                                      : presets.empty()                               ? std::string()
                                                                                      : presets.front();
        const bool same = m.value("kind", std::string()) == kind && docPreset == preset;
        if (!same) m = nlohmann::json::object();
        m["kind"] = kind;
        m["preset"] = preset;
    }
    if (!dataPath.empty()) {
        section("data")["path"] = dataPath;
    } else if (j.contains("data") && j["data"].is_object()) {
        j["data"].erase("path");
        if (j["data"].empty()) j.erase("data");
    }
    nlohmann::json& t = section("training");
    t["steps"] = steps;
    t["global_batch"] = globalBatch;
    nlohmann::json& par = section("parallel");
    par["dp"] = dp;
    par["tp"] = tp;
    par["pp"] = pp;
    par["micro_batches"] = microBatches;
    par["schedule"] = schedule;
    par["zero"] = zero;
    nlohmann::json& be = section("backend");
    be["device"] = device;
    be["comm"] = comm;
    be["blas_threads"] = blasThreads;
    if (!hosts.empty()) {
        section("launch")["hosts"] = hosts;
    } else if (j.contains("launch") && j["launch"].is_object()) {
        j["launch"].erase("hosts");
        if (j["launch"].empty()) j.erase("launch");
    }
    nlohmann::json& trace = section("trace");
    if (!trace.contains("enabled")) trace["enabled"] = true;
}

ExperimentForm ExperimentForm::fromSpec(const ExperimentSpec& s, const nlohmann::json& doc) {
    ExperimentForm f;
    f.name = s.name;
    f.kind = s.model.kind;
    f.preset = s.model.preset;
    if (doc.contains("data") && doc["data"].is_object() && doc["data"].contains("path") &&
        doc["data"]["path"].is_string())
        f.dataPath = doc["data"]["path"].get<std::string>();
    f.steps = s.training.steps;
    f.globalBatch = s.training.global_batch;
    f.dp = s.parallel.dp;
    f.tp = s.parallel.tp;
    f.pp = s.parallel.pp;
    f.microBatches = s.parallel.micro_batches;
    f.zero = s.parallel.zero;
    f.schedule = s.parallel.schedule;
    f.device = s.backend.device;
    f.comm = s.backend.comm;
    f.blasThreads = s.backend.blas_threads;
    f.hosts = s.launch.hosts;
    return f;
}

QStringList fieldsNotInForm(const nlohmann::json& doc) {
    static const std::set<std::string> shown{
        "name",          "model.kind",       "model.preset",          "data.path",       "training.steps",
        "training.global_batch", "parallel.dp", "parallel.tp",        "parallel.pp",     "parallel.micro_batches",
        "parallel.schedule",     "parallel.zero", "backend.device",   "backend.comm", "backend.blas_threads", "launch.hosts",
        "trace.enabled",         "trace.dir"};  // trace.dir: every launch sets it to the run folder
    QStringList out;
    if (!doc.is_object()) return out;
    for (const auto& [key, value] : doc.items()) {
        if (!value.is_object()) {
            if (!shown.count(key)) out << fromStd(key);
            continue;
        }
        for (const auto& [sub, v] : value.items()) {
            (void)v;
            const std::string path = key + "." + sub;
            if (!shown.count(path)) out << fromStd(path);
        }
    }
    return out;
}

FormCheck checkForm(const ExperimentForm& f, bool study, const QStringList& vary, int repeats, bool weak, bool checkFiles) {
    return checkDocument(f.toJson(), study, vary, repeats, weak, checkFiles);
}

FormCheck checkDocument(const nlohmann::json& doc, bool study, const QStringList& vary, int repeats, bool weak,
                        bool checkFiles) {
    FormCheck c;
    ParseResult pr = parse_spec(doc);
    c.spec = pr.spec;
    c.errors = pr.errors;
    if (pr.ok()) {
        c.errors = validate(pr.spec, -1, checkFiles);
        for (auto& e : simulator_only_fields(pr.spec)) c.errors.push_back(std::move(e));  // the trainer cannot run them
        c.params = static_cast<long long>(param_count(pr.spec.model));
    }
    c.world = pr.spec.parallel.world();
    if (study) {
        std::vector<VaryAxis> axes;
        try {
            for (const QString& v : vary)
                if (!v.trimmed().isEmpty()) axes.push_back(parse_vary(v.trimmed().toStdString()));
            if (axes.empty()) throw std::invalid_argument("a study needs at least one --vary axis, e.g. dp=1,2,4");
            c.plan = plan_study(doc, axes, repeats, weak, checkFiles);
            for (const StudyPoint& p : c.plan.points)
                c.studyPoints << QStringLiteral("%1  (p = %2, repeat %3)").arg(fromStd(p.value)).arg(p.p).arg(p.repeat);
        } catch (const std::exception& e) {
            c.plan = StudyPlan{};
            c.studyError = fromStd(e.what());
        }
    }
    return c;
}

namespace {

// mpirun as the CLI finds it: $SCALESCOPE_MPIRUN, else "mpirun" on PATH.
std::string mpirunProgram() {
    const QByteArray m = qgetenv("SCALESCOPE_MPIRUN");
    return m.isEmpty() ? std::string("mpirun") : m.toStdString();
}

// "" when mpirun is found, else why not.
QString mpirunProblem() {
    const QString p = fromStd(mpirunProgram());
    const bool found = p.contains(QLatin1Char('/')) ? QFileInfo(p).isExecutable()
                                                    : !QStandardPaths::findExecutable(p).isEmpty();
    return found ? QString()
                 : QObject::tr("%1 was not found (install Open MPI, or set SCALESCOPE_MPIRUN to its mpirun)").arg(p);
}

}  // namespace

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
    device_->addItems({QStringLiteral("cpu"), QStringLiteral("cuda"), QStringLiteral("auto")});
    device_->setObjectName(QStringLiteral("device"));
    device_->setToolTip(tr("cuda: one GPU per rank (node-local rank); auto: cuda where the rank sees a GPU, else cpu"));
    comm_ = new QComboBox;
    comm_->setObjectName(QStringLiteral("comm"));
    comm_->addItems({QStringLiteral("auto"), QStringLiteral("nccl"), QStringLiteral("mpi")});
    comm_->setToolTip(tr("GPU ranks: nccl needs one GPU per rank; mpi stages device buffers through pinned host "
                         "memory (ranks may share a GPU); auto: nccl when every rank has its own GPU"));
    hosts_ = new QLineEdit;
    hosts_->setPlaceholderText(tr("local; or node1:4,node2:4"));
    launcher_ = new QComboBox;
    launcher_->setObjectName(QStringLiteral("launcher"));
    launcher_->addItems({tr("mpirun from here"), tr("Slurm (sbatch)")});
    launcher_->setToolTip(tr("Slurm: every run is submitted as a batch job (its script saved in the run folder as "
                             "job.sbatch), followed until it ends; Cancel runs scancel. Inside an allocation "
                             "mpirun runs on it directly either way."));
    partition_ = new QLineEdit;
    partition_->setObjectName(QStringLiteral("slurmPartition"));
    partition_->setPlaceholderText(tr("partition"));
    partition_->setToolTip(tr("Slurm partition (--partition); empty: the cluster's default"));
    time_ = new QLineEdit;
    time_->setObjectName(QStringLiteral("slurmTime"));
    time_->setPlaceholderText(tr("time limit"));
    time_->setToolTip(tr("Slurm time limit (--time): minutes (30) or h:mm:ss (1:00:00); empty: the partition's"));
    account_ = new QLineEdit;
    account_->setObjectName(QStringLiteral("slurmAccount"));
    account_->setPlaceholderText(tr("account"));
    account_->setToolTip(tr("Slurm account (--account); empty: your default"));
    output_ = new QLineEdit(QDir::home().filePath(QStringLiteral("scalescope/experiments.sqlite")));
    output_->setObjectName(QStringLiteral("traceFile"));
    runsFolder_ = new QLineEdit;
    runsFolder_->setObjectName(QStringLiteral("runsFolder"));
    runsFolder_->setToolTip(tr("Every launch makes a fresh run folder NNN-<name> in this folder, as scalescope-cli "
                               "run and study do (--run-dir). Empty: <trace file>-runs beside the trace file."));
    study_ = new QCheckBox(tr("Study: vary parameters"));
    vary1_ = new QLineEdit(QStringLiteral("dp=1,2,4"));
    vary2_ = new QLineEdit;
    vary2_->setPlaceholderText(tr("optional second axis, e.g. tp=1,2"));
    repeats_ = spin(1, 100, 1);
    weak_ = new QCheckBox(tr("weak scaling"));
    weak_->setToolTip(tr("Weak scaling: the per-rank batch stays fixed, the global batch grows with the ranks"));
    stopOnFailure_ = new QCheckBox(tr("stop at a failed run"));
    stopOnFailure_->setObjectName(QStringLiteral("stopOnFailure"));
    stopOnFailure_->setToolTip(tr("Otherwise the study goes on with the next point (scalescope-cli study "
                                  "--stop-on-failure)"));
    world_ = new QLabel;
    world_->setObjectName(QStringLiteral("worldLabel"));
    world_->setWordWrap(true);
    messages_ = new QListWidget;
    messages_->setObjectName(QStringLiteral("validationMessages"));
    messages_->setMaximumHeight(96);
    messages_->setWordWrap(true);
    messages_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    forget_ = new QToolButton;
    forget_->setText(tr("Forget the file"));
    forget_->setToolTip(tr("Launch only what the form shows (the spec file's other fields are dropped)"));
    connect(forget_, &QToolButton::clicked, this, &ExperimentPage::forgetSpecFile);
    command_ = new QPlainTextEdit;
    command_->setObjectName(QStringLiteral("command"));
    command_->setReadOnly(true);
    command_->setMaximumHeight(80);
    command_->setFont(QFont(QStringLiteral("monospace")));
    launch_ = new QPushButton(tr("Launch"));
    launch_->setObjectName(QStringLiteral("launchButton"));
    cancel_ = new QPushButton(tr("Cancel"));
    cancel_->setEnabled(false);
    auto* copy = new QPushButton(tr("Copy command"));
    copy->setObjectName(QStringLiteral("copyCommand"));
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(command_->toPlainText()); });
    connect(launch_, &QPushButton::clicked, this, &ExperimentPage::launch);
    connect(cancel_, &QPushButton::clicked, this, &ExperimentPage::cancel);
    progress_ = new QProgressBar;
    status_ = new QLabel(tr("Ready."));
    status_->setObjectName(QStringLiteral("runStatus"));
    status_->setWordWrap(true);
    log_ = new QPlainTextEdit;
    log_->setObjectName(QStringLiteral("workerOutput"));
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(500);
    log_->setFont(QFont(QStringLiteral("monospace")));
    log_->setPlaceholderText(tr("mpirun's command, then every rank's output ([rank] line) and rank 0's events"));
    lossChart_ = makeChartView(QStringLiteral("loss"));
    lossChart_->setMinimumHeight(140);
    auto* placeholder = new QChart;
    placeholder->setTitle(tr("Loss (rank 0): launch a run to watch it train"));
    setChart(lossChart_, placeholder);
    ticker_ = new QTimer(this);
    ticker_->setInterval(1000);
    connect(ticker_, &QTimer::timeout, this, &ExperimentPage::updateStatus);

    connect(kind_, &QComboBox::currentTextChanged, this, [this](const QString& k) {
        QSignalBlocker b(preset_);
        preset_->clear();
        for (const auto& p : model_presets(k.toStdString())) preset_->addItem(fromStd(p));
        revalidate();
    });
    emit kind_->currentTextChanged(kind_->currentText());
    for (QLineEdit* e : {name_, data_, hosts_, vary1_, vary2_, output_, runsFolder_, partition_, time_, account_})
        connect(e, &QLineEdit::textChanged, this, &ExperimentPage::revalidate);
    auto slurmFields = [this] {
        for (QLineEdit* e : {partition_, time_, account_}) e->setEnabled(launcher_->currentIndex() == 1);
    };
    connect(launcher_, &QComboBox::currentIndexChanged, this, [this, slurmFields] {
        slurmFields();
        revalidate();
    });
    slurmFields();
    for (QSpinBox* s : {steps_, batch_, dp_, tp_, pp_, micro_, blas_, repeats_})
        connect(s, &QSpinBox::valueChanged, this, &ExperimentPage::revalidate);
    for (QComboBox* c : {preset_, schedule_, zero_, device_, comm_}) connect(c, &QComboBox::currentIndexChanged, this, &ExperimentPage::revalidate);
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
    be->addWidget(new QLabel(tr("Comm")));
    be->addWidget(comm_);
    be->addWidget(new QLabel(tr("BLAS threads")));
    be->addWidget(blas_);
    pf->addRow(tr("Backend"), be);
    pf->addRow(tr("Hosts"), hosts_);
    auto* sl = new QHBoxLayout;
    sl->addWidget(launcher_);
    sl->addWidget(partition_);
    sl->addWidget(time_);
    sl->addWidget(account_);
    pf->addRow(tr("Launcher"), sl);
    pf->addRow(tr("Trace file"), output_);
    pf->addRow(tr("Runs folder"), runsFolder_);
    auto* st = new QGroupBox(tr("Study"));
    auto* sf = new QFormLayout(st);
    sf->addRow(study_);
    sf->addRow(tr("Vary"), vary1_);
    sf->addRow(tr("and"), vary2_);
    auto* rw = new QHBoxLayout;
    rw->addWidget(repeats_);
    rw->addWidget(weak_);
    rw->addWidget(stopOnFailure_);
    rw->addStretch(1);
    sf->addRow(tr("Repeats"), rw);
    for (QFormLayout* f : {mf, pf, sf}) f->setRowWrapPolicy(QFormLayout::DontWrapRows);

    auto* left = new QWidget;
    auto* ll = new QVBoxLayout(left);
    ll->setContentsMargins(0, 0, 0, 0);
    ll->addWidget(model);
    ll->addWidget(par);
    ll->addWidget(st);
    ll->addStretch(1);
    left->setMaximumWidth(520);

    auto* checksRow = new QHBoxLayout;
    checksRow->addWidget(new QLabel(tr("<b>Checks</b>")));
    checksRow->addStretch(1);
    checksRow->addWidget(forget_);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(launch_);
    buttons->addWidget(cancel_);
    buttons->addWidget(progress_, 1);
    auto* cmdRow = new QHBoxLayout;
    auto* cmdLabel = new QLabel(tr("<b>Command</b> (for a cluster shell)"));
    cmdRow->addWidget(cmdLabel);
    cmdRow->addStretch(1);
    cmdRow->addWidget(copy);
    auto* logLabel = new QLabel(tr("<b>Worker output</b>"));
    logLabel->setObjectName(QStringLiteral("workerOutputLabel"));
    logLabel->setBuddy(log_);
    auto* right = new QWidget;
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    rl->addLayout(checksRow);
    rl->addWidget(messages_);
    rl->addLayout(cmdRow);
    rl->addWidget(command_);
    rl->addLayout(buttons);
    rl->addWidget(status_);
    rl->addWidget(lossChart_, 2);
    rl->addWidget(logLabel);
    rl->addWidget(log_, 1);

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
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
    f.comm = comm_->currentText().toStdString();
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
    comm_->setCurrentText(fromStd(f.comm));
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

void ExperimentPage::setOutput(const QString& traceFile, const QString& runsFolder) {
    output_->setText(traceFile);
    runsFolder_->setText(runsFolder);
}

QString ExperimentPage::runsFolder() const {
    const QString f = runsFolder_->text().trimmed();
    if (!f.isEmpty()) return QFileInfo(f).absoluteFilePath();
    const QString out = output_->text().trimmed();
    return out.isEmpty() ? QString() : fromStd(default_runs_root(out.toStdString()).string());
}

nlohmann::json ExperimentPage::document() const {
    nlohmann::json doc = specDoc_;
    const ExperimentForm f = form();
    f.applyTo(doc);
    // A spec file without a name keeps deriving it (as scalescope-cli does) while the form shows
    // the derived name.
    if (!specFile_.isEmpty() && !specDoc_.contains("name")) {
        nlohmann::json unnamed = doc;
        unnamed.erase("name");
        if (parse_spec(unnamed).spec.name == f.name) doc = std::move(unnamed);
    }
    return doc;
}

bool ExperimentPage::isSpecFile(const QString& path) {
    const bool jsonName = path.endsWith(QStringLiteral(".json"), Qt::CaseInsensitive);
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return jsonName;
    const QByteArray head = f.read(4096);
    if (head.startsWith("SQLite format 3")) return false;
    qsizetype i = head.startsWith("\xEF\xBB\xBF") ? 3 : 0;  // a UTF-8 byte order mark
    while (i < head.size()) {
        const char c = head[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++i;
        } else if (head.mid(i, 2) == "//") {
            const qsizetype nl = head.indexOf('\n', i);
            i = nl < 0 ? head.size() : nl + 1;
        } else if (head.mid(i, 2) == "/*") {
            const qsizetype end = head.indexOf("*/", i + 2);
            i = end < 0 ? head.size() : end + 2;
        } else {
            return c == '{' || jsonName;
        }
    }
    return jsonName;
}

QString ExperimentPage::loadSpecFile(const QString& path) {
    const QString abs = QFileInfo(path).absoluteFilePath();
    const QString name = QFileInfo(path).fileName();
    const std::string p = abs.toStdString();
    // The one spec loader (as the worker and the CLI read a spec); the form validates live.
    SpecLoadOptions options;
    options.validate = false;
    const LoadedSpec loaded = load_spec_file(p, options);
    const nlohmann::json& doc = loaded.doc;
    if (doc.is_object() && doc.contains("format") && doc["format"].is_string() &&
        doc["format"].get<std::string>() == "scalescope-hardware")
        return tr("“%1” is a hardware file (written by scalescope-cli calibrate), not an experiment spec: "
                  "choose it as the hardware on the What-if page.")
            .arg(name);
    if (!loaded.ok())
        return tr("“%1” is not an experiment spec the Experiment page can load:\n%2")
            .arg(name, fromStd(format_errors(loaded.errors)).trimmed());
    specDoc_ = doc;
    specFile_ = abs;
    setForm(ExperimentForm::fromSpec(loaded.spec, doc));
    emit statusMessage(tr("Loaded the spec %1 into the Experiment form").arg(name));
    return {};
}

void ExperimentPage::forgetSpecFile() {
    specDoc_ = nlohmann::json::object();
    specFile_.clear();
    revalidate();
}

QStringList ExperimentPage::validationMessages() const {
    QStringList out;
    for (const SpecError& e : check_.errors) out << fromStd(e.message);
    if (!check_.studyError.isEmpty()) out << check_.studyError;
    out << launchProblems_;
    return out;
}

bool ExperimentPage::canLaunch() const { return !running_ && check_.ok() && launchProblems_.isEmpty(); }

void ExperimentPage::updateLaunchProblems() {
    const QString out = output_->text().trimmed();
    const QString root = runsFolder();
    const QFileInfo fi(out);
    // Checking the trace file opens it: only when it (or a path) changed since the last check.
    const QString key = out + QLatin1Char('\n') + root + QLatin1Char('\n') +
                        (fi.exists() ? QString::number(fi.size()) + QLatin1Char('@') +
                                           QString::number(fi.lastModified().toMSecsSinceEpoch())
                                     : QString());
    if (key != pathProblemsKey_) {
        pathProblemsKey_ = key;
        pathProblems_.clear();
        if (out.isEmpty()) {
            pathProblems_ << tr("no trace file is given (the runs are written into one)");
        } else {
            if (auto p = output_problem(out.toStdString())) pathProblems_ << fromStd(*p);
            if (auto p = runs_root_problem(root.toStdString())) pathProblems_ << fromStd(*p);
        }
    }
    launchProblems_ = pathProblems_;
    // The programs are looked for every time (a build may just have made them).
    try {
        worker_ = find_program("scalescope-worker");
    } catch (const std::exception& e) {
        worker_ = "scalescope-worker";  // the command box still shows a command
        launchProblems_ << fromStd(e.what());
    }
    if (const QString m = mpirunProblem(); !m.isEmpty()) launchProblems_ << m;
}

void ExperimentPage::revalidate() {
    const bool study = study_->isChecked();
    for (QWidget* w : {static_cast<QWidget*>(vary1_), static_cast<QWidget*>(vary2_), static_cast<QWidget*>(repeats_),
                       static_cast<QWidget*>(weak_), static_cast<QWidget*>(stopOnFailure_)})
        w->setEnabled(study);
    const QString out = output_->text().trimmed();
    runsFolder_->setPlaceholderText(
        out.isEmpty() ? tr("beside the trace file")
                      : tr("beside the trace file: %1").arg(fromStd(default_runs_root(out.toStdString()).string())));
    const nlohmann::json doc = document();
    check_ = checkDocument(doc, study, {vary1_->text(), vary2_->text()}, repeats_->value(), weak_->isChecked(), true);
    updateLaunchProblems();
    world_->setText(tr("world size = dp × tp × pp = <b>%1</b> ranks%2")
                        .arg(check_.world)
                        .arg(check_.params > 0 ? tr(" · %1 parameters").arg(QLocale().toString(check_.params)) : QString()));
    const std::filesystem::path root = runsFolder().toStdString();
    const std::string runDir = study ? std::string() : next_run_dir(root, check_.spec.name).string();
    messages_->clear();
    for (const QString& m : validationMessages()) {
        auto* item = new QListWidgetItem(QStringLiteral("✗ ") + m);
        item->setForeground(QColor(0xc6, 0x28, 0x28));
        messages_->addItem(item);
    }
    if (canLaunch() || (running_ && check_.ok() && launchProblems_.isEmpty())) {
        if (study) {
            messages_->addItem(tr("✓ the study is valid: %1 runs into %2")
                                   .arg(check_.studyPoints.size())
                                   .arg(QDir::toNativeSeparators(runsFolder())));
            for (const QString& p : check_.studyPoints) messages_->addItem(QStringLiteral("   ") + p);
        } else {
            messages_->addItem(tr("✓ the spec is valid; the run goes to %1").arg(fromStd(runDir)));
        }
    }
    forget_->setVisible(!specFile_.isEmpty());
    if (!specFile_.isEmpty()) {
        const QStringList extra = fieldsNotInForm(doc);
        auto* item = new QListWidgetItem(
            extra.isEmpty()
                ? tr("• from %1: every field of it is in the form").arg(QFileInfo(specFile_).fileName())
                : tr("• from %1, not in the form and launched as the file says: %2")
                      .arg(QFileInfo(specFile_).fileName(), extra.join(QStringLiteral(", "))));
        item->setToolTip(specFile_);
        messages_->addItem(item);
    }

    // The commands: the run's, or every point's of a study (as `scalescope-cli study --dry-run`).
    QString cmd;
    try {
        const std::string& worker = worker_;  // found by updateLaunchProblems above
        const LaunchEnvironment env = LaunchEnvironment::current();
        if (study) {
            if (check_.plan.points.empty()) {
                cmd = tr("# the study has problems (see Checks)");
            } else {
                cmd = tr("# %1 runs, one after another, each in its own run folder (NNN is numbered at launch); "
                         "scalescope-cli study --dry-run prints the same")
                          .arg(check_.plan.points.size()) +
                      QLatin1Char('\n') + fromStd(study_commands(check_.plan, root, worker, mpirunProgram(), env));
            }
        } else if (const auto sub = plan_submitted_run(check_.spec, runDir, worker, mpirunProgram(), env, slurm())) {
            // The job script a launch submits (scalescope-cli run --launcher slurm --dry-run prints the same).
            cmd = tr("# submitted with sbatch as <run folder>/job.sbatch, followed until it ends:\n") + fromStd(sub->script);
        } else {
            const MpirunPlan plan = plan_run_command(check_.spec, runDir, worker, mpirunProgram(), env);
            cmd = fromStd(command_line(plan.argv));
            if (plan.oversubscribed)
                cmd += tr("\n# %1 ranks on fewer slots (%2): oversubscribed, timings will be contended")
                           .arg(plan.ranks)
                           .arg(fromStd(plan.slots_source));
        }
    } catch (const std::exception& e) {
        cmd = tr("# cannot build the command: %1").arg(fromStd(e.what()));
    }
    command_->setPlainText(cmd);
    launch_->setEnabled(canLaunch());
}

QString ExperimentPage::commandText() const { return command_->toPlainText(); }
QString ExperimentPage::statusText() const { return status_->text(); }

void ExperimentPage::launch() {
    if (!canLaunch()) return;
    const nlohmann::json doc = document();
    const bool study = study_->isChecked();
    StudyRunRequest rq;
    try {
        if (study) {
            rq.points = check_.plan.points;
            rq.study = traces::StudyInfo{traces::StudyId(), check_.spec.name + " study", check_.plan.variable,
                                         check_.plan.scaling};
        } else {
            rq.points = {single_run_point(doc)};
        }
        rq.worker = find_program("scalescope-worker");
        rq.env = LaunchEnvironment::current();
    } catch (const std::exception& e) {
        status_->setText(tr("Cannot launch: %1").arg(fromStd(e.what())));
        return;
    }
    rq.output = output_->text().trimmed().toStdString();
    rq.runs_root = runsFolder().toStdString();
    rq.mpirun = mpirunProgram();
    rq.slurm = slurm();
    rq.stop_on_failure = study && stopOnFailure_->isChecked();

    running_ = true;
    launch_->setEnabled(false);
    cancel_->setEnabled(true);
    cancelFlag_ = std::make_shared<std::atomic<bool>>(false);
    rq.cancel = cancelFlag_.get();
    log_->clear();
    pointIndex_ = 0;
    points_ = static_cast<int>(rq.points.size());
    stepText_.clear();
    runClock_.start();
    ticker_->start();
    setPhase(tr("starting…"));
    progress_->setRange(0, steps_->value());
    progress_->setValue(0);
    maxLoss_ = 0;
    auto* chart = new QChart;
    chart->setTitle(tr("Loss (rank 0)"));
    loss_ = new QLineSeries;
    loss_->setName(tr("loss"));
    chart->addSeries(loss_);
    auto* x = new QValueAxis;
    setNiceTicks(x, 0, steps_->value(), std::min(8, steps_->value() + 1));  // whole steps: at most one tick a step
    x->setTitleText(tr("step"));
    auto* y = new QValueAxis;
    setNiceTicks(y, 0, 1, 5);
    y->setTitleText(tr("loss (nats)"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    loss_->attachAxis(x);
    loss_->attachAxis(y);
    chart->legend()->hide();
    setChart(lossChart_, chart);
    revalidate();
    emit launchStarted();

    // The callbacks run on the job's thread: each hands a copy to the GUI thread.
    QPointer<ExperimentPage> self(this);
    auto onGui = [self](auto fn) {
        QMetaObject::invokeMethod(qApp, [self, fn = std::move(fn)] {
            if (self) fn(self.data());
        }, Qt::QueuedConnection);
    };
    const int n = points_;
    std::vector<std::string> values;
    for (const auto& p : rq.points) values.push_back(p.value);
    rq.on_point_started = [onGui, n](std::size_t i, const std::string& dir) {
        onGui([i, n, dir = fromStd(dir)](ExperimentPage* p) { p->onPointStarted(static_cast<int>(i), n, dir); });
    };
    rq.on_plan = [onGui](std::size_t, const MpirunPlan& mp) { onGui([mp](ExperimentPage* p) { p->onPlan(mp); }); };
    rq.on_line = [onGui](std::size_t, const TaggedLine& l) { onGui([l](ExperimentPage* p) { p->onLine(l); }); };
    rq.on_progress = [onGui, n](std::size_t i, const Progress& pr) {
        onGui([pr, i, n](ExperimentPage* p) { p->onProgress(pr, static_cast<int>(i), n); });
    };
    rq.on_point_finished = [onGui, n, values](std::size_t i, const RunOutcome& o) {
        const QString which = n == 1 ? QStringLiteral("── run")
                                     : QStringLiteral("── run %1 of %2 (%3)").arg(i + 1).arg(n).arg(fromStd(values[i]));
        QString line = QStringLiteral("%1: %2 in %3 s (run %4)")
                           .arg(which, fromStd(std::string(traces::to_string(o.status))))
                           .arg(o.job.wall_s, 0, 'f', 1)
                           .arg(o.run.value);
        if (!o.failure_reason.empty()) line += QStringLiteral(": ") + fromStd(o.failure_reason);
        for (const auto& w : o.warnings) line += QStringLiteral("\n   warning: ") + fromStd(w);
        onGui([line](ExperimentPage* p) { p->log_->appendPlainText(line); });
    };
    using Result = std::pair<int, QString>;
    startJob<Result>(
        this,
        // `flag` keeps the cancel flag alive while the runs use it (the page may close first).
        [rq = std::move(rq), study, flag = cancelFlag_](const CancelToken&) -> Result {
            const StudyRunResult res = run_study(rq);
            const bool cancelled = res.cancelled || flag->load();
            if (cancelled) return {static_cast<int>(traces::RunStatus::Cancelled), QStringLiteral("cancelled")};
            if (!study && !res.runs.empty())
                return {static_cast<int>(res.runs[0].outcome.status), fromStd(res.runs[0].outcome.failure_reason)};
            if (res.failed == 0) return {static_cast<int>(traces::RunStatus::Completed), QString()};
            QString first;
            for (const auto& r : res.runs)
                if (r.outcome.status != traces::RunStatus::Completed && first.isEmpty())
                    first = fromStd(r.point.value + ": " + r.outcome.failure_reason);
            return {static_cast<int>(traces::RunStatus::Failed),
                    QObject::tr("%1 of %2 runs did not complete%3 (first: %4)")
                        .arg(res.failed)
                        .arg(rq.points.size())
                        .arg(res.stopped_on_failure ? QObject::tr("; the study stopped there") : QString())
                        .arg(first)};
        },
        [this](Result r) { onFinished(r.first, r.second); },
        [this](const QString& e) { onFinished(static_cast<int>(traces::RunStatus::Failed), e); });
}

void ExperimentPage::cancel() {
    if (cancelFlag_) cancelFlag_->store(true);
    status_->setText(tr("Cancelling…"));
}

void ExperimentPage::setPhase(const QString& text) {
    phase_ = text;
    emit phaseChanged(text);
    updateStatus();
}

void ExperimentPage::updateStatus() {
    if (!running_) {
        ticker_->stop();
        return;
    }
    const QString where = points_ > 1 ? tr("run %1 of %2 · ").arg(pointIndex_ + 1).arg(points_) : QString();
    const qint64 s = runClock_.isValid() ? runClock_.elapsed() / 1000 : 0;
    status_->setText(tr("%1%2 · %3 s").arg(where, stepText_.isEmpty() ? phase_ : stepText_).arg(s));
}

void ExperimentPage::onPointStarted(int pointIndex, int points, const QString& runDir) {
    pointIndex_ = pointIndex;
    points_ = points;
    runClock_.restart();
    stepText_.clear();
    if (points > 1) {
        if (loss_) loss_->clear();
        maxLoss_ = 0;
        log_->appendPlainText(tr("── run %1 of %2 in %3").arg(pointIndex + 1).arg(points).arg(runDir));
    } else {
        log_->appendPlainText(tr("── run folder %1").arg(runDir));
    }
    progress_->setValue(0);
    setPhase(tr("starting…"));
}

void ExperimentPage::onPlan(const MpirunPlan& plan) {
    log_->appendPlainText(QStringLiteral("$ ") + fromStd(command_line(plan.argv)));
    setPhase((plan.ranks == 1 ? tr("starting 1 rank (mpirun)…") : tr("starting %1 ranks (mpirun)…").arg(plan.ranks)) +
             (plan.oversubscribed ? tr(" oversubscribed: more ranks than cores") : QString()));
}

void ExperimentPage::onLine(const TaggedLine& l) {
    // Rank 0's progress JSON is the curve and the status (onProgress); everything else shows.
    if (l.stream == Stream::Stdout && l.rank == 0 && parse_progress_line(l.text)) return;
    const QString who = l.stream == Stream::Mpirun ? QStringLiteral("[mpirun] ") : QStringLiteral("[%1] ").arg(l.rank);
    log_->appendPlainText(who + fromStd(l.text));
    // A submitted run: the job's state while it waits in the queue and runs.
    if (l.stream == Stream::Mpirun && stepText_.isEmpty())
        if (const auto st = parse_slurm_state_line(l.text))
            setPhase(st->state == "PENDING" ? tr("Slurm job %1 waiting in the queue (%2)").arg(fromStd(st->id), fromStd(st->reason))
                                            : tr("Slurm job %1 %2 on %3").arg(fromStd(st->id), fromStd(st->state),
                                                                            fromStd(st->nodes.empty() ? std::string("-") : st->nodes)));
}

std::optional<SlurmSubmit> ExperimentPage::slurm() const {
    if (launcher_->currentIndex() != 1) return std::nullopt;
    return SlurmSubmit{partition_->text().trimmed().toStdString(), time_->text().trimmed().toStdString(),
                       account_->text().trimmed().toStdString()};
}

void ExperimentPage::setSlurm(const std::optional<SlurmSubmit>& s) {
    launcher_->setCurrentIndex(s ? 1 : 0);
    partition_->setText(s ? fromStd(s->partition) : QString());
    time_->setText(s ? fromStd(s->time) : QString());
    account_->setText(s ? fromStd(s->account) : QString());
}

void ExperimentPage::onProgress(const Progress& p, int pointIndex, int points) {
    pointIndex_ = pointIndex;
    points_ = points;
    const std::string event = p.raw.value(progress::kEvent, std::string());
    switch (p.kind) {
        case Progress::Kind::Step: break;
        case Progress::Kind::Start: {
            const long long params = p.raw.value(progress::kParams, 0LL);
            log_->appendPlainText(tr("[0] model built: %1 parameters, %2 ranks; training")
                                      .arg(QLocale().toString(params))
                                      .arg(p.raw.value(progress::kWorld, 0)));
            if (stepText_.isEmpty()) setPhase(tr("rank 0: running step 0…"));
            return;
        }
        case Progress::Kind::Eval:
            log_->appendPlainText(tr("[0] evaluation after step %1: loss %2%3")
                                      .arg(p.step)
                                      .arg(p.loss, 0, 'f', 4)
                                      .arg(p.accuracy ? tr(", accuracy %1").arg(formatPercent(*p.accuracy, 2)) : QString()));
            return;
        case Progress::Kind::Summary:
            log_->appendPlainText(tr("[0] finished: final loss %1, median step %2")
                                      .arg(p.loss, 0, 'f', 4)
                                      .arg(formatDuration(p.step_time_s * 1e9)));
            setPhase(tr("rank 0: finished training; merging the rank trace files…"));
            return;
        case Progress::Kind::Other:
            if (event == progress::kPhaseEvent) {
                const QString what = fromStd(p.raw.value(progress::kPhase, std::string("?")));
                log_->appendPlainText(QStringLiteral("[0] %1…").arg(what));
                if (stepText_.isEmpty()) setPhase(tr("rank 0: %1…").arg(what));
            }
            return;
    }
    if (points > 1 && p.step == 0) loss_->clear();
    progress_->setValue(static_cast<int>(p.step + 1));
    loss_->append(static_cast<double>(p.step), p.loss);
    maxLoss_ = std::max(maxLoss_, p.loss);
    if (auto* y = qobject_cast<QValueAxis*>(lossChart_->chart()->axes(Qt::Vertical).value(0))) setNiceTicks(y, 0, maxLoss_ * 1.05, 5);
    stepText_ = tr("step %1 · loss %2 · %3").arg(p.step).arg(p.loss, 0, 'f', 4).arg(formatRate(p.rate, fromStd(p.rate_unit)));
    updateStatus();
    emit progressed(p.step, p.loss);
}

void ExperimentPage::onFinished(int status, const QString& reason) {
    running_ = false;
    ticker_->stop();
    cancel_->setEnabled(false);
    cancelFlag_.reset();
    const auto st = static_cast<traces::RunStatus>(status);
    const QString output = output_->text().trimmed();
    status_->setText(st == traces::RunStatus::Completed
                         ? tr("Completed: written to %1 (run folders in %2)").arg(output, runsFolder())
                         : tr("%1: %2").arg(fromStd(std::string(traces::to_string(st))), reason));
    revalidate();
    emit launchFinished(status, reason, output);
    if (QFileInfo::exists(output)) emit openRequested(output);
}

}  // namespace ss::gui

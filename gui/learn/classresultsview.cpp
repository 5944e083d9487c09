#include "gui/learn/classresultsview.h"

#include <QChart>
#include <QChartView>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineEdit>
#include <QLineSeries>
#include <QMessageBox>
#include <QPen>
#include <QPushButton>
#include <QScatterSeries>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "gui/common/report.h"
#include "gui/common/tablepanel.h"

namespace ss::gui {

using namespace ss::core;

namespace {

// Okabe-Ito: distinguishable with the common colour-vision deficiencies and on a projector.
const QColor kMachineColors[] = {QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00),
                                 QColor(0x00, 0x9e, 0x73), QColor(0xcc, 0x79, 0xa7),
                                 QColor(0x56, 0xb4, 0xe9), QColor(0xd5, 0x5e, 0x00),
                                 QColor(0xf0, 0xe4, 0x42), QColor(0x55, 0x55, 0x55)};
QColor machineColor(size_t i) {
    return kMachineColors[i % std::size(kMachineColors)];
}

QString fText(double f) {
    return std::isfinite(f) ? formatNumber(f, 2) : QObject::tr("no fit");
}

QString pList(const std::vector<std::int32_t>& ps) {
    QStringList s;
    for (auto p : ps) s << QString::number(p);
    return s.isEmpty() ? QString() : QObject::tr("p = %1").arg(s.join(QStringLiteral(", ")));
}

const LawFit* amdahl(const ScalingResult& r) {
    const LawFit* f = find_fit(r, Law::Amdahl);
    return f && f->ok ? f : nullptr;
}

std::unique_ptr<TableModel<ClassEntry>> makeMachineModel() {
    using M = TableModel<ClassEntry>;
    auto fixed2 = [](const QVariant& v) {
        return std::isfinite(v.toDouble()) ? formatNumber(v.toDouble(), 2) : QStringLiteral("–");
    };
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("Machine"),
         [](const ClassEntry& e) { return QVariant(fromStd(e.label)); },
         {},
         QObject::tr(
             "The host the study ran on (runs.hosts); the file name when two files share a host")},
        {QObject::tr("Device"),
         [](const ClassEntry& e) { return QVariant(fromStd(e.summary.device)); },
         {},
         QObject::tr("Rank 0's device in the largest run, as the worker recorded it")},
        {QObject::tr("Points"),
         [](const ClassEntry& e) { return QVariant(e.summary.points); },
         {},
         QObject::tr("Distinct process counts measured")},
        {QObject::tr("Max p"), [](const ClassEntry& e) { return QVariant(e.summary.max_p); }},
        {QObject::tr("Speedup"),
         [](const ClassEntry& e) { return QVariant(e.summary.speedup_at_max); },
         [](const QVariant& v) { return formatNumber(v.toDouble(), 3) + QStringLiteral("×"); },
         QObject::tr("Speedup at the largest p measured: T(1)/T(max p)")},
        {QObject::tr("Efficiency"),
         [](const ClassEntry& e) { return QVariant(e.summary.efficiency_at_max); },
         [](const QVariant& v) { return formatPercent(v.toDouble(), 0); },
         QObject::tr("Efficiency at the largest p measured: speedup ÷ p")},
        {QObject::tr("Serial fraction f"),
         [](const ClassEntry& e) { return QVariant(e.summary.serial_fraction); }, fixed2,
         QObject::tr("Amdahl's law fitted to this machine's points (core::analyze_study)")},
        {QObject::tr("Fit"),
         [](const ClassEntry& e) { return QVariant(fromStd(e.summary.fit_quality)); },
         {},
         QObject::tr("R² of the Amdahl fit: good at 0.9 and above")},
        {QObject::tr("Oversubscribed"),
         [](const ClassEntry& e) { return QVariant(e.summary.oversubscribed_points); },
         {},
         QObject::tr("Points with more ranks than cores: contended timings"),
         [](const ClassEntry& e) {
             return e.summary.oversubscribed_points ? pList(e.summary.oversubscribed_p) : QString();
         }},
        {QObject::tr("File"), [](const ClassEntry& e) { return QVariant(fromStd(e.file_name)); }},
    });
}

std::unique_ptr<TableModel<ClassBadFile>> makeBadModel() {
    using M = TableModel<ClassBadFile>;
    return std::make_unique<M>(std::vector<M::Column>{
        {QObject::tr("File"), [](const ClassBadFile& b) { return QVariant(fromStd(b.file_name)); }},
        {QObject::tr("Why it was not read"),
         [](const ClassBadFile& b) { return QVariant(fromStd(b.reason)); }},
    });
}

}  // namespace

ClassResultsView::ClassResultsView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("classResultsView"));
    machines_ = makeMachineModel();
    bad_ = makeBadModel();

    path_ = new QLineEdit;
    path_->setObjectName(QStringLiteral("classFolder"));
    path_->setPlaceholderText(tr("folder of the participants' study files (*.sqlite)"));
    open_ = new QPushButton(tr("Open folder…"));
    open_->setObjectName(QStringLiteral("classOpenFolder"));
    report_ = new QPushButton(tr("Save report…"));
    report_->setObjectName(QStringLiteral("classSaveReport"));
    report_->setToolTip(
        tr("The selected machine's one-page report (HTML with the charts embedded, or PDF)"));
    report_->setEnabled(false);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Folder:")));
    top->addWidget(path_, 1);
    top->addWidget(open_);
    top->addWidget(report_);

    status_ = new QLabel(
        tr("Open the folder where the participants' study files were collected: every machine's "
           "speedup on one chart, and who scaled how."));
    status_->setWordWrap(true);
    status_->setObjectName(QStringLiteral("classStatus"));

    chart_ = makeChartView(QStringLiteral("class-results"));
    chart_->setObjectName(QStringLiteral("classChart"));
    machinesPanel_ = new TablePanel(tr("Machines"), machines_.get());
    machinesPanel_->setDefaultSort(6, Qt::AscendingOrder);
    badPanel_ = new TablePanel(tr("Files not read"), bad_.get());
    badPanel_->setVisible(false);
    // The reasons wrap within the table's width.
    badPanel_->view()->setWordWrap(true);
    badPanel_->view()->horizontalHeader()->setStretchLastSection(true);
    connect(badPanel_->view()->horizontalHeader(), &QHeaderView::sectionResized, badPanel_->view(),
            &QTableView::resizeRowsToContents);

    auto* tables = new QWidget;
    auto* tl = new QVBoxLayout(tables);
    tl->setContentsMargins(0, 0, 0, 0);
    tl->addWidget(machinesPanel_, 2);
    tl->addWidget(badPanel_, 1);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(chart_);
    split->addWidget(tables);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({460, 340});

    auto* lay = new QVBoxLayout(this);
    lay->addLayout(top);
    lay->addWidget(status_);
    lay->addWidget(split, 1);

    connect(open_, &QPushButton::clicked, this, &ClassResultsView::chooseFolder);
    connect(path_, &QLineEdit::returnPressed, this, [this] { setFolder(path_->text()); });
    connect(report_, &QPushButton::clicked, this, &ClassResultsView::saveReportInteractive);
    connect(machinesPanel_->view()->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] {
                report_->setEnabled(selectedEntry() >= 0);
                redraw();
            });
    redraw();
}

ClassResultsView::~ClassResultsView() {
    job_.cancel();
}

QString ClassResultsView::folder() const {
    return path_->text();
}

void ClassResultsView::setFolder(const QString& folder) {
    job_.cancel();
    path_->setText(folder);
    status_->setText(tr("Reading the study files of %1…").arg(folder.toHtmlEscaped()));
    const std::string dir = folder.toStdString();
    job_ = startJob<ClassResults>(
        this,
        [dir](const CancelToken& token) {
            ClassOptions o;
            o.cancelled = [token] { return token.cancelled(); };
            try {
                return class_results(dir, o);
            } catch (const ClassCancelled&) {
                throw JobCancelled{};
            }
        },
        [this](ClassResults r) { showResults(std::move(r)); },
        [this](const QString& error) {
            results_.reset();
            machines_->setRows({});
            bad_->setRows({});
            badPanel_->setVisible(false);
            status_->setText(tr("Cannot read the folder: %1").arg(error.toHtmlEscaped()));
            redraw();
            emit failed(error);
        });
}

void ClassResultsView::showResults(ClassResults r) {
    results_ = std::move(r);
    machines_->setRows(results_->entries);
    bad_->setRows(results_->bad);
    badPanel_->setVisible(!results_->bad.empty());
    const int n = static_cast<int>(results_->entries.size());
    QString text = n ? (n == 1 ? tr("1 machine from %1") : tr("%1 machines from %2").arg(n))
                           .arg(QFileInfo(folder()).fileName().toHtmlEscaped())
                     : tr("No study file in %1 could be read.").arg(folder().toHtmlEscaped());
    if (!results_->bad.empty())
        text += results_->bad.size() == 1
                    ? tr("; 1 file could not be read (listed below with the reason)")
                    : tr("; %1 files could not be read (listed below with the reason)")
                          .arg(results_->bad.size());
    int over = 0;
    for (const ClassEntry& e : results_->entries) over += e.summary.oversubscribed_points ? 1 : 0;
    if (over)
        text += tr(
            ". Square markers: oversubscribed points (more ranks than cores, contended timings)");
    if (n) text += tr(". Select a machine to save its one-page report");
    status_->setText(text + QStringLiteral("."));
    report_->setEnabled(false);
    machinesPanel_->view()->setWordWrap(false);
    machinesPanel_->view()->resizeColumnsToContents();
    badPanel_->view()->resizeColumnToContents(0);
    badPanel_->view()->resizeRowsToContents();
    redraw();
    emit loaded();
}

int ClassResultsView::selectedEntry() const {
    const auto rows = machinesPanel_->view()->selectionModel()->selectedRows();
    if (rows.isEmpty() || !results_) return -1;
    return machinesPanel_->proxy()->mapToSource(rows.front()).row();
}

void ClassResultsView::selectEntry(int entry) {
    const QModelIndex src = machines_->index(entry, 0);
    if (!src.isValid()) {
        machinesPanel_->view()->clearSelection();
        return;
    }
    machinesPanel_->view()->selectionModel()->select(
        machinesPanel_->proxy()->mapFromSource(src),
        QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

bool ClassResultsView::saveReport(int entry, const QString& out, QString* error) const {
    if (!results_ || entry < 0 || entry >= static_cast<int>(results_->entries.size())) {
        if (error) *error = tr("no machine selected");
        return false;
    }
    return writeStudyReport(results_->entries[static_cast<size_t>(entry)].summary, out, error);
}

void ClassResultsView::chooseFolder() {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Folder of study files"), folder());
    if (!dir.isEmpty()) setFolder(dir);
}

void ClassResultsView::saveReportInteractive() {
    const int entry = selectedEntry();
    if (entry < 0) return;
    const ClassEntry& e = results_->entries[static_cast<size_t>(entry)];
    const QString suggested =
        QFileInfo(QDir(folder()), QFileInfo(fromStd(e.file_name)).completeBaseName() +
                                      QStringLiteral("-report.html"))
            .filePath();
    const QString out =
        QFileDialog::getSaveFileName(this, tr("Save report"), suggested,
                                     tr("Report (*.html *.pdf);;HTML (*.html);;PDF (*.pdf)"));
    if (out.isEmpty()) return;
    QString error;
    if (!saveReport(entry, out, &error)) QMessageBox::warning(this, tr("Save report"), error);
}

void ClassResultsView::redraw() {
    auto* c = new QChart;
    c->setTitle(tr("Speedup S(p) = T(1)/T(p) on each machine"));
    if (!results_ || results_->entries.empty()) {
        setChart(chart_, c);
        return;
    }
    const int selected = selectedEntry();
    double pMax = 2, sMax = 1;
    std::vector<int> measured;
    for (const ClassEntry& e : results_->entries)
        for (const ScalingPoint& p : e.summary.scaling.points) {
            pMax = std::max(pMax, double(p.p));
            sMax = std::max(sMax, p.speedup);
            if (std::find(measured.begin(), measured.end(), p.p) == measured.end())
                measured.push_back(p.p);
        }
    std::sort(measured.begin(), measured.end());
    const bool lg = pMax >= 16;  // 1, 2, 4, 8, 16 … evenly spaced
    // A little room for the last markers where the integer ticks keep p = 2 (7 ticks at most).
    const double xHi = lg ? pMax * 1.15 : pMax <= 4 ? pMax * 1.06 : pMax;
    c->addAxis(makePAxis(lg, 1, xHi, measured), Qt::AlignBottom);
    c->addAxis(makeValueAxis(0, std::max(sMax * 1.1, pMax * 1.02), tr("speedup (×)")),
               Qt::AlignLeft);
    auto add = [c](QAbstractSeries* s) {
        c->addSeries(s);
        s->attachAxis(c->axes(Qt::Horizontal).first());
        s->attachAxis(c->axes(Qt::Vertical).first());
    };
    add(idealSeries(
        tr("ideal (S = p)"), [](double p) { return p; }, 1, xHi, lg));
    auto* over = new QScatterSeries;
    over->setName(tr("oversubscribed"));
    over->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    over->setMarkerSize(17);
    over->setColor(Qt::transparent);
    over->setBorderColor(QColor(0xd5, 0x5e, 0x00));
    over->setPen(QPen(QColor(0xd5, 0x5e, 0x00), 2));
    std::vector<QAbstractSeries*> hideFromLegend;
    for (size_t i = 0; i < results_->entries.size(); ++i) {
        const ClassEntry& e = results_->entries[i];
        const QColor col = machineColor(i);
        const bool hi = static_cast<int>(i) == selected;
        // The machine's fitted Amdahl curve, dotted in its colour (named in the legend entry).
        if (const LawFit* f = amdahl(e.summary.scaling)) {
            auto* fit = curveSeries(
                {}, [f](double p) { return f->speedup(p); }, 1, xHi, lg, col, Qt::DotLine);
            add(fit);
            hideFromLegend.push_back(fit);
        }
        auto* s = new QLineSeries;
        s->setName(tr("%1 — f = %2").arg(fromStd(e.label), fText(e.summary.serial_fraction)));
        s->setPen(QPen(col, hi ? 4.5 : 2.5));
        s->setPointsVisible(true);
        for (const ScalingPoint& p : e.summary.scaling.points) {
            s->append(p.p, p.speedup);
            if (p.oversubscribed) over->append(p.p, p.speedup);
        }
        add(s);
    }
    if (over->count())
        add(over);
    else
        delete over;
    c->legend()->setAlignment(Qt::AlignRight);
    for (QLegendMarker* m : c->legend()->markers())
        if (std::find(hideFromLegend.begin(), hideFromLegend.end(), m->series()) !=
            hideFromLegend.end())
            m->setVisible(false);
    setChart(chart_, c);
}

}  // namespace ss::gui

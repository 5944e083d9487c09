#include "gui/learn/splitsexplorer.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QSpinBox>
#include <QStackedBarSeries>
#include <QTabWidget>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "gui/common/charts.h"
#include "gui/common/format.h"
#include "gui/common/tablemodel.h"
#include "gui/common/tablepanel.h"

namespace ss::gui {

using core::teach::CommSplit;
using core::teach::StageSplit;

namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;

// Okabe-Ito, in the order of the stacked parts.
const QColor kPartColors[5] = {QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00),
                               QColor(0x00, 0x9e, 0x73), QColor(0xcc, 0x79, 0xa7),
                               QColor(0x99, 0x99, 0x99)};

QString bytesCell(const QVariant& v) {
    return formatBytes(v.toDouble());
}
QString countCell(const QVariant& v) {
    return QLocale().toString(v.toDouble(), 'f', 0);
}

}  // namespace

SplitsExplorer::SplitsExplorer(QWidget* parent) : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    outer->addWidget(new QLabel(tr("<b>What each parallelism splits</b>")));
    auto* intro =
        new QLabel(tr("dp copies the model and splits the batch, tp splits every weight matrix, pp "
                      "splits the layers into "
                      "stages, ZeRO-1 splits the optimizer state: what one rank holds and sends "
                      "(the simulator's model)."));
    intro->setWordWrap(true);
    outer->addWidget(intro);

    // Two rows, so the explorer fits a narrow page.
    auto* row1 = new QHBoxLayout;
    auto* row2 = new QHBoxLayout;
    model_ = new QComboBox;
    model_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    model_->addItem(tr("gpt tiny (example)"), QStringLiteral("gpt:tiny"));
    model_->addItem(tr("gpt mini (example)"), QStringLiteral("gpt:mini"));
    model_->addItem(tr("gpt small (example)"), QStringLiteral("gpt:small"));
    model_->addItem(tr("mlp default (example)"), QStringLiteral("mlp:default"));
    auto spin = [](int lo, int hi, int v) {
        auto* s = new QSpinBox;
        s->setRange(lo, hi);
        s->setValue(v);
        return s;
    };
    dp_ = spin(1, 8, 2);
    tp_ = spin(1, 8, 2);
    pp_ = spin(1, 8, 2);
    micro_ = spin(1, 16, 4);
    zero_ = new QCheckBox(tr("&ZeRO-1"));
    capacity_ = new QComboBox;
    capacity_->addItem(tr("not stated"), 0.0);
    capacity_->addItem(tr("256 MiB"), 0.25 * kGiB);  // a small device: what does not fit
    for (int g : {8, 16, 24, 40, 80}) capacity_->addItem(tr("%1 GiB").arg(g), g * kGiB);
    capacity_->setCurrentIndex(capacity_->findData(16 * kGiB));
    auto add = [&](QHBoxLayout* row, const QString& label, QWidget* w) {
        auto* l = new QLabel(label);
        l->setBuddy(w);
        row->addWidget(l);
        row->addWidget(w);
        row->addSpacing(6);
    };
    add(row1, tr("M&odel"), model_);
    add(row1, tr("Device &memory"), capacity_);
    add(row2, tr("&dp"), dp_);
    add(row2, tr("&tp"), tp_);
    add(row2, tr("&pp"), pp_);
    add(row2, tr("&Micro-batches"), micro_);
    row2->addWidget(zero_);
    row1->addStretch(1);
    row2->addStretch(1);
    outer->addLayout(row1);
    outer->addLayout(row2);

    error_ = new QLabel;
    error_->setWordWrap(true);
    error_->setStyleSheet(QStringLiteral("color: #d55e00"));
    error_->hide();
    outer->addWidget(error_);

    auto* middle = new QHBoxLayout;
    auto* left = new QVBoxLayout;
    chart_ = makeChartView(QStringLiteral("learn-splits"));
    chart_->setMinimumHeight(200);
    left->addWidget(chart_, 1);
    // The parts' colours, never elided (a chart legend elides on a narrow page).
    legend_ = new QLabel;
    legend_->setWordWrap(true);
    legend_->setTextFormat(Qt::RichText);
    left->addWidget(legend_);
    middle->addLayout(left, 1);
    sentences_ = new QTextBrowser;  // scrolls on a narrow page, never cut
    sentences_->setFrameShape(QFrame::NoFrame);
    sentences_->setOpenLinks(false);
    sentences_->viewport()->setAutoFillBackground(false);
    middle->addWidget(sentences_, 1);
    outer->addLayout(middle, 3);

    memModel_ = new TableModel<StageSplit>(
        {
            {tr("Stage"), [](const StageSplit& s) { return s.stage; }},
            {tr("Layers"), [](const StageSplit& s) { return fromStd(s.layers); }},
            {tr("Parameters"), [](const StageSplit& s) { return s.params; }, countCell},
            {tr("Weights"),
             [](const StageSplit& s) { return s.memory.params; },
             bytesCell,
             {},
             {},
             tr("Weights (B)")},
            {tr("Gradients"),
             [](const StageSplit& s) { return s.memory.grads; },
             bytesCell,
             {},
             {},
             tr("Gradients (B)")},
            {tr("Optimizer"),
             [](const StageSplit& s) { return s.memory.optimizer; },
             bytesCell,
             tr("AdamW's m and v (and fp32 master weights in mixed precision); ZeRO-1: 1/dp of "
                "them"),
             {},
             tr("Optimizer (B)")},
            {tr("Activations"),
             [](const StageSplit& s) { return s.memory.activations; },
             bytesCell,
             tr("Kept for backward: one micro-batch's per slot the schedule holds at once"),
             {},
             tr("Activations (B)")},
            {tr("Buffers"),
             [](const StageSplit& s) { return s.memory.buffers; },
             bytesCell,
             tr("Pipeline message slots; ZeRO-1's reduced-gradient shard"),
             {},
             tr("Buffers (B)")},
            {tr("Total"),
             [](const StageSplit& s) { return s.memory.total; },
             bytesCell,
             {},
             {},
             tr("Total (B)")},
            {tr("Of device"),
             [](const StageSplit& s) {
                 return s.memory.capacity > 0 ? s.memory.total / s.memory.capacity : -1.0;
             },
             [](const QVariant& v) {
                 return v.toDouble() < 0 ? QStringLiteral("–") : formatPercent(v.toDouble());
             }},
        },
        this);
    commModel_ = new TableModel<CommSplit>(
        {
            {tr("Stage"), [](const CommSplit& c) { return c.stage; }},
            {tr("Group"), [](const CommSplit& c) { return fromStd(c.group); }},
            {tr("Operation"), [](const CommSplit& c) { return fromStd(c.op); }},
            {tr("What"), [](const CommSplit& c) { return fromStd(c.what); }},
            {tr("Ranks"), [](const CommSplit& c) { return c.group_size; }},
            {tr("Calls / step"), [](const CommSplit& c) { return c.calls; }, countCell},
            {tr("Data / step"),
             [](const CommSplit& c) { return c.bytes; },
             bytesCell,
             tr("The buffers' sizes n, summed over the step's calls"),
             {},
             tr("Data / step (B)")},
            {tr("Sent / rank / step"),
             [](const CommSplit& c) { return c.sent_bytes; },
             bytesCell,
             tr("What one rank puts on its link: ring all-reduce 2(p−1)/p·n, reduce-scatter and "
                "all-gather "
                "(p−1)/p·n, a send n"),
             {},
             tr("Sent / rank / step (B)")},
        },
        this);
    auto* tables = new QTabWidget;
    memPanel_ = new TablePanel(tr("Memory of one rank per stage"), memModel_);
    commPanel_ = new TablePanel(tr("What one rank sends per step"), commModel_);
    tables->addTab(memPanel_, tr("Memory per rank"));
    tables->addTab(commPanel_, tr("Communication per step"));
    outer->addWidget(tables, 2);

    for (QSpinBox* s : {dp_, tp_, pp_, micro_})
        connect(s, &QSpinBox::valueChanged, this, &SplitsExplorer::recompute);
    connect(zero_, &QCheckBox::toggled, this, &SplitsExplorer::recompute);
    connect(model_, &QComboBox::currentIndexChanged, this, &SplitsExplorer::recompute);
    connect(capacity_, &QComboBox::currentIndexChanged, this, &SplitsExplorer::recompute);
    recompute();
}

void SplitsExplorer::setLayout(int dp, int tp, int pp, int microBatches, bool zero) {
    const QSignalBlocker b1(dp_), b2(tp_), b3(pp_), b4(micro_), b5(zero_);
    dp_->setValue(dp);
    tp_->setValue(tp);
    pp_->setValue(pp);
    micro_->setValue(microBatches);
    zero_->setChecked(zero);
    recompute();
}

void SplitsExplorer::setModelIndex(int index) {
    model_->setCurrentIndex(index);
}
void SplitsExplorer::setCapacityIndex(int index) {
    capacity_->setCurrentIndex(index);
}

QString SplitsExplorer::sentencesText() const {
    return sentences_->toPlainText();
}
QString SplitsExplorer::errorText() const {
    return error_->isHidden() ? QString() : error_->text();
}

void SplitsExplorer::setSelection(const Selection& s) {
    std::optional<core::ExperimentSpec> spec;
    QString label;
    if (const RunData* rd = s.runData()) {
        try {
            const core::ParseResult r = core::parse_spec(nlohmann::json::parse(rd->info.spec_json));
            if (r.ok()) {
                spec = r.spec;
                label =
                    tr("the open run #%1: %2").arg(rd->info.id.value).arg(fromStd(rd->info.model));
            }
        } catch (const std::exception&) {
            // An imported run or an unreadable spec: the examples stay.
        }
    }
    const bool had = model_->itemData(0).toString() == QStringLiteral("run");
    const QSignalBlocker block(model_);
    if (had) model_->removeItem(0);
    runSpec_ = spec;
    if (spec) {
        model_->insertItem(0, label, QStringLiteral("run"));
        model_->setCurrentIndex(0);
        const core::ParallelSpec& p = spec->parallel;
        setLayout(std::clamp(p.dp, 1, 8), std::clamp(p.tp, 1, 8), std::clamp(p.pp, 1, 8),
                  std::clamp(p.micro_batches, 1, 16), p.zero > 0);
        return;
    }
    if (had) model_->setCurrentIndex(0);
    recompute();
}

core::ExperimentSpec SplitsExplorer::currentSpec() const {
    const QString key = model_->currentData().toString();
    if (key == QStringLiteral("run") && runSpec_) return *runSpec_;
    const QStringList parts = key.split(QLatin1Char(':'));
    return core::teach::example_spec(parts.value(0).toStdString(), parts.value(1).toStdString());
}

void SplitsExplorer::recompute() {
    core::teach::ParallelChoice c;
    c.dp = dp_->value();
    c.tp = tp_->value();
    c.pp = pp_->value();
    c.micro_batches = micro_->value();
    c.zero = zero_->isChecked() ? 1 : 0;
    zero_->setEnabled(c.dp > 1 || zero_->isChecked());
    try {
        splits_ =
            core::teach::parallel_splits(currentSpec(), c, capacity_->currentData().toDouble());
        error_->hide();
    } catch (const std::exception& e) {
        splits_.reset();
        error_->setText(
            tr("This layout does not work for the model: %1").arg(QString::fromUtf8(e.what())));
        error_->show();
        memModel_->setRows({});
        commModel_->setRows({});
        sentences_->clear();
        legend_->clear();
        setChart(chart_, new QChart);
        return;
    }
    const core::teach::Splits& s = *splits_;
    memModel_->setRows(s.stages);
    commModel_->setRows(s.comm);
    QString html;
    for (const std::string& line : s.sentences)
        html += QStringLiteral("<p>%1</p>").arg(fromStd(line).toHtmlEscaped());
    sentences_->setHtml(html);

    // Stacked bar: one bar per stage (every rank of a stage holds the same).
    double top = 0;
    for (const StageSplit& st : s.stages) top = std::max(top, st.memory.total);
    const bool showCap = s.capacity > 0 && s.capacity <= 4 * top;
    const double scaleMax = std::max(top, showCap ? s.capacity : 0.0);
    const double unit = scaleMax >= kGiB ? kGiB : scaleMax >= 1048576 ? 1048576.0 : 1024.0;
    const QString unitName = unit == kGiB      ? QStringLiteral("GiB")
                             : unit == 1048576 ? QStringLiteral("MiB")
                                               : QStringLiteral("KiB");
    auto* chart = new QChart;
    chart->setTitle(tr("Memory per rank: %1 on %2 ranks").arg(fromStd(s.model)).arg(s.world));
    auto* series = new QStackedBarSeries;
    const QString names[5] = {tr("weights"), tr("gradients"), tr("optimizer"), tr("activations"),
                              tr("buffers")};
    for (int k = 0; k < 5; ++k) {
        auto* set = new QBarSet(names[k]);
        for (const StageSplit& st : s.stages) {
            const core::MemoryEstimate& m = st.memory;
            const double v[5] = {m.params, m.grads, m.optimizer, m.activations, m.buffers};
            *set << v[k] / unit;
        }
        set->setColor(kPartColors[k]);
        series->append(set);
    }
    chart->addSeries(series);
    auto* cat = new QBarCategoryAxis;
    for (const StageSplit& st : s.stages) cat->append(tr("stage %1").arg(st.stage));
    cat->setTitleText(s.stages.size() > 1 ? tr("one rank of each stage (%1 alike)")
                                                .arg(s.world / static_cast<int>(s.stages.size()))
                                          : tr("every rank (%1 alike)").arg(s.world));
    auto* val = makeValueAxis(0, scaleMax / unit * 1.05, tr("%1 per rank").arg(unitName), 5);
    chart->addAxis(cat, Qt::AlignBottom);
    chart->addAxis(val, Qt::AlignLeft);
    series->attachAxis(cat);
    series->attachAxis(val);
    if (showCap) {
        auto* cap = new QLineSeries;
        cap->setName(tr("device memory"));
        cap->append(-0.5, s.capacity / unit);
        cap->append(static_cast<double>(s.stages.size()) - 0.5, s.capacity / unit);
        QPen pen(QColor(0xd5, 0x5e, 0x00));
        pen.setWidthF(2);
        pen.setStyle(Qt::DashLine);
        cap->setPen(pen);
        chart->addSeries(cap);
        cap->attachAxis(cat);
        cap->attachAxis(val);
    }
    chart->legend()->setVisible(false);
    setChart(chart_, chart);
    QStringList legend;
    for (int k = 0; k < 5; ++k)
        legend << QStringLiteral("<span style='color:%1'>■</span>&nbsp;%2")
                      .arg(kPartColors[k].name(), names[k]);
    if (showCap)
        legend << QStringLiteral("<span style='color:#d55e00'>- -</span>&nbsp;%1")
                      .arg(tr("device memory"));
    legend_->setText(legend.join(QStringLiteral(" &nbsp; ")));
    // Chart styling resets series colours: set them again.
    for (int k = 0; k < 5 && k < series->count(); ++k)
        series->barSets()[k]->setColor(kPartColors[k]);
}

}  // namespace ss::gui

#include "gui/learn/pipelineexplorer.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QSpinBox>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "gui/common/charts.h"
#include "gui/common/format.h"

namespace ss::gui {

using core::teach::Gantt;
using core::teach::GanttBox;
using core::teach::PipelineKind;
using core::teach::PipelineParams;
using core::teach::RecordedGantt;

namespace {

// Okabe-Ito blue and orange: apart for every colour vision, on white and on the dark palette.
const QColor kForward(0x00, 0x72, 0xb2);
const QColor kBackward(0xe6, 0x9f, 0x00);

QColor boxColor(const GanttBox& b, int chunks) {
    const QColor base = b.forward ? kForward : kBackward;
    if (chunks <= 1 || b.chunk == 0) return base;
    // Later model chunks lighter: mix towards white.
    const double t = 0.45 * b.chunk / std::max(1, chunks - 1);
    return QColor::fromRgbF(static_cast<float>(base.redF() + (1 - base.redF()) * t),
                            static_cast<float>(base.greenF() + (1 - base.greenF()) * t),
                            static_cast<float>(base.blueF() + (1 - base.blueF()) * t));
}

QColor textOn(const QColor& c) {
    return c.lightnessF() > 0.55 ? QColor(Qt::black) : QColor(Qt::white);
}

QString unitTitle(const Gantt& g) {
    if (g.unit == "f") return GanttView::tr("time (f = one stage's forward of one micro-batch)");
    return GanttView::tr("time (%1)").arg(fromStd(g.unit));
}

QString timeText(double t, const Gantt& g) {
    if (g.unit == "ms") return formatDuration(t * 1e6);
    return QStringLiteral("%1 f").arg(formatNumber(t, 3));
}

}  // namespace

// ---- GanttView ---------------------------------------------------------------------------------

GanttView::GanttView(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    setMouseTracking(true);
}

void GanttView::setGantt(const Gantt& g, const QString& rowPrefix) {
    g_ = g;
    rowPrefix_ = rowPrefix.isEmpty() ? tr("stage") : rowPrefix;
    updateGeometry();
    update();
}

void GanttView::clear() {
    g_ = {};
    updateGeometry();
    update();
}

QSize GanttView::sizeHint() const {
    const QFontMetrics fm(font());
    const int rows = std::max(1, g_.stages);
    return {640, fm.height() * 4 + 16 + rows * (fm.height() + 12)};
}

QSize GanttView::minimumSizeHint() const {
    const QFontMetrics fm(font());
    const int rows = std::max(1, g_.stages);
    return {320, fm.height() * 4 + 12 + rows * (fm.height() + 6)};
}

QRectF GanttView::plotRect() const {
    const QFontMetrics fm(font());
    int label = fm.horizontalAdvance(tr("stage") + QStringLiteral(" 00"));
    if (!rowPrefix_.isEmpty())
        label = std::max(label, fm.horizontalAdvance(rowPrefix_ + QStringLiteral(" 00")));
    const double left = label + 10, top = fm.height() + 10;  // legend line
    const double bottom = 2 * fm.height() + 10;              // tick labels and the axis title
    return QRectF(left, top, std::max(10.0, width() - left - 12),
                  std::max(10.0, height() - top - bottom));
}

QRectF GanttView::boxRect(std::size_t i) const {
    if (i >= g_.boxes.size() || g_.stages <= 0 || !(g_.span() > 0)) return {};
    const QRectF pr = plotRect();
    const GanttBox& b = g_.boxes[i];
    const double rowH = pr.height() / g_.stages, pad = std::min(3.0, rowH * 0.1);
    auto x = [&](double t) { return pr.left() + (t - g_.begin) / g_.span() * pr.width(); };
    return QRectF(QPointF(x(b.start), pr.top() + b.stage * rowH + pad),
                  QPointF(x(b.end), pr.top() + (b.stage + 1) * rowH - pad));
}

void GanttView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, false);
    const QPalette pal = palette();
    const QFontMetrics fm(font());
    p.fillRect(rect(), pal.color(QPalette::Base));
    if (g_.stages <= 0 || !(g_.span() > 0)) return;
    const QRectF pr = plotRect();
    const double rowH = pr.height() / g_.stages;
    auto x = [&](double t) { return pr.left() + (t - g_.begin) / g_.span() * pr.width(); };

    // Legend.
    {
        double lx = pr.left();
        const double ly = 4, sq = fm.height() - 4;
        auto item = [&](const QBrush& brush, const QString& text) {
            p.fillRect(QRectF(lx, ly + 2, sq, sq), brush);
            p.setPen(pal.color(QPalette::Mid));
            p.drawRect(QRectF(lx, ly + 2, sq, sq));
            p.setPen(pal.color(QPalette::Text));
            p.drawText(QPointF(lx + sq + 4, ly + fm.ascent()), text);
            lx += sq + 4 + fm.horizontalAdvance(text) + 16;
        };
        item(kForward, tr("forward"));
        item(kBackward, tr("backward"));
        item(QBrush(pal.color(QPalette::Mid), Qt::BDiagPattern), tr("bubble (idle)"));
        if (g_.chunks > 1) {
            p.setPen(pal.color(QPalette::Text));
            p.drawText(QPointF(lx, ly + fm.ascent()),
                       tr("lighter: later model chunk (of %1)").arg(g_.chunks));
        }
    }

    // Rows: label, idle hatched, separators.
    for (int s = 0; s < g_.stages; ++s) {
        const QRectF row(pr.left(), pr.top() + s * rowH, pr.width(), rowH);
        p.setPen(pal.color(QPalette::Text));
        p.drawText(QRectF(0, row.top(), pr.left() - 8, rowH), Qt::AlignRight | Qt::AlignVCenter,
                   QStringLiteral("%1 %2").arg(rowPrefix_).arg(s));
        const QBrush hatch(pal.color(QPalette::Mid), Qt::BDiagPattern);
        for (const auto& [a, b] : g_.idle(s))
            p.fillRect(QRectF(QPointF(x(a), row.top() + 1), QPointF(x(b), row.bottom() - 1)),
                       hatch);
        p.setPen(QPen(pal.color(QPalette::Midlight), 1));
        if (s > 0) p.drawLine(QPointF(pr.left(), row.top()), QPointF(pr.right(), row.top()));
    }

    // Boxes with their micro-batch number.
    for (std::size_t i = 0; i < g_.boxes.size(); ++i) {
        const GanttBox& b = g_.boxes[i];
        const QRectF r = boxRect(i);
        const QColor c = boxColor(b, g_.chunks);
        p.fillRect(r, c);
        p.setPen(QPen(pal.color(QPalette::Base), 1));
        p.drawRect(r);
        const QString label = QString::number(b.micro_batch);
        if (fm.horizontalAdvance(label) + 4 <= r.width() && fm.height() <= r.height() + 2) {
            p.setPen(textOn(c));
            p.drawText(r, Qt::AlignCenter, label);
        }
    }

    // Frame and time axis with nice ticks.
    p.setPen(pal.color(QPalette::Text));
    p.drawRect(pr);
    const int maxTicks = std::max(
        2, static_cast<int>(pr.width() / (fm.horizontalAdvance(QStringLiteral("0000.00")) + 16)));
    const std::vector<double> ticks = niceTicks(g_.begin, g_.end, maxTicks);
    const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
    for (double t : ticks) {
        if (t < g_.begin - 1e-9 * g_.span() || t > g_.end + 1e-9 * g_.span()) continue;
        const double tx = x(t);
        p.drawLine(QPointF(tx, pr.bottom()), QPointF(tx, pr.bottom() + 4));
        const QString text = formatTick(t, step);
        const double w = fm.horizontalAdvance(text);
        p.drawText(QPointF(std::clamp(tx - w / 2, 0.0, width() - w), pr.bottom() + 4 + fm.ascent()),
                   text);
    }
    const QString title = unitTitle(g_);
    p.drawText(QRectF(pr.left(), pr.bottom() + 6 + fm.height(), pr.width(), fm.height() + 2),
               Qt::AlignHCenter | Qt::AlignTop, title);
}

bool GanttView::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* he = static_cast<QHelpEvent*>(e);
        for (std::size_t i = 0; i < g_.boxes.size(); ++i)
            if (boxRect(i).contains(he->pos())) {
                const GanttBox& b = g_.boxes[i];
                QString text = tr("%1 %2: %3 of micro-batch %4")
                                   .arg(rowPrefix_)
                                   .arg(b.stage)
                                   .arg(b.forward ? tr("forward") : tr("backward"))
                                   .arg(b.micro_batch);
                if (g_.chunks > 1) text += tr(" (model chunk %1)").arg(b.chunk);
                text += tr("\n%1 → %2 (%3)")
                            .arg(timeText(b.start, g_), timeText(b.end, g_),
                                 timeText(b.duration(), g_));
                QToolTip::showText(he->globalPos(), text, this);
                return true;
            }
        QToolTip::hideText();
        e->ignore();
        return true;
    }
    return QWidget::event(e);
}

// ---- PipelineExplorer --------------------------------------------------------------------------

PipelineExplorer::PipelineExplorer(QWidget* parent) : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    auto* title = new QLabel(tr("<b>Pipeline schedules: where the bubble comes from</b>"));
    auto* intro =
        new QLabel(tr("A pipeline cuts the layers into p stages and the batch into m "
                      "micro-batches, each going forward "
                      "through the stages and back. A stage idles (hatched) until the first "
                      "micro-batch reaches it and after "
                      "the last has left: the bubble. GPipe runs all forwards, then all backwards; "
                      "1F1B alternates (less "
                      "activation memory, the same bubble); interleaved 1F1B gives each stage v "
                      "model chunks, so the pipe "
                      "fills v times faster."));
    intro->setWordWrap(true);
    outer->addWidget(title);
    outer->addWidget(intro);

    // Two rows, so the explorer fits a narrow page.
    auto* row1 = new QHBoxLayout;
    auto* row2 = new QHBoxLayout;
    kind_ = new QComboBox;
    kind_->addItem(tr("GPipe"), static_cast<int>(PipelineKind::GPipe));
    kind_->addItem(tr("1F1B"), static_cast<int>(PipelineKind::OneFOneB));
    kind_->addItem(tr("Interleaved 1F1B"), static_cast<int>(PipelineKind::Interleaved));
    kind_->setCurrentIndex(1);
    stages_ = new QSpinBox;
    stages_->setRange(2, 8);
    stages_->setValue(4);
    micro_ = new QSpinBox;
    micro_->setRange(1, 16);
    micro_->setValue(8);
    virtual_ = new QSpinBox;
    virtual_->setRange(2, 4);
    virtual_->setValue(2);
    ratio_ = new QDoubleSpinBox;
    ratio_->setRange(0.5, 4.0);
    ratio_->setSingleStep(0.5);
    ratio_->setDecimals(1);
    ratio_->setValue(2.0);
    ratio_->setSuffix(QStringLiteral(" ×"));
    ratio_->setToolTip(
        tr("A backward pass computes two matrix products for every one of the forward: about 2× "
           "its time."));
    auto add = [&](QHBoxLayout* row, const QString& label, QWidget* w) {
        auto* l = new QLabel(label);
        l->setBuddy(w);
        row->addWidget(l);
        row->addWidget(w);
        row->addSpacing(8);
    };
    add(row1, tr("&Schedule"), kind_);
    add(row1, tr("&Backward / forward"), ratio_);
    add(row2, tr("Stages &p"), stages_);
    add(row2, tr("&Micro-batches m"), micro_);
    add(row2, tr("&Virtual stages v"), virtual_);
    row1->addStretch(1);
    row2->addStretch(1);
    outer->addLayout(row1);
    outer->addLayout(row2);

    bubble_ = new QLabel;
    bubble_->setWordWrap(true);
    bubble_->setTextFormat(Qt::RichText);
    outer->addWidget(bubble_);
    drawn_ = new GanttView;
    outer->addWidget(drawn_, 3);

    recordedTitle_ = new QLabel(tr("<b>The same chart from a recorded run</b>"));
    outer->addWidget(recordedTitle_);
    auto* recRow = new QHBoxLayout;
    recordedInfo_ = new QLabel;
    recordedInfo_->setWordWrap(true);
    recordedInfo_->setTextFormat(Qt::RichText);
    recordedInfo_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    recRow->addWidget(recordedInfo_, 1);
    useLayout_ = new QPushButton(tr("Draw its p, m and schedule above"));
    useLayout_->setToolTip(
        tr("Set the schedule, stages and micro-batches above to the recorded run's"));
    recRow->addWidget(useLayout_, 0, Qt::AlignTop);
    outer->addLayout(recRow);
    recorded_ = new GanttView;
    outer->addWidget(recorded_, 2);

    for (QSpinBox* s : {stages_, micro_, virtual_})
        connect(s, &QSpinBox::valueChanged, this, &PipelineExplorer::redraw);
    connect(ratio_, &QDoubleSpinBox::valueChanged, this, &PipelineExplorer::redraw);
    connect(kind_, &QComboBox::currentIndexChanged, this, &PipelineExplorer::redraw);
    connect(useLayout_, &QPushButton::clicked, this, &PipelineExplorer::useRecordedLayout);
    redraw();
    loadRecorded();
}

PipelineParams PipelineExplorer::params() const {
    PipelineParams p;
    p.kind = static_cast<PipelineKind>(kind_->currentData().toInt());
    p.stages = stages_->value();
    p.micro_batches = micro_->value();
    p.virtual_stages = p.kind == PipelineKind::Interleaved ? virtual_->value() : 1;
    p.forward = 1;
    p.backward = ratio_->value();
    return p;
}

void PipelineExplorer::setSchedule(PipelineKind kind, int stages, int microBatches,
                                   int virtualStages, double backwardOverForward) {
    const QSignalBlocker b1(kind_), b2(stages_), b3(micro_), b4(virtual_), b5(ratio_);
    kind_->setCurrentIndex(kind_->findData(static_cast<int>(kind)));
    stages_->setValue(stages);
    micro_->setValue(microBatches);
    virtual_->setValue(virtualStages);
    ratio_->setValue(backwardOverForward);
    redraw();
}

QString PipelineExplorer::bubbleText() const {
    return bubble_->text();
}
QString PipelineExplorer::recordedText() const {
    return recordedInfo_->text();
}

void PipelineExplorer::redraw() {
    const PipelineParams p = params();
    virtual_->setEnabled(p.kind == PipelineKind::Interleaved);
    try {
        const Gantt g = core::teach::schedule_gantt(p);
        drawn_->setGantt(g);
        const double formula = core::teach::formula_bubble(p);
        bubble_->setText(
            tr("<b>Bubble %1</b> of the stages' time on this chart (idle ÷ p × step, step %2). "
               "The simulator's formula %3 = %4 (<code>core::bubble_fraction</code>, "
               "docs/SIMULATOR.md): %5.")
                .arg(formatPercent(g.bubble_fraction()), timeText(g.span(), g),
                     fromStd(core::teach::formula_text(p)).toHtmlEscaped(), formatPercent(formula),
                     std::abs(formula - g.bubble_fraction()) < 1e-9
                         ? tr("the same")
                         : tr("the chart differs because its stages are not equal")));
    } catch (const std::exception& e) {
        drawn_->clear();
        bubble_->setText(QStringLiteral("<span style='color:#d55e00'>%1</span>")
                             .arg(QString::fromUtf8(e.what()).toHtmlEscaped()));
    }
}

void PipelineExplorer::setReady(bool r) {
    if (r == entryReady()) return;
    setEntryReady(r);
    emit readyChanged(r);
}

void PipelineExplorer::setSelection(const Selection& s) {
    if (s.doc == sel_.doc && s.run == sel_.run && rec_) return;
    sel_ = s;
    loadRecorded();
}

void PipelineExplorer::loadRecorded() {
    job_.cancel();
    rec_.reset();
    recorded_->clear();
    useLayout_->setEnabled(false);
    const QString howTo =
        tr("No pipeline run is open. Record one on this machine (2 ranks, a second): "
           "<code>scalescope-cli run examples/gpt-tiny-tp2pp2.json -o pp.sqlite --set "
           "parallel.tp=1 --set "
           "training.steps=6</code>, then open <code>pp.sqlite</code>.");
    if (!sel_.doc) {
        recordedInfo_->setText(howTo);
        recorded_->hide();
        setReady(true);
        return;
    }
    // The selected run if it is a pipeline run, else the file's first one.
    traces::RunId run;
    if (const RunData* rd = sel_.runData(); rd && rd->info.pp > 1) run = rd->info.id;
    if (!run.valid())
        for (const RunData& rd : sel_.doc->data().runs)
            if (rd.info.pp > 1) {
                run = rd.info.id;
                break;
            }
    if (!run.valid()) {
        recordedInfo_->setText(
            tr("%1 holds no run with pp > 1. ").arg(sel_.doc->displayName().toHtmlEscaped()) +
            howTo);
        recorded_->hide();
        setReady(true);
        return;
    }
    recordedInfo_->setText(tr("Reading run #%1 …").arg(run.value));
    setReady(false);
    const DocumentPtr doc = sel_.doc;
    job_ = startJob<RecordedGantt>(
        this,
        [doc, run](const CancelToken&) {
            return doc->withReader("learn", [run](traces::TraceReader& r) {
                return core::teach::gantt_from_trace(r, run);
            });
        },
        [this](RecordedGantt r) { showRecorded(r); },
        [this, run](const QString& error) {
            recordedInfo_->setText(
                QStringLiteral("<span style='color:#d55e00'>%1</span>")
                    .arg(tr("Run #%1: %2").arg(run.value).arg(error).toHtmlEscaped()));
            recorded_->hide();
            setReady(true);
        });
}

void PipelineExplorer::showRecorded(const RecordedGantt& r) {
    rec_ = r;
    const traces::RunInfo& run = r.run;
    recorded_->setGantt(r.gantt, tr("stage"));  // rank dp 0, tp 0 of each stage
    recorded_->show();
    useLayout_->setEnabled(true);
    QStringList ranks;
    for (int k : r.stage_rank) ranks << QString::number(k);
    core::teach::PipelineParams same;
    same.kind = r.kind;
    same.stages = run.pp;
    same.micro_batches = run.micro_batches;
    same.virtual_stages = 1;
    const double formula = core::teach::formula_bubble(same);
    recordedInfo_->setText(
        tr("%1: run #%2 %3, %4, dp %5 × tp %6 × pp %7, m = %8; step %9 (%10), ranks %11 on the "
           "rows. "
           "<b>Measured bubble %12</b> (idle ÷ p × %13, the pipeline receives' waits counted as "
           "idle); "
           "equal stages would give %14 = %15.%16")
            .arg(sel_.doc->displayName().toHtmlEscaped())
            .arg(run.id.value)
            .arg(fromStd(run.model).toHtmlEscaped(), fromStd(core::teach::to_string(r.kind)))
            .arg(run.dp)
            .arg(run.tp)
            .arg(run.pp)
            .arg(run.micro_batches)
            .arg(r.step)
            .arg(tr("the median of %1 complete steps after %2 warm-up")
                     .arg(r.steps_considered)
                     .arg(r.warmup_steps == 1 ? tr("1 step of")
                                              : tr("%1 steps of").arg(r.warmup_steps)))
            .arg(ranks.join(QStringLiteral(", ")), formatPercent(r.gantt.bubble_fraction()),
                 formatDuration(r.gantt.span() * 1e6),
                 fromStd(core::teach::formula_text(same)).toHtmlEscaped(), formatPercent(formula),
                 run.oversubscribed ? tr(" The run was oversubscribed (more ranks than cores): its "
                                         "times are contended.")
                                    : QString()));
    setReady(true);
}

void PipelineExplorer::useRecordedLayout() {
    if (!rec_) return;
    setSchedule(rec_->kind, std::clamp(rec_->run.pp, 2, 8),
                std::clamp(rec_->run.micro_batches, 1, 16), virtual_->value(), ratio_->value());
}

}  // namespace ss::gui

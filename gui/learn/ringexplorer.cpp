#include "gui/learn/ringexplorer.h"

#include <QCategoryAxis>
#include <QChart>
#include <QComboBox>
#include <QFile>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QScatterSeries>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "gui/common/charts.h"
#include "gui/app/theme.h"
#include "gui/common/format.h"
#include "gui/whatif/whatifpage.h"

namespace ss::gui {

using namespace ss::core;
using namespace ss::core::teach;

namespace {
const QColor kRing(0x00, 0x72, 0xB2);  // Okabe–Ito blue
const QColor kTree(0x00, 0x9E, 0x73);  // bluish green
const QColor kPs(0xD5, 0x5E, 0x00);    // vermillion

constexpr double kMinBytes = 1024, kMaxBytes = 1024.0 * 1024 * 1024;

// A time or size axis drawn on log scale: values are log2(bytes) or log10(seconds), labelled for
// people.
QCategoryAxis* labelledAxis(double lo, double hi,
                            const std::vector<std::pair<double, QString>>& ticks,
                            const QString& title) {
    auto* a = new QCategoryAxis;
    a->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    a->setRange(lo, hi);
    for (const auto& [v, text] : ticks)
        if (v >= lo - 1e-9 && v <= hi + 1e-9) a->append(text, v);
    a->setTitleText(title);
    return a;
}

// 10^e seconds as people say it: "100 ns", "1 µs", "10 ms", "1 s".
QString decade(int e) {
    static const char* units[] = {"ns", "µs", "ms", "s"};
    const int k = std::clamp((e + 9) / 3, 0, 3);
    const double v = std::pow(10.0, e + 9 - 3 * k);
    return QStringLiteral("%1 %2").arg(v, 0, 'g', 6).arg(QString::fromUtf8(units[k]));
}

nlohmann::json readJson(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw HardwareError(path.toStdString() + ": cannot read: " + f.errorString().toStdString());
    const QByteArray text = f.readAll();
    nlohmann::json doc = nlohmann::json::parse(text.constData(), text.constData() + text.size(),
                                               nullptr, false, true);
    if (doc.is_discarded()) throw HardwareError(path.toStdString() + ": not a JSON document");
    return doc;
}
}  // namespace

// ---- RingView ----

RingView::RingView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("learnRingView"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

QColor RingView::rankColor(int r) {
    // The seven Okabe-Ito colours in their order, then grey for the eighth rank.
    return r % 8 == 7 ? QColor(0x55, 0x55, 0x55) : okabeIto(r % 8);
}

void RingView::setState(const RingState& s) {
    state_ = s;
    update();
}

void RingView::paintEvent(QPaintEvent*) {
    QPainter g(this);
    g.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const int p = state_.p;
    const QFontMetrics fm(font());
    const double legendH = fm.height() + 8;
    const double areaW = width(), areaH = height() - legendH;
    // Cards as large as the ring leaves room for: a cell per chunk, a stripe per rank.
    const double cellW =
        std::clamp(std::min(areaW, areaH) * 0.30 / p,
                   std::max(12.0, fm.horizontalAdvance(QStringLiteral("Σ")) + 4.0), 34.0);
    const double cellH = std::max(3.0 * p, std::min(2.0 * cellW, 3.0 * fm.height()));
    const double cardW =
        std::max(p * cellW + 10, fm.horizontalAdvance(QStringLiteral("rank 8")) + 12.0);
    const double cardH = cellH + fm.height() + 10;
    const QPointF centre(areaW / 2.0, areaH / 2.0);
    const double rx = std::max(30.0, (areaW - cardW) / 2.0 - 4),
                 ry = std::max(30.0, (areaH - cardH) / 2.0 - 4);
    const double radius = std::min(rx, ry);
    std::vector<QRectF> cards;
    for (int r = 0; r < p; ++r) {
        const double a = -M_PI / 2 + 2 * M_PI * r / p;  // rank 0 at the top, clockwise
        const QPointF c = centre + QPointF(rx * std::cos(a), ry * std::sin(a));
        cards.emplace_back(c.x() - cardW / 2, c.y() - cardH / 2, cardW, cardH);
    }
    // The sends of the step just taken: arrows from each rank to the next, labelled with the chunk.
    std::vector<RingTransfer> sends;
    if (state_.step > 0) sends = ring_transfers(p, state_.step);
    QPen arrowPen(pal.color(QPalette::WindowText), 2);
    for (const RingTransfer& t : sends) {
        const QPointF a = cards[static_cast<std::size_t>(t.from)].center(),
                      b = cards[static_cast<std::size_t>(t.to)].center();
        // Bend outwards, off the straight chord, so the arrow clears the cards.
        const QPointF mid = (a + b) / 2;
        QPointF out = mid - centre;
        const double len = std::hypot(out.x(), out.y());
        out = len > 1 ? out / len : QPointF(0, -1);
        const QPointF ctrl = mid + out * (0.35 * radius);
        QPainterPath path(a);
        path.quadTo(ctrl, b);
        // Clip the ends to the cards: draw from 30 % to 70 % of the curve.
        QPainterPath part;
        part.moveTo(path.pointAtPercent(0.3));
        for (int i = 31; i <= 70; ++i) part.lineTo(path.pointAtPercent(i / 100.0));
        g.setPen(arrowPen);
        g.setBrush(Qt::NoBrush);
        g.drawPath(part);
        const QPointF tip = path.pointAtPercent(0.70), back = path.pointAtPercent(0.66);
        const double ang = std::atan2(tip.y() - back.y(), tip.x() - back.x());
        QPolygonF head;
        head << tip << tip - QPointF(10 * std::cos(ang - 0.45), 10 * std::sin(ang - 0.45))
             << tip - QPointF(10 * std::cos(ang + 0.45), 10 * std::sin(ang + 0.45));
        g.setBrush(pal.color(QPalette::WindowText));
        g.drawPolygon(head);
        const QString label = (t.reduce ? tr("+ chunk %1") : tr("chunk %1")).arg(t.chunk);
        const QPointF lp = path.pointAtPercent(0.5) + out * (fm.height() * 0.9);
        QRectF lr(0, 0, fm.horizontalAdvance(label) + 6, fm.height() + 2);
        lr.moveCenter(lp);
        g.setPen(Qt::NoPen);
        g.setBrush(pal.color(QPalette::Window));
        g.drawRect(lr);
        g.setPen(pal.color(QPalette::WindowText));
        g.drawText(lr, Qt::AlignCenter, label);
    }
    // The cards: "rank r", then a cell per chunk with a stripe per contribution it holds.
    for (int r = 0; r < p; ++r) {
        const QRectF card = cards[static_cast<std::size_t>(r)];
        g.setPen(QPen(pal.color(QPalette::Mid), 1));
        g.setBrush(pal.color(QPalette::Base));
        g.drawRoundedRect(card, 4, 4);
        QFont bold = font();
        bold.setBold(true);
        g.setFont(bold);
        g.setPen(pal.color(QPalette::Text));
        g.drawText(QRectF(card.left(), card.top() + 2, card.width(), fm.height()), Qt::AlignCenter,
                   tr("rank %1").arg(r));
        g.setFont(font());
        for (int c = 0; c < p; ++c) {
            const QRectF cell(card.left() + 5 + c * cellW, card.top() + fm.height() + 5, cellW - 2,
                              cellH);
            const Contributions held = state_.at(r, c);
            const double stripe = cell.height() / p;
            for (int j = 0; j < p; ++j)
                if (held & (Contributions{1} << j))
                    g.fillRect(QRectF(cell.left(), cell.top() + j * stripe, cell.width(), stripe),
                               rankColor(j));
            bool received = false;
            for (const RingTransfer& t : sends) received |= t.to == r && t.chunk == c;
            const bool full = held == all_ranks(p);
            g.setBrush(Qt::NoBrush);
            g.setPen(QPen(received ? pal.color(QPalette::Highlight) : pal.color(QPalette::Mid),
                          received ? 3 : 1));
            g.drawRect(cell);
            if (full) {
                g.setPen(pal.color(QPalette::Text));
                g.drawText(cell.adjusted(0, 0, 0, 0), Qt::AlignCenter, QStringLiteral("Σ"));
            }
        }
    }
    // Under the ring: which colour is whose contribution.
    double x = 6;
    const double y = height() - fm.height() - 2;
    g.setPen(pal.color(QPalette::WindowText));
    const QString lead = tr("contribution of rank:");
    g.drawText(QPointF(x, y + fm.ascent()), lead);
    x += fm.horizontalAdvance(lead) + 6;
    for (int r = 0; r < p; ++r) {
        g.fillRect(QRectF(x, y + 2, fm.height() - 4, fm.height() - 4), rankColor(r));
        x += fm.height();
        g.drawText(QPointF(x, y + fm.ascent()), QString::number(r));
        x += fm.horizontalAdvance(QStringLiteral("0")) + 8;
    }
}

// ---- RingExplorer ----

RingExplorer::RingExplorer(QWidget* parent) : QWidget(parent) {
    p_ = new QSpinBox;
    p_->setObjectName(QStringLiteral("learnRingRanks"));
    p_->setRange(2, 8);
    p_->setValue(4);
    n_ = new QComboBox;
    n_->setObjectName(QStringLiteral("learnRingBytes"));
    for (double b : {4096.0, 65536.0, 1048576.0, 16777216.0, 268435456.0})
        n_->addItem(fromStd(fmt_bytes(b)), b);
    n_->setCurrentIndex(2);
    servers_ = new QSpinBox;
    servers_->setObjectName(QStringLiteral("learnRingServers"));
    servers_->setRange(1, 8);
    servers_->setValue(1);
    servers_->setToolTip(
        tr("Parameter-server ranks the parameters are sharded over (the chart's parameter-server "
           "curve)"));
    play_ = new QPushButton(tr("Play"));
    play_->setCheckable(true);
    step_ = new QPushButton(tr("Step ▶"));
    back_ = new QPushButton(tr("◀ Back"));
    reset_ = new QPushButton(tr("Reset"));
    play_->setObjectName(QStringLiteral("learnRingPlay"));
    step_->setObjectName(QStringLiteral("learnRingStep"));
    back_->setObjectName(QStringLiteral("learnRingBack"));
    reset_->setObjectName(QStringLiteral("learnRingReset"));
    timer_ = new QTimer(this);
    timer_->setInterval(1200);
    connect(timer_, &QTimer::timeout, this, [this] {
        if (!stepForward()) setPlaying(false);
    });
    connect(play_, &QPushButton::toggled, this, [this](bool on) { setPlaying(on); });
    connect(step_, &QPushButton::clicked, this, [this] { stepForward(); });
    connect(back_, &QPushButton::clicked, this, [this] { stepBack(); });
    connect(reset_, &QPushButton::clicked, this, [this] { reset(); });
    connect(p_, &QSpinBox::valueChanged, this, [this] { rebuildRing(); });
    connect(n_, &QComboBox::currentIndexChanged, this, [this] {
        updateState();
        updateChart();
    });
    connect(servers_, &QSpinBox::valueChanged, this, [this] { updateChart(); });

    view_ = new RingView;
    auto label = [](const char* name, bool wrap = false) {
        auto* l = new QLabel;
        l->setObjectName(QString::fromLatin1(name));
        l->setWordWrap(wrap);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
        return l;
    };
    stepLabel_ = label("learnRingStepLabel", true);
    perLink_ = label("learnRingPerLink", true);
    perRank_ = label("learnRingPerRank", true);
    sentences_ = label("learnRingSentences", true);
    calLabel_ = label("learnRingCalibration", true);
    timesLabel_ = label("learnRingTimes", true);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("ranks p")));
    controls->addWidget(p_);
    controls->addWidget(new QLabel(tr("buffer n")));
    controls->addWidget(n_);
    controls->addSpacing(8);
    controls->addWidget(new QLabel(tr("parameter servers S")));
    controls->addWidget(servers_);
    controls->addStretch(1);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(reset_);
    buttons->addWidget(back_);
    buttons->addWidget(step_);
    buttons->addWidget(play_);
    buttons->addSpacing(8);
    buttons->addWidget(stepLabel_, 1);

    auto* left = new QWidget;
    auto* ll = new QVBoxLayout(left);
    ll->setContentsMargins(0, 0, 0, 0);
    ll->addWidget(view_, 1);
    auto* key = new QLabel(
        tr("Card = rank, column = chunk, stripe = a rank's gradient summed in; Σ = fully reduced; "
           "outlined = received in this step."));
    key->setWordWrap(true);
    ll->addWidget(key);
    ll->addWidget(perLink_);
    ll->addWidget(perRank_);

    chart_ = makeChartView(QStringLiteral("allreduce-algorithms"));
    chart_->setMinimumSize(270, 200);
    auto* right = new QWidget;
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    rl->addWidget(chart_, 1);
    rl->addWidget(timesLabel_);
    rl->addWidget(calLabel_);

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 5);
    split->setSizes({400, 500});
    // Its height is what the window leaves (the page's height for its width must not count the
    // ring's and the chart's preferred heights, or the page scrolls at 1280x800).
    split->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Ignored);

    auto* title = new QLabel(tr(
        "<b>Ring all-reduce, step by step</b> — how p ranks sum their gradients while every link "
        "stays busy: a reduce-scatter, then an all-gather."));
    title->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(title);
    layout->addLayout(controls);
    layout->addLayout(buttons);
    layout->addWidget(split, 1);
    layout->addWidget(sentences_);
    fallbackCalibration({});
    rebuildRing();
}

double RingExplorer::bufferBytes() const {
    return n_->currentData().toDouble();
}
int RingExplorer::servers() const {
    return servers_->value();
}

void RingExplorer::setRanks(int p) {
    p_->setValue(p);
}
void RingExplorer::setServers(int s) {
    servers_->setValue(s);
}
void RingExplorer::setBufferBytes(double n) {
    const int i = n_->findData(n);
    if (i >= 0)
        n_->setCurrentIndex(i);
    else {
        n_->addItem(fromStd(fmt_bytes(n)), n);
        n_->setCurrentIndex(n_->count() - 1);
    }
}

bool RingExplorer::stepForward() {
    const bool moved = ring_.forward();
    updateState();
    return moved;
}

bool RingExplorer::stepBack() {
    const bool moved = ring_.back();
    updateState();
    return moved;
}

void RingExplorer::reset() {
    setPlaying(false);
    ring_.reset();
    updateState();
}

void RingExplorer::setPlaying(bool on) {
    if (on && ring_.done()) ring_.reset();
    const QSignalBlocker b(play_);
    play_->setChecked(on);
    play_->setText(on ? tr("Pause") : tr("Play"));
    if (on)
        timer_->start();
    else
        timer_->stop();
    updateState();
}

bool RingExplorer::isPlaying() const {
    return timer_->isActive();
}

void RingExplorer::rebuildRing() {
    ring_ = RingAllReduce(p_->value());
    servers_->setMaximum(p_->value());
    updateState();
    updateChart();
}

void RingExplorer::updateState() {
    const int p = ring_.p(), k = ring_.step();
    const double n = bufferBytes();
    view_->setState(ring_.state());
    back_->setEnabled(k > 0);
    step_->setEnabled(!ring_.done());
    QString phase;
    switch (ring_phase(p, k)) {
        case RingPhase::Start:
            phase = tr("before the first step");
            break;
        case RingPhase::ReduceScatter:
            phase = tr("reduce-scatter %1 of %2").arg(ring_phase_step(p, k)).arg(p - 1);
            break;
        case RingPhase::AllGather:
            phase = tr("all-gather %1 of %2").arg(ring_phase_step(p, k)).arg(p - 1);
            break;
    }
    stepLabel_->setText(tr("<b>Step %1 of %2</b>: %3").arg(k).arg(ring_.steps()).arg(phase));
    const RingTraffic t = ring_traffic(p, n);
    perLink_->setText(
        tr("per link per step: n/p = <b>%1</b>").arg(fromStd(fmt_bytes(t.bytes_per_link_per_step))));
    perRank_->setText(
        tr("per rank in all: 2(p−1)/p·n = <b>%1</b> sent (so far %2)")
            .arg(fromStd(fmt_bytes(t.bytes_per_rank)), fromStd(fmt_bytes(ring_bytes_sent(p, n, 0, k)))));
    QStringList lines;
    for (const std::string& s : explain_ring(p, k, n)) lines << fromStd(s).toHtmlEscaped();
    sentences_->setText(lines.join(QStringLiteral("<br>")));
}

void RingExplorer::setSelection(const Selection& s) {
    if (calLoaded_ && s.doc == sel_.doc) return;
    sel_ = s;
    calLoaded_ = true;
    loadCalibration();
}

void RingExplorer::loadCalibration() {
    job_.cancel();
    if (!sel_.doc) {
        fallbackCalibration(tr("no file is open"));
        setEntryReady(true);
        return;
    }
    setEntryReady(false);
    DocumentPtr doc = sel_.doc;
    const std::string path = doc->path().toStdString();
    job_ = startJob<CalibrationView>(
        this,
        [doc, path](const CancelToken&) {
            return doc->withReader("analysis", [&](traces::TraceReader& rd) {
                return calibration_from_trace(rd, path);
            });
        },
        [this](CalibrationView v) {
            if (v.present) {
                cal_ = std::move(v);
                calNote_ = tr("This machine's calibration: %1").arg(fromStd(cal_.label).toHtmlEscaped());
                updateChart();
            } else {
                fallbackCalibration(tr("the open file holds none"));
            }
            setEntryReady(true);
        },
        [this](const QString& error) {
            fallbackCalibration(error);
            setEntryReady(true);
        });
}

void RingExplorer::fallbackCalibration(const QString& why) {
    // The user's newest What-if calibration, else a shipped example measured elsewhere.
    cal_ = {};
    QStringList problems;
    for (const HardwareChoice& c : userCalibrations(&problems)) {
        try {
            cal_ = calibration_from_json(readJson(c.path), c.path.toStdString());
            calNote_ =
                tr("Your calibration of this machine: %1%2")
                    .arg(c.name.toHtmlEscaped(),
                         why.isEmpty() ? QString()
                                       : tr(" (the open file: %1)").arg(why.toHtmlEscaped()));
            updateChart();
            return;
        } catch (const std::exception& e) {
            problems << fromStd(e.what());
        }
    }
    for (const HardwareChoice& c : hardwarePresets(&problems)) {
        if (!c.hw.calibrated) continue;
        try {
            cal_ = calibration_from_json(readJson(c.path), c.path.toStdString());
            calNote_ = tr("<span style='color:#D55E00'>No calibration of this machine</span> (%1; "
                          "What-if ▸ Calibrate this "
                          "machine makes one): α, β and points from the example %2, measured on "
                          "another computer.")
                           .arg(why.isEmpty() ? tr("none found") : why.toHtmlEscaped(),
                                QFileInfo(c.path).fileName().toHtmlEscaped());
            updateChart();
            return;
        } catch (const std::exception& e) {
            problems << fromStd(e.what());
        }
    }
    calNote_ =
        tr("No calibration: no α-β to draw the times with (%1).")
            .arg((why.isEmpty() ? problems.join(QStringLiteral("; ")) : why).toHtmlEscaped());
    updateChart();
}

void RingExplorer::updateChart() {
    const int p = ring_.p(), S = servers_->value();
    const double n = bufferBytes();
    auto* c = new QChart;
    c->setTitle(tr("All-reduce time, p = %1 (α-β model)").arg(p));
    calLabel_->setText(calNote_);
    if (!cal_.present) {
        timesLabel_->setText(tr("No calibration."));
        setChart(chart_, c);
        return;
    }
    const AlgorithmCurves curves =
        sample_algorithms(cal_.link, cal_.p2p, p, S, kMinBytes, kMaxBytes, 2);
    // Log axes: x = log2(bytes), y = log10(seconds), labelled in bytes and seconds.
    double yLo = 1e300, yHi = 0;
    for (std::size_t i = 0; i < curves.bytes.size(); ++i)
        for (double v : {curves.ring_s[i], curves.tree_s[i], curves.ps_s[i]}) {
            yLo = std::min(yLo, v);
            yHi = std::max(yHi, v);
        }
    std::vector<const MeasuredAllReduce*> pts;
    for (const MeasuredAllReduce& m : cal_.points)
        if (m.p == p && m.bytes >= kMinBytes && m.bytes <= kMaxBytes) {
            pts.push_back(&m);
            yLo = std::min(yLo, m.seconds);
            yHi = std::max(yHi, m.seconds);
        }
    const double y0 = std::floor(std::log10(yLo)), y1 = std::ceil(std::log10(yHi));
    std::vector<std::pair<double, QString>> xt, yt;
    for (int e = 10; e <= 30; e += 10) xt.push_back({double(e), fromStd(fmt_bytes(std::exp2(e)))});
    // Every decade, or over more than 6 of them only 1 ns, 1 µs, 1 ms, 1 s (labels a small chart
    // can hold).
    const bool sparse = y1 - y0 > 6;
    for (int e = static_cast<int>(y0); e <= static_cast<int>(y1); ++e)
        if (!sparse || (e + 9) % 3 == 0) yt.push_back({double(e), decade(e)});
    // A little room past 1 GiB so its label is not cut at the plot's edge.
    auto* ax = labelledAxis(std::log2(kMinBytes) - 0.5, std::log2(kMaxBytes) + 1, xt,
                            tr("message size n (log scale)"));
    auto* ay = labelledAxis(y0, y1, yt, tr("time (log scale)"));
    c->addAxis(ax, Qt::AlignBottom);
    c->addAxis(ay, Qt::AlignLeft);
    auto attach = [&](QAbstractSeries* s) {
        c->addSeries(s);
        s->attachAxis(ax);
        s->attachAxis(ay);
    };
    auto line = [&](const QString& name, const std::vector<double>& ys, QColor colour,
                    Qt::PenStyle style) {
        auto* s = new QLineSeries;
        s->setName(name);
        for (std::size_t i = 0; i < curves.bytes.size(); ++i)
            s->append(std::log2(curves.bytes[i]), std::log10(ys[i]));
        s->setPen(QPen(colour, 2.5, style));
        attach(s);
    };
    line(tr("ring"), curves.ring_s, kRing, Qt::SolidLine);
    line(tr("tree"), curves.tree_s, kTree, Qt::DashLine);
    line(tr("PS, S = %1").arg(S), curves.ps_s, kPs, Qt::DashDotLine);
    if (!pts.empty()) {
        auto* m = new QScatterSeries;
        m->setName(tr("measured"));
        m->setMarkerSize(9);
        for (const MeasuredAllReduce* x : pts)
            m->append(std::log2(x->bytes), std::log10(x->seconds));
        markForeground(m);
        attach(m);
    }
    // The buffer the ring on the left moves.
    auto* mark = new QLineSeries;
    mark->setName(tr("n"));
    mark->append(std::log2(n), y0);
    mark->append(std::log2(n), y1);
    mark->setPen(QPen(QColor(0x80, 0x86, 0x8e), 1, Qt::DotLine));
    attach(mark);
    for (QLegendMarker* lm : c->legend()->markers(mark))
        lm->setVisible(false);  // the dotted line is n, said in the text
    c->legend()->setAlignment(Qt::AlignBottom);
    setChart(chart_, c);

    std::vector<int> calP;
    for (const MeasuredAllReduce& m : cal_.points)
        if (std::find(calP.begin(), calP.end(), m.p) == calP.end()) calP.push_back(m.p);
    QStringList ps;
    for (int x : calP) ps << QString::number(x);
    timesLabel_->setText(
        tr("At n = %1 (dotted), p = %2: ring <b>%3</b> · tree <b>%4</b> · parameter server (S = "
           "%5) <b>%6</b>. "
           "Ring 2(p−1)α + 2(p−1)/p·nβ, tree 2⌈log₂p⌉α + 2nβ (all-reduce α = %7 per step, β = "
           "1/(%8)); "
           "PS 2p(α′ + n/S·β′), the server's link carrying p pushes and p pulls (send/recv α′ = "
           "%10, "
           "β′ = 1/(%11))%9.")
            .arg(fromStd(fmt_bytes(n)))
            .arg(p)
            .arg(formatDuration(ring_allreduce_s(cal_.link, p, n) * 1e9),
                 formatDuration(tree_allreduce_s(cal_.link, p, n) * 1e9))
            .arg(S)
            .arg(formatDuration(parameter_server_s(cal_.p2p, p, S, n) * 1e9),
                 formatDuration(cal_.link.alpha_s * 1e9),
                 cal_.link.beta_s_per_byte > 0 ? formatBandwidth(1 / cal_.link.beta_s_per_byte)
                                               : QStringLiteral("∞"),
                 cal_.points.empty() ? QString()
                 : pts.empty()       ? tr("; measured points are at p = %1 (set p to see them)")
                                     .arg(ps.join(QStringLiteral(", ")))
                               : QString())
            .arg(formatDuration(cal_.p2p.alpha_s * 1e9),
                 cal_.p2p.beta_s_per_byte > 0 ? formatBandwidth(1 / cal_.p2p.beta_s_per_byte)
                                              : QStringLiteral("∞")));
}

}  // namespace ss::gui

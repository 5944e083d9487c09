#include "gui/timeline/timelineview.h"

#include <QFontMetrics>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QHelpEvent>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

#include "gui/app/theme.h"
#include "gui/common/format.h"

namespace ss::gui {

QColor categoryColor(Category c, bool dark) {
    switch (c) {
    case Category::Compute: return dark ? QColor(0x4d, 0x94, 0xe8) : QColor(0x2f, 0x6f, 0xdb);
    case Category::Memory: return QColor(0x1f, 0xa8, 0x9a);
    case Category::Collective: return QColor(0xe8, 0x6a, 0x1c);
    case Category::PointToPoint: return QColor(0xa2, 0x4c, 0xd6);
    case Category::Host: return dark ? QColor(0x8a, 0x90, 0x98) : QColor(0x9a, 0xa0, 0xa8);
    case Category::Data: return QColor(0xd6, 0xa5, 0x1c);
    case Category::Step: return dark ? QColor(0x5a, 0x62, 0x6e) : QColor(0xc9, 0xcf, 0xd8);
    case Category::Forward: return QColor(0x43, 0xa0, 0x47);
    case Category::Backward: return QColor(0x2e, 0x6b, 0x30);
    case Category::Optimizer: return QColor(0xc6, 0x28, 0x28);
    case Category::MicroBatch: return QColor(0x7e, 0x9c, 0xc0);
    case Category::Sync: return QColor(0x8d, 0x6e, 0x63);
    case Category::Other: return QColor(0x90, 0x90, 0x90);
    }
    return Qt::gray;
}

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(false);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumSize(300, 150);
    vbar_ = new QScrollBar(Qt::Vertical, this);
    vbar_->hide();
    connect(vbar_, &QScrollBar::valueChanged, this, [this] { update(); });
}

void TimelineView::updateScrollBar() {
    const double rh = rowHeight();
    const int content = static_cast<int>(std::ceil(rows_.size() * rh));
    const int visible = height() - rulerHeight();
    const bool need = content > visible;
    const int w = vbar_->sizeHint().width();
    vbar_->setGeometry(width() - w, rulerHeight(), w, std::max(0, visible));
    vbar_->setRange(0, need ? content - visible : 0);
    vbar_->setPageStep(std::max(1, visible));
    vbar_->setSingleStep(static_cast<int>(rh));
    vbar_->setVisible(need);
}

void TimelineView::setRows(std::vector<TimelineRow> rows, std::int64_t runStart, std::int64_t runEnd, bool keepView) {
    rows_ = std::move(rows);
    runStart_ = runStart;
    runEnd_ = std::max(runEnd, runStart + 1);
    for (const TimelineRow& r : rows_) {
        if (r.eventCount == 0) continue;
        runStart_ = std::min(runStart_, r.minStart);
        runEnd_ = std::max(runEnd_, r.maxEnd);
    }
    list_.reset();
    const bool hadSelection = selected_.has_value();
    selected_.reset();
    // The details pane must not keep an op of the old rows (another run, or a hidden lane).
    if (hadSelection) emit selectionChanged();
    vbar_->setValue(0);
    updateScrollBar();
    if (keepView) {
        emit axisChanged();
        update();
        return;
    }
    fitted_ = false;
    fitAll();
}

void TimelineView::setEmptyText(const QString& text) {
    emptyText_ = text;
    update();
}

void TimelineView::setDrawList(std::shared_ptr<const DrawList> list) {
    list_ = std::move(list);
    update();
}

double TimelineView::labelWidth() const {
    // A run with a parameter server labels its servers' rows "server 0 (r4) compute".
    const bool servers = std::any_of(rows_.begin(), rows_.end(), [](const TimelineRow& r) { return r.isServer(); });
    return fontMetrics().horizontalAdvance(servers ? QStringLiteral("server 0 (r00) compute ") : QStringLiteral("r00 compute ")) + 8;
}

void TimelineView::setParameterServer(const core::PsLayout& ps) {
    ps_ = ps;
    update();
}

// The tint of a parameter server's rows (amber, faint), so that they read apart from the workers'.
static QColor serverTint(bool dark) { return dark ? QColor(0xd6, 0xa5, 0x1c, 40) : QColor(0xd6, 0xa5, 0x1c, 38); }

QString TimelineView::toolTipAt(double plotX, int y) const {
    const int row = rowAt(y);
    const Block* b = blockAt(plotX, row);
    if (!b) return {};
    if (b->event < 0) {
        return b->busy >= 0 ? tr("busy %1 % (level of detail): zoom in to see the ops").arg(b->busy * 100, 0, 'f', 1)
                            : tr("%1 ops merged: double-click to zoom in").arg(b->count);
    }
    const traces::Event& e = list_->events[static_cast<size_t>(b->event)];
    const std::string& name = list_->eventNames[static_cast<size_t>(b->event)];
    QStringList lines{QStringLiteral("<b>%1</b> — %2").arg(QString::fromStdString(name).toHtmlEscaped(),
                                                           formatDuration(static_cast<double>(e.duration_ns())))};
    if (const std::string what = psOpText(e, name, ps_); !what.empty()) lines << QString::fromStdString(what).toHtmlEscaped();
    if (e.bytes >= 0) lines << tr("bytes: %1 (%2)").arg(e.bytes).arg(formatBytes(static_cast<double>(e.bytes)));
    if (e.peer >= 0) {
        const auto peer = static_cast<std::int32_t>(e.peer);
        lines << (ps_.is_server(peer) ? tr("peer: rank %1, %2").arg(peer).arg(QString::fromStdString(core::server_label(ps_, peer)))
                                      : tr("peer: rank %1").arg(peer));
    }
    if (e.step >= 0) lines << tr("step %1").arg(e.step);
    return lines.join(QStringLiteral("<br>"));
}

bool TimelineView::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* he = static_cast<QHelpEvent*>(e);
        const QString text = he->pos().x() >= labelWidth() ? toolTipAt(he->pos().x() - labelWidth(), he->pos().y()) : QString();
        if (text.isEmpty()) QToolTip::hideText(); else QToolTip::showText(he->globalPos(), text, this);
        return true;
    }
    return QWidget::event(e);
}
double TimelineView::plotWidth() const {
    return std::max(1.0, width() - labelWidth() - (vbar_->isVisible() ? vbar_->width() : 0));
}
int TimelineView::rulerHeight() const { return 2 * fontMetrics().height() + 8; }

double TimelineView::rowHeight() const {
    if (rows_.empty()) return 20;
    const double avail = height() - rulerHeight() - 4;
    // At least a label's height per row; rows that do not fit scroll.
    return std::clamp(avail / static_cast<double>(rows_.size()), fontMetrics().height() * 0.95, fontMetrics().height() * 1.6);
}

int TimelineView::rowAt(int y) const {
    const double rh = rowHeight();
    if (y < rulerHeight()) return -1;
    const int r = static_cast<int>(std::floor((y - rulerHeight() + vbar_->value()) / rh));
    return (r >= 0 && r < static_cast<int>(rows_.size())) ? r : -1;
}

void TimelineView::setAxis(const TimeAxis& a) {
    const TimeAxis c = a.clampedTo(runStart_, runEnd_, plotWidth());
    if (c == axis_) return;
    axis_ = c;
    update();
    emit axisChanged();
}

void TimelineView::zoomBy(double factor, double anchorPx) { setAxis(axis_.zoomedAt(anchorPx, factor)); }
void TimelineView::panBy(double dxPx) { setAxis(axis_.pannedBy(dxPx)); }
void TimelineView::fitAll() {
    const std::int64_t span = runEnd_ - runStart_;
    setAxis(TimeAxis::fit(runStart_ - span / 50, runEnd_ + span / 50, plotWidth()));
    fitted_ = true;
}

void TimelineView::resizeEvent(QResizeEvent*) {
    updateScrollBar();
    if (fitted_) fitAll(); else setAxis(axis_);
}

const Block* TimelineView::blockAt(double plotX, int row) const {
    if (!list_ || row < 0 || row >= static_cast<int>(list_->rows.size())) return nullptr;
    const auto& blocks = list_->rows[static_cast<size_t>(row)].blocks;
    const Block* best = nullptr;
    double bestDist = 3.0;  // px tolerance
    for (const Block& b : blocks) {
        const double x0 = axis_.toPx(b.start), x1 = std::max(axis_.toPx(b.end), x0 + 1);
        const double d = plotX < x0 ? x0 - plotX : (plotX > x1 ? plotX - x1 : 0);
        if (d < bestDist || (d == 0 && best && b.end - b.start < best->end - best->start)) {
            bestDist = d;
            best = &b;
        }
    }
    return best;
}

bool TimelineView::selectAt(double plotX, int y) {
    const int row = rowAt(y);
    const Block* b = blockAt(plotX, row);
    if (!b) {
        if (selected_) {
            selected_.reset();
            emit selectionChanged();
            update();
        }
        return false;
    }
    Selected s;
    s.row = row;
    s.start = b->start;
    s.end = b->end;
    s.merged = b->count;
    s.busy = b->busy;
    if (b->event >= 0) {
        s.event = list_->events[static_cast<size_t>(b->event)];
        s.name = list_->eventNames[static_cast<size_t>(b->event)];
        s.merged = 1;
    }
    selected_ = s;
    emit selectionChanged();
    update();
    return true;
}

void TimelineView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const bool dark = currentTheme() == ThemeKind::Dark;
    const QPalette pal = palette();
    p.fillRect(rect(), pal.color(QPalette::Base));
    if (rows_.empty()) {  // no ruler or scale for nothing: say why there is nothing
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(16, 16, -16, -16), Qt::AlignCenter | Qt::TextWordWrap,
                   emptyText_);
        return;
    }
    const double lw = labelWidth();
    const double pw = plotWidth();
    const int rh0 = rulerHeight();
    const double rh = rowHeight();
    const QFontMetrics fm = fontMetrics();
    const double sy = vbar_->value();  // vertical scroll (px)
    const size_t firstRow = static_cast<size_t>(std::max(0.0, std::floor(sy / rh)));
    const size_t lastRow = std::min(rows_.size(), static_cast<size_t>(std::ceil((sy + height() - rh0) / rh)) + 1);
    p.save();
    p.setClipRect(QRectF(0, rh0, width(), height() - rh0));
    p.translate(0, -sy);

    // Row backgrounds (alternating per rank) and labels.
    for (size_t r = firstRow; r < lastRow; ++r) {
        const QRectF band(0, rh0 + r * rh, width(), rh);
        if (rows_[r].rank % 2 == 1) p.fillRect(band, pal.color(QPalette::AlternateBase));
        if (rows_[r].isServer()) p.fillRect(band, serverTint(dark));
    }
    // Step boundaries (behind the ops).
    QPen stepPen(pal.color(QPalette::Mid), 1, Qt::DashLine);
    if (list_) {
        p.setPen(stepPen);
        for (const StepMark& s : list_->steps) {
            const double x = lw + axis_.toPx(s.start);
            if (x < lw || x > width()) continue;
            p.drawLine(QPointF(x, rh0 + sy), QPointF(x, sy + height()));
        }
    }
    // Ops.
    p.save();
    p.setClipRect(QRectF(lw, rh0 + sy, pw, height() - rh0));
    if (list_) {
        const double barInset = rh > 10 ? 1.5 : 0.5;
        for (size_t r = firstRow; r < list_->rows.size() && r < lastRow; ++r) {
            const double y = rh0 + r * rh + barInset;
            const double h = rh - 2 * barInset;
            for (const Block& b : list_->rows[r].blocks) {
                double x0 = axis_.toPx(b.start), x1 = axis_.toPx(b.end);
                if (x1 < 0 || x0 > pw) continue;
                x0 = std::max(x0, -1.0);
                x1 = std::min(std::max(x1, x0 + 1.0), pw + 1);
                QColor c = categoryColor(b.category, dark);
                if (b.busy >= 0) {
                    // Level of detail: a bar as high as the fraction of the time the lane was busy
                    // (at least a pixel: a busy lane never looks idle), standing on the row's floor.
                    const double bh = std::max(1.0, h * std::min(1.0, static_cast<double>(b.busy)));
                    c.setAlpha(230);
                    p.fillRect(QRectF(lw + x0, y + h - bh, x1 - x0, bh), c);
                } else if (b.count > 1) {
                    // Merged: the denser, the more opaque; a thin band shows it is merged.
                    const double d = blockDensity(b, axis_);
                    c.setAlpha(static_cast<int>(std::clamp(90 + 60 * std::log2(1 + d), 90.0, 255.0)));
                    p.fillRect(QRectF(lw + x0, y + h * 0.2, x1 - x0, h * 0.6), c);
                } else {
                    p.fillRect(QRectF(lw + x0, y, x1 - x0, h), c);
                    if (x1 - x0 > 48 && h >= fm.height() - 2 && b.event >= 0) {
                        p.setPen(Qt::white);
                        const QString label = fm.elidedText(
                            QString::fromStdString(list_->eventNames[static_cast<size_t>(b.event)]), Qt::ElideRight,
                            static_cast<int>(x1 - x0 - 4));
                        p.drawText(QRectF(lw + x0 + 2, y, x1 - x0 - 4, h), Qt::AlignVCenter | Qt::AlignLeft, label);
                    }
                }
            }
        }
        // Links between the ranks of one collective, and from each send to its recv.
        p.setRenderHint(QPainter::Antialiasing, true);
        QPen coll(QColor(0xe8, 0x6a, 0x1c, 170), 1);
        QPen pp(QColor(0xa2, 0x4c, 0xd6, 200), 1.2);
        for (const Link& l : list_->links) {
            const double xa = lw + axis_.toPx(l.tA), xb = lw + axis_.toPx(l.tB);
            if ((xa < lw && xb < lw) || (xa > width() && xb > width())) continue;
            p.setPen(l.p2p ? pp : coll);
            p.drawLine(QPointF(xa, rh0 + (l.rowA + 0.5) * rh), QPointF(xb, rh0 + (l.rowB + 0.5) * rh));
        }
        p.setRenderHint(QPainter::Antialiasing, false);
    }
    if (selected_ && selected_->row >= 0) {
        const double x0 = axis_.toPx(selected_->start), x1 = std::max(axis_.toPx(selected_->end), x0 + 2);
        p.setPen(QPen(pal.color(QPalette::Text), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRect(QRectF(lw + x0 - 1, rh0 + selected_->row * rh, x1 - x0 + 2, rh));
    }
    p.restore();

    // Labels column.
    p.fillRect(QRectF(0, rh0 + sy, lw - 2, height() - rh0), pal.color(QPalette::Window));
    p.setPen(pal.color(QPalette::WindowText));
    const bool labelsFit = rh >= fm.height() * 0.8;
    for (size_t r = firstRow; r < lastRow; ++r) {
        const bool firstOfRank = r == 0 || rows_[r - 1].rank != rows_[r].rank;
        if (!labelsFit && !firstOfRank) continue;
        const QString text = QString::fromStdString(rowLabel(rows_[r], labelsFit));
        if (rows_[r].isServer()) p.fillRect(QRectF(0, rh0 + r * rh, lw - 2, rh), serverTint(dark));
        p.drawText(QRectF(4, rh0 + r * rh, lw - 8, labelsFit ? rh : fm.height()), Qt::AlignVCenter | Qt::AlignLeft, text);
        if (firstOfRank && r > 0) {
            // The first server's rows start under a heavier line: workers above, servers below.
            const bool firstServer = rows_[r].isServer() && !rows_[r - 1].isServer();
            p.setPen(QPen(pal.color(firstServer ? QPalette::WindowText : QPalette::Mid), firstServer ? 2 : 1));
            p.drawLine(QPointF(0, rh0 + r * rh), QPointF(width(), rh0 + r * rh));
            p.setPen(pal.color(QPalette::WindowText));
        }
    }

    p.restore();  // scrolled rows

    // Ruler: times relative to the run's start.
    p.fillRect(QRectF(0, 0, width(), rh0), pal.color(QPalette::Window));
    p.setPen(pal.color(QPalette::Mid));
    p.drawLine(QPointF(0, rh0 - 0.5), QPointF(width(), rh0 - 0.5));
    double step = 0;
    const auto ticks = rulerTicks(axis_, pw, fm.horizontalAdvance(QStringLiteral("000.00 ms")) + 16, runStart_, &step);
    for (std::int64_t t : ticks) {
        const double x = lw + axis_.toPx(t);
        p.setPen(pal.color(QPalette::Mid));
        p.drawLine(QPointF(x, 2), QPointF(x, fm.height() + 4));
        p.setPen(pal.color(QPalette::WindowText));
        p.drawText(QPointF(x + 3, fm.ascent() + 2), formatTimeTick(static_cast<double>(t - runStart_), step));
    }
    if (list_) {
        p.setPen(pal.color(QPalette::Link));
        double lastX = -1e9;
        for (const StepMark& s : list_->steps) {
            const double x = lw + axis_.toPx(s.start);
            if (x < lw || x > width() || x - lastX < 60) continue;
            lastX = x;
            p.drawLine(QPointF(x, fm.height() + 4), QPointF(x, rh0));
            p.drawText(QPointF(x + 3, fm.height() + fm.ascent() + 3), tr("step %1").arg(s.step));
        }
    }
    p.setPen(pal.color(QPalette::WindowText));
    p.drawText(QRectF(4, 0, lw - 8, rh0), Qt::AlignVCenter | Qt::AlignLeft,
               tr("%1/px").arg(formatDuration(axis_.nsPerPx)));
    if (list_ && list_->anyDensity) {
        const QString note = tr("bar height = busy share of the time (zoom in for single ops)");
        const double tw = fm.horizontalAdvance(note) + 10;
        p.fillRect(QRectF(width() - tw - 4, height() - fm.height() - 6, tw, fm.height() + 4), pal.color(QPalette::ToolTipBase));
        p.setPen(pal.color(QPalette::ToolTipText));
        p.drawText(QRectF(width() - tw - 4, height() - fm.height() - 6, tw, fm.height() + 4), Qt::AlignCenter, note);
    }
}

void TimelineView::mousePressEvent(QMouseEvent* e) {
    if (e->button() != Qt::LeftButton) return;
    pressPos_ = e->position().toPoint();
    pressAxis_ = axis_;
    dragging_ = false;
}

void TimelineView::mouseMoveEvent(QMouseEvent* e) {
    if (!(e->buttons() & Qt::LeftButton)) return;
    const int dx = e->position().toPoint().x() - pressPos_.x();
    if (!dragging_ && std::abs(dx) < 3) return;
    dragging_ = true;
    fitted_ = false;
    setAxis(pressAxis_.pannedBy(dx));
}

void TimelineView::mouseReleaseEvent(QMouseEvent* e) {
    if (e->button() != Qt::LeftButton) return;
    if (!dragging_) selectAt(e->position().x() - labelWidth(), static_cast<int>(e->position().y()));
    dragging_ = false;
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent* e) {
    const int row = rowAt(static_cast<int>(e->position().y()));
    const Block* b = blockAt(e->position().x() - labelWidth(), row);
    if (b && b->count > 1) {
        fitted_ = false;
        setAxis(axis_.zoomedIntoBlock(b->start, b->end, b->count, e->position().x() - labelWidth(),
                                      plotWidth()));
    }
}

void TimelineView::wheelEvent(QWheelEvent* e) {
    const double delta = e->angleDelta().y() != 0 ? e->angleDelta().y() : e->angleDelta().x();
    fitted_ = false;
    if (e->modifiers() & Qt::AltModifier) vbar_->setValue(vbar_->value() - static_cast<int>(delta / 2));
    else if (e->modifiers() & Qt::ShiftModifier) panBy(delta / 2);
    else zoomBy(std::pow(1.0015, delta), e->position().x() - labelWidth());
    e->accept();
}

void TimelineView::keyPressEvent(QKeyEvent* e) {
    const double mid = plotWidth() / 2;
    fitted_ = false;
    switch (e->key()) {
    case Qt::Key_Plus: case Qt::Key_Equal: case Qt::Key_W: zoomBy(1.5, mid); break;
    case Qt::Key_Minus: case Qt::Key_S: zoomBy(1 / 1.5, mid); break;
    case Qt::Key_Left: case Qt::Key_A: panBy(plotWidth() * 0.2); break;
    case Qt::Key_Right: case Qt::Key_D: panBy(-plotWidth() * 0.2); break;
    case Qt::Key_Home: case Qt::Key_0: fitAll(); break;
    case Qt::Key_PageDown: vbar_->setValue(vbar_->value() + vbar_->pageStep()); break;
    case Qt::Key_PageUp: vbar_->setValue(vbar_->value() - vbar_->pageStep()); break;
    default: QWidget::keyPressEvent(e); return;
    }
    e->accept();
}

}  // namespace ss::gui

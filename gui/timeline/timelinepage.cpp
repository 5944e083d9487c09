#include "gui/timeline/timelinepage.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QKeySequence>
#include <QLabel>
#include <QMenu>
#include <QMouseEvent>
#include <QSplitter>
#include <QStackedWidget>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <mutex>

#include "gui/app/theme.h"
#include "gui/common/chartexport.h"
#include "gui/common/format.h"

namespace ss::gui {

using namespace ss::traces;

struct TimelinePage::LodSlot {
    std::mutex mutex;
    std::unique_ptr<LaneLodStore> store;
    std::string error;  // it could not be opened or computed: rows are read exactly
};

namespace {

// Toggling a checkable entry keeps the menu open, so several lanes can be shown or hidden in one
// go; other entries (and Return) close it as usual.
class StayOpenMenu : public QMenu {
public:
    using QMenu::QMenu;

protected:
    void mouseReleaseEvent(QMouseEvent* e) override {
        QAction* a = actionAt(e->position().toPoint());
        if (e->button() == Qt::LeftButton && a && a->isEnabled() && a->isCheckable()) {
            a->trigger();
            return;
        }
        QMenu::mouseReleaseEvent(e);
    }
    void keyPressEvent(QKeyEvent* e) override {
        QAction* a = activeAction();
        if (e->key() == Qt::Key_Space && a && a->isEnabled() && a->isCheckable()) {
            a->trigger();
            return;
        }
        QMenu::keyPressEvent(e);
    }
};

}  // namespace

TimelinePage::TimelinePage(QWidget* parent) : Page(parent) {
    view_ = new TimelineView;
    view_->setObjectName(QStringLiteral("timelineView"));
    details_ = new QTextBrowser;
    details_->setObjectName(QStringLiteral("timelineDetails"));
    details_->setMinimumWidth(160);
    details_->setPlaceholderText(tr("Click an op to see its details. Drag to pan, wheel to zoom, double-click a merged block to zoom into it."));
    info_ = new QLabel;
    info_->setMinimumWidth(1);  // a long message is cut, never widens the page

    auto button = [this](const QString& text, const QString& tip, auto fn) {
        auto* b = new QToolButton;
        b->setText(text);
        b->setToolTip(tip);
        connect(b, &QToolButton::clicked, this, fn);
        runControls_.push_back(b);
        return b;
    };
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("<b>Timeline</b>")));
    bar->addWidget(button(tr("Fit"), tr("Show the whole run (Home)"), [this] { view_->fitAll(); }));
    bar->addWidget(button(tr("Zoom in"), tr("+ or W; the mouse wheel zooms at the cursor"),
                          [this] { view_->zoomBy(2, view_->plotWidth() / 2); }));
    bar->addWidget(button(tr("Zoom out"), tr("- or S"), [this] { view_->zoomBy(0.5, view_->plotWidth() / 2); }));
    auto* lanes = new QToolButton;
    lanes->setText(tr("Lanes"));
    lanes->setToolTip(tr("Show or hide lanes (phases, host ranges, …) on every rank"));
    laneMenu_ = new StayOpenMenu(lanes);
    laneMenu_->setObjectName(QStringLiteral("laneMenu"));
    lanes->setMenu(laneMenu_);
    lanes->setPopupMode(QToolButton::InstantPopup);
    runControls_.push_back(lanes);
    bar->addWidget(lanes);
    // Legend: one label that wraps at a narrow window.
    QStringList items;
    for (Category c : {Category::Compute, Category::Collective, Category::PointToPoint, Category::Memory, Category::Forward,
                       Category::Backward, Category::Optimizer, Category::Data, Category::Host, Category::Step}) {
        const auto name = categoryName(c);
        items << QStringLiteral("<span style='color:%1; font-size:large'>&#9632;</span>&nbsp;%2")
                     .arg(categoryColor(c, false).name(),
                          QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()))
                              .replace(QLatin1Char(' '), QStringLiteral("&nbsp;")));
    }
    legend_ = new QLabel(items.join(QStringLiteral(" &nbsp; ")));
    legend_->setWordWrap(true);
    bar->addWidget(info_, 1);
    auto* exportPng = button(tr("Export…"), tr("Save the timeline as PNG or SVG (also in the context menu)"), [] {});
    addExportActions(view_, QStringLiteral("timeline"));
    connect(exportPng, &QToolButton::clicked, this, [this] { view_->actions().first()->trigger(); });
    bar->addWidget(exportPng);

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(view_);
    split->addWidget(details_);
    split->setStretchFactor(0, 1);
    split->setSizes({900, 240});
    empty_ = new QLabel;
    empty_->setObjectName(QStringLiteral("timelineEmpty"));
    empty_->setAlignment(Qt::AlignCenter);
    empty_->setWordWrap(true);
    empty_->setMargin(24);
    stack_ = new QStackedWidget;
    stack_->addWidget(empty_);
    stack_->addWidget(split);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(legend_);
    layout->addWidget(stack_, 1);
    showEmptyState();

    buildTimer_ = new QTimer(this);
    buildTimer_->setSingleShot(true);
    buildTimer_->setInterval(0);
    connect(buildTimer_, &QTimer::timeout, this, &TimelinePage::startBuild);
    connect(view_, &TimelineView::axisChanged, this, &TimelinePage::scheduleBuild);
    connect(view_, &TimelineView::selectionChanged, this, &TimelinePage::showDetails);
}

void TimelinePage::showEmptyState() {
    const QString open = QKeySequence(QKeySequence::Open).toString(QKeySequence::NativeText);
    empty_->setText(sel_.studyData() ? tr("<p>A study is selected.</p><p>Pick one of its runs in "
                                          "the sidebar to see its timeline.</p>")
                                     : tr("<p><b>No run to show.</b></p><p>Open a trace file (%1) "
                                          "or launch a run on the Experiment page.</p>")
                                           .arg(open));
    stack_->setCurrentWidget(empty_);
    legend_->hide();
    for (QWidget* w : runControls_) w->setEnabled(false);
}

void TimelinePage::setSelection(const Selection& s) {
    if (s.doc == sel_.doc && s.run == sel_.run && (s.run.valid() || s.study == sel_.study)) return;
    sel_ = s;
    job_.cancel();
    building_ = false;
    lod_ = std::make_shared<LodSlot>();
    const RunData* r = s.runData();
    if (!r) {
        view_->setRows({}, 0, 1);
        info_->clear();
        laneMenu_->clear();
        showEmptyState();
        setReady(true);
        return;
    }
    stack_->setCurrentIndex(1);
    legend_->show();
    for (QWidget* w : runControls_) w->setEnabled(true);
    setReady(false);
    rebuildLaneMenu();
    applyLaneFilter(false);
    scheduleBuild();
}

void TimelinePage::rebuildLaneMenu() {
    laneMenu_->clear();
    const RunData* r = sel_.runData();
    if (!r) return;
    // In the order the rows are drawn (the first rank's, then lanes only later ranks have).
    std::vector<std::string> names;
    for (const TimelineRow& row : timelineRows(r->lanes, core::ps_layout(r->info, r->ranks)))
        if (std::find(names.begin(), names.end(), row.laneName) == names.end())
            names.push_back(row.laneName);
    for (const std::string& n : names) {
        QAction* a = laneMenu_->addAction(QString::fromStdString(n));
        a->setCheckable(true);
        a->setChecked(!hiddenLanes_.count(n));
        connect(a, &QAction::toggled, this, [this, n](bool on) {
            if (on) hiddenLanes_.erase(n); else hiddenLanes_.insert(n);
            applyLaneFilter(true);
        });
    }
}

void TimelinePage::applyLaneFilter(bool keepView) {
    const RunData* r = sel_.runData();
    if (!r) return;
    const core::PsLayout ps = core::ps_layout(r->info, r->ranks);
    view_->setParameterServer(ps);
    std::vector<TimelineRow> all = timelineRows(r->lanes, ps), rows;
    for (TimelineRow& row : all)
        if (!hiddenLanes_.count(row.laneName)) rows.push_back(std::move(row));
    view_->setEmptyText(
        all.empty() ? tr("This run recorded no lanes (it may have stopped before its first event).")
                    : tr("Every lane is hidden: tick some in the Lanes menu."));
    view_->setRows(std::move(rows), r->info.start_ns, r->info.end_ns, keepView);
}

void TimelinePage::scheduleBuild() {
    if (!sel_.runData()) return;
    setReady(false);
    if (building_) {
        pending_ = true;
        return;
    }
    buildTimer_->start();
}

void TimelinePage::startBuild() {
    const RunData* r = sel_.runData();
    if (!r) return;
    building_ = true;
    pending_ = false;
    DocumentPtr doc = sel_.doc;
    const RunId run = r->info.id;
    const auto rows = view_->rows();
    const TimeAxis axis = view_->axis();
    DrawListOptions opt;
    opt.widthPx = view_->plotWidth();
    std::shared_ptr<LodSlot> lod = lod_;
    job_ = startJob<std::shared_ptr<const DrawList>>(
        this,
        [doc, run, rows, axis, opt, lod](const CancelToken& c) {
            std::lock_guard lock(lod->mutex);
            if (!lod->store && lod->error.empty()) {
                // Stored by merge; computed into memory for a run without it (an older file): the
                // file being viewed is never written.
                try {
                    lod->store = std::make_unique<LaneLodStore>(doc->path().toStdString(), run,
                                                                /*write_back=*/false, [&c] { c.check(); });
                } catch (const TraceError& e) {
                    lod->error = e.what();
                }
            }
            return doc->withReader("timeline", [&](TraceReader& rd) {
                auto list = std::make_shared<DrawList>(buildDrawList(rd, run, rows, axis, opt, &c, lod->store.get()));
                if (lod->store && lod->store->computed())
                    list->lodNote = "level of detail computed in " +
                                    std::to_string(static_cast<int>(lod->store->compute_stats().seconds * 1000)) + " ms";
                else if (!lod->error.empty())
                    list->lodNote = "no level of detail (" + lod->error + "): every op read";
                return std::shared_ptr<const DrawList>(std::move(list));
            });
        },
        [this, axis](std::shared_ptr<const DrawList> list) {
            building_ = false;
            QString text = tr("%1 events, %2 buckets read in %3 ms")
                               .arg(list->eventsRead)
                               .arg(list->bucketsRead)
                               .arg(list->buildMs, 0, 'f', 1);
            if (!list->lodNote.empty()) text += QStringLiteral("; ") + QString::fromStdString(list->lodNote);
            info_->setText(text);
            view_->setDrawList(std::move(list));
            if (pending_ || !(axis == view_->axis())) {
                buildTimer_->start();
            } else {
                setReady(true);
            }
        },
        [this](const QString& error) {
            building_ = false;
            info_->setText(tr("Cannot read the timeline: %1").arg(error));
            setReady(true);
        },
        JobPool::Interactive);  // never queued behind an analysis
}

void TimelinePage::showDetails() {
    const auto& s = view_->selected();
    if (!s) {
        details_->clear();
        return;
    }
    const qint64 runStart = sel_.runData() ? sel_.runData()->info.start_ns : 0;
    QString html;
    auto row = [&html](const QString& k, const QString& v) {
        html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(k, v.toHtmlEscaped());
    };
    if (s->busy >= 0 || s->merged > 1) {
        // A block of many ops: what it stands for and its span.
        html = s->busy >= 0
                   ? tr("<p><b>Busy %1 % of this span</b>, %2 ops (level of detail: each pixel shows the share of "
                        "its time the lane was busy). Zoom in to see the ops.</p><table>")
                         .arg(s->busy * 100, 0, 'f', 1)
                         .arg(s->merged)
                   : tr("<p><b>%1 ops merged</b> (narrower than 3 px at this zoom). Double-click the block or zoom in to see them.</p><table>")
                         .arg(s->merged);
        row(tr("from"), formatDuration(static_cast<double>(s->start - runStart)));
        row(tr("to"), formatDuration(static_cast<double>(s->end - runStart)));
        html += QStringLiteral("</table>");
        details_->setHtml(html);
        return;
    }
    const Event& e = s->event;
    html = QStringLiteral("<h3>%1</h3><table cellspacing=4>").arg(QString::fromStdString(s->name).toHtmlEscaped());
    row(tr("kind"), QString::fromUtf8(to_string(e.kind).data()));
    const auto& rows = view_->rows();
    const QString laneName =
        s->row >= 0 && static_cast<size_t>(s->row) < rows.size()
            ? QString::fromStdString(rows[static_cast<size_t>(s->row)].laneName)
            : QString::number(e.lane);
    const core::PsLayout& ps = view_->parameterServer();
    row(tr("rank / lane"), ps.is_server(e.rank) ? QStringLiteral("%1 / %2").arg(QString::fromStdString(core::server_label(ps, e.rank)), laneName)
                                                : QStringLiteral("%1 / %2").arg(e.rank).arg(laneName));
    if (const std::string what = psOpText(e, s->name, ps); !what.empty()) row(tr("parameter server"), QString::fromStdString(what));
    row(tr("start"), formatDuration(static_cast<double>(e.start_ns - runStart)));
    row(tr("duration"), formatDuration(static_cast<double>(e.duration_ns())));
    if (e.step >= 0) row(tr("step"), QString::number(e.step));
    if (e.micro_batch >= 0) row(tr("micro-batch"), QString::number(e.micro_batch));
    if (e.layer >= 0) row(tr("layer"), QString::number(e.layer));
    if (e.bytes >= 0) row(tr("bytes"), QStringLiteral("%1 (%2)").arg(e.bytes).arg(formatBytes(static_cast<double>(e.bytes))));
    if (e.correlation >= 0)
        row(tr("correlation"), QString::number(e.correlation));  // CUPTI: launch ↔ GPU work
    if (e.flops >= 0) {
        row(tr("FLOPs"), formatNumber(e.flops, 4));
        if (e.duration_ns() > 0) row(tr("rate"), formatRate(e.flops / (static_cast<double>(e.duration_ns()) * 1e-9), QStringLiteral("FLOP/s")));
    }
    if (e.collective != Collective::None) {
        row(tr("collective"), QString::fromUtf8(to_string(e.collective).data()));
        if (e.group_kind != GroupKind::None)
            row(tr("group"), QStringLiteral("%1 #%2 (%3 ranks)").arg(QString::fromUtf8(to_string(e.group_kind).data())).arg(e.group_id).arg(e.group_size));
        if (e.peer >= 0) row(tr("peer"), QString::number(e.peer));
        if (e.seq >= 0) row(tr("seq"), QString::number(e.seq));
        if (e.bytes > 0 && e.duration_ns() > 0)
            row(tr("algbw"), formatBandwidth(static_cast<double>(e.bytes) / (static_cast<double>(e.duration_ns()) * 1e-9)));
    }
    html += QStringLiteral("</table>");
    details_->setHtml(html);
}

}  // namespace ss::gui

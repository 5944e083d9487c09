#include "gui/learn/learnpage.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QStackedWidget>
#include <QVBoxLayout>

#include "gui/learn/amdahlexplorer.h"
#include "gui/learn/ringexplorer.h"
#include "gui/learn/classresultsview.h"
#include "gui/learn/lessonview.h"
#include "gui/learn/pipelineexplorer.h"
#include "gui/learn/splitsexplorer.h"

namespace ss::gui {

LearnPage::LearnPage(QWidget* parent) : Page(parent) {
    list_ = new QListWidget;
    list_->setObjectName(QStringLiteral("learnEntries"));
    // Lessons' titles are whole questions: wrapped in a list of a fixed width in characters, so
    // that the explorer beside it keeps its room at 1024 px.
    list_->setWordWrap(true);
    list_->setTextElideMode(Qt::ElideNone);
    list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    list_->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
    sizeList();
    stack_ = new QStackedWidget;
    auto* side = new QVBoxLayout;
    side->addWidget(new QLabel(tr("<b>Explorers</b>")));
    side->addWidget(list_, 1);
    auto* layout = new QHBoxLayout(this);
    layout->addLayout(side);
    layout->addWidget(stack_, 1);
    connect(list_, &QListWidget::currentRowChanged, this, &LearnPage::entryChanged);

    addEntry(QStringLiteral("amdahl"), tr("Amdahl vs Gustafson"), new AmdahlExplorer);
    addEntry(QStringLiteral("ring"), tr("Ring all-reduce"), new RingExplorer);
    addEntry(QStringLiteral("pipeline"), tr("Pipeline schedules"), new PipelineExplorer);
    addEntry(QStringLiteral("splits"), tr("What each parallelism splits"), new SplitsExplorer);
    // The shipped lessons (examples/lessons/, docs/LESSONS.md), one entry each.
    for (const core::Lesson& l : loadLessonFiles(lessonsDirectory())) {
        auto* v = new LessonView(l);
        connect(v, &LessonView::finished, this, &Page::openRequested);
        addEntry(LessonView::entryId(l), tr("Lesson: %1").arg(QString::fromStdString(l.title)), v);
    }
    addEntry(QStringLiteral("class-results"), tr("Class results"), new ClassResultsView);
}

void LearnPage::sizeList() {
    list_->setFixedWidth(list_->fontMetrics().averageCharWidth() * 26 + 2 * list_->frameWidth() + 8);
}

void LearnPage::changeEvent(QEvent* e) {
    if (e->type() == QEvent::FontChange) sizeList();
    Page::changeEvent(e);
}

void LearnPage::addEntry(const QString& id, const QString& title, QWidget* w) {
    Item item{id, w, dynamic_cast<LearnEntry*>(w)};
    if (item.learn) item.learn->readyHook_ = [this] { updateReady(); };
    w->setObjectName(w->objectName().isEmpty() ? QStringLiteral("learn-%1").arg(id)
                                               : w->objectName());
    items_.push_back(item);
    stack_->addWidget(w);
    auto* row = new QListWidgetItem(title, list_);
    row->setData(Qt::UserRole, id);
    list_->updateGeometry();
    if (list_->currentRow() < 0) list_->setCurrentRow(0);
}

bool LearnPage::showEntry(const QString& id) {
    for (int i = 0; i < static_cast<int>(items_.size()); ++i)
        if (items_[static_cast<std::size_t>(i)].id == id) {
            list_->setCurrentRow(i);
            return true;
        }
    return false;
}

QStringList LearnPage::entryIds() const {
    QStringList ids;
    for (const Item& i : items_) ids << i.id;
    return ids;
}

QString LearnPage::currentEntryId() const {
    const int row = list_->currentRow();
    return row >= 0 && row < static_cast<int>(items_.size())
               ? items_[static_cast<std::size_t>(row)].id
               : QString();
}

QWidget* LearnPage::entry(const QString& id) const {
    for (const Item& i : items_)
        if (i.id == id) return i.widget;
    return nullptr;
}

void LearnPage::setSelection(const Selection& s) {
    sel_ = s;
    const int row = list_->currentRow();
    if (row >= 0 && row < static_cast<int>(items_.size()))
        if (LearnEntry* e = items_[static_cast<std::size_t>(row)].learn) e->setSelection(sel_);
    updateReady();
}

void LearnPage::entryChanged(int row) {
    if (row < 0 || row >= static_cast<int>(items_.size())) return;
    stack_->setCurrentIndex(row);
    // Only the entry on screen follows the selection; the one that appears catches up now.
    if (LearnEntry* e = items_[static_cast<std::size_t>(row)].learn) e->setSelection(sel_);
    updateReady();
}

void LearnPage::updateReady() {
    const int row = list_->currentRow();
    const LearnEntry* e = row >= 0 && row < static_cast<int>(items_.size())
                              ? items_[static_cast<std::size_t>(row)].learn
                              : nullptr;
    setReady(!e || e->entryReady());
}

}  // namespace ss::gui

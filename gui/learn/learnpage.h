// The Learn page (workshop mode, issue 19; docs/GUI.md "Learn page"): explorers that teach the
// laws and algorithms of parallel training, each a chart, a few controls and a few plain
// sentences whose numbers all come from core/ (core/teach, core/analysis, core/sim). A list of
// entries on the left, the chosen entry on the right (a QStackedWidget).
//
// Adding an explorer (any QWidget):
//
//     learnPage->addEntry(QStringLiteral("pipeline"), tr("Pipeline schedules"), new
//     PipelineExplorer);
//
// `id` is what `scalescope --screenshot learn-<id> OUT.png [FILE]` takes. A widget that shows
// something of the open study or trace also derives from LearnEntry (below): the page passes it
// the window's selection when it is shown and whenever the selection changes while it is, and
// waits for its readiness (the screenshot mode waits for it too).
#pragma once

#include <functional>
#include <vector>

#include "gui/app/page.h"

class QListWidget;
class QStackedWidget;

namespace ss::gui {

// The interface an explorer implements to follow the open study or trace. Not a QObject, so a
// QWidget subclass can add it (class MyExplorer : public QWidget, public LearnEntry).
class LearnEntry {
public:
    virtual ~LearnEntry() = default;
    // The window's selection (a run and/or a study of an open file; empty: nothing open). Called
    // while the entry is the one on screen: an entry starts its jobs here.
    virtual void setSelection(const Selection& s) = 0;
    // Whether what the entry shows is complete (no job of its own in flight).
    bool entryReady() const { return entryReady_; }

protected:
    // An entry that starts a job sets false, and true when its result is shown.
    void setEntryReady(bool ready) {
        entryReady_ = ready;
        if (readyHook_) readyHook_();
    }

private:
    friend class LearnPage;
    bool entryReady_ = true;
    std::function<void()> readyHook_;  // set by LearnPage::addEntry
};

class LearnPage : public Page {
    Q_OBJECT
public:
    explicit LearnPage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("learn"); }
    QString pageTitle() const override { return tr("Learn"); }
    void setSelection(const Selection& s) override;

    // Adds an explorer below the others; the page takes ownership of `w`. The first entry added is
    // shown first.
    void addEntry(const QString& id, const QString& title, QWidget* w);
    // Shows entry `id`; false when there is none of that id.
    bool showEntry(const QString& id);
    QStringList entryIds() const;
    QString currentEntryId() const;
    QWidget* entry(const QString& id) const;

protected:
    void changeEvent(QEvent* e) override;

private:
    void entryChanged(int row);
    void updateReady();
    void sizeList();  // the entry list: about 26 characters wide, long titles wrapped

    struct Item {
        QString id;
        QWidget* widget = nullptr;
        LearnEntry* learn = nullptr;  // null: the widget does not follow the selection
    };
    std::vector<Item> items_;
    Selection sel_;
    QListWidget* list_;
    QStackedWidget* stack_;
};

}  // namespace ss::gui

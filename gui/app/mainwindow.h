// The main window: a page selector (sidebar), the document list (open files with their runs and
// studies), menus, recent files, drag and drop, and a status bar with the selected run's headline
// numbers. Files open on the job pool (progress and Cancel in the status bar); a bad file gives a
// dialog with the reader's message and leaves the window as it was.
#pragma once

#include <QMainWindow>
#include <QStringList>

#include <map>

#include "gui/app/documents.h"
#include "gui/common/jobs.h"

class QLabel;
class QListWidget;
class QMenu;
class QProgressBar;
class QStackedWidget;
class QToolButton;
class QTreeView;

namespace ss::gui {

class Page;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void openFiles(const QStringList& paths);
    void openFile(const QString& path);
    bool showPage(const QString& pageId);
    Page* page(const QString& pageId) const;
    Page* currentPage() const;
    QStringList pageIds() const;
    DocumentModel* documents() const { return docModel_; }
    const Selection& selection() const { return selection_; }
    void select(const Selection& s);
    QString statusHeadline() const;
    int pendingOpens() const { return static_cast<int>(loading_.size()); }
    // Shows error dialogs (true) or only emits openFailed (false: tests, screenshots).
    void setInteractiveErrors(bool on) { interactiveErrors_ = on; }

signals:
    void documentOpened(const QString& path);
    void openFailed(const QString& path, const QString& message);
    void selectionChanged();

protected:
    void closeEvent(QCloseEvent* e) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    void buildMenus();
    void addPage(Page* p);
    void onDocumentLoaded(const QString& path, DocumentData data);
    void onOpenError(const QString& path, const QString& message);
    void updateLoadingUi();
    void closeCurrentDocument();
    void reloadCurrentDocument();
    void cancelLoading();
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void updateHeadline();
    void setZoom(double z);
    void saveSettings();

    DocumentModel* docModel_;
    QTreeView* docView_;
    QListWidget* sidebar_;
    QStackedWidget* stack_;
    std::vector<Page*> pages_;
    QMenu* recentMenu_ = nullptr;
    QLabel* headline_;
    QLabel* loadingLabel_;
    QProgressBar* loadingBar_;
    QToolButton* cancelButton_;
    std::map<QString, CancelToken> loading_;  // path -> its job
    Selection selection_;
    QString stepTimeText_;
    CancelToken headlineJob_;
    bool interactiveErrors_ = true;
};

}  // namespace ss::gui

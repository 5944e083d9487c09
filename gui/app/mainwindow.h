// The main window: a side panel with the page selector and the document list (open files with their
// runs and studies), menus, recent files, drag and drop, and a status bar with the selected run's
// headline numbers. Files open on the job pool (progress and Cancel in the status bar); a bad file
// gives a dialog with the reader's message and leaves the window as it was. The side panel is as
// wide as its labels (within a quarter of the window; the user's own width is kept) and can be
// hidden (View ▸ Side Panel), so the pages keep their room in a small window. Traces of other
// tools (Kineto JSON, Nsight Systems SQLite) are imported first, into a cache (app/importcache.h),
// with a progress dialog and Cancel.
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
class QProgressDialog;
class QSplitter;
class QStackedWidget;
class QToolButton;
class QTreeView;

namespace ss::gui {

class ElidedLabel;
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
    // The side panel (page selector and document list); hidden by View ▸ Side Panel.
    QWidget* sidePanel() const { return sidePanel_; }
    // The width the side panel takes when the user has not dragged it: its widest label, at most a
    // quarter of the window.
    int preferredSidePanelWidth() const;
    int pendingOpens() const { return static_cast<int>(loading_.size()); }
    // Presenter mode (View ▸ Presenter Mode, F5 on, Esc off; app/theme.h): large fonts, the
    // high-contrast palette, the side panel and status bar hidden so a page fills the screen, and
    // PageUp / PageDown (a clicker) move between the steps of the lesson shown.
    bool presenterMode() const;
    void setPresenterMode(bool on);
    QAction* presenterAction() const { return presenterAction_; }
    // Shows error dialogs (true) or only emits openFailed (false: tests, screenshots).
    void setInteractiveErrors(bool on) { interactiveErrors_ = on; }

signals:
    void documentOpened(const QString& path);
    void openFailed(const QString& path, const QString& message);
    void selectionChanged();

protected:
    void changeEvent(QEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;
    void closeEvent(QCloseEvent* e) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    void buildMenus();
    void addPage(Page* p);
    void onDocumentLoaded(const QString& path, DocumentData data);
    void fitSidePanel();
    void showDocumentation();
    void showShortcuts();
    void onOpenError(const QString& path, const QString& message);
    void updateLoadingUi();
    void closeCurrentDocument();
    void reloadCurrentDocument();
    // Reads a trace file on the job pool, first time or again; a file being read is not started twice.
    void readDocument(const QString& path);
    // Imports a trace of another tool into the import cache (or finds it there), then reads that.
    void importDocument(const QString& source);
    void openResult(const QString& path);
    void cancelLoading();
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void updateHeadline();
    void setZoom(double z);
    void presenterStep(int delta);
    void saveSettings();

    DocumentModel* docModel_;
    QTreeView* docView_;
    QListWidget* sidebar_;
    QWidget* sidePanel_;
    QSplitter* split_;
    QAction* sidePanelAction_ = nullptr;
    QAction* presenterAction_ = nullptr;
    QAction* presenterOffAction_ = nullptr;  // Esc, enabled in presenter mode only
    QList<QAction*> presenterStepActions_;   // PageUp / PageDown, enabled in presenter mode only
    bool sidePanelBeforePresenter_ = true;
    bool statusBarBeforePresenter_ = true;
    int userSideWidth_ = 0;  // the width the user dragged the side panel to; 0: fit the labels
    bool syncingView_ = false;  // select() moves the document list's current row
    QStackedWidget* stack_;
    std::vector<Page*> pages_;
    QMenu* recentMenu_ = nullptr;
    ElidedLabel* headline_;
    QLabel* loadingLabel_;
    QProgressBar* loadingBar_;
    QToolButton* cancelButton_;
    std::map<QString, CancelToken> loading_;  // path -> its job
    std::map<QString, QProgressDialog*> importDialogs_;  // source path -> its progress dialog
    std::map<QString, QString> importSources_;  // cache file -> the source it was imported from
    QStringList results_;  // files a finished launch asked to open: their newest run is selected
    Selection selection_;
    QString stepTimeText_;
    CancelToken headlineJob_;
    bool interactiveErrors_ = true;
};

}  // namespace ss::gui

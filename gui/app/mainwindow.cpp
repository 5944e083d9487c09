#include "gui/app/mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QProgressDialog>
#include <QScopedValueRollback>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QChartView>
#include <QToolButton>
#include <QTreeView>

#include "core/analysis/analysis.h"
#include "core/analysis/parameter_server.h"
#include "gui/app/helpdialogs.h"
#include "gui/app/importcache.h"
#include "gui/app/page.h"
#include "gui/app/theme.h"
#include "gui/learn/lessonview.h"
#include "gui/common/elidedlabel.h"
#include "gui/common/format.h"
#include "gui/common/report.h"
#include "gui/compare/comparepage.h"
#include "gui/experiment/experimentpage.h"
#include "gui/learn/learnpage.h"
#include "gui/scaling/scalingpage.h"
#include "gui/summary/summarypage.h"
#include "gui/timeline/timelinepage.h"
#include "gui/whatif/whatifpage.h"

namespace ss::gui {

namespace {
constexpr int kMaxRecent = 10;

// The platform's keys for a standard action, and `usual` too: without a desktop's platform theme
// (a bare X server, Xvfb) Close is only Ctrl+F4 and Quit has no key at all.
QList<QKeySequence> standardKeys(QKeySequence::StandardKey key, const QKeySequence& usual) {
    QList<QKeySequence> keys = QKeySequence::keyBindings(key);
    if (!keys.contains(usual)) keys << usual;
    return keys;
}

// The page selector: exactly as tall and wide as its rows at the current font, so a font zoom
// never hides a page behind a scroll bar.
class PageList : public QListWidget {
public:
    using QListWidget::QListWidget;
    QSize sizeHint() const override {
        int h = 2 * frameWidth();
        for (int i = 0; i < count(); ++i) h += sizeHintForRow(i) + 2 * spacing();
        return {sizeHintForColumn(0) + 2 * frameWidth() + 2 * spacing(), h};
    }
    QSize minimumSizeHint() const override { return sizeHint(); }
};

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("ScaleScope"));
    setAcceptDrops(true);
    setObjectName(QStringLiteral("MainWindow"));

    docModel_ = new DocumentModel(this);
    docView_ = new QTreeView;
    docView_->setObjectName(QStringLiteral("documentList"));
    docView_->setModel(docModel_);
    docView_->setHeaderHidden(true);
    docView_->setUniformRowHeights(true);
    // Narrower than its labels (a small window): the model name gives way, the status stays.
    docView_->setTextElideMode(Qt::ElideMiddle);
    docView_->setIndentation(std::max(12, fontMetrics().height()));  // runs under their file, no wider
    connect(docView_->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& i) {
                if (!syncingView_ && i.isValid()) select(docModel_->selectionAt(i));
            });

    sidebar_ = new PageList;
    sidebar_->setObjectName(QStringLiteral("pageSelector"));
    sidebar_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    sidebar_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    sidebar_->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    stack_ = new QStackedWidget;

    sidePanel_ = new QWidget;
    sidePanel_->setObjectName(QStringLiteral("sidePanel"));
    auto* sideLayout = new QVBoxLayout(sidePanel_);
    sideLayout->setContentsMargins(4, 4, 4, 4);
    sideLayout->addWidget(new QLabel(tr("<b>Pages</b>")));
    sideLayout->addWidget(sidebar_);
    sideLayout->addSpacing(4);
    sideLayout->addWidget(new QLabel(tr("<b>Open files</b>")));
    sideLayout->addWidget(docView_, 1);

    split_ = new QSplitter(Qt::Horizontal);
    split_->setObjectName(QStringLiteral("mainSplitter"));
    split_->addWidget(sidePanel_);
    split_->addWidget(stack_);
    split_->setStretchFactor(0, 0);
    split_->setStretchFactor(1, 1);
    split_->setCollapsible(0, true);  // dragged shut = View ▸ Side Panel off
    split_->setCollapsible(1, false);
    setCentralWidget(split_);
    connect(split_, &QSplitter::splitterMoved, this, [this] {
        const int w = split_->sizes().value(0);
        if (w == 0) {
            sidePanelAction_->setChecked(false);  // hides the collapsed panel
            return;
        }
        userSideWidth_ = w;  // the user's width from now on
    });

    addPage(new ExperimentPage);
    addPage(new TimelinePage);
    addPage(new SummaryPage);
    addPage(new ScalingPage);
    addPage(new WhatIfPage);
    addPage(new ComparePage);
    addPage(new LearnPage);
    connect(sidebar_, &QListWidget::currentRowChanged, this, [this](int row) {
        stack_->setCurrentIndex(row);
        // Pages work only when shown: the one that appears catches up with the selection.
        if (Page* p = currentPage()) {
            p->setSelection(selection_);
            p->activated();
        }
    });

    headline_ = new ElidedLabel;
    headline_->setObjectName(QStringLiteral("headline"));
    loadingLabel_ = new QLabel;
    loadingBar_ = new QProgressBar;
    loadingBar_->setRange(0, 0);
    loadingBar_->setMaximumWidth(140);
    cancelButton_ = new QToolButton;
    cancelButton_->setText(tr("Cancel"));
    connect(cancelButton_, &QToolButton::clicked, this, &MainWindow::cancelLoading);
    statusBar()->addWidget(headline_, 1);
    statusBar()->addPermanentWidget(loadingLabel_);
    statusBar()->addPermanentWidget(loadingBar_);
    statusBar()->addPermanentWidget(cancelButton_);
    updateLoadingUi();
    updateHeadline();

    buildMenus();

    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    const int lastPage = settings.value(QStringLiteral("window/page"), 1).toInt();
    sidebar_->setCurrentRow(std::clamp(lastPage, 0, sidebar_->count() - 1));
    if (!settings.contains(QStringLiteral("window/geometry"))) resize(1280, 800);
    userSideWidth_ = std::max(0, settings.value(QStringLiteral("window/sideWidth"), 0).toInt());
    sidePanelAction_->setChecked(settings.value(QStringLiteral("window/sidePanel"), true).toBool());
    fitSidePanel();
}

MainWindow::~MainWindow() {
    for (auto& [path, token] : loading_) token.cancel();
}

void MainWindow::addPage(Page* p) {
    pages_.push_back(p);
    // In a scroll area: a page's minimum size never forces the window larger than the screen
    // (projectors at 1024x768 with a large font zoom).
    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(p);
    stack_->addWidget(scroll);
    sidebar_->addItem(p->pageTitle());
    sidebar_->updateGeometry();  // one row taller: the layout measures the list again
    connect(p, &Page::statusMessage, this, [this](const QString& m) { statusBar()->showMessage(m, 8000); });
    connect(p, &Page::openRequested, this, &MainWindow::openResult);
    // Presenter mode reaches the charts a page builds once its data is in (app/theme.h).
    connect(p, &Page::readyChanged, this, [p](bool ready) {
        if (!ready || !presenter()) return;
        for (QChartView* v : p->findChildren<QChartView*>()) stylePresenterChart(v->chart());
    });
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open…"), this, [this] {
        QSettings s;
        const QStringList paths = QFileDialog::getOpenFileNames(
            this, tr("Open trace files"), s.value(QStringLiteral("files/lastDir")).toString(),
            tr("Traces and specs (*.sqlite *.db *.json *.json.gz);;Trace files (*.sqlite *.db);;"
               "PyTorch profiler and Nsight Systems traces (*.json *.json.gz *.sqlite);;Experiment specs (*.json);;"
               "All files (*)"));
        if (!paths.isEmpty()) s.setValue(QStringLiteral("files/lastDir"), QFileInfo(paths.first()).absolutePath());
        openFiles(paths);
    });
    open->setShortcut(QKeySequence::Open);
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    rebuildRecentMenu();
    QAction* reload = file->addAction(tr("&Reload"), this, &MainWindow::reloadCurrentDocument);
    // Ctrl+R, not QKeySequence::Refresh (F5 on X11): F5 starts presenter mode, as in slide software.
    reload->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    reload->setToolTip(tr("Read the file again (a run may have appended to it)"));
    QAction* close = file->addAction(tr("&Close"), this, &MainWindow::closeCurrentDocument);
    close->setShortcuts(standardKeys(QKeySequence::Close, QKeySequence(Qt::CTRL | Qt::Key_W)));
    // The selected study's one-page report (gui/common/report.h), HTML or PDF.
    QAction* report = file->addAction(tr("Save &Report…"), this, [this] {
        if (!selection_.doc || !selection_.study.valid()) {
            QMessageBox::information(this, tr("Save report"), tr("Select a study in Open files first: the report is of a study."));
            return;
        }
        const QString out = QFileDialog::getSaveFileName(this, tr("Save report"), QFileInfo(selection_.doc->path()).completeBaseName() +
                                                         QStringLiteral("-report.html"), tr("Report (*.html *.pdf)"));
        QString error;
        if (!out.isEmpty() && !writeStudyReport(selection_.doc->path(), selection_.study.value, out, &error))
            QMessageBox::warning(this, tr("Save report"), error);
    });
    report->setObjectName(QStringLiteral("actionSaveReport"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcuts(standardKeys(QKeySequence::Quit, QKeySequence(Qt::CTRL | Qt::Key_Q)));
    quit->setMenuRole(QAction::QuitRole);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* full = view->addAction(tr("&Full Screen"), this, [this](bool on) {
        if (on) showFullScreen(); else showNormal();
    });
    full->setCheckable(true);
    full->setShortcut(QKeySequence::FullScreen);
    view->addSeparator();
    QAction* zin = view->addAction(tr("Zoom &In (fonts)"), this, [this] { setZoom(currentZoom() * 1.15); });
    zin->setObjectName(QStringLiteral("actionZoomIn"));
    zin->setShortcuts({QKeySequence::ZoomIn, QKeySequence(Qt::CTRL | Qt::Key_Equal)});
    QAction* zout = view->addAction(tr("Zoom &Out (fonts)"), this, [this] { setZoom(currentZoom() / 1.15); });
    zout->setObjectName(QStringLiteral("actionZoomOut"));
    zout->setShortcut(QKeySequence::ZoomOut);
    QAction* zreset = view->addAction(tr("&Actual Size"), this, [this] { setZoom(1.0); });
    zreset->setObjectName(QStringLiteral("actionZoomReset"));
    zreset->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    view->addSeparator();
    QAction* dark = view->addAction(tr("&Dark Palette"), this, [this](bool on) {
        applyTheme(*qApp, on ? ThemeKind::Dark : ThemeKind::Light, currentZoom());
        QSettings().setValue(QStringLiteral("view/dark"), on);
        update();
    });
    dark->setCheckable(true);
    dark->setChecked(currentTheme() == ThemeKind::Dark);
    sidePanelAction_ = view->addAction(tr("&Side Panel"));
    sidePanelAction_->setObjectName(QStringLiteral("actionSidePanel"));
    sidePanelAction_->setToolTip(tr("Show or hide the page selector and the list of open files"));
    sidePanelAction_->setCheckable(true);
    sidePanelAction_->setChecked(true);
    sidePanelAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
    connect(sidePanelAction_, &QAction::toggled, this, [this](bool on) {
        sidePanel_->setVisible(on);
        if (on) fitSidePanel();
    });
    presenterAction_ = view->addAction(tr("&Presenter Mode"));
    presenterAction_->setObjectName(QStringLiteral("actionPresenter"));
    presenterAction_->setToolTip(tr("Large fonts, a high-contrast palette and one page filling the screen, for a "
                                    "projector (Esc leaves it)"));
    presenterAction_->setCheckable(true);
    presenterAction_->setShortcut(QKeySequence(Qt::Key_F5));
    connect(presenterAction_, &QAction::toggled, this, &MainWindow::setPresenterMode);
    // Esc leaves presenter mode; enabled only then, so that Esc keeps its meaning elsewhere.
    presenterOffAction_ = new QAction(tr("Leave Presenter Mode"), this);
    presenterOffAction_->setObjectName(QStringLiteral("actionPresenterOff"));
    presenterOffAction_->setShortcut(QKeySequence(Qt::Key_Escape));
    presenterOffAction_->setEnabled(false);
    connect(presenterOffAction_, &QAction::triggered, this, [this] { setPresenterMode(false); });
    addAction(presenterOffAction_);
    // A presentation clicker sends PageDown / PageUp: the next / previous step of the lesson shown.
    for (const auto& [key, delta] : {std::pair{Qt::Key_PageDown, 1}, std::pair{Qt::Key_PageUp, -1}}) {
        auto* a = new QAction(delta > 0 ? tr("Next Lesson Step") : tr("Previous Lesson Step"), this);
        a->setShortcut(QKeySequence(key));
        a->setEnabled(false);
        connect(a, &QAction::triggered, this, [this, delta = delta] { presenterStep(delta); });
        addAction(a);
        presenterStepActions_.push_back(a);
    }
    view->addSeparator();
    for (int i = 0; i < static_cast<int>(pages_.size()); ++i) {
        QAction* a = view->addAction(pages_[static_cast<size_t>(i)]->pageTitle(), this,
                                     [this, i] { sidebar_->setCurrentRow(i); });
        a->setShortcut(QKeySequence(Qt::ALT | static_cast<Qt::Key>(Qt::Key_1 + i)));
    }

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* docs = help->addAction(tr("&Documentation"), this, &MainWindow::showDocumentation);
    docs->setObjectName(QStringLiteral("actionDocumentation"));
    docs->setShortcut(QKeySequence::HelpContents);
    QAction* keys = help->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
    keys->setObjectName(QStringLiteral("actionShortcuts"));
    help->addSeparator();
    help->addAction(tr("&About ScaleScope"), this, [this] {
        QMessageBox::about(this, tr("About ScaleScope"),
                           tr("<b>ScaleScope</b> — a profiler and scaling simulator for parallel training.<br>"
                              "Open a trace file (Ctrl+O), or design and launch a run on the Experiment page."));
    });
}

void MainWindow::showDocumentation() {
    const QString dir = documentationDir();
    if (dir.isEmpty()) {
        QMessageBox::warning(this, tr("Documentation"),
                             tr("The documentation was not found. Looked in:\n%1")
                                 .arg(documentationCandidates().join(QLatin1Char('\n'))));
        return;
    }
    auto* dialog = findChild<DocumentationDialog*>();
    if (!dialog) dialog = new DocumentationDialog(dir, this);
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

void MainWindow::showShortcuts() {
    auto* dialog = findChild<ShortcutsDialog*>();
    if (!dialog) dialog = new ShortcutsDialog(this);
    dialog->refresh(collectShortcuts(this));
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

void MainWindow::setZoom(double z) {
    applyTheme(*qApp, currentTheme(), z);
    QSettings().setValue(QStringLiteral("view/zoom"), currentZoom());
}

QStringList MainWindow::pageIds() const {
    QStringList ids;
    for (Page* p : pages_) ids << p->pageId();
    return ids;
}

Page* MainWindow::page(const QString& id) const {
    for (Page* p : pages_)
        if (p->pageId() == id) return p;
    return nullptr;
}

Page* MainWindow::currentPage() const {
    const int i = stack_->currentIndex();
    return i >= 0 && i < static_cast<int>(pages_.size()) ? pages_[static_cast<size_t>(i)] : nullptr;
}

bool MainWindow::showPage(const QString& id) {
    for (int i = 0; i < static_cast<int>(pages_.size()); ++i) {
        if (pages_[static_cast<size_t>(i)]->pageId() == id) {
            sidebar_->setCurrentRow(i);
            return true;
        }
    }
    return false;
}

void MainWindow::openFiles(const QStringList& paths) {
    for (const QString& p : paths) openFile(p);
}

void MainWindow::openFile(const QString& pathIn) {
    const QString path = QFileInfo(pathIn).absoluteFilePath();
    if (isImportable(path)) return importDocument(path);  // a Kineto or Nsight trace
    if (ExperimentPage::isSpecFile(path)) {  // a spec goes to the Experiment form, not the trace reader
        auto* experiment = qobject_cast<ExperimentPage*>(page(QStringLiteral("experiment")));
        if (const QString error = experiment->loadSpecFile(path); !error.isEmpty()) return onOpenError(path, error);
        showPage(QStringLiteral("experiment"));
        return;
    }
    // New or already open (read again: a run may have appended to it); the selection follows once read.
    readDocument(path);
}

void MainWindow::openResult(const QString& path) {
    // A launch appended its run (or study) to this file: once read, that is what gets selected.
    const QString abs = QFileInfo(path).absoluteFilePath();
    if (!results_.contains(abs)) results_ << abs;
    openFile(path);
}

void MainWindow::cancelLoading() {
    for (auto& [path, token] : loading_) token.cancel();
    loading_.clear();
    for (auto& [source, dialog] : importDialogs_) dialog->deleteLater();
    importDialogs_.clear();
    results_.clear();
    updateLoadingUi();
    statusBar()->showMessage(tr("Opening cancelled"), 5000);
}

void MainWindow::updateLoadingUi() {
    const bool busy = !loading_.empty();
    loadingBar_->setVisible(busy);
    cancelButton_->setVisible(busy);
    loadingLabel_->setVisible(busy);
    if (busy)
        loadingLabel_->setText(tr("Opening %1…").arg(QFileInfo(loading_.begin()->first).fileName()));
}

void MainWindow::onDocumentLoaded(const QString& path, DocumentData data) {
    auto doc = std::make_shared<const Document>(std::move(data));
    int row = docModel_->indexOfPath(path);
    DocumentPtr before;
    {
        // The rows change under the list's current row: no selection until the one chosen below.
        const QScopedValueRollback guard(syncingView_, true);
        if (row >= 0) {
            before = docModel_->documents()[static_cast<size_t>(row)];
            docModel_->replaceDocument(row, doc);
        } else {
            docModel_->addDocument(doc);
            row = static_cast<int>(docModel_->documents().size()) - 1;
        }
        docView_->expand(docModel_->index(row, 0));
    }
    for (Page* p : pages_) p->setDocuments(docModel_->documents());
    // A file a launch wrote to: what it added (the diff when the file was open, else its newest).
    const bool result = results_.removeAll(path) > 0;
    select(result && !before ? latestSelection(doc) : selectionAfterLoad(before, doc, selection_));
    fitSidePanel();
    const auto source = importSources_.find(path);
    addRecent(source != importSources_.end() ? source->second : path);  // the file the user opened
    emit documentOpened(path);
}

void MainWindow::onOpenError(const QString& path, const QString& message) {
    results_.removeAll(path);
    emit openFailed(path, message);
    if (!interactiveErrors_) return;
    auto* box = new QMessageBox(QMessageBox::Critical, tr("Cannot open file"),
                                tr("ScaleScope cannot open “%1”.").arg(QFileInfo(path).fileName()),
                                QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("openErrorDialog"));
    box->setInformativeText(message);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();  // window-modal, does not block the event loop
}

void MainWindow::closeCurrentDocument() {
    const QModelIndex cur = docView_->currentIndex();
    DocumentPtr doc = docModel_->documentAt(cur);
    if (!doc) return;
    {
        const QScopedValueRollback guard(syncingView_, true);
        docModel_->removeDocument(docModel_->indexOfPath(doc->path()));
    }
    for (Page* p : pages_) p->setDocuments(docModel_->documents());
    const QModelIndex next = docView_->currentIndex();
    select(next.isValid() ? docModel_->selectionAt(next) : Selection{});
    fitSidePanel();
}

void MainWindow::reloadCurrentDocument() {
    if (DocumentPtr doc = docModel_->documentAt(docView_->currentIndex())) readDocument(doc->path());
}

void MainWindow::readDocument(const QString& path) {
    if (loading_.count(path)) return;  // being read already
    loading_[path] = startJob<DocumentData>(
        this, [path](const CancelToken& c) { return loadDocument(path, c); },
        [this, path](DocumentData d) {
            loading_.erase(path);
            updateLoadingUi();
            onDocumentLoaded(path, std::move(d));
        },
        [this, path](const QString& m) {
            loading_.erase(path);
            updateLoadingUi();
            onOpenError(path, m);
        });
    updateLoadingUi();
}

void MainWindow::importDocument(const QString& source) {
    if (loading_.count(source)) return;  // being imported already
    auto* dialog = new QProgressDialog(tr("Importing %1…").arg(QFileInfo(source).fileName()), tr("Cancel"), 0, 1000, this);
    dialog->setObjectName(QStringLiteral("importProgress"));
    dialog->setWindowTitle(tr("Import"));
    dialog->setWindowModality(Qt::WindowModal);
    dialog->setAutoClose(false);
    dialog->setAutoReset(false);
    dialog->setMinimumDuration(500);  // a cached or small import does not flash a dialog
    dialog->setValue(0);
    importDialogs_[source] = dialog;
    QPointer<QProgressDialog> guard(dialog);
    auto finished = [this, source] {
        loading_.erase(source);
        if (auto it = importDialogs_.find(source); it != importDialogs_.end()) {
            it->second->deleteLater();
            importDialogs_.erase(it);
        }
        updateLoadingUi();
    };
    loading_[source] = startJob<QString>(
        this,
        [source, guard](const CancelToken& c) {
            return importToCache(source, c, [guard](int permille) {
                QMetaObject::invokeMethod(qApp, [guard, permille] {
                    if (guard) guard->setValue(permille);
                }, Qt::QueuedConnection);
            });
        },
        [this, source, finished](QString cache) {
            finished();
            importSources_[cache] = source;
            readDocument(cache);
        },
        [this, source, finished](const QString& m) {
            finished();
            onOpenError(source, m);
        });
    const CancelToken token = loading_[source];
    connect(dialog, &QProgressDialog::canceled, this, [this, source, token, finished] {
        token.cancel();  // the import stops at its next progress report and leaves nothing cached
        finished();
        statusBar()->showMessage(tr("Import of %1 cancelled").arg(QFileInfo(source).fileName()), 5000);
    });
    updateLoadingUi();
}

void MainWindow::select(const Selection& s) {
    if (s == selection_) return;
    selection_ = s;
    const QModelIndex idx = docModel_->indexOf(s);
    if (idx.isValid() && docView_->currentIndex() != idx) {
        const QScopedValueRollback guard(syncingView_, true);
        docView_->setCurrentIndex(idx);
    }
    // Only the page on screen computes now; the others catch up when they are shown.
    if (Page* p = currentPage()) p->setSelection(s);
    stepTimeText_.clear();
    updateHeadline();
    // The median step time needs the step events: read them off the GUI thread.
    headlineJob_.cancel();
    // Only where the step events are few: run_step_times reads the run's events.
    if (const RunData* r = s.runData(); r && r->info.event_count <= 2'000'000) {
        DocumentPtr doc = s.doc;
        const traces::RunId run = r->info.id;
        headlineJob_ = startJob<double>(
            this,
            [doc, run](const CancelToken&) {
                return doc->withReader("status", [&](traces::TraceReader& rd) {
                    return core::run_step_times(rd, run).stats.median_ns;
                });
            },
            [this](double median) {
                stepTimeText_ = tr("step %1 (median)").arg(formatDuration(median));
                updateHeadline();
            },
            [](const QString&) {});
    }
    emit selectionChanged();
}

QString MainWindow::statusHeadline() const { return headline_->text(); }

int MainWindow::preferredSidePanelWidth() const {
    const QMargins m = sidePanel_->layout()->contentsMargins();
    const int pages = sidebar_->sizeHint().width();
    // (QTreeView's override is protected; the base's is public: the same call, with indentation.)
    int files = static_cast<const QAbstractItemView*>(docView_)->sizeHintForColumn(0) + 2 * docView_->frameWidth();
    if (docView_->verticalScrollBar()->isVisible()) files += docView_->verticalScrollBar()->width();
    const int cap = std::max(pages, width() / 4);
    return std::min(std::max(pages, files), cap) + m.left() + m.right();
}

void MainWindow::fitSidePanel() {
    if (!sidePanel_->isVisibleTo(this)) return;
    const QList<int> sizes = split_->sizes();
    const int total = sizes.value(0) + sizes.value(1) > 0 ? sizes.value(0) + sizes.value(1) : width();
    // The user's width, while it leaves the pages most of the window.
    const int side = userSideWidth_ > 0 ? std::min(userSideWidth_, total * 3 / 5) : preferredSidePanelWidth();
    split_->setSizes({side, std::max(1, total - side)});
}

void MainWindow::changeEvent(QEvent* e) {
    QMainWindow::changeEvent(e);
    // A font zoom: the page list and the labels of the document list changed size (the children
    // get their new font around this event, so measure once they all have).
    if (e->type() == QEvent::FontChange)
        QMetaObject::invokeMethod(this, &MainWindow::fitSidePanel, Qt::QueuedConnection);
}

void MainWindow::resizeEvent(QResizeEvent* e) {
    QMainWindow::resizeEvent(e);
    fitSidePanel();  // the side panel's share follows the window's width
}

void MainWindow::updateHeadline() {
    const RunData* r = selection_.runData();
    // A study first (its selection also carries a run: the one the run pages show).
    QString study;
    if (const StudyData* st = selection_.studyData())
        study = tr("Study #%1 %2  ·  %3 (%4 scaling)  ·  %n run(s)", nullptr, static_cast<int>(st->runs.size()))
                    .arg(st->info.id.value)
                    .arg(fromStd(st->info.name), fromStd(st->info.variable), fromStd(st->info.scaling));
    if (!r) {
        QString text = tr("No file open: File ▸ Open (Ctrl+O) or drop a trace file here");
        if (!study.isEmpty())
            text = study;
        else if (selection_.doc)
            text = selection_.doc->data().runs.empty() ? tr("%1: no runs").arg(selection_.doc->displayName())
                                                       : tr("%1: select a run or a study").arg(selection_.doc->displayName());
        headline_->setFullText(text);
        return;
    }
    const traces::RunInfo& i = r->info;
    QStringList parts;
    if (!study.isEmpty()) parts << study;
    parts << tr("Run #%1 %2").arg(i.id.value).arg(fromStd(i.model));
    // A parameter-server run's world is its workers' grid and its servers (models/LAYOUT.md).
    if (const core::PsLayout ps = core::ps_layout(i, r->ranks); ps.present())
        parts << tr("%1 ranks (dp %2 × tp %3 × pp %4 workers + %n server(s))", nullptr, ps.servers)
                     .arg(i.world_size)
                     .arg(i.dp)
                     .arg(i.tp)
                     .arg(i.pp);
    else
        parts << tr("%1 ranks (dp %2 × tp %3 × pp %4)").arg(i.world_size).arg(i.dp).arg(i.tp).arg(i.pp);
    parts << fromStd(std::string(traces::to_string(i.status)));
    parts << tr("%1 run").arg(formatDuration(static_cast<double>(i.end_ns - i.start_ns)));
    if (!stepTimeText_.isEmpty()) parts << stepTimeText_;
    parts << tr("%1 events").arg(QLocale().toString(qlonglong(i.event_count)));
    if (r->dropped > 0) parts << tr("%1 dropped/malformed").arg(r->dropped);
    if (i.oversubscribed) parts << tr("oversubscribed");
    headline_->setFullText(parts.join(QStringLiteral("  ·  ")));
}

void MainWindow::addRecent(const QString& path) {
    QSettings s;
    QStringList recent = s.value(QStringLiteral("files/recent")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent) recent.removeLast();
    s.setValue(QStringLiteral("files/recent"), recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    recentMenu_->clear();
    const QStringList recent = QSettings().value(QStringLiteral("files/recent")).toStringList();
    for (const QString& p : recent) recentMenu_->addAction(p, this, [this, p] { openFile(p); });
    recentMenu_->setEnabled(!recent.isEmpty());
    if (!recent.isEmpty()) {
        recentMenu_->addSeparator();
        recentMenu_->addAction(tr("Clear"), this, [this] {
            QSettings().remove(QStringLiteral("files/recent"));
            rebuildRecentMenu();
        });
    }
}

void MainWindow::saveSettings() {
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/page"), sidebar_->currentRow());
    s.setValue(QStringLiteral("window/sideWidth"), userSideWidth_);
    s.setValue(QStringLiteral("window/sidePanel"), sidePanelAction_->isChecked());
}

bool MainWindow::presenterMode() const { return presenter(); }

void MainWindow::setPresenterMode(bool on) {
    if (on == presenter()) {
        if (presenterAction_->isChecked() != on) presenterAction_->setChecked(on);
        return;
    }
    if (on) {
        sidePanelBeforePresenter_ = sidePanelAction_->isChecked();
        statusBarBeforePresenter_ = statusBar()->isVisible() || !isVisible();
    }
    setPresenter(*qApp, on, this);
    {
        const QSignalBlocker block(presenterAction_);
        presenterAction_->setChecked(on);
    }
    presenterOffAction_->setEnabled(on);
    for (QAction* a : presenterStepActions_) a->setEnabled(on);
    // One page fills the screen: no side panel, no status bar; back as they were afterwards.
    sidePanelAction_->setChecked(on ? false : sidePanelBeforePresenter_);
    statusBar()->setVisible(on ? false : statusBarBeforePresenter_);
    update();
}

void MainWindow::presenterStep(int delta) {
    // The lesson on screen: a visible LessonView of the current page.
    Page* p = currentPage();
    if (!p) return;
    for (LessonView* v : p->findChildren<LessonView*>())
        if (v->isVisible()) {
            if (delta > 0) v->next();
            else v->previous();
            return;
        }
}

void MainWindow::closeEvent(QCloseEvent* e) {
    if (presenter()) setPresenterMode(false);  // the settings keep the window as it is outside the mode
    saveSettings();
    QMainWindow::closeEvent(e);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
    if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
    QStringList paths;
    for (const QUrl& u : e->mimeData()->urls())
        if (u.isLocalFile()) paths << u.toLocalFile();
    openFiles(paths);
    e->acceptProposedAction();
}

}  // namespace ss::gui

#include "gui/app/helpdialogs.h"

#include <QAction>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QImage>
#include <QListWidget>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSet>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>
#include <functional>
#include <map>

#include "gui/app/page.h"
#include "gui/common/tablepanel.h"

namespace ss::gui {

namespace {

const QString kGuide = QStringLiteral("GUI.md");

// The first "# " heading of a Markdown file, or its name.
QString markdownTitle(const QString& path) {
    QFile f(path);
    if (f.open(QIODevice::ReadOnly | QIODevice::Text)) {
        for (int i = 0; i < 20 && !f.atEnd(); ++i) {
            const QString line = QString::fromUtf8(f.readLine()).trimmed();
            if (line.startsWith(QLatin1String("# "))) return line.mid(2).remove(QLatin1Char('`')).trimmed();
        }
    }
    return QFileInfo(path).fileName();
}

// "&Open…" -> "Open…" ("&&" stays one "&").
QString actionText(const QAction* a) {
    QString t = a->text();
    t.replace(QLatin1String("&&"), QString(QChar(0xE000)));
    t.remove(QLatin1Char('&'));
    t.replace(QChar(0xE000), QLatin1Char('&'));
    return t;
}

QString keysText(const QAction* a) {
    QStringList keys;
    for (const QKeySequence& k : a->shortcuts()) keys << k.toString(QKeySequence::NativeText);
    return keys.join(QStringLiteral(", "));
}

// Shows a document; images wider than the view are scaled down to it.
class GuideBrowser : public QTextBrowser {
public:
    using QTextBrowser::QTextBrowser;
    QVariant loadResource(int type, const QUrl& url) override {
        QVariant v = QTextBrowser::loadResource(type, url);
        if (type != QTextDocument::ImageResource) return v;
        QImage img = v.value<QImage>();
        if (img.isNull() && v.canConvert<QByteArray>()) img.loadFromData(v.toByteArray());
        const int maxWidth = std::max(200, viewport()->width() - 40);
        if (!img.isNull() && img.width() > maxWidth)
            return img.scaledToWidth(maxWidth, Qt::SmoothTransformation);
        return v;
    }
};

}  // namespace

QStringList documentationCandidates() {
    QStringList c;
    const QString env = qEnvironmentVariable("SCALESCOPE_DOCS_DIR");
    if (!env.isEmpty()) c << env;
    c << QStringLiteral(SCALESCOPE_SOURCE_DOCS);
    c << QDir::cleanPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../share/doc/scalescope"));
    return c;
}

QString documentationDir() {
    for (const QString& c : documentationCandidates())
        if (QFileInfo::exists(QDir(c).filePath(kGuide))) return QDir(c).absolutePath();
    return {};
}

QStringList documentationFiles(const QString& docsDir) {
    const QDir dir(docsDir);
    QStringList files;
    if (dir.exists(kGuide)) files << dir.filePath(kGuide);
    // The README: beside the guides (installed) or in the folder above them (the source tree).
    const QString readme = QStringLiteral("README.md");
    if (dir.exists(readme)) files << dir.filePath(readme);
    else if (QFileInfo::exists(dir.filePath(QStringLiteral("../README.md"))))
        files << QDir::cleanPath(dir.filePath(QStringLiteral("../README.md")));
    for (const QString& name : dir.entryList({QStringLiteral("*.md")}, QDir::Files, QDir::Name))
        if (name != kGuide && name != readme) files << dir.filePath(name);
    return files;
}

DocumentationDialog::DocumentationDialog(const QString& docsDir, QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("documentationDialog"));
    setWindowTitle(tr("ScaleScope documentation"));
    contents_ = new QListWidget;
    contents_->setObjectName(QStringLiteral("docContents"));
    browser_ = new GuideBrowser;
    browser_->setObjectName(QStringLiteral("docBrowser"));
    browser_->setOpenExternalLinks(true);  // web links: the system browser; files: shown here

    for (const QString& path : documentationFiles(docsDir)) {
        auto* item = new QListWidgetItem(markdownTitle(path), contents_);
        item->setData(Qt::UserRole, QFileInfo(path).absoluteFilePath());
        item->setToolTip(path);
    }
    const int listWidth = contents_->sizeHintForColumn(0) + 2 * contents_->frameWidth() + 8;

    connect(contents_, &QListWidget::currentRowChanged, this, &DocumentationDialog::showGuide);
    // A link followed to another guide: the contents list shows where the reader is.
    connect(browser_, &QTextBrowser::sourceChanged, this, [this](const QUrl& url) {
        for (int i = 0; i < contents_->count(); ++i) {
            if (contents_->item(i)->data(Qt::UserRole).toString() == QFileInfo(url.toLocalFile()).absoluteFilePath()) {
                const QSignalBlocker block(contents_);
                contents_->setCurrentRow(i);
                return;
            }
        }
        const QSignalBlocker block(contents_);
        contents_->clearSelection();
        contents_->setCurrentRow(-1);
    });

    auto* split = new QSplitter;
    split->addWidget(contents_);
    split->addWidget(browser_);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    resize(std::max(960, listWidth + 700), 680);
    split->setSizes({listWidth, width() - listWidth});
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    auto* back = buttons->addButton(tr("Back"), QDialogButtonBox::ActionRole);
    back->setEnabled(false);
    connect(back, &QPushButton::clicked, browser_, &QTextBrowser::backward);
    connect(browser_, &QTextBrowser::backwardAvailable, back, &QPushButton::setEnabled);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split, 1);
    layout->addWidget(buttons);
    if (contents_->count() > 0) {
        const QSignalBlocker block(contents_);
        contents_->setCurrentRow(0);
        showGuide(0);
    }
}

void DocumentationDialog::showGuide(int row) {
    if (row < 0 || row >= contents_->count()) return;
    const QUrl url = QUrl::fromLocalFile(contents_->item(row)->data(Qt::UserRole).toString());
    if (browser_->source() != url) browser_->setSource(url, QTextDocument::MarkdownResource);
}

std::vector<ShortcutEntry> collectShortcuts(const QMainWindow* window) {
    std::vector<ShortcutEntry> out;
    QSet<const QAction*> seen;
    // The menus, in the order the user sees them.
    std::function<void(const QMenu*, const QString&)> walk = [&](const QMenu* menu, const QString& where) {
        for (const QAction* a : menu->actions()) {
            if (a->menu()) {
                walk(a->menu(), where + QStringLiteral(" ▸ ") + actionText(a->menu()->menuAction()));
                continue;
            }
            seen.insert(a);
            if (!a->shortcuts().isEmpty()) out.push_back({keysText(a), actionText(a), where});
        }
    };
    for (const QAction* top : window->menuBar()->actions())
        if (top->menu()) walk(top->menu(), ShortcutsDialog::tr("%1 menu").arg(actionText(top)));

    // The actions of the pages' widgets (a table's Copy as CSV, ...): one row per text and keys.
    struct Place {
        QStringList pages;
        bool focus = false;
        bool table = false;
    };
    std::map<std::pair<QString, QString>, Place> others;  // (text, keys) -> where
    std::vector<std::pair<QString, QString>> order;
    for (const QAction* a : window->findChildren<QAction*>()) {
        if (seen.contains(a) || a->shortcuts().isEmpty() || a->menu()) continue;
        const std::pair<QString, QString> key{actionText(a), keysText(a)};
        auto [it, added] = others.try_emplace(key);
        if (added) order.push_back(key);
        Place& place = it->second;
        place.focus = place.focus || a->shortcutContext() == Qt::WidgetShortcut ||
                      a->shortcutContext() == Qt::WidgetWithChildrenShortcut;
        for (const QObject* o : a->associatedObjects()) {
            for (const QObject* w = o; w; w = w->parent()) {
                if (qobject_cast<const TablePanel*>(w)) place.table = true;
                if (const auto* page = qobject_cast<const Page*>(w)) {
                    if (!place.pages.contains(page->pageTitle())) place.pages << page->pageTitle();
                    break;
                }
            }
        }
    }
    for (const auto& key : order) {
        const Place& p = others[key];
        QString where = p.pages.isEmpty() ? ShortcutsDialog::tr("the window")
                                          : p.pages.join(QStringLiteral(", "));
        if (p.table) where += ShortcutsDialog::tr(": the table with the focus");
        else if (p.focus) where += ShortcutsDialog::tr(": the view with the focus");
        out.push_back({key.second, key.first, where});
    }
    return out;
}

ShortcutsDialog::ShortcutsDialog(QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("shortcutsDialog"));
    setWindowTitle(tr("Keyboard shortcuts"));
    table_ = new QTableWidget(0, 3);
    table_->setObjectName(QStringLiteral("shortcutsTable"));
    table_->setHorizontalHeaderLabels({tr("Keys"), tr("Action"), tr("Where")});
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->horizontalHeader()->setStretchLastSection(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(table_, 1);
    layout->addWidget(buttons);
    resize(640, 520);
}

void ShortcutsDialog::refresh(const std::vector<ShortcutEntry>& entries) {
    table_->setRowCount(static_cast<int>(entries.size()));
    for (int r = 0; r < static_cast<int>(entries.size()); ++r) {
        const ShortcutEntry& e = entries[static_cast<size_t>(r)];
        table_->setItem(r, 0, new QTableWidgetItem(e.keys));
        table_->setItem(r, 1, new QTableWidgetItem(e.action));
        table_->setItem(r, 2, new QTableWidgetItem(e.where));
    }
    table_->resizeColumnsToContents();
}

}  // namespace ss::gui

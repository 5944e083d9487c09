// The Help menu's windows. Documentation: the Markdown guides (README, docs/*.md) rendered offline
// in a browser with a contents list; links between them, to other Markdown files of the tree and to
// their images work, web links open in the system browser. Keyboard Shortcuts: a table generated
// from the shortcuts of the window's actions (menus, and the actions of pages and tables), so it
// lists what the application really defines.
#pragma once

#include <QDialog>
#include <QStringList>

#include <vector>

class QListWidget;
class QMainWindow;
class QTableWidget;
class QTextBrowser;

namespace ss::gui {

// Where the documentation is looked for, in order: $SCALESCOPE_DOCS_DIR, the docs/ folder of the
// source tree this was built from, the installed share/doc/scalescope next to the executable.
QStringList documentationCandidates();
// The first candidate that holds GUI.md; empty when none does.
QString documentationDir();
// The guides of `docsDir`, the application's guide (GUI.md) first, then the README (in the folder,
// or in the one above it: the source tree), then the other *.md files by name.
QStringList documentationFiles(const QString& docsDir);

class DocumentationDialog : public QDialog {
    Q_OBJECT
public:
    explicit DocumentationDialog(const QString& docsDir, QWidget* parent = nullptr);
    QTextBrowser* browser() const { return browser_; }
    QListWidget* contents() const { return contents_; }
    void showGuide(int row);  // the row-th guide of the contents list

private:
    QListWidget* contents_;
    QTextBrowser* browser_;
};

struct ShortcutEntry {
    QString keys;    // "Ctrl+O", several joined by ", "
    QString action;  // "Open…"
    QString where;   // "File menu", "Summary, Compare: table with focus"
};

// Every shortcut of `window`: its menu actions (menu by menu, in menu order), then the actions of
// its widgets (one row per action text and keys, naming the pages where it applies).
std::vector<ShortcutEntry> collectShortcuts(const QMainWindow* window);

class ShortcutsDialog : public QDialog {
    Q_OBJECT
public:
    explicit ShortcutsDialog(QWidget* parent = nullptr);
    void refresh(const std::vector<ShortcutEntry>& entries);
    QTableWidget* table() const { return table_; }

private:
    QTableWidget* table_;
};

}  // namespace ss::gui

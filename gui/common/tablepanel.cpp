#include "gui/common/tablepanel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

#include "gui/common/elidedlabel.h"
#include "gui/common/tablemodel.h"

namespace ss::gui {

TablePanel::TablePanel(const QString& title, QAbstractItemModel* model, QWidget* parent)
    : QWidget(parent), name_(title) {
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(model);
    proxy_->setSortRole(SortRole);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    proxy_->setFilterKeyColumn(-1);

    view_ = new QTableView(this);
    view_->setModel(proxy_);
    view_->setSortingEnabled(true);
    view_->sortByColumn(-1, Qt::AscendingOrder);  // the model's own order until a header is clicked
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setAlternatingRowColors(true);
    view_->verticalHeader()->hide();
    view_->horizontalHeader()->setStretchLastSection(true);
    view_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    view_->setContextMenuPolicy(Qt::ActionsContextMenu);

    // The title gives way in a narrow page (elided, whole in its tooltip). Bold by weight alone:
    // the size still follows the application's font (zoom).
    title_ = new ElidedLabel(title, this);
    QFont bold;
    bold.setBold(true);
    title_->setFont(bold);
    filter_ = new QLineEdit(this);
    filter_->setPlaceholderText(tr("Filter…"));
    filter_->setClearButtonEnabled(true);
    // Its own width when there is room (the title takes the rest); narrower in a narrow page.
    filter_->setMinimumWidth(filter_->fontMetrics().horizontalAdvance(QStringLiteral("Filter…")) * 2);
    filter_->setMaximumWidth(240);
    filter_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);

    auto* copy = new QAction(tr("Copy as CSV"), this);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copy, &QAction::triggered, this, &TablePanel::copyCsv);
    auto* exp = new QAction(tr("Export CSV…"), this);
    connect(exp, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(name_), name_ + QStringLiteral(".csv"),
                                                          tr("CSV files (*.csv)"));
        QString error;
        if (!path.isEmpty() && !exportCsv(path, &error))
            QMessageBox::warning(this, tr("Export %1").arg(name_), tr("Cannot write %1: %2").arg(path, error));
    });
    view_->addAction(copy);
    view_->addAction(exp);

    // One "CSV" button for both (a table's toolbar fits in a narrow page); the table's context menu
    // has them too.
    auto* csvButton = new QToolButton(this);
    csvButton->setObjectName(QStringLiteral("csvButton"));
    csvButton->setText(tr("CSV"));
    csvButton->setToolTip(tr("Copy the rows as CSV (Ctrl+C: the selected rows, or all), or export them to a file"));
    csvButton->setPopupMode(QToolButton::InstantPopup);
    auto* csvMenu = new QMenu(csvButton);
    csvMenu->addAction(copy);
    csvMenu->addAction(exp);
    csvButton->setMenu(csvMenu);

    auto* top = new QHBoxLayout;
    top->addWidget(title_, 1);
    top->addWidget(filter_);
    top->addWidget(csvButton);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(view_, 1);
}

QString TablePanel::csv(bool selectionOnly) const {
    QList<int> rows;
    if (selectionOnly && view_->selectionModel()) {
        for (const QModelIndex& i : view_->selectionModel()->selectedRows()) rows.push_back(i.row());
        std::sort(rows.begin(), rows.end());
    }
    return modelToCsv(proxy_, rows);
}

void TablePanel::setDefaultSort(int column, Qt::SortOrder order) { view_->sortByColumn(column, order); }

void TablePanel::copyCsv() { QApplication::clipboard()->setText(csv(true)); }

bool TablePanel::exportCsv(const QString& path, QString* error) const {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text) || f.write(csv(false).toUtf8()) < 0) {
        if (error) *error = f.errorString();
        return false;
    }
    return true;
}

}  // namespace ss::gui

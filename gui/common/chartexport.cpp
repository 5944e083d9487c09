#include "gui/common/chartexport.h"

#include <QAction>
#include <QFileDialog>
#include <QPainter>
#include <QPixmap>
#include <QSvgGenerator>
#include <QWidget>

namespace ss::gui {

bool saveWidgetPng(QWidget* w, const QString& path) { return w->grab().save(path, "PNG"); }

bool saveWidgetSvg(QWidget* w, const QString& path, const QString& title) {
    QSvgGenerator gen;
    gen.setFileName(path);
    gen.setSize(w->size());
    gen.setViewBox(QRect(QPoint(0, 0), w->size()));
    gen.setTitle(title);
    gen.setDescription(QStringLiteral("ScaleScope chart"));
    QPainter p;
    if (!p.begin(&gen)) return false;
    w->render(&p);
    return p.end();
}

void addExportActions(QWidget* view, const QString& baseName) {
    view->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto* png = new QAction(QObject::tr("Export PNG…"), view);
    QObject::connect(png, &QAction::triggered, view, [view, baseName] {
        const QString path = QFileDialog::getSaveFileName(view, QObject::tr("Export chart"), baseName + QStringLiteral(".png"),
                                                          QObject::tr("PNG images (*.png)"));
        if (!path.isEmpty()) saveWidgetPng(view, path);
    });
    auto* svg = new QAction(QObject::tr("Export SVG…"), view);
    QObject::connect(svg, &QAction::triggered, view, [view, baseName] {
        const QString path = QFileDialog::getSaveFileName(view, QObject::tr("Export chart"), baseName + QStringLiteral(".svg"),
                                                          QObject::tr("SVG images (*.svg)"));
        if (!path.isEmpty()) saveWidgetSvg(view, path, baseName);
    });
    view->addAction(png);
    view->addAction(svg);
}

}  // namespace ss::gui

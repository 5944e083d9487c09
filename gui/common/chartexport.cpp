#include "gui/common/chartexport.h"

#include <QAction>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QGraphicsSimpleTextItem>
#include <QGraphicsTextItem>
#include <QLegend>
#include <QMessageBox>
#include <QPainter>
#include <QSpinBox>
#include <QSvgGenerator>
#include <QWidget>

#include <vector>

namespace ss::gui {

namespace {
// Lays the chart out at `size`, paints it with `paint`, and restores its on-screen geometry.
template <typename Paint>
void withChartAt(QChartView* view, QSize size, Paint paint) {
    QChart* chart = view->chart();
    const QRectF old = chart->geometry();
    const bool hadUpdates = view->updatesEnabled();
    view->setUpdatesEnabled(false);  // the on-screen view never shows the export layout
    auto relayout = [chart] {
        if (chart->layout()) chart->layout()->activate();
        QCoreApplication::sendPostedEvents(chart, QEvent::LayoutRequest);
        QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
    };
    // A legend shown under the view as a label (charts.h withLegend) is the chart's own in the
    // file, at the bottom: the export size has room for it.
    const bool legendOutside = chart->property("ssLegendOutside").toBool();
    const Qt::Alignment oldAlign = chart->legend()->alignment();
    if (legendOutside) {
        chart->legend()->setAlignment(Qt::AlignBottom);
        chart->legend()->show();
    }
    chart->setGeometry(QRectF(old.topLeft(), QSizeF(size)));
    relayout();
    paint(chart, QRectF(old.topLeft(), QSizeF(size)));
    if (legendOutside) {
        chart->legend()->hide();
        chart->legend()->setAlignment(oldAlign);
    }
    chart->setGeometry(old);
    relayout();
    view->setUpdatesEnabled(hadUpdates);
}
}  // namespace

QStringList chartTexts(const QChart* chart) {
    QStringList out;
    for (const QGraphicsItem* it : chart->childItems()) {
        std::vector<const QGraphicsItem*> stack{it};
        while (!stack.empty()) {
            const QGraphicsItem* i = stack.back();
            stack.pop_back();
            if (!i->isVisible()) continue;
            if (const auto* t = dynamic_cast<const QGraphicsTextItem*>(i)) {
                if (!t->toPlainText().isEmpty()) out << t->toPlainText();
            } else if (const auto* st = dynamic_cast<const QGraphicsSimpleTextItem*>(i)) {
                if (!st->text().isEmpty()) out << st->text();
            }
            for (const QGraphicsItem* c : i->childItems()) stack.push_back(c);
        }
    }
    return out;
}

QImage renderChart(QChartView* view, QSize size, QStringList* texts) {
    QImage img(size, QImage::Format_ARGB32_Premultiplied);
    img.fill(view->backgroundBrush().color().isValid() ? view->backgroundBrush().color()
                                                       : QColor(Qt::white));
    withChartAt(view, size, [&](QChart* chart, const QRectF& source) {
        if (texts) *texts = chartTexts(chart);
        QPainter p(&img);
        p.setRenderHint(QPainter::Antialiasing);
        p.setRenderHint(QPainter::TextAntialiasing);
        chart->scene()->render(&p, QRectF(QPointF(0, 0), QSizeF(size)), source);
    });
    return img;
}

bool saveChartPng(QChartView* view, const QString& path, QSize size) {
    return renderChart(view, size).save(path, "PNG");
}

bool saveChartSvg(QChartView* view, const QString& path, QSize size, const QString& title) {
    QSvgGenerator gen;
    gen.setFileName(path);
    gen.setSize(size);
    gen.setViewBox(QRect(QPoint(0, 0), size));
    gen.setTitle(title);
    gen.setDescription(QStringLiteral("ScaleScope chart"));
    bool ok = false;
    withChartAt(view, size, [&](QChart* chart, const QRectF& source) {
        QPainter p;
        if (!p.begin(&gen)) return;
        chart->scene()->render(&p, QRectF(QPointF(0, 0), QSizeF(size)), source);
        ok = p.end();
    });
    return ok;
}

bool saveWidgetPng(QWidget* w, const QString& path) {
    return w->grab().save(path, "PNG");
}

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

QSize askExportSize(QWidget* parent, QSize current) {
    QDialog d(parent);
    d.setWindowTitle(QObject::tr("Export size"));
    auto* presets = new QComboBox;
    for (const QSize& s : kExportPresets)
        presets->addItem(QStringLiteral("%1 × %2").arg(s.width()).arg(s.height()), s);
    presets->addItem(
        QObject::tr("as on screen (%1 × %2)").arg(current.width()).arg(current.height()), current);
    auto* w = new QSpinBox;
    auto* h = new QSpinBox;
    for (QSpinBox* b : {w, h}) {
        b->setRange(200, 8000);
        b->setSuffix(QObject::tr(" px"));
    }
    auto apply = [presets, w, h] {
        const QSize s = presets->currentData().toSize();
        w->setValue(s.width());
        h->setValue(s.height());
    };
    QObject::connect(presets, &QComboBox::currentIndexChanged, &d, apply);
    apply();
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &d, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
    auto* form = new QFormLayout(&d);
    form->addRow(QObject::tr("Preset"), presets);
    form->addRow(QObject::tr("Width"), w);
    form->addRow(QObject::tr("Height"), h);
    form->addRow(buttons);
    if (d.exec() != QDialog::Accepted) return {};
    return QSize(w->value(), h->value());
}

void addExportActions(QChartView* view, const QString& baseName) {
    view->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto* png = new QAction(QObject::tr("Export PNG…"), view);
    QObject::connect(png, &QAction::triggered, view, [view, baseName] {
        const QSize size = askExportSize(view, view->size());
        if (!size.isValid()) return;
        const QString path = QFileDialog::getSaveFileName(view, QObject::tr("Export chart"),
                                                          baseName + QStringLiteral(".png"),
                                                          QObject::tr("PNG images (*.png)"));
        if (!path.isEmpty() && !saveChartPng(view, path, size))
            QMessageBox::warning(view, QObject::tr("Export chart"),
                                 QObject::tr("Cannot write %1.").arg(path));
    });
    auto* svg = new QAction(QObject::tr("Export SVG…"), view);
    QObject::connect(svg, &QAction::triggered, view, [view, baseName] {
        const QSize size = askExportSize(view, view->size());
        if (!size.isValid()) return;
        const QString path = QFileDialog::getSaveFileName(view, QObject::tr("Export chart"),
                                                          baseName + QStringLiteral(".svg"),
                                                          QObject::tr("SVG images (*.svg)"));
        if (!path.isEmpty() && !saveChartSvg(view, path, size, baseName))
            QMessageBox::warning(view, QObject::tr("Export chart"),
                                 QObject::tr("Cannot write %1.").arg(path));
    });
    view->addAction(png);
    view->addAction(svg);
}

void addExportActions(QWidget* view, const QString& baseName) {
    view->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto* png = new QAction(QObject::tr("Export PNG…"), view);
    QObject::connect(png, &QAction::triggered, view, [view, baseName] {
        const QString path = QFileDialog::getSaveFileName(view, QObject::tr("Export"),
                                                          baseName + QStringLiteral(".png"),
                                                          QObject::tr("PNG images (*.png)"));
        if (!path.isEmpty() && !saveWidgetPng(view, path))
            QMessageBox::warning(view, QObject::tr("Export"),
                                 QObject::tr("Cannot write %1.").arg(path));
    });
    auto* svg = new QAction(QObject::tr("Export SVG…"), view);
    QObject::connect(svg, &QAction::triggered, view, [view, baseName] {
        const QString path = QFileDialog::getSaveFileName(view, QObject::tr("Export"),
                                                          baseName + QStringLiteral(".svg"),
                                                          QObject::tr("SVG images (*.svg)"));
        if (!path.isEmpty() && !saveWidgetSvg(view, path, baseName))
            QMessageBox::warning(view, QObject::tr("Export"),
                                 QObject::tr("Cannot write %1.").arg(path));
    });
    view->addAction(png);
    view->addAction(svg);
}

}  // namespace ss::gui

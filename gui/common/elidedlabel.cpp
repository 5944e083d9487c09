#include "gui/common/elidedlabel.h"

#include <QPainter>
#include <QStyle>

#include <algorithm>

namespace ss::gui {

ElidedLabel::ElidedLabel(const QString& text, QWidget* parent) : QLabel(parent) {
    setTextFormat(Qt::PlainText);
    setFullText(text);
}

void ElidedLabel::setFullText(const QString& text) {
    setText(text);
    setToolTip(text);
}

QSize ElidedLabel::minimumSizeHint() const {
    // Room for a few characters and the ellipsis.
    const int w =
        std::min(QLabel::minimumSizeHint().width(), fontMetrics().horizontalAdvance(QStringLiteral("Mmmm…")));
    return {w + 2 * margin(), QLabel::minimumSizeHint().height()};
}

void ElidedLabel::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QRect r = contentsRect().adjusted(margin(), margin(), -margin(), -margin());
    const QString shown = fontMetrics().elidedText(text(), Qt::ElideRight, r.width());
    style()->drawItemText(&p, r, QStyle::visualAlignment(layoutDirection(), alignment()), palette(), isEnabled(), shown,
                          foregroundRole());
}

}  // namespace ss::gui

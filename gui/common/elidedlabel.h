// A one-line label that paints its plain text elided to the width it gets, the whole text staying
// in text() and the tooltip: a long title or headline never makes a window or a page wider.
#pragma once

#include <QLabel>

namespace ss::gui {

class ElidedLabel : public QLabel {
    Q_OBJECT
public:
    explicit ElidedLabel(const QString& text = {}, QWidget* parent = nullptr);
    // Sets the text and the tooltip (where the elided part can be read).
    void setFullText(const QString& text);
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent*) override;
};

}  // namespace ss::gui

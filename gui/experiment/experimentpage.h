#pragma once

#include "gui/app/page.h"

namespace ss::gui {

class ExperimentPage : public Page {
    Q_OBJECT
public:
    explicit ExperimentPage(QWidget* parent = nullptr);
    QString pageId() const override { return QStringLiteral("experiment"); }
    QString pageTitle() const override { return tr("Experiment"); }
    void setSelection(const Selection&) override {}
};

}  // namespace ss::gui

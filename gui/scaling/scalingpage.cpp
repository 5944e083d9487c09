#include "gui/scaling/scalingpage.h"

namespace ss::gui {
ScalingPage::ScalingPage(QWidget* parent) : Page(parent) {}
}  // namespace ss::gui

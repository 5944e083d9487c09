#include "gui/compare/comparepage.h"

namespace ss::gui {
ComparePage::ComparePage(QWidget* parent) : Page(parent) {}
}  // namespace ss::gui

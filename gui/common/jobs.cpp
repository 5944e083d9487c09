#include "gui/common/jobs.h"

#include <algorithm>

namespace ss::gui {

QThreadPool* jobPool(JobPool which) {
    static QThreadPool* analysis = [] {
        auto* p = new QThreadPool(qApp);
        p->setMaxThreadCount(std::max(2, QThread::idealThreadCount()));
        return p;
    }();
    static QThreadPool* interactive = [] {
        auto* p = new QThreadPool(qApp);
        p->setMaxThreadCount(1);  // one draw list at a time; the page keeps only the newest view
        return p;
    }();
    return which == JobPool::Interactive ? interactive : analysis;
}

}  // namespace ss::gui

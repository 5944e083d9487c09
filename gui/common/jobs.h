// Cancellable background jobs (STYLE.md "Long work and the GUI thread"). A job runs on the
// application's thread pool with a cancel token; its result comes back to the GUI thread through a
// queued call that is dropped when the receiver (a page, the window) is already gone.
//
//   auto token = startJob<RunAnalysis>(this,
//       [path](const CancelToken& c) { ...; c.check(); ...; return analysis; },
//       [this](RunAnalysis a) { model_->setRows(...); },
//       [this](const QString& error) { showError(error); });
//   token.cancel();  // the work may notice (check()) and the result is never delivered
#pragma once

#include <QCoreApplication>
#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

namespace ss::gui {

// Thrown by CancelToken::check() inside a job; the job then ends without delivering anything.
struct JobCancelled {};

class CancelToken {
public:
    CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
    void cancel() const { flag_->store(true); }
    bool cancelled() const { return flag_->load(); }
    void check() const {
        if (cancelled()) throw JobCancelled{};
    }
    // For core APIs that take a std::atomic<bool>* (the launcher).
    std::atomic<bool>* flag() const { return flag_.get(); }

private:
    std::shared_ptr<std::atomic<bool>> flag_;
};

// Where a job runs. Analyses (minutes on a huge run, not interruptible inside SQLite) go to the
// Analysis pool; the timeline's draw lists to a pool of their own, so a view never waits for them.
enum class JobPool { Analysis, Interactive };
QThreadPool* jobPool(JobPool which = JobPool::Analysis);

// Runs `work(token)` on the pool, then `onDone(result)` or `onError(message)` on the GUI thread,
// unless the token was cancelled or `receiver` was destroyed in the meantime.
template <typename R>
CancelToken startJob(QObject* receiver, std::function<R(const CancelToken&)> work,
                     std::function<void(R)> onDone,
                     std::function<void(const QString&)> onError = {}, JobPool pool = JobPool::Analysis) {
    CancelToken token;
    QPointer<QObject> guard(receiver);
    jobPool(pool)->start([token, guard, work = std::move(work), onDone = std::move(onDone),
                      onError = std::move(onError)]() mutable {
        std::optional<R> result;
        QString error;
        try {
            result.emplace(work(token));
        } catch (const JobCancelled&) {
            return;
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        } catch (...) {
            error = QStringLiteral("unknown error");
        }
        // qApp lives on the GUI thread: the lambda runs there, where `guard` can be tested safely.
        QMetaObject::invokeMethod(
            qApp,
            [token, guard, result = std::move(result), error, onDone = std::move(onDone),
             onError = std::move(onError)]() mutable {
                if (!guard || token.cancelled()) return;
                if (result) {
                    onDone(std::move(*result));
                } else if (onError) {
                    onError(error);
                }
            },
            Qt::QueuedConnection);
    });
    return token;
}

}  // namespace ss::gui

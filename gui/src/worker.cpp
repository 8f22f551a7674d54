#include "herd/gui/worker.hpp"

#include <chrono>

#include <QEventLoop>
#include <QMetaObject>

#include "herd/model/error.hpp"

namespace herd::gui {

Worker::Worker(QObject* parent) : QObject(parent) {}

Worker::~Worker() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

bool Worker::start(const QString& what, Task task) {
  if (busy_) return false;
  if (thread_.joinable()) thread_.join();  // the previous task has handed over already
  busy_ = true;
  Q_EMIT started(what);
  thread_ = std::jthread([this, what, task = std::move(task)](std::stop_token stop) {
    using clock = std::chrono::steady_clock;
    auto last = clock::now() - std::chrono::seconds(1);
    sim::Control control;
    control.stop = stop;
    control.progress = [this, &last](std::string_view step, int done, int total) {
      // At most ~20 updates a second cross to the GUI thread.
      const auto now = clock::now();
      if (now - last < std::chrono::milliseconds(50) && done < total) return;
      last = now;
      QMetaObject::invokeMethod(this, [this, s = QString::fromUtf8(step.data(), static_cast<int>(step.size())), done, total] {
        Q_EMIT progress(s, done, total);
      }, Qt::QueuedConnection);
    };
    std::function<void()> deliver;
    QString error;
    bool ok = false;
    try {
      deliver = task(control);
      ok = true;
    } catch (const sim::Cancelled&) {
    } catch (const model::InputError& e) {
      error = QString("herd: ") + e.what();
    } catch (const std::exception& e) {
      error = QString("herd: ") + e.what();
    }
    if (ok && stop.stop_requested()) ok = false;  // stopped after its last check: drop the result too
    QMetaObject::invokeMethod(this, [this, ok, error, deliver = std::move(deliver)] {
      if (ok && deliver) deliver();
      busy_ = false;
      Q_EMIT finished(ok, error);
    }, Qt::QueuedConnection);
  });
  return true;
}

void Worker::cancel() {
  if (busy_) thread_.request_stop();
}

void Worker::wait() {
  if (!busy_) return;
  QEventLoop loop;  // `finished` is emitted from this thread's event loop, so it cannot be missed
  connect(this, &Worker::finished, &loop, &QEventLoop::quit);
  loop.exec();
}

}  // namespace herd::gui

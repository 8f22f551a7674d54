#pragma once
// Runs one long use case at a time on a thread of its own, with progress and stop: the window
// never waits for a simulation. A task returns what to do with its result, and that runs on the
// GUI thread only when the task finished; a task that was stopped or failed hands nothing over, so
// the results already shown stay as they were.
#include <atomic>
#include <functional>
#include <stop_token>
#include <thread>

#include <QObject>
#include <QString>

#include "herd/sim/control.hpp"

namespace herd::gui {

class Worker : public QObject {
  Q_OBJECT
 public:
  /// Work on the worker thread; the function it returns runs on the GUI thread.
  using Task = std::function<std::function<void()>(const sim::Control&)>;

  explicit Worker(QObject* parent = nullptr);
  ~Worker() override;  ///< stops the task and waits for it

  /// Starts `task` unless one is running (then returns false).
  bool start(const QString& what, Task task);
  void cancel();
  bool busy() const { return busy_; }
  /// Blocks, processing events, until the current task has finished (screenshots, tests).
  void wait();

 Q_SIGNALS:
  void started(const QString& what);
  void progress(const QString& what, int done, int total);
  /// `ok` false: stopped (`message` empty) or failed (`message` says why, as the CLI would).
  void finished(bool ok, const QString& message);

 private:
  std::jthread thread_;
  std::atomic<bool> busy_ = false;
};

}  // namespace herd::gui

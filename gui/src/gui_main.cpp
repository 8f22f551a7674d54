// herd-gui's main: the window, or one view rendered into a file without a display.
#include <cstdio>
#include <cstdlib>

#include <QApplication>

#include "herd/gui/command_line.hpp"
#include "herd/gui/export.hpp"
#include "herd/gui/main_window.hpp"
#include "herd/gui/plan_panel.hpp"
#include "herd/gui/step_timeline_view.hpp"
#include "herd/gui/worker.hpp"

namespace herd::gui {

namespace {

int screenshot(MainWindow& window, const CommandLine& options) {
  const bool whole = options.screenshot_view == "window";
  const auto view = whole ? MainWindow::View::timeline : MainWindow::view_named(QString::fromStdString(options.screenshot_view));
  window.show_view(*view);
  window.show();
  QApplication::processEvents();
  if (const QString error = window.run(*view); !error.isEmpty()) {
    std::fprintf(stderr, "%s\n", error.toLocal8Bit().constData());
    return 2;
  }
  // A saved result is shown at once; anything else runs on the worker.
  bool ok = !window.worker().busy();
  QString message;
  QObject::connect(&window.worker(), &Worker::finished, &window, [&](bool done, const QString& m) {
    ok = done;
    message = m;
  });
  window.worker().wait();
  if (!ok) {
    std::fprintf(stderr, "%s\n", message.isEmpty() ? "herd-gui: stopped" : message.toLocal8Bit().constData());
    return 1;
  }
  if (options.range) window.timeline_view().show_range(options.range->first, options.range->second);
  QApplication::processEvents();
  const QString error = export_view(whole ? static_cast<QWidget&>(window) : *window.page(*view),
                                    QString::fromStdString(options.screenshot_file));
  if (!error.isEmpty()) {
    std::fprintf(stderr, "%s\n", error.toLocal8Bit().constData());
    return 1;
  }
  return 0;
}

}  // namespace

int gui_main(int argc, char** argv) {
  CommandLine options;
  try {
    options = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "herd-gui: %s\n%s", e.what(), usage().c_str());
    return 2;
  }
  if (options.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::fputs("herd-gui 0.1.0\n", stdout);
    return 0;
  }
  // A screenshot needs no display.
  if (!options.screenshot_view.empty() && !std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QApplication app(argc, argv);
  QApplication::setApplicationName("herd-gui");
  MainWindow window(options);
  if (!window.plan_panel().error().isEmpty()) {
    // The scenario itself is bad input: say so as `herd` would.
    std::fprintf(stderr, "%s\n", window.plan_panel().error().toLocal8Bit().constData());
    if (!options.screenshot_view.empty()) return 2;
  }
  if (!options.screenshot_view.empty()) return screenshot(window, options);
  window.show();
  window.run_current();
  return app.exec();
}

}  // namespace herd::gui

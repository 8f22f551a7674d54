#pragma once
// One QApplication for every GUI test, on the offscreen platform (no display needed).
#include <cstdlib>

#include <QApplication>
#include <QImage>
#include <QWidget>

namespace herd::gui::test {

inline QApplication& qt_app() {
  static QApplication* app = [] {
    if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
    static int argc = 1;
    static char name[] = "herd_gui_tests";
    static char* argv[] = {name, nullptr};
    return new QApplication(argc, argv);  // lives until the process ends
  }();
  return *app;
}

/// Pixels of `image` that differ from its most common colour (the background).
inline int drawn_pixels(const QImage& image) {
  QHash<QRgb, int> count;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) ++count[image.pixel(x, y)];
  int most = 0;
  for (auto it = count.begin(); it != count.end(); ++it) most = std::max(most, it.value());
  return image.width() * image.height() - most;
}

/// Distinct colours in `image`.
inline int colours(const QImage& image) {
  QSet<QRgb> seen;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) seen.insert(image.pixel(x, y));
  return static_cast<int>(seen.size());
}

}  // namespace herd::gui::test

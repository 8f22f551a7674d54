#include "herd/gui/palette.hpp"

namespace herd::gui {

namespace {
constexpr QRgb kTableau[] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f,
                             0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac};
}

QColor colour_of(OpStyle style) {
  switch (style) {
    case OpStyle::gemm: return QColor(0x4e79a7);
    case OpStyle::attention: return QColor(0xb07aa1);
    case OpStyle::elementwise: return QColor(0x76b7b2);
    case OpStyle::embedding: return QColor(0x9c755f);
    case OpStyle::optimizer: return QColor(0xedc948);
    case OpStyle::tp: return QColor(0xf28e2b);
    case OpStyle::cp: return QColor(0xff9da7);
    case OpStyle::pp: return QColor(0x59a14f);
    case OpStyle::dp: return QColor(0xe15759);
    case OpStyle::idle: return QColor(0xbab0ac);
  }
  return QColor(0xbab0ac);
}

QColor colour_of(sim::run::SpanKind kind) {
  using K = sim::run::SpanKind;
  switch (kind) {
    case K::train: return QColor(0x59a14f);
    case K::checkpoint: return QColor(0x4e79a7);
    case K::detection: return QColor(0xedc948);
    case K::spare_wait: return QColor(0xff9da7);
    case K::restart: return QColor(0xe15759);
    case K::checkpoint_load: return QColor(0xb07aa1);
    case K::planned: return QColor(0x9c755f);
  }
  return QColor(0xbab0ac);
}

QColor category_colour(int i) { return QColor(kTableau[static_cast<unsigned>(i) % 10]); }

QColor power_colour() { return QColor(0x34495e); }
QColor power_peak_colour() { return QColor(0xd35400); }
QColor power_min_colour() { return QColor(0x2471a3); }

QColor critical_path_colour() { return QColor(0xc2, 0x00, 0x8c); }

}  // namespace herd::gui

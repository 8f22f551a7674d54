#pragma once
// Any view to a PNG or an SVG file (by the file's extension), written atomically.
#include <QString>

class QWidget;

namespace herd::gui {

/// Renders `view` at its current size into `file` (.svg: vector, when built with Qt Svg; else a
/// PNG image). Returns the error message, "" on success.
QString export_view(QWidget& view, const QString& file);
/// Whether SVG export is available in this build.
bool svg_export_available();

}  // namespace herd::gui

#include "herd/gui/export.hpp"

#include <QBuffer>
#include <QImage>
#include <QPainter>
#include <QSaveFile>
#include <QWidget>
#ifdef HERD_GUI_SVG
#include <QSvgGenerator>
#endif

namespace herd::gui {

bool svg_export_available() {
#ifdef HERD_GUI_SVG
  return true;
#else
  return false;
#endif
}

QString export_view(QWidget& view, const QString& file) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  if (file.endsWith(".svg", Qt::CaseInsensitive)) {
#ifdef HERD_GUI_SVG
    QSvgGenerator svg;
    svg.setOutputDevice(&buffer);
    svg.setSize(view.size());
    svg.setViewBox(QRect(QPoint(0, 0), view.size()));
    svg.setTitle(view.windowTitle());
    QPainter painter(&svg);
    view.render(&painter);
    painter.end();
#else
    return QString("herd-gui: %1: this build has no SVG export (Qt Svg was not found); write a .png").arg(file);
#endif
  } else {
    QImage image(view.size() * view.devicePixelRatioF(), QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(view.devicePixelRatioF());
    image.fill(Qt::white);
    QPainter painter(&image);
    view.render(&painter);
    painter.end();
    if (!image.save(&buffer, "PNG")) return QString("herd-gui: %1: the image could not be encoded").arg(file);
  }
  QSaveFile out(file);  // temporary file + rename
  if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit())
    return QString("herd-gui: %1: %2").arg(file, out.errorString());
  return {};
}

}  // namespace herd::gui

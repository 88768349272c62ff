#pragma once
// A small plot writer shared by the CLI commands (`se`, `spectral`, `compare`, `simulate`):
// lines, points with error bars, vertical threshold markers, axis labels and a legend.
//
// FILE.svg is written directly (no dependency: the SVG text is generated here); FILE.png goes
// through gnuplot (pngcairo, Debian package gnuplot-nox) when it is installed. docs/plots.md
// explains the choice. Non-finite points are skipped (a line is broken there).
#include <optional>
#include <string>
#include <vector>

namespace deltacrit::cli::plot {

struct Series {
  enum class Style { line, points };
  std::string label;           // legend entry ("" = not in the legend)
  std::vector<double> x, y;
  std::vector<double> err;     // optional ± error bars (empty, or same size as y)
  Style style = Style::line;
};

struct Marker {                // vertical dashed line at x with a label
  double x = 0.0;
  std::string label;
};

struct Figure {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  std::vector<Series> series;
  std::vector<Marker> markers;
  std::optional<double> xmin, xmax, ymin, ymax;  // automatic (data range, padded) when empty
  int width = 760;   // pixels
  int height = 480;
};

// The SVG document for the figure.
std::string to_svg(const Figure& figure);

// Writes `path`: .svg directly, .png through gnuplot. Throws InputError naming "--plot" for another
// extension, an unwritable file, or a .png without gnuplot on PATH.
void write(const Figure& figure, const std::string& path);

}  // namespace deltacrit::cli::plot

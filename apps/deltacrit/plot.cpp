#include "plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "deltacrit/core/status.hpp"

namespace deltacrit::cli::plot {

namespace {

// Colour-blind-safe palette (Okabe & Ito).
const char* const kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
constexpr int kNumColours = 7;

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt(double v) {
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}

std::string px(double v) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << v;
  return o.str();
}

// "Nice" tick step (1, 2, 5 × 10^k) giving about `target` ticks on [lo, hi].
double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double nice = f < 1.5 ? 1 : (f < 3 ? 2 : (f < 7 ? 5 : 10));
  return nice * mag;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  void finish(std::optional<double> fixed_lo, std::optional<double> fixed_hi) {
    if (!(lo <= hi)) {
      lo = 0;
      hi = 1;
    }
    if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
      lo -= 0.5;
      hi += 0.5;
    } else {
      const double pad = 0.04 * (hi - lo);
      lo -= pad;
      hi += pad;
    }
    if (fixed_lo) lo = *fixed_lo;
    if (fixed_hi) hi = *fixed_hi;
  }
};

}  // namespace

std::string to_svg(const Figure& fig) {
  Range xr, yr;
  for (const auto& s : fig.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xr.add(s.x[i]);
      const double e = i < s.err.size() && std::isfinite(s.err[i]) ? s.err[i] : 0.0;
      yr.add(s.y[i] - e);
      yr.add(s.y[i] + e);
    }
  }
  for (const auto& m : fig.markers) xr.add(m.x);
  xr.finish(fig.xmin, fig.xmax);
  yr.finish(fig.ymin, fig.ymax);

  const double W = fig.width, H = fig.height;
  const double left = 72, right = 24, top = fig.title.empty() ? 20 : 44, bottom = 58;
  const double pw = W - left - right, ph = H - top - bottom;
  auto X = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto Y = [&](double y) { return top + (yr.hi - y) / (yr.hi - yr.lo) * ph; };
  auto inside_x = [&](double x) { return x >= xr.lo - 1e-12 && x <= xr.hi + 1e-12; };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << fig.width << "\" height=\"" << fig.height
    << "\" viewBox=\"0 0 " << fig.width << ' ' << fig.height << "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!fig.title.empty()) {
    o << "<text x=\"" << px(left + pw / 2) << "\" y=\"26\" font-size=\"16\" text-anchor=\"middle\">" << escape(fig.title)
      << "</text>\n";
  }
  o << "<defs><clipPath id=\"plotarea\"><rect x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(pw)
    << "\" height=\"" << px(ph) << "\"/></clipPath></defs>\n";
  // Grid and ticks.
  const double xs = nice_step(xr.lo, xr.hi, 8), ys = nice_step(yr.lo, yr.hi, 6);
  o << "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (double t = std::ceil(xr.lo / xs) * xs; t <= xr.hi + 1e-9 * xs; t += xs) {
    o << "<line x1=\"" << px(X(t)) << "\" y1=\"" << px(top) << "\" x2=\"" << px(X(t)) << "\" y2=\"" << px(top + ph) << "\"/>\n";
  }
  for (double t = std::ceil(yr.lo / ys) * ys; t <= yr.hi + 1e-9 * ys; t += ys) {
    o << "<line x1=\"" << px(left) << "\" y1=\"" << px(Y(t)) << "\" x2=\"" << px(left + pw) << "\" y2=\"" << px(Y(t)) << "\"/>\n";
  }
  o << "</g>\n<g font-size=\"12\" fill=\"#333\">\n";
  for (double t = std::ceil(xr.lo / xs) * xs; t <= xr.hi + 1e-9 * xs; t += xs) {
    const double v = std::fabs(t) < 1e-12 * xs ? 0.0 : t;
    o << "<text x=\"" << px(X(t)) << "\" y=\"" << px(top + ph + 18) << "\" text-anchor=\"middle\">" << fmt(v) << "</text>\n";
  }
  for (double t = std::ceil(yr.lo / ys) * ys; t <= yr.hi + 1e-9 * ys; t += ys) {
    const double v = std::fabs(t) < 1e-12 * ys ? 0.0 : t;
    o << "<text x=\"" << px(left - 8) << "\" y=\"" << px(Y(t) + 4) << "\" text-anchor=\"end\">" << fmt(v) << "</text>\n";
  }
  o << "</g>\n";
  o << "<rect x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(pw) << "\" height=\"" << px(ph)
    << "\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>\n";
  o << "<text x=\"" << px(left + pw / 2) << "\" y=\"" << px(H - 14) << "\" font-size=\"14\" text-anchor=\"middle\">"
    << escape(fig.xlabel) << "</text>\n";
  o << "<text transform=\"translate(18," << px(top + ph / 2) << ") rotate(-90)\" font-size=\"14\" text-anchor=\"middle\">"
    << escape(fig.ylabel) << "</text>\n";

  // Vertical markers (thresholds), labelled along the line.
  o << "<g clip-path=\"url(#plotarea)\">\n";
  for (std::size_t m = 0; m < fig.markers.size(); ++m) {
    const auto& mk = fig.markers[m];
    if (!std::isfinite(mk.x) || !inside_x(mk.x)) continue;
    const double x = X(mk.x);
    o << "<line x1=\"" << px(x) << "\" y1=\"" << px(top) << "\" x2=\"" << px(x) << "\" y2=\"" << px(top + ph)
      << "\" stroke=\"#555\" stroke-width=\"1.2\" stroke-dasharray=\"6,4\"/>\n";
    o << "<text transform=\"translate(" << px(x - 5) << "," << px(top + 8) << ") rotate(-90)\" font-size=\"12\" "
      << "text-anchor=\"end\" fill=\"#333\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">"
      << escape(mk.label) << "</text>\n";
  }
  // Series.
  for (std::size_t s = 0; s < fig.series.size(); ++s) {
    const auto& se = fig.series[s];
    const char* colour = kColours[s % kNumColours];
    const std::size_t n = std::min(se.x.size(), se.y.size());
    if (se.style == Series::Style::line) {
      std::ostringstream path;
      bool pen = false;
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) {
          pen = false;
          continue;
        }
        path << (pen ? " L" : " M") << px(X(se.x[i])) << ' ' << px(Y(se.y[i]));
        pen = true;
      }
      o << "<path d=\"" << path.str() << "\" fill=\"none\" stroke=\"" << colour
        << "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n";
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) continue;
        const double cx = X(se.x[i]), cy = Y(se.y[i]);
        if (i < se.err.size() && std::isfinite(se.err[i]) && se.err[i] > 0) {
          const double y0 = Y(se.y[i] - se.err[i]), y1 = Y(se.y[i] + se.err[i]);
          o << "<path d=\"M" << px(cx) << ' ' << px(y0) << " L" << px(cx) << ' ' << px(y1) << " M" << px(cx - 4) << ' '
            << px(y0) << " L" << px(cx + 4) << ' ' << px(y0) << " M" << px(cx - 4) << ' ' << px(y1) << " L" << px(cx + 4)
            << ' ' << px(y1) << "\" stroke=\"" << colour << "\" stroke-width=\"1.3\" fill=\"none\"/>\n";
        }
        o << "<circle cx=\"" << px(cx) << "\" cy=\"" << px(cy) << "\" r=\"3.5\" fill=\"" << colour << "\"/>\n";
      }
    }
  }
  o << "</g>\n";
  // Legend (top left, inside the plot area).
  std::vector<std::size_t> legend;
  for (std::size_t s = 0; s < fig.series.size(); ++s) {
    if (!fig.series[s].label.empty()) legend.push_back(s);
  }
  if (!legend.empty()) {
    std::size_t longest = 0;
    for (auto s : legend) longest = std::max(longest, fig.series[s].label.size());
    const double lw = 40 + 7.0 * static_cast<double>(longest), lh = 8 + 18.0 * static_cast<double>(legend.size());
    // Corner with the least data, marker lines and marker labels under the box.
    double lx = left + 10, ly = top + 10, best = std::numeric_limits<double>::infinity();
    for (int corner = 0; corner < 4; ++corner) {
      const double cx = corner % 2 == 0 ? left + 10 : left + pw - 10 - lw;
      const double cy = corner < 2 ? top + 10 : top + ph - 10 - lh;
      double score = corner * 1e-3;  // prefer top left, then top right, on ties
      for (const auto& se : fig.series) {
        for (std::size_t i = 0; i < se.x.size() && i < se.y.size(); ++i) {
          if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) continue;
          const double x = X(se.x[i]), y = Y(se.y[i]);
          if (x >= cx - 6 && x <= cx + lw + 6 && y >= cy - 6 && y <= cy + lh + 6) score += 1;
        }
      }
      for (const auto& mk : fig.markers) {
        if (!std::isfinite(mk.x) || !inside_x(mk.x)) continue;
        const double x = X(mk.x);
        if (x >= cx - 16 && x <= cx + lw + 4) score += corner < 2 ? 50 : 5;
      }
      if (score < best) {
        best = score;
        lx = cx;
        ly = cy;
      }
    }
    o << "<rect x=\"" << px(lx) << "\" y=\"" << px(ly) << "\" width=\"" << px(lw) << "\" height=\"" << px(lh)
      << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n";
    for (std::size_t i = 0; i < legend.size(); ++i) {
      const auto& se = fig.series[legend[i]];
      const char* colour = kColours[legend[i] % kNumColours];
      const double yy = ly + 16 + 18.0 * static_cast<double>(i);
      if (se.style == Series::Style::line) {
        o << "<line x1=\"" << px(lx + 6) << "\" y1=\"" << px(yy - 4) << "\" x2=\"" << px(lx + 28) << "\" y2=\"" << px(yy - 4)
          << "\" stroke=\"" << colour << "\" stroke-width=\"2\"/>\n";
      } else {
        o << "<circle cx=\"" << px(lx + 17) << "\" cy=\"" << px(yy - 4) << "\" r=\"3.5\" fill=\"" << colour << "\"/>\n";
      }
      o << "<text x=\"" << px(lx + 34) << "\" y=\"" << px(yy) << "\" font-size=\"12\">" << escape(se.label) << "</text>\n";
    }
  }
  o << "</svg>\n";
  return o.str();
}

namespace {

std::string gnuplot_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '_' || c == '^' || c == '{' || c == '}' || c == '@' || c == '&' || c == '~') out += "\\\\";
    out += c;
  }
  return out + "\"";
}

// Legend corner for gnuplot (0 top left, 1 top right, 2 bottom left, 3 bottom right): the one
// with the fewest data points and marker lines under a box of ~35 % × 10 % of the plot.
int legend_corner(const Figure& fig) {
  Range xr, yr;
  for (const auto& s : fig.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xr.add(s.x[i]);
      yr.add(s.y[i]);
    }
  }
  for (const auto& m : fig.markers) xr.add(m.x);
  xr.finish(fig.xmin, fig.xmax);
  yr.finish(fig.ymin, fig.ymax);
  const double bw = 0.38, bh = 0.06 + 0.05 * static_cast<double>(fig.series.size());
  int best_corner = 0;
  double best = std::numeric_limits<double>::infinity();
  for (int corner = 0; corner < 4; ++corner) {
    const double x0 = corner % 2 == 0 ? 0.0 : 1.0 - bw, y0 = corner < 2 ? 1.0 - bh : 0.0;
    double score = corner * 1e-3;
    for (const auto& s : fig.series) {
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        const double u = (s.x[i] - xr.lo) / (xr.hi - xr.lo), v = (s.y[i] - yr.lo) / (yr.hi - yr.lo);
        if (u >= x0 && u <= x0 + bw && v >= y0 && v <= y0 + bh) score += 1;
      }
    }
    for (const auto& m : fig.markers) {
      const double u = (m.x - xr.lo) / (xr.hi - xr.lo);
      if (u >= x0 - 0.03 && u <= x0 + bw) score += corner < 2 ? 50 : 5;
    }
    if (score < best) {
      best = score;
      best_corner = corner;
    }
  }
  return best_corner;
}

void write_png(const Figure& fig, const std::string& path) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    throw InputError("--plot", "--plot: writing '" + path + "' needs gnuplot (Debian package gnuplot-nox), which is not "
                               "installed; install it or give a .svg file");
  }
  std::ostringstream g;
  g.precision(17);
  g << "set terminal pngcairo size " << fig.width << "," << fig.height << " enhanced font 'DejaVu Sans,10'\n";
  g << "set output " << gnuplot_quote(path) << "\n";
  static const char* const corners[] = {"top left", "top right", "bottom left", "bottom right"};
  g << "set grid lc rgb '#e0e0e0'\nset key " << corners[legend_corner(fig)] << " box opaque\n";
  if (!fig.title.empty()) g << "set title " << gnuplot_quote(fig.title) << "\n";
  g << "set xlabel " << gnuplot_quote(fig.xlabel) << "\nset ylabel " << gnuplot_quote(fig.ylabel) << "\n";
  auto range = [&](const char* axis, const std::optional<double>& lo, const std::optional<double>& hi) {
    g << "set " << axis << "range [" << (lo ? std::to_string(*lo) : std::string("*")) << ":"
      << (hi ? std::to_string(*hi) : std::string("*")) << "]\n";
  };
  range("x", fig.xmin, fig.xmax);
  range("y", fig.ymin, fig.ymax);
  int arrow = 1;
  for (const auto& m : fig.markers) {
    if (!std::isfinite(m.x)) continue;
    g << "set arrow " << arrow++ << " from " << m.x << ", graph 0 to " << m.x
      << ", graph 1 nohead dashtype 2 lc rgb '#555555'\n";
    g << "set label " << gnuplot_quote(m.label) << " at " << m.x << ", graph 0.98 rotate by 90 right offset -0.8,0\n";
  }
  for (std::size_t s = 0; s < fig.series.size(); ++s) {
    g << "$d" << s << " << EOD\n";
    const auto& se = fig.series[s];
    for (std::size_t i = 0; i < se.x.size() && i < se.y.size(); ++i) {
      if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) {
        g << "\n";
        continue;
      }
      g << se.x[i] << ' ' << se.y[i];
      if (!se.err.empty()) g << ' ' << (i < se.err.size() && std::isfinite(se.err[i]) ? se.err[i] : 0.0);
      g << "\n";
    }
    g << "EOD\n";
  }
  g << "plot ";
  for (std::size_t s = 0; s < fig.series.size(); ++s) {
    const auto& se = fig.series[s];
    const char* colour = kColours[s % kNumColours];
    if (s) g << ", ";
    g << "$d" << s;
    if (se.style == Series::Style::line) g << " using 1:2 with lines lw 2";
    else if (!se.err.empty()) g << " using 1:2:3 with yerrorbars pt 7 ps 0.8";
    else g << " using 1:2 with points pt 7 ps 0.8";
    g << " lc rgb '" << colour << "' title " << (se.label.empty() ? std::string("''") : gnuplot_quote(se.label));
  }
  g << "\n";
  FILE* pipe = popen("gnuplot 2>&1", "w");
  if (!pipe) throw InputError("--plot", "--plot: cannot start gnuplot");
  const std::string script = g.str();
  std::fwrite(script.data(), 1, script.size(), pipe);
  const int rc = pclose(pipe);
  if (rc != 0) throw InputError("--plot", "--plot: gnuplot failed to write '" + path + "' (exit status " + std::to_string(rc) + ")");
}

}  // namespace

void write(const Figure& figure, const std::string& path) {
  auto ends_with = [&](const std::string& suffix) {
    return path.size() >= suffix.size() && std::equal(suffix.rbegin(), suffix.rend(), path.rbegin(),
                                                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  };
  if (ends_with(".svg")) {
    std::ofstream out(path);
    if (!out) throw InputError("--plot", "--plot: cannot open '" + path + "' for writing");
    out << to_svg(figure);
    if (!out) throw InputError("--plot", "--plot: writing '" + path + "' failed");
    return;
  }
  if (ends_with(".png")) {
    write_png(figure, path);
    return;
  }
  throw InputError("--plot", "--plot: '" + path + "' must end in .svg (written directly) or .png (through gnuplot)");
}

}  // namespace deltacrit::cli::plot

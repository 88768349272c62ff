#pragma once
// Structure of a scalar function of one variable on a finite interval, for integrating over its
// level sets: plateaus (intervals where f is constant — atoms of the law of f(Z)), strictly monotone
// pieces, and on each piece the preimage of a value y with |f'| there.
//
// Why: conditional expectations given y = g(z) are sums over preimages, E[φ(z) | y] =
// Σ_r φ(z_r) w_r / Σ_r w_r with w_r = p(z_r)/|g'(z_r)| (pitfall 2), and they jump where the number of
// preimages changes, i.e. at the critical values of g (pitfall 3). Plateaus are atoms of y
// (pitfall 5). The same analysis serves k = 1 links (the real line) and rays z = r·u of k ≥ 2 links.
//
// Resolution: f is sampled on `grid` equal cells; monotone pieces narrower than a cell, or plateaus
// narrower than two cells, can be missed. Critical points are refined by Brent minimisation and
// plateau ends by bisection to ~1e-14 relative. Jumps inside a monotone run are allowed: a bracket
// that closes on a jump instead of a root is recognised (|f(r) − y| not small) and discarded.
#include <functional>
#include <vector>

namespace deltacrit::gauss {

struct FibreOptions {
  int grid = 1024;  // number of sampling cells on [a, b]; ≥ 16
};

class Fibre1D {
 public:
  struct Piece {      // f strictly monotone on (lo, hi)
    double lo, hi;
    double f_lo, f_hi;  // limits of f at the ends from inside the piece
  };
  struct Plateau {    // f ≡ value on [lo, hi]
    double lo, hi;
    double value;
  };
  struct Preimage {
    double r;          // f(r) = y
    double abs_slope;  // |f'(r)| (5-point central difference)
  };

  // Analyses f on [a, b] (a < b finite). f must be deterministic and finite on [a, b] except on a
  // set of measure zero.
  Fibre1D(std::function<double(double)> f, double a, double b, const FibreOptions& options = {});

  double a() const { return a_; }
  double b() const { return b_; }
  const std::vector<Piece>& pieces() const { return pieces_; }
  const std::vector<Plateau>& plateaus() const { return plateaus_; }

  // All r in monotone pieces with f(r) = y (points inside plateaus are not preimages of the
  // continuous part). Appends to `out` (not cleared). Skips preimages where |f'| is zero or not
  // finite (a set of measure zero of y).
  void preimages(double y, std::vector<Preimage>& out) const;

  // Points where the number or the nature of preimages can change: ends of pieces and plateaus,
  // sorted and unique (interior critical points, jumps, plateau ends).
  std::vector<double> structure_points() const;
  // Values of f there (limits from both sides): the critical values of f on [a, b], sorted, unique.
  std::vector<double> critical_values() const;

  double operator()(double r) const { return f_(r); }
  // |f'(r)| by a 5-point central difference with step scaled to the interval.
  double abs_slope(double r) const;

 private:
  std::function<double(double)> f_;
  double a_, b_;
  std::vector<Piece> pieces_;
  std::vector<Plateau> plateaus_;
};

}  // namespace deltacrit::gauss

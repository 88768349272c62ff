#include "deltacrit/simulate/data.hpp"

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "deltacrit/core/status.hpp"

namespace deltacrit::simulate {

Rng stream_rng(std::uint64_t base_seed, StreamPurpose purpose, std::uint64_t index) {
  const auto p = static_cast<std::uint64_t>(purpose);
  return make_rng(splitmix64(base_seed ^ splitmix64(p)), index);
}

Eigen::MatrixXd random_orthonormal(int d, int k, Rng& rng) {
  if (k < 1 || d < k) {
    throw InputError("d", "d = " + std::to_string(d) + " must be >= k = " + std::to_string(k) + " (and k >= 1)");
  }
  std::normal_distribution<double> normal;
  Eigen::MatrixXd g(d, k);
  for (int j = 0; j < k; ++j)
    for (int i = 0; i < d; ++i) g(i, j) = normal(rng);
  // Q of a Gaussian matrix with the signs of diag(R) made positive is Haar distributed
  // (Mezzadri, arXiv math-ph/0609050, Sec. 5).
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(d, k);
  const Eigen::MatrixXd r = qr.matrixQR().topRows(k).triangularView<Eigen::Upper>();
  for (int j = 0; j < k; ++j)
    if (r(j, j) < 0) q.col(j) *= -1.0;
  return q;
}

namespace {

struct NoiseApplier {
  const model::Noise& noise;
  model::Link& link;
  int k;
  // Returns false when the sample is erased.
  bool apply(double& y, Rng& rng) const {
    using K = model::Noise::Kind;
    switch (noise.kind) {
      case K::none: return true;
      case K::gaussian: {
        std::normal_distribution<double> normal;
        y += std::sqrt(noise.param) * normal(rng);
        return true;
      }
      case K::flip: {
        if (y != 1.0 && y != -1.0) {
          std::ostringstream msg;
          msg << "noise: flip:" << noise.param << " needs labels in {-1, +1}, but the link '" << link.text()
              << "' produced y = " << y << " (use a link such as sign(z), or gaussian/resample/erase noise)";
          throw InputError("noise", msg.str());
        }
        std::uniform_real_distribution<double> unif(0.0, 1.0);
        if (unif(rng) < noise.param) y = -y;
        return true;
      }
      case K::resample: {
        std::uniform_real_distribution<double> unif(0.0, 1.0);
        if (unif(rng) < noise.param) {
          std::normal_distribution<double> normal;
          double zz[model::kMaxLatentDim] = {0.0, 0.0, 0.0};
          for (int j = 0; j < k; ++j) zz[j] = normal(rng);
          y = link(zz);
        }
        return true;
      }
      case K::erase: {
        std::uniform_real_distribution<double> unif(0.0, 1.0);
        return !(unif(rng) < noise.param);
      }
    }
    return true;
  }
};

}  // namespace

Samples generate_samples(const Eigen::MatrixXd& theta, const model::Link& link, const model::Noise& noise,
                         std::size_t n, std::uint64_t base_seed, StreamPurpose rows_purpose,
                         StreamPurpose noise_purpose, Parallel& parallel) {
  const int d = static_cast<int>(theta.rows());
  const int k = static_cast<int>(theta.cols());
  if (d < 2) throw InputError("d", "d = " + std::to_string(d) + " is out of range (accepted: d >= 2)");
  if (n < 1) throw InputError("n", "n = delta*d = " + std::to_string(n) + " samples: need n >= 1 (increase --delta or --d)");
  if (k != link.k()) {
    throw InputError("link", "link: '" + link.text() + "' has k = " + std::to_string(link.k()) +
                                 " latent variables but Θ* has " + std::to_string(k) + " columns");
  }
  Samples s;
  s.n_generated = n;
  s.X.resize(static_cast<Eigen::Index>(n), d);
  s.z.resize(static_cast<Eigen::Index>(n), k);
  s.y.resize(static_cast<Eigen::Index>(n));
  std::vector<unsigned char> keep(n, 1);

  const std::size_t blocks = (n + kRowsPerBlock - 1) / kRowsPerBlock;
  const std::size_t chunks = std::min(blocks, kMaxChunks);
  parallel.run(chunks, [&](std::size_t c) {
    model::Link local_link = link;  // expression-backed links are not thread-safe: one copy per chunk
    NoiseApplier applier{noise, local_link, k};
    const auto [b0, b1] = chunk_range(blocks, chunks, c);
    for (std::size_t b = b0; b < b1; ++b) {
      const std::size_t r0 = b * kRowsPerBlock;
      const std::size_t r1 = std::min(n, r0 + kRowsPerBlock);
      const auto rows = static_cast<Eigen::Index>(r1 - r0);
      Rng rng = stream_rng(base_seed, rows_purpose, b);
      std::normal_distribution<double> normal;
      double* x = s.X.data() + r0 * static_cast<std::size_t>(d);
      for (std::size_t t = 0; t < (r1 - r0) * static_cast<std::size_t>(d); ++t) x[t] = normal(rng);
      s.z.middleRows(static_cast<Eigen::Index>(r0), rows).noalias() =
          s.X.middleRows(static_cast<Eigen::Index>(r0), rows) * theta;
      Rng noise_rng = stream_rng(base_seed, noise_purpose, b);
      for (std::size_t i = r0; i < r1; ++i) {
        double zz[model::kMaxLatentDim] = {0.0, 0.0, 0.0};
        for (int j = 0; j < k; ++j) zz[j] = s.z(static_cast<Eigen::Index>(i), j);
        double y = local_link(zz);
        keep[i] = applier.apply(y, noise_rng) ? 1 : 0;
        s.y[static_cast<Eigen::Index>(i)] = y;
      }
    }
  });
  for (std::size_t i = 0; i < n; ++i) {
    if (keep[i] && !std::isfinite(s.y[static_cast<Eigen::Index>(i)])) {
      std::ostringstream msg;
      msg << "link: '" << link.text() << "' gave a non-finite label at sample " << i
          << "; the link must be finite for almost every z";
      throw InputError("link", msg.str());
    }
  }
  if (noise.kind == model::Noise::Kind::erase) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!keep[i]) continue;
      if (out != i) {
        const auto o = static_cast<Eigen::Index>(out), ii = static_cast<Eigen::Index>(i);
        s.X.row(o) = s.X.row(ii);
        s.z.row(o) = s.z.row(ii);
        s.y[o] = s.y[ii];
      }
      ++out;
    }
    if (out == 0) {
      throw InputError("noise", "noise: every one of the " + std::to_string(n) +
                                    " samples was erased; increase n (= delta*d) or lower the erasure probability");
    }
    s.X.conservativeResize(static_cast<Eigen::Index>(out), d);
    s.z.conservativeResize(static_cast<Eigen::Index>(out), k);
    s.y.conservativeResize(static_cast<Eigen::Index>(out));
  }
  return s;
}

Dataset generate_dataset(const model::Link& link, const model::Noise& noise, int d, std::size_t n,
                         std::uint64_t base_seed, Parallel& parallel) {
  if (d < 2) throw InputError("d", "d = " + std::to_string(d) + " is out of range (accepted: d >= 2)");
  if (d < link.k()) {
    throw InputError("d", "d = " + std::to_string(d) + " is smaller than the number of latent directions k = " +
                              std::to_string(link.k()));
  }
  if (n < 1) throw InputError("n", "n = delta*d = " + std::to_string(n) + " samples: need n >= 1 (increase --delta or --d)");
  Dataset data;
  Rng theta_rng = stream_rng(base_seed, StreamPurpose::theta);
  data.theta = random_orthonormal(d, link.k(), theta_rng);
  data.train = generate_samples(data.theta, link, noise, n, base_seed, StreamPurpose::rows, StreamPurpose::noise, parallel);
  return data;
}

}  // namespace deltacrit::simulate

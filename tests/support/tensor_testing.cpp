#include "support/tensor_testing.h"

#include <cmath>
#include <sstream>

namespace vg::testing {

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << actual.shape() << " != expected " << expected.shape();
  }
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double worst_excess = 0.0;
  size_t worst = 0;
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double tol = atol + rtol * std::abs(e[i]);
    const double err = std::abs(a[i] - e[i]);
    const bool ok = err <= tol || (std::isnan(a[i]) && std::isnan(e[i])) || (a[i] == e[i]);
    if (!ok) {
      ++bad;
      const double excess = std::isnan(err) ? INFINITY : err - tol;
      if (bad == 1 || excess > worst_excess) {
        worst_excess = excess;
        worst = i;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << a.size() << " elements differ (rtol " << rtol << ", atol "
                                       << atol << "); worst at flat index " << worst << ": " << a[worst]
                                       << " vs expected " << e[worst] << " (diff " << std::abs(a[worst] - e[worst])
                                       << ")";
}

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype, double margin) {
  Generator gen(seed);
  Tensor t = randn(shape, gen, DType::F64);
  if (margin > 0) {
    std::vector<double> v = t.to_vector<double>();
    for (double& x : v) {
      if (std::abs(x) < margin) x = x < 0 ? x - margin : x + margin;
    }
    t = Tensor::from_vector(v, shape);
  }
  return t.to(dtype);
}

Tensor uniform_tensor(const Shape& shape, uint64_t seed, double lo, double hi, DType dtype) {
  Generator gen(seed);
  return add(mul(rand(shape, gen, DType::F64), hi - lo), lo).to(dtype);
}

namespace {

// sum(w * out) in double, from the values only.
double weighted_sum(const Tensor& out, const std::vector<double>& w) {
  std::vector<double> v = out.to_vector<double>();
  double total = 0.0;
  for (size_t i = 0; i < v.size(); ++i) total += v[i] * w[i];
  return total;
}

// Position in storage (elements) of flat index i of a contiguous leaf.
double& element(const Tensor& leaf, int64_t i) { return leaf.data<double>()[i]; }

}  // namespace

::testing::AssertionResult gradients_match(const TensorFn& f, const std::vector<Tensor>& inputs,
                                           const GradCheckOptions& options) {
  for (const Tensor& t : inputs) {
    if (t.requires_grad() && (t.dtype() != DType::F64 || !t.is_contiguous() || !t.is_leaf())) {
      return ::testing::AssertionFailure() << "gradient checks need contiguous f64 leaves, got " << t.describe();
    }
  }
  for (const Tensor& t : inputs) {
    Tensor copy = t;
    copy.zero_grad();
  }
  Tensor out = f(inputs);
  Tensor w = random_tensor(out.shape(), 4242);
  std::vector<double> wv = w.to_vector<double>();
  out.backward(w);

  std::ostringstream failures;
  int failed = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    Tensor grad = x.grad();
    if (!grad.defined()) {
      failures << "input " << k << ": backward produced no gradient\n";
      ++failed;
      continue;
    }
    std::vector<double> analytic = grad.to_vector<double>();
    const int64_t n = x.numel();
    const int64_t stride = std::max<int64_t>(1, n / options.max_elements);
    for (int64_t i = 0; i < n; i += stride) {
      double saved = element(x, i);
      double plus, minus;
      {
        NoGradGuard no_grad;
        element(x, i) = saved + options.eps;
        plus = weighted_sum(f(inputs), wv);
        element(x, i) = saved - options.eps;
        minus = weighted_sum(f(inputs), wv);
        element(x, i) = saved;
      }
      const double numeric = (plus - minus) / (2 * options.eps);
      const double a = analytic[static_cast<size_t>(i)];
      if (std::abs(a - numeric) > options.atol + options.rtol * std::abs(numeric)) {
        if (failed < 8) {
          failures << "input " << k << " " << x.shape() << " element " << i << ": backward " << a
                   << ", finite difference " << numeric << "\n";
        }
        ++failed;
      }
    }
  }
  if (failed == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << failed << " gradient elements differ:\n" << failures.str();
}

double max_abs_diff(const Tensor& actual, const Tensor& expected) {
  std::vector<double> x = actual.to_vector<double>(), y = expected.to_vector<double>();
  VG_CHECK(x.size() == y.size(), "testing", "max_abs_diff of ", x.size(), " and ", y.size(), " elements");
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

double relative_error(const Tensor& actual, const Tensor& expected) {
  double scale = 0;
  for (double v : expected.to_vector<double>()) scale = std::max(scale, std::abs(v));
  return max_abs_diff(actual, expected) / scale;
}

::testing::AssertionResult close_relative(const Tensor& actual, const Tensor& expected, double tol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << actual.shape() << " != " << expected.shape();
  }
  const double error = relative_error(actual, expected);
  if (error <= tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max difference " << max_abs_diff(actual, expected) << " is " << error
                                       << " of the reference's largest value (tolerance " << tol << ")";
}

void expect_error(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
  std::string first = fragments.empty() ? std::string() : fragments.front();
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning '" << first << "'";
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const std::string& f : fragments)
      EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  }
}

std::string test_data_path(const std::string& relative) { return std::string(VG_TEST_DATA_DIR) + "/" + relative; }

io::SafetensorsFile open_golden(const std::string& relative) {
  return io::SafetensorsFile::open(test_data_path(relative));
}

}  // namespace vg::testing

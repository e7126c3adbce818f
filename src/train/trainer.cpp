#include "train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>

#include "common/allocator.h"
#include "common/error.h"
#include "common/progress.h"
#include "runtime/reference/aten_executor.h"

namespace fluidedge::train {

using runtime::reference::AtenExecutor;
using runtime::reference::from_aten;
using runtime::reference::to_aten;

struct Trainer::Impl {
  explicit Impl(const graph::Graph& g) : executor(g) {}
  AtenExecutor executor;
};

Trainer::Trainer(const graph::Graph& graph) : impl_(new Impl(graph)) {
  keep_large_allocations_in_heap();
  if (graph.inputs.size() != 1)
    fail("the trainer needs a model with one input; '{}' has {}", graph.name, graph.inputs.size());
}

Trainer::~Trainer() { delete impl_; }

namespace {

// Random translation by up to `max_shift` pixels per sample (zeros shifted in).
at::Tensor shift_batch(const at::Tensor& x, int max_shift, std::mt19937_64& rng) {
  if (max_shift <= 0) return x;
  int64_t h = x.size(2), w = x.size(3);
  at::Tensor padded = at::constant_pad_nd(x, {max_shift, max_shift, max_shift, max_shift}, 0.0);
  std::uniform_int_distribution<int> d(0, 2 * max_shift);
  std::vector<at::Tensor> parts;
  parts.reserve(static_cast<size_t>(x.size(0)));
  for (int64_t i = 0; i < x.size(0); ++i) {
    int dy = d(rng), dx = d(rng);
    parts.push_back(padded[i].slice(1, dy, dy + h).slice(2, dx, dx + w));
  }
  return at::stack(parts);
}

// Random affine distortion per sample: rotation by up to `c.max_rotation` degrees, zoom by
// [1 - max_scale, 1 + max_scale], translation by up to `c.max_shift` pixels (bilinear, zeros
// outside the image).
at::Tensor distort_batch(const at::Tensor& x, const TrainConfig& c, std::mt19937_64& rng) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<float> theta(static_cast<size_t>(n) * 6);
  for (int64_t i = 0; i < n; ++i) {
    double angle = u(rng) * c.max_rotation * M_PI / 180.0;
    double zoom = 1.0 + u(rng) * c.max_scale;
    double tx = u(rng) * c.max_shift * 2.0 / static_cast<double>(w);
    double ty = u(rng) * c.max_shift * 2.0 / static_cast<double>(h);
    // theta maps output coordinates to input coordinates (normalised to [-1, 1]).
    float* t = &theta[static_cast<size_t>(i) * 6];
    t[0] = static_cast<float>(std::cos(angle) / zoom);
    t[1] = static_cast<float>(-std::sin(angle) / zoom);
    t[2] = static_cast<float>(tx);
    t[3] = static_cast<float>(std::sin(angle) / zoom);
    t[4] = static_cast<float>(std::cos(angle) / zoom);
    t[5] = static_cast<float>(ty);
  }
  at::Tensor th = at::tensor(theta, at::kFloat).view({n, 2, 3});
  at::Tensor grid = at::affine_grid_generator(th, {n, x.size(1), h, w}, false);
  return at::grid_sampler(x, grid, 0, 0, false);
}

at::Tensor augment_batch(const at::Tensor& x, const TrainConfig& c, std::mt19937_64& rng) {
  return c.max_rotation > 0 || c.max_scale > 0 ? distort_batch(x, c, rng) : shift_batch(x, c.max_shift, rng);
}

// Cross-entropy against the labels (with label smoothing), blended with distillation from the
// teacher's softened distribution `soft` when it is given.
at::Tensor sample_loss(const at::Tensor& logits, const at::Tensor& y, const at::Tensor& soft, const TrainConfig& c) {
  at::Tensor logp = at::log_softmax(logits, 1);
  at::Tensor ce = at::nll_loss(logp, y);
  if (c.label_smoothing > 0) ce = (1 - c.label_smoothing) * ce - c.label_smoothing * logp.mean(1).mean();
  if (!soft.defined()) return ce;
  const double t = c.distill_temperature;
  // KL(soft || student_T) without the teacher's entropy, a constant: -sum soft * log student_T.
  at::Tensor kd = -(soft * at::log_softmax(logits / t, 1)).sum(1).mean() * (t * t);
  return (1 - c.distill_weight) * ce + c.distill_weight * kd;
}

}  // namespace

graph::Tensor augment_images(const graph::Tensor& images, const TrainConfig& config, uint64_t seed) {
  at::NoGradGuard no_grad;
  std::mt19937_64 rng(seed);
  return from_aten(augment_batch(to_aten(images), config, rng).contiguous());
}

StageReport Trainer::train(const data::Split& data, const std::set<std::string>& trainable,
                           const std::vector<std::string>& loss_outputs, const TrainConfig& config,
                           const std::string& label, const graph::Tensor& teacher_logits) {
  if (config.epochs < 1) fail("--epochs must be at least 1, got {}", config.epochs);
  if (config.batch < 1) fail("--batch must be at least 1, got {}", config.batch);
  if (config.optimizer != "adam" && config.optimizer != "sgd")
    fail("--optimizer '{}' is not one of adam, sgd", config.optimizer);
  if (config.max_rotation < 0 || config.max_rotation > 180)
    fail("--rotate must be in [0, 180] degrees, got {}", config.max_rotation);
  if (config.max_scale < 0 || config.max_scale >= 1) fail("--scale must be in [0, 1), got {}", config.max_scale);
  if (config.label_smoothing < 0 || config.label_smoothing >= 1)
    fail("--label-smoothing must be in [0, 1), got {}", config.label_smoothing);
  if (config.distill_weight < 0 || config.distill_weight > 1)
    fail("--distill must be in [0, 1], got {}", config.distill_weight);
  if (config.distill_temperature <= 0) fail("--temperature must be positive, got {}", config.distill_temperature);
  const bool distil = teacher_logits.defined() && config.distill_weight > 0;
  if (teacher_logits.defined() && (teacher_logits.rank() != 2 || teacher_logits.dim(0) != data.size()))
    fail("stage '{}': teacher logits of shape {} do not match {} training images", label,
         graph::shape_str(teacher_logits.shape()), data.size());
  auto start = std::chrono::steady_clock::now();
  auto& params = impl_->executor.parameters();
  std::vector<std::string> names;
  for (auto& [name, p] : params) {
    bool train_it = trainable.count(name) != 0 && p.is_floating_point();
    p = p.detach().set_requires_grad(train_it);
    if (train_it) names.push_back(name);
  }
  if (names.empty()) fail("stage '{}': nothing to train", label);
  std::map<std::string, at::Tensor> m1, m2;
  for (const auto& n : names) {
    m1[n] = at::zeros_like(params[n]);
    m2[n] = at::zeros_like(params[n]);
  }
  at::Tensor images = to_aten(data.images), labels = to_aten(data.labels);
  at::Tensor teacher_soft;  // the teacher's softened distribution per image
  if (distil) teacher_soft = at::softmax(to_aten(teacher_logits).to(at::kFloat) / config.distill_temperature, 1);
  const int64_t n = data.size();
  const int64_t steps_per_epoch = (n + config.batch - 1) / config.batch;
  const int64_t total_steps = steps_per_epoch * config.epochs;
  std::mt19937_64 rng(config.seed);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const std::string input = impl_->executor.graph().inputs[0];
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  int64_t step = 0;
  double last_loss = 0;
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    ProgressBar bar(fmt::format("{} epoch {}/{}", label, epoch + 1, config.epochs), steps_per_epoch);
    double loss_sum = 0;
    for (int64_t b = 0; b < steps_per_epoch; ++b, ++step) {
      int64_t lo = b * config.batch, hi = std::min(n, lo + config.batch);
      at::Tensor idx = at::tensor(std::vector<int64_t>(order.begin() + lo, order.begin() + hi), at::kLong);
      at::Tensor x = augment_batch(images.index_select(0, idx), config, rng);
      at::Tensor y = labels.index_select(0, idx);
      auto outs = impl_->executor.evaluate({{input, x}}, loss_outputs, true);
      at::Tensor soft = distil ? teacher_soft.index_select(0, idx) : at::Tensor();
      at::Tensor loss;
      for (const auto& o : loss_outputs) {
        at::Tensor l = sample_loss(outs.at(o), y, soft, config);
        loss = loss.defined() ? loss + l : l;
      }
      loss.backward();
      double lr = config.learning_rate * 0.5 *
                  (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total_steps)));
      {
        at::NoGradGuard no_grad;
        double t = static_cast<double>(step + 1);
        for (const auto& name : names) {
          at::Tensor& p = params[name];
          at::Tensor g = p.grad();
          if (!g.defined()) continue;
          if (config.weight_decay > 0) g = g + p * config.weight_decay;
          if (config.optimizer == "adam") {
            m1[name].mul_(beta1).add_(g, 1 - beta1);
            m2[name].mul_(beta2).addcmul_(g, g, 1 - beta2);
            at::Tensor mhat = m1[name] / (1 - std::pow(beta1, t));
            at::Tensor vhat = m2[name] / (1 - std::pow(beta2, t));
            p.sub_(mhat / (vhat.sqrt() + eps) * lr);
          } else {
            m1[name].mul_(config.momentum).add_(g);
            p.sub_(m1[name] * lr);
          }
          p.mutable_grad() = at::Tensor();
        }
      }
      last_loss = loss.item<double>() / static_cast<double>(loss_outputs.size());
      loss_sum += last_loss;
      bar.advance(1, fmt::format("loss {:.4f}", loss_sum / static_cast<double>(b + 1)));
    }
    bar.finish(fmt::format("loss {:.4f}", loss_sum / static_cast<double>(steps_per_epoch)));
    last_loss = loss_sum / static_cast<double>(steps_per_epoch);
  }
  for (auto& [name, p] : params) p = p.detach().set_requires_grad(false);
  StageReport r;
  r.label = label;
  r.epochs = config.epochs;
  r.final_loss = last_loss;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::map<std::string, double> Trainer::accuracy(const data::Split& data, const std::vector<std::string>& outputs,
                                                int64_t batch) {
  at::NoGradGuard no_grad;
  at::Tensor images = to_aten(data.images), labels = to_aten(data.labels);
  std::map<std::string, int64_t> correct;
  std::set<std::string> unique(outputs.begin(), outputs.end());
  const std::string input = impl_->executor.graph().inputs[0];
  for (int64_t lo = 0; lo < data.size(); lo += batch) {
    int64_t hi = std::min(data.size(), lo + batch);
    auto outs = impl_->executor.evaluate({{input, images.slice(0, lo, hi)}},
                                         std::vector<std::string>(unique.begin(), unique.end()), false);
    at::Tensor y = labels.slice(0, lo, hi);
    for (const auto& o : unique) correct[o] += outs.at(o).argmax(1).eq(y).sum().item<int64_t>();
  }
  std::map<std::string, double> acc;
  for (const auto& o : outputs) acc[o] = static_cast<double>(correct[o]) / static_cast<double>(data.size());
  return acc;
}

graph::Tensor Trainer::predict(const data::Split& data, const std::string& output, int64_t batch) {
  at::NoGradGuard no_grad;
  at::Tensor images = to_aten(data.images);
  const std::string input = impl_->executor.graph().inputs[0];
  std::vector<at::Tensor> parts;
  for (int64_t lo = 0; lo < data.size(); lo += batch) {
    int64_t hi = std::min(data.size(), lo + batch);
    parts.push_back(impl_->executor.evaluate({{input, images.slice(0, lo, hi)}}, {output}, false).at(output));
  }
  if (parts.empty()) fail("no images to predict");
  return from_aten(at::cat(parts).contiguous());
}

graph::Tensor Trainer::parameter(const std::string& name) const {
  auto it = impl_->executor.parameters().find(name);
  if (it == impl_->executor.parameters().end()) fail("the model has no parameter '{}'", name);
  return from_aten(it->second);
}

void Trainer::set_parameter(const std::string& name, const graph::Tensor& value) {
  auto it = impl_->executor.parameters().find(name);
  if (it == impl_->executor.parameters().end()) fail("the model has no parameter '{}'", name);
  if (graph::Shape(it->second.sizes().begin(), it->second.sizes().end()) != value.shape())
    fail("parameter '{}' has shape {}, cannot set it to {}", name,
         graph::shape_str(graph::Shape(it->second.sizes().begin(), it->second.sizes().end())),
         graph::shape_str(value.shape()));
  it->second = to_aten(value);
}

graph::Graph Trainer::graph() const {
  graph::Graph g = impl_->executor.graph();
  for (auto& [name, p] : impl_->executor.parameters()) g.set_initializer(name, from_aten(p));
  return g;
}

}  // namespace fluidedge::train

#include "cli/run_inputs.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "common/error.h"
#include "graph/npy.h"
#include "graph/shape_inference.h"

namespace fluidedge::cli {

namespace {

namespace fs = std::filesystem;

graph::Tensor random_tensor(graph::DType dtype, const graph::Shape& shape, std::mt19937_64& rng) {
  graph::Tensor t(graph::DType::kFloat32, shape);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_int_distribution<int> small(0, 9);
  float* p = t.data<float>();
  bool integral = !graph::dtype_is_float(dtype);
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = integral ? static_cast<float>(small(rng)) : normal(rng);
  return dtype == graph::DType::kFloat32 ? t : t.cast(dtype);
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

// The model input `name` stands for: the input itself, or the one whose --output-dir file name
// it is (without ".npy"), when exactly one is.
std::string resolve_input(const std::string& name, const std::string& spec, const graph::Graph& g) {
  if (std::find(g.inputs.begin(), g.inputs.end(), name) != g.inputs.end() || g.is_initializer(name)) return name;
  std::vector<std::string> written;
  for (const auto& in : g.inputs)
    if (npy_file_name(in) == name + ".npy") written.push_back(in);
  if (written.size() == 1) return written[0];
  if (written.size() > 1)
    fail("--input {}: '{}' is how --output-dir writes several inputs ({}); use the input's own name", spec, name,
         quoted_list(written));
  fail("--input {}: '{}' is not an input of the model (its inputs: {})", spec, name, quoted_list(g.inputs));
}

}  // namespace

std::string npy_file_name(const std::string& name) {
  std::string s = name;
  std::replace(s.begin(), s.end(), '/', '_');
  return s + ".npy";
}

runtime::TensorMap gather_inputs(const InputSources& sources, const graph::Graph& g) {
  runtime::TensorMap inputs;
  size_t positional = 0;
  for (const auto& spec : sources.files) {
    std::string name, file = spec;
    auto eq = spec.find('=');
    if (eq != std::string::npos && !spec.substr(0, eq).ends_with(".npy")) {
      name = resolve_input(spec.substr(0, eq), spec, g);
      file = spec.substr(eq + 1);
    } else {
      if (positional >= g.inputs.size())
        fail("--input {}: the model has only {} input(s); name them with NAME=FILE.npy", spec, g.inputs.size());
      name = g.inputs[positional++];
    }
    if (inputs.count(name)) fail("--input: input '{}' is given twice", name);
    inputs[name] = graph::load_npy(file);
  }
  if (!sources.dir.empty()) {
    if (!fs::is_directory(sources.dir)) fail("--input-dir {}: not a directory", sources.dir);
    std::vector<std::string> expected;
    int found = 0;
    for (const auto& name : g.inputs) {
      fs::path file = fs::path(sources.dir) / npy_file_name(name);
      expected.push_back(npy_file_name(name));
      if (!fs::exists(file)) continue;
      ++found;
      if (!inputs.count(name)) inputs[name] = graph::load_npy(file.string());
    }
    if (found == 0)
      fail("--input-dir {}: holds none of the model's inputs (looked for {})", sources.dir, quoted_list(expected));
  }
  std::mt19937_64 rng(sources.seed);
  int64_t batch = sources.batch > 0 ? sources.batch : graph::graph_batch(g);
  for (const auto& name : g.inputs) {
    if (inputs.count(name)) continue;
    if (!sources.random)
      fail("input '{}' is not given; pass --input {}=FILE.npy{}, or --random for random inputs", name, name,
           sources.dir.empty() ? "" : fmt::format(" (--input-dir {} has no {})", sources.dir, npy_file_name(name)));
    graph::Shape shape = g.value(name).shape;
    if (!shape.empty()) shape[0] = batch;
    inputs[name] = random_tensor(g.value(name).dtype, shape, rng);
  }
  if (sources.batch > 0)
    for (const auto& [name, t] : inputs)
      if (t.rank() > 0 && t.dim(0) != sources.batch)
        fail("--batch {} disagrees with input '{}' of shape {}", sources.batch, name, graph::shape_str(t.shape()));
  return inputs;
}

}  // namespace fluidedge::cli

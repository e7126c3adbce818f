#include "runtime/xnnpack/xnnpack_session.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

#include <cpuinfo.h>
#include <pthreadpool.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "graph/qdq_transforms.h"
#include "graph/shape_inference.h"
#include "graph/transforms.h"
#include "runtime/fused_step.h"
#include "runtime/memory_plan.h"
#include "runtime/quantized_lookup.h"
#include "runtime/xnnpack/kernel.h"

namespace fluidedge::runtime::xnnpack {

namespace {

void initialize_xnnpack() {
  static std::once_flag once;
  static xnn_status status = xnn_status_success;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status == xnn_status_unsupported_hardware)
    fail("the xnnpack backend does not run on this CPU (XNNPACK needs SSE2 on x86 or NEON on Arm)");
  check(status, "to initialise");
}

size_t value_bytes(const graph::ValueInfo& v) {
  return std::max<size_t>(1, static_cast<size_t>(graph::shape_numel(v.shape)) * graph::dtype_size(v.dtype));
}

// Runs a step the backend has no kernel for on the reference backend (workstation builds), on
// plain buffers.
class FallbackKernel : public Kernel {
 public:
  FallbackKernel(std::unique_ptr<Session> session, std::vector<std::string> inputs, std::vector<std::string> outputs,
                 const graph::Graph& g)
      : session_(std::move(session)), inputs_(std::move(inputs)), outputs_(std::move(outputs)), g_(g) {}
  void plan(KernelPlan& plan) override {
    plan.inputs.assign(inputs_.size(), Layout::kPlain);
    plan.outputs.assign(outputs_.size(), Layout::kPlain);
    plan.alias.assign(outputs_.size(), -1);
  }
  void bind(const std::vector<const float*>& in, const std::vector<float*>& out, pthreadpool_t) override {
    in_ = in;
    out_ = out;
  }
  void run(pthreadpool_t) override {
    TensorMap feeds;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const auto& v = g_.value(inputs_[i]);
      graph::Tensor t(v.dtype, v.shape);
      std::memcpy(t.raw(), in_[i], t.nbytes());
      feeds[inputs_[i]] = t;
    }
    TensorMap results = session_->run(feeds);
    for (size_t i = 0; i < outputs_.size(); ++i) {
      if (outputs_[i].empty()) continue;
      const graph::Tensor& t = results.at(outputs_[i]);
      std::memcpy(out_[i], t.raw(), t.nbytes());
    }
  }

 private:
  std::unique_ptr<Session> session_;
  std::vector<std::string> inputs_, outputs_;
  const graph::Graph& g_;
  std::vector<const float*> in_;
  std::vector<float*> out_;
};

struct Slot {
  std::string value;
  Layout layout = Layout::kPlain;
  size_t bytes = 0;
  int alias_of = -1;   // a view of this slot
  int placed_in = -1;  // inside this slot's bytes (a concatenation's output) ...
  size_t offset = 0;   // ... from this byte offset, in rows (KernelPlan::part_rows)
  int producer = -1;   // exec index (-1: graph input)
  int last_use = -1;
  bool pinned = false;  // graph input or output
};

struct Exec {
  std::string name, op_type;
  std::vector<std::string> fused;
  Kernel* kernel = nullptr;  // null: a layout conversion
  bool to_nhwc = false;      // conversion direction
  graph::Shape shape;        // conversion: the value's ONNX shape
  size_t element_bytes = 4;  // conversion: of the value's type
  std::vector<int> in, out;  // slots
  // A concatenation's parts (KernelPlan::part_offsets), and whether its producers write them
  // in place so that it does not run.
  std::vector<size_t> part_offsets;
  size_t part_rows = 0, part_row_stride = 0;
  bool elided = false;
};

struct Plan {
  graph::Graph graph;
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::vector<Slot> slots;
  std::vector<size_t> offsets;
  std::shared_ptr<float[]> arena;
  size_t arena_bytes = 0;
  std::vector<Exec> execs;
  std::map<std::string, int> input_slots, output_slots;
  XnnpackPlanStats stats;

  std::byte* data(int slot) const { return reinterpret_cast<std::byte*>(arena.get()) + offsets[slot]; }
};

struct ThreadPoolDeleter {
  void operator()(pthreadpool_t p) const { pthreadpool_destroy(p); }
};

}  // namespace

struct XnnpackSession::Impl {
  graph::Graph optimized;
  std::vector<FusedStep> steps;
  SessionOptions options;
  std::map<int64_t, std::unique_ptr<Plan>> plans;
  std::unique_ptr<pthreadpool, ThreadPoolDeleter> threads;
  bool poison = false;

  Plan& plan_for(int64_t batch);
  void build(Plan& p, int64_t batch);
  static void place_concatenations(Plan& p);
  Plan& prepare(const TensorMap& inputs);
  void execute(Plan& p, std::vector<double>* ms);
};

void XnnpackSession::Impl::build(Plan& p, int64_t batch) {
  p.graph = optimized;
  if (graph::graph_batch(p.graph) != batch) graph::set_batch(p.graph, batch);
  const graph::Graph& g = p.graph;

  std::map<std::string, int> current;               // value -> slot in its produced layout
  std::map<std::pair<int, Layout>, int> converted;  // (slot, layout) -> converted slot
  auto new_slot = [&](const std::string& value, Layout layout, int producer) {
    p.slots.push_back({value, layout, value_bytes(g.value(value)), -1, -1, 0, producer, -1, false});
    return static_cast<int>(p.slots.size()) - 1;
  };
  for (const auto& name : g.inputs) {
    int s = new_slot(name, Layout::kPlain, -1);
    p.slots[s].pinned = true;
    current[name] = s;
    p.input_slots[name] = s;
  }
  // The slot holding `value` in `want`: its own when the layouts match or agree, else a conversion.
  auto slot_in_layout = [&](const std::string& value, Layout want) {
    int s = current.at(value);
    const graph::Shape& shape = g.value(value).shape;
    if (p.slots[s].layout == want || shape.size() != 4 || layouts_agree(shape)) return s;
    auto key = std::make_pair(s, want);
    if (auto it = converted.find(key); it != converted.end()) return it->second;
    Exec e;
    e.name = "reorder:" + value;
    e.op_type = "Reorder";
    e.to_nhwc = want == Layout::kNhwc;
    e.shape = shape;
    e.element_bytes = graph::dtype_size(g.value(value).dtype);
    int t = new_slot(value, want, static_cast<int>(p.execs.size()));
    e.in = {s};
    e.out = {t};
    p.slots[s].last_use = static_cast<int>(p.execs.size());
    p.execs.push_back(std::move(e));
    ++p.stats.conversions;
    return converted[key] = t;
  };

  bool have_reference = false;
  for (const auto& b : available_backends()) have_reference |= b == "reference";
  for (const FusedStep& step : steps) {
    std::string why_not;
    std::unique_ptr<Kernel> kernel = make_kernel(step, g, why_not);
    std::vector<std::string> ins = step.runtime_inputs(g);
    if (!kernel) {
      if (!have_reference)
        fail("{}: the xnnpack backend cannot run it ({}), and this build has no reference backend to fall back to",
             step.node.describe(), why_not);
      graph::Graph sub = graph::extract_subgraph(g, ins, step.node.outputs, step.node.name);
      for (auto& o : sub.outputs)
        if (o.empty()) o = sub.unique_name("unused");
      if (plans.empty())
        spdlog::warn("xnnpack backend: {} runs on the reference backend ({})", step.node.describe(), why_not);
      kernel = std::make_unique<FallbackKernel>(make_session("reference", sub, options), ins, step.node.outputs, g);
      ++p.stats.fallback_steps;
    }
    KernelPlan kp;
    for (const auto& in : ins) kp.inputs.push_back(p.slots[current.at(in)].layout);
    kernel->plan(kp);
    Exec e;
    e.name = step.node.name;
    e.op_type = step.node.op_type;
    e.fused = step.fused_nodes;
    e.kernel = kernel.get();
    for (size_t i = 0; i < ins.size(); ++i) e.in.push_back(slot_in_layout(ins[i], kp.inputs.at(i)));
    const int index = static_cast<int>(p.execs.size());
    for (int s : e.in) p.slots[s].last_use = index;
    for (size_t i = 0; i < step.node.outputs.size(); ++i) {
      const std::string& name = step.node.outputs[i];
      if (name.empty()) {
        e.out.push_back(-1);
        continue;
      }
      int s = new_slot(name, kp.outputs.at(i), index);
      if (i < kp.alias.size() && kp.alias[i] >= 0) p.slots[s].alias_of = e.in[kp.alias[i]];
      current[name] = s;
      e.out.push_back(s);
    }
    e.part_offsets = kp.part_offsets;
    e.part_rows = kp.part_rows;
    e.part_row_stride = kp.part_row_stride;
    p.stats.fused_nodes += static_cast<int64_t>(step.fused_nodes.size());
    p.kernels.push_back(std::move(kernel));
    p.execs.push_back(std::move(e));
  }
  for (const auto& name : g.outputs) {
    if (g.is_initializer(name)) continue;
    int s = current.at(name);
    p.slots[s].pinned = true;
    p.output_slots[name] = s;
  }
  place_concatenations(p);

  std::vector<MemorySlot> mslots(p.slots.size());
  const int end_of_run = static_cast<int>(p.execs.size());
  for (size_t s = 0; s < p.slots.size(); ++s) {
    mslots[s].bytes = p.slots[s].bytes;
    mslots[s].first = p.slots[s].producer;
    mslots[s].last = p.slots[s].pinned ? end_of_run : p.slots[s].last_use;
    mslots[s].alias_of = p.slots[s].alias_of;
    mslots[s].placed_in = p.slots[s].placed_in;
    mslots[s].offset = p.slots[s].offset;
    p.stats.unshared_activation_bytes += p.slots[s].alias_of >= 0 ? 0 : static_cast<int64_t>(p.slots[s].bytes);
  }
  // A view's lifetime is its source's too: the planner keeps the source alive while any view is.
  MemoryPlan memory = plan_memory(mslots, {});
  p.offsets = memory.offsets;
  p.arena_bytes = memory.arena_bytes;
  p.arena = float_buffer((memory.arena_bytes + sizeof(float) - 1) / sizeof(float), "the activation buffers");
  p.stats.activation_bytes = static_cast<int64_t>(memory.arena_bytes);
  p.stats.peak_live_activation_bytes = static_cast<int64_t>(memory.peak_live_bytes);
  p.stats.elided_concats = std::count_if(p.execs.begin(), p.execs.end(), [](const Exec& e) { return e.elided; });
  std::erase_if(p.execs, [](const Exec& e) { return e.elided; });

  // The plan's buffers are fixed: every operator is set up once, here.
  for (Exec& e : p.execs) {
    if (!e.kernel) continue;
    std::vector<const float*> in;
    std::vector<float*> out;
    for (int s : e.in) in.push_back(reinterpret_cast<const float*>(p.data(s)));
    for (int s : e.out) out.push_back(s < 0 ? nullptr : reinterpret_cast<float*>(p.data(s)));
    e.kernel->bind(in, out, threads.get());
  }
  p.stats.batch = batch;
  p.stats.steps = static_cast<int64_t>(std::count_if(p.execs.begin(), p.execs.end(), [&](const Exec& e) {
    return !(e.kernel && e.out.size() == 1 && e.out[0] >= 0 && p.slots[e.out[0]].alias_of >= 0);
  }));
}

// Concatenations by placement: where every part of a concatenation can be written by its
// producer straight into the output (each part a column range of the output's rows: NHWC
// channels, or one contiguous range), the producers write there and the copy is skipped
// (SqueezeNet's and GoogLeNet's channel concatenations). Not for graph inputs and outputs (their
// buffers are the caller's), views, layout conversions, a value concatenated twice, or, for
// strided rows, a value something else reads too (it would find it strided).
void XnnpackSession::Impl::place_concatenations(Plan& p) {
  std::vector<int> readers(p.slots.size(), 0);
  for (const Exec& e : p.execs)
    for (int s : e.in) ++readers[s];
  for (Exec& e : p.execs) {
    if (e.part_offsets.empty() || e.part_offsets.size() != e.in.size() || e.out.size() != 1) continue;
    auto placeable = [&](int s) {
      const Slot& part = p.slots[s];
      if (part.pinned || part.alias_of >= 0 || part.placed_in >= 0 || part.producer < 0) return false;
      const Exec& producer = p.execs[part.producer];
      return producer.kernel != nullptr && !producer.elided && producer.out.at(0) == s &&
             std::count(e.in.begin(), e.in.end(), s) == 1 && (e.part_rows == 1 || readers[s] == 1) &&
             producer.kernel->can_write_rows(e.part_rows, e.part_row_stride);
    };
    if (!std::all_of(e.in.begin(), e.in.end(), placeable)) continue;
    for (size_t i = 0; i < e.in.size(); ++i) {
      Slot& part = p.slots[e.in[i]];
      p.execs[part.producer].kernel->write_rows(e.part_rows, e.part_row_stride);
      part.placed_in = e.out[0];
      part.offset = e.part_offsets[i] * graph::dtype_size(p.graph.value(p.slots[e.out[0]].value).dtype);
    }
    e.elided = true;
  }
}

Plan& XnnpackSession::Impl::plan_for(int64_t batch) {
  auto it = plans.find(batch);
  if (it != plans.end()) return *it->second;
  auto p = std::make_unique<Plan>();
  build(*p, batch);
  return *plans.emplace(batch, std::move(p)).first->second;
}

Plan& XnnpackSession::Impl::prepare(const TensorMap& inputs) {
  int64_t batch = check_inputs(optimized, inputs);
  omp_set_num_threads(options.threads);
  Plan& p = plan_for(batch);
  if (poison)
    std::fill(p.arena.get(), p.arena.get() + p.arena_bytes / sizeof(float), std::numeric_limits<float>::quiet_NaN());
  for (const auto& [name, slot] : p.input_slots) {
    const graph::Tensor& t = inputs.at(name);
    std::memcpy(p.data(slot), t.raw(), t.nbytes());
  }
  return p;
}

void XnnpackSession::Impl::execute(Plan& p, std::vector<double>* ms) {
  for (size_t k = 0; k < p.execs.size(); ++k) {
    Exec& e = p.execs[k];
    auto t0 = std::chrono::steady_clock::now();
    if (e.kernel) {
      e.kernel->run(threads.get());
    } else {
      convert_layout(p.data(e.in[0]), p.data(e.out[0]), e.shape, e.to_nhwc, e.element_bytes);
    }
    if (ms) (*ms)[k] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
}

XnnpackSession::XnnpackSession(const graph::Graph& graph, const SessionOptions& options)
    : impl_(std::make_unique<Impl>()) {
  initialize_xnnpack();
  impl_->options = options;
  if (options.threads > 1) {
    impl_->threads.reset(pthreadpool_create(static_cast<size_t>(options.threads)));
    if (!impl_->threads) fail("could not start {} threads for the xnnpack backend", options.threads);
  }
  impl_->optimized = graph;
  // A quantized model runs in integers (graph/qdq_transforms.h), with int8 activations: XNNPACK's
  // per-channel kernels take no uint8.
  graph::remove_identities(impl_->optimized);
  graph::fuse_qdq(impl_->optimized);
  fuse_quantized_lookups(impl_->optimized);  // SiLU and the like between DQ and Q: a table
  if (graph::to_signed_activations(impl_->optimized) == 0) {
    const graph::Graph& g = impl_->optimized;
    const auto uint8_conv = std::find_if(g.nodes.begin(), g.nodes.end(), [&](const graph::Node& n) {
      return n.op_type == "QLinearConv" && g.value(n.input(0)).dtype == graph::DType::kUInt8;
    });
    if (uint8_conv != g.nodes.end())
      spdlog::warn(
          "xnnpack backend: the uint8 activations of this model stay uint8 (one is a graph input or output, or meets "
          "an op that cannot take int8), so its convolutions ({} first) run as exact loops, not on XNNPACK's int8 "
          "kernels; a model with float inputs and outputs does not have this",
          uint8_conv->describe());
  }
  impl_->steps = fuse_graph(impl_->optimized);
  impl_->plan_for(graph::graph_batch(impl_->optimized));
}

XnnpackSession::~XnnpackSession() = default;

const graph::Graph& XnnpackSession::graph() const { return impl_->optimized; }

void XnnpackSession::set_poison_buffers(bool on) { impl_->poison = on; }

XnnpackPlanStats XnnpackSession::plan_stats(int64_t batch) { return impl_->plan_for(batch).stats; }

int64_t XnnpackSession::held_bytes() const {
  int64_t bytes = 0;
  for (const auto& [batch, p] : impl_->plans) bytes += p->stats.activation_bytes;
  return bytes;
}

TensorMap XnnpackSession::run(const TensorMap& inputs) {
  Plan& p = impl_->prepare(inputs);
  impl_->execute(p, nullptr);
  TensorMap results;
  for (const auto& name : p.graph.outputs) {
    if (const graph::Tensor* c = p.graph.initializer(name)) {
      results[name] = c->clone();
      continue;
    }
    const graph::ValueInfo& v = p.graph.value(name);
    graph::Tensor t(v.dtype, v.shape);
    const int s = p.output_slots.at(name);
    if (p.slots[s].layout == Layout::kNhwc && !layouts_agree(v.shape))
      convert_layout(p.data(s), t.raw(), v.shape, false, graph::dtype_size(v.dtype));
    else
      std::memcpy(t.raw(), p.data(s), t.nbytes());
    results[name] = t;
  }
  return results;
}

std::vector<StepTiming> XnnpackSession::profile(const TensorMap& inputs, int runs) {
  Plan& p = impl_->prepare(inputs);
  std::vector<std::vector<double>> samples(p.execs.size());
  std::vector<double> ms(p.execs.size());
  impl_->execute(p, nullptr);  // warm-up
  for (int r = 0; r < std::max(runs, 1); ++r) {
    impl_->execute(p, &ms);
    for (size_t k = 0; k < ms.size(); ++k) samples[k].push_back(ms[k]);
  }
  std::vector<StepTiming> out;
  for (size_t k = 0; k < p.execs.size(); ++k) {
    auto& v = samples[k];
    std::sort(v.begin(), v.end());
    out.push_back({p.execs[k].name, p.execs[k].op_type, p.execs[k].fused, v[v.size() / 2]});
  }
  return out;
}

std::string cpu_features() {
  if (!cpuinfo_initialize()) return "unknown";
  std::vector<std::string> f;
#if defined(__x86_64__) || defined(__i386__)
  if (cpuinfo_has_x86_avx512f()) f.push_back("avx512f");
  if (cpuinfo_has_x86_avx512vnni()) f.push_back("avx512vnni");
  if (cpuinfo_has_x86_avx2()) f.push_back("avx2");
  if (cpuinfo_has_x86_fma3()) f.push_back("fma");
  if (cpuinfo_has_x86_avx()) f.push_back("avx");
  if (cpuinfo_has_x86_sse4_1()) f.push_back("sse4.1");
#elif defined(__aarch64__) || defined(__arm__)
  if (cpuinfo_has_arm_neon()) f.push_back("neon");
  if (cpuinfo_has_arm_neon_fma()) f.push_back("neonfma");
  if (cpuinfo_has_arm_neon_fp16_arith()) f.push_back("fp16arith");
  if (cpuinfo_has_arm_neon_dot()) f.push_back("dot");
  if (cpuinfo_has_arm_sve()) f.push_back("sve");
#endif
  std::string out;
  for (const auto& s : f) out += (out.empty() ? "" : " ") + s;
  return out.empty() ? "baseline" : out;
}

void register_xnnpack_backend() {
  static bool done = register_backend("xnnpack", [](const graph::Graph& g, const SessionOptions& o) {
    return std::unique_ptr<Session>(new XnnpackSession(g, o));
  });
  (void)done;
}

}  // namespace fluidedge::runtime::xnnpack

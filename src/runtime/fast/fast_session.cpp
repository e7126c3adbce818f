#include "runtime/fast/fast_session.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <set>

#include <spdlog/spdlog.h>

#include "graph/qdq_transforms.h"
#include "graph/shape_inference.h"
#include "graph/transforms.h"
#include "runtime/fast/kernel.h"
#include "runtime/memory_plan.h"
#include "runtime/quantized_lookup.h"

namespace fluidedge::runtime::fast {

namespace {

const dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Runs a step the fast backend has no kernel for on another backend (the reference one, in
// workstation builds), through plain buffers.
class FallbackKernel : public Kernel {
 public:
  FallbackKernel(std::unique_ptr<Session> session, std::vector<std::string> inputs, const graph::Graph& g,
                 std::vector<std::string> outputs)
      : session_(std::move(session)), inputs_(std::move(inputs)), outputs_(std::move(outputs)), g_(g) {}
  void plan(const dnnl::engine&, KernelPlan& plan) override {
    for (size_t i = 0; i < inputs_.size(); ++i) plan.inputs[i] = value_desc(g_.value(inputs_[i]));
    plan.outputs.clear();
    plan.alias.clear();
    for (const auto& o : outputs_) {
      plan.outputs.push_back(o.empty() ? memory::desc() : value_desc(g_.value(o)));
      plan.alias.push_back(-1);
    }
  }
  void execute(dnnl::stream& stream, const std::vector<memory>& in, const std::vector<memory>& out) override {
    stream.wait();
    TensorMap feeds;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const auto& v = g_.value(inputs_[i]);
      graph::Tensor t(v.dtype, v.shape);
      std::memcpy(t.raw(), in[i].get_data_handle(), t.nbytes());
      feeds[inputs_[i]] = t;
    }
    TensorMap results = session_->run(feeds);
    for (size_t i = 0; i < outputs_.size(); ++i) {
      if (outputs_[i].empty()) continue;
      const graph::Tensor& t = results.at(outputs_[i]);
      std::memcpy(out[i].get_data_handle(), t.raw(), t.nbytes());
    }
  }

 private:
  std::unique_ptr<Session> session_;
  std::vector<std::string> inputs_, outputs_;
  const graph::Graph& g_;
};

struct Buffer {
  size_t bytes = 0;
  std::shared_ptr<std::byte[]> data;
};

struct Exec {
  std::string name, op_type;  // for profiles
  std::vector<std::string> fused;
  Kernel* kernel = nullptr;  // null: a reorder
  PlannedPrimitive reorder;
  std::vector<int> in, out;           // slots
  int sum_from = -1;                  // slot copied into out[0] before the kernel runs
  std::vector<size_t> input_offsets;  // KernelPlan::input_offsets
  bool elided = false;                // a concatenation whose inputs were written in place
};

struct Plan {
  graph::Graph graph;  // at this batch
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::shared_ptr<PlanScratchpad> scratchpad = std::make_shared<PlanScratchpad>();
  std::vector<memory> slots;  // one oneDNN memory per (value, layout)
  Buffer activations;         // the arena every slot lives in (memory_plan.h)
  std::vector<Exec> execs;
  std::map<std::string, int> input_slots, output_slots;
  FastPlanStats stats;
};

}  // namespace

struct FastSession::Impl {
  graph::Graph optimized;
  std::vector<FusedStep> steps;
  SessionOptions options;
  std::map<int64_t, std::unique_ptr<Plan>> plans;
  std::shared_ptr<ConstantCache> constants = std::make_shared<ConstantCache>();
  dnnl::stream stream{cpu_engine()};
  bool poison = false;

  Plan& plan_for(int64_t batch);
  // Validates the inputs, picks (or builds) the plan for their batch and copies them in.
  Plan& prepare(const TensorMap& inputs);
  void build(Plan& p, int64_t batch);
  // Each step's activation layout (options.layout; "auto": measured, see layout_planner.h).
  std::vector<ActivationLayout> choose_layouts(const graph::Graph& g, std::vector<std::unique_ptr<Kernel>>& kernels,
                                               int64_t batch, FastPlanStats& stats);
};

void FastSession::set_poison_buffers(bool on) { impl_->poison = on; }

void FastSession::Impl::build(Plan& p, int64_t batch) {
  const dnnl::engine& engine = cpu_engine();
  p.graph = optimized;
  if (graph::graph_batch(p.graph) != batch) graph::set_batch(p.graph, batch);
  const graph::Graph& g = p.graph;

  // Slots: a value in one layout. `current` maps a value to its slot in the layout it was
  // produced in; `converted` caches reorders of it to other layouts.
  struct SlotInfo {
    memory::desc desc;
    int alias_of = -1;    // a view of this slot (same bytes)
    int producer = -1;    // exec index defining it (-1: graph input)
    int last_use = -1;    // exec index of its last reader
    bool pinned = false;  // graph input or output: never reused
    int placed_in = -1;   // slot (a concatenation's output) whose bytes hold this one ...
    size_t offset = 0;    // ... at this byte offset
  };
  std::vector<SlotInfo> info;
  std::map<std::string, int> current;
  std::map<std::pair<int, std::string>, int> converted;
  auto new_slot = [&](memory::desc d, int producer) {
    info.push_back({d, -1, producer, -1, false, -1, 0});
    return static_cast<int>(info.size()) - 1;
  };
  for (const auto& name : g.inputs) {
    int s = new_slot(value_desc(g.value(name)), -1);
    info[s].pinned = true;
    current[name] = s;
    p.input_slots[name] = s;
  }
  auto slot_in_layout = [&](const std::string& value, const memory::desc& want) {
    int s = current.at(value);
    if (info[s].desc == want) return s;
    auto key =
        std::make_pair(s, std::string(reinterpret_cast<const char*>(want.data.format_desc.blocking.strides),
                                      sizeof(want.data.format_desc.blocking.strides)) +
                              std::to_string(want.data.format_desc.blocking.inner_nblks) +
                              std::string(reinterpret_cast<const char*>(want.data.format_desc.blocking.inner_blks),
                                          sizeof(want.data.format_desc.blocking.inner_blks)));
    auto it = converted.find(key);
    if (it != converted.end() && info[it->second].desc == want) return it->second;
    Exec e;
    e.name = "reorder:" + value;
    e.op_type = "Reorder";
    dnnl::reorder::primitive_desc pd(engine, info[s].desc, engine, want, scratchpad_attr());
    e.reorder = PlannedPrimitive(pd, p.scratchpad);
    int t = new_slot(want, static_cast<int>(p.execs.size()));
    e.in = {s};
    e.out = {t};
    info[s].last_use = static_cast<int>(p.execs.size());
    p.execs.push_back(std::move(e));
    ++p.stats.reorders;
    converted[key] = t;
    return t;
  };

  bool have_reference = false;
  for (const auto& b : available_backends()) have_reference |= b == "reference";
  std::vector<std::unique_ptr<Kernel>> kernels;
  for (const FusedStep& step : steps) {
    std::string why_not;
    std::unique_ptr<Kernel> kernel = make_kernel(step, g, options, why_not);
    if (!kernel) {
      if (!have_reference)
        fail("{}: the fast backend cannot run it ({}), and this build has no reference backend to fall back to",
             step.node.describe(), why_not);
      // The fused chain's nodes, recomputed from the original graph by the reference backend.
      std::vector<std::string> ins = step.runtime_inputs(g);
      graph::Graph sub = graph::extract_subgraph(g, ins, step.node.outputs, step.node.name);
      for (auto& o : sub.outputs)
        if (o.empty()) o = sub.unique_name("unused");
      if (plans.empty())
        spdlog::warn("fast backend: {} runs on the reference backend ({})", step.node.describe(), why_not);
      kernel = std::make_unique<FallbackKernel>(make_session("reference", sub, options), ins, g, step.node.outputs);
      ++p.stats.fallback_steps;
    }
    kernels.push_back(std::move(kernel));
  }
  std::vector<ActivationLayout> layouts = choose_layouts(g, kernels, batch, p.stats);
  int64_t convolutions = 0;

  for (size_t k = 0; k < steps.size(); ++k) {
    const FusedStep& step = steps[k];
    std::unique_ptr<Kernel>& kernel = kernels[k];
    std::vector<std::string> ins = step.runtime_inputs(g);
    KernelPlan kp;
    kp.layout = layouts[k];
    kp.scratchpad = p.scratchpad;
    kp.constants = constants;
    for (const auto& in : ins) kp.inputs.push_back(info[current.at(in)].desc);
    kernel->plan(engine, kp);
    if (step.node.op_type == "Conv" && !kp.outputs.empty()) {  // what was planned, not asked
      const auto& blocking = kp.outputs[0].data.format_desc.blocking;
      bool blocked = blocking.inner_nblks == 1 && blocking.inner_idxs[0] == 1;
      ++convolutions;
      p.stats.blocked_convolutions += blocked;
      p.stats.winograd_convolutions += kp.winograd;
    }
    Exec e;
    e.name = step.node.name;
    e.op_type = step.node.op_type;
    e.fused = step.fused_nodes;
    e.kernel = kernel.get();
    for (size_t i = 0; i < ins.size(); ++i) {
      int s = slot_in_layout(ins[i], kp.inputs[i]);
      e.in.push_back(s);
    }
    int index = static_cast<int>(p.execs.size());
    for (int s : e.in) info[s].last_use = index;
    for (size_t i = 0; i < step.node.outputs.size(); ++i) {
      const std::string& name = step.node.outputs[i];
      if (name.empty()) {
        e.out.push_back(-1);
        continue;
      }
      int s = new_slot(kp.outputs.at(i), index);
      if (i < kp.alias.size() && kp.alias[i] >= 0) info[s].alias_of = e.in[kp.alias[i]];
      current[name] = s;
      e.out.push_back(s);
    }
    if (kp.sum_input >= 0) e.sum_from = e.in[kp.sum_input];
    e.input_offsets = kp.input_offsets;
    p.stats.fused_nodes += static_cast<int64_t>(step.fused_nodes.size());
    p.kernels.push_back(std::move(kernel));
    p.execs.push_back(std::move(e));
  }
  for (const auto& name : g.outputs) {
    if (g.is_initializer(name)) continue;
    int s = current.at(name);
    info[s].pinned = true;
    p.output_slots[name] = s;
  }

  // Concatenations by placement: where a concatenation's inputs are contiguous ranges of its
  // output, their producers write them there and the copy is skipped (SqueezeNet's and
  // GoogLeNet's channel concatenations at batch 1). Not for graph inputs and outputs (their
  // buffers are the caller's to read), views of other values (their buffer is their source's),
  // or a value concatenated twice.
  for (Exec& e : p.execs) {
    if (e.input_offsets.empty()) continue;
    bool placeable = e.input_offsets.size() == e.in.size();
    for (size_t i = 0; i < e.in.size() && placeable; ++i) {
      const SlotInfo& part = info[e.in[i]];
      placeable = !part.pinned && part.alias_of < 0 && part.producer >= 0 && part.placed_in < 0 &&
                  std::count(e.in.begin(), e.in.end(), e.in[i]) == 1;
    }
    if (!placeable) continue;
    for (size_t i = 0; i < e.in.size(); ++i) {
      info[e.in[i]].placed_in = e.out[0];
      info[e.in[i]].offset = e.input_offsets[i];
    }
    e.elided = true;
  }

  // Activation memory: one arena, every slot at an offset no slot alive at the same step
  // overlaps (memory_plan.h). A residual sum accumulates in its operand's bytes when the
  // operand dies there (the copy into the output is then skipped).
  std::vector<MemorySlot> mslots(info.size());
  const int end_of_run = static_cast<int>(p.execs.size());
  for (size_t s = 0; s < info.size(); ++s) {
    mslots[s].bytes = info[s].desc.get_size();
    mslots[s].first = info[s].producer;
    mslots[s].last = info[s].pinned ? end_of_run : info[s].last_use;
    mslots[s].alias_of = info[s].alias_of;
    mslots[s].placed_in = info[s].placed_in;
    mslots[s].offset = info[s].offset;
  }
  std::vector<InPlaceSum> sums;
  std::vector<int> sum_exec;
  for (size_t k = 0; k < p.execs.size(); ++k) {
    const Exec& e = p.execs[k];
    // Not when the step also reads the operand as another input (y = Conv(x) + x): the
    // primitive would overwrite its source while reading it.
    if (e.sum_from >= 0 && !e.out.empty() && e.out[0] >= 0 && !info[e.sum_from].pinned &&
        std::count(e.in.begin(), e.in.end(), e.sum_from) == 1) {
      sums.push_back({static_cast<int>(k), e.sum_from, e.out[0]});
      sum_exec.push_back(static_cast<int>(k));
    }
  }
  MemoryPlan memory_plan = plan_memory(mslots, sums);
  for (size_t i = 0; i < sums.size(); ++i)
    if (memory_plan.sum_in_place[i]) p.execs[sum_exec[i]].sum_from = -1;
  p.activations = {memory_plan.arena_bytes, aligned_buffer(memory_plan.arena_bytes, "the activation buffers")};
  p.stats.activation_bytes = static_cast<int64_t>(memory_plan.arena_bytes);
  p.stats.peak_live_activation_bytes = static_cast<int64_t>(memory_plan.peak_live_bytes);
  for (const auto& si : info)
    p.stats.unshared_activation_bytes += si.alias_of >= 0 ? 0 : static_cast<int64_t>(si.desc.get_size());
  for (size_t s = 0; s < info.size(); ++s)
    p.slots.emplace_back(info[s].desc, engine, p.activations.data.get() + memory_plan.offsets[s]);
  p.stats.elided_concats = std::count_if(p.execs.begin(), p.execs.end(), [](const Exec& e) { return e.elided; });
  std::erase_if(p.execs, [](const Exec& e) { return e.elided; });
  p.scratchpad->allocate();
  p.stats.scratchpad_bytes = static_cast<int64_t>(p.scratchpad->bytes());
  p.stats.layout = p.stats.blocked_convolutions == 0              ? "library"
                   : p.stats.blocked_convolutions == convolutions ? "blocked"
                                                                  : "mixed";
  p.stats.batch = batch;
  p.stats.steps = static_cast<int64_t>(p.execs.size());
}

std::vector<ActivationLayout> FastSession::Impl::choose_layouts(const graph::Graph& g,
                                                                std::vector<std::unique_ptr<Kernel>>& kernels,
                                                                int64_t batch, FastPlanStats& stats) {
  const dnnl::engine& engine = cpu_engine();
  if (options.layout != "auto") {
    auto uniform = options.layout == "blocked" ? ActivationLayout::kChannelBlocked : ActivationLayout::kLibraryChoice;
    return std::vector<ActivationLayout>(steps.size(), uniform);
  }
  // Measured at a batch of at most 8: the layouts' relative speeds are those of the plan's batch
  // (the working sets are past the caches already) at a quarter of the timing cost at 32.
  int64_t timing_batch = std::min<int64_t>(batch, 8);
  auto t0 = std::chrono::steady_clock::now();
  // The primitives timed here are not used again (+230 MiB for ResNet-50 at batch 32 if cached).
  PrimitiveCacheOff no_cache;
  LayoutPlanInputs in;
  in.is_conv.assign(steps.size(), false);
  in.conv.resize(steps.size());
  for (size_t k = 0; k < steps.size(); ++k)
    if (auto t = kernels[k]->time_layouts(engine, timing_batch)) {
      in.is_conv[k] = true;
      in.conv[k] = *t;
    }
  std::map<std::tuple<graph::Shape, ValueLayout, ValueLayout>, double> reorders;
  in.reorder_ms = [&](const std::string& value, ValueLayout from, ValueLayout to) {
    graph::Shape shape = g.value(value).shape;
    shape[0] = timing_batch;
    auto key = std::make_tuple(shape, from, to);
    if (auto it = reorders.find(key); it != reorders.end()) return it->second;
    auto desc = [&](ValueLayout l) {
      using tag = memory::format_tag;
      return memory::desc(to_dims(shape), memory::data_type::f32,
                          l == ValueLayout::kPlain     ? tag::abcd
                          : l == ValueLayout::kLibrary ? tag::acdb
                                                       : tag::aBcd16b);
    };
    memory a = zero_memory(desc(from), engine), b = zero_memory(desc(to), engine);
    dnnl::reorder r(dnnl::reorder::primitive_desc(engine, a.get_desc(), engine, b.get_desc()));
    return reorders[key] = time_best_ms([&](dnnl::stream& s) { r.execute(s, a, b); }, engine);
  };
  std::vector<ActivationLayout> layouts = plan_layouts(g, steps, in);
  stats.layout_planning_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return layouts;
}

Plan& FastSession::Impl::prepare(const TensorMap& inputs) {
  int64_t batch = check_inputs(optimized, inputs);
  omp_set_num_threads(options.threads);
  Plan& p = plan_for(batch);
  if (poison) {
    float* f = reinterpret_cast<float*>(p.activations.data.get());
    std::fill(f, f + p.activations.bytes / sizeof(float), std::numeric_limits<float>::quiet_NaN());
  }
  for (const auto& [name, slot] : p.input_slots) {
    const graph::Tensor& t = inputs.at(name);
    std::memcpy(p.slots[slot].get_data_handle(), t.raw(), t.nbytes());
  }
  return p;
}

Plan& FastSession::Impl::plan_for(int64_t batch) {
  auto it = plans.find(batch);
  if (it != plans.end()) return *it->second;
  auto p = std::make_unique<Plan>();
  build(*p, batch);
  return *plans.emplace(batch, std::move(p)).first->second;
}

namespace {

// Runs every step of the plan; with `ms`, synchronises after each and records its time.
void execute_plan(Plan& p, dnnl::stream& stream, std::vector<double>* ms) {
  std::vector<memory> in, out;
  for (size_t k = 0; k < p.execs.size(); ++k) {
    Exec& e = p.execs[k];
    auto t0 = std::chrono::steady_clock::now();
    if (e.kernel == nullptr) {
      e.reorder.execute(stream, {{DNNL_ARG_FROM, p.slots[e.in[0]]}, {DNNL_ARG_TO, p.slots[e.out[0]]}});
    } else {
      in.clear();
      out.clear();
      for (int s : e.in) in.push_back(p.slots[s]);
      for (int s : e.out) out.push_back(s < 0 ? memory() : p.slots[s]);
      if (e.sum_from >= 0)
        std::memcpy(out[0].get_data_handle(), p.slots[e.sum_from].get_data_handle(), out[0].get_desc().get_size());
      e.kernel->execute(stream, in, out);
    }
    if (ms) {
      stream.wait();
      (*ms)[k] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
  }
  stream.wait();
}

}  // namespace

std::vector<StepTiming> FastSession::profile(const TensorMap& inputs, int runs) {
  Plan& p = impl_->prepare(inputs);
  std::vector<std::vector<double>> samples(p.execs.size());
  std::vector<double> ms(p.execs.size());
  execute_plan(p, impl_->stream, nullptr);  // warm-up
  for (int r = 0; r < std::max(runs, 1); ++r) {
    execute_plan(p, impl_->stream, &ms);
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

FastSession::FastSession(const graph::Graph& graph, const SessionOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->optimized = graph;
  // QDQ patterns run as integer ops: convolutions on oneDNN (kernels/quantized_conv.cpp).
  graph::remove_identities(impl_->optimized);
  graph::fuse_qdq(impl_->optimized);
  fuse_quantized_lookups(impl_->optimized);  // SiLU and the like between DQ and Q: a table
  // Every activation but Erf has a oneDNN post-op (post_op_attr).
  impl_->steps = fuse_graph(impl_->optimized, [](Activation a) { return a != Activation::kErf; });
  if (options.layout != "auto" && options.layout != "library" && options.layout != "blocked")
    fail("layout '{}': expected auto, library or blocked", options.layout);
  if (options.conv_algorithm != "auto" && options.conv_algorithm != "direct" && options.conv_algorithm != "winograd")
    fail("convolution algorithm '{}': expected auto, direct or winograd", options.conv_algorithm);
  if (options.conv_algorithm == "winograd" && options.layout == "library")
    fail(
        "convolution algorithm 'winograd' runs on channel-blocked activations; it does not combine with layout "
        "'library'");
  omp_set_num_threads(options.threads);
  impl_->plan_for(graph::graph_batch(impl_->optimized));
}

FastSession::~FastSession() = default;

const graph::Graph& FastSession::graph() const { return impl_->optimized; }

FastPlanStats FastSession::plan_stats(int64_t batch) { return impl_->plan_for(batch).stats; }

int64_t FastSession::held_bytes() const {
  int64_t bytes = 0;
  for (const auto& [batch, p] : impl_->plans) bytes += p->stats.activation_bytes + p->stats.scratchpad_bytes;
  return bytes;
}

TensorMap FastSession::run(const TensorMap& inputs) {
  Plan& p = impl_->prepare(inputs);
  dnnl::stream& stream = impl_->stream;
  execute_plan(p, stream, nullptr);
  TensorMap results;
  const dnnl::engine& engine = cpu_engine();
  for (const auto& name : p.graph.outputs) {
    const graph::ValueInfo& v = p.graph.value(name);
    if (const graph::Tensor* c = p.graph.initializer(name)) {
      results[name] = c->clone();
      continue;
    }
    graph::Tensor t(v.dtype, v.shape);
    memory& src = p.slots[p.output_slots.at(name)];
    memory::desc plain = value_desc(v);
    if (src.get_desc() == plain) {
      std::memcpy(t.raw(), src.get_data_handle(), t.nbytes());
    } else {
      memory dst(plain, engine, t.raw());
      dnnl::reorder(src, dst).execute(stream, src, dst);
      stream.wait();
    }
    results[name] = t;
  }
  return results;
}

std::string cpu_features() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::avx512_core_amx:
      return "avx512_core_amx";
    case isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case isa::avx512_core:
      return "avx512_core";
    case isa::avx2_vnni:
      return "avx2_vnni";
    case isa::avx2:
      return "avx2";
    case isa::avx:
      return "avx";
    case isa::sse41:
      return "sse41";
    default:
      return "generic (no oneDNN JIT kernels)";
  }
}

void register_fast_backend() {
  static bool done = register_backend("fast", [](const graph::Graph& g, const SessionOptions& o) {
    return std::unique_ptr<Session>(new FastSession(g, o));
  });
  (void)done;
}

}  // namespace fluidedge::runtime::fast

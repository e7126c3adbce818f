#include "cluster/node_link.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "cluster/channel_settings.h"
#include "common/error.h"

namespace fluidedge::cluster {
namespace {
using Clock = std::chrono::steady_clock;

}  // namespace

// One Infer stream: a writer thread drains the send queue (so a slow or silent peer never blocks
// the caller), a reader thread delivers replies until the stream ends.
struct NodeLink::Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<wire::InferRequest, wire::InferReply>> rw;
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<wire::InferRequest> outbox;
  bool closing = false;
  bool ended = false;
  std::thread reader, writer;

  void close() {
    {
      std::lock_guard lock(mutex);
      closing = true;
    }
    ready.notify_all();
    context.TryCancel();
  }
  void join() {
    if (reader.joinable()) reader.join();
    if (writer.joinable()) writer.join();
  }
};

NodeLink::NodeLink(std::string name, std::string address, DetectorSettings detector, NodeLinkEvents events,
                   const TlsIdentity& tls)
    : name_(std::move(name)),
      address_(std::move(address)),
      detector_(detector),
      events_(std::move(events)),
      prober_(
          detector, [this] { return health_.get(); }, [this](const std::string& why) { probed(why); }) {
  channel_ = make_channel(address_, tls, name_);
  probe_channel_ = make_channel(address_, tls, name_);
  stub_ = wire::DeviceNode::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(probe_channel_);
}

NodeLink::~NodeLink() { stop(); }

void NodeLink::start() { prober_.start(); }

void NodeLink::stop() {
  prober_.stop();
  std::vector<std::shared_ptr<Stream>> all;
  {
    std::lock_guard lock(mutex_);
    if (stream_) all.push_back(stream_);
    stream_.reset();
    all.insert(all.end(), retired_.begin(), retired_.end());
    retired_.clear();
  }
  for (auto& s : all) s->close();
  for (auto& s : all) s->join();
}

void NodeLink::probed(const std::string& why) {
  if (why.empty() && !up_.exchange(true)) {
    if (events_.up) events_.up();
  } else if (!why.empty() && up_.load()) {
    mark_down(why);
  }
}

void NodeLink::mark_down(const std::string& reason) {
  if (!up_.exchange(false)) return;
  {
    std::lock_guard lock(mutex_);
    if (stream_) {
      stream_->close();
      retired_.push_back(stream_);
      stream_.reset();
    }
  }
  spdlog::debug("{} ({}) down: {}", name_, address_, reason);
  if (events_.down) events_.down(reason);
}

wire::DeployReply NodeLink::deploy(const wire::DeployRequest& request, int timeout_ms) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  wire::DeployReply reply;
  grpc::Status status = stub_->Deploy(&context, request, &reply);
  if (!status.ok())
    fail("node '{}' ({}): deploying part '{}' failed: {}", name_, address_, request.part(), status_text(status));
  return reply;
}

wire::NodeStats NodeLink::stats(int timeout_ms) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  wire::NodeStats reply;
  grpc::Status status = stub_->Stats(&context, wire::StatsRequest(), &reply);
  if (!status.ok()) fail("node '{}' ({}): stats: {}", name_, address_, status_text(status));
  return reply;
}

void NodeLink::open_stream() {
  auto stream = std::make_shared<Stream>();
  stream->rw = stub_->Infer(&stream->context);
  std::weak_ptr<Stream> weak = stream;
  stream->writer = std::thread([this, s = stream.get(), weak] {
    while (true) {
      wire::InferRequest request;
      {
        std::unique_lock lock(s->mutex);
        s->ready.wait(lock, [&] { return s->closing || !s->outbox.empty(); });
        if (s->closing) return;
        request = std::move(s->outbox.front());
        s->outbox.pop_front();
      }
      if (!s->rw->Write(request)) {
        if (auto strong = weak.lock()) stream_ended(strong, "stream write failed");
        return;
      }
    }
  });
  stream->reader = std::thread([this, s = stream.get(), weak] {
    wire::InferReply reply;
    while (s->rw->Read(&reply)) {
      if (events_.reply) events_.reply(reply);
    }
    {
      std::lock_guard lock(s->mutex);
      s->closing = true;
    }
    s->ready.notify_all();
    grpc::Status status = s->rw->Finish();
    if (auto strong = weak.lock()) stream_ended(strong, "stream closed: " + status_text(status));
    std::lock_guard lock(s->mutex);
    s->ended = true;
  });
  std::vector<std::shared_ptr<Stream>> finished;
  {
    std::lock_guard lock(mutex_);
    if (stream_) {
      stream_->close();
      retired_.push_back(stream_);
    }
    stream_ = stream;
    // Streams whose reader has ended are joined here, never from their own threads.
    for (auto it = retired_.begin(); it != retired_.end();) {
      bool ended;
      {
        std::lock_guard slock((*it)->mutex);
        ended = (*it)->ended;
      }
      if (ended) {
        finished.push_back(*it);
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : finished) s->join();
}

void NodeLink::stream_ended(const std::shared_ptr<Stream>& stream, const std::string& reason) {
  bool current;
  {
    std::lock_guard lock(mutex_);
    current = stream_ == stream;
  }
  if (current) mark_down(reason);
}

bool NodeLink::send(wire::InferRequest request) {
  if (!up_) return false;
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mutex_);
    stream = stream_;
  }
  if (!stream) return false;
  {
    std::lock_guard lock(stream->mutex);
    if (stream->closing) return false;
    stream->outbox.push_back(std::move(request));
  }
  stream->ready.notify_one();
  return true;
}

}  // namespace fluidedge::cluster

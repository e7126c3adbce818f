#include "cluster/channel_settings.h"

#include <mutex>

#include <grpc/support/log.h>
#include <spdlog/spdlog.h>

#include "cluster/wire.h"

namespace fluidedge::cluster {
namespace {
constexpr int kKeepaliveMs = 1000;        // ping an idle connection every second...
constexpr int kKeepaliveTimeoutMs = 500;  // ...and drop it if the ack takes longer than this

// gRPC's own log lines ("E1123 ... chttp2_server.cc ... Servname not supported") would reach the
// user next to fluidedge's one-line error for the same event. They go to fluidedge's log at debug
// level instead, where whoever debugs the transport finds them.
void log_grpc_message(gpr_log_func_args* args) {
  spdlog::debug("grpc {}:{}: {}", args->file, args->line, args->message);
}

void route_grpc_logs() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(log_grpc_message); });
}
}  // namespace

void apply_server_settings(grpc::ServerBuilder& builder) {
  route_grpc_logs();
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Accept the clients' pings at their rate instead of answering GOAWAY "too_many_pings".
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, kKeepaliveMs / 2);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // gRPC sets SO_REUSEPORT by default: a second node on a taken port would silently share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const TlsIdentity& tls,
                                            const std::string& peer) {
  route_grpc_logs();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Reconnect quickly after a peer comes back: rejoin should not wait for a long backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  // Each channel its own connection: gRPC would otherwise share one subchannel per address.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (tls.enabled() && !peer.empty()) args.SetSslTargetNameOverride(peer);
  return grpc::CreateCustomChannel(address, channel_credentials(tls), args);
}

std::string status_text(const grpc::Status& status) {
  static const char* names[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  int code = status.error_code();
  std::string name = code >= 0 && code <= 16 ? names[code] : std::to_string(code);
  return status.error_message().empty() ? name : name + ": " + status.error_message();
}

}  // namespace fluidedge::cluster

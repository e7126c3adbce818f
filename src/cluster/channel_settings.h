// The transport settings every fluidedge channel and server share, chosen deliberately:
// message size limits (kMaxMessageBytes both ways), keepalive pings on every channel so a silent
// peer is noticed even when no call is active, and servers that accept those pings.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "cluster/tls.h"

namespace fluidedge::cluster {

void apply_server_settings(grpc::ServerBuilder& builder);

// A channel to `address` with fluidedge's settings: mutual TLS presenting `tls` and accepting
// only a certificate that names `peer` (plaintext when `tls` is empty). Channels are not shared:
// each peer gets its own TCP connection, so one dead peer cannot stall another's traffic.
std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const TlsIdentity& tls = {},
                                            const std::string& peer = "");

// A status for messages: "UNAVAILABLE: failed to connect ...".
std::string status_text(const grpc::Status& status);

}  // namespace fluidedge::cluster

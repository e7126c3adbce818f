// Mutual TLS between every client and node: a cluster's own certificate authority, the
// certificates it issues (one per node or client, the name in its subjectAltName), and the gRPC
// credentials made from them. A node accepts only peers whose certificate that CA signed, and a
// client accepts only nodes whose certificate names the node it meant.
//
//   fluidedge certs init --out ca/                       -> ca/ca.pem, ca/ca-key.pem
//   fluidedge certs issue --ca ca/ --name dev1 --out dev1/  -> dev1/ca.pem, cert.pem, key.pem
//   fluidedge node --name dev1 --tls dev1/
//   cluster.yaml: tls: client/      (or fluidedge infer --tls client/)
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

namespace fluidedge::cluster {

// A certificate and its private key, PEM.
struct CertifiedKey {
  std::string cert_pem, key_pem;
};

// A new certificate authority (EC P-256, self-signed) valid for `days`.
CertifiedKey make_certificate_authority(const std::string& name, int days);

// A certificate for `name` (a node's or client's; DNS name in subjectAltName, usable as server
// and client) signed by `ca`, valid from `not_before` to `not_after`.
CertifiedKey issue_certificate(const CertifiedKey& ca, const std::string& name,
                               std::chrono::system_clock::time_point not_before,
                               std::chrono::system_clock::time_point not_after);

// Writes `ca` to DIR/ca.pem and DIR/ca-key.pem (the key readable by its owner only).
void write_certificate_authority(const CertifiedKey& ca, const std::string& dir);
// Reads DIR/ca.pem and DIR/ca-key.pem; each mistake (missing file, not PEM, key not the
// certificate's, not a CA) is one Error naming the file.
CertifiedKey read_certificate_authority(const std::string& dir);

// What a node or client presents: its certificate and key, and the CA it trusts. Empty: plaintext.
struct TlsIdentity {
  std::string dir;   // where it was read from
  std::string name;  // the certificate's subjectAltName (or common name)
  std::string ca_pem, cert_pem, key_pem;
  bool enabled() const { return !cert_pem.empty(); }
};

// Writes DIR/ca.pem, DIR/cert.pem and DIR/key.pem (the key readable by its owner only).
void write_identity(const CertifiedKey& ca, const CertifiedKey& leaf, const std::string& dir);
// Reads and checks DIR/ca.pem, DIR/cert.pem and DIR/key.pem: each mistake (a missing file, a
// key that is not the certificate's, a certificate the CA did not sign, one expired or not yet
// valid) is one Error naming the file and why.
TlsIdentity read_identity(const std::string& dir);

// The server's credentials: TLS with a client certificate required and verified against the
// identity's CA; plaintext when the identity is empty.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsIdentity& identity);
// The channel's credentials: TLS presenting the identity's certificate and trusting its CA;
// plaintext when it is empty.
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const TlsIdentity& identity);

// A throwaway certificate authority in DIR/ca and a certificate for each of `names` in DIR/NAME
// (the benches' local clusters run with mutual TLS like any other).
void make_local_certificates(const std::string& dir, const std::vector<std::string>& names);

// The security of a local cluster of node processes (the benches'): with `on`, a throwaway CA
// and certificates for each node and the client in a temporary directory, removed with it, so
// the cluster runs with mutual TLS like a deployed one; without, plaintext.
class LocalCertificates {
 public:
  LocalCertificates(bool on, const std::vector<std::string>& nodes, const std::string& label);
  ~LocalCertificates();
  LocalCertificates(const LocalCertificates&) = delete;
  LocalCertificates& operator=(const LocalCertificates&) = delete;

  // The node command's arguments for node `name`: {"--tls", DIR} or {"--insecure"}.
  std::vector<std::string> node_arguments(const std::string& name) const;
  // The cluster.yaml line giving the client its certificate ("" without TLS).
  std::string cluster_yaml() const;
  // What the client presents (empty without TLS).
  const TlsIdentity& client() const { return client_; }

 private:
  std::string dir_;  // empty: plaintext
  TlsIdentity client_;
};

// Who called, as its certificate names it ("" on a plaintext server).
std::string peer_name(const grpc::ServerContext& context);

}  // namespace fluidedge::cluster

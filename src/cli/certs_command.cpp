// `fluidedge certs init|issue`: a cluster's certificate authority and the certificates it issues
// to nodes and clients; and the --tls DIR / --insecure choice every node and client makes.
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"

namespace fluidedge::cli {

namespace {

struct CertsOptions {
  std::string out;
  std::string ca;
  std::string name;
  int days = 0;
};

}  // namespace

void add_tls_options(CLI::App* cmd, TlsChoice& choice, const std::string& what_dir_holds) {
  cmd->add_option("--tls", choice.dir, "Mutual TLS: DIR holds " + what_dir_holds);
  cmd->add_flag("--insecure", choice.insecure,
                "Plaintext, no authentication: anyone who reaches the port can deploy models and read results "
                "(only on a network you trust)");
}

cluster::TlsIdentity resolve_tls(const TlsChoice& choice) {
  if (!choice.dir.empty() && choice.insecure) fail("--tls and --insecure: choose one");
  if (choice.insecure) return {};
  if (choice.dir.empty())
    fail(
        "--tls DIR is needed (a certificate from `fluidedge certs issue`), or --insecure for plaintext on a "
        "network you trust");
  try {
    return cluster::read_identity(choice.dir);
  } catch (const Error& e) {
    fail("--tls: {}", e.what());
  }
}

void add_certs_command(CLI::App& app) {
  auto* certs = app.add_subcommand("certs", "Certificates for mutual TLS between nodes and clients");
  certs->require_subcommand(1);

  auto init = std::make_shared<CertsOptions>();
  init->days = 3650;
  init->name = "fluidedge cluster CA";
  auto* i = certs->add_subcommand("init", "Make a cluster's certificate authority: DIR/ca.pem and DIR/ca-key.pem");
  i->add_option("--out", init->out, "Directory for the CA (its key is readable by its owner only)")->required();
  i->add_option("--name", init->name, "The CA's common name")->capture_default_str();
  i->add_option("--days", init->days, "Validity in days")->check(CLI::Range(1, 36500))->capture_default_str();
  i->callback([init] {
    cluster::write_certificate_authority(cluster::make_certificate_authority(init->name, init->days), init->out);
    std::cout << fmt::format(
        "certificate authority in {}/ca.pem (key: {}/ca-key.pem, keep it private); issue "
        "certificates with `fluidedge certs issue --ca {} --name NAME --out DIR`\n",
        init->out, init->out, init->out);
  });

  auto issue = std::make_shared<CertsOptions>();
  issue->days = 825;
  auto* s = certs->add_subcommand("issue", "Issue a node's or client's certificate: DIR/cert.pem, key.pem and ca.pem");
  s->add_option("--ca", issue->ca, "Directory of the CA (`fluidedge certs init`)")->required();
  s->add_option("--name", issue->name, "The node's name (as in cluster.yaml and `node --name`), or the client's")
      ->required();
  s->add_option("--out", issue->out, "Directory for the certificate (give it to `node --tls` or `tls:`)")->required();
  s->add_option("--days", issue->days, "Validity in days")->check(CLI::Range(1, 36500))->capture_default_str();
  s->callback([issue] {
    cluster::CertifiedKey ca = cluster::read_certificate_authority(issue->ca);
    auto now = std::chrono::system_clock::now();
    cluster::CertifiedKey leaf = cluster::issue_certificate(ca, issue->name, now - std::chrono::minutes(5),
                                                            now + std::chrono::hours(24) * issue->days);
    cluster::write_identity(ca, leaf, issue->out);
    std::cout << fmt::format("certificate for '{}' in {} (cert.pem, key.pem, ca.pem), valid {} days\n", issue->name,
                             issue->out, issue->days);
  });
}

}  // namespace fluidedge::cli

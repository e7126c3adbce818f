#include "cluster/tls.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/files.h"

namespace fluidedge::cluster {

namespace {

namespace fs = std::filesystem;

struct Free {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

// The last OpenSSL error as text (and the queue cleared).
std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

void check(int ok, const char* what) {
  if (ok != 1) fail("TLS: {} failed: {}", what, openssl_error());
}

// What `write` puts into a memory BIO, as text.
template <typename Write>
std::string pem_text(Write&& write, const char* what) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  check(write(bio.get()), what);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string pem_of(X509* cert) {
  return pem_text([&](BIO* bio) { return PEM_write_bio_X509(bio, cert); }, "writing a certificate");
}

std::string pem_of(EVP_PKEY* key) {
  return pem_text([&](BIO* bio) { return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); },
                  "writing a key");
}

Owned<X509> parse_cert(const std::string& pem, const std::string& file) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Owned<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    fail("{}: not a PEM certificate", file);
  }
  return cert;
}

Owned<EVP_PKEY> parse_key(const std::string& pem, const std::string& file) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Owned<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    fail("{}: not a PEM private key", file);
  }
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) fail("TLS: making the {} extension failed: {}", OBJ_nid2sn(nid), openssl_error());
  check(X509_add_ext(cert, ext.get(), -1), "adding an extension");
}

int64_t seconds_from_now(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t - std::chrono::system_clock::now()).count();
}

// A certificate for `name` with a new P-256 key, signed by `issuer` (itself when null).
CertifiedKey make_certificate(const std::string& name, const CertifiedKey* issuer,
                              std::chrono::system_clock::time_point not_before,
                              std::chrono::system_clock::time_point not_after) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) fail("TLS: making a key failed: {}", openssl_error());
  Owned<X509> cert(X509_new());
  check(X509_set_version(cert.get(), 2), "setting the version");
  Owned<BIGNUM> serial(BN_new());
  check(BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "drawing a serial number");
  if (!BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) fail("TLS: setting the serial failed");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), seconds_from_now(not_before));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), seconds_from_now(not_after));
  check(X509_set_pubkey(cert.get(), key.get()), "setting the public key");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("fluidedge"), -1,
                                   -1, 0),
        "naming the organisation");
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(name.c_str()),
                                   -1, -1, 0),
        "naming the subject");

  Owned<X509> issuer_cert;
  Owned<EVP_PKEY> issuer_key;
  if (issuer) {
    issuer_cert = parse_cert(issuer->cert_pem, "the CA certificate");
    issuer_key = parse_key(issuer->key_pem, "the CA key");
  }
  X509* signer = issuer ? issuer_cert.get() : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)), "setting the issuer");
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer) {
    add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyAgreement");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    add_extension(cert.get(), signer, NID_subject_alt_name, "DNS:" + name);
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  if (X509_sign(cert.get(), issuer ? issuer_key.get() : key.get(), EVP_sha256()) == 0)
    fail("TLS: signing the certificate failed: {}", openssl_error());
  return {pem_of(cert.get()), pem_of(key.get())};
}

// Created readable by its owner only (the umask covers the temporary file too).
void write_private(const fs::path& file, const std::string& text) {
  mode_t previous = ::umask(077);
  try {
    write_file_atomically(file.string(), "", text);
  } catch (...) {
    ::umask(previous);
    throw;
  }
  ::umask(previous);
  ::chmod(file.c_str(), 0600);
}

void write_public(const fs::path& file, const std::string& text) { write_file_atomically(file.string(), "", text); }

// The certificate's first DNS subjectAltName, else its common name.
std::string certificate_name(X509* cert) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  std::string found;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && found.empty(); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS)
      found.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                   ASN1_STRING_length(n->d.dNSName));
  }
  GENERAL_NAMES_free(names);
  if (!found.empty()) return found;
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  return cn;
}

}  // namespace

CertifiedKey make_certificate_authority(const std::string& name, int days) {
  auto now = std::chrono::system_clock::now();
  return make_certificate(name, nullptr, now - std::chrono::minutes(5), now + std::chrono::hours(24) * days);
}

CertifiedKey issue_certificate(const CertifiedKey& ca, const std::string& name,
                               std::chrono::system_clock::time_point not_before,
                               std::chrono::system_clock::time_point not_after) {
  if (name.empty() ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != std::string::npos)
    fail("--name '{}': a certificate name is letters, digits, '-' and '.' (it is a DNS name in the certificate)", name);
  return make_certificate(name, &ca, not_before, not_after);
}

void write_certificate_authority(const CertifiedKey& ca, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the directory: {}", dir, ec.message());
  write_private(fs::path(dir) / "ca-key.pem", ca.key_pem);
  write_public(fs::path(dir) / "ca.pem", ca.cert_pem);
}

CertifiedKey read_certificate_authority(const std::string& dir) {
  fs::path cert_file = fs::path(dir) / "ca.pem", key_file = fs::path(dir) / "ca-key.pem";
  CertifiedKey ca{read_file(cert_file.string(), "the CA certificate"), read_file(key_file.string(), "the CA key")};
  Owned<X509> cert = parse_cert(ca.cert_pem, cert_file.string());
  Owned<EVP_PKEY> key = parse_key(ca.key_pem, key_file.string());
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    fail("{}: not the key of {}", key_file.string(), cert_file.string());
  }
  if (X509_check_ca(cert.get()) == 0)
    fail("{}: not a certificate authority (made by `fluidedge certs init`?)", cert_file.string());
  return ca;
}

void write_identity(const CertifiedKey& ca, const CertifiedKey& leaf, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the directory: {}", dir, ec.message());
  write_private(fs::path(dir) / "key.pem", leaf.key_pem);
  write_public(fs::path(dir) / "cert.pem", leaf.cert_pem);
  write_public(fs::path(dir) / "ca.pem", ca.cert_pem);
}

TlsIdentity read_identity(const std::string& dir) {
  if (!fs::is_directory(dir)) fail("{}: not a directory of certificates (make one with `fluidedge certs issue`)", dir);
  fs::path ca_file = fs::path(dir) / "ca.pem", cert_file = fs::path(dir) / "cert.pem",
           key_file = fs::path(dir) / "key.pem";
  TlsIdentity id;
  id.dir = dir;
  id.ca_pem = read_file(ca_file.string(), "the cluster's CA certificate");
  id.cert_pem = read_file(cert_file.string(), "this peer's certificate");
  id.key_pem = read_file(key_file.string(), "this peer's private key");
  Owned<X509> ca = parse_cert(id.ca_pem, ca_file.string());
  Owned<X509> cert = parse_cert(id.cert_pem, cert_file.string());
  Owned<EVP_PKEY> key = parse_key(id.key_pem, key_file.string());
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    fail("{}: not the key of {}", key_file.string(), cert_file.string());
  }
  Owned<X509_STORE> store(X509_STORE_new());
  check(X509_STORE_add_cert(store.get(), ca.get()), "trusting the CA");
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  check(X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr), "preparing the check");
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    fail("{}: {} (checked against {})", cert_file.string(), X509_verify_cert_error_string(err), ca_file.string());
  }
  id.name = certificate_name(cert.get());
  return id;
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsIdentity& identity) {
  if (!identity.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = identity.ca_pem;
  options.pem_key_cert_pairs.push_back({identity.key_pem, identity.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const TlsIdentity& identity) {
  if (!identity.enabled()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = identity.ca_pem;
  options.pem_private_key = identity.key_pem;
  options.pem_cert_chain = identity.cert_pem;
  return grpc::SslCredentials(options);
}

void make_local_certificates(const std::string& dir, const std::vector<std::string>& names) {
  CertifiedKey ca = make_certificate_authority("fluidedge local cluster CA", 2);
  write_certificate_authority(ca, (fs::path(dir) / "ca").string());
  auto now = std::chrono::system_clock::now();
  for (const auto& name : names)
    write_identity(ca, issue_certificate(ca, name, now - std::chrono::minutes(5), now + std::chrono::hours(48)),
                   (fs::path(dir) / name).string());
}

LocalCertificates::LocalCertificates(bool on, const std::vector<std::string>& nodes, const std::string& label) {
  if (!on) return;
  dir_ = (fs::temp_directory_path() / ("fluidedge-" + label + "-certs-" + std::to_string(::getpid()))).string();
  std::vector<std::string> names = nodes;
  names.push_back("client");
  make_local_certificates(dir_, names);
  client_ = read_identity((fs::path(dir_) / "client").string());
}

LocalCertificates::~LocalCertificates() {
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

std::vector<std::string> LocalCertificates::node_arguments(const std::string& name) const {
  if (dir_.empty()) return {"--insecure"};
  return {"--tls", (fs::path(dir_) / name).string()};
}

std::string LocalCertificates::cluster_yaml() const {
  return dir_.empty() ? "" : "tls: " + (fs::path(dir_) / "client").string() + "\n";
}

std::string peer_name(const grpc::ServerContext& context) {
  auto auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return "";
  for (const auto& id : auth->GetPeerIdentity()) return std::string(id.data(), id.size());
  return "";
}

}  // namespace fluidedge::cluster

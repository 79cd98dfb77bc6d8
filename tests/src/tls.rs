//! Certificates made at test time: a CA, a server certificate for `localhost` and `127.0.0.1`,
//! and a client certificate for mutual TLS.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// PEM files in a temporary directory, removed on drop.
#[derive(Debug)]
pub struct Certificates {
    dir: tempfile::TempDir,
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The client certificate, PEM.
    pub client_cert_pem: String,
    /// The client's private key, PEM.
    pub client_key_pem: String,
}

impl Certificates {
    /// Makes a fresh CA and the certificates it signs.
    pub fn generate() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "redis-model test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");

        let leaf = |names: Vec<String>, purpose: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().expect("leaf key");
            let mut params = CertificateParams::new(names).expect("leaf params");
            params.extended_key_usages = vec![purpose];
            let cert = params
                .signed_by(&key, &ca, &ca_key)
                .expect("leaf certificate");
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) =
            leaf(vec!["client".into()], ExtendedKeyUsagePurpose::ClientAuth);

        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, pem: &str| std::fs::write(dir.path().join(name), pem).expect(name);
        write("ca.crt", &ca.pem());
        write("server.crt", &server_cert);
        write("server.key", &server_key);
        Certificates {
            dir,
            ca_pem: ca.pem(),
            client_cert_pem: client_cert,
            client_key_pem: client_key,
        }
    }

    /// Server settings using these certificates; `require_client_cert` turns on mutual TLS.
    pub fn server(&self, require_client_cert: bool) -> ServerTls {
        ServerTls {
            dir: self.dir.path().to_owned(),
            require_client_cert,
        }
    }

    /// The directory holding the PEM files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// TLS settings for [`ServerOptions::tls`](crate::ServerOptions::tls).
#[derive(Clone, Debug)]
pub struct ServerTls {
    dir: PathBuf,
    require_client_cert: bool,
}

impl ServerTls {
    pub(crate) fn config_lines(&self) -> Vec<String> {
        let f = |name: &str| self.dir.join(name).display().to_string();
        vec![
            format!("tls-cert-file {}", f("server.crt")),
            format!("tls-key-file {}", f("server.key")),
            format!("tls-ca-cert-file {}", f("ca.crt")),
            format!(
                "tls-auth-clients {}",
                if self.require_client_cert {
                    "yes"
                } else {
                    "no"
                }
            ),
        ]
    }
}

//! TLS through rustls: trust roots, client certificates for mutual TLS, SNI.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// TLS settings. By default the server's certificate is verified against the webpki roots and
/// its host name; SNI is sent.
///
/// ```
/// use redis_model::TlsConfig;
/// let ca = b"not a certificate";
/// assert!(TlsConfig::new().with_ca_pem(ca).is_err());
/// ```
#[derive(Clone, Default)]
pub struct TlsConfig {
    ca: Option<Vec<CertificateDer<'static>>>,
    client_auth: Option<Arc<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>>,
    server_name: Option<String>,
    verify: Verify,
    built: OnceLock<Arc<ClientConfig>>,
}

#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
enum Verify {
    #[default]
    Full,
    Disabled,
}

fn tls_config_error(reason: impl Into<String>) -> Error {
    Error::Tls {
        node: "config".into(),
        reason: reason.into(),
    }
}

impl TlsConfig {
    /// Verification against the webpki roots.
    pub fn new() -> Self {
        TlsConfig::default()
    }

    /// Trusts only the certificates in `pem` (one or more `CERTIFICATE` blocks) instead of the
    /// webpki roots.
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Result<Self> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_config_error(format!("CA PEM: {e}")))?;
        if certs.is_empty() {
            return Err(tls_config_error("CA PEM holds no certificate"));
        }
        self.ca = Some(certs);
        self.built = OnceLock::new();
        Ok(self)
    }

    /// Presents a client certificate chain and its private key (PKCS#8, PKCS#1 or SEC1 PEM) for
    /// mutual TLS.
    pub fn with_client_auth(mut self, cert_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_config_error(format!("client certificate PEM: {e}")))?;
        if certs.is_empty() {
            return Err(tls_config_error(
                "client certificate PEM holds no certificate",
            ));
        }
        // The key's bytes never reach an error message.
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| tls_config_error("client key PEM holds no usable private key"))?;
        self.client_auth = Some(Arc::new((certs, key)));
        self.built = OnceLock::new();
        Ok(self)
    }

    /// The name sent as SNI and checked against the certificate, when it is not the host of
    /// the address (connecting by IP address to a server whose certificate names a host).
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Accepts any server certificate, for any name. The connection is encrypted but not
    /// authenticated: anyone on the path can impersonate the server. For tests only.
    pub fn dangerously_disable_certificate_verification(mut self) -> Self {
        self.verify = Verify::Disabled;
        self.built = OnceLock::new();
        self
    }

    /// The name to verify for a connection to `host`.
    pub(crate) fn server_name(&self, host: &str) -> Result<ServerName<'static>> {
        let name = self.server_name.as_deref().unwrap_or(host);
        ServerName::try_from(name.to_owned())
            .map_err(|_| tls_config_error(format!("`{name}` is not a valid server name")))
    }

    /// The rustls configuration, built once and shared by every connection.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>> {
        if let Some(c) = self.built.get() {
            return Ok(c.clone());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_config_error(e.to_string()))?;
        let builder = match self.verify {
            Verify::Full => {
                let mut roots = RootCertStore::empty();
                match &self.ca {
                    Some(certs) => {
                        for c in certs {
                            roots
                                .add(c.clone())
                                .map_err(|e| tls_config_error(format!("CA certificate: {e}")))?;
                        }
                    }
                    None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                }
                builder.with_root_certificates(roots)
            }
            Verify::Disabled => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider))),
        };
        let config = match &self.client_auth {
            Some(auth) => builder
                .with_client_auth_cert(auth.0.clone(), auth.1.clone_key())
                .map_err(|e| tls_config_error(format!("client certificate: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        Ok(self.built.get_or_init(|| Arc::new(config)).clone())
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("custom_ca", &self.ca.as_ref().map(Vec::len))
            .field("client_auth", &self.client_auth.is_some())
            .field("server_name", &self.server_name)
            .field("verify", &self.verify)
            .finish()
    }
}

/// The verifier behind [`TlsConfig::dangerously_disable_certificate_verification`].
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

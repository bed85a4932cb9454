//! The sandbox's HTTPS listener with client certificates (mTLS), for the
//! boards that take uploads only from a certificate they issued (the
//! Bundesagentur für Arbeit's HR-BA-XML upload).
//!
//! At creation the sandbox makes a throwaway CA with [`rcgen`], a server
//! certificate for `127.0.0.1`, `localhost` and `sandbox` (its host name in
//! `deploy/compose.yaml`), and a client certificate,
//! all signed by that CA. The client certificate, its key and the CA are the
//! credentials the desk accepts (`client_cert_pem`, `client_key_pem`,
//! `server_ca_pem`); the server's own certificate and key travel with them
//! (`sandbox_server_cert_pem`, `sandbox_server_key_pem`) so that a sandbox
//! built from written-out credentials serves the same certificate.
//!
//! The listener serves the sandbox's router over tokio-rustls; a handshake
//! without a client certificate from the CA fails, and the request never
//! reaches a handler. Handlers tell an mTLS request by its
//! [`ConnectInfo<TlsPeer>`](axum::extract::ConnectInfo).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

/// The client certificate (PEM) the desk accepts.
pub const CLIENT_CERT: &str = "client_cert_pem";
/// The client certificate's private key (PKCS#8 PEM).
pub const CLIENT_KEY: &str = "client_key_pem";
/// The CA that signed the server's and the client's certificates (PEM).
pub const SERVER_CA: &str = "server_ca_pem";
/// The server's own certificate and key; only the sandbox reads them.
pub const SERVER_CERT: &str = "sandbox_server_cert_pem";
pub const SERVER_KEY: &str = "sandbox_server_key_pem";

/// A handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh CA, server certificate and client certificate, by credential name.
pub fn issue(subject: &str) -> BTreeMap<String, String> {
    let issued = issue_pki(subject).expect("rcgen makes certificates from static parameters");
    issued.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn issue_pki(subject: &str) -> Result<Vec<(&'static str, String)>, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(
        DnType::CommonName,
        format!("boardcast sandbox CA ({subject})"),
    );
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut server_params = CertificateParams::new(vec![
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        "sandbox".to_owned(),
    ])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, format!("{subject} (sandbox)"));
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = server_params.signed_by(&server_key, &ca)?;

    let client_key = KeyPair::generate()?;
    let mut client_params = CertificateParams::default();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "boardcast sandbox client");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client_params.signed_by(&client_key, &ca)?;

    Ok(vec![
        (CLIENT_CERT, client.pem()),
        (CLIENT_KEY, client_key.serialize_pem()),
        (SERVER_CA, ca.pem()),
        (SERVER_CERT, server.pem()),
        (SERVER_KEY, server_key.serialize_pem()),
    ])
}

/// The server side of the desk: its certificate, and client certificates
/// required and checked against `server_ca_pem`.
pub fn server_config(credentials: &BTreeMap<String, String>) -> Result<Arc<ServerConfig>, String> {
    let get = |name: &str| {
        credentials
            .get(name)
            .map(String::as_bytes)
            .ok_or_else(|| format!("the sandbox has no {name} for its HTTPS desk"))
    };
    let certs = CertificateDer::pem_slice_iter(get(SERVER_CERT)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{SERVER_CERT}: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(get(SERVER_KEY)?)
        .map_err(|e| format!("{SERVER_KEY}: {e}"))?;
    let mut roots = RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(get(SERVER_CA)?) {
        let ca = ca.map_err(|e| format!("{SERVER_CA}: {e}"))?;
        roots.add(ca).map_err(|e| format!("{SERVER_CA}: {e}"))?;
    }
    // One provider named explicitly: the build has more than one available.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("client verifier: {e}"))?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| format!("server certificate: {e}"))?;
    Ok(Arc::new(config))
}

/// Who is on the other end of an mTLS connection.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    pub addr: SocketAddr,
    /// The client certificate presented (DER), checked against the CA.
    pub certificate: Option<Vec<u8>>,
}

impl Connected<IncomingStream<'_, TlsListener>> for TlsPeer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Accepts TCP connections and hands on those whose handshake succeeded.
/// Handshakes run concurrently, so a slow or failing client holds up no one.
pub struct TlsListener {
    accepted: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, TlsPeer)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (handed, accepted) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, addr) = tokio::select! {
                    // The server stopped: free the port.
                    _ = handed.closed() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            tracing::debug!(message = "Sandbox TLS accept failed.", %error);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let acceptor = acceptor.clone();
                let handed = handed.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let certificate = tls
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|chain| chain.first())
                                .map(|der| der.as_ref().to_vec());
                            let _ = handed.send((tls, TlsPeer { addr, certificate })).await;
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(message = "Sandbox TLS handshake refused.", %addr, %error);
                        }
                        Err(_) => {
                            tracing::debug!(message = "Sandbox TLS handshake timed out.", %addr);
                        }
                    }
                });
            }
        });
        Ok(Self { accepted, local })
    }
}

impl Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = TlsPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The acceptor only stops once this listener is gone.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(TlsPeer {
            addr: self.local,
            certificate: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_material_makes_a_server_config() {
        let issued = issue("test");
        for name in [CLIENT_CERT, CLIENT_KEY, SERVER_CA, SERVER_CERT, SERVER_KEY] {
            assert!(issued[name].starts_with("-----BEGIN "), "{name}");
        }
        assert!(server_config(&issued).is_ok());
        let mut broken = issued.clone();
        broken.remove(SERVER_KEY);
        assert!(server_config(&broken).unwrap_err().contains(SERVER_KEY));
    }
}

//! The byte stream under a connection: TCP, TLS over TCP, or a Unix socket.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::config::{Config, ServerAddr};
use crate::error::{Error, Result};

/// An open stream to the server.
#[derive(Debug)]
pub(crate) enum Transport {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Transport {
    /// Opens the stream `config` describes; `node` names it in errors. The caller bounds the
    /// time this takes.
    pub(crate) async fn open(config: &Config, node: &str) -> Result<Self> {
        let connect_error = |source| Error::Connect {
            node: node.to_owned(),
            source,
        };
        match &config.addr {
            ServerAddr::Tcp { host, port } => {
                let tcp = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(connect_error)?;
                // Small commands must not wait for Nagle's algorithm.
                tcp.set_nodelay(true).map_err(connect_error)?;
                match &config.tls {
                    None => Ok(Transport::Tcp(tcp)),
                    Some(tls) => {
                        let connector = TlsConnector::from(tls.client_config()?);
                        let stream = connector
                            .connect(tls.server_name(host)?, tcp)
                            .await
                            .map_err(|e| Error::Tls {
                                node: node.to_owned(),
                                reason: e.to_string(),
                            })?;
                        Ok(Transport::Tls(Box::new(stream)))
                    }
                }
            }
            #[cfg(unix)]
            ServerAddr::Unix(path) => {
                if config.tls.is_some() {
                    return Err(Error::config(
                        "tls",
                        "TLS over a Unix socket is not supported",
                    ));
                }
                Ok(Transport::Unix(
                    UnixStream::connect(path).await.map_err(connect_error)?,
                ))
            }
            #[cfg(not(unix))]
            ServerAddr::Unix(_) => Err(Error::config(
                "addr",
                "Unix sockets are not available on this platform",
            )),
        }
    }
}

macro_rules! each_stream {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Transport::Tcp($s) => $e,
            Transport::Tls($s) => $e,
            #[cfg(unix)]
            Transport::Unix($s) => $e,
        }
    };
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

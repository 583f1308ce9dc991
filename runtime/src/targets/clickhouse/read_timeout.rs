//! A connector for the ClickHouse HTTP client whose connections fail a read (or the connecting
//! itself, TLS handshake included) that waits longer than a bound (`--io-timeout`): a stalled connection or server then ends the request with an
//! error naming the bound, instead of hanging while the run lock is held. The clickhouse crate
//! and hyper have no such timeout of their own.
//!
//! Only the migrator's own short requests go through it (health check, history); a migration
//! statement may rightly run silent for long, and is watched instead (`Connection::execute`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use tokio::time::Sleep;

/// Wraps connector `C`; each of its connections gets the read bound `timeout`.
#[derive(Clone)]
pub(super) struct ReadTimeoutConnector<C> {
    inner: C,
    timeout: Duration,
}

impl<C> ReadTimeoutConnector<C> {
    pub(super) fn new(inner: C, timeout: Duration) -> Self {
        ReadTimeoutConnector { inner, timeout }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<C> tower_service::Service<Uri> for ReadTimeoutConnector<C>
where
    C: tower_service::Service<Uri> + Send + 'static,
    C::Response: Send,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = ReadTimeoutIo<C::Response>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(context).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let timeout = self.timeout;
        let connecting = self.inner.call(uri);
        // Connecting is bounded too: a TLS handshake sent to a plain HTTP port can wait forever
        // for an answer the server never sends (it waits for the end of "headers" it cannot
        // parse), and the bound on reads only starts once the connection is made.
        Box::pin(async move {
            let inner = match tokio::time::timeout(timeout, connecting).await {
                Ok(connected) => connected.map_err(Into::into)?,
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "connecting (TCP, and TLS for https://) got no answer within {} (--io-timeout, \
                             MIGRATOR_IO_TIMEOUT): check the scheme and port, or raise --io-timeout if the \
                             server is only slow",
                            crate::targets::human_duration(timeout)
                        ),
                    )
                    .into())
                }
            };
            Ok(ReadTimeoutIo { inner, timeout, deadline: None })
        })
    }
}

/// A connection whose read fails with [`io::ErrorKind::TimedOut`] once it has waited `timeout`
/// for a byte. An idle pooled connection times out the same way, which only drops it from the
/// pool (the pool lets idle connections go after 2 s anyway).
pub(super) struct ReadTimeoutIo<T> {
    inner: T,
    timeout: Duration,
    /// Armed while a read waits; dropped when it gets bytes.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<T: Read + Unpin> Read for ReadTimeoutIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Poll::Ready(result) = Pin::new(&mut this.inner).poll_read(context, buffer) {
            this.deadline = None;
            return Poll::Ready(result);
        }
        let timeout = this.timeout;
        let deadline = this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match deadline.as_mut().poll(context) {
            Poll::Ready(()) => {
                this.deadline = None;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the server sent nothing for {} (--io-timeout, MIGRATOR_IO_TIMEOUT): the connection or the \
                         server stalled; raise --io-timeout if the server is only slow",
                        crate::targets::human_duration(timeout)
                    ),
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: Write + Unpin> Write for ReadTimeoutIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, context: &mut Context<'_>, buffer: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(context, buffer)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(context, buffers)
    }
}

impl<T: Connection> Connection for ReadTimeoutIo<T> {
    fn connected(&self) -> Connected {
        self.inner.connected()
    }
}

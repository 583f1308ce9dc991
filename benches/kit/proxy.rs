//! A counting TCP proxy, one per server: the migrator and the floor connect through it so their
//! conversations can be compared. A *round trip* is a client→server send followed by a
//! server→client reply; the first bytes of each request are kept, so a surplus can be read as
//! the list of queries or requests that caused it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;

/// How many bytes of each request are kept for the report.
const SNIPPET: usize = 400;

/// What went through a proxy since it started or was last [`Proxy::take`]n.
#[derive(Clone, Debug, Default)]
pub struct Traffic {
    pub connections: usize,
    pub round_trips: usize,
    /// Round trips by connection, in the order the connections were opened.
    pub per_connection: Vec<usize>,
    /// The start of each request, printable characters only, with its connection number.
    pub requests: Vec<String>,
}

pub struct Proxy {
    address: SocketAddr,
    traffic: Arc<Mutex<Traffic>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Forwards a free loopback port to `upstream` (`host:port`) on the runtime of `handle`.
    pub fn start(handle: &Handle, upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream.parse().unwrap_or_else(|_| panic!("`{upstream}` is not an ip:port"));
        let listener =
            handle.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind a counting proxy to a free loopback port");
        let address = listener.local_addr().expect("the proxy's address");
        let traffic = Arc::new(Mutex::new(Traffic::default()));
        let accept = handle.spawn(accept_loop(listener, upstream, Arc::clone(&traffic)));
        Proxy { address, traffic, accept }
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The traffic so far; the counters start again from zero.
    pub fn take(&self) -> Traffic {
        std::mem::take(&mut *self.traffic.lock().expect("traffic lock"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, traffic: Arc<Mutex<Traffic>>) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        let connection = {
            let mut traffic = traffic.lock().expect("traffic lock");
            traffic.connections += 1;
            traffic.per_connection.push(0);
            traffic.connections
        };
        tokio::spawn(forward(client, upstream, connection, Arc::clone(&traffic)));
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, connection: usize, traffic: Arc<Mutex<Traffic>>) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // Set by a request, cleared by the first reply to it.
    let awaiting_reply = Arc::new(AtomicBool::new(false));
    let upstream = requests(client_read, server_write, connection, Arc::clone(&awaiting_reply), Arc::clone(&traffic));
    let downstream = replies(server_read, client_write, connection, awaiting_reply, traffic);
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
    }
}

/// Client to server: each request that starts a round trip is kept (its first bytes).
async fn requests(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    connection: usize,
    awaiting_reply: Arc<AtomicBool>,
    traffic: Arc<Mutex<Traffic>>,
) {
    pump(from, to, |bytes| {
        if !awaiting_reply.swap(true, Ordering::SeqCst) {
            let text: String = bytes
                .iter()
                .map(|&byte| if byte.is_ascii_graphic() || byte == b' ' { byte as char } else { '.' })
                .take(SNIPPET)
                .collect();
            traffic.lock().expect("traffic lock").requests.push(format!("#{connection} {text}"));
        }
    })
    .await;
}

/// Server to client: the first reply to a request completes a round trip.
async fn replies(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    connection: usize,
    awaiting_reply: Arc<AtomicBool>,
    traffic: Arc<Mutex<Traffic>>,
) {
    pump(from, to, |_| {
        if awaiting_reply.swap(false, Ordering::SeqCst) {
            let mut traffic = traffic.lock().expect("traffic lock");
            traffic.round_trips += 1;
            // `take` may have started a new count while this connection was still open.
            if let Some(count) = traffic.per_connection.get_mut(connection - 1) {
                *count += 1;
            }
        }
    })
    .await;
}

/// Copies `from` to `to` until either side closes, showing each chunk to `observe` first.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut observe: impl FnMut(&[u8])) {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        observe(&buffer[..read]);
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

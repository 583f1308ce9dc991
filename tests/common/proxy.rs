//! A TCP proxy the test controls, put between the migrator and a server of the stack, so that a
//! test can make the server "go away" in the middle of a run without stopping the shared server
//! (other tests use it at the same time).
//!
//! [`Proxy::cut`] closes every open connection and, until [`Proxy::restore`], closes each new one
//! as soon as it is accepted: to the client the server vanished mid-request and then refuses to
//! talk. [`Proxy::cut_when`] arms a cut for the moment a request carrying a marker passes
//! through, so the cut lands at a chosen statement rather than after a guessed delay, and
//! [`Proxy::cut_before`] cuts instead of forwarding such a request, so the server never sees it.
//!
//! [`Proxy::stall`] keeps every connection open but forwards nothing either way, and holds new
//! connections unanswered, until [`Proxy::restore`]: a network or server that hangs rather than
//! fails. [`Proxy::stall_after`] stalls once a request carrying a marker has been forwarded, so
//! the server runs it and its answer never arrives.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// A running proxy on `127.0.0.1:<free port>`; stops when dropped.
pub struct Proxy {
    address: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

struct State {
    upstream: SocketAddr,
    cut: AtomicBool,
    /// The armed cut: the bytes to watch for in what the client sends, and how long after them
    /// to cut (the request itself is forwarded, so the server is busy with it when the cut lands),
    /// or `None`: cut without forwarding them.
    trigger: Mutex<Option<(Vec<u8>, Option<Duration>)>>,
    /// Whether an armed cut went off.
    fired: AtomicBool,
    connections: Mutex<Vec<AbortHandle>>,
    /// Nothing is forwarded while set.
    stalled: AtomicBool,
    /// The armed stall: the bytes after whose forwarding everything stalls.
    stall_trigger: Mutex<Option<Vec<u8>>>,
}

impl Proxy {
    /// Starts forwarding a free loopback port to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = tokio::net::lookup_host(upstream)
            .await
            .unwrap_or_else(|error| panic!("resolve `{upstream}`: {error}"))
            .next()
            .unwrap_or_else(|| panic!("`{upstream}` resolves to no address"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy to a free port");
        let address = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(State {
            upstream,
            cut: AtomicBool::new(false),
            trigger: Mutex::new(None),
            fired: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
            stalled: AtomicBool::new(false),
            stall_trigger: Mutex::new(None),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
        Proxy { address, state, accept }
    }

    /// `http://127.0.0.1:<port>`, to use as the server's URL.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Closes every connection now and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.state.cut();
    }

    /// Forwards new connections again, ends a stall, and disarms any armed cut or stall.
    pub fn restore(&self) {
        *self.state.trigger.lock().expect("trigger lock") = None;
        *self.state.stall_trigger.lock().expect("stall trigger lock") = None;
        self.state.cut.store(false, Ordering::SeqCst);
        self.state.stalled.store(false, Ordering::SeqCst);
    }

    /// Stops forwarding anything, on open and new connections alike, until [`Proxy::restore`].
    pub fn stall(&self) {
        self.state.stalled.store(true, Ordering::SeqCst);
    }

    /// Stalls right after forwarding the first client bytes containing `marker`.
    pub fn stall_after(&self, marker: &str) {
        *self.state.stall_trigger.lock().expect("stall trigger lock") = Some(marker.as_bytes().to_vec());
    }

    /// Cuts `after` the first client bytes containing `marker` were forwarded.
    pub fn cut_when(&self, marker: &str, after: Duration) {
        *self.state.trigger.lock().expect("trigger lock") = Some((marker.as_bytes().to_vec(), Some(after)));
    }

    /// Cuts instead of forwarding the first client bytes containing `marker`.
    pub fn cut_before(&self, marker: &str) {
        *self.state.trigger.lock().expect("trigger lock") = Some((marker.as_bytes().to_vec(), None));
    }

    /// Whether an armed cut went off.
    pub fn fired(&self) -> bool {
        self.state.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.state.cut();
    }
}

impl State {
    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().expect("connections lock").drain(..) {
            // Aborting the task drops both sockets, which closes them.
            connection.abort();
        }
    }

    /// Whether `chunk` (with the end of the previous chunk before it) sets off the armed cut;
    /// disarms it when it does.
    fn take_trigger(&self, window: &[u8]) -> Option<Option<Duration>> {
        let mut trigger = self.trigger.lock().expect("trigger lock");
        let (marker, after) = trigger.as_ref()?;
        if !window.windows(marker.len()).any(|part| part == marker.as_slice()) {
            return None;
        }
        let after = *after;
        *trigger = None;
        self.fired.store(true, Ordering::SeqCst);
        Some(after)
    }

    /// Whether `window` sets off the armed stall; disarms it when it does.
    fn take_stall_trigger(&self, window: &[u8]) -> bool {
        let mut trigger = self.stall_trigger.lock().expect("stall trigger lock");
        let Some(marker) = trigger.as_ref() else { return false };
        if !window.windows(marker.len()).any(|part| part == marker.as_slice()) {
            return false;
        }
        *trigger = None;
        self.fired.store(true, Ordering::SeqCst);
        true
    }

    /// Returns once nothing is stalled.
    async fn hold_while_stalled(&self) {
        while self.stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        if state.cut.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let task = tokio::spawn(forward(client, Arc::clone(&state)));
        let mut connections = state.connections.lock().expect("connections lock");
        connections.retain(|connection| !connection.is_finished());
        connections.push(task.abort_handle());
    }
}

/// Copies both ways until either side closes.
async fn forward(client: TcpStream, state: Arc<State>) {
    state.hold_while_stalled().await;
    let Ok(server) = TcpStream::connect(state.upstream).await else { return };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let upstream = to_server(client_read, server_write, Arc::clone(&state));
    let downstream = to_client(server_read, client_write, Arc::clone(&state));
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
    }
}

async fn to_server(mut client: OwnedReadHalf, mut server: OwnedWriteHalf, state: Arc<State>) {
    let mut buffer = vec![0_u8; 16 * 1024];
    // The end of the previous chunk, so that a marker split between two reads is still seen.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let read = match client.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let chunk = &buffer[..read];
        let mut window = std::mem::take(&mut tail);
        window.extend_from_slice(chunk);
        let trigger = state.take_trigger(&window);
        if let Some(None) = trigger {
            state.cut();
            return;
        }
        state.hold_while_stalled().await;
        if server.write_all(chunk).await.is_err() {
            return;
        }
        if state.take_stall_trigger(&window) {
            state.stalled.store(true, Ordering::SeqCst);
        }
        if let Some(Some(after)) = trigger {
            let state = Arc::clone(&state);
            // A task of its own: the cut aborts this connection's task too.
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                state.cut();
            });
        }
        let keep = window.len().min(64);
        tail = window[window.len() - keep..].to_vec();
    }
}

async fn to_client(mut server: OwnedReadHalf, mut client: OwnedWriteHalf, state: Arc<State>) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let read = match server.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        state.hold_while_stalled().await;
        if client.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

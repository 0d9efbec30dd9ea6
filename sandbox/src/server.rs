//! The accept loop. Our own instead of `axum::serve` for one reason: a `LoseResponse` fault must be
//! able to close *its* connection without an answer, so every connection gets a handle that the
//! request can use to ask for exactly that.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower_service::Service as _;
use tracing::warn;

/// How long requests still running at shutdown may take to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Put into every request's extensions: lets the request close its own connection unanswered.
#[derive(Clone)]
pub(crate) struct ConnectionHandle(Arc<Notify>);

impl ConnectionHandle {
    /// Drops the connection (FIN, or RST if unread bytes remain) without writing anything more.
    pub(crate) fn close_without_response(&self) {
        self.0.notify_one();
    }
}

/// Serves `router` on `listener` until `shutdown` turns true (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        match accepted {
            Ok((stream, _peer)) => {
                connections.spawn(serve_connection(stream, router.clone(), shutdown.clone()));
            }
            Err(error) => {
                // E.g. out of file descriptors: back off instead of spinning.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let kill = Arc::new(Notify::new());
    let handle = ConnectionHandle(Arc::clone(&kill));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(handle.clone());
        // `Router` is always ready, so calling it without `poll_ready` is fine.
        router.clone().call(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        // Returning drops `connection`, and with it the socket and the request being served.
        () = kill.notified() => return,
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
}

//! Listeners and shutdown: [`serve`] runs one emulator on one listener until a shutdown future
//! resolves; [`start`] binds every service on loopback and hands back a [`RunningSandbox`].
//!
//! Servers take a listener and a shutdown future (mini-redis style), so tests bind
//! `127.0.0.1:0` in-process and the CLI binds the ports the user asked for.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::layer::{LayerState, Urls, vendor_layer};
use super::okta::{self, Okta};
use super::ws1::{self, Ws1};
use super::{Emulator, Shared, control};

/// Serves `emulator`'s routes, wrapped in the request log, faults and `Date` header, plus the
/// whole control plane, until `shutdown` resolves. The control plane reaches the emulators
/// registered when this is called: register them all first ([`start`] does).
pub async fn serve(
    listener: TcpListener,
    emulator: Arc<dyn Emulator>,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    shared.register(emulator.clone());
    let app = app(emulator, shared);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// One port's routes: the emulator's, wrapped, and every registered emulator's control routes.
fn app(emulator: Arc<dyn Emulator>, shared: Arc<Shared>) -> Router {
    let mut app = control::router(shared.clone());
    // Every emulator's console routes answer on every port, like the rest of the control plane.
    for other in shared.emulators() {
        let prefix = format!("/_sandbox/{}", other.name());
        app = app.nest(&prefix, other.console().into_router());
    }
    let layer = LayerState {
        service: emulator.name(),
        shared,
    };
    let vendor: Router = emulator
        .router()
        .layer(axum::middleware::from_fn_with_state(layer, vendor_layer));
    app.merge(vendor)
}

/// Ports to bind (0 = any free port) and an optional seed document.
#[derive(Clone, Debug, Default)]
pub struct SandboxOptions {
    pub ws1_port: u16,
    pub okta_port: u16,
    pub seed: Option<serde_json::Value>,
}

/// A sandbox running in this process. Drop does not stop it; call [`RunningSandbox::shutdown`].
pub struct RunningSandbox {
    /// WS1 tenant URL, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub ws1_url: String,
    /// Okta org URL, e.g. `http://127.0.0.1:40124` (no trailing slash).
    pub okta_url: String,
    /// The sandbox clock shared by every service.
    pub clock: Clock,
    /// Log, faults, mode and emulators, as the control plane sees them.
    pub shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

/// Binds every service on 127.0.0.1 and serves it in the background.
pub async fn start(opts: SandboxOptions) -> std::io::Result<RunningSandbox> {
    let clock = Clock::new();
    let alternatives = super::Alternatives::default();
    let shared = Shared::new(clock.clone(), alternatives.clone());
    let (stop, stopped) = watch::channel(false);
    let ws1_listener = TcpListener::bind(("127.0.0.1", opts.ws1_port)).await?;
    let ws1_url = url_of(ws1_listener.local_addr()?);
    let okta_listener = TcpListener::bind(("127.0.0.1", opts.okta_port)).await?;
    let okta_url = url_of(okta_listener.local_addr()?);
    let ws1: Arc<dyn Emulator> = Arc::new(Ws1::new(clock.clone(), &ws1_url, alternatives.clone()));
    let okta: Arc<dyn Emulator> = Arc::new(Okta::new(clock.clone(), alternatives));
    // Every emulator is registered, and every port's routes built, before any port serves: the
    // control plane on each port reaches every service from its first request.
    shared.register(ws1.clone());
    shared.register(okta.clone());
    shared.set_urls(Urls {
        okta: okta_url.clone(),
        ws1: ws1_url.clone(),
    });
    let mut tasks = Vec::new();
    for (listener, emulator) in [(ws1_listener, ws1), (okta_listener, okta)] {
        let app = app(emulator, shared.clone());
        let shutdown = wait_for(stopped.clone());
        tasks.push(tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }));
    }
    if let Some(doc) = &opts.seed {
        shared.seed(doc).map_err(std::io::Error::other)?;
    }
    Ok(RunningSandbox {
        ws1_url,
        okta_url,
        clock,
        shared,
        stop,
        tasks,
    })
}

fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

async fn wait_for(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

impl RunningSandbox {
    /// The sandbox's own (fake) credentials as PRODUCT.md's environment variables.
    pub fn credentials(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OKTA_ORG_URL", self.okta_url.clone()),
            ("OKTA_API_TOKEN", okta::API_TOKEN.to_string()),
            ("WS1_TENANT_URL", self.ws1_url.clone()),
            ("WS1_CLIENT_ID", ws1::ADMIN_CLIENT_ID.to_string()),
            ("WS1_CLIENT_SECRET", ws1::ADMIN_CLIENT_SECRET.to_string()),
            (
                "WS1_SCIM_CLIENT_SECRET",
                ws1::SCIM_SHARED_SECRET.to_string(),
            ),
        ]
    }

    /// Stops every server and waits for them to finish.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        for task in self.tasks {
            task.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    }
}

//! The go-plugin services served next to the provider: controller, stdio,
//! broker and gRPC health.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio_stream::Stream;
use tonic::service::Routes;
use tonic::{Request, Response, Status, Streaming};
use tonic_health::ServingStatus;

use super::Shutdown;
use super::proto::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use super::proto::grpc_controller_server::{GrpcController, GrpcControllerServer};
use super::proto::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use super::proto::{ConnInfo, Empty, StdioData};

/// Name under which go-plugin clients check the plugin's health.
pub const HEALTH_SERVICE_NAME: &str = "plugin";

/// Adds the controller, stdio, broker and health services to `routes`.
pub async fn add_plugin_services(routes: Routes, shutdown: &Shutdown) -> Routes {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(HEALTH_SERVICE_NAME, ServingStatus::Serving)
        .await;

    routes
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }))
        .add_service(health)
}

/// Starts a clean shutdown when the host closes the plugin.
struct Controller {
    shutdown: Shutdown,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::info!("plugin host requested shutdown");
        self.shutdown.trigger();
        Ok(Response::new(Empty {}))
    }
}

/// Keeps the host's stdio stream open without sending anything: the provider
/// writes logs to stderr, which the host reads directly, so there is nothing
/// to forward.
struct Stdio {
    shutdown: Shutdown,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = IdleStream<Result<StdioData, Status>>;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let shutdown = self.shutdown.clone();
        Ok(Response::new(IdleStream::new(async move {
            shutdown.cancelled().await
        })))
    }
}

/// Accepts the broker stream and keeps it open. The provider opens no extra
/// connections, so connection offers from the host are logged and dropped.
struct Broker {
    shutdown: Shutdown,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = IdleStream<Result<ConnInfo, Status>>;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let shutdown = self.shutdown.clone();
        let mut inbound = request.into_inner();
        let drain = async move {
            loop {
                let message = tokio::select! {
                    () = shutdown.cancelled() => return,
                    message = inbound.message() => message,
                };
                match message {
                    Ok(Some(info)) => tracing::debug!(
                        service_id = info.service_id,
                        "ignoring a broker connection offer: this provider opens no extra connections"
                    ),
                    // The host closed its side, so ours can end too.
                    Ok(None) | Err(_) => return,
                }
            }
        };
        Ok(Response::new(IdleStream::new(drain)))
    }
}

/// A stream that yields no item and ends when its future completes.
pub struct IdleStream<T> {
    until: Pin<Box<dyn Future<Output = ()> + Send>>,
    item: PhantomData<fn() -> T>,
}

impl<T> IdleStream<T> {
    fn new(until: impl Future<Output = ()> + Send + 'static) -> Self {
        Self {
            until: Box::pin(until),
            item: PhantomData,
        }
    }
}

impl<T> Stream for IdleStream<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.until.as_mut().poll(cx).map(|()| None)
    }
}

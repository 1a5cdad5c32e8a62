//! The one layer on every route of a server ([`Watch`]): a mock's journal records each request
//! to that mock with its answer, the mock's faults act in between, and an [`Observe`] (the
//! stand's metrics) learns each request's route, status and time.
//!
//! One layer rather than three: axum calls a route through a clone of its service, so a route
//! layered `n` times is cloned box within box on every request, and each `from_fn` layer adds
//! a boxed future of its own. Here a request that is not a mock's is passed straight on; a
//! mock's request costs one boxed future.

use super::faults::{self, Faults};
use super::journal::{self, Journal};
use super::MockKind;
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use futures_util::future::{BoxFuture, Either};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// What a server learns of each request its routes answer: the route's template (`None` for
/// the fallback), the method, the status and the time from routing to the answer.
pub trait Observe: Send + Sync + 'static {
    fn observe(&self, route: Option<&str>, method: &Method, status: StatusCode, took: Duration);
}

/// One mock's journal and faults, and the first segment of its paths (`/mocks/<name>`).
struct Watched {
    name: &'static str,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
}

/// The layer: the watched mocks and the observer. Applied with `Router::layer` after every
/// route is in place (a route's template is known only inside the router).
#[derive(Clone, Default)]
pub struct Watch {
    mocks: Arc<[Watched]>,
    observer: Option<Arc<dyn Observe>>,
}

impl Watch {
    /// Watches the mocks `mocks` (each with its journal and faults).
    pub fn new(mocks: impl IntoIterator<Item = (MockKind, Arc<Journal>, Arc<Faults>)>) -> Self {
        let mocks: Vec<Watched> = mocks
            .into_iter()
            .map(|(kind, journal, faults)| Watched {
                name: kind.as_str(),
                journal,
                faults,
            })
            .collect();
        Self {
            mocks: mocks.into(),
            observer: None,
        }
    }

    /// The same, telling `observer` of every request.
    pub fn observed_by(self, observer: Arc<dyn Observe>) -> Self {
        Self {
            observer: Some(observer),
            ..self
        }
    }

    /// The index of the mock whose path `path` is (`/mocks/<name>` or under it).
    fn mock_of(&self, path: &str) -> Option<usize> {
        let rest = path.strip_prefix("/mocks/")?;
        let name = rest.split('/').next()?;
        self.mocks.iter().position(|m| m.name == name)
    }
}

impl<S> tower::Layer<S> for Watch {
    type Service = WatchService<S>;

    fn layer(&self, inner: S) -> WatchService<S> {
        WatchService {
            inner,
            watch: self.clone(),
        }
    }
}

/// [`Watch`]'s service around one route.
#[derive(Clone)]
pub struct WatchService<S> {
    inner: S,
    watch: Watch,
}

impl<S> tower::Service<Request> for WatchService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Observed<Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let route = req.extensions().get::<MatchedPath>().cloned();
        let observer = self.watch.observer.clone().map(|o| Observer {
            observer: o,
            method: req.method().clone(),
            route: route.clone(),
            start: Instant::now(),
        });
        // The fallback (no route) is not a mock's request: nothing is journaled, no fault used.
        let mock = route
            .as_ref()
            .and_then(|_| self.watch.mock_of(req.uri().path()));
        let inner = match mock {
            None => Either::Left(self.inner.call(req)),
            Some(i) => {
                // The service made ready is the one called; a clone stays for the next request.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                let mocks = self.watch.mocks.clone();
                Either::Right(Box::pin(async move {
                    let m = &mocks[i];
                    let answer = journal::record_around(&m.journal, req, |req| {
                        faults::apply(&m.faults, req, ready)
                    })
                    .await;
                    Ok(answer)
                }) as BoxFuture<'static, _>)
            }
        };
        Observed { inner, observer }
    }
}

/// Who to tell of a request when it is answered.
struct Observer {
    observer: Arc<dyn Observe>,
    method: Method,
    route: Option<MatchedPath>,
    start: Instant,
}

pin_project_lite::pin_project! {
    /// A request on its way, to be told to the observer when answered.
    pub struct Observed<F> {
        #[pin]
        inner: F,
        observer: Option<Observer>,
    }
}

impl<F> Future for Observed<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let (Some(o), Ok(response)) = (this.observer.take(), &result) {
            o.observer.observe(
                o.route.as_ref().map(MatchedPath::as_str),
                &o.method,
                response.status(),
                o.start.elapsed(),
            );
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{app, MocksConfig, Truth};
    use super::*;
    use crate::clock::{Epoch, SimTime};
    use crate::service::{Filter, Mocks, World};
    use axum::body::Body;
    use tower::ServiceExt;

    /// Each mock's journal holds the requests routed to that mock, whatever their answer, and
    /// nothing else: not another mock's, not its admin routes', not a path no route answers.
    #[tokio::test]
    async fn each_mock_journals_its_own_routed_requests_only() {
        let world = World::new(Epoch::default(), SimTime::ZERO, 1.0).unwrap();
        let mocks = Mocks::new(world, MocksConfig::default(), Truth::default());
        let app = app(&mocks);
        let routed = [
            (MockKind::Sms, "POST", "/mocks/sms/messages"),
            (MockKind::Mail, "POST", "/mocks/mail/messages"),
            (MockKind::Pfr, "POST", "/mocks/pfr/requests"),
            (MockKind::Fms, "POST", "/mocks/fms/requests"),
            (MockKind::Ca, "GET", "/mocks/ca/certificates/00"),
            (MockKind::Post, "GET", "/mocks/post/tracking/10100000000011"),
            (
                MockKind::Banks,
                "GET",
                "/mocks/banks/sber/clients/11223344595",
            ),
            (MockKind::Centers, "GET", "/mocks/centers"),
        ];
        let unwatched = [
            ("GET", "/mocks/sms/no-such-route"),
            ("GET", "/mocks/sms/admin/journal"),
            ("GET", "/mocks/admin/clock"),
            ("GET", "/healthz"),
        ];
        let all = routed.iter().map(|(_, m, p)| (*m, *p)).chain(unwatched);
        for (method, path) in all {
            let body = if method == "POST" { "{}" } else { "" };
            let req = axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            app.clone().oneshot(req).await.unwrap();
        }
        for (kind, method, path) in routed {
            let entries = mocks.admin(kind).journal(&Filter::default());
            let seen: Vec<_> = entries
                .iter()
                .map(|e| (e.method.as_str(), e.path.as_str()))
                .collect();
            assert_eq!(seen, [(method, path)], "{}", kind.as_str());
        }
    }
}

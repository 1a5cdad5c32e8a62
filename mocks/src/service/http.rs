//! HTTP plumbing shared by every service of the stand (the mocks here, the engine in `esia_sim`):
//! the contract's error body `{"error": {"code", "message", "field"?}}`, a JSON extractor whose
//! every rejection is such an error naming the field at fault, and a layer that turns axum's own
//! plain-text answers (unknown route, wrong method, body too large, a panic) into the same JSON.

use crate::wire::{ErrorBody, ErrorDetail};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest request body accepted, in bytes (64 KiB): a personal-data form is under 2 KiB.
/// A larger body is refused with 413 `body_too_large`.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What is wrong with a request before any domain rule is checked: its body, path or query,
/// its route or its method.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON at all (400).
    #[error("the body is not valid JSON: {message}")]
    MalformedJson { message: String },
    /// The body is JSON of the wrong shape: a missing field, a wrong type, an unknown enum value
    /// (422).
    #[error("{message}")]
    WrongShape {
        field: Option<String>,
        message: String,
    },
    /// The body is over [`BODY_LIMIT_BYTES`] (413).
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The body is declared as something other than JSON (415).
    #[error("the body must be JSON (Content-Type: application/json), not {content_type}")]
    NotJson { content_type: String },
    /// The body could not be read (400).
    #[error("cannot read the body: {0}")]
    Unreadable(String),
    /// A path segment or query parameter that cannot be what it names (422).
    #[error("{field} {message}")]
    BadParameter { field: String, message: String },
    /// No route has this path (404).
    #[error("no route {method} {path}")]
    NoRoute { method: String, path: String },
    /// The path exists but not with this method (405).
    #[error("{method} is not allowed here")]
    MethodNotAllowed { method: String },
}

impl RequestError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::MalformedJson { .. } | RequestError::Unreadable(_) => {
                StatusCode::BAD_REQUEST
            }
            RequestError::WrongShape { .. } | RequestError::BadParameter { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            RequestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::NotJson { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RequestError::NoRoute { .. } => StatusCode::NOT_FOUND,
            RequestError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// The stable `code` of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::MalformedJson { .. } => "malformed_json",
            RequestError::WrongShape { .. } => "invalid",
            RequestError::TooLarge { .. } => "body_too_large",
            RequestError::NotJson { .. } => "unsupported_media_type",
            RequestError::Unreadable(_) => "unreadable_body",
            RequestError::BadParameter { .. } => "invalid",
            RequestError::NoRoute { .. } => "no_route",
            RequestError::MethodNotAllowed { .. } => "method_not_allowed",
        }
    }

    /// The path of the input at fault, when one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            RequestError::WrongShape { field, .. } => field.as_deref(),
            RequestError::BadParameter { field, .. } => Some(field),
            _ => None,
        }
    }

    /// A path or query parameter that is not what it names.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        RequestError::BadParameter {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        error_response(self.status(), self.code(), &self.to_string(), self.field())
    }
}

/// A response with the contract's error body.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
) -> Response {
    let mut detail = ErrorDetail::new(code, message);
    detail.field = field.map(str::to_owned);
    error_detail_response(status, detail)
}

/// A response with the contract's error body, with every detail of `detail`.
pub fn error_detail_response(status: StatusCode, detail: ErrorDetail) -> Response {
    let body = ErrorBody { error: detail };
    let mut response = (status, axum::Json(body)).into_response();
    // An error never depends on state a cache could reuse.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A JSON body, read with the [`BODY_LIMIT_BYTES`] limit (set by the router's
/// `DefaultBodyLimit`); every rejection is a [`RequestError`] in the contract's format. The body
/// is read as JSON whatever its `Content-Type` (curl's `-d` declares a form), except a multipart
/// form or XML, refused with 415. Also the response type: `Json(value)` answers JSON.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = RequestError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("?");
            let essence = ct.split(';').next().unwrap_or("").trim().as_bytes();
            // curl's `-d` sends `application/x-www-form-urlencoded`: read any type as JSON
            // except those that cannot be (multipart forms, XML). Compared without a lower-case
            // copy: two allocations a request for a header that is nearly always right.
            let multipart = essence
                .get(..10)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"multipart/"));
            let xml = essence
                .len()
                .checked_sub(3)
                .is_some_and(|i| essence[i..].eq_ignore_ascii_case(b"xml"));
            if multipart || xml {
                return Err(RequestError::NotJson {
                    content_type: ct.to_owned(),
                });
            }
        }
        let bytes = read_body(req).await?;
        parse_object(&bytes).map(Json)
    }
}

/// The body of `req`, up to [`BODY_LIMIT_BYTES`]: its one data frame as it came (a JSON body
/// nearly always arrives in one), else its frames joined. Read here rather than through axum's
/// `Bytes` extractor, which boxes the body once more under its limit, maps its errors in
/// another layer and gathers the frames in a list of buffers: 460 instructions a registration
/// more (benches/README.md, "The SMS's hop, and the body read").
async fn read_body(req: Request) -> Result<Bytes, RequestError> {
    use axum::body::HttpBody;
    let too_large = || RequestError::TooLarge {
        limit: BODY_LIMIT_BYTES,
    };
    let mut body = req.into_body();
    if body.size_hint().lower() > BODY_LIMIT_BYTES as u64 {
        return Err(too_large());
    }
    let mut total = 0;
    let mut first: Option<Bytes> = None;
    let mut joined = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| RequestError::Unreadable(e.to_string()))?;
        // Trailers carry no JSON.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total > BODY_LIMIT_BYTES {
            return Err(too_large());
        }
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            Some(f) => {
                joined.extend_from_slice(&f);
                joined.extend_from_slice(&data);
            }
            None => joined.extend_from_slice(&data),
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters, with axum's rejection turned into a [`RequestError`].
#[derive(Clone, Copy, Debug)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = RequestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| RequestError::bad_parameter("path", e.body_text()))
    }
}

/// Query parameters, with axum's rejection turned into a [`RequestError`] naming the query.
#[derive(Clone, Copy, Debug, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = RequestError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Query(q.0))
            .map_err(|e| {
                let text = e.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_owned();
                // "FIELD is missing", or "query is not valid: WHY": one sentence either way.
                let missing = text
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next());
                let (field, message) = match missing {
                    Some(f) => (f.to_owned(), "is missing".to_owned()),
                    None => ("query".to_owned(), format!("is not valid: {text}")),
                };
                RequestError::BadParameter { field, message }
            })
    }
}

/// Reads `bytes` as a `T`; a wrong shape names the field at fault as a path (`passport.series`,
/// `records[2].snils`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RequestError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(RequestError::MalformedJson {
            message: "the body is empty; expected a JSON object".into(),
        });
    }
    // The common case, a good body, without the path tracking; a bad one is read again with
    // it, to name the field at fault.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        shape_error(&path, inner)
    })?;
    de.end().map_err(|e| RequestError::MalformedJson {
        message: e.to_string(),
    })?;
    Ok(value)
}

/// [`parse_json`] of a body that must be a JSON object: serde would also read a struct from an
/// array of its fields in order, which no route's contract allows.
pub fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RequestError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => parse_json(bytes),
        // JSON, but not an object (422); or not JSON at all (400).
        Some(_) => match parse_json::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => Err(RequestError::WrongShape {
                field: None,
                message: "the body must be a JSON object".into(),
            }),
            Err(e) => Err(e),
        },
    }
}

fn shape_error(path: &str, e: serde_json::Error) -> RequestError {
    use serde_json::error::Category;
    let message = e.to_string();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => RequestError::MalformedJson { message },
        Category::Data => {
            // serde reports a missing field at its parent: name the field itself.
            let parent = (path != ".").then_some(path);
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next());
            let field = match (parent, missing) {
                (Some(p), Some(m)) => Some(format!("{p}.{m}")),
                (None, Some(m)) => Some(m.to_owned()),
                (Some(p), None) => Some(p.to_owned()),
                (None, None) => None,
            };
            // serde_json appends " at line 1 column 17"; the field says where.
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_owned(),
                None => message,
            };
            RequestError::WrongShape { field, message }
        }
    }
}

/// The fallback of a router: every unknown path is a 404 in the contract's format.
pub async fn no_route(method: Method, uri: Uri) -> RequestError {
    RequestError::NoRoute {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// Turns any error answer that is not JSON (axum's 405 for a wrong method, a 413 from a layer,
/// a 404 of a nested router) into the contract's format. Apply as the outermost layer:
/// [`JsonErrors`].
pub fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let message = if allow.is_empty() {
                "this method is not allowed here".to_owned()
            } else {
                format!("this method is not allowed here; allowed: {allow}")
            };
            ("method_not_allowed", message)
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            format!("the body is larger than {BODY_LIMIT_BYTES} bytes"),
        ),
        StatusCode::NOT_FOUND => ("no_route", "no such route".to_owned()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "the body must be JSON".to_owned())
        }
        s if s.is_server_error() => ("internal", "internal error".to_owned()),
        _ => ("bad_request", "the request is not valid".to_owned()),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut out = error_response(status, code, &message, None);
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

/// The layer applying [`json_errors`] to every answer: a plain tower service, so that it costs
/// no boxed future per request (as `axum::middleware::map_response` does).
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonErrors;

impl<S> tower::Layer<S> for JsonErrors {
    type Service = JsonErrorsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JsonErrorsService { inner }
    }
}

/// [`JsonErrors`]'s service.
#[derive(Clone, Debug)]
pub struct JsonErrorsService<S> {
    inner: S,
}

impl<S, B, RB> tower::Service<axum::http::Request<B>> for JsonErrorsService<S>
where
    S: tower::Service<axum::http::Request<B>, Response = axum::http::Response<RB>>,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = JsonErrorsFuture<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        // A body declared too large is refused from its header: before it is read, so before
        // hyper invites it with `100 Continue`.
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > BODY_LIMIT_BYTES as u64) {
            let e = RequestError::TooLarge {
                limit: BODY_LIMIT_BYTES,
            };
            let mut response = error_response(e.status(), e.code(), &e.to_string(), None);
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return JsonErrorsFuture::Answered {
                response: Some(response),
            };
        }
        // A panic while routing is answered as a panic in a handler is (see the future's `poll`).
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.inner.call(req))) {
            Ok(inner) => JsonErrorsFuture::Inner { inner },
            Err(panic) => JsonErrorsFuture::Answered {
                response: Some(panic_response(panic)),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// An answer on its way through [`json_errors`] (a panic in the handler answered with
    /// [`panic_response`]), or an answer made before the handler.
    #[project = JsonErrorsProj]
    pub enum JsonErrorsFuture<F> {
        Inner {
            #[pin]
            inner: F,
        },
        Answered {
            response: Option<Response>,
        },
    }
}

impl<F, RB, E> std::future::Future for JsonErrorsFuture<F>
where
    F: std::future::Future<Output = Result<axum::http::Response<RB>, E>>,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, E>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.project() {
            JsonErrorsProj::Inner { inner } => {
                // Caught here rather than by a layer of its own (which would box every body).
                // A future that panicked is not polled again: its answer is ready.
                let polled =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx)));
                match polled {
                    Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
                    Ok(std::task::Poll::Ready(response)) => {
                        std::task::Poll::Ready(response.map(|r| json_errors(r.map(Body::new))))
                    }
                    Err(panic) => std::task::Poll::Ready(Ok(panic_response(panic))),
                }
            }
            JsonErrorsProj::Answered { response } => {
                std::task::Poll::Ready(Ok(response.take().unwrap_or_else(|| {
                    error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "the body is too large",
                        None,
                    )
                })))
            }
        }
    }
}

/// The answer to a panic in a handler (caught by [`JsonErrors`]): a 500 in the contract's
/// format. The panic is a bug of the stand, never the client's fault.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        series: String,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        passport: Inner,
        list: Option<Vec<Inner>>,
    }

    fn err(body: &str) -> RequestError {
        parse_json::<Outer>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn shape_errors_name_the_field() {
        let e = err(r#"{"name": 5, "passport": {"series": "1"}}"#);
        assert_eq!(e.field(), Some("name"));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e = err(r#"{"name": "a", "passport": {"series": 1}}"#);
        assert_eq!(e.field(), Some("passport.series"));
        let e = err(r#"{"name": "a", "passport": {}}"#);
        assert_eq!(e.field(), Some("passport.series"));
        assert!(e.to_string().contains("missing field"), "{e}");
        let e = err(r#"{"passport": {"series": "1"}}"#);
        assert_eq!(e.field(), Some("name"));
        let e = err(r#"{"name": "a", "passport": {"series": "1"}, "list": [{"series": 2}]}"#);
        assert_eq!(e.field(), Some("list[0].series"));
        let e = err(r#"[1]"#);
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn syntax_errors_are_400() {
        for body in ["", "  ", "{", "{\"name\": }", "nul", "{\"a\": 1"] {
            let e = err(body);
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{body:?}: {e}");
            assert_eq!(e.code(), "malformed_json");
        }
    }

    /// A body that arrives in the given frames (a client writing it in pieces).
    struct Frames(std::collections::VecDeque<Bytes>);

    impl axum::body::HttpBody for Frames {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
        }
    }

    async fn read_frames(frames: &[&str]) -> Result<serde_json::Value, RequestError> {
        let body = Frames(frames.iter().map(|f| Bytes::from(f.to_string())).collect());
        let req = Request::builder()
            .method("POST")
            .uri("/")
            .body(axum::body::Body::new(body))
            .unwrap();
        Json::<serde_json::Value>::from_request(req, &())
            .await
            .map(|j| j.0)
    }

    #[tokio::test]
    async fn a_body_in_pieces_is_read_whole_and_held_to_the_limit() {
        let whole = serde_json::json!({"to": "+79161234567", "text": "Код: 123456"});
        for frames in [
            vec![r#"{"to": "+79161234567", "text": "Код: 123456"}"#],
            vec![r#"{"to": "+7916"#, r#"1234567", "text": "Код: 123456"}"#],
            vec![
                "",
                r#"{"to": "+79161234567","#,
                "",
                r#" "text": "Код: 123456"}"#,
                "",
            ],
        ] {
            assert_eq!(read_frames(&frames).await.unwrap(), whole, "{frames:?}");
        }
        // No declared length: the limit holds on what arrives.
        let chunk = "x".repeat(BODY_LIMIT_BYTES / 4);
        let mut frames = vec![r#"{"pad": ""#];
        frames.extend([chunk.as_str(); 4]);
        frames.push(r#""}"#);
        let e = read_frames(&frames).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            e,
            RequestError::TooLarge {
                limit: BODY_LIMIT_BYTES
            }
        );
        // At the limit exactly, it is read.
        let pad = "x".repeat(BODY_LIMIT_BYTES - r#"{"pad": ""}"#.len());
        let at_limit = [r#"{"pad": ""#, pad.as_str(), r#""}"#];
        assert!(read_frames(&at_limit).await.is_ok());
    }

    /// A body is read as JSON whatever its declared type, except a multipart form or XML, in
    /// any letter case and with any parameters (415, the type named).
    #[tokio::test]
    async fn only_multipart_and_xml_bodies_are_refused_for_their_type() {
        for (ct, refused) in [
            ("application/json", false),
            ("Application/JSON; charset=utf-8", false),
            ("application/x-www-form-urlencoded", false),
            ("", false),
            ("xm", false),
            ("multipart", false),
            ("application/xml", true),
            ("TEXT/XML; charset=utf-8", true),
            ("application/soap+xml", true),
            ("Multipart/Form-Data; boundary=x", true),
            ("  multipart/mixed  ; a=b", true),
        ] {
            let req = Request::builder()
                .method("POST")
                .uri("/")
                .header(header::CONTENT_TYPE, ct)
                .body(axum::body::Body::from("{}"))
                .unwrap();
            let got = Json::<serde_json::Value>::from_request(req, &()).await;
            match got {
                Ok(_) => assert!(!refused, "{ct:?} was read"),
                Err(e) => {
                    assert!(refused, "{ct:?}: {e}");
                    assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
                    assert!(e.to_string().contains(ct), "{e}");
                }
            }
        }
    }

    /// A handler that panics, before or after its first wait, is answered with the contract's
    /// 500, and the server goes on answering.
    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_in_the_contract() {
        use tower::ServiceExt;
        async fn at_once() -> &'static str {
            panic!("a bug")
        }
        async fn after_a_wait() -> &'static str {
            tokio::task::yield_now().await;
            panic!("a bug")
        }
        let app = axum::Router::new()
            .route("/now", axum::routing::get(at_once))
            .route("/later", axum::routing::get(after_a_wait))
            .route("/fine", axum::routing::get(|| async { "fine" }));
        let app = tower::Layer::layer(&JsonErrors, app);
        for path in ["/now", "/later"] {
            let req = axum::http::Request::get(path).body(Body::empty()).unwrap();
            let response = app.clone().oneshot(req).await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{path}"
            );
            let body = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["error"]["code"], "internal", "{path}");
        }
        let req = axum::http::Request::get("/fine")
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.oneshot(req).await.unwrap().status(), StatusCode::OK);
    }
}

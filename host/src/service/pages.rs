//! The two pages `serve` serves beside the API: the consumer's (`/consumer`) and the
//! regulator's (`/regulator`). They are static files built into the binary, and use the API
//! as any client does. The consumer's key and the regulator's stay in the browser
//! (WebCrypto Ed25519, non-extractable, in IndexedDB), which signs; the
//! Content-Security-Policy keeps the pages to this origin: no script, style or request goes
//! anywhere else, and no other site may frame them.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use super::Service;

const CONSUMER: &str = include_str!("pages/consumer.html");
const REGULATOR: &str = include_str!("pages/regulator.html");
const COMMON_JS: &str = include_str!("pages/common.js");
const CONSUMER_JS: &str = include_str!("pages/consumer.js");
const REGULATOR_JS: &str = include_str!("pages/regulator.js");
const STYLE: &str = include_str!("pages/pages.css");

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                      connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            // Another site that opens a page gets no handle on it.
            (
                header::HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The pages' routes (not the API's: `openapi.json` describes only those).
pub(super) fn router() -> Router<Service> {
    const HTML: &str = "text/html; charset=utf-8";
    const JS: &str = "text/javascript; charset=utf-8";
    Router::new()
        .route("/", get(|| async { Redirect::to("/consumer") }))
        .route("/consumer", get(|| async { asset(HTML, CONSUMER) }))
        .route("/regulator", get(|| async { asset(HTML, REGULATOR) }))
        .route("/assets/common.js", get(|| async { asset(JS, COMMON_JS) }))
        .route("/assets/consumer.js", get(|| async { asset(JS, CONSUMER_JS) }))
        .route("/assets/regulator.js", get(|| async { asset(JS, REGULATOR_JS) }))
        .route(
            "/assets/pages.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

//! Static files of the site (wasm, js, css, public/). With the `embed` feature they are compiled
//! into the binary, so the release binary alone serves a working console; without it they are
//! read from `target/site` (development).

use app::shell;
use axum::{
    body::Body,
    extract::State,
    http::{header, Request, StatusCode},
    response::{IntoResponse, Response},
};
use leptos::prelude::LeptosOptions;

#[cfg(feature = "embed")]
#[derive(rust_embed::Embed)]
#[folder = "../target/site"]
struct Site;

#[cfg(feature = "embed")]
fn lookup(path: &str) -> Option<(String, Vec<u8>)> {
    Site::get(path).map(|f| (f.metadata.mimetype().to_string(), f.data.into_owned()))
}

#[cfg(not(feature = "embed"))]
fn lookup(path: &str) -> Option<(String, Vec<u8>)> {
    if path.split('/').any(|p| p == "..") {
        return None;
    }
    let bytes = std::fs::read(std::path::Path::new("target/site").join(path)).ok()?;
    let mime = match path.rsplit('.').next() {
        Some("wasm") => "application/wasm",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    Some((mime.to_string(), bytes))
}

pub async fn file_or_404(State(options): State<LeptosOptions>, req: Request<Body>) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    if let Some((mime, bytes)) = lookup(path) {
        return ([(header::CONTENT_TYPE, mime)], bytes).into_response();
    }
    let render = leptos_axum::render_app_to_stream(move || shell(options.clone()));
    let mut res = render(req).await.into_response();
    *res.status_mut() = StatusCode::NOT_FOUND;
    res
}

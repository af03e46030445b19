//! Static files of the site (wasm, js, css, public/). With the `embed` feature they are compiled
//! into the binary, so the release binary alone serves a working console; without it they are
//! read from `target/site` (development).
//!
//! Files are compressed when the site is built (`scripts/front-end.sh`: brotli and gzip at their
//! best settings, as `x.br` and `x.gz` next to each file) and embedded with it; each answer takes
//! the best encoding the browser accepts, with no work per request and none at start.
//!
//! Pages load the bundle (the main wasm and js, the css, and the wasm chunks of lazy routes with
//! their loader) from `/pkg/<hash>/`, the hash of every bundle file's contents (`bundle_dir`):
//! under that directory the files never change, so browsers keep them for a year without asking
//! again (`Cache-Control: immutable`), and a new build gets a new directory. The files keep their
//! own names inside it, because the chunk loader imports `./havip.js` by name and must get the
//! module the page started. Every other file (and the bundle under `/pkg/`) is revalidated
//! (`no-cache` with an `ETag`): an unchanged file costs a 304, not its bytes.

use app::shell;
use axum::body::Bytes;
use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, HeaderValue, Request, StatusCode},
    response::{IntoResponse, Response},
};
use leptos::prelude::LeptosOptions;
use std::sync::{Arc, OnceLock};

/// One file with its encodings. An answer shares them (a `Bytes` clone counts a reference); an
/// embedded file's bytes stay in the binary's read-only data, never copied.
pub struct Asset {
    pub mime: String,
    pub etag: String,
    pub identity: Bytes,
    /// made by the build; none for a file not worth compressing
    pub gzip: Option<Bytes>,
    pub br: Option<Bytes>,
}

impl Asset {
    /// A file read at run time (development, tests): hashed now.
    #[cfg(any(test, not(feature = "embed")))]
    pub fn new(mime: String, bytes: impl Into<Bytes>) -> Asset {
        use sha2::{Digest, Sha256};
        let bytes = bytes.into();
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        Asset::hashed(mime, bytes, &digest)
    }

    /// A file whose SHA-256 is known (an embedded file's is computed when the binary is built,
    /// so its bytes are not read until they are sent).
    pub fn hashed(mime: String, bytes: Bytes, sha256: &[u8; 32]) -> Asset {
        let etag = format!("\"{}\"", hex::encode(&sha256[..12]));
        Asset {
            mime,
            etag,
            identity: bytes,
            gzip: None,
            br: None,
        }
    }

    /// The same file with its compressed encodings (as the build made them).
    #[cfg(any(test, feature = "embed"))]
    pub fn with_encodings(self, gzip: Option<Bytes>, br: Option<Bytes>) -> Asset {
        Asset { gzip, br, ..self }
    }
}

/// Whether `accept` (an `Accept-Encoding` value) takes `coding` (absent or `q=0`: no).
fn accepts(accept: &str, coding: &str) -> bool {
    accept.split(',').any(|part| {
        let mut items = part.split(';').map(str::trim);
        let name = items.next().unwrap_or("");
        let q = items
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        name.eq_ignore_ascii_case(coding) && q > 0.0
    })
}

/// How long browsers may keep a file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Caching {
    /// ask again each time (an ETag makes that a 304)
    Revalidate,
    /// for good: its name changes with its content
    Immutable,
}

/// The answer for `asset` to a request with `headers`: 304 when the browser has it, else the
/// best encoding it accepts.
pub fn answer(asset: &Asset, headers: &HeaderMap, caching: Caching) -> Response {
    let common = |response: &mut Response| {
        let h = response.headers_mut();
        if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
            h.insert(header::ETAG, etag);
        }
        let cache_control = match caching {
            Caching::Revalidate => "no-cache",
            Caching::Immutable => "public, max-age=31536000, immutable",
        };
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    };
    let known = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    if known {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        common(&mut response);
        return response;
    }
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (coding, bytes) = match (&asset.br, &asset.gzip) {
        (Some(br), _) if accepts(accept, "br") => (Some("br"), br.clone()),
        (_, Some(gz)) if accepts(accept, "gzip") => (Some("gzip"), gz.clone()),
        _ => (None, asset.identity.clone()),
    };
    let mut response = ([(header::CONTENT_TYPE, asset.mime.clone())], bytes).into_response();
    common(&mut response);
    if let Some(coding) = coding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    response
}

#[cfg(feature = "embed")]
mod files {
    use super::Asset;
    use axum::body::Bytes;
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock};

    #[derive(rust_embed::Embed)]
    #[folder = "../target/site"]
    struct Site;

    /// A file's bytes, where the binary holds them.
    fn shared(data: std::borrow::Cow<'static, [u8]>) -> Bytes {
        match data {
            std::borrow::Cow::Borrowed(data) => Bytes::from_static(data),
            std::borrow::Cow::Owned(data) => data.into(),
        }
    }

    fn embedded(path: &str) -> Option<Bytes> {
        Site::get(path).map(|file| shared(file.data))
    }

    /// Every file with the encodings the build made of it (`x.gz` and `x.br` next to `x`, not
    /// files of their own).
    static ASSETS: LazyLock<HashMap<String, Arc<Asset>>> = LazyLock::new(|| {
        Site::iter()
            .filter(|path| !path.ends_with(".br") && !path.ends_with(".gz"))
            .filter_map(|path| {
                let file = Site::get(&path)?;
                let mime = file.metadata.mimetype().to_string();
                let sha256 = file.metadata.sha256_hash();
                let asset = Asset::hashed(mime, shared(file.data), &sha256).with_encodings(
                    embedded(&format!("{path}.gz")),
                    embedded(&format!("{path}.br")),
                );
                Some((path.into_owned(), Arc::new(asset)))
            })
            .collect()
    });

    pub fn lookup(path: &str) -> Option<Arc<Asset>> {
        ASSETS.get(path).cloned()
    }

    pub fn named() -> Vec<(String, Arc<Asset>)> {
        ASSETS.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    pub fn has_site() -> bool {
        ASSETS.contains_key("pkg/havip.wasm")
    }
}

#[cfg(not(feature = "embed"))]
mod files {
    use super::Asset;
    use std::sync::Arc;

    const SITE: &str = "target/site";

    pub fn lookup(path: &str) -> Option<Arc<Asset>> {
        if path.split('/').any(|p| p == "..") {
            return None;
        }
        let bytes = std::fs::read(std::path::Path::new(SITE).join(path)).ok()?;
        let mime = match path.rsplit('.').next() {
            Some("wasm") => "application/wasm",
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("svg") => "image/svg+xml",
            _ => "application/octet-stream",
        };
        Some(Arc::new(Asset::new(mime.to_string(), bytes)))
    }

    /// The files under `pkg/`, read now (development).
    pub fn named() -> Vec<(String, Arc<Asset>)> {
        let Ok(dir) = std::fs::read_dir(std::path::Path::new(SITE).join("pkg")) else {
            return vec![];
        };
        dir.filter_map(|entry| {
            let path = format!("pkg/{}", entry.ok()?.file_name().to_str()?);
            let asset = lookup(&path)?;
            Some((path, asset))
        })
        .collect()
    }

    pub fn has_site() -> bool {
        std::path::Path::new(SITE).join("pkg/havip.wasm").is_file()
    }
}

/// Whether the pages' scripts can be served (embedded, or found in `target/site`).
pub fn has_site() -> bool {
    files::has_site()
}

/// Where the bundle's files are, as cargo-leptos writes them.
const PKG: &str = "pkg/";

/// The main module's files, as Cargo.toml's `name` makes them.
const MAIN: [&str; 3] = ["pkg/havip.wasm", "pkg/havip.js", "pkg/havip.css"];

/// Which wasm chunks each lazy route needs (written by `cargo leptos build --split`).
const SPLIT_MANIFEST: &str = "pkg/__wasm_split_manifest.json";

/// The loader of the wasm chunks, under the name cargo-leptos gives it without `hash-files`.
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";

/// Where pages load the bundle from: `pkg/<16 hex digits>`, hashed from the names and contents
/// of every file under `pkg/`, or plain `pkg` when the site is missing. Taken once, at start.
pub fn bundle_dir() -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| {
        use sha2::{Digest, Sha256};
        if MAIN.iter().any(|path| files::lookup(path).is_none()) {
            return "pkg".to_string();
        }
        let mut bundle: Vec<(String, Arc<Asset>)> = files::named()
            .into_iter()
            .filter(|(path, _)| path.starts_with(PKG))
            .collect();
        bundle.sort_by(|a, b| a.0.cmp(&b.0));
        let mut hash = Sha256::new();
        for (path, asset) in &bundle {
            hash.update(path.as_bytes());
            hash.update(asset.etag.as_bytes());
        }
        format!("pkg/{}", hex::encode(&hash.finalize()[..8]))
    })
}

/// The file and how it may be cached: `pkg/<hash>/x` is `pkg/x` while the hash is the current
/// one (an old page's directory after an upgrade is not found).
fn resolve(path: &str) -> Option<(Arc<Asset>, Caching)> {
    let versioned = bundle_dir();
    if versioned != "pkg" {
        if let Some(file) = path
            .strip_prefix(versioned)
            .and_then(|p| p.strip_prefix('/'))
        {
            if file.is_empty() || file.contains('/') {
                return None;
            }
            return files::lookup(&format!("{PKG}{file}")).map(|a| (a, Caching::Immutable));
        }
    }
    files::lookup(path).map(|a| (a, Caching::Revalidate))
}

/// Which chunks each lazy route needs, for the page to name them in `<link rel=preload>` as it
/// is rendered (leptos looks for the manifest on disk, where an embedded site has none).
pub fn split_manifest() -> Option<leptos::WasmSplitManifest> {
    static MANIFEST: OnceLock<Option<leptos::WasmSplitManifest>> = OnceLock::new();
    MANIFEST
        .get_or_init(|| {
            let asset = files::lookup(SPLIT_MANIFEST)?;
            let preloads = serde_json::from_slice(&asset.identity).ok()?;
            Some(leptos::WasmSplitManifest(
                leptos::prelude::ArcStoredValue::new((
                    format!("/{}", bundle_dir()),
                    preloads,
                    SPLIT_LOADER.to_string(),
                )),
            ))
        })
        .clone()
}

pub async fn file_or_404(State(options): State<LeptosOptions>, req: Request<Body>) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    if let Some((asset, caching)) = resolve(path) {
        return answer(&asset, req.headers(), caching);
    }
    let render = leptos_axum::render_app_to_stream(move || shell(options.clone()));
    let mut res = render(req).await.into_response();
    *res.status_mut() = StatusCode::NOT_FOUND;
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn get(asset: &Asset, pairs: &[(header::HeaderName, &str)]) -> (u16, HeaderMap, Vec<u8>) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(name.clone(), value.parse().unwrap());
        }
        let response = answer(asset, &headers, Caching::Revalidate);
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    #[tokio::test]
    async fn the_best_accepted_encoding_is_sent_and_known_files_get_304() {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        // a file with no encodings is sent as it is
        let plain_only = Asset::new("text/javascript".into(), text.clone());
        let (_, headers, body) = get(&plain_only, &[(header::ACCEPT_ENCODING, "gzip, br")]).await;
        assert!(headers.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body, text);
        let asset = Asset::new("text/javascript".into(), text.clone())
            .with_encodings(Some(gzip(&text).into()), Some(brotli(&text).into()));
        let (status, headers, body) =
            get(&asset, &[(header::ACCEPT_ENCODING, "gzip, deflate, br")]).await;
        assert_eq!(
            (status, &headers[header::CONTENT_ENCODING]),
            (200, &HeaderValue::from_static("br"))
        );
        assert_eq!(unbrotli(&body), text);
        assert!(
            body.len() * 10 < text.len(),
            "{} of {}",
            body.len(),
            text.len()
        );
        let (_, headers, body) = get(&asset, &[(header::ACCEPT_ENCODING, "br;q=0, gzip")]).await;
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        assert_eq!(gunzip(&body), text);
        let (_, headers, body) = get(&asset, &[]).await;
        assert!(headers.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body, text);
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        assert_eq!(headers[header::VARY], "accept-encoding");
        // revalidation: the same ETag costs no bytes
        let etag = headers[header::ETAG].to_str().unwrap().to_string();
        let (status, headers, body) = get(&asset, &[(header::IF_NONE_MATCH, &etag)]).await;
        assert_eq!((status, body.len()), (304, 0));
        assert_eq!(headers[header::ETAG], etag.as_str());
        let (status, _, _) = get(&asset, &[(header::IF_NONE_MATCH, "\"other\"")]).await;
        assert_eq!(status, 200);
    }

    #[test]
    fn the_bundle_is_kept_for_good_under_its_hashed_directory_and_revalidated_under_pkg() {
        if !has_site() {
            eprintln!("skipped: no site to serve (build the front end first: make build)");
            return;
        }
        let dir = bundle_dir();
        let hash = dir.strip_prefix("pkg/").unwrap();
        assert!(
            hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{dir}"
        );
        let mut files = vec!["havip.wasm", "havip.js", "havip.css"];
        let manifest = split_manifest().expect("a split build's manifest");
        let (root, preloads, loader) = leptos::prelude::GetValue::get_value(&manifest.0);
        assert_eq!(root, format!("/{dir}"));
        let chunk = format!("{}.wasm", preloads.values().flatten().next().unwrap());
        files.extend([loader.as_str(), chunk.as_str()]);
        for file in files {
            let (hashed, caching) = resolve(&format!("{dir}/{file}")).unwrap();
            assert_eq!(caching, Caching::Immutable, "{file}");
            let (plain, caching) = resolve(&format!("pkg/{file}")).unwrap();
            assert_eq!(caching, Caching::Revalidate, "{file}");
            assert_eq!(hashed.etag, plain.etag, "the same file");
        }
        // another build's directory, and what is not a bundle file under the current one
        assert!(resolve("pkg/0123456789abcdef/havip.wasm").is_none());
        assert!(resolve(&format!("{dir}/")).is_none());
        assert!(resolve(&format!("{dir}/../favicon.svg")).is_none());
        assert!(resolve(&format!("{dir}/nothing.wasm")).is_none());
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }

    fn brotli(data: &[u8]) -> Vec<u8> {
        let mut br = Vec::new();
        brotli::BrotliCompress(&mut &data[..], &mut br, &Default::default()).unwrap();
        br
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut plain = vec![];
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(data), &mut plain).unwrap();
        plain
    }

    fn unbrotli(data: &[u8]) -> Vec<u8> {
        let mut plain = vec![];
        brotli::BrotliDecompress(&mut &data[..], &mut plain).unwrap();
        plain
    }

    /// The release binary carries the encodings `scripts/front-end.sh` made, paired with their
    /// files: a third of the wasm's size, the same bytes once decoded, never files of their own.
    #[cfg(feature = "embed")]
    #[test]
    fn the_embedded_site_carries_the_encodings_its_build_made() {
        let wasm = files::lookup("pkg/havip.wasm").expect("the main wasm");
        let (gz, br) = (wasm.gzip.as_ref().unwrap(), wasm.br.as_ref().unwrap());
        assert!(br.len() < gz.len() && gz.len() * 2 < wasm.identity.len());
        // the hash the build computed is the file's
        let rehashed = Asset::new(wasm.mime.clone(), wasm.identity.clone());
        assert_eq!(wasm.etag, rehashed.etag);
        assert_eq!(gunzip(gz), wasm.identity);
        assert_eq!(unbrotli(br), wasm.identity);
        for file in ["pkg/havip.js", "pkg/havip.css"] {
            let asset = files::lookup(file).unwrap();
            assert_eq!(
                gunzip(asset.gzip.as_ref().unwrap()),
                asset.identity,
                "{file}"
            );
        }
        for name in ["pkg/havip.wasm.br", "pkg/havip.wasm.gz", "pkg/havip.js.gz"] {
            assert!(files::lookup(name).is_none(), "{name}");
            assert!(
                files::named().iter().all(|(path, _)| path != name),
                "{name}"
            );
        }
    }
}

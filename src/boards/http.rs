//! The HTTP driver every board shares: send a request, read the answer, and
//! classify the usual signals (Vector's `HttpRetryLogic` plus DESIGN.md's
//! ambiguous class). A board overrides only where its signals differ.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use sha2::{Digest, Sha256};

use super::{BoardError, CallLog, ErrorClass};

/// The longest stretch of a board's answer kept in an error (ops read it).
const MAX_DETAIL_CHARS: usize = 600;

/// The largest board answer read when no limit is set (`dispatch.max_answer_bytes`).
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The deepest nesting of objects, arrays or elements read from a board.
/// No board documents an answer deeper than about a dozen levels; parsers and
/// `Drop` of trees recurse, so a hostile depth would overflow the stack
/// (serde_json stops at 128 on its own; quick-xml and our trees do not).
pub const MAX_ANSWER_DEPTH: usize = 128;

tokio::task_local! {
    /// The answer size limit of the attempt running on this task (set by the
    /// dispatcher from configuration; [`DEFAULT_MAX_ANSWER_BYTES`] elsewhere).
    pub static MAX_ANSWER_BYTES: usize;
}

/// The answer size limit in force for the current task.
pub fn max_answer_bytes() -> usize {
    MAX_ANSWER_BYTES
        .try_with(|limit| *limit)
        .unwrap_or(DEFAULT_MAX_ANSWER_BYTES)
}

/// A board's answer, read in full.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, board: &str) -> Result<T, BoardError> {
        serde_json::from_str(&self.body).map_err(|error| {
            BoardError::new(
                ErrorClass::Ambiguous,
                Some(self.status),
                format!(
                    "{board} answered {} with a body we could not read ({error}): {}",
                    self.status,
                    excerpt(&self.body)
                ),
            )
        })
    }

    /// The board's answer, classified by status code alone.
    pub fn error(&self, board: &str) -> BoardError {
        classify(
            self.status,
            &self.headers,
            &format!("{board} answered {}: {}", self.status, excerpt(&self.body)),
        )
    }
}

/// Sends `request` (whose body is `body`, for the attempt's hash) and reads the answer.
/// Transport failures are classified here: nothing sent is transient, a lost
/// answer is ambiguous.
pub async fn send(
    board: &str,
    request: reqwest::RequestBuilder,
    body: Option<&[u8]>,
    log: &mut CallLog,
) -> Result<Reply, BoardError> {
    if let Some(answer) = super::preview::intercept(&request).await {
        return answer;
    }
    if let Some(body) = body {
        log.request_hash = Some(hash(body));
    }
    let response = request
        .send()
        .await
        .map_err(|error| transport_error(board, &error))?;
    log.http_status = Some(response.status().as_u16());
    read_reply(board, response, |error| transport_error(board, error)).await
}

/// Reads a board's answer, streamed, up to [`max_answer_bytes`], and checks
/// its nesting ([`check_depth`]). An answer over either bound fails the
/// attempt: ambiguous after a 2xx (the board may have acted), else as its status.
/// `transport` classifies a connection lost while reading.
pub async fn read_reply(
    board: &str,
    mut response: reqwest::Response,
    transport: impl Fn(&reqwest::Error) -> BoardError,
) -> Result<Reply, BoardError> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let limit = max_answer_bytes();
    let too_large = |read: String| {
        oversized(
            status,
            &headers,
            format!(
                "{board} answered {status} with {read}, more than the {limit} bytes we read \
                 (dispatch.max_answer_bytes); the rest was not read"
            ),
        )
    };
    if let Some(declared) = response.content_length()
        && declared > limit as u64
    {
        return Err(too_large(format!("{declared} bytes")));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| transport(&error))? {
        if bytes.len() + chunk.len() > limit {
            return Err(too_large("a longer body".to_owned()));
        }
        bytes.extend_from_slice(&chunk);
    }
    let body = decode(&headers, &bytes);
    if let Err(depth) = check_depth(&body) {
        return Err(oversized(
            status,
            &headers,
            format!(
                "{board} answered {status} with a body nested deeper than {depth} levels; \
                 not parsed"
            ),
        ));
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn oversized(status: u16, headers: &HeaderMap, message: String) -> BoardError {
    if (200..300).contains(&status) {
        BoardError::new(ErrorClass::Ambiguous, Some(status), message)
    } else {
        classify(status, headers, &message)
    }
}

/// The body as text in the charset its `Content-Type` names (UTF-8 when it
/// names none), malformed sequences replaced, as `reqwest::Response::text` does.
pub(crate) fn decode(headers: &HeaderMap, bytes: &[u8]) -> String {
    let charset = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value.split(';').skip(1).find_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("charset")
                    .then(|| value.trim().trim_matches('"').to_owned())
            })
        });
    let encoding = charset
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned()
}

/// Refuses text nested deeper than [`MAX_ANSWER_DEPTH`] before any parser or
/// tree sees it; answers the limit crossed. JSON (`{`/`[`) and XML (`<`) are
/// measured; HTML pages (void elements never close) and other text pass.
/// Linear and allocation-free, so it is safe on any input.
pub fn check_depth(text: &str) -> Result<(), usize> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let deepest = match text.as_bytes().first() {
        Some(b'{' | b'[') => json_depth(text.as_bytes()),
        Some(b'<') if !looks_like_html(text) => xml_depth(text.as_bytes()),
        _ => 0,
    };
    if deepest > MAX_ANSWER_DEPTH {
        Err(MAX_ANSWER_DEPTH)
    } else {
        Ok(())
    }
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// The deepest `{`/`[` nesting outside strings.
fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The deepest element nesting: start tags open, end tags close, empty-element
/// tags, comments, CDATA, processing instructions and declarations do neither.
fn xml_depth(bytes: &[u8]) -> usize {
    let find = |from: usize, needle: &[u8]| {
        bytes[from.min(bytes.len())..]
            .windows(needle.len())
            .position(|window| window == needle)
            .map_or(bytes.len(), |at| from + at + needle.len())
    };
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'<' {
            at += 1;
            continue;
        }
        let rest = &bytes[at..];
        if rest.starts_with(b"<!--") {
            at = find(at + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            at = find(at + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            at = find(at + 2, b"?>");
        } else if rest.starts_with(b"<!") {
            at = find(at + 2, b">");
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            at = find(at + 2, b">");
        } else {
            // A start tag: to its `>`, skipping quoted attribute values.
            let mut end = at + 1;
            let mut quote = None;
            while end < bytes.len() {
                match (quote, bytes[end]) {
                    (Some(q), byte) if byte == q => quote = None,
                    (None, b'"' | b'\'') => quote = Some(bytes[end]),
                    (None, b'>') => break,
                    _ => {}
                }
                end += 1;
            }
            if end <= at + 1 || bytes[end - 1] != b'/' {
                depth += 1;
                deepest = deepest.max(depth);
            }
            at = end + 1;
        }
    }
    deepest
}

fn transport_error(board: &str, error: &reqwest::Error) -> BoardError {
    // reqwest's message names the URL, never credentials (they travel in headers or bodies).
    let cause = std::error::Error::source(error)
        .map(|source| format!(": {source}"))
        .unwrap_or_default();
    if error.is_connect() {
        BoardError::new(
            ErrorClass::Transient,
            None,
            format!("could not connect to {board}{cause}"),
        )
    } else if error.is_timeout() {
        BoardError::new(
            ErrorClass::Ambiguous,
            None,
            format!("{board} did not answer in time; it may have acted on the request"),
        )
    } else {
        BoardError::new(
            ErrorClass::Ambiguous,
            None,
            format!("the connection to {board} failed mid-request{cause}"),
        )
    }
}

/// DESIGN.md's classes by status code.
pub fn classify(status: u16, headers: &HeaderMap, message: &str) -> BoardError {
    let class = match status {
        429 => ErrorClass::Throttled,
        408 | 503 => ErrorClass::Transient,
        401 => ErrorClass::Auth,
        500..=599 => ErrorClass::Ambiguous,
        _ => ErrorClass::Rejected,
    };
    BoardError::new(class, Some(status), message).with_retry_after(retry_after(headers))
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// A board's words, cut to a length ops can read.
pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Short SHA-256 of a request body, kept with each attempt.
pub fn hash(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;
    use futures_util::StreamExt;
    use reqwest::header::HeaderValue;

    #[test]
    fn status_classes() {
        let none = HeaderMap::new();
        assert_eq!(classify(429, &none, "").class, ErrorClass::Throttled);
        assert_eq!(classify(503, &none, "").class, ErrorClass::Transient);
        assert_eq!(classify(408, &none, "").class, ErrorClass::Transient);
        assert_eq!(classify(500, &none, "").class, ErrorClass::Ambiguous);
        assert_eq!(classify(502, &none, "").class, ErrorClass::Ambiguous);
        assert_eq!(classify(401, &none, "").class, ErrorClass::Auth);
        for permanent in [400, 403, 404, 409, 413, 422] {
            assert_eq!(classify(permanent, &none, "").class, ErrorClass::Rejected);
        }
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));

        let later = SystemTime::now() + Duration::from_secs(3600);
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let parsed = retry_after(&headers).unwrap();
        assert!(parsed > Duration::from_secs(3590) && parsed <= Duration::from_secs(3600));

        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    /// Serves `body` at `/` on a port of its own; answers the URL.
    async fn board_answering(
        body: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static,
    ) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/", axum::routing::get(move || async move { body() }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    async fn fetch(url: &str) -> Result<Reply, BoardError> {
        let request = reqwest::Client::new().get(url);
        send("Hostile", request, None, &mut CallLog::default()).await
    }

    /// Issue 12, finding 7: a 1 GiB answer, streamed without a length, is cut
    /// at the limit; the server is not read much past it.
    #[tokio::test]
    async fn a_huge_streamed_answer_fails_the_attempt_and_is_not_read_whole() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        const CHUNK: usize = 64 * 1024;
        let served = Arc::new(AtomicUsize::new(0));
        let counter = served.clone();
        let url = board_answering(move || {
            let counter = counter.clone();
            let chunks = futures_util::stream::repeat_with(move || {
                counter.fetch_add(CHUNK, Ordering::Relaxed);
                Ok::<_, std::convert::Infallible>(axum::body::Bytes::from_static(&[b' '; CHUNK]))
            })
            .take((1usize << 30) / CHUNK);
            axum::response::Response::new(axum::body::Body::from_stream(chunks))
        })
        .await;
        let limit = 1024 * 1024;
        let error = MAX_ANSWER_BYTES
            .scope(limit, fetch(&url))
            .await
            .unwrap_err();
        assert_eq!(error.class, ErrorClass::Ambiguous, "{error:?}");
        assert!(
            error.message.contains("more than the 1048576 bytes"),
            "{}",
            error.message
        );
        // Socket buffers hold a few MiB at most; the gibibyte was never sent.
        assert!(served.load(Ordering::Relaxed) < 64 * 1024 * 1024);
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let url = board_answering(|| {
            axum::response::Response::builder()
                .status(502)
                .body(axum::body::Body::from(vec![b'x'; 5 * 1024 * 1024]))
                .unwrap()
        })
        .await;
        let error = fetch(&url).await.unwrap_err();
        // A non-2xx answer keeps its own class.
        assert_eq!(error.class, ErrorClass::Ambiguous);
        assert_eq!(error.http_status, Some(502));
        assert!(error.message.contains("5242880 bytes"), "{}", error.message);
    }

    /// Issue 12, finding 4: 300,000 nested elements (or arrays) never reach
    /// a parser, and the error says why.
    #[tokio::test]
    async fn deeply_nested_answers_fail_before_any_parser() {
        let xml = format!(
            "<?xml version=\"1.0\"?>{}{}",
            "<a>".repeat(300_000),
            "</a>".repeat(300_000)
        );
        let url = board_answering(move || xml.clone().into_response()).await;
        let error = fetch(&url).await.unwrap_err();
        assert_eq!(error.class, ErrorClass::Ambiguous);
        assert!(
            error.message.contains("nested deeper than 128"),
            "{}",
            error.message
        );

        let json = format!("{}{}", "[".repeat(300_000), "]".repeat(300_000));
        let url = board_answering(move || json.clone().into_response()).await;
        assert!(
            fetch(&url)
                .await
                .unwrap_err()
                .message
                .contains("nested deeper")
        );
    }

    #[test]
    fn depth_is_measured_as_parsers_see_it() {
        let nest = |open: &str, close: &str, n| format!("{}{}", open.repeat(n), close.repeat(n));
        assert_eq!(check_depth(&nest("<a>", "</a>", 128)), Ok(()));
        assert_eq!(check_depth(&nest("<a>", "</a>", 129)), Err(128));
        assert_eq!(check_depth(&nest("{\"a\":", "}", 129)), Err(128));
        assert_eq!(check_depth(&nest("[", "]", 128)), Ok(()));
        // Siblings, empty elements, comments, CDATA and strings do not nest.
        assert_eq!(
            check_depth(&"<a><b/><c x='>'></c></a>".repeat(1000)),
            Ok(())
        );
        let flat = format!(
            "<r>{}</r>",
            "<!-- <a> --><![CDATA[<a>]]><?pi <a>?><e/>".repeat(500)
        );
        assert_eq!(check_depth(&flat), Ok(()));
        assert_eq!(
            check_depth(&format!("{{\"k\":\"{}\"}}", "[{".repeat(500))),
            Ok(())
        );
        // HTML error pages have void elements that never close.
        assert_eq!(
            check_depth(&format!("<!DOCTYPE html><html>{}", "<br>".repeat(500))),
            Ok(())
        );
    }

    #[tokio::test]
    async fn answers_are_decoded_in_their_charset() {
        let url = board_answering(|| {
            axum::response::Response::builder()
                .header("content-type", "text/xml; charset=windows-1252")
                .body(axum::body::Body::from(b"<r>caf\xe9</r>".to_vec()))
                .unwrap()
        })
        .await;
        assert_eq!(fetch(&url).await.unwrap().body, "<r>café</r>");
    }

    #[test]
    fn excerpts_are_cut_on_character_boundaries() {
        let greek = "Στέλεχος ".repeat(200);
        let cut = excerpt(&greek);
        assert_eq!(cut.chars().count(), MAX_DETAIL_CHARS + 1);
    }
}

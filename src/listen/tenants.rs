//! A tenant named by the request's path (issue 25, part 4): `/t/<tenant>/<the front's own path>`. One node
//! serves the books of many shops from one PostgreSQL store; a shop's POS apps are given
//! `http://node/t/<tenant>` as their server's address and call the same paths as ever under it. A request
//! without the prefix is the default tenant's. Each front says how it builds a tenant's own front
//! ([`Fronts`]); this layer finds the tenant before the front reads anything, PINs and tokens included.
use axum::Router;
use axum::extract::{OriginalUri, Request};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// The path prefix that names a tenant.
pub const PREFIX: &str = "/t/";

/// A tenant's front, or the answer when there is none to give.
pub type Built = Result<Option<Router>, Response>;

/// How a front serves its tenants.
pub trait Fronts: Send + Sync + 'static {
    /// Tenant `name`'s own front (built on first use, then kept); None when this node serves no such tenant.
    fn front<'a>(&'a self, name: &'a str) -> Pin<Box<dyn Future<Output = Built> + Send + 'a>>;

    /// The answer, in the front's own envelope, to a name this node serves no tenant by.
    fn unknown(&self, name: &str) -> Response;
}

/// `router` with its tenants' fronts under [`PREFIX`], when it has any.
pub fn around(router: Router, fronts: Option<Arc<dyn Fronts>>) -> Router {
    match fronts {
        Some(fronts) => router.layer(axum::middleware::from_fn(move |req, next| route(fronts.clone(), req, next))),
        None => router,
    }
}

/// Sends a request under `/t/<tenant>/` to that tenant's front, with the prefix taken off its path and its
/// original address kept (a handover to another node sends that); any other request to the default front.
async fn route(fronts: Arc<dyn Fronts>, request: Request, next: Next) -> Response {
    let Some((name, rest)) = named(request.uri()) else {
        return next.run(request).await;
    };
    let front = match fronts.front(&name).await {
        Ok(Some(front)) => front,
        Ok(None) => return fronts.unknown(&name),
        Err(answer) => return answer,
    };
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(OriginalUri(parts.uri.clone()));
    parts.uri = rest;
    let span = tracing::info_span!("tenant", tenant = %name);
    match tracing::Instrument::instrument(front.oneshot(Request::from_parts(parts, body)), span).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The tenant a path names and the path without its prefix: `/t/shop-1/GetKKMs?x` → (`shop-1`, `/GetKKMs?x`).
fn named(uri: &Uri) -> Option<(String, Uri)> {
    let rest = uri.path().strip_prefix(PREFIX)?;
    let (name, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let path = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    Some((name.to_owned(), path.parse().ok()?))
}

/// Tenants' fronts kept by name once built, with when each was last used.
#[derive(Default)]
struct Kept(std::sync::Mutex<std::collections::HashMap<String, (Router, Instant)>>);

impl Kept {
    fn get(&self, name: &str) -> Option<Router> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (front, used) = kept.get_mut(name)?;
        *used = Instant::now();
        Some(front.clone())
    }

    /// Keeps `front` for `name`, unless another request built one first: the one kept is returned.
    fn keep(&self, name: &str, front: Router) -> Router {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.entry(name.to_owned()).or_insert((front, Instant::now())).0.clone()
    }

    /// Lets go of the fronts not used in `idle` (a request under way keeps its own); their names.
    fn drop_idle(&self, idle: Duration) -> Vec<String> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.extract_if(|_, (_, used)| used.elapsed() >= idle).map(|(name, _)| name).collect()
    }
}

/// Tenants' fronts built on a blocking thread (they may read the store) by `build`, which answers None for a
/// tenant the node does not serve and says why it cannot build one; `answer` puts a refusal in the front's
/// envelope.
pub struct Blocking {
    build: Arc<dyn Fn(&str) -> Result<Option<Router>, String> + Send + Sync>,
    answer: fn(String) -> Response,
    kept: Kept,
}

impl Blocking {
    pub fn new(
        build: impl Fn(&str) -> Result<Option<Router>, String> + Send + Sync + 'static,
        answer: fn(String) -> Response,
    ) -> Blocking {
        Blocking { build: Arc::new(build), answer, kept: Kept::default() }
    }

    /// Lets go of the tenants' fronts not used in `idle`; the next request builds its tenant's again.
    pub fn drop_idle(&self, idle: Duration) -> Vec<String> {
        self.kept.drop_idle(idle)
    }
}

impl Fronts for Blocking {
    fn front<'a>(&'a self, name: &'a str) -> Pin<Box<dyn Future<Output = Built> + Send + 'a>> {
        Box::pin(async move {
            if let Some(front) = self.kept.get(name) {
                return Ok(Some(front));
            }
            let (build, owned) = (self.build.clone(), name.to_owned());
            match tokio::task::spawn_blocking(move || build(&owned)).await {
                Ok(Ok(Some(front))) => {
                    tracing::info!(tenant = %name, "serving a tenant");
                    Ok(Some(self.kept.keep(name, front)))
                }
                Ok(Ok(None)) => Ok(None),
                Ok(Err(why)) => {
                    tracing::warn!(tenant = %name, error = %why, "cannot serve a tenant");
                    Err((self.answer)(format!("tenant {name:?} cannot be served: {why}")))
                }
                Err(e) => Err((self.answer)(format!("a blocking task failed: {e}"))),
            }
        })
    }

    fn unknown(&self, name: &str) -> Response {
        (self.answer)(format!("no tenant {name:?} is served here"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_names_the_tenant_and_leaves_the_fronts_path() {
        let uri: Uri = "/t/shop-1/GetKKMs?lang=kk".parse().unwrap();
        let (name, rest) = named(&uri).unwrap();
        assert_eq!((name.as_str(), rest.to_string().as_str()), ("shop-1", "/GetKKMs?lang=kk"));
        assert_eq!(named(&"/t/shop-1".parse().unwrap()).unwrap().1.path(), "/");
        assert!(named(&"/GetKKMs".parse().unwrap()).is_none());
        assert!(named(&"/tx/GetKKMs".parse().unwrap()).is_none());
    }
}

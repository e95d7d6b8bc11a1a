//! Every route of the hub, grouped by client. API routes are registered through utoipa-axum so
//! the OpenAPI document is generated from the same list that routes requests.

use crate::api::catalogue as cat;
use crate::state::AppState;
use crate::{assets, pages};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Request bodies above this are refused with 413 before they are read into memory.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mitsprache API",
        description = "The participation hub's public API: the marketplace of participation tools and interfaces.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    tags(
        (name = "catalogue", description = "Marketplace: tools, interfaces and the function taxonomy"),
        (name = "matching", description = "Matching assistant: requirement profile to ranked, explained tools and toolkits"),
    ),
    // Types reached only through the `Known<T>` schema helpers, which reference but cannot
    // register them.
    components(schemas(
        mitsprache_catalogue::WcagLevel,
        mitsprache_catalogue::CostModel,
        mitsprache_catalogue::Sourced,
        mitsprache_catalogue::LocalizedText,
        crate::api::catalogue::WriteResult,
    )),
    modifiers(&EditorToken),
)]
struct ApiDoc;

struct EditorToken;

impl Modify for EditorToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "editor_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Catalogue editor token from the hub's configuration"))
                    .build(),
            ),
        );
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(cat::list_tools))
        .routes(routes!(cat::get_tool, cat::put_tool, cat::delete_tool))
        .routes(routes!(cat::get_tool_publiccode))
        .routes(routes!(cat::list_interfaces))
        .routes(routes!(cat::get_interface, cat::put_interface, cat::delete_interface))
        .routes(routes!(cat::list_functions))
        .routes(routes!(cat::list_process_types))
        .routes(routes!(cat::get_catalogue))
        .routes(routes!(crate::api::matching::post_matching))
}

/// The OpenAPI 3.1 document (snapshot-tested).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = api().split_for_parts();
    let openapi_json = openapi.to_pretty_json().unwrap_or_default();

    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/marktplatz") }))
        .route("/marktplatz", get(pages::marketplace::list_page))
        .route("/marktplatz/werkzeuge/{slug}", get(pages::marketplace::tool_page))
        .route("/marktplatz/schnittstellen", get(pages::marketplace::interfaces_page))
        .route("/marktplatz/schnittstellen/{slug}", get(pages::marketplace::interface_page))
        .route("/marktplatz/vergleich", get(pages::marketplace::compare_page))
        .route("/marktplatz/assistent", get(pages::assistant::assistant_page))
        .route("/marktplatz/assistent/bewertungsmatrix.csv", get(pages::assistant::matrix_csv))
        // Pages frame nothing and are framed by nothing; no inline script or style anywhere.
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            ),
        ));

    Router::new()
        .merge(api_router)
        .route(
            "/api/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json.clone()) }),
        )
        .route("/healthz", get(healthz))
        .route("/assets/style.css", get(assets::style))
        .merge(pages)
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .with_state(state)
}

/// 200 once the hub serves and its database answers; 503 otherwise.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

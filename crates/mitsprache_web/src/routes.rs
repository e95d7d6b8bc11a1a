//! Every route of the hub, grouped by client. API routes are registered through utoipa-axum so
//! the OpenAPI document is generated from the same list that routes requests.

use crate::api::catalogue as cat;
use crate::pages::{account, login};
use crate::render::PAGE_CSP;
use crate::state::AppState;
use crate::{assets, error, oidc, pages};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mitsprache_oidc::discovery::paths;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Request bodies above this are refused with 413 before they are read into memory.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request still running after this is answered 503, in its group's format: the timeout sits
/// inside each group's renderer, so the answer is a page, problem+json or RFC 6749 JSON.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn timeout() -> tower_http::timeout::TimeoutLayer {
    tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT)
}

/// Refuses a body announced larger than the limit before reading any of it (and one that grows
/// past it while read), inside each group's renderer like the timeout.
fn body_limit() -> tower_http::limit::RequestBodyLimitLayer {
    tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mitsprache API",
        description = "The participation hub's public API: the marketplace of participation tools and interfaces, and the matching assistant. Reads are open; catalogue writes need an editor's access token with the catalogue:write scope, data pushes a tool's client_credentials token with the data:write scope.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    tags(
        (name = "catalogue", description = "Marketplace: tools, interfaces and the function taxonomy"),
        (name = "matching", description = "Matching assistant: requirement profile to ranked, explained tools and toolkits"),
        (name = "data", description = "The data standard: tools push their processes, contributions, events, results, organisations and council papers (scope data:write); everyone reads them. Schemas at /standard/v1/{type}.schema.json"),
    ),
    // Types reached only through the `Known<T>` schema helpers, which reference but cannot
    // register them.
    components(schemas(
        mitsprache_catalogue::WcagLevel,
        mitsprache_catalogue::CostModel,
        mitsprache_catalogue::CostFigure,
        mitsprache_catalogue::TrainingOffer,
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
            "access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token of this hub (RFC 9068 JWT) for its API (audience PUBLIC_URL/api) with the \
                         scope catalogue:write, held by an editor: a person with the editor or admin role, through a \
                         tool registered for that scope (authorization code flow), or a machine client an admin gave \
                         the editor role (client_credentials). Data pushes need the scope data:write on a \
                         client_credentials token of the tool's own client.",
                    ))
                    .build(),
            ),
        );
    }
}

/// A bulk import may be this large; larger data goes in several requests.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

fn api() -> OpenApiRouter<AppState> {
    use crate::api::data as d;
    // The bulk import alone takes large bodies; every other route keeps the small limit.
    let bulk = OpenApiRouter::new()
        .routes(routes!(d::import))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_IMPORT_BYTES))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES));
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
        .routes(routes!(d::put_process, d::delete_process))
        .routes(routes!(d::put_contribution, d::delete_contribution))
        .routes(routes!(d::put_event, d::delete_event))
        .routes(routes!(d::put_result, d::delete_result))
        .routes(routes!(d::put_organisation, d::delete_organisation))
        .routes(routes!(d::put_paper, d::delete_paper))
        .routes(routes!(d::list_processes))
        .routes(routes!(d::get_process))
        .routes(routes!(d::list_contributions))
        .routes(routes!(d::get_contribution))
        .routes(routes!(d::list_events))
        .routes(routes!(d::get_event))
        .routes(routes!(d::list_results))
        .routes(routes!(d::get_result))
        .routes(routes!(d::list_organisations))
        .routes(routes!(d::list_papers))
        .routes(routes!(d::get_paper))
        .routes(routes!(d::processes_geojson))
        .routes(routes!(d::processes_atom))
        .routes(routes!(d::processes_ics))
        .routes(routes!(d::contributions_geojson))
        .routes(routes!(d::contributions_atom))
        .routes(routes!(d::events_geojson))
        .routes(routes!(d::events_atom))
        .routes(routes!(d::events_ics))
        .routes(routes!(d::results_geojson))
        .routes(routes!(d::results_atom))
        .routes(routes!(d::organisations_geojson))
        .routes(routes!(d::organisations_atom))
        .routes(routes!(d::papers_geojson))
        .routes(routes!(d::papers_atom))
        .routes(routes!(d::get_organisation))
        .routes(routes!(d::govocal_webhook))
        .routes(routes!(d::conformance))
        .layer(body_limit())
        .merge(bulk)
}

/// The OpenAPI 3.1 document (snapshot-tested).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = api().split_for_parts();
    let openapi_json = openapi.to_pretty_json().unwrap_or_default();
    let pages_errors = middleware::from_fn_with_state(state.clone(), error::render_pages);

    // The API: errors are problem+json. The evaluation matrix download answers the same way, for
    // the spreadsheet or script that fetches it.
    let mut downloads = Router::new()
        .route("/marktplatz/assistent/bewertungsmatrix.csv", get(pages::assistant::matrix_csv))
        .route("/marktplatz/assistent/leistungsbeschreibung.md", get(pages::assistant::requirements_md))
        .route("/marktplatz/assistent/markterkundung.txt", get(pages::assistant::enquiry_txt))
        .route(
            "/api/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json.clone()) }),
        );
    for kind in mitsprache_standard::Kind::ALL {
        downloads = downloads.route(
            &format!("/standard/v1/{}.schema.json", kind.as_str()),
            get(move |State(state): State<AppState>| async move { crate::api::data::schema(&state, kind) }),
        );
    }
    let api_router =
        api_router.merge(downloads.layer(body_limit())).layer(timeout()).layer(middleware::from_fn(error::render_api));

    let pages = Router::new()
        .route("/", get(pages::operator::home))
        .route("/beteiligung", get(pages::portal::list))
        .route("/beteiligung/karte", get(pages::portal::map))
        .route("/beteiligung/{id}", get(pages::portal::process))
        .route("/kommune/{ags}", get(pages::portal::municipality))
        .route("/impressum", get(pages::operator::imprint))
        .route("/datenschutz", get(pages::operator::privacy))
        .route("/barrierefreiheit", get(pages::operator::accessibility))
        .route("/marktplatz", get(pages::marketplace::list_page))
        .route("/marktplatz/werkzeuge/{slug}", get(pages::marketplace::tool_page))
        .route("/marktplatz/schnittstellen", get(pages::marketplace::interfaces_page))
        .route("/marktplatz/schnittstellen/{slug}", get(pages::marketplace::interface_page))
        .route("/marktplatz/vergleich", get(pages::marketplace::compare_page))
        .route("/marktplatz/assistent", get(pages::assistant::assistant_page))
        .route("/marktplatz/werkzeuge/{slug}/verlauf", get(pages::vendor::history))
        .route("/standard", get(pages::docs::standard_page))
        .route("/werkzeug-anbinden", get(pages::docs::connect_page))
        .route("/standard/quellen/{name}", get(pages::docs::conformance_page))
        .route("/api/docs", get(pages::docs::api_docs_page))
        .layer(body_limit())
        .layer(timeout())
        .layer(pages_errors.clone())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ));

    // Login, consent and account pages set their own CSP where a form must reach a tool.
    let identity_pages = Router::new()
        .route("/anmelden", get(login::login_page).post(login::login_submit))
        .route("/anmelden/extern/{provider}", get(pages::upstream::start))
        .route("/anmelden/extern/{provider}/zurueck", get(pages::upstream::callback))
        .route("/registrieren", get(login::register_page).post(login::register_submit))
        .route("/email-bestaetigen", get(login::verify_email))
        .route("/passwort-vergessen", get(login::forgot_page).post(login::forgot_submit))
        .route("/passwort-neu", get(login::reset_page).post(login::reset_submit))
        .route("/abmelden", post(login::logout_submit))
        .route("/konto", get(account::account_page))
        .route("/konto/profil", post(account::profile_submit))
        .route("/konto/zustimmung-widerrufen", post(account::revoke_submit))
        .route("/konto/ueberall-abmelden", post(account::logout_everywhere))
        .route("/konto/daten.json", get(account::export))
        .route("/konto/loeschen", post(account::delete_submit))
        .route("/konto/geloescht/{token}", get(pages::participation::receipt))
        .route("/meine-beteiligung", get(pages::participation::page))
        .route("/meine-beteiligung/benachrichtigungen", post(pages::participation::digest_submit))
        .route("/beteiligung/{id}/folgen", post(pages::participation::follow_submit))
        .route(
            "/benachrichtigungen/abbestellen/{token}",
            get(pages::participation::unsubscribe_page).post(pages::participation::unsubscribe_submit),
        )
        .route("/anbieter", get(pages::vendor::vendor_home))
        .route(
            "/anbieter/werkzeuge/{slug}/vorschlag",
            get(pages::vendor::proposal_page).post(pages::vendor::proposal_submit),
        )
        .route("/redaktion", get(pages::vendor::editor_home))
        .route("/redaktion/anbieter", post(pages::vendor::link_submit))
        .route("/redaktion/anbieter/loesen", post(pages::vendor::unlink_submit))
        .route("/redaktion/vorschlaege", get(pages::vendor::queue))
        .route("/redaktion/vorschlaege/{id}/entscheidung", post(pages::vendor::decide))
        .route("/marktplatz/werkzeuge/{slug}/anfragen", get(pages::vendor::enquiry).post(pages::vendor::enquiry_submit))
        .route("/admin/clients", get(pages::admin::clients).post(pages::admin::add_client))
        .route("/admin/clients/aktion", post(pages::admin::client_action))
        .route("/admin/konten", get(pages::admin::accounts))
        .route("/admin/konten/rolle", post(pages::admin::set_role))
        .route("/admin/quellen", get(pages::admin::sources))
        .route("/admin/loeschungen", get(pages::participation::admin_log))
        .route(paths::AUTHORIZE, get(oidc::authorize::authorize_get).post(oidc::authorize::authorize_post))
        .route("/oidc/authorize/weiter", get(oidc::authorize::resume))
        .route("/oidc/zustimmung", get(oidc::authorize::consent_page).post(oidc::authorize::consent_submit))
        .route(paths::END_SESSION, get(oidc::logout::end_session_get).post(oidc::logout::end_session_post))
        .route("/oidc/logout/bestaetigen", post(oidc::logout::end_session_confirm))
        .layer(body_limit())
        .layer(timeout())
        .layer(pages_errors)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));

    // Back-channel endpoints for tools: errors are RFC 6749 JSON; no cookies are read here.
    let oidc_api = Router::new()
        .route(paths::DISCOVERY, get(oidc::discovery))
        .route(paths::JWKS, get(oidc::jwks))
        .route(paths::TOKEN, post(oidc::token::token))
        .route(paths::USERINFO, get(oidc::token::userinfo_get).post(oidc::token::userinfo_post))
        .route(paths::INTROSPECT, post(oidc::token::introspect))
        .route(paths::REVOKE, post(oidc::token::revoke))
        .route(paths::REGISTER, post(oidc::register::register))
        .route("/oidc/register/{client_id}", get(oidc::register::read))
        .layer(body_limit())
        .layer(timeout())
        .layer(middleware::from_fn(error::render_oauth));

    Router::new()
        .merge(api_router)
        .merge(identity_pages)
        .merge(oidc_api)
        .route("/healthz", get(healthz))
        .route("/assets/style.css", get(assets::style))
        .route("/assets/form-post.js", get(assets::form_post_script))
        .route("/assets/map.js", get(assets::map_script))
        .route("/assets/vendor/leaflet/leaflet.js", get(assets::leaflet_script))
        .route("/assets/vendor/leaflet/leaflet.css", get(assets::leaflet_style))
        .route("/assets/vendor/kern/{*file}", get(assets::kern))
        .route("/assets/operator-logo", get(assets::operator_logo))
        .merge(pages)
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .with_state(state)
}

/// 200 once the hub serves and its database answers; 503 otherwise.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.hub().ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

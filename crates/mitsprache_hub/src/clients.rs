//! Registering tools (OpenID clients), by an admin on the page, an operator on the command line,
//! or the tool itself (RFC 7591, behind the initial access token), through one path; and the
//! admin's changes to them.

use crate::ports::HttpRequest;
use crate::{Error, Hub, Result};
use mitsprache_oidc::client::{Client, Metadata, Registration, sector_from_document};
use mitsprache_oidc::discovery::paths;
use mitsprache_oidc::error::ProtocolError;
use mitsprache_oidc::random::{constant_time_eq, digest, id, secret};
use serde_json::Value;

/// The largest sector identifier document the hub reads.
const SECTOR_DOCUMENT_LIMIT: usize = 64 * 1024;

/// A registration as it arrives: the request, and the `sector_identifier_uri` whose document
/// names the sector (fetched and checked here, OIDC Core §8.1).
#[derive(Debug, Clone, Default)]
pub struct ClientRequest {
    pub registration: Registration,
    pub sector_identifier_uri: Option<String>,
}

/// A registered client with what is shown once: its secret, and for a self-registered tool its
/// registration access token (RFC 7592).
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client: Client,
    pub secret: Option<String>,
    pub registration_token: Option<String>,
}

impl From<mitsprache_oidc::client::RegistrationError> for Error {
    fn from(e: mitsprache_oidc::client::RegistrationError) -> Self {
        let message = match &e {
            mitsprache_oidc::client::RegistrationError::RedirectUri(m)
            | mitsprache_oidc::client::RegistrationError::Metadata(m) => m.clone(),
        };
        Error::Protocol(ProtocolError::new(e.code(), message))
    }
}

impl Hub {
    /// Registers a client. `dynamic` for RFC 7591 (it gets a registration access token).
    /// Errors carry RFC 7591 codes (`invalid_redirect_uri`, `invalid_client_metadata`).
    pub async fn register_client(&self, request: ClientRequest, dynamic: bool) -> Result<RegisteredClient> {
        let mut registration = request.registration;
        if let Some(uri) = request.sector_identifier_uri.as_deref().filter(|u| !u.is_empty()) {
            registration.sector_identifier_host = Some(self.sector_host(uri, &registration.redirect_uris).await?);
        }
        let now = self.now();
        let (client, secret_shown) = registration.into_client(id(self.random()), secret(self.random()), now)?;
        let registration_token = dynamic.then(|| secret(self.random()));
        self.store().clients().put(&client, registration_token.as_deref().map(digest).as_deref(), now).await?;
        tracing::info!(client = %client.id, dynamic, "client registered");
        self.data_changed();
        Ok(RegisteredClient { client, secret: secret_shown, registration_token })
    }

    /// Fetches a `sector_identifier_uri` and returns the sector it names, after checking that the
    /// document lists every redirect URI. At most 64 KiB, 5 seconds.
    async fn sector_host(&self, uri: &str, redirect_uris: &[String]) -> Result<String> {
        let invalid = |m: String| Error::Protocol(ProtocolError::new("invalid_client_metadata", m));
        let request = HttpRequest::get(uri).timeout(std::time::Duration::from_secs(5)).max_body(SECTOR_DOCUMENT_LIMIT);
        let response = self.http().send(request).await.map_err(|e| invalid(format!("sector_identifier_uri: {e}")))?;
        if !response.is_success() {
            return Err(invalid(format!("sector_identifier_uri answered {}", response.status)));
        }
        Ok(sector_from_document(uri, &response.body, redirect_uris)?)
    }

    /// RFC 7591: a tool registers itself with the initial access token. `access_denied` (403)
    /// when the hub has no such token (dynamic registration is off), `InvalidToken` for a wrong one.
    pub async fn register_dynamically(&self, bearer: Option<&str>, body: &[u8]) -> Result<Value> {
        let Some(expected) = self.config().registration_token.as_deref() else {
            return Err(Error::Protocol(ProtocolError::new(
                "access_denied",
                "dynamic registration is disabled on this hub",
            )));
        };
        if !bearer.is_some_and(|t| constant_time_eq(t, expected)) {
            return Err(Error::InvalidToken);
        }
        let metadata = Metadata::parse(body)?;
        let request = ClientRequest {
            sector_identifier_uri: metadata.sector_identifier_uri.clone(),
            registration: metadata.into_registration()?,
        };
        let registered = self.register_client(request, true).await?;
        let mut body = self.client_metadata(&registered.client);
        body["client_id_issued_at"] = registered.client.created_at.unix_timestamp().into();
        if let Some(s) = registered.secret {
            body["client_secret"] = s.into();
            body["client_secret_expires_at"] = 0.into();
        }
        body["registration_access_token"] = registered.registration_token.into();
        Ok(body)
    }

    /// RFC 7592 §2.1: a tool reads its own registration with its registration access token.
    pub async fn read_registration(&self, bearer: Option<&str>, client_id: &str) -> Result<Value> {
        let token = bearer.ok_or(Error::InvalidToken)?;
        match self.store().clients().by_registration(&digest(token)).await? {
            Some(client) if client.id == client_id => Ok(self.client_metadata(&client)),
            _ => Err(Error::InvalidToken),
        }
    }

    fn client_metadata(&self, client: &Client) -> Value {
        let uri = format!("{}{}/{}", self.config().issuer, paths::REGISTER, client.id);
        mitsprache_oidc::client::metadata_of(client, &uri)
    }

    pub async fn clients(&self) -> Result<Vec<Client>> {
        Ok(self.store().clients().list().await?)
    }

    /// Removes a tool: its grants end, its consents go.
    pub async fn delete_client(&self, id: &str) -> Result<()> {
        self.store().clients().delete(id, self.now()).await?;
        self.inner.clients.forget(id);
        self.data_changed();
        tracing::info!(client = %id, "client removed");
        Ok(())
    }

    /// Marks a tool as the municipality's own (no consent screen), or not.
    pub async fn set_first_party(&self, id: &str, first_party: bool) -> Result<()> {
        let Some(mut client) = self.store().clients().find(id).await? else { return Err(Error::NotFound) };
        client.first_party = first_party;
        self.store().clients().put(&client, None, self.now()).await?;
        self.inner.clients.forget(id);
        Ok(())
    }
}

//! Outbound HTTP for the hub (back-channel logouts, upstream providers, sector identifier
//! documents, the connectors' sources), through reqwest with rustls: no redirects followed, connect timeout 5 s, the
//! body read up to the request's limit. Errors never carry the URL (its query may hold secrets).

use mitsprache_hub::ports::{BoxFuture, Http, HttpError, HttpRequest, HttpResponse, Method};

pub struct ReqwestHttp {
    client: reqwest::Client,
}

impl ReqwestHttp {
    pub fn new() -> anyhow::Result<ReqwestHttp> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(5))
            .user_agent(concat!("mitsprache/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ReqwestHttp { client })
    }
}

impl Http for ReqwestHttp {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, HttpError>> {
        Box::pin(async move {
            let mut builder = match request.method {
                Method::Get => self.client.get(&request.url),
                Method::Post => self.client.post(&request.url),
                Method::Delete => self.client.delete(&request.url),
            }
            .timeout(request.timeout);
            if let Some(form) = &request.form {
                builder = builder.form(form);
            }
            if let Some(json) = &request.json {
                builder = builder.json(json);
            }
            if let Some((id, secret)) = &request.basic_auth {
                builder = builder.basic_auth(id, Some(secret));
            }
            if let Some((content_type, body)) = &request.body {
                builder = builder.header(reqwest::header::CONTENT_TYPE, content_type).body(body.clone());
            }
            if let Some(value) = &request.authorization {
                builder = builder.header(reqwest::header::AUTHORIZATION, value);
            }
            if let Some(accept) = &request.accept {
                builder = builder.header(reqwest::header::ACCEPT, accept);
            }
            if let Some(token) = &request.bearer {
                builder = builder.bearer_auth(token);
            }
            let mut response = builder.send().await.map_err(|e| HttpError(e.without_url().to_string()))?;
            let status = response.status().as_u16();
            // Only the seconds form; an HTTP date is read as absent (the caller backs off on its own).
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if response.content_length().is_some_and(|n| n > request.max_body as u64) {
                return Err(HttpError(format!("the answer is larger than {} bytes", request.max_body)));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| HttpError(e.without_url().to_string()))? {
                if body.len() + chunk.len() > request.max_body {
                    return Err(HttpError(format!("the answer is larger than {} bytes", request.max_body)));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse { status, body, retry_after })
        })
    }
}

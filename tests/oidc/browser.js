// A scripted browser for the interop tests: a cookie jar, no automatic redirects, and the
// hub's login and consent forms filled in the way a person would.

export class Browser {
  constructor(hub) {
    this.hub = new URL(hub).origin;
    this.jar = new Map();
  }

  async request(url, { method = "GET", form } = {}) {
    const headers = { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ") };
    let body;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(new URL(url, this.hub), { method, headers, body, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const [name, ...value] = pair.split("=");
      if (/Max-Age=0/.test(cookie)) this.jar.delete(name);
      else this.jar.set(name, value.join("="));
    }
    return { status: response.status, location: response.headers.get("location"), body: await response.text() };
  }

  /// Follows redirects inside the hub; returns the first page, or the redirect that leaves it.
  async follow(page) {
    while (page.location && new URL(page.location, this.hub).origin === this.hub) {
      page = await this.request(page.location);
    }
    return page;
  }

  /// From an authorization URL to the redirect back to the tool: login and consent if asked.
  async authorize(url, email, password) {
    let page = await this.follow(await this.request(url));
    if (page.status === 200 && page.body.includes('action="/anmelden"')) {
      page = await this.follow(
        await this.request("/anmelden", {
          method: "POST",
          form: { email, password, csrf: input(page.body, "csrf"), anfrage: input(page.body, "anfrage") },
        }),
      );
    }
    if (page.status === 200 && page.body.includes('action="/oidc/zustimmung"')) {
      page = await this.follow(
        await this.request("/oidc/zustimmung", {
          method: "POST",
          form: { csrf: input(page.body, "csrf"), anfrage: input(page.body, "anfrage"), decision: "allow" },
        }),
      );
    }
    if (!page.location) throw new Error(`no redirect to the tool: ${page.status} ${page.body.slice(0, 500)}`);
    return page.location;
  }
}

export function input(html, name) {
  const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!match) throw new Error(`no input ${name}`);
  return match[1].replaceAll("&amp;", "&");
}

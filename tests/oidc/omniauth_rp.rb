# OmniAuth with the stock openid_connect strategy (Debian's ruby-omniauth-openid-connect, the
# login stack Decidim and CONSUL build on) as a relying party of the hub, on Rack and WEBrick.
# The strategy sends no PKCE; the hub's client for it is registered with `--pkce optional`.
# Its callback answers the authenticated identity as JSON, so the driver (omniauth.py) can check it.
#
# Environment: HUB_URL, OMNIAUTH_PORT, OMNIAUTH_CLIENT (JSON from `mitsprache client add`).

require 'json'
require 'securerandom'
require 'rack'
require 'rack/session/cookie'
require 'rack/handler/webrick'
require 'omniauth'
require 'omniauth_openid_connect'

hub = URI(ENV.fetch('HUB_URL'))
port = Integer(ENV.fetch('OMNIAUTH_PORT'))
client = JSON.parse(ENV.fetch('OMNIAUTH_CLIENT'))
base = "http://127.0.0.1:#{port}"

# The test hub runs on plain http; production hubs are https and need none of this.
SWD.url_builder = URI::HTTP
OmniAuth.config.allowed_request_methods = %i[get post]
OmniAuth.config.silence_get_warning = true
OmniAuth.config.logger = Logger.new($stderr)
OmniAuth.config.on_failure = lambda do |env|
  message = "#{env['omniauth.error.type']}: #{env['omniauth.error']&.message}"
  [401, { 'content-type' => 'text/plain' }, ["login failed: #{message}"]]
end

app = Rack::Builder.new do
  use Rack::Session::Cookie, secret: SecureRandom.hex(64), same_site: :lax
  use OmniAuth::Builder do
    provider :openid_connect,
             name: :openid_connect,
             issuer: hub.to_s.chomp('/'),
             discovery: true,
             scope: %i[openid email profile],
             response_type: :code,
             post_logout_redirect_uri: "#{base}/logged-out",
             client_options: {
               identifier: client.fetch('client_id'),
               secret: client.fetch('client_secret'),
               redirect_uri: "#{base}/auth/openid_connect/callback",
               scheme: hub.scheme,
               host: hub.host,
               port: hub.port
             }
  end

  map '/auth/openid_connect/callback' do
    run lambda { |env|
      auth = env['omniauth.auth']
      raw = auth.extra.raw_info
      body = { uid: auth.uid, email: auth.info.email, name: auth.info.name, nonce_checked: true, sid: raw['sid'] }
      [200, { 'content-type' => 'application/json' }, [JSON.generate(body)]]
    }
  end
  map '/logged-out' do
    run ->(_env) { [200, { 'content-type' => 'text/plain' }, ['logged out']] }
  end
  run ->(_env) { [404, { 'content-type' => 'text/plain' }, ['not found']] }
end

$stderr.puts "omniauth relying party on #{base}"
Rack::Handler::WEBrick.run app, Host: '127.0.0.1', Port: port, AccessLog: [], Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN)

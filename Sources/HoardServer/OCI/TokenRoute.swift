import Foundation
import HoardOCI
import Hummingbird

/// `GET /token?service=hoard&scope=repository:<name>:pull,push`: the bearer token endpoint.
///
/// Anonymous callers get pull on any repository, existing or not (pixi and mamba ask for tokens
/// for repositories that may not exist and fail hard on anything but 200), unless reads need
/// auth. htpasswd users get every action they ask for.
struct TokenRoute {
    let auth: OCIAuthenticator
    /// Scopes of protected channels' mirrors are granted to their readers only.
    var channels: ChannelMirrorAccess? = nil

    func respond(to request: Request, client: String) async throws -> Response {
        guard request.method == .get || request.method == .head else { throw MethodNotAllowed(allow: "GET, HEAD") }
        let scopes: [Scope]
        do {
            scopes = try Scope.parseAll(query: try OCIRoute.parseQuery(request.uri.query ?? ""))
        } catch let error as ScopeError {
            return tokenError(400, "invalid_scope", error.message)
        } catch {
            return tokenError(400, "invalid_request", "malformed query string")
        }
        if let decision = await channels?.grants(scopes, request: request, client: client, openReads: !auth.authReads) {
            switch decision {
            case .issue(let subject, let granted):
                let issued = auth.tokens.issue(subject: subject, scopes: granted)
                return .bytes(.ok, issued.responseBody, contentType: "application/json", headers: [.cacheControl: "no-store"])
            case .refuse(let message):
                return basicChallenge(message)
            case .limited(let seconds):
                var response = tokenError(429, "too_many_requests", "too many wrong credentials from \(client); retry in \(seconds) s")
                response.headers[.retryAfter] = String(seconds)
                return response
            case .unavailable(let error):
                var response = tokenError(503, "unavailable", "hoard cannot reach its storage to check these credentials; retry in \(StorageUnavailable.retryAfterSeconds) s: \(error)")
                response.headers[.retryAfter] = String(StorageUnavailable.retryAfterSeconds)
                return response
            }
        }
        let principal: OCIPrincipal
        do {
            principal = try await auth.principal(of: request, route: nil, client: client)
        } catch {
            if let seconds = error.retryAfter {
                var response = tokenError(429, "too_many_requests", error.error.message)
                response.headers[.retryAfter] = String(seconds)
                return response
            }
            return basicChallenge(error.error.message)
        }
        let granted: [Scope]
        let subject: String
        switch principal {
        case .user(let name):
            subject = name
            granted = scopes.compactMap { $0.restricted(to: ["pull", "push", "delete", "*"]) }
        case .anonymous, .token:
            // A token cannot be traded for a wider one; it counts as anonymous here.
            if auth.authReads { return basicChallenge("this registry needs credentials") }
            subject = ""
            granted = scopes.filter { $0.type == "repository" }.compactMap { $0.restricted(to: ["pull"]) }
        }
        let issued = auth.tokens.issue(subject: subject, scopes: granted)
        return .bytes(.ok, issued.responseBody, contentType: "application/json", headers: [.cacheControl: "no-store"])
    }

    private func basicChallenge(_ message: String) -> Response {
        var response = tokenError(401, "invalid_client", message)
        response.headers[.wwwAuthenticate] = AuthChallenge.basic(realm: OCIAuthenticator.service)
        return response
    }

    /// OAuth2-style error body (RFC 6749 §5.2), which docker clients print.
    private func tokenError(_ status: Int, _ code: String, _ message: String) -> Response {
        let body = "{\"error\":\"\(code)\",\"error_description\":\(jsonString(message))}"
        return .bytes(HTTPResponse.Status(code: status), Array(body.utf8), contentType: "application/json")
    }

    private func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

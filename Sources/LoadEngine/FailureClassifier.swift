import CCurl
import Measurement

/// Maps curl result codes and HTTP statuses to error kinds.
/// Result codes: https://curl.se/libcurl/c/libcurl-errors.html
public enum FailureClassifier {
    /// Classifies a finished transfer; nil means success (curl reported no error and the status is 2xx).
    /// - Parameter curlMessage: curl's error buffer text, or empty to use curl's generic description.
    public static func classify(curlCode: CURLcode, status: Int, curlMessage: String) -> RequestFailure? {
        if curlCode != CURLE_OK {
            let message = curlMessage.isEmpty ? String(cString: curl_easy_strerror(curlCode)) : curlMessage
            return RequestFailure(kind: kind(of: curlCode), message: message)
        }
        switch status {
        case 200..<300:
            return nil
        case 400..<500:
            return RequestFailure(kind: .http4xx, message: "HTTP \(status) \(reasonPhrase(status))")
        case 500..<600:
            return RequestFailure(kind: .http5xx, message: "HTTP \(status) \(reasonPhrase(status))")
        default:
            // Redirects are not followed: a 3xx from a chat endpoint is a misconfigured URL, not an answer.
            return RequestFailure(kind: .protocol, message: "unexpected HTTP status \(status) (redirects are not followed)")
        }
    }

    static func kind(of code: CURLcode) -> ErrorKind {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .dns
        case CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING:
            return .connection
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return .tls
        default:
            // Truncated bodies (PARTIAL_FILE), malformed replies (WEIRD_SERVER_REPLY), HTTP/2 framing errors
            // and bad content encodings all mean the response could not be read as HTTP.
            return .protocol
        }
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return status < 500 ? "Client Error" : "Server Error"
        }
    }
}

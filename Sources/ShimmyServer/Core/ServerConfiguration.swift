/// How a `ShimmyHTTPServer` listens and what it allows.
public struct ServerConfiguration: Sendable {
    /// Address to bind (`127.0.0.1`, `0.0.0.0`, `::1`).
    public var host: String
    /// Port to bind; 0 picks a free one (read it back from `ShimmyHTTPServer.port`).
    public var port: Int
    /// Generations that run at once.
    public var parallel: Int
    /// Generations that may wait for a slot; beyond that the server answers 503 with Retry-After.
    public var maxQueued: Int
    /// Seconds a client is told to wait after a 503.
    public var retryAfterSeconds: Int
    /// Open connections beyond which new ones get 503 and are closed.
    public var maxConnections: Int
    /// Request size limits.
    public var limits: HTTPLimits
    /// Largest WebSocket message accepted.
    public var maxWebSocketMessageBytes: Int
    /// Seconds to receive a whole request once its first byte arrived (408 after).
    public var requestTimeoutSeconds: Double
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeoutSeconds: Double
    /// The version `/api/version` reports.
    public var version: String
    /// When set, every route but the health checks needs `Authorization: Bearer <key>` (401 otherwise).
    public var apiKey: String?
    /// Origins allowed to call from a browser (`*` for any); empty turns CORS off.
    public var corsOrigins: [String]

    public init(host: String = "127.0.0.1", port: Int = 11435, parallel: Int = 4, maxQueued: Int = 16,
                retryAfterSeconds: Int = 1, maxConnections: Int = 512, limits: HTTPLimits = HTTPLimits(),
                maxWebSocketMessageBytes: Int = 1024 * 1024, requestTimeoutSeconds: Double = 30,
                idleTimeoutSeconds: Double = 60, version: String = "1.1.0", apiKey: String? = nil,
                corsOrigins: [String] = []) {
        self.host = host
        self.port = port
        self.parallel = parallel
        self.maxQueued = maxQueued
        self.retryAfterSeconds = retryAfterSeconds
        self.maxConnections = maxConnections
        self.limits = limits
        self.maxWebSocketMessageBytes = maxWebSocketMessageBytes
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.version = version
        self.apiKey = apiKey
        self.corsOrigins = corsOrigins
    }
}

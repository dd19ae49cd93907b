/// The admin HTTP API on 127.0.0.1 (health, Prometheus metrics, status, effective config).
public enum AdminAPI {
    /// The URL path prefix of the versioned JSON endpoints.
    public static let apiPrefix = "/api/v1"
}
